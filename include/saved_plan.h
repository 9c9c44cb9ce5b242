/*
 * saved_plan.h
 *	  SPI plans prepared once per backend and kept.
 */
#ifndef SAVED_PLAN_H
#define SAVED_PLAN_H

#include "postgres.h"

#include "executor/spi.h"

extern SPIPlanPtr swarm_saved_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes);

#endif							/* SAVED_PLAN_H */

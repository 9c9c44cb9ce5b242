/*
 * swarm.h
 *	  Declarations shared by the swarm extension's C files.
 */
#ifndef SWARM_H
#define SWARM_H

#include "postgres.h"

/* Longest time zone name we accept (PostgreSQL's own limit is TZ_STRLEN_MAX). */
#define SWARM_TIMEZONE_MAXLEN 255

extern void _PG_init(void);
extern bool swarm_timezone_is_valid(const char *name);

#endif							/* SWARM_H */

/*
 * swarm.h
 *	  Declarations shared by the swarm extension's C files.
 */
#ifndef SWARM_H
#define SWARM_H

#include "postgres.h"

/* Longest time zone name we accept (PostgreSQL's own limit is TZ_STRLEN_MAX). */
#define SWARM_TIMEZONE_MAXLEN 255

/* Settings, defined in swarm.c */
extern int	swarm_experience_half_life;
extern int	swarm_offer_timeout;
extern double swarm_grab_threshold;

extern void _PG_init(void);
extern void escalator_init(void);
extern void relay_init(void);
extern const char *swarm_timezone_canonical(const char *name);

#endif							/* SWARM_H */

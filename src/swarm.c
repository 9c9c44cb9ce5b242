/*
 * swarm.c
 *	  Module entry point of the swarm extension: its settings.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "agent_cache.h"
#include "swarm.h"

PG_MODULE_MAGIC;

/* Settings (see docs/routing.md) */
int			swarm_experience_half_life = 30 * 24 * 60 * 60;	/* seconds */
int			swarm_offer_timeout = 5 * 60;	/* seconds */
double		swarm_grab_threshold = 0.5;

/* Called when the library is loaded: define the settings, reserve "swarm.". */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	DefineCustomIntVariable("swarm.experience_half_life",
							"Half-life of the experience credit an agent earns by resolving work.",
							"A credit earned this long ago counts half as much as a new one.",
							&swarm_experience_half_life,
							30 * 24 * 60 * 60, 60, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("swarm.offer_timeout",
							"How long a pushed request stays offered to one helper.",
							"An offer not accepted in time moves on to the next candidate.",
							&swarm_offer_timeout,
							5 * 60, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomRealVariable("swarm.grab_threshold",
							 "Lowest match score with which an agent may grab a request.",
							 NULL,
							 &swarm_grab_threshold,
							 0.5, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	escalator_init();
	relay_init();
	agent_cache_init();

	MarkGUCPrefixReserved("swarm");
}

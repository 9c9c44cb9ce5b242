/*
 * swarm.c
 *	  Module entry point of the swarm extension.
 *
 * Later parts (the escalation worker, its settings) register themselves
 * here; for now the library only reserves its settings prefix.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "swarm.h"

PG_MODULE_MAGIC;

/* Called when the library is loaded: reserve the "swarm." settings prefix. */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	MarkGUCPrefixReserved("swarm");
}

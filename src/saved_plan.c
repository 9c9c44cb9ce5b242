/*
 * saved_plan.c
 *	  SPI plans prepared once per backend and kept (SPI_keepplan).
 *
 * The plan cache re-plans a kept plan after an invalidation (DROP and CREATE
 * EXTENSION included, as names are resolved again), so callers keep one
 * static SPIPlanPtr per statement for the life of the backend.  Parameters
 * of simple types (bigint, text, arrays of them) keep the plans valid across
 * a recreated extension.
 */
#include "postgres.h"

#include "saved_plan.h"

/* The plan kept in *plan, prepared and kept the first time it is needed */
SPIPlanPtr
swarm_saved_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

/*
 * timezone.c
 *	  Validation of the time zone names that agents and calendars carry.
 *
 * A time zone is accepted when PostgreSQL's own time zone machinery knows it
 * (IANA names such as "Europe/Berlin", "UTC"), exactly as SET TIME ZONE
 * would; abbreviations and leap-second zones are refused.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"

#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_valid_timezone);

/* True when name is a usable time zone for swarm. */
bool
swarm_timezone_is_valid(const char *name)
{
	pg_tz	   *tz;

	if (name[0] == '\0' || strlen(name) > SWARM_TIMEZONE_MAXLEN)
		return false;

	tz = pg_tzset(name);
	return tz != NULL && pg_tz_acceptable(tz);
}

/* SQL: swarm.valid_timezone(text) → bool. */
Datum
swarm_valid_timezone(PG_FUNCTION_ARGS)
{
	text	   *arg = PG_GETARG_TEXT_PP(0);
	char	   *name = text_to_cstring(arg);
	bool		result = swarm_timezone_is_valid(name);

	pfree(name);
	PG_FREE_IF_COPY(arg, 0);
	PG_RETURN_BOOL(result);
}

/*
 * timezone.c
 *	  Validation of the time zone names that agents and calendars carry.
 *
 * A time zone is accepted when PostgreSQL's own time zone machinery knows it
 * (IANA names such as "Europe/Berlin", "UTC"), and it is stored under its
 * canonical spelling.  POSIX offset strings such as "UTC+3" are refused:
 * their sign is the opposite of what most people expect ("Etc/GMT+3" and
 * friends, being IANA names, are fine).  Leap-second zones are refused too.
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"

#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_valid_timezone);
PG_FUNCTION_INFO_V1(swarm_canonical_timezone);

/* Does name carry a POSIX-style numeric offset ("UTC+3", "-05") outside Etc/? */
static bool
has_posix_offset(const char *name)
{
	const char *p;

	if (pg_strncasecmp(name, "Etc/", 4) == 0)
		return false;
	for (p = name; *p; p++)
	{
		if ((*p == '+' || *p == '-') && isdigit((unsigned char) p[1]))
			return true;
	}
	return false;
}

/* The canonical spelling of a usable time zone name, or NULL when unusable */
const char *
swarm_timezone_canonical(const char *name)
{
	pg_tz	   *tz;

	if (name[0] == '\0' || strlen(name) > SWARM_TIMEZONE_MAXLEN || has_posix_offset(name))
		return NULL;
	tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;
	return pg_get_timezone_name(tz);
}

/* SQL: swarm.valid_timezone(text) → bool. */
Datum
swarm_valid_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		result = swarm_timezone_canonical(name) != NULL;

	pfree(name);
	PG_RETURN_BOOL(result);
}

/* SQL: swarm.canonical_timezone(text) → text, NULL when not a usable time zone. */
Datum
swarm_canonical_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *canonical = swarm_timezone_canonical(name);

	pfree(name);
	if (canonical == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(canonical));
}

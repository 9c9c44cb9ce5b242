/*-------------------------------------------------------------------------
 *
 * calendar.c
 *	  Business-hours arithmetic: working time added to an instant, and
 *	  working time between two instants, on a calendar of weekly working
 *	  segments in a time zone, minus holidays.
 *
 * A calendar is compiled once per backend from swarm.calendars and cached
 * by name.  A trigger on swarm.calendars sends a relcache invalidation for
 * the table at commit; every backend's relcache callback then drops its
 * cache, so changes are seen by the next call everywhere.
 *
 * Working time is real elapsed time inside the working segments.  A
 * segment's ends are local wall-clock times converted to instants the way
 * PostgreSQL converts "timestamp AT TIME ZONE" (DetermineTimeZoneOffset),
 * so a segment that spans a daylight-saving change is an hour longer or
 * shorter, exactly as a clock on the wall would have it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "calendar.h"
#include "saved_plan.h"
#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_business_add);
PG_FUNCTION_INFO_V1(swarm_business_time);
PG_FUNCTION_INFO_V1(swarm_calendar_changed);

/* How far ahead a search for working time may go before giving up */
#define CALENDAR_MAX_DAYS (366 * 10)

/* Cache of compiled calendars, by name */
typedef struct CalendarCacheEntry
{
	char		name[CALENDAR_NAME_MAXLEN + 1]; /* hash key */
	Calendar   *calendar;
} CalendarCacheEntry;

/* Names of calendars by id, for callers that hold an id */
typedef struct CalendarIdEntry
{
	int64		calendar_id;	/* hash key */
	char		name[CALENDAR_NAME_MAXLEN + 1];
} CalendarIdEntry;

static HTAB *calendar_cache = NULL;
static HTAB *calendar_ids = NULL;
/* The calendar looked up last: most callers use one calendar over and over */
static char last_name[CALENDAR_NAME_MAXLEN + 1];
static Calendar *last_calendar = NULL;
static SPIPlanPtr calendar_name_plan = NULL;
static MemoryContext calendar_context = NULL;
static bool calendar_callback_registered = false;
static Oid	calendar_relid = InvalidOid;
static SPIPlanPtr calendar_plan = NULL;

/* Relcache callback: drop every compiled calendar when swarm.calendars changes */
static void
calendar_invalidate(Datum arg, Oid relid)
{
	if (calendar_cache != NULL && (relid == InvalidOid || relid == calendar_relid))
	{
		calendar_cache = NULL;
		calendar_ids = NULL;
		last_calendar = NULL;
		MemoryContextReset(calendar_context);
	}
}

/* Create the (empty) cache, registering the invalidation callback once */
static void
calendar_cache_init(void)
{
	HASHCTL		hctl;

	if (calendar_context == NULL)
		calendar_context = AllocSetContextCreate(CacheMemoryContext, "swarm calendars",
												 ALLOCSET_SMALL_SIZES);
	if (!calendar_callback_registered)
	{
		CacheRegisterRelcacheCallback(calendar_invalidate, (Datum) 0);
		calendar_callback_registered = true;
	}
	hctl.keysize = CALENDAR_NAME_MAXLEN + 1;
	hctl.entrysize = sizeof(CalendarCacheEntry);
	hctl.hcxt = calendar_context;
	calendar_cache = hash_create("swarm calendar cache", 16, &hctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	hctl.keysize = sizeof(int64);
	hctl.entrysize = sizeof(CalendarIdEntry);
	calendar_ids = hash_create("swarm calendar ids", 16, &hctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* qsort comparator for int32 values */
static int
int32_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* Copy an int4[] or date[] column of row 0 into an array allocated in cxt */
static int32 *
calendar_int_array(int col, int *n, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);
	ArrayType  *arr;
	int32	   *result;
	Datum	   *elems;
	bool	   *nulls;
	int			i;

	*n = 0;
	if (isnull)
		return NULL;
	arr = DatumGetArrayTypeP(d);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), sizeof(int32), true, TYPALIGN_INT,
					  &elems, &nulls, n);
	result = MemoryContextAlloc(cxt, Max(*n, 1) * sizeof(int32));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("malformed calendar array")));
		result[i] = DatumGetInt32(elems[i]);
	}
	return result;
}

/* Read a calendar from swarm.calendars and compile it into memory of cxt */
static Calendar *
calendar_compile(const char *name, MemoryContext cxt)
{
	bool		isnull;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	Calendar   *cal;
	int32	   *triples;
	int			ntriples;
	char	   *tzname;
	int			i;
	int			d;

	swarm_saved_plan(&calendar_plan,
					 "SELECT timezone, segments, holidays, yearly_holidays,"
					 " 'swarm.calendars'::regclass::oid"
					 " FROM swarm.calendars WHERE name = $1", 1, argtypes);
	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_plan(calendar_plan, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read calendar \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("calendar \"%s\" does not exist", name)));

	cal = MemoryContextAllocZero(cxt, sizeof(Calendar));
	tzname = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	cal->tz = pg_tzset(tzname);
	if (cal->tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of calendar \"%s\" not recognized", tzname, name)));

	/* segments: flattened (weekday, start minute, end minute) triples */
	triples = calendar_int_array(2, &ntriples, CurrentMemoryContext);
	if (ntriples % 3 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("malformed segments of calendar \"%s\"", name)));
	for (i = 0; i < ntriples; i += 3)
	{
		int			dow = triples[i];

		if (dow < 0 || dow > 6 || triples[i + 1] < 0 || triples[i + 2] > CALENDAR_MINS_PER_DAY ||
			triples[i + 1] >= triples[i + 2] || cal->nsegments[dow] >= CALENDAR_MAX_SEGMENTS)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("malformed segments of calendar \"%s\"", name)));
		cal->segments[dow][cal->nsegments[dow]].start = triples[i + 1];
		cal->segments[dow][cal->nsegments[dow]].end = triples[i + 2];
		cal->nsegments[dow]++;
	}

	cal->holidays = calendar_int_array(3, &cal->nholidays, cxt);
	qsort(cal->holidays, cal->nholidays, sizeof(int32), int32_cmp);
	cal->yearly = calendar_int_array(4, &cal->nyearly, cxt);
	qsort(cal->yearly, cal->nyearly, sizeof(int32), int32_cmp);
	calendar_relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 5, &isnull));

	/* a calendar that works around the clock every day is plain elapsed time */
	cal->always = (cal->nholidays == 0 && cal->nyearly == 0);
	for (d = 0; d < 7; d++)
		if (cal->nsegments[d] != 1 || cal->segments[d][0].start != 0 ||
			cal->segments[d][0].end != CALENDAR_MINS_PER_DAY)
			cal->always = false;
	return cal;
}

/* The compiled calendar with that name, from the cache or freshly compiled */
Calendar *
calendar_lookup(const char *name)
{
	CalendarCacheEntry *entry;
	MemoryContext cxt;
	Calendar   *cal;
	bool		found;

	if (strlen(name) > CALENDAR_NAME_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("calendar \"%s\" does not exist", name)));
	/* see changes other sessions committed since our last statement took a lock */
	AcceptInvalidationMessages();
	if (last_calendar != NULL && strcmp(name, last_name) == 0)
		return last_calendar;
	if (calendar_cache == NULL)
		calendar_cache_init();
	entry = hash_search(calendar_cache, name, HASH_FIND, NULL);
	if (entry != NULL)
	{
		strlcpy(last_name, name, sizeof(last_name));
		last_calendar = entry->calendar;
		return entry->calendar;
	}

	/*
	 * Compile into a context of its own, attached to the cache only once the
	 * catalog reads are over: an invalidation processed while reading resets
	 * the cache, and must not free a calendar being built.
	 */
	cxt = AllocSetContextCreate(CacheMemoryContext, "swarm calendar", ALLOCSET_SMALL_SIZES);
	SPI_connect();
	PG_TRY();
	{
		cal = calendar_compile(name, cxt);
	}
	PG_CATCH();
	{
		SPI_finish();
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SPI_finish();

	if (calendar_cache == NULL)
		calendar_cache_init();
	MemoryContextSetParent(cxt, calendar_context);
	entry = hash_search(calendar_cache, name, HASH_ENTER, &found);
	entry->calendar = cal;
	strlcpy(last_name, name, sizeof(last_name));
	last_calendar = cal;
	return cal;
}

/* The compiled calendar with that id */
Calendar *
calendar_lookup_id(int64 calendar_id)
{
	CalendarIdEntry *entry;
	char		name[CALENDAR_NAME_MAXLEN + 1];
	bool		found;

	if (calendar_cache == NULL)
		calendar_cache_init();
	entry = hash_search(calendar_ids, &calendar_id, HASH_FIND, NULL);
	if (entry != NULL)
		return calendar_lookup(entry->name);

	SPI_connect();
	PG_TRY();
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1];

		swarm_saved_plan(&calendar_name_plan,
						 "SELECT name FROM swarm.calendars WHERE calendar_id = $1", 1, argtypes);
		values[0] = Int64GetDatum(calendar_id);
		if (SPI_execute_plan(calendar_name_plan, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read calendar " INT64_FORMAT, calendar_id);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("calendar " INT64_FORMAT " does not exist", calendar_id)));
		strlcpy(name, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), sizeof(name));
	}
	PG_CATCH();
	{
		SPI_finish();
		PG_RE_THROW();
	}
	PG_END_TRY();
	SPI_finish();

	if (calendar_cache == NULL)
		calendar_cache_init();
	entry = hash_search(calendar_ids, &calendar_id, HASH_ENTER, &found);
	strlcpy(entry->name, name, sizeof(entry->name));
	return calendar_lookup(name);
}

/* Is the local date (days since 2000-01-01) a holiday of the calendar? */
static bool
calendar_is_holiday(const Calendar *cal, int32 date)
{
	int			year;
	int			month;
	int			day;
	int32		mmdd;

	if (cal->nholidays > 0 &&
		bsearch(&date, cal->holidays, cal->nholidays, sizeof(int32), int32_cmp) != NULL)
		return true;
	if (cal->nyearly == 0)
		return false;
	j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	mmdd = month * 100 + day;
	return bsearch(&mmdd, cal->yearly, cal->nyearly, sizeof(int32), int32_cmp) != NULL;
}

/* The instant at which the local wall clock shows "minutes" past midnight on date */
static TimestampTz
calendar_local_instant(const Calendar *cal, int32 date, int minutes)
{
	struct pg_tm tm;
	int			tz;
	Timestamp	result;

	if (minutes >= CALENDAR_MINS_PER_DAY)
	{
		date += minutes / CALENDAR_MINS_PER_DAY;
		minutes %= CALENDAR_MINS_PER_DAY;
	}
	memset(&tm, 0, sizeof(tm));
	j2date(date + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = minutes / MINS_PER_HOUR;
	tm.tm_min = minutes % MINS_PER_HOUR;
	tz = DetermineTimeZoneOffset(&tm, cal->tz);
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

/*
 * Walking day by day, the instant of each local midnight is needed; the next
 * day's midnight is the end of this one, so it is kept for the next step.
 */
typedef struct CalendarDay
{
	int32		date;			/* local date (days since 2000-01-01) */
	TimestampTz start;			/* its local midnight */
	TimestampTz end;			/* the next local midnight */
	TimestampTz boundary;		/* the next daylight-saving change after start */
} CalendarDay;

/* The next daylight-saving change after t (DT_NOEND when the zone has none left) */
static TimestampTz
calendar_next_boundary(const Calendar *cal, TimestampTz t, long *gmtoff)
{
	pg_time_t	tt = timestamptz_to_time_t(t);
	pg_time_t	boundary;
	long		before_gmtoff;
	long		after_gmtoff;
	int			before_isdst;
	int			after_isdst;
	int			r;

	r = pg_next_dst_boundary(&tt, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, cal->tz);
	if (gmtoff != NULL)
		*gmtoff = before_gmtoff;
	if (r == 1)
		return time_t_to_timestamptz(boundary);
	return r == 0 ? DT_NOEND : t;	/* on failure, every day is converted exactly */
}

/* Move a CalendarDay to date, converting only what the previous step did not */
static void
calendar_day_set(const Calendar *cal, CalendarDay *day, int32 date)
{
	if (date == day->date && day->start != 0 && day->end != 0)
		return;
	if (date == day->date + 1 && day->end != 0)
		day->start = day->end;
	else if (date != day->date || day->start == 0)
	{
		day->start = calendar_local_instant(cal, date, 0);
		day->boundary = 0;
	}
	day->date = date;

	/* while no daylight-saving change can fall in the day, it is 24 hours long */
	if (day->boundary == 0 || day->start >= day->boundary)
		day->boundary = calendar_next_boundary(cal, day->start, NULL);
	if (day->start + USECS_PER_DAY < day->boundary)
		day->end = day->start + USECS_PER_DAY;
	else
		day->end = calendar_local_instant(cal, date + 1, 0);
}

/*
 * The instant of "minutes" past local midnight on the day.  On an ordinary
 * day (24 hours long) that is midnight plus the minutes; on a day with a
 * daylight-saving change the wall-clock time is converted exactly.
 */
static inline TimestampTz
calendar_day_instant(const Calendar *cal, const CalendarDay *day, int minutes)
{
	if (day->end - day->start == USECS_PER_DAY)
		return day->start + (int64) minutes * USECS_PER_MINUTE;
	return calendar_local_instant(cal, day->date, minutes);
}

/*
 * The local date (days since 2000-01-01) of an instant in the calendar's
 * zone.  When day is not NULL it is started there: that day's local midnight
 * as t's own UTC offset has it, and the next daylight-saving change after t.
 * The midnight is exact unless the offset changed between it and t; local
 * times before t may then be an hour off, but every walk starts at t, so it
 * never uses them.
 */
static int32
calendar_local_date(const Calendar *cal, TimestampTz t, CalendarDay *day)
{
	long		gmtoff;
	TimestampTz boundary = calendar_next_boundary(cal, t, &gmtoff);
	int64		local = t + (int64) gmtoff * USECS_PER_SEC;
	int32		date = (int32) (local / USECS_PER_DAY);

	if (local % USECS_PER_DAY < 0)
		date--;					/* floor, for instants before 2000 */
	if (day != NULL)
	{
		day->date = date;
		day->start = (int64) date * USECS_PER_DAY - (int64) gmtoff * USECS_PER_SEC;
		day->end = 0;
		day->boundary = boundary;
	}
	return date;
}

/* The instant when "amount" microseconds of working time have elapsed from start */
TimestampTz
calendar_add(const Calendar *cal, const char *name, TimestampTz start, int64 amount)
{
	CalendarDay day = {0};
	int32		date;
	int			i;

	if (amount == 0)
		return start;
	if (cal->always)
		return start + amount;

	date = calendar_local_date(cal, start, &day);
	for (i = 0; i < CALENDAR_MAX_DAYS; i++, date++)
	{
		int			dow = j2day(date + POSTGRES_EPOCH_JDATE);
		int			s;

		CHECK_FOR_INTERRUPTS();
		if (cal->nsegments[dow] == 0 || calendar_is_holiday(cal, date))
			continue;
		calendar_day_set(cal, &day, date);
		for (s = 0; s < cal->nsegments[dow]; s++)
		{
			TimestampTz from = calendar_day_instant(cal, &day, cal->segments[dow][s].start);
			TimestampTz to = calendar_day_instant(cal, &day, cal->segments[dow][s].end);

			if (to <= start)
				continue;
			if (from < start)
				from = start;
			/* a segment that starts in a spring-forward gap may be empty */
			if (to <= from)
				continue;
			if (amount <= to - from)
				return from + amount;
			amount -= to - from;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("calendar \"%s\" has not enough working time in the %d days after %s",
					name, CALENDAR_MAX_DAYS, timestamptz_to_str(start))));
	return 0;					/* keep compiler quiet */
}

/* Working time, in microseconds, between from and to (from <= to) */
int64
calendar_between(const Calendar *cal, TimestampTz from, TimestampTz to)
{
	CalendarDay day = {0};
	int32		date;
	int32		last;
	int64		total = 0;

	if (to <= from)
		return 0;
	if (cal->always)
		return to - from;

	date = calendar_local_date(cal, from, &day);
	last = calendar_local_date(cal, to, NULL);
	for (; date <= last; date++)
	{
		int			dow = j2day(date + POSTGRES_EPOCH_JDATE);
		int			s;

		CHECK_FOR_INTERRUPTS();
		if (cal->nsegments[dow] == 0 || calendar_is_holiday(cal, date))
			continue;
		calendar_day_set(cal, &day, date);
		for (s = 0; s < cal->nsegments[dow]; s++)
		{
			TimestampTz a = calendar_day_instant(cal, &day, cal->segments[dow][s].start);
			TimestampTz b = calendar_day_instant(cal, &day, cal->segments[dow][s].end);

			if (a < from)
				a = from;
			if (b > to)
				b = to;
			if (b > a)
				total += b - a;
		}
	}
	return total;
}

/* Is the instant t inside a working segment of the calendar? */
bool
calendar_is_working(const Calendar *cal, TimestampTz t)
{
	int32		date;
	int			dow;
	int			s;

	if (cal->always)
		return true;
	date = calendar_local_date(cal, t, NULL);
	dow = j2day(date + POSTGRES_EPOCH_JDATE);
	if (cal->nsegments[dow] == 0 || calendar_is_holiday(cal, date))
		return false;
	for (s = 0; s < cal->nsegments[dow]; s++)
	{
		if (calendar_local_instant(cal, date, cal->segments[dow][s].start) <= t &&
			t < calendar_local_instant(cal, date, cal->segments[dow][s].end))
			return true;
	}
	return false;
}

/* An interval as microseconds of working time; months are refused as ambiguous */
static int64
calendar_interval_usecs(const Interval *span)
{
	if (span->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("working time cannot be given in months or years"),
				 errhint("Give it in days (24 hours each), hours or minutes.")));
	return span->time + (int64) span->day * USECS_PER_DAY;
}

/* An amount of microseconds as an interval of hours, minutes and seconds */
static Interval *
calendar_usecs_interval(int64 usecs)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = usecs;
	return result;
}

/* swarm.business_add(start, amount, calendar): when amount of working time has elapsed */
Datum
swarm_business_add(PG_FUNCTION_ARGS)
{
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(0);
	Interval   *amount = PG_GETARG_INTERVAL_P(1);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	int64		usecs = calendar_interval_usecs(amount);
	Calendar   *cal;

	if (usecs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("working time to add must not be negative")));
	if (TIMESTAMP_NOT_FINITE(start))
		PG_RETURN_TIMESTAMPTZ(start);
	cal = calendar_lookup(name);
	PG_RETURN_TIMESTAMPTZ(calendar_add(cal, name, start, usecs));
}

/* swarm.business_time(from, to, calendar): working time between, negative when to < from */
Datum
swarm_business_time(PG_FUNCTION_ARGS)
{
	TimestampTz from = PG_GETARG_TIMESTAMPTZ(0);
	TimestampTz to = PG_GETARG_TIMESTAMPTZ(1);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Calendar   *cal;

	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("working time between infinite timestamps is not defined")));
	cal = calendar_lookup(name);
	if (to < from)
		PG_RETURN_INTERVAL_P(calendar_usecs_interval(-calendar_between(cal, to, from)));
	PG_RETURN_INTERVAL_P(calendar_usecs_interval(calendar_between(cal, from, to)));
}

/* Trigger on swarm.calendars: make every backend drop its compiled calendars */
Datum
swarm_calendar_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("swarm_calendar_changed: not called by trigger manager")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

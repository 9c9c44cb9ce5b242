/*
 * calendar.h
 *	  Compiled business-hours calendars (see src/calendar.c).
 */
#ifndef CALENDAR_H
#define CALENDAR_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

/* Longest calendar name (swarm.calendars checks it too) */
#define CALENDAR_NAME_MAXLEN 63
/* Minutes in a day: a segment may end at 24:00 */
#define CALENDAR_MINS_PER_DAY (24 * 60)
/* Most working segments one weekday may have */
#define CALENDAR_MAX_SEGMENTS 48

/* A working segment of a day, in minutes after local midnight: [start, end) */
typedef struct CalendarSegment
{
	int32		start;
	int32		end;			/* up to CALENDAR_MINS_PER_DAY (24:00) */
} CalendarSegment;

/* A calendar compiled for arithmetic */
typedef struct Calendar
{
	pg_tz	   *tz;
	bool		always;			/* every day 00:00-24:00, no holidays */
	int			nsegments[7];	/* by weekday, 0 = Sunday */
	CalendarSegment segments[7][CALENDAR_MAX_SEGMENTS];
	int32	   *holidays;		/* sorted local dates, days since 2000-01-01 */
	int			nholidays;
	int32	   *yearly;			/* sorted month * 100 + day */
	int			nyearly;
} Calendar;

extern Calendar *calendar_lookup(const char *name);
extern Calendar *calendar_lookup_id(int64 calendar_id);
extern TimestampTz calendar_add(const Calendar *cal, const char *name, TimestampTz start, int64 amount);
extern int64 calendar_between(const Calendar *cal, TimestampTz from, TimestampTz to);
extern bool calendar_is_working(const Calendar *cal, TimestampTz t);

#endif							/* CALENDAR_H */

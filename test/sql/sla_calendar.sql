-- Business-hours calendars: business_add / business_time on lunch breaks,
-- weekends, holidays, month and year ends, starts outside working hours,
-- daylight-saving changes in both directions, round trips, validation of
-- the hours, and calendar changes seen at once (cache invalidation).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET TimeZone = 'Europe/Berlin';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Calendars ------------------------------------------------------------------
-- office: Berlin, Mon-Fri 09:00-12:00 and 13:00-17:00 (7 working hours a day),
-- May Day 2026, and yearly holidays Jan 1, Dec 25, Dec 26 and Feb 29.
SELECT swarm.add_calendar('office', 'Europe/Berlin',
    jsonb_build_object('mon', '[["09:00","12:00"],["13:00","17:00"]]'::jsonb,
                       'tue', '[["13:00","17:00"],["09:00","12:00"]]'::jsonb,   -- any order
                       'wed', '[["09:00","12:00"],["13:00","17:00"]]'::jsonb,
                       'thu', '[["09:00","12:00"],["13:00","17:00"]]'::jsonb,
                       'fri', '[["09:00","12:00"],["13:00","17:00"]]'::jsonb),
    ARRAY['2026-05-01', '2026-05-01']::date[]) AS office;
SELECT swarm.add_yearly_holiday('office', 1, 1), swarm.add_yearly_holiday('office', 12, 25),
       swarm.add_yearly_holiday('office', 12, 26), swarm.add_yearly_holiday('office', 2, 29),
       swarm.add_yearly_holiday('office', 12, 25);   -- twice: kept once
SELECT name, timezone, segments, holidays, yearly_holidays FROM swarm.calendars ORDER BY calendar_id;
-- sundays: Berlin, all of every Sunday (23 h in spring, 25 h in autumn)
SELECT swarm.add_calendar('sundays', 'Europe/Berlin', '{"sun": [["00:00","24:00"]]}') AS sundays;
-- night: Berlin, Sundays 01:00-04:00 (2 h on 2026-03-29, 4 h on 2026-10-25)
SELECT swarm.add_calendar('night', 'Europe/Berlin', '{"sun": [["01:00","04:00"]]}') AS night;
-- nyc: New York, Mon-Fri 09:00-17:00; nysun: every Sunday in New York
SELECT swarm.add_calendar('nyc', 'America/New_York',
    '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]], "wed": [["09:00","17:00"]],
      "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}') AS nyc;
SELECT swarm.add_calendar('nysun', 'America/New_York', '{"sun": [["00:00","24:00"]]}') AS nysun;
-- late: Berlin, Monday 18:00-24:00 and Tuesday 00:00-06:00 (a night shift over midnight)
SELECT swarm.add_calendar('late', 'Europe/Berlin', '{"mon": [["18:00","24:00"]], "tue": [["00:00","06:00"]]}') AS late;
-- allday: every day around the clock, but with a holiday (so not plain elapsed time)
SELECT swarm.add_calendar('allday', 'UTC',
    (SELECT jsonb_object_agg(d, '[["00:00","24:00"]]'::jsonb)
       FROM unnest(ARRAY['mon','tue','wed','thu','fri','sat','sun']) AS d),
    ARRAY['2026-06-16']::date[]) AS allday;
-- adjacent segments are fine
SELECT swarm.add_calendar('adjacent', 'UTC', '{"mon": [["09:00","12:00"],["12:00","13:00"]]}') AS adjacent;

-- business_add on the office calendar ---------------------------------------
SELECT label, swarm.business_add(start, amount, 'office') AS due
  FROM (VALUES
    ('inside a segment',            timestamptz '2026-06-15 10:00', interval '1 hour'),
    ('up to the lunch break',       '2026-06-15 10:00', '2 hours'),
    ('across the lunch break',      '2026-06-15 10:00', '3 hours'),
    ('into the next day',           '2026-06-15 16:00', '2 hours'),
    ('to the end of the day',       '2026-06-15 09:00', '7 hours'),
    ('one minute more',             '2026-06-15 09:00', '7 hours 1 minute'),
    ('over the weekend',            '2026-06-19 16:00', '2 hours'),
    ('start before hours',          '2026-06-15 07:00', '1 hour'),
    ('start in the lunch break',    '2026-06-15 12:30', '1 hour'),
    ('start after hours',           '2026-06-15 18:00', '1 hour'),
    ('start at midnight',           '2026-06-16 00:00', '30 minutes'),
    ('start on a Saturday',         '2026-06-20 10:00', '1 hour'),
    ('start on a holiday',          '2026-05-01 10:00', '1 hour'),
    ('month end and May Day',       '2026-04-30 16:00', '3 hours'),
    ('year end and New Year',       '2025-12-31 16:00', '2 hours'),
    ('Christmas',                   '2026-12-24 16:00', '2 hours'),
    ('Feb 29 in a leap year',       '2028-02-28 16:00', '2 hours'),
    ('Feb 28 in 2027',              '2027-02-26 16:00', '2 hours'),
    ('seconds',                     '2026-06-15 11:59:30', '45 seconds'),
    ('one day is 24 hours',         '2026-06-15 09:00', '1 day'),
    ('2 days 1 hour is 7 days',     '2026-06-15 09:00', '2 days 1 hour'),
    ('100 days of 7 hours',         '2026-06-15 09:00', '700 hours'),
    ('zero: the start as is',       '2026-06-20 10:00', '0'),
    ('spring forward weekend',      '2026-03-27 16:00', '2 hours'),
    ('fall back weekend',           '2026-10-23 16:00', '2 hours')
  ) AS t (label, start, amount);

-- business_time on the office calendar ---------------------------------------
SELECT label, swarm.business_time(a, b, 'office') AS worked
  FROM (VALUES
    ('same day across lunch',       timestamptz '2026-06-15 10:00', timestamptz '2026-06-15 14:00'),
    ('inside the lunch break',      '2026-06-15 12:10', '2026-06-15 12:50'),
    ('over the weekend',            '2026-06-19 16:00', '2026-06-22 10:00'),
    ('backwards is negative',       '2026-06-15 14:00', '2026-06-15 10:00'),
    ('the same instant',            '2026-06-15 14:00', '2026-06-15 14:00'),
    ('a whole weekend',             '2026-06-20 00:00', '2026-06-22 00:00'),
    ('May Day week',                '2026-04-30 00:00', '2026-05-05 00:00'),
    ('New Year',                    '2025-12-31 00:00', '2026-01-03 00:00'),
    ('Feb 29 2028',                 '2028-02-28 00:00', '2028-03-02 00:00'),
    ('a week over spring forward',  '2026-03-27 00:00', '2026-04-03 00:00'),
    ('spring forward, Fri to Mon',  '2026-03-27 16:00', '2026-03-30 10:00'),
    ('the year 2026',               '2026-01-01 00:00', '2027-01-01 00:00'),
    ('the year 2026 backwards',     '2027-01-01 00:00', '2026-01-01 00:00')
  ) AS t (label, a, b);

-- Daylight saving: a working day of 23 and of 25 hours ----------------------
SELECT swarm.business_time('2026-03-29 00:00', '2026-03-30 00:00', 'sundays') AS spring_sunday,
       swarm.business_time('2026-10-25 00:00', '2026-10-26 00:00', 'sundays') AS autumn_sunday,
       swarm.business_time('2026-06-14 00:00', '2026-06-15 00:00', 'sundays') AS summer_sunday,
       swarm.business_time('2026-03-29 00:00', '2026-03-30 00:00', 'night') AS spring_night,
       swarm.business_time('2026-10-25 00:00', '2026-10-26 00:00', 'night') AS autumn_night,
       swarm.business_time('2026-06-14 00:00', '2026-06-15 00:00', 'night') AS summer_night;
SELECT label, cal, swarm.business_add(start, amount, cal) AS due
  FROM (VALUES
    ('spring: the whole day',        'sundays', timestamptz '2026-03-29 00:00', interval '23 hours'),
    ('spring: one hour more',        'sundays', '2026-03-29 00:00', '24 hours'),
    ('spring: 3 h from Saturday',    'sundays', '2026-03-28 12:00', '3 hours'),
    ('autumn: 24 h in one day',      'sundays', '2026-10-25 00:00', '24 hours'),
    ('autumn: one day is 24 h',      'sundays', '2026-10-25 00:00', '1 day'),
    ('autumn: the whole day',        'sundays', '2026-10-25 00:00', '25 hours'),
    ('autumn: into the second 2 am', 'sundays', '2026-10-25 01:00', '2 hours'),
    ('spring night: all of it',      'night',   '2026-03-28 12:00', '2 hours'),
    ('spring night: next Sunday',    'night',   '2026-03-28 12:00', '3 hours'),
    ('autumn night: 3 h',            'night',   '2026-10-24 12:00', '3 hours'),
    ('autumn night: all of it',      'night',   '2026-10-24 12:00', '4 hours'),
    ('autumn night: from 02:30 CET', 'night',   '2026-10-25 02:30+01', '1 hour')
  ) AS t (label, cal, start, amount);

-- New York: business hours shift in UTC; Sundays of 23 and 25 hours
SET TimeZone = 'UTC';
SELECT label, swarm.business_add(start, amount, 'nyc') AS due_utc
  FROM (VALUES
    ('EST Friday to EDT Monday', timestamptz '2026-03-06 21:00', interval '2 hours'),   -- Fri 16:00 EST
    ('EDT Friday to EST Monday', '2026-10-30 20:00', '2 hours'),                        -- Fri 16:00 EDT
    ('a summer day',             '2026-06-15 13:00', '8 hours'),                        -- Mon 09:00 EDT
    ('a winter day',             '2026-12-14 14:00', '8 hours')                         -- Mon 09:00 EST
  ) AS t (label, start, amount);
SELECT swarm.business_time('2026-03-08 05:00', '2026-03-09 04:00', 'nysun') AS spring_sunday,
       swarm.business_time('2026-11-01 04:00', '2026-11-02 05:00', 'nysun') AS autumn_sunday,
       swarm.business_add('2026-03-08 05:00', '23 hours', 'nysun') AS spring_end,
       swarm.business_add('2026-11-01 04:00', '25 hours', 'nysun') AS autumn_end,
       swarm.business_time('2026-03-06 21:00', '2026-03-09 14:00', 'nyc') AS fri_to_mon;
SET TimeZone = 'Europe/Berlin';

-- 24x7 is plain elapsed time, even over daylight-saving changes -------------
SELECT swarm.business_add('2026-03-28 12:00', '36 hours', '24x7') AS plus_36h,
       swarm.business_add('2026-03-28 12:00', '1 day', '24x7') AS plus_1_day,
       timestamptz '2026-03-28 12:00' + interval '1 day' AS calendar_day_for_comparison,
       swarm.business_time('2026-03-29 00:00', '2026-03-30 00:00', '24x7') AS spring_day,
       swarm.business_time('2026-10-25 00:00', '2026-10-26 00:00', '24x7') AS autumn_day,
       swarm.business_time('2026-06-15 12:00', '2026-06-15 09:30', '24x7') AS backwards;
-- a calendar working around the clock but with a holiday is not plain elapsed time
SET TimeZone = 'UTC';
SELECT swarm.business_time('2026-06-15 00:00', '2026-06-18 00:00', 'allday') AS three_days_less_a_holiday,
       swarm.business_add('2026-06-15 12:00', '24 hours', 'allday') AS over_the_holiday;
SET TimeZone = 'Europe/Berlin';

-- "24:00" ends a day: the night shift runs on past midnight -------------------
SELECT swarm.business_add('2026-06-15 23:00', '2 hours', 'late') AS over_midnight,
       swarm.business_add('2026-06-15 18:00', '6 hours', 'late') AS to_midnight,
       swarm.business_add('2026-06-16 05:00', '2 hours', 'late') AS to_next_week,
       swarm.business_time('2026-06-15 20:00', '2026-06-16 02:00', 'late') AS across_midnight,
       swarm.business_time('2026-06-15 12:00', '2026-06-15 13:00', 'adjacent') AS adjacent_segments;

-- Round trips and consistency on generated inputs -----------------------------
-- starts every 7 h 13 min from mid-December 2025 (over both daylight-saving
-- changes and New Year), amounts from 0 to 40 hours in odd minutes.
CREATE TEMP TABLE gen AS
SELECT i, timestamptz '2025-12-20 00:00' + i * interval '7 hours 13 minutes' AS a,
       ((i * 397) % 2400) * interval '1 minute' AS x,
       ((i * 211) % 1500) * interval '1 minute' AS y
  FROM generate_series(1, 1300) AS i;
SELECT cal,
       count(*) AS inputs,
       count(*) FILTER (WHERE swarm.business_time(a, swarm.business_add(a, x, cal), cal) <> x) AS round_trip_errors,
       count(*) FILTER (WHERE swarm.business_add(a, x, cal) < a) AS due_before_start,
       count(*) FILTER (WHERE swarm.business_add(swarm.business_add(a, x, cal), y, cal)
                              <> swarm.business_add(a, x + y, cal)) AS not_additive,
       count(*) FILTER (WHERE swarm.business_time(a, a + x, cal) <> -swarm.business_time(a + x, a, cal)) AS not_antisymmetric,
       count(*) FILTER (WHERE swarm.business_time(a, a + x + y, cal)
                              <> swarm.business_time(a, a + x, cal) + swarm.business_time(a + x, a + x + y, cal)) AS not_split,
       count(*) FILTER (WHERE swarm.business_time(a, a + x, cal) > x) AS more_than_elapsed
  FROM gen, unnest(ARRAY['office', 'sundays', 'night', 'nyc', 'nysun', 'late', 'allday', '24x7']) AS cal
 GROUP BY cal ORDER BY cal;
-- on 24x7 both are plain timestamp arithmetic
SELECT count(*) FILTER (WHERE swarm.business_add(a, x, '24x7') <> a + x) AS add_differs,
       count(*) FILTER (WHERE swarm.business_time(a, a + x, '24x7') <> x) AS time_differs
  FROM gen;
-- a deadline never lands outside working time (except for a zero amount)
SELECT count(*) FILTER (WHERE swarm.business_time(swarm.business_add(a, x, 'office') - interval '1 second',
                                                  swarm.business_add(a, x, 'office'), 'office') <> interval '1 second')
       AS due_not_at_work
  FROM gen WHERE x > interval '0';

-- A segment starting inside the spring-forward gap (02:30 does not exist on
-- 2026-03-08 in New York): business_add and business_time must still agree.
SELECT swarm.add_calendar('gap', 'America/New_York', '{"sun": [["02:30","03:15"]], "mon": [["09:00","10:00"]]}') AS gap;
SELECT count(*) FILTER (WHERE swarm.business_time(a, swarm.business_add(a, x, 'gap'), 'gap') <> x) AS gap_round_trip_errors
  FROM (SELECT timestamptz '2026-03-07 12:00' + i * interval '17 minutes' AS a, interval '10 minutes' * j AS x
          FROM generate_series(0, 100) AS i, generate_series(1, 12) AS j) AS g;

-- A calendar whose every working day is a holiday: an error, never a loop
SELECT swarm.add_calendar('mondays', 'UTC', '{"mon": [["09:00","17:00"]]}') AS mondays;
DO $$
DECLARE d date;
BEGIN
    FOR d IN SELECT generate_series(date '2000-01-01', date '2000-12-31', interval '1 day') LOOP
        PERFORM swarm.add_yearly_holiday('mondays', extract(month FROM d)::integer, extract(day FROM d)::integer);
    END LOOP;
END
$$;
SELECT cardinality(yearly_holidays) FROM swarm.calendars WHERE name = 'mondays';
SELECT swarm.business_add('2026-06-15 10:00', '1 hour', 'mondays');
SELECT swarm.business_time('2026-01-01', '2027-01-01', 'mondays') AS worked_in_a_year;

-- Errors ------------------------------------------------------------------------
SELECT swarm.business_add('2026-06-15 10:00', '1 month', 'office');
SELECT swarm.business_add('2026-06-15 10:00', '1 year', 'office');
SELECT swarm.business_add('2026-06-15 10:00', '-1 hour', 'office');
SELECT swarm.business_add('2026-06-15 10:00', '1 day -25 hours', 'office');
SELECT swarm.business_add('2026-06-15 10:00', '1 hour', 'nowhere');
SELECT swarm.business_time('2026-06-15 10:00', '2026-06-16 10:00', 'nowhere');
SELECT swarm.business_add('2026-06-15 10:00', '1 hour', repeat('x', 64));
SELECT swarm.business_time('-infinity', '2026-06-16 10:00', 'office');
SELECT swarm.business_add('infinity', '1 hour', 'office') AS infinite_start,
       swarm.business_add(NULL, '1 hour', 'office') IS NULL AS strict;
-- no working time at all
SELECT swarm.add_calendar('empty', 'UTC', '{}');
SELECT swarm.add_calendar('empty', 'UTC', '{"mon": [], "sat": []}');
SELECT swarm.set_calendar_hours('office', '{"sun": []}');
-- segments
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","12:00"],["11:00","13:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","12:00"],["09:00","10:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["17:00","09:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","09:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["24:00","24:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","24:01"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["25:00","26:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:60","10:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","10:60"]]}');
-- day keys and formats
SELECT swarm.add_calendar('bad', 'UTC', '{"monday": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"Mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["9:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [[900, 1700]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": "09:00-17:00"}');
SELECT swarm.add_calendar('bad', 'UTC', '[["09:00","17:00"]]');
SELECT swarm.add_calendar('bad', 'UTC', NULL);
-- time zones
SELECT swarm.add_calendar('bad', 'Mars/Olympus_Mons', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC+3', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('bad', '', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.set_calendar_timezone('office', 'Nowhere/Land');
-- names
SELECT swarm.add_calendar('office', 'UTC', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('24x7', 'UTC', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar(repeat('x', 64), 'UTC', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.add_calendar('bad', 'UTC', '{"mon": [["09:00","17:00"]]}', ARRAY[NULL]::date[]);
-- holidays
SELECT swarm.add_yearly_holiday('office', 2, 30);
SELECT swarm.add_yearly_holiday('office', 13, 1);
SELECT swarm.add_yearly_holiday('office', 0, 10);
SELECT swarm.remove_yearly_holiday('office', 7, 4);
SELECT swarm.remove_holiday('office', '2026-12-24');
SELECT swarm.add_holiday('nowhere', '2026-12-24');
-- the built-in 24x7 calendar
SELECT swarm.set_calendar_hours('24x7', '{"mon": [["09:00","17:00"]]}');
SELECT swarm.set_calendar_timezone('24x7', 'Europe/Berlin');
SELECT swarm.add_holiday('24x7', '2026-12-25');
SELECT swarm.add_yearly_holiday('24x7', 12, 25);
UPDATE swarm.calendars SET timezone = 'Europe/Berlin' WHERE name = '24x7';
DELETE FROM swarm.calendars WHERE name = '24x7';
SELECT name, timezone, segments = swarm.compile_hours('x', hours) AS compiled, holidays, yearly_holidays
  FROM swarm.calendars WHERE name IN ('24x7', 'office') ORDER BY name;
-- nothing refused above was added
SELECT string_agg(name, ', ' ORDER BY calendar_id) AS calendars FROM swarm.calendars;

-- Calendar changes are seen by the very next call -----------------------------
SELECT swarm.add_calendar('shop', 'Europe/Berlin', '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]]}') > 0 AS shop_added;
SELECT swarm.business_add('2026-06-15 16:00', '2 hours', 'shop') AS before_any_change;
BEGIN;
SELECT swarm.set_calendar_hours('shop', '{"mon": [["09:00","18:00"]], "tue": [["10:00","17:00"]]}');
SELECT swarm.business_add('2026-06-15 16:00', '2 hours', 'shop') AS longer_monday;
SELECT swarm.business_add('2026-06-15 17:00', '2 hours', 'shop') AS later_tuesday;
SELECT swarm.add_holiday('shop', '2026-06-16');
SELECT swarm.business_add('2026-06-15 17:00', '2 hours', 'shop') AS tuesday_holiday;
SELECT swarm.add_yearly_holiday('shop', 6, 22);
SELECT swarm.business_add('2026-06-15 17:00', '2 hours', 'shop') AS next_monday_holiday_too;
SELECT swarm.set_calendar_timezone('shop', 'America/New_York');
SELECT timezone FROM swarm.calendars WHERE name = 'shop';
SELECT swarm.business_add('2026-06-15 17:00', '2 hours', 'shop') AS in_new_york,
       swarm.business_add('2026-06-15 18:00 America/New_York', '2 hours', 'shop') AS from_new_york_evening;
SAVEPOINT s;
SELECT swarm.remove_yearly_holiday('shop', 6, 22);
SELECT swarm.business_add('2026-06-15 18:00 America/New_York', '2 hours', 'shop') AS yearly_removed;
ROLLBACK TO SAVEPOINT s;
SELECT swarm.business_add('2026-06-15 18:00 America/New_York', '2 hours', 'shop') AS savepoint_rolled_back;
SELECT swarm.remove_holiday('shop', '2026-06-16');
SELECT swarm.business_add('2026-06-15 18:00 America/New_York', '2 hours', 'shop') AS single_removed;
ROLLBACK;
SELECT swarm.business_add('2026-06-15 16:00', '2 hours', 'shop') AS after_rollback;
SELECT swarm.set_calendar_hours('shop', '{"mon": [["08:00","17:00"]]}');
SELECT swarm.business_add('2026-06-15 16:00', '2 hours', 'shop') AS committed_change;
-- one change event per change, with what changed
SELECT detail ->> 'change' AS change, count(*) FROM swarm.events
 WHERE kind = 'calendar_changed' AND detail ->> 'name' = 'shop' GROUP BY 1 ORDER BY 1;

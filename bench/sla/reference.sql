-- bench/sla/reference.sql: the benchmark calendar and a PL/pgSQL reference
-- for swarm.business_add / swarm.business_time.
--
-- The reference is what a helpdesk developer would write without swarm: a
-- loop over local days that turns each working segment into instants with
-- "(date + time) AT TIME ZONE tz", skipping days without segments and
-- holidays.  It reads the calendar row on every call (swarm caches the
-- compiled calendar per backend) and follows src/calendar.c to the letter:
--   * amount 0 returns start; a negative amount is an error; amounts in
--     months are refused; a day counts 24 hours;
--   * a day's segments are [start, end) in local wall-clock time, converted
--     like "timestamp AT TIME ZONE" (24:00 is the next day's midnight);
--   * working time is real elapsed time inside the segments;
--   * holidays (single and yearly) are local dates;
--   * business_time is negative when to < from, and its result holds hours
--     only (no days field), like swarm's.

CREATE SCHEMA bench_ref;

-- Two segments on weekdays, 20 public holidays (Berlin, 2024 and 2025).
SELECT swarm.add_calendar('bench-berlin', 'Europe/Berlin',
    '{"mon": [["09:00", "12:00"], ["13:00", "17:30"]],
      "tue": [["09:00", "12:00"], ["13:00", "17:30"]],
      "wed": [["09:00", "12:00"], ["13:00", "17:30"]],
      "thu": [["09:00", "12:00"], ["13:00", "17:30"]],
      "fri": [["09:00", "12:00"], ["13:00", "17:30"]]}',
    ARRAY['2024-01-01', '2024-03-08', '2024-03-29', '2024-04-01', '2024-05-01',
          '2024-05-09', '2024-05-20', '2024-10-03', '2024-12-25', '2024-12-26',
          '2025-01-01', '2025-03-08', '2025-04-18', '2025-04-21', '2025-05-01',
          '2025-05-29', '2025-06-09', '2025-10-03', '2025-12-25', '2025-12-26']::date[]);

-- An interval as hours, minutes and seconds only: a day counts 24 hours.
CREATE FUNCTION bench_ref.working_amount(amount interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE STRICT
AS $$
BEGIN
    IF extract(year FROM amount) <> 0 OR extract(month FROM amount) <> 0 THEN
        RAISE EXCEPTION 'working time cannot be given in months or years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN amount - make_interval(days => extract(day FROM amount)::int)
                  + make_interval(hours => 24 * extract(day FROM amount)::int);
END
$$;

CREATE FUNCTION bench_ref.business_add(start timestamptz, amount interval, calendar text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
    cal swarm.calendars;
    remaining interval := bench_ref.working_amount(amount);
    day date;
    dow int;
    k int;
    seg_start timestamptz;
    seg_end timestamptz;
BEGIN
    IF remaining < interval '0' THEN
        RAISE EXCEPTION 'working time to add must not be negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT isfinite(start) THEN
        RETURN start;
    END IF;
    SELECT * INTO cal FROM swarm.calendars AS c WHERE c.name = calendar;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist', calendar USING ERRCODE = 'undefined_object';
    END IF;
    IF remaining = interval '0' THEN
        RETURN start;
    END IF;
    day := (start AT TIME ZONE cal.timezone)::date;
    FOR i IN 1 .. 366 * 10 LOOP
        dow := extract(dow FROM day);
        IF NOT (day = ANY (cal.holidays) OR to_char(day, 'MMDD')::int = ANY (cal.yearly_holidays)) THEN
            -- segments: (weekday, start minute, end minute) triples, by start within a day
            FOR k IN 1 .. cardinality(cal.segments) BY 3 LOOP
                CONTINUE WHEN cal.segments[k] <> dow;
                seg_start := (day + make_interval(mins => cal.segments[k + 1])) AT TIME ZONE cal.timezone;
                seg_end := (day + make_interval(mins => cal.segments[k + 2])) AT TIME ZONE cal.timezone;
                CONTINUE WHEN seg_end <= start;
                IF seg_start < start THEN
                    seg_start := start;
                END IF;
                IF remaining <= seg_end - seg_start THEN
                    RETURN seg_start + remaining;
                END IF;
                remaining := remaining - (seg_end - seg_start);
            END LOOP;
        END IF;
        day := day + 1;
    END LOOP;
    RAISE EXCEPTION 'calendar "%" has not enough working time in the % days after %', calendar, 366 * 10, start
        USING ERRCODE = 'invalid_parameter_value';
END
$$;

CREATE FUNCTION bench_ref.business_time(from_ts timestamptz, to_ts timestamptz, calendar text)
RETURNS interval
LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
    cal swarm.calendars;
    lo timestamptz := least(from_ts, to_ts);
    hi timestamptz := greatest(from_ts, to_ts);
    total interval := interval '0';
    day date;
    last date;
    dow int;
    k int;
    seg_start timestamptz;
    seg_end timestamptz;
BEGIN
    IF NOT (isfinite(from_ts) AND isfinite(to_ts)) THEN
        RAISE EXCEPTION 'working time between infinite timestamps is not defined'
            USING ERRCODE = 'datetime_field_overflow';
    END IF;
    SELECT * INTO cal FROM swarm.calendars AS c WHERE c.name = calendar;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist', calendar USING ERRCODE = 'undefined_object';
    END IF;
    IF hi = lo THEN
        RETURN total;
    END IF;
    day := (lo AT TIME ZONE cal.timezone)::date;
    last := (hi AT TIME ZONE cal.timezone)::date;
    WHILE day <= last LOOP
        dow := extract(dow FROM day);
        IF NOT (day = ANY (cal.holidays) OR to_char(day, 'MMDD')::int = ANY (cal.yearly_holidays)) THEN
            FOR k IN 1 .. cardinality(cal.segments) BY 3 LOOP
                CONTINUE WHEN cal.segments[k] <> dow;
                seg_start := greatest(lo, (day + make_interval(mins => cal.segments[k + 1])) AT TIME ZONE cal.timezone);
                seg_end := least(hi, (day + make_interval(mins => cal.segments[k + 2])) AT TIME ZONE cal.timezone);
                IF seg_end > seg_start THEN
                    total := total + (seg_end - seg_start);
                END IF;
            END LOOP;
        END IF;
        day := day + 1;
    END LOOP;
    IF to_ts < from_ts THEN
        RETURN -total;
    END IF;
    RETURN total;
END
$$;

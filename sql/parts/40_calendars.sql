
-- ---------------------------------------------------------------------------
-- Business-hours calendars (arithmetic in C: src/calendar.c; see docs/sla.md).
-- ---------------------------------------------------------------------------

CREATE TABLE swarm.calendars (
    calendar_id     bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
    timezone        text NOT NULL CHECK (swarm.valid_timezone(timezone)),
    hours           jsonb NOT NULL,
    segments        integer[] NOT NULL,
    holidays        date[] NOT NULL DEFAULT '{}',
    yearly_holidays integer[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE swarm.calendars IS 'business-hours calendars: weekly working segments in a time zone, minus holidays';
COMMENT ON COLUMN swarm.calendars.hours IS
    'working hours as given: {"mon": [["09:00","12:00"],["13:00","17:30"]], ...} in the calendar''s local time';
COMMENT ON COLUMN swarm.calendars.segments IS
    'the hours compiled: (weekday 0=Sunday, start minute, end minute) triples, kept by the API';
COMMENT ON COLUMN swarm.calendars.holidays IS 'single non-working dates';
COMMENT ON COLUMN swarm.calendars.yearly_holidays IS 'non-working days every year, as month * 100 + day';

CREATE FUNCTION swarm.calendar_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'swarm_calendar_changed'
    LANGUAGE C;
COMMENT ON FUNCTION swarm.calendar_changed() IS
    'trigger: tells every backend to drop the calendars it compiled (relcache invalidation)';
CREATE TRIGGER calendars_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON swarm.calendars
    FOR EACH STATEMENT EXECUTE FUNCTION swarm.calendar_changed();

-- The built-in 24x7 calendar is not dumped (CREATE EXTENSION makes it) and cannot change.
SELECT pg_catalog.pg_extension_config_dump('swarm.calendars', 'WHERE name <> ''24x7''');
SELECT pg_catalog.pg_extension_config_dump('swarm.calendars_calendar_id_seq', '');

CREATE FUNCTION swarm.refuse_builtin_calendar_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'calendar "24x7" is built in and cannot be changed'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Add a calendar of your own with swarm.add_calendar().';
END
$$;
COMMENT ON FUNCTION swarm.refuse_builtin_calendar_change() IS 'trigger: keeps the built-in 24x7 calendar as it is';
CREATE TRIGGER calendars_builtin BEFORE UPDATE OR DELETE ON swarm.calendars
    FOR EACH ROW WHEN (OLD.name = '24x7') EXECUTE FUNCTION swarm.refuse_builtin_calendar_change();

CREATE FUNCTION swarm.compile_hours(calendar text, hours jsonb)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days CONSTANT text[] := ARRAY['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    result integer[] := '{}';
    key text;
    seg jsonb;
    dow integer;
    s integer;
    e integer;
    prev_end integer;
    spans integer[];
    m text[];
BEGIN
    IF swarm.require(hours, 'hours') IS NULL OR jsonb_typeof(hours) <> 'object' THEN
        RAISE EXCEPTION 'hours of calendar "%" must be a JSON object of weekdays', calendar
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example {"mon": [["09:00", "17:00"]]}.';
    END IF;
    FOR key IN SELECT jsonb_object_keys(hours) LOOP
        dow := array_position(days, key) - 1;
        IF dow IS NULL THEN
            RAISE EXCEPTION 'unknown day "%" in the hours of calendar "%"', key, calendar
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Days are mon, tue, wed, thu, fri, sat, sun.';
        END IF;
        IF jsonb_typeof(hours -> key) <> 'array' THEN
            RAISE EXCEPTION 'hours of "%" in calendar "%" must be an array of ["HH:MM", "HH:MM"] segments', key, calendar
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        spans := '{}';
        FOR seg IN SELECT jsonb_array_elements(hours -> key) LOOP
            IF jsonb_typeof(seg) <> 'array' OR jsonb_array_length(seg) <> 2
               OR jsonb_typeof(seg -> 0) <> 'string' OR jsonb_typeof(seg -> 1) <> 'string' THEN
                RAISE EXCEPTION 'segment % of "%" in calendar "%" must be ["HH:MM", "HH:MM"]', seg, key, calendar
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            m := regexp_match(seg ->> 0, '^([0-9]{2}):([0-9]{2})$');
            s := m[1]::integer * 60 + m[2]::integer;
            IF m IS NULL OR m[1]::integer > 23 OR m[2]::integer > 59 THEN
                RAISE EXCEPTION 'invalid start "%" of a segment of "%" in calendar "%"', seg ->> 0, key, calendar
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Times are HH:MM from 00:00 to 23:59; an end may be 24:00.';
            END IF;
            m := regexp_match(seg ->> 1, '^([0-9]{2}):([0-9]{2})$');
            e := m[1]::integer * 60 + m[2]::integer;
            IF m IS NULL OR m[2]::integer > 59 OR e > 24 * 60 THEN
                RAISE EXCEPTION 'invalid end "%" of a segment of "%" in calendar "%"', seg ->> 1, key, calendar
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Times are HH:MM from 00:00 to 23:59; an end may be 24:00.';
            END IF;
            IF e <= s THEN
                RAISE EXCEPTION 'segment %-% of "%" in calendar "%" ends before it starts', seg ->> 0, seg ->> 1, key, calendar
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            spans := spans || ARRAY[s, e];
        END LOOP;
        -- sorted by start, segments must not overlap
        prev_end := -1;
        FOR s, e IN SELECT spans[i], spans[i + 1] FROM generate_subscripts(spans, 1) AS i
                     WHERE i % 2 = 1 ORDER BY spans[i] LOOP
            IF s < prev_end THEN
                RAISE EXCEPTION 'segments of "%" in calendar "%" overlap', key, calendar
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            prev_end := e;
            result := result || ARRAY[dow, s, e];
        END LOOP;
    END LOOP;
    IF cardinality(result) = 0 THEN
        RAISE EXCEPTION 'calendar "%" has no working time', calendar
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Every day of the week is empty, so no deadline could ever be reached.';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION swarm.compile_hours(text, jsonb) IS
    'internal: validates a calendar''s hours and compiles them into (weekday, start minute, end minute) triples';

INSERT INTO swarm.calendars (name, timezone, hours, segments)
SELECT '24x7', 'UTC', h, swarm.compile_hours('24x7', h)
  FROM (SELECT jsonb_object_agg(d, '[["00:00", "24:00"]]'::jsonb) AS h
          FROM unnest(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) AS d) AS x;

CREATE FUNCTION swarm.lock_calendar(name text)
RETURNS swarm.calendars
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars;
BEGIN
    SELECT * INTO c FROM swarm.calendars AS t WHERE t.name = swarm.require(lock_calendar.name, 'calendar')
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist', lock_calendar.name USING ERRCODE = 'undefined_object';
    END IF;
    IF c.name = '24x7' THEN
        RAISE EXCEPTION 'calendar "24x7" is built in and cannot be changed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add a calendar of your own with swarm.add_calendar().';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION swarm.lock_calendar(text) IS
    'internal: the calendar row locked for a change; raises 42704 when there is none and 55000 for 24x7';

CREATE FUNCTION swarm.add_calendar(name text, timezone text, hours jsonb, holidays date[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM swarm.require_text(name, 'name');
    IF length(name) > 63 THEN
        RAISE EXCEPTION 'calendar name "%" is longer than 63 characters', name USING ERRCODE = 'name_too_long';
    END IF;
    IF EXISTS (SELECT 1 FROM swarm.calendars AS c WHERE c.name = add_calendar.name) THEN
        RAISE EXCEPTION 'calendar "%" already exists', name USING ERRCODE = 'unique_violation';
    END IF;
    IF array_position(swarm.require(holidays, 'holidays'), NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'holidays of calendar "%" must not contain null', name USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO swarm.calendars (name, timezone, hours, segments, holidays)
    VALUES (add_calendar.name, swarm.require_timezone(swarm.require_text(timezone, 'timezone')), hours,
            swarm.compile_hours(add_calendar.name, hours),
            ARRAY(SELECT DISTINCT h FROM unnest(holidays) AS h ORDER BY h))
    RETURNING calendar_id INTO new_id;
    PERFORM swarm.record_event('calendar_added', NULL, NULL, NULL,
        jsonb_build_object('calendar_id', new_id, 'name', name));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.add_calendar(text, text, jsonb, date[]) IS
    'adds a business-hours calendar: IANA time zone, weekly hours {"mon": [["09:00","17:00"]], ...}, holidays; returns calendar_id';

CREATE FUNCTION swarm.business_add(start timestamptz, amount interval, calendar text)
RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'swarm_business_add'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.business_add(timestamptz, interval, text) IS
    'the instant when amount of working time has elapsed from start on the calendar (days count 24 hours)';

CREATE FUNCTION swarm.business_time(from_ts timestamptz, to_ts timestamptz, calendar text)
RETURNS interval
    AS 'MODULE_PATHNAME', 'swarm_business_time'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.business_time(timestamptz, timestamptz, text) IS
    'working time between two instants on the calendar, as hours; negative when to_ts is before from_ts';

-- Agents' shifts ---------------------------------------------------------------------

ALTER TABLE swarm.agents ADD COLUMN calendar_id bigint REFERENCES swarm.calendars;
COMMENT ON COLUMN swarm.agents.calendar_id IS
    'the agent''s shift: outside its working hours routing treats the agent as not available';

CREATE FUNCTION swarm.set_agent_calendar(agent bigint, calendar text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a swarm.agents := swarm.lock_agent(agent);
    cal_id bigint;
BEGIN
    IF calendar IS NOT NULL THEN
        SELECT c.calendar_id INTO cal_id FROM swarm.calendars AS c WHERE c.name = calendar;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'calendar "%" does not exist', calendar USING ERRCODE = 'undefined_object';
        END IF;
    END IF;
    UPDATE swarm.agents AS t SET calendar_id = cal_id WHERE t.agent_id = a.agent_id;
    PERFORM swarm.record_event('agent_updated', NULL, NULL, a.agent_id, jsonb_build_object('calendar', calendar));
END
$$;
COMMENT ON FUNCTION swarm.set_agent_calendar(bigint, text) IS
    'gives an agent a shift calendar (NULL: always available); routing skips agents outside their working hours';

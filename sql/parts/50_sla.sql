
-- ---------------------------------------------------------------------------
-- SLA engine: policies, due times, pauses and status checks (docs/sla.md).
--
-- A deadline is the instant when the target's working time has elapsed on
-- the policy's calendar, not counting the working time inside the case's
-- pauses (waiting on the customer).  Due times are stored on the rows and
-- recomputed by the API whenever what they depend on changes: priority,
-- customer tier, pauses, the policy, or its calendar.
-- ---------------------------------------------------------------------------

CREATE TABLE swarm.sla_policies (
    policy_id          bigserial PRIMARY KEY,
    priority           swarm.priority NOT NULL,
    group_id           bigint REFERENCES swarm.skill_groups ON DELETE CASCADE,
    customer_tier      text,
    first_response     interval NOT NULL,
    resolution         interval NOT NULL,
    accept             interval NOT NULL,
    request_resolution interval NOT NULL,
    calendar_id        bigint NOT NULL REFERENCES swarm.calendars,
    at_risk_fraction   double precision NOT NULL DEFAULT 0.75 CHECK (at_risk_fraction > 0 AND at_risk_fraction <= 1),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sla_policies_key ON swarm.sla_policies (priority, coalesce(group_id, 0), coalesce(customer_tier, ''));
COMMENT ON TABLE swarm.sla_policies IS
    'SLA targets by priority, optionally narrowed to a group or a customer tier (the most specific match wins)';
COMMENT ON COLUMN swarm.sla_policies.accept IS 'time to help: from a request''s creation to its acceptance';
COMMENT ON COLUMN swarm.sla_policies.request_resolution IS 'from a request''s creation to its resolution';
COMMENT ON COLUMN swarm.sla_policies.at_risk_fraction IS 'share of a target''s working time after which it is at risk';
SELECT pg_catalog.pg_extension_config_dump('swarm.sla_policies', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.sla_policies_policy_id_seq', '');

CREATE TABLE swarm.sla_pauses (
    case_id    bigint NOT NULL REFERENCES swarm.cases,
    paused_at  timestamptz NOT NULL,
    resumed_at timestamptz,
    reason     text,
    PRIMARY KEY (case_id, paused_at),
    CHECK (resumed_at >= paused_at)
);
CREATE UNIQUE INDEX sla_pauses_open ON swarm.sla_pauses (case_id) WHERE resumed_at IS NULL;
COMMENT ON TABLE swarm.sla_pauses IS 'periods a case waited on the customer; their working time does not count';
SELECT pg_catalog.pg_extension_config_dump('swarm.sla_pauses', '');

ALTER TABLE swarm.cases ADD FOREIGN KEY (sla_policy_id) REFERENCES swarm.sla_policies ON DELETE SET NULL;
ALTER TABLE swarm.collab_requests ADD FOREIGN KEY (sla_policy_id) REFERENCES swarm.sla_policies ON DELETE SET NULL;

-- The escalation worker and swarm.sla_due find what is at risk from these.
-- They carry the due times and ids, so sla_due reads them alone (index-only scans).
CREATE INDEX cases_first_response_risk_idx ON swarm.cases (first_response_risk_at)
    INCLUDE (first_response_due, case_id)
    WHERE first_response_at IS NULL AND state IN ('new', 'open');
CREATE INDEX cases_resolution_risk_idx ON swarm.cases (resolution_risk_at)
    INCLUDE (resolution_due, case_id)
    WHERE state IN ('new', 'open');
CREATE INDEX collab_requests_accept_risk_idx ON swarm.collab_requests (accept_risk_at)
    INCLUDE (accept_due, request_id, case_id)
    WHERE state IN ('open', 'offered');
CREATE INDEX collab_requests_resolution_risk_idx ON swarm.collab_requests (resolution_risk_at)
    INCLUDE (resolution_due, request_id, case_id)
    WHERE state IN ('open', 'offered', 'accepted');

-- Deadlines -------------------------------------------------------------------------

CREATE FUNCTION swarm.sla_deadline(case_id bigint, start timestamptz, target interval, calendar text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    due timestamptz;
    p swarm.sla_pauses;
BEGIN
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    due := swarm.business_add(start, target, calendar);
    FOR p IN SELECT * FROM swarm.sla_pauses AS t
              WHERE t.case_id = sla_deadline.case_id AND coalesce(t.resumed_at, 'infinity') > start
              ORDER BY t.paused_at
    LOOP
        EXIT WHEN greatest(p.paused_at, start) >= due;   -- a pause after the deadline changes nothing
        IF p.resumed_at IS NULL THEN
            RETURN NULL;                                  -- paused now: no deadline until resumed
        END IF;
        due := swarm.business_add(due, swarm.business_time(greatest(p.paused_at, start), p.resumed_at, calendar),
                                  calendar);
    END LOOP;
    RETURN due;
END
$$;
COMMENT ON FUNCTION swarm.sla_deadline(bigint, timestamptz, interval, text) IS
    'internal: when target working time has elapsed from start on the calendar, not counting the case''s pauses; NULL while paused';

CREATE FUNCTION swarm.sla_policy_for(priority swarm.priority, group_id bigint, customer_tier text)
RETURNS swarm.sla_policies
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_policy swarm.sla_policies;
BEGIN
    SELECT p.* INTO found_policy FROM swarm.sla_policies AS p
     WHERE p.priority = sla_policy_for.priority
       AND (p.group_id IS NULL OR p.group_id = sla_policy_for.group_id)
       AND (p.customer_tier IS NULL OR p.customer_tier = sla_policy_for.customer_tier)
     ORDER BY (p.group_id IS NOT NULL)::int + (p.customer_tier IS NOT NULL)::int DESC,
              p.group_id IS NOT NULL DESC
     LIMIT 1;
    RETURN found_policy;
END
$$;
COMMENT ON FUNCTION swarm.sla_policy_for(swarm.priority, bigint, text) IS
    'the SLA policy that applies: same priority, the most specific group / customer tier match (group first on a tie)';

CREATE FUNCTION swarm.sla_refresh_case(case_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases;
    p swarm.sla_policies;
    cal text;
BEGIN
    SELECT * INTO c FROM swarm.cases AS t WHERE t.case_id = sla_refresh_case.case_id;
    p := swarm.sla_policy_for(c.priority, NULL, c.customer_tier);
    SELECT name INTO cal FROM swarm.calendars WHERE calendar_id = p.calendar_id;
    UPDATE swarm.cases AS t
       SET sla_policy_id = p.policy_id,
           first_response_due = swarm.sla_deadline(c.case_id, c.opened_at, p.first_response, cal),
           first_response_risk_at = swarm.sla_deadline(c.case_id, c.opened_at, p.first_response * p.at_risk_fraction, cal),
           resolution_due = swarm.sla_deadline(c.case_id, c.opened_at, p.resolution, cal),
           resolution_risk_at = swarm.sla_deadline(c.case_id, c.opened_at, p.resolution * p.at_risk_fraction, cal)
     WHERE t.case_id = c.case_id;
END
$$;
COMMENT ON FUNCTION swarm.sla_refresh_case(bigint) IS 'internal: recomputes a case''s SLA policy, due times and at-risk times';

CREATE FUNCTION swarm.sla_refresh_request(request_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    tier text;
    p swarm.sla_policies;
    cal text;
BEGIN
    SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = sla_refresh_request.request_id;
    SELECT customer_tier INTO tier FROM swarm.cases AS c WHERE c.case_id = r.case_id;
    p := swarm.sla_policy_for(r.priority, r.group_id, tier);
    SELECT name INTO cal FROM swarm.calendars WHERE calendar_id = p.calendar_id;
    UPDATE swarm.collab_requests AS t
       SET sla_policy_id = p.policy_id,
           accept_due = swarm.sla_deadline(r.case_id, r.created_at, p.accept, cal),
           accept_risk_at = swarm.sla_deadline(r.case_id, r.created_at, p.accept * p.at_risk_fraction, cal),
           resolution_due = swarm.sla_deadline(r.case_id, r.created_at, p.request_resolution, cal),
           resolution_risk_at = swarm.sla_deadline(r.case_id, r.created_at, p.request_resolution * p.at_risk_fraction, cal)
     WHERE t.request_id = r.request_id;
    PERFORM swarm.schedule_escalation(r.request_id);
END
$$;
COMMENT ON FUNCTION swarm.sla_refresh_request(bigint) IS
    'internal: recomputes a request''s SLA policy, due times and at-risk times, and schedules its next escalation';

CREATE FUNCTION swarm.sla_refresh_open(calendar_id bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := 0;
    id bigint;
BEGIN
    -- Everything still open: its policy may change with the policies, its dates with the calendar.
    FOR id IN SELECT c.case_id FROM swarm.cases AS c
               WHERE c.state IN ('new', 'open', 'pending')
                 AND (sla_refresh_open.calendar_id IS NULL OR c.sla_policy_id IN
                      (SELECT p.policy_id FROM swarm.sla_policies AS p WHERE p.calendar_id = sla_refresh_open.calendar_id))
               ORDER BY c.case_id
    LOOP
        PERFORM swarm.sla_refresh_case(id);
        n := n + 1;
    END LOOP;
    FOR id IN SELECT r.request_id FROM swarm.collab_requests AS r
               WHERE r.state IN ('open', 'offered', 'accepted')
                 AND (sla_refresh_open.calendar_id IS NULL OR r.sla_policy_id IN
                      (SELECT p.policy_id FROM swarm.sla_policies AS p WHERE p.calendar_id = sla_refresh_open.calendar_id))
               ORDER BY r.request_id
    LOOP
        PERFORM swarm.sla_refresh_request(id);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION swarm.sla_refresh_open(bigint) IS
    'recomputes the due times of every open case and request (of one calendar''s policies when given); returns how many';

-- Policies ------------------------------------------------------------------------

CREATE FUNCTION swarm.set_sla_policy(priority swarm.priority, first_response interval, resolution interval,
                                     accept interval, request_resolution interval, calendar text DEFAULT '24x7',
                                     group_name text DEFAULT NULL, customer_tier text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    cal_id bigint;
    gid bigint;
    pid bigint;
    t record;
BEGIN
    PERFORM swarm.require(priority, 'priority');
    FOR t IN SELECT * FROM (VALUES ('first_response', first_response), ('resolution', resolution),
                                   ('accept', accept), ('request_resolution', request_resolution)) AS v (name, target)
    LOOP
        IF t.target IS NULL THEN
            RAISE EXCEPTION '% must not be null', t.name USING ERRCODE = 'null_value_not_allowed';
        ELSIF t.target <= interval '0' THEN
            RAISE EXCEPTION 'SLA target % must be positive: %', t.name, t.target USING ERRCODE = 'invalid_parameter_value';
        ELSIF date_part('month', t.target) <> 0 OR date_part('year', t.target) <> 0 THEN
            RAISE EXCEPTION 'SLA target % cannot be given in months or years: %', t.name, t.target
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Give it in days (24 hours each), hours or minutes.';
        END IF;
    END LOOP;
    SELECT c.calendar_id INTO cal_id FROM swarm.calendars AS c WHERE c.name = swarm.require(calendar, 'calendar');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist', calendar USING ERRCODE = 'undefined_object';
    END IF;
    IF group_name IS NOT NULL THEN
        gid := swarm.group_id(group_name);
    END IF;
    IF customer_tier = '' THEN
        RAISE EXCEPTION 'customer_tier must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO swarm.sla_policies AS p (priority, group_id, customer_tier, first_response, resolution, accept,
                                         request_resolution, calendar_id)
    VALUES (set_sla_policy.priority, gid, set_sla_policy.customer_tier, set_sla_policy.first_response,
            set_sla_policy.resolution, set_sla_policy.accept, set_sla_policy.request_resolution, cal_id)
    ON CONFLICT (priority, coalesce(group_id, 0), coalesce(customer_tier, ''))
    DO UPDATE SET first_response = excluded.first_response, resolution = excluded.resolution,
                  accept = excluded.accept, request_resolution = excluded.request_resolution,
                  calendar_id = excluded.calendar_id, updated_at = now()
    RETURNING p.policy_id INTO pid;

    PERFORM swarm.sla_refresh_open();
    PERFORM swarm.record_event('sla_policy_set', NULL, NULL, NULL,
        jsonb_build_object('policy_id', pid, 'priority', priority, 'group', group_name, 'customer_tier', customer_tier,
                           'calendar', calendar));
    RETURN pid;
END
$$;
COMMENT ON FUNCTION swarm.set_sla_policy(swarm.priority, interval, interval, interval, interval, text, text, text) IS
    'sets the SLA targets for a priority (optionally a group and/or customer tier; the same key replaces them) and recomputes open due times';

-- Calendar changes recompute due times ------------------------------------------------

CREATE FUNCTION swarm.calendar_updated(c swarm.calendars, what text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE swarm.calendars AS t SET updated_at = now() WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.sla_refresh_open(c.calendar_id);
    PERFORM swarm.record_event('calendar_changed', NULL, NULL, NULL,
        jsonb_build_object('calendar_id', c.calendar_id, 'name', c.name, 'change', what));
END
$$;
COMMENT ON FUNCTION swarm.calendar_updated(swarm.calendars, text) IS
    'internal: after a calendar change, recomputes the due times that use it and records an event';

CREATE FUNCTION swarm.set_calendar_hours(calendar text, hours jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    UPDATE swarm.calendars AS t SET hours = set_calendar_hours.hours, segments = swarm.compile_hours(c.name, set_calendar_hours.hours)
     WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'hours');
END
$$;
COMMENT ON FUNCTION swarm.set_calendar_hours(text, jsonb) IS 'replaces a calendar''s weekly hours; open due times are recomputed';

CREATE FUNCTION swarm.set_calendar_timezone(calendar text, timezone text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    UPDATE swarm.calendars AS t SET timezone = swarm.require_timezone(swarm.require_text(set_calendar_timezone.timezone, 'timezone'))
     WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'timezone');
END
$$;
COMMENT ON FUNCTION swarm.set_calendar_timezone(text, text) IS 'changes a calendar''s time zone; open due times are recomputed';

CREATE FUNCTION swarm.add_holiday(calendar text, day date)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    UPDATE swarm.calendars AS t
       SET holidays = ARRAY(SELECT DISTINCT h FROM unnest(t.holidays || swarm.require(day, 'day')) AS h ORDER BY h)
     WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'holiday added');
END
$$;
COMMENT ON FUNCTION swarm.add_holiday(text, date) IS 'adds a single non-working date to a calendar; open due times are recomputed';

CREATE FUNCTION swarm.remove_holiday(calendar text, day date)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    IF NOT swarm.require(day, 'day') = ANY (c.holidays) THEN
        RAISE EXCEPTION '% is not a holiday of calendar "%"', day, c.name USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE swarm.calendars AS t SET holidays = array_remove(t.holidays, day) WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'holiday removed');
END
$$;
COMMENT ON FUNCTION swarm.remove_holiday(text, date) IS 'removes a single holiday from a calendar; open due times are recomputed';

CREATE FUNCTION swarm.add_yearly_holiday(calendar text, month integer, day integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    -- 2000 is a leap year, so 02-29 is a valid yearly holiday
    IF make_date(2000, swarm.require(month, 'month'), swarm.require(day, 'day')) IS NULL THEN
        RETURN;
    END IF;
    UPDATE swarm.calendars AS t
       SET yearly_holidays = ARRAY(SELECT DISTINCT h FROM unnest(t.yearly_holidays || (month * 100 + day)) AS h ORDER BY h)
     WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'yearly holiday added');
EXCEPTION WHEN datetime_field_overflow THEN
    RAISE EXCEPTION 'invalid yearly holiday %-% for calendar "%"', month, day, calendar
        USING ERRCODE = 'invalid_parameter_value';
END
$$;
COMMENT ON FUNCTION swarm.add_yearly_holiday(text, integer, integer) IS
    'adds a holiday that recurs every year on month/day (e.g. 12, 25); open due times are recomputed';

CREATE FUNCTION swarm.remove_yearly_holiday(calendar text, month integer, day integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.calendars := swarm.lock_calendar(calendar);
BEGIN
    IF NOT (swarm.require(month, 'month') * 100 + swarm.require(day, 'day')) = ANY (c.yearly_holidays) THEN
        RAISE EXCEPTION '%-% is not a yearly holiday of calendar "%"', month, day, c.name USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE swarm.calendars AS t SET yearly_holidays = array_remove(t.yearly_holidays, month * 100 + day)
     WHERE t.calendar_id = c.calendar_id;
    PERFORM swarm.calendar_updated(c, 'yearly holiday removed');
END
$$;
COMMENT ON FUNCTION swarm.remove_yearly_holiday(text, integer, integer) IS 'removes a yearly holiday; open due times are recomputed';

-- Priority, tier and pauses --------------------------------------------------------------

CREATE FUNCTION swarm.set_case_priority(case_id bigint, priority swarm.priority)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    PERFORM swarm.require_state('case', c.case_id, c.state, '{new,open,pending}'::swarm.case_state[], 'change the priority of');
    IF swarm.require(priority, 'priority') = c.priority THEN
        RETURN;
    END IF;
    UPDATE swarm.cases AS t SET priority = set_case_priority.priority WHERE t.case_id = c.case_id;
    PERFORM swarm.sla_refresh_case(c.case_id);
    PERFORM swarm.record_event('priority_changed', c.case_id, NULL, NULL,
        jsonb_build_object('from', c.priority, 'to', priority));
END
$$;
COMMENT ON FUNCTION swarm.set_case_priority(bigint, swarm.priority) IS
    'changes a case''s priority; the new targets apply to the working time already elapsed (pauses still excluded)';

CREATE FUNCTION swarm.set_request_priority(request_id bigint, priority swarm.priority)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
BEGIN
    PERFORM swarm.require_state('request', r.request_id, r.state, '{open,offered,accepted}'::swarm.request_state[],
                                'change the priority of');
    IF swarm.require(priority, 'priority') = r.priority THEN
        RETURN;
    END IF;
    UPDATE swarm.collab_requests AS t SET priority = set_request_priority.priority WHERE t.request_id = r.request_id;
    PERFORM swarm.sla_refresh_request(r.request_id);
    PERFORM swarm.record_event('priority_changed', r.case_id, r.request_id, NULL,
        jsonb_build_object('from', r.priority, 'to', priority));
END
$$;
COMMENT ON FUNCTION swarm.set_request_priority(bigint, swarm.priority) IS
    'changes a request''s priority; the new targets apply to the working time already elapsed';

CREATE FUNCTION swarm.set_customer_tier(case_id bigint, customer_tier text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    rid bigint;
BEGIN
    PERFORM swarm.require_state('case', c.case_id, c.state, '{new,open,pending}'::swarm.case_state[],
                                'change the customer tier of');
    IF customer_tier = '' THEN
        RAISE EXCEPTION 'customer_tier must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE swarm.cases AS t SET customer_tier = set_customer_tier.customer_tier WHERE t.case_id = c.case_id;
    PERFORM swarm.sla_refresh_case(c.case_id);
    FOR rid IN SELECT t.request_id FROM swarm.collab_requests AS t
                WHERE t.case_id = c.case_id AND t.state IN ('open', 'offered', 'accepted') ORDER BY t.request_id
    LOOP
        PERFORM swarm.sla_refresh_request(rid);
    END LOOP;
    PERFORM swarm.record_event('customer_tier_set', c.case_id, NULL, NULL,
        jsonb_build_object('from', c.customer_tier, 'to', customer_tier));
END
$$;
COMMENT ON FUNCTION swarm.set_customer_tier(bigint, text) IS
    'sets (or with NULL clears) a case''s customer tier; its and its requests'' due times are recomputed';

CREATE FUNCTION swarm.sla_refresh_case_and_requests(case_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rid bigint;
BEGIN
    PERFORM swarm.sla_refresh_case(case_id);
    FOR rid IN SELECT t.request_id FROM swarm.collab_requests AS t
                WHERE t.case_id = sla_refresh_case_and_requests.case_id AND t.state IN ('open', 'offered', 'accepted')
                ORDER BY t.request_id
    LOOP
        PERFORM swarm.sla_refresh_request(rid);
    END LOOP;
END
$$;
COMMENT ON FUNCTION swarm.sla_refresh_case_and_requests(bigint) IS
    'internal: recomputes the due times of a case and of its open requests';

CREATE FUNCTION swarm.sla_end_pause(case_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE swarm.sla_pauses AS p SET resumed_at = greatest(clock_timestamp(), p.paused_at)
     WHERE p.case_id = sla_end_pause.case_id AND p.resumed_at IS NULL;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION swarm.sla_end_pause(bigint) IS 'internal: ends a case''s open pause, if any; true when there was one';

CREATE FUNCTION swarm.pause_sla(case_id bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    IF c.state = 'pending' THEN
        RAISE EXCEPTION 'the SLA of case % is already paused', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM swarm.require_state('case', c.case_id, c.state, '{open}'::swarm.case_state[], 'pause the SLA of');
    -- real time, never before the last resume: pauses of a case never overlap
    INSERT INTO swarm.sla_pauses (case_id, paused_at, reason)
    SELECT c.case_id, greatest(clock_timestamp(), max(p.resumed_at) + interval '1 microsecond'), pause_sla.reason
      FROM swarm.sla_pauses AS p WHERE p.case_id = c.case_id;
    UPDATE swarm.cases AS t SET state = 'pending' WHERE t.case_id = c.case_id;
    PERFORM swarm.sla_refresh_case_and_requests(c.case_id);
    PERFORM swarm.record_event('sla_paused', c.case_id, NULL, c.owner_id, jsonb_build_object('reason', reason));
END
$$;
COMMENT ON FUNCTION swarm.pause_sla(bigint, text) IS
    'the case waits on the customer: it becomes pending and its SLA clocks (and its open requests'') stop';

CREATE FUNCTION swarm.resume_sla(case_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    IF c.state <> 'pending' THEN
        RAISE EXCEPTION 'cannot resume the SLA of case %: it is not paused', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The case is %s.', c.state);
    END IF;
    PERFORM swarm.sla_end_pause(c.case_id);
    UPDATE swarm.cases AS t SET state = 'open' WHERE t.case_id = c.case_id;
    PERFORM swarm.sla_refresh_case_and_requests(c.case_id);
    PERFORM swarm.record_event('sla_resumed', c.case_id, NULL, c.owner_id, '{}');
END
$$;
COMMENT ON FUNCTION swarm.resume_sla(bigint) IS 'the customer answered: the case is open again and its SLA clocks run on';

-- Checks ----------------------------------------------------------------------------------

CREATE FUNCTION swarm.sla_state(due timestamptz, risk_at timestamptz, met_at timestamptz, paused boolean, at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN met_at IS NOT NULL AND (due IS NULL OR met_at <= due) THEN 'met'
        WHEN met_at IS NOT NULL THEN 'met_late'
        WHEN paused THEN 'paused'
        WHEN at >= due THEN 'breached'
        WHEN at >= risk_at THEN 'at_risk'
        ELSE 'ok'
    END;
$$;
COMMENT ON FUNCTION swarm.sla_state(timestamptz, timestamptz, timestamptz, boolean, timestamptz) IS
    'internal: ok, at_risk, breached, met, met_late or paused, for one target at an instant';

CREATE FUNCTION swarm.sla_elapsed(case_id bigint, start timestamptz, stop timestamptz, calendar text)
RETURNS interval
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT swarm.business_time(start, stop, calendar)
           - coalesce((SELECT sum(swarm.business_time(greatest(p.paused_at, start),
                                                      least(coalesce(p.resumed_at, stop), stop), calendar))
                         FROM swarm.sla_pauses AS p
                        WHERE p.case_id = sla_elapsed.case_id
                          AND p.paused_at < stop AND coalesce(p.resumed_at, stop) > start), interval '0');
$$;
COMMENT ON FUNCTION swarm.sla_elapsed(bigint, timestamptz, timestamptz, text) IS
    'internal: working time from start to stop on the calendar, less the case''s pauses';

CREATE FUNCTION swarm.sla_status(case_id bigint)
RETURNS TABLE (target text, due_at timestamptz, state text, elapsed interval, remaining interval)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases;
    p swarm.sla_policies;
    cal text;
    stop timestamptz;
BEGIN
    SELECT * INTO c FROM swarm.cases AS t WHERE t.case_id = swarm.require(sla_status.case_id, 'case_id');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % does not exist', sla_status.case_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT * INTO p FROM swarm.sla_policies AS t WHERE t.policy_id = c.sla_policy_id;
    IF NOT FOUND THEN
        RETURN;                                 -- no policy applies: no targets
    END IF;
    SELECT name INTO cal FROM swarm.calendars WHERE calendar_id = p.calendar_id;

    -- a case resolved without a response stops the first-response clock too
    stop := coalesce(c.first_response_at, c.resolved_at, now());
    target := 'first_response';
    due_at := c.first_response_due;
    state := swarm.sla_state(c.first_response_due, c.first_response_risk_at, c.first_response_at, c.state = 'pending',
                             coalesce(c.resolved_at, now()));
    elapsed := swarm.sla_elapsed(c.case_id, c.opened_at, stop, cal);
    remaining := p.first_response - elapsed;
    RETURN NEXT;

    stop := coalesce(c.resolved_at, now());
    target := 'resolution';
    due_at := c.resolution_due;
    state := swarm.sla_state(c.resolution_due, c.resolution_risk_at, c.resolved_at, c.state = 'pending', now());
    elapsed := swarm.sla_elapsed(c.case_id, c.opened_at, stop, cal);
    remaining := p.resolution - elapsed;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION swarm.sla_status(bigint) IS
    'a case''s SLA targets (first_response, resolution): due time, state (ok, at_risk, breached, met, met_late, paused), working time elapsed and remaining';

CREATE FUNCTION swarm.request_sla_status(request_id bigint)
RETURNS TABLE (target text, due_at timestamptz, state text, elapsed interval, remaining interval)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    p swarm.sla_policies;
    cal text;
    paused boolean;
BEGIN
    SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = swarm.require(request_sla_status.request_id, 'request_id');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'request % does not exist', request_sla_status.request_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT * INTO p FROM swarm.sla_policies AS t WHERE t.policy_id = r.sla_policy_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT name INTO cal FROM swarm.calendars WHERE calendar_id = p.calendar_id;
    SELECT c.state = 'pending' INTO paused FROM swarm.cases AS c WHERE c.case_id = r.case_id;

    target := 'accept';
    due_at := r.accept_due;
    state := swarm.sla_state(r.accept_due, r.accept_risk_at, r.accepted_at,
                             paused AND r.state IN ('open', 'offered'), coalesce(r.cancelled_at, now()));
    elapsed := swarm.sla_elapsed(r.case_id, r.created_at, coalesce(r.accepted_at, r.cancelled_at, now()), cal);
    remaining := p.accept - elapsed;
    RETURN NEXT;

    target := 'resolution';
    due_at := r.resolution_due;
    state := swarm.sla_state(r.resolution_due, r.resolution_risk_at, r.resolved_at,
                             paused AND r.state IN ('open', 'offered', 'accepted'), coalesce(r.cancelled_at, now()));
    elapsed := swarm.sla_elapsed(r.case_id, r.created_at, coalesce(r.resolved_at, r.cancelled_at, now()), cal);
    remaining := p.request_resolution - elapsed;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION swarm.request_sla_status(bigint) IS
    'a request''s SLA targets (accept, resolution): due time, state, working time elapsed and remaining';

CREATE FUNCTION swarm.sla_due(before timestamptz DEFAULT now(), max integer DEFAULT 1000)
RETURNS TABLE (kind text, id bigint, case_id bigint, target text, due_at timestamptz, risk_at timestamptz, state text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL plans this with the values of before and max, so each branch
    -- is a range scan of its at-risk index (a SQL function with a pinned
    -- search_path is never inlined and would be planned blind).
    RETURN QUERY
    SELECT * FROM (
        (SELECT 'case'::text, c.case_id, c.case_id, 'first_response'::text, c.first_response_due, c.first_response_risk_at,
                CASE WHEN c.first_response_due <= before THEN 'breached' ELSE 'at_risk' END
           FROM swarm.cases AS c
          WHERE c.first_response_at IS NULL AND c.state IN ('new', 'open') AND c.first_response_risk_at <= before)
        UNION ALL
        (SELECT 'case', c.case_id, c.case_id, 'resolution', c.resolution_due, c.resolution_risk_at,
                CASE WHEN c.resolution_due <= before THEN 'breached' ELSE 'at_risk' END
           FROM swarm.cases AS c
          WHERE c.state IN ('new', 'open') AND c.resolution_risk_at <= before)
        UNION ALL
        (SELECT 'request', r.request_id, r.case_id, 'accept', r.accept_due, r.accept_risk_at,
                CASE WHEN r.accept_due <= before THEN 'breached' ELSE 'at_risk' END
           FROM swarm.collab_requests AS r
          WHERE r.state IN ('open', 'offered') AND r.accept_risk_at <= before)
        UNION ALL
        (SELECT 'request', r.request_id, r.case_id, 'resolution', r.resolution_due, r.resolution_risk_at,
                CASE WHEN r.resolution_due <= before THEN 'breached' ELSE 'at_risk' END
           FROM swarm.collab_requests AS r
          WHERE r.state IN ('open', 'offered', 'accepted') AND r.resolution_risk_at <= before)
    ) AS due (kind, id, case_id, target, due_at, risk_at, state)
    ORDER BY due.due_at, due.kind, due.id, due.target
    LIMIT sla_due.max;
END
$$;
COMMENT ON FUNCTION swarm.sla_due(timestamptz, integer) IS
    'open cases and requests at risk or breached by "before", most overdue first (from the at-risk indexes)';


-- ---------------------------------------------------------------------------
-- Metrics for analysts (docs/metrics.md): seven views over the last 30 days,
-- each also a function over any window, and the role swarm_analyst, which
-- may read them and nothing else.
--
-- Every figure is computed from the base tables when it is asked for, through
-- indexes on the instants that put a row in a window (opened_at, resolved_at,
-- created_at, accepted_at, the SLA due times, transfer events): a 30-day
-- window reads the rows of those 30 days, never the whole history.  Two facts
-- are kept on the rows, by triggers, because no index can answer them:
--   * cases.resolved_with_help: whether a resolved case had a helper (the
--     alternative is a lookup in collab_requests per resolved case);
--   * collab_requests.requested_group_id / requested_priority: the group and
--     priority a request was sent with, which escalation may change later
--     (widening moves it to another group, raise_priority to a higher one).
-- The window functions run as the extension's owner (SECURITY DEFINER), so
-- that swarm_analyst needs no privilege on the tables.
-- ---------------------------------------------------------------------------

-- Facts kept for the metrics ---------------------------------------------------------

CREATE FUNCTION swarm.metrics_case_helped(case_id bigint)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM swarm.collab_requests AS r
                    WHERE r.case_id = metrics_case_helped.case_id AND r.accepted_at IS NOT NULL);
$$;
COMMENT ON FUNCTION swarm.metrics_case_helped(bigint) IS
    'internal: true when one of the case''s requests was accepted (a helper joined), whatever became of it later';

ALTER TABLE swarm.cases ADD COLUMN resolved_with_help boolean;
COMMENT ON COLUMN swarm.cases.resolved_with_help IS
    'metrics: for a resolved (or closed) case, whether a helper joined it (a request was accepted); NULL while not resolved; kept by triggers';

ALTER TABLE swarm.collab_requests ADD COLUMN requested_group_id bigint, ADD COLUMN requested_priority swarm.priority;
COMMENT ON COLUMN swarm.collab_requests.requested_group_id IS
    'metrics: the group the request was sent to (group_id may change when an escalation widens it); set on insert';
COMMENT ON COLUMN swarm.collab_requests.requested_priority IS
    'metrics: the priority the request was created with (priority may be raised later); set on insert';

CREATE FUNCTION swarm.metrics_case_resolution() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- resolving (or moving the resolution, or reopening): whether a helper joined
    NEW.resolved_with_help := CASE WHEN NEW.resolved_at IS NOT NULL THEN swarm.metrics_case_helped(NEW.case_id) END;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION swarm.metrics_case_resolution() IS
    'trigger: sets cases.resolved_with_help when resolved_at is set or changed (NULL when it is cleared)';

CREATE TRIGGER cases_resolved_with_help BEFORE UPDATE OF resolved_at ON swarm.cases
    FOR EACH ROW WHEN (OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
    EXECUTE FUNCTION swarm.metrics_case_resolution();
-- rows inserted already resolved (bulk loads); a restore brings its own value
CREATE TRIGGER cases_resolved_with_help_insert BEFORE INSERT ON swarm.cases
    FOR EACH ROW WHEN (NEW.resolved_at IS NOT NULL AND NEW.resolved_with_help IS NULL)
    EXECUTE FUNCTION swarm.metrics_case_resolution();

CREATE FUNCTION swarm.metrics_request_help_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[] := '{}';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        ids := ids || NEW.case_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        ids := ids || OLD.case_id;
    END IF;
    -- Through the API a resolved case has no request left to accept, so this
    -- finds no row; it keeps the flag exact when the tables are changed directly.
    UPDATE swarm.cases AS c SET resolved_with_help = swarm.metrics_case_helped(c.case_id)
     WHERE c.case_id = ANY (ids) AND c.resolved_at IS NOT NULL
       AND c.resolved_with_help IS DISTINCT FROM swarm.metrics_case_helped(c.case_id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION swarm.metrics_request_help_changed() IS
    'trigger: a request gained or lost its acceptance, or moved: recomputes resolved_with_help of its resolved case(s)';

CREATE TRIGGER collab_requests_help_inserted AFTER INSERT ON swarm.collab_requests
    FOR EACH ROW WHEN (NEW.accepted_at IS NOT NULL)
    EXECUTE FUNCTION swarm.metrics_request_help_changed();
CREATE TRIGGER collab_requests_help_changed AFTER UPDATE OF accepted_at, case_id ON swarm.collab_requests
    FOR EACH ROW WHEN (OLD.accepted_at IS DISTINCT FROM NEW.accepted_at OR OLD.case_id IS DISTINCT FROM NEW.case_id)
    EXECUTE FUNCTION swarm.metrics_request_help_changed();
CREATE TRIGGER collab_requests_help_deleted AFTER DELETE ON swarm.collab_requests
    FOR EACH ROW WHEN (OLD.accepted_at IS NOT NULL)
    EXECUTE FUNCTION swarm.metrics_request_help_changed();

CREATE FUNCTION swarm.metrics_request_created() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a request never gains a group later (widening goes from a group to a
    -- wider one or to none), so a NULL group is kept as given
    NEW.requested_group_id := coalesce(NEW.requested_group_id, NEW.group_id);
    NEW.requested_priority := coalesce(NEW.requested_priority, NEW.priority);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION swarm.metrics_request_created() IS
    'trigger: records the group and priority a new request is sent with (values given in the INSERT are kept)';

CREATE TRIGGER collab_requests_requested BEFORE INSERT ON swarm.collab_requests
    FOR EACH ROW WHEN (NEW.requested_priority IS NULL OR NEW.requested_group_id IS NULL)
    EXECUTE FUNCTION swarm.metrics_request_created();

-- Indexes: the instant that puts a row in a window ---------------------------------
-- Those read for every row of a window carry the columns the metrics need
-- (INCLUDE), so a 30-day window is read from the index alone (index-only
-- scans; pages changed since the last vacuum are still read from the table).
-- The included columns change only together with columns that other indexes
-- already cover (state, the due times), so they cost no HOT update.

CREATE INDEX cases_opened_at_idx ON swarm.cases (opened_at);
CREATE INDEX cases_resolved_at_idx ON swarm.cases (resolved_at)
    INCLUDE (opened_at, owner_id, resolved_with_help, kb_ref, case_id) WHERE resolved_at IS NOT NULL;
CREATE INDEX cases_first_response_due_idx ON swarm.cases (first_response_due)
    INCLUDE (first_response_at, resolved_at, state, priority) WHERE first_response_due IS NOT NULL;
CREATE INDEX cases_resolution_due_idx ON swarm.cases (resolution_due)
    INCLUDE (resolved_at, state, priority) WHERE resolution_due IS NOT NULL;
CREATE INDEX collab_requests_created_at_idx ON swarm.collab_requests (created_at);
CREATE INDEX collab_requests_accepted_at_idx ON swarm.collab_requests (accepted_at)
    INCLUDE (created_at, helper_id, requester_id, group_id, case_id) WHERE accepted_at IS NOT NULL;
CREATE INDEX collab_requests_accept_due_idx ON swarm.collab_requests (accept_due)
    INCLUDE (accepted_at, cancelled_at, state, priority, case_id) WHERE accept_due IS NOT NULL;
CREATE INDEX collab_requests_resolution_due_idx ON swarm.collab_requests (resolution_due)
    INCLUDE (resolved_at, cancelled_at, state, priority, case_id) WHERE resolution_due IS NOT NULL;
-- changes of ownership: a small slice of the audit trail
CREATE INDEX events_ownership_idx ON swarm.events (kind, at) INCLUDE (agent_id, case_id)
    WHERE kind IN ('case_assigned', 'case_transferred');

-- Windows ------------------------------------------------------------------------------

CREATE FUNCTION swarm.metrics_window(OUT from_ts timestamptz, OUT to_ts timestamptz)
RETURNS record
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- midnight UTC 29 days ago (computed in UTC: no daylight-saving shift), until now
    SELECT ((date_trunc('day', now() AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC'), now();
$$;
COMMENT ON FUNCTION swarm.metrics_window() IS
    'the window of the metrics views: from midnight UTC 29 days ago (today and the 29 days before, in UTC) until now()';

CREATE FUNCTION swarm.metrics_check_window(from_ts timestamptz, to_ts timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN from_ts IS NULL THEN 'from_ts' ELSE 'to_ts' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give both ends of the window, e.g. now() - interval ''7 days'' and now().';
    END IF;
    IF NOT isfinite(from_ts) OR NOT isfinite(to_ts) THEN
        RAISE EXCEPTION 'the metrics window must be finite'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('from_ts is %s, to_ts is %s.', from_ts, to_ts);
    END IF;
    IF from_ts > to_ts THEN
        RAISE EXCEPTION 'the metrics window starts after it ends'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('from_ts %s is later than to_ts %s.', from_ts, to_ts),
                  HINT = 'The window is [from_ts, to_ts): swap the arguments.';
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.metrics_check_window(timestamptz, timestamptz) IS
    'internal: raises 22004 when an end of a metrics window is NULL, 22023 when it is infinite or starts after it ends';

-- SLA outcomes -------------------------------------------------------------------------
-- A target is in a window when its due time is.  Its outcome is the state
-- swarm.sla_status / swarm.request_sla_status report now: met (met_at <=
-- due), met late (met_at > due), or breached (not met, not paused, and the
-- clock -- now, or when the case was resolved / the request cancelled -- is
-- past due); a target in none of the three (not due yet, paused, stopped
-- before it was due) is left out.  Each scan aggregates on its own, so no
-- row goes further than its index scan.

CREATE FUNCTION swarm.metrics_sla_outcomes(from_ts timestamptz, to_ts timestamptz, by_day boolean)
RETURNS TABLE (day date, target text, priority swarm.priority, met bigint, met_late bigint, breached bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
SET TimeZone = 'UTC'        -- days are UTC days: x::date is the UTC date
AS $$
#variable_conflict use_column
BEGIN
    IF by_day THEN
        -- the case targets only, by UTC day of the due time (metrics_daily)
        RETURN QUERY
        SELECT c.first_response_due::date, 'first_response'::text, NULL::swarm.priority,
               count(*) FILTER (WHERE c.first_response_at <= c.first_response_due),
               count(*) FILTER (WHERE c.first_response_at > c.first_response_due),
               count(*) FILTER (WHERE c.first_response_at IS NULL AND c.state <> 'pending'
                                  AND coalesce(c.resolved_at, now()) >= c.first_response_due)
          FROM swarm.cases AS c
         WHERE c.first_response_due >= from_ts AND c.first_response_due < to_ts
         GROUP BY 1
        UNION ALL
        SELECT c.resolution_due::date, 'resolution', NULL,
               count(*) FILTER (WHERE c.resolved_at <= c.resolution_due),
               count(*) FILTER (WHERE c.resolved_at > c.resolution_due),
               count(*) FILTER (WHERE c.resolved_at IS NULL AND c.state <> 'pending' AND now() >= c.resolution_due)
          FROM swarm.cases AS c
         WHERE c.resolution_due >= from_ts AND c.resolution_due < to_ts
         GROUP BY 1;
        RETURN;
    END IF;
    -- every target, by priority (metrics_sla)
    RETURN QUERY
    SELECT NULL::date, 'first_response'::text, c.priority,
           count(*) FILTER (WHERE c.first_response_at <= c.first_response_due),
           count(*) FILTER (WHERE c.first_response_at > c.first_response_due),
           count(*) FILTER (WHERE c.first_response_at IS NULL AND c.state <> 'pending'
                              AND coalesce(c.resolved_at, now()) >= c.first_response_due)
      FROM swarm.cases AS c
     WHERE c.first_response_due >= from_ts AND c.first_response_due < to_ts
     GROUP BY c.priority
    UNION ALL
    SELECT NULL, 'resolution', c.priority,
           count(*) FILTER (WHERE c.resolved_at <= c.resolution_due),
           count(*) FILTER (WHERE c.resolved_at > c.resolution_due),
           count(*) FILTER (WHERE c.resolved_at IS NULL AND c.state <> 'pending' AND now() >= c.resolution_due)
      FROM swarm.cases AS c
     WHERE c.resolution_due >= from_ts AND c.resolution_due < to_ts
     GROUP BY c.priority
    UNION ALL
    SELECT NULL, 'accept', r.priority,
           count(*) FILTER (WHERE r.accepted_at <= r.accept_due),
           count(*) FILTER (WHERE r.accepted_at > r.accept_due),
           count(*) FILTER (WHERE r.accepted_at IS NULL AND coalesce(r.cancelled_at, now()) >= r.accept_due
                              AND NOT (r.state IN ('open', 'offered')
                                       AND EXISTS (SELECT 1 FROM swarm.cases AS c
                                                    WHERE c.case_id = r.case_id AND c.state = 'pending')))
      FROM swarm.collab_requests AS r
     WHERE r.accept_due >= from_ts AND r.accept_due < to_ts
     GROUP BY r.priority
    UNION ALL
    SELECT NULL, 'request_resolution', r.priority,
           count(*) FILTER (WHERE r.resolved_at <= r.resolution_due),
           count(*) FILTER (WHERE r.resolved_at > r.resolution_due),
           count(*) FILTER (WHERE r.resolved_at IS NULL AND coalesce(r.cancelled_at, now()) >= r.resolution_due
                              AND NOT (r.state IN ('open', 'offered', 'accepted')
                                       AND EXISTS (SELECT 1 FROM swarm.cases AS c
                                                    WHERE c.case_id = r.case_id AND c.state = 'pending')))
      FROM swarm.collab_requests AS r
     WHERE r.resolution_due >= from_ts AND r.resolution_due < to_ts
     GROUP BY r.priority;
END
$$;
COMMENT ON FUNCTION swarm.metrics_sla_outcomes(timestamptz, timestamptz, boolean) IS
    'internal: SLA targets due in [from_ts, to_ts): met, met late, breached, by target and priority, or (by_day) the case targets by UTC day of the due time';

-- The window functions -------------------------------------------------------------------

CREATE FUNCTION swarm.metrics_daily(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (day date, cases_opened bigint, cases_resolved bigint, cases_with_collaboration bigint,
               collaboration_rate double precision, median_time_to_resolve interval, p90_time_to_resolve interval,
               handoffs bigint, escalations bigint, sla_targets bigint, sla_met bigint,
               sla_attainment double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
SET TimeZone = 'UTC'        -- days are UTC days: x::date is the UTC date
AS $$
#variable_conflict use_column
DECLARE
    first_day date;
    last_day date;
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    IF from_ts = to_ts THEN
        RETURN;                                 -- an empty window has no day
    END IF;
    first_day := from_ts::date;
    last_day := (to_ts - interval '1 microsecond')::date;
    RETURN QUERY
    WITH days AS (
        SELECT first_day + i AS day FROM generate_series(0, last_day - first_day) AS i
    ), opened AS (
        SELECT c.opened_at::date AS day, count(*) AS n
          FROM swarm.cases AS c
         WHERE c.opened_at >= from_ts AND c.opened_at < to_ts
         GROUP BY 1
    ), resolved AS (
        SELECT c.resolved_at::date AS day, count(*) AS n,
               count(*) FILTER (WHERE coalesce(c.resolved_with_help, swarm.metrics_case_helped(c.case_id))) AS helped,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolved_at - c.opened_at) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY c.resolved_at - c.opened_at) AS p90
          FROM swarm.cases AS c
         WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts
         GROUP BY 1
    ), transfers AS (
        SELECT e.at::date AS day, count(*) AS n
          FROM swarm.events AS e
         WHERE e.kind = 'case_transferred' AND e.at >= from_ts AND e.at < to_ts
         GROUP BY 1
    ), escalated AS (
        SELECT x.escalated_at::date AS day, count(*) AS n
          FROM swarm.escalations AS x
         WHERE x.escalated_at >= from_ts AND x.escalated_at < to_ts
         GROUP BY 1
    ), sla AS (
        SELECT s.day, sum(s.met + s.met_late + s.breached)::bigint AS decided, sum(s.met)::bigint AS met
          FROM swarm.metrics_sla_outcomes(from_ts, to_ts, true) AS s
         GROUP BY 1
    )
    SELECT d.day, coalesce(o.n, 0), coalesce(r.n, 0), coalesce(r.helped, 0),
           r.helped::double precision / nullif(r.n, 0), r.p50, r.p90,
           coalesce(t.n, 0), coalesce(x.n, 0), coalesce(s.decided, 0), coalesce(s.met, 0),
           s.met::double precision / nullif(s.decided, 0)
      FROM days AS d
      LEFT JOIN opened AS o ON o.day = d.day
      LEFT JOIN resolved AS r ON r.day = d.day
      LEFT JOIN transfers AS t ON t.day = d.day
      LEFT JOIN escalated AS x ON x.day = d.day
      LEFT JOIN sla AS s ON s.day = d.day
     ORDER BY d.day;
END
$$;
COMMENT ON FUNCTION swarm.metrics_daily(timestamptz, timestamptz) IS
    'per UTC day of [from_ts, to_ts): cases opened, resolved, resolved with collaboration and its rate, median and p90 time to resolve, handoffs, escalations, case SLA targets due, met and attainment';

CREATE FUNCTION swarm.metrics_requests(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (group_id bigint, group_name text, priority swarm.priority, requests bigint, accepted bigint,
               median_time_to_accept interval, p90_time_to_accept interval,
               accept_sla_met_rate double precision, escalation_rate double precision,
               pushed bigint, pulled bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    WITH per_group AS (
        SELECT r.group_id, r.priority, count(*) AS n, count(r.accepted_at) AS accepted,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY r.accepted_at - r.created_at) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY r.accepted_at - r.created_at) AS p90,
               count(*) FILTER (WHERE r.accept_outcome = 'met') AS met, count(r.accept_outcome) AS decided,
               count(*) FILTER (WHERE r.escalation_level > 0) AS escalated,
               count(*) FILTER (WHERE r.mode = 'push') AS pushed, count(*) FILTER (WHERE r.mode = 'pull') AS pulled
          FROM (SELECT coalesce(t.requested_group_id, t.group_id) AS group_id,
                       coalesce(t.requested_priority, t.priority) AS priority,
                       t.created_at, t.accepted_at, t.escalation_level, t.mode,
                       CASE WHEN t.accept_due IS NULL THEN NULL
                            WHEN t.accepted_at <= t.accept_due THEN 'met'
                            WHEN t.accepted_at IS NOT NULL THEN 'met_late'
                            WHEN t.state IN ('open', 'offered')
                                 AND EXISTS (SELECT 1 FROM swarm.cases AS c WHERE c.case_id = t.case_id AND c.state = 'pending')
                                 THEN NULL
                            WHEN coalesce(t.cancelled_at, now()) >= t.accept_due THEN 'breached' END AS accept_outcome
                  FROM swarm.collab_requests AS t
                 WHERE t.created_at >= from_ts AND t.created_at < to_ts) AS r
         GROUP BY r.group_id, r.priority
    )
    SELECT p.group_id, g.name, p.priority, p.n, p.accepted, p.p50, p.p90,
           p.met::double precision / nullif(p.decided, 0), p.escalated::double precision / p.n, p.pushed, p.pulled
      FROM per_group AS p
      LEFT JOIN swarm.skill_groups AS g ON g.group_id = p.group_id
     ORDER BY g.name NULLS LAST, p.group_id, p.priority;
END
$$;
COMMENT ON FUNCTION swarm.metrics_requests(timestamptz, timestamptz) IS
    'requests created in [from_ts, to_ts) by the group and priority they were sent with: accepted, median and p90 time to accept, acceptance SLA met rate, escalation rate, pushed and pulled';

CREATE FUNCTION swarm.metrics_agents(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (agent_id bigint, name text, cases_owned bigint, cases_resolved bigint, resolved_without_help bigint,
               helps_given bigint, cases_swarmed bigint, median_time_to_accept interval, kb_articles bigint,
               contribution_score bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    WITH owned AS (
        -- became the owner: assigned, or a transfer to the agent
        -- (one scan per kind: the planner does not use the partial index for kind IN (...))
        SELECT t.agent_id, count(*) AS n
          FROM (SELECT e.agent_id FROM swarm.events AS e
                 WHERE e.kind = 'case_assigned' AND e.at >= from_ts AND e.at < to_ts
                UNION ALL
                SELECT e.agent_id FROM swarm.events AS e
                 WHERE e.kind = 'case_transferred' AND e.at >= from_ts AND e.at < to_ts) AS t
         GROUP BY 1
    ), resolved AS (
        SELECT c.owner_id AS agent_id, count(*) AS n,
               count(*) FILTER (WHERE NOT coalesce(c.resolved_with_help, swarm.metrics_case_helped(c.case_id))) AS solo,
               count(*) FILTER (WHERE c.kb_ref <> '') AS kb
          FROM swarm.cases AS c
         WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts
         GROUP BY 1
    ), helped AS (
        SELECT r.helper_id AS agent_id, count(*) AS n, count(DISTINCT r.case_id) AS cases,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY r.accepted_at - r.created_at) AS p50
          FROM swarm.collab_requests AS r
         WHERE r.accepted_at >= from_ts AND r.accepted_at < to_ts
         GROUP BY 1
    )
    SELECT a.agent_id, a.name, coalesce(o.n, 0), coalesce(s.n, 0), coalesce(s.solo, 0),
           coalesce(h.n, 0), coalesce(h.cases, 0), h.p50, coalesce(s.kb, 0),
           coalesce(s.n, 0) + 2 * coalesce(h.n, 0) + coalesce(s.kb, 0)
      FROM swarm.agents AS a
      LEFT JOIN owned AS o ON o.agent_id = a.agent_id
      LEFT JOIN resolved AS s ON s.agent_id = a.agent_id
      LEFT JOIN helped AS h ON h.agent_id = a.agent_id
     WHERE a.active OR o.agent_id IS NOT NULL OR s.agent_id IS NOT NULL OR h.agent_id IS NOT NULL
     ORDER BY 10 DESC, a.agent_id;
END
$$;
COMMENT ON FUNCTION swarm.metrics_agents(timestamptz, timestamptz) IS
    'per agent (active, or busy in [from_ts, to_ts)): cases owned, resolved, resolved without help, helps given, cases swarmed, median time to accept, knowledge articles, contribution score = resolved + 2 x helps + articles';

CREATE FUNCTION swarm.metrics_sla(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (target text, priority swarm.priority, met bigint, met_late bigint, breached bigint,
               attainment double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    WITH outcomes AS (
        SELECT o.target, o.priority, sum(o.met)::bigint AS met, sum(o.met_late)::bigint AS met_late,
               sum(o.breached)::bigint AS breached
          FROM swarm.metrics_sla_outcomes(from_ts, to_ts, false) AS o
         GROUP BY 1, 2
    )
    SELECT t.target, p.priority, coalesce(o.met, 0), coalesce(o.met_late, 0), coalesce(o.breached, 0),
           o.met::double precision / nullif(o.met + o.met_late + o.breached, 0)
      FROM (VALUES (1, 'first_response'), (2, 'resolution'), (3, 'accept'), (4, 'request_resolution')) AS t (ord, target)
     CROSS JOIN unnest(enum_range(NULL::swarm.priority)) AS p (priority)
      LEFT JOIN outcomes AS o ON o.target = t.target AND o.priority = p.priority
     ORDER BY t.ord, p.priority;
END
$$;
COMMENT ON FUNCTION swarm.metrics_sla(timestamptz, timestamptz) IS
    'SLA targets due in [from_ts, to_ts) by target (first_response, resolution, accept, request_resolution) and priority: met, met late, breached, attainment';

CREATE FUNCTION swarm.metrics_regions(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (group_scope text, requests_served bigint, same_region bigint, cross_region bigint,
               region_unknown bigint, same_region_rate double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    WITH served AS (
        SELECT coalesce(g.scope::text, 'none') AS scope, count(*) AS n,
               count(*) FILTER (WHERE ra.region = ha.region) AS same,
               count(*) FILTER (WHERE ra.region <> ha.region) AS across,
               count(*) FILTER (WHERE ra.region IS NULL OR ha.region IS NULL) AS unknown
          FROM swarm.collab_requests AS r
          JOIN swarm.agents AS ra ON ra.agent_id = r.requester_id
          LEFT JOIN swarm.agents AS ha ON ha.agent_id = r.helper_id
          LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.group_id
         WHERE r.accepted_at >= from_ts AND r.accepted_at < to_ts
         GROUP BY 1
    )
    SELECT k.scope, coalesce(s.n, 0), coalesce(s.same, 0), coalesce(s.across, 0), coalesce(s.unknown, 0),
           s.same::double precision / nullif(s.same + s.across, 0)
      FROM (VALUES (1, 'regional'), (2, 'global'), (3, 'none')) AS k (ord, scope)
      LEFT JOIN served AS s ON s.scope = k.scope
     ORDER BY k.ord;
END
$$;
COMMENT ON FUNCTION swarm.metrics_regions(timestamptz, timestamptz) IS
    'requests accepted in [from_ts, to_ts) by the scope of the group that served them (regional, global, none): helper in the requester''s region, in another, region unknown';

CREATE FUNCTION swarm.metrics_knowledge(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (cases_resolved bigint, cases_with_collaboration bigint, collaborated_with_kb bigint,
               collaborated_kb_rate double precision, cases_without_collaboration bigint, solo_with_kb bigint,
               solo_kb_rate double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    SELECT count(*), count(*) FILTER (WHERE k.helped), count(*) FILTER (WHERE k.helped AND k.kb),
           (count(*) FILTER (WHERE k.helped AND k.kb))::double precision / nullif(count(*) FILTER (WHERE k.helped), 0),
           count(*) FILTER (WHERE NOT k.helped), count(*) FILTER (WHERE NOT k.helped AND k.kb),
           (count(*) FILTER (WHERE NOT k.helped AND k.kb))::double precision
               / nullif(count(*) FILTER (WHERE NOT k.helped), 0)
      FROM (SELECT coalesce(c.resolved_with_help, swarm.metrics_case_helped(c.case_id)) AS helped,
                   coalesce(c.kb_ref <> '', false) AS kb
              FROM swarm.cases AS c
             WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts) AS k;
END
$$;
COMMENT ON FUNCTION swarm.metrics_knowledge(timestamptz, timestamptz) IS
    'cases resolved in [from_ts, to_ts), with and without collaboration, and how many of each captured a knowledge article (kb_ref)';

CREATE FUNCTION swarm.metrics_handoffs(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (reason text, transfers bigint, cases bigint, share double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
SET work_mem = '64MB'
SET max_parallel_workers_per_gather = 0
AS $$
#variable_conflict use_column
BEGIN
    PERFORM swarm.metrics_check_window(from_ts, to_ts);
    RETURN QUERY
    SELECT CASE WHEN grouping(t.reason) = 0 THEN t.reason END, count(*), count(DISTINCT t.case_id),
           -- the total row has the largest count of all: the share of every row is against it
           count(*)::double precision / nullif(max(count(*)) OVER (), 0)
      FROM (SELECT coalesce(e.detail ->> 'reason', '') AS reason, e.case_id
              FROM swarm.events AS e
             WHERE e.kind = 'case_transferred' AND e.at >= from_ts AND e.at < to_ts) AS t
     GROUP BY GROUPING SETS ((t.reason), ())
     ORDER BY grouping(t.reason), count(*) DESC, t.reason;
END
$$;
COMMENT ON FUNCTION swarm.metrics_handoffs(timestamptz, timestamptz) IS
    'case transfers in [from_ts, to_ts) by reason: transfers, cases and share of the transfers; the row with reason NULL is the total';

-- The views: the last 30 days -------------------------------------------------------------

CREATE VIEW swarm.metrics_daily AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_daily(w.from_ts, w.to_ts) AS m ORDER BY m.day;
COMMENT ON VIEW swarm.metrics_daily IS 'swarm.metrics_daily() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_requests AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_requests(w.from_ts, w.to_ts) AS m
 ORDER BY m.group_name NULLS LAST, m.group_id, m.priority;
COMMENT ON VIEW swarm.metrics_requests IS 'swarm.metrics_requests() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_agents AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_agents(w.from_ts, w.to_ts) AS m
 ORDER BY m.contribution_score DESC, m.agent_id;
COMMENT ON VIEW swarm.metrics_agents IS 'swarm.metrics_agents() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_sla AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_sla(w.from_ts, w.to_ts) AS m
 ORDER BY array_position(ARRAY['first_response', 'resolution', 'accept', 'request_resolution'], m.target), m.priority;
COMMENT ON VIEW swarm.metrics_sla IS 'swarm.metrics_sla() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_regions AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_regions(w.from_ts, w.to_ts) AS m
 ORDER BY array_position(ARRAY['regional', 'global', 'none'], m.group_scope);
COMMENT ON VIEW swarm.metrics_regions IS 'swarm.metrics_regions() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_knowledge AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_knowledge(w.from_ts, w.to_ts) AS m;
COMMENT ON VIEW swarm.metrics_knowledge IS 'swarm.metrics_knowledge() over swarm.metrics_window(): today and the 29 days before (UTC)';

CREATE VIEW swarm.metrics_handoffs AS
SELECT m.* FROM swarm.metrics_window() AS w, swarm.metrics_handoffs(w.from_ts, w.to_ts) AS m
 ORDER BY m.reason IS NULL, m.transfers DESC, m.reason;
COMMENT ON VIEW swarm.metrics_handoffs IS 'swarm.metrics_handoffs() over swarm.metrics_window(): today and the 29 days before (UTC)';

-- The analyst role ---------------------------------------------------------------------------
-- Roles belong to the cluster, not to a database or an extension: the first
-- CREATE EXTENSION swarm creates swarm_analyst, later ones (in any database)
-- find it and only grant.  DROP EXTENSION takes the views, the functions and
-- so the grants on them away, and leaves the role (other databases may use
-- it) and its USAGE on schema swarm, which DROP EXTENSION leaves too; see
-- docs/metrics.md for removing the role.

-- the window functions read every table as their owner: nobody but the
-- analysts (and the owner) may call them
REVOKE EXECUTE ON FUNCTION swarm.metrics_daily(timestamptz, timestamptz), swarm.metrics_requests(timestamptz, timestamptz),
    swarm.metrics_agents(timestamptz, timestamptz), swarm.metrics_sla(timestamptz, timestamptz),
    swarm.metrics_regions(timestamptz, timestamptz), swarm.metrics_knowledge(timestamptz, timestamptz),
    swarm.metrics_handoffs(timestamptz, timestamptz) FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'swarm_analyst') THEN
        BEGIN
            CREATE ROLE swarm_analyst NOLOGIN;
            COMMENT ON ROLE swarm_analyst IS
                'swarm: reads the swarm.metrics_* views and window functions, and no table (GRANT swarm_analyst TO a login role)';
        EXCEPTION WHEN duplicate_object THEN
            NULL;                               -- created meanwhile by CREATE EXTENSION in another database
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA swarm TO swarm_analyst;
GRANT SELECT ON swarm.metrics_daily, swarm.metrics_requests, swarm.metrics_agents, swarm.metrics_sla,
    swarm.metrics_regions, swarm.metrics_knowledge, swarm.metrics_handoffs TO swarm_analyst;
GRANT EXECUTE ON FUNCTION swarm.metrics_window(), swarm.metrics_daily(timestamptz, timestamptz),
    swarm.metrics_requests(timestamptz, timestamptz), swarm.metrics_agents(timestamptz, timestamptz),
    swarm.metrics_sla(timestamptz, timestamptz), swarm.metrics_regions(timestamptz, timestamptz),
    swarm.metrics_knowledge(timestamptz, timestamptz), swarm.metrics_handoffs(timestamptz, timestamptz)
    TO swarm_analyst;

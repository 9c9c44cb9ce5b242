-- bench/metrics/reference.sql: the seven metrics as an analyst would write
-- them against swarm's tables without what the metrics part adds: no
-- window indexes (the runner drops them while it times these), no
-- cases.resolved_with_help, no collab_requests.requested_group_id /
-- requested_priority.  Instead: whether a case had a helper is looked up in
-- collab_requests, the group and priority a request was sent with are read
-- from its help_requested event, SLA outcomes come from the SLA engine's own
-- swarm.sla_state(), escalations from swarm.escalations, ownership changes
-- and transfers from the events by kind.  Same definitions as
-- docs/metrics.md, so the results must be identical.
--
-- Plain SQL functions without SET clauses: called with constants, PostgreSQL
-- inlines them, so each is planned like the query typed in by hand.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA bench_ref;

-- the group and priority a request was sent with, from the audit trail
CREATE FUNCTION bench_ref.requested(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (request_id bigint, group_id bigint, priority swarm.priority)
LANGUAGE sql STABLE AS $$
    SELECT e.request_id, g.group_id, (e.detail ->> 'priority')::swarm.priority
      FROM swarm.events AS e
      LEFT JOIN swarm.skill_groups AS g ON g.name = e.detail ->> 'group'
     WHERE e.kind = 'help_requested' AND e.at >= from_ts AND e.at < to_ts
$$;

CREATE FUNCTION bench_ref.metrics_daily(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (day date, cases_opened bigint, cases_resolved bigint, cases_with_collaboration bigint,
               collaboration_rate double precision, median_time_to_resolve interval, p90_time_to_resolve interval,
               handoffs bigint, escalations bigint, sla_targets bigint, sla_met bigint, sla_attainment double precision)
LANGUAGE sql STABLE AS $$
    WITH days AS (
        SELECT (from_ts AT TIME ZONE 'UTC')::date + i AS day
          FROM generate_series(0, ((to_ts AT TIME ZONE 'UTC') - interval '1 microsecond')::date
                                  - (from_ts AT TIME ZONE 'UTC')::date) AS i
         WHERE from_ts < to_ts
    ), opened AS (
        SELECT (opened_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM swarm.cases
         WHERE opened_at >= from_ts AND opened_at < to_ts GROUP BY 1
    ), resolved AS (
        SELECT (c.resolved_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM swarm.collab_requests AS r
                                               WHERE r.case_id = c.case_id AND r.accepted_at IS NOT NULL)) AS helped,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolved_at - c.opened_at) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY c.resolved_at - c.opened_at) AS p90
          FROM swarm.cases AS c WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts GROUP BY 1
    ), transfers AS (
        SELECT (at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM swarm.events
         WHERE kind = 'case_transferred' AND at >= from_ts AND at < to_ts GROUP BY 1
    ), escalated AS (
        SELECT (escalated_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM swarm.escalations
         WHERE escalated_at >= from_ts AND escalated_at < to_ts GROUP BY 1
    ), targets AS (
        SELECT c.first_response_due AS due,
               swarm.sla_state(c.first_response_due, c.first_response_risk_at, c.first_response_at,
                               c.state = 'pending', coalesce(c.resolved_at, now())) AS state
          FROM swarm.cases AS c
        UNION ALL
        SELECT c.resolution_due, swarm.sla_state(c.resolution_due, c.resolution_risk_at, c.resolved_at,
                                                 c.state = 'pending', now())
          FROM swarm.cases AS c
    ), sla AS (
        SELECT (due AT TIME ZONE 'UTC')::date AS day,
               count(*) FILTER (WHERE state IN ('met', 'met_late', 'breached')) AS decided,
               count(*) FILTER (WHERE state = 'met') AS met
          FROM targets WHERE due >= from_ts AND due < to_ts GROUP BY 1
    )
    SELECT d.day, coalesce(o.n, 0), coalesce(r.n, 0), coalesce(r.helped, 0),
           r.helped::double precision / nullif(r.n, 0), r.p50, r.p90, coalesce(t.n, 0), coalesce(x.n, 0),
           coalesce(s.decided, 0), coalesce(s.met, 0), s.met::double precision / nullif(s.decided, 0)
      FROM days AS d
      LEFT JOIN opened AS o USING (day) LEFT JOIN resolved AS r USING (day) LEFT JOIN transfers AS t USING (day)
      LEFT JOIN escalated AS x USING (day) LEFT JOIN sla AS s USING (day)
     ORDER BY d.day
$$;

CREATE FUNCTION bench_ref.metrics_requests(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (group_id bigint, group_name text, priority swarm.priority, requests bigint, accepted bigint,
               median_time_to_accept interval, p90_time_to_accept interval,
               accept_sla_met_rate double precision, escalation_rate double precision, pushed bigint, pulled bigint)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT q.group_id, q.priority, t.created_at, t.accepted_at, t.mode,
               EXISTS (SELECT 1 FROM swarm.escalations AS x WHERE x.request_id = t.request_id) AS escalated,
               CASE WHEN t.accept_due IS NOT NULL THEN
                    swarm.sla_state(t.accept_due, t.accept_risk_at, t.accepted_at,
                                    t.state IN ('open', 'offered')
                                    AND EXISTS (SELECT 1 FROM swarm.cases AS c
                                                 WHERE c.case_id = t.case_id AND c.state = 'pending'),
                                    coalesce(t.cancelled_at, now())) END AS accept_state
          FROM swarm.collab_requests AS t
          JOIN bench_ref.requested(from_ts, to_ts) AS q ON q.request_id = t.request_id
         WHERE t.created_at >= from_ts AND t.created_at < to_ts
    )
    SELECT r.group_id, g.name, r.priority, count(*), count(r.accepted_at),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.accepted_at - r.created_at),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY r.accepted_at - r.created_at),
           count(*) FILTER (WHERE r.accept_state = 'met')::double precision
               / nullif(count(*) FILTER (WHERE r.accept_state IN ('met', 'met_late', 'breached')), 0),
           count(*) FILTER (WHERE r.escalated)::double precision / count(*),
           count(*) FILTER (WHERE r.mode = 'push'), count(*) FILTER (WHERE r.mode = 'pull')
      FROM r LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.group_id
     GROUP BY r.group_id, g.name, r.priority
     ORDER BY g.name NULLS LAST, r.group_id, r.priority
$$;

CREATE FUNCTION bench_ref.metrics_agents(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (agent_id bigint, name text, cases_owned bigint, cases_resolved bigint, resolved_without_help bigint,
               helps_given bigint, cases_swarmed bigint, median_time_to_accept interval, kb_articles bigint,
               contribution_score bigint)
LANGUAGE sql STABLE AS $$
    WITH owned AS (
        SELECT agent_id, count(*) AS n FROM swarm.events
         WHERE kind IN ('case_assigned', 'case_transferred') AND at >= from_ts AND at < to_ts GROUP BY 1
    ), resolved AS (
        SELECT c.owner_id AS agent_id, count(*) AS n,
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS r
                                                   WHERE r.case_id = c.case_id AND r.accepted_at IS NOT NULL)) AS solo,
               count(*) FILTER (WHERE c.kb_ref <> '') AS kb
          FROM swarm.cases AS c WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts GROUP BY 1
    ), helped AS (
        SELECT helper_id AS agent_id, count(*) AS n, count(DISTINCT case_id) AS cases,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY accepted_at - created_at) AS p50
          FROM swarm.collab_requests WHERE accepted_at >= from_ts AND accepted_at < to_ts GROUP BY 1
    )
    SELECT a.agent_id, a.name, coalesce(o.n, 0), coalesce(s.n, 0), coalesce(s.solo, 0), coalesce(h.n, 0),
           coalesce(h.cases, 0), h.p50, coalesce(s.kb, 0), coalesce(s.n, 0) + 2 * coalesce(h.n, 0) + coalesce(s.kb, 0)
      FROM swarm.agents AS a
      LEFT JOIN owned AS o ON o.agent_id = a.agent_id
      LEFT JOIN resolved AS s ON s.agent_id = a.agent_id
      LEFT JOIN helped AS h ON h.agent_id = a.agent_id
     WHERE a.active OR o.n IS NOT NULL OR s.n IS NOT NULL OR h.n IS NOT NULL
     ORDER BY 10 DESC, a.agent_id
$$;

CREATE FUNCTION bench_ref.metrics_sla(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (target text, priority swarm.priority, met bigint, met_late bigint, breached bigint,
               attainment double precision)
LANGUAGE sql STABLE AS $$
    WITH targets AS (
        SELECT 'first_response' AS target, c.priority, c.first_response_due AS due,
               swarm.sla_state(c.first_response_due, c.first_response_risk_at, c.first_response_at,
                               c.state = 'pending', coalesce(c.resolved_at, now())) AS state
          FROM swarm.cases AS c
        UNION ALL
        SELECT 'resolution', c.priority, c.resolution_due,
               swarm.sla_state(c.resolution_due, c.resolution_risk_at, c.resolved_at, c.state = 'pending', now())
          FROM swarm.cases AS c
        UNION ALL
        SELECT 'accept', r.priority, r.accept_due,
               swarm.sla_state(r.accept_due, r.accept_risk_at, r.accepted_at,
                               r.state IN ('open', 'offered') AND c.state = 'pending', coalesce(r.cancelled_at, now()))
          FROM swarm.collab_requests AS r JOIN swarm.cases AS c ON c.case_id = r.case_id
        UNION ALL
        SELECT 'request_resolution', r.priority, r.resolution_due,
               swarm.sla_state(r.resolution_due, r.resolution_risk_at, r.resolved_at,
                               r.state IN ('open', 'offered', 'accepted') AND c.state = 'pending',
                               coalesce(r.cancelled_at, now()))
          FROM swarm.collab_requests AS r JOIN swarm.cases AS c ON c.case_id = r.case_id
    ), counted AS (
        SELECT target, priority, count(*) FILTER (WHERE state = 'met') AS met,
               count(*) FILTER (WHERE state = 'met_late') AS met_late,
               count(*) FILTER (WHERE state = 'breached') AS breached
          FROM targets WHERE due >= from_ts AND due < to_ts GROUP BY 1, 2
    )
    SELECT t.target, p.priority, coalesce(c.met, 0), coalesce(c.met_late, 0), coalesce(c.breached, 0),
           c.met::double precision / nullif(c.met + c.met_late + c.breached, 0)
      FROM (VALUES (1, 'first_response'), (2, 'resolution'), (3, 'accept'), (4, 'request_resolution')) AS t (ord, target)
     CROSS JOIN unnest(enum_range(NULL::swarm.priority)) AS p (priority)
      LEFT JOIN counted AS c ON c.target = t.target AND c.priority = p.priority
     ORDER BY t.ord, p.priority
$$;

CREATE FUNCTION bench_ref.metrics_regions(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (group_scope text, requests_served bigint, same_region bigint, cross_region bigint,
               region_unknown bigint, same_region_rate double precision)
LANGUAGE sql STABLE AS $$
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
     ORDER BY k.ord
$$;

CREATE FUNCTION bench_ref.metrics_knowledge(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (cases_resolved bigint, cases_with_collaboration bigint, collaborated_with_kb bigint,
               collaborated_kb_rate double precision, cases_without_collaboration bigint, solo_with_kb bigint,
               solo_kb_rate double precision)
LANGUAGE sql STABLE AS $$
    WITH k AS (
        SELECT EXISTS (SELECT 1 FROM swarm.collab_requests AS r
                        WHERE r.case_id = c.case_id AND r.accepted_at IS NOT NULL) AS helped,
               coalesce(c.kb_ref <> '', false) AS kb
          FROM swarm.cases AS c WHERE c.resolved_at >= from_ts AND c.resolved_at < to_ts
    )
    SELECT count(*), count(*) FILTER (WHERE helped), count(*) FILTER (WHERE helped AND kb),
           (count(*) FILTER (WHERE helped AND kb))::double precision / nullif(count(*) FILTER (WHERE helped), 0),
           count(*) FILTER (WHERE NOT helped), count(*) FILTER (WHERE NOT helped AND kb),
           (count(*) FILTER (WHERE NOT helped AND kb))::double precision / nullif(count(*) FILTER (WHERE NOT helped), 0)
      FROM k
$$;

CREATE FUNCTION bench_ref.metrics_handoffs(from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (reason text, transfers bigint, cases bigint, share double precision)
LANGUAGE sql STABLE AS $$
    WITH t AS (
        SELECT coalesce(detail ->> 'reason', '') AS reason, case_id FROM swarm.events
         WHERE kind = 'case_transferred' AND at >= from_ts AND at < to_ts
    ), by_reason AS (
        SELECT reason, count(*) AS transfers, count(DISTINCT case_id) AS cases FROM t GROUP BY 1
    ), total AS (
        SELECT count(*) AS transfers, count(DISTINCT case_id) AS cases FROM t
    )
    SELECT b.reason, b.transfers, b.cases, b.transfers::double precision / nullif(x.transfers, 0)
      FROM by_reason AS b, total AS x
    UNION ALL
    SELECT NULL, x.transfers, x.cases, x.transfers::double precision / nullif(x.transfers, 0) FROM total AS x
$$;

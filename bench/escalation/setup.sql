-- bench/escalation/setup.sql: agents, groups, SLA policies and the helper
-- functions of the escalation benchmark.  Run once by bench/escalation/run.sh
-- in the database the escalation worker uses ('postgres'), right after
-- CREATE EXTENSION swarm.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE SCHEMA bench;
CREATE SEQUENCE bench.case_refs;

-- Seeded through the API: 200 agents, 5 global groups that share a skill (so
-- that the 'widen' action of level 2 has somewhere to go), 2 leads per group.
SELECT swarm.add_agent(format('esc-agent-%s', i), format('Agent %s', i), 'postgres:4, linux:3, networking:3'::swarm.skillset)
  FROM generate_series(1, 200) AS i \g /dev/null
SELECT swarm.update_agent(agent_id, capacity => 1000000000, help_capacity => 1000000)
  FROM swarm.agents WHERE external_ref LIKE 'esc-agent-%' \g /dev/null
SELECT swarm.add_group(format('esc-group-%s', g), format('postgres:3, skill%s:2', g)::swarm.skillset, 'global')
  FROM generate_series(1, 5) AS g \g /dev/null
SELECT swarm.add_group_member(format('esc-group-%s', 1 + i % 5), a.agent_id, lead => i <= 10)
  FROM (SELECT agent_id, row_number() OVER (ORDER BY agent_id) AS i FROM swarm.agents
         WHERE external_ref LIKE 'esc-agent-%') AS a \g /dev/null

-- SLA policies (24x7 calendar).  The default ladder fires level 1 at 75 % of
-- the acceptance target, level 2 at 100 %, level 3 at 150 %.
--   P4: accept 30 days  -> the bulk of the open requests, level 1 due 22.5 days after creation
--   P3: accept 4 hours  -> the requests made due by the bench: level 1 at 3 h, level 2 at 4 h
--   P2: accept 4 seconds -> the trickle made through the API (soak, latch): levels at 3, 4 and 6 s;
--                          level 3 raises the request to P1, which has no policy: no more levels
SELECT swarm.set_sla_policy('P4', '2 days', '60 days', '30 days', '60 days') \g /dev/null
SELECT swarm.set_sla_policy('P3', '1 hour', '1 day', '4 hours', '8 hours') \g /dev/null
SELECT swarm.set_sla_policy('P2', '1 hour', '1 day', '4 seconds', '1 hour') \g /dev/null

-- bench.add_requests: n new open cases (owned by a seeded agent) with one open
-- request each, inserted in bulk.  Due times are computed with plain interval
-- arithmetic, which is what the SLA engine gives on the 24x7 calendar without
-- pauses (bench.check_consistent verifies it against swarm.sla_refresh_request).
-- Priority P4: created in the last 12 hours, next escalation (level 1) 22.5
-- days after creation.  Any other priority: next_escalation_at stays NULL
-- until bench.make_due sets it.  Returns the range of request ids.
CREATE FUNCTION bench.add_requests(n integer, prio swarm.priority, OUT lo bigint, OUT hi bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p swarm.sla_policies;
    c0 bigint;
    r0 bigint;
    a0 bigint;
    g0 bigint;
BEGIN
    SELECT * INTO STRICT p FROM swarm.sla_policies AS t WHERE t.priority = prio AND t.group_id IS NULL AND t.customer_tier IS NULL;
    SELECT min(agent_id) INTO a0 FROM swarm.agents WHERE external_ref LIKE 'esc-agent-%';
    SELECT min(group_id) INTO g0 FROM swarm.skill_groups WHERE name LIKE 'esc-group-%';
    LOCK swarm.cases, swarm.collab_requests IN SHARE ROW EXCLUSIVE MODE;
    SELECT coalesce(max(case_id), 0) INTO c0 FROM swarm.cases;
    SELECT coalesce(max(request_id), 0) INTO r0 FROM swarm.collab_requests;

    CREATE TEMP TABLE IF NOT EXISTS seed (i integer PRIMARY KEY, created timestamptz NOT NULL) ON COMMIT DROP;
    TRUNCATE seed;
    INSERT INTO seed SELECT i, now() - random() * interval '12 hours' FROM generate_series(1, n) AS i;

    INSERT INTO swarm.cases (case_id, external_ref, subject, priority, needed, owner_id, state, opened_at,
                             sla_policy_id, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at)
    SELECT c0 + i, 'esc-case-' || (c0 + i), 'escalation bench', prio, 'postgres:3', a0 + i % 200, 'open',
           now() - interval '1 day', p.policy_id,
           now() - interval '1 day' + p.first_response, now() - interval '1 day' + p.first_response * p.at_risk_fraction,
           now() - interval '1 day' + p.resolution, now() - interval '1 day' + p.resolution * p.at_risk_fraction
      FROM seed;
    INSERT INTO swarm.participants (case_id, agent_id, role, joined_at)
    SELECT c0 + i, a0 + i % 200, 'owner', now() - interval '1 day' FROM seed;
    INSERT INTO swarm.collab_requests (request_id, case_id, requester_id, group_id, needed, priority, mode, state,
                                       created_at, sla_policy_id, accept_due, accept_risk_at, resolution_due,
                                       resolution_risk_at, next_escalation_at, next_escalation_level)
    SELECT r0 + i, c0 + i, a0 + i % 200, g0 + i % 5, g.skills, prio, 'pull', 'open',
           created, p.policy_id, created + p.accept, created + p.accept * p.at_risk_fraction,
           created + p.request_resolution, created + p.request_resolution * p.at_risk_fraction,
           CASE WHEN prio = 'P4' THEN created + p.accept * 0.75 END, CASE WHEN prio = 'P4' THEN 1 END
      FROM seed JOIN swarm.skill_groups AS g ON g.group_id = g0 + i % 5;
    PERFORM setval('swarm.cases_case_id_seq', c0 + n);
    PERFORM setval('swarm.collab_requests_request_id_seq', r0 + n);
    UPDATE swarm.agents AS a SET open_cases = (SELECT count(*) FROM swarm.cases AS c
                                                 WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))
     WHERE a.external_ref LIKE 'esc-agent-%';
    lo := r0 + 1;
    hi := r0 + n;
END
$$;

-- bench.make_due: the requests lo..hi (P3, accept 4 hours) become due for
-- level 1 at start + random() * spread (spread 0: all at the same instant),
-- with created_at and the SLA times moved to match (level 1 = 75 % of
-- accept = created_at + 3 hours).  Like the API, it tells the worker at
-- commit (swarm.wake_escalator) unless wake is false.  Returns the earliest due time.
CREATE FUNCTION bench.make_due(lo bigint, hi bigint, start timestamptz, spread interval, wake boolean DEFAULT true)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    first timestamptz;
BEGIN
    UPDATE swarm.collab_requests AS r
       SET created_at = d.due - p.accept * 0.75, accept_due = d.due - p.accept * 0.75 + p.accept,
           accept_risk_at = d.due - p.accept * 0.75 + p.accept * p.at_risk_fraction,
           resolution_due = d.due - p.accept * 0.75 + p.request_resolution,
           resolution_risk_at = d.due - p.accept * 0.75 + p.request_resolution * p.at_risk_fraction,
           next_escalation_at = d.due, next_escalation_level = 1
      FROM (SELECT request_id, start + random() * spread AS due FROM swarm.collab_requests
             WHERE request_id BETWEEN lo AND hi) AS d, swarm.sla_policies AS p
     WHERE r.request_id = d.request_id AND p.policy_id = r.sla_policy_id;
    SELECT min(next_escalation_at) INTO first FROM swarm.collab_requests WHERE request_id BETWEEN lo AND hi;
    IF wake THEN
        PERFORM swarm.wake_escalator(first);
    END IF;
    RETURN first;
END
$$;

-- bench.check_consistent: recompute a sample of the seeded requests through
-- the API (swarm.sla_refresh_request, which also schedules the next
-- escalation) and count the rows where anything differs; rolled back.
CREATE FUNCTION bench.check_consistent(lo bigint, hi bigint, sample integer)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    CREATE TEMP TABLE before_check ON COMMIT DROP AS
    SELECT * FROM swarm.collab_requests WHERE request_id BETWEEN lo AND hi ORDER BY random() LIMIT sample;
    PERFORM swarm.sla_refresh_request(request_id) FROM before_check;
    SELECT count(*) INTO bad FROM before_check AS b JOIN swarm.collab_requests AS r USING (request_id)
     WHERE (b.sla_policy_id, b.accept_due, b.accept_risk_at, b.resolution_due, b.resolution_risk_at,
            b.next_escalation_at, b.next_escalation_level)
           IS DISTINCT FROM
           (r.sla_policy_id, r.accept_due, r.accept_risk_at, r.resolution_due, r.resolution_risk_at,
            r.next_escalation_at, r.next_escalation_level);
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench-check:' || bad;   -- roll back the refresh
EXCEPTION WHEN SQLSTATE 'P0001' THEN
    RETURN bad;
END
$$;

-- bench.lag: lag (escalated_at - due_at, in ms) of the escalations of
-- requests lo..hi at the given levels (NULL: all).
CREATE FUNCTION bench.lag(lo bigint, hi bigint, levels integer[] DEFAULT NULL,
                          OUT n bigint, OUT p50_ms numeric, OUT p99_ms numeric, OUT max_ms numeric, OUT min_ms numeric)
LANGUAGE sql AS $$
    SELECT count(*),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(max(ms)::numeric, 1), round(min(ms)::numeric, 1)
      FROM (SELECT extract(epoch FROM escalated_at - due_at) * 1000 AS ms FROM swarm.escalations
             WHERE request_id BETWEEN lo AND hi AND (levels IS NULL OR level = ANY (levels))) AS e;
$$;

-- Escalations of requests lo..hi at level 1.
CREATE FUNCTION bench.escalated(lo bigint, hi bigint) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM swarm.escalations WHERE request_id BETWEEN lo AND hi AND level = 1;
$$;

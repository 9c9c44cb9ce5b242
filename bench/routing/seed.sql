-- bench/routing/seed.sql: the routing benchmark's data, seeded with bulk
-- INSERTs straight into swarm's tables (the API would take minutes for
-- 10,000 agents and 50,000 cases), keeping every counter consistent:
-- agents.open_cases = the open/pending cases each agent owns, agents.open_helps
-- = the accepted requests each agent helps on; every owner and helper is a
-- participant.  Deterministic (setseed).  Run by bench/routing/run.sh on a fresh
-- database with the swarm extension created.
--
--   10,000 agents, 15 skills each out of 300 (s001..s300, levels 1..5),
--          4 regions + 5% without, 70% online / 12% away / 18% offline,
--          capacity 6..12, help_capacity 2..5; agents 9801..10000 inactive
--   20 groups: 16 regional (4 per region) + 4 global, 3 skills each; members =
--          agents with at least one of the group's skills (in the group's
--          region for regional groups); routing: 16 skills, 2 least_loaded,
--          2 round_robin
--   50,000 open cases (95% open, 5% pending), all owned, 2..4 needed skills
--          (one of them the owner's), 15,000 customers (continuity), 10% no region
--   ~25,000 experience rows (20% of the agents' skills, 0.5..10 credits,
--          earned over the last 120 days)
--   3,000 accepted requests (helpers are excluded from suggest_helpers)
--   2,000 open/offered push requests to route (60% to a group, 40% by skills,
--          10% with a preferred helper, 10% offered), ~1,000 declines on them
--   the pull queue for grab_request: ~142,000 open pull requests needing 1..2 skills
--          (enough that a 15 s bare dequeue run at 6,000/s never empties it)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT setseed(0.4242);

CREATE SCHEMA IF NOT EXISTS bench;

-- Agents ----------------------------------------------------------------------------
CREATE TABLE bench.agent_gen AS
WITH g AS MATERIALIZED (
    SELECT i, random() AS r_region, random() AS r_presence, random() AS r_cap, random() AS r_help,
           random() AS r_reg2
      FROM generate_series(1, 10000) AS i
)
SELECT i AS agent_id,
       CASE WHEN r_reg2 < 0.05 THEN NULL
            ELSE (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + floor(r_region * 4)::int] END AS region,
       6 + floor(r_cap * 7)::int AS capacity,
       2 + floor(r_help * 4)::int AS help_capacity,
       (CASE WHEN r_presence < 0.70 THEN 'online' WHEN r_presence < 0.82 THEN 'away' ELSE 'offline' END)::swarm.presence AS presence,
       i <= 9800 AS active
  FROM g;

-- 15 distinct skills of 300 per agent, levels 1..5
CREATE TABLE bench.agent_skill_gen AS
SELECT a.agent_id, format('s%s', lpad(x.s::text, 3, '0')) AS skill, 1 + floor(random() * 5)::int AS level
  FROM bench.agent_gen AS a
 CROSS JOIN LATERAL (SELECT s FROM generate_series(1, 300) AS s ORDER BY random() + 0 * a.agent_id LIMIT 15) AS x;

CREATE INDEX ON bench.agent_skill_gen (agent_id);
ANALYZE bench.agent_gen, bench.agent_skill_gen;
INSERT INTO swarm.agents (agent_id, external_ref, name, skills, region, capacity, help_capacity, presence, active)
SELECT a.agent_id, 'agent-' || a.agent_id, 'Agent ' || a.agent_id, s.skills::swarm.skillset,
       a.region, a.capacity, a.help_capacity, a.presence, a.active
  FROM bench.agent_gen AS a
  JOIN (SELECT agent_id, string_agg(skill || ':' || level, ', ') AS skills
          FROM bench.agent_skill_gen GROUP BY agent_id) AS s ON s.agent_id = a.agent_id
 ORDER BY a.agent_id;
SELECT setval('swarm.agents_agent_id_seq', 10000);

-- Groups ----------------------------------------------------------------------------
INSERT INTO swarm.skill_groups (group_id, name, skills, scope, region, routing, rr_cursor)
SELECT i, 'group-' || i,
       (SELECT string_agg(format('s%s:%s', lpad(s::text, 3, '0'), 2 + floor(random() * 3)::int), ', ')
          FROM (SELECT s FROM generate_series(1, 300) AS s ORDER BY random() + 0 * i LIMIT 3) AS x)::swarm.skillset,
       (CASE WHEN i <= 16 THEN 'regional' ELSE 'global' END)::swarm.group_scope,
       CASE WHEN i <= 16 THEN (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + (i - 1) % 4] END,
       (CASE WHEN i IN (5, 18) THEN 'least_loaded' WHEN i IN (9, 19) THEN 'round_robin' ELSE 'skills' END)::swarm.routing_method,
       CASE WHEN i IN (9, 19) THEN 1 + floor(random() * 10000)::bigint ELSE 0 END
  FROM generate_series(1, 20) AS i;
SELECT setval('swarm.skill_groups_group_id_seq', 20);

INSERT INTO swarm.group_members (group_id, agent_id, lead)
SELECT g.group_id, a.agent_id, false
  FROM swarm.skill_groups AS g
  JOIN swarm.agents AS a ON a.skills OPERATOR(swarm.&&) g.skills
 WHERE g.scope = 'global' OR a.region = g.region;

-- Cases -----------------------------------------------------------------------------
-- Owners: 50,000 of the agents' capacity slots, drawn at random, so that no
-- agent owns more than its capacity and some are exactly at capacity.
CREATE TABLE bench.case_gen AS
WITH slots AS MATERIALIZED (
    SELECT a.agent_id, random() AS r FROM bench.agent_gen AS a, generate_series(1, a.capacity) AS k
), picked AS MATERIALIZED (
    SELECT agent_id, row_number() OVER (ORDER BY r) AS case_id FROM slots ORDER BY r LIMIT 50000
), g AS MATERIALIZED (
    SELECT p.case_id, p.agent_id AS owner_id, random() AS r_state, random() AS r_reg, random() AS r_reg2,
           random() AS r_prio, random() AS r_cust, random() AS r_n, random() AS r_age,
           (SELECT s.skill FROM bench.agent_skill_gen AS s WHERE s.agent_id = p.agent_id
             ORDER BY random() + 0 * p.case_id LIMIT 1) AS owner_skill
      FROM picked AS p
)
SELECT case_id, owner_id, owner_skill,
       (CASE WHEN r_state < 0.95 THEN 'open' ELSE 'pending' END)::swarm.case_state AS state,
       CASE WHEN r_reg2 < 0.10 THEN NULL
            ELSE (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + floor(r_reg * 4)::int] END AS region,
       (ARRAY['P1', 'P2', 'P3', 'P4'])[1 + floor(r_prio * 4)::int]::swarm.priority AS priority,
       'cust-' || (1 + floor(r_cust * 15000)::int) AS customer_ref,
       2 + floor(r_n * 3)::int AS nneeded,
       now() - r_age * interval '30 days' AS opened_at
  FROM g;

-- needed: the owner's skill plus 1..3 others, levels 1..5
CREATE TABLE bench.case_skill_gen AS
SELECT c.case_id, x.skill, 1 + floor(random() * 5)::int AS level
  FROM bench.case_gen AS c
 CROSS JOIN LATERAL (
        SELECT c.owner_skill AS skill
        UNION ALL
        (SELECT y.skill FROM (SELECT DISTINCT format('s%s', lpad((1 + floor(random() * 300))::int::text, 3, '0')) AS skill
                                FROM generate_series(1, 8 + 0 * c.case_id)) AS y
          WHERE y.skill <> c.owner_skill
          LIMIT c.nneeded - 1)
 ) AS x;

INSERT INTO swarm.cases (case_id, external_ref, subject, customer_ref, priority, needed, region, owner_id, state, opened_at)
SELECT c.case_id, 'T-' || c.case_id, 'case ' || c.case_id, c.customer_ref, c.priority, s.needed::swarm.skillset,
       c.region, c.owner_id, c.state, c.opened_at
  FROM bench.case_gen AS c
  JOIN (SELECT case_id, string_agg(skill || ':' || level, ', ') AS needed
          FROM bench.case_skill_gen GROUP BY case_id) AS s ON s.case_id = c.case_id
 ORDER BY c.case_id;
CREATE INDEX ON bench.case_skill_gen (case_id);
ANALYZE bench.case_gen, bench.case_skill_gen;
SELECT setval('swarm.cases_case_id_seq', 50000);

INSERT INTO swarm.participants (case_id, agent_id, role, joined_at)
SELECT case_id, owner_id, 'owner', opened_at FROM bench.case_gen;

-- Experience ------------------------------------------------------------------------
INSERT INTO swarm.agent_experience (agent_id, skill, credit, updated_at)
SELECT s.agent_id, s.skill, 0.5 + random() * 9.5, now() - random() * interval '120 days'
  FROM bench.agent_skill_gen AS s
 WHERE random() < 0.20;

-- Accepted requests: helpers already on a case ----------------------------------------
-- helpers from the active agents' help slots (at most help_capacity each)
CREATE TABLE bench.helper_gen AS
WITH slots AS MATERIALIZED (
    SELECT a.agent_id, random() AS r FROM bench.agent_gen AS a, generate_series(1, a.help_capacity) AS k
     WHERE a.active
)
SELECT agent_id, row_number() OVER (ORDER BY r) AS n FROM slots ORDER BY r LIMIT 3000;

CREATE TABLE bench.accepted_gen AS
WITH cases AS MATERIALIZED (
    SELECT case_id, owner_id, row_number() OVER (ORDER BY random()) AS n
      FROM bench.case_gen WHERE state = 'open'
)
SELECT c.case_id, c.owner_id, h.agent_id AS helper_id, h.n
  FROM bench.helper_gen AS h JOIN cases AS c ON c.n = h.n
 WHERE h.agent_id <> c.owner_id;

INSERT INTO swarm.collab_requests (case_id, requester_id, needed, priority, mode, state, helper_id,
                                   created_at, accepted_at)
SELECT a.case_id, a.owner_id,
       (SELECT string_agg(s.skill || ':' || s.level, ', ')
          FROM (SELECT skill, level FROM bench.agent_skill_gen WHERE agent_id = a.helper_id
                 ORDER BY skill LIMIT 2) AS s)::swarm.skillset,
       'P3', 'push', 'accepted', a.helper_id, now() - interval '2 hours', now() - interval '1 hour'
  FROM bench.accepted_gen AS a
ON CONFLICT DO NOTHING;

INSERT INTO swarm.participants (case_id, agent_id, role, joined_at)
SELECT DISTINCT case_id, helper_id, 'helper'::swarm.participant_role, now() - interval '1 hour'
  FROM swarm.collab_requests WHERE state = 'accepted'
ON CONFLICT DO NOTHING;

-- Requests to route (suggest_helpers) ---------------------------------------------------
-- 2,000 push requests on distinct open cases; half of them on cases that
-- already have a helper (who must then be excluded).
CREATE TABLE bench.route_req_gen AS
WITH with_helper AS MATERIALIZED (
    SELECT DISTINCT case_id FROM swarm.collab_requests WHERE state = 'accepted'
), pick AS MATERIALIZED (
    (SELECT case_id FROM with_helper ORDER BY random() LIMIT 1000)
    UNION ALL
    (SELECT c.case_id FROM bench.case_gen AS c
      WHERE c.state = 'open' AND c.case_id NOT IN (SELECT case_id FROM with_helper)
      ORDER BY random() LIMIT 1000)
), g AS MATERIALIZED (
    SELECT p.case_id, random() AS r_kind, random() AS r_group, random() AS r_pref, random() AS r_pref2,
           random() AS r_offer, random() AS r_prio, random() AS r_age, random() AS r_n
      FROM pick AS p
)
SELECT g.case_id, c.owner_id,
       CASE WHEN r_kind < 0.60 THEN 1 + floor(r_group * 20)::bigint END AS group_id,
       CASE WHEN r_pref < 0.10 THEN 1 + floor(r_pref2 * 10000)::bigint END AS preferred_id,
       r_offer < 0.10 AS offered,
       (ARRAY['P1', 'P2', 'P3', 'P4'])[1 + floor(r_prio * 4)::int]::swarm.priority AS priority,
       now() - r_age * interval '1 day' AS created_at,
       1 + floor(r_n * 3)::int AS nneeded
  FROM g JOIN bench.case_gen AS c ON c.case_id = g.case_id;
-- a preferred helper is never the case's owner
UPDATE bench.route_req_gen SET preferred_id = NULL WHERE preferred_id = owner_id;

INSERT INTO swarm.collab_requests (case_id, requester_id, group_id, needed, preferred_id, priority, mode, state,
                                   offered_to, offered_at, created_at, note)
SELECT r.case_id, r.owner_id, r.group_id,
       CASE WHEN r.group_id IS NOT NULL THEN (SELECT g.skills FROM swarm.skill_groups AS g WHERE g.group_id = r.group_id)
            ELSE (SELECT string_agg(y.skill || ':' || y.level, ', ')
                    FROM (SELECT s.skill, s.level FROM bench.case_skill_gen AS s WHERE s.case_id = r.case_id
                           ORDER BY random() + 0 * r.case_id LIMIT r.nneeded) AS y)::swarm.skillset END,
       r.preferred_id, r.priority, 'push',
       (CASE WHEN r.offered THEN 'offered' ELSE 'open' END)::swarm.request_state,
       CASE WHEN r.offered THEN 1 + (r.case_id * 7919) % 9800 END,
       CASE WHEN r.offered THEN now() - interval '1 minute' END,
       r.created_at, 'route me'
  FROM bench.route_req_gen AS r
ON CONFLICT DO NOTHING;

-- ~1,000 declines: on 40% of them, one or two agents who would be candidates
-- (group members, or agents sharing a needed skill) declined
INSERT INTO swarm.request_declines (request_id, agent_id, reason, declined_at)
SELECT r.request_id, x.agent_id, 'busy', now() - interval '10 minutes'
  FROM swarm.collab_requests AS r
  JOIN swarm.cases AS c ON c.case_id = r.case_id
 CROSS JOIN LATERAL (
        SELECT a.agent_id FROM swarm.agents AS a
         WHERE a.agent_id <> c.owner_id AND a.active AND a.presence <> 'offline'
           AND (CASE WHEN r.group_id IS NOT NULL
                     THEN EXISTS (SELECT 1 FROM swarm.group_members AS m
                                   WHERE m.group_id = r.group_id AND m.agent_id = a.agent_id)
                     ELSE a.skills OPERATOR(swarm.&&) r.needed END)
         ORDER BY swarm.match_score(a.skills, r.needed) DESC, a.agent_id
         LIMIT 1 + (r.request_id % 2)
 ) AS x
 WHERE r.note = 'route me' AND random() < 0.40;

-- The pull queue for grab_request -----------------------------------------------------
INSERT INTO swarm.collab_requests (case_id, requester_id, needed, priority, mode, state, created_at, note)
SELECT c.case_id, c.owner_id,
       (format('s%s:%s', lpad(q.a::text, 3, '0'), 1 + floor(random() * 3)::int)
        || CASE WHEN q.i % 2 = 1 THEN format(', s%s:%s', lpad((1 + (q.a + q.b) % 300)::text, 3, '0'),
                                             1 + floor(random() * 3)::int) ELSE '' END)::swarm.skillset,
       (ARRAY['P1', 'P2', 'P3', 'P4'])[1 + floor(random() * 4)::int]::swarm.priority,
       'pull', 'open', now() - random() * interval '2 days', 'pull'
  FROM (SELECT i, 1 + floor(random() * 300)::int AS a, floor(random() * 299)::int AS b
          FROM generate_series(1, 150000) AS i OFFSET 0) AS q
  JOIN bench.case_gen AS c ON c.case_id = 1 + (q.i * 7907) % 50000
 WHERE c.state = 'open'
ON CONFLICT DO NOTHING;

-- Counters ----------------------------------------------------------------------------
UPDATE swarm.agents AS a SET open_cases = n.n
  FROM (SELECT owner_id, count(*) AS n FROM swarm.cases WHERE state IN ('open', 'pending') GROUP BY owner_id) AS n
 WHERE n.owner_id = a.agent_id;
UPDATE swarm.agents AS a SET open_helps = n.n
  FROM (SELECT helper_id, count(*) AS n FROM swarm.collab_requests WHERE state = 'accepted' GROUP BY helper_id) AS n
 WHERE n.helper_id = a.agent_id;
SELECT setval('swarm.collab_requests_request_id_seq', (SELECT max(request_id) FROM swarm.collab_requests));

VACUUM ANALYZE swarm.agents, swarm.skill_groups, swarm.group_members, swarm.cases, swarm.participants,
               swarm.agent_experience, swarm.collab_requests, swarm.request_declines;

-- Consistency: counters and capacities as the API would keep them
DO $$
DECLARE
    bad bigint;
BEGIN
    SELECT count(*) INTO bad FROM swarm.agents AS a
     WHERE a.open_cases <> (SELECT count(*) FROM swarm.cases AS c WHERE c.owner_id = a.agent_id
                                                                    AND c.state IN ('open', 'pending'))
        OR a.open_helps <> (SELECT count(*) FROM swarm.collab_requests AS r WHERE r.helper_id = a.agent_id
                                                                            AND r.state = 'accepted')
        OR a.open_cases > a.capacity OR a.open_helps > a.help_capacity;
    IF bad > 0 THEN
        RAISE EXCEPTION 'seed: % agents with inconsistent counters', bad;
    END IF;
END
$$;

SELECT format('seeded: %s agents (%s active, %s eligible owners), %s agent skills, %s groups (%s members), '
              '%s cases, %s experience rows, %s accepted requests, %s requests to route, %s declines, %s pull requests',
              (SELECT count(*) FROM swarm.agents),
              (SELECT count(*) FROM swarm.agents WHERE active),
              (SELECT count(*) FROM swarm.agents WHERE active AND presence <> 'offline' AND open_cases < capacity),
              (SELECT sum(array_length(swarm.skill_names(skills), 1)) FROM swarm.agents),
              (SELECT count(*) FROM swarm.skill_groups), (SELECT count(*) FROM swarm.group_members),
              (SELECT count(*) FROM swarm.cases), (SELECT count(*) FROM swarm.agent_experience),
              (SELECT count(*) FROM swarm.collab_requests WHERE state = 'accepted'),
              (SELECT count(*) FROM swarm.collab_requests WHERE note = 'route me'),
              (SELECT count(*) FROM swarm.request_declines),
              (SELECT count(*) FROM swarm.collab_requests WHERE note = 'pull')) AS seeded;

-- bench/sla/seed_due.sql: open cases and collaboration requests for the
-- sla_due benchmark, inserted in bulk with their due and at-risk times set
-- directly (no API calls).  psql variables: requests (number of open
-- requests; a case gets 10 of them, one per specialty group).
--
-- 1% of the requests (and 1% of the cases) are breached: their at-risk and
-- due times are in the past.  Everything else is due in the future.  Request
-- states: 40% open, 20% offered, 40% accepted, all open for SLA purposes.
-- Of the cases, 90% have had their first response.

-- Seeding quickly: foreign keys are not checked row by row (the rows are
-- consistent by construction), and the tables' indexes other than their
-- primary keys and unique constraints are dropped and built again afterwards
-- from their own definitions (pg_get_indexdef), whatever swarm defines today.
SET session_replication_role = replica;
CREATE TEMP TABLE saved_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index AS i
 WHERE i.indrelid IN ('swarm.cases'::regclass, 'swarm.collab_requests'::regclass)
   AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid);
SELECT format('DROP INDEX %s', name) FROM saved_indexes
\gexec

SELECT setseed(0.1717);

INSERT INTO swarm.agents (external_ref, name)
SELECT 'sla-agent-' || i, 'SLA agent ' || i FROM generate_series(1, 200) AS i;

INSERT INTO swarm.skill_groups (name, scope)
SELECT 'sla-group-' || i, 'global' FROM generate_series(1, 10) AS i;

CREATE TEMP TABLE ids AS
SELECT (SELECT min(agent_id) FROM swarm.agents WHERE external_ref LIKE 'sla-agent-%') AS agent0,
       (SELECT min(group_id) FROM swarm.skill_groups WHERE name LIKE 'sla-group-%') AS group0;

-- cases: 1% breached (resolution, and first response where still due)
INSERT INTO swarm.cases (case_id, external_ref, subject, priority, owner_id, state, opened_at, first_response_at,
                         first_response_due, first_response_risk_at, resolution_due, resolution_risk_at)
SELECT c, 'sla-case-' || c, 'case ' || c, (ARRAY['P1', 'P2', 'P3', 'P4']::swarm.priority[])[1 + c % 4],
       ids.agent0 + c % 200, 'open', opened,
       CASE WHEN r2 < 0.9 THEN opened + interval '20 minutes' END,
       due1, due1 - interval '1 hour', due2, due2 - interval '6 hours'
  FROM (SELECT c, opened, r2,
               CASE WHEN breached THEN now() - random() * interval '2 days' ELSE now() + interval '1 hour' + random() * interval '3 days' END AS due1,
               CASE WHEN breached THEN now() - random() * interval '2 days' ELSE now() + interval '6 hours' + random() * interval '20 days' END AS due2
          FROM (SELECT c, random() < 0.01 AS breached, random() AS r2, now() - random() * interval '10 days' AS opened
                  FROM generate_series(1, (:requests + 9) / 10) AS c) AS x) AS y, ids;
SELECT setval('swarm.cases_case_id_seq', (SELECT max(case_id) FROM swarm.cases));

-- requests: case i/10, one per group
INSERT INTO swarm.collab_requests (request_id, case_id, requester_id, group_id, priority, state, helper_id, offered_to,
                                   created_at, offered_at, accepted_at,
                                   accept_due, accept_risk_at, resolution_due, resolution_risk_at)
SELECT i, 1 + (i - 1) / 10, ids.agent0 + ((i - 1) / 10) % 200, ids.group0 + (i - 1) % 10,
       (ARRAY['P1', 'P2', 'P3', 'P4']::swarm.priority[])[1 + i % 4], st,
       CASE WHEN st = 'accepted' THEN ids.agent0 + (i * 7) % 200 END,
       CASE WHEN st = 'offered' THEN ids.agent0 + (i * 7) % 200 END,
       created,
       CASE WHEN st = 'offered' THEN created + interval '1 minute' END,
       CASE WHEN st = 'accepted' THEN created + interval '5 minutes' END,
       due1, due1 - interval '30 minutes', due2, due2 - interval '2 hours'
  FROM (SELECT i, created,
               (CASE WHEN s < 0.4 THEN 'open' WHEN s < 0.6 THEN 'offered' ELSE 'accepted' END)::swarm.request_state AS st,
               CASE WHEN breached THEN now() - random() * interval '2 days' ELSE now() + interval '30 minutes' + random() * interval '2 days' END AS due1,
               CASE WHEN breached THEN now() - random() * interval '2 days' ELSE now() + interval '2 hours' + random() * interval '10 days' END AS due2
          FROM (SELECT i, random() < 0.01 AS breached, random() AS s, now() - random() * interval '10 days' AS created
                  FROM generate_series(1, :requests) AS i) AS x) AS y, ids;
SELECT setval('swarm.collab_requests_request_id_seq', (SELECT max(request_id) FROM swarm.collab_requests));

SELECT def FROM saved_indexes
\gexec
RESET session_replication_role;

VACUUM ANALYZE swarm.cases;
VACUUM ANALYZE swarm.collab_requests;

-- bench/metrics/seed.sql: a year of helpdesk history for the metrics
-- benchmark, inserted in bulk straight into swarm's tables (the API would
-- take hours), deterministic (setseed), ending at the moment of seeding.
-- psql variables: cases, requests, events (row counts), days (the span).
--
--   2,000 agents in 4 regions (every 20th without a region); 40 groups:
--     30 regional (7-8 per region) and 10 global; SLA policies P1-P4 on the
--     24x7 calendar, so due times are plain interval arithmetic;
--   :cases cases, opened at an even pace over :days days (case_id follows
--     opened_at); priorities 5/20/50/25 % P1-P4; resolution and first
--     response times exponential around a share of the targets (about 20 %
--     of resolutions and 13 % of first responses breach); cases whose
--     resolution lies in the future are open (2 % of them pending: paused,
--     no resolution due); resolved cases older than a week are closed; 4 %
--     of the cases are transferred once, with one of 5 reasons; knowledge
--     articles on 35 % of the resolved cases that had a helper, 15 % of the
--     others;
--   :requests requests on 40 % of the cases (3-4 each, distinct groups,
--     10 % by skills with no group), 70 % push / 30 % pull; time to accept
--     exponential around 60 % of the acceptance target; escalation levels
--     1-3 at 75 / 100 / 150 % of it, level 2 widens (to a global group, or
--     to every skilled agent while the request is still active), level 3
--     raises the priority one step; requests not accepted when their case
--     is resolved are cancelled with it; a swarm.escalations row per level;
--   :events events: the lifecycle events of those cases and requests, in
--     time order (case_opened, case_assigned, case_transferred with its
--     reason, case_responded, case_resolved with kb_ref, case_closed,
--     help_requested with the group and priority asked, request_offered,
--     request_accepted with how, request_resolved, request_cancelled,
--     request_escalated), padded to :events with presence changes.
--
-- Indexes other than primary keys and unique constraints are dropped first
-- and built again at the end from their own definitions; triggers and
-- foreign-key checks are off while seeding (session_replication_role), so
-- the facts the metrics triggers keep (cases.resolved_with_help,
-- collab_requests.requested_group_id / requested_priority) are written here
-- and checked by the runner against recomputation.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET session_replication_role = replica;
SET max_parallel_workers_per_gather = 0;     -- one process draws the random numbers: the same rows every run
SET work_mem = '512MB';
SET maintenance_work_mem = '512MB';
SET TimeZone = 'UTC';
SELECT setseed(0.2026);

CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE bench.seeded_at AS SELECT now() AS at;

CREATE TEMP TABLE saved_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index AS i
 WHERE i.indrelid IN ('swarm.cases'::regclass, 'swarm.collab_requests'::regclass, 'swarm.events'::regclass,
                      'swarm.escalations'::regclass)
   AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid);
SELECT format('DROP INDEX %s', name) FROM saved_indexes
\gexec

-- Agents, groups, policies ------------------------------------------------------------
INSERT INTO swarm.agents (agent_id, external_ref, name, skills, region, capacity, help_capacity)
SELECT i, 'm-agent-' || i, 'Agent ' || i, format('s%s:4, s%s:3', i % 10, (i + 3) % 10)::swarm.skillset,
       CASE WHEN i % 20 = 0 THEN NULL ELSE (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + (i - 1) % 4] END,
       1000, 1000
  FROM generate_series(1, 2000) AS i;
SELECT setval('swarm.agents_agent_id_seq', 2000);

INSERT INTO swarm.skill_groups (group_id, name, skills, scope, region)
SELECT g, CASE WHEN g <= 30 THEN format('%s-%s', (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + (g - 1) % 4], g)
               ELSE 'global-' || g END,
       format('s%s:3', g % 10)::swarm.skillset,
       CASE WHEN g <= 30 THEN 'regional' ELSE 'global' END::swarm.group_scope,
       CASE WHEN g <= 30 THEN (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + (g - 1) % 4] END
  FROM generate_series(1, 40) AS g;
SELECT setval('swarm.skill_groups_group_id_seq', 40);

-- targets (24x7) and the means the durations are drawn around, in seconds
CREATE TABLE bench.targets (priority swarm.priority PRIMARY KEY, policy_id bigint, first_response interval,
                            resolution interval, accept interval, request_resolution interval,
                            mean_response float8, mean_resolve float8, mean_accept float8, higher swarm.priority);
INSERT INTO bench.targets VALUES
    ('P1', 1, '30 minutes', '8 hours', '15 minutes', '4 hours',  900,   18000,  450, 'P1'),
    ('P2', 2, '1 hour',     '1 day',   '30 minutes', '8 hours',  1800,  57600,  900, 'P1'),
    ('P3', 3, '4 hours',    '3 days',  '1 hour',     '1 day',    7200,  172800, 1800, 'P2'),
    ('P4', 4, '8 hours',    '5 days',  '2 hours',    '2 days',   14400, 259200, 3600, 'P3');
INSERT INTO swarm.sla_policies (policy_id, priority, first_response, resolution, accept, request_resolution, calendar_id)
SELECT t.policy_id, t.priority, t.first_response, t.resolution, t.accept, t.request_resolution,
       (SELECT calendar_id FROM swarm.calendars WHERE name = '24x7')
  FROM bench.targets AS t;
SELECT setval('swarm.sla_policies_policy_id_seq', 4);

-- Cases (times as epoch seconds until written) -------------------------------------------
CREATE TABLE bench.case_gen AS
WITH g AS MATERIALIZED (
    SELECT i, random() AS r_prio, random() AS r_owner, random() AS r_res, random() AS r_fr, random() AS r_noresp,
           random() AS r_kb, random() AS r_tr, random() AS r_to, random() AS r_why, random() AS r_pend,
           random() AS r_collab, random() AS r_close
      FROM generate_series(1, :cases) AS i
), c AS (
    SELECT g.*, (ARRAY['P1', 'P2', 'P3', 'P4'])[CASE WHEN r_prio < 0.05 THEN 1 WHEN r_prio < 0.25 THEN 2
                                                   WHEN r_prio < 0.75 THEN 3 ELSE 4 END]::swarm.priority AS priority,
           extract(epoch FROM (SELECT at FROM bench.seeded_at)) - :days * 86400.0 * (1 - (i - 0.5) / :cases) AS o,
           extract(epoch FROM (SELECT at FROM bench.seeded_at)) AS t0
      FROM g
), d AS (
    SELECT c.*, c.o - ln(1 - c.r_res) * t.mean_resolve AS res,
           CASE WHEN c.r_noresp >= 0.05 THEN c.o - ln(1 - c.r_fr) * t.mean_response END AS resp
      FROM c JOIN bench.targets AS t USING (priority)
)
SELECT d.i AS case_id, d.priority, d.o, d.t0, d.res, d.res <= d.t0 AS resolved,
       CASE WHEN d.resp < least(d.res, d.t0) THEN d.resp END AS resp,
       1 + floor(d.r_owner * 2000)::bigint AS first_owner,
       1 + ((floor(d.r_owner * 2000)::bigint + 1 + floor(d.r_to * 1998)::bigint) % 2000) AS second_owner,
       CASE WHEN d.r_tr < 0.04 THEN d.o + 0.3 * (least(d.res, d.t0) - d.o) END AS tr_at,
       (ARRAY['wrong skills', 'shift ended', 'customer language', 'workload balancing',
              'needs an expert'])[1 + floor(d.r_why * d.r_why * 5)::int] AS tr_reason,
       d.r_kb, d.res > d.t0 AND d.r_pend < 0.02 AS pending,
       d.res <= d.t0 - 7 * 86400 AND d.r_close < 0.25 AS closed,
       d.r_collab < 0.40 AS collaborated_pick
  FROM d;

-- Requests, drawn before the cases are written (a case records whether it had a helper)
CREATE TABLE bench.req_gen AS
WITH picked AS MATERIALIZED (
    SELECT c.*, row_number() OVER (ORDER BY c.case_id) AS n FROM bench.case_gen AS c WHERE c.collaborated_pick
), j AS MATERIALIZED (
    SELECT j, 1 + floor((j - 1) * (SELECT count(*) FROM picked)::numeric / :requests)::bigint AS n,
           random() AS r_at, random() AS r_skill, random() AS r_mode, random() AS r_acc, random() AS r_help,
           random() AS r_same, random() AS r_done, random() AS r_cancel, random() AS r_how
      FROM generate_series(1, :requests) AS j
), r AS (
    SELECT j.*, p.case_id, p.priority AS requested_priority, p.o, p.t0, p.res, p.resolved, p.tr_at,
           p.first_owner, p.second_owner,
           row_number() OVER (PARTITION BY p.case_id ORDER BY j.j) - 1 AS k,
           p.o + j.r_at * 0.7 * (least(p.res, p.t0) - p.o) AS created
      FROM j JOIN picked AS p ON p.n = j.n
), a AS (
    SELECT r.*, t.accept, t.request_resolution,
           extract(epoch FROM t.accept) AS acc_s,
           CASE WHEN r.resolved THEN r.res END AS case_end,
           r.created - ln(1 - r.r_acc) * t.mean_accept AS acc_at,
           CASE WHEN r.r_skill < 0.10 THEN NULL ELSE ((r.case_id * 7 + r.k * 13) % 40) + 1 END AS req_group,
           CASE WHEN r.tr_at IS NOT NULL AND r.created >= r.tr_at THEN r.second_owner ELSE r.first_owner END AS requester
      FROM r JOIN bench.targets AS t ON t.priority = r.requested_priority
), b AS (
    -- 3 % withdrawn by the owner halfway to when they would have been accepted
    SELECT a.*,
           a.r_cancel < 0.03 AND a.created + 0.5 * (a.acc_at - a.created) < coalesce(a.case_end, a.t0) AS withdrawn,
           a.r_cancel >= 0.03 AND a.acc_at < coalesce(a.case_end, a.t0) AS accepted
      FROM a
), e AS (
    SELECT b.*,
           CASE WHEN b.withdrawn THEN b.created + 0.5 * (b.acc_at - b.created) WHEN NOT b.accepted AND b.resolved THEN b.case_end END AS cancel_at,
           CASE WHEN b.accepted THEN least(b.acc_at - ln(1 - b.r_done) * 0.3 * extract(epoch FROM b.request_resolution),
                                            coalesce(b.case_end, 'infinity')) END AS done_at
      FROM b
), f AS (
    SELECT e.*,
           CASE WHEN e.accepted THEN e.acc_at WHEN e.cancel_at IS NOT NULL THEN e.cancel_at ELSE e.t0 END - e.created AS waited
      FROM e
)
SELECT f.*,
       (f.waited >= 0.75 * f.acc_s)::int + (f.waited >= f.acc_s)::int + (f.waited >= 1.5 * f.acc_s)::int AS level,
       CASE WHEN f.accepted AND f.done_at <= f.t0 THEN 'resolved'
            WHEN f.accepted THEN 'accepted'
            WHEN f.cancel_at IS NOT NULL THEN 'cancelled'
            WHEN f.r_mode < 0.70 AND f.r_how < 0.5 THEN 'offered'
            ELSE 'open' END::swarm.request_state AS state,
       -- helpers: 60 % from the requester's region (agents of a region are every 4th id)
       CASE WHEN f.r_same < 0.60
            THEN 4 * floor(f.r_help * 499)::bigint + 1 + (f.requester - 1) % 4
            ELSE 1 + floor(f.r_help * 2000)::bigint END AS helper0
  FROM f;

CREATE TABLE bench.req_final AS
SELECT row_number() OVER (ORDER BY r.created, r.j) AS request_id, r.*,
       CASE WHEN r.helper0 = r.requester THEN 1 + r.helper0 % 2000 ELSE r.helper0 END AS helper,
       CASE WHEN r.level >= 3 THEN t.higher ELSE r.requested_priority END AS priority,
       CASE WHEN r.level < 2 OR r.req_group IS NULL THEN r.req_group
            WHEN r.state IN ('open', 'offered', 'accepted') THEN NULL      -- widened to every skilled agent
            WHEN r.req_group <= 30 THEN 31 + (r.case_id + r.k) % 10       -- regional: to a global group
            ELSE NULL END AS group_id
  FROM bench.req_gen AS r JOIN bench.targets AS t ON t.priority = r.requested_priority;
CREATE INDEX ON bench.req_final (case_id);
DROP TABLE bench.req_gen;

-- Write the cases, requests and escalations ------------------------------------------------
INSERT INTO swarm.cases (case_id, external_ref, subject, customer_ref, priority, needed, region, owner_id, state,
                         opened_at, first_response_at, resolved_at, closed_at, handoffs, kb_ref, sla_policy_id,
                         first_response_due, first_response_risk_at, resolution_due, resolution_risk_at,
                         resolved_with_help)
SELECT c.case_id, 'M-' || c.case_id, 'case ' || c.case_id, 'cust-' || (c.case_id % 50000),
       c.priority, format('s%s:3', c.case_id % 10)::swarm.skillset,
       (ARRAY['emea', 'amer', 'apac', 'latam'])[1 + c.case_id % 4],
       CASE WHEN c.tr_at IS NOT NULL THEN c.second_owner ELSE c.first_owner END,
       CASE WHEN c.closed THEN 'closed' WHEN c.resolved THEN 'resolved' WHEN c.pending THEN 'pending' ELSE 'open' END::swarm.case_state,
       to_timestamp(c.o), to_timestamp(c.resp), CASE WHEN c.resolved THEN to_timestamp(c.res) END,
       CASE WHEN c.closed THEN to_timestamp(c.res + 2 * 86400) END,
       (c.tr_at IS NOT NULL)::int,
       CASE WHEN c.resolved AND c.r_kb < CASE WHEN h.helped THEN 0.35 ELSE 0.15 END THEN 'KB-' || c.case_id END,
       t.policy_id,
       CASE WHEN NOT (c.pending AND c.resp IS NULL) THEN to_timestamp(c.o) + t.first_response END,
       CASE WHEN NOT (c.pending AND c.resp IS NULL) THEN to_timestamp(c.o) + t.first_response * 0.75 END,
       CASE WHEN NOT c.pending THEN to_timestamp(c.o) + t.resolution END,
       CASE WHEN NOT c.pending THEN to_timestamp(c.o) + t.resolution * 0.75 END,
       CASE WHEN c.resolved THEN coalesce(h.helped, false) END
  FROM bench.case_gen AS c
  JOIN bench.targets AS t USING (priority)
  LEFT JOIN (SELECT case_id, bool_or(accepted) AS helped FROM bench.req_final GROUP BY case_id) AS h USING (case_id)
 ORDER BY c.case_id;
SELECT setval('swarm.cases_case_id_seq', :cases);

INSERT INTO swarm.collab_requests (request_id, case_id, requester_id, group_id, needed, priority, mode, state,
                                   helper_id, offered_to, created_at, offered_at, accepted_at, resolved_at,
                                   cancelled_at, escalation_level, sla_policy_id, accept_due, accept_risk_at,
                                   resolution_due, resolution_risk_at, summary, cancel_reason,
                                   requested_group_id, requested_priority)
SELECT r.request_id, r.case_id, r.requester, r.group_id,
       CASE WHEN r.req_group IS NULL OR r.group_id IS NULL THEN format('s%s:2', r.k)
            ELSE format('s%s:3', r.req_group % 10) END::swarm.skillset,
       r.priority, CASE WHEN r.r_mode < 0.70 THEN 'push' ELSE 'pull' END::swarm.request_mode, r.state,
       CASE WHEN r.accepted THEN r.helper END, CASE WHEN r.state = 'offered' THEN r.helper END,
       to_timestamp(r.created), CASE WHEN r.state = 'offered' THEN to_timestamp(r.t0 - 60) END,
       CASE WHEN r.accepted THEN to_timestamp(r.acc_at) END,
       CASE WHEN r.state = 'resolved' THEN to_timestamp(r.done_at) END,
       to_timestamp(r.cancel_at), r.level, t.policy_id,
       to_timestamp(r.created) + t.accept, to_timestamp(r.created) + t.accept * 0.75,
       to_timestamp(r.created) + t.request_resolution, to_timestamp(r.created) + t.request_resolution * 0.75,
       CASE WHEN r.state = 'resolved' THEN 'helped' END,
       CASE WHEN r.withdrawn THEN 'not needed' WHEN r.cancel_at IS NOT NULL THEN 'case resolved' END,
       r.req_group, r.requested_priority
  FROM bench.req_final AS r JOIN bench.targets AS t ON t.priority = r.priority
 ORDER BY r.request_id;
SELECT setval('swarm.collab_requests_request_id_seq', :requests);

INSERT INTO swarm.escalations (request_id, level, actions, due_at, escalated_at)
SELECT r.request_id, l.level, l.actions, to_timestamp(r.created + l.frac * r.acc_s),
       to_timestamp(r.created + l.frac * r.acc_s)
  FROM bench.req_final AS r
  JOIN (VALUES (1, 0.75, '{renotify}'::swarm.escalation_action[]), (2, 1.0, '{widen,notify_leads}'),
               (3, 1.5, '{raise_priority}')) AS l (level, frac, actions) ON l.level <= r.level
 ORDER BY 5;

-- Events, in time order ----------------------------------------------------------------------
CREATE TABLE bench.event_gen (at float8, kind text, case_id bigint, request_id bigint, agent_id bigint, detail jsonb);
INSERT INTO bench.event_gen
SELECT c.o, 'case_opened', c.case_id, NULL::bigint, NULL::bigint, '{}'::jsonb FROM bench.case_gen AS c
UNION ALL
SELECT c.o + 1, 'case_assigned', c.case_id, NULL, c.first_owner, '{}' FROM bench.case_gen AS c
UNION ALL
SELECT c.tr_at, 'case_transferred', c.case_id, NULL, c.second_owner,
       jsonb_build_object('from', c.first_owner, 'to', c.second_owner, 'reason', c.tr_reason)
  FROM bench.case_gen AS c WHERE c.tr_at IS NOT NULL
UNION ALL
SELECT c.resp, 'case_responded', c.case_id, NULL, NULL, '{}' FROM bench.case_gen AS c WHERE c.resp IS NOT NULL
UNION ALL
SELECT c.res, 'case_resolved', c.case_id, NULL, NULL, jsonb_build_object('kb_ref', x.kb_ref)
  FROM bench.case_gen AS c JOIN swarm.cases AS x USING (case_id) WHERE c.resolved
UNION ALL
SELECT c.res + 2 * 86400, 'case_closed', c.case_id, NULL, NULL, '{}' FROM bench.case_gen AS c WHERE c.closed
UNION ALL
SELECT r.created, 'help_requested', r.case_id, r.request_id, r.requester,
       jsonb_build_object('group', g.name, 'priority', r.requested_priority,
                          'mode', CASE WHEN r.r_mode < 0.70 THEN 'push' ELSE 'pull' END)
  FROM bench.req_final AS r LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.req_group
UNION ALL
SELECT r.created + 1, 'request_offered', r.case_id, r.request_id, r.helper, '{}'
  FROM bench.req_final AS r WHERE r.r_mode < 0.70 AND (r.state = 'offered' OR (r.accepted AND r.r_how >= 0.2))
UNION ALL
SELECT r.acc_at, 'request_accepted', r.case_id, r.request_id, r.helper,
       CASE WHEN r.r_mode < 0.70 AND r.r_how >= 0.2 THEN '{"was": "offered", "how": "accepted"}'
            ELSE '{"was": "open", "how": "grabbed"}' END::jsonb
  FROM bench.req_final AS r WHERE r.accepted
UNION ALL
SELECT r.done_at, 'request_resolved', r.case_id, r.request_id, r.helper, '{}'
  FROM bench.req_final AS r WHERE r.state = 'resolved'
UNION ALL
SELECT r.cancel_at, 'request_cancelled', r.case_id, r.request_id, NULL, '{}'
  FROM bench.req_final AS r WHERE r.cancel_at IS NOT NULL
UNION ALL
SELECT r.created + l.frac * r.acc_s, 'request_escalated', r.case_id, r.request_id, NULL, jsonb_build_object('level', l.level)
  FROM bench.req_final AS r JOIN (VALUES (1, 0.75), (2, 1.0), (3, 1.5)) AS l (level, frac) ON l.level <= r.level;
-- what has not happened yet when the seed ends is not recorded
DELETE FROM bench.event_gen WHERE at > (SELECT extract(epoch FROM at) FROM bench.seeded_at);
-- padded with presence changes spread over the year
INSERT INTO bench.event_gen
SELECT (SELECT extract(epoch FROM at) FROM bench.seeded_at) - :days * 86400.0 * random(), 'presence_changed',
       NULL, NULL, 1 + floor(random() * 2000)::bigint, '{"from": "online", "to": "away"}'
  FROM generate_series(1, greatest(0, :events - (SELECT count(*) FROM bench.event_gen)));

INSERT INTO swarm.events (event_id, at, kind, case_id, request_id, agent_id, detail)
SELECT row_number() OVER (ORDER BY e.at, e.kind, e.case_id, e.request_id), to_timestamp(e.at), e.kind, e.case_id,
       e.request_id, e.agent_id, e.detail
  FROM bench.event_gen AS e
 ORDER BY 1;
SELECT setval('swarm.events_event_id_seq', (SELECT max(event_id) FROM swarm.events));
DROP TABLE bench.event_gen;

SELECT def FROM saved_indexes
\gexec
RESET session_replication_role;
DROP TABLE bench.case_gen;

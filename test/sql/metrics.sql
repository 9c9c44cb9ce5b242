-- Metrics: the seven window functions on a small fixture built through the
-- API, against expectations computed by hand (in the comments), plus empty
-- and zero-length windows, window edges, the views, the facts the triggers
-- keep, and agreement with the SLA engine's own states.
--
-- The API stamps now(); the fixture is then moved to fixed instants in March
-- 2020 with UPDATE (and the due times recomputed with the internal
-- swarm.sla_refresh_case() / swarm.sla_refresh_request()); the ownership
-- events are moved too, with the append-only trigger switched off for that
-- one statement.  Everything due in 2020 is decided long before now(), so
-- the results do not depend on when the test runs.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Fixture ----------------------------------------------------------------------
-- agents: 1 Ana (emea), 2 Bo (emea), 3 Cy (amer), 4 Di (no region), 5 Ed (apac, leaves)
SELECT swarm.add_agent('u1', 'Ana', 'pg:5, net:3', 'emea') AS ana,
       swarm.add_agent('u2', 'Bo', 'pg:4', 'emea') AS bo,
       swarm.add_agent('u3', 'Cy', 'pg:3', 'amer') AS cy,
       swarm.add_agent('u4', 'Di', 'net:4') AS di,
       swarm.add_agent('u5', 'Ed', 'pg:4', 'apac') AS ed;
SELECT swarm.update_agent(5, active => false);
SELECT swarm.add_group('pg-emea', 'pg:3', 'regional', 'emea') AS g1,
       swarm.add_group('pg-global', 'pg:3', 'global') AS g2;
-- 24x7 targets: P2 first response 1 h, resolution 8 h, accept 30 min, request resolution 4 h;
--               P3 2 h, 1 day, 1 h, 8 h; P1 and P4 have none
SELECT swarm.set_sla_policy('P2', '1 hour', '8 hours', '30 minutes', '4 hours') AS p2,
       swarm.set_sla_policy('P3', '2 hours', '1 day', '1 hour', '8 hours') AS p3;

-- D = 2020-03-02 (UTC); the main window is [D, D + 2 days)
--   C1 P2 Ana    opened D 09:00, responded 09:30, resolved D 12:00 with KB-1
--                R1 to pg-emea (push) 09:10, accepted by Bo 09:25, resolved 10:00
--   C2 P3 Ana    opened D 10:00, transferred to Cy 11:00 ('shift ended'), responded 13:00 (late),
--                resolved D+1 08:00, no article, no request
--   C3 P2 Cy     opened D 11:00, never responded
--                R2 to pg-global (pull) 11:10, grabbed by Ana 12:10 (late), resolved with the case
--                resolved D+1 01:00 (late) with KB-3
--   C4 P3 Bo     opened D 12:00, R3 to pg-emea (push) 12:10 by Bo, transferred to Ana 12:30
--                ('wrong skills'); R3 never accepted: escalated at 12:55 (level 1) and 13:10
--                (level 2, widened to pg-global); still open
--   C5 P3 Di     opened D+1 09:00, waiting on the customer (pending)
--   C6 P2 Ana    opened D-1 22:00 (before the window), responded 22:20, resolved D 01:00;
--                R4 to pg-global 22:30, cancelled D 00:30, never accepted
--   C7 P4 Bo     opened D 14:00, resolved D 18:00 with KB-7, no SLA policy, no request
SELECT count(swarm.open_case('T-' || i, 'case ' || i, p::swarm.priority, 'pg:3'))
  FROM unnest(ARRAY['P2', 'P3', 'P2', 'P3', 'P3', 'P2', 'P4']) WITH ORDINALITY AS t (p, i);
SELECT count(swarm.assign_case(c, a))
  FROM (VALUES (1, 1), (2, 1), (3, 3), (4, 2), (5, 4), (6, 1), (7, 2)) AS v (c, a);
SELECT swarm.request_help(1, 'pg-emea') AS r1;
SELECT swarm.accept_request(1, 2);
SELECT swarm.resolve_request(1, 'fixed');
SELECT swarm.request_help(3, 'pg-global', mode => 'pull') AS r2;
SELECT swarm.grab_request(1) AS grabbed_by_ana;
SELECT swarm.request_help(4, 'pg-emea') AS r3;
SELECT swarm.request_help(6, 'pg-global') AS r4;
SELECT swarm.cancel_request(4, 'not needed');
SELECT swarm.transfer_case(2, 3, 'shift ended');
SELECT swarm.transfer_case(4, 1, 'wrong skills');
SELECT count(swarm.record_response(c)) FROM unnest(ARRAY[1, 2, 6]) AS c;
SELECT swarm.resolve_case(1, 'KB-1'), swarm.resolve_case(2), swarm.resolve_case(3, 'KB-3'),
       swarm.resolve_case(6), swarm.resolve_case(7, 'KB-7');

-- move everything to its instant
UPDATE swarm.cases AS c
   SET opened_at = v.opened, first_response_at = v.responded, resolved_at = v.resolved
  FROM (VALUES (1, '2020-03-02 09:00+00'::timestamptz, '2020-03-02 09:30+00'::timestamptz, '2020-03-02 12:00+00'::timestamptz),
               (2, '2020-03-02 10:00+00', '2020-03-02 13:00+00', '2020-03-03 08:00+00'),
               (3, '2020-03-02 11:00+00', NULL, '2020-03-03 01:00+00'),
               (4, '2020-03-02 12:00+00', NULL, NULL),
               (5, '2020-03-03 09:00+00', NULL, NULL),
               (6, '2020-03-01 22:00+00', '2020-03-01 22:20+00', '2020-03-02 01:00+00'),
               (7, '2020-03-02 14:00+00', NULL, '2020-03-02 18:00+00')) AS v (id, opened, responded, resolved)
 WHERE c.case_id = v.id;
UPDATE swarm.collab_requests AS r
   SET created_at = v.created, accepted_at = v.accepted, resolved_at = v.resolved, cancelled_at = v.cancelled
  FROM (VALUES (1, '2020-03-02 09:10+00'::timestamptz, '2020-03-02 09:25+00'::timestamptz, '2020-03-02 10:00+00'::timestamptz, NULL::timestamptz),
               (2, '2020-03-02 11:10+00', '2020-03-02 12:10+00', '2020-03-03 01:00+00', NULL),
               (3, '2020-03-02 12:10+00', NULL, NULL, NULL),
               (4, '2020-03-01 22:30+00', NULL, NULL, '2020-03-02 00:30+00')) AS v (id, created, accepted, resolved, cancelled)
 WHERE r.request_id = v.id;
SELECT count(swarm.sla_refresh_case(case_id)) FROM swarm.cases;
SELECT count(swarm.sla_refresh_request(request_id)) FROM swarm.collab_requests;
ALTER TABLE swarm.events DISABLE TRIGGER events_append_only;
UPDATE swarm.events AS e SET at = v.at
  FROM (VALUES ('case_assigned', 1, '2020-03-02 09:00+00'::timestamptz), ('case_assigned', 2, '2020-03-02 10:00+00'),
               ('case_assigned', 3, '2020-03-02 11:00+00'), ('case_assigned', 4, '2020-03-02 12:00+00'),
               ('case_assigned', 5, '2020-03-03 09:00+00'), ('case_assigned', 6, '2020-03-01 22:00+00'),
               ('case_assigned', 7, '2020-03-02 14:00+00'),
               ('case_transferred', 2, '2020-03-02 11:00+00'), ('case_transferred', 4, '2020-03-02 12:30+00')) AS v (kind, id, at)
 WHERE e.kind = v.kind AND e.case_id = v.id;
ALTER TABLE swarm.events ENABLE TRIGGER events_append_only;
-- R3 escalates by the default ladder: level 1 at 75 % of its hour (12:55), level 2 at 100 % (13:10)
SELECT swarm.escalate_due('2020-03-02 13:15+00') AS escalations;
UPDATE swarm.escalations SET escalated_at = due_at;
SELECT swarm.pause_sla(5, 'waiting for logs');
SELECT request_id, g.name AS "group", r.priority, r.state, r.escalation_level, rg.name AS requested_group,
       r.requested_priority, r.accept_due, r.resolution_due
  FROM swarm.collab_requests AS r
  LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.group_id
  LEFT JOIN swarm.skill_groups AS rg ON rg.group_id = r.requested_group_id
 ORDER BY request_id;
SELECT case_id, priority, state, owner_id, handoffs, resolved_with_help, kb_ref, first_response_due, resolution_due
  FROM swarm.cases ORDER BY case_id;
SELECT request_id, level, escalated_at FROM swarm.escalations ORDER BY 1, 2;

-- metrics_daily --------------------------------------------------------------------
-- D:   opened C1 C2 C3 C4 C7 = 5; resolved C6 (3 h), C1 (3 h, helped), C7 (4 h) = 3, 1 with help;
--      median 3 h, p90 3 h + 0.8 x 1 h = 03:48; transfers C2, C4; escalations 2;
--      case targets due: C1 first response met, C1 resolution met, C2 first response met late,
--      C3 first response breached (resolved after it was due, never responded), C3 resolution met
--      late, C4 first response breached, C6 resolution met: 7 decided, 3 met
-- D+1: opened C5; resolved C3 (14 h, helped), C2 (22 h) = 2; median 18 h, p90 14 h + 0.9 x 8 h = 21:12;
--      due: C2 resolution met, C4 resolution breached; C5's first response is paused (left out)
SELECT day, cases_opened, cases_resolved, cases_with_collaboration, round(collaboration_rate::numeric, 4) AS collab_rate,
       median_time_to_resolve, p90_time_to_resolve, handoffs, escalations, sla_targets, sla_met,
       round(sla_attainment::numeric, 4) AS attainment
  FROM swarm.metrics_daily('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_requests -----------------------------------------------------------------
-- created in the window: R1 (pg-emea P2), R2 (pg-global P2), R3 (sent to pg-emea P3, widened to
-- pg-global since: it stays with pg-emea); R4 was created the day before
SELECT group_id, group_name, priority, requests, accepted, median_time_to_accept, p90_time_to_accept,
       accept_sla_met_rate, escalation_rate, pushed, pulled
  FROM swarm.metrics_requests('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_agents ---------------------------------------------------------------------
-- owned (assigned or transferred to, in the window): Ana C1 C2 C4, Bo C4 C7, Cy C3 C2, Di C5
-- resolved: Ana C1 (helped, KB) C6; Bo C7 (KB); Cy C2, C3 (helped, KB)
-- helps: Bo R1 after 15 min, Ana R2 after 1 h
-- score = resolved + 2 x helps + articles: Ana 2 + 2 + 1, Bo 1 + 2 + 1, Cy 2 + 0 + 1, Di 0; Ed left
SELECT * FROM swarm.metrics_agents('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_sla --------------------------------------------------------------------------
-- first response  P2: C1 met, C3 breached;             P3: C2 met late, C4 breached (C5 paused)
-- resolution      P2: C1 met, C3 met late, C6 met;     P3: C2 met, C4 breached
-- accept          P2: R1 met, R2 met late;              P3: R3 breached (R4 was due the day before)
-- req. resolution P2: R1 met, R2 met late;              P3: R3 breached (R4 cancelled before due: left out)
SELECT target, priority, met, met_late, breached, round(attainment::numeric, 4) AS attainment
  FROM swarm.metrics_sla('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_regions: R1 Ana (emea) helped by Bo (emea) through a regional group; R2 Cy (amer)
-- helped by Ana (emea) through a global one
SELECT * FROM swarm.metrics_regions('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_knowledge: resolved C1 (helped, KB) C2 C3 (helped, KB) C6 C7 (KB)
SELECT cases_resolved, cases_with_collaboration, collaborated_with_kb, collaborated_kb_rate,
       cases_without_collaboration, solo_with_kb, round(solo_kb_rate::numeric, 4) AS solo_kb_rate
  FROM swarm.metrics_knowledge('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- metrics_handoffs: one transfer per reason, and the total (reason NULL)
SELECT * FROM swarm.metrics_handoffs('2020-03-02 00:00+00', '2020-03-04 00:00+00');

-- Window edges ----------------------------------------------------------------------------
-- [from, to): a case opened exactly at from counts (C4 at 12:00), one resolved exactly at to does not (C2)
SELECT day, cases_opened, cases_resolved FROM swarm.metrics_daily('2020-03-02 12:00+00', '2020-03-03 08:00+00');
SELECT cases_resolved FROM swarm.metrics_knowledge('2020-03-02 12:00+00', '2020-03-03 08:00+00');
-- a window inside one day has that day only; days are UTC days whatever the session's time zone
SET TimeZone = 'America/New_York';
SELECT day, cases_opened FROM swarm.metrics_daily('2020-03-02 08:00+00', '2020-03-02 13:00+00');
RESET TimeZone;
SET TimeZone = 'UTC';

-- Empty windows ------------------------------------------------------------------------------
-- nothing happened in the first week of 2019: zeros, and NULL where a rate or a median has nothing to go on
SELECT * FROM swarm.metrics_daily('2019-01-01 00:00+00', '2019-01-03 00:00+00');
SELECT count(*) AS request_rows FROM swarm.metrics_requests('2019-01-01 00:00+00', '2019-01-08 00:00+00');
-- the active agents, with nothing to their name
SELECT * FROM swarm.metrics_agents('2019-01-01 00:00+00', '2019-01-08 00:00+00');
SELECT count(*) AS rows, sum(met + met_late + breached) AS targets, count(attainment) AS attainments
  FROM swarm.metrics_sla('2019-01-01 00:00+00', '2019-01-08 00:00+00');
SELECT * FROM swarm.metrics_regions('2019-01-01 00:00+00', '2019-01-08 00:00+00');
SELECT * FROM swarm.metrics_knowledge('2019-01-01 00:00+00', '2019-01-08 00:00+00');
SELECT * FROM swarm.metrics_handoffs('2019-01-01 00:00+00', '2019-01-08 00:00+00');
-- a window of no length has no day
SELECT count(*) AS days FROM swarm.metrics_daily('2020-03-02 12:00+00', '2020-03-02 12:00+00');
SELECT cases_resolved FROM swarm.metrics_knowledge('2020-03-02 12:00+00', '2020-03-02 12:00+00');

-- Bad windows --------------------------------------------------------------------------------
SELECT * FROM swarm.metrics_daily(NULL, '2020-03-04');
SELECT * FROM swarm.metrics_sla('2020-03-02', NULL);
SELECT * FROM swarm.metrics_agents('2020-03-04', '2020-03-02');
SELECT * FROM swarm.metrics_handoffs('-infinity', '2020-03-02');

-- The views: the functions over swarm.metrics_window() ---------------------------------------
SELECT to_ts = now() AS ends_now, from_ts = date_trunc('day', now(), 'UTC') - interval '29 days' AS starts_29_days_back,
       (to_ts AT TIME ZONE 'UTC')::date - (from_ts AT TIME ZONE 'UTC')::date + 1 AS days
  FROM swarm.metrics_window();
SELECT count(*) AS days, min(day) = (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
       max(day) = (now() AT TIME ZONE 'UTC')::date AS last_day
  FROM swarm.metrics_daily;
SELECT v.name, v.same
  FROM (SELECT 'daily' AS name, NOT EXISTS (SELECT * FROM swarm.metrics_daily EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_daily(w.from_ts, w.to_ts) m) AS same
        UNION ALL SELECT 'requests', NOT EXISTS (SELECT * FROM swarm.metrics_requests EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_requests(w.from_ts, w.to_ts) m)
        UNION ALL SELECT 'agents', NOT EXISTS (SELECT * FROM swarm.metrics_agents EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_agents(w.from_ts, w.to_ts) m)
        UNION ALL SELECT 'sla', NOT EXISTS (SELECT * FROM swarm.metrics_sla EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_sla(w.from_ts, w.to_ts) m)
        UNION ALL SELECT 'regions', NOT EXISTS (SELECT * FROM swarm.metrics_regions EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_regions(w.from_ts, w.to_ts) m)
        UNION ALL SELECT 'knowledge', NOT EXISTS (SELECT * FROM swarm.metrics_knowledge EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_knowledge(w.from_ts, w.to_ts) m)
        UNION ALL SELECT 'handoffs', NOT EXISTS (SELECT * FROM swarm.metrics_handoffs EXCEPT ALL
                                            SELECT m.* FROM swarm.metrics_window() w, swarm.metrics_handoffs(w.from_ts, w.to_ts) m)
       ) AS v;

-- Agreement with the SLA engine ---------------------------------------------------------------
-- over all time, metrics_sla counts exactly the met / met_late / breached states that
-- swarm.sla_status and swarm.request_sla_status report
WITH engine AS (
    SELECT s.target, c.priority, s.state FROM swarm.cases AS c, swarm.sla_status(c.case_id) AS s
    UNION ALL
    SELECT CASE s.target WHEN 'resolution' THEN 'request_resolution' ELSE s.target END, r.priority, s.state
      FROM swarm.collab_requests AS r, swarm.request_sla_status(r.request_id) AS s
), counted AS (
    SELECT target, priority, count(*) FILTER (WHERE state = 'met') AS met,
           count(*) FILTER (WHERE state = 'met_late') AS met_late, count(*) FILTER (WHERE state = 'breached') AS breached
      FROM engine GROUP BY 1, 2
)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE m.met = coalesce(c.met, 0) AND m.met_late = coalesce(c.met_late, 0)
                          AND m.breached = coalesce(c.breached, 0)) AS agree,
       sum(m.met + m.met_late + m.breached) AS targets
  FROM swarm.metrics_sla('2000-01-01', '2100-01-01') AS m
  LEFT JOIN counted AS c ON c.target = m.target AND c.priority = m.priority;
-- the daily SLA columns are the case targets of metrics_sla, day by day
SELECT (SELECT sum(sla_targets) FROM swarm.metrics_daily('2020-03-01', '2020-03-05')) AS daily_targets,
       (SELECT sum(met + met_late + breached) FROM swarm.metrics_sla('2020-03-01', '2020-03-05')
         WHERE target IN ('first_response', 'resolution')) AS case_targets;

-- The kept facts ----------------------------------------------------------------------------------
-- resolved_with_help agrees with a lookup for every case; requested group and priority with the
-- help_requested events
SELECT count(*) AS cases,
       count(*) FILTER (WHERE resolved_with_help IS NOT DISTINCT FROM
                        CASE WHEN resolved_at IS NOT NULL THEN swarm.metrics_case_helped(case_id) END) AS agree
  FROM swarm.cases;
SELECT count(*) AS requests,
       count(*) FILTER (WHERE g.name IS NOT DISTINCT FROM e.detail ->> 'group'
                          AND r.requested_priority = (e.detail ->> 'priority')::swarm.priority) AS agree
  FROM swarm.collab_requests AS r
  JOIN swarm.events AS e ON e.request_id = r.request_id AND e.kind = 'help_requested'
  LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.requested_group_id;
-- a reopened case is not resolved; resolved again, it is looked up again
BEGIN;
SELECT swarm.reopen_case(1);
SELECT resolved_with_help FROM swarm.cases WHERE case_id = 1;
SELECT swarm.resolve_case(1);
SELECT resolved_with_help FROM swarm.cases WHERE case_id = 1;
ROLLBACK;
-- direct changes to the requests keep it exact: a helper recorded on C7 afterwards, then removed;
-- a request moved from C3 (its only help) to C6
BEGIN;
INSERT INTO swarm.collab_requests (case_id, requester_id, group_id, priority, state, helper_id, created_at, accepted_at,
                                   resolved_at)
VALUES (7, 2, 1, 'P4', 'resolved', 1, '2020-03-02 15:00+00', '2020-03-02 15:05+00', '2020-03-02 16:00+00');
SELECT case_id, resolved_with_help FROM swarm.cases WHERE case_id = 7;
DELETE FROM swarm.collab_requests WHERE case_id = 7;
SELECT case_id, resolved_with_help FROM swarm.cases WHERE case_id = 7;
UPDATE swarm.collab_requests SET case_id = 6 WHERE request_id = 2;
SELECT case_id, resolved_with_help FROM swarm.cases WHERE case_id IN (3, 6) ORDER BY 1;
ROLLBACK;
-- a request inserted with its own requested group and priority keeps them (a restore)
BEGIN;
INSERT INTO swarm.collab_requests (case_id, requester_id, group_id, priority, requested_group_id, requested_priority)
VALUES (4, 1, 1, 'P1', 2, 'P3') RETURNING group_id, priority, requested_group_id, requested_priority;
INSERT INTO swarm.collab_requests (case_id, requester_id, needed, priority)
VALUES (4, 1, 'net:2', 'P2') RETURNING group_id, priority, requested_group_id, requested_priority;
ROLLBACK;

-- The analyst role ----------------------------------------------------------------------------------
SET ROLE swarm_analyst;
SELECT count(*) AS days FROM swarm.metrics_daily;
SELECT cases_resolved FROM swarm.metrics_knowledge('2020-03-02', '2020-03-04');
SELECT count(*) FROM swarm.cases;
SELECT count(*) FROM swarm.events;
SELECT swarm.open_case('T-99', 'analysts do not write', 'P4', '');
RESET ROLE;

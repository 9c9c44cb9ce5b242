-- SLA policies and due times: the most specific policy, due and at-risk
-- times of cases and requests, customer tiers, priority changes with pauses,
-- pause / resume, calendar changes, sla_status, request_sla_status, sla_due
-- and agents' shift calendars in routing.
--
-- Due times are stored: to control time, the tests set opened_at, created_at
-- and pause rows and recompute with the internal swarm.sla_refresh_case() /
-- swarm.sla_refresh_request(); states that depend on now() use instants far
-- from it, or now() itself inside one transaction.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET TimeZone = 'Europe/Berlin';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- office: Mon-Fri 09:00-12:00 and 13:00-17:00 in Berlin (7 h a day);
-- desk: Mon-Fri 08:00-16:00 in Berlin (8 h a day), changed further down.
SELECT swarm.add_calendar('office', 'Europe/Berlin',
    (SELECT jsonb_object_agg(d, '[["09:00","12:00"],["13:00","17:00"]]'::jsonb)
       FROM unnest(ARRAY['mon','tue','wed','thu','fri']) AS d)) AS office,
       swarm.add_calendar('desk', 'Europe/Berlin',
    (SELECT jsonb_object_agg(d, '[["08:00","16:00"]]'::jsonb)
       FROM unnest(ARRAY['mon','tue','wed','thu','fri']) AS d)) AS desk;
SELECT swarm.add_agent('own', 'Owner', 'pg:5, linux:3') AS own,
       swarm.add_agent('help', 'Helper', 'pg:4') AS help,
       swarm.add_agent('lin', 'Linux', 'linux:4') AS lin;
SELECT swarm.add_group('pg', 'pg:3', 'global') AS pg;
SELECT swarm.add_group_member('pg', 2);

-- Policies --------------------------------------------------------------------
SELECT swarm.set_sla_policy('P2', '2 hours', '14 hours', '1 hour', '7 hours', 'office') AS p2;
SELECT swarm.set_sla_policy('P2', '1 hour', '7 hours', '30 minutes', '3 hours 30 minutes', 'office',
                            customer_tier => 'gold') AS p2_gold;
SELECT swarm.set_sla_policy('P2', '2 hours', '14 hours', '2 hours', '14 hours', 'office', group_name => 'pg') AS p2_pg;
SELECT swarm.set_sla_policy('P2', '1 hour', '7 hours', '15 minutes', '2 hours', 'office', 'pg', 'gold') AS p2_pg_gold;
SELECT swarm.set_sla_policy('P1', '30 minutes', '4 hours', '15 minutes', '2 hours') AS p1_24x7;
SELECT swarm.set_sla_policy('P3', '7 hours', '21 hours', '7 hours', '21 hours', 'office') AS p3;
SELECT swarm.set_sla_policy('P3', '3 hours', '7 hours', '3 hours', '7 hours', 'office', customer_tier => 'gold') AS p3_gold;
SELECT swarm.set_sla_policy('P3', '5 hours', '14 hours', '5 hours', '14 hours', 'office', group_name => 'pg') AS p3_pg;
SELECT swarm.set_sla_policy('P4', '4 hours', '16 hours', '2 hours', '8 hours', 'desk', customer_tier => 'vip') AS p4_vip;
SELECT p.policy_id, p.priority, g.name AS "group", p.customer_tier, p.first_response, p.resolution, p.accept,
       p.request_resolution, c.name AS calendar, p.at_risk_fraction
  FROM swarm.sla_policies AS p JOIN swarm.calendars AS c USING (calendar_id)
  LEFT JOIN swarm.skill_groups AS g USING (group_id) ORDER BY p.policy_id;

-- the most specific policy wins; between a group and a tier match, the group
SELECT prio, grp, tier, (swarm.sla_policy_for(prio, (SELECT group_id FROM swarm.skill_groups WHERE name = grp), tier)).policy_id
  FROM (VALUES ('P2'::swarm.priority, NULL, NULL), ('P2', NULL, 'gold'), ('P2', NULL, 'silver'),
               ('P2', 'pg', NULL), ('P2', 'pg', 'gold'), ('P2', 'pg', 'silver'),
               ('P3', NULL, 'gold'), ('P3', 'pg', NULL), ('P3', 'pg', 'gold'),
               ('P1', 'pg', 'gold'), ('P4', NULL, 'vip'), ('P4', NULL, NULL)) AS t (prio, grp, tier);

-- Due times when a case opens ----------------------------------------------------
SELECT swarm.open_case('T-1', 'replica lag', 'P2', 'pg:3') AS c1;
SELECT sla_policy_id, customer_tier,
       first_response_due = swarm.business_add(opened_at, '2 hours', 'office') AS fr_due_set,
       first_response_risk_at = swarm.business_add(opened_at, '1 hour 30 minutes', 'office') AS fr_risk_set,
       resolution_due = swarm.business_add(opened_at, '14 hours', 'office') AS res_due_set,
       resolution_risk_at = swarm.business_add(opened_at, '10 hours 30 minutes', 'office') AS res_risk_set
  FROM swarm.cases WHERE case_id = 1;
-- opened on Monday 2020-06-15 at 10:00 (long ago: its deadlines have passed)
UPDATE swarm.cases SET opened_at = '2020-06-15 10:00' WHERE case_id = 1;
SELECT swarm.sla_refresh_case(1);
SELECT first_response_due, first_response_risk_at, resolution_due, resolution_risk_at FROM swarm.cases WHERE case_id = 1;
-- replacing a policy (same key) keeps its id and recomputes open cases
SELECT swarm.set_sla_policy('P2', '3 hours', '14 hours', '1 hour', '7 hours', 'office') AS same_policy;
SELECT count(*) AS policies FROM swarm.sla_policies;
SELECT first_response FROM swarm.sla_policies WHERE policy_id = 1;
SELECT first_response_due, first_response_risk_at FROM swarm.cases WHERE case_id = 1;
SELECT swarm.set_sla_policy('P2', '2 hours', '14 hours', '1 hour', '7 hours', 'office') AS back_again;
SELECT first_response_due, first_response_risk_at FROM swarm.cases WHERE case_id = 1;

-- Customer tiers: from open_case and set_customer_tier, cases and their requests ----
SELECT swarm.open_case('T-2', 'billing export', 'P2', 'pg:3', customer_tier => 'gold') AS c2;
SELECT swarm.assign_case(2, 1);
SELECT swarm.request_help(2, 'pg') AS r1, swarm.request_help(2, needed => 'linux:2') AS r2;
UPDATE swarm.cases SET opened_at = '2020-06-15 09:00' WHERE case_id = 2;
UPDATE swarm.collab_requests SET created_at = '2020-06-15 16:00' WHERE case_id = 2;
SELECT swarm.sla_refresh_case(2), swarm.sla_refresh_request(1), swarm.sla_refresh_request(2);
SELECT case_id, customer_tier, sla_policy_id, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at
  FROM swarm.cases WHERE case_id = 2;
SELECT request_id, sla_policy_id, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE case_id = 2 ORDER BY request_id;
SELECT swarm.set_customer_tier(2, NULL);
SELECT case_id, customer_tier, sla_policy_id, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at
  FROM swarm.cases WHERE case_id = 2;
SELECT request_id, sla_policy_id, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE case_id = 2 ORDER BY request_id;
SELECT swarm.set_customer_tier(2, 'silver');   -- no silver policy: the same as none
SELECT customer_tier, sla_policy_id FROM swarm.cases WHERE case_id = 2;
SELECT swarm.set_customer_tier(2, '');
SELECT swarm.set_customer_tier(99, 'gold');
SELECT swarm.open_case('T-x', 'empty tier', 'P2', 'pg:3', customer_tier => '');
SELECT detail FROM swarm.events WHERE kind = 'customer_tier_set' ORDER BY event_id;
-- a request's own priority
SELECT swarm.set_request_priority(2, 'P1');
SELECT request_id, priority, sla_policy_id, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE request_id = 2;
SELECT swarm.set_request_priority(2, 'P1');   -- unchanged: nothing happens
SELECT count(*) AS priority_events FROM swarm.events WHERE kind = 'priority_changed' AND request_id = 2;

-- A priority change with a pause in between ---------------------------------------
-- Case 3 (P3: 7 h first response, 21 h resolution) opened Monday 09:00 and
-- waited on the customer from Monday 10:00 to Tuesday 11:00 (8 working hours).
SELECT swarm.open_case('T-3', 'slow queries', 'P3', 'pg:3') AS c3;
SELECT swarm.assign_case(3, 1);
UPDATE swarm.cases SET opened_at = '2020-06-15 09:00' WHERE case_id = 3;
SELECT swarm.sla_refresh_case(3);
SELECT first_response_due, resolution_due FROM swarm.cases WHERE case_id = 3;
-- a pause that starts now, after both deadlines, does not move them
SELECT swarm.pause_sla(3, 'waiting for logs');
SELECT state, first_response_due, resolution_due FROM swarm.cases WHERE case_id = 3;
SELECT target, due_at, state FROM swarm.sla_status(3);
SELECT swarm.resume_sla(3);
SELECT state, first_response_due, resolution_due FROM swarm.cases WHERE case_id = 3;
-- the pause, moved back to Monday 10:00 - Tuesday 11:00
UPDATE swarm.sla_pauses SET paused_at = '2020-06-15 10:00', resumed_at = '2020-06-16 11:00' WHERE case_id = 3;
SELECT swarm.sla_refresh_case(3);
SELECT priority, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at
  FROM swarm.cases WHERE case_id = 3;
-- P2 (2 h, 14 h) applies to the working time already elapsed; the pause still does not count
SELECT swarm.set_case_priority(3, 'P2');
SELECT priority, sla_policy_id, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at
  FROM swarm.cases WHERE case_id = 3;
SELECT detail FROM swarm.events WHERE kind = 'priority_changed' AND case_id = 3;
-- a second pause, all of Wednesday: after the first-response deadline (unchanged),
-- before the resolution deadline (7 h later)
INSERT INTO swarm.sla_pauses (case_id, paused_at, resumed_at, reason)
VALUES (3, '2020-06-17 09:00', '2020-06-17 17:00', 'customer away');
SELECT swarm.sla_refresh_case(3);
SELECT first_response_due, first_response_risk_at, resolution_due, resolution_risk_at FROM swarm.cases WHERE case_id = 3;
SELECT swarm.set_case_priority(3, 'P2');   -- unchanged
SELECT count(*) AS priority_events FROM swarm.events WHERE kind = 'priority_changed' AND case_id = 3;

-- Pause and resume: the case and its open requests stop their clocks ------------
-- Case 4 opens on Monday 2030-06-17 09:00 (in the future: the pause that starts
-- now covers all of its working time), its requests at 10:00.
SELECT swarm.open_case('T-4', 'upgrade', 'P2', 'pg:3') AS c4;
SELECT swarm.assign_case(4, 1);
SELECT swarm.request_help(4, 'pg') AS r3, swarm.request_help(4, needed => 'linux:2') AS r4;
UPDATE swarm.cases SET opened_at = '2030-06-17 09:00' WHERE case_id = 4;
UPDATE swarm.collab_requests SET created_at = '2030-06-17 10:00' WHERE case_id = 4;
SELECT swarm.sla_refresh_case_and_requests(4);
CREATE TEMP TABLE before_pause AS
SELECT 'case' AS kind, case_id AS id, first_response_due AS due1, first_response_risk_at AS risk1,
       resolution_due AS due2, resolution_risk_at AS risk2
  FROM swarm.cases WHERE case_id = 4
UNION ALL
SELECT 'request', request_id, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE case_id = 4;
SELECT * FROM before_pause ORDER BY kind, id;
SELECT swarm.pause_sla(4, 'waiting for the customer');
SELECT state, first_response_due, first_response_risk_at, resolution_due, resolution_risk_at FROM swarm.cases WHERE case_id = 4;
SELECT request_id, state, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE case_id = 4 ORDER BY request_id;
SELECT target, due_at, state FROM swarm.sla_status(4);
SELECT request_id, s.target, s.due_at, s.state
  FROM swarm.collab_requests AS r, swarm.request_sla_status(r.request_id) AS s
 WHERE r.case_id = 4 ORDER BY 1, 2;
SELECT case_id, reason, resumed_at IS NULL AS open FROM swarm.sla_pauses WHERE case_id = 4;
SELECT swarm.pause_sla(4, 'twice');
SELECT swarm.resume_sla(4);
SELECT state FROM swarm.cases WHERE case_id = 4;
-- recomputed after the resume: the pause ended before the case opened
SELECT b.kind, b.id, (b.due1, b.risk1, b.due2, b.risk2) IS NOT DISTINCT FROM
       (CASE b.kind WHEN 'case' THEN (SELECT (first_response_due, first_response_risk_at, resolution_due, resolution_risk_at)
                                        FROM swarm.cases WHERE case_id = b.id)
                    ELSE (SELECT (accept_due, accept_risk_at, resolution_due, resolution_risk_at)
                            FROM swarm.collab_requests WHERE request_id = b.id) END) AS same_as_before
  FROM before_pause AS b ORDER BY 1, 2;
SELECT case_id, resumed_at IS NULL AS open, resumed_at >= paused_at AS ordered FROM swarm.sla_pauses WHERE case_id = 4;
SELECT swarm.resume_sla(4);
SELECT kind, detail FROM swarm.events WHERE kind IN ('sla_paused', 'sla_resumed') AND case_id = 4 ORDER BY event_id;
-- only an open case can be paused
SELECT swarm.pause_sla(1, 'new case');
SELECT swarm.resume_sla(1);
SELECT swarm.pause_sla(99, 'no such case');

-- A calendar change recomputes the due times of open cases and requests ------------
-- Case 5 (P4, tier vip: the desk calendar) opened Monday 2020-06-15 14:00, its request too.
SELECT swarm.open_case('T-5', 'vip outage', 'P4', 'linux:2', customer_tier => 'vip') AS c5;
SELECT swarm.assign_case(5, 1);
SELECT swarm.request_help(5, needed => 'linux:2') AS r5;
UPDATE swarm.cases SET opened_at = '2020-06-15 14:00' WHERE case_id = 5;
UPDATE swarm.collab_requests SET created_at = '2020-06-15 14:00' WHERE case_id = 5;
SELECT swarm.sla_refresh_case_and_requests(5);
CREATE TEMP VIEW due5 AS
SELECT 'case' AS kind, case_id AS id, sla_policy_id AS policy, first_response_due AS due1, first_response_risk_at AS risk1,
       resolution_due AS due2, resolution_risk_at AS risk2
  FROM swarm.cases WHERE case_id = 5
UNION ALL
SELECT 'request', request_id, sla_policy_id, accept_due, accept_risk_at, resolution_due, resolution_risk_at
  FROM swarm.collab_requests WHERE case_id = 5;
SELECT * FROM due5 ORDER BY kind, id;
SELECT swarm.set_calendar_hours('desk', (SELECT jsonb_object_agg(d, '[["08:00","18:00"]]'::jsonb)
                                           FROM unnest(ARRAY['mon','tue','wed','thu','fri']) AS d));
SELECT * FROM due5 ORDER BY kind, id;
SELECT swarm.add_holiday('desk', '2020-06-16');
SELECT * FROM due5 ORDER BY kind, id;
SELECT swarm.set_calendar_timezone('desk', 'Asia/Tokyo');
SELECT * FROM due5 ORDER BY kind, id;
-- cases on other calendars are untouched
SELECT first_response_due, resolution_due FROM swarm.cases WHERE case_id = 1;
-- a case without any policy has no due times and no targets
SELECT swarm.open_case('T-6', 'no policy', 'P4', 'pg:3') AS c6;
SELECT sla_policy_id, first_response_due, resolution_due FROM swarm.cases WHERE case_id = 6;
SELECT count(*) AS targets FROM swarm.sla_status(6);

-- sla_status and request_sla_status states --------------------------------------
-- P1 runs on 24x7 (30 min first response, 4 h resolution; requests 15 min accept,
-- 2 h resolution), so with now() fixed inside one transaction everything is exact.
SELECT swarm.open_case('T-7', 'on fire', 'P1', 'pg:3') AS c7, swarm.open_case('T-8', 'smoke', 'P1', 'pg:3') AS c8,
       swarm.open_case('T-9', 'fixed fast', 'P1', 'pg:3') AS c9, swarm.open_case('T-10', 'fixed late', 'P1', 'pg:3') AS c10;
SELECT swarm.assign_case(i, 1) FROM generate_series(9, 10) AS i;
BEGIN;
UPDATE swarm.cases SET opened_at = now() - CASE case_id WHEN 7 THEN interval '3 hours 30 minutes'
                                                        WHEN 8 THEN interval '10 minutes'
                                                        WHEN 9 THEN interval '2 hours'
                                                        ELSE interval '5 hours' END
 WHERE case_id BETWEEN 7 AND 10;
SELECT swarm.sla_refresh_case(i) FROM generate_series(7, 10) AS i;
SELECT swarm.record_response(9, now() - interval '1 hour 50 minutes') = now() - interval '1 hour 50 minutes' AS responded_9,
       swarm.record_response(10, now() - interval '4 hours') = now() - interval '4 hours' AS responded_10;
SELECT swarm.request_help(9, needed => 'linux:2') AS r6, swarm.request_help(9, 'pg') AS r7;
UPDATE swarm.collab_requests SET created_at = now() - CASE request_id WHEN 6 THEN interval '20 minutes'
                                                                     ELSE interval '5 minutes' END
 WHERE case_id = 9;
SELECT swarm.sla_refresh_request(6), swarm.sla_refresh_request(7);
SELECT request_id, s.target, s.state, s.elapsed, s.remaining
  FROM swarm.collab_requests AS r, swarm.request_sla_status(r.request_id) AS s
 WHERE r.case_id = 9 ORDER BY 1, 2;
SELECT swarm.accept_request(6, 3), swarm.accept_request(7, 2);
SELECT swarm.resolve_request(6, 'done');
SELECT request_id, s.target, s.state, s.elapsed, s.remaining
  FROM swarm.collab_requests AS r, swarm.request_sla_status(r.request_id) AS s
 WHERE r.case_id = 9 ORDER BY 1, 2;
SELECT swarm.resolve_case(9), swarm.resolve_case(10);
SELECT case_id, s.target, s.state, s.elapsed, s.remaining, s.due_at IS NOT NULL AS has_due
  FROM generate_series(7, 10) AS case_id, swarm.sla_status(case_id) AS s ORDER BY 1, 2;
COMMIT;
-- an open case far in the future is ok; a paused one is paused; the resolved ones keep their states
SELECT case_id, s.target, s.state FROM unnest(ARRAY[1, 3, 4, 9, 10]) AS case_id, swarm.sla_status(case_id) AS s ORDER BY 1, 2;
SELECT swarm.pause_sla(4, 'again');
SELECT case_id, s.target, s.state FROM swarm.sla_status(4) AS s, (VALUES (4)) AS v (case_id) ORDER BY 2;
SELECT swarm.resume_sla(4);
SELECT * FROM swarm.sla_status(99);
SELECT * FROM swarm.request_sla_status(99);
SELECT * FROM swarm.sla_status(NULL);

-- Priority changes need an open case ------------------------------------------
SELECT swarm.set_case_priority(9, 'P2');
SELECT swarm.set_request_priority(6, 'P2');
SELECT swarm.set_case_priority(3, NULL);

-- sla_due: at risk or breached by an instant, most overdue first ----------------
SELECT * FROM swarm.sla_due('2020-06-15 16:00');
SELECT * FROM swarm.sla_due('2020-06-16 12:00');
SELECT * FROM swarm.sla_due('2020-06-16 12:00', 3);
SELECT count(*) AS at_risk_before_2030 FROM swarm.sla_due('2030-01-01');
SELECT kind, id, target, state FROM swarm.sla_due('2030-06-17 10:50', 100) WHERE case_id = 4;
-- the function's query uses the four partial at-risk indexes (its RETURN QUERY
-- statement is prepared from the function's source, with before and max as
-- parameters, as PL/pgSQL plans it)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM swarm.sla_due('2020-06-16 12:00', 10);
DO $$
BEGIN
    EXECUTE 'PREPARE sla_due_query(timestamptz, integer) AS '
         || regexp_replace(regexp_replace(
                (SELECT substring(prosrc FROM 'RETURN QUERY(.*);\s*END') FROM pg_proc
                  WHERE oid = 'swarm.sla_due(timestamptz, integer)'::regprocedure),
                '\mbefore\M', '$1', 'g'), '\msla_due\.max\M', '$2', 'g');
END
$$;
EXPLAIN (COSTS OFF) EXECUTE sla_due_query('2020-06-16 12:00', 10);
EXECUTE sla_due_query('2020-06-16 12:00', 10);   -- the same rows as sla_due
DEALLOCATE sla_due_query;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Agents' shift calendars in routing ----------------------------------------------
-- "closed": Sundays only, with every date around today a holiday (so never now);
-- "always": around the clock with a holiday far away (compiled, not 24x7).
SELECT swarm.add_calendar('closed', 'UTC', '{"sun": [["00:00","24:00"]]}') > 0 AS closed,
       swarm.add_calendar('always', 'UTC', (SELECT jsonb_object_agg(d, '[["00:00","24:00"]]'::jsonb)
                                              FROM unnest(ARRAY['mon','tue','wed','thu','fri','sat','sun']) AS d),
                          ARRAY['2000-01-01']::date[]) > 0 AS always;
SELECT count(*) FROM (SELECT swarm.add_holiday('closed', d::date)
                        FROM generate_series(current_date - 8, current_date + 8, interval '1 day') AS d) AS h;
SELECT swarm.add_agent('s' || i, 'Shift ' || i, 'sql:4') FROM generate_series(1, 4) AS i;   -- agents 4-7
SELECT swarm.open_case('T-11', 'shift test', 'P3', 'sql:3') AS c11;
SELECT swarm.set_agent_calendar(4, 'always'), swarm.set_agent_calendar(5, 'closed'),
       swarm.set_agent_calendar(7, '24x7');
SELECT a.agent_id, c.name AS calendar FROM swarm.agents AS a LEFT JOIN swarm.calendars AS c USING (calendar_id)
 WHERE a.agent_id >= 4 ORDER BY 1;
SELECT agent_id FROM swarm.route_case(11, 10) ORDER BY agent_id;
SELECT agent_id, e ->> 'eligible' AS eligible, e ->> 'ineligible' AS ineligible, swarm.routing_score(agent_id, 11) > 0 AS scored
  FROM generate_series(4, 7) AS agent_id, swarm.explain_routing(agent_id, 11) AS e ORDER BY 1;
SELECT swarm.set_agent_calendar(5, NULL);
SELECT agent_id FROM swarm.route_case(11, 10) ORDER BY agent_id;
SELECT calendar_id IS NULL AS cleared FROM swarm.agents WHERE agent_id = 5;
-- the shift calendar's changes are seen at once
SELECT swarm.set_agent_calendar(6, 'closed');
SELECT agent_id FROM swarm.route_case(11, 10) ORDER BY agent_id;
SELECT swarm.set_calendar_hours('closed', (SELECT jsonb_object_agg(d, '[["00:00","24:00"]]'::jsonb)
                                             FROM unnest(ARRAY['mon','tue','wed','thu','fri','sat','sun']) AS d));
SELECT agent_id FROM swarm.route_case(11, 10) ORDER BY agent_id;   -- still holidays around today
SELECT count(*) FROM (SELECT swarm.remove_holiday('closed', d::date)
                        FROM generate_series(current_date - 8, current_date + 8, interval '1 day') AS d) AS h;
SELECT agent_id FROM swarm.route_case(11, 10) ORDER BY agent_id;
SELECT swarm.auto_assign(11) IS NOT NULL AS assigned;
SELECT swarm.set_agent_calendar(4, 'nowhere');
SELECT swarm.set_agent_calendar(99, 'always');
SELECT detail FROM swarm.events WHERE kind = 'agent_updated' AND agent_id = 5 ORDER BY event_id;

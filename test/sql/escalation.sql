-- Escalation: ladders (default and custom, most specific wins), each action's
-- effect, and swarm.escalate_due called by hand with explicit times.  No
-- background worker takes part: it works in another database.  Requests are
-- moved back to 2001-01-01 00:00 UTC (created_at, then sla_refresh_request),
-- so every due time is a fixed instant and sweeps pass fixed instants too.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Fixture ----------------------------------------------------------------------
SELECT swarm.add_agent('u1', 'Ana', 'pg:5, net:3', 'emea', capacity => 30) AS ana,   -- owner of every case
       swarm.add_agent('u2', 'Bo', 'pg:4', 'emea') AS bo,
       swarm.add_agent('u3', 'Cy', 'pg:3, net:4', 'amer') AS cy,
       swarm.add_agent('u4', 'Di', 'net:5', 'emea') AS di,
       swarm.add_agent('u5', 'Ed', 'pg:4, repl:4', 'apac') AS ed,
       swarm.add_agent('u6', 'Fay', 'sql:4', 'amer') AS fay;
SELECT swarm.add_group('pg-emea', 'pg:3', 'regional', 'emea') AS g1,
       swarm.add_group('pg-global', 'pg:3, repl:2', 'global') AS g2,     -- fits pg:3 requests best
       swarm.add_group('sql-global', 'pg:1, sql:3', 'global') AS g3,    -- fits them less
       swarm.add_group('net', 'net:3', 'regional', 'emea') AS g4,       -- no global group knows net
       swarm.add_group('dba', 'pg:4') AS g5;
SELECT swarm.add_group_member('pg-emea', 2, true), swarm.add_group_member('pg-global', 5, true),
       swarm.add_group_member('pg-global', 3), swarm.add_group_member('sql-global', 6, true),
       swarm.add_group_member('net', 4, true), swarm.add_group_member('net', 6, true),
       swarm.add_group_member('dba', 2), swarm.add_group_member('dba', 5);
-- acceptance targets: P1 10 minutes, P2 30 minutes, P3 1 hour; P4 has no policy
SELECT swarm.set_sla_policy('P1', '15 minutes', '4 hours', '10 minutes', '4 hours') AS p1,
       swarm.set_sla_policy('P2', '30 minutes', '8 hours', '30 minutes', '8 hours') AS p2,
       swarm.set_sla_policy('P3', '1 hour', '1 day', '1 hour', '1 day') AS p3;
SELECT count(swarm.open_case('T-' || i, 'case ' || i, 'P3', 'pg:3')) AS cases FROM generate_series(1, 24) AS i;
SELECT count(swarm.assign_case(i, 1)) AS assigned FROM generate_series(1, 24) AS i;

-- move a request's creation to a fixed instant; its due times follow
CREATE FUNCTION pg_temp.created(rid bigint, at timestamptz) RETURNS void LANGUAGE sql AS $$
    UPDATE swarm.collab_requests SET created_at = at WHERE request_id = rid;
    SELECT swarm.sla_refresh_request(rid);
$$;
-- a request's escalation state; times are given from its creation
CREATE TEMP VIEW req AS
SELECT r.request_id AS id, r.state, r.priority, g.name AS grp, r.escalation_level AS lvl,
       r.next_escalation_level AS next_lvl, r.next_escalation_at - r.created_at AS next_after,
       r.accept_due - r.created_at AS accept_after
  FROM swarm.collab_requests AS r LEFT JOIN swarm.skill_groups AS g USING (group_id);
-- the escalations made, due times from the request's creation
CREATE TEMP VIEW esc AS
SELECT e.request_id AS id, e.level, e.actions, e.due_at - r.created_at AS due_after
  FROM swarm.escalations AS e JOIN swarm.collab_requests AS r USING (request_id);
-- what each escalation did, as its request_escalated event records it (in order)
CREATE TEMP VIEW effects AS
SELECT ev.event_id, ev.request_id AS id, (ev.detail ->> 'level')::int AS level,
       ev.detail - 'level' - 'actions' - 'due_at' AS effect
  FROM swarm.events AS ev WHERE ev.kind = 'request_escalated';

-- Ladders ----------------------------------------------------------------------
SELECT * FROM swarm.default_ladder();
SELECT count(*) AS custom_rungs FROM swarm.escalation_ladder;
SELECT (SELECT array_agg(level) FROM swarm.ladder_for('P3', NULL)) AS p3_any,
       (SELECT array_agg(level) FROM swarm.ladder_for('P1', 4)) AS p1_net;

-- The default ladder, one level at a time ---------------------------------------
-- request 1: case 1 asks pg-emea (P3: accept due after 1 hour); levels at 45, 60 and 90 minutes
SELECT swarm.request_help(1, 'pg-emea') AS r1;
SELECT pg_temp.created(1, '2001-01-01 00:00+00');
SELECT * FROM req WHERE id = 1;
SELECT swarm.escalate_due('2001-01-01 00:44:59+00', 100) AS before_due;
SELECT swarm.escalate_due('2001-01-01 00:45+00', 100) AS at_75_percent;
SELECT swarm.escalate_due('2001-01-01 00:45+00', 100) AS again;
SELECT * FROM req WHERE id = 1;
SELECT * FROM esc WHERE id = 1 ORDER BY level;
-- renotify: tells the request's group again
SELECT level, effect FROM effects WHERE id = 1 ORDER BY event_id;
SELECT swarm.escalate_due('2001-01-01 00:59:59+00', 100) AS not_yet;
SELECT swarm.escalate_due('2001-01-01 01:00+00', 100) AS at_100_percent;
-- widen: to the global group that fits best (pg-global over sql-global);
-- notify_leads: the leads of the group that was asked (Bo)
SELECT * FROM req WHERE id = 1;
SELECT level, effect FROM effects WHERE id = 1 ORDER BY event_id;
SELECT swarm.escalate_due('2001-01-01 01:30+00', 100) AS at_150_percent;
-- raise_priority: P3 becomes P2, and the due times follow (P2 accepts in 30 minutes)
SELECT * FROM req WHERE id = 1;
SELECT level, effect FROM effects WHERE id = 1 ORDER BY event_id;
SELECT * FROM esc WHERE id = 1 ORDER BY level;
SELECT swarm.escalate_due('2002-01-01 00:00+00', 100) AS ladder_done;
-- the escalations, their events and the request agree
SELECT e.level, ev.event_id IS NOT NULL AS has_event, (ev.detail ->> 'due_at')::timestamptz = e.due_at AS same_due,
       ev.case_id, ev.agent_id IS NULL AS no_agent, ev.detail -> 'actions' = to_jsonb(e.actions) AS same_actions
  FROM swarm.escalations AS e
  LEFT JOIN swarm.events AS ev ON ev.kind = 'request_escalated' AND ev.request_id = e.request_id
                              AND (ev.detail ->> 'level')::int = e.level
 WHERE e.request_id = 1 ORDER BY e.level;
SELECT swarm.cancel_request(1);

-- Widen without a global group: every skilled agent ------------------------------
-- request 2: case 2 asks net (members Di and Fay; Fay has no net skill, membership qualifies her)
SELECT swarm.request_help(2, 'net') AS r2;
SELECT pg_temp.created(2, '2001-01-01 00:00+00');
SELECT array_agg(agent_id ORDER BY agent_id) AS candidates FROM swarm.suggest_helpers(2);
-- levels 1 and 2 are both due: one sweep fires them in order
SELECT swarm.escalate_due('2001-01-01 01:00+00', 100) AS fired;
SELECT * FROM req WHERE id = 2;
SELECT level, effect FROM effects WHERE id = 2 ORDER BY event_id;
-- now every agent with a net skill is a candidate (Cy and Di), Fay no longer
SELECT array_agg(agent_id ORDER BY agent_id) AS candidates FROM swarm.suggest_helpers(2);
SELECT swarm.cancel_request(2);

-- Nothing to widen to; leads of no group; raise_priority at P1 ----------------------
-- request 3: case 3, no group, needs net:2, P1 (accept in 10 minutes: levels at 7.5, 10, 15 minutes)
SELECT swarm.request_help(3, needed => 'net:2', priority => 'P1') AS r3;
SELECT pg_temp.created(3, '2001-01-01 00:00+00');
SELECT * FROM req WHERE id = 3;
-- a day late: the three levels fire in order, in one sweep, each once
SELECT swarm.escalate_due('2001-01-02 00:00+00', 100) AS fired;
SELECT * FROM esc WHERE id = 3 ORDER BY level;
SELECT level, effect FROM effects WHERE id = 3 ORDER BY event_id;
SELECT * FROM req WHERE id = 3;
SELECT swarm.escalate_due('2001-01-02 00:00+00', 100) AS second_sweep;
SELECT count(*) AS escalations, count(DISTINCT (request_id, level)) AS distinct_levels FROM swarm.escalations;
SELECT swarm.cancel_request(3);

-- Reoffer ------------------------------------------------------------------------
-- a ladder for group dba: reoffer at half the acceptance time and when it is due,
-- renotify half an hour after that
SELECT swarm.set_escalation_rung(1, '{reoffer}', at_fraction => 0.5, group_name => 'dba') > 0 AS rung1,
       swarm.set_escalation_rung(2, '{reoffer}', after_due => '0', group_name => 'dba') > 0 AS rung2,
       swarm.set_escalation_rung(3, '{renotify}', after_due => '30 minutes', group_name => 'dba') > 0 AS rung3;
SELECT * FROM swarm.ladder_for('P3', (SELECT group_id FROM swarm.skill_groups WHERE name = 'dba'));
-- request 4: push, offered to Bo; request 5: pull; request 6: push, not offered yet
SELECT swarm.request_help(4, 'dba') AS r4, swarm.request_help(5, 'dba', mode => 'pull') AS r5,
       swarm.request_help(6, 'dba') AS r6;
SELECT swarm.offer_request(4) AS offered_to;
SELECT pg_temp.created(id, '2001-01-01 00:00+00') FROM generate_series(4, 6) AS id;
SELECT * FROM req WHERE id BETWEEN 4 AND 6 ORDER BY id;
SELECT swarm.escalate_due('2001-01-01 00:30+00', 100) AS level1;
-- 4 moves on from Bo to Ed (Bo counts as having declined); 5 is pulled, nothing to offer; 6 is offered to Bo
SELECT request_id, state, offered_to FROM swarm.collab_requests WHERE request_id BETWEEN 4 AND 6 ORDER BY 1;
SELECT request_id, agent_id, reason FROM swarm.request_declines ORDER BY 1, 2;
SELECT id, level, effect FROM effects WHERE id BETWEEN 4 AND 6 ORDER BY event_id;
SELECT swarm.escalate_due('2001-01-01 01:00+00', 100) AS level2;
-- 4: Ed declined too, nobody is left: open, not offered; 6 moves on to Ed
SELECT request_id, state, offered_to FROM swarm.collab_requests WHERE request_id BETWEEN 4 AND 6 ORDER BY 1;
SELECT request_id, agent_id, reason FROM swarm.request_declines ORDER BY 1, 2;
SELECT id, level, effect FROM effects WHERE id BETWEEN 4 AND 6 AND level = 2 ORDER BY event_id;
SELECT kind, agent_id FROM swarm.events WHERE request_id = 4 AND kind IN ('no_eligible_helper', 'request_offered')
 ORDER BY event_id;
SELECT swarm.escalate_due('2001-01-01 01:29+00', 100) AS not_yet, swarm.escalate_due('2001-01-01 01:30+00', 100) AS level3;
SELECT * FROM req WHERE id BETWEEN 4 AND 6 ORDER BY id;
SELECT swarm.cancel_request(id) FROM generate_series(4, 6) AS id;
SELECT swarm.clear_escalation_ladder(group_name => 'dba') AS cleared;

-- Custom ladders: the most specific one wins -------------------------------------
SELECT swarm.set_escalation_rung(1, '{renotify}', at_fraction => 0.5, priority => 'P2') > 0 AS p2_1,
       swarm.set_escalation_rung(2, '{notify_leads}', after_due => '15 minutes', priority => 'P2') > 0 AS p2_2,
       swarm.set_escalation_rung(1, '{notify_leads}', at_fraction => 0.25, group_name => 'net') > 0 AS net_1,
       swarm.set_escalation_rung(1, '{raise_priority}', at_fraction => 0.9, priority => 'P2', group_name => 'net') > 0 AS p2_net_1,
       swarm.set_escalation_rung(1, '{renotify}', at_fraction => 2) > 0 AS any_1;
SELECT priority, g.name AS grp, level, at_fraction, after_due, actions
  FROM swarm.escalation_ladder LEFT JOIN swarm.skill_groups AS g USING (group_id) ORDER BY rung_id;
CREATE TEMP VIEW ladders AS
SELECT p AS priority, g AS grp,
       (SELECT string_agg(l.level || ':' || coalesce(l.at_fraction::text || 'x', '+' || l.after_due::text) || l.actions::text, ' '
                          ORDER BY l.level)
          FROM swarm.ladder_for(p, (SELECT group_id FROM swarm.skill_groups WHERE name = g)) AS l) AS ladder
  FROM (VALUES ('P2'::swarm.priority, 'net'), ('P3', 'net'), ('P2', 'pg-emea'), ('P3', 'pg-emea'),
               ('P2', NULL), ('P3', NULL)) AS v (p, g);
SELECT * FROM ladders;
-- setting a level again replaces it (same rung)
SELECT swarm.set_escalation_rung(1, '{renotify,notify_leads}', at_fraction => 0.5, priority => 'P2')
     = (SELECT rung_id FROM swarm.escalation_ladder WHERE priority = 'P2' AND group_id IS NULL AND level = 1) AS same_rung;
SELECT count(*) AS custom_rungs FROM swarm.escalation_ladder;
-- clearing falls back to the next most specific ladder
SELECT swarm.clear_escalation_ladder('P2', 'net') AS cleared;
SELECT * FROM ladders WHERE priority = 'P2' AND grp = 'net';
SELECT swarm.clear_escalation_ladder(group_name => 'net') AS cleared;
SELECT * FROM ladders WHERE priority = 'P2' AND grp = 'net';
SELECT swarm.clear_escalation_ladder() AS cleared;
SELECT * FROM ladders WHERE priority = 'P3';
SELECT swarm.clear_escalation_ladder('P2') AS cleared, swarm.clear_escalation_ladder('P2') AS again;
SELECT count(*) AS custom_rungs FROM swarm.escalation_ladder;

-- A ladder change reschedules open requests -------------------------------------
-- request 7: case 7 asks net at P2 (accept in 30 minutes): default ladder, level 1 at 22.5 minutes
SELECT swarm.request_help(7, 'net', priority => 'P2') AS r7;
SELECT pg_temp.created(7, '2001-01-01 00:00+00');
SELECT next_lvl, next_after FROM req WHERE id = 7;
SELECT swarm.set_escalation_rung(1, '{notify_leads}', at_fraction => 0.25, group_name => 'net') > 0 AS net_1;
SELECT next_lvl, next_after FROM req WHERE id = 7;
SELECT swarm.set_escalation_rung(1, '{raise_priority}', at_fraction => 0.9, priority => 'P2', group_name => 'net') > 0 AS p2_net_1;
SELECT next_lvl, next_after FROM req WHERE id = 7;
-- the (P2, net) level fires: P1 now, and net's own ladder applies, whose only level is done
SELECT swarm.escalate_due('2001-01-01 00:26+00', 100) AS early, swarm.escalate_due('2001-01-01 00:27+00', 100) AS fired;
SELECT * FROM req WHERE id = 7;
SELECT * FROM esc WHERE id = 7;
SELECT swarm.escalate_due('2001-02-01 00:00+00', 100) AS nothing_more;
SELECT swarm.clear_escalation_ladder('P2', 'net') + swarm.clear_escalation_ladder(group_name => 'net') AS cleared;
-- back on the default ladder (at P1 now): level 1 is done, level 2 is due when acceptance is (10 minutes)
SELECT next_lvl, next_after FROM req WHERE id = 7;
SELECT swarm.cancel_request(7);

-- after_due levels ----------------------------------------------------------------
-- request 8 (P3, accept due after 1 hour): at the due time, and an hour after it
SELECT swarm.set_escalation_rung(1, '{renotify}', after_due => '0', priority => 'P3') > 0 AS p3_1,
       swarm.set_escalation_rung(2, '{notify_leads}', after_due => '1 hour', priority => 'P3') > 0 AS p3_2;
SELECT swarm.request_help(8, 'pg-emea') AS r8;
SELECT pg_temp.created(8, '2001-01-01 00:00+00');
SELECT * FROM req WHERE id = 8;
SELECT swarm.escalate_due('2001-01-01 00:59:59+00', 100) AS before_due, swarm.escalate_due('2001-01-01 01:00+00', 100) AS at_due;
SELECT swarm.escalate_due('2001-01-01 01:59:59+00', 100) AS before, swarm.escalate_due('2001-01-01 02:00+00', 100) AS hour_late;
SELECT * FROM esc WHERE id = 8 ORDER BY level;
SELECT * FROM req WHERE id = 8;
SELECT swarm.clear_escalation_ladder('P3') AS cleared;

-- Each level at most once ----------------------------------------------------------
-- request 8 is back on the default ladder, whose levels 1 and 2 it reached; level 3 is due
SELECT * FROM req WHERE id = 8;
SELECT swarm.escalate_due('2001-01-02 00:00+00', 100) AS level3;
-- even when its schedule is reset, a level that fired never fires again (it is P2 now: level 1 at 22.5 minutes)
UPDATE swarm.collab_requests SET escalation_level = 0 WHERE request_id = 8;
SELECT swarm.sla_refresh_request(8);
SELECT lvl, next_lvl, next_after FROM req WHERE id = 8;
SELECT swarm.escalate_due('2001-01-02 00:00+00', 100) AS fired_again;
SELECT * FROM req WHERE id = 8;
SELECT count(*) AS escalations, count(*) FILTER (WHERE id = 8) AS of_request_8 FROM esc;
SELECT count(*) AS events FROM effects WHERE id = 8;
SELECT swarm.cancel_request(8);

-- max ---------------------------------------------------------------------------------
-- requests 9, 10, 11 created a minute apart: level 1 due at 45, 46 and 47 minutes
SELECT swarm.request_help(i, 'pg-emea') FROM generate_series(9, 11) AS i;
SELECT pg_temp.created(id, '2001-01-01 00:00+00'::timestamptz + (id - 9) * interval '1 minute') FROM generate_series(9, 11) AS id;
SELECT swarm.escalate_due('2001-01-01 00:50+00', 2) AS first_two;
SELECT id, lvl FROM req WHERE id BETWEEN 9 AND 11 ORDER BY id;
SELECT swarm.escalate_due('2001-01-01 00:50+00', 2) AS the_third, swarm.escalate_due('2001-01-01 00:50+00', 2) AS none_left;
SELECT id, lvl FROM req WHERE id BETWEEN 9 AND 11 ORDER BY id;
-- max counts requests, not escalations: request 9 fires its two remaining levels
SELECT swarm.escalate_due('2001-01-02 00:00+00', 1) AS one_request;
SELECT id, lvl FROM req WHERE id BETWEEN 9 AND 11 ORDER BY id;
SELECT swarm.cancel_request(id) FROM generate_series(9, 11) AS id;

-- Never escalated: accepted, resolved, cancelled, no SLA, paused ---------------------------
SELECT swarm.request_help(12, 'pg-emea') AS accepted, swarm.request_help(13, 'pg-emea') AS resolved,
       swarm.request_help(14, 'pg-emea') AS cancelled, swarm.request_help(15, 'pg-emea', priority => 'P4') AS no_sla,
       swarm.request_help(16, 'pg-emea', mode => 'pull') AS due;
SELECT pg_temp.created(id, '2001-01-01 00:00+00') FROM generate_series(12, 16) AS id;
SELECT swarm.accept_request(12, 2), swarm.accept_request(13, 5), swarm.resolve_request(13), swarm.cancel_request(14);
SELECT * FROM req WHERE id BETWEEN 12 AND 16 ORDER BY id;
SELECT swarm.escalate_due('2002-01-01 00:00+00', 100) AS fired;
SELECT id, count(e.level) AS escalations
  FROM generate_series(12, 16) AS id LEFT JOIN swarm.escalations AS e ON e.request_id = id GROUP BY id ORDER BY id;
SELECT swarm.cancel_request(16);
-- an accepted request can be escalated no more even if its schedule says so
UPDATE swarm.collab_requests SET next_escalation_at = '2001-01-01 00:00+00', next_escalation_level = 1 WHERE request_id = 12;
SELECT swarm.escalate_due('2002-01-01 00:00+00', 100) AS accepted_not_escalated;
-- paused: request 17 is created now and its case waits on the customer before anything is due
SELECT swarm.request_help(17, 'pg-emea') AS r17;
SELECT swarm.pause_sla(17, 'waiting for logs');
SELECT state, (SELECT c.state FROM swarm.cases AS c WHERE c.case_id = 17) AS case_state, accept_after, next_lvl, next_after
  FROM req WHERE id = 17;
SELECT swarm.escalate_due(now() + interval '10 years', 100) AS while_paused;
SELECT swarm.resume_sla(17);
SELECT state, accept_after >= interval '1 hour' AS accept_after_1h, next_lvl FROM req WHERE id = 17;
SELECT swarm.escalate_due(now() + interval '10 years', 100) AS after_resume;
SELECT level, actions FROM esc WHERE id = 17 ORDER BY level;

-- All in all -------------------------------------------------------------------------------
SELECT count(*) AS escalations, count(DISTINCT (request_id, level)) AS distinct_levels FROM swarm.escalations;
SELECT count(*) AS escalation_events FROM swarm.events WHERE kind = 'request_escalated';
SELECT bool_and(r.escalation_level = (SELECT max(e.level) FROM swarm.escalations AS e WHERE e.request_id = r.request_id))
       AS levels_agree
  FROM swarm.collab_requests AS r WHERE EXISTS (SELECT 1 FROM swarm.escalations AS e WHERE e.request_id = r.request_id);

-- Batches ----------------------------------------------------------------------------------
-- escalate_due escalates what it claims set-based, a few statements per level for the whole
-- batch, in one subtransaction; reoffer, a level not in the ladder, a level that fired before
-- and two widenings on one case go one request at a time.  What it computes must be what the
-- per-request functions compute.
SELECT swarm.cancel_request(17);
SELECT swarm.add_agent('u7', 'Gus', 'pg:3', 'emea', capacity => 10) AS gus;     -- owner of cases 25-34
SELECT count(swarm.open_case('T-' || i, 'case ' || i, 'P3', 'pg:3')) AS cases,
       count(swarm.assign_case(i, 7)) AS assigned FROM generate_series(25, 34) AS i;
-- P2 works office hours, with a level of its own at 150 %; pg-global has its own P3 targets
SELECT swarm.add_calendar('office', 'UTC', '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
       "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}') > 0 AS office;
SELECT swarm.set_sla_policy('P2', '1 hour', '1 day', '2 hours', '3 days', calendar => 'office') > 0 AS p2_office,
       swarm.set_sla_policy('P3', '1 hour', '1 day', '90 minutes', '2 days', group_name => 'pg-global') > 0 AS p3_pg_global,
       swarm.set_escalation_rung(4, '{renotify}', at_fraction => 1.5, priority => 'P2') > 0 AS p2_4;
-- 18: pg-emea, widened to pg-global (its own targets); 19: net, widened to every skilled agent;
-- 20: no group, its case paused from 00:10 to 00:40; 21: pg-emea, its next level not in its ladder
SELECT swarm.request_help(25, 'pg-emea') AS r18, swarm.request_help(26, 'net') AS r19,
       swarm.request_help(27, needed => 'pg:2') AS r20, swarm.request_help(28, 'pg-emea') AS r21;
INSERT INTO swarm.sla_pauses (case_id, paused_at, resumed_at, reason)
VALUES (27, '2001-01-01 00:10+00', '2001-01-01 00:40+00', 'for the test');
SELECT pg_temp.created(id, '2001-01-01 00:00+00') FROM generate_series(18, 21) AS id;
UPDATE swarm.collab_requests SET next_escalation_level = 7 WHERE request_id = 21;
SELECT * FROM req WHERE id BETWEEN 18 AND 21 ORDER BY id;
-- at noon on Monday every level is due: 1 to 3 at P3, then 4 at P2 (1.5 x 2 office hours from 09:00)
SELECT swarm.escalate_due('2001-01-01 12:00+00', 100) AS fired;
SELECT * FROM req WHERE id BETWEEN 18 AND 21 ORDER BY id;
SELECT * FROM esc WHERE id BETWEEN 18 AND 21 ORDER BY id, level;
SELECT id, level, effect FROM effects WHERE id BETWEEN 18 AND 21 ORDER BY id, level;
-- one sweep, one subtransaction: the escalations share one transaction id
SELECT count(DISTINCT xmin::text) AS xids FROM swarm.escalations WHERE request_id BETWEEN 18 AND 21;
-- the due times and schedules are what sla_refresh_request computes (it runs on each, rolled back)
CREATE FUNCTION pg_temp.drift(ids bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE before_refresh AS SELECT * FROM swarm.collab_requests WHERE request_id = ANY (ids);
    PERFORM swarm.sla_refresh_request(id) FROM unnest(ids) AS id;
    SELECT count(*) INTO n FROM before_refresh AS b JOIN swarm.collab_requests AS r USING (request_id)
     WHERE (b.priority, b.group_id, b.sla_policy_id, b.accept_due, b.accept_risk_at, b.resolution_due,
            b.resolution_risk_at, b.escalation_level, b.next_escalation_at, b.next_escalation_level)
           IS DISTINCT FROM
           (r.priority, r.group_id, r.sla_policy_id, r.accept_due, r.accept_risk_at, r.resolution_due,
            r.resolution_risk_at, r.escalation_level, r.next_escalation_at, r.next_escalation_level);
    RAISE EXCEPTION 'roll back';
EXCEPTION WHEN raise_exception THEN
    RETURN n;
END
$$;
SELECT pg_temp.drift('{18,19,20,21}') AS requests_that_differ;
-- their ladders are done
SELECT swarm.escalate_due('2001-01-02 00:00+00', 100) AS nothing_left;

-- Two requests of one case widened in one sweep: one after the other, as the per-request way
-- does (22 takes pg-global, the best fit; 23 the next best, sql-global: one request per group)
SELECT swarm.request_help(29, 'pg-emea') AS r22, swarm.request_help(29, 'dba') AS r23;
SELECT pg_temp.created(22, '2001-01-01 00:00+00'), pg_temp.created(23, '2001-01-01 00:01+00');
SELECT swarm.escalate_due('2001-01-01 01:01+00', 100) AS fired;
SELECT id, grp, lvl FROM req WHERE id IN (22, 23) ORDER BY id;
SELECT id, level, effect FROM effects WHERE id IN (22, 23) ORDER BY event_id;
SELECT swarm.cancel_request(22), swarm.cancel_request(23);

-- A request that cannot be escalated does not hold up its batch --------------------------------
-- requests 24-28; a trigger refuses the escalation event of request 26
SELECT swarm.request_help(i, 'pg-emea') FROM generate_series(30, 34) AS i;
SELECT pg_temp.created(id, '2001-01-01 00:00+00'::timestamptz + (id - 24) * interval '1 second')
  FROM generate_series(24, 28) AS id;
CREATE FUNCTION public.refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event refused for the test';
END
$$;
CREATE TRIGGER refuse_26 BEFORE INSERT ON swarm.events FOR EACH ROW
    WHEN (NEW.kind = 'request_escalated' AND NEW.request_id = 26) EXECUTE FUNCTION public.refuse_event();
-- the batch fails, is split, and the others escalate; 26 is put off a minute from now
SELECT swarm.escalate_due('2001-01-01 00:50+00', 100) AS fired;
SELECT id, lvl, next_lvl, CASE WHEN id = 26 THEN next_escalation_at - clock_timestamp() BETWEEN interval '50 seconds' AND interval '60 seconds'
                           END AS put_off_a_minute
  FROM req JOIN swarm.collab_requests AS r ON r.request_id = req.id WHERE id BETWEEN 24 AND 28 ORDER BY id;
SELECT id, count(*) AS escalations FROM esc WHERE id BETWEEN 24 AND 28 GROUP BY id ORDER BY id;
DROP TRIGGER refuse_26 ON swarm.events;
DROP FUNCTION public.refuse_event();
-- later, every level of each, once
SELECT swarm.escalate_due(clock_timestamp() + interval '2 minutes', 100) AS fired;
SELECT id, array_agg(level ORDER BY level) AS levels FROM esc WHERE id BETWEEN 24 AND 28 GROUP BY id ORDER BY id;
SELECT count(*) AS events, count(DISTINCT (id, level)) AS distinct_levels FROM effects WHERE id BETWEEN 24 AND 28;
SELECT swarm.cancel_request(id) FROM generate_series(18, 28) AS id WHERE id NOT IN (22, 23);

-- Everything, again -------------------------------------------------------------------------
SELECT count(*) AS escalations, count(DISTINCT (request_id, level)) AS distinct_levels FROM swarm.escalations;
SELECT count(*) AS escalation_events FROM swarm.events WHERE kind = 'request_escalated';

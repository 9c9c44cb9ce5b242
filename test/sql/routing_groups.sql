-- Routing helpers: suggest_helpers for regional, global and group-less
-- requests, exclusions, the preferred helper, the least_loaded and
-- round_robin methods, push (offer_request, declines, timed-out offers,
-- expire_offers) and pull (grab_request).  Scores are checked against values
-- computed by hand; for helpers, load is 1 - open_helps / help_capacity.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET search_path = public, swarm;

-- The fixture ---------------------------------------------------------------------
--  id name skills                      region help_capacity
--   1 Own  postgres:3, replication:3   emea   3   owns every case
--   2 Ann  postgres:5, replication:4   emea   3   helps on one other case
--   3 Bea  postgres:2                  emea   1
--   4 Cal  postgres:5, replication:5   amer   2
--   5 Dan  postgres:3                  apac   4   helps on two other cases
--   6 Eli  replication:3               amer   2
--   7 Fin  postgres:2                  emea   3   in no group
--   8 Gia  networking:5                emea   3   in no group
-- groups: pg-emea (regional, emea, postgres:4): Ann, Bea, Cal
--         pg-global (global, postgres:4, replication:3): Ann, Bea, Cal, Dan, Eli
SELECT swarm.add_agent('u1', 'Own', 'postgres:3, replication:3', 'emea', capacity => 40),
       swarm.add_agent('u2', 'Ann', 'postgres:5, replication:4', 'emea'),
       swarm.add_agent('u3', 'Bea', 'postgres:2', 'emea'),
       swarm.add_agent('u4', 'Cal', 'postgres:5, replication:5', 'amer'),
       swarm.add_agent('u5', 'Dan', 'postgres:3', 'apac'),
       swarm.add_agent('u6', 'Eli', 'replication:3', 'amer'),
       swarm.add_agent('u7', 'Fin', 'postgres:2', 'emea'),
       swarm.add_agent('u8', 'Gia', 'networking:5', 'emea');
SELECT swarm.update_agent(3, help_capacity => 1), swarm.update_agent(4, help_capacity => 2),
       swarm.update_agent(5, help_capacity => 4), swarm.update_agent(6, help_capacity => 2);
SELECT swarm.add_group('pg-emea', 'postgres:4', 'regional', 'emea') AS pg_emea,
       swarm.add_group('pg-global', 'postgres:4, replication:3', 'global') AS pg_global;
SELECT swarm.add_group_member('pg-emea', a) FROM unnest(ARRAY[2, 3, 4]) AS a;
SELECT swarm.add_group_member('pg-global', a) FROM unnest(ARRAY[2, 3, 4, 5, 6]) AS a;

-- case 1 is the one helped; cases 2-4 give Ann one and Dan two helps elsewhere
SELECT swarm.open_case('T-' || i, 'case ' || i, 'P2', 'postgres:3', 'cust' || i, CASE WHEN i = 1 THEN 'emea' ELSE 'amer' END)
  FROM generate_series(1, 4) AS i;
SELECT swarm.assign_case(i, 1) FROM generate_series(1, 4) AS i;
SELECT swarm.request_help(2, needed => 'postgres:1') AS r1, swarm.request_help(3, needed => 'postgres:1') AS r2,
       swarm.request_help(4, needed => 'postgres:1') AS r3;
SELECT swarm.accept_request(1, 2), swarm.accept_request(2, 5), swarm.accept_request(3, 5);
SELECT agent_id, name, skills, region, help_capacity, open_helps FROM swarm.agents ORDER BY agent_id;

-- hand-computed expectations: position, agent, score and the six components
CREATE TEMP TABLE hand (pos int, agent_id bigint, score float8, match float8, load float8,
                        availability float8, region float8, experience float8, continuity float8);
CREATE FUNCTION pg_temp.check_helpers(request_id bigint) RETURNS TABLE (pos bigint, agent_id bigint, ok boolean)
LANGUAGE sql AS $$
    SELECT coalesce(r.pos, h.pos), coalesce(r.agent_id, h.agent_id),
           r.agent_id IS NOT NULL AND h.agent_id IS NOT NULL AND r.score = h.score
           AND abs((r.reasons->>'match')::float8 - h.match) < 1e-12
           AND abs((r.reasons->>'load')::float8 - h.load) < 1e-12
           AND abs((r.reasons->>'availability')::float8 - h.availability) < 1e-12
           AND abs((r.reasons->>'region')::float8 - h.region) < 1e-12
           AND abs((r.reasons->>'experience')::float8 - h.experience) < 1e-12
           AND abs((r.reasons->>'continuity')::float8 - h.continuity) < 1e-12
      FROM swarm.suggest_helpers(request_id, 100) WITH ORDINALITY AS r (agent_id, score, reasons, pos)
      FULL JOIN hand AS h ON h.pos = r.pos AND h.agent_id = r.agent_id
$$;

-- a regional group ------------------------------------------------------------------------
-- request 4 to pg-emea needs the group's skills, postgres:4; case 1 is in emea:
--  Ann: match 1, load 1-1/3, emea 1: .40 + .15*2/3 + .10 + .10 = 0.7
--  Cal: match 1, load 1, amer 0:     .40 + .15 + .10            = 0.65
--  Bea: match 2/4, load 1, emea 1:   .20 + .15 + .10 + .10      = 0.55
SELECT swarm.request_help(1, 'pg-emea') AS r4;
SELECT needed FROM swarm.collab_requests WHERE request_id = 4;
SELECT pos, agent_id, score, reasons FROM swarm.suggest_helpers(4, 10) WITH ORDINALITY AS s (agent_id, score, reasons, pos);
INSERT INTO hand VALUES
    (1, 2, 0.7,  1,   2/3.0, 1, 1, 0, 0),
    (2, 4, 0.65, 1,   1,     1, 0, 0, 0),
    (3, 3, 0.55, 0.5, 1,     1, 1, 0, 0);
SELECT * FROM pg_temp.check_helpers(4) ORDER BY pos;
-- the same region is preferred: Ann and Cal have the same skills and Cal the
-- lighter load, but Ann is in the case's region
SELECT (SELECT agent_id FROM swarm.suggest_helpers(4, 1)) = 2 AS same_region_first;
SELECT count(*) AS k2 FROM swarm.suggest_helpers(4, 2);

-- a global group: follow the sun ------------------------------------------------------------
-- request 5 to pg-global needs postgres:4, replication:3 (7 levels).  The
-- region component is the spare help capacity of the agent's region among the
-- group's eligible members:
--   emea: Ann 3-1, Bea 1-0 -> 3/4;  amer: Cal 2, Eli 2 -> 4/4;  apac: Dan 4-2 -> 2/4
--  Cal: match 1, load 1, amer 1:           .40 + .15 + .10 + .10            = 0.75
--  Ann: match 1, load 2/3, emea .75:       .40 + .10 + .10 + .075           = 0.675
--  Eli: match 3/7, load 1, amer 1:         .40*3/7 + .15 + .10 + .10        = 0.521428571
--  Bea: match 2/7, load 1, emea .75:       .40*2/7 + .15 + .10 + .075       = 0.439285714
--  Dan: match 3/7, load 1/2, apac .5:      .40*3/7 + .075 + .10 + .05       = 0.396428571
SELECT swarm.request_help(1, 'pg-global') AS r5;
SELECT pos, agent_id, score, reasons FROM swarm.suggest_helpers(5, 10) WITH ORDINALITY AS s (agent_id, score, reasons, pos);
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 4, 0.75,        1,     1,     1, 1,    0, 0),
    (2, 2, 0.675,       1,     2/3.0, 1, 0.75, 0, 0),
    (3, 6, 0.521428571, 3/7.0, 1,     1, 1,    0, 0),
    (4, 3, 0.439285714, 2/7.0, 1,     1, 0.75, 0, 0),
    (5, 5, 0.396428571, 3/7.0, 0.5,   1, 0.5,  0, 0);
SELECT * FROM pg_temp.check_helpers(5) ORDER BY pos;
-- Dan goes away: availability .5, and apac's spare capacity is unchanged
--  Dan: .40*3/7 + .075 + .05 + .05 = 0.346428571
SELECT swarm.set_presence(5, 'away');
SELECT agent_id, score, score = 0.346428571 AS ok, reasons->'availability' AS availability
  FROM swarm.suggest_helpers(5, 10) WHERE agent_id = 5;
SELECT swarm.set_presence(5, 'online');

-- no group: agents sharing a needed skill -----------------------------------------------------
-- request 6 needs replication:3; Own (the owner) has it but is excluded.
--  Ann: match 1, load 2/3, emea 1: .40 + .10 + .10 + .10 = 0.7
--  Cal: match 1, load 1, amer 0:   .40 + .15 + .10       = 0.65
--  Eli: as Cal                                            = 0.65
SELECT swarm.request_help(1, needed => 'replication:3') AS r6;
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 2, 0.7,  1, 2/3.0, 1, 1, 0, 0),
    (2, 4, 0.65, 1, 1,     1, 0, 0, 0),
    (3, 6, 0.65, 1, 1,     1, 0, 0, 0);
SELECT * FROM pg_temp.check_helpers(6) ORDER BY pos;

-- exclusions ------------------------------------------------------------------------------------
-- Cal accepts request 5: he now helps on case 1 and is no longer suggested
-- for its other requests
SELECT swarm.accept_request(5, 4);
SELECT agent_id, score FROM swarm.suggest_helpers(4, 10);
SELECT agent_id, score FROM swarm.suggest_helpers(6, 10);
-- Ann declines request 6: never suggested for it again (still for request 4)
SELECT swarm.decline_request(6, 2, 'on leave soon');
SELECT agent_id, score FROM swarm.suggest_helpers(6, 10);
SELECT agent_id, score FROM swarm.suggest_helpers(4, 10);
-- an inactive or offline member, or one at help capacity, is not suggested
SELECT swarm.update_agent(2, active => false);
SELECT agent_id FROM swarm.suggest_helpers(4, 10);
SELECT swarm.update_agent(2, active => true), swarm.set_presence(3, 'offline');
SELECT agent_id FROM swarm.suggest_helpers(4, 10);
SELECT swarm.set_presence(3, 'online'), swarm.update_agent(2, help_capacity => 1);
SELECT agent_id FROM swarm.suggest_helpers(4, 10);
SELECT swarm.update_agent(2, help_capacity => 3);
SELECT agent_id FROM swarm.suggest_helpers(4, 10);
-- nobody left: Eli declines request 6 too
SELECT swarm.decline_request(6, 6);
SELECT count(*) AS nobody FROM swarm.suggest_helpers(6);

-- the preferred helper --------------------------------------------------------------------------
-- case 5 asks pg-emea for Bea: she comes first although she scores lowest
SELECT swarm.open_case('T-5', 'preferred', 'P3', 'postgres:3', 'cust5', 'emea') AS c5,
       swarm.open_case('T-6', 'preferred outsider', 'P3', 'postgres:3', 'cust6', 'emea') AS c6;
SELECT swarm.assign_case(5, 1), swarm.assign_case(6, 1);
SELECT swarm.request_help(5, 'pg-emea', preferred => 3) AS r7;
SELECT agent_id, score, reasons->'preferred' AS preferred FROM swarm.suggest_helpers(7, 10);
--  Bea 0.55 (preferred); Ann 0.7; Cal, who helps on case 1 only (1/2):
--  .40 + .15*1/2 + .10 = 0.575
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 3, 0.55,  0.5, 1,     1, 1, 0, 0),
    (2, 2, 0.7,   1,   2/3.0, 1, 1, 0, 0),
    (3, 4, 0.575, 1,   0.5,   1, 0, 0, 0);
SELECT * FROM pg_temp.check_helpers(7) ORDER BY pos;
-- Gia is in no group and has none of the skills (match 0): still first
--  Gia: .15 + .10 + .10 = 0.35
SELECT swarm.request_help(6, 'pg-emea', preferred => 8) AS r8;
SELECT agent_id, score, reasons->'preferred' AS preferred, reasons->'match' AS match FROM swarm.suggest_helpers(8, 10);
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 8, 0.35,  0,   1,     1, 1, 0, 0),
    (2, 2, 0.7,   1,   2/3.0, 1, 1, 0, 0),
    (3, 4, 0.575, 1,   0.5,   1, 0, 0, 0),
    (4, 3, 0.55,  0.5, 1,     1, 1, 0, 0);
SELECT * FROM pg_temp.check_helpers(8) ORDER BY pos;
-- a preferred helper who declined is not preferred any more, nor suggested
SELECT swarm.decline_request(8, 8, 'not my area');
SELECT agent_id, score, reasons->'preferred' AS preferred FROM swarm.suggest_helpers(8, 10);
-- nor is one who cannot help now
SELECT swarm.set_presence(3, 'offline');
SELECT agent_id, reasons->'preferred' AS preferred FROM swarm.suggest_helpers(7, 10);
SELECT swarm.set_presence(3, 'online');
-- offer_request offers the preferred helper first
SELECT swarm.offer_request(7) AS offered_to;
SELECT swarm.cancel_request(7), swarm.cancel_request(8);

-- least_loaded ------------------------------------------------------------------------------
-- members by open_helps / help_capacity, then score: Bea 0/1, Eli 0/2 (Cal helps
-- on case 1: he is 1/2 now), Ann 1/3, Dan 2/4
SELECT swarm.add_group('pg-ll', 'postgres:4, replication:3', 'global');
SELECT swarm.add_group_member('pg-ll', a) FROM unnest(ARRAY[2, 3, 4, 5, 6]) AS a;
SELECT swarm.set_group_routing('pg-ll', 'least_loaded');
SELECT routing FROM swarm.skill_groups WHERE name = 'pg-ll';
SELECT swarm.open_case('T-7', 'least loaded', 'P3', 'postgres:3', 'cust7', 'emea') AS c7;
SELECT swarm.assign_case(7, 1);
SELECT swarm.request_help(7, 'pg-ll') AS r9;
SELECT s.pos, a.agent_id, a.open_helps, a.help_capacity, s.score, s.reasons->'method' AS method
  FROM swarm.suggest_helpers(9, 10) WITH ORDINALITY AS s (agent_id, score, reasons, pos)
  JOIN swarm.agents AS a USING (agent_id)
 ORDER BY s.pos;
-- spares: emea Ann 2 + Bea 1 of 4, amer Cal 1 + Eli 2 of 4, apac Dan 2 of 4
--  Eli 0/2: .40*3/7 + .15 + .10 + .075           = 0.496428571
--  Bea 0/1: .40*2/7 + .15 + .10 + .075           = 0.439285714
--  Ann 1/3: .40 + .15*2/3 + .10 + .075           = 0.675
--  Cal 1/2: .40 + .075 + .10 + .075              = 0.65
--  Dan 2/4: .40*3/7 + .075 + .10 + .05           = 0.396428571
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 6, 0.496428571, 3/7.0, 1,     1, 0.75, 0, 0),
    (2, 3, 0.439285714, 2/7.0, 1,     1, 0.75, 0, 0),
    (3, 2, 0.675,       1,     2/3.0, 1, 0.75, 0, 0),
    (4, 4, 0.65,        1,     0.5,   1, 0.75, 0, 0),
    (5, 5, 0.396428571, 3/7.0, 0.5,   1, 0.5,  0, 0);
SELECT * FROM pg_temp.check_helpers(9) ORDER BY pos;
SELECT swarm.offer_request(9) AS offered_to;
SELECT swarm.cancel_request(9);

-- round_robin ---------------------------------------------------------------------------------
-- the cursor is the member offered last; members after it come first.  (That
-- each member gets its turn is a TODO test in test/pgtap/routing_api.sql: the
-- parts are ordered by score, so the best member can be offered every time.)
SELECT swarm.add_group('pg-rr', 'postgres:4, replication:3', 'global');
SELECT swarm.add_group_member('pg-rr', a) FROM unnest(ARRAY[2, 3, 4, 5, 6]) AS a;
SELECT swarm.set_group_routing('pg-rr', 'round_robin');
SELECT swarm.open_case('T-' || i, 'round robin ' || i, 'P3', 'postgres:3', 'cust' || i, 'emea')
  FROM generate_series(8, 9) AS i;
SELECT swarm.assign_case(i, 1) FROM generate_series(8, 9) AS i;
SELECT rr_cursor FROM swarm.skill_groups WHERE name = 'pg-rr';
SELECT swarm.request_help(8, 'pg-rr') AS r10;
SELECT count(*) AS members, bool_and(reasons->>'method' = 'round_robin') AS method FROM swarm.suggest_helpers(10, 10);
SELECT swarm.offer_request(10) AS offered_to;
SELECT rr_cursor FROM swarm.skill_groups WHERE name = 'pg-rr';
SELECT swarm.request_help(9, 'pg-rr') AS r11;
SELECT agent_id > 2 AS after_cursor FROM swarm.suggest_helpers(11, 10);
SELECT swarm.offer_request(11) > 2 AS offered_after_cursor;
SELECT rr_cursor = (SELECT offered_to FROM swarm.collab_requests WHERE request_id = 11) AS cursor_moved
  FROM swarm.skill_groups WHERE name = 'pg-rr';
-- the cursor of a group that does not route round robin does not move
SELECT rr_cursor FROM swarm.skill_groups WHERE name IN ('pg-emea', 'pg-ll') ORDER BY name;
SELECT swarm.cancel_request(10), swarm.cancel_request(11);

-- push: offer, decline, time out ----------------------------------------------------------------
-- request 4 (pg-emea) has Ann, Bea as candidates (Cal helps on the case)
SELECT agent_id, score FROM swarm.suggest_helpers(4, 10);
SELECT swarm.offer_request(4) AS offered_to;
SELECT state, offered_to, offered_at IS NOT NULL AS has_offered_at FROM swarm.collab_requests WHERE request_id = 4;
SELECT kind, agent_id, detail->'score' AS score FROM swarm.events WHERE request_id = 4 AND kind = 'request_offered';
-- Ann declines: the offer moves on to Bea
SELECT swarm.decline_request(4, 2, 'busy');
SELECT state, offered_to FROM swarm.collab_requests WHERE request_id = 4;
-- Bea does not answer: her offer times out.  offer_request counts her as having
-- declined and moves on; nobody is left, so the request is open again and
-- there is a no_eligible_helper event.  Ann is not offered it again.
SET swarm.offer_timeout = '1s';
SELECT swarm.offer_timeout() = interval '1 second' AS one_second;
UPDATE swarm.collab_requests SET offered_at = offered_at - interval '1 minute' WHERE request_id = 4;
SELECT swarm.offer_request(4) AS offered_to;
SELECT state, offered_to, offered_at FROM swarm.collab_requests WHERE request_id = 4;
SELECT agent_id, reason FROM swarm.request_declines WHERE request_id = 4 ORDER BY declined_at, agent_id;
SELECT kind, agent_id FROM swarm.events
 WHERE request_id = 4 AND kind IN ('request_offered', 'request_declined', 'offer_expired', 'no_eligible_helper')
 ORDER BY event_id;
SELECT swarm.offer_request(4) AS still_nobody;

-- expire_offers: Fin joins pg-emea (postgres:2: .20 + .15 + .10 + .10 = 0.55);
-- request 4 is offered to him, then his offer expires and nobody is left
SELECT swarm.add_group_member('pg-emea', 7);
SELECT agent_id, score FROM swarm.suggest_helpers(4);
-- a fresh offer does not expire (one transaction: now() does not move)
BEGIN;
SELECT swarm.offer_request(4) AS offered_to;
SELECT swarm.expire_offers() AS expired_fresh;
COMMIT;
UPDATE swarm.collab_requests SET offered_at = offered_at - interval '1 minute' WHERE request_id = 4;
SELECT swarm.expire_offers() AS expired;
SELECT state, offered_to FROM swarm.collab_requests WHERE request_id = 4;
SELECT agent_id, reason FROM swarm.request_declines WHERE request_id = 4 ORDER BY declined_at, agent_id;
SELECT swarm.expire_offers() AS nothing_left;
-- expire_offers moves an expired offer on to the next candidate.  Dan and Eli join:
--  Dan: postgres 3/4, load 1-2/4, apac: .30 + .075 + .10 = 0.475
--  Eli: no postgres, load 1, amer:      .15 + .10        = 0.25
SELECT swarm.add_group_member('pg-emea', 5), swarm.add_group_member('pg-emea', 6);
SELECT agent_id, score FROM swarm.suggest_helpers(4);
SELECT swarm.offer_request(4) AS offered_to;
UPDATE swarm.collab_requests SET offered_at = offered_at - interval '1 minute' WHERE request_id = 4;
SELECT swarm.expire_offers() AS expired;
SELECT state, offered_to FROM swarm.collab_requests WHERE request_id = 4;
SELECT kind, agent_id FROM swarm.events
 WHERE request_id = 4 AND kind IN ('request_offered', 'request_declined', 'offer_expired', 'no_eligible_helper')
 ORDER BY event_id;
-- the helper it is offered to accepts
SELECT swarm.accept_request(4, 6);
SELECT state, helper_id, offered_to FROM swarm.collab_requests WHERE request_id = 4;
RESET swarm.offer_timeout;

-- pull: grab_request ----------------------------------------------------------------------------
SELECT swarm.cancel_request(6);
SELECT count(*) AS open_requests FROM swarm.collab_requests WHERE state IN ('open', 'offered');
-- pull requests on cases 10-13 (owned by Own) and case 14 (owned by Fin)
SELECT swarm.open_case('T-' || i, 'pull ' || i, 'P3', 'postgres:3', 'cust' || i, 'emea') FROM generate_series(10, 14) AS i;
SELECT swarm.assign_case(i, 1) FROM generate_series(10, 13) AS i;
SELECT swarm.assign_case(14, 7);
SELECT swarm.request_help(10, needed => 'postgres:4', priority => 'P3', mode => 'pull') AS r12,
       swarm.request_help(11, needed => 'postgres:4', priority => 'P1', mode => 'pull') AS r13;
SELECT swarm.request_help(12, needed => 'replication:4', priority => 'P1', mode => 'pull') AS r14;
SELECT swarm.request_help(13, needed => 'postgres:4', priority => 'P3', mode => 'pull') AS r15;
SELECT swarm.request_help(14, needed => 'postgres:2', priority => 'P4', mode => 'pull') AS r16;
SELECT request_id, case_id, needed, priority, mode, state FROM swarm.collab_requests WHERE mode = 'pull' ORDER BY request_id;
-- Dan (postgres:3, match 3/4 on postgres:4): first request 13 (P1; request 14,
-- also P1, needs replication), then request 12 (P3, older than request 15)
SELECT swarm.grab_request(5) AS dan;
SELECT state, helper_id FROM swarm.collab_requests WHERE request_id = 13;
SELECT detail->>'how' AS how, detail->>'was' AS was FROM swarm.events WHERE request_id = 13 AND kind = 'request_accepted';
SELECT agent_id, role FROM swarm.participants WHERE case_id = 11 ORDER BY agent_id, role;
SELECT swarm.grab_request(5) AS dan;
-- Dan helps on 4 requests now: his help capacity
SELECT swarm.grab_request(5) AS dan;
-- Eli (replication:3, match 3/4): request 14
SELECT swarm.grab_request(6) AS eli;
-- the threshold: Fin (postgres:2) matches request 15's postgres:4 at 2/4 = 0.5,
-- below 0.6 (request 16 is on his own case); at the default 0.5 he takes it
SET swarm.grab_threshold = 0.6;
SELECT swarm.grab_threshold();
SELECT swarm.grab_request(7) AS fin_below_threshold;
RESET swarm.grab_threshold;
SELECT swarm.grab_request(7) AS fin;
-- only request 16 is left: Fin owns its case, Ann declined it, Own takes it
SELECT swarm.grab_request(7) AS fin_own_case;
SELECT swarm.decline_request(16, 2);
SELECT swarm.grab_request(2) AS ann_declined;
SELECT swarm.grab_request(1) AS own;
-- nothing open is left
SELECT swarm.grab_request(4) AS nothing_left;
SELECT request_id, state, helper_id FROM swarm.collab_requests WHERE mode = 'pull' ORDER BY request_id;
SELECT request_id, agent_id, detail->>'how' AS how, detail->>'was' AS was
  FROM swarm.events WHERE kind = 'request_accepted' AND request_id >= 12 ORDER BY request_id;

-- the counters still agree with what they count
SELECT a.agent_id, a.open_helps, a.help_capacity,
       a.open_helps = (SELECT count(*) FROM swarm.collab_requests r WHERE r.helper_id = a.agent_id AND r.state = 'accepted')
       AS consistent
  FROM swarm.agents AS a ORDER BY a.agent_id;

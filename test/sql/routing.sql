-- Routing owners: route_case, routing_score, explain_routing, auto_assign and
-- the routing weights.  Every score below is checked against a value computed
-- by hand from
--     score = round(sum(weight * component) / sum(weight), 9)
-- with the default weights match 0.40, load 0.15, availability 0.10,
-- region 0.10, experience 0.15, continuity 0.10 (they add up to 1).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET search_path = public, swarm;

-- The fixture ---------------------------------------------------------------------
--  id name skills                 region cap  state
--   1 Ana  postgres:5, linux:4    emea   4    online, will own one other case
--   2 Ben  postgres:3, linux:2    emea   4    away
--   3 Caro postgres:4             amer   2    online
--   4 Dev  linux:5                apac   8    online
--   5 Eve  postgres:5, linux:5    amer   1    owns one case: at capacity
--   6 Fay  postgres:5             emea   8    inactive
--   7 Gus  postgres:5, linux:5    apac   8    offline
--   8 Hal  billing:5              emea   8    no needed skill
--   9 Ivy  (no skills)            emea   4
--  10 Jo   postgres:4             amer   2    same profile as Caro
SELECT swarm.add_agent('u1', 'Ana', 'postgres:5, linux:4', 'emea', capacity => 4),
       swarm.add_agent('u2', 'Ben', 'postgres:3, linux:2', 'emea', capacity => 4),
       swarm.add_agent('u3', 'Caro', 'postgres:4', 'amer', capacity => 2),
       swarm.add_agent('u4', 'Dev', 'linux:5', 'apac', capacity => 8),
       swarm.add_agent('u5', 'Eve', 'postgres:5, linux:5', 'amer', capacity => 1),
       swarm.add_agent('u6', 'Fay', 'postgres:5', 'emea'),
       swarm.add_agent('u7', 'Gus', 'postgres:5, linux:5', 'apac'),
       swarm.add_agent('u8', 'Hal', 'billing:5', 'emea'),
       swarm.add_agent('u9', 'Ivy', '', 'emea', capacity => 4),
       swarm.add_agent('u10', 'Jo', 'postgres:4', 'amer', capacity => 2);
SELECT swarm.set_presence(2, 'away'), swarm.set_presence(7, 'offline'),
       swarm.update_agent(6, active => false);
-- rewrite Caro's row so that Jo's comes first in the heap: the tie between
-- them must still go to Caro, the lower agent id
SELECT swarm.update_agent(3, capacity => 2);
SELECT ctid > (SELECT ctid FROM swarm.agents WHERE agent_id = 10) AS caro_after_jo_in_heap
  FROM swarm.agents WHERE agent_id = 3;

-- case 1 is the one routed; cases 2 and 3 load Eve (to capacity) and Ana
SELECT swarm.open_case('T-1', 'Replica lagging', 'P2', 'postgres:4, linux:2', 'acme', 'emea') AS c1,
       swarm.open_case('T-2', 'Slow query', 'P3', 'postgres:1', 'other', 'amer') AS c2,
       swarm.open_case('T-3', 'Disk full', 'P3', 'linux:1', 'other', 'emea') AS c3;
SELECT swarm.assign_case(2, 5), swarm.assign_case(3, 1);
SELECT agent_id, name, skills, region, capacity, open_cases, presence, active FROM swarm.agents ORDER BY agent_id;

SELECT component, weight, default_weight FROM swarm.routing_weights ORDER BY component;

-- route_case --------------------------------------------------------------------------
-- case 1 needs postgres:4, linux:2 (6 levels) in emea.  By hand:
--  Ana : match (4+2)/6 = 1, load 1-1/4 = 0.75, online 1, emea 1
--        .40*1 + .15*.75 + .10*1 + .10*1                      = 0.7125
--  Ben : match (3+2)/6, load 1, away 0.5, emea 1
--        .40*5/6 + .15 + .05 + .10                              = 0.633333333
--  Caro: match 4/6, load 1, online 1, amer 0
--        .40*4/6 + .15 + .10                                    = 0.516666667
--  Jo  : as Caro                                                = 0.516666667
--  Dev : match 2/6, load 1, online 1, apac 0
--        .40*2/6 + .15 + .10                                    = 0.383333333
--  Eve (at capacity), Fay (inactive), Gus (offline), Hal (no needed skill)
--  and Ivy (no skills) are not eligible.
CREATE TEMP TABLE hand (pos int, agent_id bigint, score float8, match float8, load float8,
                        availability float8, region float8, experience float8, continuity float8);
INSERT INTO hand VALUES
    (1, 1, 0.7125,      1,     0.75, 1,   1, 0, 0),
    (2, 2, 0.633333333, 5/6.0, 1,    0.5, 1, 0, 0),
    (3, 3, 0.516666667, 4/6.0, 1,    1,   0, 0, 0),
    (4, 10, 0.516666667, 4/6.0, 1,   1,   0, 0, 0),
    (5, 4, 0.383333333, 2/6.0, 1,    1,   0, 0, 0);
SELECT pos, agent_id, score, reasons FROM swarm.route_case(1, 10) WITH ORDINALITY AS r (agent_id, score, reasons, pos);
-- order, score and every component as computed by hand (components to 1e-12)
CREATE FUNCTION pg_temp.check_route(case_id bigint) RETURNS TABLE (pos bigint, agent_id bigint, ok boolean)
LANGUAGE sql AS $$
    SELECT coalesce(r.pos, h.pos), coalesce(r.agent_id, h.agent_id),
           r.agent_id IS NOT NULL AND h.agent_id IS NOT NULL AND r.score = h.score
           AND abs((r.reasons->>'match')::float8 - h.match) < 1e-12
           AND abs((r.reasons->>'load')::float8 - h.load) < 1e-12
           AND abs((r.reasons->>'availability')::float8 - h.availability) < 1e-12
           AND abs((r.reasons->>'region')::float8 - h.region) < 1e-12
           AND abs((r.reasons->>'experience')::float8 - h.experience) < 1e-12
           AND abs((r.reasons->>'continuity')::float8 - h.continuity) < 1e-12
      FROM swarm.route_case(case_id, 100) WITH ORDINALITY AS r (agent_id, score, reasons, pos)
      FULL JOIN hand AS h ON h.pos = r.pos AND h.agent_id = r.agent_id
$$;
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;
-- the score is the weighted mean of the reasons, rounded to 1e-9
SELECT agent_id,
       score = round(((reasons->>'match')::numeric * 0.40 + (reasons->>'load')::numeric * 0.15
                      + (reasons->>'availability')::numeric * 0.10 + (reasons->>'region')::numeric * 0.10
                      + (reasons->>'experience')::numeric * 0.15 + (reasons->>'continuity')::numeric * 0.10), 9)::float8
         AS weighted_mean
  FROM swarm.route_case(1, 10);
-- k limits the rows; the default is 5
SELECT agent_id, score FROM swarm.route_case(1, 2);
SELECT count(*) AS default_k FROM swarm.route_case(1);
-- a case without a region: every agent gets region 1
SELECT swarm.open_case('T-4', 'No region', 'P3', 'postgres:4', NULL, NULL) AS c4;
SELECT agent_id, score, reasons->'region' AS region FROM swarm.route_case(4, 10);
-- Caro 4/4 match: .40 + .15 + .10 + .10 = 0.75; Ana .40 + .1125 + .10 + .10 = 0.7125;
-- Ben 3/4: .30 + .15 + .05 + .10 = 0.6; Eve is still at capacity
SELECT agent_id, score = CASE agent_id WHEN 3 THEN 0.75 WHEN 10 THEN 0.75 WHEN 1 THEN 0.7125 WHEN 2 THEN 0.6 END AS ok
  FROM swarm.route_case(4, 10);
-- a case that needs no skill: everybody available is a candidate with match 1,
-- Ivy (no skills) included
SELECT swarm.open_case('T-5', 'Anything', 'P4', '', NULL, NULL) AS c5;
--  Caro, Dev, Hal, Ivy, Jo: .40 + .15 + .10 + .10 = 0.75; Ana 0.7125;
--  Ben (away) .40 + .15 + .05 + .10 = 0.7
SELECT agent_id, score, reasons->'match' AS match,
       score = CASE WHEN agent_id = 1 THEN 0.7125 WHEN agent_id = 2 THEN 0.7 ELSE 0.75 END AS ok
  FROM swarm.route_case(5, 20);
-- a skill nobody has: no candidate
SELECT swarm.open_case('T-6', 'Mainframe', 'P1', 'cobol:3', 'acme', 'emea') AS c6;
SELECT count(*) AS candidates FROM swarm.route_case(6);

-- routing_score and explain_routing -----------------------------------------------------
-- routing_score is the route_case score for every candidate, 0 for the others
SELECT bool_and(swarm.routing_score(agent_id, 1) = score) AS same_as_route_case FROM swarm.route_case(1, 100);
SELECT a.agent_id, swarm.routing_score(a.agent_id, 1) AS score FROM swarm.agents AS a ORDER BY a.agent_id;
-- explain_routing: components with their weights, and why an agent is not eligible
SELECT swarm.explain_routing(1, 1);
SELECT swarm.explain_routing(2, 1);
SELECT a, swarm.explain_routing(a, 1) ->> 'eligible' AS eligible, swarm.explain_routing(a, 1) ->> 'ineligible' AS why,
       swarm.explain_routing(a, 1) ->> 'score' AS score
  FROM generate_series(1, 10) AS a ORDER BY a;
-- an agent without skills scores match 0 (and is not eligible), without an error
SELECT swarm.explain_routing(9, 1);
SELECT swarm.routing_score(9, 1) AS ivy, swarm.routing_score(9, 5) AS ivy_on_anything;
-- the components explain_routing reports are those of route_case
SELECT bool_and(r.reasons = (SELECT jsonb_object_agg(k, v->'value')
                               FROM jsonb_each(swarm.explain_routing(r.agent_id, 1)->'components') AS e (k, v)))
         AS same_components
  FROM swarm.route_case(1, 100) AS r;

-- shift calendars: an agent outside its working hours is not routed to.
-- "closed" works around the clock but today, yesterday and tomorrow are
-- holidays, so it is not working now whatever the time zones.
SELECT swarm.add_calendar('closed', 'UTC',
           (SELECT jsonb_object_agg(d, '[["00:00", "24:00"]]'::jsonb)
              FROM unnest(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) AS d),
           ARRAY[current_date - 1, current_date, current_date + 1]) IS NOT NULL AS closed_added;
SELECT swarm.set_agent_calendar(10, 'closed');
SELECT agent_id, score FROM swarm.route_case(1, 10);
SELECT swarm.explain_routing(10, 1) ->> 'ineligible' AS why, swarm.routing_score(10, 1) AS score;
SELECT swarm.set_agent_calendar(10, '24x7');
SELECT agent_id, score FROM swarm.route_case(1, 10);
SELECT swarm.set_agent_calendar(10, NULL);
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;

-- experience --------------------------------------------------------------------------
-- Resolving work credits the owner 1 per needed skill.  Inside one transaction
-- now() does not move, so there is no decay: a credit c is worth c/(c+1).
BEGIN;
SELECT swarm.open_case('X-1', 'exp one', 'P3', 'postgres:2, linux:1', 'exp', 'amer') AS x1,
       swarm.open_case('X-2', 'exp two', 'P3', 'postgres:3', 'exp', 'amer') AS x2;
SELECT swarm.assign_case(7, 3), swarm.resolve_case(7), swarm.assign_case(8, 3), swarm.resolve_case(8);
SELECT agent_id, skill, credit, updated_at = now() AS now FROM swarm.agent_experience ORDER BY agent_id, skill;
-- Caro: postgres credit 2 -> 2/3, linux credit 1 -> 1/2; experience = (4*2/3 + 2*1/2)/6 = 11/18
--       score = .40*4/6 + .15 + .10 + .15*11/18 = 0.608333333 (still behind Ben)
SELECT abs((reasons->>'experience')::float8 - 11/18.0) < 1e-12 AS experience_11_18, score, score = 0.608333333 AS ok
  FROM swarm.route_case(1, 10) WHERE agent_id = 3;
UPDATE hand SET score = 0.608333333, experience = 11/18.0 WHERE agent_id = 3;
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;
-- the credit halves every swarm.experience_half_life (30 days = 720 hours;
-- hours, because the session's time zone has daylight saving time)
SHOW swarm.experience_half_life;
SELECT swarm.decayed_credit(1, now(), now()) AS no_decay,
       swarm.decayed_credit(1, now() - interval '720 hours', now()) AS one_half_life,
       swarm.decayed_credit(1, now() - interval '1440 hours', now()) AS two_half_lives,
       swarm.decayed_credit(4, now() + interval '1 day', now()) AS future_not_decayed;
SET LOCAL swarm.experience_half_life = '1h';
SELECT swarm.decayed_credit(8, now() - interval '3 hours', now()) AS three_half_lives;
-- with credits earned 1 hour ago (one half-life): postgres 1, linux 0.5 ->
-- (4*1/2 + 2*(0.5/1.5))/6 = 4/9
UPDATE swarm.agent_experience SET updated_at = now() - interval '1 hour';
SELECT abs((reasons->>'experience')::float8 - 4/9.0) < 1e-12 AS experience_4_9
  FROM swarm.route_case(1, 10) WHERE agent_id = 3;
ROLLBACK;
UPDATE hand SET score = 0.516666667, experience = 0 WHERE agent_id = 3;
SELECT count(*) AS no_experience_left FROM swarm.agent_experience;

-- weights -----------------------------------------------------------------------------
-- availability weighted 1 (sum 1.9): Ben, who is away, drops to the end
--  Ana  (.40 + .1125 + 1 + .10)/1.9     = 0.848684211
--  Caro (.40*4/6 + .15 + 1)/1.9         = 0.745614035   (Jo alike)
--  Dev  (.40*2/6 + .15 + 1)/1.9         = 0.675438596
--  Ben  (.40*5/6 + .15 + .5 + .10)/1.9  = 0.570175439
UPDATE swarm.routing_weights SET weight = 1 WHERE component = 'availability';
SELECT component, weight, default_weight FROM swarm.routing_weights WHERE weight <> default_weight;
SELECT component, weight FROM swarm.routing_weight_overrides;
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 1, 0.848684211, 1,     0.75, 1,   1, 0, 0),
    (2, 3, 0.745614035, 4/6.0, 1,    1,   0, 0, 0),
    (3, 10, 0.745614035, 4/6.0, 1,   1,   0, 0, 0),
    (4, 4, 0.675438596, 2/6.0, 1,    1,   0, 0, 0),
    (5, 2, 0.570175439, 5/6.0, 1,    0.5, 1, 0, 0);
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;
SELECT swarm.explain_routing(2, 1) -> 'components' -> 'availability' AS availability;
-- set_routing_weight does the same; match 0 and region 0 (sum .50): the
-- agents who are not in emea and have the lighter skills move up
--  Caro, Dev, Jo (.15 + .10)/.50 = 0.5 (a three-way tie, by agent id)
--  Ana (.1125 + .10)/.50 = 0.425 ; Ben (.15 + .05)/.50 = 0.4
SELECT swarm.set_routing_weight('availability', 0.10);
SELECT swarm.set_routing_weight('match', 0), swarm.set_routing_weight('region', 0);
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 3, 0.5, 4/6.0, 1, 1, 0, 0, 0),
    (2, 4, 0.5, 2/6.0, 1, 1, 0, 0, 0),
    (3, 10, 0.5, 4/6.0, 1, 1, 0, 0, 0),
    (4, 1, 0.425, 1, 0.75, 1, 1, 0, 0),
    (5, 2, 0.4, 5/6.0, 1, 0.5, 1, 0, 0);
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;
-- setting a weight back to its default removes the override
SELECT swarm.set_routing_weight('match', 0.40);
UPDATE swarm.routing_weights SET weight = default_weight WHERE component = 'region';
SELECT count(*) AS overrides FROM swarm.routing_weight_overrides;
SELECT kind, detail FROM swarm.events WHERE kind = 'routing_weight_set' ORDER BY event_id;
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 1, 0.7125,      1,     0.75, 1,   1, 0, 0),
    (2, 2, 0.633333333, 5/6.0, 1,    0.5, 1, 0, 0),
    (3, 3, 0.516666667, 4/6.0, 1,    1,   0, 0, 0),
    (4, 10, 0.516666667, 4/6.0, 1,   1,   0, 0, 0),
    (5, 4, 0.383333333, 2/6.0, 1,    1,   0, 0, 0);
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;

-- auto_assign ---------------------------------------------------------------------------
-- case 1 goes to Ana, the best eligible agent
SELECT swarm.auto_assign(1) AS owner;
SELECT state, owner_id FROM swarm.cases WHERE case_id = 1;
SELECT agent_id, detail->'auto' AS auto, detail->'score' AS score, detail->'reasons' AS reasons
  FROM swarm.events WHERE kind = 'case_assigned' AND case_id = 1;
SELECT open_cases FROM swarm.agents WHERE agent_id = 1;
-- nobody has cobol: NULL and a no_eligible_owner event, the case stays new
SELECT swarm.auto_assign(6) AS owner;
SELECT state, owner_id FROM swarm.cases WHERE case_id = 6;
SELECT kind, agent_id, detail FROM swarm.events WHERE case_id = 6 AND kind IN ('case_assigned', 'no_eligible_owner');
-- an owned case is refused
SELECT swarm.auto_assign(1);

-- continuity ------------------------------------------------------------------------------
-- case 9 is acme's next case: Ana owned acme's previous one (case 6 has no owner)
--  Ana: match 1, load 1-2/4 = .5, continuity 1: .40 + .075 + .10 + .10 + .10 = 0.775
SELECT swarm.open_case('T-9', 'Replica lagging again', 'P2', 'postgres:4, linux:2', 'acme', 'emea') AS c9;
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 1, 0.775,       1,     0.5, 1,   1, 0, 1),
    (2, 2, 0.633333333, 5/6.0, 1,   0.5, 1, 0, 0),
    (3, 3, 0.516666667, 4/6.0, 1,   1,   0, 0, 0),
    (4, 10, 0.516666667, 4/6.0, 1,  1,   0, 0, 0),
    (5, 4, 0.383333333, 2/6.0, 1,   1,   0, 0, 0);
SELECT * FROM pg_temp.check_route(9) ORDER BY pos;
-- participants of the case itself: Caro helps on case 1, and Ana owns it
SELECT swarm.request_help(1, needed => 'postgres:3') AS r1;
SELECT swarm.accept_request(1, 3);
--  Ana : load 1-2/4 = .5, continuity 1: .40 + .075 + .20 + .10 = 0.775
--  Caro: .516666667 + .10 = 0.616666667 (helping does not load her cases)
TRUNCATE hand;
INSERT INTO hand VALUES
    (1, 1, 0.775,       1,     0.5, 1,   1, 0, 1),
    (2, 2, 0.633333333, 5/6.0, 1,   0.5, 1, 0, 0),
    (3, 3, 0.616666667, 4/6.0, 1,   1,   0, 0, 1),
    (4, 10, 0.516666667, 4/6.0, 1,  1,   0, 0, 0),
    (5, 4, 0.383333333, 2/6.0, 1,   1,   0, 0, 0);
SELECT * FROM pg_temp.check_route(1) ORDER BY pos;
-- a resolved or closed case is not routed
SELECT swarm.resolve_case(3);
SELECT * FROM swarm.route_case(3);
SELECT swarm.routing_score(1, 3);
SELECT swarm.close_case(3);
SELECT swarm.explain_routing(1, 3);

-- auto_assign skips agents at capacity.  Five cases needing postgres:4 in amer:
--  case 10: Caro .40+.15+.10+.10 = 0.75 ties with Jo: Caro (lower id)
--  case 11: Caro's load is now 1/2 (0.675), Jo 0.75: Jo
--  case 12: Caro 0.675, Jo 0.675: Caro, who is now at capacity
--  case 13: Jo 0.675 (then at capacity) before Ana .40+.15*3/4+.10 = 0.6125
--  case 14: Ana 0.6125 before Ben .30+.15+.05 = 0.5
SELECT swarm.open_case('T-' || i, 'pg ' || i, 'P3', 'postgres:4', NULL, 'amer') FROM generate_series(10, 14) AS i;
SELECT swarm.auto_assign(10) AS c10;
SELECT swarm.auto_assign(11) AS c11;
SELECT swarm.auto_assign(12) AS c12;
SELECT swarm.auto_assign(13) AS c13;
SELECT swarm.auto_assign(14) AS c14;
SELECT e.case_id, e.agent_id, e.detail->'score' AS score,
       (e.case_id, e.agent_id, (e.detail->>'score')::float8)
         IN ((10, 3, 0.75), (11, 10, 0.75), (12, 3, 0.675), (13, 10, 0.675), (14, 1, 0.6125)) AS as_by_hand
  FROM swarm.events AS e WHERE e.kind = 'case_assigned' AND e.case_id >= 10 ORDER BY e.case_id;
SELECT agent_id, open_cases, capacity, open_cases <= capacity AS within_capacity FROM swarm.agents ORDER BY agent_id;
SELECT a.agent_id, a.open_cases = (SELECT count(*) FROM swarm.cases c WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))
       AS consistent
  FROM swarm.agents AS a ORDER BY a.agent_id;
SELECT c.case_id, count(e.*) AS assigned_events, bool_and((e.detail->>'auto')::boolean) AS auto
  FROM swarm.cases AS c JOIN swarm.events AS e ON e.case_id = c.case_id AND e.kind = 'case_assigned'
 WHERE c.case_id >= 10 GROUP BY c.case_id ORDER BY c.case_id;
-- nobody with postgres has capacity left but Ana (2/4: .40 + .075 + .10 + .10
-- = 0.675) and Ben (away: 0.6); case 4 has no region
SELECT agent_id, score, score = CASE agent_id WHEN 1 THEN 0.675 WHEN 2 THEN 0.6 END AS ok FROM swarm.route_case(4, 10);

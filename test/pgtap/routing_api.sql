-- The routing API contract: signatures, volatility, STRICT behaviour, the
-- settings, every error path with its SQLSTATE, and that a refused call
-- changes nothing.  (Scores themselves are checked by hand in
-- test/sql/routing.sql and test/sql/routing_groups.sql.)
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT * FROM no_plan();

-- Structure ------------------------------------------------------------------------
SELECT has_function('swarm', f, 'function swarm.' || f)
  FROM unnest(ARRAY['route_case', 'suggest_helpers', 'routing_score', 'explain_routing', 'auto_assign',
                    'offer_request', 'expire_offers', 'grab_request', 'set_routing_weight', 'set_group_routing',
                    'decayed_credit', 'offer_timeout', 'grab_threshold']) AS f;
SELECT has_view('swarm', 'routing_weights', 'view swarm.routing_weights');
SELECT has_table('swarm', t, 'table swarm.' || t) FROM unnest(ARRAY['routing_weight_overrides', 'agent_experience']) AS t;
SELECT has_trigger('swarm', 'routing_weights', 'routing_weights_update', 'UPDATE on the weights view goes through a trigger');
SELECT enum_has_labels('swarm', 'routing_method', ARRAY['skills', 'least_loaded', 'round_robin']);
SELECT ok(ARRAY['swarm.routing_weight_overrides'::regclass, 'swarm.agent_experience'::regclass]
          <@ (SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'swarm'),
          'weight overrides and experience are dumped with the data');

-- Signatures: argument names and defaults, result types.
CREATE TEMP TABLE sig (fn text, args text, result text);
INSERT INTO sig VALUES
    ('swarm.route_case(bigint,integer)', 'case_id bigint, k integer DEFAULT 5',
     'TABLE(agent_id bigint, score double precision, reasons jsonb)'),
    ('swarm.suggest_helpers(bigint,integer)', 'request_id bigint, k integer DEFAULT 5',
     'TABLE(agent_id bigint, score double precision, reasons jsonb)'),
    ('swarm.routing_score(bigint,bigint)', 'agent bigint, case_id bigint', 'double precision'),
    ('swarm.explain_routing(bigint,bigint)', 'agent bigint, case_id bigint', 'jsonb'),
    ('swarm.auto_assign(bigint)', 'case_id bigint', 'bigint'),
    ('swarm.offer_request(bigint)', 'request_id bigint', 'bigint'),
    ('swarm.expire_offers(timestamptz,integer)', 'at timestamp with time zone DEFAULT now(), max integer DEFAULT 1000',
     'integer'),
    ('swarm.grab_request(bigint)', 'agent bigint', 'bigint'),
    ('swarm.set_routing_weight(text,double precision)', 'component text, weight double precision', 'void'),
    ('swarm.set_group_routing(text,text)', 'group_name text, method text', 'void'),
    ('swarm.decayed_credit(double precision,timestamptz,timestamptz)',
     'credit double precision, since timestamp with time zone, at timestamp with time zone', 'double precision'),
    ('swarm.offer_timeout()', '', 'interval'),
    ('swarm.grab_threshold()', '', 'double precision');
SELECT is(pg_get_function_arguments(fn::regprocedure), args, fn || ' arguments') FROM sig ORDER BY fn;
SELECT is(pg_get_function_result(fn::regprocedure), result, fn || ' result') FROM sig ORDER BY fn;
SELECT function_returns('swarm', 'route_case', ARRAY['bigint', 'integer'], 'setof record');
SELECT function_returns('swarm', 'suggest_helpers', ARRAY['bigint', 'integer'], 'setof record');
SELECT function_returns('swarm', 'auto_assign', ARRAY['bigint'], 'bigint');
SELECT function_returns('swarm', 'grab_request', ARRAY['bigint'], 'bigint');
SELECT function_returns('swarm', 'expire_offers', ARRAY['timestamp with time zone', 'integer'], 'integer');

-- Volatility: the scores only read; assigning, offering, grabbing and expiring write.
SELECT volatility_is('swarm', f, 'stable', f || ' is stable')
  FROM unnest(ARRAY['route_case', 'suggest_helpers', 'routing_score', 'explain_routing']) AS f;
SELECT volatility_is('swarm', f, 'volatile', f || ' is volatile')
  FROM unnest(ARRAY['auto_assign', 'offer_request', 'grab_request', 'expire_offers', 'set_routing_weight',
                    'set_group_routing']) AS f;
SELECT is_strict('swarm', f, f || ' is strict')
  FROM unnest(ARRAY['route_case', 'suggest_helpers', 'routing_score', 'explain_routing', 'decayed_credit']) AS f;
SELECT isnt_strict('swarm', f, f || ' checks its arguments itself')
  FROM unnest(ARRAY['auto_assign', 'offer_request', 'grab_request', 'expire_offers', 'set_routing_weight',
                    'set_group_routing']) AS f;

-- Settings -----------------------------------------------------------------------------
SELECT is(current_setting('swarm.offer_timeout'), '5min', 'swarm.offer_timeout defaults to 5 minutes');
SELECT is(swarm.offer_timeout(), interval '5 minutes', 'swarm.offer_timeout() reads it');
SELECT is(current_setting('swarm.grab_threshold'), '0.5', 'swarm.grab_threshold defaults to 0.5');
SELECT is(swarm.grab_threshold(), 0.5::float8, 'swarm.grab_threshold() reads it');
SELECT is(current_setting('swarm.experience_half_life'), '30d', 'swarm.experience_half_life defaults to 30 days');
SELECT throws_ok($$SET swarm.grab_threshold = 1.5$$, '22023',
                 '1.5 is outside the valid range for parameter "swarm.grab_threshold" (0 .. 1)', 'grab threshold above 1');
SELECT throws_ok($$SET swarm.offer_timeout = 0$$, '22023', NULL, 'offer timeout of zero');
SELECT throws_ok($$SET swarm.experience_half_life = '10s'$$, '22023', NULL, 'half-life under a minute');
SELECT throws_ok($$SET swarm.routing = 1$$, '42602', 'invalid configuration parameter name "swarm.routing"',
                 'the swarm. prefix is reserved');
SET LOCAL swarm.offer_timeout = '90s';
SELECT is(swarm.offer_timeout(), interval '90 seconds', 'swarm.offer_timeout() follows SET');
SET LOCAL swarm.grab_threshold = 0.25;
SELECT is(swarm.grab_threshold(), 0.25::float8, 'swarm.grab_threshold() follows SET');
SET LOCAL swarm.offer_timeout = '5min';
SET LOCAL swarm.grab_threshold = 0.5;
SET LOCAL swarm.experience_half_life = '2h';
SELECT is(swarm.decayed_credit(8, now() - interval '6 hours', now()), 1::float8, 'three half-lives: 8 -> 1');
SET LOCAL swarm.experience_half_life = '30d';

-- Fixture ---------------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.add_agent('u1', 'Own', 'pg:3', 'emea', capacity => 10)$$, 'agent 1 owns the cases');
SELECT lives_ok($$SELECT swarm.add_agent('u2', 'Ann', 'pg:5', 'emea')$$, 'agent 2');
SELECT lives_ok($$SELECT swarm.add_agent('u3', 'Bob', 'pg:3, net:3', 'amer')$$, 'agent 3');
SELECT lives_ok($$SELECT swarm.add_agent('u4', 'Cy', 'net:4', 'apac')$$, 'agent 4');
SELECT lives_ok($$SELECT swarm.add_agent('u5', 'Dee', 'pg:4', 'emea')$$, 'agent 5');
SELECT lives_ok($$SELECT swarm.update_agent(3, help_capacity => 1)$$, 'agent 3 helps on one request at a time');
SELECT lives_ok($$SELECT swarm.add_group('pg', 'pg:3', 'global')$$, 'group pg');
SELECT lives_ok($$SELECT swarm.add_group_member('pg', a) FROM generate_series(2, 3) a$$, 'members of pg');
SELECT lives_ok($$SELECT swarm.open_case('T-' || i, 'case ' || i, 'P2', 'pg:3', NULL, 'emea') FROM generate_series(1, 6) i$$,
                'cases 1-6');

-- STRICT and NULL arguments ------------------------------------------------------------------
SELECT is_empty($$SELECT * FROM swarm.route_case(NULL, 5)$$, 'route_case(NULL, k): no rows');
SELECT is_empty($$SELECT * FROM swarm.route_case(1, NULL)$$, 'route_case(case, NULL): no rows');
SELECT is_empty($$SELECT * FROM swarm.suggest_helpers(NULL)$$, 'suggest_helpers(NULL): no rows');
SELECT is(swarm.routing_score(NULL, 1), NULL::float8, 'routing_score(NULL, case) is NULL');
SELECT is(swarm.routing_score(2, NULL), NULL::float8, 'routing_score(agent, NULL) is NULL');
SELECT is(swarm.explain_routing(NULL, 1), NULL::jsonb, 'explain_routing(NULL, case) is NULL');
SELECT is(swarm.decayed_credit(1, NULL, now()), NULL::float8, 'decayed_credit with a NULL time is NULL');
SELECT throws_ok($$SELECT swarm.auto_assign(NULL)$$, '22004', 'case_id must not be null', 'auto_assign(NULL)');
SELECT throws_ok($$SELECT swarm.offer_request(NULL)$$, '22004', 'request_id must not be null', 'offer_request(NULL)');
SELECT throws_ok($$SELECT swarm.grab_request(NULL)$$, '22004', 'agent must not be null', 'grab_request(NULL)');
SELECT is(swarm.expire_offers(NULL), 0, 'expire_offers(NULL) expires nothing');
SELECT throws_ok($$SELECT swarm.set_routing_weight(NULL, 1)$$, '22004', 'component must not be null', 'weight of a NULL component');
SELECT throws_ok($$SELECT swarm.set_routing_weight('match', NULL)$$, '22004', 'weight must not be null', 'NULL weight');
SELECT throws_ok($$UPDATE swarm.routing_weights SET weight = NULL WHERE component = 'load'$$, '22004',
                 'weight must not be null', 'NULL weight through the view');
SELECT throws_ok($$SELECT swarm.set_group_routing(NULL, 'skills')$$, '22004', 'group_name must not be null', 'NULL group');
SELECT throws_ok($$SELECT swarm.set_group_routing('pg', NULL)$$, '22004', 'method must not be null', 'NULL method');

-- Unknown objects: 42704 ------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM swarm.route_case(99)$$, '42704', 'case 99 does not exist', 'route an unknown case');
SELECT throws_ok($$SELECT swarm.routing_score(2, 99)$$, '42704', 'case 99 does not exist', 'score for an unknown case');
SELECT throws_ok($$SELECT swarm.explain_routing(2, 99)$$, '42704', 'case 99 does not exist', 'explain an unknown case');
SELECT throws_ok($$SELECT swarm.auto_assign(99)$$, '42704', 'case 99 does not exist', 'auto-assign an unknown case');
SELECT throws_ok($$SELECT * FROM swarm.suggest_helpers(99)$$, '42704', 'request 99 does not exist', 'helpers for an unknown request');
SELECT throws_ok($$SELECT swarm.offer_request(99)$$, '42704', 'request 99 does not exist', 'offer an unknown request');
SELECT throws_ok($$SELECT swarm.routing_score(99, 1)$$, '42704', 'agent 99 does not exist', 'score of an unknown agent');
SELECT throws_ok($$SELECT swarm.explain_routing(99, 1)$$, '42704', 'agent 99 does not exist', 'explain an unknown agent');
SELECT throws_ok($$SELECT swarm.grab_request(99)$$, '42704', 'agent 99 does not exist', 'grab by an unknown agent');
SELECT throws_ok($$SELECT swarm.set_group_routing('nope', 'skills')$$, '42704', 'group "nope" does not exist',
                 'routing of an unknown group');

-- k --------------------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM swarm.route_case(1, 0)$$, '22023', 'k must be positive: 0', 'route_case k = 0');
SELECT throws_ok($$SELECT * FROM swarm.route_case(1, -2)$$, '22023', 'k must be positive: -2', 'route_case k < 0');
SELECT throws_ok($$SELECT * FROM swarm.suggest_helpers(1, 0)$$, '22023', 'k must be positive: 0', 'suggest_helpers k = 0');
SELECT throws_ok($$SELECT * FROM swarm.route_case(99, 0)$$, '22023', 'k must be positive: 0', 'k is checked first');
SELECT is((SELECT count(*) FROM swarm.route_case(1, 1)), 1::bigint, 'route_case k = 1: one row');
SELECT is((SELECT count(*) FROM swarm.route_case(1, 2147483647)), 4::bigint, 'route_case k = max int: every candidate');

-- auto_assign agrees with route_case --------------------------------------------------------------
CREATE TEMP TABLE best AS SELECT agent_id FROM swarm.route_case(1, 1);
SELECT is(swarm.auto_assign(1), (SELECT agent_id FROM best), 'auto_assign takes route_case''s best');
SELECT throws_ok($$SELECT swarm.auto_assign(1)$$, '55000', 'case 1 already has an owner', 'auto-assign an owned case');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'case_assigned' AND case_id = 1), 1::bigint,
          'the refused second assignment recorded nothing');
SELECT lives_ok($$SELECT swarm.assign_case(i, 1) FROM generate_series(2, 6) i$$, 'agent 1 owns cases 2-6');

-- Closed and resolved cases: 55000 ------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.resolve_case(5)$$, 'resolve case 5');
SELECT throws_ok($$SELECT * FROM swarm.route_case(5)$$, '55000', 'cannot route case 5: it is resolved', 'route a resolved case');
SELECT lives_ok($$SELECT swarm.close_case(5)$$, 'close case 5');
SELECT throws_ok($$SELECT * FROM swarm.route_case(5)$$, '55000', 'cannot route case 5: it is closed', 'route a closed case');
SELECT throws_ok($$SELECT swarm.routing_score(2, 5)$$, '55000', 'cannot route case 5: it is closed', 'score for a closed case');
SELECT throws_ok($$SELECT swarm.explain_routing(2, 5)$$, '55000', 'cannot route case 5: it is closed', 'explain a closed case');
SELECT throws_ok($$SELECT swarm.auto_assign(5)$$, '55000', 'case 5 already has an owner', 'auto-assign a closed case');
SELECT lives_ok($$SELECT * FROM swarm.route_case(2)$$, 'an open case is routed (e.g. to pick a transfer target)');
SELECT lives_ok($$SELECT swarm.record_response(2)$$, 'case 2 responded');

-- Requests ---------------------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.request_help(1, 'pg')$$, 'request 1 (push, to pg)');
SELECT lives_ok($$SELECT swarm.request_help(2, needed => 'pg:3', mode => 'pull')$$, 'request 2 (pull)');
SELECT lives_ok($$SELECT swarm.request_help(3, needed => 'pg:3')$$, 'request 3 (push, by skills)');
SELECT lives_ok($$SELECT swarm.request_help(4, needed => 'net:3')$$, 'request 4 (push, by skills)');
DELETE FROM best;
INSERT INTO best SELECT agent_id FROM swarm.suggest_helpers(1, 1);
SELECT is(swarm.offer_request(1), (SELECT agent_id FROM best), 'offer_request takes suggest_helpers'' best');
SELECT throws_like($$SELECT swarm.offer_request(1)$$, 'request 1 is offered to agent 2 until %', 're-offer a still-offered request');
SELECT throws_ok($$SELECT swarm.offer_request(1)$$, '55000', NULL, 'which is 55000');
SELECT lives_ok($$SELECT * FROM swarm.suggest_helpers(1)$$, 'an offered request is routed');
SELECT throws_ok($$SELECT swarm.offer_request(2)$$, '55000', 'cannot offer request 2: it is a pull request', 'offer a pull request');
SELECT lives_ok($$SELECT * FROM swarm.suggest_helpers(2)$$, 'a pull request can still be shown its helpers');
SELECT lives_ok($$SELECT swarm.accept_request(3, 3)$$, 'agent 3 accepts request 3');
SELECT throws_ok($$SELECT * FROM swarm.suggest_helpers(3)$$, '55000', 'cannot route request 3: it is accepted',
                 'route an accepted request');
SELECT throws_ok($$SELECT swarm.offer_request(3)$$, '55000', 'cannot offer request 3: it is accepted', 'offer an accepted request');
SELECT lives_ok($$SELECT swarm.cancel_request(4)$$, 'cancel request 4');
SELECT throws_ok($$SELECT * FROM swarm.suggest_helpers(4)$$, '55000', 'cannot route request 4: it is cancelled',
                 'route a cancelled request');
SELECT throws_ok($$SELECT swarm.offer_request(4)$$, '55000', 'cannot offer request 4: it is cancelled', 'offer a cancelled request');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'request_offered'), 1::bigint, 'refused offers recorded nothing');

-- grab_request -------------------------------------------------------------------------------------
-- SQLSTATE | message | detail | hint of the error a statement raises
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(' | ', state, message, nullif(detail, ''), nullif(hint, ''));
END
$f$;
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'swarm.grab_request(bigint)'::regprocedure),
          ARRAY['search_path=pg_catalog, pg_temp', 'jit=off'], 'grab_request pins search_path and runs without JIT');
SELECT throws_ok($$SELECT swarm.grab_request(3)$$, '53400', 'agent 3 is at help capacity', 'grab at help capacity');
SELECT is(pg_temp.error_of('SELECT swarm.grab_request(3)'),
          '53400 | agent 3 is at help capacity | Requests being helped on: 1; help capacity: 1.',
          'the refusal says how many requests and the help capacity');
SELECT lives_ok($$SELECT swarm.update_agent(5, active => false)$$, 'agent 5 leaves');
SELECT throws_ok($$SELECT swarm.grab_request(5)$$, '55000', 'agent 5 is not active', 'grab by an inactive agent');
SELECT is(pg_temp.error_of('SELECT swarm.grab_request(5)'),
          '55000 | agent 5 is not active | Reactivate the agent with swarm.update_agent(agent, active => true).',
          'the refusal of an inactive agent hints at reactivating it');
SELECT is(pg_temp.error_of('SELECT swarm.grab_request(NULL)'), '22004 | agent must not be null', 'NULL agent: no detail, no hint');
SELECT is((SELECT state::text FROM swarm.collab_requests WHERE request_id = 2), 'open', 'the refused grabs left request 2 open');
SELECT is(swarm.grab_request(1), NULL::bigint, 'the owner does not grab its own case''s request');
SELECT is(swarm.grab_request(4), NULL::bigint, 'no skill in common: nothing to grab');
SELECT is(swarm.grab_request(2), 2::bigint, 'agent 2 grabs request 2');
SELECT is((SELECT detail->>'how' FROM swarm.events WHERE kind = 'request_accepted' AND request_id = 2), 'grabbed',
          'the acceptance says how: grabbed');

-- Timed-out offers and expire_offers ----------------------------------------------------------------
SELECT is(swarm.expire_offers(), 0, 'a fresh offer does not expire');
UPDATE swarm.collab_requests SET offered_at = offered_at - interval '10 minutes' WHERE request_id = 1;
SELECT is(swarm.expire_offers(max => 0), 0, 'max => 0 moves nothing');
SELECT is(swarm.expire_offers(), 1, 'the expired offer moves on');
SELECT is((SELECT reason FROM swarm.request_declines WHERE request_id = 1 AND agent_id = 2), 'offer timed out',
          'the agent who let it expire counts as having declined');
SELECT lives_ok($$SELECT swarm.update_agent(5, active => true)$$, 'agent 5 is back');

-- Group routing method ------------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.set_group_routing('pg', 'random')$$, '22023', 'invalid routing method "random" for group "pg"',
                 'invalid routing method');
SELECT is((SELECT routing::text FROM swarm.skill_groups WHERE name = 'pg'), 'skills', 'the refused method changed nothing');
SELECT lives_ok($$SELECT swarm.set_group_routing('pg', 'round_robin')$$, 'round_robin');
SELECT is((SELECT detail->>'routing' FROM swarm.events WHERE kind = 'group_routing_set'), 'round_robin',
          'group_routing_set event');
SELECT lives_ok($$SELECT swarm.set_group_routing('pg', 'skills')$$, 'back to skills');

-- Weights --------------------------------------------------------------------------------------------
CREATE TEMP TABLE events_before AS SELECT count(*) AS n FROM swarm.events;
SELECT throws_ok($$SELECT swarm.set_routing_weight('speed', 1)$$, '22023', 'unknown routing component "speed"',
                 'unknown component');
SELECT throws_ok($$SELECT swarm.set_routing_weight('match', -1)$$, '22023',
                 'routing weight of "match" must be a finite number >= 0: -1', 'negative weight');
SELECT throws_ok($$SELECT swarm.set_routing_weight('match', 'infinity')$$, '22023',
                 'routing weight of "match" must be a finite number >= 0: Infinity', 'infinite weight');
SELECT throws_ok($$SELECT swarm.set_routing_weight('match', '-infinity')$$, '22023',
                 'routing weight of "match" must be a finite number >= 0: -Infinity', 'minus infinite weight');
SELECT throws_ok($$SELECT swarm.set_routing_weight('match', 'NaN')$$, '22023',
                 'routing weight of "match" must be a finite number >= 0: NaN', 'NaN weight');
SELECT throws_ok($$UPDATE swarm.routing_weights SET weight = -0.5 WHERE component = 'load'$$, '22023',
                 'routing weight of "load" must be a finite number >= 0: -0.5', 'negative weight through the view');
SELECT throws_ok($$UPDATE swarm.routing_weights SET component = 'speed' WHERE component = 'match'$$, '0A000',
                 'the components of swarm.routing_weights cannot be renamed', 'renaming a component');
SELECT throws_ok($$INSERT INTO swarm.routing_weights VALUES ('speed', 1, 1)$$, '55000', NULL, 'no new component through the view');
SELECT throws_ok($$DELETE FROM swarm.routing_weights$$, '55000', NULL, 'no component removed through the view');
SELECT throws_ok($$INSERT INTO swarm.routing_weight_overrides (component, weight) VALUES ('speed', 1)$$, '23514', NULL,
                 'the overrides table only knows the six components');
SELECT throws_ok($$INSERT INTO swarm.routing_weight_overrides (component, weight) VALUES ('load', 'infinity')$$, '23514', NULL,
                 'nor infinite weights');
SELECT is((SELECT count(*) FROM swarm.routing_weight_overrides), 0::bigint, 'refused weights left no override');
SELECT is((SELECT n FROM events_before), (SELECT count(*) FROM swarm.events), 'refused weights recorded no event');
SELECT results_eq($$SELECT component, weight FROM swarm.routing_weights ORDER BY component$$,
                  $$VALUES ('availability', 0.10::float8), ('continuity', 0.10), ('experience', 0.15), ('load', 0.15),
                           ('match', 0.40), ('region', 0.10)$$, 'the default weights');
SELECT lives_ok($$UPDATE swarm.routing_weights SET weight = 0$$, 'every weight set to 0 (each one alone is allowed)');
SELECT is((SELECT count(*) FROM swarm.routing_weight_overrides), 6::bigint, 'six overrides');
SELECT throws_ok($$SELECT * FROM swarm.route_case(6)$$, '22023', 'routing weights add up to zero', 'route_case with zero weights');
SELECT throws_ok($$SELECT * FROM swarm.suggest_helpers(1)$$, '22023', 'routing weights add up to zero',
                 'suggest_helpers with zero weights');
SELECT throws_ok($$SELECT swarm.routing_score(2, 6)$$, '22023', 'routing weights add up to zero', 'routing_score with zero weights');
SELECT throws_ok($$SELECT swarm.explain_routing(2, 6)$$, '22023', 'routing weights add up to zero',
                 'explain_routing with zero weights');
SELECT lives_ok($$SELECT swarm.open_case('T-7', 'case 7', 'P2', 'pg:3')$$, 'case 7 (new)');
DELETE FROM events_before;
INSERT INTO events_before SELECT count(*) FROM swarm.events;
SELECT throws_ok($$SELECT swarm.auto_assign(7)$$, '22023', 'routing weights add up to zero', 'auto_assign with zero weights');
SELECT is((SELECT state::text FROM swarm.cases WHERE case_id = 7), 'new', 'the refused auto_assign left the case new');
SELECT is((SELECT n FROM events_before), (SELECT count(*) FROM swarm.events), 'and recorded no event');
SELECT lives_ok($$SELECT swarm.set_routing_weight('continuity', 1)$$, 'one positive weight is enough');
SELECT results_eq($$SELECT agent_id, score FROM swarm.route_case(6, 100)$$,
                  $$VALUES (1::bigint, 1::float8), (2, 0), (3, 0), (5, 0)$$,
                  'continuity only: the owner of case 6 scores 1, every other candidate 0');
SELECT lives_ok($$UPDATE swarm.routing_weights SET weight = default_weight$$, 'every weight back to its default');
SELECT is((SELECT count(*) FROM swarm.routing_weight_overrides), 0::bigint, 'no override left');

-- Saved plans survive DROP and CREATE EXTENSION in the same session -------------------------------------
SELECT lives_ok($$
    DROP EXTENSION swarm CASCADE;
    CREATE EXTENSION swarm;
    SELECT swarm.add_agent('x1', 'X', 'pg:3');
    SELECT swarm.add_group('g', 'pg:3');
    SELECT swarm.add_group_member('g', 1);
    SELECT swarm.add_agent('x2', 'Y', 'pg:3');
    SELECT swarm.open_case('X-1', 'x', 'P1', 'pg:3');
$$, 'the extension is recreated');
SELECT is((SELECT agent_id FROM swarm.route_case(1, 1)), 1::bigint, 'route_case works on the new extension');
SELECT is(swarm.routing_score(1, 1), swarm.routing_score(2, 1), 'routing_score too');
SELECT is(swarm.auto_assign(1), 1::bigint, 'auto_assign too');
SELECT lives_ok($$SELECT swarm.request_help(1, 'g')$$, 'a request to group g');
SELECT is_empty($$SELECT * FROM swarm.suggest_helpers(1)$$, 'the only member owns the case');

-- Round robin turns, expiring offers at a given time, default weights -------------------------------
-- 1. round_robin puts the members above rr_cursor first but orders each part
--    by score, so once the best-scoring member has the highest id (or is the
--    cursor) every offer goes to it again: members 2-4 below never get a turn.
-- 2. expire_offers(at) selects offers due by "at" but offer_request checks
--    them against now(): with at > now() it raises 55000 "request N is
--    offered to agent M until ..." and the whole call fails.
-- 3. UPDATE swarm.routing_weights SET default_weight = ... reports UPDATE 1
--    (RETURNING shows the new value) but changes nothing, and records a
--    routing_weight_set event; renaming is refused with 0A000, this is not.
SELECT lives_ok($$
    DROP EXTENSION swarm CASCADE;
    CREATE EXTENSION swarm;
    SELECT swarm.add_agent('o', 'Owner', 'pg:1', 'emea', capacity => 20);
    SELECT swarm.add_agent('m' || i, 'Member ' || i, ('pg:' || i)::swarm.skillset, 'emea') FROM generate_series(1, 4) i;
    SELECT swarm.add_agent('x', 'Outsider', 'pg:3', 'emea');
    SELECT swarm.add_group('rr', 'pg:4', 'global');
    SELECT swarm.add_group_member('rr', a) FROM generate_series(2, 5) a;
    SELECT swarm.set_group_routing('rr', 'round_robin');
    SELECT swarm.open_case('T' || i, 'c', 'P3', 'pg:1', NULL, 'emea') FROM generate_series(1, 6) i;
    SELECT swarm.assign_case(i, 1) FROM generate_series(1, 6) i;
$$, 'round robin fixture: four members pg:1 .. pg:4');
CREATE TEMP TABLE rr_offers (case_id int, agent_id bigint);
INSERT INTO rr_offers SELECT 1, swarm.offer_request(swarm.request_help(1, 'rr'));
INSERT INTO rr_offers SELECT 2, swarm.offer_request(swarm.request_help(2, 'rr'));
INSERT INTO rr_offers SELECT 3, swarm.offer_request(swarm.request_help(3, 'rr'));
INSERT INTO rr_offers SELECT 4, swarm.offer_request(swarm.request_help(4, 'rr'));
SELECT is((SELECT rr_cursor FROM swarm.skill_groups WHERE name = 'rr'), (SELECT agent_id FROM rr_offers WHERE case_id = 4),
          'the round robin cursor is the member offered last');
SELECT is((SELECT array_agg(DISTINCT agent_id ORDER BY agent_id) FROM rr_offers), ARRAY[2, 3, 4, 5]::bigint[],
          'round robin: four offers to a group of four go to each member once');

SELECT lives_ok($$SELECT swarm.request_help(5, needed => 'pg:1')$$, 'request 5 by skills');
SELECT lives_ok($$SELECT swarm.offer_request(5)$$, 'offered now');
SELECT lives_ok($$SELECT swarm.expire_offers(now() + interval '1 hour')$$, 'expire_offers at a later time');
SELECT isnt((SELECT offered_to FROM swarm.collab_requests WHERE request_id = 5),
            (SELECT agent_id FROM swarm.events WHERE kind = 'request_offered' AND request_id = 5 ORDER BY event_id LIMIT 1),
            'the offer due by then has moved on');

-- follow the sun: member 2 (pg:1) helps elsewhere, so the emea spare of the
-- global group is 11 of its members' 4 * 3 help capacity
SELECT lives_ok($$SELECT swarm.accept_request(swarm.request_help(6, needed => 'pg:2'), 2)$$, 'member 2 helps on case 6');
SELECT lives_ok($$SELECT swarm.cancel_request(r) FROM generate_series(1, 4) r$$, 'round robin requests cancelled');
SELECT lives_ok($$SELECT swarm.request_help(1, 'rr')$$, 'request 7');
SELECT ok((SELECT bool_and(abs((reasons->>'region')::float8 - 11/12.0) < 1e-12) FROM swarm.suggest_helpers(7, 10)),
          'the region component is the spare help capacity of the region: 11 of 4 * 3');

SELECT throws_ok($$UPDATE swarm.routing_weights SET default_weight = 1 WHERE component = 'match'$$, '0A000', NULL,
                 'a default weight cannot be changed through the view');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'routing_weight_set'), 0::bigint,
          'and no routing_weight_set event is recorded for it');

-- The routing cache (src/agent_cache.c; results in test/sql/routing_cache.sql) --------------------------
SELECT is(current_setting('swarm.routing_cache'), 'on', 'swarm.routing_cache is on by default');
SELECT is((SELECT context FROM pg_settings WHERE name = 'swarm.routing_cache'), 'user',
          'any session may switch the routing cache off');
SELECT has_function('swarm', 'routing_cache_changed', 'trigger function swarm.routing_cache_changed');
SELECT has_function('swarm', 'routing_cache_state', 'function swarm.routing_cache_state');
SELECT is((SELECT preloaded FROM swarm.routing_cache_state()), true, 'the suites run with the library preloaded: the ring exists');
SELECT ok((SELECT calls > 0 AND NOT loaded IS NULL FROM swarm.routing_cache_state()), 'and routing calls were served from the cache');
SELECT is((SELECT count(*) FROM pg_trigger
            WHERE tgfoid = 'swarm.routing_cache_changed'::regproc AND tgenabled = 'A'
              AND tgrelid IN ('swarm.agents'::regclass, 'swarm.agent_experience'::regclass,
                              'swarm.group_members'::regclass)),
          6::bigint, 'row and TRUNCATE triggers on agents, agent_experience and group_members, enabled ALWAYS');
SELECT throws_ok($$SELECT swarm.routing_cache_changed()$$, '39P01', NULL,
                 'the trigger function cannot be called directly');
CREATE TEMP TABLE cache_on AS SELECT c.case_id, r.* FROM swarm.cases AS c, swarm.route_case(c.case_id, 10) AS r
 WHERE c.state IN ('new', 'open', 'pending');
SET LOCAL swarm.routing_cache = off;
SELECT set_eq($$SELECT c.case_id, r.* FROM swarm.cases AS c, swarm.route_case(c.case_id, 10) AS r
                 WHERE c.state IN ('new', 'open', 'pending')$$,
              $$SELECT * FROM cache_on$$, 'route_case agrees with the cache on and off');
SELECT isnt_empty($$SELECT * FROM cache_on$$, 'and it ranked someone');
RESET swarm.routing_cache;

SELECT * FROM finish();
ROLLBACK;

-- The escalation API contract: tables, signatures, volatility, the worker's
-- settings and status view, every error path with its SQLSTATE, and that a
-- refused call changes nothing.  (What each level does is checked by hand in
-- test/sql/escalation.sql; the worker itself in test/t/04*_escalator*.pl.)
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT * FROM no_plan();

-- Structure --------------------------------------------------------------------------
SELECT enum_has_labels('swarm', 'escalation_action', ARRAY['renotify', 'widen', 'notify_leads', 'raise_priority', 'reoffer']);
SELECT has_table('swarm', t, 'table swarm.' || t) FROM unnest(ARRAY['escalation_ladder', 'escalations']) AS t;
SELECT columns_are('swarm', 'escalation_ladder',
                   ARRAY['rung_id', 'priority', 'group_id', 'level', 'at_fraction', 'after_due', 'actions']);
SELECT columns_are('swarm', 'escalations', ARRAY['request_id', 'level', 'actions', 'due_at', 'escalated_at']);
SELECT col_is_pk('swarm', 'escalations', ARRAY['request_id', 'level'], 'a level fires at most once per request');
SELECT col_is_unique('swarm', 'escalation_ladder', ARRAY['priority', 'group_id', 'level'], 'one rung per ladder and level');
SELECT fk_ok('swarm', 'escalations', 'request_id', 'swarm', 'collab_requests', 'request_id');
SELECT has_column('swarm', 'collab_requests', c, 'collab_requests.' || c)
  FROM unnest(ARRAY['next_escalation_at', 'next_escalation_level', 'escalation_level']) AS c;
SELECT has_index('swarm', 'collab_requests', 'collab_requests_escalation_idx', ARRAY['next_escalation_at', 'request_id'],
                 'the sweep reads due requests in its order (next_escalation_at, request_id) from an index');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'swarm.collab_requests_escalation_idx'::regclass),
          '(state = ANY (ARRAY[''open''::swarm.request_state, ''offered''::swarm.request_state]))',
          '... of open and offered requests only');
SELECT has_index('swarm', 'escalations', 'escalations_at_idx', 'escalations are indexed by time');
SELECT has_view('swarm', 'escalator_status', 'view swarm.escalator_status');
SELECT columns_are('swarm', 'escalator_status',
                   ARRAY['pid', 'database', 'state', 'dynamic', 'started_at', 'last_sweep', 'escalations',
                         'next_wakeup', 'last_lag_ms']);
SELECT col_type_is('swarm', 'escalator_status', c, t, 'escalator_status.' || c || ' is ' || t)
  FROM (VALUES ('pid', 'integer'), ('database', 'text'), ('state', 'text'), ('dynamic', 'boolean'),
               ('started_at', 'timestamp with time zone'), ('last_sweep', 'timestamp with time zone'),
               ('escalations', 'bigint'), ('next_wakeup', 'timestamp with time zone'),
               ('last_lag_ms', 'double precision')) AS v (c, t);
SELECT ok(ARRAY['swarm.escalation_ladder'::regclass, 'swarm.escalations'::regclass,
                'swarm.escalation_ladder_rung_id_seq'::regclass]
          <@ (SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'swarm'),
          'ladders and escalations are dumped with the data');

-- Signatures: argument names and defaults, result types.
CREATE TEMP TABLE sig (fn text, args text, result text);
INSERT INTO sig VALUES
    ('swarm.default_ladder()', '',
     'TABLE(level integer, at_fraction double precision, after_due interval, actions swarm.escalation_action[])'),
    ('swarm.ladder_for(swarm.priority,bigint)', 'priority swarm.priority, group_id bigint',
     'TABLE(level integer, at_fraction double precision, after_due interval, actions swarm.escalation_action[])'),
    ('swarm.set_escalation_rung(integer,text[],double precision,interval,swarm.priority,text)',
     'level integer, actions text[], at_fraction double precision DEFAULT NULL::double precision, '
     'after_due interval DEFAULT NULL::interval, priority swarm.priority DEFAULT NULL::swarm.priority, '
     'group_name text DEFAULT NULL::text', 'bigint'),
    ('swarm.clear_escalation_ladder(swarm.priority,text)',
     'priority swarm.priority DEFAULT NULL::swarm.priority, group_name text DEFAULT NULL::text', 'integer'),
    ('swarm.wake_escalator(timestamptz)', 'at timestamp with time zone', 'void'),
    ('swarm.schedule_escalation(bigint)', 'request_id bigint', 'timestamp with time zone'),
    ('swarm.escalation_widen(swarm.collab_requests)', 'r swarm.collab_requests', 'jsonb'),
    ('swarm.escalate_request(swarm.collab_requests,integer,swarm.escalation_action[],timestamptz)',
     'r swarm.collab_requests, level integer, actions swarm.escalation_action[], due_at timestamp with time zone',
     'boolean'),
    ('swarm.claim_due(timestamptz,integer)', 'now timestamp with time zone, max integer', 'bigint[]'),
    ('swarm.escalate_one(bigint,timestamptz)', 'request_id bigint, now timestamp with time zone', 'integer'),
    ('swarm.escalate_batch(bigint[],timestamptz)', 'request_ids bigint[], now timestamp with time zone', 'integer'),
    ('swarm.escalate_claimed(bigint[],timestamptz)', 'request_ids bigint[], now timestamp with time zone', 'integer'),
    ('swarm.escalate_due(timestamptz,integer)',
     'now timestamp with time zone DEFAULT clock_timestamp(), max integer DEFAULT 1000', 'integer'),
    ('swarm.start_escalator()', '', 'integer'),
    ('swarm.stop_escalator()', '', 'integer'),
    ('swarm.escalator_workers()',
     'OUT pid integer, OUT database text, OUT state text, OUT dynamic boolean, OUT started_at timestamp with time zone, '
     'OUT last_sweep timestamp with time zone, OUT escalations bigint, OUT next_wakeup timestamp with time zone, '
     'OUT last_lag_ms double precision', 'SETOF record');
SELECT is(pg_get_function_arguments(fn::regprocedure), args, fn || ' arguments') FROM sig ORDER BY fn;
SELECT is(pg_get_function_result(fn::regprocedure), result, fn || ' result') FROM sig ORDER BY fn;
SELECT function_returns('swarm', 'escalate_due', ARRAY['timestamp with time zone', 'integer'], 'integer');
SELECT function_returns('swarm', 'start_escalator', ARRAY[]::text[], 'integer');
SELECT function_lang_is('swarm', f, 'c', f || ' is in C') FROM unnest(ARRAY['wake_escalator', 'start_escalator',
                                                                                'stop_escalator', 'escalator_workers']) AS f;

-- Volatility: the default ladder is a constant, ladder_for only reads, everything else writes or reads shared memory.
SELECT volatility_is('swarm', 'default_ladder', 'immutable', 'default_ladder is immutable');
SELECT volatility_is('swarm', 'ladder_for', 'stable', 'ladder_for is stable');
SELECT volatility_is('swarm', f, 'volatile', f || ' is volatile')
  FROM unnest(ARRAY['set_escalation_rung', 'clear_escalation_ladder', 'wake_escalator', 'schedule_escalation',
                    'escalation_widen', 'escalate_request', 'claim_due', 'escalate_one', 'escalate_batch', 'escalate_claimed',
                    'escalate_due', 'start_escalator', 'stop_escalator', 'escalator_workers']) AS f;
SELECT is((SELECT prorows FROM pg_proc WHERE oid = 'swarm.ladder_for(swarm.priority,bigint)'::regprocedure), 5::real,
          'ladder_for is planned as a few rows (a ladder has a few levels)');
SELECT ok((SELECT 'jit=off' = ANY (proconfig) FROM pg_proc WHERE oid = 'swarm.escalate_batch(bigint[],timestamptz)'::regprocedure),
          'escalate_batch runs without JIT: its statements are short, compiling them is not');
SELECT ok((SELECT 'plan_cache_mode=force_generic_plan' = ANY (proconfig) FROM pg_proc
            WHERE oid = 'swarm.claim_due(timestamptz,integer)'::regprocedure),
          'claim_due plans without the values of now and max: the index scan in the sweep''s order, whatever the statistics');
SELECT ok((SELECT bool_and(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] OR proconfig @> ARRAY['search_path=pg_catalog, swarm, pg_temp'])
             FROM pg_proc WHERE oid IN ('swarm.claim_due(timestamptz,integer)'::regprocedure, 'swarm.escalate_one(bigint,timestamptz)'::regprocedure,
                                        'swarm.escalate_batch(bigint[],timestamptz)'::regprocedure,
                                        'swarm.escalate_claimed(bigint[],timestamptz)'::regprocedure)),
          'the sweep''s functions pin their search_path');
SELECT ok((SELECT bool_and(obj_description(oid, 'pg_proc') IS NOT NULL) FROM pg_proc
            WHERE pronamespace = 'swarm'::regnamespace AND proname LIKE 'escalat%'),
          'every escalation function has a comment');
SELECT is_strict('swarm', 'wake_escalator', 'wake_escalator is strict');
SELECT isnt_strict('swarm', f, f || ' checks its arguments itself')
  FROM unnest(ARRAY['set_escalation_rung', 'clear_escalation_ladder', 'escalate_due']) AS f;
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'swarm.start_escalator()'::regprocedure), 'u',
          'start_escalator is parallel unsafe');

-- Settings: defaults and how they may be changed ---------------------------------------
SELECT results_eq(
    $$SELECT name, boot_val, context, coalesce(unit, ''), coalesce(min_val, ''), coalesce(max_val, '')
        FROM pg_settings WHERE name IN ('swarm.database_name', 'swarm.escalation_role', 'swarm.escalation_enabled',
                                        'swarm.escalation_naptime', 'swarm.escalation_batch_size') ORDER BY name$$,
    $$VALUES ('swarm.database_name', 'postgres', 'postmaster', '', '', ''),
             ('swarm.escalation_batch_size', '1000', 'sighup', '', '1', '1000000'),
             ('swarm.escalation_enabled', 'on', 'sighup', '', '', ''),
             ('swarm.escalation_naptime', '10', 'sighup', 's', '1', '3600'),
             ('swarm.escalation_role', '', 'postmaster', '', '', '')$$,
    'the worker''s settings: defaults, units, ranges; database and role at server start, the rest on reload');
SELECT throws_ok($$SET swarm.escalation_naptime = '5s'$$, '55P02', NULL, 'the naptime is not a session setting');
SELECT throws_ok($$SET swarm.escalation_enabled = off$$, '55P02', NULL, 'nor is escalation_enabled');
SELECT throws_ok($$SET swarm.database_name = 'x'$$, '55P02', NULL, 'the database is set at server start');

-- The status view: the preloaded worker works in database postgres (not this one) ---------
SELECT is((SELECT count(*) FROM swarm.escalator_status WHERE NOT dynamic AND database = 'postgres'), 1::bigint,
          'the preloaded worker is listed, in database postgres');
SELECT ok((SELECT bool_and(pid > 0 AND state IN ('starting', 'sleeping', 'sweeping', 'disabled', 'extension not installed')
                           AND started_at <= now() AND escalations >= 0)
             FROM swarm.escalator_status), 'every listed worker has a pid, a known state and a count');
SELECT is((SELECT count(*) FROM pg_stat_activity AS a JOIN swarm.escalator_status AS s USING (pid)
            WHERE a.backend_type = 'swarm escalator'), (SELECT count(*) FROM swarm.escalator_status),
          'each listed pid is a running swarm escalator');

-- A dynamic worker for this database: while this transaction (which created the
-- extension) is open, it sees no extension and idles.
CREATE FUNCTION pg_temp.poll(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
BEGIN
    FOR i IN 1..600 LOOP                        -- up to 30 seconds
        EXECUTE q INTO ok;
        IF ok THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END
$$;
SELECT ok(swarm.start_escalator() > 0, 'start_escalator starts a worker and returns its pid');
SELECT ok(pg_temp.poll($$SELECT count(*) = 1 FROM swarm.escalator_status
                          WHERE dynamic AND database = current_database() AND state = 'extension not installed'$$),
          'the dynamic worker works in this database, idle while the extension is not committed');
DO $$ BEGIN PERFORM pg_stat_clear_snapshot(); END $$;   -- pg_stat_activity is read once per transaction
SELECT is((SELECT count(*) FROM pg_stat_activity AS a JOIN swarm.escalator_status AS s USING (pid)
            WHERE s.dynamic AND a.backend_type = 'swarm escalator' AND a.datname = current_database()), 1::bigint,
          'it is a swarm escalator backend connected to this database');
SELECT is(swarm.stop_escalator(), 1, 'stop_escalator stops it');
SELECT ok(pg_temp.poll($$SELECT count(*) = 0 FROM swarm.escalator_status WHERE dynamic AND database = current_database()$$),
          'it leaves the status view');
SELECT is(swarm.stop_escalator(), 0, 'nothing left to stop');
SELECT is((SELECT count(*) FROM swarm.escalator_status WHERE NOT dynamic), 1::bigint, 'the preloaded worker keeps running');

-- Fixture ---------------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.add_agent('u1', 'Own', 'pg:3', 'emea', capacity => 10)$$, 'agent 1 owns the cases');
SELECT lives_ok($$SELECT swarm.add_agent('u2', 'Ann', 'pg:5', 'emea')$$, 'agent 2');
SELECT lives_ok($$SELECT swarm.add_group('pg', 'pg:3', 'regional', 'emea')$$, 'group pg');
SELECT lives_ok($$SELECT swarm.add_group('pg-world', 'pg:3', 'global')$$, 'global group pg-world');
SELECT lives_ok($$SELECT swarm.set_sla_policy('P3', '1 hour', '1 day', '1 hour', '1 day')$$, 'P3: accept within an hour');
SELECT lives_ok($$SELECT swarm.open_case('T-' || i, 'case ' || i, 'P3', 'pg:3') FROM generate_series(1, 6) i$$, 'cases 1-6');
SELECT lives_ok($$SELECT swarm.assign_case(i, 1) FROM generate_series(1, 6) i$$, 'owned by agent 1');

-- escalate_due --------------------------------------------------------------------------------
SELECT is(swarm.escalate_due(), 0, 'escalate_due() with its defaults: nothing is due');
SELECT is(swarm.escalate_due('infinity', 1), 0, 'nothing without requests, whenever');
SELECT throws_ok($$SELECT swarm.escalate_due(now(), 0)$$, '22023', 'max must be positive: 0', 'max of 0');
SELECT throws_ok($$SELECT swarm.escalate_due(now(), -5)$$, '22023', 'max must be positive: -5', 'negative max');
SELECT throws_ok($$SELECT swarm.escalate_due(now(), NULL)$$, '22004', 'max must not be null', 'null max');
SELECT throws_ok($$SELECT swarm.escalate_due(NULL, 10)$$, '22004', 'now must not be null', 'null now');
SELECT throws_ok($$SELECT swarm.escalate_due(max => 0)$$, '22023', 'max must be positive: 0', 'named max of 0');

-- set_escalation_rung / clear_escalation_ladder ---------------------------------------------
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 0.5, '1 hour')$$, '22023',
                 'an escalation level needs either at_fraction or after_due', 'both triggers');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}')$$, '22023',
                 'an escalation level needs either at_fraction or after_due', 'no trigger');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify,shout}', 0.5)$$, '22023',
                 'unknown escalation action "shout"', 'unknown action');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify,NULL}', 0.5)$$, '22023',
                 'unknown escalation action "<NULL>"', 'null action');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{}', 0.5)$$, '22023',
                 'escalation level 1 needs at least one action', 'no action');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, NULL, 0.5)$$, '22004', 'actions must not be null', 'null actions');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(0, '{renotify}', 0.5)$$, '22023',
                 'escalation level must be between 1 and 100: 0', 'level 0');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(101, '{renotify}', 0.5)$$, '22023',
                 'escalation level must be between 1 and 100: 101', 'level 101');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(-1, '{renotify}', 0.5)$$, '22023',
                 'escalation level must be between 1 and 100: -1', 'negative level');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(NULL, '{renotify}', 0.5)$$, '22004', 'level must not be null', 'null level');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 0.5, group_name => 'nope')$$, '42704',
                 'group "nope" does not exist', 'unknown group');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 0)$$, '22023',
                 'invalid trigger for escalation level 1: 0', 'at_fraction 0');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', -0.5)$$, '22023',
                 'invalid trigger for escalation level 1: -0.5', 'negative at_fraction');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 'infinity')$$, '22023',
                 'invalid trigger for escalation level 1: Infinity', 'infinite at_fraction');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 'NaN')$$, '22023',
                 'invalid trigger for escalation level 1: NaN', 'NaN at_fraction');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', after_due => '-1 minute')$$, '22023',
                 'invalid trigger for escalation level 1: -00:01:00', 'negative after_due');
SELECT throws_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', 0.5, priority => 'P9')$$, '22P02', NULL,
                 'unknown priority');
SELECT throws_ok($$SELECT swarm.clear_escalation_ladder(group_name => 'nope')$$, '42704', 'group "nope" does not exist',
                 'clear the ladder of an unknown group');
SELECT is((SELECT count(*) FROM swarm.escalation_ladder), 0::bigint, 'refused rungs added nothing');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'escalation_ladder_set'), 0::bigint, 'and recorded nothing');

SELECT lives_ok($$SELECT swarm.set_escalation_rung(1, '{renotify, notify_leads}', after_due => '0', group_name => 'pg')$$,
                'after_due of 0: at the due time');
SELECT lives_ok($$SELECT swarm.set_escalation_rung(100, '{raise_priority}', 1e-9, priority => 'P3', group_name => 'pg')$$,
                'level 100, a tiny fraction, for a priority and a group');
SELECT is((SELECT count(*) FROM swarm.escalation_ladder), 2::bigint, 'two rungs');
SELECT is((SELECT detail FROM swarm.events WHERE kind = 'escalation_ladder_set' ORDER BY event_id LIMIT 1),
          '{"group": "pg", "level": 1, "actions": ["renotify", "notify_leads"], "priority": null, "after_due": "00:00:00", "at_fraction": null}'::jsonb,
          'setting a rung records an event');
SELECT is(swarm.clear_escalation_ladder('P3', 'pg'), 1, 'clear returns how many levels the ladder had');
SELECT is(swarm.clear_escalation_ladder('P3', 'pg'), 0, 'clearing it again: none');
SELECT is(swarm.clear_escalation_ladder(group_name => 'pg'), 1, 'clear the group ladder');
SELECT is(swarm.clear_escalation_ladder(), 0, 'there is no catch-all ladder to clear');
SELECT throws_ok($$INSERT INTO swarm.escalation_ladder (level, at_fraction, after_due, actions) VALUES (1, 1, '1 hour', '{renotify}')$$,
                 '23514', NULL, 'the table, too, wants exactly one trigger');

-- A request's schedule --------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.request_help(1, 'pg')$$, 'request 1');
SELECT is((SELECT next_escalation_level FROM swarm.collab_requests WHERE request_id = 1), 1, 'level 1 is next');
SELECT is((SELECT next_escalation_at - created_at FROM swarm.collab_requests WHERE request_id = 1), interval '45 minutes',
          'at 75 % of the acceptance time');
SELECT is(swarm.schedule_escalation(1) - (SELECT created_at FROM swarm.collab_requests WHERE request_id = 1),
          interval '45 minutes', 'schedule_escalation returns the time');
SELECT lives_ok($$SELECT swarm.accept_request(1, 2)$$, 'accepted');
SELECT is(swarm.schedule_escalation(1), NULL, 'an accepted request has nothing scheduled');
SELECT is((SELECT next_escalation_at FROM swarm.collab_requests WHERE request_id = 1), NULL, '... once rescheduled');
SELECT lives_ok($$SELECT swarm.request_help(2, 'pg', priority => 'P4')$$, 'request 2 at P4, which has no SLA policy');
SELECT is((SELECT next_escalation_at FROM swarm.collab_requests WHERE request_id = 2), NULL, 'without an SLA, no escalation');

-- widen never collides nor narrows; paused cases never escalate ------------------------------------
-- widen must not fail, nor block every later sweep, when the case already has a request to that group
SELECT lives_ok($$SELECT swarm.request_help(3, 'pg'), swarm.request_help(3, 'pg-world')$$, 'case 3 asks pg and pg-world');
DO $$ BEGIN
    UPDATE swarm.collab_requests SET created_at = '2001-01-01 00:00+00' WHERE request_id IN (3, 4);
    PERFORM swarm.sla_refresh_request(3), swarm.sla_refresh_request(4);
END $$;
SELECT lives_ok($$SELECT swarm.escalate_due('2001-01-01 01:00+00', 10)$$, 'a sweep widening request 3 to pg-world');
SELECT is((SELECT count(*) FROM swarm.escalations WHERE request_id = 3 AND level = 2), 1::bigint, 'request 3 reached level 2');
-- widen must not narrow a request that every skilled agent could take to the members of one group
SELECT lives_ok($$SELECT swarm.request_help(5, needed => 'pg:2')$$, 'request 5: no group, needs pg:2');
DO $$ BEGIN
    UPDATE swarm.collab_requests SET created_at = '2001-01-01 00:00+00' WHERE request_id = 5;
    PERFORM swarm.sla_refresh_request(5);
    PERFORM swarm.cancel_request(3), swarm.cancel_request(4);      -- out of the way
END $$;
SELECT lives_ok($$SELECT swarm.escalate_due('2001-01-01 01:00+00', 10)$$, 'levels 1 and 2 of request 5');
SELECT is((SELECT group_id FROM swarm.collab_requests WHERE request_id = 5), NULL, 'request 5 still has no group');
-- a paused case's requests must not escalate, also when their acceptance was already due
SELECT lives_ok($$SELECT swarm.set_escalation_rung(1, '{renotify}', after_due => '1 hour', priority => 'P3')$$,
                'P3: one level, an hour after acceptance is due');
SELECT lives_ok($$SELECT swarm.request_help(6, 'pg')$$, 'request 6');
DO $$ BEGIN
    UPDATE swarm.collab_requests SET created_at = now() - interval '90 minutes' WHERE request_id = 6;   -- accept due 30 minutes ago
    PERFORM swarm.sla_refresh_request(6);
END $$;
SELECT lives_ok($$SELECT swarm.pause_sla(6, 'waiting on the customer')$$, 'case 6 waits on the customer');
SELECT is(swarm.escalate_due(now() + interval '1 day', 10), 0, 'nothing escalates while paused');

SELECT * FROM finish();
ROLLBACK;

-- The metrics contract: views and window functions with their columns and
-- types, how the functions are declared, the errors for bad windows, and
-- the privileges of swarm_analyst (the views and functions, no table).
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET LOCAL TimeZone = 'UTC';
SELECT * FROM no_plan();

CREATE TEMP TABLE metric (name text PRIMARY KEY, cols text[], types text[]);
INSERT INTO metric VALUES
    ('metrics_daily',
     ARRAY['day', 'cases_opened', 'cases_resolved', 'cases_with_collaboration', 'collaboration_rate',
           'median_time_to_resolve', 'p90_time_to_resolve', 'handoffs', 'escalations', 'sla_targets', 'sla_met',
           'sla_attainment'],
     ARRAY['date', 'bigint', 'bigint', 'bigint', 'double precision', 'interval', 'interval', 'bigint', 'bigint',
           'bigint', 'bigint', 'double precision']),
    ('metrics_requests',
     ARRAY['group_id', 'group_name', 'priority', 'requests', 'accepted', 'median_time_to_accept', 'p90_time_to_accept',
           'accept_sla_met_rate', 'escalation_rate', 'pushed', 'pulled'],
     ARRAY['bigint', 'text', 'swarm.priority', 'bigint', 'bigint', 'interval', 'interval', 'double precision',
           'double precision', 'bigint', 'bigint']),
    ('metrics_agents',
     ARRAY['agent_id', 'name', 'cases_owned', 'cases_resolved', 'resolved_without_help', 'helps_given', 'cases_swarmed',
           'median_time_to_accept', 'kb_articles', 'contribution_score'],
     ARRAY['bigint', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'interval', 'bigint', 'bigint']),
    ('metrics_sla',
     ARRAY['target', 'priority', 'met', 'met_late', 'breached', 'attainment'],
     ARRAY['text', 'swarm.priority', 'bigint', 'bigint', 'bigint', 'double precision']),
    ('metrics_regions',
     ARRAY['group_scope', 'requests_served', 'same_region', 'cross_region', 'region_unknown', 'same_region_rate'],
     ARRAY['text', 'bigint', 'bigint', 'bigint', 'bigint', 'double precision']),
    ('metrics_knowledge',
     ARRAY['cases_resolved', 'cases_with_collaboration', 'collaborated_with_kb', 'collaborated_kb_rate',
           'cases_without_collaboration', 'solo_with_kb', 'solo_kb_rate'],
     ARRAY['bigint', 'bigint', 'bigint', 'double precision', 'bigint', 'bigint', 'double precision']),
    ('metrics_handoffs',
     ARRAY['reason', 'transfers', 'cases', 'share'],
     ARRAY['text', 'bigint', 'bigint', 'double precision']);
CREATE TEMP VIEW metric_col AS
SELECT m.name, c.col, c.typ, c.ord FROM metric AS m, unnest(m.cols, m.types) WITH ORDINALITY AS c (col, typ, ord);
-- as_role(role, query): runs the query as that role and comes back; 'ok', or the SQLSTATE and
-- message of the error (pgTAP itself must run as the session's user: its result tables are its own)
CREATE FUNCTION pg_temp.as_role(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        EXECUTE q;
        RESET ROLE;
    EXCEPTION WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || SQLERRM;     -- the role was set in the block: undone with it
    END;
    RETURN 'ok';
END
$$;

-- Structure ----------------------------------------------------------------------------
SELECT has_view('swarm', name, 'view swarm.' || name) FROM metric ORDER BY name;
SELECT has_function('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'], 'function swarm.' || name)
  FROM metric ORDER BY name;
SELECT function_returns('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'], 'setof record')
  FROM metric ORDER BY name;
SELECT is(pg_get_function_arguments(format('swarm.%I(timestamptz, timestamptz)', name)::regprocedure),
          'from_ts timestamp with time zone, to_ts timestamp with time zone', 'arguments of swarm.' || name)
  FROM metric ORDER BY name;
-- the view and the function have the same columns, of the documented types, in the same order
SELECT columns_are('swarm', name, cols, 'columns of view swarm.' || name) FROM metric ORDER BY name;
SELECT col_type_is('swarm', name, col, typ, format('swarm.%s.%s is %s', name, col, typ))
  FROM metric_col ORDER BY name, ord;
SELECT is(ARRAY(SELECT format('%s %s', a.attname, format_type(a.atttypid, a.atttypmod))
                  FROM pg_attribute AS a WHERE a.attrelid = format('swarm.%I', m.name)::regclass AND a.attnum > 0
                 ORDER BY a.attnum),
          ARRAY(SELECT format('%s %s', x.n, x.t)
                  FROM pg_proc AS p, unnest(p.proargnames[3:], (SELECT array_agg(format_type(t, NULL) ORDER BY o)
                                                                  FROM unnest(p.proallargtypes[3:]) WITH ORDINALITY AS u (t, o)))
                       AS x (n, t)
                 WHERE p.oid = format('swarm.%I(timestamptz, timestamptz)', m.name)::regprocedure),
          'swarm.' || m.name || ': the view has the function''s columns')
  FROM metric AS m ORDER BY m.name;
SELECT has_function('swarm', 'metrics_window', 'function swarm.metrics_window');
SELECT is(pg_get_function_result('swarm.metrics_window()'::regprocedure),
          'record', 'metrics_window returns a record');
SELECT is((SELECT to_ts - from_ts <= interval '30 days' AND to_ts - from_ts > interval '29 days'
             FROM swarm.metrics_window()), true, 'the views cover more than 29 and at most 30 days');
SELECT has_column('swarm', t, c, format('%s.%s', t, c))
  FROM (VALUES ('cases', 'resolved_with_help'), ('collab_requests', 'requested_group_id'),
               ('collab_requests', 'requested_priority')) AS v (t, c);
SELECT has_index('swarm', t, i, 'index ' || i)
  FROM (VALUES ('cases', 'cases_opened_at_idx'), ('cases', 'cases_resolved_at_idx'),
               ('cases', 'cases_first_response_due_idx'), ('cases', 'cases_resolution_due_idx'),
               ('collab_requests', 'collab_requests_created_at_idx'), ('collab_requests', 'collab_requests_accepted_at_idx'),
               ('collab_requests', 'collab_requests_accept_due_idx'),
               ('collab_requests', 'collab_requests_resolution_due_idx'), ('events', 'events_ownership_idx')) AS v (t, i);
SELECT has_trigger('swarm', t, g, format('trigger %s on %s', g, t))
  FROM (VALUES ('cases', 'cases_resolved_with_help'), ('cases', 'cases_resolved_with_help_insert'),
               ('collab_requests', 'collab_requests_requested'), ('collab_requests', 'collab_requests_help_inserted'),
               ('collab_requests', 'collab_requests_help_changed'), ('collab_requests', 'collab_requests_help_deleted'))
       AS v (t, g);

-- Declarations ------------------------------------------------------------------------------
SELECT volatility_is('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'], 'stable',
                     name || ' is stable') FROM metric ORDER BY name;
SELECT isnt_strict('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'],
                   name || ' is not strict: a NULL end is an error, not an empty result') FROM metric ORDER BY name;
SELECT is_definer('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'],
                  name || ' runs as its owner (SECURITY DEFINER)') FROM metric ORDER BY name;
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = format('swarm.%I(timestamptz, timestamptz)', name)::regprocedure),
          's'::"char", name || ' is parallel safe') FROM metric ORDER BY name;
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp', 'jit=off']
             FROM pg_proc WHERE oid = format('swarm.%I(timestamptz, timestamptz)', name)::regprocedure),
          name || ' pins search_path to pg_catalog, pg_temp (and turns JIT off)') FROM metric ORDER BY name;
SELECT is((SELECT count(*) FROM pg_proc WHERE pronamespace = 'swarm'::regnamespace AND prosecdef), 7::bigint,
          'the seven window functions are the only SECURITY DEFINER functions');
SELECT isnt(obj_description(format('swarm.%I', name)::regclass, 'pg_class'), NULL, 'view swarm.' || name || ' has a comment')
  FROM metric ORDER BY name;
SELECT is((SELECT count(*) FROM pg_proc WHERE pronamespace = 'swarm'::regnamespace AND proname LIKE 'metrics%'
             AND obj_description(oid, 'pg_proc') IS NULL), 0::bigint, 'every metrics function has a comment');

-- Bad windows ---------------------------------------------------------------------------------
SELECT throws_ok(format('SELECT * FROM swarm.%I(NULL, now())', name), '22004', 'from_ts must not be null',
                 name || ': a NULL start') FROM metric ORDER BY name;
SELECT throws_ok(format('SELECT * FROM swarm.%I(now(), NULL)', name), '22004', 'to_ts must not be null',
                 name || ': a NULL end') FROM metric ORDER BY name;
SELECT throws_ok(format('SELECT * FROM swarm.%I(now(), now() - interval ''1 day'')', name), '22023',
                 'the metrics window starts after it ends', name || ': a window that ends before it starts')
  FROM metric ORDER BY name;
SELECT throws_ok(format('SELECT * FROM swarm.%I(now(), ''infinity'')', name), '22023',
                 'the metrics window must be finite', name || ': an endless window') FROM metric ORDER BY name;
SELECT lives_ok(format('SELECT * FROM swarm.%I(now(), now())', name), name || ': an empty window is fine')
  FROM metric ORDER BY name;

-- Privileges ------------------------------------------------------------------------------------
SELECT has_role('swarm_analyst', 'role swarm_analyst exists');
SELECT is((SELECT rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication
             FROM pg_roles WHERE rolname = 'swarm_analyst'), false, 'swarm_analyst has no attribute (no login)');
SELECT schema_privs_are('swarm', 'swarm_analyst', ARRAY['USAGE'], 'swarm_analyst: USAGE on schema swarm, no CREATE');
SELECT table_privs_are('swarm', name, 'swarm_analyst', ARRAY['SELECT'], 'swarm_analyst: SELECT on swarm.' || name)
  FROM metric ORDER BY name;
SELECT function_privs_are('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'], 'swarm_analyst',
                          ARRAY['EXECUTE'], 'swarm_analyst: EXECUTE on swarm.' || name) FROM metric ORDER BY name;
SELECT function_privs_are('swarm', name, ARRAY['timestamp with time zone', 'timestamp with time zone'], 'public',
                          '{}'::text[], 'PUBLIC may not call swarm.' || name || ' (it reads every table)')
  FROM metric ORDER BY name;
-- no privilege on any table, sequence or other view of the extension
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class AS c
                 WHERE c.relnamespace = 'swarm'::regnamespace AND c.relkind IN ('r', 'v', 'S')
                   AND NOT c.relname IN (SELECT name FROM metric)
                   AND (has_table_privilege('swarm_analyst', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                        OR (c.relkind = 'S' AND has_sequence_privilege('swarm_analyst', c.oid, 'USAGE, SELECT, UPDATE')))
                 ORDER BY 1), '{}'::text[], 'swarm_analyst has no privilege on any other table, view or sequence');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class AS c
                 WHERE c.relnamespace = 'swarm'::regnamespace AND c.relkind IN ('r', 'v')
                   AND NOT c.relname IN (SELECT name FROM metric)
                   AND EXISTS (SELECT FROM aclexplode(c.relacl) AS x WHERE x.grantee = 'swarm_analyst'::regrole)
                 ORDER BY 1), '{}'::text[], 'nothing else is granted to swarm_analyst');
SELECT is((SELECT count(*) FROM pg_auth_members WHERE member = 'swarm_analyst'::regrole), 0::bigint,
          'swarm_analyst is a member of no other role');

-- as swarm_analyst
SELECT is(pg_temp.as_role('swarm_analyst', format('SELECT * FROM swarm.%I', name)), 'ok',
          'swarm_analyst reads swarm.' || name) FROM metric ORDER BY name;
SELECT is(pg_temp.as_role('swarm_analyst', format('SELECT * FROM swarm.%I(now() - interval ''7 days'', now())', name)),
          'ok', 'swarm_analyst calls swarm.' || name) FROM metric ORDER BY name;
SELECT is(pg_temp.as_role('swarm_analyst', 'SELECT * FROM swarm.metrics_window()'), 'ok',
          'swarm_analyst calls swarm.metrics_window');
SELECT is(pg_temp.as_role('swarm_analyst', format('SELECT count(*) FROM swarm.%I', t)),
          format('42501: permission denied for table %s', t), 'swarm_analyst cannot read swarm.' || t)
  FROM unnest(ARRAY['cases', 'collab_requests', 'events', 'agents', 'escalations', 'participants', 'sla_policies']) AS t;
SELECT is(pg_temp.as_role('swarm_analyst', $$SELECT swarm.open_case('T-1', 'no', 'P4', '')$$),
          '42501: permission denied for table cases', 'swarm_analyst cannot open a case');
SELECT is(pg_temp.as_role('swarm_analyst', $$UPDATE swarm.cases SET kb_ref = 'x'$$),
          '42501: permission denied for table cases', 'swarm_analyst cannot write');
SELECT is(pg_temp.as_role('swarm_analyst', $$SELECT * FROM swarm.metrics_sla_outcomes(now() - interval '1 day', now(), false)$$),
          '42501: permission denied for table cases', 'the internal helpers run as the caller: no way to the tables');

-- a role without the grants cannot read the metrics
CREATE ROLE metrics_stranger;
GRANT USAGE ON SCHEMA swarm TO metrics_stranger;
SELECT is(pg_temp.as_role('metrics_stranger', 'SELECT * FROM swarm.metrics_daily'),
          '42501: permission denied for view metrics_daily', 'another role cannot read the views');
SELECT is(pg_temp.as_role('metrics_stranger', $$SELECT * FROM swarm.metrics_agents(now() - interval '1 day', now())$$),
          '42501: permission denied for function metrics_agents', 'another role cannot call the window functions');
-- what a DBA does for a person: grant swarm_analyst to the person's login role
GRANT swarm_analyst TO metrics_stranger;
SELECT is(pg_temp.as_role('metrics_stranger', 'SELECT * FROM swarm.metrics_daily'), 'ok',
          'a member of swarm_analyst reads the views');

-- CREATE EXTENSION in a database where the role exists already (here: again) keeps it and grants again
SELECT lives_ok($$DROP EXTENSION swarm CASCADE$$, 'drop the extension');
SELECT has_role('swarm_analyst', 'DROP EXTENSION leaves the role (roles belong to the cluster)');
SELECT lives_ok($$CREATE EXTENSION swarm$$, 'create it again while the role exists');
SELECT table_privs_are('swarm', 'metrics_daily', 'swarm_analyst', ARRAY['SELECT'], 'the grants are back');

SELECT * FROM finish();
ROLLBACK;

-- bench/lifecycle/setup.sql: data and reference schema for the lifecycle benchmark.
-- Run once by bench/run.sh on a fresh database with the swarm extension created.
-- psql variables: agents (how many agents to seed), groups (how many specialty groups).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- Bench bookkeeping: the sequence that numbers external refs (unique across
-- clients and runs), the wait-event samples taken while a run is going, and
-- the tables' row counters around each run.
CREATE SCHEMA bench;
CREATE SEQUENCE bench.case_refs;
CREATE TABLE bench.waits (run text NOT NULL, wait text NOT NULL);
-- Row counters of the tables before and after each run (pg_stat_user_tables),
-- to compare the writes the two sides make per lifecycle.
CREATE TABLE bench.tabstats (run text NOT NULL, phase text NOT NULL, relname name NOT NULL,
                             ins bigint NOT NULL, upd bigint NOT NULL, del bigint NOT NULL);

-- Seed through the swarm API: agents with capacities large enough that the
-- benchmark never hits them, and specialty groups the requests go to.
SELECT swarm.add_agent(format('bench-agent-%s', i), format('Agent %s', i),
                       (ARRAY['postgres:4, linux:3', 'networking:4, vpn:3', 'billing:4',
                              'kubernetes:4, linux:4', 'postgres:3, replication:4'])[1 + i % 5]::swarm.skillset,
                       (ARRAY['emea', 'amer', 'apac'])[1 + i % 3])
  FROM generate_series(1, :agents) AS i \g /dev/null
SELECT swarm.update_agent(agent_id, capacity => 1000000, help_capacity => 1000000)
  FROM swarm.agents WHERE external_ref LIKE 'bench-agent-%' \g /dev/null
-- (ref.pgbench knows this list: keep them in step)
SELECT swarm.add_group(format('bench-group-%s', i),
                       (ARRAY['postgres:3', 'networking:3', 'billing:3', 'kubernetes:3', 'replication:3'])[1 + i % 5]::swarm.skillset,
                       'global')
  FROM generate_series(1, :groups) AS i \g /dev/null

-- The reference: the same tables a helpdesk developer would write by hand,
-- in schema bench_ref, with no functions.  Derived from the swarm tables so
-- they stay identical: same columns, types, defaults, CHECK constraints,
-- indexes (primary keys, unique and partial ones) and foreign keys; each
-- table gets its own id sequences.  Mirrored: the tables a lifecycle writes
-- rows into (created empty; as on the swarm side before the first run),
-- plus every table they reference (agents, groups, SLA policies, calendars
-- ...), whose rows are copied so that the foreign keys have the same targets
-- with the same ids.  Not copied: triggers (swarm.events has append-only
-- triggers on UPDATE/DELETE, which neither side does).
CREATE SCHEMA bench_ref;
DO $$
DECLARE
    written text[] := ARRAY['cases', 'collab_requests', 'participants', 'events', 'agent_experience'];
    mirrored text[] := written;
    more text[];
    t text;
    d record;
BEGIN
    SET LOCAL search_path = pg_catalog;     -- so that definitions come out schema-qualified
    LOOP
        SELECT array_agg(DISTINCT rf.relname::text) INTO more
          FROM pg_constraint AS co
          JOIN pg_class AS cl ON cl.oid = co.conrelid
          JOIN pg_class AS rf ON rf.oid = co.confrelid
         WHERE co.contype = 'f' AND co.connamespace = 'swarm'::regnamespace
           AND rf.relnamespace = 'swarm'::regnamespace
           AND cl.relname = ANY (mirrored) AND NOT rf.relname = ANY (mirrored);
        EXIT WHEN more IS NULL;
        mirrored := mirrored || more;
    END LOOP;
    FOREACH t IN ARRAY mirrored LOOP
        EXECUTE format('CREATE TABLE bench_ref.%I (LIKE swarm.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                       ' INCLUDING INDEXES INCLUDING STORAGE)', t, t);
        IF NOT t = ANY (written) THEN
            EXECUTE format('INSERT INTO bench_ref.%I SELECT * FROM swarm.%I', t, t);
        END IF;
    END LOOP;
    -- serial columns: LIKE copied nextval('swarm....'); give each its own sequence
    FOR d IN SELECT c.relname, a.attname
               FROM pg_attrdef ad
               JOIN pg_class c ON c.oid = ad.adrelid
               JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
              WHERE c.relnamespace = 'bench_ref'::regnamespace
                AND pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%'
    LOOP
        EXECUTE format('CREATE SEQUENCE bench_ref.%I OWNED BY bench_ref.%I.%I',
                       d.relname || '_' || d.attname || '_seq', d.relname, d.attname);
        EXECUTE format('ALTER TABLE bench_ref.%I ALTER COLUMN %I SET DEFAULT nextval(%L)',
                       d.relname, d.attname, 'bench_ref.' || d.relname || '_' || d.attname || '_seq');
        EXECUTE format('SELECT setval(%L, coalesce((SELECT max(%I) FROM bench_ref.%I), 0) + 1, false)',
                       'bench_ref.' || d.relname || '_' || d.attname || '_seq', d.attname, d.relname);
    END LOOP;
    -- foreign keys between mirrored tables, pointed at the mirrors
    FOR d IN SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid) AS def, rf.relname AS target
               FROM pg_constraint co
               JOIN pg_class cl ON cl.oid = co.conrelid
               JOIN pg_class rf ON rf.oid = co.confrelid
              WHERE co.contype = 'f' AND co.connamespace = 'swarm'::regnamespace
                AND cl.relname = ANY (mirrored) AND rf.relname = ANY (mirrored)
              ORDER BY cl.relname, co.conname
    LOOP
        EXECUTE format('ALTER TABLE bench_ref.%I ADD CONSTRAINT %I %s', d.relname, d.conname,
                       replace(d.def, 'REFERENCES swarm.' || d.target || '(',
                                      'REFERENCES bench_ref.' || d.target || '('));
    END LOOP;
END
$$;

-- The two sides must have the same shape: compare columns, indexes, constraints.
DO $$
DECLARE
    diff text;
BEGIN
    WITH shape AS (
        SELECT n.nspname AS side, c.relname AS tab, 'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END AS item
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('swarm', 'bench_ref') AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT n.nspname, c.relname, 'index ' || regexp_replace(pg_get_indexdef(i.indexrelid), ' INDEX \S+ ON \S+ USING ', ' INDEX USING ')
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('swarm', 'bench_ref')
        UNION ALL
        SELECT n.nspname, c.relname, 'constraint ' || co.contype::text || ' ' || replace(pg_get_constraintdef(co.oid), 'bench_ref.', 'swarm.')
          FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('swarm', 'bench_ref')
    ),
    ref_tabs AS (SELECT DISTINCT tab FROM shape WHERE side = 'bench_ref'),
    s AS (SELECT tab, item FROM shape WHERE side = 'swarm' AND tab IN (SELECT tab FROM ref_tabs)),
    r AS (SELECT tab, item FROM shape WHERE side = 'bench_ref')
    SELECT string_agg(x, E'\n') INTO diff FROM (
        (SELECT 'only in swarm: ' || tab || ' ' || item AS x FROM (SELECT * FROM s EXCEPT SELECT * FROM r) d)
        UNION ALL
        (SELECT 'only in bench_ref: ' || tab || ' ' || item FROM (SELECT * FROM r EXCEPT SELECT * FROM s) d)
    ) q;
    IF diff IS NOT NULL THEN
        RAISE EXCEPTION 'the reference tables differ from the swarm tables' USING DETAIL = diff;
    END IF;
END
$$;

-- Samples the wait events of the pgbench sessions every 50 ms for `seconds`
-- seconds, as `run`; run.sh starts it next to each timed run.
CREATE PROCEDURE bench.sample_waits(run text, seconds numeric)
LANGUAGE plpgsql AS $$
DECLARE
    stop timestamptz := clock_timestamp() + seconds * interval '1 second';
BEGIN
    WHILE clock_timestamp() < stop LOOP
        PERFORM pg_stat_clear_snapshot();
        -- a heavyweight lock wait is named by the lock it waits for; the
        -- lock on object 0 of pg_database is the one every transaction that
        -- sent NOTIFY takes in exclusive mode to queue its notifications at
        -- commit (PreCommit_Notify in src/backend/commands/async.c)
        INSERT INTO bench.waits
        SELECT run, coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU (no wait)')
                    || CASE WHEN a.wait_event_type = 'Lock'
                            THEN coalesce(' on ' || l.what, ' (granted before it could be named)') ELSE '' END
          FROM pg_stat_activity AS a
          LEFT JOIN LATERAL (
              SELECT CASE WHEN l.locktype = 'object' AND l.classid = 'pg_database'::regclass AND l.objid = 0
                          THEN 'pg_database/0, the NOTIFY commit lock'
                          WHEN l.locktype = 'object' THEN l.classid::regclass || '/' || l.objid
                          WHEN l.locktype = 'relation' THEN l.relation::regclass::text
                          ELSE l.locktype END AS what
                FROM pg_locks AS l
               WHERE l.pid = a.pid AND NOT l.granted AND a.wait_event_type = 'Lock'
               LIMIT 1) AS l ON true
         WHERE a.application_name = 'pgbench' AND a.state = 'active' AND a.pid <> pg_backend_pid();
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;

VACUUM ANALYZE;

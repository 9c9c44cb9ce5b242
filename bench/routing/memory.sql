-- bench/routing/memory.sql: no per-call memory growth.  Run in ONE psql
-- session on a fresh database with swarm created: a small fixture (so that a
-- million calls take under a minute), then for swarm.routing_score and
-- swarm.route_case a million calls each (run.sh's default), each function's
-- calls in one transaction (a DO block), with the backend's memory (sum of
-- pg_backend_memory_contexts.total_bytes) sampled in the same session
-- before, during (inside the transaction, after
-- 1%, 25%, 50%, 75% and 100% of the calls) and after.  A warm-up of 1% of
-- the calls before "before" fills the one-time caches (plans, catalog caches),
-- so that before and after compare like with like; growth would be a leak.
-- psql variables: score_calls, route_calls (calls of each function).
-- Output lines parsed by run.sh:
--   MEM function calls seconds bytes_before bytes_at_1% bytes_at_end_in_xact bytes_after peak_in_xact
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- the fixture, through the API: 12 agents, 3 cases, experience, a participant
SELECT swarm.add_agent('m' || i, 'Mem ' || i,
                       (ARRAY['postgres:5, linux:3, networking:2', 'postgres:3, kubernetes:4', 'linux:5, networking:4',
                              'postgres:4, linux:4, kubernetes:2, billing:1'])[1 + i % 4]::swarm.skillset,
                       (ARRAY['emea', 'amer', 'apac'])[1 + i % 3], capacity => 6)
  FROM generate_series(1, 12) AS i \g /dev/null
SELECT swarm.open_case('MEM-1', 'memory fixture', 'P2', 'postgres:4, linux:2', 'acme', 'emea'),
       swarm.open_case('MEM-2', 'memory fixture', 'P3', 'networking:3', 'acme', 'amer'),
       swarm.open_case('MEM-3', 'memory fixture', 'P1', 'postgres:2, kubernetes:3', 'globex', NULL) \g /dev/null
SELECT swarm.assign_case(2, 3) \g /dev/null
INSERT INTO swarm.agent_experience (agent_id, skill, credit, updated_at)
SELECT agent_id, s.name, 1 + agent_id % 5, now() - (agent_id || ' days')::interval
  FROM swarm.agents, swarm.skills(skills) AS s;

CREATE TEMP TABLE mem_samples (fn text, calls bigint, bytes bigint, at timestamptz DEFAULT clock_timestamp());
-- a first row, so that the temporary table's local buffers (about 150 kB of
-- backend memory) exist before the first sample
INSERT INTO mem_samples VALUES ('setup', 0, 0);
DELETE FROM mem_samples;

-- all but PostgreSQL's "WAL record construction" context, which grows once
-- (to about 150 kB, then no more) the first time the backend writes a WAL
-- record with many parts, e.g. when it prunes a heap page; under churn that
-- happens at a call of its own choosing, which is not a per-call growth
CREATE FUNCTION pg_temp.backend_bytes() RETURNS bigint
LANGUAGE sql AS $$ SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts
                    WHERE name <> 'WAL record construction' $$;

-- routing_score -------------------------------------------------------------------
-- warm-up (1% of the calls, in its own transaction) so that "before" already
-- holds the session's one-time caches: saved plans, catalog caches
SET swarm_bench.calls = :score_calls;
DO $$
DECLARE
    s double precision;
BEGIN
    FOR i IN 1 .. current_setting('swarm_bench.calls')::bigint / 100 LOOP
        s := swarm.routing_score(1 + i % 12, 1 + i % 3);
    END LOOP;
END
$$;
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'routing_score', -1, pg_temp.backend_bytes();
DO $$
DECLARE
    n bigint := current_setting('swarm_bench.calls')::bigint;
    i bigint;
    s double precision;
BEGIN
    FOR i IN 1 .. n LOOP
        s := swarm.routing_score(1 + i % 12, 1 + i % 3);
        IF i IN (n / 100, n / 4, n / 2, 3 * n / 4, n) THEN
            INSERT INTO mem_samples (fn, calls, bytes) VALUES ('routing_score', i, pg_temp.backend_bytes());
        END IF;
    END LOOP;
END
$$;
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'routing_score', -2, pg_temp.backend_bytes();

-- route_case --------------------------------------------------------------------
SET swarm_bench.calls = :route_calls;
DO $$
DECLARE
    a bigint;
BEGIN
    FOR i IN 1 .. current_setting('swarm_bench.calls')::bigint / 100 LOOP
        SELECT x.agent_id INTO a FROM swarm.route_case(1 + i % 3, 5) AS x LIMIT 1;
    END LOOP;
END
$$;
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'route_case', -1, pg_temp.backend_bytes();
DO $$
DECLARE
    n bigint := current_setting('swarm_bench.calls')::bigint;
    i bigint;
    a bigint;
BEGIN
    FOR i IN 1 .. n LOOP
        SELECT x.agent_id INTO a FROM swarm.route_case(1 + i % 3, 5) AS x LIMIT 1;
        IF i IN (n / 100, n / 4, n / 2, 3 * n / 4, n) THEN
            INSERT INTO mem_samples (fn, calls, bytes) VALUES ('route_case', i, pg_temp.backend_bytes());
        END IF;
    END LOOP;
END
$$;
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'route_case', -2, pg_temp.backend_bytes();

-- The routing cache under churn: before each call one agent's skills and
-- presence change and commit, so every call re-reads an agent (its skills
-- reallocated, its skill index entries moved).  A tenth of the calls, each
-- in its own transaction, in batches of a hundredth: memory is sampled
-- between the batches, because a procedure that commits in a loop grows its
-- own SPI context until it returns (PL/pgSQL's, not swarm's).
SET swarm_bench.calls = :route_calls;
CREATE PROCEDURE pg_temp.churn(first bigint, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    i bigint;
    a bigint;
BEGIN
    FOR i IN first .. first + n - 1 LOOP
        UPDATE swarm.agents
           SET skills = (ARRAY['postgres:5, linux:3', 'postgres:3, linux:4, kubernetes:2'])[1 + (i / 12) % 2]::swarm.skillset,
               presence = (ARRAY['online', 'away'])[1 + i % 2]::swarm.presence
         WHERE agent_id = 1 + i % 12;
        COMMIT;
        SELECT x.agent_id INTO a FROM swarm.route_case(1 + i % 3, 5) AS x LIMIT 1;
    END LOOP;
END
$$;
SELECT format('CALL pg_temp.churn(%s, %s)', 1, current_setting('swarm_bench.calls')::bigint / 1000) \gexec
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'route_case_churn', -1, pg_temp.backend_bytes();
SELECT stmt
  FROM (SELECT current_setting('swarm_bench.calls')::bigint / 1000 AS batch) AS b,
       generate_series(1, 100) AS k,
       LATERAL (VALUES (1, format('CALL pg_temp.churn(%s, %s)', k * b.batch, b.batch)),
                       (2, CASE WHEN k IN (1, 25, 50, 75, 100)
                                THEN format('INSERT INTO mem_samples (fn, calls, bytes) SELECT %L, %s, pg_temp.backend_bytes()',
                                            'route_case_churn', k * b.batch) END)) AS s(ord, stmt)
 WHERE stmt IS NOT NULL
 ORDER BY k, ord \gexec
INSERT INTO mem_samples (fn, calls, bytes) SELECT 'route_case_churn', -2, pg_temp.backend_bytes();
SELECT loads >= 1 AND calls > 0 AND rows_read > 0 AS "cache used under churn" FROM swarm.routing_cache_state();

\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
SELECT 'MEMSAMPLE', fn, calls, bytes FROM mem_samples ORDER BY fn DESC, at;
SELECT 'MEM', s.fn, n.n,
       round(extract(epoch FROM max(s.at) FILTER (WHERE s.calls = -2) - min(s.at) FILTER (WHERE s.calls = -1))::numeric, 1),
       max(s.bytes) FILTER (WHERE s.calls = -1),
       max(s.bytes) FILTER (WHERE s.calls = n.n / 100),
       max(s.bytes) FILTER (WHERE s.calls = n.n),
       max(s.bytes) FILTER (WHERE s.calls = -2),
       max(s.bytes) FILTER (WHERE s.calls > 0)
  FROM mem_samples AS s JOIN (SELECT fn, max(calls) AS n FROM mem_samples GROUP BY fn) AS n USING (fn)
 GROUP BY s.fn, n.n ORDER BY s.fn DESC;

-- bench/routing/latency.sql: latency of swarm.route_case / swarm.suggest_helpers
-- against the plain-SQL reference (ref.route_case / ref.suggest_helpers) on
-- the same random sample, and whether they agree.
--
-- Each call is timed on its own with clock_timestamp() in a PL/pgSQL loop
-- (the time includes running the query over the function's five rows into
-- two arrays, the same for both sides).  Swarm and the reference alternate
-- which goes first.  The whole loop is one transaction, so now() (which both
-- sides use to decay experience credits) is the same for every call.
-- psql variables: n (sample size), warm (untimed calls per side first).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS bench.lat (
    kind        text NOT NULL,          -- route_case or suggest_helpers
    n           integer NOT NULL,       -- position in the sample
    id          bigint NOT NULL,        -- case_id or request_id
    swarm_us    double precision NOT NULL,
    ref_us      double precision NOT NULL,
    swarm_ids   bigint[],
    ref_ids     bigint[],
    swarm_scores double precision[],
    ref_scores  double precision[],
    swarm_reasons jsonb[],
    ref_reasons jsonb[]
);
TRUNCATE bench.lat;

-- the samples: random cases (any of the 50,000) and random requests to route
SELECT setseed(0.1717);
DROP TABLE IF EXISTS bench.sample;
CREATE TABLE bench.sample AS
SELECT 'route_case' AS kind, row_number() OVER (ORDER BY r) AS n, case_id AS id
  FROM (SELECT case_id, random() AS r FROM swarm.cases ORDER BY r LIMIT :n) AS c
UNION ALL
SELECT 'suggest_helpers', row_number() OVER (ORDER BY r), request_id
  FROM (SELECT request_id, random() AS r FROM swarm.collab_requests
         WHERE note = 'route me' AND state IN ('open', 'offered') ORDER BY r LIMIT :n) AS q;

CREATE OR REPLACE PROCEDURE bench.time_routing(p_kind text, p_warm integer)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    t0 timestamptz;
    t1 timestamptz;
    t2 timestamptz;
    sw_us double precision;
    rf_us double precision;
    s_ids bigint[];
    r_ids bigint[];
    s_sc double precision[];
    r_sc double precision[];
    s_rs jsonb[];
    r_rs jsonb[];
    warm integer := p_warm;
BEGIN
    FOR s IN SELECT * FROM bench.sample WHERE kind = p_kind ORDER BY n LOOP
        IF s.n % 2 = 0 THEN
            t0 := clock_timestamp();
            IF p_kind = 'route_case' THEN
                SELECT array_agg(x.agent_id ORDER BY x.ord), array_agg(x.score ORDER BY x.ord),
                       array_agg(x.reasons ORDER BY x.ord)
                  INTO s_ids, s_sc, s_rs FROM swarm.route_case(s.id, 5) WITH ORDINALITY AS x(agent_id, score, reasons, ord);
            ELSE
                SELECT array_agg(x.agent_id ORDER BY x.ord), array_agg(x.score ORDER BY x.ord),
                       array_agg(x.reasons ORDER BY x.ord)
                  INTO s_ids, s_sc, s_rs FROM swarm.suggest_helpers(s.id, 5) WITH ORDINALITY AS x(agent_id, score, reasons, ord);
            END IF;
            t1 := clock_timestamp();
            IF p_kind = 'route_case' THEN
                SELECT array_agg(x.agent_id ORDER BY x.pos), array_agg(x.score ORDER BY x.pos),
                       array_agg(x.reasons ORDER BY x.pos)
                  INTO r_ids, r_sc, r_rs FROM ref.route_case(s.id, 5) AS x;
            ELSE
                SELECT array_agg(x.agent_id ORDER BY x.pos), array_agg(x.score ORDER BY x.pos),
                       array_agg(x.reasons ORDER BY x.pos)
                  INTO r_ids, r_sc, r_rs FROM ref.suggest_helpers(s.id, 5) AS x;
            END IF;
            t2 := clock_timestamp();
            sw_us := extract(epoch FROM t1 - t0) * 1e6;
            rf_us := extract(epoch FROM t2 - t1) * 1e6;
        ELSE
            t0 := clock_timestamp();
            IF p_kind = 'route_case' THEN
                SELECT array_agg(x.agent_id ORDER BY x.pos), array_agg(x.score ORDER BY x.pos),
                       array_agg(x.reasons ORDER BY x.pos)
                  INTO r_ids, r_sc, r_rs FROM ref.route_case(s.id, 5) AS x;
            ELSE
                SELECT array_agg(x.agent_id ORDER BY x.pos), array_agg(x.score ORDER BY x.pos),
                       array_agg(x.reasons ORDER BY x.pos)
                  INTO r_ids, r_sc, r_rs FROM ref.suggest_helpers(s.id, 5) AS x;
            END IF;
            t1 := clock_timestamp();
            IF p_kind = 'route_case' THEN
                SELECT array_agg(x.agent_id ORDER BY x.ord), array_agg(x.score ORDER BY x.ord),
                       array_agg(x.reasons ORDER BY x.ord)
                  INTO s_ids, s_sc, s_rs FROM swarm.route_case(s.id, 5) WITH ORDINALITY AS x(agent_id, score, reasons, ord);
            ELSE
                SELECT array_agg(x.agent_id ORDER BY x.ord), array_agg(x.score ORDER BY x.ord),
                       array_agg(x.reasons ORDER BY x.ord)
                  INTO s_ids, s_sc, s_rs FROM swarm.suggest_helpers(s.id, 5) WITH ORDINALITY AS x(agent_id, score, reasons, ord);
            END IF;
            t2 := clock_timestamp();
            rf_us := extract(epoch FROM t1 - t0) * 1e6;
            sw_us := extract(epoch FROM t2 - t1) * 1e6;
        END IF;
        -- the first p_warm samples warm the caches and plans: run, not recorded
        IF warm > 0 THEN
            warm := warm - 1;
        ELSE
            INSERT INTO bench.lat VALUES (p_kind, s.n, s.id, sw_us, rf_us, s_ids, r_ids, s_sc, r_sc, s_rs, r_rs);
        END IF;
    END LOOP;
END
$$;

-- warm-up: the first :warm samples twice (untimed), then every sample timed
CREATE TEMP TABLE warm_sample AS SELECT * FROM bench.sample;
DELETE FROM bench.sample WHERE n > :warm;
CALL bench.time_routing('route_case', :warm);
CALL bench.time_routing('suggest_helpers', :warm);
TRUNCATE bench.sample;
INSERT INTO bench.sample SELECT * FROM warm_sample;
BEGIN;
CALL bench.time_routing('route_case', 0);
CALL bench.time_routing('suggest_helpers', 0);
COMMIT;

-- The floor under route_case: the candidate query alone (the one src/routing.c
-- runs: agents sharing a needed skill, through the GIN index, that are
-- eligible), counted rather than scored.  No implementation that scans the
-- candidates on every call can be faster than this.
CREATE TABLE IF NOT EXISTS bench.floor (id bigint NOT NULL, us double precision NOT NULL);
TRUNCATE bench.floor;
DO $$
DECLARE
    s record;
    t0 timestamptz;
    cnt bigint;
    needed text;
    i integer;
BEGIN
    FOR i IN 1 .. 2 LOOP                    -- the first pass warms up
        FOR s IN SELECT id FROM bench.sample WHERE kind = 'route_case' ORDER BY n LOOP
            SELECT c.needed::text INTO needed FROM swarm.cases AS c WHERE c.case_id = s.id;
            t0 := clock_timestamp();
            SELECT count(*) INTO cnt FROM swarm.agents AS a
             WHERE a.skills OPERATOR(swarm.&&) needed::swarm.skillset
               AND a.active AND a.presence <> 'offline' AND a.open_cases < a.capacity;
            IF i = 2 THEN
                INSERT INTO bench.floor VALUES (s.id, extract(epoch FROM clock_timestamp() - t0) * 1e6);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- CPU time per call.  The machine may be shared (other sessions, other
-- clusters); wall-clock latencies then carry their waits.  This pass runs
-- each side alone over the whole sample and reads the backend's own CPU time
-- (utime + stime of /proc/self/stat, in clock ticks of 10 ms) around it.
CREATE OR REPLACE FUNCTION bench.cpu_ms() RETURNS double precision
LANGUAGE sql VOLATILE AS $f$
    SELECT (f[12]::bigint + f[13]::bigint) * 10.0
      FROM (SELECT string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') AS f) AS x
$f$;
CREATE TABLE IF NOT EXISTS bench.cpu (kind text, side text, calls bigint, cpu_ms double precision, wall_ms double precision);
TRUNCATE bench.cpu;
CREATE OR REPLACE PROCEDURE bench.cpu_pass(p_kind text, p_side text)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    c0 double precision := bench.cpu_ms();
    t0 timestamptz := clock_timestamp();
    calls bigint := 0;
    cnt bigint;
BEGIN
    FOR s IN SELECT x.id FROM bench.sample AS x WHERE x.kind = p_kind ORDER BY x.n LOOP
        IF p_kind = 'route_case' AND p_side = 'swarm' THEN
            SELECT count(*) INTO cnt FROM swarm.route_case(s.id, 5);
        ELSIF p_kind = 'route_case' THEN
            SELECT count(*) INTO cnt FROM ref.route_case(s.id, 5);
        ELSIF p_side = 'swarm' THEN
            SELECT count(*) INTO cnt FROM swarm.suggest_helpers(s.id, 5);
        ELSE
            SELECT count(*) INTO cnt FROM ref.suggest_helpers(s.id, 5);
        END IF;
        calls := calls + 1;
    END LOOP;
    INSERT INTO bench.cpu VALUES (p_kind, p_side, calls, bench.cpu_ms() - c0,
                                  extract(epoch FROM clock_timestamp() - t0) * 1000);
END
$$;
CALL bench.cpu_pass('route_case', 'swarm');
CALL bench.cpu_pass('route_case', 'ref');
CALL bench.cpu_pass('suggest_helpers', 'swarm');
CALL bench.cpu_pass('suggest_helpers', 'ref');

-- The routing cache's own costs (src/agent_cache.c), swarm alone:
--  * tables: route_case / suggest_helpers with swarm.routing_cache = off, which
--    read the candidates from the tables on every call (the pre-cache path);
--  * churn: before each call one random agent's row is updated and committed,
--    so every call first re-reads one changed agent (a busy helpdesk: an
--    assignment or a presence change between two routing calls);
--  * reload: the first call after a change to swarm.agents' definition, which
--    reloads every agent, their experience and the groups.
-- Wall time of the routing call only, per call.
CREATE TABLE IF NOT EXISTS bench.cache_cost (kind text, side text, us double precision);
TRUNCATE bench.cache_cost;
CREATE OR REPLACE PROCEDURE bench.cache_pass(p_kind text, p_side text)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    t0 timestamptz;
    us double precision;
    cnt bigint;
    i integer := 0;
BEGIN
    FOR s IN SELECT x.id FROM bench.sample AS x WHERE x.kind = p_kind ORDER BY x.n LOOP
        i := i + 1;
        IF p_side = 'churn' THEN
            UPDATE swarm.agents SET presence = presence
             WHERE agent_id = 1 + (i * 7919) % 9800;
            COMMIT;
        ELSIF p_side = 'reload' THEN
            EXIT WHEN i > 20;
            ALTER TABLE swarm.agents ALTER COLUMN region SET STATISTICS -1;
            COMMIT;
        END IF;
        PERFORM set_config('swarm.routing_cache', CASE WHEN p_side = 'tables' THEN 'off' ELSE 'on' END, false);
        t0 := clock_timestamp();
        IF p_kind = 'route_case' THEN
            SELECT count(*) INTO cnt FROM swarm.route_case(s.id, 5);
        ELSE
            SELECT count(*) INTO cnt FROM swarm.suggest_helpers(s.id, 5);
        END IF;
        us := extract(epoch FROM clock_timestamp() - t0) * 1e6;
        INSERT INTO bench.cache_cost VALUES (p_kind, p_side, us);
    END LOOP;
    PERFORM set_config('swarm.routing_cache', 'on', false);
END
$$;
CALL bench.cache_pass('route_case', 'tables');
CALL bench.cache_pass('suggest_helpers', 'tables');
CALL bench.cache_pass('route_case', 'churn');
CALL bench.cache_pass('suggest_helpers', 'churn');
CALL bench.cache_pass('route_case', 'reload');

-- bench/metrics/helpers.sql: timing and comparison helpers of the metrics
-- benchmark (bench/metrics/run.sh).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- This backend's CPU time so far (user + system), in milliseconds, from
-- /proc/self/stat (clock ticks of 1/100 s): unlike the wall clock it does
-- not grow while other work on the machine holds the CPU (parallel
-- workers' CPU is not in it).
CREATE FUNCTION bench.cpu_ms() RETURNS double precision
LANGUAGE sql VOLATILE AS $$
    SELECT (split_part(f, ' ', 12)::bigint + split_part(f, ' ', 13)::bigint) * 10.0   -- fields 14 and 15
      FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS f) AS s;
$$;

-- bench.timed(query, runs, as_role): runs the query `runs` times in this
-- session, as as_role when given (SET ROLE around each run, so that the
-- CPU time is read as the session's superuser), fetching every row (a FOR
-- loop over EXECUTE: no output, no wrapping count(*) that would let the
-- planner drop columns); returns the milliseconds of each run and the mean
-- CPU milliseconds of a run.
CREATE FUNCTION bench.timed(q text, runs integer, as_role text DEFAULT NULL,
                            OUT ms double precision[], OUT cpu_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    c0 double precision;
    r record;
BEGIN
    ms := '{}';
    c0 := bench.cpu_ms();
    FOR i IN 1 .. runs LOOP
        IF as_role IS NOT NULL THEN
            EXECUTE format('SET LOCAL ROLE %I', as_role);
        END IF;
        t0 := clock_timestamp();
        FOR r IN EXECUTE q LOOP
        END LOOP;
        ms := ms || 1000 * extract(epoch FROM clock_timestamp() - t0)::double precision;
        RESET ROLE;
    END LOOP;
    cpu_ms := (bench.cpu_ms() - c0) / runs;
END
$$;

CREATE FUNCTION bench.median(v double precision[]) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(v) AS x
$$;

-- bench.normalised(table): a SELECT of the table's rows with double
-- precision columns rounded to 12 decimals (the rates are quotients of the
-- same counts on both sides; rounding only guards against the last bit).
CREATE FUNCTION bench.normalised(t regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'SELECT ' || string_agg(CASE WHEN a.atttypid = 'double precision'::regtype
                                        THEN format('round(%I::numeric, 12) AS %I', a.attname, a.attname)
                                        ELSE quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
           || ' FROM ' || t::text
      FROM pg_attribute AS a WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- bench.differences(a, b): rows in one table and not in the other (with
-- duplicates), after normalising; 0 when the two results are the same.
CREATE FUNCTION bench.differences(a regclass, b regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) AS d',
                   bench.normalised(a), bench.normalised(b), bench.normalised(b), bench.normalised(a)) INTO n;
    RETURN n;
END
$$;

-- the metrics indexes, to drop (inside a transaction that is rolled back)
-- while the reference is timed
CREATE FUNCTION bench.metrics_indexes() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY c.relname)
      FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname = 'swarm' AND c.relkind = 'i'
       AND c.relname IN ('cases_opened_at_idx', 'cases_resolved_at_idx', 'cases_first_response_due_idx',
                         'cases_resolution_due_idx', 'collab_requests_created_at_idx',
                         'collab_requests_accepted_at_idx', 'collab_requests_accept_due_idx',
                         'collab_requests_resolution_due_idx', 'events_ownership_idx')
$$;

-- bench.lifecycles(n): n full lifecycles through the API (open, assign,
-- request help, accept, resolve the request, resolve the case) on the
-- seeded agents and a global group; mean wall and CPU milliseconds of one.
CREATE FUNCTION bench.lifecycles(n integer, OUT ms double precision, OUT cpu_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    c0 double precision := bench.cpu_ms();
    c bigint;
    r bigint;
BEGIN
    FOR i IN 1 .. n LOOP
        c := swarm.open_case('W-' || nextval('bench.lifecycle_refs'), 'write cost', 'P3', 's1:3');
        PERFORM swarm.assign_case(c, 1 + i % 1000);
        r := swarm.request_help(c, 'global-31');
        PERFORM swarm.accept_request(r, 1001 + i % 1000);
        PERFORM swarm.resolve_request(r, 'ok');
        PERFORM swarm.resolve_case(c, 'KB');
    END LOOP;
    ms := 1000 * extract(epoch FROM clock_timestamp() - t0) / n;
    cpu_ms := (bench.cpu_ms() - c0) / n;
END
$$;
CREATE SEQUENCE bench.lifecycle_refs;

-- the metrics triggers, dropped with the indexes for the write-cost comparison
CREATE FUNCTION bench.drop_metrics_parts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'DROP INDEX ' || bench.metrics_indexes();
    DROP TRIGGER cases_resolved_with_help ON swarm.cases;
    DROP TRIGGER cases_resolved_with_help_insert ON swarm.cases;
    DROP TRIGGER collab_requests_requested ON swarm.collab_requests;
    DROP TRIGGER collab_requests_help_inserted ON swarm.collab_requests;
    DROP TRIGGER collab_requests_help_changed ON swarm.collab_requests;
    DROP TRIGGER collab_requests_help_deleted ON swarm.collab_requests;
END
$$;

-- bench/sla/helpers.sql: timing helpers for bench/sla/run.sh.

-- This backend's CPU time so far (user + system), in seconds, from
-- /proc/self/stat (clock ticks of 1/100 s): unlike the wall clock it does
-- not grow while other work on the machine holds the CPU.
CREATE FUNCTION bench_ref.cpu_seconds()
RETURNS double precision
LANGUAGE sql VOLATILE
AS $$
    SELECT (split_part(f, ' ', 12)::bigint + split_part(f, ' ', 13)::bigint) / 100.0  -- fields 14 and 15
      FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS f) AS s;
$$;

-- Run a "SELECT count(*) ..." and return how long it took, in seconds of
-- wall-clock time and of this backend's CPU time, and its count.
CREATE FUNCTION bench_ref.timed(query text, OUT seconds double precision, OUT n bigint, OUT cpu double precision)
LANGUAGE plpgsql
AS $$
DECLARE
    t0 timestamptz;
    c0 double precision;
BEGIN
    c0 := bench_ref.cpu_seconds();
    t0 := clock_timestamp();
    EXECUTE query INTO n;
    seconds := extract(epoch FROM clock_timestamp() - t0);
    cpu := bench_ref.cpu_seconds() - c0;
END
$$;

-- Per-call cost against the length of the work: business_time over spans of
-- 1, 7, 30 and 365 days, business_add of 1 working hour and of 1, 4 and 20
-- working weeks (37.5 h a week), from the starts in bench_ref.sample: all
-- of its rows for swarm, the first ref_calls for the reference.  Times are
-- net of the bare scan (measured the same way), so short calls are not
-- drowned by it.  "days" is the number of local days the loop visits.
CREATE FUNCTION bench_ref.scaling(ref_calls integer)
RETURNS TABLE (fn text, work text, days numeric, c_us_per_call numeric, ref_us_per_call numeric, ratio numeric,
               c_ns_per_day numeric, ref_ns_per_day numeric)
LANGUAGE plpgsql
AS $$
DECLARE
    c_calls bigint := (SELECT count(*) FROM bench_ref.sample);
    span interval;
    c double precision;
    r double precision;
    c_base double precision;
    r_base double precision;
    q text;
BEGIN
    -- the bare scans, best of 3
    SELECT min((bench_ref.timed('SELECT count(*) FROM bench_ref.sample WHERE start IS NOT NULL')).seconds)
      INTO c_base FROM generate_series(1, 3);
    SELECT min((bench_ref.timed(format('SELECT count(*) FROM bench_ref.sample WHERE id <= %s AND start IS NOT NULL',
                                       ref_calls))).seconds)
      INTO r_base FROM generate_series(1, 3);
    FOR i IN 1 .. 8 LOOP
        span := (ARRAY[interval '1 day', '7 days', '30 days', '365 days',
                       '1 hour', '37:30:00', '150:00:00', '750:00:00'])[i];
        IF i <= 4 THEN
            fn := 'business_time';
            work := span::text || ' span';
            q := format('%%s(start, start + %L::interval, ''bench-berlin'')', span);
            days := extract(day FROM span) + 1;
        ELSE
            fn := 'business_add';
            work := CASE span WHEN interval '1 hour' THEN '1 working hour'
                              ELSE (extract(epoch FROM span) / 3600 / 37.5)::int || ' working week(s)' END;
            q := format('%%s(start, %L::interval, ''bench-berlin'')', span);
            SELECT round(avg((swarm.business_add(start, span, 'bench-berlin') AT TIME ZONE 'Europe/Berlin')::date
                             - (start AT TIME ZONE 'Europe/Berlin')::date + 1), 1)
              INTO days FROM bench_ref.sample;
        END IF;
        SELECT min((bench_ref.timed(format('SELECT count(*) FROM bench_ref.sample WHERE %s IS NOT NULL',
                                           format(q, 'swarm.' || fn)))).seconds)
          INTO c FROM generate_series(1, 3);
        r := (bench_ref.timed(format('SELECT count(*) FROM bench_ref.sample WHERE id <= %s AND %s IS NOT NULL',
                                     ref_calls, format(q, 'bench_ref.' || fn)))).seconds;
        c := greatest(c - c_base, 1e-6);
        r := greatest(r - r_base, 1e-6);
        c_us_per_call := round((c * 1e6 / c_calls)::numeric, 3);
        ref_us_per_call := round((r * 1e6 / ref_calls)::numeric, 2);
        ratio := round(((r / ref_calls) / (c / c_calls))::numeric, 1);
        c_ns_per_day := round(c_us_per_call * 1000 / days);
        ref_ns_per_day := round(ref_us_per_call * 1000 / days);
        RETURN NEXT;
    END LOOP;
END
$$;

-- Time sla_due(now(), max) runs times, each call planned afresh as in an
-- application (a LANGUAGE sql function plans its query on every call).
CREATE FUNCTION bench_ref.time_sla_due(runs integer, max integer)
RETURNS TABLE (run integer, ms numeric, rows_returned bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR i IN 1 .. runs LOOP
        t0 := clock_timestamp();
        SELECT count(*) INTO rows_returned FROM swarm.sla_due(now(), max);
        ms := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
        run := i;
        RETURN NEXT;
    END LOOP;
END
$$;

-- bench/sla/due_explain.sql: the plan of swarm.sla_due's body (sql/parts/50_sla.sql),
-- run directly so that EXPLAIN (ANALYZE, BUFFERS) can show it.
--
-- swarm.sla_due is PL/pgSQL: its RETURN QUERY statement goes through the plan
-- cache with "before" and "max" as parameters, so the first calls of a
-- session get custom plans (values known) and later ones may get the generic
-- plan.  Both are shown, from a prepared statement of the same query.
SELECT format('function: LANGUAGE %s %s, proconfig %s', l.lanname,
              CASE p.provolatile WHEN 's' THEN 'STABLE' WHEN 'i' THEN 'IMMUTABLE' ELSE 'VOLATILE' END, p.proconfig) AS sla_due
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.oid = 'swarm.sla_due(timestamptz, integer)'::regprocedure;

-- The installed body, with its parameters as $1 and $2 (so that the plan is
-- that of the code under test, whatever sql/parts/50_sla.sql says today).
SELECT format('PREPARE sla_due_body(timestamptz, integer) AS %s',
              regexp_replace(regexp_replace(substring(prosrc FROM 'RETURN QUERY(.*);\s*END'),
                                            '\mbefore\M', '$1', 'g'), '\msla_due\.max\M', '$2', 'g'))
  FROM pg_proc WHERE oid = 'swarm.sla_due(timestamptz, integer)'::regprocedure
\gexec

\echo '-- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE sla_due_body(now(), 1000);
\echo '-- custom plan (the values known to the planner)'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE sla_due_body(now(), 1000);
RESET plan_cache_mode;

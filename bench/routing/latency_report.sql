-- bench/routing/latency_report.sql: medians, p90, p99, ratio and agreement
-- from bench.lat (filled by latency.sql).  Output lines are parsed by run.sh:
--   LAT kind n swarm_p50 swarm_p90 swarm_p99 ref_p50 ref_p90 ref_p99 ratio_p50 ids_agree scores_agree reasons_agree
-- (times in ms), then one DIFF line per disagreeing sample.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '

SELECT 'LAT', kind, count(*),
       round(percentile_disc(0.50) WITHIN GROUP (ORDER BY swarm_us)::numeric / 1000, 3),
       round(percentile_disc(0.90) WITHIN GROUP (ORDER BY swarm_us)::numeric / 1000, 3),
       round(percentile_disc(0.99) WITHIN GROUP (ORDER BY swarm_us)::numeric / 1000, 3),
       round(percentile_disc(0.50) WITHIN GROUP (ORDER BY ref_us)::numeric / 1000, 3),
       round(percentile_disc(0.90) WITHIN GROUP (ORDER BY ref_us)::numeric / 1000, 3),
       round(percentile_disc(0.99) WITHIN GROUP (ORDER BY ref_us)::numeric / 1000, 3),
       round((percentile_disc(0.50) WITHIN GROUP (ORDER BY ref_us)
              / percentile_disc(0.50) WITHIN GROUP (ORDER BY swarm_us))::numeric, 2),
       count(*) FILTER (WHERE swarm_ids IS NOT DISTINCT FROM ref_ids),
       count(*) FILTER (WHERE swarm_ids IS NOT DISTINCT FROM ref_ids AND swarm_scores IS NOT DISTINCT FROM ref_scores),
       count(*) FILTER (WHERE swarm_ids IS NOT DISTINCT FROM ref_ids AND swarm_scores IS NOT DISTINCT FROM ref_scores
                          AND swarm_reasons IS NOT DISTINCT FROM ref_reasons)
  FROM bench.lat GROUP BY kind ORDER BY kind DESC;

-- CPU time per call (ms), each side run alone over the sample: CPU kind calls swarm ref ratio swarm_wall ref_wall
SELECT 'CPU', s.kind, s.calls, round((s.cpu_ms / s.calls)::numeric, 3), round((r.cpu_ms / r.calls)::numeric, 3),
       round((r.cpu_ms / nullif(s.cpu_ms, 0))::numeric, 2),
       round((s.wall_ms / s.calls)::numeric, 3), round((r.wall_ms / r.calls)::numeric, 3)
  FROM bench.cpu AS s JOIN bench.cpu AS r ON r.kind = s.kind AND r.side = 'ref'
 WHERE s.side = 'swarm' ORDER BY s.kind DESC;

-- the floor: swarm's candidate query alone (latency.sql)
SELECT 'FLOOR', 'route_case', count(*),
       round(percentile_disc(0.50) WITHIN GROUP (ORDER BY us)::numeric / 1000, 3),
       round(percentile_disc(0.90) WITHIN GROUP (ORDER BY us)::numeric / 1000, 3)
  FROM bench.floor;

-- how many candidates each side ranked, for the record
SELECT 'CANDS', 'route_case', round(avg(n)), min(n), max(n)
  FROM (SELECT (SELECT count(*) FROM swarm.route_case(l.id, 2147483647)) AS n FROM bench.lat AS l
         WHERE l.kind = 'route_case' AND l.n % 10 = 0) AS x;
SELECT 'CANDS', 'suggest_helpers', round(avg(n)), min(n), max(n)
  FROM (SELECT (SELECT count(*) FROM swarm.suggest_helpers(l.id, 2147483647)) AS n FROM bench.lat AS l
         WHERE l.kind = 'suggest_helpers' AND l.n % 10 = 0) AS x;

-- every disagreement, with both sides' top 5 and the largest score difference
SELECT 'DIFF', kind, id, 'swarm=' || array_to_string(swarm_ids, ','), 'ref=' || array_to_string(ref_ids, ','),
       'swarm_scores=' || array_to_string(swarm_scores, ','), 'ref_scores=' || array_to_string(ref_scores, ',')
  FROM bench.lat
 WHERE swarm_ids IS DISTINCT FROM ref_ids OR swarm_scores IS DISTINCT FROM ref_scores
 ORDER BY kind, n;

-- same agents and scores but different components: which component, by how much
SELECT 'REASONDIFF', l.kind, l.id, 'pos=' || p.pos, 'agent=' || l.swarm_ids[p.pos], k.key,
       'swarm=' || (l.swarm_reasons[p.pos] ->> k.key), 'ref=' || (l.ref_reasons[p.pos] ->> k.key),
       'diff=' || ((l.swarm_reasons[p.pos] ->> k.key)::float8 - (l.ref_reasons[p.pos] ->> k.key)::float8)
  FROM bench.lat AS l
 CROSS JOIN generate_series(1, coalesce(array_length(l.swarm_ids, 1), 0)) AS p(pos)
 CROSS JOIN LATERAL jsonb_object_keys(l.swarm_reasons[p.pos]) AS k(key)
 WHERE l.swarm_ids IS NOT DISTINCT FROM l.ref_ids AND l.swarm_scores IS NOT DISTINCT FROM l.ref_scores
   AND l.swarm_reasons IS DISTINCT FROM l.ref_reasons
   AND (l.swarm_reasons[p.pos] -> k.key) IS DISTINCT FROM (l.ref_reasons[p.pos] -> k.key)
 ORDER BY l.kind, l.n, p.pos, k.key;

-- the routing cache's costs (latency.sql): CACHE kind side calls p50 p90 (ms)
SELECT 'CACHE', kind, side, count(*),
       round(percentile_disc(0.50) WITHIN GROUP (ORDER BY us)::numeric / 1000, 3),
       round(percentile_disc(0.90) WITHIN GROUP (ORDER BY us)::numeric / 1000, 3)
  FROM bench.cache_cost GROUP BY kind, side ORDER BY kind DESC, side;

-- demo/metrics.sql: what analysts see after the simulated day.
-- Run by `make demo` (scripts/demo.sh) in the database of the day, with
-- psql -v speed=<the simulation's speed>.  It reads the swarm.metrics_*
-- views (docs/metrics.md) and prints them compactly: the days with activity,
-- durations converted back to simulated minutes (the day ran :speed times
-- faster than a real one), the top contributors.
\set ON_ERROR_STOP 1
\pset footer off
\pset null '-'
SET search_path = public, swarm;

\echo '   swarm.metrics_daily (the days with activity; a well-routed team swarms on 10-15 % of its cases)'
SELECT day, cases_opened AS opened, cases_resolved AS resolved,
       cases_with_collaboration AS "with help",
       round(100 * collaboration_rate::numeric, 1) AS "help %",
       round((extract(epoch FROM median_time_to_resolve) * :speed / 60)::numeric) AS "median min to resolve",
       round((extract(epoch FROM p90_time_to_resolve) * :speed / 60)::numeric) AS "p90 min",
       handoffs, escalations,
       round(100 * sla_attainment::numeric, 1) AS "SLA %"
  FROM swarm.metrics_daily
 WHERE cases_opened > 0 OR cases_resolved > 0 OR escalations > 0
 ORDER BY day;

\echo '   swarm.metrics_requests: per group and priority; time to accept in simulated minutes'
SELECT coalesce(group_name, '(by skills)') AS "group", priority, requests, accepted,
       round((extract(epoch FROM median_time_to_accept) * :speed / 60)::numeric, 1) AS "median min to accept",
       round(100 * accept_sla_met_rate::numeric) AS "accept SLA %",
       round(100 * escalation_rate::numeric) AS "escalated %",
       pushed, pulled
  FROM swarm.metrics_requests
 ORDER BY requests DESC, "group", priority;

\echo '   swarm.metrics_agents: the top contributors (the score credits helping others, not only closing)'
SELECT name, cases_owned AS owned, cases_resolved AS resolved, resolved_without_help AS "solo",
       helps_given AS helps, cases_swarmed AS swarmed, kb_articles AS kb, contribution_score AS score
  FROM swarm.metrics_agents
 ORDER BY contribution_score DESC, name
 LIMIT 8;

\echo '   swarm.metrics_sla: per target and priority'
SELECT target, priority, met, met_late AS "met late", breached,
       round(100 * attainment::numeric, 1) AS "attainment %"
  FROM swarm.metrics_sla
 ORDER BY target, priority;

\echo '   swarm.metrics_regions: requests served in the requester''s region or across regions'
SELECT group_scope AS scope, requests_served AS served, same_region AS "same region",
       cross_region AS "across regions", region_unknown AS "unknown",
       round(100 * same_region_rate::numeric) AS "same %"
  FROM swarm.metrics_regions;

\echo '   swarm.metrics_knowledge: resolved cases and the knowledge articles they captured'
SELECT cases_resolved AS resolved, cases_with_collaboration AS "with help",
       collaborated_with_kb AS "with help + kb", round(100 * collaborated_kb_rate::numeric) AS "kb %",
       cases_without_collaboration AS solo, solo_with_kb AS "solo + kb", round(100 * solo_kb_rate::numeric) AS "solo kb %"
  FROM swarm.metrics_knowledge;

\echo '   swarm.metrics_handoffs: why cases changed owner'
SELECT coalesce(reason, '(all transfers)') AS reason, transfers, cases, round(100 * share::numeric) AS "share %"
  FROM swarm.metrics_handoffs
 ORDER BY transfers DESC, reason;

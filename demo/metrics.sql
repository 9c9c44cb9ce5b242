-- demo/metrics.sql: what analysts see after the simulated day.
-- Run by `make demo` (scripts/demo.sh) in the database of the day, with
-- psql -v speed=<the simulation's speed>.  It prints the metrics views
-- (swarm.metrics_daily and the others) that this build of swarm has, and,
-- when it has none of them, the same kind of numbers straight from the tables.
\set ON_ERROR_STOP 1
\pset footer off
\pset null ''
-- wide tables turn vertical when they do not fit in 150 columns
\pset columns 150
\x auto
SET search_path = public, swarm;

SELECT to_regclass('swarm.metrics_daily') IS NOT NULL AS m_daily,
       to_regclass('swarm.metrics_requests') IS NOT NULL AS m_requests,
       to_regclass('swarm.metrics_agents') IS NOT NULL AS m_agents,
       to_regclass('swarm.metrics_sla') IS NOT NULL AS m_sla,
       to_regclass('swarm.metrics_regions') IS NOT NULL AS m_regions,
       to_regclass('swarm.metrics_knowledge') IS NOT NULL AS m_knowledge,
       to_regclass('swarm.metrics_handoffs') IS NOT NULL AS m_handoffs,
       EXISTS (SELECT 1 FROM pg_catalog.pg_views
                WHERE schemaname = 'swarm' AND viewname IN ('metrics_daily', 'metrics_requests', 'metrics_agents',
                      'metrics_sla', 'metrics_regions', 'metrics_knowledge', 'metrics_handoffs')) AS m_any \gset

\if :m_any
\echo '   Durations are real time: the day ran' :speed 'times faster than a real one.'
\echo
\if :m_daily
\echo '   swarm.metrics_daily: cases opened and resolved, the share that needed collaboration, time to resolve, handoffs, escalations, SLA attainment'
SELECT * FROM swarm.metrics_daily;
\endif
\if :m_requests
\echo '   swarm.metrics_requests: per group and priority, time to accept, acceptance SLA, escalation rate, pushed vs pulled'
SELECT * FROM swarm.metrics_requests;
\endif
\if :m_agents
\echo '   swarm.metrics_agents: who owns, who resolves alone, who helps others (the contribution score credits helping)'
SELECT * FROM swarm.metrics_agents;
\endif
\if :m_sla
\echo '   swarm.metrics_sla: per target and priority, met, met late, breached'
SELECT * FROM swarm.metrics_sla;
\endif
\if :m_regions
\echo '   swarm.metrics_regions: requests served in the requester''s region or across regions'
SELECT * FROM swarm.metrics_regions;
\endif
\if :m_knowledge
\echo '   swarm.metrics_knowledge: resolved cases with collaboration, and how many captured an article'
SELECT * FROM swarm.metrics_knowledge;
\endif
\if :m_handoffs
\echo '   swarm.metrics_handoffs: cases with more than one owner, and why'
SELECT * FROM swarm.metrics_handoffs;
\endif

\else
\echo '   (This build of swarm has no metrics views yet: swarm.metrics_daily and the others are'
\echo '   being added.  Here are some of the same numbers, straight from the tables; times are'
\echo '   simulated minutes, the real durations times' :speed').'
\echo
\echo '   The day: how many cases needed collaboration (a well-routed team: 10-15 %), and how fast they were resolved'
SELECT count(*) AS "cases opened",
       count(c.resolved_at) AS resolved,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM swarm.collab_requests AS r WHERE r.case_id = c.case_id))
         AS "with collaboration",
       round(100.0 * count(*) FILTER (WHERE EXISTS (SELECT 1 FROM swarm.collab_requests AS r WHERE r.case_id = c.case_id))
             / nullif(count(*), 0), 1) AS "%",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.resolved_at - c.opened_at))
              * :speed / 60)::numeric) AS "median minutes to resolve",
       sum(c.handoffs) AS handoffs
  FROM swarm.cases AS c;

\echo '   Requests by the group asked at the end (escalation widens some), time to help'
SELECT coalesce(g.name, '(skills: ' || r.needed::text || ')') AS "asked",
       count(*) AS requests,
       count(*) FILTER (WHERE r.mode = 'push') AS pushed,
       count(*) FILTER (WHERE r.mode = 'pull') AS pulled,
       count(r.accepted_at) AS accepted,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.accepted_at - r.created_at))
              * :speed / 60)::numeric, 1) AS "median minutes to accept",
       count(*) FILTER (WHERE r.escalation_level > 0) AS escalated
  FROM swarm.collab_requests AS r LEFT JOIN swarm.skill_groups AS g USING (group_id)
 GROUP BY 1 ORDER BY requests DESC, 1;

\echo '   Who swarmed: the agents who helped others most, and what they own'
SELECT a.name, a.region,
       count(DISTINCT r.request_id) AS "helps given",
       (SELECT count(*) FROM swarm.cases AS c WHERE c.owner_id = a.agent_id) AS "cases owned",
       (SELECT count(*) FROM swarm.cases AS c WHERE c.owner_id = a.agent_id AND c.resolved_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS x WHERE x.case_id = c.case_id)) AS "resolved alone"
  FROM swarm.agents AS a JOIN swarm.collab_requests AS r ON r.helper_id = a.agent_id
 GROUP BY a.agent_id ORDER BY "helps given" DESC, a.agent_id LIMIT 8;

\echo '   Knowledge: resolved cases, with and without collaboration, and the articles they captured'
SELECT CASE WHEN EXISTS (SELECT 1 FROM swarm.collab_requests AS r WHERE r.case_id = c.case_id)
            THEN 'with collaboration' ELSE 'alone' END AS resolved,
       count(*) AS cases, count(c.kb_ref) AS "with an article",
       round(100.0 * count(c.kb_ref) / count(*), 1) AS "%"
  FROM swarm.cases AS c WHERE c.resolved_at IS NOT NULL
 GROUP BY 1 ORDER BY 1 DESC;

\echo '   Handoffs, and why'
SELECT e.detail ->> 'reason' AS reason, count(*) AS transfers
  FROM swarm.events AS e WHERE e.kind = 'case_transferred'
 GROUP BY 1 ORDER BY 2 DESC, 1;

\echo '   Escalations by level'
SELECT x.level, array_to_string(x.actions, ', ') AS actions, count(*) AS escalations,
       round(avg(extract(epoch FROM x.escalated_at - x.due_at) * 1000)::numeric, 1) AS "average lag (real ms)"
  FROM swarm.escalations AS x
 GROUP BY 1, 2 ORDER BY 1;
\endif

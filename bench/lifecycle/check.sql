-- bench/lifecycle/check.sql: what a run left behind, for the agreement check.
-- psql variables: schema (swarm or bench_ref), lo (the highest case_id before the run).
-- One line: cases, cases resolved by an owner, requests, requests resolved by a
-- helper other than the owner, cases with exactly one request, participants
-- (owner + helper per case), events about the cases, agents whose
-- open_cases/open_helps counters are not back to 0 (every lifecycle of a run
-- ends, so none should be), and the event kinds in the order they were first
-- written.
SELECT (SELECT count(*) FROM :"schema".cases AS c WHERE c.case_id > :lo) AS cases,
       (SELECT count(*) FROM :"schema".cases AS c
         WHERE c.case_id > :lo AND c.state = 'resolved' AND c.owner_id IS NOT NULL
           AND c.resolved_at IS NOT NULL AND c.kb_ref = 'KB-' || c.case_id) AS cases_resolved,
       (SELECT count(*) FROM :"schema".collab_requests AS r WHERE r.case_id > :lo) AS requests,
       (SELECT count(*) FROM :"schema".collab_requests AS r JOIN :"schema".cases AS c USING (case_id)
         WHERE r.case_id > :lo AND r.state = 'resolved' AND r.requester_id = c.owner_id
           AND r.helper_id IS NOT NULL AND r.helper_id <> c.owner_id
           AND r.accepted_at IS NOT NULL AND r.resolved_at IS NOT NULL) AS requests_resolved,
       (SELECT count(*) FROM (SELECT r.case_id FROM :"schema".collab_requests AS r
                               WHERE r.case_id > :lo GROUP BY r.case_id HAVING count(*) = 1) AS one) AS one_request,
       (SELECT count(*) FROM :"schema".participants AS p WHERE p.case_id > :lo) AS participants,
       (SELECT count(*) FROM :"schema".events AS e WHERE e.case_id > :lo) AS events,
       (SELECT count(*) FROM :"schema".agents AS a WHERE a.open_cases <> 0 OR a.open_helps <> 0) AS busy_agents,
       (SELECT string_agg(kind, ',' ORDER BY first) FROM
          (SELECT e.kind, min(e.event_id) AS first FROM :"schema".events AS e
            WHERE e.case_id > :lo GROUP BY e.kind) AS k) AS kinds;

-- bench/routing/grab_reset.sql: put the queue back as grab_setup.sql found it:
-- requests taken by a run are open again, the helpers they made participants
-- are removed, open_helps is recounted, the requests' table is rewritten.  (swarm.events is append-only: the
-- events of earlier runs stay; checks only look at events after a mark.)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
UPDATE swarm.collab_requests AS r SET state = 'open', helper_id = NULL, accepted_at = NULL
  FROM bench.queue_snap AS s
 WHERE s.request_id = r.request_id AND r.state <> 'open';
DELETE FROM swarm.participants AS p
 WHERE NOT EXISTS (SELECT 1 FROM bench.participants_snap AS s
                    WHERE s.case_id = p.case_id AND s.agent_id = p.agent_id AND s.role = p.role);
UPDATE swarm.agents AS a SET open_helps = n.n
  FROM (SELECT a.agent_id, count(r.request_id) AS n
          FROM swarm.agents AS a LEFT JOIN swarm.collab_requests AS r
            ON r.helper_id = a.agent_id AND r.state = 'accepted'
         GROUP BY a.agent_id) AS n
 WHERE n.agent_id = a.agent_id AND a.open_helps <> n.n;
-- rewrite the requests in id order, with fresh indexes: every run starts
-- from the same physical state (the UPDATEs above would otherwise leave the
-- queue's head scattered over more pages after every run)
CLUSTER swarm.collab_requests USING collab_requests_pkey;
VACUUM ANALYZE swarm.collab_requests, swarm.participants, swarm.agents, swarm.events;
CHECKPOINT;

-- bench/routing/grab_check.sql: what a run did.  psql variables: side (grab or
-- dequeue), mark (max event_id before the run).  Prints one line:
--   taken distinct_taken grabbed_events distinct_event_requests event_mismatch open_helps_added still_open
-- taken: requests of the queue now accepted; a request grabbed twice would
-- show as grabbed_events > distinct_event_requests (swarm) or as fewer taken
-- requests than pgbench transactions (bare dequeue: each transaction takes one).
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
WITH taken AS (
    SELECT r.request_id, r.helper_id FROM swarm.collab_requests AS r JOIN bench.queue_snap USING (request_id)
     WHERE r.state = 'accepted'
), ev AS (
    SELECT e.request_id, e.agent_id FROM swarm.events AS e
     WHERE e.event_id > :mark AND e.kind = 'request_accepted' AND e.detail->>'how' = 'grabbed'
)
SELECT (SELECT count(*) FROM taken),
       (SELECT count(DISTINCT request_id) FROM taken),
       (SELECT count(*) FROM ev),
       (SELECT count(DISTINCT request_id) FROM ev),
       (SELECT count(*) FROM ev LEFT JOIN taken AS t USING (request_id)
         WHERE t.helper_id IS DISTINCT FROM ev.agent_id),
       (SELECT sum(open_helps) FROM swarm.agents)
         - (SELECT count(*) FROM swarm.collab_requests WHERE state = 'accepted' AND request_id NOT IN (SELECT request_id FROM taken)),
       (SELECT count(*) FROM swarm.collab_requests AS r JOIN bench.queue_snap USING (request_id) WHERE r.state = 'open');

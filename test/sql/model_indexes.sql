-- The model's indexes serve the queries integrators and routing will run.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
SET search_path = public, swarm;

SELECT count(swarm.add_agent('u' || i, 'Agent ' || i,
                             format('skill%s:%s, skill%s:%s, linux', i % 50, i % 5 + 1, i % 7 + 100, (i + 2) % 5 + 1)::swarm.skillset))
  FROM generate_series(1, 2000) i;
ANALYZE swarm.agents;

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT agent_id FROM swarm.agents WHERE skills && 'skill7:1, nothing';
EXPLAIN (COSTS OFF) SELECT agent_id FROM swarm.agents WHERE skills @> 'skill7:4';
-- the index answers exactly what a scan answers
CREATE TEMP VIEW skill_counts AS
  SELECT (SELECT count(*) FROM swarm.agents WHERE skills && 'skill7:1, nothing') AS overlap,
         (SELECT count(*) FROM swarm.agents WHERE skills @> 'skill7:2') AS contains,
         (SELECT count(*) FROM swarm.agents WHERE skills @> 'skill7:2, skill100:1') AS contains2,
         (SELECT count(*) FROM swarm.agents WHERE skills @> '') AS contains_empty,
         (SELECT count(*) FROM swarm.agents WHERE skills @> 'skill7:4') AS too_high;
CREATE TEMP TABLE via_index AS SELECT * FROM skill_counts;
RESET enable_seqscan;
SET enable_bitmapscan = off;
SET enable_indexscan = off;
SELECT NOT EXISTS (SELECT * FROM via_index EXCEPT SELECT * FROM skill_counts) AS same, * FROM via_index;
RESET enable_bitmapscan;
RESET enable_indexscan;

-- an owner's open cases are counted from the partial index
SELECT swarm.open_case('T-' || i, 's', 'P3', 'linux') FROM generate_series(1, 50) i \g /dev/null
SELECT count(swarm.assign_case(i, i % 10 + 1)) FROM generate_series(1, 50) i;
ANALYZE swarm.cases;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM swarm.cases WHERE owner_id = 3 AND state IN ('open', 'pending');
RESET enable_seqscan;

SET client_min_messages = warning; DROP EXTENSION IF EXISTS swarm CASCADE; CREATE EXTENSION swarm; RESET client_min_messages;
--
-- swarm.skillset: GIN index on skill names (operator class skillset_ops)
--
SET search_path = swarm, public;

-- a deterministic table of a few thousand skillsets over 30 names,
-- some of them non-ASCII or needing quotes; every 50th row is empty
CREATE TABLE gin_t (id int PRIMARY KEY, s skillset NOT NULL);
INSERT INTO gin_t
SELECT i, coalesce((SELECT string_agg(format('%s:%s',
                                             CASE WHEN j % 10 = 0 THEN format('"Skill %s"', j)
                                                  WHEN j % 10 = 5 THEN 'é' || j
                                                  ELSE 'sk' || j END,
                                             1 + ((i * 7 + j * 13) * (i + j)) % 5), ', ')
                    FROM generate_series(1, 30) AS j
                    WHERE i % 50 <> 0
                      AND ((i::bigint * 7919 + j * 104729) * (i + j * 31)) % 97 < 30), '')::skillset
FROM generate_series(1, 3000) AS i;

SELECT count(*) AS rows, count(*) FILTER (WHERE s = '') AS empty,
       sum(cardinality(skill_names(s))) AS skills
FROM gin_t;
SELECT id, s FROM gin_t WHERE id IN (1, 2, 50) ORDER BY id;

CREATE INDEX gin_t_s_idx ON gin_t USING gin (s);

-- rows added after CREATE INDEX go through the pending list
INSERT INTO gin_t
SELECT 3000 + i, format('sk%s:%s, "Skill %s":%s', i % 30, 1 + i % 5, i % 7, 1 + i % 3)::skillset
FROM generate_series(1, 200) AS i;
INSERT INTO gin_t VALUES (3201, ''), (3202, 'SK3:5, SK4:5, SK7:5');

-- the queries to compare
CREATE TABLE gin_q (qid int PRIMARY KEY, q skillset NOT NULL);
INSERT INTO gin_q VALUES
    (1, ''), (2, 'sk1'), (3, 'sk1:5'), (4, 'sk1:1'), (5, 'sk2:3, sk3:2'),
    (6, 'sk3, sk7, sk9'), (7, 'sk3:5, sk4:5, sk7:5'), (8, 'nosuch'),
    (9, 'sk4:1, nosuch'), (10, '"Skill 10":2'), (11, 'É5'), (12, 'é15:4, sk1'),
    (13, '"skill 20", "skill 30", sk29:1'), (14, 'sk'), (15, 'sk11:1, sk12:1, sk13:1, sk14:1');

-- the planner uses the index for && and @>
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM gin_t WHERE s && 'sk1, sk2';
EXPLAIN (COSTS OFF) SELECT count(*) FROM gin_t WHERE s @> 'sk1:2, sk2';
EXPLAIN (COSTS OFF) SELECT q.qid, (SELECT count(*) FROM gin_t WHERE s @> q.q) FROM gin_q q;
-- <@ is not supported by the operator class
EXPLAIN (COSTS OFF) SELECT count(*) FROM gin_t WHERE s <@ 'sk1, sk2';

-- results through the index ...
SET enable_bitmapscan = on;
CREATE TEMP TABLE via_index AS
SELECT q.qid,
       (SELECT count(*) FROM gin_t WHERE s @> q.q) AS contains_n,
       (SELECT coalesce(sum(id), 0) FROM gin_t WHERE s @> q.q) AS contains_sum,
       (SELECT count(*) FROM gin_t WHERE s && q.q) AS overlaps_n,
       (SELECT coalesce(sum(id), 0) FROM gin_t WHERE s && q.q) AS overlaps_sum
FROM gin_q q;

-- ... and by sequential scan
SET enable_seqscan = on;
SET enable_bitmapscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM gin_t WHERE s && 'sk1, sk2';
CREATE TEMP TABLE via_seqscan AS
SELECT q.qid,
       (SELECT count(*) FROM gin_t WHERE s @> q.q) AS contains_n,
       (SELECT coalesce(sum(id), 0) FROM gin_t WHERE s @> q.q) AS contains_sum,
       (SELECT count(*) FROM gin_t WHERE s && q.q) AS overlaps_n,
       (SELECT coalesce(sum(id), 0) FROM gin_t WHERE s && q.q) AS overlaps_sum
FROM gin_q q;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_indexscan;

-- identical answers (no rows differ), and the answers themselves
SELECT * FROM via_index i FULL JOIN via_seqscan s USING (qid)
WHERE i IS DISTINCT FROM s;
SELECT q.qid, q.q, i.contains_n, i.overlaps_n
FROM gin_q q JOIN via_index i USING (qid) ORDER BY q.qid;

-- row by row: the index and the operators agree for every (row, query) pair
SET enable_seqscan = off;
CREATE TEMP TABLE pairs_index AS
SELECT q.qid, t.id FROM gin_q q JOIN LATERAL
    (SELECT id FROM gin_t WHERE s @> q.q) t ON true;
RESET enable_seqscan;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM pairs_index p
                                          WHERE p.qid = q.qid AND p.id = t.id)) AS missing_from_index
FROM gin_q q, gin_t t WHERE t.s @> q.q;
SELECT count(*) AS extra_in_index
FROM pairs_index p JOIN gin_q q USING (qid) JOIN gin_t t ON t.id = p.id
WHERE NOT t.s @> q.q;

-- && with an empty query matches nothing, @> '' matches everything
SET enable_seqscan = off;
SELECT count(*) AS overlaps_empty FROM gin_t WHERE s && '';
SELECT count(*) AS contains_empty, count(*) FILTER (WHERE s = '') AS empty_rows
FROM gin_t WHERE s @> '';
RESET enable_seqscan;

-- levels are rechecked on the heap for @>
SET enable_seqscan = off;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM gin_t WHERE s @> 'sk3:5';
SELECT id, s FROM gin_t WHERE s @> 'sk3:5, sk4:5, sk7:5' ORDER BY id;
RESET enable_seqscan;

-- index maintenance: updates and deletes are seen
UPDATE gin_t SET s = 'onlyhere:5' WHERE id = 1;
DELETE FROM gin_t WHERE id = 2;
SET enable_seqscan = off;
SELECT id FROM gin_t WHERE s && 'onlyhere' ORDER BY id;
SELECT id FROM gin_t WHERE s @> 'onlyhere:4' ORDER BY id;
SELECT count(*) AS contains_empty FROM gin_t WHERE s @> '';
-- and so are rows moved out of the pending list into the main tree
SELECT gin_clean_pending_list('gin_t_s_idx') >= 0 AS flushed;
SELECT count(*) AS contains_empty FROM gin_t WHERE s @> '';
SELECT count(*) FROM gin_t WHERE s @> 'sk3:5, sk4:5, sk7:5';
SELECT count(*) FROM gin_t WHERE s && '"skill 3", "skill 5"';
RESET enable_seqscan;
SELECT count(*) FROM gin_t WHERE s && '"skill 3", "skill 5"';

-- the operator class is the default one for skillset
SELECT opc.opcname, am.amname, opc.opcdefault, opc.opckeytype::regtype,
       amvalidate(opc.oid) AS valid
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'skillset'::regtype ORDER BY am.amname;

DROP TABLE gin_t, gin_q;

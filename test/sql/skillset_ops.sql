SET client_min_messages = warning; DROP EXTENSION IF EXISTS swarm CASCADE; CREATE EXTENSION swarm; RESET client_min_messages;
--
-- swarm.skillset: operators, ordering, hashing and functions
--
SET search_path = swarm, public;

-- = and <> : same skills at the same levels, whatever the spelling
SELECT 'a:1, B:2'::skillset = 'b:2, a:1'::skillset AS t1,
       'a:1, b:2'::skillset = 'a:1, b:3'::skillset AS f1,
       'a:1, b:2'::skillset = 'a:1'::skillset AS f2,
       ''::skillset = ''::skillset AS t2,
       'a'::skillset = 'a:3'::skillset AS t3;
SELECT 'a:1, b:2'::skillset <> 'a:1, b:3'::skillset AS t1,
       'a:1, b:2'::skillset <> 'B:2, A:1'::skillset AS f1,
       ''::skillset <> 'a'::skillset AS t2;

-- < <= > >= : entries in name order (name bytes, then level), then shorter first
SELECT 'a:1'::skillset < 'b:1'::skillset AS t1,
       'a:5'::skillset < 'b:1'::skillset AS t2,
       'a:1'::skillset < 'a:2'::skillset AS t3,
       'a:1'::skillset < 'a:1, b:1'::skillset AS t4,
       ''::skillset < 'a'::skillset AS t5,
       'a'::skillset < 'aa'::skillset AS t6,
       'b:1'::skillset < 'a:1'::skillset AS f1,
       'a:2'::skillset < 'a:2'::skillset AS f2,
       'a:1, b:1'::skillset < 'a:1'::skillset AS f3;
SELECT 'a:2'::skillset <= 'a:2'::skillset AS t1,
       'a:1'::skillset <= 'a:2'::skillset AS t2,
       'a:3'::skillset <= 'a:2'::skillset AS f1;
SELECT 'b'::skillset > 'a, z'::skillset AS t1,
       'a:2'::skillset > 'a:2'::skillset AS f1,
       ''::skillset > 'a'::skillset AS f2;
SELECT 'a:2'::skillset >= 'a:2'::skillset AS t1,
       'a:2, b'::skillset >= 'a:2'::skillset AS t2,
       'a:1'::skillset >= 'a:2'::skillset AS f1;

-- @> : left has every skill of the right at a level >= the right's
SELECT 'postgres:4, linux:2'::skillset @> 'postgres:3'::skillset AS t1,
       'postgres:4, linux:2'::skillset @> 'POSTGRES:4, linux:1'::skillset AS t2,
       'postgres:4'::skillset @> ''::skillset AS t3,
       ''::skillset @> ''::skillset AS t4,
       'postgres:4'::skillset @> 'postgres:5'::skillset AS f1,
       'postgres:4'::skillset @> 'postgres:1, linux:1'::skillset AS f2,
       ''::skillset @> 'a:1'::skillset AS f3,
       'b, d'::skillset @> 'c'::skillset AS f4;

-- <@ : commutator of @>
SELECT 'postgres:3'::skillset <@ 'postgres:4, linux:2'::skillset AS t1,
       ''::skillset <@ 'a'::skillset AS t2,
       'postgres:5'::skillset <@ 'postgres:4'::skillset AS f1,
       'a'::skillset <@ ''::skillset AS f2;

-- && : share at least one skill name, levels ignored
SELECT 'postgres:1, linux'::skillset && 'Linux:5'::skillset AS t1,
       'a, m, z'::skillset && 'b, m'::skillset AS t2,
       'a, b'::skillset && 'c, d'::skillset AS f1,
       'a'::skillset && ''::skillset AS f2,
       ''::skillset && ''::skillset AS f3;

-- NULL operands give NULL (the functions are strict)
SELECT ('a'::skillset = NULL) IS NULL AS eq, ('a'::skillset @> NULL) IS NULL AS contains,
       (NULL && 'a'::skillset) IS NULL AS overlaps, ('a'::skillset < NULL) IS NULL AS lt;

-- the operators are declared as commutators/negators of each other
SELECT o.oprname, c.oprname AS commutator, n.oprname AS negator,
       o.oprcanhash AS hashes, o.oprcanmerge AS merges,
       o.oprrest::text AS restrict, o.oprjoin::text AS "join"
FROM pg_operator o
LEFT JOIN pg_operator c ON c.oid = o.oprcom
LEFT JOIN pg_operator n ON n.oid = o.oprnegate
WHERE o.oprleft = 'skillset'::regtype
ORDER BY o.oprname;

-- a table of skillsets for ordering, grouping and joins
CREATE TEMP TABLE ops_t (id int, s skillset);
INSERT INTO ops_t VALUES
    (1, 'b:1'), (2, 'a:2, b:1'), (3, ''), (4, 'A:2, B:1'), (5, 'a:1'),
    (6, 'a:2'), (7, 'aa:1'), (8, 'b:1'), (9, 'a:1, b:5'), (10, NULL),
    (11, '"a b":1'), (12, 'Z:5');

SELECT id, s FROM ops_t ORDER BY s, id;
SELECT id, s FROM ops_t ORDER BY s DESC NULLS LAST, id;
SELECT DISTINCT s FROM ops_t ORDER BY s;
SELECT s, count(*), array_agg(id ORDER BY id) AS ids FROM ops_t GROUP BY s ORDER BY s;

-- btree index and UNIQUE
CREATE UNIQUE INDEX ops_u_idx ON ops_t (s);
CREATE INDEX ops_s_idx ON ops_t (s);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ops_t WHERE s = 'b:1, a:2';
SELECT id FROM ops_t WHERE s = 'b:1, a:2' ORDER BY id;
SELECT id FROM ops_t WHERE s > 'a:2' AND s <= 'b:1' ORDER BY id;
RESET enable_seqscan;

CREATE TEMP TABLE uniq_t (s skillset UNIQUE);
INSERT INTO uniq_t VALUES ('postgres:4, linux');
INSERT INTO uniq_t VALUES ('Linux:3, POSTGRES:04');
INSERT INTO uniq_t VALUES ('postgres:4, linux:2');
SELECT s FROM uniq_t ORDER BY s;

-- hash index
CREATE INDEX ops_h_idx ON ops_t USING hash (s);
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ops_t WHERE s = 'B:1';
SELECT id FROM ops_t WHERE s = 'B:1' ORDER BY id;
RESET enable_indexscan;
RESET enable_seqscan;
DROP INDEX ops_h_idx;

-- hash aggregation and hash joins use skillset_hash
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT s, count(*) FROM ops_t GROUP BY s;
SELECT s, count(*) FROM ops_t GROUP BY s ORDER BY count(*) DESC, s;
RESET enable_sort;

CREATE TEMP TABLE ops_u (name text, s skillset);
INSERT INTO ops_u VALUES ('x', 'a:2, b:1'), ('y', ''), ('z', 'q:1'), ('w', 'b');
ANALYZE ops_t, ops_u;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT t.id, u.name FROM ops_t t JOIN ops_u u ON t.s = u.s;
SELECT t.id, u.name FROM ops_t t JOIN ops_u u ON t.s = u.s ORDER BY t.id, u.name;
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT t.id, u.name FROM ops_t t JOIN ops_u u ON t.s = u.s;
SELECT t.id, u.name FROM ops_t t JOIN ops_u u ON t.s = u.s ORDER BY t.id, u.name;
RESET enable_hashjoin;
RESET enable_nestloop;

-- hashes of equal values agree, the extended hash honours its seed
SELECT skillset_hash('a:2, b:1') = skillset_hash('B:1, A:2') AS same_hash,
       skillset_hash_extended('a:2, b:1', 0) = skillset_hash_extended('B:1,A:2', 0) AS same_ext,
       skillset_hash_extended('a:2, b:1', 0) <> skillset_hash_extended('a:2, b:1', 1) AS seeded,
       skillset_hash('a:2, b:1') <> skillset_hash('a:2, b:2') AS differs;

-- skillset_cmp agrees with the operators
SELECT skillset_cmp('a:1', 'a:2') AS lt, skillset_cmp('a:2', 'A:2') AS eq,
       skillset_cmp('b', 'a, b') AS gt, skillset_cmp('', '') AS empty;

-- skill_level: names are folded like input, 0 when absent
SELECT skill_level('postgres:4, linux', 'postgres') AS postgres,
       skill_level('postgres:4, linux', 'LINUX') AS linux,
       skill_level('postgres:4, linux', 'oracle') AS oracle,
       skill_level('postgres:4, linux', '') AS empty,
       skill_level('postgres:4, linux', repeat('a', 100)) AS too_long,
       skill_level('"Windows Server":2', 'windows SERVER') AS quoted,
       skill_level('Été:5', 'Été') AS accented,
       skill_level('', 'a') AS empty_set;

-- skill_names: sorted text[]
SELECT skill_names('postgres:4, linux, "Windows Server":2') AS names,
       skill_names('') AS empty,
       pg_typeof(skill_names('a')) AS type;

-- skills: one row per skill, sorted by name
SELECT * FROM skills('postgres:4, linux, "Windows Server":2, c++:1');
SELECT * FROM skills('');
SELECT t.id, k.name, k.level FROM ops_t t, skills(t.s) k WHERE t.id IN (2, 9, 11) ORDER BY t.id, k.name;

-- match_score: sum of min(have, need) over need / sum of need levels
SELECT match_score('postgres:4, linux:2', 'postgres:4, linux:2') AS exact,
       match_score('postgres:5, linux:5', 'postgres:4, linux:2') AS more,
       match_score('postgres:2', 'postgres:4') AS half,
       match_score('postgres:4', 'postgres:4, linux:4') AS half_names,
       match_score('postgres:1, linux:5', 'postgres:4, linux:2, oracle:2') AS mixed,
       match_score('oracle:5', 'postgres:4, linux:2') AS no_overlap,
       match_score('', 'postgres:4') AS empty_have,
       match_score('postgres:4', '') AS empty_need,
       match_score('', '') AS both_empty;

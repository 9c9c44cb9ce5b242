SET client_min_messages = warning; DROP EXTENSION IF EXISTS swarm CASCADE; CREATE EXTENSION swarm; RESET client_min_messages;
--
-- swarm.skillset: text input and canonical output
--
SET search_path = swarm, public;

-- canonical output: sorted by name, always name:level, ", " between items
SELECT 'postgres:4, linux, "windows server":2'::skillset;
SELECT 'b:1,a:2,c'::skillset;
SELECT ''::skillset;
SELECT '   '::skillset;
SELECT E' \t\n\r '::skillset;
SELECT 'linux'::skillset;

-- whitespace around items, names, colons and levels
SELECT E'  postgres  :  4  ,\tlinux\n,\r\n"windows server"\t:\t2  '::skillset;
SELECT 'a :1,b: 2 ,c : 3'::skillset;

-- omitted level means 3; leading zeros are fine
SELECT 'a, b:3, c:03, d:0005, e:01'::skillset;

-- names are folded to lower case (ASCII only; other bytes are kept)
SELECT 'PostgreSQL:5, LINUX:1'::skillset;
SELECT '"Windows Server":2'::skillset;
SELECT 'Ärger:2, ärger:3, ÉCOLE'::skillset;

-- bare names: letters, digits, _ - . + # / and non-ASCII bytes
SELECT 'c++:4, c#:3, tcp/ip, node.js:2, x_y-z, 123, été, 日本語:5'::skillset;

-- other characters need quotes; output quotes only when needed
SELECT '"a b", "a,b", "a:b", "x\"y", "back\\slash", "plain"'::skillset;
SELECT '"it''s":1, "semi;colon":2, "tab	here":3'::skillset;
SELECT '"quoted-but-bare":4'::skillset;
SELECT E'"multi\nline":2'::skillset;

-- byte order: memcmp, then shorter first; digits < '_' < letters < non-ASCII
SELECT 'b, ab, a, aa, 1, _, é, a1'::skillset;
SELECT 'postgres, postgres-admin, postgresql, postgre'::skillset;

-- name length: 63 bytes is the maximum (bytes, not characters)
SELECT (repeat('a', 63) || ':1')::skillset;
SELECT length(repeat('é', 31) || 'a') AS chars,
       octet_length(repeat('é', 31) || 'a') AS bytes,
       (repeat('é', 31) || 'a')::skillset;

-- the output reparses to the same value and prints the same
SELECT s::text::skillset = s AS same_value,
       s::text::skillset::text = s::text AS same_text
FROM (SELECT 'Z:1, "a\"b":2, "c\\d", "e f":5, ü:4'::skillset AS s) AS t;

-- errors: one statement per error
SELECT 'postgres:4, Postgres'::skillset;
SELECT 'linux, postgres:2, linux:2'::skillset;
SELECT 'postgres:7'::skillset;
SELECT 'postgres:0'::skillset;
SELECT 'postgres:000'::skillset;
SELECT 'postgres:0099999999999999999999'::skillset;
SELECT '"":1'::skillset;
SELECT ':3'::skillset;
SELECT 'a,,b'::skillset;
SELECT 'a,'::skillset;
SELECT ', a'::skillset;
SELECT (repeat('a', 64) || ':1')::skillset;
SELECT (repeat('é', 32))::skillset;
SELECT '"windows server'::skillset;
SELECT '"abc\'::skillset;
SELECT '"a\nb"'::skillset;
SELECT 'postgres:'::skillset;
SELECT 'postgres: , linux'::skillset;
SELECT 'postgres:x'::skillset;
SELECT 'postgres:3.5'::skillset;
SELECT 'postgres:-1'::skillset;
SELECT 'postgres:4 linux'::skillset;
SELECT 'windows server'::skillset;
SELECT 'a;b'::skillset;
SELECT '"a"b'::skillset;
SELECT 'a:1:2'::skillset;
SELECT 'a, =b'::skillset;
SELECT 'naïve!'::skillset;
SELECT 'a|b'::skillset;

-- the error is an invalid_text_representation (22P02)
DO $$
BEGIN
    PERFORM 'a,,b'::swarm.skillset;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE NOTICE 'caught %', SQLSTATE;
END
$$;

-- pg_input_is_valid-style check through a table column
CREATE TEMP TABLE io_t (id int, s skillset);
INSERT INTO io_t VALUES (1, 'b:2, a'), (2, ''), (3, NULL);
SELECT id, s, s IS NULL AS is_null FROM io_t ORDER BY id;

-- NULL in, NULL out for every function (all are STRICT)
SELECT skill_level(NULL, 'a') IS NULL AS l1,
       skill_level('a', NULL) IS NULL AS l2,
       skill_names(NULL) IS NULL AS n,
       match_score(NULL, 'a') IS NULL AS m1,
       match_score('a', NULL) IS NULL AS m2,
       (SELECT count(*) FROM skills(NULL)) AS skills_rows,
       skillset_send(NULL) IS NULL AS send,
       skillset_out(NULL) IS NULL AS out;

-- send produces the documented binary format
SELECT skillset_send('b:2, A'::skillset);
SELECT skillset_send(''::skillset);

-- all functions of the type are IMMUTABLE STRICT PARALLEL SAFE
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p
WHERE p.probin = '$libdir/swarm' AND p.prosrc ~ '^(skillset_|jsonb_to_skillset$)'
  AND (p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's')
ORDER BY 1;

-- every object of the type has a comment
WITH objs AS (
    SELECT 'pg_type'::regclass AS cls, oid FROM pg_type
    WHERE oid = 'swarm.skillset'::regtype
    UNION ALL
    SELECT 'pg_proc'::regclass, oid FROM pg_proc
    WHERE probin = '$libdir/swarm' AND prosrc ~ '^(skillset_|jsonb_to_skillset$)'
    UNION ALL
    SELECT 'pg_operator'::regclass, oid FROM pg_operator
    WHERE oprleft = 'swarm.skillset'::regtype
    UNION ALL
    SELECT 'pg_opclass'::regclass, oid FROM pg_opclass WHERE opcname = 'skillset_ops'
    UNION ALL
    SELECT 'pg_opfamily'::regclass, oid FROM pg_opfamily WHERE opfname = 'skillset_ops'
    UNION ALL
    SELECT 'pg_cast'::regclass, oid FROM pg_cast
    WHERE castsource = 'swarm.skillset'::regtype OR casttarget = 'swarm.skillset'::regtype
)
SELECT cls, count(*) AS objects,
       count(*) FILTER (WHERE obj_description(oid, cls::name) IS NULL) AS uncommented
FROM objs GROUP BY cls ORDER BY cls::text;

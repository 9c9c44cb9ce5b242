SET client_min_messages = warning; DROP EXTENSION IF EXISTS swarm CASCADE; CREATE EXTENSION swarm; RESET client_min_messages;
--
-- swarm.skillset: casts to and from jsonb
--
SET search_path = swarm, public;

-- skillset -> jsonb: an object mapping names to levels
SELECT 'postgres:4, linux, "Windows Server":2'::skillset::jsonb;
SELECT ''::skillset::jsonb;
SELECT 'c++:5, "a\"b":1, "back\\slash":2, é:3'::skillset::jsonb;
SELECT jsonb_typeof('a'::skillset::jsonb) AS type,
       'a:2'::skillset::jsonb -> 'a' AS level,
       jsonb_typeof('a:2'::skillset::jsonb -> 'a') AS level_type;

-- jsonb -> skillset: the same builder as text input (folding, sorting)
SELECT '{"postgres": 4, "linux": 3, "Windows Server": 2}'::jsonb::skillset;
SELECT '{}'::jsonb::skillset;
SELECT '{"C++": 5, "a\"b": 1, "É": 3}'::jsonb::skillset;
SELECT '{"a": 3.0, "b": 2e0, "c": 0.5e1}'::jsonb::skillset;
SELECT '{"a": 1, "a": 2}'::jsonb::skillset;

-- round trips
SELECT s, s::jsonb::skillset = s AS same
FROM (VALUES ('postgres:4, linux, "windows server":2'::skillset), (''),
             ('"x,y":1, "a b":5, ü:2')) AS v(s);
SELECT j, j::skillset::jsonb = j AS same
FROM (VALUES ('{"a": 1, "b": 5}'::jsonb), ('{}'), ('{"x y": 2}')) AS v(j);

-- errors: not an object (22023)
SELECT '[1, 2]'::jsonb::skillset;
SELECT '"postgres"'::jsonb::skillset;
SELECT '42'::jsonb::skillset;
SELECT 'null'::jsonb::skillset;
SELECT 'true'::jsonb::skillset;

-- errors: bad levels (22P02)
SELECT '{"postgres": 7}'::jsonb::skillset;
SELECT '{"postgres": 0}'::jsonb::skillset;
SELECT '{"postgres": -1}'::jsonb::skillset;
SELECT '{"postgres": 1e20}'::jsonb::skillset;
SELECT '{"postgres": 3.5}'::jsonb::skillset;
SELECT '{"postgres": "4"}'::jsonb::skillset;
SELECT '{"postgres": null}'::jsonb::skillset;
SELECT '{"postgres": true}'::jsonb::skillset;
SELECT '{"postgres": [4]}'::jsonb::skillset;
SELECT '{"postgres": {"level": 4}}'::jsonb::skillset;

-- errors: bad names (22P02), reported by the same builder as text input
SELECT '{"Postgres": 4, "postgres": 3}'::jsonb::skillset;
SELECT '{"": 1}'::jsonb::skillset;
SELECT jsonb_build_object(repeat('x', 64), 1)::skillset;

-- the SQLSTATEs
DO $$
DECLARE
    j jsonb;
BEGIN
    FOREACH j IN ARRAY ARRAY['[]', '{"a": 9}', '{"a": "x"}', '{"A": 1, "a": 1}']::jsonb[]
    LOOP
        BEGIN
            PERFORM j::swarm.skillset;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE '% -> %', j, SQLSTATE;
        END;
    END LOOP;
END
$$;

-- NULL stays NULL
SELECT NULL::skillset::jsonb IS NULL AS to_jsonb, NULL::jsonb::skillset IS NULL AS from_jsonb;

-- the casts are explicit only
SELECT castcontext, castmethod, castsource::regtype, casttarget::regtype
FROM pg_cast
WHERE castsource = 'skillset'::regtype OR casttarget = 'skillset'::regtype
ORDER BY castsource::regtype::text;
SELECT '{"a": 1}'::jsonb = 'a:1'::skillset;

-- The routing cache: route_case and suggest_helpers read agents, their
-- experience and group members from the backend's cache (src/agent_cache.c).
-- Every ranking below is also computed with swarm.routing_cache = off, which
-- reads the tables, and the two must agree.  Then each kind of change is made
-- (through the API and with plain SQL, committed, uncommitted, rolled back)
-- and the next call must see it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET search_path = public, swarm;

SHOW swarm.routing_cache;

-- The fixture ---------------------------------------------------------------------
SELECT swarm.add_agent('u1', 'Own', 'postgres:3', 'emea', capacity => 40),
       swarm.add_agent('u2', 'Ann', 'postgres:5, replication:4', 'emea'),
       swarm.add_agent('u3', 'Bea', 'postgres:2', 'emea'),
       swarm.add_agent('u4', 'Cal', 'postgres:5, replication:5', 'amer'),
       swarm.add_agent('u5', 'Dan', 'postgres:3', 'apac'),
       swarm.add_agent('u6', 'Eli', 'replication:3', 'amer'),
       swarm.add_agent('u7', 'Fin', 'linux:4', 'emea');
SELECT swarm.add_group('pg-emea', 'postgres:4', 'regional', 'emea'),
       swarm.add_group('pg-global', 'postgres:4, replication:3', 'global');
SELECT swarm.add_group_member('pg-emea', a) FROM unnest(ARRAY[2, 3, 4]) AS a;
SELECT swarm.add_group_member('pg-global', a) FROM unnest(ARRAY[2, 3, 4, 5, 6]) AS a;
SELECT swarm.open_case('T-' || i, 'case ' || i, 'P2', 'postgres:3, replication:2', 'cust' || i,
                       CASE WHEN i % 2 = 1 THEN 'emea' ELSE 'amer' END)
  FROM generate_series(1, 4) AS i;
SELECT swarm.assign_case(i, 1) FROM generate_series(1, 3) AS i;
SELECT swarm.request_help(1, 'pg-emea') AS r1, swarm.request_help(2, 'pg-global') AS r2,
       swarm.request_help(3, needed => 'replication:3') AS r3;
INSERT INTO swarm.agent_experience (agent_id, skill, credit, updated_at)
VALUES (2, 'postgres', 4, now()), (2, 'replication', 1, now()), (4, 'replication', 9, now());

-- Each ranking with the cache, and whether the tables say the same ----------------
-- (one statement, so that now() and the data are the same on both sides)
CREATE FUNCTION pg_temp.ranked(what text, id bigint) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s:%s', r.agent_id, round(r.score::numeric, 6)), ' '), '-')
      FROM (SELECT * FROM swarm.route_case(id, 10) WHERE what = 'case'
            UNION ALL
            SELECT * FROM swarm.suggest_helpers(id, 10) WHERE what = 'request') AS r
$$;
CREATE FUNCTION pg_temp.agree(what text, id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cached text;
    read text;
    full_cached text;
    full_read text;
BEGIN
    PERFORM set_config('swarm.routing_cache', 'on', true);
    cached := pg_temp.ranked(what, id);
    SELECT string_agg(format('%s %s %s', agent_id, score, reasons), '; ') INTO full_cached
      FROM (SELECT * FROM swarm.route_case(id, 10) WHERE what = 'case'
            UNION ALL SELECT * FROM swarm.suggest_helpers(id, 10) WHERE what = 'request') AS r;
    PERFORM set_config('swarm.routing_cache', 'off', true);
    read := pg_temp.ranked(what, id);
    SELECT string_agg(format('%s %s %s', agent_id, score, reasons), '; ') INTO full_read
      FROM (SELECT * FROM swarm.route_case(id, 10) WHERE what = 'case'
            UNION ALL SELECT * FROM swarm.suggest_helpers(id, 10) WHERE what = 'request') AS r;
    PERFORM set_config('swarm.routing_cache', 'on', true);
    IF cached IS DISTINCT FROM read OR full_cached IS DISTINCT FROM full_read THEN
        RETURN format('DIFFER: cache %s, tables %s', full_cached, full_read);
    END IF;
    RETURN cached;
END
$$;
CREATE VIEW pg_temp.rankings AS
    SELECT 'case' AS what, case_id AS id, pg_temp.agree('case', case_id) AS ranking
      FROM swarm.cases WHERE state IN ('new', 'open', 'pending')
    UNION ALL
    SELECT 'request', request_id, pg_temp.agree('request', request_id)
      FROM swarm.collab_requests WHERE state IN ('open', 'offered');
SELECT * FROM pg_temp.rankings ORDER BY what, id;

-- Committed changes through the API ----------------------------------------------
-- Ann goes offline: gone from every ranking; back online: back
SELECT swarm.set_presence(2, 'offline');
SELECT pg_temp.agree('case', 4) AS case4, pg_temp.agree('request', 1) AS r1;
SELECT swarm.set_presence(2, 'online');
SELECT pg_temp.agree('case', 4) AS case4, pg_temp.agree('request', 1) AS r1;
-- Fin learns postgres: a new candidate for case 4 (the skill index follows)
SELECT swarm.update_agent(7, skills => 'postgres:5, linux:4');
SELECT pg_temp.agree('case', 4) AS case4;
-- Cal forgets postgres and replication: gone from case 4, still in pg-emea
SELECT swarm.update_agent(4, skills => 'linux:2');
SELECT pg_temp.agree('case', 4) AS case4, pg_temp.agree('request', 1) AS r1;
-- a new agent, and a new group member
SELECT swarm.add_agent('u8', 'Gia', 'postgres:4, replication:4', 'emea') AS gia;
SELECT swarm.add_group_member('pg-emea', 8);
SELECT pg_temp.agree('case', 4) AS case4, pg_temp.agree('request', 1) AS r1;
-- experience earned (through the API that resolving calls)
SELECT swarm.credit_experience(5, 'postgres:3, replication:2');
SELECT pg_temp.agree('case', 4) AS case4;
-- Dan takes cases up to his capacity: no longer a candidate owner
SELECT swarm.update_agent(5, capacity => 0);
SELECT pg_temp.agree('case', 4) AS case4;

-- Changes in plain SQL, the triggers see them too ------------------------------------
UPDATE swarm.agents SET presence = 'away' WHERE agent_id = 3;
SELECT pg_temp.agree('case', 4) AS case4;
DELETE FROM swarm.group_members WHERE group_id = 1 AND agent_id = 8;
SELECT pg_temp.agree('request', 1) AS r1;
DELETE FROM swarm.agent_experience WHERE agent_id = 2;
SELECT pg_temp.agree('case', 4) AS case4;
-- an agent deleted (one with no history)
DELETE FROM swarm.agents WHERE agent_id = 8;
SELECT pg_temp.agree('case', 4) AS case4;
-- with session_replication_role = replica (logical replication, restores)
SET session_replication_role = replica;
UPDATE swarm.agents SET open_cases = 7 WHERE agent_id = 2;
RESET session_replication_role;
SELECT pg_temp.agree('case', 4) AS case4;
UPDATE swarm.agents SET open_cases = 0 WHERE agent_id = 2;

-- Uncommitted changes: seen by their own transaction, undone by a rollback -----------
BEGIN;
SELECT swarm.set_presence(7, 'offline');
SELECT pg_temp.agree('case', 4) AS case4_in_transaction;
ROLLBACK;
SELECT pg_temp.agree('case', 4) AS case4_after_rollback;

BEGIN;
SELECT pg_temp.agree('case', 4) AS case4_before;
SAVEPOINT s;
UPDATE swarm.agents SET skills = '' WHERE agent_id = 2;
SELECT pg_temp.agree('case', 4) AS case4_in_savepoint;
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.agree('case', 4) AS case4_after_savepoint;
COMMIT;

-- A transaction that changed a routing row cannot be prepared
BEGIN;
UPDATE swarm.agents SET name = 'Ann B.' WHERE agent_id = 2;
PREPARE TRANSACTION 'swarm_routing_cache';
SELECT name FROM swarm.agents WHERE agent_id = 2;

-- REPEATABLE READ reads the tables (its snapshot), and agrees -------------------------
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.agree('case', 4) AS case4_repeatable_read;
COMMIT;

-- A change to a table's definition reloads the cache ----------------------------------
ALTER TABLE swarm.agents ALTER COLUMN region SET STATISTICS 100;
SELECT pg_temp.agree('case', 4) AS case4_after_ddl;

-- Regions too long to intern (63 bytes or more) are compared as text ----------------
SELECT swarm.add_agent('u9', 'Lou', 'postgres:3', repeat('far-away-', 8)) AS lou,
       swarm.add_agent('u10', 'Max', 'postgres:2', repeat('far-away-', 8)) AS max;
SELECT swarm.open_case('T-9', 'far away', 'P3', 'postgres:3', 'cust9', repeat('far-away-', 8)) AS far_case;
SELECT pg_temp.agree('case', 5) AS far_case;

-- Everything, once more --------------------------------------------------------------
SELECT * FROM pg_temp.rankings ORDER BY what, id;
SELECT count(*) AS rankings, count(*) FILTER (WHERE ranking LIKE 'DIFFER%') AS differ FROM pg_temp.rankings;

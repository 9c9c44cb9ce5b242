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
SELECT preloaded, loaded FROM swarm.routing_cache_state();

-- what the cache did since the last look (counts can include a reload after
-- an autovacuum, so the checks are booleans)
CREATE TEMP TABLE cache_seen AS SELECT calls, loads, rows_read, table_reads FROM swarm.routing_cache_state();
CREATE FUNCTION pg_temp.cache_did(OUT served boolean, OUT loaded boolean, OUT reread boolean, OUT tables boolean)
LANGUAGE sql AS $$
    WITH n AS (SELECT calls, loads, rows_read, table_reads FROM swarm.routing_cache_state()),
         o AS (DELETE FROM cache_seen RETURNING *),
         i AS (INSERT INTO cache_seen SELECT * FROM n)
    SELECT n.calls > o.calls, n.loads > o.loads, n.rows_read > o.rows_read, n.table_reads > o.table_reads
      FROM n, o
$$;

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
-- served from the cache (loaded on the first call), and from the tables with it off
SELECT * FROM pg_temp.cache_did();
SELECT loaded, agents FROM swarm.routing_cache_state();

-- Committed changes through the API ----------------------------------------------
-- Ann goes offline: gone from every ranking; back online: back
SELECT * FROM pg_temp.cache_did();
SELECT swarm.set_presence(2, 'offline');
SELECT pg_temp.agree('case', 4) AS case4, pg_temp.agree('request', 1) AS r1;
-- the change was read as one row, not by a reload
SELECT served, reread FROM pg_temp.cache_did();
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
SELECT * FROM pg_temp.cache_did();
ALTER TABLE swarm.agents ALTER COLUMN region SET STATISTICS 100;
SELECT pg_temp.agree('case', 4) AS case4_after_ddl;
SELECT served, loaded FROM pg_temp.cache_did();

-- A disabled cache trigger: routing reads the tables until it is enabled again ------
ALTER TABLE swarm.agents DISABLE TRIGGER agents_routing_cache;
UPDATE swarm.agents SET presence = 'offline' WHERE agent_id = 6;
SELECT pg_temp.agree('case', 4) AS case4_trigger_disabled;
SELECT served, tables FROM pg_temp.cache_did();
ALTER TABLE swarm.agents ENABLE ALWAYS TRIGGER agents_routing_cache;
SELECT pg_temp.agree('case', 4) AS case4_trigger_enabled;
SELECT served, loaded FROM pg_temp.cache_did();
UPDATE swarm.agents SET presence = 'online' WHERE agent_id = 6;

-- Privileges and row-level security are the caller's, as when reading the tables ----
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_swarm_router;
RESET client_min_messages;
CREATE ROLE regress_swarm_router;
GRANT USAGE ON SCHEMA swarm TO regress_swarm_router;
GRANT SELECT ON swarm.cases, swarm.collab_requests, swarm.participants, swarm.request_declines,
                swarm.skill_groups, swarm.routing_weights, swarm.routing_weight_overrides,
                swarm.calendars TO regress_swarm_router;
SET ROLE regress_swarm_router;
SELECT agent_id FROM swarm.route_case(4, 1);
RESET ROLE;
GRANT SELECT ON swarm.agents, swarm.agent_experience, swarm.group_members TO regress_swarm_router;
ALTER TABLE swarm.agents ENABLE ROW LEVEL SECURITY;
CREATE POLICY not_ann ON swarm.agents FOR SELECT TO regress_swarm_router USING (agent_id <> 2);
SET ROLE regress_swarm_router;
SELECT array_agg(agent_id ORDER BY score DESC, agent_id) AS without_ann FROM swarm.route_case(4, 10);
RESET ROLE;
SELECT array_agg(agent_id ORDER BY score DESC, agent_id) AS as_owner FROM swarm.route_case(4, 10);
DROP POLICY not_ann ON swarm.agents;
ALTER TABLE swarm.agents DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON ALL TABLES IN SCHEMA swarm FROM regress_swarm_router;
REVOKE USAGE ON SCHEMA swarm FROM regress_swarm_router;
DROP ROLE regress_swarm_router;

-- Regions too long to intern (63 bytes or more) are compared as text ----------------
SELECT swarm.add_agent('u9', 'Lou', 'postgres:3', repeat('far-away-', 8)) AS lou,
       swarm.add_agent('u10', 'Max', 'postgres:2', repeat('far-away-', 8)) AS max;
SELECT swarm.open_case('T-9', 'far away', 'P3', 'postgres:3', 'cust9', repeat('far-away-', 8)) AS far_case;
SELECT pg_temp.agree('case', 5) AS far_case;

-- Everything, once more --------------------------------------------------------------
SELECT * FROM pg_temp.rankings ORDER BY what, id;
SELECT count(*) AS rankings, count(*) FILTER (WHERE ranking LIKE 'DIFFER%') AS differ FROM pg_temp.rankings;

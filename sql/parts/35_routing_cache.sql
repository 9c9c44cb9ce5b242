-- The routing cache (src/agent_cache.c) ------------------------------------------
--
-- Each backend keeps what routing reads of agents, their experience and group
-- membership in memory.  These triggers note the rows a transaction changed;
-- at commit every backend learns of them through shared memory and re-reads
-- them at its next routing call.  ENABLE ALWAYS: they must fire even with
-- session_replication_role = replica (logical replication, restores).

CREATE FUNCTION swarm.routing_cache_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'swarm_routing_cache_changed'
    LANGUAGE C;
COMMENT ON FUNCTION swarm.routing_cache_changed() IS
    'trigger: notes the agent or group a changed row names, so every backend''s routing cache re-reads it once the transaction commits (arguments: kind, id column)';

CREATE TRIGGER agents_routing_cache AFTER INSERT OR UPDATE OR DELETE ON swarm.agents
    FOR EACH ROW EXECUTE FUNCTION swarm.routing_cache_changed('agent', 'agent_id');
CREATE TRIGGER agents_routing_cache_truncate AFTER TRUNCATE ON swarm.agents
    FOR EACH STATEMENT EXECUTE FUNCTION swarm.routing_cache_changed('agent', 'agent_id');
CREATE TRIGGER agent_experience_routing_cache AFTER INSERT OR UPDATE OR DELETE ON swarm.agent_experience
    FOR EACH ROW EXECUTE FUNCTION swarm.routing_cache_changed('experience', 'agent_id');
CREATE TRIGGER agent_experience_routing_cache_truncate AFTER TRUNCATE ON swarm.agent_experience
    FOR EACH STATEMENT EXECUTE FUNCTION swarm.routing_cache_changed('experience', 'agent_id');
CREATE TRIGGER group_members_routing_cache AFTER INSERT OR UPDATE OR DELETE ON swarm.group_members
    FOR EACH ROW EXECUTE FUNCTION swarm.routing_cache_changed('group', 'group_id');
CREATE TRIGGER group_members_routing_cache_truncate AFTER TRUNCATE ON swarm.group_members
    FOR EACH STATEMENT EXECUTE FUNCTION swarm.routing_cache_changed('group', 'group_id');

ALTER TABLE swarm.agents ENABLE ALWAYS TRIGGER agents_routing_cache;
ALTER TABLE swarm.agents ENABLE ALWAYS TRIGGER agents_routing_cache_truncate;
ALTER TABLE swarm.agent_experience ENABLE ALWAYS TRIGGER agent_experience_routing_cache;
ALTER TABLE swarm.agent_experience ENABLE ALWAYS TRIGGER agent_experience_routing_cache_truncate;
ALTER TABLE swarm.group_members ENABLE ALWAYS TRIGGER group_members_routing_cache;
ALTER TABLE swarm.group_members ENABLE ALWAYS TRIGGER group_members_routing_cache_truncate;

CREATE FUNCTION swarm.routing_cache_state(OUT preloaded boolean, OUT loaded boolean, OUT agents integer,
                                          OUT calls bigint, OUT loads bigint, OUT rows_read bigint,
                                          OUT table_reads bigint)
    AS 'MODULE_PATHNAME', 'swarm_routing_cache_state'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.routing_cache_state() IS
    'this session''s routing cache: whether the ring exists (preloaded), whether the cache is loaded, the agents it holds, and since the session began: routing calls served from it, full loads, agents and groups re-read one by one, calls that read the tables instead';

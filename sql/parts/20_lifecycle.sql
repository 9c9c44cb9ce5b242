
-- ---------------------------------------------------------------------------
-- Lifecycle API.  Every function validates its input, locks what it changes,
-- records an event and sends NOTIFY swarm_events.  Errors change nothing.
--
-- Lock order, to stay free of deadlocks: case, then its requests (by id),
-- then agents.  Row locks are FOR NO KEY UPDATE, which does not block the
-- foreign-key checks of concurrent inserts that reference the row.
-- ---------------------------------------------------------------------------

-- Notifications -----------------------------------------------------------------
-- PostgreSQL commits one notifying transaction at a time; with a NOTIFY in
-- every API call that serialises concurrent calls.  The event relay worker
-- (src/relay.c) sends the notifications of many transactions in one of its
-- own; without it, notify_event sends them itself, as pg_notify does.

CREATE FUNCTION swarm.notify_event(channel text, payload text)
RETURNS void
    AS 'MODULE_PATHNAME', 'swarm_notify_event'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION swarm.notify_event(text, text) IS
    'internal: NOTIFY channel with payload when the transaction commits, sent by the event relay worker when it runs (payloads must be unique: the relay sends many transactions'' notifications in one, where duplicates merge)';

CREATE FUNCTION swarm.event_relay_state(OUT running boolean, OUT pid integer, OUT datid oid,
                                        OUT relayed bigint, OUT batches bigint, OUT direct bigint,
                                        OUT pending_bytes bigint, OUT buffer_bytes bigint,
                                        OUT last_batch timestamptz)
RETURNS record
    AS 'MODULE_PATHNAME', 'swarm_event_relay_status'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.event_relay_state() IS
    'internal: the event relay''s shared state (see swarm.event_relay_status)';

CREATE VIEW swarm.event_relay_status AS
    SELECT s.running, s.pid, d.datname AS database, s.relayed, s.batches, s.direct,
           s.pending_bytes, s.buffer_bytes, s.last_batch
      FROM swarm.event_relay_state() AS s LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.datid;
COMMENT ON VIEW swarm.event_relay_status IS
    'the event relay worker: whether it runs, its pid and database, notifications relayed (in how many transactions), transactions that notified by themselves, bytes waiting, ring size, last send';

-- Internal helpers ------------------------------------------------------------

CREATE FUNCTION swarm.record_event(kind text, case_id bigint, request_id bigint, agent_id bigint,
                                   detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
    new_at timestamptz;
BEGIN
    INSERT INTO swarm.events (kind, case_id, request_id, agent_id, detail)
    VALUES (record_event.kind, record_event.case_id, record_event.request_id, record_event.agent_id,
            coalesce(record_event.detail, '{}'))
    RETURNING events.event_id, events.at INTO new_id, new_at;

    PERFORM swarm.notify_event('swarm_events', json_build_object(
        'kind', record_event.kind, 'event_id', new_id, 'case_id', record_event.case_id,
        'request_id', record_event.request_id, 'agent_id', record_event.agent_id, 'at', new_at)::text);
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.record_event(text, bigint, bigint, bigint, jsonb) IS
    'internal: append an event to swarm.events and NOTIFY swarm_events with {kind, event_id, case_id, request_id, agent_id, at}';

CREATE FUNCTION swarm.require(value anyelement, what text)
RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION swarm.require(anyelement, text) IS 'internal: returns value, or raises 22004 naming the argument when it is null';

CREATE FUNCTION swarm.require_text(value text, what text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(value) = '' THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION swarm.require_text(text, text) IS 'internal: returns value, or raises when it is null (22004) or blank (22023)';

CREATE FUNCTION swarm.lock_case(case_id bigint)
RETURNS swarm.cases
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c swarm.cases;
BEGIN
    SELECT * INTO c FROM swarm.cases AS t
     WHERE t.case_id = swarm.require(lock_case.case_id, 'case_id')
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % does not exist', lock_case.case_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION swarm.lock_case(bigint) IS 'internal: the case row, locked for update; raises 42704 when there is none';

CREATE FUNCTION swarm.lock_request(request_id bigint)
RETURNS swarm.collab_requests
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
BEGIN
    SELECT * INTO r FROM swarm.collab_requests AS t
     WHERE t.request_id = swarm.require(lock_request.request_id, 'request_id')
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'request % does not exist', lock_request.request_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION swarm.lock_request(bigint) IS 'internal: the request row, locked for update; raises 42704 when there is none';

CREATE FUNCTION swarm.lock_agent(agent_id bigint, what text DEFAULT 'agent')
RETURNS swarm.agents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a swarm.agents;
BEGIN
    SELECT * INTO a FROM swarm.agents AS t
     WHERE t.agent_id = swarm.require(lock_agent.agent_id, what)
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % does not exist', lock_agent.agent_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION swarm.lock_agent(bigint, text) IS 'internal: the agent row, locked for update; raises 42704 when there is none';

CREATE FUNCTION swarm.require_active(a swarm.agents)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT a.active THEN
        RAISE EXCEPTION 'agent % is not active', a.agent_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Reactivate the agent with swarm.update_agent(agent, active => true).';
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.require_active(swarm.agents) IS 'internal: raises 55000 when the agent is not active';

CREATE FUNCTION swarm.require_case_capacity(a swarm.agents)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF a.open_cases >= a.capacity THEN
        RAISE EXCEPTION 'agent % is at capacity', a.agent_id
            USING ERRCODE = 'configuration_limit_exceeded',
                  DETAIL = format('Open or pending cases owned: %s; capacity: %s.', a.open_cases, a.capacity);
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.require_case_capacity(swarm.agents) IS
    'internal: raises 53400 when the agent already owns as many open or pending cases as its capacity';

CREATE FUNCTION swarm.lock_agents(agent_ids bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM NULL FROM swarm.agents AS t WHERE t.agent_id = ANY (agent_ids) ORDER BY t.agent_id FOR NO KEY UPDATE;
END
$$;
COMMENT ON FUNCTION swarm.lock_agents(bigint[]) IS
    'internal: locks several agents in agent_id order, so two transactions never wait on each other in a cycle';

CREATE FUNCTION swarm.add_load(agent_id bigint, cases integer, helps integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE swarm.agents AS t
       SET open_cases = t.open_cases + add_load.cases, open_helps = t.open_helps + add_load.helps
     WHERE t.agent_id = add_load.agent_id;
END
$$;
COMMENT ON FUNCTION swarm.add_load(bigint, integer, integer) IS
    'internal: moves an agent''s open_cases and open_helps counters (its UPDATE locks the row; callers that change several agents lock them first with lock_agents)';

CREATE FUNCTION swarm.require_state(object text, id bigint, state anyelement, allowed anyarray, doing text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT state = ANY (allowed) THEN
        RAISE EXCEPTION 'cannot % % %: it is %', doing, object, id, state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The %s must be %s.', object, array_to_string(allowed, ' or '));
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.require_state(text, bigint, anyelement, anyarray, text) IS
    'internal: raises 55000 naming the case or request and its state when the state is not one of allowed';

CREATE FUNCTION swarm.require_timezone(name text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := swarm.canonical_timezone(name);
BEGIN
    IF canonical IS NULL THEN
        RAISE EXCEPTION 'time zone "%" not recognized', name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use an IANA time zone name such as Europe/Berlin or America/New_York.';
    END IF;
    RETURN canonical;
END
$$;
COMMENT ON FUNCTION swarm.require_timezone(text) IS
    'internal: the canonical spelling of a time zone name; raises 22023 when it is not accepted';

-- Agents ----------------------------------------------------------------------

CREATE FUNCTION swarm.add_agent(external_ref text, name text, skills swarm.skillset,
                                region text DEFAULT NULL, timezone text DEFAULT 'UTC',
                                capacity integer DEFAULT 8)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM swarm.require_text(external_ref, 'external_ref');
    PERFORM swarm.require_text(name, 'name');
    PERFORM swarm.require(skills, 'skills');
    timezone := swarm.require_timezone(swarm.require_text(timezone, 'timezone'));
    IF swarm.require(capacity, 'capacity') < 0 THEN
        RAISE EXCEPTION 'capacity must not be negative: %', capacity USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM swarm.agents AS a WHERE a.external_ref = add_agent.external_ref) THEN
        RAISE EXCEPTION 'agent with external_ref "%" already exists', external_ref USING ERRCODE = 'unique_violation';
    END IF;

    INSERT INTO swarm.agents (external_ref, name, skills, region, timezone, capacity)
    VALUES (add_agent.external_ref, add_agent.name, add_agent.skills, add_agent.region,
            add_agent.timezone, add_agent.capacity)
    RETURNING agent_id INTO new_id;

    PERFORM swarm.record_event('agent_added', NULL, NULL, new_id,
        jsonb_build_object('external_ref', external_ref, 'skills', skills::text, 'region', region));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.add_agent(text, text, swarm.skillset, text, text, integer) IS
    'adds an agent (the helpdesk user external_ref) with skills, region, IANA time zone and case capacity; returns agent_id';

CREATE FUNCTION swarm.update_agent(agent bigint, name text DEFAULT NULL, skills swarm.skillset DEFAULT NULL,
                                   region text DEFAULT NULL, timezone text DEFAULT NULL,
                                   capacity integer DEFAULT NULL, help_capacity integer DEFAULT NULL,
                                   active boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    a swarm.agents := swarm.lock_agent(agent);
    changes jsonb;
BEGIN
    IF name IS NOT NULL THEN PERFORM swarm.require_text(name, 'name'); END IF;
    IF timezone IS NOT NULL THEN
        timezone := swarm.require_timezone(timezone);
    END IF;
    IF capacity < 0 OR help_capacity < 0 THEN
        RAISE EXCEPTION 'capacity must not be negative: %', least(capacity, help_capacity)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    changes := jsonb_strip_nulls(jsonb_build_object(
        'name', name, 'skills', skills::text, 'region', region, 'timezone', timezone,
        'capacity', capacity, 'help_capacity', help_capacity, 'active', active));
    IF changes = '{}' THEN
        RETURN;
    END IF;

    UPDATE swarm.agents AS t
       SET name = coalesce(update_agent.name, t.name),
           skills = coalesce(update_agent.skills, t.skills),
           region = coalesce(update_agent.region, t.region),
           timezone = coalesce(update_agent.timezone, t.timezone),
           capacity = coalesce(update_agent.capacity, t.capacity),
           help_capacity = coalesce(update_agent.help_capacity, t.help_capacity),
           active = coalesce(update_agent.active, t.active)
     WHERE t.agent_id = a.agent_id;

    PERFORM swarm.record_event('agent_updated', NULL, NULL, a.agent_id, changes);
END
$$;
COMMENT ON FUNCTION swarm.update_agent(bigint, text, swarm.skillset, text, text, integer, integer, boolean) IS
    'changes an agent''s name, skills, region, time zone, capacities or active flag; NULL leaves a field as it is';

CREATE FUNCTION swarm.set_presence(agent bigint, presence text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    a swarm.agents := swarm.lock_agent(agent);
    p swarm.presence;
BEGIN
    IF swarm.require(presence, 'presence') <> ALL (enum_range(NULL::swarm.presence)::text[]) THEN
        RAISE EXCEPTION 'invalid presence "%" for agent %', presence, a.agent_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Presence is one of online, away, offline.';
    END IF;
    p := presence::swarm.presence;
    IF p = a.presence THEN
        RETURN;
    END IF;
    UPDATE swarm.agents AS t SET presence = p WHERE t.agent_id = a.agent_id;
    PERFORM swarm.record_event('presence_changed', NULL, NULL, a.agent_id,
        jsonb_build_object('from', a.presence, 'to', p));
END
$$;
COMMENT ON FUNCTION swarm.set_presence(bigint, text) IS 'sets an agent''s presence: online, away or offline';

-- Specialty groups ------------------------------------------------------------

CREATE FUNCTION swarm.add_group(name text, skills swarm.skillset, scope text DEFAULT 'regional',
                                region text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM swarm.require_text(name, 'name');
    PERFORM swarm.require(skills, 'skills');
    IF swarm.require(scope, 'scope') <> ALL (enum_range(NULL::swarm.group_scope)::text[]) THEN
        RAISE EXCEPTION 'invalid scope "%" for group "%"', scope, name
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Scope is regional or global.';
    END IF;
    IF scope = 'global' AND region IS NOT NULL THEN
        RAISE EXCEPTION 'global group "%" cannot have a region', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A global group serves every region (follow the sun).';
    END IF;
    IF EXISTS (SELECT 1 FROM swarm.skill_groups AS g WHERE g.name = add_group.name) THEN
        RAISE EXCEPTION 'group "%" already exists', name USING ERRCODE = 'unique_violation';
    END IF;

    INSERT INTO swarm.skill_groups (name, skills, scope, region)
    VALUES (add_group.name, add_group.skills, add_group.scope::swarm.group_scope, add_group.region)
    RETURNING group_id INTO new_id;

    PERFORM swarm.record_event('group_added', NULL, NULL, NULL,
        jsonb_build_object('group_id', new_id, 'name', name, 'skills', skills::text,
                           'scope', scope, 'region', region));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.add_group(text, swarm.skillset, text, text) IS
    'adds a specialty group with the skills it covers, scope regional or global, and a region for regional groups; returns group_id';

CREATE FUNCTION swarm.group_id(group_name text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    SELECT g.group_id INTO id FROM swarm.skill_groups AS g
     WHERE g.name = swarm.require(group_name, 'group_name');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "%" does not exist', group_name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION swarm.group_id(text) IS 'the id of the group with that name; raises 42704 when there is none';

CREATE FUNCTION swarm.add_group_member(group_name text, agent bigint, lead boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    gid bigint := swarm.group_id(group_name);
    a swarm.agents := swarm.lock_agent(agent);
BEGIN
    INSERT INTO swarm.group_members AS m (group_id, agent_id, lead)
    VALUES (gid, a.agent_id, swarm.require(add_group_member.lead, 'lead'))
    ON CONFLICT (group_id, agent_id) DO UPDATE SET lead = excluded.lead;

    PERFORM swarm.record_event('group_member_added', NULL, NULL, a.agent_id,
        jsonb_build_object('group_id', gid, 'group', group_name, 'lead', lead));
END
$$;
COMMENT ON FUNCTION swarm.add_group_member(text, bigint, boolean) IS
    'adds an agent to a specialty group (or changes its lead flag when it is a member already)';

CREATE FUNCTION swarm.remove_group_member(group_name text, agent bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    gid bigint := swarm.group_id(group_name);
BEGIN
    DELETE FROM swarm.group_members AS m
     WHERE m.group_id = gid AND m.agent_id = swarm.require(agent, 'agent');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % is not a member of group "%"', agent, group_name USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM swarm.record_event('group_member_removed', NULL, NULL, agent,
        jsonb_build_object('group_id', gid, 'group', group_name));
END
$$;
COMMENT ON FUNCTION swarm.remove_group_member(text, bigint) IS 'removes an agent from a specialty group';

-- Cases -------------------------------------------------------------------------

CREATE FUNCTION swarm.open_case(external_ref text, subject text, priority swarm.priority, needed swarm.skillset,
                                customer_ref text DEFAULT NULL, region text DEFAULT NULL, customer_tier text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM swarm.require_text(external_ref, 'external_ref');
    PERFORM swarm.require_text(subject, 'subject');
    PERFORM swarm.require(priority, 'priority');
    PERFORM swarm.require(needed, 'needed');
    IF EXISTS (SELECT 1 FROM swarm.cases AS c WHERE c.external_ref = open_case.external_ref) THEN
        RAISE EXCEPTION 'case with external_ref "%" already exists', external_ref USING ERRCODE = 'unique_violation';
    END IF;

    IF customer_tier = '' THEN
        RAISE EXCEPTION 'customer_tier must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO swarm.cases (external_ref, subject, customer_ref, priority, needed, region, customer_tier)
    VALUES (open_case.external_ref, open_case.subject, open_case.customer_ref, open_case.priority,
            open_case.needed, open_case.region, open_case.customer_tier)
    RETURNING case_id INTO new_id;
    PERFORM swarm.sla_refresh_case(new_id);

    PERFORM swarm.record_event('case_opened', new_id, NULL, NULL,
        jsonb_build_object('external_ref', external_ref, 'priority', priority, 'needed', needed::text,
                           'customer_ref', customer_ref, 'region', region, 'customer_tier', customer_tier));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.open_case(text, text, swarm.priority, swarm.skillset, text, text, text) IS
    'opens a case (state new, no owner yet) for the helpdesk ticket external_ref, with its SLA due times; returns case_id';

CREATE FUNCTION swarm.give_case(c swarm.cases, a swarm.agents, detail jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE swarm.cases AS t SET owner_id = a.agent_id, state = 'open' WHERE t.case_id = c.case_id;
    PERFORM swarm.add_load(a.agent_id, 1, 0);
    INSERT INTO swarm.participants (case_id, agent_id, role) VALUES (c.case_id, a.agent_id, 'owner')
    ON CONFLICT ON CONSTRAINT participants_pkey DO UPDATE SET left_at = NULL;
    PERFORM swarm.record_event('case_assigned', c.case_id, NULL, a.agent_id, detail);
END
$$;
COMMENT ON FUNCTION swarm.give_case(swarm.cases, swarm.agents, jsonb) IS
    'internal: makes a locked, checked agent the owner of a locked new case';

CREATE FUNCTION swarm.require_unowned(c swarm.cases)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF c.state <> 'new' THEN
        RAISE EXCEPTION 'case % already has an owner', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The case is %s and owned by agent %s.', c.state, c.owner_id),
                  HINT = 'Change an owner with swarm.transfer_case().';
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.require_unowned(swarm.cases) IS 'internal: raises 55000 when the case already has an owner';

CREATE FUNCTION swarm.assign_case(case_id bigint, agent bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    a swarm.agents;
BEGIN
    PERFORM swarm.require_unowned(c);
    a := swarm.lock_agent(agent);
    PERFORM swarm.require_active(a);
    PERFORM swarm.require_case_capacity(a);
    PERFORM swarm.give_case(c, a, '{}');
END
$$;
COMMENT ON FUNCTION swarm.assign_case(bigint, bigint) IS 'gives a new (unowned) case its owner; the case becomes open';

CREATE FUNCTION swarm.transfer_case(case_id bigint, to_agent bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    a swarm.agents;
BEGIN
    PERFORM swarm.require_text(reason, 'reason');
    IF c.state = 'new' THEN
        RAISE EXCEPTION 'cannot transfer case %: it has no owner', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Give a new case its first owner with swarm.assign_case().';
    END IF;
    PERFORM swarm.require_state('case', c.case_id, c.state, '{open,pending}'::swarm.case_state[], 'transfer');
    PERFORM swarm.lock_agents(ARRAY[c.owner_id, to_agent]);
    a := swarm.lock_agent(to_agent, 'to_agent');
    IF a.agent_id = c.owner_id THEN
        RAISE EXCEPTION 'agent % already owns case %', a.agent_id, c.case_id USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM swarm.require_active(a);
    PERFORM swarm.require_case_capacity(a);
    IF EXISTS (SELECT 1 FROM swarm.collab_requests AS t
                WHERE t.case_id = c.case_id AND t.helper_id = a.agent_id AND t.state = 'accepted') THEN
        RAISE EXCEPTION 'agent % is helping on case % and cannot become its owner', a.agent_id, c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Resolve or cancel the agent''s accepted request first.';
    END IF;

    UPDATE swarm.cases AS t SET owner_id = a.agent_id, handoffs = t.handoffs + 1 WHERE t.case_id = c.case_id;
    PERFORM swarm.add_load(c.owner_id, -1, 0), swarm.add_load(a.agent_id, 1, 0);
    UPDATE swarm.participants AS p SET left_at = now()
     WHERE p.case_id = c.case_id AND p.agent_id = c.owner_id AND p.role = 'owner';
    INSERT INTO swarm.participants (case_id, agent_id, role) VALUES (c.case_id, a.agent_id, 'owner')
    ON CONFLICT ON CONSTRAINT participants_pkey DO UPDATE SET left_at = NULL;

    PERFORM swarm.record_event('case_transferred', c.case_id, NULL, a.agent_id,
        jsonb_build_object('from', c.owner_id, 'to', a.agent_id, 'reason', reason));
END
$$;
COMMENT ON FUNCTION swarm.transfer_case(bigint, bigint, text) IS
    'moves an open or pending case to another owner, with a reason; the only way an owner changes, counted as a handoff';

CREATE FUNCTION swarm.record_response(case_id bigint, at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    PERFORM swarm.require(at, 'at');
    PERFORM swarm.require_state('case', c.case_id, c.state, '{new,open,pending}'::swarm.case_state[], 'respond to');
    IF at < c.opened_at THEN
        RAISE EXCEPTION 'response time % is before case % opened', at, c.case_id
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The case opened at %s.', c.opened_at);
    END IF;
    IF c.first_response_at IS NOT NULL THEN
        RETURN c.first_response_at;
    END IF;
    UPDATE swarm.cases AS t SET first_response_at = record_response.at WHERE t.case_id = c.case_id;
    PERFORM swarm.record_event('case_responded', c.case_id, NULL, c.owner_id, jsonb_build_object('at', at));
    RETURN at;
END
$$;
COMMENT ON FUNCTION swarm.record_response(bigint, timestamptz) IS
    'records the first response to the customer (once; later calls return the first time)';

CREATE FUNCTION swarm.resolve_case(case_id bigint, kb_ref text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    r swarm.collab_requests;
    helpers bigint[] := '{}';
BEGIN
    IF c.state = 'new' THEN
        RAISE EXCEPTION 'cannot resolve case %: it has no owner', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Assign the case first with swarm.assign_case().';
    END IF;
    PERFORM swarm.require_state('case', c.case_id, c.state, '{open,pending}'::swarm.case_state[], 'resolve');

    -- Requests still waiting for help are cancelled; help under way ends with the case.
    FOR r IN SELECT * FROM swarm.collab_requests AS t
              WHERE t.case_id = c.case_id AND t.state IN ('open', 'offered', 'accepted')
              ORDER BY t.request_id FOR NO KEY UPDATE
    LOOP
        IF r.state = 'accepted' THEN
            UPDATE swarm.collab_requests AS t
               SET state = 'resolved', resolved_at = now(), summary = coalesce(t.summary, 'resolved with the case')
             WHERE t.request_id = r.request_id;
            PERFORM swarm.record_event('request_resolved', c.case_id, r.request_id, r.helper_id,
                jsonb_build_object('by', 'case_resolved'));
            PERFORM swarm.credit_experience(r.helper_id, r.needed);
            helpers := helpers || r.helper_id;
        ELSE
            UPDATE swarm.collab_requests AS t
               SET state = 'cancelled', cancelled_at = now(), offered_to = NULL, offered_at = NULL,
                   cancel_reason = 'case resolved'
             WHERE t.request_id = r.request_id;
            PERFORM swarm.record_event('request_cancelled', c.case_id, r.request_id, NULL,
                jsonb_build_object('reason', 'case resolved'));
        END IF;
    END LOOP;

    PERFORM swarm.lock_agents(helpers || c.owner_id);
    PERFORM swarm.add_load(c.owner_id, -1, 0);
    PERFORM swarm.add_load(h, 0, -1) FROM unnest(helpers) AS h;
    UPDATE swarm.cases AS t
       SET state = 'resolved', resolved_at = now(), kb_ref = coalesce(resolve_case.kb_ref, t.kb_ref)
     WHERE t.case_id = c.case_id;
    -- a case resolved while waiting on the customer ends its pause; due times follow
    IF swarm.sla_end_pause(c.case_id) THEN
        PERFORM swarm.sla_refresh_case(c.case_id);
    END IF;
    PERFORM swarm.credit_experience(c.owner_id, c.needed);
    PERFORM swarm.record_event('case_resolved', c.case_id, NULL, c.owner_id,
        jsonb_build_object('kb_ref', kb_ref));
END
$$;
COMMENT ON FUNCTION swarm.resolve_case(bigint, text) IS
    'resolves an open or pending case, optionally with the knowledge article it produced; cancels requests still waiting and ends accepted ones';

CREATE FUNCTION swarm.reopen_case(case_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    IF c.state = 'closed' THEN
        RAISE EXCEPTION 'cannot reopen case %: it is closed', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A closed case is final; open a new case instead.';
    END IF;
    PERFORM swarm.require_state('case', c.case_id, c.state, '{resolved}'::swarm.case_state[], 'reopen');
    UPDATE swarm.cases AS t SET state = 'open', resolved_at = NULL WHERE t.case_id = c.case_id;
    PERFORM swarm.add_load(c.owner_id, 1, 0);
    PERFORM swarm.record_event('case_reopened', c.case_id, NULL, c.owner_id, '{}');
END
$$;
COMMENT ON FUNCTION swarm.reopen_case(bigint) IS 'reopens a resolved case; it goes back to the same owner';

CREATE FUNCTION swarm.close_case(case_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
BEGIN
    PERFORM swarm.require_state('case', c.case_id, c.state, '{resolved}'::swarm.case_state[], 'close');
    UPDATE swarm.cases AS t SET state = 'closed', closed_at = now() WHERE t.case_id = c.case_id;
    UPDATE swarm.participants AS p SET left_at = now() WHERE p.case_id = c.case_id AND p.left_at IS NULL;
    PERFORM swarm.record_event('case_closed', c.case_id, NULL, c.owner_id, '{}');
END
$$;
COMMENT ON FUNCTION swarm.close_case(bigint) IS 'closes a resolved case for good; its participants leave it';

-- Collaboration requests ----------------------------------------------------------

CREATE FUNCTION swarm.request_help(case_id bigint, group_name text DEFAULT NULL, needed swarm.skillset DEFAULT NULL,
                                   note text DEFAULT NULL, priority swarm.priority DEFAULT NULL,
                                   mode text DEFAULT 'push', preferred bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    g swarm.skill_groups;
    p swarm.agents;
    existing bigint;
    new_id bigint;
BEGIN
    IF c.state = 'new' THEN
        RAISE EXCEPTION 'cannot request help on case %: it has no owner', c.case_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Assign the case first; the owner asks for help.';
    END IF;
    PERFORM swarm.require_state('case', c.case_id, c.state, '{open}'::swarm.case_state[], 'request help on');
    IF group_name IS NULL AND needed IS NULL THEN
        RAISE EXCEPTION 'a request for help on case % needs a group or needed skills', c.case_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF group_name IS NOT NULL THEN
        SELECT * INTO g FROM swarm.skill_groups AS t WHERE t.group_id = swarm.group_id(group_name);
    END IF;
    IF coalesce(needed, g.skills) = ''::swarm.skillset AND g.group_id IS NULL THEN
        RAISE EXCEPTION 'a request for help on case % needs a group or needed skills', c.case_id
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The needed skills are empty.';
    END IF;
    IF swarm.require(mode, 'mode') <> ALL (enum_range(NULL::swarm.request_mode)::text[]) THEN
        RAISE EXCEPTION 'invalid mode "%" for a request on case %', mode, c.case_id
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Mode is push or pull.';
    END IF;
    IF preferred IS NOT NULL THEN
        SELECT * INTO p FROM swarm.agents AS t WHERE t.agent_id = preferred;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'agent % does not exist', preferred USING ERRCODE = 'undefined_object';
        END IF;
        PERFORM swarm.require_active(p);
        IF p.agent_id = c.owner_id THEN
            RAISE EXCEPTION 'agent % owns case % and cannot be its own preferred helper', p.agent_id, c.case_id
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    SELECT t.request_id INTO existing FROM swarm.collab_requests AS t
     WHERE t.case_id = c.case_id AND t.state IN ('open', 'offered', 'accepted')
       AND (t.group_id = g.group_id OR (g.group_id IS NULL AND t.group_id IS NULL AND t.needed = request_help.needed));
    IF FOUND THEN
        RAISE EXCEPTION 'case % already has an active request for this specialty', c.case_id
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Request %s is still active.', existing);
    END IF;

    INSERT INTO swarm.collab_requests (case_id, requester_id, group_id, needed, preferred_id, priority, mode, note)
    VALUES (c.case_id, c.owner_id, g.group_id, coalesce(request_help.needed, g.skills), request_help.preferred,
            coalesce(request_help.priority, c.priority), request_help.mode::swarm.request_mode, request_help.note)
    RETURNING request_id INTO new_id;
    PERFORM swarm.sla_refresh_request(new_id);

    PERFORM swarm.record_event('help_requested', c.case_id, new_id, c.owner_id,
        jsonb_build_object('group', group_name, 'needed', coalesce(needed, g.skills)::text,
                           'priority', coalesce(priority, c.priority), 'mode', mode, 'preferred', preferred));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION swarm.request_help(bigint, text, swarm.skillset, text, swarm.priority, text, bigint) IS
    'the owner of an open case asks a specialty group, or agents with the needed skills, for help; returns request_id';

CREATE FUNCTION swarm.take_request(r swarm.collab_requests, a swarm.agents, how text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF a.open_helps >= a.help_capacity THEN
        RAISE EXCEPTION 'agent % is at help capacity', a.agent_id
            USING ERRCODE = 'configuration_limit_exceeded',
                  DETAIL = format('Requests being helped on: %s; help capacity: %s.', a.open_helps, a.help_capacity);
    END IF;
    UPDATE swarm.collab_requests AS t
       SET state = 'accepted', helper_id = a.agent_id, accepted_at = now(), offered_to = NULL, offered_at = NULL
     WHERE t.request_id = r.request_id;
    PERFORM swarm.add_load(a.agent_id, 0, 1);
    INSERT INTO swarm.participants (case_id, agent_id, role) VALUES (r.case_id, a.agent_id, 'helper')
    ON CONFLICT ON CONSTRAINT participants_pkey DO NOTHING;
    PERFORM swarm.record_event('request_accepted', r.case_id, r.request_id, a.agent_id,
        jsonb_build_object('was', r.state, 'how', how));
END
$$;
COMMENT ON FUNCTION swarm.take_request(swarm.collab_requests, swarm.agents, text) IS
    'internal: a locked, checked agent becomes the helper of a locked request (how: accepted or grabbed)';

CREATE FUNCTION swarm.accept_request(request_id bigint, agent bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
    c swarm.cases;
    a swarm.agents;
BEGIN
    IF r.state = 'accepted' THEN
        RAISE EXCEPTION 'request % is already accepted by agent %', r.request_id, r.helper_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM swarm.require_state('request', r.request_id, r.state, '{open,offered}'::swarm.request_state[], 'accept');
    a := swarm.lock_agent(agent);
    SELECT * INTO c FROM swarm.cases AS t WHERE t.case_id = r.case_id;
    IF a.agent_id = c.owner_id THEN
        RAISE EXCEPTION 'agent % owns case % and cannot accept its own request %', a.agent_id, c.case_id, r.request_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.state = 'offered' AND r.offered_to <> a.agent_id THEN
        RAISE EXCEPTION 'request % is offered to agent %, not to agent %', r.request_id, r.offered_to, a.agent_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The request can be accepted by others once the offer is declined or times out.';
    END IF;
    PERFORM swarm.require_active(a);
    PERFORM swarm.take_request(r, a, 'accepted');
END
$$;
COMMENT ON FUNCTION swarm.accept_request(bigint, bigint) IS
    'an agent takes an open (or offered-to-it) request and becomes a participant of the case until it closes';

CREATE FUNCTION swarm.decline_request(request_id bigint, agent bigint, reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
    a swarm.agents;
BEGIN
    PERFORM swarm.require_state('request', r.request_id, r.state, '{open,offered}'::swarm.request_state[], 'decline');
    SELECT * INTO a FROM swarm.agents AS t WHERE t.agent_id = swarm.require(agent, 'agent');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % does not exist', agent USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT 1 FROM swarm.cases AS c WHERE c.case_id = r.case_id AND c.owner_id = a.agent_id) THEN
        RAISE EXCEPTION 'agent % owns case % and cannot decline its request %', a.agent_id, r.case_id, r.request_id
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use swarm.cancel_request() to withdraw it.';
    END IF;
    IF EXISTS (SELECT 1 FROM swarm.request_declines AS d
                WHERE d.request_id = r.request_id AND d.agent_id = a.agent_id) THEN
        RAISE EXCEPTION 'agent % has already declined request %', a.agent_id, r.request_id
            USING ERRCODE = 'unique_violation';
    END IF;

    INSERT INTO swarm.request_declines (request_id, agent_id, reason) VALUES (r.request_id, a.agent_id, reason);
    IF r.state = 'offered' AND r.offered_to = a.agent_id THEN
        UPDATE swarm.collab_requests AS t SET state = 'open', offered_to = NULL, offered_at = NULL
         WHERE t.request_id = r.request_id;
    END IF;
    PERFORM swarm.record_event('request_declined', r.case_id, r.request_id, a.agent_id,
        jsonb_build_object('reason', reason, 'was', r.state));
    -- a declined offer moves on to the next candidate (never back to a decliner)
    IF r.state = 'offered' AND r.offered_to = a.agent_id THEN
        PERFORM swarm.offer_request(r.request_id);
    END IF;
END
$$;
COMMENT ON FUNCTION swarm.decline_request(bigint, bigint, text) IS
    'an agent declines a request; an offer to that agent is withdrawn and the request is never offered to it again';

CREATE FUNCTION swarm.resolve_request(request_id bigint, summary text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
BEGIN
    PERFORM swarm.require_state('request', r.request_id, r.state, '{accepted}'::swarm.request_state[], 'resolve');
    UPDATE swarm.collab_requests AS t
       SET state = 'resolved', resolved_at = now(), summary = resolve_request.summary
     WHERE t.request_id = r.request_id;
    PERFORM swarm.add_load(r.helper_id, 0, -1);
    PERFORM swarm.credit_experience(r.helper_id, r.needed);
    PERFORM swarm.record_event('request_resolved', r.case_id, r.request_id, r.helper_id,
        jsonb_build_object('summary', summary));
END
$$;
COMMENT ON FUNCTION swarm.resolve_request(bigint, text) IS
    'marks an accepted request as resolved: the help was given (the helper stays a participant of the case)';

CREATE FUNCTION swarm.cancel_request(request_id bigint, reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
BEGIN
    PERFORM swarm.require_state('request', r.request_id, r.state, '{open,offered,accepted}'::swarm.request_state[], 'cancel');
    UPDATE swarm.collab_requests AS t
       SET state = 'cancelled', cancelled_at = now(), offered_to = NULL, offered_at = NULL,
           cancel_reason = cancel_request.reason
     WHERE t.request_id = r.request_id;
    IF r.state = 'accepted' THEN
        PERFORM swarm.add_load(r.helper_id, 0, -1);
    END IF;
    PERFORM swarm.record_event('request_cancelled', r.case_id, r.request_id, r.helper_id,
        jsonb_build_object('reason', reason, 'was', r.state));
END
$$;
COMMENT ON FUNCTION swarm.cancel_request(bigint, text) IS 'withdraws a request that is open, offered or accepted';

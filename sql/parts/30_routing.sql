
-- ---------------------------------------------------------------------------
-- Routing: the right owner for a case, the right helpers for a request.
-- Scores are computed in C (src/routing.c); see docs/routing.md.
-- ---------------------------------------------------------------------------

-- Weights ------------------------------------------------------------------------
-- The defaults live in the view; a manager's changes are kept as overrides,
-- so pg_dump carries them and a restore never collides with the defaults.

CREATE TABLE swarm.routing_weight_overrides (
    component text PRIMARY KEY
        CHECK (component IN ('match', 'load', 'availability', 'region', 'experience', 'continuity')),
    weight    double precision NOT NULL CHECK (weight >= 0 AND weight < 'infinity'),
    set_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE swarm.routing_weight_overrides IS 'routing weights a manager changed (swarm.routing_weights shows them all)';
SELECT pg_catalog.pg_extension_config_dump('swarm.routing_weight_overrides', '');

CREATE VIEW swarm.routing_weights AS
    SELECT d.component, coalesce(o.weight, d.weight) AS weight, d.weight AS default_weight
      FROM (VALUES ('match', 0.40::double precision), ('load', 0.15), ('availability', 0.10),
                   ('region', 0.10), ('experience', 0.15), ('continuity', 0.10)) AS d (component, weight)
      LEFT JOIN swarm.routing_weight_overrides AS o USING (component);
COMMENT ON VIEW swarm.routing_weights IS
    'weight of each routing score component; UPDATE it (or call swarm.set_routing_weight) to change one';

CREATE FUNCTION swarm.set_routing_weight(component text, weight double precision)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d double precision;
    current_weight double precision;
BEGIN
    SELECT w.default_weight, w.weight INTO d, current_weight FROM swarm.routing_weights AS w
     WHERE w.component = swarm.require(set_routing_weight.component, 'component');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown routing component "%"', component
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Components are match, load, availability, region, experience, continuity.';
    END IF;
    IF swarm.require(weight, 'weight') < 0 OR weight = 'infinity' OR weight = 'NaN' THEN
        RAISE EXCEPTION 'routing weight of "%" must be a finite number >= 0: %', component, weight
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF weight = current_weight THEN
        RETURN;                                   -- nothing changes, nothing is recorded
    END IF;
    IF weight = d THEN
        DELETE FROM swarm.routing_weight_overrides AS o WHERE o.component = set_routing_weight.component;
    ELSE
        INSERT INTO swarm.routing_weight_overrides AS o (component, weight)
        VALUES (set_routing_weight.component, set_routing_weight.weight)
        ON CONFLICT ON CONSTRAINT routing_weight_overrides_pkey
        DO UPDATE SET weight = excluded.weight, set_at = now();
    END IF;
    PERFORM swarm.record_event('routing_weight_set', NULL, NULL, NULL,
        jsonb_build_object('component', component, 'weight', weight));
END
$$;
COMMENT ON FUNCTION swarm.set_routing_weight(text, double precision) IS
    'sets the weight of one routing score component (its default again removes the override)';

CREATE FUNCTION swarm.update_routing_weight() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.component IS DISTINCT FROM OLD.component THEN
        RAISE EXCEPTION 'the components of swarm.routing_weights cannot be renamed'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF NEW.default_weight IS DISTINCT FROM OLD.default_weight THEN
        RAISE EXCEPTION 'the default weights of swarm.routing_weights cannot be changed'
            USING ERRCODE = 'feature_not_supported', HINT = 'Set weight instead.';
    END IF;
    PERFORM swarm.set_routing_weight(NEW.component, NEW.weight);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION swarm.update_routing_weight() IS 'trigger: UPDATE on swarm.routing_weights sets the weight';
CREATE TRIGGER routing_weights_update INSTEAD OF UPDATE ON swarm.routing_weights
    FOR EACH ROW EXECUTE FUNCTION swarm.update_routing_weight();

-- Settings, read from C so the defaults live in one place -------------------------

CREATE FUNCTION swarm.offer_timeout() RETURNS interval
    AS 'MODULE_PATHNAME', 'swarm_offer_timeout_setting'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION swarm.offer_timeout() IS 'the swarm.offer_timeout setting: how long a pushed request stays offered';

CREATE FUNCTION swarm.grab_threshold() RETURNS double precision
    AS 'MODULE_PATHNAME', 'swarm_grab_threshold_setting'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION swarm.grab_threshold() IS 'the swarm.grab_threshold setting: lowest match score to grab a request';

-- Experience -----------------------------------------------------------------------

CREATE TABLE swarm.agent_experience (
    agent_id   bigint NOT NULL REFERENCES swarm.agents,
    skill      text NOT NULL,
    credit     double precision NOT NULL CHECK (credit >= 0 AND credit < 'Infinity'),
    updated_at timestamptz NOT NULL CHECK (isfinite(updated_at)),
    PRIMARY KEY (agent_id, skill)
);
CREATE INDEX agent_experience_skill_idx ON swarm.agent_experience (skill);
COMMENT ON TABLE swarm.agent_experience IS
    'credit each agent earned per skill by resolving cases and requests; it halves every swarm.experience_half_life';
COMMENT ON COLUMN swarm.agent_experience.credit IS 'the credit as of updated_at (decay it with swarm.decayed_credit)';
SELECT pg_catalog.pg_extension_config_dump('swarm.agent_experience', '');

CREATE FUNCTION swarm.decayed_credit(credit double precision, since timestamptz, at timestamptz)
RETURNS double precision
    AS 'MODULE_PATHNAME', 'swarm_decayed_credit'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.decayed_credit(double precision, timestamptz, timestamptz) IS
    'an experience credit earned at "since", as worth at "at" (halved every swarm.experience_half_life)';

CREATE FUNCTION swarm.credit_experience(agent bigint, needed swarm.skillset)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO swarm.agent_experience AS x (agent_id, skill, credit, updated_at)
    SELECT credit_experience.agent, s.name, 1, now() FROM swarm.skills(credit_experience.needed) AS s
    ON CONFLICT ON CONSTRAINT agent_experience_pkey
    DO UPDATE SET credit = swarm.decayed_credit(x.credit, x.updated_at, now()) + 1, updated_at = now();
END
$$;
COMMENT ON FUNCTION swarm.credit_experience(bigint, swarm.skillset) IS
    'internal: credits an agent one unit of experience per needed skill of the work it resolved';

-- Scores -----------------------------------------------------------------------------

CREATE FUNCTION swarm.route_case(case_id bigint, k integer DEFAULT 5)
RETURNS TABLE (agent_id bigint, score double precision, reasons jsonb)
    AS 'MODULE_PATHNAME', 'swarm_route_case'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED ROWS 5
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION swarm.route_case(bigint, integer) IS
    'the k best eligible owners for a case, best first, with each score''s components';

CREATE FUNCTION swarm.suggest_helpers(request_id bigint, k integer DEFAULT 5)
RETURNS TABLE (agent_id bigint, score double precision, reasons jsonb)
    AS 'MODULE_PATHNAME', 'swarm_suggest_helpers'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED ROWS 5
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION swarm.suggest_helpers(bigint, integer) IS
    'the k best eligible helpers for an open or offered request, in the order its group routes (preferred helper first)';

CREATE FUNCTION swarm.routing_score(agent bigint, case_id bigint)
RETURNS double precision
    AS 'MODULE_PATHNAME', 'swarm_routing_score'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION swarm.routing_score(bigint, bigint) IS
    'how well an agent fits as owner of a case, in [0, 1]; 0 when the agent is not eligible';

CREATE FUNCTION swarm.explain_routing(agent bigint, case_id bigint)
RETURNS jsonb
    AS 'MODULE_PATHNAME', 'swarm_explain_routing'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION swarm.explain_routing(bigint, bigint) IS
    'an agent''s routing score for a case with every component, its weight, and why it is not eligible if so';

-- Owners ----------------------------------------------------------------------------

CREATE FUNCTION swarm.auto_assign(case_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    c swarm.cases := swarm.lock_case(case_id);
    a swarm.agents;
    cand record;
    k integer;
BEGIN
    PERFORM swarm.require_unowned(c);
    -- Take the best candidate whose row we can lock with capacity left; a
    -- candidate locked by a concurrent assignment is skipped in the first
    -- pass and waited for in the second, so nobody eligible is missed.
    FOREACH k IN ARRAY ARRAY[10, 2147483647] LOOP
        FOR cand IN SELECT * FROM swarm.route_case(c.case_id, k) LOOP
            IF k = 10 THEN
                SELECT * INTO a FROM swarm.agents AS t
                 WHERE t.agent_id = cand.agent_id AND t.active AND t.presence <> 'offline'
                   AND t.open_cases < t.capacity
                   FOR NO KEY UPDATE SKIP LOCKED;
            ELSE
                SELECT * INTO a FROM swarm.agents AS t
                 WHERE t.agent_id = cand.agent_id AND t.active AND t.presence <> 'offline'
                   AND t.open_cases < t.capacity
                   FOR NO KEY UPDATE;
            END IF;
            IF FOUND THEN
                PERFORM swarm.give_case(c, a, jsonb_build_object('auto', true, 'score', cand.score,
                                                                 'reasons', cand.reasons));
                RETURN a.agent_id;
            END IF;
        END LOOP;
    END LOOP;
    PERFORM swarm.record_event('no_eligible_owner', c.case_id, NULL, NULL, jsonb_build_object('needed', c.needed::text));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION swarm.auto_assign(bigint) IS
    'assigns a new case to the best eligible agent and returns it; NULL (and a no_eligible_owner event) when nobody is eligible';

-- Helpers: push --------------------------------------------------------------------

CREATE FUNCTION swarm.set_group_routing(group_name text, method text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    gid bigint := swarm.group_id(group_name);
BEGIN
    IF swarm.require(method, 'method') <> ALL (enum_range(NULL::swarm.routing_method)::text[]) THEN
        RAISE EXCEPTION 'invalid routing method "%" for group "%"', method, group_name
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Methods are skills, least_loaded, round_robin.';
    END IF;
    UPDATE swarm.skill_groups AS g SET routing = method::swarm.routing_method WHERE g.group_id = gid;
    PERFORM swarm.record_event('group_routing_set', NULL, NULL, NULL,
        jsonb_build_object('group_id', gid, 'group', group_name, 'routing', method));
END
$$;
COMMENT ON FUNCTION swarm.set_group_routing(text, text) IS
    'sets how requests to a group pick a helper: skills (routing score), least_loaded or round_robin';

CREATE FUNCTION swarm.expire_offer(r swarm.collab_requests)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the agent who let the offer time out counts as having declined
    INSERT INTO swarm.request_declines (request_id, agent_id, reason)
    VALUES (r.request_id, r.offered_to, 'offer timed out')
    ON CONFLICT ON CONSTRAINT request_declines_pkey DO NOTHING;
    UPDATE swarm.collab_requests AS t SET state = 'open', offered_to = NULL, offered_at = NULL
     WHERE t.request_id = r.request_id;
    PERFORM swarm.record_event('offer_expired', r.case_id, r.request_id, r.offered_to, '{}');
END
$$;
COMMENT ON FUNCTION swarm.expire_offer(swarm.collab_requests) IS
    'internal: withdraws a locked request''s timed-out offer; its agent counts as having declined';

CREATE FUNCTION swarm.offer_request(request_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests := swarm.lock_request(request_id);
    cand record;
BEGIN
    IF r.mode = 'pull' THEN
        RAISE EXCEPTION 'cannot offer request %: it is a pull request', r.request_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Agents take pull requests with swarm.grab_request().';
    END IF;
    IF r.state = 'offered' THEN
        IF r.offered_at + swarm.offer_timeout() > now() THEN
            RAISE EXCEPTION 'request % is offered to agent % until %', r.request_id, r.offered_to,
                            r.offered_at + swarm.offer_timeout()
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        PERFORM swarm.expire_offer(r);
        r.state := 'open';
    END IF;
    PERFORM swarm.require_state('request', r.request_id, r.state, '{open}'::swarm.request_state[], 'offer');

    SELECT * INTO cand FROM swarm.suggest_helpers(r.request_id, 1);
    IF NOT FOUND THEN
        PERFORM swarm.record_event('no_eligible_helper', r.case_id, r.request_id, NULL, '{}');
        RETURN NULL;
    END IF;
    UPDATE swarm.collab_requests AS t SET state = 'offered', offered_to = cand.agent_id, offered_at = now()
     WHERE t.request_id = r.request_id;
    UPDATE swarm.skill_groups AS g SET rr_cursor = cand.agent_id
     WHERE g.group_id = r.group_id AND g.routing = 'round_robin';
    PERFORM swarm.record_event('request_offered', r.case_id, r.request_id, cand.agent_id,
        jsonb_build_object('score', cand.score, 'reasons', cand.reasons));
    RETURN cand.agent_id;
END
$$;
COMMENT ON FUNCTION swarm.offer_request(bigint) IS
    'push: offers an open request to its best helper (an expired offer first counts as a decline); returns the agent, or NULL';

CREATE FUNCTION swarm.expire_offers(at timestamptz DEFAULT now(), max integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    n integer := 0;
BEGIN
    FOR r IN SELECT * FROM swarm.collab_requests AS t
              WHERE t.state = 'offered' AND t.offered_at + swarm.offer_timeout() <= at
              ORDER BY t.offered_at, t.request_id
              LIMIT max
              FOR NO KEY UPDATE SKIP LOCKED
    LOOP
        PERFORM swarm.expire_offer(r);
        PERFORM swarm.offer_request(r.request_id);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION swarm.expire_offers(timestamptz, integer) IS
    'moves offers older than swarm.offer_timeout on to their next candidate; returns how many it moved';

-- Helpers: pull --------------------------------------------------------------------

-- In C (src/grab.c): two statements with saved plans, the locked agent with
-- the head of its queue, then all the writes in one.  Not STRICT: a NULL
-- agent raises 22004 as in the other API functions.  jit = off: the queue
-- query's estimate (a LIMIT 1 over a selective filter) would otherwise make
-- every call compile it.  Names of swarm's objects are qualified; the pinned
-- search_path makes the saved plans independent of the caller's.
CREATE FUNCTION swarm.grab_request(agent bigint)
RETURNS bigint
    AS 'MODULE_PATHNAME', 'swarm_grab_request'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET jit = off;
COMMENT ON FUNCTION swarm.grab_request(bigint) IS
    'pull: the agent takes the most urgent open request it is qualified for (match >= swarm.grab_threshold); NULL when none fits';

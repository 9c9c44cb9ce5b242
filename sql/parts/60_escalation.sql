
-- ---------------------------------------------------------------------------
-- Escalation: a ladder of levels per request, fired at most once each by
-- swarm.escalate_due (the background worker calls it; see docs/escalation.md).
-- ---------------------------------------------------------------------------

CREATE TYPE swarm.escalation_action AS ENUM ('renotify', 'widen', 'notify_leads', 'raise_priority', 'reoffer');
COMMENT ON TYPE swarm.escalation_action IS
    'renotify: tell the target again; widen: open to a global group or every skilled agent; notify_leads; raise_priority: one step; reoffer: offer to the next candidate';

-- Custom ladders.  Where none applies, swarm.default_ladder() does.
CREATE TABLE swarm.escalation_ladder (
    rung_id     bigserial PRIMARY KEY,
    priority    swarm.priority,
    group_id    bigint REFERENCES swarm.skill_groups ON DELETE CASCADE,
    level       integer NOT NULL CHECK (level BETWEEN 1 AND 100),
    at_fraction double precision CHECK (at_fraction > 0 AND at_fraction < 'infinity'),
    after_due   interval CHECK (after_due >= interval '0'),
    actions     swarm.escalation_action[] NOT NULL CHECK (cardinality(actions) > 0),
    CHECK ((at_fraction IS NULL) <> (after_due IS NULL))
);
ALTER TABLE swarm.escalation_ladder
    ADD CONSTRAINT escalation_ladder_key UNIQUE NULLS NOT DISTINCT (priority, group_id, level);
COMMENT ON TABLE swarm.escalation_ladder IS
    'custom escalation ladders, per priority and/or group (NULL: any); the most specific ladder applies, else the default';
COMMENT ON COLUMN swarm.escalation_ladder.at_fraction IS 'fire when this share of the acceptance target''s working time has elapsed';
COMMENT ON COLUMN swarm.escalation_ladder.after_due IS 'fire this long after the acceptance due time';
SELECT pg_catalog.pg_extension_config_dump('swarm.escalation_ladder', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.escalation_ladder_rung_id_seq', '');

CREATE TABLE swarm.escalations (
    request_id   bigint NOT NULL REFERENCES swarm.collab_requests,
    level        integer NOT NULL,
    actions      swarm.escalation_action[] NOT NULL,
    due_at       timestamptz NOT NULL,
    escalated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (request_id, level)
);
CREATE INDEX escalations_at_idx ON swarm.escalations (escalated_at);
COMMENT ON TABLE swarm.escalations IS 'every escalation made: each level fires at most once per request';
COMMENT ON COLUMN swarm.escalations.due_at IS 'when the level was due to fire';
SELECT pg_catalog.pg_extension_config_dump('swarm.escalations', '');

ALTER TABLE swarm.collab_requests
    ADD COLUMN next_escalation_at timestamptz,
    ADD COLUMN next_escalation_level integer;
COMMENT ON COLUMN swarm.collab_requests.next_escalation_at IS 'when the next escalation level fires (NULL: none), kept by the API';
COMMENT ON COLUMN swarm.collab_requests.next_escalation_level IS 'the level that fires at next_escalation_at';
CREATE INDEX collab_requests_escalation_idx ON swarm.collab_requests (next_escalation_at)
    WHERE state IN ('open', 'offered');

CREATE FUNCTION swarm.default_ladder()
RETURNS TABLE (level integer, at_fraction double precision, after_due interval, actions swarm.escalation_action[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES (1, 0.75::double precision, NULL::interval, '{renotify}'::swarm.escalation_action[]),
           (2, 1.0, NULL, '{widen,notify_leads}'),
           (3, 1.5, NULL, '{raise_priority}');
$$;
COMMENT ON FUNCTION swarm.default_ladder() IS
    'the ladder used where no custom one applies: at risk (75%) renotify; breached widen and notify leads; 150% raise priority';

CREATE FUNCTION swarm.ladder_for(priority swarm.priority, group_id bigint)
RETURNS TABLE (level integer, at_fraction double precision, after_due interval, actions swarm.escalation_action[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scope record;
BEGIN
    -- the most specific ladder that has any rung: priority and group, group, priority, everything
    FOR scope IN SELECT * FROM (VALUES (ladder_for.priority, ladder_for.group_id, 1), (NULL, ladder_for.group_id, 2),
                                       (ladder_for.priority, NULL, 3), (NULL, NULL, 4)) AS s (p, g, rank)
                  ORDER BY s.rank
    LOOP
        RETURN QUERY SELECT l.level, l.at_fraction, l.after_due, l.actions FROM swarm.escalation_ladder AS l
                      WHERE l.priority IS NOT DISTINCT FROM scope.p AND l.group_id IS NOT DISTINCT FROM scope.g
                      ORDER BY l.level;
        IF FOUND THEN
            RETURN;
        END IF;
    END LOOP;
    RETURN QUERY SELECT * FROM swarm.default_ladder();
END
$$;
COMMENT ON FUNCTION swarm.ladder_for(swarm.priority, bigint) IS
    'the escalation ladder that applies to a request of that priority and group';

CREATE FUNCTION swarm.set_escalation_rung(level integer, actions text[], at_fraction double precision DEFAULT NULL,
                                          after_due interval DEFAULT NULL, priority swarm.priority DEFAULT NULL,
                                          group_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    gid bigint;
    acts swarm.escalation_action[];
    a text;
    id bigint;
BEGIN
    IF swarm.require(level, 'level') < 1 OR level > 100 THEN
        RAISE EXCEPTION 'escalation level must be between 1 and 100: %', level USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (at_fraction IS NULL) = (after_due IS NULL) THEN
        RAISE EXCEPTION 'an escalation level needs either at_fraction or after_due'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF at_fraction <= 0 OR at_fraction = 'infinity' OR at_fraction = 'NaN' OR after_due < interval '0' THEN
        RAISE EXCEPTION 'invalid trigger for escalation level %: %', level, coalesce(at_fraction::text, after_due::text)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(swarm.require(actions, 'actions')) = 0 THEN
        RAISE EXCEPTION 'escalation level % needs at least one action', level USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH a IN ARRAY actions LOOP
        IF a IS NULL OR a <> ALL (enum_range(NULL::swarm.escalation_action)::text[]) THEN
            RAISE EXCEPTION 'unknown escalation action "%"', a
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Actions are renotify, widen, notify_leads, raise_priority, reoffer.';
        END IF;
    END LOOP;
    acts := actions::swarm.escalation_action[];
    IF group_name IS NOT NULL THEN
        gid := swarm.group_id(group_name);
    END IF;
    INSERT INTO swarm.escalation_ladder AS l (priority, group_id, level, at_fraction, after_due, actions)
    VALUES (set_escalation_rung.priority, gid, set_escalation_rung.level, set_escalation_rung.at_fraction,
            set_escalation_rung.after_due, acts)
    ON CONFLICT ON CONSTRAINT escalation_ladder_key
    DO UPDATE SET at_fraction = excluded.at_fraction, after_due = excluded.after_due, actions = excluded.actions
    RETURNING l.rung_id INTO id;
    PERFORM swarm.sla_refresh_open();
    PERFORM swarm.record_event('escalation_ladder_set', NULL, NULL, NULL,
        jsonb_build_object('priority', priority, 'group', group_name, 'level', level, 'actions', actions,
                           'at_fraction', at_fraction, 'after_due', after_due));
    RETURN id;
END
$$;
COMMENT ON FUNCTION swarm.set_escalation_rung(integer, text[], double precision, interval, swarm.priority, text) IS
    'sets one level of a custom escalation ladder (for a priority and/or group, NULL meaning any)';

CREATE FUNCTION swarm.clear_escalation_ladder(priority swarm.priority DEFAULT NULL, group_name text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    gid bigint;
    n integer;
BEGIN
    IF group_name IS NOT NULL THEN
        gid := swarm.group_id(group_name);
    END IF;
    DELETE FROM swarm.escalation_ladder AS l
     WHERE l.priority IS NOT DISTINCT FROM clear_escalation_ladder.priority AND l.group_id IS NOT DISTINCT FROM gid;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM swarm.sla_refresh_open();
    RETURN n;
END
$$;
COMMENT ON FUNCTION swarm.clear_escalation_ladder(swarm.priority, text) IS
    'removes a custom ladder (the next most specific one, or the default, applies again); returns how many levels it had';

-- Scheduling ----------------------------------------------------------------------

CREATE FUNCTION swarm.wake_escalator(at timestamptz)
RETURNS void
    AS 'MODULE_PATHNAME', 'swarm_wake_escalator'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.wake_escalator(timestamptz) IS
    'internal: at commit, wakes the escalation worker if something is due before it planned to wake';

CREATE FUNCTION swarm.schedule_escalation(request_id bigint)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    p swarm.sla_policies;
    cal text;
    rung record;
    at timestamptz;
    lvl integer;
BEGIN
    SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = schedule_escalation.request_id;
    SELECT * INTO p FROM swarm.sla_policies AS t WHERE t.policy_id = r.sla_policy_id;
    IF r.state IN ('open', 'offered') AND r.accept_due IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM swarm.cases AS c WHERE c.case_id = r.case_id AND c.state = 'pending') THEN
        SELECT name INTO cal FROM swarm.calendars WHERE calendar_id = p.calendar_id;
        SELECT * INTO rung FROM swarm.ladder_for(r.priority, r.group_id) AS l
         WHERE l.level > r.escalation_level ORDER BY l.level LIMIT 1;
        IF FOUND THEN
            lvl := rung.level;
            at := CASE WHEN rung.at_fraction IS NOT NULL
                       THEN swarm.sla_deadline(r.case_id, r.created_at, p.accept * rung.at_fraction, cal)
                       ELSE r.accept_due + rung.after_due END;
        END IF;
    END IF;
    UPDATE swarm.collab_requests AS t
       SET next_escalation_at = at, next_escalation_level = CASE WHEN at IS NOT NULL THEN lvl END
     WHERE t.request_id = r.request_id;
    IF at IS NOT NULL THEN
        PERFORM swarm.wake_escalator(at);
    END IF;
    RETURN at;
END
$$;
COMMENT ON FUNCTION swarm.schedule_escalation(bigint) IS
    'internal: sets when a request''s next escalation level fires (none once accepted, without an SLA, or while its case is paused)';

-- Actions -----------------------------------------------------------------------------

CREATE FUNCTION swarm.escalation_widen(r swarm.collab_requests)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    g swarm.skill_groups;
    scope swarm.group_scope;
BEGIN
    IF r.group_id IS NULL THEN
        RETURN jsonb_build_object('widened_to', NULL);      -- open to every skilled agent already
    END IF;
    SELECT t.scope INTO scope FROM swarm.skill_groups AS t WHERE t.group_id = r.group_id;
    -- a regional group widens to the global group that fits best ...
    IF scope = 'regional' THEN
        SELECT * INTO g FROM swarm.skill_groups AS t
         WHERE t.scope = 'global' AND t.skills && r.needed
           AND NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS o
                            WHERE o.case_id = r.case_id AND o.group_id = t.group_id
                              AND o.state IN ('open', 'offered', 'accepted'))
         ORDER BY swarm.match_score(t.skills, r.needed) DESC, t.group_id
         LIMIT 1;
        IF FOUND THEN
            UPDATE swarm.collab_requests AS t SET group_id = g.group_id WHERE t.request_id = r.request_id;
            RETURN jsonb_build_object('widened_to', g.name);
        END IF;
    END IF;
    -- ... and a global one (or a regional one without a global fit) to every skilled agent
    IF r.needed <> ''::swarm.skillset
       AND NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS o
                        WHERE o.case_id = r.case_id AND o.group_id IS NULL AND o.needed = r.needed
                          AND o.state IN ('open', 'offered', 'accepted')) THEN
        UPDATE swarm.collab_requests AS t SET group_id = NULL WHERE t.request_id = r.request_id;
        RETURN jsonb_build_object('widened_to', 'every skilled agent');
    END IF;
    RETURN jsonb_build_object('widened_to', NULL);
END
$$;
COMMENT ON FUNCTION swarm.escalation_widen(swarm.collab_requests) IS
    'internal: widens a request: regional group to the best-fitting global group, else to every agent with the needed skills (never into a specialty the case already asked)';

CREATE FUNCTION swarm.escalate_request(r swarm.collab_requests, level integer, actions swarm.escalation_action[],
                                       due_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
AS $$
DECLARE
    act swarm.escalation_action;
    detail jsonb := '{}';
    at timestamptz := clock_timestamp();
    higher swarm.priority;
    fired boolean;
    widened jsonb;
    refresh boolean := false;       -- priority or group changed: the SLA policy may too
BEGIN
    INSERT INTO swarm.escalations (request_id, level, actions, due_at, escalated_at)
    VALUES (r.request_id, level, actions, due_at, at)
    ON CONFLICT ON CONSTRAINT escalations_pkey DO NOTHING;
    fired := FOUND;
    UPDATE swarm.collab_requests AS t SET escalation_level = greatest(t.escalation_level, escalate_request.level)
     WHERE t.request_id = r.request_id;
    IF NOT fired THEN
        -- this level fired before: never twice; just move the schedule on
        PERFORM swarm.schedule_escalation(r.request_id);
        RETURN false;
    END IF;

    FOREACH act IN ARRAY actions LOOP
        CASE act
            WHEN 'renotify' THEN
                detail := detail || jsonb_build_object('renotified', coalesce(
                    (SELECT name FROM swarm.skill_groups WHERE group_id = r.group_id), 'skilled agents'));
            WHEN 'widen' THEN
                widened := swarm.escalation_widen(r);
                refresh := refresh OR widened ->> 'widened_to' IS NOT NULL;
                detail := detail || widened;
            WHEN 'notify_leads' THEN
                detail := detail || jsonb_build_object('leads', coalesce(
                    (SELECT jsonb_agg(m.agent_id ORDER BY m.agent_id) FROM swarm.group_members AS m
                      WHERE m.group_id = r.group_id AND m.lead), '[]'));
            WHEN 'raise_priority' THEN
                higher := (enum_range(NULL::swarm.priority))[greatest(array_position(enum_range(NULL::swarm.priority), r.priority) - 1, 1)];
                IF higher <> r.priority THEN
                    UPDATE swarm.collab_requests AS t SET priority = higher WHERE t.request_id = r.request_id;
                    refresh := true;
                END IF;
                detail := detail || jsonb_build_object('priority', higher);
            WHEN 'reoffer' THEN
                IF r.mode = 'push' THEN
                    IF r.state = 'offered' THEN
                        INSERT INTO swarm.request_declines (request_id, agent_id, reason)
                        VALUES (r.request_id, r.offered_to, 'escalated')
                        ON CONFLICT ON CONSTRAINT request_declines_pkey DO NOTHING;
                        UPDATE swarm.collab_requests AS t SET state = 'open', offered_to = NULL, offered_at = NULL
                         WHERE t.request_id = r.request_id;
                    END IF;
                    detail := detail || jsonb_build_object('offered_to', swarm.offer_request(r.request_id));
                END IF;
        END CASE;
    END LOOP;

    -- due times change only with the priority or group; the next level is scheduled either way
    IF refresh THEN
        PERFORM swarm.sla_refresh_request(r.request_id);      -- recomputes and reschedules
    ELSE
        PERFORM swarm.schedule_escalation(r.request_id);
    END IF;
    PERFORM swarm.record_event('request_escalated', r.case_id, r.request_id, NULL,
        jsonb_build_object('level', level, 'actions', actions, 'due_at', due_at) || detail);
    PERFORM pg_notify('swarm_escalations', json_build_object(
        'request_id', r.request_id, 'case_id', r.case_id, 'level', level, 'actions', actions,
        'due_at', due_at, 'escalated_at', at)::text);
    RETURN true;
END
$$;
COMMENT ON FUNCTION swarm.escalate_request(swarm.collab_requests, integer, swarm.escalation_action[], timestamptz) IS
    'internal: fires one escalation level of a locked request (once: unique on request and level), acts, records and notifies';

CREATE FUNCTION swarm.escalate_due(now timestamptz DEFAULT clock_timestamp(), max integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    rung record;
    n integer := 0;
BEGIN
    IF swarm.require(max, 'max') <= 0 THEN
        RAISE EXCEPTION 'max must be positive: %', max USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM swarm.require(now, 'now');
    -- Claim what is due; a row locked by another sweep (or by an accept) is skipped.
    FOR r IN SELECT * FROM swarm.collab_requests AS t
              WHERE t.state IN ('open', 'offered') AND t.next_escalation_at <= escalate_due.now
              ORDER BY t.next_escalation_at, t.request_id
              LIMIT max
              FOR NO KEY UPDATE SKIP LOCKED
    LOOP
        BEGIN
            -- every level that is due by now, in order (a request may be several behind)
            LOOP
                SELECT * INTO rung FROM swarm.ladder_for(r.priority, r.group_id) AS l
                 WHERE l.level = r.next_escalation_level;
                IF NOT FOUND THEN
                    -- the ladder changed under the schedule: schedule again
                    PERFORM swarm.schedule_escalation(r.request_id);
                    SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = r.request_id;
                    SELECT * INTO rung FROM swarm.ladder_for(r.priority, r.group_id) AS l
                     WHERE l.level = r.next_escalation_level;
                    EXIT WHEN NOT FOUND OR r.next_escalation_at > escalate_due.now;
                END IF;
                IF swarm.escalate_request(r, rung.level, rung.actions, r.next_escalation_at) THEN
                    n := n + 1;
                END IF;
                SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = r.request_id;
                EXIT WHEN r.state NOT IN ('open', 'offered') OR r.next_escalation_at IS NULL
                       OR r.next_escalation_at > escalate_due.now;
            END LOOP;
        EXCEPTION WHEN others THEN
            -- one broken request must not hold up the others: log it and try it again later
            RAISE WARNING 'could not escalate request %: %', r.request_id, SQLERRM
                USING DETAIL = format('SQLSTATE %s; retried in a minute.', SQLSTATE);
            UPDATE swarm.collab_requests AS t SET next_escalation_at = clock_timestamp() + interval '1 minute'
             WHERE t.request_id = r.request_id;
        END;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION swarm.escalate_due(timestamptz, integer) IS
    'one escalation sweep: fires every level due by "now" on up to max requests (SKIP LOCKED); returns how many escalations it made';

-- The worker ------------------------------------------------------------------------

CREATE FUNCTION swarm.start_escalator()
RETURNS integer
    AS 'MODULE_PATHNAME', 'swarm_start_escalator'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION swarm.start_escalator() IS
    'starts a dynamic escalation worker for this database as the current role; returns its pid';

CREATE FUNCTION swarm.stop_escalator()
RETURNS integer
    AS 'MODULE_PATHNAME', 'swarm_stop_escalator'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION swarm.stop_escalator() IS
    'stops this database''s dynamic escalation workers; returns how many (the preloaded one obeys swarm.escalation_enabled)';

CREATE FUNCTION swarm.escalator_workers(OUT pid integer, OUT database text, OUT state text, OUT dynamic boolean,
                                        OUT started_at timestamptz, OUT last_sweep timestamptz,
                                        OUT escalations bigint, OUT next_wakeup timestamptz, OUT last_lag_ms double precision)
RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'swarm_escalator_workers'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION swarm.escalator_workers() IS 'internal: the running escalation workers, read from shared memory';

CREATE VIEW swarm.escalator_status AS SELECT * FROM swarm.escalator_workers();
COMMENT ON VIEW swarm.escalator_status IS
    'escalation workers: pid, database, state, last sweep, escalations made, next wake-up, lag (ms) of the last escalations';

REVOKE EXECUTE ON FUNCTION swarm.start_escalator() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION swarm.stop_escalator() FROM PUBLIC;

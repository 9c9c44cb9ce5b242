
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
-- The sweep's order (next_escalation_at, request_id): it reads the due rows in
-- order and stops at max, with no sort of everything that is due.
CREATE INDEX collab_requests_escalation_idx ON swarm.collab_requests (next_escalation_at, request_id)
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
LANGUAGE plpgsql STABLE ROWS 5
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The most specific ladder that has any rung: priority and group (rank 1), group (2),
    -- priority (3), everything (4); the default ladder when none has.  One query: the
    -- escalation ladders are few, and this runs for every request scheduled.
    RETURN QUERY
    WITH matching AS (
        SELECT l.level, l.at_fraction, l.after_due, l.actions,
               CASE WHEN l.priority IS NOT NULL AND l.group_id IS NOT NULL THEN 1
                    WHEN l.group_id IS NOT NULL THEN 2
                    WHEN l.priority IS NOT NULL THEN 3
                    ELSE 4 END AS rank
          FROM swarm.escalation_ladder AS l
         WHERE (l.priority IS NULL OR l.priority = ladder_for.priority)
           AND (l.group_id IS NULL OR l.group_id = ladder_for.group_id))
    SELECT m.level, m.at_fraction, m.after_due, m.actions FROM matching AS m
     WHERE m.rank = (SELECT min(b.rank) FROM matching AS b)
    UNION ALL
    SELECT d.level, d.at_fraction, d.after_due, d.actions FROM swarm.default_ladder() AS d
     WHERE NOT EXISTS (SELECT 1 FROM matching)
    ORDER BY 1;
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

-- Sweeps ------------------------------------------------------------------------------
--
-- escalate_due claims a batch of due requests (claim_due) and escalates them
-- with escalate_claimed: escalate_batch does the whole batch in a few
-- set-based statements per level, in one subtransaction; should it fail, the
-- batch is split in two and each half tried again, down to single requests,
-- which go the per-request way (escalate_one) and, failing that, are put off
-- a minute.  See "How a sweep works" in docs/escalation.md.

CREATE FUNCTION swarm.escalate_one(request_id bigint, now timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r swarm.collab_requests;
    rung record;
    n integer := 0;
BEGIN
    SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = escalate_one.request_id;
    IF NOT FOUND OR r.state NOT IN ('open', 'offered') OR NOT r.next_escalation_at <= escalate_one.now THEN
        RETURN 0;
    END IF;
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
            EXIT WHEN NOT FOUND OR r.next_escalation_at > escalate_one.now;
        END IF;
        IF swarm.escalate_request(r, rung.level, rung.actions, r.next_escalation_at) THEN
            n := n + 1;
        END IF;
        SELECT * INTO r FROM swarm.collab_requests AS t WHERE t.request_id = r.request_id;
        EXIT WHEN r.state NOT IN ('open', 'offered') OR r.next_escalation_at IS NULL
               OR r.next_escalation_at > escalate_one.now;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION swarm.escalate_one(bigint, timestamptz) IS
    'internal: fires every level of one locked request that is due by "now", one level at a time; returns how many';

CREATE FUNCTION swarm.escalate_batch(request_ids bigint[], now timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, swarm, pg_temp
SET jit = off                   -- short statements: compiling them costs more than it saves
AS $$
DECLARE
    todo bigint[] := request_ids;
    made integer := 0;
    fired integer;
    notified bigint;            -- notifications sent: two per escalation
    rounds integer := 0;
    one_by_one bigint[];        -- requests this round that go the per-request way
    due_again bigint[];         -- requests with a further level due by now
    refreshed_due bigint[];
    next_wake timestamptz;
    refresh_wake timestamptz;
    rf_ids bigint[];            -- requests whose priority or group changed: their SLA is recomputed
    rf_priorities swarm.priority[];
    rf_groups bigint[];
    rf_levels integer[];
    one bigint;
BEGIN
    -- One round fires the next level of every request of the batch that is due by now;
    -- a request several levels behind takes several rounds, one level each (levels only go up).
    WHILE cardinality(todo) > 0 LOOP
        rounds := rounds + 1;
        IF rounds > 101 THEN
            RAISE EXCEPTION 'escalation batch did not settle after % rounds', rounds - 1
                USING ERRCODE = 'internal_error';
        END IF;

        WITH req AS MATERIALIZED (
            -- the requests still due, in claim order, each read by its primary key (OFFSET 0 keeps
            -- it so: a join could scan every due request, and a burst makes that many)
            SELECT r.*, u.ord
              FROM unnest(todo) WITH ORDINALITY AS u (request_id, ord),
                   LATERAL (SELECT t.request_id, t.case_id, t.group_id, t.priority, t.needed, t.escalation_level,
                                   t.sla_policy_id, t.created_at, t.accept_due, t.next_escalation_level AS level,
                                   t.next_escalation_at AS due_at
                              FROM swarm.collab_requests AS t
                             WHERE t.request_id = u.request_id AND t.state IN ('open', 'offered')
                               AND t.next_escalation_at <= escalate_batch.now
                            OFFSET 0) AS r
        ), lad AS MATERIALIZED (
            -- the ladder of each priority and group among them (group NULL as 0: hashable)
            SELECT p.priority, coalesce(p.group_id, 0) AS grp, l.level, l.at_fraction, l.after_due, l.actions
              FROM (SELECT DISTINCT q.priority, q.group_id FROM req AS q) AS p,
                   LATERAL swarm.ladder_for(p.priority, p.group_id) AS l
        ), rung AS MATERIALIZED (
            SELECT q.*, l.actions,
                   -- what is not done here: a level no longer in the ladder (schedule again first),
                   -- reoffer (routes the request), widen twice in a level, two requests of a case
                   -- widened at once (each sees the other's group), a level that fired before
                   coalesce(l.level IS NULL OR 'reoffer' = ANY (l.actions)
                            OR cardinality(array_positions(l.actions, 'widen')) > 1
                            OR ('widen' = ANY (l.actions)
                                AND count(*) FILTER (WHERE 'widen' = ANY (l.actions)) OVER (PARTITION BY q.case_id) > 1)
                            OR f.fired IS NOT NULL, true) AS apart
              FROM req AS q
              LEFT JOIN lad AS l ON l.priority = q.priority AND l.grp = coalesce(q.group_id, 0) AND l.level = q.level
              -- probes (LIMIT 1: an index lookup per request, never a hash of the whole table)
              LEFT JOIN LATERAL (SELECT true AS fired FROM swarm.escalations AS e
                                  WHERE e.request_id = q.request_id AND e.level = q.level LIMIT 1) AS f ON true
        ), act AS MATERIALIZED (
            -- each action's effect, from the request as it was before the level (as escalate_request does)
            SELECT q.*, g.name AS group_name, p.accept, c.name AS calendar, sp.paused IS NOT NULL AS has_pauses,
                   (enum_range(NULL::swarm.priority))[greatest(array_position(enum_range(NULL::swarm.priority),
                                                                              q.priority) - 1, 1)] AS higher,
                   w.group_id AS wide_group, w.name AS wide_name,
                   -- widen: a regional group without a global fit, or a global group, to every skilled agent
                   CASE WHEN 'widen' = ANY (q.actions) AND q.group_id IS NOT NULL AND w.group_id IS NULL
                             AND q.needed <> ''::swarm.skillset
                        THEN NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS o
                                          WHERE o.case_id = q.case_id AND o.group_id IS NULL AND o.needed = q.needed
                                            AND o.state IN ('open', 'offered', 'accepted'))
                        ELSE false END AS to_all
              FROM rung AS q
              LEFT JOIN swarm.skill_groups AS g ON g.group_id = q.group_id
              LEFT JOIN swarm.sla_policies AS p ON p.policy_id = q.sla_policy_id
              LEFT JOIN swarm.calendars AS c ON c.calendar_id = p.calendar_id
              LEFT JOIN LATERAL (SELECT true AS paused FROM swarm.sla_pauses AS t
                                  WHERE t.case_id = q.case_id LIMIT 1) AS sp ON true
              LEFT JOIN LATERAL (
                  -- widen: a regional group to the global group that fits best
                  SELECT t.group_id, t.name FROM swarm.skill_groups AS t
                   WHERE 'widen' = ANY (q.actions) AND g.scope = 'regional'
                     AND t.scope = 'global' AND t.skills && q.needed
                     AND NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS o
                                      WHERE o.case_id = q.case_id AND o.group_id = t.group_id
                                        AND o.state IN ('open', 'offered', 'accepted'))
                   ORDER BY swarm.match_score(t.skills, q.needed) DESC, t.group_id
                   LIMIT 1) AS w ON true
             WHERE NOT q.apart
        ), eff AS MATERIALIZED (
            SELECT a.*, clock_timestamp() AS escalated_at,
                   CASE WHEN a.wide_group IS NOT NULL THEN a.wide_group WHEN a.to_all THEN NULL
                        ELSE a.group_id END AS new_group,
                   CASE WHEN 'raise_priority' = ANY (a.actions) THEN a.higher ELSE a.priority END AS new_priority,
                   -- priority or group changed: the SLA policy and due times may too
                   (a.wide_group IS NOT NULL OR a.to_all
                    OR ('raise_priority' = ANY (a.actions) AND a.higher <> a.priority)) AS refresh,
                   jsonb_build_object('level', a.level, 'actions', a.actions, 'due_at', a.due_at)
                   || CASE WHEN 'renotify' = ANY (a.actions)
                           THEN jsonb_build_object('renotified', coalesce(a.group_name, 'skilled agents'))
                           ELSE '{}' END
                   || CASE WHEN 'widen' = ANY (a.actions)
                           THEN jsonb_build_object('widened_to',
                                    coalesce(a.wide_name, CASE WHEN a.to_all THEN 'every skilled agent' END))
                           ELSE '{}' END
                   || CASE WHEN 'notify_leads' = ANY (a.actions)
                           THEN jsonb_build_object('leads', coalesce(
                                    (SELECT jsonb_agg(m.agent_id ORDER BY m.agent_id) FROM swarm.group_members AS m
                                      WHERE m.group_id = a.group_id AND m.lead), '[]'))
                           ELSE '{}' END
                   || CASE WHEN 'raise_priority' = ANY (a.actions)
                           THEN jsonb_build_object('priority', a.higher)
                           ELSE '{}' END AS detail
              FROM act AS a
        ), nxt AS (
            -- the next level of the requests that keep their priority and group (as schedule_escalation)
            SELECT e.request_id, greatest(e.escalation_level, e.level) AS reached, s.level AS next_level,
                   CASE WHEN s.at_fraction IS NOT NULL
                        THEN CASE WHEN e.has_pauses
                                  THEN swarm.sla_deadline(e.case_id, e.created_at, e.accept * s.at_fraction, e.calendar)
                                  ELSE swarm.business_add(e.created_at, e.accept * s.at_fraction, e.calendar) END
                        ELSE e.accept_due + s.after_due END AS next_at
              FROM eff AS e
              LEFT JOIN LATERAL (
                  SELECT l.level, l.at_fraction, l.after_due FROM lad AS l
                   WHERE l.priority = e.priority AND l.grp = coalesce(e.group_id, 0)
                     AND l.level > greatest(e.escalation_level, e.level) AND e.accept_due IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM swarm.cases AS c WHERE c.case_id = e.case_id AND c.state = 'pending')
                   ORDER BY l.level
                   LIMIT 1) AS s ON true
             WHERE NOT e.refresh
        ), esc AS (
            INSERT INTO swarm.escalations (request_id, level, actions, due_at, escalated_at)
            SELECT e.request_id, e.level, e.actions, e.due_at, e.escalated_at FROM eff AS e ORDER BY e.ord
            RETURNING escalations.request_id
        ), upd AS (
            UPDATE swarm.collab_requests AS t
               SET escalation_level = x.reached, next_escalation_at = x.next_at,
                   next_escalation_level = CASE WHEN x.next_at IS NOT NULL THEN x.next_level END
              FROM nxt AS x
             WHERE t.request_id = x.request_id
            RETURNING t.request_id, t.next_escalation_at
        ), ev AS (
            INSERT INTO swarm.events (kind, case_id, request_id, agent_id, detail)
            SELECT 'request_escalated', e.case_id, e.request_id, NULL, e.detail FROM eff AS e ORDER BY e.ord
            RETURNING events.event_id, events.at, events.case_id, events.request_id
        )
        -- the notifications, in claim order on each channel: the events' (as record_event sends
        -- them), then the escalations'
        SELECT (SELECT count(*) FROM esc)::integer,
               (SELECT count(pg_notify('swarm_events', json_build_object(
                           'kind', 'request_escalated', 'event_id', v.event_id, 'case_id', v.case_id,
                           'request_id', v.request_id, 'agent_id', NULL::bigint, 'at', v.at)::text))
                  FROM (SELECT * FROM ev ORDER BY ev.event_id) AS v)
               + (SELECT count(pg_notify('swarm_escalations', json_build_object(
                           'request_id', n.request_id, 'case_id', n.case_id, 'level', n.level, 'actions', n.actions,
                           'due_at', n.due_at, 'escalated_at', n.escalated_at)::text))
                  FROM (SELECT * FROM eff ORDER BY eff.ord) AS n),
               (SELECT array_agg(q.request_id ORDER BY q.ord) FROM rung AS q WHERE q.apart),
               (SELECT array_agg(u.request_id) FROM upd AS u WHERE u.next_escalation_at <= escalate_batch.now),
               (SELECT min(u.next_escalation_at) FROM upd AS u),
               (SELECT array_agg(e.request_id ORDER BY e.ord) FROM eff AS e WHERE e.refresh),
               (SELECT array_agg(e.new_priority ORDER BY e.ord) FROM eff AS e WHERE e.refresh),
               (SELECT array_agg(e.new_group ORDER BY e.ord) FROM eff AS e WHERE e.refresh),
               (SELECT array_agg(e.level ORDER BY e.ord) FROM eff AS e WHERE e.refresh)
          INTO STRICT fired, notified, one_by_one, due_again, next_wake, rf_ids, rf_priorities, rf_groups, rf_levels;
        made := made + fired;

        IF rf_ids IS NOT NULL THEN
            -- new priority or group: policy, due times and next level (as sla_refresh_request),
            -- and the level reached, in one UPDATE per request
            WITH u AS (
                SELECT * FROM unnest(rf_ids, rf_priorities, rf_groups, rf_levels) AS u (request_id, priority, group_id, level)
            ), lad AS MATERIALIZED (
                SELECT p.priority, coalesce(p.group_id, 0) AS grp, l.level, l.at_fraction, l.after_due
                  FROM (SELECT DISTINCT u.priority, u.group_id FROM u) AS p,
                       LATERAL swarm.ladder_for(p.priority, p.group_id) AS l
            ), x AS MATERIALIZED (
                SELECT u.request_id, u.priority, u.group_id, greatest(r.escalation_level, u.level) AS reached,
                       r.case_id, r.created_at, r.state, c.state = 'pending' AS paused,
                       p.policy_id, p.accept, p.request_resolution, p.at_risk_fraction, cal.name AS calendar,
                       sp.paused IS NOT NULL AS has_pauses
                  FROM u
                  JOIN swarm.collab_requests AS r ON r.request_id = u.request_id
                  JOIN swarm.cases AS c ON c.case_id = r.case_id
                  LEFT JOIN LATERAL swarm.sla_policy_for(u.priority, u.group_id, c.customer_tier) AS p ON true
                  LEFT JOIN swarm.calendars AS cal ON cal.calendar_id = p.calendar_id
                  LEFT JOIN LATERAL (SELECT true AS paused FROM swarm.sla_pauses AS t
                                      WHERE t.case_id = r.case_id LIMIT 1) AS sp ON true
            ), d AS MATERIALIZED (
                -- sla_deadline, with its pauses loop only for cases that have pauses
                SELECT x.*,
                       CASE WHEN x.has_pauses THEN swarm.sla_deadline(x.case_id, x.created_at, x.accept, x.calendar)
                            ELSE swarm.business_add(x.created_at, x.accept, x.calendar) END AS accept_due,
                       CASE WHEN x.has_pauses
                            THEN swarm.sla_deadline(x.case_id, x.created_at, x.accept * x.at_risk_fraction, x.calendar)
                            ELSE swarm.business_add(x.created_at, x.accept * x.at_risk_fraction, x.calendar) END AS accept_risk_at,
                       CASE WHEN x.has_pauses THEN swarm.sla_deadline(x.case_id, x.created_at, x.request_resolution, x.calendar)
                            ELSE swarm.business_add(x.created_at, x.request_resolution, x.calendar) END AS resolution_due,
                       CASE WHEN x.has_pauses
                            THEN swarm.sla_deadline(x.case_id, x.created_at, x.request_resolution * x.at_risk_fraction, x.calendar)
                            ELSE swarm.business_add(x.created_at, x.request_resolution * x.at_risk_fraction, x.calendar) END
                           AS resolution_risk_at
                  FROM x
            ), s AS (
                SELECT d.*, nl.level AS next_level,
                       CASE WHEN nl.at_fraction IS NOT NULL
                            THEN CASE WHEN d.has_pauses
                                      THEN swarm.sla_deadline(d.case_id, d.created_at, d.accept * nl.at_fraction, d.calendar)
                                      ELSE swarm.business_add(d.created_at, d.accept * nl.at_fraction, d.calendar) END
                            ELSE d.accept_due + nl.after_due END AS next_at
                  FROM d
                  LEFT JOIN LATERAL (
                      SELECT l.level, l.at_fraction, l.after_due FROM lad AS l
                       WHERE l.priority = d.priority AND l.grp = coalesce(d.group_id, 0) AND l.level > d.reached
                         AND d.state IN ('open', 'offered') AND d.accept_due IS NOT NULL AND NOT d.paused
                       ORDER BY l.level
                       LIMIT 1) AS nl ON true
            ), upd AS (
                UPDATE swarm.collab_requests AS t
                   SET escalation_level = s.reached, priority = s.priority, group_id = s.group_id,
                       sla_policy_id = s.policy_id, accept_due = s.accept_due, accept_risk_at = s.accept_risk_at,
                       resolution_due = s.resolution_due, resolution_risk_at = s.resolution_risk_at,
                       next_escalation_at = s.next_at,
                       next_escalation_level = CASE WHEN s.next_at IS NOT NULL THEN s.next_level END
                  FROM s
                 WHERE t.request_id = s.request_id
                RETURNING t.request_id, t.next_escalation_at
            )
            SELECT (SELECT array_agg(u.request_id) FROM upd AS u WHERE u.next_escalation_at <= escalate_batch.now),
                   (SELECT min(u.next_escalation_at) FROM upd AS u)
              INTO STRICT refreshed_due, refresh_wake;
            due_again := due_again || refreshed_due;
            next_wake := least(next_wake, refresh_wake);
        END IF;
        IF next_wake IS NOT NULL THEN
            PERFORM swarm.wake_escalator(next_wake);
        END IF;

        FOREACH one IN ARRAY coalesce(one_by_one, '{}') LOOP
            made := made + swarm.escalate_one(one, escalate_batch.now);
        END LOOP;

        -- those with another level due by now go round again, in claim order
        todo := ARRAY(SELECT u.request_id FROM unnest(request_ids) WITH ORDINALITY AS u (request_id, ord)
                        JOIN unnest(due_again) AS a (request_id) ON a.request_id = u.request_id
                       ORDER BY u.ord);
    END LOOP;
    RETURN made;
END
$$;
COMMENT ON FUNCTION swarm.escalate_batch(bigint[], timestamptz) IS
    'internal: fires every level due by "now" of a batch of locked requests, a few set-based statements per level; raises on any failure';

CREATE FUNCTION swarm.escalate_claimed(request_ids bigint[], now timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    half integer := cardinality(request_ids) / 2;
    made integer;
BEGIN
    IF cardinality(request_ids) IS NULL OR cardinality(request_ids) = 0 THEN
        RETURN 0;
    END IF;
    BEGIN
        RETURN swarm.escalate_batch(request_ids, escalate_claimed.now);
    EXCEPTION WHEN others THEN
        NULL;       -- rolled back: split the batch below
    END;
    IF half > 0 THEN
        -- a request of the batch failed: each half again, so the others are escalated
        made := swarm.escalate_claimed(request_ids[1:half], escalate_claimed.now);
        RETURN made + swarm.escalate_claimed(request_ids[half + 1:], escalate_claimed.now);
    END IF;
    -- one request: the per-request way; when that fails too, log it and try it again later
    BEGIN
        RETURN swarm.escalate_one(request_ids[1], escalate_claimed.now);
    EXCEPTION WHEN others THEN
        RAISE WARNING 'could not escalate request %: %', request_ids[1], SQLERRM
            USING DETAIL = format('SQLSTATE %s; retried in a minute.', SQLSTATE);
        UPDATE swarm.collab_requests AS t SET next_escalation_at = clock_timestamp() + interval '1 minute'
         WHERE t.request_id = request_ids[1];
        RETURN 0;
    END;
END
$$;
COMMENT ON FUNCTION swarm.escalate_claimed(bigint[], timestamptz) IS
    'internal: escalates locked requests set-based in one subtransaction; on failure halves the batch, down to one request, which is retried one level at a time or put off a minute';

CREATE FUNCTION swarm.claim_due(now timestamptz, max integer)
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- A generic plan, made without the values of now and max, is the index scan in the sweep's
-- order that stops after max rows.  A custom plan uses the statistics, which a burst makes
-- wrong (the requests just became due) until the next ANALYZE: it would then read and sort
-- every due request, on every sweep.
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- what is due, the earliest first; a row locked by another sweep (or an accept) is skipped
    RETURN ARRAY(SELECT t.request_id FROM swarm.collab_requests AS t
                  WHERE t.state IN ('open', 'offered') AND t.next_escalation_at <= claim_due.now
                  ORDER BY t.next_escalation_at, t.request_id
                  LIMIT claim_due.max
                    FOR NO KEY UPDATE SKIP LOCKED);
END
$$;
COMMENT ON FUNCTION swarm.claim_due(timestamptz, integer) IS
    'internal: locks up to max requests due by "now", the earliest first (SKIP LOCKED), and returns their ids in that order';

CREATE FUNCTION swarm.escalate_due(now timestamptz DEFAULT clock_timestamp(), max integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF swarm.require(max, 'max') <= 0 THEN
        RAISE EXCEPTION 'max must be positive: %', max USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM swarm.require(now, 'now');
    RETURN swarm.escalate_claimed(swarm.claim_due(escalate_due.now, max), escalate_due.now);
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


-- ---------------------------------------------------------------------------
-- The swarm model: agents, specialty (skill) groups, cases with one owner for
-- life, collaboration requests, participants and the audit trail.
-- ---------------------------------------------------------------------------

CREATE FUNCTION swarm.valid_timezone(name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'swarm_valid_timezone'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.valid_timezone(text) IS
    'true when the name is a time zone swarm accepts: an IANA name such as Europe/Berlin (no POSIX offsets like UTC+3)';

CREATE FUNCTION swarm.canonical_timezone(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'swarm_canonical_timezone'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.canonical_timezone(text) IS
    'the canonical spelling of a time zone name (europe/berlin gives Europe/Berlin), NULL when it is not accepted';

CREATE TYPE swarm.priority AS ENUM ('P1', 'P2', 'P3', 'P4');
COMMENT ON TYPE swarm.priority IS 'urgency of a case or request: P1 is the most urgent, P4 the least';

CREATE TYPE swarm.case_state AS ENUM ('new', 'open', 'pending', 'resolved', 'closed');
COMMENT ON TYPE swarm.case_state IS
    'new: no owner yet; open: owned and worked; pending: waiting on the customer; resolved; closed (final)';

CREATE TYPE swarm.request_state AS ENUM ('open', 'offered', 'accepted', 'resolved', 'cancelled');
COMMENT ON TYPE swarm.request_state IS
    'open: waiting for a helper; offered: pushed to one helper; accepted: a helper is on it; resolved; cancelled';

CREATE TYPE swarm.presence AS ENUM ('online', 'away', 'offline');
COMMENT ON TYPE swarm.presence IS 'whether an agent can take work right now';

CREATE TYPE swarm.group_scope AS ENUM ('regional', 'global');
COMMENT ON TYPE swarm.group_scope IS 'regional groups serve their region; global groups follow the sun';

CREATE TYPE swarm.request_mode AS ENUM ('push', 'pull');
COMMENT ON TYPE swarm.request_mode IS 'push: offered to the best helper; pull: taken by anyone qualified';

CREATE TYPE swarm.routing_method AS ENUM ('skills', 'least_loaded', 'round_robin');
COMMENT ON TYPE swarm.routing_method IS
    'how a group orders its members for requests: by routing score, by lowest load, or in turn';

CREATE TYPE swarm.participant_role AS ENUM ('owner', 'helper');
COMMENT ON TYPE swarm.participant_role IS 'how an agent took part in a case';

-- Agents ---------------------------------------------------------------------

CREATE TABLE swarm.agents (
    agent_id      bigserial PRIMARY KEY,
    external_ref  text NOT NULL UNIQUE CHECK (external_ref <> ''),
    name          text NOT NULL,
    skills        swarm.skillset NOT NULL DEFAULT '',
    region        text,
    timezone      text NOT NULL DEFAULT 'UTC' CHECK (swarm.valid_timezone(timezone)),
    capacity      integer NOT NULL DEFAULT 8 CHECK (capacity >= 0),
    help_capacity integer NOT NULL DEFAULT 3 CHECK (help_capacity >= 0),
    open_cases    integer NOT NULL DEFAULT 0 CHECK (open_cases >= 0),
    open_helps    integer NOT NULL DEFAULT 0 CHECK (open_helps >= 0),
    presence      swarm.presence NOT NULL DEFAULT 'online',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_skills_idx ON swarm.agents USING gin (skills);
COMMENT ON TABLE swarm.agents IS 'people who own cases and help on them';
COMMENT ON COLUMN swarm.agents.external_ref IS 'the helpdesk''s user id';
COMMENT ON COLUMN swarm.agents.capacity IS 'how many open or pending cases the agent may own';
COMMENT ON COLUMN swarm.agents.help_capacity IS 'how many accepted requests the agent may help on at once';
COMMENT ON COLUMN swarm.agents.open_cases IS
    'open or pending cases the agent owns (kept by the API under the agent''s row lock)';
COMMENT ON COLUMN swarm.agents.open_helps IS
    'accepted requests the agent is helping on (kept by the API under the agent''s row lock)';
COMMENT ON COLUMN swarm.agents.active IS 'false for agents who left; they keep their history but take no work';

-- Specialty groups -------------------------------------------------------------

CREATE TABLE swarm.skill_groups (
    group_id   bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name <> ''),
    skills     swarm.skillset NOT NULL DEFAULT '',
    scope      swarm.group_scope NOT NULL DEFAULT 'regional',
    region     text,
    routing    swarm.routing_method NOT NULL DEFAULT 'skills',
    rr_cursor  bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (scope = 'regional' OR region IS NULL)
);
COMMENT ON TABLE swarm.skill_groups IS 'specialty groups that owners ask for help';
COMMENT ON COLUMN swarm.skill_groups.region IS 'home region of a regional group; global groups have none';
COMMENT ON COLUMN swarm.skill_groups.routing IS 'how requests to the group pick a helper (swarm.routing_method)';
COMMENT ON COLUMN swarm.skill_groups.rr_cursor IS 'round robin: the member offered last';

CREATE TABLE swarm.group_members (
    group_id bigint NOT NULL REFERENCES swarm.skill_groups ON DELETE CASCADE,
    agent_id bigint NOT NULL REFERENCES swarm.agents,
    lead     boolean NOT NULL DEFAULT false,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX group_members_agent_idx ON swarm.group_members (agent_id);
COMMENT ON TABLE swarm.group_members IS 'agents in specialty groups; leads are told of escalations';

-- Cases ----------------------------------------------------------------------

CREATE TABLE swarm.cases (
    case_id           bigserial PRIMARY KEY,
    external_ref      text NOT NULL UNIQUE CHECK (external_ref <> ''),
    subject           text NOT NULL,
    customer_ref      text,
    priority          swarm.priority NOT NULL,
    needed            swarm.skillset NOT NULL DEFAULT '',
    region            text,
    owner_id          bigint REFERENCES swarm.agents,
    state             swarm.case_state NOT NULL DEFAULT 'new',
    opened_at         timestamptz NOT NULL DEFAULT now(),
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    handoffs          integer NOT NULL DEFAULT 0 CHECK (handoffs >= 0),
    kb_ref            text,
    customer_tier     text,
    sla_policy_id     bigint,
    first_response_due timestamptz,
    first_response_risk_at timestamptz,
    resolution_due    timestamptz,
    resolution_risk_at timestamptz,
    CHECK ((state = 'new') = (owner_id IS NULL)),
    CHECK ((state IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX cases_owner_open_idx ON swarm.cases (owner_id) WHERE state IN ('open', 'pending');
CREATE INDEX cases_queue_idx ON swarm.cases (priority, opened_at) WHERE state = 'new';
CREATE INDEX cases_customer_idx ON swarm.cases (customer_ref, opened_at) WHERE customer_ref IS NOT NULL;
COMMENT ON TABLE swarm.cases IS 'customer cases; each has one owner for its whole life (transfers are counted as handoffs)';
COMMENT ON COLUMN swarm.cases.external_ref IS 'the helpdesk''s ticket id';
COMMENT ON COLUMN swarm.cases.needed IS 'skills the case needs';
COMMENT ON COLUMN swarm.cases.handoffs IS 'how many times the owner changed (transfer_case)';
COMMENT ON COLUMN swarm.cases.kb_ref IS 'knowledge article captured when the case was resolved';
COMMENT ON COLUMN swarm.cases.customer_tier IS 'the customer''s service tier; SLA policies may be narrowed to it';
COMMENT ON COLUMN swarm.cases.first_response_due IS 'when the first response is due (SLA), kept by the API';
COMMENT ON COLUMN swarm.cases.resolution_due IS 'when resolution is due (SLA), kept by the API';
COMMENT ON COLUMN swarm.cases.first_response_risk_at IS 'when the first response target becomes at risk';
COMMENT ON COLUMN swarm.cases.resolution_risk_at IS 'when the resolution target becomes at risk';

-- Collaboration requests -----------------------------------------------------

CREATE TABLE swarm.collab_requests (
    request_id       bigserial PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES swarm.cases,
    requester_id     bigint NOT NULL REFERENCES swarm.agents,
    group_id         bigint REFERENCES swarm.skill_groups,
    needed           swarm.skillset NOT NULL DEFAULT '',
    preferred_id     bigint REFERENCES swarm.agents,
    priority         swarm.priority NOT NULL,
    mode             swarm.request_mode NOT NULL DEFAULT 'push',
    state            swarm.request_state NOT NULL DEFAULT 'open',
    helper_id        bigint REFERENCES swarm.agents,
    offered_to       bigint REFERENCES swarm.agents,
    created_at       timestamptz NOT NULL DEFAULT now(),
    offered_at       timestamptz,
    accepted_at      timestamptz,
    resolved_at      timestamptz,
    cancelled_at     timestamptz,
    escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    sla_policy_id    bigint,
    accept_due       timestamptz,
    accept_risk_at   timestamptz,
    resolution_due   timestamptz,
    resolution_risk_at timestamptz,
    note             text,
    summary          text,
    cancel_reason    text,
    CHECK (group_id IS NOT NULL OR needed <> ''::swarm.skillset),
    CHECK ((state = 'offered') = (offered_to IS NOT NULL AND offered_at IS NOT NULL)),
    CHECK (state NOT IN ('open', 'offered') OR helper_id IS NULL),
    CHECK (state NOT IN ('accepted', 'resolved') OR (helper_id IS NOT NULL AND accepted_at IS NOT NULL)),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX collab_requests_case_idx ON swarm.collab_requests (case_id);
CREATE INDEX collab_requests_helper_idx ON swarm.collab_requests (helper_id) WHERE state = 'accepted';
CREATE INDEX collab_requests_queue_idx ON swarm.collab_requests (priority, created_at, request_id)
    WHERE state IN ('open', 'offered');
-- One active request per case and specialty: per group, or per needed skills without a group.
CREATE UNIQUE INDEX collab_requests_one_per_group ON swarm.collab_requests (case_id, group_id)
    WHERE state IN ('open', 'offered', 'accepted') AND group_id IS NOT NULL;
CREATE UNIQUE INDEX collab_requests_one_per_skills ON swarm.collab_requests (case_id, needed)
    WHERE state IN ('open', 'offered', 'accepted') AND group_id IS NULL;
COMMENT ON TABLE swarm.collab_requests IS
    'collaboration requests: an owner asking a specialty group (or skilled agents) for help on a case';
COMMENT ON COLUMN swarm.collab_requests.needed IS 'skills the helper needs (the group''s skills when not given)';
COMMENT ON COLUMN swarm.collab_requests.preferred_id IS 'a helper the owner would like, offered first when eligible';
COMMENT ON COLUMN swarm.collab_requests.offered_to IS 'the helper the request is pushed to while it is offered';
COMMENT ON COLUMN swarm.collab_requests.escalation_level IS 'highest escalation level reached (0: none)';
COMMENT ON COLUMN swarm.collab_requests.accept_due IS 'when acceptance (time to help) is due (SLA), kept by the API';
COMMENT ON COLUMN swarm.collab_requests.resolution_due IS 'when the request''s resolution is due (SLA), kept by the API';
COMMENT ON COLUMN swarm.collab_requests.accept_risk_at IS 'when the acceptance target becomes at risk';
COMMENT ON COLUMN swarm.collab_requests.resolution_risk_at IS 'when the request resolution target becomes at risk';

CREATE TABLE swarm.request_declines (
    request_id  bigint NOT NULL REFERENCES swarm.collab_requests,
    agent_id    bigint NOT NULL REFERENCES swarm.agents,
    reason      text,
    declined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, agent_id)
);
COMMENT ON TABLE swarm.request_declines IS 'agents who declined a request; it is never offered to them again';

-- Participants ---------------------------------------------------------------

CREATE TABLE swarm.participants (
    case_id   bigint NOT NULL REFERENCES swarm.cases,
    agent_id  bigint NOT NULL REFERENCES swarm.agents,
    role      swarm.participant_role NOT NULL,
    joined_at timestamptz NOT NULL DEFAULT now(),
    left_at   timestamptz,
    PRIMARY KEY (case_id, agent_id, role)
);
CREATE INDEX participants_agent_idx ON swarm.participants (agent_id);
COMMENT ON TABLE swarm.participants IS
    'who swarmed on a case: its owners and its helpers, who stay on the case until it closes';
COMMENT ON COLUMN swarm.participants.left_at IS 'when the agent left: a transfer away (owners) or the case closing';

-- Audit trail ----------------------------------------------------------------

CREATE TABLE swarm.events (
    event_id   bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text NOT NULL,
    case_id    bigint,
    request_id bigint,
    agent_id   bigint,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_case_idx ON swarm.events (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX events_request_idx ON swarm.events (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX events_at_idx ON swarm.events (at);
COMMENT ON TABLE swarm.events IS 'append-only audit trail of every change made through the swarm API';
COMMENT ON COLUMN swarm.events.kind IS 'what happened, e.g. case_opened, help_requested, request_accepted';
COMMENT ON COLUMN swarm.events.agent_id IS 'the agent the event is about (assignee, helper, decliner ...)';

CREATE FUNCTION swarm.refuse_event_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'swarm.events is append-only'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('%s is not allowed on the audit trail.', TG_OP);
END
$$;
COMMENT ON FUNCTION swarm.refuse_event_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE on swarm.events';

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON swarm.events
    FOR EACH ROW EXECUTE FUNCTION swarm.refuse_event_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON swarm.events
    FOR EACH STATEMENT EXECUTE FUNCTION swarm.refuse_event_change();

-- Keep every table and sequence in pg_dump, so a dump of the helpdesk
-- database carries the swarm data and ids keep counting after a restore.
SELECT pg_catalog.pg_extension_config_dump('swarm.agents', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.agents_agent_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.skill_groups', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.skill_groups_group_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.group_members', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.cases', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.cases_case_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.collab_requests', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.collab_requests_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.request_declines', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.participants', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.events', '');
SELECT pg_catalog.pg_extension_config_dump('swarm.events_event_id_seq', '');

REVOKE ALL ON ALL TABLES IN SCHEMA swarm FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA swarm FROM PUBLIC;

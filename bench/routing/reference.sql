-- bench/routing/reference.sql: the routing ranking written as plain SQL, as a
-- helpdesk developer would write it without swarm's skillset type: skills in
-- normalised (id, skill, level) tables with an index on skill, the rest read
-- from swarm's own tables (agents' region/presence/capacity/load, cases,
-- participants, experience, requests, declines, groups and the weights view).
--
-- The formula is the one of src/routing.c (score_agent), with the same float
-- operations in the same order so that scores agree to the last bit:
--   score = round((w_match*match + w_load*load + w_avail*availability
--                  + w_region*region + w_exp*experience + w_cont*continuity)
--                 / (w_match + w_load + w_avail + w_region + w_exp + w_cont) * 1e9) / 1e9
-- (round(float8) is rint, as in C).  Ties go to the lower agent_id.
--
-- Not modelled: agents' shift calendars (swarm skips an agent outside the
-- working hours of its calendar; there is no SQL function for that test).  The
-- benchmark gives no agent a calendar, and run.sh checks that.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE SCHEMA ref;

-- Normalised skills ----------------------------------------------------------------
CREATE TABLE ref.agent_skills (
    agent_id bigint NOT NULL,
    skill    text NOT NULL,
    level    integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (agent_id, skill)
);
CREATE INDEX agent_skills_skill_idx ON ref.agent_skills (skill);

CREATE TABLE ref.case_skills (
    case_id bigint NOT NULL,
    skill   text NOT NULL,
    level   integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (case_id, skill)
);

CREATE TABLE ref.request_skills (
    request_id bigint NOT NULL,
    skill      text NOT NULL,
    level      integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (request_id, skill)
);

-- filled from swarm's skillsets, so both sides see the same skills
INSERT INTO ref.agent_skills SELECT a.agent_id, s.name, s.level FROM swarm.agents AS a, swarm.skills(a.skills) AS s;
INSERT INTO ref.case_skills SELECT c.case_id, s.name, s.level FROM swarm.cases AS c, swarm.skills(c.needed) AS s;
INSERT INTO ref.request_skills SELECT r.request_id, s.name, s.level
  FROM swarm.collab_requests AS r, swarm.skills(r.needed) AS s;
VACUUM ANALYZE ref.agent_skills, ref.case_skills, ref.request_skills;

-- Weights as one row -------------------------------------------------------------------
CREATE VIEW ref.weights AS
SELECT wm, wl, wa, wr, we, wc, wm + wl + wa + wr + we + wc AS wsum
  FROM (SELECT max(weight) FILTER (WHERE component = 'match') AS wm,
               max(weight) FILTER (WHERE component = 'load') AS wl,
               max(weight) FILTER (WHERE component = 'availability') AS wa,
               max(weight) FILTER (WHERE component = 'region') AS wr,
               max(weight) FILTER (WHERE component = 'experience') AS we,
               max(weight) FILTER (WHERE component = 'continuity') AS wc
          FROM swarm.routing_weights) AS w;

-- Owners for a case ----------------------------------------------------------------------
-- Candidates: active agents, not offline, below capacity, with a needed skill.
-- (swarm also routes a case that needs no skill, to every eligible agent with
-- match 1; the benchmark's cases all need skills, so the reference leaves that out.)
CREATE FUNCTION ref.route_case(p_case_id bigint, k integer DEFAULT 5)
RETURNS TABLE (pos bigint, agent_id bigint, score double precision, reasons jsonb)
LANGUAGE sql STABLE
AS $$
WITH c AS (
    SELECT c.case_id, c.region, c.customer_ref
      FROM swarm.cases AS c
     WHERE c.case_id = p_case_id AND c.state IN ('new', 'open', 'pending')
), need AS (
    SELECT s.skill, s.level FROM ref.case_skills AS s WHERE s.case_id = p_case_id
), need_total AS (
    SELECT sum(level)::float8 AS total FROM need
), last_owner AS (                  -- owner of the customer's previous case
    SELECT p.owner_id
      FROM swarm.cases AS p, c
     WHERE p.customer_ref = c.customer_ref AND p.case_id < c.case_id AND p.owner_id IS NOT NULL
     ORDER BY p.case_id DESC
     LIMIT 1
), took_part AS (
    SELECT DISTINCT p.agent_id FROM swarm.participants AS p WHERE p.case_id = p_case_id
), candidates AS (                  -- eligible agents with a needed skill: sum of min(have, need)
    SELECT a.agent_id, a.region, a.presence, a.capacity, a.open_cases,
           sum(least(s.level, n.level)) AS covered
      FROM need AS n
      JOIN ref.agent_skills AS s ON s.skill = n.skill
      JOIN swarm.agents AS a ON a.agent_id = s.agent_id
     WHERE a.active AND a.presence <> 'offline' AND a.open_cases < a.capacity
     GROUP BY a.agent_id
), experience AS (                  -- sum of need level * c/(c+1), c the decayed credit
    SELECT x.agent_id, sum(n.level * (d.credit / (d.credit + 1)) ORDER BY x.skill) AS weighted
      FROM need AS n
      JOIN swarm.agent_experience AS x ON x.skill = n.skill
     CROSS JOIN LATERAL (SELECT extract(epoch FROM now() - x.updated_at)::float8 AS age) AS g
     CROSS JOIN LATERAL (SELECT CASE WHEN g.age <= 0 THEN x.credit
                                     ELSE x.credit * power(2::float8, -g.age / extract(epoch FROM
                                              current_setting('swarm.experience_half_life')::interval)::float8)
                                END AS credit) AS d
     GROUP BY x.agent_id
), components AS (
    SELECT cd.agent_id,
           cd.covered::float8 / t.total AS match,
           CASE WHEN cd.capacity > 0 THEN 1::float8 - cd.open_cases::float8 / cd.capacity::float8
                ELSE 0::float8 END AS load,
           CASE WHEN cd.presence = 'online' THEN 1::float8 ELSE 0.5::float8 END AS availability,
           CASE WHEN c.region IS NULL OR cd.region = c.region THEN 1::float8 ELSE 0::float8 END AS region,
           coalesce(x.weighted / t.total, 0::float8) AS experience,
           CASE WHEN tp.agent_id IS NOT NULL OR cd.agent_id = (SELECT owner_id FROM last_owner)
                THEN 1::float8 ELSE 0::float8 END AS continuity
      FROM candidates AS cd
     CROSS JOIN c
     CROSS JOIN need_total AS t
      LEFT JOIN experience AS x ON x.agent_id = cd.agent_id
      LEFT JOIN took_part AS tp ON tp.agent_id = cd.agent_id
), scored AS (
    SELECT m.*,
           round((w.wm * m.match + w.wl * m.load + w.wa * m.availability + w.wr * m.region
                  + w.we * m.experience + w.wc * m.continuity) / w.wsum * 1e9::float8) / 1e9::float8 AS score
      FROM components AS m CROSS JOIN ref.weights AS w
)
SELECT row_number() OVER (ORDER BY s.score DESC, s.agent_id), s.agent_id, s.score,
       jsonb_build_object('match', s.match, 'load', s.load, 'availability', s.availability,
                          'region', s.region, 'experience', s.experience, 'continuity', s.continuity)
  FROM scored AS s
 ORDER BY s.score DESC, s.agent_id
 LIMIT k
$$;

-- Helpers for a request ---------------------------------------------------------------------
-- Candidates: the group's members when the request has a group, else agents
-- sharing a needed skill; plus the preferred helper wherever they are; only
-- active, not offline, with help capacity left; never the case's owner,
-- helpers of the case's accepted requests, or agents who declined.
-- Global groups score region by the spare help capacity of the agent's region
-- among the group's eligible members (a preferred helper from outside the
-- group does not count in it).
-- Order: preferred helper first, then the group's method (least_loaded: help
-- load, then score; round_robin: agents after the cursor first, in agent_id
-- order whatever the scores), else score; then agent_id.
CREATE FUNCTION ref.suggest_helpers(p_request_id bigint, k integer DEFAULT 5)
RETURNS TABLE (pos bigint, agent_id bigint, score double precision, reasons jsonb)
LANGUAGE sql STABLE
AS $$
WITH r AS (
    SELECT r.request_id, r.case_id, r.group_id, r.preferred_id, c.region, c.customer_ref, c.owner_id,
           coalesce(g.scope = 'global', false) AS global_group,
           coalesce(g.routing::text, 'skills') AS method, coalesce(g.rr_cursor, 0) AS rr_cursor
      FROM swarm.collab_requests AS r
      JOIN swarm.cases AS c ON c.case_id = r.case_id
      LEFT JOIN swarm.skill_groups AS g ON g.group_id = r.group_id
     WHERE r.request_id = p_request_id AND r.state IN ('open', 'offered')
), need AS (
    SELECT s.skill, s.level FROM ref.request_skills AS s WHERE s.request_id = p_request_id
), need_total AS (
    SELECT coalesce(sum(level), 0)::float8 AS total FROM need
), last_owner AS (
    SELECT p.owner_id
      FROM swarm.cases AS p, r
     WHERE p.customer_ref = r.customer_ref AND p.case_id < r.case_id AND p.owner_id IS NOT NULL
     ORDER BY p.case_id DESC
     LIMIT 1
), took_part AS (
    SELECT DISTINCT p.agent_id FROM swarm.participants AS p JOIN r ON p.case_id = r.case_id
), pool AS (                       -- the group's members, or agents sharing a needed skill
    SELECT m.agent_id FROM swarm.group_members AS m JOIN r ON m.group_id = r.group_id
    UNION
    SELECT s.agent_id FROM need AS n JOIN ref.agent_skills AS s ON s.skill = n.skill
     WHERE (SELECT r.group_id IS NULL FROM r)
), eligible AS (                   -- the pool's eligible agents, and the preferred helper if eligible
    SELECT a.agent_id, a.region, a.presence, a.help_capacity, a.open_helps,
           EXISTS (SELECT 1 FROM pool WHERE pool.agent_id = a.agent_id) AS member
      FROM swarm.agents AS a
     WHERE (a.agent_id IN (SELECT agent_id FROM pool) OR a.agent_id = (SELECT preferred_id FROM r))
       AND a.active AND a.presence <> 'offline' AND a.open_helps < a.help_capacity
       AND NOT EXISTS (SELECT 1 FROM r WHERE r.owner_id = a.agent_id)
       AND NOT EXISTS (SELECT 1 FROM swarm.collab_requests AS q, r
                        WHERE q.case_id = r.case_id AND q.state = 'accepted' AND q.helper_id = a.agent_id)
       AND NOT EXISTS (SELECT 1 FROM swarm.request_declines AS d
                        WHERE d.request_id = p_request_id AND d.agent_id = a.agent_id)
), candidates AS (                 -- global groups: spare help capacity of each region among the members
    SELECT e.*,
           sum(e.help_capacity - e.open_helps) FILTER (WHERE e.member) OVER (PARTITION BY e.region) AS region_spare,
           sum(e.help_capacity) FILTER (WHERE e.member) OVER (PARTITION BY e.region) AS region_capacity
      FROM eligible AS e
), covered AS (
    SELECT s.agent_id, sum(least(s.level, n.level)) AS covered
      FROM candidates AS cd
      JOIN ref.agent_skills AS s ON s.agent_id = cd.agent_id
      JOIN need AS n ON n.skill = s.skill
     GROUP BY s.agent_id
), experience AS (
    SELECT x.agent_id, sum(n.level * (d.credit / (d.credit + 1)) ORDER BY x.skill) AS weighted
      FROM need AS n
      JOIN swarm.agent_experience AS x ON x.skill = n.skill
     CROSS JOIN LATERAL (SELECT extract(epoch FROM now() - x.updated_at)::float8 AS age) AS g
     CROSS JOIN LATERAL (SELECT CASE WHEN g.age <= 0 THEN x.credit
                                     ELSE x.credit * power(2::float8, -g.age / extract(epoch FROM
                                              current_setting('swarm.experience_half_life')::interval)::float8)
                                END AS credit) AS d
     GROUP BY x.agent_id
), components AS (
    SELECT cd.agent_id,
           coalesce(cd.agent_id = r.preferred_id, false) AS preferred,
           CASE r.method
                WHEN 'least_loaded' THEN CASE WHEN cd.help_capacity > 0
                                              THEN cd.open_helps::float8 / cd.help_capacity::float8
                                              ELSE 1::float8 END
                WHEN 'round_robin' THEN CASE WHEN cd.agent_id > r.rr_cursor THEN 0::float8 ELSE 1::float8 END
                ELSE 0::float8 END AS order_key,
           CASE WHEN t.total > 0 THEN coalesce(cv.covered, 0)::float8 / t.total ELSE 1::float8 END AS match,
           CASE WHEN cd.help_capacity > 0 THEN 1::float8 - cd.open_helps::float8 / cd.help_capacity::float8
                ELSE 0::float8 END AS load,
           CASE WHEN cd.presence = 'online' THEN 1::float8 ELSE 0.5::float8 END AS availability,
           CASE WHEN r.global_group
                THEN CASE WHEN coalesce(cd.region_capacity, 0) > 0 THEN cd.region_spare::float8 / cd.region_capacity::float8
                          ELSE 0::float8 END
                WHEN r.region IS NULL OR cd.region = r.region THEN 1::float8
                ELSE 0::float8 END AS region,
           CASE WHEN t.total > 0 THEN coalesce(x.weighted / t.total, 0::float8) ELSE 0::float8 END AS experience,
           CASE WHEN tp.agent_id IS NOT NULL OR cd.agent_id = (SELECT owner_id FROM last_owner)
                THEN 1::float8 ELSE 0::float8 END AS continuity,
           r.method
      FROM candidates AS cd
     CROSS JOIN r
     CROSS JOIN need_total AS t
      LEFT JOIN covered AS cv ON cv.agent_id = cd.agent_id
      LEFT JOIN experience AS x ON x.agent_id = cd.agent_id
      LEFT JOIN took_part AS tp ON tp.agent_id = cd.agent_id
), scored AS (
    SELECT m.*,
           round((w.wm * m.match + w.wl * m.load + w.wa * m.availability + w.wr * m.region
                  + w.we * m.experience + w.wc * m.continuity) / w.wsum * 1e9::float8) / 1e9::float8 AS score
      FROM components AS m CROSS JOIN ref.weights AS w
)
SELECT row_number() OVER (ORDER BY s.preferred DESC, s.order_key,
                                   CASE WHEN s.method = 'round_robin' THEN 0 ELSE s.score END DESC, s.agent_id),
       s.agent_id, s.score,
       jsonb_build_object('match', s.match, 'load', s.load, 'availability', s.availability,
                          'region', s.region, 'experience', s.experience, 'continuity', s.continuity)
       || CASE WHEN s.preferred THEN '{"preferred": true}'::jsonb ELSE '{}' END
       || CASE WHEN s.method IN ('least_loaded', 'round_robin') THEN jsonb_build_object('method', s.method)
               ELSE '{}' END
  FROM scored AS s
 ORDER BY s.preferred DESC, s.order_key, CASE WHEN s.method = 'round_robin' THEN 0 ELSE s.score END DESC, s.agent_id
 LIMIT k
$$;

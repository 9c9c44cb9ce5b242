\echo Use "CREATE EXTENSION swarm" to load this file. \quit

-- swarm.skillset: a set of skills, each with a proficiency level 1..5.
-- Text form: 'postgres:4, linux, "windows server":2' (see docs/skillset.md).

CREATE TYPE swarm.skillset;

CREATE FUNCTION swarm.skillset_in(cstring)
RETURNS swarm.skillset
AS 'MODULE_PATHNAME', 'skillset_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_in(cstring) IS 'text input of skillset';

CREATE FUNCTION swarm.skillset_out(swarm.skillset)
RETURNS cstring
AS 'MODULE_PATHNAME', 'skillset_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_out(swarm.skillset) IS 'canonical text output of skillset';

CREATE FUNCTION swarm.skillset_recv(internal)
RETURNS swarm.skillset
AS 'MODULE_PATHNAME', 'skillset_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_recv(internal) IS 'binary input of skillset';

CREATE FUNCTION swarm.skillset_send(swarm.skillset)
RETURNS bytea
AS 'MODULE_PATHNAME', 'skillset_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_send(swarm.skillset) IS 'binary output of skillset';

CREATE TYPE swarm.skillset (
    INPUT = swarm.skillset_in,
    OUTPUT = swarm.skillset_out,
    RECEIVE = swarm.skillset_recv,
    SEND = swarm.skillset_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE swarm.skillset IS 'set of skills, each with a proficiency level 1..5';

-- Comparison

CREATE FUNCTION swarm.skillset_eq(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_eq'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_eq(swarm.skillset, swarm.skillset) IS 'implementation of = operator';

CREATE FUNCTION swarm.skillset_ne(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_ne'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_ne(swarm.skillset, swarm.skillset) IS 'implementation of <> operator';

CREATE FUNCTION swarm.skillset_lt(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_lt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_lt(swarm.skillset, swarm.skillset) IS 'implementation of < operator';

CREATE FUNCTION swarm.skillset_le(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_le'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_le(swarm.skillset, swarm.skillset) IS 'implementation of <= operator';

CREATE FUNCTION swarm.skillset_gt(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_gt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_gt(swarm.skillset, swarm.skillset) IS 'implementation of > operator';

CREATE FUNCTION swarm.skillset_ge(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_ge'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_ge(swarm.skillset, swarm.skillset) IS 'implementation of >= operator';

CREATE FUNCTION swarm.skillset_cmp(swarm.skillset, swarm.skillset)
RETURNS integer
AS 'MODULE_PATHNAME', 'skillset_cmp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_cmp(swarm.skillset, swarm.skillset) IS 'less-equal-greater comparison of skillsets (btree support)';

CREATE FUNCTION swarm.skillset_hash(swarm.skillset)
RETURNS integer
AS 'MODULE_PATHNAME', 'skillset_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_hash(swarm.skillset) IS 'hash of a skillset (hash support)';

CREATE FUNCTION swarm.skillset_hash_extended(swarm.skillset, bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'skillset_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_hash_extended(swarm.skillset, bigint) IS 'seeded 64-bit hash of a skillset (hash support)';

CREATE OPERATOR swarm.= (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_eq,
    COMMUTATOR = OPERATOR(swarm.=),
    NEGATOR = OPERATOR(swarm.<>),
    RESTRICT = eqsel,
    JOIN = eqjoinsel,
    HASHES,
    MERGES
);
COMMENT ON OPERATOR swarm.= (swarm.skillset, swarm.skillset) IS 'equal: same skills at the same levels';

CREATE OPERATOR swarm.<> (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_ne,
    COMMUTATOR = OPERATOR(swarm.<>),
    NEGATOR = OPERATOR(swarm.=),
    RESTRICT = neqsel,
    JOIN = neqjoinsel
);
COMMENT ON OPERATOR swarm.<> (swarm.skillset, swarm.skillset) IS 'not equal';

CREATE OPERATOR swarm.< (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_lt,
    COMMUTATOR = OPERATOR(swarm.>),
    NEGATOR = OPERATOR(swarm.>=),
    RESTRICT = scalarltsel,
    JOIN = scalarltjoinsel
);
COMMENT ON OPERATOR swarm.< (swarm.skillset, swarm.skillset) IS 'less than';

CREATE OPERATOR swarm.<= (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_le,
    COMMUTATOR = OPERATOR(swarm.>=),
    NEGATOR = OPERATOR(swarm.>),
    RESTRICT = scalarlesel,
    JOIN = scalarlejoinsel
);
COMMENT ON OPERATOR swarm.<= (swarm.skillset, swarm.skillset) IS 'less than or equal';

CREATE OPERATOR swarm.> (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_gt,
    COMMUTATOR = OPERATOR(swarm.<),
    NEGATOR = OPERATOR(swarm.<=),
    RESTRICT = scalargtsel,
    JOIN = scalargtjoinsel
);
COMMENT ON OPERATOR swarm.> (swarm.skillset, swarm.skillset) IS 'greater than';

CREATE OPERATOR swarm.>= (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_ge,
    COMMUTATOR = OPERATOR(swarm.<=),
    NEGATOR = OPERATOR(swarm.<),
    RESTRICT = scalargesel,
    JOIN = scalargejoinsel
);
COMMENT ON OPERATOR swarm.>= (swarm.skillset, swarm.skillset) IS 'greater than or equal';

CREATE OPERATOR CLASS swarm.skillset_ops
DEFAULT FOR TYPE swarm.skillset USING btree AS
    OPERATOR 1 swarm.< ,
    OPERATOR 2 swarm.<= ,
    OPERATOR 3 swarm.= ,
    OPERATOR 4 swarm.>= ,
    OPERATOR 5 swarm.> ,
    FUNCTION 1 swarm.skillset_cmp(swarm.skillset, swarm.skillset);
COMMENT ON OPERATOR FAMILY swarm.skillset_ops USING btree IS 'btree operators of skillset';
COMMENT ON OPERATOR CLASS swarm.skillset_ops USING btree IS 'default btree operator class of skillset: by skills in name order, then levels';

CREATE OPERATOR CLASS swarm.skillset_ops
DEFAULT FOR TYPE swarm.skillset USING hash AS
    OPERATOR 1 swarm.= ,
    FUNCTION 1 swarm.skillset_hash(swarm.skillset),
    FUNCTION 2 swarm.skillset_hash_extended(swarm.skillset, bigint);
COMMENT ON OPERATOR FAMILY swarm.skillset_ops USING hash IS 'hash operators of skillset';
COMMENT ON OPERATOR CLASS swarm.skillset_ops USING hash IS 'default hash operator class of skillset';

-- Set operators

CREATE FUNCTION swarm.skillset_contains(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_contains'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_contains(swarm.skillset, swarm.skillset) IS 'implementation of @> operator';

CREATE FUNCTION swarm.skillset_contained(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_contained'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_contained(swarm.skillset, swarm.skillset) IS 'implementation of <@ operator';

CREATE FUNCTION swarm.skillset_overlaps(swarm.skillset, swarm.skillset)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_overlaps'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_overlaps(swarm.skillset, swarm.skillset) IS 'implementation of && operator';

CREATE OPERATOR swarm.@> (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_contains,
    COMMUTATOR = OPERATOR(swarm.<@),
    RESTRICT = contsel,
    JOIN = contjoinsel
);
COMMENT ON OPERATOR swarm.@> (swarm.skillset, swarm.skillset) IS 'contains: has every skill of the right at least at its level';

CREATE OPERATOR swarm.<@ (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_contained,
    COMMUTATOR = OPERATOR(swarm.@>),
    RESTRICT = contsel,
    JOIN = contjoinsel
);
COMMENT ON OPERATOR swarm.<@ (swarm.skillset, swarm.skillset) IS 'is contained by: the right has every skill of the left at least at its level';

CREATE OPERATOR swarm.&& (
    LEFTARG = swarm.skillset,
    RIGHTARG = swarm.skillset,
    FUNCTION = swarm.skillset_overlaps,
    COMMUTATOR = OPERATOR(swarm.&&),
    RESTRICT = contsel,
    JOIN = contjoinsel
);
COMMENT ON OPERATOR swarm.&& (swarm.skillset, swarm.skillset) IS 'overlaps: shares at least one skill name, whatever the levels';

-- GIN index support: the keys are skill names

CREATE FUNCTION swarm.skillset_gin_extract_value(swarm.skillset, internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'skillset_gin_extract_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_gin_extract_value(swarm.skillset, internal, internal) IS 'GIN support: skill names of an indexed skillset';

CREATE FUNCTION swarm.skillset_gin_extract_query(swarm.skillset, internal, int2, internal, internal, internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'skillset_gin_extract_query'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_gin_extract_query(swarm.skillset, internal, int2, internal, internal, internal, internal) IS 'GIN support: skill names of a query skillset';

CREATE FUNCTION swarm.skillset_gin_consistent(internal, int2, swarm.skillset, int4, internal, internal, internal, internal)
RETURNS boolean
AS 'MODULE_PATHNAME', 'skillset_gin_consistent'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_gin_consistent(internal, int2, swarm.skillset, int4, internal, internal, internal, internal) IS 'GIN support: does an indexed value match the query';

CREATE FUNCTION swarm.skillset_gin_triconsistent(internal, int2, swarm.skillset, int4, internal, internal, internal)
RETURNS "char"
AS 'MODULE_PATHNAME', 'skillset_gin_triconsistent'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_gin_triconsistent(internal, int2, swarm.skillset, int4, internal, internal, internal) IS 'GIN support: ternary form of skillset_gin_consistent';

CREATE OPERATOR CLASS swarm.skillset_ops
DEFAULT FOR TYPE swarm.skillset USING gin AS
    OPERATOR 1 swarm.&& ,
    OPERATOR 2 swarm.@> ,
    FUNCTION 1 pg_catalog.bttext_pattern_cmp(text, text),
    FUNCTION 2 swarm.skillset_gin_extract_value(swarm.skillset, internal, internal),
    FUNCTION 3 swarm.skillset_gin_extract_query(swarm.skillset, internal, int2, internal, internal, internal, internal),
    FUNCTION 4 swarm.skillset_gin_consistent(internal, int2, swarm.skillset, int4, internal, internal, internal, internal),
    FUNCTION 6 swarm.skillset_gin_triconsistent(internal, int2, swarm.skillset, int4, internal, internal, internal),
    STORAGE text;
COMMENT ON OPERATOR FAMILY swarm.skillset_ops USING gin IS 'GIN operators of skillset';
COMMENT ON OPERATOR CLASS swarm.skillset_ops USING gin IS 'default GIN operator class of skillset: indexes skill names for @> and &&';

-- Functions

CREATE FUNCTION swarm.skill_level(swarm.skillset, text)
RETURNS integer
AS 'MODULE_PATHNAME', 'skillset_skill_level'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skill_level(swarm.skillset, text) IS 'level of a skill (name case-insensitive), 0 when the set lacks it';

CREATE FUNCTION swarm.skill_names(swarm.skillset)
RETURNS text[]
AS 'MODULE_PATHNAME', 'skillset_skill_names'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skill_names(swarm.skillset) IS 'skill names of a skillset, sorted';

CREATE FUNCTION swarm.skills(swarm.skillset)
RETURNS TABLE (name text, level integer)
AS 'MODULE_PATHNAME', 'skillset_skills'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 10;
COMMENT ON FUNCTION swarm.skills(swarm.skillset) IS 'skills of a skillset as (name, level) rows, sorted by name';

CREATE FUNCTION swarm.match_score(have swarm.skillset, need swarm.skillset)
RETURNS double precision
AS 'MODULE_PATHNAME', 'skillset_match'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.match_score(swarm.skillset, swarm.skillset) IS 'share of the needed levels that have covers: sum of min(have, need) / sum of need; 1 when need is empty';

-- jsonb casts

CREATE FUNCTION swarm.skillset_to_jsonb(swarm.skillset)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'skillset_to_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.skillset_to_jsonb(swarm.skillset) IS 'skillset as a jsonb object mapping names to levels';

CREATE FUNCTION swarm.jsonb_to_skillset(jsonb)
RETURNS swarm.skillset
AS 'MODULE_PATHNAME', 'jsonb_to_skillset'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION swarm.jsonb_to_skillset(jsonb) IS 'skillset from a jsonb object mapping names to integer levels';

CREATE CAST (swarm.skillset AS jsonb)
    WITH FUNCTION swarm.skillset_to_jsonb(swarm.skillset);
COMMENT ON CAST (swarm.skillset AS jsonb) IS 'skillset as a jsonb object {"name": level}';

CREATE CAST (jsonb AS swarm.skillset)
    WITH FUNCTION swarm.jsonb_to_skillset(jsonb);
COMMENT ON CAST (jsonb AS swarm.skillset) IS 'skillset from a jsonb object {"name": level}';

/*-------------------------------------------------------------------------
 *
 * routing.c
 *	  Routing scores: the right owner for a case, the right helpers for a
 *	  collaboration request.
 *
 * A score is the weighted mean of six components in [0, 1] (match, load,
 * availability, region, experience, continuity; see docs/routing.md),
 * rounded to 1e-9 so that ties are exact and break by the lower agent id.
 * Candidates come from the GIN index on agents' skills (or from the target
 * group's members, looked up by primary key: as a join, the generic plan
 * would hash every agent), filtered by eligibility in the same query, so a
 * call never scans every agent.  All reads go through SPI with saved plans; the
 * plans' parameters are text or bigint so that they survive DROP and CREATE
 * EXTENSION (the plan cache re-resolves names).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "agent_cache.h"
#include "calendar.h"
#include "routing.h"
#include "saved_plan.h"
#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_route_case);
PG_FUNCTION_INFO_V1(swarm_suggest_helpers);
PG_FUNCTION_INFO_V1(swarm_routing_score);
PG_FUNCTION_INFO_V1(swarm_explain_routing);
PG_FUNCTION_INFO_V1(swarm_decayed_credit);

/* Names of the components, as in swarm.routing_weights and in reasons */
static const char *const component_names[RC_NCOMPONENTS] = {
	"match", "load", "availability", "region", "experience", "continuity"
};

/* How a group orders its members for requests */
typedef enum RoutingMethod
{
	RM_SKILLS,
	RM_LEAST_LOADED,
	RM_ROUND_ROBIN
} RoutingMethod;

/* What is being routed, and everything the score needs besides the agent */
typedef struct RoutingContext
{
	bool		for_request;	/* helpers for a request, or owners for a case */
	int64		case_id;
	int64		request_id;
	SkillSet   *needed;
	char	   *needed_text;	/* needed, as text for the candidate query */
	double		need_total;		/* sum of needed levels */
	char	   *region;			/* the case's region, or NULL */
	int64		owner_id;		/* the case's owner, or 0 */
	int64		group_id;		/* the request's group, or 0 */
	bool		global_group;
	RoutingMethod method;
	int64		rr_cursor;		/* round robin: the last agent offered */
	int64		preferred_id;	/* the request's preferred helper, or 0 */
	int64		last_customer_owner;	/* owner of the customer's previous case */
	int64	   *participants;	/* agents who took part in the case, sorted */
	int			nparticipants;
	int64	   *excluded;		/* never candidates for this request, sorted */
	int			nexcluded;
	double		weights[RC_NCOMPONENTS];
	double		weight_sum;
	HTAB	   *experience;		/* agent_id -> ExperienceEntry; NULL with the cache */
	bool		use_cache;		/* candidates come from the routing cache */
	bool		regions_interned;	/* cached agents' regions compare by pointer */
	const char *region_key;		/* then: the case's region as they point to it */
	TimestampTz now;
} RoutingContext;

/* Accumulated experience of one agent on the needed skills */
typedef struct ExperienceEntry
{
	int64		agent_id;		/* hash key */
	double		weighted;		/* sum of need level * saturation(credit) */
} ExperienceEntry;

/* One candidate row as read from swarm.agents */
typedef struct AgentRow
{
	int64		agent_id;
	SkillSet   *skills;
	const char *region;
	bool		online;
	int32		capacity;		/* capacity or help_capacity */
	int32		used;			/* open_cases or open_helps */
	int64		calendar_id;	/* the agent's shift calendar, or 0 */
	const CachedAgent *cached;	/* the cache's entry, or NULL when read by SPI */
	int32		covered;		/* needed levels covered, when known; else -1 */
} AgentRow;

/* Free capacity of a region among the candidates of a global group */
typedef struct RegionSpare
{
	const char *region;			/* NULL for agents without a region */
	double		spare;
	double		capacity;
} RegionSpare;

/* Saved plans, prepared on first use */
static SPIPlanPtr plan_case = NULL;
static SPIPlanPtr plan_request = NULL;
static SPIPlanPtr plan_weights = NULL;
static SPIPlanPtr plan_experience = NULL;
static SPIPlanPtr plan_participants = NULL;
static SPIPlanPtr plan_last_owner = NULL;
static SPIPlanPtr plan_excluded = NULL;
static SPIPlanPtr plan_agent = NULL;
static SPIPlanPtr plan_owners_by_skill = NULL;
static SPIPlanPtr plan_owners_all = NULL;
static SPIPlanPtr plan_helpers_by_skill = NULL;
static SPIPlanPtr plan_helpers_in_group = NULL;
static SPIPlanPtr plan_preferred = NULL;

/* Run a saved read-only plan with the given arguments */
static void
routing_exec(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_plan(plan, values, nulls, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/* Fetch column col of row i of the last SPI result, noting whether it is null */
static Datum
routing_value(int i, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, isnull);
}

/* Column col of row i as a palloc'd C string, or NULL */
static char *
routing_text(int i, int col)
{
	bool		isnull;
	Datum		d = routing_value(i, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* Column col of row i as an int64, or 0 when null */
static int64
routing_int64(int i, int col)
{
	bool		isnull;
	Datum		d = routing_value(i, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* qsort comparator for int64 ids */
static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Is id in the sorted array ids[0..n-1]? */
static bool
int64_member(const int64 *ids, int n, int64 id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(int64), int64_cmp) != NULL;
}

/* Read the first column of every row of the last SPI result as sorted ids */
static int64 *
routing_id_list(int *n)
{
	int64	   *ids = palloc(Max(SPI_processed, 1) * sizeof(int64));
	uint64		i;

	*n = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = routing_value(i, 1, &isnull);

		if (!isnull)
			ids[(*n)++] = DatumGetInt64(d);
	}
	qsort(ids, *n, sizeof(int64), int64_cmp);
	return ids;
}

/* An experience credit decayed to "at" by the swarm.experience_half_life setting */
static double
decayed_credit(double credit, TimestampTz since, TimestampTz at)
{
	double		age = (double) (at - since) / (double) USECS_PER_SEC;

	if (age <= 0)
		return credit;
	return credit * pow(2.0, -age / (double) swarm_experience_half_life);
}

/* Load the effective weights from swarm.routing_weights */
static void
load_weights(RoutingContext *ctx)
{
	SPIPlanPtr	plan = swarm_saved_plan(&plan_weights,
									"SELECT component, weight FROM swarm.routing_weights", 0, NULL);
	uint64		i;
	int			c;

	for (c = 0; c < RC_NCOMPONENTS; c++)
		ctx->weights[c] = 0.0;
	routing_exec(plan, NULL, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = routing_text(i, 1);
		bool		isnull;
		double		w = DatumGetFloat8(routing_value(i, 2, &isnull));

		for (c = 0; c < RC_NCOMPONENTS; c++)
			if (strcmp(name, component_names[c]) == 0)
				ctx->weights[c] = isnull ? 0.0 : w;
	}
	ctx->weight_sum = 0.0;
	for (c = 0; c < RC_NCOMPONENTS; c++)
		ctx->weight_sum += ctx->weights[c];
	if (ctx->weight_sum <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("routing weights add up to zero"),
				 errhint("Give at least one component of swarm.routing_weights a positive weight.")));
}

/* Load every candidate's experience on the needed skills, decayed to now */
static void
load_experience(RoutingContext *ctx)
{
	Oid			argtypes[1] = {TEXTARRAYOID};
	SPIPlanPtr	plan = swarm_saved_plan(&plan_experience,
									"SELECT agent_id, skill, credit, updated_at FROM swarm.agent_experience"
									" WHERE skill = ANY ($1) ORDER BY agent_id, skill", 1, argtypes);
	HASHCTL		hctl;
	Datum	   *names;
	Datum		values[1];
	uint64		i;
	int			j;

	hctl.keysize = sizeof(int64);
	hctl.entrysize = sizeof(ExperienceEntry);
	hctl.hcxt = CurrentMemoryContext;
	ctx->experience = hash_create("swarm routing experience", 256, &hctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (ctx->needed->nskills == 0)
		return;

	names = palloc(ctx->needed->nskills * sizeof(Datum));
	for (j = 0; j < ctx->needed->nskills; j++)
		names[j] = PointerGetDatum(cstring_to_text_with_len(SKILLSET_NAME(ctx->needed, j),
															ctx->needed->entries[j].name_len));
	values[0] = PointerGetDatum(construct_array(names, ctx->needed->nskills, TEXTOID,
												-1, false, TYPALIGN_INT));
	routing_exec(plan, values, NULL);

	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		agent_id = routing_int64(i, 1);
		text	   *skill = DatumGetTextPP(routing_value(i, 2, &isnull));
		double		credit = DatumGetFloat8(routing_value(i, 3, &isnull));
		TimestampTz since = DatumGetTimestampTz(routing_value(i, 4, &isnull));
		int			level = skillset_level(ctx->needed, VARDATA_ANY(skill),
										   VARSIZE_ANY_EXHDR(skill));
		double		c = decayed_credit(credit, since, ctx->now);
		ExperienceEntry *e;
		bool		found;

		e = hash_search(ctx->experience, &agent_id, HASH_ENTER, &found);
		if (!found)
			e->weighted = 0.0;
		e->weighted += level * (c / (c + 1.0));
	}
}

/* Load who took part in the case and who owned the customer's previous case */
static void
load_continuity(RoutingContext *ctx, const char *customer_ref)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	SPIPlanPtr	plan;

	plan = swarm_saved_plan(&plan_participants,
						"SELECT agent_id FROM swarm.participants WHERE case_id = $1", 1, argtypes);
	values[0] = Int64GetDatum(ctx->case_id);
	routing_exec(plan, values, NULL);
	ctx->participants = routing_id_list(&ctx->nparticipants);

	ctx->last_customer_owner = 0;
	if (customer_ref == NULL)
		return;
	plan = swarm_saved_plan(&plan_last_owner,
						"SELECT owner_id FROM swarm.cases WHERE customer_ref = $2 AND case_id < $1"
						" AND owner_id IS NOT NULL ORDER BY case_id DESC LIMIT 1", 2, argtypes);
	values[1] = CStringGetTextDatum(customer_ref);
	routing_exec(plan, values, nulls);
	if (SPI_processed > 0)
		ctx->last_customer_owner = routing_int64(0, 1);
}

/* Set up the context for routing a case to an owner */
static void
load_case(RoutingContext *ctx, int64 case_id)
{
	Oid			argtypes[1] = {INT8OID};
	SPIPlanPtr	plan = swarm_saved_plan(&plan_case,
									"SELECT state::text, needed, needed::text, region, customer_ref, owner_id"
									" FROM swarm.cases WHERE case_id = $1", 1, argtypes);
	Datum		values[1];
	char	   *state;
	bool		isnull;

	memset(ctx, 0, sizeof(RoutingContext));
	ctx->now = GetCurrentTransactionStartTimestamp();
	ctx->case_id = case_id;
	values[0] = Int64GetDatum(case_id);
	routing_exec(plan, values, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("case " INT64_FORMAT " does not exist", case_id)));
	state = routing_text(0, 1);
	if (strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot route case " INT64_FORMAT ": it is %s", case_id, state),
				 errdetail("Only a case that is new, open or pending is routed.")));
	ctx->needed = DatumGetSkillSetP(routing_value(0, 2, &isnull));
	ctx->needed_text = routing_text(0, 3);
	ctx->region = routing_text(0, 4);
	ctx->owner_id = routing_int64(0, 6);
	load_continuity(ctx, routing_text(0, 5));
}

/* Set up the context for finding helpers for a request */
static void
load_request(RoutingContext *ctx, int64 request_id)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	SPIPlanPtr	plan = swarm_saved_plan(&plan_request,
									"SELECT r.state::text, r.needed, r.needed::text, c.region, c.customer_ref,"
									" c.owner_id, r.case_id, r.group_id, g.scope = 'global', g.routing::text,"
									" g.rr_cursor, r.preferred_id"
									" FROM swarm.collab_requests r JOIN swarm.cases c ON c.case_id = r.case_id"
									" LEFT JOIN swarm.skill_groups g ON g.group_id = r.group_id"
									" WHERE r.request_id = $1", 1, argtypes);
	Datum		values[2];
	char	   *state;
	char	   *method;
	bool		isnull;

	memset(ctx, 0, sizeof(RoutingContext));
	ctx->now = GetCurrentTransactionStartTimestamp();
	ctx->for_request = true;
	ctx->request_id = request_id;
	values[0] = Int64GetDatum(request_id);
	routing_exec(plan, values, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("request " INT64_FORMAT " does not exist", request_id)));
	state = routing_text(0, 1);
	if (strcmp(state, "open") != 0 && strcmp(state, "offered") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot route request " INT64_FORMAT ": it is %s", request_id, state),
				 errdetail("Only a request that is open or offered is routed.")));
	ctx->needed = DatumGetSkillSetP(routing_value(0, 2, &isnull));
	ctx->needed_text = routing_text(0, 3);
	ctx->region = routing_text(0, 4);
	ctx->owner_id = routing_int64(0, 6);
	ctx->case_id = routing_int64(0, 7);
	ctx->group_id = routing_int64(0, 8);
	ctx->global_group = DatumGetBool(routing_value(0, 9, &isnull)) && !isnull;
	method = routing_text(0, 10);
	ctx->method = RM_SKILLS;
	if (method != NULL && strcmp(method, "least_loaded") == 0)
		ctx->method = RM_LEAST_LOADED;
	else if (method != NULL && strcmp(method, "round_robin") == 0)
		ctx->method = RM_ROUND_ROBIN;
	ctx->rr_cursor = routing_int64(0, 11);
	ctx->preferred_id = routing_int64(0, 12);
	load_continuity(ctx, routing_text(0, 5));

	/* the owner, agents already helping on the case, and those who declined */
	plan = swarm_saved_plan(&plan_excluded,
						"SELECT helper_id FROM swarm.collab_requests WHERE case_id = $1 AND state = 'accepted'"
						" UNION SELECT agent_id FROM swarm.request_declines WHERE request_id = $2"
						" UNION SELECT owner_id FROM swarm.cases WHERE case_id = $1", 2, argtypes);
	values[0] = Int64GetDatum(ctx->case_id);
	values[1] = Int64GetDatum(request_id);
	routing_exec(plan, values, NULL);
	ctx->excluded = routing_id_list(&ctx->nexcluded);
}

/*
 * Prepare the shared parts of a context: needed-level total, weights, and
 * either the experience on the needed skills or the routing cache, which
 * holds every agent's experience
 */
static void
finish_context(RoutingContext *ctx, bool use_cache)
{
	int			j;

	ctx->need_total = 0.0;
	for (j = 0; j < ctx->needed->nskills; j++)
		ctx->need_total += ctx->needed->entries[j].level;
	load_weights(ctx);
	ctx->use_cache = use_cache && agent_cache_usable() && agent_cache_refresh();
	if (ctx->use_cache)
	{
		/* cached agents' regions are interned: compare them by pointer */
		ctx->regions_interned = agent_cache_regions_interned();
		if (ctx->region != NULL && ctx->regions_interned)
		{
			bool		known;
			const char *r = agent_cache_region(ctx->region, &known);

			/* not known: no cached agent has it, and no pointer equals ours */
			ctx->region_key = known ? r : ctx->region;
		}
	}
	else
		load_experience(ctx);
}

/* Run the candidate query that fits the context; rows are AgentRow-shaped */
static void
query_candidates(RoutingContext *ctx)
{
	Oid			argtypes[1];
	Datum		values[1];
	SPIPlanPtr	plan;

	if (ctx->for_request && ctx->group_id != 0)
	{
		argtypes[0] = INT8OID;
		values[0] = Int64GetDatum(ctx->group_id);
		plan = swarm_saved_plan(&plan_helpers_in_group,
							"SELECT a.agent_id, a.skills, a.region, a.presence = 'online', a.help_capacity, a.open_helps,"
							" a.calendar_id"
							" FROM swarm.agents a"
							" WHERE a.agent_id = ANY (ARRAY(SELECT m.agent_id FROM swarm.group_members m"
							" WHERE m.group_id = $1))"
							" AND a.active AND a.presence <> 'offline' AND a.open_helps < a.help_capacity",
							1, argtypes);
	}
	else if (ctx->for_request)
	{
		argtypes[0] = TEXTOID;
		values[0] = CStringGetTextDatum(ctx->needed_text);
		plan = swarm_saved_plan(&plan_helpers_by_skill,
							"SELECT agent_id, skills, region, presence = 'online', help_capacity, open_helps, calendar_id"
							" FROM swarm.agents WHERE skills OPERATOR(swarm.&&) $1::swarm.skillset"
							" AND active AND presence <> 'offline' AND open_helps < help_capacity",
							1, argtypes);
	}
	else if (ctx->needed->nskills > 0)
	{
		argtypes[0] = TEXTOID;
		values[0] = CStringGetTextDatum(ctx->needed_text);
		plan = swarm_saved_plan(&plan_owners_by_skill,
							"SELECT agent_id, skills, region, presence = 'online', capacity, open_cases, calendar_id"
							" FROM swarm.agents WHERE skills OPERATOR(swarm.&&) $1::swarm.skillset"
							" AND active AND presence <> 'offline' AND open_cases < capacity",
							1, argtypes);
	}
	else
	{
		plan = swarm_saved_plan(&plan_owners_all,
							"SELECT agent_id, skills, region, presence = 'online', capacity, open_cases, calendar_id"
							" FROM swarm.agents WHERE active AND presence <> 'offline' AND open_cases < capacity",
							0, NULL);
	}
	routing_exec(plan, values, NULL);
}

/* Read row i of a candidate query result */
static void
read_agent_row(int i, AgentRow *row)
{
	bool		isnull;

	row->agent_id = routing_int64(i, 1);
	row->skills = DatumGetSkillSetP(routing_value(i, 2, &isnull));
	row->region = routing_text(i, 3);
	row->online = DatumGetBool(routing_value(i, 4, &isnull));
	row->capacity = DatumGetInt32(routing_value(i, 5, &isnull));
	row->used = DatumGetInt32(routing_value(i, 6, &isnull));
	row->calendar_id = routing_int64(i, 7);
	row->cached = NULL;
	row->covered = -1;
}

/* Fill a row from the routing cache; for_request picks the help counters */
static void
cached_agent_row(const CachedAgent *a, bool for_request, AgentRow *row)
{
	row->agent_id = a->agent_id;
	row->skills = a->skills;
	row->region = a->region;
	row->online = a->presence == CP_ONLINE;
	row->capacity = for_request ? a->help_capacity : a->capacity;
	row->used = for_request ? a->open_helps : a->open_cases;
	row->calendar_id = a->calendar_id;
	row->cached = a;
	row->covered = -1;
}

/* Can a cached agent take the work at all (the candidate queries' filter)? */
static bool
cached_agent_eligible(const CachedAgent *a, bool for_request)
{
	if (a->agent_id == 0 || !a->active || a->presence == CP_OFFLINE)
		return false;
	return for_request ? a->open_helps < a->help_capacity : a->open_cases < a->capacity;
}

/* Level of a skill in a set, by exact name (as SQL's skill = ANY (...)), or 0 */
static int
needed_level(const SkillSet *needed, const char *name, int len)
{
	int			j;

	for (j = 0; j < needed->nskills; j++)
		if (needed->entries[j].name_len == len &&
			memcmp(SKILLSET_NAME(needed, j), name, len) == 0)
			return needed->entries[j].level;
	return 0;
}

/* A cached agent's experience on the needed skills, as load_experience sums it */
static double
cached_experience(const RoutingContext *ctx, const CachedAgent *a)
{
	double		weighted = 0.0;
	int			i;

	for (i = 0; i < a->nexperience; i++)
	{
		const CachedExperience *e = &a->experience[i];
		int			level = needed_level(ctx->needed, e->skill, e->skill_len);
		double		c;

		if (level == 0)
			continue;
		c = decayed_credit(e->credit, e->updated_at, ctx->now);
		weighted += level * (c / (c + 1.0));
	}
	return weighted;
}

/*
 * Collect the eligible candidates from the routing cache, as the candidate
 * queries would: a group's members, the agents having a needed skill, or
 * (a case needing no skill) every agent.  Returns how many rows it filled.
 */
static int
cached_candidates(RoutingContext *ctx, AgentRow **rowsp)
{
	uint32		mark = agent_cache_next_mark();
	AgentRow   *rows;
	int			nrows = 0;
	int			max;
	int			j;
	int			i;

	if (ctx->for_request && ctx->group_id != 0)
	{
		int			n;
		const int32 *slots = agent_cache_group(ctx->group_id, &n);

		rows = palloc((n + 1) * sizeof(AgentRow));
		for (i = 0; i < n; i++)
		{
			CachedAgent *a = agent_cache_slot(slots[i]);

			if (cached_agent_eligible(a, true))
				cached_agent_row(a, true, &rows[nrows++]);
		}
	}
	else if (ctx->for_request || ctx->needed->nskills > 0)
	{
		/*
		 * Walk the holders of each needed skill: an agent's first visit
		 * checks it and counts it in, every visit adds the needed levels it
		 * covers, so the match needs no look at the agent's skills.
		 */
		CachedAgent **found;
		int			nfound = 0;
		const SkillHolder **holders = palloc(Max(ctx->needed->nskills, 1) * sizeof(SkillHolder *));
		int		   *nholders = palloc(Max(ctx->needed->nskills, 1) * sizeof(int));

		max = 1;
		for (j = 0; j < ctx->needed->nskills; j++)
		{
			holders[j] = agent_cache_with_skill(SKILLSET_NAME(ctx->needed, j),
												ctx->needed->entries[j].name_len, &nholders[j]);
			max += nholders[j];
		}
		found = palloc(max * sizeof(CachedAgent *));
		for (j = 0; j < ctx->needed->nskills; j++)
		{
			int			need = ctx->needed->entries[j].level;

			for (i = 0; i < nholders[j]; i++)
			{
				CachedAgent *a = agent_cache_slot(holders[j][i].slot);

				if (a->mark != mark)
				{
					a->mark = mark;
					a->covered = 0;
					if (cached_agent_eligible(a, ctx->for_request))
						found[nfound++] = a;
				}
				a->covered += Min(holders[j][i].level, need);
			}
		}
		rows = palloc(max * sizeof(AgentRow));
		for (i = 0; i < nfound; i++)
		{
			cached_agent_row(found[i], ctx->for_request, &rows[nrows]);
			rows[nrows++].covered = found[i]->covered;
		}
	}
	else
	{
		int			n = agent_cache_nslots();

		rows = palloc((n + 1) * sizeof(AgentRow));
		for (i = 0; i < n; i++)
		{
			CachedAgent *a = agent_cache_slot(i);

			if (cached_agent_eligible(a, false))
				cached_agent_row(a, false, &rows[nrows++]);
		}
	}
	*rowsp = rows;
	return nrows;
}

/* Is the agent within its shift (its calendar's working hours) at "at"? */
static bool
on_shift(const AgentRow *row, TimestampTz at)
{
	return row->calendar_id == 0 || calendar_is_working(calendar_lookup_id(row->calendar_id), at);
}

/* Are two regions (either may be NULL) the same? */
static bool
same_region(const char *a, const char *b)
{
	if (a == b)
		return true;			/* interned by the routing cache, or both NULL */
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Spare capacity per region among the candidates, for global groups.  With
 * by_pointer (every row from the routing cache) regions are interned, and
 * compared by pointer.
 */
static RegionSpare *
region_spares(AgentRow *rows, int nrows, bool by_pointer, int *nregions)
{
	RegionSpare *spares = palloc(Max(nrows, 1) * sizeof(RegionSpare));
	int			i;

	*nregions = 0;
	for (i = 0; i < nrows; i++)
	{
		int			r;

		for (r = 0; r < *nregions; r++)
			if (by_pointer ? spares[r].region == rows[i].region
				: same_region(spares[r].region, rows[i].region))
				break;
		if (r == *nregions)
		{
			spares[r].region = rows[i].region;
			spares[r].spare = 0.0;
			spares[r].capacity = 0.0;
			(*nregions)++;
		}
		spares[r].spare += rows[i].capacity - rows[i].used;
		spares[r].capacity += rows[i].capacity;
	}
	return spares;
}

/* Compute the components and the score of one eligible agent */
static void
score_agent(const RoutingContext *ctx, const AgentRow *row,
			const RegionSpare *spares, int nregions, RoutingCandidate *cand)
{
	double	   *c = cand->components;
	double		sum = 0.0;
	ExperienceEntry *e;
	int			k;

	cand->agent_id = row->agent_id;
	/* as skillset_match_score computes it, from the covered levels when known */
	if (row->covered >= 0 && ctx->need_total > 0)
		c[RC_MATCH] = (double) row->covered / ctx->need_total;
	else
		c[RC_MATCH] = skillset_match_score(row->skills, ctx->needed);
	c[RC_LOAD] = row->capacity > 0 ? 1.0 - (double) row->used / (double) row->capacity : 0.0;
	c[RC_AVAILABILITY] = row->online ? 1.0 : 0.5;

	if (ctx->for_request && ctx->global_group)
	{
		c[RC_REGION] = 0.0;
		for (k = 0; k < nregions; k++)
			if ((ctx->regions_interned ? spares[k].region == row->region
				 : same_region(spares[k].region, row->region)) && spares[k].capacity > 0)
				c[RC_REGION] = spares[k].spare / spares[k].capacity;
	}
	else if (ctx->region == NULL)
		c[RC_REGION] = 1.0;
	else if (row->cached != NULL && ctx->regions_interned)
		c[RC_REGION] = row->region == ctx->region_key ? 1.0 : 0.0;
	else
		c[RC_REGION] = same_region(ctx->region, row->region) ? 1.0 : 0.0;

	if (row->cached != NULL)
		c[RC_EXPERIENCE] = ctx->need_total > 0 ? cached_experience(ctx, row->cached) / ctx->need_total : 0.0;
	else
	{
		e = hash_search(ctx->experience, &row->agent_id, HASH_FIND, NULL);
		c[RC_EXPERIENCE] = (e != NULL && ctx->need_total > 0) ? e->weighted / ctx->need_total : 0.0;
	}
	c[RC_CONTINUITY] = (int64_member(ctx->participants, ctx->nparticipants, row->agent_id) ||
						row->agent_id == ctx->last_customer_owner) ? 1.0 : 0.0;

	for (k = 0; k < RC_NCOMPONENTS; k++)
		sum += ctx->weights[k] * c[k];
	cand->score = rint(sum / ctx->weight_sum * ROUTING_SCORE_SCALE) / ROUTING_SCORE_SCALE;
	cand->preferred = (ctx->preferred_id != 0 && row->agent_id == ctx->preferred_id);
	cand->round_robin = false;

	switch (ctx->method)
	{
		case RM_LEAST_LOADED:
			cand->order_key = row->capacity > 0 ? (double) row->used / (double) row->capacity : 1.0;
			break;
		case RM_ROUND_ROBIN:
			cand->order_key = row->agent_id > ctx->rr_cursor ? 0.0 : 1.0;
			cand->round_robin = true;
			break;
		default:
			cand->order_key = 0.0;
			break;
	}
}

/* Candidate order: preferred first, then the group's method, then score, then id */
static int
candidate_cmp(const void *a, const void *b)
{
	const RoutingCandidate *x = (const RoutingCandidate *) a;
	const RoutingCandidate *y = (const RoutingCandidate *) b;

	if (x->preferred != y->preferred)
		return x->preferred ? -1 : 1;
	if (x->order_key != y->order_key)
		return x->order_key < y->order_key ? -1 : 1;
	/* round robin takes turns by agent id, whatever the scores */
	if (x->score != y->score && !x->round_robin)
		return x->score > y->score ? -1 : 1;
	return (x->agent_id > y->agent_id) - (x->agent_id < y->agent_id);
}

/* Read the eligible candidates with the candidate query that fits the context */
static int
queried_candidates(RoutingContext *ctx, AgentRow **rowsp)
{
	AgentRow   *rows;
	int			nrows = 0;
	uint64		i;

	query_candidates(ctx);
	rows = palloc((SPI_processed + 1) * sizeof(AgentRow));
	for (i = 0; i < SPI_processed; i++)
		read_agent_row(i, &rows[nrows++]);
	*rowsp = rows;
	return nrows;
}

/* The preferred helper as a candidate row, if it is eligible; false if not */
static bool
preferred_row(RoutingContext *ctx, AgentRow *row)
{
	if (ctx->use_cache)
	{
		CachedAgent *a = agent_cache_agent(ctx->preferred_id);

		if (a == NULL || !cached_agent_eligible(a, true))
			return false;
		cached_agent_row(a, true, row);
	}
	else
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1];
		SPIPlanPtr	plan = swarm_saved_plan(&plan_preferred,
										"SELECT agent_id, skills, region, presence = 'online', help_capacity, open_helps, calendar_id"
										" FROM swarm.agents WHERE agent_id = $1 AND active"
										" AND presence <> 'offline' AND open_helps < help_capacity",
										1, argtypes);

		values[0] = Int64GetDatum(ctx->preferred_id);
		routing_exec(plan, values, NULL);
		if (SPI_processed == 0)
			return false;
		read_agent_row(0, row);
	}
	return on_shift(row, ctx->now);
}

/*
 * Keep the best k of cands[0..n-1], sorted best first; returns how many.
 * Candidate order is total (ties break by agent id), so this gives the
 * first k of a full sort.
 */
static int
best_candidates(RoutingCandidate *cands, int n, int k)
{
	RoutingCandidate *best;
	int			nbest = 0;
	int			i;

	if (n <= k || k > 64)
	{
		if (n > 1)
			qsort(cands, n, sizeof(RoutingCandidate), candidate_cmp);
		return Min(n, k);
	}

	/* a sorted array of the best so far; most candidates lose to its last */
	best = palloc(k * sizeof(RoutingCandidate));
	for (i = 0; i < n; i++)
	{
		int			pos;

		if (nbest == k && candidate_cmp(&cands[i], &best[k - 1]) >= 0)
			continue;
		pos = nbest < k ? nbest : k - 1;
		while (pos > 0 && candidate_cmp(&cands[i], &best[pos - 1]) < 0)
		{
			best[pos] = best[pos - 1];
			pos--;
		}
		best[pos] = cands[i];
		if (nbest < k)
			nbest++;
	}
	memcpy(cands, best, nbest * sizeof(RoutingCandidate));
	pfree(best);
	return nbest;
}

/* Score every candidate of the context; returns the best k, best first */
static RoutingCandidate *
rank_candidates(RoutingContext *ctx, int k, int *ncands)
{
	AgentRow   *rows;
	RegionSpare *spares = NULL;
	RoutingCandidate *cands;
	int			nfound;
	int			nrows = 0;
	int			nregions = 0;
	int			i;
	bool		have_preferred = false;
	int			nmembers;

	if (ctx->use_cache)
		nfound = cached_candidates(ctx, &rows);
	else
		nfound = queried_candidates(ctx, &rows);

	/* the exclusions and the shift, which the candidate search leaves to us */
	for (i = 0; i < nfound; i++)
	{
		AgentRow   *row = &rows[i];

		if (ctx->for_request && int64_member(ctx->excluded, ctx->nexcluded, row->agent_id))
			continue;
		if (!on_shift(row, ctx->now))
			continue;
		if (row->agent_id == ctx->preferred_id)
			have_preferred = true;
		if (nrows != i)
			rows[nrows] = *row;
		nrows++;
	}
	nmembers = nrows;

	/* a preferred helper outside the group still comes first when eligible */
	if (ctx->preferred_id != 0 && !have_preferred &&
		!int64_member(ctx->excluded, ctx->nexcluded, ctx->preferred_id) &&
		preferred_row(ctx, &rows[nrows]))
		nrows++;

	/* follow the sun: spare capacity per region among the group's eligible members */
	if (ctx->for_request && ctx->global_group)
		spares = region_spares(rows, nmembers, ctx->regions_interned, &nregions);

	cands = palloc(Max(nrows, 1) * sizeof(RoutingCandidate));
	for (i = 0; i < nrows; i++)
		score_agent(ctx, &rows[i], spares, nregions, &cands[i]);
	*ncands = best_candidates(cands, nrows, k);
	return cands;
}

/* Append a float as a JSON number (shortest exact form) */
static void
append_json_number(StringInfo buf, double v)
{
	char	   *s = float8out_internal(v);

	appendStringInfoString(buf, s);
	pfree(s);
}

/* The reasons of a candidate: each component's value, as a jsonb object */
static Datum
candidate_reasons(const RoutingContext *ctx, const RoutingCandidate *cand)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (k = 0; k < RC_NCOMPONENTS; k++)
	{
		appendStringInfo(&buf, "%s\"%s\": ", k > 0 ? ", " : "", component_names[k]);
		append_json_number(&buf, cand->components[k]);
	}
	if (cand->preferred)
		appendStringInfoString(&buf, ", \"preferred\": true");
	if (ctx->method == RM_LEAST_LOADED)
		appendStringInfoString(&buf, ", \"method\": \"least_loaded\"");
	else if (ctx->method == RM_ROUND_ROBIN)
		appendStringInfoString(&buf, ", \"method\": \"round_robin\"");
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* Check the k argument of route_case and suggest_helpers */
static void
check_k(int32 k)
{
	if (k <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be positive: %d", k)));
}

/* Emit the best k candidates as (agent_id, score, reasons) rows */
static void
emit_candidates(FunctionCallInfo fcinfo, RoutingContext *ctx, int32 k)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RoutingCandidate *cands;
	int			ncands;
	int			i;

	cands = rank_candidates(ctx, k, &ncands);
	for (i = 0; i < ncands; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum(cands[i].agent_id);
		values[1] = Float8GetDatum(cands[i].score);
		values[2] = candidate_reasons(ctx, &cands[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* The set-returning routing functions: the best k candidates for a case or a request */
static Datum
routing_srf(FunctionCallInfo fcinfo, bool for_request)
{
	int64		id = PG_GETARG_INT64(0);
	int32		k = PG_GETARG_INT32(1);
	RoutingContext ctx;

	check_k(k);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (for_request)
		load_request(&ctx, id);
	else
		load_case(&ctx, id);
	finish_context(&ctx, true);
	emit_candidates(fcinfo, &ctx, k);
	SPI_finish();
	return (Datum) 0;
}

/* swarm.route_case(case_id, k): the best k eligible owners, best first */
Datum
swarm_route_case(PG_FUNCTION_ARGS)
{
	return routing_srf(fcinfo, false);
}

/* swarm.suggest_helpers(request_id, k): the best k eligible helpers, best first */
Datum
swarm_suggest_helpers(PG_FUNCTION_ARGS)
{
	return routing_srf(fcinfo, true);
}

/*
 * Score one agent for a case.  Sets *ineligible to why the agent cannot own
 * it (NULL when it can); the components are computed either way.
 */
static void
score_one(RoutingContext *ctx, int64 agent_id, RoutingCandidate *cand, const char **ineligible)
{
	Oid			argtypes[1] = {INT8OID};
	SPIPlanPtr	plan = swarm_saved_plan(&plan_agent,
									"SELECT agent_id, skills, region, presence = 'online', capacity, open_cases,"
									" calendar_id, active, presence = 'offline' FROM swarm.agents WHERE agent_id = $1",
									1, argtypes);
	Datum		values[1];
	AgentRow	row;
	bool		isnull;

	values[0] = Int64GetDatum(agent_id);
	routing_exec(plan, values, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("agent " INT64_FORMAT " does not exist", agent_id)));
	read_agent_row(0, &row);

	*ineligible = NULL;
	if (!DatumGetBool(routing_value(0, 8, &isnull)))
		*ineligible = "inactive";
	else if (DatumGetBool(routing_value(0, 9, &isnull)))
		*ineligible = "offline";
	else if (!on_shift(&row, ctx->now))
		*ineligible = "outside working hours";
	else if (row.used >= row.capacity)
		*ineligible = "at capacity";
	else if (ctx->needed->nskills > 0 && !skillset_overlaps_internal(row.skills, ctx->needed))
		*ineligible = "no needed skill";

	score_agent(ctx, &row, NULL, 0, cand);
	if (*ineligible != NULL)
		cand->score = 0.0;
}

/* swarm.routing_score(agent, case_id): the agent's score as owner, 0 when ineligible */
Datum
swarm_routing_score(PG_FUNCTION_ARGS)
{
	int64		agent_id = PG_GETARG_INT64(0);
	int64		case_id = PG_GETARG_INT64(1);
	RoutingContext ctx;
	RoutingCandidate cand;
	const char *ineligible;

	SPI_connect();
	load_case(&ctx, case_id);
	finish_context(&ctx, false);
	score_one(&ctx, agent_id, &cand, &ineligible);
	SPI_finish();
	PG_RETURN_FLOAT8(cand.score);
}

/* swarm.explain_routing(agent, case_id): every component with its weight */
Datum
swarm_explain_routing(PG_FUNCTION_ARGS)
{
	int64		agent_id = PG_GETARG_INT64(0);
	int64		case_id = PG_GETARG_INT64(1);
	RoutingContext ctx;
	RoutingCandidate cand;
	const char *ineligible;
	StringInfoData buf;
	MemoryContext caller = CurrentMemoryContext;
	char	   *json;
	int			k;

	SPI_connect();
	load_case(&ctx, case_id);
	finish_context(&ctx, false);
	score_one(&ctx, agent_id, &cand, &ineligible);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"agent_id\": " INT64_FORMAT ", \"case_id\": " INT64_FORMAT
					 ", \"eligible\": %s", agent_id, case_id, ineligible ? "false" : "true");
	if (ineligible)
		appendStringInfo(&buf, ", \"ineligible\": \"%s\"", ineligible);
	appendStringInfoString(&buf, ", \"score\": ");
	append_json_number(&buf, cand.score);
	appendStringInfoString(&buf, ", \"components\": {");
	for (k = 0; k < RC_NCOMPONENTS; k++)
	{
		appendStringInfo(&buf, "%s\"%s\": {\"value\": ", k > 0 ? ", " : "", component_names[k]);
		append_json_number(&buf, cand.components[k]);
		appendStringInfoString(&buf, ", \"weight\": ");
		append_json_number(&buf, ctx.weights[k]);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "}}");
	json = MemoryContextStrdup(caller, buf.data);
	SPI_finish();

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* swarm.decayed_credit(credit, since, at): a credit decayed by the half-life setting */
Datum
swarm_decayed_credit(PG_FUNCTION_ARGS)
{
	double		credit = PG_GETARG_FLOAT8(0);
	TimestampTz since = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);

	PG_RETURN_FLOAT8(decayed_credit(credit, since, at));
}

PG_FUNCTION_INFO_V1(swarm_offer_timeout_setting);
PG_FUNCTION_INFO_V1(swarm_grab_threshold_setting);

/* swarm.offer_timeout(): the swarm.offer_timeout setting as an interval */
Datum
swarm_offer_timeout_setting(PG_FUNCTION_ARGS)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = (int64) swarm_offer_timeout * USECS_PER_SEC;
	PG_RETURN_INTERVAL_P(result);
}

/* swarm.grab_threshold(): the swarm.grab_threshold setting */
Datum
swarm_grab_threshold_setting(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(swarm_grab_threshold);
}

/*-------------------------------------------------------------------------
 *
 * grab.c
 *	  swarm.grab_request: an agent pulls the most urgent open request it is
 *	  qualified for.
 *
 * The PL/pgSQL version made five nested calls, each switching search_path,
 * and six statements.  Here a grab is two statements, both saved plans run
 * through SPI:
 *
 *	1. the agent's row, locked FOR NO KEY UPDATE, joined laterally with the
 *	   head of its queue, locked FOR NO KEY UPDATE SKIP LOCKED; the queue is
 *	   read only when the agent may grab;
 *	2. every write in one data-modifying CTE: the agent's open_helps, the
 *	   request, the participant, the event and its notification, as
 *	   take_request and record_event make them.
 *
 * As before, the agent is locked before the queue is read, so a second grab
 * by the same agent waits for the first transaction and then sees its
 * count: the agent never goes past its help capacity.  (Without that lock
 * the second grab would take the next request and wait only at the agent's
 * UPDATE; measured, the lock costs nothing noticeable, and it keeps which
 * request each grab gets exactly as it was.)  The UPDATE repeats the checks
 * in its WHERE all the same.  Under READ COMMITTED a grab that waited for
 * the agent's row continues with the newest version of it (EvalPlanQual);
 * under REPEATABLE READ it fails with 40001, as before.
 *
 * The queue query keeps its two exclusions as correlated subqueries fenced
 * with OFFSET 0, so that they are probed by key for the few rows that pass
 * the skill match; as anti-joins the generic plan may scan and hash all
 * cases or declines on every call.  Their per-row cost makes the planner's
 * estimate for the LIMIT 1 large enough to trigger JIT compilation, which
 * costs tens of milliseconds per call: the function runs with jit = off.
 *
 * swarm's objects are schema-qualified, and the function pins search_path
 * to pg_catalog, pg_temp (see its CREATE FUNCTION), under which the
 * built-ins resolve; the saved plans are thus made, and re-made after an
 * invalidation, under the same path whoever calls.  Parameters are bigint
 * only, so the plans survive DROP and CREATE EXTENSION (the plan cache
 * re-resolves names).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "saved_plan.h"

PG_FUNCTION_INFO_V1(swarm_grab_request);

/* Columns of the agent-and-queue query, from 1 */
#define AQ_ACTIVE		1
#define AQ_OPEN_HELPS	2
#define AQ_HELP_CAP		3
#define AQ_REQUEST_ID	4

/* The agent, locked, and the head of its queue when it may grab */
static const char *const agent_queue_sql =
"WITH a AS (SELECT g.agent_id, g.active, g.open_helps, g.help_capacity, g.skills"
"             FROM swarm.agents AS g WHERE g.agent_id = $1"
"              FOR NO KEY UPDATE)"
"SELECT a.active, a.open_helps, a.help_capacity, q.request_id"
"  FROM a"
"  LEFT JOIN LATERAL ("
"        SELECT t.request_id"
"          FROM swarm.collab_requests AS t"
"         WHERE a.active AND a.open_helps < a.help_capacity"
"           AND t.state = 'open'"
"           AND t.needed OPERATOR(swarm.&&) a.skills"
"           AND swarm.match_score(a.skills, t.needed) >= swarm.grab_threshold()"
"           AND NOT EXISTS (SELECT 1 FROM swarm.cases AS c"
"                            WHERE c.case_id = t.case_id AND c.owner_id = a.agent_id OFFSET 0)"
"           AND NOT EXISTS (SELECT 1 FROM swarm.request_declines AS d"
"                            WHERE d.request_id = t.request_id AND d.agent_id = a.agent_id OFFSET 0)"
"         ORDER BY t.priority, t.created_at, t.request_id"
"         LIMIT 1"
"           FOR NO KEY UPDATE OF t SKIP LOCKED) AS q ON true";

/*
 * The writes of a grab, as take_request(r, a, 'grabbed') and record_event
 * make them; no row at all when the agent's UPDATE matched nothing.  The
 * request ($2) and the agent ($1) are locked by this transaction.
 */
static const char *const take_sql =
"WITH l AS (UPDATE swarm.agents AS a SET open_helps = a.open_helps + 1"
"            WHERE a.agent_id = $1 AND a.active AND a.open_helps < a.help_capacity"
"           RETURNING a.agent_id),"
"     u AS (UPDATE swarm.collab_requests AS t"
"              SET state = 'accepted', helper_id = l.agent_id, accepted_at = now(),"
"                  offered_to = NULL, offered_at = NULL"
"             FROM l WHERE t.request_id = $2"
"           RETURNING t.case_id, t.request_id, t.helper_id),"
"     p AS (INSERT INTO swarm.participants (case_id, agent_id, role)"
"           SELECT u.case_id, u.helper_id, 'helper' FROM u"
"           ON CONFLICT ON CONSTRAINT participants_pkey DO NOTHING),"
"     e AS (INSERT INTO swarm.events (kind, case_id, request_id, agent_id, detail)"
"           SELECT 'request_accepted', u.case_id, u.request_id, u.helper_id,"
"                  '{\"was\": \"open\", \"how\": \"grabbed\"}' FROM u"
"           RETURNING events.kind, events.event_id, events.case_id, events.request_id,"
"                     events.agent_id, events.at)"
"SELECT swarm.notify_event('swarm_events', json_build_object("
"           'kind', e.kind, 'event_id', e.event_id, 'case_id', e.case_id,"
"           'request_id', e.request_id, 'agent_id', e.agent_id, 'at', e.at)::text)"
"  FROM e";

/* The agent as it is now, to explain an UPDATE that matched nothing */
static const char *const agent_sql =
"SELECT a.active, a.open_helps, a.help_capacity FROM swarm.agents AS a WHERE a.agent_id = $1";

static SPIPlanPtr plan_agent_queue = NULL;
static SPIPlanPtr plan_take = NULL;
static SPIPlanPtr plan_agent = NULL;

/* The saved plan of a statement with nargs bigint parameters */
static SPIPlanPtr
grab_plan(SPIPlanPtr *plan, const char *sql, int nargs)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};

	return swarm_saved_plan(plan, sql, nargs, argtypes);
}

/* Run a saved SELECT (which may lock or write) with a new snapshot */
static void
grab_exec(SPIPlanPtr plan, Datum *values)
{
	int			rc = SPI_execute_plan(plan, values, NULL, false, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/* Column col of the first row of the last SPI result, which must not be null */
static Datum
grab_value(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	Assert(!isnull);
	return d;
}

/*
 * Raise the error that the agent row of the last SPI result calls for, if
 * any: it does not exist, it is not active, it is at help capacity.
 */
static void
check_agent(int64 agent_id)
{
	int32		open_helps;
	int32		help_capacity;

	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("agent " INT64_FORMAT " does not exist", agent_id)));
	if (!DatumGetBool(grab_value(AQ_ACTIVE)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("agent " INT64_FORMAT " is not active", agent_id),
				 errhint("Reactivate the agent with swarm.update_agent(agent, active => true).")));
	open_helps = DatumGetInt32(grab_value(AQ_OPEN_HELPS));
	help_capacity = DatumGetInt32(grab_value(AQ_HELP_CAP));
	if (open_helps >= help_capacity)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("agent " INT64_FORMAT " is at help capacity", agent_id),
				 errdetail("Requests being helped on: %d; help capacity: %d.",
						   open_helps, help_capacity)));
}

/* swarm.grab_request(agent): the request the agent took, or NULL when none fits */
Datum
swarm_grab_request(PG_FUNCTION_ARGS)
{
	int64		agent_id;
	int64		request_id;
	Datum		values[2];
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("agent must not be null")));
	agent_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(agent_id);

	SPI_connect();

	grab_exec(grab_plan(&plan_agent_queue, agent_queue_sql, 1), values);
	check_agent(agent_id);
	request_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 AQ_REQUEST_ID, &isnull));
	if (isnull)
	{
		/* nothing the agent qualifies for: no write, no event */
		SPI_finish();
		PG_RETURN_NULL();
	}

	values[1] = Int64GetDatum(request_id);
	grab_exec(grab_plan(&plan_take, take_sql, 2), values);
	if (SPI_processed == 0)
	{
		/*
		 * Cannot happen while this transaction holds the agent's row; should
		 * it, read the row again to say what is wrong with it.
		 */
		grab_exec(grab_plan(&plan_agent, agent_sql, 1), values);
		check_agent(agent_id);
		elog(ERROR, "agent " INT64_FORMAT " changed while grab_request held it", agent_id);
	}

	SPI_finish();
	PG_RETURN_INT64(request_id);
}

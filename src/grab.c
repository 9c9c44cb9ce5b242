/*-------------------------------------------------------------------------
 *
 * grab.c
 *	  swarm.grab_request: an agent pulls the most urgent open request it is
 *	  qualified for.
 *
 * The PL/pgSQL version made five nested calls, each switching search_path,
 * and six statements.  Here a grab is one statement, a saved plan run
 * through SPI: the agent's row, locked FOR NO KEY UPDATE; the head of its
 * queue, locked FOR NO KEY UPDATE SKIP LOCKED, read only when the agent may
 * grab; and every write in data-modifying CTEs: the agent's open_helps, the
 * request, the participant, the event and its notification.  The statement
 * returns the agent's row as locked, from which the errors are raised
 * afterwards; when the agent may not grab, the queue is not read and nothing
 * is written.
 *
 * As before, the agent is locked before the queue is read, so a second grab
 * by the same agent waits for the first transaction and then sees its
 * count: the agent never goes past its help capacity.  (Without that lock
 * the second grab would take the next request and wait only at the agent's
 * UPDATE; measured, the lock costs little, and it keeps which request each
 * grab gets exactly as it was.)  The UPDATE repeats the checks in its WHERE
 * all the same.  Under READ COMMITTED a grab that waited for the agent's row
 * continues with the newest version of it (EvalPlanQual); under REPEATABLE
 * READ it fails with 40001, as before.
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

/* Columns of the grab statement's one row, from 1 */
#define GR_ACTIVE		1
#define GR_OPEN_HELPS	2
#define GR_HELP_CAP		3
#define GR_REQUEST_ID	4
#define GR_EVENT_ID		5

/*
 * A whole grab in one statement.  a: the agent, locked.  q: the head of its
 * queue, locked, read only when the agent may grab.  Then the writes, as
 * take_request(r, a, 'grabbed') and record_event make them: l, the agent's
 * open_helps (its WHERE repeats the checks); u, the request, only when l
 * counted it; p, the participant; e, the event; n, its notification.  The
 * one row is the agent as locked, the request found (NULL when none) and the
 * event made (NULL when nothing was taken); no row when the agent does not
 * exist.
 */
static const char *const grab_sql =
"WITH a AS (SELECT g.agent_id, g.active, g.open_helps, g.help_capacity, g.skills"
"             FROM swarm.agents AS g WHERE g.agent_id = $1"
"              FOR NO KEY UPDATE),"
"     q AS (SELECT h.request_id"
"             FROM a, LATERAL ("
"                  SELECT t.request_id"
"                    FROM swarm.collab_requests AS t"
"                   WHERE a.active AND a.open_helps < a.help_capacity"
"                     AND t.state = 'open'"
"                     AND t.needed OPERATOR(swarm.&&) a.skills"
"                     AND swarm.match_score(a.skills, t.needed) >= swarm.grab_threshold()"
"                     AND NOT EXISTS (SELECT 1 FROM swarm.cases AS c"
"                                      WHERE c.case_id = t.case_id AND c.owner_id = a.agent_id OFFSET 0)"
"                     AND NOT EXISTS (SELECT 1 FROM swarm.request_declines AS d"
"                                      WHERE d.request_id = t.request_id AND d.agent_id = a.agent_id OFFSET 0)"
"                   ORDER BY t.priority, t.created_at, t.request_id"
"                   LIMIT 1"
"                     FOR NO KEY UPDATE OF t SKIP LOCKED) AS h),"
"     l AS (UPDATE swarm.agents AS g SET open_helps = g.open_helps + 1"
"             FROM q"
"            WHERE g.agent_id = $1 AND g.active AND g.open_helps < g.help_capacity"
"           RETURNING g.agent_id),"
"     u AS (UPDATE swarm.collab_requests AS t"
"              SET state = 'accepted', helper_id = l.agent_id, accepted_at = now(),"
"                  offered_to = NULL, offered_at = NULL"
"             FROM q, l WHERE t.request_id = q.request_id"
"           RETURNING t.case_id, t.request_id, t.helper_id),"
"     p AS (INSERT INTO swarm.participants (case_id, agent_id, role)"
"           SELECT u.case_id, u.helper_id, 'helper' FROM u"
"           ON CONFLICT ON CONSTRAINT participants_pkey DO NOTHING),"
"     e AS (INSERT INTO swarm.events (kind, case_id, request_id, agent_id, detail)"
"           SELECT 'request_accepted', u.case_id, u.request_id, u.helper_id,"
"                  '{\"was\": \"open\", \"how\": \"grabbed\"}' FROM u"
"           RETURNING events.kind, events.event_id, events.case_id, events.request_id,"
"                     events.agent_id, events.at),"
"     n AS (SELECT e.event_id, swarm.notify_event('swarm_events', json_build_object("
"                  'kind', e.kind, 'event_id', e.event_id, 'case_id', e.case_id,"
"                  'request_id', e.request_id, 'agent_id', e.agent_id, 'at', e.at)::text)"
"             FROM e)"
"SELECT a.active, a.open_helps, a.help_capacity, q.request_id,"
"       (SELECT n.event_id FROM n) AS event_id"
"  FROM a LEFT JOIN q ON true";

/* The agent as it is now, to explain an UPDATE that matched nothing */
static const char *const agent_sql =
"SELECT a.active, a.open_helps, a.help_capacity FROM swarm.agents AS a WHERE a.agent_id = $1";

static SPIPlanPtr plan_grab = NULL;
static SPIPlanPtr plan_agent = NULL;

/* The saved plan of a statement whose one parameter is the agent */
static SPIPlanPtr
grab_plan(SPIPlanPtr *plan, const char *sql)
{
	Oid			argtypes[1] = {INT8OID};

	return swarm_saved_plan(plan, sql, 1, argtypes);
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
	if (!DatumGetBool(grab_value(GR_ACTIVE)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("agent " INT64_FORMAT " is not active", agent_id),
				 errhint("Reactivate the agent with swarm.update_agent(agent, active => true).")));
	open_helps = DatumGetInt32(grab_value(GR_OPEN_HELPS));
	help_capacity = DatumGetInt32(grab_value(GR_HELP_CAP));
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
	Datum		values[1];
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("agent must not be null")));
	agent_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(agent_id);

	SPI_connect();

	grab_exec(grab_plan(&plan_grab, grab_sql), values);
	check_agent(agent_id);
	request_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 GR_REQUEST_ID, &isnull));
	if (isnull)
	{
		/* nothing the agent qualifies for: no write, no event */
		SPI_finish();
		PG_RETURN_NULL();
	}

	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, GR_EVENT_ID, &isnull);
	if (isnull)
	{
		/*
		 * The request was found but the agent's UPDATE matched nothing.  That
		 * cannot happen while this statement holds the agent's row; should
		 * it, read the row again to say what is wrong with it.
		 */
		grab_exec(grab_plan(&plan_agent, agent_sql), values);
		check_agent(agent_id);
		elog(ERROR, "agent " INT64_FORMAT " changed while grab_request held it", agent_id);
	}

	SPI_finish();
	PG_RETURN_INT64(request_id);
}

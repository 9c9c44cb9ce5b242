/*-------------------------------------------------------------------------
 *
 * escalator.c
 *	  The escalation background worker: it sleeps until the earliest next
 *	  escalation (or swarm.escalation_naptime), is woken through its latch
 *	  when a commit makes something due sooner, and then runs one sweep,
 *	  swarm.escalate_due(), per transaction.
 *
 * Shared memory holds one slot per running worker (pid, database, latch,
 * state and counters) for swarm.escalator_status and for waking it.
 * Backends note the earliest escalation time they scheduled in their
 * transaction and set the latch at commit, so the worker never wakes
 * before the row it should see is visible.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_wake_escalator);
PG_FUNCTION_INFO_V1(swarm_start_escalator);
PG_FUNCTION_INFO_V1(swarm_stop_escalator);
PG_FUNCTION_INFO_V1(swarm_escalator_workers);

/* How many escalation workers may run at once (one per database, or a spare) */
#define ESCALATOR_MAX_WORKERS 8
/* How soon a sweep retries due requests it had to skip (locked elsewhere) */
#define ESCALATOR_RETRY_MS 250

/* What a worker is doing, for swarm.escalator_status */
typedef enum EscalatorState
{
	ES_STARTING,
	ES_SLEEPING,
	ES_SWEEPING,
	ES_DISABLED,
	ES_NO_EXTENSION
} EscalatorState;

static const char *const escalator_state_names[] = {
	"starting", "sleeping", "sweeping", "disabled", "extension not installed"
};

/* One running worker */
typedef struct EscalatorSlot
{
	bool		in_use;
	bool		dynamic;		/* started by swarm.start_escalator() */
	pid_t		pid;
	Oid			dbid;
	Latch	   *latch;
	EscalatorState state;
	TimestampTz started_at;
	TimestampTz last_sweep;
	TimestampTz next_wakeup;
	int64		escalations;	/* made since the worker started */
	double		last_lag_ms;	/* largest due -> done lag of the last sweep that escalated */
} EscalatorSlot;

typedef struct EscalatorShared
{
	slock_t		mutex;
	EscalatorSlot slots[ESCALATOR_MAX_WORKERS];
} EscalatorShared;

/* Settings */
static char *escalator_database = NULL;
static char *escalator_role = NULL;
static bool escalator_enabled = true;
static int	escalator_naptime = 10;		/* seconds */
static int	escalator_batch_size = 1000;

static EscalatorShared *escalator_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend: the earliest escalation it scheduled in its transaction */
static TimestampTz pending_wake = 0;
static bool xact_callback_registered = false;

/* This worker's slot */
static int	my_slot = -1;

PGDLLEXPORT void swarm_escalator_main(Datum main_arg);

/* Ask for the shared memory the slots need */
static void
escalator_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EscalatorShared)));
}

/* Create or attach to the slots */
static void
escalator_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	escalator_shared = ShmemInitStruct("swarm escalator", sizeof(EscalatorShared), &found);
	if (!found)
	{
		memset(escalator_shared, 0, sizeof(EscalatorShared));
		SpinLockInit(&escalator_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Fill in what a worker of ours needs to be registered */
static void
escalator_worker_init(BackgroundWorker *worker, bool dynamic)
{
	memset(worker, 0, sizeof(BackgroundWorker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = dynamic ? BGW_NEVER_RESTART : 10;
	strlcpy(worker->bgw_library_name, "swarm", BGW_MAXLEN);
	strlcpy(worker->bgw_function_name, "swarm_escalator_main", BGW_MAXLEN);
	strlcpy(worker->bgw_name, "swarm escalator", BGW_MAXLEN);
	strlcpy(worker->bgw_type, "swarm escalator", BGW_MAXLEN);
}

/* Define the worker's settings; when preloaded, also its shared memory and the worker */
void
escalator_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("swarm.database_name",
							   "Database the escalation worker works in.",
							   NULL, &escalator_database, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("swarm.escalation_role",
							   "Role the escalation worker works as (empty: the extension's owner).",
							   NULL, &escalator_role, "",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("swarm.escalation_enabled",
							 "Whether the escalation worker escalates.",
							 NULL, &escalator_enabled, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("swarm.escalation_naptime",
							"Longest time the escalation worker sleeps.",
							NULL, &escalator_naptime, 10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("swarm.escalation_batch_size",
							"Most requests one escalation sweep (one transaction) handles.",
							NULL, &escalator_batch_size, 1000, 1, 1000000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = escalator_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = escalator_shmem_startup;

	escalator_worker_init(&worker, false);
	RegisterBackgroundWorker(&worker);
}

/* Take a free slot for this worker, or exit when all are taken */
static void
escalator_claim_slot(bool dynamic)
{
	int			i;

	SpinLockAcquire(&escalator_shared->mutex);
	for (i = 0; i < ESCALATOR_MAX_WORKERS; i++)
	{
		EscalatorSlot *slot = &escalator_shared->slots[i];

		if (!slot->in_use)
		{
			memset(slot, 0, sizeof(EscalatorSlot));
			slot->in_use = true;
			slot->dynamic = dynamic;
			slot->pid = MyProcPid;
			slot->dbid = MyDatabaseId;
			slot->latch = &MyProc->procLatch;
			slot->state = ES_STARTING;
			slot->started_at = GetCurrentTimestamp();
			my_slot = i;
			break;
		}
	}
	SpinLockRelease(&escalator_shared->mutex);
	if (my_slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many swarm escalation workers"),
				 errdetail("At most %d can run at once.", ESCALATOR_MAX_WORKERS)));
}

/* Give the slot back when the worker exits, however it exits */
static void
escalator_release_slot(int code, Datum arg)
{
	if (escalator_shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&escalator_shared->mutex);
	escalator_shared->slots[my_slot].in_use = false;
	escalator_shared->slots[my_slot].latch = NULL;
	SpinLockRelease(&escalator_shared->mutex);
	my_slot = -1;
}

/* Record this worker's state in its slot */
static void
escalator_set_state(EscalatorState state)
{
	SpinLockAcquire(&escalator_shared->mutex);
	escalator_shared->slots[my_slot].state = state;
	SpinLockRelease(&escalator_shared->mutex);
}

/* Run a query that returns one float8 (or NULL) and return it */
static bool
escalator_query_float(const char *sql, double *result)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute(sql, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "swarm escalator: query failed: %s", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*result = DatumGetFloat8(d);
	return !isnull;
}

/*
 * One sweep in one transaction.  Returns when to wake up: when the next
 * escalation is due, at most a naptime away, at once when the batch was full
 * (more is due), soon when due requests had to be skipped (locked elsewhere).
 */
static TimestampTz
escalator_sweep(void)
{
	long		naptime_ms = escalator_naptime * 1000L;
	TimestampTz wake;
	TimestampTz swept_at;
	int64		made = 0;
	double		lag_ms = -1;
	double		next_ms;
	bool		have_next = false;
	bool		skipped = false;
	Oid			save_userid;
	int			save_sec_context;
	char		sql[256];

	/* while sweeping, any commit that schedules something wakes us again */
	SpinLockAcquire(&escalator_shared->mutex);
	escalator_shared->slots[my_slot].next_wakeup = DT_NOEND;
	SpinLockRelease(&escalator_shared->mutex);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "swarm: escalation sweep");

	/* idle while the extension is missing (or being created or dropped elsewhere) */
	if (SPI_execute("SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'swarm'"
					" AND pg_catalog.to_regprocedure('swarm.escalate_due(timestamptz, integer)') IS NOT NULL",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "swarm escalator: could not read pg_extension");
	if (SPI_processed == 0 || creating_extension)
	{
		escalator_set_state(ES_NO_EXTENSION);
	}
	else
	{
		bool		isnull;
		Oid			run_as = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 1, &isnull));

		escalator_set_state(ES_SWEEPING);
		/* work as the extension's owner, unless a role was configured or it is a superuser */
		if (escalator_role[0] != '\0' || superuser_arg(run_as) || run_as == GetUserId())
			run_as = InvalidOid;
		GetUserIdAndSecContext(&save_userid, &save_sec_context);
		if (OidIsValid(run_as))
			SetUserIdAndSecContext(run_as, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

		snprintf(sql, sizeof(sql), "SELECT swarm.escalate_due(clock_timestamp(), %d)::float8",
				 escalator_batch_size);
		if (escalator_query_float(sql, &next_ms))
			made = (int64) next_ms;
		if (made > 0)
			escalator_query_float("SELECT extract(epoch FROM max(escalated_at - due_at))::float8 * 1000"
								  " FROM swarm.escalations WHERE escalated_at >= statement_timestamp()",
								  &lag_ms);
		if (made < escalator_batch_size)
		{
			/*
			 * Due before this sweep began and still there: skipped, locked by
			 * a concurrent change; retry those soon.  (now() is the sweep's
			 * start and, unlike clock_timestamp(), bounds an index scan.)
			 */
			double		found = 0;

			skipped = escalator_query_float("SELECT EXISTS (SELECT 1 FROM swarm.collab_requests"
											" WHERE state IN ('open', 'offered') AND next_escalation_at <= now())::int::float8",
											&found) && found > 0;
			/* the next escalation in the future, measured now, after every other query */
			have_next = escalator_query_float("SELECT extract(epoch FROM min(next_escalation_at) - clock_timestamp())::float8 * 1000"
											  " FROM swarm.collab_requests WHERE state IN ('open', 'offered')"
											  " AND next_escalation_at > now()",
											  &next_ms);
		}

		if (OidIsValid(run_as))
			SetUserIdAndSecContext(save_userid, save_sec_context);
	}

	/* when to wake, from one reading of the clock taken after the queries */
	swept_at = GetCurrentTimestamp();
	wake = TimestampTzPlusMilliseconds(swept_at, naptime_ms);
	if (made >= escalator_batch_size)
		wake = swept_at;
	else
	{
		if (have_next)
			wake = Min(wake, TimestampTzPlusMilliseconds(swept_at, (int64) Max(next_ms + 1.0, 0.0)));
		if (skipped)
			wake = Min(wake, TimestampTzPlusMilliseconds(swept_at, ESCALATOR_RETRY_MS));
	}

	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);

	SpinLockAcquire(&escalator_shared->mutex);
	{
		EscalatorSlot *slot = &escalator_shared->slots[my_slot];

		slot->last_sweep = swept_at;
		slot->escalations += made;
		if (lag_ms >= 0)
			slot->last_lag_ms = lag_ms;
		slot->next_wakeup = wake;
		if (slot->state == ES_SWEEPING)
			slot->state = ES_SLEEPING;
	}
	SpinLockRelease(&escalator_shared->mutex);
	return wake;
}

/* Entry point of the escalation worker */
void
swarm_escalator_main(Datum main_arg)
{
	bool		dynamic = DatumGetBool(main_arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (escalator_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("swarm escalation worker needs swarm in shared_preload_libraries")));

	if (dynamic)
	{
		Oid			dbid;
		Oid			roleid;

		memcpy(&dbid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
		memcpy(&roleid, MyBgworkerEntry->bgw_extra + sizeof(Oid), sizeof(Oid));
		BackgroundWorkerInitializeConnectionByOid(dbid, roleid, 0);
	}
	else
		BackgroundWorkerInitializeConnection(escalator_database,
											 escalator_role[0] != '\0' ? escalator_role : NULL, 0);

	escalator_claim_slot(dynamic);
	before_shmem_exit(escalator_release_slot, (Datum) 0);
	pgstat_report_appname("swarm escalator");
	elog(LOG, "swarm escalator started (database %u)", MyDatabaseId);

	for (;;)
	{
		long		sleep_ms;

		if (RecoveryInProgress())
			sleep_ms = escalator_naptime * 1000L;	/* never escalate on a standby */
		else if (!escalator_enabled)
		{
			escalator_set_state(ES_DISABLED);
			sleep_ms = escalator_naptime * 1000L;
		}
		else
		{
			/* an error in a sweep is logged and retried after the naptime */
			PG_TRY();
			{
				TimestampTz wake = escalator_sweep();
				TimestampTz now = GetCurrentTimestamp();

				/* however long the sweep took, wake at the planned instant */
				sleep_ms = wake > now ? (long) ((wake - now + 999) / 1000) : 0;
			}
			PG_CATCH();
			{
				EmitErrorReport();
				AbortCurrentTransaction();
				FlushErrorState();
				pgstat_report_activity(STATE_IDLE, NULL);
				sleep_ms = escalator_naptime * 1000L;
				SpinLockAcquire(&escalator_shared->mutex);
				escalator_shared->slots[my_slot].state = ES_SLEEPING;
				escalator_shared->slots[my_slot].next_wakeup =
					TimestampTzPlusMilliseconds(GetCurrentTimestamp(), sleep_ms);
				SpinLockRelease(&escalator_shared->mutex);
			}
			PG_END_TRY();
		}

		if (sleep_ms > 0)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* At commit, wake the workers of this database if something is due before they planned to wake */
static void
escalator_xact_callback(XactEvent event, void *arg)
{
	Latch	   *latches[ESCALATOR_MAX_WORKERS];
	int			nlatches = 0;
	int			i;

	if (pending_wake == 0)
		return;
	if (event == XACT_EVENT_COMMIT && escalator_shared != NULL)
	{
		SpinLockAcquire(&escalator_shared->mutex);
		for (i = 0; i < ESCALATOR_MAX_WORKERS; i++)
		{
			EscalatorSlot *slot = &escalator_shared->slots[i];

			/* a worker reads its next wake-up from the index after each sweep */
			if (i == my_slot)
				continue;
			if (slot->in_use && slot->dbid == MyDatabaseId && slot->latch != NULL &&
				pending_wake < slot->next_wakeup)
				latches[nlatches++] = slot->latch;
		}
		SpinLockRelease(&escalator_shared->mutex);
		for (i = 0; i < nlatches; i++)
			SetLatch(latches[i]);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		pending_wake = 0;
}

/* swarm.wake_escalator(at): note that an escalation is due at "at" (woken at commit) */
Datum
swarm_wake_escalator(PG_FUNCTION_ARGS)
{
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(0);

	if (!xact_callback_registered)
	{
		RegisterXactCallback(escalator_xact_callback, NULL);
		xact_callback_registered = true;
	}
	if (pending_wake == 0 || at < pending_wake)
		pending_wake = at;
	PG_RETURN_VOID();
}

/* swarm.start_escalator(): start a dynamic escalation worker for this database; returns its pid */
Datum
swarm_start_escalator(PG_FUNCTION_ARGS)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	Oid			roleid = GetUserId();

	if (escalator_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("swarm is not in shared_preload_libraries"),
				 errhint("Add swarm to shared_preload_libraries and restart the server, "
						 "or run swarm.escalate_due() from a scheduler.")));

	{
		int			used = 0;

		SpinLockAcquire(&escalator_shared->mutex);
		for (int i = 0; i < ESCALATOR_MAX_WORKERS; i++)
			used += escalator_shared->slots[i].in_use ? 1 : 0;
		SpinLockRelease(&escalator_shared->mutex);
		if (used >= ESCALATOR_MAX_WORKERS)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("too many swarm escalation workers"),
					 errdetail("At most %d can run at once.", ESCALATOR_MAX_WORKERS)));
	}

	escalator_worker_init(&worker, true);
	worker.bgw_main_arg = BoolGetDatum(true);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &MyDatabaseId, sizeof(Oid));
	memcpy(worker.bgw_extra + sizeof(Oid), &roleid, sizeof(Oid));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a swarm escalation worker"),
				 errhint("More background worker slots may be needed: raise max_worker_processes.")));

	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STOPPED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("swarm escalation worker stopped at start"),
				 errhint("See the server log.")));
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("cannot start a swarm escalation worker without the postmaster")));
	Assert(status == BGWH_STARTED);
	PG_RETURN_INT32(pid);
}

/* swarm.stop_escalator(): stop this database's dynamic escalation workers; returns how many */
Datum
swarm_stop_escalator(PG_FUNCTION_ARGS)
{
	pid_t		pids[ESCALATOR_MAX_WORKERS];
	int			n = 0;
	int			i;

	if (escalator_shared == NULL)
		PG_RETURN_INT32(0);
	SpinLockAcquire(&escalator_shared->mutex);
	for (i = 0; i < ESCALATOR_MAX_WORKERS; i++)
	{
		EscalatorSlot *slot = &escalator_shared->slots[i];

		if (slot->in_use && slot->dynamic && slot->dbid == MyDatabaseId)
			pids[n++] = slot->pid;
	}
	SpinLockRelease(&escalator_shared->mutex);
	for (i = 0; i < n; i++)
		(void) DirectFunctionCall2(pg_terminate_backend, Int32GetDatum(pids[i]), Int64GetDatum(0));
	PG_RETURN_INT32(n);
}

/* swarm.escalator_workers(): one row per running escalation worker */
Datum
swarm_escalator_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EscalatorSlot slots[ESCALATOR_MAX_WORKERS];
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (escalator_shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&escalator_shared->mutex);
	memcpy(slots, escalator_shared->slots, sizeof(slots));
	SpinLockRelease(&escalator_shared->mutex);

	for (i = 0; i < ESCALATOR_MAX_WORKERS; i++)
	{
		EscalatorSlot *slot = &slots[i];
		Datum		values[9];
		bool		nulls[9] = {false};
		char	   *dbname;

		if (!slot->in_use)
			continue;
		dbname = get_database_name(slot->dbid);
		values[0] = Int32GetDatum(slot->pid);
		values[1] = dbname ? CStringGetTextDatum(dbname) : (nulls[1] = true, (Datum) 0);
		values[2] = CStringGetTextDatum(escalator_state_names[slot->state]);
		values[3] = BoolGetDatum(slot->dynamic);
		values[4] = TimestampTzGetDatum(slot->started_at);
		values[5] = slot->last_sweep ? TimestampTzGetDatum(slot->last_sweep) : (nulls[5] = true, (Datum) 0);
		values[6] = Int64GetDatum(slot->escalations);
		values[7] = slot->next_wakeup ? TimestampTzGetDatum(slot->next_wakeup) : (nulls[7] = true, (Datum) 0);
		values[8] = Float8GetDatum(slot->last_lag_ms);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

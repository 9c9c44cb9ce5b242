/*-------------------------------------------------------------------------
 *
 * relay.c
 *	  The event relay: the API's notifications of many transactions sent in
 *	  one transaction by a background worker.
 *
 * PostgreSQL lets one notifying transaction commit at a time (PreCommit_Notify
 * takes a lock held until the commit is done), so when every API call sends
 * a NOTIFY, concurrent calls queue up behind each other at commit.  Instead,
 * swarm.notify_event() keeps a transaction's notifications in the backend; at
 * pre-commit they are copied into a ring in shared memory, at commit they are
 * marked ready (void at abort), and the relay worker is woken.  The worker
 * sends whatever is ready in one transaction of its own.  Listeners get the
 * same channels and payloads in the order the sending transactions reached
 * pre-commit, after those transactions committed, from the relay's process.
 *
 * A backend sends its notifications itself, exactly as pg_notify() does,
 * whenever the relay cannot take them: swarm is not preloaded, the relay is
 * not running or serves another database, swarm.event_relay is off, the ring
 * is full, or the transaction is being prepared for two-phase commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "commands/async.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_notify_event);
PG_FUNCTION_INFO_V1(swarm_event_relay_status);

/* Longest payload NOTIFY accepts (NOTIFY_PAYLOAD_MAX_LENGTH in async.c) */
#define RELAY_PAYLOAD_MAX (BLCKSZ - NAMEDATALEN - 128)
/* Ring entries start and end on this boundary, so a header always fits */
#define RELAY_ALIGN(len) TYPEALIGN(16, (len))
/* Most notifications the relay sends in one transaction */
#define RELAY_BATCH_MAX 10000
/* After sending, the relay waits this long before it looks again (ms) */
#define RELAY_COALESCE_MS 5

/* Entry states: reserved at pre-commit, then ready (commit) or void (abort) */
#define ENTRY_RESERVED 0
#define ENTRY_READY 1
#define ENTRY_VOID 2

/* One transaction's notifications in the ring: channel\0payload\0, count times */
typedef struct RelayEntry
{
	pg_atomic_uint32 state;
	uint32		len;			/* bytes, header included, RELAY_ALIGNed */
	uint32		count;			/* notifications (0: padding at the ring's end) */
	uint32		pad;
} RelayEntry;

#define ENTRY_HEADER RELAY_ALIGN(sizeof(RelayEntry))

/* The ring and the relay worker, in shared memory */
typedef struct RelayShared
{
	LWLock	   *lock;			/* head, tail, the worker fields, counters */
	pid_t		pid;			/* the relay worker, 0 when none runs */
	Oid			dboid;			/* its database */
	Latch	   *latch;			/* its latch */
	uint64		head;			/* next byte to reserve (grows forever) */
	uint64		tail;			/* first byte not yet relayed (grows forever) */
	uint64		relayed;		/* notifications the worker sent */
	uint64		batches;		/* transactions it sent them in */
	uint64		direct;			/* transactions that had to notify by themselves */
	TimestampTz last_batch;		/* when it last sent some */
	Size		size;			/* bytes of the ring */
	char		ring[FLEXIBLE_ARRAY_MEMBER];
} RelayShared;

/* A notification waiting for the end of its (sub)transaction */
typedef struct PendingNotification
{
	int			level;			/* transaction nesting level it was sent at */
	char	   *channel;
	char	   *payload;
} PendingNotification;

static bool relay_enabled = true;
static int	relay_buffer_kb = 1024;

static RelayShared *relay = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend: the transaction's notifications, and its reserved entry */
static List *pending = NIL;
static RelayEntry *reserved = NULL;
static bool callbacks_registered = false;

PGDLLEXPORT void swarm_relay_main(Datum main_arg);

/* Bytes of shared memory the relay needs */
static Size
relay_shmem_size(void)
{
	return add_size(MAXALIGN(offsetof(RelayShared, ring)), (Size) relay_buffer_kb * 1024);
}

/* Ask for the ring's shared memory and its lock */
static void
relay_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(relay_shmem_size());
	RequestNamedLWLockTranche("swarm event relay", 1);
}

/* Create or attach to the ring */
static void
relay_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	relay = ShmemInitStruct("swarm event relay", relay_shmem_size(), &found);
	if (!found)
	{
		memset(relay, 0, offsetof(RelayShared, ring));
		relay->lock = &(GetNamedLWLockTranche("swarm event relay"))->lock;
		relay->size = (Size) relay_buffer_kb * 1024;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Define the relay's settings; when preloaded, also its ring and its worker */
void
relay_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("swarm.event_relay",
							 "Whether the API's notifications are sent by the event relay worker.",
							 "Off: every transaction sends its own NOTIFY, one commit at a time.",
							 &relay_enabled, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("swarm.event_relay_buffer",
							"Shared memory that holds notifications until the relay sends them.",
							"When it is full, transactions send their notifications themselves.",
							&relay_buffer_kb, 1024, 64, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = relay_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = relay_shmem_startup;

	memset(&worker, 0, sizeof(BackgroundWorker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "swarm", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "swarm_relay_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "swarm event relay", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "swarm event relay", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* Send the pending notifications with NOTIFY, from this transaction */
static void
notify_directly(void)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		PendingNotification *n = lfirst(lc);

		Async_Notify(n->channel, n->payload);
	}
}

/*
 * Reserve a ring entry for the pending notifications and copy them in.
 * Returns false (and reserves nothing) when the relay cannot take them.
 */
static bool
reserve_entry(void)
{
	Size		need = ENTRY_HEADER;
	Size		offset;
	Size		pad;
	ListCell   *lc;
	RelayEntry *e;
	char	   *p;

	if (relay == NULL || !relay_enabled)
		return false;
	foreach(lc, pending)
	{
		PendingNotification *n = lfirst(lc);

		need += strlen(n->channel) + strlen(n->payload) + 2;
	}
	need = RELAY_ALIGN(need);

	LWLockAcquire(relay->lock, LW_EXCLUSIVE);
	if (relay->pid == 0 || relay->dboid != MyDatabaseId || need > relay->size / 2)
	{
		LWLockRelease(relay->lock);
		return false;
	}
	offset = relay->head % relay->size;
	pad = (relay->size - offset < need) ? relay->size - offset : 0;
	if (relay->head + pad + need - relay->tail > relay->size)
	{
		LWLockRelease(relay->lock);
		return false;
	}
	if (pad > 0)
	{
		/* the entry must be contiguous: skip the rest of the ring */
		e = (RelayEntry *) (relay->ring + offset);
		pg_atomic_init_u32(&e->state, ENTRY_VOID);
		e->len = pad;
		e->count = 0;
		relay->head += pad;
		offset = 0;
	}
	e = (RelayEntry *) (relay->ring + offset);
	pg_atomic_init_u32(&e->state, ENTRY_RESERVED);
	e->len = need;
	e->count = list_length(pending);
	relay->head += need;
	LWLockRelease(relay->lock);

	/* the entry is ours until it is marked ready or void */
	p = (char *) e + ENTRY_HEADER;
	foreach(lc, pending)
	{
		PendingNotification *n = lfirst(lc);
		Size		clen = strlen(n->channel) + 1;
		Size		plen = strlen(n->payload) + 1;

		memcpy(p, n->channel, clen);
		p += clen;
		memcpy(p, n->payload, plen);
		p += plen;
	}
	reserved = e;
	return true;
}

/* Mark the reserved entry ready or void, and wake the relay when it is ready */
static void
finish_entry(uint32 state)
{
	Latch	   *latch;

	pg_write_barrier();
	pg_atomic_write_u32(&reserved->state, state);
	reserved = NULL;
	if (state != ENTRY_READY)
		return;
	LWLockAcquire(relay->lock, LW_SHARED);
	latch = relay->latch;
	LWLockRelease(relay->lock);
	if (latch != NULL)
		SetLatch(latch);
}

/* At the end of a transaction: hand its notifications over, or drop them */
static void
relay_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (pending != NIL && !reserve_entry())
			{
				notify_directly();
				if (relay != NULL)
				{
					LWLockAcquire(relay->lock, LW_EXCLUSIVE);
					relay->direct++;
					LWLockRelease(relay->lock);
				}
			}
			pending = NIL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* core refuses to prepare a transaction that notified */
			notify_directly();
			pending = NIL;
			break;
		case XACT_EVENT_COMMIT:
			if (reserved != NULL)
				finish_entry(ENTRY_READY);
			pending = NIL;
			break;
		case XACT_EVENT_ABORT:
			if (reserved != NULL)
				finish_entry(ENTRY_VOID);
			pending = NIL;
			break;
		default:
			break;
	}
}

/* At the end of a subtransaction: keep its notifications, or drop them */
static void
relay_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending)
		{
			PendingNotification *n = lfirst(lc);

			if (n->level >= level)
				n->level = level - 1;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, pending)
		{
			PendingNotification *n = lfirst(lc);

			if (n->level >= level)
				pending = foreach_delete_current(pending, lc);
		}
	}
}

/* swarm.notify_event(channel, payload): NOTIFY, sent by the relay when it can */
Datum
swarm_notify_event(PG_FUNCTION_ARGS)
{
	char	   *channel = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *payload = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext old;
	PendingNotification *n;

	/* the checks and messages of NOTIFY, so that errors stay with the caller */
	if (channel[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channel name cannot be empty")));
	if (strlen(channel) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channel name too long")));
	if (strlen(payload) >= RELAY_PAYLOAD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("payload string too long")));
	if (IsParallelWorker())
		elog(ERROR, "cannot send notifications from a parallel worker");

	if (relay == NULL)
	{
		/* not preloaded: no relay, nothing to keep */
		Async_Notify(channel, payload);
		PG_RETURN_VOID();
	}
	if (!callbacks_registered)
	{
		RegisterXactCallback(relay_xact_callback, NULL);
		RegisterSubXactCallback(relay_subxact_callback, NULL);
		callbacks_registered = true;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	n = palloc(sizeof(PendingNotification));
	n->level = GetCurrentTransactionNestLevel();
	n->channel = pstrdup(channel);
	n->payload = pstrdup(payload);
	pending = lappend(pending, n);
	MemoryContextSwitchTo(old);
	PG_RETURN_VOID();
}

/* Forget this worker in shared memory when it exits */
static void
relay_detach(int code, Datum arg)
{
	LWLockAcquire(relay->lock, LW_EXCLUSIVE);
	if (relay->pid == MyProcPid)
	{
		relay->pid = 0;
		relay->latch = NULL;
	}
	LWLockRelease(relay->lock);
}

/*
 * Send the ready entries at the tail of the ring, in one transaction.
 * Returns how many it sent; RELAY_BATCH_MAX means there may be more.
 */
static int
relay_batch(void)
{
	uint64		pos;
	uint64		head;
	int			sent = 0;
	bool		started = false;

	LWLockAcquire(relay->lock, LW_SHARED);
	pos = relay->tail;
	head = relay->head;
	LWLockRelease(relay->lock);

	while (pos < head && sent < RELAY_BATCH_MAX)
	{
		RelayEntry *e = (RelayEntry *) (relay->ring + pos % relay->size);
		uint32		state = pg_atomic_read_u32(&e->state);

		if (state == ENTRY_RESERVED)
			break;				/* its transaction has not ended yet */
		pg_read_barrier();
		if (state == ENTRY_READY)
		{
			char	   *p = (char *) e + ENTRY_HEADER;
			uint32		i;

			if (!started)
			{
				SetCurrentStatementStartTimestamp();
				StartTransactionCommand();
				pgstat_report_activity(STATE_RUNNING, "relaying notifications");
				started = true;
			}
			for (i = 0; i < e->count; i++)
			{
				char	   *channel = p;
				char	   *payload = p + strlen(p) + 1;

				Async_Notify(channel, payload);
				p = payload + strlen(payload) + 1;
			}
			sent += e->count;
		}
		pos += e->len;
	}

	if (started)
	{
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}

	LWLockAcquire(relay->lock, LW_EXCLUSIVE);
	relay->tail = pos;
	if (sent > 0)
	{
		relay->relayed += sent;
		relay->batches++;
		relay->last_batch = GetCurrentTimestamp();
	}
	LWLockRelease(relay->lock);
	return sent;
}

/* Main loop of the relay worker: sleep until woken, then send what is ready */
void
swarm_relay_main(Datum main_arg)
{
	const char *dbname = GetConfigOption("swarm.database_name", false, false);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* it runs no SQL and reads no table: it only sends notifications */
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("swarm event relay");

	LWLockAcquire(relay->lock, LW_EXCLUSIVE);
	relay->pid = MyProcPid;
	relay->dboid = MyDatabaseId;
	relay->latch = MyLatch;
	LWLockRelease(relay->lock);
	before_shmem_exit(relay_detach, (Datum) 0);

	elog(LOG, "swarm event relay started (database %u)", MyDatabaseId);

	for (;;)
	{
		int			sent;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		while ((sent = relay_batch()) >= RELAY_BATCH_MAX)
			CHECK_FOR_INTERRUPTS();

		/*
		 * Under load, let the next notifications gather for a few
		 * milliseconds instead of sending a transaction for each commit.
		 * The latch is not waited on meanwhile, so the committing backends'
		 * SetLatch only sets it (no signal), and the next WaitLatch returns
		 * at once when something came.
		 */
		if (sent > 0)
			(void) WaitLatch(NULL, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 RELAY_COALESCE_MS, PG_WAIT_EXTENSION);
	}
}

/* swarm.event_relay_status(): the relay's process, database, ring and counters */
Datum
swarm_event_relay_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	if (relay == NULL)
	{
		memset(nulls, true, sizeof(nulls));
		values[0] = BoolGetDatum(false);
		nulls[0] = false;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	LWLockAcquire(relay->lock, LW_SHARED);
	values[0] = BoolGetDatum(relay_enabled && relay->pid != 0);
	values[1] = Int32GetDatum(relay->pid);
	nulls[1] = (relay->pid == 0);
	values[2] = ObjectIdGetDatum(relay->dboid);
	nulls[2] = (relay->pid == 0);
	values[3] = Int64GetDatum((int64) relay->relayed);
	values[4] = Int64GetDatum((int64) relay->batches);
	values[5] = Int64GetDatum((int64) relay->direct);
	values[6] = Int64GetDatum((int64) (relay->head - relay->tail));
	values[7] = Int64GetDatum((int64) relay->size);
	values[8] = TimestampTzGetDatum(relay->last_batch);
	nulls[8] = (relay->last_batch == 0);
	LWLockRelease(relay->lock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

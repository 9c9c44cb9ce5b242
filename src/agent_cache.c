/*-------------------------------------------------------------------------
 *
 * agent_cache.c
 *	  The routing cache: every agent's routing data in backend memory.
 *
 * route_case and suggest_helpers rank a thousand candidates per call; read
 * from the tables, the candidates alone cost more than a plain SQL ranking
 * is allowed to.  So each backend keeps what routing reads of swarm.agents,
 * swarm.agent_experience and swarm.group_members, with an index from skill
 * to agents, and brings it up to date at the start of every routing call.
 *
 * Coherence.  A trigger on each of the three tables notes which agent (or
 * group) a transaction changed.  Just before the transaction commits, the
 * notes go into a ring in shared memory, each with the transaction's id.
 * Every backend remembers how far it has read the ring.  At its next routing
 * call it re-reads the rows named by the notes whose transaction the call's
 * snapshot sees as finished, with that snapshot; a note whose transaction is
 * still running as far as the snapshot can tell stays unread until a later
 * call.  (Notes are written before the commit becomes visible, so no
 * snapshot can see a commit whose notes are not in the ring yet; a note of a
 * transaction that then aborts costs a useless re-read.)  So the cache holds
 * exactly what the call's snapshot shows, as reading the tables would, the
 * same for every call of one statement (the functions are STABLE).  The rows
 * the current transaction changed itself are re-read at every call, and once
 * more after it aborts.  A TRUNCATE, a transaction that changed too many
 * rows, or a relcache invalidation of one of the tables (DDL, VACUUM,
 * enabling or disabling a trigger) reloads everything.
 *
 * A call cannot use the cache, and reads the tables as before, when its
 * snapshot is older than one the cache was brought up to date with (a
 * cursor opened earlier; REPEATABLE READ and SERIALIZABLE, whose snapshot is
 * the transaction's), when a note it might not see yet was overwritten (it
 * fell more than the ring behind, or a transaction stayed between its
 * pre-commit and its commit for 32,768 changes), when the caller may not read
 * the tables or row-level security is on, when a cache trigger is disabled,
 * during recovery (a standby runs no triggers), without
 * shared_preload_libraries (no ring), and when swarm.routing_cache is off.
 * A transaction that changed these tables cannot be prepared for two-phase
 * commit: its notes would wait in the ring for as long as it stays prepared.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "agent_cache.h"
#include "saved_plan.h"
#include "swarm.h"

PG_FUNCTION_INFO_V1(swarm_routing_cache_changed);
PG_FUNCTION_INFO_V1(swarm_routing_cache_state);

/* Entries in the shared ring of changes (24 bytes each) */
#define CHANGE_RING_SIZE 32768

/*
 * A transaction's list of changed rows holds this many notes; when it is
 * full and 3/4 of it are distinct rows, the transaction publishes
 * "everything" instead
 */
#define CHANGE_XACT_MAX 4096

/* What a change names */
typedef enum ChangeKind
{
	CK_ALL = 0,					/* everything in the database */
	CK_AGENT,					/* an agents row */
	CK_EXPERIENCE,				/* an agent's experience rows */
	CK_GROUP					/* a group's members */
} ChangeKind;

/* One change, in the ring and in the backend's lists */
typedef struct AgentChange
{
	Oid			dbid;
	TransactionId xid;			/* the transaction that made it (in the ring) */
	int32		kind;			/* ChangeKind */
	int64		id;				/* agent_id or group_id; 0 for CK_ALL */
} AgentChange;

/* The ring: changes published by committed transactions */
typedef struct AgentCacheShared
{
	LWLock	   *lock;
	uint64		next;			/* position of the next change to write */
	TransactionId overwritten_xid;	/* the newest xid of an overwritten change */
	AgentChange ring[CHANGE_RING_SIZE];
} AgentCacheShared;

/* A growing list of changes kept by this backend */
typedef struct ChangeList
{
	AgentChange *items;
	int			n;
	int			max;
	bool		overflow;		/* more than CHANGE_XACT_MAX were noted */
} ChangeList;

/* Skill name -> the agents having it, with their levels */
typedef struct SkillPosting
{
	char		name[SKILLSET_MAX_NAME_LEN + 1];	/* hash key */
	int			n;
	int			max;
	SkillHolder *holders;
} SkillPosting;

/* A region's name, interned */
typedef struct RegionName
{
	char		name[NAMEDATALEN];	/* hash key (longer names are not interned) */
	char	   *interned;
} RegionName;

/* agent_id -> slot */
typedef struct AgentSlot
{
	int64		agent_id;		/* hash key */
	int32		slot;
} AgentSlot;

/* group_id -> slots of the members */
typedef struct GroupMembers
{
	int64		group_id;		/* hash key */
	int			n;
	int32	   *slots;
} GroupMembers;

/* The cache proper; lives in its own memory context */
typedef struct AgentCache
{
	MemoryContext cxt;
	CachedAgent *slots;			/* slots are never reused until a reload */
	int			nslots;
	int			maxslots;
	HTAB	   *by_id;
	HTAB	   *by_skill;
	HTAB	   *groups;
	HTAB	   *regions;
	bool		long_region;	/* some region is too long to intern */
	bool		triggers_enabled;	/* every cache trigger is enabled */
	/* the snapshot it was last brought up to date with: its xmax and running xids */
	TransactionId last_xmax;
	int			last_xcnt;
	int			last_xip_room;	/* room in last_xip */
	TransactionId *last_xip;
	Oid			relids[3];		/* agents, agent_experience, group_members */
} AgentCache;

bool		swarm_routing_cache = true;

static AgentCacheShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static AgentCache *cache = NULL;
static uint64 ring_seen = 0;	/* ring position this backend has read to */
static FullTransactionId seen_at;	/* next xid when it last read the ring */
static bool refreshing = false; /* a refresh is under way (or failed half-way) */
static bool cache_stale = true; /* reload everything at the next call */

/* What this backend's cache did, for swarm.routing_cache_state() */
static struct
{
	int64		calls;			/* routing calls that used the cache */
	int64		loads;			/* full loads */
	int64		rows_read;		/* agents and groups re-read one by one */
	int64		table_reads;	/* calls that read the tables instead */
} cache_stats;
static uint32 cache_mark = 0;
static ChangeList xact_changes; /* changed by the current transaction */
static ChangeList local_dirty;	/* changed by an aborted one: re-read at the next call */
static bool callbacks_registered = false;

static SPIPlanPtr plan_all_agents = NULL;
static SPIPlanPtr plan_some_agents = NULL;
static SPIPlanPtr plan_all_experience = NULL;
static SPIPlanPtr plan_some_experience = NULL;
static SPIPlanPtr plan_all_groups = NULL;
static SPIPlanPtr plan_some_groups = NULL;
static SPIPlanPtr plan_triggers = NULL;

/* The columns routing reads of swarm.agents, in the order the loaders expect */
#define AGENT_COLUMNS \
	"agent_id, skills, region, active, presence = 'online', presence = 'offline'," \
	" capacity, help_capacity, open_cases, open_helps, calendar_id"

/* Bytes of shared memory the ring needs */
static Size
agent_cache_shmem_size(void)
{
	return sizeof(AgentCacheShared);
}

/* Ask for the ring's shared memory and its lock */
static void
agent_cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(agent_cache_shmem_size());
	RequestNamedLWLockTranche("swarm routing cache", 1);
}

/* Create or attach to the ring */
static void
agent_cache_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("swarm routing cache", agent_cache_shmem_size(), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("swarm routing cache"))->lock;
		shared->next = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Define the cache's setting; when preloaded, also its ring */
void
agent_cache_init(void)
{
	DefineCustomBoolVariable("swarm.routing_cache",
							 "Whether routing reads agents from the backend's routing cache.",
							 "Off: every routing call reads the agents it ranks from the tables.",
							 &swarm_routing_cache, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = agent_cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = agent_cache_shmem_startup;
}

/* qsort comparator for changes: by kind, then id */
static int
change_cmp(const void *a, const void *b)
{
	const AgentChange *x = a;
	const AgentChange *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Sort a list and drop its duplicates */
static void
change_list_unique(ChangeList *list)
{
	int			i;
	int			n = 0;

	if (list->n < 2)
		return;
	qsort(list->items, list->n, sizeof(AgentChange), change_cmp);
	for (i = 0; i < list->n; i++)
		if (n == 0 || change_cmp(&list->items[n - 1], &list->items[i]) != 0)
			list->items[n++] = list->items[i];
	list->n = n;
}

/* Append a change to a backend list, or note that the list overflowed */
static void
change_list_add(ChangeList *list, int32 kind, int64 id)
{
	AgentChange *c;

	if (list->overflow)
		return;
	if (list->n > 0)
	{
		c = &list->items[list->n - 1];
		if (c->kind == kind && c->id == id)
			return;				/* the same row again, as in a loop of updates */
	}
	if (list->n >= CHANGE_XACT_MAX)
	{
		/* the same few rows changed over and over fit once they are unique */
		change_list_unique(list);
		if (list->n >= CHANGE_XACT_MAX * 3 / 4)
		{
			list->overflow = true;
			return;
		}
	}
	if (list->n >= list->max)
	{
		int			newmax = Max(16, list->max * 2);

		if (list->items == NULL)
			list->items = MemoryContextAlloc(TopMemoryContext, newmax * sizeof(AgentChange));
		else
			list->items = repalloc(list->items, newmax * sizeof(AgentChange));
		list->max = newmax;
	}
	c = &list->items[list->n++];
	c->dbid = MyDatabaseId;
	c->xid = InvalidTransactionId;
	c->kind = kind;
	c->id = id;
}

/* Forget a list's changes, keeping its memory */
static void
change_list_clear(ChangeList *list)
{
	list->n = 0;
	list->overflow = false;
}

/* Write one change at the head of the ring; the caller holds the lock */
static void
ring_append(const AgentChange *change, TransactionId xid)
{
	AgentChange *c = &shared->ring[shared->next % CHANGE_RING_SIZE];

	/* remember the newest transaction whose note is lost to slow readers */
	if (shared->next >= CHANGE_RING_SIZE &&
		(!TransactionIdIsValid(shared->overwritten_xid) ||
		 TransactionIdFollows(c->xid, shared->overwritten_xid)))
		shared->overwritten_xid = c->xid;
	*c = *change;
	c->xid = xid;
	shared->next++;
}

/* Write the committing transaction's changes into the ring */
static void
publish_changes(TransactionId xid)
{
	int			i;

	if (xact_changes.n == 0 && !xact_changes.overflow)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (xact_changes.overflow)
	{
		AgentChange all;

		all.dbid = MyDatabaseId;
		all.kind = CK_ALL;
		all.id = 0;
		ring_append(&all, xid);
	}
	else
		for (i = 0; i < xact_changes.n; i++)
			ring_append(&xact_changes.items[i], xid);
	LWLockRelease(shared->lock);
}

/* At the end of a transaction: publish its changes, or undo what it showed us */
static void
agent_cache_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			{
				/* a transaction that wrote rows has an xid */
				TransactionId xid = GetTopTransactionIdIfAny();

				change_list_unique(&xact_changes);
				if (TransactionIdIsValid(xid))
					publish_changes(xid);
				change_list_clear(&xact_changes);
			}
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (xact_changes.n > 0 || xact_changes.overflow)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has changed swarm's agents, their experience or group members"),
						 errhint("Change them in a transaction that commits directly.")));
			break;
		case XACT_EVENT_COMMIT:
			/* published at pre-commit; local_dirty may hold rows an abort left */
			change_list_clear(&xact_changes);
			break;
		case XACT_EVENT_ABORT:
			/* the cache may hold rows this transaction changed: read them again */
			if (xact_changes.overflow)
				cache_stale = true;
			else
				for (i = 0; i < xact_changes.n; i++)
					change_list_add(&local_dirty, xact_changes.items[i].kind, xact_changes.items[i].id);
			if (local_dirty.overflow)
				cache_stale = true;
			change_list_clear(&xact_changes);
			break;
		default:
			break;
	}
}

/* Relcache callback: a change to one of the tables' definitions reloads everything */
static void
agent_cache_relcache_callback(Datum arg, Oid relid)
{
	if (cache == NULL)
		return;
	if (relid == InvalidOid || relid == cache->relids[0] ||
		relid == cache->relids[1] || relid == cache->relids[2])
		cache_stale = true;
}

/* Register the transaction and relcache callbacks once per backend */
static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(agent_cache_xact_callback, NULL);
	CacheRegisterRelcacheCallback(agent_cache_relcache_callback, (Datum) 0);
	callbacks_registered = true;
}

/* Column attname of a trigger tuple as an int64 */
static int64
trigger_int64(TriggerData *trigdata, HeapTuple tuple, const char *attname)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	int			attnum = SPI_fnumber(desc, attname);
	bool		isnull;
	Datum		d;

	if (attnum <= 0)
		elog(ERROR, "swarm.routing_cache_changed: relation \"%s\" has no column \"%s\"",
			 RelationGetRelationName(trigdata->tg_relation), attname);
	d = heap_getattr(tuple, attnum, desc, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Trigger on swarm.agents, swarm.agent_experience and swarm.group_members:
 * notes the agent (or group) a row names, so that every backend re-reads it
 * once this transaction commits.  Arguments: the kind ('agent', 'experience'
 * or 'group') and the column holding the id.
 */
Datum
swarm_routing_cache_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	int32		kind;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("swarm_routing_cache_changed: not called by trigger manager")));
	if (shared == NULL)
		return PointerGetDatum(NULL);	/* not preloaded: no backend caches agents */

	trigger = trigdata->tg_trigger;
	if (trigger->tgnargs != 2)
		elog(ERROR, "swarm_routing_cache_changed: expected 2 arguments, got %d", trigger->tgnargs);
	if (strcmp(trigger->tgargs[0], "agent") == 0)
		kind = CK_AGENT;
	else if (strcmp(trigger->tgargs[0], "experience") == 0)
		kind = CK_EXPERIENCE;
	else if (strcmp(trigger->tgargs[0], "group") == 0)
		kind = CK_GROUP;
	else
		elog(ERROR, "swarm_routing_cache_changed: unknown kind \"%s\"", trigger->tgargs[0]);

	register_callbacks();
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		kind = CK_ALL;
	if (kind == CK_ALL)
	{
		/* routing reads the tables for the rest of the transaction */
		xact_changes.overflow = true;
		return PointerGetDatum(NULL);
	}

	change_list_add(&xact_changes, kind, trigger_int64(trigdata, trigdata->tg_trigtuple, trigger->tgargs[1]));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		/* an update may move the row to another agent or group */
		change_list_add(&xact_changes, kind, trigger_int64(trigdata, trigdata->tg_newtuple, trigger->tgargs[1]));
	}
	return PointerGetDatum(NULL);
}

/*
 * Can routing use the cache in this call?  Needs the ring (preloaded), the
 * setting on, a primary, a READ COMMITTED transaction with a snapshot, and a
 * transaction that has not changed more rows than the cache tracks.
 */
bool
agent_cache_usable(void)
{
	return swarm_routing_cache && shared != NULL && !RecoveryInProgress() &&
		!IsolationUsesXactSnapshot() && ActiveSnapshotSet() && !xact_changes.overflow;
}

/* Run a saved plan with the call's snapshot, as a STABLE function reads */
static void
cache_exec(SPIPlanPtr plan, Datum *values)
{
	int			rc;

	rc = SPI_execute_snapshot(plan, values, NULL, GetActiveSnapshot(), InvalidSnapshot,
							  true, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
}

/* Column col of row i of a result as an int64 (0 when null) */
static int64
result_int64(SPITupleTable *t, uint64 i, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(t->vals[i], t->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* Column col of row i of the last SPI result as an int64 (0 when null) */
static int64
cache_int64(int i, int col)
{
	return result_int64(SPI_tuptable, i, col);
}

/* qsort comparator for int64 ids */
static int
id_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Column col of row i of the last SPI result as an int32 */
static int32
cache_int32(int i, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

/* Column col of row i of the last SPI result as a bool (false when null) */
static bool
cache_bool(int i, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* An int8[] of the ids in changes[0..n-1] */
static Datum
id_array(const int64 *ids, int n)
{
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* The slot of an agent, or -1 */
static int32
slot_of(int64 agent_id)
{
	AgentSlot  *s = hash_search(cache->by_id, &agent_id, HASH_FIND, NULL);

	return s != NULL ? s->slot : -1;
}

/* The posting of a skill, created when asked */
static SkillPosting *
posting_of(const char *name, int len, bool create)
{
	char		key[SKILLSET_MAX_NAME_LEN + 1];

	memset(key, 0, sizeof(key));
	memcpy(key, name, Min(len, SKILLSET_MAX_NAME_LEN));
	if (!create)
		return hash_search(cache->by_skill, key, HASH_FIND, NULL);
	else
	{
		bool		found;
		SkillPosting *p = hash_search(cache->by_skill, key, HASH_ENTER, &found);

		if (!found)
		{
			p->n = 0;
			p->max = 16;
			p->holders = MemoryContextAlloc(cache->cxt, p->max * sizeof(SkillHolder));
		}
		return p;
	}
}

/* Add or remove a slot in the postings of every skill of a set */
static void
postings_update(const SkillSet *skills, int32 slot, bool add)
{
	int			j;

	for (j = 0; j < skills->nskills; j++)
	{
		SkillPosting *p = posting_of(SKILLSET_NAME(skills, j), skills->entries[j].name_len, add);
		int			i;

		if (p == NULL)
			continue;
		if (add)
		{
			if (p->n >= p->max)
			{
				p->max *= 2;
				p->holders = repalloc(p->holders, p->max * sizeof(SkillHolder));
			}
			p->holders[p->n].slot = slot;
			p->holders[p->n].level = skills->entries[j].level;
			p->n++;
		}
		else
			for (i = 0; i < p->n; i++)
				if (p->holders[i].slot == slot)
				{
					p->holders[i] = p->holders[--p->n];
					break;
				}
	}
}

/* The interned copy of a region name, made when asked */
static const char *
intern_region(const char *region, bool create)
{
	char		key[NAMEDATALEN];
	RegionName *r;
	bool		found;

	if (strlen(region) >= NAMEDATALEN)
	{
		if (!create)
			return NULL;
		cache->long_region = true;
		return MemoryContextStrdup(cache->cxt, region);
	}
	memset(key, 0, sizeof(key));
	strcpy(key, region);
	r = hash_search(cache->regions, key, create ? HASH_ENTER : HASH_FIND, &found);
	if (r == NULL)
		return NULL;
	if (!found)
		r->interned = MemoryContextStrdup(cache->cxt, region);
	return r->interned;
}

/* A new, empty slot for an agent */
static CachedAgent *
new_slot(int64 agent_id)
{
	AgentSlot  *s;
	CachedAgent *a;
	bool		found;

	if (cache->nslots >= cache->maxslots)
	{
		cache->maxslots *= 2;
		cache->slots = repalloc_huge(cache->slots, cache->maxslots * sizeof(CachedAgent));
	}
	a = &cache->slots[cache->nslots];
	memset(a, 0, sizeof(CachedAgent));
	a->agent_id = agent_id;
	s = hash_search(cache->by_id, &agent_id, HASH_ENTER, &found);
	s->slot = cache->nslots++;
	return a;
}

/* Store row i of an agents query (AGENT_COLUMNS) in the cache; true if the agent is new */
static bool
store_agent(int i)
{
	int64		agent_id = cache_int64(i, 1);
	int32		slot = slot_of(agent_id);
	CachedAgent *a;
	bool		isnull;
	SkillSet   *skills;
	char	   *region;
	bool		created = false;

	if (slot < 0)
	{
		a = new_slot(agent_id);
		slot = a - cache->slots;
		created = true;
	}
	else
		a = &cache->slots[slot];

	skills = DatumGetSkillSetP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	if (a->skills == NULL || VARSIZE(a->skills) != VARSIZE(skills) ||
		memcmp(a->skills, skills, VARSIZE(skills)) != 0)
	{
		if (a->skills != NULL)
		{
			postings_update(a->skills, slot, false);
			pfree(a->skills);
		}
		a->skills = MemoryContextAlloc(cache->cxt, VARSIZE(skills));
		memcpy(a->skills, skills, VARSIZE(skills));
		postings_update(a->skills, slot, true);
	}

	region = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
	if (region == NULL || a->region == NULL || strcmp(region, a->region) != 0)
	{
		/* a region too long to intern is the agent's own copy */
		if (a->region != NULL && strlen(a->region) >= NAMEDATALEN)
			pfree((char *) a->region);
		a->region = region != NULL ? intern_region(region, true) : NULL;
	}

	a->active = cache_bool(i, 4);
	a->presence = cache_bool(i, 5) ? CP_ONLINE : cache_bool(i, 6) ? CP_OFFLINE : CP_AWAY;
	a->capacity = cache_int32(i, 7);
	a->help_capacity = cache_int32(i, 8);
	a->open_cases = cache_int32(i, 9);
	a->open_helps = cache_int32(i, 10);
	a->calendar_id = cache_int64(i, 11);
	return created;
}

/* Forget an agent whose row is gone; its slot stays, empty */
static void
drop_agent(int64 agent_id)
{
	int32		slot = slot_of(agent_id);
	CachedAgent *a;

	if (slot < 0)
		return;
	a = &cache->slots[slot];
	if (a->skills != NULL)
	{
		postings_update(a->skills, slot, false);
		pfree(a->skills);
	}
	if (a->region != NULL && strlen(a->region) >= NAMEDATALEN)
		pfree((char *) a->region);
	if (a->experience != NULL)
		pfree(a->experience);
	/* the slot stays empty; group lists may name it until their group is re-read */
	memset(a, 0, sizeof(CachedAgent));
	hash_search(cache->by_id, &agent_id, HASH_REMOVE, NULL);
}

/* Replace an agent's experience with rows [from, to) of an experience query */
static void
store_experience(CachedAgent *a, int from, int to)
{
	Size		size = 0;
	char	   *names;
	int			i;

	if (a->experience != NULL)
		pfree(a->experience);
	a->experience = NULL;
	a->nexperience = to - from;
	if (to <= from)
		return;

	/* one chunk: the array, then the names */
	for (i = from; i < to; i++)
	{
		bool		isnull;
		text	   *skill = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		size += VARSIZE_ANY_EXHDR(skill);
	}
	a->experience = MemoryContextAlloc(cache->cxt, (to - from) * sizeof(CachedExperience) + size);
	names = (char *) &a->experience[to - from];
	for (i = from; i < to; i++)
	{
		CachedExperience *e = &a->experience[i - from];
		bool		isnull;
		text	   *skill = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		e->skill_len = VARSIZE_ANY_EXHDR(skill);
		memcpy(names, VARDATA_ANY(skill), e->skill_len);
		e->skill = names;
		names += e->skill_len;
		e->credit = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
		e->updated_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull));
	}
}

/* Store the rows of an experience query (ordered by agent) with their agents */
static void
store_experience_rows(void)
{
	uint64		i = 0;

	while (i < SPI_processed)
	{
		int64		agent_id = cache_int64(i, 1);
		uint64		end = i;
		int32		slot;

		while (end < SPI_processed && cache_int64(end, 1) == agent_id)
			end++;
		slot = slot_of(agent_id);
		if (slot >= 0)
			store_experience(&cache->slots[slot], i, end);
		i = end;
	}
}

/* Store the rows of a group_members query (ordered by group) */
static void
store_group_rows(SPITupleTable *t, uint64 nrows)
{
	uint64		i = 0;

	while (i < nrows)
	{
		int64		group_id = result_int64(t, i, 1);
		uint64		end = i;
		GroupMembers *g;
		bool		found;

		while (end < nrows && result_int64(t, end, 1) == group_id)
			end++;
		g = hash_search(cache->groups, &group_id, HASH_ENTER, &found);
		if (found && g->slots != NULL)
			pfree(g->slots);
		g->slots = MemoryContextAlloc(cache->cxt, (end - i) * sizeof(int32));
		g->n = 0;
		for (; i < end; i++)
		{
			int32		slot = slot_of(result_int64(t, i, 2));

			if (slot >= 0)
				g->slots[g->n++] = slot;
		}
	}
}

/* Memory context callback: the cache's memory is gone (an error while loading, or a reload) */
static void
agent_cache_freed(void *arg)
{
	if (cache == (AgentCache *) arg)
		cache = NULL;
}

/* Look up the OIDs of the three tables, for the relcache callback */
static void
lookup_relids(AgentCache *c)
{
	Oid			nsp = get_namespace_oid("swarm", false);

	c->relids[0] = get_relname_relid("agents", nsp);
	c->relids[1] = get_relname_relid("agent_experience", nsp);
	c->relids[2] = get_relname_relid("group_members", nsp);
}

/*
 * Read the ring from position "from" (or, with whole, as far back as it
 * goes): append the changes in our database that the snapshot sees as
 * finished to todo (when given), and set *first_unseen to the position of
 * the first one it does not, or the end.  Returns false when a change the
 * snapshot may not see was overwritten: from is more than the ring behind,
 * or (whole) the newest overwritten transaction may be running for it.
 */
static bool
read_ring(Snapshot snap, uint64 from, bool whole, ChangeList *todo, uint64 *first_unseen)
{
	AgentChange *copy;
	uint64		next;
	uint64		n;
	uint64		i;
	TransactionId overwritten;

	/* copy the changes out, so that committers wait on the lock only for that */
	LWLockAcquire(shared->lock, LW_SHARED);
	next = shared->next;
	overwritten = shared->overwritten_xid;
	if (whole)
		from = next > CHANGE_RING_SIZE ? next - CHANGE_RING_SIZE : 0;
	else if (next - from > CHANGE_RING_SIZE)
	{
		LWLockRelease(shared->lock);
		return false;
	}
	n = next - from;
	copy = palloc(Max(n, 1) * sizeof(AgentChange));
	for (i = 0; i < n; i++)
		copy[i] = shared->ring[(from + i) % CHANGE_RING_SIZE];
	LWLockRelease(shared->lock);

	if (whole && TransactionIdIsValid(overwritten) && !TransactionIdPrecedes(overwritten, snap->xmin))
		return false;

	if (todo != NULL && todo->n + (int) n > todo->max)
	{
		todo->max = todo->n + (int) n;
		todo->items = todo->items == NULL ? palloc(Max(todo->max, 1) * sizeof(AgentChange))
			: repalloc(todo->items, Max(todo->max, 1) * sizeof(AgentChange));
	}
	*first_unseen = next;
	for (i = 0; i < n; i++)
	{
		if (copy[i].dbid != MyDatabaseId)
			continue;
		if (XidInMVCCSnapshot(copy[i].xid, snap))
		{
			/* running for this snapshot: a later call reads it */
			if (*first_unseen == next)
				*first_unseen = from + i;
			continue;
		}
		if (todo != NULL)
			todo->items[todo->n++] = copy[i];
	}
	pfree(copy);
	return true;
}

/* Are all six cache triggers there and enabled (ALWAYS)? */
static bool
cache_triggers_enabled(const AgentCache *c)
{
	Oid			argtypes[3] = {OIDOID, OIDOID, OIDOID};
	Datum		values[3];
	SPIPlanPtr	plan;

	plan = swarm_saved_plan(&plan_triggers,
					  "SELECT count(*) = 6 FROM pg_catalog.pg_trigger AS t"
					  " JOIN pg_catalog.pg_proc AS p ON p.oid = t.tgfoid"
					  " WHERE t.tgrelid IN ($1, $2, $3) AND t.tgenabled = 'A'"
					  " AND p.proname = 'routing_cache_changed'", 3, argtypes);
	values[0] = ObjectIdGetDatum(c->relids[0]);
	values[1] = ObjectIdGetDatum(c->relids[1]);
	values[2] = ObjectIdGetDatum(c->relids[2]);
	cache_exec(plan, values);
	return SPI_processed == 1 && cache_bool(0, 1);
}

/*
 * Does the snapshot see at least what the one the cache was last brought up
 * to date with saw: every transaction finished for that one is finished for
 * this one?  (Then the cache never holds a change this snapshot cannot see.)
 */
static bool
snapshot_not_older(const AgentCache *c, Snapshot snap)
{
	int			i;
	int			j;

	if (TransactionIdPrecedes(snap->xmax, c->last_xmax))
		return false;
	for (i = 0; i < (int) snap->xcnt; i++)
	{
		TransactionId xid = snap->xip[i];
		bool		running = false;

		if (!TransactionIdPrecedes(xid, c->last_xmax))
			continue;			/* not started, or running, for the cache's: fine */
		for (j = 0; j < c->last_xcnt && !running; j++)
			running = TransactionIdEquals(c->last_xip[j], xid);
		if (!running)
			return false;		/* finished for the cache, running for this snapshot */
	}
	return true;
}

/* Remember the snapshot the cache is now up to date with */
static void
remember_snapshot(AgentCache *c, Snapshot snap)
{
	if ((int) snap->xcnt > c->last_xip_room)
	{
		c->last_xip_room = Max((int) snap->xcnt, 16);
		c->last_xip = c->last_xip == NULL
			? MemoryContextAlloc(c->cxt, c->last_xip_room * sizeof(TransactionId))
			: repalloc(c->last_xip, c->last_xip_room * sizeof(TransactionId));
	}
	c->last_xmax = snap->xmax;
	c->last_xcnt = snap->xcnt;
	if (snap->xcnt > 0)
		memcpy(c->last_xip, snap->xip, snap->xcnt * sizeof(TransactionId));
}

/*
 * Read everything into a new cache, with the call's snapshot; false when the
 * snapshot cannot build an exact one (the cache stays stale).  The old cache
 * is freed first.
 */
static bool
load_all(Snapshot snap)
{
	uint64		first_unseen;
	MemoryContext cxt;
	MemoryContext old;
	AgentCache *c;
	MemoryContextCallback *freed;
	HASHCTL		hctl;
	uint64		i;

	/*
	 * The load shows what the call's snapshot shows; the changes in the ring
	 * it does not see yet are read at a later call.  If one may have been
	 * overwritten, this snapshot cannot build an exact cache.
	 */
	if (!read_ring(snap, 0, true, NULL, &first_unseen))
		return false;
	ring_seen = first_unseen;
	seen_at = ReadNextFullTransactionId();
	change_list_clear(&local_dirty);
	cache_stats.loads++;
	if (cache != NULL)
		MemoryContextDelete(cache->cxt);	/* its callback sets cache to NULL */
	cache_stale = false;		/* an invalidation from here on sets it again */

	/*
	 * Until it is whole, the new cache belongs to the call, so an error frees
	 * it; the callback then forgets it.
	 */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "swarm routing cache", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	c = palloc0(sizeof(AgentCache));
	c->cxt = cxt;
	lookup_relids(c);
	freed = palloc(sizeof(MemoryContextCallback));
	freed->func = agent_cache_freed;
	freed->arg = c;
	MemoryContextRegisterResetCallback(cxt, freed);
	MemoryContextSwitchTo(old);

	hctl.keysize = sizeof(int64);
	hctl.entrysize = sizeof(AgentSlot);
	hctl.hcxt = cxt;
	c->by_id = hash_create("swarm routing cache agents", 1024, &hctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	hctl.keysize = SKILLSET_MAX_NAME_LEN + 1;
	hctl.entrysize = sizeof(SkillPosting);
	c->by_skill = hash_create("swarm routing cache skills", 512, &hctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	hctl.keysize = sizeof(int64);
	hctl.entrysize = sizeof(GroupMembers);
	c->groups = hash_create("swarm routing cache groups", 64, &hctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	hctl.keysize = NAMEDATALEN;
	hctl.entrysize = sizeof(RegionName);
	c->regions = hash_create("swarm routing cache regions", 16, &hctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	cache = c;

	cache_exec(swarm_saved_plan(&plan_all_agents, "SELECT " AGENT_COLUMNS " FROM swarm.agents", 0, NULL), NULL);
	c->maxslots = Max(SPI_processed, 64);
	c->slots = MemoryContextAllocHuge(cxt, c->maxslots * sizeof(CachedAgent));
	for (i = 0; i < SPI_processed; i++)
		store_agent(i);
	SPI_freetuptable(SPI_tuptable);

	cache_exec(swarm_saved_plan(&plan_all_experience,
						  "SELECT agent_id, skill, credit, updated_at FROM swarm.agent_experience"
						  " ORDER BY agent_id, skill", 0, NULL), NULL);
	store_experience_rows();
	SPI_freetuptable(SPI_tuptable);

	cache_exec(swarm_saved_plan(&plan_all_groups,
						  "SELECT group_id, agent_id FROM swarm.group_members ORDER BY group_id, agent_id",
						  0, NULL), NULL);
	store_group_rows(SPI_tuptable, SPI_processed);
	SPI_freetuptable(SPI_tuptable);

	c->triggers_enabled = cache_triggers_enabled(c);
	remember_snapshot(c, snap);
	MemoryContextSetParent(cxt, CacheMemoryContext);
	return true;
}

/* Read the experience rows of some agents into the cache */
static void
read_experience(const int64 *ids, int n)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1];

	values[0] = id_array(ids, n);
	cache_exec(swarm_saved_plan(&plan_some_experience,
								"SELECT agent_id, skill, credit, updated_at FROM swarm.agent_experience"
								" WHERE agent_id = ANY ($1) ORDER BY agent_id, skill", 1, argtypes), values);
	store_experience_rows();
	SPI_freetuptable(SPI_tuptable);
}

/* Re-read some agents (and, for those new to the cache, their experience) */
static void
reload_agents(const int64 *ids, int n)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1];
	bool	   *seen = palloc0(Max(n, 1) * sizeof(bool));
	int64	   *fresh = palloc(Max(n, 1) * sizeof(int64));
	int			nfresh = 0;
	uint64		i;
	int			j;

	values[0] = id_array(ids, n);
	cache_exec(swarm_saved_plan(&plan_some_agents,
						  "SELECT " AGENT_COLUMNS " FROM swarm.agents WHERE agent_id = ANY ($1) ORDER BY agent_id",
						  1, argtypes), values);
	/* ids are sorted, and so are the rows */
	j = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		int64		id = cache_int64(i, 1);

		while (j < n && ids[j] < id)
			j++;
		if (j < n && ids[j] == id)
			seen[j] = true;
		if (store_agent(i))
			fresh[nfresh++] = id;
	}
	SPI_freetuptable(SPI_tuptable);
	for (j = 0; j < n; j++)
		if (!seen[j])
			drop_agent(ids[j]);

	if (nfresh > 0)
		read_experience(fresh, nfresh);
}

/* Re-read some agents' experience */
static void
reload_experience(const int64 *ids, int n)
{
	int			j;

	/* an agent with no rows left has no experience */
	for (j = 0; j < n; j++)
	{
		int32		slot = slot_of(ids[j]);

		if (slot >= 0)
			store_experience(&cache->slots[slot], 0, 0);
	}
	read_experience(ids, n);
}

/* Re-read some groups' members, first reading members the cache lacks */
static void
reload_groups(const int64 *ids, int n)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1];
	SPITupleTable *members;
	uint64		nmembers;
	int64	   *missing;
	int			nmissing = 0;
	uint64		i;
	int			j;

	for (j = 0; j < n; j++)
	{
		GroupMembers *g = hash_search(cache->groups, &ids[j], HASH_FIND, NULL);

		if (g != NULL)
		{
			if (g->slots != NULL)
				pfree(g->slots);
			hash_search(cache->groups, &ids[j], HASH_REMOVE, NULL);
		}
	}
	values[0] = id_array(ids, n);
	cache_exec(swarm_saved_plan(&plan_some_groups,
						  "SELECT group_id, agent_id FROM swarm.group_members WHERE group_id = ANY ($1)"
						  " ORDER BY group_id, agent_id", 1, argtypes), values);
	members = SPI_tuptable;
	nmembers = SPI_processed;
	missing = palloc(Max(nmembers, 1) * sizeof(int64));
	for (i = 0; i < nmembers; i++)
	{
		int64		agent_id = result_int64(members, i, 2);

		if (slot_of(agent_id) < 0)
			missing[nmissing++] = agent_id;
	}
	if (nmissing > 0)
	{
		int			nunique = 1;

		/* an agent in two of the groups is missing twice */
		qsort(missing, nmissing, sizeof(int64), id_cmp);
		for (j = 1; j < nmissing; j++)
			if (missing[j] != missing[nunique - 1])
				missing[nunique++] = missing[j];
		reload_agents(missing, nunique);
	}
	store_group_rows(members, nmembers);
	SPI_freetuptable(members);
}

/* The ids of one kind in a sorted, unique list of changes */
static int64 *
ids_of_kind(const ChangeList *list, int32 kind, int *n)
{
	int64	   *ids = palloc(Max(list->n, 1) * sizeof(int64));
	int			i;

	*n = 0;
	for (i = 0; i < list->n; i++)
		if (list->items[i].kind == kind)
			ids[(*n)++] = list->items[i].id;
	return ids;
}

/* May the current user read the three tables, without row-level security? */
static bool
tables_readable(const AgentCache *c)
{
	int			i;

	for (i = 0; i < 3; i++)
	{
		if (!OidIsValid(c->relids[i]) ||
			pg_class_aclcheck(c->relids[i], GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
			check_enable_rls(c->relids[i], InvalidOid, true) != RLS_NONE)
			return false;
	}
	return true;
}

/*
 * Bring the cache up to date with the call's snapshot: read the ring from
 * where this backend left it, and re-read the rows it names and those this
 * transaction changed.  Returns false when this call cannot use the cache
 * and must read the tables (see the file's header); the caller checked
 * agent_cache_usable().  Call inside an SPI connection.
 */
bool
agent_cache_refresh(void)
{
	Snapshot	snap = GetActiveSnapshot();
	ChangeList	todo;
	uint64		seen;
	FullTransactionId now;
	int64	   *ids;
	int			n;
	int			i;

	register_callbacks();
	AcceptInvalidationMessages();

	/* a snapshot older than the cache's (a cursor's, say) */
	if (cache != NULL && !cache_stale && !snapshot_not_older(cache, snap))
		goto tables;
	if (cache != NULL && !cache_stale && !tables_readable(cache))
		goto tables;

	now = ReadNextFullTransactionId();
	memset(&todo, 0, sizeof(todo));
	if (cache == NULL || cache_stale || refreshing || local_dirty.overflow ||
		U64FromFullTransactionId(now) - U64FromFullTransactionId(seen_at) > (UINT64CONST(1) << 30) ||
		!read_ring(snap, ring_seen, false, &todo, &seen))
	{
		/* (ring entries as old as the fourth check could have wrapped-around xids) */
		refreshing = false;
		if (!load_all(snap))
		{
			cache_stale = true;
			goto tables;
		}
		if (!tables_readable(cache))
			goto tables;
		goto loaded;
	}
	for (i = 0; i < todo.n; i++)
		if (todo.items[i].kind == CK_ALL)
		{
			if (!load_all(snap))
			{
				cache_stale = true;
				goto tables;
			}
			goto loaded;
		}

	/* and the rows this transaction changed, and those an aborted one did */
	if (todo.n + xact_changes.n + local_dirty.n > todo.max)
	{
		todo.max = todo.n + xact_changes.n + local_dirty.n;
		todo.items = todo.items == NULL ? palloc(todo.max * sizeof(AgentChange))
			: repalloc(todo.items, todo.max * sizeof(AgentChange));
	}
	for (i = 0; i < xact_changes.n; i++)
		todo.items[todo.n++] = xact_changes.items[i];
	for (i = 0; i < local_dirty.n; i++)
		todo.items[todo.n++] = local_dirty.items[i];
	change_list_unique(&todo);

	/* an error half-way leaves the cache unknown: the next call reloads it */
	refreshing = true;
	ids = ids_of_kind(&todo, CK_AGENT, &n);
	if (n > 0)
		reload_agents(ids, n);
	cache_stats.rows_read += n;
	ids = ids_of_kind(&todo, CK_EXPERIENCE, &n);
	if (n > 0)
		reload_experience(ids, n);
	cache_stats.rows_read += n;
	ids = ids_of_kind(&todo, CK_GROUP, &n);
	if (n > 0)
		reload_groups(ids, n);
	cache_stats.rows_read += n;
	refreshing = false;
	ring_seen = seen;
	seen_at = now;
	change_list_clear(&local_dirty);
	remember_snapshot(cache, snap);

loaded:
	if (!cache->triggers_enabled)
		goto tables;
	cache_stats.calls++;
	return true;

tables:
	cache_stats.table_reads++;
	return false;
}

/* The cached agent with that id, or NULL */
CachedAgent *
agent_cache_agent(int64 agent_id)
{
	int32		slot = slot_of(agent_id);

	return slot >= 0 ? &cache->slots[slot] : NULL;
}

/* The agent in a slot (agent_id 0 when its row was deleted) */
CachedAgent *
agent_cache_slot(int slot)
{
	return &cache->slots[slot];
}

/* How many slots there are */
int
agent_cache_nslots(void)
{
	return cache->nslots;
}

/* The agents having a skill, with their levels; NULL and 0 when none has it */
const SkillHolder *
agent_cache_with_skill(const char *name, int len, int *n)
{
	SkillPosting *p = posting_of(name, len, false);

	*n = p != NULL ? p->n : 0;
	return p != NULL ? p->holders : NULL;
}

/* Are all cached agents' regions interned, so that equal regions are equal pointers? */
bool
agent_cache_regions_interned(void)
{
	return !cache->long_region;
}

/*
 * The interned copy of a region name, which cached agents in that region
 * point to; NULL with *known false when no cached agent has that region.
 */
const char *
agent_cache_region(const char *region, bool *known)
{
	const char *r = intern_region(region, false);

	*known = r != NULL;
	return r;
}

/* The slots of a group's members; NULL and 0 for a group without members */
const int32 *
agent_cache_group(int64 group_id, int *n)
{
	GroupMembers *g = hash_search(cache->groups, &group_id, HASH_FIND, NULL);

	*n = g != NULL ? g->n : 0;
	return g != NULL ? g->slots : NULL;
}

/* A new stamp for CachedAgent.mark, so a call can tell agents it has seen */
uint32
agent_cache_next_mark(void)
{
	if (++cache_mark == 0)
	{
		int			i;

		/* wrapped around: clear every stamp */
		for (i = 0; i < cache->nslots; i++)
			cache->slots[i].mark = 0;
		cache_mark = 1;
	}
	return cache_mark;
}

/*
 * swarm.routing_cache_state(): this backend's routing cache: whether it is
 * loaded, how many agents it holds, and what it did since the session began
 */
Datum
swarm_routing_cache_state(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	int			agents = 0;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (cache != NULL)
		for (i = 0; i < cache->nslots; i++)
			if (cache->slots[i].agent_id != 0)
				agents++;
	values[0] = BoolGetDatum(shared != NULL);
	values[1] = BoolGetDatum(cache != NULL && !cache_stale);
	values[2] = Int32GetDatum(agents);
	values[3] = Int64GetDatum(cache_stats.calls);
	values[4] = Int64GetDatum(cache_stats.loads);
	values[5] = Int64GetDatum(cache_stats.rows_read);
	values[6] = Int64GetDatum(cache_stats.table_reads);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*-------------------------------------------------------------------------
 *
 * simulate.c
 *	  swarmctl simulate: a helpdesk day driven through swarm's SQL API.
 *
 *	  Agents in three regions and twelve time zones, with skills, work
 *	  shifts and lunch breaks; specialty groups, regional and global; cases
 *	  arriving on a daily curve per region with a mix of skills and
 *	  priorities, routed with auto_assign; owners who ask for help on the
 *	  cases they cannot solve alone (request_help), helpers who accept
 *	  offers or grab requests from the queue, some requests left
 *	  unanswered for the escalation worker, transfers with a reason, and
 *	  cases resolved with knowledge articles and closed.
 *
 *	  Everything is an event on a simulated clock, kept in a heap ordered
 *	  by (time, sequence number); random choices come from our own PRNG
 *	  (splitmix64), one stream for the set-up, one for the arrivals and one
 *	  per case, so the same seed gives the same sequence of API calls as
 *	  long as the server gives the same answers.  --speed X runs X simulated
 *	  seconds per real second: the server's clock gives every timestamp, so
 *	  compressing time means making the calls sooner, and the SLA policies
 *	  are compressed by the same factor so that escalations fire at the
 *	  simulated moments.
 *
 * tools/swarmctl/simulate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <math.h>
#include <unistd.h>

#include "common/logging.h"
#include "getopt_long.h"

#include "swarmctl.h"

/* ---- the world --------------------------------------------------------- */

#define NSKILLS 10
enum
{
	SK_POSTGRES, SK_REPLICATION, SK_LINUX, SK_NETWORKING, SK_VPN,
	SK_KUBERNETES, SK_STORAGE, SK_BILLING, SK_SALES_TAX, SK_SECURITY
};
static const char *const skill_names[NSKILLS] = {
	"postgres", "replication", "linux", "networking", "vpn",
	"kubernetes", "storage", "billing", "sales tax", "security"
};

/* A line of work: its skills (the main one first) and its share of cases. */
typedef struct Domain
{
	const char *name;
	int			skills[3];		/* -1: none */
	double		mix;
	const char *subjects[4];
} Domain;

#define NDOMAINS 5
static const Domain domains[NDOMAINS] = {
	{"database", {SK_POSTGRES, SK_REPLICATION, SK_LINUX}, 0.30,
	{"Replica lagging behind the primary", "Queries slow after the upgrade",
	"Connection pool exhausted", "Disk full on the primary"}},
	{"network", {SK_NETWORKING, SK_VPN, SK_LINUX}, 0.20,
	{"VPN drops every hour", "Packet loss between sites",
	"DNS lookups fail now and then", "TLS handshake errors"}},
	{"platform", {SK_KUBERNETES, SK_STORAGE, SK_LINUX}, 0.20,
	{"Pods stuck in CrashLoopBackOff", "Node runs out of memory",
	"Volume will not attach", "Deployment rollout hangs"}},
	{"billing", {SK_BILLING, SK_SALES_TAX, -1}, 0.15,
	{"Invoice shows the wrong sales tax", "Card charged twice",
	"Refund not received", "Plan change not on the invoice"}},
	{"security", {SK_SECURITY, SK_NETWORKING, SK_LINUX}, 0.15,
	{"Suspicious logins from abroad", "Certificate expired",
	"Single sign-on loops back to the login page", "Gaps in the audit log"}},
};

/* Where customers and agents are; offset: a typical UTC offset, in hours. */
typedef struct Region
{
	const char *name;
	double		share;
	double		offset;
} Region;

#define NREGIONS 3
enum
{
	R_EMEA, R_AMER, R_APAC
};
static const Region regions[NREGIONS] = {
	{"emea", 0.40, 1}, {"amer", 0.35, -6}, {"apac", 0.25, 8}
};

/* A city an agent works from: the offset is fixed (no daylight saving). */
typedef struct City
{
	const char *name;
	int			region;
	const char *timezone;
	double		offset;
} City;

#define NCITIES 12
static const City cities[NCITIES] = {
	{"Lisbon", R_EMEA, "Europe/Lisbon", 0}, {"Berlin", R_EMEA, "Europe/Berlin", 1},
	{"Cairo", R_EMEA, "Africa/Cairo", 2}, {"Nairobi", R_EMEA, "Africa/Nairobi", 3},
	{"New York", R_AMER, "America/New_York", -5}, {"Chicago", R_AMER, "America/Chicago", -6},
	{"Denver", R_AMER, "America/Denver", -7}, {"São Paulo", R_AMER, "America/Sao_Paulo", -3},
	{"Tokyo", R_APAC, "Asia/Tokyo", 9}, {"Singapore", R_APAC, "Asia/Singapore", 8},
	{"Sydney", R_APAC, "Australia/Sydney", 10}, {"Bangalore", R_APAC, "Asia/Kolkata", 5.5},
};

#define NNAMES 40
static const char *const first_names[NNAMES] = {
	"Ana", "Omar", "Maria", "Dave", "Kenji", "Li", "Sofia", "Lars", "Amara", "Diego",
	"Yuki", "Priya", "Noah", "Fatima", "Hiro", "Chloe", "Mateo", "Aisha", "Jonas", "Mei",
	"Ravi", "Elena", "Tom", "Zara", "Ivan", "Lucia", "Kwame", "Sara", "Felix", "Nia",
	"Pedro", "Ines", "Arjun", "Leila", "Sam", "Ola", "Wei", "Rosa", "Ben", "Hana"
};

/* A specialty group: up to two skills, global or serving one region. */
typedef struct GroupDef
{
	const char *name;
	int			skill[2];
	int			level[2];
	bool		global;
	int			region;
} GroupDef;

#define NGROUPS 8
static const GroupDef group_defs[NGROUPS] = {
	{"postgres-experts", {SK_POSTGRES, SK_REPLICATION}, {4, 3}, true, -1},
	{"network-emea", {SK_NETWORKING, -1}, {4, 0}, false, R_EMEA},
	{"network-amer", {SK_NETWORKING, -1}, {4, 0}, false, R_AMER},
	{"network-apac", {SK_NETWORKING, -1}, {4, 0}, false, R_APAC},
	{"platform", {SK_KUBERNETES, SK_LINUX}, {4, 3}, true, -1},
	{"billing-amer", {SK_BILLING, -1}, {3, 0}, false, R_AMER},
	{"billing-emea", {SK_BILLING, -1}, {3, 0}, false, R_EMEA},
	{"security", {SK_SECURITY, -1}, {4, 0}, true, -1},
};

/* Cases per local hour of the customer's day, relative (mean about 0.8). */
static const double daily_curve[24] = {
	0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.15, 0.40, 0.90, 1.40, 1.60, 1.60,
	1.30, 1.40, 1.60, 1.50, 1.20, 0.80, 0.50, 0.35, 0.25, 0.20, 0.15, 0.10
};

#define CASES_PER_AGENT_DAY 5.0
#define HELP_CAPACITY 3			/* swarm.agents.help_capacity's default */

/* SLA targets in simulated minutes per priority: first response,
 * resolution, acceptance, request resolution. */
static const double sla_minutes[4][4] = {
	{15, 4 * 60, 10, 60},
	{30, 8 * 60, 30, 4 * 60},
	{2 * 60, 24 * 60, 60, 8 * 60},
	{8 * 60, 72 * 60, 4 * 60, 24 * 60},
};

static const char *const transfer_reasons[] = {
	"owner going on leave", "customer asked for a native speaker", "owner overloaded"
};
static const char *const decline_reasons[] = {
	"in a P1 bridge call", "not my area after all", "about to go off shift"
};

/* ---- the PRNG: splitmix64 -------------------------------------------- */

typedef struct Rng
{
	uint64		s;
} Rng;

/* The next 64 random bits. */
static uint64
rng_next(Rng *r)
{
	uint64		z = (r->s += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A stream of its own for (seed, stream number). */
static Rng
rng_stream(uint64 seed, uint64 stream)
{
	Rng			r = {seed ^ (stream * UINT64CONST(0xD1B54A32D192ED03))};

	r.s = rng_next(&r);
	return r;
}

/* Uniform in [0, 1). */
static double
rng_unif(Rng *r)
{
	return (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi). */
static double
rng_range(Rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unif(r);
}

/* Uniform integer in [0, n). */
static int
rng_int(Rng *r, int n)
{
	return (int) (rng_unif(r) * n);
}

/* Whether an event of probability p happens. */
static bool
rng_chance(Rng *r, double p)
{
	return rng_unif(r) < p;
}

/* ---- the simulated helpdesk -------------------------------------------- */

typedef enum Presence
{
	P_ONLINE, P_AWAY, P_OFFLINE
} Presence;

typedef struct SimAgent
{
	long long	id;
	char		ref[32];
	char		name[64];
	int			city;
	int			levels[NSKILLS];
	int			capacity;
	double		shift_start;	/* UTC hour */
	double		shift_hours;
	double		lunch_after;	/* hours into the shift */
	double		lunch_hours;
	Presence	presence;
	int			open_cases;		/* as far as we know */
	int			open_helps;
} SimAgent;

typedef enum CaseState
{
	CS_NEW, CS_OPEN, CS_RESOLVED, CS_CLOSED
} CaseState;

typedef struct SimCase
{
	long long	id;
	int			number;
	int			region;
	int			domain;
	int			priority;		/* 1..4 */
	int			need[NSKILLS];
	int			owner;			/* agent index, -1: none */
	CaseState	state;
	double		arrived;
	double		work;			/* simulated seconds the owner needs */
	bool		second_opinion; /* asks for help even without a gap */
	bool		queued;			/* nobody was eligible: waits for an agent */
	bool		helped;
	int			asked;			/* help requests made */
	int			postponed;
	Rng			rng;
} SimCase;

typedef enum RequestState
{
	RS_OPEN, RS_OFFERED, RS_ACCEPTED, RS_RESOLVED, RS_CANCELLED
} RequestState;

typedef struct SimRequest
{
	long long	id;
	int			case_idx;
	int			skill;
	int			group;			/* group_defs index, -1: none */
	bool		pull;
	bool		unanswered;
	RequestState state;
	int			helper;			/* agent index */
	int			offered_to;		/* agent index */
	int			tries;
	bool		declined;
} SimRequest;

typedef enum EventType
{
	EV_PROGRESS, EV_SHIFT_START, EV_LUNCH_START, EV_LUNCH_END, EV_SHIFT_END,
	EV_ARRIVAL, EV_ASSIGN, EV_RESPOND, EV_TRANSFER, EV_ASK_HELP, EV_OFFER,
	EV_ANSWER_OFFER, EV_GRAB, EV_RESOLVE_REQUEST, EV_RESOLVE_CASE, EV_CLOSE_CASE
} EventType;

typedef struct Event
{
	double		t;				/* simulated seconds since the start */
	long long	seq;
	EventType	type;
	int			idx;			/* agent, case or request index */
} Event;

/* The API functions called, with how often and how often refused. */
typedef struct CallStat
{
	const char *name;
	long		calls;
	long		refused;
} CallStat;

static CallStat call_stats[] = {
	{"add_agent", 0, 0},
	{"set_presence", 0, 0},
	{"add_group", 0, 0},
	{"add_group_member", 0, 0},
	{"set_sla_policy", 0, 0},
	{"open_case", 0, 0},
	{"auto_assign", 0, 0},
	{"record_response", 0, 0},
	{"transfer_case", 0, 0},
	{"request_help", 0, 0},
	{"offer_request", 0, 0},
	{"accept_request", 0, 0},
	{"decline_request", 0, 0},
	{"grab_request", 0, 0},
	{"resolve_request", 0, 0},
	{"resolve_case", 0, 0},
	{"close_case", 0, 0},
	{NULL, 0, 0}
};

typedef struct Counters
{
	long		opened,
				assigned,
				unassigned_tries,
				responded,
				transferred,
				resolved,
				with_kb,
				closed;
	long		asked,
				pushed,
				pulled,
				offered,
				accepted,
				grabbed,
				declined,
				req_resolved,
				unanswered;
} Counters;

typedef struct Sim
{
	PGconn	   *conn;
	uint64		seed;
	int			nagents;
	double		hours;
	double		speed;
	bool		keep_sla;
	bool		verbose;
	bool		tty;
	double		horizon;		/* simulated seconds */
	double		now;			/* simulated time of the current event */
	double		real_start;
	double		grab_threshold;
	long long	first_event_id;
	bool		warned_behind;
	double		last_bar;
	int			kb_next;

	SimAgent   *agents;
	long long	group_ids[NGROUPS];
	bool	   *member[NGROUPS];	/* per group, per agent */

	SimCase    *cases;
	int			ncases;
	SimRequest *requests;
	int			nrequests;
	int			maxrequests;

	Event	   *heap;
	int			nheap;
	int			maxheap;
	long long	seq;

	Counters	n;
	long		calls;
	long		refused;
} Sim;

/* ---- the event heap ---------------------------------------------------- */

/* Whether event a comes before event b. */
static bool
event_before(const Event *a, const Event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Schedule an event at simulated time t (events past the horizon are dropped). */
static void
schedule(Sim *sim, double t, EventType type, int idx)
{
	int			i;

	if (t >= sim->horizon)
		return;
	if (sim->nheap == sim->maxheap)
	{
		sim->maxheap = Max(1024, sim->maxheap * 2);
		sim->heap = pg_realloc(sim->heap, sim->maxheap * sizeof(Event));
	}
	i = sim->nheap++;
	sim->heap[i].t = t;
	sim->heap[i].seq = sim->seq++;
	sim->heap[i].type = type;
	sim->heap[i].idx = idx;
	while (i > 0 && event_before(&sim->heap[i], &sim->heap[(i - 1) / 2]))
	{
		Event		tmp = sim->heap[i];

		sim->heap[i] = sim->heap[(i - 1) / 2];
		sim->heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

/* Take the earliest event; false when there is none. */
static bool
next_event(Sim *sim, Event *ev)
{
	int			i = 0;

	if (sim->nheap == 0)
		return false;
	*ev = sim->heap[0];
	sim->heap[0] = sim->heap[--sim->nheap];
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = i;
		Event		tmp;

		if (l < sim->nheap && event_before(&sim->heap[l], &sim->heap[m]))
			m = l;
		if (r < sim->nheap && event_before(&sim->heap[r], &sim->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = sim->heap[i];
		sim->heap[i] = sim->heap[m];
		sim->heap[m] = tmp;
		i = m;
	}
	return true;
}

/* ---- helpers ----------------------------------------------------------- */

/* "HH:MM" of a simulated time (hours may pass 24). */
static const char *
sim_clock(double t)
{
	static char buf[32];
	long		minutes = (long) (t / 60.0);

	snprintf(buf, sizeof(buf), "%02ld:%02ld", minutes / 60, minutes % 60);
	return buf;
}

/* A skillset's text form for the given levels ("billing:3, \"sales tax\":2"). */
static void
skillset_text(const int *levels, PQExpBuffer buf)
{
	int			s;

	resetPQExpBuffer(buf);
	for (s = 0; s < NSKILLS; s++)
	{
		if (levels[s] == 0)
			continue;
		if (buf->len > 0)
			appendPQExpBufferStr(buf, ", ");
		if (strchr(skill_names[s], ' '))
			appendPQExpBuffer(buf, "\"%s\":%d", skill_names[s], levels[s]);
		else
			appendPQExpBuffer(buf, "%s:%d", skill_names[s], levels[s]);
	}
}

/* swarm.match_score: the share of the needed levels that have covers. */
static double
match_score(const int *have, const int *need)
{
	int			covered = 0,
				total = 0,
				s;

	for (s = 0; s < NSKILLS; s++)
	{
		covered += Min(have[s], need[s]);
		total += need[s];
	}
	return total == 0 ? 1.0 : (double) covered / total;
}

/* Whether two skill profiles share a skill name. */
static bool
overlaps(const int *a, const int *b)
{
	int			s;

	for (s = 0; s < NSKILLS; s++)
		if (a[s] > 0 && b[s] > 0)
			return true;
	return false;
}

/* The index of the agent with that id, or -1. */
static int
agent_index(const Sim *sim, long long id)
{
	int			i;

	for (i = 0; i < sim->nagents; i++)
		if (sim->agents[i].id == id)
			return i;
	return -1;
}

/* The index of the request with that id, or -1 (ids grow with the index). */
static int
request_index(const Sim *sim, long long id)
{
	int			lo = 0,
				hi = sim->nrequests - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (sim->requests[mid].id == id)
			return mid;
		if (sim->requests[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Whether the agent works at simulated time t (shift and lunch ignored: on shift). */
static bool
on_shift(const SimAgent *a, double t)
{
	double		day = floor(t / 86400.0);
	int			d;

	for (d = -1; d <= 0; d++)
	{
		double		start = (day + d) * 86400.0 + a->shift_start * 3600.0;

		if (t >= start && t < start + a->shift_hours * 3600.0)
			return true;
	}
	return false;
}

/* The start of the agent's next shift after t. */
static double
next_shift(const SimAgent *a, double t)
{
	double		start = floor(t / 86400.0) * 86400.0 + a->shift_start * 3600.0;

	while (start <= t)
		start += 86400.0;
	return start;
}

/* An id as text, for a parameter (four buffers used in turn). */
static const char *
id_text(long long id)
{
	static char buf[4][32];
	static int	which = 0;

	which = (which + 1) % 4;
	snprintf(buf[which], sizeof(buf[which]), "%lld", id);
	return buf[which];
}

/* ---- calling the API --------------------------------------------------- */

/* The statistics entry of an API function. */
static CallStat *
call_stat(const char *fn)
{
	CallStat   *cs;

	for (cs = call_stats; cs->name; cs++)
		if (strcmp(cs->name, fn) == 0)
			return cs;
	pg_fatal("internal error: unknown function %s", fn);
	return NULL;				/* keep the compiler quiet */
}

/*
 * Whether an error is the API refusing the call (a state, capacity or
 * argument check, or a concurrency conflict with the escalation worker),
 * which a helpdesk application handles, rather than something broken.
 */
static bool
is_refusal(const char *sqlstate)
{
	return sqlstate != NULL &&
		(strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
		 strncmp(sqlstate, "53", 2) == 0 || strncmp(sqlstate, "55", 2) == 0 ||
		 strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0);
}

/*
 * Call swarm.<fn>(args) as "SELECT swarm.<fn>(<args>)" with text
 * parameters.  Returns true with the result (empty for NULL) in out, or
 * false when the API refused the call; any other error ends the program.
 */
static bool
api_call(Sim *sim, const char *fn, const char *args, int nparams,
		 const char *const *params, char *out, size_t outlen)
{
	CallStat   *cs = call_stat(fn);
	PQExpBufferData sql;
	PGresult   *res;
	bool		ok;

	initPQExpBuffer(&sql);
	appendPQExpBuffer(&sql, "SELECT swarm.%s(%s)", fn, args);
	res = PQexecParams(sim->conn, sql.data, nparams, NULL, params, NULL, NULL, 0);
	cs->calls++;
	sim->calls++;
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (ok)
	{
		if (out)
			strlcpy(out, PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0), outlen);
		if (sim->verbose)
		{
			int			i;

			fprintf(stderr, "[%s] %s(", sim_clock(sim->now), fn);
			for (i = 0; i < nparams; i++)
				fprintf(stderr, "%s%s", i ? ", " : "", params[i] ? params[i] : "NULL");
			fprintf(stderr, ") = %s\n", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
		}
	}
	else
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		if (PQstatus(sim->conn) != CONNECTION_OK || !is_refusal(sqlstate))
		{
			if (sim->tty)
				fputc('\n', stdout);
			pg_log_error("%s failed at simulated %s: %s", fn, sim_clock(sim->now), PQerrorMessage(sim->conn));
			pg_log_error_detail("Query was: %s", sql.data);
			exit(EXIT_RUNTIME);
		}
		cs->refused++;
		sim->refused++;
		if (sim->verbose)
			fprintf(stderr, "[%s] %s refused: %s (SQLSTATE %s)\n", sim_clock(sim->now), fn, msg, sqlstate);
	}
	PQclear(res);
	termPQExpBuffer(&sql);
	return ok;
}

/* A query that is not an API call and must succeed; one value. */
static void
sim_query(Sim *sim, const char *sql, int nparams, const char *const *params, char *out, size_t outlen)
{
	PGresult   *res = run_query(sim->conn, sql, nparams, params);

	strlcpy(out, PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "", outlen);
	PQclear(res);
}

/* Set an agent's presence, if it changes. */
static void
set_presence(Sim *sim, int ai, Presence p)
{
	static const char *const names[] = {"online", "away", "offline"};
	SimAgent   *a = &sim->agents[ai];
	const char *params[2];

	if (a->presence == p)
		return;
	params[0] = id_text(a->id);
	params[1] = names[p];
	if (api_call(sim, "set_presence", "$1::bigint, $2", 2, params, NULL, 0))
		a->presence = p;
}

/* ---- setting up: SLA policies, agents and groups ----------------------- */

/* SLA policies for P1-P4, their targets compressed by the speed. */
static void
setup_sla(Sim *sim)
{
	int			p,
				k;

	for (p = 0; p < 4; p++)
	{
		char		prio[4];
		char		targets[4][64];
		const char *params[5];

		snprintf(prio, sizeof(prio), "P%d", p + 1);
		params[0] = prio;
		for (k = 0; k < 4; k++)
		{
			snprintf(targets[k], sizeof(targets[k]), "%.6f seconds", sla_minutes[p][k] * 60.0 / sim->speed);
			params[k + 1] = targets[k];
		}
		api_call(sim, "set_sla_policy", "$1::swarm.priority, $2::interval, $3::interval, $4::interval, $5::interval",
				 5, params, NULL, 0);
	}
}

/* Make the agents: region, city, skills, capacity and shift. */
static void
setup_agents(Sim *sim)
{
	Rng			rng = rng_stream(sim->seed, 1);
	PQExpBuffer skills = createPQExpBuffer();
	int			region_count[NREGIONS] = {0};
	int			domain_count[NREGIONS][NDOMAINS] = {{0}};
	int			i;

	sim->agents = pg_malloc0(sim->nagents * sizeof(SimAgent));
	for (i = 0; i < sim->nagents; i++)
	{
		SimAgent   *a = &sim->agents[i];
		const Domain *dom;
		int			region,
					d,
					k,
					c;
		char		capacity[16];
		char		result[32];
		const char *params[6];
		static const double starts[] = {8, 8.5, 9, 9.5, 10};

		/*
		 * Regions by their shares, and in each region the lines of work by
		 * their shares of the cases: each agent goes where the team is
		 * furthest below its share, so that small teams are balanced too.
		 */
		region = 0;
		for (k = 1; k < NREGIONS; k++)
			if (regions[k].share * (i + 1) - region_count[k] >
				regions[region].share * (i + 1) - region_count[region])
				region = k;
		d = 0;
		for (k = 1; k < NDOMAINS; k++)
			if (domains[k].mix * (region_count[region] + 1) - domain_count[region][k] >
				domains[d].mix * (region_count[region] + 1) - domain_count[region][d])
				d = k;
		region_count[region]++;
		domain_count[region][d]++;
		do
			c = rng_int(&rng, NCITIES);
		while (cities[c].region != region);
		a->city = c;

		dom = &domains[d];
		for (k = 0; k < 3; k++)
			if (dom->skills[k] >= 0)
				a->levels[dom->skills[k]] = k == 0 ? 3 + rng_int(&rng, 3) : 2 + rng_int(&rng, 3);
		if (rng_chance(&rng, 0.4))
		{
			int			other = (d + 1 + rng_int(&rng, NDOMAINS - 1)) % NDOMAINS;
			int			s = domains[other].skills[0];

			a->levels[s] = Max(a->levels[s], 1 + rng_int(&rng, 3));
		}
		a->capacity = 6 + rng_int(&rng, 5);
		a->shift_start = fmod(starts[rng_int(&rng, 5)] - cities[c].offset + 48.0, 24.0);
		a->shift_hours = 8.5;
		a->lunch_after = 3.5 + rng_range(&rng, 0, 1.5);
		a->lunch_hours = rng_range(&rng, 0.5, 1.0);
		a->presence = P_ONLINE;

		snprintf(a->ref, sizeof(a->ref), "sim-a%03d", i + 1);
		if (i < NNAMES)
			snprintf(a->name, sizeof(a->name), "%s (%s)", first_names[i], cities[c].name);
		else
			snprintf(a->name, sizeof(a->name), "%s %d (%s)", first_names[i % NNAMES], i / NNAMES + 1,
					 cities[c].name);
		skillset_text(a->levels, skills);
		snprintf(capacity, sizeof(capacity), "%d", a->capacity);
		params[0] = a->ref;
		params[1] = a->name;
		params[2] = skills->data;
		params[3] = regions[region].name;
		params[4] = cities[c].timezone;
		params[5] = capacity;
		if (!api_call(sim, "add_agent", "$1, $2, $3::swarm.skillset, $4, $5, $6::integer", 6, params,
					  result, sizeof(result)))
			pg_fatal("could not add agent %s", a->ref);
		a->id = strtoll(result, NULL, 10);
	}
	destroyPQExpBuffer(skills);
}

/*
 * Make the specialty groups.  Members are the agents of the group's region
 * (any region for a global group) who cover its skills (match 0.75 or
 * more); a group with fewer than two such agents takes the best of the
 * others who have some of its skills.  The member with the most of the
 * group's skills leads it.
 */
static void
setup_groups(Sim *sim)
{
	PQExpBuffer skills = createPQExpBuffer();
	int			g,
				i;

	for (g = 0; g < NGROUPS; g++)
	{
		const GroupDef *gd = &group_defs[g];
		int			need[NSKILLS] = {0};
		int			lead = -1,
					best = -1,
					members = 0;
		char		result[32];
		const char *params[4];

		need[gd->skill[0]] = gd->level[0];
		if (gd->skill[1] >= 0)
			need[gd->skill[1]] = gd->level[1];
		skillset_text(need, skills);
		params[0] = gd->name;
		params[1] = skills->data;
		params[2] = gd->global ? "global" : "regional";
		params[3] = gd->global ? NULL : regions[gd->region].name;
		if (!api_call(sim, "add_group", "$1, $2::swarm.skillset, $3, $4", 4, params, result, sizeof(result)))
			pg_fatal("could not add group %s", gd->name);
		sim->group_ids[g] = strtoll(result, NULL, 10);

		sim->member[g] = pg_malloc0(sim->nagents * sizeof(bool));
		for (i = 0; i < sim->nagents; i++)
		{
			SimAgent   *a = &sim->agents[i];

			if ((gd->global || cities[a->city].region == gd->region) && match_score(a->levels, need) >= 0.75)
			{
				sim->member[g][i] = true;
				members++;
			}
		}
		while (members < 2)
		{
			int			pick = -1;
			double		pick_score = 0;

			for (i = 0; i < sim->nagents; i++)
			{
				SimAgent   *a = &sim->agents[i];
				double		score = match_score(a->levels, need);

				if (!sim->member[g][i] && (gd->global || cities[a->city].region == gd->region) &&
					score > pick_score)
				{
					pick = i;
					pick_score = score;
				}
			}
			if (pick < 0)
				break;
			sim->member[g][pick] = true;
			members++;
		}
		for (i = 0; i < sim->nagents; i++)
		{
			SimAgent   *a = &sim->agents[i];
			int			sum = a->levels[gd->skill[0]] + (gd->skill[1] >= 0 ? a->levels[gd->skill[1]] : 0);

			if (sim->member[g][i] && sum > best)
			{
				best = sum;
				lead = i;
			}
		}
		for (i = 0; i < sim->nagents; i++)
		{
			if (!sim->member[g][i])
				continue;
			params[0] = gd->name;
			params[1] = id_text(sim->agents[i].id);
			params[2] = i == lead ? "true" : "false";
			api_call(sim, "add_group_member", "$1, $2::bigint, $3::boolean", 3, params, NULL, 0);
		}
	}
	destroyPQExpBuffer(skills);
}

/* Presence at the start, and the shift, lunch and end events of every day. */
static void
setup_shifts(Sim *sim)
{
	int			i;

	for (i = 0; i < sim->nagents; i++)
	{
		SimAgent   *a = &sim->agents[i];
		double		day;

		for (day = -1; day * 86400.0 < sim->horizon; day++)
		{
			double		start = day * 86400.0 + a->shift_start * 3600.0;
			double		lunch = start + a->lunch_after * 3600.0;
			double		lunch_end = lunch + a->lunch_hours * 3600.0;
			double		end = start + a->shift_hours * 3600.0;

			if (start >= 0)
				schedule(sim, start, EV_SHIFT_START, i);
			if (lunch >= 0)
				schedule(sim, lunch, EV_LUNCH_START, i);
			if (lunch_end >= 0)
				schedule(sim, lunch_end, EV_LUNCH_END, i);
			if (end >= 0)
				schedule(sim, end, EV_SHIFT_END, i);

			/* where the agent is when the simulation starts */
			if (start <= 0 && end > 0)
				set_presence(sim, i, lunch <= 0 && lunch_end > 0 ? P_AWAY : P_ONLINE);
		}
		if (!on_shift(a, 0))
			set_presence(sim, i, P_OFFLINE);
	}
}

/*
 * The arrival times of the cases: for each region a Poisson process
 * following the daily curve in the region's local time (by thinning), all
 * merged in time order.
 */
static void
setup_arrivals(Sim *sim)
{
	Rng			rng = rng_stream(sim->seed, 2);
	double		mean = 0,
				peak = 0;
	int			h,
				r,
				i;
	int			max = 64;

	for (h = 0; h < 24; h++)
	{
		mean += daily_curve[h] / 24.0;
		peak = Max(peak, daily_curve[h]);
	}
	sim->cases = pg_malloc0(max * sizeof(SimCase));
	for (r = 0; r < NREGIONS; r++)
	{
		/* cases per simulated second at the curve's mean */
		double		base = CASES_PER_AGENT_DAY * sim->nagents * regions[r].share / 86400.0;
		double		top = base * peak / mean;
		double		t = 0;

		for (;;)
		{
			double		local;

			t += -log(1.0 - rng_unif(&rng)) / top;
			if (t >= sim->horizon)
				break;
			local = fmod(t / 3600.0 + regions[r].offset + 48.0, 24.0);
			if (!rng_chance(&rng, daily_curve[(int) local] / peak))
				continue;
			if (sim->ncases == max)
			{
				max *= 2;
				sim->cases = pg_realloc(sim->cases, max * sizeof(SimCase));
			}
			memset(&sim->cases[sim->ncases], 0, sizeof(SimCase));
			sim->cases[sim->ncases].arrived = t;
			sim->cases[sim->ncases].region = r;
			sim->ncases++;
		}
	}

	/* time order (insertion sort is plenty for a few thousand cases) */
	for (i = 1; i < sim->ncases; i++)
	{
		SimCase		c = sim->cases[i];
		int			j = i - 1;

		while (j >= 0 && (sim->cases[j].arrived > c.arrived ||
						  (sim->cases[j].arrived == c.arrived && sim->cases[j].region > c.region)))
		{
			sim->cases[j + 1] = sim->cases[j];
			j--;
		}
		sim->cases[j + 1] = c;
	}
	for (i = 0; i < sim->ncases; i++)
	{
		sim->cases[i].number = i + 1;
		sim->cases[i].owner = -1;
		sim->cases[i].rng = rng_stream(sim->seed, 1000 + (uint64) i);
		schedule(sim, sim->cases[i].arrived, EV_ARRIVAL, i);
	}
}

/* ---- the life of a case ------------------------------------------------ */

/* Minutes, uniformly between lo and hi, as simulated seconds. */
static double
minutes(Rng *r, double lo, double hi)
{
	return rng_range(r, lo, hi) * 60.0;
}

/* A case arrives: what it needs, its priority; open it. */
static void
case_arrives(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	Rng		   *r = &c->rng;
	const Domain *dom;
	PQExpBuffer needed = createPQExpBuffer();
	char		ref[32],
				prio[4],
				customer[32],
				result[32];
	const char *params[6];
	double		u = rng_unif(r);
	int			d;

	for (d = 0; d < NDOMAINS - 1 && u >= domains[d].mix; d++)
		u -= domains[d].mix;
	c->domain = d;
	dom = &domains[d];
	c->need[dom->skills[0]] = 2 + rng_int(r, 3);
	if (dom->skills[1] >= 0 && rng_chance(r, 0.5))
		c->need[dom->skills[1]] = 2 + rng_int(r, 2);
	if (rng_chance(r, 0.15))
	{
		/* something from another line of work too: the hard ones */
		int			other = (d + 1 + rng_int(r, NDOMAINS - 1)) % NDOMAINS;

		c->need[domains[other].skills[0]] = 3 + rng_int(r, 2);
	}
	u = rng_unif(r);
	c->priority = u < 0.05 ? 1 : u < 0.25 ? 2 : u < 0.75 ? 3 : 4;
	c->second_opinion = (c->priority == 1 && rng_chance(r, 0.3)) || rng_chance(r, 0.03);
	{
		static const double work_hours[4][2] = {{0.75, 2.5}, {1.5, 5}, {2, 8}, {3, 12}};

		c->work = rng_range(r, work_hours[c->priority - 1][0], work_hours[c->priority - 1][1]) * 3600.0;
	}

	snprintf(ref, sizeof(ref), "SIM-%05d", c->number);
	snprintf(prio, sizeof(prio), "P%d", c->priority);
	snprintf(customer, sizeof(customer), "%s-customer-%02d", regions[c->region].name, 1 + rng_int(r, 30));
	skillset_text(c->need, needed);
	params[0] = ref;
	params[1] = dom->subjects[rng_int(r, 4)];
	params[2] = prio;
	params[3] = needed->data;
	params[4] = customer;
	params[5] = regions[c->region].name;
	if (api_call(sim, "open_case", "$1, $2, $3::swarm.priority, $4::swarm.skillset, $5, $6", 6, params,
				 result, sizeof(result)))
	{
		c->id = strtoll(result, NULL, 10);
		c->state = CS_NEW;
		sim->n.opened++;
		schedule(sim, sim->now + minutes(r, 0.5, 3), EV_ASSIGN, ci);
	}
	destroyPQExpBuffer(needed);
}

/* The best other agent to take case ci over (online, with room, not helping on it), or -1. */
static int
transfer_target(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	int			best = -1,
				i,
				j;
	double		best_score = -1;

	for (i = 0; i < sim->nagents; i++)
	{
		SimAgent   *a = &sim->agents[i];
		bool		helping = false;
		double		score;

		if (i == c->owner || a->presence != P_ONLINE || a->open_cases >= a->capacity)
			continue;
		for (j = 0; j < sim->nrequests; j++)
			if (sim->requests[j].case_idx == ci &&
				sim->requests[j].state == RS_ACCEPTED && sim->requests[j].helper == i)
				helping = true;
		if (helping)
			continue;
		score = match_score(a->levels, c->need);
		if (score > best_score)
		{
			best_score = score;
			best = i;
		}
	}
	return best;
}

/* Route a new case with auto_assign; nobody eligible: try again later. */
static void
case_assign(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	Rng		   *r = &c->rng;
	char		result[32];
	const char *params[1];
	static const double respond[4][2] = {{2, 10}, {5, 30}, {10, 60}, {30, 180}};
	SimAgent   *owner;
	double		fit;

	if (c->state != CS_NEW)
		return;
	params[0] = id_text(c->id);
	if (!api_call(sim, "auto_assign", "$1::bigint", 1, params, result, sizeof(result)))
		return;
	if (result[0] == '\0')
	{
		/* nobody eligible (off shift or full): the case waits in the queue */
		sim->n.unassigned_tries++;
		c->queued = true;
		return;
	}
	c->owner = agent_index(sim, strtoll(result, NULL, 10));
	if (c->owner < 0)
		pg_fatal("auto_assign gave case %lld to agent %s, who is not one of the simulated agents", c->id, result);
	owner = &sim->agents[c->owner];
	owner->open_cases++;
	c->state = CS_OPEN;
	sim->n.assigned++;

	schedule(sim, sim->now + minutes(r, respond[c->priority - 1][0], respond[c->priority - 1][1]), EV_RESPOND, ci);
	/* a poor fit (routed while the right people were away) is handed over */
	fit = match_score(owner->levels, c->need);
	if (fit < 0.5 || rng_chance(r, 0.04))
		schedule(sim, sim->now + minutes(r, 10, 60), EV_TRANSFER, ci);
	schedule(sim, sim->now + c->work * rng_range(r, 0.15, 0.4), EV_ASK_HELP, ci);
	schedule(sim, sim->now + c->work, EV_RESOLVE_CASE, ci);
}

/*
 * An agent came on shift, back from lunch, or has room again: the queued
 * cases it could take are routed again (auto_assign picks the best owner,
 * who need not be this agent).
 */
static void
work_queue(Sim *sim, int ai)
{
	int			i;

	for (i = 0; i < sim->ncases; i++)
	{
		SimCase    *c = &sim->cases[i];

		if (c->queued && c->state == CS_NEW && overlaps(sim->agents[ai].levels, c->need))
		{
			c->queued = false;
			schedule(sim, sim->now + minutes(&c->rng, 0.5, 5), EV_ASSIGN, i);
		}
	}
}

/* The owner's first response to the customer. */
static void
case_respond(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	const char *params[1];

	if (c->state != CS_OPEN)
		return;
	params[0] = id_text(c->id);
	if (api_call(sim, "record_response", "$1::bigint", 1, params, NULL, 0))
		sim->n.responded++;
}

/* Hand the case over to a better-placed agent, with a reason. */
static void
case_transfer(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	Rng		   *r = &c->rng;
	int			to;
	char		reason[128];
	const char *params[3];
	double		fit;

	if (c->state != CS_OPEN)
		return;
	to = transfer_target(sim, ci);
	fit = match_score(sim->agents[c->owner].levels, c->need);
	if (to < 0)
		return;
	if (fit < 0.5)
	{
		if (match_score(sim->agents[to].levels, c->need) < fit + 0.25)
			return;				/* nobody better is around */
		snprintf(reason, sizeof(reason), "wrong queue: needs a %s specialist", domains[c->domain].name);
	}
	else
		strlcpy(reason, transfer_reasons[rng_int(r, lengthof(transfer_reasons))], sizeof(reason));
	params[0] = id_text(c->id);
	params[1] = id_text(sim->agents[to].id);
	params[2] = reason;
	if (api_call(sim, "transfer_case", "$1::bigint, $2::bigint, $3", 3, params, NULL, 0))
	{
		sim->agents[c->owner].open_cases--;
		sim->agents[to].open_cases++;
		c->owner = to;
		sim->n.transferred++;
	}
}

/* Whether one of the group's members other than agent ai is online. */
static bool
group_online(const Sim *sim, int g, int ai)
{
	int			i;

	for (i = 0; i < sim->nagents; i++)
		if (i != ai && sim->member[g][i] && sim->agents[i].presence == P_ONLINE)
			return true;
	return false;
}

/*
 * The group an owner asks about a skill: the regional group of the case's
 * region while one of its members is online, else the global group with
 * that skill, else the regional one all the same; -1 when no group has
 * the skill (the owner then asks for the skill itself).
 */
static int
group_for(const Sim *sim, int skill, int region, int owner)
{
	int			g,
				regional = -1,
				global = -1;

	for (g = 0; g < NGROUPS; g++)
	{
		const GroupDef *gd = &group_defs[g];

		if (gd->skill[0] != skill && gd->skill[1] != skill)
			continue;
		if (!gd->global && gd->region == region && regional < 0)
			regional = g;
		if (gd->global && global < 0)
			global = g;
	}
	if (regional >= 0 && (global < 0 || group_online(sim, regional, owner)))
		return regional;
	return global;
}

/* Acceptance delay of a request, by its case's priority. */
static double
accept_delay(SimCase *c)
{
	static const double accept[4][2] = {{1, 8}, {3, 25}, {5, 50}, {10, 200}};

	return minutes(&c->rng, accept[c->priority - 1][0], accept[c->priority - 1][1]);
}

/* The owner asks for help on the skill it lacks most (or a second opinion). */
static void
case_ask_help(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	Rng		   *r = &c->rng;
	SimAgent   *owner;
	SimRequest *req;
	int			skill = -1,
				gap = 0,
				s,
				g,
				i;
	int			need[NSKILLS] = {0};
	PQExpBuffer needed = createPQExpBuffer();
	char		note[160],
				result[32];
	const char *params[5];

	if (c->state != CS_OPEN || c->asked >= 2)
		goto done;
	owner = &sim->agents[c->owner];
	for (s = 0; s < NSKILLS; s++)
	{
		int			g2 = c->need[s] - owner->levels[s];
		bool		asked_already = false;

		for (i = 0; i < sim->nrequests; i++)
			if (sim->requests[i].case_idx == ci && sim->requests[i].skill == s)
				asked_already = true;
		if (c->need[s] == 0 || asked_already)
			continue;
		/* stuck: the skill is missing, or two levels short */
		if ((owner->levels[s] == 0 || g2 >= 2) && g2 > gap)
		{
			gap = g2;
			skill = s;
		}
	}
	if (skill < 0)
	{
		if (!c->second_opinion || c->asked > 0)
			goto done;
		skill = domains[c->domain].skills[0];
	}

	g = group_for(sim, skill, c->region, c->owner);
	/* one active request per group and case: that group is already on it */
	for (i = 0; i < sim->nrequests; i++)
	{
		SimRequest *other = &sim->requests[i];

		if (other->case_idx == ci && g >= 0 && other->group == g &&
			(other->state == RS_OPEN || other->state == RS_OFFERED || other->state == RS_ACCEPTED))
			goto done;
	}
	need[skill] = Max(c->need[skill], 2);
	skillset_text(need, needed);
	if (g >= 0)
		snprintf(note, sizeof(note), "Stuck on %s; can someone from %s take a look?", skill_names[skill],
				 group_defs[g].name);
	else
		snprintf(note, sizeof(note), "Stuck on %s; anyone with %s?", skill_names[skill], needed->data);

	if (sim->nrequests == sim->maxrequests)
	{
		sim->maxrequests = Max(64, sim->maxrequests * 2);
		sim->requests = pg_realloc(sim->requests, sim->maxrequests * sizeof(SimRequest));
	}
	req = &sim->requests[sim->nrequests];
	memset(req, 0, sizeof(SimRequest));
	req->case_idx = ci;
	req->skill = skill;
	req->group = g;
	req->pull = rng_chance(r, 0.4);
	req->unanswered = rng_chance(r, 0.1);
	req->helper = -1;
	req->offered_to = -1;

	params[0] = id_text(c->id);
	params[1] = g >= 0 ? group_defs[g].name : NULL;
	params[2] = g >= 0 ? NULL : needed->data;
	params[3] = note;
	params[4] = req->pull ? "pull" : "push";
	c->asked++;
	if (!api_call(sim, "request_help",
				  "$1::bigint, group_name => $2, needed => $3::swarm.skillset, note => $4, mode => $5",
				  5, params, result, sizeof(result)))
		goto done;
	req->id = strtoll(result, NULL, 10);
	req->state = RS_OPEN;
	sim->nrequests++;
	sim->n.asked++;
	if (req->pull)
		sim->n.pulled++;
	else
		sim->n.pushed++;

	if (!req->unanswered)
	{
		if (req->pull)
			schedule(sim, sim->now + accept_delay(c), EV_GRAB, sim->nrequests - 1);
		else
			schedule(sim, sim->now + minutes(r, 0, 2), EV_OFFER, sim->nrequests - 1);
	}
	/* a second gap gets its own request a little later */
	schedule(sim, sim->now + minutes(r, 20, 60), EV_ASK_HELP, ci);
done:
	destroyPQExpBuffer(needed);
}

/* Push: offer the request to its best helper. */
static void
request_offer(Sim *sim, int ri)
{
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];
	char		result[32];
	const char *params[1];

	if (req->state != RS_OPEN)
		return;
	params[0] = id_text(req->id);
	if (!api_call(sim, "offer_request", "$1::bigint", 1, params, result, sizeof(result)))
		return;
	if (result[0] == '\0')
	{
		/* nobody eligible: someone may pick it from the queue later */
		schedule(sim, sim->now + accept_delay(c), EV_GRAB, ri);
		return;
	}
	req->state = RS_OFFERED;
	req->offered_to = agent_index(sim, strtoll(result, NULL, 10));
	sim->n.offered++;
	schedule(sim, sim->now + accept_delay(c), EV_ANSWER_OFFER, ri);
}

/* A helper took the request: it works on it, then resolves it. */
static void
request_taken(Sim *sim, int ri, int helper)
{
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];

	req->state = RS_ACCEPTED;
	req->helper = helper;
	req->offered_to = -1;
	if (helper >= 0)
		sim->agents[helper].open_helps++;
	sim->n.accepted++;
	schedule(sim, sim->now + minutes(&c->rng, 20, 120), EV_RESOLVE_REQUEST, ri);
}

/* Decline an offer; the API offers it to the next candidate. */
static void
request_decline(Sim *sim, int ri, const char *reason)
{
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];
	char		state[32],
				offered[32];
	const char *params[3];
	PGresult   *res;

	params[0] = id_text(req->id);
	params[1] = id_text(sim->agents[req->offered_to].id);
	params[2] = reason;
	if (!api_call(sim, "decline_request", "$1::bigint, $2::bigint, $3", 3, params, NULL, 0))
		return;
	sim->n.declined++;
	req->declined = true;

	/* where did the request go? */
	res = run_query(sim->conn, "SELECT state, offered_to FROM swarm.collab_requests WHERE request_id = $1",
					1, params);
	strlcpy(state, PQgetvalue(res, 0, 0), sizeof(state));
	strlcpy(offered, PQgetvalue(res, 0, 1), sizeof(offered));
	PQclear(res);
	if (strcmp(state, "offered") == 0)
	{
		req->offered_to = agent_index(sim, strtoll(offered, NULL, 10));
		sim->n.offered++;
		schedule(sim, sim->now + accept_delay(c), EV_ANSWER_OFFER, ri);
	}
	else
	{
		req->state = RS_OPEN;
		req->offered_to = -1;
		schedule(sim, sim->now + accept_delay(c), EV_GRAB, ri);
	}
}

/* The agent an offer went to answers it: mostly yes, sometimes no. */
static void
request_answer(Sim *sim, int ri)
{
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];
	SimAgent   *a;
	const char *params[2];

	if (req->state != RS_OFFERED)
		return;
	if (req->offered_to < 0)
	{
		/* offered to someone we do not simulate: leave it */
		return;
	}
	a = &sim->agents[req->offered_to];
	if (a->presence == P_OFFLINE)
	{
		request_decline(sim, ri, "went off shift");
		return;
	}
	if (!req->declined && rng_chance(&c->rng, 0.2))
	{
		request_decline(sim, ri, decline_reasons[rng_int(&c->rng, lengthof(decline_reasons))]);
		return;
	}
	params[0] = id_text(req->id);
	params[1] = id_text(a->id);
	if (api_call(sim, "accept_request", "$1::bigint, $2::bigint", 2, params, NULL, 0))
		request_taken(sim, ri, req->offered_to);
	else
		request_decline(sim, ri, "at help capacity");
}

/* Pull: a qualified agent grabs the most urgent request it can take. */
static void
request_grab(Sim *sim, int ri)
{
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];
	int			need[NSKILLS] = {0};
	int		   *cand = pg_malloc(sim->nagents * sizeof(int));
	int			ncand = 0,
				i,
				who,
				got;
	char		result[32];
	const char *params[1];

	if (req->state != RS_OPEN || req->tries >= 8)
		goto done;
	req->tries++;
	need[req->skill] = Max(c->need[req->skill], 2);
	for (i = 0; i < sim->nagents; i++)
	{
		SimAgent   *a = &sim->agents[i];

		if (i != c->owner && a->presence == P_ONLINE && a->open_helps < HELP_CAPACITY &&
			overlaps(a->levels, need) && match_score(a->levels, need) >= sim->grab_threshold)
			cand[ncand++] = i;
	}
	if (ncand == 0)
	{
		/* nobody around who could: look again later */
		schedule(sim, sim->now + minutes(&c->rng, 20, 40), EV_GRAB, ri);
		goto done;
	}
	who = cand[rng_int(&c->rng, ncand)];
	params[0] = id_text(sim->agents[who].id);
	if (!api_call(sim, "grab_request", "$1::bigint", 1, params, result, sizeof(result)) || result[0] == '\0')
	{
		schedule(sim, sim->now + minutes(&c->rng, 10, 30), EV_GRAB, ri);
		goto done;
	}
	sim->n.grabbed++;
	got = request_index(sim, strtoll(result, NULL, 10));
	if (got >= 0)
		request_taken(sim, got, who);
	/* the queue gave the agent a more urgent request: ours waits */
	if (got != ri)
		schedule(sim, sim->now + minutes(&c->rng, 10, 30), EV_GRAB, ri);
done:
	free(cand);
}

/* The helper is done. */
static void
request_resolve(Sim *sim, int ri)
{
	static const char *const summaries[] = {
		"found it: a configuration drift", "fixed; steps in the case notes",
		"workaround in place, permanent fix scheduled", "explained to the owner; customer can proceed"
	};
	SimRequest *req = &sim->requests[ri];
	SimCase    *c = &sim->cases[req->case_idx];
	const char *params[2];

	if (req->state != RS_ACCEPTED)
		return;
	params[0] = id_text(req->id);
	params[1] = summaries[rng_int(&c->rng, lengthof(summaries))];
	if (api_call(sim, "resolve_request", "$1::bigint, $2", 2, params, NULL, 0))
	{
		req->state = RS_RESOLVED;
		if (req->helper >= 0)
			sim->agents[req->helper].open_helps--;
		c->helped = true;
		sim->n.req_resolved++;
	}
}

/* The owner resolves the case, capturing an article when it was hard. */
static void
case_resolve(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	Rng		   *r = &c->rng;
	SimAgent   *owner;
	char		kb[32];
	const char *params[2];
	bool		helping = false;
	int			i;

	if (c->state != CS_OPEN)
		return;
	owner = &sim->agents[c->owner];
	for (i = 0; i < sim->nrequests; i++)
		if (sim->requests[i].case_idx == ci && sim->requests[i].state == RS_ACCEPTED)
			helping = true;
	if (helping && c->postponed < 4)
	{
		/* wait for the helper */
		c->postponed++;
		schedule(sim, sim->now + minutes(r, 15, 45), EV_RESOLVE_CASE, ci);
		return;
	}
	if (owner->presence == P_OFFLINE)
	{
		/* next morning */
		schedule(sim, next_shift(owner, sim->now) + minutes(r, 10, 60), EV_RESOLVE_CASE, ci);
		return;
	}
	params[0] = id_text(c->id);
	params[1] = NULL;
	if (rng_chance(r, c->helped || c->asked > 0 ? 0.65 : 0.25))
	{
		snprintf(kb, sizeof(kb), "KB-%04d", ++sim->kb_next);
		params[1] = kb;
	}
	if (!api_call(sim, "resolve_case", "$1::bigint, $2", 2, params, NULL, 0))
		return;
	c->state = CS_RESOLVED;
	owner->open_cases--;
	work_queue(sim, c->owner);
	sim->n.resolved++;
	if (params[1])
		sim->n.with_kb++;
	/* requests still waiting are cancelled; help under way ends */
	for (i = 0; i < sim->nrequests; i++)
	{
		SimRequest *req = &sim->requests[i];

		if (req->case_idx != ci)
			continue;
		if (req->state == RS_ACCEPTED)
		{
			req->state = RS_RESOLVED;
			if (req->helper >= 0)
				sim->agents[req->helper].open_helps--;
			sim->n.req_resolved++;
		}
		else if (req->state == RS_OPEN || req->state == RS_OFFERED)
		{
			req->state = RS_CANCELLED;
			sim->n.unanswered++;
		}
	}
	schedule(sim, sim->now + minutes(r, 60, 8 * 60), EV_CLOSE_CASE, ci);
}

/* The customer confirms: the case is closed. */
static void
case_close(Sim *sim, int ci)
{
	SimCase    *c = &sim->cases[ci];
	const char *params[1];

	if (c->state != CS_RESOLVED)
		return;
	params[0] = id_text(c->id);
	if (api_call(sim, "close_case", "$1::bigint", 1, params, NULL, 0))
	{
		c->state = CS_CLOSED;
		sim->n.closed++;
	}
}

/* ---- progress and the summary ------------------------------------------ */

/* How many escalations were recorded since the simulation started. */
static long
escalations_so_far(Sim *sim)
{
	char		first[32],
				result[32];
	const char *params[1];

	snprintf(first, sizeof(first), "%lld", sim->first_event_id);
	params[0] = first;
	sim_query(sim, "SELECT count(*) FROM swarm.events WHERE event_id > $1 AND kind = 'request_escalated'",
			  1, params, result, sizeof(result));
	return atol(result);
}

/* Agents online now. */
static int
online_now(Sim *sim)
{
	int			i,
				n = 0;

	for (i = 0; i < sim->nagents; i++)
		if (sim->agents[i].presence == P_ONLINE)
			n++;
	return n;
}

/* A progress line (not a terminal), once per simulated hour. */
static void
progress_line(Sim *sim)
{
	printf("sim %s  cases %ld opened, %ld resolved  requests %ld asked, %ld accepted  escalations %ld"
		   "  online %d/%d  calls %ld\n",
		   sim_clock(sim->now), sim->n.opened, sim->n.resolved, sim->n.asked, sim->n.accepted,
		   escalations_so_far(sim), online_now(sim), sim->nagents, sim->calls);
	fflush(stdout);
}

/* Redraw the progress bar (a terminal), at most ten times a second. */
static void
progress_bar(Sim *sim, bool force)
{
	double		now = now_seconds();
	double		frac = Min(sim->now / sim->horizon, 1.0);
	int			width = 30,
				filled = (int) (frac * width),
				i;
	char		clock[32];

	if (!force && now - sim->last_bar < 0.1)
		return;
	sim->last_bar = now;
	strlcpy(clock, sim_clock(sim->now), sizeof(clock));
	printf("\r[");
	for (i = 0; i < width; i++)
		putchar(i < filled ? '#' : '.');
	printf("] %s of %s  cases %ld (%ld resolved)  requests %ld  online %d  calls %ld ",
		   clock, sim_clock(sim->horizon), sim->n.opened, sim->n.resolved, sim->n.asked,
		   online_now(sim), sim->calls);
	fflush(stdout);
}

/* The summary: what happened, the calls made, and the events recorded. */
static void
print_summary(Sim *sim, bool interrupted, double elapsed)
{
	const char *headers[3] = {"function", "calls", "refused"};
	const char *ev_headers[2] = {"event kind", "count"};
	Table	   *t;
	CallStat   *cs;
	PGresult   *res;
	char		first[32];
	const char *params[1];
	int			i;
	long		open_requests = 0;

	for (i = 0; i < sim->nrequests; i++)
		if (sim->requests[i].state == RS_OPEN || sim->requests[i].state == RS_OFFERED)
			open_requests++;

	printf("\n%s %s of %s (seed " UINT64_FORMAT ", %d agents, speed %g) in %.1f s\n",
		   interrupted ? "interrupted after" : "simulated", sim_clock(sim->now), sim_clock(sim->horizon),
		   sim->seed, sim->nagents, sim->speed, elapsed);
	printf("cases:    %ld opened, %ld assigned, %ld transferred, %ld resolved (%ld with a knowledge article), %ld closed\n",
		   sim->n.opened, sim->n.assigned, sim->n.transferred, sim->n.resolved, sim->n.with_kb, sim->n.closed);
	printf("requests: %ld asked (%ld pushed, %ld pulled), %ld accepted (%ld grabbed), %ld declined, %ld resolved, "
		   "%ld still waiting, %ld cancelled unanswered\n",
		   sim->n.asked, sim->n.pushed, sim->n.pulled, sim->n.accepted, sim->n.grabbed, sim->n.declined,
		   sim->n.req_resolved, open_requests, sim->n.unanswered);
	printf("calls:    %ld (%ld refused by the API)\n\n", sim->calls, sim->refused);

	t = table_create(3, headers, "lrr");
	for (cs = call_stats; cs->name; cs++)
	{
		char		calls[32],
					refused[32];
		const char *cells[3];

		if (cs->calls == 0)
			continue;
		snprintf(calls, sizeof(calls), "%ld", cs->calls);
		snprintf(refused, sizeof(refused), "%ld", cs->refused);
		cells[0] = cs->name;
		cells[1] = calls;
		cells[2] = refused;
		table_add_row(t, cells);
	}
	table_print(t, stdout, "  ");
	table_free(t);
	printf("\n");

	snprintf(first, sizeof(first), "%lld", sim->first_event_id);
	params[0] = first;
	res = run_query(sim->conn,
					"SELECT kind, count(*) FROM swarm.events WHERE event_id > $1 GROUP BY kind ORDER BY kind",
					1, params);
	t = table_create(2, ev_headers, "lr");
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *cells[2] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)};

		table_add_row(t, cells);
	}
	table_print(t, stdout, "  ");
	table_free(t);
	PQclear(res);
}

/* ---- the command ------------------------------------------------------- */

/* Print the help of swarmctl simulate. */
static void
simulate_usage(void)
{
	printf("%s simulate drives a simulated helpdesk through swarm's SQL API.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [CONNINFO] simulate [OPTION]...\n\n", progname);
	printf("Options:\n");
	printf("  --agents=N        agents, spread over three regions (default 24, 3 to 1000)\n");
	printf("  --hours=H         simulated hours from 00:00 UTC (default 24, at most 720)\n");
	printf("  --speed=X         simulated seconds per real second (default 1440: a day\n"
		   "                    in a minute)\n");
	printf("  --seed=S          seed of the random choices (default 1); the same seed\n"
		   "                    makes the same calls\n");
	printf("  --keep-sla        leave the SLA policies alone (by default P1-P4 are set,\n"
		   "                    compressed by the speed)\n");
	printf("  -v, --verbose     print every API call on stderr\n");
	printf("  -d, -h, -p, -U    connection options, as before the command\n");
	printf("  -?, --help        show this help, then exit\n\n");
	printf("It needs a database where swarm has no agents, groups or cases yet.\n"
		   "On a terminal it shows a progress bar, otherwise a line per simulated hour.\n");
}

/* Parse a number option within [lo, hi], or exit with a usage error. */
static double
number_option(const char *name, const char *arg, double lo, double hi)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= lo && v <= hi))
	{
		pg_log_error("invalid value \"%s\" for --%s: expected a number from %g to %g", arg, name, lo, hi);
		command_usage_error("simulate");
	}
	return v;
}

/* Check that the database has no swarm data yet; remember where the events start. */
static void
check_empty(Sim *sim)
{
	PGresult   *res = run_query(sim->conn,
								"SELECT (SELECT count(*) FROM swarm.agents), (SELECT count(*) FROM swarm.skill_groups), "
								"       (SELECT count(*) FROM swarm.cases), "
								"       (SELECT coalesce(max(event_id), 0) FROM swarm.events), "
								"       swarm.grab_threshold()",
								0, NULL);

	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 || strcmp(PQgetvalue(res, 0, 1), "0") != 0 ||
		strcmp(PQgetvalue(res, 0, 2), "0") != 0)
	{
		pg_log_error("%s already has swarm data (%s agents, %s groups, %s cases)", describe_server(sim->conn),
					 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		pg_log_error_hint("simulate builds its own helpdesk: run it on a new database, e.g. "
						  "createdb sim && psql -d sim -c 'CREATE EXTENSION swarm' && %s -d sim simulate",
						  progname);
		PQfinish(sim->conn);
		exit(EXIT_RUNTIME);
	}
	sim->first_event_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	sim->grab_threshold = strtod(PQgetvalue(res, 0, 4), NULL);
	PQclear(res);
}

/* Run one event. */
static void
run_event(Sim *sim, const Event *ev)
{
	switch (ev->type)
	{
		case EV_PROGRESS:
			if (!sim->tty)
				progress_line(sim);
			schedule(sim, ev->t + 3600.0, EV_PROGRESS, 0);
			break;
		case EV_SHIFT_START:
		case EV_LUNCH_END:
			set_presence(sim, ev->idx, P_ONLINE);
			work_queue(sim, ev->idx);
			break;
		case EV_LUNCH_START:
			if (sim->agents[ev->idx].presence == P_ONLINE)
				set_presence(sim, ev->idx, P_AWAY);
			break;
		case EV_SHIFT_END:
			set_presence(sim, ev->idx, P_OFFLINE);
			break;
		case EV_ARRIVAL:
			case_arrives(sim, ev->idx);
			break;
		case EV_ASSIGN:
			case_assign(sim, ev->idx);
			break;
		case EV_RESPOND:
			case_respond(sim, ev->idx);
			break;
		case EV_TRANSFER:
			case_transfer(sim, ev->idx);
			break;
		case EV_ASK_HELP:
			case_ask_help(sim, ev->idx);
			break;
		case EV_OFFER:
			request_offer(sim, ev->idx);
			break;
		case EV_ANSWER_OFFER:
			request_answer(sim, ev->idx);
			break;
		case EV_GRAB:
			request_grab(sim, ev->idx);
			break;
		case EV_RESOLVE_REQUEST:
			request_resolve(sim, ev->idx);
			break;
		case EV_RESOLVE_CASE:
			case_resolve(sim, ev->idx);
			break;
		case EV_CLOSE_CASE:
			case_close(sim, ev->idx);
			break;
	}
}

/* swarmctl simulate. */
int
simulate_main(ConnParams *cp, int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"agents", required_argument, NULL, 1},
		{"hours", required_argument, NULL, 2},
		{"speed", required_argument, NULL, 3},
		{"seed", required_argument, NULL, 4},
		{"keep-sla", no_argument, NULL, 5},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	Sim			sim = {0};
	PQExpBuffer state = createPQExpBuffer();
	Event		ev;
	bool		interrupted = false;
	int			workers;
	int			c;

	sim.seed = 1;
	sim.nagents = 24;
	sim.hours = 24;
	sim.speed = 1440;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		simulate_usage();
		exit(0);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS "v", long_options, NULL)) != -1)
	{
		if (conn_option(c, optarg, cp))
			continue;
		switch (c)
		{
			case 1:
				sim.nagents = (int) number_option("agents", optarg, 3, 1000);
				if (sim.nagents != atof(optarg))
				{
					pg_log_error("invalid value \"%s\" for --agents: expected a whole number", optarg);
					command_usage_error("simulate");
				}
				break;
			case 2:
				sim.hours = number_option("hours", optarg, 0.01, 720);
				break;
			case 3:
				sim.speed = number_option("speed", optarg, 0.001, 1e9);
				break;
			case 4:
				{
					char	   *end;

					errno = 0;
					sim.seed = strtou64(optarg, &end, 10);
					if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-')
					{
						pg_log_error("invalid value \"%s\" for --seed: expected a whole number", optarg);
						command_usage_error("simulate");
					}
					break;
				}
			case 5:
				sim.keep_sla = true;
				break;
			case 'v':
				sim.verbose = true;
				break;
			default:
				command_usage_error("simulate");
		}
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")", argv[optind]);
		command_usage_error("simulate");
	}
	sim.horizon = sim.hours * 3600.0;
	sim.tty = isatty(fileno(stdout));

	signals_init();
	sim.conn = connect_or_exit(cp, "swarmctl simulate", false);
	require_extension(sim.conn);
	check_empty(&sim);

	printf("simulating %s of a helpdesk with %d agents (seed " UINT64_FORMAT ") in %s, at %g times real time: "
		   "about %.0f s\n", sim_clock(sim.horizon), sim.nagents, sim.seed, describe_server(sim.conn),
		   sim.speed, sim.horizon / sim.speed);
	workers = escalator_state(sim.conn, state);
	if (workers < 0)
		printf("cannot tell whether an escalation worker serves %s: %s\n", PQdb(sim.conn), state->data);
	else if (workers == 0)
		printf("no escalation worker serves %s: requests left unanswered will not escalate\n", PQdb(sim.conn));
	else
		printf("escalation worker: %s\n", state->data);
	if (!sim.keep_sla)
		printf("SLA policies P1-P4 set for compressed time: a P1 request is to be accepted within "
			   "%g simulated minutes, %.3f s of real time\n", sla_minutes[0][2], sla_minutes[0][2] * 60 / sim.speed);
	fflush(stdout);

	sim.real_start = now_seconds();
	if (!sim.keep_sla)
		setup_sla(&sim);
	setup_agents(&sim);
	setup_groups(&sim);
	setup_shifts(&sim);
	setup_arrivals(&sim);
	schedule(&sim, 3600.0, EV_PROGRESS, 0);

	while (next_event(&sim, &ev))
	{
		double		due = sim.real_start + ev.t / sim.speed;
		double		behind = now_seconds() - due;

		/* keep to the simulated clock */
		if (behind < 0 && !wait_seconds(-behind))
		{
			interrupted = true;
			break;
		}
		if (stop_requested())
		{
			interrupted = true;
			break;
		}
		if (behind > 5.0 && !sim.warned_behind)
		{
			if (sim.tty)
				putchar('\n');
			pg_log_warning("the server cannot keep up with --speed %g: %.0f s behind the simulated clock",
						   sim.speed, behind);
			sim.warned_behind = true;
		}
		sim.now = ev.t;
		run_event(&sim, &ev);
		if (sim.tty)
			progress_bar(&sim, false);
	}
	if (!interrupted)
	{
		/* the simulated day lasts to its end, even if nothing happens at the end */
		double		left = sim.real_start + sim.horizon / sim.speed - now_seconds();

		if (left > 0 && !wait_seconds(left))
			interrupted = true;
		else
			sim.now = sim.horizon;
	}
	if (sim.tty)
		progress_bar(&sim, true);
	else if (!interrupted)
		progress_line(&sim);
	print_summary(&sim, interrupted, now_seconds() - sim.real_start);

	PQfinish(sim.conn);
	destroyPQExpBuffer(state);
	return 0;
}

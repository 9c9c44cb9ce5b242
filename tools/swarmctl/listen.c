/*-------------------------------------------------------------------------
 *
 * listen.c
 *	  swarmctl listen: LISTEN on swarm's channels and print each
 *	  notification as one JSON object per line,
 *
 *		{"channel":"swarm_events","pid":4711,"payload":{...}}
 *
 *	  (or as a readable line with --format text), flushing every line, so
 *	  that it can be piped into a chat bridge.  When the connection drops it
 *	  says so on stderr and reconnects with exponential backoff; SIGINT or
 *	  SIGTERM ends it with status 0.
 *
 * tools/swarmctl/listen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <poll.h>
#include <time.h>

#include "common/logging.h"
#include "getopt_long.h"

#include "swarmctl.h"

#define DEFAULT_CHANNELS	"swarm_events,swarm_escalations"
#define BACKOFF_FIRST		0.5		/* seconds before the first reconnection */
#define BACKOFF_MAX			30.0	/* the longest wait between attempts */

typedef enum ListenFormat
{
	FORMAT_JSON,
	FORMAT_TEXT
} ListenFormat;

typedef struct ListenState
{
	ConnParams *cp;
	char	  **channels;
	int			nchannels;
	char	  **kinds;			/* NULL: every kind */
	int			nkinds;
	ListenFormat format;
	long long	last_event_id;	/* of the last swarm_events payload seen */
	long long	printed;
	bool		describe;		/* --format text: look up names */
} ListenState;

/* Print the help of swarmctl listen. */
static void
listen_usage(void)
{
	printf("%s listen prints swarm's notifications, one per line, as they arrive.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [CONNINFO] listen [OPTION]...\n\n", progname);
	printf("Options:\n");
	printf("  --channels=LIST   channels to listen on, comma-separated\n"
		   "                    (default: %s)\n", DEFAULT_CHANNELS);
	printf("  --kinds=LIST      print only the swarm_events notifications of these\n"
		   "                    event kinds, e.g. help_requested,case_transferred\n"
		   "                    (other channels are not filtered)\n");
	printf("  --format=FORMAT   json (default): {\"channel\":...,\"pid\":...,\"payload\":{...}}\n"
		   "                    text: a readable line per notification\n");
	printf("  -d, -h, -p, -U    connection options, as before the command\n");
	printf("  -?, --help        show this help, then exit\n\n");
	printf("Each line is flushed as soon as it is written.  When the connection drops,\n"
		   "listen says so on stderr and reconnects, waiting %.1f s, then twice as long\n"
		   "after each failure, up to %.0f s.  SIGINT or SIGTERM stops it with status 0.\n",
		   BACKOFF_FIRST, BACKOFF_MAX);
}

/* Split a comma-separated list into trimmed, non-empty items; their count. */
static int
split_list(const char *list, char ***items)
{
	char	   *copy = pg_strdup(list);
	char	   *tok;
	char	   *save;
	int			n = 0;

	*items = pg_malloc((strlen(list) / 2 + 2) * sizeof(char *));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *end;

		while (*tok == ' ')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		if (*tok)
			(*items)[n++] = pg_strdup(tok);
	}
	free(copy);
	return n;
}

/* The channels as one comma-separated string, for messages. */
static char *
channel_list(const ListenState *st)
{
	PQExpBufferData buf;
	int			i;

	initPQExpBuffer(&buf);
	for (i = 0; i < st->nchannels; i++)
		appendPQExpBuffer(&buf, "%s%s", i ? ", " : "", st->channels[i]);
	return buf.data;
}

/* LISTEN on every channel; false (with errmsg) if the connection failed. */
static bool
start_listening(PGconn *conn, const ListenState *st, PQExpBuffer errmsg)
{
	int			i;

	for (i = 0; i < st->nchannels; i++)
	{
		char	   *ident = PQescapeIdentifier(conn, st->channels[i], strlen(st->channels[i]));
		PQExpBufferData sql;
		PGresult   *res;
		bool		ok;

		if (ident == NULL)
		{
			printfPQExpBuffer(errmsg, "%s", PQerrorMessage(conn));
			return false;
		}
		initPQExpBuffer(&sql);
		appendPQExpBuffer(&sql, "LISTEN %s", ident);
		PQfreemem(ident);
		res = PQexec(conn, sql.data);
		termPQExpBuffer(&sql);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok)
		{
			printfPQExpBuffer(errmsg, "%s", PQerrorMessage(conn));
			while (errmsg->len > 0 && errmsg->data[errmsg->len - 1] == '\n')
				errmsg->data[--errmsg->len] = '\0';
			return false;
		}
	}
	return true;
}

/* Whether a swarm_events payload's kind is one the user asked for. */
static bool
kind_wanted(const ListenState *st, const char *payload)
{
	char		kind[128];
	int			i;

	if (st->kinds == NULL || !json_member_text(payload, "kind", kind, sizeof(kind)))
		return true;
	for (i = 0; i < st->nkinds; i++)
		if (strcmp(st->kinds[i], kind) == 0)
			return true;
	return false;
}

/*
 * The time of day of an ISO 8601 timestamp member ("HH:MM:SS.mmm"), or of
 * now when the payload has none.
 */
static void
time_of_day(const char *payload, const char *key, char *buf, size_t buflen)
{
	char		ts[64];

	if (json_member_text(payload, key, ts, sizeof(ts)) && strlen(ts) >= 19 && ts[10] == 'T')
	{
		/* 2025-03-04T10:15:02.123456+00:00: keep 10:15:02.123 */
		size_t		n = 8;

		if (ts[19] == '.')
			n = Min(strlen(ts + 11), 12);
		snprintf(buf, buflen, "%.*s", (int) n, ts + 11);
		while (strlen(buf) < 12)
			strlcat(buf, strlen(buf) == 8 ? "." : "0", buflen);
	}
	else
	{
		time_t		now = time(NULL);
		struct tm	tm;

		localtime_r(&now, &tm);
		strftime(buf, buflen, "%H:%M:%S.000", &tm);
	}
}

/* Append "  <label> <value>" for a member that is not null. */
static void
append_id(PQExpBuffer line, const char *payload, const char *key, const char *label)
{
	char		v[64];

	if (json_member_text(payload, key, v, sizeof(v)))
		appendPQExpBuffer(line, "  %s %s", label, v);
}

/*
 * What an event was about, in words, from swarm.events and the rows it
 * names ($1: the event_id).  NULL for kinds it does not describe.
 */
static const char *const describe_event_sql =
"SELECT CASE e.kind "
"  WHEN 'case_opened' THEN format('%s %s \"%s\"%s', c.external_ref, c.priority, c.subject, "
"                                 coalesce(' (' || c.region || ')', '')) "
"  WHEN 'case_assigned' THEN format('%s: owner %s%s', c.external_ref, a.name, "
"                                   CASE WHEN e.detail ? 'score' "
"                                        THEN format(' (routed, score %s)', round((e.detail ->> 'score')::numeric, 2)) END) "
"  WHEN 'case_transferred' THEN format('%s: %s -> %s (%s)', c.external_ref, f.name, a.name, e.detail ->> 'reason') "
"  WHEN 'case_responded' THEN format('%s: %s responded', c.external_ref, a.name) "
"  WHEN 'case_resolved' THEN format('%s: resolved by %s%s', c.external_ref, a.name, "
"                                   coalesce(', article ' || (e.detail ->> 'kb_ref'), '')) "
"  WHEN 'case_closed' THEN format('%s: closed', c.external_ref) "
"  WHEN 'no_eligible_owner' THEN format('%s: nobody can take it now (needs %s)', c.external_ref, e.detail ->> 'needed') "
"  WHEN 'help_requested' THEN format('%s: %s asks %s, %s (request %s)', c.external_ref, a.name, "
"                                    coalesce(e.detail ->> 'group', 'for ' || (e.detail ->> 'needed')), "
"                                    e.detail ->> 'mode', e.request_id) "
"  WHEN 'request_offered' THEN format('%s: request %s offered to %s', c.external_ref, e.request_id, a.name) "
"  WHEN 'request_accepted' THEN format('%s: %s %s request %s', c.external_ref, a.name, e.detail ->> 'how', e.request_id) "
"  WHEN 'request_declined' THEN format('%s: %s declined request %s (%s)', c.external_ref, a.name, e.request_id, "
"                                      coalesce(e.detail ->> 'reason', 'no reason given')) "
"  WHEN 'no_eligible_helper' THEN format('%s: nobody can help on request %s now', c.external_ref, e.request_id) "
"  WHEN 'request_resolved' THEN format('%s: %s resolved request %s', c.external_ref, coalesce(a.name, 'the case'), e.request_id) "
"  WHEN 'request_cancelled' THEN format('%s: request %s cancelled (%s)', c.external_ref, e.request_id, "
"                                       coalesce(e.detail ->> 'reason', 'no reason given')) "
"  WHEN 'request_escalated' THEN format('%s: request %s escalated to level %s', c.external_ref, e.request_id, "
"                                       e.detail ->> 'level') "
"  WHEN 'presence_changed' THEN format('%s is %s', a.name, e.detail ->> 'to') "
"  WHEN 'agent_added' THEN format('%s (%s): %s', a.name, coalesce(a.region, 'no region'), a.skills) "
"  END "
"  FROM swarm.events AS e "
"  LEFT JOIN swarm.cases AS c ON c.case_id = e.case_id "
"  LEFT JOIN swarm.agents AS a ON a.agent_id = e.agent_id "
"  LEFT JOIN swarm.agents AS f ON e.kind = 'case_transferred' AND f.agent_id = (e.detail ->> 'from')::bigint "
" WHERE e.event_id = $1::bigint";

/*
 * An escalation in words: the case, the request, the level, its actions
 * and their effects ($1: request_id, $2: level).
 */
static const char *const describe_escalation_sql =
"SELECT format('%s: request %s level %s (%s)%s', c.external_ref, r.request_id, $2, "
"              (SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(e.detail -> 'actions') AS x), "
"              coalesce(': ' || nullif(concat_ws('; ', "
"                CASE WHEN e.detail ? 'renotified' THEN 'told ' || (e.detail ->> 'renotified') || ' again' END, "
"                CASE WHEN e.detail ? 'widened_to' "
"                     THEN coalesce('widened to ' || (e.detail ->> 'widened_to'), 'nothing to widen') END, "
"                CASE WHEN jsonb_array_length(coalesce(e.detail -> 'leads', '[]')) > 0 "
"                     THEN 'leads told: ' || (SELECT string_agg(l.name, ', ' ORDER BY l.agent_id) "
"                                               FROM swarm.agents AS l "
"                                              WHERE l.agent_id IN (SELECT x::bigint FROM "
"                                                    jsonb_array_elements_text(e.detail -> 'leads') AS x)) END, "
"                CASE WHEN e.detail ? 'priority' THEN 'priority raised to ' || (e.detail ->> 'priority') END, "
"                CASE WHEN e.detail ? 'offered_to' "
"                     THEN coalesce('offered to ' || (SELECT o.name FROM swarm.agents AS o "
"                                                     WHERE o.agent_id = (e.detail ->> 'offered_to')::bigint), "
"                                   'offered to nobody') END), ''), '')) "
"  FROM swarm.collab_requests AS r "
"  JOIN swarm.cases AS c ON c.case_id = r.case_id "
"  JOIN swarm.events AS e ON e.request_id = r.request_id AND e.kind = 'request_escalated' "
"                        AND (e.detail ->> 'level')::int = $2::int "
" WHERE r.request_id = $1::bigint";

/*
 * Describe a notification with a query (--format text); false when it
 * cannot (unknown kind, no row, no privilege), and after a failure that is
 * not a lost connection, never again (saying so once).
 */
static bool
describe(ListenState *st, PGconn *conn, const char *sql, int nparams,
		 const char *const *params, PQExpBuffer out)
{
	PGresult   *res;
	bool		ok = false;

	if (!st->describe)
		return false;
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 0)[0] != '\0')
		{
			appendPQExpBufferStr(out, PQgetvalue(res, 0, 0));
			ok = true;
		}
	}
	else if (PQstatus(conn) == CONNECTION_OK)
	{
		pg_log_warning("cannot read the details of the events, printing their ids only: %s",
					   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		st->describe = false;
	}
	PQclear(res);
	return ok;
}

/*
 * A readable line for one notification (--format text): the time of day,
 * the event's kind (or "escalation") and what happened, with the names of
 * the agents and the ticket, read from the database; the ids when they
 * cannot be read.
 */
static void
format_text(ListenState *st, PGconn *conn, PQExpBuffer line, const PGnotify *n)
{
	char		when[32];
	char		kind[128];
	char		id[32];
	char		level[32];
	int			start;

	if (strcmp(n->relname, "swarm_escalations") == 0 &&
		json_member_text(n->extra, "request_id", id, sizeof(id)) &&
		json_member_text(n->extra, "level", level, sizeof(level)))
	{
		const char *params[2] = {id, level};
		char		head[64];

		time_of_day(n->extra, "escalated_at", when, sizeof(when));
		snprintf(head, sizeof(head), "escalation L%s", level);
		appendPQExpBuffer(line, "%s  %-20s", when, head);
		start = line->len;
		appendPQExpBufferStr(line, "  ");
		if (!describe(st, conn, describe_escalation_sql, 2, params, line))
		{
			char		v[256];
			const char *p;

			line->data[line->len = start] = '\0';
			append_id(line, n->extra, "case_id", "case");
			append_id(line, n->extra, "request_id", "request");
			if (json_member_text(n->extra, "actions", v, sizeof(v)))
			{
				appendPQExpBufferStr(line, "  ");
				for (p = v; *p; p++)
				{
					if (*p == '[' || *p == ']' || *p == '"' || *p == ' ')
						continue;
					if (*p == ',')
						appendPQExpBufferStr(line, ", ");
					else
						appendPQExpBufferChar(line, *p);
				}
			}
		}
	}
	else if (json_member_text(n->extra, "kind", kind, sizeof(kind)))
	{
		const char *params[1] = {id};

		time_of_day(n->extra, "at", when, sizeof(when));
		appendPQExpBuffer(line, "%s  %-20s", when, kind);
		start = line->len;
		appendPQExpBufferStr(line, "  ");
		if (!json_member_text(n->extra, "event_id", id, sizeof(id)) ||
			!describe(st, conn, describe_event_sql, 1, params, line))
		{
			line->data[line->len = start] = '\0';
			append_id(line, n->extra, "case_id", "case");
			append_id(line, n->extra, "request_id", "request");
			append_id(line, n->extra, "agent_id", "agent");
			append_id(line, n->extra, "event_id", "event");
		}
	}
	else
	{
		time_of_day("{}", "at", when, sizeof(when));
		appendPQExpBuffer(line, "%s  %-20s  %s", when, n->relname, n->extra);
	}
	/* the padding of a kind may leave trailing blanks */
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->data[--line->len] = '\0';
}

/* Print one notification, as JSON or text, and flush. */
static void
emit(ListenState *st, PGconn *conn, const PGnotify *n)
{
	PQExpBufferData line;
	char		id[32];

	if (strcmp(n->relname, "swarm_events") == 0)
	{
		if (json_member_text(n->extra, "event_id", id, sizeof(id)))
			st->last_event_id = strtoll(id, NULL, 10);
		if (!kind_wanted(st, n->extra))
			return;
	}

	initPQExpBuffer(&line);
	if (st->format == FORMAT_TEXT)
		format_text(st, conn, &line, n);
	else
	{
		appendPQExpBufferStr(&line, "{\"channel\":");
		json_append_string(&line, n->relname);
		appendPQExpBuffer(&line, ",\"pid\":%d,\"payload\":", n->be_pid);
		/* a payload that is not JSON (from someone else's NOTIFY) becomes a string */
		if (json_is_valid(n->extra))
			appendPQExpBufferStr(&line, n->extra);
		else
			json_append_string(&line, n->extra);
		appendPQExpBufferChar(&line, '}');
	}
	fputs(line.data, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	termPQExpBuffer(&line);
	st->printed++;
}

/* Print every notification libpq has queued. */
static void
emit_queued(ListenState *st, PGconn *conn)
{
	PGnotify   *n;

	while ((n = PQnotifies(conn)) != NULL)
	{
		emit(st, conn, n);
		PQfreemem(n);
	}
}

/* Connect and LISTEN; NULL (with errmsg) on failure. */
static PGconn *
connect_and_listen(ListenState *st, bool quiet, PQExpBuffer errmsg)
{
	PGconn	   *conn = swarm_connect(st->cp, "swarmctl listen", true, quiet, errmsg);

	if (conn == NULL)
		return NULL;
	if (PQsetClientEncoding(conn, "UTF8") != 0 || !start_listening(conn, st, errmsg))
	{
		if (errmsg->len == 0)
			appendPQExpBufferStr(errmsg, PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* The first line of a message. */
static const char *
first_line(PQExpBuffer msg)
{
	char	   *nl = strchr(msg->data, '\n');

	if (nl)
		*nl = '\0';
	return msg->data;
}

/*
 * After the connection dropped: reconnect, waiting BACKOFF_FIRST seconds,
 * then twice as long after each failure, up to BACKOFF_MAX.  NULL when a
 * stop was requested meanwhile.
 */
static PGconn *
reconnect(ListenState *st)
{
	PQExpBuffer errmsg = createPQExpBuffer();
	double		delay = BACKOFF_FIRST;
	int			attempt = 0;
	PGconn	   *conn = NULL;
	char	   *chans = channel_list(st);

	pg_log_info("reconnecting in %.1f s", delay);
	while (wait_seconds(delay))
	{
		attempt++;
		conn = connect_and_listen(st, true, errmsg);
		if (conn != NULL)
			break;
		delay = Min(delay * 2, BACKOFF_MAX);
		pg_log_warning("reconnection attempt %d failed: %s", attempt, first_line(errmsg));
		pg_log_info("reconnecting in %.1f s", delay);
	}
	if (conn != NULL)
	{
		pg_log_info("reconnected to %s; listening again on %s", describe_server(conn), chans);
		if (st->last_event_id > 0)
			pg_log_info("notifications sent while disconnected are lost; the last event seen was "
						"event_id %lld (read swarm.events for the ones after it)", st->last_event_id);
	}
	destroyPQExpBuffer(errmsg);
	free(chans);
	return conn;
}

/* swarmctl listen. */
int
listen_main(ConnParams *cp, int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"channels", required_argument, NULL, 1},
		{"kinds", required_argument, NULL, 2},
		{"format", required_argument, NULL, 3},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	ListenState st = {0};
	PQExpBuffer errmsg = createPQExpBuffer();
	PQExpBuffer state = createPQExpBuffer();
	PGconn	   *conn;
	char	   *chans;
	int			workers;
	int			c;
	int			i;

	st.cp = cp;
	st.format = FORMAT_JSON;
	st.describe = true;
	st.nchannels = split_list(DEFAULT_CHANNELS, &st.channels);

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		listen_usage();
		exit(0);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		if (conn_option(c, optarg, cp))
			continue;
		switch (c)
		{
			case 1:
				st.nchannels = split_list(optarg, &st.channels);
				if (st.nchannels == 0)
				{
					pg_log_error("--channels needs at least one channel");
					command_usage_error("listen");
				}
				break;
			case 2:
				st.nkinds = split_list(optarg, &st.kinds);
				if (st.nkinds == 0)
				{
					pg_log_error("--kinds needs at least one event kind");
					command_usage_error("listen");
				}
				break;
			case 3:
				if (strcmp(optarg, "json") == 0)
					st.format = FORMAT_JSON;
				else if (strcmp(optarg, "text") == 0)
					st.format = FORMAT_TEXT;
				else
				{
					pg_log_error("invalid --format \"%s\": use json or text", optarg);
					command_usage_error("listen");
				}
				break;
			default:
				command_usage_error("listen");
		}
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")", argv[optind]);
		command_usage_error("listen");
	}

	signals_init();

	/* the first connection must work; later ones are retried */
	conn = swarm_connect(cp, "swarmctl listen", true, false, errmsg);
	if (conn == NULL)
		exit(EXIT_RUNTIME);
	require_extension(conn);
	for (i = 0; i < st.nchannels; i++)
	{
		if (strcmp(st.channels[i], "swarm_escalations") != 0)
			continue;
		workers = escalator_state(conn, state);
		if (workers < 0)
			pg_log_warning("cannot tell whether an escalation worker runs for database \"%s\": %s",
						   PQdb(conn), state->data);
		else if (workers == 0)
		{
			pg_log_warning("no escalation worker is running for database \"%s\": escalations will not arrive",
						   PQdb(conn));
			pg_log_warning_hint("Preload the library (shared_preload_libraries = 'swarm') with "
								"swarm.database_name = '%s', or run SELECT swarm.start_escalator(); "
								"see docs/escalation.md.", PQdb(conn));
		}
		else if (strcmp(state->data, "disabled") == 0)
			pg_log_warning("escalation is disabled (swarm.escalation_enabled = off): escalations will not arrive");
	}
	if (PQsetClientEncoding(conn, "UTF8") != 0 || !start_listening(conn, &st, errmsg))
		pg_fatal("could not listen: %s", errmsg->data);
	chans = channel_list(&st);
	pg_log_info("listening on %s in %s", chans, describe_server(conn));

	while (!stop_requested())
	{
		struct pollfd pfd[2];
		bool		lost = false;

		emit_queued(&st, conn);

		pfd[0].fd = PQsocket(conn);
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = signal_fd();
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0)
		{
			if (errno == EINTR)
				continue;
			pg_fatal("poll() failed: %m");
		}
		if (stop_requested())
			break;
		if (pfd[0].revents != 0)
		{
			if (!PQconsumeInput(conn))
				lost = true;
			emit_queued(&st, conn);
			if (PQstatus(conn) != CONNECTION_OK)
				lost = true;
		}
		if (lost)
		{
			printfPQExpBuffer(errmsg, "%s", PQerrorMessage(conn));
			pg_log_warning("connection to %s lost: %s", describe_server(conn), first_line(errmsg));
			PQfinish(conn);
			conn = reconnect(&st);
			if (conn == NULL)
				break;			/* stopped while reconnecting */
		}
	}

	drain_signal_fd();
	if (conn != NULL)
		PQfinish(conn);
	pg_log_info("stopped after %lld notifications", st.printed);
	destroyPQExpBuffer(errmsg);
	destroyPQExpBuffer(state);
	free(chans);
	return 0;
}

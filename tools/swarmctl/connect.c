/*-------------------------------------------------------------------------
 *
 * connect.c
 *	  Connections and checks shared by the swarmctl commands: connecting
 *	  the libpq way with clear messages when it fails, checking that the
 *	  extension and the escalation worker are there, running queries, and
 *	  the signal handling that lets every command stop cleanly.
 *
 * tools/swarmctl/connect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"

#include "swarmctl.h"

static volatile sig_atomic_t stop_flag = 0;
static int	signal_pipe[2] = {-1, -1};

/* Take one connection option of a command's getopt loop; false if c is not one. */
bool
conn_option(int c, const char *arg, ConnParams *cp)
{
	switch (c)
	{
		case 'd':
			cp->dbname = arg;
			return true;
		case 'h':
			cp->host = arg;
			return true;
		case 'p':
			cp->port = arg;
			return true;
		case 'U':
			cp->user = arg;
			return true;
	}
	return false;
}

/* Say how to get a command's help and exit with the usage status. */
void
command_usage_error(const char *command)
{
	pg_log_error_hint("Try \"%s %s --help\" for more information.", progname, command);
	exit(EXIT_USAGE);
}

/*
 * Connect with the given settings, libpq's defaults (PGHOST, PGPORT, ...)
 * filling in the rest.  Returns the connection, or NULL with the reason in
 * errmsg (and, unless quiet, reported on stderr).  keepalives: detect a
 * silently dead TCP connection within about a minute and a half.
 */
PGconn *
swarm_connect(const ConnParams *cp, const char *appname, bool keepalives,
			  bool quiet, PQExpBuffer errmsg)
{
	const char *keywords[16];
	const char *values[16];
	int			n = 0;
	PGconn	   *conn;

	/* earlier settings are overridden by later ones, so defaults go first */
	if (keepalives)
	{
		keywords[n] = "keepalives_idle";
		values[n++] = "60";
		keywords[n] = "keepalives_interval";
		values[n++] = "10";
		keywords[n] = "keepalives_count";
		values[n++] = "3";
	}
	/* the first dbname may be a whole conninfo string or URI (expand_dbname) */
	if (cp->conninfo)
	{
		keywords[n] = "dbname";
		values[n++] = cp->conninfo;
	}
	if (cp->dbname)
	{
		keywords[n] = "dbname";
		values[n++] = cp->dbname;
	}
	if (cp->host)
	{
		keywords[n] = "host";
		values[n++] = cp->host;
	}
	if (cp->port)
	{
		keywords[n] = "port";
		values[n++] = cp->port;
	}
	if (cp->user)
	{
		keywords[n] = "user";
		values[n++] = cp->user;
	}
	keywords[n] = "fallback_application_name";
	values[n++] = appname;
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keywords, values, 1);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
	{
		PQsetNoticeProcessor(conn, notice_processor, NULL);
		return conn;
	}

	resetPQExpBuffer(errmsg);
	appendPQExpBufferStr(errmsg, conn ? PQerrorMessage(conn) : "out of memory");
	/* libpq ends its messages with a newline */
	while (errmsg->len > 0 && errmsg->data[errmsg->len - 1] == '\n')
		errmsg->data[--errmsg->len] = '\0';
	if (!quiet)
		report_connection_failure(conn);
	PQfinish(conn);
	return NULL;
}

/* Connect, or say why not, naming the server tried, and exit. */
PGconn *
connect_or_exit(const ConnParams *cp, const char *appname, bool keepalives)
{
	PQExpBuffer errmsg = createPQExpBuffer();
	PGconn	   *conn;

	conn = swarm_connect(cp, appname, keepalives, false, errmsg);
	if (conn == NULL)
		exit(EXIT_RUNTIME);
	destroyPQExpBuffer(errmsg);
	return conn;
}

/*
 * Report a failed connection: which server and database were tried, libpq's
 * own message as the detail, and what to do.
 */
void
report_connection_failure(PGconn *conn)
{
	const char *host = conn ? PQhost(conn) : NULL;
	const char *port = conn ? PQport(conn) : NULL;
	const char *db = conn ? PQdb(conn) : NULL;
	char	   *msg = pg_strdup(conn ? PQerrorMessage(conn) : "out of memory\n");
	size_t		len = strlen(msg);

	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';

	if (host && host[0] == '/')
		pg_log_error("could not connect to the server on socket directory \"%s\", port %s (database \"%s\")",
					 host, port ? port : "?", db ? db : "?");
	else
		pg_log_error("could not connect to the server on host \"%s\", port %s (database \"%s\")",
					 host ? host : "?", port ? port : "?", db ? db : "?");
	pg_log_error_detail("%s", msg);
	pg_log_error_hint("Check that the server is running and accepts connections there; "
					  "set PGHOST and PGPORT, or give a connection string such as "
					  "\"host=... port=... dbname=...\", to use another one.");
	free(msg);
}

/* "database "x" on host:port" (or socket directory:port), for messages. */
const char *
describe_server(PGconn *conn)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "database \"%s\" on %s%s%s", PQdb(conn),
			 PQhost(conn), PQport(conn)[0] ? ":" : "", PQport(conn));
	return buf;
}

/*
 * Exit with a clear message unless the swarm extension is installed in the
 * database, telling whether it is available on the server at all.
 */
void
require_extension(PGconn *conn)
{
	PGresult   *res;
	bool		available;

	res = run_query(conn,
					"SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'swarm'), "
					"       EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'swarm')",
					0, NULL);
	if (!PQgetisnull(res, 0, 0))
	{
		PQclear(res);
		return;
	}
	available = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);

	pg_log_error("the swarm extension is not installed in database \"%s\"", PQdb(conn));
	if (available)
		pg_log_error_hint("Run CREATE EXTENSION swarm; in that database, as its owner or a superuser.");
	else
		pg_log_error_hint("The server does not have swarm either: run \"make install\" on the server's host, "
						  "then CREATE EXTENSION swarm; in the database.");
	PQfinish(conn);
	exit(EXIT_RUNTIME);
}

/*
 * How many escalation workers serve the current database, with their
 * states, comma-separated, in state: 0 when none runs (for example when the
 * library is not in shared_preload_libraries), -1 when the role cannot
 * read swarm.escalator_status (the reason in state).
 */
int
escalator_state(PGconn *conn, PQExpBuffer state)
{
	PGresult   *res;
	int			n = -1;

	res = PQexec(conn,
				 "SELECT count(*), coalesce(string_agg(DISTINCT state, ', '), '') "
				 "  FROM swarm.escalator_status WHERE database = pg_catalog.current_database()");
	resetPQExpBuffer(state);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		n = atoi(PQgetvalue(res, 0, 0));
		appendPQExpBufferStr(state, PQgetvalue(res, 0, 1));
	}
	else
		appendPQExpBufferStr(state, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	PQclear(res);
	return n;
}

/*
 * Run a query that must succeed, with text parameters; on failure report
 * the server's message and exit.  The caller clears the result.
 */
PGresult *
run_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;

	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		pg_log_error("query failed: %s", PQerrorMessage(conn));
		pg_log_error_detail("Query was: %s", sql);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_RUNTIME);
	}
	return res;
}

/* Show the server's notices and warnings as our own messages. */
void
notice_processor(void *arg, const char *message)
{
	char	   *msg = pg_strdup(message);
	size_t		len = strlen(msg);

	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	pg_log_info("server: %s", msg);
	free(msg);
	(void) arg;
}

/* SIGINT and SIGTERM: ask the command to stop; a second one exits at once. */
static void
handle_stop_signal(int signo)
{
	int			save_errno = errno;

	if (stop_flag)
		_exit(EXIT_RUNTIME);
	stop_flag = 1;
	if (signal_pipe[1] >= 0 && write(signal_pipe[1], "x", 1) < 0)
	{
		/* nothing to do: the flag is set */
	}
	errno = save_errno;
	(void) signo;
}

/*
 * Catch SIGINT and SIGTERM.  The handler writes to a pipe that the
 * commands poll together with their connection, so a signal ends any wait
 * at once.  System calls are not restarted.
 */
void
signals_init(void)
{
	struct sigaction sa;

	if (pipe(signal_pipe) != 0)
		pg_fatal("could not create a pipe: %m");
	fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK);
	fcntl(signal_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(signal_pipe[1], F_SETFD, FD_CLOEXEC);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handle_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The file descriptor that becomes readable when a stop was requested. */
int
signal_fd(void)
{
	return signal_pipe[0];
}

/* Whether SIGINT or SIGTERM arrived. */
bool
stop_requested(void)
{
	return stop_flag != 0;
}

/* Empty the signal pipe (the flag stays set). */
void
drain_signal_fd(void)
{
	char		buf[64];

	while (read(signal_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Seconds on a monotonic clock. */
double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait that long, or until a stop is requested; false if it was. */
bool
wait_seconds(double seconds)
{
	double		until = now_seconds() + seconds;

	while (!stop_requested())
	{
		struct pollfd pfd;
		double		left = until - now_seconds();

		if (left <= 0)
			return true;
		pfd.fd = signal_fd();
		pfd.events = POLLIN;
		pfd.revents = 0;
		(void) poll(&pfd, 1, (int) (left * 1000.0) + 1);
	}
	return false;
}

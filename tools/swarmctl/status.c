/*-------------------------------------------------------------------------
 *
 * status.c
 *	  swarmctl status: where the helpdesk stands, as readable tables:
 *	  cases and requests by state, the SLA targets at risk and breached
 *	  (swarm.sla_due), and the escalation worker's state and lag
 *	  (swarm.escalator_status).
 *
 * tools/swarmctl/status.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "getopt_long.h"

#include "swarmctl.h"

/* Print the help of swarmctl status. */
static void
status_usage(void)
{
	printf("%s status shows open cases and requests by state, the SLA targets at risk\n"
		   "and breached, and the escalation worker's state and lag.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [CONNINFO] status [OPTION]...\n\n", progname);
	printf("Options:\n");
	printf("  -d, -h, -p, -U    connection options, as before the command\n");
	printf("  -?, --help        show this help, then exit\n");
}

/* Print a query's rows as a table under a title (if any); aligns: 'l' or 'r' per column. */
static void
print_result_table(PGconn *conn, const char *title, const char *sql, const char *aligns)
{
	PGresult   *res = run_query(conn, sql, 0, NULL);
	int			ncols = PQnfields(res);
	const char **cells = pg_malloc(ncols * sizeof(char *));
	Table	   *t;
	int			i,
				j;

	for (j = 0; j < ncols; j++)
		cells[j] = PQfname(res, j);
	t = table_create(ncols, cells, aligns);
	for (i = 0; i < PQntuples(res); i++)
	{
		for (j = 0; j < ncols; j++)
			cells[j] = PQgetvalue(res, i, j);
		table_add_row(t, cells);
	}
	if (title)
		printf("%s\n", title);
	table_print(t, stdout, "  ");
	table_free(t);
	free(cells);
	PQclear(res);
}

/* The escalation worker: a table of the workers, or why there is none. */
static void
print_escalator(PGconn *conn)
{
	PQExpBuffer state = createPQExpBuffer();
	PGresult   *res;
	int			workers;

	printf("Escalation worker\n");
	workers = escalator_state(conn, state);
	if (workers < 0)
		printf("  cannot tell: %s\n", state->data);
	else if (workers == 0)
	{
		printf("  not running for database \"%s\": unanswered requests will not escalate\n", PQdb(conn));
		printf("  (preload the library with shared_preload_libraries = 'swarm' and\n"
			   "  swarm.database_name = '%s', or run SELECT swarm.start_escalator();\n"
			   "  see docs/escalation.md)\n", PQdb(conn));
	}
	else
	{
		print_result_table(conn, NULL,
						   "SELECT pid, state, CASE WHEN dynamic THEN 'dynamic' ELSE 'preloaded' END AS kind, "
						   "       escalations, "
						   "       coalesce(round(extract(epoch FROM pg_catalog.clock_timestamp() - last_sweep), 1) || ' s ago', "
						   "                'never') AS \"last sweep\", "
						   "       CASE WHEN next_wakeup IS NULL THEN '' "
						   "            WHEN next_wakeup <= pg_catalog.clock_timestamp() THEN 'now' "
						   "            ELSE 'in ' || round(extract(epoch FROM next_wakeup - pg_catalog.clock_timestamp()), 1) || ' s' END "
						   "         AS \"next wake-up\", "
						   "       round(last_lag_ms::numeric, 1) AS \"last lag (ms)\" "
						   "  FROM swarm.escalator_status WHERE database = pg_catalog.current_database() "
						   " ORDER BY dynamic, pid",
						   "rllrllr");
		if (strcmp(state->data, "disabled") == 0)
			printf("  escalation is disabled (swarm.escalation_enabled = off)\n");
	}

	/* how far behind the escalations are right now, worker or not */
	res = run_query(conn,
					"SELECT count(*), "
					"       coalesce(round(extract(epoch FROM pg_catalog.clock_timestamp() - min(next_escalation_at)) * 1000), 0) "
					"  FROM swarm.collab_requests "
					" WHERE state IN ('open', 'offered') AND next_escalation_at <= pg_catalog.clock_timestamp()",
					0, NULL);
	printf("  requests with an escalation due and not made: %s (the oldest overdue by %s ms)\n",
		   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	destroyPQExpBuffer(state);
}

/* swarmctl status. */
int
status_main(ConnParams *cp, int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	PGconn	   *conn;
	PGresult   *res;
	int			c;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		status_usage();
		exit(0);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		if (!conn_option(c, optarg, cp))
			command_usage_error("status");
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")", argv[optind]);
		command_usage_error("status");
	}

	conn = connect_or_exit(cp, "swarmctl status", false);
	require_extension(conn);

	/* one snapshot for the tables (the escalator's lag is read live) */
	PQclear(run_query(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL));
	res = run_query(conn,
					"SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'swarm'), "
					"       to_char(now(), 'YYYY-MM-DD HH24:MI:SS TZ'), "
					"       count(*) FILTER (WHERE presence = 'online'), count(*) FILTER (WHERE presence = 'away'), "
					"       count(*) FILTER (WHERE presence = 'offline'), count(*) "
					"  FROM swarm.agents WHERE active",
					0, NULL);
	printf("swarm %s in %s, %s\n", PQgetvalue(res, 0, 0), describe_server(conn), PQgetvalue(res, 0, 1));
	printf("agents: %s online, %s away, %s offline (%s active)\n\n",
		   PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
	PQclear(res);

	print_result_table(conn, "Cases",
					   "SELECT state, count FROM ("
					   "  SELECT s.state::text, count(c.case_id), s.o "
					   "    FROM unnest(enum_range(NULL::swarm.case_state)) WITH ORDINALITY AS s (state, o) "
					   "    LEFT JOIN swarm.cases AS c ON c.state = s.state "
					   "   GROUP BY s.state, s.o "
					   "  UNION ALL "
					   "  SELECT 'open work (new, open, pending)', count(*), 100 FROM swarm.cases "
					   "   WHERE state IN ('new', 'open', 'pending')) AS x "
					   " ORDER BY o",
					   "lr");
	printf("\n");
	print_result_table(conn, "Requests",
					   "SELECT state, count FROM ("
					   "  SELECT s.state::text, count(r.request_id), s.o "
					   "    FROM unnest(enum_range(NULL::swarm.request_state)) WITH ORDINALITY AS s (state, o) "
					   "    LEFT JOIN swarm.collab_requests AS r ON r.state = s.state "
					   "   GROUP BY s.state, s.o "
					   "  UNION ALL "
					   "  SELECT 'active (open, offered, accepted)', count(*), 100 FROM swarm.collab_requests "
					   "   WHERE state IN ('open', 'offered', 'accepted')) AS x "
					   " ORDER BY o",
					   "lr");
	printf("\n");
	print_result_table(conn, "SLA targets still running (swarm.sla_due)",
					   "WITH d AS (SELECT kind, target, state FROM swarm.sla_due(now(), 2147483647)) "
					   "SELECT target, \"at risk\", breached FROM ("
					   "  SELECT v.kind || ' ' || replace(v.target, '_', ' ') AS target, "
					   "         count(d.state) FILTER (WHERE d.state = 'at_risk') AS \"at risk\", "
					   "         count(d.state) FILTER (WHERE d.state = 'breached') AS breached, v.o "
					   "    FROM (VALUES (1, 'case', 'first_response'), (2, 'case', 'resolution'), "
					   "                 (3, 'request', 'accept'), (4, 'request', 'resolution')) AS v (o, kind, target) "
					   "    LEFT JOIN d ON d.kind = v.kind AND d.target = v.target "
					   "   GROUP BY v.o, v.kind, v.target "
					   "  UNION ALL "
					   "  SELECT 'total', count(*) FILTER (WHERE state = 'at_risk'), "
					   "         count(*) FILTER (WHERE state = 'breached'), 100 FROM d) AS x "
					   " ORDER BY o",
					   "lrr");
	printf("\n");
	PQclear(run_query(conn, "COMMIT", 0, NULL));

	print_escalator(conn);

	PQfinish(conn);
	return 0;
}

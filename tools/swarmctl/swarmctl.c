/*-------------------------------------------------------------------------
 *
 * swarmctl.c
 *	  swarmctl, the command-line client of the swarm extension: the command
 *	  line, help and version, and dispatch to the commands.
 *
 *	  swarmctl [OPTION]... [CONNINFO] COMMAND [COMMAND OPTION]...
 *
 * tools/swarmctl/swarmctl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "getopt_long.h"

#include "swarmctl.h"

const char *progname;

typedef int (*CommandMain) (ConnParams *cp, int argc, char **argv);

typedef struct Command
{
	const char *name;
	CommandMain main;
	const char *summary;
} Command;

static const Command commands[] = {
	{"listen", listen_main, "print swarm's notifications as JSON lines; reconnect when the connection drops"},
	{"status", status_main, "open cases and requests, SLA risk, and the escalation worker, as tables"},
	{"simulate", simulate_main, "drive a simulated helpdesk day through the SQL API"},
	{NULL, NULL, NULL}
};

/* Print the general help. */
static void
usage(void)
{
	const Command *c;

	printf("%s is the command-line client of the swarm extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... [CONNINFO] COMMAND [COMMAND OPTION]...\n\n", progname);
	printf("Commands:\n");
	for (c = commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\nConnection options (also accepted after the command):\n");
	printf("  -d, --dbname=DBNAME      database to connect to\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  database user name\n");
	printf("  CONNINFO                 a connection string (\"host=db dbname=helpdesk\"),\n"
		   "                           a URI (postgresql://db/helpdesk) or a database name\n");
	printf("\nOther options:\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nSettings not given come from the environment, as in psql: PGHOST, PGPORT,\n"
		   "PGDATABASE, PGUSER, PGPASSWORD, ...  Run \"%s COMMAND --help\" for the\n"
		   "options of a command.  Exit status: 0 success, 1 error, 2 bad arguments.\n",
		   progname);
}

/* The command of that name, or NULL. */
static const Command *
find_command(const char *name)
{
	const Command *c;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Say how to get help and exit with the usage status. */
static void
usage_error(void)
{
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(EXIT_USAGE);
}

/* Parse the options before the command, then run the command. */
int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	ConnParams	cp = {0};
	const Command *cmd;
	int			c;
	int			optindex;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);

	if (argc > 1)
	{
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
		{
			usage();
			exit(0);
		}
		if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		{
			printf("swarmctl (swarm) %s\n", SWARM_VERSION);
			exit(0);
		}
	}

	/* "+": stop at the first argument that is not an option */
	while ((c = getopt_long(argc, argv, "+d:h:p:U:V?", long_options, &optindex)) != -1)
	{
		switch (c)
		{
			case 'd':
				cp.dbname = optarg;
				break;
			case 'h':
				cp.host = optarg;
				break;
			case 'p':
				cp.port = optarg;
				break;
			case 'U':
				cp.user = optarg;
				break;
			case 'V':
				printf("swarmctl (swarm) %s\n", SWARM_VERSION);
				exit(0);
			default:
				usage_error();
		}
	}

	if (optind >= argc)
	{
		pg_log_error("no command given");
		pg_log_error_hint("Commands are listen, status and simulate; try \"%s --help\".", progname);
		exit(EXIT_USAGE);
	}

	/* an optional CONNINFO comes before the command */
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
	{
		if (optind + 1 >= argc)
		{
			pg_log_error("unknown command \"%s\"", argv[optind]);
			pg_log_error_hint("Commands are listen, status and simulate; try \"%s --help\".", progname);
			exit(EXIT_USAGE);
		}
		cp.conninfo = argv[optind++];
		cmd = find_command(argv[optind]);
		if (cmd == NULL)
		{
			pg_log_error("unknown command \"%s\"", argv[optind]);
			pg_log_error_hint("Commands are listen, status and simulate; try \"%s --help\".", progname);
			exit(EXIT_USAGE);
		}
	}

	/* the command sees "swarmctl <command>" as argv[0], for getopt's messages */
	argv[optind] = psprintf("%s %s", progname, cmd->name);
	return cmd->main(&cp, argc - optind, argv + optind);
}

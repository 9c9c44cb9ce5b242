/*-------------------------------------------------------------------------
 *
 * swarmctl.h
 *	  Declarations shared by the parts of swarmctl, the command-line client
 *	  of the swarm extension: connections, JSON helpers, tables and the
 *	  three commands (listen, status, simulate).
 *
 * tools/swarmctl/swarmctl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SWARMCTL_H
#define SWARMCTL_H

#include "libpq-fe.h"
#include "pqexpbuffer.h"

/* Exit codes: 0 success, 1 an error at run time, 2 bad arguments. */
#define EXIT_RUNTIME	1
#define EXIT_USAGE		2

/* How to reach the server: a conninfo string, URI or database name, and
 * the usual options; NULL fields fall back to libpq's defaults (PGHOST,
 * PGPORT, PGDATABASE, PGUSER, ...). */
typedef struct ConnParams
{
	const char *conninfo;
	const char *dbname;
	const char *host;
	const char *port;
	const char *user;
} ConnParams;

/* The connection options every command accepts, for getopt_long. */
#define CONN_SHORT_OPTIONS "d:h:p:U:"
#define CONN_LONG_OPTIONS \
	{"dbname", required_argument, NULL, 'd'}, \
	{"host", required_argument, NULL, 'h'}, \
	{"port", required_argument, NULL, 'p'}, \
	{"username", required_argument, NULL, 'U'}

/* connect.c */
extern bool conn_option(int c, const char *arg, ConnParams *cp);
extern void command_usage_error(const char *command);
extern PGconn *swarm_connect(const ConnParams *cp, const char *appname,
							 bool keepalives, bool quiet, PQExpBuffer errmsg);
extern PGconn *connect_or_exit(const ConnParams *cp, const char *appname,
							   bool keepalives);
extern void report_connection_failure(PGconn *conn);
extern const char *describe_server(PGconn *conn);
extern void require_extension(PGconn *conn);
extern int	escalator_state(PGconn *conn, PQExpBuffer state);
extern PGresult *run_query(PGconn *conn, const char *sql, int nparams,
						   const char *const *params);
extern void notice_processor(void *arg, const char *message);
extern void signals_init(void);
extern int	signal_fd(void);
extern bool stop_requested(void);
extern void drain_signal_fd(void);
extern double now_seconds(void);
extern bool wait_seconds(double seconds);

/* json.c */
extern bool json_is_valid(const char *s);
extern bool json_member(const char *object, const char *key,
						const char **value, size_t *len);
extern bool json_member_text(const char *object, const char *key,
							 char *buf, size_t buflen);
extern void json_append_string(PQExpBuffer buf, const char *s);

/* table.c */
typedef struct Table Table;
extern Table *table_create(int ncols, const char *const *headers,
						   const char *aligns);
extern void table_add_row(Table *t, const char *const *cells);
extern void table_print(Table *t, FILE *out, const char *indent);
extern void table_free(Table *t);

/* the commands */
extern int	listen_main(ConnParams *cp, int argc, char **argv);
extern int	status_main(ConnParams *cp, int argc, char **argv);
extern int	simulate_main(ConnParams *cp, int argc, char **argv);

extern const char *progname;

#endif							/* SWARMCTL_H */

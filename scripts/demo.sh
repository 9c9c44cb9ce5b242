#!/usr/bin/env bash
# make demo: a sample helpdesk walked through its swarm lifecycle (routing
# with reasons, swarming, a live escalation), then a whole helpdesk day
# compressed into a minute by swarmctl simulate while swarmctl listen shows
# it live, then swarmctl status and the metrics views.
# On a throwaway cluster by default; on your server when PGHOST or PGDATABASE
# is set (the walk-through then rolls back, and the day runs in a scratch
# database that is dropped at the end).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh"

# The simulated day: agents, hours, speed (simulated seconds per real second).
DAY_AGENTS=24
DAY_HOURS=24
DAY_SPEED=1440
# What the live view shows: help asked, given, declined or impossible, and
# handoffs; escalations come on their own channel.
DAY_KINDS=help_requested,request_accepted,request_declined,no_eligible_helper,case_transferred

LISTEN_PID=
FILTER_PID=
JSON_PID=

run_demo() {
	psql -X -q -v ON_ERROR_STOP=1 -v rollback="${DEMO_ROLLBACK:-0}" -P footer=off -f "$TOP/demo/demo.sql"
}

# Stop the listeners of the day, if they run (they are ours: we started them).
stop_listeners() {
	local pid
	for pid in $LISTEN_PID $JSON_PID; do
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ -n "$FILTER_PID" ] && { wait "$FILTER_PID" 2>/dev/null || true; }
	LISTEN_PID= JSON_PID= FILTER_PID=
}

# Wait (at most 10 s) until a listener says on stderr that it listens.
wait_listening() {
	local log=$1 i
	for i in $(seq 100); do
		grep -q 'listening on' "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$log" >&2
	die "swarmctl listen did not start"
}

# The day: swarmctl simulate in database $2 while swarmctl listen shows it;
# then swarmctl status and the metrics.  $1: the swarmctl to run; $3: a
# scratch directory; $4: the number of the first section.
run_day() {
	local swarmctl=$1 db=$2 tmp=$3 n=$4
	mkdir -p "$tmp"
	rm -f "$tmp/live" "$tmp/events.json"
	mkfifo "$tmp/live"

	echo
	echo "== $n. A helpdesk day in a minute: swarmctl simulate, watched live by swarmctl listen"
	echo "   $DAY_AGENTS agents in twelve cities follow the sun through ${DAY_HOURS} simulated hours at ${DAY_SPEED}x:"
	echo "   cases arrive on each region's daily curve and are routed; owners swarm on the hard ones,"
	echo "   some requests go unanswered and the escalation worker steps in.  [listen] lines are what"
	echo "   a chat bridge would post (swarmctl listen --format text), [simulate] lines the clock."
	sed -u 's/^/   [listen]   /' <"$tmp/live" &
	FILTER_PID=$!
	"$swarmctl" -d "$db" listen --format text --kinds "$DAY_KINDS" >"$tmp/live" 2>"$tmp/listen.log" &
	LISTEN_PID=$!
	"$swarmctl" -d "$db" listen >"$tmp/events.json" 2>"$tmp/listen-json.log" &
	JSON_PID=$!
	wait_listening "$tmp/listen.log"
	wait_listening "$tmp/listen-json.log"

	"$swarmctl" -d "$db" simulate --agents "$DAY_AGENTS" --hours "$DAY_HOURS" --speed "$DAY_SPEED" \
		| sed -u 's/^/   [simulate] /'
	stop_listeners

	echo
	echo "== $((n + 1)). Where the helpdesk stands at the end of the day: swarmctl status"
	"$swarmctl" -d "$db" status | sed 's/^/   /'

	echo
	echo "== $((n + 2)). The same notifications as JSON lines, for programs (swarmctl listen): the first of $(wc -l <"$tmp/events.json")"
	grep -m 3 '"help_requested"' "$tmp/events.json" | sed 's/^/   /'
	grep -m 1 '"swarm_escalations"' "$tmp/events.json" | sed 's/^/   /' || true

	echo
	echo "== $((n + 3)). What analysts see: the metrics"
	psql -X -q -d "$db" -v speed="$DAY_SPEED" -f "$TOP/demo/metrics.sql"
}

if [ -n "${PGHOST:-}${PGDATABASE:-}" ]; then
	# Against the caller's server: the extension must be installed there.
	echo "== swarm demo on ${PGHOST:-local socket}/${PGDATABASE:-$(id -un)} (rolled back at the end)"
	( cd "$TOP" && make -s >/dev/null )
	if [ "$(id -u)" -eq 0 ]; then
		( cd "$TOP" && make -s install >/dev/null )
	fi
	psql -X -qAt -c "SELECT 1 FROM pg_available_extensions WHERE name = 'swarm'" | grep -q 1 \
		|| die "swarm is not installed on that server: run 'make install' as root on the server's host"
	psql -X -q -c "CREATE EXTENSION IF NOT EXISTS swarm" >/dev/null
	DEMO_ROLLBACK=1 run_demo

	# The day writes a lot: it gets a scratch database of its own, dropped at the end.
	if [ "$(psql -X -qAt -c "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")" != t ]; then
		echo
		echo "== (the simulated helpdesk day needs a database of its own, and $(id -un) may not create one: skipped)"
		exit 0
	fi
	DAY_DB=swarm_demo_day_$$
	DAY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/swarm-demo.XXXXXX")
	cleanup_day() {
		stop_listeners
		dropdb --if-exists --force "$DAY_DB" 2>/dev/null || true
		rm -rf "$DAY_TMP"
	}
	trap cleanup_day EXIT
	createdb "$DAY_DB"
	psql -X -q -d "$DAY_DB" -c "CREATE EXTENSION swarm"
	# a worker for the scratch database, if the server preloads swarm and we may start one
	psql -X -q -d "$DAY_DB" -c "SELECT swarm.start_escalator()" >/dev/null 2>&1 \
		|| echo "(no escalation worker could be started for $DAY_DB: unanswered requests will not escalate)"
	run_day "$TOP/tools/swarmctl/swarmctl" "$DAY_DB" "$DAY_TMP" 8
	psql -X -q -d "$DAY_DB" -c "SELECT swarm.stop_escalator()" >/dev/null 2>&1 || true
	echo "== done; the scratch database $DAY_DB is dropped"
	exit 0
fi

drop_privileges "$TOP" scripts/demo.sh "$@"

cd "$TOP"
LOGDIR=$TOP/log
mkdir -p "$LOGDIR"
started=$(date +%s)
echo "== building swarm and starting a throwaway PostgreSQL 15 cluster"
setup_install "$TOP"
cleanup() {
	stop_listeners
	stop_cluster
}
trap cleanup EXIT
start_cluster "$TOP/demo/tmp/data" 54330
# The preloaded workers (escalation, event relay) serve the database of the
# helpdesk day (swarm.database_name, read at server start).
createdb helpdesk
serve_database helpdesk

createdb swarm_demo
psql -X -q -d swarm_demo -c "CREATE EXTENSION swarm"
PGDATABASE=swarm_demo run_demo

psql -X -q -d helpdesk -c "CREATE EXTENSION swarm"
run_day "$BINDIR/swarmctl" helpdesk "$TOP/demo/tmp" 9

echo
echo "== done in $(( $(date +%s) - started )) s; the throwaway cluster is stopped and removed"
stop_cluster
rm -rf "$TOP/demo/tmp"

#!/usr/bin/env bash
# make demo: a sample helpdesk walked through its swarm lifecycle.
# On a throwaway cluster by default; on your server when PGHOST or PGDATABASE is set.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh"

run_demo() {
	psql -X -q -v ON_ERROR_STOP=1 -v rollback="${DEMO_ROLLBACK:-0}" -P footer=off -f "$TOP/demo/demo.sql"
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
	exit 0
fi

drop_privileges "$TOP" scripts/demo.sh "$@"

cd "$TOP"
LOGDIR=$TOP/log
mkdir -p "$LOGDIR"
echo "== building swarm and starting a throwaway PostgreSQL 15 cluster"
setup_install "$TOP"
trap stop_cluster EXIT
start_cluster "$TOP/demo/tmp/data" 54330
createdb swarm_demo
export PGDATABASE=swarm_demo
psql -X -q -c "CREATE EXTENSION swarm"
run_demo
echo "== done; the throwaway cluster is stopped and removed"
stop_cluster
rm -rf "$TOP/demo/tmp"

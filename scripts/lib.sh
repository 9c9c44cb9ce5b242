# scripts/lib.sh — shared by scripts/test.sh and scripts/demo.sh.
#
# PostgreSQL refuses to run as root, and a normal user cannot install into
# the system's PostgreSQL directories.  So both commands build the extension,
# install it into a private copy of the PostgreSQL 15 installation inside the
# build tree (tmp_install/), and run a throwaway cluster from there: Unix
# socket only, data directory inside the build tree.  As root they first copy
# the tree to a scratch directory owned by an unprivileged user and re-run
# themselves as that user.

PG_VERSION=15
PG_LIBDIR=/usr/lib/postgresql/$PG_VERSION
PG_SHAREDIR=/usr/share/postgresql/$PG_VERSION

# Fail with a message on stderr.
die() { echo "$*" >&2; exit 1; }

# Run a benchmark runner again as an unprivileged user when we are root (see
# drop_privileges, which keeps only log/ of its copy of the tree), then copy
# its results file from log/LOGDIR/ to bench/out/OUTDIR/.
# Usage: bench_as_user "$top" script LOGDIR OUTDIR FILE args...; returns only
# when not root.
bench_as_user() {
	local top=$1 script=$2 logdir=$3 outdir=$4 file=$5; shift 5
	[ "$(id -u)" -eq 0 ] || return 0
	local rc=0
	( drop_privileges "$top" "$script" "$@" ) || rc=$?
	if [ -s "$top/log/$logdir/$file" ]; then
		mkdir -p "$top/bench/out/$outdir"
		cp "$top/log/$logdir/$file" "$top/bench/out/$outdir/$file"
		chown -R --reference="$top" "$top/bench/out" 2>/dev/null || true
		echo "(results: bench/out/$outdir/$file; logs: log/$logdir/)"
	fi
	exit $rc
}

# The median of the numbers on stdin, one per line (0 when there are none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Re-run the calling script as an unprivileged user when we are root.
# Usage: drop_privileges "$top" script args...; returns only when not root.
drop_privileges() {
	local top=$1; shift
	[ "$(id -u)" -eq 0 ] || return 0
	local user=${SWARM_TEST_USER:-postgres}
	if ! id "$user" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /bin/bash "$user" || die "cannot create user $user"
	fi
	local work
	work=$(mktemp -d /tmp/swarm-run.XXXXXX) || die "mktemp failed"
	tar -C "$top" --exclude=./tmp_install --exclude=./tmp_check --exclude=./results \
		--exclude=./output_iso --exclude=./log --exclude=./.git --exclude=./bench/out \
		--exclude=./demo/tmp -cf - . | tar -C "$work" -xf -
	chown -R "$user" "$work"
	chmod 755 "$work"
	echo "(running as $user in $work: PostgreSQL refuses to run as root)"
	local rc=0
	local envs=() v
	for v in PGHOST PGDATABASE PGPORT PGUSER CI; do
		[ -n "${!v:-}" ] && envs+=("$v=${!v}")
	done
	runuser -u "$user" -- env "${envs[@]}" bash "$work/$1" "${@:2}" || rc=$?
	# keep the logs next to the caller's tree for inspection
	if [ -d "$work/log" ]; then
		rm -rf "$top/log" && cp -r "$work/log" "$top/log" && chown -R --reference="$top" "$top/log" 2>/dev/null
	fi
	[ $rc -eq 0 ] && rm -rf "$work"
	exit $rc
}

# Build and install swarm into $TOP/tmp_install, a private copy of PostgreSQL.
# Sets BINDIR and PGXS_DIR.
setup_install() {
	local top=$1
	local inst=$top/tmp_install
	( cd "$top" && make -s >"$top/log/build.log" 2>&1 ) || { cat "$top/log/build.log"; die "build failed"; }
	if [ ! -x "$inst$PG_LIBDIR/bin/postgres" ] || [ "$inst$PG_LIBDIR/bin/postgres" -ot "$PG_LIBDIR/bin/postgres" ]; then
		rm -rf "$inst"
		mkdir -p "$inst$(dirname $PG_LIBDIR)" "$inst$(dirname $PG_SHAREDIR)"
		cp -a "$PG_LIBDIR" "$inst$(dirname $PG_LIBDIR)/"
		cp -a "$PG_SHAREDIR" "$inst$(dirname $PG_SHAREDIR)/"
	fi
	( cd "$top" && make -s install DESTDIR="$inst" >>"$top/log/build.log" 2>&1 ) || { cat "$top/log/build.log"; die "install failed"; }
	BINDIR=$inst$PG_LIBDIR/bin
	PGXS_DIR=$inst$PG_LIBDIR/lib/pgxs
	export PATH="$BINDIR:$PATH"
}

# Start a throwaway cluster in $1 (data dir) with the library preloaded.
# Sets PGHOST (a private socket directory) and PGPORT, and exports them.
start_cluster() {
	local data=$1 port=${2:-54329}
	rm -rf "$data"
	mkdir -p "$(dirname "$data")"
	SOCKDIR=$(mktemp -d /tmp/swarm-sock.XXXXXX)
	"$BINDIR/initdb" -D "$data" -A trust -E UTF8 --locale=C --no-sync >"$LOGDIR/initdb.log" 2>&1 \
		|| { cat "$LOGDIR/initdb.log"; die "initdb failed"; }
	cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCKDIR'
port = $port
shared_preload_libraries = 'swarm'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 120
max_prepared_transactions = 10
lc_messages = 'C'
timezone = 'UTC'
log_line_prefix = '%m [%p] %q%a '
CONF
	"$BINDIR/pg_ctl" -D "$data" -l "$LOGDIR/postmaster.log" -w -t 60 start >/dev/null \
		|| { cat "$LOGDIR/postmaster.log"; die "could not start the cluster"; }
	CLUSTER_DATA=$data
	export PGHOST=$SOCKDIR PGPORT=$port
}

# Make the throwaway cluster's workers (escalation, event relay) serve
# database $1, as a deployment would set swarm.database_name: restarts it.
serve_database() {
	"$BINDIR/psql" -X -q -d postgres -c "ALTER SYSTEM SET swarm.database_name = '$1'" >/dev/null \
		|| die "could not set swarm.database_name"
	"$BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$LOGDIR/postmaster.log" -w -t 60 -m fast restart >/dev/null \
		|| { cat "$LOGDIR/postmaster.log"; die "could not restart the cluster"; }
}

# Stop the throwaway cluster, if one was started; safe to call twice.
stop_cluster() {
	if [ -n "${CLUSTER_DATA:-}" ] && [ -f "$CLUSTER_DATA/postmaster.pid" ]; then
		"$BINDIR/pg_ctl" -D "$CLUSTER_DATA" -m fast -w stop >/dev/null 2>&1 || true
	fi
	[ -n "${SOCKDIR:-}" ] && rm -rf "$SOCKDIR"
	CLUSTER_DATA=
}

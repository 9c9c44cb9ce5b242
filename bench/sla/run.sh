#!/usr/bin/env bash
# bench/sla/run.sh: benchmark swarm's SLA building blocks on a throwaway
# PostgreSQL 15 cluster (see bench/sla/RESULTS.md).
#
#  1. swarm.business_add / swarm.business_time (C) against a PL/pgSQL
#     reference (bench/sla/reference.sql) on a two-segment Europe/Berlin
#     weekday calendar with 20 holidays: calls per second of each over the
#     same inputs, their ratio, and the number of calls whose results differ.
#  2. swarm.sla_due(now(), 1000) over SLA_REQUESTS open collaboration
#     requests of which 1% are breached: the plan of its query and the median
#     and maximum time of a call.
#
# Run as root:  bash bench/sla/run.sh   (results: bench/out/sla/results.txt)
#
# Environment:
#   SLA_CALLS      calls timed per function and side (default 1000000)
#   SLA_REF_CALLS  calls of the reference timed (default SLA_CALLS; lower it
#                  when the reference is too slow to time on every input)
#   SLA_CHECK      calls compared between swarm and the reference (default SLA_CALLS)
#   SLA_REQUESTS   open requests seeded for sla_due (default 1000000)
#   SLA_DUE_RUNS   timed sla_due calls (default 11)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1

if [ "$(id -u)" -eq 0 ]; then
	# drop_privileges runs us again as an unprivileged user in a copy of the
	# tree; that copy writes its results into a directory we hand it, and we
	# bring them back to bench/out/sla/.  (It also removes its own log/, so
	# drop_privileges leaves the caller's log/ alone.)
	user=${SWARM_TEST_USER:-postgres}
	id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/bash "$user" || die "cannot create user $user"
	res=$(mktemp -d /tmp/swarm-sla-out.XXXXXX) || die "mktemp failed"
	chown "$user" "$res"
	rc=0
	( drop_privileges "$TOP" bench/sla/run.sh --internal-results "$res" "$@" ) || rc=$?
	mkdir -p "$TOP/bench/out/sla"
	cp -r "$res"/. "$TOP/bench/out/sla/"
	chown -R --reference="$TOP" "$TOP/bench/out" 2>/dev/null || true
	rm -rf "$res"
	echo "(results: bench/out/sla/results.txt; logs: bench/out/sla/log/)"
	exit $rc
fi

FROM_ROOT=0
OUT=$TOP/bench/out/sla
# internal: set by the root branch above for the copy it runs (whose log/ we must then remove)
if [ "${1:-}" = "--internal-results" ]; then
	OUT=$2
	FROM_ROOT=1
	shift 2
fi

CALLS=${SLA_CALLS:-1000000}
REF_CALLS=${SLA_REF_CALLS:-$CALLS}
CHECK=${SLA_CHECK:-$CALLS}
REQUESTS=${SLA_REQUESTS:-1000000}
DUE_RUNS=${SLA_DUE_RUNS:-11}
for v in "$CALLS" "$REF_CALLS" "$CHECK" "$REQUESTS" "$DUE_RUNS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "bench/sla: expected a positive whole number, got '$v'"
done
[ "$REF_CALLS" -le "$CALLS" ] && [ "$CHECK" -le "$CALLS" ] || die "bench/sla: SLA_REF_CALLS and SLA_CHECK cannot exceed SLA_CALLS"
[ "$CALLS" -ge 20000 ] || die "bench/sla: SLA_CALLS must be at least 20000"

cd "$TOP"
LOGDIR=$OUT/log
mkdir -p "$TOP/log"
rm -rf "$LOGDIR" && mkdir -p "$LOGDIR"
RESULTS=$OUT/results.txt
: >"$RESULTS"

cleanup() {
	stop_cluster
	rm -rf "$TOP/bench/out/sla/data"
	if [ "$FROM_ROOT" -eq 1 ]; then
		# keep the build log with the results; a copy of log/ would replace the caller's
		cp "$TOP/log/build.log" "$LOGDIR/" 2>/dev/null || true
		rm -rf "$TOP/log"
	fi
}
trap cleanup EXIT

say() { printf '%s\n' "$@" | tee -a "$RESULTS"; }
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql -At -F ' ' -c "$1"; }

echo "== building swarm and starting a throwaway PostgreSQL 15 cluster"
setup_install "$TOP"
start_cluster "$TOP/bench/out/sla/data" 54333
export PGDATABASE=swarm_sla_bench
createdb swarm_sla_bench
psql -c "CREATE EXTENSION swarm"

START=$(date +%s)
say "# swarm SLA benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))" ""
say "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1) at $(awk -F': *' '/^cpu MHz/ { printf "%.1f GHz", $2 / 1000; exit }' /proc/cpuinfo)$(lscpu | sed -n 's/^Hypervisor vendor: *\(.*\)/ (\1 guest)/p'), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, Linux $(uname -r)"
say "server:  $(q 'SELECT version()')"
say "cluster: scripts/lib.sh settings (fsync, synchronous_commit and full_page_writes off), otherwise defaults:"
say "         $(q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
                 WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather', 'random_page_cost',
                                'effective_cache_size')")"
say "         (the calendar timings run with jit=off and max_parallel_workers_per_gather=0, sla_due with the"
say "         defaults; CPU time is the backend's user + system time from /proc/self/stat; the escalation worker that"
say "         swarm preloads works in database postgres, which has no swarm: it leaves the bench database alone)"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) at the start (1, 5, 15 min; other work on the machine skews the figures)" ""

# ---------------------------------------------------------------------------
echo "== calendar: inputs and the PL/pgSQL reference"
psql -f bench/sla/reference.sql >"$LOGDIR/reference.log"
psql -v n="$CALLS" -f bench/sla/inputs.sql >"$LOGDIR/inputs.log"
psql -f bench/sla/helpers.sql >>"$LOGDIR/reference.log"
psql -c "CREATE TABLE bench_ref.sample AS SELECT * FROM bench_ref.inputs WHERE id <= 20000; ANALYZE bench_ref.sample"

say "## business_add / business_time: swarm (C) against the PL/pgSQL reference"
say "calendar bench-berlin: Europe/Berlin, mon-fri 09:00-12:00 and 13:00-17:30, 20 holidays (2024-2025)"
say "$(q "SELECT format('inputs: %s rows; starts %s .. %s; %s%% on a weekend, %s%% on a holiday, %s%% outside working hours,
         %s%% in a DST-change week; amounts 0 .. %s (median %s); business_time spans %s%% negative',
         count(*), (min(start) AT TIME ZONE 'Europe/Berlin')::date, (max(start) AT TIME ZONE 'Europe/Berlin')::date,
         round(100.0 * count(*) FILTER (WHERE extract(isodow FROM start AT TIME ZONE 'Europe/Berlin') >= 6) / count(*), 1),
         round(100.0 * count(*) FILTER (WHERE (start AT TIME ZONE 'Europe/Berlin')::date = ANY (c.holidays)) / count(*), 1),
         round(100.0 * count(*) FILTER (WHERE NOT swarm.business_time(start, start + interval '1 microsecond', 'bench-berlin') > interval '0') / count(*), 1),
         round(100.0 * count(*) FILTER (WHERE (start AT TIME ZONE 'Europe/Berlin')::date BETWEEN '2024-03-28' AND '2024-04-03'
                                            OR (start AT TIME ZONE 'Europe/Berlin')::date BETWEEN '2024-10-24' AND '2024-10-30'
                                            OR (start AT TIME ZONE 'Europe/Berlin')::date BETWEEN '2025-03-27' AND '2025-04-02'
                                            OR (start AT TIME ZONE 'Europe/Berlin')::date BETWEEN '2025-10-23' AND '2025-10-29') / count(*), 1),
         max(amount), percentile_disc(0.5) WITHIN GROUP (ORDER BY amount),
         round(100.0 * count(*) FILTER (WHERE to_ts < start) / count(*), 1))
  FROM bench_ref.inputs, (SELECT holidays FROM swarm.calendars WHERE name = 'bench-berlin') AS c
 GROUP BY c.holidays")"
say ""

# timed FN ARGS ROWS: "WALL CPU" seconds for "SELECT count(*) FROM inputs WHERE FN(ARGS) IS NOT NULL"
# over the first ROWS inputs, in a fresh session after one untimed call (calendar compiled, plans cached)
CAL_OPTS="-c jit=off -c max_parallel_workers_per_gather=0"
timed() {
	local fn=$1 args=$2 rows=$3 where="" expr
	[ "$rows" -lt "$CALLS" ] && where="id <= $rows AND "
	expr="$fn($args, 'bench-berlin') IS NOT NULL"
	[ "$fn" = bare ] && expr="start IS NOT NULL"
	PGOPTIONS="$CAL_OPTS" psql -At -F ' ' -c "SELECT $expr FROM bench_ref.inputs WHERE id = 1" \
		-c "SELECT round(seconds::numeric, 3), round(cpu::numeric, 2)
		      FROM bench_ref.timed(\$q\$SELECT count(*) FROM bench_ref.inputs WHERE $where$expr\$q\$)" \
		2>&1 | tail -1
}
# best of 3 (wall and CPU each), for swarm and for the bare scan; the reference runs once (for minutes)
best3() {
	local runs
	runs=$(for i in 1 2 3; do timed "$@"; done)
	echo "$(echo "$runs" | awk '{ print $1 }' | sort -n | head -1) $(echo "$runs" | awk '{ print $2 }' | sort -n | head -1)"
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r >= 50 ? "met" : "NOT met") }'; }

# the bare scan: a count over the inputs calling nothing
read -r SCAN SCAN_CPU <<<"$(best3 bare "" "$CALLS")"
[[ $SCAN =~ ^[0-9.]+$ ]] || die "bench/sla: timing the bare scan failed: $SCAN"

for fn in business_add business_time; do
	if [ $fn = business_add ]; then args="start, amount"; else args="start, to_ts"; fi
	echo "== timing $fn: swarm ($CALLS calls, best of 3), reference ($REF_CALLS calls)"
	read -r c c_cpu <<<"$(best3 "swarm.$fn" "$args" "$CALLS")"
	read -r r r_cpu <<<"$(timed "bench_ref.$fn" "$args" "$REF_CALLS")"
	[[ $c =~ ^[0-9.]+$ && $r =~ ^[0-9.]+$ && $c_cpu =~ ^[0-9.]+$ && $r_cpu =~ ^[0-9.]+$ ]] \
		|| die "bench/sla: timing $fn failed: $c $c_cpu / $r $r_cpu"
	cr=$(rate "$CALLS" "$c"); rr=$(rate "$REF_CALLS" "$r")
	ccr=$(rate "$CALLS" "$c_cpu"); rcr=$(rate "$REF_CALLS" "$r_cpu")
	ratio=$(div "$cr" "$rr"); cpu_ratio=$(div "$ccr" "$rcr")
	net=$(awk -v c="$c" -v r="$r" -v s="$SCAN" -v n="$CALLS" -v m="$REF_CALLS" \
		'BEGIN { printf "%.1f", ((r - s * m / n) / m) / ((c - s) / n) }')
	say "$(printf '%-14s swarm (C)            %8d calls: wall %8.3f s = %8d calls/s; CPU %7.2f s = %8d calls/s' \
		$fn "$CALLS" "$c" "$cr" "$c_cpu" "$ccr")"
	say "$(printf '%-14s reference (PL/pgSQL) %8d calls: wall %8.3f s = %8d calls/s; CPU %7.2f s = %8d calls/s' \
		$fn "$REF_CALLS" "$r" "$rr" "$r_cpu" "$rcr")"
	say "$(printf '%-14s ratio %sx by wall clock (goal >= 50x: %s), %sx by CPU time (%s); %sx by wall clock net of the bare scan' \
		$fn "$ratio" "$(verdict "$ratio")" "$cpu_ratio" "$(verdict "$cpu_ratio")" "$net")"
done
say "(bare scan, a count over the $CALLS inputs calling nothing: wall $SCAN s, CPU $SCAN_CPU s)" ""

echo "== checking swarm against the reference on $CHECK inputs (2 sessions)"
for part in 0 1; do
	PGOPTIONS="$CAL_OPTS" psql -v part=$part -v parts=2 -v limit="$CHECK" -f bench/sla/calendar_check.sql >"$LOGDIR/check-$part.log" 2>&1 &
done
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
[ $fail -eq 0 ] || { cat "$LOGDIR"/check-*.log; die "bench/sla: the check failed"; }
read -r checked add_bad time_bad <<<"$(q "SELECT count(*),
        count(*) FILTER (WHERE c_add IS DISTINCT FROM r_add),
        count(*) FILTER (WHERE c_time IS DISTINCT FROM r_time OR c_time::text IS DISTINCT FROM r_time::text)
   FROM (SELECT * FROM bench_ref.check_0 UNION ALL SELECT * FROM bench_ref.check_1) AS x")"
say "agreement on $checked inputs (every one of the inputs: $( [ "$checked" -eq "$CALLS" ] && echo yes || echo no)):" \
	"  business_add  mismatches = $add_bad" \
	"  business_time mismatches = $time_bad (compared as intervals and as text)"
if [ "$add_bad" -ne 0 ] || [ "$time_bad" -ne 0 ]; then
	say "first mismatches:"
	psql -c "SELECT id, start, amount, to_ts, c_add, r_add, c_time, r_time
	           FROM (SELECT * FROM bench_ref.check_0 UNION ALL SELECT * FROM bench_ref.check_1) AS x
	          WHERE c_add IS DISTINCT FROM r_add OR c_time::text IS DISTINCT FROM r_time::text
	          ORDER BY id LIMIT 10" | tee -a "$RESULTS"
fi
say ""

echo "== calendar: per-call cost against the length of the work"
say "per-call cost against the work (20000 calls for swarm, best of 3; 2000 for the reference; net of the bare scan):"
PGOPTIONS="$CAL_OPTS" psql -c "SELECT * FROM bench_ref.scaling(2000)" | tee -a "$RESULTS"
psql -c "DROP TABLE bench_ref.check_0, bench_ref.check_1"
say "calendar part: $(( $(date +%s) - START )) s" ""

# ---------------------------------------------------------------------------
echo "== sla_due: seeding $REQUESTS open requests (1% breached)"
T0=$(date +%s)
psql -v requests="$REQUESTS" -f bench/sla/seed_due.sql >"$LOGDIR/seed.log" 2>&1 || { cat "$LOGDIR/seed.log"; die "bench/sla: seeding failed"; }
say "## swarm.sla_due(now(), 1000)"
say "seeded in $(( $(date +%s) - T0 )) s (bench/sla/seed_due.sql: bulk INSERT ... SELECT without row-by-row FK checks, indexes built afterwards, VACUUM ANALYZE):"
psql -c "SELECT 'collab_requests' AS tbl, count(*) AS open_rows,
                count(*) FILTER (WHERE resolution_due <= now() OR (state IN ('open', 'offered') AND accept_due <= now())) AS breached,
                pg_size_pretty(pg_relation_size('swarm.collab_requests')) AS heap,
                pg_size_pretty(pg_indexes_size('swarm.collab_requests')) AS indexes
           FROM swarm.collab_requests WHERE state IN ('open', 'offered', 'accepted')
         UNION ALL
         SELECT 'cases', count(*), count(*) FILTER (WHERE resolution_due <= now()),
                pg_size_pretty(pg_relation_size('swarm.cases')), pg_size_pretty(pg_indexes_size('swarm.cases'))
           FROM swarm.cases WHERE state IN ('new', 'open')" | tee -a "$RESULTS"
psql -c "SELECT kind, target, state, count(*) AS due_items FROM swarm.sla_due(now(), 100000000)
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" | tee -a "$RESULTS"

echo "== sla_due: timing $DUE_RUNS calls"
for jit in on off; do
	PGOPTIONS="-c jit=$jit" psql -At -F ' ' -c "SELECT * FROM bench_ref.time_sla_due($DUE_RUNS, 1000)" >"$LOGDIR/due-times-jit-$jit.txt"
	read -r med mx mn <<<"$(awk '{ print $2 }' "$LOGDIR/due-times-jit-$jit.txt" | sort -n | awk '{ a[NR] = $1 } END {
		printf "%s %s %s", a[int((NR + 1) / 2)], a[NR], a[1] }')"
	rows=$(awk 'NR == 1 { print $3 }' "$LOGDIR/due-times-jit-$jit.txt")
	if [ $jit = on ]; then
		say "sla_due(now(), 1000), $DUE_RUNS calls in one session (each call plans its query, as every call does):"
		label="defaults (jit=on)"
	else
		label="jit=off (for comparison)"
	fi
	say "  $label, ms per call: $(awk '{ printf "%s ", $2 }' "$LOGDIR/due-times-jit-$jit.txt")" \
		"    median $med ms, max $mx ms, min $mn ms, $rows rows returned (goal: under 50 ms: $(awk -v m="$mx" -v d="$med" 'BEGIN {
		print (m < 50 ? "met" : (d < 50 ? "median met, max NOT met" : "NOT met")) }'))"
done
say ""
say "plans of sla_due's query (bench/sla/due_explain.sql):"
psql -f bench/sla/due_explain.sql 2>&1 | tee -a "$RESULTS"
say "" "total: $(( $(date +%s) - START )) s; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# bench/metrics/run.sh: the metrics benchmark (see bench/metrics/RESULTS.md).
#
# Seeds a year of helpdesk history (bench/metrics/seed.sql: 1,000,000 cases,
# 1,500,000 requests, 10,000,000 events by default), then for each of the
# seven metrics:
#   * the view (the last 30 days) and the window function over two 30-day
#     windows -- the view's own, and 30 days ending 180 days before the seed
#     -- timed as swarm_analyst (median and max of METRICS_RUNS runs in one
#     session; goal: median under 500 ms);
#   * a straightforward reference (bench/metrics/reference.sql: what an
#     analyst would write without the metrics indexes and kept facts), timed
#     over the same windows with the metrics indexes dropped (inside a
#     transaction that is rolled back), and the ratio;
#   * agreement: the function's rows against the reference's, the view's
#     against the function's over the view's window.
# Then the views again after every case and request of the recent window
# was updated once since the last VACUUM (the index-only scans then read
# the table too), and the write cost: lifecycles through the API with and
# without the metrics indexes and triggers, on the seeded tables.
# Before the timings it checks the facts the metrics triggers keep
# (cases.resolved_with_help, collab_requests.requested_group_id and
# requested_priority) against recomputation from collab_requests and the
# help_requested events, over every row.
#
# Run as root or as a normal user:  bash bench/metrics/run.sh
# The report goes to stdout and to bench/out/metrics/results.txt.
#
# Environment:
#   METRICS_CASES      cases seeded (default 1000000)
#   METRICS_REQUESTS   requests seeded (default 1500000)
#   METRICS_EVENTS     events seeded (default 10000000)
#   METRICS_DAYS       days of history (default 365)
#   METRICS_RUNS       timed runs of each view and function (default 7)
#   METRICS_REF_RUNS   timed runs of each reference (default 3)
#   METRICS_PORT       port of the throwaway cluster (default 55231)
#   METRICS_LIFECYCLES lifecycles per write-cost run (default 1000)
#   METRICS_WRITE_ROUNDS  rounds of the write-cost comparison (default 3)
#
# Exit status: 0 when every agreement check passed, 1 otherwise.  The 500 ms
# goal is reported as MET or NOT MET and does not change the exit status.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1

if [ "$(id -u)" -eq 0 ]; then
	# drop_privileges runs us again as an unprivileged user in a copy of the
	# tree; that copy writes its results into a directory we hand it, and we
	# bring them back to bench/out/metrics/.
	user=${SWARM_TEST_USER:-postgres}
	id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/bash "$user" || die "cannot create user $user"
	res=$(mktemp -d /tmp/swarm-metrics-out.XXXXXX) || die "mktemp failed"
	chown "$user" "$res"
	rc=0
	( drop_privileges "$TOP" bench/metrics/run.sh --internal-results "$res" "$@" ) || rc=$?
	mkdir -p "$TOP/bench/out/metrics"
	cp -r "$res"/. "$TOP/bench/out/metrics/"
	chown -R --reference="$TOP" "$TOP/bench/out" 2>/dev/null || true
	rm -rf "$res"
	echo "(results: bench/out/metrics/results.txt; logs: bench/out/metrics/log/)"
	exit $rc
fi

FROM_ROOT=0
OUT=$TOP/bench/out/metrics
if [ "${1:-}" = "--internal-results" ]; then
	OUT=$2
	FROM_ROOT=1
	shift 2
fi

CASES=${METRICS_CASES:-1000000}
REQUESTS=${METRICS_REQUESTS:-1500000}
EVENTS=${METRICS_EVENTS:-10000000}
DAYS=${METRICS_DAYS:-365}
RUNS=${METRICS_RUNS:-7}
REF_RUNS=${METRICS_REF_RUNS:-3}
PORT=${METRICS_PORT:-55231}
LIFECYCLES=${METRICS_LIFECYCLES:-1000}
WRITE_ROUNDS=${METRICS_WRITE_ROUNDS:-3}
for v in "$CASES" "$REQUESTS" "$EVENTS" "$DAYS" "$RUNS" "$REF_RUNS" "$PORT" "$LIFECYCLES" "$WRITE_ROUNDS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "bench/metrics: expected a positive whole number, got '$v'"
done
[ "$DAYS" -ge 240 ] || die "bench/metrics: METRICS_DAYS must be at least 240 (the older window ends 180 days back)"

cd "$TOP"
LOGDIR=$OUT/log
mkdir -p "$TOP/log"
rm -rf "$LOGDIR" && mkdir -p "$LOGDIR"
RESULTS=$OUT/results.txt
: >"$RESULTS"

cleanup() {
	stop_cluster
	rm -rf "$TOP/bench/out/metrics/data"
	if [ "$FROM_ROOT" -eq 1 ]; then
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
start_cluster "$TOP/bench/out/metrics/data" "$PORT"
export PGDATABASE=swarm_metrics_bench
createdb swarm_metrics_bench
psql -c "CREATE EXTENSION swarm"

START=$(date +%s)
say "# swarm metrics benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))" ""
say "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)$(lscpu | sed -n 's/^Hypervisor vendor: *\(.*\)/ (\1 guest)/p'), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, Linux $(uname -r)"
say "server:  $(q 'SELECT version()')"
say "cluster: scripts/lib.sh settings (fsync, synchronous_commit and full_page_writes off), otherwise defaults:"
say "         $(q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
                 WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather', 'random_page_cost',
                                'effective_cache_size')")"
say "load:    $(cut -d' ' -f1-3 /proc/loadavg) at the start (1, 5, 15 min; other work on the machine skews the figures)" ""

# ---------------------------------------------------------------------------
echo "== seeding $CASES cases, $REQUESTS requests, $EVENTS events over $DAYS days"
T0=$(date +%s)
psql -v cases="$CASES" -v requests="$REQUESTS" -v events="$EVENTS" -v days="$DAYS" \
	-f bench/metrics/seed.sql >"$LOGDIR/seed.log" 2>&1 || { cat "$LOGDIR/seed.log"; die "bench/metrics: seeding failed"; }
SEED_S=$(( $(date +%s) - T0 ))
T0=$(date +%s)
psql -c "VACUUM ANALYZE"
say "## data"
say "seeded in $SEED_S s (bench/metrics/seed.sql: bulk INSERT ... SELECT, indexes built afterwards), VACUUM ANALYZE in $(( $(date +%s) - T0 )) s:"
psql -c "SELECT t AS table, n AS rows, pg_size_pretty(pg_relation_size(('swarm.' || t)::regclass)) AS heap,
                pg_size_pretty(pg_indexes_size(('swarm.' || t)::regclass)) AS indexes
           FROM (VALUES ('cases', (SELECT count(*) FROM swarm.cases)),
                        ('collab_requests', (SELECT count(*) FROM swarm.collab_requests)),
                        ('events', (SELECT count(*) FROM swarm.events)),
                        ('escalations', (SELECT count(*) FROM swarm.escalations)),
                        ('agents', (SELECT count(*) FROM swarm.agents))) AS x (t, n)" | tee -a "$RESULTS"
psql -c "SELECT round(100.0 * count(*) FILTER (WHERE resolved_with_help) / count(*) FILTER (WHERE resolved_at IS NOT NULL), 1)
                  AS \"% resolved with help\",
                round(100.0 * count(*) FILTER (WHERE state IN ('open', 'pending')) / count(*), 2) AS \"% open\",
                min(opened_at)::date AS first_opened, max(opened_at)::date AS last_opened
           FROM swarm.cases" | tee -a "$RESULTS"

# ---------------------------------------------------------------------------
echo "== checking the kept facts against recomputation (every row)"
read -r help_rows help_bad <<<"$(q "SELECT count(*), count(*) FILTER (WHERE resolved_with_help IS DISTINCT FROM
        CASE WHEN c.resolved_at IS NOT NULL THEN EXISTS (SELECT 1 FROM swarm.collab_requests AS r
                                                          WHERE r.case_id = c.case_id AND r.accepted_at IS NOT NULL) END)
   FROM swarm.cases AS c")"
read -r req_rows req_bad <<<"$(q "SELECT count(*), count(*) FILTER (WHERE r.requested_group_id IS DISTINCT FROM g.group_id
                                               OR r.requested_priority IS DISTINCT FROM (e.detail ->> 'priority')::swarm.priority)
   FROM swarm.collab_requests AS r
   LEFT JOIN swarm.events AS e ON e.request_id = r.request_id AND e.kind = 'help_requested'
   LEFT JOIN swarm.skill_groups AS g ON g.name = e.detail ->> 'group'")"
say "## kept facts against recomputation" \
	"cases.resolved_with_help against EXISTS (accepted request): $help_rows cases, $help_bad differ" \
	"collab_requests.requested_group_id / requested_priority against the help_requested events: $req_rows requests, $req_bad differ" ""
FAIL=0
[ "$help_bad" = 0 ] && [ "$req_bad" = 0 ] || FAIL=1

# ---------------------------------------------------------------------------
psql -f bench/metrics/reference.sql >"$LOGDIR/reference.log"
psql -f bench/metrics/helpers.sql >>"$LOGDIR/reference.log"
read -r W1_FROM W1_TO <<<"$(psql -At -F '|' -c "SELECT from_ts, to_ts FROM swarm.metrics_window()" | tr ' ' 'T' | tr '|' ' ')"
read -r W2_FROM W2_TO <<<"$(psql -At -F '|' -c "SELECT at - interval '210 days', at - interval '180 days' FROM bench.seeded_at" | tr ' ' 'T' | tr '|' ' ')"
W1_FROM=${W1_FROM//T/ }; W1_TO=${W1_TO//T/ }; W2_FROM=${W2_FROM//T/ }; W2_TO=${W2_TO//T/ }
say "## windows" \
	"recent: [$W1_FROM, $W1_TO)  (swarm.metrics_window(): the views' window, today and the 29 days before, UTC)" \
	"older:  [$W2_FROM, $W2_TO)  (30 days ending 180 days before the seed)"
for w in 1 2; do
	if [ $w = 1 ]; then f=$W1_FROM; t=$W1_TO; else f=$W2_FROM; t=$W2_TO; fi
	say "  $( [ $w = 1 ] && echo recent || echo "older ")  $(q "SELECT format('cases opened %s, resolved %s; requests created %s, accepted %s; SLA targets due %s; events %s (transfers %s); escalations %s',
	    (SELECT count(*) FROM swarm.cases WHERE opened_at >= '$f' AND opened_at < '$t'),
	    (SELECT count(*) FROM swarm.cases WHERE resolved_at >= '$f' AND resolved_at < '$t'),
	    (SELECT count(*) FROM swarm.collab_requests WHERE created_at >= '$f' AND created_at < '$t'),
	    (SELECT count(*) FROM swarm.collab_requests WHERE accepted_at >= '$f' AND accepted_at < '$t'),
	    (SELECT count(*) FROM swarm.cases WHERE first_response_due >= '$f' AND first_response_due < '$t')
	    + (SELECT count(*) FROM swarm.cases WHERE resolution_due >= '$f' AND resolution_due < '$t')
	    + (SELECT count(*) FROM swarm.collab_requests WHERE accept_due >= '$f' AND accept_due < '$t')
	    + (SELECT count(*) FROM swarm.collab_requests WHERE resolution_due >= '$f' AND resolution_due < '$t'),
	    (SELECT count(*) FROM swarm.events WHERE at >= '$f' AND at < '$t'),
	    (SELECT count(*) FROM swarm.events WHERE kind = 'case_transferred' AND at >= '$f' AND at < '$t'),
	    (SELECT count(*) FROM swarm.escalations WHERE escalated_at >= '$f' AND escalated_at < '$t'))")"
done
say ""

# timed QUERY RUNS [ROLE]: "median max cpu" in ms over RUNS runs in one session
timed() {
	local query=$1 runs=$2 role=NULL
	[ -n "${3:-}" ] && role="'$3'"
	psql -At -F ' ' -c "SELECT round(bench.median(ms)::numeric, 1), round((SELECT max(x) FROM unnest(ms) AS x)::numeric, 1),
	                           round(cpu_ms::numeric)
	                      FROM bench.timed(\$q\$$query\$q\$, $runs, $role)" | tail -1
}
# reference timing: the metrics indexes dropped in a transaction that is rolled back; jit off as in the functions
timed_ref() {
	local query=$1 runs=$2
	PGOPTIONS="-c jit=off" psql -At -F ' ' -c "BEGIN" \
		-c "DO \$\$ BEGIN EXECUTE 'DROP INDEX ' || bench.metrics_indexes(); END \$\$" \
		-c "SELECT round(bench.median(ms)::numeric, 1), round((SELECT max(x) FROM unnest(ms) AS x)::numeric, 1),
		           round(cpu_ms::numeric)
		      FROM bench.timed(\$q\$$query\$q\$, $runs)" \
		-c "ROLLBACK" | grep -v '^$' | tail -1
}
# agree M FROM TO: "rows differences" between swarm.M and bench_ref.M over the window
agree() {
	local m=$1 f=$2 t=$3
	psql -At -F ' ' -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench.got, bench.ref" \
		-c "CREATE TABLE bench.got AS SELECT * FROM swarm.$m('$f', '$t')" \
		-c "CREATE TABLE bench.ref AS SELECT * FROM bench_ref.$m('$f', '$t')" \
		-c "SELECT (SELECT count(*) FROM bench.got), bench.differences('bench.got', 'bench.ref')" | tail -1
}
# agree_view M: "rows differences" between the view and the function over swarm.metrics_window(), in one transaction
agree_view() {
	local m=$1
	psql -At -F ' ' -c "SET client_min_messages = warning" -c "BEGIN" -c "DROP TABLE IF EXISTS bench.got, bench.ref" \
		-c "CREATE TABLE bench.got AS SELECT * FROM swarm.$m" \
		-c "CREATE TABLE bench.ref AS SELECT m.* FROM swarm.metrics_window() AS w, swarm.$m(w.from_ts, w.to_ts) AS m" \
		-c "SELECT (SELECT count(*) FROM bench.got), bench.differences('bench.got', 'bench.ref')" -c "COMMIT" | grep -v '^$' | tail -1
}

say "## timings (ms; median / max of $RUNS runs in one session, as swarm_analyst; cpu: this backend's mean CPU ms per run)"
say "## reference: $REF_RUNS runs, metrics indexes dropped, jit=off; ratio: reference median / swarm median"
say "$(printf '%-18s %-6s %5s %15s %5s %10s %6s %8s %-13s %s' metric window rows 'swarm med/max' cpu 'ref median' cpu ratio agreement 'goal < 500 ms')"
MET_ALL=1
for m in metrics_daily metrics_requests metrics_agents metrics_sla metrics_regions metrics_knowledge metrics_handoffs; do
	echo "== $m"
	read -r vrows vdiff <<<"$(agree_view "$m")"
	read -r vmed vmax vcpu <<<"$(timed "SELECT * FROM swarm.$m" "$RUNS" swarm_analyst)"
	[[ $vmed =~ ^[0-9.]+$ ]] || die "bench/metrics: timing the view $m failed: $vmed"
	ok=$(awk -v m="$vmed" 'BEGIN { print (m < 500 ? "MET" : "NOT MET") }')
	[ "$ok" = MET ] || MET_ALL=0
	[ "$vdiff" = 0 ] || FAIL=1
	say "$(printf '%-18s %-6s %5s %15s %5s %10s %6s %8s %-13s %s' "$m" view "$vrows" "$vmed / $vmax" "$vcpu" '' '' '' \
		"$( [ "$vdiff" = 0 ] && echo 'same as fn' || echo "$vdiff DIFFER")" "$ok")"
	for w in 1 2; do
		if [ $w = 1 ]; then f=$W1_FROM; t=$W1_TO; wn=recent; else f=$W2_FROM; t=$W2_TO; wn=older; fi
		read -r rows diff <<<"$(agree "$m" "$f" "$t")"
		read -r med max cpu <<<"$(timed "SELECT * FROM swarm.$m('$f', '$t')" "$RUNS" swarm_analyst)"
		read -r rmed rmax rcpu <<<"$(timed_ref "SELECT * FROM bench_ref.$m('$f'::timestamptz, '$t'::timestamptz)" "$REF_RUNS")"
		[[ $med =~ ^[0-9.]+$ && $rmed =~ ^[0-9.]+$ ]] || die "bench/metrics: timing $m failed: $med / $rmed"
		ratio=$(awk -v a="$rmed" -v b="$med" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
		ok=$(awk -v m="$med" 'BEGIN { print (m < 500 ? "MET" : "NOT MET") }')
		[ "$ok" = MET ] || MET_ALL=0
		[ "$diff" = 0 ] || FAIL=1
		say "$(printf '%-18s %-6s %5s %15s %5s %10s %6s %8s %-13s %s' "$m" "$wn" "$rows" "$med / $max" "$cpu" "$rmed" "$rcpu" \
			"$ratio" "$( [ "$diff" = 0 ] && echo identical || echo "$diff DIFFER")" "$ok")"
	done
done
say "" "(rows: rows returned; agreement: rows in one result and not the other, after rounding rates to 12 decimals;" \
	" the view is compared with its function over swarm.metrics_window() in the same transaction)"

# ---------------------------------------------------------------------------
echo "== the views again, after every row of the recent window changed since the last VACUUM"
T0=$(date +%s)
read -r churned_cases <<<"$(q "WITH u AS (UPDATE swarm.cases SET kb_ref = kb_ref
                                         WHERE opened_at >= '$W1_FROM' OR resolved_at >= '$W1_FROM'
                                            OR first_response_due >= '$W1_FROM' OR resolution_due >= '$W1_FROM' RETURNING 1)
                               SELECT count(*) FROM u")"
read -r churned_requests <<<"$(q "WITH u AS (UPDATE swarm.collab_requests SET summary = summary
                                            WHERE created_at >= '$W1_FROM' OR accepted_at >= '$W1_FROM'
                                               OR accept_due >= '$W1_FROM' OR resolution_due >= '$W1_FROM' RETURNING 1)
                                  SELECT count(*) FROM u")"
say "" "## the views after churn: $churned_cases cases and $churned_requests requests of the recent window updated once" \
	"## (a new row version each, in $(( $(date +%s) - T0 )) s) and no VACUUM since: their pages not all-visible, a dead version per row"
say "$(printf '%-18s %5s %15s %5s %-13s %s' metric rows 'swarm med/max' cpu agreement 'goal < 500 ms')"
for m in metrics_daily metrics_requests metrics_agents metrics_sla metrics_regions metrics_knowledge metrics_handoffs; do
	read -r vrows vdiff <<<"$(agree_view "$m")"
	read -r vmed vmax vcpu <<<"$(timed "SELECT * FROM swarm.$m" "$RUNS" swarm_analyst)"
	[[ $vmed =~ ^[0-9.]+$ ]] || die "bench/metrics: timing the view $m failed: $vmed"
	ok=$(awk -v m="$vmed" 'BEGIN { print (m < 500 ? "MET" : "NOT MET") }')
	[ "$ok" = MET ] || MET_ALL=0
	[ "$vdiff" = 0 ] || FAIL=1
	say "$(printf '%-18s %5s %15s %5s %-13s %s' "$m" "$vrows" "$vmed / $vmax" "$vcpu" \
		"$( [ "$vdiff" = 0 ] && echo 'same as fn' || echo "$vdiff DIFFER")" "$ok")"
done

# ---------------------------------------------------------------------------
echo "== write cost: lifecycles with and without the metrics indexes and triggers"
say "" "## write cost: $LIFECYCLES lifecycles through the API (open, assign, request help, accept, resolve request, resolve case)" \
	"## in one transaction that is rolled back, on the seeded tables; 'without': the 9 metrics indexes and 6 triggers dropped first"
say "$(printf '%-6s %-8s %12s %12s' round side 'ms/lifecycle' 'cpu ms')"
WITH_MS=(); WITHOUT_MS=(); WITH_CPU=(); WITHOUT_CPU=()
for round in $(seq 1 "$WRITE_ROUNDS"); do
	for side in with without; do
		drop=()
		[ $side = without ] && drop=(-c "SELECT bench.drop_metrics_parts()")
		read -r ms cpu <<<"$(psql -At -F ' ' -c "BEGIN" "${drop[@]}" \
			-c "SELECT round(ms::numeric, 3), round(cpu_ms::numeric, 3) FROM bench.lifecycles($LIFECYCLES)" -c "ROLLBACK" \
			| grep -E '^[0-9.]+ [0-9.]+$' | tail -1)"
		[[ $ms =~ ^[0-9.]+$ ]] || die "bench/metrics: the write-cost run failed"
		say "$(printf '%-6s %-8s %12s %12s' "$round" "$side" "$ms" "$cpu")"
		if [ $side = with ]; then WITH_MS+=("$ms"); WITH_CPU+=("$cpu"); else WITHOUT_MS+=("$ms"); WITHOUT_CPU+=("$cpu"); fi
	done
done
med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
say "median: with $(med "${WITH_MS[@]}") ms ($(med "${WITH_CPU[@]}") ms CPU), without $(med "${WITHOUT_MS[@]}") ms ($(med "${WITHOUT_CPU[@]}") ms CPU) per lifecycle;" \
	"        with/without: $(awk -v a="$(med "${WITH_MS[@]}")" -v b="$(med "${WITHOUT_MS[@]}")" 'BEGIN { printf "%.2f", a / b }') by wall clock, $(awk -v a="$(med "${WITH_CPU[@]}")" -v b="$(med "${WITHOUT_CPU[@]}")" 'BEGIN { printf "%.2f", a / b }') by CPU"

say "" "500 ms goal for every view and window function: $( [ $MET_ALL = 1 ] && echo MET || echo 'NOT MET')" \
	"agreement: $( [ $FAIL = 0 ] && echo ok || echo FAILED)" \
	"" "total: $(( $(date +%s) - START )) s; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $FAIL

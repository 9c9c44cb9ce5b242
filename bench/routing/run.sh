#!/usr/bin/env bash
# bench/routing/run.sh: the routing benchmark (see bench/routing/RESULTS.md).
#
#   1. latency of swarm.route_case(case, 5) and swarm.suggest_helpers(request, 5)
#      against the same ranking in plain SQL over normalised skill tables
#      (reference.sql), on the same random sample, with their agreement;
#   2. swarm.grab_request with concurrent clients against a bare
#      UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) dequeue
#      on the same queue, and a check that no request was taken twice;
#   3. the backend's memory over a million calls in one session.
#
# Data (seed.sql): 10,000 agents with 15 skills of 300, 20 groups, 50,000 open
# cases.  Run as root or as a normal user:  bash bench/routing/run.sh
# The report goes to stdout and to bench/out/routing/results.txt.
#
# Environment:
#   ROUTING_SAMPLE        cases and requests timed (default 1000)
#   ROUTING_WARM          untimed warm-up calls per side before the sample (default 50)
#   ROUTING_GRAB_SECONDS  length of each pgbench run (default 15)
#   ROUTING_GRAB_ROUNDS   rounds, each runs the dequeue then grab (default 2)
#   ROUTING_GRAB_CLIENTS  pgbench clients (default 8)
#   ROUTING_SCORE_CALLS   routing_score calls in the memory test (default 1000000)
#   ROUTING_ROUTE_CALLS   route_case calls in the memory test (default 1000000)
#   ROUTING_PHASES        phases to run after the seed, comma-separated, from
#                         latency, grab, memory (default: all three); e.g.
#                         ROUTING_PHASES=grab runs the seed and the grab only
#
# Exit status: 0 when every check passed (identical top 5, no request taken
# twice, flat memory); 1 otherwise.  The performance goals are reported as met
# or not met but do not change the exit status.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1

bench_as_user "$TOP" bench/routing/run.sh routing routing results.txt "$@"

SAMPLE=${ROUTING_SAMPLE:-1000}
WARM=${ROUTING_WARM:-50}
GRAB_SECS=${ROUTING_GRAB_SECONDS:-15}
GRAB_ROUNDS=${ROUTING_GRAB_ROUNDS:-2}
GRAB_CLIENTS=${ROUTING_GRAB_CLIENTS:-8}
FRESH_SECS=3
SCORE_CALLS=${ROUTING_SCORE_CALLS:-1000000}
ROUTE_CALLS=${ROUTING_ROUTE_CALLS:-1000000}
PHASES=${ROUTING_PHASES:-latency,grab,memory}
for v in ${PHASES//,/ }; do
	[[ $v =~ ^(latency|grab|memory)$ ]] || die "routing bench: ROUTING_PHASES: unknown phase '$v' (latency, grab, memory)"
done
# Is phase $1 one of ROUTING_PHASES?
phase() { [[ ",$PHASES," == *",$1,"* ]]; }
for v in "$SAMPLE" "$WARM" "$GRAB_SECS" "$GRAB_ROUNDS" "$GRAB_CLIENTS" "$SCORE_CALLS" "$ROUTE_CALLS"; do
	[[ $v =~ ^[0-9]+$ ]] || die "routing bench: expected a whole number, got '$v'"
done
[ "$SAMPLE" -ge 1 ] && [ "$GRAB_SECS" -ge 1 ] && [ "$GRAB_ROUNDS" -ge 1 ] && [ "$GRAB_CLIENTS" -ge 1 ] \
	&& [ "$SCORE_CALLS" -ge 100 ] && [ "$ROUTE_CALLS" -ge 100 ] \
	|| die "routing bench: sample, seconds, rounds, clients >= 1; memory calls >= 100"

cd "$TOP"
LOGDIR=$TOP/log
BLOG=$LOGDIR/routing
DIR=bench/routing
mkdir -p "$LOGDIR"
rm -rf "$BLOG" && mkdir -p "$BLOG"
RESULTS=$BLOG/results.txt
: >"$RESULTS"
FAILED=0
GOALS=()
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '%s\n' "$@" | tee -a "$RESULTS"; }
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql -At -F ' ' -c "$1"; }
elapsed() { echo $(($(date +%s) - $1)); }
# g / d to three decimals, 0 when d is 0
ratio() { awk -v g="$1" -v d="$2" 'BEGIN { printf "%.3f", (d > 0 ? g / d : 0) }'; }

echo "== building swarm and starting a throwaway PostgreSQL 15 cluster"
setup_install "$TOP"
trap stop_cluster EXIT
start_cluster "$TOP/bench/out/routing/data" 54332
export PGDATABASE=swarm_routing
createdb swarm_routing
serve_database swarm_routing   # the workers (event relay, escalation) serve it, as in a deployment
psql -c "CREATE EXTENSION swarm"

echo "== seeding 10,000 agents, 20 groups, 50,000 cases (bulk INSERT) and the reference tables"
t=$(date +%s)
psql -f $DIR/seed.sql >"$BLOG/seed.log" 2>&1 || { cat "$BLOG/seed.log"; die "routing bench: seeding failed"; }
psql -f $DIR/reference.sql >"$BLOG/reference.log" 2>&1 || { cat "$BLOG/reference.log"; die "routing bench: reference failed"; }
SEEDED=$(grep -o 'seeded: .*' "$BLOG/seed.log" | sed 's/ *$//')
# the reference does not model shift calendars: no agent may have one
[ "$(q "SELECT count(*) FROM swarm.agents AS a WHERE to_jsonb(a) ->> 'calendar_id' IS NOT NULL")" -eq 0 ] \
	|| die "routing bench: seeded agents have shift calendars, which the reference does not model" 
SEED_SECS=$(elapsed "$t")
echo "   $SEEDED (${SEED_SECS}s)"

LAT_SECS=0 GRAB_TIME=0 MEM_SECS=0

# ---- 1. latency and agreement ----------------------------------------------------
if phase latency; then
echo "== latency: $SAMPLE cases and $SAMPLE requests, swarm and reference alternating"
t=$(date +%s)
psql -v n="$SAMPLE" -v warm="$WARM" -f $DIR/latency.sql >"$BLOG/latency.log" 2>&1 \
	|| { cat "$BLOG/latency.log"; die "routing bench: latency run failed"; }
psql -f $DIR/latency_report.sql >"$BLOG/latency_report.txt" 2>&1 \
	|| { cat "$BLOG/latency_report.txt"; die "routing bench: latency report failed"; }
LAT_SECS=$(elapsed "$t")
fi

# ---- 2. grab_request against a bare dequeue ----------------------------------------
if phase grab; then
echo "== grab: $GRAB_ROUNDS rounds x (bare dequeue, its writes alone, swarm.grab_request), $GRAB_CLIENTS clients, ${GRAB_SECS}s each"
t=$(date +%s)
psql -f $DIR/grab_setup.sql >"$BLOG/grab_setup.log" 2>&1 || { cat "$BLOG/grab_setup.log"; die "routing bench: grab setup failed"; }
NACTIVE=$(q "SELECT max(agent_id) FROM swarm.agents WHERE active")
[ "$(q "SELECT count(*) FROM swarm.agents WHERE active AND agent_id <= $NACTIVE")" -eq "$NACTIVE" ] \
	|| die "routing bench: active agents are not 1..$NACTIVE"
QUEUE=$(q "SELECT count(*) FROM bench.queue_snap")
declare -A TPS TPS0 AV
: >"$BLOG/grab_checks.txt"
for r in $(seq 1 "$GRAB_ROUNDS"); do
	for side in dequeue writes grab; do
		tag=$side-r$r
		psql -f $DIR/grab_reset.sql >/dev/null
		mark=$(q "SELECT coalesce(max(event_id), 0) FROM swarm.events")
		psql -c "CALL bench.sample_waits('$tag', $GRAB_SECS - 1)" >/dev/null 2>&1 &
		sampler=$!
		rc=0
		av0=$(q "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relid = 'swarm.collab_requests'::regclass")
		"$BINDIR/pgbench" -n -M prepared -c "$GRAB_CLIENTS" -j "$GRAB_CLIENTS" -T "$GRAB_SECS" -P 1 \
			-D nactive="$NACTIVE" -f $DIR/$side.pgbench >"$BLOG/$tag.log" 2>&1 || rc=$?
		wait "$sampler" || true
		# autovacuum of the requests during the run: it clears the dead index
		# entries at the queue's head, so the run's TPS depends on when it came
		# (finished ones, and one still running at the end)
		AV[$tag]=$(q "SELECT s.autovacuum_count - $av0 + (SELECT count(*) FROM pg_stat_progress_vacuum AS v
		                                                   WHERE v.relid = s.relid)
		                FROM pg_stat_user_tables AS s WHERE s.relid = 'swarm.collab_requests'::regclass")
		tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$BLOG/$tag.log")
		# the first FRESH_SECS seconds: the queue's head is still clean
		TPS0[$tag]=$(awk -v n="$FRESH_SECS" '/^progress: / { t = $2 + 0; if (t <= n) { s += $4; c++ } }
			END { printf "%.1f", (c ? s / c : 0) }' "$BLOG/$tag.log")
		processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*$/\1/p' "$BLOG/$tag.log")
		failed=$(sed -n 's/^number of failed transactions: \([0-9]*\) .*$/\1/p' "$BLOG/$tag.log")
		if [ "$rc" -ne 0 ] || [ -z "$tps" ] || [ "${failed:-x}" != 0 ]; then
			tail -20 "$BLOG/$tag.log" >&2
			echo "$tag: pgbench failed (exit $rc)" >>"$BLOG/grab_checks.txt"
			FAILED=1
			TPS[$tag]=0
			continue
		fi
		TPS[$tag]=$tps
		read -r taken distinct ev ev_distinct mismatch helps_added still_open \
			<<<"$(psql -v mark="$mark" -f $DIR/grab_check.sql)"
		problems=()
		# the counts below assume that every transaction found a request
		[ "$still_open" -gt 0 ] || problems+=("the queue ran dry (seed more pull requests or shorten the runs)")
		[ "$taken" -eq "$distinct" ] || problems+=("$taken taken rows for $distinct requests")
		if [ "$side" != dequeue ]; then
			# every transaction grabbed one request (the queue never runs dry),
			# each request once, by the agent the event names, counted once
			[ "$ev" -eq "$processed" ] || problems+=("$ev grab events for $processed transactions")
			[ "$ev" -eq "$ev_distinct" ] || problems+=("$((ev - ev_distinct)) requests grabbed twice")
			[ "$taken" -eq "$ev" ] || problems+=("$taken requests taken for $ev grab events")
			[ "$mismatch" -eq 0 ] || problems+=("$mismatch grab events whose request has another helper")
			[ "$helps_added" -eq "$ev" ] || problems+=("open_helps grew by $helps_added for $ev grabs")
		else
			[ "$taken" -eq "$processed" ] || problems+=("$taken requests taken by $processed dequeues")
		fi
		# taken twice: a grab event for an already grabbed request; for the
		# dequeue, a transaction whose UPDATE hit an already taken row
		if [ "$side" != dequeue ]; then dups=$((ev - ev_distinct)); else dups=$((processed - taken)); fi
		[ ${#problems[@]} -eq 0 ] || FAILED=1
		printf '%-11s %7s transactions, %7s requests taken (%s distinct), %s still open, taken twice: %s, autovacuums of the requests: %s%s\n' \
			"$tag" "$processed" "$taken" "$distinct" "$still_open" "$dups" "${AV[$tag]}" \
			"$([ ${#problems[@]} -eq 0 ] || echo "  PROBLEM: ${problems[*]}")" >>"$BLOG/grab_checks.txt"
	done
done
GRAB_TIME=$(elapsed "$t")
fi

# ---- 3. memory over a million calls ------------------------------------------------
if phase memory; then
echo "== memory: $SCORE_CALLS x routing_score, $ROUTE_CALLS x route_case in one session (small fixture)"
t=$(date +%s)
createdb swarm_memory
PGDATABASE=swarm_memory psql -c "CREATE EXTENSION swarm"
PGDATABASE=swarm_memory psql -v score_calls="$SCORE_CALLS" -v route_calls="$ROUTE_CALLS" \
	-f $DIR/memory.sql >"$BLOG/memory.txt" 2>&1 || { cat "$BLOG/memory.txt"; die "routing bench: memory test failed"; }
MEM_SECS=$(elapsed "$t")
fi

# ---- report ------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
pgver=$(q "SHOW server_version")
settings=$(q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
              WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem',
                             'random_page_cost', 'effective_io_concurrency', 'jit', 'max_connections')")

say "" "== swarm routing benchmark" \
    "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)" \
    "server:  PostgreSQL $pgver, Unix socket, settings of scripts/lib.sh: $settings" \
    "run:     $(date -u '+%Y-%m-%d %H:%M UTC'), $(($(date +%s) - T_START))s (seed ${SEED_SECS}s, latency ${LAT_SECS}s, grab ${GRAB_TIME}s, memory ${MEM_SECS}s);" \
    "         load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)" \
    "data:    ${SEEDED#seeded: }" \
    "phases:  $PHASES" \
    ""

if phase latency; then
# latency lines: LAT kind n s50 s90 s99 r50 r90 r99 ratio ids scores reasons
say "1. latency (ms per call, one call at a time in a PL/pgSQL loop, ${SAMPLE} random ids, after $WARM warm-up calls)" \
    "$(printf '   %-16s %6s %8s %8s %8s | %8s %8s %8s | %7s | %s' function n 'swarm50' 'swarm90' 'swarm99' 'ref50' 'ref90' 'ref99' 'ref/sw' 'identical top 5 (ids / +scores / +reasons)')"
LAT_OK=1
while read -r _ kind n s50 s90 s99 r50 r90 r99 ratio ids scores reasons; do
	say "$(printf '   %-16s %6s %8s %8s %8s | %8s %8s %8s | %6sx | %s/%s / %s/%s / %s/%s' \
		"$kind" "$n" "$s50" "$s90" "$s99" "$r50" "$r90" "$r99" "$ratio" "$ids" "$n" "$scores" "$n" "$reasons" "$n")"
	met=$(awk -v r="$ratio" 'BEGIN { print (r >= 10 ? "MET" : "NOT MET") }')
	agree=$([ "$ids" -eq "$n" ] && echo "MET" || echo "NOT MET")
	[ "$ids" -eq "$n" ] && [ "$scores" -eq "$n" ] || { LAT_OK=0; FAILED=1; }
	GOALS+=("$kind: median ${ratio}x lower than the reference (goal >= 10x): $met; identical top 5 on $ids/$n: $agree")
done < <(grep '^LAT ' "$BLOG/latency_report.txt")
say "   CPU time per call (each side alone over the same sample; backend utime+stime; robust to other load):"
while read -r _ kind calls scpu rcpu ratio swall rwall; do
	say "$(printf '   %-16s %6s  swarm %7s ms CPU (%s ms wall) | ref %7s ms CPU (%s ms wall) | ref/sw %sx' \
		"$kind" "$calls" "$scpu" "$swall" "$rcpu" "$rwall" "$ratio")"
done < <(grep '^CPU ' "$BLOG/latency_report.txt")
while read -r _ kind avg lo hi; do
	say "   $kind: eligible candidates ranked per call: avg $avg (min $lo, max $hi)"
done < <(grep '^CANDS ' "$BLOG/latency_report.txt")
read -r _ _ fn f50 f90 < <(grep '^FLOOR ' "$BLOG/latency_report.txt")
r50=$(awk '$1 == "LAT" && $2 == "route_case" { print $7 }' "$BLOG/latency_report.txt")
say "   route_case floor without the routing cache: the candidate query alone (GIN scan of the eligible" \
    "     agents, count(*), no scoring): p50 $f50 ms, p90 $f90 ms; reference p50 / this floor = $(awk -v r="$r50" -v f="$f50" 'BEGIN { printf "%.1fx", (f > 0 ? r / f : 0) }')" \
    "     (the best ratio an implementation that reads its candidates from the tables on every call could reach)"
say "   the routing cache (src/agent_cache.c), swarm alone, wall ms per call (p50 / p90):"
while read -r _ kind side n p50 p90; do
	case $side in
		tables) what="swarm.routing_cache = off: candidates read from the tables" ;;
		churn) what="one random agent updated and committed before each call: one row re-read" ;;
		reload) what="first call after a relcache invalidation: everything reloaded" ;;
		*) what=$side ;;
	esac
	say "$(printf '   %-16s %5s calls %8s / %8s  %s' "$kind" "$n" "$p50" "$p90" "$what")"
done < <(grep '^CACHE ' "$BLOG/latency_report.txt")
if grep -q '^DIFF ' "$BLOG/latency_report.txt"; then
	say "   disagreements in the top 5 (first 20):"
	grep '^DIFF ' "$BLOG/latency_report.txt" | head -20 | sed 's/^/     /' | tee -a "$RESULTS"
fi
if grep -q '^REASONDIFF ' "$BLOG/latency_report.txt"; then
	say "   same agents and scores, but a component of the reasons differs (first 10):"
	grep '^REASONDIFF ' "$BLOG/latency_report.txt" | head -10 | sed 's/^REASONDIFF /     /' | tee -a "$RESULTS"
fi
say ""
fi

if phase grab; then
say "2. grab_request, $GRAB_CLIENTS clients (pgbench -n -M prepared -c $GRAB_CLIENTS -j $GRAB_CLIENTS -T $GRAB_SECS), queue of $QUEUE open requests reset before each run" \
    "   (writes: grab_request's own row writes as one bare statement, no skill match, checks or NOTIFY: the floor)" \
    "$(printf '   %-7s %12s %12s %12s %10s %8s' round 'dequeue TPS' 'writes TPS' 'grab TPS' 'writes/deq' 'grab/deq')"
# One row per round of the TPS in the associative array named $1, and a row
# of medians; sets med_wratio and med_ratio (writes/dequeue, grab/dequeue)
tps_table() {
	local -n tps=$1
	local r rows=()
	for r in $(seq 1 "$GRAB_ROUNDS"); do
		rows+=("${tps[dequeue-r$r]} ${tps[writes-r$r]} ${tps[grab-r$r]} $(ratio "${tps[writes-r$r]}" "${tps[dequeue-r$r]}") $(ratio "${tps[grab-r$r]}" "${tps[dequeue-r$r]}")")
		say "$(printf '   %-7s %12.0f %12.0f %12.0f %10s %8s' "$r" ${rows[-1]})"
	done
	med_wratio=$(printf '%.3f' "$(printf '%s\n' "${rows[@]}" | cut -d' ' -f4 | median)")
	med_ratio=$(printf '%.3f' "$(printf '%s\n' "${rows[@]}" | cut -d' ' -f5 | median)")
	say "$(printf '   %-7s %12.0f %12.0f %12.0f %10s %8s' median \
		"$(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | median)" \
		"$(printf '%s\n' "${rows[@]}" | cut -d' ' -f2 | median)" \
		"$(printf '%s\n' "${rows[@]}" | cut -d' ' -f3 | median)" "$med_wratio" "$med_ratio")"
}
tps_table TPS
whole_wratio=$med_wratio whole_ratio=$med_ratio
# the same runs' first seconds, while the queue's head is clean: the bare
# dequeue then pays no walk over the entries that earlier transactions took
say "   the first ${FRESH_SECS}s of the same runs (pgbench -P 1), before taken requests pile up at the queue's head:"
tps_table TPS0
med_fwratio=$med_wratio med_fratio=$med_ratio
med_wratio=$whole_wratio med_ratio=$whole_ratio
sed 's/^/   /' "$BLOG/grab_checks.txt" | tee -a "$RESULTS"
for side in dequeue writes grab; do
	say "   $side: wait events of the pgbench sessions (sampled every 50 ms):" \
	    "$(q "SELECT format('     %5s%%  %s', round(100.0 * count(*) / sum(count(*)) OVER (), 1), wait)
	            FROM bench.waits WHERE run LIKE '$side-r%' GROUP BY wait ORDER BY count(*) DESC, wait LIMIT 4")"
done
dups_total=$(grep -o 'taken twice: [0-9]*' "$BLOG/grab_checks.txt" | awk '{ s += $3 } END { print s + 0 }')
grab_met=$(awk -v r="$med_ratio" 'BEGIN { print (r >= 0.70 ? "MET" : "NOT MET") }')
GOALS+=("grab_request: $(awk -v r="$med_ratio" 'BEGIN { printf "%.0f%%", 100 * r }') of the bare dequeue's TPS (goal >= 70%): $grab_met (its writes alone: $(awk -v r="$med_wratio" 'BEGIN { printf "%.0f%%", 100 * r }')); in the first ${FRESH_SECS}s: $(awk -v r="$med_fratio" 'BEGIN { printf "%.0f%%", 100 * r }') (writes alone: $(awk -v r="$med_fwratio" 'BEGIN { printf "%.0f%%", 100 * r }')); requests taken twice: $dups_total (goal 0): $([ "$dups_total" -eq 0 ] && ! grep -q PROBLEM "$BLOG/grab_checks.txt" && echo MET || echo 'NOT MET')")
say ""
fi

if phase memory; then
# memory lines: MEM fn calls secs before at1% end_in_xact after peak
say "3. backend memory (sum of pg_backend_memory_contexts.total_bytes, one session; small fixture: 12 agents, 3 cases;" \
    "   before = after a warm-up of 1% of the calls; the calls run in one transaction, sampled inside it at 1% and at the end)" \
    "$(printf '   %-14s %8s %6s %10s %10s %12s %10s %10s %14s' function calls secs before 'at 1%' 'end (xact)' after peak 'growth 1%->end')"
MEM_OK=1
while read -r _ fn calls secs before at1 endx after peak; do
	growth=$((endx - at1))
	say "$(printf '   %-14s %8s %6s %10s %10s %12s %10s %10s %14s' "$fn" "$calls" "$secs" "$before" "$at1" "$endx" "$after" "$peak" "$growth")"
	# Per-call growth shows in every quarter of the calls: count the quarters
	# (samples at 1%, 25%, 50%, 75%, 100%) in which memory grew by more than
	# one 8 kB block.  PostgreSQL's own caches may grow once, by one block of
	# a long-lived context, at a call that depends on what the session did
	# before (a 1 MB block of CacheMemoryContext was seen in the first churn
	# batch); so one such step is reported and allowed, two are not.  After
	# the calls, the session keeps nothing beyond that step.
	# (steps: quarters that grew; step: the largest growth between two samples
	# from "before" on, the step the session may keep)
	read -r steps step <<<"$(awk -v fn="$fn" '$1 == "MEMSAMPLE" && $2 == fn && $3 != -2 {
			if (n++) { d = $4 - prev; if (d > max) max = d; if ($3 > 0 && m++ && d > 8192) steps++ }
			else if ($3 > 0) m++
			prev = $4 }
		END { print steps + 0, max + 0 }' "$BLOG/memory.txt")"
	[ "$steps" -eq 0 ] || say "     $fn: grew in $steps quarter(s) of the calls"
	if [ "$steps" -gt 1 ] || [ "$after" -gt $((before + step + 8192)) ]; then
		MEM_OK=0; FAILED=1
	fi
done < <(grep '^MEM ' "$BLOG/memory.txt")
GOALS+=("memory: flat (no growth that repeats over the calls, nothing kept by the session after them): $([ $MEM_OK = 1 ] && echo MET || echo 'NOT MET')")
fi
say "" "goals:"
for g in "${GOALS[@]}"; do say "   $g"; done
say ""
[ "$FAILED" -eq 0 ] || echo "routing bench: a check failed (see above and $BLOG)" >&2
exit "$FAILED"

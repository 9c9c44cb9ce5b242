#!/usr/bin/env bash
# make bench: time swarm's SQL API against a plain-SQL reference that keeps
# the same data with bare INSERT/UPDATE, in the same run on the same throwaway
# cluster, and print the ratios.  See bench/README.md.
#
# Environment:
#   BENCH_SECONDS  length of each timed pgbench run (default 10)
#   BENCH_ROUNDS   rounds; each round runs every client count on both sides,
#                  and the report gives medians over the rounds (default 3)
#   BENCH_CLIENTS  client counts, space separated (default "1 8")
#   BENCH_WARMUP   seconds of untimed warm-up per side before the rounds (default 3; 0: none)
#   BENCH_AGENTS   agents seeded (default 200); BENCH_GROUPS specialty groups (default 5)
#   BENCH_PROTOCOL pgbench query protocol: prepared, extended or simple (default prepared)
#   BENCH_WAITS    1 (default): sample the sessions' wait events during each run; 0: don't
#   BENCH_PROFILE  seconds of an extra, untimed 1-client swarm run with track_functions = all,
#                  to list where the API spends its time (default 5; 0: none)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1

bench_as_user "$TOP" bench/run.sh bench-lifecycle lifecycle results.txt "$@"

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-1 8}
WARMUP=${BENCH_WARMUP:-3}
NAGENTS=${BENCH_AGENTS:-200}
NGROUPS=${BENCH_GROUPS:-5}
PROTOCOL=${BENCH_PROTOCOL:-prepared}
WAITS=${BENCH_WAITS:-1}
PROFILE=${BENCH_PROFILE:-5}
for v in "$DURATION" "$ROUNDS" "$WARMUP" "$NAGENTS" "$NGROUPS" "$PROFILE" $CLIENTS; do
	[[ $v =~ ^[0-9]+$ ]] || die "bench: expected a whole number, got '$v'"
done
[ -n "${CLIENTS// /}" ] && [ "$DURATION" -gt 0 ] && [ "$ROUNDS" -gt 0 ] && [ "$NAGENTS" -ge 2 ] && [ "$NGROUPS" -ge 1 ] \
	|| die "bench: need BENCH_CLIENTS, BENCH_SECONDS > 0, BENCH_ROUNDS > 0, BENCH_AGENTS >= 2, BENCH_GROUPS >= 1"
case $PROTOCOL in prepared|extended|simple) ;; *) die "bench: BENCH_PROTOCOL is prepared, extended or simple" ;; esac

cd "$TOP"
LOGDIR=$TOP/log
BLOG=$LOGDIR/bench-lifecycle
OUT=$TOP/bench/out/lifecycle
mkdir -p "$LOGDIR"
rm -rf "$BLOG" && mkdir -p "$BLOG" "$OUT"
RESULTS=$BLOG/results.txt
: >"$RESULTS"
: >"$BLOG/checks.txt"

# say: print lines on stdout and into the results file
say() { printf '%s\n' "$@" | tee -a "$RESULTS"; }

echo "== building swarm and starting a throwaway PostgreSQL 15 cluster"
setup_install "$TOP"
trap 'stop_cluster; rm -rf "$OUT/data"' EXIT
start_cluster "$OUT/data" 54331
export PGDATABASE=swarm_bench
createdb swarm_bench
serve_database swarm_bench   # the workers (event relay, escalation) serve it, as in a deployment
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql -At -F ' ' -c "$1"; }

echo "== seeding $NAGENTS agents and $NGROUPS groups through the swarm API; creating the reference tables"
psql -c "CREATE EXTENSION swarm"
psql -v agents="$NAGENTS" -v groups="$NGROUPS" -f bench/lifecycle/setup.sql >"$BLOG/setup.log" 2>&1 \
	|| { cat "$BLOG/setup.log"; die "bench: setup failed"; }
read -r AGENT_LO AGENT_HI <<<"$(q "SELECT min(agent_id), max(agent_id) FROM swarm.agents WHERE external_ref LIKE 'bench-agent-%'")"
[ $((AGENT_HI - AGENT_LO + 1)) -eq "$NAGENTS" ] || die "bench: seeded agent ids are not contiguous"
[ "$(q "SELECT count(*) FROM swarm.skill_groups WHERE name <> 'bench-group-' || group_id")" = 0 ] \
	|| die "bench: group ids do not match the group names"
# the reference decays experience credits itself, with the server's half-life (seconds)
HALF_LIFE=$(q "SELECT setting FROM pg_settings WHERE name = 'swarm.experience_half_life'")
[[ $HALF_LIFE =~ ^[0-9]+$ ]] || die "bench: cannot read swarm.experience_half_life"

AGREE=ok
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A TPS WRITES

# snapshot TAG PHASE SCHEMA: record the schema's row counters
snapshot() {
	q "INSERT INTO bench.tabstats SELECT '$1', '$2', relname, n_tup_ins, n_tup_upd, n_tup_del
	     FROM pg_stat_user_tables WHERE schemaname = '$3'"
}

# run_one SIDE CLIENTS SECONDS TAG: one pgbench run of side swarm or ref,
# output in $BLOG/TAG.log; sets TPS[TAG] and checks what the run wrote (a
# failed run or any mismatch sets AGREE=failed).
run_one() {
	local side=$1 clients=$2 secs=$3 tag=$4 schema script lo log rc=0 sampler=
	if [ "$side" = swarm ]; then schema=swarm; else schema=bench_ref; fi
	script=bench/lifecycle/$side.pgbench
	log=$BLOG/$tag.log
	TPS[$tag]=0
	lo=$(q "SELECT coalesce(max(case_id), 0) FROM $schema.cases")
	psql -c "VACUUM ANALYZE" -c "CHECKPOINT"
	snapshot "$tag" before "$schema"
	if [ "$WAITS" = 1 ]; then
		psql -c "CALL bench.sample_waits('$tag', $secs)" >/dev/null 2>&1 &
		sampler=$!
	fi
	"$BINDIR/pgbench" -n -M "$PROTOCOL" -r -c "$clients" -j "$clients" -T "$secs" \
		-D agent_lo="$AGENT_LO" -D agent_hi="$AGENT_HI" -D ngroups="$NGROUPS" -D half_life="$HALF_LIFE" \
		-f "$script" >"$log" 2>&1 || rc=$?
	if [ -n "$sampler" ]; then wait "$sampler" || true; fi
	# the sessions report their row counters as they exit: wait for them
	local i
	for i in $(seq 1 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" = 0 ] && break
		sleep 0.1
	done
	snapshot "$tag" after "$schema"

	local tps processed failed
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$log")
	processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*$/\1/p' "$log")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\) .*$/\1/p' "$log")
	if [ "$rc" -ne 0 ] || [ -z "$tps" ] || [ -z "$processed" ] || [ "${failed:-x}" != 0 ]; then
		echo "bench: pgbench $tag failed (exit $rc, failed transactions: ${failed:-?}):" >&2
		grep -v '^ \{3,\}[0-9]' "$log" | tail -20 >&2
		echo "$tag: pgbench failed (exit $rc)" >>"$BLOG/checks.txt"
		AGREE=failed
		return
	fi
	TPS[$tag]=$tps
	# row writes per lifecycle, by table: "table inserts/updates/deletes, ..."
	WRITES[$tag]=$(q "SELECT string_agg(format('%s %s/%s/%s', a.relname,
	                      trim_scale(round((a.ins - b.ins)::numeric / $processed, 2)),
	                      trim_scale(round((a.upd - b.upd)::numeric / $processed, 2)),
	                      trim_scale(round((a.del - b.del)::numeric / $processed, 2))), ', ' ORDER BY a.relname)
	                    FROM bench.tabstats AS a JOIN bench.tabstats AS b USING (run, relname)
	                   WHERE a.run = '$tag' AND a.phase = 'after' AND b.phase = 'before'
	                     AND (a.ins, a.upd, a.del) <> (b.ins, b.upd, b.del)")

	local counts cases resolved requests req_resolved one_request participants events busy kinds
	counts=$(psql -At -F ' ' -v schema="$schema" -v lo="$lo" -f bench/lifecycle/check.sql) \
		|| { echo "bench: cannot check $tag" >&2; AGREE=failed; return; }
	read -r cases resolved requests req_resolved one_request participants events busy kinds <<<"$counts"
	local want_kinds=case_opened,case_assigned,help_requested,request_accepted,request_resolved,case_resolved
	local problems=()
	[ "$cases" -eq "$processed" ] || problems+=("$cases cases for $processed lifecycles;")
	[ "$resolved" -eq "$cases" ] || problems+=("$resolved of $cases cases resolved;")
	{ [ "$requests" -eq "$cases" ] && [ "$one_request" -eq "$cases" ]; } \
		|| problems+=("$requests requests on $one_request cases for $cases cases;")
	[ "$req_resolved" -eq "$requests" ] || problems+=("$req_resolved of $requests requests resolved by a helper other than the owner;")
	[ "$participants" -eq $((2 * cases)) ] || problems+=("$participants participants for $cases cases (want 2 each);")
	[ "$events" -eq $((6 * cases)) ] || problems+=("$events events for $cases cases (want 6 each);")
	[ "$busy" -eq 0 ] || problems+=("$busy agents with open_cases/open_helps not back to 0;")
	[ "$cases" -eq 0 ] || [ "$kinds" = "$want_kinds" ] || problems+=("event kinds $kinds;")
	[ "$cases" -gt 0 ] || problems+=("no lifecycle completed;")
	if [ ${#problems[@]} -ne 0 ]; then
		AGREE=failed
		echo "bench: $tag disagrees: ${problems[*]}" >&2
	fi
	printf '%-16s %7s lifecycles: %7s cases resolved, %7s requests resolved, %7s participants, %8s events, %s busy agents, %s failed transactions%s\n' \
		"$tag" "$processed" "$resolved" "$req_resolved" "$participants" "$events" "$busy" "$failed" \
		"$([ ${#problems[@]} -eq 0 ] || echo "  DISAGREES: ${problems[*]}")" >>"$BLOG/checks.txt"
}

# latencies TAG-PREFIX: per-statement latencies (pgbench -r) averaged over the rounds
latencies() {
	local f
	for f in "$BLOG/$1"-r*.log; do
		sed -n '/^statement latencies/,$p' "$f" | grep -E '^ +[0-9.]+ +[0-9]+ +[A-Z]' | cat -n
	done | awk '{ n = $1; sum[n] += $2; cnt[n]++; if (!(n in text)) { $1 = $2 = $3 = ""; sub(/^ +/, ""); text[n] = substr($0, 1, 88) } if (n > max) max = n }
	            END { for (i = 1; i <= max; i++) printf "  %8.3f ms  %s\n", sum[i] / cnt[i], text[i] }'
}

# top_waits TAG-PREFIX: the most frequent wait events sampled during the rounds
top_waits() {
	q "SELECT format('  %5s%%  %s', round(100.0 * count(*) / sum(count(*)) OVER (), 1), wait)
	     FROM bench.waits WHERE run LIKE '$1-r%' GROUP BY wait ORDER BY count(*) DESC, wait LIMIT 5"
}

if [ "$WARMUP" -gt 0 ]; then
	echo "== warm-up: ${WARMUP}s per side"
	run_one swarm 1 "$WARMUP" warmup-swarm
	run_one ref 1 "$WARMUP" warmup-ref
fi

for r in $(seq 1 "$ROUNDS"); do
	for c in $CLIENTS; do
		echo "== round $r of $ROUNDS: lifecycle, $c client(s), ${DURATION}s per side"
		run_one swarm "$c" "$DURATION" "swarm-c$c-r$r"
		run_one ref "$c" "$DURATION" "ref-c$c-r$r"
	done
done

# Profile: where the API's time goes, by function, in a separate run so that
# the timing overhead of track_functions does not touch the figures above.
if [ "$PROFILE" -gt 0 ]; then
	echo "== profile: swarm, 1 client, ${PROFILE}s, track_functions = all"
	psql -c "ALTER DATABASE swarm_bench SET track_functions = 'all'" -c "SELECT pg_stat_reset()" >/dev/null
	run_one swarm 1 "$PROFILE" profile-swarm
	PROFILED=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*$/\1/p' "$BLOG/profile-swarm.log")
	psql -c "ALTER DATABASE swarm_bench RESET track_functions" >/dev/null
fi

# The two sides must write to the same tables: when the API starts keeping
# data in another table, the reference has to follow.  (How many times each
# row is written may differ: the report shows it.)
tables_of() { tr ',' '\n' <<<"${WRITES[$1]:-}" | awk 'NF { print $1 }' | sort | tr '\n' ' '; }
same_writes() {
	if [ -z "${WRITES[$1]:-}" ] || [ -z "${WRITES[$2]:-}" ]; then
		return      # a failed run, reported already
	fi
	if [ "$(tables_of "$1")" != "$(tables_of "$2")" ]; then
		AGREE=failed
		echo "bench: $1 and $2 do not write the same tables; bench/lifecycle/ref.pgbench must follow the API:" >&2
		echo "  $1: ${WRITES[$1]}" >&2
		echo "  $2: ${WRITES[$2]}" >&2
		echo "$1 / $2: NOT THE SAME TABLES: ${WRITES[$1]} / ${WRITES[$2]}" >>"$BLOG/checks.txt"
	fi
}
[ "$WARMUP" -gt 0 ] && same_writes warmup-swarm warmup-ref
for r in $(seq 1 "$ROUNDS"); do
	for c in $CLIENTS; do
		same_writes "swarm-c$c-r$r" "ref-c$c-r$r"
	done
done

# ---- report ------------------------------------------------------------------

# round trips per lifecycle, counted in the scripts: swarm's calls; the
# reference's writes and its BEGIN/COMMIT pairs
SW_CALLS=$(grep -c '^SELECT' bench/lifecycle/swarm.pgbench)
REF_WRITES=$(grep -cE '^(INSERT|UPDATE)' bench/lifecycle/ref.pgbench)
REF_TX=$(grep -c '^BEGIN' bench/lifecycle/ref.pgbench)
REF_RT=$((REF_WRITES + 2 * REF_TX))

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
pgver=$(q "SHOW server_version")
settings=$(q "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
              WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_level')")

say "" \
    "== swarm benchmark: lifecycle throughput" \
    "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)" \
    "server:  PostgreSQL $pgver, Unix socket; $settings (shared_buffers in 8kB pages)" \
    "run:     $(date -u '+%Y-%m-%d %H:%M UTC'); $ROUNDS rounds x ${DURATION}s per side and client count, interleaved;" \
    "         pgbench -n -M $PROTOCOL -r, -j = -c; $NAGENTS agents, $NGROUPS groups;" \
    "         load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)" \
    "" \
    "one lifecycle = open case, assign, request help, accept (another agent), resolve request, resolve case" \
    "  swarm:     $SW_CALLS API calls = $SW_CALLS autocommit transactions, $SW_CALLS round trips (TPS = lifecycles/s)" \
    "  reference: $REF_WRITES bare INSERT/UPDATE in $REF_TX BEGIN/COMMIT transactions, $REF_RT round trips (the same data)" \
    "" \
    "$(printf '%-8s %11s %11s %16s   %s' clients 'swarm TPS' 'ref TPS' 'swarm/reference' 'ratio per round')"
for c in $CLIENTS; do
	ratios=()
	for r in $(seq 1 "$ROUNDS"); do
		ratios+=("$(awk -v s="${TPS[swarm-c$c-r$r]}" -v f="${TPS[ref-c$c-r$r]}" 'BEGIN { printf "%.2f", (f > 0 ? s / f : 0) }')")
	done
	s=$(for r in $(seq 1 "$ROUNDS"); do echo "${TPS[swarm-c$c-r$r]}"; done | median)
	f=$(for r in $(seq 1 "$ROUNDS"); do echo "${TPS[ref-c$c-r$r]}"; done | median)
	m=$(printf '%s\n' "${ratios[@]}" | median)
	say "$(printf '%-8s %11.1f %11.1f %16.2f   %s' "$c" "$s" "$f" "$m" "${ratios[*]}")"
done
say "(TPS: median over the rounds; swarm/reference: median of the per-round ratios)"

first=${CLIENTS%% *}
say "" "row writes per lifecycle, by table (pg_stat_user_tables; inserts/updates/deletes; round 1, $first client(s)):" \
    "$(printf '  %-18s %-13s %-13s' table swarm reference)" \
    "$(join -a1 -a2 -e - -o 0,1.2,2.2 \
         <(tr ',' '\n' <<<"${WRITES[swarm-c$first-r1]:-}" | sed 's/^ *//' | grep . | sort) \
         <(tr ',' '\n' <<<"${WRITES[ref-c$first-r1]:-}" | sed 's/^ *//' | grep . | sort) \
       | awk 'NF { printf "  %-18s %-13s %-13s%s\n", $1, $2, $3, ($2 == $3 ? "" : "  differs") }')" \
    "  (inserts on upserts depend on whether the row existed: experience credits are upserted)"
say "" "per-call latency, swarm, mean over the rounds (pgbench -r):"
for c in $CLIENTS; do
	say "  $c client(s):" "$(latencies "swarm-c$c")"
done
say "" "per-statement latency, reference, $first client(s), mean over the rounds (pgbench -r):" \
    "$(latencies "ref-c$first")" \
    "$(latencies "ref-c$first" | awk '{ all += $1 } /ms  (BEGIN|COMMIT)/ { bc += $1 }
	END { printf "  BEGIN and COMMIT (%d of the %d round trips): %.3f ms of %.3f ms per lifecycle", 2 * tx, rt, bc, all }' tx="$REF_TX" rt="$REF_RT")"
# A BEGIN does no work on the server, so its latency is one round trip:
# take it away from both sides' latencies to estimate the server's work.
say "" "estimated server time per lifecycle, $first client(s): latency minus round trips (1 round trip = mean BEGIN latency):" \
    "$( { latencies "swarm-c$first"; echo "--"; latencies "ref-c$first"; } | awk -v n_sw="$SW_CALLS" -v n_ref="$REF_RT" '
	BEGIN { side = 0 } /^--$/ { side = 1; next }
	{ all[side] += $1 } side == 1 && /ms  BEGIN/ { rt += $1; nb++ }
	END { rt = rt / nb; s = all[0] - n_sw * rt; r = all[1] - n_ref * rt
	      printf "  round trip %.3f ms; swarm %.3f - %d x %.3f = %.3f ms; reference %.3f - %d x %.3f = %.3f ms; swarm/reference time %.2f",
	             rt, all[0], n_sw, rt, s, all[1], n_ref, rt, r, s / r }')"
if [ "$WAITS" = 1 ]; then
	say "" "what the pgbench sessions were doing while active (sampled every 50 ms):"
	for c in $CLIENTS; do
		for side in swarm ref; do
			say "  $side, $c client(s):" "$(top_waits "$side-c$c")"
		done
	done
fi
if [ "$PROFILE" -gt 0 ] && [ "${PROFILED:-0}" -gt 0 ]; then
	say "" "where the API spends its time, per lifecycle (separate ${PROFILE}s run, 1 client, track_functions = all," \
	    "which itself adds overhead; self = in the function itself, total = with what it calls;" \
	    "built-in functions such as pg_notify are not tracked and count in their caller's self time):" \
	    "$(printf '  %8s %9s %10s  %s' calls 'self ms' 'total ms' function)" \
	    "$(q "SELECT format('  %8s %9s %10s  %s', round(calls::numeric / $PROFILED, 2), round((self_time / $PROFILED)::numeric, 3),
	                        round((total_time / $PROFILED)::numeric, 3), schemaname || '.' || funcname)
	          FROM pg_stat_user_functions WHERE schemaname = 'swarm' ORDER BY self_time DESC LIMIT 15")"
	calls=$(grep -o 'swarm\.[a-z_]*(' bench/lifecycle/swarm.pgbench | sed "s/^swarm\.\(.*\)(/'\1'/" | paste -sd,)
	say "$(q "SELECT format('  the %s API calls themselves: %s ms per lifecycle (total); the lifecycle''s latency in that run: %s ms',
	                        count(*), round((sum(total_time) / $PROFILED)::numeric, 3),
	                        '$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$BLOG/profile-swarm.log")')
	          FROM pg_stat_user_functions WHERE schemaname = 'swarm' AND funcname IN ($calls)")" \
	    "  (the rest: round trips, parsing the calls, commits with their NOTIFY, and track_functions itself)"
fi
say "" "checks (every run, warm-up included; want per lifecycle: 1 case and 1 request resolved, 2 participants, 6 events; 0 busy agents):" \
    "$(sed 's/^/  /' "$BLOG/checks.txt")" \
    "agreement: $AGREE"
cp "$RESULTS" "$OUT/results.txt"
[ "$AGREE" = ok ]

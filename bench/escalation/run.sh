#!/usr/bin/env bash
# bench/escalation/run.sh: the escalation worker under load (see RESULTS.md).
#
#   lag    N_OPEN open requests, N_DUE of them becoming due at random moments
#          over DUE_WINDOW seconds: lag (escalated_at - due_at) p50/p99/max
#   burst  N_BURST requests due at the same instant: time until all are
#          escalated and escalations/second; then (PROFILE=1) N_PROFILE more
#          with pg_stat_statements tracking every statement the sweep runs
#   latch  naptime 60 s: lag of requests made through the API (woken at
#          commit) against requests made due without a wake-up
#   locked one due request whose row another transaction holds locked for
#          LOCK_SECONDS: what the worker does meanwhile (CPU, sweeps)
#   soak   SOAK_MINUTES of a steady trickle of API requests (SOAK_RATE per
#          second, 3 escalation levels each): the worker's RSS every
#          SAMPLE_SECONDS seconds
#
# Environment (defaults in brackets):
#   PHASES [lag burst latch locked soak]  which phases, in that order
#   N_OPEN [1000000] N_DUE [10000] DUE_WINDOW [60] LAG_ROUNDS [3] N_BURST [100000]
#   PROFILE [1] N_PROFILE [20000]
#   LOCK_SECONDS [10]
#   SOAK_MINUTES [30] SOAK_RATE [5] SAMPLE_SECONDS [30]
#   BATCH [1000]  swarm.escalation_batch_size
#   BURST_WORKERS [1 2]  one burst per number of workers (the preloaded one + swarm.start_escalator())
#   ESC_PORT [54334]  port of the throwaway cluster (another one lets two runs go side by side)
#   ESC_TAG []  suffix of the results file, bench/out/escalation/results[-TAG].txt
#
# Run as root from the top of the tree: bash bench/escalation/run.sh
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1

RESULT_NAME=results${ESC_TAG:+-$ESC_TAG}.txt
bench_as_user "$TOP" bench/escalation/run.sh escalation escalation "$RESULT_NAME" "$@"

PHASES=${PHASES:-lag burst latch locked soak}
N_OPEN=${N_OPEN:-1000000}
N_DUE=${N_DUE:-10000}
LAG_ROUNDS=${LAG_ROUNDS:-3}
DUE_WINDOW=${DUE_WINDOW:-60}
N_BURST=${N_BURST:-100000}
PROFILE=${PROFILE:-1}
export -n PROFILE		# PGXS passes an exported PROFILE to the compiler
N_PROFILE=${N_PROFILE:-20000}
LOCK_SECONDS=${LOCK_SECONDS:-10}
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_RATE=${SOAK_RATE:-5}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-30}
BATCH=${BATCH:-1000}
BURST_WORKERS=${BURST_WORKERS:-1 2}
declare -A BURST_RANGE
PORT=${ESC_PORT:-54334}
for v in "$N_OPEN" "$N_DUE" "$LAG_ROUNDS" "$DUE_WINDOW" "$N_BURST" "$PROFILE" "$N_PROFILE" "$SOAK_MINUTES" "$SOAK_RATE" \
	"$SAMPLE_SECONDS" "$BATCH" "$PORT" "$LOCK_SECONDS" $BURST_WORKERS; do
	[[ $v =~ ^[0-9]+$ ]] || die "escalation bench: expected a whole number, got '$v'"
done
# the locked phase samples the worker for LOCK_SECONDS - 4 seconds of the lock
[ "$LOCK_SECONDS" -ge 5 ] || die "escalation bench: LOCK_SECONDS must be at least 5, got $LOCK_SECONDS"
for p in $PHASES; do
	case $p in lag|burst|latch|locked|soak) ;; *) die "escalation bench: unknown phase '$p' (lag burst latch locked soak)" ;; esac
done
has() { [[ " $PHASES " == *" $1 "* ]]; }
has lag || LAG_ROUNDS=0
[ $((N_DUE * LAG_ROUNDS)) -gt "$N_OPEN" ] && die "escalation bench: N_DUE * LAG_ROUNDS must not exceed N_OPEN"

cd "$TOP"
LOGDIR=$TOP/log
ELOG=$LOGDIR/escalation
mkdir -p "$ELOG"
RESULTS=$ELOG/$RESULT_NAME
: >"$RESULTS"

say() { printf '%s\n' "$@" | tee -a "$RESULTS"; }
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql -At -F ' ' -c "$1"; }
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

echo "== building swarm and starting a throwaway PostgreSQL 15 cluster (port $PORT)"
setup_install "$TOP"
trap stop_cluster EXIT
start_cluster "$TOP/bench/out/escalation/data" "$PORT"
export PGDATABASE=postgres		# the database the escalation worker works in (swarm.database_name)

# Bench settings on top of scripts/lib.sh's (fsync off, synchronous_commit off ...).
q "ALTER SYSTEM SET swarm.escalation_naptime = '1s'"
q "ALTER SYSTEM SET swarm.escalation_batch_size = $BATCH"
q "ALTER SYSTEM SET shared_preload_libraries = swarm, pg_stat_statements"
q "ALTER SYSTEM SET shared_buffers = '1GB'"
q "ALTER SYSTEM SET max_wal_size = '8GB'"
q "ALTER SYSTEM SET log_min_messages = 'log'"
"$BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$LOGDIR/postmaster.log" -w -t 120 restart >/dev/null \
	|| { tail -50 "$LOGDIR/postmaster.log"; die "could not restart the cluster"; }

# 'top': the worker's own statements (each sweep runs a few through SPI) are counted and timed, cheaply
q "ALTER SYSTEM SET pg_stat_statements.track = 'top'" && q "SELECT pg_reload_conf()" >/dev/null
psql -c "CREATE EXTENSION swarm" -c "CREATE EXTENSION pg_stat_statements"
psql -f bench/escalation/setup.sql >"$ELOG/setup.log" 2>&1 || { cat "$ELOG/setup.log"; die "escalation bench: setup failed"; }
read -r AGENT_LO AGENT_HI <<<"$(q "SELECT min(agent_id), max(agent_id) FROM swarm.agents WHERE external_ref LIKE 'esc-agent-%'")"

# The worker's pid, once it is up (it starts with the server).
worker_pid() { q "SELECT pid FROM swarm.escalator_status WHERE database = 'postgres' AND NOT dynamic"; }
WPID=
for _ in $(seq 1 100); do
	WPID=$(worker_pid)
	[ -n "$WPID" ] && break
	sleep 0.1
done
[ -n "$WPID" ] || die "escalation bench: the escalation worker is not running"
# CPU time (ms) the worker used so far: utime + stime from /proc/<pid>/stat.
TICK_MS=$((1000 / $(getconf CLK_TCK)))
# Time (ms) the worker spent runnable but waiting for a CPU, from /proc/<pid>/schedstat.
worker_wait_ms() { awk '{ print int($2 / 1000000) }' "/proc/$WPID/schedstat"; }
LAG_SUMMARY=()
# The statements the escalation worker ran since the last pg_stat_statements_reset(): one line each.
sweep_statements() {
	q "SELECT format('   %s calls, mean %s ms, total %s ms: %s', calls, round(mean_exec_time::numeric, 2), round(total_exec_time::numeric),
	                 left(regexp_replace(query, '\s+', ' ', 'g'), 120))
	     FROM pg_stat_statements
	    WHERE query LIKE 'SELECT extowner FROM pg_catalog.pg_extension%' OR query LIKE 'SELECT swarm.escalate_due(%'
	       OR query LIKE '%FROM swarm.escalations WHERE escalated_at >= statement_timestamp()%'
	       OR query LIKE '%FROM swarm.collab_requests WHERE state IN (%'
	    ORDER BY total_exec_time DESC"
}
worker_cpu_ms() { awk -v t="$TICK_MS" '{ print ($14 + $15) * t }' "/proc/$WPID/stat"; }
# Busy CPU time (ms) of the whole machine so far, from /proc/stat (every process, ours or not).
machine_busy_ms() { awk -v t="$TICK_MS" '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) * t }' /proc/stat; }
# "machine busy X% of N cores, the worker Y%" between two readings and a duration
busy_line() {
	awk -v m=$(( $(machine_busy_ms) - $1 )) -v w=$(( $(worker_cpu_ms) - $2 )) -v s="$(since "$3")" -v n="$(nproc)" \
		'BEGIN { printf "machine CPU busy %.0f%% of %d cores over %.0f s (all processes, other sessions included); the worker %.0f%% of one core", 100 * m / (s * 1000 * n), n, s, 100 * w / (s * 1000) }'
}
status_line() { q "SELECT format('worker: pid %s, %s, %s escalations, last lag %s ms, next wake-up in %s s', pid, state,
                        escalations, round(last_lag_ms::numeric, 1),
                        CASE WHEN isfinite(next_wakeup) THEN round(extract(epoch FROM next_wakeup - clock_timestamp())::numeric, 2)::text
	                             ELSE next_wakeup::text END)
                   FROM swarm.escalator_status WHERE pid = $WPID"; }

# Wait until the requests lo..hi all have a level 1 escalation; prints the seconds waited.
wait_escalated() {
	local lo=$1 hi=$2 timeout=$3 t0 n
	t0=$(now_s)
	while :; do
		n=$(q "SELECT bench.escalated($lo, $hi)")
		[ "$n" -ge $((hi - lo + 1)) ] && break
		if awk -v a="$t0" -v b="$(now_s)" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
			say "TIMEOUT: only $n of $((hi - lo + 1)) escalated after ${timeout}s"
			status_line | tee -a "$RESULTS"
			return 1
		fi
		sleep 0.2
	done
}

say "# swarm escalation benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
say "server: $(q 'SELECT version()' | cut -d, -f1)"
say "settings: $(q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
                  WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'full_page_writes', 'max_wal_size',
                                 'swarm.escalation_naptime', 'swarm.escalation_batch_size', 'swarm.database_name')")"
say "phases: $PHASES; worker pid $WPID"

SEED_DONE=0
if has lag || has burst; then
	say "" "== seed: $N_OPEN open requests ($((N_OPEN - N_DUE * LAG_ROUNDS)) due in 22.5 days, $LAG_ROUNDS x $N_DUE to be made due)$(has burst && echo ", + $N_BURST for each burst ($(echo $BURST_WORKERS | wc -w))")$(has burst && [ "$PROFILE" -eq 1 ] && echo " + $N_PROFILE for the profile"), bulk INSERT"
	t0=$(now_s)
	read -r FAR_LO FAR_HI <<<"$(q "SELECT * FROM bench.add_requests($((N_OPEN - N_DUE * LAG_ROUNDS)), 'P4')")"
	declare -A DUE_RANGE
	for r in $(seq 1 "$LAG_ROUNDS"); do
		read -r lo hi <<<"$(q "SELECT * FROM bench.add_requests($N_DUE, 'P3')")"
		DUE_RANGE[$r]="$lo $hi"
	done
	[ "$LAG_ROUNDS" -gt 0 ] || read -r lo hi <<<"$(q "SELECT * FROM bench.add_requests(200, 'P3')")"
	CHECK_LO=$lo; CHECK_HI=$hi
	if has burst; then
		for w in $BURST_WORKERS; do
			read -r lo hi <<<"$(q "SELECT * FROM bench.add_requests($N_BURST, 'P3')")"
			BURST_RANGE[$w]="$lo $hi"
		done
		if [ "$PROFILE" -eq 1 ]; then
			read -r PROF_LO PROF_HI <<<"$(q "SELECT * FROM bench.add_requests($N_PROFILE, 'P3')")"
		fi
	fi
	t_ins=$(since "$t0")
	t0=$(now_s)
	psql -c "VACUUM ANALYZE swarm.cases" -c "VACUUM ANALYZE swarm.collab_requests" -c "VACUUM ANALYZE swarm.participants" -c "CHECKPOINT"
	say "inserted in ${t_ins}s, VACUUM ANALYZE + CHECKPOINT $(since "$t0")s; $(q "SELECT format('%s cases, %s requests open (%s of them at level 0 with a next escalation), collab_requests %s, its indexes %s',
	        (SELECT count(*) FROM swarm.cases WHERE state = 'open'),
	        (SELECT count(*) FROM swarm.collab_requests WHERE state = 'open'),
	        (SELECT count(*) FROM swarm.collab_requests WHERE state = 'open' AND next_escalation_at IS NOT NULL),
	        pg_size_pretty(pg_table_size('swarm.collab_requests')), pg_size_pretty(pg_indexes_size('swarm.collab_requests')))")"
	# the seeded rows are what the API would have computed (sla_refresh_request on a sample, rolled back)
	bad_far=$(q "SELECT bench.check_consistent($FAR_LO, $FAR_HI, 200)")
	bad_due=$(psql -At -c "BEGIN" -c "SELECT bench.make_due($CHECK_LO, $CHECK_HI, now() + interval '1 hour', interval '1 minute', false)" \
		-c "SELECT bench.check_consistent($CHECK_LO, $CHECK_HI, 200)" -c "ROLLBACK" | tail -1)
	say "consistency: rows that differ from what swarm.sla_refresh_request computes: $bad_far of 200 far, $bad_due of 200 made due"
	[ "$bad_far" = 0 ] && [ "$bad_due" = 0 ] || die "escalation bench: the seed is not what the API would have written"
	SEED_DONE=1
fi

for round in $(seq 1 "$LAG_ROUNDS"); do
	read -r DUE_LO DUE_HI <<<"${DUE_RANGE[$round]}"
	say "" "== lag, round $round of $LAG_ROUNDS: $N_DUE of $N_OPEN open requests become due at random moments over ${DUE_WINDOW}s (naptime 1s, batch $BATCH)"
	sleep 2
	c0=$(worker_cpu_ms); w0=$(worker_wait_ms); m0=$(machine_busy_ms); x0=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
	q "SELECT pg_stat_statements_reset()" >/dev/null
	t0=$(now_s)
	FIRST=$(q "SELECT bench.make_due($DUE_LO, $DUE_HI, clock_timestamp() + interval '3 seconds', interval '$DUE_WINDOW seconds')")
	wait_escalated "$DUE_LO" "$DUE_HI" $((DUE_WINDOW + 300)) || die "escalation bench: lag phase timed out"
	c1=$(worker_cpu_ms)
	say "all $N_DUE escalated $(since "$t0")s after the due times were set (first due 3 s after, last $((DUE_WINDOW + 3)) s after)"
	say "$(q "SELECT format('lag escalated_at - due_at: p50 %s ms, p99 %s ms, max %s ms, min %s ms (n = %s)', p50_ms, p99_ms, max_ms, min_ms, n)
	           FROM bench.lag($DUE_LO, $DUE_HI, '{1}')")"
	say "$(q "SELECT format('  without the ones due in the first 2 s: p50 %s ms, p99 %s ms, max %s ms (n = %s)',
	                  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
	                  round(max(ms)::numeric, 1), count(*))
	           FROM (SELECT extract(epoch FROM escalated_at - due_at) * 1000 AS ms FROM swarm.escalations
	                  WHERE request_id BETWEEN $DUE_LO AND $DUE_HI AND level = 1 AND due_at >= '$FIRST'::timestamptz + interval '1 second') AS e")"
	say "$(q "SELECT format('  lag histogram: %s', string_agg(format('%s: %s', b, n), ', ' ORDER BY o))
	           FROM (SELECT CASE WHEN ms < 10 THEN '<10ms' WHEN ms < 50 THEN '10-50ms' WHEN ms < 100 THEN '50-100ms'
	                             WHEN ms < 250 THEN '100-250ms' WHEN ms < 500 THEN '250-500ms' WHEN ms < 1000 THEN '0.5-1s' ELSE '>=1s' END AS b,
	                        min(ms) AS o, count(*) AS n
	                   FROM (SELECT extract(epoch FROM escalated_at - due_at) * 1000 AS ms FROM swarm.escalations
	                          WHERE request_id BETWEEN $DUE_LO AND $DUE_HI AND level = 1) AS e GROUP BY 1) AS h")"
	say "$(q "SELECT format('  p99 per 10 s of due times: %s', string_agg(p99::text || ' ms', ', ' ORDER BY b))
	           FROM (SELECT floor(extract(epoch FROM due_at - '$FIRST'::timestamptz) / 10) AS b,
	                        round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM escalated_at - due_at) * 1000)::numeric, 1) AS p99
	                   FROM swarm.escalations WHERE request_id BETWEEN $DUE_LO AND $DUE_HI AND level = 1 GROUP BY 1) AS t")"
	say "$(q "SELECT format('  lags >= 50 ms: %s, in %s distinct seconds of escalated_at', count(*) FILTER (WHERE ms >= 50),
	                  count(DISTINCT date_trunc('second', escalated_at)) FILTER (WHERE ms >= 50))
	           FROM (SELECT escalated_at, extract(epoch FROM escalated_at - due_at) * 1000 AS ms FROM swarm.escalations
	                  WHERE request_id BETWEEN $DUE_LO AND $DUE_HI AND level = 1) AS e")"
	say "  the worker's statements during the phase (pg_stat_statements; one sweep = one call of escalate_due):"
	sweep_statements | tee -a "$RESULTS"
	say "$(busy_line "$m0" "$c0" "$t0"); it waited $(( $(worker_wait_ms) - w0 )) ms in total for a CPU while runnable (/proc/<pid>/schedstat)"
	say "worker CPU during the phase: $(( (c1 - c0) )) ms for $N_DUE escalations ($(awk -v c=$((c1 - c0)) -v n="$N_DUE" 'BEGIN { printf "%.2f", c / n }') ms each); database commits: $(( $(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'") - x0 ))"
	say "$(status_line)"
	LAG_SUMMARY+=("$(q "SELECT format('round %s: p50 %s ms, p99 %s ms, max %s ms', $round, p50_ms, p99_ms, max_ms) FROM bench.lag($DUE_LO, $DUE_HI, '{1}')"), machine busy $(busy_line "$m0" "$c0" "$t0" | sed 's/.*busy \([0-9]*%\).*/\1/')")
done
[ "$LAG_ROUNDS" -gt 0 ] && say "" "lag rounds:" "${LAG_SUMMARY[@]}"


if has burst; then
	for w in $BURST_WORKERS; do
	read -r BURST_LO BURST_HI <<<"${BURST_RANGE[$w]}"
	say "" "== burst: $N_BURST requests due at the same instant, $w worker(s) (batch $BATCH per sweep)"
	for _ in $(seq 2 "$w"); do q "SELECT swarm.start_escalator()" >/dev/null; done
	sleep 2
	q "SELECT pg_stat_reset_shared('wal')" >/dev/null
	read -r upd0 hot0 <<<"$(q "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'swarm.collab_requests'::regclass")"
	# CPU of every escalation worker (the dynamic ones too), in ms
	all_workers_cpu_ms() {
		local p sum=0
		for p in $(q "SELECT pid FROM swarm.escalator_status"); do
			sum=$((sum + $(awk -v t="$TICK_MS" '{ print ($14 + $15) * t }' "/proc/$p/stat")))
		done
		echo "$sum"
	}
	q "SELECT pg_stat_statements_reset()" >/dev/null
	c0=$(all_workers_cpu_ms); m0=$(machine_busy_ms); w0=$(worker_wait_ms); t0=$(now_s)
	# the UPDATE of $N_BURST rows takes a while: due well after it commits
	T=$(q "SELECT bench.make_due($BURST_LO, $BURST_HI, clock_timestamp() + interval '$((3 + N_BURST / 10000)) seconds', interval '0')")
	say "make_due committed $(q "SELECT round(extract(epoch FROM '$T'::timestamptz - clock_timestamp())::numeric, 2)") s before the due instant"
	wait_escalated "$BURST_LO" "$BURST_HI" 1800 || die "escalation bench: burst timed out"
	wall=$(q "SELECT round(extract(epoch FROM clock_timestamp() - '$T'::timestamptz)::numeric, 2)")
	c1=$(all_workers_cpu_ms)
	say "$(q "SELECT format('all %s escalated: first escalated_at +%s s after the due instant, last +%s s; seen committed by the poller (every 0.2 s) at +%s s',
	                  count(*), round(extract(epoch FROM min(escalated_at) - '$T'::timestamptz)::numeric, 3),
	                  round(extract(epoch FROM max(escalated_at) - '$T'::timestamptz)::numeric, 2), $wall)
	           FROM swarm.escalations WHERE request_id BETWEEN $BURST_LO AND $BURST_HI AND level = 1")"
	say "$(q "SELECT format('throughput: %s escalations/s (first to last escalated_at: %s s); %s escalations/s over the wall time',
	                  round(count(*) / extract(epoch FROM max(escalated_at) - min(escalated_at)))::numeric,
	                  round(extract(epoch FROM max(escalated_at) - min(escalated_at))::numeric, 2),
	                  round(count(*) / $wall))
	           FROM swarm.escalations WHERE request_id BETWEEN $BURST_LO AND $BURST_HI AND level = 1")"
	say "$(q "SELECT format('throughput per 10%% of the burst (escalations/s): %s', string_agg(round(r)::text, ' ' ORDER BY d))
	           FROM (SELECT d, count(*) / nullif(extract(epoch FROM max(escalated_at) - min(escalated_at)), 0) AS r
	                   FROM (SELECT escalated_at, ntile(10) OVER (ORDER BY escalated_at) AS d FROM swarm.escalations
	                          WHERE request_id BETWEEN $BURST_LO AND $BURST_HI AND level = 1) AS e GROUP BY d) AS t")"
	say "the workers' statements during the burst (pg_stat_statements):"
	sweep_statements | tee -a "$RESULTS"
	read -r upd1 hot1 <<<"$(q "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'swarm.collab_requests'::regclass")"
	say "$(busy_line "$m0" "$c0" "$t0" | sed 's/the worker .*//')workers' CPU: $((c1 - c0)) ms ($(awk -v c=$((c1 - c0)) -v n="$N_BURST" 'BEGIN { printf "%.3f", c / n }') ms per escalation); the preloaded worker waited $(( $(worker_wait_ms) - w0 )) ms for a CPU"
	say "collab_requests row updates: $((upd1 - upd0)) ($(awk -v u=$((upd1 - upd0)) -v n="$N_BURST" 'BEGIN { printf "%.1f", u / n }') per escalation, incl. the $N_BURST of make_due), HOT: $((hot1 - hot0)); WAL: $(q "SELECT format('%s records, %s (%s per escalation)', wal_records, pg_size_pretty(wal_bytes), round(wal_bytes / $N_BURST) || ' bytes')
	      FROM pg_stat_wal")"
	q "SELECT format('worker: pid %s%s, %s, %s escalations, last lag %s ms', pid, CASE WHEN dynamic THEN ' (dynamic)' ELSE '' END, state,
	                 escalations, round(last_lag_ms::numeric, 1)) FROM swarm.escalator_status ORDER BY pid" | tee -a "$RESULTS"
	[ "$w" -gt 1 ] && q "SELECT swarm.stop_escalator()" >/dev/null
	done

	if [ "$PROFILE" -eq 1 ]; then
		say "" "== profile: $N_PROFILE more due at once, pg_stat_statements.track = all (slower; the figures above are with track = top)"
		q "ALTER SYSTEM SET pg_stat_statements.track = 'all'" && q "SELECT pg_reload_conf()" >/dev/null
		sleep 2
		# What the same writes cost when made set-based, in a few statements for the whole batch instead
		# of one plpgsql call per request (level 1, renotify): a floor, not an implementation.  Rolled back.
		say "floor: the writes of $N_PROFILE level-1 escalations done set-based (one INSERT escalations, one INSERT events, one UPDATE; rolled back):"
		psql -At <<-SQL | sed 's/^/   /' | tee -a "$RESULTS"
			BEGIN;
			SELECT bench.make_due($PROF_LO, $PROF_HI, clock_timestamp() - interval '1 second', interval '0', false) \g /dev/null
			SELECT clock_timestamp() AS floor_t0 \gset
			WITH due AS (SELECT t.* FROM swarm.collab_requests AS t
			              WHERE t.state IN ('open', 'offered') AND t.next_escalation_at <= clock_timestamp()
			                AND t.request_id BETWEEN $PROF_LO AND $PROF_HI
			              ORDER BY t.next_escalation_at, t.request_id FOR NO KEY UPDATE SKIP LOCKED),
			     ins AS (INSERT INTO swarm.escalations (request_id, level, actions, due_at, escalated_at)
			             SELECT request_id, 1, '{renotify}', next_escalation_at, clock_timestamp() FROM due
			             ON CONFLICT ON CONSTRAINT escalations_pkey DO NOTHING RETURNING request_id),
			     ev AS (INSERT INTO swarm.events (kind, case_id, request_id, agent_id, detail)
			            SELECT 'request_escalated', d.case_id, d.request_id, NULL,
			                   jsonb_build_object('level', 1, 'actions', '{renotify}'::text[], 'due_at', d.next_escalation_at,
			                                      'renotified', coalesce(g.name, 'skilled agents'))
			              FROM due AS d LEFT JOIN swarm.skill_groups AS g ON g.group_id = d.group_id
			             RETURNING pg_notify('swarm_events', event_id::text))
			UPDATE swarm.collab_requests AS t
			   SET escalation_level = 1, next_escalation_at = t.created_at + p.accept, next_escalation_level = 2
			  FROM swarm.sla_policies AS p
			 WHERE t.request_id IN (SELECT request_id FROM ins) AND p.policy_id = t.sla_policy_id
			   AND (SELECT count(*) FROM ev) >= 0;
			SELECT format('%s ms for %s escalations: %s escalations/s', round(extract(epoch FROM clock_timestamp() - :'floor_t0'::timestamptz) * 1000),
			              $N_PROFILE, round($N_PROFILE / extract(epoch FROM clock_timestamp() - :'floor_t0'::timestamptz)));
			ROLLBACK;
		SQL
		say "the sweep's claim with the $N_PROFILE due (EXPLAIN ANALYZE in a rolled-back transaction; swarm.claim_due runs it"
		say "with a generic plan, plan_cache_mode = force_generic_plan, as here):"
		psql -At <<-SQL | sed 's/^/   /' | tee -a "$RESULTS"
			BEGIN;
			SELECT bench.make_due($PROF_LO, $PROF_HI, clock_timestamp() - interval '1 second', interval '0', false) \g /dev/null
			SELECT clock_timestamp() AS sweep_now \gset
			SET LOCAL plan_cache_mode = force_generic_plan;
			PREPARE claim (timestamptz, integer) AS
			SELECT t.request_id FROM swarm.collab_requests AS t
			 WHERE t.state IN ('open', 'offered') AND t.next_escalation_at <= \$1
			 ORDER BY t.next_escalation_at, t.request_id LIMIT \$2 FOR NO KEY UPDATE SKIP LOCKED;
			EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE claim(:'sweep_now', $BATCH);
			ROLLBACK;
		SQL
		q "SELECT pg_stat_statements_reset()" >/dev/null
		T=$(q "SELECT bench.make_due($PROF_LO, $PROF_HI, clock_timestamp() + interval '1 second', interval '0')")
		wait_escalated "$PROF_LO" "$PROF_HI" 1800 || die "escalation bench: profile timed out"
		q "ALTER SYSTEM SET pg_stat_statements.track = 'top'" && q "SELECT pg_reload_conf()" >/dev/null
		say "top statements by total time (pg_stat_statements; a function call's time includes the statements nested in it, which are listed on their own too):"
		psql -c "SELECT round(total_exec_time::numeric) AS total_ms, calls, round((total_exec_time / $N_PROFILE)::numeric, 4) AS ms_per_escalation,
		                round(mean_exec_time::numeric, 4) AS mean_ms, shared_blks_hit + shared_blks_read AS blks,
		                left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
		           FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'postgres')
		          ORDER BY total_exec_time DESC LIMIT 25" | tee -a "$RESULTS"
	fi
fi

if has latch; then
	say "" "== latch: does the commit-time wake-up beat the naptime?  naptime set to 60 s"
	read -r LATCH_P3_LO LATCH_P3_HI <<<"$(q "SELECT * FROM bench.add_requests(10, 'P3')")"
	q "ALTER SYSTEM SET swarm.escalation_naptime = '60s'" && q "SELECT pg_reload_conf()" >/dev/null
	sleep 8		# let the worker run out of work and fall into a long sleep
	say "before: $(status_line)"
	A_LO=$(( $(q "SELECT last_value FROM swarm.collab_requests_request_id_seq") + 1 ))
	for i in 1 2 3 4 5 6; do
		psql -v owner=$((AGENT_LO + i)) >/dev/null <<-'SQL'
			SELECT swarm.open_case('esc-latch-' || nextval('bench.case_refs'), 'latch', 'P2', 'postgres:3') AS case_id \gset
			SELECT swarm.assign_case(:case_id, :owner);
			SELECT swarm.request_help(:case_id, 'esc-group-1', mode => 'pull');
		SQL
		sleep 9		# 3 levels at +3, +4, +6 s, then the worker sleeps (up to 60 s)
	done
	A_HI=$(q "SELECT last_value FROM swarm.collab_requests_request_id_seq")
	say "A: 6 requests through the API (request_help wakes the worker at commit), 9 s apart:"
	say "$(q "SELECT format('   level %s: p50 %s ms, max %s ms (n = %s)', l, p50_ms, max_ms, n) FROM unnest('{1,2,3}'::int[]) AS l, bench.lag($A_LO, $A_HI, ARRAY[l])")"
	say "   before the next: $(status_line)"
	# B: due times set directly, no wake-up: the worker finds them at its next timed wake-up
	q "SELECT bench.make_due($LATCH_P3_LO, $((LATCH_P3_LO + 4)), clock_timestamp() + interval '3 seconds', interval '10 seconds', false)" >/dev/null
	wait_escalated "$LATCH_P3_LO" $((LATCH_P3_LO + 4)) 120 || true
	say "B: 5 requests made due 3-13 s ahead by an UPDATE without swarm.wake_escalator:"
	say "$(q "SELECT format('   level 1: p50 %s ms, min %s ms, max %s ms (n = %s)', p50_ms, min_ms, max_ms, n) FROM bench.lag($LATCH_P3_LO, $((LATCH_P3_LO + 4)), '{1}')")"
	sleep 3
	# C: the same with the wake-up
	q "SELECT bench.make_due($((LATCH_P3_LO + 5)), $LATCH_P3_HI, clock_timestamp() + interval '3 seconds', interval '10 seconds', true)" >/dev/null
	wait_escalated $((LATCH_P3_LO + 5)) "$LATCH_P3_HI" 120 || true
	say "C: the same 5 with swarm.wake_escalator in the transaction:"
	say "$(q "SELECT format('   level 1: p50 %s ms, min %s ms, max %s ms (n = %s)', p50_ms, min_ms, max_ms, n) FROM bench.lag($((LATCH_P3_LO + 5)), $LATCH_P3_HI, '{1}')")"
	q "ALTER SYSTEM SET swarm.escalation_naptime = '1s'" && q "SELECT pg_reload_conf()" >/dev/null
	sleep 1
fi

if has locked; then
	say "" "== locked: one due request whose row another session holds FOR NO KEY UPDATE for ${LOCK_SECONDS}s (naptime 1s)"
	read -r L_ID _ <<<"$(q "SELECT * FROM bench.add_requests(1, 'P3')")"
	sleep 3		# nothing else due soon: the worker is idle, sleeping the naptime
	c0=$(worker_cpu_ms); x0=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"); t0=$(now_s)
	sleep 2
	say "idle, 2 s: worker CPU $(( $(worker_cpu_ms) - c0 )) ms, $(( $(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'") - x0 )) commits in the database"
	q "SELECT bench.make_due($L_ID, $L_ID, clock_timestamp() + interval '1 second', interval '0')" >/dev/null
	psql -c "BEGIN" -c "SELECT 1 FROM swarm.collab_requests WHERE request_id = $L_ID FOR NO KEY UPDATE" \
		-c "SELECT pg_sleep($LOCK_SECONDS)" -c "COMMIT" >/dev/null &
	LOCKER=$!
	sleep 2		# due 1 s after make_due, now locked
	c0=$(worker_cpu_ms); x0=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"); t0=$(now_s)
	sleep $((LOCK_SECONDS - 4))
	el=$(since "$t0")
	say "due and locked, ${el} s: worker CPU $(( $(worker_cpu_ms) - c0 )) ms ($(awk -v c=$(( $(worker_cpu_ms) - c0 )) -v s="$el" 'BEGIN { printf "%.0f", c / (s * 10) }')% of a core), $(( $(q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'") - x0 )) commits in the database; $(status_line)"
	wait "$LOCKER"
	wait_escalated "$L_ID" "$L_ID" 30 || true
	say "after the lock was released: $(q "SELECT format('escalated %s ms after it was due', p50_ms) FROM bench.lag($L_ID, $L_ID, '{1}')")"
fi

if has soak; then
	SOAK_S=$((SOAK_MINUTES * 60))
	say "" "== soak: ${SOAK_MINUTES} min, $SOAK_RATE requests/s through the API (levels at +3, +4, +6 s: $((SOAK_RATE * 3)) escalations/s), worker RSS every ${SAMPLE_SECONDS}s"
	S_LO=$(( $(q "SELECT last_value FROM swarm.collab_requests_request_id_seq") + 1 ))
	pgbench -n -c 1 -j 1 -R "$SOAK_RATE" -T "$SOAK_S" -D agent_lo="$AGENT_LO" -D agent_hi="$AGENT_HI" \
		-f bench/escalation/trickle.pgbench postgres >"$ELOG/soak-pgbench.log" 2>&1 &
	PGB=$!
	sample() {
		local el=$1
		awk -v el="$el" -v esc="$(q "SELECT escalations FROM swarm.escalator_status WHERE pid = $WPID")" \
			'/^VmRSS/ { rss = $2 } /^RssAnon/ { anon = $2 } /^RssFile/ { file = $2 } /^RssShmem/ { shm = $2 }
			 END { printf "%6d s  VmRSS %7d kB  RssAnon %6d kB  RssFile %6d kB  RssShmem %7d kB  escalations %s\n", el, rss, anon, file, shm, esc }' \
			"/proc/$WPID/status"
	}
	SAMPLES=$ELOG/soak-samples.txt
	: >"$SAMPLES"
	t0=$(now_s)
	el=0
	while :; do
		[ -d "/proc/$WPID" ] || die "escalation bench: the worker (pid $WPID) is gone"
		sample "$el" | tee -a "$SAMPLES" "$RESULTS"
		# the worker's memory contexts once warmed up (after the first interval) and at the end
		[ "$el" -eq "$SAMPLE_SECONDS" ] && q "SELECT pg_log_backend_memory_contexts($WPID)" >/dev/null
		[ "$el" -ge "$SOAK_S" ] && break
		target=$((el + SAMPLE_SECONDS))
		[ "$target" -gt "$SOAK_S" ] && target=$SOAK_S
		while awk -v a="$t0" -v b="$(now_s)" -v t="$target" 'BEGIN { exit !(b - a < t) }'; do sleep 0.5; done
		el=$target
	done
	wait "$PGB" || { cat "$ELOG/soak-pgbench.log"; die "escalation bench: the soak's pgbench failed"; }
	sleep 8		# the last requests' levels
	sample "$SOAK_S" | tee -a "$SAMPLES" "$RESULTS" || true
	q "SELECT pg_log_backend_memory_contexts($WPID)" >/dev/null
	S_HI=$(q "SELECT last_value FROM swarm.collab_requests_request_id_seq")
	say "$(awk '{ for (i = 1; i <= NF; i++) if ($i == "VmRSS") r[NR] = $(i + 1); else if ($i == "RssAnon") a[NR] = $(i + 1) }
	            END { printf "growth: VmRSS %+d kB first to last (%+d kB from the 2nd sample on); RssAnon %+d kB (%+d kB from the 2nd sample on)", r[NR] - r[1], r[NR] - r[2], a[NR] - a[1], a[NR] - a[2] }' "$SAMPLES")"
	say "pgbench: $(grep -E '^number of transactions actually processed|^latency average' "$ELOG/soak-pgbench.log" | tr '\n' ';')"
	say "soak escalations: $(q "SELECT count(*) FROM swarm.escalations WHERE request_id BETWEEN $S_LO AND $S_HI") for $((S_HI - S_LO + 1)) requests; lag by level:"
	say "$(q "SELECT format('   level %s: p50 %s ms, p99 %s ms, max %s ms (n = %s)', l, p50_ms, p99_ms, max_ms, n) FROM unnest('{1,2,3}'::int[]) AS l, bench.lag($S_LO, $S_HI, ARRAY[l])")"
	sleep 1
	say "worker memory contexts (pg_log_backend_memory_contexts), grand totals after ${SAMPLE_SECONDS} s and at the end:"
	grep -A200 "logging memory contexts of PID $WPID" "$LOGDIR/postmaster.log" | grep 'Grand total' | sed 's/^/   /' | tee -a "$RESULTS" || true
fi

say "" "== done; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"

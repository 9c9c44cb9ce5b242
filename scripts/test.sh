#!/usr/bin/env bash
# make test: build swarm, install it into a private PostgreSQL tree, run every
# suite (pg_regress, isolation, pgTAP, Perl TAP) and print "N passed, N failed".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/lib.sh"

bash "$TOP/scripts/deps.sh" || exit 1
drop_privileges "$TOP" scripts/test.sh "$@"

cd "$TOP"
LOGDIR=$TOP/log
rm -rf "$LOGDIR" results output_iso regression.diffs regression.out tmp_check
mkdir -p "$LOGDIR"

setup_install "$TOP"
trap stop_cluster EXIT
start_cluster "$TOP/tmp_check/data"

passed=0
failed=0
DIFFS=()

# Count pg_regress / isolation results in a log: every test that did not
# print "... ok" failed (including one whose expected file is missing).
count_regress() {
	local log=$1 total=$2 ok bad
	ok=$(grep -cE '\.\.\. ok|\.\.\. failed \(ignored\)' "$log")
	bad=$((total - ok))
	passed=$((passed + ok))
	failed=$((failed + bad))
	echo "  $ok passed, $bad failed"
}

# Count TAP assertions in a verbose prove/pg_prove log; a failing run with
# no failing assertion (a script that died) counts as one failure.
count_tap() {
	local log=$1 rc=$2 ok bad
	ok=$(grep -cE '^[[:space:]]*ok [0-9]+' "$log")
	bad=$(grep -E '^[[:space:]]*not ok [0-9]+' "$log" | grep -vc '# TODO')
	[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	passed=$((passed + ok))
	failed=$((failed + bad))
	echo "  $ok passed, $bad failed"
	if [ "$bad" -ne 0 ]; then
		grep -E -B2 -A12 '^[[:space:]]*not ok|Dubious|Bailout|Looks like|Failed' "$log" | head -150
	fi
}

TESTS=$(ls test/sql/*.sql 2>/dev/null | sed 's|test/sql/||; s|\.sql$||' | sort)
SPECS=$(ls test/specs/*.spec 2>/dev/null | sed 's|test/specs/||; s|\.spec$||' | sort)

# Run one pg_regress-style suite: name, runner binary, database, test names.
run_regress_suite() {
	local name=$1 runner=$2 db=$3; shift 3
	[ $# -gt 0 ] || return 0
	echo "== $name"
	"$runner" --bindir="$BINDIR" --inputdir=test --outputdir=. \
		--host="$PGHOST" --port="$PGPORT" --dbname="$db" "$@" >"$LOGDIR/$name.log" 2>&1
	count_regress "$LOGDIR/$name.log" $#
	if [ -f regression.diffs ]; then
		mv regression.diffs "$LOGDIR/$name.diffs"
		DIFFS+=("$LOGDIR/$name.diffs")
	fi
}

run_regress_suite pg_regress "$PGXS_DIR/src/test/regress/pg_regress" swarm_regression $TESTS
run_regress_suite isolation "$PGXS_DIR/src/test/isolation/pg_isolation_regress" swarm_isolation $SPECS

if ls test/pgtap/*.sql >/dev/null 2>&1; then
	echo "== pgTAP"
	createdb swarm_pgtap
	pg_prove --verbose --dbname swarm_pgtap --host "$PGHOST" --port "$PGPORT" test/pgtap/*.sql >"$LOGDIR/pgtap.log" 2>&1
	count_tap "$LOGDIR/pgtap.log" $?
fi

if ls docs/*.md >/dev/null 2>&1; then
	echo "== docs examples"
	bash docs/check_examples.sh >"$LOGDIR/docs.log" 2>&1
	rc=$?
	read -r ran bad < <(sed -n 's/^\([0-9]*\) examples run, \([0-9]*\) failed$/\1 \2/p' "$LOGDIR/docs.log" | tail -1)
	ran=${ran:-0}; bad=${bad:-0}
	[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	passed=$((passed + ran - bad))
	failed=$((failed + bad))
	echo "  $((ran - bad)) passed, $bad failed"
	[ "$bad" -ne 0 ] && grep -E 'FAILED|^----' -A8 "$LOGDIR/docs.log" | head -120
fi

stop_cluster

if ls test/t/*.pl >/dev/null 2>&1; then
	echo "== TAP"
	mkdir -p tmp_check
	TESTDIR="$TOP" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" PGXS_DIR="$PGXS_DIR" \
		PERL5LIB="$PGXS_DIR/src/test/perl${PERL5LIB:+:$PERL5LIB}" \
		prove --verbose -I test/t/lib test/t/*.pl >"$LOGDIR/tap.log" 2>&1
	count_tap "$LOGDIR/tap.log" $?
fi

for d in "${DIFFS[@]}"; do
	echo "---- $d (first 200 lines)"
	head -200 "$d"
done
[ $failed -ne 0 ] && echo "(logs: $LOGDIR)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]

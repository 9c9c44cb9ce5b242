#!/usr/bin/env bash
# docs/check_examples.sh: prove that the SQL examples of the documentation run.
#
# Usage: docs/check_examples.sh [file.md ...]     (default: every docs/*.md)
#
# For each Markdown file, in turn:
#   * create a fresh database swarm_docs_<file> (UTF8, locale C, from
#     template0), dropping a leftover one first;
#   * run every ```sql code block of the file (fences may be indented, as in
#     list items), in file order, each in its own psql session
#     (psql -X -q -v ON_ERROR_STOP=1 -v SHOW_CONTEXT=never), so the blocks
#     share the database but not session settings.  A file's first block is
#     its fixture: it creates the extension and the data the later blocks
#     build on (the docs also set the search_path there, with
#     ALTER DATABASE :"DBNAME" SET search_path = ...);
#   * concepts.md creates and, in its last block, drops the roles
#     helpdesk_app and swarm_analyst: run the checker on a throwaway cluster;
#   * a block preceded by the HTML comment <!-- fails --> must fail with an
#     SQL error (psql exit status 3); any other block must succeed.  A block
#     preceded by <!-- skip --> is not run;
#   * a ```text block that directly follows a ```sql block (only blank lines
#     between them) is that block's expected output: psql's output, errors
#     included, must match it (trailing blanks, leading and trailing empty
#     lines and the "psql:file:line: " prefix of error lines are ignored);
#   * drop the database (set KEEP_DB=1 to keep it for inspection).
#
# The connection comes from the environment (PGHOST, PGPORT, PGUSER); the
# role needs CREATEDB and the rights CREATE EXTENSION swarm needs.  Set PSQL to
# use another psql, ADMIN_DB to connect somewhere else than "postgres" for
# CREATE/DROP DATABASE.  Prints one line per file and exits non-zero when any
# example fails.
set -uo pipefail

DOCS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PSQL=${PSQL:-psql}
ADMIN_DB=${ADMIN_DB:-postgres}
KEEP_DB=${KEEP_DB:-0}

if [ $# -gt 0 ]; then
	FILES=("$@")
else
	FILES=("$DOCS_DIR"/*.md)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarm-docs.XXXXXX") || { echo "mktemp failed" >&2; exit 2; }
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# extract FILE DIR: write each ```sql block of FILE to DIR/NNN.sql, its
# expected output (if any) to DIR/NNN.out, and "NNN LINE MODE" lines to
# DIR/index, MODE being run, fails or skip.
extract() {
	awk -v dir="$2" '
	# strip the fence indentation of the block from a content line
	function unindent(line,    k) {
		for (k = 0; k < indent && substr(line, 1, 1) ~ /[ \t]/; k++)
			line = substr(line, 2)
		return line
	}
	function fence_indent(line) { match(line, /^[ \t]*/); return RLENGTH }
	BEGIN { n = 0; state = "text"; marker = ""; last_sql = 0 }
	state == "text" && /^[ \t]*```sql[ \t]*$/ {
		n++; name = sprintf("%s/%03d", dir, n); indent = fence_indent($0)
		mode = marker == "" ? "run" : marker
		printf "%03d %d %s\n", n, NR, mode >> (dir "/index")
		printf "" > (name ".sql")
		state = "sql"; marker = ""; next
	}
	state == "text" && /^[ \t]*```text[ \t]*$/ && last_sql > 0 {
		state = "out"; indent = fence_indent($0)
		outname = sprintf("%s/%03d.out", dir, last_sql)
		printf "" > outname
		last_sql = 0; next
	}
	state == "text" && /^[ \t]*```/ { state = "other"; marker = ""; last_sql = 0; next }
	state == "other" && /^[ \t]*```[ \t]*$/ { state = "text"; next }
	state == "other" { next }
	state == "sql" && /^[ \t]*```[ \t]*$/ { close(name ".sql"); state = "text"; last_sql = n; next }
	state == "sql" { print unindent($0) > (name ".sql"); next }
	state == "out" && /^[ \t]*```[ \t]*$/ { close(outname); state = "text"; next }
	state == "out" { print unindent($0) > outname; next }
	# plain Markdown text
	/^[ \t]*<!--[ \t]*fails[ \t]*-->[ \t]*$/ { marker = "fails"; last_sql = 0; next }
	/^[ \t]*<!--[ \t]*skip[ \t]*-->[ \t]*$/ { marker = "skip"; last_sql = 0; next }
	/^[ \t]*$/ { next }
	{ marker = ""; last_sql = 0 }
	END { if (state != "text") { print "unterminated code block" > "/dev/stderr"; exit 1 } }
	' "$1"
}

# normalise: drop psql's "psql:FILE:LINE: " prefixes, trailing blanks and
# leading/trailing empty lines.
normalise() {
	sed -E 's/^psql:[^:]*:[0-9]+: //; s/[[:space:]]+$//' "$1" |
		awk 'NF { for (i = 0; i < blank; i++) print ""; blank = 0; seen = 1; print; next }
		     seen { blank++ }'
}

admin() {
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_DB" -c "$1" >"$WORK/admin.log" 2>&1
}

total_failed=0
total_run=0

for file in "${FILES[@]}"; do
	base=$(basename "$file" .md)
	db="swarm_docs_$(printf '%s' "$base" | tr -c 'A-Za-z0-9_' '_' | tr 'A-Z' 'a-z')"
	dir="$WORK/$base"
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir/index"
	if ! extract "$file" "$dir"; then
		echo "$file: FAILED (malformed Markdown)"
		total_failed=$((total_failed + 1))
		continue
	fi
	nblocks=$(wc -l <"$dir/index")
	if [ "$nblocks" -eq 0 ]; then
		echo "$file: no SQL examples"
		continue
	fi

	if ! admin "DROP DATABASE IF EXISTS \"$db\"" ||
		! admin "CREATE DATABASE \"$db\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"; then
		echo "$file: FAILED (cannot create database $db)"
		cat "$WORK/admin.log"
		total_failed=$((total_failed + 1))
		continue
	fi

	passed=0 failed=0 skipped=0 outputs=0
	while read -r num line mode; do
		sql="$dir/$num.sql"
		if [ "$mode" = skip ]; then
			skipped=$((skipped + 1))
			continue
		fi
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -v SHOW_CONTEXT=never -d "$db" -f "$sql" >"$dir/$num.got" 2>&1
		rc=$?
		problem=""
		if [ "$mode" = fails ]; then
			[ $rc -eq 3 ] || problem="marked <!-- fails --> but psql exited with status $rc (3 expected)"
		else
			[ $rc -eq 0 ] || problem="psql exited with status $rc"
		fi
		if [ -z "$problem" ] && [ -f "$dir/$num.out" ]; then
			outputs=$((outputs + 1))
			normalise "$dir/$num.out" >"$dir/$num.want.n"
			normalise "$dir/$num.got" >"$dir/$num.got.n"
			if ! diff -u "$dir/$num.want.n" "$dir/$num.got.n" >"$dir/$num.diff"; then
				problem="output differs from the text block that follows it"
			fi
		fi
		if [ -z "$problem" ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "---- $file:$line: $problem"
			sed 's/^/    | /' "$sql"
			if [ -s "$dir/$num.diff" ]; then
				sed -n '3,$p' "$dir/$num.diff" | sed 's/^/    /'
			else
				sed 's/^/    > /' "$dir/$num.got"
			fi
		fi
	done <"$dir/index"

	if [ "$KEEP_DB" != 1 ]; then
		admin "DROP DATABASE IF EXISTS \"$db\"" || { echo "warning: cannot drop $db"; cat "$WORK/admin.log"; }
	fi

	total_run=$((total_run + passed + failed))
	total_failed=$((total_failed + failed))
	summary="$((passed + failed)) examples, $passed passed, $failed failed ($outputs with checked output"
	[ $skipped -gt 0 ] && summary="$summary, $skipped skipped"
	summary="$summary)"
	if [ $failed -eq 0 ]; then
		echo "$file: ok, $summary"
	else
		echo "$file: FAILED, $summary"
	fi
done

echo "$total_run examples run, $total_failed failed"
[ $total_failed -eq 0 ]

#!/usr/bin/env bash
# evcount-cli under valgrind memcheck: every subcommand once over the sample
# data, each run failing on any memcheck error or definite leak. The unit
# suites run under `meson test --setup valgrind`; this covers the front end,
# whose tests are shell scripts that the setup's wrapper would not reach.
#
# usage: valgrind-cli.sh EVCOUNT_CLI SAMPLE_CSV
set -euo pipefail

cli=$1 sample=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect)

run() { # NAME EXPECTED-STATUS ARGS...
	local name=$1 want=$2 rc=0
	shift 2
	"${vg[@]}" "$cli" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	if [ "$rc" = "$want" ]; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name: exit $rc, expected $want"
		head -20 "$tmp/err"
	fi
}

db=$tmp/s.db
id=e220a8397b1dcdaf6e789e6aa1b965f4
q=(--customer-id "$(cut -d, -f1 "$sample" | sort | uniq -c | sort -rn |
	awk 'NR == 1 { print $2 }')" --start 2021-03-01T00:15:00Z
	--end 2021-03-01T05:00:00Z)
run "ingest with rejects" 0 --db "$db" ingest --no-progress \
	--rejects "$tmp/rejects.csv" "$sample"
run "ingest again: already ingested" 0 --db "$db" ingest --no-progress "$sample"
run "ingest from stdin" 0 --db "$db" ingest --no-progress - <"$sample"
for f in table csv json; do
	run "hourly --format $f" 0 --db "$db" hourly "${q[@]}" --format "$f"
done
run "hourly --sparse, unknown customer" 0 --db "$db" hourly \
	--customer-id "$id-none" --start 2021-03-01 --end 2021-03-03 --sparse
for c in sources customers stats; do
	run "$c --format json" 0 --db "$db" "$c" --format json
done
run "export" 0 --db "$db" export --format json
run "one-shot" 0 --db "$tmp/o.db" "$sample" "${q[@]}" --format json
run "strict ingest fails" 1 --db "$tmp/strict.db" ingest --strict \
	--no-progress "$sample"
run "usage error" 2 --db "$db" hourly "${q[@]}" --start nonsense
run "missing store" 1 --db "$tmp/none.db" hourly "${q[@]}"
run "help" 0 --help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

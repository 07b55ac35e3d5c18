#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The PostgreSQL benchmark, beside tests/bench.sh: each figure against a
# baseline measured in the same run, on a throwaway local server.
#
#   bench-pg.sh EVCOUNT_CLI GEN_EVENTS BENCH_QUERY
#
# - ingest of the 10M-row file (tests/bench.sh's) into PostgreSQL against
#   the same into SQLite: wall time and peak RSS (target <= 4x, RSS within
#   SQLite's);
# - evc_hourly of the heaviest customer over 24 h, in process, over a
#   loopback connection (tests/bench-query.c; target p50 < 1 ms);
# - evcount-cli serve on PostgreSQL, the fixed 24 h query under wrk
#   (target >= 5000 requests/s), against serve on SQLite;
# - four ingesters of four 2.5M-row files at once into one store against
#   one ingester of the same 10M rows (the files concatenated).
#
# Runs itself through tests/pg-run.sh when $EVC_TEST_PG is not set, with
# fsync on and the server's memory settings of a small dedicated machine
# (shared_buffers 512MB, max_wal_size 4GB; the defaults are for a
# laptop). Environment: BENCH_ROWS (10000000), BENCH_DIR (inputs kept
# there and reused), DURATION (wrk, 10s), BENCH_QUERY_ITERS (2000).
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: bench-pg.sh EVCOUNT_CLI GEN_EVENTS BENCH_QUERY" >&2
	exit 2
fi
if [ -z "${EVC_TEST_PG:-}" ]; then
	export EVC_PG_FSYNC=${EVC_PG_FSYNC:-on}
	export EVC_PG_OPTIONS=${EVC_PG_OPTIONS:--c shared_buffers=512MB -c max_wal_size=4GB}
	exec "$(dirname "$0")/pg-run.sh" "$0" "$@"
fi
cli=$1 gen=$2 query=$3
rows=${BENCH_ROWS:-10000000}
iters=${BENCH_QUERY_ITERS:-2000}
duration=${DURATION:-10s}
if [ ! -x /usr/bin/time ]; then
	echo "bench-pg.sh: /usr/bin/time not found (install GNU time)" >&2
	exit 77
fi
if [ -n "${BENCH_DIR:-}" ]; then
	dir=$BENCH_DIR
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/evcount-bench.XXXXXX")
fi
server=
cleanup() {
	[ -z "$server" ] || kill -TERM "$server" 2>/dev/null || true
	[ -z "$server" ] || wait "$server" 2>/dev/null || true
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
pg() { echo "$EVC_TEST_PG?evcount_schema=$1"; }

echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server: fsync=${EVC_PG_FSYNC:-off} ${EVC_PG_OPTIONS:-}"
input=$dir/events-$rows.csv
[ -s "$input" ] || "$gen" --rows "$rows" --seed 1 -o "$input"
quarter=$((rows / 4))
for i in 1 2 3 4; do
	[ -s "$dir/q$i-$quarter.csv" ] ||
		"$gen" --rows "$quarter" --seed $((10 + i)) -o "$dir/q$i-$quarter.csv"
done
[ -s "$dir/q-all-$quarter.csv" ] ||
	cat "$dir"/q[1-4]-"$quarter".csv >"$dir/q-all-$quarter.csv"
heavy=$(head -n 200000 "$input" | cut -d, -f1 | sort | uniq -c |
	sort -rn | awk 'NR == 1 { print $2 }')

timed() { # name, command...: wall seconds and peak RSS into $dir/NAME.time
	local name=$1
	shift
	/usr/bin/time -o "$dir/$name.time" -f "%e %M" "$@" >/dev/null 2>&1
	cat "$dir/$name.time"
}

echo "== ingest, $rows rows ($(($(stat -c %s "$input") / 1000000)) MB), page cache warm"
cat "$input" >/dev/null
rm -f "$dir/store.db" "$dir/store.db-wal" "$dir/store.db-shm"
read -r s_s s_kb < <(timed sqlite "$cli" --db "$dir/store.db" ingest --no-progress "$input")
read -r p_s p_kb < <(timed pg "$cli" --db "$(pg bench)" ingest --no-progress "$input")
awk -v s="$s_s" -v p="$p_s" -v skb="$s_kb" -v pkb="$p_kb" 'BEGIN {
	printf "SQLite     %.2f s, peak RSS %.1f MB\n", s, skb / 1024
	printf "PostgreSQL %.2f s, peak RSS %.1f MB: %.2fx the time (target <= 4x), %.2fx the RSS (target <= 1x)\n",
		p, pkb / 1024, p / s, pkb / skb
}'
if [ "$("$cli" --db "$dir/store.db" export | md5sum)" = "$("$cli" --db "$(pg bench)" export | md5sum)" ]; then
	echo "           the same export"
else
	echo "FAIL: the exports differ"
	exit 1
fi

echo "== evc_hourly, heaviest customer, 24 h, in process"
echo -n "SQLite     "
"$query" "$dir/store.db" "$heavy" 2021-03-10T00:00:00Z 2021-03-11T00:00:00Z "$iters"
echo -n "PostgreSQL "
"$query" "$(pg bench)" "$heavy" 2021-03-10T00:00:00Z 2021-03-11T00:00:00Z "$iters"
echo -n "PostgreSQL, partial first and last hours: "
"$query" "$(pg bench)" "$heavy" 2021-03-10T00:30:00Z 2021-03-11T00:30:00Z "$iters"

if command -v wrk >/dev/null && "$cli" serve --help >/dev/null 2>&1; then
	fixed="/hourly?customer_id=$heavy&start=2021-03-15&end=2021-03-16"
	serve_rps() { # store
		: >"$dir/serve.log"
		"$cli" --db "$1" serve --listen 127.0.0.1:0 --quiet --threads 2 \
			2>"$dir/serve.log" &
		server=$!
		local port= i
		for ((i = 0; i < 100; i++)); do
			port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$dir/serve.log")
			[ -n "$port" ] && break
			sleep 0.1
		done
		wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:$port$fixed" >"$dir/wrk.out"
		kill -TERM "$server"
		wait "$server" || true
		server=
		if grep -Eq 'Socket errors|Non-2xx' "$dir/wrk.out"; then
			echo "FAIL: wrk saw errors" >&2
			cat "$dir/wrk.out" >&2
			exit 1
		fi
		awk '/^Requests\/sec:/ { r = $2 } $1 == "99%" { p = $2 } END { print r, p }' "$dir/wrk.out"
	}
	echo "== serve, fixed 24 h query, wrk -t2 -c16 -d$duration, 2 server threads"
	read -r s_rps s_p99 < <(serve_rps "$dir/store.db")
	read -r p_rps p_p99 < <(serve_rps "$(pg bench)")
	awk -v s="$s_rps" -v p="$p_rps" -v sp="$s_p99" -v pp="$p_p99" 'BEGIN {
		printf "SQLite     %.0f requests/s, p99 %s\n", s, sp
		printf "PostgreSQL %.0f requests/s, p99 %s: %.2fx SQLite'\''s (target >= 5000/s)\n", p, pp, p / s
	}'
else
	echo "== serve: skipped (no wrk, or evcount-cli built without serve)"
fi

echo "== four ingesters of four $quarter-row files at once, against one of the same rows"
cat "$dir"/q[1-4]-"$quarter".csv >/dev/null
read -r one_s one_kb < <(timed one "$cli" --db "$(pg one)" ingest --no-progress "$dir/q-all-$quarter.csv")
a=$(date +%s%N)
pids=()
for i in 1 2 3 4; do
	"$cli" --db "$(pg four)" ingest --no-progress "$dir/q$i-$quarter.csv" \
		2>"$dir/four$i.err" &
	pids+=($!)
done
four_rc=0
for p in "${pids[@]}"; do wait "$p" || four_rc=1; done
b=$(date +%s%N)
if [ $four_rc != 0 ]; then
	echo "FAIL: a concurrent ingest failed:" >&2
	cat "$dir"/four[1-4].err >&2
	exit 1
fi
awk -v one="$one_s" -v ns=$((b - a)) 'BEGIN {
	printf "one ingester   %.2f s\n", one
	printf "four at once   %.2f s: %.2fx the one ingester'\''s wall time\n", ns / 1e9, ns / 1e9 / one
}'
if [ "$("$cli" --db "$(pg one)" export | md5sum)" = "$("$cli" --db "$(pg four)" export | md5sum)" ]; then
	echo "               the same export"
else
	echo "FAIL: the exports differ"
	exit 1
fi
"$cli" --db "$(pg four)" stats

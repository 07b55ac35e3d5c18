#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The performance benchmark: ingest speed against `wc -l` on the
# same file in the same run, peak memory, store size, query latency, and
# counts in zones against hourly and against DuckDB.
#
# Usage: bench.sh EVCOUNT_CLI GEN_EVENTS BENCH_QUERY BENCH_COUNTS
#
# Environment:
#   BENCH_ROWS         rows of the generated input (default 10000000)
#   BENCH_DIR          where the input and the stores go (default: a new
#                      directory under ${TMPDIR:-/tmp}, removed at the end;
#                      a given BENCH_DIR is kept, and an input already in it
#                      with the same row count is reused)
#   BENCH_QUERY_ITERS  evc_hourly calls per latency figure (default 2000)
#   BENCH_CLI_RUNS     evcount-cli hourly runs to time (default 50)
#   DUCKDB_NODE_MODULES  a directory holding node_modules/@duckdb/node-api;
#                      default: installed with npm into BENCH_DIR/duckdb
#                      (the peer is skipped, saying so, without node/npm)
#
# Needs GNU time as /usr/bin/time (Debian package `time`) for peak RSS, and
# uses hyperfine for the whole-process query time when it is installed.
# Machines are noisy: compare ratios taken in one run, not seconds across
# runs. Targets: ingest <= 10x wc -l, peak RSS <= 64 MB, store <= 32 MB for
# 10M rows, evc_hourly p50 < 20 us (24 h) and < 1 ms (1 year), evcount-cli
# hourly < 5 ms; evc_counts in zones within 1.5x of evc_hourly over the
# same span, and all customers or the top 10 over 30 days faster than
# DuckDB from its own per-minute table.
set -euo pipefail

if [ $# -ne 4 ]; then
	echo "usage: bench.sh EVCOUNT_CLI GEN_EVENTS BENCH_QUERY BENCH_COUNTS" >&2
	exit 2
fi
cli=$1 gen=$2 query=$3 counts=$4
rows=${BENCH_ROWS:-10000000}
iters=${BENCH_QUERY_ITERS:-2000}
cli_runs=${BENCH_CLI_RUNS:-50}

if [ ! -x /usr/bin/time ]; then
	echo "bench.sh: /usr/bin/time not found (install GNU time)" >&2
	exit 77
fi

if [ -n "${BENCH_DIR:-}" ]; then
	dir=$BENCH_DIR
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/evcount-bench.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi

input=$dir/events-$rows.csv
if [ ! -s "$input" ]; then
	echo "generating $rows rows..."
	"$gen" --rows "$rows" --seed 1 -o "$input"
fi
# A second file of the same shape and period, other rows: ingested into the
# populated store, nearly every hour it touches already has counts.
input2=$dir/events-$rows-seed2.csv
if [ ! -s "$input2" ]; then
	"$gen" --rows "$rows" --seed 2 -o "$input2"
fi
bytes=$(stat -c %s "$input")
# The heaviest customer: gen-events draws customers by a Zipf law, so the
# most frequent id of the first rows is the most frequent overall.
heavy=$(head -n 200000 "$input" | cut -d, -f1 | sort | uniq -c |
	sort -rn | awk 'NR == 1 { print $2 }')

secs() { # print the elapsed seconds of a /usr/bin/time -f "%e %M" file
	cut -d' ' -f1 "$1"
}

# Ingest into an empty store, wc -l on the same (now cached) file around it.
cat "$input" >/dev/null
/usr/bin/time -o "$dir/wc.time" -f "%e %M" wc -l "$input" >/dev/null
db=$dir/store.db
rm -f "$db" "$db-wal" "$db-shm"
/usr/bin/time -o "$dir/ingest.time" -f "%e %M" \
	"$cli" --db "$db" ingest "$input" >/dev/null
/usr/bin/time -o "$dir/wc2.time" -f "%e %M" wc -l "$input" >/dev/null
wc1=$(secs "$dir/wc.time") wc2=$(secs "$dir/wc2.time")
wc_s=$(awk -v a="$wc1" -v b="$wc2" 'BEGIN { print (a < b ? a : b) }')
read -r ing_s ing_kb <"$dir/ingest.time"
store=$(stat -c %s "$db")
awk -v rows="$rows" -v bytes="$bytes" -v s="$ing_s" -v w="$wc_s" \
	-v kb="$ing_kb" -v st="$store" 'BEGIN {
	if (s <= 0) s = 0.01; if (w <= 0) w = 0.01
	printf "ingest: %d rows, %.1f MB in %.2f s, %.0f MB/s, %.2f Mrows/s\n",
		rows, bytes / 1e6, s, bytes / 1e6 / s, rows / 1e6 / s
	printf "        wc -l %.2f s, ratio %.1fx (target <= 10x)\n", w, s / w
	printf "        peak RSS %.1f MB (target <= 64), store %.1f MB " \
		"(target <= 32 for 10M rows)\n", kb / 1024, st / 1e6
}'

# The second file into the populated store (a copy: the first store is
# what the queries below read).
cp "$db" "$dir/store2.db"
cat "$input2" >/dev/null
/usr/bin/time -o "$dir/ingest2.time" -f "%e %M" \
	"$cli" --db "$dir/store2.db" ingest "$input2" >/dev/null
read -r ing2_s ing2_kb <"$dir/ingest2.time"
rm -f "$dir/store2.db" "$dir/store2.db-wal" "$dir/store2.db-shm"
awk -v s="$ing_s" -v s2="$ing2_s" -v kb="$ing2_kb" 'BEGIN {
	if (s <= 0) s = 0.01
	printf "second file into the populated store: %.2f s, %.2fx the " \
		"first (target <= 1.5x), peak RSS %.1f MB\n", s2, s2 / s,
		kb / 1024
}'

# In-process latency: one day of the heaviest customer.
echo "evc_hourly, heaviest customer, 24 h:"
"$query" "$db" "$heavy" 2021-03-10T00:00:00Z 2021-03-11T00:00:00Z "$iters"

# One year of data for the 1-year range query.
year_rows=$((rows < 2000000 ? rows : 2000000))
ydb=$dir/year.db
rm -f "$ydb" "$ydb-wal" "$ydb-shm"
"$gen" --rows "$year_rows" --days 365 --seed 2 --start 2021-01-01 |
	"$cli" --db "$ydb" ingest - >/dev/null
echo "evc_hourly, heaviest customer, 1 year ($year_rows rows over 365 days):"
"$query" "$ydb" "$heavy" 2021-01-01T00:00:00Z 2022-01-01T00:00:00Z \
	$((iters / 10 > 20 ? iters / 10 : 20))

# The whole process: exec, open, query, print.
echo "evcount-cli hourly, 24 h, whole process:"
hourly=("$cli" --db "$db" hourly --customer-id "$heavy"
	--start 2021-03-10T00:00:00Z --end 2021-03-11T00:00:00Z)
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 5 --runs "$cli_runs" --style basic \
		"$(printf '%q ' "${hourly[@]}")" 2>&1 | grep -E 'Time|Range'
else
	for _ in 1 2 3; do "${hourly[@]}" >/dev/null; done
	t=()
	for _ in $(seq "$cli_runs"); do
		a=$(date +%s%N)
		"${hourly[@]}" >/dev/null
		b=$(date +%s%N)
		t+=($(((b - a) / 1000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "  median %.2f ms, p90 %.2f ms over %d runs " \
			"(date +%%s%%N; includes fork/exec of the timer loop)\n",
			v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9)] / 1000, NR
	}'
fi

# Counts in zones, each against evc_hourly over the same span, call for
# call; then all customers and the top 10 over the 30 days.
echo "evc_counts, heaviest customer, against evc_hourly in the same run:"
"$counts" "$db" "$heavy" 2021-03-01 "$((iters / 10 > 50 ? iters / 10 : 50))" |
	tee "$dir/counts.out"

# The peer: DuckDB over its own per-minute table of the same counts.
duck=${DUCKDB_NODE_MODULES:-$dir/duckdb}
if ! command -v node >/dev/null; then
	echo "duckdb: skipped (node not found)"
	exit 0
fi
if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
	if ! command -v npm >/dev/null ||
		! npm install --prefix "$duck" --no-audit --no-fund --silent \
			@duckdb/node-api@1.5.6-r.1 >"$dir/npm.log" 2>&1; then
		echo "duckdb: skipped (npm could not install @duckdb/node-api:" \
			"$(tail -n 1 "$dir/npm.log" 2>/dev/null))"
		exit 0
	fi
fi
"$cli" --db "$db" export --format csv --epoch >"$dir/minutes.csv"
DUCKDB_NODE_MODULES=$duck node "$(dirname "$0")/bench-duckdb.mjs" \
	"$dir/minutes.csv" 2021-03-01 10 | tee "$dir/duckdb.out"
for q in all-30d-day top10-30d-day; do
	ours=$(awk -v q="$q" '$1 == q { for (i = 1; i <= NF; i++)
		if ($i == "p50") print $(i + 1) }' "$dir/counts.out")
	theirs=$(awk -v q="$q:" '$2 == q { for (i = 1; i <= NF; i++)
		if ($i == "p50") print $(i + 1) }' "$dir/duckdb.out")
	awk -v q="$q" -v a="$ours" -v b="$theirs" 'BEGIN {
		printf "%s: evcount %.2f ms, DuckDB %.2f ms: %.1fx faster " \
			"(target > 1x)\n", q, a, b, b / a
	}'
done

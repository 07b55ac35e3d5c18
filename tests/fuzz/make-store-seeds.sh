#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The seed corpus of fuzz-store: small valid stores, made with the CLI of
# the same build so that they have the layout of this version.
#
#   make-store-seeds.sh EVCOUNT_CLI OUTDIR
set -euo pipefail

cli=$1 out=$2
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
u=00000000-0000-4000-8000-000000000001

# Three rows of two customers.
printf 'a,click,%s,2021-03-01T02:15:00Z\na,click,%s,2021-03-01T03:00:00Z\nb,click,%s,2021-03-01T02:59:59Z\n' \
	$u $u $u >"$tmp/tiny.csv"
"$cli" --db "$out/tiny.db" ingest --no-progress "$tmp/tiny.csv" 2>/dev/null

# 400 rows of seven customers over two days, a rejected row, a second
# source and a stream.
awk -v u=$u 'BEGIN { for (i = 0; i < 400; i++)
	printf "c%d,click,%s,2021-03-0%dT%02d:%02d:%02dZ\n", i % 7, u,
		1 + int(i / 200), int(i / 9) % 24, (i * 7) % 60, i % 60
	print "bad row" }' >"$tmp/small.csv"
"$cli" --db "$out/small.db" ingest --no-progress "$tmp/small.csv" 2>/dev/null
printf 'c9,click,%s,2021-03-02T00:00:00Z\n' $u >"$tmp/more.csv"
"$cli" --db "$out/small.db" ingest --no-progress "$tmp/more.csv" 2>/dev/null
printf 'c1,click,%s,2021-03-05T23:59:00Z\n' $u |
	"$cli" --db "$out/small.db" ingest --no-progress - 2>/dev/null

# The span's ends: years 0000 and 9999, and the epoch.
printf 'e,click,%s,0000-01-01T00:00:00Z\ne,click,%s,1970-01-01T00:00:00Z\ne,click,%s,9999-12-31T23:59:59Z\n' \
	$u $u $u >"$tmp/edges.csv"
"$cli" --db "$out/edges.db" ingest --no-progress "$tmp/edges.csv" 2>/dev/null

# Only the store files: the fuzzer reads every file of the directory.
rm -f "$out"/*-wal "$out"/*-shm

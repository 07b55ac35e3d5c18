#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# POST /ingest of evcount-cli serve, with curl: pieces of a tracked stream
# count exactly once whatever the splits, retries, overlaps and concurrent
# posts, a gap is a 409 naming the committed offset, a server killed
# between its commit and its answer loses and doubles nothing when the
# client sends again, and bad bodies get the status that says why.
#
#   test-serve-ingest.sh PATH-TO-evcount-cli COMMIT_GAP_SO
#
# The last line is "N passed, M failed"; the exit status is non-zero on any
# failure.

set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 PATH-TO-evcount-cli COMMIT_GAP_SO" >&2
	exit 2
fi
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
need curl
RAW_CLI=$(abspath "$1")
COMMIT_GAP=$(abspath "$2")
CLI=$(memcheck_shim "$RAW_CLI") || exit 1

pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}
harness_start serve-ingest-test

TOKEN=t0k-$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >token

# post STREAM OFFSET FILE [CURL-ARG...]: POST FILE's bytes as the piece at
# OFFSET; the status in $code, the body in file body.
post() {
	local stream=$1 offset=$2 file=$3
	shift 3
	code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: text/csv' --data-binary "@$file" "$@" \
		"$base/ingest?stream=$stream&offset=$offset")
}

# field NAME: the value of a number or boolean member of file body.
field() {
	sed -En "s/.*\"$1\":([0-9a-z]+).*/\\1/p" body
}

expect() {
	[ "$code" = "$1" ] || bad "status $code, expected $1: $(cat body)"
}

# The rows: 300 over 3 customers and 5 hours, with a rejected row and a
# header as line 1, in an order that no sort restores.
{
	echo "customer_id,event_type,transaction_id,timestamp"
	for i in $(seq 1 300); do
		printf 'c%d,click,%08d-0000-4000-8000-000000000000,2021-03-01T%02d:%02d:%02dZ\n' \
			$((i * 7 % 3)) "$i" $((i * 13 % 5)) $((i * 31 % 60)) $((i % 60))
		[ "$i" = 150 ] && echo "bad,row"
	done
} >events.csv
SIZE=$(wc -c <events.csv)
# The counts to expect: the same bytes as a file, into a store of its own.
"$CLI" --db "$T/want.db" ingest events.csv 2>/dev/null
"$CLI" --db "$T/want.db" export >want.csv

# same_as_want DB: the store's counts are those of events.csv.
same_as_want() {
	"$CLI" --db "$1" export >got.csv 2>err || bad "export failed: $(cat err)"
	cmp -s want.csv got.csv || bad "counts differ: $(diff want.csv got.csv | head -n 5 | tr '\n' '|')"
}

# bytes FROM TO: events.csv[FROM, TO) into file piece.
bytes() {
	tail -c +$(($1 + 1)) events.csv | head -c $(($2 - $1)) >piece
}

"$CLI" --db "$T/db" ingest /dev/null 2>/dev/null

# ---- refusals before the body ----------------------------------------------

case_ "403 without --ingest-enabled; GET /ingest still answers"
start_server log0 --db "$T/db" serve --listen 127.0.0.1:0 --token-file token \
	--quiet || bad "no start: $(cat log0)"
post web 0 events.csv
expect 403
grep -q 'ingest-enabled' body || bad "body: $(cat body)"
code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"$base/ingest?stream=web")
expect 200
[ "$(cat body)" = '{"stream":"web","committed_offset":0}' ] || bad "body: $(cat body)"
stop_server TERM
done_

case_ "--ingest-enabled beyond the loopback needs a token"
# It refuses at once; one that served instead would be stopped by timeout.
timeout 60 "$CLI" --db "$T/db" serve --listen 0.0.0.0:0 --ingest-enabled \
	2>err
rc=$?
[ $rc = 1 ] || bad "exit status $rc, expected 1"
grep -q 'needs a token' err || bad "message: $(cat err)"
done_

if ! start_server log --db "$T/db" serve --listen 127.0.0.1:0 \
	--token-file token --ingest-enabled --max-ingest-body 64K --threads 4; then
	echo "no server: $(cat log)"
	exit 1
fi
wait_ready || bad "not ready"

case_ "401 without the token, before the body is read"
code=$(curl -s -o body -w '%{http_code}' -H 'Content-Type: text/csv' \
	--data-binary @events.csv "$base/ingest?stream=web&offset=0")
expect 401
done_

case_ "415 for a body that is not text/csv; 400 for bad parameters"
code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary @events.csv \
	"$base/ingest?stream=web&offset=0")
expect 415
grep -q 'must be text/csv, not application/json' body || bad "body: $(cat body)"
code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: text/csv' --data-binary @events.csv "$base/ingest?stream=web")
expect 400
grep -q 'offset' body || bad "body: $(cat body)"
post web -3 events.csv
expect 400
post '' 0 events.csv
expect 400
code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: text/csv' --data-binary @events.csv \
	"$base/ingest?stream=web&offset=0&foo=bar")
expect 400
grep -q 'unknown parameter' body || bad "body: $(cat body)"
done_

case_ "413 past --max-ingest-body, with and without a length"
head -c 70000 /dev/zero | tr '\0' 'x' >big
post web 0 big
expect 413
grep -q 'limit of 65536 bytes' body || bad "body: $(cat body)"
post web 0 big -H 'Transfer-Encoding: chunked'
expect 413
done_

# ---- exactly once ---------------------------------------------------------------

case_ "pieces in any split count as the file does"
# Cuts at arbitrary bytes, mid-line included: each piece starts at the
# committed offset the last answer gave.
off=0
for cut in 97 98 1000 4321 4322 9000 "$SIZE"; do
	[ "$cut" -gt "$SIZE" ] && cut=$SIZE
	bytes "$off" "$cut"
	post split "$off" piece
	expect 200
	off=$(field committed_offset)
done
[ "$off" = "$SIZE" ] || bad "committed $off of $SIZE"
"$CLI" --db "$T/split.db" ingest /dev/null 2>/dev/null
done_

case_ "a piece cut mid-line is held back from that line"
bytes 0 120
post held 0 piece
expect 200
[ "$(field held_back)" = true ] || bad "not held back: $(cat body)"
first_line=$(head -n 1 events.csv | wc -c)
second=$(head -n 2 events.csv | wc -c)
[ "$(field committed_offset)" = "$second" ] ||
	bad "committed $(field committed_offset), expected $second (line 1 $first_line)"
# The rest, from there: the stream is whole again.
bytes "$second" "$SIZE"
post held "$second" piece
expect 200
[ "$(field committed_offset)" = "$SIZE" ] || bad "not whole: $(cat body)"
done_

case_ "retries and overlaps count nothing twice; a gap is a 409"
bytes 0 5000
post retry 0 piece
expect 200
c1=$(field committed_offset)
for _ in 1 2 3; do
	post retry 0 piece
	expect 200
	[ "$(field rows_counted)" = 0 ] || bad "a retry counted: $(cat body)"
	[ "$(field committed_offset)" = "$c1" ] || bad "moved: $(cat body)"
done
# From an earlier offset through to the end.
bytes 100 "$SIZE"
post retry 100 piece
expect 200
[ "$(field committed_offset)" = "$SIZE" ] || bad "not at the end: $(cat body)"
bytes 10 20
post gap $((SIZE + 5)) piece
expect 409
[ "$(field committed_offset)" = 0 ] || bad "409 body: $(cat body)"
grep -q 'send from offset 0' body || bad "409 body: $(cat body)"
done_

case_ "the first rejected rows are named, with their lines"
post rejects 0 events.csv
expect 200
[ "$(field rows_rejected)" = 1 ] || bad "body: $(cat body)"
grep -q '"rejects":\[{"line":152,"reason":"expected 4 fields, found 2"}\]' body ||
	bad "rejects: $(cat body)"
printf '\x00\xff\xfe garbage\n\n\x01' >junk
post junk 0 junk
expect 200
[ "$(field rows_counted)" = 0 ] && [ "$(field rows_rejected)" = 1 ] ||
	bad "junk: $(cat body)"
done_

case_ "concurrent posts, to one stream and to several, count once"
# Eight clients send the same pieces of one stream in any order; each
# resends from the committed offset the store gives until it is all in.
sender() {
	local stream=$1 me=$BASHPID n=0 off
	while ((n++ < 100)); do
		curl -s -o "body.$me" -H "Authorization: Bearer $TOKEN" \
			"$base/ingest?stream=$stream"
		off=$(sed -En 's/.*"committed_offset":([0-9]+).*/\1/p' "body.$me")
		[ "$off" = "$SIZE" ] && return 0
		tail -c +$((off + 1)) events.csv | head -c 7000 >"piece.$me"
		curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: text/csv' --data-binary "@piece.$me" \
			"$base/ingest?stream=$stream&offset=$off"
	done
	return 1
}
pids=()
for i in 1 2 3 4 5 6 7 8; do
	sender shared &
	pids+=($!)
	sender "own$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || bad "a sender never got its stream in"
done
# A store of those streams alone, counted from the committed offsets.
code=$(curl -s -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"$base/ingest?stream=shared")
[ "$(field committed_offset)" = "$SIZE" ] || bad "shared: $(cat body)"
done_

stop_server TERM

case_ "the stores hold each stream once"
# Every stream of $T/db is a whole copy of events.csv: the counts are the
# file's times the streams.
"$CLI" --db "$T/db" sources --format csv >sources.csv
n=$(awk -F, '$11 == "stream" && $5 == '"$SIZE"'' sources.csv | wc -l)
"$CLI" --db "$T/db" export >got.csv
awk -F, -v n="$n" 'NR > 1 { $3 *= n } { print }' OFS=, want.csv >want-n.csv
cmp -s want-n.csv got.csv || bad "counts are not $n times the file's: $(diff want-n.csv got.csv | head -n 4 | tr '\n' '|')"
[ "$n" -ge 12 ] || bad "only $n whole streams: $(cat sources.csv)"
done_

case_ "killed between its commit and its answer: the retry counts nothing"
"$RAW_CLI" --db "$T/kill.db" ingest /dev/null 2>/dev/null
# The server sleeps 3 s after each commit (commit-gap.c), before it
# answers: killed then, it has counted the piece and said nothing.
# (Preloaded ahead of ASan's runtime in the sanitizer build, which ASan
# would refuse: its order does not matter here.)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
printf '#!/bin/sh\nLD_PRELOAD=%s EVC_TEST_COMMIT_GAP_MS=3000 exec %s "$@"\n' \
	"$COMMIT_GAP" "$RAW_CLI" >gap-cli
chmod +x gap-cli
CLI=$PWD/gap-cli start_server log2 --db "$T/kill.db" serve \
	--listen 127.0.0.1:0 --token-file token --ingest-enabled --quiet ||
	bad "no start: $(cat log2)"
curl -s -o body -w '%{http_code}' -m 20 -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: text/csv' --data-binary @events.csv \
	"$base/ingest?stream=kill&offset=0" >code &
cpid=$!
# Committed once the stream's offset shows from another process.
for _ in $(seq 1 100); do
	"$RAW_CLI" --db "$T/kill.db" sources --format csv 2>/dev/null |
		grep -q "^[0-9]*,kill,,$SIZE,$SIZE," && break
	sleep 0.05
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
wait $cpid
[ "$(cat code)" = 000 ] || bad "the client got an answer ($(cat code)): the kill came late"
start_server log3 --db "$T/kill.db" serve --listen 127.0.0.1:0 \
	--token-file token --ingest-enabled --quiet || bad "no restart"
post kill 0 events.csv
expect 200
[ "$(field rows_counted)" = 0 ] || bad "the retry counted: $(cat body)"
stop_server TERM
same_as_want "$T/kill.db"
done_

harness_finish

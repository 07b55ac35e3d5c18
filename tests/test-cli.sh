#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end tests of evcount-cli against the real library.
#
#   test-cli.sh PATH-TO-evcount-cli [SOURCE-ROOT]
#
# Every fixture is written here, with events placed so that the expected
# counts are known. Each case prints one line; the last line is
# "N passed, M failed" and the exit status is non-zero on any failure.
# The exactly-once cases feed files to a store repeatedly; the others feed
# each store each file once. No fixture is ever deleted or replaced (edits
# rewrite in place): a freed inode reused by a new fixture could pass for
# an ingested file.

set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH-TO-evcount-cli [SOURCE-ROOT]" >&2
	exit 2
fi
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
CLI=$(abspath "$1")
# Under `meson test --setup valgrind`, the CLI runs under memcheck.
CLI=$(memcheck_shim "$CLI") || exit 1
harness_start cli-test

# ---- harness ----------------------------------------------------------------

# run ARG...: run the CLI, stdin from /dev/null unless IN names a file;
# leaves the exit status in $rc and the output in files out and err.
run() {
	"$CLI" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}

rc_is() {
	[ "$rc" -eq "$1" ] || bad "exit status $rc, expected $1"
}

# out_is TEXT: stdout is exactly TEXT and one newline, but for the time of
# a query's "as_of", which TEXT writes "@" (the "as_of" cases check it).
out_is() {
	printf '%s\n' "$1" >"$T/expected"
	sed -E 's/"as_of":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"/"as_of":"@"/g' \
		"$T/out" >"$T/out.norm"
	cmp -s "$T/expected" "$T/out.norm" ||
		bad "stdout differs: $(diff "$T/expected" "$T/out.norm" | head -n 8 | tr '\n' '|')"
}

out_has() {
	grep -Eq -- "$1" "$T/out" || bad "stdout has no line matching /$1/"
}

out_lacks() {
	! grep -Eq -- "$1" "$T/out" || bad "stdout has a line matching /$1/"
}

err_has() {
	grep -Eq -- "$1" "$T/err" || bad "stderr has no line matching /$1/"
}

err_lacks() {
	! grep -Eq -- "$1" "$T/err" || bad "stderr has a line matching /$1/"
}

out_empty() {
	[ ! -s "$T/out" ] || bad "stdout is not empty"
}

err_empty() {
	[ ! -s "$T/err" ] || bad "stderr is not empty"
}

out_lines() {
	local n
	n=$(wc -l <"$T/out")
	[ "$n" -eq "$1" ] || bad "stdout has $n lines, expected $1"
}

err_lines() {
	local n
	n=$(grep -Ec -- "$1" "$T/err")
	[ "$n" -eq "$2" ] || bad "stderr has $n lines matching /$1/, expected $2"
}

err_is_one() {
	[ "$(wc -l <"$T/err")" -eq 1 ] || bad "stderr is not one line"
}

# A usage error: status 2, nothing on stdout, the problem named on one
# stderr line and the hint on the next.
usage_error() {
	rc_is 2
	out_empty
	err_has "^evcount-cli: .*$1"
	err_has "^Try 'evcount-cli --help'\.$"
	[ "$(wc -l <"$T/err")" -eq 2 ] || bad "stderr is not exactly 2 lines"
}

# ---- fixtures -----------------------------------------------------------------

uuid() {
	printf '00000000-0000-4000-8000-%012d' "$1"
}

# c1 has 6 events: 00:14, 00:15, 00:59:59, 02:30, 04:29:59, 04:30. Over
# [00:15, 04:30) that is 2 in hour 00 (partial), 1 in 02, 1 in 04 (partial).
cat >events.csv <<EOF
customer_id,event_type,transaction_id,timestamp
c1,click,$(uuid 1),2021-03-01T00:14:00Z
c1,click,$(uuid 2),2021-03-01T00:15:00Z
c1,view,$(uuid 3),2021-03-01T00:59:59Z
c2,view,$(uuid 4),2021-03-01T01:00:00Z
c1,view,$(uuid 5),2021-03-01T02:30:00Z
c1,view,$(uuid 6),2021-03-01T04:29:59Z
c1,view,$(uuid 7),2021-03-01T04:30:00Z
c2,view,$(uuid 8),2021-03-01T04:30:00Z
"a""b\\c",click,$(uuid 9),2021-03-01T03:00:00Z
EOF

# Line 3 is counted with a warning (its transaction id is not a UUID);
# lines 4 (month 13), 5 (two fields), 6 (empty customer) and 8-9 (a
# customer id holding a line feed) are rejected; 2, 7 and 10 are counted.
cat >bad.csv <<EOF
customer_id,event_type,transaction_id,timestamp
c3,click,$(uuid 11),2021-03-01T00:00:00Z
c3,click,not-a-uuid,2021-03-01T00:01:00Z
c3,click,$(uuid 12),2021-13-01T00:00:00Z
"c3,x",click
,click,$(uuid 13),2021-03-01T00:00:00Z
c3,click,$(uuid 14),2021-03-01T00:02:00Z
"c3
x",click,$(uuid 15),2021-03-01T00:03:00Z
c3,click,$(uuid 16),2021-03-01T00:59:00Z
EOF

# 13 rejected rows after one good one: more than stderr shows.
{
	echo "c4,click,$(uuid 20),2021-03-01T00:00:00Z"
	for i in $(seq 1 13); do
		echo "c4,click,$(uuid $((20 + i))),not-a-time"
	done
} >many.csv

C1_JSON='{"customer_id":"c1","start":"2021-03-01T00:15:00Z","end":"2021-03-01T04:30:00Z","total":4,"buckets":[{"hour":"2021-03-01T00:00:00Z","count":2,"partial":true},{"hour":"2021-03-01T01:00:00Z","count":0,"partial":false},{"hour":"2021-03-01T02:00:00Z","count":1,"partial":false},{"hour":"2021-03-01T03:00:00Z","count":0,"partial":false},{"hour":"2021-03-01T04:00:00Z","count":1,"partial":true}],"as_of":"@"}'
C1_CSV='hour,count,partial
2021-03-01T00:00:00Z,2,1
2021-03-01T01:00:00Z,0,0
2021-03-01T02:00:00Z,1,0
2021-03-01T03:00:00Z,0,0
2021-03-01T04:00:00Z,1,1'
C1_TABLE='hour                  count  partial
2021-03-01T00:00:00Z      2  partial
2021-03-01T01:00:00Z      0
2021-03-01T02:00:00Z      1
2021-03-01T03:00:00Z      0
2021-03-01T04:00:00Z      1  partial
total                     4'
C1=(--customer-id c1 --start 2021-03-01T00:15:00Z --end 2021-03-01T04:30:00Z)
DAY=(--start 2021-03-01 --end 2021-03-02)
SUMMARY='in [0-9]+\.[0-9]{2} s \([0-9]+\.[0-9] MB/s\)$'

# ---- ingest and query -------------------------------------------------------

case_ "ingest a file"
run --db main.db ingest events.csv
rc_is 0
out_empty
err_has "^events\.csv: 9 rows counted, 0 rejected, 0 warned $SUMMARY"
err_is_one
[ -f main.db ] || bad "main.db was not created"
done_

case_ "hourly --format json, partial first and last hours"
run --db main.db hourly "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
err_empty
done_

case_ "as_of: the time of the store's last committed ingest"
before=$(date -u +%s)
run --db asof.db ingest events.csv
after=$(date -u +%s)
run --db asof.db hourly "${C1[@]}" --format json
rc_is 0
as_of=$(sed -En 's/.*"as_of":"([^"]+)"\}$/\1/p' "$T/out")
[ -n "$as_of" ] || bad "no as_of: $(cat "$T/out")"
t=$(date -u -d "$as_of" +%s 2>/dev/null || echo 0)
[ "$t" -ge "$before" ] && [ "$t" -le "$after" ] ||
	bad "as_of $as_of is not between the ingest's start and end"
run --db asof.db counts --customer-id c1 "${DAY[@]}" --format json
grep -q "\"as_of\":\"$as_of\"}\$" "$T/out" || bad "counts: $(cat "$T/out")"
# A retry that counts nothing is an ingest that ran: time moves on.
sleep 1
run --db asof.db ingest events.csv
run --db asof.db hourly "${C1[@]}" --format json
grep -q "\"as_of\":\"$as_of\"}\$" "$T/out" && bad "as_of did not move"
done_

case_ "hourly --format csv"
run --db main.db hourly "${C1[@]}" --format csv
rc_is 0
out_is "$C1_CSV"
err_empty
done_

case_ "hourly --format table"
run --db main.db hourly "${C1[@]}" --format table
rc_is 0
out_is "$C1_TABLE"
err_empty
done_

case_ "csv is the default when stdout is not a terminal"
run --db main.db hourly "${C1[@]}"
rc_is 0
out_is "$C1_CSV"
done_

if command -v script >/dev/null 2>&1 &&
	script -qec true /dev/null >/dev/null 2>&1; then
	case_ "table is the default on a terminal"
	script -qec "$(printf '%q ' "$CLI" --db main.db hourly "${C1[@]}")" \
		/dev/null </dev/null 2>"$T/err" | tr -d '\r' >"$T/out"
	rc=${PIPESTATUS[0]}
	rc_is 0
	out_has '^hour +count +partial$'
	out_has '^2021-03-01T00:00:00Z +2 +partial$'
	out_has '^total +4$'
	done_
else
	skip "table is the default on a terminal" "script(1) cannot run"
fi

case_ "--sparse in csv"
run --db main.db hourly "${C1[@]}" --format csv --sparse
rc_is 0
out_is 'hour,count,partial
2021-03-01T00:00:00Z,2,1
2021-03-01T02:00:00Z,1,0
2021-03-01T04:00:00Z,1,1'
done_

case_ "--sparse in json keeps the total"
run --db main.db hourly "${C1[@]}" --format json --sparse
rc_is 0
out_is '{"customer_id":"c1","start":"2021-03-01T00:15:00Z","end":"2021-03-01T04:30:00Z","total":4,"buckets":[{"hour":"2021-03-01T00:00:00Z","count":2,"partial":true},{"hour":"2021-03-01T02:00:00Z","count":1,"partial":false},{"hour":"2021-03-01T04:00:00Z","count":1,"partial":true}],"as_of":"@"}'
done_

case_ "--sparse in table"
run --db main.db hourly "${C1[@]}" --format table --sparse
rc_is 0
out_is 'hour                  count  partial
2021-03-01T00:00:00Z      2  partial
2021-03-01T02:00:00Z      1
2021-03-01T04:00:00Z      1  partial
total                     4'
done_

case_ "--sparse with no events prints no rows"
run --db main.db hourly --customer-id nobody "${DAY[@]}" --format csv --sparse
rc_is 0
out_is 'hour,count,partial'
done_

case_ "--opt=value form, options before the subcommand"
run --db=main.db --format=json hourly --customer-id=c1 \
	--start=2021-03-01T00:15:00Z --end=2021-03-01T04:30:00Z
rc_is 0
out_is "$C1_JSON"
done_

case_ "--customer_id is an alias of --customer-id"
run --db main.db hourly --customer_id c1 --start 2021-03-01T00:15:00Z \
	--end 2021-03-01T04:30:00Z --format json
rc_is 0
out_is "$C1_JSON"
done_

case_ "bounds are floored to the minute"
run --db main.db hourly --customer-id c1 --start 2021-03-01T00:15:59Z \
	--end 2021-03-01T04:30:59.999Z --format json
rc_is 0
out_is "$C1_JSON"
done_

case_ "bounds with UTC offsets"
run --db main.db hourly --customer-id c1 --start 2021-03-01T01:15:00+01:00 \
	--end 2021-03-01T00:30:00-04:00 --format json
rc_is 0
out_is "$C1_JSON"
done_

case_ "bound 2021-03-01T02:15:00+01:00 is 01:15Z"
run --db main.db hourly --customer-id c1 --start 2021-03-01T02:15:00+01:00 \
	--end 2021-03-01T03:00:00Z --format csv
rc_is 0
out_is 'hour,count,partial
2021-03-01T01:00:00Z,0,1
2021-03-01T02:00:00Z,1,0'
done_

case_ "bare-date bounds cover whole days"
run --db main.db hourly --customer-id c1 "${DAY[@]}" --format json
rc_is 0
out_has '^\{"customer_id":"c1","start":"2021-03-01T00:00:00Z","end":"2021-03-02T00:00:00Z","total":6,"buckets":\['
out_lacks '"partial":true'
[ "$(grep -o '"hour"' "$T/out" | wc -l)" -eq 24 ] || bad "not 24 buckets"
run --db main.db hourly --customer-id c1 "${DAY[@]}" --format csv
out_lines 25
out_has '^2021-03-01T23:00:00Z,0,0$'
done_

case_ "json escapes quote and backslash"
run --db main.db hourly --customer-id 'a"b\c' --start 2021-03-01T03:00:00Z \
	--end 2021-03-01T04:00:00Z --format json
rc_is 0
out_is '{"customer_id":"a\"b\\c","start":"2021-03-01T03:00:00Z","end":"2021-03-01T04:00:00Z","total":1,"buckets":[{"hour":"2021-03-01T03:00:00Z","count":1,"partial":false}],"as_of":"@"}'
done_

case_ "json escapes control characters as \\u00XX"
run --db main.db hourly --customer-id $'x\ty\x01z\x1f' \
	--start 2021-03-01T03:00:00Z --end 2021-03-01T04:00:00Z --format json
rc_is 0
out_is '{"customer_id":"x\u0009y\u0001z\u001f","start":"2021-03-01T03:00:00Z","end":"2021-03-01T04:00:00Z","total":0,"buckets":[{"hour":"2021-03-01T03:00:00Z","count":0,"partial":false}],"as_of":"@"}'
done_

case_ "ingest several files, one summary each"
run --db multi.db ingest events.csv many.csv
rc_is 0
err_has "^events\.csv: 9 rows counted, 0 rejected, 0 warned $SUMMARY"
err_has "^many\.csv: 1 row counted, 13 rejected, 0 warned $SUMMARY"
out_empty
done_

case_ "ingest - reads stdin"
printf 'c5,click,%s,2021-03-01T05:00:00Z\nc5,click,%s,2021-03-01T05:59:00Z\n' \
	"$(uuid 30)" "$(uuid 31)" >stdin.csv
IN=stdin.csv run --db stdin.db ingest -
rc_is 0
out_empty
err_has "^<stdin>: 2 rows counted, 0 rejected, 0 warned $SUMMARY"
run --db stdin.db hourly --customer-id c5 --start 2021-03-01T05:00:00Z \
	--end 2021-03-01T06:00:00Z --format csv
out_is 'hour,count,partial
2021-03-01T05:00:00Z,2,0'
done_

# ---- rejected rows ----------------------------------------------------------

case_ "rejected rows on stderr, warnings only counted"
run --db rej.db ingest bad.csv
rc_is 0
out_empty
err_has '^bad\.csv:4: rejected: .+'
err_has '^bad\.csv:5: rejected: .+'
err_has '^bad\.csv:6: rejected: .+'
err_has '^bad\.csv:8: rejected: .+'
err_lines ': rejected: ' 4
err_lacks '^bad\.csv:3:'
err_has "^bad\.csv: 4 rows counted, 4 rejected, 1 warned $SUMMARY"
run --db rej.db hourly --customer-id c3 --start 2021-03-01 \
	--end 2021-03-01T01:00:00Z --format json
out_has '"total":4,'
done_

case_ "at most 10 rejected rows per file on stderr"
run --db many.db ingest many.csv
rc_is 0
err_lines ': rejected: ' 10
err_has '^many\.csv:2: rejected: '
err_has '^many\.csv:11: rejected: '
err_lacks '^many\.csv:12: '
err_has '^\.\.\. and 3 more rejected rows$'
err_has "^many\.csv: 1 row counted, 13 rejected, 0 warned $SUMMARY"
done_

case_ "--rejects writes line,reason,text records"
run --db rej2.db ingest --rejects rejects.csv bad.csv
rc_is 0
out_empty
err_lacks 'rejected: '
err_has "^bad\.csv: 4 rows counted, 4 rejected, 1 warned $SUMMARY"
cp rejects.csv "$T/out"
[ "$(head -n 1 rejects.csv)" = "line,reason,text" ] || bad "bad header"
out_has "^4,[^,].*,\"c3,click,$(uuid 12),2021-13-01T00:00:00Z\"\$"
out_has '^5,[^,].*,"""c3,x"",click"$'
out_has "^6,[^,].*,\",click,$(uuid 13),2021-03-01T00:00:00Z\"\$"
out_has '^8,[^,].*,"""c3$'
out_has "^x\"\",click,$(uuid 15),2021-03-01T00:03:00Z\"\$"
out_lacks '^3,'
out_lines 6
done_

case_ "--rejects with several files adds a file column"
run --db rej3.db ingest --rejects=rejects2.csv bad.csv many.csv
rc_is 0
cp rejects2.csv "$T/out"
[ "$(head -n 1 rejects2.csv)" = "file,line,reason,text" ] || bad "bad header"
out_has '^bad\.csv,4,[^,].*,"c3,click,'
out_has '^many\.csv,14,[^,].*,"c4,click,[-0-9]+,not-a-time"$'
out_lines $((1 + 5 + 13))
done_

if [ -w /dev/full ]; then
	case_ "--rejects write failure is an error"
	run --db full.db ingest --rejects /dev/full bad.csv
	rc_is 1
	err_has '^evcount-cli: /dev/full: .+'
	done_
else
	skip "--rejects write failure is an error" "no /dev/full"
fi

case_ "--strict fails on a rejected row and counts nothing"
run --db strict.db ingest --strict bad.csv
rc_is 1
out_empty
err_has '^evcount-cli: .+'
err_lacks ' rows? counted'
run --db strict.db hourly --customer-id c3 "${DAY[@]}" --format json --sparse
rc_is 0
out_is '{"customer_id":"c3","start":"2021-03-01T00:00:00Z","end":"2021-03-02T00:00:00Z","total":0,"buckets":[],"as_of":null}'
done_

case_ "--strict on a clean file"
run --db strict2.db ingest --strict events.csv
rc_is 0
err_has "^events\.csv: 9 rows counted, 0 rejected, 0 warned $SUMMARY"
done_

# ---- the one-shot form ------------------------------------------------------

case_ "one-shot: FILE then query"
run --db one.db events.csv "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
err_has "^events\.csv: 9 rows counted, 0 rejected, 0 warned $SUMMARY"
done_

case_ "one-shot: options first, --customer_id, --sparse"
run --db one2.db --customer_id c1 --start 2021-03-01T00:15:00Z \
	--end 2021-03-01T04:30:00Z --format csv --sparse events.csv
rc_is 0
out_is 'hour,count,partial
2021-03-01T00:00:00Z,2,1
2021-03-01T02:00:00Z,1,0
2021-03-01T04:00:00Z,1,1'
done_

case_ "one-shot: --strict fails before printing"
run --db one3.db bad.csv --customer-id c3 "${DAY[@]}" --strict
rc_is 1
out_empty
err_has '^evcount-cli: .+'
done_

case_ "one-shot: a usage error touches no store"
run --db one4.db events.csv --customer-id c1 --start 2021-13-01 --end 2021-03-02
usage_error '--start: bad timestamp'
[ ! -e one4.db ] || bad "one4.db was created"
done_

case_ "one-shot from stdin"
IN=events.csv run --db one5.db - "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
err_has "^<stdin>: 9 rows counted"
done_

# ---- stores -----------------------------------------------------------------

case_ "EVCOUNT_DB names the store"
EVCOUNT_DB=$T/env.db run ingest events.csv
rc_is 0
[ -f env.db ] || bad "env.db was not created"
EVCOUNT_DB=$T/env.db run hourly "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
done_

case_ "--db wins over EVCOUNT_DB"
EVCOUNT_DB=$T/nowhere.db run --db env.db hourly "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
[ ! -e nowhere.db ] || bad "nowhere.db was created"
done_

case_ "the default store is ./evcount.db"
mkdir cwd && cd cwd || exit 1
run ingest ../events.csv
rc_is 0
[ -f evcount.db ] || bad "./evcount.db was not created"
run hourly "${C1[@]}" --format json
rc_is 0
out_is "$C1_JSON"
cd "$T" || exit 1
done_

case_ "ingest stops at the first file that fails"
run --db stop.db ingest events.csv no-such-file.csv many.csv
rc_is 1
err_has "^events\.csv: 9 rows counted"
err_has '^evcount-cli: .+'
err_lacks '^many\.csv'
run --db stop.db hourly --customer-id c4 "${DAY[@]}" --format json --sparse
out_has '"total":0,'
run --db stop.db hourly "${C1[@]}" --format json
out_is "$C1_JSON"
done_

case_ "hourly on a missing store fails"
run --db missing.db hourly "${C1[@]}"
rc_is 1
out_empty
err_has '^evcount-cli: .+'
[ ! -e missing.db ] || bad "missing.db was created"
done_

case_ "a file that is not a store fails"
run --db events.csv hourly "${C1[@]}"
rc_is 1
out_empty
err_has '^evcount-cli: .+'
done_

case_ "a missing input file fails"
run --db main.db ingest no-such-file.csv
rc_is 1
err_has '^evcount-cli: .+'
done_

if [ -w /dev/full ]; then
	case_ "an output write error fails"
	"$CLI" --db main.db hourly "${C1[@]}" >/dev/full 2>"$T/err"
	rc=$?
	: >"$T/out"
	rc_is 1
	err_has '^evcount-cli: .+'
	done_
fi

# ---- exactly once -----------------------------------------------------------

# total DB CUSTOMER: the customer's events on 2021-03-02, from hourly.
total() {
	"$CLI" --db "$1" hourly --customer-id "$2" --start 2021-03-02 \
		--end 2021-03-03 --format json |
		sed -n 's/.*"total":\([0-9]*\),.*/\1/p'
}

# total_is DB CUSTOMER N
total_is() {
	local n
	n=$(total "$1" "$2")
	[ "$n" = "$3" ] || bad "$2 has ${n:-no} events in $1, expected $3"
}

# snapshot DB: every count of DB, to compare before and after.
snapshot() {
	"$CLI" --db "$1" export --epoch
}

# rows CUSTOMER FIRST LAST: events at 2021-03-02T00:FIRST..LAST minutes.
rows() {
	local i
	for i in $(seq "$2" "$3"); do
		printf '%s,click,%s,2021-03-02T00:%02d:00Z\n' "$1" "$(uuid "$i")" "$i"
	done
}

SKIPPED='skipped \(already ingested: resumed at byte'

rows x1 1 3 >once.csv
case_ "ingest the same file twice: already ingested, 0 new rows"
run --db once.db ingest once.csv
rc_is 0
err_has "^once\.csv: 3 rows counted, 0 rejected, 0 warned $SUMMARY"
run --db once.db ingest once.csv
rc_is 0
out_empty
err_has '^once\.csv: already ingested: 0 new rows \(checked in [0-9]+\.[0-9]{2} s\)$'
err_is_one
total_is once.db x1 3
done_

case_ "the same content under another path: already ingested"
cp once.csv once-copy.csv
run --db once.db ingest once-copy.csv
rc_is 0
err_has '^once-copy\.csv: already ingested: 0 new rows '
err_is_one
total_is once.db x1 3
# The copy is a source of its own, wholly ingested through the original.
run --db once.db sources --format csv
out_has "^2,once-copy\\.csv,.*,$(wc -c <once.csv),$(wc -c <once.csv),0,0,0,"
done_

case_ "appended lines: only they are counted"
size=$(wc -c <once.csv)
rows x1 4 5 >>once.csv
run --db once.db ingest once.csv
rc_is 0
err_has "^once\\.csv: 2 rows counted, 0 rejected, 0 warned, 3 $SKIPPED $size\\) $SUMMARY"
err_is_one
total_is once.db x1 5
run --db once.db hourly --customer-id x1 --start 2021-03-02 \
	--end 2021-03-02T01:00:00Z --format csv
out_is 'hour,count,partial
2021-03-02T00:00:00Z,5,0'
run --db once.db ingest once.csv
err_has '^once\.csv: already ingested: 0 new rows '
total_is once.db x1 5
done_

case_ "a last line without a newline is counted"
{
	rows x2 1 1
	printf 'x2,click,%s,2021-03-02T00:02:00Z' "$(uuid 2)"
} >nonl.csv
run --db nonl.db ingest nonl.csv
rc_is 0
err_has "^nonl\\.csv: 2 rows counted, 0 rejected, 0 warned $SUMMARY"
total_is nonl.db x2 2
run --db nonl.db ingest nonl.csv
err_has '^nonl\.csv: already ingested: 0 new rows '
total_is nonl.db x2 2
done_

# The held back line is cut inside its timestamp: read early, it would be
# rejected, not counted.
case_ "--follow holds back an unterminated last line, counted once complete"
{
	rows x3 1 1
	printf 'x3,click,%s,2021-03-02T00:0' "$(uuid 2)"
} >grow.csv
first=$(rows x3 1 1 | wc -c)
run --db grow.db ingest --follow grow.csv
rc_is 0
err_has "^grow\\.csv: 1 row counted, 0 rejected, 0 warned, 1 unterminated last line held back \\(--follow\\) $SUMMARY"
err_is_one
total_is grow.db x3 1
run --db grow.db ingest --follow grow.csv
rc_is 0
err_has '^grow\.csv: already ingested: 0 new rows, 1 unterminated last line held back \(--follow\) \(checked in '
total_is grow.db x3 1
printf '2:00Z\n' >>grow.csv
run --db grow.db ingest --follow grow.csv
rc_is 0
err_has "^grow\\.csv: 1 row counted, 0 rejected, 0 warned, 1 $SKIPPED $first\\) $SUMMARY"
err_lacks 'held back'
total_is grow.db x3 2
run --db grow.db ingest grow.csv
err_has '^grow\.csv: already ingested: 0 new rows '
total_is grow.db x3 2
run --db grow.db hourly --customer-id x3 --start 2021-03-02 \
	--end 2021-03-02T01:00:00Z --format csv
out_is 'hour,count,partial
2021-03-02T00:00:00Z,2,0'
done_

rows x4 1 3 >edit.csv
case_ "an edited file is refused and counts nothing"
run --db edit.db ingest edit.csv
rc_is 0
before=$(snapshot edit.db)
# One byte in the middle, the file rewritten in place.
sed '2s/x4/x5/' edit.csv >edit.tmp && cat edit.tmp >edit.csv
run --db edit.db ingest edit.csv
rc_is 1
out_empty
err_has '^evcount-cli: edit\.csv: .*changed'
err_lacks 'rows? counted'
[ "$(snapshot edit.db)" = "$before" ] || bad "the counts changed"
total_is edit.db x4 3
total_is edit.db x5 0
done_

case_ "--force counts a changed file again, as a new source"
run --db edit.db ingest --force edit.csv
rc_is 0
err_has '^evcount-cli: edit\.csv: changed since it was ingested; --force: ingested again as a new source$'
err_has "^edit\\.csv: 3 rows counted, 0 rejected, 0 warned $SUMMARY"
total_is edit.db x4 5
total_is edit.db x5 1
run --db edit.db ingest edit.csv
rc_is 0
err_has '^edit\.csv: already ingested: 0 new rows '
total_is edit.db x4 5
done_

rows x6 1 3 >trunc.csv
case_ "a truncated file is refused"
run --db trunc.db ingest trunc.csv
before=$(snapshot trunc.db)
head -n 2 trunc.csv >trunc.tmp && cat trunc.tmp >trunc.csv
run --db trunc.db ingest trunc.csv
rc_is 1
err_has '^evcount-cli: trunc\.csv: .*truncated'
[ "$(snapshot trunc.db)" = "$before" ] || bad "the counts changed"
total_is trunc.db x6 3
done_

# Two rows counted, one of them with a warning, one rejected.
{
	echo "customer_id,event_type,transaction_id,timestamp"
	rows x7 1 1
	echo "x7,click,not-a-uuid,2021-03-02T00:02:00Z"
	echo "x7,click,$(uuid 3),not-a-time"
} >src-a.csv
# A name that JSON and CSV both have to quote.
SB='src "b".csv'
rows x8 1 1 >"$SB"
REAL=$(cd "$T" && pwd -P | sed 's/[.[\*^$()+?{|]/\\&/g')
# As regular expressions: the name in JSON, in CSV, and within a CSV field.
SB_JSON='src \\"b\\"\.csv'
SB_CSV='"src ""b""\.csv"'
SB_CSV_IN='src ""b""\.csv"'
TS='"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
case_ "sources --format json lists the files, offsets and rows"
run --db src.db ingest src-a.csv "$SB"
rc_is 0
sa=$(wc -c <src-a.csv)
sb=$(wc -c <"$SB")
run --db src.db sources --format json
rc_is 0
err_empty
out_lines 1
out_has "^\\{\"sources\":\\[\\{\"id\":1,\"path\":\"src-a\\.csv\",\"realpath\":\"$REAL/src-a\\.csv\",\"size\":$sa,\"offset\":$sa,\"rows_counted\":2,\"rows_rejected\":1,\"rows_warned\":1,\"first_ingest\":$TS,\"last_ingest\":$TS,\"kind\":\"file\",\"retracted\":null\\},\\{\"id\":2,\"path\":\"$SB_JSON\",\"realpath\":\"$REAL/$SB_JSON\",\"size\":$sb,\"offset\":$sb,\"rows_counted\":1,\"rows_rejected\":0,\"rows_warned\":0,\"first_ingest\":$TS,\"last_ingest\":$TS,\"kind\":\"file\",\"retracted\":null\\}\\]\\}\$"
done_

case_ "sources: csv by default off a terminal, offsets follow appends"
rows x7 4 4 >>src-a.csv
sa2=$(wc -c <src-a.csv)
run --db src.db ingest src-a.csv
run --db src.db sources
rc_is 0
out_lines 3
out_has '^id,path,realpath,size,offset,rows_counted,rows_rejected,rows_warned,first_ingest,last_ingest,kind,retracted$'
out_has "^1,src-a\\.csv,$REAL/src-a\\.csv,$sa2,$sa2,3,1,1,[-0-9T:]+Z,[-0-9T:]+Z,file,\$"
out_has "^2,$SB_CSV,\"$REAL/$SB_CSV_IN,$sb,$sb,1,0,0,"
run --db src.db sources --format table
rc_is 0
out_has '^id +kind +path +size +offset +counted +rejected +warned +first ingest +last ingest +retracted +realpath$'
out_has "^ 1 +file +src-a\\.csv +$sa2 +$sa2 +3 +1 +1 "
out_lines 3
done_

case_ "sources of a store without sources"
run --db stdin.db sources --format json
rc_is 0
out_is '{"sources":[]}'
run --db stdin.db sources --format csv
out_lines 1
done_

cat >exp.csv <<EOF
b,click,$(uuid 1),2021-03-01T00:01:30Z
a,click,$(uuid 2),2021-03-01T00:01:00Z
b,click,$(uuid 3),2021-03-01T00:01:59Z
"c,""d",click,$(uuid 4),2021-03-01T01:00:00+01:00
a,click,$(uuid 5),2021-03-01T00:00:59.999Z
EOF
case_ "export --format csv: every (customer, minute) count"
run --db exp.db ingest exp.csv
rc_is 0
run --db exp.db export --format csv
rc_is 0
err_empty
out_is 'customer_id,minute,count
a,2021-03-01T00:00:00Z,1
a,2021-03-01T00:01:00Z,1
b,2021-03-01T00:01:00Z,2
"c,""d",2021-03-01T00:00:00Z,1'
run --db exp.db export
out_is "$(cat "$T/expected")"
run --db exp.db export --epoch
out_is 'customer_id,minute,count
a,1614556800,1
a,1614556860,1
b,1614556860,2
"c,""d",1614556800,1'
done_

case_ "export --format json"
run --db exp.db export --format json
rc_is 0
out_is '{"counts":[{"customer_id":"a","minute":"2021-03-01T00:00:00Z","count":1},{"customer_id":"a","minute":"2021-03-01T00:01:00Z","count":1},{"customer_id":"b","minute":"2021-03-01T00:01:00Z","count":2},{"customer_id":"c,\"d","minute":"2021-03-01T00:00:00Z","count":1}]}'
run --db exp.db export --format=json --epoch
out_has '^\{"counts":\[\{"customer_id":"a","minute":1614556800,"count":1\},'
run --db stdin.db export --format json
done_

case_ "export of an empty store, export errors"
run --db empty.db ingest /dev/null
rc_is 0
run --db empty.db export
rc_is 0
out_is 'customer_id,minute,count'
run --db empty.db export --format json
out_is '{"counts":[]}'
run --db exp.db export --format table
usage_error '--format: unknown format "table" \(use csv or json\)'
run --db exp.db export extra
usage_error "unexpected argument 'extra'"
run --db no-such.db export
rc_is 1
out_empty
[ ! -e no-such.db ] || bad "export created a store"
run --db exp.db hourly "${C1[@]}" --epoch
usage_error "'--epoch' does not apply to hourly"
done_

case_ "--checkpoint takes a positive SIZE with K, M or G"
for arg in 0 x 0K -1 +1 ' 1' 1T 1KB 1.5M 99999999999999999999 20000000000G ''; do
	run --db ck.db ingest --checkpoint "$arg" once.csv
	usage_error '--checkpoint: '
done
run --db ck.db events.csv "${C1[@]}" --checkpoint 0
usage_error '--checkpoint: '
[ ! -e ck.db ] || bad "a usage error created a store"
run --db ck.db hourly "${C1[@]}" --checkpoint 1K
usage_error "'--checkpoint' does not apply to hourly"
done_

case_ "--checkpoint 1K: many checkpoints, exact counts"
for i in $(seq 1 300); do
	printf 'x9,click,%s,2021-03-02T%02d:%02d:00Z\n' "$(uuid "$i")" \
		$((i / 60 % 24)) $((i % 60))
done >ck.csv
run --db ck.db ingest --checkpoint 1K --no-progress ck.csv
rc_is 0
err_has "^ck\\.csv: 300 rows counted, 0 rejected, 0 warned $SUMMARY"
total_is ck.db x9 300
run --db ck.db ingest --checkpoint=2k ck.csv
err_has '^ck\.csv: already ingested: 0 new rows '
run --db ck.db sources --format csv
out_has "^1,ck\\.csv,.*,$(wc -c <ck.csv),$(wc -c <ck.csv),300,0,0,"
done_

case_ "a missing file or a directory: exit 1, store unchanged"
before=$(snapshot once.db)
run --db once.db ingest no-such-file.csv
rc_is 1
err_has '^evcount-cli: no-such-file\.csv: '
mkdir -p a-dir
run --db once.db ingest a-dir
rc_is 1
err_has '^evcount-cli: a-dir: .*directory'
[ "$(snapshot once.db)" = "$before" ] || bad "the counts changed"
# once.csv and its copy, nothing for the failed inputs.
run --db once.db sources --format csv
out_lines 3
out_lacks 'no-such-file|a-dir'
done_

case_ "a new file on a reused inode is a new source, not a changed one"
rows x11 1 3 >ino-a.csv
run --db ino.db ingest ino-a.csv
rc_is 0
rm ino-a.csv
rows x11 10 11 >ino-b.csv
run --db ino.db ingest ino-b.csv
rc_is 0
err_has "^ino-b\.csv: 2 rows counted, 0 rejected, 0 warned $SUMMARY"
total_is ino.db x11 5
done_

case_ "a copy stays ingested when the original grows"
rows x12 1 3 >cpgrow.csv
run --db cpgrow.db ingest cpgrow.csv
cp cpgrow.csv cpgrow-copy.csv
run --db cpgrow.db ingest cpgrow-copy.csv
err_has '^cpgrow-copy\.csv: already ingested: 0 new rows '
rows x12 4 4 >>cpgrow.csv
run --db cpgrow.db ingest cpgrow.csv
err_has "^cpgrow\\.csv: 1 row counted"
run --db cpgrow.db ingest cpgrow-copy.csv
rc_is 0
err_has '^cpgrow-copy\.csv: already ingested: 0 new rows '
total_is cpgrow.db x12 4
done_

case_ "rows appended to a copy are counted once"
rows x13 1 3 >orig.csv
run --db app.db ingest orig.csv
cp orig.csv orig-copy.csv
rows x13 4 4 >>orig-copy.csv
run --db app.db ingest orig-copy.csv
rc_is 0
err_has "^orig-copy\.csv: 1 row counted"
total_is app.db x13 4
run --db app.db ingest orig-copy.csv
err_has '^orig-copy\.csv: already ingested: 0 new rows '
total_is app.db x13 4
done_

# stdin is a stream, not a source: the store cannot know it saw it before.
case_ "stdin ingested twice counts twice"
rows x10 1 2 >twice.csv
IN=twice.csv run --db twice.db ingest -
rc_is 0
err_has "^<stdin>: 2 rows counted, 0 rejected, 0 warned $SUMMARY"
IN=twice.csv run --db twice.db ingest -
rc_is 0
err_has "^<stdin>: 2 rows counted, 0 rejected, 0 warned $SUMMARY"
err_lacks 'already|skipped|source'
total_is twice.db x10 4
run --db twice.db sources --format json
out_is '{"sources":[]}'
done_

# As root permissions do not apply: the case then runs as nobody when it
# can, else it is skipped.
AS=()
ro_ok=1
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$T"
	if command -v setpriv >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			test -x "$CLI" -a -r twice.csv 2>/dev/null; then
		AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	else
		ro_ok=0
	fi
fi
if [ $ro_ok = 1 ]; then
	case_ "a store in a read-only directory: ingest fails, store unchanged"
	mkdir ro-dir
	[ ${#AS[@]} -eq 0 ] || chown 65534:65534 ro-dir
	"${AS[@]}" "$CLI" --db ro-dir/s.db ingest twice.csv 2>"$T/err" ||
		bad "the first ingest failed"
	sum=$(cksum <ro-dir/s.db)
	chmod 555 ro-dir
	"${AS[@]}" "$CLI" --db ro-dir/s.db ingest once.csv >"$T/out" 2>"$T/err"
	rc=$?
	rc_is 1
	out_empty
	err_has '^evcount-cli: .+'
	err_lacks 'rows? counted'
	chmod 755 ro-dir
	[ "$(cksum <ro-dir/s.db)" = "$sum" ] || bad "the store file changed"
	total_is ro-dir/s.db x10 2
	total_is ro-dir/s.db x1 0
	done_
else
	skip "a store in a read-only directory" "root, and cannot run as nobody"
fi

if command -v script >/dev/null 2>&1 &&
	script -qec true /dev/null >/dev/null 2>&1; then
	# 10 MB: over the size from which the bar is drawn at once.
	awk -v u="$(uuid 0)" 'BEGIN {
		for (i = 0; i < 150000; i++)
			printf "p%d,click,%s,2021-03-02T%02d:%02d:00Z\n",
				i % 50, u, int(i / 60) % 24, i % 60
	}' >big.csv
	case_ "a progress bar on a terminal, cleared before the summary"
	script -qec "$(printf '%q ' "$CLI" --db big.db ingest big.csv)" \
		/dev/null </dev/null >"$T/err" 2>&1
	rc=$?
	: >"$T/out"
	rc_is 0
	grep -Eq $'\rbig\\.csv: [0-9.]+ [kM]B / 10\\.[0-9] MB +[0-9]+%' "$T/err" ||
		bad "no bar drawn"
	grep -q $'\r\033\\[Kbig\\.csv: 150000 rows counted' "$T/err" ||
		bad "the bar is not cleared before the summary"
	total_is big.db p0 3000
	done_

	case_ "no progress bar with --no-progress or for a small file"
	script -qec "$(printf '%q ' "$CLI" --db big2.db ingest --no-progress big.csv)" \
		/dev/null </dev/null >"$T/err" 2>&1
	rc=$?
	rc_is 0
	! grep -q $'\033' "$T/err" || bad "a bar was drawn with --no-progress"
	grep -q '^big\.csv: 150000 rows counted' "$T/err" || bad "no summary"
	script -qec "$(printf '%q ' "$CLI" --db small.db ingest events.csv)" \
		/dev/null </dev/null >"$T/err" 2>&1
	rc=$?
	rc_is 0
	! grep -q $'\033' "$T/err" || bad "a bar was drawn for a small file"
	done_

	case_ "a progress bar without a total for a slow stream"
	script -qec "sh -c '(head -c 2000000 big.csv; sleep 0.7; tail -c +2000001 big.csv) | $(printf '%q ' "$CLI" --db big3.db ingest -)'" \
		/dev/null </dev/null >"$T/err" 2>&1
	rc=$?
	rc_is 0
	grep -Eq $'\r<stdin>: [0-9.]+ MB  [0-9.]+k rows/s  [0-9.]+ MB/s\033' \
		"$T/err" || bad "no bar drawn"
	! grep -q 'ETA' "$T/err" || bad "an ETA without a total"
	grep -q $'\r\033\\[K<stdin>: 150000 rows counted' "$T/err" ||
		bad "the bar is not cleared before the summary"
	done_
else
	skip "progress bar" "script(1) cannot run"
fi

# ---- counts -----------------------------------------------------------------

# n1 straddles New York's changes of 2021: 04:59Z on 14 March is 23:59 EST
# of the 13th, 05:00Z midnight of the 14th, 03:59:59Z on the 15th 23:59:59
# EDT of the 14th (a 23-hour day), 04:00Z midnight of the 15th; 05:30Z and
# 06:30Z on 7 November are both 01:30 local, before and after the clocks
# go back. n2 and n3 tie with one event each.
cat >zones.csv <<EOF
n1,click,$(uuid 101),2021-03-14 04:59:00+00
n1,click,$(uuid 102),2021-03-14 05:00:00+00
n1,click,$(uuid 103),2021-03-15 03:59:59+00
n1,click,$(uuid 104),2021-03-15 04:00:00+00
n1,click,$(uuid 105),2021-11-07 05:30:00+00
n1,click,$(uuid 106),2021-11-07 06:30:00+00
n2,click,$(uuid 107),2021-03-14 06:00:00+00
n3,click,$(uuid 108),2021-03-14 06:00:00+00
EOF
NY=(--tz America/New_York)

case_ "counts: a 23-hour day in New York"
run --db zones.db ingest zones.csv
rc_is 0
run --db zones.db counts --customer-id n1 --start 2021-03-13 --end 2021-03-16 \
	--bucket day "${NY[@]}" --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-13T00:00:00-05:00,2021-03-14T00:00:00-05:00,1,0
n1,2021-03-14T00:00:00-05:00,2021-03-15T00:00:00-04:00,2,0
n1,2021-03-15T00:00:00-04:00,2021-03-16T00:00:00-04:00,1,0'
err_empty
done_

case_ "counts: the repeated hour of a fall-back is one two-hour bucket"
run --db zones.db counts --customer-id n1 --start 2021-11-07T00:00:00 \
	--end 2021-11-07T03:00:00 "${NY[@]}" --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-11-07T00:00:00-04:00,2021-11-07T01:00:00-04:00,0,0
n1,2021-11-07T01:00:00-04:00,2021-11-07T02:00:00-05:00,2,0
n1,2021-11-07T02:00:00-05:00,2021-11-07T03:00:00-05:00,0,0'
done_

case_ "counts: hours of a half-hour zone"
run --db zones.db counts --customer-id n1 --start 2021-03-14T04:30:00Z \
	--end 2021-03-14T06:00:00Z --tz Asia/Kolkata --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T10:00:00+05:30,2021-03-14T11:00:00+05:30,2,0
n1,2021-03-14T11:00:00+05:30,2021-03-14T12:00:00+05:30,0,1'
done_

case_ "counts: a fixed offset is a zone"
run --db zones.db counts --customer-id n1 --start 2021-03-14T04:30:00Z \
	--end 2021-03-14T06:00:00Z --tz +05:30 --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T10:00:00+05:30,2021-03-14T11:00:00+05:30,2,0
n1,2021-03-14T11:00:00+05:30,2021-03-14T12:00:00+05:30,0,1'
done_

case_ "counts: bounds without an offset are the zone's wall clock"
# Midnight of the 14th in New York is 05:00Z: the event at 04:59Z is out.
run --db zones.db counts --customer-id n1 --start 2021-03-14 \
	--end 2021-03-14T01:00:00 --bucket all "${NY[@]}" --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T00:00:00-05:00,2021-03-14T01:00:00-05:00,1,0'
done_

case_ "counts: week buckets start on Monday, month buckets on the 1st"
run --db zones.db counts --customer-id n1 --start 2021-03-01 --end 2021-03-29 \
	--bucket week "${NY[@]}" --format csv --sparse
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-08T00:00:00-05:00,2021-03-15T00:00:00-04:00,3,0
n1,2021-03-15T00:00:00-04:00,2021-03-22T00:00:00-04:00,1,0'
run --db zones.db counts --customer-id n1 --start 2021-01-01 --end 2022-01-01 \
	--bucket month "${NY[@]}" --format csv --sparse
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-01T00:00:00-05:00,2021-04-01T00:00:00-04:00,4,0
n1,2021-11-01T00:00:00-04:00,2021-12-01T00:00:00-05:00,2,0'
done_

case_ "counts: a bucket cut by the range is partial, its boundaries kept"
run --db zones.db counts --customer-id n1 --start 2021-03-14T05:00:00Z \
	--end 2021-03-14T05:30:00Z --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T05:00:00Z,2021-03-14T06:00:00Z,1,1'
done_

case_ "counts: several customers in the order given, unknown ones zero"
run --db zones.db counts --customer-id n3 --customer-id zz --customer-id n1 \
	--start 2021-03-14T06:00:00Z --end 2021-03-14T07:00:00Z --format json
rc_is 0
out_is '{"start":"2021-03-14T06:00:00Z","end":"2021-03-14T07:00:00Z","bucket":"hour","tz":"UTC","customers":[{"customer_id":"n3","total":1,"buckets":[{"start":"2021-03-14T06:00:00Z","end":"2021-03-14T07:00:00Z","count":1,"partial":false}]},{"customer_id":"zz","total":0,"buckets":[{"start":"2021-03-14T06:00:00Z","end":"2021-03-14T07:00:00Z","count":0,"partial":false}]},{"customer_id":"n1","total":0,"buckets":[{"start":"2021-03-14T06:00:00Z","end":"2021-03-14T07:00:00Z","count":0,"partial":false}]}],"as_of":"@"}'
done_

case_ "counts: --all-customers by id, --sparse leaves out the silent ones"
run --db zones.db counts --all-customers --start 2021-03-14T06:00:00Z \
	--end 2021-03-14T07:00:00Z --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T06:00:00Z,2021-03-14T07:00:00Z,0,0
n2,2021-03-14T06:00:00Z,2021-03-14T07:00:00Z,1,0
n3,2021-03-14T06:00:00Z,2021-03-14T07:00:00Z,1,0'
run --db zones.db counts --all-customers --start 2021-03-14T06:00:00Z \
	--end 2021-03-14T07:00:00Z --format csv --sparse
out_is 'customer_id,start,end,count,partial
n2,2021-03-14T06:00:00Z,2021-03-14T07:00:00Z,1,0
n3,2021-03-14T06:00:00Z,2021-03-14T07:00:00Z,1,0'
done_

case_ "counts: --top, largest first, ties by id"
run --db zones.db counts --all-customers --top 2 --start 2021-03-14 \
	--end 2021-03-15 --bucket all --format csv
rc_is 0
out_is 'customer_id,start,end,count,partial
n1,2021-03-14T00:00:00Z,2021-03-15T00:00:00Z,2,0
n2,2021-03-14T00:00:00Z,2021-03-15T00:00:00Z,1,0'
done_

case_ "counts: the table has a block per customer"
run --db zones.db counts --customer-id n1 --customer-id n2 \
	--start 2021-11-07T01:00:00 --end 2021-11-07T02:00:00 "${NY[@]}" \
	--format table
rc_is 0
out_is 'customer n1
start                      end                        count  partial
2021-11-07T01:00:00-04:00  2021-11-07T02:00:00-05:00      2
total                                                     2

customer n2
start                      end                        count  partial
2021-11-07T01:00:00-04:00  2021-11-07T02:00:00-05:00      0
total                                                     0'
done_

case_ "counts: refused queries print nothing on stdout"
run --db zones.db counts --customer-id n1 "${DAY[@]}" --bucket 7m
usage_error 'bucket width "7m" does not divide a day'
run --db zones.db counts --customer-id n1 "${DAY[@]}" --bucket fortnight
usage_error 'fortnight'
run --db zones.db counts --customer-id n1 "${DAY[@]}" --tz Mars/Base
usage_error 'unknown time zone "Mars/Base"'
run --db zones.db counts --customer-id n1 --all-customers "${DAY[@]}"
usage_error 'one or the other'
run --db zones.db counts "${DAY[@]}"
usage_error 'missing --customer-id'
run --db zones.db counts --all-customers --top 0 "${DAY[@]}"
usage_error '--top'
run --db zones.db counts --all-customers --start 0001-01-01 \
	--end 9999-01-01 --bucket minute
usage_error 'range too wide'
done_

case_ "hourly takes one customer"
run --db zones.db hourly --customer-id n1 --customer-id n2 "${DAY[@]}"
usage_error 'customer'
done_

# ---- corrections and streams ---------------------------------------------------

# k1 twice in 00:10, k2 at 01:00 and 02:00; k1 again in 00:10 and k3 at
# 03:00 in another file.
cat >fix.csv <<EOF
k1,click,$(uuid 201),2021-03-01T00:10:00Z
k1,click,$(uuid 202),2021-03-01T00:10:30Z
k2,click,$(uuid 203),2021-03-01T01:00:00Z
k2,click,$(uuid 204),2021-03-01T02:00:00Z
EOF
cat >fix-other.csv <<EOF
k1,click,$(uuid 205),2021-03-01T00:10:00Z
k3,click,$(uuid 206),2021-03-01T03:00:00Z
EOF
FIX_BOTH='customer_id,minute,count
k1,2021-03-01T00:10:00Z,3
k2,2021-03-01T01:00:00Z,1
k2,2021-03-01T02:00:00Z,1
k3,2021-03-01T03:00:00Z,1'

case_ "retract --dry-run says what would go and changes nothing"
run --db fix.db ingest fix.csv fix-other.csv
rc_is 0
run --db fix.db retract --dry-run fix.csv
rc_is 0
out_is 'would retract fix.csv: 4 rows in 1 source, 4 events, 2 customers (1 left with none, removed), 3 hours (2 left empty, removed)'
err_empty
run --db fix.db export
out_is "$FIX_BOTH"
done_

case_ "retract takes back exactly what the file added"
run --db fix.db retract fix.csv
rc_is 0
out_is 'retracted fix.csv: 4 rows in 1 source, 4 events, 2 customers (1 left with none, removed), 3 hours (2 left empty, removed)'
run --db fix.db export
out_is 'customer_id,minute,count
k1,2021-03-01T00:10:00Z,1
k3,2021-03-01T03:00:00Z,1'
run --db fix.db sources --format csv
out_has '^1,fix\.csv,.*,file,[0-9]{4}-[0-9-]+T[0-9:]+Z$'
out_has '^2,fix-other\.csv,.*,file,$'
done_

case_ "retract refuses a file retracted already, never ingested or changed"
run --db fix.db retract fix.csv
rc_is 1
out_empty
err_has '^evcount-cli: fix\.csv: refused: it was never ingested, or was retracted already; nothing subtracted$'
run --db fix.db retract events.csv
rc_is 1
err_has 'never ingested'
sed -i 's/03:00:00Z/03:00:01Z/' fix-other.csv
run --db fix.db retract fix-other.csv
rc_is 1
err_has '^evcount-cli: fix-other\.csv: refused: it no longer holds what was ingested from it'
run --db fix.db retract nowhere.csv
rc_is 1
err_has 'nowhere\.csv: cannot open'
run --db fix.db export
out_is 'customer_id,minute,count
k1,2021-03-01T00:10:00Z,1
k3,2021-03-01T03:00:00Z,1'
done_

case_ "a retracted file ingested again counts as new"
run --db fix.db ingest fix.csv
rc_is 0
err_has '^fix\.csv: 4 rows counted, 0 rejected, 0 warned '
run --db fix.db export
out_is "$FIX_BOTH"
done_

case_ "forget removes a customer and its id"
run --db fix.db forget --customer-id k3 --dry-run
rc_is 0
out_is 'would forget customer "k3": 1 event in 1 hour'
run --db fix.db forget --customer-id k3 --customer-id nobody
rc_is 0
out_has '^forgot customer "k3": 1 event in 1 hour; store [0-9.]+ [kMG]B, now [0-9.]+ [kMG]B$'
out_has '^forgot customer "nobody": no counts \(an unknown customer\)$'
run --db fix.db customers --format csv
out_lacks '^k3,'
out_has '^k1,3,'
done_

case_ "prune removes what is before the minute of its time"
run --db fix.db prune --before 2021-03-01T01:00:59Z --dry-run
rc_is 0
out_is 'would prune counts before 2021-03-01T01:00:00Z: 3 events, 1 customer (1 left with none, removed), 1 hour'
run --db fix.db prune --before 2021-03-01T01:00:59Z
rc_is 0
out_has '^pruned counts before 2021-03-01T01:00:00Z: 3 events, 1 customer \(1 left with none, removed\), 1 hour; store '
run --db fix.db export
out_is 'customer_id,minute,count
k2,2021-03-01T01:00:00Z,1
k2,2021-03-01T02:00:00Z,1'
run --db fix.db check
rc_is 0
done_

case_ "corrections: usage errors"
run --db fix.db retract
usage_error 'retract: missing FILE'
run --db fix.db forget
usage_error 'forget: missing --customer-id'
run --db fix.db forget --customer-id ''
usage_error 'empty customer id'
run --db fix.db prune
usage_error 'prune: missing --before'
run --db fix.db prune --before yesterday
usage_error '--before: bad timestamp "yesterday"'
run --db fix.db prune --before 2021-03-01 extra
usage_error "unexpected argument 'extra'"
run --db fix.db hourly "${C1[@]}" --dry-run
usage_error "'--dry-run' does not apply to hourly"
run --db none.db retract fix.csv
rc_is 1
err_has 'no such store'
done_

# A stream sent in pieces through stdin: the first cut inside line 3.
cat >stream.csv <<EOF
s1,click,$(uuid 301),2021-03-01T00:00:00Z
s1,click,$(uuid 302),2021-03-01T00:01:00Z
s2,click,$(uuid 303),2021-03-01T00:02:00Z
s1,click,$(uuid 304),2021-03-01T00:03:00Z
EOF
LINE=$(($(head -n 1 stream.csv | wc -c)))

case_ "ingest --stream: a piece cut inside a line commits up to the line"
head -c $((2 * LINE + 10)) stream.csv >piece1
IN=piece1 run --db st.db ingest --stream web --offset 0 -
rc_is 0
err_has "^<stdin>: 2 rows counted, 0 rejected, 0 warned, an unterminated last line held back in [0-9.]+ s; stream web committed to offset $((2 * LINE))\$"
done_

case_ "ingest --stream: the rest, then the same again, count once"
tail -c +$((2 * LINE + 1)) stream.csv >piece2
IN=piece2 run --db st.db ingest --stream web --offset $((2 * LINE)) -
rc_is 0
err_has "^<stdin>: 2 rows counted, 0 rejected, 0 warned in [0-9.]+ s; stream web committed to offset $((4 * LINE))\$"
run --db st.db ingest --stream web --offset 0 stream.csv
rc_is 0
err_has "^stream\.csv: 0 rows counted, 0 rejected, 0 warned, $((4 * LINE)) bytes already counted, skipped in [0-9.]+ s; stream web committed to offset $((4 * LINE))\$"
run --db st.db hourly --customer-id s1 --start 2021-03-01 --end 2021-03-01T01:00:00Z
out_has '^2021-03-01T00:00:00Z,3,0$'
run --db st.db sources --format csv
out_has "^1,web,,$((4 * LINE)),$((4 * LINE)),4,0,0,[-0-9T:]+Z,[-0-9T:]+Z,stream,\$"
done_

case_ "ingest --stream: a gap is refused, naming where to send from"
IN=piece2 run --db st.db ingest --stream web --offset $((5 * LINE)) -
rc_is 1
err_has "^evcount-cli: stream web: offset $((5 * LINE)) is past the committed offset $((4 * LINE)): bytes $((4 * LINE)) to $((5 * LINE)) are missing; send from offset $((4 * LINE))\$"
err_has "^evcount-cli: stream web: committed offset $((4 * LINE))\$"
done_

case_ "ingest --stream: usage errors"
run --db st.db ingest --stream web -
usage_error '--stream: needs --offset N'
run --db st.db ingest --offset 3 -
usage_error '--offset: only with --stream'
run --db st.db ingest --stream web --offset -1 -
usage_error '--offset: expected a byte offset, not "-1"'
run --db st.db ingest --stream web --offset 0 stream.csv fix.csv
usage_error '--stream: one FILE'
run --db st.db ingest --stream web --offset 0 --follow -
usage_error '--stream: --follow does not apply'
run --db st.db ingest --stream '' --offset 0 -
rc_is 1
err_has 'stream name must be 1 to 255 bytes'
# ---- charts -----------------------------------------------------------------

# ch, over [00:10, 05:30): 2 in hour 00 (partial), none in 01, 3 in 02, 1 in
# 03, 7 in 04, none in 05 (partial). spike: 1 at 00:00, 1000 at 01:00, 1 at
# 03:59. At 80 columns ch's bars get 80 - 20 - 2 - 1 - 3 = 54 cells, 432
# eighths: 7 fills them, 2 is 123.4 eighths (15 cells and 3/8), 3 is 185.1
# (23 and 1/8), 1 is 61.7 (7 and 6/8). The charts are compared byte for
# byte, in a pipe, the width and the locale set by each case.
{
	for t in 00:20 00:40 02:00 02:10 02:20 03:00; do
		echo "ch,click,$(uuid 201),2021-03-01T$t:00Z"
	done
	for i in $(seq 7); do
		echo "ch,click,$(uuid $((201 + i))),2021-03-01T04:00:00Z"
	done
	echo "spike,click,$(uuid 301),2021-03-01T00:00:00Z"
	for i in $(seq 1000); do
		echo "spike,click,$(uuid $((301 + i))),2021-03-01T01:00:00Z"
	done
	echo "spike,click,$(uuid 1302),2021-03-01T03:59:00Z"
} >chart.csv
CH=(--customer-id ch --start 2021-03-01T00:10:00Z --end 2021-03-01T05:30:00Z)
CH_UNICODE='2021-03-01T00:00:00Z  2 * ███████████████▍
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   ███████████████████████▏
2021-03-01T03:00:00Z  1   ███████▊
2021-03-01T04:00:00Z  7   ██████████████████████████████████████████████████████
2021-03-01T05:00:00Z  0 *
total 13, max 7, █ ≈ 0.1296 events, * partial'
CH_ASCII='2021-03-01T00:00:00Z  2 * ###############
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   #######################
2021-03-01T03:00:00Z  1   ########
2021-03-01T04:00:00Z  7   ######################################################
2021-03-01T05:00:00Z  0 *
total 13, max 7, # ~ 0.1296 events, * partial'
# The width a chart takes must come from each case, never from the caller.
unset COLUMNS

case_ "chart: eighth blocks to COLUMNS, partial marked, a zero without a bar"
run --db chart.db ingest --no-progress chart.csv
rc_is 0
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" --format chart
rc_is 0
out_is "$CH_UNICODE"
err_empty
done_

case_ "chart: '#' with --ascii, and in a locale that is not UTF-8"
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" --format chart \
	--ascii
rc_is 0
out_is "$CH_ASCII"
COLUMNS=80 LC_ALL=C run --db chart.db hourly "${CH[@]}" --format chart
rc_is 0
out_is "$CH_ASCII"
COLUMNS=80 LC_ALL=C LANG=C.UTF-8 run --db chart.db hourly "${CH[@]}" \
	--format chart
out_is "$CH_ASCII"
done_

case_ "chart: a pipe without COLUMNS, or with a COLUMNS that is no width, is 80 wide"
LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" --format chart
rc_is 0
out_is "$CH_UNICODE"
for cols in "" 0 -5 abc 80x 99999; do
	COLUMNS=$cols LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" \
		--format chart
	out_is "$CH_UNICODE"
done
done_

case_ "chart: another COLUMNS rescales the bars and the footer"
COLUMNS=60 LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" --format chart
rc_is 0
out_is '2021-03-01T00:00:00Z  2 * █████████▊
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   ██████████████▋
2021-03-01T03:00:00Z  1   ████▉
2021-03-01T04:00:00Z  7   ██████████████████████████████████
2021-03-01T05:00:00Z  0 *
total 13, max 7, █ ≈ 0.2059 events, * partial'
done_

case_ "chart: the narrowest chart has 10 cells of bar, however narrow COLUMNS"
# 20 + 2 + 1 + 3 + 10 = 36 columns; fewer still draw 10 cells, wrapping.
for cols in 36 35 1; do
	COLUMNS=$cols LC_ALL=C.UTF-8 run --db chart.db hourly "${CH[@]}" \
		--format chart
	rc_is 0
	out_is '2021-03-01T00:00:00Z  2 * ██▉
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   ████▎
2021-03-01T03:00:00Z  1   █▍
2021-03-01T04:00:00Z  7   ██████████
2021-03-01T05:00:00Z  0 *
total 13, max 7, █ = 0.7 events, * partial'
done
COLUMNS=36 LC_ALL=C run --db chart.db hourly "${CH[@]}" --format chart
out_is '2021-03-01T00:00:00Z  2 * ###
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   ####
2021-03-01T03:00:00Z  1   #
2021-03-01T04:00:00Z  7   ##########
2021-03-01T05:00:00Z  0 *
total 13, max 7, # = 0.7 events, * partial'
done_

case_ "chart: one huge bucket, and the smallest counts still get a bar"
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart.db hourly --customer-id spike \
	--start 2021-03-01 --end 2021-03-01T04:00:00Z --format chart
rc_is 0
out_is '2021-03-01T00:00:00Z     1   ▏
2021-03-01T01:00:00Z  1000   ███████████████████████████████████████████████████
2021-03-01T02:00:00Z     0
2021-03-01T03:00:00Z     1   ▏
total 1002, max 1000, █ ≈ 19.61 events'
COLUMNS=80 LC_ALL=C run --db chart.db hourly --customer-id spike \
	--start 2021-03-01 --end 2021-03-01T04:00:00Z --format chart
out_is '2021-03-01T00:00:00Z     1   #
2021-03-01T01:00:00Z  1000   ###################################################
2021-03-01T02:00:00Z     0
2021-03-01T03:00:00Z     1   #
total 1002, max 1000, # ~ 19.61 events'
done_

case_ "chart: an all-zero range has no bars and nothing to scale"
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart.db hourly --customer-id ch \
	--start 2021-03-01T05:00:00Z --end 2021-03-01T07:30:00Z --format chart
rc_is 0
out_is '2021-03-01T05:00:00Z  0
2021-03-01T06:00:00Z  0
2021-03-01T07:00:00Z  0 *
total 0, max 0, nothing to scale, * partial'
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart.db hourly --customer-id ch \
	--start 2021-03-01T05:00:00Z --end 2021-03-01T07:00:00Z --format chart \
	--sparse
rc_is 0
out_is 'total 0, max 0, nothing to scale'
done_

case_ "chart: counts, a chart per customer in the order given, in a zone"
COLUMNS=60 LC_ALL=C.UTF-8 run --db chart.db counts --customer-id spike \
	--customer-id nobody --customer-id ch --start 2021-02-28T19:00:00 \
	--end 2021-02-28T23:00:00 --tz America/New_York --format chart
rc_is 0
out_is 'customer spike
2021-02-28T19:00:00-05:00     1   ▏
2021-02-28T20:00:00-05:00  1000   ██████████████████████████
2021-02-28T21:00:00-05:00     0
2021-02-28T22:00:00-05:00     1   ▏
total 1002, max 1000, █ ≈ 38.46 events

customer nobody
2021-02-28T19:00:00-05:00  0
2021-02-28T20:00:00-05:00  0
2021-02-28T21:00:00-05:00  0
2021-02-28T22:00:00-05:00  0
total 0, max 0, nothing to scale

customer ch
2021-02-28T19:00:00-05:00  2   ███████████████████▍
2021-02-28T20:00:00-05:00  0
2021-02-28T21:00:00-05:00  3   █████████████████████████████
2021-02-28T22:00:00-05:00  1   █████████▋
total 6, max 3, █ ≈ 0.1034 events'
err_empty
done_

case_ "chart: counts of every customer, sparse, wider buckets"
COLUMNS=60 LC_ALL=C run --db chart.db counts --all-customers \
	--start 2021-03-01 --end 2021-03-02 --bucket 6h --format chart --sparse
rc_is 0
out_is 'customer ch
2021-03-01T00:00:00Z  13   #################################
total 13, max 13, # ~ 0.3939 events

customer spike
2021-03-01T00:00:00Z  1002   ###############################
total 1002, max 1002, # ~ 32.32 events'
done_

if command -v sqlite3 >/dev/null; then
	case_ "chart: counts with many digits keep their columns"
	# An hour of 1234567890123456789 events, written with SQLite's own
	# shell: the total, the minute blob (minute 0, the count as a varint)
	# and the day's total agree, so the store reads as sound.
	printf 'big,click,%s,2021-03-01T0%s:00:00Z\n' "$(uuid 401)" 0 \
		"$(uuid 402)" 1 "$(uuid 403)" 3 >digits.csv
	run --db digits.db ingest --no-progress digits.csv
	rc_is 0
	big=1234567890123456789
	v=$big
	blob=00
	while [ "$v" -ge 128 ]; do
		blob+=$(printf '%02x' $(((v & 127) | 128)))
		v=$((v >> 7))
	done
	blob+=$(printf '%02x' "$v")
	sqlite3 digits.db "UPDATE hour_counts SET total = $big,
		minutes = X'$blob' WHERE hour = 1614560400 / 3600;
		UPDATE day_counts SET total = $big + 2" || bad "sqlite3 failed"
	run --db digits.db check
	rc_is 0
	COLUMNS=80 LC_ALL=C.UTF-8 run --db digits.db hourly --customer-id big \
		--start 2021-03-01 --end 2021-03-01T04:00:00Z --format chart
	rc_is 0
	out_is '2021-03-01T00:00:00Z                    1   ▏
2021-03-01T01:00:00Z  1234567890123456789   ████████████████████████████████████
2021-03-01T02:00:00Z                    0
2021-03-01T03:00:00Z                    1   ▏
total 1234567890123456791, max 1234567890123456789, █ ≈ 34293552503429355 events'
	COLUMNS=80 LC_ALL=C run --db digits.db counts --customer-id big \
		--start 2021-03-01 --end 2021-03-02 --bucket day --format chart
	rc_is 0
	out_is 'customer big
2021-03-01T00:00:00Z  1234567890123456791   ####################################
total 1234567890123456791, max 1234567890123456791, # ~ 34293552503429355 events'
	done_
elif [ -n "${CI:-}" ]; then
	case_ "chart: counts with many digits keep their columns"
	bad "sqlite3 (the shell) not found, and CI is set"
	done_
else
	skip "chart: counts with many digits" "sqlite3 (the shell) not found"
fi

if command -v script >/dev/null 2>&1 &&
	script -qec true /dev/null >/dev/null 2>&1; then
	case_ "chart: on a terminal, its width"
	script -qec "stty cols 50; env -u COLUMNS LC_ALL=C.UTF-8 $(printf '%q ' \
		"$CLI" --db chart.db hourly "${CH[@]}" --format chart)" \
		/dev/null </dev/null 2>"$T/err" | tr -d '\r' >"$T/out"
	rc=${PIPESTATUS[0]}
	rc_is 0
	out_is '2021-03-01T00:00:00Z  2 * ██████▉
2021-03-01T01:00:00Z  0
2021-03-01T02:00:00Z  3   ██████████▎
2021-03-01T03:00:00Z  1   ███▍
2021-03-01T04:00:00Z  7   ████████████████████████
2021-03-01T05:00:00Z  0 *
total 13, max 7, █ ≈ 0.2917 events, * partial'
	done_
else
	skip "chart: on a terminal" "script(1) cannot run"
fi

case_ "chart: the one-shot form draws one too"
COLUMNS=80 LC_ALL=C.UTF-8 run --db chart2.db chart.csv "${CH[@]}" \
	--format chart --no-progress
rc_is 0
out_is "$CH_UNICODE"
done_

case_ "chart: --ascii needs --format chart; listings and export have no chart"
run --db chart.db hourly "${CH[@]}" --ascii
usage_error '--ascii: only with --format chart'
run --db chart.db counts "${CH[@]}" --format csv --ascii
usage_error '--ascii: only with --format chart'
run --db chart.db customers --format chart
usage_error 'unknown format "chart" \(use table, json or csv\)'
run --db chart.db export --format chart
usage_error 'unknown format "chart" \(use csv or json\)'
run --db chart.db customers --ascii
usage_error "option '--ascii' does not apply to customers"
run --db chart.db hourly "${CH[@]}" --format graph
usage_error 'unknown format "graph" \(use table, chart, json or csv\)'
run --db chart.db counts --customer-id ch "${DAY[@]}" --bucket 7m \
	--format chart
usage_error 'does not divide a day'
done_

# ---- usage errors -----------------------------------------------------------

case_ "unknown option"
run --bogus
usage_error "unknown option '--bogus'"
run --db main.db hourly "${C1[@]}" --bogus=1
usage_error "unknown option '--bogus'"
run -x
usage_error "unknown option '-x'"
run --db main.db hourly "${C1[@]}" --s
usage_error "ambiguous option '--s'"
done_

case_ "option of another subcommand"
run --db main.db ingest --start 2021-03-01 events.csv
usage_error "'--start' does not apply to ingest"
run --db main.db --strict hourly "${C1[@]}"
usage_error "'--strict' does not apply to hourly"
run --db main.db hourly "${C1[@]}" --sparse=yes
usage_error "'--sparse' does not take a value"
done_

case_ "bad timestamp"
run --db main.db hourly --customer-id c1 --start 2021-13-01 --end 2021-03-02
usage_error '--start: bad timestamp "2021-13-01": .+'
run --db main.db hourly --customer-id c1 --start 2021-03-01 --end yesterday
usage_error '--end: bad timestamp "yesterday": .+'
done_

case_ "start not before end"
run --db main.db hourly --customer-id c1 --start 2021-03-02 --end 2021-03-01
usage_error 'not before'
run --db main.db hourly --customer-id c1 --start 2021-03-01 --end 2021-03-01
usage_error 'not before'
run --db main.db hourly --customer-id c1 --start 2021-03-01T00:15:10Z \
	--end 2021-03-01T00:15:50Z
usage_error 'not before .*floored to the minute'
run --db main.db hourly --customer-id c1 --start 1969-12-31T23:59:00Z \
	--end 1969-12-31T23:59:59Z
usage_error 'not before .*floored to the minute'
done_

case_ "negative times floor down"
run --db main.db hourly --customer-id c1 --start 1969-12-31T23:59:59Z \
	--end 1970-01-01T00:00:00Z --format json
rc_is 0
out_is '{"customer_id":"c1","start":"1969-12-31T23:59:00Z","end":"1970-01-01T00:00:00Z","total":0,"buckets":[{"hour":"1969-12-31T23:00:00Z","count":0,"partial":true}],"as_of":"@"}'
done_

case_ "too many hours"
run --db main.db hourly --customer-id c1 --start 0001-01-01 --end 9999-01-01
usage_error '.'
done_

case_ "unknown format"
run --db main.db hourly "${C1[@]}" --format xml
usage_error '--format: unknown format "xml"'
done_

case_ "missing or bad arguments"
run --db main.db hourly --start 2021-03-01 --end 2021-03-02
usage_error 'missing --customer-id'
run --db main.db hourly --customer-id c1 --end 2021-03-02
usage_error 'missing --start'
run --db main.db hourly --customer-id c1 --start 2021-03-01
usage_error 'missing --end'
run --db main.db hourly --customer-id "" "${DAY[@]}"
usage_error 'customer'
run --db main.db hourly --customer-id $'\xff' "${DAY[@]}"
usage_error 'UTF-8'
run --db main.db hourly --start 2021-03-01 --end 2021-03-02 --customer-id
usage_error "'--customer-id' needs a value"
run --db main.db hourly "${C1[@]}" extra
usage_error "unexpected argument 'extra'"
run --db main.db ingest
usage_error 'missing FILE'
run --db main.db ingest --strict
usage_error 'missing FILE'
run --db main.db events.csv more.csv "${C1[@]}"
usage_error "unexpected argument 'more.csv'"
run --db main.db events.csv
usage_error 'missing --customer-id'
done_

case_ "missing subcommand"
run
usage_error 'missing command'
run --db main.db query "${C1[@]}"
usage_error "unknown command 'query'"
run --db main.db
usage_error 'missing command'
done_

# ---- help and version -------------------------------------------------------

VERSION_RE='^evcount-cli [0-9]+\.[0-9]+\.[0-9]+ \(libevcount [0-9]+\.[0-9]+\.[0-9]+, SQLite 3\.[0-9.]+\)$'

case_ "--version and -V"
for args in "--version" "-V" "ingest --version" "hourly -V" \
	"--db x.db --version" "events.csv --version"; do
	# shellcheck disable=SC2086 # the words are meant to split
	run $args
	rc_is 0
	out_has "$VERSION_RE"
	out_lines 1
	err_empty
done
[ ! -e x.db ] || bad "--version created a store"
done_

case_ "--help and -h on the tool"
for args in "--help" "-h"; do
	run $args
	rc_is 0
	err_empty
	out_has '^Usage: evcount-cli '
	for word in ingest hourly --db --strict --rejects --customer-id \
		--start --end --format --sparse --help --version EVCOUNT_DB \
		'Exit status'; do
		out_has "$word"
	done
	out_has '^  0 '
	out_has '^  1 '
	out_has '^  2 '
done
done_

case_ "--help on the subcommands"
run ingest --help
rc_is 0
err_empty
out_has '^Usage: evcount-cli \[--db PATH\] ingest '
for word in --db --strict --rejects EVCOUNT_DB 'Exit status'; do
	out_has "$word"
done
out_lacks '--customer-id'
run hourly -h
rc_is 0
err_empty
out_has '^Usage: evcount-cli \[--db PATH\] hourly '
for word in --db --customer-id --start --end --format --sparse EVCOUNT_DB \
	'Exit status'; do
	out_has "$word"
done
out_lacks '--rejects'
run --db main.db hourly --customer-id c1 --help
rc_is 0
out_has '^Usage: '
done_

case_ "--help on ingest names the exactly-once options"
run ingest --help
rc_is 0
for word in '--follow' '--force' '--checkpoint SIZE' '--no-progress' \
	'exactly once' 'already ingested: 0 new rows'; do
	out_has "$word"
done
out_lacks '--epoch'
done_

case_ "--help on the tool lists sources and export"
run --help
rc_is 0
out_has '^  sources  '
out_has '^  export  '
out_has '^       evcount-cli \[--db PATH\] sources '
out_has '^       evcount-cli \[--db PATH\] export '
for word in --follow --force --checkpoint --no-progress --epoch; do
	out_has "$word"
done
done_

case_ "sources --help and export --help"
run sources --help
rc_is 0
err_empty
out_has '^Usage: evcount-cli \[--db PATH\] sources \[--format table\|json\|csv\]$'
out_has '--format FMT +table, json or csv'
out_lacks '--epoch|--follow|--customer-id'
run export --help
rc_is 0
err_empty
out_has '^Usage: evcount-cli \[--db PATH\] export \[--format csv\|json\] \[--epoch\]$'
out_has '--format FMT +export: csv or json; default: csv'
out_has '--epoch '
out_lacks 'table, json or csv|--follow|--customer-id'
run --db x.db export -h
rc_is 0
[ ! -e x.db ] || bad "--help created a store"
done_

# ---- customers and stats -------------------------------------------------------

# Customer ids sort bytewise ("B1" < "a,b" < "c2"); c2 spans two hours, so
# its first and last minutes come from different stored hours. Line 6 is
# rejected. From stdin, c9 is counted, but stdin is no source.
cat >custstats.csv <<EOF
customer_id,event_type,transaction_id,timestamp
c2,click,$(uuid 1),2021-03-01T05:59:59Z
c2,click,$(uuid 2),2021-03-01T02:15:30Z
B1,click,$(uuid 3),2021-03-02 00:00:00+00
"a,b",click,$(uuid 4),2021-03-01T03:00:00+01:00
c2,click,$(uuid 5),not a time
EOF
printf 'c9,click,%s,2021-02-28T23:59:00Z\n' "$(uuid 6)" >custstats-stdin.csv

case_ "customers: totals and first and last minutes, in every format"
run --db custstats.db ingest --no-progress custstats.csv
rc_is 0
IN=custstats-stdin.csv run --db custstats.db ingest --no-progress -
rc_is 0
run --db custstats.db customers --format csv
rc_is 0
err_empty
out_is 'customer_id,total,first_minute,last_minute
B1,1,2021-03-02T00:00:00Z,2021-03-02T00:00:00Z
"a,b",1,2021-03-01T02:00:00Z,2021-03-01T02:00:00Z
c2,2,2021-03-01T02:15:00Z,2021-03-01T05:59:00Z
c9,1,2021-02-28T23:59:00Z,2021-02-28T23:59:00Z'
run --db custstats.db customers
out_is "$(cat "$T/expected")"
run --db custstats.db customers --format json
rc_is 0
err_empty
out_is '{"customers":[{"customer_id":"B1","total":1,"first_minute":"2021-03-02T00:00:00Z","last_minute":"2021-03-02T00:00:00Z"},{"customer_id":"a,b","total":1,"first_minute":"2021-03-01T02:00:00Z","last_minute":"2021-03-01T02:00:00Z"},{"customer_id":"c2","total":2,"first_minute":"2021-03-01T02:15:00Z","last_minute":"2021-03-01T05:59:00Z"},{"customer_id":"c9","total":1,"first_minute":"2021-02-28T23:59:00Z","last_minute":"2021-02-28T23:59:00Z"}]}'
run --db custstats.db customers --format table
rc_is 0
err_empty
out_is 'customer_id  total  first minute          last minute
B1               1  2021-03-02T00:00:00Z  2021-03-02T00:00:00Z
a,b              1  2021-03-01T02:00:00Z  2021-03-01T02:00:00Z
c2               2  2021-03-01T02:15:00Z  2021-03-01T05:59:00Z
c9               1  2021-02-28T23:59:00Z  2021-02-28T23:59:00Z'
done_

case_ "stats: the store's summary, in every format"
size=$(stat -c %s custstats.db)
run --db custstats.db stats --format table
rc_is 0
err_empty
out_is "customers      4
sources        1
rows_counted   5
rows_rejected  1
first_minute   2021-02-28T23:59:00Z
last_minute    2021-03-02T00:00:00Z
file_size      $size"
run --db custstats.db stats --format csv
rc_is 0
out_is "customers,sources,rows_counted,rows_rejected,first_minute,last_minute,file_size
4,1,5,1,2021-02-28T23:59:00Z,2021-03-02T00:00:00Z,$size"
run --db custstats.db stats
out_is "$(cat "$T/expected")"
run --db custstats.db stats --format json
rc_is 0
out_is "{\"customers\":4,\"sources\":1,\"rows_counted\":5,\"rows_rejected\":1,\"first_minute\":\"2021-02-28T23:59:00Z\",\"last_minute\":\"2021-03-02T00:00:00Z\",\"file_size\":$size}"
done_

case_ "customers and stats on an empty store: no span"
printf 'customer_id,event_type,transaction_id,timestamp\n' >custstats-empty.csv
run --db custstats-empty.db ingest --no-progress custstats-empty.csv
rc_is 0
run --db custstats-empty.db customers --format csv
rc_is 0
out_is 'customer_id,total,first_minute,last_minute'
run --db custstats-empty.db customers --format json
out_is '{"customers":[]}'
run --db custstats-empty.db stats --format json
rc_is 0
out_has '^\{"customers":0,"sources":1,"rows_counted":0,"rows_rejected":0,"first_minute":null,"last_minute":null,"file_size":[0-9]+\}$'
run --db custstats-empty.db stats --format table
out_has '^first_minute   -$'
done_

case_ "customers and stats: usage errors, missing store, --help"
run --db custstats.db customers extra
usage_error "customers: unexpected argument 'extra'"
run --db custstats.db stats --format xml
usage_error 'unknown format "xml"'
run --db custstats.db stats --epoch
usage_error "option '--epoch' does not apply to stats"
run --db custstats.db customers --customer-id c2
usage_error "option '--customer-id' does not apply to customers"
run --db custstats-none.db stats
rc_is 1
out_empty
err_has 'no such store'
[ ! -e custstats-none.db ] || bad "stats created a store"
run customers --help
rc_is 0
err_empty
out_has '^Usage: evcount-cli \[--db PATH\] customers \[--format table\|json\|csv\]$'
out_lacks '--epoch|--follow|--customer-id'
run stats --help
rc_is 0
out_has '^Usage: evcount-cli \[--db PATH\] stats \[--format table\|json\|csv\]$'
run --help
out_has '^  customers  '
out_has '^  stats  '
done_

harness_finish

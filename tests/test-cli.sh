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
# Ingesting the same input twice is not relied on either way (exactly-once
# is not settled yet): each store is fed each file once.

set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH-TO-evcount-cli [SOURCE-ROOT]" >&2
	exit 2
fi
CLI=$1
case $CLI in
/*) ;;
*) CLI=$PWD/$CLI ;;
esac

T=$(mktemp -d "${TMPDIR:-/tmp}/evcount-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
# The default store must come from the test, never from the caller.
unset EVCOUNT_DB

passed=0
failed=0
skipped=0

# ---- harness ----------------------------------------------------------------

# run ARG...: run the CLI, stdin from /dev/null unless IN names a file;
# leaves the exit status in $rc and the output in files out and err.
run() {
	"$CLI" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}

# A case collects the failed expectations in $why and is reported by done_.
case_() {
	name=$1
	why=
}

bad() {
	why+="    $1"$'\n'
}

done_() {
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "FAIL - $name"
		printf '%s' "$why"
		echo "    last exit status: $rc"
		sed 's/^/    stdout: /' "$T/out" | head -n 30
		sed 's/^/    stderr: /' "$T/err" | head -n 30
	fi
}

skip() {
	skipped=$((skipped + 1))
	echo "skip - $1: $2"
}

rc_is() {
	[ "$rc" -eq "$1" ] || bad "exit status $rc, expected $1"
}

# out_is TEXT: stdout is exactly TEXT and one newline.
out_is() {
	printf '%s\n' "$1" >"$T/expected"
	cmp -s "$T/expected" "$T/out" ||
		bad "stdout differs: $(diff "$T/expected" "$T/out" | head -n 8 | tr '\n' '|')"
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

C1_JSON='{"customer_id":"c1","start":"2021-03-01T00:15:00Z","end":"2021-03-01T04:30:00Z","total":4,"buckets":[{"hour":"2021-03-01T00:00:00Z","count":2,"partial":true},{"hour":"2021-03-01T01:00:00Z","count":0,"partial":false},{"hour":"2021-03-01T02:00:00Z","count":1,"partial":false},{"hour":"2021-03-01T03:00:00Z","count":0,"partial":false},{"hour":"2021-03-01T04:00:00Z","count":1,"partial":true}]}'
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
SUMMARY='in [0-9]+\.[0-9]{2} s$'

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
out_is '{"customer_id":"c1","start":"2021-03-01T00:15:00Z","end":"2021-03-01T04:30:00Z","total":4,"buckets":[{"hour":"2021-03-01T00:00:00Z","count":2,"partial":true},{"hour":"2021-03-01T02:00:00Z","count":1,"partial":false},{"hour":"2021-03-01T04:00:00Z","count":1,"partial":true}]}'
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
out_is '{"customer_id":"a\"b\\c","start":"2021-03-01T03:00:00Z","end":"2021-03-01T04:00:00Z","total":1,"buckets":[{"hour":"2021-03-01T03:00:00Z","count":1,"partial":false}]}'
done_

case_ "json escapes control characters as \\u00XX"
run --db main.db hourly --customer-id $'x\ty\x01z\x1f' \
	--start 2021-03-01T03:00:00Z --end 2021-03-01T04:00:00Z --format json
rc_is 0
out_is '{"customer_id":"x\u0009y\u0001z\u001f","start":"2021-03-01T03:00:00Z","end":"2021-03-01T04:00:00Z","total":0,"buckets":[{"hour":"2021-03-01T03:00:00Z","count":0,"partial":false}]}'
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
out_is '{"customer_id":"c3","start":"2021-03-01T00:00:00Z","end":"2021-03-02T00:00:00Z","total":0,"buckets":[]}'
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
out_is '{"customer_id":"c1","start":"1969-12-31T23:59:00Z","end":"1970-01-01T00:00:00Z","total":0,"buckets":[{"hour":"1969-12-31T23:00:00Z","count":0,"partial":true}]}'
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

total=$((passed + failed))
if [ "$skipped" -gt 0 ]; then
	echo "($skipped skipped)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]

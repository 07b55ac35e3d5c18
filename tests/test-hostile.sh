#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Hostile inputs and store faults, end to end through evcount-cli.
#
#   test-hostile.sh PATH-TO-evcount-cli [SOURCE-ROOT [GEN-EVENTS ORACLE]]
#
# Each case feeds the CLI something an attacker, a broken exporter or a
# broken disk could produce, and checks that it ends within a time limit,
# with the expected exit status and a clear message, within a bounded peak
# RSS (64 MB, measured with /usr/bin/time when installed; not checked under
# AddressSanitizer, whose shadow memory dwarfs that), without a crash, and
# that the store still opens and answers afterwards. Without GEN-EVENTS and
# ORACLE the cases that need them are skipped. The last line is
# "N passed, M failed"; the exit status is non-zero on any failure.

set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH-TO-evcount-cli [SOURCE-ROOT [GEN-EVENTS ORACLE]]" >&2
	exit 2
fi
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
CLI=$(abspath "$1")
GEN=
ORACLE=
if [ $# -ge 4 ]; then
	GEN=$(abspath "$3")
	ORACLE=$(abspath "$4")
fi

bg=
cleanup() {
	[ -z "$bg" ] || kill -KILL "$bg" 2>/dev/null
}
harness_start hostile-test

# Byte-exact fixtures: no locale may turn a byte into a character.
export LC_ALL=C

RSS_LIMIT_KB=$((64 * 1024))
TIME_CMD=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	TIME_CMD=/usr/bin/time
fi
if ldd "$CLI" 2>/dev/null | grep -q 'libasan'; then
	RSS_LIMIT_KB=
fi
# Under `meson test --setup valgrind`, the CLI runs under memcheck, whose
# peak RSS is not the CLI's, and 10 to 50 times slower: the time limits of
# run (which catch hangs, not slowness) triple.
slow=1
if [ -n "${EVC_MEMCHECK:-}" ]; then
	CLI=$(memcheck_shim "$CLI") || exit 1
	RSS_LIMIT_KB=
	slow=3
fi
# The valgrind setup's slowdown, by which some cases shrink their input.
scale=${EVC_TEST_SCALE:-1}
if [ -z "$TIME_CMD" ]; then
	echo "# /usr/bin/time not found: peak RSS not checked"
elif [ -z "$RSS_LIMIT_KB" ]; then
	echo "# AddressSanitizer build or memcheck: peak RSS not checked"
fi

# ---- harness ----------------------------------------------------------------

# run SECONDS ARG...: run the CLI under `timeout`, stdin from /dev/null
# unless IN names a file; leaves the exit status in $rc, the peak RSS in KB
# in $rss (empty when not measured), the output in files out and err. A
# run that times out, dies of a signal or exceeds the RSS limit is a
# failure of the case.
run() {
	local limit=$(($1 * slow))
	shift
	rss=
	if [ -n "$TIME_CMD" ]; then
		timeout -k 5 "$limit" "$TIME_CMD" -f %M -o "$T/rss" \
			"$CLI" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"
		rc=$?
		rss=$(tail -n 1 "$T/rss" 2>/dev/null)
		case $rss in
		'' | *[!0-9]*) rss= ;;
		esac
	else
		timeout -k 5 "$limit" "$CLI" "$@" <"${IN:-/dev/null}" \
			>"$T/out" 2>"$T/err"
		rc=$?
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		bad "did not finish within ${limit} s"
	elif [ "$rc" -ge 128 ]; then
		bad "died of signal $((rc - 128))"
	fi
	if [ -n "$rss" ] && [ -n "$RSS_LIMIT_KB" ] && [ "$rss" -gt "$RSS_LIMIT_KB" ]; then
		bad "peak RSS ${rss} KB, over $RSS_LIMIT_KB KB"
	fi
}

rc_is() {
	[ "$rc" -eq "$1" ] || bad "exit status $rc, expected $1"
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

# At most this many stderr lines: a hostile file must not flood the
# terminal.
err_at_most() {
	local n
	n=$(wc -l <"$T/err")
	[ "$n" -le "$1" ] || bad "stderr has $n lines, expected at most $1"
}

# export_of DB: every stored count, as CSV, on stdout.
export_of() {
	timeout 60 "$CLI" --db "$1" export --format csv 2>/dev/null
}

# store_ok DB: the store opens and answers a query.
store_ok() {
	timeout 60 "$CLI" --db "$1" hourly --customer-id probe \
		--start 2021-03-01 --end 2021-03-02 --format csv >/dev/null \
		2>"$T/probe-err" ||
		bad "the store $1 no longer answers: $(head -c 300 "$T/probe-err")"
}

# total_is DB ID N: ID's count over 2021-03-01 is N.
total_is() {
	local got
	got=$(timeout 60 "$CLI" --db "$1" hourly --customer-id "$2" \
		--start 2021-03-01 --end 2021-03-02 --format json 2>/dev/null |
		sed -n 's/.*"total":\([0-9]*\).*/\1/p')
	[ "$got" = "$3" ] || bad "total of $2 in $1 is '$got', expected $3"
}

# Summary line of an ingest: "NAME: C rows counted, R rejected, ...".
summary_is() { # NAME COUNTED REJECTED
	err_has "^$1: $2 rows? counted, $3 rejected"
}

uuid() {
	printf '00000000-0000-4000-8000-%012d' "$1"
}

# good ID MINUTE: one valid row at 2021-03-01T00:MINUTE:00Z.
good() {
	printf '%s,click,%s,2021-03-01T00:%02d:00Z\n' "$1" "$(uuid "$2")" "$2"
}

# A megabyte of a letter, without a newline, into file $2 (appended).
mega() {
	head -c 1048576 /dev/zero | tr '\0' "$1"
}

# ---- hostile CSV -------------------------------------------------------------

case_ "a 50 MB line: rejected as too long, the next row counted"
{
	for ((i = 0; i < 50; i++)); do mega x; done
	printf '\n'
	good c1 1
} >long-line.csv
run 60 --db long.db ingest --no-progress long-line.csv
rc_is 0
err_has '^long-line\.csv:1: rejected: record longer than [0-9]+ bytes$'
summary_is 'long-line\.csv' 1 1
err_at_most 3
total_is long.db c1 1
store_ok long.db
done_

case_ "a 50 MB line, --strict: fails the file, nothing counted"
run 60 --db long-strict.db ingest --no-progress --strict long-line.csv
rc_is 1
err_has '^evcount-cli: long-line\.csv:1: record longer than .*strict mode: nothing counted'
total_is long-strict.db c1 0
done_

case_ "a line with 2 million columns: rejected, the next row counted"
awk 'BEGIN {
	printf "c2"
	for (i = 0; i < 2000000; i++)
		printf ",a"
	printf "\n"
}' >columns.csv
good c2 2 >>columns.csv
run 60 --db columns.db ingest --no-progress columns.csv
rc_is 0
err_has '^columns\.csv:1: rejected: '
summary_is 'columns\.csv' 1 1
total_is columns.db c2 1
store_ok columns.db
done_

case_ "a line of 200,000 empty columns (under the record limit): wrong field count"
{
	printf 'c3'
	head -c 200000 /dev/zero | tr '\0' ,
	printf '\n'
	good c3 3
} >commas.csv
run 60 --db commas.db ingest --no-progress commas.csv
rc_is 0
err_has '^commas\.csv:1: rejected: expected 4 fields, found 200001$'
summary_is 'commas\.csv' 1 1
total_is commas.db c3 1
done_

case_ "an unterminated quote running to the end of a 20 MB file"
{
	good c4 4
	printf 'c4,"never closed'
	for ((i = 0; i < 20; i++)); do
		mega y | sed 's/yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy/&\n/g'
	done
} | head -c 20000000 >quote.csv
run 60 --db quote.db ingest --no-progress quote.csv
rc_is 0
err_has '^quote\.csv:2: rejected: '
summary_is 'quote\.csv' 1 1
err_at_most 3
total_is quote.db c4 1
store_ok quote.db
done_

case_ "an unterminated quote in a small file, at the very end"
{
	good c5 5
	printf 'c5,click,"%s,2021-03-01T00:06:00Z' "$(uuid 6)"
} >quote-end.csv
run 30 --db quote-end.db ingest --no-progress quote-end.csv
rc_is 0
err_has '^quote-end\.csv:2: rejected: '
summary_is 'quote-end\.csv' 1 1
total_is quote-end.db c5 1
done_

case_ "NUL bytes: in a customer id rejected, in other fields counted or rejected as named"
{
	printf 'c\0x,click,%s,2021-03-01T00:14:00Z\n' "$(uuid 1)"
	printf 'c6,cl\0ick,%s,2021-03-01T00:14:00Z\n' "$(uuid 2)"
	printf 'c6,click,00000000-0000-4000-8000-0000\0000003,2021-03-01T00:15:00Z\n'
	printf 'c6,click,%s,2021-03-01T00:16:00Z\0\n' "$(uuid 4)"
	printf '\0\0\0\0\n'
	printf 'c6,click,%s,2021-03-01T00:17:00Z\n' "$(uuid 5)"
} >nul.csv
run 30 --db nul.db ingest --no-progress --rejects nul-rejects.csv nul.csv
rc_is 0
summary_is 'nul\.csv' 3 3
total_is nul.db c6 3
# The rejects file holds the records as read, NULs included.
grep -aq '^1,control character in customer id,' nul-rejects.csv ||
	bad "line 1 is not rejected for its customer id"
grep -aq '^4,"bad timestamp' nul-rejects.csv || bad "line 4 is not rejected"
grep -aq '^5,' nul-rejects.csv || bad "line 5 is not rejected"
[ "$(wc -l <nul-rejects.csv)" -eq 4 ] || bad "the rejects file does not have 3 rows"
run 30 --db nul2.db ingest --no-progress nul.csv
err_has '^nul\.csv:1: rejected: control character in customer id$'
err_has '^nul\.csv:4: rejected: bad timestamp'
err_has '^nul\.csv:5: rejected: '
store_ok nul.db
done_

case_ "invalid UTF-8: rejected in customer ids, counted elsewhere"
{
	printf 'c\377,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 1)"       # 0xff
	printf 'c\300\257,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 2)"   # overlong '/'
	printf 'c\355\240\200,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 3)" # surrogate
	printf 'c\342\202,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 4)"   # cut short
	printf 'c\364\220\200\200,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 5)" # > U+10FFFF
	printf 'c\200,click,%s,2021-03-01T00:10:00Z\n' "$(uuid 6)"       # lone continuation
	printf 'c7,cl\377ick,%s,2021-03-01T00:11:00Z\n' "$(uuid 7)"
	printf 'c7,click\355\240\200,00000000-0000-4000-8000-0000000000\3761,2021-03-01T00:12:00Z\n'
	printf 'z\303\253,click,%s,2021-03-01T00:13:00Z\n' "$(uuid 8)"   # valid: zë
} >utf8.csv
run 30 --db utf8.db ingest --no-progress utf8.csv
rc_is 0
for l in 1 2 3 4 5 6; do
	err_has "^utf8\\.csv:$l: rejected: customer id is not valid UTF-8\$"
done
summary_is 'utf8\.csv' 3 6
total_is utf8.db c7 2
total_is utf8.db "$(printf 'z\303\253')" 1
store_ok utf8.db
done_

case_ "5 MB of binary garbage: nothing counted, reports capped, store fine"
# Park-Miller generator: the same bytes with any awk.
awk 'BEGIN {
	x = 7
	for (i = 0; i < 5242880; i++) {
		x = (x * 16807) % 2147483647
		printf "%c", x % 256
	}
}' >garbage.bin
good c8 8 >>garbage.bin
run 60 --db garbage.db ingest --no-progress garbage.bin
rc_is 0
err_has '^garbage\.bin: [01] rows? counted, [0-9]+ rejected'
err_has '^\.\.\. and [0-9]+ more rejected rows$'
err_at_most 13
store_ok garbage.db
done_

case_ "binary garbage, --strict: exit 1, nothing counted"
run 60 --db garbage-strict.db ingest --no-progress --strict garbage.bin
rc_is 1
err_has '^evcount-cli: garbage\.bin:[0-9]+: .*strict mode: nothing counted'
[ -z "$(export_of garbage-strict.db | tail -n +2)" ] || bad "something was counted"
done_

case_ "a 0-byte file, a BOM alone, a header alone, blank lines: 0 rows, exit 0"
: >empty.csv
printf '\357\273\277' >bom.csv
printf 'customer_id,event_type,transaction_id,timestamp\r\n' >header.csv
printf '\n\n\r\n\n' >blank.csv
run 30 --db empty.db ingest --no-progress empty.csv bom.csv header.csv blank.csv
rc_is 0
for f in empty bom header blank; do
	err_has "^$f\\.csv: 0 rows counted, 0 rejected"
done
out_empty
store_ok empty.db
run 30 --db empty.db ingest --no-progress empty.csv
rc_is 0
done_

case_ "a first line held back by --follow, then completed: counted once"
printf 'c9,click,%s,2021-03-01T00:1' "$(uuid 1)" >follow.csv
run 30 --db follow.db ingest --no-progress --follow follow.csv
rc_is 0
err_has 'held back'
printf '4:00Z\n' >>follow.csv
run 30 --db follow.db ingest --no-progress --follow follow.csv
rc_is 0
err_lacks 'refused'
total_is follow.db c9 1
run 30 --db follow.db ingest --no-progress --follow follow.csv
rc_is 0
total_is follow.db c9 1
done_

case_ "70 empty and header-only sources ingested later do not hide a file's own"
mkdir crowd
good c10 1 >crowd/a.csv
{
	printf 'customer_id,event_type,transaction_id,timestamp\n'
	good c10 2
} >crowd/b.csv
"$CLI" --db crowd.db ingest --no-progress crowd/a.csv crowd/b.csv 2>/dev/null
for ((i = 0; i < 70; i++)); do
	: >"crowd/e$i.csv"
	printf 'customer_id,event_type,transaction_id,timestamp\n' >"crowd/h$i.csv"
done
"$CLI" --db crowd.db ingest --no-progress crowd/e*.csv crowd/h*.csv 2>/dev/null
run 60 --db crowd.db ingest --no-progress crowd/a.csv crowd/b.csv
rc_is 0
err_has '^crowd/a\.csv: already ingested: 0 new rows'
err_has '^crowd/b\.csv: already ingested: 0 new rows'
total_is crowd.db c10 2
done_

case_ "not a regular file: a directory, a missing file"
mkdir adir
run 30 --db dir.db ingest --no-progress adir
rc_is 1
err_has '^evcount-cli: .*adir'
run 30 --db dir.db ingest --no-progress no-such.csv
rc_is 1
err_has '^evcount-cli: .*no-such\.csv'
done_

# A regular file cut to half its size while it is read. Either outcome is
# clear and consistent: the ingest ended before the cut (then a re-ingest
# of the shorter file is refused as changed), or it saw the file shrink
# (then the store holds exactly the counts of the prefix it recorded).
if [ -n "$GEN" ]; then
	# Under memcheck, a file EVC_TEST_SCALE times smaller, cut once
	# memcheck has started (about 1 s), so that the cut can still come
	# while the file is read.
	cut_after=0.2
	[ "$scale" -eq 1 ] || cut_after=1
	case_ "a $((300 / scale)) MB file truncated to half while being ingested"
	gen_args=(--rows $((3000000 / scale)) --customers 1000 --days 30 --seed 3)
	"$GEN" "${gen_args[@]}" -o shrink.csv
	size=$(stat -c %s shrink.csv)
	half=$((size / 2))
	timeout -k 5 300 "$CLI" --db shrink.db ingest --no-progress \
		--checkpoint 16M shrink.csv </dev/null >"$T/out" 2>"$T/err" &
	bg=$!
	sleep "$cut_after"
	truncate -s "$half" shrink.csv
	wait "$bg"
	rc=$?
	bg=
	[ "$rc" -le 1 ] || bad "the ingest exited with status $rc"
	grep -Eq '^(shrink\.csv: [0-9]+ rows counted|evcount-cli: shrink\.csv)' \
		"$T/err" || bad "neither a summary nor an error: $(head -c 300 "$T/err")"
	off=$(timeout 60 "$CLI" --db shrink.db sources --format csv |
		awk -F, 'NR == 2 { print $5 }')
	[ -n "$off" ] || bad "no source recorded"
	store_ok shrink.db
	run 300 --db shrink.db ingest --no-progress shrink.csv
	if [ "${off:-0}" -gt "$half" ]; then
		rc_is 1
		err_has '^evcount-cli: shrink\.csv: refused: .*truncated'
	else
		rc_is 0
	fi
	# The store holds exactly the counts of the recorded prefix of the
	# original file (regenerated: the generator is deterministic).
	off=$(timeout 60 "$CLI" --db shrink.db sources --format csv |
		awk -F, 'NR == 2 { print $5 }')
	"$GEN" "${gen_args[@]}" | head -c "${off:-0}" | "$ORACLE" >expect-shrink
	timeout 60 "$CLI" --db shrink.db export --epoch --format csv |
		tail -n +2 >got-shrink
	cmp -s expect-shrink got-shrink ||
		bad "counts differ from the oracle's over the first $off bytes"
	echo "# shrink: original $size bytes, cut to $half, $off recorded"
	rm -f shrink.csv
	done_
else
	skip "a file truncated while being ingested" "no gen-events/oracle given"
fi

# ---- query ranges -------------------------------------------------------------

good q1 1 >q.csv
printf 'q1,click,%s,0000-01-01T00:00:00Z\n' "$(uuid 2)" >>q.csv
printf 'q1,click,%s,9999-12-31T23:59:59Z\n' "$(uuid 3)" >>q.csv
"$CLI" --db q.db ingest --no-progress q.csv 2>/dev/null

# range START END: `hourly` over [START, END) for q1, sparse CSV.
range() {
	run 60 --db q.db hourly --customer-id q1 --start "$1" --end "$2" \
		--format csv --sparse
}

case_ "start after end, start equal to end: usage errors (exit 2)"
range 2021-03-02 2021-03-01
rc_is 2
out_empty
err_has 'is not before --end'
range 2021-03-01T10:00:00Z 2021-03-01T10:00:00Z
rc_is 2
err_has 'is not before --end'
range 2021-03-01T10:00:10Z 2021-03-01T10:00:50Z
rc_is 2
done_

case_ "year 0000 and year 9999 bounds: the first and last minute answer"
range 0000-01-01 0000-01-01T01:00:00Z
rc_is 0
printf 'hour,count,partial\n0000-01-01T00:00:00Z,1,0\n' >expect
cmp -s expect out || bad "year 0: $(tr '\n' '|' <out)"
range 9999-12-31T23:00:00Z 9999-12-31T23:59:59Z
rc_is 0
# The end floors to 23:59: the event at 23:59:59 is not in [23:00, 23:59).
printf 'hour,count,partial\n' >expect
cmp -s expect out || bad "year 9999: $(tr '\n' '|' <out)"
range 9999-12-31T22:00:00Z 9999-12-31T23:59:59Z
rc_is 0
out_lacks_bucket=$(grep -c '^9999' out)
[ "$out_lacks_bucket" -eq 0 ] || bad "an event past the end was counted"
range -0001-12-31 0000-01-02
rc_is 2
range 9999-12-31 10000-01-01
rc_is 2
done_

case_ "a century (876,600 hours): answers, --sparse output bounded"
range 1950-01-01 2050-01-01
rc_is 0
printf 'hour,count,partial\n2021-03-01T00:00:00Z,1,0\n' >expect
cmp -s expect out || bad "century: $(head -c 300 out | tr '\n' '|')"
run 60 --db q.db hourly --customer-id q1 --start 1950-01-01 \
	--end 2050-01-01 --format csv
rc_is 0
[ "$(wc -l <out)" -eq $((876600 + 1)) ] || bad "dense: $(wc -l <out) lines"
done_

case_ "past the documented limit (1,000,000 hours): exit 2, named"
range 0000-01-01 9999-12-31
rc_is 2
out_empty
err_has 'at most 1000000'
# Exactly the limit answers, one hour more does not.
range 1970-01-01 2084-01-29T16:00:00Z
rc_is 0
range 1970-01-01 2084-01-29T16:01:00Z
rc_is 2
err_has 'at most 1000000'
done_

# ---- store faults ---------------------------------------------------------------

"$GEN" --rows 20000 --customers 40 --days 3 --seed 11 -o base.csv 2>/dev/null ||
	awk -v u="$(uuid 9)" 'BEGIN { for (i = 0; i < 20000; i++)
		printf "b%d,click,%s,2021-03-01T%02d:%02d:00Z\n", i % 40, u,
			int(i / 60) % 24, i % 60 }' >base.csv
"$CLI" --db base.db ingest --no-progress base.csv 2>/dev/null
good extra 1 >extra.csv
export_of base.db >base-export
[ "$(wc -l <base-export)" -gt 100 ] || echo "# warning: small base store"

# store_fault DB WHAT: ingest and query the broken store DB; both fail with
# exit 1 and a message naming the file and WHAT, and the file is unchanged.
store_fault() {
	local sum
	sum=$(cksum <"$1")
	run 30 --db "$1" ingest --no-progress extra.csv
	rc_is 1
	err_has "^evcount-cli: $1: .*$2"
	err_lacks 'rows? counted'
	run 30 --db "$1" hourly --customer-id b1 --start 2021-03-01 --end 2021-03-02
	rc_is 1
	out_empty
	err_has "^evcount-cli: $1: .*$2"
	run 30 --db "$1" export
	rc_is 1
	[ "$(cksum <"$1")" = "$sum" ] || bad "the file $1 was modified"
}

case_ "not an evcount store: a text file, another SQLite database"
printf 'hello, not a database\n' >text.db
store_fault text.db 'not an evcount store'
# A SQLite file without evcount's application id: the header alone.
head -c 100 base.db >header-only.db
printf '\0\0\0\0' | dd of=header-only.db bs=1 seek=68 conv=notrunc status=none
store_fault header-only.db 'not an evcount store'
done_

case_ "a truncated store (its first 5000 bytes)"
[ "$(stat -c %s base.db)" -gt 5000 ] || bad "base.db is too small"
head -c 5000 base.db >trunc.db
store_fault trunc.db '.'
done_

case_ "a store of a newer schema: refused, named, not modified"
cp base.db newer.db
# user_version, a big-endian 32-bit integer at offset 60 of the header.
printf '\0\0\0\4' | dd of=newer.db bs=1 seek=60 conv=notrunc status=none
store_fault newer.db 'schema version 4'
done_

case_ "check: a sound store passes"
run 30 --db base.db check
rc_is 0
err_has '^evcount-cli: check: no problem found$'
[ "$(cat "$T/out")" = "customer_id,hour,source_id,problem" ] || bad "stdout: $(head -c 300 "$T/out")"
done_

# Damage that still decodes: a total one more than its minutes, edited
# with SQLite's own shell behind evcount's back.
if command -v sqlite3 >/dev/null; then
	case_ "check: a total that is not the sum of its minutes, named; queries refuse it"
	cp base.db damaged.db
	victim=$(sqlite3 damaged.db "SELECT c.name FROM hour_counts h JOIN
		customers c ON c.id = h.customer ORDER BY h.customer, h.hour LIMIT 1")
	sqlite3 damaged.db "UPDATE hour_counts SET total = total + 1 WHERE
		(customer, hour) = (SELECT customer, hour FROM hour_counts
		ORDER BY customer, hour LIMIT 1)" || bad "sqlite3 failed"
	run 30 --db damaged.db check
	rc_is 1
	[ "$(wc -l <"$T/out")" = 2 ] || bad "not one problem: $(cat "$T/out")"
	grep -Eq "^$victim,[0-9-]+T[0-9:]+Z,,\"total [0-9]+ is not the sum of its minutes, [0-9]+\"\$" "$T/out" ||
		bad "problem not named: $(cat "$T/out")"
	err_has '^evcount-cli: damaged.db: 1 problem found$'
	run 30 --db damaged.db check --format json
	rc_is 1
	grep -q "\"customer_id\":\"$victim\",\"hour\":\"" "$T/out" || bad "json: $(cat "$T/out")"
	grep -q '"ok":false}$' "$T/out" || bad "json: no ok false"
	run 30 --db damaged.db export
	rc_is 1
	err_has "^evcount-cli: damaged.db: corrupt store: customer $victim, hour [0-9]+: total"
	done_
elif [ -n "${CI:-}" ]; then
	case_ "check: damaged stores"
	bad "sqlite3 (the shell) not found, and CI is set"
	done_
else
	skip "check: damaged stores" "sqlite3 (the shell) not found"
fi

# As root permissions do not apply: run as nobody when possible.
AS=()
ro_ok=1
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$T"
	if command -v setpriv >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			test -x "$CLI" -a -r extra.csv 2>/dev/null; then
		AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	else
		ro_ok=0
	fi
fi
if [ $ro_ok = 1 ]; then
	# ro_run SECONDS ARG...: run as the unprivileged user.
	ro_run() {
		local limit=$1
		shift
		timeout -k 5 "$limit" "${AS[@]}" "$CLI" "$@" </dev/null \
			>"$T/out" 2>"$T/err"
		rc=$?
	}

	case_ "a read-only store file: ingest fails (exit 1), queries answer, nothing lost"
	mkdir rofile
	cp base.db rofile/s.db
	[ ${#AS[@]} -eq 0 ] || chown -R 65534:65534 rofile
	ro_run 30 --db rofile/s.db hourly --customer-id b1 --start 2021-03-01 --end 2021-03-02
	chmod 444 rofile/s.db
	sum=$(cksum <rofile/s.db)
	ro_run 30 --db rofile/s.db ingest --no-progress extra.csv
	rc_is 1
	err_has '^evcount-cli: rofile/s\.db: .*read'
	err_lacks 'rows? counted'
	[ "$(cksum <rofile/s.db)" = "$sum" ] || bad "the store file changed"
	ro_run 30 --db rofile/s.db export --format csv
	rc_is 0
	cmp -s base-export out || bad "export differs from before"
	done_

	case_ "a store in a read-only directory (no -wal yet): clear error, nothing lost"
	mkdir rodir
	cp base.db rodir/s.db
	[ ${#AS[@]} -eq 0 ] || chown -R 65534:65534 rodir
	chmod 555 rodir
	sum=$(cksum <rodir/s.db)
	ro_run 30 --db rodir/s.db ingest --no-progress extra.csv
	rc_is 1
	err_has '^evcount-cli: rodir/s\.db: '
	err_lacks 'rows? counted'
	[ "$(cksum <rodir/s.db)" = "$sum" ] || bad "the store file changed"
	ro_run 30 --db rodir/s.db export --format csv
	if [ "$rc" -eq 0 ]; then
		cmp -s base-export out || bad "export differs from before"
	else
		# Without -wal/-shm and no way to create them, a WAL store
		# cannot be read: that must at least be said clearly.
		err_has '^evcount-cli: rodir/s\.db: '
		chmod 755 rodir
		export_of rodir/s.db >out
		cmp -s base-export out || bad "export differs from before"
	fi
	chmod 755 rodir
	done_
else
	skip "read-only store file and directory" "root, and cannot run as nobody"
fi

harness_finish

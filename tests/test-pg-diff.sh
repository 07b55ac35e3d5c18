#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The same inputs give the same store on SQLite and on PostgreSQL: every
# command's output byte for byte (export in each format, customers,
# sources' counters, stats but for the size, hourly, counts in several
# zones and widths), over generated exports with rejects, warnings, late
# rows, appends, copies and a tracked stream; then after a retraction, a
# forget and a prune, what each reports and what is left. And no
# password in a --db URI or $EVCOUNT_DB ever shows.
#
# usage: pg-run.sh test-pg-diff.sh EVCOUNT_CLI GEN_EVENTS PG_CORRECT
# (PG_CORRECT: tests/pg-correct.c, corrections and streams through the
# library, which the command line does not offer yet)
set -euo pipefail

cli=$1 gen=$2 correct=$3
: "${EVC_TEST_PG:?run through tests/pg-run.sh}"
[ -z "${EVC_MEMCHECK:-}" ] || cli=$("$EVC_MEMCHECK" --shim "$cli")
[ -z "${EVC_MEMCHECK:-}" ] || correct=$("$EVC_MEMCHECK" --shim "$correct")
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
harness_start pg-diff
tmp=$T

scale=${EVC_TEST_SCALE:-1}
rows=$((200000 / scale))
"$gen" --rows "$rows" --customers 300 --days 10 --seed 21 -o "$tmp/a.csv"
"$gen" --rows "$((rows / 2))" --customers 300 --days 10 --seed 22 -o "$tmp/b.csv"
# Rows that are rejected or warned, and an id that sorts bytewise.
printf '%s\n' \
	'Zed,click,not-a-uuid,2021-03-01 00:00:00+00' \
	'zed,click,00000000-0000-4000-8000-000000000001,2021-03-01T00:00:00Z' \
	'"é,1",click,00000000-0000-4000-8000-000000000002,2021-03-01 01:59:59.9-05:30' \
	'bad,click,x,2021-02-30 00:00:00' \
	'only,three,fields' >"$tmp/c.csv"
head -c "$(($(stat -c %s "$tmp/a.csv") / 2))" "$tmp/a.csv" |
	sed '$d' >"$tmp/a-half.csv"
cp "$tmp/a.csv" "$tmp/a-copy.csv"
head -c 30000 "$tmp/b.csv" >"$tmp/piece1"
tail -c +20001 "$tmp/b.csv" >"$tmp/rest"
head -c 40000 "$tmp/rest" >"$tmp/piece2"

sqlite=$tmp/store.db
pg="$EVC_TEST_PG?evcount_schema=diff"
for db in "$sqlite" "$pg"; do
	# Half a file, then the whole (resumed), a copy (nothing new), a
	# second file with small checkpoints, the odd rows, and a stream.
	"$cli" --db "$db" ingest --no-progress "$tmp/a-half.csv" 2>/dev/null
	cp "$tmp/a.csv" "$tmp/a-half.csv"
	"$cli" --db "$db" ingest --no-progress "$tmp/a-half.csv" \
		"$tmp/a-copy.csv" 2>/dev/null
	head -c "$(($(stat -c %s "$tmp/a.csv") / 2))" "$tmp/a.csv" |
		sed '$d' >"$tmp/a-half.csv"
	"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/b.csv" \
		"$tmp/c.csv" 2>/dev/null
	"$cli" --db "$db" ingest --no-progress - <"$tmp/c.csv" 2>/dev/null
	# A tracked stream: two pieces, the second overlapping the first,
	# then the first sent again (nothing new).
	{
		"$correct" "$db" stream web 0 <"$tmp/piece1"
		"$correct" "$db" stream web 20000 <"$tmp/piece2"
		"$correct" "$db" stream web 0 <"$tmp/piece1"
	} >"$tmp/stream-$([ "$db" = "$sqlite" ] && echo s || echo p)" 2>&1
done
if [ -s "$tmp/stream-s" ] && cmp -s "$tmp/stream-s" "$tmp/stream-p"; then
	ok "stream: the same offsets and counts ($(tr '\n' ';' <"$tmp/stream-s"))"
else
	not_ok "stream differs"
	cat "$tmp/stream-s" "$tmp/stream-p"
fi

# A query's "as_of" is when its store last took an ingest: the two
# stores took theirs at different instants, so it is compared for form.
without_as_of() {
	sed -E 's/"as_of":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"/"as_of":"@"/g'
}

same() { # what, command args...
	local what=$1
	shift
	"$cli" --db "$sqlite" "$@" 2>"$tmp/s.err" | without_as_of >"$tmp/s.out" || true
	"$cli" --db "$pg" "$@" 2>"$tmp/p.err" | without_as_of >"$tmp/p.out" || true
	if [ -s "$tmp/s.out" ] && cmp -s "$tmp/s.out" "$tmp/p.out"; then
		ok "$what: identical ($(wc -l <"$tmp/s.out") lines)"
	else
		not_ok "$what differs"
		diff "$tmp/s.out" "$tmp/p.out" | head -5
		head -3 "$tmp/s.err" "$tmp/p.err"
	fi
}

same "export csv" export --format csv
same "export csv --epoch" export --format csv --epoch
same "export json" export --format json
same "customers" customers --format csv
same "customers json" customers --format json
heavy=$(cut -d, -f1 "$tmp/a.csv" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
same "hourly, partial hours" hourly --customer-id "$heavy" \
	--start 2021-03-02T03:17:00Z --end 2021-03-05T11:42:00Z --format json
same "hourly, whole days" hourly --customer-id "$heavy" --start 2021-03-01 \
	--end 2021-03-11 --format csv
same "hourly, unknown customer" hourly --customer-id nobody \
	--start 2021-03-01 --end 2021-03-02 --format json

# counts: widths and zones (whole days, DST, a 45-minute offset, a
# half-hour DST), many customers, the top ones.
second=$(cut -d, -f1 "$tmp/a.csv" | sort | uniq -c | sort -rn | awk 'NR == 2 { print $2 }')
same "counts, 15m in Kathmandu" counts --customer-id "$heavy" \
	--customer-id "$second" --start 2021-03-02T03:17:00Z \
	--end 2021-03-03T11:42:00Z --bucket 15m --tz Asia/Kathmandu --format csv
same "counts, days in New York, top 10" counts --all-customers --top 10 \
	--start 2021-03-01 --end 2021-03-12 --bucket day --tz America/New_York \
	--format json
same "counts, 6h at +05:30, sparse" counts --all-customers \
	--start 2021-03-01 --end 2021-03-11 --bucket 6h --tz +05:30 --sparse \
	--format csv
same "counts, weeks in Lord Howe" counts --all-customers --top 3 \
	--start 2021-02-20 --end 2021-03-20 --bucket week \
	--tz Australia/Lord_Howe --format csv
same "counts, months and all" counts --customer-id "$heavy" \
	--customer-id nobody --start 2021-01-01 --end 2021-06-01 --bucket month \
	--format json
same "counts, the range whole" counts --all-customers --start 2021-03-01 \
	--end 2021-03-12 --bucket all --format csv

# Sources: the same counters; realpaths differ only by the host.
for db in "$sqlite" "$pg"; do
	"$cli" --db "$db" sources --format csv | cut -d, -f2,4-8
done >"$tmp/src"
half=$(($(wc -l <"$tmp/src") / 2))
if [ "$half" -gt 1 ] && cmp -s <(head -n "$half" "$tmp/src") <(tail -n "$half" "$tmp/src"); then
	ok "sources: the same offsets and counters"
else
	not_ok "sources differ"
	cat "$tmp/src"
fi
host=$(hostname)
# (A stream's realpath is empty: it names no file.)
if "$cli" --db "$pg" sources --format csv | tail -n +2 | cut -d, -f3 |
	grep -v '^$' | grep -qv "^$host:/"; then
	not_ok "a PostgreSQL source's realpath lacks the host"
else
	ok "PostgreSQL sources are host:/path"
fi

# stats differ only in file_size
"$cli" --db "$sqlite" stats --format csv | tail -1 | cut -d, -f1-6 >"$tmp/s.stats"
"$cli" --db "$pg" stats --format csv | tail -1 | cut -d, -f1-6 >"$tmp/p.stats"
cmp -s "$tmp/s.stats" "$tmp/p.stats" && ok "stats agree" || not_ok "stats: $(cat "$tmp/s.stats") vs $(cat "$tmp/p.stats")"

# Corrections: what each reports, then what is left. The copy of a.csv
# and b.csv (counted in small checkpoints, read through the stream too)
# retracted together, a customer forgotten, every count before a time
# inside an hour pruned.
for db in "$sqlite" "$pg"; do
	{
		"$correct" "$db" retract "$tmp/b.csv" "$tmp/c.csv"
		"$correct" "$db" forget "$second"
		"$correct" "$db" prune 2021-03-04T05:30:00Z
		"$correct" "$db" retract "$tmp/b.csv" || true
	} >"$tmp/correct-$([ "$db" = "$sqlite" ] && echo s || echo p)" 2>&1
done
if [ -s "$tmp/correct-s" ] &&
	cmp -s "$tmp/correct-s" <(sed "s|$pg|$sqlite|g" "$tmp/correct-p"); then
	ok "corrections report the same ($(head -3 "$tmp/correct-s" | cut -c1-40 | tr '\n' ';'))"
else
	not_ok "corrections differ"
	diff "$tmp/correct-s" "$tmp/correct-p" | head -8
fi
same "after corrections: export csv" export --format csv
same "after corrections: customers" customers --format json
same "after corrections: counts, hours in Dublin" counts --all-customers \
	--start 2021-03-01 --end 2021-03-12 --bucket hour --tz Europe/Dublin \
	--sparse --format csv
same "after corrections: check" check
for db in "$sqlite" "$pg"; do
	"$cli" --db "$db" sources --format csv | cut -d, -f2,4-8
done >"$tmp/src"
half=$(($(wc -l <"$tmp/src") / 2))
if [ "$half" -gt 1 ] && cmp -s <(head -n "$half" "$tmp/src") <(tail -n "$half" "$tmp/src"); then
	ok "after corrections: sources, the same offsets and counters"
else
	not_ok "after corrections: sources differ"
	cat "$tmp/src"
fi
"$cli" --db "$sqlite" stats --format csv | tail -1 | cut -d, -f1-6 >"$tmp/s.stats"
"$cli" --db "$pg" stats --format csv | tail -1 | cut -d, -f1-6 >"$tmp/p.stats"
cmp -s "$tmp/s.stats" "$tmp/p.stats" && ok "stats agree after corrections" ||
	not_ok "stats after corrections: $(cat "$tmp/s.stats") vs $(cat "$tmp/p.stats")"

# The CLI never shows a password: not for a missing store, a wrong
# password or a store named by $EVCOUNT_DB, in any message.
: "${PGPASSWORD:?}"
with_pw=$(sed "s|://evcount@|://evcount:$PGPASSWORD@|" <<<"$EVC_TEST_PG")
leaks=0
for db in "$with_pw?evcount_schema=absent" "$with_pw?evcount_schema=diff" \
	"${with_pw/$PGPASSWORD/WrongSecret42}"; do
	for cmd in stats sources export "hourly --customer-id x --start 2021-03-01 --end 2021-03-02"; do
		# shellcheck disable=SC2086
		"$cli" --db "$db" $cmd >"$tmp/out" 2>"$tmp/err" || true
		# shellcheck disable=SC2086
		EVCOUNT_DB=$db "$cli" $cmd >>"$tmp/out" 2>>"$tmp/err" || true
		if grep -q -e "$PGPASSWORD" -e WrongSecret42 "$tmp/out" "$tmp/err"; then
			leaks=$((leaks + 1))
			cat "$tmp/err"
		fi
	done
done
"$cli" --db "$with_pw?evcount_schema=absent" stats 2>"$tmp/err" || true
if [ $leaks = 0 ] && grep -q 'evcount:\*\*\*@' "$tmp/err" &&
	grep -q "no store there" "$tmp/err"; then
	ok "no password in any output or message: $(head -1 "$tmp/err")"
else
	not_ok "passwords shown ($leaks) or not masked: $(cat "$tmp/err")"
fi

harness_finish

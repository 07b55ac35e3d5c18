#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Exactly once on PostgreSQL, under faults (tests/test-resume.sh's checks,
# on a server of tests/pg-run.sh):
# - SIGKILL of the ingesting process at random instants: after each kill
#   the store holds exactly the counts of the checkpointed prefix (an
#   independent count, tests/oracle.c), and resuming ends exact;
# - the server stopped as by a crash (pg_ctl -m immediate) mid-ingest: a
#   clear error, the committed prefix intact, an exact resume once the
#   server is back;
# - two processes ingesting the same file at once: no double count;
# - four processes ingesting four files at once while queries run: all
#   succeed, all queries answer, the counts are exact.
#
# usage: pg-run.sh test-pg-resume.sh EVCOUNT_CLI GEN_EVENTS ORACLE [ROUNDS]
set -euo pipefail

cli=$1 gen=$2 oracle=$3
: "${EVC_TEST_PG:?run through tests/pg-run.sh}" "${EVC_TEST_PG_CTL:?}"
scale=${EVC_TEST_SCALE:-1}
rounds=${4:-${EVC_RESUME_ROUNDS:-$((8 / scale > 2 ? 8 / scale : 2))}}
[ -z "${EVC_MEMCHECK:-}" ] || cli=$("$EVC_MEMCHECK" --shim "$cli")
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
harness_start pg-resume
tmp=$T
store() { echo "$EVC_TEST_PG?evcount_schema=$1"; }

"$gen" --rows 60000 --customers 50 --days 3 --seed 7 -o "$tmp/in.csv"
"$oracle" <"$tmp/in.csv" >"$tmp/expect-all"

export_counts() { # an absent store (killed before it was made) is empty
	"$cli" --db "$1" export --epoch --format csv 2>/dev/null | tail -n +2 || true
}

ingested_offset() {
	"$cli" --db "$1" sources --format csv 2>/dev/null |
		awk -F, 'NR > 1 { o = $5 } END { print o + 0 }'
}

check_prefix() { # store, what
	local off
	off=$(ingested_offset "$1")
	head -c "$off" "$tmp/in.csv" | "$oracle" >"$tmp/expect-prefix"
	export_counts "$1" >"$tmp/got"
	if cmp -s "$tmp/expect-prefix" "$tmp/got"; then
		return 0
	fi
	not_ok "$2: counts differ from the checkpointed prefix ($off bytes)"
	diff "$tmp/expect-prefix" "$tmp/got" | head -5
	return 1
}

# A killed client's session may still be finishing the COMMIT it sent:
# wait until the server has ended every other session before looking.
settle() {
	local i n
	for i in $(seq 1 100); do
		n=$("$EVC_TEST_PG_CTL" psql -At -c "SELECT count(*) FROM
			pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid()
			AND backend_type = 'client backend'")
		[ "$n" = 0 ] && return 0
		sleep 0.05
	done
}

ms_now() { date +%s%3N; }
sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

# How long one ingest takes here: the kills land within it.
a=$(ms_now)
"$cli" --db "$(store probe)" ingest --no-progress --checkpoint 128K \
	"$tmp/in.csv" 2>/dev/null
window=$(($(ms_now) - a))
echo "# one ingest takes $window ms"

kills=0
for round in $(seq 1 "$rounds"); do
	db=$(store "r$round")
	round_ok=1
	for attempt in 1 2 3; do
		"$cli" --db "$db" ingest --no-progress --checkpoint 128K \
			"$tmp/in.csv" 2>/dev/null &
		pid=$!
		# (a resumed ingest is shorter: later kills come sooner)
		sleep_ms $((RANDOM % (window / attempt + 1)))
		if kill -9 "$pid" 2>/dev/null; then
			kills=$((kills + 1))
		fi
		wait "$pid" 2>/dev/null || true
		settle
		check_prefix "$db" "round $round kill $attempt" || round_ok=0
	done
	if ! "$cli" --db "$db" ingest --no-progress --checkpoint 128K \
		"$tmp/in.csv" 2>"$tmp/err"; then
		not_ok "round $round: final resume failed: $(cat "$tmp/err")"
		continue
	fi
	export_counts "$db" >"$tmp/got"
	if cmp -s "$tmp/expect-all" "$tmp/got" && [ $round_ok = 1 ]; then
		ok "round $round: resumed after kills, every count equals the oracle"
	elif [ $round_ok = 1 ]; then
		not_ok "round $round: final counts differ from the oracle"
		diff "$tmp/expect-all" "$tmp/got" | head -5
	fi
done
echo "# $kills ingests killed with SIGKILL"

# The server crashes mid-ingest.
db=$(store crash)
"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/in.csv" \
	2>"$tmp/err" &
pid=$!
# Stopped once the first checkpoint has committed, so that some of the
# file is counted and the rest is not.
for i in $(seq 1 400); do
	[ "$(ingested_offset "$db")" -gt 0 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.01
done
"$EVC_TEST_PG_CTL" stop >/dev/null
rc=0
wait "$pid" || rc=$?
"$EVC_TEST_PG_CTL" start >/dev/null
msg=$(grep '^evcount-cli: ' "$tmp/err" | head -1 || true)
if [ $rc = 0 ]; then
	not_ok "server crash: the ingest finished before the server stopped"
elif [ $rc = 1 ] && grep -Eq 'connection to the server lost|cannot connect|terminat' <<<"$msg"; then
	ok "a server crash fails the ingest clearly: $msg"
else
	not_ok "server crash: exit $rc, \"$msg\""
fi
check_prefix "$db" "after the crash" && ok "after the crash the store holds exactly the committed prefix"
if "$cli" --db "$db" ingest --no-progress "$tmp/in.csv" 2>"$tmp/err" &&
	export_counts "$db" >"$tmp/got" && cmp -s "$tmp/expect-all" "$tmp/got"; then
	ok "resumed after the server came back: every count equals the oracle"
else
	not_ok "resume after the crash: $(cat "$tmp/err")"
fi
# A handle whose server went away reports it, and a new one works.
if "$cli" --db "$db" stats >/dev/null 2>&1; then
	ok "the restarted server serves the store"
else
	not_ok "the restarted server does not serve the store"
fi

# Two ingests of the same file at once.
db=$(store race)
"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/in.csv" 2>"$tmp/e1" &
p1=$!
"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/in.csv" 2>"$tmp/e2" &
p2=$!
r1=0 r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
bad_exit=0
for n in 1 2; do
	r=$([ $n = 1 ] && echo $r1 || echo $r2)
	if [ "$r" != 0 ] && ! grep -q "busy" "$tmp/e$n"; then
		bad_exit=1
		cat "$tmp/e$n"
	fi
done
"$cli" --db "$db" ingest --no-progress "$tmp/in.csv" 2>/dev/null
export_counts "$db" >"$tmp/got"
if [ $bad_exit = 0 ] && cmp -s "$tmp/expect-all" "$tmp/got"; then
	ok "two ingests of one file at once: no double count (exits $r1, $r2)"
else
	not_ok "two ingests of one file at once: exits $r1, $r2, counts differ"
fi

# Four files into one store at once, queries running meanwhile.
db=$(store four)
for i in 1 2 3 4; do
	"$gen" --rows $((40000 / scale)) --customers 50 --days 3 --seed $((30 + i)) \
		-o "$tmp/f$i.csv"
done
cat "$tmp"/f[1-4].csv | "$oracle" >"$tmp/expect-four"
# The store made first, by an empty file: all four then count into it.
: >"$tmp/empty.csv"
"$cli" --db "$db" ingest --no-progress "$tmp/empty.csv" 2>/dev/null
pids=()
for i in 1 2 3 4; do
	"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/f$i.csv" \
		2>"$tmp/e$i" &
	pids+=($!)
done
: >"$tmp/q-errors"
queries=0
heavy=$(cut -d, -f1 "$tmp/f2.csv" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
while kill -0 "${pids[@]}" 2>/dev/null && [ $queries -lt 300 ]; do
	"$cli" --db "$db" hourly --customer-id "$heavy" --start 2021-03-01 \
		--end 2021-03-04 --format csv >/dev/null 2>>"$tmp/q-errors" ||
		echo "hourly failed" >>"$tmp/q-errors"
	"$cli" --db "$db" stats --format csv >/dev/null 2>>"$tmp/q-errors" ||
		echo "stats failed" >>"$tmp/q-errors"
	queries=$((queries + 2))
done
exits=()
for p in "${pids[@]}"; do
	r=0
	wait "$p" || r=$?
	exits+=("$r")
done
export_counts "$db" >"$tmp/got"
if [ "${exits[*]}" = "0 0 0 0" ] && [ ! -s "$tmp/q-errors" ] &&
	cmp -s "$tmp/expect-four" "$tmp/got"; then
	ok "four ingests of four files at once, $queries queries meanwhile: all answered, counts exact"
else
	not_ok "four at once: exits ${exits[*]}, $(head -3 "$tmp/q-errors" "$tmp"/e[1-4])"
	diff "$tmp/expect-four" "$tmp/got" | head -5
fi

harness_finish

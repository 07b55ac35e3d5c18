#!/usr/bin/env bash
# Crash safety of ingest: kill -9 an ingest at random moments, check that
# the store then holds exactly the counts of the checkpointed prefix of the
# input, resume, and finally compare every (customer, minute) count with an
# independent computation (tests/oracle.c) over the whole file. Then the
# same for the corrections (retract, forget, prune): killed at any instant,
# the store is as before or as after.
#
# usage: test-resume.sh EVCOUNT_CLI GEN_EVENTS ORACLE COMMIT_GAP_SO [ROUNDS]
set -euo pipefail

# The kills land within the first 150 ms of an ingest (about 250 ms).
# EVC_TEST_SCALE (the valgrind setup's slowdown) stretches that window as
# memcheck stretches the ingest, so that kills still hit it mid-way and the
# resumes are memchecked, and divides the default 12 rounds (at least 2),
# each of which then takes seconds.
scale=${EVC_TEST_SCALE:-1}
kill_window_ms=$((150 * scale))
cli=$1 gen=$2 oracle=$3 commit_gap=$4
rounds=${5:-${EVC_RESUME_ROUNDS:-$((12 / scale > 2 ? 12 / scale : 2))}}
# Under `meson test --setup valgrind`, the CLI runs under memcheck (gen and
# oracle are test tools: they are not).
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
cli=$(memcheck_shim "$cli")
harness_start resume-test
tmp=$T

# About 6 MB, mixed offsets and fractions, out of order rows.
"$gen" --rows 60000 --customers 50 --days 3 --seed 7 -o "$tmp/in.csv"
"$oracle" <"$tmp/in.csv" >"$tmp/expect-all"

export_counts() {
	"$cli" --db "$1" export --epoch --format csv | tail -n +2
}

# The offset the store says it has ingested of in.csv (0 if none).
ingested_offset() {
	"$cli" --db "$1" sources --format csv | awk -F, 'NR > 1 { o = $5 } END { print o + 0 }'
}

check_prefix() { # store, what
	local off
	off=$(ingested_offset "$1")
	head -c "$off" "$tmp/in.csv" | "$oracle" >"$tmp/expect-prefix"
	if [ -s "$1" ]; then export_counts "$1" >"$tmp/got"; else : >"$tmp/got"; fi
	if cmp -s "$tmp/expect-prefix" "$tmp/got"; then
		return 0
	fi
	not_ok "$2: counts differ from the checkpointed prefix ($off bytes)"
	diff "$tmp/expect-prefix" "$tmp/got" | head -5
	return 1
}

# The shim is preloaded ahead of ASan's runtime in the sanitizer build,
# which ASan would refuse: its order does not matter here.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

kills=0
for round in $(seq 1 "$rounds"); do
	db=$tmp/r$round.db
	round_ok=1
	# Several kills per round, each at a random instant of a fresh run
	# that resumes where the previous one was killed.
	for attempt in 1 2 3; do
		"$cli" --db "$db" ingest --no-progress --checkpoint 128K \
			"$tmp/in.csv" 2>/dev/null &
		pid=$!
		ms=$((RANDOM % kill_window_ms))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		if kill -9 "$pid" 2>/dev/null; then
			kills=$((kills + 1))
		fi
		wait "$pid" 2>/dev/null || true
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

# A run that was not killed resumes nothing and changes nothing.
db=$tmp/r1.db
before=$(export_counts "$db" | md5sum)
"$cli" --db "$db" ingest --no-progress "$tmp/in.csv" 2>"$tmp/err"
after=$(export_counts "$db" | md5sum)
if [ "$before" = "$after" ] && grep -q "already ingested: 0 new rows" "$tmp/err"; then
	ok "a completed ingest is not counted again"
else
	not_ok "re-ingest after resume changed counts: $(cat "$tmp/err")"
fi

# Two ingests of one content at once, under one name or two: the same
# file, a hard link, a copy, a symbolic link. The second starts at a
# random instant of the first; each commits every 256 KiB and then pauses
# 20 ms (commit-gap.c), so that the other can take the write lock between
# two of its checkpoints, as it may by chance. One may stop as busy;
# neither may count a byte the other counted: after the race no count
# exceeds the oracle's, and a rerun of both names completes the store to
# exactly the oracle's counts.
race_rounds=$((4 / scale > 1 ? 4 / scale : 1))
# race_name KIND: the second name of in.csv for KIND.
race_name() {
	case $1 in
	same) printf '%s' "$tmp/in.csv" ;;
	link) ln -f "$tmp/in.csv" "$tmp/in-link.csv" && printf '%s' "$tmp/in-link.csv" ;;
	copy) cp "$tmp/in.csv" "$tmp/in-copy.csv" && printf '%s' "$tmp/in-copy.csv" ;;
	symlink) ln -sf "$tmp/in.csv" "$tmp/in-sym.csv" && printf '%s' "$tmp/in-sym.csv" ;;
	esac
}
# at_most_oracle FILE: every count of FILE is at most the oracle's.
at_most_oracle() {
	awk -F, 'NR == FNR { want[$1 "," $2] = $3; next }
		!(($1 "," $2) in want) || $3 > want[$1 "," $2] { bad = 1 }
		END { exit bad }' "$tmp/expect-all" "$1"
}
for kind in same link copy symlink; do
	second=$(race_name "$kind")
	kind_ok=1
	busy=0
	for round in $(seq 1 "$race_rounds"); do
		db=$tmp/race-$kind-$round.db
		LD_PRELOAD=$commit_gap EVC_TEST_COMMIT_GAP_MS=20 \
			"$cli" --db "$db" ingest --no-progress --checkpoint 256K \
			"$tmp/in.csv" 2>"$tmp/e1" &
		p1=$!
		ms=$((RANDOM % (300 * scale)))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		LD_PRELOAD=$commit_gap EVC_TEST_COMMIT_GAP_MS=20 \
			"$cli" --db "$db" ingest --no-progress --checkpoint 256K \
			"$second" 2>"$tmp/e2" &
		p2=$!
		r1=0 r2=0
		wait $p1 || r1=$?
		wait $p2 || r2=$?
		for n in 1 2; do
			r=$([ $n = 1 ] && echo $r1 || echo $r2)
			[ "$r" = 0 ] && continue
			if grep -q "busy" "$tmp/e$n"; then
				busy=$((busy + 1))
			else
				kind_ok=0
				not_ok "race $kind round $round: ingest $n exit $r" "$(head -c 300 "$tmp/e$n")"
			fi
		done
		export_counts "$db" >"$tmp/got"
		if ! at_most_oracle "$tmp/got"; then
			kind_ok=0
			not_ok "race $kind round $round: counted twice (exits $r1, $r2)" \
				"$(head -c 300 "$tmp/e1") / $(head -c 300 "$tmp/e2")"
		fi
		"$cli" --db "$db" ingest --no-progress "$tmp/in.csv" "$second" 2>/dev/null
		export_counts "$db" >"$tmp/got"
		if ! cmp -s "$tmp/expect-all" "$tmp/got"; then
			kind_ok=0
			not_ok "race $kind round $round: counts differ from the oracle after a rerun"
		fi
	done
	if [ $kind_ok = 1 ]; then
		ok "two ingests at once, $kind: no double count in $race_rounds rounds ($busy stopped as busy)"
	fi
done

# Two different files into one store at once, with queries running
# meanwhile: WAL lets readers through while a writer commits.
"$gen" --rows 40000 --customers 50 --days 3 --seed 8 -o "$tmp/in2.csv"
cat "$tmp/in.csv" "$tmp/in2.csv" | "$oracle" >"$tmp/expect-both"
db=$tmp/two.db
"$cli" --db "$db" ingest --no-progress "$tmp/in2.csv" 2>/dev/null
: >"$tmp/q-errors"
"$cli" --db "$db" ingest --no-progress --checkpoint 64K "$tmp/in.csv" 2>"$tmp/e1" &
p1=$!
queries=0
while kill -0 $p1 2>/dev/null && [ $queries -lt 200 ]; do
	"$cli" --db "$db" sources --format csv >/dev/null 2>>"$tmp/q-errors" ||
		echo "query failed" >>"$tmp/q-errors"
	queries=$((queries + 1))
done
wait $p1 || true
"$cli" --db "$db" ingest --no-progress "$tmp/in.csv" "$tmp/in2.csv" 2>/dev/null
export_counts "$db" >"$tmp/got"
if [ ! -s "$tmp/q-errors" ] && cmp -s "$tmp/expect-both" "$tmp/got"; then
	ok "queries during an ingest all answered ($queries), counts exact"
else
	not_ok "queries during an ingest: $(head -3 "$tmp/q-errors")"
fi

# A file size limit (standing in for a full disk) fails the ingest with a
# clear error and keeps what was committed before.
db=$tmp/full.db
"$gen" --rows 500 --customers 5 --days 1 --seed 9 -o "$tmp/small.csv"
"$cli" --db "$db" ingest --no-progress "$tmp/small.csv" 2>/dev/null
before=$(export_counts "$db" | md5sum)
rc=0
(
	trap '' XFSZ
	ulimit -f 64
	exec "$cli" --db "$db" ingest --no-progress "$tmp/in.csv"
) 2>"$tmp/err" || rc=$?
after=$(export_counts "$db" | md5sum)
if [ $rc = 1 ] && grep -q "^evcount-cli: .*$(basename "$db")" "$tmp/err" &&
	[ "$before" = "$after" ]; then
	ok "a full disk fails the ingest (exit 1), committed counts kept"
else
	not_ok "full disk: exit $rc, $(head -2 "$tmp/err")"
fi

# Corrections killed at random instants: each is one transaction, so the
# store is then as it was before it or as it is after it, never between,
# and running it again after a kill ends where an uninterrupted run does.
copy_store() { # from, to
	rm -f "$2" "$2-wal" "$2-shm"
	cp "$1" "$2"
	for ext in -wal -shm; do
		[ -e "$1$ext" ] && cp "$1$ext" "$2$ext"
	done
	return 0
}
# About 30 MB, so that a retraction lasts long enough to be killed in.
"$gen" --rows $((300000 / scale)) --customers 50 --days 3 --seed 10 \
	-o "$tmp/big.csv"
base_db=$tmp/corr.db
"$cli" --db "$base_db" ingest --no-progress "$tmp/big.csv" "$tmp/in2.csv" \
	2>/dev/null
export_counts "$base_db" >"$tmp/corr-before"
heavy=$(tail -n +2 "$tmp/corr-before" | cut -d, -f1 | sort | uniq -c |
	sort -rn | awk 'NR == 1 { print $2 }')
corr_kills=0
for what in retract forget prune; do
	case $what in
	retract) args=(retract "$tmp/big.csv") ;;
	forget) args=(forget --customer-id "$heavy") ;;
	prune) args=(prune --before 2021-03-02T12:00:00Z) ;;
	esac
	# What it leaves, and how long it takes, uninterrupted.
	copy_store "$base_db" "$tmp/corr-after.db"
	t0=$(date +%s%N)
	"$cli" --db "$tmp/corr-after.db" "${args[@]}" >/dev/null
	window=$((($(date +%s%N) - t0) / 1000000 + 1))
	export_counts "$tmp/corr-after.db" >"$tmp/corr-after"
	cmp -s "$tmp/corr-before" "$tmp/corr-after" &&
		not_ok "$what: changed nothing to test with"
	what_ok=1
	for round in $(seq 1 $((rounds > 4 ? 6 : 3))); do
		db=$tmp/corr-$what.db
		copy_store "$base_db" "$db"
		"$cli" --db "$db" "${args[@]}" >/dev/null 2>&1 &
		pid=$!
		ms=$((RANDOM % window))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -9 "$pid" 2>/dev/null && corr_kills=$((corr_kills + 1))
		wait "$pid" 2>/dev/null || true
		export_counts "$db" >"$tmp/got"
		if cmp -s "$tmp/got" "$tmp/corr-before"; then
			"$cli" --db "$db" "${args[@]}" >/dev/null 2>"$tmp/err" ||
				{ not_ok "$what: run again after a kill: $(cat "$tmp/err")"; what_ok=0; }
			export_counts "$db" >"$tmp/got"
		fi
		if ! cmp -s "$tmp/got" "$tmp/corr-after"; then
			not_ok "$what round $round: killed after ${ms} ms, the store is neither before nor after"
			what_ok=0
		fi
		"$cli" --db "$db" check >/dev/null 2>"$tmp/err" ||
			{ not_ok "$what round $round: check: $(cat "$tmp/err")"; what_ok=0; }
	done
	[ $what_ok = 1 ] &&
		ok "$what killed at random instants (within $window ms): before or after, never between"
done
echo "# $corr_kills corrections killed with SIGKILL"

echo "# $kills ingests killed with SIGKILL"
harness_finish

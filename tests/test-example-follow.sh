#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# examples/follow-post.c follows a log that grows (in bursts, lines written
# in two halves among them) and posts it to serve --ingest-enabled, while
# the client and the server are each killed with SIGKILL and restarted:
# the store ends with exactly the log's counts, nothing lost, nothing
# doubled.
#
#   test-example-follow.sh EVCOUNT_CLI EXAMPLE_FOLLOW_POST

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 EVCOUNT_CLI EXAMPLE_FOLLOW_POST" >&2
	exit 2
fi
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
need curl
CLI=$(memcheck_shim "$(abspath "$1")") || exit 1
client=$(memcheck_shim "$(abspath "$2")") || exit 1
pid= cpid= wpid=
cleanup() {
	for p in $pid $cpid $wpid; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
harness_start example-follow

export EVCOUNT_TOKEN=f0llow-$RANDOM$RANDOM
"$CLI" --db "$T/db" ingest /dev/null 2>/dev/null
: >log.csv

# 40 bursts of 50 rows; every 7th row is written in two halves, a moment
# apart, as a logger writing a line in pieces would.
writer() {
	local i=0 b r line
	for ((b = 0; b < 40; b++)); do
		for ((r = 0; r < 50; r++)); do
			i=$((i + 1))
			line=$(printf 'c%d,click,%08d-0000-4000-8000-000000000000,2021-03-01T%02d:%02d:%02dZ' \
				$((i % 5)) "$i" $((i % 24)) $((i * 7 % 60)) $((i % 60)))
			if ((i % 7 == 0)); then
				printf '%s' "${line:0:20}" >>log.csv
				sleep 0.01
				printf '%s\n' "${line:20}" >>log.csv
			else
				printf '%s\n' "$line" >>log.csv
			fi
		done
		sleep 0.05
	done
}

start_server slog --db "$T/db" serve --listen 127.0.0.1:0 --ingest-enabled \
	--quiet || { echo "no server: $(cat slog)"; exit 1; }
PORT=$port
writer &
wpid=$!
"$client" "$base" app log.csv >/dev/null 2>clog &
cpid=$!

case_ "the client and the server killed and restarted meanwhile"
for round in 1 2 3; do
	sleep 0.7
	kill -KILL "$cpid"
	wait "$cpid" 2>/dev/null
	"$client" "$base" app log.csv >/dev/null 2>>clog &
	cpid=$!
	sleep 0.5
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	pid=
	start_server "slog$round" --db "$T/db" serve \
		--listen "127.0.0.1:$PORT" --ingest-enabled --quiet ||
		bad "no restart $round: $(cat "slog$round")"
done
wait "$wpid"
wpid=
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
cpid=
# The last run, to the end of the log.
"$client" "$base" app log.csv 2 >out 2>>clog || bad "client: $(cat clog)"
[ "$(cat out)" = "app: committed up to byte $(wc -c <log.csv)" ] ||
	bad "client says: $(cat out)"
done_

case_ "the store holds the log's counts exactly"
stop_server TERM
"$CLI" --db "$T/want.db" ingest log.csv 2>/dev/null
"$CLI" --db "$T/want.db" export >want.csv
"$CLI" --db "$T/db" export >got.csv
cmp -s want.csv got.csv || bad "counts differ: $(diff want.csv got.csv | head -n 5 | tr '\n' '|')"
total=$(awk -F, 'NR > 1 { n += $3 } END { print n }' got.csv)
[ "$total" = 2000 ] || bad "$total events, not the log's 2000"
done_

harness_finish

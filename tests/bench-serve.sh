#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Load test of evcount-cli serve with wrk, on the loopback.
#
#   bench-serve.sh PATH-TO-evcount-cli PATH-TO-gen-events
#
# Generates ROWS events over CUSTOMERS customers and 30 days, ingests them,
# starts the server (--quiet) on an ephemeral port and runs wrk twice for
# DURATION: on one fixed 24-hour query of the busiest customer, then on
# random queries (any customer, any start, 1 to 72 hours) drawn by a Lua
# script. Prints wrk's report with latency percentiles, then a summary.
# Fails on any wrk socket error or non-2xx response; the throughput target
# (>= 20000 requests/s, p99 < 5 ms on the fixed query) is reported, and
# only enforced with BENCH_STRICT=1 since it depends on the machine.
#
# Environment: ROWS (1000000), CUSTOMERS (1000), DURATION (10s),
# SERVER_THREADS (2), WRK_THREADS (2), WRK_CONNECTIONS (16).

set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 PATH-TO-evcount-cli PATH-TO-gen-events" >&2
	exit 2
fi
CLI=$1
GEN=$2
ROWS=${ROWS:-1000000}
CUSTOMERS=${CUSTOMERS:-1000}
DURATION=${DURATION:-10s}
SERVER_THREADS=${SERVER_THREADS:-2}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}

for tool in wrk curl; do
	if ! command -v $tool >/dev/null; then
		echo "$tool not found: skipped"
		exit 77
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/evcount-bench.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

echo "== data: $ROWS rows, $CUSTOMERS customers, 30 days"
"$GEN" --rows "$ROWS" --customers "$CUSTOMERS" --days 30 \
	--start 2021-03-01 --seed 1 -o "$T/events.csv"
"$CLI" --db "$T/db" ingest --no-progress "$T/events.csv"
cut -d, -f1 "$T/events.csv" | sort | uniq -c | sort -rn >"$T/by-customer"
awk '{ print $2 }' "$T/by-customer" >"$T/ids"
busiest=$(awk 'NR == 1 { print $2 }' "$T/by-customer")

"$CLI" --db "$T/db" serve --listen 127.0.0.1:0 --quiet \
	--threads "$SERVER_THREADS" 2>"$T/log" &
pid=$!
base=
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$T/log")
	if [ -n "$port" ] &&
		curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then
		base=http://127.0.0.1:$port
		break
	fi
	sleep 0.1
done
if [ -z "$base" ]; then
	echo "the server did not start:" >&2
	cat "$T/log" >&2
	exit 1
fi

# Random queries: wrk's LuaJIT reads the ids once per thread.
cat >"$T/random.lua" <<'EOF'
local ids = {}
local period_start = 1614556800 -- 2021-03-01T00:00:00Z
local period = 30 * 86400

local function iso(t)
	return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

function init(args)
	for line in io.lines(args[1]) do
		ids[#ids + 1] = line
	end
	math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
	local id = ids[math.random(#ids)]
	local s = period_start + math.random(0, period - 1)
	local e = s + 3600 * math.random(1, 72) + math.random(0, 3599)
	return wrk.format("GET", "/hourly?customer_id=" .. id ..
		"&start=" .. iso(s) .. "&end=" .. iso(e))
end
EOF

fixed="/hourly?customer_id=$busiest&start=2021-03-15&end=2021-03-16"
status=0

# run NAME WRK-ARG...: run wrk, print its report, check for errors.
run() {
	local name=$1
	shift
	echo
	echo "== $name"
	echo "\$ wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION --latency $*"
	wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION" --latency "$@" |
		tee "$T/wrk-$name"
	if grep -Eq 'Socket errors|Non-2xx' "$T/wrk-$name"; then
		echo "FAIL: $name had errors"
		status=1
	fi
}

run fixed "$base$fixed"
run random -s "$T/random.lua" "$base" -- "$T/ids"

# The server must still be healthy, and stop cleanly.
curl -sf -o /dev/null "$base/healthz" || {
	echo "FAIL: /healthz after the load"
	status=1
}
kill -TERM "$pid"
wait "$pid" || {
	echo "FAIL: the server exited with status $?"
	status=1
}
pid=

# wrk prints 99% as e.g. "1.23ms", "850.00us" or "1.02s".
to_ms() {
	awk '{ v = $1 + 0
		if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v += 0;
		else if ($1 ~ /s$/) v *= 1000
		printf "%.3f", v }'
}
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/wrk-fixed")
p99=$(awk '$1 == "99%" { print $2 }' "$T/wrk-fixed" | to_ms)
rps_r=$(awk '/^Requests\/sec:/ { print $2 }' "$T/wrk-random")
p99_r=$(awk '$1 == "99%" { print $2 }' "$T/wrk-random" | to_ms)
echo
echo "== summary ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "fixed 24-hour query: $rps requests/s, p99 $p99 ms"
echo "random queries:      $rps_r requests/s, p99 $p99_r ms"
if awk -v r="$rps" -v p="$p99" 'BEGIN { exit !(r >= 20000 && p < 5) }'; then
	echo "target (>= 20000 requests/s, p99 < 5 ms on the fixed query): met"
else
	echo "target (>= 20000 requests/s, p99 < 5 ms on the fixed query): MISSED"
	[ "${BENCH_STRICT:-0}" = 1 ] && status=1
fi
exit $status

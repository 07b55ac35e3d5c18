#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# serve's page in a real browser: headless Chromium against a server on
# the loopback, with a token, over a store built from a fixture written
# here; tests/browser/page.mjs drives it (playwright-core, connected to a
# Chromium it starts itself, never a browser of its own).
#
#   test-browser.sh PATH-TO-evcount-cli SOURCE-ROOT WORK-DIR
#
# WORK-DIR (in the build tree) keeps playwright-core, installed there with
# npm on the first run, and the screenshots (WORK-DIR/screenshots). Without
# node, npm or chromium, or when npm cannot install, the suite is skipped,
# saying why; where $CI is set that is a failure instead.

set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 PATH-TO-evcount-cli SOURCE-ROOT WORK-DIR" >&2
	exit 2
fi
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
CLI=$(abspath "$1")
ROOT=$(abspath "$2")
WORK=$(abspath "$3")
# The version the test was written against; raise it deliberately. 1.61 is
# the last to run on Debian 12's Node.js 18.
PLAYWRIGHT=playwright-core@1.61.1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need curl node npm "$CHROMIUM"
CLI=$(memcheck_shim "$CLI") || exit 1

pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}
harness_start browser-test

# skip_or_fail WHY: a suite that cannot run here: skipped, or failed in CI.
skip_or_fail() {
	if [ -n "${CI:-}" ]; then
		echo "$1, and CI is set: failing rather than skipping" >&2
		exit 1
	fi
	echo "$1: skipped"
	exit 77
}

mkdir -p "$WORK" || exit 1
want=${PLAYWRIGHT##*@}
have=$(node -p "require('$WORK/node_modules/playwright-core/package.json').version" \
	2>/dev/null)
if [ "$have" != "$want" ]; then
	if ! npm install --prefix "$WORK" --no-audit --no-fund --no-save \
		--loglevel=error "$PLAYWRIGHT" >"$T/npm.log" 2>&1; then
		cat "$T/npm.log" >&2
		skip_or_fail "npm could not install $PLAYWRIGHT"
	fi
fi

# alice has a daily rhythm over two days, a gap on the first afternoon and
# a spike at 20:00 on the second; bob one event; a customer id with a
# quote, an ampersand and a non-ASCII letter, which the URL must carry.
{
	echo 'customer_id,event_type,transaction_id,timestamp'
	n=0
	for day in 01 02; do
		for hour in 00 03 06 09 10 11 20 21; do
			[ "$day$hour" = 0110 ] && continue
			count=$((10#$hour % 7 + 1))
			[ "$day$hour" = 0220 ] && count=30
			for ((i = 0; i < count; i++)); do
				n=$((n + 1))
				printf 'alice,click,%s,2021-03-%sT%s:%02d:00Z\n' \
					"$(printf '00000000-0000-4000-8000-%012d' "$n")" \
					"$day" "$hour" "$i"
			done
		done
	done
	echo 'bob,click,00000000-0000-4000-8000-999999999999,2021-03-01T12:00:00Z'
	echo '"zoë ""&"" co",click,00000000-0000-4000-8000-999999999998,2021-03-01T12:00:00Z'
} >events.csv

TOKEN=browser-$RANDOM$RANDOM-token
printf '%s\n' "$TOKEN" >token

case_ "serve starts with a token over the fixture"
if ! start_server log --db "$T/db" serve --listen 127.0.0.1:0 \
	--token-file token --threads 2 --quiet --ingest events.csv; then
	bad "no 'listening on' line: $(cat log)"
elif ! wait_ready; then
	bad "/healthz never answered 200: $(cat log)"
fi
done_
if [ -z "$base" ]; then
	harness_finish
	exit 1
fi

# Hours of the New York wall clock from a half hour into the range: the
# first bucket is partial.
query='customer_id=alice&start=2021-02-28T19%3A30%3A00&end=2021-03-02T19%3A00%3A00&bucket=hour&tz=America%2FNew_York'
start_s=$SECONDS
EVC_BASE=$base EVC_TOKEN=$TOKEN EVC_QUERY=$query EVC_OUT=$WORK/screenshots \
	EVC_PLAYWRIGHT=$WORK CHROMIUM=$CHROMIUM \
	node "$ROOT/tests/browser/page.mjs" >"$T/page.out" 2>&1
page_rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "page: ${line#ok - }" ;;
	"not ok - "*) not_ok "page: ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <"$T/page.out"
if [ "$page_rc" -ne 0 ] && ! grep -q '^not ok' "$T/page.out"; then
	not_ok "page.mjs" "exit status $page_rc"
fi
echo "# the browser took $((SECONDS - start_s)) s; screenshots in $WORK/screenshots"

case_ "the server stops cleanly after the browser"
stop_server TERM
[ "$stop_rc" = 0 ] || bad "exit status $stop_rc: $(tail -n 5 log)"
done_

harness_finish

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# examples/stream.c run as documented, on the sample data from stdin: exit
# status 0, the summary with the sample's known counts on stdout, its two
# rejected rows and at least one progress line on stderr.
#
#   test-example-stream.sh PATH-TO-example-stream SAMPLE.csv

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 EXAMPLE-STREAM SAMPLE.csv" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/example-stream.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
example=$1
# Under `meson test --setup valgrind`, the example runs under memcheck.
[ -z "${EVC_MEMCHECK:-}" ] || example=$("$EVC_MEMCHECK" --shim "$1") || exit 1

"$example" <"$2" >"$tmp/out" 2>"$tmp/err"
rc=$?
failed=0
fail() {
	echo "FAIL: $1"
	failed=1
}

[ "$rc" -eq 0 ] || fail "exit status $rc, expected 0"
want="read 2004 rows (208332 bytes): 2002 counted (39 with warnings), 2 rejected; 5 customers in the store"
[ "$(cat "$tmp/out")" = "$want" ] || fail "stdout is not '$want'"
[ "$(grep -c '^<stdin>:[0-9]*: rejected: ' "$tmp/err")" -eq 2 ] ||
	fail "stderr does not report exactly 2 rejected rows"
grep -q '^<stdin>:2001: rejected: bad timestamp' "$tmp/err" ||
	fail "line 2001 (2021-02-30) is not reported"
grep -Eq '^<stdin>: [0-9]+ bytes, [0-9]+ rows$' "$tmp/err" ||
	fail "no progress line on stderr"
if [ "$failed" -ne 0 ]; then
	sed 's/^/stdout: /' "$tmp/out"
	sed 's/^/stderr: /' "$tmp/err"
	exit 1
fi
echo "ok: $want"

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
# shellcheck source=tests/harness.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/harness.sh"
sample=$(abspath "$2")
# Under `meson test --setup valgrind`, the example runs under memcheck.
example=$(memcheck_shim "$(abspath "$1")") || exit 1
harness_start example-stream
tmp=$T

"$example" <"$sample" >"$tmp/out" 2>"$tmp/err"
rc=$?
case_ "examples/stream.c counts the sample from stdin"
[ "$rc" -eq 0 ] || bad "exit status $rc, expected 0"
want="read 2004 rows (208332 bytes): 2002 counted (39 with warnings), 2 rejected; 5 customers in the store"
[ "$(cat "$tmp/out")" = "$want" ] || bad "stdout is not '$want'"
[ "$(grep -c '^<stdin>:[0-9]*: rejected: ' "$tmp/err")" -eq 2 ] ||
	bad "stderr does not report exactly 2 rejected rows"
grep -q '^<stdin>:2001: rejected: bad timestamp' "$tmp/err" ||
	bad "line 2001 (2021-02-30) is not reported"
grep -Eq '^<stdin>: [0-9]+ bytes, [0-9]+ rows$' "$tmp/err" ||
	bad "no progress line on stderr"
done_
harness_finish

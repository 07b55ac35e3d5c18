#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Valgrind memcheck for the whole test suite: the exe_wrapper of
# `meson test --setup valgrind` (tests/meson.build), which puts it in front
# of every test command.
#
#   memcheck.sh PROGRAM ARG...   run one test
#   memcheck.sh --shim BINARY    (for test scripts) print the path of an
#                                executable that runs BINARY under memcheck
#
# A compiled test runs under memcheck itself. A script test would only get
# bash memchecked, so it runs natively instead, with EVC_MEMCHECK set to
# this file: a script passes each project binary it was given (evcount-cli,
# the examples; not test tools such as gen-events and oracle) through
# `"$EVC_MEMCHECK" --shim` and runs what comes back in its place.
#
# Why a shim rather than a prefix command ($EVC_WRAP "$cli" ...) or
# --trace-children=yes over bash: the scripts' call sites stay as they are
# (timeout, setpriv, `script -c` and pipelines take one path, and $! is the
# memchecked process itself, since the shim execs valgrind, so kill -9 and
# wait work unchanged), and bash, curl, awk... are not memchecked (slow, and
# not ours).
#
# Every memchecked process of a script writes a log of its own, empty when
# clean. Once the script has ended, any non-empty log fails the test (exit
# 99), whatever the script made of the process's exit status: a case that
# expects a failure status, or a server killed on purpose, still counts.
# Each memcheck also exits 99 on an error, which the CLI never does.
set -uo pipefail

# --track-origins is left out: it doubles the run time and finds nothing
# more; rerun a failing command with it to see where a value came from.
# --vgdb=no: nobody attaches a debugger here, and it saves a tenth of the
# start-up, which adds up over the scripts' hundreds of short runs.
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
	'--show-leak-kinds=definite,indirect'
	'--errors-for-leak-kinds=definite,indirect' --vgdb=no)

if [ "${1:-}" = --shim ]; then
	: "${EVC_MEMCHECK_LOGS:?memcheck.sh --shim: not under memcheck.sh}"
	bin=$(realpath -e "$2") || exit 1
	dir=$(mktemp -d "$EVC_MEMCHECK_LOGS/bin.XXXXXX") || exit 1
	chmod 755 "$dir"
	# The command line goes next to the log, for the report below: the
	# shim execs valgrind, so $$ is the PID that names the log.
	{
		echo '#!/bin/sh'
		printf 'printf "%%s %%s\\n" %q "$*" >%q/$$.cmd\n' "$bin" \
			"$EVC_MEMCHECK_LOGS"
		printf 'exec'
		printf ' %q' "${vg[@]}" "--log-file=$EVC_MEMCHECK_LOGS/%p.log" \
			"$bin"
		printf ' "$@"\n'
	} >"$dir/${bin##*/}"
	chmod 755 "$dir/${bin##*/}"
	printf '%s\n' "$dir/${bin##*/}"
	exit 0
fi

if [ $# -eq 0 ]; then
	echo "usage: $0 PROGRAM ARG... | --shim BINARY" >&2
	exit 2
fi
magic=
IFS= read -r -n 2 magic <"$1" 2>/dev/null
if [ "$magic" != '#!' ]; then
	exec "${vg[@]}" "$@"
fi

EVC_MEMCHECK_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/evcount-memcheck.XXXXXX") ||
	exit 1
# Writable by all: some cases run the CLI as nobody (setpriv).
chmod 1777 "$EVC_MEMCHECK_LOGS"
EVC_MEMCHECK=$(realpath -e "${BASH_SOURCE[0]}")
export EVC_MEMCHECK EVC_MEMCHECK_LOGS

"$@"
rc=$?

reports=0
for log in "$EVC_MEMCHECK_LOGS"/*.log; do
	[ -s "$log" ] || continue
	reports=$((reports + 1))
	pid=$(basename "$log" .log)
	echo "memcheck report ($(cat "$EVC_MEMCHECK_LOGS/$pid.cmd" 2>/dev/null ||
		echo "pid $pid")):"
	cat "$log"
done
runs=$(find "$EVC_MEMCHECK_LOGS" -name '*.log' | wc -l)
echo "# memcheck: $runs processes, $reports with reports"
rm -rf "$EVC_MEMCHECK_LOGS"
if [ "$reports" -gt 0 ]; then
	exit 99
fi
exit "$rc"

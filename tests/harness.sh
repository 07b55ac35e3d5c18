# SPDX-License-Identifier: MIT
#
# The harness of the shell test suites, sourced by each of them:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
#   harness_start NAME        # temp dir $T, cwd there, clean environment
#   case_ "what is checked"; ...; bad "why it failed"; ...; done_
#   harness_finish            # "N passed, M failed"; the exit status
#
# A case collects its failed expectations with bad and is reported by done_
# as a TAP-like "ok - NAME" or "not ok - NAME" with the reasons (and, when
# the case ran the CLI through a `run` of the script's own, the last exit
# status, stdout and stderr). A script may define cleanup(), run at exit
# before $T is removed. Also here: the memcheck shim, and starting,
# waiting for and stopping an `evcount-cli serve` in the background.

# harness_start NAME: make $T and go there; the default store and token
# must come from the test, never from the caller.
harness_start() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/evcount-$1.XXXXXX") || exit 1
	trap harness_exit EXIT
	cd "$T" || exit 1
	unset EVCOUNT_DB EVCOUNT_TOKEN
	passed=0
	failed=0
	skipped=0
}

harness_exit() {
	if declare -F cleanup >/dev/null; then
		cleanup
	fi
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}

case_() {
	name=$1
	why=
}

bad() {
	why+="    $1"$'\n'
}

done_() {
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok - $name"
		return
	fi
	failed=$((failed + 1))
	echo "not ok - $name"
	printf '%s' "$why"
	if [ -n "${rc+set}" ] && [ -f "$T/out" ]; then
		echo "    last exit status: $rc"
		sed 's/^/    stdout: /' "$T/out" | cut -c 1-300 | head -n 20
		sed 's/^/    stderr: /' "$T/err" | cut -c 1-300 | head -n 20
	fi
}

# skip WHAT WHY: a case that cannot run here, said so.
skip() {
	skipped=$((skipped + 1))
	echo "ok - # SKIP $1: $2"
}

# ok NAME, not_ok NAME [DETAIL]: a check reported on one line.
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	[ $# -lt 2 ] || printf '    %s\n' "$2"
}

# harness_finish: the summary line; fails when a case failed or none ran.
harness_finish() {
	if [ "$skipped" -gt 0 ]; then
		echo "($skipped skipped)"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
}

# need PROGRAM...: each PROGRAM is installed, or the suite cannot run: a
# skip (exit 77) with a line saying so, but a failure where $CI is set,
# since CI installs everything the tests need.
need() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null && continue
		if [ -n "${CI:-}" ]; then
			echo "$p not found, and CI is set: failing rather than skipping" >&2
			exit 1
		fi
		echo "$p not found: skipped"
		exit 77
	done
}

# abspath PATH: PATH made absolute against the current directory.
abspath() {
	case $1 in
	/*) printf '%s' "$1" ;;
	*) printf '%s' "$PWD/$1" ;;
	esac
}

# memcheck_shim PROGRAM: under `meson test --setup valgrind`, a shim that
# runs PROGRAM under memcheck (tests/memcheck.sh); else PROGRAM.
memcheck_shim() {
	if [ -n "${EVC_MEMCHECK:-}" ]; then
		"$EVC_MEMCHECK" --shim "$1"
	else
		printf '%s' "$1"
	fi
}

# ---- a server in the background (needs $CLI; sets $pid, $port, $base) ----

# start_server LOG ARG...: run "$CLI" ARG... with stderr to LOG until the
# listening address is printed. Returns 1 if it never is.
start_server() {
	local log=$1 i
	shift
	: >"$log"
	"$CLI" "$@" 2>"$log" >/dev/null &
	pid=$!
	base=
	for ((i = 0; i < 100; i++)); do
		port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$log")
		if [ -n "$port" ]; then
			base=http://127.0.0.1:$port
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# wait_ready: poll /healthz until it answers 200 (at most 10 s).
wait_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# stop_server SIGNAL: send SIGNAL, wait at most 5 s; sets $stop_rc (the
# exit status, or "timeout") and clears $pid.
stop_server() {
	local i
	kill "-$1" "$pid"
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			stop_rc=$?
			pid=
			return
		fi
		sleep 0.1
	done
	stop_rc=timeout
}

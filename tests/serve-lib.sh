# Shared by the HTTP test scripts (sourced): start, wait for and stop an
# `evcount-cli serve` running in the background. Needs $CLI; sets $pid,
# $port and $base; stop_server sets $stop_rc.

# Under `meson test --setup valgrind`, the CLI runs under memcheck.
[ -z "${EVC_MEMCHECK:-}" ] || CLI=$("$EVC_MEMCHECK" --shim "$CLI") || exit 1

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

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run a command against a throwaway PostgreSQL server:
#
#   pg-run.sh COMMAND [ARG...]
#
# Makes a cluster in a new temporary directory (initdb; as root, as the
# postgres user), starts it on a free port of 127.0.0.1 and on a Unix
# socket in that directory, creates an empty database, runs COMMAND with
#
#   EVC_TEST_PG      postgresql://evcount@127.0.0.1:PORT/evcount_test, a URI
#                    of that empty database (password authentication: the
#                    password is in PGPASSWORD, as libpq reads it)
#   EVC_TEST_PG_CTL  a script: `stop` (pg_ctl -m immediate: a crash),
#                    `start`, `psql ARG...` (as the server's superuser)
#
# then stops the server and removes the directory; exits with COMMAND's
# status. Under `meson test --setup valgrind` (EVC_MEMCHECK set), a compiled
# COMMAND runs under memcheck.
#
# Without a PostgreSQL server (its binaries are looked for in
# `pg_config --bindir` and /usr/lib/postgresql/*/bin), prints one line and
# exits 77 (skipped), or 1 when $CI is set: CI installs the server
# (tools/install-deps.sh), so a missing one there is a failure.
#
# Environment: EVC_PG_FSYNC=on keeps fsync on (the tests turn it off);
# EVC_PG_OPTIONS adds server options ("-c shared_buffers=512MB ...").
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: pg-run.sh COMMAND [ARG...]" >&2
	exit 2
fi

bindir=
for d in "$(pg_config --bindir 2>/dev/null || true)" \
	$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
		bindir=$d
		break
	fi
done
if [ -z "$bindir" ]; then
	if [ -n "${CI:-}" ]; then
		echo "pg-run.sh: no PostgreSQL server installed (postgresql-15): failing, as CI must have it" >&2
		exit 1
	fi
	echo "pg-run.sh: no PostgreSQL server installed (postgresql-15): skipped"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/evcount-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
	# initdb and postgres refuse to run as root.
	chown postgres: "$dir"
	as=(runuser -u postgres --)
fi
cleanup() {
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop \
		>/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pw"
chmod 600 "$dir/pw"
[ ${#as[@]} = 0 ] || chown postgres: "$dir/pw"
if ! "${as[@]}" "$bindir/initdb" -D "$dir/data" -U evcount -E UTF8 \
	--locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
	--pwfile="$dir/pw" >"$dir/initdb.log" 2>&1; then
	cat "$dir/initdb.log" >&2
	exit 1
fi
rm -f "$dir/pw"

fsync=${EVC_PG_FSYNC:-off}
server_opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=$fsync -c max_connections=200 ${EVC_PG_OPTIONS:-}"
started=
for _ in $(seq 1 20); do
	port=$((20000 + RANDOM % 30000))
	if "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port $server_opts" start >/dev/null 2>&1; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	echo "pg-run.sh: the server did not start:" >&2
	tail -20 "$dir/server.log" >&2
	exit 1
fi

cat >"$dir/ctl" <<EOF
#!/usr/bin/env bash
# Control the throwaway server of pg-run.sh.
case \${1:-} in
stop) exec ${as[*]} "$bindir/pg_ctl" -D "$dir/data" -m immediate stop ;;
start) exec ${as[*]} "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	-o "-p $port $server_opts" start ;;
psql) shift; exec "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p $port -U evcount -d evcount_test "\$@" ;;
*) echo "usage: \$0 stop|start|psql ARG..." >&2; exit 2 ;;
esac
EOF
chmod 755 "$dir/ctl"
[ ${#as[@]} = 0 ] || chmod 755 "$dir"

"$bindir/psql" -X -q -h "$dir" -p "$port" -U evcount -d postgres \
	-c "CREATE DATABASE evcount_test" >/dev/null

export EVC_TEST_PG="postgresql://evcount@127.0.0.1:$port/evcount_test"
export EVC_TEST_PG_CTL=$dir/ctl
export PGPASSWORD=$password

cmd=$1
shift
magic=
IFS= read -r -n 2 magic <"$cmd" 2>/dev/null || true
if [ -n "${EVC_MEMCHECK:-}" ] && [ "$magic" != '#!' ]; then
	cmd=$("$EVC_MEMCHECK" --shim "$cmd")
fi
rc=0
"$cmd" "$@" || rc=$?
exit $rc

#!/bin/bash
# Build and run every test, three times: a normal build in build/, natively
# and under valgrind memcheck, and an AddressSanitizer +
# UndefinedBehaviorSanitizer build in build-asan/.
# This is the README's test command and what CI runs (.ci/run), so the two
# cannot drift:
#
#     bash tools/test.sh
#
# Installs the dependencies first (tools/install-deps.sh: apt-get, as root or
# through sudo). Works from any directory; reruns reuse the build trees.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tools/install-deps.sh
source tools/install-deps.sh
install_deps

# Configure $1 with the options that follow; reconfigure it if it was
# configured before, so reruns keep what is already built.
setup()
{
	local dir=$1
	shift
	if [[ -e $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

# Every optional part is required here (-Dauto_features=enabled): a
# missing dependency fails the build instead of leaving its tests out.
setup build -Dauto_features=enabled
meson compile -C build
meson test -C build --print-errorlogs
# Memcheck over every test, the scripts' runs of evcount-cli and the
# examples included (tests/memcheck.sh; the setup leaves out the fuzz suite).
meson test -C build --setup valgrind --print-errorlogs
# What `meson install` lays out works for a downstream project, with
# pkg-config and with Meson, and its man pages render.
bash tools/check-install.sh build

setup build-asan -Dauto_features=enabled -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

# libFuzzer harnesses, 30 s each (about two minutes on two cores), in a
# clang build of their own; skipped when clang or libFuzzer is missing.
rc=0
bash tests/fuzz/run.sh 30 || rc=$?
if ((rc != 0 && rc != 77)); then
	exit "$rc"
fi

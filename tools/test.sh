#!/bin/bash
# Build and run every test, twice: a normal build in build/ and an
# AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/.
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

setup build
meson compile -C build
meson test -C build --print-errorlogs

setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

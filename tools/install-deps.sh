#!/bin/bash
# Install the build and test dependencies on Debian 12 (or a derivative)
# with apt-get, as root or through sudo. Sourced by tools/demo.sh and
# tools/test.sh, or run directly:
#
#     bash tools/install-deps.sh
#
# Nothing is downloaded when every package is already installed, so reruns
# are fast and work offline. EVCOUNT_SKIP_DEPS=1 skips the step entirely
# (for other distributions: install the equivalents by hand).

evcount_deps=(
	meson ninja-build pkg-config # build
	gcc libc6-dev                # compiler, libc and the ASan/UBSan runtimes
	libsqlite3-dev sqlite3       # the store; its shell damages stores in tests
	libpq-dev postgresql-15      # PostgreSQL stores; their tests start a server
	check                        # unit tests
	tzdata                       # time zones: tests/test-tz*.c
	libmicrohttpd-dev curl       # evcount-cli serve and its tests
	valgrind                     # meson test --setup valgrind
	time                         # /usr/bin/time: peak RSS in tests/test-hostile.sh
	scdoc man-db make            # man pages; tools/check-install.sh
	bash-completion              # where the completion is installed
	doxygen                      # -Dapi-docs=enabled (API reference)
	clang libclang-rt-14-dev     # tests/fuzz/run.sh (libFuzzer)
	chromium nodejs npm          # tests/test-browser.sh (playwright-core from npm)
)

# Whether package $1 is installed, itself or as what an installed package
# provides (NodeSource's nodejs provides npm: installing Debian's npm would
# replace that nodejs).
installed()
{
	local provided
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]] &&
		return 0
	# Read whole before grep stops at its match: with pipefail, the
	# writer's SIGPIPE would fail the pipe.
	provided=$(dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null)
	grep -Eq "^install ok installed\|(.*[ ,])?$1([ ,(]|\$)" <<<"$provided"
}

install_deps()
{
	if [[ ${EVCOUNT_SKIP_DEPS:-0} == 1 ]]; then
		return 0
	fi

	local missing=() pkg
	for pkg in "${evcount_deps[@]}"; do
		installed "$pkg" || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi

	if ! command -v apt-get >/dev/null; then
		echo "install-deps: apt-get not found; install ${missing[*]} by hand" \
			"and rerun with EVCOUNT_SKIP_DEPS=1" >&2
		return 1
	fi
	local sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null; then
			echo "install-deps: not root and sudo not found; run as root" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

# Run directly rather than sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	install_deps
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Prove that an installed evcount is usable the way the README says:
#
#     bash tools/check-install.sh [BUILD-DIR]      (default: build)
#
# 1. `meson install` BUILD-DIR into a temporary DESTDIR and check the
#    layout: the shared library with its soname links (and libevcount.a
#    when built with default_library=both or static), evcount.h,
#    evcount.pc, evcount-cli, both man pages and the bash completion.
# 2. Build examples/downstream against it as a user would, with its
#    Makefile (pkg-config) and with its meson.build (dependency()), and run
#    both programs.
# 3. Render both man pages with man -l.
#
# pkg-config finds the staged files through PKG_CONFIG_SYSROOT_DIR (the
# .pc file names the real prefix); the programs run with LD_LIBRARY_PATH.
# Called by tools/test.sh after the tests, so CI runs it too.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)

fail() {
	echo "check-install: FAIL: $*" >&2
	exit 1
}

# A missing tool must fail the check, not skip part of it.
for tool in man pkg-config make meson cc; do
	command -v "$tool" >/dev/null ||
		fail "'$tool' not found (install man-db, pkg-config, make, meson, gcc: tools/install-deps.sh)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/evcount-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

meson install -C "$build" --destdir "$dest" --quiet >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "meson install"; }

# Where things go comes from the build's own options, so that a Debian
# libdir (lib/x86_64-linux-gnu) or another --prefix is checked as
# configured.
opt() {
	meson introspect --buildoptions "$build" |
		python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}
prefix=$(opt prefix)
libdir=$(opt libdir)
bindir=$(opt bindir)
includedir=$(opt includedir)
mandir=$(opt mandir)
datadir=$(opt datadir)
default_library=$(opt default_library)
abs() { case $1 in /*) echo "$dest$1" ;; *) echo "$dest$prefix/$1" ;; esac; }
L=$(abs "$libdir")

exists() {
	[ -e "$1" ] || fail "not installed: ${1#"$dest"}"
	echo "check-install: ok: ${1#"$dest"}"
}

if [ "$default_library" != static ]; then
	exists "$L/libevcount.so"
	[ -L "$L/libevcount.so" ] && [ -L "$L/libevcount.so.0" ] ||
		fail "libevcount.so and libevcount.so.0 are not symlinks"
	[ "$(readlink "$L/libevcount.so")" = libevcount.so.0 ] ||
		fail "libevcount.so -> $(readlink "$L/libevcount.so"), expected libevcount.so.0"
	real=$(readlink -f "$L/libevcount.so")
	exists "$real"
	soname=$(objdump -p "$real" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
	[ "$soname" = libevcount.so.0 ] ||
		fail "${real#"$dest"}: soname is '$soname', not libevcount.so.0"
fi
if [ "$default_library" != shared ]; then
	exists "$L/libevcount.a"
	# Captured first: grep -q would close the pipe under pipefail.
	syms=$(nm --defined-only "$L/libevcount.a" 2>/dev/null)
	grep -q ' T evc_open$' <<<"$syms" ||
		fail "libevcount.a does not define evc_open"
fi
exists "$(abs "$includedir")/evcount.h"
pc_dir=$L/pkgconfig
exists "$pc_dir/evcount.pc"
exists "$(abs "$bindir")/evcount-cli"
man1=$(abs "$mandir")/man1/evcount-cli.1
man3=$(abs "$mandir")/man3/libevcount.3
exists "$man1"
exists "$man3"

# The completion goes where bash-completion looks, taken relative to our
# datadir (see doc/meson.build).
completion=$(abs "$datadir")/bash-completion/completions/evcount-cli
exists "$completion"
bash -c 'source "$1" && complete -p evcount-cli' _ "$completion" >/dev/null ||
	fail "the installed completion does not register for evcount-cli"

export LD_LIBRARY_PATH=$L${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_PATH=$pc_dir
export PKG_CONFIG_SYSROOT_DIR=$dest
version=$("$(abs "$bindir")/evcount-cli" --version) ||
	fail "the installed evcount-cli does not run"
[[ $version == "evcount-cli "*libevcount* ]] ||
	fail "evcount-cli --version printed '$version'"
echo "check-install: ok: evcount-cli --version: $version"

# The downstream project, copied out of the tree as a user would.
want='c1 2021-03-01T02:00:00Z 2'
cp -r "$root/examples/downstream" "$tmp/make"
make -s -C "$tmp/make" >"$tmp/make.log" 2>&1 ||
	{ cat "$tmp/make.log" >&2; fail "make in examples/downstream"; }
got=$(cd "$tmp/make" && ./downstream events.csv c1 2021-03-01T02:00:00Z)
[ "${got% (libevcount*}" = "$want" ] ||
	fail "make-built downstream printed '$got', expected '$want (...)'"
echo "check-install: ok: make + pkg-config: $got"

cp -r "$root/examples/downstream" "$tmp/meson"
meson setup "$tmp/meson/build" "$tmp/meson" >"$tmp/meson.log" 2>&1 &&
	meson compile -C "$tmp/meson/build" >>"$tmp/meson.log" 2>&1 ||
	{ cat "$tmp/meson.log" >&2; fail "meson build of examples/downstream"; }
got=$(cd "$tmp/meson" && build/downstream events.csv c1 2021-03-01T02:00:00Z)
[ "${got% (libevcount*}" = "$want" ] ||
	fail "meson-built downstream printed '$got', expected '$want (...)'"
echo "check-install: ok: meson dependency('evcount'): $got"

# The man pages render; man -l reads the files, not the man database.
for page in "$man1" "$man3"; do
	MANWIDTH=80 man -l "$page" >"$tmp/man.txt" 2>"$tmp/man.err" ||
		{ cat "$tmp/man.err" >&2; fail "man -l ${page#"$dest"}"; }
	[ -s "$tmp/man.err" ] && { cat "$tmp/man.err" >&2; fail "man -l ${page#"$dest"} warns"; }
	head -n 1 "$tmp/man.txt" | grep -q "$(basename "${page%.*}")" ||
		fail "man -l ${page#"$dest"}: no title line"
	grep -q '^NAME' "$tmp/man.txt" || fail "man -l ${page#"$dest"}: no NAME section"
	echo "check-install: ok: man -l ${page#"$dest"}: $(head -n 1 "$tmp/man.txt" | tr -s ' ')"
done
echo "check-install: all ok"

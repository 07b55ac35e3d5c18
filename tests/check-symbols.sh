#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The library exports exactly what the header declares:
#
#   check-symbols.sh HEADER VERSION-SCRIPT LIBRARY
#
# Three sets of function names must be equal: the evc_* functions declared
# in the public header (comments removed, so that a mention in a doc comment
# does not count), the names listed in the linker version script, and the
# dynamic symbols the shared library defines. A function added to the
# header but not to the script would be hidden; one exported by accident
# would become ABI.

set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 HEADER VERSION-SCRIPT LIBRARY" >&2
	exit 2
fi
header=$1 script=$2 lib=$3
nm=${NM:-nm}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-symbols.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Declarations: an identifier followed by "(" once comments are gone; the
# function pointer typedefs read "(*evc_x_fn)(" and do not match.
sed -e ':a' -e '$!{N;ba' -e '}' -e 's|/\*\([^*]\|\*[^/]\)*\*/||g' "$header" |
	sed -e 's|//.*||' |
	grep -o '\bevc_[a-z0-9_]*[[:space:]]*(' |
	sed 's/[[:space:]]*($//' | sort -u >"$tmp/header"

# The version script's global names (one per line, "name;").
sed -n '/global:/,/local:/p' "$script" |
	grep -o '^[[:space:]]*evc_[a-z0-9_]*;' |
	tr -d ' \t;' | sort -u >"$tmp/script"

# Defined dynamic symbols of the library, without version suffixes; the
# version node itself shows up as an absolute symbol and is left out.
"$nm" -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' |
	sed 's/@.*//' | sort -u >"$tmp/library"

status=0
# Within each node the names are sorted, so that a new one has one place.
if ! awk '/global:/ { n = 0; prev = "" } /^[[:space:]]*evc_/ {
		name = $1; sub(/;/, "", name)
		if (prev != "" && name < prev) { print "FAIL: " name " after " prev " in " FILENAME; bad = 1 }
		prev = name }
	END { exit bad }' "$script"; then
	status=1
fi
compare() {
	if ! diff -u --label "$1" --label "$3" "$tmp/$2" "$tmp/$4" >"$tmp/diff"; then
		echo "FAIL: $1 and $3 differ (- only in $1, + only in $3):"
		cat "$tmp/diff"
		status=1
	fi
}
compare "the header ($header)" header "the version script ($script)" script
compare "the header ($header)" header "the library ($lib)" library

n=$(wc -l <"$tmp/header")
if [ "$n" -eq 0 ]; then
	echo "FAIL: no function declarations found in $header"
	exit 1
fi
if [ "$status" -eq 0 ]; then
	echo "ok: $n functions, declared, listed and exported alike"
fi
exit "$status"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The bash completion script completes commands, options and --format
# values. It is sourced into this shell and its function called with
# COMP_WORDS and COMP_CWORD set as bash would set them, so the test needs
# no terminal and no bash-completion package.
#
#   test-completion.sh PATH-TO-evcount-cli.bash-completion [EVCOUNT-CLI]
#
# With the CLI, its --help's list of commands must be the completion's.

set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 COMPLETION-SCRIPT [EVCOUNT-CLI]" >&2
	exit 2
fi
cli=${2:-}
# shellcheck source=/dev/null
source "$1" || exit 1

failed=0
# complete_is WANT WORD...: completing the last WORD (the line so far,
# split) offers exactly WANT (space-separated, in order).
complete_is() {
	local want=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_evcount_cli evcount-cli "${COMP_WORDS[COMP_CWORD]}" \
		"${COMP_WORDS[COMP_CWORD - 1]}"
	local got="${COMPREPLY[*]}"
	if [ "$got" = "$want" ]; then
		echo "ok - '$*' -> '$got'"
	else
		echo "FAIL - '$*': got '$got', expected '$want'"
		failed=$((failed + 1))
	fi
}

# Run in an empty directory: a file name must not complete a command.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evcount-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

complete_is "hourly" evcount-cli hou
complete_is "customers" evcount-cli cu
complete_is "sources stats serve" evcount-cli s
complete_is "counts customers check" evcount-cli c
complete_is "--max-response-memory" evcount-cli serve --m
# Every command the tool lists in its help, and no other, completes.
if [ -n "$cli" ]; then
	want=$("$cli" --help | sed -n '/^Commands:/,/^$/p' |
		awk '/^  [a-z]/ && $1 != "FILE" { print $1 }' | sort | tr '\n' ' ')
	got=$(printf '%s\n' $(COMP_WORDS=(evcount-cli ""); COMP_CWORD=1;
		COMPREPLY=(); _evcount_cli evcount-cli "" evcount-cli;
		printf '%s\n' "${COMPREPLY[@]}") | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		echo "ok - the commands of --help complete: $got"
	else
		echo "FAIL - commands: --help lists '$want', completion offers '$got'"
		failed=$((failed + 1))
	fi
fi
complete_is "hourly" evcount-cli --db x.db hou
complete_is "--db" evcount-cli --d
complete_is "--start --strict" evcount-cli data.csv --st
complete_is "--start" evcount-cli hourly --st
complete_is "--sparse" evcount-cli hourly --customer-id c1 --sp
complete_is "table json csv" evcount-cli stats --format ""
complete_is "csv json" evcount-cli export --format ""
complete_is "table chart json csv" evcount-cli hourly --format ""
complete_is "chart" evcount-cli counts --customer-id c1 --format ch
complete_is "chart" evcount-cli data.csv --format ch
complete_is "" evcount-cli sources --format ch
complete_is "--all-customers --ascii" evcount-cli counts --a
complete_is "--ascii" evcount-cli hourly --as
complete_is "json" evcount-cli customers --format j
complete_is "--epoch" evcount-cli export --e
complete_is "--format --follow --force" evcount-cli data.csv --f
complete_is "--quiet" evcount-cli serve --q
complete_is "--top --tz" evcount-cli counts --t
complete_is "--all-customers --ascii" evcount-cli counts --a
complete_is "retract" evcount-cli ret
complete_is "prune" evcount-cli pr
complete_is "--db --dry-run" evcount-cli forget --d
complete_is "--before" evcount-cli prune --b
complete_is "--strict --stream" evcount-cli ingest --st
complete_is "week" evcount-cli counts --bucket w
complete_is "" evcount-cli counts --top ""
if [ -r "${TZDIR:-/usr/share/zoneinfo}/zone1970.tab" ]; then
	complete_is "Asia/Kolkata" evcount-cli counts --tz Asia/Kolk
	complete_is "UTC" evcount-cli counts --tz UT
else
	echo "ok - # SKIP no zone1970.tab: --tz values not completed"
fi
touch events.csv
complete_is "events.csv" evcount-cli ingest ev
complete_is "events.csv" evcount-cli ev
[ "$(complete -p evcount-cli)" = "complete -F _evcount_cli evcount-cli" ] || {
	echo "FAIL - 'complete -p evcount-cli': $(complete -p evcount-cli)"
	failed=$((failed + 1))
}

echo "$failed failed"
[ "$failed" -eq 0 ]

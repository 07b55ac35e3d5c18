#!/bin/bash
# Build the libFuzzer harnesses of tests/fuzz in a clang build directory of
# their own (build-fuzz/: ASan, UBSan and -fsanitize=fuzzer-no-link for the
# whole library) and fuzz each one, two at a time:
#
#     bash tests/fuzz/run.sh [SECONDS]    # default 30 s per harness
#
# Seed corpora are tests/fuzz/corpus/NAME (read only); what the fuzzer
# finds is kept in build-fuzz/tests/fuzz/corpus-NAME for later runs, and a
# failing input is written as build-fuzz/tests/fuzz/crash-NAME-*. To replay
# one: build-fuzz/tests/fuzz/fuzz-NAME FILE. Exits 77 (skipped) when clang
# or its libFuzzer runtime (Debian: libclang-rt-14-dev) is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
seconds=${1:-30}
dir=${EVCOUNT_FUZZ_BUILD:-build-fuzz}
names=(time csv ingest query store tz)

if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found; skipped" >&2
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' \
	>"$probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" \
	-o "$probe/probe" 2>/dev/null; then
	echo "fuzz: clang cannot link -fsanitize=fuzzer (libclang-rt-dev" \
		"missing?); skipped" >&2
	exit 77
fi

opts=("-Db_sanitize=address,undefined" -Db_lundef=false
	-Dc_args=-fsanitize=fuzzer-no-link -Ddocs=disabled)
if [[ -e $dir/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
else
	CC=clang meson setup "$dir" "${opts[@]}" >/dev/null
fi
targets=(tests/fuzz/store-seeds)
for n in "${names[@]}"; do
	targets+=("tests/fuzz/fuzz-$n")
done
meson compile -C "$dir" "${targets[@]}"

# The tests pass -max_total_time=30; a later flag wins.
mult=$(((seconds + 60 + 119) / 120))
meson test -C "$dir" --no-rebuild --suite fuzz --print-errorlogs \
	--num-processes 2 --timeout-multiplier "$mult" \
	--test-args="-max_total_time=$seconds"
grep -hE '^(stat::average_exec_per_sec|stat::number_of_executed_units)|DONE' \
	"$dir/meson-logs/testlog.txt" || true

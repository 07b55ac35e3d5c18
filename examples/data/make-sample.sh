#!/bin/bash
# Rebuild examples/data/sample.csv, the small committed input used by the
# example, the demo (tools/demo.sh) and the tests:
#
#     bash examples/data/make-sample.sh [PATH-TO-GEN-EVENTS]
#
# gen-events (tools/gen-events.c) is deterministic, so the generated part is
# the same bytes on every machine; without an argument (or $GEN_EVENTS) the
# generator is compiled on the spot with ${CC:-cc}, which needs no
# configured build tree. Hand-written rows are then appended: two that must
# be rejected and two valid quoted rows, so the sample exercises rejects and
# RFC 4180 quoting as well as the generator's quirks (out-of-order rows,
# +00/Z/+05:30/-08:00 offsets, 0-3 fraction digits, non-UUID transaction ids
# that are counted with a warning).
#
# The sample: 5 customers over 2021-03-01 and 2021-03-02, 2000 generated
# rows plus the 4 below. The busiest customer is customer 0 of gen-events,
# e220a8397b1dcdaf6e789e6aa1b965f4, queried by the example and the demo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
gen=${1:-${GEN_EVENTS:-}}

if [[ -z $gen ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	gen=$tmp/gen-events
	"${CC:-cc}" -std=c11 -O2 -o "$gen" "$root/tools/gen-events.c"
fi

out=$here/sample.csv
"$gen" --customers 5 --days 2 --start 2021-03-01 --rows 2000 --seed 20210301 \
	>"$out.tmp"
cat >>"$out.tmp" <<'ROWS'
e220a8397b1dcdaf6e789e6aa1b965f4,INGEST,6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f,2021-02-30 10:00:00+00
910a2dec89025cc1beeb8da1658eec67,INGEST,2021-03-01 10:00:00+00
"e220a8397b1dcdaf6e789e6aa1b965f4",INGEST,0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a,2021-03-01 10:15:00.5+00
e220a8397b1dcdaf6e789e6aa1b965f4,"INGEST,RETRY",3c4d5e6f-7a8b-4c9d-a0e1-f2a3b4c5d6e7,2021-03-01 10:16:00+00
ROWS
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -l <"$out") rows)"

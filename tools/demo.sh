#!/bin/bash
# The README's first command: install the dependencies (apt-get, as root or
# through sudo), build, ingest the sample export and print one customer's
# hourly counts for the sample's first day.
#
#     bash tools/demo.sh
#
# Works from any directory. The store is build/demo.db, recreated on each
# run so that reruns print the same thing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tools/install-deps.sh
source tools/install-deps.sh
install_deps

if [[ -e build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure build
else
	meson setup build
fi
meson compile -C build

cli=build/cli/evcount-cli
db=build/demo.db
rm -f "$db" "$db-wal" "$db-shm" "$db-journal"

set -x
"$cli" --db "$db" ingest examples/data/sample.csv
"$cli" --db "$db" hourly --customer-id e220a8397b1dcdaf6e789e6aa1b965f4 \
	--start 2021-03-01T00:00:00Z --end 2021-03-02T00:00:00Z --format table

#!/bin/sh
# bench/central.sh [BUILD_DIR] [bench_central options] - the central store's benchmark
# (not part of `ctest`): a private PostgreSQL server (tests/central/pg_server.sh), 20
# stations x 50 000 attempts shipped to it (records per second), then central `audit MAC`
# latency (goal: median under 5 ms). Prints the figures; the server is removed after.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
[ $# -gt 0 ] && shift
cmake --build "$build" -j2 --target bench_central
state=$(mktemp -u "${TMPDIR:-/tmp}/st-pg-bench.XXXXXX.state")
trap 'sh "$src/tests/central/pg_server.sh" stop "$state"' EXIT
sh "$src/tests/central/pg_server.sh" start "$state"
STATION_CENTRAL=$(sh "$src/tests/central/pg_server.sh" url "$state") "$build/db/bench_central" "$@"

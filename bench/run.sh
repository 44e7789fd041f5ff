#!/bin/sh
# bench/run.sh [BUILD_DIR] [bench.mjs options] - build what the benchmarks need in
# BUILD_DIR (default: build), then run them all (bench.mjs). Not part of `ctest`.
# Results: printed, and written to BUILD_DIR/bench/results/ (CSV, Markdown, raw JSON).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$(pwd)/$build ;; esac

command -v node >/dev/null 2>&1 || {
    echo "bench: node (>= 18) is needed for esptool-js; the interop fixture installs it:" >&2
    echo "  sh $src/tests/interop/setup_esptooljs.sh $build/tests/interop 0.5.7" >&2
    exit 2
}
[ -f "$build/CMakeCache.txt" ] || cmake -S "$src" -B "$build"
targets="station esp32sim bench_gen_image bench_flash bench_floor bench_sizes bench_rusage"
[ -f "$src/db/bench_audit.c" ] && targets="$targets bench_audit"
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $targets
exec node "$here/bench.mjs" "$build" "$@"

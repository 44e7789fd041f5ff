#!/bin/sh
# bench/reflash.sh [BUILD_DIR] [PRESETS] - issue 12's benchmark: one esp32sim --realism unit
# per run, pre-filled with other firmware, flash timing preset typ and max (PRESETS, default
# "typ max"); the station (bench_reflash: base, line, changed, twice, block, pad_base,
# pad_line) and esptool-js on the same image for reference. The presets run side by side
# (the simulator mostly waits). Prints the ratio table (Markdown) and writes
# BUILD_DIR/bench/results/reflash-<preset>.json. Targets are reported, never asserted.
set -eu
B=$(cd "${1:-build}" && pwd)
PRESETS=${2:-"typ max"}
SRC=$(cd "$(dirname "$0")/.." && pwd)
cmake --build "$B" -j2 --target bench_reflash bench_gen_image esp32sim >/dev/null
EJS="$B/tests/interop/node_modules/esptool-js"
[ -d "$EJS" ] || sh "$SRC/tests/interop/setup_esptooljs.sh" "$B/tests/interop" \
    "$(sed -n 's/.*set(ST_ESPTOOLJS_VERSION[[:space:]]*\([^)[:space:]]*\)).*/\1/p' "$SRC/tests/interop/esptooljs_paths.cmake")"
W="$B/bench/work/reflash"
R="$B/bench/results"
mkdir -p "$W" "$R"
"$B/bench/bench_gen_image" "$W/data" "$EJS/lib/targets/stub_flasher/stub_flasher_32.json" \
    "1500000, 921600, 460800, 115200" >/dev/null
for p in $PRESETS; do
    (
        "$B/bench/bench_reflash" --sim "$B/tests/sim/esp32sim" --profile "$W/data/bench4m.ini" \
            --pad-profile "$W/data/bench4m_pad.ini" --timing "$p" --cache-dir "$W/cache" \
            >"$R/reflash-$p.json" 2>"$W/reflash-$p.log" || echo "bench_reflash $p: a run failed (see $R/reflash-$p.json)"
        node "$SRC/bench/esptooljs_flash.mjs" --sim "$B/tests/sim/esp32sim" --esptooljs "$EJS" \
            --work "$W/ejs-$p" --baud 1500000 --image "$W/data/bench4m.bin" --offset 65536 \
            --capture "$W/ejs-$p.cap" --unit-opt "timing=$p" --unit-opt fill=pattern \
            >"$R/reflash-ejs-$p.json" 2>"$W/ejs-$p.log" || echo "esptool-js $p failed (see $W/ejs-$p.log)"
    ) &
done
wait
node -e '
const fs = require("fs");
const [R, ...presets] = process.argv.slice(1);
const f = (x) => x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(3);
const rows = [["fresh unit, bench4m (goal <= 0.85)", "fresh"],
              ["fresh unit, bench4m_pad (goal <= 0.85)", "fresh_padded"],
              ["same firmware twice (goal <= 0.10)", "twice"],
              ["one changed 64 KiB block (goal <= 0.15)", "one_block"],
              ["fresh unit with reflash changed (line default argument)", "fresh_changed"]];
const d = {};
for (const p of presets) {
    d[p] = JSON.parse(fs.readFileSync(`${R}/reflash-${p}.json`, "utf8"));
    try { d[p].ejs = JSON.parse(fs.readFileSync(`${R}/reflash-ejs-${p}.json`, "utf8")); } catch { d[p].ejs = null; }
}
console.log(`| ratio to the station before issue 12 (one run each, 1.5 Mbaud) | ${presets.join(" | ")} |`);
console.log(`|---|${presets.map(() => "---").join("|")}|`);
for (const [label, k] of rows) console.log(`| ${label} | ${presets.map((p) => f(d[p].ratios[k])).join(" | ")} |`);
const ej = (p) => d[p].ejs && d[p].ejs.wall_s ? d[p].ejs.wall_s / d[p].runs.base.s : NaN;
console.log(`| esptool-js 0.5.7, bench4m, fresh unit (reference) | ${presets.map((p) => f(ej(p))).join(" | ")} |`);
console.log("");
console.log(`| seconds | ${presets.join(" | ")} |`);
console.log(`|---|${presets.map(() => "---").join("|")}|`);
for (const k of ["base", "line", "changed", "twice", "block", "pad_base", "pad_line"])
    console.log(`| station ${k} | ${presets.map((p) => d[p].runs[k] ? d[p].runs[k].s.toFixed(2) : "n/a").join(" | ")} |`);
console.log(`| esptool-js | ${presets.map((p) => d[p].ejs && d[p].ejs.wall_s ? d[p].ejs.wall_s.toFixed(2) : "n/a").join(" | ")} |`);
' "$R" $PRESETS

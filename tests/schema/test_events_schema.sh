#!/usr/bin/env bash
# test_events_schema.sh STATION SCHEMA AJV_PREFIX - every event of the demo run
# (`station demo --json`) is valid against docs/events.schema.json, each kind the demo
# produces appears, the pass and fail events carry what a script needs, and the validator
# rejects events that break the contract (planted).
set -u
STATION=${1:?station} SCHEMA=${2:?schema} PREFIX=${3:?ajv prefix}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/schematest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
validate() { AJV_PREFIX=$PREFIX/node_modules node "$HERE/validate_events.mjs" "$SCHEMA" "$@"; }

# The on-result command fails for the failed unit: its `hook` event is validated too.
TMPDIR=$WORK timeout 90 "$STATION" demo --json --fast --on-result 'test "$STATION_RESULT" = pass' \
    >"$WORK/events" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || { tail "$WORK/err" >&2; fail "station demo --json exited $rc"; }
validate "$WORK/events" --expect line,attach,worker,try,phase,pass,try_fail,retry,fail,binned,detach,hook,summary ||
    fail "events of the demo run do not match $SCHEMA"
echo "ok: every event of the demo run is valid"

# What a script joins on: a pass and a fail carry the record id, MAC, chip and the digests.
node -e '
const ev = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const pass = ev.find((e) => e.event === "pass"), fl = ev.find((e) => e.event === "fail");
const bad = [];
for (const k of ["attempt_id", "try_no", "mac", "package", "revision", "flash_id", "bytes_raw", "durations", "images"])
  if (pass[k] === undefined) bad.push("pass." + k);
for (const k of ["attempt_id", "class", "status", "hint", "detail"])
  if (fl[k] === undefined) bad.push("fail." + k);
if (pass.images.length !== 3) bad.push("pass.images has " + pass.images.length + " entries, the demo profile 3");
if (!(pass.bytes_compressed > 0 && pass.bytes_compressed < pass.bytes_raw)) bad.push("pass bytes not compressed");
// after the flash: the demo profile boot-checks (the simulator app prints version 1.4.2)
// and provisions no serial; a boot-check failure has no version
if (pass.app_version !== "1.4.2") bad.push("pass.app_version " + JSON.stringify(pass.app_version) + ", expected 1.4.2");
if (pass.serial !== null) bad.push("pass.serial " + JSON.stringify(pass.serial) + ", expected null (no provisioning)");
for (const e of ev.filter((x) => ["try", "fail", "try_fail"].includes(x.event)))
  if (e.app_version !== null) bad.push(e.event + ".app_version " + JSON.stringify(e.app_version));
const sum = ev[ev.length - 1];
if (sum.event !== "summary" || sum.exit_status !== 0) bad.push("last line is not a summary with exit_status 0");
if (bad.length) { console.error("missing/wrong: " + bad.join(", ")); process.exit(1); }
' "$WORK/events" || fail "the demo's pass/fail events lack fields"
echo "ok: pass and fail events carry attempt id, unit identity, bytes, durations, digests, class, status, hint, serial (null) and app_version 1.4.2"

# attempt_id is the record's id: the same attempt in `station export --json`.
ID=$(grep -m1 '"event":"pass"' "$WORK/events" | grep -Eo '"attempt_id":[0-9]+' | cut -d: -f2)
MAC=$(grep -m1 '"event":"pass"' "$WORK/events" | grep -Eo '"mac":"[^"]+"' | cut -d'"' -f4)
TMPDIR=$WORK timeout 90 "$STATION" demo --json --fast --db "$WORK/kept.db" >"$WORK/events2" 2>/dev/null ||
    fail "demo --db failed"
ID=$(grep -m1 '"event":"pass"' "$WORK/events2" | grep -Eo '"attempt_id":[0-9]+' | cut -d: -f2)
MAC=$(grep -m1 '"event":"pass"' "$WORK/events2" | grep -Eo '"mac":"[^"]+"' | cut -d'"' -f4)
"$STATION" export --json --db "$WORK/kept.db" | grep "\"id\":$ID," | grep -q "\"mac\":\"$MAC\"" ||
    fail "attempt_id $ID ($MAC) of the pass event is not that attempt in station export"
echo "ok: attempt_id $ID joins with station export (MAC $MAC)"

# The validator is not a rubber stamp: planted breaks of the contract are each rejected.
pass=$(grep -m1 '"event":"pass"' "$WORK/events")
plant() { # name, node expression turning event e into a broken one
    printf '%s\n' "$pass" | node -e "let e=JSON.parse(require('fs').readFileSync(0,'utf8')); $2; console.log(JSON.stringify(e))" >"$WORK/bad"
    validate "$WORK/bad" >/dev/null 2>&1 && fail "the validator accepted a planted event: $1"
    echo "ok: rejected: $1"
}
plant "pass without attempt_id" 'delete e.attempt_id'
plant "unknown key" 'e.surprise = 1'
plant "pass without serial" 'delete e.serial'
plant "app_version a number" 'e.app_version = 142'
plant "empty serial" 'e.serial = ""'
plant "schema version 2" 'e.schema = 2'
plant "MAC in upper case" 'e.mac = e.mac.toUpperCase()'
plant "durations without total_ms" 'delete e.durations.total_ms'
plant "short sha256" 'e.images[0].sha256 = "abc"'
plant "unknown class" 'e.class = "gremlins"'
echo "PASS: events schema"

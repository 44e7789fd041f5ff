#!/usr/bin/env bash
# demo_headless.sh - `station demo` headless on the demo scenario: every unit is
# accounted for, the unit whose stub upload fails with 01 07 00 00 passes on its 2nd
# try, one unit ends in the retry bin, and the simulator is gone afterwards.
#
#   demo_headless.sh STATION SCENARIO [extra demo options]
set -u
STATION=${1:?station binary}
SCEN=${2:?scenario file}
shift 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/demotest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "---- last events ----" >&2
    tail -n 25 "$WORK/out" >&2
    echo "---- stderr ----" >&2
    cat "$WORK/err" >&2
    exit 1
}
ok() { echo "ok: $*"; }

# Units in the scenario: one `unit` line each (comments stripped).
UNITS=$(sed 's/#.*//' "$SCEN" | grep -cE '^[[:space:]]*unit[[:space:]]')
[ "$UNITS" -gt 0 ] || fail "no units in $SCEN"

# The line stops by itself once every unit has finished (passed or failed for good).
TMPDIR=$WORK timeout 55 "$STATION" demo --json --exit-after "$UNITS" --scenario "$SCEN" "$@" \
    >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 124 ] && fail "the demo did not finish all $UNITS units within 55 s"
[ $rc -eq 0 ] || fail "station demo exited with status $rc"

summary=$(grep '"event":"summary"' "$WORK/out")
[ -n "$summary" ] || fail "no summary line"
num() { echo "$summary" | grep -Eo "\"$1\":[0-9]+" | grep -Eo '[0-9]+$'; }
P=$(num passed) F=$(num failed) B=$(num in_bin)
[ $((P + F)) -eq "$UNITS" ] || fail "passed $P + failed $F != $UNITS units in the scenario"
ok "everyone accounted for: $P passed + $F failed = $UNITS units"
[ "$B" -eq 1 ] || fail "retry bin holds $B units, expected 1"
[ "$(grep -c '"event":"binned"' "$WORK/out")" -eq 1 ] || fail "expected exactly one binned event"
ok "one unit in the retry bin"

# The 01 07 00 00 unit: its first try fails in the stub upload with that status, its
# second passes.
line=$(grep '"event":"try_fail"' "$WORK/out" | grep '"class":"stub_ram_checksum"' | head -n1)
[ -n "$line" ] || fail "no try failed with stub_ram_checksum"
echo "$line" | grep -q '"attempt":1,' || fail "the stub_ram_checksum failure was not the 1st try"
echo "$line" | grep -q '"phase":"stub_upload"' || fail "stub_ram_checksum not in phase stub_upload"
echo "$line" | grep -q 'status 01 07 00 00' || fail "status bytes 01 07 00 00 not reported"
MAC=$(echo "$line" | grep -Eo '"mac":"[0-9a-f:]{17}"' | cut -d'"' -f4)
[ -n "$MAC" ] || fail "the stub_ram_checksum unit has no MAC"
grep '"event":"pass"' "$WORK/out" | grep "\"mac\":\"$MAC\"" | grep -q '"attempt":2,' ||
    fail "unit $MAC did not pass on its 2nd try"
ok "unit $MAC: stub upload 01 07 00 00 on try 1, PASS on try 2"

# The simulator was stopped and the temporary folder removed.
sleep 0.2
pgrep -f -- "$WORK/station-demo" >/dev/null && fail "the simulator is still running"
ls -d "$WORK"/station-demo.* >/dev/null 2>&1 && fail "the demo folder was left behind"
ok "simulator stopped, temporary folder removed"
echo "PASS: demo headless"

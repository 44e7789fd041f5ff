#!/usr/bin/env bash
# until_idle.sh STATION ESP32SIM PROFILE - `station run --until-idle S` for scripted
# batches: it stops by itself once no unit was plugged in or in flight for S seconds, and
# its exit status says whether every unit passed (0) or some unit failed for good (4);
# the JSON summary carries the same status. With another stop condition it is a usage
# error (2).
set -u
STATION=${1:?station} SIM=${2:?esp32sim} PROFILE=${3:?profile}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/untilidle.XXXXXX")
SIMPID=""
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/out" ] && tail -n 5 "$WORK/out" >&2; exit 1; }

start_sim() { # dir, extra options
    local d=$1; shift
    "$SIM" --dir "$d" --units 2 --quiet "$@" &
    SIMPID=$!
    for _ in $(seq 1 100); do [ -f "$d/ready" ] && return 0; sleep 0.1; done
    fail "simulator not ready"
}
stop_sim() { kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; SIMPID=""; }
batch() { # dir -> rc in $rc, output in $WORK/out
    timeout 90 "$STATION" run --profile "$PROFILE" --sim-dir "$1" --db "$WORK/db.$RANDOM" \
        --json --until-idle 2 >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc -eq 124 ] && fail "station run --until-idle 2 did not stop by itself within 90 s"
}
sumkey() { grep '"event":"summary"' "$WORK/out" | grep -Eo "\"$1\":[0-9]+" | cut -d: -f2; }

start_sim "$WORK/good"
batch "$WORK/good"
stop_sim
[ $rc -eq 0 ] || fail "a batch of good units exited $rc, expected 0"
[ "$(sumkey passed)" = 2 ] && [ "$(sumkey failed)" = 0 ] || fail "summary does not count 2 passed"
[ "$(sumkey exit_status)" = 0 ] || fail "summary exit_status is not 0"
echo "ok: 2 good units: stopped by itself, exit 0"

start_sim "$WORK/bad" --unit-opt 2:fault=flash_write_error
batch "$WORK/bad"
stop_sim
[ $rc -eq 4 ] || fail "a batch with a failed unit exited $rc, expected 4"
[ "$(sumkey passed)" = 1 ] && [ "$(sumkey failed)" = 1 ] || fail "summary does not count 1 passed, 1 failed"
[ "$(sumkey exit_status)" = 4 ] || fail "summary exit_status is not 4"
grep -q '"event":"fail".*"class":"flash_write"' "$WORK/out" || fail "no flash_write fail event"
echo "ok: 1 good + 1 failing unit: exit 4, summary says 4"

"$STATION" run --profile "$PROFILE" --sim-dir "$WORK/none" --until-idle 2 --exit-after 1 \
    >/dev/null 2>"$WORK/err"
rc=$?
[ $rc -eq 2 ] || fail "--until-idle with --exit-after exited $rc, expected 2 (usage)"
grep -q 'exclude each other' "$WORK/err" || fail "no message for conflicting stop conditions"
echo "ok: conflicting stop conditions: exit 2 with a message"
echo "PASS: until-idle exit codes"

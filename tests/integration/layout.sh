#!/usr/bin/env bash
# layout.sh STATION ESP32SIM PROFILE - the line layout file end to end: a malformed file
# is refused with file:line before anything is flashed (exit 2); a good one puts each
# place's label into every --json event of its slot; the default location is used when
# no --layout is given, and --no-layout turns it off.
set -u
STATION=${1:?station} SIM=${2:?esp32sim} PROFILE=${3:?profile}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/layout.XXXXXX")
SIMPID=""
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in out err; do [ -f "$WORK/$f" ] && tail -n 5 "$WORK/$f" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

# ---- refusals: file:line and what is wrong, exit 2, nothing flashed ----
refused() { # name, expected line, expected words (regex); the file is $WORK/$name.ini
    local f="$WORK/$1.ini"
    timeout 30 "$STATION" run --profile "$PROFILE" --sim-dir "$WORK/none" --db "$WORK/refused.db" \
        --headless --layout "$f" --exit-after 1 >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2"
    grep -q "layout $f:$2: " "$WORK/err" || fail "$1: no 'layout $f:$2:' in the error"
    grep -Eq -- "$3" "$WORK/err" || fail "$1: the error does not say /$3/"
    ok "$1 refused at line $2"
}
printf '[A1]\nplace = slot1\n[E1]\nplace = slot2\n' >"$WORK/bad_row.ini"
refused bad_row 3 'not a position.*A1..D8'
printf '[A9]\nplace = slot1\n' >"$WORK/bad_col.ini"
refused bad_col 1 'not a position'
printf '[A1]\nplace = slot1\n\n[A1]\nplace = slot2\n' >"$WORK/twice.ini"
refused twice 4 'A1 is given twice \(first at line 1\)'
printf '[A1]\nplace = slot1\n[A2]\nplace = /dev/serial/by-path/slot1\n' >"$WORK/same_place.ini"
refused same_place 4 'place slot1 is already at A1'
printf '[A1]\nplace = slot1\nlabl = x\n' >"$WORK/unknown_key.ini"
refused unknown_key 3 "unknown key 'labl'"
printf '[A1]\nplace = slot1\n[B2]\n# nothing\n[B3]\nplace = slot3\n' >"$WORK/no_place.ini"
refused no_place 3 'B2 has no place'
printf 'place = slot1\n' >"$WORK/no_section.ini"
refused no_section 1 'before any position'
printf '[A1]\nplace = slot1\nlabel = a-label-far-too-long\n' >"$WORK/long_label.ini"
refused long_label 3 'label must be 1 to 15'
printf '[A1]\nplace = slot1\nthis is not ini\n' >"$WORK/garbage.ini"
refused garbage 3 'cannot parse'
timeout 30 "$STATION" run --profile "$PROFILE" --sim-dir "$WORK/none" --db "$WORK/refused.db" \
    --headless --layout "$WORK/missing.ini" >"$WORK/out" 2>"$WORK/err"
[ $? -eq 2 ] && grep -q "layout $WORK/missing.ini: cannot open" "$WORK/err" || fail "a missing layout file is not refused"
ok "a missing layout file refused"
[ -e "$WORK/refused.db" ] && [ -n "$("$STATION" export --db "$WORK/refused.db" 2>/dev/null | tail -n +2)" ] &&
    fail "attempts were recorded under a refused layout"

# ---- labels in the events ----
start_sim() {
    "$SIM" --dir "$WORK/sim" --units 2 --quiet &
    SIMPID=$!
    for _ in $(seq 1 100); do [ -f "$WORK/sim/ready" ] && return 0; sleep 0.1; done
    fail "simulator not ready"
}
batch() { # extra options...; output in $WORK/out
    timeout 90 "$STATION" run --profile "$PROFILE" --sim-dir "$WORK/sim" --db "$WORK/db" \
        --json --until-idle 2 "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc -eq 0 ] || fail "batch exited $rc"
}
# label_of SLOT EVENT: the labels of SLOT's EVENT events, sorted, unique
label_of() {
    grep "\"event\":\"$2\"" "$WORK/out" | grep "\"slot\":\"$1\"" |
        sed -e '/"label"/!s/.*/(none)/' -e 's/.*"label":"\([^"]*\)".*/\1/' | sort -u | tr '\n' ' '
}
printf '[A1]\nplace = slot2\nlabel = L-2\n\n[B1]\nplace = slot1\n\n[D8]\nplace = slot-never\n' >"$WORK/good.ini"
start_sim
batch --layout "$WORK/good.ini"
for ev in attach worker try pass; do
    [ "$(label_of slot2 $ev)" = "L-2 " ] || fail "slot2 $ev events carry label '$(label_of slot2 $ev)', expected L-2"
    [ "$(label_of slot1 $ev)" = "B1 " ] || fail "slot1 $ev events carry label '$(label_of slot1 $ev)', expected B1"
done
n=$(grep -c '"event":"pass"' "$WORK/out")
[ "$n" = 2 ] || fail "$n units passed, expected 2"
ok "every event of a slot carries its layout label (L-2 given, B1 by default)"
grep -q '"text":"layout .*good.ini: 3 positions, 4 x 8"' "$WORK/out" || fail "no line event naming the layout"
ok "the line says which layout it uses"

# ---- the default location, and --no-layout ----
mkdir -p "$WORK/cfg/flashstation"
printf '[C3]\nplace = slot1\nlabel = FROM-CFG\n' >"$WORK/cfg/flashstation/layout.ini"
XDG_CONFIG_HOME="$WORK/cfg" batch
[ "$(label_of slot1 pass)" = "FROM-CFG " ] || fail "the default layout file was not used: '$(label_of slot1 pass)'"
ok "the default layout file (\$XDG_CONFIG_HOME/flashstation/layout.ini) is used without --layout"
XDG_CONFIG_HOME="$WORK/cfg" batch --no-layout
[ "$(label_of slot1 pass)" = "(none) " ] || fail "--no-layout still labels: '$(label_of slot1 pass)'"
ok "--no-layout: no labels"

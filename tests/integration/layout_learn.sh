#!/usr/bin/env bash
# layout_learn.sh STATION ESP32SIM PROFILE - `station layout learn` scripted through a pipe
# with simulator units appearing one by one (the line's discovery: slotK links and their
# sidecars): each position takes exactly one new place, a place already given is refused,
# two new places at once wait until one is left, Enter skips, q finishes; the file is
# written whole (temporary file + rename) with the labels of the file it started from;
# then `station run --layout` labels the slots by it.
set -u
STATION=${1:?station} SIM=${2:?esp32sim} PROFILE=${3:?profile}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/learn.XXXXXX")
SIMPID="" LEARNPID=""
cleanup() {
    [ -n "$LEARNPID" ] && kill "$LEARNPID" 2>/dev/null
    [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in learn.out learn.err; do [ -f "$WORK/$f" ] && sed 's/^/  | /' "$WORK/$f" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

start_sim() { # dir, options
    local d=$1; shift
    "$SIM" --dir "$d" --quiet "$@" &
    SIMPID=$!
}
stop_sim() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null; SIMPID=""; }
# learn SIMDIR ARGS...: station layout learn in the background, keys from fd 3 (a FIFO)
learn() {
    local d=$1; shift
    mkdir -p "$d"
    rm -f "$WORK/keys"
    mkfifo "$WORK/keys"
    exec 3<>"$WORK/keys"
    "$STATION" layout learn --sim-dir "$d" "$@" <"$WORK/keys" >"$WORK/learn.out" 2>"$WORK/learn.err" &
    LEARNPID=$!
}
# wait_for REGEX [SECONDS]: until the learn output has a line matching REGEX
wait_for() {
    local t=$(( ${2:-20} * 10 ))
    for _ in $(seq 1 "$t"); do grep -Eq -- "$1" "$WORK/learn.out" && return 0; sleep 0.1; done
    fail "learn never said /$1/"
}
# learn_end: wait for the command; its status in $rc
learn_end() {
    local t=0
    while kill -0 "$LEARNPID" 2>/dev/null; do
        sleep 0.1; t=$((t + 1))
        [ $t -lt 300 ] || fail "learn did not finish"
    done
    wait "$LEARNPID"; rc=$?
    LEARNPID=""
    exec 3>&-
}
body() { grep -v '^#' "$1" | sed '/^$/d'; } # the file without comments and blank lines

# ---- 1. a fresh file for A..B x 1..2 ----
cat >"$WORK/scen1" <<'X'
# slot3 for A1, then it comes back while A2 is asked (refused); slot1 for A2; B1 is
# skipped; slot4 and slot5 at once for B2 until slot5 leaves
unit 3 at=0.5 leave=stay+1.5
unit 3 after=0.5
unit 1 at=4
unit 4 at=6.5
unit 5 at=6.5 leave=stay+1.5
X
learn "$WORK/sim1" --layout "$WORK/cfg/fixture.ini" --rows A..B --cols 1..2
wait_for '^plug a unit into A1 \(Enter to skip, q to finish\)$'
grep -q '^learning 4 positions for .*/cfg/fixture.ini; 0 units plugged in now' "$WORK/learn.out" ||
    fail "no opening line naming 4 positions and the file"
start_sim "$WORK/sim1" --scenario "$WORK/scen1"
wait_for '^A1 = slot3$'
wait_for '^plug a unit into A2 '
wait_for '^slot3 is already A1: refused; unplug it and plug a unit into A2$'
ok "A1 = slot3; slot3 plugged in again while A2 is asked: refused (already A1)"
wait_for '^A2 = slot1$'
wait_for '^plug a unit into B1 '
printf '\n' >&3
wait_for '^B1 skipped: left out$'
ok "A2 = slot1; Enter skipped B1"
wait_for '^2 new places at once \(slot4, slot5\): unplug all but the unit in B2$'
wait_for '^B2 = slot4$' 30
learn_end
stop_sim
[ $rc -eq 0 ] || fail "learn exited $rc"
grep -q "^wrote $WORK/cfg/fixture.ini: 3 positions (3 learned now)$" "$WORK/learn.out" || fail "no 'wrote' line"
printf '[A1]\nplace = slot3\n[A2]\nplace = slot1\n[B2]\nplace = slot4\n' >"$WORK/want1"
diff <(body "$WORK/cfg/fixture.ini") "$WORK/want1" >&2 || fail "fixture.ini is not the layout learned"
grep -q 'Written by `station layout learn`' "$WORK/cfg/fixture.ini" || fail "fixture.ini lacks its header comment"
[ "$(ls -A "$WORK/cfg")" = fixture.ini ] || fail "left behind in the folder: $(ls -A "$WORK/cfg")"
ok "two at once waited until slot5 left, B2 = slot4; fixture.ini written (folder created, no temporary file left)"

# ---- 2. station run --layout labels the slots by the learned file ----
"$SIM" --dir "$WORK/sim2" --units 4 --quiet &
SIMPID=$!
for _ in $(seq 1 100); do [ -f "$WORK/sim2/ready" ] && break; sleep 0.1; done
timeout 90 "$STATION" run --profile "$PROFILE" --sim-dir "$WORK/sim2" --db "$WORK/db" --json --until-idle 2 \
    --layout "$WORK/cfg/fixture.ini" >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
stop_sim
[ $rc -eq 0 ] || { tail -n 5 "$WORK/run.err" >&2; fail "station run --layout exited $rc"; }
label_of() { # SLOT: the labels of SLOT's pass events
    grep '"event":"pass"' "$WORK/run.out" | grep "\"slot\":\"$1\"" |
        sed -e '/"label"/!s/.*/(none)/' -e 's/.*"label":"\([^"]*\)".*/\1/' | sort -u | tr '\n' ' '
}
for want in slot3=A1 slot1=A2 slot4=B2 "slot2=(none)"; do
    [ "$(label_of "${want%%=*}")" = "${want#*=} " ] ||
        fail "${want%%=*} passed with label '$(label_of "${want%%=*}")', expected ${want#*=}"
done
ok "station run --layout: slot3 A1, slot1 A2, slot4 B2, slot2 unlabelled"

# ---- 3. re-learning part of a file: labels and the other positions kept ----
printf '[A1]\nplace = slot9\nlabel = LEFT-FRONT\n\n[A2]\nplace = slot1\n\n[C3]\nplace = slot7\nlabel = KEEP\n' \
    >"$WORK/old.ini"
cat >"$WORK/scen3" <<'X'
unit 7 at=0.5
unit 2 at=2
X
learn "$WORK/sim3" --layout "$WORK/old.ini" --positions A1,A2
wait_for '^plug a unit into A1 \(LEFT-FRONT\) \(Enter to skip, q to finish\)$'
grep -q 'for .*/old.ini (labels kept)' "$WORK/learn.out" || fail "no '(labels kept)' for an existing file"
start_sim "$WORK/sim3" --scenario "$WORK/scen3"
wait_for '^slot7 is already C3: refused; unplug it and plug a unit into A1$'
wait_for '^A1 = slot2$'
wait_for '^plug a unit into A2 '
printf '\n' >&3
wait_for '^A2 skipped: keeps slot1 from the file$'
learn_end
stop_sim
[ $rc -eq 0 ] || fail "re-learn exited $rc"
printf '[A1]\nplace = slot2\nlabel = LEFT-FRONT\n[A2]\nplace = slot1\n[C3]\nplace = slot7\nlabel = KEEP\n' >"$WORK/want3"
diff <(body "$WORK/old.ini") "$WORK/want3" >&2 || fail "old.ini after re-learning A1,A2 is not as expected"
ok "re-learn A1,A2: slot7 refused (it is C3's, not walked), A1 = slot2 keeps LEFT-FRONT, A2 skipped keeps slot1, C3 kept"

# ---- 4. q at once: nothing learned, the file untouched (exit 1) ----
cp "$WORK/old.ini" "$WORK/before.ini"
learn "$WORK/sim4" --layout "$WORK/old.ini"
wait_for '^plug a unit into A1 '
grep -q '^learning 3 positions' "$WORK/learn.out" || fail "without --positions the file's 3 positions are not walked"
printf 'x\nq\n' >&3
wait_for '^type Enter to skip A1, or q and Enter to finish$'
learn_end
[ $rc -eq 1 ] || fail "q before anything was learned exited $rc, expected 1"
grep -q '^nothing learned: .* left as it is$' "$WORK/learn.out" || fail "no 'nothing learned'"
cmp -s "$WORK/old.ini" "$WORK/before.ini" || fail "the file changed although nothing was learned"
ok "an unknown key is answered; q at once: nothing learned, file untouched, exit 1"

# ---- 5. bad requests: exit 2, what to do ----
"$STATION" layout learn --sim-dir "$WORK/sim4" --layout "$WORK/none.ini" </dev/null >"$WORK/learn.out" 2>"$WORK/learn.err"
[ $? -eq 2 ] && grep -q 'does not exist yet: say which positions to walk, e.g. --rows A..D --cols 1..8' "$WORK/learn.err" ||
    fail "a new file without positions is not refused with what to give"
"$STATION" layout learn --sim-dir "$WORK/sim4" --layout "$WORK/x.ini" --rows A..E --cols 1..8 </dev/null \
    >"$WORK/learn.out" 2>"$WORK/learn.err"
[ $? -eq 2 ] && grep -q "\-\-rows 'A..E' is not a range of rows A..D" "$WORK/learn.err" || fail "--rows A..E not refused"
"$STATION" layout learn --sim-dir "$WORK/sim4" --layout "$WORK/x.ini" --positions A1,Z9 </dev/null \
    >"$WORK/learn.out" 2>"$WORK/learn.err"
[ $? -eq 2 ] && grep -q "'Z9' is not a position" "$WORK/learn.err" || fail "--positions Z9 not refused"
printf '[A1]\nplace = slot1\n[A1]\nplace = slot2\n' >"$WORK/broken.ini"
"$STATION" layout learn --sim-dir "$WORK/sim4" --layout "$WORK/broken.ini" </dev/null >"$WORK/learn.out" 2>"$WORK/learn.err"
[ $? -eq 2 ] && grep -q "broken.ini:3: .*given twice" "$WORK/learn.err" || fail "a broken layout file is not refused with file:line"
[ ! -e "$WORK/x.ini" ] || fail "a refused request wrote a file"
ok "refused with exit 2: a new file without positions, --rows A..E, --positions Z9, a broken file (file:line)"
echo "PASS: layout learn"

#!/usr/bin/env bash
# tui_tmux.sh - drive the dashboard in a real terminal (tmux) and assert what an
# operator would see on the screen.
#
#   tui_tmux.sh fake  TUI_FAKE                    the dashboard on a fake line: keys,
#                                                 dialogs, locked mode, resize
#   tui_tmux.sh demo  STATION SCENARIO [ARGS..]   `station demo [ARGS]` on the simulated
#                                                 line, end to end (SCENARIO is the demo's
#                                                 scenario, read to count its units)
#   tui_tmux.sh picker STATION PROFILE_DIR        `station run`'s profile picker: the
#                                                 profiles of the search path only; a
#                                                 typed path refused unless
#                                                 --allow-profile-path; --locked refuses
#   tui_tmux.sh layout STATION LAYOUT             `station demo --fast --layout LAYOUT`
#                                                 (tests/integration/layout_demo.ini): the
#                                                 fixture's labels at fixed places
#
# Environment: NO_COLOR (passed to the dashboard; then no colour may appear on screen),
# TUI_LANG (locale for the dashboard, default C.UTF-8; "C" checks the ASCII glyphs),
# DEMO_WAIT_ALL=1 (demo: wait until every unit of the scenario has finished, then quit;
# otherwise quit while units are in flight, through the confirmation).
# Every tmux call uses a private server socket, so nobody else's tmux is touched.
set -u

MODE=${1:?mode: fake or demo}
PROG=${2:?program}
shift 2
SOCK="tuitest.$$.$RANDOM"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tuitest.XXXXXX")
# remain-on-exit from the start: a dashboard that dies leaves its pane, so its death is
# seen (pane_dead), not mistaken for a missing session.
echo 'set -g remain-on-exit on' >"$WORK/tmux.conf"
TM=(tmux -L "$SOCK" -f "$WORK/tmux.conf")
LANG_IN=${TUI_LANG:-C.UTF-8}
NOCOLOR_IN=${NO_COLOR:-}

cleanup() {
    "${TM[@]}" kill-server >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

screen() { "${TM[@]}" capture-pane -p -t t 2>/dev/null; }
screen_attrs() { "${TM[@]}" capture-pane -p -e -t t 2>/dev/null; }
pane_dead() { [ "$("${TM[@]}" display-message -p -t t '#{pane_dead}' 2>/dev/null)" = 1 ]; }
# The program's exit status (written by the pane's shell when it ends; tmux's own
# pane_dead_status is not reliable).
pane_status() { cat "$WORK/exit" 2>/dev/null; }

fail() {
    echo "FAIL: $*" >&2
    echo "---- screen ----" >&2
    screen >&2
    echo "----------------" >&2
    [ -s "$WORK/stderr" ] && { echo "---- program stderr ----" >&2; cat "$WORK/stderr" >&2; }
    exit 1
}
ok() { echo "ok: $* (at ${SECONDS} s)"; }

# wait_for SECONDS REGEX: until the screen matches (extended regex) or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        pane_dead && fail "the dashboard exited (status $(pane_status)) while waiting for /$2/"
        screen | grep -Eq -- "$2" && return 0
        sleep 0.3
    done
    fail "timed out after $1 s waiting for /$2/"
}

# wait_gone SECONDS REGEX: until the screen no longer matches.
wait_gone() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -Eq -- "$2" || return 0
        sleep 0.3
    done
    fail "timed out after $1 s waiting for /$2/ to go away"
}

keys() { "${TM[@]}" send-keys -t t "$@"; }

# counter ROW NAME: the number after NAME in the header's counter row ROW.
counter() { echo "$1" | grep -Eo "$2 [0-9]+" | head -n1 | grep -Eo '[0-9]+$'; }

# The header's counters add up: passed + failed = finished. All three come from one
# capture: the line moves on between captures (a unit passing in between would make a
# sound dashboard look wrong).
check_counters() {
    local row p f n
    row=$(screen | sed -n '2p')
    p=$(counter "$row" PASSED) f=$(counter "$row" FAILED) n=$(counter "$row" FINISHED)
    [ -n "$p" ] && [ -n "$f" ] && [ -n "$n" ] || fail "counter row unreadable"
    [ $((p + f)) -eq "$n" ] || fail "counters do not add up: passed $p + failed $f != finished $n"
    ok "counters add up: passed $p + failed $f = finished $n"
}

MAC='[0-9a-f]{2}(:[0-9a-f]{2}){5}'
# A slot's PASS result (glyph + word; the header's PASSED does not match).
PASS_CELL='(✔|\+) PASS'
# A retry-bin row: border, MAC, failure class, tries.
BIN_ROW="^(#|│|┃|\\|) $MAC +[a-z0-9_]+ +[0-9]+"

# A slot's time left of at least 5 s ("0:05" .. "0:59", "1:00" and longer).
ETA_5S='(0:(0[5-9]|[1-5][0-9])|[1-9][0-9]*:[0-9]{2}(:[0-9]{2})?)([^0-9:]|$)'

# A fresh tmux server for each run (killing its last session makes the server exit, so
# wait for that rather than race it).
stop_server() {
    "${TM[@]}" kill-server >/dev/null 2>&1
    local i
    for i in $(seq 50); do
        "${TM[@]}" has-session >/dev/null 2>&1 || return 0
        sleep 0.1
    done
}

start() {
    stop_server
    rm -f "$WORK/exit"
    local cmd
    cmd=$(printf '%q ' "$@")
    "${TM[@]}" new-session -d -s t -x 160 -y 48 \
        "env LANG=$LANG_IN LC_ALL=$LANG_IN NO_COLOR=$NOCOLOR_IN TMPDIR=$WORK $cmd 2>$WORK/stderr; echo \$? >$WORK/exit" ||
        fail "tmux could not start"
}

# wait_attr SECONDS REGEX: like wait_for, on the screen with its attributes (SGR codes).
wait_attr() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        screen_attrs | grep -Eq -- "$2" && return 0
        sleep 0.3
    done
    fail "timed out after $1 s waiting for attributes /$(printf '%q' "$2")/"
}

# Colour on screen exactly when NO_COLOR is unset. A PASS result stands out by a green
# block with colour, by reverse video without.
check_colour() {
    local colour=$'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;|48;)'
    if [ -n "$NOCOLOR_IN" ]; then
        screen_attrs | grep -Eq -- "$colour" && fail "NO_COLOR is set but the screen has colour"
        wait_attr 20 $'\e\\[([0-9;]*;)?7(;[0-9;]*)?m[^\e]*PASS'
        ok "NO_COLOR: no colour on screen, PASS in reverse video"
    else
        screen_attrs | grep -Eq -- "$colour" || fail "no colour on screen although NO_COLOR is unset"
        wait_attr 20 $'\e\\[([0-9;]*;)?42(;[0-9;]*)?m[^\e]*PASS'
        ok "colour on screen, PASS on green"
    fi
}

check_glyphs() {
    if [ "$LANG_IN" = C ] || [ "$LANG_IN" = POSIX ]; then
        screen | LC_ALL=C grep -q $'[\x80-\xff]' && fail "non-ASCII output in the C locale"
        ok "ASCII glyphs in the C locale"
    else
        screen | grep -q '[┌│─]' || fail "no UTF-8 box drawing in a UTF-8 locale"
        ok "UTF-8 glyphs"
    fi
}

# Resize small then large: the grid is laid out again and the dashboard lives on.
check_resize() {
    local want=$1
    "${TM[@]}" resize-window -t t -x 80 -y 24
    sleep 1
    pane_dead && fail "the dashboard died on resize to 80x24"
    wait_for 5 "$want"
    [ "$(screen | head -n1 | wc -L)" -le 80 ] || fail "header wider than 80 columns after resize"
    ok "resized to 80x24: header shown"
    "${TM[@]}" resize-window -t t -x 40 -y 10
    sleep 0.7
    pane_dead && fail "the dashboard died on resize to 40x10"
    "${TM[@]}" resize-window -t t -x 200 -y 60
    sleep 1
    pane_dead && fail "the dashboard died on resize to 200x60"
    wait_for 5 "$want"
    wait_for 5 'RETRY BIN'
    ok "resized to 200x60: header and panels shown"
}

quit_and_wait_exit() {
    local deadline=$((SECONDS + ${1:-10}))
    while [ $SECONDS -lt $deadline ]; do
        if pane_dead; then
            local i st
            for i in $(seq 20); do
                st=$(pane_status)
                [ -n "$st" ] && break
                sleep 0.1
            done
            [ "$st" = 0 ] || fail "exit status '${st}'"
            return 0
        fi
        sleep 0.2
    done
    fail "still running ${1:-10} s after quit"
}

# After q: the dashboard quits at once with nothing in flight, or asks first (then y).
quit_or_confirm() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        pane_dead && return 0
        if screen | grep -q 'unit(s) in flight'; then
            keys y
            return 0
        fi
        sleep 0.2
    done
    fail "neither quit nor asked within $1 s of q"
}

# check_wrapped W H: at W x H the help overlay and the retry-bin hints wrap at word
# boundaries (every long word of them appears whole on the screen), and the header keeps
# IN FLIGHT and the image digests.
check_wrapped() {
    local W=$1 H=$2 word
    "${TM[@]}" resize-window -t t -x "$W" -y "$H"
    sleep 0.8
    pane_dead && fail "the dashboard died on resize to ${W}x$H"
    keys '?'
    wait_for 5 'Slot states'
    for word in details selected whole history resume finish profile locked verified \
        flashing progress plugged; do
        screen | grep -qw -- "$word" || fail "${W}x$H help: the word '$word' is cut or missing"
    done
    keys x
    wait_gone 5 'Slot states'
    # The retry bin's hint (md5_mismatch): its words whole, or the hint left to the details.
    if ! screen | grep -q 'RETRY BIN.*' ; then fail "${W}x$H: no retry bin panel"; fi
    for word in content differs image; do
        screen | grep -qw -- "$word" || fail "${W}x$H retry bin: the hint word '$word' is cut or missing"
    done
    screen | head -n 2 | grep -q 'IN FLIGHT' || fail "${W}x$H: the header lost IN FLIGHT"
    [ "$(screen | head -n 2 | wc -L)" -le "$W" ] || fail "${W}x$H: header wider than the terminal"
    ok "${W}x$H: help and retry-bin hints wrap whole words; header keeps IN FLIGHT"
}

# check_digests W: the header at width W shows every image digest (8 hex digits each).
check_digests() {
    "${TM[@]}" resize-window -t t -x "$1" -y 24
    sleep 0.8
    local n
    n=$(screen | head -n1 | grep -Eo '\b[0-9a-f]{8}\b' | wc -l)
    [ "$n" -ge 3 ] || fail "header at $1 columns shows $n image digests, expected 3"
    ok "header at $1 columns keeps the 3 image digests"
}

# check_stable_times: an event keeps its time across redraws. Pairs of captures 0.4 s
# apart (4 redraws between): when the pair shows the same events (none scrolled in), the
# times must be the same too. Pairs over 4 s, so across second boundaries.
check_stable_times() {
    local a b ta tb pairs=0 tries=0
    events() { screen | grep -Eo '[0-9]{2}:[0-9]{2}:[0-9]{2} [^│|]*' | sed 's/[[:space:]]*$//'; }
    while [ "$pairs" -lt 8 ] && [ "$tries" -lt 40 ]; do
        tries=$((tries + 1))
        a=$(events)
        sleep 0.4
        b=$(events)
        [ "$(echo "$a" | cut -c10-)" = "$(echo "$b" | cut -c10-)" ] || continue # new events
        [ "$a" = "$b" ] || fail "event times changed between redraws:
$(diff <(echo "$a") <(echo "$b"))"
        pairs=$((pairs + 1))
    done
    [ "$pairs" -ge 8 ] || fail "the event log never held still for a pair of captures"
    ok "event times stable across redraws ($pairs pairs of captures)"
}

run_fake() {
    start "$PROG" --slots 8 --speed 4
    wait_for 10 'FLASH STATION'
    wait_for 15 "$PASS_CELL"
    wait_for 10 "MAC $MAC"
    wait_for 20 'FAIL md5_mismatch'
    wait_for 5 "$BIN_ROW"
    ok "slots reach PASS with MACs; a FAIL is in the retry bin"
    check_counters
    wait_for 5 'central: offline since [0-9]{2}:[0-9]{2}, [0-9]+ records? waiting'
    ok "the header shows the central store's state from the line view"
    check_colour
    check_glyphs

    # Details: the whole error, its status bytes, the hint and the history callback's lines.
    keys Enter
    wait_for 5 'Attempt history of'
    wait_for 5 'status 01 07 00 00|PASS  1.25 MiB'
    ok "Enter opens the details with the history"
    keys Escape
    wait_gone 5 'Attempt history of'
    keys '?'
    wait_for 5 'Slot states'
    keys x
    wait_gone 5 'Slot states'
    ok "help opens and closes"
    check_wrapped 80 24
    check_wrapped 200 50
    check_wrapped 60 30
    "${TM[@]}" resize-window -t t -x 160 -y 48

    # Pause: header flag, resume clears it.
    keys p
    wait_for 5 ' PAUSED '
    keys p
    wait_gone 5 ' PAUSED '
    ok "p pauses and resumes"

    # Profile change is refused while units are in flight.
    keys P
    wait_for 5 'in flight: wait for them'
    ok "P refused while units are in flight"

    # Quit asks while units are in flight; n keeps running.
    keys q
    wait_for 5 'unit\(s\) in flight'
    keys n
    wait_gone 5 'unit\(s\) in flight'
    pane_dead && fail "quit happened although cancelled"
    ok "quit asks while units are in flight"

    check_resize 'FLASH STATION'
    keys q
    quit_or_confirm 5
    quit_and_wait_exit 10
    ok "q y quits with status 0"

    # Locked line: profile key refused with a message.
    start "$PROG" --slots 3 --locked
    wait_for 10 'LOCKED'
    keys P
    wait_for 5 'LOCKED: the profile cannot be changed'
    ok "locked line refuses a profile change"
    # With no unit in flight the picker opens on an unlocked line (checked at the start of
    # the fake run: no unit arrives before 1 fake second, which at --speed 0.02 is 50 s,
    # longer than all the waits up to the profile change together).
    start "$PROG" --slots 64 --speed 0.02
    wait_for 10 'FLASH STATION'
    keys P
    wait_for 5 'Change profile'
    keys Down Enter
    wait_for 5 'profile is now core2-factory|profile core2-factory'
    ok "profile picker switches the profile when idle"
    wait_for 5 'slot64'
    check_resize 'FLASH STATION'
}

# The demo line: `station demo` with the demo scenario, watched like an operator would.
run_demo() {
    local scen=${1:?scenario}
    shift
    local units
    units=$(sed 's/#.*//' "$scen" | grep -cE '^[[:space:]]*unit[[:space:]]')
    [ "$units" -gt 0 ] || fail "no units in $scen"
    start "$PROG" demo "$@"
    wait_for 20 'FLASH STATION'
    wait_for 50 "$PASS_CELL"
    wait_for 10 "MAC $MAC"
    ok "slots reach PASS with MACs"
    check_colour
    check_glyphs
    wait_for 50 "$BIN_ROW"
    ok "a failed unit is in the retry-bin panel"
    check_counters
    check_resize 'FLASH STATION'
    if [ "${DEMO_WAIT_ALL:-0}" = 1 ]; then
        # Everyone accounted for: the counters reach the scenario's total.
        wait_for 50 "FINISHED $units "
        check_counters
        ok "all $units demo units finished"
        # The demo says it is done: counts, yield, where the records went, how to leave.
        wait_for 20 "Finished: all $units units"
        wait_for 5 'passed, [0-9]+ failed, [0-9]+ in the retry bin, yield'
        screen | grep -q 'Records: ' || fail "the closing summary does not say where the records went"
        screen | grep -q 'temporary' || fail "the closing summary does not say the records are temporary"
        screen | grep -q 'Press q to leave' || fail "the closing summary does not invite to q"
        ok "closing summary: counts, yield, temporary records, press q"
        keys x
        wait_gone 5 'Press q to leave'
        check_stable_times
        check_digests 80
        keys q
    else
        # Quit mid-run: the dashboard asks first; w pauses the line and leaves once the
        # units in flight have finished. A slot writing with 5 s or more to go keeps a
        # unit in flight through both keys, however loaded the machine: "IN FLIGHT 1"
        # alone may be a unit finishing as q arrives, and then q quits at once.
        wait_for 40 "ETA $ETA_5S"
        keys q
        wait_for 5 'unit\(s\) in flight'
        keys w
        wait_for 5 'PAUSED, QUIT WHEN IDLE'
        ok "q w: paused, quitting when the units in flight are done"
    fi
    quit_and_wait_exit 40
    ok "demo quits with status 0"
    sleep 0.3
    pgrep -f -- "$WORK/station-demo" >/dev/null && fail "the simulator outlived the demo"
    ls -d "$WORK"/station-demo.* >/dev/null 2>&1 && fail "the demo folder was left behind"
    ok "simulator stopped and demo folder removed"
}

# The real station's profile picker, no unit attached (so it opens at once): it offers
# the profiles of the search path (PROFILE_DIR only: nothing of the source tree), and a
# path typed by hand is refused unless the station was started with --allow-profile-path.
run_picker() {
    local profdir=${1:?profile folder} name
    local path="$profdir/demo-rom.ini"
    mkdir -p "$WORK/empty"
    local line=(run --profile demo --profiles-dir "$profdir" --sim-dir "$WORK/empty" --db "$WORK/st.db")
    start "$PROG" "${line[@]}"
    wait_for 15 'FLASH STATION'
    wait_for 5 'profile demo '
    keys P
    wait_for 5 'Change profile'
    for name in demo demo-prov demo-rom demo-wrong; do
        screen | grep -Eq -- "(^|[^a-z-])$name( |$|  \(current\))" || fail "the picker does not list $name"
    done
    screen | grep -Eq 'core2|fire' && fail "the picker lists a profile that is not on the search path"
    screen | grep -q 'typed paths refused:' || fail "the picker does not say typed paths are refused"
    ok "picker lists the profiles of the search path, and only those"
    keys -l "$path"
    wait_for 5 "typed paths refused: .*demo-rom\.ini_"
    keys Enter
    wait_for 5 'refused \(pick a listed profile; a typed path needs the station started with --allow-profile-path\)'
    screen | head -n 2 | grep -q 'profile demo ' || fail "a refused path changed the profile"
    ok "a typed path is refused without --allow-profile-path"
    keys P
    wait_for 5 'Change profile'
    keys Down Down Enter
    wait_for 5 'profile is now demo-rom'
    wait_for 5 'profile demo-rom'
    ok "a listed profile is taken"
    keys q
    quit_and_wait_exit 10

    start "$PROG" "${line[@]}" --allow-profile-path
    wait_for 15 'profile demo '
    keys P
    wait_for 5 'or type a path:'
    keys -l "$path"
    keys Enter
    wait_for 5 "profile is now .*demo-rom\.ini"
    wait_for 5 'profile demo-rom'
    ok "with --allow-profile-path a typed path is loaded"
    keys q
    quit_and_wait_exit 10

    start "$PROG" "${line[@]}" --allow-profile-path --locked
    wait_for 15 'LOCKED'
    keys P
    wait_for 5 'LOCKED: the profile cannot be changed'
    ok "--locked still refuses a profile change"
    keys q
    quit_and_wait_exit 10
}

# label_pos LABEL: "row column" of LABEL (a whole word) in the slot grid (the rows above
# the bottom panels), columns counted in characters; empty when it is not there.
label_pos() {
    screen | LC_ALL=C.UTF-8 sed 's/[^ -~]/?/g' | LC_ALL=C awk -v l="$1" '
        /RETRY BIN|EVENTS/ { exit }
        NR > 2 {
            s = " " $0 " "
            for (i = 1; i + length(l) <= length(s); i++)
                if (substr(s, i + 1, length(l)) == l && substr(s, i, 1) !~ /[A-Za-z0-9-]/ &&
                    substr(s, i + 1 + length(l), 1) !~ /[A-Za-z0-9-]/) {
                    print NR, i
                    exit
                }
        }'
}

LABELS="A1 A2 A3 A4 B1 B2 B3 END SPARE"

# grid_map: every label's place, one "LABEL row col" a line.
grid_map() {
    local l
    for l in $LABELS; do echo "$l $(label_pos "$l")"; done
}

# check_fixture W H: at W x H the fixture is drawn as the layout file says: every label
# (the spare place with no unit too) is on the screen, rows A, B, C top to bottom, columns
# 1..4 left to right and aligned across rows, SPARE under column 4 with nothing before it
# in row C (C1..C3 are holes); and nothing moves while units come, pass and leave.
check_fixture() {
    local W=$1 H=$2 l map first
    "${TM[@]}" resize-window -t t -x "$W" -y "$H"
    sleep 0.8
    pane_dead && fail "the dashboard died on resize to ${W}x$H"
    wait_for 5 'SPARE'
    map=$(grid_map)
    for l in $LABELS; do
        echo "$map" | grep -Eq "^$l [0-9]+ [0-9]+$" || fail "${W}x$H: label $l not in the slot grid"
    done
    pos() { echo "$map" | awk -v l="$1" -v f="$2" '$1 == l { print $f }'; }
    [ "$(pos A1 2)" -lt "$(pos B1 2)" ] && [ "$(pos B1 2)" -lt "$(pos SPARE 2)" ] ||
        fail "${W}x$H: rows A, B, C not top to bottom"
    for l in A2 A3 A4; do [ "$(pos "$l" 2)" = "$(pos A1 2)" ] || fail "${W}x$H: $l not in row A"; done
    for l in B2 B3 END; do [ "$(pos "$l" 2)" = "$(pos B1 2)" ] || fail "${W}x$H: $l not in row B"; done
    [ "$(pos A1 3)" -lt "$(pos A2 3)" ] && [ "$(pos A2 3)" -lt "$(pos A3 3)" ] &&
        [ "$(pos A3 3)" -lt "$(pos A4 3)" ] || fail "${W}x$H: row A not in column order"
    [ "$(pos B1 3)" = "$(pos A1 3)" ] && [ "$(pos B2 3)" = "$(pos A2 3)" ] &&
        [ "$(pos B3 3)" = "$(pos A3 3)" ] && [ "$(pos END 3)" = "$(pos A4 3)" ] ||
        fail "${W}x$H: rows A and B not aligned column by column"
    [ "$(pos SPARE 3)" = "$(pos A4 3)" ] || fail "${W}x$H: SPARE is not under column 4"
    local crow
    crow=$(screen | sed -n "$(pos SPARE 2)p" | LC_ALL=C.UTF-8 sed 's/[^ -~]/?/g' | cut -c1-$(($(pos SPARE 3) - 2)))
    echo "$crow" | grep -q '[A-Za-z0-9]' && fail "${W}x$H: something drawn in the holes C1..C3: '$crow'"
    ok "${W}x$H: the fixture's labels at their positions, holes empty, the spare place shown"
    first=$map
    # Units come, pass and leave for a few seconds: nothing moves.
    local i
    for i in 1 2 3 4 5 6; do
        sleep 0.7
        map=$(grid_map)
        [ "$map" = "$first" ] || fail "${W}x$H: the grid moved:
$(diff <(echo "$first") <(echo "$map"))"
    done
    ok "${W}x$H: positions fixed while units come and go"
}

run_layout() {
    local layout=${1:?layout file}
    start "$PROG" demo --fast --layout "$layout"
    wait_for 20 'FLASH STATION'
    # From the first frame, every position is shown, the spare one too.
    wait_for 5 'SPARE'
    ok "the spare position is shown before any unit could reach it"
    check_fixture 80 24
    check_fixture 200 50
    # The event log names slots by their labels.
    wait_for 10 '[0-9]{2}:[0-9]{2}:[0-9]{2} (A[1-4]|B[1-3]|END) '
    ok "the event log uses the labels"
    keys q
    quit_or_confirm 10
    quit_and_wait_exit 40
    ok "demo with a layout quits with status 0"
}

case "$MODE" in
fake) run_fake ;;
demo) run_demo "$@" ;;
picker) run_picker "$@" ;;
layout) run_layout "$@" ;;
*) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
echo "PASS: tui_tmux $MODE (LANG=$LANG_IN NO_COLOR=${NOCOLOR_IN:-unset})"

#!/usr/bin/env bash
# binview.sh - a station's own retry-bin view asks the central store: a unit that failed
# here and passed on another station since is no longer shown as waiting here, on the
# running line (the dashboard's panel, or --json's events and summary) and in
# `station retry-bin` without --central (STATION_CENTRAL with --local, or central.conf).
# The line never waits for the question: the shipper asks, the answer stays cached while
# the server is away.
#
# Station A runs for the whole test with two units in its bin, X and Y (bad flash). A
# bench station B identifies Y (station identify: a pass of no flash, which must not
# settle Y), then passes X and ships both. A's view drops X (Y stays); its stand-alone
# retry-bin says X passed on st-B. The server is then stopped: A says it is offline and
# keeps X out of its bin (cache); the server comes back.
#
#   binview.sh dashboard|json STATION ESP32SIM PROFILE_DIR PGSTATE
set -u
MODE=${1:?dashboard|json}
STATION=${2:?} SIM=${3:?} PROFDIR=${4:?} PGSTATE=${5:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/central_lib.sh"
central_setup "binview-$MODE"
X=24:0a:c4:96:00:01 Y=24:0a:c4:96:00:02
TM=(tmux -L "binview.$$" -f /dev/null)
halted=""
binview_cleanup() {
    [ -n "$halted" ] && sh "$HERE/pg_server.sh" resume "$PGSTATE" >/dev/null 2>&1
    [ "$MODE" = dashboard ] && "${TM[@]}" kill-server >/dev/null 2>&1
    central_cleanup
}
trap binview_cleanup EXIT
"$STATION" central init "$URL" >/dev/null || fail "central init"

screen() { "${TM[@]}" capture-pane -p -t a 2>/dev/null; }
# what station A shows: its screen, or its JSON lines so far
seen() { if [ "$MODE" = dashboard ]; then screen; else cat "$WORK/A.out"; fi; }
wait_seen() { # SECONDS REGEX WHAT
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        seen | grep -Eq -- "$2" && return 0
        sleep 0.3
    done
    seen | tail -n 60 >&2
    cat "$WORK/A.err" >&2 2>/dev/null
    fail "station A: $3 (waited $1 s for /$2/)"
}
# the dashboard's retry-bin panel: the rows between its title and the next box
panel() { screen | sed -n '/RETRY BIN (/,$p' | sed -E 's/(┃│|││|│┃|┃┃).*$//'; }

# ---- station A: X and Y fail for good, the line keeps running ----
sim_start A --units 2 --unit-opt "1:mac=$X" --unit-opt 1:fault=flash_write_error \
    --unit-opt "2:mac=$Y" --unit-opt 2:fault=flash_write_error
A_CMD=(env STATION_CENTRAL="$URL" STATION_NAME=st-A "$STATION" run --profile demo --profiles-dir "$PROFDIR"
       --sim-dir "$WORK/simA" --db "$WORK/A.db" --max-tries 1)
if [ "$MODE" = dashboard ]; then
    "${TM[@]}" new-session -d -s a -x 160 -y 48 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm $(printf '%q ' "${A_CMD[@]}") 2>$WORK/A.err; echo \$? >$WORK/A.exit" ||
        fail "tmux could not start"
    wait_seen 60 'RETRY BIN \(2\)' "X and Y are not both in the dashboard's retry bin"
    panel | grep -q "$X" && panel | grep -q "$Y" || { screen >&2; fail "the bin panel does not list X and Y"; }
else
    timeout 240 "${A_CMD[@]}" --json >"$WORK/A.out" 2>"$WORK/A.err" &
    echo $! >"$WORK/runA.pid"
    wait_seen 60 "\"event\":\"binned\".*\"mac\":\"$X\"" "X not binned"
    wait_seen 30 "\"event\":\"binned\".*\"mac\":\"$Y\"" "Y not binned"
fi
for _ in $(seq 1 100); do
    [ "$(psql_q "SELECT count(*) FROM bin_events")" = 2 ] && break
    sleep 0.2
done
[ "$(psql_q "SELECT count(*) FROM bin_events")" = 2 ] || fail "A's bin entries did not ship"
STATION_CENTRAL=$URL "$STATION" retry-bin --local --db "$WORK/A.db" >"$WORK/bin0.txt" 2>&1 || fail "retry-bin --local"
grep "$X" "$WORK/bin0.txt" | grep -q " open " && grep "$Y" "$WORK/bin0.txt" | grep -q " open " ||
    { cat "$WORK/bin0.txt" >&2; fail "before B: X and Y are not both open in A's local view"; }
ok "station A ($MODE): X and Y in its retry bin, shipped; nothing passed elsewhere yet"

# ---- station B's repair bench only identifies Y (no flash: it settles nothing) ----
sim_start C --units 1 --unit-opt "1:mac=$Y"
"$STATION" identify --port "$WORK/simC/slot1" --db "$WORK/B.db" >"$WORK/idY.txt" 2>&1 ||
    { cat "$WORK/idY.txt" >&2; fail "station identify of Y on B"; }
sim_stop C

# ---- station B (the repair bench line) passes X ----
sim_start B --units 1 --unit-opt "1:mac=$X"
STATION_CENTRAL=$URL STATION_NAME=st-B timeout 120 "$STATION" run --profile demo --profiles-dir "$PROFDIR" \
    --sim-dir "$WORK/simB" --json --db "$WORK/B.db" --exit-after 1 >"$WORK/B.out" 2>"$WORK/B.err" ||
    { cat "$WORK/B.err" >&2; fail "station B"; }
sim_stop B
grep -q '"event":"summary".*"central_waiting":0' "$WORK/B.out" || fail "station B did not ship its pass"
# B's identify of Y reached the server as a pass of no flash: the central bin and the
# dashboard views must not count it (central schema v3)
[ "$(psql_q "SELECT count(*) FROM attempts WHERE mac = '$Y' AND doc->>'action' = 'identify' AND outcome = 'pass'")" = 1 ] ||
    fail "B's identify of Y did not ship"
"$STATION" retry-bin --central "$URL" >"$WORK/cbin.txt" 2>&1 || { cat "$WORK/cbin.txt" >&2; fail "retry-bin --central"; }
grep -q "$Y" "$WORK/cbin.txt" || { cat "$WORK/cbin.txt" >&2; fail "Y left the central retry bin through B's identify"; }
grep -q "$X" "$WORK/cbin.txt" && { cat "$WORK/cbin.txt" >&2; fail "X is still in the central retry bin after its pass on B"; }
[ "$(psql_q "SELECT COALESCE(sum(attempts), 0) FROM yield_station_hour WHERE station_name = 'st-B'")" = \
  "$(psql_q "SELECT count(*) FROM attempts a JOIN stations s ON s.uuid = a.station WHERE s.name = 'st-B' AND a.doc->>'action' IS NULL AND a.outcome <> 'in_progress'")" ] ||
    fail "yield_station_hour counts B's identify as an attempt"

# ---- A's running line: X leaves its bin view, Y stays ----
if [ "$MODE" = dashboard ]; then
    wait_seen 30 'RETRY BIN \(1\)' "the panel still counts X as waiting"
    wait_seen 10 '1 passed elsewhere' "the panel does not say one unit passed elsewhere"
    panel | grep -q "$X" && { screen >&2; fail "X is still listed in the dashboard's retry bin"; }
    panel | grep -q "$Y" || { screen >&2; fail "Y left the dashboard's retry bin"; }
    wait_seen 10 "passed on station st-B" "the event log does not say where X passed"
else
    wait_seen 30 "\"event\":\"central\".*\"mac\":\"$X\".*passed on station st-B" "no event for X passing on st-B"
    grep '"event":"central"' "$WORK/A.out" | grep -q "\"mac\":\"$Y\"" && fail "Y reported as passed elsewhere"
fi
ok "A's line ($MODE): X passed on st-B and left the bin view (1 waiting: Y), with an event naming st-B"

# ---- `station retry-bin` on A without --central ----
STATION_CENTRAL=$URL "$STATION" retry-bin --local --db "$WORK/A.db" >"$WORK/bin1.txt" 2>&1 || fail "retry-bin --local"
grep "$X" "$WORK/bin1.txt" | grep -q " open " && { cat "$WORK/bin1.txt" >&2; fail "X still waits in A's local retry-bin"; }
grep -q "^$X passed on st-B at .*not waiting" "$WORK/bin1.txt" || { cat "$WORK/bin1.txt" >&2; fail "no note that X passed on st-B"; }
grep "$Y" "$WORK/bin1.txt" | grep -q " open " || { cat "$WORK/bin1.txt" >&2; fail "Y does not wait in A's local retry-bin"; }
STATION_CENTRAL=$URL "$STATION" retry-bin --local --all --db "$WORK/A.db" | grep "$X" | grep -q "passed elsewhere" ||
    fail "retry-bin --all does not list X as passed elsewhere"
STATION_CENTRAL=$URL "$STATION" retry-bin --local --json --db "$WORK/A.db" >"$WORK/bin1.json" || fail "retry-bin --json"
grep -q "\"mac\":\"$X\"" "$WORK/bin1.json" && fail "X in A's local JSON bin"
grep -q "\"mac\":\"$Y\"" "$WORK/bin1.json" || fail "Y not in A's local JSON bin"
STATION_CENTRAL=$URL "$STATION" retry-bin --local --all --json --db "$WORK/A.db" | grep "\"mac\":\"$X\"" |
    grep -q '"resolved":"20' || fail "retry-bin --all --json does not show X resolved by the pass elsewhere"
# the central store from the conf file (no environment): the same answer
echo "$URL" >"$WORK/central.conf"
chmod 600 "$WORK/central.conf"
STATION_CENTRAL_CONF=$WORK/central.conf env -u STATION_CENTRAL "$STATION" retry-bin --db "$WORK/A.db" >"$WORK/bin2.txt" 2>&1 ||
    fail "retry-bin with central.conf"
grep -q "^$X passed on st-B" "$WORK/bin2.txt" && ! grep "$X" "$WORK/bin2.txt" | grep -q " open " ||
    { cat "$WORK/bin2.txt" >&2; fail "retry-bin with central.conf shows X as waiting"; }
STATION_CENTRAL_CONF=$WORK/central.conf env -u STATION_CENTRAL "$STATION" retry-bin --csv --db "$WORK/A.db" |
    grep -q "$X" && fail "X in A's local CSV bin (central.conf)"
# unreachable: the station's own view, said so, never a hang
STATION_CENTRAL="postgresql://st_admin@/flash?host=$WORK/none&port=5432" timeout 20 "$STATION" retry-bin --local \
    --db "$WORK/A.db" >"$WORK/bin3.txt" 2>"$WORK/bin3.err" || fail "retry-bin with an unreachable central store failed"
grep -q "not reachable" "$WORK/bin3.err" && grep "$X" "$WORK/bin3.txt" | grep -q " open " ||
    { cat "$WORK/bin3.txt" "$WORK/bin3.err" >&2; fail "unreachable central: not the local view with a note"; }
ok "retry-bin without --central (STATION_CENTRAL --local, central.conf; table, --all, JSON, CSV): X passed on st-B, Y waits; unreachable: local view and a note"

# ---- the server goes away: A says so and keeps its answer ----
sh "$HERE/pg_server.sh" halt "$PGSTATE" || fail "cannot stop the server"
halted=1
if [ "$MODE" = dashboard ]; then
    wait_seen 40 'central: offline since' "no offline state in the header"
    sleep 6 # past the next bin question
    screen | grep -q 'RETRY BIN (1)' && ! panel | grep -q "$X" || { screen >&2; fail "offline: X came back into the bin"; }
else
    wait_seen 40 '"event":"central".*central: offline' "no offline event"
    sleep 6
fi
sh "$HERE/pg_server.sh" resume "$PGSTATE" || fail "cannot restart the server"
halted=""
ok "server away: A says it is offline and keeps X out of its bin (the cached answer)"

# ---- stop A: its summary / last screen counts Y only ----
if [ "$MODE" = dashboard ]; then
    "${TM[@]}" send-keys -t a q
    sleep 1
    "${TM[@]}" send-keys -t a y
    for _ in $(seq 1 100); do [ -f "$WORK/A.exit" ] && break; sleep 0.2; done
    [ -f "$WORK/A.exit" ] || { screen >&2; fail "the dashboard did not quit"; }
    [ "$(cat "$WORK/A.exit")" = 66 ] && { cat "$WORK/A.err" >&2; fail "sanitizer report"; }
else
    kill -TERM "$(cat "$WORK/runA.pid")"
    wait "$(cat "$WORK/runA.pid")"
    rc=$?
    rm -f "$WORK/runA.pid"
    [ $rc = 66 ] && { cat "$WORK/A.err" >&2; fail "sanitizer report"; }
    grep -q '"event":"summary".*"in_bin":1[,}]' "$WORK/A.out" || fail "A's summary does not count Y only: $(grep summary "$WORK/A.out")"
fi
sim_stop A
ok "station A stopped; only Y waited in its bin"
central_pass

#!/usr/bin/env bash
# three_stations.sh - three stations (three processes, three SQLite files) flash 16
# simulated units each, with faults, and ship to one central PostgreSQL store in the
# background. Then: the central store holds exactly the union of the local records (no
# duplicate, same digests); a unit that failed on station 1 and passed on station 2
# shows both in `audit --central` and is in no retry bin; stats/export/retry-bin answer
# across stations with the station's name; a unit closed by hand on a station
# (retry-bin close: scrapped) leaves the central bin once shipped, and audit --central
# shows the closing with its reason.
#
#   three_stations.sh STATION ESP32SIM PROFILE_DIR PGSTATE
set -u
STATION=${1:?} SIM=${2:?} PROFDIR=${3:?} PGSTATE=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/central_lib.sh"
central_setup three

# Unit K of station S: its MAC, and the faults of some slots. Slot 16 is the shared unit
# X: a bad flash on station 1 (retry bin), then repaired and passed on station 2.
X=24:0a:c4:99:00:01
sim_args() {
    local s=$1 args=()
    for k in $(seq 1 16); do
        args+=(--unit-opt "$k:mac=24:0a:c4:0$s:00:$(printf %02x "$k")")
    done
    args+=(--unit-opt 3:fault=ram_checksum:1 --unit-opt 5:fault=bitflip:1
           --unit-opt 7:fault=flash_write_error --unit-opt 9:flash=1M --unit-opt 11:fault=wrong_chip
           --unit-opt 13:bridge=ch9102)
    if [ "$s" -eq 1 ]; then args+=(--unit-opt 16:mac=$X --unit-opt 16:fault=flash_write_error); fi
    if [ "$s" -eq 2 ]; then args+=(--unit-opt 16:mac=$X); fi
    echo "${args[@]}"
}

run_station() { # S LINE [STATION OPTIONS]: start simulator and station S in the background
    local s=$1 line=$2
    shift 2
    # shellcheck disable=SC2046
    sim_start "$s" --units 16 $(sim_args "$s")
    STATION_CENTRAL=$URL STATION_NAME=st-$s STATION_LINE=$line \
        timeout 120 "$STATION" run --profile demo --profiles-dir "$PROFDIR" --sim-dir "$WORK/sim$s" \
        --json --db "$WORK/st$s.db" --exit-after 16 --max-tries 2 --sync-attempts 2 "$@" \
        >"$WORK/run$s.out" 2>"$WORK/run$s.err" &
    echo $! >"$WORK/run$s.pid"
}

wait_station() {
    local s=$1 pid
    pid=$(cat "$WORK/run$s.pid")
    wait "$pid"
    local rc=$?
    [ $rc -eq 0 ] || { tail -n 30 "$WORK/run$s.out" >&2; cat "$WORK/run$s.err" >&2; fail "station $s exited $rc"; }
    grep -q '"event":"summary".*"central_waiting":0' "$WORK/run$s.out" ||
        { grep summary "$WORK/run$s.out" >&2; grep '"central"' "$WORK/run$s.out" >&2; fail "station $s left records unshipped"; }
    sim_stop "$s"
}

"$STATION" central init "$URL" >/dev/null || fail "central init"
# Station 1 first (the unit X fails there), then stations 2 and 3 at the same time.
run_station 1 line-A
wait_station 1
run_station 2 line-A
# Station 3's MES hook refuses unit 4: the failure is recorded on its attempt and ships.
H=24:0a:c4:03:00:04
run_station 3 line-B --on-result "[ \"\$STATION_MAC\" != $H ] || { echo 'mes: lot closed' >&2; exit 7; }"
wait_station 2
wait_station 3
ok "three stations flashed 16 units each and shipped everything in the background"
grep -q '"event":"central".*online as station st-2' "$WORK/run2.out" || fail "no 'online' event on station 2"

# ---- the union, exactly ----
for s in 1 2 3; do local_rows "$WORK/st$s.db"; done | sort >"$WORK/local.txt"
central_rows | sort >"$WORK/central.txt"
n_local=$(wc -l <"$WORK/local.txt")
[ "$n_local" -ge 48 ] || fail "only $n_local local rows"
diff "$WORK/local.txt" "$WORK/central.txt" >"$WORK/diff.txt" || { head -20 "$WORK/diff.txt" >&2; fail "central != union of the local stores"; }
ok "central store = union of the three local stores ($n_local rows: attempts with digests, bin entries, units)"
dups=$(psql_q "SELECT count(*) - count(DISTINCT (station, local_id)) FROM attempts")
[ "$dups" = 0 ] || fail "$dups duplicate attempts"
[ "$(psql_q "SELECT count(*) FROM stations")" = 3 ] || fail "not 3 stations"

# ---- audit across stations ----
"$STATION" audit --central "$URL" "$X" --json >"$WORK/audit.json" || fail "audit --central"
grep -q '"station":"st-1"' "$WORK/audit.json" && grep '"station":"st-1"' "$WORK/audit.json" | grep -q '"outcome":"fail"' ||
    fail "audit --central does not show X's failure on station 1"
grep '"station":"st-2"' "$WORK/audit.json" | grep -q '"outcome":"pass"' || fail "audit --central does not show X's pass on station 2"
head -1 "$WORK/audit.json" | grep -q '"station":"st-2"' || fail "newest entry of X is not station 2's pass"
"$STATION" audit --central "$URL" "$X" | grep -q '^\[st-1\]' || fail "audit text has no station names"
ok "audit --central: X failed on st-1 and passed on st-2, newest first"
grep '"kind":"attempt"' "$WORK/audit.json" | grep -vq '"station_version":"[0-9]' &&
    fail "an attempt in audit --central lacks the station version"
# by the end of the MAC as a label prints it; every unit that matches, with its history
"$STATION" audit --central "$URL" 99:00:01 >"$WORK/audit_end.txt" || fail "audit --central by MAC end"
grep -q "^unit $X\$" "$WORK/audit_end.txt" && grep -q '^\[st-2\]' "$WORK/audit_end.txt" ||
    { cat "$WORK/audit_end.txt" >&2; fail "audit --central 99:00:01 does not list X with its history"; }
"$STATION" audit --central "$URL" 00:07 >"$WORK/audit_07.txt" || fail "audit --central 00:07"
grep -q '^3 units for a MAC ending in 00:07$' "$WORK/audit_07.txt" ||
    { cat "$WORK/audit_07.txt" >&2; fail "audit --central 00:07 does not list the three stations' unit 7"; }
# by the USB serial number of X's bridge on station 2
xser=$(sqlite3 "$WORK/st2.db" "SELECT bridge_serial FROM attempts WHERE mac = '$X' LIMIT 1")
[ -n "$xser" ] || fail "no USB serial recorded for X"
"$STATION" audit --central "$URL" --serial "$xser" | grep -q "^unit $X\$" || fail "audit --central --serial $xser does not find X"
# a time range: nothing before the stations ran; a reversed range is an error
"$STATION" audit --central "$URL" "$X" --until 2000-01-01T00:00+01:00 >/dev/null 2>&1
[ $? = 1 ] || fail "audit --central with a range before everything did not answer 'no records'"
"$STATION" audit --central "$URL" "$X" --since now --until 1h >/dev/null 2>&1
[ $? = 2 ] || fail "audit --central with a reversed range is not an error"
ok "audit --central by MAC end (99:00:01, 00:07 on three stations), by USB serial, in a time range; station version shipped"

"$STATION" audit --central "$URL" "$H" >"$WORK/auditH.txt" || fail "audit --central $H"
grep -q '^\[st-3\] .* pass .*ON-RESULT FAILED: exited with status 7 after .*; stderr: mes: lot closed$' "$WORK/auditH.txt" ||
    { cat "$WORK/auditH.txt" >&2; fail "audit --central does not show st-3's failed on-result command for $H"; }
[ "$(psql_q "SELECT count(*) FROM attempts WHERE doc->>'hook_result' IS NOT NULL")" = 1 ] ||
    fail "not exactly one central attempt with an on-result failure"
ok "a failed on-result command on st-3 shipped with its attempt (audit --central shows status 7 and its stderr)"

# ---- the central retry bin ----
"$STATION" retry-bin --central "$URL" --json >"$WORK/bin.json" || fail "retry-bin --central"
grep -q "\"mac\":\"$X\"" "$WORK/bin.json" && fail "X is still in the central retry bin"
for s in 1 2 3; do
    grep -q "\"mac\":\"24:0a:c4:0$s:00:07\".*\"station\":\"st-$s\"" "$WORK/bin.json" ||
        fail "station $s's bad-flash unit is not in the central bin"
done
STATION_CENTRAL=$URL "$STATION" retry-bin --local --all --db "$WORK/st1.db" >"$WORK/bin1.txt" || fail "local retry-bin"
grep "$X" "$WORK/bin1.txt" | grep -q "passed elsewhere" || { cat "$WORK/bin1.txt" >&2; fail "station 1's local bin does not know X passed on st-2"; }
STATION_CENTRAL=$URL "$STATION" retry-bin --local --db "$WORK/st1.db" | grep "$X" | grep -q " open " &&
    fail "X waits in station 1's local bin although it passed on st-2"
ok "retry bin: X (passed on st-2) is in no central bin, and station 1's local view says 'passed elsewhere'"

# ---- a unit closed by hand (scrapped) on station 3 leaves the central bin ----
Y=24:0a:c4:03:00:07
"$STATION" retry-bin close "$Y" --db "$WORK/st3.db" --operator qa-ann --reason "scrapped: cracked case" \
    >"$WORK/close.txt" 2>&1 || { cat "$WORK/close.txt" >&2; fail "retry-bin close"; }
STATION_NAME=st-3 "$STATION" central sync --central "$URL" --db "$WORK/st3.db" >"$WORK/sync3.txt" 2>&1 ||
    { cat "$WORK/sync3.txt" >&2; fail "central sync after the close"; }
"$STATION" retry-bin --central "$URL" --json >"$WORK/bin2.json" || fail "retry-bin --central after the close"
grep -q "\"mac\":\"$Y\"" "$WORK/bin2.json" && fail "the unit closed on st-3 is still in the central retry bin"
grep -q '"mac":"24:0a:c4:02:00:07"' "$WORK/bin2.json" || fail "station 2's bad-flash unit left the central bin too"
"$STATION" audit --central "$URL" "$Y" >"$WORK/auditY.txt" || fail "audit --central Y"
grep -q '^\[st-3\] .*closed by qa-ann@.*: scrapped: cracked case' "$WORK/auditY.txt" ||
    { cat "$WORK/auditY.txt" >&2; fail "audit --central does not show the closing"; }
ok "retry-bin close on st-3: shipped, out of the central bin, audit --central shows who and why"

# ---- stats, export ----
[ "$("$STATION" stats --central "$URL" --by station --json | grep -o '"key"' | wc -l)" = 3 ] || fail "stats --by station"
[ "$("$STATION" stats --central "$URL" --by line --json | grep -o '"key"' | wc -l)" = 2 ] || fail "stats --by line"
"$STATION" stats --central "$URL" --by hour >/dev/null || fail "stats --by hour"
n_att=$(for s in 1 2 3; do sqlite3 "$WORK/st$s.db" "SELECT count(*) FROM attempts"; done | awk '{n += $1} END {print n}')
n_exp=$("$STATION" export --central "$URL" --json | grep -c '"station":"st-')
[ "$n_exp" = "$n_att" ] || fail "export --central has $n_exp rows, the stations $n_att"
"$STATION" export --central "$URL" --csv | head -1 | grep -q '^station,id,mac' || fail "export --central CSV header"
ok "stats --by station/line/hour and export --central across stations ($n_att attempts)"

# ---- views for dashboards ----
[ "$(psql_q "SELECT count(DISTINCT station_name) FROM yield_station_hour")" = 3 ] || fail "yield_station_hour"
psql_q "SELECT bridge FROM failures_bridge_day" | grep -q CP2104 || fail "failures_bridge_day"
ok "dashboard views answer"
central_pass

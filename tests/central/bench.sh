#!/usr/bin/env bash
# bench.sh - the repair bench ships too, and every local record table reaches the
# central store.
#
# Station A (`station run`, per-unit provisioning: serials) fails unit X (bad flash) and
# passes unit Y; X is in the central retry bin. The bench station B repairs X with
# `station flash` (a store of its own): its records ship in the background, so X leaves
# the central bin. With the server unreachable, `station flash` still passes, in bounded
# time, and says the records wait for `station central sync`, which then ships them.
# Then: the central store equals the union of the local stores, serials included, and a
# resend of everything (the marks forgotten) duplicates nothing.
#
#   bench.sh STATION ESP32SIM PROFILE_DIR PGSTATE
set -u
STATION=${1:?} SIM=${2:?} PROFDIR=${3:?} PGSTATE=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/central_lib.sh"
central_setup bench
X=24:0a:c4:97:00:01 Y=24:0a:c4:97:00:02 Z=24:0a:c4:97:00:03
"$STATION" central init "$URL" >/dev/null || fail "central init"

# ---- station A: X fails, Y passes, both get serials ----
sim_start A --units 2 --unit-opt "1:mac=$X" --unit-opt 1:fault=flash_write_error --unit-opt "2:mac=$Y"
STATION_CENTRAL=$URL STATION_NAME=st-A timeout 120 "$STATION" run --profile demo-prov --profiles-dir "$PROFDIR" \
    --sim-dir "$WORK/simA" --json --db "$WORK/A.db" --exit-after 2 --max-tries 1 >"$WORK/A.out" 2>"$WORK/A.err" ||
    { cat "$WORK/A.err" >&2; fail "station A"; }
sim_stop A
grep -q '"event":"summary".*"central_waiting":0' "$WORK/A.out" || fail "station A left records unshipped"
"$STATION" retry-bin --central "$URL" --json | grep -q "\"mac\":\"$X\"" || fail "X is not in the central bin"
[ "$(sqlite3 "$WORK/A.db" "SELECT count(*) FROM serials")" -ge 1 ] || fail "station A allocated no serial"
ok "station A: X failed (in the central retry bin), Y passed"

# ---- the bench, station B: flash repairs X and ships ----
sim_start B --units 1 --unit-opt "1:mac=$X"
STATION_CENTRAL=$URL STATION_NAME=st-B timeout 60 "$STATION" flash --port "$WORK/simB/slot1" --profile demo-prov \
    --profiles-dir "$PROFDIR" --db "$WORK/B.db" >"$WORK/B.out" 2>&1 || { cat "$WORK/B.out" >&2; fail "bench flash of X"; }
sim_stop B
grep -q '^PASS' "$WORK/B.out" || fail "bench flash did not pass"
grep -q '^central: every record shipped' "$WORK/B.out" || { cat "$WORK/B.out" >&2; fail "bench flash did not ship"; }
"$STATION" retry-bin --central "$URL" --json >"$WORK/bin.json" || fail "retry-bin --central"
grep -q "\"mac\":\"$X\"" "$WORK/bin.json" && fail "X is still in the central bin after its repair on the bench"
"$STATION" audit --central "$URL" "$X" --json | head -1 | grep '"station":"st-B"' | grep -q '"outcome":"pass"' ||
    fail "the newest central record of X is not the bench's pass"
ok "bench flash on station B shipped its records: X left the central retry bin"

# ---- the bench with the server unreachable: flashes, bounded, says what waits ----
sim_start C --units 1 --unit-opt "1:mac=$Z"
t0=$(date +%s%N)
STATION_CENTRAL="postgresql://st_admin@/flash?host=$WORK/nothing-here&port=5432" STATION_NAME=st-B timeout 60 \
    "$STATION" flash --port "$WORK/simC/slot1" --profile demo-prov --profiles-dir "$PROFDIR" --db "$WORK/B.db" \
    >"$WORK/C.out" 2>&1 || { cat "$WORK/C.out" >&2; fail "bench flash with the server away"; }
t1=$(date +%s%N)
sim_stop C
grep -q '^PASS' "$WORK/C.out" || fail "bench flash did not pass with the server away"
grep -E '^central: [0-9]+ records? not shipped yet.*central sync' "$WORK/C.out" >"$WORK/C.left" ||
    { cat "$WORK/C.out" >&2; fail "the bench does not say what waits"; }
grep -q 'nothing-here' "$WORK/C.left" || fail "the waiting line does not say why: $(cat "$WORK/C.left")"
ok "server away: bench flash passed in $(((t1 - t0) / 1000000)) ms and said: $(cut -c1-90 "$WORK/C.left")..."
STATION_CENTRAL=$URL STATION_NAME=st-B "$STATION" central sync --db "$WORK/B.db" >"$WORK/sync.out" 2>&1 ||
    { cat "$WORK/sync.out" >&2; fail "central sync"; }
STATION_CENTRAL=$URL "$STATION" central status --db "$WORK/B.db" | grep -q ': 0 records waiting' || fail "not synced"

# ---- every record table, exactly ----
same_union() {
    for s in A B; do local_rows "$WORK/$s.db"; done | sort >"$WORK/local.txt"
    central_rows | sort >"$WORK/central.txt"
    diff "$WORK/local.txt" "$WORK/central.txt" >"$WORK/diff.txt" ||
        { head -20 "$WORK/diff.txt" >&2; fail "central != union of the local stores ($1)"; }
    for t in units attempts bin_events serials; do
        [ "$(psql_q "SELECT count(*) - count(DISTINCT (station, local_id)) FROM $t")" = 0 ] || fail "duplicates in $t ($1)"
    done
}
same_union "after the bench"
n_ser=$(grep -c '^s|' "$WORK/local.txt")
[ "$n_ser" -ge 3 ] || fail "only $n_ser serial rows (X and Y on A, X and Z on B)"
[ "$(psql_q "SELECT count(*) FROM serials s JOIN stations t ON t.uuid = s.station WHERE s.mac = '$X'")" = 2 ] ||
    fail "X's serials of both stations are not central"
ok "central = union of the local stores: $(wc -l <"$WORK/local.txt") rows, $n_ser serials, no duplicate"
# a resend of everything (a station that lost its marks) changes nothing
psql_q "DELETE FROM ship_marks" >/dev/null
rm -f "$WORK/A.db.central" "$WORK/B.db.central"
for s in A B; do
    STATION_CENTRAL=$URL STATION_NAME=st-$s "$STATION" central sync --db "$WORK/$s.db" >"$WORK/resync.out" 2>&1 ||
        { cat "$WORK/resync.out" >&2; fail "resync of $s"; }
done
same_union "after a resend of every row"
ok "a resend of every row with the marks forgotten duplicated nothing"
central_pass

#!/usr/bin/env bash
# faults.sh - shipping survives the central server going away and the station dying.
#
#   faults.sh outage STATION ESP32SIM PROFILE_DIR PGSTATE
#     A private server of its own (PGSTATE unused). Units arrive on 4 slots for ~45 s.
#     While a batch is in flight (held mid-transaction on a table lock), the server is
#     stopped at once, and started again 20 s later. The line did not pause (units kept
#     finishing during the outage), the station said it was offline and back, and after
#     the backlog drained the central store equals the local one exactly.
#   faults.sh diskfull STATION ESP32SIM PROFILE_DIR PGSTATE
#     The central server's disk fills mid-shipping: a trigger the test puts on the central
#     attempts table raises SQLSTATE 53100 (disk_full, the server's own message) while a
#     flag table says so. Units arrive on 4 slots for ~36 s; once the first records have
#     shipped the disk is "full" for 15 s. The line kept flashing at its pace, the station
#     said the central server's disk is full and what to do (the running line's event and
#     `station central sync`), no local record was lost, nothing partial reached the
#     server, and once the trigger is dropped the backlog drains and the central store
#     equals the local one exactly.
#   faults.sh kill STATION ESP32SIM PROFILE_DIR PGSTATE
#     SIGKILL the station while its first batch is in flight; restart it: no duplicate,
#     no loss (the central store equals the local one exactly).
set -u
MODE=${1:?outage|diskfull|kill}
STATION=${2:?} SIM=${3:?} PROFDIR=${4:?} PGSTATE=${5:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/central_lib.sh"

if [ "$MODE" = outage ]; then
    OWN=$(mktemp -u "${TMPDIR:-/tmp}/st-pg-outage.XXXXXX.state")
    sh "$HERE/pg_server.sh" start "$OWN" >/dev/null || fail "cannot start the private server"
    PGSTATE=$OWN
    trap 'central_cleanup; sh "$HERE/pg_server.sh" stop "$OWN"' EXIT
fi
central_setup "$MODE"
[ "$MODE" = outage ] && trap 'central_cleanup; sh "$HERE/pg_server.sh" stop "$OWN"' EXIT
"$STATION" central init "$URL" >/dev/null || fail "central init"

now_ms() { date +%s%3N; }

# Hold an exclusive lock on the central attempts table (a background psql), so that the
# shipper's next batch stops inside its transaction; wait until it does.
hold_batch() {
    psql -X -q "$URL" -c "BEGIN" -c "LOCK TABLE attempts IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" \
        >/dev/null 2>&1 &
    echo $! >"$WORK/lock.pid"
    for _ in $(seq 1 600); do
        [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'flashstation'
                     AND wait_event_type = 'Lock' AND state = 'active'")" = 1 ] && return 0
        sleep 0.1
    done
    fail "the shipper never started a batch"
}
release_lock() {
    kill "$(cat "$WORK/lock.pid")" 2>/dev/null
    wait "$(cat "$WORK/lock.pid")" 2>/dev/null
    psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%'
            AND pid <> pg_backend_pid()" >/dev/null
    rm -f "$WORK/lock.pid"
}

start_line() { # TAG ARGS...
    local tag=$1
    shift
    STATION_CENTRAL=$URL STATION_NAME=st-$MODE timeout 150 "$STATION" run --profile demo --profiles-dir "$PROFDIR" \
        --sim-dir "$WORK/sim1" --json --db "$WORK/st.db" --max-tries 2 --sync-attempts 2 "$@" \
        >"$WORK/$tag.out" 2>"$WORK/$tag.err" &
    echo $! >"$WORK/run-$tag.pid"
}

finish_line() { # TAG
    local pid
    pid=$(cat "$WORK/run-$1.pid")
    wait "$pid"
    local rc=$?
    rm -f "$WORK/run-$1.pid"
    [ $rc -eq 0 ] || { tail -n 20 "$WORK/$1.out" >&2; cat "$WORK/$1.err" >&2; fail "station ($1) exited $rc"; }
}

# scenario ROUNDS: 4 slots, a unit every 3 s per slot for ROUNDS rounds, every 8th with a
# bad flash (retry bin); $scn names the file, $n counts the units.
scenario() {
    scn=$WORK/$MODE.txt
    echo "seed 5" >"$scn"
    n=0
    for i in $(seq 0 $(($1 - 1))); do
        for k in 1 2 3 4; do
            n=$((n + 1))
            f=""
            [ $((n % 8)) -eq 0 ] && f="fault=flash_write_error"
            printf 'unit %d at=%s mac=24:0a:c4:7%d:00:%02x leave=reset+0.3,close+0.5 %s\n' \
                "$k" "$(echo "$i * 3 + $k * 0.7" | awk '{print $1 * $3 + $5 * $7}')" "$k" "$i" "$f" >>"$scn"
        done
    done
}

# wait (at most 30 s) until the server holds at least $1 attempts
wait_shipped() {
    for _ in $(seq 1 300); do
        [ "$(psql_q "SELECT count(*) FROM attempts")" -ge "$1" ] && return 0
        sleep 0.1
    done
}

if [ "$MODE" = outage ]; then
    scenario 15
    sim_start 1 --scenario "$scn"
    start_line run --exit-after "$n"
    wait_shipped 3
    hold_batch
    t_halt=$(now_ms)
    sh "$HERE/pg_server.sh" halt "$PGSTATE" || fail "cannot stop the server"
    release_lock
    ok "server stopped with a batch in flight"
    sleep 20
    t_resume=$(now_ms)
    sh "$HERE/pg_server.sh" resume "$PGSTATE" || fail "cannot restart the server"
    finish_line run
    sim_stop 1
    during=$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts WHERE ended_ms BETWEEN $t_halt AND $t_resume")
    [ "$during" -ge 10 ] || fail "only $during attempts finished during the 20 s outage: the line paused"
    ok "the line did not pause: $during attempts finished while the server was down"
    grep -q '"event":"central".*central: offline' "$WORK/run.out" || fail "no offline event"
    grep '"event":"central"' "$WORK/run.out" | tail -n 1 | grep -q "online" || fail "no 'online again' event"
    grep -q '"event":"summary".*"central_waiting":0' "$WORK/run.out" || fail "backlog not drained: $(grep summary "$WORK/run.out")"
    ok "offline and back online announced; the backlog drained before the line stopped"
    same_as_local "after a 20 s outage mid-batch"
elif [ "$MODE" = diskfull ]; then
    # the "full disk": the server's own error (SQLSTATE 53100, its message and hint) from
    # every write to attempts while test_disk.is_full says so
    psql_q "CREATE TABLE test_disk(is_full boolean NOT NULL); INSERT INTO test_disk VALUES (false);
      CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS \$\$
      BEGIN
        IF (SELECT is_full FROM test_disk) THEN
          RAISE EXCEPTION USING ERRCODE = 'disk_full',
            MESSAGE = 'could not extend file \"base/16384/16427\": No space left on device',
            HINT = 'Check free disk space.';
        END IF;
        RETURN NULL;
      END \$\$;
      CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON attempts
        FOR EACH STATEMENT EXECUTE FUNCTION test_disk_full()" >/dev/null || fail "cannot install the disk-full trigger"
    scenario 12
    sim_start 1 --scenario "$scn"
    start_line run --exit-after "$n"
    wait_shipped 3
    shipped_before=$(psql_q "SELECT count(*) FROM attempts")
    [ "$shipped_before" -ge 3 ] || fail "nothing shipped before the disk filled"
    t_full=$(now_ms)
    psql_q "UPDATE test_disk SET is_full = true" >/dev/null
    ok "the central disk is full (SQLSTATE 53100 on attempts) after $shipped_before attempts shipped"
    # by hand, meanwhile: `station central sync` says so too
    sleep 3
    STATION_CENTRAL=$URL "$STATION" central sync --db "$WORK/st.db" >"$WORK/sync.out" 2>&1 &&
        fail "central sync succeeded on a full disk: $(cat "$WORK/sync.out")"
    grep -q "No space left on device (SQLSTATE 53100)" "$WORK/sync.out" &&
        grep -q "hint: the central server's disk is full: free space on the server's database disk" "$WORK/sync.out" ||
        fail "central sync on a full disk: no clear error: $(cat "$WORK/sync.out")"
    echo "--- central sync while the disk is full:"
    cat "$WORK/sync.out"
    sleep 12
    [ "$(psql_q "SELECT count(*) FROM attempts")" = "$shipped_before" ] || fail "attempts reached a full disk"
    t_room=$(now_ms)
    local_at_room=$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts")
    psql_q "DROP TRIGGER test_disk_full ON attempts; DROP FUNCTION test_disk_full(); DROP TABLE test_disk" >/dev/null ||
        fail "cannot drop the disk-full trigger"
    # the backlog of the full period drains while the line goes on
    t_drained=""
    for _ in $(seq 1 300); do
        if [ "$(psql_q "SELECT count(*) FROM attempts")" -ge "$local_at_room" ]; then
            t_drained=$(now_ms)
            break
        fi
        sleep 0.1
    done
    [ -n "$t_drained" ] || fail "the backlog did not drain within 30 s of the disk having room again"
    ok "room again: the $((local_at_room - shipped_before)) attempts of the full period shipped $(awk "BEGIN { printf \"%.1f\", ($t_drained - $t_room) / 1000 }") s later"
    finish_line run
    sim_stop 1
    during=$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts WHERE ended_ms BETWEEN $t_full AND $t_room")
    [ "$during" -ge 8 ] || fail "only $during attempts finished during the $(((t_room - t_full) / 1000)) s the disk was full: the line waited"
    ok "the line did not wait: $during attempts finished in the $(((t_room - t_full) / 1000)) s the central disk was full"
    grep -q '"event":"central".*SQLSTATE 53100.*the central server.s disk is full: free space on the server.s database disk' "$WORK/run.out" ||
        fail "the running line did not say the central disk is full: $(grep '"event":"central"' "$WORK/run.out")"
    [ "$(grep -c '"event":"central".*SQLSTATE 53100' "$WORK/run.out")" = 1 ] ||
        fail "the disk-full event repeated on every retry: $(grep -c 'SQLSTATE 53100' "$WORK/run.out")"
    grep '"event":"central"' "$WORK/run.out" | tail -n 1 | grep -q "online" || fail "no 'online again' event"
    grep -q '"event":"summary".*"central_waiting":0' "$WORK/run.out" || fail "backlog not drained: $(grep summary "$WORK/run.out")"
    ok "the station said the central disk is full and what to do (once), then online again; nothing left waiting"
    # no local record lost: every unit of the scenario has its attempts, every attempt ended
    [ "$(sqlite3 "$WORK/st.db" "SELECT count(DISTINCT mac) FROM attempts")" = "$n" ] || fail "units missing locally"
    [ "$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts WHERE outcome IN ('in_progress', 'interrupted')")" = 0 ] ||
        fail "unfinished local attempts"
    ok "no local record lost: all $n units and their $(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts") attempts"
    same_as_local "after 15 s of a full central disk mid-shipping"
else
    sim_start 1 --units 16 --unit-opt 4:fault=flash_write_error --unit-opt 6:fault=bitflip:1
    # the first batch is held inside its transaction by the lock ...
    psql -X -q "$URL" -c "BEGIN" -c "LOCK TABLE attempts IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" \
        >/dev/null 2>&1 &
    echo $! >"$WORK/lock.pid"
    for _ in $(seq 1 100); do # the lock is held before the station starts
        [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE relation = 'attempts'::regclass AND mode = 'AccessExclusiveLock'
                     AND granted")" = 1 ] && break
        sleep 0.1
    done
    start_line first --exit-after 16
    for _ in $(seq 1 600); do
        [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'flashstation'
                     AND wait_event_type = 'Lock' AND state = 'active'")" = 1 ] && break
        sleep 0.1
    done
    sleep 1
    # ... and the station dies in the middle of it
    tpid=$(cat "$WORK/run-first.pid") # timeout's pid: the station is its child
    spid=$(pgrep -P "$tpid" | head -n 1)
    [ -n "$spid" ] || fail "no station process under $tpid"
    kill -9 "$spid"
    wait "$tpid" 2>/dev/null
    rm -f "$WORK/run-first.pid"
    release_lock
    for _ in $(seq 1 100); do # the dead client's backend rolls back
        [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'flashstation'")" = 0 ] && break
        sleep 0.1
    done
    [ "$(psql_q "SELECT count(*) FROM attempts")" = 0 ] || fail "the killed batch left rows"
    ok "SIGKILL mid-batch: the batch rolled back whole"
    # restart: recovery marks the dead run's unfinished attempts interrupted; the units
    # still plugged in are flashed again; everything ships
    start_line second --exit-after 16
    finish_line second
    sim_stop 1
    grep -q '"event":"summary".*"central_waiting":0' "$WORK/second.out" || fail "not drained after restart"
    same_as_local "after SIGKILL while shipping and a restart"
fi
central_pass

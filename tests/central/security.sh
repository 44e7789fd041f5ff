#!/usr/bin/env bash
# security.sh - the central store's connection rules and bad input: no password from
# argv and never one in any output, a 0600 conf file, clear errors for a wrong URL, a
# refused login, a missing database and a newer schema; the least-privilege station role
# (db/central_role.sql): ships its own rows, cannot delete, cannot create, cannot touch
# another station's rows; a column a later local migration adds ships with no code
# change; clock skew between stations does not reorder history (server time decides).
#
#   security.sh STATION ESP32SIM PROFILE_DIR PGSTATE
set -u
STATION=${1:?} SIM=${2:?} PROFDIR=${3:?} PGSTATE=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
DB_SQL=$(cd "$HERE/../../db" && pwd)
. "$HERE/central_lib.sh"
central_setup security
PGDIR=$(cat "$PGSTATE")
X=24:0a:c4:98:00:01
SECRET_A=Pw-a-7f3e91 SECRET_B=Pw-b-44c0d2 WRONG=Wr0ng-9d1

# no secret in any output of $1 (file)
clean_of_secrets() {
    for s in "$SECRET_A" "$SECRET_B" "$WRONG"; do
        grep -q -- "$s" "$1" && { cat "$1" >&2; fail "a password appears in $1"; }
    done
    return 0
}

# Two local stations, not shipping: A fails X (bad flash), B passes it later.
local_station() { # S ARGS...
    local s=$1
    shift
    sim_start "$s" --units 2 "$@"
    env -u STATION_CENTRAL timeout 90 "$STATION" run --profile demo --profiles-dir "$PROFDIR" \
        --sim-dir "$WORK/sim$s" --json --db "$WORK/$s.db" --exit-after 2 --max-tries 2 --no-central \
        >"$WORK/$s.out" 2>"$WORK/$s.err" || { cat "$WORK/$s.err" >&2; fail "station $s"; }
    sim_stop "$s"
}
local_station A --unit-opt "1:mac=$X" --unit-opt 1:fault=flash_write_error --unit-opt 2:mac=24:0a:c4:98:00:02
local_station B --unit-opt "1:mac=$X" --unit-opt 2:mac=24:0a:c4:98:00:03
"$STATION" central init "$URL" >/dev/null || fail "central init"

# ---- connection strings ----
PWURL="postgresql://st_admin:$SECRET_A@/flash?host=$PGDIR&port=5432"
"$STATION" central sync --central "$PWURL" --db "$WORK/A.db" >"$WORK/o" 2>&1 && fail "a password on argv was accepted"
grep -q "refusing a central connection string with a password on the command line" "$WORK/o" || fail "no clear refusal: $(cat "$WORK/o")"
clean_of_secrets "$WORK/o"
"$STATION" run --profile demo --profiles-dir "$PROFDIR" --central "$PWURL" --headless >"$WORK/o" 2>&1
[ $? -eq 2 ] || fail "station run took a password on argv"
clean_of_secrets "$WORK/o"
"$STATION" audit --central "$PWURL" "$X" >"$WORK/o" 2>&1 && fail "audit took a password on argv"
clean_of_secrets "$WORK/o"
ok "a password on the command line is refused (sync, run, audit), and not echoed"

echo "$URL" >"$WORK/central.conf"
chmod 644 "$WORK/central.conf"
STATION_CENTRAL_CONF=$WORK/central.conf env -u STATION_CENTRAL "$STATION" central status --db "$WORK/A.db" >"$WORK/o" 2>&1 &&
    fail "a group/world-readable conf file was accepted"
grep -q "chmod 600" "$WORK/o" || fail "no chmod hint: $(cat "$WORK/o")"
chmod 600 "$WORK/central.conf"
STATION_CENTRAL_CONF=$WORK/central.conf env -u STATION_CENTRAL "$STATION" central status --db "$WORK/A.db" >"$WORK/o" 2>&1 ||
    fail "a 0600 conf file was refused: $(cat "$WORK/o")"
grep -q "records waiting" "$WORK/o" || fail "status: $(cat "$WORK/o")"
ok "conf file: mode 0644 refused with a chmod hint, 0600 used"

"$STATION" central status --db "$WORK/A.db" --central "postgresql://st_admin@/flash?host=$WORK/nothing-here&port=5432" >"$WORK/o" 2>&1 &&
    fail "unreachable server accepted"
grep -q "unreachable" "$WORK/o" || fail "no 'unreachable' hint: $(cat "$WORK/o")"
"$STATION" central status --db "$WORK/A.db" --central "postgresql://st_admin@/flash?host=$PGDIR&port=5432&bogus_option=1" >"$WORK/o" 2>&1 &&
    fail "a malformed URL was accepted"
grep -q "connection string" "$WORK/o" || fail "malformed URL: $(cat "$WORK/o")"
"$STATION" central status --db "$WORK/A.db" --central "postgresql://st_admin@/nosuchdb?host=$PGDIR&port=5432" >"$WORK/o" 2>&1 &&
    fail "a missing database was accepted"
grep -q "create the database" "$WORK/o" || fail "missing database: $(cat "$WORK/o")"
ok "wrong URL: unreachable server, malformed string and missing database each get a clear error"

# The checks above attached A as the schema owner, which registered station A to that
# role (first registrant owns a station's rows): start the role tests from no stations.
psql_q "DELETE FROM stations" >/dev/null

# ---- least-privilege roles ----
for r in a b; do
    pw=$SECRET_A
    [ $r = b ] && pw=$SECRET_B
    psql -X -q -v ON_ERROR_STOP=1 "$URL" -v station_role=st_$r -v station_password="$pw" \
        -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS st_$r" \
        -f "$DB_SQL/central_role.sql" >/dev/null 2>"$WORK/role.err" || fail "central_role.sql: $(cat "$WORK/role.err")"
done
URL_A="postgresql://st_a:$SECRET_A@/flash?host=$PGDIR&port=5432"
URL_B="postgresql://st_b:$SECRET_B@/flash?host=$PGDIR&port=5432"
STATION_CENTRAL="postgresql://st_a:$WRONG@/flash?host=$PGDIR&port=5432" "$STATION" central sync --db "$WORK/A.db" >"$WORK/o" 2>&1 &&
    fail "a wrong password was accepted"
grep -q "password authentication failed" "$WORK/o" && grep -q "check the user and password" "$WORK/o" ||
    fail "no clear authentication error: $(cat "$WORK/o")"
clean_of_secrets "$WORK/o"
ok "authentication refused: a clear error, no password in it"

# Station A's clock runs 2 h fast: its records carry it, and so does the clock the
# shipper measures against the server's.
SKEW=7200000
sqlite3 "$WORK/A.db" "UPDATE attempts SET started_ms = started_ms + $SKEW, ended_ms = ended_ms + $SKEW;
                      UPDATE bin SET first_fail_ms = first_fail_ms + $SKEW, last_fail_ms = last_fail_ms + $SKEW;
                      ALTER TABLE attempts ADD COLUMN test_extra TEXT; UPDATE attempts SET test_extra = 'extra-' || id;"
STATION_TEST_CLOCK_SKEW_MS=$SKEW STATION_NAME=A STATION_CENTRAL=$URL_A "$STATION" central sync --db "$WORK/A.db" >"$WORK/o" 2>&1 ||
    fail "station role A cannot ship: $(cat "$WORK/o")"
grep -q "clock is 7200 s ahead of the central server's" "$WORK/o" || fail "no clock skew warning: $(cat "$WORK/o")"
clean_of_secrets "$WORK/o"
STATION_NAME=B STATION_CENTRAL=$URL_B "$STATION" central sync --db "$WORK/B.db" >"$WORK/o" 2>&1 || fail "station role B cannot ship: $(cat "$WORK/o")"
UA=$(sqlite3 "$WORK/A.db" "SELECT value FROM meta WHERE key = 'station_uuid'")
[ "$(psql_q "SELECT count(*) FROM attempts WHERE station = '$UA' AND doc->>'test_extra' = 'extra-' || local_id")" = \
  "$(sqlite3 "$WORK/A.db" "SELECT count(*) FROM attempts")" ] || fail "a new local column did not ship"
ok "a column added by a later local migration ships in every row's document, no code change"

q_as() { psql -X -q -t -A "$1" -c "$2" 2>&1; }
q_as "$URL_A" "DELETE FROM attempts" | grep -q "permission denied" || fail "station role may delete"
q_as "$URL_A" "TRUNCATE attempts" | grep -q "permission denied" || fail "station role may truncate"
q_as "$URL_A" "CREATE TABLE evil(x int)" | grep -q "permission denied" || fail "station role may create tables"
q_as "$URL_A" "DROP TABLE attempts" | grep -q "must be owner" || fail "station role may drop tables"
out=$(psql -X -q "$URL_B" -c "UPDATE attempts SET outcome = 'pass' WHERE station = '$UA'" 2>&1)
[ "$(psql_q "SELECT count(*) FROM attempts WHERE station = '$UA' AND outcome = 'fail'")" -ge 1 ] ||
    fail "station B changed station A's rows ($out)"
q_as "$URL_B" "SELECT count(*) FROM attempts WHERE station = '$UA'" | grep -qv '^0$' || fail "station B cannot read A's rows"
ok "least privilege: station roles read everything, write their own rows only, no delete/truncate/DDL"

# ---- clock skew: server time orders the history ----
"$STATION" retry-bin --central "$URL" --json >"$WORK/bin.json" || fail "retry-bin --central"
grep -q "\"mac\":\"$X\"" "$WORK/bin.json" && fail "X in the central bin: A's skewed failure looked newer than B's pass"
"$STATION" audit --central "$URL" "$X" --json >"$WORK/audit.json" || fail "audit"
head -1 "$WORK/audit.json" | grep -q '"station":"B"' || fail "newest event of X is not B's pass: $(head -2 "$WORK/audit.json")"
ok "clock skew: A's clock 2 h fast, yet B's later pass is newest and X is in no retry bin"

# ---- a schema newer than the station ----
psql_q "UPDATE central_schema SET version = 99" >/dev/null
sqlite3 "$WORK/A.db" "UPDATE attempts SET test_extra = 'changed' WHERE id = 1"
STATION_CENTRAL=$URL_A "$STATION" central sync --db "$WORK/A.db" >"$WORK/o" 2>&1 && fail "shipped to a newer schema"
grep -q "newer than this station knows" "$WORK/o" && grep -q "upgrade the station software" "$WORK/o" ||
    fail "newer schema: $(cat "$WORK/o")"
"$STATION" central init "$URL" >"$WORK/o" 2>&1 && fail "init downgraded a newer schema"
[ "$(psql_q "SELECT doc->>'test_extra' FROM attempts WHERE station = '$UA' AND local_id = 1")" = extra-1 ] ||
    fail "something shipped to the newer schema"
psql_q "UPDATE central_schema SET version = 1" >/dev/null
ok "a newer central schema: the station refuses to ship and says to upgrade; nothing written"
central_pass

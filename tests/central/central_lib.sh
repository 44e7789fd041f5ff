# central_lib.sh - shared by the central store's test scripts (sourced, bash).
# Needs STATION SIM PROFDIR PGSTATE set. Gives: WORK (removed at exit, with every
# simulator this script started), URL (the private server, superuser st_admin), psql_q,
# sim_start/sim_stop, local_rows/central_rows (comparable dumps), same_as_local, ok/fail.

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

central_cleanup() {
    for p in "$WORK"/sim*.pid "$WORK"/run*.pid; do
        [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$WORK"
}

central_setup() { # NAME
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/st-central-$1.XXXXXX")
    trap central_cleanup EXIT
    URL=$(sh "$HERE/pg_server.sh" url "$PGSTATE")
    psql_q "SELECT 1" >/dev/null || fail "the test server is not up (state $PGSTATE)"
    # every test starts from an empty central store
    psql_q "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null || fail "cannot reset the central store"
}

psql_q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$URL" -c "$1"; }

sim_start() { # S ARGS...: simulator S in $WORK/simS, ready when this returns
    local s=$1
    shift
    mkdir -p "$WORK/sim$s"
    "$SIM" --dir "$WORK/sim$s" --quiet "$@" >"$WORK/sim$s.log" 2>&1 &
    echo $! >"$WORK/sim$s.pid"
    for _ in $(seq 1 1500); do
        [ -f "$WORK/sim$s/ready" ] && return 0
        sleep 0.01
    done
    cat "$WORK/sim$s.log" >&2
    fail "simulator $s not ready"
}

sim_stop() {
    local p="$WORK/sim$1.pid"
    [ -f "$p" ] || return 0
    kill "$(cat "$p")" 2>/dev/null
    wait "$(cat "$p")" 2>/dev/null
    rm -f "$p"
}

# One line per local row that must be in the central store: table, station uuid, local
# id, revision and what matters (outcome, MAC, image digests; bin state; serial).
local_rows() {
    sqlite3 -separator '|' "$1" "
      WITH s(u) AS (SELECT value FROM meta WHERE key = 'station_uuid')
      SELECT 'a', u, a.id, a.ship_rev, a.outcome, COALESCE(a.mac, ''),
             COALESCE((SELECT group_concat(json_extract(j.value, '\$.sha256'), ',') FROM json_each(a.images) j), '')
        FROM attempts a, s
      UNION ALL
      SELECT 'b', u, b.id, b.ship_rev, COALESCE(b.resolved_ms, 0), COALESCE(b.mac, ''), b.attempts FROM bin b, s
      UNION ALL
      SELECT 'u', u, x.rowid, x.ship_rev, x.mac, x.first_seen_ms, x.last_seen_ms FROM units x, s
      UNION ALL
      SELECT 's', u, r.id, r.ship_rev, r.serial, r.mac, COALESCE(r.retired_ms, 0) FROM serials r, s"
}

central_rows() {
    psql_q "
      SELECT 'a', a.station, a.local_id, a.rev, a.outcome, COALESCE(a.mac, ''),
             COALESCE((SELECT string_agg(i->>'sha256', ',') FROM jsonb_array_elements(a.images) i), '')
        FROM attempts a
      UNION ALL
      SELECT 'b', station, local_id, rev, COALESCE(resolved_ms, 0)::text, COALESCE(mac, ''), attempts::text FROM bin_events
      UNION ALL
      SELECT 'u', station, local_id, rev, mac, first_seen_ms::text, last_seen_ms::text FROM units
      UNION ALL
      SELECT 's', station, local_id, rev, serial, mac, COALESCE(retired_ms, 0)::text FROM serials"
}

# same_as_local LABEL: the central store holds exactly the rows of $WORK/st.db, once each.
same_as_local() {
    local_rows "$WORK/st.db" | sort >"$WORK/local.txt"
    central_rows | sort >"$WORK/central.txt"
    diff "$WORK/local.txt" "$WORK/central.txt" >"$WORK/diff.txt" ||
        { head -20 "$WORK/diff.txt" >&2; fail "central store != local store ($1)"; }
    [ "$(psql_q "SELECT count(*) - count(DISTINCT (station, local_id)) FROM attempts")" = 0 ] || fail "duplicates"
    ok "central store = local store exactly: $(wc -l <"$WORK/local.txt") rows, no duplicate ($1)"
}

central_pass() { echo "PASS"; }

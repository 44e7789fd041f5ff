/* central_schema.c - the central store's schema as ordered migration steps (the same
 * rule as db_schema.c: never edit a shipped step, append one), and attaching a station.
 *
 * Rows keep their station's document (doc: the local row as JSON, every column, so a
 * column a later local migration adds travels without a change here) beside the typed
 * columns that queries, indexes and views use. Times: *_ms are the station's clock;
 * t_server is the same instant on the server's clock (corrected with the station's
 * offset measured at shipping), which is what orders rows across stations. */
#include "central_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int version;
    const char *what;
    const char *sql;
} central_migration;

static const central_migration migrations[] = {
    {1, "stations, units, attempts, bin events, views",
     "CREATE TABLE central_schema(version integer NOT NULL);"
     "INSERT INTO central_schema VALUES (0);"
     "CREATE TABLE stations("
     "  uuid uuid PRIMARY KEY, name text NOT NULL, line text NOT NULL DEFAULT '',"
     "  host text, pg_role text NOT NULL DEFAULT current_user,"
     "  first_seen timestamptz NOT NULL DEFAULT now(), last_seen timestamptz NOT NULL DEFAULT now(),"
     "  clock_offset_ms bigint NOT NULL DEFAULT 0);"
     /* high-water mark per station and local table, committed with each batch */
     "CREATE TABLE ship_marks("
     "  station uuid NOT NULL REFERENCES stations, tbl text NOT NULL, hwm bigint NOT NULL,"
     "  updated timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station, tbl));"
     "CREATE TABLE units("
     "  station uuid NOT NULL REFERENCES stations, local_id bigint NOT NULL, rev bigint NOT NULL,"
     "  mac text NOT NULL, first_seen_ms bigint, last_seen_ms bigint, chip text, package text,"
     "  description text, flash_id bigint, flash_size bigint, doc jsonb NOT NULL,"
     "  received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station, local_id));"
     "CREATE INDEX units_mac ON units(mac);"
     "CREATE TABLE attempts("
     "  station uuid NOT NULL REFERENCES stations, local_id bigint NOT NULL, rev bigint NOT NULL,"
     "  mac text, slot_name text, bridge text, bridge_vid integer, bridge_pid integer,"
     "  profile text, images jsonb, outcome text NOT NULL, fclass text, phase text, try_no integer,"
     "  host text, started_ms bigint NOT NULL, ended_ms bigint,"
     "  t_server bigint NOT NULL, doc jsonb NOT NULL,"
     "  received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station, local_id));"
     "CREATE INDEX attempts_mac ON attempts(mac, t_server DESC, local_id DESC);"
     "CREATE INDEX attempts_time ON attempts(t_server);"
     "CREATE TABLE bin_events("
     "  station uuid NOT NULL REFERENCES stations, local_id bigint NOT NULL, rev bigint NOT NULL,"
     "  mac text, slot_name text, fclass text, phase text, attempts integer,"
     "  first_fail_ms bigint, last_fail_ms bigint, t_last_fail bigint NOT NULL,"
     "  last_attempt_id bigint, resolved_ms bigint, resolved_by bigint, doc jsonb NOT NULL,"
     "  received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (station, local_id));"
     "CREATE INDEX bin_events_mac ON bin_events(mac);"
     "CREATE INDEX bin_events_open ON bin_events(t_last_fail) WHERE resolved_ms IS NULL;"
     /* each image of each attempt, for "which units got digest X" */
     "CREATE VIEW attempt_images AS"
     "  SELECT a.station, a.local_id, a.mac, (i->>'offset')::bigint AS image_offset,"
     "         i->>'sha256' AS sha256, a.t_server"
     "  FROM attempts a, jsonb_array_elements(COALESCE(a.images, '[]'::jsonb)) i;"
     /* the central retry bin: open entries whose unit passed nowhere after the failure */
     "CREATE VIEW central_retry_bin AS"
     "  SELECT s.name AS station_name, s.line, b.* FROM bin_events b JOIN stations s ON s.uuid = b.station"
     "  WHERE b.resolved_ms IS NULL AND NOT (b.mac IS NOT NULL AND EXISTS ("
     "    SELECT 1 FROM attempts a WHERE a.mac = b.mac AND a.outcome = 'pass'"
     "    AND a.t_server > b.t_last_fail));"
     /* dashboards (Grafana and the like): yield per station per hour (server time) */
     "CREATE VIEW yield_station_hour AS"
     "  SELECT s.name AS station_name, s.line,"
     "    date_trunc('hour', to_timestamp(a.t_server / 1000.0)) AS hour,"
     "    count(*) AS attempts, count(*) FILTER (WHERE a.outcome = 'pass') AS passes,"
     "    count(*) FILTER (WHERE a.outcome IN ('fail', 'interrupted')) AS fails,"
     "    count(DISTINCT a.mac) AS units_tried,"
     "    count(DISTINCT a.mac) FILTER (WHERE a.outcome = 'pass') AS units_passed,"
     "    round(count(DISTINCT a.mac) FILTER (WHERE a.outcome = 'pass')::numeric"
     "          / NULLIF(count(DISTINCT a.mac), 0), 4) AS yield"
     "  FROM attempts a JOIN stations s ON s.uuid = a.station"
     "  WHERE a.outcome <> 'in_progress' GROUP BY 1, 2, 3;"
     /* failure classes per bridge chip per day */
     "CREATE VIEW failures_bridge_day AS"
     "  SELECT date_trunc('day', to_timestamp(a.t_server / 1000.0)) AS day,"
     "    COALESCE(NULLIF(a.bridge, ''), CASE WHEN a.bridge_vid IS NOT NULL THEN"
     "      lpad(to_hex(a.bridge_vid), 4, '0') || ':' || lpad(to_hex(a.bridge_pid), 4, '0') END,"
     "      'unknown') AS bridge,"
     "    a.fclass, count(*) AS failures"
     "  FROM attempts a WHERE a.outcome IN ('fail', 'interrupted') GROUP BY 1, 2, 3;"
     /* Least privilege: station roles are members of flash_station (db/central_role.sql);
      * they read everything and write only the rows of the stations they registered. */
     "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flash_station') THEN"
     "  CREATE ROLE flash_station NOLOGIN; END IF; END $$;"
     "GRANT SELECT ON central_schema, attempt_images, central_retry_bin, yield_station_hour,"
     "  failures_bridge_day TO flash_station;"
     "GRANT SELECT, INSERT, UPDATE ON stations, ship_marks, units, attempts, bin_events TO flash_station;"
     "ALTER TABLE stations ENABLE ROW LEVEL SECURITY;"
     "CREATE POLICY station_read ON stations FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY station_own_ins ON stations FOR INSERT TO flash_station"
     "  WITH CHECK (pg_role = current_user);"
     "CREATE POLICY station_own_upd ON stations FOR UPDATE TO flash_station"
     "  USING (pg_role = current_user) WITH CHECK (pg_role = current_user);"
     "CREATE FUNCTION central_own_station(s uuid) RETURNS boolean LANGUAGE sql STABLE AS"
     "  'SELECT EXISTS (SELECT 1 FROM stations WHERE uuid = s AND pg_role = current_user)';"
     "ALTER TABLE ship_marks ENABLE ROW LEVEL SECURITY;"
     "ALTER TABLE units ENABLE ROW LEVEL SECURITY;"
     "ALTER TABLE attempts ENABLE ROW LEVEL SECURITY;"
     "ALTER TABLE bin_events ENABLE ROW LEVEL SECURITY;"
     "CREATE POLICY read_all ON ship_marks FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY read_all ON units FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY read_all ON attempts FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY read_all ON bin_events FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY own_ins ON ship_marks FOR INSERT TO flash_station WITH CHECK (central_own_station(station));"
     "CREATE POLICY own_upd ON ship_marks FOR UPDATE TO flash_station USING (central_own_station(station));"
     "CREATE POLICY own_ins ON units FOR INSERT TO flash_station WITH CHECK (central_own_station(station));"
     "CREATE POLICY own_upd ON units FOR UPDATE TO flash_station USING (central_own_station(station));"
     "CREATE POLICY own_ins ON attempts FOR INSERT TO flash_station WITH CHECK (central_own_station(station));"
     "CREATE POLICY own_upd ON attempts FOR UPDATE TO flash_station USING (central_own_station(station));"
     "CREATE POLICY own_ins ON bin_events FOR INSERT TO flash_station WITH CHECK (central_own_station(station));"
     "CREATE POLICY own_upd ON bin_events FOR UPDATE TO flash_station USING (central_own_station(station));"},

    /* The serials provisioning allocated on each station (local schema v9 ships them):
     * which unit got which serial, with which attempt, and when it was retired. */
    {2, "serials",
     "CREATE TABLE serials("
     "  station uuid NOT NULL REFERENCES stations, local_id bigint NOT NULL, rev bigint NOT NULL,"
     "  profile text NOT NULL, seq bigint NOT NULL, serial text NOT NULL, mac text NOT NULL,"
     "  attempt_id bigint, allocated_ms bigint NOT NULL, reason text NOT NULL, retired_ms bigint,"
     "  doc jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (station, local_id));"
     "CREATE INDEX serials_mac ON serials(mac);"
     "CREATE INDEX serials_serial ON serials(serial);"
     "GRANT SELECT, INSERT, UPDATE ON serials TO flash_station;"
     "ALTER TABLE serials ENABLE ROW LEVEL SECURITY;"
     "CREATE POLICY read_all ON serials FOR SELECT TO flash_station USING (true);"
     "CREATE POLICY own_ins ON serials FOR INSERT TO flash_station WITH CHECK (central_own_station(station));"
     "CREATE POLICY own_upd ON serials FOR UPDATE TO flash_station USING (central_own_station(station));"},

    /* Repair-bench actions (local schema v13: identify, read, erase, unprotect; the row
     * document's "action") are attempts that flash nothing: their pass must not take a
     * unit out of the central retry bin, and they are not yield or flash failures. The
     * views keep their columns; only flashes (action absent) count. */
    {3, "views count flashes only, not repair-bench actions",
     "CREATE OR REPLACE VIEW central_retry_bin AS"
     "  SELECT s.name AS station_name, s.line, b.* FROM bin_events b JOIN stations s ON s.uuid = b.station"
     "  WHERE b.resolved_ms IS NULL AND NOT (b.mac IS NOT NULL AND EXISTS ("
     "    SELECT 1 FROM attempts a WHERE a.mac = b.mac AND a.outcome = 'pass'"
     "    AND (a.doc->>'action') IS NULL AND a.t_server > b.t_last_fail));"
     "CREATE OR REPLACE VIEW yield_station_hour AS"
     "  SELECT s.name AS station_name, s.line,"
     "    date_trunc('hour', to_timestamp(a.t_server / 1000.0)) AS hour,"
     "    count(*) AS attempts, count(*) FILTER (WHERE a.outcome = 'pass') AS passes,"
     "    count(*) FILTER (WHERE a.outcome IN ('fail', 'interrupted')) AS fails,"
     "    count(DISTINCT a.mac) AS units_tried,"
     "    count(DISTINCT a.mac) FILTER (WHERE a.outcome = 'pass') AS units_passed,"
     "    round(count(DISTINCT a.mac) FILTER (WHERE a.outcome = 'pass')::numeric"
     "          / NULLIF(count(DISTINCT a.mac), 0), 4) AS yield"
     "  FROM attempts a JOIN stations s ON s.uuid = a.station"
     "  WHERE a.outcome <> 'in_progress' AND (a.doc->>'action') IS NULL GROUP BY 1, 2, 3;"
     "CREATE OR REPLACE VIEW failures_bridge_day AS"
     "  SELECT date_trunc('day', to_timestamp(a.t_server / 1000.0)) AS day,"
     "    COALESCE(NULLIF(a.bridge, ''), CASE WHEN a.bridge_vid IS NOT NULL THEN"
     "      lpad(to_hex(a.bridge_vid), 4, '0') || ':' || lpad(to_hex(a.bridge_pid), 4, '0') END,"
     "      'unknown') AS bridge,"
     "    a.fclass, count(*) AS failures"
     "  FROM attempts a WHERE a.outcome IN ('fail', 'interrupted') AND (a.doc->>'action') IS NULL"
     "  GROUP BY 1, 2, 3;"},
};

_Static_assert(sizeof migrations / sizeof migrations[0] == ST_CENTRAL_SCHEMA_VERSION,
               "ST_CENTRAL_SCHEMA_VERSION must be the last central migration step");

int st_central_schema_version(st_central *c, int *version, st_err *err)
{
    *version = 0;
    PGresult *r = central_exec(c, "cannot read the schema version",
                               "SELECT to_regclass('central_schema') IS NOT NULL", 0, NULL, err);
    if (!r)
        return -1;
    bool exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists)
        return 0;
    r = central_exec(c, "cannot read the schema version", "SELECT max(version) FROM central_schema", 0, NULL, err);
    if (!r)
        return -1;
    *version = (int)central_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

static int newer_schema(st_central *c, int have, st_err *err)
{
    st_err_set(err, ST_E_DB, ST_PH_DB,
               "the central store %s has schema version %d, newer than this station knows (%d)", c->desc,
               have, ST_CENTRAL_SCHEMA_VERSION);
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "upgrade the station software; until then it keeps its records locally "
                            "and ships nothing (the central store was left untouched)");
}

int st_central_init(st_central *c, st_err *err)
{
    int have;
    /* one initializer at a time: two stations running init together wait for each other */
    if (central_cmd(c, "cannot lock the schema", "SELECT pg_advisory_lock(724114)", 0, NULL, err) < 0)
        return -1;
    int rc = st_central_schema_version(c, &have, err);
    if (rc == 0 && have > ST_CENTRAL_SCHEMA_VERSION)
        rc = newer_schema(c, have, err);
    for (size_t i = 0; rc == 0 && i < sizeof migrations / sizeof migrations[0]; i++) {
        const central_migration *m = &migrations[i];
        if (m->version <= have)
            continue;
        char what[160], ver[16];
        snprintf(what, sizeof what, "cannot migrate to central schema v%d (%s)", m->version, m->what);
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *p[] = {ver};
        if (central_cmd(c, what, "BEGIN", 0, NULL, err) < 0 || central_cmd(c, what, m->sql, 0, NULL, err) < 0 ||
            central_cmd(c, what, "UPDATE central_schema SET version = $1::integer", 1, p, err) < 0 ||
            central_cmd(c, what, "COMMIT", 0, NULL, err) < 0) {
            central_rollback(c);
            rc = -1;
        }
    }
    PQclear(PQexec(c->pg, "SELECT pg_advisory_unlock(724114)"));
    return rc;
}

/* ---- the station ----------------------------------------------------------------------- */

int st_central_station_of(st_db *db, st_central_station *s, st_err *err)
{
    memset(s, 0, sizeof *s);
    sqlite3_stmt *q = db_prepare(db, "SELECT value FROM meta WHERE key = 'station_uuid'", err);
    if (!q)
        return -1;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        db_col_text(q, 0, s->uuid, sizeof s->uuid);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, err, rc, "cannot read the station identity of");
    if (!s->uuid[0])
        return db_fail_arg(db, err, "database %s has no station identity (run the station on it once)",
                           db->path);
    const char *name = getenv("STATION_NAME"), *line = getenv("STATION_LINE");
    if (name && *name)
        snprintf(s->name, sizeof s->name, "%s", name);
    else if (gethostname(s->name, sizeof s->name) < 0)
        snprintf(s->name, sizeof s->name, "station");
    s->name[sizeof s->name - 1] = '\0';
    snprintf(s->line, sizeof s->line, "%s", line ? line : "");
    return 0;
}

int st_central_attach(st_central *c, const st_central_station *s, st_err *err)
{
    int have;
    c->attached = false;
    if (st_central_schema_version(c, &have, err) < 0)
        return -1;
    if (have > ST_CENTRAL_SCHEMA_VERSION)
        return newer_schema(c, have, err);
    if (have < ST_CENTRAL_SCHEMA_VERSION) {
        st_err_set(err, ST_E_DB, ST_PH_DB, "the central store %s %s (schema version %d, this station ships to %d)",
                   c->desc, have ? "has an older schema" : "has no schema yet", have, ST_CENTRAL_SCHEMA_VERSION);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "run `station central init` with the schema owner's connection string");
    }
    char host[64] = "";
    if (gethostname(host, sizeof host) < 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    const char *p[] = {s->uuid, s->name, s->line, host};
    if (central_cmd(c, "cannot register the station",
                    "INSERT INTO stations(uuid, name, line, host) VALUES ($1::uuid, $2, $3, $4)"
                    " ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, line = excluded.line,"
                    " host = excluded.host, last_seen = now()",
                    4, p, err) < 0)
        return -1;
    PGresult *r = central_exec(c, "cannot read the high-water marks",
                               "SELECT tbl, hwm FROM ship_marks WHERE station = $1::uuid", 1, p, err);
    if (!r)
        return -1;
    memset(c->hwm, 0, sizeof c->hwm);
    for (int i = 0; i < PQntuples(r); i++)
        for (int t = 0; t < CT_COUNT; t++)
            if (!strcmp(PQgetvalue(r, i, 0), central_table_name[t]))
                c->hwm[t] = central_i64(r, i, 1);
    PQclear(r);
    c->st = *s;
    c->attached = true;
    return 0;
}

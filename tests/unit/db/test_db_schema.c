/* test_db_schema.c - creating the database, migrating version-1 and version-2 files
 * written by hand the way older stations wrote them (and a step that fails leaving the
 * file as it was), refusing a newer file, the single-writer lock, reader handles, the
 * default path and the integrity check. */
#include "check.h"
#include "test_db_support.h"

#include <stdlib.h>
#include <string.h>

/* The version-1 schema exactly as the first station release created it. Frozen copies,
 * not the migration steps themselves: a test must catch a shipped step being edited. */
#define SCHEMA_V1_TABLES \
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value);" \
    "CREATE TABLE units(" \
    "  mac TEXT PRIMARY KEY NOT NULL," \
    "  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL," \
    "  chip TEXT, package TEXT, description TEXT, rev_major INTEGER, rev_minor INTEGER," \
    "  flash_id INTEGER, flash_size INTEGER);" \
    "CREATE TABLE attempts(" \
    "  id INTEGER PRIMARY KEY," \
    "  mac TEXT REFERENCES units(mac)," \
    "  slot INTEGER NOT NULL, port TEXT," \
    "  bridge TEXT, bridge_vid INTEGER, bridge_pid INTEGER, bridge_serial TEXT," \
    "  chip TEXT, package TEXT, description TEXT, rev_major INTEGER, rev_minor INTEGER," \
    "  flash_id INTEGER, flash_size INTEGER," \
    "  profile TEXT, images TEXT," \
    "  baud INTEGER, bytes_raw INTEGER, bytes_compressed INTEGER," \
    "  connect_ms INTEGER, stub_ms INTEGER, write_ms INTEGER, verify_ms INTEGER," \
    "  total_ms INTEGER, try_no INTEGER," \
    "  outcome TEXT NOT NULL CHECK (outcome IN ('in_progress','pass','fail','interrupted'))," \
    "  fclass TEXT, phase TEXT, status TEXT, detail TEXT, hint TEXT," \
    "  host TEXT, operator TEXT," \
    "  started_ms INTEGER NOT NULL, ended_ms INTEGER);" \
    "CREATE INDEX attempts_mac_started ON attempts(mac, started_ms);" \
    "CREATE INDEX attempts_started ON attempts(started_ms);"

/* What version 2 (the retry bin) added, as released. */
#define SCHEMA_V2_BIN \
    "CREATE TABLE bin(" \
    "  id INTEGER PRIMARY KEY," \
    "  mac TEXT REFERENCES units(mac)," \
    "  slot INTEGER, port TEXT," \
    "  fclass TEXT, phase TEXT, status TEXT, detail TEXT, hint TEXT," \
    "  bridge_vid INTEGER, bridge_pid INTEGER," \
    "  attempts INTEGER NOT NULL DEFAULT 1," \
    "  first_fail_ms INTEGER NOT NULL, last_fail_ms INTEGER NOT NULL," \
    "  last_attempt_id INTEGER REFERENCES attempts(id)," \
    "  resolved_ms INTEGER, resolved_by INTEGER REFERENCES attempts(id));" \
    "CREATE UNIQUE INDEX bin_open_mac ON bin(mac) WHERE resolved_ms IS NULL AND mac IS NOT NULL;" \
    "CREATE INDEX bin_mac ON bin(mac, last_fail_ms);" \
    "CREATE INDEX bin_open ON bin(last_fail_ms) WHERE resolved_ms IS NULL;" \
    "CREATE INDEX attempts_in_progress ON attempts(id) WHERE outcome = 'in_progress';"

static const char *const schema_v1 = SCHEMA_V1_TABLES
    "PRAGMA user_version = 1;"
    "INSERT INTO units VALUES ('24:0a:c4:00:00:01', 1000, 2000, 'ESP32', 'ESP32-D0WD-V3', NULL, 3, 0,"
    "  1458208, 16777216);"
    "INSERT INTO attempts(id, mac, slot, port, outcome, fclass, phase, try_no, started_ms, ended_ms)"
    "  VALUES (1, '24:0a:c4:00:00:01', 1, '/dev/ttyUSB0', 'pass', NULL, 'done', 1, 1000, 2000);"
    "INSERT INTO attempts(id, mac, slot, port, outcome, phase, try_no, started_ms)"
    "  VALUES (2, '24:0a:c4:00:00:01', 2, '/dev/ttyUSB1', 'in_progress', 'write', 1, 3000);";

/* A version-2 file from a line with USB hubs and simulator slots: slots known only by hub
 * port number and port path. */
static const char *const schema_v2 = SCHEMA_V1_TABLES SCHEMA_V2_BIN
    "PRAGMA user_version = 2;"
    "INSERT INTO units(mac, first_seen_ms, last_seen_ms) VALUES ('24:0a:c4:00:00:01', 1000, 9000),"
    "  ('24:0a:c4:00:00:02', 3000, 3100);"
    "INSERT INTO attempts(id, mac, slot, port, outcome, fclass, phase, try_no, started_ms, ended_ms) VALUES"
    "  (1, '24:0a:c4:00:00:01', 3, '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.3:1.0-port0', 'pass',"
    "   NULL, 'done', 1, 1000, 1900),"
    "  (2, NULL, 3, '/tmp/sim/slot3', 'fail', 'no_sync', 'sync', 1, 2000, 2100),"
    "  (3, '24:0a:c4:00:00:02', 2, '/dev/ttyUSB0', 'fail', 'timeout', 'write', 1, 3000, 3100),"
    "  (4, NULL, 5, NULL, 'fail', 'no_sync', 'connect', 1, 4000, 4100),"
    "  (5, '24:0a:c4:00:00:01', 4, 'socket://127.0.0.1:4000', 'pass', NULL, 'done', 1, 9000, 9100);"
    "INSERT INTO bin(id, mac, slot, port, fclass, phase, attempts, first_fail_ms, last_fail_ms,"
    "  last_attempt_id) VALUES"
    "  (1, NULL, 3, '/tmp/sim/slot3', 'no_sync', 'sync', 1, 2000, 2100, 2),"
    "  (2, '24:0a:c4:00:00:02', 2, '/dev/ttyUSB0', 'timeout', 'write', 1, 3000, 3100, 3);";

static void test_fresh(const char *dir)
{
    char path[512], buf[256];
    snprintf(path, sizeof path, "%s/a/b/station.db", dir); /* parents are created */
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    st_err err;
    int v = -1;
    CHECK_EQ_INT(st_db_schema_version(db, &v, &err), 0);
    CHECK_EQ_INT(v, ST_DB_SCHEMA_VERSION);
    CHECK_STR(st_db_path(db), path);
    CHECK_EQ_INT(st_db_recovered(db), 0);
    CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
    CHECK_STR(tdb_query(path, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_STR(tdb_query(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
                              " WHERE type = 'table' ORDER BY name)", buf, sizeof buf),
              "attempts,bin,meta,serials,units");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('attempts_mac_started',"
                              " 'attempts_started', 'bin_open_mac', 'attempts_in_progress', 'bin_open_slot')",
                        buf, sizeof buf),
              "5");
    /* the write probe left no row behind, the open stamp is there */
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM meta WHERE key = 'write_probe'", buf, sizeof buf), "0");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM meta WHERE key = 'last_open'", buf, sizeof buf), "1");

    /* a second writer on the same file is refused while the first lives */
    st_db *db2 = NULL;
    CHECK_EQ_INT(st_db_open(path, NULL, &db2, &err), -1);
    CHECK(db2 == NULL);
    CHECK_CONTAINS(err.msg, "in use by another station process");
    CHECK_CONTAINS(err.msg, path);
    CHECK_EQ_INT(err.cat, ST_E_DB);
    CHECK_EQ_INT(err.phase, ST_PH_DB);
    CHECK(err.hint[0] != '\0');

    /* a reader may look at the same time, and cannot write */
    st_db_opts ro = {.read_only = true};
    CHECK_EQ_INT(st_db_open(path, &ro, &db2, &err), 0);
    if (db2) {
        st_db_attempt a;
        memset(&a, 0, sizeof a);
        CHECK_EQ_INT(st_db_attempt_begin(db2, &a, &err), -1);
        CHECK_CONTAINS(err.msg, "read-only handle");
        st_db_close(db2);
    }
    st_db_close(db);

    /* after close the lock is free again */
    db = tdb_open(path);
    CHECK(db != NULL);
    st_db_close(db);
}

static void test_migrate_v1(const char *dir)
{
    char path[512], buf[256];
    tdb_path(path, dir, "old.db");
    if (!CHECK_EQ_INT(tdb_exec(path, schema_v1), 0))
        return;
    CHECK_STR(tdb_query(path, "PRAGMA user_version", buf, sizeof buf), "1");

    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    st_err err;
    int v = 0;
    CHECK_EQ_INT(st_db_schema_version(db, &v, &err), 0);
    CHECK_EQ_INT(v, ST_DB_SCHEMA_VERSION); /* migrated step by step to the newest */
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('bin', 'bin_open_mac',"
                              " 'attempts_in_progress')", buf, sizeof buf),
              "3");
    /* old rows kept */
    st_db_attempt a;
    CHECK_EQ_INT(st_db_attempt_get(db, 1, &a, &err), 0);
    CHECK_EQ_INT(a.outcome, ST_DB_PASS);
    CHECK_STR(a.mac, "24:0a:c4:00:00:01");
    CHECK_STR(a.port, "/dev/ttyUSB0");
    CHECK_STR(a.slot_name, "slot1"); /* a bare tty node names no slot: the hub port does */
    CHECK_STR(a.station_version, ""); /* recorded before v9: which version flashed is unknown */
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('attempts_bridge_serial',"
                              " 'attempts_serial')", buf, sizeof buf),
              "2");
    st_db_unit u;
    bool found = false;
    CHECK_EQ_INT(st_db_unit_get(db, "24:0A:C4:00:00:01", &u, &found, &err), 0);
    CHECK(found);
    CHECK_EQ_INT(u.flash_id, 0x164020);
    CHECK_STR(u.package, "ESP32-D0WD-V3");
    /* the old station's unfinished attempt is closed and its unit binned */
    CHECK_EQ_INT(st_db_recovered(db), 1);
    CHECK_EQ_INT(st_db_attempt_get(db, 2, &a, &err), 0);
    CHECK_EQ_INT(a.outcome, ST_DB_INTERRUPTED);
    CHECK_EQ_INT(a.fclass, ST_FC_INTERRUPTED);
    CHECK_EQ_INT(a.phase, ST_PH_WRITE);
    CHECK_STR(tdb_query(path, "SELECT mac || ' ' || fclass || ' ' || attempts || ' ' || last_attempt_id"
                              " || ' ' || slot_name FROM bin", buf, sizeof buf),
              "24:0a:c4:00:00:01 interrupted 1 2 slot2");
    CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
    st_db_close(db);

    /* opening again migrates nothing and recovers nothing */
    db = tdb_open(path);
    if (CHECK(db != NULL)) {
        CHECK_EQ_INT(st_db_recovered(db), 0);
        CHECK_STR(tdb_query(path, "SELECT count(*) FROM bin", buf, sizeof buf), "1");
        st_db_close(db);
    }
}

static void test_migrate_v2(const char *dir)
{
    char path[512], buf[512];
    tdb_path(path, dir, "v2.db");
    if (!CHECK_EQ_INT(tdb_exec(path, schema_v2), 0))
        return;
    /* a reader cannot use the old file: it says to run the station once */
    st_db *db = NULL;
    st_err err;
    st_db_opts ro = {.read_only = true};
    CHECK_EQ_INT(st_db_open(path, &ro, &db, &err), -1);
    CHECK_CONTAINS(err.msg, "schema version 2");
    CHECK_CONTAINS(err.hint, "migrates the file");

    db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    int v = 0;
    CHECK_EQ_INT(st_db_schema_version(db, &v, &err), 0);
    CHECK_EQ_INT(v, ST_DB_SCHEMA_VERSION); /* migrated step by step to the newest */
    CHECK_EQ_INT(st_db_recovered(db), 0);
    /* every old row got the name the station would give its slot today */
    CHECK_STR(tdb_query(path, "SELECT group_concat(slot_name, ' | ') FROM (SELECT slot_name FROM attempts"
                              " ORDER BY id)", buf, sizeof buf),
              "pci-0000:00:14.0-usb-0:1.3:1.0-port0 | slot3 | slot2 | slot5 | 127.0.0.1:4000");
    CHECK_STR(tdb_query(path, "SELECT group_concat(slot_name, ' | ') FROM (SELECT slot_name FROM bin ORDER BY id)",
                        buf, sizeof buf),
              "slot3 | slot2");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'bin_open_slot'", buf, sizeof buf),
              "1");
    st_db_attempt a;
    CHECK_EQ_INT(st_db_attempt_get(db, 1, &a, &err), 0);
    CHECK_STR(a.slot_name, "pci-0000:00:14.0-usb-0:1.3:1.0-port0");
    CHECK_EQ_INT(a.slot, 3);
    CHECK_STR(a.port, "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.3:1.0-port0");
    /* v4: old rows have wall-clock labels only, so their monotonic duration and run stay
     * unknown (NULL), never a difference of labels */
    CHECK_EQ_INT(a.duration_ms, 0);
    CHECK_EQ_INT(a.run_started_ms, 0);
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts WHERE duration_ms IS NOT NULL"
                              " OR run_started_ms IS NOT NULL OR run_offset_ms IS NOT NULL", buf, sizeof buf),
              "0");
    /* the session that left the MAC-less entry on simulator slot3 goes on after the
     * upgrade: its retry, now named by the station, finds and resolves that entry */
    int64_t id = tdb_attempt_in(db, "slot3", "24:0a:c4:00:00:03", 3, 2, 10000, ST_DB_PASS, ST_FC_NONE,
                                "CP2104", true);
    char want[64];
    snprintf(want, sizeof want, "24:0a:c4:00:00:03 %lld", (long long)id);
    CHECK_STR(tdb_query(path, "SELECT mac || ' ' || resolved_by FROM bin WHERE id = 1", buf, sizeof buf), want);
    CHECK_STR(tdb_query(path, "SELECT COALESCE(resolved_ms, 'open') FROM bin WHERE id = 2", buf, sizeof buf),
              "open");
    CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
    st_db_close(db);
}

/* A step that fails half way (its second statement) leaves the file at the previous
 * version with none of the step's changes, and the station refuses to start on it. */
static void test_migration_atomic(const char *dir)
{
    char path[512], buf[256];
    tdb_path(path, dir, "v2-odd.db");
    if (!CHECK_EQ_INT(tdb_exec(path, schema_v2), 0) ||
        !CHECK_EQ_INT(tdb_exec(path, "ALTER TABLE bin ADD COLUMN slot_name TEXT;"), 0))
        return;
    st_db *db = NULL;
    st_err err;
    CHECK_EQ_INT(st_db_open(path, NULL, &db, &err), -1);
    CHECK(db == NULL);
    CHECK_CONTAINS(err.msg, "cannot migrate to schema v3 (slot names)");
    CHECK_CONTAINS(err.msg, path);
    CHECK_STR(tdb_query(path, "PRAGMA user_version", buf, sizeof buf), "2");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM pragma_table_info('attempts') WHERE name = 'slot_name'",
                        buf, sizeof buf),
              "0");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts", buf, sizeof buf), "5");
}

static void test_newer_refused(const char *dir)
{
    char path[512], buf[64];
    tdb_path(path, dir, "future.db");
    CHECK_EQ_INT(tdb_exec(path, "CREATE TABLE x(y); PRAGMA user_version = 99;"), 0);
    st_db *db = NULL;
    st_err err;
    CHECK_EQ_INT(st_db_open(path, NULL, &db, &err), -1);
    CHECK(db == NULL);
    CHECK_CONTAINS(err.msg, "schema version 99");
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.hint, "upgrade");
    CHECK_STR(tdb_query(path, "PRAGMA user_version", buf, sizeof buf), "99");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'attempts'", buf, sizeof buf), "0");

    /* a file that is not a database at all */
    tdb_path(path, dir, "notadb.db");
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("this is a text file, not SQLite, and long enough to have a header......\n", f);
        fclose(f);
    }
    CHECK_EQ_INT(st_db_open(path, NULL, &db, &err), -1);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "not a station database");
}

static void test_integrity_problem(const char *dir)
{
    char path[512];
    tdb_path(path, dir, "fk.db");
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    st_db_close(db);
    /* a row written behind the station's back with foreign keys off */
    CHECK_EQ_INT(tdb_exec(path, "INSERT INTO attempts(mac, slot, outcome, started_ms)"
                                " VALUES ('aa:bb:cc:dd:ee:ff', 1, 'pass', 5)"),
                 0);
    db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    st_err err;
    CHECK_EQ_INT(st_db_check_integrity(db, &err), -1);
    CHECK_CONTAINS(err.msg, "failed its integrity check");
    CHECK_CONTAINS(err.msg, "attempts row 1 refers to a missing units row");
    CHECK_CONTAINS(err.msg, path);
    st_db_close(db);
}

static void test_reader_missing(const char *dir)
{
    char path[512];
    tdb_path(path, dir, "missing.db");
    st_db *db = NULL;
    st_err err;
    st_db_opts ro = {.read_only = true};
    CHECK_EQ_INT(st_db_open(path, &ro, &db, &err), -1);
    CHECK_CONTAINS(err.msg, "no station database at");
    CHECK_CONTAINS(err.msg, path);
}

static void test_default_path(void)
{
    char buf[512];
    st_err err;
    setenv("STATION_DB", "/srv/line1/station.db", 1);
    setenv("XDG_DATA_HOME", "/x/data", 1);
    setenv("HOME", "/home/op", 1);
    CHECK_EQ_INT(st_db_default_path(buf, sizeof buf, &err), 0);
    CHECK_STR(buf, "/srv/line1/station.db");
    setenv("STATION_DB", "", 1);
    CHECK_EQ_INT(st_db_default_path(buf, sizeof buf, &err), 0);
    CHECK_STR(buf, "/x/data/flashstation/station.db");
    unsetenv("STATION_DB");
    setenv("XDG_DATA_HOME", "relative/ignored", 1);
    CHECK_EQ_INT(st_db_default_path(buf, sizeof buf, &err), 0);
    CHECK_STR(buf, "/home/op/.local/share/flashstation/station.db");
    unsetenv("XDG_DATA_HOME");
    CHECK_EQ_INT(st_db_default_path(buf, sizeof buf, &err), 0);
    CHECK_STR(buf, "/home/op/.local/share/flashstation/station.db");
    char small[16];
    CHECK_EQ_INT(st_db_default_path(small, sizeof small, &err), -1);
    CHECK_CONTAINS(err.msg, "too long");
}

static void test_helpers(void)
{
    char m[18];
    st_err err;
    CHECK_EQ_INT(st_db_mac_normalize("94:B9:7E:5A:6E:58", m, &err), 0);
    CHECK_STR(m, "94:b9:7e:5a:6e:58");
    CHECK_EQ_INT(st_db_mac_normalize("94-b9-7e-5a-6e-58", m, &err), 0);
    CHECK_STR(m, "94:b9:7e:5a:6e:58");
    CHECK_EQ_INT(st_db_mac_normalize("94b97e5a6e58", m, &err), 0);
    CHECK_STR(m, "94:b9:7e:5a:6e:58");
    CHECK_EQ_INT(st_db_mac_normalize("94:b9:7e:5a:6e", m, &err), -1);
    CHECK_EQ_INT(st_db_mac_normalize("94:b9:7e:5a:6e:5g", m, &err), -1);
    CHECK_EQ_INT(st_db_mac_normalize("94:b9:7e:5a:6e:58:00", m, &err), -1);
    CHECK_CONTAINS(err.msg, "not a MAC address");
    char t[32];
    st_db_format_time(1714555800250LL, t, sizeof t);
    CHECK_STR(t, "2024-05-01T09:30:00.250Z");
    st_db_format_time(0, t, sizeof t);
    CHECK_STR(t, "");
    CHECK_STR(st_db_outcome_name(ST_DB_INTERRUPTED), "interrupted");
    CHECK_EQ_INT(st_db_outcome_from_name("fail"), ST_DB_FAIL);
}

int main(void)
{
    char dir[256];
    tdb_mkdir(dir);
    test_fresh(dir);
    test_migrate_v1(dir);
    test_migrate_v2(dir);
    test_migration_atomic(dir);
    test_newer_refused(dir);
    test_integrity_problem(dir);
    test_reader_missing(dir);
    test_default_path();
    test_helpers();
    tdb_rmdir(dir);
    return check_summary("db_schema");
}

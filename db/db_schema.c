/* db_schema.c - the schema as an ordered list of migration steps. The file's version is
 * PRAGMA user_version (in the database header, so it changes atomically with the step's
 * tables). Step N takes a version N-1 file to version N inside one transaction: a crash
 * mid-migration leaves the previous version intact. Never edit a shipped step; append. */
#include "db_internal.h"

#include <stdio.h>

/* basename(port) (rtrim strips the trailing non-'/' characters, leaving the folder part),
 * unless port is empty, a tty node or ends in '/'. */
#define DB_SLOT_NAME_OF_ROW                                                                    \
    "COALESCE(CASE WHEN port NOT LIKE '/dev/tty%' THEN"                                        \
    "  NULLIF(substr(port, length(rtrim(port, replace(port, '/', ''))) + 1), '') END,"          \
    " 'slot' || COALESCE(slot, 0))"


/* After an insert, and after any update that did not set ship_rev itself, the row takes
 * the table's next change number (MAX over the ship_rev index: O(log n)). The inner
 * UPDATE changes ship_rev, so the WHEN clause keeps it from firing again. */
#define DB_SHIP_TRIGGERS(t, key)                                                               \
    "CREATE TRIGGER " t "_ship_ins AFTER INSERT ON " t " BEGIN UPDATE " t " SET ship_rev ="     \
    " (SELECT COALESCE(MAX(ship_rev), 0) + 1 FROM " t ") WHERE " key " = NEW." key "; END;"      \
    "CREATE TRIGGER " t "_ship_upd AFTER UPDATE ON " t " WHEN NEW.ship_rev IS OLD.ship_rev"     \
    " BEGIN UPDATE " t " SET ship_rev = (SELECT COALESCE(MAX(ship_rev), 0) + 1 FROM " t ")"      \
    " WHERE " key " = NEW." key "; END;"

typedef struct {
    int version;
    const char *what;
    const char *sql;
} db_migration;

static const db_migration migrations[] = {
    {1, "units and attempts",
     "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value);"
     "CREATE TABLE units("
     "  mac TEXT PRIMARY KEY NOT NULL,"
     "  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
     "  chip TEXT, package TEXT, description TEXT, rev_major INTEGER, rev_minor INTEGER,"
     "  flash_id INTEGER, flash_size INTEGER);"
     "CREATE TABLE attempts("
     "  id INTEGER PRIMARY KEY,"
     "  mac TEXT REFERENCES units(mac),"
     "  slot INTEGER NOT NULL, port TEXT,"
     "  bridge TEXT, bridge_vid INTEGER, bridge_pid INTEGER, bridge_serial TEXT,"
     "  chip TEXT, package TEXT, description TEXT, rev_major INTEGER, rev_minor INTEGER,"
     "  flash_id INTEGER, flash_size INTEGER,"
     "  profile TEXT, images TEXT," /* JSON array [{"offset":n,"sha256":"hex"}] */
     "  baud INTEGER, bytes_raw INTEGER, bytes_compressed INTEGER,"
     "  connect_ms INTEGER, stub_ms INTEGER, write_ms INTEGER, verify_ms INTEGER,"
     "  total_ms INTEGER, try_no INTEGER,"
     "  outcome TEXT NOT NULL CHECK (outcome IN ('in_progress','pass','fail','interrupted')),"
     "  fclass TEXT, phase TEXT, status TEXT, detail TEXT, hint TEXT,"
     "  host TEXT, operator TEXT,"
     "  started_ms INTEGER NOT NULL, ended_ms INTEGER);"
     /* audit: a MAC's history newest first without touching other rows */
     "CREATE INDEX attempts_mac_started ON attempts(mac, started_ms);"
     /* exports and statistics over a time range */
     "CREATE INDEX attempts_started ON attempts(started_ms);"},

    {2, "retry bin",
     "CREATE TABLE bin("
     "  id INTEGER PRIMARY KEY,"
     "  mac TEXT REFERENCES units(mac),"
     "  slot INTEGER, port TEXT,"
     "  fclass TEXT, phase TEXT, status TEXT, detail TEXT, hint TEXT,"
     "  bridge_vid INTEGER, bridge_pid INTEGER,"
     "  attempts INTEGER NOT NULL DEFAULT 1,"
     "  first_fail_ms INTEGER NOT NULL, last_fail_ms INTEGER NOT NULL,"
     "  last_attempt_id INTEGER REFERENCES attempts(id),"
     "  resolved_ms INTEGER, resolved_by INTEGER REFERENCES attempts(id));"
     /* one open entry per MAC, enforced by the file rather than by hope */
     "CREATE UNIQUE INDEX bin_open_mac ON bin(mac) WHERE resolved_ms IS NULL AND mac IS NOT NULL;"
     "CREATE INDEX bin_mac ON bin(mac, last_fail_ms);"
     "CREATE INDEX bin_open ON bin(last_fail_ms) WHERE resolved_ms IS NULL;"
     /* crash recovery finds unfinished attempts without scanning the table */
     "CREATE INDEX attempts_in_progress ON attempts(id) WHERE outcome = 'in_progress';"},

    /* Slots are physical places named by their stable path: hub port numbers repeat
     * across hubs. Old rows get the name the station would give them today: the last
     * component of the stable port path they recorded (by-path link, simulator slotK),
     * else, for a bare tty node or no port, "slot" and the hub port number. */
    {3, "slot names",
     "ALTER TABLE attempts ADD COLUMN slot_name TEXT;"
     "ALTER TABLE bin ADD COLUMN slot_name TEXT;"
     "UPDATE attempts SET slot_name = " DB_SLOT_NAME_OF_ROW ";"
     "UPDATE bin SET slot_name = " DB_SLOT_NAME_OF_ROW ";"
     /* a MAC-less retry finds its session's entry without scanning the bin */
     "CREATE INDEX bin_open_slot ON bin(slot_name) WHERE resolved_ms IS NULL AND mac IS NULL;"},

    /* Per-unit identity and the boot check. A serial is allocated once per (profile,
     * MAC) and kept; --new-serial retires the old row (kept, with the time) and adds the
     * next number, so the numbers of a profile are 1..N without a gap and every one has a
     * row naming its unit and attempt. */
    {4, "serials, provisioned values, boot check",
     "CREATE TABLE serials("
     "  id INTEGER PRIMARY KEY,"
     "  profile TEXT NOT NULL, seq INTEGER NOT NULL, serial TEXT NOT NULL,"
     "  mac TEXT NOT NULL REFERENCES units(mac),"
     "  attempt_id INTEGER REFERENCES attempts(id),"
     "  allocated_ms INTEGER NOT NULL,"
     "  reason TEXT NOT NULL CHECK (reason IN ('first','new_serial')),"
     "  retired_ms INTEGER,"
     "  UNIQUE(profile, seq), UNIQUE(profile, serial));"
     "CREATE UNIQUE INDEX serials_current ON serials(profile, mac) WHERE retired_ms IS NULL;"
     "CREATE INDEX serials_mac ON serials(mac);"
     "ALTER TABLE attempts ADD COLUMN serial TEXT;"
     "ALTER TABLE attempts ADD COLUMN provision TEXT;"     /* "key=value; ..." secrets as sha256 */
     "ALTER TABLE attempts ADD COLUMN boot TEXT;"          /* NULL not checked, 'pass', 'no_boot' */
     "ALTER TABLE attempts ADD COLUMN boot_captured TEXT;" /* "version=1.2.3; ..." */
     "ALTER TABLE attempts ADD COLUMN boot_console TEXT;"},/* last console lines of a no_boot */

    /* Durations from the monotonic clock: an attempt's length, and where it sits on its
     * station run's time line (for throughput). Old rows keep NULL: all they have are
     * wall-clock labels, and a difference of those is not a duration. */
    {5, "monotonic durations",
     "ALTER TABLE attempts ADD COLUMN duration_ms INTEGER;"
     "ALTER TABLE attempts ADD COLUMN run_started_ms INTEGER;"
     "ALTER TABLE attempts ADD COLUMN run_offset_ms INTEGER;"},

    /* Shipping to the central store (db/central_*.c): every row of attempts, bin and
     * units carries ship_rev, a per-table change counter that a trigger bumps on every
     * insert and every update, whatever columns later steps add; the shipper sends rows
     * with ship_rev above the high-water mark the central store holds for this station.
     * The station's stable identity (station_uuid) keys its rows there. */
    {6, "change counters for shipping, station identity",
     "ALTER TABLE attempts ADD COLUMN ship_rev INTEGER;"
     "ALTER TABLE bin ADD COLUMN ship_rev INTEGER;"
     "ALTER TABLE units ADD COLUMN ship_rev INTEGER;"
     "UPDATE attempts SET ship_rev = id;"
     "UPDATE bin SET ship_rev = id;"
     "UPDATE units SET ship_rev = rowid;"
     "CREATE INDEX attempts_ship_rev ON attempts(ship_rev);"
     "CREATE INDEX bin_ship_rev ON bin(ship_rev);"
     "CREATE INDEX units_ship_rev ON units(ship_rev);"
     DB_SHIP_TRIGGERS("attempts", "id")
     DB_SHIP_TRIGGERS("bin", "id")
     DB_SHIP_TRIGGERS("units", "rowid")
     "INSERT OR IGNORE INTO meta(key, value) SELECT 'station_uuid',"
     " lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||"
     " substr(lower(hex(randomblob(2))), 2) || '-' ||"
     " substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' ||"
     " lower(hex(randomblob(6)));"},

    /* How healthy the link was (blocks corrupted on the way and resent, §14.1) and
     * whether the MAC read from eFuse passed its CRC. Old rows: unknown (NULL). */
    {7, "link repairs, MAC CRC",
     "ALTER TABLE attempts ADD COLUMN blocks_repaired INTEGER;"
     "ALTER TABLE attempts ADD COLUMN mac_crc_bad INTEGER;"},

    /* The flash chip's status registers as read at detect (SR1 | SR2 << 8 | SR3 << 16;
     * NULL not read): write protection is diagnosed from them (write_protected). */
    {8, "flash status registers",
     "ALTER TABLE attempts ADD COLUMN flash_status INTEGER;"},

    /* Who and what flashed (auditors): the station software's version with every
     * attempt (host and operator are there since v1). Old rows: NULL, unknown. Audit
     * finds a unit by the USB serial number of its bridge or by the serial the station
     * gave it: both indexed, so that is the unit's own rows, not a table scan. */
    {9, "station version, serial number lookups",
     "ALTER TABLE attempts ADD COLUMN station_version TEXT;"
     "CREATE INDEX attempts_bridge_serial ON attempts(bridge_serial) WHERE bridge_serial IS NOT NULL;"
     "CREATE INDEX attempts_serial ON attempts(serial) WHERE serial IS NOT NULL;"},

    /* A bin entry closed by hand (unit scrapped or sent back) keeps why, who and on which
     * station host; resolved_ms says when, resolved_by stays NULL. Old rows: NULL. */
    {10, "retry-bin entries closed by hand",
     "ALTER TABLE bin ADD COLUMN closed_reason TEXT;"
     "ALTER TABLE bin ADD COLUMN closed_by TEXT;"
     "ALTER TABLE bin ADD COLUMN closed_host TEXT;"},

    /* The serials provisioning allocated (step 4) ship to the central store like the
     * other record tables: a change counter on every row (the same triggers as step 6),
     * so a serial, its unit, its attempt and its retirement reach the factory's record. */
    {11, "change counter for shipping serials",
     "ALTER TABLE serials ADD COLUMN ship_rev INTEGER;"
     "UPDATE serials SET ship_rev = id;"
     "CREATE INDEX serials_ship_rev ON serials(ship_rev);"
     DB_SHIP_TRIGGERS("serials", "id")},

    /* A unit's `run --on-result` command (label printer, MES hook) that failed, on the
     * attempt whose result it was given: how it ended ('exit', 'signal', 'timeout',
     * 'spawn_failed'), its exit status or signal, how long it ran, the command and the
     * first bytes of its stderr (control characters made spaces). NULL: no command, or it
     * succeeded. The row's change counter bumps (step 6 triggers): it ships. */
    {12, "on-result command failures",
     "ALTER TABLE attempts ADD COLUMN hook_result TEXT"
     " CHECK (hook_result IN ('exit','signal','timeout','spawn_failed'));"
     "ALTER TABLE attempts ADD COLUMN hook_exit INTEGER;"
     "ALTER TABLE attempts ADD COLUMN hook_signal INTEGER;"
     "ALTER TABLE attempts ADD COLUMN hook_ms INTEGER;"
     "ALTER TABLE attempts ADD COLUMN hook_command TEXT;"
     "ALTER TABLE attempts ADD COLUMN hook_stderr TEXT;"},

    /* The repair bench's commands besides flash (station identify, read, erase,
     * unprotect) are recorded as attempts of their own action: NULL is a flash (every
     * older row), and what the action did ("read 0x0+0x400000 to backup.bin, MD5 ...").
     * Statistics and the retry bin count flashes only. */
    {13, "repair-bench actions",
     "ALTER TABLE attempts ADD COLUMN action TEXT"
     " CHECK (action IN ('identify', 'read', 'erase', 'unprotect'));"
     "ALTER TABLE attempts ADD COLUMN action_detail TEXT;"},
};

_Static_assert(sizeof migrations / sizeof migrations[0] == ST_DB_SCHEMA_VERSION,
               "ST_DB_SCHEMA_VERSION must be the last migration step");

int st_db_schema_version(st_db *db, int *version, st_err *err)
{
    sqlite3_stmt *s = db_prepare(db, "PRAGMA user_version", err);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        return db_fail(db, err, rc, "cannot read the schema version of");
    }
    *version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int db_migrate(st_db *db, st_err *err)
{
    int have;
    if (st_db_schema_version(db, &have, err) < 0)
        return -1;
    if (have > ST_DB_SCHEMA_VERSION) {
        st_err_set(err, ST_E_DB, ST_PH_DB,
                   "database %s has schema version %d, newer than this station knows (%d)",
                   db->path, have, ST_DB_SCHEMA_VERSION);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "upgrade the station software, or point STATION_DB at another "
                                "file; the newer file was left untouched");
    }
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        const db_migration *m = &migrations[i];
        if (m->version <= have)
            continue;
        char what[160];
        snprintf(what, sizeof what, "cannot migrate to schema v%d (%s):", m->version, m->what);
        /* IMMEDIATE: take the write lock before reading anything the step depends on */
        if (db_exec(db, "BEGIN IMMEDIATE", what, err) < 0)
            return -1;
        char ver[48];
        snprintf(ver, sizeof ver, "PRAGMA user_version = %d", m->version);
        if (db_exec(db, m->sql, what, err) < 0 || db_exec(db, ver, what, err) < 0 ||
            db_exec(db, "COMMIT", what, err) < 0) {
            if (!sqlite3_get_autocommit(db->h))
                sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        have = m->version;
    }
    return 0;
}

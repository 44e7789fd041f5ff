/* db_internal.h - what the db/ source files share: the handle, the per-connection
 * statement cache, write savepoints, binding and error helpers. Not for use outside db/. */
#ifndef ST_DB_INTERNAL_H
#define ST_DB_INTERNAL_H

#include <limits.h>
#include <sqlite3.h>

#include "db.h"

/* Statements prepared once per connection (on first use) because they run per attempt. */
typedef enum {
    S_SP_BEGIN,
    S_SP_RELEASE,
    S_SP_ROLLBACK,
    S_UNIT_UPSERT,
    S_UNIT_GET,
    S_ATT_INSERT,
    S_ATT_SET_UNIT,
    S_ATT_FINISH,
    S_ATT_GET,
    S_ATT_FAIL_RUN,
    S_BIN_OPEN_MAC,
    S_BIN_OPEN_SLOT,
    S_BIN_INSERT,
    S_BIN_UPDATE,
    S_BIN_RESOLVE_MAC,
    S_BIN_RESOLVE_SLOT,
    S_BIN_RESOLVE_ID,
    S_BIN_CLOSE,
    S_SERIAL_CURRENT,
    S_SERIAL_NEXT,
    S_SERIAL_RETIRE,
    S_SERIAL_INSERT,
    S_SERIAL_ATTEMPT,
    S_ATT_HOOK,
    S_COUNT
} db_stmt_id;

struct st_db {
    sqlite3 *h;
    char path[PATH_MAX];
    int lock_fd;              /* flock'ed "<path>.lock" for writers, -1 for readers */
    bool read_only;
    bool in_batch;            /* st_db_tx_begin is open */
    bool batch_lost;          /* SQLite rolled the batch back after an error inside it */
    int recovered;
    int last_rc;              /* primary result code of the last db_fail (SQLITE_FULL ...) */
    int nested;               /* >0 while a write function runs others inside its transaction:
                               * only the outermost one may retry after a full disk */
    char host[64];
    sqlite3_stmt *st[S_COUNT];
};

/* Statement slot id, prepared from sql on first use, afterwards reset with bindings
 * cleared (sql must be the same text every time for a slot); NULL with err on failure. */
sqlite3_stmt *db_stmt_sql(st_db *db, db_stmt_id id, const char *sql, st_err *err);
/* Prepare a one-off statement; NULL with err on failure. Reads that call back into the
 * caller use these, so a callback may use the same handle again. */
sqlite3_stmt *db_prepare(st_db *db, const char *sql, st_err *err);
/* Run SQL without results (schema, pragmas); -1 with err naming `what`. */
int db_exec(st_db *db, const char *sql, const char *what, st_err *err);

/* Write savepoints: every write function runs inside one so that it either lands
 * whole or not at all, and nests inside st_db_tx_begin batches. */
int db_wbegin(st_db *db, st_err *err);
int db_wcommit(st_db *db, st_err *err);
void db_wrollback(st_db *db);

/* Fill err from the connection's last error for result code rc: "<what> <path>: <reason>
 * (<sqlite message>)" with a hint chosen by the kind of failure. Returns -1. */
int db_fail(st_db *db, st_err *err, int rc, const char *what);
/* After a write failed and was rolled back: when it failed for a full disk and no
 * transaction is open around it, make room (db_make_room) and say whether one more try
 * is worth it. */
bool db_retry_after_full(st_db *db);
/* Checkpoint the WAL into the file and truncate it; when that fails for lack of space,
 * give up the space reserve ("<path>.reserve") first. 0 when the WAL is now empty. */
int db_make_room(st_db *db);
/* Keep "<path>.reserve" (DB_RESERVE_BYTES) when the disk has room to spare for it. */
void db_reserve_keep(st_db *db);

/* Same for errors not from SQLite. */
int db_fail_arg(st_db *db, st_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Binding by parameter name; "" strings and `null_if_zero` numbers bind NULL. */
void db_bind_text(sqlite3_stmt *s, const char *name, const char *v);
void db_bind_i64(sqlite3_stmt *s, const char *name, int64_t v);
void db_bind_i64_nz(sqlite3_stmt *s, const char *name, int64_t v);
void db_bind_null(sqlite3_stmt *s, const char *name);
/* :from / :to of a time range ([from_ms, to_ms), to_ms <= 0: no upper bound). */
void db_bind_range(sqlite3_stmt *s, int64_t from_ms, int64_t to_ms);
/* Copy column i as text into buf ("" for NULL). */
void db_col_text(sqlite3_stmt *s, int i, char *buf, size_t cap);

/* Run a cached write statement (db_stmt_sql) once and reset it: 0, or -1 with err. */
int db_step_write(st_db *db, sqlite3_stmt *s, st_err *err);
typedef int (*db_row_fn)(void *ctx, sqlite3_stmt *s);
/* Step a cached read statement once: on a row, row(ctx, s) reads it; then reset. 1 with a
 * row, 0 without, -1 with err. */
int db_step_one(st_db *db, sqlite3_stmt *s, db_row_fn row, void *ctx, st_err *err);
/* Step a one-off statement (db_prepare; NULL: its error is already in err) through its
 * rows, calling row(ctx, s) on each until it returns non-zero, then finalize it: 0, or
 * -1 with err. */
int db_each_row(st_db *db, sqlite3_stmt *s, db_row_fn row, void *ctx, st_err *err);
/* A caller's typed per-row callback and its user pointer, for the row adapters of the
 * listings (db_row_fn ctx). */
typedef struct {
    union {
        st_db_attempt_fn attempt;
        st_db_bin_fn bin;
        st_db_class_fn cls;
        st_db_hour_fn hour;
        st_db_slot_fn slot;
        st_db_repair_fn repair;
        st_db_serial_fn serial;
    } fn;
    void *user;
} db_cb;
/* db_each_row over sql with :from / :to bound to the time range. */
int db_range_rows(st_db *db, const char *sql, int64_t from_ms, int64_t to_ms, db_row_fn row, void *ctx,
                  st_err *err);

/* Status bytes <-> "01070000". */
void db_status_hex(const uint8_t *st, int n, char *buf, size_t cap);
int db_status_parse(const char *hex, uint8_t st[4]);
/* Names stored in rows. */
const char *db_phase_db_name(st_phase p);    /* NULL for ST_PH_NONE */
st_phase db_phase_from_name(const char *s);
const char *db_fclass_db_name(st_fclass c);  /* NULL for ST_FC_NONE */

/* Attempts and bin entries share two column groups, read and bound by one piece of code
 * each. The macros take a record x, an attempt or a bin entry (same field names). */
/* Where: the row's id, unit, slot, port and bridge. */
#define DB_PLACE_COLS "id, mac, slot_name, slot, port, bridge_vid, bridge_pid"
int db_col_place(sqlite3_stmt *s, int c, int64_t *id, char mac[18], char slot_name[64], int *slot,
                 char *port, size_t port_cap, uint16_t *vid, uint16_t *pid);
#define DB_COL_PLACE(s, c, x)                                                                  \
    db_col_place((s), (c), &(x)->id, (x)->mac, (x)->slot_name, &(x)->slot, (x)->port,            \
                 sizeof(x)->port, &(x)->vid, &(x)->pid)
/* Binds :mac (as given, normalized by the caller), :slot_name (db_bind_slot_name), :slot,
 * :port, :bridge_vid, :bridge_pid. */
void db_bind_place(sqlite3_stmt *s, const char *mac, const char *slot_name, int slot, const char *port,
                   uint16_t vid, uint16_t pid);
#define DB_BIND_PLACE(s, x, mac)                                                               \
    db_bind_place((s), (mac), (x)->slot_name, (x)->slot, (x)->port, (x)->vid, (x)->pid)
/* :slot_name: slot_name, or "slot<slot>" when it is "" (the API's default). */
void db_bind_slot_name(sqlite3_stmt *s, const char *slot_name, int slot);
/* What went wrong: class, phase, status bytes, detail, hint. */
#define DB_FAILURE_COLS "fclass, phase, status, detail, hint"
int db_col_failure(sqlite3_stmt *s, int c, st_fclass *fc, st_phase *ph, uint8_t status[4],
                   uint8_t *nstatus, char *detail, size_t detail_cap, char *hint, size_t hint_cap);
#define DB_COL_FAILURE(s, c, x)                                                                \
    db_col_failure((s), (c), &(x)->fclass, &(x)->phase, (x)->status, &(x)->nstatus, (x)->detail, \
                   sizeof(x)->detail, (x)->hint, sizeof(x)->hint)
/* Binds :fclass, :phase, :status, :detail and :hint (hint as given). */
void db_bind_failure(sqlite3_stmt *s, st_fclass fc, st_phase ph, const uint8_t *status, int nstatus,
                     const char *detail, const char *hint);

/* Attempts: the column list shared by every SELECT and its decoder. */
#define DB_ATTEMPT_COLS                                                                        \
    DB_PLACE_COLS ", bridge, bridge_serial, chip, package, description, rev_major, rev_minor, " \
                  "flash_id, flash_size, profile, images, baud, bytes_raw, bytes_compressed, "   \
                  "connect_ms, stub_ms, write_ms, verify_ms, total_ms, try_no, outcome, "        \
    DB_FAILURE_COLS ", host, operator, started_ms, ended_ms, serial, provision, boot, "         \
                    "boot_captured, boot_console, duration_ms, run_started_ms, run_offset_ms, " \
                    "blocks_repaired, mac_crc_bad, flash_status, station_version, hook_result, " \
                    "hook_exit, hook_signal, hook_ms, hook_command, hook_stderr, action, action_detail"
void db_row_attempt(sqlite3_stmt *s, st_db_attempt *a);
#define DB_BIN_COLS                                                                            \
    DB_PLACE_COLS ", " DB_FAILURE_COLS ", attempts, first_fail_ms, last_fail_ms, "             \
                  "last_attempt_id, resolved_ms, resolved_by, closed_reason, closed_by, closed_host"
void db_row_bin(sqlite3_stmt *s, st_db_bin_entry *e);

/* Upsert unit `mac` seen at time t, with the identity known in a (a may be NULL). */
int db_unit_touch(st_db *db, const char *mac, const st_db_attempt *a, int64_t t, st_err *err);
/* Put the unit of finished attempt a (as stored) into the bin, inside the caller's
 * savepoint. A retry (try_no > 1) joins the MAC-less entry its own session left on the
 * slot, if any, instead of opening a second entry for the same unit. */
int db_bin_record_attempt(st_db *db, const st_db_attempt *a, st_err *err);
/* Resolve bin entries a passing attempt settles (inside the caller's savepoint). */
int db_bin_resolve_for_pass(st_db *db, const st_db_attempt *a, st_err *err);

/* The hex digits of in (':' '-' '.' ignored), lower case, ':' between bytes, into out
 * (>= 18 bytes): the number of whole bytes (at most 6), or -1 when in is not hex bytes. */
int db_mac_text(const char *in, char *out);

/* A growing list of MACs (the units an audit names, local or central). */
typedef struct {
    char (*v)[18];
    size_t n, cap;
    bool oom;
} db_mac_list;
/* Append mac: 0, or 1 (and l->oom) when out of memory. Free l->v when done. */
int db_mac_list_add(db_mac_list *l, const char *mac);

/* Schema: bring the file to ST_DB_SCHEMA_VERSION, one transaction per step. */
int db_migrate(st_db *db, st_err *err);
/* Mark in-progress attempts interrupted and bin their units (one transaction). */
int db_recover(st_db *db, st_err *err);

/* Writer check for exports etc: -1 with ST_E_IO naming what failed. */
int db_export_check(FILE *f, st_err *err);

#endif

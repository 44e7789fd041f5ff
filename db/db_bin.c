/* db_bin.c - the retry bin: units to reflash. One open entry per MAC (a partial unique
 * index enforces it); a unit whose MAC was never read gets an entry per slot (by name)
 * and time. Entries are resolved, never deleted, so the audit keeps the whole story. */
#include "db_internal.h"

#include <stdint.h>
#include <string.h>

void db_row_bin(sqlite3_stmt *s, st_db_bin_entry *e)
{
    memset(e, 0, sizeof *e);
    int c = DB_COL_PLACE(s, 0, e);
    c = DB_COL_FAILURE(s, c, e);
    e->attempts = sqlite3_column_int(s, c++);
    e->first_fail_ms = sqlite3_column_int64(s, c++);
    e->last_fail_ms = sqlite3_column_int64(s, c++);
    e->last_attempt_id = sqlite3_column_int64(s, c++);
    e->resolved_ms = sqlite3_column_int64(s, c++);
    e->resolved_by = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, e->closed_reason, sizeof e->closed_reason);
    db_col_text(s, c++, e->closed_by, sizeof e->closed_by);
    db_col_text(s, c++, e->closed_host, sizeof e->closed_host);
}

/* An open MAC-less entry left on this slot (by name: hub port numbers repeat across hubs)
 * by earlier tries of the same session as attempt aid (try try_no): its last attempt had
 * a lower try number and no first try started on the slot since. Only retries
 * (try_no > 1) can belong to a session. */
#define DB_SAME_SESSION_SLOT                                                                   \
    "mac IS NULL AND slot_name = :slot_name AND resolved_ms IS NULL AND last_attempt_id < :aid" \
    " AND (SELECT try_no FROM attempts WHERE id = bin.last_attempt_id) < :try_no"             \
    " AND NOT EXISTS (SELECT 1 FROM attempts x WHERE x.id > bin.last_attempt_id"              \
    "   AND x.id < :aid AND x.slot_name = :slot_name AND x.try_no = 1)"

typedef struct {
    int64_t id;
    int attempts;
    int64_t last_attempt_id;
} open_entry;

static int read_open(void *ctx, sqlite3_stmt *s)
{
    open_entry *o = ctx;
    o->id = sqlite3_column_int64(s, 0);
    o->attempts = sqlite3_column_int(s, 1);
    o->last_attempt_id = sqlite3_column_int64(s, 2);
    return 0;
}

/* 1 and *o filled when found, 0 when not, -1 on error. */
static int find_open(st_db *db, const char *mac, const st_db_bin_entry *e, int64_t aid, int try_no,
                     open_entry *o, st_err *err)
{
    sqlite3_stmt *s;
    if (mac[0]) {
        s = db_stmt_sql(db, S_BIN_OPEN_MAC,
                        "SELECT id, attempts, last_attempt_id FROM bin"
                        " WHERE mac = :mac AND resolved_ms IS NULL",
                        err);
    } else {
        if (!aid || try_no <= 1)
            return 0;
        s = db_stmt_sql(db, S_BIN_OPEN_SLOT,
                        "SELECT id, attempts, last_attempt_id FROM bin WHERE " DB_SAME_SESSION_SLOT
                        " ORDER BY last_attempt_id DESC LIMIT 1",
                        err);
    }
    if (!s)
        return -1;
    db_bind_text(s, ":mac", mac);
    db_bind_slot_name(s, e->slot_name, e->slot);
    db_bind_i64(s, ":aid", aid);
    db_bind_i64(s, ":try_no", try_no);
    return db_step_one(db, s, read_open, o, err);
}

/* Create or update the entry for e (inside the caller's savepoint). aid/try_no: the
 * attempt this failure comes from (0 when added by hand). */
static int bin_put(st_db *db, const st_db_bin_entry *e, const char *mac, int64_t aid, int try_no,
                   int64_t *id_out, st_err *err)
{
    int64_t now = st_db_now_ms();
    int64_t last = e->last_fail_ms ? e->last_fail_ms : now;
    int64_t first = e->first_fail_ms ? e->first_fail_ms : last;
    open_entry o = {0};
    int found = find_open(db, mac, e, aid, try_no, &o, err);
    if (found < 0)
        return -1;
    /* a MAC-identified retry may adopt the MAC-less entry its session's first try left */
    if (!found && mac[0] && aid && try_no > 1) {
        found = find_open(db, "", e, aid, try_no, &o, err);
        if (found < 0)
            return -1;
    }
    if (mac[0] && db_unit_touch(db, mac, NULL, last, err) < 0)
        return -1;

    int attempts;
    sqlite3_stmt *s;
    if (found) {
        if (aid && aid == o.last_attempt_id)
            attempts = o.attempts; /* the same failure recorded twice counts once */
        else
            attempts = o.attempts + 1 > e->attempts ? o.attempts + 1 : e->attempts;
        s = db_stmt_sql(db, S_BIN_UPDATE,
                        "UPDATE bin SET mac = COALESCE(:mac, mac), slot_name = :slot_name, slot = :slot,"
                        " port = COALESCE(:port, port), fclass = :fclass, phase = :phase,"
                        " status = :status, detail = :detail, hint = :hint,"
                        " bridge_vid = :bridge_vid, bridge_pid = :bridge_pid, attempts = :attempts,"
                        " first_fail_ms = min(first_fail_ms, :first),"
                        " last_fail_ms = max(last_fail_ms, :last),"
                        " last_attempt_id = COALESCE(:aid, last_attempt_id)"
                        " WHERE id = :id",
                        err);
    } else {
        attempts = e->attempts > 1 ? e->attempts : 1;
        s = db_stmt_sql(db, S_BIN_INSERT,
                        "INSERT INTO bin(mac, slot_name, slot, port, fclass, phase, status, detail, hint,"
                        " bridge_vid, bridge_pid, attempts, first_fail_ms, last_fail_ms, last_attempt_id)"
                        " VALUES (:mac, :slot_name, :slot, :port, :fclass, :phase, :status, :detail, :hint,"
                        " :bridge_vid, :bridge_pid, :attempts, :first, :last, :aid)",
                        err);
    }
    if (!s)
        return -1;
    db_bind_i64(s, ":id", o.id);
    DB_BIND_PLACE(s, e, mac);
    db_bind_failure(s, e->fclass, e->phase, e->status, e->nstatus, e->detail,
                    e->hint[0] ? e->hint : st_fclass_hint(e->fclass));
    db_bind_i64(s, ":attempts", attempts);
    db_bind_i64(s, ":first", first);
    db_bind_i64(s, ":last", last);
    db_bind_i64_nz(s, ":aid", aid);
    if (db_step_write(db, s, err) < 0)
        return -1;
    if (id_out)
        *id_out = found ? o.id : sqlite3_last_insert_rowid(db->h);
    return 0;
}

/* count(*), min(started_ms) of the unit's failures since its last pass */
static int read_fail_run(void *ctx, sqlite3_stmt *s)
{
    st_db_bin_entry *e = ctx;
    if (sqlite3_column_int(s, 0) > 0) {
        e->attempts = sqlite3_column_int(s, 0);
        e->first_fail_ms = sqlite3_column_int64(s, 1);
    }
    return 0;
}

int db_bin_record_attempt(st_db *db, const st_db_attempt *a, st_err *err)
{
    st_db_bin_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.slot_name, sizeof e.slot_name, "%s", a->slot_name);
    e.slot = a->slot;
    snprintf(e.port, sizeof e.port, "%s", a->port);
    e.fclass = a->fclass;
    e.phase = a->phase;
    memcpy(e.status, a->status, sizeof e.status);
    e.nstatus = a->nstatus;
    snprintf(e.detail, sizeof e.detail, "%s", a->detail);
    snprintf(e.hint, sizeof e.hint, "%s", a->hint);
    e.vid = a->vid;
    e.pid = a->pid;
    e.last_fail_ms = a->ended_ms ? a->ended_ms : a->started_ms;
    e.first_fail_ms = a->started_ms;
    e.attempts = a->try_no > 1 ? a->try_no : 1;
    if (a->mac[0]) {
        /* failures since the unit last passed: right whether the engine bins every failed
         * try or only the last one of a session */
        sqlite3_stmt *s = db_stmt_sql(
            db, S_ATT_FAIL_RUN,
            "SELECT count(*), min(started_ms) FROM attempts"
            " WHERE mac = :mac AND outcome IN ('fail', 'interrupted') AND started_ms >"
            " COALESCE((SELECT max(started_ms) FROM attempts WHERE mac = :mac AND outcome = 'pass'),"
            "  -9223372036854775807)",
            err);
        if (!s)
            return -1;
        db_bind_text(s, ":mac", a->mac);
        if (db_step_one(db, s, read_fail_run, &e, err) < 0)
            return -1;
    }
    return bin_put(db, &e, a->mac, a->id, a->try_no, NULL, err);
}

/* Resolve what statement `id` (sql) selects, by attempt a at time t. */
static int resolve_by(st_db *db, db_stmt_id id, const char *sql, const st_db_attempt *a, int64_t t,
                      st_err *err)
{
    sqlite3_stmt *s = db_stmt_sql(db, id, sql, err);
    if (!s)
        return -1;
    db_bind_i64(s, ":t", t);
    db_bind_i64(s, ":aid", a->id);
    db_bind_text(s, ":mac", a->mac);
    db_bind_slot_name(s, a->slot_name, a->slot);
    db_bind_i64(s, ":try_no", a->try_no);
    return db_step_write(db, s, err);
}

int db_bin_resolve_for_pass(st_db *db, const st_db_attempt *a, st_err *err)
{
    int64_t t = a->ended_ms ? a->ended_ms : st_db_now_ms();
    if (a->mac[0] && resolve_by(db, S_BIN_RESOLVE_MAC,
                                "UPDATE bin SET resolved_ms = :t, resolved_by = :aid"
                                " WHERE mac = :mac AND resolved_ms IS NULL",
                                a, t, err) < 0)
        return -1;
    /* the unit's earlier tries in this session failed before its MAC was read: the entry
     * they left now learns whose it was */
    if (a->try_no > 1 && resolve_by(db, S_BIN_RESOLVE_SLOT,
                                    "UPDATE bin SET resolved_ms = :t, resolved_by = :aid,"
                                    " mac = COALESCE(:mac, mac) WHERE " DB_SAME_SESSION_SLOT,
                                    a, t, err) < 0)
        return -1;
    return 0;
}

int st_db_bin_add(st_db *db, const st_db_bin_entry *e, int64_t *id, st_err *err)
{
    char mac[18] = "";
    if (e->mac[0] && st_db_mac_normalize(e->mac, mac, err) < 0)
        return -1;
    if (db_wbegin(db, err) < 0)
        return -1;
    if (bin_put(db, e, mac, 0, 0, id, err) < 0 || db_wcommit(db, err) < 0) {
        db_wrollback(db);
        st_err_wrap(err, "adding %s to the retry bin", mac[0] ? mac : "a unit");
        return -1;
    }
    return 0;
}

int st_db_bin_resolve(st_db *db, int64_t id, int64_t resolved_by, st_err *err)
{
    if (db_wbegin(db, err) < 0)
        return -1;
    sqlite3_stmt *s = db_stmt_sql(db, S_BIN_RESOLVE_ID,
                                  "UPDATE bin SET resolved_ms = :t, resolved_by = :by"
                                  " WHERE id = :id AND resolved_ms IS NULL",
                                  err);
    if (!s)
        goto rollback;
    db_bind_i64(s, ":t", st_db_now_ms());
    db_bind_i64_nz(s, ":by", resolved_by);
    db_bind_i64(s, ":id", id);
    if (db_step_write(db, s, err) < 0)
        goto rollback;
    if (sqlite3_changes(db->h) == 0) {
        db_fail_arg(db, err, "bin entry %lld does not exist or is already resolved", (long long)id);
        goto rollback;
    }
    if (db_wcommit(db, err) < 0)
        goto rollback;
    return 0;
rollback:
    db_wrollback(db);
    return -1;
}

static int read_bin(void *ctx, sqlite3_stmt *s)
{
    db_row_bin(s, ctx);
    return 0;
}

int st_db_bin_close(st_db *db, const char *mac, const char *reason, const char *operator_name,
                    st_db_bin_entry *out, st_err *err)
{
    char m[18];
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    const char *r = reason ? reason : "";
    while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
        r++;
    if (!*r) {
        st_err_set(err, ST_E_ARG, ST_PH_NONE, "closing %s: a reason is required", m);
        return st_err_hint(err, "say why the unit leaves the bin, e.g. --reason \"scrapped: cracked "
                                "case\" or --reason \"returned to supplier, RMA 4411\"");
    }
    if (db_wbegin(db, err) < 0)
        return -1;
    sqlite3_stmt *s = db_stmt_sql(db, S_BIN_CLOSE,
                                  "UPDATE bin SET resolved_ms = :t, resolved_by = NULL,"
                                  " closed_reason = :reason, closed_by = :by, closed_host = :host"
                                  " WHERE mac = :mac AND resolved_ms IS NULL"
                                  " RETURNING " DB_BIN_COLS,
                                  err);
    if (!s)
        goto rollback;
    db_bind_i64(s, ":t", st_db_now_ms());
    db_bind_text(s, ":reason", r);
    db_bind_text(s, ":by", operator_name ? operator_name : "");
    db_bind_text(s, ":host", db->host);
    db_bind_text(s, ":mac", m);
    st_db_bin_entry e;
    int found = db_step_one(db, s, read_bin, &e, err);
    if (found < 0)
        goto rollback;
    if (!found) {
        db_wrollback(db);
        st_err_set(err, ST_E_ARG, ST_PH_NONE, "%s has no open retry-bin entry in %s", m, db->path);
        return st_err_hint(err, "station retry-bin lists the open entries; station audit %s shows "
                                "what happened to this unit", m);
    }
    if (db_wcommit(db, err) < 0)
        goto rollback;
    if (out)
        *out = e;
    return 0;
rollback:
    db_wrollback(db);
    st_err_wrap(err, "closing the retry-bin entry of %s", m);
    return -1;
}

static int bin_row(void *ctx, sqlite3_stmt *s)
{
    const db_cb *c = ctx;
    st_db_bin_entry e;
    db_row_bin(s, &e);
    return c->fn.bin(c->user, &e);
}

int st_db_bin_list(st_db *db, bool include_resolved, st_db_bin_fn fn, void *user, st_err *err)
{
    db_cb c = {.fn.bin = fn, .user = user};
    return db_each_row(db,
                       db_prepare(db,
                                  include_resolved
                                      ? "SELECT " DB_BIN_COLS " FROM bin ORDER BY last_fail_ms DESC, id DESC"
                                      : "SELECT " DB_BIN_COLS " FROM bin WHERE resolved_ms IS NULL"
                                        " ORDER BY last_fail_ms DESC, id DESC",
                                  err),
                       bin_row, &c, err);
}

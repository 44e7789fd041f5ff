/* db_serial.c - per-profile serial numbers (db.h "serial numbers"): allocated inside the
 * transaction that stores them on the attempt, so a crash leaves either both or neither. */
#include "db_internal.h"

#include <string.h>

#define SERIAL_COLS "id, profile, seq, serial, mac, attempt_id, allocated_ms, reason, retired_ms"

static int read_serial(void *ctx, sqlite3_stmt *s)
{
    st_db_serial *o = ctx;
    memset(o, 0, sizeof *o);
    int c = 0;
    o->id = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, o->profile, sizeof o->profile);
    o->seq = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, o->serial, sizeof o->serial);
    db_col_text(s, c++, o->mac, sizeof o->mac);
    o->attempt_id = sqlite3_column_int64(s, c++);
    o->allocated_ms = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, o->reason, sizeof o->reason);
    o->retired_ms = sqlite3_column_int64(s, c++);
    return 0;
}

static int current(st_db *db, const char *profile, const char *mac, st_db_serial *out, st_err *err)
{
    sqlite3_stmt *s = db_stmt_sql(db, S_SERIAL_CURRENT,
                                  "SELECT " SERIAL_COLS " FROM serials WHERE profile = :profile"
                                  " AND mac = :mac AND retired_ms IS NULL",
                                  err);
    if (!s)
        return -1;
    db_bind_text(s, ":profile", profile);
    db_bind_text(s, ":mac", mac);
    return db_step_one(db, s, read_serial, out, err);
}

static int read_next(void *ctx, sqlite3_stmt *s)
{
    *(int64_t *)ctx = sqlite3_column_int64(s, 0);
    return 0;
}

int st_db_serial_next(st_db *db, const char *profile, int64_t *next, st_err *err)
{
    sqlite3_stmt *s = db_stmt_sql(db, S_SERIAL_NEXT,
                                  "SELECT COALESCE(MAX(seq), 0) + 1 FROM serials WHERE profile = :profile",
                                  err);
    if (!s)
        return -1;
    db_bind_text(s, ":profile", profile);
    *next = 1;
    return db_step_one(db, s, read_next, next, err) < 0 ? -1 : 0;
}

int st_db_serial_get(st_db *db, const char *profile, const char *mac, st_db_serial *out,
                     bool *found, st_err *err)
{
    char m[18];
    *found = false;
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    int rc = current(db, profile, m, out, err);
    if (rc < 0)
        return -1;
    *found = rc == 1;
    return 0;
}

static int assign_in_tx(st_db *db, int64_t attempt_id, const char *profile, const char *mac,
                        bool new_serial, st_db_serial_fmt fmt, void *user, st_db_serial *out,
                        bool *allocated, st_err *err)
{
    int64_t now = st_db_now_ms();
    int have = current(db, profile, mac, out, err);
    if (have < 0)
        return -1;
    if (have == 1 && !new_serial) {
        *allocated = false;
    } else {
        if (have == 1) {
            sqlite3_stmt *r = db_stmt_sql(db, S_SERIAL_RETIRE,
                                          "UPDATE serials SET retired_ms = :t WHERE id = :id", err);
            if (!r)
                return -1;
            db_bind_i64(r, ":t", now);
            db_bind_i64(r, ":id", out->id);
            if (db_step_write(db, r, err) < 0)
                return -1;
        }
        int64_t seq;
        if (st_db_serial_next(db, profile, &seq, err) < 0)
            return -1;
        memset(out, 0, sizeof *out);
        if (fmt(user, seq, now, out->serial, sizeof out->serial) < 0)
            return db_fail_arg(db, err, "serial number %lld of profile %s cannot be formatted",
                               (long long)seq, profile);
        st_db_attempt unit = {0};
        if (db_unit_touch(db, mac, &unit, now, err) < 0)
            return -1;
        sqlite3_stmt *s = db_stmt_sql(
            db, S_SERIAL_INSERT,
            "INSERT INTO serials(profile, seq, serial, mac, attempt_id, allocated_ms, reason)"
            " VALUES (:profile, :seq, :serial, :mac, :attempt, :t, :reason)",
            err);
        if (!s)
            return -1;
        db_bind_text(s, ":profile", profile);
        db_bind_i64(s, ":seq", seq);
        db_bind_text(s, ":serial", out->serial);
        db_bind_text(s, ":mac", mac);
        db_bind_i64(s, ":attempt", attempt_id);
        db_bind_i64(s, ":t", now);
        db_bind_text(s, ":reason", have == 1 ? "new_serial" : "first");
        if (db_step_write(db, s, err) < 0)
            return -1;
        out->id = sqlite3_last_insert_rowid(db->h);
        snprintf(out->profile, sizeof out->profile, "%s", profile);
        out->seq = seq;
        memcpy(out->mac, mac, 18);
        out->attempt_id = attempt_id;
        out->allocated_ms = now;
        snprintf(out->reason, sizeof out->reason, "%s", have == 1 ? "new_serial" : "first");
        *allocated = true;
    }
    sqlite3_stmt *a = db_stmt_sql(db, S_SERIAL_ATTEMPT,
                                  "UPDATE attempts SET serial = :serial WHERE id = :id"
                                  " AND outcome = 'in_progress'",
                                  err);
    if (!a)
        return -1;
    db_bind_text(a, ":serial", out->serial);
    db_bind_i64(a, ":id", attempt_id);
    if (db_step_write(db, a, err) < 0)
        return -1;
    if (sqlite3_changes(db->h) != 1)
        return db_fail_arg(db, err, "attempt %lld is not in progress: no serial given",
                           (long long)attempt_id);
    return 0;
}

int st_db_serial_assign(st_db *db, int64_t attempt_id, const char *profile, const char *mac,
                        bool new_serial, st_db_serial_fmt fmt, void *user, st_db_serial *out,
                        bool *allocated, st_err *err)
{
    char m[18];
    *allocated = false;
    if (!profile || !*profile)
        return db_fail_arg(db, err, "serial without a profile name");
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    if (db_wbegin(db, err) < 0)
        return -1;
    int rc = assign_in_tx(db, attempt_id, profile, m, new_serial, fmt, user, out, allocated, err);
    if (rc == 0)
        rc = db_wcommit(db, err);
    if (rc < 0) {
        db_wrollback(db);
        *allocated = false;
        st_err_wrap(err, "allocating the serial of %s (attempt %lld)", m, (long long)attempt_id);
    }
    return rc;
}

static int serial_row(void *ctx, sqlite3_stmt *s)
{
    db_cb *cb = ctx;
    st_db_serial o;
    read_serial(&o, s);
    return cb->fn.serial(cb->user, &o);
}

int st_db_serial_list(st_db *db, const char *profile, st_db_serial_fn fn, void *user, st_err *err)
{
    sqlite3_stmt *s = db_prepare(db, "SELECT " SERIAL_COLS " FROM serials WHERE profile = :profile"
                                     " ORDER BY seq", err);
    if (s)
        db_bind_text(s, ":profile", profile);
    db_cb cb = {.fn.serial = fn, .user = user};
    return db_each_row(db, s, serial_row, &cb, err);
}

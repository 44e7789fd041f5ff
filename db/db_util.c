/* db_util.c - statement cache, write savepoints, error messages, binding and the small
 * value conversions (time, MAC, status bytes, names) shared by db/. */
#include "db_internal.h"
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

/* ---- errors --------------------------------------------------------------------- */

static void parent_dir(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

int db_fail(st_db *db, st_err *err, int rc, const char *what)
{
    if (db)
        db->last_rc = rc & 0xff;
    if (!err)
        return -1;
    const char *path = db ? db->path : "(no database)";
    /* the connection's message, unless the failure was found without a failing call
     * (a file SQLite silently opened read-only) */
    const char *smsg = (db && db->h && sqlite3_errcode(db->h) != SQLITE_OK) ? sqlite3_errmsg(db->h)
                                                                            : sqlite3_errstr(rc);
    int sys = (db && db->h) ? sqlite3_system_errno(db->h) : 0;
    char dir[PATH_MAX];
    parent_dir(path, dir, sizeof dir);

    const char *reason, *hint;
    char reason_buf[PATH_MAX + 64], hint_buf[256];
    switch (rc & 0xff) {
    case SQLITE_FULL:
        snprintf(reason_buf, sizeof reason_buf, "disk full — free space on the disk holding %s", dir);
        reason = reason_buf;
        snprintf(hint_buf, sizeof hint_buf,
                 "free space on the disk holding %.100s (or set STATION_DB to a disk with room); "
                 "the station does not flash without records",
                 dir);
        hint = hint_buf;
        break;
    case SQLITE_READONLY:
        reason = "the file or its folder is read-only (permissions, owner or a read-only mount)";
        hint = "make the database file and its folder writable for the station's user (ls -l), "
               "remount read-write, or set STATION_DB to a writable place";
        break;
    case SQLITE_CANTOPEN:
        reason = "cannot open the file or create its journal beside it";
        hint = "check that the folder exists and is writable for the station's user, or set "
               "STATION_DB to a writable place";
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        reason = "locked by another program for longer than the busy timeout";
        hint = "close other programs writing to the database (sqlite3 shell, backup tools) and retry";
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        reason = "the file is damaged or is not a station database";
        hint = "move the file aside and restore it from backup (or start a new one); do not "
               "flash until records work";
        break;
    case SQLITE_IOERR:
        reason = "disk I/O error";
        hint = "check the disk (dmesg): a failing or removed disk; the station does not flash "
               "without records";
        break;
    case SQLITE_NOMEM:
        reason = "out of memory";
        hint = "close other programs or restart the station";
        break;
    case SQLITE_CONSTRAINT:
        reason = "a record broke a database rule";
        hint = "this is a station bug: report it with this message";
        break;
    default:
        reason = "database error";
        hint = "run the database integrity check; report the message if it persists";
        break;
    }
    if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_READONLY)
        what = "cannot write"; /* whatever was being done, this is what the operator must know */
    if (sys && (rc & 0xff) == SQLITE_IOERR)
        st_err_set(err, ST_E_DB, ST_PH_DB, "%s %s: %s, %s (%s)", what, path, reason, strerror(sys),
                   smsg);
    else
        st_err_set(err, ST_E_DB, ST_PH_DB, "%s %s: %s (%s)", what, path, reason, smsg);
    err->fclass = ST_FC_CONFIG;
    err->sys_errno = sys;
    return st_err_hint(err, "%s", hint);
}

int db_fail_arg(st_db *db, st_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st_err_set(err, ST_E_ARG, ST_PH_DB, "%s (database %s)", msg, db ? db->path : "none");
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "this is a station bug or a wrong argument: report it with this message");
}

/* ---- statements ------------------------------------------------------------------ */

sqlite3_stmt *db_prepare(st_db *db, const char *sql, st_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        db_fail(db, err, rc, "cannot prepare a statement on");
        return NULL;
    }
    return s;
}

sqlite3_stmt *db_stmt_sql(st_db *db, db_stmt_id id, const char *sql, st_err *err)
{
    sqlite3_stmt *s = db->st[id];
    if (!s) {
        /* PERSISTENT: these live as long as the connection */
        int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
        if (rc != SQLITE_OK) {
            db_fail(db, err, rc, "cannot prepare a statement on");
            return NULL;
        }
        db->st[id] = s;
        return s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int db_exec(st_db *db, const char *sql, const char *what, st_err *err)
{
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(db, err, rc, what);
}

int db_step_write(st_db *db, sqlite3_stmt *s, st_err *err)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : db_fail(db, err, rc, "cannot write");
}

int db_step_one(st_db *db, sqlite3_stmt *s, db_row_fn row, void *ctx, st_err *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        row(ctx, s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc == SQLITE_ROW;
    return db_fail(db, err, rc, "cannot read");
}

int db_each_row(st_db *db, sqlite3_stmt *s, db_row_fn row, void *ctx, st_err *err)
{
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (row(ctx, s) != 0) {
            rc = SQLITE_DONE; /* the caller had enough */
            break;
        }
    if (rc != SQLITE_DONE)
        db_fail(db, err, rc, "cannot read");
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int db_range_rows(st_db *db, const char *sql, int64_t from_ms, int64_t to_ms, db_row_fn row, void *ctx,
                  st_err *err)
{
    sqlite3_stmt *s = db_prepare(db, sql, err);
    if (s)
        db_bind_range(s, from_ms, to_ms);
    return db_each_row(db, s, row, ctx, err);
}

/* ---- savepoints ------------------------------------------------------------------ */

static int sp_run(st_db *db, db_stmt_id id, const char *sql, st_err *err)
{
    sqlite3_stmt *s = db_stmt_sql(db, id, sql, err);
    return s ? db_step_write(db, s, err) : -1;
}

int db_wbegin(st_db *db, st_err *err)
{
    if (db->read_only)
        return db_fail_arg(db, err, "write on a read-only handle");
    if (db->in_batch && db->batch_lost)
        return db_fail_arg(db, err, "write inside a batch that was already rolled back; "
                                    "roll it back and start again");
    return sp_run(db, S_SP_BEGIN, "SAVEPOINT w", err);
}

int db_wcommit(st_db *db, st_err *err)
{
    /* outside a batch RELEASE of the outermost savepoint is the COMMIT, where a full
     * disk or a lost lock shows up; the caller then rolls back */
    return sp_run(db, S_SP_RELEASE, "RELEASE w", err);
}

void db_wrollback(st_db *db)
{
    if (sqlite3_get_autocommit(db->h)) {
        /* SQLite already rolled the whole transaction back (full disk, I/O error) */
        if (db->in_batch)
            db->batch_lost = true;
        return;
    }
    st_err ignore;
    if (sp_run(db, S_SP_ROLLBACK, "ROLLBACK TO w", &ignore) == 0)
        sp_run(db, S_SP_RELEASE, "RELEASE w", &ignore);
    else if (!db->in_batch)
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int st_db_tx_begin(st_db *db, st_err *err)
{
    if (db->read_only)
        return db_fail_arg(db, err, "write on a read-only handle");
    if (db->in_batch)
        return db_fail_arg(db, err, "st_db_tx_begin inside an open batch");
    if (db_exec(db, "BEGIN IMMEDIATE", "cannot write", err) < 0)
        return -1;
    db->in_batch = true;
    db->batch_lost = false;
    return 0;
}

int st_db_tx_commit(st_db *db, st_err *err)
{
    if (!db->in_batch)
        return db_fail_arg(db, err, "st_db_tx_commit without st_db_tx_begin");
    if (db->batch_lost || sqlite3_get_autocommit(db->h)) {
        db->in_batch = false;
        db->batch_lost = false;
        return db_fail_arg(db, err, "the batch was rolled back after an earlier write error; "
                                    "its writes were not recorded");
    }
    int rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_fail(db, err, rc, "cannot write");
        if (!sqlite3_get_autocommit(db->h))
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    }
    db->in_batch = false;
    db->batch_lost = false;
    return rc == SQLITE_OK ? 0 : -1;
}

void st_db_tx_rollback(st_db *db)
{
    if (!db || !db->in_batch)
        return;
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->in_batch = false;
    db->batch_lost = false;
}

/* ---- binding --------------------------------------------------------------------- */

static int pidx(sqlite3_stmt *s, const char *name)
{
    return sqlite3_bind_parameter_index(s, name);
}

void db_bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = pidx(s, name);
    if (!i)
        return;
    if (v && *v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

void db_bind_i64(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = pidx(s, name);
    if (i)
        sqlite3_bind_int64(s, i, v);
}

void db_bind_i64_nz(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = pidx(s, name);
    if (!i)
        return;
    if (v)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

void db_bind_null(sqlite3_stmt *s, const char *name)
{
    int i = pidx(s, name);
    if (i)
        sqlite3_bind_null(s, i);
}

void db_bind_range(sqlite3_stmt *s, int64_t from_ms, int64_t to_ms)
{
    db_bind_i64(s, ":from", from_ms);
    db_bind_i64(s, ":to", to_ms > 0 ? to_ms : INT64_MAX);
}

void db_col_text(sqlite3_stmt *s, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

/* ---- column groups shared by attempts and bin entries ----------------------------- */

int db_col_place(sqlite3_stmt *s, int c, int64_t *id, char mac[18], char slot_name[64], int *slot,
                 char *port, size_t port_cap, uint16_t *vid, uint16_t *pid)
{
    *id = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, mac, 18);
    db_col_text(s, c++, slot_name, 64);
    *slot = sqlite3_column_int(s, c++);
    db_col_text(s, c++, port, port_cap);
    *vid = (uint16_t)sqlite3_column_int(s, c++);
    *pid = (uint16_t)sqlite3_column_int(s, c++);
    return c;
}

void db_bind_slot_name(sqlite3_stmt *s, const char *slot_name, int slot)
{
    char dflt[24];
    if (!*slot_name)
        snprintf(dflt, sizeof dflt, "slot%d", slot);
    db_bind_text(s, ":slot_name", *slot_name ? slot_name : dflt);
}

void db_bind_place(sqlite3_stmt *s, const char *mac, const char *slot_name, int slot, const char *port,
                   uint16_t vid, uint16_t pid)
{
    db_bind_text(s, ":mac", mac);
    db_bind_slot_name(s, slot_name, slot);
    db_bind_i64(s, ":slot", slot);
    db_bind_text(s, ":port", port);
    db_bind_i64_nz(s, ":bridge_vid", vid);
    db_bind_i64_nz(s, ":bridge_pid", pid);
}

int db_col_failure(sqlite3_stmt *s, int c, st_fclass *fc, st_phase *ph, uint8_t status[4],
                   uint8_t *nstatus, char *detail, size_t detail_cap, char *hint, size_t hint_cap)
{
    char buf[32];
    db_col_text(s, c++, buf, sizeof buf);
    *fc = st_fclass_from_name(buf);
    db_col_text(s, c++, buf, sizeof buf);
    *ph = db_phase_from_name(buf);
    db_col_text(s, c++, buf, sizeof buf);
    *nstatus = (uint8_t)db_status_parse(buf, status);
    db_col_text(s, c++, detail, detail_cap);
    db_col_text(s, c++, hint, hint_cap);
    return c;
}

void db_bind_failure(sqlite3_stmt *s, st_fclass fc, st_phase ph, const uint8_t *status, int nstatus,
                     const char *detail, const char *hint)
{
    char st[12];
    db_status_hex(status, nstatus, st, sizeof st);
    db_bind_text(s, ":fclass", db_fclass_db_name(fc));
    db_bind_text(s, ":phase", db_phase_db_name(ph));
    db_bind_text(s, ":status", st);
    db_bind_text(s, ":detail", detail);
    db_bind_text(s, ":hint", hint);
}

/* ---- values ---------------------------------------------------------------------- */

void db_status_hex(const uint8_t *st, int n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && i < 4 && o + 3 <= cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%02x", st[i]);
}

int db_status_parse(const char *hex, uint8_t st[4])
{
    int n = 0;
    while (hex && n < 4 && isxdigit((unsigned char)hex[0]) && isxdigit((unsigned char)hex[1])) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        st[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

const char *db_phase_db_name(st_phase p)
{
    return p == ST_PH_NONE ? NULL : st_phase_name(p);
}

st_phase db_phase_from_name(const char *s)
{
    for (int p = 0; s && p < ST_PH_COUNT; p++)
        if (strcmp(st_phase_name((st_phase)p), s) == 0)
            return (st_phase)p;
    return ST_PH_NONE;
}

const char *db_fclass_db_name(st_fclass c)
{
    return c == ST_FC_NONE ? NULL : st_fclass_name(c);
}

int64_t st_db_now_ms(void)
{
    return (int64_t)(st_wall_now() * 1000.0); /* a label: the station's one wall clock */
}

void st_db_format_time(int64_t ms, char *buf, size_t cap)
{
    if (!ms) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03dZ", base, (int)rem);
}

int db_mac_text(const char *in, char *out)
{
    int nd = 0;
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        if (*p == ':' || *p == '-' || *p == '.')
            continue;
        if (!isxdigit((unsigned char)*p) || nd >= 12)
            return -1;
        if (nd && nd % 2 == 0)
            out[n++] = ':';
        out[n++] = (char)tolower((unsigned char)*p);
        nd++;
    }
    out[n] = '\0';
    return nd % 2 ? -1 : nd / 2;
}

int st_db_mac_normalize(const char *in, char *out, st_err *err)
{
    char m[18];
    if (db_mac_text(in, m) != 6)
        goto bad;
    memcpy(out, m, sizeof m);
    return 0;
bad:
    st_err_set(err, ST_E_ARG, ST_PH_DB, "'%s' is not a MAC address (6 hex bytes, e.g. 94:b9:7e:5a:6e:58)",
               in ? in : "");
    return st_err_hint(err, "give the MAC as printed on the label or in the log");
}

static const char *const outcome_names[] = {"in_progress", "pass", "fail", "interrupted"};

const char *st_db_outcome_name(st_db_outcome o)
{
    return (o >= 0 && o <= ST_DB_INTERRUPTED) ? outcome_names[o] : "in_progress";
}

st_db_outcome st_db_outcome_from_name(const char *s)
{
    for (int i = 0; s && i <= ST_DB_INTERRUPTED; i++)
        if (strcmp(outcome_names[i], s) == 0)
            return (st_db_outcome)i;
    return ST_DB_IN_PROGRESS;
}

int db_export_check(FILE *f, st_err *err)
{
    if (!ferror(f))
        return 0;
    int e = errno;
    st_err_set(err, ST_E_IO, ST_PH_DB, "cannot write the export: %s", strerror(e));
    err->sys_errno = e;
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "check the output file's disk space and permissions");
}

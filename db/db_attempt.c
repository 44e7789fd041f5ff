/* db_attempt.c - units and attempts: begin, identity update, finish, read back, and
 * the crash recovery that closes attempts a dead station left open. */
#include "db_internal.h"
#include "who.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- images as JSON text ----------------------------------------------------------- */

static int images_json(st_db *db, const st_db_attempt *a, char **out, st_err *err)
{
    *out = NULL;
    if (a->nimages <= 0)
        return 0;
    if (a->nimages > ST_DB_MAX_IMAGES)
        return db_fail_arg(db, err, "attempt has %d images (at most %d)", a->nimages, ST_DB_MAX_IMAGES);
    size_t cap = (size_t)a->nimages * 100 + 3, used = 0;
    char *j = malloc(cap);
    if (!j)
        return db_fail_arg(db, err, "out of memory");
    j[used++] = '[';
    for (int i = 0; i < a->nimages; i++) {
        const char *h = a->images[i].sha256;
        size_t n = strlen(h);
        for (size_t k = 0; k < n; k++)
            if (!isxdigit((unsigned char)h[k]))
                n = 0;
        if (n != 64) {
            free(j);
            return db_fail_arg(db, err, "image %d (offset 0x%x) has no valid SHA-256 hex '%s'", i,
                               a->images[i].offset, h);
        }
        used += (size_t)snprintf(j + used, cap - used, "%s{\"offset\":%u,\"sha256\":\"", i ? "," : "",
                                 a->images[i].offset);
        for (size_t k = 0; k < 64; k++)
            j[used++] = (char)tolower((unsigned char)h[k]);
        used += (size_t)snprintf(j + used, cap - used, "\"}");
    }
    snprintf(j + used, cap - used, "]");
    *out = j;
    return 0;
}

static void images_parse(const char *txt, st_db_attempt *a)
{
    a->nimages = 0;
    if (!txt || !*txt)
        return;
    json_t *arr = json_loads(txt, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        if (a->nimages >= ST_DB_MAX_IMAGES)
            break;
        st_db_image *im = &a->images[a->nimages++];
        im->offset = (uint32_t)json_integer_value(json_object_get(it, "offset"));
        const char *h = json_string_value(json_object_get(it, "sha256"));
        snprintf(im->sha256, sizeof im->sha256, "%s", h ? h : "");
    }
    json_decref(arr);
}

/* ---- binding and decoding ------------------------------------------------------------ */

/* The identity columns a (re)detected unit brings. */
static void bind_identity(sqlite3_stmt *s, const st_db_attempt *a, const char *mac)
{
    db_bind_text(s, ":mac", mac);
    db_bind_text(s, ":chip", a->chip);
    db_bind_text(s, ":package", a->package);
    db_bind_text(s, ":description", a->description);
    if (a->chip[0]) {
        db_bind_i64(s, ":rev_major", a->rev_major);
        db_bind_i64(s, ":rev_minor", a->rev_minor);
    }
    db_bind_i64_nz(s, ":flash_id", a->flash_id);
    db_bind_i64_nz(s, ":flash_size", a->flash_size);
    if (a->flash_status & ST_DB_FLASH_STATUS_KNOWN)
        db_bind_i64(s, ":flash_status", a->flash_status & 0xFFFFFFu);
    else
        db_bind_i64_nz(s, ":flash_status", 0); /* NULL: not read */
    db_bind_text(s, ":phase", db_phase_db_name(a->phase));
}

/* Every column of a; parameters a statement does not name are skipped. */
static void bind_attempt(sqlite3_stmt *s, const st_db_attempt *a, const char *mac, const char *images)
{
    bind_identity(s, a, mac);
    db_bind_i64(s, ":id", a->id);
    DB_BIND_PLACE(s, a, mac);
    db_bind_text(s, ":bridge", a->bridge);
    db_bind_text(s, ":bridge_serial", a->bridge_serial);
    db_bind_text(s, ":profile", a->profile);
    db_bind_text(s, ":images", images);
    db_bind_i64(s, ":baud", a->baud);
    db_bind_i64(s, ":bytes_raw", (int64_t)a->bytes_raw);
    db_bind_i64(s, ":bytes_compressed", (int64_t)a->bytes_compressed);
    db_bind_i64(s, ":connect_ms", a->connect_ms);
    db_bind_i64(s, ":stub_ms", a->stub_ms);
    db_bind_i64(s, ":write_ms", a->write_ms);
    db_bind_i64(s, ":verify_ms", a->verify_ms);
    db_bind_i64(s, ":total_ms", a->total_ms);
    db_bind_i64(s, ":try_no", a->try_no);
    db_bind_text(s, ":outcome", st_db_outcome_name(a->outcome));
    db_bind_failure(s, a->fclass, a->phase, a->status, a->nstatus, a->detail, a->hint);
    db_bind_text(s, ":host", a->host);
    db_bind_text(s, ":operator", a->operator_name);
    db_bind_text(s, ":station_version", a->station_version);
    db_bind_i64(s, ":started_ms", a->started_ms);
    db_bind_i64_nz(s, ":ended_ms", a->ended_ms);
    db_bind_text(s, ":serial", a->serial);
    db_bind_text(s, ":provision", a->provision);
    db_bind_text(s, ":boot", a->boot);
    db_bind_text(s, ":boot_captured", a->boot_captured);
    db_bind_text(s, ":boot_console", a->boot_console);
    db_bind_i64_nz(s, ":duration_ms", a->duration_ms);
    db_bind_i64_nz(s, ":run_started_ms", a->run_started_ms);
    if (a->run_started_ms) /* an offset means nothing without its run */
        db_bind_i64(s, ":run_offset_ms", a->run_offset_ms);
    db_bind_i64(s, ":blocks_repaired", a->blocks_repaired);
    db_bind_i64(s, ":mac_crc_bad", a->mac_crc_bad);
    db_bind_text(s, ":action", a->action);
    db_bind_text(s, ":action_detail", a->action_detail);
}

void db_row_attempt(sqlite3_stmt *s, st_db_attempt *a)
{
    memset(a, 0, sizeof *a);
    int c = DB_COL_PLACE(s, 0, a);
    char buf[32];
    db_col_text(s, c++, a->bridge, sizeof a->bridge);
    db_col_text(s, c++, a->bridge_serial, sizeof a->bridge_serial);
    db_col_text(s, c++, a->chip, sizeof a->chip);
    db_col_text(s, c++, a->package, sizeof a->package);
    db_col_text(s, c++, a->description, sizeof a->description);
    a->rev_major = sqlite3_column_int(s, c++);
    a->rev_minor = sqlite3_column_int(s, c++);
    a->flash_id = (uint32_t)sqlite3_column_int64(s, c++);
    a->flash_size = (uint32_t)sqlite3_column_int64(s, c++);
    db_col_text(s, c++, a->profile, sizeof a->profile);
    images_parse((const char *)sqlite3_column_text(s, c++), a);
    a->baud = sqlite3_column_int(s, c++);
    a->bytes_raw = (uint64_t)sqlite3_column_int64(s, c++);
    a->bytes_compressed = (uint64_t)sqlite3_column_int64(s, c++);
    a->connect_ms = sqlite3_column_int64(s, c++);
    a->stub_ms = sqlite3_column_int64(s, c++);
    a->write_ms = sqlite3_column_int64(s, c++);
    a->verify_ms = sqlite3_column_int64(s, c++);
    a->total_ms = sqlite3_column_int64(s, c++);
    a->try_no = sqlite3_column_int(s, c++);
    db_col_text(s, c++, buf, sizeof buf);
    a->outcome = st_db_outcome_from_name(buf);
    c = DB_COL_FAILURE(s, c, a);
    db_col_text(s, c++, a->host, sizeof a->host);
    db_col_text(s, c++, a->operator_name, sizeof a->operator_name);
    a->started_ms = sqlite3_column_int64(s, c++);
    a->ended_ms = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, a->serial, sizeof a->serial);
    db_col_text(s, c++, a->provision, sizeof a->provision);
    db_col_text(s, c++, a->boot, sizeof a->boot);
    db_col_text(s, c++, a->boot_captured, sizeof a->boot_captured);
    db_col_text(s, c++, a->boot_console, sizeof a->boot_console);
    a->duration_ms = sqlite3_column_int64(s, c++);
    a->run_started_ms = sqlite3_column_int64(s, c++);
    a->run_offset_ms = sqlite3_column_int64(s, c++);
    a->blocks_repaired = sqlite3_column_type(s, c) == SQLITE_NULL ? -1 : sqlite3_column_int(s, c);
    c++;
    a->mac_crc_bad = sqlite3_column_int(s, c++) != 0;
    if (sqlite3_column_type(s, c) != SQLITE_NULL)
        a->flash_status = ST_DB_FLASH_STATUS_KNOWN | ((uint32_t)sqlite3_column_int64(s, c) & 0xFFFFFFu);
    c++;
    db_col_text(s, c++, a->station_version, sizeof a->station_version);
    db_col_text(s, c++, a->hook.result, sizeof a->hook.result);
    a->hook.exit_code = sqlite3_column_int(s, c++);
    a->hook.signal = sqlite3_column_int(s, c++);
    a->hook.duration_ms = sqlite3_column_int64(s, c++);
    db_col_text(s, c++, a->hook.command, sizeof a->hook.command);
    db_col_text(s, c++, a->hook.stderr_head, sizeof a->hook.stderr_head);
    db_col_text(s, c++, a->action, sizeof a->action);
    db_col_text(s, c++, a->action_detail, sizeof a->action_detail);
}

/* ---- units ---------------------------------------------------------------------------- */

int db_unit_touch(st_db *db, const char *mac, const st_db_attempt *a, int64_t t, st_err *err)
{
    sqlite3_stmt *s = db_stmt_sql(
        db, S_UNIT_UPSERT,
        "INSERT INTO units(mac, first_seen_ms, last_seen_ms, chip, package, description,"
        " rev_major, rev_minor, flash_id, flash_size)"
        " VALUES (:mac, :t, :t, :chip, :package, :description, :rev_major, :rev_minor,"
        " :flash_id, :flash_size)"
        " ON CONFLICT(mac) DO UPDATE SET"
        " first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),"
        " last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),"
        " chip = COALESCE(excluded.chip, chip), package = COALESCE(excluded.package, package),"
        " description = COALESCE(excluded.description, description),"
        " rev_major = COALESCE(excluded.rev_major, rev_major),"
        " rev_minor = COALESCE(excluded.rev_minor, rev_minor),"
        " flash_id = COALESCE(excluded.flash_id, flash_id),"
        " flash_size = COALESCE(excluded.flash_size, flash_size)",
        err);
    if (!s)
        return -1;
    if (a)
        bind_identity(s, a, mac);
    else
        db_bind_text(s, ":mac", mac);
    db_bind_i64(s, ":t", t);
    return db_step_write(db, s, err);
}

static int read_unit(void *ctx, sqlite3_stmt *s)
{
    st_db_unit *u = ctx;
    db_col_text(s, 0, u->mac, sizeof u->mac);
    u->first_seen_ms = sqlite3_column_int64(s, 1);
    u->last_seen_ms = sqlite3_column_int64(s, 2);
    db_col_text(s, 3, u->chip, sizeof u->chip);
    db_col_text(s, 4, u->package, sizeof u->package);
    db_col_text(s, 5, u->description, sizeof u->description);
    u->rev_major = sqlite3_column_int(s, 6);
    u->rev_minor = sqlite3_column_int(s, 7);
    u->flash_id = (uint32_t)sqlite3_column_int64(s, 8);
    u->flash_size = (uint32_t)sqlite3_column_int64(s, 9);
    return 0;
}

int st_db_unit_get(st_db *db, const char *mac, st_db_unit *u, bool *found, st_err *err)
{
    char m[18];
    *found = false;
    memset(u, 0, sizeof *u);
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    sqlite3_stmt *s = db_stmt_sql(db, S_UNIT_GET,
                                  "SELECT mac, first_seen_ms, last_seen_ms, chip, package, description,"
                                  " rev_major, rev_minor, flash_id, flash_size FROM units WHERE mac = :mac",
                                  err);
    if (!s)
        return -1;
    db_bind_text(s, ":mac", m);
    int rc = db_step_one(db, s, read_unit, u, err);
    *found = rc == 1;
    return rc < 0 ? -1 : 0;
}

/* ---- attempts --------------------------------------------------------------------------- */

/* a->mac normalized into mac ("" stays ""). */
static int attempt_mac(st_db *db, const st_db_attempt *a, char mac[18], st_err *err)
{
    mac[0] = '\0';
    if (!a->mac[0])
        return 0;
    if (st_db_mac_normalize(a->mac, mac, err) < 0) {
        st_err_wrap(err, "attempt %lld on slot %s (database %s)", (long long)a->id,
                    *a->slot_name ? a->slot_name : "?", db->path);
        return -1;
    }
    return 0;
}

/* The attempt is missing or finished: say which. */
static int not_in_progress(st_db *db, int64_t id, st_err *err)
{
    st_db_attempt cur;
    st_err e2;
    if (st_db_attempt_get(db, id, &cur, &e2) < 0)
        return db_fail_arg(db, err, "attempt %lld does not exist", (long long)id);
    return db_fail_arg(db, err, "attempt %lld is not in progress (it is '%s')", (long long)id,
                       st_db_outcome_name(cur.outcome));
}

/* Inside the caller's savepoint: record the unit (when mac is known) as seen at t, then
 * run write statement `id` with every column of a bound. An UPDATE that finds the attempt
 * no longer in progress changes no row, and fails saying why. */
static int attempt_write(st_db *db, db_stmt_id id, const char *sql, const st_db_attempt *a,
                         const char *mac, const char *images, int64_t t, st_err *err)
{
    if (mac[0] && db_unit_touch(db, mac, a, t, err) < 0)
        return -1;
    sqlite3_stmt *s = db_stmt_sql(db, id, sql, err);
    if (!s)
        return -1;
    bind_attempt(s, a, mac, images);
    if (db_step_write(db, s, err) < 0)
        return -1;
    return sqlite3_changes(db->h) ? 0 : not_in_progress(db, a->id, err);
}

/* Inside the caller's savepoint, after a finished attempt was written: a pass resolves
 * the unit's bin entries, a failure bins it (when asked), from the row as stored. */
static int attempt_settle(st_db *db, const st_db_attempt *a, const char *mac, bool bin_on_fail,
                          st_err *err)
{
    st_db_attempt stored;
    if (st_db_attempt_get(db, a->id, &stored, err) < 0)
        return -1;
    /* the row as stored carries the MAC set_unit recorded when a lacks it */
    if (!mac[0] && stored.mac[0] && db_unit_touch(db, stored.mac, NULL, a->ended_ms, err) < 0)
        return -1;
    if (stored.action[0])
        return 0; /* identify, read, erase, unprotect: no flash, no verdict on the unit */
    if (a->outcome == ST_DB_PASS)
        return db_bin_resolve_for_pass(db, &stored, err);
    return bin_on_fail ? db_bin_record_attempt(db, &stored, err) : 0;
}

/* One write of an attempt: statement `stmt` (sql), with the images or not; a finishing
 * write also settles the retry bin. */
typedef struct {
    db_stmt_id stmt;
    const char *sql;
    bool images;
    bool settle;
    bool bin_on_fail;
} attempt_op;

/* op on attempt a (its unit seen at t) in one savepoint: it lands whole or not at all.
 * rowid (may be NULL) receives an INSERT's row id. */
static int attempt_save(st_db *db, const attempt_op *op, const st_db_attempt *a, int64_t t,
                        int64_t *rowid, st_err *err)
{
    char mac[18], *images = NULL;
    if (attempt_mac(db, a, mac, err) < 0 || (op->images && images_json(db, a, &images, err) < 0) ||
        db_wbegin(db, err) < 0) {
        free(images);
        return -1;
    }
    int rc;
    for (int round = 0;; round++) {
        rc = attempt_write(db, op->stmt, op->sql, a, mac, images, t, err);
        if (rc == 0 && rowid)
            *rowid = sqlite3_last_insert_rowid(db->h);
        if (rc == 0 && op->settle)
            rc = attempt_settle(db, a, mac, op->bin_on_fail, err);
        if (rc == 0)
            rc = db_wcommit(db, err);
        if (rc == 0)
            break;
        db_wrollback(db);
        /* a full disk: the WAL may hold what a checkpoint gives back */
        if (round > 0 || !db_retry_after_full(db) || db_wbegin(db, err) < 0)
            break;
    }
    free(images);
    return rc;
}

/* What detect learns, for the UPDATEs: a value left unknown keeps the stored one. */
#define ATT_SET_IDENTITY                                                                       \
    "mac = COALESCE(:mac, mac), chip = COALESCE(:chip, chip),"                                 \
    " package = COALESCE(:package, package), description = COALESCE(:description, description)," \
    " rev_major = COALESCE(:rev_major, rev_major), rev_minor = COALESCE(:rev_minor, rev_minor),"  \
    " flash_id = COALESCE(:flash_id, flash_id), flash_size = COALESCE(:flash_size, flash_size),"  \
    " flash_status = COALESCE(:flash_status, flash_status), phase = COALESCE(:phase, phase)"

int st_db_attempt_begin(st_db *db, st_db_attempt *a, st_err *err)
{
    static const attempt_op op = {
        .stmt = S_ATT_INSERT,
        .sql = "INSERT INTO attempts(mac, slot_name, slot, port, bridge, bridge_vid, bridge_pid,"
               " bridge_serial, chip, package, description, rev_major, rev_minor, flash_id, flash_size,"
               " flash_status, profile, images, baud, bytes_raw, bytes_compressed, connect_ms, stub_ms, write_ms,"
               " verify_ms, total_ms, try_no, outcome, fclass, phase, status, detail, hint, host,"
               " operator, station_version, started_ms, ended_ms, run_started_ms, run_offset_ms, action)"
               " VALUES (:mac, :slot_name, :slot, :port, :bridge, :bridge_vid, :bridge_pid, :bridge_serial,"
               " :chip, :package, :description, :rev_major, :rev_minor, :flash_id, :flash_size,"
               " :flash_status, :profile,"
               " :images, :baud, :bytes_raw, :bytes_compressed, :connect_ms, :stub_ms, :write_ms,"
               " :verify_ms, :total_ms, :try_no, 'in_progress', :fclass, :phase, :status, :detail, :hint,"
               " :host, :operator, :station_version, :started_ms, NULL, :run_started_ms, :run_offset_ms, :action)",
        .images = true,
    };
    char mac[18];
    if (attempt_mac(db, a, mac, err) < 0)
        return -1;
    memcpy(a->mac, mac, sizeof mac);
    if (!a->started_ms)
        a->started_ms = st_db_now_ms();
    if (!a->host[0])
        snprintf(a->host, sizeof a->host, "%s", db->host);
    /* every attempt says who and what flashed it, whoever the caller */
    if (!a->operator_name[0])
        st_who_operator(NULL, a->operator_name, sizeof a->operator_name);
    if (!a->station_version[0])
        snprintf(a->station_version, sizeof a->station_version, "%s", st_who_version());
    if (!a->slot_name[0])
        snprintf(a->slot_name, sizeof a->slot_name, "slot%d", a->slot);
    a->outcome = ST_DB_IN_PROGRESS;
    a->ended_ms = 0;
    int64_t id;
    if (attempt_save(db, &op, a, a->started_ms, &id, err) < 0) {
        st_err_wrap(err, "recording the start of the attempt on slot %s", a->slot_name);
        return -1;
    }
    a->id = id;
    return 0;
}

int st_db_attempt_set_unit(st_db *db, const st_db_attempt *a, st_err *err)
{
    static const attempt_op op = {
        .stmt = S_ATT_SET_UNIT,
        .sql = "UPDATE attempts SET " ATT_SET_IDENTITY " WHERE id = :id AND outcome = 'in_progress'",
    };
    if (attempt_save(db, &op, a, a->started_ms ? a->started_ms : st_db_now_ms(), NULL, err) < 0) {
        st_err_wrap(err, "recording the unit of attempt %lld", (long long)a->id);
        return -1;
    }
    return 0;
}

int st_db_attempt_finish(st_db *db, st_db_attempt *a, bool bin_on_fail, st_err *err)
{
    if (a->outcome != ST_DB_PASS && a->outcome != ST_DB_FAIL && a->outcome != ST_DB_INTERRUPTED)
        return db_fail_arg(db, err, "attempt %lld finished with outcome '%s'", (long long)a->id,
                           st_db_outcome_name(a->outcome));
    const attempt_op op = {
        .stmt = S_ATT_FINISH,
        .sql = "UPDATE attempts SET " ATT_SET_IDENTITY ","
               " port = COALESCE(:port, port), bridge = COALESCE(:bridge, bridge),"
               " bridge_vid = COALESCE(:bridge_vid, bridge_vid),"
               " bridge_pid = COALESCE(:bridge_pid, bridge_pid),"
               " bridge_serial = COALESCE(:bridge_serial, bridge_serial),"
               " profile = COALESCE(:profile, profile),"
               " images = COALESCE(:images, images), baud = :baud, bytes_raw = :bytes_raw,"
               " bytes_compressed = :bytes_compressed, connect_ms = :connect_ms, stub_ms = :stub_ms,"
               " write_ms = :write_ms, verify_ms = :verify_ms, total_ms = :total_ms, try_no = :try_no,"
               " outcome = :outcome, fclass = :fclass, status = :status,"
               " detail = :detail, hint = :hint, operator = COALESCE(:operator, operator),"
               " station_version = COALESCE(:station_version, station_version),"
               " ended_ms = :ended_ms, serial = COALESCE(:serial, serial),"
               " provision = COALESCE(:provision, provision), boot = :boot,"
               " boot_captured = :boot_captured, boot_console = :boot_console,"
               " duration_ms = :duration_ms,"
               " run_started_ms = COALESCE(:run_started_ms, run_started_ms),"
               " run_offset_ms = COALESCE(:run_offset_ms, run_offset_ms),"
               " blocks_repaired = :blocks_repaired, mac_crc_bad = :mac_crc_bad,"
               " action_detail = :action_detail"
               " WHERE id = :id AND outcome = 'in_progress'",
        .images = true,
        .settle = true,
        .bin_on_fail = bin_on_fail,
    };
    if (!a->ended_ms)
        a->ended_ms = st_db_now_ms();
    if (attempt_save(db, &op, a, a->ended_ms, NULL, err) < 0) {
        st_err_wrap(err, "recording the end of attempt %lld", (long long)a->id);
        return -1;
    }
    return 0;
}

/* What try 1 learned about the unit holds for its later tries: they start with it. */
static void inherit_identity(st_db_attempt *next, const st_db_attempt *prev)
{
    if (next->mac[0] || !prev->mac[0])
        return;
    memcpy(next->mac, prev->mac, sizeof next->mac);
    if (next->chip[0])
        return;
    memcpy(next->chip, prev->chip, sizeof next->chip);
    memcpy(next->package, prev->package, sizeof next->package);
    memcpy(next->description, prev->description, sizeof next->description);
    next->rev_major = prev->rev_major;
    next->rev_minor = prev->rev_minor;
    if (!next->flash_id)
        next->flash_id = prev->flash_id;
    if (!next->flash_size)
        next->flash_size = prev->flash_size;
    if (!next->flash_status)
        next->flash_status = prev->flash_status;
}

int st_db_attempt_retry(st_db *db, st_db_attempt *done, st_db_attempt *next, st_err *err)
{
    if (done->outcome != ST_DB_FAIL)
        return db_fail_arg(db, err, "attempt %lld is retried with outcome '%s' (only a failed try is)",
                           (long long)done->id, st_db_outcome_name(done->outcome));
    st_db_attempt stored;
    int rc;
    for (int round = 0;; round++) {
        if (db_wbegin(db, err) < 0)
            return -1;
        db->nested++;
        rc = st_db_attempt_finish(db, done, false, err);
        if (rc == 0)
            rc = st_db_attempt_get(db, done->id, &stored, err);
        if (rc == 0) {
            inherit_identity(next, &stored);
            if (!next->slot_name[0])
                memcpy(next->slot_name, stored.slot_name, sizeof next->slot_name);
            rc = st_db_attempt_begin(db, next, err);
        }
        db->nested--;
        if (rc == 0)
            rc = db_wcommit(db, err);
        if (rc == 0)
            break;
        db_wrollback(db);
        if (round > 0 || !db_retry_after_full(db))
            break;
    }
    if (rc < 0) {
        next->id = 0;
        st_err_wrap(err, "recording try %d after the failed attempt %lld", next->try_no,
                    (long long)done->id);
    }
    return rc;
}

static int read_attempt(void *ctx, sqlite3_stmt *s)
{
    db_row_attempt(s, ctx);
    return 0;
}

int st_db_attempt_get(st_db *db, int64_t id, st_db_attempt *a, st_err *err)
{
    sqlite3_stmt *s =
        db_stmt_sql(db, S_ATT_GET, "SELECT " DB_ATTEMPT_COLS " FROM attempts WHERE id = :id", err);
    if (!s)
        return -1;
    db_bind_i64(s, ":id", id);
    int rc = db_step_one(db, s, read_attempt, a, err);
    if (rc == 0)
        db_fail_arg(db, err, "attempt %lld does not exist", (long long)id);
    return rc == 1 ? 0 : -1;
}

/* ---- crash recovery ----------------------------------------------------------------------- */

typedef struct {
    int64_t *v;
    size_t n, cap;
    bool oom;
} id_list;

static int collect_id(void *ctx, sqlite3_stmt *s)
{
    id_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        int64_t *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return l->oom = true;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = sqlite3_column_int64(s, 0);
    return 0;
}

int db_recover(st_db *db, st_err *err)
{
    id_list l = {0};
    sqlite3_stmt *s = db_prepare(db, "SELECT id FROM attempts WHERE outcome = 'in_progress' ORDER BY id", err);
    int rc = db_each_row(db, s, collect_id, &l, err);
    if (rc == 0 && l.oom)
        rc = db_fail_arg(db, err, "out of memory");
    int64_t *ids = l.v;
    size_t n = l.n;
    if (rc < 0 || !n) {
        free(ids);
        return rc;
    }

    char now[32];
    st_db_format_time(st_db_now_ms(), now, sizeof now);
    sqlite3_stmt *u = NULL;
    if (db_wbegin(db, err) < 0)
        goto fail;
    u = db_prepare(db,
                   "UPDATE attempts SET outcome = 'interrupted', fclass = 'interrupted',"
                   " detail = 'the station stopped (crash or power loss) during phase '"
                   "   || COALESCE(phase, 'unknown') || '; found unfinished when the database was opened at '"
                   "   || :now,"
                   " hint = :hint WHERE id = :id AND outcome = 'in_progress'",
                   err);
    if (!u)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        db_bind_text(u, ":now", now);
        db_bind_text(u, ":hint", st_fclass_hint(ST_FC_INTERRUPTED));
        db_bind_i64(u, ":id", ids[i]);
        st_db_attempt a;
        if (db_step_write(db, u, err) < 0 || st_db_attempt_get(db, ids[i], &a, err) < 0 ||
            (!a.action[0] && db_bin_record_attempt(db, &a, err) < 0))
            goto rollback;
    }
    sqlite3_finalize(u);
    u = NULL;
    if (db_wcommit(db, err) < 0)
        goto rollback;
    db->recovered = (int)n;
    free(ids);
    return 0;
rollback:
    sqlite3_finalize(u);
    db_wrollback(db);
fail:
    free(ids);
    st_err_wrap(err, "marking %zu unfinished attempt%s interrupted", n, n == 1 ? "" : "s");
    return -1;
}

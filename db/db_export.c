/* db_export.c - attempts and bin entries out as CSV (RFC 4180) or JSON lines, for
 * spreadsheets and for machines. One row description per record feeds both formats and
 * every command that prints records (export, retry-bin, audit), so their columns cannot
 * drift apart. */
#include "db_internal.h"
#include "text.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    K_STR,     /* text, null when "" */
    K_INT,     /* integer */
    K_INT_NZ,  /* integer, null when 0 */
    K_RAW,     /* csv text in s, JSON value in j (owned by the field list) */
} fkind;

typedef struct {
    const char *key;
    fkind kind;
    const char *s;
    int64_t i;
    json_t *j;
} fld;

/* A text cell: control characters become spaces (a device string must not drive the
 * terminal that cats the file), a cell a spreadsheet would run as a formula gets a
 * leading single quote, then RFC 4180 quoting. */
static void csv_cell(FILE *f, const char *raw)
{
    char buf[1024];
    /* cleaned first: a control character ahead of '=' must not hide the formula */
    snprintf(buf, sizeof buf, "'%s", raw);
    char *s = st_text_clean_cell(buf + 1);
    if (st_text_is_formula(s))
        s = buf;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_header(FILE *f, const fld *fl, int n)
{
    for (int i = 0; i < n; i++) {
        fputs(i ? "," : "", f);
        csv_cell(f, fl[i].key);
    }
    fputs("\r\n", f);
}

static void fields_free(fld *fl, int n)
{
    for (int i = 0; i < n; i++) {
        json_decref(fl[i].j);
        fl[i].j = NULL;
    }
}

/* Write one record (and, first, the CSV header); frees the K_RAW JSON values. */
static int emit(FILE *f, st_db_format fmt, fld *fl, int n, bool header, st_err *err)
{
    if (fmt == ST_DB_CSV) {
        if (header)
            csv_header(f, fl, n);
        for (int i = 0; i < n; i++) {
            fputs(i ? "," : "", f);
            switch (fl[i].kind) {
            case K_STR:
            case K_RAW:
                csv_cell(f, fl[i].s ? fl[i].s : "");
                break;
            case K_INT:
                fprintf(f, "%lld", (long long)fl[i].i);
                break;
            case K_INT_NZ:
                if (fl[i].i)
                    fprintf(f, "%lld", (long long)fl[i].i);
                break;
            }
        }
        fputs("\r\n", f);
        fields_free(fl, n);
        return db_export_check(f, err);
    }
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        json_t *v;
        switch (fl[i].kind) {
        case K_STR:
            v = (fl[i].s && *fl[i].s) ? json_string(fl[i].s) : json_null();
            break;
        case K_INT:
            v = json_integer(fl[i].i);
            break;
        case K_INT_NZ:
            v = fl[i].i ? json_integer(fl[i].i) : json_null();
            break;
        default:
            v = fl[i].j ? fl[i].j : json_null();
            fl[i].j = NULL;
            break;
        }
        /* a string that is not valid UTF-8 (a stray byte in a device reply) must not drop
         * the whole record: keep the row, mark the field */
        json_object_set_new(o, fl[i].key, v ? v : json_string("(not UTF-8)"));
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line) {
        st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory writing a JSON line");
        return -1;
    }
    fputs(line, f);
    fputc('\n', f);
    free(line);
    return db_export_check(f, err);
}

/* Text renderings a field list points into; lives as long as the list. */
typedef struct {
    char b[7][64];
    char imgs[ST_DB_MAX_IMAGES * 80];
} row_bufs;

#define MAX_FIELDS 60 /* an attempt has 55, plus "kind" */

/* A record's field list: rec is an st_db_attempt or an st_db_bin_entry. */
typedef int (*fields_fn)(const void *rec, const char *kind, fld *fl, row_bufs *rb);

#define F(k, kind_, ...) fl[n++] = (fld){.key = k, .kind = kind_, __VA_ARGS__}

static int attempt_fields(const void *rec, const char *kind, fld *fl, row_bufs *rb)
{
    const st_db_attempt *a = rec;
    int n = 0;
    char *vidpid = rb->b[0], *rev = rb->b[1], *fid = rb->b[2], *st = rb->b[3], *t0 = rb->b[4],
         *t1 = rb->b[5], *trun = rb->b[6], *imgs = rb->imgs;
    vidpid[0] = rev[0] = fid[0] = '\0';
    if (a->vid || a->pid)
        snprintf(vidpid, 64, "%04x:%04x", a->vid, a->pid);
    if (a->chip[0])
        snprintf(rev, 64, "v%d.%d", a->rev_major, a->rev_minor);
    if (a->flash_id)
        snprintf(fid, 64, "0x%06x", a->flash_id);
    db_status_hex(a->status, a->nstatus, st, 64);
    st_db_format_time(a->started_ms, t0, 64);
    st_db_format_time(a->ended_ms, t1, 64);
    st_db_format_time(a->run_started_ms, trun, 64);

    /* images: "0x1000=sha;0x8000=sha" in a CSV cell, an array of objects in JSON */
    size_t used = 0;
    imgs[0] = '\0';
    json_t *ja = json_array();
    for (int i = 0; i < a->nimages; i++) {
        used += (size_t)snprintf(imgs + used, sizeof rb->imgs - used, "%s0x%x=%s", i ? ";" : "",
                                 a->images[i].offset, a->images[i].sha256);
        json_array_append_new(ja, json_pack("{s:I,s:s}", "offset", (json_int_t)a->images[i].offset,
                                            "sha256", a->images[i].sha256));
    }

    if (kind)
        F("kind", K_STR, .s = kind);
    F("id", K_INT, .i = a->id);
    F("mac", K_STR, .s = a->mac);
    F("slot", K_INT, .i = a->slot);
    F("port", K_STR, .s = a->port);
    F("bridge", K_STR, .s = a->bridge);
    F("vid_pid", K_STR, .s = vidpid);
    F("bridge_serial", K_STR, .s = a->bridge_serial);
    F("chip", K_STR, .s = a->chip);
    F("package", K_STR, .s = a->package);
    F("description", K_STR, .s = a->description);
    F("revision", K_STR, .s = rev);
    F("flash_id", K_STR, .s = fid);
    F("flash_size", K_INT_NZ, .i = a->flash_size);
    F("profile", K_STR, .s = a->profile);
    F("images", K_RAW, .s = imgs, .j = ja);
    F("baud", K_INT_NZ, .i = a->baud);
    F("bytes_raw", K_INT, .i = (int64_t)a->bytes_raw);
    F("bytes_compressed", K_INT, .i = (int64_t)a->bytes_compressed);
    F("connect_ms", K_INT, .i = a->connect_ms);
    F("stub_ms", K_INT, .i = a->stub_ms);
    F("write_ms", K_INT, .i = a->write_ms);
    F("verify_ms", K_INT, .i = a->verify_ms);
    F("total_ms", K_INT, .i = a->total_ms);
    F("try_no", K_INT, .i = a->try_no);
    F("outcome", K_STR, .s = st_db_outcome_name(a->outcome));
    F("fclass", K_STR, .s = a->fclass ? st_fclass_name(a->fclass) : "");
    F("phase", K_STR, .s = a->phase ? st_phase_name(a->phase) : "");
    F("status", K_STR, .s = st);
    F("detail", K_STR, .s = a->detail);
    F("hint", K_STR, .s = a->hint);
    F("host", K_STR, .s = a->host);
    F("operator", K_STR, .s = a->operator_name);
    F("started", K_STR, .s = t0);
    F("ended", K_STR, .s = t1);
    F("slot_name", K_STR, .s = a->slot_name);
    F("serial", K_STR, .s = a->serial);
    F("provision", K_STR, .s = a->provision);
    F("boot", K_STR, .s = a->boot);
    F("boot_captured", K_STR, .s = a->boot_captured);
    F("boot_console", K_STR, .s = a->boot_console);
    F("duration_ms", K_INT_NZ, .i = a->duration_ms);
    F("run_started", K_STR, .s = trun);
    if (a->run_started_ms) /* 0 is an offset (a run's first attempt); without a run, none */
        F("run_offset_ms", K_INT, .i = a->run_offset_ms);
    else
        F("run_offset_ms", K_INT_NZ, .i = 0);
    F("blocks_repaired", K_INT, .i = a->blocks_repaired);
    F("mac_crc_bad", K_INT, .i = a->mac_crc_bad);
    /* SR1 | SR2 << 8 | SR3 << 16 as read at detect; null when not read */
    if (a->flash_status & ST_DB_FLASH_STATUS_KNOWN)
        F("flash_status", K_INT, .i = a->flash_status & 0xFFFFFFu);
    else
        F("flash_status", K_INT_NZ, .i = 0);
    F("station_version", K_STR, .s = a->station_version);
    /* the on-result command given this result, when it failed (schema v12); null else */
    bool hook_exit = !strcmp(a->hook.result, "exit");
    F("hook_result", K_STR, .s = a->hook.result);
    if (hook_exit)
        F("hook_exit", K_INT, .i = a->hook.exit_code);
    else
        F("hook_exit", K_INT_NZ, .i = 0);
    F("hook_signal", K_INT_NZ, .i = a->hook.signal);
    if (a->hook.result[0])
        F("hook_ms", K_INT, .i = a->hook.duration_ms);
    else
        F("hook_ms", K_INT_NZ, .i = 0);
    F("hook_command", K_STR, .s = a->hook.command);
    F("hook_stderr", K_STR, .s = a->hook.stderr_head);
    F("action", K_STR, .s = *a->action ? a->action : "flash");
    F("action_detail", K_STR, .s = a->action_detail);
    return n;
}

static int bin_fields(const void *rec, const char *kind, fld *fl, row_bufs *rb)
{
    const st_db_bin_entry *e = rec;
    int n = 0;
    char *vidpid = rb->b[0], *st = rb->b[1], *t0 = rb->b[2], *t1 = rb->b[3], *tr = rb->b[4];
    vidpid[0] = '\0';
    if (e->vid || e->pid)
        snprintf(vidpid, 64, "%04x:%04x", e->vid, e->pid);
    db_status_hex(e->status, e->nstatus, st, 64);
    st_db_format_time(e->first_fail_ms, t0, 64);
    st_db_format_time(e->last_fail_ms, t1, 64);
    st_db_format_time(e->resolved_ms, tr, 64);
    if (kind)
        F("kind", K_STR, .s = kind);
    F("id", K_INT, .i = e->id);
    F("mac", K_STR, .s = e->mac);
    F("slot", K_INT, .i = e->slot);
    F("port", K_STR, .s = e->port);
    F("fclass", K_STR, .s = e->fclass ? st_fclass_name(e->fclass) : "");
    F("phase", K_STR, .s = e->phase ? st_phase_name(e->phase) : "");
    F("status", K_STR, .s = st);
    F("detail", K_STR, .s = e->detail);
    F("hint", K_STR, .s = e->hint);
    F("vid_pid", K_STR, .s = vidpid);
    F("attempts", K_INT, .i = e->attempts);
    F("first_fail", K_STR, .s = t0);
    F("last_fail", K_STR, .s = t1);
    F("last_attempt_id", K_INT_NZ, .i = e->last_attempt_id);
    F("resolved", K_STR, .s = tr);
    F("resolved_by", K_INT_NZ, .i = e->resolved_by);
    F("slot_name", K_STR, .s = e->slot_name);
    F("closed_reason", K_STR, .s = e->closed_reason);
    F("closed_by", K_STR, .s = e->closed_by);
    F("closed_host", K_STR, .s = e->closed_host);
    return n;
}

#undef F

/* One record (rec NULL: the CSV header alone, from an empty record's field names). */
static int write_rec(FILE *f, st_db_format fmt, fields_fn fields, const void *rec, const char *kind,
                     bool header, st_err *err)
{
    static const union {
        st_db_attempt a;
        st_db_bin_entry b;
    } none;
    fld fl[MAX_FIELDS];
    row_bufs rb;
    int n = fields(rec ? rec : &none, kind, fl, &rb);
    if (rec)
        return emit(f, fmt, fl, n, header, err);
    if (fmt == ST_DB_CSV && header)
        csv_header(f, fl, n);
    fields_free(fl, n);
    return db_export_check(f, err);
}

int st_db_write_attempt(FILE *f, st_db_format fmt, const st_db_attempt *a, const char *kind,
                        bool header, st_err *err)
{
    return write_rec(f, fmt, attempt_fields, a, kind, header, err);
}

int st_db_write_bin(FILE *f, st_db_format fmt, const st_db_bin_entry *e, const char *kind, bool header,
                    st_err *err)
{
    return write_rec(f, fmt, bin_fields, e, kind, header, err);
}

/* ---- whole exports ------------------------------------------------------------------- */

typedef struct {
    db_cb cb;
    st_db_attempt *a; /* one row buffer for the whole listing (the struct is kilobytes) */
} range_ctx;

static int range_row(void *ctx, sqlite3_stmt *s)
{
    range_ctx *c = ctx;
    db_row_attempt(s, c->a);
    return c->cb.fn.attempt(c->cb.user, c->a);
}

int st_db_attempts_range(st_db *db, int64_t from_ms, int64_t to_ms, st_db_attempt_fn fn,
                         void *user, st_err *err)
{
    range_ctx c = {{.fn.attempt = fn, .user = user}, malloc(sizeof *c.a)};
    if (!c.a)
        return db_fail_arg(db, err, "out of memory");
    int rc = db_range_rows(db,
                           "SELECT " DB_ATTEMPT_COLS " FROM attempts"
                           " WHERE started_ms >= :from AND started_ms < :to"
                           " ORDER BY started_ms, id",
                           from_ms, to_ms, range_row, &c, err);
    free(c.a);
    return rc;
}

typedef struct {
    FILE *f;
    st_db_format fmt;
    fields_fn fields;
    bool header;  /* no row written yet */
    bool failed;
    st_err *err;
} export_ctx;

static int export_rec(export_ctx *x, const void *rec)
{
    if (write_rec(x->f, x->fmt, x->fields, rec, NULL, x->header, x->err) < 0) {
        x->failed = true;
        return 1;
    }
    x->header = false;
    return 0;
}

static int export_attempt(void *user, const st_db_attempt *a)
{
    return export_rec(user, a);
}

static int export_bin(void *user, const st_db_bin_entry *e)
{
    return export_rec(user, e);
}

/* After the rows (listing result rc): no rows still gives a spreadsheet its columns. */
static int export_end(export_ctx *x, int rc)
{
    if (rc < 0 || x->failed)
        return -1;
    if (x->header && write_rec(x->f, x->fmt, x->fields, NULL, NULL, true, x->err) < 0)
        return -1;
    fflush(x->f);
    return db_export_check(x->f, x->err);
}

int st_db_export_attempts(st_db *db, FILE *f, st_db_format fmt, int64_t from_ms, int64_t to_ms,
                          st_err *err)
{
    export_ctx x = {f, fmt, attempt_fields, true, false, err};
    return export_end(&x, st_db_attempts_range(db, from_ms, to_ms, export_attempt, &x, err));
}

int st_db_bin_export(st_db *db, FILE *f, st_db_format fmt, bool include_resolved, st_err *err)
{
    export_ctx x = {f, fmt, bin_fields, true, false, err};
    return export_end(&x, st_db_bin_list(db, include_resolved, export_bin, &x, err));
}

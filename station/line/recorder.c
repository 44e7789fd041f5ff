/* recorder.c - the designated database writer (recorder.h). */
#include "recorder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_fill.h"
#include "provision.h"

struct st_recorder {
    st_events *ev;
    st_db *db;               /* used by the writer thread only once it runs */
    pthread_t thread;
    atomic_int failures;
    uint64_t open_bin;       /* open bin entries at the last refresh */
    bool disk_warned;        /* the low-disk warning is up */
};

/* ---- st_rec_attempt -> st_db_attempt ---- */

static st_db_outcome db_outcome(st_outcome o)
{
    switch (o) {
    case ST_OUT_PASS: return ST_DB_PASS;
    case ST_OUT_FAIL: return ST_DB_FAIL;
    case ST_OUT_INTERRUPTED: return ST_DB_INTERRUPTED;
    default: return ST_DB_IN_PROGRESS;
    }
}

static void to_db(const st_rec_attempt *a, st_db_attempt *d)
{
    memset(d, 0, sizeof *d);
    d->id = a->id;
    snprintf(d->slot_name, sizeof d->slot_name, "%s", a->slot);
    d->slot = a->slot_no;
    snprintf(d->port, sizeof d->port, "%s", a->port);
    snprintf(d->bridge, sizeof d->bridge, "%s", a->bridge);
    d->vid = a->vid;
    d->pid = a->pid;
    snprintf(d->bridge_serial, sizeof d->bridge_serial, "%s", a->usb_serial);
    snprintf(d->profile, sizeof d->profile, "%s", a->profile);
    d->nimages = a->n_images < ST_DB_MAX_IMAGES ? a->n_images : ST_DB_MAX_IMAGES;
    for (int i = 0; i < d->nimages; i++) {
        d->images[i].offset = a->img_offset[i];
        memcpy(d->images[i].sha256, a->img_sha256[i], sizeof d->images[i].sha256);
    }
    d->baud = a->baud;
    d->try_no = a->try_no;
    d->outcome = db_outcome(a->outcome);
    snprintf(d->host, sizeof d->host, "%s", a->host);
    snprintf(d->operator_name, sizeof d->operator_name, "%s", a->operator_name);
    d->started_ms = st_db_ms(a->started);
    d->ended_ms = st_db_ms(a->ended);
    d->duration_ms = st_db_ms(a->duration);
    d->run_started_ms = st_db_ms(a->run_started);
    d->run_offset_ms = st_db_ms(a->run_offset);

    if (a->rep.chip_known)
        st_db_attempt_set_chip(d, &a->rep.chip);
    st_db_attempt_set_counts(d, &a->rep);
    if (a->outcome == ST_OUT_PASS)
        d->phase = ST_PH_DONE;
    else if (a->err.cat != ST_E_NONE)
        st_db_attempt_set_err(d, &a->err);
    snprintf(d->serial, sizeof d->serial, "%s", a->serial);
    snprintf(d->provision, sizeof d->provision, "%s", a->provision);
    snprintf(d->action, sizeof d->action, "%s", a->action);
    snprintf(d->action_detail, sizeof d->action_detail, "%s", a->action_detail);
    const st_boot_result *b = &a->rep.boot;
    if (b->checked && (b->passed || a->err.fclass == ST_FC_NO_BOOT)) {
        snprintf(d->boot, sizeof d->boot, "%s", b->passed ? "pass" : "no_boot");
        snprintf(d->boot_captured, sizeof d->boot_captured, "%s", b->captured);
        if (!b->passed)
            snprintf(d->boot_console, sizeof d->boot_console, "%s", b->console);
    }
}

/* ---- retry-bin mirror ---- */

typedef struct {
    st_events *ev;
    st_bin_view v[ST_VIEW_BIN];
    int n;
    uint64_t total;      /* open entries */
    uint64_t elsewhere;  /* of those, passed on another station since (not waiting here) */
} bin_collect;

static int collect_bin(void *user, const st_db_bin_entry *b)
{
    bin_collect *c = user;
    c->total++;
    if (st_events_bin_elsewhere(c->ev, b->id, b->last_fail_ms)) {
        c->elsewhere++;
        return 0;
    }
    if (c->n < ST_VIEW_BIN) {
        st_bin_view *v = &c->v[c->n++];
        memset(v, 0, sizeof *v);
        snprintf(v->mac, sizeof v->mac, "%s", b->mac);
        snprintf(v->slot, sizeof v->slot, "%s", b->slot_name);
        v->fclass = b->fclass;
        v->phase = b->phase;
        v->attempts = b->attempts;
        snprintf(v->hint, sizeof v->hint, "%s", b->hint);
    }
    return 0;
}

/* Reload the mirror from the store, leaving out the entries whose unit passed on another
 * station (st_events_bin_elsewhere); returns the number of open entries (or the previous
 * count when the store cannot be read). */
static uint64_t refresh_bin(st_recorder *r)
{
    bin_collect *c = calloc(1, sizeof *c);
    st_err err;
    if (!c)
        return r->open_bin;
    c->ev = r->ev;
    if (st_db_bin_list(r->db, false, collect_bin, c, &err) == 0) {
        st_events_bin_replace(r->ev, c->v, c->n, c->total - c->elsewhere, c->elsewhere);
        r->open_bin = c->total;
    } else {
        st_events_post(r->ev, ST_EV_INFO, NULL, NULL, 0, ST_PH_DB, ST_FC_CONFIG,
                       "cannot read the retry bin: %s", err.msg);
    }
    free(c);
    return r->open_bin;
}

/* ---- disk space ---- */

void st_recorder_space_text(const st_db_space_info *s, const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 1;
    snprintf(out, cap, "disk low: %.1f MB free on %.*s, room for ~%lld attempts%s",
             s->free_bytes / 1e6, dl, slash ? path : ".", (long long)s->attempts_room,
             s->reserve ? "" : " (space reserve used)");
}

int st_recorder_room_ok(st_db *db, st_err *err)
{
    st_db_space_info s;
    if (st_db_space(db, &s, err) < 0)
        return -1;
    if (s.attempts_room >= ST_DB_ROOM_MIN_ATTEMPTS)
        return 0;
    char text[160];
    st_recorder_space_text(&s, st_db_path(db), text, sizeof text);
    st_err_set(err, ST_E_DB, ST_PH_DB, "cannot record attempts in %s: %s", st_db_path(db), text);
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "free space on that disk (the records written so far are intact and can "
                            "be exported), or set STATION_DB to a disk with room");
}

/* After every final write: warn in the header (and once as an event) while the
 * store's disk is running out of room for the next attempts. */
static void check_space(st_recorder *r)
{
    st_db_space_info s;
    st_err err;
    if (st_db_space(r->db, &s, &err) < 0)
        return;
    bool low = s.attempts_room < ST_DB_ROOM_WARN_ATTEMPTS || !s.reserve;
    if (!low) {
        if (r->disk_warned)
            st_events_set_disk_warning(r->ev, NULL);
        r->disk_warned = false;
        return;
    }
    char text[160];
    st_recorder_space_text(&s, st_db_path(r->db), text, sizeof text);
    st_events_set_disk_warning(r->ev, text);
    if (!r->disk_warned)
        st_events_post(r->ev, ST_EV_INFO, NULL, NULL, 0, ST_PH_DB, ST_FC_CONFIG,
                       "%s: free space on that disk before the records fill it", text);
    r->disk_warned = true;
}

/* ---- operations ---- */

static void record_failed(st_recorder *r, const st_rec_attempt *a, const char *what, const st_err *e)
{
    atomic_fetch_add(&r->failures, 1);
    char msg[400];
    st_err_format(e, msg, sizeof msg);
    st_events_post(r->ev, ST_EV_INFO, a->slot, NULL, a->try_no, ST_PH_DB, ST_FC_CONFIG,
                   "could not record %s of attempt #%lld: %s%s%s", what, (long long)a->id, msg,
                   *e->hint ? "; " : "", e->hint);
}

/* {year} is the UTC year at allocation. */
static int format_serial(void *user, int64_t seq, int64_t now_ms, char *out, size_t cap)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return st_prov_serial_format(user, tm.tm_year + 1900, seq, out, cap);
}

/* SERIAL: keep or allocate the unit's serial on attempt a->id (d: the attempt, its serial
 * filled in). */
static int record_serial(st_db *db, const st_rec_attempt *a, st_db_attempt *d, st_err *err)
{
    char mac[18];
    st_report_mac(&a->rep, mac);
    st_db_serial s;
    bool allocated = false;
    char fmt[sizeof a->serial_fmt];
    memcpy(fmt, a->serial_fmt, sizeof fmt);
    if (st_db_serial_assign(db, a->id, a->profile, mac, a->new_serial, format_serial, fmt, &s,
                            &allocated, err) < 0)
        return -1;
    snprintf(d->mac, sizeof d->mac, "%s", mac);
    snprintf(d->serial, sizeof d->serial, "%s", s.serial);
    return 0;
}

static const char *hook_result_name(st_hook_result r)
{
    switch (r) {
    case ST_HOOK_EXIT: return "exit";
    case ST_HOOK_SIGNAL: return "signal";
    case ST_HOOK_TIMEOUT: return "timeout";
    case ST_HOOK_SPAWN_FAILED: return "spawn_failed";
    default: return "";
    }
}

static int record_hook(st_db *db, const st_rec_op *op, st_err *err)
{
    const st_event_hook *h = &op->hook;
    st_db_hook d = {.exit_code = h->exit_code, .signal = h->signal,
                    .duration_ms = (int64_t)(h->duration_s * 1000 + 0.5)};
    snprintf(d.result, sizeof d.result, "%s", hook_result_name(h->result));
    snprintf(d.command, sizeof d.command, "%s", h->command);
    snprintf(d.stderr_head, sizeof d.stderr_head, "%s", h->stderr_head);
    return st_db_attempt_hook(db, op->a.id, &d, err);
}

int st_record_write(st_db *db, const st_rec_op *op, st_db_attempt *out, st_err *err)
{
    st_db_attempt *d = calloc(2, sizeof *d);
    if (!d)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for a record");
    st_err_clear(err);
    to_db(&op->a, &d[0]);
    int rc = -1, keep = 0;
    switch (op->kind) {
    case ST_REC_BEGIN: rc = st_db_attempt_begin(db, &d[0], err); break;
    case ST_REC_UNIT: rc = st_db_attempt_set_unit(db, &d[0], err); break;
    case ST_REC_END: rc = st_db_attempt_finish(db, &d[0], op->a.bin_on_fail, err); break;
    case ST_REC_RETRY:
        to_db(&op->then, &d[1]);
        rc = st_db_attempt_retry(db, &d[0], &d[1], err);
        keep = 1;
        break;
    case ST_REC_SERIAL: rc = record_serial(db, &op->a, &d[0], err); break;
    case ST_REC_HOOK: rc = record_hook(db, op, err); break;
    default: rc = st_err_set(err, ST_E_ARG, ST_PH_DB, "unknown record operation %d", (int)op->kind);
    }
    if (out)
        *out = d[keep];
    free(d);
    return rc;
}

static const char *op_what(st_rec_kind k)
{
    switch (k) {
    case ST_REC_BEGIN: return "the start";
    case ST_REC_UNIT: return "the unit's identity";
    case ST_REC_END: return "the end";
    case ST_REC_SERIAL: return "the serial";
    case ST_REC_HOOK: return "the failed on-result command";
    default: return "the end and the next try";
    }
}

static void do_op(st_recorder *r, st_rec_op *op)
{
    const st_rec_attempt *a = &op->a;
    st_db_attempt d;
    st_err err;
    uint64_t before = r->open_bin;
    if (op->kind == ST_REC_BIN) {
        refresh_bin(r);
        return;
    }
    int rc = st_record_write(r->db, op, &d, &err);
    if (op->kind == ST_REC_HOOK) { /* no reply, no bin change */
        if (rc < 0)
            record_failed(r, a, op_what(op->kind), &err);
        return;
    }
    if (rc < 0) {
        if (op->kind == ST_REC_BEGIN)
            atomic_fetch_add(&r->failures, 1); /* the worker reports the refusal */
        else
            record_failed(r, a, op_what(op->kind), &err);
    }
    if (op->kind == ST_REC_SERIAL && rc == 0) {
        snprintf(op->reply->serial, sizeof op->reply->serial, "%s", d.serial);
        st_events_post(r->ev, ST_EV_INFO, a->slot, d.mac, a->try_no, ST_PH_DB, ST_FC_NONE,
                       "serial %s for %s (attempt #%lld)", d.serial, d.mac, (long long)a->id);
    }
    /* committed (or not): the worker may now show the outcome */
    st_events_rec_complete(r->ev, op->reply, rc, rc == 0 ? d.id : 0, &err);
    if (op->kind == ST_REC_END || op->kind == ST_REC_RETRY)
        check_space(r);
    if (rc < 0 || op->kind != ST_REC_END)
        return; /* only a final end changes the bin */
    bool binned = a->bin_on_fail && a->outcome != ST_OUT_PASS;
    if (!binned && a->outcome != ST_OUT_PASS)
        return;
    uint64_t after = refresh_bin(r);
    if (binned)
        st_events_post_unit(r->ev, ST_EV_BINNED, a, d.mac, d.phase, d.fclass,
                       "retry bin: %s [%s] after %d tries: %s", *d.mac ? d.mac : "(no MAC)",
                       st_fclass_name(d.fclass), a->try_no, d.hint);
    else if (after < before)
        st_events_post_unit(r->ev, ST_EV_RESOLVED, a, d.mac, ST_PH_DONE, ST_FC_NONE,
                       "retry bin: %s passed, its entry is resolved (attempt #%lld)",
                       *d.mac ? d.mac : "(no MAC)", (long long)d.id);
}

static void *writer(void *arg)
{
    st_recorder *r = arg;
    for (;;) {
        st_rec_op *op = st_events_rec_pop(r->ev, 500);
        if (!op) {
            if (st_events_rec_drained(r->ev))
                break;
            continue;
        }
        do_op(r, op);
        free(op);
    }
    return NULL;
}

int st_recorder_start(st_events *ev, st_db *db, st_recorder **out, st_err *err)
{
    st_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        st_db_close(db);
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for the recorder");
    }
    r->ev = ev;
    r->db = db;
    atomic_init(&r->failures, 0);
    int n = st_db_recovered(db);
    if (n > 0)
        st_events_post(ev, ST_EV_RECOVERED, NULL, NULL, 0, ST_PH_DB, ST_FC_INTERRUPTED,
                       "%d attempt%s left unfinished by a crash %s marked interrupted; the units "
                       "are in the retry bin", n, n == 1 ? "" : "s", n == 1 ? "was" : "were");
    refresh_bin(r);
    check_space(r);
    int rc = pthread_create(&r->thread, NULL, writer, r);
    if (rc != 0) {
        st_db_close(db);
        free(r);
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "cannot start the recorder thread (error %d)", rc);
    }
    *out = r;
    return 0;
}

int st_recorder_stop(st_recorder *r)
{
    if (!r)
        return 0;
    st_events_rec_close(r->ev);
    pthread_join(r->thread, NULL);
    st_db_close(r->db);
    int fails = atomic_load(&r->failures);
    free(r);
    return fails;
}

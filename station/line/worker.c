/* worker.c - the life of one unit in one slot (worker.h). */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_unit.h"
#include "provision_unit.h"
#include "clock.h"

/* ---- profiles shared by workers ---- */

static void hex(const uint8_t *b, int n, char *out)
{
    for (int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Worst case for one try: syncing, the images at 115200 through the ROM loader (10 bits
 * per byte, half the wire lost to turnaround), erasing and hashing at the flash's pace. */
static double derive_watchdog(const st_fwset *fw)
{
    double mb = fw->total_len / 1e6;
    double wire = fw->total_zlen * 10.0 / 115200 * 2;
    return 60 + wire + mb * (40 + 8);
}

int st_fwref_load(const char *profile_path, const char *cache_dir, double watchdog_override_s,
                  st_fwref **out, st_err *err)
{
    st_fwref *r = calloc(1, sizeof *r);
    if (!r)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory for the profile");
    st_profile *prof = malloc(sizeof *prof);
    if (!prof) {
        free(r);
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory for the profile");
    }
    int rc = st_profile_load(profile_path, prof, err);
    if (rc == 0)
        rc = st_fwset_prepare(prof, cache_dir, &r->fw, err);
    free(prof);
    if (rc < 0) {
        if (err->fclass == ST_FC_NONE)
            err->fclass = ST_FC_CONFIG;
        free(r);
        return -1;
    }
    size_t len = 0;
    for (int i = 0; i < r->fw.n; i++) {
        const st_image *im = &r->fw.img[i];
        hex(im->sha256, 32, r->sha256[i]);
        const char *base = strrchr(im->path, '/') ? strrchr(im->path, '/') + 1 : im->path;
        int stem = (int)strcspn(base, ".");
        if (len < sizeof r->digests)
            len += snprintf(r->digests + len, sizeof r->digests - len, "%s%.*s %.8s", i ? " " : "",
                            stem < 10 ? stem : 10, base, r->sha256[i]);
    }
    r->watchdog_s = watchdog_override_s > 0 ? watchdog_override_s : derive_watchdog(&r->fw);
    *out = r;
    return 0;
}

void st_fwref_describe(const st_fwref *fw, st_rec_attempt *a)
{
    snprintf(a->profile, sizeof a->profile, "%s", fw->fw.prof.name);
    a->n_images = fw->fw.n;
    for (int i = 0; i < fw->fw.n; i++) {
        a->img_offset[i] = fw->fw.img[i].offset;
        memcpy(a->img_sha256[i], fw->sha256[i], 65);
    }
}

void st_fwref_free(st_fwref *fw)
{
    if (!fw)
        return;
    st_fwset_free(&fw->fw);
    free(fw);
}

st_fwref *st_line_take_fw(st_line_ctl *ctl)
{
    pthread_mutex_lock(&ctl->mu);
    st_fwref *fw = ctl->fw;
    fw->refs++;
    pthread_mutex_unlock(&ctl->mu);
    return fw;
}

void st_line_drop_fw(st_line_ctl *ctl, st_fwref *fw)
{
    pthread_mutex_lock(&ctl->mu);
    bool last = --fw->refs == 0 && fw != ctl->fw;
    pthread_mutex_unlock(&ctl->mu);
    if (last)
        st_fwref_free(fw);
}

/* ---- one try ---- */

typedef struct try_ctx {
    st_worker *w;
    const st_flash_report *rep; /* filled by st_flash_unit on this same thread */
    st_rec_attempt *a;
    const st_fwref *fw;
    st_phase last_phase;
    bool unit_sent;
} try_ctx;

static void on_log(void *user, const char *line)
{
    try_ctx *t = user;
    st_events_post(t->w->ctl->ev, ST_EV_INFO, t->w->port.slot, NULL, t->a->try_no, t->last_phase,
                   ST_FC_NONE, "%s", line);
}

static void send_unit(try_ctx *t);

static void on_progress(void *user, st_phase ph, uint64_t done, uint64_t total)
{
    try_ctx *t = user;
    st_worker *w = t->w;
    st_events *ev = w->ctl->ev;
    st_events_slot_progress(ev, w->slot, ph, done, total);
    if (ph != t->last_phase) {
        t->last_phase = ph;
        st_events_post(ev, ST_EV_PHASE, w->port.slot, NULL, t->a->try_no, ph, ST_FC_NONE, "%s",
                       st_phase_name(ph));
    }
    /* detect is done once the loader moves on: record who the unit is right away, so a
     * crash later in the try still leaves its MAC in the records. */
    if (!t->unit_sent && t->rep->chip_known && ph > ST_PH_DETECT && ph != ST_PH_DONE)
        send_unit(t);
}

/* Record who the unit is (the recorder queue keeps it ahead of anything sent later). */
static void send_unit(try_ctx *t)
{
    st_worker *w = t->w;
    st_events *ev = w->ctl->ev;
    t->unit_sent = true;
    char mac[18];
    st_report_mac(t->rep, mac);
    st_events_slot_chip(ev, w->slot, mac, t->rep->chip.description, t->rep->chip.flash_id, 0);
    st_events_slot_link(ev, w->slot, 0, t->rep->chip.mac_crc_bad);
    st_rec_op *op = calloc(1, sizeof *op);
    if (op) {
        op->kind = ST_REC_UNIT;
        op->a = *t->a;
        op->a.rep = *t->rep;
        st_events_rec_push(ev, op);
    }
}

/* The unit's serial from the recorder: kept, or allocated in the transaction that stores
 * it on this attempt. */
static int worker_serial(void *user, char *out, size_t cap, st_err *err)
{
    try_ctx *t = user;
    st_worker *w = t->w;
    st_rec_reply reply;
    memset(&reply, 0, sizeof reply);
    st_rec_op *op = calloc(1, sizeof *op);
    if (!op)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for a record");
    op->kind = ST_REC_SERIAL;
    op->a = *t->a;
    op->a.rep = *t->rep;
    snprintf(op->a.serial_fmt, sizeof op->a.serial_fmt, "%s", t->fw->fw.prof.prov.serial_fmt);
    op->a.new_serial = w->ctl->new_serial;
    op->reply = &reply;
    if (st_events_rec_call(w->ctl->ev, op) != 0) {
        *err = reply.err;
        return -1;
    }
    snprintf(out, cap, "%s", reply.serial);
    return 0;
}

/* The unit's NVS partition, built once its MAC is known. */
static int on_unit_region(void *user, const st_chip_info *chip, st_image *img, st_err *err)
{
    try_ctx *t = user;
    st_worker *w = t->w;
    const st_provision *pv = &t->fw->fw.prof.prov;
    if (!t->unit_sent)
        send_unit(t); /* the identity record goes ahead of the serial */
    if (st_provision_unit(&t->fw->fw, chip, worker_serial, t, img, t->a->serial, t->a->provision,
                          err) < 0)
        return -1;
    st_events_post(w->ctl->ev, ST_EV_INFO, w->port.slot, NULL, t->a->try_no, ST_PH_DETECT,
                   ST_FC_NONE, "provisioning %s at 0x%x: %.200s", pv->ns, pv->offset,
                   t->a->provision);
    return 0;
}

static void fill_identity(const st_worker *w, const st_fwref *fw, st_rec_attempt *a)
{
    const st_line_ctl *c = w->ctl;
    a->slot_no = w->port.hub_port > 0 ? w->port.hub_port : w->slot + 1;
    snprintf(a->slot, sizeof a->slot, "%s", w->port.slot);
    st_events_slot_label(c->ev, w->slot, a->label, sizeof a->label);
    snprintf(a->port, sizeof a->port, "%s", w->port.dev);
    snprintf(a->bridge, sizeof a->bridge, "%s", w->port.bridge);
    snprintf(a->usb_serial, sizeof a->usb_serial, "%s", w->port.serial);
    a->vid = w->port.vid;
    a->pid = w->port.pid;
    st_fwref_describe(fw, a);
    snprintf(a->operator_name, sizeof a->operator_name, "%s", c->operator_name);
    snprintf(a->host, sizeof a->host, "%s", c->host);
}

static bool line_stopping_or_gone(st_worker *w)
{
    pthread_mutex_lock(&w->ctl->mu);
    bool r = w->ctl->stopping || w->gone;
    pthread_mutex_unlock(&w->ctl->mu);
    return r;
}

static void set_try_clock(st_worker *w, double started, double limit)
{
    pthread_mutex_lock(&w->ctl->mu);
    w->try_started = started;
    w->watchdog_s = limit;
    pthread_mutex_unlock(&w->ctl->mu);
}

/* The watchdog cut the try short: that is a timeout of the unit, not an operator stop. */
static void watchdog_error(st_err *err, double limit)
{
    st_phase ph = err->phase;
    st_err_set(err, ST_E_TIMEOUT, ph, "the try took longer than the %.0f s watchdog and was aborted",
               limit);
    err->fclass = ST_FC_TIMEOUT;
    st_err_hint(err, "%s", st_fclass_hint(ST_FC_TIMEOUT));
}

/* The fields of a that belong to one try: number, settings, a clean slate; when it
 * starts (a label) and, for every duration, where on the line's monotonic clock. */
static void start_try(st_rec_attempt *a, const st_retry_state *rs, const st_profile *prof,
                      st_events *ev)
{
    a->id = 0;
    a->try_no = rs->tries;
    a->baud = st_retry_baud(rs, prof->bauds, prof->n_bauds);
    a->no_stub = rs->no_stub;
    a->started = st_wall_now();
    a->run_started = st_events_started(ev);
    a->run_offset = st_events_clock(ev);
    a->ended = 0;
    a->duration = 0;
    a->outcome = ST_OUT_RUNNING;
    a->bin_on_fail = false;
    memset(&a->rep, 0, sizeof a->rep);
    st_err_clear(&a->err);
}

/* Send op (kind, a, and next for a RETRY) to the recorder and wait until it is written;
 * returns 0 with *id (the new attempt for BEGIN/RETRY), or -1 with *err. */
static int record_call(st_events *ev, st_rec_kind kind, const st_rec_attempt *a,
                       const st_rec_attempt *next, int64_t *id, st_err *err)
{
    st_rec_reply reply;
    st_rec_op *op = calloc(1, sizeof *op);
    if (!op)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for a record");
    op->kind = kind;
    op->a = *a;
    if (next)
        op->then = *next;
    op->reply = &reply;
    if (st_events_rec_call(ev, op) != 0) {
        *err = reply.err;
        return -1;
    }
    if (id)
        *id = reply.id;
    return 0;
}

/* A record that had to be written before the outcome could be shown was not: the
 * store is failing (full disk, I/O error). The line takes no new units until the
 * operator has dealt with it. */
static void records_failed(st_worker *w, const st_rec_attempt *a, const char *what, const st_err *e)
{
    st_line_ctl *c = w->ctl;
    char msg[400];
    st_err_format(e, msg, sizeof msg);
    pthread_mutex_lock(&c->mu);
    bool first = !c->records_broken;
    c->records_broken = true;
    pthread_mutex_unlock(&c->mu);
    st_events_set_records_broken(c->ev, msg);
    if (first)
        st_events_post(c->ev, ST_EV_LINE, w->port.slot, NULL, a->try_no, ST_PH_DB, ST_FC_CONFIG,
                       "records are failing: the line takes no new units; free space or fix the "
                       "database, then restart the station (%s)", what);
}

static void flash_with_retries(st_worker *w, st_fwref *fw)
{
    st_line_ctl *c = w->ctl;
    st_events *ev = c->ev;
    const char *slot = w->port.slot;
    const st_profile *prof = &fw->fw.prof;
    st_rec_attempt *a = calloc(1, sizeof *a), *next = calloc(1, sizeof *next);
    st_flash_report *rep = calloc(1, sizeof *rep);
    if (!a || !next || !rep) {
        st_events_post(ev, ST_EV_REFUSED, slot, NULL, 0, ST_PH_NONE, ST_FC_CONFIG,
                       "not flashed: out of memory");
        goto out;
    }
    fill_identity(w, fw, a);
    st_retry_state rs;
    st_retry_begin(&rs);
    rs.tries = 1;
    start_try(a, &rs, prof, ev);
    /* No record, no flashing: wait for the recorder to confirm the begin row. Later
     * tries get theirs in the transaction that ends the try before them. */
    st_err rerr;
    if (record_call(ev, ST_REC_BEGIN, a, NULL, &a->id, &rerr) < 0) {
        char msg[400];
        st_err_format(&rerr, msg, sizeof msg);
        st_events_slot_result(ev, w->slot, ST_SLOT_FAIL, &rerr);
        st_events_post(ev, ST_EV_REFUSED, slot, NULL, a->try_no, ST_PH_DB, ST_FC_CONFIG,
                       "not flashed: the attempt could not be recorded: %s", msg);
        goto out;
    }
    for (;;) {
        st_events_slot_try(ev, w->slot, a->try_no, a->baud);
        st_events_post_unit(ev, ST_EV_TRY, a, NULL, ST_PH_NONE, ST_FC_NONE,
                       "try %d (attempt #%lld): %s, baud %d%s", a->try_no, (long long)a->id,
                       prof->name, a->baud, rs.no_stub ? ", ROM loader only" : "");

        try_ctx tc = {.w = w, .rep = rep, .a = a, .fw = fw, .last_phase = ST_PH_NONE};
        a->serial[0] = a->provision[0] = 0;
        st_flash_opts o = {
            .baud = rs.ladder_idx == 0 ? 0 : a->baud,
            .no_stub = rs.no_stub,
            .sync_attempts = c->sync_attempts,
            .stub_attempts = st_retry_stub_attempts_per_try(),
            .stub_required = !rs.no_stub,
            /* A retry resumes: regions the failed try left right are found by MD5 and
             * not written again. The first try writes everything unless the profile
             * says otherwise (a fresh unit differs everywhere: asking costs MD5 time). */
            .reflash = prof->reflash != ST_REFLASH_DEFAULT ? prof->reflash
                       : rs.tries > 1 ? ST_REFLASH_CHANGED : ST_REFLASH_ALL,
            .abort = &w->abort,
            .progress = on_progress,
            .log = on_log,
            .user = &tc,
            .unit_region = prof->prov.enabled ? on_unit_region : NULL,
        };
        st_err err;
        set_try_clock(w, st_now(), fw->watchdog_s);
        int rc = st_flash_unit(w->port.dev, &fw->fw, &o, rep, &err);
        set_try_clock(w, 0, 0);

        st_outcome out = ST_OUT_PASS;
        if (rc != 0) {
            if (atomic_load(&w->abort) == ST_ABORT_WATCHDOG) {
                watchdog_error(&err, fw->watchdog_s);
                atomic_store(&w->abort, ST_ABORT_NONE);
            }
            out = err.fclass == ST_FC_INTERRUPTED ? ST_OUT_INTERRUPTED : ST_OUT_FAIL;
        }
        st_retry_step step = ST_RETRY_GIVE_UP;
        if (out == ST_OUT_FAIL && !line_stopping_or_gone(w))
            step = st_retry_next_err(&c->limits, prof->bauds, prof->n_bauds, &err, &rs);

        a->ended = st_wall_now();
        a->duration = st_events_clock(ev) - a->run_offset;
        a->outcome = out;
        a->rep = *rep;
        a->err = rc == 0 ? (st_err){0} : err;
        if (rep->baud)
            a->baud = rep->baud;
        a->bin_on_fail = out == ST_OUT_INTERRUPTED || (out == ST_OUT_FAIL && step == ST_RETRY_GIVE_UP);

        char mac[18];
        st_report_mac(rep, mac);
        st_events_slot_after(ev, w->slot, a->serial, &rep->boot);
        if (rep->chip_known) {
            st_events_slot_chip(ev, w->slot, mac, rep->chip.description, rep->chip.flash_id,
                                rep->baud);
        }
        st_events_slot_link(ev, w->slot, rep->blocks_repaired,
                            rep->chip_known && rep->chip.mac_crc_bad);
        /* The outcome is shown only once its record is committed. A retry's record ends
         * this try and begins the next in one transaction: a crash in between cannot
         * leave a failed unit outside the retry bin. */
        int recorded;
        if (step != ST_RETRY_GIVE_UP) {
            rs.tries++;
            *next = *a;
            start_try(next, &rs, prof, ev);
            recorded = record_call(ev, ST_REC_RETRY, a, next, &next->id, &rerr);
        } else {
            recorded = record_call(ev, ST_REC_END, a, NULL, NULL, &rerr);
        }
        if (recorded < 0)
            records_failed(w, a, out == ST_OUT_PASS ? "a PASS was not recorded" : "a failure was not recorded",
                           &rerr);

        if (out == ST_OUT_PASS && recorded < 0) {
            char rmsg[400];
            st_err_format(&rerr, rmsg, sizeof rmsg);
            st_events_slot_result(ev, w->slot, ST_SLOT_UNRECORDED, &rerr);
            st_events_unit_done(ev, w->slot, false);
            st_events_post_unit(ev, ST_EV_UNRECORDED, a, mac, ST_PH_DB, ST_FC_CONFIG,
                           "PASS — NOT RECORDED %s: keep the unit apart and flash it again once "
                           "the database is fixed; it verified but its record could not be "
                           "written: %s", mac, rmsg);
            break;
        }
        if (out == ST_OUT_PASS) {
            st_events_slot_result(ev, w->slot, ST_SLOT_PASS, NULL);
            st_events_unit_done(ev, w->slot, true);
            st_events_post_unit(ev, ST_EV_PASS, a, mac, ST_PH_DONE, ST_FC_NONE,
                           "PASS %s %s: %llu bytes at %d baud in %.1f s, %d regions verified%s%s%s%s",
                           mac, rep->chip.description, (unsigned long long)rep->bytes_raw, rep->baud,
                           rep->t_total, rep->regions_verified,
                           rep->boot.passed ? ", booted " : "", rep->boot.captured,
                           a->serial[0] ? ", serial " : "", a->serial);
            break;
        }
        char msg[400];
        st_err_format(&err, msg, sizeof msg);
        if (step != ST_RETRY_GIVE_UP && recorded == 0) {
            st_events_slot_result(ev, w->slot, ST_SLOT_RETRYING, &err);
            st_events_post_unit(ev, ST_EV_TRY_FAIL, a, mac, err.phase, err.fclass,
                           "try %d failed [%s]: %s", a->try_no, st_fclass_name(err.fclass), msg);
            st_events_post(ev, ST_EV_RETRY, slot, mac, next->try_no, err.phase, err.fclass,
                           "retrying: %s, baud %d%s", st_retry_step_name(step), next->baud,
                           rs.no_stub ? ", ROM loader only" : "");
            st_rec_attempt *t = a;
            a = next;
            next = t;
            continue;
        }
        /* Given up, or a retry that could not be recorded (the unfinished row is binned
         * as interrupted when the station next opens the store). */
        st_events_slot_result(ev, w->slot, ST_SLOT_FAIL, &err);
        st_events_unit_done(ev, w->slot, false);
        st_events_post_unit(ev, out == ST_OUT_INTERRUPTED ? ST_EV_INTERRUPTED : ST_EV_FAIL, a, mac,
                            err.phase, err.fclass, "%s after %d tries [%s]: %s; hint: %s",
                       out == ST_OUT_INTERRUPTED ? "INTERRUPTED" : "FAIL", a->try_no,
                       st_fclass_name(err.fclass), msg, *err.hint ? err.hint : st_fclass_hint(err.fclass));
        break;
    }
out:
    free(a);
    free(next);
    free(rep);
}

/* ---- the thread ---- */

static void *worker_main(void *arg)
{
    st_worker *w = arg;
    st_line_ctl *c = w->ctl;
    st_events *ev = c->ev;
    st_events_slot_attach(ev, w->slot, w->port.dev, w->port.bridge, w->port.vid, w->port.pid);
    st_event e = {.kind = ST_EV_WORKER, .appeared = w->port.appeared};
    snprintf(e.slot, sizeof e.slot, "%s", w->port.slot);
    st_event_text(&e, "unit in %s (%s %04x:%04x%s%s)", w->port.dev,
             *w->port.bridge ? w->port.bridge : "bridge", w->port.vid, w->port.pid,
             *w->port.serial ? " serial " : "", w->port.serial);
    st_events_publish(ev, &e);

    pthread_mutex_lock(&c->mu);
    bool shown_paused = false;
    while (c->paused && !c->stopping && !w->gone) {
        if (!shown_paused) {
            st_events_slot_state(ev, w->slot, ST_SLOT_PAUSED);
            shown_paused = true;
        }
        pthread_cond_wait(&c->cv, &c->mu);
    }
    bool gone_early = w->gone;
    bool broken = c->records_broken;
    bool go = !c->stopping && !gone_early && !broken;
    pthread_mutex_unlock(&c->mu);

    if (go) {
        st_fwref *fw = st_line_take_fw(c);
        flash_with_retries(w, fw);
        st_line_drop_fw(c, fw);
    } else {
        st_events_post(ev, ST_EV_INFO, w->port.slot, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                       "unit not started: %s",
                       gone_early ? "unplugged"
                       : broken   ? "records are failing (free space or fix the database, then restart)"
                                  : "the line is stopping");
    }

    /* The next unit in this slot gets a new worker: wait until this one is unplugged. */
    pthread_mutex_lock(&c->mu);
    while (!w->gone && !c->stopping)
        pthread_cond_wait(&c->cv, &c->mu);
    bool gone = w->gone;
    pthread_mutex_unlock(&c->mu);
    if (gone)
        st_events_slot_detach(ev, w->slot);

    pthread_mutex_lock(&c->mu);
    w->finished = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int st_worker_start(st_line_ctl *ctl, const st_found_port *p, int slot, st_worker **out, st_err *err)
{
    st_worker *w = calloc(1, sizeof *w);
    if (!w)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for a worker");
    w->ctl = ctl;
    w->port = *p;
    w->slot = slot;
    atomic_init(&w->abort, ST_ABORT_NONE);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        free(w);
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "cannot start a worker thread (error %d)", rc);
    }
    *out = w;
    return 0;
}

void st_worker_join_free(st_worker *w)
{
    if (!w)
        return;
    pthread_join(w->thread, NULL);
    free(w);
}

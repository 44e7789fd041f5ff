/* events.c - the locked line state, event ring and record queue (see events.h). One mutex
 * guards everything: updates are tiny copies, so contention is not a concern, and one lock
 * means a snapshot is always consistent. */
#include "events.h"
#include "clock.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 1024 /* events kept for line printers that fall behind */

typedef struct {
    double plugged;        /* monotonic time the unit was attached */
    double write_t0;       /* monotonic time the current write phase started */
    st_phase last_phase;
    bool held;              /* handed out by st_events_slot and not detached since */
    double empty_since;     /* st_now() when it was last detached (or created) */
    bool pinned;            /* a layout position: never recycled for another name */
} slot_aux;

struct st_events {
    pthread_mutex_t mu;
    pthread_cond_t ev_cv;     /* new event */
    pthread_cond_t rec_cv;    /* queue not empty / closed */
    pthread_cond_t reply_cv;  /* a reply completed */
    double t0;                /* monotonic start of the line: the base of st_event.t */
    double wall0;             /* epoch seconds at t0 (a label) */
    st_line_view v;           /* slots, counters, bin mirror, line fields (events unused) */
    slot_aux aux[ST_MAX_SLOTS];
    st_event ring[RING];
    uint64_t next_seq;        /* seq of the next event; ring[(seq-1) % RING] */
    st_rec_op *q_head, *q_tail;
    bool q_closed;
    st_bin_elsewhere *elsewhere; /* the shipper's latest answer (owned), n_elsewhere long */
    int n_elsewhere;
};

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

const char *st_ev_kind_name(st_ev_kind k)
{
    static const char *const n[ST_EV_KIND_COUNT] = {
        [ST_EV_INFO] = "info",         [ST_EV_ATTACH] = "attach",   [ST_EV_DETACH] = "detach",
        [ST_EV_WORKER] = "worker",     [ST_EV_TRY] = "try",         [ST_EV_PHASE] = "phase",
        [ST_EV_PASS] = "pass",         [ST_EV_TRY_FAIL] = "try_fail", [ST_EV_RETRY] = "retry",
        [ST_EV_FAIL] = "fail",         [ST_EV_BINNED] = "binned",   [ST_EV_RESOLVED] = "resolved",
        [ST_EV_INTERRUPTED] = "interrupted", [ST_EV_REFUSED] = "refused",
        [ST_EV_RECOVERED] = "recovered", [ST_EV_LINE] = "line",
        [ST_EV_UNRECORDED] = "unrecorded", [ST_EV_CENTRAL] = "central", [ST_EV_HOOK] = "hook",
    };
    return (k >= 0 && k < ST_EV_KIND_COUNT && n[k]) ? n[k] : "unknown";
}

const char *st_outcome_name(st_outcome o)
{
    switch (o) {
    case ST_OUT_PASS: return "pass";
    case ST_OUT_FAIL: return "fail";
    case ST_OUT_INTERRUPTED: return "interrupted";
    default: return "running";
    }
}

bool st_report_mac(const st_flash_report *rep, char *out)
{
    static const uint8_t none[6];
    out[0] = '\0';
    if (!rep->chip_known || memcmp(rep->chip.mac, none, sizeof none) == 0)
        return false;
    st_mac_format(rep->chip.mac, out);
    return true;
}

void st_event_set_unit(st_event *e, const st_rec_attempt *a)
{
    st_event_unit *u = &e->unit;
    memset(u, 0, sizeof *u);
    e->has_unit = true;
    u->attempt_id = a->id;
    u->try_no = a->try_no;
    copy_str(u->port, sizeof u->port, a->port);
    copy_str(u->bridge, sizeof u->bridge, a->bridge);
    copy_str(u->usb_serial, sizeof u->usb_serial, a->usb_serial);
    u->vid = a->vid;
    u->pid = a->pid;
    u->chip_known = a->rep.chip_known;
    if (u->chip_known)
        u->chip = a->rep.chip;
    u->baud = a->baud;
    u->used_stub = a->rep.used_stub;
    u->bytes_raw = a->rep.bytes_raw;
    u->bytes_compressed = a->rep.bytes_compressed;
    u->regions_verified = a->rep.regions_verified;
    u->t_connect = a->rep.t_connect;
    u->t_stub = a->rep.t_stub;
    u->t_write = a->rep.t_write;
    u->t_verify = a->rep.t_verify;
    u->t_total = a->rep.t_total;
    copy_str(u->profile, sizeof u->profile, a->profile);
    u->n_images = a->n_images < ST_MAX_IMAGES ? a->n_images : ST_MAX_IMAGES;
    for (int i = 0; i < u->n_images; i++) {
        u->img_offset[i] = a->img_offset[i];
        memcpy(u->img_sha256[i], a->img_sha256[i], sizeof u->img_sha256[i]);
    }
    u->err = a->err;
    copy_str(u->serial, sizeof u->serial, a->serial);
    if (a->rep.boot.checked && a->rep.boot.passed)
        st_boot_captured_value(a->rep.boot.captured, "version", u->app_version, sizeof u->app_version);
}

int st_events_new(st_events **out, st_err *err)
{
    st_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for the event channel");
    pthread_mutex_init(&ev->mu, NULL);
    st_cond_init_monotonic(&ev->ev_cv);
    st_cond_init_monotonic(&ev->rec_cv);
    st_cond_init_monotonic(&ev->reply_cv);
    ev->t0 = st_now();
    ev->wall0 = st_wall_now();
    ev->next_seq = 1;
    *out = ev;
    return 0;
}

void st_events_free(st_events *ev)
{
    if (!ev)
        return;
    for (st_rec_op *op = ev->q_head, *nx; op; op = nx) {
        nx = op->next;
        free(op);
    }
    free(ev->elsewhere);
    pthread_cond_destroy(&ev->ev_cv);
    pthread_cond_destroy(&ev->rec_cv);
    pthread_cond_destroy(&ev->reply_cv);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

double st_events_clock(const st_events *ev)
{
    return st_now() - ev->t0; /* t0 is written once, before any thread sees ev */
}

double st_events_started(const st_events *ev)
{
    return ev->wall0;
}

/* ---- events ---- */

static uint64_t publish_locked(st_events *ev, st_event *e)
{
    if (e->slot[0] && !e->label[0]) /* every event of a slot carries its layout label */
        for (int i = 0; i < ev->v.nslots; i++)
            if (ev->v.slots[i].label[0] && strcmp(ev->v.slots[i].name, e->slot) == 0) {
                memcpy(e->label, ev->v.slots[i].label, sizeof e->label);
                break;
            }
    e->seq = ev->next_seq++;
    e->t = st_events_clock(ev);
    e->wall = st_wall_now();
    ev->ring[(e->seq - 1) % RING] = *e;
    pthread_cond_broadcast(&ev->ev_cv);
    return e->seq;
}

uint64_t st_events_publish(st_events *ev, st_event *e)
{
    pthread_mutex_lock(&ev->mu);
    uint64_t seq = publish_locked(ev, e);
    pthread_mutex_unlock(&ev->mu);
    return seq;
}

void st_event_text(st_event *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
}

uint64_t st_events_post(st_events *ev, st_ev_kind kind, const char *slot, const char *mac,
                        int attempt, st_phase phase, st_fclass fclass, const char *fmt, ...)
{
    st_event e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    copy_str(e.slot, sizeof e.slot, slot);
    copy_str(e.mac, sizeof e.mac, mac);
    e.attempt = attempt;
    e.phase = phase;
    e.fclass = fclass;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.text, sizeof e.text, fmt, ap);
    va_end(ap);
    return st_events_publish(ev, &e);
}

uint64_t st_events_post_unit(st_events *ev, st_ev_kind kind, const st_rec_attempt *a,
                             const char *mac, st_phase phase, st_fclass fclass, const char *fmt, ...)
{
    st_event *e = calloc(1, sizeof *e);
    if (!e)
        return 0;
    e->kind = kind;
    copy_str(e->slot, sizeof e->slot, a->slot);
    copy_str(e->mac, sizeof e->mac, mac);
    e->attempt = a->try_no;
    e->phase = phase;
    e->fclass = fclass;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    st_event_set_unit(e, a);
    uint64_t seq = st_events_publish(ev, e);
    free(e);
    return seq;
}

int st_events_since(st_events *ev, uint64_t after, st_event *out, int cap, uint64_t *lost)
{
    pthread_mutex_lock(&ev->mu);
    uint64_t last = ev->next_seq - 1;
    uint64_t oldest = last >= RING ? last - RING + 1 : 1;
    uint64_t from = after + 1;
    if (lost)
        *lost = from < oldest ? oldest - from : 0;
    if (from < oldest)
        from = oldest;
    int n = 0;
    for (uint64_t s = from; s <= last && n < cap; s++)
        out[n++] = ev->ring[(s - 1) % RING];
    pthread_mutex_unlock(&ev->mu);
    return n;
}

bool st_events_wait(st_events *ev, uint64_t after, int timeout_ms)
{
    struct timespec dl;
    st_deadline_in(&dl, timeout_ms);
    pthread_mutex_lock(&ev->mu);
    while (ev->next_seq - 1 <= after)
        if (pthread_cond_timedwait(&ev->ev_cv, &ev->mu, &dl) != 0)
            break;
    bool have = ev->next_seq - 1 > after;
    pthread_mutex_unlock(&ev->mu);
    return have;
}

/* ---- line and slots ---- */

void st_events_set_line(st_events *ev, const char *profile, const char *digests, int baud)
{
    pthread_mutex_lock(&ev->mu);
    copy_str(ev->v.profile, sizeof ev->v.profile, profile);
    copy_str(ev->v.digests, sizeof ev->v.digests, digests);
    ev->v.baud = baud;
    pthread_mutex_unlock(&ev->mu);
}

void st_events_set_flags(st_events *ev, bool paused, bool stopping, bool locked)
{
    pthread_mutex_lock(&ev->mu);
    ev->v.paused = paused;
    ev->v.stopping = stopping;
    ev->v.locked = locked;
    pthread_mutex_unlock(&ev->mu);
}

void st_events_set_records_broken(st_events *ev, const char *why)
{
    pthread_mutex_lock(&ev->mu);
    if (!ev->v.records_broken) {
        ev->v.records_broken = true;
        copy_str(ev->v.records_error, sizeof ev->v.records_error, why);
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_set_disk_warning(st_events *ev, const char *text)
{
    pthread_mutex_lock(&ev->mu);
    copy_str(ev->v.disk_warning, sizeof ev->v.disk_warning, text);
    pthread_mutex_unlock(&ev->mu);
}

void st_events_set_layout(st_events *ev, const st_layout *L)
{
    pthread_mutex_lock(&ev->mu);
    ev->v.grid_rows = L->rows;
    ev->v.grid_cols = L->cols;
    for (int k = 0; k < L->n; k++) {
        const st_layout_place *p = &L->p[k];
        int i;
        for (i = 0; i < ev->v.nslots; i++)
            if (strcmp(ev->v.slots[i].name, p->place) == 0)
                break;
        if (i == ev->v.nslots) {
            if (i >= ST_MAX_SLOTS)
                break;
            ev->v.nslots++;
            memset(&ev->v.slots[i], 0, sizeof ev->v.slots[i]);
            memset(&ev->aux[i], 0, sizeof ev->aux[i]);
            copy_str(ev->v.slots[i].name, sizeof ev->v.slots[i].name, p->place);
            ev->v.slots[i].eta_s = -1;
            ev->aux[i].empty_since = st_now();
        }
        st_slot_view *s = &ev->v.slots[i];
        copy_str(s->label, sizeof s->label, p->label);
        s->placed = true;
        s->row = p->row;
        s->col = p->col;
        ev->aux[i].pinned = true;
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_label(st_events *ev, int i, char *out, size_t cap)
{
    pthread_mutex_lock(&ev->mu);
    copy_str(out, cap, i >= 0 && i < ev->v.nslots ? ev->v.slots[i].label : "");
    pthread_mutex_unlock(&ev->mu);
}

int st_events_slot(st_events *ev, const char *name)
{
    pthread_mutex_lock(&ev->mu);
    int i;
    for (i = 0; i < ev->v.nslots; i++)
        if (strcmp(ev->v.slots[i].name, name) == 0)
            break;
    if (i == ev->v.nslots) {
        if (i < ST_MAX_SLOTS) {
            ev->v.nslots++;
        } else {
            /* The table is full of names: recycle the slot that has been empty and idle
             * the longest (a hub moved to another port leaves its old names behind).
             * The limit is on units attached at once, not on names ever seen. */
            i = -1;
            for (int k = 0; k < ev->v.nslots; k++)
                if (!ev->aux[k].held && !ev->aux[k].pinned && ev->v.slots[k].state == ST_SLOT_EMPTY &&
                    (i < 0 || ev->aux[k].empty_since < ev->aux[i].empty_since))
                    i = k;
        }
        if (i >= 0) {
            memset(&ev->v.slots[i], 0, sizeof ev->v.slots[i]);
            copy_str(ev->v.slots[i].name, sizeof ev->v.slots[i].name, name);
            ev->v.slots[i].eta_s = -1;
            memset(&ev->aux[i], 0, sizeof ev->aux[i]);
        }
    }
    if (i >= 0)
        ev->aux[i].held = true;
    pthread_mutex_unlock(&ev->mu);
    return i;
}

static bool valid_slot(const st_events *ev, int i)
{
    return i >= 0 && i < ev->v.nslots;
}

void st_events_slot_attach(st_events *ev, int i, const char *port, const char *bridge,
                           uint16_t vid, uint16_t pid)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        st_slot_view keep = *s; /* who the slot is survives the unit: name, label, place */
        memset(s, 0, sizeof *s);
        memcpy(s->name, keep.name, sizeof s->name);
        memcpy(s->label, keep.label, sizeof s->label);
        s->placed = keep.placed;
        s->row = keep.row;
        s->col = keep.col;
        s->units_done = keep.units_done;
        copy_str(s->port, sizeof s->port, port);
        copy_str(s->bridge, sizeof s->bridge, bridge);
        s->vid = vid;
        s->pid = pid;
        s->state = ST_SLOT_BUSY;
        s->eta_s = -1;
        ev->aux[i].plugged = st_now();
        ev->aux[i].last_phase = ST_PH_NONE;
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_state(st_events *ev, int i, st_slot_state st)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i))
        ev->v.slots[i].state = st;
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_try(st_events *ev, int i, int attempt, int baud)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        s->state = ST_SLOT_BUSY;
        s->attempt = attempt;
        s->baud = baud;
        s->phase = ST_PH_NONE;
        s->done = s->total = 0;
        s->rate_bps = 0;
        s->eta_s = -1;
        ev->aux[i].last_phase = ST_PH_NONE;
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_progress(st_events *ev, int i, st_phase ph, uint64_t done, uint64_t total)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        slot_aux *a = &ev->aux[i];
        double now = st_now();
        if (ph != a->last_phase) {
            a->last_phase = ph;
            a->write_t0 = now;
            s->rate_bps = 0;
            s->eta_s = -1;
        }
        s->phase = ph;
        s->done = done;
        s->total = total;
        double dt = now - a->write_t0;
        if (ph == ST_PH_WRITE && dt > 0.05 && done > 0) {
            s->rate_bps = done / dt;
            s->eta_s = total > done ? (total - done) / s->rate_bps : 0;
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_chip(st_events *ev, int i, const char *mac, const char *chip,
                         uint32_t flash_id, int baud)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        if (mac && *mac)
            copy_str(s->mac, sizeof s->mac, mac);
        if (chip && *chip)
            copy_str(s->chip, sizeof s->chip, chip);
        if (flash_id)
            s->flash_id = flash_id;
        if (baud)
            s->baud = baud;
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_link(st_events *ev, int i, int blocks_repaired, bool mac_crc_bad)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        ev->v.slots[i].blocks_repaired = blocks_repaired;
        ev->v.slots[i].mac_crc_bad = mac_crc_bad;
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_result(st_events *ev, int i, st_slot_state st, const st_err *e)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        s->state = st;
        s->eta_s = -1;
        s->rate_bps = 0;
        if (e && e->cat != ST_E_NONE) {
            s->fclass = e->fclass;
            st_err_format(e, s->error, sizeof s->error);
            copy_str(s->hint, sizeof s->hint, *e->hint ? e->hint : st_fclass_hint(e->fclass));
        } else {
            s->fclass = ST_FC_NONE;
            s->error[0] = s->hint[0] = '\0';
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_after(st_events *ev, int i, const char *serial, const st_boot_result *b)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        copy_str(s->serial, sizeof s->serial, serial ? serial : "");
        s->boot[0] = s->console[0] = '\0';
        if (b && b->checked && b->passed)
            snprintf(s->boot, sizeof s->boot, "pass%s%.150s", b->captured[0] ? " " : "", b->captured);
        else if (b && b->checked && b->diag) {
            snprintf(s->boot, sizeof s->boot, "no_boot (%s)", st_boot_diag_name(b->diag));
            copy_str(s->console, sizeof s->console, b->console);
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

void st_events_unit_done(st_events *ev, int i, bool passed)
{
    pthread_mutex_lock(&ev->mu);
    if (passed)
        ev->v.passed++;
    else
        ev->v.failed++;
    if (valid_slot(ev, i))
        ev->v.slots[i].units_done++;
    pthread_mutex_unlock(&ev->mu);
}

void st_events_slot_detach(st_events *ev, int i)
{
    pthread_mutex_lock(&ev->mu);
    if (valid_slot(ev, i)) {
        st_slot_view *s = &ev->v.slots[i];
        s->state = ST_SLOT_EMPTY;
        ev->aux[i].held = false;
        ev->aux[i].empty_since = st_now();
        s->port[0] = '\0';
        s->phase = ST_PH_NONE;
        s->done = s->total = 0;
        s->rate_bps = 0;
        s->eta_s = -1;
    }
    pthread_mutex_unlock(&ev->mu);
}

/* ---- retry-bin mirror ---- */

void st_events_set_central(st_events *ev, const st_central_view *c)
{
    pthread_mutex_lock(&ev->mu);
    ev->v.central = *c;
    pthread_mutex_unlock(&ev->mu);
}

void st_events_bin_replace(st_events *ev, const st_bin_view *b, int n, uint64_t total, uint64_t elsewhere)
{
    if (n > ST_VIEW_BIN)
        n = ST_VIEW_BIN;
    pthread_mutex_lock(&ev->mu);
    memcpy(ev->v.bin, b, n * sizeof *b);
    ev->v.nbin = n;
    ev->v.in_bin = total;
    ev->v.bin_elsewhere = elsewhere;
    pthread_mutex_unlock(&ev->mu);
}

static bool same_entry(const st_bin_elsewhere *a, const st_bin_elsewhere *b)
{
    return a->id == b->id && a->last_fail_ms == b->last_fail_ms;
}

int st_events_set_bin_elsewhere(st_events *ev, const st_bin_elsewhere *e, int n)
{
    st_bin_elsewhere *copy = n > 0 ? malloc((size_t)n * sizeof *copy) : NULL;
    if (n > 0 && !copy)
        return -1;
    if (n > 0)
        memcpy(copy, e, (size_t)n * sizeof *copy);
    st_rec_op *op = calloc(1, sizeof *op);
    pthread_mutex_lock(&ev->mu);
    bool changed = n != ev->n_elsewhere;
    for (int i = 0; !changed && i < n; i++)
        changed = !same_entry(&e[i], &ev->elsewhere[i]);
    free(ev->elsewhere);
    ev->elsewhere = copy;
    ev->n_elsewhere = n;
    pthread_mutex_unlock(&ev->mu);
    if (changed && op) {
        op->kind = ST_REC_BIN;
        st_events_rec_push(ev, op); /* freed by the queue when it is closed */
    } else {
        free(op);
    }
    return 0;
}

bool st_events_bin_elsewhere(st_events *ev, int64_t id, int64_t last_fail_ms)
{
    st_bin_elsewhere k = {.id = id, .last_fail_ms = last_fail_ms};
    bool found = false;
    pthread_mutex_lock(&ev->mu);
    for (int i = 0; !found && i < ev->n_elsewhere; i++)
        found = same_entry(&ev->elsewhere[i], &k);
    pthread_mutex_unlock(&ev->mu);
    return found;
}

/* ---- snapshot ---- */

/* Natural order of slot names: digit runs compare as numbers, so slot2 < slot10 and
 * by-path places sort hub port by hub port (usb-0:1.2 < usb-0:1.10). */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* Slots placed by the layout file by position, then the rest by physical place. */
static int slot_cmp(const st_slot_view *a, const st_slot_view *b)
{
    if (a->placed != b->placed)
        return a->placed ? -1 : 1;
    if (a->placed)
        return a->row != b->row ? a->row - b->row : a->col - b->col;
    return natural_cmp(a->name, b->name);
}

/* Slots in the order of their place, whatever order units first appeared in (stable
 * insertion sort: a handful of slots, copied under the lock anyway). */
static void sort_slots(st_line_view *v)
{
    st_slot_view tmp;
    for (int i = 1; i < v->nslots; i++) {
        int j = i;
        while (j > 0 && slot_cmp(&v->slots[j - 1], &v->slots[i]) > 0)
            j--;
        if (j == i)
            continue;
        tmp = v->slots[i];
        memmove(&v->slots[j + 1], &v->slots[j], (size_t)(i - j) * sizeof v->slots[0]);
        v->slots[j] = tmp;
    }
}

void st_events_snapshot(st_events *ev, st_line_view *out)
{
    pthread_mutex_lock(&ev->mu);
    double now = st_now();
    *out = ev->v;
    out->uptime_s = now - ev->t0;
    out->in_flight = 0;
    for (int i = 0; i < out->nslots; i++) {
        st_slot_view *s = &out->slots[i];
        if (s->state == ST_SLOT_BUSY || s->state == ST_SLOT_RETRYING)
            out->in_flight++;
        s->elapsed_s = s->state == ST_SLOT_EMPTY ? 0 : now - ev->aux[i].plugged;
    }
    sort_slots(out);
    uint64_t fin = out->passed + out->failed;
    out->yield = fin ? (double)out->passed / fin : 0;
    out->units_per_hour = out->uptime_s > 1 ? fin * 3600.0 / out->uptime_s : 0;
    uint64_t last = ev->next_seq - 1;
    uint64_t n = last < ST_VIEW_EVENTS ? last : ST_VIEW_EVENTS;
    out->nevents = (int)n;
    for (uint64_t k = 0; k < n; k++) {
        const st_event *e = &ev->ring[(last - n + k) % RING];
        st_event_view *o = &out->events[k];
        o->seq = e->seq;
        o->t = e->t;
        o->wall = e->wall;
        copy_str(o->slot, sizeof o->slot, e->slot);
        copy_str(o->label, sizeof o->label, e->label);
        copy_str(o->text, sizeof o->text, e->text);
    }
    pthread_mutex_unlock(&ev->mu);
}

/* ---- record queue ---- */

static void fail_reply_locked(st_events *ev, st_rec_reply *r)
{
    r->rc = st_err_set(&r->err, ST_E_DB, ST_PH_DB, "the recorder has stopped; nothing more can be recorded");
    r->err.fclass = ST_FC_CONFIG;
    r->done = true;
    pthread_cond_broadcast(&ev->reply_cv);
}

void st_events_rec_push(st_events *ev, st_rec_op *op)
{
    op->next = NULL;
    pthread_mutex_lock(&ev->mu);
    if (ev->q_closed) {
        if (op->reply)
            fail_reply_locked(ev, op->reply);
        pthread_mutex_unlock(&ev->mu);
        free(op);
        return;
    }
    if (ev->q_tail)
        ev->q_tail->next = op;
    else
        ev->q_head = op;
    ev->q_tail = op;
    pthread_cond_signal(&ev->rec_cv);
    pthread_mutex_unlock(&ev->mu);
}

int st_events_rec_call(st_events *ev, st_rec_op *op)
{
    st_rec_reply *r = op->reply;
    memset(r, 0, sizeof *r);
    st_events_rec_push(ev, op);
    pthread_mutex_lock(&ev->mu);
    while (!r->done)
        pthread_cond_wait(&ev->reply_cv, &ev->mu);
    int rc = r->rc;
    pthread_mutex_unlock(&ev->mu);
    return rc;
}

st_rec_op *st_events_rec_pop(st_events *ev, int timeout_ms)
{
    struct timespec dl;
    st_deadline_in(&dl, timeout_ms);
    pthread_mutex_lock(&ev->mu);
    while (!ev->q_head && !ev->q_closed)
        if (pthread_cond_timedwait(&ev->rec_cv, &ev->mu, &dl) != 0)
            break;
    st_rec_op *op = ev->q_head;
    if (op) {
        ev->q_head = op->next;
        if (!ev->q_head)
            ev->q_tail = NULL;
        op->next = NULL;
    }
    pthread_mutex_unlock(&ev->mu);
    return op;
}

void st_events_rec_complete(st_events *ev, st_rec_reply *r, int rc, int64_t id, const st_err *e)
{
    if (!r)
        return;
    pthread_mutex_lock(&ev->mu);
    r->rc = rc;
    r->id = id;
    if (e)
        r->err = *e;
    r->done = true;
    pthread_cond_broadcast(&ev->reply_cv);
    pthread_mutex_unlock(&ev->mu);
}

void st_events_rec_close(st_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    ev->q_closed = true;
    pthread_cond_broadcast(&ev->rec_cv);
    pthread_mutex_unlock(&ev->mu);
}

bool st_events_rec_drained(st_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    bool d = ev->q_closed && !ev->q_head;
    pthread_mutex_unlock(&ev->mu);
    return d;
}

/* engine.c - the line's supervisor (engine.h): one thread polls discovery, starts a
 * worker per arriving unit, tells workers when their unit leaves, reaps finished
 * workers, enforces the per-try watchdog and the stop grace period. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "worker.h"

#define POLL_MS 200
#define PENDING_MAX 128

struct st_engine {
    st_engine_cfg cfg;
    st_line_ctl ctl;
    st_discovery *disc;
    pthread_t sup;
    bool sup_started;
    /* guarded by ctl.mu */
    st_worker *workers;
    st_found_port arrived[PENDING_MAX], left[PENDING_MAX]; /* supervisor's scratch */
    st_found_port pending[PENDING_MAX]; /* arrived, waiting for the slot's last worker */
    int npending;
    bool aborting;
    double stop_at;
    bool done;
};

void st_engine_cfg_default(st_engine_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->scan_usb = true;
    st_usb_filter_default(&cfg->filter);
    st_retry_limits_default(&cfg->limits);
    cfg->grace_s = 30;
}

static void publish_line(st_engine *e)
{
    pthread_mutex_lock(&e->ctl.mu);
    const st_fwref *fw = e->ctl.fw;
    const st_profile *p = &fw->fw.prof;
    st_events_set_line(e->ctl.ev, p->name, fw->digests, p->n_bauds ? p->bauds[0] : 115200);
    st_events_set_flags(e->ctl.ev, e->ctl.paused, e->ctl.stopping, e->cfg.locked);
    pthread_mutex_unlock(&e->ctl.mu);
}

int st_engine_new(const st_engine_cfg *cfg, st_engine **out, st_err *err)
{
    st_engine *e = calloc(1, sizeof *e);
    if (!e)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for the engine");
    e->cfg = *cfg;
    if (!*e->cfg.host && gethostname(e->cfg.host, sizeof e->cfg.host - 1) != 0)
        snprintf(e->cfg.host, sizeof e->cfg.host, "unknown");
    st_line_ctl *c = &e->ctl;
    pthread_mutex_init(&c->mu, NULL);
    st_cond_init_monotonic(&c->cv); /* st_engine_wait's deadline must not move with the wall clock */
    c->limits = cfg->limits;
    c->sync_attempts = cfg->sync_attempts;
    c->new_serial = cfg->new_serial;
    snprintf(c->operator_name, sizeof c->operator_name, "%s", cfg->operator_name);
    snprintf(c->host, sizeof c->host, "%s", e->cfg.host);
    if (st_events_new(&c->ev, err) < 0)
        goto fail;
    if (st_fwref_load(cfg->profile_path, *cfg->cache_dir ? cfg->cache_dir : NULL,
                      cfg->attempt_timeout_s, &c->fw, err) < 0)
        goto fail;
    if (*cfg->layout_path) {
        st_layout *L = malloc(sizeof *L);
        if (!L) {
            st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for the layout");
            goto fail;
        }
        int rc = st_layout_load(cfg->layout_path, L, err);
        if (rc == 0) {
            st_events_set_layout(c->ev, L);
            st_events_post(c->ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                           "layout %s: %d positions, %d x %d", cfg->layout_path, L->n, L->rows,
                           L->cols);
        }
        free(L);
        if (rc < 0)
            goto fail;
    }
    st_discovery_cfg dc = {.sim_dir = *cfg->sim_dir ? cfg->sim_dir : NULL,
                           .scan_usb = cfg->scan_usb,
                           .filter = cfg->filter};
    if (st_discovery_new(&dc, &e->disc, err) < 0)
        goto fail;
    publish_line(e);
    st_events_post(c->ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                   "line ready: profile %s (%s), operator %s on %s", c->fw->fw.prof.name,
                   c->fw->digests, *c->operator_name ? c->operator_name : "-", c->host);
    *out = e;
    return 0;
fail:
    st_fwref_free(c->fw);
    st_events_free(c->ev);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(e);
    return -1;
}

st_events *st_engine_events(st_engine *e)
{
    return e->ctl.ev;
}

/* ---- supervisor ---- */

static bool slot_has_worker_locked(st_engine *e, const char *slot)
{
    for (st_worker *w = e->workers; w; w = w->next)
        if (strcmp(w->port.slot, slot) == 0)
            return true;
    return false;
}

static void start_worker_locked(st_engine *e, const st_found_port *p)
{
    st_events *ev = e->ctl.ev;
    int slot = st_events_slot(ev, p->slot);
    st_err err;
    st_worker *w;
    if (e->ctl.records_broken) {
        st_events_post(ev, ST_EV_REFUSED, p->slot, NULL, 0, ST_PH_DB, ST_FC_CONFIG,
                       "not flashed: records are failing; free space or fix the database, then "
                       "restart the station");
        return;
    }
    if (slot < 0) {
        st_events_post(ev, ST_EV_REFUSED, p->slot, NULL, 0, ST_PH_NONE, ST_FC_CONFIG,
                       "not flashed: more than %d units attached at once", ST_MAX_SLOTS);
        return;
    }
    if (st_worker_start(&e->ctl, p, slot, &w, &err) < 0) {
        st_events_post(ev, ST_EV_REFUSED, p->slot, NULL, 0, ST_PH_NONE, ST_FC_CONFIG,
                       "not flashed: %s", err.msg);
        return;
    }
    w->next = e->workers;
    e->workers = w;
}

static void on_left_locked(st_engine *e, const st_found_port *p)
{
    for (int i = 0; i < e->npending; i++)
        if (strcmp(e->pending[i].slot, p->slot) == 0 && strcmp(e->pending[i].ident, p->ident) == 0) {
            e->pending[i] = e->pending[--e->npending];
            return;
        }
    for (st_worker *w = e->workers; w; w = w->next)
        if (strcmp(w->port.slot, p->slot) == 0 && strcmp(w->port.ident, p->ident) == 0)
            w->gone = true;
    pthread_cond_broadcast(&e->ctl.cv);
}

/* Unlink finished workers into *out (joined by the caller without the lock). */
static void collect_finished_locked(st_engine *e, st_worker **out)
{
    for (st_worker **pp = &e->workers; *pp;) {
        st_worker *w = *pp;
        if (w->finished) {
            *pp = w->next;
            w->next = *out;
            *out = w;
        } else {
            pp = &w->next;
        }
    }
}

static void watchdogs_locked(st_engine *e, double now)
{
    for (st_worker *w = e->workers; w; w = w->next)
        if (w->try_started > 0 && now - w->try_started > w->watchdog_s &&
            atomic_load(&w->abort) == ST_ABORT_NONE) {
            atomic_store(&w->abort, ST_ABORT_WATCHDOG);
            st_events_post(e->ctl.ev, ST_EV_INFO, w->port.slot, NULL, 0, ST_PH_NONE, ST_FC_TIMEOUT,
                           "watchdog: try running for %.0f s, aborting it", now - w->try_started);
        }
}

static void abort_all_locked(st_engine *e)
{
    e->aborting = true;
    for (st_worker *w = e->workers; w; w = w->next)
        atomic_store(&w->abort, ST_ABORT_STOP);
}

static void *supervisor(void *arg)
{
    st_engine *e = arg;
    st_line_ctl *c = &e->ctl;
    st_found_port *arrived = e->arrived, *left = e->left;
    for (int wait_ms = 0;; wait_ms = POLL_MS) { /* the first scan at once */
        int na = 0, nl = 0;
        st_err err;
        if (st_discovery_poll(e->disc, wait_ms, arrived, &na, left, &nl, PENDING_MAX, &err) < 0)
            st_events_post(c->ev, ST_EV_INFO, NULL, NULL, 0, ST_PH_NONE, ST_FC_IO, "port scan failed: %s",
                           err.msg);
        for (int i = 0; i < nl; i++)
            st_events_post(c->ev, ST_EV_DETACH, left[i].slot, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                           "unplugged from %s", left[i].dev);
        for (int i = 0; i < na; i++) {
            st_event ev = {.kind = ST_EV_ATTACH, .appeared = arrived[i].appeared};
            snprintf(ev.slot, sizeof ev.slot, "%s", arrived[i].slot);
            st_event_text(&ev, "plugged in at %s (%s %04x:%04x)", arrived[i].dev,
                     *arrived[i].bridge ? arrived[i].bridge : "bridge", arrived[i].vid, arrived[i].pid);
            st_events_publish(c->ev, &ev);
        }

        st_worker *finished = NULL;
        pthread_mutex_lock(&c->mu);
        for (int i = 0; i < nl; i++)
            on_left_locked(e, &left[i]);
        for (int i = 0; i < na && !c->stopping; i++)
            if (e->npending < PENDING_MAX)
                e->pending[e->npending++] = arrived[i];
        collect_finished_locked(e, &finished);
        pthread_mutex_unlock(&c->mu);

        for (st_worker *w = finished, *nx; w; w = nx) {
            nx = w->next;
            st_worker_join_free(w);
        }

        pthread_mutex_lock(&c->mu);
        for (int i = 0; i < e->npending && !c->stopping;) {
            if (slot_has_worker_locked(e, e->pending[i].slot)) {
                i++;
                continue;
            }
            start_worker_locked(e, &e->pending[i]);
            e->pending[i] = e->pending[--e->npending];
        }
        double now = st_now();
        watchdogs_locked(e, now);
        bool quit = false;
        if (c->stopping) {
            e->npending = 0;
            if (!e->aborting && now - e->stop_at > e->cfg.grace_s) {
                abort_all_locked(e);
                st_events_post(c->ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_INTERRUPTED,
                               "grace period of %.0f s over: aborting units in flight", e->cfg.grace_s);
            }
            quit = e->workers == NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (quit)
            break;
    }
    st_events_post(c->ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE, "line stopped");
    pthread_mutex_lock(&c->mu);
    e->done = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int st_engine_start(st_engine *e, st_err *err)
{
    pthread_mutex_lock(&e->ctl.mu);
    int rc = 0;
    if (!e->sup_started && !e->ctl.stopping) {
        rc = pthread_create(&e->sup, NULL, supervisor, e);
        e->sup_started = rc == 0;
    }
    pthread_mutex_unlock(&e->ctl.mu);
    if (rc != 0)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "cannot start the line's supervisor (error %d)", rc);
    return 0;
}

/* ---- operator controls ---- */

void st_engine_snapshot(st_engine *e, st_line_view *out)
{
    st_events_snapshot(e->ctl.ev, out);
}

int st_engine_events_since(st_engine *e, uint64_t after, st_event *out, int cap, uint64_t *lost)
{
    return st_events_since(e->ctl.ev, after, out, cap, lost);
}

bool st_engine_wait_event(st_engine *e, uint64_t after, int timeout_ms)
{
    return st_events_wait(e->ctl.ev, after, timeout_ms);
}

static void set_paused(st_engine *e, bool paused)
{
    pthread_mutex_lock(&e->ctl.mu);
    bool changed = e->ctl.paused != paused;
    e->ctl.paused = paused;
    pthread_cond_broadcast(&e->ctl.cv);
    pthread_mutex_unlock(&e->ctl.mu);
    publish_line(e);
    if (changed)
        st_events_post(e->ctl.ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE, "%s",
                       paused ? "paused: new units wait" : "resumed");
}

void st_engine_pause(st_engine *e)
{
    set_paused(e, true);
}

void st_engine_resume(st_engine *e)
{
    set_paused(e, false);
}

int st_engine_set_profile(st_engine *e, const char *name, st_err *err)
{
    if (e->cfg.locked)
        return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "the line is locked: the profile cannot be changed");
    char path[ST_PATH_MAX];
    /* an operator picks among the profiles of the search path; a file from anywhere only
     * when the station was started to allow it */
    if ((e->cfg.allow_profile_path ? st_profile_resolve : st_profile_find)(name, e->cfg.profile_search, path,
                                                                           sizeof path, err) < 0)
        return -1;
    st_fwref *fw;
    if (st_fwref_load(path, *e->cfg.cache_dir ? e->cfg.cache_dir : NULL, e->cfg.attempt_timeout_s,
                      &fw, err) < 0)
        return -1;
    pthread_mutex_lock(&e->ctl.mu);
    st_fwref *old = e->ctl.fw;
    e->ctl.fw = fw;
    bool free_old = old->refs == 0;
    pthread_mutex_unlock(&e->ctl.mu);
    if (free_old)
        st_fwref_free(old);
    publish_line(e);
    st_events_post(e->ctl.ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_PROFILE, ST_FC_NONE,
                   "profile %s (%s) for new units", fw->fw.prof.name, fw->digests);
    return 0;
}

void st_engine_stop(st_engine *e, bool abort_in_flight)
{
    pthread_mutex_lock(&e->ctl.mu);
    bool first = !e->ctl.stopping;
    bool escalate = abort_in_flight && !e->aborting;
    if (first) {
        e->ctl.stopping = true;
        e->stop_at = st_now();
        if (!e->sup_started)
            e->done = true; /* nothing ever ran */
    }
    if (escalate)
        abort_all_locked(e);
    pthread_cond_broadcast(&e->ctl.cv);
    pthread_mutex_unlock(&e->ctl.mu);
    publish_line(e);
    if (first)
        st_events_post(e->ctl.ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                       "stopping: no new units; units in flight %s",
                       abort_in_flight ? "are aborted" : "finish");
    else if (escalate)
        st_events_post(e->ctl.ev, ST_EV_LINE, NULL, NULL, 0, ST_PH_NONE, ST_FC_INTERRUPTED,
                       "aborting units in flight");
}

bool st_engine_done(st_engine *e)
{
    pthread_mutex_lock(&e->ctl.mu);
    bool d = e->done;
    pthread_mutex_unlock(&e->ctl.mu);
    return d;
}

bool st_engine_wait(st_engine *e, int timeout_ms)
{
    struct timespec dl;
    st_deadline_in(&dl, timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&e->ctl.mu);
    while (!e->done) {
        if (timeout_ms < 0)
            pthread_cond_wait(&e->ctl.cv, &e->ctl.mu);
        else if (pthread_cond_timedwait(&e->ctl.cv, &e->ctl.mu, &dl) != 0)
            break;
    }
    bool d = e->done;
    pthread_mutex_unlock(&e->ctl.mu);
    return d;
}

void st_engine_free(st_engine *e)
{
    if (!e)
        return;
    st_engine_stop(e, true);
    if (e->sup_started)
        pthread_join(e->sup, NULL);
    /* Without a supervisor no worker was ever started. */
    st_discovery_free(e->disc);
    st_fwref_free(e->ctl.fw);
    st_events_free(e->ctl.ev);
    pthread_cond_destroy(&e->ctl.cv);
    pthread_mutex_destroy(&e->ctl.mu);
    free(e);
}

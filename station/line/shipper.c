/* shipper.c - the background shipping thread (shipper.h). All state the other threads
 * touch is behind `mu` (stop request, deadline); the view goes out through the events
 * channel's lock. */
#include "shipper.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

struct st_shipper {
    st_events *ev;
    st_shipper_cfg cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;               /* under mu */
    double deadline;         /* under mu: monotonic time the drain ends */
    int64_t left;            /* written by the thread before it ends, read after join */

    /* thread only */
    st_db *db;
    st_central *c;
    st_central_view view;
    char last_err[400];
    st_central_station st;     /* this station, as attached */
    bool confirm;              /* connected, not yet online: the next batch that goes through says so */
    bool skew_told;
    double next_bin;           /* monotonic time of the next bin question */
    st_bin_elsewhere *told;    /* the last answer handed to the line (told_n long) */
    int told_n;
};

/* Wait up to s seconds or until stop is requested; true when stopping. */
static bool nap(st_shipper *s, double secs)
{
    struct timespec ts;
    st_deadline_in(&ts, (int)(secs * 1000)); /* monotonic: a clock step changes no nap */
    pthread_mutex_lock(&s->mu);
    while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0) {
    }
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* 0 running, 1 draining (stop asked, deadline not reached), 2 done. */
static int stop_state(st_shipper *s)
{
    pthread_mutex_lock(&s->mu);
    int st = !s->stop ? 0 : st_now() < s->deadline ? 1 : 2;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void publish(st_shipper *s)
{
    st_central_view *v = &s->view;
    if (v->online) {
        snprintf(v->text, sizeof v->text, "central: online, %llu record%s waiting", (unsigned long long)v->waiting,
                 v->waiting == 1 ? "" : "s");
    } else {
        time_t t = (time_t)(v->offline_since_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        snprintf(v->text, sizeof v->text, "central: offline since %02d:%02d, %llu record%s waiting", tm.tm_hour,
                 tm.tm_min, (unsigned long long)v->waiting, v->waiting == 1 ? "" : "s");
    }
    st_events_set_central(s->ev, v);
}

/* The same problem again: the messages are equal but for their numbers (a retry's
 * message counts the rows of the batch, which grows while the line goes on). */
static bool same_problem(const char *a, const char *b)
{
    for (;;) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (isdigit((unsigned char)*a))
                a++;
            while (isdigit((unsigned char)*b))
                b++;
            continue;
        }
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++, b++;
    }
}

static void go_offline(st_shipper *s, const st_err *e)
{
    if (s->c) {
        st_central_close(s->c);
        s->c = NULL;
    }
    bool was_online = s->view.online || !s->view.offline_since_ms;
    if (was_online)
        s->view.offline_since_ms = st_db_now_ms();
    s->view.online = false;
    int64_t w;
    st_err e2;
    if (s->db && st_central_waiting_cached(s->db, &w, &e2) == 0)
        s->view.waiting = (uint64_t)w;
    /* one event per distinct problem, not one per retry */
    if (was_online || !same_problem(s->last_err, e->msg)) {
        snprintf(s->last_err, sizeof s->last_err, "%s", e->msg);
        st_events_post(s->ev, ST_EV_CENTRAL, NULL, NULL, 0, ST_PH_DB, ST_FC_CONFIG,
                       "central: offline, the line goes on and ships later: %s%s%s", e->msg, *e->hint ? "; " : "",
                       e->hint);
    }
    publish(s);
}

static bool connect_attach(st_shipper *s)
{
    st_err err;
    st_central_station st;
    st_db_opts ro = {.read_only = true};
    if (!s->db && st_db_open(s->cfg.db_path, &ro, &s->db, &err) < 0) {
        go_offline(s, &err);
        return false;
    }
    if (st_central_station_of(s->db, &st, &err) < 0 || st_central_open(s->cfg.conninfo, &s->c, &err) < 0 ||
        st_central_attach(s->c, &st, &err) < 0) {
        go_offline(s, &err);
        return false;
    }
    /* Connected is not yet online: a server that takes connections but refuses the
     * batches (a full disk) must not flap offline/online on every retry. */
    s->st = st;
    s->confirm = !s->view.online;
    int64_t w = 0;
    if (st_central_waiting(s->c, s->db, &w, &err) == 0)
        s->view.waiting = (uint64_t)w;
    publish(s);
    return true;
}

/* A batch went through after a connect: online (again). */
static void confirm_online(st_shipper *s)
{
    s->confirm = false;
    s->view.online = true;
    s->view.offline_since_ms = 0;
    s->last_err[0] = '\0';
    st_events_post(s->ev, ST_EV_CENTRAL, NULL, NULL, 0, ST_PH_DB, ST_FC_NONE,
                   "central: online as station %s (%s), %llu records waiting", s->st.name, s->st.uuid,
                   (unsigned long long)s->view.waiting);
    publish(s);
}

/* One batch; -1 on failure (now offline), else rows shipped. */
static int64_t ship_once(st_shipper *s)
{
    st_err err;
    st_central_progress p;
    if (st_central_ship(s->c, s->db, s->cfg.batch, &p, &err) < 0) {
        go_offline(s, &err);
        return -1;
    }
    if (!s->skew_told && (p.clock_offset_ms > ST_CENTRAL_SKEW_WARN_MS || p.clock_offset_ms < -ST_CENTRAL_SKEW_WARN_MS)) {
        s->skew_told = true;
        st_events_post(s->ev, ST_EV_CENTRAL, NULL, NULL, 0, ST_PH_DB, ST_FC_CONFIG,
                       "central: this station's clock is %.0f s %s the server's; central records are ordered by "
                       "the server's time (fix the clock: NTP)",
                       (p.clock_offset_ms < 0 ? -p.clock_offset_ms : p.clock_offset_ms) / 1000.0,
                       p.clock_offset_ms < 0 ? "ahead of" : "behind");
    }
    if (s->confirm)
        confirm_online(s); /* with the count waiting at connect */
    if (p.shipped || s->view.waiting != (uint64_t)p.waiting) {
        s->view.waiting = (uint64_t)p.waiting;
        publish(s);
    }
    return p.shipped;
}

/* ---- the retry bin elsewhere ---- */

typedef struct {
    st_bin_elsewhere *v;
    int n, cap;
    bool oom;
} elsewhere_list;

static bool was_told(const st_shipper *s, const st_bin_elsewhere *e)
{
    for (int i = 0; i < s->told_n; i++)
        if (s->told[i].id == e->id && s->told[i].last_fail_ms == e->last_fail_ms)
            return true;
    return false;
}

static int add_elsewhere(void *user, const st_db_bin_entry *b, const st_central_pass *p)
{
    elsewhere_list *l = user;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        st_bin_elsewhere *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return l->oom = true;
        l->v = nv;
        l->cap = nc;
    }
    st_bin_elsewhere *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->id = b->id;
    e->last_fail_ms = b->last_fail_ms;
    e->passed_ms = p->at_ms;
    snprintf(e->mac, sizeof e->mac, "%s", b->mac);
    snprintf(e->station, sizeof e->station, "%s", p->station);
    return 0;
}

/* Ask which open local bin entries passed elsewhere and hand the answer to the line;
 * false on failure (now offline). An answer that could not be complete (out of memory)
 * is not handed over: the line keeps the last one. */
static bool check_bin(st_shipper *s)
{
    s->next_bin = st_now() + s->cfg.bin_every_s;
    elsewhere_list l = {0};
    st_err err;
    if (st_central_bin_elsewhere(s->c, s->db, add_elsewhere, &l, &err) < 0) {
        free(l.v);
        go_offline(s, &err);
        return false;
    }
    if (l.oom || st_events_set_bin_elsewhere(s->ev, l.v, l.n) < 0) {
        free(l.v);
        return true;
    }
    for (int i = 0; i < l.n; i++) {
        const st_bin_elsewhere *e = &l.v[i];
        if (was_told(s, e))
            continue;
        time_t t = (time_t)(e->passed_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        st_events_post(s->ev, ST_EV_CENTRAL, NULL, e->mac, 0, ST_PH_DB, ST_FC_NONE,
                       "central: %s passed on station %s at %02d:%02d, after its failure here: "
                       "no longer waiting in this station's retry bin",
                       e->mac, e->station, tm.tm_hour, tm.tm_min);
    }
    free(s->told);
    s->told = l.v;
    s->told_n = l.n;
    return true;
}

static void *run(void *arg)
{
    st_shipper *s = arg;
    double backoff = 0.5;
    for (;;) {
        int st = stop_state(s);
        if (st == 2)
            break;
        if (!s->c) {
            if (connect_attach(s))
                continue; /* the backoff is reset by a batch that goes through */
            if (st == 1 || nap(s, backoff))
                break; /* stopping: no more reconnects */
            backoff = backoff * 2 > s->cfg.backoff_max_s ? s->cfg.backoff_max_s : backoff * 2;
            continue;
        }
        int64_t n = ship_once(s);
        if (n >= 0)
            backoff = 0.5;
        if (n >= 0 && s->cfg.watch_bin && st == 0 && st_now() >= s->next_bin && !check_bin(s))
            n = -1;
        if (n > 0)
            continue;
        if (st == 1 && n == 0)
            break; /* drained */
        if (st == 1)
            break;
        if (nap(s, n < 0 ? backoff : s->cfg.idle_s) && stop_state(s) == 2)
            break;
    }
    /* what is left now: the line kept recording while we were away or napping */
    st_err err;
    int64_t w = (int64_t)s->view.waiting;
    if (s->db && (s->c ? st_central_waiting(s->c, s->db, &w, &err) : st_central_waiting_cached(s->db, &w, &err)) == 0)
        s->view.waiting = (uint64_t)w;
    s->left = w;
    publish(s);
    st_central_close(s->c);
    s->c = NULL;
    st_db_close(s->db);
    s->db = NULL;
    free(s->told);
    s->told = NULL;
    return NULL;
}

int st_shipper_start(st_events *ev, const st_shipper_cfg *cfg, st_shipper **out, st_err *err)
{
    st_shipper *s = calloc(1, sizeof *s);
    if (!s)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for the shipper");
    s->ev = ev;
    s->cfg = *cfg;
    if (s->cfg.batch <= 0)
        s->cfg.batch = 500;
    if (s->cfg.idle_s <= 0)
        s->cfg.idle_s = 1.0;
    if (s->cfg.backoff_max_s <= 0)
        s->cfg.backoff_max_s = 10.0;
    if (s->cfg.bin_every_s <= 0)
        s->cfg.bin_every_s = 5.0;
    s->view.configured = true;
    pthread_mutex_init(&s->mu, NULL);
    st_cond_init_monotonic(&s->cv);
    s->view.offline_since_ms = 0;
    snprintf(s->view.text, sizeof s->view.text, "central: connecting");
    st_events_set_central(ev, &s->view);
    int rc = pthread_create(&s->thread, NULL, run, s);
    if (rc != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "cannot start the shipping thread (error %d)", rc);
    }
    *out = s;
    return 0;
}

int64_t st_shipper_stop(st_shipper *s, double drain_s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    s->deadline = st_now() + drain_s;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    int64_t left = s->left;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return left;
}

/* tui_fake.c - a fake line for the dashboard: every slot runs a fixed, time-driven
 * script (arrive, sync, stub, write, verify, PASS, unplug) with some units failing, so
 * the dashboard can be developed and tested without the engine or the simulator.
 *
 *   tui_fake [--slots N] [--locked] [--seconds S] [--speed X]
 *
 * The script is a pure function of the elapsed time, so a test knows what must show. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

typedef struct fake {
    int nslots;
    double t0, speed;
    bool paused;
    double paused_at, paused_total;
    char profile[64];
    st_line_view v; /* events accumulate across snapshots */
    uint64_t seq;
    int last_done[ST_MAX_SLOTS];
} fake;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CYCLE 14.0 /* seconds per unit in a slot; a unit is in flight from 1.0 to 10.0 */
/* Arrival offset between neighbouring slots. With 8 slots the busy spans overlap
 * (7 x 0.75 > 14 - 9), so from the first arrival on some unit is always in flight: the
 * dashboard test's refusals (P, q) must not meet an idle line by chance. */
#define STAGGER 0.75

/* Unit k of slot i: does it fail, and how? Unit 1 of slot 2 needs a retry (01 07). */
static st_fclass unit_fails(int i, int k) { return (i + k) % 5 == 4 ? ST_FC_MD5_MISMATCH : ST_FC_NONE; }
static bool unit_retries(int i, int k) { return i == 1 && k == 1; }

static void add_event(fake *f, double t, int slot_no, const char *fmt, const char *arg)
{
    st_line_view *v = &f->v;
    if (v->nevents == ST_VIEW_EVENTS) {
        memmove(&v->events[0], &v->events[1], sizeof v->events[0] * (ST_VIEW_EVENTS - 1));
        v->nevents--;
    }
    st_event_view *e = &v->events[v->nevents++];
    e->seq = ++f->seq;
    e->t = t;
    e->wall = (double)time(NULL) - (f->v.uptime_s - t);
    snprintf(e->slot, sizeof e->slot, "slot%d", slot_no);
    snprintf(e->text, sizeof e->text, fmt, arg);
}

static void fill_slot(fake *f, int i, double t, st_slot_view *s)
{
    double start = STAGGER * i;
    double lt = t - start;
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "slot%d", i + 1);
    snprintf(s->port, sizeof s->port, "/tmp/sim/slot%d", i + 1);
    snprintf(s->bridge, sizeof s->bridge, i % 3 == 2 ? "CH9102" : "CP2104");
    s->vid = i % 3 == 2 ? 0x1a86 : 0x10c4;
    s->pid = i % 3 == 2 ? 0x55d4 : 0xea60;
    s->baud = 921600;
    s->eta_s = -1;
    if (lt < 0) {
        s->state = ST_SLOT_EMPTY;
        return;
    }
    int k = (int)(lt / CYCLE);
    double c = fmod(lt, CYCLE);
    s->units_done = (uint64_t)k;
    st_fclass fc = unit_fails(i, k);
    snprintf(s->mac, sizeof s->mac, "24:0a:c4:%02x:%02x:%02x", i & 0xff, k & 0xff, (i * 7 + k) & 0xff);
    snprintf(s->chip, sizeof s->chip, "ESP32-D0WD-V3 (revision v3.0)");
    s->flash_id = 0x1840ef;
    s->attempt = 1;
    s->elapsed_s = c - 1.0;
    if (c < 1.0) {
        s->state = f->paused ? ST_SLOT_EMPTY : ST_SLOT_EMPTY;
        s->mac[0] = s->chip[0] = '\0';
        s->flash_id = 0;
        return;
    }
    if (unit_retries(i, k) && c >= 2.0 && c < 3.0) {
        s->state = ST_SLOT_RETRYING;
        s->phase = ST_PH_STUB;
        s->fclass = ST_FC_STUB_RAM_CHECKSUM;
        snprintf(s->error, sizeof s->error, "stub_upload, MEM_DATA: block 0 rejected, status 01 07 "
                 "00 00 (checksum error)");
        snprintf(s->hint, sizeof s->hint, "%s", st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM));
        return;
    }
    if (unit_retries(i, k) && c >= 3.0)
        s->attempt = 2;
    s->state = ST_SLOT_BUSY;
    if (c < 2.0) {
        s->phase = ST_PH_SYNC;
    } else if (c < 3.0) {
        s->phase = ST_PH_STUB;
        s->total = 8192;
        s->done = (uint64_t)((c - 2.0) * 8192);
    } else if (c < 9.0) {
        s->phase = ST_PH_WRITE;
        s->total = 1310720;
        s->done = (uint64_t)((c - 3.0) / 6.0 * s->total);
        s->rate_bps = s->total / 6.0;
        s->eta_s = 9.0 - c;
    } else if (c < 10.0) {
        s->phase = ST_PH_VERIFY;
    } else {
        s->phase = ST_PH_DONE;
        s->total = 1310720;
        s->done = fc ? s->total / 2 : s->total;
        s->state = fc ? ST_SLOT_FAIL : ST_SLOT_PASS;
        s->fclass = fc;
        s->rate_bps = s->total / 6.0;
        if (fc) {
            s->phase = ST_PH_VERIFY;
            snprintf(s->error, sizeof s->error, "verify, SPI_FLASH_MD5: region 0x10000 digest "
                     "differs from the image");
            snprintf(s->hint, sizeof s->hint, "%s", st_fclass_hint(fc));
        }
    }
}

static void snapshot(void *user, st_line_view *out)
{
    fake *f = user;
    double now = now_s();
    double t = ((f->paused ? f->paused_at : now) - f->t0 - f->paused_total) * f->speed;
    st_line_view *v = &f->v;
    snprintf(v->profile, sizeof v->profile, "%s", f->profile);
    snprintf(v->digests, sizeof v->digests, "bl 1a2b3c4d pt 5e6f7a8b app 9c0d1e2f");
    v->baud = 921600;
    v->paused = f->paused;
    v->nslots = f->nslots;
    v->uptime_s = (now - f->t0) * f->speed;
    v->passed = v->failed = v->in_flight = 0;
    v->nbin = 0;
    for (int i = 0; i < f->nslots; i++) {
        st_slot_view *s = &v->slots[i];
        fill_slot(f, i, t, s);
        /* Units finished so far: every whole cycle, plus this one once it has a result. */
        int done = (int)s->units_done + (s->state == ST_SLOT_PASS || s->state == ST_SLOT_FAIL);
        for (int k = 0; k < done; k++) {
            st_fclass fc = unit_fails(i, k);
            if (!fc) {
                v->passed++;
                continue;
            }
            v->failed++;
            if (v->nbin < ST_VIEW_BIN) {
                /* Newest first, as the engine mirrors the bin. */
                memmove(&v->bin[1], &v->bin[0], sizeof v->bin[0] * (size_t)v->nbin);
                v->nbin++;
                st_bin_view *b = &v->bin[0];
                snprintf(b->mac, sizeof b->mac, "24:0a:c4:%02x:%02x:%02x", i & 0xff, k & 0xff,
                         (i * 7 + k) & 0xff);
                snprintf(b->slot, sizeof b->slot, "%s", s->name);
                b->fclass = fc;
                b->phase = ST_PH_VERIFY;
                b->attempts = 2;
                snprintf(b->hint, sizeof b->hint, "%s", st_fclass_hint(fc));
            }
        }
        if (done > f->last_done[i]) {
            bool fail = unit_fails(i, done - 1) != ST_FC_NONE;
            add_event(f, t, i + 1, fail ? "FAIL md5_mismatch %s: to the retry bin" : "PASS %s",
                      s->mac);
            f->last_done[i] = done;
        }
        if (s->state == ST_SLOT_BUSY || s->state == ST_SLOT_RETRYING)
            v->in_flight++;
    }
    v->in_bin = v->failed;
    uint64_t fin = v->passed + v->failed;
    v->yield = fin ? (double)v->passed / fin : 0;
    v->units_per_hour = v->uptime_s > 0 ? fin * 3600.0 / v->uptime_s : 0;
    /* the central store has been away since the fake line started: every record waits */
    v->central.configured = true;
    v->central.online = false;
    v->central.waiting = fin;
    time_t t0 = time(NULL) - (time_t)(now - f->t0);
    struct tm tm;
    localtime_r(&t0, &tm);
    v->central.offline_since_ms = (int64_t)t0 * 1000;
    snprintf(v->central.text, sizeof v->central.text, "central: offline since %02d:%02d, %llu record%s waiting",
             tm.tm_hour, tm.tm_min, (unsigned long long)fin, fin == 1 ? "" : "s");
    *out = *v;
}

static void set_paused(void *user, bool paused)
{
    fake *f = user;
    if (paused == f->paused)
        return;
    if (paused)
        f->paused_at = now_s();
    else
        f->paused_total += now_s() - f->paused_at;
    f->paused = paused;
}

static int set_profile(void *user, const char *name, st_err *err)
{
    fake *f = user;
    if (strcmp(name, "broken") == 0)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "broken.ini line 3: unknown key");
    snprintf(f->profile, sizeof f->profile, "%s", name);
    return 0;
}

static int list_profiles(void *user, char *buf, size_t cap)
{
    snprintf(buf, cap, "demo\ncore2-factory\nfire-factory\nbroken\n");
    return 4;
}

static int history(void *user, const char *mac, char *buf, size_t cap, st_err *err)
{
    snprintf(buf, cap,
             "2024-05-01 09:12:03  slot2  try 1  FAIL stub_ram_checksum  status 01 07 00 00\n"
             "2024-05-01 09:12:05  slot2  try 2  PASS  1.25 MiB in 6.1 s  (%s)", mac);
    return 2;
}

static atomic_int quit;
static void on_signal(int sig) { atomic_store(&quit, 1); }

int main(int argc, char **argv)
{
    static fake f;
    f.nslots = 8;
    f.speed = 1.0;
    snprintf(f.profile, sizeof f.profile, "demo");
    st_tui_config cfg = {.ops = {.user = &f, .snapshot = snapshot, .set_paused = set_paused,
                                 .set_profile = set_profile, .list_profiles = list_profiles,
                                 .history = history},
                         .quit = &quit, .title = "FLASH STATION (fake line)"};
    double seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--slots") && i + 1 < argc)
            f.nslots = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--locked"))
            cfg.locked = true;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--speed") && i + 1 < argc)
            f.speed = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--slots N] [--locked] [--seconds S] [--speed X]\n", argv[0]);
            return 2;
        }
    }
    if (f.nslots < 1 || f.nslots > ST_MAX_SLOTS || f.speed <= 0) {
        fprintf(stderr, "--slots must be 1..%d and --speed positive\n", ST_MAX_SLOTS);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (seconds > 0) {
        signal(SIGALRM, on_signal);
        alarm((unsigned)ceil(seconds));
    }
    f.t0 = now_s();
    st_err err;
    if (st_tui_run(&cfg, &err) != 0) {
        fprintf(stderr, "tui_fake: %s\n%s\n", err.msg, err.hint);
        return 1;
    }
    return 0;
}

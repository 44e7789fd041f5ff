/* test_engine_lib - the engine and its recorder driven as a library (what `station run`
 * and the dashboard call), against the simulator.
 *
 * usage: test_engine_lib CASE ESP32SIM PROFILE_DIR
 *   begin_fail  the store fills up while the line runs: every begin record fails, so no
 *               unit is touched (not even synced) and each is reported refused
 *   controls    pause holds new units (slot PAUSED, nothing recorded), a profile change
 *               while paused applies to them, resume lets them flash
 *   wait_clockstep  (under LD_PRELOAD of the clockshift library) the engine's and the
 *               channel's timed waits last their time on the monotonic clock while the
 *               wall clock is stepped back and forward by an hour */
#include "engine_harness.h"

#include <sys/syscall.h>

#include "clock.h"
#include "discovery.h"
#include "engine.h"
#include "recorder.h"

static const char *g_sim, *g_profdir;
static char g_run[64];

static bool wait_events(st_engine *e, const char *kind, int count, int ms)
{
    static st_event buf[1024];
    for (int i = 0; i <= ms / 50; i++) {
        int n = st_engine_events_since(e, 0, buf, 1024, NULL), seen = 0;
        for (int k = 0; k < n; k++)
            seen += !strcmp(st_ev_kind_name(buf[k].kind), kind);
        if (seen >= count)
            return true;
        harness_sleep_ms(50);
    }
    return false;
}

/* Poll the snapshot until n slots are in state s, or ms pass. */
static bool wait_slots(st_engine *e, st_slot_state s, int n, int ms)
{
    st_line_view *v = malloc(sizeof *v);
    bool ok = false;
    for (int i = 0; v && !ok && i <= ms / 50; i++) {
        st_engine_snapshot(e, v);
        int k = 0;
        for (int j = 0; j < v->nslots; j++)
            k += v->slots[j].state == s;
        ok = k >= n;
        if (!ok)
            harness_sleep_ms(50);
    }
    free(v);
    return ok;
}

static void print_events(st_engine *e)
{
    static st_event buf[1024];
    int n = st_engine_events_since(e, 0, buf, 1024, NULL);
    for (int k = 0; k < n; k++)
        fprintf(stderr, "  %8.3f %-8s %-10s %s\n", buf[k].t, buf[k].slot, st_ev_kind_name(buf[k].kind),
                buf[k].text);
}

static void engine_cfg(st_engine_cfg *cfg, const char *sim_dir, const char *profile)
{
    st_engine_cfg_default(cfg);
    snprintf(cfg->profile_path, sizeof cfg->profile_path, "%s/%s.ini", g_profdir, profile);
    snprintf(cfg->profile_search, sizeof cfg->profile_search, "%s", g_profdir);
    snprintf(cfg->sim_dir, sizeof cfg->sim_dir, "%s", sim_dir);
    cfg->scan_usb = false;
    snprintf(cfg->operator_name, sizeof cfg->operator_name, "lib");
}

/* Fill the store until no attempt row fits any more (SQLITE_FULL through the
 * max_page_count hook, exactly what a full disk looks like). */
static st_db *full_store(const char *path)
{
    st_db *db;
    st_err err;
    if (st_db_open(path, NULL, &db, &err) < 0)
        return NULL;
    st_db_close(db);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return NULL;
    st_db_opts cap = {.max_page_count = (int)(sb.st_size / 4096) + 4};
    if (st_db_open(path, &cap, &db, &err) < 0) {
        fprintf(stderr, "open with a cap: %s\n", err.msg);
        return NULL;
    }
    for (int bulky = 1; bulky >= 0; bulky--) {
        for (int i = 0; i < 100000; i++) {
            st_db_attempt a = {0};
            snprintf(a.port, sizeof a.port, "filler");
            a.try_no = 1;
            if (bulky)
                memset(a.detail, 'x', sizeof a.detail - 1);
            if (st_db_attempt_begin(db, &a, &err) < 0)
                break;
        }
    }
    return db;
}

static void case_begin_fail(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/full.db", g_run);
    st_db *db = full_store(path);
    if (!CHECK(db != NULL))
        return;
    const char *sargs[] = {"--units", "2", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs))) {
        st_db_close(db);
        return;
    }
    st_engine_cfg cfg;
    engine_cfg(&cfg, sim.dir, "demo");
    st_engine *e = NULL;
    st_recorder *rec = NULL;
    st_err err;
    if (CHECK_EQ_INT(st_engine_new(&cfg, &e, &err), 0) &&
        CHECK_EQ_INT(st_recorder_start(st_engine_events(e), db, &rec, &err), 0) &&
        CHECK_EQ_INT(st_engine_start(e, &err), 0)) {
        CHECK(wait_events(e, "refused", 2, 15000));
        st_line_view *v = malloc(sizeof *v);
        st_engine_snapshot(e, v);
        CHECK_EQ_INT(v->nslots, 2);
        for (int i = 0; i < v->nslots; i++) {
            CHECK_EQ_INT(v->slots[i].state, ST_SLOT_FAIL);
            CHECK_EQ_INT(v->slots[i].attempt, 0); /* no try ever began */
            CHECK_CONTAINS(v->slots[i].error, "database");
        }
        CHECK_EQ_INT(v->passed + v->failed, 0);
        free(v);
        harness_sleep_ms(300);
        /* Not touched at all: no SYNC reached the units, nothing was written. */
        CHECK(!strstr(sim_log_text(&sim), "SYNC"));
        CHECK(flash_untouched(&sim, 1, 0x1000, 0x1000));
        CHECK(flash_untouched(&sim, 2, 0x1000, 0x1000));
        st_engine_stop(e, false);
        CHECK(st_engine_wait(e, 10000));
    } else {
        fprintf(stderr, "setup: %s\n", err.msg);
    }
    if (check_state_()->failures && e)
        print_events(e);
    CHECK(st_recorder_stop(rec) >= 2); /* the failed begins are counted */
    st_engine_free(e);
    rec_set r;
    if (CHECK(rec_load(path, &r))) {
        for (int i = 0; i < r.na; i++)
            CHECK_STR(r.a[i].port, "filler"); /* no attempt of the line's units */
        rec_free(&r);
    }
    if (check_state_()->failures)
        sim_dump_log(&sim);
    sim_stop(&sim);
}

static void case_controls(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/st.db", g_run);
    const char *sargs[] = {"--units", "2", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    st_engine_cfg cfg;
    engine_cfg(&cfg, sim.dir, "demo");
    st_engine *e = NULL;
    st_recorder *rec = NULL;
    st_db *db = NULL;
    st_err err;
    st_line_view *v = calloc(1, sizeof *v);
    if (CHECK_EQ_INT(st_engine_new(&cfg, &e, &err), 0) &&
        CHECK_EQ_INT(st_db_open(path, NULL, &db, &err), 0) &&
        CHECK_EQ_INT(st_recorder_start(st_engine_events(e), db, &rec, &err), 0)) {
        st_engine_pause(e);
        CHECK_EQ_INT(st_engine_start(e, &err), 0);
        CHECK(wait_events(e, "worker", 2, 10000));
        /* each worker shows PAUSED once it has seen the pause (after its worker event) */
        CHECK(wait_slots(e, ST_SLOT_PAUSED, 2, 10000));
        harness_sleep_ms(400); /* had the pause not held them, they would be flashing now */
        st_engine_snapshot(e, v);
        CHECK(v->paused);
        CHECK_STR(v->profile, "demo");
        CHECK_EQ_INT(v->nslots, 2);
        for (int i = 0; i < v->nslots; i++)
            CHECK_EQ_INT(v->slots[i].state, ST_SLOT_PAUSED);
        CHECK_EQ_INT(v->in_flight, 0);
        /* A name is looked up in the profile folders; an unknown one changes nothing. */
        CHECK_EQ_INT(st_engine_set_profile(e, "no-such-profile", &err), -1);
        /* A path is refused unless the line was started to allow paths (cfg default:
         * not), even one into a profile folder; so is a name that climbs out of it. */
        char p2[700];
        snprintf(p2, sizeof p2, "%s/demo-rom.ini", g_profdir);
        CHECK_EQ_INT(st_engine_set_profile(e, p2, &err), -1);
        CHECK_CONTAINS(err.msg, "is a path: only the profiles on the profile search path");
        CHECK_CONTAINS(err.hint, "--allow-profile-path");
        CHECK_EQ_INT(st_engine_set_profile(e, "../profiles/demo-rom", &err), -1);
        st_engine_snapshot(e, v);
        CHECK_STR(v->profile, "demo");
        CHECK_EQ_INT(st_engine_set_profile(e, "demo-rom", &err), 0);
        st_engine_snapshot(e, v);
        CHECK_STR(v->profile, "demo-rom");
        st_engine_resume(e);
        CHECK(wait_events(e, "pass", 2, 20000));
        st_engine_snapshot(e, v);
        CHECK(!v->paused);
        CHECK_EQ_INT(v->passed, 2);
        CHECK(v->yield > 0.99);
        for (int i = 0; i < v->nslots; i++) {
            CHECK_EQ_INT(v->slots[i].state, ST_SLOT_PASS);
            CHECK_EQ_INT(v->slots[i].attempt, 1);
            CHECK(v->slots[i].mac[0] != '\0');
        }
        st_engine_stop(e, false);
        CHECK(st_engine_wait(e, 10000));
        st_engine_snapshot(e, v);
        CHECK(v->stopping);
    } else {
        fprintf(stderr, "setup: %s\n", err.msg);
    }
    if (check_state_()->failures && e)
        print_events(e);
    CHECK_EQ_INT(st_recorder_stop(rec), 0);
    st_engine_free(e);
    free(v);
    rec_set r;
    if (CHECK(rec_load(path, &r))) {
        CHECK_EQ_INT(r.na, 2);
        for (int i = 0; i < r.na; i++) {
            CHECK_STR(r.a[i].profile, "demo-rom");
            CHECK_EQ_INT(r.a[i].outcome, ST_DB_PASS);
            CHECK_STR(r.a[i].operator_name, "lib");
        }
        rec_free(&r);
    }
    if (check_state_()->failures)
        sim_dump_log(&sim);
    sim_stop(&sim);
}

/* ---- wall-clock steps and timed waits ---- */

/* The kernel's wall clock, past the shim. */
static double real_wall(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void case_wait_clockstep(void)
{
    const char *shift = getenv("ST_CLOCKSHIFT_FILE");
    if (!CHECK(shift && *shift && clock_shift(shift, 0))) {
        fprintf(stderr, "wait_clockstep: run it with the clockshift library and ST_CLOCKSHIFT_FILE\n");
        return;
    }
    char empty[300];
    snprintf(empty, sizeof empty, "%s/empty", g_run);
    mkdir(empty, 0755);
    st_engine_cfg cfg;
    engine_cfg(&cfg, empty, "demo");
    st_engine *e = NULL;
    st_err err;
    if (!CHECK_EQ_INT(st_engine_new(&cfg, &e, &err), 0)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return;
    }
    st_events *ev = st_engine_events(e);
    /* A deadline taken on the wall clock would pass at once a step back (an hour in the
     * past for the kernel), and lie an hour away a step forward: alarm() ends that hang. */
    alarm(40);
    static const int64_t steps[] = {-3600, 3600, 0};
    for (int i = 0; i < 3; i++) {
        CHECK(clock_shift(shift, steps[i]));
        double seen = st_wall_now() - real_wall();
        if (!CHECK(fabs(seen - (double)steps[i]) < 60))
            fprintf(stderr, "the shim shows a %+.0f s step, not %+lld s\n", seen, (long long)steps[i]);
        double t0 = st_now();
        CHECK(!st_engine_wait(e, 300));
        double t1 = st_now();
        CHECK(!st_events_wait(ev, 1u << 30, 300));
        double t2 = st_now();
        CHECK(st_events_rec_pop(ev, 300) == NULL);
        double t3 = st_now();
        if (!CHECK(t1 - t0 >= 0.3 && t2 - t1 >= 0.3 && t3 - t2 >= 0.3))
            fprintf(stderr, "step %+lld s: 300 ms waits took %.3f, %.3f, %.3f s\n",
                    (long long)steps[i], t1 - t0, t2 - t1, t3 - t2);
    }
    st_engine_free(e);

    /* Discovery: a port without its sidecar is taken after 1 s of watching it, also when
     * the wall clock stands an hour behind the file times the kernel keeps. */
    char dir[300], link[340];
    snprintf(dir, sizeof dir, "%s/bare", g_run);
    snprintf(link, sizeof link, "%s/slot1", dir);
    mkdir(dir, 0755);
    CHECK_EQ_INT(symlink("/dev/null", link), 0);
    CHECK(clock_shift(shift, -3600));
    st_discovery_cfg dc = {.sim_dir = dir};
    st_usb_filter_default(&dc.filter);
    st_discovery *d;
    if (CHECK_EQ_INT(st_discovery_new(&dc, &d, &err), 0)) {
        st_found_port arr[4], left[4];
        int na = 0, nl = 0;
        double t0 = st_now(), took = -1;
        for (int i = 0; i < 50 && took < 0; i++) /* bounded: 50 polls of at most 200 ms */
            if (st_discovery_poll(d, 200, arr, &na, left, &nl, 4, &err) == 0 && na == 1)
                took = st_now() - t0;
        if (CHECK(took >= 0)) {
            CHECK(took >= 1.0); /* it waited its grace for the sidecar */
            /* and once taken it stays: no leave on the next poll */
            CHECK_EQ_INT(st_discovery_poll(d, 0, arr, &na, left, &nl, 4, &err), 0);
            CHECK_EQ_INT(na + nl, 0);
        }
        st_discovery_free(d);
    }
    CHECK(clock_shift(shift, 0));
    alarm(0);
}

static const check_case cases[] = {
    {"begin_fail", case_begin_fail},
    {"controls", case_controls},
    {"wait_clockstep", case_wait_clockstep},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_profdir))
        return 2;
    harness_run_dir(g_run, sizeof g_run, "englib");
    int rc = CHECK_RUN_CASE(argv[1], cases);
    harness_rm_tree(g_run);
    return rc;
}

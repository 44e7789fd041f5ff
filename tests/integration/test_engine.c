/* test_engine - the production line end to end: `station run` against the simulator,
 * checked through its JSON events, the record store and the units' flash files.
 *
 * usage: test_engine CASE STATION ESP32SIM PROFILE_DIR
 *   batch16   16 slots with a mix of faults (+1 unit replacing a binned one): one final
 *             outcome per unit, classes, retry escalation, bin and bin resolution
 *   hotplug   units arrive and leave over time: a worker per arrival, soon after it
 *   watchdog  a unit that hangs is cut off by the per-try watchdog; others go on
 *   kill      SIGKILL mid-batch, restart: integrity, nothing lost, interrupted + binned
 *   sigterm   SIGTERM mid-batch: units in flight finish, clean exit
 *   sigterm2  two SIGTERMs: units in flight are aborted, recorded interrupted, binned
 *   refuse    an unusable database: the station refuses to start, no unit touched
 *   commands  audit, retry-bin, export and stats over the records of a small batch
 *   clockstep the station's wall clock stepped +1 h, then back 2 h, mid-batch (LD_PRELOAD
 *             $ST_CLOCKSHIFT_LIB): watchdog, grace deadline, durations and stats unchanged,
 *             the timestamps show the steps
 * The station binary may be a sanitizer build: its stderr must stay free of reports. */
#include "engine_harness.h"

static const char *g_station, *g_sim, *g_profdir;
static char g_profile[600];
static char g_run[64];  /* this test's folder for the database and outputs */
static char g_db[128];  /* the record store in it */

static void mkrun(void)
{
    harness_run_dir(g_run, sizeof g_run, "engine");
    snprintf(g_db, sizeof g_db, "%s/st.db", g_run);
}

/* Start `station run --profile demo --sim-dir DIR --json --db g_db EXTRA...`. */
static void line_start(station_proc *st, const char *tag, const char *sim_dir,
                       const char *const *extra)
{
    const char *args[40] = {"--profile", g_profile, "--sim-dir", sim_dir, "--json", "--db", g_db};
    int n = 7;
    for (int i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    CHECK(station_start(st, g_station, g_run, tag, args));
}

/* Wait up to ms for the station to exit with status `want` and no sanitizer report;
 * true when it exited. */
static bool line_finish(station_proc *st, int ms, int want)
{
    bool exited = CHECK(station_wait(st, ms));
    station_reap(st);
    CHECK_EQ_INT(station_exit_code(st), want);
    CHECK(station_clean(st));
    return exited;
}

static void rmrun(void)
{
    harness_rm_tree(g_run);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void sha_hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* The attempt recorded the profile's images by SHA-256, in order. */
static bool images_match(const st_db_attempt *a, const st_fwset *fw)
{
    if (a->nimages != fw->n)
        return false;
    for (int i = 0; i < fw->n; i++) {
        char h[65];
        sha_hex(fw->img[i].sha256, h);
        if (a->images[i].offset != fw->img[i].offset || strcmp(a->images[i].sha256, h) != 0)
            return false;
    }
    return true;
}

/* ---- batch16 ---- */

typedef struct unit_case {
    const char *opts;        /* simulator options */
    const char *fails[3];    /* classes of the failed tries, in order; NULL ends */
    bool pass;               /* final outcome */
    bool mac_known;          /* the MAC can be read (not for a wrong chip, not without sync) */
    bool any_tries;          /* noise: retries are allowed, the final outcome must be a pass */
    bool resumes;            /* the failed try wrote every region but the first correctly:
                              * the passing retry writes only the bootloader (the rest is
                              * found right by MD5) */
} unit_case;

static const unit_case batch[16] = {
    /*  1 */ {"", {NULL}, true, true, false, false},
    /*  2 */ {"bridge=ch9102", {NULL}, true, true, false, false},
    /*  3 */ {"fault=ram_checksum:4", {"stub_ram_checksum"}, true, true, false, false}, /* 1 + 3 resends */
    /*  4 */ {"fault=wrong_chip", {"wrong_chip"}, false, false, false, false},
    /*  5 */ {"flash=1M", {"flash_too_small"}, false, true, false, false},
    /*  6 */ {"fault=bitflip:1", {"md5_mismatch"}, true, true, false, true},
    /*  7 */ {"fault=blank:1", {"blank_readback"}, true, true, false, true},
    /*  8 */ {"fault=flash_write_error:1", {"flash_write"}, true, true, false, false},
    /*  9 */ {"fault=inflate_error:1", {"inflate"}, true, true, false, false},
    /* 10 */ {"fault=no_sync", {"no_sync", "no_sync"}, false, false, false, false},
    /* 11 */ {"fault=disconnect:50", {"vanished"}, false, true, false, false},
    /* 12 */ {"fault=noise:0.02", {NULL}, true, true, true, false},
    /* 13 */ {"fault=baud_max:460800", {NULL}, true, true, false, false},
    /* 14 */ {"fault=slow:5", {NULL}, true, true, false, false},
    /* 15 */ {"fault=ram_checksum:10", {"stub_ram_checksum", "stub_ram_checksum"}, true, true, false, false},
    /* 16 */ {"flash=1M", {"flash_too_small"}, false, true, false, false}, /* then a good unit, same MAC */
};

static void batch_mac(int k, char *out)
{
    sprintf(out, "24:0a:c4:e0:00:%02x", k);
}

/* The unit's bin entry: by MAC, or for a MAC-less unit by its slot's name. */
static const st_db_bin_entry *bin_for(const rec_set *r, const char *mac, const char *slot_name)
{
    for (int i = 0; i < r->nb; i++)
        if (*mac ? !strcmp(r->b[i].mac, mac) : (!r->b[i].mac[0] && !strcmp(r->b[i].slot_name, slot_name)))
            return &r->b[i];
    return NULL;
}

static void check_slot(const rec_set *r, const sim_proc *sim, const st_fwset *fw, int k,
                       const unit_case *u, const st_db_attempt *const *at, int n)
{
    char mac[18], port[320], name[32];
    batch_mac(k, mac);
    snprintf(name, sizeof name, "slot%d", k);
    snprintf(port, sizeof port, "%s/%s", sim->dir, name);
    int nfails = 0;
    while (nfails < 3 && u->fails[nfails])
        nfails++;
    int want = nfails + (u->pass ? 1 : 0);
    if (!u->any_tries && !CHECK_EQ_INT(n, want)) {
        fprintf(stderr, "slot %d: %d attempts recorded, expected %d\n", k, n, want);
        return;
    }
    if (!CHECK(n >= 1))
        return;
    for (int i = 0; i < n; i++) {
        const st_db_attempt *a = at[i];
        CHECK_EQ_INT(a->try_no, i + 1);
        CHECK_EQ_INT(a->slot, k); /* the simulator's USB path 1-1.K: hub port K */
        CHECK_STR(a->slot_name, name); /* the slot's stable link name */
        CHECK_STR(a->port, port);
        CHECK_STR(a->profile, "demo");
        CHECK(images_match(a, fw));
        /* started/ended are wall-clock labels (a clock step may even order them
         * backwards); the duration is monotonic and holds the whole flash (1 ms: the
         * two are rounded to ms apart) */
        CHECK(a->started_ms > 0 && a->ended_ms > 0 && a->run_started_ms > 0);
        CHECK(a->duration_ms > 0 && a->duration_ms >= a->total_ms - 1);
        if (u->mac_known)
            CHECK_STR(a->mac, mac);
        else
            CHECK_STR(a->mac, "");
        bool last = i == n - 1;
        if (!last || !u->pass) {
            if (!CHECK_EQ_INT(a->outcome, ST_DB_FAIL))
                fprintf(stderr, "slot %d try %d: outcome %s\n", k, i + 1, st_db_outcome_name(a->outcome));
            if (!u->any_tries && !CHECK_STR(st_fclass_name(a->fclass), u->fails[i]))
                fprintf(stderr, "slot %d try %d: %s\n", k, i + 1, a->detail);
            CHECK(a->hint[0] != '\0');
        } else {
            CHECK_EQ_INT(a->outcome, ST_DB_PASS);
            CHECK_EQ_INT(a->fclass, ST_FC_NONE);
            CHECK_STR(a->description, "ESP32-D0WD-V3 (revision v3.0)");
            uint64_t written, zbytes, erased;
            fw_write_cost(fw, &written, &zbytes, &erased);
            CHECK_EQ_INT(a->bytes_raw, u->resumes && i > 0 ? fw->img[0].len : written);
        }
    }
    const st_db_bin_entry *b = bin_for(r, u->mac_known ? mac : "", name);
    if (u->pass) {
        CHECK(b == NULL || b->resolved_ms != 0);
        return;
    }
    if (!CHECK(b != NULL)) {
        fprintf(stderr, "slot %d: no retry-bin entry\n", k);
        return;
    }
    const char *cls = u->fails[nfails - 1];
    CHECK_STR(st_fclass_name(b->fclass), cls);
    CHECK_STR(b->hint, st_fclass_hint(st_fclass_from_name(cls)));
    CHECK_EQ_INT(b->attempts, nfails);
    CHECK_EQ_INT(b->vid, 0x10c4);
    CHECK_EQ_INT(b->pid, 0xea60);
    CHECK_EQ_INT(b->last_attempt_id, at[n - 1]->id);
    CHECK_STR(b->slot_name, name);
    CHECK_EQ_INT(b->slot, k);
    CHECK_STR(b->port, port);
}

/* Retry events of a slot, in order, have these escalation steps in their text. */
static bool retry_steps(const ev_list *l, const char *slot, const char *const *steps)
{
    int i = 0;
    for (int e = 0; e < l->n; e++)
        if (!strcmp(l->v[e].event, "retry") && !strcmp(l->v[e].slot, slot)) {
            if (!steps[i] || !strstr(l->v[e].text, steps[i])) {
                fprintf(stderr, "%s: retry '%s', expected step %s\n", slot, l->v[e].text,
                        steps[i] ? steps[i] : "(none)");
                return false;
            }
            i++;
        }
    if (steps[i])
        fprintf(stderr, "%s: step %s never taken\n", slot, steps[i]);
    return !steps[i];
}

static void case_batch16(void)
{
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(load_fwset(g_profile, NULL, fw)))
        return;
    char scn[300], text[8192], mac[18];
    size_t n = 0;
    n += snprintf(text + n, sizeof text - n, "seed 7\n");
    for (int k = 1; k <= 16; k++) {
        batch_mac(k, mac);
        n += snprintf(text + n, sizeof text - n, "unit %d at=0 leave=%s mac=%s %s\n", k,
                      k == 16 ? "close+1" : "never", mac, batch[k - 1].opts);
    }
    batch_mac(16, mac); /* the binned unit comes back, now good */
    n += snprintf(text + n, sizeof text - n, "unit 16 after=0.5 leave=never mac=%s\n", mac);
    snprintf(scn, sizeof scn, "%s/batch.scn", g_run);
    write_text(scn, text);

    sim_proc sim;
    const char *sargs[] = {"--scenario", scn, NULL};
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"--exit-after", "17", "--max-tries", "3", "--sync-attempts", "2",
                          "--operator", "tester", NULL};
    station_proc st;
    line_start(&st, "batch", sim.dir, args);
    bool exited = line_finish(&st, 50000, 0);

    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_IN_PROGRESS), 0);
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_PASS), 12);
        const st_db_attempt *at[16];
        for (int k = 1; k <= 15; k++) {
            int na = rec_slot_attempts(&r, sim.dir, k, at, 16);
            check_slot(&r, &sim, fw, k, &batch[k - 1], at, na);
            if (batch[k - 1].pass && k != 11)
                CHECK(flash_has_images(&sim, k, fw));
        }
        /* Slot 2's CH9102 bridge is recorded with the attempt. */
        if (rec_slot_attempts(&r, sim.dir, 2, at, 16) == 1) {
            CHECK_EQ_INT(at[0]->vid, 0x1a86);
            CHECK_EQ_INT(at[0]->pid, 0x55d4);
            CHECK_STR(at[0]->bridge, "CH9102");
            CHECK_STR(at[0]->operator_name, "tester");
            CHECK(at[0]->host[0] != '\0');
        }
        /* inflate: the retry goes one rung down the profile's ladder. */
        if (rec_slot_attempts(&r, sim.dir, 9, at, 16) == 2)
            CHECK_EQ_INT(at[1]->baud, 921600);
        /* A bridge that cannot hold the fast rates: the loader's ladder inside one try. */
        if (rec_slot_attempts(&r, sim.dir, 13, at, 16) == 1)
            CHECK_EQ_INT(at[0]->baud, 460800);

        /* Slot 16: the binned unit, then the same MAC passing resolves its entry. */
        int na = rec_slot_attempts(&r, sim.dir, 16, at, 16);
        batch_mac(16, mac);
        if (CHECK_EQ_INT(na, 2)) {
            CHECK_EQ_INT(at[0]->outcome, ST_DB_FAIL);
            CHECK_STR(st_fclass_name(at[0]->fclass), "flash_too_small");
            CHECK_EQ_INT(at[1]->outcome, ST_DB_PASS);
            CHECK_EQ_INT(at[1]->try_no, 1);
            CHECK_STR(at[1]->mac, mac);
            const st_db_bin_entry *b = rec_bin_for_mac(&r, mac);
            if (CHECK(b != NULL)) {
                CHECK(b->resolved_ms != 0);
                CHECK_EQ_INT(b->resolved_by, at[1]->id);
                CHECK_STR(st_fclass_name(b->fclass), "flash_too_small");
            }
            CHECK(flash_has_images(&sim, 16, fw));
        }
        rec_free(&r);
    }

    ev_list l = events_read(&st);
    CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 12);
    CHECK_EQ_INT(events_count(&l, "fail", NULL, NULL), 5);
    CHECK_EQ_INT(events_count(&l, "binned", NULL, NULL), 5);
    CHECK_EQ_INT(events_count(&l, "resolved", "slot16", NULL), 1);
    const char *s3[] = {"resync", NULL}, *s9[] = {"lower_baud", NULL},
               *s15[] = {"resync", "rom_only", NULL}, *s10[] = {"resync", NULL};
    CHECK(retry_steps(&l, "slot3", s3));
    CHECK(retry_steps(&l, "slot9", s9));
    CHECK(retry_steps(&l, "slot10", s10));
    CHECK(retry_steps(&l, "slot15", s15));
    events_free(&l);

    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
    st_fwset_free(fw);
    free(fw);
}

/* ---- hotplug ---- */

static void case_hotplug(void)
{
    static const struct { int slot; const char *when, *leave; } arr[] = {
        {1, "at=0.3", "reset+0.3"}, {1, "after=0.4", "reset+0.3"}, {1, "after=0.4", "reset+0.3"},
        {2, "at=0.8", "reset+0.5"}, {2, "after=0.2", "never"},     {3, "at=1.5", "reset+0.2"},
    };
    const int narr = (int)(sizeof arr / sizeof arr[0]);
    char scn[300], text[4096], macs[6][18];
    size_t n = 0;
    int seq[4] = {0};
    for (int i = 0; i < narr; i++) {
        snprintf(macs[i], sizeof macs[i], "24:0a:c4:f0:%02x:%02x", arr[i].slot, ++seq[arr[i].slot]);
        n += snprintf(text + n, sizeof text - n, "unit %d %s leave=%s mac=%s\n", arr[i].slot,
                      arr[i].when, arr[i].leave, macs[i]);
    }
    snprintf(scn, sizeof scn, "%s/hotplug.scn", g_run);
    write_text(scn, text);
    sim_proc sim;
    const char *sargs[] = {"--scenario", scn, NULL};
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"--exit-after", "6", NULL};
    station_proc st;
    line_start(&st, "hotplug", sim.dir, args);
    bool exited = line_finish(&st, 40000, 0);

    ev_list l = events_read(&st);
    CHECK_EQ_INT(events_count(&l, "worker", "slot1", NULL), 3);
    CHECK_EQ_INT(events_count(&l, "worker", "slot2", NULL), 2);
    CHECK_EQ_INT(events_count(&l, "worker", "slot3", NULL), 1);
    CHECK_EQ_INT(events_count(&l, "attach", NULL, NULL), 6);
    /* Each arrival gets its worker after discovery saw its port: the worker event follows
     * the attach event of the same port (same slot, same appearance). How soon (the 0.5 s
     * reaction target; the poll is 200 ms) is a speed figure: printed here, never asserted,
     * so a loaded machine or a sanitizer build cannot fail the test on timing. From the
     * plug it can only be told on the wall clock (the port's file time is all there is),
     * so that figure is a label difference; attach to worker is monotonic. */
    double worst = 0, worst_mono = 0;
    for (int i = 0; i < l.n; i++) {
        const ev_line *e = &l.v[i];
        if (strcmp(e->event, "worker") != 0)
            continue;
        CHECK(e->appeared > 0);
        const ev_line *att = NULL;
        for (int j = i - 1; j >= 0 && !att; j--)
            if (!strcmp(l.v[j].event, "attach") && !strcmp(l.v[j].slot, e->slot))
                att = &l.v[j];
        if (!CHECK(att != NULL && att->appeared == e->appeared)) {
            fprintf(stderr, "worker in %s without the attach of its port before it\n", e->slot);
            continue;
        }
        if (e->ts - e->appeared > worst)
            worst = e->ts - e->appeared;
        if (e->t - att->t > worst_mono)
            worst_mono = e->t - att->t;
    }
    fprintf(stderr, "hotplug: slowest worker start %.3f s after its port appeared (wall clock), "
                    "%.3f s after discovery saw it (monotonic)\n", worst, worst_mono);
    /* In a slot, the next unit's worker starts only after the previous unit left and
     * passed: a new worker per unit, never the old one reused. */
    for (int k = 1; k <= 3; k++) {
        char slot[16];
        snprintf(slot, sizeof slot, "slot%d", k);
        int workers = 0, passes = 0, detaches = 0;
        for (int i = 0; i < l.n; i++) {
            const ev_line *e = &l.v[i];
            if (strcmp(e->slot, slot) != 0)
                continue;
            if (!strcmp(e->event, "worker")) {
                CHECK_EQ_INT(passes, workers);  /* the previous unit finished */
                CHECK_EQ_INT(detaches, workers); /* and left */
                workers++;
            } else if (!strcmp(e->event, "pass")) {
                passes++;
            } else if (!strcmp(e->event, "detach")) {
                detaches++;
            }
        }
    }
    events_free(&l);

    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(r.na, narr);
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_PASS), narr);
        for (int i = 0; i < narr; i++) {
            int found = 0;
            for (int j = 0; j < r.na; j++)
                if (!strcmp(r.a[j].mac, macs[i])) {
                    found++;
                    CHECK_EQ_INT(r.a[j].try_no, 1);
                    CHECK_EQ_INT(r.a[j].slot, arr[i].slot);
                    char name[32];
                    snprintf(name, sizeof name, "slot%d", arr[i].slot);
                    CHECK_STR(r.a[j].slot_name, name);
                }
            if (!CHECK_EQ_INT(found, 1))
                fprintf(stderr, "unit %s: %d attempts\n", macs[i], found);
        }
        rec_free(&r);
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- watchdog ---- */

static double event_time(const ev_list *l, const char *event, const char *slot)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].event, event) && !strcmp(l->v[i].slot, slot))
            return l->v[i].t;
    return -1;
}

static void case_watchdog(void)
{
    /* Slot 1 answers every command 3 s late: without the watchdog its try would go on
     * syncing for about a minute. The 10 s limit (cut within one late reply, 3 s) leaves
     * the others, which pass in about 3 s here, a wide margin on a loaded machine: the
     * check is that they were not held up, not how fast they are. */
    const char *sargs[] = {"--units", "3", "--unit-opt", "1:fault=slow:3000", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"--exit-after", "3", "--max-tries", "1", "--attempt-timeout", "10",
                          "--sync-attempts", "60", NULL};
    station_proc st;
    line_start(&st, "watchdog", sim.dir, args);
    bool exited = line_finish(&st, 40000, 0);
    ev_list l = events_read(&st);
    double fail1 = event_time(&l, "fail", "slot1");
    double pass2 = event_time(&l, "pass", "slot2"), pass3 = event_time(&l, "pass", "slot3");
    CHECK(fail1 > 0 && pass2 > 0 && pass3 > 0);
    CHECK(pass2 < fail1 && pass3 < fail1); /* the hung unit held nobody up */
    fprintf(stderr, "watchdog: slots 2 and 3 passed at %.3f and %.3f s, slot 1 failed at %.3f s\n",
            pass2, pass3, fail1);
    events_free(&l);
    rec_set r;
    const st_db_attempt *at[4];
    if (exited && CHECK(rec_load(g_db, &r))) {
        if (CHECK_EQ_INT(rec_slot_attempts(&r, sim.dir, 1, at, 4), 1)) {
            CHECK_EQ_INT(at[0]->outcome, ST_DB_FAIL);
            CHECK_STR(st_fclass_name(at[0]->fclass), "timeout");
            CHECK_CONTAINS(at[0]->detail, "watchdog");
            /* on the monotonic clock: not before the 10 s limit, and cut well short of the
             * minute the try would take without the watchdog */
            CHECK(at[0]->duration_ms >= 10000);
            CHECK(at[0]->duration_ms < 30000);
        }
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_PASS), 2);
        rec_free(&r);
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- kill and restart ---- */

static int count_outcome_ids(const rec_set *r, st_db_outcome o, int64_t *ids, char (*macs)[18], int cap)
{
    int n = 0;
    for (int i = 0; i < r->na && n < cap; i++)
        if (r->a[i].outcome == o) {
            ids[n] = r->a[i].id;
            snprintf(macs[n], 18, "%s", r->a[i].mac);
            n++;
        }
    return n;
}

static void case_kill(void)
{
    const char *sargs[] = {"--units", "4", "--realism", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    char empty[300];
    snprintf(empty, sizeof empty, "%s/empty", g_run);
    mkdir(empty, 0755);
    station_proc st;
    line_start(&st, "killed", sim.dir, NULL);
    /* Wait until every unit is writing (with --realism a write takes seconds). */
    bool writing = CHECK(events_wait_for(&st, "phase", "write", 4, 30000));
    rec_set before = {0}, after = {0}, restarted = {0};
    CHECK(rec_load(g_db, &before));
    station_signal(&st, SIGKILL);
    line_finish(&st, 10000, -SIGKILL);
    sim_stop(&sim);

    int64_t ids[16];
    char macs[16][18];
    int inflight = 0;
    if (CHECK(rec_load(g_db, &after))) {
        CHECK(after.na >= before.na); /* what was recorded before the kill is still there */
        inflight = count_outcome_ids(&after, ST_DB_IN_PROGRESS, ids, macs, 16);
        if (writing)
            CHECK_EQ_INT(inflight, 4);
        for (int i = 0; i < inflight; i++)
            CHECK(macs[i][0] != '\0'); /* the MAC was recorded as soon as it was read */
    }

    /* Restart: no units; the store recovers, the engine reports it, and idles out. */
    const char *args2[] = {"--exit-when-idle", "1", NULL};
    station_proc st2;
    line_start(&st2, "restart", empty, args2);
    line_finish(&st2, 20000, 0);
    ev_list l = events_read(&st2);
    CHECK_EQ_INT(events_count(&l, "recovered", NULL, NULL), 1);
    events_free(&l);
    CHECK(rec_integrity_ok(g_db));
    if (CHECK(rec_load(g_db, &restarted))) {
        CHECK_EQ_INT(restarted.na, after.na); /* nothing lost, nothing invented */
        CHECK_EQ_INT(rec_count_outcome(&restarted, ST_DB_IN_PROGRESS), 0);
        for (int i = 0; i < inflight; i++) {
            for (int j = 0; j < restarted.na; j++)
                if (restarted.a[j].id == ids[i])
                    CHECK_STR(st_db_outcome_name(restarted.a[j].outcome), "interrupted");
            const st_db_bin_entry *b = rec_bin_for_mac(&restarted, macs[i]);
            if (CHECK(b != NULL)) {
                CHECK_EQ_INT(b->resolved_ms, 0);
                CHECK_STR(st_fclass_name(b->fclass), "interrupted");
            }
        }
    }

    /* The interrupted units are flashed again: their bin entries are resolved. */
    const char *sargs3[] = {"--units", "4", NULL};
    if (CHECK(sim_start(&sim, g_sim, sargs3))) {
        const char *args3[] = {"--exit-after", "4", NULL};
        station_proc st3;
        line_start(&st3, "reflash", sim.dir, args3);
        line_finish(&st3, 30000, 0);
        rec_set fin;
        if (CHECK(rec_load(g_db, &fin))) {
            for (int i = 0; i < inflight; i++) {
                const st_db_bin_entry *b = rec_bin_for_mac(&fin, macs[i]);
                if (CHECK(b != NULL))
                    CHECK(b->resolved_ms != 0);
            }
            rec_free(&fin);
        }
        if (check_state_()->failures)
            station_dump(&st3);
        sim_stop(&sim);
    }
    if (check_state_()->failures) {
        station_dump(&st);
        station_dump(&st2);
    }
    rec_free(&before);
    rec_free(&after);
    rec_free(&restarted);
}

/* ---- SIGTERM ---- */

static void case_sigterm(int signals)
{
    const char *sargs[] = {"--units", "3", "--realism", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    station_proc st;
    line_start(&st, "sigterm", sim.dir, NULL);
    bool writing = CHECK(events_wait_for(&st, "phase", "write", 3, 30000));
    station_signal(&st, SIGTERM);
    if (signals > 1) {
        /* the second only once the first was taken ("stopping"): two SIGTERMs pending
         * at once are one signal */
        CHECK(events_wait_for(&st, "line", NULL, 2, 10000)); /* ready, stopping */
        station_signal(&st, SIGTERM);
    }
    /* One signal: the writes finish (seconds with --realism); two: they are aborted. */
    bool exited = line_finish(&st, signals > 1 ? 15000 : 40000, 0);
    ev_list l = events_read(&st);
    CHECK(events_count(&l, "line", NULL, NULL) >= 2); /* stopping ... stopped */
    CHECK_EQ_INT(events_count(&l, "summary", NULL, NULL), 1);
    events_free(&l);
    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_IN_PROGRESS), 0);
        CHECK_EQ_INT(r.na, 3);
        if (signals == 1 && writing) {
            CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_PASS), 3);
            for (int k = 1; k <= 3; k++) {
                st_fwset *fw = calloc(1, sizeof *fw);
                if (fw && load_fwset(g_profile, NULL, fw)) {
                    CHECK(flash_has_images(&sim, k, fw));
                    st_fwset_free(fw);
                }
                free(fw);
            }
        } else if (writing) {
            CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_INTERRUPTED), 3);
            for (int i = 0; i < r.na; i++) {
                CHECK_STR(st_fclass_name(r.a[i].fclass), "interrupted");
                const st_db_bin_entry *b = rec_bin_for_mac(&r, r.a[i].mac);
                if (CHECK(b != NULL)) {
                    CHECK_EQ_INT(b->resolved_ms, 0);
                    CHECK_STR(st_fclass_name(b->fclass), "interrupted");
                }
            }
        }
        rec_free(&r);
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- refuse ---- */

static void case_refuse(void)
{
    const char *sargs[] = {"--units", "1", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    /* No folder can be created under /proc, whoever runs the test. */
    const char *args[] = {"--profile", g_profile, "--sim-dir", sim.dir, "--json",
                          "--db", "/proc/st-engine-nowhere/station.db", "--exit-when-idle", "1", NULL};
    station_proc st;
    CHECK(station_start(&st, g_station, g_run, "refuse", args));
    line_finish(&st, 15000, 3);
    char *e = harness_read_file(st.err);
    CHECK_CONTAINS(e, "refusing to flash");
    CHECK_CONTAINS(e, "/proc/st-engine-nowhere/station.db");
    free(e);
    harness_sleep_ms(500); /* had it been touched, the unit would be mid-write by now */
    CHECK(flash_untouched(&sim, 1, 0x1000, 0x1000));
    CHECK(flash_untouched(&sim, 1, 0x10000, 0x1000));
    CHECK(!strstr(sim_log_text(&sim), "SYNC"));
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- the record commands ---- */

/* Run `station ARGS...` to completion; stdout into *out (malloc'd). Returns the exit status. */
static int run_cmd(char **out, const char *const *args)
{
    return harness_run_cmd(g_station, args, g_run, out, NULL);
}

#define count_lines harness_count_lines

static void case_commands(void)
{
    const char *sargs[] = {"--units", "3", "--unit-opt", "1:fault=ram_checksum:4", "--unit-opt", "1:fault=mac_crc", "--unit-opt",
                           "2:fault=wrong_chip", "--unit-opt", "3:bridge=ch9102", "--unit-opt",
                           "3:flash=1M", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"--exit-after", "3", NULL};
    station_proc st;
    line_start(&st, "commands", sim.dir, args);
    line_finish(&st, 30000, 0);
    const char *db = g_db;
    if (check_state_()->failures) {
        station_dump(&st);
        sim_stop(&sim);
        return;
    }
    char *o;
    /* audit: the unit's two tries, newest first */
    const char *a1[] = {"audit", "24:0A:C4:00:01:01", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, a1), 0);
    CHECK_EQ_INT(count_lines(o), 2);
    char *second = strchr(o, '\n');
    CHECK(second && strstr(second, "stub_ram_checksum") && strstr(second, "fail"));
    if (second)
        *second = 0;
    CHECK_CONTAINS(o, "pass");
    CHECK_CONTAINS(o, "try 2");
    CHECK_CONTAINS(o, "slot slot1 "); /* the slot by its stable name, then the port */
    /* the unit's eFuse MAC fails its CRC: recorded with every try, shown */
    CHECK_CONTAINS(o, "WARNING: eFuse MAC CRC wrong");
    CHECK(!strstr(o, "repaired on the link")); /* the passing try needed none */
    CHECK(second && strstr(second + 1, "3 blocks repaired on the link")); /* 1 + 3 resends */
    CHECK(second && strstr(second + 1, "WARNING: eFuse MAC CRC wrong"));
    free(o);
    const char *a2[] = {"audit", "240ac4000101", "--json", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, a2), 0);
    json_t *j = json_loads(o, JSON_DISABLE_EOF_CHECK, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "outcome")), "pass");
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "attempt");
    CHECK_STR(json_string_value(json_object_get(j, "slot_name")), "slot1");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "slot")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "blocks_repaired")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "mac_crc_bad")), 1);
    json_decref(j);
    free(o);
    const char *a3[] = {"audit", "24:0a:c4:ff:ff:ff", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, a3), 1);
    free(o);
    const char *a4[] = {"audit", "not-a-mac", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, a4), 2);
    free(o);

    /* retry-bin: the wrong chip (no MAC) and the small flash */
    const char *b1[] = {"retry-bin", "--json", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, b1), 0);
    CHECK_EQ_INT(count_lines(o), 2);
    CHECK_CONTAINS(o, "wrong_chip");
    CHECK_CONTAINS(o, "flash_too_small");
    CHECK_CONTAINS(o, "24:0a:c4:00:03:01");
    CHECK_CONTAINS(o, "\"slot_name\":\"slot2\""); /* the MAC-less unit: known by its slot */
    CHECK_CONTAINS(o, "\"slot_name\":\"slot3\"");
    free(o);
    const char *b2[] = {"retry-bin", "--csv", "--all", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, b2), 0);
    CHECK_EQ_INT(count_lines(o), 3); /* header + 2 */
    CHECK_CONTAINS(o, ",resolved_by,slot_name,closed_reason,closed_by,closed_host\r\n");
    CHECK_CONTAINS(o, ",slot2,,,\r\n");
    free(o);
    const char *b3[] = {"retry-bin", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, b3), 0);
    CHECK_CONTAINS(o, "(no MAC)");
    CHECK_CONTAINS(o, " slot2 ");
    free(o);

    /* export: 4 attempts; a file only when complete; time bounds */
    char file[300];
    snprintf(file, sizeof file, "%s/attempts.csv", g_run);
    const char *e1[] = {"export", "--csv", "-o", file, "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, e1), 0);
    free(o);
    char *csv = harness_read_file(file);
    CHECK_EQ_INT(count_lines(csv), 5);
    CHECK_CONTAINS(csv, "stub_ram_checksum");
    CHECK_CONTAINS(csv, ",ended,slot_name,serial,provision,boot,boot_captured,boot_console,"
                        "duration_ms,run_started,run_offset_ms,blocks_repaired,mac_crc_bad,flash_status,"
                        "station_version,hook_result,hook_exit,hook_signal,hook_ms,hook_command,"
                        "hook_stderr,action,action_detail\r\n");
    CHECK_CONTAINS(csv, ",slot1,");
    CHECK_CONTAINS(csv, ",slot3,");
    free(csv);
    const char *e2[] = {"export", "--json", "--since", "1h", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, e2), 0);
    CHECK_EQ_INT(count_lines(o), 4);
    CHECK_CONTAINS(o, "\"slot_name\":\"slot2\"");
    free(o);
    const char *e3[] = {"export", "--json", "--until", "2000-01-01", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, e3), 0);
    CHECK_EQ_INT(count_lines(o), 0);
    free(o);
    const char *e4[] = {"export", "--json", "--since", "yesterday-ish", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, e4), 2);
    free(o);

    /* stats: yield and failure classes by bridge chip */
    const char *s1[] = {"stats", "--json", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, s1), 0);
    j = json_loads(o, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "units_passed")), 1);
    json_t *cls = json_object_get(j, "classes_by_bridge");
    int found = 0;
    for (size_t i = 0; i < json_array_size(cls); i++) {
        json_t *c = json_array_get(cls, i);
        const char *br = json_string_value(json_object_get(c, "bridge"));
        const char *fc = json_string_value(json_object_get(c, "class"));
        if (br && fc && ((!strcmp(br, "CH9102") && !strcmp(fc, "flash_too_small")) ||
                         (!strcmp(br, "CP2104") && !strcmp(fc, "stub_ram_checksum")) ||
                         (!strcmp(br, "CP2104") && !strcmp(fc, "wrong_chip"))))
            found++;
    }
    CHECK_EQ_INT(found, 3);
    CHECK(json_array_size(json_object_get(j, "hourly")) >= 1);
    /* per slot: slot1 failed once then passed, slots 2 and 3 failed */
    json_t *slots = json_object_get(j, "slots");
    static const char *const sname[] = {"slot1", "slot2", "slot3"};
    static const int sn[][3] = {{2, 1, 1}, {1, 0, 1}, {1, 0, 1}};
    if (CHECK_EQ_INT(json_array_size(slots), 3))
        for (int i = 0; i < 3; i++) {
            json_t *sl = json_array_get(slots, (size_t)i);
            CHECK_STR(json_string_value(json_object_get(sl, "slot_name")), sname[i]);
            CHECK_EQ_INT(json_integer_value(json_object_get(sl, "attempts")), sn[i][0]);
            CHECK_EQ_INT(json_integer_value(json_object_get(sl, "passes")), sn[i][1]);
            CHECK_EQ_INT(json_integer_value(json_object_get(sl, "failures")), sn[i][2]);
        }
    /* link repairs by slot and by bridge: slot1's failed try resent its block 3 times */
    json_t *rs = json_object_get(j, "repairs_by_slot");
    static const int rn[][3] = {{2, 1, 3}, {1, 0, 0}, {1, 0, 0}};
    if (CHECK_EQ_INT(json_array_size(rs), 3))
        for (int i = 0; i < 3; i++) {
            json_t *r = json_array_get(rs, (size_t)i);
            CHECK_STR(json_string_value(json_object_get(r, "key")), sname[i]);
            CHECK_EQ_INT(json_integer_value(json_object_get(r, "attempts")), rn[i][0]);
            CHECK_EQ_INT(json_integer_value(json_object_get(r, "attempts_repaired")), rn[i][1]);
            CHECK_EQ_INT(json_integer_value(json_object_get(r, "blocks_repaired")), rn[i][2]);
        }
    json_t *rb = json_object_get(j, "repairs_by_bridge");
    if (CHECK_EQ_INT(json_array_size(rb), 2)) {
        json_t *ch = json_array_get(rb, 0), *cp = json_array_get(rb, 1);
        CHECK_STR(json_string_value(json_object_get(ch, "key")), "CH9102");
        CHECK_EQ_INT(json_integer_value(json_object_get(ch, "blocks_repaired")), 0);
        CHECK_STR(json_string_value(json_object_get(cp, "key")), "CP2104");
        CHECK_EQ_INT(json_integer_value(json_object_get(cp, "attempts")), 3);
        CHECK_EQ_INT(json_integer_value(json_object_get(cp, "attempts_repaired")), 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(cp, "blocks_repaired")), 3);
    }
    json_decref(j);
    free(o);
    const char *s2[] = {"stats", "--since", "24h", "--db", db, NULL};
    CHECK_EQ_INT(run_cmd(&o, s2), 0);
    CHECK_CONTAINS(o, "yield per unit:");
    CHECK_CONTAINS(o, "CH9102");
    CHECK_CONTAINS(o, "attempts by slot:");
    CHECK_CONTAINS(o, "  slot3 ");
    CHECK_CONTAINS(o, "link repairs (corrupted blocks resent) by slot:");
    CHECK_CONTAINS(o, "link repairs (corrupted blocks resent) by bridge chip:");
    free(o);
    if (check_state_()->failures)
        station_dump(&st);
    sim_stop(&sim);
}

/* ---- a wall-clock step under a running line ---- */

/* Index of the first event (from `from`) of kind `event` in `slot` for try `attempt`
 * (0: any), or -1. */
static int event_at(const ev_list *l, int from, const char *event, const char *slot, int attempt)
{
    for (int i = from; i < l->n; i++)
        if (!strcmp(l->v[i].event, event) && (!slot || !strcmp(l->v[i].slot, slot)) &&
            (!attempt || l->v[i].attempt == attempt))
            return i;
    return -1;
}

/* The step an event saw: its wall-clock label minus its monotonic time, against the first
 * event's, in whole hours (-99 when it is not within a minute of one: no step like it). */
static int step_hours(const ev_line *e, double base)
{
    double d = e->ts - e->t - base;
    double h = floor(d / 3600.0 + 0.5);
    return fabs(d - h * 3600.0) < 60 ? (int)h : -99;
}

/* Where an attempt lies on the line's monotonic clock: try 1 began after its worker's
 * event, a later try once the try before it had ended (the one record ends that try and
 * begins the next), and it ended before the event with its result; within those, its
 * length holds the whole flash. */
static void check_on_line_clock(const ev_list *l, const st_db_attempt *a, const st_db_attempt *prev,
                                int k)
{
    char slot[16];
    snprintf(slot, sizeof slot, "slot%d", k);
    int w = event_at(l, 0, "worker", slot, 0), hi = -1;
    static const char *const ends[] = {"pass", "try_fail", "fail", "interrupted"};
    for (int i = 0; i < 4 && hi < 0; i++)
        hi = event_at(l, w < 0 ? 0 : w, ends[i], slot, a->try_no);
    if (!CHECK(w >= 0 && hi > w && (a->try_no == 1 || prev))) {
        fprintf(stderr, "%s try %d: its events are missing\n", slot, a->try_no);
        return;
    }
    /* 0.001 s / 1 ms: the records hold whole ms, the events do not */
    double lo = a->try_no == 1 ? l->v[w].t : (prev->run_offset_ms + prev->duration_ms - 1) / 1000.0;
    double start = a->run_offset_ms / 1000.0, end = (a->run_offset_ms + a->duration_ms) / 1000.0;
    if (!CHECK(start >= lo - 0.001 && end <= l->v[hi].t + 0.001))
        fprintf(stderr, "%s try %d: %.3f..%.3f s on the line's clock, outside %.3f..%.3f\n", slot,
                a->try_no, start, end, lo, l->v[hi].t);
    CHECK(a->duration_ms > 0 && a->duration_ms >= a->total_ms - 1);
}

static void case_clockstep(void)
{
    const char *lib = getenv("ST_CLOCKSHIFT_LIB");
    if (!CHECK(lib && *lib)) {
        fprintf(stderr, "clockstep: ST_CLOCKSHIFT_LIB (the LD_PRELOAD shim) is not set\n");
        return;
    }
    char shift[300];
    snprintf(shift, sizeof shift, "%s/clockshift", g_run);
    if (!CHECK(clock_shift(shift, 0)))
        return;
    /* Slot 1 answers every command 3 s late: each try lasts until the 8 s watchdog (try 1)
     * or the 2 s grace after the stop (try 2). Slots 2-4 flash normally. */
    const char *sargs[] = {"--units", "4", "--unit-opt", "1:fault=slow:3000", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"--max-tries", "2", "--attempt-timeout", "8", "--grace", "2",
                          "--sync-attempts", "30", NULL};
    setenv("ST_CLOCKSHIFT_FILE", shift, 1);
    setenv("LD_PRELOAD", lib, 1);
    station_proc st;
    line_start(&st, "clockstep", sim.dir, args);
    unsetenv("LD_PRELOAD");
    unsetenv("ST_CLOCKSHIFT_FILE");

    /* +1 h while slots 2-4 write and slot 1's first try runs */
    CHECK(events_wait_for(&st, "phase", "write", 3, 30000));
    CHECK(clock_shift(shift, 3600));
    /* slot 1's second try begins once the watchdog cut the first; the others pass */
    CHECK(events_wait_for(&st, "try", NULL, 5, 30000));
    CHECK(events_wait_for(&st, "pass", NULL, 3, 30000));
    /* stop: the grace period starts; then back 2 h (1 h behind) inside it */
    station_signal(&st, SIGTERM);
    CHECK(events_wait_for(&st, "line", NULL, 2, 10000)); /* ready, stopping */
    CHECK(clock_shift(shift, -3600));
    /* a grace deadline on the wall clock would now lie two hours away */
    bool exited = line_finish(&st, 30000, 0);

    ev_list l = events_read(&st);
    /* The labels show the steps, in order: 0, +1 h, -1 h; each event saw one of them. */
    int seen[3] = {0}, order = 0;
    double base = -1;
    for (int i = 0; i < l.n; i++) {
        const ev_line *e = &l.v[i];
        if (e->ts == 0)
            continue; /* the summary line has no timestamps */
        if (base < 0)
            base = e->ts - e->t;
        int h = step_hours(e, base), idx = h == 0 ? 0 : h == 1 ? 1 : h == -1 ? 2 : -1;
        if (!CHECK(idx >= order)) {
            fprintf(stderr, "event %d (%s %s, t %.3f, ts %.3f): step %+d h out of order\n", i,
                    e->event, e->slot, e->t, e->ts, h);
            continue;
        }
        order = idx;
        seen[idx]++;
    }
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    /* The watchdog waited its 8 s of monotonic time across the +1 h step. */
    int wd = -1;
    for (int i = 0; i < l.n && wd < 0; i++)
        if (!strcmp(l.v[i].event, "info") && !strcmp(l.v[i].slot, "slot1") &&
            strstr(l.v[i].text, "watchdog"))
            wd = i;
    int w1 = event_at(&l, 0, "worker", "slot1", 0);
    if (CHECK(wd >= 0 && w1 >= 0))
        CHECK(l.v[wd].t - l.v[w1].t >= 8.0);
    /* The grace period lasted its 2 s across the -2 h step (the station exited above, so
     * it did not wait for the wall clock to come back). */
    int stopping = event_at(&l, 0, "line", NULL, 0);
    stopping = stopping >= 0 ? event_at(&l, stopping + 1, "line", NULL, 0) : -1;
    int over = -1;
    for (int i = stopping < 0 ? l.n : stopping; i < l.n && over < 0; i++)
        if (!strcmp(l.v[i].event, "line") && strstr(l.v[i].text, "grace period"))
            over = i;
    if (CHECK(stopping >= 0 && over > stopping))
        CHECK(l.v[over].t - l.v[stopping].t >= 2.0);

    rec_set r;
    const st_db_attempt *at[4];
    if (exited && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(r.na, 5);
        for (int k = 1; k <= 4; k++) {
            int n = rec_slot_attempts(&r, sim.dir, k, at, 4);
            if (!CHECK_EQ_INT(n, k == 1 ? 2 : 1))
                continue;
            for (int i = 0; i < n; i++) {
                check_on_line_clock(&l, at[i], i ? at[i - 1] : NULL, k);
                /* the labels moved with the clock: their difference is the duration plus
                 * the steps taken during the try */
                int64_t off = at[i]->ended_ms - at[i]->started_ms - at[i]->duration_ms;
                int64_t h = (int64_t)floor(off / 3600000.0 + 0.5);
                CHECK(llabs(off - h * 3600000) < 60000);
                if (k == 1 && i == 0)
                    CHECK_EQ_INT(h, 1);   /* try 1 saw the +1 h step */
                if (k == 1 && i == 1)
                    CHECK_EQ_INT(h, -2);  /* try 2 saw the step back */
            }
            if (k == 1) {
                CHECK_EQ_INT(at[0]->outcome, ST_DB_FAIL);
                CHECK_STR(st_fclass_name(at[0]->fclass), "timeout");
                CHECK_CONTAINS(at[0]->detail, "watchdog");
                CHECK(at[0]->duration_ms >= 8000);
                CHECK_EQ_INT(at[1]->outcome, ST_DB_INTERRUPTED);
                CHECK(at[1]->duration_ms >= 2000);
            } else {
                CHECK_EQ_INT(at[0]->outcome, ST_DB_PASS);
            }
        }
        /* stats: the run's span on its monotonic clock, not the labels' */
        double lo = 1e18, hi = 0;
        for (int i = 0; i < r.na; i++) {
            lo = fmin(lo, r.a[i].run_offset_ms / 1000.0);
            hi = fmax(hi, (r.a[i].run_offset_ms + r.a[i].duration_ms) / 1000.0);
        }
        char *o;
        const char *s1[] = {"stats", "--json", "--db", g_db, NULL};
        CHECK_EQ_INT(run_cmd(&o, s1), 0);
        json_t *j = json_loads(o, 0, NULL);
        double active_s = json_number_value(json_object_get(j, "active_hours")) * 3600.0;
        if (!CHECK(fabs(active_s - (hi - lo)) < 0.001))
            fprintf(stderr, "stats: %.3f active s, the run's clock says %.3f\n", active_s, hi - lo);
        CHECK(fabs(json_number_value(json_object_get(j, "units_per_hour")) - 3 * 3600.0 / (hi - lo)) < 0.01);
        json_decref(j);
        free(o);
        rec_free(&r);
    }
    events_free(&l);
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

static void case_sigterm1(void) { case_sigterm(1); }
static void case_sigterm2(void) { case_sigterm(2); }

static const check_case cases[] = {
    {"batch16", case_batch16},     {"hotplug", case_hotplug},   {"watchdog", case_watchdog},
    {"kill", case_kill},           {"sigterm", case_sigterm1},  {"sigterm2", case_sigterm2},
    {"refuse", case_refuse},       {"commands", case_commands}, {"clockstep", case_clockstep},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION ESP32SIM PROFILE_DIR", &g_station, &g_sim, &g_profdir))
        return 2;
    snprintf(g_profile, sizeof g_profile, "%s/demo.ini", g_profdir);
    signal(SIGPIPE, SIG_IGN);
    mkrun();
    int rc = CHECK_RUN_CASE(argv[1], cases);
    rmrun();
    return rc;
}

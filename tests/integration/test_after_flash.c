/* test_after_flash - after the flash, end to end: `station run` against the simulator,
 * checked through the record store, the events and the units' flash files.
 *
 * usage: test_after_flash CASE STATION ESP32SIM PROFILE_DIR
 *   boot_faults  every boot fault of the simulator classified (no_boot + diagnosis), the
 *                console kept in the record, the retry policy per diagnosis, a passing
 *                unit's captured version recorded and shown by `station audit`
 *   wrong_image  another product's firmware verifies, boots, and fails the boot check
 *   provision16  16 units in parallel get their own NVS partition: serials 1..16 without
 *                a duplicate, each partition (read from the flash, decoded by the tests'
 *                own NVS reader) holding that unit's serial and MAC-derived values; a
 *                re-flash keeps the serial, --new-serial takes the next and retires the old
 *   csv_missing  a unit without a CSV row fails before anything is written; no serial
 *   provision_kill  16 units arriving one after another, the station SIGKILLed while some
 *                have serials and others not yet, then restarted on the same store: serials
 *                1..16, one per unit, each with the attempt it was allocated in; units
 *                numbered before the kill keep their number
 *   rfc2217      the same boot check behind a serial server (rfc2217://, the real DTR/RTS
 *                reset): a good unit boots, a panicking one is classified panic
 *   bench        `station flash` (the repair bench) provisions too: the store's serial,
 *                kept on a re-flash, --new-serial, --serial; boot result printed */
#include "engine_harness.h"
#include "nvs_decode.h"

static const char *g_station, *g_sim, *g_profdir;
static char g_run[64], g_db[128];

static void mkrun(void)
{
    harness_run_dir(g_run, sizeof g_run, "after");
    snprintf(g_db, sizeof g_db, "%s/st.db", g_run);
}

/* `station run --profile P --sim-dir DIR --json --db g_db EXTRA...` to its end. */
static bool run_line(station_proc *st, const char *tag, const char *profile, const sim_proc *sim,
                     const char *const *extra)
{
    char prof[600];
    snprintf(prof, sizeof prof, "%s/%s.ini", g_profdir, profile);
    const char *args[40] = {"--profile", prof, "--sim-dir", sim->dir, "--json", "--db", g_db};
    int n = 7;
    for (int i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (!CHECK(station_start(st, g_station, g_run, tag, args)))
        return false;
    bool exited = CHECK(station_wait(st, 50000));
    station_reap(st);
    CHECK_EQ_INT(station_exit_code(st), 0);
    CHECK(station_clean(st));
    return exited;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool start_sim(sim_proc *sim, const char *scenario)
{
    char scn[300];
    snprintf(scn, sizeof scn, "%s/units.scn", g_run);
    write_text(scn, scenario);
    const char *sargs[] = {"--scenario", scn, NULL};
    return CHECK(sim_start(sim, g_sim, sargs));
}

/* Output of `station CMD ARGS...` (stdout and stderr), malloc'ed; *rc the exit status. */
static char *station_cmd(const char *const *args, int *rc)
{
    char out[300], cmd[2048];
    snprintf(out, sizeof out, "%s/cmd.out", g_run);
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "'%s'", g_station);
    for (int i = 0; args[i]; i++)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " '%s'", args[i]);
    snprintf(cmd + n, sizeof cmd - n, " > '%s' 2>&1", out);
    int s = system(cmd);
    *rc = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    return harness_read_file(out);
}

/* ---- boot_faults ---- */

static const struct {
    const char *opts;
    const char *diag;      /* "" = passes */
    int attempts;
} boot_units[] = {
    {"", "", 1},
    {"fault=brownout", "brownout", 1},   /* power: a retry in the same slot cannot fix it */
    {"fault=boot_panic", "panic", 1},
    {"fault=boot_loop", "boot_loop", 1},
    {"fault=silent", "silent", 2},       /* silence may be a missed reset: one retry */
    {"fault=silent:1", "", 2},           /* ... which fixes a one-off */
};
#define N_BOOT (int)(sizeof boot_units / sizeof boot_units[0])

static void case_boot_faults(void)
{
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "seed 3\n");
    for (int k = 1; k <= N_BOOT; k++)
        n += (size_t)snprintf(text + n, sizeof text - n, "unit %d at=0 leave=never %s\n", k,
                              boot_units[k - 1].opts);
    sim_proc sim;
    if (!start_sim(&sim, text))
        return;
    char after[8];
    snprintf(after, sizeof after, "%d", N_BOOT);
    const char *extra[] = {"--exit-after", after, "--max-tries", "3", NULL};
    station_proc st;
    bool exited = run_line(&st, "boot", "demo", &sim, extra);
    rec_set r;
    char pass_mac[18] = "";
    if (exited && CHECK(rec_load(g_db, &r))) {
        for (int k = 1; k <= N_BOOT; k++) {
            const st_db_attempt *at[8];
            int na = rec_slot_attempts(&r, sim.dir, k, at, 8);
            const char *want = boot_units[k - 1].diag;
            if (!CHECK_EQ_INT(na, boot_units[k - 1].attempts)) {
                fprintf(stderr, "slot %d: %d attempts\n", k, na);
                continue;
            }
            const st_db_attempt *last = at[na - 1];
            if (!*want) {
                CHECK_EQ_INT(last->outcome, ST_DB_PASS);
                CHECK_STR(last->boot, "pass");
                CHECK_STR(last->boot_captured, "version=1.4.2");
                CHECK_STR(last->boot_console, "");
                if (k == 1)
                    snprintf(pass_mac, sizeof pass_mac, "%s", last->mac);
                if (na == 2) { /* silent:1: the first try failed silent */
                    CHECK_STR(at[0]->boot, "no_boot");
                    CHECK_CONTAINS(at[0]->detail, "no boot (silent)");
                }
                continue;
            }
            char w[64];
            snprintf(w, sizeof w, "no boot (%s)", want);
            for (int i = 0; i < na; i++) {
                CHECK_EQ_INT(at[i]->outcome, ST_DB_FAIL);
                CHECK_STR(st_fclass_name(at[i]->fclass), "no_boot");
                CHECK_STR(st_phase_name(at[i]->phase), "boot_check");
                CHECK_STR(at[i]->boot, "no_boot");
                CHECK_CONTAINS(at[i]->detail, w);
            }
            if (!strcmp(want, "brownout")) {
                CHECK_CONTAINS(last->boot_console, "Brownout detector was triggered");
                CHECK_CONTAINS(last->hint, "power the hub");
            } else if (!strcmp(want, "panic")) {
                CHECK_CONTAINS(last->boot_console, "Guru Meditation Error");
                CHECK_CONTAINS(last->hint, "not the station's fault");
            } else if (!strcmp(want, "boot_loop")) {
                CHECK_CONTAINS(last->boot_console, "rst:0x10 (RTCWDT_RTC_RESET)");
            } else if (!strcmp(want, "silent")) {
                CHECK_STR(last->boot_console, "");
            }
            const st_db_bin_entry *b = rec_bin_for_mac(&r, last->mac);
            if (CHECK(b != NULL)) {
                CHECK_STR(st_fclass_name(b->fclass), "no_boot");
                CHECK(b->resolved_ms == 0);
            }
        }
        rec_free(&r);
    }
    /* audit shows the version the unit booted with. */
    if (pass_mac[0]) {
        int rc;
        const char *a[] = {"audit", pass_mac, "--db", g_db, NULL};
        char *o = station_cmd(a, &rc);
        CHECK_EQ_INT(rc, 0);
        CHECK_CONTAINS(o, "booted version=1.4.2");
        free(o);
    }
    ev_list l = events_read(&st);
    CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 2);
    CHECK_EQ_INT(events_count(&l, "fail", NULL, NULL), 4);
    /* The JSON keys: a pass carries the version its boot check captured, a boot failure
     * none (null); no serial without provisioning (null); a try has both keys, null. */
    int passes = 0, fails = 0, tries = 0;
    for (int i = 0; i < l.n; i++) {
        const ev_line *e = &l.v[i];
        if (!strcmp(e->event, "pass")) {
            passes++;
            CHECK_STR(e->app_version, "1.4.2");
            CHECK(e->has_serial && !*e->serial);
        } else if (!strcmp(e->event, "fail") || !strcmp(e->event, "try_fail")) {
            fails++;
            CHECK(e->has_app_version && !*e->app_version);
            CHECK(e->has_serial && !*e->serial);
        } else if (!strcmp(e->event, "try")) {
            tries++;
            CHECK(e->has_serial && e->has_app_version && !*e->serial && !*e->app_version);
        }
    }
    CHECK(passes == 2 && fails >= 4 && tries >= 6);
    events_free(&l);
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- wrong_image ---- */

static void case_wrong_image(void)
{
    sim_proc sim;
    if (!start_sim(&sim, "unit 1 at=0 leave=never\n"))
        return;
    const char *extra[] = {"--exit-after", "1", NULL};
    station_proc st;
    bool exited = run_line(&st, "wrong", "demo-wrong", &sim, extra);
    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        const st_db_attempt *at[4];
        if (CHECK_EQ_INT(rec_slot_attempts(&r, sim.dir, 1, at, 4), 1)) {
            CHECK_EQ_INT(at[0]->outcome, ST_DB_FAIL);
            CHECK_STR(st_fclass_name(at[0]->fclass), "no_boot");
            CHECK_CONTAINS(at[0]->detail, "no boot (no_match)");
            CHECK_CONTAINS(at[0]->boot_console, "other-fw v9.9.9 ready");
            CHECK_CONTAINS(at[0]->hint, "wrong firmware");
        }
        rec_free(&r);
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- provision16 ---- */

static uint8_t *read_region(const sim_proc *sim, int k, uint32_t off, size_t len)
{
    char p[300];
    snprintf(p, sizeof p, "%s/slot%d.flash", sim->dir, k);
    FILE *f = fopen(p, "rb");
    uint8_t *b = malloc(len);
    if (!f || !b || fseek(f, off, SEEK_SET) || fread(b, 1, len, f) != len) {
        if (f)
            fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    return b;
}

typedef struct serials {
    st_db_serial s[64];
    int n;
} serials;

static int add_serial(void *user, const st_db_serial *s)
{
    serials *l = user;
    if (l->n < 64)
        l->s[l->n++] = *s;
    return 0;
}

static bool load_serials(serials *l)
{
    memset(l, 0, sizeof *l);
    st_db *db = rec_open(g_db);
    st_err err;
    bool ok = db && st_db_serial_list(db, "demo-prov", add_serial, l, &err) == 0;
    st_db_close(db);
    return ok;
}

/* Slot k's partition holds exactly its record's serial and its MAC-derived values. */
static void check_partition(const sim_proc *sim, int k, const st_db_attempt *a)
{
    uint8_t *img = read_region(sim, k, 0x9000, 0x5000);
    if (!CHECK(img != NULL))
        return;
    static nvs_view v;
    decode(img, 0x5000, &v);
    CHECK_EQ_INT(v.errors, 0);
    const item *it;
    if ((it = find(&v, "factory", "serial_no")))
        CHECK_STR((char *)it->data, a->serial);
    char name[32];
    snprintf(name, sizeof name, "demo-%.2s%.2s%.2s", a->mac + 9, a->mac + 12, a->mac + 15);
    if ((it = find(&v, "factory", "name")))
        CHECK_STR((char *)it->data, name);
    if ((it = find(&v, "factory", "mac")))
        CHECK_STR((char *)it->data, a->mac);
    if ((it = find(&v, "factory", "hw_rev")))
        CHECK(it->type == 0x01 && it->raw == 2);
    view_free(&v);
    free(img);
}

static void case_provision16(void)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "seed 5\n");
    for (int k = 1; k <= 16; k++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "unit %d at=0 leave=close+0.3 mac=24:0a:c4:16:00:%02x\n", k, k);
    /* The same 16 units come back for a re-flash (a new arrival gets an erased flash). */
    for (int k = 1; k <= 16; k++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "unit %d after=0.2 leave=never mac=24:0a:c4:16:00:%02x\n", k, k);
    sim_proc sim;
    if (!start_sim(&sim, text))
        return;
    const char *extra[] = {"--exit-after", "32", NULL};
    station_proc st;
    bool exited = run_line(&st, "prov", "demo-prov", &sim, extra);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_PASS), 32);
        char seen[16][64] = {{0}};
        for (int k = 1; k <= 16; k++) {
            /* The two passing flashes of the unit (a try that failed on a loaded machine
             * and was retried is not what this test is about). */
            const st_db_attempt *all[8], *at[2];
            int na = rec_slot_attempts(&r, sim.dir, k, all, 8), np = 0;
            for (int i = 0; i < na; i++) {
                if (all[i]->outcome == ST_DB_PASS && np < 2)
                    at[np++] = all[i];
                else if (all[i]->serial[0]) /* any try that got as far keeps the number */
                    CHECK_STR(all[i]->serial, all[0]->serial[0] ? all[0]->serial : all[i]->serial);
            }
            if (!CHECK_EQ_INT(np, 2))
                continue;
            /* Both flashes of the unit carry one serial, in the record and in the flash. */
            CHECK(at[0]->serial[0] != 0);
            CHECK_STR(at[1]->serial, at[0]->serial);
            CHECK_STR(at[0]->mac, at[1]->mac);
            CHECK_CONTAINS(at[1]->provision, "serial_no=DEMO-");
            CHECK_CONTAINS(at[1]->provision, at[1]->serial);
            snprintf(seen[k - 1], sizeof seen[0], "%s", at[1]->serial);
            check_partition(&sim, k, at[1]);
            for (int j = 0; j < k - 1; j++)
                CHECK(strcmp(seen[j], seen[k - 1]) != 0);
        }
        rec_free(&r);
    }
    /* Each pass event carries the unit's serial and app version as JSON keys: the serial
     * is the record's for that unit. */
    ev_list ev = events_read(&st);
    int np_ev = 0;
    if (exited && CHECK(rec_load(g_db, &r))) {
        for (int i = 0; i < ev.n; i++) {
            const ev_line *e = &ev.v[i];
            if (strcmp(e->event, "pass"))
                continue;
            np_ev++;
            CHECK_STR(e->app_version, "1.4.2");
            bool found = false;
            for (int j = 0; j < r.na && !found; j++)
                if (r.a[j].outcome == ST_DB_PASS && !strcmp(r.a[j].mac, e->mac) && r.a[j].serial[0])
                    found = !strcmp(r.a[j].serial, e->serial);
            if (!CHECK(found))
                fprintf(stderr, "pass of %s: serial '%s' is not its record's\n", e->mac, e->serial);
        }
        rec_free(&r);
    }
    CHECK_EQ_INT(np_ev, 32);
    events_free(&ev);
    serials l;
    if (CHECK(load_serials(&l)) && CHECK_EQ_INT(l.n, 16)) {
        for (int i = 0; i < l.n; i++) {
            char want[32];
            snprintf(want, sizeof want, "DEMO-%04d%05d", tm.tm_year + 1900, i + 1);
            CHECK_EQ_INT(l.s[i].seq, i + 1); /* 1..16: no gap, no duplicate */
            CHECK_STR(l.s[i].serial, want);
            CHECK_STR(l.s[i].reason, "first");
            CHECK(l.s[i].attempt_id > 0);
        }
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);

    /* --new-serial: unit 3 flashed again gets serial 17; the old one stays, retired. */
    if (!start_sim(&sim, "unit 1 at=0 leave=never mac=24:0a:c4:16:00:03\n"))
        return;
    const char *extra2[] = {"--exit-after", "1", "--new-serial", NULL};
    exited = run_line(&st, "newserial", "demo-prov", &sim, extra2);
    if (exited && CHECK(load_serials(&l)) && CHECK_EQ_INT(l.n, 17)) {
        CHECK_EQ_INT(l.s[16].seq, 17);
        CHECK_STR(l.s[16].reason, "new_serial");
        CHECK_STR(l.s[16].mac, "24:0a:c4:16:00:03");
        CHECK(l.s[16].retired_ms == 0);
        for (int i = 0; i < 16; i++)
            if (!strcmp(l.s[i].mac, "24:0a:c4:16:00:03"))
                CHECK(l.s[i].retired_ms != 0);
        if (CHECK(rec_load(g_db, &r))) {
            const st_db_attempt *at[4];
            if (CHECK_EQ_INT(rec_slot_attempts(&r, sim.dir, 1, at, 4), 1)) {
                CHECK_STR(at[0]->serial, l.s[16].serial);
                check_partition(&sim, 1, at[0]);
            }
            rec_free(&r);
        }
    }
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- csv_missing ---- */

static void case_csv_missing(void)
{
    /* demo-prov plus a CSV that knows unit 1 only. */
    char csv[300], prof[300], src[600];
    snprintf(csv, sizeof csv, "%s/units.csv", g_run);
    write_text(csv, "mac,key\n24:0a:c4:17:00:01,\"s3cr3t,value\"\n");
    snprintf(src, sizeof src, "%s/demo-prov.ini", g_profdir);
    char *text = harness_read_file(src);
    /* image paths are relative to the profile's folder: point them at the demo's */
    char *body = malloc(strlen(text) * 2 + 1024);
    size_t o = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!strncmp(p, "file = demo/", 12) || !strncmp(p, "stub = demo/", 12))
            o += (size_t)sprintf(body + o, "%.7s%s/%.*s", p, g_profdir, (int)(len - 7), p + 7);
        else
            o += (size_t)sprintf(body + o, "%.*s", (int)len, p);
        p += len;
    }
    o += (size_t)sprintf(body + o, "csv = %s\ndevice_key = string:{csv:key}\n", csv);
    snprintf(prof, sizeof prof, "%s/csvprof.ini", g_run);
    write_text(prof, body);
    free(body);
    free(text);

    sim_proc sim;
    if (!start_sim(&sim, "unit 1 at=0 leave=never mac=24:0a:c4:17:00:01\n"
                         "unit 2 at=0 leave=never mac=24:0a:c4:17:00:02\n"))
        return;
    const char *args[] = {"--profile", prof, "--sim-dir", sim.dir, "--json", "--db", g_db,
                          "--exit-after", "2", NULL};
    station_proc st;
    if (!CHECK(station_start(&st, g_station, g_run, "csv", args)))
        return;
    bool exited = CHECK(station_wait(&st, 50000));
    station_reap(&st);
    CHECK_EQ_INT(station_exit_code(&st), 0);
    rec_set r;
    if (exited && CHECK(rec_load(g_db, &r))) {
        const st_db_attempt *at[4];
        if (CHECK_EQ_INT(rec_slot_attempts(&r, sim.dir, 1, at, 4), 1))
            CHECK_EQ_INT(at[0]->outcome, ST_DB_PASS);
        if (CHECK_EQ_INT(rec_slot_attempts(&r, sim.dir, 2, at, 4), 1)) {
            CHECK_EQ_INT(at[0]->outcome, ST_DB_FAIL);
            CHECK_STR(st_fclass_name(at[0]->fclass), "config");
            CHECK_CONTAINS(at[0]->detail, "24:0a:c4:17:00:02");
            CHECK_CONTAINS(at[0]->detail, "no row");
            CHECK_STR(at[0]->serial, ""); /* no number taken for a unit that cannot be provisioned */
        }
        rec_free(&r);
    }
    /* Nothing was written to unit 2: its flash still holds what it arrived with. */
    CHECK(flash_untouched(&sim, 2, 0, 0x1000000));
    /* The secret never appears in the events, only its digest. */
    char *ev = harness_read_file(st.out);
    CHECK(!strstr(ev, "s3cr3t"));
    CHECK_CONTAINS(ev, "device_key=sha256:");
    free(ev);
    serials l;
    if (CHECK(load_serials(&l)))
        CHECK_EQ_INT(l.n, 1);
    if (check_state_()->failures) {
        station_dump(&st);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- provision_kill ---- */

static void case_provision_kill(void)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "seed 9\n");
    for (int k = 1; k <= 16; k++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "unit %d at=%.1f leave=never mac=24:0a:c4:19:00:%02x\n", k,
                              0.25 * (k - 1), k);
    char scn[300];
    snprintf(scn, sizeof scn, "%s/units.scn", g_run);
    write_text(scn, text);
    sim_proc sim;
    const char *sargs[] = {"--scenario", scn, "--realism", NULL};
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    char prof[600];
    snprintf(prof, sizeof prof, "%s/demo-prov.ini", g_profdir);
    const char *args[] = {"--profile", prof, "--sim-dir", sim.dir, "--json", "--db", g_db, NULL};
    station_proc st;
    if (!CHECK(station_start(&st, g_station, g_run, "kill1", args)))
        return;
    /* SIGKILL once some units have their number and others do not yet. */
    serials l = {0};
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (access(g_db, F_OK) == 0 && load_serials(&l) && l.n >= 5)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (!CHECK(t.tv_sec - t0.tv_sec < 30))
            break;
        harness_sleep_ms(20);
    }
    station_signal(&st, SIGKILL);
    station_wait(&st, 5000);
    station_reap(&st);
    CHECK_EQ_INT(station_exit_code(&st), -SIGKILL);
    serials before;
    CHECK(load_serials(&before));
    CHECK(before.n >= 5 && before.n < 16);

    const char *args2[] = {"--profile", prof, "--sim-dir", sim.dir, "--json", "--db", g_db,
                           "--exit-after", "16", NULL};
    station_proc st2;
    if (!CHECK(station_start(&st2, g_station, g_run, "kill2", args2)))
        return;
    CHECK(station_wait(&st2, 100000));
    station_reap(&st2);
    CHECK_EQ_INT(station_exit_code(&st2), 0);
    CHECK(station_clean(&st2));

    rec_set r;
    if (CHECK(load_serials(&l)) && CHECK_EQ_INT(l.n, 16) && CHECK(rec_load(g_db, &r))) {
        for (int i = 0; i < l.n; i++) {
            CHECK_EQ_INT(l.s[i].seq, i + 1);         /* no gap */
            for (int j = 0; j < i; j++)
                CHECK(strcmp(l.s[i].mac, l.s[j].mac) != 0); /* one per unit */
            const st_db_attempt *alloc = NULL;        /* the attempt it was allocated in */
            for (int k = 0; k < r.na; k++)
                if (r.a[k].id == l.s[i].attempt_id)
                    alloc = &r.a[k];
            if (CHECK(alloc != NULL)) {
                CHECK_STR(alloc->mac, l.s[i].mac);
                CHECK_STR(alloc->serial, l.s[i].serial);
            }
            /* The unit's final attempt passed with this serial. */
            const st_db_attempt *last = NULL;
            for (int k = 0; k < r.na; k++)
                if (!strcmp(r.a[k].mac, l.s[i].mac))
                    last = &r.a[k];
            if (CHECK(last != NULL)) {
                CHECK_EQ_INT(last->outcome, ST_DB_PASS);
                CHECK_STR(last->serial, l.s[i].serial);
            }
        }
        /* Numbers given before the kill were kept by the same units. */
        for (int i = 0; i < before.n; i++) {
            CHECK_STR(l.s[i].mac, before.s[i].mac);
            CHECK_STR(l.s[i].serial, before.s[i].serial);
        }
        CHECK(rec_count_outcome(&r, ST_DB_INTERRUPTED) >= 1);
        CHECK_EQ_INT(rec_count_outcome(&r, ST_DB_IN_PROGRESS), 0);
        rec_free(&r);
    }
    CHECK(rec_integrity_ok(g_db));
    if (check_state_()->failures) {
        station_dump(&st2);
        sim_dump_log(&sim);
    }
    sim_stop(&sim);
}

/* ---- rfc2217 ---- */

static void case_rfc2217(void)
{
    char base[16];
    snprintf(base, sizeof base, "%d", 41000 + (int)(getpid() % 20000));
    sim_proc sim;
    const char *sargs[] = {"--rfc2217", base, "--units", "2", "--unit-opt", "2:fault=boot_panic", NULL};
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    char prof[600];
    snprintf(prof, sizeof prof, "%s/demo.ini", g_profdir);
    for (int k = 1; k <= 2; k++) {
        char port[300];
        sim_port_url(&sim, k, "rfc2217", port, sizeof port);
        const char *a[] = {"flash", "--port", port, "--profile", prof, "--db", g_db, NULL};
        int rc;
        char *o = station_cmd(a, &rc);
        CHECK_CONTAINS(o, "hard reset (RTS)"); /* the lines, not the loader's soft reset */
        if (k == 1) {
            CHECK_EQ_INT(rc, 0);
            CHECK_CONTAINS(o, "boot:    PASS, 'demo v1.4.2 ready'");
        } else {
            CHECK_EQ_INT(rc, 1);
            CHECK_CONTAINS(o, "NO BOOT (panic)");
            CHECK_CONTAINS(o, "Guru Meditation Error");
        }
        if (check_state_()->failures)
            fprintf(stderr, "%s\n", o);
        free(o);
    }
    if (check_state_()->failures)
        sim_dump_log(&sim);
    sim_stop(&sim);
}

/* ---- bench ---- */

static void case_bench(void)
{
    sim_proc sim;
    if (!start_sim(&sim, "unit 1 at=0 leave=never mac=24:0a:c4:18:00:01\n"))
        return;
    char port[300], prof[600];
    snprintf(port, sizeof port, "%s/slot1", sim.dir);
    snprintf(prof, sizeof prof, "%s/demo-prov.ini", g_profdir);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char s1[32], s2[32];
    snprintf(s1, sizeof s1, "DEMO-%04d00001", tm.tm_year + 1900);
    snprintf(s2, sizeof s2, "DEMO-%04d00002", tm.tm_year + 1900);
    int rc;
    const char *a1[] = {"flash", "--port", port, "--profile", prof, "--db", g_db, NULL};
    char *o = station_cmd(a1, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(o, s1);
    CHECK_CONTAINS(o, "boot:    PASS, 'demo v1.4.2 ready'");
    CHECK_CONTAINS(o, "the unit's NVS partition included");
    free(o);
    o = station_cmd(a1, &rc); /* re-flash: the same serial */
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(o, s1);
    free(o);
    const char *a2[] = {"flash", "--port", port, "--profile", prof, "--db", g_db, "--new-serial", NULL};
    o = station_cmd(a2, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(o, s2);
    free(o);
    rec_set r;
    if (CHECK(rec_load(g_db, &r))) {
        if (CHECK_EQ_INT(r.na, 3)) {
            CHECK_STR(r.a[0].serial, s1);
            CHECK_STR(r.a[1].serial, s1);
            CHECK_STR(r.a[2].serial, s2);
            CHECK_STR(r.a[2].boot, "pass");
            CHECK_STR(r.a[2].boot_captured, "version=1.4.2");
            check_partition(&sim, 1, &r.a[2]);
        }
        rec_free(&r);
    }
    /* Without records a serial must be given. */
    const char *a3[] = {"flash", "--port", port, "--profile", prof, "--no-record", NULL};
    o = station_cmd(a3, &rc);
    CHECK_EQ_INT(rc, 1);
    CHECK_CONTAINS(o, "give --serial");
    free(o);
    const char *a4[] = {"flash", "--port", port, "--profile", prof, "--no-record", "--serial",
                        "BENCH-7", NULL};
    o = station_cmd(a4, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(o, "serial_no=BENCH-7");
    free(o);
    if (check_state_()->failures)
        sim_dump_log(&sim);
    sim_stop(&sim);
}

static const check_case cases[] = {
    {"boot_faults", case_boot_faults}, {"wrong_image", case_wrong_image},
    {"provision16", case_provision16}, {"csv_missing", case_csv_missing},
    {"bench", case_bench},             {"rfc2217", case_rfc2217},
    {"provision_kill", case_provision_kill},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION ESP32SIM PROFILE_DIR", &g_station, &g_sim, &g_profdir))
        return 2;
    mkrun();
    int rc = CHECK_RUN_CASE(argv[1], cases);
    harness_rm_tree(g_run);
    return rc;
}

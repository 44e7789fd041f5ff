/* test_records - the record holds on every path: `station run` (and `station flash`)
 * against the simulator, with the disk under the database made slow, full or
 * read-only and the station killed at chosen points by an LD_PRELOAD shim (io_shim.c).
 *
 * usage: test_records CASE STATION ESP32SIM PROFILE_DIR SHIM
 *   retry_kill   a unit whose first try fails (bitflip:1) is retried; the station is
 *                killed right after each durable commit in turn, then restarted: the
 *                unit is never out of the retry bin unless it passed, and every try
 *                after the first knows the unit's MAC (defects 2 and 3)
 *   pass_unrecorded  the end record of a pass cannot be written (ENOSPC): no PASS is
 *                shown, the slot says PASS — NOT RECORDED, the line takes no new units,
 *                the station exits non-zero; the next start bins the unit (defect 4)
 *   unrecorded_halt  the same failed end record of a pass, the station left running: a
 *                unit plugged in after it is refused and never touched (its whole flash
 *                still the simulator's fill pattern, no sector programmed or erased, no
 *                attempt row, no worker), the events say what to do (defect 4)
 *   bench        `station flash` (the repair bench) records like the line: a unit binned
 *                by the line and passed on the bench has its entry resolved by the bench's
 *                attempt; a bench failure is recorded and binned with the line's class and
 *                hint; no writable store = refused, unit untouched; STATION_DB honoured;
 *                --no-record says so loudly and records nothing; a bench pass whose end
 *                record fails says PASS — NOT RECORDED (defect 1)
 *   disk_low     the store on a small disk (the shim's disk model): the line warns while
 *                room runs low, refuses to start when there is no room for the next
 *                attempts, and the records stay exportable on the full disk (defect 5)
 *   escapes      a bridge serial number carrying escape sequences (from the simulator)
 *                and an operator name that is a spreadsheet formula: --headless output,
 *                audit and export --csv carry no control character, the CSV cell is
 *                neutralised (defect 6)
 *   bin_close    `station retry-bin close MAC --reason TEXT`: a reason is required, a MAC
 *                without an open entry is a clear error; the closing (who: --operator,
 *                else the login name; when; why; which station) leaves the open bin and
 *                shows in retry-bin --all (table and JSON) and in audit
 *   soak         200 runs ($ST_SOAK_RUNS): a 16-unit batch with faults on a slow disk,
 *                SIGKILL at a random moment, restart; after every restart: integrity
 *                ok, no attempt in progress, no row lost or changed once final, every
 *                unit that ever failed passed later or is in the bin (label soak, only
 *                registered with -DST_SOAK=ON) */
#include "engine_harness.h"

static const char *g_station, *g_sim, *g_profdir, *g_shim;
static char g_profile[600];
static char g_run[64];
static char g_db[128];
static char g_template[160]; /* an empty, fully migrated store to start each run from */
static char g_empty[200];    /* a simulator folder with no units */

static void mkrun(void)
{
    harness_run_dir(g_run, sizeof g_run, "records");
    snprintf(g_db, sizeof g_db, "%s/st.db", g_run);
    snprintf(g_template, sizeof g_template, "%s/template.sqlite", g_run);
    snprintf(g_empty, sizeof g_empty, "%s/empty", g_run);
    mkdir(g_empty, 0755);
}

static void rmrun(void)
{
    harness_rm_tree(g_run);
}

/* Shim settings for the next station started (NULL value = unset). */
static void shim_env(const char *const *kv)
{
    static const char *const keys[] = {"SHIM_PATH", "SHIM_SYNC_DELAY_MS", "SHIM_SYNC_LOG",
                                       "SHIM_KILL_AFTER_SYNC", "SHIM_FAIL_ON", "SHIM_FAIL_AFTER_SYNC",
                                       "SHIM_ERRNO", "LD_PRELOAD", NULL};
    for (int i = 0; keys[i]; i++)
        unsetenv(keys[i]);
    if (!kv)
        return;
    for (int i = 0; kv[i] && kv[i + 1]; i += 2)
        setenv(kv[i], kv[i + 1], 1);
    setenv("SHIM_PATH", "/st.db", 1);
    setenv("LD_PRELOAD", g_shim, 1);
}

/* `station run --profile demo --sim-dir DIR --json --db g_db --operator tester EXTRA...`
 * with the shim settings kv (NULL: no shim). */
static bool line_start(station_proc *st, const char *tag, const char *sim_dir,
                       const char *const *extra, const char *const *kv)
{
    const char *args[40] = {"--profile", g_profile, "--sim-dir", sim_dir, "--json",
                            "--db",      g_db,      "--operator", "tester"};
    int n = 9;
    for (int i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    shim_env(kv);
    bool ok = station_start(st, g_station, g_run, tag, args);
    shim_env(NULL);
    return CHECK(ok);
}

static int line_wait(station_proc *st, int ms)
{
    CHECK(station_wait(st, ms));
    station_reap(st);
    return station_exit_code(st);
}

static bool copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    bool ok = a && b;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, n, b) == n;
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        ok = false;
    return ok;
}

/* A fresh store from the template (no WAL, no leftovers). */
static bool fresh_store(void)
{
    char p[200];
    snprintf(p, sizeof p, "%s-wal", g_db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", g_db);
    unlink(p);
    return copy_file(g_template, g_db);
}

/* Create the template: the station opens a new store, finds no unit and exits. */
static bool make_template(void)
{
    const char *args[] = {"--exit-when-idle", "0.2", NULL};
    station_proc st;
    if (!line_start(&st, "template", g_empty, args, NULL))
        return false;
    if (!CHECK_EQ_INT(line_wait(&st, 20000), 0)) {
        station_dump(&st);
        return false;
    }
    return CHECK(copy_file(g_db, g_template));
}

/* Restart on no units: crash recovery runs, the station idles out. */
static bool restart_recover(const char *tag)
{
    const char *args[] = {"--exit-when-idle", "0.2", NULL};
    station_proc st;
    if (!line_start(&st, tag, g_empty, args, NULL))
        return false;
    int rc = line_wait(&st, 20000);
    if (!CHECK_EQ_INT(rc, 0)) {
        station_dump(&st);
        return false;
    }
    return true;
}

static int read_int_file(const char *path)
{
    FILE *f = fopen(path, "r");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* The promises, over every record after a restart:
 * - nothing is left in progress and the file is intact;
 * - every unit the station touched (an attempt row exists) passed after its last
 *   failure, or has an open bin entry (by MAC, or by slot name when the MAC was never
 *   read);
 * - once a try of a unit knew its MAC, every later try of that unit does too, and its
 *   open bin entry carries it.
 * Returns the number of violations (each printed with what). */
static int check_promises(const rec_set *r, const char *what)
{
    int bad = 0;
    for (int i = 0; i < r->na; i++) {
        const st_db_attempt *a = &r->a[i];
        if (a->outcome == ST_DB_IN_PROGRESS) {
            fprintf(stderr, "%s: attempt %lld left in progress\n", what, (long long)a->id);
            bad++;
        }
        if (a->outcome == ST_DB_PASS)
            continue;
        /* a failure: a later pass of the same unit, or an open bin entry */
        bool settled = false;
        for (int j = 0; j < r->na && !settled; j++)
            settled = r->a[j].id > a->id && r->a[j].outcome == ST_DB_PASS &&
                      (a->mac[0] ? !strcmp(r->a[j].mac, a->mac) : !strcmp(r->a[j].slot_name, a->slot_name));
        for (int j = 0; j < r->nb && !settled; j++) {
            const st_db_bin_entry *b = &r->b[j];
            if (b->resolved_ms)
                continue;
            settled = a->mac[0] ? !strcmp(b->mac, a->mac)
                                : (!b->mac[0] && !strcmp(b->slot_name, a->slot_name));
        }
        if (!settled) {
            fprintf(stderr, "%s: attempt %lld (%s, slot %s, try %d, %s) is neither passed later nor in the bin\n",
                    what, (long long)a->id, *a->mac ? a->mac : "no MAC", a->slot_name, a->try_no,
                    st_db_outcome_name(a->outcome));
            bad++;
        }
    }
    return bad;
}

/* Within one unit's session in a slot (try numbers 1, 2, ... in id order), a MAC once
 * known is on every later try. Single-unit runs only (slot names repeat across units). */
static int check_identity(const rec_set *r, const char *what)
{
    int bad = 0;
    char known[18] = "";
    for (int i = 0; i < r->na; i++) {
        const st_db_attempt *a = &r->a[i];
        if (a->try_no == 1)
            snprintf(known, sizeof known, "%s", a->mac);
        else if (known[0] && strcmp(a->mac, known) != 0) {
            fprintf(stderr, "%s: try %d (attempt %lld) has MAC '%s', try 1 read %s\n", what, a->try_no,
                    (long long)a->id, a->mac, known);
            bad++;
        }
        if (!known[0])
            snprintf(known, sizeof known, "%s", a->mac);
    }
    for (int j = 0; j < r->nb; j++)
        if (!r->b[j].resolved_ms && !r->b[j].mac[0] && known[0]) {
            fprintf(stderr, "%s: open bin entry %lld has no MAC though the unit's MAC %s was read\n",
                    what, (long long)r->b[j].id, known);
            bad++;
        }
    return bad;
}

/* ---- retry_kill ---- */

static void case_retry_kill(void)
{
    if (!make_template())
        return;
    char synclog[200];
    snprintf(synclog, sizeof synclog, "%s/syncs.txt", g_run);
    const char *sargs[] = {"--units", "1", "--unit-opt", "1:fault=bitflip:1", NULL};
    const char *run_args[] = {"--exit-after", "1", NULL};

    /* Calibrate: how many durable points a whole run has. */
    sim_proc sim;
    if (!CHECK(fresh_store()) || !CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *count_kv[] = {"SHIM_SYNC_LOG", synclog, NULL};
    station_proc st;
    int total = -1;
    if (line_start(&st, "calibrate", sim.dir, run_args, count_kv)) {
        CHECK_EQ_INT(line_wait(&st, 30000), 0);
        total = read_int_file(synclog);
        ev_list l = events_read(&st);
        CHECK_EQ_INT(events_count(&l, "try_fail", NULL, NULL), 1); /* the fault did fire */
        CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 1);
        events_free(&l);
    }
    sim_stop(&sim);
    fprintf(stderr, "retry_kill: %d durable points in a run\n", total);
    if (!CHECK(total >= 4))
        return;

    int violations = 0, killed = 0;
    for (int k = 1; k <= total; k++) {
        if (!CHECK(fresh_store()) || !CHECK(sim_start(&sim, g_sim, sargs)))
            return;
        char ks[16];
        snprintf(ks, sizeof ks, "%d", k);
        const char *kv[] = {"SHIM_KILL_AFTER_SYNC", ks, NULL};
        char tag[32];
        snprintf(tag, sizeof tag, "kill%d", k);
        if (line_start(&st, tag, sim.dir, run_args, kv)) {
            int rc = line_wait(&st, 30000);
            killed += rc == -SIGKILL;
            CHECK(rc == -SIGKILL || rc == 0);
        }
        sim_stop(&sim);
        snprintf(tag, sizeof tag, "recover%d", k);
        rec_set r = {0};
        if (restart_recover(tag) && CHECK(rec_integrity_ok(g_db)) && CHECK(rec_load(g_db, &r))) {
            char what[64];
            snprintf(what, sizeof what, "killed after durable point %d", k);
            int bad = check_promises(&r, what) + check_identity(&r, what);
            if (bad)
                for (int i = 0; i < r.na; i++)
                    fprintf(stderr, "    attempt %lld try %d %s mac '%s'\n", (long long)r.a[i].id,
                            r.a[i].try_no, st_db_outcome_name(r.a[i].outcome), r.a[i].mac);
            violations += bad;
        }
        rec_free(&r);
    }
    fprintf(stderr, "retry_kill: %d kills, %d violations\n", killed, violations);
    CHECK(killed >= total - 2); /* the last points (closing checkpoint) may come after exit */
    CHECK_EQ_INT(violations, 0);
}

/* ---- pass_unrecorded ---- */

static void case_pass_unrecorded(void)
{
    if (!make_template() || !CHECK(fresh_store()))
        return;
    const char *sargs[] = {"--units", "1", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    /* The end record of a pass is the first block written with outcome 'pass' followed by
     * phase 'done' in a row (no schema or probe page holds those bytes together). */
    const char *kv[] = {"SHIM_FAIL_ON", "passdone", "SHIM_ERRNO", "ENOSPC", NULL};
    const char *run_args[] = {"--exit-after", "1", NULL};
    station_proc st;
    if (!line_start(&st, "unrecorded", sim.dir, run_args, kv)) {
        sim_stop(&sim);
        return;
    }
    int rc = line_wait(&st, 30000);
    sim_stop(&sim);
    CHECK(rc != 0); /* a run with a record that could not be written does not end well */
    ev_list l = events_read(&st);
    CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 0); /* never shown as a PASS */
    CHECK_EQ_INT(events_count(&l, "unrecorded", "slot1", NULL), 1);
    bool says_what = false, line_halted = false;
    for (int i = 0; i < l.n; i++) {
        if (!strcmp(l.v[i].event, "unrecorded"))
            says_what = strstr(l.v[i].text, "PASS — NOT RECORDED") && strstr(l.v[i].text, "flash it again");
        if (!strcmp(l.v[i].event, "line") && strstr(l.v[i].text, "no new units"))
            line_halted = true;
    }
    CHECK(says_what);
    CHECK(line_halted);
    events_free(&l);
    char *out = harness_read_file(st.out);
    CHECK_CONTAINS(out, "\"records_broken\":true");
    free(out);

    /* The next start finds the attempt unfinished: interrupted, the unit binned. */
    rec_set r = {0};
    if (restart_recover("after") && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(r.na, 1);
        if (r.na == 1) {
            CHECK_STR(st_db_outcome_name(r.a[0].outcome), "interrupted");
            const st_db_bin_entry *b = rec_bin_for_mac(&r, r.a[0].mac);
            if (CHECK(b != NULL))
                CHECK_EQ_INT(b->resolved_ms, 0);
        }
        CHECK_EQ_INT(check_promises(&r, "after an unrecorded pass"), 0);
    }
    rec_free(&r);
    if (check_state_()->failures)
        station_dump(&st);
}

/* ---- unrecorded_halt ---- */

/* Plug simulator unit k (of sim) into the station's folder plug_dir: its sidecar first,
 * then the link, as udev would publish a by-path name. */
static bool plug_unit(const sim_proc *sim, const char *plug_dir, int k)
{
    char from[320], to[320], target[256];
    snprintf(from, sizeof from, "%s/slot%d.usb", sim->dir, k);
    snprintf(to, sizeof to, "%s/slot%d.usb", plug_dir, k);
    if (!CHECK(copy_file(from, to)))
        return false;
    snprintf(from, sizeof from, "%s/slot%d", sim->dir, k);
    ssize_t n = readlink(from, target, sizeof target - 1);
    if (!CHECK(n > 0))
        return false;
    target[n] = '\0';
    snprintf(to, sizeof to, "%s/slot%d", plug_dir, k);
    return CHECK(symlink(target, to) == 0);
}

static void case_unrecorded_halt(void)
{
    if (!make_template() || !CHECK(fresh_store()))
        return;
    const char *sargs[] = {"--units", "2", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    char plug[200];
    snprintf(plug, sizeof plug, "%s/plug", g_run);
    mkdir(plug, 0755);
    const char *kv[] = {"SHIM_FAIL_ON", "passdone", "SHIM_ERRNO", "EIO", NULL};
    station_proc st;
    if (!plug_unit(&sim, plug, 1) || !line_start(&st, "halt", plug, NULL, kv)) {
        sim_stop(&sim);
        return;
    }
    /* unit 1 verifies, its end record fails: PASS — NOT RECORDED, the line halts */
    bool unrecorded = CHECK(events_wait_for(&st, "unrecorded", NULL, 1, 60000));
    /* only then unit 2 arrives: the line must not touch it */
    bool refused = unrecorded && plug_unit(&sim, plug, 2) && CHECK(events_wait_for(&st, "refused", "database", 1, 30000));
    station_signal(&st, SIGTERM);
    int rc = line_wait(&st, 30000);
    CHECK_EQ_INT(rc, 1); /* records could not be written during the run */
    ev_list l = events_read(&st);
    CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 0);
    CHECK_EQ_INT(events_count(&l, "unrecorded", "slot1", NULL), 1);
    CHECK_EQ_INT(events_count(&l, "refused", "slot2", "database"), refused ? 1 : 0);
    CHECK_EQ_INT(events_count(&l, "worker", "slot2", NULL), 0);
    bool what_to_do = false, halted = false, refusal_says = false;
    for (int i = 0; i < l.n; i++) {
        const ev_line *e = &l.v[i];
        if (!strcmp(e->event, "unrecorded"))
            what_to_do = strstr(e->text, "PASS — NOT RECORDED") && strstr(e->text, "keep the unit apart") &&
                         strstr(e->text, "flash it again");
        if (!strcmp(e->event, "line") && strstr(e->text, "the line takes no new units") &&
            strstr(e->text, "free space or fix the database, then restart the station"))
            halted = true;
        if (!strcmp(e->event, "refused") && !strcmp(e->slot, "slot2"))
            refusal_says = strstr(e->text, "not flashed: records are failing") != NULL;
        if (!strcmp(e->slot, "slot2") && strcmp(e->event, "refused") && strcmp(e->event, "attach") &&
            strcmp(e->event, "detach")) {
            fprintf(stderr, "slot2 event after the halt: %s %s\n", e->event, e->text);
            CHECK(!"only plugged in and refused for the unit plugged in after the halt");
        }
    }
    CHECK(what_to_do);
    CHECK(halted);
    CHECK(refusal_says);
    events_free(&l);
    char *out = harness_read_file(st.out);
    CHECK_CONTAINS(out, "\"records_broken\":true");
    free(out);

    /* unit 2 untouched: its whole flash is the fill pattern, no sector programmed or erased */
    size_t size = 0;
    uint8_t *f2 = flash_file_load(&sim, 2, &size);
    free(f2);
    CHECK(size > 0 && flash_untouched(&sim, 2, 0, (uint32_t)size));
    uint32_t ops[2], programmed = 0, erased = 0;
    for (uint32_t sec = 0; size && sec < size / 4096 && sim_sector_ops(&sim, 2, sec, ops); sec++) {
        programmed += ops[0];
        erased += ops[1];
    }
    CHECK_EQ_INT(programmed, 0);
    CHECK_EQ_INT(erased, 0);
    if (check_state_()->failures)
        sim_dump_log(&sim);
    sim_stop(&sim);

    /* no attempt for unit 2; unit 1's unfinished row becomes interrupted and binned */
    rec_set r = {0};
    if (restart_recover("after-halt") && CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT(r.na, 1);
        for (int i = 0; i < r.na; i++)
            CHECK_STR(r.a[i].slot_name, "slot1");
        if (r.na == 1) {
            CHECK_STR(st_db_outcome_name(r.a[0].outcome), "interrupted");
            CHECK(rec_bin_for_mac(&r, r.a[0].mac) != NULL);
        }
        CHECK_EQ_INT(check_promises(&r, "after the halt"), 0);
    }
    rec_free(&r);
    if (check_state_()->failures)
        station_dump(&st);
}

/* ---- bench ---- */

/* Run `station ARGS...` with the shim settings kv (NULL: none) and STATION_DB=station_db
 * (NULL: unset); its combined output into *out (malloc'd). Returns the exit code,
 * -signal when killed (after 30 s it is). */
static int station_cmd(const char *const *args, const char *const *kv, const char *station_db,
                       char **out)
{
    char outp[200];
    snprintf(outp, sizeof outp, "%s/cmd.out", g_run);
    const char *argv[40] = {g_station};
    int n = 1;
    for (int i = 0; args && args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        shim_env(kv);
        if (station_db)
            setenv("STATION_DB", station_db, 1);
        else
            unsetenv("STATION_DB");
        execv(g_station, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    bool done = false;
    for (int i = 0; i < 3000 && !done; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            done = true;
        else
            harness_sleep_ms(10);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    *out = harness_read_file(outp);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* `station flash --port SIM/slot1 --profile demo ARGS...` through station_cmd. */
static int bench_flash(const sim_proc *sim, const char *const *args, const char *const *kv,
                       const char *station_db, char **out)
{
    char port[320];
    snprintf(port, sizeof port, "%s/slot1", sim->dir);
    const char *argv[40] = {"flash", "--port", port, "--profile", g_profile};
    int n = 5;
    for (int i = 0; args && args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return station_cmd(argv, kv, station_db, out);
}

static const st_db_attempt *last_attempt(const rec_set *r)
{
    return r->na ? &r->a[r->na - 1] : NULL;
}

static void case_bench(void)
{
    const char *mac = "24:0a:c4:00:01:01";
    char *out = NULL;
    /* The line bins a unit whose flash is too small. */
    const char *small[] = {"--units", "1", "--unit-opt", "1:flash=1M", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, small)))
        return;
    const char *run_args[] = {"--exit-after", "1", NULL};
    station_proc st;
    if (line_start(&st, "line", sim.dir, run_args, NULL))
        CHECK_EQ_INT(line_wait(&st, 30000), 0);
    sim_stop(&sim);
    rec_set r = {0};
    const st_db_bin_entry *b;
    if (CHECK(rec_load(g_db, &r)) && CHECK((b = rec_bin_for_mac(&r, mac)) != NULL))
        CHECK_EQ_INT(b->resolved_ms, 0);
    rec_free(&r);

    /* A bench failure (the technician's first go: a bad write) is recorded and keeps the
     * unit in the bin, with the line's class and hint. */
    const char *flip[] = {"--units", "1", "--unit-opt", "1:fault=bitflip:1", NULL};
    const char *with_db[] = {"--db", g_db, "--operator", "repair-ann", NULL};
    if (CHECK(sim_start(&sim, g_sim, flip))) {
        CHECK_EQ_INT(bench_flash(&sim, with_db, NULL, NULL, &out), 1);
        CHECK_CONTAINS(out, "class: md5_mismatch");
        CHECK_CONTAINS(out, st_fclass_hint(ST_FC_MD5_MISMATCH));
        CHECK_CONTAINS(out, "retry bin");
        free(out);
        sim_stop(&sim);
    }
    if (CHECK(rec_load(g_db, &r))) {
        const st_db_attempt *a = last_attempt(&r);
        if (CHECK(a != NULL)) {
            CHECK_STR(st_db_outcome_name(a->outcome), "fail");
            CHECK_STR(st_fclass_name(a->fclass), "md5_mismatch");
            CHECK_STR(a->mac, mac);
            CHECK_STR(a->operator_name, "repair-ann");
            CHECK(a->host[0] != '\0');
            CHECK_STR(a->slot_name, "bench:slot1");
            CHECK_STR(a->bridge, "CP2104");
        }
        if (CHECK((b = rec_bin_for_mac(&r, mac)) != NULL)) {
            CHECK_EQ_INT(b->resolved_ms, 0);
            CHECK_EQ_INT(b->attempts, 2);
            CHECK_STR(st_fclass_name(b->fclass), "md5_mismatch");
        }
        CHECK_EQ_INT(check_promises(&r, "bench fail"), 0);
    }
    rec_free(&r);

    /* The store named by STATION_DB (no --db) takes the bench's pass, which resolves the
     * unit's bin entry. */
    const char *plain[] = {"--units", "1", NULL};
    const char *op_only[] = {"--operator", "repair-ann", NULL};
    if (CHECK(sim_start(&sim, g_sim, plain))) {
        CHECK_EQ_INT(bench_flash(&sim, op_only, NULL, g_db, &out), 0);
        CHECK_CONTAINS(out, "PASS: all 3 regions verified");
        CHECK(!strstr(out, "NOT RECORDED"));
        free(out);
        sim_stop(&sim);
    }
    int64_t pass_id = 0;
    if (CHECK(rec_load(g_db, &r))) {
        const st_db_attempt *a = last_attempt(&r);
        if (CHECK(a != NULL)) {
            CHECK_STR(st_db_outcome_name(a->outcome), "pass");
            CHECK_STR(a->mac, mac);
            pass_id = a->id;
            /* a bench try is a run of its own, measured on the monotonic clock */
            CHECK(a->run_started_ms > 0 && a->run_offset_ms == 0);
            CHECK(a->duration_ms > 0 && a->duration_ms >= a->total_ms - 1);
        }
        if (CHECK((b = rec_bin_for_mac(&r, mac)) != NULL)) {
            CHECK(b->resolved_ms != 0);
            CHECK_EQ_INT(b->resolved_by, pass_id);
        }
    }
    int na = r.na;
    rec_free(&r);

    /* No writable store: refused before the unit is touched. */
    if (CHECK(sim_start(&sim, g_sim, plain))) {
        /* a folder that cannot be created, even by root */
        const char *bad_db[] = {"--db", "/proc/self/no-such-folder/st.db", NULL};
        CHECK_EQ_INT(bench_flash(&sim, bad_db, NULL, NULL, &out), 3);
        CHECK_CONTAINS(out, "refusing to flash");
        CHECK(!strstr(sim_log_text(&sim), "SYNC"));
        free(out);
        /* the same store on a disk that refuses writes (EROFS from the shim) */
        const char *erofs[] = {"SHIM_FAIL_AFTER_SYNC", "0", "SHIM_ERRNO", "EROFS", NULL};
        const char *db_args[] = {"--db", g_db, NULL};
        CHECK_EQ_INT(bench_flash(&sim, db_args, erofs, NULL, &out), 3);
        CHECK_CONTAINS(out, "refusing to flash");
        CHECK(!strstr(sim_log_text(&sim), "SYNC"));
        free(out);

        /* --no-record flashes, records nothing, and says so on every outcome line */
        const char *norec[] = {"--no-record", NULL};
        CHECK_EQ_INT(bench_flash(&sim, norec, NULL, g_db, &out), 0);
        CHECK_CONTAINS(out, "WARNING: --no-record");
        CHECK_CONTAINS(out, "NOT RECORDED (--no-record)");
        free(out);
        sim_stop(&sim);
    }
    if (CHECK(rec_load(g_db, &r)))
        CHECK_EQ_INT(r.na, na);
    rec_free(&r);

    /* A bench pass whose end record cannot be written is not a PASS. */
    if (CHECK(sim_start(&sim, g_sim, plain))) {
        /* a store of its own: the first block with a pass row in it is this end record */
        char own[300];
        snprintf(own, sizeof own, "%s/unrecorded", g_run);
        mkdir(own, 0755);
        snprintf(own, sizeof own, "%s/unrecorded/st.db", g_run);
        const char *full[] = {"SHIM_FAIL_ON", "passdone", "SHIM_ERRNO", "ENOSPC", NULL};
        const char *db_args[] = {"--db", own, NULL};
        CHECK_EQ_INT(bench_flash(&sim, db_args, full, NULL, &out), 3);
        CHECK_CONTAINS(out, "PASS — NOT RECORDED");
        CHECK(!strstr(out, "PASS: all"));
        free(out);
        sim_stop(&sim);
        /* the attempt stays unfinished: the next writer open bins it as interrupted */
        if (CHECK(rec_load(own, &r))) {
            const st_db_attempt *a = last_attempt(&r);
            if (CHECK(a != NULL))
                CHECK_STR(st_db_outcome_name(a->outcome), "in_progress");
        }
        rec_free(&r);
    }
}

/* ---- disk_low ---- */

static long long store_bytes(void)
{
    static const char *const side[] = {"", "-wal", "-shm", "-journal", ".reserve", ".lock", NULL};
    long long n = 0;
    for (int i = 0; side[i]; i++) {
        char p[200];
        snprintf(p, sizeof p, "%s%s", g_db, side[i]);
        struct stat sb;
        if (stat(p, &sb) == 0)
            n += sb.st_size;
    }
    return n;
}

static void case_disk_low(void)
{
    /* a 4 MB disk: room for a few hundred attempts, fewer than the warning level */
    char disk[32];
    snprintf(disk, sizeof disk, "%d", 4 * 1024 * 1024);
    const char *small[] = {"SHIM_DISK_DB", g_db, "SHIM_DISK_BYTES", disk, NULL};
    const char *sargs[] = {"--units", "2", NULL};
    const char *run_args[] = {"--exit-after", "2", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    station_proc st;
    if (line_start(&st, "low", sim.dir, run_args, small))
        CHECK_EQ_INT(line_wait(&st, 30000), 0);
    sim_stop(&sim);
    ev_list l = events_read(&st);
    bool warned = false;
    for (int i = 0; i < l.n; i++)
        if (!strcmp(l.v[i].event, "info") && strstr(l.v[i].text, "disk low:") &&
            strstr(l.v[i].text, "attempts"))
            warned = true;
    CHECK(warned);
    CHECK_EQ_INT(events_count(&l, "pass", NULL, NULL), 2);
    events_free(&l);
    if (check_state_()->failures)
        station_dump(&st);

    /* the disk fills up: the line does not start, and says why */
    snprintf(disk, sizeof disk, "%lld", store_bytes() + 300 * 1024);
    const char *full[] = {"SHIM_DISK_DB", g_db, "SHIM_DISK_BYTES", disk, NULL};
    if (CHECK(sim_start(&sim, g_sim, sargs))) {
        if (line_start(&st, "full", sim.dir, run_args, full))
            CHECK_EQ_INT(line_wait(&st, 30000), 3);
        char *err = harness_read_file(st.err);
        CHECK_CONTAINS(err, "disk low:");
        CHECK_CONTAINS(err, "refusing to flash");
        free(err);
        CHECK(!strstr(sim_log_text(&sim), "SYNC"));
        sim_stop(&sim);
    }
    /* the records stay exportable on the full disk */
    char *out = NULL;
    const char *exp[] = {"export", "--csv", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(exp, full, NULL, &out), 0);
    CHECK_EQ_INT((int)(strstr(out, "pass") ? 1 : 0), 1);
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    CHECK_EQ_INT(lines, 3); /* the header and both attempts */
    free(out);
}

/* ---- escapes ---- */

#define has_controls harness_has_controls

static void case_escapes(void)
{
    /* ESC [2J clears the screen, ESC ]0; sets the title, BEL ends it */
    const char *sargs[] = {"--units", "1", "--unit-opt", "1:serial=\033[2J\033]0;owned\007X", NULL};
    sim_proc sim;
    if (!CHECK(sim_start(&sim, g_sim, sargs)))
        return;
    const char *args[] = {"run", "--profile", g_profile, "--sim-dir", sim.dir, "--headless", "--db", g_db,
                          "--operator", "=1+2", "--exit-after", "1", NULL};
    char *out = NULL;
    CHECK_EQ_INT(station_cmd(args, NULL, NULL, &out), 0);
    sim_stop(&sim);
    CHECK_CONTAINS(out, "[2J"); /* the serial is shown, its escapes are not */
    CHECK(!has_controls(out));
    free(out);

    const char *audit[] = {"audit", "24:0a:c4:00:01:01", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(audit, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, "attempt #1");
    CHECK_CONTAINS(out, "usb serial  [2J ]0;owned X"); /* shown, cleaned */
    CHECK(!has_controls(out));
    free(out);
    /* the unit found by that USB serial, as the bridge reported it; stats and the bin */
    const char *by_serial[] = {"audit", "--serial", "\033[2J\033]0;owned\007X", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(by_serial, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, "unit 24:0a:c4:00:01:01");
    CHECK(!has_controls(out));
    free(out);
    const char *stats[] = {"stats", "--db", g_db, NULL}, *bin[] = {"retry-bin", "--all", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(stats, NULL, NULL, &out), 0);
    CHECK(!has_controls(out));
    free(out);
    CHECK_EQ_INT(station_cmd(bin, NULL, NULL, &out), 0);
    CHECK(!has_controls(out));
    free(out);

    const char *exp[] = {"export", "--csv", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(exp, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, "[2J");
    CHECK(!has_controls(out));
    CHECK_CONTAINS(out, ",'=1+2,"); /* a formula cell starts with a quote: shown, never run */
    CHECK(!strstr(out, ",=1+2"));
    if (check_state_()->failures)
        fprintf(stderr, "---- export ----\n%s\n", out);
    free(out);
}

/* ---- bin_close ---- */

/* Put mac in the retry bin of g_db (a failure recorded by hand). */
static bool bin_seed(const char *mac)
{
    st_db *db;
    st_err err;
    if (!CHECK(st_db_open(g_db, NULL, &db, &err) == 0)) {
        fprintf(stderr, "%s\n", err.msg);
        return false;
    }
    st_db_bin_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.mac, sizeof e.mac, "%s", mac);
    snprintf(e.slot_name, sizeof e.slot_name, "slot4");
    e.fclass = ST_FC_FLASH_WRITE;
    e.phase = ST_PH_WRITE;
    bool ok = CHECK(st_db_bin_add(db, &e, NULL, &err) == 0);
    st_db_close(db);
    return ok;
}

static void case_bin_close(void)
{
    const char *mac = "24:0a:c4:00:04:01", *mac2 = "24:0a:c4:00:04:02";
    if (!bin_seed(mac) || !bin_seed(mac2))
        return;
    char *out = NULL;
    /* refused, nothing changed: no reason, a blank one, a MAC with no open entry */
    const char *noreason[] = {"retry-bin", "close", mac, "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(noreason, NULL, NULL, &out), 2);
    CHECK_CONTAINS(out, "a reason is required");
    free(out);
    const char *blank[] = {"retry-bin", "close", mac, "--reason", "   ", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(blank, NULL, NULL, &out), 2);
    CHECK_CONTAINS(out, "a reason is required");
    free(out);
    const char *other[] = {"retry-bin", "close", "24:0a:c4:00:04:99", "--reason", "scrapped", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(other, NULL, NULL, &out), 1);
    CHECK_CONTAINS(out, "24:0a:c4:00:04:99 has no open retry-bin entry");
    CHECK_CONTAINS(out, "hint: station retry-bin lists the open entries");
    free(out);
    const char *open_list[] = {"retry-bin", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(open_list, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, mac);
    free(out);

    /* closed with the operator named, then one with the login name */
    const char *close1[] = {"retry-bin", "close", "24:0A:C4:00:04:01", "--reason", "scrapped: cracked case",
                            "--operator", "qa-ann", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(close1, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, "closed retry-bin entry");
    CHECK_CONTAINS(out, "closed by qa-ann@");
    free(out);
    const char *close2[] = {"retry-bin", "close", mac2, "--reason", "returned to supplier, RMA 4411", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(close2, NULL, NULL, &out), 0);
    free(out);
    CHECK_EQ_INT(station_cmd(close1, NULL, NULL, &out), 1); /* nothing open any more */
    CHECK_CONTAINS(out, "has no open retry-bin entry");
    free(out);

    CHECK_EQ_INT(station_cmd(open_list, NULL, NULL, &out), 0);
    CHECK(!strstr(out, mac));
    CHECK(!strstr(out, mac2));
    CHECK_CONTAINS(out, "the retry bin is empty");
    free(out);
    const char *all[] = {"retry-bin", "--all", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(all, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, " closed ");
    CHECK_CONTAINS(out, "closed by qa-ann@");
    CHECK_CONTAINS(out, ": scrapped: cracked case");
    CHECK_CONTAINS(out, ": returned to supplier, RMA 4411");
    CHECK(!strstr(out, "closed by -@")); /* the login name stands in for --operator */
    free(out);
    char host[64] = "";
    gethostname(host, sizeof host);
    const char *json[] = {"retry-bin", "--all", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(json, NULL, NULL, &out), 0);
    CHECK_CONTAINS(out, "\"closed_reason\":\"scrapped: cracked case\"");
    CHECK_CONTAINS(out, "\"closed_by\":\"qa-ann\"");
    char want[160];
    snprintf(want, sizeof want, "\"closed_host\":\"%s\"", host);
    CHECK_CONTAINS(out, want);
    CHECK_CONTAINS(out, "\"resolved\":\"20"); /* when */
    free(out);
    const char *audit[] = {"audit", mac, "--db", g_db, NULL};
    CHECK_EQ_INT(station_cmd(audit, NULL, NULL, &out), 0);
    snprintf(want, sizeof want, "closed by qa-ann@%s: scrapped: cracked case", host);
    CHECK_CONTAINS(out, want);
    free(out);
}

/* ---- soak ---- */

typedef struct seen_row {
    int64_t id;
    st_db_outcome outcome;
} seen_row;

static void case_soak(void)
{
    const char *runs_env = getenv("ST_SOAK_RUNS");
    int runs = runs_env && atoi(runs_env) > 0 ? atoi(runs_env) : 200;
    if (!make_template() || !CHECK(fresh_store()))
        return;
    static const char *const faults[16] = {
        "",           "fault=bitflip:1",  "fault=ram_checksum:1", "flash=1M",
        "fault=wrong_chip", "fault=blank:1", "fault=flash_write_error:1", "fault=inflate_error:1",
        "fault=no_sync", "fault=disconnect:50", "fault=noise:0.02", "fault=slow:5",
        "fault=ram_checksum:10", "fault=bitflip:2", "", "fault=bitflip:1"};
    srand(20261203);
    seen_row *seen = NULL;
    int nseen = 0, violations = 0, kills = 0;
    for (int run = 0; run < runs && violations == 0; run++) {
        const char *sargs[40] = {"--units", "16"};
        int n = 2;
        char opts[16][64], seed[16];
        for (int k = 0; k < 16; k++) {
            if (!*faults[k])
                continue;
            snprintf(opts[k], sizeof opts[k], "%d:%s", k + 1, faults[k]);
            sargs[n++] = "--unit-opt";
            sargs[n++] = opts[k];
        }
        snprintf(seed, sizeof seed, "%d", run);
        sargs[n++] = "--seed";
        sargs[n++] = seed;
        sargs[n] = NULL;
        sim_proc sim;
        if (!CHECK(sim_start(&sim, g_sim, sargs)))
            break;
        char delay[16];
        snprintf(delay, sizeof delay, "%d", rand() % 40);
        const char *kv[] = {"SHIM_SYNC_DELAY_MS", delay, NULL};
        const char *run_args[] = {"--exit-after", "16", NULL};
        station_proc st;
        if (line_start(&st, "soak", sim.dir, run_args, kv)) {
            harness_sleep_ms(rand() % 8000); /* a random moment of the batch */
            station_wait(&st, 0);
            kills += !st.exited;
            station_signal(&st, SIGKILL);
            line_wait(&st, 30000);
        }
        sim_stop(&sim);
        rec_set r = {0};
        char what[48];
        snprintf(what, sizeof what, "soak run %d", run);
        if (!restart_recover("soak-recover") || !CHECK(rec_integrity_ok(g_db)) || !CHECK(rec_load(g_db, &r))) {
            violations++;
            break;
        }
        violations += check_promises(&r, what);
        /* nothing lost; a final outcome never changes (in progress may become final) */
        for (int i = 0; i < nseen; i++) {
            const st_db_attempt *a = NULL;
            for (int j = 0; j < r.na && !a; j++)
                if (r.a[j].id == seen[i].id)
                    a = &r.a[j];
            if (!a || (seen[i].outcome != ST_DB_IN_PROGRESS && a->outcome != seen[i].outcome)) {
                fprintf(stderr, "%s: attempt %lld %s\n", what, (long long)seen[i].id,
                        a ? "changed its final outcome" : "was lost");
                violations++;
            }
        }
        seen = realloc(seen, (size_t)r.na * sizeof *seen);
        nseen = r.na;
        for (int i = 0; i < r.na; i++)
            seen[i] = (seen_row){r.a[i].id, r.a[i].outcome};
        rec_free(&r);
        if (run % 20 == 0)
            fprintf(stderr, "soak: run %d, %d attempts recorded, %d kills\n", run, nseen, kills);
    }
    fprintf(stderr, "soak: %d runs, %d attempts, %d kills mid-batch, %d violations\n", runs, nseen,
            kills, violations);
    CHECK(kills > 0);
    CHECK_EQ_INT(violations, 0);
    free(seen);
}

static const check_case cases[] = {
    {"retry_kill", case_retry_kill}, {"pass_unrecorded", case_pass_unrecorded},
    {"bench", case_bench},           {"disk_low", case_disk_low},
    {"escapes", case_escapes},       {"soak", case_soak},
    {"unrecorded_halt", case_unrecorded_halt}, {"bin_close", case_bin_close},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION ESP32SIM PROFILE_DIR SHIM", &g_station, &g_sim,
                    &g_profdir, &g_shim))
        return 2;
    snprintf(g_profile, sizeof g_profile, "%s/demo.ini", g_profdir);
    mkrun();
    int rc = CHECK_RUN_CASE(argv[1], cases);
    rmrun();
    return rc;
}

/* cli_run.c - `station run`: the production line. Opens the record store (refusing to
 * run when it cannot be written), starts the recorder and the engine, and shows the line
 * on the ncurses dashboard, or headless as one line (or one JSON object) per event.
 * SIGINT/SIGTERM: the first stops taking units and lets units in flight finish; the
 * second aborts them (recorded as interrupted). Exit status: 0 after a clean stop, 1 when
 * records could not be written during the run, 2 usage or profile error, 3 the database
 * cannot be used (nothing was flashed), 4 (--until-idle only) a unit failed for good. */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_event_json.h"
#include "cli_hook.h"
#include "who.h"
#include "text.h"
#include "cli_paths.h"
#include "cli_records.h"
#include "db.h"
#include "engine.h"
#include "recorder.h"
#include "shipper.h"
#include "tui.h"


#define PROG "station run"

typedef struct run_ctx {
    st_engine *e;
    int exit_after;           /* stop after this many units finished (0: never) */
    double exit_idle_s;       /* stop after this long with nothing in flight (0: never) */
    double until_idle_s;      /* stop after this long with no unit plugged in or in flight */
    const char *on_result;    /* command per finished unit (cli_hook.h), NULL: none */
    double on_result_timeout_s;
    char records[1024];       /* where the records went, for the summary */
    int summary_after;        /* dashboard: closing summary once this many units finished */
    bool temporary_records;   /* the records are removed after the run (the demo's) */
    bool json;
    sigset_t sigs;
    atomic_int quit;          /* tells the dashboard to leave (the line is done) */
    atomic_int monitor_stop;
    const char *db_path;      /* NULL: the default */
    st_db *reader;            /* dashboard history; UI thread only */
    char profile_dirs[1024];
} run_ctx;

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station run --profile NAME [--sim-dir DIR] [--headless] [--json] [--db PATH]\n"
            "                   [--operator NAME] [--max-tries N]\n"
            "                   [--exit-after N | --exit-when-idle SECS | --until-idle SECS]\n"
            "  --profile NAME       profile name (looked up in the profile folders) or file\n"
            "  --profiles-dir DIRS  ':'-separated folders for NAME.ini (default $STATION_PROFILES,\n"
            "                       else the installed and build-tree profile folders)\n"
            "  --sim-dir DIR        also take simulator units from DIR (slotK symlinks); the USB\n"
            "                       scan is then off unless --usb is given\n"
            "  --usb                scan real USB serial ports (default without --sim-dir)\n"
            "  --usb-filter LIST    bridges to take, vid:pid,... in hex (default: the ESP bridges)\n"
            "  --layout FILE        line layout: each by-path place's label and grid position\n"
            "                       (A1..D8); default $XDG_CONFIG_HOME/flashstation/layout.ini\n"
            "                       (~/.config/...), else /etc/flashstation/layout.ini, if there\n"
            "  --no-layout          no layout file, even when a default one exists\n"
            "  --headless           one line per event instead of the dashboard\n"
            "  --json               one JSON object per event on stdout (implies --headless)\n"
            "  --db PATH            record store (default $STATION_DB or the per-user default)\n"
            "  --operator NAME      recorded with every attempt (default: the login name)\n"
            "  --max-tries N        tries per unit before it goes to the retry bin (default 3)\n"
            "  --min-baud B         the retry ladder never goes below B (default 115200)\n"
            "  --no-rom-only        never fall back to flashing without the stub\n"
            "  --sync-attempts N    connect attempts per try (default: the loader's)\n"
            "  --attempt-timeout S  watchdog per try in seconds (default: from the image size)\n"
            "  --grace S            on stop, units in flight get S seconds (default 30)\n"
            "  --exit-after N       stop after N units finished (passed or failed for good)\n"
            "  --exit-when-idle S   stop once nothing has been in flight for S seconds\n"
            "  --until-idle S       scripted batch: stop once no unit was plugged in or in flight\n"
            "                       for S seconds; exit status 4 when any unit failed for good\n"
            "  --on-result CMD      run CMD (sh -c) for every finished unit, its result in\n"
            "                       STATION_RESULT, STATION_MAC, ... and STATION_EVENT (JSON);\n"
            "                       never holds up the line; failures become 'hook' events\n"
            "  --on-result-timeout S  kill CMD after S seconds (default 30)\n"
            "  --summary-after N    dashboard: once N units finished, show the closing summary\n"
            "  --temporary-records  the summary says the records are removed after the run\n"
            "  --cache-dir DIR      keep compressed images between runs\n"
            "  --locked             operators cannot change the profile from the dashboard\n"
            "  --allow-profile-path the dashboard's profile picker also takes a profile file typed\n"
            "                       by hand (default: only the profiles of the profile folders)\n"
            "  --new-serial         provisioning: units flashed again get a new serial (the\n"
            "                       old one stays recorded as retired)\n"

            "  --central URL        ship the records to the factory's central store (PostgreSQL) in\n"
            "                       the background; default $STATION_CENTRAL, else %s\n"
            "                       when it exists. No password on the command line (~/.pgpass, the\n"
            "                       conf file or $STATION_CENTRAL). The line never waits for it\n"
            "  --no-central         do not ship, even when a central store is configured\n",
            ST_CENTRAL_CONF_DEFAULT);
    return out == stdout ? 0 : 2;
}

static bool parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < lo || v > hi) {
        fprintf(stderr, PROG ": bad %s '%s' (%g..%g)\n", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

/* ---- event printers ---- */

static void print_event(const st_event *e, bool json)
{
    if (!json) {
        /* device strings (a bridge's serial number) reach a terminal: no escapes */
        char slot[sizeof e->slot], text[sizeof e->text];
        snprintf(slot, sizeof slot, "%s", *e->slot ? e->slot : "-");
        snprintf(text, sizeof text, "%s", e->text);
        printf("%9.3f %-12s %-11s %s\n", e->t, st_text_clean(slot), st_ev_kind_name(e->kind),
               st_text_clean(text));
        return;
    }
    json_t *o = st_cli_event_json(e);
    st_cli_put_json(o);
}

/* Print every event after *seq; returns how many. */
static int print_new(st_engine *e, uint64_t *seq, bool json)
{
    static st_event buf[64]; /* the printing thread's only; too big for a stack */
    uint64_t lost;
    int total = 0, n;
    while ((n = st_engine_events_since(e, *seq, buf, 64, &lost)) > 0) {
        if (lost && !json)
            printf("          (%llu events not shown: the printer fell behind)\n", (unsigned long long)lost);
        for (int i = 0; i < n; i++)
            print_event(&buf[i], json);
        *seq = buf[n - 1].seq;
        total += n;
    }
    if (total)
        fflush(stdout);
    return total;
}

/* Print events until the engine is done. */
static void headless(run_ctx *r, uint64_t *seq)
{
    for (;;) {
        bool done = st_engine_done(r->e);
        if (print_new(r->e, seq, r->json) == 0) {
            if (done)
                break;
            st_engine_wait_event(r->e, *seq, 200);
        }
    }
}

/* ---- signals and exit conditions ---- */

static void *monitor(void *arg)
{
    run_ctx *r = arg;
    int signals = 0;
    struct timespec tick = {0, 200 * 1000000L};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double idle_since = t0.tv_sec + t0.tv_nsec / 1e9, seen_last = idle_since;
    st_line_view *v = malloc(sizeof *v);
    while (!atomic_load(&r->monitor_stop)) {
        int sig = sigtimedwait(&r->sigs, NULL, &tick);
        if (sig > 0) {
            signals++;
            st_engine_stop(r->e, signals >= 2);
            continue;
        }
        if (st_engine_done(r->e)) {
            atomic_store(&r->quit, 1);
            break;
        }
        if (!v)
            continue;
        st_engine_snapshot(r->e, v);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = ts.tv_sec + ts.tv_nsec / 1e9;
        if (r->exit_after > 0 && v->passed + v->failed >= (uint64_t)r->exit_after)
            st_engine_stop(r->e, false);
        if (v->in_flight > 0)
            idle_since = now;
        else if (r->exit_idle_s > 0 && now - idle_since >= r->exit_idle_s)
            st_engine_stop(r->e, false);
        /* --until-idle: a unit is "seen" while in flight and when it is plugged in. */
        for (int i = 0; i < v->nslots; i++)
            if (v->slots[i].state != ST_SLOT_EMPTY && now - v->slots[i].elapsed_s > seen_last)
                seen_last = now - v->slots[i].elapsed_s;
        for (int i = 0; i < v->nslots; i++)
            if (v->slots[i].state == ST_SLOT_PAUSED) /* waiting for the operator: not idle */
                seen_last = now;
        if (v->in_flight > 0)
            seen_last = now;
        if (r->until_idle_s > 0 && now - seen_last >= r->until_idle_s)
            st_engine_stop(r->e, false);
    }
    free(v);
    return NULL;
}

/* ---- dashboard callbacks ---- */

static void ui_snapshot(void *user, st_line_view *out)
{
    st_engine_snapshot(((run_ctx *)user)->e, out);
}

static void ui_set_paused(void *user, bool paused)
{
    run_ctx *r = user;
    if (paused)
        st_engine_pause(r->e);
    else
        st_engine_resume(r->e);
}

static int ui_set_profile(void *user, const char *name, st_err *err)
{
    return st_engine_set_profile(((run_ctx *)user)->e, name, err);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The profiles of the search path, by name, each once (the first folder holding a name
 * is the one st_profile_find takes). */
static int ui_list_profiles(void *user, char *buf, size_t cap)
{
    run_ctx *r = user;
    enum { MAX_NAMES = 256 };
    char *names[MAX_NAMES];
    int count = 0;
    buf[0] = '\0';
    char dirs[sizeof r->profile_dirs];
    snprintf(dirs, sizeof dirs, "%s", r->profile_dirs);
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        DIR *dh = opendir(d);
        if (!dh)
            continue;
        struct dirent *de;
        while ((de = readdir(dh)) && count < MAX_NAMES) {
            size_t len = strlen(de->d_name);
            if (len <= 4 || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".ini") != 0)
                continue;
            if (!(names[count] = strndup(de->d_name, len - 4)))
                break;
            count++;
        }
        closedir(dh);
    }
    qsort(names, (size_t)count, sizeof *names, cmp_name);
    size_t used = 0;
    int listed = 0;
    for (int i = 0; i < count; i++) {
        if (i > 0 && !strcmp(names[i], names[i - 1]))
            continue;
        int n = snprintf(buf + used, cap - used, "%s\n", names[i]);
        if (n > 0 && (size_t)n < cap - used) {
            used += (size_t)n;
            listed++;
        } else {
            buf[used] = '\0';
        }
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    return listed;
}

typedef struct {
    char **lines;
    int n, cap;
} line_list;

static int collect_history(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    line_list *l = user;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        char **nl = realloc(l->lines, nc * sizeof *nl);
        if (!nl)
            return 1;
        l->lines = nl;
        l->cap = nc;
    }
    char line[1024];
    st_cli_history_line(a, b, line, sizeof line);
    l->lines[l->n] = strdup(line);
    if (!l->lines[l->n])
        return 1;
    l->n++;
    return 0;
}

static int ui_history(void *user, const char *mac, char *buf, size_t cap, st_err *err)
{
    run_ctx *r = user;
    st_db_opts o = {.read_only = true};
    if (!r->reader && st_db_open(r->db_path, &o, &r->reader, err) < 0)
        return -1;
    line_list l = {0};
    int rc = st_db_audit(r->reader, mac, collect_history, &l, err);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = l.n - 1; i >= 0; i--) { /* the store gives newest first; the view wants oldest */
        if (rc == 0 && used < cap) {
            int n = snprintf(buf + used, cap - used, "%s\n", l.lines[i]);
            used += n > 0 ? (size_t)n : 0;
        }
        free(l.lines[i]);
    }
    free(l.lines);
    return rc < 0 ? -1 : l.n;
}

/* ---- the command ---- */

static void summary(run_ctx *r, int fails, int hook_fails, int status, int64_t central_left)
{
    st_line_view *v = malloc(sizeof *v);
    if (!v)
        return;
    st_engine_snapshot(r->e, v);
    if (r->json) {
        json_t *o = st_cli_summary_json(v, fails, hook_fails, status);
        if (o && central_left >= 0) /* a central store is configured: what it still lacks */
            json_object_set_new(o, "central_waiting", json_integer((json_int_t)central_left));
        st_cli_put_json(o);
    } else {
        printf("line stopped after %.1f s: %llu passed, %llu failed, %llu in the retry bin",
               v->uptime_s, (unsigned long long)v->passed, (unsigned long long)v->failed,
               (unsigned long long)v->in_bin);
        if (v->passed + v->failed)
            printf(", yield %.1f %%", v->yield * 100);
        printf("\nrecords: %s\n", r->records);
        if (hook_fails)
            printf("WARNING: %d on-result command(s) failed (see the hook events)\n", hook_fails);
        if (fails)
            printf("WARNING: %d record operations could not be written\n", fails);
        if (v->records_broken)
            printf("RECORDS FAILING: %s\n", v->records_error);
    }
    fflush(stdout);
    free(v);
}

/* True when some unit of the run failed for good. */
static bool any_failed(run_ctx *r)
{
    st_line_view *v = malloc(sizeof *v);
    if (!v)
        return true; /* cannot tell: a batch script must not take it for a clean run */
    st_engine_snapshot(r->e, v);
    bool f = v->failed > 0;
    free(v);
    return f;
}

int st_cli_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"profile", required_argument, 0, 'P'},     {"profiles-dir", required_argument, 0, 'd'},
        {"sim-dir", required_argument, 0, 's'},     {"usb", no_argument, 0, 'U'},
        {"usb-filter", required_argument, 0, 'f'},  {"headless", no_argument, 0, 'H'},
        {"json", no_argument, 0, 'j'},              {"db", required_argument, 0, 'D'},
        {"operator", required_argument, 0, 'o'},    {"max-tries", required_argument, 0, 't'},
        {"min-baud", required_argument, 0, 'b'},    {"no-rom-only", no_argument, 0, 'R'},
        {"sync-attempts", required_argument, 0, 'y'}, {"attempt-timeout", required_argument, 0, 'w'},
        {"grace", required_argument, 0, 'g'},       {"exit-after", required_argument, 0, 'n'},
        {"exit-when-idle", required_argument, 0, 'i'}, {"cache-dir", required_argument, 0, 'c'},
        {"locked", no_argument, 0, 'L'},            {"help", no_argument, 0, 'h'},
        {"until-idle", required_argument, 0, 'I'},
        {"central", required_argument, 0, 'C'},     {"no-central", no_argument, 0, 'N'},
        {"on-result", required_argument, 0, 'X'},
        {"summary-after", required_argument, 0, 'S'},
        {"temporary-records", no_argument, 0, 'E'},
        {"on-result-timeout", required_argument, 0, 'T'},
        {"new-serial", no_argument, 0, 'W'},
        {"allow-profile-path", no_argument, 0, 'A'},
        {"layout", required_argument, 0, 'Y'},      {"no-layout", no_argument, 0, 'Z'},
        {0, 0, 0, 0},
    };
    st_engine_cfg cfg;
    st_engine_cfg_default(&cfg);
    run_ctx r = {0};
    const char *profile = NULL, *dirs = NULL, *op = NULL, *central = NULL;
    bool no_central = false, no_layout = false;
    const char *layout = NULL;
    bool headless_mode = false, usb = false;
    double v;
    st_err err;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'P': profile = optarg; break;
        case 'd': dirs = optarg; break;
        case 's': snprintf(cfg.sim_dir, sizeof cfg.sim_dir, "%s", optarg); break;
        case 'U': usb = true; break;
        case 'f':
            if (st_usb_filter_parse(optarg, &cfg.filter, &err) < 0) {
                st_cli_print_err(PROG, &err);
                return 2;
            }
            break;
        case 'H': headless_mode = true; break;
        case 'j': r.json = headless_mode = true; break;
        case 'D': r.db_path = optarg; break;
        case 'o': op = optarg; break;
        case 't': if (!parse_num("--max-tries", optarg, 1, 100, &v)) return 2; cfg.limits.max_tries = (int)v; break;
        case 'b': if (!parse_num("--min-baud", optarg, 300, 5000000, &v)) return 2; cfg.limits.min_baud = (int)v; break;
        case 'R': cfg.limits.allow_rom_only = false; break;
        case 'y': if (!parse_num("--sync-attempts", optarg, 1, 100, &v)) return 2; cfg.sync_attempts = (int)v; break;
        case 'w': if (!parse_num("--attempt-timeout", optarg, 1, 86400, &v)) return 2; cfg.attempt_timeout_s = v; break;
        case 'g': if (!parse_num("--grace", optarg, 0, 86400, &v)) return 2; cfg.grace_s = v; break;
        case 'n': if (!parse_num("--exit-after", optarg, 1, 1e9, &v)) return 2; r.exit_after = (int)v; break;
        case 'i': if (!parse_num("--exit-when-idle", optarg, 0.1, 1e7, &v)) return 2; r.exit_idle_s = v; break;
        case 'X': r.on_result = optarg; break;
        case 'S': if (!parse_num("--summary-after", optarg, 1, 1e9, &v)) return 2; r.summary_after = (int)v; break;
        case 'E': r.temporary_records = true; break;
        case 'T': if (!parse_num("--on-result-timeout", optarg, 0.1, 86400, &v)) return 2; r.on_result_timeout_s = v; break;
        case 'I': if (!parse_num("--until-idle", optarg, 0.1, 1e7, &v)) return 2; r.until_idle_s = v; break;
        case 'c': snprintf(cfg.cache_dir, sizeof cfg.cache_dir, "%s", optarg); break;
        case 'L': cfg.locked = true; break;
        case 'A': cfg.allow_profile_path = true; break;
        case 'C': central = optarg; break;
        case 'N': no_central = true; break;
        case 'W': cfg.new_serial = true; break;
        case 'Y': layout = optarg; break;
        case 'Z': no_layout = true; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (!profile || optind != argc)
        return usage(stderr);
    if ((r.exit_after > 0) + (r.exit_idle_s > 0) + (r.until_idle_s > 0) > 1) {
        fprintf(stderr, PROG ": --exit-after, --exit-when-idle and --until-idle exclude each other\n");
        return 2;
    }
    static st_shipper_cfg ship_cfg; /* large: not on the stack */
    st_central_src central_src = ST_CENTRAL_NONE;
    if (!no_central &&
        st_central_conninfo(central, ship_cfg.conninfo, sizeof ship_cfg.conninfo, &central_src, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    char dirs_buf[2048];
    dirs = st_cli_profile_dirs(dirs, dirs_buf, sizeof dirs_buf);
    snprintf(r.profile_dirs, sizeof r.profile_dirs, "%s", dirs);
    snprintf(cfg.profile_search, sizeof cfg.profile_search, "%s", dirs);
    st_who_operator(op, cfg.operator_name, sizeof cfg.operator_name);
    cfg.scan_usb = usb || !*cfg.sim_dir;
    if (st_profile_resolve(profile, dirs, cfg.profile_path, sizeof cfg.profile_path, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    if (layout && no_layout) {
        fprintf(stderr, PROG ": --layout and --no-layout exclude each other\n");
        return 2;
    }
    if (layout && snprintf(cfg.layout_path, sizeof cfg.layout_path, "%s", layout) >= (int)sizeof cfg.layout_path) {
        fprintf(stderr, PROG ": --layout path too long\n");
        return 2;
    }
    if (!layout && !no_layout)
        st_layout_default_path(cfg.layout_path, sizeof cfg.layout_path);

    /* A reader of --json that goes away must not kill the line mid-flash (nor must a
     * closed socket in the port layer): writes then fail with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    /* Every thread inherits this mask: the signals reach only the monitor's sigtimedwait. */
    sigemptyset(&r.sigs);
    sigaddset(&r.sigs, SIGINT);
    sigaddset(&r.sigs, SIGTERM);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &r.sigs, &old);

    int status = 0;
    st_db *db = NULL;
    st_recorder *rec = NULL;
    st_shipper *ship = NULL;
    st_hook *hook = NULL;
    pthread_t mon;
    bool mon_started = false;
    uint64_t seq = 0;
    if (st_engine_new(&cfg, &r.e, &err) < 0) {
        st_cli_print_err(PROG, &err);
        status = 2;
        goto out;
    }
    if (st_db_open(r.db_path, NULL, &db, &err) < 0) {
        st_cli_print_err(PROG, &err);
        fprintf(stderr, PROG ": refusing to flash: attempts could not be recorded\n");
        status = 3;
        goto out;
    }
    if (st_recorder_room_ok(db, &err) < 0) {
        st_cli_print_err(PROG, &err);
        fprintf(stderr, PROG ": refusing to flash: attempts could not be recorded\n");
        status = 3;
        goto out;
    }
    snprintf(r.records, sizeof r.records, "%s", st_db_path(db));
    if (!r.json)
        printf("records: %s\n", st_db_path(db));
    snprintf(ship_cfg.db_path, sizeof ship_cfg.db_path, "%s", st_db_path(db));
    ship_cfg.watch_bin = true; /* the dashboard's bin: units repaired on another station leave it */
    if (st_recorder_start(st_engine_events(r.e), db, &rec, &err) < 0) {
        st_cli_print_err(PROG, &err);
        status = 3;
        goto out;
    }
    if (central_src != ST_CENTRAL_NONE) {
        char where[200];
        st_central_describe(ship_cfg.conninfo, where, sizeof where);
        if (!r.json)
            printf("central store: %s (shipping in the background)\n", where);
        if (st_shipper_start(st_engine_events(r.e), &ship_cfg, &ship, &err) < 0) {
            st_cli_print_err(PROG, &err); /* the line runs without it: records stay local */
            ship = NULL;
        }
    }
    if (pthread_create(&mon, NULL, monitor, &r) != 0) {
        fprintf(stderr, PROG ": cannot start the signal monitor\n");
        status = 2;
        goto out;
    }
    mon_started = true;
    if (r.on_result && *r.on_result &&
        st_hook_start(r.e, r.on_result, r.on_result_timeout_s > 0 ? r.on_result_timeout_s : 30, 0,
                      &hook, &err) < 0) {
        st_cli_print_err(PROG, &err);
        status = 2;
        goto out;
    }
    if (st_engine_start(r.e, &err) < 0) {
        st_cli_print_err(PROG, &err);
        status = 2;
        goto out;
    }

    if (!headless_mode) {
        char finish_title[64];
        snprintf(finish_title, sizeof finish_title, "Finished: all %d units", r.summary_after);
        st_tui_config tc = {
            .ops = {.user = &r, .snapshot = ui_snapshot, .set_paused = ui_set_paused,
                    .set_profile = ui_set_profile, .list_profiles = ui_list_profiles,
                    .history = ui_history},
            .locked = cfg.locked,
            .allow_profile_path = cfg.allow_profile_path,
            .quit = &r.quit,
            .finish_after = r.summary_after,
            .finish_title = finish_title,
            .records = r.records,
            .records_temporary = r.temporary_records,
        };
        if (st_tui_run(&tc, &err) < 0) {
            st_cli_print_err(PROG, &err);
            fprintf(stderr, PROG ": no dashboard; continuing headless\n");
        } else {
            /* The operator left the dashboard: stop, and show what is still finishing. */
            st_engine_stop(r.e, false);
            st_line_view *vv = malloc(sizeof *vv);
            if (vv) {
                st_engine_snapshot(r.e, vv);
                seq = vv->nevents ? vv->events[vv->nevents - 1].seq : 0;
                if (vv->in_flight)
                    fprintf(stderr, "stopping: %llu unit(s) in flight finish (Ctrl-C aborts them)\n",
                            (unsigned long long)vv->in_flight);
                free(vv);
            }
        }
    }
    headless(&r, &seq);

out:
    if (r.e) {
        st_engine_stop(r.e, status != 0);
        st_engine_wait(r.e, -1);
    }
    if (mon_started) {
        atomic_store(&r.monitor_stop, 1);
        pthread_join(mon, NULL);
    }
    /* The commands still due for the last units run now, each within its timeout; their
     * failures go to the recorder, so it stops after them. */
    int hook_failures = st_hook_stop(hook);
    int record_failures = 0;
    if (rec)
        record_failures = st_recorder_stop(rec); /* writes what is queued (may post bin events) */
    else
        st_db_close(db);
    /* The last records go up with a short drain; what is left ships next time. */
    bool shipped = ship != NULL;
    int64_t central_left = st_shipper_stop(ship, 5.0);
    ship = NULL;
    if (shipped && central_left > 0 && !r.json)
        printf("central: %lld records not shipped yet: they go with the next run or `station central sync`\n",
               (long long)central_left);
    st_db_close(r.reader);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (status == 0) {
        print_new(r.e, &seq, r.json);
        if (record_failures)
            status = 1;
        else if (r.until_idle_s > 0 && any_failed(&r))
            status = 4;
        summary(&r, record_failures, hook_failures, status, shipped ? central_left : -1);
    }
    st_engine_free(r.e);
    return status;
}

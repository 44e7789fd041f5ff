/* cli_demo.c - `station demo`: the production line on simulated units. Starts the
 * simulator (esp32sim) with the demo scenario - units arrive in slots over time, are
 * flashed, unplugged, and a few fail - and runs `station run` on it with the demo profile
 * and a temporary record store. The simulator is stopped on every way out.
 *
 * Where things are found: an option or environment variable, when given, is the only
 * place looked at; otherwise the first hit of the list wins (".." is relative to the folder
 * of the station binary).
 *   simulator  --sim, $STATION_SIM | next to the station binary, ../libexec/station/,
 *              the build tree's (key `sim` of cli_paths.h's build-tree file)
 *   scenario   --scenario, $STATION_DEMO_SCENARIO | ../share/station/scenarios/demo.txt,
 *              the source tree's (key `scenario`)
 *   profile    $STATION_DEMO_PROFILE_DIR | the build tree's generated profile folder
 *              (key `demo_profiles`, only beside a build-tree binary),
 *              ../share/station/profiles; the folder holding demo.ini
 * The installed binary carries no build-tree path (tests/packaging checks it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_paths.h"
#include "discovery.h"

#define PROG "station demo"

int st_cli_run(int argc, char **argv); /* cli_run.c */

typedef struct demo_opts {
    bool headless, json, locked, keep, fast;
    const char *db, *scenario, *sim, *exit_idle, *exit_after, *on_result, *layout;
} demo_opts;

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station demo [--headless] [--json] [--db PATH] [--locked]\n"
            "                    [--exit-when-idle SECS | --exit-after N]\n"
            "                    [--scenario FILE] [--sim PATH] [--fast] [--keep]\n"
            "                    [--on-result CMD] [--layout FILE]\n"
            "  A production line on simulated ESP32 units: they arrive over time, are flashed,\n"
            "  unplugged, and a few fail. Everything `station run` shows, without hardware.\n"
            "  --headless           one line per event instead of the dashboard\n"
            "  --json               one JSON object per event (implies --headless)\n"
            "  --db PATH            keep the records in PATH (default: a temporary database)\n"
            "  --locked             the dashboard refuses profile changes\n"
            "  --exit-when-idle S   stop once nothing has been in flight for S seconds\n"
            "  --exit-after N       stop after N units finished\n"
            "  --scenario FILE      another simulator scenario (tests/sim/README.md)\n"
            "  --sim PATH           the esp32sim program (default: $STATION_SIM, or found)\n"
            "  --fast               no serial-speed and flash-timing realism (quicker)\n"
            "  --keep               keep the temporary folder (simulator log, database)\n"
            "  --on-result CMD      run CMD for every finished unit (station run --help)\n"
            "  --layout FILE        line layout file: labels and grid positions of the slots\n"
            "                       (slot1..slot8 are the demo's places; station run --help)\n");
    return out == stdout ? 0 : 2;
}

static bool is_file(const char *p, bool exec)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && (!exec || access(p, X_OK) == 0);
}

/* First candidate that exists into out; false (and the list printed) when none does. */
static bool find(const char *what, const char *const *cands, int n, bool exec, char *out,
                 size_t cap)
{
    for (int i = 0; i < n; i++) {
        if (is_file(cands[i], exec)) {
            snprintf(out, cap, "%s", cands[i]);
            return true;
        }
    }
    fprintf(stderr, PROG ": cannot find the %s; looked at:\n", what);
    for (int i = 0; i < n; i++)
        if (cands[i] && *cands[i])
            fprintf(stderr, "  %s\n", cands[i]);
    return false;
}

/* An explicit choice (option, else environment variable) is the only candidate: a wrong
 * path is reported rather than silently replaced by another program or file. */
static const char *explicit_choice(const char *opt, const char *env)
{
    const char *e = getenv(env);
    return opt ? opt : (e && *e ? e : NULL);
}

static bool locate_sim(const demo_opts *o, const char *dir, char *out, size_t cap)
{
    const char *x = explicit_choice(o->sim, "STATION_SIM");
    if (x)
        return find("simulator (--sim / $STATION_SIM)", &x, 1, true, out, cap);
    char a[2][PATH_MAX + 32];
    snprintf(a[0], sizeof a[0], "%s/esp32sim", dir);
    snprintf(a[1], sizeof a[1], "%s/../libexec/station/esp32sim", dir);
    char built[PATH_MAX];
    st_cli_build_path("sim", built, sizeof built);
    const char *c[] = {a[0], a[1], built};
    return find("simulator (esp32sim); set STATION_SIM or use --sim", c, 3, true, out, cap);
}

static bool locate_scenario(const demo_opts *o, const char *dir, char *out, size_t cap)
{
    const char *x = explicit_choice(o->scenario, "STATION_DEMO_SCENARIO");
    if (x)
        return find("scenario (--scenario / $STATION_DEMO_SCENARIO)", &x, 1, false, out, cap);
    char a[PATH_MAX + 64];
    snprintf(a, sizeof a, "%s/../share/station/scenarios/demo.txt", dir);
    char src[PATH_MAX];
    st_cli_build_path("scenario", src, sizeof src);
    const char *c[] = {a, src};
    return find("demo scenario; set STATION_DEMO_SCENARIO or use --scenario", c, 2, false, out,
                cap);
}

static bool locate_profile(const char *dir, char *out, size_t cap)
{
    char a[2][PATH_MAX + 64];
    const char *x = explicit_choice(NULL, "STATION_DEMO_PROFILE_DIR");
    if (x) {
        snprintf(a[0], sizeof a[0], "%s/demo.ini", x);
        const char *c = a[0];
        return find("demo profile ($STATION_DEMO_PROFILE_DIR/demo.ini)", &c, 1, false, out, cap);
    }
    char built[PATH_MAX];
    a[0][0] = '\0';
    if (st_cli_build_path("demo_profiles", built, sizeof built))
        snprintf(a[0], sizeof a[0], "%s/demo.ini", built);
    snprintf(a[1], sizeof a[1], "%s/../share/station/profiles/demo.ini", dir);
    const char *c[] = {a[0], a[1]};
    return find("demo profile (demo.ini); set STATION_DEMO_PROFILE_DIR", c, 2, false, out, cap);
}

/* Start the simulator in its own process group (the terminal's Ctrl-C is the line's to
 * handle, not the simulator's), dying with us if we die. Output goes to log. */
static pid_t spawn_sim(const char *sim, const char *dir, const char *scen, bool realism,
                       const char *log)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || nul < 0)
        _exit(127);
    dup2(nul, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    char *argv[] = {(char *)sim,  "--dir",    (char *)dir, "--scenario", (char *)scen,
                    "--quiet",   realism ? "--realism" : NULL, NULL};
    execv(sim, argv);
    fprintf(stderr, "cannot run %s: %s\n", sim, strerror(errno));
    _exit(127);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for DIR/ready; false when the simulator exits first or it takes too long. */
static bool wait_ready(pid_t pid, const char *dir, int *status)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/ready", dir);
    for (int i = 0; i < 200; i++) {
        if (access(p, F_OK) == 0)
            return true;
        if (waitpid(pid, status, WNOHANG) == pid)
            return false;
        sleep_ms(50);
    }
    *status = -1;
    return false;
}

/* SIGTERM, then SIGKILL if it has not gone after 3 s; reaps it. */
static void stop_sim(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 60; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void print_log_tail(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[512];
    fprintf(stderr, "simulator output (%s):\n", log);
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  %s", line);
    fclose(f);
}

/* Remove a folder the demo made: its files and one level of subfolders (the simulator's
 * folder, whose symlinks and sidecars it may leave behind). */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char p[PATH_MAX];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            struct stat st;
            if (depth > 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p, depth - 1);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Units in a scenario file: one `unit` line each. */
static int count_units(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "unit", 4) == 0 && (p[4] == ' ' || p[4] == '\t'))
            n++;
    }
    fclose(f);
    return n;
}

static int parse(int argc, char **argv, demo_opts *o)
{
    static const struct option longopts[] = {
        {"headless", no_argument, 0, 'H'},   {"json", no_argument, 0, 'j'},
        {"db", required_argument, 0, 'D'},   {"locked", no_argument, 0, 'L'},
        {"exit-when-idle", required_argument, 0, 'i'},
        {"exit-after", required_argument, 0, 'n'},
        {"scenario", required_argument, 0, 'S'},
        {"sim", required_argument, 0, 's'},  {"fast", no_argument, 0, 'F'},
        {"keep", no_argument, 0, 'K'},       {"help", no_argument, 0, 'h'},
        {"on-result", required_argument, 0, 'X'},
        {"layout", required_argument, 0, 'Y'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': o->headless = true; break;
        case 'j': o->json = o->headless = true; break;
        case 'D': o->db = optarg; break;
        case 'L': o->locked = true; break;
        case 'i': o->exit_idle = optarg; break;
        case 'n': o->exit_after = optarg; break;
        case 'S': o->scenario = optarg; break;
        case 's': o->sim = optarg; break;
        case 'F': o->fast = true; break;
        case 'K': o->keep = true; break;
        case 'X': o->on_result = optarg; break;
        case 'Y': o->layout = optarg; break;
        case 'h': return usage(stdout) == 0 ? 1 : 2;
        default: return usage(stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    return 0;
}

int st_cli_demo(int argc, char **argv)
{
    demo_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char dir[PATH_MAX], sim[PATH_MAX], scen[PATH_MAX], prof[PATH_MAX];
    st_cli_exe_dir(dir, sizeof dir);
    if (!locate_sim(&o, dir, sim, sizeof sim) || !locate_scenario(&o, dir, scen, sizeof scen) ||
        !locate_profile(dir, prof, sizeof prof))
        return 2;

    const char *tmp = getenv("TMPDIR");
    char work[PATH_MAX], simdir[PATH_MAX + 8], log[PATH_MAX + 16], db[PATH_MAX + 16];
    snprintf(work, sizeof work, "%s/station-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work)) {
        fprintf(stderr, PROG ": cannot create a folder in %s: %s\n", tmp ? tmp : "/tmp",
                strerror(errno));
        return 2;
    }
    snprintf(simdir, sizeof simdir, "%s/sim", work);
    snprintf(log, sizeof log, "%s/sim.log", work);
    snprintf(db, sizeof db, "%s/demo.db", work);
    if (mkdir(simdir, 0755) != 0) {
        fprintf(stderr, PROG ": cannot create %s: %s\n", simdir, strerror(errno));
        rmdir(work);
        return 2;
    }

    int status = 2, wst = 0;
    pid_t pid = spawn_sim(sim, simdir, scen, !o.fast, log);
    if (pid < 0) {
        fprintf(stderr, PROG ": cannot start the simulator: %s\n", strerror(errno));
        goto out;
    }
    if (!wait_ready(pid, simdir, &wst)) {
        if (wst == -1)
            fprintf(stderr, PROG ": the simulator did not get ready within 10 s\n");
        else
            fprintf(stderr, PROG ": the simulator exited (status %d) before it was ready\n",
                    WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst));
        print_log_tail(log);
        if (wst != -1)
            pid = 0; /* reaped */
        goto out;
    }
    if (!o.json)
        printf("demo line: simulator %s\n  scenario %s\n  profile %s\n", sim, scen, prof);

    /* Not on a terminal (a pipe, CI): no dashboard. Without the dashboard nobody presses
     * q: stop once the scenario is done instead of waiting for units that never come. */
    char units[16];
    bool implied = !o.headless && !isatty(STDOUT_FILENO);
    if (implied)
        o.headless = true;
    int nu = count_units(scen);
    if (o.headless && !o.exit_idle && !o.exit_after && nu > 0) {
        snprintf(units, sizeof units, "%d", nu);
        o.exit_after = units;
    }
    if (implied)
        fprintf(stderr, PROG ": output is not a terminal: running headless\n");
    if (o.exit_after == units && !o.json)
        fprintf(stderr, PROG ": stopping when all %d units of the scenario have finished\n", nu);
    char *args[32];
    int n = 0;
    args[n++] = "run";
    args[n++] = "--profile";
    args[n++] = prof;
    args[n++] = "--sim-dir";
    args[n++] = simdir;
    args[n++] = "--db";
    args[n++] = (char *)(o.db ? o.db : db);
    args[n++] = "--operator";
    args[n++] = "demo";
    if (o.json)
        args[n++] = "--json";
    else if (o.headless)
        args[n++] = "--headless";
    if (o.locked)
        args[n++] = "--locked";
    if (o.exit_idle) {
        args[n++] = "--exit-when-idle";
        args[n++] = (char *)o.exit_idle;
    }
    if (o.exit_after) {
        args[n++] = "--exit-after";
        args[n++] = (char *)o.exit_after;
    }
    char finish[16];
    if (!o.headless && nu > 0) { /* the dashboard says when the scenario is done */
        snprintf(finish, sizeof finish, "%d", nu);
        args[n++] = "--summary-after";
        args[n++] = finish;
    }
    if (!o.db)
        args[n++] = "--temporary-records";
    /* The demo's slots are the simulator's: a site's default layout file does not apply. */
    args[n++] = o.layout ? "--layout" : "--no-layout";
    if (o.layout)
        args[n++] = (char *)o.layout;
    if (o.on_result) {
        args[n++] = "--on-result";
        args[n++] = (char *)o.on_result;
    }
    args[n] = NULL;
    fflush(stdout);
    status = st_cli_run(n, args);

out:
    stop_sim(pid);
    if (o.keep) {
        fprintf(stderr, "demo folder kept: %s\n", work);
    } else {
        remove_tree(work, 1);
        if (!o.db && !o.json)
            printf("the demo's records were in a temporary database (removed); keep them with "
                   "--db PATH\n");
    }
    return status;
}

int st_cli_bare(void)
{
    /* Without a terminal a bare `station` is a script's mistake: show the usage. */
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -1;
    st_discovery_cfg dc = {.scan_usb = true};
    st_usb_filter_default(&dc.filter);
    st_found_port found[8];
    int n = st_discovery_scan(&dc, found, 8);
    if (n > 0) {
        fprintf(stderr, "station: %d ESP USB bridge(s) attached (%s %s); start the line with\n"
                        "  station run --profile NAME\n\n",
                n, found[0].bridge[0] ? found[0].bridge : "bridge", found[0].slot);
        return -1;
    }
    printf("station: no ESP USB bridge attached: starting the demo line "
           "(`station --help` lists the commands)\n");
    fflush(stdout);
    char *argv[] = {"demo", NULL};
    return st_cli_demo(1, argv);
}

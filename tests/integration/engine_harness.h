/* engine_harness.h - for the engine's integration tests: run `station run --json` as a
 * child process next to the simulator (sim_harness.h), read its JSON event lines, read
 * the record store back through db/ (read-only handles), and fail on any sanitizer
 * report in the station's stderr. Header-only: one test program = one translation unit. */
#ifndef TEST_ENGINE_HARNESS_H
#define TEST_ENGINE_HARNESS_H

#include "sim_harness.h" /* first: _GNU_SOURCE */

#include <jansson.h>
#include <math.h>

#include "check.h"
#include "db.h"

/* ---- the test's own folder ---- */

/* A fresh folder /tmp/st-TAG-XXXXXX into run (cap bytes) for the test's record store and
 * outputs; a test that cannot have one stops here (exit 2, the reason on stderr). */
static inline void harness_run_dir(char *run, size_t cap, const char *tag)
{
    snprintf(run, cap, "/tmp/st-%s-XXXXXX", tag);
    if (!mkdtemp(run)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Remove dir and everything below it. */
static inline void harness_rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the station process ---- */

typedef struct station_proc {
    pid_t pid;
    int status;               /* wait status once exited */
    bool exited;
    char out[320], err[320];  /* stdout (JSON lines) and stderr files */
} station_proc;

/* Start `exe run ARGS...` (NULL-terminated) with stdout/stderr into files in dir
 * (tag names them). Sanitizer options make any report visible and fatal to the exit. */
static inline bool station_start(station_proc *p, const char *exe, const char *dir,
                                 const char *tag, const char *const *args)
{
    memset(p, 0, sizeof *p);
    snprintf(p->out, sizeof p->out, "%s/%s.out", dir, tag);
    snprintf(p->err, sizeof p->err, "%s/%s.err", dir, tag);
    const char *argv[80];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "run";
    for (int i = 0; args[i] && n < 78; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0)
        return false;
    if (p->pid == 0) {
        int fo = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo >= 0)
            dup2(fo, 1);
        if (fe >= 0)
            dup2(fe, 2);
        unsetenv("STATION_DB");
        setenv("TSAN_OPTIONS", "halt_on_error=0 exitcode=66 second_deadlock_stack=1", 1);
        setenv("ASAN_OPTIONS", "detect_leaks=1 exitcode=66 abort_on_error=0", 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    return true;
}

/* Wait up to ms for the station to exit; true when it did. */
static inline bool station_wait(station_proc *p, int ms)
{
    for (int i = 0; !p->exited && i <= ms / 10; i++) {
        if (waitpid(p->pid, &p->status, WNOHANG) == p->pid)
            p->exited = true;
        else
            harness_sleep_ms(10);
    }
    return p->exited;
}

/* Exit status (0..255), or -signal when killed, or -1000 while running. */
static inline int station_exit_code(const station_proc *p)
{
    if (!p->exited)
        return -1000;
    if (WIFEXITED(p->status))
        return WEXITSTATUS(p->status);
    return WIFSIGNALED(p->status) ? -WTERMSIG(p->status) : -999;
}

static inline void station_signal(station_proc *p, int sig)
{
    if (!p->exited && p->pid > 0)
        kill(p->pid, sig);
}

/* Kill if still running (a test that gave up), reap. */
static inline void station_reap(station_proc *p)
{
    if (p->pid > 0 && !p->exited) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &p->status, 0);
        p->exited = true;
    }
}

static inline char *harness_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (buf)
        buf[got] = 0;
    return buf ? buf : strdup("");
}

/* Run `exe ARGS...` (a record command: no STATION_DB, no STATION_CENTRAL) to completion,
 * stdin from /dev/null (never the terminal of whoever runs the tests: a command that would
 * ask must see that nobody can answer), stdout into *out and stderr into *err (malloc'd;
 * err NULL: stderr goes to ours), files in dir. Returns the exit status, -1 when it did
 * not exit. */
static inline int harness_run_cmd(const char *exe, const char *const *args, const char *dir, char **out,
                                  char **err)
{
    char of[300], ef[300];
    snprintf(of, sizeof of, "%s/cmd.out", dir);
    snprintf(ef, sizeof ef, "%s/cmd.err", dir);
    const char *argv[40] = {exe};
    int n = 1;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fi = open("/dev/null", O_RDONLY);
        int fd = open(of, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fi, 0);
        dup2(fd, 1);
        if (err) {
            int fe = open(ef, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fe, 2);
        }
        unsetenv("STATION_DB");
        unsetenv("STATION_CENTRAL");
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    *out = harness_read_file(of);
    if (err)
        *err = harness_read_file(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int harness_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* s holds a control character other than a line break (what a terminal would obey). */
static inline bool harness_has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\r') || *p == 0x7f)
            return true;
    return false;
}

/* The station's stderr holds no sanitizer or UB report; prints it when it does. */
static inline bool station_clean(const station_proc *p)
{
    char *e = harness_read_file(p->err);
    bool clean = !strstr(e, "Sanitizer") && !strstr(e, "runtime error:");
    if (!clean)
        fprintf(stderr, "---- sanitizer report in %s ----\n%s\n---- end ----\n", p->err, e);
    free(e);
    return clean && station_exit_code(p) != 66;
}

/* Show the station's output (for a failing test). */
static inline void station_dump(const station_proc *p)
{
    char *o = harness_read_file(p->out), *e = harness_read_file(p->err);
    size_t n = strlen(o);
    fprintf(stderr, "---- station stdout (%s), last part ----\n%s\n", p->out, n > 20000 ? o + n - 20000 : o);
    fprintf(stderr, "---- station stderr ----\n%s\n---- end ----\n", e);
    free(o);
    free(e);
}

/* ---- the wall clock as a process under the clockshift library sees it ---- */

/* From now on, processes preloading tests/integration/clockshift.c with
 * ST_CLOCKSHIFT_FILE=file see the wall clock offset_s seconds off the true one. */
static inline bool clock_shift(const char *file, int64_t offset_s)
{
    int64_t ns = offset_s * 1000000000LL;
    int fd = open(file, O_WRONLY | O_CREAT, 0644);
    bool ok = fd >= 0 && pwrite(fd, &ns, sizeof ns, 0) == (ssize_t)sizeof ns;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* ---- events (the JSON lines of --json) ---- */

typedef struct ev_line {
    char event[24], slot[64], mac[18], cls[32], phase[24];
    char serial[64], app_version[64]; /* "" when absent or null */
    bool has_serial, has_app_version; /* the key is there (null or not) */
    int attempt;
    double t, ts, appeared;
    char text[300];
} ev_line;

typedef struct ev_list {
    ev_line *v;
    int n;
} ev_list;

static inline void ev_copy(char *dst, size_t cap, json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Parse every complete JSON line of the station's stdout so far. */
static inline ev_list events_read(const station_proc *p)
{
    ev_list l = {0};
    char *buf = harness_read_file(p->out);
    int cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        if (l.n == cap) {
            cap = cap ? cap * 2 : 256;
            l.v = realloc(l.v, (size_t)cap * sizeof *l.v);
        }
        ev_line *e = &l.v[l.n++];
        memset(e, 0, sizeof *e);
        ev_copy(e->event, sizeof e->event, o, "event");
        ev_copy(e->slot, sizeof e->slot, o, "slot");
        ev_copy(e->mac, sizeof e->mac, o, "mac");
        ev_copy(e->cls, sizeof e->cls, o, "class");
        ev_copy(e->phase, sizeof e->phase, o, "phase");
        ev_copy(e->text, sizeof e->text, o, "text");
        ev_copy(e->serial, sizeof e->serial, o, "serial");
        ev_copy(e->app_version, sizeof e->app_version, o, "app_version");
        e->has_serial = json_object_get(o, "serial") != NULL;
        e->has_app_version = json_object_get(o, "app_version") != NULL;
        e->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
        e->t = json_number_value(json_object_get(o, "t"));
        e->ts = json_number_value(json_object_get(o, "ts"));
        e->appeared = json_number_value(json_object_get(o, "appeared"));
        json_decref(o);
    }
    free(buf);
    return l;
}

static inline void events_free(ev_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Events of kind `event` (and slot, when non-NULL; and phase, when non-NULL). */
static inline int events_count(const ev_list *l, const char *event, const char *slot, const char *phase)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].event, event) && (!slot || !strcmp(l->v[i].slot, slot)) &&
            (!phase || !strcmp(l->v[i].phase, phase)))
            n++;
    return n;
}

/* Poll the station's output until at least `count` events match, or ms pass. */
static inline bool events_wait_for(const station_proc *p, const char *event, const char *phase,
                                   int count, int ms)
{
    for (int i = 0; i <= ms / 50; i++) {
        ev_list l = events_read(p);
        int n = events_count(&l, event, NULL, phase);
        events_free(&l);
        if (n >= count)
            return true;
        harness_sleep_ms(50);
    }
    return false;
}

/* ---- the record store ---- */

typedef struct rec_set {
    st_db_attempt *a;
    int na;
    st_db_bin_entry *b;
    int nb;
} rec_set;

static inline int rec_add_attempt(void *user, const st_db_attempt *a)
{
    rec_set *r = user;
    r->a = realloc(r->a, (size_t)(r->na + 1) * sizeof *r->a);
    r->a[r->na++] = *a;
    return 0;
}

static inline int rec_add_bin(void *user, const st_db_bin_entry *b)
{
    rec_set *r = user;
    r->b = realloc(r->b, (size_t)(r->nb + 1) * sizeof *r->b);
    r->b[r->nb++] = *b;
    return 0;
}

/* A read-only handle on the store, or NULL (error printed). */
static inline st_db *rec_open(const char *db_path)
{
    st_db_opts o = {.read_only = true};
    st_db *db;
    st_err err;
    if (st_db_open(db_path, &o, &db, &err) < 0) {
        fprintf(stderr, "cannot read %s: %s\n", db_path, err.msg);
        return NULL;
    }
    return db;
}

/* Every attempt (oldest first) and every bin entry (open and resolved). */
static inline bool rec_load(const char *db_path, rec_set *r)
{
    memset(r, 0, sizeof *r);
    st_db *db = rec_open(db_path);
    st_err err;
    if (!db)
        return false;
    bool ok = st_db_attempts_range(db, 0, 0, rec_add_attempt, r, &err) == 0 &&
              st_db_bin_list(db, true, rec_add_bin, r, &err) == 0;
    if (!ok)
        fprintf(stderr, "cannot list %s: %s\n", db_path, err.msg);
    st_db_close(db);
    return ok;
}

static inline void rec_free(rec_set *r)
{
    free(r->a);
    free(r->b);
    memset(r, 0, sizeof *r);
}

/* Attempts recorded in simulator slot k (slot name "slotK", the simulator's stable link
 * name, and port DIR/slotK), oldest first. */
static inline int rec_slot_attempts(const rec_set *r, const char *sim_dir, int k,
                                    const st_db_attempt **out, int cap)
{
    char name[32], port[320];
    snprintf(name, sizeof name, "slot%d", k);
    snprintf(port, sizeof port, "%s/%s", sim_dir, name);
    int n = 0;
    for (int i = 0; i < r->na && n < cap; i++)
        if (!strcmp(r->a[i].slot_name, name) && !strcmp(r->a[i].port, port))
            out[n++] = &r->a[i];
    return n;
}

static inline const st_db_bin_entry *rec_bin_for_mac(const rec_set *r, const char *mac)
{
    for (int i = 0; i < r->nb; i++)
        if (!strcmp(r->b[i].mac, mac))
            return &r->b[i];
    return NULL;
}

static inline int rec_count_outcome(const rec_set *r, st_db_outcome o)
{
    int n = 0;
    for (int i = 0; i < r->na; i++)
        n += r->a[i].outcome == o;
    return n;
}

/* PRAGMA integrity_check and foreign_key_check through db/. */
static inline bool rec_integrity_ok(const char *db_path)
{
    st_db *db = rec_open(db_path);
    st_err err;
    if (!db)
        return false;
    bool ok = st_db_check_integrity(db, &err) == 0;
    if (!ok)
        fprintf(stderr, "integrity: %s\n", err.msg);
    st_db_close(db);
    return ok;
}

#endif

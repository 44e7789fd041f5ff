/* cli_hook.c - the per-result command runner (cli_hook.h). One thread: it copies the
 * finished-unit events out of the line's event ring into its own queue (so a slow command
 * never makes it miss events) and runs the queued commands one after another, each in its
 * own process group so a timeout kills everything it started. */
#define _GNU_SOURCE /* pipe2 */
#include "cli_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_event_json.h"
#include "clock.h"

extern char **environ;

#define MAX_QUEUED 512 /* finished units waiting for their command; more are reported */

struct st_hook {
    st_engine *e;
    char cmd[256];
    double timeout_s;
    uint64_t cursor;
    pthread_t thread;
    atomic_int stopping;
    int failures;            /* thread-owned until joined */
    st_event *queue;         /* FIFO of due unit events, ring of MAX_QUEUED */
    int q_head, q_len;
    uint64_t dropped;
};

static bool is_result(st_ev_kind k)
{
    return k == ST_EV_PASS || k == ST_EV_FAIL || k == ST_EV_INTERRUPTED || k == ST_EV_UNRECORDED;
}

/* ---- the environment of one command ---- */

typedef struct {
    char **v;
    int n, cap;
} envlist;

static void env_add(envlist *l, const char *k, const char *val)
{
    if (!val || !*val || l->n + 2 > l->cap)
        return;
    size_t len = strlen(k) + strlen(val) + 2;
    char *s = malloc(len);
    if (!s)
        return;
    snprintf(s, len, "%s=%s", k, val);
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
}

static void env_json(envlist *l, const char *k, json_t *o, const char *key)
{
    json_t *j = json_object_get(o, key);
    char buf[64];
    if (json_is_string(j))
        env_add(l, k, json_string_value(j));
    else if (json_is_integer(j)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(j));
        env_add(l, k, buf);
    }
}

/* environ minus any inherited STATION_* result variables, plus this unit's. */
static char **make_env(const st_event *ev, envlist *l)
{
    int base = 0;
    while (environ[base])
        base++;
    l->cap = base + 64;
    l->v = calloc((size_t)l->cap, sizeof *l->v);
    if (!l->v)
        return NULL;
    json_t *o = st_cli_event_json(ev);
    for (int i = 0; i < base; i++)
        if (strncmp(environ[i], "STATION_", 8) != 0)
            l->v[l->n++] = strdup(environ[i]);
    static const char *const map[][2] = {
        {"STATION_RESULT", "event"},      {"STATION_MAC", "mac"},
        {"STATION_SLOT", "slot"},         {"STATION_LABEL", "label"},
        {"STATION_ATTEMPT_ID", "attempt_id"}, {"STATION_TRY", "try_no"},
        {"STATION_CLASS", "class"},       {"STATION_PHASE", "phase"},
        {"STATION_STATUS", "status"},     {"STATION_HINT", "hint"},
        {"STATION_DETAIL", "detail"},     {"STATION_CHIP", "description"},
        {"STATION_PACKAGE", "package"},   {"STATION_REVISION", "revision"},
        {"STATION_FLASH_ID", "flash_id"}, {"STATION_FLASH_SIZE", "flash_size"},
        {"STATION_PROFILE", "profile"},   {"STATION_PORT", "port"},
        {"STATION_BRIDGE", "bridge"},     {"STATION_VID_PID", "vid_pid"},
        {"STATION_BRIDGE_SERIAL", "bridge_serial"}, {"STATION_BAUD", "baud"},
        {"STATION_SERIAL", "serial"},     {"STATION_APP_VERSION", "app_version"},
    };
    if (o) {
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            env_json(l, map[i][0], o, map[i][1]);
        char *js = json_dumps(o, JSON_COMPACT);
        env_add(l, "STATION_EVENT", js);
        free(js);
        json_decref(o);
    }
    return l->v;
}

static void env_free(envlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* ---- one command ---- */

static void post_failure(st_hook *h, const st_event *for_ev, st_hook_result res, int code, int sig,
                         double dur, const char *last_line, const char *stderr_head)
{
    st_event *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->kind = ST_EV_HOOK;
    memcpy(e->slot, for_ev->slot, sizeof e->slot);
    memcpy(e->label, for_ev->label, sizeof e->label);
    memcpy(e->mac, for_ev->mac, sizeof e->mac);
    e->attempt = for_ev->attempt;
    e->has_unit = for_ev->has_unit;
    e->unit = for_ev->unit;
    e->hook = (st_event_hook){.result = res, .exit_code = code, .signal = sig, .duration_s = dur,
                              .for_seq = for_ev->seq};
    snprintf(e->hook.command, sizeof e->hook.command, "%s", h->cmd);
    snprintf(e->hook.stderr_head, sizeof e->hook.stderr_head, "%s", stderr_head ? stderr_head : "");
    char how[64];
    switch (res) {
    case ST_HOOK_EXIT: snprintf(how, sizeof how, "exited with status %d", code); break;
    case ST_HOOK_SIGNAL: snprintf(how, sizeof how, "was killed by signal %d", sig); break;
    case ST_HOOK_TIMEOUT: snprintf(how, sizeof how, "took longer than %.0f s and was killed", h->timeout_s); break;
    default: snprintf(how, sizeof how, "could not be started"); break;
    }
    st_event_text(e, "on-result command for %s (%s) %s%s%s", *for_ev->mac ? for_ev->mac : for_ev->slot,
                  st_ev_kind_name(for_ev->kind), how, last_line && *last_line ? ": " : "",
                  last_line ? last_line : "");
    st_events_publish(st_engine_events(h->e), e);
    /* The failure goes on the unit's record too (the recorder owns the store). A unit
     * without a record (refused, unrecorded before BEGIN) has only the event. */
    if (for_ev->has_unit && for_ev->unit.attempt_id > 0) {
        st_rec_op *op = calloc(1, sizeof *op);
        if (op) {
            op->kind = ST_REC_HOOK;
            op->a.id = for_ev->unit.attempt_id;
            op->a.try_no = for_ev->attempt;
            memcpy(op->a.slot, for_ev->slot, sizeof op->a.slot);
            op->hook = e->hook;
            st_events_rec_push(st_engine_events(h->e), op);
        }
    }
    free(e);
    h->failures++;
}

/* The first bytes of the command's stderr as text: control characters become spaces
 * (runs of them one), bytes that are not UTF-8 '?', a sequence cut at the end dropped. */
static void clean_head(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    bool space = true; /* no leading space */
    for (size_t i = 0; i < n && o + 1 < cap;) {
        unsigned char c = in[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = len > 0 && (len == 1 || c >= 0xC2);
        for (size_t k = 1; ok && k < len; k++)
            ok = i + k < n && (in[i + k] & 0xC0) == 0x80;
        if (ok && len > 1 && i + len > n)
            break;
        if (!ok) {
            if (i + 1 >= n && len > 1)
                break; /* cut at the end of what was kept */
            out[o++] = '?';
            space = false;
            i++;
            continue;
        }
        bool ctl = (len == 1 && (c < 0x20 || c == 0x7f)) || (len == 2 && c == 0xC2 && in[i + 1] < 0xA0);
        if (ctl || c == ' ') {
            if (!space)
                out[o++] = ' ';
            space = true;
        } else {
            if (o + len >= cap)
                break;
            memcpy(out + o, in + i, len);
            o += len;
            space = false;
        }
        i += len;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* Keep the last non-empty line of the command's output. */
static void keep_last_line(char *last, size_t cap, char *acc, size_t *acc_len, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n' || c == '\r') {
            if (*acc_len) {
                acc[*acc_len] = '\0';
                snprintf(last, cap, "%s", acc);
                *acc_len = 0;
            }
        } else if (*acc_len + 1 < 160 && (unsigned char)c >= 0x20) {
            acc[(*acc_len)++] = c;
        }
    }
}

static void pull_events(st_hook *h, st_event *buf, int cap);

#define HEAD_BYTES 200 /* of stderr kept for the record */

/* What a command wrote: the last line of each output (the event quotes stdout's, else
 * stderr's: the first bytes of stderr are in the event and the record on their own). */
typedef struct {
    char last[2][160], acc[2][160];
    size_t acc_len[2];
    unsigned char head[HEAD_BYTES];
    size_t head_len;
} outputs;

static void took(outputs *o, int which, const char *b, size_t n)
{
    keep_last_line(o->last[which], sizeof o->last[which], o->acc[which], &o->acc_len[which], b, n);
    if (which == 1 && o->head_len < sizeof o->head) {
        size_t k = n < sizeof o->head - o->head_len ? n : sizeof o->head - o->head_len;
        memcpy(o->head + o->head_len, b, k);
        o->head_len += k;
    }
}

static void run_one(st_hook *h, const st_event *ev, st_event *buf, int cap)
{
    envlist env = {0};
    char **envp = make_env(ev, &env);
    int pp[2][2] = {{-1, -1}, {-1, -1}}; /* stdout, stderr: read end, write end */
    double t0 = st_now();
    pid_t pid = -1;
    int rc = -1;
    if (envp && pipe2(pp[0], O_CLOEXEC) == 0 && pipe2(pp[1], O_CLOEXEC) == 0) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pp[0][1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, pp[1][1], STDERR_FILENO);
        posix_spawnattr_init(&at);
        posix_spawnattr_setpgroup(&at, 0);
        sigset_t none, dfl;
        sigemptyset(&none);
        sigfillset(&dfl);
        posix_spawnattr_setsigmask(&at, &none); /* the station blocks SIGINT/TERM; the command must not */
        posix_spawnattr_setsigdefault(&at, &dfl);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
        char *argv[] = {"sh", "-c", h->cmd, NULL};
        rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    } else if (envp) {
        rc = errno;
    }
    for (int i = 0; i < 2; i++)
        if (pp[i][1] >= 0)
            close(pp[i][1]);
    env_free(&env);
    if (rc != 0) {
        for (int i = 0; i < 2; i++)
            if (pp[i][0] >= 0)
                close(pp[i][0]);
        post_failure(h, ev, ST_HOOK_SPAWN_FAILED, 0, 0, 0, rc > 0 ? strerror(rc) : "out of memory", "");
        return;
    }
    /* The last line of either output for the event; the first bytes of stderr for the record. */
    outputs o = {.head_len = 0};
    bool timed_out = false, killed = false, eof[2] = {false, false};
    int fds[2] = {pp[0][0], pp[1][0]};
    int status = 0;
    for (;;) {
        if (!eof[0] || !eof[1]) {
            struct pollfd p[2] = {{.fd = eof[0] ? -1 : fds[0], .events = POLLIN},
                                  {.fd = eof[1] ? -1 : fds[1], .events = POLLIN}};
            if (poll(p, 2, 100) > 0) {
                for (int i = 0; i < 2; i++) {
                    if (!p[i].revents)
                        continue;
                    char b[512];
                    ssize_t n = read(fds[i], b, sizeof b);
                    if (n > 0)
                        took(&o, i, b, (size_t)n);
                    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        eof[i] = true;
                    }
                }
            }
        } else {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        pull_events(h, buf, cap); /* keep up with the line while the command runs */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        double el = st_now() - t0;
        if (!timed_out && el > h->timeout_s) {
            timed_out = true;
            kill(-pid, SIGTERM);
        } else if (timed_out && !killed && el > h->timeout_s + 2) {
            killed = true;
            kill(-pid, SIGKILL);
        }
    }
    /* What is already in the pipes when the command ended (not what a background child of
     * it still writes: that is not waited for). */
    for (int i = 0; i < 2; i++) {
        char b[512];
        ssize_t n;
        int fl = fcntl(fds[i], F_GETFL);
        if (fl >= 0)
            fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
        while (!eof[i] && (n = read(fds[i], b, sizeof b)) > 0)
            took(&o, i, b, (size_t)n);
        if (o.acc_len[i]) {
            o.acc[i][o.acc_len[i]] = '\0';
            snprintf(o.last[i], sizeof o.last[i], "%s", o.acc[i]);
        }
        close(fds[i]);
    }
    const char *last = *o.last[0] ? o.last[0] : o.last[1];
    char head_text[HEAD_BYTES + 1];
    clean_head(o.head, o.head_len, head_text, sizeof head_text);
    double dur = st_now() - t0;
    if (timed_out)
        post_failure(h, ev, ST_HOOK_TIMEOUT, 0, 0, dur, last, head_text);
    else if (WIFSIGNALED(status))
        post_failure(h, ev, ST_HOOK_SIGNAL, 0, WTERMSIG(status), dur, last, head_text);
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        post_failure(h, ev, ST_HOOK_EXIT, WEXITSTATUS(status), 0, dur, last, head_text);
}

/* ---- the thread ---- */

static void pull_events(st_hook *h, st_event *buf, int cap)
{
    int n;
    uint64_t lost;
    while ((n = st_engine_events_since(h->e, h->cursor, buf, cap, &lost)) > 0) {
        for (int i = 0; i < n; i++) {
            if (!is_result(buf[i].kind))
                continue;
            if (h->q_len == MAX_QUEUED) {
                h->dropped++;
                continue;
            }
            h->queue[(h->q_head + h->q_len) % MAX_QUEUED] = buf[i];
            h->q_len++;
        }
        h->cursor = buf[n - 1].seq;
    }
}

static void *hook_main(void *arg)
{
    st_hook *h = arg;
    enum { CAP = 32 };
    st_event *buf = malloc(CAP * sizeof *buf);
    if (!buf)
        return NULL;
    for (;;) {
        pull_events(h, buf, CAP);
        if (h->q_len > 0) {
            st_event *ev = malloc(sizeof *ev);
            if (!ev)
                break;
            *ev = h->queue[h->q_head];
            h->q_head = (h->q_head + 1) % MAX_QUEUED;
            h->q_len--;
            run_one(h, ev, buf, CAP);
            free(ev);
            continue;
        }
        if (atomic_load(&h->stopping)) {
            pull_events(h, buf, CAP);
            if (h->q_len == 0)
                break;
            continue;
        }
        st_engine_wait_event(h->e, h->cursor, 200);
    }
    if (h->dropped) {
        st_events_post(st_engine_events(h->e), ST_EV_INFO, NULL, NULL, 0, ST_PH_NONE, ST_FC_NONE,
                       "on-result: %llu units got no command (more than %d were waiting)",
                       (unsigned long long)h->dropped, MAX_QUEUED);
        h->failures += (int)h->dropped;
    }
    free(buf);
    return NULL;
}

int st_hook_start(st_engine *e, const char *cmd, double timeout_s, uint64_t after_seq,
                  st_hook **out, st_err *err)
{
    st_hook *h = calloc(1, sizeof *h);
    if (!h || !(h->queue = malloc(MAX_QUEUED * sizeof *h->queue))) {
        free(h);
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for the on-result runner");
    }
    h->e = e;
    if (snprintf(h->cmd, sizeof h->cmd, "%s", cmd) >= (int)sizeof h->cmd) {
        free(h->queue);
        free(h);
        return st_err_set(err, ST_E_ARG, ST_PH_NONE,
                          "--on-result command longer than %zu bytes: put it in a script",
                          sizeof h->cmd - 1);
    }
    h->timeout_s = timeout_s;
    h->cursor = after_seq;
    atomic_init(&h->stopping, 0);
    int rc = pthread_create(&h->thread, NULL, hook_main, h);
    if (rc != 0) {
        free(h->queue);
        free(h);
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "cannot start the on-result thread (error %d)", rc);
    }
    *out = h;
    return 0;
}

int st_hook_stop(st_hook *h)
{
    if (!h)
        return 0;
    atomic_store(&h->stopping, 1);
    pthread_join(h->thread, NULL);
    int f = h->failures;
    free(h->queue);
    free(h);
    return f;
}

/* cli_layout.c - `station layout learn`: walk the operator through the fixture's
 * positions; for each, wait until exactly one new place (a /dev/serial/by-path link, or a
 * simulator slot) appears through the line's own discovery, and give it that position;
 * then write the layout file atomically (st_layout_save). The rules of the walk are in
 * station/line/layout_learn.h. Reads the operator's keys as lines on stdin (Enter skips,
 * q finishes; end of input finishes too), so it can be scripted through a pipe.
 * Exit status: 0 written, 1 nothing learned (file untouched), 2 usage or a bad layout
 * file, 3 the file or the ports could not be used. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_records.h"
#include "clock.h"
#include "discovery.h"
#include "layout.h"
#include "layout_learn.h"
#include "text.h"

#define PROG "station layout learn"
#define MAX_PORTS 128
#define SETTLE_S 0.5 /* a lone new place must stay alone this long (a hub enumerates its ports one by one) */

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station layout learn [--layout FILE] [--rows A..D --cols 1..8 | --positions LIST]\n"
            "                            [--sim-dir DIR] [--usb] [--usb-filter LIST]\n"
            "  Walks you through the fixture: for each position it asks you to plug a unit in\n"
            "  there and takes the one new /dev/serial/by-path place that appears. Enter skips a\n"
            "  position, q finishes; then the file is written at once (temporary file + rename).\n"
            "  --layout FILE     the file to write (default: the one `station run` reads,\n"
            "                    else $XDG_CONFIG_HOME/flashstation/layout.ini); when it exists its\n"
            "                    positions are walked and its labels kept\n"
            "  --rows, --cols    walk this grid, row by row: --rows A..D --cols 1..8 (also A-B, C)\n"
            "  --positions LIST  walk these positions in this order: A1,A2,B1\n"
            "  --sim-dir DIR     take simulator units from DIR (slotK symlinks) instead of USB\n"
            "  --usb             also scan real USB serial ports (default without --sim-dir)\n"
            "  --usb-filter LIST bridges to take, vid:pid,... in hex (default: the ESP bridges)\n");
    return out == stdout ? 0 : 2;
}

/* ---- the places present, and those new since a position was asked for ---- */

typedef struct {
    char name[MAX_PORTS][64];
    int n;
} place_set;

static bool set_has(const place_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name))
            return true;
    return false;
}

static void set_add(place_set *s, const char *name)
{
    if (!set_has(s, name) && s->n < MAX_PORTS)
        snprintf(s->name[s->n++], sizeof s->name[0], "%s", name);
}

static void set_del(place_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name)) {
            s->name[i][0] = '\0';
            memmove(s->name[i], s->name[i + 1], (size_t)(s->n - i - 1) * sizeof s->name[0]);
            s->n--;
            return;
        }
}

/* ---- the operator's keys: lines on stdin ---- */

typedef enum { KEY_NONE, KEY_SKIP, KEY_QUIT, KEY_EOF, KEY_OTHER } key;

typedef struct {
    char buf[256];
    size_t len;
    bool eof;
} keys;

static key next_key(keys *k)
{
    for (;;) {
        char *nl = memchr(k->buf, '\n', k->len);
        if (nl) {
            *nl = '\0';
            char line[256];
            snprintf(line, sizeof line, "%s", k->buf);
            size_t used = (size_t)(nl - k->buf) + 1;
            memmove(k->buf, nl + 1, k->len - used);
            k->len -= used;
            char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
            size_t n = strlen(s);
            while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
            if (!*s)
                return KEY_SKIP;
            if (!strcmp(s, "q") || !strcmp(s, "Q"))
                return KEY_QUIT;
            return KEY_OTHER;
        }
        if (k->eof)
            return KEY_EOF;
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return KEY_NONE;
        if (k->len == sizeof k->buf)
            k->len = 0; /* a line this long is no key */
        ssize_t r = read(STDIN_FILENO, k->buf + k->len, sizeof k->buf - k->len);
        if (r <= 0) {
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                return KEY_NONE;
            k->eof = true;
        } else {
            k->len += (size_t)r;
        }
    }
}

/* ---- the command ---- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* mkdir -p of path's folder. */
static int make_parent(const char *path)
{
    char d[1024];
    if (snprintf(d, sizeof d, "%s", path) >= (int)sizeof d)
        return -1;
    char *slash = strrchr(d, '/');
    if (!slash || slash == d)
        return 0;
    *slash = '\0';
    for (char *p = d + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(d, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(d, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int default_target(char *out, size_t cap)
{
    if (st_layout_default_path(out, cap) == 0)
        return 0;
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        return snprintf(out, cap, "%s/flashstation/layout.ini", xdg) < (int)cap ? 0 : -1;
    if (home && *home)
        return snprintf(out, cap, "%s/.config/flashstation/layout.ini", home) < (int)cap ? 0 : -1;
    return -1;
}

typedef struct {
    st_discovery *disc;
    place_set present;
    st_found_port *arrived, *left;
} watch;

/* Poll discovery once (up to timeout_ms): present follows what arrived and left. */
static int watch_poll(watch *w, int timeout_ms, st_err *err)
{
    int na = 0, nl = 0;
    if (st_discovery_poll(w->disc, timeout_ms, w->arrived, &na, w->left, &nl, MAX_PORTS, err) < 0)
        return -1;
    for (int i = 0; i < nl; i++)
        set_del(&w->present, w->left[i].slot);
    for (int i = 0; i < na; i++)
        set_add(&w->present, w->arrived[i].slot);
    return 0;
}

/* Ask for the current position until it is learned or skipped (1), the operator finishes
 * the walk (q, end of input: 0) or the ports cannot be scanned (-1, err). */
static int ask(st_learn *l, watch *w, keys *k, st_err *err)
{
    char pos[4];
    st_learn_current(l, pos);
    const char *label = st_learn_current_label(l);
    say("plug a unit into %s%s%s%s (Enter to skip, q to finish)\n", pos, strcmp(label, pos) ? " (" : "",
        strcmp(label, pos) ? label : "", strcmp(label, pos) ? ")" : "");
    place_set base = w->present; /* what is plugged in already is not the answer */
    char lone[64] = "", crowd[512] = "";
    double lone_since = 0;
    for (;;) {
        switch (next_key(k)) {
        case KEY_SKIP: {
            char note[128];
            st_learn_skip(l, note, sizeof note);
            say("%s skipped: %s\n", pos, note);
            return 1;
        }
        case KEY_QUIT: st_learn_finish(l); say("finished at %s\n", pos); return 0;
        case KEY_EOF: st_learn_finish(l); say("end of input: finished at %s\n", pos); return 0;
        case KEY_OTHER: say("type Enter to skip %s, or q and Enter to finish\n", pos); break;
        case KEY_NONE: break;
        }
        if (watch_poll(w, 100, err) < 0)
            return -1;
        /* places gone since the question may come back as the answer */
        for (int i = base.n - 1; i >= 0; i--)
            if (!set_has(&w->present, base.name[i]))
                set_del(&base, base.name[i]);
        char fresh[MAX_PORTS][64];
        int nf = 0;
        for (int i = 0; i < w->present.n; i++)
            if (!set_has(&base, w->present.name[i]))
                snprintf(fresh[nf++], sizeof fresh[0], "%s", w->present.name[i]);
        if (nf != 1) {
            lone[0] = '\0';
            if (nf > 1) {
                char now[512];
                size_t used = 0;
                now[0] = '\0';
                for (int i = 0; i < nf && used < sizeof now; i++)
                    used += (size_t)snprintf(now + used, sizeof now - used, "%s%s", i ? ", " : "", fresh[i]);
                if (strcmp(now, crowd)) {
                    say("%d new places at once (%s): unplug all but the unit in %s\n", nf, now, pos);
                    snprintf(crowd, sizeof crowd, "%s", now);
                }
            }
            continue;
        }
        crowd[0] = '\0';
        if (strcmp(lone, fresh[0])) {
            snprintf(lone, sizeof lone, "%s", fresh[0]);
            lone_since = st_now();
        }
        if (st_now() - lone_since < SETTLE_S)
            continue;
        char taken[4], name[64];
        snprintf(name, sizeof name, "%s", lone);
        st_text_clean(name);
        if (st_learn_assign(l, lone, taken) < 0) {
            say("%s is already %s: refused; unplug it and plug a unit into %s\n", name, taken, pos);
            set_add(&base, lone); /* until it leaves and comes back */
            lone[0] = '\0';
            continue;
        }
        say("%s = %s\n", pos, name);
        return 1;
    }
}

static int learn(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"layout", required_argument, 0, 'L'}, {"rows", required_argument, 0, 'r'},
        {"cols", required_argument, 0, 'c'},   {"positions", required_argument, 0, 'p'},
        {"sim-dir", required_argument, 0, 's'}, {"usb", no_argument, 0, 'U'},
        {"usb-filter", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *path = NULL, *rows = NULL, *cols = NULL, *list = NULL, *sim_dir = NULL;
    bool usb = false;
    st_err err;
    st_discovery_cfg dc = {0};
    st_usb_filter_default(&dc.filter);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'L': path = optarg; break;
        case 'r': rows = optarg; break;
        case 'c': cols = optarg; break;
        case 'p': list = optarg; break;
        case 's': sim_dir = optarg; break;
        case 'U': usb = true; break;
        case 'f':
            if (st_usb_filter_parse(optarg, &dc.filter, &err) < 0) {
                st_cli_print_err(PROG, &err);
                return 2;
            }
            break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    if ((rows || cols) && list) {
        fprintf(stderr, PROG ": --positions and --rows/--cols exclude each other\n");
        return 2;
    }
    if (!rows != !cols) {
        fprintf(stderr, PROG ": --rows and --cols go together (e.g. --rows A..D --cols 1..8)\n");
        return 2;
    }
    char target[1024];
    if (path) {
        if (snprintf(target, sizeof target, "%s", path) >= (int)sizeof target) {
            fprintf(stderr, PROG ": --layout path too long\n");
            return 2;
        }
    } else if (default_target(target, sizeof target) < 0) {
        fprintf(stderr, PROG ": no layout file named and neither $XDG_CONFIG_HOME nor $HOME is set: give --layout FILE\n");
        return 2;
    }

    static st_layout old;
    bool have_old = access(target, F_OK) == 0;
    if (have_old && st_layout_load(target, &old, &err) < 0) {
        st_cli_print_err(PROG, &err);
        fprintf(stderr, PROG ": fix the file or give another --layout; it was left as it is\n");
        return 2;
    }
    st_learn_pos pos[ST_LAYOUT_MAX];
    int n = 0;
    if (list ? st_learn_list(list, pos, &n, &err) < 0 : rows && st_learn_grid(rows, cols, pos, &n, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    if (!list && !rows) {
        if (!have_old) {
            fprintf(stderr, PROG ": %s does not exist yet: say which positions to walk, e.g. --rows A..D --cols 1..8 "
                            "or --positions A1,A2,B1\n", target);
            return 2;
        }
        n = st_learn_of_layout(&old, pos);
    }

    dc.sim_dir = sim_dir;
    dc.scan_usb = usb || !sim_dir;
    static st_found_port arrived[MAX_PORTS], left[MAX_PORTS];
    watch w = {.arrived = arrived, .left = left};
    if (st_discovery_new(&dc, &w.disc, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    static st_learn l;
    st_learn_start(&l, have_old ? &old : NULL, pos, n);
    keys k = {.len = 0};
    if (watch_poll(&w, 0, &err) < 0)
        goto ports;
    say("learning %d position%s for %s%s; %d unit%s plugged in now (not taken: plug each unit in when asked)\n",
        n, n == 1 ? "" : "s", target, have_old ? " (labels kept)" : "", w.present.n, w.present.n == 1 ? "" : "s");
    while (!st_learn_done(&l)) {
        int rc = ask(&l, &w, &k, &err);
        if (rc < 0)
            goto ports;
        if (rc == 0)
            break;
    }
    st_discovery_free(w.disc);
    w.disc = NULL;
    if (l.n_learned == 0) {
        say("nothing learned: %s left as it is\n", target);
        return 1;
    }
    if (make_parent(target) < 0) {
        fprintf(stderr, PROG ": cannot create the folder of %s: %s\n", target, strerror(errno));
        return 3;
    }
    if (st_layout_save(&l.L, target, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    say("wrote %s: %d position%s (%d learned now)\n", target, l.L.n, l.L.n == 1 ? "" : "s", l.n_learned);
    for (int r = 0; r < ST_LAYOUT_ROWS; r++)
        for (int cc = 0; cc < ST_LAYOUT_COLS; cc++) {
            const st_layout_place *p = st_layout_at(&l.L, r, cc);
            if (p) {
                char nm[4];
                st_layout_pos_name(r, cc, nm);
                say("  %s %-15s %s\n", nm, p->label, p->place);
            }
        }
    return 0;
ports:
    st_cli_print_err(PROG, &err);
    st_discovery_free(w.disc);
    fprintf(stderr, PROG ": nothing written\n");
    return 3;
}

int st_cli_layout(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "learn"))
        return learn(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return usage(stdout);
    fprintf(stderr, "station layout: say what to do: station layout learn [options] (--help)\n");
    return 2;
}

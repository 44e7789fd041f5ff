/* sim_main.c - esp32sim: command line, slots (a port plus the unit currently plugged
 * into it), scenario arrivals/departures, and one ppoll() loop serving every unit.
 * Contract (options, faults, scenario format, reset model): tests/sim/README.md. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_port.h"
#include "sim_scenario.h"
#include "sim_unit.h"

#define MAX_UNIT_OPTS 256
#define NS 1000000000ull

typedef struct slot {
    int k;
    sim_port port;
    sim_unit *u;          /* plugged-in unit, NULL when the slot is empty */
    unsigned seq;         /* arrivals so far */
    sim_leave leave;
    uint64_t arrived_at, closed_at, empty_since;
    /* Host attaches and detaches so far: a poll result taken before one is stale (a
     * close and reopen handled from inotify leaves the master's old POLLHUP behind). */
    int links;
    int *queue;           /* indices into the scenario's arrivals, in order */
    int nq, qi;
} slot;

typedef struct sim {
    const char *dir;
    int tcp_base;         /* 0 = PTY mode */
    bool rfc;             /* tcp_base listeners speak RFC 2217 (DTR/RTS reach the unit) */
    bool realism, flash_files, quiet, prefill;
    int verbose;
    uint64_t seed;
    sim_scenario sc;
    struct { int slot; const char *kv; } uopt[MAX_UNIT_OPTS];
    int nuopt;
    slot *slots;
    int nslots;
    int ino;              /* inotify fd, -1 if unavailable */
    uint64_t start;
} sim;

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void note(const sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const sim *s, const char *fmt, ...)
{
    if (s->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "esp32sim: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int build_opts(sim *s, const sim_arrival *a, int k, unsigned seq, sim_unit_opts *o)
{
    char buf[SIM_OPTS_TEXT], err[200];
    opts_default(o, k, (int)seq);
    o->fill_pattern = s->prefill;
    strcpy(buf, a->opts);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (opts_apply(o, t, err, sizeof err))
            goto bad;
    for (int i = 0; i < s->nuopt; i++)
        if (s->uopt[i].slot == k && opts_apply(o, s->uopt[i].kv, err, sizeof err))
            goto bad;
    opts_finish(o);
    if (!o->serial[0])
        snprintf(o->serial, sizeof o->serial, "SIM%02d%02u", k, seq % 100);
    return 0;
bad:
    fprintf(stderr, "esp32sim: slot%d: %s\n", k, err);
    return -1;
}

static bool is_net(const slot *sl)
{
    return sl->port.kind == SIM_PORT_TCP || sl->port.kind == SIM_PORT_RFC2217;
}

static void attach(sim *s, slot *sl, uint64_t now)
{
    (void)s;
    sl->links++;
    sl->closed_at = 0;
    if (sl->port.kind == SIM_PORT_RFC2217) {
        /* Opening a real adapter resets nothing; what the unit said while nobody had the
         * port open went nowhere. */
        outq_clear(&sl->u->out);
        unit_log(sl->u, "port opened (RFC 2217): no reset");
        return;
    }
    unit_host_open(sl->u, now);
}

static void detach(sim *s, slot *sl, uint64_t now)
{
    (void)s;
    sl->links++;
    if (sl->port.kind == SIM_PORT_PTY) {
        pty_flush(&sl->port);
        sl->port.opens = 0;
        sl->port.attached = false;
        sl->port.io = -1;
    } else {
        tcp_detach(&sl->port);
    }
    sl->closed_at = now ? now : 1;
    if (sl->port.kind == SIM_PORT_RFC2217) {
        /* The server closes the device: DTR and RTS drop (HUPCL), which resets the unit
         * only if the client left EN held low. */
        sl->port.rfc.dtr = sl->port.rfc.rts = false;
        unit_log(sl->u, "port closed (RFC 2217): DTR and RTS released");
        unit_set_lines(sl->u, false, false, now);
        return;
    }
    unit_host_close(sl->u, now);
}

static int arrive(sim *s, slot *sl, uint64_t now)
{
    const sim_arrival *a = &s->sc.a[sl->queue[sl->qi++]];
    sim_unit_opts o;
    char err[256], path[600], fdesc[200];
    sl->seq++;
    if (build_opts(s, a, sl->k, sl->seq, &o))
        return -1;
    sl->u = malloc(sizeof *sl->u);
    if (!sl->u)
        return -1;
    snprintf(path, sizeof path, "%s/slot%d.flash", s->dir, sl->k);
    if (unit_init(sl->u, sl->k, sl->seq, &o, s->flash_files ? path : NULL, s->realism,
                  s->verbose, s->seed) != 0) {
        fprintf(stderr, "esp32sim: slot%d: flash: %s\n", sl->k, strerror(errno));
        free(sl->u);
        sl->u = NULL;
        return -1;
    }
    int rc;
    if (s->tcp_base) {
        rc = tcp_up(&sl->port, s->dir, sl->k, s->tcp_base + sl->k - 1,
                    s->rfc ? SIM_PORT_RFC2217 : SIM_PORT_TCP, err, sizeof err);
        if (rc == 0 && s->rfc) {
            sl->port.rfc.rng = sl->u->rng ^ 0x5DEECE66Dull;
            unit_autoreset_power_on(sl->u, now);
        }
    } else {
        sim_usb_id id = {.serial = sl->u->o.serial, .slot = sl->k};
        opts_bridge_ids(&sl->u->o, &id.vid, &id.pid, &id.bridge);
        rc = pty_up(&sl->port, s->dir, sl->k, &id, s->ino, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, "esp32sim: slot%d: %s\n", sl->k, err);
        unit_free(sl->u);
        free(sl->u);
        sl->u = NULL;
        return -1;
    }
    sl->leave = a->leave;
    sl->arrived_at = now;
    sl->closed_at = 0;
    faults_describe(&o.faults, fdesc, sizeof fdesc);
    note(s, "slot%d: unit %u arrived: MAC %02x:%02x:%02x:%02x:%02x:%02x %s rev%d.%d %s %s%s%s",
         sl->k, sl->seq, o.mac[0], o.mac[1], o.mac[2], o.mac[3], o.mac[4], o.mac[5],
         o.pkg == 0 ? "D0WDQ6" : "D0WD", o.rev_major, o.rev_minor,
         o.bridge == SIM_BRIDGE_CH9102 ? "CH9102" : o.bridge == SIM_BRIDGE_FTDI ? "FT231X" : "CP2104",
         s->tcp_base ? "" : sl->port.slave, fdesc[0] ? " faults: " : "", fdesc);
    return 0;
}

/* The slot's unit is gone: its port taken down (the PTY link removed), the unit freed. */
static void unplug(sim *s, slot *sl)
{
    if (sl->port.kind == SIM_PORT_PTY)
        pty_down(&sl->port, s->ino);
    else
        tcp_down(&sl->port);
    unit_free(sl->u);
    free(sl->u);
    sl->u = NULL;
}

/* RFC 2217: the unit's bytes go through the Telnet encoder (IAC doubled, garbled when
 * the adapter runs at another rate than the unit). */
static ssize_t rfc_writer(void *ctx, const uint8_t *d, size_t n, uint32_t baud)
{
    sim_port *p = ctx;
    if (p->rfc.out_len > (256u << 10))
        return 0; /* the client is not reading: hold the rest in the unit's queue */
    rfc_queue_data(&p->rfc, d, n, baud);
    return (ssize_t)n;
}

/* Send what is due to the attached host. -1 when it is gone. */
static int flush_out(sim *s, slot *sl, uint64_t now)
{
    if (sl->port.kind != SIM_PORT_RFC2217)
        return outq_flush(&sl->u->out, sl->port.io, now, s->realism) < 0 ? -1 : 0;
    if (outq_flush_with(&sl->u->out, now, s->realism, rfc_writer, &sl->port) < 0)
        return -1;
    return rfc_flush(&sl->port.rfc, sl->port.io);
}

static void depart(sim *s, slot *sl, uint64_t now, const char *why)
{
    /* what the bridge already had goes out before the cable is pulled */
    if (sl->port.attached)
        flush_out(s, sl, now);
    note(s, "slot%d: unit %u left (%s)", sl->k, sl->seq, why);
    unplug(s, sl);
    sl->empty_since = now;
}

static uint64_t secs(double d) { return (uint64_t)(d * 1e9); }

/* When the next queued unit may arrive (0 = none queued). */
static uint64_t arrival_time(const sim *s, const slot *sl)
{
    if (sl->u || sl->qi >= sl->nq)
        return 0;
    const sim_arrival *a = &s->sc.a[sl->queue[sl->qi]];
    uint64_t t = a->at >= 0 ? s->start + secs(a->at) : sl->empty_since + secs(a->after);
    if (t < sl->empty_since)
        t = sl->empty_since;
    return t ? t : 1;
}

/* When the current unit leaves (0 = no rule pending), and why. */
static uint64_t departure_time(const sim *s, const slot *sl, const char **why)
{
    uint64_t best = 0;
    const sim_leave *l = &sl->leave;
#define CAND(cond, t, w)                                         \
    do {                                                         \
        if (cond) {                                              \
            uint64_t tt = (t);                                   \
            if (!best || tt < best) { best = tt; *why = (w); }   \
        }                                                        \
    } while (0)
    if (!sl->u)
        return 0;
    CAND(sl->u->vanish, 1, "fault disconnect");
    CAND(l->reset >= 0 && sl->u->app_boot_at, sl->u->app_boot_at + secs(l->reset),
         "reset by the station");
    CAND(l->close >= 0 && sl->closed_at && !sl->port.attached, sl->closed_at + secs(l->close),
         "port closed");
    CAND(l->stay >= 0, sl->arrived_at + secs(l->stay), "stay time over");
    CAND(l->at >= 0, s->start + secs(l->at), "scheduled");
#undef CAND
    return best;
}

static void handle_inotify(sim *s, uint64_t now)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(s->ino, buf, sizeof buf);
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->mask & IN_Q_OVERFLOW) { /* lost count: trust the hang-up flag */
                for (int i = 0; i < s->nslots; i++) {
                    slot *sl = &s->slots[i];
                    if (!sl->u || sl->port.kind != SIM_PORT_PTY)
                        continue;
                    int ch = pty_poll_state(&sl->port);
                    sl->port.opens = sl->port.attached ? 1 : 0;
                    if (ch > 0)
                        attach(s, sl, now);
                    else if (ch < 0)
                        detach(s, sl, now);
                }
                continue;
            }
            for (int i = 0; i < s->nslots; i++) {
                slot *sl = &s->slots[i];
                if (!sl->u || sl->port.kind != SIM_PORT_PTY || sl->port.wd != e->wd)
                    continue;
                int delta = (e->mask & IN_OPEN) ? 1 : (e->mask & IN_CLOSE) ? -1 : 0;
                int ch = pty_on_event(&sl->port, delta);
                if (ch > 0)
                    attach(s, sl, now);
                else if (ch < 0)
                    detach(s, sl, now);
            }
        }
    }
}

typedef struct rfc_ctx {
    slot *sl;
    uint64_t now;
} rfc_ctx;

static void rfc_data(void *ctx, const uint8_t *d, size_t n)
{
    rfc_ctx *c = ctx;
    unit_rx(c->sl->u, d, n, c->now);
}

static void rfc_lines(void *ctx, bool dtr, bool rts)
{
    rfc_ctx *c = ctx;
    unit_set_lines(c->sl->u, dtr, rts, c->now);
}

static void rfc_baud(void *ctx, uint32_t baud)
{
    rfc_ctx *c = ctx;
    unit_log(c->sl->u, "adapter baud %u (RFC 2217 SET-BAUDRATE)", baud);
}

/* Read what the unit may take now. Returns -1 when the host is gone. */
static int pump_in(sim *s, slot *sl, uint64_t now)
{
    sim_unit *u = sl->u;
    uint8_t buf[8192];
    size_t want = unit_rx_room(u);
    if (want > sizeof buf)
        want = sizeof buf;
    if (s->realism)
        want = wire_rx_allow(u->rx_free, now, u->baud, want);
    if (want == 0)
        return 0;
    ssize_t n = read(sl->port.io, buf, want);
    if (n == 0)
        return is_net(sl) ? -1 : 0;
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    if (s->realism)
        wire_rx_account(&u->rx_free, now, u->baud, (size_t)n);
    if (sl->port.kind == SIM_PORT_RFC2217) {
        rfc_ctx c = {sl, now};
        sim_rfc_cb cb = {.ctx = &c, .data = rfc_data, .lines = rfc_lines, .baud = rfc_baud};
        rfc_feed(&sl->port.rfc, buf, (size_t)n, &cb);
        return rfc_flush(&sl->port.rfc, sl->port.io); /* negotiation answers */
    }
    unit_rx(u, buf, (size_t)n, now);
    return 0;
}

static bool want_in(const sim *s, const slot *sl, uint64_t now)
{
    const sim_unit *u = sl->u;
    if (unit_rx_room(u) == 0)
        return false;
    return !s->realism || u->rx_free <= now;
}

static void write_ready(const sim *s)
{
    char p[600];
    snprintf(p, sizeof p, "%s/ready", s->dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    if (!s->quiet) {
        printf("READY\n");
        fflush(stdout);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: esp32sim --dir DIR [--units N] [--tcp BASEPORT | --rfc2217 BASEPORT]\n"
            "                [--scenario FILE]\n"
            "                [--unit-opt K:KEY=VALUE]... [--realism] [--flash-files] [--prefill]\n"
            "                [--seed S] [--quiet] [-v]\n");
}

static int parse_cli(sim *s, int argc, char **argv)
{
    static const struct option lo[] = {
        {"dir", required_argument, 0, 'd'},     {"units", required_argument, 0, 'n'},
        {"tcp", required_argument, 0, 't'},     {"scenario", required_argument, 0, 's'},
        {"rfc2217", required_argument, 0, 'R'},
        {"unit-opt", required_argument, 0, 'o'}, {"realism", no_argument, 0, 'r'},
        {"flash-files", no_argument, 0, 'f'},   {"seed", required_argument, 0, 'S'},
        {"quiet", no_argument, 0, 'q'},         {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},          {"prefill", no_argument, 0, 'P'},
        {0, 0, 0, 0}};
    int units = 1, c;
    const char *scen = NULL;
    bool seed_set = false;
    while ((c = getopt_long(argc, argv, "d:n:t:s:o:rfS:qvhR:", lo, NULL)) != -1) {
        switch (c) {
        case 'd': s->dir = optarg; break;
        case 'n': units = atoi(optarg); break;
        case 't':
        case 'R':
            if (s->tcp_base) {
                fprintf(stderr, "esp32sim: give one of --tcp and --rfc2217\n");
                return -1;
            }
            s->tcp_base = atoi(optarg);
            s->rfc = c == 'R';
            if (s->tcp_base <= 0) {
                usage();
                return -1;
            }
            break;
        case 's': scen = optarg; break;
        case 'o': {
            char *colon = strchr(optarg, ':');
            if (!colon || s->nuopt == MAX_UNIT_OPTS || atoi(optarg) < 1) {
                fprintf(stderr, "esp32sim: --unit-opt wants K:KEY=VALUE\n");
                return -1;
            }
            s->uopt[s->nuopt].slot = atoi(optarg);
            s->uopt[s->nuopt++].kv = colon + 1;
            break;
        }
        case 'r': s->realism = true; break;
        case 'f': s->flash_files = true; break;
        case 'P': s->prefill = true; break;
        case 'S': s->seed = strtoull(optarg, NULL, 0); seed_set = true; break;
        case 'q': s->quiet = true; break;
        case 'v': s->verbose = 1; break;
        default: usage(); return -1;
        }
    }
    if (!s->dir || units < 1 || units > 64 || s->tcp_base < 0 || s->tcp_base > 65535 - 64 ||
        optind != argc) {
        usage();
        return -1;
    }
    char err[300];
    if (scen) {
        if (scenario_load(&s->sc, scen, err, sizeof err)) {
            fprintf(stderr, "esp32sim: %s\n", err);
            return -1;
        }
        if (s->sc.has_seed && !seed_set)
            s->seed = s->sc.seed;
    } else if (scenario_plain(&s->sc, units)) {
        return -1;
    }
    s->nslots = s->sc.nslots > units ? s->sc.nslots : units;
    if (scen)
        s->nslots = s->sc.nslots;
    /* check --unit-opt values early: a typo should not wait for an arrival */
    for (int i = 0; i < s->nuopt; i++) {
        sim_unit_opts o;
        opts_default(&o, 1, 1);
        if (opts_apply(&o, s->uopt[i].kv, err, sizeof err)) {
            fprintf(stderr, "esp32sim: --unit-opt %d:%s: %s\n", s->uopt[i].slot, s->uopt[i].kv,
                    err);
            return -1;
        }
    }
    return 0;
}

static void cleanup(sim *s)
{
    for (int i = 0; i < s->nslots; i++) {
        slot *sl = &s->slots[i];
        if (sl->u)
            unplug(s, sl);
        free(sl->queue);
    }
    free(s->slots);
    char p[600];
    snprintf(p, sizeof p, "%s/ready", s->dir);
    unlink(p);
    if (s->ino >= 0)
        close(s->ino);
    scenario_free(&s->sc);
}

int main(int argc, char **argv)
{
    static sim s;
    s.ino = -1;
    if (parse_cli(&s, argc, argv))
        return 2;
    mkdir(s.dir, 0755);
    s.slots = calloc((size_t)s.nslots, sizeof *s.slots);
    if (!s.slots)
        return 1;
    for (int i = 0; i < s.nslots; i++) {
        slot *sl = &s.slots[i];
        sl->k = i + 1;
        sl->port.io = sl->port.master = sl->port.lfd = -1;
        sl->queue = calloc((size_t)s.sc.n + 1, sizeof *sl->queue);
        if (!sl->queue)
            return 1;
        for (int j = 0; j < s.sc.n; j++)
            if (s.sc.a[j].slot == sl->k)
                sl->queue[sl->nq++] = j;
    }
    if (!s.tcp_base) {
        s.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s.ino < 0)
            note(&s, "no inotify (%s): falling back to polling PTY hang-ups", strerror(errno));
    }

    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &orig);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    s.start = sim_now_ns();
    for (int i = 0; i < s.nslots; i++)
        s.slots[i].empty_since = s.start;
    bool ready = false;
    int rc = 0;
    struct pollfd *pfd = calloc((size_t)s.nslots * 2 + 1, sizeof *pfd);
    int (*owner)[3] = calloc((size_t)s.nslots * 2 + 1, sizeof *owner); /* slot, kind, links */
    if (!pfd || !owner)
        return 1;

    while (!g_stop) {
        uint64_t now = sim_now_ns();
        uint64_t wake = now + 10 * NS;
        /* arrivals, departures, device timers, output */
        for (int i = 0; i < s.nslots; i++) {
            slot *sl = &s.slots[i];
            uint64_t ta = arrival_time(&s, sl);
            if (ta && ta <= now && arrive(&s, sl, now) != 0) {
                rc = 1;
                g_stop = 1;
                break;
            }
            if (!sl->u) {
                ta = arrival_time(&s, sl);
                if (ta && ta < wake)
                    wake = ta;
                continue;
            }
            if (sl->port.attached) {
                unit_service(sl->u, now);
                if (flush_out(&s, sl, now) < 0)
                    detach(&s, sl, now);
            } else if (sl->port.kind == SIM_PORT_RFC2217) {
                /* The unit runs on (resets, boots) with nobody at the port. */
                unit_service(sl->u, now);
                outq_clear(&sl->u->out);
            }
            const char *why = NULL;
            uint64_t td = departure_time(&s, sl, &why);
            if (td && td <= now) {
                depart(&s, sl, now, why);
                ta = arrival_time(&s, sl);
                if (ta && ta < wake)
                    wake = ta;
                continue;
            }
            if (td && td < wake)
                wake = td;
            if (ta && ta < wake)
                wake = ta;
        }
        if (g_stop)
            break;
        if (!ready) {
            write_ready(&s);
            ready = true;
        }
        /* poll set */
        int n = 0;
        if (s.ino >= 0) {
            pfd[n] = (struct pollfd){.fd = s.ino, .events = POLLIN};
            owner[n][0] = -1;
            n++;
        }
        bool need_hup_poll = false;
        for (int i = 0; i < s.nslots; i++) {
            slot *sl = &s.slots[i];
            if (!sl->u)
                continue;
            sim_unit *u = sl->u;
            if (is_net(sl)) {
                pfd[n] = (struct pollfd){.fd = sl->port.lfd, .events = POLLIN};
                owner[n][0] = i;
                owner[n][1] = 1;
                n++;
            } else if (!sl->port.attached && s.ino < 0) {
                need_hup_poll = true;
            }
            if (!sl->port.attached) {
                uint64_t te = unit_next_event(u);
                if (te && te < wake)
                    wake = te;
                continue;
            }
            short ev = 0;
            if (want_in(&s, sl, now))
                ev |= POLLIN;
            else if (s.realism && unit_rx_room(u) && u->rx_free < wake)
                wake = u->rx_free;
            uint64_t due = outq_due(&u->out, s.realism);
            if (sl->port.kind == SIM_PORT_RFC2217 && rfc_pending(&sl->port.rfc))
                ev |= POLLOUT;
            if (!outq_empty(&u->out)) {
                if (due <= now)
                    ev |= POLLOUT;
                else if (due < wake)
                    wake = due;
            }
            uint64_t te = unit_next_event(u);
            if (te && te < wake)
                wake = te;
            pfd[n] = (struct pollfd){.fd = sl->port.io, .events = ev};
            owner[n][0] = i;
            owner[n][1] = 0;
            owner[n][2] = sl->links;
            n++;
        }
        if (need_hup_poll && now + 50 * SIM_NS_PER_MS < wake)
            wake = now + 50 * SIM_NS_PER_MS;
        uint64_t dt = wake > now ? wake - now : 0;
        struct timespec ts = {.tv_sec = (time_t)(dt / NS), .tv_nsec = (long)(dt % NS)};
        int pr = ppoll(pfd, (nfds_t)n, &ts, &orig);
        if (pr < 0 && errno != EINTR) {
            perror("esp32sim: ppoll");
            rc = 1;
            break;
        }
        now = sim_now_ns();
        if (need_hup_poll)
            for (int i = 0; i < s.nslots; i++) {
                slot *sl = &s.slots[i];
                if (sl->u && sl->port.kind == SIM_PORT_PTY && !sl->port.attached &&
                    pty_poll_state(&sl->port) > 0)
                    attach(&s, sl, now);
            }
        if (pr <= 0)
            continue;
        for (int j = 0; j < n; j++) {
            if (!pfd[j].revents)
                continue;
            if (owner[j][0] < 0) {
                handle_inotify(&s, now);
                continue;
            }
            slot *sl = &s.slots[owner[j][0]];
            if (!sl->u)
                continue;
            if (owner[j][1] == 1) { /* TCP listener */
                if (tcp_peer_gone(&sl->port))
                    detach(&s, sl, now); /* its hang-up is in this round's results too */
                if (tcp_accept(&sl->port) > 0)
                    attach(&s, sl, now);
                continue;
            }
            if (!sl->port.attached || pfd[j].fd != sl->port.io || owner[j][2] != sl->links)
                continue; /* state changed by an inotify event in this round */
            if (pfd[j].revents & POLLIN) {
                if (pump_in(&s, sl, now) < 0) {
                    detach(&s, sl, now);
                    continue;
                }
            }
            if (pfd[j].revents & (POLLHUP | POLLERR)) {
                detach(&s, sl, now);
                continue;
            }
            if (pfd[j].revents & POLLOUT) {
                if (flush_out(&s, sl, now) < 0)
                    detach(&s, sl, now);
            }
        }
    }
    free(pfd);
    free(owner);
    cleanup(&s);
    note(&s, "stopped");
    return rc;
}

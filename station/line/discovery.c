/* discovery.c - port scans and plug/unplug diffing (see discovery.h). */
#include "discovery.h"
#include "port.h"
#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_MAX 128
/* A simulator port is used only once its sidecar exists (a tool may write the symlink
 * first); a port that still has none after the poll has watched it this long (monotonic
 * seconds: the link's file time is wall clock, which a clock step moves) is taken
 * without one. */
#define SIDECAR_GRACE_S 1.0

typedef struct bare_port {
    char ident[320];
    double since;             /* st_now() when a poll first saw it */
} bare_port;

struct st_discovery {
    st_discovery_cfg cfg;
    char sim_dir[PATH_MAX];
    char bypath_dir[PATH_MAX];
    int ino_fd;               /* -1 without a simulator folder */
    st_found_port prev[SCAN_MAX];
    int nprev;
    bare_port bare[SCAN_MAX]; /* sidecar-less ports waiting for their grace */
    int nbare;
};

/* snprintf's result n fitted into cap bytes. */
static bool fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

static const struct { uint16_t vid, pid; } default_ids[] = {
    {0x10c4, 0xea60}, {0x1a86, 0x55d4}, {0x1a86, 0x7523}, {0x0403, 0x6001},
    {0x0403, 0x6010}, {0x0403, 0x6014}, {0x0403, 0x6015}, {0x303a, 0x1001},
};

void st_usb_filter_default(st_usb_filter *f)
{
    f->n = 0;
    for (size_t i = 0; i < sizeof default_ids / sizeof default_ids[0]; i++) {
        f->id[f->n].vid = default_ids[i].vid;
        f->id[f->n].pid = default_ids[i].pid;
        f->n++;
    }
}

int st_usb_filter_parse(const char *spec, st_usb_filter *f, st_err *err)
{
    st_usb_filter out = {0};
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--usb-filter: bad entry near \"%.*s\"",
                              (int)(len < 20 ? len : 20), p);
        memcpy(item, p, len);
        item[len] = '\0';
        unsigned vid, pid;
        char extra;
        if (sscanf(item, "%x:%x%c", &vid, &pid, &extra) != 2 || vid > 0xffff || pid > 0xffff) {
            st_err_set(err, ST_E_ARG, ST_PH_NONE, "--usb-filter: \"%s\" is not VID:PID in hex", item);
            return st_err_hint(err, "write it like 10c4:ea60,1a86:55d4");
        }
        if (out.n == ST_USB_FILTER_MAX)
            return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--usb-filter: more than %d entries",
                              ST_USB_FILTER_MAX);
        out.id[out.n].vid = (uint16_t)vid;
        out.id[out.n].pid = (uint16_t)pid;
        out.n++;
        p = end ? end + 1 : NULL;
    }
    if (out.n == 0)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--usb-filter: empty list");
    *f = out;
    return 0;
}

bool st_usb_filter_match(const st_usb_filter *f, uint16_t vid, uint16_t pid)
{
    for (int i = 0; i < f->n; i++)
        if (f->id[i].vid == vid && f->id[i].pid == pid)
            return true;
    return false;
}

static double ts_epoch(struct timespec ts)
{
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int st_discovery_bypath_name(const char *bypath_dir, const char *devnode, char *out, int cap)
{
    char want[PATH_MAX];
    if (!realpath(devnode, want))
        return -1;
    DIR *d = opendir(bypath_dir);
    if (!d)
        return -1;
    int rc = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char link[PATH_MAX], got[PATH_MAX];
        if (fits(snprintf(link, sizeof link, "%s/%s", bypath_dir, de->d_name), sizeof link) &&
            realpath(link, got) && strcmp(got, want) == 0) {
            rc = fits(snprintf(out, cap, "%s", de->d_name), cap) ? 0 : -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

/* "1-1.3" style: digits, '-', then digits and dots. */
static bool is_usb_port_component(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0 || i >= len || s[i] != '-')
        return false;
    size_t start = ++i;
    while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    return i == len && i > start;
}

int st_discovery_usb_path_from_sysfs(const char *sysfs_path, char *out, int cap)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = sysfs_path; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len && is_usb_port_component(p, len)) {
            best = p;
            best_len = len;
        }
        p += len;
    }
    if (!best)
        return -1;
    snprintf(out, cap, "%.*s", (int)best_len, best);
    return 0;
}

/* Read a simulator sidecar (key=value lines); false when it does not exist. */
static bool read_sidecar(const char *path, st_found_port *fp)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *k = line, *v = eq + 1;
        if (strcmp(k, "vid") == 0)
            fp->vid = (uint16_t)strtoul(v, NULL, 16);
        else if (strcmp(k, "pid") == 0)
            fp->pid = (uint16_t)strtoul(v, NULL, 16);
        else if (strcmp(k, "serial") == 0)
            snprintf(fp->serial, sizeof fp->serial, "%s", v);
        else if (strcmp(k, "path") == 0)
            snprintf(fp->usb_path, sizeof fp->usb_path, "%s", v);
        else if (strcmp(k, "bridge") == 0)
            snprintf(fp->bridge, sizeof fp->bridge, "%s", v);
    }
    fclose(f);
    return true;
}

static int scan_sim(const st_discovery_cfg *cfg, st_found_port *out, int cap)
{
    DIR *d = opendir(cfg->sim_dir);
    if (!d)
        return 0; /* the simulator may not have created it yet */
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < cap) {
        if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
            continue; /* sidecars, flash files, ready marker */
        char link[PATH_MAX], target[PATH_MAX], side[PATH_MAX];
        snprintf(link, sizeof link, "%s/%s", cfg->sim_dir, de->d_name);
        struct stat ls, ts;
        if (lstat(link, &ls) != 0 || !S_ISLNK(ls.st_mode))
            continue;
        if (stat(link, &ts) != 0 || !S_ISCHR(ts.st_mode))
            continue; /* dangling: the unit is going away */
        ssize_t tl = readlink(link, target, sizeof target - 1);
        if (tl < 0)
            continue;
        target[tl] = '\0';
        st_found_port *fp = &out[n];
        memset(fp, 0, sizeof *fp);
        fp->appeared = ts_epoch(ls.st_mtim);
        if (!fits(snprintf(side, sizeof side, "%s.usb", link), sizeof side))
            continue;
        fp->bare = !read_sidecar(side, fp);
        if (fp->vid && !st_usb_filter_match(&cfg->filter, fp->vid, fp->pid))
            continue;
        if (!*fp->bridge && fp->vid)
            snprintf(fp->bridge, sizeof fp->bridge, "%s", st_bridge_name(fp->vid, fp->pid));
        /* The simulator's stable symlink plays the role of the by-path link. */
        if (!fits(snprintf(fp->slot, sizeof fp->slot, "%s", de->d_name),
                  sizeof fp->slot) ||
            !fits(snprintf(fp->dev, sizeof fp->dev, "%s", link), sizeof fp->dev) ||
            !fits(snprintf(fp->ident, sizeof fp->ident, "%s|%lu|%ld.%09ld", target,
                           (unsigned long)ls.st_ino, (long)ls.st_mtim.tv_sec, ls.st_mtim.tv_nsec),
                  sizeof fp->ident))
            continue; /* names this long cannot be opened or told apart reliably */
        n++;
    }
    closedir(d);
    return n;
}

static int scan_usb(const st_discovery_cfg *cfg, st_found_port *out, int cap)
{
    struct sp_port **list = NULL;
    if (sp_list_ports(&list) != SP_OK)
        return 0;
    const char *bypath = cfg->bypath_dir ? cfg->bypath_dir : "/dev/serial/by-path";
    int n = 0;
    for (int i = 0; list[i] && n < cap; i++) {
        struct sp_port *p = list[i];
        if (sp_get_port_transport(p) != SP_TRANSPORT_USB)
            continue;
        int vid = 0, pid = 0;
        if (sp_get_port_usb_vid_pid(p, &vid, &pid) != SP_OK)
            continue;
        if (!st_usb_filter_match(&cfg->filter, (uint16_t)vid, (uint16_t)pid))
            continue;
        const char *name = sp_get_port_name(p);
        struct stat st;
        if (!name || stat(name, &st) != 0)
            continue;
        st_found_port *fp = &out[n];
        memset(fp, 0, sizeof *fp);
        fp->vid = (uint16_t)vid;
        fp->pid = (uint16_t)pid;
        const char *ser = sp_get_port_usb_serial(p);
        snprintf(fp->serial, sizeof fp->serial, "%s", ser ? ser : "");
        snprintf(fp->bridge, sizeof fp->bridge, "%s", st_bridge_name(fp->vid, fp->pid));
        snprintf(fp->dev, sizeof fp->dev, "%s", name);
        fp->appeared = ts_epoch(st.st_ctim); /* udev creates the node on attach */

        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        char sysl[PATH_MAX], sysr[PATH_MAX];
        snprintf(sysl, sizeof sysl, "/sys/class/tty/%s/device", base);
        if (realpath(sysl, sysr))
            st_discovery_usb_path_from_sysfs(sysr, fp->usb_path, sizeof fp->usb_path);
        if (st_discovery_bypath_name(bypath, name, fp->slot, sizeof fp->slot) == 0) {
            /* Open through the stable link: it names this hub port whatever ttyUSBn is. */
            if (!fits(snprintf(fp->dev, sizeof fp->dev, "%s/%s", bypath, fp->slot), sizeof fp->dev))
                snprintf(fp->dev, sizeof fp->dev, "%s", name);
        } else {
            if (*fp->usb_path) {
                snprintf(fp->slot, sizeof fp->slot, "%s", fp->usb_path);
            } else {
                /* Last resort: bus and address change on replug, but never reuse ttyUSBn. */
                int bus = 0, addr = 0;
                sp_get_port_usb_bus_address(p, &bus, &addr);
                snprintf(fp->slot, sizeof fp->slot, "usb%d-addr%d", bus, addr);
            }
        }
        snprintf(fp->ident, sizeof fp->ident, "%s|%s|%lu|%ld.%09ld", name, fp->serial,
                 (unsigned long)st.st_rdev, (long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        n++;
    }
    sp_free_port_list(list);
    return n;
}

static int hub_port(const char *usb_path)
{
    const char *p = usb_path + strlen(usb_path);
    while (p > usb_path && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return *p ? atoi(p) : 0;
}

/* Every port, sidecar-less simulator ports included (bare). */
static int scan_all(const st_discovery_cfg *cfg, st_found_port *out, int cap)
{
    int n = 0;
    if (cfg->sim_dir)
        n += scan_sim(cfg, out, cap);
    if (cfg->scan_usb)
        n += scan_usb(cfg, out + n, cap - n);
    for (int i = 0; i < n; i++)
        out[i].hub_port = hub_port(out[i].usb_path);
    return n;
}

int st_discovery_scan(const st_discovery_cfg *cfg, st_found_port *out, int cap)
{
    int n = scan_all(cfg, out, cap), kept = 0;
    for (int i = 0; i < n; i++)
        if (!out[i].bare) /* a one-off scan has not watched it: its identity may be coming */
            out[kept++] = out[i];
    return kept;
}

int st_discovery_new(const st_discovery_cfg *cfg, st_discovery **out, st_err *err)
{
    st_discovery *d = calloc(1, sizeof *d);
    if (!d)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for discovery");
    d->cfg = *cfg;
    d->ino_fd = -1;
    if (cfg->sim_dir) {
        snprintf(d->sim_dir, sizeof d->sim_dir, "%s", cfg->sim_dir);
        d->cfg.sim_dir = d->sim_dir;
        d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        /* Without the watch we still poll; inotify only shortens the reaction time. */
        if (d->ino_fd >= 0 &&
            inotify_add_watch(d->ino_fd, d->sim_dir,
                              IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE) < 0) {
            close(d->ino_fd);
            d->ino_fd = -1;
        }
    }
    if (cfg->bypath_dir) {
        snprintf(d->bypath_dir, sizeof d->bypath_dir, "%s", cfg->bypath_dir);
        d->cfg.bypath_dir = d->bypath_dir;
    }
    *out = d;
    return 0;
}

void st_discovery_free(st_discovery *d)
{
    if (!d)
        return;
    if (d->ino_fd >= 0)
        close(d->ino_fd);
    free(d);
}

static const st_found_port *find_same(const st_found_port *list, int n, const st_found_port *p)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i].slot, p->slot) == 0 && strcmp(list[i].ident, p->ident) == 0)
            return &list[i];
    return NULL;
}

/* Keep the sidecar-less ports of list[0..n) the polls have watched for SIDECAR_GRACE_S,
 * drop the younger ones; remember when each present one was first seen. Returns the new
 * count. */
static int hold_bare(st_discovery *d, st_found_port *list, int n)
{
    double now = st_now();
    bare_port *next = malloc(SCAN_MAX * sizeof *next);
    int kept = 0, nb = 0;
    for (int i = 0; i < n; i++) {
        bool take = !list[i].bare;
        if (!take) {
            double since = now;
            for (int j = 0; j < d->nbare; j++)
                if (strcmp(d->bare[j].ident, list[i].ident) == 0)
                    since = d->bare[j].since;
            take = now - since >= SIDECAR_GRACE_S || !next; /* out of memory: no waiting */
            if (next && nb < SCAN_MAX) { /* kept while present, taken or not */
                snprintf(next[nb].ident, sizeof next[nb].ident, "%s", list[i].ident);
                next[nb++].since = since;
            }
        }
        if (take)
            list[kept++] = list[i];
    }
    if (next)
        memcpy(d->bare, next, nb * sizeof *next);
    d->nbare = nb;
    free(next);
    return kept;
}

int st_discovery_poll(st_discovery *d, int timeout_ms, st_found_port *arrived, int *n_arrived,
                      st_found_port *left, int *n_left, int cap, st_err *err)
{
    *n_arrived = *n_left = 0;
    if (d->ino_fd >= 0) {
        struct pollfd pfd = {.fd = d->ino_fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) > 0) {
            char buf[4096];
            while (read(d->ino_fd, buf, sizeof buf) > 0) {
            }
        }
    } else if (timeout_ms > 0) {
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    st_found_port *now = malloc(SCAN_MAX * sizeof *now);
    if (!now)
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory scanning ports");
    int n = hold_bare(d, now, scan_all(&d->cfg, now, SCAN_MAX));
    for (int i = 0; i < d->nprev && *n_left < cap; i++)
        if (!find_same(now, n, &d->prev[i]))
            left[(*n_left)++] = d->prev[i];
    for (int i = 0; i < n && *n_arrived < cap; i++)
        if (!find_same(d->prev, d->nprev, &now[i]))
            arrived[(*n_arrived)++] = now[i];
    memcpy(d->prev, now, n * sizeof *now);
    d->nprev = n;
    free(now);
    return 0;
}

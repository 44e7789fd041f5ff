/* port.c - backend choice by name, the public port API, and the read/write/error
 * helpers every backend shares (so timeouts and "device gone" look the same on a USB
 * bridge, a pseudo-terminal and a TCP socket). */
#include "port_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- naming ---------------------------------------------------------------------- */

const char *st_bridge_name(uint16_t vid, uint16_t pid)
{
    static const struct {
        uint16_t vid, pid;
        const char *name;
    } bridges[] = {
        {0x10c4, 0xea60, "CP2104"},   /* Silicon Labs CP210x family (M5Stack Fire) */
        {0x1a86, 0x55d4, "CH9102"},   /* WCH CH9102 (M5Stack Core2) */
        {0x1a86, 0x7523, "CH340"},
        {0x0403, 0x6001, "FTDI"},
        {0x0403, 0x6010, "FTDI"},
        {0x0403, 0x6014, "FTDI"},
        {0x0403, 0x6015, "FTDI"},
        {0x303a, 0x1001, "USB-JTAG"}, /* Espressif built-in USB-Serial/JTAG */
    };
    for (size_t i = 0; i < sizeof bridges / sizeof bridges[0]; i++)
        if (bridges[i].vid == vid && bridges[i].pid == pid)
            return bridges[i].name;
    return "";
}

bool st_port_name_is_pty(const char *name)
{
    char real[PATH_MAX];
    if (!realpath(name, real))
        return false;
    if (strncmp(real, "/dev/pts/", 9) == 0)
        return true;
    /* A devpts mounted elsewhere (containers): recognise the slave by its major number,
     * 136..143 for Unix98 pty slaves, 3 for legacy BSD ones. */
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISCHR(st.st_mode))
        return false;
    unsigned maj = major(st.st_rdev);
    return (maj >= 136 && maj <= 143) || maj == 3;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

void st_port_read_sidecar(st_port_info *info)
{
    char path[sizeof info->name + 8];
    snprintf(path, sizeof path, "%s.usb", info->name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        trim(line);
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        const char *key = line, *val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        if (strcmp(key, "vid") == 0)
            info->vid = (uint16_t)strtoul(val, NULL, 16);
        else if (strcmp(key, "pid") == 0)
            info->pid = (uint16_t)strtoul(val, NULL, 16);
        else if (strcmp(key, "serial") == 0)
            copy_str(info->serial, sizeof info->serial, val);
        else if (strcmp(key, "path") == 0)
            copy_str(info->usb_path, sizeof info->usb_path, val);
        else if (strcmp(key, "bridge") == 0)
            copy_str(info->bridge, sizeof info->bridge, val);
    }
    fclose(f);
    if (!info->bridge[0])
        copy_str(info->bridge, sizeof info->bridge, st_bridge_name(info->vid, info->pid));
}

bool st_tty_usb_path(const char *dev_path, char *out, size_t cap)
{
#ifdef __linux__
    /* /sys/class/tty/ttyUSB0/device -> .../usb1/1-1/1-1.3/1-1.3:1.0[/ttyUSB0]: the
     * interface directory is "<port path>:<config>.<interface>". */
    char real[PATH_MAX], link[PATH_MAX + 32], dev[PATH_MAX];
    if (!realpath(dev_path, real))
        return false;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    snprintf(link, sizeof link, "/sys/class/tty/%s/device", base);
    if (!realpath(link, dev))
        return false;
    for (char *slash; (slash = strrchr(dev, '/')) != NULL; *slash = 0) {
        const char *comp = slash + 1;
        const char *colon = strchr(comp, ':');
        if (colon && comp[0] >= '0' && comp[0] <= '9' && strchr(comp, '-') &&
            strchr(comp, '-') < colon) {
            snprintf(out, cap, "%.*s", (int)(colon - comp), comp);
            return true;
        }
    }
#endif
    (void)dev_path; (void)out; (void)cap;
    return false;
}

/* ---- errors ---------------------------------------------------------------------- */

static bool errno_means_gone(int e)
{
    switch (e) {
    case EIO: case ENXIO: case ENODEV: case EPIPE: case ECONNRESET: case ENOTCONN:
    case ESHUTDOWN:
        return true;
    default:
        return false;
    }
}

int st_port_sys_err(const st_port *p, st_err *err, st_phase ph, int e, const char *what)
{
    if (!err)
        return -1;
    if (errno_means_gone(e))
        return st_port_gone(p, err, e, what);
    const char *name = p->info.name;
    st_err_set(err, ST_E_IO, ph, "%s: %s failed: %s", name, what, strerror(e));
    err->fclass = ST_FC_IO;
    err->sys_errno = e;
    switch (e) {
    case ENOENT:
        err->cat = ST_E_GONE;
        err->fclass = ST_FC_VANISHED;
        return st_err_hint(err, "no device at %s: plug the unit in, or check the port name "
                                "(ls -l /dev/serial/by-path/)", name);
    case EACCES: case EPERM:
        return st_err_hint(err, "no permission to use %s: add your user to the dialout group "
                                "(sudo usermod -aG dialout $USER, then log in again)", name);
    case EBUSY:
        return st_err_hint(err, "another program has the port open (another station, esptool, "
                                "a serial monitor, ModemManager): close it (fuser -v %s)", name);
    case ETIMEDOUT:
        err->cat = ST_E_TIMEOUT;
        err->fclass = ST_FC_TIMEOUT;
        return st_err_hint(err, "%s", st_fclass_hint(ST_FC_TIMEOUT));
    case ENOTTY: case EINVAL:
        return st_err_hint(err, "%s does not accept this serial setting: check that it is a "
                                "serial port and that the bridge supports the requested baud "
                                "rate", name);
    default:
        return st_err_hint(err, "%s", st_fclass_hint(ST_FC_IO));
    }
}

int st_port_gone(const st_port *p, st_err *err, int e, const char *why)
{
    if (!err)
        return -1;
    if (e)
        st_err_set(err, ST_E_GONE, ST_PH_NONE, "%s: device gone (%s: %s)", p->info.name, why,
                   strerror(e));
    else
        st_err_set(err, ST_E_GONE, ST_PH_NONE, "%s: device gone (%s)", p->info.name, why);
    err->fclass = ST_FC_VANISHED;
    err->sys_errno = e;
    st_err_hint(err, "%s", st_fclass_hint(ST_FC_VANISHED));
    return -1;
}

int st_port_baud_refused(const st_port *p, st_err *err, int baud, int actual, int e,
                         const char *device)
{
    st_err_set(err, ST_E_IO, ST_PH_NONE, "%s: setting %d baud failed: the %s runs at %d baud "
               "instead", p->info.name, baud, device, actual);
    if (err) {
        err->fclass = ST_FC_BAUD_CHANGE;
        err->sys_errno = e;
    }
    return st_err_hint(err, "this %s cannot do %d baud: use a lower rate", device, baud);
}

/* ---- shared I/O -------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll() one fd until an event or the deadline; retries on EINTR with the time left.
 * Returns revents, 0 on timeout, -1 with errno. */
static int wait_fd(int fd, short events, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int left = -1;
        if (deadline >= 0) {
            int64_t l = deadline - now_ms();
            left = l < 0 ? 0 : (int)l;
        }
        int r = poll(&pfd, 1, left);
        if (r > 0)
            return pfd.revents ? pfd.revents : events;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

ssize_t st_port_fd_read(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err)
{
    if (p->fd < 0)
        return st_port_gone(p, err, 0, "port is closed");
    if (cap == 0)
        return 0;
    int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        int64_t left = deadline - now_ms();
        int rev = wait_fd(p->fd, POLLIN, left < 0 ? 0 : (int)left);
        if (rev < 0)
            return st_port_sys_err(p, err, ST_PH_NONE, errno, "poll");
        if (rev == 0)
            return 0;
        if (rev & POLLNVAL)
            return st_port_gone(p, err, EBADF, "poll");
        /* Readable or hung up: read anyway, so bytes that arrived before a hang-up are
         * delivered first and the hang-up is reported by the following call. */
        ssize_t r;
        do
            r = read(p->fd, buf, cap);
        while (r < 0 && errno == EINTR);
        if (r > 0) {
            p->bytes_in += (uint64_t)r;
            return r;
        }
        if (r == 0)
            return st_port_gone(p, err, 0, "end of file: the other side closed the port");
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return st_port_sys_err(p, err, ST_PH_NONE, errno, "read");
        if (rev & (POLLHUP | POLLERR))
            return st_port_gone(p, err, 0, "hang-up");
        /* Spurious wake-up: wait out the rest of the timeout. */
    }
}

int st_port_write_timeout_ms(const st_port *p, size_t n)
{
    int baud = p->baud > 0 ? p->baud : 115200;
    uint64_t ms = 2000 + (uint64_t)n * 10 * 1000 / (uint64_t)baud;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int st_port_fd_write(st_port *p, const uint8_t *buf, size_t n, st_err *err)
{
    int64_t deadline = now_ms() + st_port_write_timeout_ms(p, n);
    size_t off = 0;
    while (off < n) {
        ssize_t w = p->is_socket ? send(p->fd, buf + off, n - off, MSG_NOSIGNAL)
                                 : write(p->fd, buf + off, n - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return st_port_sys_err(p, err, ST_PH_NONE, errno, "write");
        int64_t left = deadline - now_ms();
        int rev = left > 0 ? wait_fd(p->fd, POLLOUT, (int)left) : 0;
        if (rev < 0)
            return st_port_sys_err(p, err, ST_PH_NONE, errno, "poll");
        if (rev == 0) {
            st_err_set(err, ST_E_TIMEOUT, ST_PH_NONE,
                       "%s: write timed out after %d ms with %zu of %zu bytes sent", p->info.name,
                       st_port_write_timeout_ms(p, n), off, n);
            if (err) {
                err->fclass = ST_FC_TIMEOUT;
                err->sys_errno = ETIMEDOUT;
            }
            return st_err_hint(err, "the port does not take data (flow control stuck, or the "
                                    "device stopped reading): reseat the cable");
        }
        if ((rev & (POLLERR | POLLHUP | POLLNVAL)) && !(rev & POLLOUT))
            return st_port_gone(p, err, 0, "hang-up while writing");
    }
    return 0;
}

void st_port_fd_drain(st_port *p)
{
    uint8_t junk[4096];
    /* Bounded so a device that never stops talking cannot hold us here. */
    for (int i = 0; i < 256; i++) {
        ssize_t r = p->is_socket ? recv(p->fd, junk, sizeof junk, MSG_DONTWAIT)
                                 : read(p->fd, junk, sizeof junk);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
    }
}

/* ---- tty helpers ----------------------------------------------------------------- */

bool st_tty_has_modem_lines(int fd)
{
    int bits;
    return ioctl(fd, TIOCMGET, &bits) == 0;
}

int st_tty_set_lines(int fd, bool dtr, bool rts)
{
    int bits;
    if (ioctl(fd, TIOCMGET, &bits) != 0)
        return -1;
    bits = dtr ? (bits | TIOCM_DTR) : (bits & ~TIOCM_DTR);
    bits = rts ? (bits | TIOCM_RTS) : (bits & ~TIOCM_RTS);
    return ioctl(fd, TIOCMSET, &bits);
}

int st_tty_lock(int fd)
{
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno == EWOULDBLOCK)
            errno = EBUSY;
        if (errno != EINTR)
            return -1;
    }
}

/* ---- public API -------------------------------------------------------------------- */

int st_port_open(const char *name, int baud, st_port **out, st_err *err)
{
    if (out)
        *out = NULL;
    if (!name || !*name || !out)
        return st_err_set(err, ST_E_ARG, ST_PH_OPEN, "st_port_open: no port name given");
    st_port tmp = {0};
    if (strlen(name) >= sizeof tmp.info.name) {
        st_err_set(err, ST_E_ARG, ST_PH_OPEN, "port name too long (%zu bytes): %.60s...",
                   strlen(name), name);
        return st_err_hint(err, "use a shorter path, e.g. the /dev/serial/by-path/ link");
    }
    if (baud <= 0) {
        st_err_set(err, ST_E_ARG, ST_PH_OPEN, "%s: invalid baud rate %d", name, baud);
        return st_err_hint(err, "give a positive baud rate such as 115200");
    }
    st_port *p = calloc(1, sizeof *p);
    if (!p)
        return st_err_set(err, ST_E_NOMEM, ST_PH_OPEN, "%s: out of memory", name);
    p->fd = -1;
    copy_str(p->info.name, sizeof p->info.name, name);

    int rc;
    if (strncmp(name, "socket://", 9) == 0) {
        p->info.kind = ST_PORT_TCP;
        rc = st_port_open_tcp(p, baud, err);
    } else if (strncmp(name, "rfc2217://", 10) == 0) {
        p->info.kind = ST_PORT_RFC2217;
        rc = st_port_open_rfc2217(p, baud, err);
    } else if (st_port_name_is_pty(name)) {
        /* libserialport 0.1.1 cannot open pseudo-terminals at all. */
        p->info.kind = ST_PORT_PTY;
        rc = st_port_open_termios(p, baud, true, err);
    } else {
        p->info.kind = ST_PORT_USB;
        rc = st_port_open_serial(p, baud, err);
    }
    if (rc != 0) {
        if (err)
            err->phase = ST_PH_OPEN;
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void st_port_close(st_port *p)
{
    if (!p)
        return;
    if (p->ops && p->ops->close)
        p->ops->close(p);
    free(p);
}

int st_port_write(st_port *p, const void *buf, size_t n, st_err *err)
{
    if (!p || (!buf && n))
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "st_port_write: no port or buffer");
    if (n == 0)
        return 0;
    if (p->fd < 0)
        return st_port_gone(p, err, 0, "port is closed");
    int rc = p->ops->write(p, buf, n, err);
    if (rc == 0)
        p->bytes_out += n;
    return rc;
}

ssize_t st_port_read(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err)
{
    if (!p || (!buf && cap))
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "st_port_read: no port or buffer");
    if (p->ops && p->ops->read && p->fd >= 0)
        return p->ops->read(p, buf, cap, timeout_ms, err);
    return st_port_fd_read(p, buf, cap, timeout_ms, err);
}

int st_port_set_baud(st_port *p, int baud, st_err *err)
{
    if (!p)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "st_port_set_baud: no port");
    if (baud <= 0) {
        st_err_set(err, ST_E_ARG, ST_PH_NONE, "%s: invalid baud rate %d", p->info.name, baud);
        return st_err_hint(err, "give a positive baud rate such as 115200");
    }
    if (p->fd < 0)
        return st_port_gone(p, err, 0, "port is closed");
    if (p->ops->set_baud(p, baud, err) != 0)
        return -1;
    p->baud = baud;
    return 0;
}

int st_port_get_baud(const st_port *p)
{
    return p ? p->baud : 0;
}

int st_port_set_lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    if (!p)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "st_port_set_lines: no port");
    if (!p->info.has_modem_lines)
        return 0; /* PTY/TCP: the simulator resets on close instead */
    if (p->fd < 0)
        return st_port_gone(p, err, 0, "port is closed");
    return p->ops->set_lines(p, dtr, rts, err);
}

void st_port_flush_input(st_port *p)
{
    if (p && p->fd >= 0)
        p->ops->flush_input(p);
}

const st_port_info *st_port_describe(const st_port *p)
{
    return p ? &p->info : NULL;
}

uint64_t st_port_bytes_out(const st_port *p)
{
    return p ? p->bytes_out : 0;
}

uint64_t st_port_bytes_in(const st_port *p)
{
    return p ? p->bytes_in : 0;
}

/* port_termios.c - POSIX termios backend: pseudo-terminals (the simulator), and any tty
 * libserialport refuses. Raw 8N1, no flow control, non-blocking fd driven by poll(). */
#include "port_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int tio_write(st_port *p, const uint8_t *buf, size_t n, st_err *err)
{
    return st_port_fd_write(p, buf, n, err);
}

static int tio_set_baud(st_port *p, int baud, st_err *err)
{
    if (st_tty_set_baud(p->fd, baud) == 0)
        return 0;
    int e = errno, actual = baud;
    if (e != ERANGE) {
        char what[48];
        snprintf(what, sizeof what, "setting %d baud", baud);
        return st_port_sys_err(p, err, ST_PH_NONE, e, what);
    }
    st_tty_check_baud(p->fd, baud, &actual);
    return st_port_baud_refused(p, err, baud, actual, e, "serial port");
}

static int tio_set_lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    if (st_tty_set_lines(p->fd, dtr, rts) == 0)
        return 0;
    return st_port_sys_err(p, err, ST_PH_NONE, errno, "setting DTR/RTS");
}

static void tio_flush_input(st_port *p)
{
    tcflush(p->fd, TCIFLUSH);
    /* On a pty the master's bytes reach the line discipline asynchronously; take
     * whatever slipped in behind the flush too. */
    st_port_fd_drain(p);
}

static void tio_close(st_port *p)
{
    if (p->fd >= 0)
        close(p->fd); /* last close of a pty slave hangs up the master: the simulator's reset */
    p->fd = -1;
}

static const struct st_port_ops termios_ops = {
    .write = tio_write,
    .set_baud = tio_set_baud,
    .set_lines = tio_set_lines,
    .flush_input = tio_flush_input,
    .close = tio_close,
};

/* Raw 8N1 without any flow control or line processing. */
static int make_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
    t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0; /* reads never block: poll() does the waiting */
    t.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSANOW, &t);
}

int st_port_open_termios(st_port *p, int baud, bool is_pty, st_err *err)
{
    p->fd = open(p->info.name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->fd < 0)
        return st_port_sys_err(p, err, ST_PH_OPEN, errno, "open");
    const char *what = NULL;
    if (!isatty(p->fd)) {
        errno = ENOTTY;
        what = "opening as a serial port";
    } else if (st_tty_lock(p->fd) != 0) {
        what = "locking";
    } else if (make_raw(p->fd) != 0) {
        what = "setting raw 8N1";
    } else if (st_tty_set_baud(p->fd, baud) != 0) {
        what = "setting the baud rate";
    }
    if (what) {
        int e = errno;
        st_port_sys_err(p, err, ST_PH_OPEN, e, what);
        if (err && e == ENOTTY)
            st_err_hint(err, "%s is not a serial port: check the port name", p->info.name);
        close(p->fd);
        p->fd = -1;
        return -1;
    }
    p->ops = &termios_ops;
    p->baud = baud;
    /* A pty has no DTR/RTS (TIOCMGET fails with ENOTTY/EINVAL): the simulator resets the
     * unit when the port is closed instead. */
    p->info.has_modem_lines = st_tty_has_modem_lines(p->fd);
    if (is_pty)
        st_port_read_sidecar(&p->info);
    else if (!p->info.usb_path[0])
        st_tty_usb_path(p->info.name, p->info.usb_path, sizeof p->info.usb_path);
    return 0;
}

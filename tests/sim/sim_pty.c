/* sim_pty.c - PTY transport. Linux facts this relies on (checked on 6.x kernels, see
 * README): the master reports POLLHUP only after the slave was opened and closed again
 * (not before its first open); raw termios set on the slave survive its close while the
 * master stays open; inotify reports IN_OPEN/IN_CLOSE_* on /dev/pts/N, which gives an
 * exact open count even when a host closes and reopens between two polls; data written
 * to the master and not read stays for the next opener unless flushed. */
#include "sim_port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <unistd.h>

static int write_file_atomic(const char *path, const char *text)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int pty_up(sim_port *p, const char *dir, int slot, const sim_usb_id *id, int inotify_fd,
           char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->kind = SIM_PORT_PTY;
    p->io = p->lfd = -1;
    p->wd = -1;
    p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->master < 0 || grantpt(p->master) || unlockpt(p->master) ||
        ptsname_r(p->master, p->slave, sizeof p->slave)) {
        snprintf(err, errlen, "pty: %s", strerror(errno));
        goto fail;
    }
    /* Open once to make it raw; closing it also arms the master's hang-up flag, so
     * "no host" looks the same before the first open and after a close. */
    int s = open(p->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        snprintf(err, errlen, "open %s: %s", p->slave, strerror(errno));
        goto fail;
    }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(s, TCSANOW, &t);
    }
    close(s);
    if (inotify_fd >= 0)
        p->wd = inotify_add_watch(inotify_fd, p->slave, IN_OPEN | IN_CLOSE);
    snprintf(p->link, sizeof p->link, "%s/slot%d", dir, slot);
    snprintf(p->side, sizeof p->side, "%s.usb", p->link);
    char text[256];
    snprintf(text, sizeof text, "vid=%04x\npid=%04x\nserial=%s\npath=1-1.%d\nbridge=%s\n", id->vid,
             id->pid, id->serial, id->slot, id->bridge);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.lnk", p->link);
    unlink(tmp);
    if (write_file_atomic(p->side, text) != 0 || symlink(p->slave, tmp) != 0 ||
        rename(tmp, p->link) != 0) {
        snprintf(err, errlen, "publish %s: %s", p->link, strerror(errno));
        unlink(tmp);
        unlink(p->side);
        goto fail;
    }
    p->up = true;
    return 0;
fail:
    if (p->wd >= 0 && inotify_fd >= 0)
        inotify_rm_watch(inotify_fd, p->wd);
    if (p->master >= 0)
        close(p->master);
    p->master = -1;
    return -1;
}

void pty_down(sim_port *p, int inotify_fd)
{
    if (!p->up)
        return;
    unlink(p->link);
    unlink(p->side);
    if (p->wd >= 0 && inotify_fd >= 0)
        inotify_rm_watch(inotify_fd, p->wd);
    close(p->master);
    p->master = p->io = -1;
    p->wd = -1;
    p->up = p->attached = false;
}

static int set_attached(sim_port *p, bool on)
{
    if (on == p->attached)
        return 0;
    p->attached = on;
    p->io = on ? p->master : -1;
    return on ? 1 : -1;
}

int pty_on_event(sim_port *p, int delta)
{
    p->opens += delta;
    if (p->opens < 0)
        p->opens = 0;
    return set_attached(p, p->opens > 0);
}

int pty_poll_state(sim_port *p)
{
    struct pollfd pf = {.fd = p->master, .events = POLLIN};
    if (poll(&pf, 1, 0) < 0)
        return 0;
    bool hup = (pf.revents & POLLHUP) != 0;
    if (hup)
        p->opens = 0;
    return set_attached(p, !hup);
}

void pty_flush(sim_port *p)
{
    if (p->master >= 0)
        tcflush(p->master, TCIOFLUSH);
}

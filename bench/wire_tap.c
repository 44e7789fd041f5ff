/* wire_tap.c - the --wrap interposers (see wire_tap.h). Each wrapper calls the real
 * function first, so the station sees exactly what it would see without the tap. */
#include "wire_tap.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
ssize_t __real_recv(int fd, void *buf, size_t n, int flags);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_close(int fd);

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_close(int fd);

#define MAX_FD 1024

static capture *g_cap;
static tap_stats g_st;
static struct timespec g_t0;
static signed char g_kind[MAX_FD]; /* 0 unknown, 1 port, -1 not a port */

double tap_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - g_t0.tv_sec) + (double)(t.tv_nsec - g_t0.tv_nsec) / 1e9;
}

void tap_start(capture *cap)
{
    clock_gettime(CLOCK_MONOTONIC, &g_t0);
    g_cap = cap;
    g_st = (tap_stats){0};
    for (int i = 0; i < MAX_FD; i++)
        g_kind[i] = 0;
}

void tap_stop(void) { g_cap = NULL; }

const tap_stats *tap_get_stats(void) { return &g_st; }

/* A port is a terminal other than 0..2 (the PTYs, USB serial) or a socket (TCP). The
 * first call on a new port descriptor is a (re)opened link: the unit starts at 115200. */
static bool is_port(int fd)
{
    if (!g_cap || fd < 0 || fd >= MAX_FD)
        return false;
    if (g_kind[fd] == 0) {
        int saved = errno;
        struct stat s;
        bool port = fstat(fd, &s) == 0 &&
                    (S_ISSOCK(s.st_mode) || (fd > 2 && S_ISCHR(s.st_mode) && isatty(fd)));
        errno = saved;
        g_kind[fd] = port ? 1 : -1;
        if (port) {
            g_st.opens++;
            cap_add(g_cap, 'c', tap_now(), NULL, 0);
        }
    }
    return g_kind[fd] == 1;
}

static void out_done(int fd, const void *buf, size_t n, ssize_t r)
{
    if (!is_port(fd))
        return;
    int saved = errno;
    g_st.writes++;
    if (r < 0 || (size_t)r < n)
        g_st.writes_short++;
    if (r < 0 && (saved == EAGAIN || saved == EWOULDBLOCK))
        g_st.writes_eagain++;
    if (r > 0)
        cap_add(g_cap, 'o', tap_now(), buf, (size_t)r);
    errno = saved;
}

static void in_done(int fd, const void *buf, size_t n, ssize_t r)
{
    if (!is_port(fd))
        return;
    int saved = errno;
    g_st.reads++;
    if (n == 1)
        g_st.reads_cap1++;
    if (r <= 0)
        g_st.reads_empty++;
    if (r == 1)
        g_st.reads_got1++;
    if (r > 0)
        cap_add(g_cap, 'i', tap_now(), buf, (size_t)r);
    errno = saved;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    ssize_t r = __real_write(fd, buf, n);
    out_done(fd, buf, n, r);
    return r;
}

ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
    ssize_t r = __real_send(fd, buf, n, flags);
    out_done(fd, buf, n, r);
    return r;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    ssize_t r = __real_read(fd, buf, n);
    in_done(fd, buf, n, r);
    return r;
}

ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
    ssize_t r = __real_recv(fd, buf, n, flags);
    in_done(fd, buf, n, r);
    return r;
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    bool port = false;
    for (nfds_t i = 0; i < n; i++)
        port = port || is_port(fds[i].fd);
    double t0 = port ? tap_now() : 0;
    int r = __real_poll(fds, n, timeout);
    if (port) {
        int saved = errno;
        g_st.polls++;
        g_st.poll_s += tap_now() - t0;
        errno = saved;
    }
    return r;
}

int __wrap_close(int fd)
{
    if (fd >= 0 && fd < MAX_FD)
        g_kind[fd] = 0; /* the number may come back as another file */
    return __real_close(fd);
}

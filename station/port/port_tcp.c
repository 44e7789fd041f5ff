/* port_tcp.c - raw TCP backend for "socket://HOST:PORT" (ser2net, emulated chips, the
 * simulator's --tcp mode). No modem lines; the baud rate is only recorded because the
 * far end decides the real line speed. */
#include "port_backend.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 5000

static int tcp_write(st_port *p, const uint8_t *buf, size_t n, st_err *err)
{
    return st_port_fd_write(p, buf, n, err);
}

static int tcp_set_baud(st_port *p, int baud, st_err *err)
{
    return 0;
}

static int tcp_set_lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    return 0;
}

static void tcp_flush_input(st_port *p)
{
    st_port_fd_drain(p);
}

static void tcp_close(st_port *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

static const struct st_port_ops tcp_ops = {
    .write = tcp_write,
    .set_baud = tcp_set_baud,
    .set_lines = tcp_set_lines,
    .flush_input = tcp_flush_input,
    .close = tcp_close,
};

/* "<scheme>HOST:PORT" or "<scheme>[v6addr]:PORT" -> host, port; false if malformed. */
static bool parse_name(const char *name, size_t scheme_len, char *host, size_t hcap, char *port,
                       size_t pcap)
{
    const char *s = name + scheme_len;
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= hcap)
        return false;
    const char *ps = colon + 1;
    char *end;
    long v = strtol(ps, &end, 10);
    if (*ps == 0 || *end != 0 || v < 1 || v > 65535 || strlen(ps) >= pcap)
        return false;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    snprintf(port, pcap, "%ld", v);
    return true;
}

/* Non-blocking connect bounded by CONNECT_TIMEOUT_MS; 0 or -1 with errno. */
static int connect_one(int fd, const struct addrinfo *ai)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return -1;
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int r;
    do
        r = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        return -1;
    if (soerr) {
        errno = soerr;
        return -1;
    }
    return 0;
}

int st_port_tcp_connect(st_port *p, const char *scheme, st_err *err)
{
    char host[200], port[8];
    if (!parse_name(p->info.name, strlen(scheme), host, sizeof host, port, sizeof port)) {
        st_err_set(err, ST_E_ARG, ST_PH_OPEN, "%s: not a valid %sHOST:PORT address",
                   p->info.name, scheme);
        if (err)
            err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "write it as %sHOST:PORT, e.g. %s127.0.0.1:4000", scheme, scheme);
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        st_err_set(err, ST_E_IO, ST_PH_OPEN, "%s: cannot resolve host \"%s\": %s", p->info.name,
                   host, gai_strerror(g));
        if (err) {
            err->fclass = ST_FC_IO;
            err->sys_errno = g == EAI_SYSTEM ? errno : 0;
        }
        return st_err_hint(err, "check the host name in the port address");
    }
    int last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect_one(fd, ai) == 0) {
            p->fd = fd;
            break;
        }
        last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (p->fd < 0) {
        char what[260];
        snprintf(what, sizeof what, "connecting to %s port %s", host, port);
        st_port_sys_err(p, err, ST_PH_OPEN, last, what);
        if (err && last == ECONNREFUSED) {
            /* Not "gone": nothing was ever there. */
            err->cat = ST_E_IO;
            err->fclass = ST_FC_IO;
            st_err_hint(err, "nothing is listening on %s port %s: start the simulator or ser2net, "
                             "or check host and port", host, port);
        }
        return -1;
    }
    /* Frames are small and latency-bound: never let Nagle hold one back. */
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->is_socket = true;
    return 0;
}

int st_port_open_tcp(st_port *p, int baud, st_err *err)
{
    if (st_port_tcp_connect(p, "socket://", err) < 0)
        return -1;
    p->ops = &tcp_ops;
    p->baud = baud;
    p->info.has_modem_lines = false;
    return 0;
}

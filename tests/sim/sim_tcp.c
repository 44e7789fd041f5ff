/* sim_tcp.c - TCP transport: one listener per slot on 127.0.0.1, one host at a time.
 * The RFC 2217 transport uses the same listener (its protocol is in sim_rfc2217.c). */
#include "sim_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tcp_up(sim_port *p, const char *dir, int slot, int port, sim_port_kind kind, char *err,
           size_t errlen)
{
    bool rfc = kind == SIM_PORT_RFC2217;
    memset(p, 0, sizeof *p);
    p->kind = rfc ? SIM_PORT_RFC2217 : SIM_PORT_TCP;
    rfc_reset_session(&p->rfc); /* adapter at 115200, 8N1, lines released */
    p->io = p->master = -1;
    p->wd = -1;
    p->port = port;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->lfd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(p->lfd, 4) != 0) {
        snprintf(err, errlen, "listen 127.0.0.1:%d: %s", port, strerror(errno));
        close(p->lfd);
        p->lfd = -1;
        return -1;
    }
    snprintf(p->side, sizeof p->side, "%s/slot%d.%s", dir, slot, rfc ? "rfc2217" : "tcp");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->side);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s://127.0.0.1:%d\n", rfc ? "rfc2217" : "socket", port) < 0 || fclose(f) != 0 ||
        rename(tmp, p->side) != 0) {
        snprintf(err, errlen, "write %s: %s", p->side, strerror(errno));
        close(p->lfd);
        p->lfd = -1;
        return -1;
    }
    p->up = true;
    return 0;
}

void tcp_detach(sim_port *p)
{
    if (p->io >= 0)
        close(p->io);
    p->io = -1;
    p->attached = false;
}

void tcp_down(sim_port *p)
{
    if (!p->up)
        return;
    unlink(p->side);
    tcp_detach(p);
    close(p->lfd);
    p->lfd = -1;
    p->up = false;
    rfc_free(&p->rfc);
}

bool tcp_peer_gone(const sim_port *p)
{
    if (!p->attached || p->io < 0)
        return false;
    char b;
    ssize_t n = recv(p->io, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int tcp_accept(sim_port *p)
{
    int c = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return 0;
    if (p->attached) { /* a serial port has one owner */
        close(c);
        return 0;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->io = c;
    p->attached = true;
    if (p->kind == SIM_PORT_RFC2217)
        rfc_reset_session(&p->rfc);
    return 1;
}

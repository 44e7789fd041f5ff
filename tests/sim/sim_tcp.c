/* sim_tcp.c - TCP transport: one listener per slot on 127.0.0.1, one host at a time. */
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

int tcp_up(sim_port *p, const char *dir, int slot, int port, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->kind = SIM_PORT_TCP;
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
    snprintf(p->side, sizeof p->side, "%s/slot%d.tcp", dir, slot);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->side);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "socket://127.0.0.1:%d\n", port) < 0 || fclose(f) != 0 ||
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
    return 1;
}

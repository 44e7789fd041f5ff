/* test_sim_util.c - see test_sim_util.h. */
#include "test_sim_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "esp_proto.h"

int t_failures;
const char *t_sim_path;

const uint8_t SYNC_PAYLOAD[36] = {0x07, 0x07, 0x12, 0x20, 0x55, 0x55, 0x55, 0x55, 0x55,
                                  0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                  0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                  0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};

void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int sim_start(simproc *s, const char *const *args)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/esp32sim-test-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = t_sim_path;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--quiet";
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        execv(t_sim_path, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        if (access(sim_path(s, "ready"), F_OK) == 0)
            return 0;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        msleep(10);
    }
    return -1;
}

void sim_stop(simproc *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        waitpid(s->pid, &st, 0);
        s->pid = 0;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

const char *sim_path(const simproc *s, const char *name)
{
    static char p[4][400];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", s->dir, name);
    return p[i];
}

int conn_open(conn *c, const simproc *s, int slot, int port)
{
    memset(c, 0, sizeof *c);
    if (slip_dec_init(&c->dec, sizeof c->frame) != 0)
        return -1;
    if (port > 0) {
        c->tcp = true;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
            return -1;
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return 0;
    }
    char name[32];
    snprintf(name, sizeof name, "slot%d", slot);
    c->fd = open(sim_path(s, name), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->fd < 0)
        return -1;
    struct termios t;
    if (tcgetattr(c->fd, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(c->fd, TCSANOW, &t);
    }
    return 0;
}

void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    slip_dec_free(&c->dec);
}

size_t conn_fill(conn *c, size_t n, int ms)
{
    while (c->plen < n && c->plen < sizeof c->pend) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, ms);
        if (r <= 0)
            break;
        ssize_t k = read(c->fd, c->pend + c->plen, sizeof c->pend - c->plen);
        if (k <= 0)
            break;
        c->plen += (size_t)k;
    }
    return c->plen;
}

static void consume(conn *c, size_t n)
{
    memmove(c->pend, c->pend + n, c->plen - n);
    c->plen -= n;
}

int conn_raw(conn *c, uint8_t *out, size_t n, int ms)
{
    if (conn_fill(c, n, ms) < n)
        return -1;
    memcpy(out, c->pend, n);
    consume(c, n);
    return 0;
}

size_t conn_drain(conn *c, int ms)
{
    size_t total = c->plen;
    c->plen = 0;
    for (;;) {
        size_t got = conn_fill(c, 1, ms);
        if (got == 0)
            break;
        total += got;
        c->plen = 0;
    }
    slip_dec_reset(&c->dec);
    return total;
}

int conn_frame(conn *c, int ms)
{
    for (;;) {
        if (c->plen) {
            size_t used = 0;
            int r = slip_dec_feed(&c->dec, c->pend, c->plen, &used);
            consume(c, used);
            if (r == 1) {
                c->flen = c->dec.len;
                memcpy(c->frame, c->dec.buf, c->flen);
                return 1;
            }
        }
        size_t before = c->plen;
        if (conn_fill(c, before + 1, ms) == before)
            return 0;
    }
}

size_t conn_text(conn *c, char *out, size_t cap, const char *until, int ms)
{
    size_t n = 0;
    out[0] = 0;
    while (n + 1 < cap) {
        if (conn_fill(c, 1, ms) == 0)
            break;
        out[n++] = (char)c->pend[0];
        out[n] = 0;
        consume(c, 1);
        if (until && strstr(out, until))
            break;
    }
    return n;
}

void send_raw(conn *c, const void *d, size_t n)
{
    const uint8_t *p = d;
    while (n) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                msleep(1);
                continue;
            }
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void send_cmd(conn *c, uint8_t op, const void *data, size_t n, uint32_t chk)
{
    uint8_t *pkt = malloc(8 + n), *enc = malloc(SLIP_ENCODED_MAX(8 + n));
    pkt[0] = 0;
    pkt[1] = op;
    esp_put16(pkt + 2, (uint16_t)n);
    esp_put32(pkt + 4, chk);
    if (n)
        memcpy(pkt + 8, data, n);
    size_t e = slip_encode(pkt, 8 + n, enc);
    send_raw(c, enc, e);
    free(pkt);
    free(enc);
}

void send_data(conn *c, uint8_t op, const void *data, size_t n, uint32_t seq)
{
    uint8_t *p = malloc(16 + n);
    esp_put32(p, (uint32_t)n);
    esp_put32(p + 4, seq);
    memset(p + 8, 0, 8);
    memcpy(p + 16, data, n);
    send_cmd(c, op, p, 16 + n, esp_checksum(data, n));
    free(p);
}

void send_words(conn *c, uint8_t op, int nw, const uint32_t *w)
{
    uint8_t b[64];
    for (int i = 0; i < nw; i++)
        esp_put32(b + 4 * i, w[i]);
    send_cmd(c, op, b, (size_t)nw * 4, 0);
}

size_t hexb(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        while (*s == ' ' || *s == '|')
            s++;
        if (!*s)
            break;
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

bool expect_raw(conn *c, const uint8_t *exp, size_t n, int ms)
{
    uint8_t got[4096];
    if (n > sizeof got)
        return false;
    size_t have = conn_fill(c, n, ms);
    size_t m = have < n ? have : n;
    memcpy(got, c->pend, m);
    bool ok = have >= n && memcmp(got, exp, n) == 0;
    if (!ok) {
        fprintf(stderr, "expected:");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02X", exp[i]);
        fprintf(stderr, "\n     got:");
        for (size_t i = 0; i < m; i++)
            fprintf(stderr, " %02X", got[i]);
        fprintf(stderr, "%s\n", have < n ? " (short)" : "");
    }
    consume(c, m);
    return ok;
}

bool expect_raw_hex(conn *c, const char *hex, int ms)
{
    uint8_t exp[4096];
    size_t n = hexb(hex, exp);
    return expect_raw(c, exp, n, ms);
}

void md5_of(const void *d, size_t n, uint8_t out[16])
{
    unsigned int l = 16;
    EVP_Digest(d, n, out, &l, EVP_md5(), NULL);
}

void fill_data(uint8_t *d, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        /* runs of text-like bytes compress; the random ones keep the stream long */
        d[i] = (i / 64) % 3 == 0 ? (uint8_t)('a' + (i % 26)) : (uint8_t)x;
    }
}

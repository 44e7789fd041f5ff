/* port_rfc2217.c - "rfc2217://HOST:PORT": a serial port behind an RFC 2217 (Telnet COM
 * Port Control) server such as ser2net in telnet mode, pyserial's or esptool's
 * rfc2217 servers, or the simulator's --rfc2217 mode.
 *
 * Facts used (RFC 854, 856, 858, 2217, and what pyserial's client does): the client offers
 * WILL COM-PORT-OPTION (44) and BINARY both ways and SGA; the server accepts with DO 44.
 * Data bytes 0xFF travel doubled (IAC IAC) in both directions. Settings are
 * subnegotiations IAC SB 44 <code> <value> IAC SE (SET-BAUDRATE 1 with a 4-byte big-endian
 * rate, SET-DATASIZE 2, SET-PARITY 3 (1 = none), SET-STOPSIZE 4, SET-CONTROL 5 with 1 = no
 * flow control, 8/9 DTR on/off, 11/12 RTS on/off); the server answers each with code + 100
 * and the value now in force.
 *
 * DTR and RTS: pyserial waits for each answer before the next change (it polls every
 * 50 ms), which is too slow for the ESP32 auto-reset circuit: EN is released with GPIO0
 * still high and the chip boots its app (esptool issue #383). Here one st_port_set_lines
 * sends both SET-CONTROLs in one TCP segment and then waits for both answers, so the two
 * edges reach the adapter back to back, as one TIOCMSET does on a local port. */
#include "port_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { T_SE = 240, T_SB = 250, T_WILL = 251, T_WONT = 252, T_DO = 253, T_DONT = 254, T_IAC = 255 };
enum { OPT_BINARY = 0, OPT_SGA = 3, OPT_COM_PORT = 44 };
enum { ST_DATA, ST_IAC, ST_OPT, ST_SB, ST_SB_IAC };
enum {
    CP_SET_BAUDRATE = 1, CP_SET_DATASIZE = 2, CP_SET_PARITY = 3, CP_SET_STOPSIZE = 4,
    CP_SET_CONTROL = 5, CP_SERVER = 100,
};
enum { CTL_NO_FLOW = 1, CTL_DTR_ON = 8, CTL_DTR_OFF = 9, CTL_RTS_ON = 11, CTL_RTS_OFF = 12 };

#define ANSWER_TIMEOUT_MS 3000 /* for negotiation and each setting's answer */
#define PEND_CAP (1 << 16)

typedef struct rfc {
    int st;                  /* telnet receive state */
    uint8_t opt_cmd;
    uint8_t sb[64];
    size_t sb_len;
    bool asked[256];         /* options we offered (WILL) or requested (DO) ourselves */
    bool com_port;           /* the server answered DO COM-PORT-OPTION */
    bool com_port_refused;   /* ... or DONT */
    /* answers to settings, counted so a waiter knows a new one came */
    unsigned answers[16];    /* per client code */
    uint32_t last_baud;
    uint8_t last_value[16];  /* last one-byte answer per code */
    uint8_t ctl_answers[4];  /* SET-CONTROL answers since the last set_lines */
    unsigned nctl;
    uint8_t *wbuf;           /* outgoing data with IAC doubled */
    size_t wcap;
    uint8_t pend[PEND_CAP];  /* device data decoded, not yet read */
    size_t pend_off, pend_len;
} rfc;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_bytes(st_port *p, const uint8_t *b, size_t n, st_err *err)
{
    return st_port_fd_write(p, b, n, err);
}

static int send_opt(st_port *p, uint8_t verb, uint8_t opt, st_err *err)
{
    uint8_t b[3] = {T_IAC, verb, opt};
    return send_bytes(p, b, 3, err);
}

/* IAC SB 44 code value... IAC SE into out (value IAC doubled); returns the length. */
static size_t sb_encode(uint8_t *out, uint8_t code, const uint8_t *v, size_t n)
{
    size_t k = 0;
    out[k++] = T_IAC;
    out[k++] = T_SB;
    out[k++] = OPT_COM_PORT;
    out[k++] = code;
    for (size_t i = 0; i < n; i++) {
        out[k++] = v[i];
        if (v[i] == T_IAC)
            out[k++] = T_IAC;
    }
    out[k++] = T_IAC;
    out[k++] = T_SE;
    return k;
}

static void pend_put(rfc *r, uint8_t b)
{
    if (r->pend_off + r->pend_len == PEND_CAP && r->pend_off) {
        memmove(r->pend, r->pend + r->pend_off, r->pend_len);
        r->pend_off = 0;
    }
    if (r->pend_off + r->pend_len < PEND_CAP)
        r->pend[r->pend_off + r->pend_len++] = b;
}

static void on_answer(rfc *r, const uint8_t *s, size_t n)
{
    if (n < 1 || s[0] < CP_SERVER || s[0] >= CP_SERVER + 16)
        return; /* notifications (106/107) and foreign options: nothing to do */
    unsigned code = s[0] - CP_SERVER;
    if (code == CP_SET_BAUDRATE && n >= 5)
        r->last_baud = (uint32_t)s[1] << 24 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 8 | s[4];
    else if (n >= 2)
        r->last_value[code] = s[1];
    if (code == CP_SET_CONTROL && n >= 2 && r->nctl < sizeof r->ctl_answers)
        r->ctl_answers[r->nctl++] = s[1];
    r->answers[code]++;
}

/* The server's option negotiation: accept what we offered, refuse everything else, and
 * answer only requests we did not make ourselves (no negotiation loops, RFC 854). */
static int on_option(st_port *p, rfc *r, uint8_t verb, uint8_t opt, st_err *err)
{
    bool ours = opt == OPT_COM_PORT || opt == OPT_BINARY || opt == OPT_SGA;
    if (opt == OPT_COM_PORT && verb == T_DO)
        r->com_port = true;
    if (opt == OPT_COM_PORT && verb == T_DONT)
        r->com_port_refused = true;
    if (verb == T_DO || verb == T_WILL) {
        if (!ours)
            return send_opt(p, verb == T_DO ? T_WONT : T_DONT, opt, err);
        if (!r->asked[opt]) {
            r->asked[opt] = true;
            return send_opt(p, verb == T_DO ? T_WILL : T_DO, opt, err);
        }
    }
    return 0;
}

/* Read what the socket has (waiting at most timeout_ms for it) and decode it: data into
 * pend, answers and negotiation handled. Count of raw bytes, 0 on timeout, -1 with err. */
static ssize_t pump(st_port *p, int timeout_ms, st_err *err)
{
    rfc *r = p->rfc;
    uint8_t raw[4096];
    size_t room = PEND_CAP - r->pend_len;
    if (room == 0)
        return 0; /* the caller has not read its data: nothing new can be taken */
    ssize_t n = st_port_fd_read(p, raw, room < sizeof raw ? room : sizeof raw, timeout_ms, err);
    if (n <= 0)
        return n;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t b = raw[i];
        switch (r->st) {
        case ST_DATA:
            if (b == T_IAC)
                r->st = ST_IAC;
            else
                pend_put(r, b);
            break;
        case ST_IAC:
            if (b == T_IAC) {
                pend_put(r, b);
                r->st = ST_DATA;
            } else if (b >= T_WILL) {
                r->opt_cmd = b;
                r->st = ST_OPT;
            } else if (b == T_SB) {
                r->sb_len = 0;
                r->st = ST_SB;
            } else {
                r->st = ST_DATA;
            }
            break;
        case ST_OPT:
            r->st = ST_DATA;
            if (on_option(p, r, r->opt_cmd, b, err) < 0)
                return -1;
            break;
        case ST_SB:
            if (b == T_IAC)
                r->st = ST_SB_IAC;
            else if (r->sb_len < sizeof r->sb)
                r->sb[r->sb_len++] = b;
            break;
        case ST_SB_IAC:
            if (b == T_IAC) {
                if (r->sb_len < sizeof r->sb)
                    r->sb[r->sb_len++] = b;
                r->st = ST_SB;
            } else {
                if (b == T_SE && r->sb_len >= 1 && r->sb[0] == OPT_COM_PORT)
                    on_answer(r, r->sb + 1, r->sb_len - 1);
                r->st = ST_DATA;
            }
            break;
        }
    }
    return n;
}

static int no_answer(st_port *p, st_err *err, const char *what)
{
    st_err_set(err, ST_E_IO, ST_PH_NONE, "%s: the RFC 2217 server did not answer %s within %d ms",
               p->info.name, what, ANSWER_TIMEOUT_MS);
    if (err) {
        err->fclass = ST_FC_IO;
        err->sys_errno = ETIMEDOUT;
    }
    return st_err_hint(err, "check that the far end is an RFC 2217 server (ser2net: telnet "
                            "mode with remctl); a raw TCP serial server is socket://HOST:PORT");
}

/* Pump until *counter passes `start` (an answer came) or the timeout. 0 or -1 with err. */
static int await_answer(st_port *p, const unsigned *counter, unsigned start, const char *what,
                        st_err *err)
{
    int64_t end = mono_ms() + ANSWER_TIMEOUT_MS;
    while (*counter == start) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return no_answer(p, err, what);
        if (pump(p, (int)left, err) < 0)
            return -1;
    }
    return 0;
}

static int set_setting(st_port *p, uint8_t code, const uint8_t *v, size_t n, const char *what,
                       st_err *err)
{
    rfc *r = p->rfc;
    uint8_t msg[32];
    size_t k = sb_encode(msg, code, v, n);
    unsigned start = r->answers[code];
    if (send_bytes(p, msg, k, err) < 0)
        return -1;
    return await_answer(p, &r->answers[code], start, what, err);
}

static ssize_t rfc_read(st_port *p, void *buf, size_t cap, int timeout_ms, st_err *err)
{
    rfc *r = p->rfc;
    int64_t end = mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    while (r->pend_len == 0) {
        int64_t left = end - mono_ms();
        ssize_t n = pump(p, left < 0 ? 0 : (int)left, err);
        if (n < 0)
            return -1;
        if (n == 0 && r->pend_len == 0)
            return 0; /* timed out (a read of only Telnet commands waits on) */
    }
    size_t k = r->pend_len < cap ? r->pend_len : cap;
    memcpy(buf, r->pend + r->pend_off, k);
    r->pend_off += k;
    r->pend_len -= k;
    if (r->pend_len == 0)
        r->pend_off = 0;
    return (ssize_t)k;
}

static int rfc_write(st_port *p, const uint8_t *buf, size_t n, st_err *err)
{
    rfc *r = p->rfc;
    if (2 * n > r->wcap) {
        uint8_t *nb = realloc(r->wbuf, 2 * n);
        if (!nb)
            return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "%s: out of memory", p->info.name);
        r->wbuf = nb;
        r->wcap = 2 * n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        r->wbuf[k++] = buf[i];
        if (buf[i] == T_IAC)
            r->wbuf[k++] = T_IAC;
    }
    return send_bytes(p, r->wbuf, k, err);
}

static int rfc_set_baud(st_port *p, int baud, st_err *err)
{
    rfc *r = p->rfc;
    uint32_t b = (uint32_t)baud;
    uint8_t v[4] = {(uint8_t)(b >> 24), (uint8_t)(b >> 16), (uint8_t)(b >> 8), (uint8_t)b};
    if (set_setting(p, CP_SET_BAUDRATE, v, 4, "SET-BAUDRATE", err) < 0)
        return -1;
    if (r->last_baud != b)
        return st_port_baud_refused(p, err, baud, (int)r->last_baud, 0, "serial server");
    return 0;
}

static int rfc_set_lines(st_port *p, bool dtr, bool rts, st_err *err)
{
    rfc *r = p->rfc;
    uint8_t want[2] = {dtr ? CTL_DTR_ON : CTL_DTR_OFF, rts ? CTL_RTS_ON : CTL_RTS_OFF};
    uint8_t msg[32];
    size_t k = sb_encode(msg, CP_SET_CONTROL, &want[0], 1);
    k += sb_encode(msg + k, CP_SET_CONTROL, &want[1], 1);
    r->nctl = 0;
    unsigned start = r->answers[CP_SET_CONTROL];
    if (send_bytes(p, msg, k, err) < 0)
        return -1;
    while (r->answers[CP_SET_CONTROL] - start < 2)
        if (await_answer(p, &r->answers[CP_SET_CONTROL], r->answers[CP_SET_CONTROL],
                         "SET-CONTROL (DTR/RTS)", err) < 0)
            return -1;
    if (r->nctl >= 2 && (r->ctl_answers[0] != want[0] || r->ctl_answers[1] != want[1])) {
        st_err_set(err, ST_E_IO, ST_PH_NONE,
                   "%s: the RFC 2217 server refused DTR=%d RTS=%d (answered %u, %u)",
                   p->info.name, dtr, rts, r->ctl_answers[0], r->ctl_answers[1]);
        if (err)
            err->fclass = ST_FC_IO;
        return st_err_hint(err, "enable modem control on the serial server (ser2net: the "
                                "remctl option), or flash with --no-reset");
    }
    return 0;
}

static void rfc_flush_input(st_port *p)
{
    rfc *r = p->rfc;
    st_err e;
    /* Bounded: a device that never stops talking cannot hold us here. */
    for (int i = 0; i < 64; i++) {
        r->pend_len = r->pend_off = 0;
        if (pump(p, 0, &e) <= 0)
            break;
    }
    r->pend_len = r->pend_off = 0;
}

static void rfc_close(st_port *p)
{
    if (p->rfc)
        free(((rfc *)p->rfc)->wbuf);
    free(p->rfc);
    p->rfc = NULL;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

static const struct st_port_ops rfc_ops = {
    .read = rfc_read,
    .write = rfc_write,
    .set_baud = rfc_set_baud,
    .set_lines = rfc_set_lines,
    .flush_input = rfc_flush_input,
    .close = rfc_close,
};

/* Offer COM-PORT-OPTION, BINARY and SGA; the server must accept COM-PORT-OPTION. */
static int negotiate(st_port *p, st_err *err)
{
    rfc *r = p->rfc;
    static const uint8_t offer[][2] = {{T_WILL, OPT_COM_PORT}, {T_WILL, OPT_BINARY},
                                       {T_DO, OPT_BINARY},     {T_WILL, OPT_SGA},
                                       {T_DO, OPT_SGA}};
    uint8_t msg[3 * sizeof offer / sizeof offer[0]];
    size_t k = 0;
    for (size_t i = 0; i < sizeof offer / sizeof offer[0]; i++) {
        msg[k++] = T_IAC;
        msg[k++] = offer[i][0];
        msg[k++] = offer[i][1];
    }
    /* Offers both ways of one option share `asked`: the answers to ours need no reply. */
    r->asked[OPT_COM_PORT] = r->asked[OPT_BINARY] = r->asked[OPT_SGA] = true;
    if (send_bytes(p, msg, k, err) < 0)
        return -1;
    int64_t end = mono_ms() + ANSWER_TIMEOUT_MS;
    while (!r->com_port && !r->com_port_refused) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return no_answer(p, err, "the Telnet COM-PORT-OPTION offer");
        if (pump(p, (int)left, err) < 0)
            return -1;
    }
    if (r->com_port_refused) {
        st_err_set(err, ST_E_IO, ST_PH_NONE,
                   "%s: the Telnet server refused COM-PORT-OPTION (RFC 2217)", p->info.name);
        if (err)
            err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "enable RFC 2217 on the server (ser2net: telnet mode with "
                                "remctl), or use socket://HOST:PORT for a raw TCP port");
    }
    return 0;
}

int st_port_open_rfc2217(st_port *p, int baud, st_err *err)
{
    if (st_port_tcp_connect(p, "rfc2217://", err) < 0)
        return -1;
    p->rfc = calloc(1, sizeof(rfc));
    if (!p->rfc) {
        rfc_close(p);
        return st_err_set(err, ST_E_NOMEM, ST_PH_OPEN, "%s: out of memory", p->info.name);
    }
    p->ops = &rfc_ops;
    p->info.has_modem_lines = true;
    /* 8N1, no flow control, then the rate. The lines are left as they are: opening a
     * serial port must not reset the unit behind it. */
    static const uint8_t eight = 8, none = 1, one = 1, no_flow = CTL_NO_FLOW;
    if (negotiate(p, err) < 0 ||
        set_setting(p, CP_SET_DATASIZE, &eight, 1, "SET-DATASIZE", err) < 0 ||
        set_setting(p, CP_SET_PARITY, &none, 1, "SET-PARITY", err) < 0 ||
        set_setting(p, CP_SET_STOPSIZE, &one, 1, "SET-STOPSIZE", err) < 0 ||
        set_setting(p, CP_SET_CONTROL, &no_flow, 1, "SET-CONTROL (flow control)", err) < 0 ||
        rfc_set_baud(p, baud, err) < 0) {
        rfc_close(p);
        return -1;
    }
    p->baud = baud;
    return 0;
}

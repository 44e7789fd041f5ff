/* sim_rfc2217.c - RFC 2217 access-server protocol (see sim_rfc2217.h). Facts: RFC 854
 * (Telnet), RFC 856 (BINARY), RFC 858 (SGA), RFC 2217 (COM-PORT-OPTION 44: client codes
 * 0-12, server answers code + 100 with the value now in force; SET-CONTROL 8/9 DTR on/off,
 * 11/12 RTS on/off, 7/10 queries; value 0 of SET-BAUDRATE/-DATASIZE/-PARITY/-STOPSIZE is a
 * query). pyserial's client waits for every answer and rejects one whose value differs. */
#include "sim_rfc2217.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_faults.h"

enum { T_SE = 240, T_SB = 250, T_WILL = 251, T_WONT = 252, T_DO = 253, T_DONT = 254, T_IAC = 255 };
enum { OPT_BINARY = 0, OPT_SGA = 3, OPT_COM_PORT = 44 };
enum { ST_DATA, ST_IAC, ST_OPT, ST_SB, ST_SB_IAC };
enum {
    CP_SIGNATURE = 0, CP_SET_BAUDRATE = 1, CP_SET_DATASIZE = 2, CP_SET_PARITY = 3,
    CP_SET_STOPSIZE = 4, CP_SET_CONTROL = 5, CP_NOTIFY_LINESTATE = 6, CP_NOTIFY_MODEMSTATE = 7,
    CP_FLOWCONTROL_SUSPEND = 8, CP_FLOWCONTROL_RESUME = 9, CP_SET_LINESTATE_MASK = 10,
    CP_SET_MODEMSTATE_MASK = 11, CP_PURGE_DATA = 12, CP_SERVER = 100,
};

static void out_raw(sim_rfc *r, const uint8_t *d, size_t n)
{
    if (r->out_len + n > r->out_cap) {
        size_t cap = r->out_cap ? r->out_cap : 4096;
        while (cap < r->out_len + n)
            cap *= 2;
        uint8_t *nb = realloc(r->out, cap);
        if (!nb)
            abort();
        r->out = nb;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, d, n);
    r->out_len += n;
}

static void send_opt(sim_rfc *r, uint8_t verb, uint8_t opt)
{
    uint8_t b[3] = {T_IAC, verb, opt};
    out_raw(r, b, 3);
}

/* IAC SB COM-PORT-OPTION <code+100> <value, IAC doubled> IAC SE */
static void send_sb(sim_rfc *r, uint8_t code, const uint8_t *v, size_t n)
{
    uint8_t head[4] = {T_IAC, T_SB, OPT_COM_PORT, (uint8_t)(code + CP_SERVER)};
    out_raw(r, head, 4);
    for (size_t i = 0; i < n; i++) {
        out_raw(r, &v[i], 1);
        if (v[i] == T_IAC)
            out_raw(r, &v[i], 1);
    }
    uint8_t tail[2] = {T_IAC, T_SE};
    out_raw(r, tail, 2);
}

static void send_sb1(sim_rfc *r, uint8_t code, uint8_t v)
{
    send_sb(r, code, &v, 1);
}

void rfc_reset_session(sim_rfc *r)
{
    r->st = ST_DATA;
    r->sb_len = 0;
    memset(r->us, 0, sizeof r->us);
    memset(r->him, 0, sizeof r->him);
    r->out_len = 0;
    if (!r->baud)
        r->baud = 115200;
    if (!r->datasize) {
        r->datasize = 8;
        r->parity = 1;
        r->stopsize = 1;
        r->flow = 1;
    }
}

void rfc_free(sim_rfc *r)
{
    free(r->out);
    r->out = NULL;
    r->out_len = r->out_cap = 0;
}

static bool supported(uint8_t opt)
{
    return opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COM_PORT;
}

/* Answer only state changes, so two sides that both answer never loop (RFC 854). */
static void negotiate(sim_rfc *r, uint8_t verb, uint8_t opt)
{
    switch (verb) {
    case T_WILL:
        if (!supported(opt))
            send_opt(r, T_DONT, opt);
        else if (!r->him[opt]) {
            r->him[opt] = true;
            send_opt(r, T_DO, opt);
        }
        break;
    case T_WONT:
        if (r->him[opt]) {
            r->him[opt] = false;
            send_opt(r, T_DONT, opt);
        }
        break;
    case T_DO:
        if (!supported(opt))
            send_opt(r, T_WONT, opt);
        else if (!r->us[opt]) {
            r->us[opt] = true;
            send_opt(r, T_WILL, opt);
        }
        break;
    case T_DONT:
        if (r->us[opt]) {
            r->us[opt] = false;
            send_opt(r, T_WONT, opt);
        }
        break;
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_control(sim_rfc *r, uint8_t v, const sim_rfc_cb *cb)
{
    bool dtr = r->dtr, rts = r->rts;
    uint8_t answer = v;
    switch (v) {
    case 0: answer = r->flow; break;                     /* query flow control */
    case 1: case 2: case 3: r->flow = v; break;          /* none, XON/XOFF, hardware */
    case 4: answer = 6; break;                           /* BREAK state: off */
    case 5: case 6: break;                               /* BREAK on/off: not modelled */
    case 7: answer = r->dtr ? 8 : 9; break;
    case 8: dtr = true; break;
    case 9: dtr = false; break;
    case 10: answer = r->rts ? 11 : 12; break;
    case 11: rts = true; break;
    case 12: rts = false; break;
    default: break;                                      /* 13-19: inbound flow settings */
    }
    send_sb1(r, CP_SET_CONTROL, answer);
    if (dtr != r->dtr || rts != r->rts) {
        r->dtr = dtr;
        r->rts = rts;
        if (cb->lines)
            cb->lines(cb->ctx, dtr, rts);
    }
}

static void com_port(sim_rfc *r, const uint8_t *s, size_t n, const sim_rfc_cb *cb)
{
    if (n < 1)
        return;
    r->commands++;
    uint8_t code = s[0];
    const uint8_t *v = s + 1;
    size_t vn = n - 1;
    switch (code) {
    case CP_SIGNATURE:
        if (vn == 0) {
            static const char sig[] = "esp32sim";
            send_sb(r, CP_SIGNATURE, (const uint8_t *)sig, sizeof sig - 1);
        }
        break;
    case CP_SET_BAUDRATE: {
        if (vn < 4)
            return;
        uint32_t b = be32(v);
        if (b && b != r->baud) {
            r->baud = b;
            if (cb->baud)
                cb->baud(cb->ctx, b);
        }
        uint8_t a[4] = {(uint8_t)(r->baud >> 24), (uint8_t)(r->baud >> 16),
                        (uint8_t)(r->baud >> 8), (uint8_t)r->baud};
        send_sb(r, CP_SET_BAUDRATE, a, 4);
        break;
    }
    case CP_SET_DATASIZE:
        if (vn >= 1 && v[0])
            r->datasize = v[0];
        send_sb1(r, code, r->datasize);
        break;
    case CP_SET_PARITY:
        if (vn >= 1 && v[0])
            r->parity = v[0];
        send_sb1(r, code, r->parity);
        break;
    case CP_SET_STOPSIZE:
        if (vn >= 1 && v[0])
            r->stopsize = v[0];
        send_sb1(r, code, r->stopsize);
        break;
    case CP_SET_CONTROL:
        if (vn >= 1)
            set_control(r, v[0], cb);
        break;
    case CP_SET_LINESTATE_MASK:
    case CP_SET_MODEMSTATE_MASK:
    case CP_PURGE_DATA:
        /* Acknowledged with the value. Nothing is buffered in the server beyond the
         * socket, so a purge has nothing of its own to drop. */
        if (vn >= 1)
            send_sb1(r, code, v[0]);
        break;
    default:
        break; /* FLOWCONTROL-SUSPEND/RESUME and notifications take no answer */
    }
}

void rfc_feed(sim_rfc *r, const uint8_t *d, size_t n, const sim_rfc_cb *cb)
{
    size_t run = 0; /* start of the current run of plain data in d */
#define FLUSH_RUN(end)                                      \
    do {                                                    \
        if ((end) > run && cb->data)                        \
            cb->data(cb->ctx, d + run, (end) - run);        \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        uint8_t b = d[i];
        switch (r->st) {
        case ST_DATA:
            if (b == T_IAC) {
                FLUSH_RUN(i);
                r->st = ST_IAC;
                run = i + 1;
            }
            continue;
        case ST_IAC:
            if (b == T_IAC) {
                if (cb->data)
                    cb->data(cb->ctx, &b, 1);
                r->st = ST_DATA;
            } else if (b >= T_WILL) {
                r->opt_cmd = b;
                r->st = ST_OPT;
            } else if (b == T_SB) {
                r->sb_len = 0;
                r->st = ST_SB;
            } else {
                r->st = ST_DATA; /* NOP, GA, ...: no meaning for a serial port */
            }
            break;
        case ST_OPT:
            negotiate(r, r->opt_cmd, b);
            r->st = ST_DATA;
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
                    com_port(r, r->sb + 1, r->sb_len - 1, cb);
                r->st = ST_DATA;
            }
            break;
        }
        run = i + 1;
    }
    if (r->st == ST_DATA)
        FLUSH_RUN(n);
#undef FLUSH_RUN
}

void rfc_queue_data(sim_rfc *r, const uint8_t *d, size_t n, uint32_t unit_baud)
{
    uint8_t tmp[1024];
    bool wrong = unit_baud && r->baud &&
                 (uint64_t)(unit_baud > r->baud ? unit_baud - r->baud : r->baud - unit_baud) * 100 >
                     (uint64_t)r->baud * 3;
    while (n) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        memcpy(tmp, d, k);
        if (wrong)
            faults_garble(&r->rng, tmp, k);
        for (size_t i = 0; i < k; i++) {
            out_raw(r, &tmp[i], 1);
            if (tmp[i] == T_IAC)
                out_raw(r, &tmp[i], 1);
        }
        d += k;
        n -= k;
    }
}

int rfc_flush(sim_rfc *r, int fd)
{
    size_t off = 0;
    while (off < r->out_len) {
        ssize_t w = write(fd, r->out + off, r->out_len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        break;
    }
    memmove(r->out, r->out + off, r->out_len - off);
    r->out_len -= off;
    return 0;
}

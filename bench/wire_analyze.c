/* wire_analyze.c - see wire_analyze.h. One pass over the records decodes the host's
 * SLIP frames (with the baud each went at) and the unit's replies; a second pass over
 * the frames replays the device model and assembles the floor. */
#include "wire_analyze.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "floor_model.h"

#define OP_FLASH_BEGIN 0x02
#define OP_FLASH_DATA 0x03
#define OP_MEM_END 0x06
#define OP_WRITE_REG 0x09
#define OP_CHANGE_BAUD 0x0F
#define OP_DEFL_BEGIN 0x10
#define OP_DEFL_DATA 0x11
#define OP_MD5 0x13
#define OP_ERASE_REGION 0xD1

typedef struct hframe {
    double t;            /* first byte written */
    int baud;
    bool stub;           /* the unit ran the stub when this frame went out */
    uint64_t wire;       /* bytes on the wire, delimiters and escapes included */
    uint64_t in;         /* reply bytes received before the next frame */
    double in_s;         /* their line time */
    uint8_t *d;          /* decoded frame */
    size_t n, cap;
} hframe;

typedef struct decoder {
    bool in_frame, esc;
    uint8_t buf[64];     /* replies: only the head matters */
    size_t n;
} decoder;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Word i of a command's data (0 when the frame is too short). */
static uint32_t word(const hframe *f, size_t i)
{
    return f->n >= 8 + 4 * (i + 1) ? le32(f->d + 8 + 4 * i) : 0;
}

static bool is_data(const hframe *f)
{
    return f->n >= 2 && (f->d[1] == OP_DEFL_DATA || f->d[1] == OP_FLASH_DATA);
}

static void push(hframe *f, uint8_t b)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->d = realloc(f->d, f->cap);
        if (!f->d)
            abort();
    }
    f->d[f->n++] = b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static double line_s(uint64_t bytes, int baud) { return (double)bytes * 10.0 / baud; }

typedef struct state {
    hframe *f;
    size_t nf, capf;
    bool building;       /* f[nf-1] is still being received by the unit */
    bool hesc;
    int baud, pending_baud;
    bool stub;
    uint64_t pre_in;     /* bytes before any frame on this link (boot banner) */
    double pre_in_s;
    decoder dev;
    double *ack_t;       /* completion time of each data ACK */
    size_t nack, capack;
} state;

static hframe *new_frame(state *s, double t)
{
    if (s->nf == s->capf) {
        s->capf = s->capf ? s->capf * 2 : 256;
        s->f = realloc(s->f, s->capf * sizeof *s->f);
        if (!s->f)
            abort();
    }
    if (s->pending_baud) {
        s->baud = s->pending_baud; /* the reply to CHANGE_BAUDRATE has gone out */
        s->pending_baud = 0;
    }
    hframe *f = &s->f[s->nf++];
    *f = (hframe){.t = t, .baud = s->baud, .stub = s->stub, .wire = 1};
    s->building = true;
    s->hesc = false;
    return f;
}

static void frame_done(state *s, hframe *f)
{
    s->building = false;
    if (f->n < 2)
        return;
    uint8_t op = f->d[1];
    if (op == OP_CHANGE_BAUD && word(f, 0) >= 300)
        s->pending_baud = (int)word(f, 0);
    if (op == OP_MEM_END && f->n >= 16 && word(f, 0) == 0)
        s->stub = true; /* the uploaded stub runs (it greets with OHAI) */
}

static void host_bytes(state *s, double t, const uint8_t *p, size_t n, uint64_t *stray)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (!s->building) {
            if (b == 0xC0)
                new_frame(s, t);
            else
                (*stray)++;
            continue;
        }
        hframe *f = &s->f[s->nf - 1];
        f->wire++;
        if (b == 0xC0) {
            if (f->n == 0)
                continue; /* C0 C0: still the opening delimiter */
            frame_done(s, f);
        } else if (s->hesc) {
            push(f, b == 0xDC ? 0xC0 : b == 0xDD ? 0xDB : b);
            s->hesc = false;
        } else if (b == 0xDB) {
            s->hesc = true;
        } else {
            push(f, b);
        }
    }
}

static void dev_bytes(state *s, double t, const uint8_t *p, size_t n)
{
    decoder *d = &s->dev;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (b == 0xC0) {
            if (d->in_frame && d->n >= 2) {
                if (d->buf[0] == 0x01 && (d->buf[1] == OP_DEFL_DATA || d->buf[1] == OP_FLASH_DATA)) {
                    if (s->nack == s->capack) {
                        s->capack = s->capack ? s->capack * 2 : 256;
                        s->ack_t = realloc(s->ack_t, s->capack * sizeof *s->ack_t);
                        if (!s->ack_t)
                            abort();
                    }
                    s->ack_t[s->nack++] = t;
                }
                d->in_frame = false;
            } else {
                d->in_frame = true;
            }
            d->n = 0;
            d->esc = false;
            continue;
        }
        if (!d->in_frame)
            continue;
        if (d->esc) {
            b = b == 0xDC ? 0xC0 : b == 0xDD ? 0xDB : b;
            d->esc = false;
        } else if (b == 0xDB) {
            d->esc = true;
            continue;
        }
        if (d->n < sizeof d->buf)
            d->buf[d->n++] = b;
    }
}

/* Device work the simulator models for a non-data command. */
static double other_work(const hframe *f)
{
    switch (f->d[1]) {
    case OP_CHANGE_BAUD:
        return f->stub ? FM_STUB_BAUD_CHANGE_S : 0;
    case OP_MD5:
        return fm_md5_s(word(f, 1)) * (f->stub ? 1 : 2);
    case OP_ERASE_REGION:
        return f->stub ? fm_erase_region_s(word(f, 0), word(f, 1)) : 0;
    case OP_WRITE_REG: {
        double w = 0;
        for (size_t i = 0; 8 + 16 * (i + 1) <= f->n; i++)
            w += word(f, 4 * i + 3) * 1e-6;
        return w;
    }
    default:
        return 0;
    }
}

int wa_analyze(const capture *c, wa_result *r)
{
    *r = (wa_result){.floor_ok = 1};
    state s = {.baud = 115200};
    uint64_t stray = 0;
    double stray_s = 0;
    for (size_t i = 0; i < c->nrec; i++) {
        const cap_rec *rec = &c->rec[i];
        const uint8_t *p = c->data + rec->off;
        if (rec->kind == 'c') {
            r->links++;
            s.baud = 115200;
            s.pending_baud = 0;
            s.stub = false;
            s.building = false;
            s.dev = (decoder){0};
        } else if (rec->kind == 'o') {
            r->out_records++;
            r->out_bytes += rec->len;
            uint64_t before = stray;
            host_bytes(&s, rec->t, p, rec->len, &stray);
            stray_s += line_s(stray - before, s.baud);
        } else if (rec->kind == 'i') {
            r->in_bytes += rec->len;
            if (s.nf && s.f[s.nf - 1].t <= rec->t) {
                s.f[s.nf - 1].in += rec->len;
                s.f[s.nf - 1].in_s += line_s(rec->len, s.baud);
            } else {
                s.pre_in += rec->len;
                s.pre_in_s += line_s(rec->len, s.baud);
            }
            dev_bytes(&s, rec->t, p, rec->len);
        }
    }
    if (c->nrec)
        r->dur_s = c->rec[c->nrec - 1].t - c->rec[0].t;
    if (s.nf == 0) {
        free(s.ack_t);
        return -1;
    }
    r->frames_out = s.nf;
    r->final_baud = s.f[s.nf - 1].baud;

    double *a = malloc(s.nf * sizeof *a), *a_min = malloc(s.nf * sizeof *a), *b = malloc(s.nf * sizeof *b);
    double *turn = malloc(s.nf * sizeof *turn), *ack = malloc(s.nf * sizeof *ack);
    double *zero = calloc(s.nf, sizeof *zero);
    if (!a || !a_min || !b || !turn || !ack || !zero)
        abort();
    static fm_session sess; /* 32 KiB buffer: not on the stack */
    memset(&sess, 0, sizeof sess);
    double wire = stray_s + s.pre_in_s, floor_runs = 0, floor_min_runs = 0, floor_inf_runs = 0;
    double md5_work = 0;
    size_t run = 0, data_idx = 0;
    double first_data_t = -1;
    for (size_t i = 0; i <= s.nf; i++) {
        hframe *f = i < s.nf ? &s.f[i] : NULL;
        if (f && is_data(f)) {
            if (!f->stub)
                r->floor_ok = 0;
            size_t pay = f->n > 24 ? f->n - 24 : 0;
            a[run] = line_s(f->wire, f->baud);
            ack[run] = f->in_s;
            a_min[run] = line_s(pay, r->final_baud);
            b[run] = fm_data(&sess, f->d + 24, pay);
            if (b[run] > r->dev_max_block_s)
                r->dev_max_block_s = b[run];
            r->dev_data_s += b[run];
            r->data_wire_s += a[run] + ack[run];
            r->data_frames++;
            r->data_payload += pay;
            if (first_data_t < 0)
                first_data_t = f->t;
            if (data_idx > 0 && data_idx - 1 < s.nack && run > 0)
                turn[r->turns++] = (f->t - s.ack_t[data_idx - 1]) * 1000.0;
            data_idx++;
            run++;
            continue;
        }
        if (run) {
            floor_runs += fm_stopwait(a, ack, b, run);
            floor_min_runs += fm_stopwait(a_min, zero, b, run);
            floor_inf_runs += fm_flowshop(a, b, run);
            run = 0;
        }
        if (!f)
            break;
        wire += line_s(f->wire, f->baud) + f->in_s;
        if (f->n < 2)
            continue;
        double w = other_work(f);
        r->dev_other_s += w;
        if (f->d[1] == OP_MD5)
            md5_work += w;
        if (f->d[1] == OP_DEFL_BEGIN || f->d[1] == OP_FLASH_BEGIN)
            fm_begin(&sess, f->d[1] == OP_DEFL_BEGIN, word(f, 3), word(f, 0));
    }
    fm_end(&sess);
    if (first_data_t >= 0 && s.nack)
        r->data_span_s = s.ack_t[s.nack - 1] - first_data_t;
    r->wire_s = wire + r->data_wire_s;
    r->floor_s = wire + r->dev_other_s + floor_runs;
    r->floor_min_s = floor_min_runs + md5_work;
    r->floor_inf_s = wire + r->dev_other_s + floor_inf_runs;
    qsort(turn, r->turns, sizeof *turn, cmp_double);
    r->turn_med_ms = pct(turn, r->turns, 0.5);
    r->turn_p95_ms = pct(turn, r->turns, 0.95);
    r->turn_max_ms = r->turns ? turn[r->turns - 1] : 0;
    for (size_t i = 0; i < s.nf; i++)
        free(s.f[i].d);
    free(s.f);
    free(s.ack_t);
    free(a);
    free(a_min);
    free(b);
    free(turn);
    free(ack);
    free(zero);
    return 0;
}

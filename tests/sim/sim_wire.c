/* sim_wire.c - timed output queue and UART/flash pacing (see sim_wire.h). */
#include "sim_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BURST_NS (5 * SIM_NS_PER_MS) /* realism writes in 5 ms slices: few wake-ups */

uint64_t sim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t wire_ns(size_t n, uint32_t baud)
{
    if (!baud)
        baud = 115200;
    return (uint64_t)n * 10ull * 1000000000ull / baud;
}

void outq_push(sim_outq *q, const uint8_t *d, size_t n, uint64_t not_before, uint32_t baud)
{
    if (n == 0)
        return;
    sim_chunk *c = malloc(sizeof *c + n);
    if (!c)
        abort();
    if (not_before < q->last_nb)
        not_before = q->last_nb;
    q->last_nb = not_before;
    *c = (sim_chunk){.not_before = not_before, .baud = baud, .len = n};
    memcpy(c->data, d, n);
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->bytes += n;
}

void outq_clear(sim_outq *q)
{
    while (q->head) {
        sim_chunk *c = q->head;
        q->head = c->next;
        free(c);
    }
    q->tail = NULL;
    q->bytes = 0;
    q->last_nb = 0;
}

uint64_t outq_due(const sim_outq *q, bool realism)
{
    if (!q->head)
        return 0;
    uint64_t t = q->head->not_before;
    if (realism && q->tx_free > t)
        t = q->tx_free;
    return t;
}

static ssize_t fd_writer(void *ctx, const uint8_t *d, size_t n, uint32_t baud)
{
    (void)baud;
    ssize_t w = write(*(int *)ctx, d, n);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return w;
}

ssize_t outq_flush(sim_outq *q, int fd, uint64_t now, bool realism)
{
    return outq_flush_with(q, now, realism, fd_writer, &fd);
}

ssize_t outq_flush_with(sim_outq *q, uint64_t now, bool realism, outq_writer wr, void *ctx)
{
    ssize_t total = 0;
    while (q->head && q->head->not_before <= now) {
        sim_chunk *c = q->head;
        size_t n = c->len - c->off;
        if (realism) {
            if (q->tx_free > now)
                break;
            uint64_t per = wire_ns(1, c->baud);
            size_t burst = (size_t)(BURST_NS / (per ? per : 1));
            if (burst < 1)
                burst = 1;
            if (n > burst)
                n = burst;
        }
        ssize_t w = wr(ctx, c->data + c->off, n, c->baud);
        if (w < 0)
            return -1;
        if (w == 0)
            break;
        if (realism) {
            uint64_t start = q->tx_free > now ? q->tx_free : now;
            /* a line idle for long starts now; otherwise back-to-back */
            if (start + BURST_NS < now)
                start = now;
            q->tx_free = start + wire_ns((size_t)w, c->baud);
        }
        c->off += (size_t)w;
        q->bytes -= (size_t)w;
        total += w;
        if (c->off == c->len) {
            q->head = c->next;
            if (!q->head)
                q->tail = NULL;
            free(c);
        } else if ((size_t)w < n) {
            break; /* kernel buffer full */
        }
    }
    return total;
}

size_t wire_rx_allow(uint64_t rx_free, uint64_t now, uint32_t baud, size_t want)
{
    if (rx_free > now)
        return 0;
    uint64_t per = wire_ns(1, baud);
    size_t burst = (size_t)(BURST_NS / (per ? per : 1));
    if (burst < 1)
        burst = 1;
    return want < burst ? want : burst;
}

void wire_rx_account(uint64_t *rx_free, uint64_t now, uint32_t baud, size_t n)
{
    uint64_t start = *rx_free > now ? *rx_free : now;
    *rx_free = start + wire_ns(n, baud);
}

static const sim_flash_timing timings[] = {
    {"typ", 45 * SIM_NS_PER_MS, 150 * SIM_NS_PER_MS, 256, SIM_NS_PER_MS / 2},
    {"max", 400 * SIM_NS_PER_MS, 2000 * SIM_NS_PER_MS, 256, 3 * SIM_NS_PER_MS},
    /* tBP1 30 us + 31 x tBPn 2.5 us per 32-byte command */
    {"p32", 45 * SIM_NS_PER_MS, 150 * SIM_NS_PER_MS, 32, 107500},
};

const sim_flash_timing *wire_timing_find(const char *name)
{
    for (size_t i = 0; i < sizeof timings / sizeof timings[0]; i++)
        if (!strcmp(timings[i].name, name))
            return &timings[i];
    return NULL;
}

const sim_flash_timing *wire_timing_default(void) { return &timings[0]; }

uint64_t wire_erase_ns(const sim_flash_timing *t, uint32_t sectors4k, uint32_t blocks64k)
{
    return (uint64_t)sectors4k * t->sector_erase_ns + (uint64_t)blocks64k * t->block_erase_ns;
}

uint32_t wire_program_cmds(const sim_flash_timing *t, uint32_t off, uint32_t len)
{
    if (len == 0)
        return 0;
    uint64_t first = off / t->program_unit, last = ((uint64_t)off + len - 1) / t->program_unit;
    return (uint32_t)(last - first + 1);
}

uint64_t wire_program_ns(const sim_flash_timing *t, uint32_t off, uint32_t len)
{
    return (uint64_t)wire_program_cmds(t, off, len) * t->program_ns;
}

/* The stub runs tinfl on the ROM's CPU clock (the crystal, 40 MHz; the legacy stub only
 * raises it for USB): about 20 cycles per compressed byte (Huffman decoding) and 4 per
 * output byte (match copies and the output buffer). An assumption, not a measurement;
 * it is what makes inflate time worth overlapping with erases. */
uint64_t wire_inflate_ns(size_t in, size_t out)
{
    return (uint64_t)in * 500 + (uint64_t)out * 100;
}

uint64_t wire_md5_ns(uint32_t bytes)
{
    return (uint64_t)bytes * 250; /* ~4 MB/s flash read + hash */
}

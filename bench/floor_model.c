/* floor_model.c - see floor_model.h. Mirrors tests/sim/sim_stub.c (write_data,
 * next_erase, defl_data, erase_region) and sim_wire.c (times); keep them in step. */
#include "floor_model.h"

#include <string.h>

#define SECTOR 4096u
#define SECTORS_PER_BLOCK 16u

double fm_erase_s(uint32_t sectors4k, uint32_t blocks64k)
{
    return sectors4k * 0.045 + blocks64k * 0.150;
}

double fm_program_s(uint32_t bytes) { return ((bytes + 255u) / 256u) * 0.0005; }

double fm_md5_s(uint32_t bytes) { return bytes * 250e-9; }

void fm_begin(fm_session *s, bool deflate, uint32_t offset, uint32_t total)
{
    fm_end(s);
    s->deflate = deflate;
    s->live = true;
    s->next_write = offset;
    s->remaining = total;
    s->next_erase_sector = offset / SECTOR;
    s->remaining_erase_sector =
        (uint32_t)(((uint64_t)(offset % SECTOR) + total + SECTOR - 1) / SECTOR);
    if (deflate) {
        memset(&s->zs, 0, sizeof s->zs);
        s->zlive = inflateInit(&s->zs) == Z_OK;
        s->zdone = false;
    }
}

void fm_end(fm_session *s)
{
    if (s->zlive)
        inflateEnd(&s->zs);
    s->zlive = false;
    s->live = false;
}

static double next_erase(fm_session *s)
{
    if (s->remaining_erase_sector == 0)
        return 0;
    bool block = s->remaining_erase_sector >= SECTORS_PER_BLOCK &&
                 s->next_erase_sector % SECTORS_PER_BLOCK == 0;
    uint32_t n = block ? SECTORS_PER_BLOCK : 1;
    s->remaining_erase_sector -= n;
    s->next_erase_sector += n;
    return block ? fm_erase_s(0, 1) : fm_erase_s(1, 0);
}

static double write_data(fm_session *s, uint32_t len)
{
    if (len > s->remaining)
        len = s->remaining;
    if (len == 0)
        return 0;
    double w = 0;
    uint32_t last_sector = (s->next_write + len) / SECTOR;
    while (s->remaining_erase_sector > 0 && s->next_erase_sector <= last_sector)
        w += next_erase(s);
    w += fm_program_s(len);
    s->next_write += len;
    s->remaining -= len;
    return w;
}

double fm_data(fm_session *s, const uint8_t *payload, size_t n)
{
    if (!s->live)
        return 0;
    if (!s->deflate)
        return write_data(s, (uint32_t)n);
    double w = 0;
    s->zs.next_in = (Bytef *)payload;
    s->zs.avail_in = (uInt)n;
    while (s->zlive && !s->zdone && s->remaining > 0 && s->zs.avail_in > 0) {
        s->zs.next_out = s->obuf + s->obuf_len;
        s->zs.avail_out = (uInt)(sizeof s->obuf - s->obuf_len);
        int r = inflate(&s->zs, Z_NO_FLUSH);
        s->obuf_len = sizeof s->obuf - s->zs.avail_out;
        if (r == Z_STREAM_END)
            s->zdone = true;
        if (s->zdone || s->obuf_len == sizeof s->obuf) {
            w += write_data(s, (uint32_t)s->obuf_len);
            s->obuf_len = 0;
        }
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            break; /* corrupt stream: the unit would fail; no more work to model */
        if (r == Z_BUF_ERROR && s->zs.avail_out != 0)
            break;
    }
    return w;
}

double fm_flowshop(const double *a, const double *b, size_t n)
{
    double best = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        tail += b[i];
    double head = 0;
    for (size_t k = 0; k < n; k++) {
        head += a[k];
        double t = head + tail;
        if (t > best)
            best = t;
        tail -= b[k];
    }
    return best;
}

double fm_stopwait(const double *a, const double *ack, const double *b, size_t n)
{
    if (n == 0)
        return 0;
    double start = a[0];
    for (size_t k = 0; k + 1 < n; k++) {
        double wire = ack[k] + a[k + 1];
        start += wire > b[k] ? wire : b[k];
    }
    return start + (b[n - 1] > ack[n - 1] ? b[n - 1] : ack[n - 1]);
}

double fm_erase_region_s(uint32_t addr, uint32_t len)
{
    double w = 0;
    if (addr % SECTOR || len % SECTOR)
        return 0; /* refused by the stub: no work */
    const uint32_t block = SECTOR * SECTORS_PER_BLOCK;
    while (len > 0 && addr % block) {
        w += fm_erase_s(1, 0);
        len -= SECTOR;
        addr += SECTOR;
    }
    while (len > block) {
        w += fm_erase_s(0, 1);
        len -= block;
        addr += block;
    }
    while (len > 0) {
        w += fm_erase_s(1, 0);
        len -= SECTOR;
        addr += SECTOR;
    }
    return w;
}

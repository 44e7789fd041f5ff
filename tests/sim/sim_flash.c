/* sim_flash.c - NOR flash model (see sim_flash.h). */
#include "sim_flash.h"
#include "sim_pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t nblocks(const sim_flash *f) { return f->size / SIM_FLASH_BLOCK; }

static uint32_t nsectors(const sim_flash *f) { return f->size / SIM_FLASH_SECTOR; }

static int ops_init(sim_flash *f, const char *ops_path)
{
    size_t bytes = (size_t)nsectors(f) * 2 * sizeof(uint32_t);
    if (!ops_path) {
        f->ops = calloc(nsectors(f) * 2u, sizeof(uint32_t));
        return f->ops ? 0 : -1;
    }
    f->ops_fd = open(ops_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->ops_fd < 0 || ftruncate(f->ops_fd, (off_t)bytes) != 0)
        return -1;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, f->ops_fd, 0);
    if (m == MAP_FAILED)
        return -1;
    f->ops = m; /* ftruncate zero-filled it */
    return 0;
}

int flash_init(sim_flash *f, uint32_t size, const char *path, const char *ops_path)
{
    *f = (sim_flash){.size = size, .fd = -1, .ops_fd = -1}; /* status registers power up 0 */
    if (size < SIM_FLASH_BLOCK || (size & (size - 1))) {
        errno = EINVAL;
        return -1;
    }
    f->blk = calloc(nblocks(f), sizeof *f->blk);
    if (!f->blk)
        return -1;
    if (ops_init(f, path ? ops_path : NULL) != 0)
        goto fail;
    if (!path)
        return 0;
    f->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0 || ftruncate(f->fd, size) != 0)
        goto fail;
    f->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        goto fail;
    }
    memset(f->map, 0xFF, size);
    for (uint32_t i = 0; i < nblocks(f); i++)
        f->blk[i] = f->map + (size_t)i * SIM_FLASH_BLOCK;
    return 0;
fail:;
    int e = errno;
    flash_free(f);
    errno = e;
    return -1;
}

static uint8_t *wblock(sim_flash *f, uint32_t b);

void flash_fill_pattern(sim_flash *f)
{
    for (uint32_t b = 0; b < nblocks(f); b++) {
        uint8_t *p = wblock(f, b);
        for (uint32_t i = 0; i < SIM_FLASH_BLOCK; i++)
            p[i] = sim_pattern_byte(b * SIM_FLASH_BLOCK + i);
    }
}

void flash_free(sim_flash *f)
{
    if (f->map) {
        munmap(f->map, f->size);
    } else if (f->blk) {
        for (uint32_t i = 0; i < nblocks(f); i++)
            free(f->blk[i]);
    }
    free(f->blk);
    if (f->fd >= 0)
        close(f->fd);
    if (f->ops_fd >= 0) {
        if (f->ops)
            munmap(f->ops, (size_t)nsectors(f) * 2 * sizeof(uint32_t));
        close(f->ops_fd);
    } else {
        free(f->ops);
    }
    *f = (sim_flash){.fd = -1, .ops_fd = -1};
}

/* Materialise a block for writing (memory mode allocates it erased). */
static uint8_t *wblock(sim_flash *f, uint32_t b)
{
    if (!f->blk[b]) {
        f->blk[b] = malloc(SIM_FLASH_BLOCK);
        if (!f->blk[b])
            abort(); /* a simulator without memory cannot pretend to be a chip */
        memset(f->blk[b], 0xFF, SIM_FLASH_BLOCK);
    }
    return f->blk[b];
}

/* One step of a walk over a range: the block holding off (wrapped to the flash size),
 * where off lies in it, and how many of the len bytes left lie in that block. */
typedef struct span {
    uint32_t b, in, n;
} span;

static span span_at(const sim_flash *f, uint32_t off, uint32_t len)
{
    off &= f->size - 1;
    span s = {off / SIM_FLASH_BLOCK, off % SIM_FLASH_BLOCK, SIM_FLASH_BLOCK - off % SIM_FLASH_BLOCK};
    if (s.n > len)
        s.n = len;
    return s;
}

void flash_erase(sim_flash *f, uint32_t off, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        span s = span_at(f, off + done, len - done);
        if (!f->map && s.in == 0 && s.n == SIM_FLASH_BLOCK) {
            free(f->blk[s.b]);
            f->blk[s.b] = NULL;
        } else if (f->blk[s.b]) {
            memset(f->blk[s.b] + s.in, 0xFF, s.n);
        }
        done += s.n;
    }
}

void flash_program(sim_flash *f, uint32_t off, const uint8_t *d, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        span s = span_at(f, off + done, len - done);
        const uint8_t *src = d + done;
        bool all_ff = true;
        for (uint32_t i = 0; i < s.n && all_ff; i++)
            all_ff = src[i] == 0xFF;
        if (!all_ff) { /* programming 0xFF changes nothing: keep blocks sparse */
            uint8_t *p = wblock(f, s.b) + s.in;
            for (uint32_t i = 0; i < s.n; i++)
                p[i] &= src[i];
        }
        done += s.n;
    }
}

void flash_count_program(sim_flash *f, uint32_t off, uint32_t len, uint32_t unit)
{
    /* one command per unit-aligned chunk, counted in the sector the chunk starts in */
    if (len == 0)
        return;
    for (uint64_t c = off / unit; c <= ((uint64_t)off + len - 1) / unit; c++)
        f->ops[2 * (((uint32_t)(c * unit) & (f->size - 1)) / SIM_FLASH_SECTOR)]++;
}

void flash_count_erase(sim_flash *f, uint32_t off, uint32_t len)
{
    for (uint32_t done = 0; done < len; done += SIM_FLASH_SECTOR)
        f->ops[2 * (((off + done) & (f->size - 1)) / SIM_FLASH_SECTOR) + 1]++;
}

void flash_poke_xor(sim_flash *f, uint32_t off, uint8_t mask)
{
    off &= f->size - 1;
    wblock(f, off / SIM_FLASH_BLOCK)[off % SIM_FLASH_BLOCK] ^= mask;
}

void flash_read(const sim_flash *f, uint32_t off, uint8_t *out, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        span s = span_at(f, off + done, len - done);
        if (f->blk[s.b])
            memcpy(out + done, f->blk[s.b] + s.in, s.n);
        else
            memset(out + done, 0xFF, s.n);
        done += s.n;
    }
}

void flash_md5(const sim_flash *f, uint32_t off, uint32_t len, uint8_t digest[16])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t buf[4096];
    unsigned int dl = 16;
    if (!c)
        abort();
    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    while (len > 0) {
        uint32_t n = len < sizeof buf ? len : (uint32_t)sizeof buf;
        flash_read(f, off, buf, n);
        EVP_DigestUpdate(c, buf, n);
        off += n;
        len -= n;
    }
    EVP_DigestFinal_ex(c, digest, &dl);
    EVP_MD_CTX_free(c);
}

/* Bits WRSR can change: SR1 without WIP/WEL, SR2 without SUS, SR3 WPS and DRV. */
static const uint8_t sr_writable[3] = {0xFC, 0x7F, 0x64};

uint8_t flash_sr_read(const sim_flash *f, int n)
{
    return n >= 0 && n < 3 ? f->st.sr[n] : 0xFF;
}

void flash_sr_enable(sim_flash *f, uint8_t opcode)
{
    if (opcode == 0x06) {
        f->st.sr[0] |= SIM_SR1_WEL;
    } else if (opcode == 0x50) {
        f->st.vwe = true;
    } else if (opcode == 0x04) {
        f->st.sr[0] &= (uint8_t)~SIM_SR1_WEL;
        f->st.vwe = false;
    }
}

static void sr_store(sim_flash *f, int n, uint8_t v, bool nonvolatile)
{
    uint8_t m = sr_writable[n];
    f->st.sr[n] = (uint8_t)((f->st.sr[n] & ~m) | (v & m));
    if (nonvolatile)
        f->st.nv[n] = (uint8_t)((f->st.nv[n] & ~m) | (v & m));
}

bool flash_sr_locked(const sim_flash *f)
{
    return (f->st.sr[1] & 0x01) != 0;
}

/* The protected range [lo, hi) of the chip. */
static void protected_range(const sim_flash *f, uint64_t *lo, uint64_t *hi)
{
    uint8_t sr1 = f->st.sr[0], sr2 = f->st.sr[1];
    int bp = (sr1 >> 2) & 7;
    bool tb = sr1 & 0x20, sec = sr1 & 0x40, cmp = sr2 & 0x40;
    uint64_t size = 0;
    if (bp == 7)
        size = f->size;
    else if (bp && sec)
        size = (uint64_t)SIM_FLASH_SECTOR << (bp > 4 ? 3 : bp - 1);
    else if (bp)
        size = (uint64_t)(f->size / 64) << (bp - 1);
    *lo = tb ? 0 : f->size - size;
    *hi = tb ? size : f->size;
    if (cmp) { /* the complement: everything but that range */
        if (size == 0) {
            *lo = 0;
            *hi = f->size;
        } else if (size == f->size) {
            *lo = *hi = 0;
        } else if (tb) {
            *lo = size;
            *hi = f->size;
        } else {
            *lo = 0;
            *hi = f->size - size;
        }
    }
}

bool flash_protected(const sim_flash *f, uint32_t off, uint32_t len)
{
    if (f->st.sr[2] & 0x04)
        return true; /* WPS: individual block locks, all set at power-up */
    uint64_t lo, hi;
    protected_range(f, &lo, &hi);
    uint64_t a = off & (f->size - 1), b = a + len;
    return lo < hi && a < hi && b > lo;
}

void flash_sr_wrsr(sim_flash *f, uint8_t opcode, const uint8_t *d, int n)
{
    bool nonvolatile = (f->st.sr[0] & SIM_SR1_WEL) != 0;
    if (flash_sr_locked(f) && opcode != 0x11) {
        n = 0; /* SRP1: SR1/SR2 locked down until a power cycle */
    }
    if ((nonvolatile || f->st.vwe) && n > 0) {
        if (opcode == 0x01) {
            sr_store(f, 0, d[0], nonvolatile);
            if (n > 1)
                sr_store(f, 1, d[1], nonvolatile);
        } else if (opcode == 0x31) {
            sr_store(f, 1, d[0], nonvolatile);
        } else if (opcode == 0x11) {
            sr_store(f, 2, d[0], nonvolatile);
        }
    }
    f->st.sr[0] &= (uint8_t)~SIM_SR1_WEL;
    f->st.vwe = false;
}

void flash_sr_set(sim_flash *f, int n, uint8_t v, bool nonvolatile)
{
    if (n >= 0 && n < 3)
        sr_store(f, n, v, nonvolatile);
}

void flash_sr_cpu_reset(sim_flash *f)
{
    f->st.sr[0] &= (uint8_t)~SIM_SR1_WEL;
    f->st.vwe = false;
}

/* flash_write.c - compressed flash writes and MD5 verification of one region.
 * Only what is written is erased: the *_BEGIN size covers exactly the image (never
 * ERASE_FLASH). */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "esp_proto.h"
#include "flash_write.h"
#include "loader.h"

#define BLOCK_TRIES 3   /* per block against the stub, per region against the ROM */

void st_md5_erased(uint64_t n, uint8_t md5[16])
{
    uint8_t ff[4096];
    memset(ff, 0xFF, sizeof ff);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int len = 16;
    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    while (n) {
        size_t k = n < sizeof ff ? (size_t)n : sizeof ff;
        EVP_DigestUpdate(c, ff, k);
        n -= k;
    }
    EVP_DigestFinal_ex(c, md5, &len);
    EVP_MD_CTX_free(c);
}

/* A block corrupted on the way in: the stub says C1, the ROM 01 07. */
static bool is_checksum_error(const st_err *e)
{
    if (e->cat != ST_E_DEVICE)
        return false;
    if (e->nstatus == ESP_STUB_STATUS_LEN)
        return e->status[0] == ESP_STUB_BAD_DATA_CHECKSUM;
    return e->nstatus == ESP_ROM_STATUS_LEN && e->status[0] == 1 &&
           e->status[1] == ESP_ROM_ERR_CHECKSUM;
}

static int interrupted(st_loader *l, const st_image *img, size_t zdone, st_err *err)
{
    st_err_set(err, ST_E_INTERRUPTED, l->phase,
               "stopped by the operator after %zu of %zu compressed bytes of the image at 0x%x",
               zdone, img->zlen, img->offset);
    err->fclass = ST_FC_INTERRUPTED;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_INTERRUPTED));
}

/* One pass over the region: BEGIN and every block. Returns 0, -1 (err), or 1 when the
 * ROM rejected a block as corrupted and the region must start over. */
static int write_pass(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                      void *user, st_err *err)
{
    bool stub = l->stub;
    size_t bs = stub ? ESP_STUB_FLASH_BLOCK : ESP_ROM_FLASH_BLOCK;
    uint32_t blocks = (uint32_t)((img->zlen + bs - 1) / bs);
    /* The stub takes the exact size and erases lazily; the ROM erases a 0x400-rounded
     * size up front before it answers, so its BEGIN timeout scales with the erase. */
    uint32_t size = stub ? (uint32_t)img->len
                         : (uint32_t)((img->len + ESP_ROM_FLASH_BLOCK - 1) / ESP_ROM_FLASH_BLOCK *
                                      ESP_ROM_FLASH_BLOCK);
    int to = stub ? ST_TO_DEFAULT_MS : st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, size);
    if (st_cmd_defl_begin(l, size, blocks, (uint32_t)bs, img->offset, to, err) < 0)
        return -1;
    uint64_t prev_work = 0;
    for (uint32_t seq = 0; seq < blocks; seq++) {
        size_t off = (size_t)seq * bs;
        size_t n = img->zlen - off < bs ? img->zlen - off : bs;
        if (abort && atomic_load(abort))
            return interrupted(l, img, off, err);
        /* Device work is what this block inflates to (0xFF padding can be megabytes from
         * a few bytes). The ROM writes a block before answering; the stub answers a block
         * when it starts on it, i.e. once the previous block is written. */
        uint64_t work = st_image_inflated(img, off, n);
        int bto = st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, stub ? prev_work + work : work);
        prev_work = work;
        int tries = 0;
        while (st_cmd_defl_data(l, seq, img->zdata + off, n, bto, err) < 0) {
            if (!is_checksum_error(err))
                return -1;
            if (!stub)
                return 1; /* the ROM consumed this seq: restart from BEGIN */
            if (++tries >= BLOCK_TRIES)
                return -1;
        }
        if (fn)
            fn(user, off + n, img->zlen);
    }
    return 0;
}

int st_flash_write_image(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                         void *user, st_err *err)
{
    l->phase = ST_PH_WRITE;
    int rc = 1;
    for (int pass = 0; pass < BLOCK_TRIES && rc == 1; pass++)
        rc = write_pass(l, img, abort, fn, user, err);
    if (rc != 0)
        return -1;
    if (l->stub) {
        /* Barrier: the stub answers only once every ACKed block is in flash, with the
         * deferred error of the last one. (The ROM writes before it answers a block.) */
        size_t bs = ESP_STUB_FLASH_BLOCK;
        size_t last = img->zlen ? (img->zlen - 1) / bs * bs : 0;
        size_t from = last >= bs ? last - bs : 0; /* the last two blocks may be unwritten */
        uint64_t tail = st_image_inflated(img, from, img->zlen - from);
        if (st_cmd_defl_end(l, 1, st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, tail), err) < 0)
            return -1;
    }
    return 0;
}

static void hex16(const uint8_t *d, char *out)
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int st_flash_verify_image(st_loader *l, const st_image *img, st_err *err)
{
    l->phase = ST_PH_VERIFY;
    uint8_t got[16];
    if (st_cmd_md5(l, img->offset, (uint32_t)img->len, got, err) < 0)
        return -1;
    if (memcmp(got, img->md5, 16) == 0)
        return 0;
    uint8_t blank[16];
    st_md5_erased(img->len, blank);
    bool erased = memcmp(got, blank, 16) == 0;
    char g[33], w[33];
    hex16(got, g);
    hex16(img->md5, w);
    st_err_set(err, ST_E_VERIFY, ST_PH_VERIFY,
               "MD5 of flash 0x%x..0x%zx is %s%s, expected %s (%s)", img->offset,
               (size_t)img->offset + img->len, g, erased ? " (all 0xFF: erased)" : "", w,
               img->path);
    err->cmd = ESP_SPI_FLASH_MD5;
    err->fclass = erased ? ST_FC_BLANK_READBACK : ST_FC_MD5_MISMATCH;
    return st_err_hint(err, "%s", st_fclass_hint(err->fclass));
}

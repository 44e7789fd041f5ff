/* flash_write.c - flash writes and MD5 verification of one region: compressed through
 * the stub, uncompressed FLASH_DATA through the ROM loader (its compressed path
 * programs a stale 32 KiB window past the end of every stream, §14.1). Only what is
 * written is erased: the *_BEGIN size covers exactly the image (never ERASE_FLASH). */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "esp_proto.h"
#include "flash_write.h"
#include "loader.h"

#define BLOCK_TRIES 3   /* per block: resends after a corrupted block */
#define REGION_REPAIRS 16 /* ROM: blocks resent under the next seq, per region */
#define REGION_RESTARTS 3 /* ROM: lost frame ends recovered by a restart, per region */

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

/* Stub: FLASH_DEFL_BEGIN, every block (a corrupted one is resent with the same seq: the
 * stub did not consume it), then the FLASH_DEFL_END(1) barrier. */
static int stub_write(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                      void *user, int *repaired, st_err *err)
{
    size_t bs = ESP_STUB_FLASH_BLOCK;
    uint32_t blocks = (uint32_t)((img->zlen + bs - 1) / bs);
    /* The stub takes the exact size and erases lazily. */
    if (st_cmd_defl_begin(l, (uint32_t)img->len, blocks, (uint32_t)bs, img->offset,
                          ST_TO_DEFAULT_MS, err) < 0)
        return -1;
    uint64_t prev_work = 0;
    for (uint32_t seq = 0; seq < blocks; seq++) {
        size_t off = (size_t)seq * bs;
        size_t n = img->zlen - off < bs ? img->zlen - off : bs;
        if (abort && atomic_load(abort))
            return interrupted(l, img, off, err);
        /* Device work is what this block inflates to (0xFF padding can be megabytes from
         * a few bytes). The stub answers a block when it starts on it, i.e. once the
         * previous block is written. */
        uint64_t work = st_image_inflated(img, off, n);
        int bto = st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, prev_work + work);
        prev_work = work;
        int tries = 0;
        while (st_cmd_defl_data(l, seq, img->zdata + off, n, bto, err) < 0) {
            if (!is_checksum_error(err) || ++tries >= BLOCK_TRIES)
                return -1;
            (*repaired)++;
        }
        if (fn)
            fn(user, off + n, img->zlen);
    }
    /* Barrier: the stub answers only once every ACKed block is in flash, with the
     * deferred error of the last one. */
    size_t last = img->zlen ? (img->zlen - 1) / bs * bs : 0;
    size_t from = last >= bs ? last - bs : 0; /* the last two blocks may be unwritten */
    uint64_t tail = st_image_inflated(img, from, img->zlen - from);
    return st_cmd_defl_end(l, 1, st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, tail), err);
}

/* ROM: FLASH_BEGIN with the exact size (the ROM erases it up front, before it answers),
 * then uncompressed FLASH_DATA blocks, the last one short: the ROM programs exactly the
 * bytes it is sent (§14.1). A block answered 01 07 consumed its seq and wrote nothing:
 * it is resent under the next seq, where it lands exactly where it belongs. FLASH_END is
 * never sent after the data (it would count the extra seqs and answer 01 06): the MD5
 * verification that follows is the proof. */
static int rom_write_once(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                     void *user, int *repaired, st_err *err)
{
    size_t bs = ST_ROM_PLAIN_BLOCK;
    uint32_t blocks = (uint32_t)((img->len + bs - 1) / bs);
    int to = st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, img->len);
    if (st_cmd_flash_begin(l, (uint32_t)img->len, blocks, (uint32_t)bs, img->offset, to, err) < 0)
        return -1;
    uint32_t seq = 0;
    int region_repairs = 0;
    for (uint32_t b = 0; b < blocks; b++) {
        size_t off = (size_t)b * bs;
        size_t n = img->len - off < bs ? img->len - off : bs;
        /* progress is counted in compressed bytes of the profile: scale */
        size_t zdone = img->len ? (size_t)((uint64_t)off * img->zlen / img->len) : 0;
        if (abort && atomic_load(abort))
            return interrupted(l, img, zdone, err);
        int bto = st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, n);
        int tries = 0;
        while (st_cmd_flash_data(l, seq++, img->data + off, n, bto, err) < 0) {
            if (!is_checksum_error(err) || ++tries >= BLOCK_TRIES ||
                ++region_repairs > REGION_REPAIRS)
                return -1;
            (*repaired)++;
        }
        if (fn)
            fn(user, img->len ? (size_t)((uint64_t)(off + n) * img->zlen / img->len) : 0,
               img->zlen);
    }
    return 0;
}

/* A FLASH_DATA block that got no reply at all: at high baud the ROM's receive path can
 * lose a frame's end, and then it waits inside that frame (§14.1). */
static bool is_lost_frame(const st_err *e)
{
    return e->cat == ST_E_TIMEOUT && e->cmd == ESP_FLASH_DATA;
}

/* rom_write_once, recovered in place from lost frame ends: re-sync (a lone C0, then
 * SYNC) and restart the region from its FLASH_BEGIN, which the ROM accepts, at most
 * REGION_RESTARTS times; each restart counts in *repaired. */
static int rom_write(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                     void *user, int *repaired, st_err *err)
{
    for (int restarts = 0;; restarts++) {
        if (rom_write_once(l, img, abort, fn, user, repaired, err) == 0)
            return 0;
        if (!is_lost_frame(err))
            return -1;
        if (restarts == REGION_RESTARTS) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n,
                     "; the region at 0x%x was re-synced and restarted %d times (lost frame "
                     "ends: the ROM drops bytes at this baud)", img->offset, restarts);
            return -1;
        }
        st_err e;
        if (st_cmd_rom_resync(l, &e) < 0) {
            *err = e;
            return -1;
        }
        (*repaired)++;
    }
}

int st_flash_write_image(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                         void *user, int *repaired, st_err *err)
{
    l->phase = ST_PH_WRITE;
    int dummy = 0;
    if (!repaired)
        repaired = &dummy;
    return l->stub ? stub_write(l, img, abort, fn, user, repaired, err)
                   : rom_write(l, img, abort, fn, user, repaired, err);
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

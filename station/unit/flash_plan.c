/* flash_plan.c - compare a region with the unit and turn what differs into device steps
 * (flash_plan.h). Sectors are the image's own 4 KiB sectors (images start on one);
 * blocks are the flash's 64 KiB erase blocks, clipped to the region. */
#include "flash_plan.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 0x1000u

static void md5_of(const uint8_t *d, size_t n, uint8_t out[16])
{
    unsigned int len = 16;
    EVP_Digest(d, n, out, &len, EVP_md5(), NULL);
}

static int nomem(st_err *err)
{
    st_err_set(err, ST_E_NOMEM, ST_PH_WRITE, "out of memory planning a region");
    return -1;
}

/* Image bytes [from, to) of block b (flash-aligned), clipped to the image. */
static void block_span(const st_image *img, uint32_t b, size_t *from, size_t *to)
{
    uint64_t start = (uint64_t)b * ST_PLAN_BLOCK, end = start + ST_PLAN_BLOCK;
    uint64_t lo = img->offset, hi = (uint64_t)img->offset + img->len;
    *from = (size_t)((start > lo ? start : lo) - lo);
    *to = (size_t)((end < hi ? end : hi) - lo);
}

/* Per block of the region: does the unit hold other bytes? */
static int changed_blocks(st_loader *l, const st_image *img, uint32_t b0, int nb, bool *chg,
                          st_err *err)
{
    for (int i = 0; i < nb; i++) {
        size_t from, to;
        block_span(img, b0 + (uint32_t)i, &from, &to);
        uint8_t want[16], got[16];
        md5_of(img->data + from, to - from, want);
        if (st_cmd_md5(l, img->offset + (uint32_t)from, (uint32_t)(to - from), got, err) < 0)
            return -1;
        chg[i] = memcmp(want, got, 16) != 0;
    }
    return 0;
}

static bool sector_erase_only(const st_image *img, size_t s)
{
    for (int r = 0; r < img->nruns; r++) {
        const st_image_run *run = &img->runs[r];
        if (s * SECTOR >= run->off && s * SECTOR < (size_t)run->off + run->len)
            return run->erase_only;
    }
    return false;
}

/* The prepared stream for image bytes [from, from+len), or NULL. */
static const st_image *prepared(const st_image *img, size_t from, size_t len)
{
    if (from == 0 && len == img->len)
        return img;
    for (int r = 0; r < img->nruns; r++)
        if (img->runs[r].piece && img->runs[r].off == from && img->runs[r].len == len)
            return img->runs[r].piece;
    return NULL;
}

static int add_step(const st_image *img, size_t from, size_t to, bool erase_only, st_plan *p,
                    st_err *err)
{
    st_plan_step *st = &p->steps[p->n];
    memset(st, 0, sizeof *st);
    st->off = img->offset + (uint32_t)from;
    st->erase_only = erase_only;
    if (erase_only) {
        st->len = (uint32_t)((to - from + SECTOR - 1) / SECTOR * SECTOR);
        p->erase_bytes += st->len;
        p->n++;
        return 0;
    }
    st->len = (uint32_t)(to - from);
    st->img = prepared(img, from, to - from);
    if (!st->img) {
        if (st_image_piece(img, from, to - from, &st->own, err) < 0) {
            err->phase = ST_PH_WRITE;
            return -1;
        }
        st->img = &st->own;
    }
    p->write_bytes += st->img->len;
    p->write_zbytes += st->img->zlen;
    p->n++;
    return 0;
}

int st_plan_region(st_loader *l, const st_image *img, bool compare, bool erase_runs, st_plan *p,
                   st_err *err)
{
    memset(p, 0, sizeof *p);
    if (img->len == 0)
        return 0;
    uint32_t b0 = img->offset / ST_PLAN_BLOCK;
    uint32_t b1 = (uint32_t)(((uint64_t)img->offset + img->len - 1) / ST_PLAN_BLOCK);
    int nb = (int)(b1 - b0 + 1);
    size_t nsec = (img->len + SECTOR - 1) / SECTOR;
    bool *chg = calloc((size_t)nb, sizeof *chg);
    p->steps = calloc(nsec, sizeof *p->steps);
    if (!chg || !p->steps) {
        free(chg);
        return nomem(err);
    }
    p->blocks = nb;
    p->compared = compare;
    int rc = 0;
    if (compare) {
        /* Block by block straight away: the digests that find an unchanged region also
         * locate the blocks of a changed one, so no region is read twice before writing
         * (a region MD5 first would cost a whole extra pass whenever it differs). */
        if (changed_blocks(l, img, b0, nb, chg, err) < 0) {
            free(chg);
            return -1;
        }
        bool any = false;
        for (int i = 0; i < nb; i++)
            any |= chg[i];
        if (!any) {
            p->unchanged = true;
            free(chg);
            return 0;
        }
    } else {
        for (int i = 0; i < nb; i++)
            chg[i] = true;
    }
    for (int i = 0; i < nb; i++)
        p->blocks_changed += chg[i];
    /* Runs of sectors that are to be written (same kind, inside changed blocks). */
    for (size_t s = 0; rc == 0 && s < nsec;) {
        bool c = chg[(img->offset + s * SECTOR) / ST_PLAN_BLOCK - b0];
        bool e = erase_runs && sector_erase_only(img, s);
        size_t t = s + 1;
        while (t < nsec && chg[(img->offset + t * SECTOR) / ST_PLAN_BLOCK - b0] == c &&
               (erase_runs && sector_erase_only(img, t)) == e)
            t++;
        size_t to = t * SECTOR < img->len ? t * SECTOR : img->len;
        if (c)
            rc = add_step(img, s * SECTOR, to, e, p, err);
        s = t;
    }
    free(chg);
    return rc;
}

/* The 4 KiB sectors [*lo, *hi) that [off, off+len) lies in. */
static void sector_span(uint32_t off, uint64_t len, uint64_t *lo, uint64_t *hi)
{
    *lo = off / SECTOR * (uint64_t)SECTOR;
    *hi = ((uint64_t)off + len + SECTOR - 1) / SECTOR * SECTOR;
}

bool st_plan_touches(const st_plan *p, uint32_t off, size_t len)
{
    uint64_t lo, hi;
    sector_span(off, len, &lo, &hi);
    for (int k = 0; k < p->n; k++) {
        uint64_t a, b;
        sector_span(p->steps[k].off, p->steps[k].len, &a, &b);
        if (a < hi && lo < b)
            return true;
    }
    return false;
}

bool st_plan_writes_sector(const st_plan *p, int from, uint32_t addr)
{
    for (int k = from; k < p->n; k++) {
        uint64_t a, b;
        sector_span(p->steps[k].off, p->steps[k].len, &a, &b);
        if (!p->steps[k].erase_only && addr >= a && addr < b)
            return true;
    }
    return false;
}

void st_plan_free(st_plan *p)
{
    for (int i = 0; p->steps && i < p->n; i++)
        if (p->steps[i].img == &p->steps[i].own)
            st_image_piece_free(&p->steps[i].own);
    free(p->steps);
    memset(p, 0, sizeof *p);
}

/* flash_plan.h - what one region needs on one unit (flash_plan.c): nothing when the unit
 * already holds the landing bytes (SPI_FLASH_MD5 of every 64 KiB block of the region),
 * else the blocks whose MD5 differs, split into written runs (each its own compressed
 * stream) and erase-only runs (sectors of the image that are entirely 0xFF: erased,
 * never programmed). A region that is written gets its final per-region MD5 after the
 * writes; a region found unchanged is proved by the digests that found it so, as long
 * as no step of the attempt touches its sectors afterwards (st_plan_touches). */
#ifndef ST_FLASH_PLAN_H
#define ST_FLASH_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "image.h"
#include "loader.h"

#define ST_PLAN_BLOCK 0x10000u /* compare granularity: the flash's 64 KiB erase block */

/* One device operation of a plan. */
typedef struct st_plan_step {
    uint32_t off, len;        /* flash address and bytes (an erase covers whole sectors) */
    bool erase_only;
    const st_image *img;      /* a write: the stream to send (borrowed or &own) */
    st_image own;             /* compressed for this unit when no prepared stream fits */
} st_plan_step;

typedef struct st_plan {
    st_plan_step *steps;
    int n;
    bool unchanged;           /* every block's MD5 already matched: no steps */
    bool compared;            /* the unit was asked (reflash changed) */
    int blocks, blocks_changed; /* 64 KiB blocks of the region / that differed (or all) */
    uint64_t write_bytes, write_zbytes, erase_bytes; /* what the steps will cost */
} st_plan;

/* Plan img on the unit behind l: with compare, one SPI_FLASH_MD5 per 64 KiB block (one for
 * a region inside a single block); without, every block is written. erase_runs false:
 * 0xFF sectors are programmed like the rest (the behaviour before erase-only runs, kept
 * for comparisons). 0, or -1 (err from
 * the MD5 commands, phase l->phase; ST_E_NOMEM). p is valid (possibly empty) either way
 * and released with st_plan_free. */
int st_plan_region(st_loader *l, const st_image *img, bool compare, bool erase_runs, st_plan *p,
                   st_err *err);
void st_plan_free(st_plan *p);
/* Does any step of p (an erase covers whole sectors, a stream erases every sector it
 * writes into) touch a 4 KiB sector of [off, off+len)? */
bool st_plan_touches(const st_plan *p, uint32_t off, size_t len);
/* Does a written (streamed) step of p from step `from` on erase and program the sector at
 * addr? */
bool st_plan_writes_sector(const st_plan *p, int from, uint32_t addr);

#endif

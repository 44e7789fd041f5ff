/* flash_plan.h - what one region needs on one unit (flash_plan.c): nothing when the unit
 * already holds the landing bytes (SPI_FLASH_MD5 of the region), else the 64 KiB blocks
 * whose MD5 differs, split into written runs (each its own compressed stream) and
 * erase-only runs (sectors of the image that are entirely 0xFF: erased, never
 * programmed). The plan never replaces the final per-region MD5 verification. */
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
    bool unchanged;           /* the region MD5 already matched: no steps */
    bool compared;            /* the unit was asked (reflash changed) */
    int blocks, blocks_changed; /* 64 KiB blocks of the region / that differed (or all) */
    uint64_t write_bytes, write_zbytes, erase_bytes; /* what the steps will cost */
} st_plan;

/* Plan img on the unit behind l: with compare, one SPI_FLASH_MD5 of the region, then one
 * per 64 KiB block when it differs; without, every block is written. erase_runs false:
 * 0xFF sectors are programmed like the rest (the behaviour before erase-only runs, kept
 * for comparisons). 0, or -1 (err from
 * the MD5 commands, phase l->phase; ST_E_NOMEM). p is valid (possibly empty) either way
 * and released with st_plan_free. */
int st_plan_region(st_loader *l, const st_image *img, bool compare, bool erase_runs, st_plan *p,
                   st_err *err);
void st_plan_free(st_plan *p);

#endif

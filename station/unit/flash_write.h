/* flash_write.h - one image region: compressed write and MD5 verification
 * (flash_write.c). */
#ifndef ST_FLASH_WRITE_H
#define ST_FLASH_WRITE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "image.h"
#include "loader.h"

/* Called after every block: bytes of the compressed stream sent so far for this image. */
typedef void (*st_block_fn)(void *user, size_t zdone, size_t ztotal);

/* ROM-mode FLASH_DATA block size (the ROM takes up to 0x1800). */
#define ST_ROM_PLAIN_BLOCK 0x1000

/* Write img at img->offset, changing no byte outside it (but the rest of its last
 * sector, erased).
 * Stub: compressed: FLASH_DEFL_BEGIN (exact size, 0x4000 blocks), the FLASH_DEFL_DATA
 * blocks, then the FLASH_DEFL_END(1) barrier; a corrupted block is resent with the same
 * seq (3 tries).
 * ROM: uncompressed FLASH_DATA (ST_ROM_PLAIN_BLOCK blocks, the last one short), because
 * the ROM's compressed path programs stale bytes past every stream (§14.1); a block
 * answered 01 07 is resent under the next seq (3 tries per block, 16 per region); a
 * block that gets no reply (the ROM lost its frame end) re-syncs and restarts the region
 * from FLASH_BEGIN (3 times per region).
 * *repaired (may be NULL) counts every block resent after a corruption and every restart. abort (may be
 * NULL) is checked between blocks (ST_E_INTERRUPTED). Errors have phase ST_PH_WRITE. */
int st_flash_write_image(st_loader *l, const st_image *img, atomic_int *abort, st_block_fn fn,
                         void *user, int *repaired, st_err *err);
/* SPI_FLASH_MD5 of img's region compared with img->md5. Mismatch -> ST_E_VERIFY,
 * md5_mismatch, or blank_readback when the unit's digest is that of len 0xFF bytes.
 * Errors have phase ST_PH_VERIFY. */
int st_flash_verify_image(st_loader *l, const st_image *img, st_err *err);
/* MD5 of n bytes of 0xFF (the digest of an erased region). */
void st_md5_erased(uint64_t n, uint8_t md5[16]);

#endif

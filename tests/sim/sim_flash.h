/* sim_flash.h - one unit's SPI NOR flash: erase sets 0xFF, program ANDs bits.
 * Memory-backed (64 KiB blocks allocated on first program, so 32 idle 16 MB units cost
 * nothing) or backed by a MAP_SHARED file (DIR/slotK.flash) that tests read directly.
 * Addresses wrap at the chip size, as a real NOR chip ignores the high address bits. */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_FLASH_BLOCK 0x10000u
#define SIM_FLASH_SECTOR 0x1000u

typedef struct sim_flash {
    uint32_t size;      /* bytes, power of two */
    uint8_t **blk;      /* size/64K block pointers; NULL = block fully erased (memory mode) */
    uint8_t *map;       /* file mode: whole-chip mapping, blk[] point into it */
    int fd;             /* file mode: backing file, else -1 */
} sim_flash;

/* Create an erased chip of `size` bytes; path NULL = memory, else the file is created
 * (or truncated) and filled with 0xFF. Returns 0, or -1 (errno set). */
int flash_init(sim_flash *f, uint32_t size, const char *path);
/* Release memory / unmap and close the file (the file itself stays). */
void flash_free(sim_flash *f);
/* Erase [off, off+len) - callers pass sector-aligned ranges. */
void flash_erase(sim_flash *f, uint32_t off, uint32_t len);
/* NOR program: every byte becomes old & new. */
void flash_program(sim_flash *f, uint32_t off, const uint8_t *d, uint32_t len);
/* XOR a mask into one byte (fault injection only: bypasses NOR rules). */
void flash_poke_xor(sim_flash *f, uint32_t off, uint8_t mask);
void flash_read(const sim_flash *f, uint32_t off, uint8_t *out, uint32_t len);
/* MD5 of [off, off+len) into digest[16]. */
void flash_md5(const sim_flash *f, uint32_t off, uint32_t len, uint8_t digest[16]);

#endif

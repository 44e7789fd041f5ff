/* sim_flash.h - one unit's SPI NOR flash: erase sets 0xFF, program ANDs bits.
 * Memory-backed (64 KiB blocks allocated on first program, so 32 idle 16 MB units cost
 * nothing) or backed by a MAP_SHARED file (DIR/slotK.flash) that tests read directly.
 * Addresses wrap at the chip size, as a real NOR chip ignores the high address bits.
 * Per 4 KiB sector the chip counts the page-program commands and erases it took (the
 * per-unit program counter; file DIR/slotK.ops in file mode: two little-endian uint32
 * per sector, programs then erases), so a test can prove a sector was never programmed. */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_FLASH_BLOCK 0x10000u
#define SIM_FLASH_SECTOR 0x1000u

/* Status registers SR1..SR3 (Winbond-style: SR1 b0 WIP, b1 WEL, b2-4 BP0-2, b5 TB,
 * b6 SEC, b7 SRP0; SR2 b0 SRP1, b1 QE, b6 CMP; SR3 b2 WPS, b5-6 DRV). `sr` is what RDSR
 * returns and what write protection decodes; `nv` is the non-volatile copy that a power
 * cycle loads into `sr`. WEL is bit 1 of sr[0]; `vwe` is the 50h volatile write enable. */
typedef struct sim_flash_sr {
    uint8_t sr[3], nv[3];
    bool vwe;
} sim_flash_sr;

typedef struct sim_flash {
    uint32_t size;      /* bytes, power of two */
    sim_flash_sr st;    /* status registers (the chip's: they survive CPU resets) */
    uint8_t **blk;      /* size/64K block pointers; NULL = block fully erased (memory mode) */
    uint8_t *map;       /* file mode: whole-chip mapping, blk[] point into it */
    int fd;             /* file mode: backing file, else -1 */
    uint32_t *ops;      /* per sector: [2k] program commands, [2k+1] erases */
    int ops_fd;         /* file mode: DIR/slotK.ops, else -1 */
} sim_flash;

/* Create an erased chip of `size` bytes; path NULL = memory, else the file is created
 * (or truncated) and filled with 0xFF, and ops_path (the counters) created zeroed.
 * Returns 0, or -1 (errno set). */
int flash_init(sim_flash *f, uint32_t size, const char *path, const char *ops_path);
/* Fill the whole chip with sim_pattern_byte (a unit that arrives holding other data). */
void flash_fill_pattern(sim_flash *f);
/* Release memory / unmap and close the file (the file itself stays). */
void flash_free(sim_flash *f);
/* Erase [off, off+len) - callers pass sector-aligned ranges. */
void flash_erase(sim_flash *f, uint32_t off, uint32_t len);
/* NOR program: every byte becomes old & new. */
void flash_program(sim_flash *f, uint32_t off, const uint8_t *d, uint32_t len);
/* Count the page-program commands (one per unit-aligned chunk) of [off, off+len) / one
 * erase of every sector of [off, off+len). */
void flash_count_program(sim_flash *f, uint32_t off, uint32_t len, uint32_t unit);
void flash_count_erase(sim_flash *f, uint32_t off, uint32_t len);
/* XOR a mask into one byte (fault injection only: bypasses NOR rules). */
void flash_poke_xor(sim_flash *f, uint32_t off, uint8_t mask);
void flash_read(const sim_flash *f, uint32_t off, uint8_t *out, uint32_t len);
/* ---- status registers (the SPI user commands of sim_regs.c reach them here) ---- */
#define SIM_SR1_WEL 0x02u
/* Status register n (0..2 for SR1..SR3) as RDSR 05h/35h/15h returns it. */
uint8_t flash_sr_read(const sim_flash *f, int n);
/* 06h WREN (sets WEL), 04h WRDI (clears WEL and the volatile enable), 50h volatile
 * status-register write enable. Other opcodes are ignored. */
void flash_sr_enable(sim_flash *f, uint8_t opcode);
/* WRSR (01h: SR1, SR2 when two bytes; 31h: SR2; 11h: SR3) with n data bytes: after 06h
 * writes the register and its non-volatile copy, after 50h only the volatile one; without
 * either nothing changes. Clears WEL and the volatile enable, as the chip does. */
void flash_sr_wrsr(sim_flash *f, uint8_t opcode, const uint8_t *d, int n);
/* Set status register n directly (faults, the stub's unlock); nonvolatile also sets the
 * power-on copy. Read-only bits (WIP, WEL) are not settable. */
void flash_sr_set(sim_flash *f, int n, uint8_t v, bool nonvolatile);
/* A CPU reset of the ESP32 (the flash stays powered): WEL and the volatile enable clear. */
void flash_sr_cpu_reset(sim_flash *f);
/* SR1/SR2 cannot be written: SRP1 set (power-supply lock-down until a power cycle). /WP
 * is modelled high, so SRP0 alone locks nothing. */
bool flash_sr_locked(const sim_flash *f);
/* Is [off, off+len) (sector-aligned) inside the range the status bits protect (W25Q128JV
 * table: BP0-2 with TB, SEC and CMP; WPS 1 = individual block locks, all locked at
 * power-up)? Program and erase there are ignored by the chip. */
bool flash_protected(const sim_flash *f, uint32_t off, uint32_t len);

/* MD5 of [off, off+len) into digest[16]. */
void flash_md5(const sim_flash *f, uint32_t off, uint32_t len, uint8_t digest[16]);

#endif

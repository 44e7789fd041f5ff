/* sim_regs.h - the register map READ_REG/WRITE_REG see (doc §5, §6): chip magic, eFuse
 * BLK0 words 0-6 (MAC, package, revision, CK8M), APB_CTL_DATE, UART_CLKDIV for the
 * unit's current baud, RTCCALICFG1, GPIO_STRAP, and SPI1 user commands (RDID, SFDP,
 * RDSR 05h/35h/15h, WREN/WRDI/50h, WRSR 01h/31h/11h) executed when CMD bit 18 is written.
 * A user command honours USR's MISO/MOSI phases and their bit lengths (MISO_DLEN,
 * MOSI_DLEN): it replaces only the W0.. bytes it receives, the rest keep what the host
 * wrote there (esptool writes W0 = 0, so RDID reads 0x001840ef as on the chip). The
 * status registers belong to the flash chip (sim_flash.h). UART0's date register reads
 * 0x15122500. The AHB aliases at 0x6000_0000.. of UART0, SPI1, SPI0 and eFuse are the same
 * registers as their 0x3FF4_0000.. twins. Unknown addresses read 0 unless written before. Same map in ROM and stub personalities. */
#ifndef SIM_REGS_H
#define SIM_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_flash.h"
#include "sim_opts.h"

#define SIM_REGS_SCRATCH 32

typedef struct sim_regs {
    const sim_unit_opts *o;
    uint32_t baud;         /* unit's UART rate, for UART_CLKDIV */
    bool download;         /* strapped into download mode (GPIO_STRAP) */
    bool spi_attached;     /* flash pins attached: RDID answers, else the bus floats */
    uint32_t spi[64];      /* SPI1 registers base+0x00..0xFC */
    sim_flash *flash;      /* the chip on SPI1: status registers */
    struct { uint32_t addr, val; } scratch[SIM_REGS_SCRATCH];
    int nscratch;
} sim_regs;

/* Reset state; flash is the unit's chip (its status registers are reached through SPI1). */
void regs_init(sim_regs *r, const sim_unit_opts *o, sim_flash *flash);
uint32_t regs_read(sim_regs *r, uint32_t addr);
void regs_write(sim_regs *r, uint32_t addr, uint32_t val);
/* eFuse BLK0 word n (0..6), as served. */
uint32_t regs_efuse_word(const sim_unit_opts *o, int n);

#endif

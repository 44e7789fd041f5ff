/* detect.h - what unit is on the line: chip family from the detect magic, package,
 * revision, MAC and features from eFuse (described exactly as esptool prints them),
 * crystal from UART_CLKDIV, and the flash chip's JEDEC ID and size through the SPI1
 * user-command registers (detect.c, spiflash.c). Facts: protocol reference §5, §6. */
#ifndef ST_DETECT_H
#define ST_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "chip.h"
#include "err.h"
#include "loader.h"

/* Chip family for a detect-magic value ("ESP32", "ESP32-S3", ...); NULL when unknown. */
const char *st_chip_name_for_magic(uint32_t magic);

/* From eFuse BLK0 words 0-6 and APB_CTL_DATE: mac, pkg, major, minor, package,
 * description ("ESP32-D0WD-V3 (revision v3.0)") and features. Pure. */
void st_chip_describe(const uint32_t efuse[7], uint32_t apb_ctl_date, st_chip_info *ci);

/* Crystal in MHz (40 or 26) from UART_CLKDIV read while the host runs at baud. */
int st_xtal_mhz(uint32_t uart_clkdiv, int baud);

/* Flash size in bytes from a JEDEC RDID value (capacity byte = bits 23..16); 0 when the
 * code is unknown. */
uint32_t st_flash_size_from_id(uint32_t flash_id);

/* The word CHANGE_BAUDRATE carries to the ESP32 ROM for `baud` (esptool's workaround:
 * the ROM divides by its own idea of the APB clock), from RTCCALICFG1 and eFuse word 4.
 * Falls back to baud itself when the calibration reads 0. Pure. */
uint32_t st_rom_baud_word(uint32_t rtccalicfg1, uint32_t efuse4, int baud);

/* Read the detect magic and, for an ESP32, eFuse, APB_CTL_DATE and UART_CLKDIV into ci
 * (chip, magic always; the rest only for an ESP32). host_baud is the port's current rate.
 * Errors have the loader's phase. */
int st_detect_chip(st_loader *l, int host_baud, st_chip_info *ci, st_err *err);

/* Run one SPI flash command through the SPI1 user-command registers (§6): 8-bit cmd,
 * data_bits of data (<= 64, little-endian words from data), read_bits (<= 32) of reply
 * into *out (may be NULL). Works against the ROM (after SPI_ATTACH) and the stub. */
int st_spiflash_command(st_loader *l, uint8_t cmd, const uint8_t *data, int data_bits,
                        int read_bits, uint32_t *out, st_err *err);
/* JEDEC ID (0x9F, 24 bits): mfr | type << 8 | capacity << 16. */
int st_spiflash_rdid(st_loader *l, uint32_t *flash_id, st_err *err);
/* RDSR 05h/35h/15h: status registers 1-3 into sr. */
int st_spiflash_rdsr(st_loader *l, uint8_t sr[3], st_err *err);
/* Do these status registers protect anything: block protection (BP0-2, CMP), status
 * register protection (SRP0, SRP1) or individual block locks (WPS)? */
bool st_flash_sr_protected(const uint8_t sr[3]);
/* Clear the protection bits (keeping QE and the drive strength): volatile (50h then
 * WRSR; lost at power-off) or non-volatile (06h then WRSR), then read the registers back
 * into sr. 0, or -1 with err; whether it worked is for the caller to judge from sr. */
int st_spiflash_unprotect(st_loader *l, bool nonvolatile, uint8_t sr[3], st_err *err);

#endif

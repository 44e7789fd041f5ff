/* chip.h - what the station learns about a unit when it connects. */
#ifndef ST_CHIP_H
#define ST_CHIP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct st_chip_info {
    uint32_t magic;          /* value of the chip-detect register */
    char chip[16];           /* "ESP32", or the name of another chip family */
    uint8_t mac[6];
    bool mac_crc_bad;        /* the eFuse MAC CRC does not match: the MAC may be misread */
    uint8_t mac_crc, mac_crc_want; /* stored in eFuse / computed from the MAC */
    int pkg;                 /* eFuse package code */
    int major, minor;        /* revision, e.g. 3, 0 */
    char description[64];    /* as esptool prints it: "ESP32-D0WD-V3 (revision v3.0)" */
    char package[24];        /* "ESP32-D0WD-V3" */
    char features[128];      /* "WiFi, BT, Dual Core, 240MHz, VRef calibration in efuse" */
    int xtal_mhz;            /* 40 or 26 */
    uint32_t flash_id;       /* JEDEC RDID: mfr | type<<8 | capacity<<16 */
    uint32_t flash_size;     /* bytes, from the RDID capacity byte; 0 if unknown */
    uint8_t flash_sr[3];     /* status registers 1-3 as read at detect (RDSR 05h/35h/15h) */
    bool flash_sr_known;
    uint32_t efuse[7];       /* eFuse BLK0 read words 0-6 as read at detect (ESP32 only) */
    bool efuse_known;
} st_chip_info;

/* The eFuse security state of an ESP32 (BLK0, protocol reference §5.2; bit positions as
 * in ESP-IDF's esp32 efuse table). */
typedef struct st_efuse_security {
    int flash_crypt_cnt;     /* word 0 [26:20], 7 bits */
    bool flash_encryption;   /* odd number of FLASH_CRYPT_CNT bits set: encryption on */
    bool secure_boot_v1;     /* word 6 b4 ABS_DONE_0 */
    bool secure_boot_v2;     /* word 6 b5 ABS_DONE_1 */
    bool jtag_disabled;      /* word 6 b6 JTAG_DISABLE */
    bool console_debug_disabled; /* word 6 b2 */
    bool dl_encrypt_disabled;    /* word 6 b7 DISABLE_DL_ENCRYPT */
    bool dl_decrypt_disabled;    /* word 6 b8 DISABLE_DL_DECRYPT */
    bool dl_cache_disabled;      /* word 6 b9 DISABLE_DL_CACHE */
    int coding_scheme;       /* word 6 [1:0]: 0 none, 1 3/4, 2 repeat, 3 invalid */
    int rd_disable;          /* word 0 [19:16] */
} st_efuse_security;

/* Decode the security state from BLK0 words 0-6. Pure. */
void st_efuse_security_decode(const uint32_t efuse[7], st_efuse_security *sec);
/* "none", "3/4", "repeat", "invalid". */
const char *st_coding_scheme_name(int cs);

/* eFuse MAC CRC: CRC-8/Maxim (reflected 0x8C, init 0) over the six MAC bytes in printed
 * order, as ESP-IDF and espefuse compute it. */
uint8_t st_mac_crc8(const uint8_t mac[6]);

/* "94:b9:7e:5a:6e:58" into buf (>= 18 bytes). */
void st_mac_format(const uint8_t mac[6], char *buf);

#endif

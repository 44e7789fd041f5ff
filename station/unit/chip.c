/* chip.c - formatting of what the station learns about a unit. */
#include "chip.h"

void st_mac_format(const uint8_t mac[6], char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        buf[i * 3] = hex[mac[i] >> 4];
        buf[i * 3 + 1] = hex[mac[i] & 15];
        buf[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
}

uint8_t st_mac_crc8(const uint8_t mac[6])
{
    uint8_t crc = 0;
    for (int i = 0; i < 6; i++) {
        crc ^= mac[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
    }
    return crc;
}

void st_efuse_security_decode(const uint32_t ef[7], st_efuse_security *sec)
{
    uint32_t w0 = ef[0], w6 = ef[6];
    sec->flash_crypt_cnt = (int)((w0 >> 20) & 0x7F);
    sec->flash_encryption = __builtin_popcount((unsigned)sec->flash_crypt_cnt) & 1;
    sec->rd_disable = (int)((w0 >> 16) & 0xF);
    sec->coding_scheme = (int)(w6 & 3);
    sec->console_debug_disabled = (w6 >> 2) & 1;
    sec->secure_boot_v1 = (w6 >> 4) & 1;
    sec->secure_boot_v2 = (w6 >> 5) & 1;
    sec->jtag_disabled = (w6 >> 6) & 1;
    sec->dl_encrypt_disabled = (w6 >> 7) & 1;
    sec->dl_decrypt_disabled = (w6 >> 8) & 1;
    sec->dl_cache_disabled = (w6 >> 9) & 1;
}

const char *st_coding_scheme_name(int cs)
{
    static const char *const names[4] = {"none", "3/4", "repeat", "invalid"};
    return names[cs & 3];
}

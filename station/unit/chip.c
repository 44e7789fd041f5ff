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

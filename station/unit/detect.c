/* detect.c - chip identification from the detect magic and eFuse BLK0, described the
 * way esptool v4 prints it (operators compare with what they know). */
#include "detect.h"

#include <stdio.h>
#include <string.h>

#include "esp_proto.h"

const char *st_chip_name_for_magic(uint32_t magic)
{
    switch (magic) {
    case ESP32_CHIP_MAGIC: return "ESP32";
    case 0xFFF0C101u: return "ESP8266";
    case 0x000007C6u: return "ESP32-S2";
    case ESP32S3_CHIP_MAGIC: return "ESP32-S3";
    case 0x6921506Fu:
    case 0x1B31506Fu:
    case 0x4881606Fu:
    case 0x4361606Fu: return "ESP32-C3";
    case 0x6F51306Fu:
    case 0x7C41A06Fu: return "ESP32-C2";
    case 0x2CE0806Fu: return "ESP32-C6";
    case 0xD7B73E80u: return "ESP32-H2";
    default: return NULL;
    }
}

static const char *package_name(int pkg, bool single_core, bool rev3)
{
    switch (pkg) {
    case 0: return single_core ? "ESP32-S0WDQ6" : "ESP32-D0WDQ6";
    case 1: return single_core ? "ESP32-S0WD" : "ESP32-D0WD";
    case 2: return "ESP32-D2WD";
    case 4: return "ESP32-U4WDH";
    case 5: return rev3 ? "ESP32-PICO-V3" : "ESP32-PICO-D4";
    case 6: return "ESP32-PICO-V3-02";
    case 7: return "ESP32-D0WDR2-V3";
    default: return "unknown ESP32";
    }
}

static void add_feature(char *buf, size_t cap, const char *f)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", f);
}

void st_chip_describe(const uint32_t ef[7], uint32_t apb_ctl_date, st_chip_info *ci)
{
    /* MAC: bytes 0-1 in word 2 [15:0], bytes 2-5 in word 1 (MSB first). */
    ci->mac[0] = (uint8_t)(ef[2] >> 8);
    ci->mac[1] = (uint8_t)ef[2];
    ci->mac[2] = (uint8_t)(ef[1] >> 24);
    ci->mac[3] = (uint8_t)(ef[1] >> 16);
    ci->mac[4] = (uint8_t)(ef[1] >> 8);
    ci->mac[5] = (uint8_t)ef[1];
    ci->mac_crc = (uint8_t)(ef[2] >> 16);
    ci->mac_crc_want = st_mac_crc8(ci->mac);
    ci->mac_crc_bad = ci->mac_crc != ci->mac_crc_want;

    uint32_t w3 = ef[3];
    ci->pkg = (int)(((w3 >> 9) & 7) | (((w3 >> 2) & 1) << 3));
    unsigned b0 = (w3 >> 15) & 1, b1 = (ef[5] >> 20) & 1, b2 = (apb_ctl_date >> 31) & 1;
    switch (b2 << 2 | b1 << 1 | b0) {
    case 1: ci->major = 1; break;
    case 3: ci->major = 2; break;
    case 7: ci->major = 3; break;
    default: ci->major = 0; break;
    }
    ci->minor = (int)((ef[5] >> 24) & 3);

    bool single = w3 & 1, rev3 = ci->major == 3;
    const char *name = package_name(ci->pkg, single, rev3);
    snprintf(ci->package, sizeof ci->package, "%s%s", name,
             (rev3 && strncmp(name, "ESP32-D0WD", 10) == 0) ? "-V3" : "");
    snprintf(ci->description, sizeof ci->description, "%s (revision v%d.%d)", ci->package,
             ci->major, ci->minor);

    char *f = ci->features;
    size_t cap = sizeof ci->features;
    f[0] = 0;
    add_feature(f, cap, "WiFi");
    if (!(w3 & (1u << 1)))
        add_feature(f, cap, "BT");
    add_feature(f, cap, single ? "Single Core" : "Dual Core");
    if (w3 & (1u << 13))
        add_feature(f, cap, (w3 & (1u << 12)) ? "160MHz" : "240MHz");
    if (ci->pkg == 2 || ci->pkg == 4 || ci->pkg == 5 || ci->pkg == 6)
        add_feature(f, cap, "Embedded Flash");
    if (ci->pkg == 6)
        add_feature(f, cap, "Embedded PSRAM");
    if ((ef[4] >> 8) & 0x1F)
        add_feature(f, cap, "VRef calibration in efuse");
    if ((w3 >> 14) & 1)
        add_feature(f, cap, "BLK3 partially reserved");
    static const char *const coding[4] = {"None", "3/4", "Repeat (UNSUPPORTED)",
                                          "None (may contain encoding data)"};
    char cs[48];
    snprintf(cs, sizeof cs, "Coding Scheme %s", coding[ef[6] & 3]);
    add_feature(f, cap, cs);
}

int st_xtal_mhz(uint32_t uart_clkdiv, int baud)
{
    double mhz = (double)baud * (uart_clkdiv & 0xFFFFF) / 1e6;
    return mhz > 33 ? 40 : 26;
}

uint32_t st_flash_size_from_id(uint32_t flash_id)
{
    uint8_t c = (uint8_t)(flash_id >> 16);
    if (c >= 0x12 && c <= 0x1C)
        return (uint32_t)(256u * 1024u) << (c - 0x12);
    if (c >= 0x20 && c <= 0x22)
        return (uint32_t)(64u * 1024u * 1024u) << (c - 0x20);
    if (c >= 0x32 && c <= 0x3A)
        return (uint32_t)(256u * 1024u) << (c - 0x32);
    return 0;
}

uint32_t st_rom_baud_word(uint32_t rtccalicfg1, uint32_t efuse4, int baud)
{
    uint64_t cali = (rtccalicfg1 >> 7) & 0x1FFFFFF;
    uint64_t ck8m = efuse4 & 0xFF;
    /* rom_freq = cali * 15625 * ck8m / 40 (Hz); exact integers like esptool. */
    uint64_t rom_freq = cali * 15625u * ck8m / 40u;
    if (rom_freq == 0)
        return (uint32_t)baud;
    uint64_t valid = rom_freq > 33000000u ? 40000000u : 26000000u;
    return (uint32_t)((uint64_t)baud * rom_freq / valid);
}

int st_detect_chip(st_loader *l, int host_baud, st_chip_info *ci, st_err *err)
{
    uint32_t magic;
    if (st_cmd_read_reg(l, ESP32_CHIP_MAGIC_REG, &magic, err) < 0)
        return -1;
    ci->magic = magic;
    const char *name = st_chip_name_for_magic(magic);
    snprintf(ci->chip, sizeof ci->chip, "%s", name ? name : "unknown");
    if (magic != ESP32_CHIP_MAGIC)
        return 0;
    uint32_t ef[7], date, clkdiv;
    for (int i = 0; i < 7; i++)
        if (st_cmd_read_reg(l, ESP32_EFUSE_BASE + 4u * (uint32_t)i, &ef[i], err) < 0)
            return -1;
    if (st_cmd_read_reg(l, ESP32_APB_CTL_DATE, &date, err) < 0 ||
        st_cmd_read_reg(l, ESP32_UART_CLKDIV, &clkdiv, err) < 0)
        return -1;
    st_chip_describe(ef, date, ci);
    memcpy(ci->efuse, ef, sizeof ci->efuse);
    ci->efuse_known = true;
    ci->xtal_mhz = st_xtal_mhz(clkdiv, host_baud);
    return 0;
}

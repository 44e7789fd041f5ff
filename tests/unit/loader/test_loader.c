/* test_loader - the bootloader client's pure parts: reply parsing with byte-exact frames
 * from the protocol reference (§12, §14), status classification and error values, chip
 * description from eFuse words (§5.2), flash size from RDID (§6), the ROM baud formula
 * (§5.3), timeout scaling (§11.2) and the reset plan (§8.1). */
#include "check.h"
#include "detect.h"
#include "esp_proto.h"
#include "flash_write.h"
#include "loader.h"
#include "reset.h"

#include <stdio.h>
#include <string.h>

/* A SLIP-decoded reply from hex text ("01 08 04 00 ..."). */
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (sscanf(s, " %2x%n", &v, &used) == 1) {
        out[n++] = (uint8_t)v;
        s += used;
    }
    return n;
}

/* The reply in hex text, into f and parsed into r (a checked success). */
static void reply(const char *hex, uint8_t *f, st_resp *r)
{
    size_t n = unhex(hex, f);
    CHECK_EQ_INT(st_resp_parse(f, n, r), 0);
}

/* A ROM SPI_FLASH_MD5 reply (size 0x24): the 32 ASCII digits, then the 4 status bytes
 * (hex text), into f and parsed into r. */
static void rom_md5_reply(const char *digits, const char *status, uint8_t *f, st_resp *r)
{
    size_t n = unhex("01 13 24 00 00 00 00 00", f);
    memcpy(f + n, digits, 32);
    n += 32;
    n += unhex(status, f + n);
    CHECK_EQ_INT(st_resp_parse(f, n, r), 0);
}

static void test_generic_replies(void)
{
    uint8_t f[64];
    st_resp r;
    st_err e;

    /* SYNC reply from the ROM (§12): value 0x20120707, 4 status bytes. */
    reply("01 08 04 00 07 07 12 20 00 00 00 00", f, &r);
    CHECK_EQ_INT(r.op, ESP_SYNC);
    CHECK_EQ_INT(r.value, 0x20120707);
    CHECK_EQ_INT(st_resp_split(&r, false, 0, 0, &e), 0);
    CHECK_EQ_INT(r.nstatus, 4);
    CHECK(st_resp_ok(&r));

    /* READ_REG of the magic: ROM form and stub form (§12). */
    reply("01 0A 04 00 83 1D F0 00 00 00 00 00", f, &r);
    CHECK_EQ_INT(r.value, ESP32_CHIP_MAGIC);
    CHECK_EQ_INT(st_resp_split(&r, false, 0, 0, &e), 0);
    CHECK_EQ_INT(r.nstatus, 4);
    CHECK_EQ_INT(r.data_len, 0);
    reply("01 0A 02 00 83 1D F0 00 00 00", f, &r);
    CHECK_EQ_INT(r.value, ESP32_CHIP_MAGIC);
    CHECK_EQ_INT(st_resp_split(&r, true, 0, 0, &e), 0);
    CHECK_EQ_INT(r.nstatus, 2);
    CHECK(st_resp_ok(&r));
    /* The form follows the length even when the mode guess is wrong. */
    CHECK_EQ_INT(st_resp_split(&r, false, 0, 0, &e), 0);
    CHECK_EQ_INT(r.nstatus, 2);

    /* §14: a stale error byte on success (00 05) is success; only byte 0 decides. */
    reply("01 0B 04 00 00 00 00 00 00 05 00 00", f, &r);
    CHECK_EQ_INT(st_resp_split(&r, false, 0, 0, &e), 0);
    CHECK(st_resp_ok(&r));
    CHECK_EQ_INT(r.status[1], 0x05);

    /* Not replies: direction 0, shorter than a header. */
    size_t n = unhex("00 08 04 00 07 07 12 20 00 00 00 00", f);
    CHECK_EQ_INT(st_resp_parse(f, n, &r), -1);
    n = unhex("01 08 04 00 07", f);
    CHECK_EQ_INT(st_resp_parse(f, n, &r), -1);
    CHECK_EQ_INT(st_resp_parse((const uint8_t *)"OHAI", 4, &r), -1);

    /* A reply too short for its status is a protocol error, not a crash. */
    reply("01 13 03 00 00 00 00 00 aa bb cc", f, &r);
    CHECK_EQ_INT(st_resp_split(&r, false, 32, 16, &e), -1);
    CHECK_EQ_INT(e.cat, ST_E_PROTOCOL);
    CHECK_EQ_INT(e.fclass, ST_FC_PROTOCOL);
    /* A size field larger than what arrived is clipped. */
    reply("01 0A 40 00 00 00 00 00 00 00 00 00", f, &r);
    CHECK_EQ_INT(r.body_len, 4);
}

static void test_md5_replies(void)
{
    static const uint8_t hello[16] = {0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76,
                                      0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92};
    uint8_t f[64], md5[16];
    st_resp r;
    st_err e;

    /* ROM: 32 lowercase ASCII hex digits + 4 status bytes (size 0x24). */
    rom_md5_reply("5d41402abc4b2a76b9719d911017c592", "00 00 00 00", f, &r);
    CHECK_EQ_INT(r.size, 36);
    CHECK_EQ_INT(st_resp_split(&r, false, 32, 16, &e), 0);
    CHECK_EQ_INT(r.nstatus, 4);
    CHECK_EQ_INT(r.data_len, 32);
    CHECK(st_resp_ok(&r));
    CHECK_EQ_INT(st_hex_md5(r.data, md5), 0);
    CHECK_MEM(md5, hello, 16);

    /* Stub: 16 raw bytes + 2 status bytes (size 0x12). */
    reply("01 13 12 00 00 00 00 00 5D 41 40 2A BC 4B 2A 76 B9 71 9D 91 10 17 C5 92 00 00", f, &r);
    CHECK_EQ_INT(st_resp_split(&r, true, 32, 16, &e), 0);
    CHECK_EQ_INT(r.nstatus, 2);
    CHECK_EQ_INT(r.data_len, 16);
    CHECK_MEM(r.data, hello, 16);

    /* §14: MD5 past the flash end: stale digits with 01 09 -> an error, whatever the digits. */
    rom_md5_reply("5d41402abc4b2a76b9719d911017c592", "01 09 00 00", f, &r);
    CHECK_EQ_INT(st_resp_split(&r, false, 32, 16, &e), 0);
    CHECK(!st_resp_ok(&r));
    CHECK_EQ_INT(st_resp_error(&r, ST_PH_VERIFY, &e), -1);
    CHECK_EQ_INT(e.cmd, ESP_SPI_FLASH_MD5);
    CHECK_EQ_INT(e.nstatus, 4);
    CHECK_MEM(e.status, "\x01\x09\x00\x00", 4);
    CHECK_EQ_INT(e.phase, ST_PH_VERIFY);
    CHECK_EQ_INT(e.cat, ST_E_DEVICE);

    CHECK_EQ_INT(st_hex_md5((const uint8_t *)"5D41402ABC4B2A76B9719D911017C592", md5), 0);
    CHECK_MEM(md5, hello, 16);
    CHECK_EQ_INT(st_hex_md5((const uint8_t *)"5d41402abc4b2a76b9719d911017c59g", md5), -1);

    /* Digest of an erased region (what "blank" reads back as). */
    static const uint8_t empty[16] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                      0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};
    st_md5_erased(0, md5);
    CHECK_MEM(md5, empty, 16);
    uint8_t want[16];
    CHECK_EQ_INT(st_hex_md5((const uint8_t *)"9fe822afc7875bf11f05a363e2165382", want), 0);
    st_md5_erased(4096 * 2 + 7, md5);
    CHECK_MEM(md5, want, 16);
}

static void test_ram_checksum_error(void)
{
    /* §4.4 / §12: MEM_DATA checksum failure from the ROM during stub upload. */
    uint8_t f[32];
    st_resp r;
    st_err e;
    reply("01 07 04 00 00 00 00 00 01 07 00 00", f, &r);
    CHECK_EQ_INT(st_resp_split(&r, false, 0, 0, &e), 0);
    CHECK(!st_resp_ok(&r));
    CHECK_EQ_INT(st_resp_error(&r, ST_PH_STUB, &e), -1);
    CHECK_EQ_INT(e.phase, ST_PH_STUB);
    CHECK_EQ_INT(e.cmd, ESP_MEM_DATA);
    CHECK_EQ_INT(e.nstatus, 4);
    CHECK_MEM(e.status, "\x01\x07\x00\x00", 4);
    CHECK_EQ_INT(e.fclass, ST_FC_STUB_RAM_CHECKSUM);
    CHECK_EQ_INT(e.cat, ST_E_DEVICE);
    CHECK_CONTAINS(e.msg, "Failed to write to target RAM (result was 01070000): checksum error "
                          "in a RAM block");
    CHECK_CONTAINS(e.msg, "the bytes were corrupted on the serial link");
    CHECK_STR(e.hint, st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM));
    CHECK_STR(st_fclass_name(e.fclass), "stub_ram_checksum");
    char line[600];
    st_err_format(&e, line, sizeof line);
    CHECK_CONTAINS(line, "stub_upload, MEM_DATA: ");
    CHECK_CONTAINS(line, "status 01 07 00 00");
}

static void test_classification(void)
{
    static const uint8_t c4[2] = {0xC4, 0}, c7[2] = {0xC7, 0}, c1[2] = {0xC1, 0};
    static const uint8_t r08[4] = {1, 8, 0, 0}, r0b[4] = {1, 0x0B, 0, 0}, r0c[4] = {1, 0x0C, 0, 0};
    static const uint8_t r07[4] = {1, 7, 0, 0}, r05[4] = {1, 5, 0, 0}, ok[4] = {0, 5, 0, 0};
    static const struct {
        uint8_t op;
        st_phase ph;
        const uint8_t *status;
        int nstatus;
        st_fclass want;
    } cases[] = {
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, c4, 2, ST_FC_FLASH_WRITE},
        {ESP_FLASH_DEFL_END, ST_PH_WRITE, c4, 2, ST_FC_FLASH_WRITE},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, r08, 4, ST_FC_FLASH_WRITE},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, c7, 2, ST_FC_INFLATE},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, r0b, 4, ST_FC_INFLATE},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, r0c, 4, ST_FC_INFLATE},
        {ESP_MEM_DATA, ST_PH_STUB, r07, 4, ST_FC_STUB_RAM_CHECKSUM},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, r07, 4, ST_FC_PROTOCOL},
        {ESP_FLASH_DEFL_DATA, ST_PH_WRITE, c1, 2, ST_FC_PROTOCOL},
        {ESP_CHANGE_BAUDRATE, ST_PH_BAUD, r05, 4, ST_FC_BAUD_CHANGE},
        {ESP_MEM_END, ST_PH_STUB, r05, 4, ST_FC_STUB_START},
        {ESP_SPI_SET_PARAMS, ST_PH_ATTACH, ok, 4, ST_FC_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!CHECK_EQ_INT(st_status_fclass(cases[i].op, cases[i].ph, cases[i].status,
                                           cases[i].nstatus), cases[i].want))
            fprintf(stderr, "  case %zu: %s with status %02x %02x\n", i,
                    esp_cmd_name(cases[i].op), cases[i].status[0], cases[i].status[1]);

    /* Inflate error from the stub, written as an operator would read it. */
    st_resp r = {.op = ESP_FLASH_DEFL_DATA, .nstatus = 2, .status = {0xC7, 0}};
    st_err e;
    st_resp_error(&r, ST_PH_WRITE, &e);
    CHECK_EQ_INT(e.fclass, ST_FC_INFLATE);
    CHECK_EQ_INT(e.nstatus, 2);
    CHECK_CONTAINS(e.msg, "Failed to write compressed data to flash (result was c700)");
}

static void test_chip_description(void)
{
    /* The doc's default eFuse set with APB_CTL_DATE bit 31 set (§5.2). */
    const uint32_t ef[7] = {0x00000000, 0x7e5a6e58, 0x00e294b9, 0x0000a200,
                            0x00000333, 0x00100000, 0x00000004};
    st_chip_info ci;
    memset(&ci, 0, sizeof ci);
    st_chip_describe(ef, 0x80000000u, &ci);
    CHECK_STR(ci.description, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_STR(ci.package, "ESP32-D0WD-V3");
    CHECK_EQ_INT(ci.pkg, 1);
    CHECK_EQ_INT(ci.major, 3);
    CHECK_EQ_INT(ci.minor, 0);
    char mac[18];
    st_mac_format(ci.mac, mac);
    CHECK_STR(mac, "94:b9:7e:5a:6e:58");
    /* the real chip's CRC byte 0xe2 (word 2 [23:16]) is CRC-8/Maxim over the MAC in
     * printed order: the check passes; one flipped CRC bit makes it fail */
    CHECK_EQ_INT(st_mac_crc8(ci.mac), 0xe2);
    CHECK(!ci.mac_crc_bad);
    const uint32_t ef_bad[7] = {0x00000000, 0x7e5a6e58, 0x00e394b9, 0x0000a200,
                                0x00000333, 0x00100000, 0x00000004};
    st_chip_describe(ef_bad, 0x80000000u, &ci);
    CHECK(ci.mac_crc_bad);
    CHECK_EQ_INT(ci.mac_crc, 0xe3);
    CHECK_EQ_INT(ci.mac_crc_want, 0xe2);
    st_chip_describe(ef, 0x80000000u, &ci);
    CHECK_STR(ci.features, "WiFi, BT, Dual Core, 240MHz, VRef calibration in efuse, Coding Scheme None");

    /* Same fuses, bit 31 clear: revision 2, no -V3 suffix. */
    st_chip_describe(ef, 0x16042000u, &ci);
    CHECK_STR(ci.description, "ESP32-D0WD (revision v2.0)");

    /* D0WDQ6 revision 1 (older Fire lots): package 0, only CHIP_VER_REV1 set. */
    const uint32_t q6[7] = {0, 0x11223344, 0x0000240a, 0x00008000 | (1u << 13), 0, 0, 0};
    st_chip_describe(q6, 0, &ci);
    CHECK_STR(ci.description, "ESP32-D0WDQ6 (revision v1.0)");
    CHECK_EQ_INT(ci.pkg, 0);
    st_mac_format(ci.mac, mac);
    CHECK_STR(mac, "24:0a:11:22:33:44");

    /* A D0WDQ6 at revision 3 gets the -V3 suffix too; single core renames it. */
    const uint32_t q6v3[7] = {0, 0, 0, 0x00008000, 0, 0x00100000, 0};
    st_chip_describe(q6v3, 0x80000000u, &ci);
    CHECK_STR(ci.description, "ESP32-D0WDQ6-V3 (revision v3.0)");
    const uint32_t s0[7] = {0, 0, 0, 0x00000201 | 0x8000, 0, 0x01000000, 0};
    st_chip_describe(s0, 0, &ci);
    CHECK_STR(ci.description, "ESP32-S0WD (revision v1.1)");
    CHECK_CONTAINS(ci.features, "Single Core");

    CHECK_STR(st_chip_name_for_magic(ESP32_CHIP_MAGIC), "ESP32");
    CHECK_STR(st_chip_name_for_magic(ESP32S3_CHIP_MAGIC), "ESP32-S3");
    CHECK(st_chip_name_for_magic(0x12345678) == NULL);

    CHECK_EQ_INT(st_xtal_mhz(0x0030015B, 115200), 40);
    CHECK_EQ_INT(st_xtal_mhz(226, 115200), 26);
}

static void test_flash_size(void)
{
    CHECK_EQ_INT(st_flash_size_from_id(0x001840EF), 16u << 20); /* W25Q128 */
    CHECK_EQ_INT(st_flash_size_from_id(0x001640EF), 4u << 20);  /* W25Q32 (§6 example) */
    CHECK_EQ_INT(st_flash_size_from_id(0x001740C8), 8u << 20);
    CHECK_EQ_INT(st_flash_size_from_id(0x00124000), 256u << 10);
    CHECK_EQ_INT(st_flash_size_from_id(0x003925C2), 32u << 20);
    CHECK_EQ_INT(st_flash_size_from_id(0x002020C2), 64u << 20);
    CHECK_EQ_INT(st_flash_size_from_id(0x00FFFFFF), 0);
    CHECK_EQ_INT(st_flash_size_from_id(0), 0);
}

static void test_baud_and_timeouts(void)
{
    /* ck8m 80 and RTCCALICFG1 1280<<7 (= 0x28000; §5.3 misprints it as 0xA0000) give
     * exactly 40 MHz: the word is the baud. */
    CHECK_EQ_INT(st_rom_baud_word(1280u << 7, 0x00000350, 921600), 921600);
    /* 0xA0000 is cali 5120: the ROM would think its clock is 160 MHz. */
    CHECK_EQ_INT(st_rom_baud_word(0x000A0000, 0x00000050, 921600), 4 * 921600);
    /* The doc's eFuse word 4 (CK8M 0x33 = 51) -> 25.5 MHz, "valid" 26 MHz. */
    CHECK_EQ_INT(st_rom_baud_word(1280u << 7, 0x00000333, 921600), 903876);
    /* No calibration: the baud unscaled rather than 0. */
    CHECK_EQ_INT(st_rom_baud_word(0, 0x50, 460800), 460800);

    CHECK_EQ_INT(st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, 0), ST_TO_DEFAULT_MS);
    CHECK_EQ_INT(st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, 0x4000), ST_TO_DEFAULT_MS);
    CHECK_EQ_INT(st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, 1000000), 40000);
    CHECK_EQ_INT(st_timeout_per_mb(ST_TO_MD5_PER_MB_MS, 16u << 20), 134217);
    CHECK_EQ_INT(st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, 0x640000), 262144);
    CHECK(st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, 2000000) >
          st_timeout_per_mb(ST_TO_WRITE_PER_MB_MS, 1000000));

    st_reset_kind k;
    int d;
    st_reset_plan(0, &k, &d);
    CHECK(k == ST_RESET_UNIX_TIGHT && d == 50);
    st_reset_plan(1, &k, &d);
    CHECK(k == ST_RESET_UNIX_TIGHT && d == 550);
    st_reset_plan(2, &k, &d);
    CHECK(k == ST_RESET_CLASSIC && d == 50);
    st_reset_plan(3, &k, &d);
    CHECK(k == ST_RESET_CLASSIC && d == 550);
    st_reset_plan(4, &k, &d);
    CHECK(k == ST_RESET_UNIX_TIGHT && d == 50);
}

int main(void)
{
    test_generic_replies();
    test_md5_replies();
    test_ram_checksum_error();
    test_classification();
    test_chip_description();
    test_flash_size();
    test_baud_and_timeouts();
    return check_summary("test_loader");
}

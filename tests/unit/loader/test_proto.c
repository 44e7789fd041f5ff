/* test_proto - protocol tables and error values: checksum against the protocol doc's
 * worked examples (shared/docs/esp32-serial-protocol.md), command names, status
 * meanings, error formatting, failure-class names, MAC formatting. */
#include "check.h"
#include "chip.h"
#include "err.h"
#include "esp_proto.h"
#include "slip.h"

/* Build a *_DATA command packet the way the doc's example does and SLIP-encode it. */
static size_t mem_data_frame(const uint8_t *data, uint32_t n, uint32_t seq, uint8_t *wire)
{
    uint8_t pkt[ESP_HDR_LEN + ESP_DATA_HDR_LEN + 64] = {0};
    pkt[0] = 0x00;
    pkt[1] = ESP_MEM_DATA;
    esp_put16(pkt + 2, (uint16_t)(ESP_DATA_HDR_LEN + n));
    esp_put32(pkt + 4, esp_checksum(data, n));
    esp_put32(pkt + 8, n);
    esp_put32(pkt + 12, seq);
    memcpy(pkt + ESP_HDR_LEN + ESP_DATA_HDR_LEN, data, n);
    return slip_encode(pkt, ESP_HDR_LEN + ESP_DATA_HDR_LEN + n, wire);
}

static void test_checksum(void)
{
    const uint8_t d1[] = {0xDE, 0xAD, 0xBE, 0xEF};
    CHECK_EQ_INT(esp_checksum(d1, 4), 0xCD);
    const uint8_t d2[] = {0xC0, 0xDB, 0x01, 0x02};
    CHECK_EQ_INT(esp_checksum(d2, 4), 0xF7);
    CHECK_EQ_INT(esp_checksum(NULL, 0), ESP_CHECKSUM_SEED);

    /* The whole MEM_DATA frame from the doc, byte for byte. */
    const uint8_t expect[] = {0xC0, 0x00, 0x07, 0x14, 0x00, 0xCD, 0x00, 0x00, 0x00,
                              0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0xDE, 0xAD, 0xBE, 0xEF, 0xC0};
    uint8_t wire[128];
    size_t n = mem_data_frame(d1, 4, 0, wire);
    CHECK_EQ_INT(n, sizeof expect);
    CHECK_MEM(wire, expect, sizeof expect);

    /* Escaping example: size stays 0x14, the payload tail is escaped on the wire. */
    n = mem_data_frame(d2, 4, 1, wire);
    CHECK_EQ_INT(wire[3], 0x14);
    CHECK_EQ_INT(wire[5], 0xF7);
    const uint8_t tail[] = {0xDB, 0xDC, 0xDB, 0xDD, 0x01, 0x02, 0xC0};
    CHECK(n >= sizeof tail);
    CHECK_MEM(wire + n - sizeof tail, tail, sizeof tail);
}

static void test_cmd_names(void)
{
    CHECK_STR(esp_cmd_name(ESP_MEM_DATA), "MEM_DATA");
    CHECK_STR(esp_cmd_name(0x08), "SYNC");
    CHECK_STR(esp_cmd_name(ESP_FLASH_DEFL_DATA), "FLASH_DEFL_DATA");
    CHECK_STR(esp_cmd_name(ESP_SPI_FLASH_MD5), "SPI_FLASH_MD5");
    CHECK_STR(esp_cmd_name(0x99), "0x99");
    CHECK_STR(esp_cmd_name(0x00), "0x00");
}

static void test_status_meaning(void)
{
    const uint8_t rom_bad[4] = {0x01, 0x07, 0x00, 0x00};
    const uint8_t rom_ok[4] = {0x00, 0x00, 0x00, 0x00};
    const uint8_t stub_bad[2] = {0xC1, 0x00};
    const uint8_t stub_inflate[2] = {0xC7, 0x00};
    const uint8_t stub_ok[2] = {0x00, 0x00};
    CHECK_CONTAINS(esp_status_meaning(rom_bad, 4), "checksum");
    CHECK_STR(esp_status_meaning(rom_ok, 4), "");
    CHECK_CONTAINS(esp_status_meaning(stub_bad, 2), "checksum");
    CHECK_CONTAINS(esp_status_meaning(stub_inflate, 2), "inflate");
    CHECK_STR(esp_status_meaning(stub_ok, 2), "");
    /* The ROM form must not be read as a stub code or vice versa. */
    CHECK(strcmp(esp_status_meaning(rom_bad, 4), esp_status_meaning(stub_inflate, 2)) != 0);
}

static void test_err_format(void)
{
    st_err e;
    st_err_clear(&e);
    CHECK_EQ_INT(e.cat, ST_E_NONE);
    CHECK_EQ_INT(st_err_set(&e, ST_E_DEVICE, ST_PH_STUB, "block %d of %d rejected", 0, 3), -1);
    e.cmd = ESP_MEM_DATA;
    e.fclass = ST_FC_STUB_RAM_CHECKSUM;
    const uint8_t st[4] = {0x01, 0x07, 0x00, 0x00};
    memcpy(e.status, st, 4);
    e.nstatus = 4;
    CHECK_EQ_INT(st_err_hint(&e, "%s", st_fclass_hint(e.fclass)), -1);
    char buf[512];
    st_err_format(&e, buf, sizeof buf);
    CHECK_CONTAINS(buf, "stub_upload");
    CHECK_CONTAINS(buf, "MEM_DATA");
    CHECK_CONTAINS(buf, "01 07 00 00");
    CHECK_CONTAINS(buf, "block 0 of 3 rejected");
    CHECK_CONTAINS(buf, "checksum");
    CHECK_CONTAINS(e.hint, "corrupted");

    st_err_wrap(&e, "unit %s", "slot2");
    CHECK_CONTAINS(e.msg, "unit slot2: block 0 of 3");
    CHECK_EQ_INT(e.nstatus, 4); /* wrap keeps everything else */

    /* A NULL err is allowed everywhere and still yields -1. */
    CHECK_EQ_INT(st_err_set(NULL, ST_E_IO, ST_PH_NONE, "x"), -1);

    /* Truncation stays within the buffer. */
    char small[16];
    st_err_format(&e, small, sizeof small);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
}

static void test_fclass_names(void)
{
    for (int i = 0; i < ST_FC_COUNT; i++) {
        const char *n = st_fclass_name((st_fclass)i);
        CHECK(n && *n);
        CHECK_EQ_INT(st_fclass_from_name(n), i);
        if (i != ST_FC_NONE)
            CHECK(*st_fclass_hint((st_fclass)i));
        for (int j = 0; j < i; j++)
            CHECK(strcmp(n, st_fclass_name((st_fclass)j)) != 0);
    }
    CHECK_STR(st_fclass_name(ST_FC_STUB_RAM_CHECKSUM), "stub_ram_checksum");
    CHECK_STR(st_fclass_name(ST_FC_MD5_MISMATCH), "md5_mismatch");
    CHECK_EQ_INT(st_fclass_from_name("no_such_class"), ST_FC_NONE);
    CHECK_EQ_INT(st_fclass_from_name(NULL), ST_FC_NONE);
    CHECK_STR(st_phase_name(ST_PH_STUB), "stub_upload");
    for (int i = 0; i < ST_PH_COUNT; i++)
        CHECK(strcmp(st_phase_name((st_phase)i), "unknown") != 0);
}

static void test_mac_format(void)
{
    const uint8_t m1[6] = {0x94, 0xb9, 0x7e, 0x5a, 0x6e, 0x58};
    const uint8_t m2[6] = {0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56};
    const uint8_t m3[6] = {0x00, 0x00, 0x00, 0x00, 0x00, 0xff};
    char buf[32];
    memset(buf, 'x', sizeof buf);
    st_mac_format(m1, buf);
    CHECK_STR(buf, "94:b9:7e:5a:6e:58");
    CHECK_EQ_INT(buf[18], 'x'); /* writes exactly 18 bytes */
    st_mac_format(m2, buf);
    CHECK_STR(buf, "24:0a:c4:12:34:56");
    st_mac_format(m3, buf);
    CHECK_STR(buf, "00:00:00:00:00:ff");
}

int main(void)
{
    test_checksum();
    test_cmd_names();
    test_status_meaning();
    test_err_format();
    test_fclass_names();
    test_mac_format();
    return check_summary("test_proto");
}

/* test_sim.c - byte-exact checks of esp32sim against the protocol reference (§12 worked
 * examples, §14 ROM observations, legacy stub semantics, faults, transports).
 * Usage: test_sim <path-to-esp32sim> <case>; each case starts its own simulator. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "esp_proto.h"
#include "sim_pattern.h"
#include "test_sim_util.h"

#define STUB_OK(op) "C0 01 " op " 02 00 00 00 00 00 00 00 C0"
#define TEXT_ADDR 0x400BE000u

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- shared sequences (each returns false after reporting) ---- */

static bool banner(conn *c, const char *exp)
{
    char txt[512];
    conn_text(c, txt, sizeof txt, "\r\n", T);
    while (!strstr(txt, exp ? "download\r\n" : "\r\n") || (exp && strlen(txt) < strlen(exp))) {
        size_t l = strlen(txt);
        if (conn_text(c, txt + l, sizeof txt - l, "\r\n", T) == 0)
            break;
    }
    if (exp && strcmp(txt, exp) != 0) {
        fprintf(stderr, "banner mismatch:\n got: %s\n exp: %s\n", txt, exp);
        return false;
    }
    return true;
}

static bool expect_n(conn *c, const char *hex, int n)
{
    for (int i = 0; i < n; i++)
        if (!expect_raw_hex(c, hex, T))
            return false;
    return true;
}

static bool rom_sync(conn *c)
{
    send_cmd(c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    return expect_n(c, SYNC_ROM, 8);
}

/* SYNC after an MD5: status bytes 3-4 carry leftover MD5 text (§14), so check the rest. */
static bool rom_sync_loose(conn *c)
{
    send_cmd(c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    for (int i = 0; i < 8; i++) {
        uint8_t exp[14], got[14];
        hexb(SYNC_ROM, exp);
        if (conn_raw(c, got, 14, T) != 0 || memcmp(got, exp, 11) != 0 || got[13] != 0xC0)
            return false;
    }
    return true;
}

static bool open_rom(conn *c, simproc *s, int slot)
{
    if (conn_open(c, s, slot, 0) != 0) {
        fprintf(stderr, "cannot open slot%d: %s\n", slot, strerror(errno));
        return false;
    }
    return banner(c, BANNER_DL) && rom_sync(c);
}

/* Fake stub upload: 16 bytes at TEXT_ADDR, entry there; expects the ROM reply (value
 * 0x20120707 from the SYNC, stale error byte 0) and OHAI. */
static bool upload_stub(conn *c)
{
    uint8_t text[16];
    fill_data(text, sizeof text, 7);
    send_words(c, ESP_MEM_BEGIN, 4, (uint32_t[]){16, 1, ESP_RAM_BLOCK, TEXT_ADDR});
    if (!expect_raw_hex(c, "C0 01 05 04 00 07 07 12 20 00 00 00 00 C0", T))
        return false;
    send_data(c, ESP_MEM_DATA, text, sizeof text, 0);
    if (!expect_raw_hex(c, "C0 01 07 04 00 07 07 12 20 00 00 00 00 C0", T))
        return false;
    send_words(c, ESP_MEM_END, 2, (uint32_t[]){0, TEXT_ADDR});
    return expect_raw_hex(c, "C0 01 06 04 00 07 07 12 20 00 00 00 00 C0 C0 4F 48 41 49 C0", T);
}

/* Read one reply frame; returns its status pointer (after data) or NULL. */
static const uint8_t *reply(conn *c, uint8_t op, size_t *dlen)
{
    for (int i = 0; i < 20; i++) {
        if (conn_frame(c, T) != 1)
            return NULL;
        if (c->flen >= 8 && c->frame[0] == 1 && c->frame[1] == op) {
            if (dlen)
                *dlen = c->flen - 8;
            return c->frame + 8;
        }
    }
    return NULL;
}

static uint32_t reply_value(const conn *c) { return esp_le32(c->frame + 4); }

static uint32_t rom_read_reg(conn *c, uint32_t addr)
{
    send_words(c, ESP_READ_REG, 1, &addr);
    if (!reply(c, ESP_READ_REG, NULL))
        return 0xDEADDEAD;
    return reply_value(c);
}

static bool write_reg(conn *c, uint32_t addr, uint32_t v, int status_len)
{
    send_words(c, ESP_WRITE_REG, 4, (uint32_t[]){addr, v, 0xFFFFFFFFu, 0});
    size_t n;
    const uint8_t *st = reply(c, ESP_WRITE_REG, &n);
    return st && (int)n == status_len && st[0] == 0;
}

/* esptool's run_spiflash_command: MOSI_DLEN/MISO_DLEN, USR, USR2, W0 (data or 0), CMD,
 * poll, then the whole W0 word (the caller must not need to mask it). mosi: n bytes. */
static uint32_t spi_cmd(conn *c, int sl, uint8_t op, const uint8_t *mosi, int nmosi, int read_bits)
{
    uint32_t usr = 1u << 31 | (read_bits ? 1u << 28 : 0) | (nmosi ? 1u << 27 : 0), w0 = 0;
    for (int i = 0; i < nmosi && i < 4; i++)
        w0 |= (uint32_t)mosi[i] << (8 * i);
    if ((nmosi && !write_reg(c, ESP32_SPI_MOSI_DLEN, (uint32_t)nmosi * 8 - 1, sl)) ||
        (read_bits && !write_reg(c, ESP32_SPI_MISO_DLEN, (uint32_t)read_bits - 1, sl)) ||
        !write_reg(c, ESP32_SPI_USR, usr, sl) ||
        !write_reg(c, ESP32_SPI_USR2, 7u << 28 | op, sl) || !write_reg(c, ESP32_SPI_W0, w0, sl) ||
        !write_reg(c, ESP32_SPI_CMD, 1u << 18, sl))
        return 0xDEADDEAD;
    if (rom_read_reg(c, ESP32_SPI_CMD) & (1u << 18))
        return 0xDEADDEAD;
    return rom_read_reg(c, ESP32_SPI_W0);
}

/* RDID (24 bits read): the chip leaves W0's fourth byte as the host wrote it (0). */
static uint32_t rdid(conn *c, int sl)
{
    return spi_cmd(c, sl, 0x9F, NULL, 0, 24);
}

/* Stub: compressed write of data at off in 0x4000 blocks; checks every ACK and END. */
static bool stub_defl_write(conn *c, const uint8_t *data, size_t n, uint32_t off)
{
    uLongf zl = compressBound(n);
    uint8_t *z = malloc(zl);
    compress2(z, &zl, data, n, 9);
    uint32_t blocks = (uint32_t)((zl + 0x3FFF) / 0x4000);
    send_words(c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){(uint32_t)n, blocks, 0x4000, off});
    bool ok = expect_raw_hex(c, STUB_OK("10"), T);
    for (uint32_t i = 0; ok && i < blocks; i++) {
        size_t len = zl - i * 0x4000u < 0x4000 ? zl - i * 0x4000u : 0x4000;
        send_data(c, ESP_FLASH_DEFL_DATA, z + i * 0x4000u, len, i);
        ok = expect_raw_hex(c, STUB_OK("11"), 5 * T);
    }
    free(z);
    if (!ok)
        return false;
    send_words(c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    return expect_raw_hex(c, STUB_OK("12"), 5 * T);
}

static bool stub_md5(conn *c, uint32_t off, uint32_t len, uint8_t out[16])
{
    send_words(c, ESP_SPI_FLASH_MD5, 4, (uint32_t[]){off, len, 0, 0});
    size_t n;
    const uint8_t *d = reply(c, ESP_SPI_FLASH_MD5, &n);
    if (!d || n != 18 || d[16] || d[17] || esp_le16(c->frame + 2) != 18)
        return false;
    memcpy(out, d, 16);
    return true;
}

static bool flash_file_equals(simproc *s, int slot, uint32_t off, const uint8_t *d, size_t n)
{
    char name[32];
    snprintf(name, sizeof name, "slot%d.flash", slot);
    FILE *f = fopen(sim_path(s, name), "rb");
    if (!f)
        return false;
    uint8_t *b = malloc(n);
    bool ok = fseek(f, off, SEEK_SET) == 0 && fread(b, 1, n, f) == n && memcmp(b, d, n) == 0;
    free(b);
    fclose(f);
    return ok;
}

static bool read_flash_file(simproc *s, int slot, uint32_t off, uint8_t *d, size_t n)
{
    char name[32];
    snprintf(name, sizeof name, "slot%d.flash", slot);
    FILE *f = fopen(sim_path(s, name), "rb");
    if (!f)
        return false;
    bool ok = fseek(f, off, SEEK_SET) == 0 && fread(d, 1, n, f) == n;
    fclose(f);
    return ok;
}

static simproc *g_sim; /* stopped by main() even when a CHECK returns early */

#define START(s, ...)                                                                  \
    do {                                                                               \
        const char *args_[] = {__VA_ARGS__, NULL};                                    \
        g_sim = &(s);                                                                  \
        CHECK(sim_start(&(s), args_) == 0, "simulator did not start");                 \
    } while (0)

/* ================= ROM ================= */

static void t_banner_sync(void)
{
    simproc s;
    conn c;
    START(s, "--units", "2", "--unit-opt", "2:pkg=d0wdq6");
    CHECK(conn_open(&c, &s, 1, 0) == 0, "open");
    CHECK(banner(&c, BANNER_DL), "banner");
    CHECK(rom_sync(&c), "8 SYNC replies (§12)");
    /* value = the request's first payload word, whatever it is (§14) */
    uint8_t p[36];
    memcpy(p, SYNC_PAYLOAD, 36);
    p[0] = 0x07; p[1] = 0x12; p[2] = 0x55; p[3] = 0x55;
    send_cmd(&c, ESP_SYNC, p, 36, 0);
    CHECK(expect_n(&c, "C0 01 08 04 00 07 12 55 55 00 00 00 00 C0", 8), "value echo");
    /* closing the port resets the unit: banner again */
    conn_close(&c);
    msleep(50);
    CHECK(conn_open(&c, &s, 1, 0) == 0, "reopen");
    CHECK(banner(&c, BANNER_DL), "banner after reset");
    CHECK(rom_sync(&c), "sync after reset");
    conn_close(&c);
    CHECK(conn_open(&c, &s, 2, 0) == 0, "open slot2");
    CHECK(banner(&c, "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
                     "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"),
          "rev1 ROM date");
    conn_close(&c);
    /* sidecar */
    FILE *f = fopen(sim_path(&s, "slot1.usb"), "r");
    char side[256] = "";
    CHECK(f && fread(side, 1, sizeof side - 1, f) > 0, "sidecar");
    fclose(f);
    CHECK(strstr(side, "vid=10c4\n") && strstr(side, "pid=ea60\n") && strstr(side, "path=1-1.1\n") &&
              strstr(side, "bridge=CP2104\n") && strstr(side, "serial="),
          "sidecar content: %s", side);
    sim_stop(&s);
}

static void t_read_reg(void)
{
    simproc s;
    conn c;
    START(s, "--unit-opt", "1:mac=24:0a:c4:12:34:56");
    CHECK(open_rom(&c, &s, 1), "open");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 00 00 00 00 C0", T), "magic (§12)");
    uint32_t w1 = rom_read_reg(&c, ESP32_EFUSE_BASE + 4), w2 = rom_read_reg(&c, ESP32_EFUSE_BASE + 8);
    CHECK(w1 == 0xc4123456 && (w2 & 0xFFFF) == 0x240a, "MAC words %08x %08x", w1, w2);
    uint32_t w3 = rom_read_reg(&c, ESP32_EFUSE_BASE + 12), w5 = rom_read_reg(&c, ESP32_EFUSE_BASE + 20);
    uint32_t apb = rom_read_reg(&c, ESP32_APB_CTL_DATE);
    int pkg = (int)(((w3 >> 9) & 7) | (((w3 >> 2) & 1) << 3));
    int rev = (int)((apb >> 31) << 2 | ((w5 >> 20) & 1) << 1 | ((w3 >> 15) & 1));
    CHECK(pkg == 1 && rev == 7 && ((w5 >> 24) & 3) == 0, "D0WD-V3 rev3.0: w3 %08x w5 %08x apb %08x",
          w3, w5, apb);
    CHECK(rom_read_reg(&c, ESP32_UART_CLKDIV) == 0x0030015B, "UART_CLKDIV");
    uint32_t cal = rom_read_reg(&c, ESP32_RTCCALICFG1), w4 = rom_read_reg(&c, ESP32_EFUSE_BASE + 16);
    uint64_t rom_freq = (uint64_t)((cal >> 7) & 0x1FFFFFF) * 15625 * (w4 & 0xFF) / 40;
    CHECK(rom_freq == 40000000, "esptool ROM clock formula gives %llu", (unsigned long long)rom_freq);
    /* RDID floats high before SPI_ATTACH; 16 MB Winbond id after */
    CHECK(rdid(&c, 4) == 0x00FFFFFF, "RDID before attach");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    /* value field = last READ_REG result (W0 read back: 3 floating bytes): never cleared */
    CHECK(expect_raw_hex(&c, "C0 01 0D 04 00 FF FF FF 00 00 00 00 00 C0", T), "SPI_ATTACH");
    CHECK(rdid(&c, 4) == 0x001840EF, "RDID W0 %08x", rdid(&c, 4));
    /* SFDP signature at 0 (master's connection check) */
    write_reg(&c, ESP32_SPI_MISO_DLEN, 31, 4);
    write_reg(&c, ESP32_SPI_USR1, 7u | 23u << 26, 4);
    write_reg(&c, ESP32_SPI_USR, 1u << 31 | 1u << 28 | 1u << 30 | 1u << 29, 4);
    write_reg(&c, ESP32_SPI_USR2, 7u << 28 | 0x5A, 4);
    write_reg(&c, ESP32_SPI_ADDR, 0 << 8, 4);
    write_reg(&c, ESP32_SPI_CMD, 1u << 18, 4);
    CHECK(rom_read_reg(&c, ESP32_SPI_W0) == 0x50444653, "SFDP");
    conn_close(&c);
    sim_stop(&s);
}

static void t_unknown_op(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1");
    CHECK(conn_open(&c, &s, 1, 0) == 0 && banner(&c, BANNER_DL), "open");
    send_cmd(&c, 0xD0, NULL, 0, 0);
    CHECK(expect_raw_hex(&c, "C0 01 00 04 00 00 00 00 00 01 05 00 00 C0", T), "after reset: op 00");
    CHECK(rom_sync(&c), "sync");
    send_cmd(&c, ESP_GET_SECURITY_INFO, NULL, 0, 0);
    CHECK(expect_n(&c, "C0 01 08 04 00 07 07 12 20 01 05 00 00 C0", 8), "after SYNC: 8 SYNC headers");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 00 00 00 00 C0", T), "read_reg");
    send_cmd(&c, ESP_READ_FLASH, (uint8_t[16]){0}, 16, 0);
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 01 05 00 00 C0", T), "READ_REG header");
    /* stale error byte on a MEM_BEGIN success */
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){16, 1, ESP_RAM_BLOCK, TEXT_ADDR});
    CHECK(expect_raw_hex(&c, "C0 01 05 04 00 83 1D F0 00 00 05 00 00 C0", T), "stale 05");
    CHECK(conn_drain(&c, 100) == 0, "nothing else");
    conn_close(&c);
    sim_stop(&s);
}

static void t_mem_checksum(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1");
    CHECK(open_rom(&c, &s, 1), "open");
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){8, 1, ESP_RAM_BLOCK, TEXT_ADDR});
    CHECK(expect_raw_hex(&c, "C0 01 05 04 00 07 07 12 20 00 00 00 00 C0", T), "MEM_BEGIN");
    uint8_t p[16 + 4] = {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF};
    send_cmd(&c, ESP_MEM_DATA, p, sizeof p, 0xCC); /* right one is 0xCD (§12) */
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 01 07 00 00 C0", T), "checksum error");
    send_cmd(&c, ESP_MEM_DATA, p, sizeof p, 0xCD);
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 01 05 00 00 C0", T), "seq consumed");
    p[4] = 1; /* seq 1 */
    send_cmd(&c, ESP_MEM_DATA, p, sizeof p, 0xCD);
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 00 05 00 00 C0", T), "next seq ok");
    /* data_len above the block size */
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){8, 1, 4, TEXT_ADDR});
    CHECK(reply(&c, ESP_MEM_BEGIN, NULL), "mem_begin");
    uint8_t q[16 + 8] = {8};
    send_cmd(&c, ESP_MEM_DATA, q, sizeof q, esp_checksum(q + 16, 8));
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 01 05 00 00 C0", T), "len > block");
    /* entry outside uploaded RAM: the CPU runs off, nothing more */
    send_words(&c, ESP_MEM_END, 2, (uint32_t[]){0, 0x40080000});
    CHECK(reply(&c, ESP_MEM_END, NULL), "mem_end reply");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 200) == 0, "dead after a wild jump");
    conn_close(&c);
    sim_stop(&s);
}

static void t_rom_flash_md5(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files");
    CHECK(open_rom(&c, &s, 1), "open");
    uint32_t fb[4] = {5, 1, 0x400, 0x10000};
    send_words(&c, ESP_FLASH_BEGIN, 4, fb);
    CHECK(expect_raw_hex(&c, "C0 01 02 04 00 07 07 12 20 01 06 00 00 C0", T), "needs SPI_ATTACH");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_FLASH_BEGIN, 5, (uint32_t[]){5, 1, 0x400, 0x10000, 0});
    CHECK(expect_raw_hex(&c, "C0 01 02 04 00 07 07 12 20 01 05 00 00 C0", T), "20-byte BEGIN");
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){5, 1, 0x1801, 0x10000});
    CHECK(expect_raw_hex(&c, "C0 01 02 04 00 07 07 12 20 01 05 00 00 C0", T), "block > 0x1800");
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){0x1000, 1, 0x400, 0x200000});
    CHECK(expect_raw_hex(&c, "C0 01 02 04 00 07 07 12 20 01 06 00 00 C0", T), "above 2 MB");
    send_words(&c, ESP_SPI_SET_PARAMS, 5, (uint32_t[]){0, 16u << 20, 0x10000, 0x1000, 0x100});
    CHECK(expect_raw_hex(&c, "C0 01 0B 04 00 07 07 12 20 01 05 00 00 C0", T), "SET_PARAMS 20 B");
    send_words(&c, ESP_FLASH_BEGIN, 4, fb);
    CHECK(expect_raw_hex(&c, "C0 01 02 04 00 07 07 12 20 00 05 00 00 C0", T), "begin (stale 05)");
    uint8_t blk[0x400];
    memset(blk, 0xFF, sizeof blk);
    memcpy(blk, "hello", 5);
    send_data(&c, ESP_FLASH_DATA, blk, sizeof blk, 0);
    CHECK(expect_raw_hex(&c, "C0 01 03 04 00 07 07 12 20 00 05 00 00 C0", T), "data");
    send_words(&c, ESP_SPI_FLASH_MD5, 4, (uint32_t[]){0x10000, 5, 0, 0});
    CHECK(expect_raw_hex(&c, "C0 01 13 24 00 07 07 12 20 35 64 34 31 34 30 32 61 62 63 34 62 32 61 "
                             "37 36 62 39 37 31 39 64 39 31 31 30 31 37 63 35 39 32 00 00 00 00 C0",
                         T),
          "ROM MD5 of hello, ASCII (§12)");
    /* past the (2 MB) flash size: stale digits, 01 09 */
    send_words(&c, ESP_SPI_FLASH_MD5, 4, (uint32_t[]){0x1F0000, 0x20000, 0, 0});
    CHECK(expect_raw_hex(&c, "C0 01 13 24 00 07 07 12 20 35 64 34 31 34 30 32 61 62 63 34 62 32 61 "
                             "37 36 62 39 37 31 39 64 39 31 31 30 31 37 63 35 39 32 01 09 00 00 C0",
                         T),
          "MD5 past flash size");
    /* status bytes 3-4 now carry leftover MD5 text */
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 00 00 34 31 C0", T), "status leftovers");
    CHECK(flash_file_equals(&s, 1, 0x10000, blk, sizeof blk), "flash file");
    /* FLASH_END(1): reply, then the ROM leaves the loader */
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 04 04 00 83 1D F0 00 00 00 34 31 C0", T), "FLASH_END(1)");
    char txt[600];
    conn_text(&c, txt, sizeof txt, "app running", T);
    CHECK(strstr(txt, "invalid header: 0xffffffff") != NULL, "app boot text: %s", txt);
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 200) == 0, "left the loader");
    conn_close(&c);
    sim_stop(&s);
}

static bool rom_defl_begin(conn *c, uint32_t size, uint32_t blocks, uint32_t off)
{
    send_words(c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){(size + 0x3FF) & ~0x3FFu, blocks, 0x400, off});
    size_t n;
    const uint8_t *st = reply(c, ESP_FLASH_DEFL_BEGIN, &n);
    return st && n == 4 && st[0] == 0;
}

static void t_rom_deflate(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files");
    CHECK(open_rom(&c, &s, 1), "open");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_SPI_SET_PARAMS, 6, (uint32_t[]){0, 16u << 20, 0x10000, 0x1000, 0x100, 0xFFFF});
    CHECK(expect_raw_hex(&c, "C0 01 0B 04 00 07 07 12 20 00 00 00 00 C0", T), "SET_PARAMS");
    uint8_t data[3000], z[4000];
    fill_data(data, sizeof data, 3);
    uLongf zl = sizeof z;
    compress2(z, &zl, data, sizeof data, 9);
    uint32_t nb = (uint32_t)((zl + 0x3FF) / 0x400);
    CHECK(rom_defl_begin(&c, sizeof data, nb, 0x20000), "defl begin");
    for (uint32_t i = 0; i < nb; i++) {
        size_t len = zl - i * 0x400u < 0x400 ? zl - i * 0x400u : 0x400;
        send_data(&c, ESP_FLASH_DEFL_DATA, z + i * 0x400u, len, i);
        CHECK(expect_raw_hex(&c, "C0 01 11 04 00 07 07 12 20 00 00 00 00 C0", T), "defl data %u", i);
    }
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 12 04 00 07 07 12 20 00 00 00 00 C0", T), "defl end(1)");
    CHECK(rom_sync(&c), "stays in the loader");
    uint8_t d[16];
    char hex[33];
    md5_of(data, sizeof data, d);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    send_words(&c, ESP_SPI_FLASH_MD5, 4, (uint32_t[]){0x20000, sizeof data, 0, 0});
    size_t n;
    const uint8_t *r = reply(&c, ESP_SPI_FLASH_MD5, &n);
    CHECK(r && n == 36 && memcmp(r, hex, 32) == 0 && r[32] == 0, "ASCII MD5");
    CHECK(flash_file_equals(&s, 1, 0x20000, data, sizeof data), "flash file");
    /* corrupt stream -> 01 0B */
    CHECK(rom_defl_begin(&c, 1024, 1, 0x30000), "begin 2");
    uint8_t bad[64] = {0x78, 0xDA, 0xFF, 0xFF, 0xFF};
    memset(bad + 2, 0xFF, sizeof bad - 2);
    send_data(&c, ESP_FLASH_DEFL_DATA, bad, sizeof bad, 0);
    r = reply(&c, ESP_FLASH_DEFL_DATA, &n);
    CHECK(r && r[0] == 1 && r[1] == 0x0B, "corrupt -> 01 0B");
    /* wrong adler -> 01 0C (whole stream in one 0x1800 block) */
    CHECK(zl <= ESP_RAM_BLOCK, "fits one block");
    z[zl - 1] ^= 0x55;
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){0xC00, 1, ESP_RAM_BLOCK, 0x40000});
    CHECK(reply(&c, ESP_FLASH_DEFL_BEGIN, NULL), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, zl, 0);
    r = reply(&c, ESP_FLASH_DEFL_DATA, &n);
    CHECK(r && r[0] == 1 && r[1] == 0x0C, "wrong adler -> 01 0C, got %02x %02x", r ? r[0] : 0,
          r ? r[1] : 0);
    /* incomplete stream: DEFL_END -> 01 06, stays */
    z[zl - 1] ^= 0x55;
    CHECK(rom_defl_begin(&c, sizeof data, nb, 0x50000), "begin 6");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 0x400, 0);
    CHECK(reply(&c, ESP_FLASH_DEFL_DATA, NULL), "half");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    r = reply(&c, ESP_FLASH_DEFL_END, &n);
    CHECK(r && r[0] == 1 && r[1] == 0x06, "incomplete -> 01 06");
    CHECK(rom_sync_loose(&c), "still in the loader");
    /* complete stream + DEFL_END(0): reply, C0 C0, SW reset banner */
    CHECK(rom_defl_begin(&c, sizeof data, nb, 0x50000), "begin 7");
    for (uint32_t i = 0; i < nb; i++) {
        size_t len = zl - i * 0x400u < 0x400 ? zl - i * 0x400u : 0x400;
        send_data(&c, ESP_FLASH_DEFL_DATA, z + i * 0x400u, len, i);
        CHECK(reply(&c, ESP_FLASH_DEFL_DATA, NULL), "data");
    }
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){0});
    CHECK(expect_raw_hex(&c, "C0 01 12 04 00 07 07 12 20 00 00 37 34 C0 C0 C0", T),
          "reply (MD5 leftovers in status 3-4) + C0 C0");
    char txt[300];
    conn_text(&c, txt, sizeof txt, "(SPI_FAST_FLASH_BOOT)\r\n", T);
    CHECK(!strcmp(txt, "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x3 (SW_RESET),boot:0x13 "
                       "(SPI_FAST_FLASH_BOOT)\r\n"),
          "SW reset banner: %s", txt);
    conn_drain(&c, 100);
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 200) == 0, "app does not answer");
    conn_close(&c);
    msleep(50);
    CHECK(open_rom(&c, &s, 1), "reopen -> download mode again");
    conn_close(&c);
    sim_stop(&s);
}

static void t_rom_framing(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1");
    CHECK(conn_open(&c, &s, 1, 0) == 0 && banner(&c, BANNER_DL), "open");
    send_raw(&c, "garbage\x01\x02", 9);
    CHECK(rom_sync(&c), "garbage outside frames dropped");
    /* DB x decodes to x: first address byte sent as DB 00 */
    uint8_t rr[] = {0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0xDB, 0x00, 0x10, 0x00, 0x40, 0xC0};
    send_raw(&c, rr, sizeof rr);
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 00 00 00 00 C0", T), "DB x -> x");
    /* short frame: header completed from the previous frame's bytes */
    send_raw(&c, (uint8_t[]){0xC0, 0x00, 0x0A, 0x04, 0xC0}, 5);
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 83 1D F0 00 00 00 00 00 C0", T), "stale re-execution");
    /* 70 KB frame: truncated, answered once, loader healthy */
    size_t big = 70000;
    uint8_t *f = malloc(big + 2);
    memset(f, 0x55, big + 2);
    f[0] = 0xC0;
    f[1] = 0x00;
    f[2] = ESP_MEM_DATA;
    f[big + 1] = 0xC0;
    send_raw(&c, f, big + 2);
    free(f);
    size_t n;
    const uint8_t *st = reply(&c, ESP_MEM_DATA, &n);
    CHECK(st && n == 4 && st[0] == 1, "70 KB frame answered");
    CHECK(conn_drain(&c, 100) == 0, "one answer only");
    CHECK(rom_sync(&c), "healthy after a 70 KB frame");
    /* CHANGE_BAUDRATE(new, 0): reply at the old rate, divider follows */
    send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){921600, 0});
    /* observed 2026-12 (§14.1): two stray C0 follow the reply */
    CHECK(expect_raw_hex(&c, "C0 01 0F 04 00 07 07 12 20 00 00 00 00 C0 C0 C0", T), "baud reply");
    CHECK(rom_read_reg(&c, ESP32_UART_CLKDIV) == ((6u << 20) | 43u), "divider for 921600");
    conn_close(&c);
    sim_stop(&s);
}

/* Flash status registers through the SPI user-command registers (issue 10 §3): RDSR
 * 05h/35h/15h read exactly 8 bits, WREN+WRSR writes them (non-volatile: they survive a
 * CPU reset), 50h+WRSR only the volatile copy, WRSR without an enable changes nothing. */
static void t_spi_status(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1");
    CHECK(open_rom(&c, &s, 1), "open");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL) != NULL, "attach");
    uint32_t v;
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0, "RDSR1 after power-on: W0 %08x", v);
    CHECK((v = spi_cmd(&c, 4, 0x35, NULL, 0, 8)) == 0, "RDSR2: W0 %08x", v);
    CHECK((v = spi_cmd(&c, 4, 0x15, NULL, 0, 8)) == 0, "RDSR3: W0 %08x", v);
    /* 16-bit RDSR clocks the register out twice */
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 16)) == 0, "RDSR1 x16: %08x", v);
    /* WRSR without WREN: ignored */
    spi_cmd(&c, 4, 0x01, (uint8_t[]){0x1C, 0x02}, 2, 0);
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0, "WRSR without WREN ignored: %08x", v);
    /* WREN sets WEL, visible in SR1 */
    spi_cmd(&c, 4, 0x06, NULL, 0, 0);
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0x02, "WEL after WREN: %08x", v);
    spi_cmd(&c, 4, 0x01, (uint8_t[]){0x1C, 0x02}, 2, 0);
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0x1C, "SR1 after WREN+WRSR (WEL clear): %08x", v);
    CHECK((v = spi_cmd(&c, 4, 0x35, NULL, 0, 8)) == 0x02, "SR2 after 16-bit WRSR: %08x", v);
    spi_cmd(&c, 4, 0x06, NULL, 0, 0);
    spi_cmd(&c, 4, 0x11, (uint8_t[]){0x60}, 1, 0);
    CHECK((v = spi_cmd(&c, 4, 0x15, NULL, 0, 8)) == 0x60, "SR3 after WREN+11h: %08x", v);
    /* volatile: 50h then 31h */
    spi_cmd(&c, 4, 0x50, NULL, 0, 0);
    spi_cmd(&c, 4, 0x31, (uint8_t[]){0x42}, 1, 0);
    CHECK((v = spi_cmd(&c, 4, 0x35, NULL, 0, 8)) == 0x42, "SR2 after 50h+31h: %08x", v);
    /* RDSR with the host's W0 = 0 and 8 bits: the other bytes of W0 stay 0 */
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0x1C, "RDSR W0: %08x", v);
    /* a CPU reset (port reopened) keeps the flash's registers, clears WEL */
    conn_close(&c);
    CHECK(open_rom(&c, &s, 1), "reopen");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL) != NULL, "attach");
    CHECK((v = spi_cmd(&c, 4, 0x05, NULL, 0, 8)) == 0x1C, "SR1 after reset: %08x", v);
    CHECK((v = spi_cmd(&c, 4, 0x35, NULL, 0, 8)) == 0x42, "SR2 after reset: %08x", v);
    CHECK((v = spi_cmd(&c, 4, 0x15, NULL, 0, 8)) == 0x60, "SR3 after reset: %08x", v);
    conn_close(&c);
    sim_stop(&s);
}

/* ---- issue 10: the ROM's DEFL window overrun and block retries (§14.1) ---- */

/* Send a ROM DEFL stream z[0..zl) in 0x400 packets from seq 0; true when all were ok. */
static bool rom_defl_send(conn *c, const uint8_t *z, size_t zl)
{
    bool ok = true;
    for (uint32_t i = 0; ok && i * 0x400u < zl; i++) {
        size_t len = zl - i * 0x400u < 0x400 ? zl - i * 0x400u : 0x400;
        send_data(c, ESP_FLASH_DEFL_DATA, z + i * 0x400u, len, i);
        const uint8_t *r = reply(c, ESP_FLASH_DEFL_DATA, NULL);
        ok = r && r[0] == 0;
    }
    return ok;
}

/* zlib stream of d[0..n) in a malloc'ed buffer. */
static uint8_t *zip(const uint8_t *d, size_t n, size_t *zl)
{
    uLongf l = compressBound(n);
    uint8_t *z = malloc(l);
    compress2(z, &l, d, n, 9);
    *zl = l;
    return z;
}

/* Flash [off, off+n) of slot 1 equals f(address, data index). Reports the first miss. */
typedef uint8_t (*want_fn)(uint32_t addr, size_t i, const void *arg);
static bool flash_range_is(simproc *s, uint32_t off, size_t n, want_fn want, const void *arg,
                           const char *what)
{
    uint8_t *b = malloc(n);
    bool ok = read_flash_file(s, 1, off, b, n);
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t w = want(off + (uint32_t)i, i, arg);
        if (b[i] != w) {
            fprintf(stderr, "%s: flash 0x%zx is %02x, want %02x\n", what, off + i, b[i], w);
            ok = false;
        }
    }
    free(b);
    return ok;
}
static uint8_t want_pattern(uint32_t a, size_t i, const void *arg) { (void)i; (void)arg; return sim_pattern_byte(a); }
static uint8_t want_zero(uint32_t a, size_t i, const void *arg) { (void)a; (void)i; (void)arg; return 0; }
static uint8_t want_ff(uint32_t a, size_t i, const void *arg) { (void)a; (void)i; (void)arg; return 0xFF; }
static uint8_t want_data(uint32_t a, size_t i, const void *arg) { (void)a; return ((const uint8_t *)arg)[i]; }
/* programmed without erase: the old pattern ANDed with the stale window bytes */
static uint8_t want_and(uint32_t a, size_t i, const void *arg) { return sim_pattern_byte(a) & ((const uint8_t *)arg)[i]; }

static void t_rom_overrun(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files", "--unit-opt", "1:fill=pattern");
    CHECK(flash_range_is(&s, 0, 0x100000, want_pattern, NULL, "arrives pre-filled"), "fill=pattern");
    CHECK(open_rom(&c, &s, 1), "open");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_SPI_SET_PARAMS, 6, (uint32_t[]){0, 16u << 20, 0x10000, 0x1000, 0x100, 0xFFFF});
    CHECK(reply(&c, ESP_SPI_SET_PARAMS, NULL), "set params");
    /* 3 KB at 0x1C000 after reset: the window is zeros, junk 0x1CC00-0x24000 */
    static uint8_t a[3072], b[40960], pad[3072 + 32768];
    fill_data(a, sizeof a, 11);
    size_t zl;
    uint8_t *z = zip(a, sizeof a, &zl);
    CHECK(rom_defl_begin(&c, sizeof a, (uint32_t)((zl + 0x3FF) / 0x400), 0x1C000), "begin 3K");
    CHECK(rom_defl_send(&c, z, zl), "3K stream");
    free(z);
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(reply(&c, ESP_FLASH_DEFL_END, NULL), "end");
    CHECK(flash_range_is(&s, 0x1B000, 0x1000, want_pattern, NULL, "before"), "before the image");
    CHECK(flash_range_is(&s, 0x1C000, sizeof a, want_data, a, "3K image"), "image");
    CHECK(flash_range_is(&s, 0x1CC00, 0x24000 - 0x1CC00, want_zero, NULL, "zero window"),
          "junk 0x1CC00-0x24000 (zeros after reset; pattern AND 0)");
    CHECK(flash_range_is(&s, 0x24000, 0x4000, want_pattern, NULL, "after"), "intact from 0x24000");
    /* 40 KB at 0x40000: the stale window holds this stream's bytes 8K..32K */
    fill_data(b, sizeof b, 12);
    z = zip(b, sizeof b, &zl);
    CHECK(rom_defl_begin(&c, sizeof b, (uint32_t)((zl + 0x3FF) / 0x400), 0x40000), "begin 40K");
    CHECK(rom_defl_send(&c, z, zl), "40K stream");
    free(z);
    CHECK(flash_range_is(&s, 0x40000, sizeof b, want_data, b, "40K image"), "image");
    CHECK(flash_range_is(&s, 0x4A000, 0x6000, want_and, b + 0x2000, "stale data ANDed"),
          "junk 0x4A000-0x50000 = pattern & stream[8K..32K)");
    CHECK(flash_range_is(&s, 0x50000, 0x1000, want_pattern, NULL, "after"), "intact from 0x50000");
    /* The cure: 32 KB of 0xFF appended, only the real size announced */
    memcpy(pad, a, sizeof a);
    memset(pad + sizeof a, 0xFF, sizeof pad - sizeof a);
    z = zip(pad, sizeof pad, &zl);
    CHECK(rom_defl_begin(&c, sizeof a, (uint32_t)((zl + 0x3FF) / 0x400), 0x60000), "begin padded");
    CHECK(rom_defl_send(&c, z, zl), "padded stream");
    free(z);
    CHECK(flash_range_is(&s, 0x60000, sizeof a, want_data, a, "padded image"), "image");
    CHECK(flash_range_is(&s, 0x60C00, 0x400, want_ff, NULL, "erased tail"), "rest of the sector erased");
    CHECK(flash_range_is(&s, 0x61000, 0x20000, want_pattern, NULL, "padded: intact"),
          "nothing past the sector changed");
    conn_close(&c);
    sim_stop(&s);
}

/* deflate body ending with a sync flush (no final block), for the spare-packet scheme */
static uint8_t *zip_sync(const uint8_t *d, size_t n, size_t *zl)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit(&zs, 9);
    uint8_t *z = malloc(compressBound(n) + 64);
    zs.next_in = (Bytef *)d;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = (uInt)(compressBound(n) + 64);
    deflate(&zs, Z_SYNC_FLUSH);
    *zl = zs.total_out;
    deflateEnd(&zs);
    return z;
}

static bool status_is(const uint8_t *r, uint8_t b0, uint8_t b1)
{
    return r && r[0] == b0 && (b0 == 0 || r[1] == b1);
}

static void t_rom_retry(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files", "--unit-opt", "1:fill=pattern");
    CHECK(open_rom(&c, &s, 1), "open");
    /* MEM_DATA: block 0 corrupted, resent as seq 1, then block 1 as seq 2: the stub runs */
    static uint8_t text[0x1800 + 100];
    fill_data(text, sizeof text, 5);
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){sizeof text, 2, ESP_RAM_BLOCK, TEXT_ADDR});
    CHECK(reply(&c, ESP_MEM_BEGIN, NULL), "mem begin");
    uint8_t hdr[16] = {0};
    static uint8_t pkt[16 + 0x1800];
    esp_put32(hdr, 0x1800);
    memcpy(pkt, hdr, 16);
    memcpy(pkt + 16, text, 0x1800);
    send_cmd(&c, ESP_MEM_DATA, pkt, 16 + 0x1800, esp_checksum(text, 0x1800) ^ 1);
    CHECK(status_is(reply(&c, ESP_MEM_DATA, NULL), 1, 7), "corrupt -> 01 07");
    send_data(&c, ESP_MEM_DATA, text, 0x1800, 1);
    CHECK(status_is(reply(&c, ESP_MEM_DATA, NULL), 0, 0), "resent as seq 1");
    send_data(&c, ESP_MEM_DATA, text + 0x1800, 100, 2);
    CHECK(status_is(reply(&c, ESP_MEM_DATA, NULL), 0, 0), "block 1 as seq 2 (count not enforced)");
    send_words(&c, ESP_MEM_END, 2, (uint32_t[]){0, TEXT_ADDR});
    CHECK(expect_raw_hex(&c, "C0 01 06 04 00 07 07 12 20 00 07 00 00 C0 C0 4F 48 41 49 C0", T),
          "OHAI after the repaired upload");
    conn_close(&c);

    CHECK(open_rom(&c, &s, 1), "reopen");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_SPI_SET_PARAMS, 6, (uint32_t[]){0, 16u << 20, 0x10000, 0x1000, 0x100, 0xFFFF});
    CHECK(reply(&c, ESP_SPI_SET_PARAMS, NULL), "set params");
    /* DEFL with spare packets: body (sync flush) in N packets, 2 spares, a final packet.
     * Block 1 is corrupted and resent (one spare), the other spare is a filler. */
    static uint8_t d[8192];
    fill_data(d, sizeof d, 6);
    size_t zl;
    uint8_t *z = zip_sync(d, sizeof d, &zl);
    uint32_t nb = (uint32_t)((zl + 0x3FF) / 0x400), seq = 0;
    CHECK(nb >= 2, "two body packets");
    CHECK(rom_defl_begin(&c, sizeof d, nb + 2 + 1, 0x30000), "defl begin N+S+1");
    for (uint32_t i = 0; i < nb; i++) {
        size_t len = zl - i * 0x400u < 0x400 ? zl - i * 0x400u : 0x400;
        if (i == 1) {
            uint8_t bad[16 + 0x400] = {0};
            esp_put32(bad, (uint32_t)len);
            esp_put32(bad + 4, seq++);
            memcpy(bad + 16, z + i * 0x400u, len);
            send_cmd(&c, ESP_FLASH_DEFL_DATA, bad, 16 + len, esp_checksum(z + i * 0x400u, len) ^ 1);
            CHECK(status_is(reply(&c, ESP_FLASH_DEFL_DATA, NULL), 1, 7), "corrupt -> 01 07");
        }
        send_data(&c, ESP_FLASH_DEFL_DATA, z + i * 0x400u, len, seq++);
        CHECK(status_is(reply(&c, ESP_FLASH_DEFL_DATA, NULL), 0, 0), "body %u", i);
    }
    static const uint8_t filler[5] = {0x00, 0x00, 0x00, 0xFF, 0xFF};
    send_data(&c, ESP_FLASH_DEFL_DATA, filler, 5, seq++);
    CHECK(status_is(reply(&c, ESP_FLASH_DEFL_DATA, NULL), 0, 0), "filler");
    uint32_t ad = (uint32_t)adler32(adler32(0, NULL, 0), d, sizeof d);
    uint8_t fin[6] = {0x03, 0x00, (uint8_t)(ad >> 24), (uint8_t)(ad >> 16), (uint8_t)(ad >> 8), (uint8_t)ad};
    send_data(&c, ESP_FLASH_DEFL_DATA, fin, 6, seq++);
    CHECK(status_is(reply(&c, ESP_FLASH_DEFL_DATA, NULL), 0, 0), "final packet");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(status_is(reply(&c, ESP_FLASH_DEFL_END, NULL), 0, 0), "DEFL_END 00 with spares");
    CHECK(flash_file_equals(&s, 1, 0x30000, d, sizeof d), "exact after one retry");
    /* Exact count announced and a retry: the count ends the stream, the real last packet
     * gets 01 0C, DEFL_END 01 06 */
    free(z);
    z = zip(d, sizeof d, &zl);
    nb = (uint32_t)((zl + 0x3FF) / 0x400);
    CHECK(rom_defl_begin(&c, sizeof d, nb, 0x40000), "defl begin N");
    seq = 0;
    const uint8_t *r = NULL;
    for (uint32_t i = 0; i < nb; i++) {
        size_t len = zl - i * 0x400u < 0x400 ? zl - i * 0x400u : 0x400;
        if (i == 0) {
            uint8_t bad[16 + 0x400] = {0};
            esp_put32(bad, (uint32_t)len);
            esp_put32(bad + 4, seq++);
            memcpy(bad + 16, z, len);
            send_cmd(&c, ESP_FLASH_DEFL_DATA, bad, 16 + len, esp_checksum(z, len) ^ 1);
            CHECK(status_is(reply(&c, ESP_FLASH_DEFL_DATA, NULL), 1, 7), "corrupt -> 01 07");
        }
        send_data(&c, ESP_FLASH_DEFL_DATA, z + i * 0x400u, len, seq++);
        r = reply(&c, ESP_FLASH_DEFL_DATA, NULL);
    }
    CHECK(status_is(r, 1, 0x0C), "packet past the count -> 01 0C");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(status_is(reply(&c, ESP_FLASH_DEFL_END, NULL), 1, 6), "DEFL_END 01 06");
    free(z);
    /* Unused announced blocks without fillers: DEFL_END 01 06 */
    z = zip(d, sizeof d, &zl);
    nb = (uint32_t)((zl + 0x3FF) / 0x400);
    CHECK(rom_defl_begin(&c, sizeof d, nb + 1, 0x50000), "defl begin N+1");
    CHECK(rom_defl_send(&c, z, zl), "stream");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(status_is(reply(&c, ESP_FLASH_DEFL_END, NULL), 1, 6), "DEFL_END 01 06 (unused block)");
    free(z);
    /* FLASH_DATA: block 1 corrupted, resent as seq 2: exact; FLASH_END 01 06 */
    static uint8_t u[3 * 0x400];
    fill_data(u, sizeof u, 8);
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){sizeof u, 3, 0x400, 0x60000});
    CHECK(status_is(reply(&c, ESP_FLASH_BEGIN, NULL), 0, 0), "flash begin");
    send_data(&c, ESP_FLASH_DATA, u, 0x400, 0);
    CHECK(status_is(reply(&c, ESP_FLASH_DATA, NULL), 0, 0), "block 0");
    uint8_t bad[16 + 0x400] = {0};
    esp_put32(bad, 0x400);
    esp_put32(bad + 4, 1);
    memcpy(bad + 16, u + 0x400, 0x400);
    send_cmd(&c, ESP_FLASH_DATA, bad, sizeof bad, esp_checksum(u + 0x400, 0x400) ^ 1);
    CHECK(status_is(reply(&c, ESP_FLASH_DATA, NULL), 1, 7), "corrupt -> 01 07");
    send_data(&c, ESP_FLASH_DATA, u + 0x400, 0x400, 2);
    CHECK(status_is(reply(&c, ESP_FLASH_DATA, NULL), 0, 0), "resent as seq 2");
    send_data(&c, ESP_FLASH_DATA, u + 0x800, 0x300, 3); /* short last block */
    CHECK(status_is(reply(&c, ESP_FLASH_DATA, NULL), 0, 0), "block 2 as seq 3, short");
    CHECK(flash_file_equals(&s, 1, 0x60000, u, 0xB00), "exact");
    CHECK(flash_range_is(&s, 0x60B00, 0x500, want_ff, NULL, "erased, unprogrammed"),
          "a short last block writes only its bytes");
    CHECK(flash_range_is(&s, 0x61000, 0x1000, want_pattern, NULL, "after"), "nothing past it");
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){0});
    CHECK(status_is(reply(&c, ESP_FLASH_END, NULL), 1, 6), "FLASH_END 01 06 (4 seqs for 3 blocks)");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 200) == 0, "FLASH_END(0) after 01 06: not the loader any more");
    conn_close(&c);
    sim_stop(&s);
}

/* FLASH_BEGIN for `blocks` 4 KiB blocks at off, then each block as FLASH_DATA: every
 * reply a success. */
static bool rom_plain_write(conn *c, const uint8_t *d, uint32_t blocks, uint32_t off)
{
    send_words(c, ESP_FLASH_BEGIN, 4, (uint32_t[]){blocks * 0x1000, blocks, 0x1000, off});
    if (!status_is(reply(c, ESP_FLASH_BEGIN, NULL), 0, 0))
        return false;
    for (uint32_t b = 0; b < blocks; b++) {
        send_data(c, ESP_FLASH_DATA, d + b * 0x1000, 0x1000, b);
        if (!status_is(reply(c, ESP_FLASH_DATA, NULL), 0, 0))
            return false;
    }
    return true;
}

/* At high baud the ROM's receive path can lose a frame's end (§14.1, observed 2026-12;
 * fault rx_drop): no reply at all, the ROM waits inside the frame. A lone C0 closes it
 * short (01 07: checksum over stale bytes, seq consumed, nothing written), SYNC answers,
 * and FLASH_BEGIN restarts the region (accepted with the stale error byte, 00 07). At
 * 115200 the fault does not fire. */
static void t_rom_lost_frame(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files", "--unit-opt", "1:fill=pattern", "--unit-opt",
          "1:fault=rx_drop:2");
    CHECK(open_rom(&c, &s, 1), "open");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_SPI_SET_PARAMS, 6, (uint32_t[]){0, 16u << 20, 0x10000, 0x1000, 0x100, 0xFFFF});
    CHECK(reply(&c, ESP_SPI_SET_PARAMS, NULL), "set params");
    static uint8_t u[2 * 0x1000];
    fill_data(u, sizeof u, 9);
    CHECK(rom_plain_write(&c, u, 2, 0x70000), "FLASH_BEGIN and 2 blocks at 115200");
    CHECK(flash_file_equals(&s, 1, 0x70000, u, sizeof u), "115200: no loss");
    send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){921600, 0});
    CHECK(expect_raw_hex(&c, "C0 01 0F 04 00 07 07 12 20 00 00 00 00 C0 C0 C0", T), "baud");
    for (int lost = 0; lost < 2; lost++) {
        send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){sizeof u, 2, 0x1000, 0x80000});
        const uint8_t *r = reply(&c, ESP_FLASH_BEGIN, NULL);
        CHECK(status_is(r, 0, 0), "flash begin %d", lost);
        CHECK(lost == 0 || r[1] == 0x07, "restart accepted with the stale error byte (00 07)");
        send_data(&c, ESP_FLASH_DATA, u, 0x1000, 0);
        CHECK(conn_frame(&c, 500) == 0, "frame end lost: no reply");
        static const uint8_t lone = 0xC0;
        send_raw(&c, &lone, 1);
        CHECK(status_is(reply(&c, ESP_FLASH_DATA, NULL), 1, 7), "lone C0 closes it: 01 07");
        send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
        for (int i = 0; i < 8; i++)
            CHECK(status_is(reply(&c, ESP_SYNC, NULL), 0, 0), "SYNC reply %d", i);
        CHECK(flash_range_is(&s, 0x80000, sizeof u, want_ff, NULL, "erased, nothing written"),
              "the short frame wrote nothing");
    }
    CHECK(rom_plain_write(&c, u, 2, 0x80000), "the region restarted: FLASH_BEGIN and 2 blocks");
    CHECK(flash_file_equals(&s, 1, 0x80000, u, sizeof u), "exact after two restarts");
    CHECK(flash_range_is(&s, 0x82000, 0x1000, want_pattern, NULL, "after"), "nothing past it");
    conn_close(&c);
    sim_stop(&s);
}

/* esptool 2.x reads the UART date register through its AHB alias 0x60000078 to detect
 * the chip; UART, SPI and eFuse aliases at 0x6000_0000.. are their 0x3FF4_0000.. twins. */
static void t_reg_alias(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--unit-opt", "1:mac=24:0a:c4:12:34:56");
    CHECK(open_rom(&c, &s, 1), "open");
    uint32_t v;
    CHECK((v = rom_read_reg(&c, 0x60000078)) == 0x15122500, "UART date via 0x60000078: %08x", v);
    CHECK((v = rom_read_reg(&c, 0x3FF40078)) == 0x15122500, "UART date: %08x", v);
    CHECK((v = rom_read_reg(&c, 0x60000014)) == rom_read_reg(&c, ESP32_UART_CLKDIV) && v == 0x0030015B,
          "UART_CLKDIV alias: %08x", v);
    for (int w = 0; w < 7; w++)
        CHECK((v = rom_read_reg(&c, 0x6001A000u + 4u * (uint32_t)w)) ==
                  rom_read_reg(&c, ESP32_EFUSE_BASE + 4u * (uint32_t)w),
              "eFuse word %d alias: %08x", w, v);
    CHECK(rom_read_reg(&c, 0x6001A004) == 0xc4123456, "MAC word via the alias");
    /* SPI1 through its alias: RDID after attach */
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    write_reg(&c, 0x6000202C, 23, 4);                    /* MISO_DLEN */
    write_reg(&c, 0x6000201C, 1u << 31 | 1u << 28, 4);   /* USR */
    write_reg(&c, 0x60002024, 7u << 28 | 0x9F, 4);       /* USR2 */
    write_reg(&c, 0x60002080, 0, 4);                     /* W0 */
    write_reg(&c, 0x60002000, 1u << 18, 4);              /* CMD */
    CHECK((v = rom_read_reg(&c, 0x60002080)) == 0x001840EF, "RDID via the SPI1 alias: %08x", v);
    CHECK((v = rom_read_reg(&c, ESP32_SPI_W0)) == 0x001840EF, "the same W0: %08x", v);
    conn_close(&c);
    sim_stop(&s);
}

/* Each simulated USB bridge carries only its own rates: CP2104 up to 2 Mbaud, CH9102 up
 * to 4 Mbaud, the FT231X of some M5 units only 250k/500k/750k/1.5M above 115200. Above
 * that the unit's replies arrive garbled (the reply to CHANGE_BAUDRATE itself, at the old
 * rate, is clean). */
static void t_bridge_baud(void)
{
    static const struct { const char *bridge; uint32_t baud; bool clean; } cases[] = {
        {"cp2104", 1500000, true},  {"cp2104", 3000000, false}, {"ch9102", 3000000, true},
        {"ftdi", 1500000, true},    {"ftdi", 921600, false},    {"ftdi", 750000, true},
        {"ftdi", 460800, false},
    };
    simproc s;
    conn c;
    char opt[6][40];
    for (int i = 0; i < 3; i++)
        snprintf(opt[i], sizeof opt[i], "%d:bridge=%s", i + 1, i == 0 ? "cp2104" : i == 1 ? "ch9102" : "ftdi");
    START(s, "--units", "3", "--unit-opt", opt[0], "--unit-opt", opt[1], "--unit-opt", opt[2]);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int slot = !strcmp(cases[k].bridge, "cp2104") ? 1 : !strcmp(cases[k].bridge, "ch9102") ? 2 : 3;
        CHECK(open_rom(&c, &s, slot), "open %s", cases[k].bridge);
        send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){cases[k].baud, 0});
        CHECK(expect_raw_hex(&c, "C0 01 0F 04 00 07 07 12 20 00 00 00 00 C0 C0 C0", T), "reply");
        send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
        bool clean = false;
        if (conn_frame(&c, 300) == 1)
            clean = c.flen == 12 && esp_le32(c.frame + 4) == ESP32_CHIP_MAGIC;
        CHECK(clean == cases[k].clean, "%s at %u: %s", cases[k].bridge, cases[k].baud,
              clean ? "clean" : "garbled");
        conn_close(&c);
    }
    sim_stop(&s);
}

/* ================= stub ================= */

static void t_stub_flow(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files");
    CHECK(open_rom(&c, &s, 1), "open");
    CHECK(upload_stub(&c), "stub upload + OHAI");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(expect_n(&c, SYNC_STUB, 8), "stub SYNC (§12)");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 02 00 83 1D F0 00 00 00 C0", T), "stub READ_REG (§12)");
    CHECK(rdid(&c, 2) == 0x001840EF, "RDID in the stub (attached at start-up)");
    /* "hello" through the stub, MD5 raw (§12) */
    CHECK(stub_defl_write(&c, (const uint8_t *)"hello", 5, 0x10000), "defl hello");
    send_words(&c, ESP_SPI_FLASH_MD5, 4, (uint32_t[]){0x10000, 5, 0, 0});
    CHECK(expect_raw_hex(&c, "C0 01 13 12 00 00 00 00 00 5D 41 40 2A BC 4B 2A 76 B9 71 9D 91 10 17 "
                             "C5 92 00 00 C0",
                         T),
          "stub MD5 of hello (§12)");
    /* 200 KB compressed write, then --flash-files readback and MD5 */
    size_t n = 200 * 1024;
    uint8_t *data = malloc(n), md[16], got[16];
    fill_data(data, n, 11);
    CHECK(stub_defl_write(&c, data, n, 0x20000), "defl 200 KB");
    md5_of(data, n, md);
    CHECK(stub_md5(&c, 0x20000, (uint32_t)n, got) && !memcmp(md, got, 16), "MD5 200 KB");
    CHECK(flash_file_equals(&s, 1, 0x20000, data, n), "flash file == data");
    /* READ_FLASH streamed with acks (esptool-js style: in-flight counted in bytes) */
    send_words(&c, ESP_READ_FLASH, 4, (uint32_t[]){0x20000, 10000, 4096, 64});
    CHECK(expect_raw_hex(&c, STUB_OK("D2"), T), "READ_FLASH reply");
    uint8_t *rb = malloc(10000);
    uint32_t got_n = 0;
    while (got_n < 10000) {
        CHECK(conn_frame(&c, T) == 1, "data frame at %u", got_n);
        CHECK(c.flen == (10000 - got_n < 4096 ? 10000 - got_n : 4096), "frame size %zu", c.flen);
        memcpy(rb + got_n, c.frame, c.flen);
        got_n += (uint32_t)c.flen;
        uint8_t ack[4];
        esp_put32(ack, got_n);
        uint8_t enc[16];
        send_raw(&c, enc, slip_encode(ack, 4, enc));
    }
    CHECK(conn_frame(&c, T) == 1 && c.flen == 16, "digest frame");
    md5_of(data, 10000, md);
    CHECK(!memcmp(rb, data, 10000) && !memcmp(c.frame, md, 16), "READ_FLASH data and MD5");
    free(rb);
    /* lazy erase covers the bytes before an unaligned offset */
    uint8_t zeros[4096] = {0};
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){4096, 1, 0x4000, 0x50000});
    CHECK(expect_raw_hex(&c, STUB_OK("02"), T), "begin");
    send_data(&c, ESP_FLASH_DATA, zeros, sizeof zeros, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("03"), T), "zeros");
    send_words(&c, ESP_FLASH_BEGIN, 5, (uint32_t[]){100, 1, 0x4000, 0x50800, 0});
    CHECK(expect_raw_hex(&c, STUB_OK("02"), T), "20-byte begin accepted by the stub");
    send_data(&c, ESP_FLASH_DATA, zeros, 100, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("03"), T), "unaligned");
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, STUB_OK("04"), T), "end(1): write barrier");
    uint8_t chk[0x1000];
    CHECK(read_flash_file(&s, 1, 0x50000, chk, sizeof chk), "read");
    bool layout = true;
    for (int i = 0; i < 0x1000; i++)
        layout &= chk[i] == (i >= 0x800 && i < 0x800 + 100 ? 0x00 : 0xFF);
    CHECK(layout, "sector erased around the unaligned write");
    /* errors */
    uint8_t blk[32] = {0};
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){100, 1, 0x4000, 0x60000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    uint8_t p[16 + 32] = {32};
    memcpy(p + 16, blk, 32);
    send_cmd(&c, ESP_FLASH_DEFL_DATA, p, sizeof p, 0x12);
    CHECK(expect_raw_hex(&c, "C0 01 11 02 00 00 00 00 00 C1 00 C0", T), "checksum -> C1 00 (§12)");
    send_cmd(&c, 0x55, NULL, 0, 0);
    CHECK(expect_raw_hex(&c, "C0 01 55 02 00 00 00 00 00 FF 00 C0", T), "unknown -> FF 00");
    send_cmd(&c, ESP_GET_SECURITY_INFO, NULL, 0, 0);
    CHECK(expect_raw_hex(&c, "C0 01 14 02 00 00 00 00 00 FF 00 C0", T), "GET_SECURITY_INFO");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(expect_raw_hex(&c, "C0 01 0D 02 00 00 00 00 00 DB DC 00 C0", T), "8-byte attach -> C0 (escaped)");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 12 02 00 00 00 00 00 C8 00 C0", T), "END with data due -> C8");
    send_words(&c, ESP_ERASE_REGION, 2, (uint32_t[]){0x1001, 0x1000});
    CHECK(expect_raw_hex(&c, "C0 01 D1 02 00 00 00 00 00 32 00 C0", T), "unaligned erase -> 32");
    send_words(&c, ESP_ERASE_REGION, 2, (uint32_t[]){0x20000, 0x1000});
    CHECK(expect_raw_hex(&c, STUB_OK("D1"), T), "erase region");
    CHECK(stub_md5(&c, 0x20000, 0x1000, got), "md5");
    uint8_t ff[0x1000];
    memset(ff, 0xFF, sizeof ff);
    md5_of(ff, sizeof ff, md);
    CHECK(!memcmp(md, got, 16), "erased region reads 0xFF");
    /* FLASH_END(0): reply, then SW reset into the app, silent */
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){0, 0, 0x4000, 0});
    CHECK(expect_raw_hex(&c, STUB_OK("02"), T), "begin(0,0)");
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){0});
    CHECK(expect_raw_hex(&c, STUB_OK("04"), T), "end(0)");
    char txt[300];
    conn_text(&c, txt, sizeof txt, "(SPI_FAST_FLASH_BOOT)\r\n", T);
    CHECK(strstr(txt, "rst:0x3 (SW_RESET),boot:0x13"), "reset banner: %s", txt);
    conn_drain(&c, 100);
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 200) == 0, "app silent");
    free(data);
    conn_close(&c);
    sim_stop(&s);
}

static void t_stub_inflate(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--flash-files");
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    uint8_t data[2000], z[2600];
    fill_data(data, sizeof data, 5);
    uLongf zl = sizeof z;
    compress2(z, &zl, data, sizeof data, 9);
    /* Adler trailer split into its own 4-byte block: accepted */
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){sizeof data, 2, 0x4000, 0x10000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, zl - 4, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "body");
    send_data(&c, ESP_FLASH_DEFL_DATA, z + zl - 4, 4, 1);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "trailer");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, STUB_OK("12"), T), "end");
    CHECK(flash_file_equals(&s, 1, 0x10000, data, sizeof data), "data");
    /* more output than announced: trimmed; a further block > 4 bytes -> C9 */
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){1000, 2, 0x4000, 0x20000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, zl, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "ack before the check");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 8, 1);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "ack (error deferred)");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 8, 2);
    CHECK(expect_raw_hex(&c, "C0 01 11 02 00 00 00 00 00 C9 00 C0", T), "C9 on the next one");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 12 02 00 00 00 00 00 C9 00 C0", T), "END reports it");
    /* stream shorter than announced: C8 at END */
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){5000, 1, 0x4000, 0x30000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, zl, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "ack");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 12 02 00 00 00 00 00 C8 00 C0", T), "C8");
    /* corrupt data: C7 on the next data command */
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){5000, 2, 0x4000, 0x40000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    uint8_t bad[64];
    memset(bad, 0xFF, sizeof bad);
    bad[0] = 0x78;
    bad[1] = 0xDA;
    send_data(&c, ESP_FLASH_DEFL_DATA, bad, sizeof bad, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "ack");
    send_data(&c, ESP_FLASH_DEFL_DATA, bad, sizeof bad, 1);
    CHECK(expect_raw_hex(&c, "C0 01 11 02 00 00 00 00 00 C7 00 C0", T), "C7 deferred");
    /* data without BEGIN */
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){0, 0, 0x4000, 0});
    CHECK(expect_raw_hex(&c, STUB_OK("02"), T), "begin 0");
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, STUB_OK("04"), T), "end");
    send_data(&c, ESP_FLASH_DATA, bad, 16, 0);
    CHECK(expect_raw_hex(&c, "C0 01 03 02 00 00 00 00 00 C6 00 C0", T), "C6");
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){100, 1, 0x4001, 0});
    CHECK(expect_raw_hex(&c, "C0 01 02 02 00 00 00 00 00 C2 00 C0", T), "C2");
    conn_close(&c);
    sim_stop(&s);
}

/* ================= faults ================= */

static void t_fault_ram_checksum(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--unit-opt", "1:fault=ram_checksum:2");
    CHECK(open_rom(&c, &s, 1), "open");
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){16, 1, ESP_RAM_BLOCK, TEXT_ADDR});
    CHECK(reply(&c, ESP_MEM_BEGIN, NULL), "begin");
    uint8_t text[16];
    fill_data(text, 16, 7);
    send_data(&c, ESP_MEM_DATA, text, 16, 0);
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 01 07 00 00 C0", T), "exact fault reply");
    send_data(&c, ESP_MEM_DATA, text, 16, 0);
    CHECK(expect_raw_hex(&c, "C0 01 07 04 00 07 07 12 20 01 05 00 00 C0", T), "seq consumed");
    conn_close(&c); /* retry = reset + fresh upload */
    msleep(50);
    CHECK(open_rom(&c, &s, 1), "reopen");
    /* a host that ignores the error (esptool-js 0.5 does): the image is a block short,
     * MEM_END is answered, but the CPU crashes instead of greeting */
    send_words(&c, ESP_MEM_BEGIN, 4, (uint32_t[]){32, 2, 16, TEXT_ADDR});
    CHECK(reply(&c, ESP_MEM_BEGIN, NULL), "begin");
    send_data(&c, ESP_MEM_DATA, text, 16, 0);
    CHECK(reply(&c, ESP_MEM_DATA, NULL), "block 0");
    send_data(&c, ESP_MEM_DATA, text, 16, 1);
    CHECK(reply(&c, ESP_MEM_DATA, NULL), "block 1");
    send_words(&c, ESP_MEM_END, 2, (uint32_t[]){0, TEXT_ADDR});
    CHECK(expect_raw_hex(&c, "C0 01 06 04 00 07 07 12 20 00 07 00 00 C0", T), "MEM_END (stale 07)");
    CHECK(conn_drain(&c, 300) == 0, "no OHAI from a short image");
    conn_close(&c);
    msleep(50);
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "retry passes");
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_flash_write_error(void)
{
    simproc s;
    conn c;
    START(s, "--units", "2", "--unit-opt", "1:fault=flash_write_error", "--unit-opt",
          "2:fault=flash_write_error");
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    uint8_t data[100], z[200];
    fill_data(data, sizeof data, 1);
    uLongf zl = sizeof z;
    compress2(z, &zl, data, sizeof data, 9);
    for (int attempt = 0; attempt < 2; attempt++) { /* fails every time */
        send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){sizeof data, 1, 0x4000, 0x10000});
        CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
        send_data(&c, ESP_FLASH_DEFL_DATA, z, zl, 0);
        CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "ACKed before the write");
        send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
        CHECK(expect_raw_hex(&c, "C0 01 12 02 00 00 00 00 00 C4 00 C0", T), "deferred C4");
    }
    conn_close(&c);
    /* ROM: 01 08 on the data block */
    CHECK(open_rom(&c, &s, 2), "rom");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){0x400, 1, 0x400, 0x10000});
    CHECK(reply(&c, ESP_FLASH_BEGIN, NULL), "begin");
    uint8_t blk[0x400] = {1, 2, 3};
    send_data(&c, ESP_FLASH_DATA, blk, sizeof blk, 0);
    CHECK(expect_raw_hex(&c, "C0 01 03 04 00 07 07 12 20 01 08 00 00 C0", T), "ROM 01 08");
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_inflate_error(void)
{
    simproc s;
    conn c;
    START(s, "--units", "2", "--unit-opt", "1:fault=inflate_error", "--unit-opt",
          "2:fault=inflate_error:1");
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    uint8_t data[40000];
    fill_data(data, sizeof data, 2);
    uLongf zl = compressBound(sizeof data);
    uint8_t *z = malloc(zl);
    compress2(z, &zl, data, sizeof data, 9);
    CHECK(zl > 0x4000, "two blocks needed");
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){sizeof data, 2, 0x4000, 0x10000});
    CHECK(expect_raw_hex(&c, STUB_OK("10"), T), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 0x4000, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("11"), T), "first ACKed");
    send_data(&c, ESP_FLASH_DEFL_DATA, z + 0x4000, zl - 0x4000, 1);
    CHECK(expect_raw_hex(&c, "C0 01 11 02 00 00 00 00 00 C7 00 C0", T), "C7 deferred");
    conn_close(&c);
    CHECK(open_rom(&c, &s, 2), "rom");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){0x400, 1, 0x400, 0x10000});
    CHECK(reply(&c, ESP_FLASH_DEFL_BEGIN, NULL), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 0x400, 0);
    CHECK(expect_raw_hex(&c, "C0 01 11 04 00 07 07 12 20 01 0B 00 00 C0", T), "ROM 01 0B");
    /* :1 = once: the next session inflates fine */
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){0x400, 1, 0x400, 0x10000});
    CHECK(reply(&c, ESP_FLASH_DEFL_BEGIN, NULL), "begin");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, 0x400, 0);
    CHECK(expect_raw_hex(&c, "C0 01 11 04 00 07 07 12 20 00 00 00 00 C0", T), "second session ok");
    free(z);
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_bitflip_blank(void)
{
    simproc s;
    conn c;
    START(s, "--units", "2", "--flash-files", "--unit-opt", "1:fault=bitflip", "--unit-opt",
          "2:fault=blank");
    uint8_t data[8192], got[8192], md[16], dev[16];
    fill_data(data, sizeof data, 9);
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    CHECK(stub_defl_write(&c, data, sizeof data, 0x10000), "write acknowledged");
    md5_of(data, sizeof data, md);
    CHECK(stub_md5(&c, 0x10000, sizeof data, dev) && memcmp(md, dev, 16) != 0, "MD5 mismatch");
    CHECK(read_flash_file(&s, 1, 0x10000, got, sizeof got), "read");
    int bits = 0;
    for (size_t i = 0; i < sizeof data; i++)
        bits += __builtin_popcount(data[i] ^ got[i]);
    CHECK(bits == 1, "exactly one bit flipped (%d)", bits);
    conn_close(&c);
    CHECK(open_rom(&c, &s, 2) && upload_stub(&c), "stub 2");
    CHECK(stub_defl_write(&c, data, sizeof data, 0x10000), "write acknowledged");
    memset(got, 0xFF, sizeof got);
    md5_of(got, sizeof got, md);
    CHECK(stub_md5(&c, 0x10000, sizeof data, dev) && !memcmp(md, dev, 16), "blank: reads 0xFF");
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_misc(void)
{
    simproc s;
    conn c;
    START(s, "--units", "4", "--unit-opt", "1:fault=no_sync", "--unit-opt", "2:fault=wrong_chip",
          "--unit-opt", "3:fault=slow:300", "--unit-opt", "4:fault=noise:1");
    CHECK(conn_open(&c, &s, 1, 0) == 0, "open");
    char txt[400];
    conn_text(&c, txt, sizeof txt, "(SPI_FAST_FLASH_BOOT)\r\n", T);
    CHECK(strstr(txt, "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)") &&
              !strstr(txt, "waiting for download"),
          "normal boot banner: %s", txt);
    conn_drain(&c, 100);
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_drain(&c, 300) == 0, "no SYNC answer");
    conn_close(&c);
    CHECK(open_rom(&c, &s, 2), "open 2");
    CHECK(rom_read_reg(&c, ESP32_CHIP_MAGIC_REG) == ESP32S3_CHIP_MAGIC, "S3 magic");
    conn_close(&c);
    CHECK(conn_open(&c, &s, 3, 0) == 0 && banner(&c, BANNER_DL), "open 3");
    uint64_t t0 = now_ms();
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_fill(&c, 1, 150) == 0, "slow: nothing within 150 ms");
    CHECK(expect_n(&c, SYNC_ROM, 8), "slow: replies arrive");
    CHECK(now_ms() - t0 >= 250, "slow: delayed");
    conn_close(&c);
    CHECK(conn_open(&c, &s, 4, 0) == 0 && banner(&c, BANNER_DL), "open 4");
    conn_drain(&c, 50);
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, 36, 0);
    CHECK(conn_fill(&c, 1, T) > 0 && c.pend[0] != 0xC0 && c.pend[0] != 0xDB, "garbage first");
    for (int i = 0; i < 8; i++) {
        CHECK(conn_frame(&c, T) == 1 && c.flen == 12 && c.frame[1] == ESP_SYNC, "frames decode");
    }
    CHECK(c.dec.noise_bytes > 0, "noise counted");
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_baud_max(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--unit-opt", "1:fault=baud_max:460800");
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){230400, 115200});
    CHECK(expect_raw_hex(&c, STUB_OK("0F"), T), "230400 fine");
    send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){921600, 230400});
    CHECK(expect_raw_hex(&c, STUB_OK("0F"), T), "reply at the old rate");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    uint8_t got[12], exp[12];
    hexb("C0 01 0A 02 00 83 1D F0 00 00 00 C0", exp);
    CHECK(conn_raw(&c, got, 12, T) == 0, "something arrives");
    for (int i = 0; i < 12; i++)
        CHECK(got[i] != exp[i], "byte %d not garbled", i);
    conn_close(&c);
    msleep(50);
    CHECK(open_rom(&c, &s, 1), "reset restores 115200");
    conn_close(&c);
    sim_stop(&s);
}

static void t_fault_disconnect(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--unit-opt", "1:fault=disconnect:50");
    CHECK(open_rom(&c, &s, 1) && upload_stub(&c), "stub");
    uint8_t *data = malloc(64 * 1024);
    fill_data(data, 64 * 1024, 4);
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){64 * 1024, 4, 0x4000, 0x10000});
    CHECK(expect_raw_hex(&c, STUB_OK("02"), T), "begin");
    send_data(&c, ESP_FLASH_DATA, data, 0x4000, 0);
    CHECK(expect_raw_hex(&c, STUB_OK("03"), T), "25 %%");
    send_data(&c, ESP_FLASH_DATA, data + 0x4000, 0x4000, 1);
    /* the unit is pulled while this ACK may still be in the bridge: it may be lost */
    conn_fill(&c, 12, 200);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = access(sim_path(&s, "slot1"), F_OK) != 0;
        msleep(10);
    }
    CHECK(gone, "symlink removed");
    uint8_t b;
    ssize_t r = read(c.fd, &b, 1);
    CHECK(r <= 0, "host sees the port vanish");
    free(data);
    conn_close(&c);
    sim_stop(&s);
}

/* ================= transports, scenario, realism ================= */

static void t_tcp(void)
{
    simproc s;
    conn c, c2;
    int base = 23000 + (int)(getpid() % 20000);
    char bs[16];
    snprintf(bs, sizeof bs, "%d", base);
    START(s, "--units", "2", "--tcp", bs);
    FILE *f = fopen(sim_path(&s, "slot2.tcp"), "r");
    char line[64] = "", exp[64];
    CHECK(f && fgets(line, sizeof line, f), "slot2.tcp");
    fclose(f);
    snprintf(exp, sizeof exp, "socket://127.0.0.1:%d\n", base + 1);
    CHECK(!strcmp(line, exp), "tcp file: %s", line);
    CHECK(conn_open(&c, &s, 2, base + 1) == 0, "connect");
    CHECK(banner(&c, BANNER_DL) && rom_sync(&c), "banner + sync over TCP");
    CHECK(upload_stub(&c), "stub over TCP");
    CHECK(conn_open(&c2, &s, 2, base + 1) == 0, "second connect");
    uint8_t b;
    CHECK(conn_fill(&c2, 1, 300) == 0 && read(c2.fd, &b, 1) == 0, "second host refused");
    conn_close(&c2);
    conn_close(&c);
    msleep(50);
    CHECK(conn_open(&c, &s, 2, base + 1) == 0 && banner(&c, BANNER_DL) && rom_sync(&c),
          "reconnect = reset into ROM");
    conn_close(&c);
    sim_stop(&s);
}

static bool wait_exists(simproc *s, const char *name, bool want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if ((access(sim_path(s, name), F_OK) == 0) == want)
            return true;
        msleep(10);
    }
    return false;
}

static void t_scenario(void)
{
    char path[] = "/tmp/esp32sim-scen-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "tmp");
    const char *txt = "# test scenario\n"
                      "slot 1 bridge=ch9102\n"
                      "unit 1 at=0 serial=FIRST leave=stay+0.4\n"
                      "unit 1 after=0.3 serial=SECOND pkg=d0wdq6 leave=reset+0.2\n"
                      "unit 2 at=0.5 mac=24:0a:c4:aa:bb:cc\n";
    CHECK(write(fd, txt, strlen(txt)) == (ssize_t)strlen(txt), "write");
    close(fd);
    simproc s;
    conn c;
    START(s, "--scenario", path);
    char side[256] = "";
    FILE *f = fopen(sim_path(&s, "slot1.usb"), "r");
    CHECK(f && fread(side, 1, sizeof side - 1, f) > 0, "first sidecar");
    fclose(f);
    CHECK(strstr(side, "serial=FIRST") && strstr(side, "vid=1a86") && strstr(side, "bridge=CH9102"),
          "%s", side);
    CHECK(access(sim_path(&s, "slot2"), F_OK) != 0, "slot2 not yet there");
    CHECK(wait_exists(&s, "slot1", false, 3000), "first unit leaves");
    CHECK(wait_exists(&s, "slot1", true, 3000), "second unit arrives");
    CHECK(wait_exists(&s, "slot2", true, 3000), "slot2 arrives");
    f = fopen(sim_path(&s, "slot1.usb"), "r");
    memset(side, 0, sizeof side);
    CHECK(f && fread(side, 1, sizeof side - 1, f) > 0, "second sidecar");
    fclose(f);
    CHECK(strstr(side, "serial=SECOND"), "%s", side);
    CHECK(conn_open(&c, &s, 1, 0) == 0, "open second");
    CHECK(banner(&c, "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
                     "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"),
          "rev1 unit");
    CHECK(rom_sync(&c), "sync");
    send_words(&c, ESP_FLASH_END, 1, (uint32_t[]){1}); /* run the app: "reset by the station" */
    CHECK(reply(&c, ESP_FLASH_END, NULL), "end");
    CHECK(access(sim_path(&s, "slot1"), F_OK) == 0, "still there right after");
    CHECK(wait_exists(&s, "slot1", false, 3000), "leaves after the reset");
    conn_close(&c);
    CHECK(conn_open(&c, &s, 2, 0) == 0 && banner(&c, BANNER_DL), "slot2");
    CHECK(rom_read_reg(&c, ESP32_EFUSE_BASE + 4) == 0xc4aabbcc, "slot2 MAC");
    conn_close(&c);
    sim_stop(&s);
    unlink(path);
}

static void t_realism(void)
{
    simproc s;
    conn c;
    START(s, "--units", "1", "--realism");
    CHECK(open_rom(&c, &s, 1), "sync with realism");
    send_cmd(&c, ESP_SPI_ATTACH, (uint8_t[8]){0}, 8, 0);
    CHECK(reply(&c, ESP_SPI_ATTACH, NULL), "attach");
    uint64_t t0 = now_ms();
    send_words(&c, ESP_FLASH_BEGIN, 4, (uint32_t[]){0x20000, 128, 0x400, 0x20000});
    CHECK(reply(&c, ESP_FLASH_BEGIN, NULL), "begin");
    CHECK(now_ms() - t0 >= 250, "two 64 KiB block erases take >= 300 ms");
    conn_close(&c);
    sim_stop(&s);
}

/* The per-sector counters in DIR/slotK.ops: [0] program commands, [1] erases. */
static bool read_ops(simproc *s, int slot, uint32_t sector, uint32_t out[2])
{
    char name[32];
    snprintf(name, sizeof name, "slot%d.ops", slot);
    FILE *f = fopen(sim_path(s, name), "rb");
    uint8_t b[8];
    bool ok = f && fseek(f, (long)sector * 8, SEEK_SET) == 0 && fread(b, 1, 8, f) == 8;
    if (f)
        fclose(f);
    out[0] = esp_le32(b);
    out[1] = esp_le32(b + 4);
    return ok;
}

/* Device model: the stub erases each sector of a write once (ahead of the inflate, never
 * outside the region), issues one page-program command per program unit of the timing
 * preset (256 B typ, 32 B p32), and an ERASE_REGION erases without programming. */
static void t_device_model(void)
{
    simproc s;
    conn c;
    START(s, "--units", "2", "--flash-files", "--unit-opt", "2:timing=p32");
    size_t n = 0x22000; /* 2 blocks and 2 sectors */
    uint8_t *data = malloc(n);
    fill_data(data, n, 5);
    for (int slot = 1; slot <= 2; slot++) {
        CHECK(open_rom(&c, &s, slot), "open slot %d", slot);
        CHECK(upload_stub(&c), "stub");
        CHECK(stub_defl_write(&c, data, n, 0x40000), "defl write");
        CHECK(flash_file_equals(&s, slot, 0x40000, data, n), "written");
        uint32_t per = slot == 1 ? 4096 / 256 : 4096 / 32;
        for (uint32_t sec = 0x3F; sec <= 0x40 + 0x22; sec++) {
            uint32_t ops[2];
            CHECK(read_ops(&s, slot, sec, ops), "ops file");
            bool in = sec >= 0x40 && sec < 0x40 + 0x22;
            CHECK(ops[1] == (in ? 1u : 0u), "slot %d sector 0x%x erased %u times", slot, sec, ops[1]);
            CHECK(ops[0] == (in ? per : 0u), "slot %d sector 0x%x: %u program commands", slot, sec,
                  ops[0]);
        }
        send_words(&c, ESP_ERASE_REGION, 2, (uint32_t[]){0x80000, 0x11000});
        CHECK(expect_raw_hex(&c, STUB_OK("D1"), 5 * T), "erase region");
        for (uint32_t sec = 0x80; sec < 0x91; sec++) {
            uint32_t ops[2];
            CHECK(read_ops(&s, slot, sec, ops) && ops[0] == 0 && ops[1] == 1,
                  "sector 0x%x: erased once, never programmed", sec);
        }
        conn_close(&c);
    }
    free(data);
    sim_stop(&s);
    const char *bad[] = {"--units", "1", "--unit-opt", "1:timing=fast", NULL};
    CHECK(sim_start(&s, bad) != 0, "timing=fast refused");
}

static void t_demo_scenario(void)
{
    simproc s;
    conn c;
    START(s, "--scenario", SIM_SOURCE_DIR "/scenarios/demo.txt");
    FILE *f = fopen(sim_path(&s, "slot1.usb"), "r");
    char side[256] = "";
    CHECK(f && fread(side, 1, sizeof side - 1, f) > 0, "slot1 sidecar");
    fclose(f);
    CHECK(strstr(side, "bridge=CP2104"), "%s", side);
    CHECK(access(sim_path(&s, "slot4"), F_OK) != 0, "slot4 arrives later");
    CHECK(conn_open(&c, &s, 1, 0) == 0 && banner(&c, BANNER_DL) && rom_sync(&c), "slot1");
    uint32_t w1 = rom_read_reg(&c, ESP32_EFUSE_BASE + 4), w2 = rom_read_reg(&c, ESP32_EFUSE_BASE + 8);
    CHECK(w1 == 0xc45a1001 && (w2 & 0xFFFF) == 0x240a, "MAC 24:0a:c4:5a:10:01");
    conn_close(&c);
    sim_stop(&s);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"banner_sync", t_banner_sync},       {"read_reg", t_read_reg},
    {"unknown_op", t_unknown_op},         {"mem_checksum", t_mem_checksum},
    {"rom_flash_md5", t_rom_flash_md5},   {"rom_deflate", t_rom_deflate},
    {"rom_framing", t_rom_framing},       {"stub_flow", t_stub_flow},
    {"stub_inflate", t_stub_inflate},     {"fault_ram_checksum", t_fault_ram_checksum},
    {"fault_flash_write_error", t_fault_flash_write_error},
    {"fault_inflate_error", t_fault_inflate_error},
    {"fault_bitflip_blank", t_fault_bitflip_blank},
    {"fault_misc", t_fault_misc},         {"fault_baud_max", t_fault_baud_max},
    {"fault_disconnect", t_fault_disconnect},
    {"tcp", t_tcp},                       {"scenario", t_scenario},
    {"realism", t_realism},               {"demo_scenario", t_demo_scenario},
    {"spi_status", t_spi_status},
    {"device_model", t_device_model},
    {"rom_overrun", t_rom_overrun},       {"rom_retry", t_rom_retry},
    {"reg_alias", t_reg_alias},           {"bridge_baud", t_bridge_baud},
    {"rom_lost_frame", t_rom_lost_frame},
};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_sim ESP32SIM CASE|all\n");
        return 2;
    }
    t_sim_path = argv[1];
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[2], "all") && strcmp(argv[2], cases[i].name))
            continue;
        int before = t_failures;
        g_sim = NULL;
        cases[i].fn();
        if (g_sim && g_sim->pid > 0)
            sim_stop(g_sim);
        fprintf(stderr, "%s: %s\n", cases[i].name, t_failures == before ? "ok" : "FAILED");
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no case '%s'\n", argv[2]);
        return 2;
    }
    return t_failures ? 1 : 0;
}

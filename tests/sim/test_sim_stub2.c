/* test_sim_stub2.c - the simulator tells uploaded stubs apart by their text segment and
 * behaves as the one it recognised: Espressif's esp-flasher-stub (esptool-js 0.7.0's ESP32
 * stub), the legacy stub (esptool-js 0.5.7's), and a stub built for another chip
 * (esptool-js 0.7.0's ESP32-S3 stub), which crashes an ESP32.
 * Usage: test_sim_stub2 ESP32SIM NEW_ESP32_JSON LEGACY_ESP32_JSON OTHER_CHIP_JSON */
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "esp_proto.h"
#include "test_sim_util.h"


typedef struct stub {
    uint32_t entry, text_start, data_start;
    uint8_t *text, *data;
    size_t text_len, data_len;
} stub;

static simproc s;
static char g_log[64]; /* the simulator's stderr (its -v lines) */

static uint8_t *b64(json_t *v, size_t *len)
{
    const char *t = json_string_value(v);
    size_t n = t ? strlen(t) : 0;
    uint8_t *out = malloc(n / 4 * 3 + 3);
    int got = out && n ? EVP_DecodeBlock(out, (const unsigned char *)t, (int)n) : -1;
    if (got < 0)
        return NULL;
    *len = (size_t)got - (n && t[n - 1] == '=') - (n > 1 && t[n - 2] == '=');
    return out;
}

static bool load(const char *path, stub *st)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return false;
    st->entry = (uint32_t)json_integer_value(json_object_get(j, "entry"));
    st->text_start = (uint32_t)json_integer_value(json_object_get(j, "text_start"));
    st->data_start = (uint32_t)json_integer_value(json_object_get(j, "data_start"));
    st->text = b64(json_object_get(j, "text"), &st->text_len);
    st->data = b64(json_object_get(j, "data"), &st->data_len);
    json_decref(j);
    return st->text && st->data;
}

static bool rom_reply_ok(conn *c, uint8_t op)
{
    for (int i = 0; i < 10; i++) {
        if (conn_frame(c, T) != 1)
            return false;
        if (c->flen >= 12 && c->frame[0] == 1 && c->frame[1] == op)
            return c->frame[8] == 0;
    }
    return false;
}

static bool segment(conn *c, uint32_t addr, const uint8_t *d, size_t n)
{
    uint32_t blocks = (uint32_t)((n + ESP_RAM_BLOCK - 1) / ESP_RAM_BLOCK);
    send_words(c, ESP_MEM_BEGIN, 4, (uint32_t[]){(uint32_t)n, blocks, ESP_RAM_BLOCK, addr});
    if (!rom_reply_ok(c, ESP_MEM_BEGIN))
        return false;
    for (uint32_t i = 0; i < blocks; i++) {
        size_t k = n - i * ESP_RAM_BLOCK < ESP_RAM_BLOCK ? n - i * ESP_RAM_BLOCK : ESP_RAM_BLOCK;
        send_data(c, ESP_MEM_DATA, d + i * ESP_RAM_BLOCK, k, i);
        if (!rom_reply_ok(c, ESP_MEM_DATA))
            return false;
    }
    return true;
}

/* Open slot K (reset into the ROM), sync, upload st, MEM_END(0, entry), MEM_END reply.
 * True when all of that went through; *ohai tells whether the stub greeted. */
static bool upload(conn *c, int slot, const stub *st, bool *ohai)
{
    if (conn_open(c, &s, slot, 0) != 0)
        return false;
    char txt[512];
    conn_text(c, txt, sizeof txt, "waiting for download\r\n", T);
    send_cmd(c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    for (int i = 0; i < 8; i++)
        if (conn_frame(c, T) != 1)
            return false;
    if (!segment(c, st->text_start, st->text, st->text_len) ||
        !segment(c, st->data_start, st->data, st->data_len))
        return false;
    send_words(c, ESP_MEM_END, 2, (uint32_t[]){0, st->entry});
    if (!rom_reply_ok(c, ESP_MEM_END))
        return false;
    *ohai = conn_frame(c, T) == 1 && c->flen == 4 && memcmp(c->frame, "OHAI", 4) == 0;
    return true;
}

static bool log_has(const char *text)
{
    char buf[1 << 16];
    FILE *f = fopen(g_log, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    return strstr(buf, text) != NULL;
}

static void t_stub2(const stub *nw, const stub *legacy, const stub *other)
{
    conn c;
    bool ohai = false;
    const char *args[] = {"--units", "3", "-v", "--unit-opt", "1:fault=flash_write_error:1",
                          NULL};
    snprintf(g_log, sizeof g_log, "/tmp/esp32sim-stub2-%d.log", (int)getpid());
    int logfd = open(g_log, O_WRONLY | O_CREAT | O_TRUNC, 0644), saved = dup(2);
    dup2(logfd, 2); /* the simulator inherits it */
    int rc = sim_start(&s, args);
    dup2(saved, 2);
    close(saved);
    close(logfd);
    CHECK(rc == 0, "simulator did not start");

    /* esp-flasher-stub */
    CHECK(upload(&c, 1, nw, &ohai) && ohai, "esptool-js 0.7.0 ESP32 stub uploaded, OHAI");
    CHECK(log_has("esp-flasher-stub (esptool-js 0.7.0)"), "recognised by its text");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    for (int i = 0; i < 8; i++)
        CHECK(expect_raw_hex(&c, SYNC_STUB, T), "stub SYNC reply %d", i);
    send_cmd(&c, 0xEE, NULL, 0, 0);
    CHECK(expect_raw_hex(&c, "C0 01 EE 02 00 00 00 00 00 C3 00 C0", T),
          "unknown opcode: C3 00 (INVALID_COMMAND), not the legacy FF 00");
    /* A write that fails (fault flash_write_error:1): the block is acknowledged, the error
     * is answered to the next command, whatever it is, and that command is not run. */
    uint8_t img[0x1000], z[0x1100];
    memset(img, 0x5A, sizeof img);
    uLongf zl = sizeof z;
    CHECK(compress2(z, &zl, img, sizeof img, 9) == Z_OK, "zlib");
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){sizeof img, 1, 0x4000, 0x20000});
    CHECK(expect_raw_hex(&c, "C0 01 10 02 00 00 00 00 00 00 00 C0", T), "DEFL_BEGIN 2");
    send_data(&c, ESP_FLASH_DEFL_DATA, z, zl, 0);
    CHECK(expect_raw_hex(&c, "C0 01 11 02 00 00 00 00 00 00 00 C0", T), "DEFL_DATA acked");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 02 00 00 00 00 00 C4 00 C0", T),
          "the next command (READ_REG) gets the write error C4, value 0: not run");
    send_words(&c, ESP_READ_REG, 1, (uint32_t[]){ESP32_CHIP_MAGIC_REG});
    CHECK(expect_raw_hex(&c, "C0 01 0A 02 00 83 1D F0 00 00 00 C0", T),
          "reported once: the one after runs");
    send_words(&c, ESP_FLASH_DEFL_BEGIN, 4, (uint32_t[]){0x1000, 1, 0x4000, 0x20000});
    CHECK(expect_raw_hex(&c, "C0 01 10 02 00 00 00 00 00 00 00 C0", T), "DEFL_BEGIN");
    send_words(&c, ESP_FLASH_DEFL_END, 1, (uint32_t[]){1});
    CHECK(expect_raw_hex(&c, "C0 01 12 02 00 00 00 00 00 DB DC 00 C0", T),
          "END with the image outstanding: C0 00 (legacy: C8)");
    /* CHANGE_BAUDRATE ignores the second word (the legacy stub's divider would be 0). */
    send_words(&c, ESP_CHANGE_BAUDRATE, 2, (uint32_t[]){230400, 0});
    CHECK(expect_raw_hex(&c, "C0 01 0F 02 00 00 00 00 00 00 00 C0", T), "CHANGE_BAUDRATE");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    CHECK(expect_raw_hex(&c, SYNC_STUB, T), "clean replies at the new rate");
    conn_drain(&c, 100);
    /* RUN_USER_CODE: no reply, and nothing happens (not implemented in esp-flasher-stub). */
    send_cmd(&c, ESP_RUN_USER_CODE, NULL, 0, 0);
    CHECK(conn_drain(&c, 300) == 0, "RUN_USER_CODE: silence");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    CHECK(expect_raw_hex(&c, SYNC_STUB, T), "still the stub after RUN_USER_CODE");
    conn_close(&c);

    /* The legacy stub, recognised as such: FF 00 for an unknown opcode. */
    msleep(50);
    CHECK(upload(&c, 2, legacy, &ohai) && ohai, "esptool-js 0.5.7 ESP32 stub uploaded, OHAI");
    CHECK(log_has("legacy flasher stub (esptool-js 0.5.7)"), "recognised as the legacy stub");
    send_cmd(&c, 0xEE, NULL, 0, 0);
    CHECK(expect_raw_hex(&c, "C0 01 EE 02 00 00 00 00 00 FF 00 C0", T), "legacy: FF 00");
    conn_close(&c);

    /* A stub built for the ESP32-S3: the MEM_END reply comes, then the CPU crashes. */
    CHECK(upload(&c, 3, other, &ohai), "ESP32-S3 stub uploaded");
    CHECK(!ohai, "no OHAI from a stub for another chip");
    CHECK(log_has("stub for esp32s3: an ESP32 cannot run it"), "crash logged");
    send_cmd(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD, 0);
    CHECK(conn_drain(&c, 300) == 0, "crashed: silent");
    conn_close(&c);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: test_sim_stub2 ESP32SIM NEW_JSON LEGACY_JSON OTHER_JSON\n");
        return 2;
    }
    t_sim_path = argv[1];
    stub nw = {0}, legacy = {0}, other = {0};
    if (!load(argv[2], &nw) || !load(argv[3], &legacy) || !load(argv[4], &other)) {
        fprintf(stderr, "cannot read the stub JSON files (run the interop fixture first)\n");
        return 1;
    }
    t_stub2(&nw, &legacy, &other);
    if (s.pid > 0)
        sim_stop(&s);
    if (t_failures) {
        FILE *f = fopen(g_log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            fputs(line, stderr);
        if (f)
            fclose(f);
    }
    unlink(g_log);
    fprintf(stderr, "stub2: %s\n", t_failures ? "FAILED" : "ok");
    return t_failures ? 1 : 0;
}

/* test_sim_rfc2217.c - esp32sim --rfc2217 byte for byte: Telnet negotiation, the
 * COM-PORT-OPTION answers (code + 100, value in force), IAC doubling both ways, and the
 * two-transistor auto-reset circuit behind the lines (EN = RTS & !DTR low, GPIO0 =
 * DTR & !RTS low, GPIO0 latched about 10 ms after EN is released).
 * Usage: test_sim_rfc2217 <path-to-esp32sim>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esp_proto.h"
#include "test_sim_util.h"

#define BANNER_APP "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"

static void send_hex(conn *c, const char *hex)
{
    uint8_t b[256];
    send_raw(c, b, hexb(hex, b));
}

/* SET-CONTROL value v and its answer (same value). */
static bool control(conn *c, uint8_t v)
{
    char req[64], ans[64];
    snprintf(req, sizeof req, "FF FA 2C 05 %02X FF F0", v);
    snprintf(ans, sizeof ans, "FF FA 2C 69 %02X FF F0", v);
    send_hex(c, req);
    return expect_raw_hex(c, ans, T);
}

/* DTR and RTS in one segment (as the station's backend sends them), both answers. */
static bool lines(conn *c, bool dtr, bool rts)
{
    char req[64], ans[64];
    snprintf(req, sizeof req, "FF FA 2C 05 %02X FF F0 FF FA 2C 05 %02X FF F0", dtr ? 8 : 9,
             rts ? 11 : 12);
    snprintf(ans, sizeof ans, "FF FA 2C 69 %02X FF F0 FF FA 2C 69 %02X FF F0", dtr ? 8 : 9,
             rts ? 11 : 12);
    send_hex(c, req);
    return expect_raw_hex(c, ans, T);
}

static bool text_is(conn *c, const char *exp)
{
    char got[512];
    size_t n = 0;
    got[0] = 0;
    while (strlen(got) < strlen(exp) && (n = conn_text(c, got + strlen(got), sizeof got - strlen(got),
                                                        "\r\n", T)) > 0)
        ;
    if (strncmp(got, exp, strlen(exp)) != 0) {
        fprintf(stderr, "text mismatch:\n got: %s\n exp: %s\n", got, exp);
        return false;
    }
    return true;
}

/* A command frame with every 0xFF doubled, as a Telnet client must send it. */
static void send_cmd_iac(conn *c, uint8_t op, const uint8_t *data, size_t n)
{
    uint8_t pkt[64], enc[SLIP_ENCODED_MAX(64)], wire[2 * sizeof enc];
    pkt[0] = 0;
    pkt[1] = op;
    pkt[2] = (uint8_t)n;
    pkt[3] = 0;
    memset(pkt + 4, 0, 4);
    memcpy(pkt + 8, data, n);
    size_t e = slip_encode(pkt, 8 + n, enc), w = 0;
    for (size_t i = 0; i < e; i++) {
        wire[w++] = enc[i];
        if (enc[i] == 0xFF)
            wire[w++] = 0xFF;
    }
    send_raw(c, wire, w);
}

static simproc s; /* stopped by main() also when a CHECK returns early */

static void t_rfc2217(void)
{
    conn c;
    int base = 25000 + (int)(getpid() % 20000);
    char bs[16], exp[64], line[64] = "";
    snprintf(bs, sizeof bs, "%d", base);
    const char *args[] = {"--rfc2217", bs, NULL};
    CHECK(sim_start(&s, args) == 0, "simulator did not start");
    FILE *f = fopen(sim_path(&s, "slot1.rfc2217"), "r");
    CHECK(f && fgets(line, sizeof line, f), "slot1.rfc2217");
    fclose(f);
    snprintf(exp, sizeof exp, "rfc2217://127.0.0.1:%d\n", base);
    CHECK(!strcmp(line, exp), "rfc2217 file: %s", line);
    CHECK(conn_open(&c, &s, 1, base) == 0, "connect");

    /* WILL COM-PORT, DO COM-PORT, DO ECHO, WILL BINARY -> accepted / refused; the same
     * WILL again is not answered (no negotiation loop). */
    send_hex(&c, "FF FB 2C FF FD 2C FF FD 01 FF FB 00 FF FB 2C");
    CHECK(expect_raw_hex(&c, "FF FD 2C FF FB 2C FF FC 01 FF FD 00", T), "negotiation answers");
    /* Opening did nothing: the unit powered up into its app before anyone listened. */
    size_t extra = conn_fill(&c, 1, 300);
    CHECK(extra == 0, "no bytes after connecting: %zu (%02x %02x %02x)", extra, c.pend[0], c.pend[1],
          c.pend[2]);

    send_hex(&c, "FF FA 2C 01 00 01 C2 00 FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 65 00 01 C2 00 FF F0", T), "SET-BAUDRATE 115200");
    send_hex(&c, "FF FA 2C 01 00 00 00 00 FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 65 00 01 C2 00 FF F0", T), "baud query");
    send_hex(&c, "FF FA 2C 02 08 FF F0 FF FA 2C 03 01 FF F0 FF FA 2C 04 01 FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 66 08 FF F0 FF FA 2C 67 01 FF F0 FF FA 2C 68 01 FF F0", T),
          "8N1");
    CHECK(control(&c, 1), "no flow control");
    send_hex(&c, "FF FA 2C 05 07 FF F0 FF FA 2C 05 0A FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 69 09 FF F0 FF FA 2C 69 0C FF F0", T), "DTR, RTS off");

    /* Not in download mode: SYNC gets nothing. */
    send_cmd_iac(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD);
    CHECK(conn_drain(&c, 300) == 0, "the app does not answer SYNC");

    /* Classic sequence (esptool ClassicReset timing, lines changed together). */
    CHECK(lines(&c, false, true), "EN low");
    CHECK(conn_drain(&c, 100) == 0, "held in reset: silent");
    CHECK(lines(&c, true, false), "EN released, GPIO0 low");
    msleep(50);
    CHECK(text_is(&c, BANNER_DL), "download banner (GPIO0 latched while held low)");
    CHECK(control(&c, 9), "GPIO0 released");
    send_cmd_iac(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD);
    for (int i = 0; i < 8; i++)
        CHECK(expect_raw_hex(&c, SYNC_ROM, T), "SYNC reply %d", i);

    /* 0xFF in both directions travels doubled: WRITE_REG then READ_REG of all ones. */
    const uint8_t wr[16] = {0xFC, 0x00, 0xFE, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF,
                            0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
    send_cmd_iac(&c, ESP_WRITE_REG, wr, 16);
    CHECK(expect_raw_hex(&c, "C0 01 09 04 00 07 07 12 20 00 00 00 00 C0", T), "WRITE_REG");
    send_cmd_iac(&c, ESP_READ_REG, wr, 4);
    CHECK(expect_raw_hex(&c, "C0 01 0A 04 00 FF FF FF FF FF FF FF FF 00 00 00 00 C0", T),
          "READ_REG value FFFFFFFF arrives IAC-doubled");

    /* The adapter's rate matters once the unit's rate is fixed: after the ROM's
     * CHANGE_BAUDRATE to 230400, replies are garbage at 115200 and clean at 230400. */
    const uint8_t cb[8] = {0x00, 0x84, 0x03, 0x00, 0, 0, 0, 0};
    send_cmd_iac(&c, ESP_CHANGE_BAUDRATE, cb, 8);
    CHECK(expect_raw_hex(&c, "C0 01 0F 04 00 FF FF FF FF FF FF FF FF 00 00 00 00 C0", T),
          "CHANGE_BAUDRATE (value: the last READ_REG's, §14)");
    conn_drain(&c, 100);
    send_cmd_iac(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD);
    uint8_t got[14], ref[14];
    hexb(SYNC_ROM, ref);
    CHECK(conn_raw(&c, got, 14, T) == 0 && memcmp(got, ref, 14) != 0,
          "reply at 230400 read at 115200 is garbled");
    conn_drain(&c, 200);
    send_hex(&c, "FF FA 2C 01 00 03 84 00 FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 65 00 03 84 00 FF F0", T), "SET-BAUDRATE 230400");
    send_cmd_iac(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD);
    for (int i = 0; i < 8; i++)
        CHECK(expect_raw_hex(&c, SYNC_ROM, T), "SYNC at 230400, reply %d", i);
    send_hex(&c, "FF FA 2C 01 00 01 C2 00 FF F0");
    CHECK(expect_raw_hex(&c, "FF FA 2C 65 00 01 C2 00 FF F0", T), "back to 115200");

    /* Hard reset (RTS pulse): the app boots, at the ROM's 115200. */
    CHECK(lines(&c, false, true), "RTS on");
    msleep(100);
    CHECK(lines(&c, false, false), "RTS off");
    CHECK(text_is(&c, BANNER_APP), "app banner after the hard reset");
    conn_drain(&c, 100);

    /* Wrong sequence: EN released while GPIO0 is high, GPIO0 low only 30 ms later. */
    CHECK(lines(&c, false, true), "EN low");
    msleep(100);
    CHECK(lines(&c, false, false), "EN released, GPIO0 high");
    msleep(30);
    CHECK(text_is(&c, BANNER_APP), "app banner after the wrong sequence");
    conn_drain(&c, 50);
    CHECK(lines(&c, true, false), "GPIO0 low, too late");
    msleep(50);
    CHECK(lines(&c, false, false), "released");
    CHECK(conn_drain(&c, 100) == 0, "nothing more");

    /* Unix tight (TIOCMSET pairs): (F,F) (T,T) (F,T) 100 ms (T,F) 50 ms (F,F). */
    CHECK(lines(&c, true, true), "both asserted: no reset");
    CHECK(conn_drain(&c, 50) == 0, "nothing after (T,T)");
    CHECK(lines(&c, false, true), "EN low");
    msleep(100);
    CHECK(lines(&c, true, false), "EN released, GPIO0 low");
    msleep(50);
    CHECK(text_is(&c, BANNER_DL), "download banner after unix tight");
    CHECK(lines(&c, false, false), "released");

    /* Closing the connection releases the lines; the unit stays where it is, and the next
     * client finds it still in download mode (no reset on open or close). */
    conn_close(&c);
    msleep(100);
    CHECK(conn_open(&c, &s, 1, base) == 0, "reconnect");
    CHECK(conn_drain(&c, 200) == 0, "no banner on reconnect");
    send_cmd_iac(&c, ESP_SYNC, SYNC_PAYLOAD, sizeof SYNC_PAYLOAD);
    for (int i = 0; i < 8; i++)
        CHECK(expect_raw_hex(&c, SYNC_ROM, T), "SYNC after reconnect, reply %d", i);
    conn_close(&c);
    sim_stop(&s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_sim_rfc2217 ESP32SIM\n");
        return 2;
    }
    t_sim_path = argv[1];
    t_rfc2217();
    if (s.pid > 0)
        sim_stop(&s);
    fprintf(stderr, "rfc2217: %s\n", t_failures ? "FAILED" : "ok");
    return t_failures ? 1 : 0;
}

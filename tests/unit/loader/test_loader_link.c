/* test_loader_link - the loader's packet and command layers against a scripted device:
 * a thread on the master side of a pseudo-terminal decodes requests and answers as
 * the ROM / stub would, including the quirks of §14 (unsupported opcodes echo the
 * previous header, a bad RAM block consumes its sequence number, stale MD5 digits with
 * 01 09), boot text and garbage on the line, and a device that vanishes. */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include "check.h"
#include "esp_proto.h"
#include "flash_unit.h"
#include "flash_write.h"
#include "loader.h"
#include "stub_upload.h"
#include "port.h"
#include "slip.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef enum {
    SC_BASIC,          /* banner, SYNC x8, READ_REG, unsupported 0x14, noise, MD5 */
    SC_STUB_RETRY,     /* first MEM_DATA gets 01 07; the next upload succeeds */
    SC_STUB_BAD,       /* every MEM_DATA gets 01 07 */
    SC_SILENT,         /* never answers */
    SC_VANISH,         /* closes the master on the first request */
    SC_BOOT_LOOP,      /* normal boot (boot:0x13) over and over, never in download mode */
    SC_DEAF_DL,        /* download-mode banner, then never answers */
    SC_FLASH,          /* FLASH_DEFL_* to the ROM: the block with seq 1 arrives corrupted once */
    SC_FLASH_STUB,     /* the same against the stub */
} scenario;

typedef struct dev {
    int master;
    scenario sc;
    atomic_int stop;
    bool stub;
    uint8_t prev_op;          /* the ROM echoes the previous reply's header */
    uint32_t prev_value;
    int prev_count;
    uint32_t expect_seq;
    pthread_mutex_t mu;       /* held while a request is handled; tests read `c` under it */
    struct dev_counts {
        int mem_begins, mem_datas, bad_blocks;
        int defl_begins, defl_datas, defl_ends; /* SC_FLASH*: FLASH_DEFL_* or FLASH_* */
        int data_op;                            /* the last data opcode */
        uint32_t defl_begin_words[4];           /* the last FLASH_DEFL_BEGIN */
        size_t defl_begin_len;
        uint32_t defl_bytes;                    /* data bytes accepted in this session */
        bool seq_consumed_resent; /* a consumed seq was sent again (must not happen) */
        int checksum_errors;      /* blocks whose checksum did not match their bytes */
    } c;
} dev;

static void send_frame(dev *d, const uint8_t *p, size_t n)
{
    uint8_t enc[SLIP_ENCODED_MAX(128)];
    size_t m = slip_encode(p, n, enc);
    if (write(d->master, enc, m) != (ssize_t)m)
        fprintf(stderr, "device write failed\n");
}

/* A reply: ROM form has 4 status bytes, stub form 2. */
static void reply(dev *d, uint8_t op, uint32_t value, const uint8_t *data, size_t dn,
                  uint8_t st0, uint8_t st1)
{
    uint8_t p[128] = {0x01, op};
    size_t ns = d->stub ? 2 : 4;
    esp_put16(p + 2, (uint16_t)(dn + ns));
    esp_put32(p + 4, value);
    if (dn)
        memcpy(p + 8, data, dn);
    p[8 + dn] = st0;
    p[9 + dn] = st1;
    send_frame(d, p, 8 + dn + ns);
    d->prev_op = op;
    d->prev_value = value;
    d->prev_count = 1;
}

static void handle(dev *d, const uint8_t *f, size_t n)
{
    if (n < 8 || f[0] != 0)
        return;
    uint8_t op = f[1];
    const uint8_t *pl = f + 8;
    if (d->sc == SC_VANISH) {
        close(d->master);
        d->master = -1;
        return;
    }
    if (d->sc == SC_SILENT || d->sc == SC_BOOT_LOOP || d->sc == SC_DEAF_DL)
        return;
    switch (op) {
    case ESP_SYNC:
        for (int i = 0; i < 8; i++)
            reply(d, op, esp_le32(pl), NULL, 0, 0, 0);
        d->prev_count = 8;
        return;
    case ESP_READ_REG: {
        uint32_t a = esp_le32(pl);
        if (d->sc == SC_BASIC && a == 0x3FF00000u) {
            /* Garbage between frames, a short frame, a request-direction frame. */
            static const uint8_t junk[] = "\r\nrandom junk \x01\x02\xff";
            if (write(d->master, junk, sizeof junk - 1) < 0)
                return;
            static const uint8_t shortf[] = {0xC0, 0x01, 0x0A, 0xC0};
            if (write(d->master, shortf, sizeof shortf) < 0)
                return;
            uint8_t req[12] = {0x00, ESP_READ_REG, 4, 0};
            send_frame(d, req, sizeof req);
        }
        if (d->sc == SC_BASIC && a == 0x3FF00004u) {
            /* Garbage holding a stray C0 right before the reply: the reply's opening
             * C0 then closes a junk frame. */
            static const uint8_t junk[] = {'x', 'x', 0xC0, 'y', 'y'};
            if (write(d->master, junk, sizeof junk) < 0)
                return;
        }
        reply(d, op, a == ESP32_CHIP_MAGIC_REG ? ESP32_CHIP_MAGIC : 0xA5A5A5A5u, NULL, 0, 0, 0);
        return;
    }
    case ESP_SPI_FLASH_MD5: {
        uint32_t off = esp_le32(pl);
        /* "hello" digest; past 0x400000 the ROM keeps stale digits and says 01 09. */
        const char *hex = "5d41402abc4b2a76b9719d911017c592";
        reply(d, op, 0, (const uint8_t *)hex, 32, off >= 0x400000u ? 1 : 0,
              off >= 0x400000u ? 9 : 0);
        return;
    }
    case ESP_MEM_BEGIN:
        d->c.mem_begins++;
        d->expect_seq = 0;
        reply(d, op, 0, NULL, 0, 0, 0);
        return;
    case ESP_MEM_DATA: {
        uint32_t seq = esp_le32(pl + 4);
        d->c.mem_datas++;
        if (seq != d->expect_seq) {
            d->c.seq_consumed_resent = true;
            reply(d, op, 0, NULL, 0, 1, 5);
            return;
        }
        d->expect_seq++; /* consumed even when the block is bad (§14) */
        uint32_t len = esp_le32(pl);
        if (len + 24 != n || esp_checksum(pl + 16, len) != esp_le32(f + 4)) {
            d->c.checksum_errors++; /* the host got escaping or the checksum wrong */
            reply(d, op, 0, NULL, 0, 1, 7);
            return;
        }
        bool bad = d->sc == SC_STUB_BAD || (d->sc == SC_STUB_RETRY && d->c.mem_datas == 1);
        if (bad) {
            d->c.bad_blocks++;
            reply(d, op, 0, NULL, 0, 1, 7);
            return;
        }
        reply(d, op, 0, NULL, 0, 0, 0);
        return;
    }
    case ESP_FLASH_DEFL_BEGIN:
    case ESP_FLASH_BEGIN:
        d->c.defl_begins++;
        d->c.defl_begin_len = n - 8;
        for (int i = 0; i < 4; i++)
            d->c.defl_begin_words[i] = esp_le32(pl + 4 * i);
        d->expect_seq = 0;
        d->c.defl_bytes = 0;
        reply(d, op, 0, NULL, 0, 0, 0);
        return;
    case ESP_FLASH_DEFL_DATA:
    case ESP_FLASH_DATA: {
        uint32_t seq = esp_le32(pl + 4), len = esp_le32(pl);
        d->c.defl_datas++;
        d->c.data_op = op;
        if (seq != d->expect_seq) {
            d->c.seq_consumed_resent = d->c.seq_consumed_resent || !d->stub;
            if (!d->stub) {
                reply(d, op, 0, NULL, 0, 1, 5);
                return;
            }
        }
        bool corrupt = esp_checksum(pl + 16, len) != esp_le32(f + 4) ||
                       (seq == 1 && d->c.bad_blocks == 0); /* "corrupted on the link" once */
        if (corrupt) {
            d->c.bad_blocks++;
            if (!d->stub)
                d->expect_seq++; /* the ROM consumes the seq (§14) */
            reply(d, op, 0, NULL, 0, d->stub ? ESP_STUB_BAD_DATA_CHECKSUM : 1, d->stub ? 0 : 7);
            return;
        }
        d->expect_seq = seq + 1;
        d->c.defl_bytes += len;
        reply(d, op, 0, NULL, 0, 0, 0);
        return;
    }
    case ESP_FLASH_DEFL_END:
        d->c.defl_ends++;
        reply(d, op, 0, NULL, 0, 0, 0);
        return;
    case ESP_MEM_END: {
        reply(d, op, 0, NULL, 0, 0, 0);
        static const uint8_t ohai[] = {0xC0, 'O', 'H', 'A', 'I', 0xC0};
        if (write(d->master, ohai, sizeof ohai) < 0)
            return;
        d->stub = true;
        return;
    }
    default:
        if (d->stub) {
            reply(d, op, 0, NULL, 0, ESP_STUB_INVALID_COMMAND, 0);
            return;
        }
        /* §14: the ROM re-sends the previous reply's header (and its repeat count) with
         * status 01 05, so the opcode is not the request's. */
        for (int i = 0, c = d->prev_count; i < c; i++) {
            uint8_t p[12] = {0x01, d->prev_op, 4, 0};
            esp_put32(p + 4, d->prev_value);
            p[8] = 1;
            p[9] = 5;
            send_frame(d, p, sizeof p);
        }
        return;
    }
}

static void *device_main(void *arg)
{
    dev *d = arg;
    slip_decoder dec;
    if (slip_dec_init(&dec, 0x5000) < 0)
        return NULL;
    static const char banner[] =
        "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
        "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n";
    static const char normal[] =
        "ets Jul 29 2019 12:21:46\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 "
        "(SPI_FAST_FLASH_BOOT)\r\nGuru Meditation Error: Core  0 panic'ed\r\n";
    const char *text = d->sc == SC_BOOT_LOOP ? normal : banner;
    d->stub = d->sc == SC_FLASH_STUB;
    if (write(d->master, text, strlen(text)) < 0)
        return NULL;
    while (!atomic_load(&d->stop) && d->master >= 0) {
        struct pollfd pfd = {.fd = d->master, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0) {
            /* A unit in a boot loop (or a deaf one the host keeps resetting) keeps
             * printing its banner, whenever the host looks. */
            if ((d->sc == SC_BOOT_LOOP || d->sc == SC_DEAF_DL) &&
                write(d->master, text, strlen(text)) < 0)
                break;
            continue;
        }
        uint8_t buf[4096];
        ssize_t n = read(d->master, buf, sizeof buf);
        if (n <= 0)
            continue;
        size_t pos = 0;
        while (pos < (size_t)n && d->master >= 0) {
            size_t used = 0;
            if (slip_dec_feed(&dec, buf + pos, (size_t)n - pos, &used)) {
                pthread_mutex_lock(&d->mu);
                handle(d, dec.buf, dec.len);
                pthread_mutex_unlock(&d->mu);
            }
            pos += used;
        }
    }
    slip_dec_free(&dec);
    return NULL;
}

typedef struct rig {
    dev d;
    pthread_t th;
    int slave_keep;
    char name[64];
    st_port *port;
    st_loader l;
} rig;

/* The device on a fresh pty; with open_port the loader is set up on it too, else the
 * slave is kept open (raw) for a caller that opens the port by name. */
static bool rig_start_ex(rig *r, scenario sc, bool open_port)
{
    memset(r, 0, sizeof *r);
    r->slave_keep = -1;
    r->d.sc = sc;
    pthread_mutex_init(&r->d.mu, NULL);
    r->d.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (r->d.master < 0 || grantpt(r->d.master) < 0 || unlockpt(r->d.master) < 0)
        return false;
    const char *name = ptsname(r->d.master);
    /* Raw before any byte flows, so the line discipline neither echoes nor edits. */
    r->slave_keep = open(name, O_RDWR | O_NOCTTY);
    struct termios t;
    if (r->slave_keep < 0 || tcgetattr(r->slave_keep, &t) < 0)
        return false;
    cfmakeraw(&t);
    tcsetattr(r->slave_keep, TCSANOW, &t);
    snprintf(r->name, sizeof r->name, "%s", name);
    if (!open_port)
        return pthread_create(&r->th, NULL, device_main, &r->d) == 0;
    st_err err;
    if (st_port_open(name, 115200, &r->port, &err) < 0) {
        fprintf(stderr, "open %s: %s\n", name, err.msg);
        return false;
    }
    close(r->slave_keep); /* the port holds the slave now; a closed master = gone */
    r->slave_keep = -1;
    if (st_loader_init(&r->l, r->port, &err) < 0)
        return false;
    return pthread_create(&r->th, NULL, device_main, &r->d) == 0;
}

static bool rig_start(rig *r, scenario sc)
{
    return rig_start_ex(r, sc, true);
}

/* A started rig, then one SYNC that must be answered (its remaining replies drained),
 * so the ROM is talking. False (a failed check) only when the rig did not start. */
static bool rig_start_synced(rig *r, scenario sc)
{
    if (!CHECK(rig_start(r, sc)))
        return false;
    st_err err;
    CHECK_EQ_INT(st_cmd_sync(&r->l, 2000, &err), 0);
    st_cmd_sync_drain(&r->l);
    return true;
}

/* The device's counters, read under its lock (the replies already received do not
 * order the device thread's writes before our reads). */
static struct dev_counts rig_counts(rig *r)
{
    pthread_mutex_lock(&r->d.mu);
    struct dev_counts c = r->d.c;
    pthread_mutex_unlock(&r->d.mu);
    return c;
}

static void rig_stop(rig *r)
{
    atomic_store(&r->d.stop, 1);
    pthread_join(r->th, NULL);
    st_loader_free(&r->l);
    st_port_close(r->port);
    if (r->slave_keep >= 0)
        close(r->slave_keep);
    if (r->d.master >= 0)
        close(r->d.master);
    pthread_mutex_destroy(&r->d.mu);
}

static void test_basic(void)
{
    rig r;
    if (!CHECK(rig_start(&r, SC_BASIC)))
        return;
    st_loader *l = &r.l;
    st_err err;
    l->phase = ST_PH_SYNC;
    l->capture = true;
    /* Generous first-reply timeout: a loaded test machine is not a real ROM. */
    CHECK_EQ_INT(st_cmd_sync(l, 2000, &err), 0);
    l->capture = false;
    CHECK_CONTAINS(l->banner, "boot:0x3 (DOWNLOAD_BOOT");
    CHECK_CONTAINS(l->banner, "waiting for download");
    st_cmd_sync_drain(l);

    l->phase = ST_PH_DETECT;
    uint32_t v = 0;
    CHECK_EQ_INT(st_cmd_read_reg(l, ESP32_CHIP_MAGIC_REG, &v, &err), 0);
    CHECK_EQ_INT(v, ESP32_CHIP_MAGIC);

    /* Unsupported opcode after a READ_REG: the echo carries op 0A and status 01 05. */
    st_resp resp;
    CHECK_EQ_INT(st_loader_command(l, ESP_GET_SECURITY_INFO, NULL, 0, 0, 2000, 20, 20, &resp, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_DEVICE);
    CHECK_EQ_INT(err.cmd, ESP_GET_SECURITY_INFO);
    CHECK_EQ_INT(err.nstatus, 4);
    CHECK_MEM(err.status, "\x01\x05\x00\x00", 4);
    CHECK_CONTAINS(err.msg, "not supported");

    /* Unsupported right after a SYNC: eight echoes of the SYNC header, all swallowed. */
    CHECK_EQ_INT(st_cmd_sync(l, 2000, &err), 0);
    st_cmd_sync_drain(l);
    CHECK_EQ_INT(st_loader_command(l, 0xD0, NULL, 0, 0, 2000, 0, 0, &resp, &err), -1);
    CHECK_MEM(err.status, "\x01\x05\x00\x00", 4);
    CHECK_EQ_INT(st_cmd_read_reg(l, ESP32_CHIP_MAGIC_REG, &v, &err), 0);
    CHECK_EQ_INT(v, ESP32_CHIP_MAGIC);

    /* Garbage, a short frame and a request-direction frame before the reply. */
    uint64_t noise0 = st_loader_noise(l);
    CHECK_EQ_INT(st_cmd_read_reg(l, 0x3FF00000u, &v, &err), 0);
    CHECK_EQ_INT(v, 0xA5A5A5A5u);
    CHECK(st_loader_noise(l) > noise0);
    v = 0;
    CHECK_EQ_INT(st_cmd_read_reg(l, 0x3FF00004u, &v, &err), 0);
    CHECK_EQ_INT(v, 0xA5A5A5A5u);
    CHECK_EQ_INT(st_cmd_read_reg(l, ESP32_CHIP_MAGIC_REG, &v, &err), 0);
    CHECK_EQ_INT(v, ESP32_CHIP_MAGIC);

    /* MD5 from the ROM: ASCII digits; past the flash: status first, digits ignored. */
    uint8_t md5[16];
    static const uint8_t hello[16] = {0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76,
                                      0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92};
    l->phase = ST_PH_VERIFY;
    CHECK_EQ_INT(st_cmd_md5(l, 0x1000, 5, md5, &err), 0);
    CHECK_MEM(md5, hello, 16);
    memset(md5, 0, sizeof md5);
    CHECK_EQ_INT(st_cmd_md5(l, 0x400000, 5, md5, &err), -1);
    CHECK_EQ_INT(err.cmd, ESP_SPI_FLASH_MD5);
    CHECK_EQ_INT(err.phase, ST_PH_VERIFY);
    CHECK_MEM(err.status, "\x01\x09\x00\x00", 4);
    CHECK_EQ_INT(err.fclass, ST_FC_FLASH_WRITE);
    CHECK_EQ_INT(md5[0], 0);
    rig_stop(&r);
}

static void test_stub_retry(void)
{
    rig r;
    if (!rig_start_synced(&r, SC_STUB_RETRY))
        return;
    st_err err;
    uint8_t text[40], data[8];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)(0xC0 + i); /* exercises SLIP escaping too */
    memset(data, 0xDB, sizeof data);
    st_stub_image stub = {.entry = 0x400BE000, .text_start = 0x400BE000, .text = text,
                          .text_len = sizeof text, .data_start = 0x3FFDEBA8, .data = data,
                          .data_len = sizeof data};
    st_stub_stats ss = {0};
    CHECK_EQ_INT(st_stub_upload(&r.l, &stub, 3, &ss, NULL, NULL, &err), 0);
    CHECK_EQ_INT(ss.uploads, 1);      /* repaired in place (§14.1), no second upload */
    CHECK_EQ_INT(ss.repaired, 1);
    CHECK(ss.t_repair > 0);
    CHECK(r.l.stub);
    struct dev_counts c = rig_counts(&r);
    CHECK_EQ_INT(c.bad_blocks, 1);
    CHECK(!c.seq_consumed_resent); /* resent under the next seq, never the consumed one */
    CHECK_EQ_INT(c.checksum_errors, 0);
    CHECK_EQ_INT(c.mem_begins, 2);   /* text, data */
    CHECK_EQ_INT(c.mem_datas, 3);    /* text (bad), text as seq 1, data */
    /* Stub form from now on: unknown opcode answered with C3, op echoed. */
    st_resp resp;
    CHECK_EQ_INT(st_loader_command(&r.l, 0xD0, NULL, 0, 0, 2000, 0, 0, &resp, &err), -1);
    CHECK_EQ_INT(err.nstatus, 2);
    CHECK_EQ_INT(err.status[0], 0xC3);
    rig_stop(&r);
}

static void test_stub_bad(void)
{
    rig r;
    if (!rig_start_synced(&r, SC_STUB_BAD))
        return;
    st_err err;
    uint8_t text[16] = {1, 2, 3, 4};
    st_stub_image stub = {.entry = 0x400BE000, .text_start = 0x400BE000, .text = text,
                          .text_len = sizeof text};
    st_stub_stats ss = {0};
    CHECK_EQ_INT(st_stub_upload(&r.l, &stub, 2, &ss, NULL, NULL, &err), -1);
    CHECK_EQ_INT(ss.uploads, 2);
    CHECK_EQ_INT(ss.repaired, 6);       /* 3 resends per block, per upload, then give up */
    CHECK(!r.l.stub);
    CHECK_EQ_INT(err.phase, ST_PH_STUB);
    CHECK_EQ_INT(err.cmd, ESP_MEM_DATA);
    CHECK_EQ_INT(err.nstatus, 4);
    CHECK_MEM(err.status, "\x01\x07\x00\x00", 4);
    CHECK_EQ_INT(err.fclass, ST_FC_STUB_RAM_CHECKSUM);
    CHECK_CONTAINS(err.msg, "Failed to write to target RAM (result was 01070000)");
    CHECK_STR(err.hint, st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM));
    rig_stop(&r);
}

static void test_silent_and_gone(void)
{
    rig r;
    if (CHECK(rig_start(&r, SC_SILENT))) {
        st_err err;
        uint32_t v;
        r.l.phase = ST_PH_DETECT;
        CHECK_EQ_INT(st_cmd_read_reg(&r.l, ESP32_CHIP_MAGIC_REG, &v, &err), -1);
        CHECK_EQ_INT(err.cat, ST_E_TIMEOUT);
        CHECK_EQ_INT(err.fclass, ST_FC_TIMEOUT);
        CHECK_EQ_INT(err.cmd, ESP_READ_REG);
        CHECK_EQ_INT(err.phase, ST_PH_DETECT);
        CHECK_EQ_INT(st_cmd_sync(&r.l, 100, &err), -1);
        CHECK_EQ_INT(err.cat, ST_E_TIMEOUT);
        rig_stop(&r);
    }
    if (CHECK(rig_start(&r, SC_VANISH))) {
        st_err err;
        uint32_t v;
        r.l.phase = ST_PH_WRITE;
        CHECK_EQ_INT(st_cmd_read_reg(&r.l, ESP32_CHIP_MAGIC_REG, &v, &err), -1);
        CHECK_EQ_INT(err.cat, ST_E_GONE);
        CHECK_EQ_INT(err.fclass, ST_FC_VANISHED);
        CHECK_EQ_INT(err.phase, ST_PH_WRITE);
        CHECK_EQ_INT(err.cmd, ESP_READ_REG);
        rig_stop(&r);
    }
}

static void count_blocks(void *user, size_t zdone, size_t ztotal)
{
    size_t *calls = user;
    (*calls)++;
    (void)zdone;
    (void)ztotal;
}

/* Write of one region, ROM and stub, with one block corrupted on the way: the ROM
 * (uncompressed FLASH_DATA, exact size) consumed its seq, so the block is resent under
 * the next one; the stub (compressed) takes the same seq again. Also the BEGIN words
 * each loader needs, and abort. */
static void test_flash_write(bool stub)
{
    rig r;
    if (!CHECK(rig_start(&r, stub ? SC_FLASH_STUB : SC_FLASH)))
        return;
    r.l.stub = stub;
    size_t bs = stub ? ESP_STUB_FLASH_BLOCK : ST_ROM_PLAIN_BLOCK;
    st_image img = {.offset = 0x10000, .len = 2 * bs + 1000};
    img.data = malloc(img.len);
    for (size_t i = 0; i < img.len; i++)
        img.data[i] = (uint8_t)(i * 5 + 0xDB);
    img.zlen = 2 * bs + 300; /* 3 blocks */
    img.zdata = malloc(img.zlen);
    for (size_t i = 0; i < img.zlen; i++)
        img.zdata[i] = (uint8_t)(i * 7 + 0xC0); /* plenty of bytes to escape */
    size_t calls = 0;
    int repaired = 0;
    st_err err;
    CHECK_EQ_INT(st_flash_write_image(&r.l, &img, NULL, count_blocks, &calls, &repaired, &err), 0);
    struct dev_counts c = rig_counts(&r);
    CHECK_EQ_INT(c.bad_blocks, 1);
    CHECK_EQ_INT(repaired, 1);
    CHECK(!c.seq_consumed_resent);
    CHECK_EQ_INT(c.defl_begin_len, 16); /* never the 20-byte form (the ROM refuses it) */
    CHECK_EQ_INT(c.defl_begin_words[0], img.len); /* exact size */
    CHECK_EQ_INT(c.defl_begin_words[1], 3);
    CHECK_EQ_INT(c.defl_begin_words[2], bs);
    CHECK_EQ_INT(c.defl_begin_words[3], 0x10000);
    CHECK_EQ_INT(c.defl_begins, 1);   /* no region restart */
    CHECK_EQ_INT(c.defl_datas, 4);
    CHECK_EQ_INT(c.data_op, stub ? ESP_FLASH_DEFL_DATA : ESP_FLASH_DATA);
    if (stub) {
        CHECK_EQ_INT(c.defl_bytes, img.zlen);
        CHECK_EQ_INT(c.defl_ends, 1);                   /* FLASH_DEFL_END(1) barrier */
    } else {
        CHECK_EQ_INT(c.defl_bytes, img.len);            /* the landing bytes themselves */
        CHECK_EQ_INT(c.defl_ends, 0); /* no FLASH_END: it would answer 01 06 after a repair */
    }
    CHECK_EQ_INT(calls, 3);

    /* An operator stop is honoured before the next block. */
    atomic_int stop = 1;
    CHECK_EQ_INT(st_flash_write_image(&r.l, &img, &stop, NULL, NULL, NULL, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_INTERRUPTED);
    CHECK_EQ_INT(err.fclass, ST_FC_INTERRUPTED);
    CHECK_EQ_INT(err.phase, ST_PH_WRITE);
    free(img.zdata);
    free(img.data);
    rig_stop(&r);
}

/* The whole connect of st_flash_unit against a unit that never syncs: classified
 * no_sync, and the boot banner it printed says why. */
static void test_no_sync(scenario sc, const char *expect)
{
    rig r;
    if (!CHECK(rig_start_ex(&r, sc, false)))
        return;
    st_fwset *fw = calloc(1, sizeof *fw);
    snprintf(fw->prof.chip, sizeof fw->prof.chip, "esp32");
    st_flash_opts o = {.sync_attempts = 2};
    st_flash_report rep;
    st_err err;
    CHECK_EQ_INT(st_flash_unit(r.name, fw, &o, &rep, &err), -1);
    CHECK_EQ_INT(err.fclass, ST_FC_NO_SYNC);
    CHECK_EQ_INT(err.phase, ST_PH_SYNC);
    CHECK_EQ_INT(err.cmd, ESP_SYNC);
    CHECK_EQ_INT(err.nstatus, 0);
    CHECK_CONTAINS(err.msg, expect);
    CHECK_STR(err.hint, st_fclass_hint(ST_FC_NO_SYNC));
    CHECK(!rep.chip_known);
    CHECK(rep.wire_out >= 2 * 5 * 46); /* 5 SYNCs per attempt went out */
    free(fw);
    rig_stop(&r);
}

/* The far end of test_await_boot: a late answer of the old session, then the reset's
 * banner in two pieces, the cut inside "boot:0x" so the scan has to carry over. */
static void *late_banner(void *arg)
{
    int m = *(int *)arg;
    static const uint8_t old_reply[] = {0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20,
                                        0x00, 0x00, 0x00, 0x00};
    uint8_t enc[SLIP_ENCODED_MAX(sizeof old_reply)];
    size_t n = slip_encode(old_reply, sizeof old_reply, enc);
    static const char part1[] = "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boo";
    static const char part2[] = "t:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
                                "waiting for download\r\n";
    if (write(m, enc, n) < 0 || write(m, part1, strlen(part1)) < 0)
        return NULL;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    if (write(m, part2, strlen(part2)) < 0)
        return NULL;
    return NULL;
}

/* After a reset by reopen, what the unit sent before its boot banner is dropped with the
 * banner (so a late SYNC answer of the old session cannot pass for a new one); with no
 * banner at all the wait gives up and says so. */
static void test_await_boot(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (!CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0))
        return;
    const char *name = ptsname(m);
    int keep = open(name, O_RDWR | O_NOCTTY);
    struct termios t;
    st_port *p = NULL;
    st_err err;
    st_loader l;
    if (!CHECK(keep >= 0 && tcgetattr(keep, &t) == 0)) {
        close(m);
        return;
    }
    cfmakeraw(&t);
    tcsetattr(keep, TCSANOW, &t);
    if (!CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), 0) ||
        !CHECK_EQ_INT(st_loader_init(&l, p, &err), 0)) {
        st_port_close(p);
        close(keep);
        close(m);
        return;
    }
    l.capture = true;
    pthread_t th;
    if (CHECK(pthread_create(&th, NULL, late_banner, &m) == 0)) {
        CHECK(st_loader_await_boot(&l, 30, 10000));
        pthread_join(th, NULL);
        CHECK_CONTAINS(l.banner, "waiting for download");
        const uint8_t *f;
        size_t n;
        CHECK_EQ_INT(st_loader_recv_frame(&l, 200, &f, &n, &err), 0); /* the old answer is gone */
    }

    /* No banner: only the late answer, and the wait gives up. */
    static const uint8_t frame[] = {0xC0, 0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20,
                                    0x00, 0x00, 0x00, 0x00, 0xC0};
    CHECK(write(m, frame, sizeof frame) == (ssize_t)sizeof frame);
    CHECK(!st_loader_await_boot(&l, 30, 300));
    st_loader_free(&l);
    st_port_close(p);
    close(keep);
    close(m);
}

int main(void)
{
    test_basic();
    test_stub_retry();
    test_stub_bad();
    test_silent_and_gone();
    test_flash_write(false);
    test_flash_write(true);
    test_no_sync(SC_BOOT_LOOP, "wrong boot mode (0x13): not in download mode");
    test_no_sync(SC_DEAF_DL, "download mode detected (boot:0x03) but no reply to SYNC");
    test_await_boot();
    return check_summary("test_loader_link");
}

/* test_sim_util.h - host-side helpers for the simulator tests: start esp32sim in a temp
 * dir, open a slot raw, send commands, read raw bytes or SLIP frames with timeouts. */
#ifndef TEST_SIM_UTIL_H
#define TEST_SIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "slip.h"

extern int t_failures;
extern const char *t_sim_path;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            t_failures++;                                                        \
            return;                                                              \
        }                                                                        \
    } while (0)

#define T 1000 /* ms: generous timeout for things that must arrive */
/* What the ROM prints after a power-on reset into download mode (ESP32 rev v3). */
#define BANNER_DL                                                                            \
    "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "                   \
    "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"
/* The ROM loader's reply to SYNC, and the stub's. */
#define SYNC_ROM "C0 01 08 04 00 07 07 12 20 00 00 00 00 C0"
#define SYNC_STUB "C0 01 08 02 00 00 00 00 00 00 00 C0"
/* SYNC's payload: 07 07 12 20 and 32 times 55. */
extern const uint8_t SYNC_PAYLOAD[36];

/* Sleep ms milliseconds. */
void msleep(int ms);

typedef struct simproc {
    pid_t pid;
    char dir[256];
} simproc;

typedef struct conn {
    int fd;
    bool tcp;
    uint8_t pend[1 << 17];
    size_t plen;
    slip_decoder dec;
    uint8_t frame[0x5000];
    size_t flen;
} conn;

/* Start esp32sim --dir <tmp> <args...> (NULL-terminated) and wait for DIR/ready. */
int sim_start(simproc *s, const char *const *args);
/* SIGTERM, wait, remove the temp dir. */
void sim_stop(simproc *s);
/* Path of a file in the simulator's dir. */
const char *sim_path(const simproc *s, const char *name);

/* Open DIR/slotK raw at 115200 (PTY) or connect to 127.0.0.1:port (port > 0). */
int conn_open(conn *c, const simproc *s, int slot, int port);
void conn_close(conn *c);
/* Read raw bytes until n are buffered or ms pass without data. Returns bytes available. */
size_t conn_fill(conn *c, size_t n, int ms);
/* Take exactly n raw bytes (0 or -1 on timeout). */
int conn_raw(conn *c, uint8_t *out, size_t n, int ms);
/* Discard everything that arrives within ms. Returns bytes dropped. */
size_t conn_drain(conn *c, int ms);
/* Next SLIP frame (bytes outside frames skipped). 1 frame, 0 timeout. */
int conn_frame(conn *c, int ms);
/* Read text until `until` appears (or timeout); returns bytes read into out (NUL-ended). */
size_t conn_text(conn *c, char *out, size_t cap, const char *until, int ms);

void send_raw(conn *c, const void *d, size_t n);
void send_cmd(conn *c, uint8_t op, const void *data, size_t n, uint32_t chk);
/* *_DATA command: header (len, seq, 0, 0) + data, checksum filled in. */
void send_data(conn *c, uint8_t op, const void *data, size_t n, uint32_t seq);
void send_words(conn *c, uint8_t op, int nw, const uint32_t *w);

/* Parse "C0 01 08 ..." into out; returns byte count. */
size_t hexb(const char *s, uint8_t *out);
/* Expect exactly these raw bytes next. Returns true if equal (prints a diff otherwise). */
bool expect_raw_hex(conn *c, const char *hex, int ms);
bool expect_raw(conn *c, const uint8_t *exp, size_t n, int ms);

void md5_of(const void *d, size_t n, uint8_t out[16]);
/* Fill with deterministic pseudo-random, partly compressible data. */
void fill_data(uint8_t *d, size_t n, uint32_t seed);

#endif

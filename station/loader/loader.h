/* loader.h - client of the ESP32 serial bootloader (ROM loader and flasher stub):
 * one st_loader per connection (no global state). Layers, bottom up:
 *   packets    frame send/receive over an st_port with SLIP, reply matching by opcode
 *   commands   typed requests with per-command timeouts and status checking (loader_cmds.c)
 * The flows built on these commands (reset sequences, stub upload, compressed writes,
 * verification) belong to one unit's attempt: station/unit/.
 * Every fallible function returns 0 or -1 with `err` filled: phase (l->phase), command,
 * status bytes as received (4 from the ROM, 2 from the stub), failure class and hint.
 * Facts: shared/docs/esp32-serial-protocol.md (§14 wins). */
#ifndef ST_LOADER_H
#define ST_LOADER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "err.h"
#include "port.h"
#include "slip.h"

/* Timeouts in milliseconds (esptool's figures, §11.2). */
#define ST_TO_DEFAULT_MS 3000
#define ST_TO_SYNC_MS 100             /* first SYNC reply */
#define ST_TO_OHAI_MS 3000            /* MEM_END reply (optional, as for esptool) + stub greeting */
#define ST_TO_ERASE_PER_MB_MS 40000   /* ROM *_BEGIN erases up front */
#define ST_TO_WRITE_PER_MB_MS 40000   /* per uncompressed byte of a data block */
#define ST_TO_MD5_PER_MB_MS 8000
#define ST_TO_BAUD_CONFIRM_MS 1000    /* first command after a baud change */

/* max(ST_TO_DEFAULT_MS, ms_per_mb * bytes / 1e6): a timeout that scales with the work. */
int st_timeout_per_mb(int ms_per_mb, uint64_t bytes);

#define ST_LOADER_BANNER_MAX 1024
#define ST_LOADER_RX_CHUNK 4096

typedef struct st_loader {
    st_port *port;           /* borrowed; the caller owns and closes it */
    slip_decoder dec;
    uint8_t *tx;             /* encoded-frame buffer for one request */
    size_t tx_cap;
    uint8_t rx[ST_LOADER_RX_CHUNK]; /* raw bytes read but not yet fed to the decoder */
    size_t rx_pos, rx_len;
    bool stub;               /* the stub answers (2 status bytes, raw MD5) */
    st_phase phase;          /* stamped on every error */
    uint8_t prev_reply_op;   /* opcode of the last reply: the ROM's "unsupported" answer echoes it */
    uint32_t sync_value;     /* value of the last SYNC reply: non-zero from the ROM, 0 from a stub */
    /* Raw bytes seen while `capture` is set (boot banner before the first SYNC reply). */
    bool capture;
    char banner[ST_LOADER_BANNER_MAX];
    size_t banner_len;
    /* Line diagnostics: garbage is counted, never fatal by itself. */
    uint64_t skipped_frames; /* frames that were not a reply (short, direction != 1, stale) */
} st_loader;

/* A parsed reply. `data` points into the loader's frame buffer (valid until the next
 * receive) and excludes the status bytes. */
typedef struct st_resp {
    uint8_t op;
    uint16_t size;           /* size field of the header */
    uint32_t value;          /* header value word (READ_REG result; stale otherwise) */
    const uint8_t *body;     /* size bytes after the header (clipped to what arrived) */
    size_t body_len;
    const uint8_t *data;     /* response data before the status bytes */
    size_t data_len;
    uint8_t status[4];
    uint8_t nstatus;         /* 2 (stub form) or 4 (ROM form) */
} st_resp;

/* Set up a context on an open port (borrowed). 0 or -1 (ST_E_NOMEM). */
int st_loader_init(st_loader *l, st_port *port, st_err *err);
/* Release the context's buffers (not the port). */
void st_loader_free(st_loader *l);
/* Point the context at another port (after a reopen) and forget buffered input. */
void st_loader_set_port(st_loader *l, st_port *port);
/* Forget buffered input and decoder state (after a flush or a baud switch). */
void st_loader_reset_input(st_loader *l);
/* Flush the port's input and the context's buffers. */
void st_loader_flush(st_loader *l);
/* Read and discard input until it has been quiet for quiet_ms (at most max_ms); the
 * bytes go to the banner while capture is on. */
void st_loader_drain(st_loader *l, int quiet_ms, int max_ms);
/* The same after a reset whose far end announces itself: the quiet only counts once a
 * ROM boot line ("rst:...,boot:0xNN (...)" and its line end) has gone by, so whatever the
 * unit sent before its reset is gone with it; at most max_ms. True when the line came. */
bool st_loader_await_boot(st_loader *l, int quiet_ms, int max_ms);
/* Bytes outside frames and frames discarded by the decoder, plus skipped packets. */
uint64_t st_loader_noise(const st_loader *l);

/* --- packets ---------------------------------------------------------------------- */

/* Build header (direction 0, op, size, chk) + payload, SLIP-encode it and write the
 * whole frame with one st_port_write. */
int st_loader_send(st_loader *l, uint8_t op, const void *payload, size_t n, uint32_t chk,
                   st_err *err);
/* The same with the payload in two pieces (a data header and the data), no copy. */
int st_loader_send2(st_loader *l, uint8_t op, const void *a, size_t na, const void *b, size_t nb,
                    uint32_t chk, st_err *err);
/* A raw SLIP frame holding data (no command header): READ_FLASH's acks. */
int st_loader_send_raw(st_loader *l, const void *data, size_t n, st_err *err);
/* Next complete SLIP frame within timeout_ms: 1 with *frame and *len (valid until the next
 * receive), 0 on timeout, -1 with err when the port failed (ST_E_GONE: vanished). */
int st_loader_recv_frame(st_loader *l, int timeout_ms, const uint8_t **frame, size_t *len,
                         st_err *err);
/* The same with a deadline: the next frame before the monotonic time end (st_now()), 0
 * once it has passed; a port failure also stamps op on err as the command it broke. */
int st_loader_recv_until(st_loader *l, double end, uint8_t op, const uint8_t **frame,
                         size_t *len, st_err *err);

/* Call after a received frame turned out to be no reply (line garbage that held a C0):
 * its closing delimiter is taken as the opening one of the reply behind it, so one stray
 * C0 costs a junk frame instead of that reply. Counts the frame as skipped. */
void st_loader_resync(st_loader *l);

/* Split a frame into header fields: 0, or -1 when it is not a reply (shorter than 8
 * bytes or direction != 1). Pure; no status interpretation. */
int st_resp_parse(const uint8_t *frame, size_t len, st_resp *r);
/* Locate data and status bytes of r for a loader in stub (2 status bytes) or ROM (4)
 * form expecting data_rom/data_stub bytes of response data. The form follows the body
 * length when it matches one exactly, else the mode. 0, or -1 (ST_E_PROTOCOL) when the
 * body is too short to hold them. Pure. */
int st_resp_split(st_resp *r, bool stub, size_t data_rom, size_t data_stub, st_err *err);
/* True when only the decisive byte says success (§14: the error byte can be stale). */
static inline bool st_resp_ok(const st_resp *r) { return r->status[0] == 0; }
/* Fill err for a failing status of op in phase ph: category ST_E_DEVICE, the status
 * bytes, the failure class (st_status_fclass), an esptool-style message
 * ("Failed to write to target RAM (result was 01070000): ...") and the class hint.
 * Returns -1. Pure. */
int st_resp_error(const st_resp *r, st_phase ph, st_err *err);
/* Failure class of a failing status for op in phase ph (01 07 on MEM_DATA ->
 * stub_ram_checksum, C4 / 01 08 -> flash_write, C7 / 01 0B / 01 0C -> inflate, ...). */
st_fclass st_status_fclass(uint8_t op, st_phase ph, const uint8_t *status, int nstatus);
/* esptool's description of what op does ("write to target RAM" for MEM_DATA). */
const char *st_cmd_description(uint8_t op);

/* Send op and wait up to timeout_ms for its reply, skipping packets that are not
 * replies, and stale replies of other opcodes. The ROM answers an unsupported opcode
 * by re-sending the previous reply's header with status 01 05; that is recognised and
 * returned as an error (input is flushed since the echo can repeat). A failing status
 * is returned as -1 with err (st_resp_error); r is filled either way when a reply came. */
int st_loader_command(st_loader *l, uint8_t op, const void *payload, size_t n, uint32_t chk,
                      int timeout_ms, size_t data_rom, size_t data_stub, st_resp *r,
                      st_err *err);
/* Wait (after a request was sent) for the reply to op, as st_loader_command. */
int st_loader_await(st_loader *l, uint8_t op, int timeout_ms, size_t data_rom, size_t data_stub,
                    st_resp *r, st_err *err);

/* --- typed commands (loader_cmds.c) ----------------------------------------------- */

/* One SYNC: send, wait timeout_ms for the first reply; 0 when it came (the remaining
 * replies are left for st_cmd_sync_drain / the opcode filter; its value in
 * l->sync_value), -1 with ST_E_TIMEOUT. */
int st_cmd_sync(st_loader *l, int timeout_ms, st_err *err);
/* Swallow the remaining replies of a successful SYNC (the ROM sends 8). */
void st_cmd_sync_drain(st_loader *l);
/* Re-sync with the ROM after a request whose frame end it lost (no reply; §14.1, high
 * baud under load): a lone C0 closes the frame the ROM still holds open, its answer
 * (01 07: the short frame's checksum fails, its seq is consumed) is drained, then SYNC
 * until answered (ST_ROM_RESYNC_TRIES). The ROM keeps its baud and attach state; a
 * write must restart from its *_BEGIN. -1 with ST_E_TIMEOUT/ST_FC_TIMEOUT when the ROM
 * stays silent, or the port's error. */
int st_cmd_rom_resync(st_loader *l, st_err *err);
#define ST_ROM_RESYNC_TRIES 5
int st_cmd_read_reg(st_loader *l, uint32_t addr, uint32_t *val, st_err *err);
int st_cmd_write_reg(st_loader *l, uint32_t addr, uint32_t val, st_err *err);
int st_cmd_mem_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t addr,
                     st_err *err);
int st_cmd_mem_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, st_err *err);
/* Send MEM_END(flag, entry) without waiting (the stub may greet before/after the reply). */
int st_cmd_mem_end_send(st_loader *l, uint32_t flag, uint32_t entry, st_err *err);
int st_cmd_flash_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t off,
                       int timeout_ms, st_err *err);
/* FLASH_DATA (uncompressed) block seq; the ROM writes it before it answers. */
int st_cmd_flash_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, int timeout_ms,
                      st_err *err);
int st_cmd_flash_end(st_loader *l, uint32_t flag, st_err *err);
int st_cmd_defl_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t off,
                      int timeout_ms, st_err *err);
int st_cmd_defl_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, int timeout_ms,
                     st_err *err);
int st_cmd_defl_end(st_loader *l, uint32_t flag, int timeout_ms, st_err *err);
/* Stub ERASE_REGION(off, len): both 4 KiB aligned; the stub answers once it is erased
 * (timeout scaled by ST_TO_ERASE_PER_MB_MS). */
int st_cmd_erase_region(st_loader *l, uint32_t off, uint32_t len, st_err *err);
/* Stub ERASE_FLASH: the whole chip; the stub answers once it is erased
 * (ST_TO_CHIP_ERASE_MS, esptool's CHIP_ERASE_TIMEOUT). */
#define ST_TO_CHIP_ERASE_MS 120000
int st_cmd_erase_flash(st_loader *l, st_err *err);
/* Stub READ_FLASH (§3.6): the reply, then packets of ST_READ_PACKET bytes (the last may
 * be shorter), each acked with a raw frame of the total received so far (at most
 * ST_READ_IN_FLIGHT unacked, esptool's figures), then the stub's MD5 of what it read.
 * Each packet goes to sink(user, data, n) (non-zero: stop with its err). A non-final
 * packet shorter than ST_READ_PACKET, or more data than asked, fails ST_E_PROTOCOL. The
 * digest the stub sent is returned in stub_md5 (compare it with the bytes received). */
#define ST_READ_PACKET 0x1000
#define ST_READ_IN_FLIGHT 64
typedef int (*st_read_sink)(void *user, const uint8_t *data, size_t n, st_err *err);
int st_cmd_read_flash(st_loader *l, uint32_t off, uint32_t len, st_read_sink sink, void *user,
                      uint8_t stub_md5[16], st_err *err);
/* SPI_ATTACH(0): 8 bytes to the ROM, 4 to the stub. */
int st_cmd_spi_attach(st_loader *l, st_err *err);
/* SPI_SET_PARAMS(0, size, 64 KiB, 4 KiB, 256, 0xFFFF). */
int st_cmd_spi_set_params(st_loader *l, uint32_t flash_size, st_err *err);
/* CHANGE_BAUDRATE(new_word, old_word) as given (the caller applies the ROM formula). */
int st_cmd_change_baud(st_loader *l, uint32_t new_word, uint32_t old_word, st_err *err);
/* SPI_FLASH_MD5(off, len): digest as 16 bytes, from 32 hex digits (ROM) or raw (stub);
 * the status is checked before the digits (§14: stale digits with 01 09). */
int st_cmd_md5(st_loader *l, uint32_t off, uint32_t len, uint8_t md5[16], st_err *err);

/* Parse 32 hex digits into 16 bytes; 0 or -1 on a non-hex digit. */
int st_hex_md5(const uint8_t *hex, uint8_t md5[16]);

#endif

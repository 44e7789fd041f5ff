/* sim_unit.h - one virtual ESP32: personality (ROM loader / legacy stub / running app),
 * its device-side receivers, flash, registers and outgoing queue. Transport-agnostic:
 * the host loop feeds bytes in (unit_rx), tells it about port open/close, and drains
 * u->out. Nothing here blocks; device work time is modelled with timestamps. */
#ifndef SIM_UNIT_H
#define SIM_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_flash.h"
#include "sim_inflate.h"
#include "sim_opts.h"
#include "sim_regs.h"
#include "sim_stubid.h"
#include "sim_wire.h"

#define SIM_ROM_RXBUF (8 + 16 + 0x1800) /* ROM receive buffer: header + one 0x1800 block */
#define SIM_STUB_RXBUF (0x4000 + 64)    /* legacy stub: MAX_WRITE_BLOCK + 64, two of them */
#define SIM_STUB_OUTBUF 32768           /* legacy stub inflate output buffer */
#define SIM_RAW_MAX (2 * SIM_STUB_RXBUF) /* input held while the device is busy */
#define SIM_MAX_SEGS 8
#define SIM_SEG_KEEP (256u << 10)
#define SIM_ROM_WINDOW 32768u           /* ROM inflate: its 32 KiB output window */

typedef enum {
    SIM_MODE_ROM,     /* ROM serial loader (download mode) */
    SIM_MODE_STUB,    /* legacy flasher stub after MEM_END + OHAI */
    SIM_MODE_APP,     /* booted into flash (normal boot or after a reset by the station) */
    SIM_MODE_DEAD,    /* jumped into nowhere / deaf: silent until the port is reset */
    SIM_MODE_RESET,   /* EN low (auto-reset circuit), or released and not yet booted */
} sim_mode;

/* Auto-reset circuit timing: after EN is released the chip leaves reset and latches its
 * strapping pins (GPIO0) once EN has charged through the board's RC (10 kOhm / 1 uF class:
 * milliseconds); GPIO0 must still be low then for download mode. */
#define SIM_EN_LATCH_NS (10 * 1000000ull)

/* Write session (FLASH_BEGIN or FLASH_DEFL_BEGIN), ROM or stub semantics. */
typedef struct sim_wsess {
    uint8_t kind;             /* 0, ESP_FLASH_BEGIN or ESP_FLASH_DEFL_BEGIN */
    uint32_t offset, size, blocks, block_size;
    uint32_t next_seq;        /* ROM */
    uint32_t written;         /* ROM: bytes written; both: progress for faults */
    uint32_t next_write, remaining;            /* stub */
    uint32_t next_erase_sector, remaining_erase_sector; /* stub lazy erase */
    uint32_t remaining_compressed;             /* stub */
    uint8_t last_error;       /* stub: deferred error of the last data block */
    uint32_t packets;         /* ROM DEFL: data packets counted against `blocks` (§14.1) */
    int defl_state;           /* ROM: 0 running, 1 stream complete, -1 failed */
    uint8_t defl_err;         /* ROM: error byte after a failure */
    bool f_write, f_inflate, f_bitflip, f_blank, flipped;
} sim_wsess;

typedef struct sim_unit {
    char name[16];            /* "slot3" */
    int slot;
    unsigned seq;             /* arrival number in this slot (1-based) */
    sim_unit_opts o;
    sim_flash flash;
    sim_regs regs;
    sim_outq out;
    bool realism;
    int verbose;              /* 1: one log line per command */
    uint64_t rng;

    sim_mode mode;
    uint32_t baud;            /* unit's UART rate */
    bool garbled;             /* bridge cannot hold the rate: replies garbled */
    uint64_t now;             /* time of the command being executed */
    uint64_t work;            /* device time spent so far on it (realism) */
    uint64_t busy_until;      /* no input processed before this */
    uint64_t flash_ready;     /* the flash chip's WIP clears (an erase started ahead) */
    uint64_t rx_free;         /* realism input pacing */

    uint8_t raw[SIM_RAW_MAX]; /* received, not yet through the receiver */
    size_t raw_len;

    struct {                  /* ROM receiver: DB x -> x, truncates long frames */
        bool in_frame, esc;
        bool dropping;        /* fault rx_drop: bytes from drop_at on and the frame end lost */
        size_t drop_at;
        size_t len;
        uint8_t buf[SIM_ROM_RXBUF];
    } rrx;
    struct {                  /* legacy stub receiver (stub_handle_rx_byte) */
        int state;            /* 0 no frame, 1 frame, 2 escaping */
        int cur;
        size_t read;
        uint8_t buf[2][SIM_STUB_RXBUF];
    } srx;

    struct {                  /* ROM loader RAM state that shows through in replies */
        uint32_t value;       /* header value: last SYNC/READ_REG value */
        uint8_t err;          /* error byte, stale on some successes */
        uint8_t last_op;      /* previous reply: what an unknown opcode gets back */
        int last_count;
        uint8_t rbuf[68];     /* reply data buffer; status overlays its start */
        bool attached;        /* SPI_ATTACH seen */
        uint32_t param_size;  /* SPI_SET_PARAMS total size (2 MB until set) */
        bool erase_hangs;     /* SPI_SET_PARAMS with status mask 0 */
        struct { bool active; uint32_t addr, size, block_size, next_seq, written; } mem;
    } rom;
    struct {
        uint32_t param_size;
        bool in_flash;
        bool mem_active;      /* mem_offset != NULL */
        uint32_t mem_remaining;
        int flavor;           /* enum sim_stub_flavor: which stub is running */
        uint8_t pending_err;  /* esp-flasher-stub: a post-process error for the next command */
    } stub;
    struct {                  /* RAM uploads since reset */
        uint32_t addr, len, done;
        uint8_t *bytes;       /* what landed (up to SIM_SEG_KEEP bytes), for stub_identify */
    } seg[SIM_MAX_SEGS];
    int nseg;

    sim_wsess w;
    sim_inflate inf;
    uint8_t rom_win[SIM_ROM_WINDOW]; /* ROM inflate window: zero after reset, kept between
                                      * streams; stream byte p lives at rom_win[p % 32K] */
    uint8_t obuf[SIM_STUB_OUTBUF];  /* stub inflate output; fill level survives sessions */
    size_t obuf_len;

    struct {                  /* stub READ_FLASH streaming */
        bool active;
        uint32_t addr, len, block, inflight, sent, acked;
        void *md5;            /* EVP_MD_CTX */
        int ack_state;        /* SLIP_recv state for the next ack */
        uint8_t ack[4];
        size_t ack_len;
    } rf;

    struct {                  /* two-transistor auto-reset circuit (RFC 2217 slots) */
        bool on;              /* the unit is reset through DTR/RTS, not by port open/close */
        bool dtr, rts;        /* asserted = true; EN low = RTS & !DTR, GPIO0 low = DTR & !RTS */
        bool held;            /* EN is low: the chip is in reset */
        bool by_host;         /* the pending boot follows a host's line change */
        uint64_t boot_at;     /* EN released: the chip boots (GPIO0 latched) at this time */
    } ar;

    /* For the host loop. */
    bool vanish;              /* disconnect fault fired: unplug now */
    uint64_t app_boot_at;     /* the app of the last reboot caused by the host is up (its
                               * last boot line sent; 0 never) */
    unsigned long ncmds;
    uint8_t req_op;           /* command being executed (for the -v log line) */
    uint16_t req_size;
} sim_unit;

/* Power the unit on (flash at flash_path, or memory when NULL). 0 or -1. */
int unit_init(sim_unit *u, int slot, unsigned seq, const sim_unit_opts *o,
              const char *flash_path, bool realism, int verbose, uint64_t seed);
void unit_free(sim_unit *u);
/* A host opened the port: reset into download mode (or normal boot with no_sync),
 * boot banner queued. */
void unit_host_open(sim_unit *u, uint64_t now);
/* The host closed the port (the DTR/RTS reset of the model): pending output dropped,
 * back to the ROM loader at 115200; flash and fault counters kept. */
void unit_host_close(sim_unit *u, uint64_t now);
/* RFC 2217 slots: the unit sits behind the classic auto-reset circuit (EN and GPIO0 as
 * functions of DTR/RTS, see sim_unit.c). Power-on with the lines released boots the app
 * (its banner goes to nobody); opening or closing the port changes nothing by itself. */
void unit_autoreset_power_on(sim_unit *u, uint64_t now);
/* The adapter's DTR/RTS changed (asserted = true). */
void unit_set_lines(sim_unit *u, bool dtr, bool rts, uint64_t now);

/* Room for more input (bytes). */
size_t unit_rx_room(const sim_unit *u);
/* Append received bytes (at most unit_rx_room) and process what the device can. */
void unit_rx(sim_unit *u, const uint8_t *d, size_t n, uint64_t now);
/* Process buffered input once the device is no longer busy. */
void unit_service(sim_unit *u, uint64_t now);
/* When unit_service should run next (0 = nothing pending). */
uint64_t unit_next_event(const sim_unit *u);

/* ---- internal API shared by sim_unit.c, sim_rom.c, sim_stub.c ---- */
/* Queue one SLIP frame (payload unescaped) at now + work (+ slow fault). */
void unit_send_frame(sim_unit *u, const uint8_t *payload, size_t n);
/* Queue raw bytes (banner text, stray delimiters). */
void unit_send_raw(sim_unit *u, const void *d, size_t n);
/* The same, leaving no earlier than delay_ns after now (boot text comes over time). */
void unit_send_raw_at(sim_unit *u, const void *d, size_t n, uint64_t delay_ns);
/* Add device work time (only counted with --realism). */
void unit_work(sim_unit *u, uint64_t ns);
void unit_log(sim_unit *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Boot text and mode change for a reset into the app (rst = "0x3 (SW_RESET)" etc.,
 * NULL for a jump without reset). by_host: counts as "reset by the station". */
void unit_boot_app(sim_unit *u, const char *rst, bool by_host);
/* What the unit prints booting from its flash (sim_boot.c): the ROM's line for reset
 * reason rst (NULL: no reset line), the bootloader, the app and its banner, as the flash
 * contents and the boot faults make it; a reboot loop is shown up to 4 boots. Returns
 * when (ns after now) its last line leaves: the app is up then, or the unit gave up. */
uint64_t unit_boot_console(sim_unit *u, const char *rst);
/* The ROM's first line ("ets Jul 29 2019 12:21:46" on rev 3, else the 2016 ROM's). */
const char *unit_rom_date(const sim_unit *u);
/* Can code at addr run: inside RAM uploaded since reset, and every upload since reset
 * complete (a block lost to a checksum error leaves the image short and shifted)? */
bool unit_ram_runnable(const sim_unit *u, uint32_t addr);
/* A MEM_BEGIN: a new upload region; unit_ram_wrote() records bytes that landed in it. */
void unit_ram_add(sim_unit *u, uint32_t addr, uint32_t len);
void unit_ram_wrote(sim_unit *u, const uint8_t *d, uint32_t n);
/* A jump to entry (MEM_END): start the stub the uploaded code is (the legacy stub or the
 * esp-flasher-stub, told apart by stub_identify), or crash as the chip would: an entry
 * outside instruction RAM or not in a complete upload, or a stub built for another chip
 * (the ESP32 cannot run it: silent until reset). */
void unit_jump(sim_unit *u, uint32_t entry);
/* After a baud change to `baud`: the output is garbled when the unit's bridge cannot
 * carry that rate (opts_bridge_holds) or the baud_max fault says so. */
void unit_bridge_check(sim_unit *u, uint32_t baud);
/* Check the disconnect fault against the write session's progress. */
void unit_check_disconnect(sim_unit *u, uint32_t done, uint32_t announced);
/* Pick the session's faults (consumes counters) for a non-empty write. */
void unit_session_faults(sim_unit *u, sim_wsess *w, bool deflate);
/* Program flash honouring blank/bitflip faults; returns false when the write fault fires.
 * Waits for the chip, then costs the page-program commands (synchronous, as SPIWrite). */
bool unit_program(sim_unit *u, uint32_t off, const uint8_t *d, uint32_t len);
/* Erase [off, off+len) (sector-aligned) with sectors/blocks erase commands. The chip
 * must be ready first (the caller waits or asks unit_flash_busy). wait: the CPU waits
 * for the erase (ROM, ERASE_REGION); else it only starts it and the chip stays busy
 * (the stub's erase-ahead) until unit_flash_wait or the next flash command. */
void unit_erase(sim_unit *u, uint32_t off, uint32_t len, uint32_t sectors, uint32_t blocks,
                bool wait);
/* The flash chip is still busy with an erase at the current device time (realism only). */
bool unit_flash_busy(const sim_unit *u);
/* The CPU polls WIP until the chip is ready (device time passes). */
void unit_flash_wait(sim_unit *u);

void rom_enter(sim_unit *u);
void rom_frame(sim_unit *u, size_t len);
void stub_enter(sim_unit *u);
void stub_frame(sim_unit *u, uint8_t *buf);
void stub_rf_byte(sim_unit *u, uint8_t b);

#endif

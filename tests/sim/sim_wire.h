/* sim_wire.h - a unit's outgoing byte queue (timed chunks) and, with --realism, the
 * pacing of the UART: 10 bits per byte at the unit's baud in both directions, plus
 * the device timing model: flash presets (erase, program) and the stub CPU's inflate. */
#ifndef SIM_WIRE_H
#define SIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SIM_NS_PER_MS 1000000ull

typedef struct sim_chunk {
    struct sim_chunk *next;
    uint64_t not_before;  /* monotonic ns */
    uint32_t baud;        /* rate these bytes go out at */
    size_t len, off;
    uint8_t data[];
} sim_chunk;

typedef struct sim_outq {
    sim_chunk *head, *tail;
    size_t bytes;
    uint64_t last_nb;     /* chunks never overtake each other */
    uint64_t tx_free;     /* realism: when the line is idle again */
} sim_outq;

/* Queue n bytes to go out no earlier than not_before at `baud`. */
void outq_push(sim_outq *q, const uint8_t *d, size_t n, uint64_t not_before, uint32_t baud);
void outq_clear(sim_outq *q);
static inline bool outq_empty(const sim_outq *q) { return q->head == NULL; }
/* Earliest time more bytes may be written (0 = now / nothing queued). */
uint64_t outq_due(const sim_outq *q, bool realism);
/* Write whatever is due to fd (non-blocking). Returns bytes written, or -1 on a hard
 * error (EIO/EPIPE: the other side is gone); EAGAIN counts as 0. */
ssize_t outq_flush(sim_outq *q, int fd, uint64_t now, bool realism);
/* The same through a writer: it takes up to n bytes that leave at baud and returns how
 * many it took (0 = not now), or -1 on a hard error. */
typedef ssize_t (*outq_writer)(void *ctx, const uint8_t *d, size_t n, uint32_t baud);
ssize_t outq_flush_with(sim_outq *q, uint64_t now, bool realism, outq_writer w, void *ctx);

/* Realism input pacing: bytes the unit may take in now at baud; then account them. */
size_t wire_rx_allow(uint64_t rx_free, uint64_t now, uint32_t baud, size_t want);
void wire_rx_account(uint64_t *rx_free, uint64_t now, uint32_t baud, size_t n);
/* Line time of n bytes at baud, in ns. */
uint64_t wire_ns(size_t n, uint32_t baud);

/* Flash timing preset (unit option timing=NAME): what one erase or one page-program
 * command costs the chip. typ: today's typical values; max: datasheet maxima (W25Q128JV
 * tSE/tBE2/tPP max); p32: typical timing, but programmed 32 bytes per command (the
 * ESP32 ROM's SPIWrite path: 32-byte SPI buffer, each command pays tBP1 + 31 tBPn). */
typedef struct sim_flash_timing {
    const char *name;
    uint64_t sector_erase_ns, block_erase_ns; /* 4 KiB / 64 KiB erase */
    uint32_t program_unit;                    /* bytes per page-program command (aligned) */
    uint64_t program_ns;                      /* per page-program command */
} sim_flash_timing;

/* The preset called name ("typ", "max", "p32"), or NULL. */
const sim_flash_timing *wire_timing_find(const char *name);
/* The default preset (typ). */
const sim_flash_timing *wire_timing_default(void);
/* Erase time of sectors 4 KiB sectors and blocks 64 KiB blocks. */
uint64_t wire_erase_ns(const sim_flash_timing *t, uint32_t sectors4k, uint32_t blocks64k);
/* Page-program commands needed for [off, off+len) (one per program_unit-aligned chunk). */
uint32_t wire_program_cmds(const sim_flash_timing *t, uint32_t off, uint32_t len);
uint64_t wire_program_ns(const sim_flash_timing *t, uint32_t off, uint32_t len);
uint64_t wire_md5_ns(uint32_t bytes);
/* Stub CPU time of one tinfl call that consumed in bytes and produced out bytes. */
uint64_t wire_inflate_ns(size_t in, size_t out);

uint64_t sim_now_ns(void);

#endif

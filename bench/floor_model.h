/* floor_model.h - the device side of esp32sim --realism (tests/sim: sim_wire.c for the
 * times, sim_stub.c for when the legacy stub erases and programs), replayed from the
 * data frames a host actually sent, and the lower bound of a two-stage pipeline.
 * Used only to compute the benchmark's floor; it never talks to a unit. */
#ifndef BENCH_FLOOR_MODEL_H
#define BENCH_FLOOR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* The simulator's device timing (seconds). */
double fm_erase_s(uint32_t sectors4k, uint32_t blocks64k); /* 45 ms / 150 ms */
double fm_program_s(uint32_t bytes);                       /* 0.5 ms per 256 B page */
double fm_md5_s(uint32_t bytes);                           /* 250 ns per byte */
#define FM_STUB_BAUD_CHANGE_S 0.011

/* One stub write session (FLASH_BEGIN or FLASH_DEFL_BEGIN), as the legacy stub runs it:
 * 32 KiB inflate output buffer, lazy erase (a 64 KiB block when aligned and at least 16
 * sectors remain, else a 4 KiB sector) just far enough for each write. */
typedef struct fm_session {
    bool deflate, live;
    uint32_t next_write, remaining;
    uint32_t next_erase_sector, remaining_erase_sector;
    z_stream zs;
    bool zlive, zdone;
    uint8_t obuf[32768];
    size_t obuf_len;     /* survives sessions, as the stub's .bss buffer does */
} fm_session;

void fm_begin(fm_session *s, bool deflate, uint32_t offset, uint32_t total);
/* Device work (s) the stub does for one data block's payload. */
double fm_data(fm_session *s, const uint8_t *payload, size_t n);
void fm_end(fm_session *s);

/* Two-stage pipeline (wire, then device) with unlimited buffering: no host can finish
 * earlier than max over k of (a[0] + .. + a[k]) + (b[k] + .. + b[n-1]). */
double fm_flowshop(const double *a, const double *b, size_t n);
/* The same pipeline as the legacy stub allows it: two receive buffers, a block ACKed when
 * the stub starts on it, so block k+1 can only go out after the ACK of block k (line time
 * ack[k]) and block k+1 is worked on only after block k:
 *   start[0] = a[0];  start[k+1] = start[k] + max(ack[k] + a[k+1], b[k]);
 *   end = start[n-1] + max(b[n-1], ack[n-1]) (the last ACK goes out while it works). */
double fm_stopwait(const double *a, const double *ack, const double *b, size_t n);

/* Stub ERASE_REGION work (sectors up to a 64 KiB boundary, blocks, trailing sectors). */
double fm_erase_region_s(uint32_t addr, uint32_t len);

#endif

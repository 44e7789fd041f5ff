/* wire_tap.h - what the station does on its serial port, seen at the system-call
 * boundary. bench_flash is linked with -Wl,--wrap=write,--wrap=read,--wrap=send,
 * --wrap=recv,--wrap=poll,--wrap=close, so every call stationcore makes goes through
 * wire_tap.c first: calls on a port descriptor (a terminal other than stdin/out/err, or
 * a socket) are counted and their bytes captured with a time stamp. Single-threaded use
 * (one unit per bench_flash process). */
#ifndef BENCH_WIRE_TAP_H
#define BENCH_WIRE_TAP_H

#include <stdint.h>

#include "capture.h"

typedef struct tap_stats {
    uint64_t writes;          /* write()/send() calls on the port */
    uint64_t writes_short;    /* ... that took fewer bytes than offered */
    uint64_t writes_eagain;   /* ... that took none (kernel buffer full) */
    uint64_t reads;           /* read()/recv() calls on the port */
    uint64_t reads_empty;     /* ... that returned nothing (EAGAIN / 0) */
    uint64_t reads_cap1;      /* ... asking for a single byte */
    uint64_t reads_got1;      /* ... returning a single byte */
    uint64_t polls;           /* poll() calls that included the port */
    double poll_s;            /* time spent inside those poll() calls */
    uint64_t opens;           /* distinct port descriptors seen (reopens) */
} tap_stats;

/* Start recording into cap (NULL stops). Times are seconds since tap_start. */
void tap_start(capture *cap);
void tap_stop(void);
const tap_stats *tap_get_stats(void);
/* Seconds since tap_start on the monotonic clock. */
double tap_now(void);

#endif

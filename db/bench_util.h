/* bench_util.h - what the record-store benchmarks (bench_audit, bench_central) share:
 * a monotonic clock, a deterministic random sequence, the synthetic MACs and sorting
 * timings. Header-only (static functions); programs, not part of stationdb. */
#ifndef ST_DB_BENCH_UTIL_H
#define ST_DB_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "err.h"

/* Monotonic seconds. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: deterministic, so runs are comparable. */
static inline uint64_t bench_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* The i-th synthetic MAC (24:0a:c4 + the low 24 bits of i) into buf[18]. */
static inline void bench_mac_of(long i, char *buf)
{
    snprintf(buf, 18, "24:0a:c4:%02lx:%02lx:%02lx", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

/* qsort comparator of doubles, ascending. */
static inline int bench_cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The start of the i-th synthetic attempt, of the unit with MAC number mac: slot i % 16, a
 * CP2104 VID:PID, an ESP32-D0WD-V3, profile core2-factory with its two images, try 1,
 * started at started_ms; every other field zero for the benchmark to set. */
static inline void bench_attempt_start(st_db_attempt *a, long i, long mac, int64_t started_ms)
{
    memset(a, 0, sizeof *a);
    bench_mac_of(mac, a->mac);
    a->slot = (int)(i % 16);
    a->vid = 0x10c4;
    a->pid = 0xea60;
    snprintf(a->description, sizeof a->description, "ESP32-D0WD-V3 (revision v3.0)");
    snprintf(a->profile, sizeof a->profile, "core2-factory");
    a->nimages = 2;
    a->images[0].offset = 0x1000;
    a->images[1].offset = 0x10000;
    memset(a->images[0].sha256, 'a', 64);
    memset(a->images[1].sha256, 'b', 64);
    a->try_no = 1;
    a->started_ms = started_ms;
}

/* Time n calls of query(user, mac, rows, err), each on a random synthetic MAC of the first
 * n_macs, into t[0..n-1] in seconds, sorted ascending (t[n / 2] is the median); *rows counts
 * what the queries found. The first query that fails returns its -1 (err says why). */
static inline int bench_time_queries(double *t, long n, long n_macs, uint64_t *seed,
                                     int (*query)(void *user, const char *mac, long *rows,
                                                  st_err *err),
                                     void *user, long *rows, st_err *err)
{
    for (long q = 0; q < n; q++) {
        char mac[18];
        bench_mac_of((long)(bench_rnd(seed) % (uint64_t)n_macs), mac);
        double s = bench_now_s();
        if (query(user, mac, rows, err) < 0)
            return -1;
        t[q] = bench_now_s() - s;
    }
    qsort(t, (size_t)n, sizeof *t, bench_cmp_d);
    return 0;
}

#endif

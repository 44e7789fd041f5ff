/* capture.h - a time-stamped record of one host's conversation with one unit: what the
 * host sent, what it received, and where the link was (re)opened. Written by the
 * station's syscall tap (wire_tap.c) and by the esptool-js runner (esptooljs_flash.mjs),
 * read by the analysis (wire_analyze.h), so both hosts are measured the same way.
 *
 * File format: the line "BENCHCAP1\n", then records: kind (1 byte: 'o' host->unit,
 * 'i' unit->host, 'c' link opened at 115200), t (float64 LE, seconds), len (uint32 LE),
 * len bytes. */
#ifndef BENCH_CAPTURE_H
#define BENCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cap_rec {
    double t;
    size_t off, len;   /* bytes in capture.data */
    char kind;         /* 'o', 'i' or 'c' */
} cap_rec;

typedef struct capture {
    cap_rec *rec;
    size_t nrec, caprec;
    uint8_t *data;
    size_t ndata, capdata;
} capture;

/* Append one record (aborts on out-of-memory: a benchmark with a hole is worthless). */
void cap_add(capture *c, char kind, double t, const void *d, size_t n);
/* 0, or -1 with errno. */
int cap_save(const capture *c, const char *path);
/* 0, or -1 (message on stderr). c must be zeroed. */
int cap_load(capture *c, const char *path);
void cap_free(capture *c);

#endif

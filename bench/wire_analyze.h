/* wire_analyze.h - what a captured conversation (capture.h) says about a host: frames,
 * wire bytes per baud, turnaround between a data block's ACK and the next block, and
 * the floor: the shortest time any host could need to move the same frames through
 * esp32sim --realism.
 *
 * What the floor counts (all at 10 bits per byte, at the baud the link had: 115200 from
 * each (re)open until the CHANGE_BAUDRATE request has been answered, then the new rate):
 *   - every byte the host sent and every byte it received, in series (a request, then
 *     its reply; the next data block goes out after the previous block's ACK);
 *   - device work the simulator models outside data blocks: 11 ms per stub baud change,
 *     MD5 at 250 ns per byte, ERASE_REGION, WRITE_REG delays;
 *   - for each run of data blocks, the pipeline the legacy stub allows (fm_stopwait in
 *     floor_model.h: a block's erase/program overlaps with the next block's ACK and
 *     transfer, never more), with the work the stub does for each block (fm_data).
 * The "minimal payload" floor keeps only that pipeline with the compressed payload bytes
 * (no framing, escaping, headers, ACKs, handshakes or stub upload) at the final baud,
 * plus the MD5 work of the verification. floor_inf_s is the bound with unlimited device
 * buffering instead (fm_flowshop, ACKs overlapped), for reference. */
#ifndef BENCH_WIRE_ANALYZE_H
#define BENCH_WIRE_ANALYZE_H

#include <stdint.h>

#include "capture.h"

typedef struct wa_result {
    uint64_t out_bytes, in_bytes;    /* all wire bytes, both directions */
    uint64_t frames_out;             /* SLIP frames the host sent */
    uint64_t out_records;            /* host write records (syscalls for the station) */
    uint64_t data_frames;            /* FLASH_DATA / FLASH_DEFL_DATA blocks */
    uint64_t data_payload;           /* their payload bytes (the compressed stream) */
    uint64_t links;                  /* link (re)opens */
    int final_baud;
    double dur_s;                    /* first record to last record */
    double data_span_s;              /* first data block sent .. last data ACK received */
    double data_wire_s;              /* line time of the data blocks themselves */
    double turn_med_ms, turn_p95_ms, turn_max_ms; /* ACK k received -> block k+1 sent */
    uint64_t turns;
    double dev_data_s;               /* modelled erase+program work of all blocks */
    double dev_max_block_s;          /* the largest single block's work */
    double dev_other_s;              /* modelled work outside data blocks (MD5, ...) */
    double wire_s;                   /* line time of the counted bytes */
    double floor_s;                  /* see above */
    double floor_min_s;
    double floor_inf_s;
    int floor_ok;                    /* 0 when the conversation had ROM-mode data blocks */
} wa_result;

/* Analyse c; 0, or -1 when it holds no host frame. */
int wa_analyze(const capture *c, wa_result *out);

#endif

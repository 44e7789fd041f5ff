/* sim_inflate.h - zlib-stream inflater with the result codes of the chip's tinfl
 * (miniz), built on zlib. Output is produced into a caller window so the caller can
 * reproduce the chip's 32 KiB output buffer and its exact flush points. */
#ifndef SIM_INFLATE_H
#define SIM_INFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum sim_inf_status {
    SIM_INF_CANNOT_PROGRESS = -4, /* input ended and the caller said no more is coming */
    SIM_INF_ADLER = -2,           /* stream complete but the Adler-32 trailer is wrong */
    SIM_INF_FAILED = -1,          /* corrupt data or header */
    SIM_INF_DONE = 0,             /* stream end (trailer checked) */
    SIM_INF_NEEDS_INPUT = 1,
    SIM_INF_HAS_OUTPUT = 2,       /* output window full */
};

typedef struct sim_inflate {
    z_stream zs;
    bool live;
} sim_inflate;

/* (Re)start a stream with zlib header parsing. Returns 0 or -1. */
int sim_inflate_begin(sim_inflate *z);
void sim_inflate_end(sim_inflate *z);
/* Inflate from in[0..*in_len) into out[0..*out_len); on return both hold the counts
 * consumed / produced. has_more_input is tinfl's TINFL_FLAG_HAS_MORE_INPUT. */
int sim_inflate_run(sim_inflate *z, const uint8_t *in, size_t *in_len, uint8_t *out,
                    size_t *out_len, bool has_more_input);

#endif

/* slip.h - SLIP framing (0xC0 delimits, 0xDB escapes), streaming and bounded.
 * Shared by the station's client and the test simulator. */
#ifndef ST_SLIP_H
#define ST_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

/* Worst-case encoded size of an n-byte payload (every byte escaped, two delimiters). */
#define SLIP_ENCODED_MAX(n) (2 * (n) + 2)

/* Encode payload into out (capacity >= SLIP_ENCODED_MAX(n)); returns bytes written. */
size_t slip_encode(const uint8_t *payload, size_t n, uint8_t *out);

typedef struct slip_decoder {
    uint8_t *buf;      /* frame being assembled; owned by the decoder */
    size_t len;        /* bytes of the current frame */
    size_t max;        /* longest frame accepted; longer ones are dropped whole */
    bool in_frame;
    bool escaped;
    bool overflow;     /* current frame exceeded max: discard until its end */
    bool ready;        /* buf holds a frame handed out by the last feed */
    /* Counters for diagnostics ("garbage on the line"). */
    size_t noise_bytes;     /* bytes seen outside any frame */
    size_t dropped_frames;  /* oversized or badly escaped frames discarded */
} slip_decoder;

/* Prepare a decoder for frames up to max bytes; returns 0, or -1 on allocation failure. */
int slip_dec_init(slip_decoder *d, size_t max);
void slip_dec_free(slip_decoder *d);
void slip_dec_reset(slip_decoder *d);

/* Consume bytes from in[0..n). Stops after the first complete non-empty frame and
 * returns 1 with the frame in d->buf[0..d->len) (valid until the next call); returns 0
 * when all input was consumed without completing a frame. *used = bytes consumed.
 * Bytes outside frames and empty frames (C0 C0) are skipped; a frame longer than max or
 * with an invalid escape is dropped and counted. */
int slip_dec_feed(slip_decoder *d, const uint8_t *in, size_t n, size_t *used);

#endif

/* slip.c - SLIP encoder and bounded streaming decoder. */
#include "slip.h"

#include <stdlib.h>

size_t slip_encode(const uint8_t *payload, size_t n, uint8_t *out)
{
    size_t o = 0;
    out[o++] = SLIP_END;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = payload[i];
        if (b == SLIP_END) {
            out[o++] = SLIP_ESC;
            out[o++] = SLIP_ESC_END;
        } else if (b == SLIP_ESC) {
            out[o++] = SLIP_ESC;
            out[o++] = SLIP_ESC_ESC;
        } else {
            out[o++] = b;
        }
    }
    out[o++] = SLIP_END;
    return o;
}

int slip_dec_init(slip_decoder *d, size_t max)
{
    *d = (slip_decoder){0};
    d->buf = malloc(max ? max : 1);
    if (!d->buf)
        return -1;
    d->max = max;
    return 0;
}

void slip_dec_free(slip_decoder *d)
{
    free(d->buf);
    *d = (slip_decoder){0};
}

void slip_dec_reset(slip_decoder *d)
{
    d->len = 0;
    d->in_frame = d->escaped = d->overflow = d->ready = false;
}

static void drop_frame(slip_decoder *d)
{
    d->dropped_frames++;
    d->overflow = true; /* swallow the rest of this frame */
    d->len = 0;
}

int slip_dec_feed(slip_decoder *d, const uint8_t *in, size_t n, size_t *used)
{
    if (d->ready) { /* the previous call handed out a frame: start afresh */
        d->ready = false;
        d->len = 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (b == SLIP_END) {
            if (d->in_frame && !d->overflow && d->len > 0) {
                /* Closing delimiter: hand the frame out. Like esptool, bytes after it
                 * are outside any frame until the next C0 opens one. */
                *used = i + 1;
                d->in_frame = false;
                d->escaped = false;
                d->ready = true;
                return 1;
            }
            /* Opening delimiter, empty frame, or end of a dropped frame. */
            d->in_frame = true;
            d->overflow = false;
            d->escaped = false;
            d->len = 0;
            continue;
        }
        if (!d->in_frame) {
            d->noise_bytes++;
            continue;
        }
        if (d->overflow)
            continue;
        if (d->escaped) {
            d->escaped = false;
            if (b == SLIP_ESC_END)
                b = SLIP_END;
            else if (b == SLIP_ESC_ESC)
                b = SLIP_ESC;
            else {
                drop_frame(d);
                continue;
            }
        } else if (b == SLIP_ESC) {
            d->escaped = true;
            continue;
        }
        if (d->len >= d->max) {
            drop_frame(d);
            continue;
        }
        d->buf[d->len++] = b;
    }
    *used = n;
    return 0;
}

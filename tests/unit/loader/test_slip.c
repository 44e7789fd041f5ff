/* test_slip - SLIP encoder and bounded streaming decoder (station/loader/slip.h). */
#include "check.h"
#include "slip.h"

#include <stdint.h>
#include <stdlib.h>

/* Feed everything in in[0..n) and collect at most max_frames frames. */
static int feed_all(slip_decoder *d, const uint8_t *in, size_t n, uint8_t frames[][64],
                    size_t *lens, int max_frames)
{
    int got = 0;
    while (n > 0) {
        size_t used = 0;
        int r = slip_dec_feed(d, in, n, &used);
        if (!CHECK(used <= n))
            return got;
        if (r == 1 && got < max_frames) {
            lens[got] = d->len;
            memcpy(frames[got], d->buf, d->len < 64 ? d->len : 64);
            got++;
        }
        in += used;
        n -= used;
    }
    return got;
}

/* A fresh decoder d (frames of at most max bytes) fed all of wire: exactly one frame
 * comes out, and it is want. The caller checks the counters and frees d. */
static void decode_one(slip_decoder *d, size_t max, const uint8_t *wire, size_t n,
                       const uint8_t *want, size_t want_len)
{
    CHECK_EQ_INT(slip_dec_init(d, max), 0);
    uint8_t frames[4][64];
    size_t lens[4] = {0};
    CHECK_EQ_INT(feed_all(d, wire, n, frames, lens, 4), 1);
    CHECK_EQ_INT(lens[0], want_len);
    CHECK_MEM(frames[0], want, want_len);
}

static void test_encode(void)
{
    const uint8_t payload[] = {0x01, 0xC0, 0x02, 0xDB, 0x03, 0xDC, 0xDD};
    const uint8_t expect[] = {0xC0, 0x01, 0xDB, 0xDC, 0x02, 0xDB, 0xDD, 0x03, 0xDC, 0xDD, 0xC0};
    uint8_t out[SLIP_ENCODED_MAX(sizeof payload)];
    size_t n = slip_encode(payload, sizeof payload, out);
    CHECK_EQ_INT(n, sizeof expect);
    CHECK_MEM(out, expect, sizeof expect);

    /* Worst case: every byte escaped. */
    const uint8_t all[] = {0xC0, 0xC0, 0xDB};
    uint8_t out2[SLIP_ENCODED_MAX(sizeof all)];
    CHECK_EQ_INT(slip_encode(all, sizeof all, out2), SLIP_ENCODED_MAX(sizeof all));
}

static void test_round_trip(void)
{
    uint8_t payload[256];
    for (int i = 0; i < 256; i++)
        payload[i] = (uint8_t)i;
    uint8_t wire[SLIP_ENCODED_MAX(256)];
    size_t n = slip_encode(payload, sizeof payload, wire);
    slip_decoder d;
    CHECK_EQ_INT(slip_dec_init(&d, 1024), 0);
    size_t used = 0;
    CHECK_EQ_INT(slip_dec_feed(&d, wire, n, &used), 1);
    CHECK_EQ_INT(used, n);
    CHECK_EQ_INT(d.len, 256);
    CHECK_MEM(d.buf, payload, 256);
    CHECK_EQ_INT(d.noise_bytes, 0);
    CHECK_EQ_INT(d.dropped_frames, 0);
    slip_dec_free(&d);
}

static void test_noise_and_empty_frames(void)
{
    /* Boot-log garbage, then stray C0 C0 (empty frames), then a real frame. */
    const uint8_t wire[] = {'e', 't', 's', ' ', 'J', 'u', 'n', 0xC0, 0xC0, 0xC0,
                            0x01, 0x08, 0x02, 0xC0};
    slip_decoder d;
    decode_one(&d, 64, wire, sizeof wire, (const uint8_t[]){0x01, 0x08, 0x02}, 3);
    CHECK_EQ_INT(d.noise_bytes, 7);
    CHECK_EQ_INT(d.dropped_frames, 0);

    /* Only delimiters: nothing comes out. */
    const uint8_t stray[] = {0xC0, 0xC0, 0xC0, 0xC0};
    size_t used = 0;
    CHECK_EQ_INT(slip_dec_feed(&d, stray, sizeof stray, &used), 0);
    CHECK_EQ_INT(used, sizeof stray);
    slip_dec_free(&d);
}

static void test_oversized_frame(void)
{
    enum { MAX = 32, BIG = 100000 };
    uint8_t *big = malloc(BIG + 16);
    if (!CHECK(big != NULL))
        return;
    size_t n = 0;
    big[n++] = 0xC0;
    for (int i = 0; i < BIG; i++)
        big[n++] = 0x55;
    big[n++] = 0xC0;
    big[n++] = 0xC0; /* opens the next frame */
    big[n++] = 0xAA;
    big[n++] = 0xBB;
    big[n++] = 0xC0;
    slip_decoder d;
    decode_one(&d, MAX, big, n, (const uint8_t[]){0xAA, 0xBB}, 2);
    CHECK_EQ_INT(d.dropped_frames, 1);
    /* Bounded memory: the decoder never grew past its limit. */
    CHECK_EQ_INT(d.max, MAX);
    CHECK(d.len <= MAX);
    free(big);

    /* Exactly max bytes is still accepted. */
    uint8_t exact[MAX], wire[SLIP_ENCODED_MAX(MAX)];
    memset(exact, 0x11, sizeof exact);
    size_t wn = slip_encode(exact, MAX, wire), used = 0;
    CHECK_EQ_INT(slip_dec_feed(&d, wire, wn, &used), 1);
    CHECK_EQ_INT(d.len, MAX);
    slip_dec_free(&d);
}

static void test_invalid_escape(void)
{
    /* DB followed by 0x01 is not a valid escape: the whole frame is dropped and the next
     * one decodes. */
    const uint8_t wire[] = {0xC0, 0x01, 0xDB, 0x01, 0x02, 0xC0, 0xC0, 0x03, 0xDB, 0xDC, 0xC0};
    slip_decoder d;
    decode_one(&d, 64, wire, sizeof wire, (const uint8_t[]){0x03, 0xC0}, 2);
    CHECK_EQ_INT(d.dropped_frames, 1);
    slip_dec_free(&d);
}

static void test_split_feed(void)
{
    uint8_t payload[200];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = i % 4 == 0 ? 0xC0 : i % 4 == 1 ? 0xDB : (uint8_t)i; /* plenty of escapes */
    uint8_t wire[SLIP_ENCODED_MAX(200)];
    size_t n = slip_encode(payload, sizeof payload, wire);
    slip_decoder d;
    CHECK_EQ_INT(slip_dec_init(&d, 256), 0);
    int frames = 0;
    /* One byte per call: escapes and delimiters land on every possible boundary. */
    for (size_t i = 0; i < n; i++) {
        size_t used = 0;
        int r = slip_dec_feed(&d, wire + i, 1, &used);
        CHECK_EQ_INT(used, 1);
        if (r == 1) {
            frames++;
            CHECK_EQ_INT(i, n - 1);
            CHECK_EQ_INT(d.len, sizeof payload);
            CHECK_MEM(d.buf, payload, sizeof payload);
        }
    }
    CHECK_EQ_INT(frames, 1);

    /* Uneven chunks (3 bytes at a time). */
    frames = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t chunk = n - i < 3 ? n - i : 3, used = 0;
        if (slip_dec_feed(&d, wire + i, chunk, &used) == 1) {
            frames++;
            CHECK_EQ_INT(d.len, sizeof payload);
            CHECK_MEM(d.buf, payload, sizeof payload);
        }
        CHECK_EQ_INT(used, chunk);
    }
    CHECK_EQ_INT(frames, 1);
    slip_dec_free(&d);
}

static void test_two_frames_one_buffer(void)
{
    const uint8_t wire[] = {0xC0, 0x01, 0x02, 0xC0, 0xC0, 0x03, 0x04, 0x05, 0xC0};
    slip_decoder d;
    CHECK_EQ_INT(slip_dec_init(&d, 64), 0);
    size_t used = 0;
    CHECK_EQ_INT(slip_dec_feed(&d, wire, sizeof wire, &used), 1);
    CHECK_EQ_INT(used, 4); /* stopped right after the first frame */
    CHECK_EQ_INT(d.len, 2);
    CHECK_MEM(d.buf, ((const uint8_t[]){0x01, 0x02}), 2);
    size_t used2 = 0;
    CHECK_EQ_INT(slip_dec_feed(&d, wire + used, sizeof wire - used, &used2), 1);
    CHECK_EQ_INT(used + used2, sizeof wire);
    CHECK_EQ_INT(d.len, 3);
    CHECK_MEM(d.buf, ((const uint8_t[]){0x03, 0x04, 0x05}), 3);
    slip_dec_free(&d);
}

int main(void)
{
    test_encode();
    test_round_trip();
    test_noise_and_empty_frames();
    test_oversized_frame();
    test_invalid_escape();
    test_split_feed();
    test_two_frames_one_buffer();
    return check_summary("test_slip");
}

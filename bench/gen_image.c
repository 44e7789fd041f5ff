/* gen_image.c - the benchmark's firmware: one deterministic 4 MiB image of realistic
 * compressibility and a profile pinning its SHA-256.
 *
 * Layout (offsets inside the image, which lands at 0x10000):
 *   0x000000  ESP32 app header, then ~1.75 MiB of instruction-like code (.flash.text)
 *   0x1C0000  ~1 MiB of .rodata: log strings, pointer tables, small integer tables and
 *             some incompressible blobs (certificates, compressed assets)
 *   0x2C0000  256 KiB of initialised data
 *   0x300000  512 KiB of 0xFF padding (the gap up to a data partition)
 *   0x380000  512 KiB of a key/value store: 4 KiB pages, entries, erased page tails
 * Deflate keeps ~60 % of the code part, as with real ESP32 applications
 * (production-facts.md §3), far less of the padding and the store.
 *
 * A second image, bench4m_pad, keeps the first 2 MiB and pads the rest with 0xFF, as a
 * merged image padded to the flash size looks: its last compressed block expands to
 * 2 MiB, seconds of erase/program in one block.
 *
 * Usage: bench_gen_image OUTDIR STUB_JSON BAUDS
 *   writes OUTDIR/bench4m.{bin,ini} and OUTDIR/bench4m_pad.{bin,ini} (stub = STUB_JSON,
 *   baud = BAUDS, e.g. "1500000, 921600, 460800, 115200"); prints their SHA-256. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMG_SIZE (4u << 20)
#define TEXT_END 0x1C0000u
#define RODATA_END 0x2C0000u
#define DATA_END 0x300000u
#define PAD_END 0x380000u
#define PAD_SPLIT 0x200000u /* bench4m_pad: code up to here, then 0xFF */
#define IMG_OFFSET 0x10000u
/* Tuned so zlib -9 keeps ~61 % of .text and ~59 % of the whole code part. */
#define IDIOM_PCT 12 /* share of instruction slots that repeat a known idiom */
#define BLOB_PCT 2   /* share of .rodata items that are incompressible blobs */

typedef struct gen {
    uint8_t *d;
    size_t n;
    uint64_t rng;
} gen;

static uint64_t rnd(gen *g) /* splitmix64: the same bytes on every machine */
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rn(gen *g, unsigned n) { return (unsigned)(rnd(g) % n); }

/* Small values far more often than large ones (register numbers, offsets). */
static unsigned skew(gen *g, unsigned n)
{
    unsigned a = rn(g, n), b = rn(g, n);
    return a < b ? a : b;
}

static void put8(gen *g, size_t end, uint8_t v)
{
    if (g->n < end)
        g->d[g->n++] = v;
}

static void put32(gen *g, size_t end, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(g, end, (uint8_t)(v >> (8 * i)));
}

static void puts_(gen *g, size_t end, const char *s)
{
    while (*s)
        put8(g, end, (uint8_t)*s++);
}

static void header(gen *g)
{
    uint8_t h[24] = {0xE9, 4, 0x02, 0x20, 0x1C, 0x1F, 0x08, 0x40, 0xEE};
    for (int i = 0; i < 24; i++)
        put8(g, TEXT_END, h[i]);
    put32(g, TEXT_END, 0x3F400020); /* first segment: .flash.rodata load address */
    put32(g, TEXT_END, RODATA_END - TEXT_END);
}

/* Xtensa-like stream: functions open with ENTRY, then instructions drawn with a
 * Zipf-like skew from a vocabulary of concrete 3-byte and 2-byte (narrow) instructions,
 * with recurring idioms (load literal, call, move result), calls to a pool of targets
 * and literal words, as compiled C repeats itself. */
static void code(gen *g)
{
    static uint8_t ins[1024][3];
    static uint8_t idiom[96][24];
    static uint8_t idiom_len[96];
    for (int i = 0; i < 1024; i++) {
        ins[i][0] = (uint8_t)rnd(g);
        ins[i][1] = (uint8_t)rnd(g);
        ins[i][2] = (uint8_t)(skew(g, 16) << 4 | skew(g, 16));
    }
    for (int i = 0; i < 96; i++) {
        idiom_len[i] = (uint8_t)(6 + rn(g, 19));
        for (int k = 0; k < idiom_len[i]; k++)
            idiom[i][k] = ins[skew(g, 1024)][k % 3];
    }
    uint32_t calls[300];
    for (int i = 0; i < 300; i++)
        calls[i] = (uint32_t)rnd(g) & 0x3FFFF;
    while (g->n < TEXT_END) {
        put8(g, TEXT_END, 0x36); /* entry a1, frame */
        put8(g, TEXT_END, (uint8_t)(0x41 + (skew(g, 4) << 4)));
        put8(g, TEXT_END, 0x00);
        unsigned len = 8 + skew(g, 120);
        for (unsigned k = 0; k < len; k++) {
            unsigned r = rn(g, 100);
            if (r < IDIOM_PCT) {
                unsigned i = skew(g, 96);
                for (int b = 0; b < idiom_len[i]; b++)
                    put8(g, TEXT_END, idiom[i][b]);
            } else if (r < 70) {
                const uint8_t *o = ins[skew(g, 1024)];
                unsigned w = o[0] & 0x08 ? 2 : 3; /* narrow instructions are 2 bytes */
                for (unsigned b = 0; b < w; b++)
                    put8(g, TEXT_END, o[b]);
            } else if (r < 85) { /* call8 to a popular target */
                uint32_t t = calls[skew(g, 300)] - (uint32_t)(g->n >> 2);
                put8(g, TEXT_END, (uint8_t)(0x25 | (t << 6)));
                put8(g, TEXT_END, (uint8_t)(t >> 2));
                put8(g, TEXT_END, (uint8_t)(t >> 10));
            } else if (r < 97) { /* l32r: negative word offset to the literal pool */
                uint16_t off = (uint16_t)(0xFFFF - skew(g, 400));
                put8(g, TEXT_END, (uint8_t)(0x01 | skew(g, 16) << 4));
                put8(g, TEXT_END, (uint8_t)off);
                put8(g, TEXT_END, (uint8_t)(off >> 8));
            } else { /* literal words inline (between functions in real code) */
                put32(g, TEXT_END, 0x3F400000u + (rn(g, 0x40000) & ~3u));
            }
        }
        put8(g, TEXT_END, 0x1D); /* retw.n */
        put8(g, TEXT_END, 0xF0);
        while (g->n % 4)
            put8(g, TEXT_END, 0x00);
    }
}

static const char *words[] = {
    "failed", "to", "allocate", "buffer", "wifi", "connect", "timeout", "error", "init",
    "task", "queue", "semaphore", "nvs", "partition", "not", "found", "invalid", "state",
    "event", "handler", "spi", "i2c", "display", "touch", "battery", "charging", "sensor",
    "read", "write", "value", "config", "default", "mqtt", "http", "client", "server",
    "%d", "%s", "0x%08x", "bytes", "ms", "ok", "done", "retry", "reset", "boot", "ota",
    "update", "image", "checksum", "mismatch", "heap", "free", "stack", "overflow"};

static void log_string(gen *g, size_t end)
{
    static const char lv[] = "EWIDV";
    char pre[32];
    snprintf(pre, sizeof pre, "%c (%%u) %s: ", lv[skew(g, 5)],
             words[rn(g, sizeof words / sizeof words[0])]);
    puts_(g, end, pre);
    unsigned nw = 2 + rn(g, 8);
    for (unsigned i = 0; i < nw; i++) {
        puts_(g, end, words[skew(g, sizeof words / sizeof words[0])]);
        put8(g, end, i + 1 < nw ? ' ' : '\n');
    }
    put8(g, end, 0);
    while (g->n % 4)
        put8(g, end, 0);
}

static void rodata(gen *g)
{
    while (g->n < RODATA_END) {
        unsigned r = rn(g, 100);
        if (r < 45) {
            log_string(g, RODATA_END);
        } else if (r < 70) { /* pointer table: increasing addresses */
            uint32_t a = 0x3F400000u + (rn(g, 0x100000) & ~3u);
            for (unsigned i = 0, n = 4 + rn(g, 28); i < n; i++) {
                put32(g, RODATA_END, a);
                a += 4 * (1 + skew(g, 64));
            }
        } else if (r < 100 - BLOB_PCT) { /* small integer / lookup tables */
            for (unsigned i = 0, n = 16 + rn(g, 64); i < n; i++)
                put8(g, RODATA_END, (uint8_t)skew(g, 256));
        } else { /* embedded certificate / compressed asset: incompressible */
            for (unsigned i = 0, n = 128 + rn(g, 512); i < n; i++)
                put8(g, RODATA_END, (uint8_t)rnd(g));
        }
    }
}

static void data(gen *g)
{
    while (g->n < DATA_END) {
        unsigned r = rn(g, 100);
        if (r < 40) { /* zero-initialised structs with a few fields set */
            for (unsigned i = 0, n = 16 + rn(g, 200); i < n; i++)
                put8(g, DATA_END, rn(g, 6) ? 0 : (uint8_t)rnd(g));
        } else if (r < 70) {
            put32(g, DATA_END, 0x3FFB0000u + (rn(g, 0x20000) & ~3u));
        } else {
            log_string(g, DATA_END);
        }
    }
}

/* Key/value pages: a 32-byte header, 32-byte entries (namespace, key, small value),
 * an erased (0xFF) tail of varying length, as a used NVS partition looks. */
static void store(gen *g)
{
    uint32_t seq = 0;
    while (g->n < IMG_SIZE) {
        size_t page_end = g->n + 4096;
        put32(g, page_end, 0xFFFFFFFE);
        put32(g, page_end, seq++);
        while (g->n % 32)
            put8(g, page_end, 0xFF);
        unsigned entries = rn(g, 126);
        for (unsigned e = 0; e < entries; e++) {
            put8(g, page_end, (uint8_t)(1 + skew(g, 4)));
            put8(g, page_end, (uint8_t)(0x01 << skew(g, 4)));
            put8(g, page_end, 1);
            put8(g, page_end, 0xFF);
            put32(g, page_end, (uint32_t)rnd(g)); /* crc */
            char key[16] = {0}; /* NUL-padded: every byte deterministic */
            snprintf(key, sizeof key, "%s%u", words[rn(g, 20)], skew(g, 32));
            for (int i = 0; i < 16; i++)
                put8(g, page_end, (uint8_t)key[i]);
            put32(g, page_end, skew(g, 1000));
            put32(g, page_end, 0xFFFFFFFF);
        }
        while (g->n < page_end)
            put8(g, page_end, 0xFF);
    }
}

static int write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "bench_gen_image: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* NAME.bin and NAME.ini (pinning its SHA-256) in dir; prints "sha256  NAME.bin". */
static int write_set(const char *dir, const char *name, const char *what, const uint8_t *d,
                     size_t n, const char *stub, const char *bauds)
{
    uint8_t md[32];
    char hex[65];
    EVP_Digest(d, n, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    if (write_file(path, d, n) != 0)
        return -1;
    char ini[3072];
    int len = snprintf(ini, sizeof ini,
                       "; generated by bench/gen_image.c - benchmark firmware, not for real units\n"
                       "[profile]\nname = %s\ndescription = %s\n"
                       "chip = esp32\nflash_mode = dio\nflash_freq = 80m\nflash_size = 16MB\n"
                       "baud = %s\nstub = %s\n\n[image]\noffset = 0x%x\nfile = %s.bin\n"
                       "sha256 = %s\n",
                       name, what, bauds, stub, IMG_OFFSET, name, hex);
    snprintf(path, sizeof path, "%s/%s.ini", dir, name);
    if (len < 0 || (size_t)len >= sizeof ini || write_file(path, ini, (size_t)len) != 0)
        return -1;
    printf("%s  %s.bin (%zu bytes at 0x%x)\n", hex, name, n, IMG_OFFSET);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_gen_image OUTDIR STUB_JSON BAUDS\n");
        return 2;
    }
    const char *dir = argv[1], *stub = argv[2], *bauds = argv[3];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_gen_image: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    gen g = {.d = malloc(IMG_SIZE), .rng = 0xBE4C4D4A5EEDull};
    if (!g.d)
        return 1;
    header(&g);
    code(&g);
    rodata(&g);
    data(&g);
    memset(g.d + g.n, 0xFF, PAD_END - g.n);
    g.n = PAD_END;
    store(&g);

    int rc = write_set(dir, "bench4m", "4 MiB code-like image with 0xFF padding (benchmark)",
                       g.d, g.n, stub, bauds);
    /* The same code, padded with 0xFF to 4 MiB: a merged image whose last compressed
     * block expands to 2 MiB, i.e. seconds of erase/program in one block. */
    memset(g.d + PAD_SPLIT, 0xFF, IMG_SIZE - PAD_SPLIT);
    if (rc == 0)
        rc = write_set(dir, "bench4m_pad", "2 MiB of code padded with 0xFF to 4 MiB (benchmark)",
                       g.d, g.n, stub, bauds);
    free(g.d);
    return rc == 0 ? 0 : 1;
}

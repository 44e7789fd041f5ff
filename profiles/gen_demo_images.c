/* gen_demo_images.c - write the deterministic demo firmware the tests and the simulator
 * flash: an ESP32 bootloader, the Arduino 16 MB partition table, an app of realistic
 * size and compressibility, a fake stub JSON (ours, not Espressif's: random bytes at the
 * real addresses so hosts switch to stub mode), and the profiles demo.ini / demo-rom.ini.
 * Usage: gen_demo_images OUTDIR   (writes OUTDIR/demo.ini, OUTDIR/demo-rom.ini, OUTDIR/demo/) */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    uint8_t *d;
    size_t n, cap;
} buf;

static uint64_t rng_state = 0x5EED0E5932C0FFEEull;

static uint64_t rnd(void) /* splitmix64: fixed seed, same bytes on every machine */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 4096;
        b->d = realloc(b->d, b->cap);
        if (!b->d) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put8(buf *b, uint8_t v) { put(b, &v, 1); }

static void put32(buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, p, 4);
}

/* Instruction-like bytes: a skewed vocabulary of 2- and 3-byte opcodes with random
 * register fields, literal words from a small address pool and repeated prologues.
 * Tuned so deflate keeps roughly 55-65 % of the bytes, like real ESP32 code. */
static void gen_code(buf *b, size_t n)
{
    static uint8_t ops[256][3];
    static uint32_t lits[512];
    static int init;
    if (!init) {
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 3; j++)
                ops[i][j] = (uint8_t)rnd();
        for (int i = 0; i < 512; i++)
            lits[i] = (i & 1 ? 0x400D0000u : 0x3FFB0000u) + (uint32_t)(rn(0x40000) & ~3u);
        init = 1;
    }
    size_t end = b->n + n;
    while (b->n < end) {
        unsigned r = rn(100);
        if (r < 8) { /* function prologue/epilogue shapes recur verbatim */
            static const uint8_t pro[] = {0x36, 0x41, 0x00, 0x0c, 0x02, 0x1d, 0xf0, 0x36, 0x61, 0x00};
            put(b, pro, sizeof pro);
        } else if (r < 20) {
            put32(b, lits[rn(rn(512) + 1)]);
        } else {
            /* Zipf-like: low indexes far more common. */
            unsigned k = rn(rn(rn(256) + 1) + 1);
            uint8_t ins[3] = {ops[k][0], (uint8_t)(ops[k][1] ^ (rn(16) << (rn(2) * 4))), ops[k][2]};
            if (rn(3) == 0)
                ins[2] = (uint8_t)rnd();
            put(b, ins, (k & 1) ? 2 : 3);
        }
    }
    b->n = end;
}

/* Strings and tables, as in .rodata: much more compressible than code. */
static void gen_rodata(buf *b, size_t n)
{
    static const char *const words[] = {
        "wifi", "connect", "error", "failed", "task", "heap", "init", "%s", "%d", "0x%08x", "esp",
        "nvs", "partition", "timer", "queue", "mutex", "gpio", "i2c", "spi", "uart", "lcd", "touch",
        "axp192", "power", "battery", "display", "sensor", "ble", "event", "handler", "state",
        "config", "not", "found", "invalid", "arg", "ok", "M5", "Core2", "core", "loop", "setup",
        "free", "alloc", "bytes", "buffer", "overflow", "assert", "line", "file", "/src/", ".cpp"};
    const size_t nw = sizeof words / sizeof words[0];
    size_t end = b->n + n;
    while (b->n < end) {
        unsigned r = rn(10);
        if (r < 6) {
            int nwords = 2 + (int)rn(6);
            for (int i = 0; i < nwords; i++) {
                const char *w = words[rn(rn((unsigned)nw) + 1)];
                put(b, w, strlen(w));
                put8(b, i + 1 < nwords ? ' ' : 0);
            }
        } else if (r < 8) {
            for (int i = 0; i < 8; i++)
                put8(b, (uint8_t)rnd());
        } else {
            for (int i = 0; i < 4; i++)
                put32(b, 0x3F400000u + rn(0x40000) * 4);
        }
    }
    b->n = end;
}

/* The app's esp_app_desc_t, as ESP-IDF puts it at the start of the first (DROM) segment:
 * magic, secure_version, reserved, version[32], project_name[32], time, date, idf_ver,
 * elf sha256, reserved: 256 bytes. The simulator prints what it finds there. */
static const char *g_project = "demo", *g_version = "1.4.2";

static void gen_app_desc(buf *b)
{
    uint8_t d[256] = {0};
    const uint32_t magic = 0xABCD5432u;
    for (int i = 0; i < 4; i++)
        d[i] = (uint8_t)(magic >> (8 * i));
    strncpy((char *)d + 16, g_version, 31);
    strncpy((char *)d + 48, g_project, 31);
    memcpy(d + 80, "00:00:00", 8);
    memcpy(d + 96, "Jan  1 2026", 11);
    memcpy(d + 112, "v4.4.6", 6);
    put(b, d, sizeof d);
}

/* First app segment: the app description, then .rodata. */
static void gen_drom(buf *b, size_t n)
{
    gen_app_desc(b);
    gen_rodata(b, n - 256);
}

static void gen_random(buf *b, size_t n)
{
    while (n--)
        put8(b, (uint8_t)rnd());
}

typedef struct {
    uint32_t addr;
    size_t len;
    void (*fill)(buf *, size_t);
} seg;

/* An ESP32 image: header, extended header (hash appended), segments, checksum byte at
 * the end of a 16-byte block, SHA-256 of everything before it. */
static void gen_image(buf *b, uint8_t mode, uint8_t size_freq, uint32_t entry, const seg *s, int nseg)
{
    put8(b, 0xE9);
    put8(b, (uint8_t)nseg);
    put8(b, mode);
    put8(b, size_freq);
    put32(b, entry);
    uint8_t ext[16] = {0xEE, 0, 0, 0, /* chip id */ 0, 0, /* min rev */ 0, 0, 0, 0xFF, 0xFF};
    ext[15] = 1; /* SHA-256 appended */
    put(b, ext, sizeof ext);
    uint8_t sum = 0xEF;
    for (int i = 0; i < nseg; i++) {
        put32(b, s[i].addr);
        put32(b, (uint32_t)s[i].len);
        size_t at = b->n;
        s[i].fill(b, s[i].len);
        for (size_t j = 0; j < s[i].len; j++)
            sum ^= b->d[at + j];
    }
    while (b->n % 16 != 15)
        put8(b, 0);
    put8(b, sum);
    uint8_t md[32];
    EVP_Digest(b->d, b->n, md, NULL, EVP_sha256(), NULL);
    put(b, md, 32);
}

static void gen_partitions(buf *b)
{
    static const struct {
        const char *name;
        uint8_t type, sub;
        uint32_t off, size;
    } parts[] = {
        {"nvs", 1, 0x02, 0x9000, 0x5000},         {"otadata", 1, 0x00, 0xE000, 0x2000},
        {"app0", 0, 0x10, 0x10000, 0x640000},     {"app1", 0, 0x11, 0x650000, 0x640000},
        {"spiffs", 1, 0x82, 0xC90000, 0x360000},  {"coredump", 1, 0x03, 0xFF0000, 0x10000},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char label[16] = {0};
        strncpy(label, parts[i].name, sizeof label - 1);
        put8(b, 0xAA);
        put8(b, 0x50);
        put8(b, parts[i].type);
        put8(b, parts[i].sub);
        put32(b, parts[i].off);
        put32(b, parts[i].size);
        put(b, label, 16);
        put32(b, 0); /* flags */
    }
    uint8_t md[16];
    EVP_Digest(b->d, b->n, md, NULL, EVP_md5(), NULL);
    put8(b, 0xEB);
    put8(b, 0xEB);
    for (int i = 0; i < 14; i++)
        put8(b, 0xFF);
    put(b, md, 16);
    while (b->n < 0xC00)
        put8(b, 0xFF);
}

static void write_file(const char *dir, const char *name, const void *d, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "gen_demo_images: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void sha_hex(const buf *b, char out[65])
{
    uint8_t md[32];
    EVP_Digest(b->d, b->n, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static char *b64(const buf *b)
{
    char *s = malloc(4 * ((b->n + 2) / 3) + 1);
    if (!s)
        exit(1);
    EVP_EncodeBlock((unsigned char *)s, b->d, (int)b->n);
    return s;
}

/* Every demo profile checks that the unit boots the demo app and records its version. */
#define DEMO_BOOT_CHECK                                                                        \
    "\n[boot_check]\nbaud = 115200\nexpect = ^demo v([0-9]+\\.[0-9]+\\.[0-9]+) ready$\n"       \
    "timeout = 5\ncapture = version\n"

static void write_profile(const char *outdir, const char *name, const char *desc, int with_stub,
                          const char *const files[3], const uint32_t offs[3], char sums[3][65],
                          const char *extra)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ini", outdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen_demo_images: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fprintf(f, "; generated by profiles/gen_demo_images.c - demo firmware, not for real units\n"
               "[profile]\nname = %s\ndescription = %s\nchip = esp32\nflash_mode = dio\n"
               "flash_freq = 80m\nflash_size = 16MB\nbaud = 1500000, 921600, 460800, 115200\n",
            name, desc);
    if (with_stub)
        fprintf(f, "stub = demo/stub.json\n");
    for (int i = 0; i < 3; i++)
        fprintf(f, "\n[image]\noffset = 0x%x\nfile = demo/%s\nsha256 = %s\n", offs[i], files[i], sums[i]);
    fprintf(f, "%s%s", DEMO_BOOT_CHECK, extra ? extra : "");
    if (fclose(f) != 0)
        exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_demo_images OUTDIR\n");
        return 2;
    }
    const char *outdir = argv[1];
    char demodir[1024];
    snprintf(demodir, sizeof demodir, "%s/demo", outdir);
    if ((mkdir(outdir, 0755) && errno != EEXIST) || (mkdir(demodir, 0755) && errno != EEXIST)) {
        fprintf(stderr, "gen_demo_images: cannot create %s: %s\n", demodir, strerror(errno));
        return 1;
    }

    /* Built for 2MB/40m DIO, as IDF's defaults: the profile's 16MB/80m forces a header patch. */
    buf bl = {0}, pt = {0}, app = {0}, text = {0}, data = {0};
    const seg bl_segs[] = {{0x3FFF0030, 0x0A40, gen_rodata},
                           {0x40078000, 0x3A00, gen_code},
                           {0x40080400, 0x1C20, gen_code}};
    gen_image(&bl, 0x02, 0x10, 0x40080680, bl_segs, 3);

    gen_partitions(&pt);

    const seg app_segs[] = {{0x3F400020, 0x3C000, gen_drom},
                            {0x3FFBDB60, 0x4400, gen_random},
                            {0x40080000, 0x14000, gen_code},
                            {0x400D0020, 0xD2000, gen_code}};
    gen_image(&app, 0x02, 0x4F, 0x40081F2C, app_segs, 4);
    /* Trailing erased-flash filler as some build tools leave it: pad to 64 KiB. */
    while (app.n % 0x10000)
        put8(&app, 0xFF);

    /* Another product's firmware (valid image, other project/version): flashed by
     * demo-wrong.ini, it boots but never prints the demo's banner. */
    buf other = {0};
    g_project = "other-fw";
    g_version = "9.9.9";
    const seg other_segs[] = {{0x3F400020, 0x4000, gen_drom}, {0x400D0020, 0x8000, gen_code}};
    gen_image(&other, 0x02, 0x4F, 0x400D0100, other_segs, 2);

    gen_random(&text, 3532);
    gen_random(&data, 156);

    write_file(demodir, "bootloader.bin", bl.d, bl.n);
    write_file(demodir, "partitions.bin", pt.d, pt.n);
    write_file(demodir, "app.bin", app.d, app.n);
    write_file(demodir, "app-other.bin", other.d, other.n);

    char *t64 = b64(&text), *d64 = b64(&data);
    char json_path[1100];
    snprintf(json_path, sizeof json_path, "%s/stub.json", demodir);
    FILE *j = fopen(json_path, "w");
    if (!j)
        return 1;
    fprintf(j,
            "{\n  \"entry\": %u,\n  \"text\": \"%s\",\n  \"text_start\": %u,\n  \"data\": \"%s\",\n"
            "  \"data_start\": %u,\n  \"bss_start\": %u\n}\n",
            0x400BE5ECu, t64, 0x400BE000u, d64, 0x3FFDEBA8u, 0x3FFCC000u);
    if (fclose(j) != 0)
        return 1;

    const char *const files[3] = {"bootloader.bin", "partitions.bin", "app.bin"};
    const uint32_t offs[3] = {0x1000, 0x8000, 0x10000};
    char sums[3][65];
    sha_hex(&bl, sums[0]);
    sha_hex(&pt, sums[1]);
    sha_hex(&app, sums[2]);
    write_profile(outdir, "demo", "Generated demo firmware, flashed through a (fake) stub", 1, files,
                  offs, sums, NULL);
    write_profile(outdir, "demo-rom", "Generated demo firmware, flashed through the ROM loader", 0,
                  files, offs, sums, NULL);
    /* Each unit gets its own NVS partition (the table's nvs at 0x9000): a serial number
     * from the station's database and values made from its MAC. */
    write_profile(outdir, "demo-prov", "Generated demo firmware with per-unit NVS provisioning", 1,
                  files, offs, sums,
                  "\n[provision]\npartition = nvs\nnamespace = factory\n"
                  "serial = DEMO-{year}{seq:05}\nserial_no = string:{serial}\n"
                  "name = string:demo-{mac_suffix}\nmac = string:{mac}\nhw_rev = u8:2\n");
    /* The wrong firmware for the board: it verifies, boots, and fails the boot check. */
    const char *const wrong_files[3] = {"bootloader.bin", "partitions.bin", "app-other.bin"};
    char wrong_sums[3][65];
    memcpy(wrong_sums, sums, sizeof wrong_sums);
    sha_hex(&other, wrong_sums[2]);
    write_profile(outdir, "demo-wrong", "Another product's firmware: fails the demo's boot check", 1,
                  wrong_files, offs, wrong_sums, NULL);
    free(other.d);

    free(bl.d);
    free(pt.d);
    free(app.d);
    free(text.d);
    free(data.d);
    free(t64);
    free(d64);
    return 0;
}

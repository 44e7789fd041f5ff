/* test_image.c - image preparation: bootloader header patch (and appended SHA-256
 * recomputed), padding, MD5, the zlib stream, the on-disk stream cache, the demo profiles. */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "image.h"
#include "image_cache.h"

static char dir[256];

typedef struct {
    uint8_t d[8192];
    size_t n;
    size_t dlen; /* checksummed length (header .. checksum byte) */
} img;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* A small well-formed ESP32 image: 2 segments, checksum, optional appended SHA-256. */
static void build_image(img *im, uint8_t mode, uint8_t size_freq, int hash)
{
    memset(im, 0, sizeof *im);
    uint8_t *d = im->d;
    d[0] = 0xE9;
    d[1] = 2;
    d[2] = mode;
    d[3] = size_freq;
    put32(d + 4, 0x40080400);
    d[8] = 0xEE;
    d[23] = (uint8_t)hash;
    size_t pos = 24;
    uint8_t sum = 0xEF;
    const size_t lens[2] = {100, 312};
    for (int s = 0; s < 2; s++) {
        put32(d + pos, s ? 0x40078000 : 0x3FFF0030);
        put32(d + pos + 4, (uint32_t)lens[s]);
        pos += 8;
        for (size_t i = 0; i < lens[s]; i++) {
            d[pos] = (uint8_t)(i * 31 + s);
            sum ^= d[pos++];
        }
    }
    while (pos % 16 != 15)
        pos++;
    d[pos++] = sum;
    im->dlen = pos;
    if (hash) {
        EVP_Digest(d, pos, d + pos, NULL, EVP_sha256(), NULL);
        pos += 32;
    }
    im->n = pos;
}

static void write_bin(const char *name, const void *d, size_t n, char *path_out)
{
    snprintf(path_out, ST_PATH_MAX, "%s/%s", dir, name);
    FILE *f = fopen(path_out, "wb");
    if (!f || fwrite(d, 1, n, f) != n) {
        perror(path_out);
        exit(1);
    }
    fclose(f);
}

static void base_profile(st_profile *p, const char *mode, const char *freq, uint32_t size)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "t");
    snprintf(p->chip, sizeof p->chip, "esp32");
    snprintf(p->flash_mode, sizeof p->flash_mode, "%s", mode);
    snprintf(p->flash_freq, sizeof p->flash_freq, "%s", freq);
    p->flash_size = size;
    p->bauds[0] = 921600;
    p->n_bauds = 1;
    snprintf(p->path, sizeof p->path, "%s/t.ini", dir);
}

static void add_image(st_profile *p, uint32_t off, const char *name, const void *d, size_t n)
{
    st_profile_image *pi = &p->images[p->n_images++];
    pi->offset = off;
    pi->line = 10 + p->n_images;
    write_bin(name, d, n, pi->path);
    EVP_Digest(d, n, pi->sha256, NULL, EVP_sha256(), NULL);
}

/* A profile (flash mode, freq, size) with the one image d/n at off, written to DIR/name,
 * prepared into fw without a cache. False when that failed (a failed check). */
static bool prepare_one(const char *mode, const char *freq, uint32_t size, uint32_t off,
                        const char *name, const void *d, size_t n, st_fwset *fw)
{
    st_profile p;
    base_profile(&p, mode, freq, size);
    add_image(&p, off, name, d, n);
    st_err e;
    if (CHECK_EQ_INT(st_fwset_prepare(&p, NULL, fw, &e), 0))
        return true;
    fprintf(stderr, "  %s\n", e.msg);
    return false;
}

/* Properties every prepared image must have. */
static void check_common(const st_image *im, const void *file, size_t file_len)
{
    uint8_t md[32];
    CHECK_EQ_INT(im->len % 4, 0);
    CHECK_EQ_INT(im->len, (file_len + 3) & ~(size_t)3);
    for (size_t i = file_len; i < im->len; i++)
        CHECK_EQ_INT(im->data[i], 0xFF);
    EVP_Digest(file, file_len, md, NULL, EVP_sha256(), NULL);
    CHECK_MEM(im->sha256, md, 32);
    EVP_Digest(im->data, im->len, md, NULL, EVP_md5(), NULL);
    CHECK_MEM(im->md5, md, 16);
    /* The stream inflates (plain zlib) back to the landing bytes. */
    uLongf out_len = im->len + 16;
    uint8_t *out = malloc(out_len);
    CHECK_EQ_INT(uncompress(out, &out_len, im->zdata, im->zlen), Z_OK);
    CHECK_EQ_INT(out_len, im->len);
    if (out_len == im->len)
        CHECK_MEM(out, im->data, im->len);
    free(out);
    /* libdeflate at level 12 is never worse than zlib -9, which the report quotes. */
    uLongf z9 = compressBound(im->len);
    uint8_t *zb = malloc(z9);
    CHECK_EQ_INT(compress2(zb, &z9, im->data, im->len, 9), Z_OK);
    CHECK_EQ_INT(im->zlen_zlib9, z9);
    CHECK(im->zlen <= im->zlen_zlib9);
    free(zb);
}

static void test_header_patch(void)
{
    img bl;
    build_image(&bl, 0 /* qio */, 0x20 /* 4MB, 40m */, 1);
    st_fwset fw;
    if (!prepare_one("dio", "80m", 16u << 20, 0x1000, "bl.bin", bl.d, bl.n, &fw))
        return;
    uint8_t want[8192];
    memcpy(want, bl.d, bl.n);
    want[2] = 0x02; /* dio */
    want[3] = 0x4F; /* 16MB << 4 | 80m */
    EVP_Digest(want, bl.dlen, want + bl.dlen, NULL, EVP_sha256(), NULL);
    CHECK_EQ_INT(fw.n, 1);
    CHECK_EQ_INT(fw.img[0].len, bl.n);
    CHECK_MEM(fw.img[0].data, want, bl.n);
    CHECK(memcmp(want + bl.dlen, bl.d + bl.dlen, 32) != 0); /* the digest really changed */
    CHECK_STR(fw.img[0].warning, "");
    check_common(&fw.img[0], bl.d, bl.n);
    CHECK_EQ_INT(fw.has_stub, 0);
    CHECK_EQ_INT(fw.total_len, bl.n);
    CHECK_EQ_INT(fw.total_zlen, fw.img[0].zlen);
    st_fwset_free(&fw);
    CHECK(fw.img[0].data == NULL && fw.n == 0);
}

static void test_keep_fields(void)
{
    img bl;
    build_image(&bl, 3 /* dout */, 0x2F /* 4MB, 80m */, 1);
    st_fwset fw;
    if (!prepare_one("keep", "keep", 2u << 20, 0x1000, "keep.bin", bl.d, bl.n, &fw))
        return;
    CHECK_EQ_INT(fw.img[0].data[2], 3);
    CHECK_EQ_INT(fw.img[0].data[3], 0x1F); /* only the size nibble changes */
    uint8_t md[32];
    EVP_Digest(fw.img[0].data, bl.dlen, md, NULL, EVP_sha256(), NULL);
    CHECK_MEM(fw.img[0].data + bl.dlen, md, 32);
    st_fwset_free(&fw);
}

/* No digest appended: header patched, bytes after it untouched; odd length padded. */
static void test_patch_no_hash_and_padding(void)
{
    img bl;
    build_image(&bl, 2, 0x10, 0);
    bl.d[bl.n++] = 0x5A; /* two stray trailing bytes: the landing must be padded to 4 */
    bl.d[bl.n++] = 0xA5;
    st_fwset fw;
    if (!prepare_one("qout", "26m", 8u << 20, 0x1000, "nohash.bin", bl.d, bl.n, &fw))
        return;
    uint8_t want[8192];
    memcpy(want, bl.d, bl.n);
    want[2] = 1;
    want[3] = 0x31;
    memset(want + bl.n, 0xFF, 2);
    CHECK_EQ_INT(fw.img[0].len, bl.n + 2);
    CHECK_MEM(fw.img[0].data, want, bl.n + 2);
    check_common(&fw.img[0], bl.d, bl.n);
    st_fwset_free(&fw);
}

/* Images that do not parse keep their bytes and carry a warning; E9 elsewhere is data. */
static void test_left_unpatched(void)
{
    struct {
        const char *name;
        uint32_t offset;
        int mutate; /* 0 bad checksum, 1 bad digest, 2 not E9, 3 E9 at 0x8000, 4 truncated */
        const char *warn;
    } cases[] = {{"badsum.bin", 0x1000, 0, "checksum"},
                 {"baddigest.bin", 0x1000, 1, "SHA-256"},
                 {"note9.bin", 0x1000, 2, "0xE9"},
                 {"elsewhere.bin", 0x8000, 3, NULL},
                 {"truncated.bin", 0x1000, 4, "past the end"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        img bl;
        build_image(&bl, 0, 0x20, 1);
        if (cases[c].mutate == 0)
            bl.d[bl.dlen - 1] ^= 0x01;
        else if (cases[c].mutate == 1)
            bl.d[bl.n - 1] ^= 0x01;
        else if (cases[c].mutate == 2)
            bl.d[0] = 0xEA;
        else if (cases[c].mutate == 4)
            bl.n = 200;
        st_fwset fw;
        if (!prepare_one("dio", "80m", 16u << 20, cases[c].offset, cases[c].name, bl.d, bl.n,
                         &fw))
            continue;
        CHECK_MEM(fw.img[0].data, bl.d, bl.n);
        if (cases[c].warn) {
            CHECK_CONTAINS(fw.img[0].warning, cases[c].warn);
            CHECK_CONTAINS(fw.img[0].warning, "left as shipped");
        } else {
            CHECK_STR(fw.img[0].warning, "");
        }
        st_fwset_free(&fw);
    }
}

static void test_small_blob_padding(void)
{
    uint8_t blob[1001];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i % 7);
    st_fwset fw;
    if (!prepare_one("dio", "80m", 4u << 20, 0x8000, "blob.bin", blob, sizeof blob, &fw))
        return;
    CHECK_EQ_INT(fw.img[0].len, 1004);
    CHECK_MEM(fw.img[0].data, blob, sizeof blob);
    check_common(&fw.img[0], blob, sizeof blob);
    st_fwset_free(&fw);
}

static void test_file_changed(void)
{
    uint8_t blob[64] = {1, 2, 3};
    st_profile p;
    base_profile(&p, "dio", "80m", 4u << 20);
    add_image(&p, 0x8000, "changed.bin", blob, sizeof blob);
    blob[0] = 9;
    char path[ST_PATH_MAX];
    write_bin("changed.bin", blob, sizeof blob, path);
    st_fwset fw;
    st_err e;
    CHECK_EQ_INT(st_fwset_prepare(&p, NULL, &fw, &e), -1);
    CHECK_EQ_INT(e.cat, ST_E_PROFILE);
    CHECK_EQ_INT(e.fclass, ST_FC_CONFIG);
    CHECK_CONTAINS(e.msg, "SHA-256 mismatch");
    CHECK_CONTAINS(e.msg, "changed.bin");
    CHECK(fw.img[0].data == NULL);
}

/* The single cache file in cache_dir: its path and comp id (from "<sha>-<id>.zc"). */
static int cache_file(const char *cache_dir, char *path, char *comp_id)
{
    DIR *d = opendir(cache_dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 68 && strcmp(de->d_name + l - 3, ".zc") == 0) {
            n++;
            snprintf(path, 600, "%s/%s", cache_dir, de->d_name);
            snprintf(comp_id, 64, "%.*s", (int)(l - 65 - 3), de->d_name + 65);
        }
    }
    if (d)
        closedir(d);
    return n;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n)
        *n = 0;
    fclose(f);
    return b;
}

static void test_cache(void)
{
    char cache[300], path[600], comp[64];
    snprintf(cache, sizeof cache, "%s/cache", dir); /* does not exist yet: prepare creates it */
    static uint8_t blob[40000];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)((i * i) >> 7);
    st_profile p;
    base_profile(&p, "dio", "80m", 4u << 20);
    add_image(&p, 0x10000, "cached.bin", blob, sizeof blob);
    st_fwset fw;
    st_err e;
    if (!CHECK_EQ_INT(st_fwset_prepare(&p, cache, &fw, &e), 0))
        return;
    size_t zlen = fw.img[0].zlen;
    uint8_t *z = malloc(zlen);
    memcpy(z, fw.img[0].zdata, zlen);
    st_fwset_free(&fw);
    if (!CHECK_EQ_INT(cache_file(cache, path, comp), 1))
        return;
    size_t n1, n2;
    uint8_t *c1 = slurp(path, &n1);
    struct stat st1, st2;
    stat(path, &st1);

    /* Second prepare: a hit, the file is neither rewritten nor changed. */
    CHECK_EQ_INT(st_fwset_prepare(&p, cache, &fw, &e), 0);
    CHECK_EQ_INT(fw.img[0].zlen, zlen);
    CHECK_MEM(fw.img[0].zdata, z, zlen);
    st_fwset_free(&fw);
    uint8_t *c2 = slurp(path, &n2);
    stat(path, &st2);
    CHECK_EQ_INT(n2, n1);
    CHECK_MEM(c2, c1, n1);
    CHECK_EQ_INT(st2.st_ino, st1.st_ino);
    free(c2);

    /* Proof the stream comes from the cache: plant a different valid stream (level 1). */
    uint8_t key[32];
    EVP_Digest(blob, sizeof blob, key, NULL, EVP_sha256(), NULL); /* 40000 % 4 == 0: no padding */
    uLongf l1 = compressBound(sizeof blob);
    uint8_t *z1 = malloc(l1);
    compress2(z1, &l1, blob, sizeof blob, 1);
    CHECK(l1 != zlen);
    CHECK_EQ_INT(st_zcache_store(cache, comp, key, sizeof blob, z1, l1, 12345), 0);
    CHECK_EQ_INT(st_fwset_prepare(&p, cache, &fw, &e), 0);
    CHECK_EQ_INT(fw.img[0].zlen, l1);
    CHECK_MEM(fw.img[0].zdata, z1, l1);
    CHECK_EQ_INT(fw.img[0].zlen_zlib9, 12345);
    st_fwset_free(&fw);

    /* A corrupt cache file (one stream byte flipped, then a truncated one) is ignored and
     * rewritten with the real stream. */
    for (int round = 0; round < 2; round++) {
        size_t n;
        uint8_t *c = slurp(path, &n);
        FILE *f = fopen(path, "wb");
        if (round == 0) {
            c[n - 20] ^= 0x40;
            fwrite(c, 1, n, f);
        } else {
            fwrite(c, 1, n / 2, f);
        }
        fclose(f);
        free(c);
        CHECK_EQ_INT(st_fwset_prepare(&p, cache, &fw, &e), 0);
        CHECK_EQ_INT(fw.img[0].zlen, zlen);
        CHECK_MEM(fw.img[0].zdata, z, zlen);
        check_common(&fw.img[0], blob, sizeof blob);
        st_fwset_free(&fw);
        uint8_t *c3 = slurp(path, &n2);
        CHECK_EQ_INT(n2, n1);
        CHECK_MEM(c3, c1, n1);
        free(c3);
    }
    CHECK_EQ_INT(cache_file(cache, path, comp), 1); /* no temp files left behind */
    free(c1);
    free(z1);
    free(z);
}

static void test_demo(void)
{
    char cache[300];
    snprintf(cache, sizeof cache, "%s/democache", dir);
    st_profile p;
    st_err e;
    st_fwset fw, rom;
    if (!CHECK_EQ_INT(st_profile_load(ST_DEMO_PROFILE, &p, &e), 0)) {
        fprintf(stderr, "  %s\n", e.msg);
        return;
    }
    CHECK_STR(p.name, "demo");
    CHECK_EQ_INT(p.n_images, 3);
    if (!CHECK_EQ_INT(st_fwset_prepare(&p, cache, &fw, &e), 0)) {
        fprintf(stderr, "  %s\n", e.msg);
        return;
    }
    const st_image *bl = &fw.img[0], *pt = &fw.img[1], *app = &fw.img[2];
    CHECK_EQ_INT(bl->offset, 0x1000);
    CHECK_EQ_INT(bl->data[2], 0x02);
    CHECK_EQ_INT(bl->data[3], 0x4F);
    CHECK_STR(bl->warning, "");
    uint8_t md[32];
    EVP_Digest(bl->data, bl->len - 32, md, NULL, EVP_sha256(), NULL);
    CHECK_MEM(bl->data + bl->len - 32, md, 32);
    CHECK(bl->len > 20000 && bl->len < 30000);
    /* Partition table: first entry magic AA 50, MD5 entry EB EB over the entries before it. */
    CHECK_EQ_INT(pt->data[0], 0xAA);
    CHECK_EQ_INT(pt->data[1], 0x50);
    CHECK_EQ_INT(pt->data[6 * 32], 0xEB);
    EVP_Digest(pt->data, 6 * 32, md, NULL, EVP_md5(), NULL);
    CHECK_MEM(pt->data + 6 * 32 + 16, md, 16);
    /* App: ~1.2 MB, compresses like real code. */
    CHECK(app->len > 1100000 && app->len < 1300000);
    double ratio = (double)app->zlen / (double)app->len;
    CHECK(ratio > 0.55 && ratio < 0.65);
    CHECK(fw.has_stub);
    CHECK_EQ_INT(fw.stub.entry, 0x400BE5EC);
    CHECK_EQ_INT(fw.stub.text_start, 0x400BE000);
    CHECK_EQ_INT(fw.stub.data_start, 0x3FFDEBA8);
    CHECK(fw.stub.text_len > 1000 && fw.stub.data_len > 0);
    for (int i = 0; i < 3; i++)
        CHECK(fw.img[i].zlen <= fw.img[i].zlen_zlib9);

    if (CHECK_EQ_INT(st_profile_load(ST_DEMO_ROM_PROFILE, &p, &e), 0) &&
        CHECK_EQ_INT(st_fwset_prepare(&p, cache, &rom, &e), 0)) {
        CHECK_EQ_INT(rom.has_stub, 0);
        CHECK_EQ_INT(rom.n, 3);
        for (int i = 0; i < 3; i++) {
            CHECK_MEM(rom.img[i].md5, fw.img[i].md5, 16);
            CHECK_EQ_INT(rom.img[i].zlen, fw.img[i].zlen);
        }
        st_fwset_free(&rom);
    }
    st_fwset_free(&fw);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_image_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_header_patch();
    test_keep_fields();
    test_patch_no_hash_and_padding();
    test_left_unpatched();
    test_small_blob_padding();
    test_file_changed();
    test_cache();
    test_demo();

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_image");
}

/* test_nvs.c - the NVS v2 image writer: byte-for-byte against images made by Espressif's
 * nvs_partition_gen.py (nvs_vectors/PROVENANCE.md), and read back by a decoder written
 * here from the format description (page header, state bitmap, 32-byte entries, CRCs,
 * spans, blob index and chunks), not from the writer. */
#include "check.h"
#include "nvs_decode.h"
#include "nvs_gen.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifndef NVS_VECTORS
#error NVS_VECTORS must name the vectors folder
#endif

/* ---------------- rows of the reference CSVs ---------------- */

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

static int hexv(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Build the image from an nvs_partition_gen CSV (key,type,encoding,value; no quoting). */
static int build_from_csv(const char *name, uint32_t size, st_nvs_gen *g)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.csv", NVS_VECTORS, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    st_err err;
    char line[8192];
    int rc = st_nvs_begin(g, size, &err);
    fgets(line, sizeof line, f); /* header */
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *key = line, *type = strchr(key, ',');
        *type++ = 0;
        char *enc = strchr(type, ',');
        *enc++ = 0;
        char *val = strchr(enc, ',');
        *val++ = 0;
        if (!strcmp(type, "namespace")) {
            rc = st_nvs_namespace(g, key, &err);
            continue;
        }
        size_t n = strlen(val);
        uint8_t *bytes = NULL;
        if (!strcmp(type, "file")) {
            snprintf(path, sizeof path, "%s/%s", NVS_VECTORS, val);
            bytes = slurp(path, &n);
        }
        if (!strcmp(enc, "string"))
            rc = st_nvs_put_str(g, key, bytes ? (char *)bytes : val, &err);
        else if (!strcmp(enc, "binary"))
            rc = st_nvs_put_blob(g, key, bytes, n, &err);
        else if (!strcmp(enc, "hex2bin")) {
            uint8_t *b = malloc(n / 2 + 1);
            for (size_t i = 0; i < n / 2; i++)
                b[i] = (uint8_t)(hexv(val[2 * i]) << 4 | hexv(val[2 * i + 1]));
            rc = st_nvs_put_blob(g, key, b, n / 2, &err);
            free(b);
        } else if (!strcmp(enc, "base64")) {
            uint8_t b[256];
            int m = EVP_DecodeBlock(b, (const unsigned char *)val, (int)n);
            while (n > 0 && val[--n] == '=')
                m--;
            rc = st_nvs_put_blob(g, key, b, (size_t)m, &err);
        } else {
            st_nvs_type t = st_nvs_int_type(enc);
            rc = st_nvs_put_int(g, key, t, strtoll(val, NULL, 10), strtoull(val, NULL, 10), &err);
        }
        free(bytes);
    }
    fclose(f);
    if (rc)
        fprintf(stderr, "%s: %s\n", name, err.msg);
    return rc;
}

static void known_answer(const char *name, uint32_t size)
{
    st_nvs_gen g;
    CHECK_EQ_INT(build_from_csv(name, size, &g), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", NVS_VECTORS, name);
    size_t n = 0;
    uint8_t *want = slurp(path, &n);
    CHECK(want != NULL);
    CHECK_EQ_INT(n, size);
    if (want && n == size && g.buf) {
        if (!CHECK_MEM(st_nvs_image(&g), want, size))
            fprintf(stderr, "known answer %s differs\n", name);
    }
    free(want);
    st_nvs_free(&g);
}

static void decode_all_types(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/all_types.bin", NVS_VECTORS);
    size_t n;
    uint8_t *img = slurp(path, &n);
    static nvs_view v;
    decode(img, n, &v);
    CHECK_EQ_INT(v.errors, 0);
    const item *it;
    if ((it = find(&v, "factory", "u8max")))
        CHECK(it->type == 0x01 && it->raw == 255);
    if ((it = find(&v, "factory", "i8min")))
        CHECK(it->type == 0x11 && (int8_t)it->raw == -128);
    if ((it = find(&v, "factory", "i16min")))
        CHECK(it->type == 0x12 && (int16_t)it->raw == -32768);
    if ((it = find(&v, "factory", "u32max")))
        CHECK(it->type == 0x04 && it->raw == 0xFFFFFFFFu);
    if ((it = find(&v, "factory", "i32min")))
        CHECK(it->type == 0x14 && (int32_t)it->raw == INT32_MIN);
    if ((it = find(&v, "factory", "u64max")))
        CHECK(it->type == 0x08 && it->raw == UINT64_MAX);
    if ((it = find(&v, "factory", "i64min")))
        CHECK(it->type == 0x18 && (int64_t)it->raw == INT64_MIN);
    if ((it = find(&v, "factory", "serial")))
        CHECK(it->type == 0x21 && !strcmp((char *)it->data, "CORE2-2026000042"));
    if ((it = find(&v, "factory", "empty")))
        CHECK(it->len == 1 && it->data[0] == 0);
    if ((it = find(&v, "factory", "long_str")))
        CHECK(it->len == 201 && it->data[0] == 'A' && it->data[199] == 'A' + 199 % 26);
    if ((it = find(&v, "factory", "hexblob")))
        CHECK(it->type == 0x48 && it->len == 16 && it->data[15] == 0xff && it->chunks == 1);
    if ((it = find(&v, "factory", "b64blob")))
        CHECK(it->len == 27 && !memcmp(it->data, "Hello, NVS! This is base64.", 27));
    size_t fn;
    snprintf(path, sizeof path, "%s/blob_small.bin", NVS_VECTORS);
    uint8_t *small = slurp(path, &fn);
    if ((it = find(&v, "factory", "fileblob")))
        CHECK(it->len == fn && !memcmp(it->data, small, fn));
    free(small);
    snprintf(path, sizeof path, "%s/cert.pem", NVS_VECTORS);
    uint8_t *pem = slurp(path, &fn);
    if ((it = find(&v, "factory", "certstr")))
        CHECK(it->len == fn + 1 && !memcmp(it->data, pem, fn));
    free(pem);
    if ((it = find(&v, "other", "count")))
        CHECK(it->raw == 7);
    int ns_entries = 0;
    for (int i = 0; i < v.n; i++)
        ns_entries += v.items[i].ns == 0;
    CHECK_EQ_INT(ns_entries, 2);
    view_free(&v);
    free(img);
}

static void decode_multipage(void)
{
    st_nvs_gen g;
    CHECK_EQ_INT(build_from_csv("pages", 0x6000, &g), 0);
    static nvs_view v;
    decode(st_nvs_image(&g), 0x6000, &v);
    CHECK_EQ_INT(v.errors, 0);
    CHECK(v.pages_full >= 2);
    char path[512];
    snprintf(path, sizeof path, "%s/blob_big.bin", NVS_VECTORS);
    size_t fn;
    uint8_t *big = slurp(path, &fn);
    const item *it = find(&v, "big", "bigblob");
    if (it) {
        CHECK(it->chunks >= 3); /* 9000 bytes do not fit two pages' 4000-byte chunks */
        CHECK(it->len == fn && !memcmp(it->data, big, fn));
    }
    if ((it = find(&v, "big", "s2")))
        CHECK(it->len == 1501 && it->data[1499] == 'y');
    if ((it = find(&v, "big", "k059")))
        CHECK(it->raw == 59001);
    free(big);
    view_free(&v);
    st_nvs_free(&g);
}

static void refusals(void)
{
    st_nvs_gen g;
    st_err err;
    CHECK(st_nvs_begin(&g, 0x2000, &err) != 0);
    CHECK(st_nvs_begin(&g, 0x3001, &err) != 0);
    CHECK_EQ_INT(st_nvs_begin(&g, 0x3000, &err), 0);
    CHECK(st_nvs_put_int(&g, "early", ST_NVS_U8, 0, 1, &err) != 0); /* no namespace yet */
    CHECK_CONTAINS(err.msg, "before any namespace");
    CHECK_EQ_INT(st_nvs_namespace(&g, "ns", &err), 0);
    CHECK_EQ_INT(st_nvs_namespace(&g, "ns2", &err), 0);
    CHECK(st_nvs_namespace(&g, "ns", &err) != 0); /* reopening: refused (PROVENANCE.md) */
    CHECK_CONTAINS(err.msg, "already");
    CHECK(st_nvs_put_int(&g, "sixteen_chars_k", ST_NVS_U8, 0, 1, &err) == 0);
    CHECK(st_nvs_put_int(&g, "sixteen_chars_ke", ST_NVS_U8, 0, 1, &err) != 0);
    CHECK(st_nvs_put_int(&g, "big", ST_NVS_U8, 0, 256, &err) != 0);
    CHECK_CONTAINS(err.msg, "does not fit u8");
    CHECK(st_nvs_put_int(&g, "neg", ST_NVS_I8, -129, 0, &err) != 0);
    char *s = malloc(4001);
    memset(s, 'a', 4000);
    s[4000] = 0;
    CHECK(st_nvs_put_str(&g, "huge", s, &err) != 0);
    free(s);
    /* 0x3000 = two data pages (+ the spare): a 9000-byte blob cannot fit. */
    uint8_t *b = calloc(1, 9000);
    CHECK(st_nvs_put_blob(&g, "blob", b, 9000, &err) != 0);
    CHECK_CONTAINS(err.msg, "too small");
    free(b);
    st_nvs_free(&g);
}

int main(void)
{
    known_answer("all_types", 0x3000);
    known_answer("pages", 0x6000);
    known_answer("edge", 0x5000);
    decode_all_types();
    decode_multipage();
    refusals();
    return check_summary("nvs");
}

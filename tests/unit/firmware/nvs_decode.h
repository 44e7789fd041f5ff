/* nvs_decode.h - the tests' own NVS v2 reader, written from the format description
 * (ESP-IDF "NVS partition format": page states, header CRC over bytes 4..27, a 2-bit
 * state per entry (11 empty, 10 written, 00 erased), entry CRC over bytes 0..3 and 8..31,
 * data CRC for strings and blob chunks, BLOB_IDX naming chunk count and size), not from
 * station/firmware/nvs_gen.c. Every structural problem found is counted in errors. */
#ifndef TEST_NVS_DECODE_H
#define TEST_NVS_DECODE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct item {
    int ns;
    int type;
    char key[17];
    uint64_t raw;      /* integers: the 8 data bytes little-endian */
    uint8_t *data;     /* strings (with NUL) and reassembled blobs */
    size_t len;
    int chunks;        /* blobs: chunks found */
} item;

typedef struct nvs_view {
    item items[600];
    int n;
    int pages_used, pages_full;
    int errors;        /* CRC / structure problems found */
} nvs_view;

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0xFFFFFFFFul, p, (uInt)n);
}

static inline int entry_state(const uint8_t *page, int i)
{
    return (page[32 + i / 4] >> ((i % 4) * 2)) & 3;
}

static inline void bad(nvs_view *v, const char *what, int page, int entry)
{
    fprintf(stderr, "decoder: %s at page %d entry %d\n", what, page, entry);
    v->errors++;
}

static inline void decode(const uint8_t *img, size_t size, nvs_view *v)
{
    memset(v, 0, sizeof *v);
    struct chunk { int ns; char key[17]; int idx; uint8_t *d; size_t n; } chunks[200];
    int nch = 0;
    for (size_t pg = 0; pg < size / 4096; pg++) {
        const uint8_t *p = img + pg * 4096;
        uint32_t state = rd32(p);
        if (state == 0xFFFFFFFF) {
            for (int i = 0; i < 4096; i++)
                if (p[i] != 0xFF) {
                    bad(v, "uninitialised page not erased", (int)pg, -1);
                    break;
                }
            continue;
        }
        v->pages_used++;
        if (state == 0xFFFFFFFC)
            v->pages_full++;
        else if (state != 0xFFFFFFFE)
            bad(v, "page state", (int)pg, -1);
        if (rd32(p + 28) != crc_of(p + 4, 24))
            bad(v, "page header crc", (int)pg, -1);
        if (p[8] != 0xFE)
            bad(v, "page version", (int)pg, -1);
        for (int i = 0; i < 126;) {
            int st = entry_state(p, i);
            const uint8_t *e = p + 64 + 32 * i;
            if (st == 3) { /* empty: must be erased */
                for (int k = 0; k < 32; k++)
                    if (e[k] != 0xFF) {
                        bad(v, "empty entry not erased", (int)pg, i);
                        break;
                    }
                i++;
                continue;
            }
            if (st != 2) {
                bad(v, "entry state", (int)pg, i);
                i++;
                continue;
            }
            uint8_t c[28];
            memcpy(c, e, 4);
            memcpy(c + 4, e + 8, 24);
            if (rd32(e + 4) != crc_of(c, 28))
                bad(v, "entry crc", (int)pg, i);
            int span = e[2];
            if (span < 1 || i + span > 126) {
                bad(v, "span", (int)pg, i);
                break;
            }
            for (int k = 1; k < span; k++)
                if (entry_state(p, i + k) != 2)
                    bad(v, "data entry not marked written", (int)pg, i + k);
            char key[17] = {0};
            memcpy(key, e + 8, 16);
            int type = e[1];
            if (type == 0x21 || type == 0x42) {
                size_t n = (size_t)e[24] | (size_t)e[25] << 8;
                if (n > (size_t)(span - 1) * 32) {
                    bad(v, "data size beyond span", (int)pg, i);
                } else if (rd32(e + 28) != crc_of(e + 32, n)) {
                    bad(v, "data crc", (int)pg, i);
                }
                uint8_t *d = malloc(n ? n : 1);
                memcpy(d, e + 32, n);
                if (type == 0x21) {
                    item *it = &v->items[v->n++];
                    *it = (item){.ns = e[0], .type = type, .data = d, .len = n};
                    strcpy(it->key, key);
                    if (n == 0 || d[n - 1] != 0)
                        bad(v, "string without NUL", (int)pg, i);
                } else {
                    chunks[nch] = (struct chunk){.ns = e[0], .idx = e[3], .d = d, .n = n};
                    strcpy(chunks[nch++].key, key);
                }
            } else if (type == 0x48) {
                item *it = &v->items[v->n++];
                *it = (item){.ns = e[0], .type = type, .len = rd32(e + 24), .chunks = e[28]};
                strcpy(it->key, key);
                if (e[29] != 0)
                    bad(v, "chunk start", (int)pg, i);
            } else if ((type & 0xF0) <= 0x10 && span == 1) {
                item *it = &v->items[v->n++];
                uint64_t raw = 0;
                int w = type & 0x0F;
                for (int k = 0; k < w; k++)
                    raw |= (uint64_t)e[24 + k] << (8 * k);
                for (int k = w; k < 8; k++)
                    if (e[24 + k] != 0xFF)
                        bad(v, "integer padding", (int)pg, i);
                *it = (item){.ns = e[0], .type = type, .raw = raw};
                strcpy(it->key, key);
            } else {
                bad(v, "unknown type", (int)pg, i);
            }
            if (e[3] != 0xFF && type != 0x42)
                bad(v, "chunk index on a non-chunk", (int)pg, i);
            i += span;
        }
    }
    /* Blobs: each index collects its chunks 0..count-1 in order. */
    for (int j = 0; j < v->n; j++) {
        item *it = &v->items[j];
        if (it->type != 0x48)
            continue;
        it->data = malloc(it->len ? it->len : 1);
        size_t at = 0;
        for (int ci = 0; ci < it->chunks; ci++) {
            int found = 0;
            for (int k = 0; k < nch; k++)
                if (chunks[k].ns == it->ns && chunks[k].idx == ci && !strcmp(chunks[k].key, it->key)) {
                    if (at + chunks[k].n > it->len)
                        bad(v, "chunks longer than the blob", -1, -1);
                    else
                        memcpy(it->data + at, chunks[k].d, chunks[k].n);
                    at += chunks[k].n;
                    found = 1;
                }
            if (!found)
                bad(v, "missing blob chunk", -1, ci);
        }
        if (at != it->len)
            bad(v, "blob size differs from its chunks", -1, -1);
    }
    for (int k = 0; k < nch; k++)
        free(chunks[k].d);
}

static inline void view_free(nvs_view *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->items[i].data);
}

/* The item with key in the namespace called ns. */
static inline const item *find(const nvs_view *v, const char *ns, const char *key)
{
    int idx = -1;
    for (int i = 0; i < v->n; i++)
        if (v->items[i].ns == 0 && !strcmp(v->items[i].key, ns))
            idx = (int)v->items[i].raw;
    for (int i = 0; i < v->n; i++)
        if (v->items[i].ns == idx && idx > 0 && !strcmp(v->items[i].key, key))
            return &v->items[i];
    fprintf(stderr, "no %s/%s in the image\n", ns, key);
    return NULL;
}

#endif

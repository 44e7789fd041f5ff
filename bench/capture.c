/* capture.c - see capture.h. */
#include "capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * elem);
    if (!q) {
        fprintf(stderr, "capture: out of memory\n");
        abort();
    }
    *cap = n;
    return q;
}

void cap_add(capture *c, char kind, double t, const void *d, size_t n)
{
    c->rec = grow(c->rec, &c->caprec, c->nrec + 1, sizeof *c->rec);
    c->data = grow(c->data, &c->capdata, c->ndata + n + 1, 1);
    if (n)
        memcpy(c->data + c->ndata, d, n);
    c->rec[c->nrec++] = (cap_rec){.t = t, .off = c->ndata, .len = n, .kind = kind};
    c->ndata += n;
}

int cap_save(const capture *c, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs("BENCHCAP1\n", f);
    for (size_t i = 0; i < c->nrec; i++) {
        const cap_rec *r = &c->rec[i];
        uint8_t h[13];
        uint64_t tb;
        memcpy(&tb, &r->t, 8);
        h[0] = (uint8_t)r->kind;
        for (int k = 0; k < 8; k++)
            h[1 + k] = (uint8_t)(tb >> (8 * k));
        for (int k = 0; k < 4; k++)
            h[9 + k] = (uint8_t)((uint32_t)r->len >> (8 * k));
        fwrite(h, 1, sizeof h, f);
        fwrite(c->data + r->off, 1, r->len, f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int cap_load(capture *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char magic[10];
    int rc = -1;
    if (fread(magic, 1, 10, f) != 10 || memcmp(magic, "BENCHCAP1\n", 10) != 0) {
        fprintf(stderr, "%s: not a benchmark capture\n", path);
        goto out;
    }
    uint8_t h[13];
    while (fread(h, 1, sizeof h, f) == sizeof h) {
        uint64_t tb = 0;
        uint32_t len = 0;
        for (int k = 0; k < 8; k++)
            tb |= (uint64_t)h[1 + k] << (8 * k);
        for (int k = 0; k < 4; k++)
            len |= (uint32_t)h[9 + k] << (8 * k);
        double t;
        memcpy(&t, &tb, 8);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf || fread(buf, 1, len, f) != len) {
            free(buf);
            fprintf(stderr, "%s: truncated record\n", path);
            goto out;
        }
        cap_add(c, (char)h[0], t, buf, len);
        free(buf);
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

void cap_free(capture *c)
{
    free(c->rec);
    free(c->data);
    *c = (capture){0};
}

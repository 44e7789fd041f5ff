/* image_cache.c - on-disk cache of compressed image streams (see image_cache.h). */
#include "image_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "esp_proto.h"
#include "image.h"

#define CACHE_MAGIC "STZCACHE"
#define CACHE_VERSION 1u
#define CACHE_HDR 72 /* magic 8, version 4, reserved 4, len 8, zlen 8, zlen9 8, key 32 */

static void put64(uint8_t *p, uint64_t v)
{
    esp_put32(p, (uint32_t)v);
    esp_put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p) { return esp_le32(p) | (uint64_t)esp_le32(p + 4) << 32; }

int st_zcache_path(const char *dir, const char *comp_id, const uint8_t key[32], char *out, size_t cap)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    int n = snprintf(out, cap, "%s/%s-%s.zc", dir, hex, comp_id);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int st_zlib_matches(const uint8_t *z, size_t zlen, const uint8_t *data, size_t len,
                    uint32_t *marks)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK)
        return 0;
    uint8_t buf[65536];
    size_t done = 0, fed = 0;
    int rc = Z_OK, ok = 1;
    if (marks)
        marks[0] = 0;
    /* Feed one mark step of input at a time and drain all the output it yields, so the
     * output count after each step is what that much of the stream inflates to. */
    while (ok && rc != Z_STREAM_END && fed < zlen) {
        size_t step = zlen - fed < ST_ZMARK_STEP ? zlen - fed : ST_ZMARK_STEP;
        s.next_in = (Bytef *)z + fed;
        s.avail_in = (uInt)step;
        do {
            s.next_out = buf;
            s.avail_out = sizeof buf;
            rc = inflate(&s, Z_NO_FLUSH);
            if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) ||
                (rc == Z_BUF_ERROR && s.avail_in != 0)) {
                ok = 0;
                break;
            }
            size_t got = sizeof buf - s.avail_out;
            if (got > len - done || memcmp(buf, data + done, got) != 0)
                ok = 0;
            done += got;
        } while (ok && rc != Z_STREAM_END && (s.avail_in != 0 || s.avail_out == 0));
        fed += step - s.avail_in;
        if (marks && ok)
            marks[(fed + ST_ZMARK_STEP - 1) / ST_ZMARK_STEP] = (uint32_t)done;
        if (s.avail_in != 0) /* bytes after the end of the stream */
            ok = 0;
    }
    ok = ok && rc == Z_STREAM_END && done == len && fed == zlen;
    inflateEnd(&s);
    return ok;
}

int st_zcache_load(const char *dir, const char *comp_id, const uint8_t key[32], const uint8_t *data,
                   size_t len, uint8_t **z, size_t *zlen, size_t *zlen_zlib9, uint32_t **marks)
{
    char path[1024];
    if (!dir || st_zcache_path(dir, comp_id, key, path, sizeof path))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t hdr[CACHE_HDR];
    uint8_t *buf = NULL;
    uint32_t *mk = NULL;
    int hit = 0;
    struct stat st;
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr || fstat(fileno(f), &st) != 0)
        goto done;
    uint64_t flen = get64(hdr + 16), fz = get64(hdr + 24), fz9 = get64(hdr + 32);
    if (memcmp(hdr, CACHE_MAGIC, 8) != 0 || esp_le32(hdr + 8) != CACHE_VERSION || flen != len ||
        memcmp(hdr + 40, key, 32) != 0 || fz == 0 || (uint64_t)st.st_size != CACHE_HDR + fz)
        goto done;
    buf = malloc(fz);
    mk = marks ? malloc(ST_ZMARKS(fz) * sizeof *mk) : NULL;
    if (!buf || (marks && !mk) || fread(buf, 1, fz, f) != fz ||
        !st_zlib_matches(buf, fz, data, len, mk))
        goto done;
    *z = buf;
    *zlen = fz;
    *zlen_zlib9 = fz9;
    if (marks)
        *marks = mk;
    buf = NULL;
    mk = NULL;
    hit = 1;
done:
    free(buf);
    free(mk);
    fclose(f);
    return hit;
}

int st_zcache_store(const char *dir, const char *comp_id, const uint8_t key[32], size_t len,
                    const uint8_t *z, size_t zlen, size_t zlen_zlib9)
{
    char path[1024], tmp[1040];
    if (!dir || st_zcache_path(dir, comp_id, key, path, sizeof path))
        return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    uint8_t hdr[CACHE_HDR] = {0};
    memcpy(hdr, CACHE_MAGIC, 8);
    esp_put32(hdr + 8, CACHE_VERSION);
    put64(hdr + 16, len);
    put64(hdr + 24, zlen);
    put64(hdr + 32, zlen_zlib9);
    memcpy(hdr + 40, key, 32);
    int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr && fwrite(z, 1, zlen, f) == zlen;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    /* mkstemp creates 0600; the cache may be shared by station accounts. */
    ok = ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

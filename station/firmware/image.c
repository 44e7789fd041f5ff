/* image.c - prepare a profile's images once for every unit: the bytes meant to land
 * (bootloader header patched as esptool v4.8+ does), their MD5 and the zlib stream. */
#include "image.h"
#include "esp_proto.h"
#include "image_cache.h"

#include <errno.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* Names the recipe in cache file names: a new libdeflate may compress differently. */
#define COMP_ID "ld" LIBDEFLATE_VERSION_STRING "l12z9"
#define LIBDEFLATE_BEST 12
#define IMG_HDR_LEN 24        /* 8-byte header + 16-byte extended header */
#define IMG_MAX_SEGMENTS 16
#define IMG_HASH_FLAG_BYTE 23 /* extended header byte 15: SHA-256 appended */

#define ST_SECTOR 0x1000u /* flash erase sector: images start on one */

static int perr(st_err *err, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(st_err *err, const char *hint, const char *fmt, ...)
{
    if (!err)
        return -1;
    char what[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "%s", what);
    err->fclass = ST_FC_CONFIG;
    st_err_hint(err, "%s", hint);
    return -1;
}

static int nomem(st_err *err, const char *path)
{
    return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory preparing %s", path);
}

static void hex(const uint8_t *d, int n, char *out)
{
    for (int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Header codes (doc §9); -1 = keep what the image has. */
static int mode_code(const char *m)
{
    static const char *const n[] = {"qio", "qout", "dio", "dout"};
    for (int i = 0; i < 4; i++)
        if (strcmp(m, n[i]) == 0)
            return i;
    return -1;
}

static int freq_code(const char *f)
{
    if (strcmp(f, "40m") == 0)
        return 0x0;
    if (strcmp(f, "26m") == 0)
        return 0x1;
    if (strcmp(f, "20m") == 0)
        return 0x2;
    if (strcmp(f, "80m") == 0)
        return 0xF;
    return -1;
}

static int size_code(uint32_t bytes)
{
    for (int i = 0; i < 8; i++)
        if (bytes == (uint32_t)(1u << 20) << i)
            return i;
    return -1;
}

/* Walk the segments to find where the checksummed image ends (the checksum byte is the
 * last byte of a 16-byte-aligned block) and check checksum and appended digest, as esptool
 * verifies an image before touching its header. Returns the data length or 0 (why says). */
static size_t image_data_length(const uint8_t *d, size_t n, char *why, size_t cap)
{
    if (n < IMG_HDR_LEN)
        return snprintf(why, cap, "shorter than the %d-byte image header", IMG_HDR_LEN), 0;
    int nseg = d[1];
    if (nseg == 0 || nseg > IMG_MAX_SEGMENTS)
        return snprintf(why, cap, "segment count %d is not 1..%d", nseg, IMG_MAX_SEGMENTS), 0;
    if (esp_le16(d + 12) != 0)
        return snprintf(why, cap, "chip id %u in the header is not ESP32 (0)", esp_le16(d + 12)), 0;
    size_t pos = IMG_HDR_LEN;
    uint8_t sum = ESP_CHECKSUM_SEED;
    for (int i = 0; i < nseg; i++) {
        if (n - pos < 8)
            return snprintf(why, cap, "segment %d header runs past the end of the file", i), 0;
        size_t slen = esp_le32(d + pos + 4);
        pos += 8;
        if (slen > n - pos)
            return snprintf(why, cap, "segment %d (%zu bytes) runs past the end of the file", i, slen), 0;
        for (size_t j = 0; j < slen; j++)
            sum ^= d[pos + j];
        pos += slen;
    }
    pos += 15 - pos % 16;
    if (pos >= n)
        return snprintf(why, cap, "no checksum byte after the segments"), 0;
    if (d[pos] != sum)
        return snprintf(why, cap, "checksum byte 0x%02x, segments give 0x%02x", d[pos], sum), 0;
    size_t len = pos + 1;
    if (d[IMG_HASH_FLAG_BYTE] == 1) {
        uint8_t md[32];
        if (n - len < 32)
            return snprintf(why, cap, "header says a SHA-256 is appended but the file ends"), 0;
        if (!EVP_Digest(d, len, md, NULL, EVP_sha256(), NULL) || memcmp(md, d + len, 32) != 0)
            return snprintf(why, cap, "appended SHA-256 does not match the image"), 0;
    }
    return len;
}

/* Rewrite flash mode/size/freq in a bootloader image at the bootloader offset; the
 * appended SHA-256 (if any) is recomputed so the image stays self-consistent. */
static void patch_bootloader(st_image *im, const st_profile *p)
{
    uint8_t *d = im->data;
    int mode = mode_code(p->flash_mode), freq = freq_code(p->flash_freq), size = size_code(p->flash_size);
    if (mode < 0 && freq < 0 && size < 0)
        return;
    if (im->len < 4 || d[0] != 0xE9) {
        snprintf(im->warning, sizeof im->warning,
                 "image at 0x%x does not start with 0xE9: flash parameters left as shipped", im->offset);
        return;
    }
    char why[120];
    size_t dlen = image_data_length(d, im->len, why, sizeof why);
    if (!dlen) {
        snprintf(im->warning, sizeof im->warning,
                 "bootloader at 0x%x not a valid image (%s): flash parameters left as shipped",
                 im->offset, why);
        return;
    }
    uint8_t b2 = mode >= 0 ? (uint8_t)mode : d[2];
    uint8_t b3 = (uint8_t)((size >= 0 ? size << 4 : (d[3] & 0xF0)) | (freq >= 0 ? freq : (d[3] & 0x0F)));
    if (b2 == d[2] && b3 == d[3])
        return;
    d[2] = b2;
    d[3] = b3;
    if (d[IMG_HASH_FLAG_BYTE] == 1)
        EVP_Digest(d, dlen, d + dlen, NULL, EVP_sha256(), NULL);
}

static int read_file(const char *path, uint32_t limit, uint8_t **out, size_t *len, st_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        perr(err, "place the image file back or reload the profile", "cannot read image %s: %s", path,
             strerror(e));
        if (err)
            err->sys_errno = e;
        return -1;
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > limit) {
        fclose(f);
        return perr(err, "reload the profile: the file changed since it was checked",
                    "image %s is empty or larger than flash", path);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 3); /* room for padding to 4 */
    if (!buf) {
        fclose(f);
        return nomem(err, path);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return perr(err, "check the file and the disk", "short read on image %s", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

static int compress_image(st_image *im, st_err *err)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(LIBDEFLATE_BEST);
    if (!c)
        return nomem(err, im->path);
    size_t bound = libdeflate_zlib_compress_bound(c, im->len);
    uLongf z9len = compressBound(im->len);
    uint8_t *z = malloc(bound), *z9 = malloc(z9len);
    if (!z || !z9) {
        libdeflate_free_compressor(c);
        free(z);
        free(z9);
        return nomem(err, im->path);
    }
    size_t zl = libdeflate_zlib_compress(c, im->data, im->len, z, bound);
    libdeflate_free_compressor(c);
    int zrc = compress2(z9, &z9len, im->data, im->len, 9);
    if (!zl || zrc != Z_OK) {
        free(z);
        free(z9);
        return perr(err, "this is a bug in the station: report it", "compressing %s failed", im->path);
    }
    im->zlen_zlib9 = z9len;
    if (z9len < zl) { /* rare, but the best stream is the one to send */
        free(z);
        z = z9;
        zl = z9len;
    } else {
        free(z9);
    }
    uint8_t *shrunk = realloc(z, zl);
    im->zdata = shrunk ? shrunk : z;
    im->zlen = zl;
    return 0;
}

/* MD5 of the landing bytes, then the compressed stream (from the cache, else compressed,
 * checked and stored) and its marks. */
static int image_stream(st_image *im, const char *cache_dir, st_err *err)
{
    uint8_t key[32];
    if (!EVP_Digest(im->data, im->len, im->md5, NULL, EVP_md5(), NULL) ||
        !EVP_Digest(im->data, im->len, key, NULL, EVP_sha256(), NULL))
        return perr(err, "this is a bug in the station: report it", "digest of %s failed", im->path);
    /* A cache hit was proven to inflate back to the image, and that pass gave the marks. */
    if (cache_dir && st_zcache_load(cache_dir, COMP_ID, key, im->data, im->len, &im->zdata,
                                    &im->zlen, &im->zlen_zlib9, &im->zmarks))
        return 0;
    if (compress_image(im, err))
        return -1;
    im->zmarks = malloc(ST_ZMARKS(im->zlen) * sizeof *im->zmarks);
    if (!im->zmarks)
        return nomem(err, im->path);
    /* Cheap insurance: never hand the units a stream that does not inflate to the image;
     * the same pass learns what each stretch of the stream inflates to. */
    if (!st_zlib_matches(im->zdata, im->zlen, im->data, im->len, im->zmarks))
        return perr(err, "this is a bug in the station: report it",
                    "compressed stream of %s does not inflate back to the image", im->path);
    if (cache_dir)
        st_zcache_store(cache_dir, COMP_ID, key, im->len, im->zdata, im->zlen, im->zlen_zlib9);
    return 0;
}

static bool sector_erased(const st_image *im, size_t s)
{
    size_t end = (s + 1) * ST_SECTOR < im->len ? (s + 1) * ST_SECTOR : im->len;
    for (size_t i = s * ST_SECTOR; i < end; i++)
        if (im->data[i] != 0xFF)
            return false;
    return true;
}

static int piece_of(const st_image *im, size_t from, size_t len, const char *cache_dir,
                    st_image *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    out->offset = im->offset + (uint32_t)from;
    out->data = im->data + from;
    out->len = len;
    out->borrowed = 1;
    memcpy(out->sha256, im->sha256, 32);
    snprintf(out->path, sizeof out->path, "%s", im->path);
    return image_stream(out, cache_dir, err);
}

/* Split the image at its all-0xFF sectors: runs of written sectors (each with its own
 * stream unless it is the whole image) and runs of erase-only sectors. */
static int split_runs(st_image *im, const char *cache_dir, st_err *err)
{
    size_t nsec = (im->len + ST_SECTOR - 1) / ST_SECTOR;
    im->runs = calloc(nsec ? nsec : 1, sizeof *im->runs);
    if (!im->runs)
        return nomem(err, im->path);
    im->nruns = 0;
    for (size_t s = 0; s < nsec;) {
        bool ff = sector_erased(im, s);
        size_t e = s + 1;
        while (e < nsec && sector_erased(im, e) == ff)
            e++;
        size_t end = e * ST_SECTOR < im->len ? e * ST_SECTOR : im->len;
        im->runs[im->nruns++] = (st_image_run){(uint32_t)(s * ST_SECTOR),
                                               (uint32_t)(end - s * ST_SECTOR), ff, NULL};
        s = e;
    }
    if (im->nruns == 0)
        im->runs[im->nruns++] = (st_image_run){0, (uint32_t)im->len, 0, NULL};
    if (im->nruns == 1)
        return 0;
    for (int i = 0; i < im->nruns; i++) {
        st_image_run *r = &im->runs[i];
        if (r->erase_only)
            continue;
        r->piece = calloc(1, sizeof *r->piece);
        if (!r->piece)
            return nomem(err, im->path);
        if (piece_of(im, r->off, r->len, cache_dir, r->piece, err))
            return -1;
    }
    return 0;
}

int st_image_piece(const st_image *im, size_t from, size_t len, st_image *out, st_err *err)
{
    if (piece_of(im, from, len, NULL, out, err)) {
        st_image_piece_free(out);
        return -1;
    }
    return 0;
}

void st_image_piece_free(st_image *p)
{
    if (!p)
        return;
    free(p->zdata);
    free(p->zmarks);
    p->zdata = NULL;
    p->zmarks = NULL;
}

/* An image path relative to its profile's folder when it lies there (shorter messages). */
static const char *shown(const st_profile *p, const char *path)
{
    const char *slash = strrchr(p->path, '/');
    size_t n = slash ? (size_t)(slash - p->path) : 0;
    return (n && strncmp(path, p->path, n) == 0 && path[n] == '/') ? path + n + 1 : path;
}

static int finish_image(st_image *im, const char *cache_dir, st_err *err);

static int prepare_image(const st_profile *p, const st_profile_image *pi, const char *cache_dir,
                         st_image *im, st_err *err)
{
    im->offset = pi->offset;
    snprintf(im->path, sizeof im->path, "%s", pi->path);
    if (read_file(pi->path, p->flash_size ? p->flash_size : UINT32_MAX, &im->data, &im->len, err))
        return -1;
    if (!EVP_Digest(im->data, im->len, im->sha256, NULL, EVP_sha256(), NULL))
        return perr(err, "this is a bug in the station: report it", "SHA-256 of %s failed", im->path);
    if (memcmp(im->sha256, pi->sha256, 32) != 0) {
        char want[65], have[65];
        hex(pi->sha256, 32, want);
        hex(im->sha256, 32, have);
        return perr(err, "the file changed after the profile was checked: restore it or update the profile",
                    "%s:%d: SHA-256 mismatch for %s: expected %s, actual %s", p->path, pi->line,
                    shown(p, im->path), want, have);
    }
    if (im->offset == ESP32_BOOTLOADER_OFFSET)
        patch_bootloader(im, p);
    while (im->len % 4)
        im->data[im->len++] = 0xFF;
    return finish_image(im, cache_dir, err);
}

/* Digest, stream (from the cache when it holds it) and the split at 0xFF sectors of
 * im->data (padded already). */
static int finish_image(st_image *im, const char *cache_dir, st_err *err)
{
    return image_stream(im, cache_dir, err) || split_runs(im, cache_dir, err) ? -1 : 0;
}

uint64_t st_image_inflated(const st_image *im, size_t zoff, size_t n)
{
    size_t last = ST_ZMARKS(im->zlen) - 1;
    size_t a = zoff / ST_ZMARK_STEP, b = (zoff + n + ST_ZMARK_STEP - 1) / ST_ZMARK_STEP;
    if (!im->zmarks || b > last)
        b = last;
    if (!im->zmarks || a > b)
        return im->len;
    return (uint64_t)im->zmarks[b] - im->zmarks[a];
}

int st_fwset_prepare(const st_profile *prof, const char *cache_dir, st_fwset *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    out->prof = *prof;
    for (int i = 0; i < prof->n_images; i++) {
        if (prepare_image(prof, &prof->images[i], cache_dir, &out->img[i], err)) {
            st_fwset_free(out);
            return -1;
        }
        out->n = i + 1;
        out->total_len += out->img[i].len;
        out->total_zlen += out->img[i].zlen;
    }
    if (prof->prov.enabled && prof->prov.csv_path[0] &&
        st_prov_csv_load(prof->prov.csv_path, prof->prov.csv_key[0] ? prof->prov.csv_key : "mac",
                         &out->csv, err)) {
        st_fwset_free(out);
        return -1;
    }
    if (prof->stub_path[0]) {
        if (st_stub_load(prof->stub_path, &out->stub, err)) {
            st_fwset_free(out);
            return -1;
        }
        out->stub.kind = prof->stub_kind;
        out->has_stub = 1;
    }
    return 0;
}

void st_fwset_free(st_fwset *fw)
{
    if (!fw)
        return;
    for (int i = 0; i < ST_MAX_IMAGES; i++)
        st_image_free(&fw->img[i]);
    if (fw->has_stub)
        st_stub_free(&fw->stub);
    st_prov_csv_free(fw->csv);
    memset(fw, 0, sizeof *fw);
}

int st_image_from_bytes(uint32_t offset, const uint8_t *data, size_t len, const char *label,
                        st_image *im, st_err *err)
{
    memset(im, 0, sizeof *im);
    im->offset = offset;
    snprintf(im->path, sizeof im->path, "%s", label);
    im->data = malloc(len + 4);
    if (!im->data)
        return nomem(err, label);
    memcpy(im->data, data, len);
    im->len = len;
    while (im->len % 4)
        im->data[im->len++] = 0xFF;
    EVP_Digest(data, len, im->sha256, NULL, EVP_sha256(), NULL);
    if (finish_image(im, NULL, err)) {
        st_image_free(im);
        return -1;
    }
    return 0;
}

void st_image_free(st_image *im)
{
    for (int r = 0; r < im->nruns; r++) {
        st_image_piece_free(im->runs[r].piece);
        free(im->runs[r].piece);
    }
    free(im->runs);
    if (!im->borrowed)
        free(im->data);
    free(im->zdata);
    free(im->zmarks);
    memset(im, 0, sizeof *im);
}

/* image.h - a profile's images prepared once for every unit: the exact bytes meant to
 * land (bootloader header patched), their MD5, and the compressed stream. Immutable
 * after st_fwset_prepare, so worker threads share one st_fwset read-only. */
#ifndef ST_IMAGE_H
#define ST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "profile.h"
#include "stub.h"

/* Granularity at which we know how much each stretch of a compressed stream inflates to:
 * the ROM's flash block size, so stub blocks (16 KiB) are whole multiples of it. */
#define ST_ZMARK_STEP 0x400u
#define ST_ZMARKS(zlen) (((zlen) + ST_ZMARK_STEP - 1) / ST_ZMARK_STEP + 1)

/* A stretch of an image, starting on a 4 KiB sector of flash: bytes to write, or a run
 * of sectors that are entirely 0xFF (erased, never programmed: ERASE_REGION). */
typedef struct st_image_run {
    uint32_t off, len;        /* from the image start; off is 4 KiB aligned */
    int erase_only;
    struct st_image *piece;   /* written run of a split image: the run as its own image
                               * (own stream); NULL when the run is the whole image */
} st_image_run;

typedef struct st_image {
    uint32_t offset;
    uint8_t *data;        /* bytes to land (header-patched at the bootloader offset, padded to 4) */
    size_t len;
    uint8_t md5[16];      /* MD5 of data[0..len) */
    uint8_t sha256[32];   /* SHA-256 of the file as shipped (what the profile pins) */
    uint8_t *zdata;       /* zlib stream (RFC 1950) of data, best ratio we have */
    size_t zlen;
    size_t zlen_zlib9;    /* what zlib level 9 would have produced, for reports */
    uint32_t *zmarks;     /* zmarks[i]: bytes inflated from the first i*ST_ZMARK_STEP of zdata */
    char path[ST_PATH_MAX];
    char warning[200];    /* non-fatal note for the operator/log (e.g. header left unpatched), "" if none */
    st_image_run *runs;   /* the image split at its all-0xFF sectors, in order (>= 1 run) */
    int nruns;
    int borrowed;         /* a piece: data points into the parent image (not owned) */
} st_image;

typedef struct st_fwset {
    st_profile prof;
    st_image img[ST_MAX_IMAGES];
    int n;
    st_stub_image stub;   /* loaded when prof.stub_path is set */
    st_prov_csv *csv;     /* the provisioning CSV, read once (NULL when none) */
    int has_stub;
    uint64_t total_len, total_zlen;
} st_fwset;

/* Load, patch, digest and compress every image of prof. cache_dir (may be NULL) holds
 * compressed streams keyed by content digest so a restart does not recompress. */
int st_fwset_prepare(const st_profile *prof, const char *cache_dir, st_fwset *out, st_err *err);
void st_fwset_free(st_fwset *fw);

/* A per-unit region (the unit's NVS partition): copy, pad, digest and compress len bytes
 * of data for offset; label names it in logs. Free with st_image_free. */
int st_image_from_bytes(uint32_t offset, const uint8_t *data, size_t len, const char *label,
                        st_image *im, st_err *err);
void st_image_free(st_image *im);

/* Bytes the compressed stretch zdata[zoff..zoff+n) inflates to (rounded outward to
 * ST_ZMARK_STEP): the device work a block costs, which sizes its timeout. A block of
 * 0xFF padding can inflate to megabytes. */
uint64_t st_image_inflated(const st_image *im, size_t zoff, size_t n);

/* im's bytes [from, from+len) as an image of their own (offset im->offset + from, data
 * borrowed from im, own MD5, compressed stream and marks; nruns 0). Free it with
 * st_image_piece_free before im. 0, or -1 (ST_E_NOMEM / a compressor failure). */
int st_image_piece(const st_image *im, size_t from, size_t len, st_image *out, st_err *err);
void st_image_piece_free(st_image *piece);

#endif

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

typedef struct st_image {
    uint32_t offset;
    uint8_t *data;        /* bytes to land (header-patched at the bootloader offset, padded to 4) */
    size_t len;
    uint8_t md5[16];      /* MD5 of data[0..len) */
    uint8_t sha256[32];   /* SHA-256 of the file as shipped (what the profile pins) */
    uint8_t *zdata;       /* zlib stream (RFC 1950) of data, best ratio we have */
    size_t zlen;
    size_t zlen_zlib9;    /* what zlib level 9 would have produced, for reports */
    char path[ST_PATH_MAX];
    char warning[200];    /* non-fatal note for the operator/log (e.g. header left unpatched), "" if none */
} st_image;

typedef struct st_fwset {
    st_profile prof;
    st_image img[ST_MAX_IMAGES];
    int n;
    st_stub_image stub;   /* loaded when prof.stub_path is set */
    int has_stub;
    uint64_t total_len, total_zlen;
} st_fwset;

/* Load, patch, digest and compress every image of prof. cache_dir (may be NULL) holds
 * compressed streams keyed by content digest so a restart does not recompress. */
int st_fwset_prepare(const st_profile *prof, const char *cache_dir, st_fwset *out, st_err *err);
void st_fwset_free(st_fwset *fw);

#endif

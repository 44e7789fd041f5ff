/* image_cache.h - compressed streams kept on disk so a restart does not recompress.
 * One file per (landing bytes, compressor) pair, named by the SHA-256 of the landing
 * bytes and the compressor id; written via temp file + rename, checked when read. */
#ifndef ST_IMAGE_CACHE_H
#define ST_IMAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Look up the stream for data[0..len) (key = its SHA-256). Returns 1 with *z (malloc'ed,
 * caller frees), *zlen and *zlen_zlib9 on a valid hit; 0 when absent, unreadable or
 * corrupt (the caller recompresses and stores again). The stream is proven to inflate
 * back to data before it is returned; that same pass fills *marks (malloc'ed, caller
 * frees; see st_zlib_matches) when marks is non-NULL. */
int st_zcache_load(const char *dir, const char *comp_id, const uint8_t key[32], const uint8_t *data,
                   size_t len, uint8_t **z, size_t *zlen, size_t *zlen_zlib9, uint32_t **marks);

/* Store a stream; creates dir if missing. Returns 0, or -1 (cache is best-effort: the
 * caller carries on without it). */
int st_zcache_store(const char *dir, const char *comp_id, const uint8_t key[32], size_t len,
                    const uint8_t *z, size_t zlen, size_t zlen_zlib9);

/* The cache file path for a key (for tests and diagnostics). Returns 0, or -1 if too long. */
int st_zcache_path(const char *dir, const char *comp_id, const uint8_t key[32], char *out, size_t cap);

/* 1 if the zlib stream z inflates to exactly data[0..len). When marks is non-NULL (it
 * must hold ST_ZMARKS(zlen) entries), marks[i] = bytes inflated from the first
 * i * ST_ZMARK_STEP bytes of z (the last entry covers the whole stream). */
int st_zlib_matches(const uint8_t *z, size_t zlen, const uint8_t *data, size_t len,
                    uint32_t *marks);

#endif

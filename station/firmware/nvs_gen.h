/* nvs_gen.h - build an ESP-IDF NVS partition image (format version 2) in memory, entry by
 * entry, laid out exactly as `nvs_partition_gen.py generate --version 2` lays out the
 * same rows: 4 KiB pages (32-byte header, 32-byte entry-state bitmap, 126 entries of 32
 * bytes), CRC32 of headers, entries and data, strings spanning entries, blobs split into
 * BLOB_DATA chunks across pages with a BLOB_IDX entry, unused pages left erased (0xFF).
 * Encryption (XTS) is not supported. */
#ifndef ST_NVS_GEN_H
#define ST_NVS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ST_NVS_PAGE 4096
#define ST_NVS_ENTRIES 126       /* per page */
#define ST_NVS_KEY_MAX 15        /* characters; stored NUL-padded in 16 bytes */
#define ST_NVS_STR_MAX 4000      /* bytes of a string, its NUL included */

/* Item type codes as stored in entry byte 1. */
typedef enum {
    ST_NVS_U8 = 0x01, ST_NVS_I8 = 0x11, ST_NVS_U16 = 0x02, ST_NVS_I16 = 0x12,
    ST_NVS_U32 = 0x04, ST_NVS_I32 = 0x14, ST_NVS_U64 = 0x08, ST_NVS_I64 = 0x18,
    ST_NVS_STR = 0x21, ST_NVS_BLOB_DATA = 0x42, ST_NVS_BLOB_IDX = 0x48,
} st_nvs_type;

typedef struct st_nvs_gen {
    uint8_t *buf;      /* size bytes, owned */
    uint32_t size;     /* partition size */
    int data_pages;    /* pages that may hold entries (one is kept as the spare page) */
    int page;          /* current page index */
    int entry;         /* next free entry in the current page */
    int ns_count;      /* namespaces written so far */
    int ns_index;      /* namespace new entries belong to (0 until one is opened) */
    char ns_names[255][ST_NVS_KEY_MAX + 1];
} st_nvs_gen;

/* Start an image of size bytes (a multiple of 4096, at least 0x3000: the generator keeps
 * the last page as NVS's spare page). */
int st_nvs_begin(st_nvs_gen *g, uint32_t size, st_err *err);
/* Open namespace name; the entries that follow belong to it. A name already opened is
 * refused (its entries must be grouped). */
int st_nvs_namespace(st_nvs_gen *g, const char *name, st_err *err);
/* Integer entry: type is one of U8..I64; v must fit the type (checked). */
int st_nvs_put_int(st_nvs_gen *g, const char *key, st_nvs_type type, int64_t v, uint64_t uv,
                   st_err *err);
/* String entry (stored with its NUL; at most ST_NVS_STR_MAX bytes with it). */
int st_nvs_put_str(st_nvs_gen *g, const char *key, const char *s, st_err *err);
/* Blob entry of n bytes (v2: chunks over as many pages as it needs). */
int st_nvs_put_blob(st_nvs_gen *g, const char *key, const uint8_t *data, size_t n, st_err *err);
/* The finished image (size bytes), owned by g until st_nvs_free. */
const uint8_t *st_nvs_image(const st_nvs_gen *g);
void st_nvs_free(st_nvs_gen *g);

/* Name of an integer type for "u8".."i64"; 0 type for an unknown name. */
st_nvs_type st_nvs_int_type(const char *name);

#endif

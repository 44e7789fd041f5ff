/* provision.h - per-unit NVS provisioning: the profile's [provision] section (where the
 * partition lies, its namespace, entries `key = type:template`), the customer's CSV keyed
 * by MAC, and the rendering of one unit's entries into an NVS image (nvs_gen.h).
 * Format in profiles/README.md. Values that come from the CSV are secrets: they are shown
 * and recorded only as their SHA-256. */
#ifndef ST_PROVISION_H
#define ST_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nvs_gen.h"

#define ST_PROV_MAX_ENTRIES 32
#define ST_PROV_TMPL_MAX 192
#define ST_PROV_PATH_MAX 512

typedef enum {
    ST_PV_INT = 1,  /* u8..i64: the template must expand to a decimal or 0x-hex integer */
    ST_PV_STRING,   /* string: the expanded text */
    ST_PV_HEX,      /* hex2bin: blob from the expanded hex digits */
    ST_PV_BASE64,   /* base64: blob from the expanded base64 text */
    ST_PV_BINARY,   /* binary: blob of the expanded text's bytes (no NUL) */
    ST_PV_FILE,     /* file: blob of the file the expanded path names (profile-relative) */
} st_pv_kind;

typedef struct st_prov_entry {
    char key[ST_NVS_KEY_MAX + 1];
    st_pv_kind kind;
    st_nvs_type itype;               /* ST_PV_INT: which integer */
    char tmpl[ST_PROV_TMPL_MAX];
    int line;                        /* profile line */
} st_prov_entry;

typedef struct st_provision {
    bool enabled;                    /* the profile has a [provision] section */
    uint32_t offset, size;           /* the NVS partition's region */
    bool has_offset, has_size;       /* given in the section (or found in the table) */
    char partition[17];              /* label in the partition table, "" = offset/size given */
    char ns[ST_NVS_KEY_MAX + 1];     /* namespace of every entry */
    char serial_fmt[64];             /* e.g. "CORE2-{year}{seq:06}"; "" = no serials */
    char csv_path[ST_PROV_PATH_MAX]; /* "" = no CSV */
    char csv_key[64];                /* the CSV column holding the MAC (default "mac") */
    char dir[ST_PROV_PATH_MAX];      /* the profile's folder: file: paths start here */
    st_prov_entry e[ST_PROV_MAX_ENTRIES];
    int n;
    int line;                        /* line of [provision] */
} st_provision;

/* One [provision] key. Setting keys: offset size partition namespace serial csv csv_key;
 * any other key is an NVS entry "type:template". Returns 0, or -1 with why (what is wrong
 * and what to write) filled. */
int st_prov_set_key(st_provision *p, const char *key, const char *value, int line, char *why,
                    size_t cap);
/* Whole-section checks after every key was read (namespace, region, templates refer to
 * known fields, {serial} needs serial =, {csv:COL} needs csv = with that column). The
 * CSV file itself is read and checked (header, one row per MAC, every MAC valid).
 * *line gets the offending profile line (0 = the section). */
int st_prov_check(const st_provision *p, int *line, char *why, size_t cap);
/* Find the data/nvs partition `label` in a partition table image (ESP-IDF's 32-byte
 * entries). Returns 0 with offset/size, or -1 with why. */
int st_prov_find_partition(const uint8_t *table, size_t len, const char *label, uint32_t *offset,
                           uint32_t *size, char *why, size_t cap);

/* The customer's CSV, read once: rows keyed by the MAC column. */
typedef struct st_prov_csv st_prov_csv;
int st_prov_csv_load(const char *path, const char *key_col, st_prov_csv **out, st_err *err);
void st_prov_csv_free(st_prov_csv *c);
/* Column index by name, -1 if absent. */
int st_prov_csv_column(const st_prov_csv *c, const char *name);

/* Expand a serial format: {year} (4 digits), {yy}, {seq} / {seq:0N} (zero-padded to N),
 * {{ and }} for braces. Returns 0, or -1 if the format is malformed or out is too small. */
int st_prov_serial_format(const char *fmt, int year, int64_t seq, char *out, size_t cap);

/* One rendered entry as it may be shown, logged and recorded. */
typedef struct st_prov_value {
    char key[ST_NVS_KEY_MAX + 1];
    char type[12];                   /* "u32", "string", "hex2bin", "file" ... */
    bool secret;                     /* from the CSV: shown is "sha256:<hex>" */
    char shown[160];                 /* the value, or its digest, or "<n> bytes sha256:<hex>" */
} st_prov_value;

/* What one unit gets. */
typedef struct st_prov_unit {
    uint8_t mac[6];
    const char *serial;              /* NULL/"" when the profile has no serials */
} st_prov_unit;

typedef struct st_prov_result {
    uint8_t *image;                  /* p->size bytes, malloc'ed (st_prov_result_free) */
    size_t len;
    st_prov_value v[ST_PROV_MAX_ENTRIES];
    int n;
} st_prov_result;

/* Render every entry for unit u and build the NVS image. A MAC without a CSV row, an
 * empty CSV cell, a value that does not fit its type: -1 with err (fclass config, the
 * entry and the MAC named) before anything is written. csv may be NULL when the profile
 * names none. */
int st_prov_render(const st_provision *p, const st_prov_csv *csv, const st_prov_unit *u,
                   st_prov_result *out, st_err *err);
void st_prov_result_free(st_prov_result *r);
/* "key=value; key=value" of the shown values, for records and events (cut to cap). */
void st_prov_summary(const st_prov_result *r, char *out, size_t cap);

#endif

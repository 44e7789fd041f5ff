/* nvs_gen.c - NVS v2 partition image writer. The page-filling rules (when an entry moves
 * to a new page, how a blob is cut into chunks) follow nvs_partition_gen.py's observable
 * output, so the same rows give the same bytes; the layout itself is ESP-IDF's NVS format
 * (components/nvs_flash, "NVS partition format" in the ESP-IDF documentation). */
#include "nvs_gen.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HDR 32          /* page header */
#define FIRST 64        /* first entry: after the header and the 32-byte state bitmap */
#define ENT 32
#define CHUNK_ANY 0xFF
#define STATE_ACTIVE 0xFFFFFFFEu
#define STATE_FULL 0xFFFFFFFCu
#define VERSION2 0xFE

/* ESP-IDF's crc32_le(0xFFFFFFFF, ...) is zlib's crc32 seeded with 0xFFFFFFFF. */
static uint32_t crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0xFFFFFFFFul, p, (uInt)n);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *page_at(st_nvs_gen *g, int page)
{
    return g->buf + (size_t)page * ST_NVS_PAGE;
}

static void page_header(st_nvs_gen *g)
{
    uint8_t *h = page_at(g, g->page);
    memset(h, 0xFF, HDR);
    put32(h, STATE_ACTIVE);
    put32(h + 4, (uint32_t)g->page); /* sequence number */
    h[8] = VERSION2;
    put32(h + 28, crc(h + 4, 24));
}

static int new_page(st_nvs_gen *g, st_err *err)
{
    if (g->page + 1 >= g->data_pages)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS partition of 0x%x bytes is too small for the entries (%d data "
                          "pages full; one more page is kept as the spare page)",
                          g->size, g->data_pages);
    put32(page_at(g, g->page), STATE_FULL); /* the page was active: it is now full */
    g->page++;
    g->entry = 0;
    page_header(g);
    return 0;
}

/* Copy n entries' worth of bytes (the rest of the last entry stays 0xFF) and mark them
 * written in the bitmap (state 10b: the low bit of the entry's pair cleared). */
static void put_entries(st_nvs_gen *g, const uint8_t *data, size_t len, int count)
{
    uint8_t *pg = page_at(g, g->page);
    memcpy(pg + FIRST + ENT * g->entry, data, len);
    for (int i = 0; i < count; i++, g->entry++) {
        int bit = g->entry * 2;
        pg[HDR + bit / 8] &= (uint8_t)~(1u << (bit & 7));
    }
}

static void seal_entry(uint8_t e[ENT])
{
    uint8_t c[28];
    memcpy(c, e, 4);
    memcpy(c + 4, e + 8, 24);
    put32(e + 4, crc(c, sizeof c));
}

static int check_key(const st_nvs_gen *g, const char *key, st_err *err)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > ST_NVS_KEY_MAX)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS key '%s' must be 1 to %d characters", key ? key : "",
                          ST_NVS_KEY_MAX);
    if (g->ns_index == 0)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS entry '%s' comes before any namespace", key);
    return 0;
}

static void entry_head(uint8_t e[ENT], int ns, uint8_t type, int span, const char *key)
{
    memset(e, 0xFF, ENT);
    e[0] = (uint8_t)ns;
    e[1] = type;
    e[2] = (uint8_t)span;
    e[3] = CHUNK_ANY;
    memset(e + 8, 0, 16);
    memcpy(e + 8, key, strlen(key));
}

int st_nvs_begin(st_nvs_gen *g, uint32_t size, st_err *err)
{
    memset(g, 0, sizeof *g);
    if (size % ST_NVS_PAGE || size < 3 * ST_NVS_PAGE)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS partition size 0x%x must be a multiple of 0x1000 and at least "
                          "0x3000", size);
    g->buf = malloc(size);
    if (!g->buf)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory for the NVS image");
    memset(g->buf, 0xFF, size);
    g->size = size;
    g->data_pages = (int)(size / ST_NVS_PAGE) - 1;
    page_header(g);
    return 0;
}

static int put_primitive(st_nvs_gen *g, int ns, const char *key, uint8_t type, uint64_t raw,
                         int width, st_err *err)
{
    if (g->entry >= ST_NVS_ENTRIES && new_page(g, err))
        return -1;
    uint8_t e[ENT];
    entry_head(e, ns, type, 1, key);
    for (int i = 0; i < width; i++)
        e[24 + i] = (uint8_t)(raw >> (8 * i));
    seal_entry(e);
    put_entries(g, e, ENT, 1);
    return 0;
}

int st_nvs_namespace(st_nvs_gen *g, const char *name, st_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > ST_NVS_KEY_MAX)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS namespace '%s' must be 1 to %d characters", name ? name : "",
                          ST_NVS_KEY_MAX);
    /* nvs_partition_gen.py keeps writing into the last namespace after a row that reopens
     * an earlier one; rather than copy or contradict that, a reopen is refused. */
    for (int i = 0; i < g->ns_count; i++)
        if (strcmp(g->ns_names[i], name) == 0)
            return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                              "NVS namespace '%s' was already written: group its entries together",
                              name);
    if (g->ns_count == 254)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "too many NVS namespaces (max 254)");
    if (put_primitive(g, 0, name, ST_NVS_U8, (uint64_t)(g->ns_count + 1), 1, err))
        return -1;
    strcpy(g->ns_names[g->ns_count++], name);
    g->ns_index = g->ns_count;
    return 0;
}

st_nvs_type st_nvs_int_type(const char *name)
{
    static const struct { const char *n; st_nvs_type t; } map[] = {
        {"u8", ST_NVS_U8},   {"i8", ST_NVS_I8},   {"u16", ST_NVS_U16}, {"i16", ST_NVS_I16},
        {"u32", ST_NVS_U32}, {"i32", ST_NVS_I32}, {"u64", ST_NVS_U64}, {"i64", ST_NVS_I64},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].n) == 0)
            return map[i].t;
    return (st_nvs_type)0;
}

int st_nvs_put_int(st_nvs_gen *g, const char *key, st_nvs_type type, int64_t v, uint64_t uv,
                   st_err *err)
{
    if (check_key(g, key, err))
        return -1;
    int width = type & 0x0F;
    int is_signed = (type & 0xF0) == 0x10;
    if ((type & 0xE0) || (width != 1 && width != 2 && width != 4 && width != 8))
        return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "NVS key '%s': not an integer type", key);
    uint64_t raw;
    if (is_signed) {
        int64_t lo = width == 8 ? INT64_MIN : -((int64_t)1 << (8 * width - 1));
        int64_t hi = width == 8 ? INT64_MAX : ((int64_t)1 << (8 * width - 1)) - 1;
        if (v < lo || v > hi)
            return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                              "NVS key '%s': %lld does not fit i%d", key, (long long)v, 8 * width);
        raw = (uint64_t)v;
    } else {
        if (width < 8 && uv >> (8 * width))
            return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                              "NVS key '%s': %llu does not fit u%d", key, (unsigned long long)uv,
                              8 * width);
        raw = uv;
    }
    return put_primitive(g, g->ns_index, key, (uint8_t)type, raw, width, err);
}

int st_nvs_put_str(st_nvs_gen *g, const char *key, const char *s, st_err *err)
{
    if (check_key(g, key, err))
        return -1;
    size_t len = strlen(s) + 1;
    int data_n = (int)((len + 31) / 32);
    int total = data_n + 1;
    /* A string lives on one page and, as the reference generator places it, never ends on
     * the page's last entry; so at most 124 data entries. */
    if (len > ST_NVS_STR_MAX || total >= ST_NVS_ENTRIES)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE,
                          "NVS string '%s' is %zu bytes with its NUL; the most one page holds is "
                          "%d",
                          key, len, (ST_NVS_ENTRIES - 2) * 32);
    if (g->entry + total >= ST_NVS_ENTRIES && new_page(g, err))
        return -1;
    uint8_t e[ENT];
    entry_head(e, g->ns_index, ST_NVS_STR, total, key);
    e[24] = (uint8_t)len;
    e[25] = (uint8_t)(len >> 8);
    put32(e + 28, crc((const uint8_t *)s, len));
    seal_entry(e);
    put_entries(g, e, ENT, 1);
    put_entries(g, (const uint8_t *)s, len, data_n);
    return 0;
}

int st_nvs_put_blob(st_nvs_gen *g, const char *key, const uint8_t *data, size_t n, st_err *err)
{
    if (check_key(g, key, err))
        return -1;
    if (n > 0xFFFFFFFFu)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "NVS blob '%s' is too large", key);
    if (g->entry >= ST_NVS_ENTRIES && new_page(g, err))
        return -1;
    size_t off = 0, left = n;
    int chunks = 0;
    uint8_t e[ENT];
    for (;;) {
        /* A chunk takes what the page has left, keeping one entry free for the index. */
        size_t room = (size_t)(ST_NVS_ENTRIES - g->entry - 1) * ENT;
        size_t chunk = left < room ? left : room;
        left -= chunk;
        int data_n = (int)((chunk + 31) / 32);
        entry_head(e, g->ns_index, ST_NVS_BLOB_DATA, data_n + 1, key);
        e[3] = (uint8_t)chunks;
        e[24] = (uint8_t)chunk;
        e[25] = (uint8_t)(chunk >> 8);
        put32(e + 28, crc(data + off, chunk));
        seal_entry(e);
        put_entries(g, e, ENT, 1);
        put_entries(g, data + off, chunk, data_n);
        chunks++;
        off += chunk;
        if ((left || room - chunk < ENT) && new_page(g, err))
            return -1;
        if (!left)
            break;
    }
    if (chunks > 255)
        return st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "NVS blob '%s' needs %d chunks (max 255)",
                          key, chunks);
    entry_head(e, g->ns_index, ST_NVS_BLOB_IDX, 1, key);
    put32(e + 24, (uint32_t)n);
    e[28] = (uint8_t)chunks;
    e[29] = 0; /* chunk start: the first version of the blob */
    seal_entry(e);
    put_entries(g, e, ENT, 1);
    return 0;
}

const uint8_t *st_nvs_image(const st_nvs_gen *g)
{
    return g->buf;
}

void st_nvs_free(st_nvs_gen *g)
{
    free(g->buf);
    g->buf = NULL;
}

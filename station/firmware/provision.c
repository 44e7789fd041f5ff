/* provision.c - [provision] section, the per-unit CSV (libcsv) and rendering one unit's
 * NVS entries (provision.h). */
#include "provision.h"

#include <csv.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int why_(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int num_u32(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (!*v || *end || errno || x > 0xFFFFFFFFull || *v == '-' || *v == '+')
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static const struct { const char *name; st_pv_kind kind; } kinds[] = {
    {"string", ST_PV_STRING}, {"hex2bin", ST_PV_HEX}, {"base64", ST_PV_BASE64},
    {"binary", ST_PV_BINARY}, {"file", ST_PV_FILE},
};

static const char *kind_name(const st_prov_entry *e)
{
    static const char *ints[] = {"u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"};
    if (e->kind == ST_PV_INT) {
        for (int i = 0; i < 8; i++)
            if (st_nvs_int_type(ints[i]) == e->itype)
                return ints[i];
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == e->kind)
            return kinds[i].name;
    return "?";
}

#define TYPE_HINT "write key = TYPE:TEMPLATE with TYPE one of u8 i8 u16 i16 u32 i32 u64 i64 " \
                  "string hex2bin base64 binary file"

int st_prov_set_key(st_provision *p, const char *key, const char *value, int line, char *why,
                    size_t cap)
{
    if (!strcmp(key, "offset") || !strcmp(key, "size")) {
        uint32_t v;
        if (num_u32(value, &v) || v % 0x1000)
            return why_(why, cap, "%s '%s' must be a multiple of 0x1000 (hex 0x... or decimal)",
                        key, value);
        *(key[0] == 'o' ? &p->offset : &p->size) = v;
        *(key[0] == 'o' ? &p->has_offset : &p->has_size) = true;
        return 0;
    }
    if (!strcmp(key, "partition")) {
        if (!*value || strlen(value) >= sizeof p->partition)
            return why_(why, cap, "partition label '%s' must be 1 to 16 characters", value);
        snprintf(p->partition, sizeof p->partition, "%s", value);
        return 0;
    }
    if (!strcmp(key, "namespace")) {
        if (!*value || strlen(value) > ST_NVS_KEY_MAX)
            return why_(why, cap, "namespace '%s' must be 1 to %d characters", value, ST_NVS_KEY_MAX);
        snprintf(p->ns, sizeof p->ns, "%s", value);
        return 0;
    }
    if (!strcmp(key, "serial")) {
        char probe[128];
        if (st_prov_serial_format(value, 2026, 1, probe, sizeof probe) || !strstr(value, "{seq"))
            return why_(why, cap, "serial format '%s' must contain {seq} or {seq:0N} and may use "
                                  "{year} {yy}, e.g. CORE2-{year}{seq:06}", value);
        snprintf(p->serial_fmt, sizeof p->serial_fmt, "%s", value);
        return 0;
    }
    if (!strcmp(key, "csv")) {
        int n = value[0] == '/' ? snprintf(p->csv_path, sizeof p->csv_path, "%s", value)
                                : snprintf(p->csv_path, sizeof p->csv_path, "%s/%s", p->dir, value);
        if (!*value || n >= (int)sizeof p->csv_path)
            return why_(why, cap, "csv path '%s' is empty or too long", value);
        return 0;
    }
    if (!strcmp(key, "csv_key")) {
        snprintf(p->csv_key, sizeof p->csv_key, "%s", value);
        return 0;
    }
    /* An NVS entry. */
    if (strlen(key) > ST_NVS_KEY_MAX)
        return why_(why, cap, "NVS key '%s' is longer than %d characters", key, ST_NVS_KEY_MAX);
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->e[i].key, key))
            return why_(why, cap, "NVS key '%s' given twice (line %d)", key, p->e[i].line);
    if (p->n == ST_PROV_MAX_ENTRIES)
        return why_(why, cap, "too many entries (max %d)", ST_PROV_MAX_ENTRIES);
    const char *colon = strchr(value, ':');
    char type[16];
    if (!colon || colon - value >= (long)sizeof type)
        return why_(why, cap, "entry %s = '%s' has no type: %s", key, value, TYPE_HINT);
    snprintf(type, sizeof type, "%.*s", (int)(colon - value), value);
    st_prov_entry *e = &p->e[p->n];
    memset(e, 0, sizeof *e);
    if ((e->itype = st_nvs_int_type(type)) != 0)
        e->kind = ST_PV_INT;
    for (size_t i = 0; !e->kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(type, kinds[i].name))
            e->kind = kinds[i].kind;
    if (!e->kind)
        return why_(why, cap, "entry %s: unknown type '%s': %s", key, type, TYPE_HINT);
    if (strlen(colon + 1) >= sizeof e->tmpl)
        return why_(why, cap, "entry %s: template longer than %zu characters", key, sizeof e->tmpl - 1);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->tmpl, sizeof e->tmpl, "%s", colon + 1);
    e->line = line;
    p->n++;
    return 0;
}

/* ---- templates ---- */

/* Walk a template: literal runs and {field} / {field:arg} parts. fn gets (NULL, text, n)
 * for literals and (field, arg, argn) for fields. Returns -1 on an unbalanced brace. */
typedef int (*tmpl_fn)(void *user, const char *field, size_t fn, const char *arg, size_t an);

static int tmpl_walk(const char *t, tmpl_fn fn, void *user)
{
    while (*t) {
        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
            if (fn(user, NULL, 0, t, 1))
                return -1;
            t += 2;
            continue;
        }
        if (*t == '}')
            return -1;
        if (*t != '{') {
            size_t n = strcspn(t, "{}");
            if (fn(user, NULL, 0, t, n))
                return -1;
            t += n;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close)
            return -1;
        const char *colon = memchr(t, ':', (size_t)(close - t));
        size_t fl = (size_t)((colon ? colon : close) - t - 1);
        const char *arg = colon ? colon + 1 : close;
        if (fn(user, t + 1, fl, arg, (size_t)(close - arg)))
            return -1;
        t = close + 1;
    }
    return 0;
}

static bool field_is(const char *f, size_t n, const char *name)
{
    return f && strlen(name) == n && !memcmp(f, name, n);
}

/* ---- serial formats ---- */

struct sfmt {
    char *out;
    size_t cap, len;
    int year;
    int64_t seq;
};

static int sfmt_put(struct sfmt *s, const char *p, size_t n)
{
    if (s->len + n >= s->cap)
        return -1;
    memcpy(s->out + s->len, p, n);
    s->len += n;
    s->out[s->len] = 0;
    return 0;
}

static int sfmt_cb(void *user, const char *f, size_t fn, const char *arg, size_t an)
{
    struct sfmt *s = user;
    char b[48];
    if (!f)
        return sfmt_put(s, arg, an);
    if (field_is(f, fn, "year") && !an)
        snprintf(b, sizeof b, "%04d", s->year);
    else if (field_is(f, fn, "yy") && !an)
        snprintf(b, sizeof b, "%02d", s->year % 100);
    else if (field_is(f, fn, "seq")) {
        int width = 0;
        if (an) {
            if (an > 3 || arg[0] != '0')
                return -1;
            for (size_t i = 1; i < an; i++)
                if (arg[i] < '0' || arg[i] > '9')
                    return -1;
            width = atoi(arg);
            if (width > 20)
                return -1;
        }
        snprintf(b, sizeof b, "%0*lld", width, (long long)s->seq);
    } else
        return -1;
    return sfmt_put(s, b, strlen(b));
}

int st_prov_serial_format(const char *fmt, int year, int64_t seq, char *out, size_t cap)
{
    struct sfmt s = {.out = out, .cap = cap, .year = year, .seq = seq};
    if (!cap)
        return -1;
    out[0] = 0;
    return tmpl_walk(fmt, sfmt_cb, &s);
}

/* ---- the CSV ---- */

struct st_prov_csv {
    char path[ST_PROV_PATH_MAX];
    char **cells;       /* rows * ncols, row-major; row 0 is the header */
    int ncols, nrows;   /* nrows includes the header */
    int cap_rows;
    int key_col;
    uint8_t (*macs)[6]; /* per data row */
    /* parse state */
    char **cur;
    int cur_n, cur_cap;
    int bad_row;        /* first row with the wrong number of fields (1-based line), 0 none */
    bool oom;
};

static void csv_cell(void *s, size_t len, void *user)
{
    struct st_prov_csv *c = user;
    if (c->cur_n == c->cur_cap) {
        int nc = c->cur_cap ? c->cur_cap * 2 : 16;
        char **g = realloc(c->cur, (size_t)nc * sizeof *g);
        if (!g) {
            c->oom = true;
            return;
        }
        c->cur = g;
        c->cur_cap = nc;
    }
    char *v = malloc(len + 1);
    if (!v) {
        c->oom = true;
        return;
    }
    memcpy(v, s, len);
    v[len] = 0;
    c->cur[c->cur_n++] = v;
}

static void csv_row(int ch, void *user)
{
    (void)ch;
    struct st_prov_csv *c = user;
    if (c->nrows == 0)
        c->ncols = c->cur_n;
    if (c->cur_n == 1 && c->cur[0][0] == 0 && c->nrows > 0) { /* a blank line */
        free(c->cur[0]);
        c->cur_n = 0;
        return;
    }
    if (c->cur_n != c->ncols) {
        if (!c->bad_row)
            c->bad_row = c->nrows + 1;
        for (int i = 0; i < c->cur_n; i++)
            free(c->cur[i]);
        c->cur_n = 0;
        return;
    }
    if (c->nrows == c->cap_rows) {
        int nr = c->cap_rows ? c->cap_rows * 2 : 64;
        char **g = realloc(c->cells, (size_t)nr * (size_t)c->ncols * sizeof *g);
        if (!g) {
            c->oom = true;
            return;
        }
        c->cells = g;
        c->cap_rows = nr;
    }
    memcpy(c->cells + (size_t)c->nrows * (size_t)c->ncols, c->cur, (size_t)c->ncols * sizeof *c->cur);
    c->nrows++;
    c->cur_n = 0;
}

static int hexd(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "aa:bb:cc:dd:ee:ff", '-' separated or 12 bare hex digits. */
static int mac_parse(const char *s, uint8_t mac[6])
{
    int n = 0;
    while (*s == ' ')
        s++;
    for (int i = 0; i < 6; i++) {
        int hi = hexd(s[0]), lo = hi < 0 ? -1 : hexd(s[1]);
        if (hi < 0 || lo < 0)
            return -1;
        mac[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5 && (*s == ':' || *s == '-'))
            s++;
    }
    while (*s == ' ')
        s++;
    return *s ? -1 : 0;
}

static int csv_fail(st_prov_csv *c, st_err *err, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int csv_fail(st_prov_csv *c, st_err *err, const char *hint, const char *fmt, ...)
{
    char m[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "provisioning CSV %s: %s", c->path, m);
    if (err) {
        err->fclass = ST_FC_CONFIG;
        st_err_hint(err, "%s", hint);
    }
    st_prov_csv_free(c);
    return -1;
}

int st_prov_csv_load(const char *path, const char *key_col, st_prov_csv **out, st_err *err)
{
    *out = NULL;
    st_prov_csv *c = calloc(1, sizeof *c);
    if (!c)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory reading %s", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return csv_fail(c, err, "place the customer's CSV there or fix csv = in the profile",
                        "%s", strerror(errno));
    struct csv_parser p;
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI);
    char buf[8192];
    size_t n;
    int perr = 0;
    while (!perr && (n = fread(buf, 1, sizeof buf, f)) > 0)
        if (csv_parse(&p, buf, n, csv_cell, csv_row, c) != n)
            perr = 1;
    if (!perr && csv_fini(&p, csv_cell, csv_row, c) != 0)
        perr = 1;
    const char *pmsg = perr ? csv_strerror(csv_error(&p)) : NULL;
    csv_free(&p);
    bool rerr = ferror(f);
    fclose(f);
    for (int i = 0; i < c->cur_n; i++)
        free(c->cur[i]);
    free(c->cur);
    c->cur = NULL;
    c->cur_n = 0;
    if (c->oom)
        return csv_fail(c, err, "the file is too large for memory", "out of memory");
    if (rerr || perr)
        return csv_fail(c, err, "fix the file (RFC 4180 CSV: quote fields with commas or newlines)",
                        "%s", rerr ? "read error" : pmsg);
    if (c->nrows == 0)
        return csv_fail(c, err, "the first row must name the columns, one of them the MAC", "empty file");
    if (c->bad_row)
        return csv_fail(c, err, "every row needs as many fields as the header",
                        "row %d has a different number of fields than the header (%d)", c->bad_row,
                        c->ncols);
    c->key_col = st_prov_csv_column(c, key_col);
    if (c->key_col < 0)
        return csv_fail(c, err, "add the MAC column or set csv_key = to its name",
                        "no column '%s' in the header", key_col);
    c->macs = calloc((size_t)c->nrows, sizeof *c->macs);
    if (!c->macs)
        return csv_fail(c, err, "the file is too large for memory", "out of memory");
    for (int r = 1; r < c->nrows; r++) {
        const char *m = c->cells[(size_t)r * (size_t)c->ncols + (size_t)c->key_col];
        if (mac_parse(m, c->macs[r]))
            return csv_fail(c, err, "write MACs as aa:bb:cc:dd:ee:ff",
                            "data row %d: '%s' is not a MAC", r, m);
        for (int q = 1; q < r; q++)
            if (!memcmp(c->macs[q], c->macs[r], 6))
                return csv_fail(c, err, "keep one row per unit",
                                "data rows %d and %d have the same MAC %s", q, r, m);
    }
    *out = c;
    return 0;
}

void st_prov_csv_free(st_prov_csv *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->cells && i < (size_t)c->nrows * (size_t)c->ncols; i++)
        free(c->cells[i]);
    free(c->cells);
    free(c->macs);
    free(c);
}

int st_prov_csv_column(const st_prov_csv *c, const char *name)
{
    for (int i = 0; c && c->nrows && i < c->ncols; i++)
        if (!strcmp(c->cells[i], name))
            return i;
    return -1;
}

static const char *csv_cell_for(const st_prov_csv *c, const uint8_t mac[6], int col)
{
    for (int r = 1; r < c->nrows; r++)
        if (!memcmp(c->macs[r], mac, 6))
            return c->cells[(size_t)r * (size_t)c->ncols + (size_t)col];
    return NULL;
}

/* ---- section checks ---- */

struct tcheck {
    const st_provision *p;
    const st_prov_csv *csv;
    char *why;
    size_t cap;
    const st_prov_entry *e;
};

static int tcheck_cb(void *user, const char *f, size_t fn, const char *arg, size_t an)
{
    struct tcheck *t = user;
    if (!f)
        return 0;
    if ((field_is(f, fn, "mac") || field_is(f, fn, "mac_hex") || field_is(f, fn, "mac_suffix")) && !an)
        return 0;
    if (field_is(f, fn, "serial") && !an) {
        if (!t->p->serial_fmt[0])
            return why_(t->why, t->cap, "entry %s uses {serial} but the section has no serial = "
                                        "format (e.g. serial = CORE2-{year}{seq:06})", t->e->key);
        return 0;
    }
    if (field_is(f, fn, "csv") && an) {
        if (!t->csv)
            return why_(t->why, t->cap, "entry %s uses {csv:%.*s} but the section has no csv = file",
                        t->e->key, (int)an, arg);
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)an, arg);
        if (st_prov_csv_column(t->csv, col) < 0)
            return why_(t->why, t->cap, "entry %s uses {csv:%s}: the CSV has no such column",
                        t->e->key, col);
        return 0;
    }
    return why_(t->why, t->cap, "entry %s: unknown field {%.*s%s%.*s}: use {mac} {mac_hex} "
                                "{mac_suffix} {serial} {csv:COLUMN}, {{ and }} for braces",
                t->e->key, (int)fn, f, an ? ":" : "", (int)an, arg);
}

int st_prov_check(const st_provision *p, int *line, char *why, size_t cap)
{
    *line = p->line;
    if (!p->ns[0])
        return why_(why, cap, "[provision] has no namespace = (the NVS namespace the firmware opens)");
    if (!p->partition[0] && (!p->has_offset || !p->has_size))
        return why_(why, cap, "[provision] needs offset = and size = (e.g. 0x9000 / 0x5000), or "
                              "partition = LABEL from the partition table");
    if (p->size && p->size < 0x3000)
        return why_(why, cap, "[provision] size 0x%x is below NVS's minimum of 0x3000", p->size);
    if (p->n == 0)
        return why_(why, cap, "[provision] has no entries (key = type:template)");
    st_prov_csv *csv = NULL;
    if (p->csv_path[0]) {
        st_err e;
        if (st_prov_csv_load(p->csv_path, p->csv_key[0] ? p->csv_key : "mac", &csv, &e))
            return why_(why, cap, "%s (%s)", e.msg, e.hint);
    }
    int rc = 0;
    for (int i = 0; i < p->n && !rc; i++) {
        struct tcheck t = {.p = p, .csv = csv, .why = why, .cap = cap, .e = &p->e[i]};
        *line = p->e[i].line;
        why[0] = 0;
        if (tmpl_walk(p->e[i].tmpl, tcheck_cb, &t)) {
            if (!why[0])
                why_(why, cap, "entry %s: unbalanced braces in '%s' (write {{ or }} for a brace)",
                     p->e[i].key, p->e[i].tmpl);
            rc = -1;
        }
    }
    st_prov_csv_free(csv);
    return rc;
}

int st_prov_find_partition(const uint8_t *t, size_t len, const char *label, uint32_t *offset,
                           uint32_t *size, char *why, size_t cap)
{
    for (size_t at = 0; at + 32 <= len && at < 0xC00; at += 32) {
        const uint8_t *e = t + at;
        if (e[0] != 0xAA || e[1] != 0x50)
            break; /* end of the table (0xFF...) or its MD5 entry (0xEB 0xEB) */
        char name[17] = {0};
        memcpy(name, e + 12, 16);
        if (strcmp(name, label))
            continue;
        if (e[2] != 0x01 || e[3] != 0x02)
            return why_(why, cap, "partition '%s' is type 0x%02x subtype 0x%02x, not data/nvs",
                        label, e[2], e[3]);
        *offset = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 | (uint32_t)e[7] << 24;
        *size = (uint32_t)e[8] | (uint32_t)e[9] << 8 | (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24;
        return 0;
    }
    return why_(why, cap, "the partition table has no partition labelled '%s'", label);
}

/* ---- rendering ---- */

struct rend {
    const st_provision *p;
    const st_prov_csv *csv;
    const st_prov_unit *u;
    const st_prov_entry *e;
    char *buf;
    size_t len, cap;
    bool secret;
    st_err *err;
};

static int rend_put(struct rend *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t nc = (r->len + n + 1) * 2;
        char *g = realloc(r->buf, nc);
        if (!g)
            return st_err_set(r->err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory rendering %s",
                              r->e->key);
        r->buf = g;
        r->cap = nc;
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = 0;
    return 0;
}

static char *mac_text(const uint8_t m[6], char *b, int style)
{
    if (style == 0)
        sprintf(b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    else if (style == 1)
        sprintf(b, "%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    else
        sprintf(b, "%02x%02x%02x", m[3], m[4], m[5]);
    return b;
}

static int unit_err(struct rend *r, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int unit_err(struct rend *r, const char *hint, const char *fmt, ...)
{
    char m[280], mac[18];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    st_err_set(r->err, ST_E_PROFILE, ST_PH_PROFILE, "provisioning %s, entry %s: %s",
               mac_text(r->u->mac, mac, 0), r->e->key, m);
    if (r->err) {
        r->err->fclass = ST_FC_CONFIG;
        st_err_hint(r->err, "%s", hint);
    }
    return -1;
}

static int rend_cb(void *user, const char *f, size_t fn, const char *arg, size_t an)
{
    struct rend *r = user;
    char b[32];
    if (!f)
        return rend_put(r, arg, an);
    if (field_is(f, fn, "mac"))
        return rend_put(r, mac_text(r->u->mac, b, 0), 17);
    if (field_is(f, fn, "mac_hex"))
        return rend_put(r, mac_text(r->u->mac, b, 1), 12);
    if (field_is(f, fn, "mac_suffix"))
        return rend_put(r, mac_text(r->u->mac, b, 2), 6);
    if (field_is(f, fn, "serial")) {
        if (!r->u->serial || !r->u->serial[0])
            return unit_err(r, "this is a bug in the station: report it", "no serial allocated");
        return rend_put(r, r->u->serial, strlen(r->u->serial));
    }
    if (field_is(f, fn, "csv") && r->csv) {
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)an, arg);
        int ci = st_prov_csv_column(r->csv, col);
        const char *v = ci < 0 ? NULL : csv_cell_for(r->csv, r->u->mac, ci);
        if (!v)
            return unit_err(r, "add the unit's row to the CSV (or take the unit off the line)",
                            "the CSV has no row for this MAC");
        if (!*v)
            return unit_err(r, "fill in the CSV cell: a blank value is never written",
                            "the CSV row has an empty '%s'", col);
        r->secret = true;
        return rend_put(r, v, strlen(v));
    }
    return unit_err(r, "fix the profile", "unknown field");
}

static void sha_hex(const uint8_t *d, size_t n, char out[65])
{
    uint8_t h[32];
    EVP_Digest(d, n, h, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static int read_all(const char *path, uint8_t **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *b = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *g = realloc(b, cap);
            if (!g || cap > (64u << 20)) {
                free(g ? g : b);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            b = g;
        }
        size_t k = fread(b + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        errno = EIO;
        return -1;
    }
    *out = b;
    *n = len;
    return 0;
}

static int put_value(struct rend *r, st_nvs_gen *g, st_prov_value *v)
{
    const st_prov_entry *e = r->e;
    const char *s = r->buf ? r->buf : "";
    char sha[65];
    if (e->kind == ST_PV_INT) {
        char *end;
        errno = 0;
        bool neg = s[0] == '-';
        long long sv = 0;
        unsigned long long uv = 0;
        if (neg)
            sv = strtoll(s, &end, 0);
        else
            uv = strtoull(s, &end, 0);
        if (!*s || *end || errno)
            return unit_err(r, "the template must give a decimal or 0x-hex integer",
                            "'%s' is not an integer", r->secret ? "(secret)" : s);
        snprintf(v->shown, sizeof v->shown, "%s", s);
        return st_nvs_put_int(g, e->key, e->itype, neg ? sv : (long long)uv, neg ? 0 : uv, r->err);
    }
    if (e->kind == ST_PV_STRING) {
        snprintf(v->shown, sizeof v->shown, "%s", s);
        return st_nvs_put_str(g, e->key, s, r->err);
    }
    uint8_t *blob = NULL;
    size_t n = 0;
    int rc;
    if (e->kind == ST_PV_BINARY) {
        rc = st_nvs_put_blob(g, e->key, (const uint8_t *)s, r->len, r->err);
        snprintf(v->shown, sizeof v->shown, "%s", s);
        return rc;
    }
    if (e->kind == ST_PV_HEX) {
        if (r->len % 2)
            return unit_err(r, "give an even number of hex digits", "odd number of hex digits");
        blob = malloc(r->len / 2 + 1);
        for (n = 0; blob && n < r->len / 2; n++) {
            int hi = hexd(s[2 * n]), lo = hexd(s[2 * n + 1]);
            if (hi < 0 || lo < 0) {
                free(blob);
                return unit_err(r, "give hex digits only", "not hex");
            }
            blob[n] = (uint8_t)(hi << 4 | lo);
        }
        snprintf(v->shown, sizeof v->shown, "%s", s);
    } else if (e->kind == ST_PV_BASE64) {
        blob = malloc(r->len + 4);
        int m = blob ? EVP_DecodeBlock(blob, (const unsigned char *)s, (int)r->len) : -1;
        if (m < 0 || r->len % 4) {
            free(blob);
            return unit_err(r, "give standard base64 (a multiple of 4 characters)", "not base64");
        }
        for (size_t k = r->len; k > 0 && s[k - 1] == '='; k--)
            m--;
        n = (size_t)m;
        snprintf(v->shown, sizeof v->shown, "%s", s);
    } else { /* ST_PV_FILE */
        char path[ST_PROV_PATH_MAX + 256];
        snprintf(path, sizeof path, "%s%s%s", s[0] == '/' ? "" : r->p->dir, s[0] == '/' ? "" : "/", s);
        if (read_all(path, &blob, &n))
            return unit_err(r, "place the file there or fix the template", "cannot read %s: %s",
                            path, strerror(errno));
        sha_hex(blob, n, sha);
        snprintf(v->shown, sizeof v->shown, "%s (%zu bytes sha256:%.16s)", s, n, sha);
    }
    if (!blob)
        return st_err_set(r->err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory");
    rc = st_nvs_put_blob(g, e->key, blob, n, r->err);
    free(blob);
    return rc;
}

int st_prov_render(const st_provision *p, const st_prov_csv *csv, const st_prov_unit *u,
                   st_prov_result *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    st_err_clear(err);
    st_nvs_gen *g = malloc(sizeof *g);
    if (!g)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory for the NVS image");
    int rc = st_nvs_begin(g, p->size, err);
    if (!rc)
        rc = st_nvs_namespace(g, p->ns, err);
    for (int i = 0; i < p->n && !rc; i++) {
        struct rend r = {.p = p, .csv = csv, .u = u, .e = &p->e[i], .err = err};
        st_prov_value *v = &out->v[out->n];
        snprintf(v->key, sizeof v->key, "%s", p->e[i].key);
        snprintf(v->type, sizeof v->type, "%s", kind_name(&p->e[i]));
        rc = tmpl_walk(p->e[i].tmpl, rend_cb, &r);
        if (!rc)
            rc = put_value(&r, g, v);
        else if (err && err->cat == ST_E_NONE)
            unit_err(&r, "fix the profile", "malformed template");
        if (!rc && r.secret) {
            char sha[65];
            sha_hex((const uint8_t *)(r.buf ? r.buf : ""), r.len, sha);
            v->secret = true;
            snprintf(v->shown, sizeof v->shown, "sha256:%s", sha);
        }
        if (rc && err && err->fclass == ST_FC_NONE)
            err->fclass = ST_FC_CONFIG;
        free(r.buf);
        out->n++;
    }
    if (rc) {
        st_nvs_free(g);
        free(g);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->image = g->buf;
    out->len = g->size;
    free(g);
    return 0;
}

void st_prov_result_free(st_prov_result *r)
{
    free(r->image);
    r->image = NULL;
}

void st_prov_summary(const st_prov_result *r, char *out, size_t cap)
{
    size_t at = 0;
    if (cap)
        out[0] = 0;
    for (int i = 0; i < r->n && at + 1 < cap; i++) {
        int k = snprintf(out + at, cap - at, "%s%s=%s", i ? "; " : "", r->v[i].key, r->v[i].shown);
        if (k < 0)
            break;
        at += (size_t)k;
    }
}

/* profile.c - load and validate a firmware profile (INI, parsed by inih) before any unit
 * is touched. Every refusal names the file and line and says what to do. */
#include "profile.h"
#include "stub.h"

#include <errno.h>
#include <ini.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum pkey {
    PK_NAME, PK_DESC, PK_CHIP, PK_MODE, PK_FREQ, PK_SIZE, PK_BAUD, PK_STUB, PK_REFLASH,
    PK_STUB_KIND, PK_COUNT
};
enum ikey { IK_OFFSET, IK_FILE, IK_SHA, IK_COUNT };

static const char *const pkey_names[PK_COUNT] = {"name", "description", "chip", "flash_mode",
                                                 "flash_freq", "flash_size", "baud", "stub",
                                                 "reflash", "stub_kind"};
static const int pkey_required[PK_COUNT] = {1, 0, 1, 1, 1, 1, 1, 0, 0, 0};
static const char *const ikey_names[IK_COUNT] = {"offset", "file", "sha256"};

static const char *const modes[] = {"qio", "qout", "dio", "dout", "keep"};
static const char *const freqs[] = {"80m", "40m", "26m", "20m", "keep"};
static const char *const sizes[] = {"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"};

enum block { B_NONE, B_PROFILE, B_IMAGE, B_PROVISION, B_BOOT, B_OTHER };

struct pctx {
    const char *path;
    char dir[ST_PATH_MAX]; /* folder of the profile: relative paths start here */
    FILE *f;
    char *buf;             /* getline buffer */
    size_t bufcap;
    int lineno;            /* line most recently handed to inih */
    int bom_checked;

    enum block blk;
    int blk_line;          /* line of the current section header */
    int profile_line;      /* line of [profile], 0 if none yet */
    int pkey_line[PK_COUNT];
    int ikey_line[ST_MAX_IMAGES][IK_COUNT];
    int boot_key_line[4];   /* [boot_check] baud expect timeout capture */
    char prov_seen[8][16];  /* [provision] setting keys given so far, and their lines */
    int prov_seen_line[8], n_prov_seen;

    st_profile *out;
    st_err *err;
    int failed;            /* first refusal recorded; stop reading */
    int fail_line;
};

/* Fill err with a refusal at line (0 = whole file) of the profile. */
static int refuse(struct pctx *c, int line, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(struct pctx *c, int line, const char *hint, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    st_err_file_line(c->err, ST_E_PROFILE, ST_PH_PROFILE, "", c->path, line, hint, fmt, ap);
    va_end(ap);
    c->failed = 1;
    c->fail_line = line;
    return -1;
}

static int find_name(const char *v, const char *const *names, int n, int ci)
{
    for (int i = 0; i < n; i++)
        if (ci ? strcasecmp(v, names[i]) == 0 : strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

/* Unsigned 32-bit number: 0x-prefixed hex or decimal, nothing else. */
static int parse_u32(const char *v, uint32_t *out)
{
    int base = 10;
    const char *p = v;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (base == 16 ? !strchr("0123456789abcdefABCDEF", *q) : (*q < '0' || *q > '9'))
            return -1;
    errno = 0;
    unsigned long long x = strtoull(p, NULL, base);
    if (errno || x > 0xFFFFFFFFull)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int parse_hex32(const char *v, uint8_t out[32])
{
    if (strlen(v) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* A resolved path as the profile wrote it (shorter messages: the file is named already). */
static const char *shown(const struct pctx *c, const char *path)
{
    size_t n = strlen(c->dir);
    return (strncmp(path, c->dir, n) == 0 && path[n] == '/') ? path + n + 1 : path;
}

static void hex(const uint8_t *d, int n, char *out)
{
    for (int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* Profile-relative path -> usable path. */
static int resolve_rel(struct pctx *c, const char *v, char *out, int line, const char *key)
{
    int n = v[0] == '/' ? snprintf(out, ST_PATH_MAX, "%s", v)
                        : snprintf(out, ST_PATH_MAX, "%s/%s", c->dir, v);
    if (n < 0 || n >= ST_PATH_MAX)
        return refuse(c, line, "use a shorter path or move the files closer to the profile",
                      "%s path '%.60s...' is too long (max %d bytes)", key, v, ST_PATH_MAX - 1);
    return 0;
}

static int parse_bauds(struct pctx *c, const char *v)
{
    st_profile *p = c->out;
    const char *s = v;
    p->n_bauds = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        char num[16];
        uint32_t b;
        if (t - s <= 0 || t - s >= (long)sizeof num)
            return refuse(c, c->lineno, "write e.g. baud = 1500000, 921600, 460800, 115200",
                          "baud list '%s' has an empty or overlong entry", v);
        memcpy(num, s, (size_t)(t - s));
        num[t - s] = 0;
        if (parse_u32(num, &b) || b < 9600 || b > 5000000)
            return refuse(c, c->lineno, "each baud must be a decimal rate from 9600 to 5000000",
                          "bad baud '%s' (not a rate from 9600 to 5000000)", num);
        if (p->n_bauds == ST_MAX_BAUDS)
            return refuse(c, c->lineno, "shorten the fall-back ladder",
                          "too many bauds (max %d)", ST_MAX_BAUDS);
        p->bauds[p->n_bauds++] = (int)b;
        if (!*e)
            return 0;
        s = e + 1;
    }
}

static int set_profile_key(struct pctx *c, int k, const char *v)
{
    st_profile *p = c->out;
    int line = c->lineno;
    switch (k) {
    case PK_NAME:
        if (!*v || strlen(v) >= sizeof p->name)
            return refuse(c, line, "give a short name (1-63 characters)", "bad profile name '%s'", v);
        strcpy(p->name, v);
        return 0;
    case PK_DESC:
        snprintf(p->description, sizeof p->description, "%s", v);
        return 0;
    case PK_CHIP:
        if (strcasecmp(v, "esp32") != 0)
            return refuse(c, line, "set chip = esp32 (the only chip this station flashes)",
                          "unknown chip '%s': only esp32 is supported", v);
        strcpy(p->chip, "esp32");
        return 0;
    case PK_MODE: {
        int i = find_name(v, modes, 5, 1);
        if (i < 0)
            return refuse(c, line, "use one of qio qout dio dout keep",
                          "unknown flash_mode '%s'", v);
        strcpy(p->flash_mode, modes[i]);
        return 0;
    }
    case PK_FREQ: {
        int i = find_name(v, freqs, 5, 1);
        if (i < 0)
            return refuse(c, line, "use one of 80m 40m 26m 20m keep", "unknown flash_freq '%s'", v);
        strcpy(p->flash_freq, freqs[i]);
        return 0;
    }
    case PK_SIZE: {
        int i = find_name(v, sizes, 8, 1);
        if (i < 0)
            return refuse(c, line, "use one of 1MB 2MB 4MB 8MB 16MB 32MB 64MB 128MB",
                          "unknown flash_size '%s'", v);
        p->flash_size = (uint32_t)(1u << 20) << i;
        return 0;
    }
    case PK_BAUD:
        return parse_bauds(c, v);
    case PK_STUB:
        if (!*v)
            return refuse(c, line, "name the stub JSON file or remove the key for ROM-mode flashing",
                          "stub is empty");
        return resolve_rel(c, v, p->stub_path, line, "stub");
    case PK_REFLASH:
        if (!strcasecmp(v, "changed"))
            p->reflash = ST_REFLASH_CHANGED;
        else if (!strcasecmp(v, "all"))
            p->reflash = ST_REFLASH_ALL;
        else
            return refuse(c, line, "use reflash = changed (write only the 64 KiB blocks that differ) "
                          "or reflash = all", "unknown reflash '%s'", v);
        return 0;
    case PK_STUB_KIND:
        if (!strcasecmp(v, "legacy"))
            p->stub_kind = ST_STUB_LEGACY;
        else if (!strcasecmp(v, "esp-flasher-stub"))
            p->stub_kind = ST_STUB_FLASHER;
        else
            return refuse(c, line, "use legacy (esptool's legacy stub, esptool-js 0.5) or "
                          "esp-flasher-stub (esptool 5.3, esptool-js 0.7)",
                          "unknown stub_kind '%s'", v);
        return 0;
    }
    return 0;
}

const char *st_reflash_name(st_reflash r)
{
    return r == ST_REFLASH_CHANGED ? "changed" : r == ST_REFLASH_ALL ? "all" : "default";
}

static int set_image_key(struct pctx *c, int k, const char *v)
{
    st_profile_image *im = &c->out->images[c->out->n_images - 1];
    int line = c->lineno;
    switch (k) {
    case IK_OFFSET:
        if (parse_u32(v, &im->offset))
            return refuse(c, line, "write the offset as hex (0x10000) or decimal",
                          "bad offset '%s'", v);
        if (im->offset % 0x1000)
            return refuse(c, line, "flash is erased in 4 KiB sectors: align the offset to 0x1000",
                          "offset 0x%x is not 4 KiB aligned", im->offset);
        return 0;
    case IK_FILE:
        if (!*v)
            return refuse(c, line, "name the image file, relative to the profile's folder",
                          "file is empty");
        return resolve_rel(c, v, im->path, line, "file");
    case IK_SHA:
        if (parse_hex32(v, im->sha256))
            return refuse(c, line, "give the 64 hex digits printed by `sha256sum FILE`",
                          "sha256 '%.70s' is not 64 hex digits", v);
        return 0;
    }
    return 0;
}

/* The block that just ended must be complete. */
static int end_block(struct pctx *c)
{
    if (c->blk == B_IMAGE) {
        int i = c->out->n_images - 1;
        for (int k = 0; k < IK_COUNT; k++)
            if (!c->ikey_line[i][k])
                return refuse(c, c->blk_line, "every [image] needs offset, file and sha256",
                              "[image] has no %s key", ikey_names[k]);
    }
    return 0;
}

/* inih has no callback for section headers, and consecutive [image] sections share a
 * name, so the reader notes header lines itself (inih still parses them). */
static int begin_block(struct pctx *c, const char *line)
{
    if (end_block(c))
        return -1;
    const char *close = strchr(line + 1, ']');
    if (!close) {
        c->blk = B_OTHER; /* inih reports the malformed header */
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(close - line - 1), line + 1);
    c->blk_line = c->lineno;
    if (strcmp(name, "profile") == 0) {
        if (c->profile_line)
            return refuse(c, c->lineno, "merge the two [profile] sections",
                          "second [profile] section (first at line %d)", c->profile_line);
        c->profile_line = c->lineno;
        c->blk = B_PROFILE;
        return 0;
    }
    if (strcmp(name, "image") == 0) {
        if (c->out->n_images == ST_MAX_IMAGES)
            return refuse(c, c->lineno, "merge images or split the profile",
                          "too many images (max %d)", ST_MAX_IMAGES);
        st_profile_image *im = &c->out->images[c->out->n_images++];
        im->line = c->lineno;
        c->blk = B_IMAGE;
        return 0;
    }
    if (strcmp(name, "provision") == 0) {
        if (c->out->prov.enabled)
            return refuse(c, c->lineno, "merge the two [provision] sections",
                          "second [provision] section (first at line %d)", c->out->prov.line);
        c->out->prov.enabled = true;
        c->out->prov.line = c->lineno;
        snprintf(c->out->prov.dir, sizeof c->out->prov.dir, "%s", c->dir);
        c->blk = B_PROVISION;
        return 0;
    }
    if (strcmp(name, "boot_check") == 0) {
        if (c->out->boot.enabled)
            return refuse(c, c->lineno, "merge the two [boot_check] sections",
                          "second [boot_check] section (first at line %d)", c->out->boot.line);
        c->out->boot.enabled = true;
        c->out->boot.line = c->lineno;
        c->out->boot.baud = 115200;
        c->out->boot.timeout_ms = 10000;
        c->blk = B_BOOT;
        return 0;
    }
    return refuse(c, c->lineno,
                  "only [profile], [image], [provision] and [boot_check] sections are allowed",
                  "unknown section [%s]", name);
}

static char *reader(char *str, int num, void *stream)
{
    struct pctx *c = stream;
    if (c->failed)
        return NULL;
    ssize_t n = getline(&c->buf, &c->bufcap, c->f);
    if (n < 0)
        return NULL;
    c->lineno++;
    char *s = c->buf;
    if (!c->bom_checked && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    c->bom_checked = 1;
    /* Indentation is dropped so inih never treats a line as a multi-line continuation. */
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    if (len + 3 > (size_t)num) {
        refuse(c, c->lineno, "shorten the line (use shorter paths or comments)",
               "line is too long (max %d characters)", num - 3);
        return NULL;
    }
    memcpy(str, s, len + 1);
    if (*s == '[' && begin_block(c, s))
        return NULL;
    return str;
}

static void take_provision_key(struct pctx *c, const char *name, const char *value)
{
    static const char *const settings[] = {"offset", "size", "partition", "namespace",
                                           "serial", "csv", "csv_key"};
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        if (strcmp(name, settings[k]))
            continue;
        for (int i = 0; i < c->n_prov_seen; i++)
            if (!strcmp(c->prov_seen[i], name)) {
                refuse(c, c->lineno, "give each key once", "key '%s' repeated (first at line %d)",
                       name, c->prov_seen_line[i]);
                return;
            }
        snprintf(c->prov_seen[c->n_prov_seen], sizeof c->prov_seen[0], "%s", name);
        c->prov_seen_line[c->n_prov_seen++] = c->lineno;
    }
    char why[300];
    if (st_prov_set_key(&c->out->prov, name, value, c->lineno, why, sizeof why))
        refuse(c, c->lineno, "see [provision] in profiles/README.md", "%s", why);
}

static int parse_captures(struct pctx *c, const char *v)
{
    st_boot_check *b = &c->out->boot;
    const char *s = v;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, " ,");
        if (!n)
            break;
        if (b->n_capture == ST_BOOT_MAX_CAPTURE || n >= sizeof b->capture[0])
            return refuse(c, c->lineno, "name at most 4 groups, each under 32 characters",
                          "capture list '%s' is too long", v);
        for (size_t i = 0; i < n; i++)
            if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= '0' && s[i] <= '9')))
                return refuse(c, c->lineno, "capture names are letters, digits and _",
                              "bad capture name in '%s'", v);
        snprintf(b->capture[b->n_capture++], sizeof b->capture[0], "%.*s", (int)n, s);
        s += n;
    }
    return 0;
}

static void take_boot_key(struct pctx *c, const char *name, const char *value)
{
    static const char *const keys[] = {"baud", "expect", "timeout", "capture"};
    st_boot_check *b = &c->out->boot;
    int k = find_name(name, keys, 4, 0);
    if (k < 0) {
        refuse(c, c->lineno, "[boot_check] keys: baud expect timeout capture",
               "unknown key '%s' in [boot_check]", name);
        return;
    }
    if (c->boot_key_line[k]) {
        refuse(c, c->lineno, "give each key once", "key '%s' repeated (first at line %d)", name,
               c->boot_key_line[k]);
        return;
    }
    c->boot_key_line[k] = c->lineno;
    uint32_t n;
    char why[200];
    regex_t re;
    switch (k) {
    case 0:
        if (parse_u32(value, &n) || n < 9600 || n > 5000000)
            refuse(c, c->lineno, "the app's console rate, e.g. 115200", "bad console baud '%s'", value);
        else
            b->baud = (int)n;
        break;
    case 1:
        if (strlen(value) >= sizeof b->expect)
            refuse(c, c->lineno, "shorten the pattern", "expect pattern longer than %zu characters",
                   sizeof b->expect - 1);
        else if (st_boot_regcomp(value, &re, why, sizeof why))
            refuse(c, c->lineno, "write a POSIX extended regular expression, e.g. "
                   "M5Core2 v([0-9]+\\.[0-9]+\\.[0-9]+) ready", "expect: %s", why);
        else {
            snprintf(b->expect, sizeof b->expect, "%s", value);
            regfree(&re);
        }
        break;
    case 2: {
        char *end;
        double t = strtod(value, &end);
        if (end == value || *end || t <= 0 || t > 600)
            refuse(c, c->lineno, "seconds, e.g. timeout = 10 (at most 600)", "bad timeout '%s'", value);
        else
            b->timeout_ms = (int)(t * 1000);
        break;
    }
    case 3:
        parse_captures(c, value);
        break;
    }
}

int st_boot_regcomp(const char *expect, regex_t *re, char *why, size_t cap)
{
    char pat[600];
    size_t o = 0;
    int in_bracket = 0;
    for (const char *s = expect; *s && o + 16 < sizeof pat; s++) {
        if (!in_bracket && s[0] == '\\' && (s[1] == 'd' || s[1] == 's' || s[1] == 'w')) {
            const char *r = s[1] == 'd' ? "[0-9]" : s[1] == 's' ? "[[:space:]]" : "[[:alnum:]_]";
            memcpy(pat + o, r, strlen(r));
            o += strlen(r);
            s++;
            continue;
        }
        if (!in_bracket && s[0] == '\\' && s[1]) {
            pat[o++] = *s++;
            pat[o++] = *s;
            continue;
        }
        if (*s == '[')
            in_bracket = 1;
        else if (*s == ']' && in_bracket)
            in_bracket = 0;
        pat[o++] = *s;
    }
    pat[o] = 0;
    int rc = regcomp(re, pat, REG_EXTENDED);
    if (rc) {
        char m[160];
        regerror(rc, re, m, sizeof m);
        snprintf(why, cap, "'%s' is not a valid pattern: %s", expect, m);
        return -1;
    }
    return 0;
}

/* One key = value of the current block. Refusals are recorded in the context (and stop
 * the reader), so inih itself is always told the line was fine. */
static void take_key(struct pctx *c, const char *name, const char *value)
{
    int line = c->lineno;
    if (c->blk == B_NONE) {
        refuse(c, line, "put profile keys under [profile] and image keys under [image]",
               "key '%s' is outside any section", name);
        return;
    }
    if (c->blk == B_PROFILE) {
        int k = find_name(name, pkey_names, PK_COUNT, 0);
        if (k < 0)
            refuse(c, line, "[profile] keys: name description chip flash_mode flash_freq flash_size baud "
                   "stub reflash stub_kind",
                   "unknown key '%s' in [profile]", name);
        else if (c->pkey_line[k])
            refuse(c, line, "give each key once", "key '%s' repeated (first at line %d)", name,
                   c->pkey_line[k]);
        else {
            c->pkey_line[k] = line;
            set_profile_key(c, k, value);
        }
        return;
    }
    if (c->blk == B_IMAGE) {
        int i = c->out->n_images - 1;
        int k = find_name(name, ikey_names, IK_COUNT, 0);
        if (k < 0)
            refuse(c, line, "[image] keys: offset file sha256", "unknown key '%s' in [image]", name);
        else if (c->ikey_line[i][k])
            refuse(c, line, "give each key once", "key '%s' repeated (first at line %d)", name,
                   c->ikey_line[i][k]);
        else {
            c->ikey_line[i][k] = line;
            set_image_key(c, k, value);
        }
    }
    if (c->blk == B_PROVISION)
        take_provision_key(c, name, value);
    if (c->blk == B_BOOT)
        take_boot_key(c, name, value);
    /* B_OTHER: a malformed header inih reports itself. */
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct pctx *c = user;
    (void)section; /* the reader tracks blocks: consecutive [image]s share a name */
    if (!c->failed)
        take_key(c, name, value);
    return 1;
}

/* SHA-256 and size of a file, streamed. Returns 0, or -1 with errno set. */
static int file_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[65536];
    size_t n;
    *size = 0;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ok = EVP_DigestUpdate(md, buf, n);
        *size += n;
    }
    int rerr = ferror(f) ? errno : 0;
    ok = ok && !rerr && EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
    fclose(f);
    if (!ok) {
        errno = rerr ? rerr : EIO;
        return -1;
    }
    return 0;
}

static int check_images(struct pctx *c)
{
    st_profile *p = c->out;
    uint32_t len[ST_MAX_IMAGES];
    for (int i = 0; i < p->n_images; i++) {
        st_profile_image *im = &p->images[i];
        int fline = c->ikey_line[i][IK_FILE], sline = c->ikey_line[i][IK_SHA];
        struct stat st;
        if (stat(im->path, &st) != 0)
            return refuse(c, fline, "place the vendor image there (see profiles/README.md) or fix the path",
                          "image %s: %s", shown(c, im->path), strerror(errno));
        if (!S_ISREG(st.st_mode))
            return refuse(c, fline, "name a regular image file", "image %s is not a regular file",
                          shown(c, im->path));
        uint8_t got[32];
        uint64_t size;
        if (file_sha256(im->path, got, &size) != 0)
            return refuse(c, fline, "check the file's permissions",
                          "cannot read image %s: %s", shown(c, im->path), strerror(errno));
        if (size == 0)
            return refuse(c, fline, "the file is empty: copy the real image again",
                          "image %s is empty", shown(c, im->path));
        if (memcmp(got, im->sha256, 32) != 0) {
            char want[65], have[65];
            hex(im->sha256, 32, want);
            hex(got, 32, have);
            return refuse(c, sline,
                          "the file is not the one the profile pins: restore the right file, or if "
                          "the new file is intended put `sha256sum FILE` output here",
                          "SHA-256 mismatch for %s: expected %s, actual %s", shown(c, im->path), want,
                          have);
        }
        uint64_t padded = (size + 3) & ~3ull;
        if (im->offset + padded > p->flash_size)
            return refuse(c, c->ikey_line[i][IK_OFFSET],
                          "the image must fit in flash_size: check the offset, file and flash_size",
                          "image at 0x%x of %llu bytes ends at 0x%llx, beyond flash_size 0x%x",
                          im->offset, (unsigned long long)size,
                          (unsigned long long)(im->offset + padded), p->flash_size);
        len[i] = (uint32_t)padded;
    }
    for (int i = 0; i < p->n_images; i++)
        for (int j = 0; j < i; j++) {
            const st_profile_image *a = &p->images[j], *b = &p->images[i];
            if (a->offset < b->offset + len[i] && b->offset < a->offset + len[j])
                return refuse(c, c->ikey_line[i][IK_OFFSET],
                              "images must not overlap: fix the offsets or the files",
                              "image at 0x%x..0x%x overlaps the image at 0x%x..0x%x (line %d)",
                              b->offset, b->offset + len[i], a->offset, a->offset + len[j],
                              a->line);
        }
    return 0;
}

/* The NVS region: from the partition table when named by label, then inside the flash
 * and clear of every image. */
static int check_provision(struct pctx *c)
{
    st_profile *p = c->out;
    st_provision *pv = &p->prov;
    char why[300];
    int line;
    if (st_prov_check(pv, &line, why, sizeof why))
        return refuse(c, line, "see [provision] in profiles/README.md", "%s", why);
    if (pv->partition[0]) {
        const st_profile_image *pt = NULL;
        for (int i = 0; i < p->n_images; i++)
            if (p->images[i].offset == 0x8000)
                pt = &p->images[i];
        if (!pt)
            return refuse(c, pv->line, "add the partition table [image] at 0x8000, or give offset and size",
                          "partition = %s needs the partition table image at 0x8000", pv->partition);
        FILE *f = fopen(pt->path, "rb");
        uint8_t table[0xC00];
        size_t n = f ? fread(table, 1, sizeof table, f) : 0;
        if (f)
            fclose(f);
        uint32_t off, size;
        if (st_prov_find_partition(table, n, pv->partition, &off, &size, why, sizeof why))
            return refuse(c, pv->line, "name a data/nvs partition of the table, or give offset and size",
                          "%s (%s)", why, shown(c, pt->path));
        if ((pv->has_offset && pv->offset != off) || (pv->has_size && pv->size != size))
            return refuse(c, pv->line, "drop offset/size or make them match the table",
                          "offset/size disagree with partition '%s' (0x%x / 0x%x) in the table",
                          pv->partition, off, size);
        pv->offset = off;
        pv->size = size;
    }
    if (pv->size < 0x3000 || pv->offset % 0x1000 || pv->size % 0x1000)
        return refuse(c, pv->line, "NVS needs at least 0x3000 bytes, 4 KiB aligned",
                      "NVS partition 0x%x+0x%x is not a 4 KiB aligned region of at least 0x3000",
                      pv->offset, pv->size);
    if ((uint64_t)pv->offset + pv->size > p->flash_size)
        return refuse(c, pv->line, "the NVS partition must lie inside flash_size",
                      "NVS partition 0x%x+0x%x ends beyond flash_size 0x%x", pv->offset, pv->size,
                      p->flash_size);
    for (int i = 0; i < p->n_images; i++) {
        const st_profile_image *im = &p->images[i];
        struct stat st;
        uint64_t end = stat(im->path, &st) == 0 ? im->offset + (((uint64_t)st.st_size + 3) & ~3ull)
                                                : im->offset;
        if (im->offset < (uint64_t)pv->offset + pv->size && pv->offset < end)
            return refuse(c, pv->line, "the NVS partition must not overlap an image",
                          "NVS partition 0x%x+0x%x overlaps the image at 0x%x (line %d)", pv->offset,
                          pv->size, im->offset, im->line);
    }
    return 0;
}

static int check_whole(struct pctx *c)
{
    st_profile *p = c->out;
    if (!c->profile_line)
        return refuse(c, 0, "start the file with a [profile] section (see profiles/README.md)",
                      "no [profile] section");
    for (int k = 0; k < PK_COUNT; k++)
        if (pkey_required[k] && !c->pkey_line[k])
            return refuse(c, c->profile_line,
                          "required: name chip flash_mode flash_freq flash_size baud",
                          "[profile] has no %s key", pkey_names[k]);
    if (p->n_images == 0)
        return refuse(c, 0, "add [image] sections with offset, file and sha256", "no [image] section");
    if (check_images(c))
        return -1;
    if (p->prov.enabled && check_provision(c))
        return -1;
    if (p->boot.enabled && !c->boot_key_line[1])
        return refuse(c, p->boot.line, "say what the app prints when it is up, e.g. "
                      "expect = M5Core2 v([0-9.]+) ready", "[boot_check] has no expect key");
    if (p->boot.enabled && p->boot.n_capture) {
        regex_t re;
        char why[200];
        st_boot_regcomp(p->boot.expect, &re, why, sizeof why);
        size_t groups = re.re_nsub;
        regfree(&re);
        if ((size_t)p->boot.n_capture > groups)
            return refuse(c, c->boot_key_line[3], "name one capture per (group) of expect",
                          "capture names %d groups, expect has %zu", p->boot.n_capture, groups);
    }
    if (p->stub_path[0]) {
        st_stub_image s;
        st_err se;
        FILE *f = fopen(p->stub_path, "rb");
        if (!f)
            return refuse(c, c->pkey_line[PK_STUB],
                          "place the stub JSON there (see profiles/README.md), fix the path, or remove "
                          "the stub key to flash through the ROM loader",
                          "cannot read stub %s: %s", shown(c, p->stub_path), strerror(errno));
        fclose(f);
        if (st_stub_load(p->stub_path, &s, &se) != 0)
            return refuse(c, c->pkey_line[PK_STUB], se.hint[0] ? se.hint : "fix the stub JSON",
                          "%s", se.msg);
        uint32_t ts = s.text_start, te = s.text_start + (uint32_t)s.text_len, en = s.entry;
        st_stub_free(&s);
        /* An ESP32 jumping into a stub built for another chip crashes: refuse it here. */
        if (ts < ST_ESP32_IRAM_START || te > ST_ESP32_IRAM_END || en < ST_ESP32_IRAM_START ||
            en >= ST_ESP32_IRAM_END)
            return refuse(c, c->pkey_line[PK_STUB],
                          "use the ESP32 stub (esptool-js: stub_flasher_32.json in 0.5, esp32.json "
                          "in 0.7; esptool: targets/stub_flasher/{1,2}/esp32.json)",
                          "stub %s is not an ESP32 stub: its text loads at 0x%08x-0x%08x (entry "
                          "0x%08x), outside the ESP32's instruction RAM 0x%08x-0x%08x",
                          shown(c, p->stub_path), ts, te, en, ST_ESP32_IRAM_START,
                          ST_ESP32_IRAM_END);
    } else if (c->pkey_line[PK_STUB_KIND]) {
        return refuse(c, c->pkey_line[PK_STUB_KIND], "add the stub key, or remove stub_kind",
                      "stub_kind without a stub");
    }
    return 0;
}

int st_profile_load(const char *path, st_profile *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    struct pctx *c = calloc(1, sizeof *c);
    if (!c)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "out of memory loading %s", path);
    c->path = path;
    c->out = out;
    c->err = err;
    int rc = -1;
    if (strlen(path) >= ST_PATH_MAX) {
        refuse(c, 0, "use a shorter path", "profile path is too long");
        goto done;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(c->dir, sizeof c->dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        strcpy(c->dir, ".");
    c->f = fopen(path, "r");
    if (!c->f) {
        int e = errno;
        refuse(c, 0, "check the profile name/path and the search path", "cannot open profile: %s",
               strerror(e));
        if (err)
            err->sys_errno = e;
        goto done;
    }
    int r = ini_parse_stream(reader, c, handler, c);
    if (ferror(c->f) && !c->failed)
        refuse(c, 0, "check the file and the disk", "read error");
    if (r > 0 && (!c->failed || r < c->fail_line)) {
        c->failed = 0;
        refuse(c, r, "write `key = value`, `[profile]` or `[image]`; comments start with ; or #",
               "cannot parse this line");
    }
    if (!c->failed)
        end_block(c);
    if (!c->failed)
        check_whole(c);
    rc = c->failed ? -1 : 0;
done:
    if (c->f)
        fclose(c->f);
    free(c->buf);
    free(c);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* "<dir>/NAME.ini" in the first folder of search_path holding it: 1 with out filled, 0
 * when none does, -1 (err) when the path does not fit out. */
static int search_ini(const char *name, const char *search_path, char *out, int cap, st_err *err)
{
    struct stat st;
    const char *sp = search_path ? search_path : "";
    if (!*sp)
        return 0;
    for (const char *s = sp;;) {
        const char *e = strchr(s, ':');
        size_t dl = e ? (size_t)(e - s) : strlen(s);
        const char *dir = dl ? s : ".";
        int dn = dl ? (int)dl : 1;
        char cand[ST_PATH_MAX];
        int n = snprintf(cand, sizeof cand, "%.*s/%s.ini", dn, dir, name);
        if (n > 0 && n < (int)sizeof cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (n >= cap)
                return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "profile path too long: %s", cand);
            strcpy(out, cand);
            return 1;
        }
        if (!e)
            return 0;
        s = e + 1;
    }
}

int st_profile_resolve(const char *name, const char *search_path, char *out, int cap, st_err *err)
{
    struct stat st;
    if (!name || !*name)
        return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "no profile name given");
    if (stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((int)strlen(name) >= cap)
            return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "profile path too long: %s", name);
        strcpy(out, name);
        return 0;
    }
    int found = search_ini(name, search_path, out, cap, err);
    if (found != 0)
        return found > 0 ? 0 : -1;
    const char *sp = search_path ? search_path : "";
    st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "no profile '%s' (not a file, and no %s.ini in %s)",
               name, name, *sp ? sp : "an empty search path");
    if (err) {
        err->fclass = ST_FC_CONFIG;
        st_err_hint(err, "give the profile's path, or put %s.ini in one of the profile folders", name);
    }
    return -1;
}

int st_profile_find(const char *name, const char *search_path, char *out, int cap, st_err *err)
{
    const char *sp = search_path ? search_path : "";
    if (!name || !*name)
        return st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "no profile name given");
    if (strchr(name, '/') || name[0] == '.') {
        st_err_set(err, ST_E_ARG, ST_PH_PROFILE, "'%s' is a path: only the profiles on the profile "
                   "search path (%s) may be chosen here", name, *sp ? sp : "empty");
        if (err)
            err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "pick a profile by name, put the file in a profile folder, or start "
                                "the station with --allow-profile-path");
    }
    int found = search_ini(name, search_path, out, cap, err);
    if (found != 0)
        return found > 0 ? 0 : -1;
    st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "no profile '%s' on the profile search path (no %s.ini in %s)",
               name, name, *sp ? sp : "an empty search path");
    if (err) {
        err->fclass = ST_FC_CONFIG;
        st_err_hint(err, "pick one of the listed profiles, or put %s.ini in one of the profile folders", name);
    }
    return -1;
}

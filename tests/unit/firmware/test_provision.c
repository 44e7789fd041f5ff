/* test_provision.c - the profile's [provision] section: parsing and refusals (file:line),
 * the partition found by label in the partition table, templates ({mac}, {mac_suffix},
 * {serial}, {csv:COL}, constants) rendered into an NVS image that the tests' own decoder
 * reads back, CSV secrets shown only as SHA-256, and per-unit errors before any write. */
#include "check.h"
#include "image.h"
#include "nvs_decode.h"
#include "profile.h"
#include "provision.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void put_file(const char *name, const void *data, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void sha_hex(const void *d, size_t n, char out[65])
{
    uint8_t h[32];
    EVP_Digest(d, n, h, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

/* An app image and a partition table with nvs at 0x9000+0x5000 and "fctry" at 0x3F0000. */
static char app_sha[65], pt_sha[65];

static void put_table_entry(uint8_t *e, int type, int sub, uint32_t off, uint32_t size, const char *label)
{
    memset(e, 0, 32);
    e[0] = 0xAA;
    e[1] = 0x50;
    e[2] = (uint8_t)type;
    e[3] = (uint8_t)sub;
    for (int i = 0; i < 4; i++) {
        e[4 + i] = (uint8_t)(off >> (8 * i));
        e[8 + i] = (uint8_t)(size >> (8 * i));
    }
    memcpy(e + 12, label, strlen(label));
}

static void fixtures(void)
{
    uint8_t app[4096];
    memset(app, 0x5A, sizeof app);
    put_file("app.bin", app, sizeof app);
    sha_hex(app, sizeof app, app_sha);
    uint8_t pt[3072];
    memset(pt, 0xFF, sizeof pt);
    put_table_entry(pt, 1, 2, 0x9000, 0x5000, "nvs");
    put_table_entry(pt + 32, 0, 0x10, 0x10000, 0x300000, "app0");
    put_table_entry(pt + 64, 1, 2, 0x3F0000, 0x6000, "fctry");
    put_table_entry(pt + 96, 1, 0x82, 0x3F6000, 0x4000, "spiffs");
    put_file("partitions.bin", pt, sizeof pt);
    sha_hex(pt, sizeof pt, pt_sha);
    const char *csv = "mac,device_key,cal_offset,note\n"
                      "24:0A:C4:12:34:56,\"k3y,with,commas\",-17,first\n"
                      "24-0a-c4-00-00-02,secret2,42,\n";
    put_file("units.csv", csv, strlen(csv));
    put_file("ca.der", "\x30\x82\x01\x0a-not-really-der", 22);
}

/* Write profile text (printf) and load it. */
static int load(st_profile *p, st_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int load(st_profile *p, st_err *err, const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    char text[6000];
    snprintf(text, sizeof text,
             "[profile]\nname = t\nchip = esp32\nflash_mode = dio\nflash_freq = 40m\n"
             "flash_size = 4MB\nbaud = 115200\n"
             "[image]\noffset = 0x8000\nfile = partitions.bin\nsha256 = %s\n"
             "[image]\noffset = 0x10000\nfile = app.bin\nsha256 = %s\n%s",
             pt_sha, app_sha, body);
    put_file("p.ini", text, strlen(text));
    char path[512];
    snprintf(path, sizeof path, "%s/p.ini", dir);
    int rc = st_profile_load(path, p, err);
    if (rc)
        fprintf(stderr, "  (profile refused: %s)\n", err->msg);
    return rc;
}

#define FULL_SECTION                                                                           \
    "[provision]\n"                                                                            \
    "partition = nvs\n"                                                                        \
    "namespace = factory\n"                                                                    \
    "serial = CORE2-{year}{seq:06}\n"                                                          \
    "csv = units.csv\n"                                                                        \
    "serial_no = string:{serial}\n"                                                            \
    "name = string:M5-{mac_suffix}\n"                                                          \
    "mac_text = string:{mac}\n"                                                                \
    "hw_rev = u8:3\n"                                                                          \
    "cal = i16:{csv:cal_offset}\n"                                                             \
    "big = u64:0xFFFFFFFFFFFFFFFF\n"                                                           \
    "neg = i32:-100000\n"                                                                      \
    "key = string:{csv:device_key}\n"                                                          \
    "token = hex2bin:00ff{mac_hex}\n"                                                          \
    "b64 = base64:aGVsbG8=\n"                                                                  \
    "raw = binary:{{literal}}\n"                                                               \
    "ca = file:ca.der\n"

static void render_everything(void)
{
    st_profile *p = calloc(1, sizeof *p);
    st_fwset *fw = calloc(1, sizeof *fw);
    st_err err;
    if (!CHECK_EQ_INT(load(p, &err, FULL_SECTION), 0) ||
        !CHECK_EQ_INT(st_fwset_prepare(p, NULL, fw, &err), 0))
        goto out;
    const st_provision *pv = &fw->prof.prov;
    CHECK(pv->enabled);
    CHECK_EQ_INT(pv->offset, 0x9000); /* from the partition table */
    CHECK_EQ_INT(pv->size, 0x5000);
    CHECK_EQ_INT(pv->n, 12);
    st_prov_unit u = {.mac = {0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56}, .serial = "CORE2-2026000007"};
    st_prov_result r;
    if (!CHECK_EQ_INT(st_prov_render(pv, fw->csv, &u, &r, &err), 0)) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    CHECK_EQ_INT(r.len, 0x5000);
    static nvs_view v;
    decode(r.image, r.len, &v);
    CHECK_EQ_INT(v.errors, 0);
    const item *it;
    if ((it = find(&v, "factory", "serial_no")))
        CHECK_STR((char *)it->data, "CORE2-2026000007");
    if ((it = find(&v, "factory", "name")))
        CHECK_STR((char *)it->data, "M5-123456");
    if ((it = find(&v, "factory", "mac_text")))
        CHECK_STR((char *)it->data, "24:0a:c4:12:34:56");
    if ((it = find(&v, "factory", "hw_rev")))
        CHECK(it->type == 0x01 && it->raw == 3);
    if ((it = find(&v, "factory", "cal")))
        CHECK(it->type == 0x12 && (int16_t)it->raw == -17);
    if ((it = find(&v, "factory", "big")))
        CHECK(it->type == 0x08 && it->raw == UINT64_MAX);
    if ((it = find(&v, "factory", "neg")))
        CHECK(it->type == 0x14 && (int32_t)it->raw == -100000);
    if ((it = find(&v, "factory", "key")))
        CHECK_STR((char *)it->data, "k3y,with,commas");
    if ((it = find(&v, "factory", "token")))
        CHECK(it->len == 8 && !memcmp(it->data, "\x00\xff\x24\x0a\xc4\x12\x34\x56", 8));
    if ((it = find(&v, "factory", "b64")))
        CHECK(it->len == 5 && !memcmp(it->data, "hello", 5));
    if ((it = find(&v, "factory", "raw")))
        CHECK(it->len == 9 && !memcmp(it->data, "{literal}", 9));
    if ((it = find(&v, "factory", "ca")))
        CHECK(it->len == 22 && !memcmp(it->data, "\x30\x82\x01\x0a", 4));
    view_free(&v);

    /* What is shown and recorded: CSV values only as their digest. */
    char want[65], sum[2048];
    sha_hex("k3y,with,commas", 15, want);
    int key_i = -1, cal_i = -1;
    for (int i = 0; i < r.n; i++) {
        if (!strcmp(r.v[i].key, "key"))
            key_i = i;
        if (!strcmp(r.v[i].key, "cal"))
            cal_i = i;
    }
    if (CHECK(key_i >= 0 && cal_i >= 0)) {
        CHECK(r.v[key_i].secret);
        CHECK_CONTAINS(r.v[key_i].shown, want);
        CHECK(r.v[cal_i].secret);
        CHECK(!strstr(r.v[cal_i].shown, "-17"));
    }
    st_prov_summary(&r, sum, sizeof sum);
    CHECK(!strstr(sum, "k3y"));
    CHECK_CONTAINS(sum, "serial_no=CORE2-2026000007");
    CHECK_CONTAINS(sum, "name=M5-123456");
    st_prov_result_free(&r);

    /* A MAC the CSV does not know: a per-unit error naming the MAC, nothing rendered. */
    st_prov_unit u2 = {.mac = {0x24, 0x0a, 0xc4, 0x99, 0x99, 0x99}, .serial = "S"};
    CHECK(st_prov_render(pv, fw->csv, &u2, &r, &err) != 0);
    CHECK_CONTAINS(err.msg, "24:0a:c4:99:99:99");
    CHECK_CONTAINS(err.msg, "no row");
    CHECK_EQ_INT(err.fclass, ST_FC_CONFIG);
    CHECK(r.image == NULL);
    /* A row with a blank cell used by an entry: refused, never written blank. The unit
     * 24:0a:c4:00:00:02 has a value for every column used; its "note" is blank but unused. */
    st_prov_unit u3 = {.mac = {0x24, 0x0a, 0xc4, 0, 0, 2}, .serial = "S"};
    CHECK_EQ_INT(st_prov_render(pv, fw->csv, &u3, &r, &err), 0);
    st_prov_result_free(&r);
out:
    st_fwset_free(fw);
    free(fw);
    free(p);
}

static void blank_cell(void)
{
    st_profile *p = calloc(1, sizeof *p);
    st_fwset *fw = calloc(1, sizeof *fw);
    st_err err;
    if (CHECK_EQ_INT(load(p, &err, "[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\n"
                                   "csv = units.csv\nnote = string:{csv:note}\n"), 0) &&
        CHECK_EQ_INT(st_fwset_prepare(p, NULL, fw, &err), 0)) {
        st_prov_unit u = {.mac = {0x24, 0x0a, 0xc4, 0, 0, 2}};
        st_prov_result r;
        CHECK(st_prov_render(&fw->prof.prov, fw->csv, &u, &r, &err) != 0);
        CHECK_CONTAINS(err.msg, "empty 'note'");
    }
    st_fwset_free(fw);
    free(fw);
    free(p);
}

/* Each refusal names the line and says what is wrong. */
static void refusals(void)
{
    static const struct { const char *section; const char *want; } cases[] = {
        {"[provision]\nsize = 0x5000\nnamespace = f\nx = u8:1\n", "needs offset"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nx = u8:1\n", "no namespace"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\n", "no entries"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = float:1\n", "unknown type"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = 1\n", "has no type"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = string:{serial}\n",
         "no serial ="},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\ncsv = units.csv\n"
         "x = string:{csv:nope}\n", "no such column"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = string:{who}\n",
         "unknown field {who}"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = string:{mac\n",
         "unbalanced"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nserial = X-{year}\n"
         "x = string:{serial}\n", "must contain {seq}"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nthis_key_is_too_long = u8:1\n",
         "longer than 15"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\nx = u8:1\nx = u8:2\n",
         "given twice"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nsize = 0x6000\nnamespace = f\nx = u8:1\n",
         "repeated"},
        {"[provision]\noffset = 0x9000\nsize = 0x2000\nnamespace = f\nx = u8:1\n", "0x3000"},
        {"[provision]\noffset = 0xE000\nsize = 0x5000\nnamespace = f\nx = u8:1\n", "overlaps"},
        {"[provision]\noffset = 0x3FE000\nsize = 0x5000\nnamespace = f\nx = u8:1\n", "beyond flash_size"},
        {"[provision]\npartition = app0\nnamespace = f\nx = u8:1\n", "not data/nvs"},
        {"[provision]\npartition = nope\nnamespace = f\nx = u8:1\n", "no partition labelled"},
        {"[provision]\npartition = nvs\nsize = 0x6000\nnamespace = f\nx = u8:1\n", "disagree"},
        {"[provision]\noffset = 0x9000\nsize = 0x5000\nnamespace = f\ncsv = missing.csv\nx = u8:1\n",
         "missing.csv"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_profile *p = calloc(1, sizeof *p);
        st_err err;
        CHECK(load(p, &err, "%s", cases[i].section) != 0);
        if (!strstr(err.msg, cases[i].want))
            fprintf(stderr, "case %zu: want '%s' in '%s'\n", i, cases[i].want, err.msg);
        CHECK_CONTAINS(err.msg, cases[i].want);
        CHECK_CONTAINS(err.msg, "p.ini:");
        CHECK_EQ_INT(err.fclass, ST_FC_CONFIG);
        free(p);
    }
    /* The dedicated factory partition from the table. */
    st_profile *p = calloc(1, sizeof *p);
    st_err err;
    if (CHECK_EQ_INT(load(p, &err, "[provision]\npartition = fctry\nnamespace = f\nx = u8:1\n"), 0)) {
        CHECK_EQ_INT(p->prov.offset, 0x3F0000);
        CHECK_EQ_INT(p->prov.size, 0x6000);
    }
    free(p);
}

static void bad_csvs(void)
{
    static const struct { const char *text; const char *want; } cases[] = {
        {"mac,k\n24:0a:c4:00:00:01,a\n24:0a:c4:00:00:01,b\n", "same MAC"},
        {"mac,k\nnot-a-mac,a\n", "not a MAC"},
        {"mac,k\n24:0a:c4:00:00:01\n", "number of fields"},
        {"serial,k\n1,2\n", "no column 'mac'"},
        {"mac,k\n24:0a:c4:00:00:01,\"unterminated\n", "units2.csv"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_file("units2.csv", cases[i].text, strlen(cases[i].text));
        char path[512];
        snprintf(path, sizeof path, "%s/units2.csv", dir);
        st_prov_csv *c = NULL;
        st_err err;
        CHECK(st_prov_csv_load(path, "mac", &c, &err) != 0);
        CHECK(c == NULL);
        if (!strstr(err.msg, cases[i].want))
            fprintf(stderr, "csv case %zu: want '%s' in '%s'\n", i, cases[i].want, err.msg);
        CHECK_CONTAINS(err.msg, cases[i].want);
    }
}

static void serial_formats(void)
{
    char b[64];
    CHECK_EQ_INT(st_prov_serial_format("CORE2-{year}{seq:06}", 2026, 42, b, sizeof b), 0);
    CHECK_STR(b, "CORE2-2026000042");
    CHECK_EQ_INT(st_prov_serial_format("F{yy}-{seq}", 2026, 1234567, b, sizeof b), 0);
    CHECK_STR(b, "F26-1234567");
    CHECK_EQ_INT(st_prov_serial_format("{{x}}{seq:03}", 2026, 7, b, sizeof b), 0);
    CHECK_STR(b, "{x}007");
    CHECK(st_prov_serial_format("{seq:6}", 2026, 7, b, sizeof b) != 0);
    CHECK(st_prov_serial_format("{month}{seq}", 2026, 7, b, sizeof b) != 0);
    CHECK(st_prov_serial_format("{seq}", 2026, 7, b, 1) != 0);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/test_provision.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    fixtures();
    render_everything();
    blank_cell();
    refusals();
    bad_csvs();
    serial_formats();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("provision");
}

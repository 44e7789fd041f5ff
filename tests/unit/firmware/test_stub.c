/* test_stub.c - stub JSON loading: exact bytes round-trip, and every refusal names the
 * file and the key. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "stub.h"

static char dir[256];

static const char *write_json(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return path;
    fputs(text, f);
    fclose(f);
    return path;
}

static char *b64(const uint8_t *d, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)s, d, (int)n);
    return s;
}

static void fill(uint8_t *d, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        d[i] = (uint8_t)(seed >> 16);
    }
}

/* Round trip for text/data lengths covering no, one and two '=' of padding. */
static void test_round_trip(size_t tlen, size_t dlen)
{
    uint8_t *t = malloc(tlen), *d = malloc(dlen);
    fill(t, tlen, (unsigned)tlen);
    fill(d, dlen, (unsigned)dlen + 7);
    char *tb = b64(t, tlen), *db = b64(d, dlen);
    size_t cap = strlen(tb) + strlen(db) + 256;
    char *json = malloc(cap);
    snprintf(json, cap,
             "{\"entry\": 1074521580, \"text\": \"%s\", \"text_start\": 1074520064,\n"
             " \"data\": \"%s\", \"data_start\": 1073605544, \"bss_start\": 1073528832}\n",
             tb, db);
    const char *path = write_json("rt.json", json);
    st_stub_image s;
    st_err e;
    CHECK_EQ_INT(st_stub_load(path, &s, &e), 0);
    CHECK_EQ_INT(s.entry, 0x400BE5EC);
    CHECK_EQ_INT(s.text_start, 0x400BE000);
    CHECK_EQ_INT(s.data_start, 0x3FFDEBA8);
    CHECK_EQ_INT(s.text_len, tlen);
    CHECK_EQ_INT(s.data_len, dlen);
    if (s.text_len == tlen)
        CHECK_MEM(s.text, t, tlen);
    if (s.data_len == dlen)
        CHECK_MEM(s.data, d, dlen);
    CHECK_STR(s.path, path);
    st_stub_free(&s);
    CHECK(s.text == NULL && s.data == NULL);
    free(t);
    free(d);
    free(tb);
    free(db);
    free(json);
}

static void test_no_data(void)
{
    const char *path = write_json("nodata.json", "{\"entry\": 1, \"text\": \"AAECAw==\", \"text_start\": 2}");
    st_stub_image s;
    st_err e;
    CHECK_EQ_INT(st_stub_load(path, &s, &e), 0);
    CHECK_EQ_INT(s.text_len, 4);
    CHECK_MEM(s.text, "\x00\x01\x02\x03", 4);
    CHECK(s.data == NULL);
    CHECK_EQ_INT(s.data_len, 0);
    st_stub_free(&s);
}

/* A refusal: -1, profile/config error, message names the file and the key or problem. */
static void expect_fail(const char *name, const char *json, const char *want1, const char *want2)
{
    const char *path = write_json(name, json);
    st_stub_image s;
    st_err e;
    memset(&s, 0x5A, sizeof s);
    CHECK_EQ_INT(st_stub_load(path, &s, &e), -1);
    CHECK_EQ_INT(e.cat, ST_E_PROFILE);
    CHECK_EQ_INT(e.phase, ST_PH_PROFILE);
    CHECK_EQ_INT(e.fclass, ST_FC_CONFIG);
    CHECK_CONTAINS(e.msg, path);
    CHECK_CONTAINS(e.msg, want1);
    if (want2)
        CHECK_CONTAINS(e.msg, want2);
    CHECK(e.hint[0] != 0);
    CHECK(s.text == NULL && s.data == NULL); /* nothing leaks to the caller on failure */
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_stub_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    test_round_trip(3532, 156); /* esptool v4.7 ESP32 stub sizes: "==" and no padding */
    test_round_trip(1000, 155); /* "==" and "=" */
    test_round_trip(1, 2);
    test_no_data();

    expect_fail("missing_entry.json", "{\"text\": \"AAAA\", \"text_start\": 1, \"data_start\": 2}",
                "missing key \"entry\"", NULL);
    expect_fail("missing_text.json", "{\"entry\": 1, \"text_start\": 1}", "missing key \"text\"", NULL);
    expect_fail("missing_text_start.json", "{\"entry\": 1, \"text\": \"AAAA\"}",
                "missing key \"text_start\"", NULL);
    expect_fail("missing_data_start.json",
                "{\"entry\": 1, \"text\": \"AAAA\", \"text_start\": 1, \"data\": \"AAAA\"}",
                "missing key \"data_start\"", NULL);
    expect_fail("bad_char.json", "{\"entry\": 1, \"text\": \"AA$A\", \"text_start\": 1}", "\"text\"",
                "base64");
    expect_fail("bad_len.json", "{\"entry\": 1, \"text\": \"AAAAA\", \"text_start\": 1}", "\"text\"",
                "base64");
    expect_fail("stray_pad.json", "{\"entry\": 1, \"text\": \"QQ=A\", \"text_start\": 1}", "\"text\"",
                "base64");
    expect_fail("over_pad.json", "{\"entry\": 1, \"text\": \"Q===\", \"text_start\": 1}", "\"text\"",
                "base64");
    expect_fail("bad_data.json",
                "{\"entry\": 1, \"text\": \"AAAA\", \"text_start\": 1, \"data\": \"A\\nAA\", \"data_start\": 2}",
                "\"data\"", "base64");
    expect_fail("empty_text.json", "{\"entry\": 1, \"text\": \"\", \"text_start\": 1}", "\"text\"", "empty");
    expect_fail("text_number.json", "{\"entry\": 1, \"text\": 5, \"text_start\": 1}", "\"text\"", NULL);
    expect_fail("entry_string.json", "{\"entry\": \"0x400BE5EC\", \"text\": \"AAAA\", \"text_start\": 1}",
                "\"entry\"", NULL);
    expect_fail("entry_range.json", "{\"entry\": 4294967296, \"text\": \"AAAA\", \"text_start\": 1}",
                "\"entry\"", NULL);
    expect_fail("negative.json", "{\"entry\": 1, \"text\": \"AAAA\", \"text_start\": -4}", "\"text_start\"",
                NULL);
    expect_fail("not_json.json", "{\"entry\": 1,\n \"text\": }", "JSON", "line 2");
    expect_fail("array.json", "[1, 2]", "object", NULL);
    expect_fail("dup.json", "{\"entry\": 1, \"entry\": 2, \"text\": \"AAAA\", \"text_start\": 1}", "entry",
                NULL);

    st_stub_image s;
    st_err e;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    CHECK_EQ_INT(st_stub_load(missing, &s, &e), -1);
    CHECK_CONTAINS(e.msg, missing);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_stub");
}

/* test_profile.c - profile loading: a valid profile gives the right values; every
 * refusal names the file and the right line, says what is wrong, and carries a hint. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "profile.h"

static char dir[256];
static char sha_a[65], sha_b[65], sha_empty[65];

#define A_LEN 9000  /* 0x1000 + 9000 reaches past 0x2000: used by the overlap case */
#define B_LEN 5000

static void write_file(const char *rel, const void *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void sha_hex(const void *d, size_t n, char out[65])
{
    uint8_t md[32];
    EVP_Digest(d, n, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The valid profile, one entry per line (line numbers = index + 1). */
enum { L_PROFILE = 1, L_NAME, L_DESC, L_CHIP, L_MODE, L_FREQ, L_SIZE, L_BAUD, L_STUB,
       L_IMG1, L_OFF1, L_FILE1, L_SHA1, L_IMG2, L_OFF2, L_FILE2, L_SHA2, L_COUNT = L_SHA2 };
static char base[L_COUNT][128];

static void make_base(void)
{
    const char *l[L_COUNT] = {"[profile]", "name = t1", "description = Test profile", "chip = esp32",
                              "flash_mode = dio", "flash_freq = 80m", "flash_size = 4MB",
                              "baud = 1500000, 921600, 115200", "stub = stub.json", "[image]",
                              "offset = 0x1000", "file = img/a.bin", NULL, "[image]",
                              "offset = 65536", "file = img/b.bin", NULL};
    for (int i = 0; i < L_COUNT; i++)
        snprintf(base[i], sizeof base[i], "%s", l[i] ? l[i] : "");
    snprintf(base[L_SHA1 - 1], sizeof base[0], "sha256 = %s", sha_a);
    snprintf(base[L_SHA2 - 1], sizeof base[0], "sha256 = %s", sha_b);
}

/* Write the base profile with line `line` replaced by `repl` (NULL: deleted; line 0:
 * nothing replaced) and `extra` appended; then load it. */
static int load_variant(int line, const char *repl, const char *extra, st_profile *p, st_err *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/p.ini", dir);
    FILE *f = fopen(path, "w");
    for (int i = 1; i <= L_COUNT; i++) {
        if (i == line) {
            if (repl)
                fprintf(f, "%s\n", repl);
        } else {
            fprintf(f, "%s\n", base[i - 1]);
        }
    }
    if (extra)
        fputs(extra, f);
    fclose(f);
    memset(e, 0, sizeof *e);
    return st_profile_load(path, p, e);
}

/* A refusal at `at` (0 = whole file) whose message contains every given fragment. */
static void expect_refusal(const char *what, int line, const char *repl, const char *extra, int at, ...)
{
    st_profile p;
    st_err e;
    int rc = load_variant(line, repl, extra, &p, &e);
    if (!CHECK_EQ_INT(rc, -1)) {
        fprintf(stderr, "  case: %s\n", what);
        return;
    }
    char where[32];
    if (at)
        snprintf(where, sizeof where, "p.ini:%d: ", at);
    else
        snprintf(where, sizeof where, "p.ini: ");
    bool ok = CHECK_EQ_INT(e.cat, ST_E_PROFILE);
    ok &= CHECK_EQ_INT(e.phase, ST_PH_PROFILE);
    ok &= CHECK_EQ_INT(e.fclass, ST_FC_CONFIG);
    ok &= CHECK_CONTAINS(e.msg, dir);
    ok &= CHECK_CONTAINS(e.msg, where);
    ok &= CHECK(e.hint[0] != 0);
    va_list ap;
    va_start(ap, at);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        ok &= CHECK_CONTAINS(e.msg, frag);
    va_end(ap);
    CHECK(p.n_images == 0 && p.name[0] == 0); /* nothing half-loaded */
    if (!ok)
        fprintf(stderr, "  case: %s\n", what);
}

/* A load that must succeed: false (a failed check, with the message) when it did not. */
static bool load_ok(int rc, const st_err *e, const char *what)
{
    if (CHECK_EQ_INT(rc, 0))
        return true;
    fprintf(stderr, "  %s%s%s\n", what, what[0] ? ": " : "", e->msg);
    return false;
}

/* The profile is for an ESP32 with these flash settings and exactly these n baud rates,
 * in order (the int arguments after n). */
static void check_settings(const st_profile *p, const char *mode, const char *freq,
                           uint32_t size, int n, ...)
{
    CHECK_STR(p->chip, "esp32");
    CHECK_STR(p->flash_mode, mode);
    CHECK_STR(p->flash_freq, freq);
    CHECK_EQ_INT(p->flash_size, size);
    CHECK_EQ_INT(p->n_bauds, n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(p->bauds[i], va_arg(ap, int));
    va_end(ap);
}

static void test_valid(void)
{
    st_profile p;
    st_err e;
    if (!load_ok(load_variant(0, NULL, NULL, &p, &e), &e, ""))
        return;
    CHECK_STR(p.name, "t1");
    CHECK_STR(p.description, "Test profile");
    check_settings(&p, "dio", "80m", 4 * 1024 * 1024, 3, 1500000, 921600, 115200);
    char want[600];
    snprintf(want, sizeof want, "%s/stub.json", dir);
    CHECK_STR(p.stub_path, want);
    snprintf(want, sizeof want, "%s/p.ini", dir);
    CHECK_STR(p.path, want);
    CHECK_EQ_INT(p.n_images, 2);
    CHECK_EQ_INT(p.images[0].offset, 0x1000);
    CHECK_EQ_INT(p.images[1].offset, 0x10000);
    snprintf(want, sizeof want, "%s/img/a.bin", dir);
    CHECK_STR(p.images[0].path, want);
    snprintf(want, sizeof want, "%s/img/b.bin", dir);
    CHECK_STR(p.images[1].path, want);
    CHECK_EQ_INT(p.images[0].line, L_IMG1);
    CHECK_EQ_INT(p.reflash, ST_REFLASH_DEFAULT);
    CHECK_EQ_INT(p.images[1].line, L_IMG2);
    char got[65];
    for (int i = 0; i < 32; i++)
        snprintf(got + 2 * i, 3, "%02x", p.images[0].sha256[i]);
    CHECK_STR(got, sha_a);
}

/* Comments, indentation, upper-case hex and sizes, no stub: still valid. */
static void test_valid_variants(void)
{
    st_profile p;
    st_err e;
    char path[512], upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)((sha_b[i] >= 'a' && sha_b[i] <= 'f') ? sha_b[i] - 32 : sha_b[i]);
    snprintf(path, sizeof path, "%s/v.ini", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "; a comment\n# another\n[profile]\n  name = v ; inline comment\nchip = ESP32\n"
               "flash_mode = keep\nflash_freq = keep\nflash_size = 16mb\nbaud = 921600\n"
               "reflash = All\n\n"
               "[image]\n    offset = 0X10000\n    file = %s/img/b.bin\n    sha256 = %s\n",
            dir, upper);
    fclose(f);
    if (!load_ok(st_profile_load(path, &p, &e), &e, ""))
        return;
    CHECK_STR(p.name, "v");
    check_settings(&p, "keep", "keep", 16 * 1024 * 1024, 1, 921600);
    CHECK_STR(p.stub_path, "");
    CHECK_EQ_INT(p.reflash, ST_REFLASH_ALL);
    CHECK_EQ_INT(p.n_images, 1);
    CHECK_EQ_INT(p.images[0].offset, 0x10000);
}

static void test_refusals(void)
{
    char buf[4096], line[160];

    /* Structure */
    expect_refusal("unknown section", 0, NULL, "[extra]\nx = 1\n", L_COUNT + 1, "unknown section [extra]",
                   NULL);
    expect_refusal("unknown profile key", L_DESC, "colour = red", NULL, L_DESC, "unknown key 'colour'",
                   "[profile]", NULL);
    expect_refusal("bad reflash", L_DESC, "reflash = some", NULL, L_DESC, "unknown reflash 'some'",
                   NULL);
    expect_refusal("unknown image key", L_OFF2, "ofset = 0x10000", NULL, L_OFF2, "unknown key 'ofset'",
                   "[image]", NULL);
    expect_refusal("second profile section", 0, NULL, "[profile]\n", L_COUNT + 1, "second [profile]",
                   NULL);
    expect_refusal("duplicate key", L_DESC, "name = again", NULL, L_DESC, "'name' repeated",
                   "line 2", NULL);
    expect_refusal("syntax", L_DESC, "just words", NULL, L_DESC, "cannot parse", NULL);
    char longline[300];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "description = ", 14);
    longline[sizeof longline - 1] = 0;
    expect_refusal("long line", L_DESC, longline, NULL, L_DESC, "too long", NULL);

    /* Missing required keys */
    expect_refusal("missing chip", L_CHIP, NULL, NULL, L_PROFILE, "no chip key", NULL);
    expect_refusal("missing baud", L_BAUD, NULL, NULL, L_PROFILE, "no baud key", NULL);
    expect_refusal("missing flash_size", L_SIZE, NULL, NULL, L_PROFILE, "no flash_size key", NULL);
    expect_refusal("missing sha256", L_SHA2, NULL, NULL, L_IMG2, "[image] has no sha256", NULL);
    expect_refusal("missing offset", L_OFF1, NULL, NULL, L_IMG1, "[image] has no offset", NULL);
    expect_refusal("missing file", L_FILE1, "", NULL, L_IMG1, "[image] has no file", NULL);

    /* Bad numbers */
    expect_refusal("bad offset", L_OFF1, "offset = 0x10zz", NULL, L_OFF1, "bad offset '0x10zz'", NULL);
    expect_refusal("negative offset", L_OFF1, "offset = -4096", NULL, L_OFF1, "bad offset", NULL);
    expect_refusal("huge offset", L_OFF1, "offset = 0x100000000", NULL, L_OFF1, "bad offset", NULL);
    expect_refusal("bad baud", L_BAUD, "baud = 921600, fast", NULL, L_BAUD, "bad baud 'fast'", NULL);
    expect_refusal("empty baud", L_BAUD, "baud = 921600,,115200", NULL, L_BAUD, "empty", NULL);
    expect_refusal("bad sha", L_SHA1, "sha256 = 1234", NULL, L_SHA1, "not 64 hex digits", NULL);

    /* Images */
    expect_refusal("missing image", L_FILE1, "file = img/nope.bin", NULL, L_FILE1, "img/nope.bin",
                   "No such file", NULL);
    expect_refusal("unreadable image", L_FILE1, "file = img", NULL, L_FILE1, "not a regular file", NULL);
    snprintf(line, sizeof line, "sha256 = %s", sha_empty);
    snprintf(buf, sizeof buf, "[image]\noffset = 0x20000\nfile = img/empty.bin\n%s\n", line);
    expect_refusal("empty image", 0, NULL, buf, L_COUNT + 3, "img/empty.bin is empty", NULL);
    snprintf(line, sizeof line, "sha256 = %s", sha_b);
    {
        char exp[80], act[80];
        snprintf(exp, sizeof exp, "expected %s", sha_b);
        snprintf(act, sizeof act, "actual %s", sha_a);
        expect_refusal("sha mismatch", L_SHA1, line, NULL, L_SHA1, "SHA-256 mismatch", "img/a.bin", exp,
                       act, NULL);
    }
    expect_refusal("overlap", L_OFF2, "offset = 0x2000", NULL, L_OFF2, "overlaps", "0x1000", NULL);
    expect_refusal("unaligned", L_OFF2, "offset = 0x10800", NULL, L_OFF2, "0x10800",
                   "not 4 KiB aligned", NULL);
    /* 4 MB flash; b (5000 bytes) at 0x3FF000 ends past 0x400000. */
    expect_refusal("beyond flash", L_OFF2, "offset = 0x3FF000", NULL, L_OFF2, "beyond flash_size", NULL);

    /* Chip and flash parameters */
    expect_refusal("unknown chip", L_CHIP, "chip = esp32s3", NULL, L_CHIP, "esp32s3",
                   "only esp32 is supported", NULL);
    expect_refusal("unknown mode", L_MODE, "flash_mode = fastest", NULL, L_MODE,
                   "unknown flash_mode 'fastest'", NULL);
    expect_refusal("unknown freq", L_FREQ, "flash_freq = 60m", NULL, L_FREQ, "unknown flash_freq '60m'",
                   NULL);
    expect_refusal("unknown size", L_SIZE, "flash_size = 3MB", NULL, L_SIZE, "unknown flash_size '3MB'",
                   NULL);

    /* Too many images: base has 2; sections 3..17 appended, the 17th is refused. */
    buf[0] = 0;
    for (int i = 3; i <= ST_MAX_IMAGES + 1; i++) {
        snprintf(line, sizeof line, "[image]\noffset = 0x%x\nfile = img/b.bin\nsha256 = %s\n",
                 0x100000 * i, sha_b);
        strcat(buf, line);
    }
    expect_refusal("too many images", 0, NULL, buf, L_COUNT + 1 + 4 * (ST_MAX_IMAGES - 2),
                   "too many images", NULL);

    /* Stub */
    expect_refusal("unreadable stub", L_STUB, "stub = stubs/none.json", NULL, L_STUB, "stubs/none.json",
                   "cannot read stub", NULL);
    expect_refusal("bad stub", L_STUB, "stub = bad_stub.json", NULL, L_STUB, "bad_stub.json",
                   "missing key \"entry\"", NULL);
}

/* Cases whose text does not fit the base-with-one-change pattern. */
static void test_whole_file_refusals(void)
{
    st_profile p;
    st_err e;
    char path[512];

    snprintf(path, sizeof path, "%s/p.ini", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "name = early\n[profile]\n");
    fclose(f);
    CHECK_EQ_INT(st_profile_load(path, &p, &e), -1);
    CHECK_CONTAINS(e.msg, "p.ini:1: ");
    CHECK_CONTAINS(e.msg, "outside any section");

    f = fopen(path, "w");
    fprintf(f, "[image]\noffset = 0x1000\nfile = img/a.bin\nsha256 = %s\n", sha_a);
    fclose(f);
    CHECK_EQ_INT(st_profile_load(path, &p, &e), -1);
    CHECK_CONTAINS(e.msg, "no [profile] section");

    f = fopen(path, "w");
    for (int i = 0; i < L_IMG1 - 1; i++)
        fprintf(f, "%s\n", base[i]);
    fclose(f);
    CHECK_EQ_INT(st_profile_load(path, &p, &e), -1);
    CHECK_CONTAINS(e.msg, "no [image] section");

    snprintf(path, sizeof path, "%s/absent.ini", dir);
    CHECK_EQ_INT(st_profile_load(path, &p, &e), -1);
    CHECK_EQ_INT(e.cat, ST_E_PROFILE);
    CHECK_CONTAINS(e.msg, "absent.ini");
}

/* The shipped core2/fire profiles are well-formed: with stand-in files and digests they
 * load with the M5Stack values; as shipped they refuse at the first placeholder digest. */
static void test_shipped(const char *name)
{
    char src[512], dst[512], sub[512], line[512];
    snprintf(src, sizeof src, "%s/%s.ini", ST_PROFILES_SRC, name);
    snprintf(dst, sizeof dst, "%s/%s.ini", dir, name);
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/stubs", dir);
    mkdir(sub, 0755);
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    if (!CHECK(in && out))
        return;
    char sha[65] = "";
    int lineno = 0, sha_line = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        char rel[256];
        if (sscanf(line, "file = %255s", rel) == 1) {
            write_file(rel, rel, strlen(rel)); /* stand-in content: its own name */
            sha_hex(rel, strlen(rel), sha);
        } else if (sscanf(line, "stub = %255s", rel) == 1) {
            /* stand-in at the ESP32 stub's addresses (a stub for another chip is refused) */
            const char *js = "{\"entry\": 1074520064, \"text\": \"AAAA\", \"text_start\": 1074520064}";
            write_file(rel, js, strlen(js));
        } else if (strncmp(line, "sha256 =", 8) == 0) {
            if (!sha_line)
                sha_line = lineno;
            snprintf(line, sizeof line, "sha256 = %s\n", sha);
        }
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    st_profile p;
    st_err e;
    if (!load_ok(st_profile_load(dst, &p, &e), &e, name))
        return;
    CHECK_STR(p.name, name);
    check_settings(&p, "dio", "80m", 16 * 1024 * 1024, 4, 1500000, 921600, 460800, 115200);
    CHECK_CONTAINS(p.stub_path, "/stubs/stub_flasher_32.json");
    CHECK_EQ_INT(p.n_images, 3);
    CHECK_EQ_INT(p.images[0].offset, 0x1000);
    CHECK_EQ_INT(p.images[1].offset, 0x8000);
    CHECK_EQ_INT(p.images[2].offset, 0x10000);

    /* As shipped: refused at the first placeholder digest, before looking for files. */
    CHECK_EQ_INT(st_profile_load(src, &p, &e), -1);
    snprintf(line, sizeof line, "%s.ini:%d: ", name, sha_line);
    CHECK_CONTAINS(e.msg, line);
    CHECK_CONTAINS(e.msg, "not 64 hex digits");
}

static void test_resolve(void)
{
    char out[ST_PATH_MAX], sp[600], want[600];
    st_err e;
    snprintf(want, sizeof want, "%s/p.ini", dir);
    CHECK_EQ_INT(st_profile_resolve(want, "", out, sizeof out, &e), 0);
    CHECK_STR(out, want);
    snprintf(sp, sizeof sp, "/nonexistent/a:%s", dir);
    CHECK_EQ_INT(st_profile_resolve("p", sp, out, sizeof out, &e), 0);
    CHECK_STR(out, want);
    CHECK_EQ_INT(st_profile_resolve("nope", sp, out, sizeof out, &e), -1);
    CHECK_EQ_INT(e.cat, ST_E_PROFILE);
    CHECK_CONTAINS(e.msg, "nope");
    CHECK_CONTAINS(e.msg, dir);
    CHECK_EQ_INT(st_profile_resolve("p", sp, out, 8, &e), -1); /* does not fit */
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_profile_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char sub[300];
    snprintf(sub, sizeof sub, "%s/img", dir);
    mkdir(sub, 0755);
    static uint8_t a[A_LEN], b[B_LEN];
    for (int i = 0; i < A_LEN; i++)
        a[i] = (uint8_t)(i * 7 + 3);
    for (int i = 0; i < B_LEN; i++)
        b[i] = (uint8_t)(i * 13 + 1);
    write_file("img/a.bin", a, sizeof a);
    write_file("img/b.bin", b, sizeof b);
    write_file("img/empty.bin", "", 0);
    const char *stub = "{\"entry\": 1074521580, \"text\": \"AAECAw==\", \"text_start\": 1074520064}";
    write_file("stub.json", stub, strlen(stub));
    const char *bad = "{\"text\": \"AAECAw==\", \"text_start\": 1074520064}";
    write_file("bad_stub.json", bad, strlen(bad));
    sha_hex(a, sizeof a, sha_a);
    sha_hex(b, sizeof b, sha_b);
    sha_hex("", 0, sha_empty);
    make_base();

    test_valid();
    test_valid_variants();
    test_refusals();
    test_whole_file_refusals();
    test_resolve();
    test_shipped("core2");
    test_shipped("fire");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_profile");
}

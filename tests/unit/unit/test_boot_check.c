/* test_boot_check.c - the boot check (station/unit/boot_check.c) on a pseudo-terminal the
 * test writes console text into: matching across reads, captures, the last lines kept,
 * each diagnosis, early stop on a boot loop, silence until the timeout, the profile's
 * [boot_check] keys and refusals; and the retry policy per diagnosis (line/). */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot_check.h"
#include "clock.h"
#include "retry_policy.h"

static int open_master(char *slave, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || !ptsname(m))
        return -1;
    snprintf(slave, cap, "%s", ptsname(m));
    return m;
}

static st_boot_check cfg(const char *expect, int timeout_ms)
{
    st_boot_check b = {.enabled = true, .baud = 115200, .timeout_ms = timeout_ms};
    snprintf(b.expect, sizeof b.expect, "%s", expect);
    snprintf(b.capture[0], sizeof b.capture[0], "version");
    snprintf(b.capture[1], sizeof b.capture[1], "board");
    b.n_capture = 2;
    return b;
}

/* Feed text (written to the PTY master before listening; pre bytes as the loader left
 * them) and listen. */
static int listen_to(const char *pre, const char *text, const st_boot_check *bc,
                     st_boot_result *r, st_err *err, double *secs)
{
    char slave[128];
    int m = open_master(slave, sizeof slave);
    if (!CHECK(m >= 0))
        return -2;
    st_port *p;
    if (!CHECK_EQ_INT(st_port_open(slave, 115200, &p, err), 0)) {
        close(m);
        return -2;
    }
    if (text && *text && write(m, text, strlen(text)) < 0)
        perror("write");
    double t0 = st_now();
    int rc = st_boot_listen(p, bc, pre, pre ? strlen(pre) : 0, NULL, r, err);
    *secs = st_now() - t0;
    st_port_close(p);
    close(m);
    return rc;
}

static const char *ROM = "\xc0\xc0" "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x3 (SW_RESET),boot:0x13 "
                         "(SPI_FAST_FLASH_BOOT)\r\nI (29) boot: ESP-IDF v4.4.6 2nd stage bootloader\r\n";

static void passes(void)
{
    st_boot_check bc = cfg("M5Core2 v(\\d+\\.\\d+\\.\\d+) ready on (\\w+)", 3000);
    st_boot_result r;
    st_err err;
    double secs;
    char text[512];
    snprintf(text, sizeof text, "%sI (31) app: hello\r\nM5Core2 v1.2.3 ready on core2\r\nlater\r\n", ROM);
    /* Part of the text was already read by the loader (after its last reply). */
    CHECK_EQ_INT(listen_to("\xc0\xc0" "ets Jul", text + 9, &bc, &r, &err, &secs), 0);
    CHECK(r.passed && r.checked);
    CHECK_STR(r.captured, "version=1.2.3; board=core2");
    CHECK_STR(r.matched, "M5Core2 v1.2.3 ready on core2");
    CHECK(secs < 2.0); /* stops at the match, not at the timeout */
    CHECK_EQ_INT(r.resets, 1);
    /* The banner as the last bytes, without a newline, still counts. */
    CHECK_EQ_INT(listen_to(NULL, "M5Core2 v2.0.0 ready on fire", &bc, &r, &err, &secs), 0);
    CHECK_STR(r.captured, "version=2.0.0; board=fire");
}

static void diagnoses(void)
{
    static const struct { const char *text; st_boot_diag d; const char *name, *in_console; } cases[] = {
        {"", ST_BOOT_SILENT, "silent", ""},
        {"I (31) other-fw: v9.9.9 ready\r\n", ST_BOOT_NO_MATCH, "no_match", "other-fw"},
        {"I (112) cpu_start: Pro cpu start user code\r\n\r\nBrownout detector was triggered\r\n\r\n",
         ST_BOOT_BROWNOUT, "brownout", "Brownout detector was triggered"},
        {"invalid header: 0xffffffff\r\n", ST_BOOT_BAD_IMAGE, "bad_image", "invalid header"},
        {"E (45) boot: flash read err, 1000\r\n", ST_BOOT_BAD_IMAGE, "bad_image", "flash read err"},
        {"Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
         "Rebooting...\r\n", ST_BOOT_PANIC, "panic", "Guru Meditation"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_boot_check bc = cfg("M5Core2 v([0-9.]+) ready", 400);
        st_boot_result r;
        st_err err;
        double secs;
        char text[600];
        snprintf(text, sizeof text, "%s%s", i ? ROM : "", cases[i].text);
        CHECK_EQ_INT(listen_to(NULL, text, &bc, &r, &err, &secs), -1);
        if (!CHECK_EQ_INT(r.diag, cases[i].d))
            fprintf(stderr, "case %zu: diag %s\n", i, st_boot_diag_name(r.diag));
        CHECK_EQ_INT(err.fclass, ST_FC_NO_BOOT);
        CHECK_EQ_INT(err.phase, ST_PH_BOOT);
        CHECK_EQ_INT(err.boot, cases[i].d);
        char want[64];
        snprintf(want, sizeof want, "no boot (%s)", cases[i].name);
        CHECK_CONTAINS(err.msg, want);
        CHECK_CONTAINS(r.console, cases[i].in_console);
        CHECK_STR(err.hint, st_boot_diag_hint(cases[i].d));
        CHECK(secs >= 0.35); /* no verdict before the timeout: the app may still come up */
    }
}

static void boot_loop(void)
{
    st_boot_check bc = cfg("M5Core2 v([0-9.]+) ready", 5000);
    char text[4096] = "";
    for (int i = 0; i < 5; i++)
        strcat(text, "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x10 (RTCWDT_RTC_RESET),boot:0x13 "
                     "(SPI_FAST_FLASH_BOOT)\r\nI (112) cpu_start: Pro cpu start user code\r\n");
    st_boot_result r;
    st_err err;
    double secs;
    CHECK_EQ_INT(listen_to(NULL, text, &bc, &r, &err, &secs), -1);
    CHECK_EQ_INT(r.diag, ST_BOOT_LOOP);
    CHECK(r.resets >= 3);
    CHECK(secs < 3.0); /* a loop is a verdict: no need to wait out the timeout */
    /* At most ST_BOOT_CONSOLE_LINES lines kept, the newest last. */
    int lines = 1;
    for (const char *p = r.console; *p; p++)
        lines += *p == '\n';
    CHECK(lines <= ST_BOOT_CONSOLE_LINES);
    CHECK(strlen(r.console) < sizeof r.console);
    CHECK_EQ_INT(st_boot_classify("a\nrst:0x1\nrst:0x3\n", 2), ST_BOOT_NO_MATCH);
    /* A panic early in a loop: the diagnosis and its line survive the lines after it. */
    char panic[4096] = "Guru Meditation Error: Core  1 panic'ed (LoadProhibited).\r\nRebooting...\r\n";
    for (int i = 0; i < 5; i++)
        strcat(panic, "ets Jul 29 2019 12:21:46\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 "
                      "(SPI_FAST_FLASH_BOOT)\r\nI (29) boot: ESP-IDF v4.4.6 2nd stage bootloader\r\n"
                      "I (112) cpu_start: Pro cpu start user code\r\n");
    CHECK_EQ_INT(listen_to(NULL, panic, &bc, &r, &err, &secs), -1);
    CHECK_EQ_INT(r.diag, ST_BOOT_PANIC);
    CHECK_CONTAINS(r.console, "Guru Meditation Error");
    CHECK_CONTAINS(r.console, "cpu_start"); /* and the last lines after it */
    CHECK_EQ_INT(st_boot_classify("", 0), ST_BOOT_SILENT);
}

static void retry_policy(void)
{
    st_retry_limits l;
    st_retry_limits_default(&l);
    const int ladder[] = {1500000, 921600, 115200};
    static const struct { st_boot_diag d; st_retry_step first; } cases[] = {
        {ST_BOOT_SILENT, ST_RETRY_RESYNC},    {ST_BOOT_NO_MATCH, ST_RETRY_GIVE_UP},
        {ST_BOOT_BROWNOUT, ST_RETRY_GIVE_UP}, {ST_BOOT_BAD_IMAGE, ST_RETRY_GIVE_UP},
        {ST_BOOT_PANIC, ST_RETRY_GIVE_UP},    {ST_BOOT_LOOP, ST_RETRY_GIVE_UP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_retry_state s;
        st_retry_begin(&s);
        s.tries = 1;
        st_err e = {.fclass = ST_FC_NO_BOOT, .boot = cases[i].d};
        CHECK_EQ_INT(st_retry_next_err(&l, ladder, 3, &e, &s), cases[i].first);
        CHECK_EQ_INT(st_retry_is_permanent_err(&e), cases[i].first == ST_RETRY_GIVE_UP);
        if (cases[i].first == ST_RETRY_RESYNC) { /* one retry, then the bin */
            s.tries = 2;
            CHECK_EQ_INT(st_retry_next_err(&l, ladder, 3, &e, &s), ST_RETRY_GIVE_UP);
        }
    }
    /* Other classes go through st_retry_err exactly as through the class table. */
    st_retry_state a, b;
    st_retry_begin(&a);
    st_retry_begin(&b);
    a.tries = b.tries = 1;
    st_err md5 = {.fclass = ST_FC_MD5_MISMATCH};
    CHECK_EQ_INT(st_retry_next_err(&l, ladder, 3, &md5, &a),
                 st_retry_next(&l, ladder, 3, ST_FC_MD5_MISMATCH, &b));
}

/* One capture group's value out of the recorded "name=value; ..." text (the events'
 * app_version). */
static void captured_value(void)
{
    char v[16];
    CHECK(st_boot_captured_value("version=1.4.2; build=7", "version", v, sizeof v));
    CHECK_STR(v, "1.4.2");
    CHECK(st_boot_captured_value("build=7; version=2.0.0-rc1", "version", v, sizeof v));
    CHECK_STR(v, "2.0.0-rc1");
    CHECK(st_boot_captured_value("subversion=9; version=3", "version", v, sizeof v));
    CHECK_STR(v, "3");
    CHECK(!st_boot_captured_value("build=7", "version", v, sizeof v));
    CHECK_STR(v, "");
    CHECK(!st_boot_captured_value("version=", "version", v, sizeof v)); /* the group matched nothing */
    CHECK(!st_boot_captured_value("", "version", v, sizeof v));
    CHECK(st_boot_captured_value("version=1.2.3.4.5.6.7.8.9", "version", v, sizeof v));
    CHECK_STR(v, "1.2.3.4.5.6.7.8"); /* cut to fit */
}

int main(void)
{
    captured_value();
    passes();
    diagnoses();
    boot_loop();
    retry_policy();
    return check_summary("boot_check");
}

/* test_rfc2217 - the station's rfc2217:// port backend and its DTR/RTS reset sequences
 * (station/unit/reset.c) against esp32sim --rfc2217, whose units sit behind the classic
 * two-transistor auto-reset circuit: opening the port resets nothing, the lines do.
 *
 * usage: test_rfc2217 CASE ESP32SIM PROFILE_DIR
 *   resets     each connect attempt's sequence (Unix 50/550, Classic 50/550) brings a unit
 *              that was running its app into download mode; a hard reset boots the app; a
 *              sequence that releases GPIO0 before the chip latches it boots the app
 *   flash      st_flash_unit end to end on a unit left running its app
 *   wrong_boot a unit whose GPIO0 never goes low: "wrong boot mode (0x13)"
 *   no_reset   --no-reset: a unit running its app does not answer (opening did not reset
 *              it); one left in download mode by the previous session is flashed
 *   stub_left  --no-reset on a unit left running the stub: flashed through it, no upload */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "loader.h"
#include "reset.h"
#include "stub_upload.h"

static const char *g_sim, *g_dir;

/* rfc2217://127.0.0.1:PORT of slot 1, from DIR/slot1.rfc2217. */
static void rfc_port(const sim_proc *s, char *out, size_t cap)
{
    sim_port_url(s, 1, "rfc2217", out, cap);
}

static bool start(sim_proc *s, const char *extra_opt)
{
    static char base[16];
    snprintf(base, sizeof base, "%d", 21000 + (int)(getpid() % 20000));
    const char *args[] = {"--rfc2217", base, "--unit-opt", "1:mac=24:0a:c4:12:34:56",
                          extra_opt ? "--unit-opt" : NULL, extra_opt, NULL};
    return sim_start(s, g_sim, args);
}

/* Until the simulator's log holds text n times, at most timeout_ms. */
static bool log_count_wait(const sim_proc *s, const char *text, int n, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        int c = 0;
        for (const char *p = sim_log_text(s); (p = strstr(p, text)) != NULL; p++)
            c++;
        if (c >= n)
            return true;
        if (waited >= timeout_ms)
            return false;
        harness_sleep_ms(20);
    }
}

/* The boot banner the unit sends after a reset, captured by the loader. */
static const char *banner_after(st_loader *l)
{
    l->capture = true;
    l->banner_len = 0;
    l->banner[0] = 0;
    st_loader_await_boot(l, 30, 2000);
    l->capture = false;
    return l->banner;
}

static bool syncs(st_loader *l)
{
    for (int t = 0; t < 3; t++) {
        st_err e;
        if (st_cmd_sync(l, ST_TO_SYNC_MS, &e) == 0) {
            st_cmd_sync_drain(l);
            return true;
        }
    }
    return false;
}

static int lines(st_port *p, bool dtr, bool rts)
{
    st_err e;
    int rc = st_port_set_lines(p, dtr, rts, &e);
    if (rc < 0)
        harness_print_err(&e);
    return rc;
}

/* Addresses that are not an RFC 2217 server: a clear error, no hang. */
static void bad_servers(void)
{
    st_port *p = NULL;
    st_err err;
    CHECK_EQ_INT(st_port_open("rfc2217://127.0.0.1", 115200, &p, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_CONTAINS(err.msg, "rfc2217://HOST:PORT");
    /* A listener that takes the connection (backlog) but never speaks Telnet. */
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (!CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 1) == 0 &&
               getsockname(ls, (struct sockaddr *)&a, &len) == 0))
        return;
    char name[64];
    snprintf(name, sizeof name, "rfc2217://127.0.0.1:%d", ntohs(a.sin_port));
    double t = st_now();
    CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), -1);
    CHECK(st_now() - t < 5.0);
    CHECK_CONTAINS(err.msg, "did not answer");
    CHECK_CONTAINS(err.hint, "socket://HOST:PORT");
    close(ls);
}

static void run_resets(void)
{
    bad_servers();
    sim_proc s;
    if (!CHECK(start(&s, NULL)))
        return;
    char name[300];
    rfc_port(&s, name, sizeof name);
    CHECK_CONTAINS(name, "rfc2217://127.0.0.1:");
    st_port *p = NULL;
    st_err err;
    if (!CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), 0)) {
        harness_print_err(&err);
        sim_stop(&s);
        return;
    }
    CHECK_EQ_INT(st_port_describe(p)->kind, ST_PORT_RFC2217);
    CHECK(st_port_describe(p)->has_modem_lines);
    st_loader l;
    CHECK_EQ_INT(st_loader_init(&l, p, &err), 0);

    /* The unit powered up into its app; opening the port did not reset it: nothing comes
     * and nothing answers a SYNC. */
    uint8_t buf[256];
    CHECK_EQ_INT(st_port_read(p, buf, sizeof buf, 300, &err), 0);
    CHECK(!syncs(&l));

    for (int a = 0; a < 4; a++) {
        st_reset_kind kind;
        int delay;
        st_reset_plan(a, &kind, &delay);
        st_loader_flush(&l);
        if (!CHECK_EQ_INT(st_reset_download(p, kind, delay, &err), 0))
            harness_print_err(&err);
        const char *b = banner_after(&l);
        if (!CHECK_CONTAINS(b, "boot:0x3 (DOWNLOAD_BOOT") ||
            !CHECK_CONTAINS(b, "waiting for download"))
            fprintf(stderr, "attempt %d (%s, %d ms)\n", a,
                    kind == ST_RESET_UNIX_TIGHT ? "unix tight" : "classic", delay);
        CHECK(syncs(&l));
        /* Back into the app before the next sequence, as a unit that ran its firmware. */
        st_loader_flush(&l);
        CHECK_EQ_INT(st_reset_hard(p, &err), 0);
        CHECK_CONTAINS(banner_after(&l), "boot:0x13 (SPI_FAST_FLASH_BOOT)");
        CHECK(!syncs(&l));
    }

    /* A wrong sequence: EN released with GPIO0 still high, GPIO0 pulled low only 30 ms
     * later, after the chip latched it. */
    st_loader_flush(&l);
    CHECK_EQ_INT(lines(p, false, true), 0);
    st_sleep_ms(100);
    CHECK_EQ_INT(lines(p, false, false), 0);
    st_sleep_ms(30);
    CHECK_EQ_INT(lines(p, true, false), 0);
    st_sleep_ms(50);
    CHECK_EQ_INT(lines(p, false, false), 0);
    CHECK_CONTAINS(banner_after(&l), "boot:0x13 (SPI_FAST_FLASH_BOOT)");
    CHECK(!syncs(&l));

    /* DTR and RTS together without EN going low (both asserted): no reset at all. */
    st_loader_flush(&l);
    CHECK_EQ_INT(lines(p, true, true), 0);
    CHECK_EQ_INT(st_port_read(p, buf, sizeof buf, 200, &err), 0);
    CHECK_EQ_INT(lines(p, false, false), 0);

    /* The adapter's rate follows st_port_set_baud (SET-BAUDRATE answered with it). */
    CHECK_EQ_INT(st_port_set_baud(p, 921600, &err), 0);
    CHECK_EQ_INT(st_port_get_baud(p), 921600);
    CHECK(log_count_wait(&s, "adapter baud 921600", 1, 2000));
    st_loader_free(&l);
    st_port_close(p);
    if (check_state_()->failures)
        sim_dump_log(&s);
    sim_stop(&s);
}

static bool flash(const sim_proc *s, const st_flash_opts *o0, st_flash_report *rep, st_err *err,
                  st_fwset *fw)
{
    char name[300];
    rfc_port(s, name, sizeof name);
    st_flash_opts o = *o0;
    o.log = harness_log;
    int rc = st_flash_unit(name, fw, &o, rep, err);
    if (rc != 0)
        harness_print_err(err);
    return rc == 0;
}

static void run_flash(void)
{
    sim_proc s;
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(fw && load_fwset("demo", g_dir, fw)) || !CHECK(start(&s, NULL))) {
        free(fw);
        return;
    }
    CHECK(log_count_wait(&s, "power-on: normal boot", 1, 2000));
    st_flash_report rep;
    st_err err;
    st_flash_opts o = {0};
    CHECK(flash(&s, &o, &rep, &err, fw));
    CHECK_EQ_INT(rep.port.kind, ST_PORT_RFC2217);
    CHECK(rep.used_stub);
    CHECK_EQ_INT(rep.regions_verified, fw->n);
    CHECK_EQ_INT(rep.baud, 1500000);
    CHECK(flash_has_images(&s, 1, fw));
    /* The reset sequence (not the open) brought it into download mode, the baud change
     * reached the adapter, and the RTS pulse at the end booted the new app. */
    CHECK(log_count_wait(&s, "EN released with GPIO0 low: reset into download mode", 1, 5000));
    CHECK(log_count_wait(&s, "adapter baud 1500000", 1, 5000));
    CHECK(log_count_wait(&s, "booted into the app after a reset (EN)", 1, 5000));
    CHECK(strstr(sim_log_text(&s), "port opened (RFC 2217): no reset") != NULL);
    if (check_state_()->failures)
        sim_dump_log(&s);
    sim_stop(&s);
    st_fwset_free(fw);
    free(fw);
}

static void run_wrong_boot(void)
{
    sim_proc s;
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(fw && load_fwset("demo", g_dir, fw)) || !CHECK(start(&s, "1:fault=no_sync"))) {
        free(fw);
        return;
    }
    st_flash_report rep;
    st_err err;
    st_flash_opts o = {.sync_attempts = 2};
    CHECK(!flash(&s, &o, &rep, &err, fw));
    CHECK_EQ_INT(err.fclass, ST_FC_NO_SYNC);
    CHECK_CONTAINS(err.msg, "wrong boot mode (0x13)");
    sim_stop(&s);
    st_fwset_free(fw);
    free(fw);
}

static void run_no_reset(void)
{
    sim_proc s;
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(fw && load_fwset("demo", g_dir, fw)) || !CHECK(start(&s, NULL))) {
        free(fw);
        return;
    }
    st_flash_report rep;
    st_err err;
    st_flash_opts o = {.no_reset = true, .sync_attempts = 1};
    /* Running its app: with the PTY model the open would have reset it, here nothing does. */
    CHECK(!flash(&s, &o, &rep, &err, fw));
    CHECK_EQ_INT(err.fclass, ST_FC_NO_SYNC);

    /* A session that leaves the unit in download mode (reset sequence, then close). */
    char name[300];
    rfc_port(&s, name, sizeof name);
    st_port *p = NULL;
    if (CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), 0)) {
        CHECK_EQ_INT(st_reset_download(p, ST_RESET_CLASSIC, 50, &err), 0);
        st_port_close(p);
    } else {
        harness_print_err(&err);
    }
    CHECK(log_count_wait(&s, "reset into download mode", 1, 3000));
    CHECK(flash(&s, &o, &rep, &err, fw));
    CHECK(flash_has_images(&s, 1, fw));
    if (check_state_()->failures)
        sim_dump_log(&s);
    sim_stop(&s);
    st_fwset_free(fw);
    free(fw);
}

/* A unit left running the stub (a session that uploaded it and closed without a reset):
 * with --no-reset the station finds it by its SYNC (value 0) and flashes through it
 * without uploading it again. */
static void run_stub_left(void)
{
    sim_proc s;
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(fw && load_fwset("demo", g_dir, fw)) || !CHECK(start(&s, NULL))) {
        free(fw);
        return;
    }
    char name[300];
    rfc_port(&s, name, sizeof name);
    st_port *p = NULL;
    st_err err;
    st_loader l;
    if (CHECK_EQ_INT(st_port_open(name, 115200, &p, &err), 0) &&
        CHECK_EQ_INT(st_loader_init(&l, p, &err), 0)) {
        CHECK_EQ_INT(st_reset_download(p, ST_RESET_CLASSIC, 50, &err), 0);
        banner_after(&l);
        CHECK(syncs(&l));
        st_stub_stats ss = {0};
        CHECK_EQ_INT(st_stub_upload(&l, &fw->stub, 1, &ss, NULL, NULL, &err), 0);
        st_loader_free(&l);
    }
    st_port_close(p);
    CHECK(log_count_wait(&s, "stub running (OHAI sent)", 1, 3000));
    st_flash_report rep;
    st_flash_opts o = {.no_reset = true, .sync_attempts = 1};
    CHECK(flash(&s, &o, &rep, &err, fw));
    CHECK(rep.used_stub);
    CHECK_EQ_INT(rep.stub_uploads, 0);
    CHECK(flash_has_images(&s, 1, fw));
    CHECK(!log_count_wait(&s, "stub running (OHAI sent)", 2, 0));
    if (check_state_()->failures)
        sim_dump_log(&s);
    sim_stop(&s);
    st_fwset_free(fw);
    free(fw);
}

static const check_case cases[] = {
    {"resets", run_resets},     {"flash", run_flash},         {"wrong_boot", run_wrong_boot},
    {"no_reset", run_no_reset}, {"stub_left", run_stub_left},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_dir))
        return 2;
    return CHECK_RUN_CASE(argv[1], cases);
}

/* test_newstub - the station loads and runs Espressif's esp-flasher-stub (esptool-js
 * 0.7.0's ESP32 stub, as esptool 5.3 uploads by default) as well as the legacy one, the
 * profile naming which (stub_kind), and refuses a stub built for another chip.
 *
 * usage: test_newstub CASE ESP32SIM PROFILE_DIR NEW_ESP32_JSON OTHER_CHIP_JSON
 *   pty      flash over a pseudo-terminal; the simulator recognises the esp-flasher-stub;
 *            no software reset exists with it, and the station says so
 *   rfc2217  the same behind an RFC 2217 server: the RTS pulse boots the new firmware
 *   foreign  a profile naming the ESP32-S3 stub is refused before any unit is touched */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

static const char *g_sim, *g_dir, *g_new, *g_other;

/* DIR/NAME.ini: demo.ini with absolute image paths, `stub = json` and stub_kind. */
static bool write_profile(const sim_proc *s, const char *name, const char *json, const char *kind,
                          char *out, size_t cap)
{
    char stub[700];
    snprintf(stub, sizeof stub, "%s\nstub_kind = %s", json, kind);
    return demo_profile_with_stub(g_dir, s->dir, name, stub, out, cap);
}

static void run(bool rfc)
{
    sim_proc s;
    char base[16];
    snprintf(base, sizeof base, "%d", 22000 + (int)(getpid() % 20000));
    const char *args[] = {rfc ? "--rfc2217" : NULL, base, NULL};
    if (!CHECK(sim_start(&s, g_sim, rfc ? args : NULL)))
        return;
    char prof[600], port[300];
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!CHECK(fw && write_profile(&s, "demo-newstub", g_new, "esp-flasher-stub", prof,
                                   sizeof prof)) ||
        !CHECK(load_fwset(prof, g_dir, fw))) {
        sim_stop(&s);
        free(fw);
        return;
    }
    CHECK_EQ_INT(fw->stub.kind, ST_STUB_FLASHER);
    CHECK_EQ_INT(fw->stub.text_start, 0x400A8000);
    if (rfc)
        sim_port_url(&s, 1, "rfc2217", port, sizeof port);
    else
        sim_port(&s, 1, false, port, sizeof port);
    st_flash_opts o = {.log = harness_log};
    st_flash_report rep;
    st_err err;
    int rc = st_flash_unit(port, fw, &o, &rep, &err);
    if (rc != 0)
        harness_print_err(&err);
    CHECK_EQ_INT(rc, 0);
    CHECK(rep.used_stub);
    CHECK_EQ_INT(rep.stub_kind, ST_STUB_FLASHER);
    CHECK_EQ_INT(rep.stub_uploads, 1);
    CHECK_EQ_INT(rep.regions_verified, fw->n);
    CHECK_EQ_INT(rep.baud, 1500000);
    CHECK(flash_has_images(&s, 1, fw));
    CHECK(sim_log_wait(&s, "esp-flasher-stub (esptool-js 0.7.0)", 3000));
    if (rfc)
        CHECK(sim_log_wait(&s, "booted into the app after a reset (EN)", 5000));
    else
        CHECK(!strstr(sim_log_text(&s), "booted into the app after a reset"));
    if (check_state_()->failures)
        sim_dump_log(&s);
    sim_stop(&s);
    st_fwset_free(fw);
    free(fw);
}

static void run_foreign(void)
{
    sim_proc s;
    if (!CHECK(sim_start(&s, g_sim, NULL)))
        return;
    char prof[600];
    CHECK(write_profile(&s, "demo-s3stub", g_other, "esp-flasher-stub", prof, sizeof prof));
    static st_profile p;
    st_err err;
    CHECK_EQ_INT(st_profile_load(prof, &p, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_PROFILE);
    CHECK_CONTAINS(err.msg, "is not an ESP32 stub");
    CHECK_CONTAINS(err.msg, "0x40378000");
    CHECK(err.hint[0] != 0);
    /* stub_kind must name a known stub */
    CHECK(write_profile(&s, "demo-badkind", g_new, "fancy", prof, sizeof prof));
    CHECK_EQ_INT(st_profile_load(prof, &p, &err), -1);
    CHECK_CONTAINS(err.msg, "unknown stub_kind 'fancy'");
    sim_stop(&s);
}

static void run_pty(void) { run(false); }
static void run_rfc2217(void) { run(true); }

static const check_case cases[] = {
    {"pty", run_pty}, {"rfc2217", run_rfc2217}, {"foreign", run_foreign},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR NEW_JSON OTHER_JSON", &g_sim, &g_dir, &g_new,
                    &g_other))
        return 2;
    return CHECK_RUN_CASE(argv[1], cases);
}

/* test_flash_sim - the single-unit flash flow end to end against esp32sim: stub mode
 * and ROM mode over a pseudo-terminal, stub mode over TCP, and the `station flash`
 * executable. The unit arrives pre-filled with a pattern; after each run its whole flash
 * file must hold every image byte for byte at its offset, and not one byte outside the
 * images' sectors may have changed (ROM mode included: §14.1's window overrun).
 *
 * usage: test_flash_sim CASE ESP32SIM PROFILE_DIR STATION_EXE
 *   CASE: stub | rom | nostub | tcp | cli | realstub
 * realstub reads the stub JSON path from $ST_REAL_STUB_JSON (esptool-js's ESP32 stub). */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

#include "chip.h"

#define MAC "24:0a:c4:12:34:56"

static const char *g_sim, *g_dir, *g_station;

static void check_unit(const st_flash_report *rep)
{
    CHECK(rep->chip_known);
    char mac[18];
    st_mac_format(rep->chip.mac, mac);
    CHECK_STR(mac, MAC);
    CHECK(!rep->chip.mac_crc_bad); /* the simulator's eFuse CRC is computed as the chip's */
    CHECK_STR(rep->chip.description, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_EQ_INT(rep->chip.flash_size, 16u << 20);
    CHECK_EQ_INT(rep->chip.flash_id & 0xFF0000, 0x180000);
    CHECK_EQ_INT(rep->chip.xtal_mhz, 40);
}

static void check_written(const sim_proc *s, const st_fwset *fw, const st_flash_report *rep)
{
    CHECK_EQ_INT(rep->regions_verified, fw->n);
    uint64_t written, zbytes, erased;
    fw_write_cost(fw, &written, &zbytes, &erased);
    CHECK_EQ_INT(rep->bytes_raw, written);
    /* the stub gets the compressed streams; the ROM the images uncompressed (its
     * compressed path programs stale bytes past every stream, §14.1) */
    uint64_t sent = rep->used_stub ? zbytes : written;
    CHECK_EQ_INT(rep->bytes_compressed, sent);
    CHECK(rep->wire_out > sent);
    CHECK_EQ_INT(rep->bytes_erased, erased);
    /* the demo app ends in 0xFF sectors: erased, never programmed */
    CHECK(erased > 0);
    CHECK(erase_only_never_programmed(s, 1, fw));
    CHECK(rep->wire_in > 0);
    /* The whole flash: the images, and not one byte changed outside their sectors (nvs
     * and otadata 0x9000..0xFFFF between the partition table and the app included). */
    CHECK(flash_has_images(s, 1, fw));
    CHECK(flash_untouched(s, 1, 0x9000, 0x7000));
    /* The station rebooted the unit into its new firmware (esp32sim -v logs it). */
    if (!CHECK(sim_log_wait(s, "booted into the app after a reset", 10000)))
        fprintf(stderr, "no \"booted into the app after a reset\" in the simulator's log\n");
}

/* What a case expects of its flash beyond the unit and the written images. */
typedef struct expect {
    bool tcp;   /* reached over TCP, else the PTY with the sidecar's CP2104 identity */
    bool stub;  /* the stub ran (uploaded once), else the ROM loader did the work */
    int baud;   /* the rate the work ran at; 0: not checked */
    /* The case's own checks, or NULL. */
    void (*more)(const sim_proc *s, const st_fwset *fw, const st_flash_report *rep);
} expect;

/* Flash slot 1 of a running simulator with `profile` (a name in g_dir or a path), then
 * check the unit, what the case expects, and the flash file. */
static void flash_and_check(const sim_proc *s, const char *profile, st_flash_opts *o,
                            const expect *e)
{
    st_fwset *fw = calloc(1, sizeof *fw);
    st_flash_report rep;
    st_err err;
    memset(&rep, 0, sizeof rep);
    int rc = -2;
    if (CHECK(fw && load_fwset(profile, g_dir, fw))) {
        char port[300];
        sim_port(s, 1, e->tcp, port, sizeof port);
        o->log = harness_log;
        rc = st_flash_unit(port, fw, o, &rep, &err);
        if (rc != 0)
            harness_print_err(&err);
    }
    CHECK_EQ_INT(rc, 0);
    check_unit(&rep);
    CHECK_EQ_INT(rep.used_stub, e->stub);
    CHECK_EQ_INT(rep.stub_uploads, e->stub ? 1 : 0);
    if (e->baud)
        CHECK_EQ_INT(rep.baud, e->baud);
    if (e->tcp) {
        CHECK_EQ_INT(rep.port.kind, ST_PORT_TCP);
    } else {
        CHECK_STR(rep.port.bridge, "CP2104");
        CHECK_EQ_INT(rep.port.vid, 0x10c4);
    }
    if (e->more && fw)
        e->more(s, fw, &rep);
    if (rc == 0)
        check_written(s, fw, &rep);
    else
        sim_dump_log(s);
    if (fw)
        st_fwset_free(fw);
    free(fw);
}

static void run_pty(const char *profile, bool no_stub, bool expect_stub, int expect_baud)
{
    sim_proc s;
    const char *args[] = {"--unit-opt", "1:mac=" MAC, NULL};
    if (!CHECK(sim_start(&s, g_sim, args)))
        return;
    st_flash_opts o = {.no_stub = no_stub};
    flash_and_check(&s, profile, &o, &(expect){.stub = expect_stub, .baud = expect_baud});
    sim_stop(&s);
}

static void run_tcp(void)
{
    /* A base port that is free right now (the simulator binds it a moment later). */
    int base = 20000 + (int)(getpid() % 20000);
    char basestr[16];
    snprintf(basestr, sizeof basestr, "%d", base);
    sim_proc s;
    const char *args[] = {"--tcp", basestr, "--unit-opt", "1:mac=" MAC, NULL};
    if (!CHECK(sim_start(&s, g_sim, args)))
        return;
    st_flash_opts o = {0};
    flash_and_check(&s, "demo", &o, &(expect){.tcp = true, .stub = true});
    sim_stop(&s);
}

static void run_cli(void)
{
    sim_proc s;
    const char *args[] = {"--unit-opt", "1:mac=" MAC, NULL};
    if (!CHECK(sim_start(&s, g_sim, args)))
        return;
    char cmd[2048], out[300];
    snprintf(out, sizeof out, "%s/station.out", s.dir);
    snprintf(cmd, sizeof cmd,
             "'%s' flash --port '%s/slot1' --profile demo --profiles-dir '%s' --db '%s/st.db' > '%s' 2>&1",
             g_station, s.dir, g_dir, s.dir, out);
    int st = system(cmd);
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
    FILE *f = fopen(out, "r");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f)
        fclose(f);
    CHECK_CONTAINS(text, "MAC " MAC);
    CHECK_CONTAINS(text, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_CONTAINS(text, "flash:   ID 0x");
    CHECK_CONTAINS(text, "CP2104");
    CHECK_CONTAINS(text, "MD5 OK");
    CHECK_CONTAINS(text, "PASS: all 3 regions verified");
    CHECK_CONTAINS(text, "[write]");
    CHECK_CONTAINS(text, "[verify]");
    if (check_state_()->failures)
        fprintf(stderr, "---- station output ----\n%s\n", text);
    st_fwset *fw = calloc(1, sizeof *fw);
    if (load_fwset("demo", g_dir, fw))
        CHECK(flash_has_images(&s, 1, fw));
    st_fwset_free(fw);
    free(fw);

    /* A profile that does not exist: exit status 2 and a message, unit untouched. */
    snprintf(cmd, sizeof cmd,
             "'%s' flash --port '%s/slot1' --profile no-such-profile --profiles-dir '%s' --db '%s/st.db' > '%s' 2>&1",
             g_station, s.dir, g_dir, s.dir, out);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    sim_stop(&s);
}

/* The profile carried the real stub, and the simulator ran it as a stub. */
static void realstub_ran(const sim_proc *s, const st_fwset *fw, const st_flash_report *rep)
{
    (void)rep;
    CHECK(fw->has_stub);
    CHECK_EQ_INT(fw->stub.entry, 0x400BE5EC);
    if (!CHECK(sim_log_wait(s, "stub running (OHAI sent)", 10000)))
        fprintf(stderr, "no \"stub running (OHAI sent)\" in the simulator's log\n");
}

/* The station's stub loader must read the stub JSON format Espressif ships: flash with the
 * real ESP32 stub image from the esptool-js package (a profile identical to demo but for
 * its stub line), and check the simulator ran it as a stub. */
static void run_realstub(void)
{
    const char *json = getenv("ST_REAL_STUB_JSON");
    if (!CHECK(json && access(json, R_OK) == 0)) {
        fprintf(stderr, "ST_REAL_STUB_JSON unset or unreadable: %s\n", json ? json : "(unset)");
        return;
    }
    st_stub_image stub;
    st_err err;
    if (!CHECK_EQ_INT(st_stub_load(json, &stub, &err), 0)) {
        harness_print_err(&err);
        return;
    }
    /* esptool v4.7's legacy stub, as esptool-js 0.5.x ships it (protocol doc §7.1). */
    CHECK_EQ_INT(stub.entry, 0x400BE5EC);
    CHECK_EQ_INT(stub.text_start, 0x400BE000);
    CHECK_EQ_INT(stub.text_len, 3532);
    CHECK_EQ_INT(stub.data_start, 0x3FFDEBA8);
    CHECK_EQ_INT(stub.data_len, 156);
    st_stub_free(&stub);

    sim_proc s;
    const char *args[] = {"--unit-opt", "1:mac=" MAC, NULL};
    if (!CHECK(sim_start(&s, g_sim, args)))
        return;
    /* demo.ini with absolute image paths and the real stub. */
    char dst[600];
    if (!CHECK(demo_profile_with_stub(g_dir, s.dir, "demo-realstub", json, dst, sizeof dst))) {
        sim_stop(&s);
        return;
    }

    st_flash_opts o = {0};
    flash_and_check(&s, dst, &o, &(expect){.stub = true, .more = realstub_ran});
    sim_stop(&s);
}

static void run_stub(void) { run_pty("demo", false, true, 1500000); }
static void run_rom(void) { run_pty("demo-rom", false, false, 1500000); }
static void run_nostub(void) { run_pty("demo", true, false, 1500000); }

static const check_case cases[] = {
    {"stub", run_stub}, {"rom", run_rom}, {"nostub", run_nostub},
    {"tcp", run_tcp},   {"cli", run_cli}, {"realstub", run_realstub},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR STATION_EXE", &g_sim, &g_dir, &g_station))
        return 2;
    return CHECK_RUN_CASE(argv[1], cases);
}

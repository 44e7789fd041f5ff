/* test_fault - one injected simulator fault per case, and the exact outcome of one
 * st_flash_unit attempt: the classified error (class, phase, command, status bytes) for
 * the faults that must fail, a verified flash for those that must be survived.
 *
 * usage: test_fault CASE ESP32SIM PROFILE_DIR
 *
 * Decisions this suite pins down:
 * - ram_checksum:1: the ROM consumed the corrupted block's seq and wrote nothing, so the
 *   block is resent under the next seq (§14.1): one upload, blocks_repaired == 1.
 * - ram_checksum:12 (a block corrupted 4 times in each of 3 uploads): after the resends
 *   and stub_attempts (3) uploads the attempt falls back to the ROM loader and passes;
 *   with opts.stub_required it fails with stub_ram_checksum instead (the engine's retry
 *   policy then escalates).
 * - Wrong chip and too-small flash are refused in phase detect, before anything is
 *   uploaded or written. The stub reports write/inflate errors deferred, so the command
 *   that carries them is the next data block or the FLASH_DEFL_END barrier. */
#include "../integration/sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

#include "esp_proto.h"

static const char *g_sim, *g_dir;
static char g_log[1 << 16]; /* the attempt's log lines */

static void collect_log(void *user, const char *line)
{
    (void)user;
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s\n", line);
    harness_log(NULL, line);
}

typedef struct outcome {
    int rc;
    st_err err;
    st_flash_report rep;
    st_fwset *fw;
    sim_proc sim;
    bool started;
} outcome;

/* Start the simulator with slot 1's `unit_opt` (K:KEY=VALUE as --unit-opt takes it),
 * flash slot 1 with profile `profile` (a name in g_dir, or a path), keep the sim running
 * for inspection. */
static void run(outcome *o, const char *profile, const char *unit_opt, st_flash_opts *fo)
{
    memset(o, 0, sizeof *o);
    const char *args[] = {"--unit-opt", unit_opt, NULL};
    o->fw = calloc(1, sizeof *o->fw);
    if (!CHECK(load_fwset(profile, g_dir, o->fw)))
        return;
    if (!CHECK(sim_start(&o->sim, g_sim, args)))
        return;
    o->started = true;
    char port[300];
    sim_port(&o->sim, 1, false, port, sizeof port);
    fo->log = collect_log;
    g_log[0] = 0;
    o->rc = st_flash_unit(port, o->fw, fo, &o->rep, &o->err);
    if (o->rc != 0)
        harness_print_err(&o->err);
}

static void finish(outcome *o)
{
    if (check_state_()->failures && o->started)
        sim_dump_log(&o->sim);
    sim_stop(&o->sim);
    if (o->fw)
        st_fwset_free(o->fw);
    free(o->fw);
}

static void expect_pass(outcome *o)
{
    CHECK_EQ_INT(o->rc, 0);
    if (o->rc == 0 && o->started) {
        CHECK_EQ_INT(o->rep.regions_verified, o->fw->n);
        CHECK(flash_has_images(&o->sim, 1, o->fw));
    }
}

#define ANY_WRITE_CMD (-1) /* FLASH_DEFL_DATA or the FLASH_DEFL_END barrier */

/* The attempt failed with class fc in phase ph on command cmd (ANY_WRITE_CMD: either
 * write command), with the class hint, and with exactly the status bytes in hex text
 * (e.g. "01 07 00 00"; "" for none; NULL: not checked). */
static void expect_fail(const outcome *o, st_fclass fc, st_phase ph, int cmd, const char *status)
{
    CHECK_EQ_INT(o->rc, -1);
    CHECK_STR(st_fclass_name(o->err.fclass), st_fclass_name(fc));
    CHECK_STR(st_phase_name(o->err.phase), st_phase_name(ph));
    if (cmd == ANY_WRITE_CMD)
        CHECK(o->err.cmd == ESP_FLASH_DEFL_DATA || o->err.cmd == ESP_FLASH_DEFL_END);
    else
        CHECK_STR(esp_cmd_name(o->err.cmd), esp_cmd_name((uint8_t)cmd));
    CHECK_STR(o->err.hint, st_fclass_hint(fc));
    if (status) {
        uint8_t want[4];
        int n = 0;
        unsigned v;
        for (int used; n < 4 && sscanf(status, " %2x%n", &v, &used) == 1; status += used)
            want[n++] = (uint8_t)v;
        CHECK_EQ_INT(o->err.nstatus, n);
        CHECK_MEM(o->err.status, want, (size_t)n);
    }
    if (o->started && o->fw)
        CHECK(flash_outside_untouched(&o->sim, 1, o->fw));
}

/* A profile like demo.ini whose app lies at 4 MB (so it needs more than 4 MB of flash),
 * written next to the simulator's files. Returns its path in out. */
static bool write_big_profile(const char *tmpdir, char *out, size_t cap)
{
    char src[600];
    snprintf(src, sizeof src, "%s/demo.ini", g_dir);
    FILE *in = fopen(src, "r");
    snprintf(out, cap, "%s/demo-at-4mb.ini", tmpdir);
    FILE *f = fopen(out, "w");
    if (!in || !f) {
        if (in)
            fclose(in);
        if (f)
            fclose(f);
        return false;
    }
    char line[600];
    while (fgets(line, sizeof line, in)) {
        if (!strncmp(line, "name =", 6))
            fprintf(f, "name = demo-at-4mb\n");
        else if (!strncmp(line, "offset = 0x10000", 16))
            fprintf(f, "offset = 0x400000\n");
        else if (!strncmp(line, "file = ", 7))
            fprintf(f, "file = %s/%s", g_dir, line + 7);
        else if (!strncmp(line, "stub = ", 7))
            fprintf(f, "stub = %s/%s", g_dir, line + 7);
        else
            fputs(line, f);
    }
    fclose(in);
    return fclose(f) == 0;
}

/* One attempt per case, on the file's own outcome and options. */
static outcome o;
static st_flash_opts fo;

static void case_ram_checksum_1(void)
{
    run(&o, "demo", "1:fault=ram_checksum:1", &fo);
    expect_pass(&o);
    CHECK(o.rep.used_stub);
    /* The corrupted block's seq is consumed: resent under the next one, in place
     * (§14.1), no reset and no second upload. */
    CHECK_EQ_INT(o.rep.stub_uploads, 1);
    CHECK_EQ_INT(o.rep.blocks_repaired, 1);
    CHECK(!strstr(g_log, "upload the stub again"));
}

static void case_ram_checksum_many(void)
{
    /* 12 corrupted blocks: 4 per upload (the block and its 3 resends), 3 uploads */
    run(&o, "demo", "1:fault=ram_checksum:12", &fo);
    expect_pass(&o);
    CHECK(!o.rep.used_stub);      /* fell back to the ROM loader */
    CHECK_EQ_INT(o.rep.stub_uploads, 3);
    CHECK_EQ_INT(o.rep.blocks_repaired, 9);
}

static void case_ram_checksum_many_stub_required(void)
{
    fo.stub_required = true;
    run(&o, "demo", "1:fault=ram_checksum:12", &fo);
    expect_fail(&o, ST_FC_STUB_RAM_CHECKSUM, ST_PH_STUB, ESP_MEM_DATA, "01 07 00 00");
    CHECK_EQ_INT(o.err.cat, ST_E_DEVICE);
    CHECK_CONTAINS(o.err.msg, "Failed to write to target RAM (result was 01070000): "
                              "checksum error in a RAM block");
    CHECK_EQ_INT(o.rep.stub_uploads, 3);
    CHECK(o.rep.chip_known); /* the MAC was read before the stub upload */
}

static void case_flash_write_error(void)
{
    run(&o, "demo", "1:fault=flash_write_error", &fo);
    /* Deferred by the stub: the bootloader (24 KB) is written once its stream is
     * complete, so the write error comes with the FLASH_DEFL_END barrier. */
    expect_fail(&o, ST_FC_FLASH_WRITE, ST_PH_WRITE, ESP_FLASH_DEFL_END, "C4 00");
}

static void case_flash_write_error_rom(void)
{
    run(&o, "demo-rom", "1:fault=flash_write_error", &fo);
    expect_fail(&o, ST_FC_FLASH_WRITE, ST_PH_WRITE, ESP_FLASH_DATA, "01 08 00 00");
}

static void case_inflate_error(void)
{
    run(&o, "demo", "1:fault=inflate_error", &fo);
    /* The first block's inflate error, deferred to the reply to the second block. */
    expect_fail(&o, ST_FC_INFLATE, ST_PH_WRITE, ESP_FLASH_DEFL_DATA, "C7 00");
}

static void case_inflate_error_rom(void)
{
    /* The station writes uncompressed through the ROM: an inflate fault cannot hit. */
    run(&o, "demo-rom", "1:fault=inflate_error", &fo);
    expect_pass(&o);
    CHECK(!o.rep.used_stub);
}

static void case_bitflip(void)
{
    run(&o, "demo", "1:fault=bitflip:1", &fo);
    expect_fail(&o, ST_FC_MD5_MISMATCH, ST_PH_VERIFY, ESP_SPI_FLASH_MD5, "");
    CHECK_EQ_INT(o.err.cat, ST_E_VERIFY);
    CHECK_EQ_INT(o.rep.regions_verified, 2); /* only the first region was hit */
}

static void case_blank(void)
{
    run(&o, "demo", "1:fault=blank:1", &fo);
    expect_fail(&o, ST_FC_BLANK_READBACK, ST_PH_VERIFY, ESP_SPI_FLASH_MD5, "");
    CHECK_CONTAINS(o.err.msg, "all 0xFF");
}

static void case_no_sync(void)
{
    run(&o, "demo", "1:fault=no_sync", &fo);
    expect_fail(&o, ST_FC_NO_SYNC, ST_PH_SYNC, ESP_SYNC, "");
    CHECK_CONTAINS(o.err.msg, "wrong boot mode (0x13): not in download mode");
    CHECK(!o.rep.chip_known);
}

static void case_disconnect(void)
{
    run(&o, "demo", "1:fault=disconnect:50", &fo);
    /* The unit drops off while its bootloader is being written; whether the port
     * is seen gone on the last block's reply or on the barrier is a race. */
    expect_fail(&o, ST_FC_VANISHED, ST_PH_WRITE, ANY_WRITE_CMD, "");
    CHECK_EQ_INT(o.err.cat, ST_E_GONE);
    CHECK(o.rep.chip_known);
}

static void case_noise(void)
{
    run(&o, "demo", "1:fault=noise:0.3", &fo);
    expect_pass(&o);
    CHECK_CONTAINS(g_log, "line noise: "); /* garbage was there, and survived */
}

static void case_slow(void)
{
    run(&o, "demo", "1:fault=slow:50", &fo);
    expect_pass(&o);
}

static void case_wrong_chip(void)
{
    run(&o, "demo", "1:fault=wrong_chip", &fo);
    expect_fail(&o, ST_FC_WRONG_CHIP, ST_PH_DETECT, ESP_READ_REG, NULL);
    CHECK_EQ_INT(o.err.cat, ST_E_CHIP);
    CHECK_CONTAINS(o.err.msg, "ESP32-S3 (magic 0x00000009)");
    CHECK_EQ_INT(o.rep.stub_uploads, 0);
}

static void case_flash_too_small(void)
{
    char tmp[] = "/tmp/st-fault-XXXXXX", prof[700];
    if (CHECK(mkdtemp(tmp) != NULL) && CHECK(write_big_profile(tmp, prof, sizeof prof))) {
        run(&o, prof, "1:flash=4M", &fo);
        expect_fail(&o, ST_FC_FLASH_TOO_SMALL, ST_PH_DETECT, 0, NULL);
        CHECK_EQ_INT(o.err.cat, ST_E_CHIP);
        CHECK_EQ_INT(o.rep.chip.flash_size, 4u << 20);
        CHECK_EQ_INT(o.rep.stub_uploads, 0);
        CHECK_EQ_INT(o.rep.bytes_raw, 0);
        unlink(prof);
        rmdir(tmp);
    } else {
        memset(&o, 0, sizeof o);
    }
}

static void case_bridge_ftdi(void)
{
    /* No fault: the unit's FT231X bridge carries only 250k/500k/750k/1.5M above
     * 115200, so 921600 and 460800 come back garbled and the ladder steps down. */
    fo.baud = 921600;
    run(&o, "demo", "1:bridge=ftdi", &fo);
    expect_pass(&o);
    CHECK_EQ_INT(o.rep.baud, 115200);
    CHECK_STR(o.rep.port.bridge, "FT231X");
    CHECK_CONTAINS(g_log, "no clean answer at 921600 baud");
    CHECK_CONTAINS(g_log, "no clean answer at 460800 baud");
}

static void case_mac_crc(void)
{
    /* A MAC whose eFuse CRC is wrong: flashed, but reported as possibly misread. */
    run(&o, "demo", "1:fault=mac_crc", &fo);
    expect_pass(&o);
    CHECK(o.rep.chip.mac_crc_bad);
    CHECK_CONTAINS(g_log, "WARNING: eFuse MAC CRC is 0x");
}

static void case_flash_size_profile(void)
{
    /* The images fit in 4 MB, but the profile (and its image headers) says 16 MB. */
    run(&o, "demo", "1:flash=4M", &fo);
    expect_fail(&o, ST_FC_FLASH_TOO_SMALL, ST_PH_DETECT, 0, NULL);
    CHECK_CONTAINS(o.err.msg, "flash_size 16384 KB");
    CHECK_EQ_INT(o.rep.chip.flash_size, 4u << 20);
    CHECK_EQ_INT(o.rep.stub_uploads, 0);
    CHECK_EQ_INT(o.rep.bytes_raw, 0);
}

static void case_baud_max(void)
{
    fo.baud = 921600;
    run(&o, "demo", "1:fault=baud_max:460800", &fo);
    expect_pass(&o);
    CHECK_EQ_INT(o.rep.baud, 460800);
    CHECK(o.rep.used_stub);
    CHECK_EQ_INT(o.rep.stub_uploads, 2); /* again after the reset back to the ROM */
    CHECK_CONTAINS(g_log, "no clean answer at 921600 baud");
}

static void case_rx_drop_rom(void)
{
    /* At 1.5 Mbaud the ROM loses one FLASH_DATA frame's end (§14.1): no reply, so the
     * station re-syncs (a lone C0, SYNC) and restarts that region from FLASH_BEGIN, in
     * the same attempt, and says so in the link-repair count. */
    run(&o, "demo-rom", "1:fault=rx_drop:1", &fo);
    expect_pass(&o);
    CHECK(!o.rep.used_stub);
    CHECK(o.rep.baud > 115200);
    CHECK_EQ_INT(o.rep.blocks_repaired, 1);
    CHECK_CONTAINS(g_log, "1 link repair(s) while writing");
}

static void case_rx_drop_always(void)
{
    /* Every frame end lost: three restarts of the first region, then the attempt fails
     * (timeout, which the retry policy answers with a lower baud), its message says what
     * was tried, and nothing outside the regions changed (expect_fail checks it). */
    run(&o, "demo-rom", "1:fault=rx_drop:always", &fo);
    expect_fail(&o, ST_FC_TIMEOUT, ST_PH_WRITE, ESP_FLASH_DATA, "");
    CHECK_CONTAINS(o.err.msg, "re-synced and restarted 3 times");
    CHECK_EQ_INT(o.rep.blocks_repaired, 3);
}

static const check_case cases[] = {
    {"ram_checksum_1", case_ram_checksum_1},
    {"ram_checksum_many", case_ram_checksum_many},
    {"ram_checksum_many_stub_required", case_ram_checksum_many_stub_required},
    {"flash_write_error", case_flash_write_error},
    {"flash_write_error_rom", case_flash_write_error_rom},
    {"inflate_error", case_inflate_error},
    {"inflate_error_rom", case_inflate_error_rom},
    {"bitflip", case_bitflip},
    {"blank", case_blank},
    {"no_sync", case_no_sync},
    {"disconnect", case_disconnect},
    {"noise", case_noise},
    {"slow", case_slow},
    {"wrong_chip", case_wrong_chip},
    {"flash_too_small", case_flash_too_small},
    {"bridge_ftdi", case_bridge_ftdi},
    {"mac_crc", case_mac_crc},
    {"flash_size_profile", case_flash_size_profile},
    {"baud_max", case_baud_max},
    {"rx_drop_rom", case_rx_drop_rom},
    {"rx_drop_always", case_rx_drop_always},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_dir))
        return 2;
    const check_case *k = CHECK_FIND_CASE(argv[1], cases);
    if (!k)
        return 2;
    k->run();
    finish(&o);
    return check_summary(argv[1]);
}

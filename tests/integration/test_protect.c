/* test_protect - flash write protection (the M5Stack "MD5 of file does not match data in
 * flash" repair case) on the simulator's write_protect fault: the station reads the status
 * registers at detect and refuses a protected unit as write_protected before writing
 * anything (the whole pre-filled flash untouched); --unprotect clears it with a volatile
 * write and the flash passes; a locked-down register (SRP1) stays protected and is refused
 * with the reason; the same refusal when flashing through the ROM loader (rom), whose own
 * SPIUnlock keeps the bits (so its writes would be silently ignored).
 *
 * usage: test_protect CASE ESP32SIM PROFILE_DIR
 *   refused | unprotect | locked | rom */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

static const char *g_sim, *g_dir;

static int flash(const sim_proc *s, const st_fwset *fw, int unprotect, bool no_stub,
                 st_flash_report *rep, st_err *err)
{
    char port[300];
    sim_port(s, 1, false, port, sizeof port);
    st_flash_opts o = {.unprotect = unprotect, .no_stub = no_stub, .log = harness_log};
    int rc = st_flash_unit(port, fw, &o, rep, err);
    if (rc != 0)
        harness_print_err(err);
    return rc;
}

static void run(const char *c)
{
    bool locked = !strcmp(c, "locked");
    const char *args[] = {"--unit-opt", locked ? "1:fault=write_protect:0x011C" : "1:fault=write_protect",
                          NULL};
    sim_proc s;
    static st_fwset fw;
    if (!CHECK(sim_start(&s, g_sim, args)))
        return;
    if (!CHECK(load_fwset("demo", g_dir, &fw))) {
        sim_stop(&s);
        return;
    }
    st_flash_report rep;
    st_err err;
    if (!strcmp(c, "refused") || !strcmp(c, "rom")) {
        CHECK(flash(&s, &fw, 0, !strcmp(c, "rom"), &rep, &err) != 0);
        CHECK_STR(st_fclass_name(err.fclass), "write_protected");
        CHECK_EQ_INT(err.phase, ST_PH_DETECT);
        CHECK_CONTAINS(err.msg, "SR1 0x1c");
        CHECK_CONTAINS(err.hint, "--unprotect");
        CHECK(rep.chip.flash_sr_known);
        CHECK_EQ_INT(rep.chip.flash_sr[0], 0x1C);
        CHECK(!rep.unprotected);
        CHECK(flash_untouched(&s, 1, 0, 16u << 20)); /* nothing written, nothing erased */
    } else if (!strcmp(c, "unprotect")) {
        if (CHECK_EQ_INT(flash(&s, &fw, 1, false, &rep, &err), 0)) {
            CHECK(rep.unprotected);
            CHECK_EQ_INT(rep.chip.flash_sr[0], 0x1C); /* what it was */
            CHECK_EQ_INT(rep.flash_sr_after[0], 0x00);
            CHECK_EQ_INT(rep.regions_verified, fw.n);
            CHECK(flash_has_images(&s, 1, &fw));
        }
        /* the next flash of the unit (a reset, not a power cycle) finds it unprotected */
        if (CHECK_EQ_INT(flash(&s, &fw, 0, false, &rep, &err), 0))
            CHECK(!rep.unprotected);
    } else if (locked) {
        CHECK(flash(&s, &fw, 2, false, &rep, &err) != 0);
        CHECK_STR(st_fclass_name(err.fclass), "write_protected");
        CHECK(rep.unprotected);
        CHECK_EQ_INT(rep.flash_sr_after[1] & 0x01, 0x01);
        CHECK_CONTAINS(err.msg, "locked");
        CHECK(flash_untouched(&s, 1, 0, 16u << 20));
    }
    st_fwset_free(&fw);
    sim_stop(&s);
}

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_dir))
        return 2;
    run(argv[1]);
    return check_summary(argv[1]);
}

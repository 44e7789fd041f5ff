/* test_repair - the repair-bench commands besides flash, run as a technician types them
 * (the station program) against the simulator, each recorded like `station flash` and
 * shown by `station audit`.
 *
 * usage: test_repair CASE STATION ESP32SIM PROFILE_DIR
 *   identify           text and --json against the simulated unit's known values (MAC
 *                      94:b9:7e:5a:6e:58 with the eFuse CRC 0xe2 of the espefuse dump doc,
 *                      CH9102 bridge, 4 MB flash, 26 MHz crystal); nothing on the unit
 *                      changed (whole flash still the pattern, no program or erase); the
 *                      record (action identify) in audit and export; --no-record leaves none
 *   identify_security  eFuse security state (FLASH_CRYPT_CNT 3 = even: encryption off;
 *                      7 = odd: on; secure boot, JTAG disabled, coding 3/4) and a bad MAC
 *                      CRC warned, not refused; a missing --port and a store that cannot
 *                      be written refuse before the unit is touched
 *   read               a region and --all read through the stub, each file byte for byte
 *                      the simulator's flash file, no FILE.part left, nothing on the unit
 *                      changed; an existing FILE refused (unit not touched, no record),
 *                      --force replaces it; recorded (action read)
 *   read_mismatch      fault read_bitflip: a packet corrupted on the link is caught by
 *                      MD5, no FILE and no FILE.part left, the attempt recorded failed
 *   erase              a region erased: only that region (flash_untouched everywhere
 *                      else); --all erases everything; recorded (action erase)
 *   erase_refused      without --yes on a non-tty stdin, a misaligned region, no stub, a
 *                      write-protected flash: refused, the flash untouched; on a terminal
 *                      (script(1)) "no" erases nothing and "yes" erases the region
 *   unprotect          fault write_protect: cleared (volatile write), read back, identify
 *                      then shows no protection, recorded with what changed; a locked
 *                      register (SRP1) stays protected: exit 1 with the reason */
#include "engine_harness.h" /* first: _GNU_SOURCE */

static const char *g_station, *g_sim, *g_profdir;
static char g_run[64], g_db[128];

/* `station ARGS...` with stdin from /dev/null (not a terminal), stdout into *out and
 * stderr into *err (malloc'd). The exit status. */
static int station(const char *const *args, char **out, char **err)
{
    int rc = harness_run_cmd(g_station, args, g_run, out, err);
    fprintf(stderr, "$ station");
    for (int i = 0; args[i]; i++)
        fprintf(stderr, " %s", args[i]);
    fprintf(stderr, "  -> exit %d\n%s%s", rc, *out ? *out : "", *err ? *err : "");
    return rc;
}

/* A unit that was identified (or refused) has not changed: the whole flash still holds
 * the pattern and not one program or erase landed. */
static bool unit_untouched(const sim_proc *s, uint32_t flash_size)
{
    bool ok = flash_untouched(s, 1, 0, flash_size);
    for (uint32_t sec = 0; ok && sec < flash_size / 0x1000; sec++) {
        uint32_t ops[2];
        ok = sim_sector_ops(s, 1, sec, ops) && ops[0] == 0 && ops[1] == 0;
        if (!ok)
            fprintf(stderr, "sector %u: %u programs, %u erases\n", sec, ops[0], ops[1]);
    }
    return ok;
}

static json_t *json_line(const char *s)
{
    json_error_t je;
    json_t *o = s ? json_loads(s, JSON_DECODE_ANY, &je) : NULL;
    if (!o)
        fprintf(stderr, "not JSON: %s\n", s ? s : "(null)");
    return o;
}

/* The audit of mac holds one `action` attempt per expected count, and export says so. */
static void check_audit(const char *mac, const char *action, int want)
{
    char *out, *err;
    const char *a[] = {"audit", mac, "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0);
    char key[48];
    snprintf(key, sizeof key, "  %s: ", action);
    int n = 0;
    for (const char *p = out; p && (p = strstr(p, key)); p++)
        n++;
    CHECK_EQ_INT(n, want);
    free(out);
    free(err);
    const char *e[] = {"export", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(station(e, &out, &err), 0);
    char jk[48];
    snprintf(jk, sizeof jk, "\"action\":\"%s\"", action);
    n = 0;
    for (const char *p = out; p && (p = strstr(p, jk)); p++)
        n++;
    CHECK_EQ_INT(n, want);
    free(out);
    free(err);
    /* the repair bench's actions are no flashes: statistics leave them out */
    const char *st[] = {"stats", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(station(st, &out, &err), 0);
    CHECK_CONTAINS(out, "\"attempts\":0,");
    CHECK_CONTAINS(out, "\"units_tried\":0,");
    free(out);
    free(err);
}

/* A simulator with `units` units, each "K:KEY=VALUE" of opts given as --unit-opt. */
static bool start(sim_proc *s, int units, const char *const *opts)
{
    const char *args[28];
    char nunits[12];
    snprintf(nunits, sizeof nunits, "%d", units);
    int n = 0;
    args[n++] = "--units";
    args[n++] = nunits;
    for (int i = 0; opts && opts[i] && n < 24; i++) {
        args[n++] = "--unit-opt";
        args[n++] = opts[i];
    }
    args[n] = NULL;
    return CHECK(sim_start(s, g_sim, args));
}

/* ---- identify ---- */

static void case_identify(void)
{
    static const char *const opts[] = {"1:mac=94:b9:7e:5a:6e:58", "1:bridge=ch9102", "1:flash=4M",
                                       "1:xtal=26", "1:serial=BENCH-7", NULL};
    sim_proc s;
    if (!start(&s, 1, opts))
        return;
    char port[300];
    sim_port(&s, 1, false, port, sizeof port);
    char *out, *err;
    const char *a[] = {"identify", "--port", port, "--db", g_db, "--operator", "ana", NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK_CONTAINS(out, "chip:      ESP32-D0WD-V3 (revision v3.0)\n");
    CHECK_CONTAINS(out, "MAC:       94:b9:7e:5a:6e:58 (eFuse CRC 0xe2 OK)\n");
    CHECK_CONTAINS(out, "crystal:   26 MHz\n");
    CHECK_CONTAINS(out, "flash:     JEDEC ID 0x1640ef (manufacturer 0xef), 4 MB\n");
    CHECK_CONTAINS(out, "status:    SR1 0x00 SR2 0x00 SR3 0x00 (no write protection)\n");
    CHECK_CONTAINS(out, "flash encryption off (FLASH_CRYPT_CNT 0x00), secure boot off, JTAG enabled, "
                        "coding scheme none");
    CHECK_CONTAINS(out, "bridge:    CH9102 (1a86:55d4) serial BENCH-7\n");
    CHECK_CONTAINS(err, "attempt: #1 (identify) by ana");
    free(out);
    free(err);

    const char *j[] = {"identify", "--port", port, "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(station(j, &out, &err), 0);
    json_t *o = json_line(out);
    if (CHECK(o != NULL)) {
        CHECK_STR(json_string_value(json_object_get(o, "mac")), "94:b9:7e:5a:6e:58");
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "mac_crc")), 0xe2);
        CHECK(json_is_true(json_object_get(o, "mac_crc_ok")));
        CHECK_STR(json_string_value(json_object_get(o, "description")), "ESP32-D0WD-V3 (revision v3.0)");
        CHECK_STR(json_string_value(json_object_get(o, "package")), "ESP32-D0WD-V3");
        CHECK_STR(json_string_value(json_object_get(o, "revision")), "v3.0");
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "xtal_mhz")), 26);
        CHECK_STR(json_string_value(json_object_get(o, "flash_id")), "0x1640ef");
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "flash_size")), 4 << 20);
        json_t *sr = json_object_get(o, "flash_status");
        CHECK(json_array_size(sr) == 3 && json_integer_value(json_array_get(sr, 0)) == 0);
        CHECK(json_is_false(json_object_get(o, "write_protected")));
        json_t *sec = json_object_get(o, "security");
        CHECK_EQ_INT(json_integer_value(json_object_get(sec, "flash_crypt_cnt")), 0);
        CHECK(json_is_false(json_object_get(sec, "flash_encryption")));
        CHECK(json_is_false(json_object_get(sec, "jtag_disabled")));
        CHECK_STR(json_string_value(json_object_get(sec, "coding_scheme")), "none");
        json_t *ef = json_object_get(o, "efuse");
        /* the MAC words as the espefuse dump doc shows them for this MAC */
        CHECK_STR(json_string_value(json_array_get(ef, 1)), "0x7e5a6e58");
        CHECK_STR(json_string_value(json_array_get(ef, 2)), "0x00e294b9");
        json_t *br = json_object_get(o, "bridge");
        CHECK_STR(json_string_value(json_object_get(br, "name")), "CH9102");
        CHECK_EQ_INT(json_integer_value(json_object_get(br, "vid")), 0x1a86);
        CHECK_EQ_INT(json_integer_value(json_object_get(br, "pid")), 0x55d4);
        CHECK_STR(json_string_value(json_object_get(br, "serial")), "BENCH-7");
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "attempt")), 2);
        json_decref(o);
    }
    free(out);
    free(err);

    /* --no-record: said loudly, nothing recorded */
    const char *n[] = {"identify", "--port", port, "--no-record", NULL};
    CHECK_EQ_INT(station(n, &out, &err), 0);
    CHECK_CONTAINS(err, "WARNING: --no-record");
    CHECK_CONTAINS(out, "MAC:       94:b9:7e:5a:6e:58");
    free(out);
    free(err);

    CHECK(unit_untouched(&s, 4u << 20));
    check_audit("94:b9:7e:5a:6e:58", "identify", 2);
    sim_stop(&s);
}

static void case_identify_security(void)
{
    static const char *const opts[] = {"1:crypt_cnt=3", "1:coding=3/4", "1:fault=mac_crc",
                                       "2:crypt_cnt=7", "2:secure_boot=1", "2:jtag=disabled", NULL};
    sim_proc s;
    if (!start(&s, 2, opts))
        return;
    char p1[300], p2[300];
    sim_port(&s, 1, false, p1, sizeof p1);
    sim_port(&s, 2, false, p2, sizeof p2);
    char *out, *err;
    const char *a[] = {"identify", "--port", p1, "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0); /* a bad CRC is reported, not refused */
    CHECK_CONTAINS(out, "WARNING: eFuse MAC CRC");
    CHECK_CONTAINS(out, "flash encryption off (FLASH_CRYPT_CNT 0x03)");
    CHECK_CONTAINS(out, "coding scheme 3/4");
    free(out);
    free(err);
    const char *b[] = {"identify", "--port", p2, "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(station(b, &out, &err), 0);
    json_t *o = json_line(out);
    if (CHECK(o != NULL)) {
        json_t *sec = json_object_get(o, "security");
        CHECK_EQ_INT(json_integer_value(json_object_get(sec, "flash_crypt_cnt")), 7);
        CHECK(json_is_true(json_object_get(sec, "flash_encryption")));
        CHECK(json_is_true(json_object_get(sec, "secure_boot_v1")));
        CHECK(json_is_true(json_object_get(sec, "jtag_disabled")));
        CHECK(json_is_true(json_object_get(o, "mac_crc_ok")));
        json_decref(o);
    }
    free(out);
    free(err);

    /* refusals before the unit is touched: no --port (usage); a store in a folder that
     * cannot be created (exit 3, nothing sent: the unit still untouched) */
    const char *np[] = {"identify", "--db", g_db, NULL};
    CHECK_EQ_INT(station(np, &out, &err), 2);
    CHECK_CONTAINS(err, "--port PATH is required");
    free(out);
    free(err);
    char bad[200];
    snprintf(bad, sizeof bad, "%s/cmd.out/sub/s.db", g_run); /* below a regular file */
    const char *nd[] = {"identify", "--port", p1, "--db", bad, NULL};
    CHECK_EQ_INT(station(nd, &out, &err), 3);
    CHECK_CONTAINS(err, "refusing to touch the unit");
    free(out);
    free(err);
    CHECK(unit_untouched(&s, 16u << 20));
    sim_stop(&s);
}


/* ---- read ---- */

static char g_dirs[600];

/* The bytes of DIR/slot1.flash [off, off+len) equal the file's whole contents. */
static bool file_is_flash(const sim_proc *s, const char *file, uint32_t off, uint32_t len)
{
    size_t fsz = 0, n = 0;
    uint8_t *flash = flash_file_load(s, 1, &fsz);
    FILE *f = fopen(file, "rb");
    uint8_t *got = malloc((size_t)len + 1);
    if (f && got)
        n = fread(got, 1, (size_t)len + 1, f);
    bool ok = flash && got && f && n == len && (size_t)off + len <= fsz && !memcmp(got, flash + off, len);
    if (!ok)
        fprintf(stderr, "%s: %zu bytes, not the %u flash bytes at 0x%x\n", file, n, len, off);
    if (f)
        fclose(f);
    free(got);
    free(flash);
    return ok;
}

static bool exists(const char *p)
{
    return access(p, F_OK) == 0;
}

static void case_read(void)
{
    static const char *const opts[] = {"1:flash=4M", "1:mac=24:0a:c4:aa:00:01", NULL};
    sim_proc s;
    if (!start(&s, 1, opts))
        return;
    char port[300], f1[300], f2[300], part[310];
    sim_port(&s, 1, false, port, sizeof port);
    snprintf(f1, sizeof f1, "%s/nvs.bin", g_run);
    snprintf(f2, sizeof f2, "%s/whole.bin", g_run);
    snprintf(part, sizeof part, "%s.part", f1);
    char *out, *err;
    const char *a[] = {"read", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--offset",
                       "0x9000", "--size", "20K", "-o", f1, "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK_CONTAINS(out, "read 0x9000+0x5000 to ");
    CHECK_CONTAINS(out, "(matches the unit)");
    CHECK_CONTAINS(err, "read 100%");
    CHECK(file_is_flash(&s, f1, 0x9000, 0x5000));
    CHECK(!exists(part));
    free(out);
    free(err);

    /* the whole detected flash */
    const char *b[] = {"read", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--all",
                       "-o", f2, "--db", g_db, NULL};
    CHECK_EQ_INT(station(b, &out, &err), 0);
    CHECK_CONTAINS(out, "read 0x0+0x400000 to ");
    CHECK(file_is_flash(&s, f2, 0, 4u << 20));
    free(out);
    free(err);

    /* an existing file is left alone, before the unit is touched or anything recorded */
    FILE *f = fopen(f1, "w");
    fputs("keep me", f);
    fclose(f);
    CHECK_EQ_INT(station(a, &out, &err), 2);
    CHECK_CONTAINS(err, "exists: refusing to overwrite it (--force replaces it)");
    char *kept = harness_read_file(f1);
    CHECK_STR(kept, "keep me");
    free(kept);
    free(out);
    free(err);
    const char *c[] = {"read", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--offset",
                       "0x9000", "--size", "20K", "-o", f1, "--force", "--db", g_db, NULL};
    CHECK_EQ_INT(station(c, &out, &err), 0);
    CHECK(file_is_flash(&s, f1, 0x9000, 0x5000));
    free(out);
    free(err);
    /* bad ranges: refused with what to do */
    const char *d[] = {"read", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--offset",
                       "0x3ff000", "--size", "0x2000", "-o", f2, "--force", "--db", g_db, NULL};
    CHECK_EQ_INT(station(d, &out, &err), 1);
    CHECK_CONTAINS(err, "is not inside the unit's 4 MB flash");
    CHECK(file_is_flash(&s, f2, 0, 4u << 20)); /* the old copy stays */
    free(out);
    free(err);

    CHECK(unit_untouched(&s, 4u << 20));
    check_audit("24:0a:c4:aa:00:01", "read", 4);
    sim_stop(&s);
}

static void case_read_mismatch(void)
{
    static const char *const opts[] = {"1:flash=4M", "1:mac=24:0a:c4:aa:00:02", "1:fault=read_bitflip:1", NULL};
    sim_proc s;
    if (!start(&s, 1, opts))
        return;
    char port[300], f1[300], part[310];
    sim_port(&s, 1, false, port, sizeof port);
    snprintf(f1, sizeof f1, "%s/bad.bin", g_run);
    snprintf(part, sizeof part, "%s.part", f1);
    char *out, *err;
    const char *a[] = {"read", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--offset",
                       "0x10000", "--size", "64K", "-o", f1, "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 1);
    CHECK_CONTAINS(err, "do not match what the stub read");
    CHECK_CONTAINS(err, "class: md5_mismatch");
    CHECK(!exists(f1) && !exists(part));
    free(out);
    free(err);
    CHECK(sim_log_wait(&s, "fault read_bitflip", 2000));
    /* the fault fired once: the same read now passes */
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK(file_is_flash(&s, f1, 0x10000, 0x10000));
    free(out);
    free(err);
    const char *au[] = {"audit", "24:0a:c4:aa:00:02", "--db", g_db, NULL};
    CHECK_EQ_INT(station(au, &out, &err), 0);
    CHECK_CONTAINS(out, "[md5_mismatch at verify");
    CHECK_CONTAINS(out, "failed, no file left");
    free(out);
    free(err);
    check_audit("24:0a:c4:aa:00:02", "read", 2);
    sim_stop(&s);
}

/* ---- erase ---- */

static void case_erase(void)
{
    static const char *const opts[] = {"1:flash=4M", "1:mac=24:0a:c4:aa:00:03", "2:flash=4M", NULL};
    sim_proc s;
    if (!start(&s, 2, opts))
        return;
    char port[300], p2[300];
    sim_port(&s, 1, false, port, sizeof port);
    sim_port(&s, 2, false, p2, sizeof p2);
    char *out, *err;
    const char *a[] = {"erase", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--region",
                       "0x9000", "0x5000", "--yes", "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK_CONTAINS(out, "erased 0x9000+0x5000, reads back erased");
    CHECK(flash_is_erased(&s, 1, 0x9000, 0x5000));
    CHECK(flash_untouched(&s, 1, 0, 0x9000));
    CHECK(flash_untouched(&s, 1, 0xE000, (4u << 20) - 0xE000));
    free(out);
    free(err);
    check_audit("24:0a:c4:aa:00:03", "erase", 1);

    const char *b[] = {"erase", "--port", p2, "--profile", "demo", "--profiles-dir", g_dirs, "--all", "--yes",
                       "--db", g_db, NULL};
    CHECK_EQ_INT(station(b, &out, &err), 0);
    CHECK_CONTAINS(out, "erased the whole chip 0x0+0x400000");
    CHECK(flash_is_erased(&s, 2, 0, 4u << 20));
    free(out);
    free(err);
    sim_stop(&s);
}

static void case_erase_refused(void)
{
    static const char *const opts[] = {"1:flash=4M", "2:flash=4M", "2:fault=write_protect", NULL};
    sim_proc s;
    if (!start(&s, 2, opts))
        return;
    char port[300], p2[300];
    sim_port(&s, 1, false, port, sizeof port);
    sim_port(&s, 2, false, p2, sizeof p2);
    char *out, *err;
    const char *a[] = {"erase", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--region",
                       "0x9000", "0x5000", "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 2);
    CHECK_CONTAINS(err, "refusing to erase without --yes: stdin is not a terminal");
    free(out);
    free(err);
    const char *m[] = {"erase", "--port", port, "--profile", "demo", "--profiles-dir", g_dirs, "--region",
                       "0x9100", "0x5000", "--yes", "--db", g_db, NULL};
    CHECK_EQ_INT(station(m, &out, &err), 2);
    CHECK_CONTAINS(err, "must be multiples of 4 KiB");
    free(out);
    free(err);
    const char *ns[] = {"erase", "--port", port, "--all", "--yes", "--db", g_db, NULL};
    CHECK_EQ_INT(station(ns, &out, &err), 2);
    CHECK_CONTAINS(err, "needs the flasher stub: give --profile NAME");
    free(out);
    free(err);
    /* on a terminal (script(1) gives the command one): "no" erases nothing, "yes" erases */
    char cmd[2048], log[300];
    snprintf(log, sizeof log, "%s/tty.log", g_run);
    snprintf(cmd, sizeof cmd, "(sleep 1; echo no) | script -qec '%s erase --port %s --profile demo "
             "--profiles-dir %s --region 0x9000 0x1000 --no-record' /dev/null > %s 2>&1",
             g_station, port, g_dirs, log);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    char *t = harness_read_file(log);
    CHECK_CONTAINS(t, "Erase 0x1000 bytes at 0x9000 on the unit on ");
    CHECK_CONTAINS(t, "not confirmed: nothing erased");
    free(t);
    CHECK(unit_untouched(&s, 4u << 20));
    snprintf(cmd, sizeof cmd, "(sleep 1; echo yes) | script -qec '%s erase --port %s --profile demo "
             "--profiles-dir %s --region 0x9000 0x1000 --no-record' /dev/null > %s 2>&1",
             g_station, port, g_dirs, log);
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    CHECK(flash_is_erased(&s, 1, 0x9000, 0x1000));
    CHECK(flash_untouched(&s, 1, 0, 0x9000) && flash_untouched(&s, 1, 0xA000, (4u << 20) - 0xA000));
    /* a protected flash would ignore the erase: refused before it, with the way out */
    const char *w[] = {"erase", "--port", p2, "--profile", "demo", "--profiles-dir", g_dirs, "--all", "--yes",
                       "--db", g_db, NULL};
    CHECK_EQ_INT(station(w, &out, &err), 1);
    CHECK_CONTAINS(err, "class: write_protected");
    CHECK_CONTAINS(err, "station unprotect --port");
    CHECK(flash_untouched(&s, 2, 0, 4u << 20));
    free(out);
    free(err);
    /* nothing refused before the unit was reached was recorded; the protected one was */
    rec_set r = {0};
    if (CHECK(rec_load(g_db, &r))) {
        CHECK_EQ_INT((int)r.na, 1);
        if (r.na == 1) {
            CHECK_STR(r.a[0].action, "erase");
            CHECK_EQ_INT(r.a[0].fclass, ST_FC_WRITE_PROTECTED);
        }
        CHECK_EQ_INT((int)r.nb, 0); /* a repair action bins nothing */
        rec_free(&r);
    }
    sim_stop(&s);
}

/* ---- unprotect ---- */

static void case_unprotect(void)
{
    static const char *const opts[] = {"1:flash=4M", "1:mac=24:0a:c4:aa:00:05", "1:fault=write_protect",
                                       "2:fault=write_protect:0x011C", NULL};
    sim_proc s;
    if (!start(&s, 2, opts))
        return;
    char port[300], p2[300];
    sim_port(&s, 1, false, port, sizeof port);
    sim_port(&s, 2, false, p2, sizeof p2);
    char *out, *err;
    const char *i1[] = {"identify", "--port", port, "--db", g_db, NULL};
    CHECK_EQ_INT(station(i1, &out, &err), 0);
    CHECK_CONTAINS(out, "status:    SR1 0x1c SR2 0x00 SR3 0x00 (write-protected");
    free(out);
    free(err);
    const char *a[] = {"unprotect", "--port", port, "--db", g_db, NULL};
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK_CONTAINS(out, "status SR1 0x1c SR2 0x00 SR3 0x00 -> SR1 0x00 SR2 0x00 SR3 0x00 (volatile write)");
    free(out);
    free(err);
    /* the volatile write holds until power-off: the next connection reads it clear */
    CHECK_EQ_INT(station(i1, &out, &err), 0);
    CHECK_CONTAINS(out, "status:    SR1 0x00 SR2 0x00 SR3 0x00 (no write protection)");
    free(out);
    free(err);
    /* nothing to do the second time: said, nothing written */
    CHECK_EQ_INT(station(a, &out, &err), 0);
    CHECK_CONTAINS(out, "protect nothing: nothing written");
    free(out);
    free(err);
    CHECK(unit_untouched(&s, 4u << 20));
    check_audit("24:0a:c4:aa:00:05", "unprotect", 2);

    /* SRP1 locks the register until a power cycle: still protected, the reason given */
    const char *b[] = {"unprotect", "--port", p2, "--nv", "--db", g_db, NULL};
    CHECK_EQ_INT(station(b, &out, &err), 1);
    CHECK_CONTAINS(out, ": still protected");
    CHECK_CONTAINS(err, "the register is locked");
    CHECK_CONTAINS(err, "class: write_protected");
    free(out);
    free(err);
    sim_stop(&s);
}

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION ESP32SIM PROFILE_DIR", &g_station, &g_sim, &g_profdir))
        return 2;
    harness_run_dir(g_run, sizeof g_run, "repair");
    snprintf(g_db, sizeof g_db, "%s/station.db", g_run);
    snprintf(g_dirs, sizeof g_dirs, "%s", g_profdir);
    static const check_case cases[] = {
        {"identify", case_identify},
        {"identify_security", case_identify_security},
        {"read", case_read},
        {"read_mismatch", case_read_mismatch},
        {"erase", case_erase},
        {"erase_refused", case_erase_refused},
        {"unprotect", case_unprotect},
    };
    int rc = CHECK_RUN_CASE(argv[1], cases);
    harness_rm_tree(g_run);
    return rc;
}

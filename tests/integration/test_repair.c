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
 *                      be written refuse before the unit is touched */
#include "engine_harness.h" /* first: _GNU_SOURCE */

static const char *g_station, *g_sim, *g_profdir;
static char g_run[64], g_db[128];

/* `station ARGS...` with stdin from /dev/null (not a terminal), stdout into *out and
 * stderr into *err (malloc'd). The exit status. */
static int station(const char *const *args, char **out, char **err)
{
    char of[300], ef[300];
    snprintf(of, sizeof of, "%s/cmd.out", g_run);
    snprintf(ef, sizeof ef, "%s/cmd.err", g_run);
    const char *argv[40] = {g_station};
    int n = 1;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fi = open("/dev/null", O_RDONLY);
        int fd = open(of, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(ef, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fi, 0);
        dup2(fd, 1);
        dup2(fe, 2);
        unsetenv("STATION_DB");
        unsetenv("STATION_CENTRAL");
        execv(g_station, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    *out = harness_read_file(of);
    *err = harness_read_file(ef);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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

static bool start(sim_proc *s, const char *const *opts)
{
    const char *args[24];
    int n = 0;
    for (int i = 0; opts && opts[i] && n < 20; i++) {
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
    if (!start(&s, opts))
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
    const char *args[] = {"--units", "2", "--unit-opt", opts[0], "--unit-opt", opts[1], "--unit-opt", opts[2],
                          "--unit-opt", opts[3], "--unit-opt", opts[4], "--unit-opt", opts[5], NULL};
    if (!CHECK(sim_start(&s, g_sim, args)))
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

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION ESP32SIM PROFILE_DIR", &g_station, &g_sim, &g_profdir))
        return 2;
    harness_run_dir(g_run, sizeof g_run, "repair");
    snprintf(g_db, sizeof g_db, "%s/station.db", g_run);
    static const check_case cases[] = {
        {"identify", case_identify},
        {"identify_security", case_identify_security},
    };
    int rc = CHECK_RUN_CASE(argv[1], cases);
    harness_rm_tree(g_run);
    return rc;
}

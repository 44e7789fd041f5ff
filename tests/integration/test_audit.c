/* test_audit - what an auditor types, against a record store filled through db/ with
 * chosen units, times and device strings (no simulator: every figure is known here).
 *
 * usage: test_audit CASE STATION
 *   select   audit by the end of a MAC as a label prints it (every unit that matches,
 *            each with its history, text and JSON), by USB serial number (also for
 *            attempts that never read a MAC), by the station's serial; bad names refused
 *   times    --since/--until with ISO-8601 offsets (+01:00, +0100, -05:00, Z, seconds
 *            optional) for audit, export and stats; a reversed range is an error
 *   who      the station version, host and operator recorded with every attempt, shown by
 *            audit and export (the version is the one `station --version` prints)
 *   stats    units counted as well as attempts: yield per unit (first pass, final) and
 *            failure classes by bridge chip per unit, text and JSON
 *   escapes  device strings with escape codes (bridge name, USB serial, slot, port, hint,
 *            detail) and formula cells: no control character in the retry-bin table,
 *            stats, audit, export CSV; a formula behind a control character neutralised */
#include "engine_harness.h"
#include "test_db_support.h"
#include "who.h"

static const char *g_station;
static char g_run[64], g_db[128];

#define T0 1796281200000LL /* 2026-12-03T07:00:00Z */
#define MIN 60000LL

#define U1 "24:0a:c4:5a:40:01"
#define U2 "30:ae:a4:5a:40:01"
#define U3 "24:0a:c4:00:00:03"
#define U4 "24:0a:c4:e5:c0:01"
#define EVIL_SERIAL "\033[2J\033]0;owned\007X"

/* Run `station ARGS...`; its stdout into *out, stderr into *err (malloc'd; NULL: not
 * kept). The exit code. */
static int run(const char *const *args, char **out, char **err)
{
    char *e = NULL;
    int rc = harness_run_cmd(g_station, args, g_run, out, &e);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

#define count_lines harness_count_lines
#define has_controls harness_has_controls

/* One finished attempt; NULL strings keep tdb_full_attempt's values. */
typedef struct {
    const char *mac, *usb_serial, *serial, *op, *bridge, *slot_name, *port, *hint, *detail;
    int64_t t;
    st_db_outcome o;
    int try_no;
    bool bin;
} att;

static int64_t add(st_db *db, const att *x)
{
    st_db_attempt a;
    tdb_full_attempt(&a, x->mac, 1, x->t);
    a.try_no = x->try_no ? x->try_no : 1;
#define SET(f, v)                                  \
    if (v)                                         \
        snprintf(a.f, sizeof a.f, "%s", v)
    SET(bridge_serial, x->usb_serial);
    SET(operator_name, x->op);
    SET(bridge, x->bridge);
    SET(slot_name, x->slot_name);
    SET(port, x->port);
    st_err err;
    if (!CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0)) {
        tdb_print_err("begin", &err);
        return -1;
    }
    a.outcome = x->o;
    a.fclass = x->o == ST_DB_PASS ? ST_FC_NONE : ST_FC_NO_SYNC;
    a.phase = x->o == ST_DB_PASS ? ST_PH_DONE : ST_PH_CONNECT;
    SET(serial, x->serial);
    SET(hint, x->hint);
    SET(detail, x->detail);
#undef SET
    a.ended_ms = x->t + 10000;
    if (!CHECK_EQ_INT(st_db_attempt_finish(db, &a, x->bin, &err), 0)) {
        tdb_print_err("finish", &err);
        return -1;
    }
    return a.id;
}

/* The store every case reads:
 *   07:10Z U1 passes (USB serial USB-A, operator maria)
 *   07:20Z U2 fails and is binned (USB-B); 09:00Z it passes on the bench (try 1)
 *   07:50Z a unit whose MAC was never read fails on the bridge USB-B; no operator given
 *   08:30Z U3 passes and is given serial SN-0042
 *   08:40Z U4 fails, binned: its device strings carry escape codes */
static bool fill(void)
{
    st_db *db;
    st_err err;
    st_db_opts o = {0};
    if (!CHECK_EQ_INT(st_db_open(g_db, &o, &db, &err), 0))
        return false;
    att rows[] = {
        {.mac = U1, .usb_serial = "USB-A", .op = "maria", .t = T0 + 10 * MIN, .o = ST_DB_PASS},
        {.mac = U2, .usb_serial = "USB-B", .op = "maria", .t = T0 + 20 * MIN, .o = ST_DB_FAIL, .bin = true},
        {.mac = "", .usb_serial = "USB-B", .op = "", .t = T0 + 50 * MIN, .o = ST_DB_FAIL, .bin = true},
        {.mac = U3, .usb_serial = "USB-C", .serial = "SN-0042", .op = "li", .t = T0 + 90 * MIN, .o = ST_DB_PASS},
        {.mac = U4, .usb_serial = EVIL_SERIAL, .op = "=HYPERLINK(\"http://x\")", .bridge = "CP\0332104\033[31m",
         .slot_name = "hub\033]0;pwn\007-port4", .port = "/dev/serial/by-path/\033[2Jport4",
         .hint = "reseat\033[5m the unit", .detail = "\033=1+2", .t = T0 + 100 * MIN, .o = ST_DB_FAIL,
         .bin = true},
        {.mac = U2, .usb_serial = "USB-B", .op = "bench", .t = T0 + 120 * MIN, .o = ST_DB_PASS, .bin = true},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ok &= add(db, &rows[i]) > 0;
    st_db_close(db);
    return ok;
}

/* ---- select ---- */

static void case_select(void)
{
    char *out, *err;
    const char *a1[] = {"audit", "5a:40:01", "--db", g_db, NULL};
    CHECK_EQ_INT(run(a1, &out, NULL), 0);
    CHECK_CONTAINS(out, "unit " U1 "\n");
    CHECK_CONTAINS(out, "unit " U2 "\n");
    CHECK_CONTAINS(out, "2 units for a MAC ending in 5a:40:01");
    CHECK(!strstr(out, U3) && !strstr(out, U4));
    /* each unit with its history, under its heading: U1 one pass; U2 bin entry and two tries */
    const char *u2 = strstr(out, "unit " U2);
    CHECK(u2 && strstr(u2, "retry-bin #") && strstr(u2, "fail") && strstr(u2, "pass"));
    const char *u1 = strstr(out, "unit " U1);
    CHECK(u1 && u2 && u1 < u2 && !memmem(u1, (size_t)(u2 - u1), "retry-bin", 9));
    free(out);

    /* any spelling; JSON lines are the rows, each with its MAC */
    const char *a2[] = {"audit", "5A-40-01", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(run(a2, &out, NULL), 0);
    CHECK_EQ_INT(count_lines(out), 4);
    int macs[2] = {0, 0};
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        json_t *j = json_loads(l, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "mac"));
        CHECK(m != NULL);
        if (m) {
            macs[0] += !strcmp(m, U1);
            macs[1] += !strcmp(m, U2);
        }
        json_decref(j);
    }
    CHECK_EQ_INT(macs[0], 1);
    CHECK_EQ_INT(macs[1], 3);
    free(out);

    /* by USB serial number: the unit, and the attempt that never read a MAC */
    const char *a3[] = {"audit", "--serial", "USB-A", "--db", g_db, NULL};
    CHECK_EQ_INT(run(a3, &out, NULL), 0);
    CHECK_CONTAINS(out, "unit " U1 "\n");
    CHECK_CONTAINS(out, "usb serial USB-A");
    CHECK_CONTAINS(out, "1 unit for serial USB-A");
    free(out);
    const char *a4[] = {"audit", "--usb-serial", "USB-B", "--db", g_db, NULL};
    CHECK_EQ_INT(run(a4, &out, NULL), 0);
    CHECK_CONTAINS(out, "unit " U2 "\n");
    CHECK_CONTAINS(out, "unit (MAC never read)\n");
    CHECK(!strstr(out, U1));
    free(out);
    /* by the serial the station gave the unit */
    const char *a5[] = {"audit", "--serial", "SN-0042", "--db", g_db, NULL};
    CHECK_EQ_INT(run(a5, &out, NULL), 0);
    CHECK_CONTAINS(out, "unit " U3 "\n");
    CHECK_CONTAINS(out, "serial SN-0042");
    free(out);

    /* nothing matches: 1 and a message; not a MAC, or two ways at once: usage (2) */
    const char *b1[] = {"audit", "99:99:99", "--db", g_db, NULL};
    CHECK_EQ_INT(run(b1, &out, &err), 1);
    CHECK_CONTAINS(err, "no records for a MAC ending in 99:99:99");
    free(out);
    free(err);
    const char *b2[] = {"audit", "5a:4", "--db", g_db, NULL};
    CHECK_EQ_INT(run(b2, &out, &err), 2);
    CHECK_CONTAINS(err, "neither a MAC address nor the end of one");
    free(out);
    free(err);
    const char *b3[] = {"audit", "--db", g_db, NULL};
    CHECK_EQ_INT(run(b3, &out, NULL), 2);
    free(out);
    const char *b4[] = {"audit", U1, "--serial", "USB-A", "--db", g_db, NULL};
    CHECK_EQ_INT(run(b4, &out, NULL), 2);
    free(out);
    /* a whole MAC is that unit alone, without headings (as before) */
    const char *b5[] = {"audit", U1, "--db", g_db, NULL};
    CHECK_EQ_INT(run(b5, &out, NULL), 0);
    CHECK_EQ_INT(count_lines(out), 1);
    CHECK(!strstr(out, "unit "));
    free(out);
}

/* ---- times ---- */

static void case_times(void)
{
    char *out, *err;
    /* [07:15Z, 07:30Z) written three ways: only U2's failure (07:20) and its bin entry? no:
     * the entry's latest event is the bench pass at 09:00, outside */
    const char *r1[][2] = {
        {"2026-12-03T08:15+01:00", "2026-12-03T07:30Z"},
        {"2026-12-03T02:15:00-05:00", "2026-12-03T08:30:00.000+0100"},
        {"2026-12-03 07:15", "2026-12-03T07:30:00z"},
    };
    for (int i = 0; i < 3; i++) {
        const char *a[] = {"audit", "5a:40:01", "--since", r1[i][0], "--until", r1[i][1], "--db", g_db, NULL};
        CHECK_EQ_INT(run(a, &out, NULL), 0);
        CHECK_CONTAINS(out, "unit " U2 "\n");
        CHECK_CONTAINS(out, "2026-12-03T07:20:00.000Z  attempt #");
        CHECK(!strstr(out, U1));
        CHECK(!strstr(out, "retry-bin #"));
        CHECK_CONTAINS(out, "1 unit for");
        if (check_state_()->failures)
            fprintf(stderr, "---- %s .. %s ----\n%s\n", r1[i][0], r1[i][1], out);
        free(out);
    }
    /* a range with nothing in it: 1 and a message that says so */
    const char *e1[] = {"audit", U1, "--since", "2026-12-04", "--db", g_db, NULL};
    CHECK_EQ_INT(run(e1, &out, &err), 1);
    CHECK_CONTAINS(err, "in that time range");
    free(out);
    free(err);

    /* reversed (or empty) ranges: an error with exit code 2 from audit, export and stats */
    const char *rev[][10] = {
        {"audit", "5a:40:01", "--since", "2026-12-03T08:00Z", "--until", "2026-12-03T07:00Z", "--db", g_db, NULL},
        {"export", "--csv", "--since", "2026-12-03T08:00+01:00", "--until", "2026-12-03T06:59Z", "--db", g_db, NULL},
        {"stats", "--since", "2026-12-03T09:00", "--until", "2026-12-03T09:00", "--db", g_db, NULL},
        {"stats", "--json", "--since", "1h", "--until", "2h", "--db", g_db, NULL},
    };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(run(rev[i], &out, &err), 2);
        CHECK_CONTAINS(err, "is not after --since");
        CHECK_EQ_INT((int)strlen(out), 0);
        free(out);
        free(err);
    }
    /* a time that is not one */
    const char *bad[] = {"2026-12-03T07:28+1", "2026-12-03T7:28", "2026-12-03T07:28+25:00", "2026-12-3",
                         "2026-12-03T07:28:5Z"};
    for (int i = 0; i < 5; i++) {
        const char *a[] = {"export", "--csv", "--since", bad[i], "--db", g_db, NULL};
        CHECK_EQ_INT(run(a, &out, &err), 2);
        CHECK_CONTAINS(err, "cannot read the time");
        free(out);
        free(err);
    }

    /* export: [07:05Z, 07:45Z) holds U1 (07:10) and U2's failure (07:20) */
    const char *x1[] = {"export", "--csv", "--since", "2026-12-03T08:05+01:00", "--until", "2026-12-03T07:45Z",
                        "--db", g_db, NULL};
    CHECK_EQ_INT(run(x1, &out, NULL), 0);
    CHECK_EQ_INT(count_lines(out), 3);
    CHECK_CONTAINS(out, U1);
    CHECK_CONTAINS(out, U2);
    free(out);
    /* stats: [07:00Z, 08:00Z) holds U1, U2's failure and the MAC-less failure */
    const char *s1[] = {"stats", "--json", "--since", "2026-12-03T07:00:00.000Z", "--until", "2026-12-03T09:00+01:00",
                        "--db", g_db, NULL};
    CHECK_EQ_INT(run(s1, &out, NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "attempts_no_mac")), 1);
    json_decref(j);
    free(out);
}

/* ---- who ---- */

static void case_who(void)
{
    char *out;
    const char *v[] = {"--version", NULL};
    CHECK_EQ_INT(run(v, &out, NULL), 0);
    char want[128];
    snprintf(want, sizeof want, "station %s ", st_who_version());
    CHECK(strncmp(out, want, strlen(want)) == 0);
    free(out);

    const char *a[] = {"audit", U1, "--db", g_db, NULL};
    CHECK_EQ_INT(run(a, &out, NULL), 0);
    CHECK_CONTAINS(out, "by maria@");
    snprintf(want, sizeof want, "  station %s", st_who_version());
    CHECK_CONTAINS(out, want);
    free(out);

    /* every attempt in the export names host, operator (never "") and station version */
    const char *x[] = {"export", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(run(x, &out, NULL), 0);
    int rows = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        json_t *j = json_loads(l, 0, NULL);
        const char *op = json_string_value(json_object_get(j, "operator"));
        const char *host = json_string_value(json_object_get(j, "host"));
        const char *ver = json_string_value(json_object_get(j, "station_version"));
        CHECK(op && *op);
        CHECK(host && *host);
        CHECK(ver && !strcmp(ver, st_who_version()));
        rows++;
        json_decref(j);
    }
    CHECK_EQ_INT(rows, 6);
    free(out);
    /* and in CSV, after the columns of before (new columns go last: schema v12's on-result
     * failure columns and v13's repair-bench action columns follow it) */
    const char *c[] = {"export", "--csv", "--db", g_db, NULL};
    CHECK_EQ_INT(run(c, &out, NULL), 0);
    const char *eol = strstr(out, "\r\n");
    static const char tail[] = ",station_version,hook_result,hook_exit,hook_signal,hook_ms,hook_command,hook_stderr,"
                               "action,action_detail";
    CHECK(eol && eol - out > (ptrdiff_t)strlen(tail) && !strncmp(eol - strlen(tail), tail, strlen(tail)));
    free(out);
}

/* ---- stats ---- */

static void case_stats(void)
{
    char *out;
    /* units U1 U2 U3 U4 (the MAC-less failure is an attempt, not a unit): U1 and U3 pass
     * at once, U2 only on the bench, U4 never. First pass 2/4, final 3/4. */
    const char *s[] = {"stats", "--json", "--db", g_db, NULL};
    CHECK_EQ_INT(run(s, &out, NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "attempts")), 6);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "units_tried")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "units_passed")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "units_first_try")), 2);
    CHECK(fabs(json_real_value(json_object_get(j, "first_pass_yield")) - 0.5) < 1e-9);
    CHECK(fabs(json_real_value(json_object_get(j, "final_yield")) - 0.75) < 1e-9);
    /* CP2104 no_sync: U2's failure and the MAC-less one = 2 attempts, 1 unit */
    json_t *cls = json_object_get(j, "classes_by_bridge");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(cls); i++) {
        json_t *c = json_array_get(cls, i);
        if (strcmp(json_string_value(json_object_get(c, "bridge")), "CP2104") != 0)
            continue;
        seen++;
        CHECK_EQ_INT(json_integer_value(json_object_get(c, "count")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(c, "units")), 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(c, "attempts_no_mac")), 1);
    }
    CHECK_EQ_INT(seen, 1);
    json_decref(j);
    free(out);

    const char *t[] = {"stats", "--db", g_db, NULL};
    CHECK_EQ_INT(run(t, &out, NULL), 0);
    CHECK_CONTAINS(out, "yield per unit:  50.0 % first pass, 75.0 % final");
    CHECK_CONTAINS(out, "4 tried, 3 passed (2 on their first attempt)");
    CHECK_CONTAINS(out, "no_sync                   2 attempts      1 unit   (+1 attempt without a MAC)");
    if (check_state_()->failures)
        fprintf(stderr, "---- stats ----\n%s\n", out);
    free(out);
}

/* ---- escapes ---- */

static void case_escapes(void)
{
    char *out;
    const char *cmds[][8] = {
        {"retry-bin", "--db", g_db, NULL},
        {"retry-bin", "--all", "--db", g_db, NULL},
        {"stats", "--db", g_db, NULL},
        {"audit", U4, "--db", g_db, NULL},
        {"audit", "e5:c0:01", "--db", g_db, NULL},
        {"audit", "--serial", EVIL_SERIAL, "--db", g_db, NULL},
        {"export", "--csv", "--db", g_db, NULL},
        {"export", "--json", "--db", g_db, NULL},
    };
    /* what each shows of the device strings, cleaned */
    const char *shows[] = {"[2Jport4", "[2Jport4", "CP 2104 [31m", "[2J ]0;owned X", "hub ]0;pwn -port4",
                           "[2J ]0;owned X", "[2Jport4", "\\u001B[2J"};
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(run(cmds[i], &out, NULL), 0);
        CHECK_CONTAINS(out, shows[i]);
        if (!CHECK(!has_controls(out)))
            fprintf(stderr, "---- %s %s: raw control characters ----\n%s\n", cmds[i][0], cmds[i][1], out);
        free(out);
    }
    /* CSV: formula cells start with a quote, also when a control character hid the '=' */
    const char *c[] = {"export", "--csv", "--db", g_db, NULL};
    CHECK_EQ_INT(run(c, &out, NULL), 0);
    CHECK_CONTAINS(out, ",\"'=HYPERLINK(\"\"http://x\"\")\",");
    CHECK_CONTAINS(out, ",' =1+2,");
    CHECK(!strstr(out, ", =1+2") && !strstr(out, ",=HYPERLINK"));
    free(out);
}

static const check_case cases[] = {
    {"select", case_select}, {"times", case_times}, {"who", case_who}, {"stats", case_stats}, {"escapes", case_escapes},
};

int main(int argc, char **argv)
{
    if (!CHECK_ARGS(argc, argv, "STATION", &g_station))
        return 2;
    harness_run_dir(g_run, sizeof g_run, "audit");
    snprintf(g_db, sizeof g_db, "%s/st.db", g_run);
    fill(); /* its failures are counted: a case on a half store fails as well */
    int rc = CHECK_RUN_CASE(argv[1], cases);
    harness_rm_tree(g_run);
    return rc;
}

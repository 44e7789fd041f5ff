/* test_db_attempt.c - an attempt's life in the record store: begin (unit unknown),
 * set_unit once detect read the MAC, finish with every field, read back; units'
 * first/last seen; refusals that must change nothing. */
#include "check.h"
#include "db_fill.h"
#include "test_db_support.h"

#include <string.h>

static void test_round_trip(st_db *db, const char *path)
{
    st_err err;
    st_db_attempt a, b;
    /* begin before the unit is known: no MAC, no chip yet */
    tdb_full_attempt(&a, "", 3, 1714555800250LL);
    char chip[16], package[24], description[64];
    memcpy(chip, a.chip, sizeof chip);
    memcpy(package, a.package, sizeof package);
    memcpy(description, a.description, sizeof description);
    a.chip[0] = a.package[0] = a.description[0] = '\0';
    a.flash_id = a.flash_size = 0;
    if (!CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0)) {
        tdb_print_err("begin", &err);
        return;
    }
    CHECK(a.id > 0);
    CHECK_EQ_INT(a.outcome, ST_DB_IN_PROGRESS);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_EQ_INT(b.outcome, ST_DB_IN_PROGRESS);
    CHECK_STR(b.mac, "");
    CHECK_STR(b.chip, "");
    CHECK_EQ_INT(b.flash_status, 0); /* not read yet: NULL */
    CHECK_EQ_INT(b.started_ms, 1714555800250LL);
    CHECK_EQ_INT(b.ended_ms, 0);
    CHECK_STR(b.host, "station-7");

    /* detect ran: the unit's identity arrives (upper case MAC is normalized) */
    snprintf(a.mac, sizeof a.mac, "24:0A:C4:12:34:56");
    memcpy(a.chip, chip, sizeof chip);
    memcpy(a.package, package, sizeof package);
    memcpy(a.description, description, sizeof description);
    a.flash_id = 0x164020;
    a.flash_size = 16u << 20;
    a.flash_status = ST_DB_FLASH_STATUS_KNOWN | 0x60001Cu; /* SR1 0x1c (BP0-2), SR3 0x60 */
    a.phase = ST_PH_DETECT;
    CHECK_EQ_INT(st_db_attempt_set_unit(db, &a, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.mac, "24:0a:c4:12:34:56");
    CHECK_STR(b.description, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_EQ_INT(b.phase, ST_PH_DETECT);
    CHECK_EQ_INT(b.outcome, ST_DB_IN_PROGRESS);

    /* finish with a failure carrying everything; the MAC left empty keeps the stored one */
    a.mac[0] = '\0';
    a.outcome = ST_DB_FAIL;
    a.fclass = ST_FC_STUB_RAM_CHECKSUM;
    a.phase = ST_PH_STUB;
    a.status[0] = 0x01;
    a.status[1] = 0x07;
    a.nstatus = 4;
    snprintf(a.detail, sizeof a.detail, "stub upload: MEM_DATA failed, status 01 07 00 00 (\"bad\", checksum)");
    snprintf(a.hint, sizeof a.hint, "%s", st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM));
    a.ended_ms = 1714555810750LL;
    if (!CHECK_EQ_INT(st_db_attempt_finish(db, &a, false, &err), 0))
        tdb_print_err("finish", &err);

    memset(&b, 0xee, sizeof b);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    st_db_attempt want;
    tdb_full_attempt(&want, "24:0a:c4:12:34:56", 3, 1714555800250LL);
    CHECK_EQ_INT(b.id, a.id);
    CHECK_STR(b.mac, want.mac);
    CHECK_STR(b.slot_name, "pci-0000:00:14.0-usb-0:1.3:1.0-port0");
    CHECK_STR(b.slot_name, want.slot_name);
    CHECK_EQ_INT(b.slot, 3);
    CHECK_STR(b.port, want.port);
    CHECK_STR(b.bridge, "CP2104");
    CHECK_EQ_INT(b.vid, 0x10c4);
    CHECK_EQ_INT(b.pid, 0xea60);
    CHECK_STR(b.bridge_serial, "01A2B3C4");
    CHECK_STR(b.chip, "ESP32");
    CHECK_STR(b.package, "ESP32-D0WD-V3");
    CHECK_STR(b.description, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_EQ_INT(b.rev_major, 3);
    CHECK_EQ_INT(b.rev_minor, 0);
    CHECK_EQ_INT(b.flash_id, 0x164020);
    CHECK_EQ_INT(b.flash_size, 16u << 20);
    CHECK_EQ_INT(b.flash_status, ST_DB_FLASH_STATUS_KNOWN | 0x60001Cu);
    CHECK_STR(b.profile, "core2-factory");
    CHECK_EQ_INT(b.nimages, 3);
    for (int i = 0; i < 3 && i < b.nimages; i++) {
        CHECK_EQ_INT(b.images[i].offset, want.images[i].offset);
        CHECK_STR(b.images[i].sha256, want.images[i].sha256);
    }
    CHECK_EQ_INT(b.baud, 1500000);
    CHECK_EQ_INT(b.bytes_raw, 1234567);
    CHECK_EQ_INT(b.bytes_compressed, 654321);
    CHECK_EQ_INT(b.connect_ms, 812);
    CHECK_EQ_INT(b.stub_ms, 95);
    CHECK_EQ_INT(b.write_ms, 9100);
    CHECK_EQ_INT(b.verify_ms, 420);
    CHECK_EQ_INT(b.total_ms, 10500);
    CHECK_EQ_INT(b.try_no, 2);
    CHECK_EQ_INT(b.outcome, ST_DB_FAIL);
    CHECK_EQ_INT(b.fclass, ST_FC_STUB_RAM_CHECKSUM);
    CHECK_EQ_INT(b.phase, ST_PH_STUB);
    CHECK_EQ_INT(b.nstatus, 4);
    static const uint8_t st[4] = {0x01, 0x07, 0x00, 0x00};
    CHECK_MEM(b.status, st, 4);
    CHECK_STR(b.detail, a.detail);
    CHECK_STR(b.hint, st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM));
    CHECK_STR(b.host, "station-7");
    CHECK_STR(b.operator_name, "maria");
    CHECK_EQ_INT(b.started_ms, 1714555800250LL);
    CHECK_EQ_INT(b.ended_ms, 1714555810750LL);

    char buf[128];
    /* status as hex text, images as JSON text, phase and class by name */
    CHECK_STR(tdb_query(path, "SELECT status || ' ' || fclass || ' ' || phase FROM attempts WHERE id = 1",
                        buf, sizeof buf),
              "01070000 stub_ram_checksum stub_upload");
    CHECK_STR(tdb_query(path, "SELECT json_extract(images, '$[2].offset') FROM attempts WHERE id = 1",
                        buf, sizeof buf),
              "65536");
    CHECK_STR(tdb_query(path, "SELECT slot_name || ' ' || slot FROM attempts WHERE id = 1", buf, sizeof buf),
              "pci-0000:00:14.0-usb-0:1.3:1.0-port0 3");

    /* finishing again is refused and changes nothing */
    a.outcome = ST_DB_PASS;
    CHECK_EQ_INT(st_db_attempt_finish(db, &a, false, &err), -1);
    CHECK_CONTAINS(err.msg, "is not in progress (it is 'fail')");
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_EQ_INT(b.outcome, ST_DB_FAIL);
    CHECK_EQ_INT(st_db_attempt_set_unit(db, &a, &err), -1);
    CHECK_CONTAINS(err.msg, "not in progress");

    /* unknown attempt, bad outcome, bad MAC, bad image digest */
    st_db_attempt c;
    tdb_full_attempt(&c, "", 1, 1714555900000LL);
    c.id = 999;
    c.outcome = ST_DB_PASS;
    CHECK_EQ_INT(st_db_attempt_finish(db, &c, false, &err), -1);
    CHECK_CONTAINS(err.msg, "attempt 999 does not exist");
    c.outcome = ST_DB_IN_PROGRESS;
    CHECK_EQ_INT(st_db_attempt_finish(db, &c, false, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    snprintf(c.mac, sizeof c.mac, "not-a-mac");
    CHECK_EQ_INT(st_db_attempt_begin(db, &c, &err), -1);
    CHECK_CONTAINS(err.msg, "not a MAC address");
    c.mac[0] = '\0';
    c.images[1].sha256[5] = 'x';
    CHECK_EQ_INT(st_db_attempt_begin(db, &c, &err), -1);
    CHECK_CONTAINS(err.msg, "SHA-256");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts", buf, sizeof buf), "1");
}

static void test_units(st_db *db)
{
    st_err err;
    st_db_unit u;
    bool found = true;
    CHECK_EQ_INT(st_db_unit_get(db, "11:22:33:44:55:66", &u, &found, &err), 0);
    CHECK(!found);
    CHECK(tdb_attempt(db, "11:22:33:44:55:66", 1, 1, 5000000, ST_DB_PASS, ST_FC_NONE, "CH9102", false) > 0);
    CHECK(tdb_attempt(db, "11:22:33:44:55:66", 1, 1, 2000000, ST_DB_PASS, ST_FC_NONE, "CH9102", false) > 0);
    CHECK_EQ_INT(st_db_unit_get(db, "112233445566", &u, &found, &err), 0);
    CHECK(found);
    CHECK_STR(u.mac, "11:22:33:44:55:66");
    CHECK_EQ_INT(u.first_seen_ms, 2000000);
    CHECK_EQ_INT(u.last_seen_ms, 5010000);
    CHECK_STR(u.chip, ""); /* never detected in these attempts */

    /* the unit learns its chip from a later attempt and keeps it */
    st_db_attempt a;
    tdb_full_attempt(&a, "11:22:33:44:55:66", 2, 6000000);
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    CHECK_EQ_INT(st_db_unit_get(db, "11:22:33:44:55:66", &u, &found, &err), 0);
    CHECK_STR(u.chip, "ESP32");
    CHECK_EQ_INT(u.flash_size, 16u << 20);
    CHECK_EQ_INT(u.last_seen_ms, 6000000);
    /* and an interrupted finish is a valid end */
    a.outcome = ST_DB_INTERRUPTED;
    a.fclass = ST_FC_INTERRUPTED;
    a.ended_ms = 0; /* now */
    int64_t before = st_db_now_ms();
    CHECK_EQ_INT(st_db_attempt_finish(db, &a, false, &err), 0);
    CHECK(a.ended_ms >= before);
}

/* A slot is named by its stable path; without a name, begin gives it "slot<hub port>".
 * Two hubs' ports with the same number stay two slots. */
static void test_slot_names(st_db *db)
{
    st_err err;
    st_db_attempt a, b;
    tdb_full_attempt(&a, "", 7, 7000000);
    a.slot_name[0] = '\0';
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    CHECK_STR(a.slot_name, "slot7");
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.slot_name, "slot7");
    /* the longest name that fits comes back whole */
    tdb_full_attempt(&a, "", 7, 7100000);
    memset(a.slot_name, 'p', sizeof a.slot_name - 1);
    a.slot_name[sizeof a.slot_name - 1] = '\0';
    memcpy(a.slot_name, "pci-0000:00:1d.0-usb-0:1.7:1.0-", 31);
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.slot_name, a.slot_name);
    CHECK_EQ_INT(strlen(b.slot_name), sizeof b.slot_name - 1);
    CHECK_EQ_INT(b.slot, 7);
    /* finishing keeps the slot the attempt began on */
    b.slot_name[0] = '\0';
    b.outcome = ST_DB_PASS;
    CHECK_EQ_INT(st_db_attempt_finish(db, &b, false, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.slot_name, a.slot_name);
}

/* A failed on-result command lands on its finished attempt (schema v12): how it ended,
 * the command, stderr cleaned of control characters; refused for an attempt still in
 * progress, an unknown attempt or an unknown result, changing nothing. */
static void test_hook(st_db *db)
{
    st_err err;
    st_db_attempt a, b;
    tdb_full_attempt(&a, "24:0a:c4:09:09:01", 4, 8000000);
    CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0);
    st_db_hook h = {.result = "exit", .exit_code = 3, .duration_ms = 41,
                    .command = "lp-label \"$STATION_MAC\"",
                    .stderr_head = "printer:\x1b[31m jammed\x07\nretry"};
    CHECK_EQ_INT(st_db_attempt_hook(db, a.id, &h, &err), -1); /* still in progress */
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_CONTAINS(err.msg, "still in progress");
    a.outcome = ST_DB_PASS;
    CHECK_EQ_INT(st_db_attempt_finish(db, &a, false, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.hook.result, ""); /* no command failed */
    CHECK_EQ_INT(st_db_attempt_hook(db, a.id, &h, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.hook.result, "exit");
    CHECK_EQ_INT(b.hook.exit_code, 3);
    CHECK_EQ_INT(b.hook.signal, 0);
    CHECK_EQ_INT(b.hook.duration_ms, 41);
    CHECK_STR(b.hook.command, "lp-label \"$STATION_MAC\"");
    CHECK_STR(b.hook.stderr_head, "printer: [31m jammed  retry");
    CHECK_EQ_INT(b.outcome, ST_DB_PASS); /* the attempt itself is unchanged */
    /* a later record replaces it: killed by a signal */
    st_db_hook k = {.result = "signal", .signal = 9, .duration_ms = 30000, .command = "sleep 60"};
    CHECK_EQ_INT(st_db_attempt_hook(db, a.id, &k, &err), 0);
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.hook.result, "signal");
    CHECK_EQ_INT(b.hook.signal, 9);
    CHECK_EQ_INT(b.hook.exit_code, 0);
    CHECK_STR(b.hook.stderr_head, "");
    st_db_hook bad = {.result = "crashed"};
    CHECK_EQ_INT(st_db_attempt_hook(db, a.id, &bad, &err), -1);
    CHECK_CONTAINS(err.msg, "'crashed' is not exit, signal, timeout or spawn_failed");
    CHECK_EQ_INT(st_db_attempt_hook(db, 999999, &h, &err), -1);
    CHECK_CONTAINS(err.msg, "attempt 999999 does not exist");
    CHECK_EQ_INT(st_db_attempt_get(db, a.id, &b, &err), 0);
    CHECK_STR(b.hook.result, "signal");
}

/* The engine's structs land in the right fields (db_fill.h). */
static void test_fill(void)
{
    st_db_attempt a;
    memset(&a, 0, sizeof a);
    static st_flash_report r;
    snprintf(r.port.name, sizeof r.port.name, "/dev/serial/by-path/x-port0");
    snprintf(r.port.bridge, sizeof r.port.bridge, "CH9102");
    r.port.vid = 0x1a86;
    r.port.pid = 0x55d4;
    snprintf(r.port.serial, sizeof r.port.serial, "5434012345");
    r.chip_known = true;
    static const uint8_t mac[6] = {0x94, 0xb9, 0x7e, 0x5a, 0x6e, 0x58};
    memcpy(r.chip.mac, mac, 6);
    snprintf(r.chip.chip, sizeof r.chip.chip, "ESP32");
    snprintf(r.chip.package, sizeof r.chip.package, "ESP32-D0WD-V3");
    r.chip.major = 3;
    r.chip.minor = 1;
    r.chip.flash_id = 0x174020;
    r.chip.flash_size = 8u << 20;
    r.chip.flash_sr[1] = 0x02; /* QE only: status 0x000200 is known, not "none" */
    r.chip.flash_sr_known = true;
    r.baud = 921600;
    r.bytes_raw = 100;
    r.bytes_compressed = 60;
    r.t_connect = 0.8124;
    r.t_total = 12.5;
    st_db_attempt_set_report(&a, &r);
    CHECK_STR(a.port, "/dev/serial/by-path/x-port0");
    CHECK_STR(a.bridge, "CH9102");
    CHECK_EQ_INT(a.pid, 0x55d4);
    CHECK_STR(a.bridge_serial, "5434012345");
    CHECK_STR(a.mac, "94:b9:7e:5a:6e:58");
    CHECK_EQ_INT(a.rev_minor, 1);
    CHECK_EQ_INT(a.flash_size, 8u << 20);
    CHECK_EQ_INT(a.flash_status, ST_DB_FLASH_STATUS_KNOWN | 0x000200u);
    CHECK_EQ_INT(a.baud, 921600);
    CHECK_EQ_INT(a.connect_ms, 812);
    CHECK_EQ_INT(a.total_ms, 12500);
    CHECK_EQ_INT(a.bytes_compressed, 60);
    CHECK_EQ_INT(st_db_ms(1714555800.2504), 1714555800250LL);
    CHECK_EQ_INT(st_db_ms(-0.5), 0);

    static st_fwset fw;
    snprintf(fw.prof.name, sizeof fw.prof.name, "fire-factory");
    fw.n = 2;
    fw.img[0].offset = 0x1000;
    fw.img[1].offset = 0x10000;
    for (int k = 0; k < 32; k++)
        fw.img[1].sha256[k] = (uint8_t)(0xa0 + k);
    st_db_attempt_set_fw(&a, &fw);
    CHECK_STR(a.profile, "fire-factory");
    CHECK_EQ_INT(a.nimages, 2);
    CHECK_EQ_INT(a.images[1].offset, 0x10000);
    CHECK_STR(a.images[1].sha256, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");

    st_err e;
    st_err_set(&e, ST_E_DEVICE, ST_PH_STUB, "MEM_DATA failed");
    e.fclass = ST_FC_STUB_RAM_CHECKSUM;
    e.status[0] = 0x01;
    e.status[1] = 0x07;
    e.nstatus = 4;
    st_db_attempt_set_err(&a, &e);
    CHECK_EQ_INT(a.fclass, ST_FC_STUB_RAM_CHECKSUM);
    CHECK_EQ_INT(a.phase, ST_PH_STUB);
    CHECK_EQ_INT(a.nstatus, 4);
    CHECK_EQ_INT(a.status[1], 0x07);
    CHECK_CONTAINS(a.detail, "MEM_DATA failed");
    CHECK_STR(a.hint, st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM)); /* no hint of its own */
}

int main(void)
{
    char dir[256], path[512];
    test_fill();
    st_db *db = tdb_fresh(dir, path);
    if (CHECK(db != NULL)) {
        test_round_trip(db, path);
        test_units(db);
        test_slot_names(db);
        test_hook(db);
        st_err err;
        CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
        st_db_close(db);
    }
    tdb_rmdir(dir);
    return check_summary("db_attempt");
}

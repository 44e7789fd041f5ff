/* test_db_bin.c - the retry bin: failures add or update one open entry per MAC; a pass
 * resolves it (kept, not deleted); entries added and resolved by hand; MAC-less units
 * keyed by slot, joined by their own session's retries and by nothing else; an entry
 * closed by hand (scrapped, sent back) keeps who, when, why and where, and leaves the
 * open bin. */
#include "check.h"
#include "test_db_support.h"

#include <string.h>

#define MAC1 "24:0a:c4:00:01:01"
#define MAC2 "24:0a:c4:00:01:02"

typedef struct {
    st_db_bin_entry e[16];
    int n;
} bin_list;

static int collect(void *user, const st_db_bin_entry *e)
{
    bin_list *l = user;
    if (l->n < 16)
        l->e[l->n++] = *e;
    return 0;
}

static int list(st_db *db, bool resolved, bin_list *l)
{
    st_err err;
    memset(l, 0, sizeof *l);
    if (st_db_bin_list(db, resolved, collect, l, &err) < 0) {
        tdb_print_err("bin_list", &err);
        return -1;
    }
    return l->n;
}

static void test_fail_then_pass(st_db *db)
{
    bin_list l;
    /* a failed try that the engine will retry is not binned */
    int64_t a1 = tdb_attempt(db, MAC1, 1, 1, 1000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", false);
    CHECK(a1 > 0);
    CHECK_EQ_INT(list(db, true, &l), 0);
    /* the session's last try fails: binned, counting both failed tries */
    int64_t a2 = tdb_attempt(db, MAC1, 1, 2, 1100000, ST_DB_FAIL, ST_FC_STUB_RAM_CHECKSUM, "CP2104", true);
    CHECK_EQ_INT(list(db, false, &l), 1);
    CHECK_STR(l.e[0].mac, MAC1);
    CHECK_EQ_INT(l.e[0].attempts, 2);
    CHECK_EQ_INT(l.e[0].fclass, ST_FC_STUB_RAM_CHECKSUM);
    CHECK_EQ_INT(l.e[0].phase, ST_PH_STUB);
    CHECK_EQ_INT(l.e[0].first_fail_ms, 1000000);
    CHECK_EQ_INT(l.e[0].last_fail_ms, 1110000);
    CHECK_EQ_INT(l.e[0].last_attempt_id, a2);
    CHECK_EQ_INT(l.e[0].vid, 0x10c4);
    CHECK_EQ_INT(l.e[0].slot, 1);
    CHECK_STR(l.e[0].slot_name, "slot1");
    CHECK_STR(l.e[0].port, "/dev/ttyUSB1");
    CHECK_STR(l.e[0].hint, st_fclass_hint(ST_FC_STUB_RAM_CHECKSUM)); /* class hint when none given */
    CHECK_EQ_INT(l.e[0].resolved_ms, 0);
    int64_t entry = l.e[0].id;

    /* a later session (reflash from the bin) fails again on another slot: same entry */
    int64_t a3 = tdb_attempt(db, MAC1, 5, 1, 2000000, ST_DB_FAIL, ST_FC_MD5_MISMATCH, "CH9102", true);
    CHECK_EQ_INT(list(db, false, &l), 1);
    CHECK_EQ_INT(l.e[0].id, entry);
    CHECK_EQ_INT(l.e[0].attempts, 3);
    CHECK_EQ_INT(l.e[0].fclass, ST_FC_MD5_MISMATCH);
    CHECK_EQ_INT(l.e[0].slot, 5);
    CHECK_STR(l.e[0].slot_name, "slot5");
    CHECK_EQ_INT(l.e[0].first_fail_ms, 1000000);
    CHECK_EQ_INT(l.e[0].last_fail_ms, 2010000);
    CHECK_EQ_INT(l.e[0].last_attempt_id, a3);

    /* it passes: resolved by that attempt, and still there */
    int64_t a4 = tdb_attempt(db, MAC1, 5, 2, 2100000, ST_DB_PASS, ST_FC_NONE, "CH9102", true);
    CHECK_EQ_INT(list(db, false, &l), 0);
    CHECK_EQ_INT(list(db, true, &l), 1);
    CHECK_EQ_INT(l.e[0].id, entry);
    CHECK_EQ_INT(l.e[0].resolved_by, a4);
    CHECK_EQ_INT(l.e[0].resolved_ms, 2110000);
    CHECK_EQ_INT(l.e[0].attempts, 3);

    /* failing after that pass opens a fresh entry counting only the new failure */
    int64_t a5 = tdb_attempt(db, MAC1, 5, 1, 3000000, ST_DB_FAIL, ST_FC_TIMEOUT, "CH9102", true);
    CHECK_EQ_INT(list(db, false, &l), 1);
    CHECK(l.e[0].id != entry);
    CHECK_EQ_INT(l.e[0].attempts, 1);
    CHECK_EQ_INT(l.e[0].first_fail_ms, 3000000);
    CHECK_EQ_INT(l.e[0].last_attempt_id, a5);
    CHECK_EQ_INT(list(db, true, &l), 2);
    CHECK_EQ_INT(l.e[0].last_attempt_id, a5); /* newest failure first */
    CHECK_EQ_INT(l.e[1].id, entry);
}

static void test_by_hand(st_db *db)
{
    st_err err;
    st_db_bin_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.mac, sizeof e.mac, "24:0A:C4:00:01:02");
    e.slot = 7;
    e.fclass = ST_FC_FLASH_WRITE;
    e.phase = ST_PH_WRITE;
    e.status[0] = 0x01;
    e.status[1] = 0x63;
    e.nstatus = 2;
    snprintf(e.hint, sizeof e.hint, "set the unit aside");
    e.vid = 0x1a86;
    e.pid = 0x55d4;
    e.attempts = 3;
    e.first_fail_ms = 500;
    e.last_fail_ms = 900;
    int64_t id = 0, id2 = 0;
    CHECK_EQ_INT(st_db_bin_add(db, &e, &id, &err), 0);
    CHECK(id > 0);
    /* the same MAC again updates its open entry: attempts max(given, previous + 1) */
    e.attempts = 0;
    e.last_fail_ms = 1500;
    CHECK_EQ_INT(st_db_bin_add(db, &e, &id2, &err), 0);
    CHECK_EQ_INT(id2, id);
    bool found = false;
    st_db_unit u;
    CHECK_EQ_INT(st_db_unit_get(db, MAC2, &u, &found, &err), 0);
    CHECK(found); /* the unit exists for the bin's sake */

    bin_list l;
    list(db, false, &l);
    st_db_bin_entry *got = NULL;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].id == id)
            got = &l.e[i];
    if (CHECK(got != NULL)) {
        CHECK_STR(got->mac, MAC2);
        CHECK_EQ_INT(got->attempts, 4);
        CHECK_EQ_INT(got->first_fail_ms, 500);
        CHECK_EQ_INT(got->last_fail_ms, 1500);
        CHECK_EQ_INT(got->nstatus, 2);
        CHECK_EQ_INT(got->status[1], 0x63);
        CHECK_STR(got->hint, "set the unit aside");
        CHECK_EQ_INT(got->pid, 0x55d4);
        CHECK_EQ_INT(got->last_attempt_id, 0);
    }
    /* resolve by hand: kept, then a second resolve is refused */
    CHECK_EQ_INT(st_db_bin_resolve(db, id, 0, &err), 0);
    CHECK_EQ_INT(st_db_bin_resolve(db, id, 0, &err), -1);
    CHECK_CONTAINS(err.msg, "already resolved");
    CHECK_EQ_INT(st_db_bin_resolve(db, 98765, 0, &err), -1);
    list(db, true, &l);
    got = NULL;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].id == id)
            got = &l.e[i];
    if (CHECK(got != NULL)) {
        CHECK(got->resolved_ms > 0);
        CHECK_EQ_INT(got->resolved_by, 0);
    }
    /* MAC-less by hand: a new entry every time, under the slot's name */
    memset(&e, 0, sizeof e);
    e.slot = 9;
    snprintf(e.slot_name, sizeof e.slot_name, "bench-left");
    e.fclass = ST_FC_NO_SYNC;
    CHECK_EQ_INT(st_db_bin_add(db, &e, &id, &err), 0);
    CHECK_EQ_INT(st_db_bin_add(db, &e, &id2, &err), 0);
    CHECK(id2 != id);
    list(db, false, &l);
    got = NULL;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].id == id2)
            got = &l.e[i];
    if (CHECK(got != NULL))
        CHECK_STR(got->slot_name, "bench-left");
    snprintf(e.mac, sizeof e.mac, "zz");
    CHECK_EQ_INT(st_db_bin_add(db, &e, &id, &err), -1);
    CHECK_CONTAINS(err.msg, "not a MAC address");
}

#define MAC3 "24:0a:c4:00:01:03"

static void test_close(st_db *db)
{
    st_err err;
    bin_list l;
    int64_t a1 = tdb_attempt(db, MAC3, 4, 1, 2000000, ST_DB_FAIL, ST_FC_FLASH_WRITE, "CP2104", true);
    CHECK(a1 > 0);
    /* refused, changing nothing: a blank reason, a malformed MAC, a MAC without an open entry */
    CHECK_EQ_INT(st_db_bin_close(db, MAC3, "  \t", "ann", NULL, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_CONTAINS(err.msg, "a reason is required");
    CHECK_EQ_INT(st_db_bin_close(db, MAC3, NULL, "ann", NULL, &err), -1);
    CHECK_EQ_INT(st_db_bin_close(db, "24:0a:c4", "scrapped", "ann", NULL, &err), -1);
    CHECK_EQ_INT(st_db_bin_close(db, "24:0a:c4:00:09:09", "scrapped", "ann", NULL, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_CONTAINS(err.msg, "24:0a:c4:00:09:09 has no open retry-bin entry");
    CHECK_CONTAINS(err.hint, "station retry-bin");
    bool open3 = false;
    list(db, false, &l);
    for (int i = 0; i < l.n; i++)
        open3 |= !strcmp(l.e[i].mac, MAC3);
    CHECK(open3);

    /* closed: out of the open bin, kept with reason, who, host and time */
    st_db_bin_entry e;
    int64_t before = st_db_now_ms();
    CHECK_EQ_INT(st_db_bin_close(db, "24-0A-C4-00-01-03", "scrapped: cracked case", "ann", &e, &err), 0);
    CHECK_STR(e.mac, MAC3);
    CHECK_STR(e.closed_reason, "scrapped: cracked case");
    CHECK_STR(e.closed_by, "ann");
    CHECK(e.closed_host[0] != '\0');
    CHECK(e.resolved_ms >= before);
    CHECK_EQ_INT(e.resolved_by, 0);
    CHECK_EQ_INT(e.last_attempt_id, a1);
    list(db, false, &l);
    for (int i = 0; i < l.n; i++)
        CHECK(strcmp(l.e[i].mac, MAC3) != 0);
    list(db, true, &l);
    const st_db_bin_entry *got = NULL;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].id == e.id)
            got = &l.e[i];
    if (CHECK(got != NULL)) {
        CHECK_STR(got->closed_reason, "scrapped: cracked case");
        CHECK_STR(got->closed_by, "ann");
        CHECK_EQ_INT(got->resolved_ms, e.resolved_ms);
    }
    /* closing twice: nothing open any more */
    CHECK_EQ_INT(st_db_bin_close(db, MAC3, "again", "ann", NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "has no open retry-bin entry");
    /* a later failure of the same unit opens a new entry; the closed one stays closed */
    int64_t a2 = tdb_attempt(db, MAC3, 4, 1, 3000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    CHECK(a2 > 0);
    list(db, false, &l);
    int n3 = 0;
    for (int i = 0; i < l.n; i++)
        if (!strcmp(l.e[i].mac, MAC3)) {
            n3++;
            CHECK(l.e[i].id != e.id);
            CHECK_STR(l.e[i].closed_reason, "");
        }
    CHECK_EQ_INT(n3, 1);
}

static void test_macless_sessions(st_db *db, const char *path)
{
    char buf[128];
    bin_list l;
    int before = list(db, false, &l);
    /* slot 12, session 1: try 1 no sync (no MAC), binned per try; try 2 also MAC-less */
    int64_t s1 = tdb_attempt(db, "", 12, 1, 5000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    int64_t s2 = tdb_attempt(db, "", 12, 2, 5100000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    CHECK(s1 > 0 && s2 > 0);
    CHECK_EQ_INT(list(db, false, &l), before + 1); /* one entry for the unit's session */
    const st_db_bin_entry *e12 = NULL;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].slot == 12)
            e12 = &l.e[i];
    if (CHECK(e12 != NULL)) {
        CHECK_EQ_INT(e12->attempts, 2);
        CHECK_EQ_INT(e12->last_attempt_id, s2);
        CHECK_EQ_INT(e12->first_fail_ms, 5000000);
        CHECK_STR(e12->mac, "");
    }
    /* try 3 reads the MAC and passes: the session's MAC-less entry resolves and learns it */
    int64_t s3 = tdb_attempt(db, "24:0a:c4:00:0c:03", 12, 3, 5200000, ST_DB_PASS, ST_FC_NONE, "CP2104", true);
    CHECK_EQ_INT(list(db, false, &l), before);
    snprintf(buf, sizeof buf, "%lld", (long long)s3);
    char want[128];
    snprintf(want, sizeof want, "24:0a:c4:00:0c:03 %lld", (long long)s3);
    CHECK_STR(tdb_query(path, "SELECT mac || ' ' || resolved_by FROM bin WHERE slot = 12", buf, sizeof buf), want);

    /* slot 13: a MAC-less failure, then a NEW unit (try 1) passes there: not resolved */
    CHECK(tdb_attempt(db, "", 13, 1, 6000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true) > 0);
    CHECK(tdb_attempt(db, "24:0a:c4:00:0d:01", 13, 1, 6100000, ST_DB_PASS, ST_FC_NONE, "CP2104", true) > 0);
    /* and a second new unit's retry (try 2) after its own first try: still not that entry */
    CHECK(tdb_attempt(db, "24:0a:c4:00:0d:02", 13, 1, 6200000, ST_DB_FAIL, ST_FC_TIMEOUT, "CP2104", false) > 0);
    CHECK(tdb_attempt(db, "24:0a:c4:00:0d:02", 13, 2, 6300000, ST_DB_PASS, ST_FC_NONE, "CP2104", true) > 0);
    CHECK_STR(tdb_query(path, "SELECT COALESCE(resolved_ms, 'open') || ' ' || COALESCE(mac, '-')"
                              " FROM bin WHERE slot = 13", buf, sizeof buf),
              "open -");

    /* slot 14: try 1 MAC-less failure, try 2 fails with the MAC known: one entry, adopted */
    CHECK(tdb_attempt(db, "", 14, 1, 7000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true) > 0);
    CHECK(tdb_attempt(db, "24:0a:c4:00:0e:01", 14, 2, 7100000, ST_DB_FAIL, ST_FC_FLASH_WRITE, "CP2104", true) > 0);
    CHECK_STR(tdb_query(path, "SELECT count(*) || ' ' || max(mac) || ' ' || max(attempts) || ' ' || max(fclass)"
                              " FROM bin WHERE slot = 14", buf, sizeof buf),
              "1 24:0a:c4:00:0e:01 2 flash_write");
}

/* Two hubs, each with a port 3: the slot number repeats, the slot names do not. A MAC-less
 * failure belongs to its own slot only, however the tries on the two interleave. */
#define HUB_A3 "pci-0000:00:14.0-usb-0:1.3:1.0-port0"
#define HUB_B3 "pci-0000:00:14.0-usb-0:2.3:1.0-port0"

/* "<mac or -> <open|resolved_by> <attempts>" of the bin entry last failed by attempt id. */
static const char *entry_of(const char *path, int64_t id, char *buf, size_t cap)
{
    char q[256];
    snprintf(q, sizeof q, "SELECT COALESCE(mac, '-') || ' ' || COALESCE(resolved_by, 'open') || ' '"
                          " || attempts || ' ' || slot_name FROM bin WHERE last_attempt_id = %lld", (long long)id);
    return tdb_query(path, q, buf, cap);
}

static void test_two_hubs(st_db *db, const char *path)
{
    char buf[256], want[256];
    /* B's unit fails try 1 (retried), A's unit fails try 1 before its MAC is read (binned),
     * B's try 2 fails MAC-less too (binned): two entries, one per slot */
    CHECK(tdb_attempt_in(db, HUB_B3, "", 3, 1, 8000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", false) > 0);
    int64_t a1 = tdb_attempt_in(db, HUB_A3, "", 3, 1, 8050000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    int64_t b2 = tdb_attempt_in(db, HUB_B3, "", 3, 2, 8100000, ST_DB_FAIL, ST_FC_TIMEOUT, "CP2104", true);
    CHECK_STR(entry_of(path, a1, buf, sizeof buf), "- open 1 " HUB_A3);
    CHECK_STR(entry_of(path, b2, buf, sizeof buf), "- open 2 " HUB_B3);
    /* B's unit passes on try 3 with its MAC: B's entry resolves, A's stays open */
    int64_t b3 = tdb_attempt_in(db, HUB_B3, "24:0a:c4:00:0b:03", 3, 3, 8150000, ST_DB_PASS, ST_FC_NONE,
                                "CP2104", true);
    snprintf(want, sizeof want, "24:0a:c4:00:0b:03 %lld 2 " HUB_B3, (long long)b3);
    CHECK_STR(entry_of(path, b2, buf, sizeof buf), want);
    CHECK_STR(entry_of(path, a1, buf, sizeof buf), "- open 1 " HUB_A3);
    /* the listing carries the name */
    bin_list l;
    list(db, false, &l);
    int seen = 0;
    for (int i = 0; i < l.n; i++)
        if (l.e[i].last_attempt_id == a1) {
            CHECK_STR(l.e[i].slot_name, HUB_A3);
            CHECK_EQ_INT(l.e[i].slot, 3);
            seen++;
        }
    CHECK_EQ_INT(seen, 1);
    /* A's unit, retried on its own slot, reads its MAC and passes: its entry resolves */
    int64_t a2 = tdb_attempt_in(db, HUB_A3, "24:0a:c4:00:0a:03", 3, 2, 8200000, ST_DB_PASS, ST_FC_NONE,
                                "CP2104", true);
    snprintf(want, sizeof want, "24:0a:c4:00:0a:03 %lld 1 " HUB_A3, (long long)a2);
    CHECK_STR(entry_of(path, a1, buf, sizeof buf), want);
}

int main(void)
{
    char dir[256], path[512];
    st_db *db = tdb_fresh(dir, path);
    if (CHECK(db != NULL)) {
        test_fail_then_pass(db);
        test_by_hand(db);
        test_close(db);
        test_macless_sessions(db, path);
        test_two_hubs(db, path);
        st_err err;
        CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
        st_db_close(db);
    }
    tdb_rmdir(dir);
    return check_summary("db_bin");
}

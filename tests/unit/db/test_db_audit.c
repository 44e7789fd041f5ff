/* test_db_audit.c - a MAC's history: attempts and bin entries merged newest first,
 * nothing of other units, any MAC spelling; and the query plan that keeps it fast on a
 * million attempts (the (mac, started_ms) index, no sort step). */
#include "check.h"
#include "test_db_support.h"

#include <string.h>

#define MAC "24:0a:c4:aa:bb:01"
#define OTHER "24:0a:c4:aa:bb:02"

typedef struct {
    char kind[16];    /* 'a' attempt, 'b' bin entry */
    int64_t id[16];
    int64_t t[16];
    int n;
    int stop_after;
} hist;

static int collect(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    hist *h = user;
    if (h->n >= 16)
        return 1;
    if (a) {
        h->kind[h->n] = 'a';
        h->id[h->n] = a->id;
        h->t[h->n] = a->started_ms;
        CHECK_STR(a->mac, MAC);
    } else {
        h->kind[h->n] = 'b';
        h->id[h->n] = b->id;
        h->t[h->n] = b->resolved_ms ? b->resolved_ms : b->last_fail_ms;
        CHECK_STR(b->mac, MAC);
    }
    h->n++;
    return h->stop_after && h->n >= h->stop_after;
}

/* ---- units named by the end of a MAC, by serial, in a time range ---- */

typedef struct {
    char log[2048]; /* "U<mac> a<id> b<id> ..." */
} qlog;

static int q_unit(void *user, const char *mac)
{
    qlog *l = user;
    size_t n = strlen(l->log);
    snprintf(l->log + n, sizeof l->log - n, "%sU%s", n ? " " : "", *mac ? mac : "-");
    return 0;
}

static int q_row(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    qlog *l = user;
    size_t n = strlen(l->log);
    snprintf(l->log + n, sizeof l->log - n, " %c%lld", a ? 'a' : 'b', (long long)(a ? a->id : b->id));
    return 0;
}

static const char *run_query(st_db *db, const char *text, const char *serial, int64_t from, int64_t to, qlog *l)
{
    st_db_unit_query q;
    st_err err;
    memset(l, 0, sizeof *l);
    if (text && !CHECK_EQ_INT(st_db_unit_query_parse(text, &q, &err), 0))
        return "(parse failed)";
    if (serial) {
        memset(&q, 0, sizeof q);
        snprintf(q.serial, sizeof q.serial, "%s", serial);
    }
    if (!CHECK_EQ_INT(st_db_audit_query(db, &q, from, to, q_unit, q_row, l, &err), 0))
        tdb_print_err("audit query", &err);
    return l->log;
}

static int64_t attempt_with(st_db *db, const char *mac, const char *usb_serial, const char *serial, int64_t t,
                            st_db_outcome o, bool bin)
{
    st_db_attempt a;
    tdb_full_attempt(&a, mac, 5, t);
    snprintf(a.bridge_serial, sizeof a.bridge_serial, "%s", usb_serial);
    st_err err;
    if (!CHECK_EQ_INT(st_db_attempt_begin(db, &a, &err), 0))
        return -1;
    a.outcome = o;
    a.fclass = o == ST_DB_PASS ? ST_FC_NONE : ST_FC_NO_SYNC;
    snprintf(a.serial, sizeof a.serial, "%s", serial);
    a.ended_ms = t + 1000;
    if (!CHECK_EQ_INT(st_db_attempt_finish(db, &a, bin, &err), 0))
        return -1;
    return a.id;
}

static void test_query(st_db *db)
{
    /* two units whose labels both read 5a:40:01, one that does not, a unit known only by
     * its bridge's USB serial (its MAC was never read), and one with the station's serial */
    const int64_t T = 10000000;
    int64_t u1 = attempt_with(db, "24:0a:c4:5a:40:01", "USB-A", "", T, ST_DB_PASS, false);
    int64_t u2a = attempt_with(db, "30:ae:a4:5a:40:01", "USB-B", "", T + 100000, ST_DB_FAIL, true);
    int64_t u2b = attempt_with(db, "30:ae:a4:5a:40:01", "USB-B", "", T + 200000, ST_DB_PASS, true);
    int64_t u3 = attempt_with(db, "30:ae:a4:00:40:01", "USB-C", "SN-0042", T + 300000, ST_DB_PASS, false);
    int64_t nm = attempt_with(db, "", "USB-B", "", T + 400000, ST_DB_FAIL, true);
    qlog l;
    char want[512];

    /* the label's last three bytes, any spelling: both units, each with its history
     * (unit 2: its bin entry, resolved by the pass, then the pass and the failure) */
    run_query(db, "5a:40:01", NULL, 0, 0, &l);
    snprintf(want, sizeof want, "U24:0a:c4:5a:40:01 a%lld U30:ae:a4:5a:40:01 b", (long long)u1);
    CHECK(strncmp(l.log, want, strlen(want)) == 0);
    snprintf(want, sizeof want, " a%lld a%lld", (long long)u2b, (long long)u2a);
    CHECK_CONTAINS(l.log, want);
    CHECK(strstr(l.log, "00:40:01") == NULL); /* 00:40:01 is not 5a:40:01 */
    qlog l2;
    CHECK_STR(run_query(db, "5A-40-01", NULL, 0, 0, &l2), l.log);
    CHECK_STR(run_query(db, "5a4001", NULL, 0, 0, &l2), l.log);
    /* one byte, five bytes; and a whole MAC is that unit alone */
    run_query(db, "01", NULL, 0, 0, &l2);
    CHECK_CONTAINS(l2.log, "U30:ae:a4:00:40:01");
    run_query(db, "ae:a4:5a:40:01", NULL, 0, 0, &l2);
    CHECK(strstr(l2.log, "U24:") == NULL && strstr(l2.log, "U30:ae:a4:5a:40:01"));
    snprintf(want, sizeof want, "U30:ae:a4:00:40:01 a%lld", (long long)u3);
    CHECK_STR(run_query(db, "30AEA4004001", NULL, 0, 0, &l2), want);
    /* a time range: only what happened in it, and a unit with nothing in it is left out */
    run_query(db, "5a:40:01", NULL, T + 150000, T + 250000, &l2);
    CHECK_CONTAINS(l2.log, "U30:ae:a4:5a:40:01");
    snprintf(want, sizeof want, " a%lld", (long long)u2b);
    CHECK_CONTAINS(l2.log, want);
    snprintf(want, sizeof want, " a%lld", (long long)u2a);
    CHECK(strstr(l2.log, want) == NULL);
    CHECK(strstr(l2.log, "U24:") == NULL);
    CHECK_STR(run_query(db, "5a:40:01", NULL, T + 5000000, 0, &l2), "");

    /* by USB serial: the unit, then the attempts that never read a MAC (and their bin entry) */
    run_query(db, NULL, "USB-B", 0, 0, &l2);
    snprintf(want, sizeof want, "U30:ae:a4:5a:40:01 ");
    CHECK(strncmp(l2.log, want, strlen(want)) == 0);
    snprintf(want, sizeof want, " U- b");
    CHECK_CONTAINS(l2.log, want);
    snprintf(want, sizeof want, " a%lld", (long long)nm);
    CHECK_CONTAINS(l2.log, want);
    CHECK(strstr(l2.log, "U24:") == NULL);
    /* by the serial the station gave the unit */
    snprintf(want, sizeof want, "U30:ae:a4:00:40:01 a%lld", (long long)u3);
    CHECK_STR(run_query(db, NULL, "SN-0042", 0, 0, &l2), want);
    CHECK_STR(run_query(db, NULL, "no-such-serial", 0, 0, &l2), "");

    /* what is neither a MAC nor whole bytes of one */
    st_db_unit_query q;
    st_err err;
    CHECK_EQ_INT(st_db_unit_query_parse("5a:4", &q, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    CHECK_EQ_INT(st_db_unit_query_parse("zz:40:01", &q, &err), -1);
    CHECK_EQ_INT(st_db_unit_query_parse("", &q, &err), -1);
    CHECK_EQ_INT(st_db_unit_query_parse("24:0a:c4:5a:40:01:ff", &q, &err), -1);
    CHECK_EQ_INT(st_db_unit_query_parse("5A:40:01", &q, &err), 0);
    CHECK(q.suffix);
    CHECK_STR(q.mac, "5a:40:01");
}

/* EXPLAIN QUERY PLAN of sql, its steps joined by "; ", into plan. */
static void query_plan(sqlite3 *raw, const char *sql, char *plan, size_t cap)
{
    char q[512];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    plan[0] = '\0';
    sqlite3_stmt *s;
    if (!CHECK_EQ_INT(sqlite3_prepare_v2(raw, q, -1, &s, NULL), SQLITE_OK))
        return;
    while (sqlite3_step(s) == SQLITE_ROW) {
        size_t n = strlen(plan);
        snprintf(plan + n, cap - n, "%s; ", (const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_finalize(s);
}

int main(void)
{
    char dir[256], path[512];
    st_db *db = tdb_fresh(dir, path);
    if (!CHECK(db != NULL)) {
        tdb_rmdir(dir);
        return check_summary("db_audit");
    }
    /* inserted out of time order on purpose */
    int64_t a2 = tdb_attempt(db, MAC, 1, 2, 2000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    int64_t a1 = tdb_attempt(db, MAC, 1, 1, 1000000, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", false);
    tdb_attempt(db, OTHER, 2, 1, 2500000, ST_DB_FAIL, ST_FC_TIMEOUT, "CP2104", true);
    int64_t a3 = tdb_attempt(db, MAC, 3, 1, 3000000, ST_DB_FAIL, ST_FC_MD5_MISMATCH, "CH9102", false);
    int64_t a4 = tdb_attempt(db, MAC, 3, 2, 4000000, ST_DB_PASS, ST_FC_NONE, "CH9102", true);
    int64_t a5 = tdb_attempt(db, MAC, 4, 1, 5000000, ST_DB_FAIL, ST_FC_TIMEOUT, "CH9102", true);
    tdb_attempt(db, OTHER, 2, 2, 5500000, ST_DB_PASS, ST_FC_NONE, "CP2104", true);

    hist h;
    memset(&h, 0, sizeof h);
    st_err err;
    CHECK_EQ_INT(st_db_audit(db, "24:0A:C4:AA:BB:01", collect, &h, &err), 0);
    /* bin entry 1 (opened by a2, resolved by a4 at 4010000), bin entry 2 (a5, 5010000) */
    const char want_kind[] = "babaaaa";
    int64_t want_id[] = {0, a5, 0, a4, a3, a2, a1};
    if (CHECK_EQ_INT(h.n, 7)) {
        for (int i = 0; i < 7; i++) {
            CHECK_EQ_INT(h.kind[i], want_kind[i]);
            if (want_id[i])
                CHECK_EQ_INT(h.id[i], want_id[i]);
            if (i)
                CHECK(h.t[i] <= h.t[i - 1]);
        }
        CHECK_EQ_INT(h.t[0], 5010000);
        CHECK_EQ_INT(h.t[2], 4010000);
    }

    /* the callback may stop early */
    memset(&h, 0, sizeof h);
    h.stop_after = 2;
    CHECK_EQ_INT(st_db_audit(db, "240ac4aabb01", collect, &h, &err), 0);
    CHECK_EQ_INT(h.n, 2);

    /* unknown MAC: empty history; bad MAC: an argument error */
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(st_db_audit(db, "00:00:00:00:00:01", collect, &h, &err), 0);
    CHECK_EQ_INT(h.n, 0);
    CHECK_EQ_INT(st_db_audit(db, "nonsense", collect, &h, &err), -1);
    CHECK_EQ_INT(err.cat, ST_E_ARG);
    test_query(db);
    st_db_close(db);

    /* the plan: the attempts query walks attempts_mac_started backwards, no temp sort */
    sqlite3 *raw;
    if (CHECK_EQ_INT(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK)) {
        char plan[1024];
        query_plan(raw, "SELECT * FROM attempts WHERE mac = ? ORDER BY started_ms DESC, id DESC", plan, sizeof plan);
        CHECK_CONTAINS(plan, "USING INDEX attempts_mac_started (mac=?)");
        CHECK(strstr(plan, "TEMP B-TREE") == NULL);
        /* a USB serial finds its attempts by index, not by scanning the table */
        query_plan(raw, "SELECT mac FROM attempts WHERE bridge_serial = ?", plan, sizeof plan);
        CHECK_CONTAINS(plan, "attempts_bridge_serial");
        sqlite3_close(raw);
    }
    tdb_rmdir(dir);
    return check_summary("db_audit");
}

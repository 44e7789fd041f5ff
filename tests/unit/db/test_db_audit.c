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
    st_db_close(db);

    /* the plan: the attempts query walks attempts_mac_started backwards, no temp sort */
    sqlite3 *raw;
    if (CHECK_EQ_INT(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK)) {
        sqlite3_stmt *s;
        char plan[1024] = "";
        if (CHECK_EQ_INT(sqlite3_prepare_v2(raw,
                                            "EXPLAIN QUERY PLAN SELECT * FROM attempts WHERE mac = ?"
                                            " ORDER BY started_ms DESC, id DESC",
                                            -1, &s, NULL),
                         SQLITE_OK)) {
            while (sqlite3_step(s) == SQLITE_ROW) {
                size_t n = strlen(plan);
                snprintf(plan + n, sizeof plan - n, "%s; ", (const char *)sqlite3_column_text(s, 3));
            }
            sqlite3_finalize(s);
        }
        CHECK_CONTAINS(plan, "USING INDEX attempts_mac_started (mac=?)");
        CHECK(strstr(plan, "TEMP B-TREE") == NULL);
        sqlite3_close(raw);
    }
    tdb_rmdir(dir);
    return check_summary("db_audit");
}

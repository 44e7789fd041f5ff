/* test_db_retry.c - st_db_attempt_retry: the end of a failed try and the start of the
 * next one land in one transaction (or neither does), and the next try starts with the
 * unit's identity as the failed try recorded it. */
#include "check.h"
#include "test_db_support.h"

#include <string.h>

#define MAC_A "24:0a:c4:00:00:aa"

int main(void)
{
    char dir[256], path[512], buf[256];
    st_db *db = tdb_fresh(dir, path);
    if (!CHECK(db != NULL))
        return check_summary("db_retry");
    st_err err;

    /* try 1 reads the unit, then fails */
    st_db_attempt t1;
    tdb_full_attempt(&t1, "", 2, 1000000);
    t1.try_no = 1;
    CHECK_EQ_INT(st_db_attempt_begin(db, &t1, &err), 0);
    st_db_attempt id = t1;
    snprintf(id.mac, sizeof id.mac, MAC_A);
    id.phase = ST_PH_DETECT;
    CHECK_EQ_INT(st_db_attempt_set_unit(db, &id, &err), 0);
    t1.mac[0] = t1.chip[0] = t1.package[0] = t1.description[0] = '\0';
    t1.outcome = ST_DB_FAIL;
    t1.fclass = ST_FC_MD5_MISMATCH;
    t1.phase = ST_PH_VERIFY;
    t1.ended_ms = 1005000;

    /* try 2 knows nothing of the unit yet: it inherits what try 1 read */
    st_db_attempt t2;
    tdb_full_attempt(&t2, "", 2, 1005001);
    t2.try_no = 2;
    t2.chip[0] = t2.package[0] = t2.description[0] = '\0';
    t2.flash_id = t2.flash_size = 0;
    if (!CHECK_EQ_INT(st_db_attempt_retry(db, &t1, &t2, &err), 0))
        tdb_print_err("retry", &err);
    CHECK(t2.id > t1.id);
    st_db_attempt b;
    CHECK_EQ_INT(st_db_attempt_get(db, t1.id, &b, &err), 0);
    CHECK_EQ_INT(b.outcome, ST_DB_FAIL);
    CHECK_EQ_INT(st_db_attempt_get(db, t2.id, &b, &err), 0);
    CHECK_EQ_INT(b.outcome, ST_DB_IN_PROGRESS);
    CHECK_STR(b.mac, MAC_A);
    CHECK_STR(b.chip, "ESP32");
    CHECK_STR(b.description, "ESP32-D0WD-V3 (revision v3.0)");
    CHECK_EQ_INT(b.flash_size, 16u << 20);
    CHECK_EQ_INT(b.try_no, 2);
    /* a retried try is not binned: the unit is still being worked on */
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM bin", buf, sizeof buf), "0");

    /* only a failed try is retried; an attempt no longer in progress changes nothing */
    st_db_attempt t3;
    tdb_full_attempt(&t3, "", 2, 1006000);
    t3.try_no = 3;
    st_db_attempt again = t1;
    CHECK_EQ_INT(st_db_attempt_retry(db, &again, &t3, &err), -1);
    CHECK_EQ_INT(t3.id, 0);
    again.outcome = ST_DB_PASS;
    CHECK_EQ_INT(st_db_attempt_retry(db, &again, &t3, &err), -1);
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts", buf, sizeof buf), "2");

    /* a crash now leaves try 2 in progress: the next open bins the unit by its MAC */
    st_db_close(db);
    db = tdb_open(path);
    if (CHECK(db != NULL)) {
        CHECK_EQ_INT(st_db_recovered(db), 1);
        CHECK_STR(tdb_query(path, "SELECT mac FROM bin WHERE resolved_ms IS NULL", buf, sizeof buf), MAC_A);
        st_db_close(db);
    }
    tdb_rmdir(dir);
    return check_summary("db_retry");
}

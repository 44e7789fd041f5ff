/* test_db_recover.c - a station process dies mid-attempt (it _exits without closing
 * anything, as a crash would); the next open marks its unfinished attempts interrupted
 * and puts their units in the retry bin, once. */
#include "check.h"
#include "test_db_support.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAC_A "24:0a:c4:00:00:aa"
#define MAC_B "24:0a:c4:00:00:bb"

/* The doomed station: leaves two attempts on MAC_A (in write) and a MAC-less one (in
 * sync) unfinished, after MAC_A had already failed once that session. */
static void crashing_station(const char *path)
{
    st_db *db = tdb_open(path);
    if (!db)
        _exit(10);
    st_err err;
    if (tdb_attempt(db, MAC_A, 1, 1, 1000000, ST_DB_FAIL, ST_FC_MD5_MISMATCH, "CP2104", true) < 0)
        _exit(11);
    if (tdb_attempt(db, MAC_B, 4, 1, 1000000, ST_DB_PASS, ST_FC_NONE, "CP2104", true) < 0)
        _exit(12);
    st_db_attempt a;
    tdb_full_attempt(&a, "", 1, 1100000);
    a.try_no = 2;
    if (st_db_attempt_begin(db, &a, &err) < 0)
        _exit(13);
    snprintf(a.mac, sizeof a.mac, MAC_A);
    a.phase = ST_PH_WRITE;
    if (st_db_attempt_set_unit(db, &a, &err) < 0)
        _exit(14);
    st_db_attempt n;
    tdb_full_attempt(&n, "", 2, 1200000);
    n.try_no = 1;
    n.phase = ST_PH_SYNC;
    if (st_db_attempt_begin(db, &n, &err) < 0)
        _exit(15);
    _exit(0); /* no close: the process dies with its attempts in flight */
}

int main(void)
{
    char dir[256], path[512], buf[256];
    tdb_mkdir(dir);
    tdb_path(path, dir, "station.db");

    pid_t pid = fork();
    if (pid == 0)
        crashing_station(path);
    int status = -1;
    waitpid(pid, &status, 0);
    if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "crashing station exited with %d\n", WEXITSTATUS(status));
        tdb_rmdir(dir);
        return check_summary("db_recover");
    }
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts WHERE outcome = 'in_progress'", buf, sizeof buf), "2");

    /* the next station starts: the dead one's lock is gone, its attempts are closed */
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL)) {
        tdb_rmdir(dir);
        return check_summary("db_recover");
    }
    st_err err;
    CHECK_EQ_INT(st_db_recovered(db), 2);
    st_db_attempt a;
    CHECK_EQ_INT(st_db_attempt_get(db, 3, &a, &err), 0);
    CHECK_EQ_INT(a.outcome, ST_DB_INTERRUPTED);
    CHECK_EQ_INT(a.fclass, ST_FC_INTERRUPTED);
    CHECK_STR(a.mac, MAC_A);
    CHECK_EQ_INT(a.phase, ST_PH_WRITE);
    CHECK_CONTAINS(a.detail, "crash or power loss");
    CHECK_CONTAINS(a.detail, "during phase write");
    CHECK_STR(a.hint, st_fclass_hint(ST_FC_INTERRUPTED));
    CHECK_EQ_INT(a.ended_ms, 0); /* when it really stopped is unknown */
    CHECK_EQ_INT(st_db_attempt_get(db, 4, &a, &err), 0);
    CHECK_EQ_INT(a.outcome, ST_DB_INTERRUPTED);
    CHECK_STR(a.mac, "");

    /* MAC_A's open entry (from its md5 failure) now counts the interruption too; the
     * MAC-less unit got an entry for its slot */
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM bin", buf, sizeof buf), "2");
    CHECK_STR(tdb_query(path, "SELECT attempts || ' ' || fclass || ' ' || last_attempt_id || ' '"
                              " || first_fail_ms || ' ' || last_fail_ms FROM bin WHERE mac = '" MAC_A "'",
                        buf, sizeof buf),
              "2 interrupted 3 1000000 1100000");
    CHECK_STR(tdb_query(path, "SELECT slot || ' ' || fclass || ' ' || phase || ' ' || attempts"
                              " || ' ' || COALESCE(resolved_ms, 'open') FROM bin WHERE mac IS NULL",
                        buf, sizeof buf),
              "2 interrupted sync 1 open");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM bin WHERE mac = '" MAC_B "'", buf, sizeof buf), "0");
    CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
    st_db_close(db);

    /* recovery runs once: a clean reopen finds nothing to do */
    db = tdb_open(path);
    if (CHECK(db != NULL)) {
        CHECK_EQ_INT(st_db_recovered(db), 0);
        CHECK_STR(tdb_query(path, "SELECT count(*) FROM bin", buf, sizeof buf), "2");
        st_db_close(db);
    }
    tdb_rmdir(dir);
    return check_summary("db_recover");
}

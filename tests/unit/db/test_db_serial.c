/* test_db_serial.c - serial numbers: kept on re-flash, --new-serial retires and takes the
 * next number, allocation tied to an in-progress attempt, and a station SIGKILLed while
 * allocating leaves numbers 1..N with a row (unit and attempt) for every one. */
#include "check.h"
#include "test_db_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fmt_serial(void *user, int64_t seq, int64_t now_ms, char *out, size_t cap)
{
    (void)now_ms;
    return snprintf(out, cap, "%s-%06lld", (const char *)user, (long long)seq) < (int)cap ? 0 : -1;
}

static int64_t begin(st_db *db, const char *mac)
{
    st_db_attempt a = {0};
    snprintf(a.mac, sizeof a.mac, "%s", mac);
    snprintf(a.profile, sizeof a.profile, "core2");
    a.slot = 1;
    a.try_no = 1;
    st_err err;
    if (st_db_attempt_begin(db, &a, &err) < 0) {
        tdb_print_err("begin", &err);
        return -1;
    }
    return a.id;
}

static void finish(st_db *db, int64_t id, st_db_outcome o)
{
    st_db_attempt a;
    st_err err;
    if (st_db_attempt_get(db, id, &a, &err) < 0)
        return;
    a.outcome = o;
    a.fclass = o == ST_DB_PASS ? ST_FC_NONE : ST_FC_MD5_MISMATCH;
    a.serial[0] = 0; /* "" keeps what the allocation stored */
    CHECK_EQ_INT(st_db_attempt_finish(db, &a, o != ST_DB_PASS, &err), 0);
}

static void test_assign(void)
{
    char dir[256], path[512], buf[256];
    st_db *db = tdb_fresh(dir, path);
    if (!CHECK(db != NULL))
        return;
    st_err err;
    st_db_serial s;
    bool alloc;
    int64_t a1 = begin(db, "24:0a:c4:00:00:01");
    CHECK_EQ_INT(st_db_serial_assign(db, a1, "core2", "24:0A:C4:00:00:01", false, fmt_serial, "C2", &s,
                                     &alloc, &err), 0);
    CHECK(alloc);
    CHECK_STR(s.serial, "C2-000001");
    CHECK_EQ_INT(s.seq, 1);
    finish(db, a1, ST_DB_FAIL);
    st_db_attempt got;
    CHECK_EQ_INT(st_db_attempt_get(db, a1, &got, &err), 0);
    CHECK_STR(got.serial, "C2-000001"); /* finish kept the serial */

    /* The retry, and a later re-flash, keep the serial. */
    int64_t a2 = begin(db, "24:0a:c4:00:00:01");
    CHECK_EQ_INT(st_db_serial_assign(db, a2, "core2", "24:0a:c4:00:00:01", false, fmt_serial, "C2", &s,
                                     &alloc, &err), 0);
    CHECK(!alloc);
    CHECK_STR(s.serial, "C2-000001");
    CHECK_EQ_INT(s.attempt_id, a1);
    finish(db, a2, ST_DB_PASS);

    int64_t b1 = begin(db, "24:0a:c4:00:00:02");
    CHECK_EQ_INT(st_db_serial_assign(db, b1, "core2", "24:0a:c4:00:00:02", false, fmt_serial, "C2", &s,
                                     &alloc, &err), 0);
    CHECK_STR(s.serial, "C2-000002");
    finish(db, b1, ST_DB_PASS);
    /* Another profile counts on its own. */
    int64_t f1 = begin(db, "24:0a:c4:00:00:02");
    CHECK_EQ_INT(st_db_serial_assign(db, f1, "fire", "24:0a:c4:00:00:02", false, fmt_serial, "F", &s,
                                     &alloc, &err), 0);
    CHECK_STR(s.serial, "F-000001");
    finish(db, f1, ST_DB_PASS);

    /* --new-serial: the old one is retired (kept), the next number is taken. */
    int64_t a3 = begin(db, "24:0a:c4:00:00:01");
    CHECK_EQ_INT(st_db_serial_assign(db, a3, "core2", "24:0a:c4:00:00:01", true, fmt_serial, "C2", &s,
                                     &alloc, &err), 0);
    CHECK(alloc);
    CHECK_STR(s.serial, "C2-000003");
    CHECK_STR(s.reason, "new_serial");
    finish(db, a3, ST_DB_PASS);
    CHECK_STR(tdb_query(path, "SELECT group_concat(serial || ':' || reason || ':' ||"
                              " (retired_ms IS NOT NULL), ',') FROM (SELECT * FROM serials"
                              " WHERE profile = 'core2' ORDER BY seq)", buf, sizeof buf),
              "C2-000001:first:1,C2-000002:first:0,C2-000003:new_serial:0");
    bool found;
    CHECK_EQ_INT(st_db_serial_get(db, "core2", "24:0a:c4:00:00:01", &s, &found, &err), 0);
    CHECK(found && !strcmp(s.serial, "C2-000003"));
    int64_t next;
    CHECK_EQ_INT(st_db_serial_next(db, "core2", &next, &err), 0);
    CHECK_EQ_INT(next, 4);

    /* Only an attempt in progress gets a serial; a refused allocation takes no number. */
    CHECK(st_db_serial_assign(db, a3, "core2", "24:0a:c4:00:00:09", false, fmt_serial, "C2", &s,
                              &alloc, &err) != 0);
    CHECK_CONTAINS(err.msg, "not in progress");
    CHECK(!alloc);
    CHECK_EQ_INT(st_db_serial_next(db, "core2", &next, &err), 0);
    CHECK_EQ_INT(next, 4);
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM units WHERE mac = '24:0a:c4:00:00:09'", buf,
                        sizeof buf), "0");
    st_db_close(db);
    tdb_rmdir(dir);
}

/* A child allocates serials as fast as it can, each in its attempt, and is SIGKILLed. */
static void test_sigkill(void)
{
    char dir[256], path[512], buf[256];
    tdb_mkdir(dir);
    tdb_path(path, dir, "station.db");
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    st_db_close(db);
    pid_t pid = fork();
    if (pid == 0) {
        st_db *c = tdb_open(path);
        if (!c)
            _exit(3);
        for (int i = 0; i < 100000; i++) {
            char mac[18];
            snprintf(mac, sizeof mac, "24:0a:c4:%02x:%02x:%02x", (i >> 16) & 0xFF, (i >> 8) & 0xFF,
                     i & 0xFF);
            int64_t id = begin(c, mac);
            st_db_serial s;
            bool alloc;
            st_err err;
            if (id < 0 || st_db_serial_assign(c, id, "core2", mac, false, fmt_serial, "C2", &s, &alloc,
                                              &err) < 0)
                _exit(4);
            if (i % 2)
                finish(c, id, ST_DB_PASS); /* the others stay in progress, as mid-flash */
        }
        _exit(0);
    }
    /* Kill it once it has allocated a few dozen, mid-stream. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        const char *n = tdb_query(path, "SELECT count(*) FROM serials", buf, sizeof buf);
        if (n && atoi(n) >= 40)
            break;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (!CHECK(t.tv_sec - t0.tv_sec < 30))
            break;
        usleep(2000);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));

    db = tdb_open(path); /* recovery marks the in-progress attempts interrupted */
    if (!CHECK(db != NULL))
        return;
    CHECK(st_db_recovered(db) >= 1);
    /* 1..N, no duplicates, no gaps, each with its unit and its attempt. */
    CHECK_STR(tdb_query(path, "SELECT (count(*) = max(seq)) AND min(seq) = 1 AND"
                              " count(DISTINCT serial) = count(*) AND count(DISTINCT mac) = count(*)"
                              " FROM serials", buf, sizeof buf), "1");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM serials s LEFT JOIN attempts a ON a.id = s.attempt_id"
                              " WHERE a.id IS NULL OR a.mac IS NOT s.mac OR a.serial IS NOT s.serial",
                        buf, sizeof buf), "0");
    CHECK_STR(tdb_query(path, "SELECT count(*) FROM attempts WHERE serial IS NULL AND outcome <> 'in_progress'"
                              " AND id < (SELECT max(attempt_id) FROM serials)", buf, sizeof buf), "0");
    /* The numbering goes on from where it stopped. */
    int64_t next;
    st_err err;
    const char *max = tdb_query(path, "SELECT max(seq) FROM serials", buf, sizeof buf);
    long long m = max ? atoll(max) : -1;
    CHECK_EQ_INT(st_db_serial_next(db, "core2", &next, &err), 0);
    CHECK_EQ_INT(next, m + 1);
    st_db_close(db);
    tdb_rmdir(dir);
}

int main(void)
{
    test_assign();
    test_sigkill();
    return check_summary("db_serial");
}

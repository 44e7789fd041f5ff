/* test_db_full.c - the station must refuse to flash without records: a full disk and a
 * read-only file or folder make st_db_open fail with a message naming the path and the
 * cause, and a write that hits a full disk mid-run returns an error while everything
 * recorded before it survives.
 *
 * A full disk is simulated with PRAGMA max_page_count (st_db_opts.max_page_count):
 * SQLite then fails page allocation with SQLITE_FULL exactly as on a full disk.
 * Read-only is real: file modes. When the test runs as root (who ignores modes), the
 * open is tried in a child that dropped to uid/gid 65534 first. */
#include "check.h"
#include "test_db_support.h"

#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static long count_attempts(const char *path)
{
    char buf[64];
    return atol(tdb_query(path, "SELECT count(*) FROM attempts", buf, sizeof buf));
}

static void test_full_disk(const char *dir)
{
    char path[512], buf[64], want[700];
    tdb_path(path, dir, "full.db");
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    for (int i = 0; i < 3; i++)
        CHECK(tdb_attempt(db, "24:0a:c4:00:00:01", 1, i + 1, 1000000 + i * 20000, ST_DB_FAIL,
                          ST_FC_NO_SYNC, "CP2104", true) > 0);
    st_db_close(db);
    long pages = atol(tdb_query(path, "PRAGMA page_count", buf, sizeof buf));
    CHECK(pages > 0);

    /* the disk fills up while the station runs */
    st_db_opts cap = {.max_page_count = (int)pages + 8};
    st_err err;
    if (!CHECK_EQ_INT(st_db_open(path, &cap, &db, &err), 0)) {
        tdb_print_err("open with room", &err);
        return;
    }
    long recorded = 3;     /* rows that must survive */
    int failed_at = -1;    /* 0: begin failed, 1: finish failed */
    st_db_attempt a;
    for (int i = 0; i < 2000 && failed_at < 0; i++) {
        tdb_full_attempt(&a, "", 2, 2000000 + i * 20000);
        snprintf(a.mac, sizeof a.mac, "24:0a:c4:01:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
        memset(a.detail, 'x', sizeof a.detail - 1); /* bulky rows fill the pages sooner */
        a.detail[sizeof a.detail - 1] = '\0';
        if (st_db_attempt_begin(db, &a, &err) < 0) {
            failed_at = 0;
            break;
        }
        recorded++;
        a.outcome = ST_DB_FAIL;
        a.fclass = ST_FC_TIMEOUT;
        a.ended_ms = a.started_ms + 1000;
        if (st_db_attempt_finish(db, &a, true, &err) < 0)
            failed_at = 1;
    }
    if (!CHECK(failed_at >= 0)) {
        st_db_close(db);
        return;
    }
    snprintf(want, sizeof want, "cannot write %s: disk full — free space on the disk holding %s", path, dir);
    CHECK_CONTAINS(err.msg, want);
    CHECK_EQ_INT(err.cat, ST_E_DB);
    CHECK_EQ_INT(err.phase, ST_PH_DB);
    CHECK_EQ_INT(err.fclass, ST_FC_CONFIG);
    CHECK_CONTAINS(err.hint, "free space on the disk holding");
    CHECK_CONTAINS(err.hint, "does not flash without records");
    /* nothing recorded before the failure is lost, and the handle still reads */
    CHECK_EQ_INT(count_attempts(path), recorded);
    if (failed_at == 1) {
        st_db_attempt back;
        CHECK_EQ_INT(st_db_attempt_get(db, a.id, &back, &err), 0);
        CHECK_EQ_INT(back.outcome, ST_DB_IN_PROGRESS); /* its begin stands; its end did not land */
    }
    st_db_stats st;
    CHECK_EQ_INT(st_db_stats_summary(db, 0, 0, &st, &err), 0);
    st_db_close(db);

    /* the next start on the still-full disk refuses to open */
    db = NULL;
    CHECK_EQ_INT(st_db_open(path, &cap, &db, &err), -1);
    CHECK(db == NULL);
    CHECK_CONTAINS(err.msg, want);
    CHECK_EQ_INT(count_attempts(path), recorded);

    /* space freed: it opens, everything is there, and the file is sound */
    db = tdb_open(path);
    if (CHECK(db != NULL)) {
        CHECK_EQ_INT(st_db_recovered(db), failed_at == 1 ? 1 : 0);
        CHECK_EQ_INT(count_attempts(path), recorded);
        CHECK_EQ_INT(st_db_check_integrity(db, &err), 0);
        st_db_close(db);
    }
}

/* st_db_open(path) as the current user; the error message into msg ("" on success). */
static void open_as_me(const char *path, char *msg, size_t cap)
{
    st_db *db = NULL;
    st_err err;
    msg[0] = '\0';
    if (st_db_open(path, NULL, &db, &err) == 0)
        st_db_close(db);
    else
        snprintf(msg, cap, "%s | %s", err.msg, err.hint);
}

/* The same, as uid/gid 65534 when we are root (file modes do not bind root). */
static void open_unprivileged(const char *path, char *msg, size_t cap)
{
    if (geteuid() != 0) {
        open_as_me(path, msg, cap);
        return;
    }
    int fd[2];
    if (pipe(fd) < 0) {
        snprintf(msg, cap, "pipe failed");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        char m[1024];
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
            snprintf(m, sizeof m, "could not drop privileges");
        } else {
            open_as_me(path, m, sizeof m);
            if (!m[0])
                snprintf(m, sizeof m, "OPENED");
        }
        ssize_t w = write(fd[1], m, strlen(m));
        _exit(w < 0);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], msg, cap - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fd[0]);
    waitpid(pid, NULL, 0);
}

static void test_read_only(const char *dir)
{
    char sub[600], path[700], lock[720], msg[1024], want[2048];
    /* a read-only database file in a writable folder */
    snprintf(sub, sizeof sub, "%s/rofile", dir);
    mkdir(sub, 0777);
    chmod(sub, 0777); /* the umask may have narrowed it */
    chmod(dir, 0755); /* reachable by the unprivileged child */
    snprintf(path, sizeof path, "%s/station.db", sub);
    st_db *db = tdb_open(path);
    if (!CHECK(db != NULL))
        return;
    CHECK(tdb_attempt(db, "24:0a:c4:00:00:02", 1, 1, 1000000, ST_DB_PASS, ST_FC_NONE, "CP2104", true) > 0);
    st_db_close(db);
    snprintf(lock, sizeof lock, "%s.lock", path);
    unlink(lock); /* root's lock file would stop the child before the database does */
    CHECK_EQ_INT(chmod(path, 0444), 0);
    open_unprivileged(path, msg, sizeof msg);
    snprintf(want, sizeof want, "cannot write %s: the file or its folder is read-only", path);
    CHECK_CONTAINS(msg, want);
    CHECK_CONTAINS(msg, "writable for the station's user");

    /* a writable file in a read-only folder: its lock file is left from the try above,
     * but the WAL cannot be created */
    CHECK_EQ_INT(chmod(path, 0666), 0);
    CHECK_EQ_INT(chmod(sub, 0555), 0);
    open_unprivileged(path, msg, sizeof msg);
    CHECK_CONTAINS(msg, want);
    /* and without the lock file, that cannot be created either */
    chmod(sub, 0777);
    unlink(lock);
    chmod(sub, 0555);
    open_unprivileged(path, msg, sizeof msg);
    snprintf(want, sizeof want, "cannot write %s: cannot create the lock file %s: Permission denied", path, lock);
    CHECK_CONTAINS(msg, want);
    chmod(sub, 0755);

    /* the record written before is intact */
    CHECK_EQ_INT(count_attempts(path), 1);

    /* a folder that cannot be created */
    open_as_me("/proc/flashstation-no-such/db/station.db", msg, sizeof msg);
    CHECK_CONTAINS(msg, "cannot create the folder /proc/flashstation-no-such for the database");
}

int main(void)
{
    char dir[256];
    tdb_mkdir(dir);
    test_full_disk(dir);
    test_read_only(dir);
    tdb_rmdir(dir);
    return check_summary("db_full");
}

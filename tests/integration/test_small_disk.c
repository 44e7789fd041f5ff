/* test_small_disk - the record store on a 2 MB disk (io_shim.c's SHIM_DISK_* model,
 * preloaded by CTest): hundreds of attempts fit because the WAL stays bounded; the
 * free-space estimate follows the disk; when the disk fills up the last write fails
 * saying "disk full", every record before it stays readable and exportable, a writer
 * open on the full disk checkpoints the WAL and refuses with the same words, and once
 * space is back the store opens and writes again (defect 5).
 *
 * usage: test_small_disk   (with LD_PRELOAD=io_shim.so SHIM_PATH=/small.db) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "db.h"

#define DISK (2 * 1024 * 1024)

static char g_db[300];

static long long size_of(const char *suffix)
{
    char p[400];
    snprintf(p, sizeof p, "%s%s", g_db, suffix);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

static void set_disk(long long bytes)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", bytes);
    setenv("SHIM_DISK_BYTES", v, 1);
}

/* One attempt of unit k: begin, identity, end (every third fails into the bin). */
static int attempt(st_db *db, int k, st_err *err)
{
    st_db_attempt a = {0};
    snprintf(a.port, sizeof a.port, "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.%d:1.0-port0", k % 8 + 1);
    a.slot = k % 8 + 1;
    snprintf(a.profile, sizeof a.profile, "core2");
    snprintf(a.bridge, sizeof a.bridge, "CP2104");
    snprintf(a.operator_name, sizeof a.operator_name, "tester");
    a.try_no = 1;
    a.baud = 921600;
    if (st_db_attempt_begin(db, &a, err) < 0)
        return -1;
    snprintf(a.mac, sizeof a.mac, "24:0a:c4:01:%02x:%02x", (k >> 8) & 0xff, k & 0xff);
    snprintf(a.chip, sizeof a.chip, "ESP32");
    snprintf(a.description, sizeof a.description, "ESP32-D0WD-V3 (revision v3.0)");
    a.flash_size = 16u << 20;
    a.phase = ST_PH_DETECT;
    if (st_db_attempt_set_unit(db, &a, err) < 0)
        return -1;
    a.outcome = k % 3 ? ST_DB_PASS : ST_DB_FAIL;
    a.fclass = k % 3 ? ST_FC_NONE : ST_FC_MD5_MISMATCH;
    a.phase = k % 3 ? ST_PH_DONE : ST_PH_VERIFY;
    if (k % 3 == 0)
        snprintf(a.detail, sizeof a.detail, "verify: MD5 of 0x10000+1245184 differs");
    a.bytes_raw = 1273024;
    return st_db_attempt_finish(db, &a, true, err);
}

static int64_t count_rows(void)
{
    st_db_opts ro = {.read_only = true};
    st_db *db;
    st_err err;
    if (st_db_open(g_db, &ro, &db, &err) < 0) {
        fprintf(stderr, "reader: %s\n", err.msg);
        return -1;
    }
    st_db_stats s;
    int64_t n = st_db_stats_summary(db, 0, 0, &s, &err) == 0 ? s.attempts : -1;
    /* and the whole store exports */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f || st_db_export_attempts(db, f, ST_DB_CSV, 0, 0, &err) < 0)
        n = -2;
    if (f)
        fclose(f);
    free(buf);
    st_db_close(db);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/st-smalldisk-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    snprintf(g_db, sizeof g_db, "%s/small.db", dir);
    if (!getenv("LD_PRELOAD") || !getenv("SHIM_PATH")) {
        fprintf(stderr, "test_small_disk needs LD_PRELOAD=io_shim.so and SHIM_PATH\n");
        return 2;
    }
    setenv("SHIM_DISK_DB", g_db, 1);
    set_disk(DISK);

    st_db *db;
    st_err err;
    if (!CHECK_EQ_INT(st_db_open(g_db, NULL, &db, &err), 0)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return check_summary("small_disk");
    }
    /* 400 attempts on 2 MB: the WAL never grows past its bound */
    int ok = 0;
    long long wal_max = 0;
    st_db_space_info sp, first;
    CHECK_EQ_INT(st_db_space(db, &first, &err), 0);
    for (int k = 0; k < 400; k++) {
        if (attempt(db, k, &err) < 0) {
            fprintf(stderr, "attempt %d: %s\n", k, err.msg);
            break;
        }
        ok++;
        if (size_of("-wal") > wal_max)
            wal_max = size_of("-wal");
    }
    CHECK_EQ_INT(ok, 400);
    fprintf(stderr, "small_disk: %d attempts, WAL at most %lld bytes, file %lld bytes\n", ok, wal_max,
                    size_of(""));
    CHECK(wal_max <= ST_DB_WAL_BOUND_BYTES);
    /* the estimate follows the disk: less room than at the start, all of it within 2 MB */
    if (CHECK_EQ_INT(st_db_space(db, &sp, &err), 0)) {
        CHECK(sp.free_bytes < first.free_bytes);
        CHECK(sp.free_bytes <= DISK);
        CHECK(sp.reserve);
        CHECK(sp.attempts_room < first.attempts_room);
        CHECK(sp.attempts_room < ST_DB_ROOM_WARN_ATTEMPTS); /* the dashboard would warn */
        fprintf(stderr, "small_disk: %lld bytes free, room for %lld attempts (at the start %lld)\n",
                (long long)sp.free_bytes, (long long)sp.attempts_room, (long long)first.attempts_room);
    }

    /* The disk fills up (another program took the rest). Writes go on in the file's
     * free pages and the reused WAL; when one finds no room, the WAL is checkpointed
     * (giving up the space reserve for it) and the write tried again; at last a write
     * fails saying "disk full", and nothing before it is lost. */
    long long used = size_of("") + size_of("-wal") + size_of("-shm") + size_of(".reserve") +
                     size_of(".lock");
    set_disk(used);
    int more = 0;
    for (int k = 400; k < 3000; k++) {
        if (attempt(db, k, &err) < 0)
            break;
        more++;
    }
    CHECK(more >= 1 && more < 2600);
    CHECK_CONTAINS(err.msg, "disk full");
    CHECK_CONTAINS(err.hint, "free space");
    fprintf(stderr, "small_disk: %d more attempts once the disk was full, then: %s\n", more, err.msg);
    if (CHECK_EQ_INT(st_db_space(db, &sp, &err), 0)) {
        CHECK(!sp.reserve); /* given up to make room before the write failed */
        CHECK_EQ_INT(sp.attempts_room, 0);
        CHECK(sp.wal_bytes <= ST_DB_WAL_BOUND_BYTES);
    }
    /* readable and exportable while the writer still has it open, and after */
    int64_t rows = count_rows();
    CHECK_EQ_INT(rows, ok + more);
    st_db_close(db);
    CHECK(count_rows() == rows);

    /* A writer open on the full disk refuses, saying why; the records stay readable. */
    CHECK_EQ_INT(st_db_open(g_db, NULL, &db, &err), -1);
    CHECK_CONTAINS(err.msg, "disk full");
    CHECK(count_rows() == rows);

    /* Space is back: the store opens, recovers, writes, and keeps its reserve again. */
    set_disk(DISK * 2);
    if (CHECK_EQ_INT(st_db_open(g_db, NULL, &db, &err), 0)) {
        CHECK_EQ_INT(attempt(db, 5000, &err), 0);
        CHECK_EQ_INT(st_db_space(db, &sp, &err), 0);
        CHECK(sp.reserve);
        st_db_close(db);
    } else {
        fprintf(stderr, "reopen: %s\n", err.msg);
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("small_disk");
}

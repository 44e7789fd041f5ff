/* bench_audit.c - fill a temporary database with many attempts (default 1,000,000
 * across 200,000 MACs, through the public API in batched transactions), then time
 * `audit MAC` on random MACs and print the figures.
 *
 * usage: bench_audit [--attempts N] [--macs M] [--queries Q] [--batch B] [--db PATH] [--keep] */
#include "bench_util.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int count_row(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    (*(long *)user)++;
    return 0;
}

static void die(const char *what, const st_err *e)
{
    char line[700];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "bench_audit: %s: %s\n  hint: %s\n", what, line, e->hint);
    exit(1);
}

static int audit_query(void *handle, const char *mac, long *rows, st_err *err)
{
    return st_db_audit(handle, mac, count_row, rows, err);
}

int main(int argc, char **argv)
{
    long n_attempts = 1000000, n_macs = 200000, n_queries = 2000, batch = 20000;
    const char *path_arg = NULL;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--attempts") && i + 1 < argc)
            n_attempts = atol(argv[++i]);
        else if (!strcmp(argv[i], "--macs") && i + 1 < argc)
            n_macs = atol(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            n_queries = atol(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atol(argv[++i]);
        else if (!strcmp(argv[i], "--db") && i + 1 < argc)
            path_arg = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else {
            fprintf(stderr, "usage: %s [--attempts N] [--macs M] [--queries Q] [--batch B] "
                            "[--db PATH] [--keep]\n", argv[0]);
            return 2;
        }
    }
    if (n_attempts < 1 || n_macs < 1 || n_macs > 0xffffff || n_queries < 1 || batch < 1) {
        fprintf(stderr, "bench_audit: counts must be positive (macs at most 16777215)\n");
        return 2;
    }

    char dir[512] = "", path[600];
    if (path_arg) {
        snprintf(path, sizeof path, "%s", path_arg);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_audit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("bench_audit: mkdtemp");
            return 1;
        }
        snprintf(path, sizeof path, "%s/station.db", dir);
    }

    st_err err;
    st_db *db;
    if (st_db_open(path, NULL, &db, &err) < 0)
        die("open", &err);

    static const char *const classes_bridge[] = {"CP2104", "CH9102", "CH340", "FTDI"};
    static const st_fclass fail_classes[] = {ST_FC_STUB_RAM_CHECKSUM, ST_FC_NO_SYNC, ST_FC_MD5_MISMATCH,
                                             ST_FC_TIMEOUT};
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int64_t t0_ms = 1700000000000LL; /* fixed start: 2023-11-14 */
    double t_fill = bench_now_s();
    st_db_attempt a;
    for (long i = 0; i < n_attempts; i++) {
        if (i % batch == 0 && st_db_tx_begin(db, &err) < 0)
            die("begin batch", &err);
        bench_attempt_start(&a, i, (long)(bench_rnd(&seed) % (uint64_t)n_macs),
                            t0_ms + (int64_t)i * 2000);
        snprintf(a.slot_name, sizeof a.slot_name, "pci-0000:00:14.0-usb-0:1.%d:1.0-port0", a.slot);
        snprintf(a.port, sizeof a.port, "/dev/serial/by-path/%s", a.slot_name);
        snprintf(a.bridge, sizeof a.bridge, "%s", classes_bridge[i % 4]);
        snprintf(a.chip, sizeof a.chip, "ESP32");
        snprintf(a.package, sizeof a.package, "ESP32-D0WD-V3");
        a.rev_major = 3;
        a.flash_id = 0x164020;
        a.flash_size = 16u << 20;
        snprintf(a.operator_name, sizeof a.operator_name, "line1");
        if (st_db_attempt_begin(db, &a, &err) < 0)
            die("attempt begin", &err);
        int fail = bench_rnd(&seed) % 10 == 0;
        a.outcome = fail ? ST_DB_FAIL : ST_DB_PASS;
        if (fail) {
            a.fclass = fail_classes[bench_rnd(&seed) % 4];
            a.phase = ST_PH_WRITE;
            snprintf(a.detail, sizeof a.detail, "synthetic failure %s", st_fclass_name(a.fclass));
        }
        a.baud = 1500000;
        a.bytes_raw = 1u << 20;
        a.bytes_compressed = 600000;
        a.total_ms = 15000;
        a.ended_ms = a.started_ms + 15000;
        if (st_db_attempt_finish(db, &a, true, &err) < 0)
            die("attempt finish", &err);
        if ((i + 1) % batch == 0 || i + 1 == n_attempts) {
            if (st_db_tx_commit(db, &err) < 0)
                die("commit batch", &err);
        }
    }
    t_fill = bench_now_s() - t_fill;
    st_db_close(db);

    /* reopen as the audit CLI would: a reader handle with a cold statement cache */
    st_db_opts ro = {.read_only = true};
    if (st_db_open(path, &ro, &db, &err) < 0)
        die("reopen read-only", &err);
    double *t = malloc(sizeof *t * (size_t)n_queries);
    if (!t)
        return 1;
    long rows = 0;
    if (bench_time_queries(t, n_queries, n_macs, &seed, audit_query, db, &rows, &err) < 0)
        die("audit", &err);
    st_db_close(db);
    double sum = 0;
    for (long q = 0; q < n_queries; q++)
        sum += t[q];

    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    printf("bench_audit: %ld attempts across %ld MACs, batches of %ld\n", n_attempts, n_macs, batch);
    printf("fill: %.1f s (%.0f attempts/s, begin+finish each), database %.1f MB\n", t_fill,
           (double)n_attempts / t_fill, (double)size / 1e6);
    printf("audit MAC: %ld queries, %.1f rows each; ms: min %.3f median %.3f p99 %.3f max %.3f mean %.3f\n",
           n_queries, (double)rows / (double)n_queries, t[0] * 1e3, t[n_queries / 2] * 1e3,
           t[(long)((double)n_queries * 0.99)] * 1e3, t[n_queries - 1] * 1e3, sum / (double)n_queries * 1e3);
    free(t);

    if (!path_arg && !keep) {
        char p2[640];
        static const char *const sfx[] = {"", "-wal", "-shm", ".lock"};
        for (int i = 0; i < 4; i++) {
            snprintf(p2, sizeof p2, "%s%s", path, sfx[i]);
            unlink(p2);
        }
        rmdir(dir);
    } else {
        printf("database kept at %s\n", path);
    }
    return 0;
}

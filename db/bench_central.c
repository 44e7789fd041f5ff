/* bench_central.c - the central store's benchmark (bench/central.sh runs it against a
 * private server): fill N stations' local journals with synthetic attempts (default 20
 * x 50 000 = 1 000 000, MACs shared across stations), ship them all (records per
 * second), then time central `audit MAC` on random MACs. The connection string comes
 * from $STATION_CENTRAL.
 *
 * usage: bench_central [--stations N] [--attempts-per N] [--macs M] [--queries Q] [--batch B] */
#include "bench_util.h"
#include "central.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const st_err *e)
{
    fprintf(stderr, "bench_central: %s: %s\n  hint: %s\n", what, e->msg, e->hint);
    exit(1);
}

static int count_row(void *user, const char *station, const st_db_attempt *a, const st_db_bin_entry *b)
{
    (*(long *)user)++;
    return 0;
}

/* One station's journal: n attempts, 1 in 10 failing (binned). */
static void fill(const char *path, long n, long n_macs, uint64_t *seed, int station)
{
    st_err err;
    st_db *db;
    if (st_db_open(path, NULL, &db, &err) < 0)
        die("open", &err);
    st_db_attempt a;
    int64_t t0 = 1700000000000LL + (int64_t)station * 7;
    for (long i = 0; i < n; i++) {
        if (i % 20000 == 0 && st_db_tx_begin(db, &err) < 0)
            die("begin", &err);
        bench_attempt_start(&a, i, (long)(bench_rnd(seed) % (uint64_t)n_macs), t0 + (int64_t)i * 2000);
        snprintf(a.bridge, sizeof a.bridge, "%s", i % 2 ? "CP2104" : "CH9102");
        if (st_db_attempt_begin(db, &a, &err) < 0)
            die("attempt begin", &err);
        bool fail = bench_rnd(seed) % 10 == 0;
        a.outcome = fail ? ST_DB_FAIL : ST_DB_PASS;
        if (fail) {
            a.fclass = ST_FC_MD5_MISMATCH;
            a.phase = ST_PH_VERIFY;
        }
        a.baud = 1500000;
        a.total_ms = 15000;
        a.ended_ms = a.started_ms + 15000;
        if (st_db_attempt_finish(db, &a, true, &err) < 0)
            die("attempt finish", &err);
        if (((i + 1) % 20000 == 0 || i + 1 == n) && st_db_tx_commit(db, &err) < 0)
            die("commit", &err);
    }
    st_db_close(db);
}

static int central_query(void *handle, const char *mac, long *rows, st_err *err)
{
    return st_central_audit(handle, mac, count_row, rows, err);
}

int main(int argc, char **argv)
{
    long stations = 20, per = 50000, n_macs = 200000, queries = 2000, batch = 5000;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (!strcmp(argv[i], "--stations"))
            stations = v;
        else if (!strcmp(argv[i], "--attempts-per"))
            per = v;
        else if (!strcmp(argv[i], "--macs"))
            n_macs = v;
        else if (!strcmp(argv[i], "--queries"))
            queries = v;
        else if (!strcmp(argv[i], "--batch"))
            batch = v;
    }
    const char *conn = getenv("STATION_CENTRAL");
    if (!conn || !*conn || stations < 1 || per < 1 || n_macs < 1 || queries < 1 || batch < 1) {
        fprintf(stderr, "usage: STATION_CENTRAL=URL %s [--stations N] [--attempts-per N] [--macs M] "
                        "[--queries Q] [--batch B]\n", argv[0]);
        return 2;
    }
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/bench_central.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    double t_fill = bench_now_s();
    char path[600];
    for (long s = 0; s < stations; s++) {
        snprintf(path, sizeof path, "%s/station%ld.db", dir, s);
        fill(path, per, n_macs, &seed, (int)s);
    }
    t_fill = bench_now_s() - t_fill;
    printf("bench_central: %ld stations x %ld attempts = %ld attempts over %ld MACs (local fill %.1f s)\n",
           stations, per, stations * per, n_macs, t_fill);

    st_err err;
    st_central *c;
    if (st_central_open(conn, &c, &err) < 0 || st_central_init(c, &err) < 0)
        die("central", &err);
    int64_t rows = 0;
    double t_ship = bench_now_s();
    for (long s = 0; s < stations; s++) {
        snprintf(path, sizeof path, "%s/station%ld.db", dir, s);
        st_db_opts ro = {.read_only = true};
        st_db *db;
        st_central_station st;
        if (st_db_open(path, &ro, &db, &err) < 0 || st_central_station_of(db, &st, &err) < 0)
            die("station", &err);
        snprintf(st.name, sizeof st.name, "bench-%02ld", s);
        snprintf(st.line, sizeof st.line, "line-%ld", s % 4);
        if (st_central_attach(c, &st, &err) < 0)
            die("attach", &err);
        st_central_progress p;
        do {
            if (st_central_ship(c, db, (int)batch, &p, &err) < 0)
                die("ship", &err);
            rows += p.shipped;
        } while (p.shipped > 0);
        st_db_close(db);
    }
    t_ship = bench_now_s() - t_ship;
    printf("shipping: %lld records (attempts, bin entries, units) in %.1f s: %.0f records/s, %.0f attempts/s "
           "(batches of %ld)\n", (long long)rows, t_ship, rows / t_ship, stations * per / t_ship, batch);

    double *t = malloc(sizeof *t * (size_t)queries);
    long got = 0;
    if (bench_time_queries(t, queries, n_macs, &seed, central_query, c, &got, &err) < 0)
        die("audit", &err);
    printf("central audit MAC: %ld queries, %.1f rows each; ms: median %.3f p99 %.3f max %.3f "
           "(goal: median under 5 ms: %s)\n", queries, (double)got / (double)queries, t[queries / 2] * 1e3,
           t[(long)((double)queries * 0.99)] * 1e3, t[queries - 1] * 1e3, t[queries / 2] < 0.005 ? "met" : "NOT met");
    free(t);
    st_central_close(c);
    for (long s = 0; s < stations; s++) {
        static const char *const sfx[] = {"", "-wal", "-shm", ".lock", ".central"};
        for (int k = 0; k < 5; k++) {
            snprintf(path, sizeof path, "%s/station%ld.db%s", dir, s, sfx[k]);
            unlink(path);
        }
    }
    rmdir(dir);
    return 0;
}

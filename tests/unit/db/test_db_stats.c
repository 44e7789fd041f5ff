/* test_db_stats.c - yield, throughput, failure classes per bridge chip and units per
 * hour on a small data set whose figures are worked out by hand below. */
#include "check.h"
#include "test_db_support.h"

#include <math.h>
#include <string.h>

#define H 1714554000000LL /* 2024-05-01T09:00:00Z */
#define S 1000LL

typedef struct {
    char bridge[8][32];
    st_fclass fc[8];
    int64_t n[8], units[8], no_mac[8];
    int rows;
} classes;

static int on_class(void *user, const char *bridge, st_fclass fc, int64_t n, int64_t units, int64_t no_mac)
{
    classes *c = user;
    if (c->rows < 8) {
        snprintf(c->bridge[c->rows], 32, "%s", bridge);
        c->fc[c->rows] = fc;
        c->n[c->rows] = n;
        c->units[c->rows] = units;
        c->no_mac[c->rows] = no_mac;
    }
    c->rows++;
    return 0;
}

typedef struct {
    int64_t hour[4], units[4], attempts[4];
    int rows;
} hours;

static int on_hour(void *user, int64_t hour, int64_t units, int64_t attempts)
{
    hours *h = user;
    if (h->rows < 4) {
        h->hour[h->rows] = hour;
        h->units[h->rows] = units;
        h->attempts[h->rows] = attempts;
    }
    h->rows++;
    return 0;
}

typedef struct {
    char name[4][64];
    int64_t attempts[4], passes[4], failures[4];
    int rows;
} slots;

static int on_slot(void *user, const char *name, int64_t attempts, int64_t passes, int64_t failures)
{
    slots *sl = user;
    if (sl->rows < 4) {
        snprintf(sl->name[sl->rows], 64, "%s", name);
        sl->attempts[sl->rows] = attempts;
        sl->passes[sl->rows] = passes;
        sl->failures[sl->rows] = failures;
    }
    sl->rows++;
    return 0;
}

int main(void)
{
    char dir[256], path[512];
    st_db *db = tdb_fresh(dir, path);
    if (!CHECK(db != NULL)) {
        tdb_rmdir(dir);
        return check_summary("db_stats");
    }
    /* hour 09: A passes first try; B fails twice (stub 01 07) on a CP2104; C fails to sync
     * then passes on a CH9102; an unreadable unit fails to sync on a CH9102 */
    tdb_attempt(db, "24:0a:c4:00:00:0a", 1, 1, H + 60 * S, ST_DB_PASS, ST_FC_NONE, "CP2104", true);
    tdb_attempt(db, "24:0a:c4:00:00:0b", 2, 1, H + 120 * S, ST_DB_FAIL, ST_FC_STUB_RAM_CHECKSUM, "CP2104", false);
    tdb_attempt(db, "24:0a:c4:00:00:0b", 2, 2, H + 200 * S, ST_DB_FAIL, ST_FC_STUB_RAM_CHECKSUM, "CP2104", true);
    tdb_attempt(db, "24:0a:c4:00:00:0c", 3, 1, H + 300 * S, ST_DB_FAIL, ST_FC_NO_SYNC, "CH9102", false);
    tdb_attempt(db, "24:0a:c4:00:00:0c", 3, 2, H + 400 * S, ST_DB_PASS, ST_FC_NONE, "CH9102", true);
    tdb_attempt(db, "", 4, 1, H + 500 * S, ST_DB_FAIL, ST_FC_NO_SYNC, "CH9102", true);
    /* hour 10: D passes; E is interrupted on a bridge with no name (VID:PID only); F is
     * still in progress (not counted) */
    tdb_attempt(db, "24:0a:c4:00:00:0d", 1, 1, H + 3610 * S, ST_DB_PASS, ST_FC_NONE, "CP2104", true);
    tdb_attempt(db, "24:0a:c4:00:00:0e", 2, 1, H + 3700 * S, ST_DB_INTERRUPTED, ST_FC_INTERRUPTED, NULL, true);
    st_db_attempt f;
    tdb_full_attempt(&f, "24:0a:c4:00:00:0f", 3, H + 3800 * S);
    st_err err;
    CHECK_EQ_INT(st_db_attempt_begin(db, &f, &err), 0);
    /* hour 14: outside the range asked for */
    tdb_attempt(db, "24:0a:c4:00:00:10", 1, 1, H + 5 * 3600 * S, ST_DB_PASS, ST_FC_NONE, "CP2104", true);

    st_db_stats st;
    CHECK_EQ_INT(st_db_stats_summary(db, H, H + 2 * 3600 * S, &st, &err), 0);
    CHECK_EQ_INT(st.attempts, 8);
    CHECK_EQ_INT(st.passes, 3);
    CHECK_EQ_INT(st.fails, 4);
    CHECK_EQ_INT(st.interrupted, 1);
    CHECK_EQ_INT(st.attempts_no_mac, 1);
    CHECK_EQ_INT(st.units_tried, 5);  /* A B C D E */
    CHECK_EQ_INT(st.units_passed, 3); /* A C D */
    CHECK_EQ_INT(st.units_first_try, 2); /* A D */
    CHECK(fabs(st.yield - 0.6) < 1e-9);
    CHECK(fabs(st.first_pass_yield - 0.4) < 1e-9); /* A D of 5 */
    /* first start H+60 s to last end H+3710 s: 3650 s */
    CHECK(fabs(st.active_hours - 3650.0 / 3600.0) < 1e-9);
    CHECK(fabs(st.units_per_hour - 3.0 / (3650.0 / 3600.0)) < 1e-9);

    classes c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(st_db_stats_classes(db, H, H + 2 * 3600 * S, on_class, &c, &err), 0);
    if (CHECK_EQ_INT(c.rows, 3)) {
        CHECK_STR(c.bridge[0], "10c4:ea60");
        CHECK_EQ_INT(c.fc[0], ST_FC_INTERRUPTED);
        CHECK_EQ_INT(c.n[0], 1);
        CHECK_STR(c.bridge[1], "CH9102");
        CHECK_EQ_INT(c.fc[1], ST_FC_NO_SYNC);
        CHECK_EQ_INT(c.n[1], 2);
        CHECK_EQ_INT(c.units[1], 1);  /* C (the unreadable unit is an attempt, not a unit) */
        CHECK_EQ_INT(c.no_mac[1], 1);
        CHECK_STR(c.bridge[2], "CP2104");
        CHECK_EQ_INT(c.fc[2], ST_FC_STUB_RAM_CHECKSUM);
        CHECK_EQ_INT(c.n[2], 2);
        CHECK_EQ_INT(c.units[2], 1);  /* B failed twice: one unit */
        CHECK_EQ_INT(c.no_mac[2], 0);
    }

    hours h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(st_db_stats_hourly(db, H, H + 2 * 3600 * S, on_hour, &h, &err), 0);
    if (CHECK_EQ_INT(h.rows, 2)) {
        CHECK_EQ_INT(h.hour[0], H);
        CHECK_EQ_INT(h.units[0], 2);
        CHECK_EQ_INT(h.attempts[0], 6);
        CHECK_EQ_INT(h.hour[1], H + 3600 * S);
        CHECK_EQ_INT(h.units[1], 1);
        CHECK_EQ_INT(h.attempts[1], 2);
    }

    /* per slot, by name; F (in progress, on a by-path slot) is not counted */
    slots sl;
    memset(&sl, 0, sizeof sl);
    CHECK_EQ_INT(st_db_stats_slots(db, H, H + 2 * 3600 * S, on_slot, &sl, &err), 0);
    if (CHECK_EQ_INT(sl.rows, 4)) {
        static const char *const name[] = {"slot1", "slot2", "slot3", "slot4"};
        static const int64_t att[] = {2, 3, 2, 1}, pass[] = {2, 0, 1, 0}, fail[] = {0, 3, 1, 1};
        for (int i = 0; i < 4; i++) {
            CHECK_STR(sl.name[i], name[i]);
            CHECK_EQ_INT(sl.attempts[i], att[i]);
            CHECK_EQ_INT(sl.passes[i], pass[i]);
            CHECK_EQ_INT(sl.failures[i], fail[i]);
        }
    }

    /* Throughput on the station's monotonic clock. Hour 20, one run: G passes, H fails,
     * I passes; the wall clock was stepped back 30 min between H and I, so by the labels
     * I started before G. On the run's clock: G at 100 s for 40 s, H at 150 s for 30 s,
     * I at 200 s for 50 s: active 100 s to 250 s = 150 s. A second run an hour later
     * (another line start), J at 10 s for 20 s: 20 s more. The wall labels' span (the
     * old rule) would be meaningless here. */
    const int64_t R1 = H + 11 * 3600 * S, R2 = H + 12 * 3600 * S;
    static const struct {
        const char *mac;
        int64_t wall, run, off, dur;
        st_db_outcome o;
    } runs[] = {
        {"24:0a:c4:00:00:20", 11 * 3600 + 100, 1, 100, 40, ST_DB_PASS},
        {"24:0a:c4:00:00:21", 11 * 3600 + 150, 1, 150, 30, ST_DB_FAIL},
        {"24:0a:c4:00:00:22", 11 * 3600 + 200 - 1800, 1, 200, 50, ST_DB_PASS},
        {"24:0a:c4:00:00:23", 12 * 3600 + 10, 2, 10, 20, ST_DB_PASS},
    };
    for (int i = 0; i < 4; i++) {
        st_db_attempt g;
        tdb_full_attempt(&g, runs[i].mac, 1, H + runs[i].wall * S);
        g.try_no = 1;
        g.run_started_ms = runs[i].run == 1 ? R1 : R2;
        g.run_offset_ms = runs[i].off * S;
        CHECK_EQ_INT(st_db_attempt_begin(db, &g, &err), 0);
        g.outcome = runs[i].o;
        g.fclass = runs[i].o == ST_DB_PASS ? ST_FC_NONE : ST_FC_NO_SYNC;
        g.ended_ms = g.started_ms + runs[i].dur * S; /* labels; the stats must not use them */
        g.duration_ms = runs[i].dur * S;
        CHECK_EQ_INT(st_db_attempt_finish(db, &g, false, &err), 0);
    }
    CHECK_EQ_INT(st_db_stats_summary(db, H + 10 * 3600 * S, H + 13 * 3600 * S, &st, &err), 0);
    CHECK_EQ_INT(st.attempts, 4);
    CHECK_EQ_INT(st.units_passed, 3);
    CHECK(fabs(st.active_hours - 170.0 / 3600.0) < 1e-9);
    CHECK(fabs(st.units_per_hour - 3.0 / (170.0 / 3600.0)) < 1e-6);

    /* the whole table (no upper bound) adds the later pass */
    CHECK_EQ_INT(st_db_stats_summary(db, 0, 0, &st, &err), 0);
    CHECK_EQ_INT(st.units_passed, 7);
    CHECK_EQ_INT(st.units_tried, 10);
    /* an empty range: zeros, no division by zero */
    CHECK_EQ_INT(st_db_stats_summary(db, 1, 2, &st, &err), 0);
    CHECK_EQ_INT(st.attempts, 0);
    CHECK(st.yield == 0.0 && st.units_per_hour == 0.0);
    CHECK(st.first_pass_yield == 0.0);

    /* Yield per unit, first pass and final. Hour 30: K fails twice on the line and is
     * binned, then passes on the repair bench (a new session: try 1 again); L passes
     * at once. Both passed in the end (final 100 %), only L on its first attempt (first
     * pass 50 %): K's bench pass on "try 1" is not a first pass. */
    const int64_t K0 = H + 30 * 3600 * S;
    tdb_attempt(db, "24:0a:c4:00:00:30", 1, 1, K0 + 10 * S, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", false);
    tdb_attempt(db, "24:0a:c4:00:00:30", 1, 2, K0 + 20 * S, ST_DB_FAIL, ST_FC_NO_SYNC, "CP2104", true);
    tdb_attempt(db, "24:0a:c4:00:00:31", 2, 1, K0 + 30 * S, ST_DB_PASS, ST_FC_NONE, "CP2104", true);
    tdb_attempt(db, "24:0a:c4:00:00:30", 9, 1, K0 + 600 * S, ST_DB_PASS, ST_FC_NONE, "CP2104", true);
    CHECK_EQ_INT(st_db_stats_summary(db, K0, K0 + 3600 * S, &st, &err), 0);
    CHECK_EQ_INT(st.attempts, 4);
    CHECK_EQ_INT(st.units_tried, 2);
    CHECK_EQ_INT(st.units_passed, 2);
    CHECK_EQ_INT(st.units_first_try, 1);
    CHECK(fabs(st.yield - 1.0) < 1e-9);
    CHECK(fabs(st.first_pass_yield - 0.5) < 1e-9);
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(st_db_stats_classes(db, K0, K0 + 3600 * S, on_class, &c, &err), 0);
    if (CHECK_EQ_INT(c.rows, 1)) {
        CHECK_EQ_INT(c.n[0], 2);     /* two failed attempts */
        CHECK_EQ_INT(c.units[0], 1); /* of one unit */
    }

    st_db_close(db);
    tdb_rmdir(dir);
    return check_summary("db_stats");
}

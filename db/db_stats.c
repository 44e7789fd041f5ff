/* db_stats.c - production figures over a time range: yield, throughput, which failure
 * classes each bridge chip produces, and units per clock hour. Attempts still in
 * progress are left out; attempts whose MAC was never read count as attempts but
 * cannot count as units. */
#include "db_internal.h"

#include <string.h>

static void bind_range(sqlite3_stmt *s, int64_t from_ms, int64_t to_ms)
{
    db_bind_i64(s, ":from", from_ms);
    db_bind_i64(s, ":to", to_ms > 0 ? to_ms : INT64_MAX);
}

int st_db_stats_summary(st_db *db, int64_t from_ms, int64_t to_ms, st_db_stats *st, st_err *err)
{
    memset(st, 0, sizeof *st);
    sqlite3_stmt *s = db_prepare(
        db,
        "SELECT count(*), total(outcome = 'pass'), total(outcome = 'fail'),"
        " total(outcome = 'interrupted'), total(mac IS NULL), count(DISTINCT mac),"
        " count(DISTINCT CASE WHEN outcome = 'pass' THEN mac END),"
        " count(DISTINCT CASE WHEN outcome = 'pass' AND try_no = 1 THEN mac END),"
        " min(started_ms), max(COALESCE(ended_ms, started_ms))"
        " FROM attempts WHERE outcome <> 'in_progress' AND started_ms >= :from AND started_ms < :to",
        err);
    if (!s)
        return -1;
    bind_range(s, from_ms, to_ms);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        st->attempts = sqlite3_column_int64(s, 0);
        st->passes = (int64_t)sqlite3_column_double(s, 1);
        st->fails = (int64_t)sqlite3_column_double(s, 2);
        st->interrupted = (int64_t)sqlite3_column_double(s, 3);
        st->attempts_no_mac = (int64_t)sqlite3_column_double(s, 4);
        st->units_tried = sqlite3_column_int64(s, 5);
        st->units_passed = sqlite3_column_int64(s, 6);
        st->units_first_try = sqlite3_column_int64(s, 7);
        int64_t first = sqlite3_column_int64(s, 8), last = sqlite3_column_int64(s, 9);
        if (st->units_tried)
            st->yield = (double)st->units_passed / (double)st->units_tried;
        if (st->attempts && last > first) {
            st->active_hours = (double)(last - first) / 3600000.0;
            st->units_per_hour = (double)st->units_passed / st->active_hours;
        }
    } else {
        db_fail(db, err, rc, "cannot read");
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

int st_db_stats_classes(st_db *db, int64_t from_ms, int64_t to_ms, st_db_class_fn fn, void *user,
                        st_err *err)
{
    sqlite3_stmt *s = db_prepare(
        db,
        "SELECT COALESCE(NULLIF(bridge, ''),"
        "   CASE WHEN bridge_vid IS NOT NULL THEN printf('%04x:%04x', bridge_vid, bridge_pid) END,"
        "   'unknown') AS b, COALESCE(fclass, 'none') AS fc, count(*) AS n"
        " FROM attempts WHERE outcome IN ('fail', 'interrupted')"
        " AND started_ms >= :from AND started_ms < :to"
        " GROUP BY b, fc ORDER BY b, n DESC, fc",
        err);
    if (!s)
        return -1;
    bind_range(s, from_ms, to_ms);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char bridge[64], fc[32];
        db_col_text(s, 0, bridge, sizeof bridge);
        db_col_text(s, 1, fc, sizeof fc);
        if (fn(user, bridge, st_fclass_from_name(fc), sqlite3_column_int64(s, 2))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        db_fail(db, err, rc, "cannot read");
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int st_db_stats_hourly(st_db *db, int64_t from_ms, int64_t to_ms, st_db_hour_fn fn, void *user,
                       st_err *err)
{
    sqlite3_stmt *s = db_prepare(
        db,
        "SELECT (started_ms / 3600000) * 3600000 AS h,"
        " count(DISTINCT CASE WHEN outcome = 'pass' THEN mac END), count(*)"
        " FROM attempts WHERE outcome <> 'in_progress' AND started_ms >= :from AND started_ms < :to"
        " GROUP BY h ORDER BY h",
        err);
    if (!s)
        return -1;
    bind_range(s, from_ms, to_ms);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (fn(user, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
               sqlite3_column_int64(s, 2))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        db_fail(db, err, rc, "cannot read");
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

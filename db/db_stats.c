/* db_stats.c - production figures over a time range: yield per unit (first pass and
 * final), throughput, which failure classes each bridge chip produces (attempts and
 * units), units per clock hour and how each slot fares.
 * Attempts still in progress are left out; attempts whose MAC was never read count as
 * attempts but cannot count as units. */
#include "db_internal.h"

#include <string.h>

/* flashes only: the repair bench's other actions (schema 13) are no yield */
#define DB_IN_RANGE "action IS NULL AND started_ms >= :from AND started_ms < :to"
#define DB_FINISHED_IN_RANGE "outcome <> 'in_progress' AND " DB_IN_RANGE

/* The bridge an attempt went through, as the figures name it: its name, else its VID:PID,
 * else 'unknown'. */
#define DB_BRIDGE_KEY                                                                          \
    "COALESCE(NULLIF(bridge, ''),"                                                             \
    "   CASE WHEN bridge_vid IS NOT NULL THEN printf('%04x:%04x', bridge_vid, bridge_pid) END," \
    "   'unknown')"

/* How long the station was at work, in ms: for each run (host, run_started_ms), its first
 * attempt's start to its last attempt's end on the run's monotonic clock, so a wall-clock
 * step inside a run changes nothing; runs do not overlap (one writer per file), so they
 * add up. Rows from before schema v4 have no run: for them the wall-clock span is all
 * there is. */
#define DB_ACTIVE_MS                                                                           \
    "SELECT total(span) FROM ("                                                                \
    " SELECT max(run_offset_ms + COALESCE(duration_ms, 0)) - min(run_offset_ms) AS span"       \
    " FROM attempts WHERE " DB_FINISHED_IN_RANGE " AND run_started_ms IS NOT NULL"             \
    " GROUP BY host, run_started_ms"                                                           \
    " UNION ALL"                                                                               \
    " SELECT max(COALESCE(ended_ms, started_ms)) - min(started_ms) FROM attempts"              \
    " WHERE " DB_FINISHED_IN_RANGE " AND run_started_ms IS NULL)"

static int summary_row(void *ctx, sqlite3_stmt *s)
{
    st_db_stats *st = ctx;
    st->attempts = sqlite3_column_int64(s, 0);
    st->passes = (int64_t)sqlite3_column_double(s, 1);
    st->fails = (int64_t)sqlite3_column_double(s, 2);
    st->interrupted = (int64_t)sqlite3_column_double(s, 3);
    st->attempts_no_mac = (int64_t)sqlite3_column_double(s, 4);
    st->units_tried = sqlite3_column_int64(s, 5);
    st->units_passed = sqlite3_column_int64(s, 6);
    st->units_first_try = sqlite3_column_int64(s, 7);
    double active_ms = sqlite3_column_double(s, 8);
    if (st->units_tried) {
        st->yield = (double)st->units_passed / (double)st->units_tried;
        st->first_pass_yield = (double)st->units_first_try / (double)st->units_tried;
    }
    if (st->attempts && active_ms > 0) {
        st->active_hours = active_ms / 3600000.0;
        st->units_per_hour = (double)st->units_passed / st->active_hours;
    }
    return 0;
}

int st_db_stats_summary(st_db *db, int64_t from_ms, int64_t to_ms, st_db_stats *st, st_err *err)
{
    memset(st, 0, sizeof *st);
    return db_range_rows(
        db,
        "SELECT count(*), total(outcome = 'pass'), total(outcome = 'fail'),"
        " total(outcome = 'interrupted'), total(mac IS NULL), count(DISTINCT mac),"
        " count(DISTINCT CASE WHEN outcome = 'pass' THEN mac END),"
        /* first pass: the unit's first finished attempt in the range passed */
        " (SELECT count(*) FROM (SELECT outcome, row_number() OVER (PARTITION BY mac"
        "   ORDER BY started_ms, id) AS rn FROM attempts WHERE " DB_FINISHED_IN_RANGE
        "   AND mac IS NOT NULL) WHERE rn = 1 AND outcome = 'pass'),"
        " (" DB_ACTIVE_MS ")"
        " FROM attempts WHERE " DB_FINISHED_IN_RANGE,
        from_ms, to_ms, summary_row, st, err);
}

static int class_row(void *ctx, sqlite3_stmt *s)
{
    const db_cb *c = ctx;
    char bridge[64], fc[32];
    db_col_text(s, 0, bridge, sizeof bridge);
    db_col_text(s, 1, fc, sizeof fc);
    return c->fn.cls(c->user, bridge, st_fclass_from_name(fc), sqlite3_column_int64(s, 2),
                     sqlite3_column_int64(s, 3), (int64_t)sqlite3_column_double(s, 4));
}

int st_db_stats_classes(st_db *db, int64_t from_ms, int64_t to_ms, st_db_class_fn fn, void *user,
                        st_err *err)
{
    db_cb c = {.fn.cls = fn, .user = user};
    return db_range_rows(
        db,
        "SELECT " DB_BRIDGE_KEY " AS b, COALESCE(fclass, 'none') AS fc, count(*) AS n,"
        " count(DISTINCT mac), total(mac IS NULL)"
        " FROM attempts WHERE outcome IN ('fail', 'interrupted') AND " DB_IN_RANGE
        " GROUP BY b, fc ORDER BY b, n DESC, fc",
        from_ms, to_ms, class_row, &c, err);
}

static int hour_row(void *ctx, sqlite3_stmt *s)
{
    const db_cb *c = ctx;
    return c->fn.hour(c->user, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                      sqlite3_column_int64(s, 2));
}

int st_db_stats_hourly(st_db *db, int64_t from_ms, int64_t to_ms, st_db_hour_fn fn, void *user,
                       st_err *err)
{
    db_cb c = {.fn.hour = fn, .user = user};
    return db_range_rows(
        db,
        "SELECT (started_ms / 3600000) * 3600000 AS h,"
        " count(DISTINCT CASE WHEN outcome = 'pass' THEN mac END), count(*)"
        " FROM attempts WHERE " DB_FINISHED_IN_RANGE " GROUP BY h ORDER BY h",
        from_ms, to_ms, hour_row, &c, err);
}

static int slot_row(void *ctx, sqlite3_stmt *s)
{
    const db_cb *c = ctx;
    char name[64];
    db_col_text(s, 0, name, sizeof name);
    return c->fn.slot(c->user, name, sqlite3_column_int64(s, 1), (int64_t)sqlite3_column_double(s, 2),
                      (int64_t)sqlite3_column_double(s, 3));
}

int st_db_stats_slots(st_db *db, int64_t from_ms, int64_t to_ms, st_db_slot_fn fn, void *user,
                      st_err *err)
{
    db_cb c = {.fn.slot = fn, .user = user};
    return db_range_rows(
        db,
        "SELECT slot_name, count(*), total(outcome = 'pass'), total(outcome IN ('fail', 'interrupted'))"
        " FROM attempts WHERE " DB_FINISHED_IN_RANGE " GROUP BY slot_name ORDER BY slot_name",
        from_ms, to_ms, slot_row, &c, err);
}

/* Attempts, attempts with a repaired block and blocks repaired, per key (an SQL expression). */
#define DB_REPAIRS_BY(key)                                                                     \
    "SELECT " key " AS k, count(*), total(blocks_repaired > 0), total(blocks_repaired)"       \
    " FROM attempts WHERE " DB_FINISHED_IN_RANGE " AND blocks_repaired IS NOT NULL"            \
    " GROUP BY k ORDER BY k"

static int repair_row(void *ctx, sqlite3_stmt *s)
{
    const db_cb *c = ctx;
    char key[256];
    db_col_text(s, 0, key, sizeof key);
    return c->fn.repair(c->user, key, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                        sqlite3_column_int64(s, 3));
}

int st_db_stats_repairs(st_db *db, int64_t from_ms, int64_t to_ms, bool by_slot, st_db_repair_fn fn,
                        void *user, st_err *err)
{
    db_cb c = {.fn.repair = fn, .user = user};
    return db_range_rows(
        db,
        by_slot ? DB_REPAIRS_BY("slot_name") : DB_REPAIRS_BY(DB_BRIDGE_KEY),
        from_ms, to_ms, repair_row, &c, err);
}

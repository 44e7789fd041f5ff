/* central_ship.c - shipping the local journal's changed rows to the central store.
 *
 * Generic by design: a local row travels as a JSON document of every column it has
 * (SELECT *), so a column that a later local migration adds reaches the central store
 * (in doc) with no change here; the typed central columns are read out of the document
 * by name on the server, in one parameterized statement per table and batch. */
#include "central_internal.h"
#include "clock.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- local rows as JSON documents ------------------------------------------------------- */

static json_t *row_doc(sqlite3_stmt *s)
{
    json_t *o = json_object();
    int n = sqlite3_column_count(s);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(s, i);
        json_t *v;
        switch (sqlite3_column_type(s, i)) {
        case SQLITE_INTEGER: v = json_integer((json_int_t)sqlite3_column_int64(s, i)); break;
        case SQLITE_FLOAT: v = json_real(sqlite3_column_double(s, i)); break;
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(s, i);
            v = json_stringn_nocheck(t, (size_t)sqlite3_column_bytes(s, i));
            if (!json_is_string(v) || !json_string_value(v)) {
                json_decref(v);
                v = json_string("");
            }
            break;
        }
        case SQLITE_BLOB: {
            const unsigned char *b = sqlite3_column_blob(s, i);
            int len = sqlite3_column_bytes(s, i);
            char *hex = malloc((size_t)len * 2 + 1);
            for (int k = 0; hex && k < len; k++)
                sprintf(hex + 2 * k, "%02x", b[k]);
            if (hex)
                hex[2 * len] = '\0';
            v = json_string(hex ? hex : "");
            free(hex);
            break;
        }
        default: v = json_null(); break;
        }
        json_object_set_new(o, name, v);
    }
    return o;
}

typedef struct {
    json_t *rows[CT_COUNT];
    int64_t top[CT_COUNT]; /* highest ship_rev read per table */
    int n;
} batch;

/* Read up to max changed rows of table t past hwm into b. */
static int read_rows(st_db *db, central_table t, int64_t hwm, int max, batch *b, st_err *err)
{
    char sql[160];
    /* rowid first: the local id, also for units (keyed by MAC) */
    snprintf(sql, sizeof sql, "SELECT rowid AS local_id, * FROM %s WHERE ship_rev > :hwm ORDER BY ship_rev LIMIT :n",
             central_table_name[t]);
    sqlite3_stmt *s = db_prepare(db, sql, err);
    if (!s)
        return -1;
    db_bind_i64(s, ":hwm", hwm);
    db_bind_i64(s, ":n", max);
    b->rows[t] = json_array();
    b->top[t] = hwm;
    int rc, rev_col = -1;
    for (int i = 0; i < sqlite3_column_count(s); i++)
        if (!strcmp(sqlite3_column_name(s, i), "ship_rev"))
            rev_col = i;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_array_append_new(b->rows[t], row_doc(s));
        int64_t rev = sqlite3_column_int64(s, rev_col);
        if (rev > b->top[t])
            b->top[t] = rev;
        b->n++;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(db, err, rc, "cannot read the rows to ship from");
}

static void batch_free(batch *b)
{
    for (int t = 0; t < CT_COUNT; t++)
        json_decref(b->rows[t]);
}

/* ---- the central statements -------------------------------------------------------------- */

/* $1 station uuid, $2 clock offset (ms), $3 JSON array of documents. */
static const char *const upsert_sql[CT_COUNT] = {
    [CT_UNITS] =
        "INSERT INTO units(station, local_id, rev, mac, first_seen_ms, last_seen_ms, chip, package,"
        " description, flash_id, flash_size, doc)"
        " SELECT $1::uuid, (d->>'local_id')::bigint, (d->>'ship_rev')::bigint, d->>'mac',"
        " (d->>'first_seen_ms')::bigint, (d->>'last_seen_ms')::bigint, d->>'chip', d->>'package',"
        " d->>'description', (d->>'flash_id')::bigint, (d->>'flash_size')::bigint, d"
        " FROM jsonb_array_elements($3::jsonb) d WHERE $2::bigint IS NOT NULL" /* no times to correct */
        " ON CONFLICT (station, local_id) DO UPDATE SET rev = excluded.rev, mac = excluded.mac,"
        " first_seen_ms = excluded.first_seen_ms, last_seen_ms = excluded.last_seen_ms,"
        " chip = excluded.chip, package = excluded.package, description = excluded.description,"
        " flash_id = excluded.flash_id, flash_size = excluded.flash_size, doc = excluded.doc,"
        " received_at = now()"
        " WHERE units.rev < excluded.rev",
    [CT_ATTEMPTS] =
        "INSERT INTO attempts(station, local_id, rev, mac, slot_name, bridge, bridge_vid, bridge_pid,"
        " profile, images, outcome, fclass, phase, try_no, host, started_ms, ended_ms, t_server, doc)"
        " SELECT $1::uuid, (d->>'local_id')::bigint, (d->>'ship_rev')::bigint, d->>'mac',"
        " d->>'slot_name', d->>'bridge', (d->>'bridge_vid')::integer, (d->>'bridge_pid')::integer,"
        " d->>'profile', (d->>'images')::jsonb, d->>'outcome', d->>'fclass', d->>'phase',"
        " (d->>'try_no')::integer, d->>'host', (d->>'started_ms')::bigint, (d->>'ended_ms')::bigint,"
        " (d->>'started_ms')::bigint + $2::bigint, d"
        " FROM jsonb_array_elements($3::jsonb) d"
        " ON CONFLICT (station, local_id) DO UPDATE SET rev = excluded.rev, mac = excluded.mac,"
        " slot_name = excluded.slot_name, bridge = excluded.bridge, bridge_vid = excluded.bridge_vid,"
        " bridge_pid = excluded.bridge_pid, profile = excluded.profile, images = excluded.images,"
        " outcome = excluded.outcome, fclass = excluded.fclass, phase = excluded.phase,"
        " try_no = excluded.try_no, host = excluded.host, started_ms = excluded.started_ms,"
        " ended_ms = excluded.ended_ms, t_server = excluded.t_server, doc = excluded.doc,"
        " received_at = now()"
        " WHERE attempts.rev < excluded.rev",
    [CT_BIN] =
        "INSERT INTO bin_events(station, local_id, rev, mac, slot_name, fclass, phase, attempts,"
        " first_fail_ms, last_fail_ms, t_last_fail, last_attempt_id, resolved_ms, resolved_by, doc)"
        " SELECT $1::uuid, (d->>'local_id')::bigint, (d->>'ship_rev')::bigint, d->>'mac',"
        " d->>'slot_name', d->>'fclass', d->>'phase', (d->>'attempts')::integer,"
        " (d->>'first_fail_ms')::bigint, (d->>'last_fail_ms')::bigint,"
        " (d->>'last_fail_ms')::bigint + $2::bigint, (d->>'last_attempt_id')::bigint,"
        " (d->>'resolved_ms')::bigint, (d->>'resolved_by')::bigint, d"
        " FROM jsonb_array_elements($3::jsonb) d"
        " ON CONFLICT (station, local_id) DO UPDATE SET rev = excluded.rev, mac = excluded.mac,"
        " slot_name = excluded.slot_name, fclass = excluded.fclass, phase = excluded.phase,"
        " attempts = excluded.attempts, first_fail_ms = excluded.first_fail_ms,"
        " last_fail_ms = excluded.last_fail_ms, t_last_fail = excluded.t_last_fail,"
        " last_attempt_id = excluded.last_attempt_id, resolved_ms = excluded.resolved_ms,"
        " resolved_by = excluded.resolved_by, doc = excluded.doc, received_at = now()"
        " WHERE bin_events.rev < excluded.rev",
    [CT_SERIALS] =
        "INSERT INTO serials(station, local_id, rev, profile, seq, serial, mac, attempt_id, allocated_ms,"
        " reason, retired_ms, doc)"
        " SELECT $1::uuid, (d->>'local_id')::bigint, (d->>'ship_rev')::bigint, d->>'profile',"
        " (d->>'seq')::bigint, d->>'serial', d->>'mac', (d->>'attempt_id')::bigint,"
        " (d->>'allocated_ms')::bigint, d->>'reason', (d->>'retired_ms')::bigint, d"
        " FROM jsonb_array_elements($3::jsonb) d WHERE $2::bigint IS NOT NULL"
        " ON CONFLICT (station, local_id) DO UPDATE SET rev = excluded.rev, profile = excluded.profile,"
        " seq = excluded.seq, serial = excluded.serial, mac = excluded.mac, attempt_id = excluded.attempt_id,"
        " allocated_ms = excluded.allocated_ms, reason = excluded.reason, retired_ms = excluded.retired_ms,"
        " doc = excluded.doc, received_at = now()"
        " WHERE serials.rev < excluded.rev",
};

/* The station's clock. Test hook: $STATION_TEST_CLOCK_SKEW_MS shifts it, standing in
 * for a station whose clock is wrong (its records carry the same shift). */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *skew = getenv("STATION_TEST_CLOCK_SKEW_MS");
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (skew ? strtoll(skew, NULL, 10) : 0);
}

/* Server clock minus ours, from one round trip (its midpoint). */
static int measure_offset(st_central *c, int64_t *offset, st_err *err)
{
    int64_t t0 = wall_ms();
    double m0 = st_now();
    PGresult *r = central_exec(c, "cannot read the server's clock",
                               "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", 0, NULL, err);
    if (!r)
        return -1;
    /* the midpoint: our label at the start plus half the round trip, timed on the
     * monotonic clock (a step of ours mid-trip would skew a wall-clock difference) */
    int64_t half_ms = (int64_t)((st_now() - m0) * 500.0);
    *offset = central_i64(r, 0, 0) - (t0 + half_ms);
    PQclear(r);
    return 0;
}

void central_cache_path(st_db *db, char *out, size_t cap)
{
    snprintf(out, cap, "%s.central", db->path);
}

/* Remember the committed marks beside the database (best effort: only the offline
 * waiting count reads them; the central store holds the real ones). */
static void write_cache(st_central *c, st_db *db)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 24];
    central_cache_path(db, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%s\n", c->st.uuid);
    for (int t = 0; t < CT_COUNT; t++)
        fprintf(f, "%s %lld\n", central_table_name[t], (long long)c->hwm[t]);
    if (fclose(f) == 0)
        rename(tmp, path);
    else
        remove(tmp);
}

static int count_waiting(st_db *db, const int64_t hwm[CT_COUNT], int64_t *waiting, st_err *err)
{
    *waiting = 0;
    for (int t = 0; t < CT_COUNT; t++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE ship_rev > :h", central_table_name[t]);
        sqlite3_stmt *s = db_prepare(db, sql, err);
        if (!s)
            return -1;
        db_bind_i64(s, ":h", hwm[t]);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *waiting += sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        if (rc != SQLITE_ROW)
            return db_fail(db, err, rc, "cannot count the rows to ship in");
    }
    return 0;
}

int st_central_waiting(st_central *c, st_db *db, int64_t *waiting, st_err *err)
{
    return count_waiting(db, c->hwm, waiting, err);
}

int st_central_waiting_cached(st_db *db, int64_t *waiting, st_err *err)
{
    int64_t hwm[CT_COUNT] = {0};
    char path[PATH_MAX + 16], uuid[64] = "", line[128];
    central_cache_path(db, path, sizeof path);
    st_central_station st;
    FILE *f = fopen(path, "r");
    if (f && st_central_station_of(db, &st, err) == 0 && fgets(uuid, sizeof uuid, f)) {
        uuid[strcspn(uuid, "\n")] = '\0';
        while (!strcmp(uuid, st.uuid) && fgets(line, sizeof line, f)) {
            char name[32];
            long long v;
            if (sscanf(line, "%31s %lld", name, &v) == 2)
                for (int t = 0; t < CT_COUNT; t++)
                    if (!strcmp(name, central_table_name[t]))
                        hwm[t] = v;
        }
    }
    if (f)
        fclose(f);
    return count_waiting(db, hwm, waiting, err);
}

int st_central_ship(st_central *c, st_db *db, int max_rows, st_central_progress *p, st_err *err)
{
    memset(p, 0, sizeof *p);
    if (!c->attached)
        return db_fail_arg(db, err, "internal: st_central_ship before st_central_attach");
    if (max_rows <= 0)
        max_rows = 500;
    batch b = {0};
    /* One read transaction: the tables seen at the same instant. */
    int rc = db_exec(db, "BEGIN", "cannot read", err);
    for (int t = 0; rc == 0 && t < CT_COUNT; t++)
        rc = read_rows(db, (central_table)t, c->hwm[t], max_rows - b.n, &b, err);
    db_exec(db, "COMMIT", "cannot read", NULL);
    if (rc < 0) {
        batch_free(&b);
        return -1;
    }
    if (b.n == 0) {
        batch_free(&b);
        return count_waiting(db, c->hwm, &p->waiting, err);
    }

    int64_t off = 0;
    char offs[32];
    if (measure_offset(c, &off, err) < 0) {
        batch_free(&b);
        return -1;
    }
    snprintf(offs, sizeof offs, "%lld", (long long)off);
    rc = central_cmd(c, "cannot start a batch", "BEGIN", 0, NULL, err);
    if (rc == 0) {
        const char *pp[] = {c->st.uuid, offs};
        rc = central_cmd(c, "cannot update the station",
                         "UPDATE stations SET last_seen = now(), clock_offset_ms = $2::bigint WHERE uuid = $1::uuid",
                         2, pp, err);
    }
    for (int t = 0; rc == 0 && t < CT_COUNT; t++) {
        if (json_array_size(b.rows[t]) == 0)
            continue;
        char *docs = json_dumps(b.rows[t], JSON_COMPACT);
        char what[64], top[32];
        snprintf(what, sizeof what, "cannot ship %zu %s rows", json_array_size(b.rows[t]), central_table_name[t]);
        snprintf(top, sizeof top, "%lld", (long long)b.top[t]);
        const char *pp[] = {c->st.uuid, offs, docs};
        rc = docs ? central_cmd(c, what, upsert_sql[t], 3, pp, err)
                  : st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for a batch");
        free(docs);
        const char *pm[] = {c->st.uuid, central_table_name[t], top};
        if (rc == 0)
            rc = central_cmd(c, "cannot move the high-water mark",
                             "INSERT INTO ship_marks(station, tbl, hwm) VALUES ($1::uuid, $2, $3::bigint)"
                             " ON CONFLICT (station, tbl) DO UPDATE SET"
                             " hwm = GREATEST(ship_marks.hwm, excluded.hwm), updated = now()",
                             3, pm, err);
    }
    if (rc == 0)
        rc = central_cmd(c, "cannot commit the batch", "COMMIT", 0, NULL, err);
    if (rc < 0) {
        central_rollback(c);
        batch_free(&b);
        return -1;
    }
    for (int t = 0; t < CT_COUNT; t++)
        c->hwm[t] = b.top[t];
    c->offset_ms = off;
    p->shipped = b.n;
    p->clock_offset_ms = off;
    batch_free(&b);
    write_cache(c, db);
    return count_waiting(db, c->hwm, &p->waiting, err);
}

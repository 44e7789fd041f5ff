/* db_audit.c - one unit's whole story, newest first: its attempts and its retry-bin
 * entries merged on time. Both queries walk an index on (mac, time), so the cost is the
 * unit's own rows, not the size of the table. */
#include "db_internal.h"

#include <stdlib.h>

/* A bin entry's place in the timeline: its latest event. */
static int64_t bin_time(const st_db_bin_entry *e)
{
    return e->resolved_ms ? e->resolved_ms : e->last_fail_ms;
}

int st_db_audit(st_db *db, const char *mac, st_db_history_fn fn, void *user, st_err *err)
{
    char m[18];
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    sqlite3_stmt *sa = db_prepare(db,
                                  "SELECT " DB_ATTEMPT_COLS " FROM attempts WHERE mac = :mac"
                                  " ORDER BY started_ms DESC, id DESC",
                                  err);
    if (!sa)
        return -1;
    sqlite3_stmt *sb = db_prepare(db,
                                  "SELECT " DB_BIN_COLS " FROM bin WHERE mac = :mac"
                                  " ORDER BY COALESCE(resolved_ms, last_fail_ms) DESC, id DESC",
                                  err);
    if (!sb) {
        sqlite3_finalize(sa);
        return -1;
    }
    db_bind_text(sa, ":mac", m);
    db_bind_text(sb, ":mac", m);

    st_db_attempt *a = malloc(sizeof *a);
    st_db_bin_entry *b = malloc(sizeof *b);
    int rc = SQLITE_NOMEM, ra = SQLITE_DONE, rb = SQLITE_DONE;
    if (!a || !b)
        goto out;
    ra = sqlite3_step(sa);
    rb = sqlite3_step(sb);
    if (ra == SQLITE_ROW)
        db_row_attempt(sa, a);
    if (rb == SQLITE_ROW)
        db_row_bin(sb, b);
    while (ra == SQLITE_ROW || rb == SQLITE_ROW) {
        /* on a tie the bin entry goes first: it resolves at or after its attempt ends */
        bool take_bin = rb == SQLITE_ROW && (ra != SQLITE_ROW || bin_time(b) >= a->started_ms);
        if (take_bin) {
            if (fn(user, NULL, b))
                break;
            if ((rb = sqlite3_step(sb)) == SQLITE_ROW)
                db_row_bin(sb, b);
        } else {
            if (fn(user, a, NULL))
                break;
            if ((ra = sqlite3_step(sa)) == SQLITE_ROW)
                db_row_attempt(sa, a);
        }
    }
    rc = (ra == SQLITE_ROW || ra == SQLITE_DONE) ? ((rb == SQLITE_ROW || rb == SQLITE_DONE) ? SQLITE_OK : rb)
                                                 : ra;
out:
    if (rc != SQLITE_OK)
        db_fail(db, err, rc, "cannot read");
    free(a);
    free(b);
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return rc == SQLITE_OK ? 0 : -1;
}

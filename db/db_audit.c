/* db_audit.c - one unit's whole story, newest first: its attempts and its retry-bin
 * entries merged on time; and the units an auditor names by the end of a MAC or by a
 * serial number. The history queries walk an index on (mac, time), so the cost is the
 * unit's own rows, not the size of the table. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bin entry's place in the timeline: its latest event. */
static int64_t bin_time(const st_db_bin_entry *e)
{
    return e->resolved_ms ? e->resolved_ms : e->last_fail_ms;
}

/* Merge attempts (sa) and bin entries (sb), both newest first, into fn; finalizes both. */
static int merge(st_db *db, sqlite3_stmt *sa, sqlite3_stmt *sb, st_db_history_fn fn, void *user, st_err *err)
{
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

/* The history of one MAC (or, mac "" and a serial, of the MAC-less attempts with that
 * serial) in [from_ms, to_ms). */
static int history(st_db *db, const char *mac, const char *serial, int64_t from_ms, int64_t to_ms,
                   st_db_history_fn fn, void *user, st_err *err)
{
    static const char *const att_sql[2] = {
        "SELECT " DB_ATTEMPT_COLS " FROM attempts WHERE mac = :mac"
        " AND started_ms >= :from AND started_ms < :to ORDER BY started_ms DESC, id DESC",
        "SELECT " DB_ATTEMPT_COLS " FROM attempts WHERE mac IS NULL"
        " AND (bridge_serial = :serial OR serial = :serial)"
        " AND started_ms >= :from AND started_ms < :to ORDER BY started_ms DESC, id DESC",
    };
    static const char *const bin_sql[2] = {
        "SELECT " DB_BIN_COLS " FROM bin WHERE mac = :mac"
        " AND COALESCE(resolved_ms, last_fail_ms) >= :from AND COALESCE(resolved_ms, last_fail_ms) < :to"
        " ORDER BY COALESCE(resolved_ms, last_fail_ms) DESC, id DESC",
        /* a MAC-less entry is known by the attempts it holds */
        "SELECT " DB_BIN_COLS " FROM bin WHERE mac IS NULL AND last_attempt_id IN"
        " (SELECT id FROM attempts WHERE mac IS NULL AND (bridge_serial = :serial OR serial = :serial))"
        " AND COALESCE(resolved_ms, last_fail_ms) >= :from AND COALESCE(resolved_ms, last_fail_ms) < :to"
        " ORDER BY COALESCE(resolved_ms, last_fail_ms) DESC, id DESC",
    };
    int k = *mac ? 0 : 1;
    sqlite3_stmt *sa = db_prepare(db, att_sql[k], err);
    if (!sa)
        return -1;
    sqlite3_stmt *sb = db_prepare(db, bin_sql[k], err);
    if (!sb) {
        sqlite3_finalize(sa);
        return -1;
    }
    sqlite3_stmt *both[2] = {sa, sb};
    for (int i = 0; i < 2; i++) {
        if (k == 0)
            db_bind_text(both[i], ":mac", mac);
        else
            db_bind_text(both[i], ":serial", serial);
        db_bind_range(both[i], from_ms, to_ms);
    }
    return merge(db, sa, sb, fn, user, err);
}

int st_db_audit(st_db *db, const char *mac, st_db_history_fn fn, void *user, st_err *err)
{
    char m[18];
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    return history(db, m, "", 0, 0, fn, user, err);
}

/* ---- naming units ------------------------------------------------------------------- */

int st_db_unit_query_parse(const char *text, st_db_unit_query *q, st_err *err)
{
    memset(q, 0, sizeof *q);
    /* a whole MAC, or its end as a label prints it: whole bytes, 1 to 5 of them */
    int nb = db_mac_text(text, q->mac);
    if (nb >= 1) {
        q->suffix = nb < 6;
        return 0;
    }
    q->mac[0] = '\0';
    st_err_set(err, ST_E_ARG, ST_PH_DB,
               "'%s' is neither a MAC address nor the end of one (whole bytes: 5a:40:01, 94:b9:7e:5a:6e:58)",
               text ? text : "");
    return st_err_hint(err, "give the MAC, or its last bytes as printed on the label");
}

int db_mac_list_add(db_mac_list *l, const char *mac)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char(*p)[18] = realloc(l->v, cap * sizeof *p);
        if (!p)
            return l->oom = true;
        l->v = p;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], 18, "%s", mac);
    return 0;
}

static int collect_mac(void *ctx, sqlite3_stmt *s)
{
    const char *mac = (const char *)sqlite3_column_text(s, 0);
    return db_mac_list_add(ctx, mac ? mac : "");
}

/* The MACs q names, sorted. */
static int query_macs(st_db *db, const st_db_unit_query *q, db_mac_list *l, st_err *err)
{
    sqlite3_stmt *s;
    if (*q->serial) {
        s = db_prepare(db,
                       "SELECT mac FROM attempts WHERE bridge_serial = :serial AND mac IS NOT NULL"
                       " UNION SELECT mac FROM attempts WHERE serial = :serial AND mac IS NOT NULL"
                       " UNION SELECT mac FROM serials WHERE serial = :serial ORDER BY 1",
                       err);
        if (s)
            db_bind_text(s, ":serial", q->serial);
    } else if (q->suffix) {
        /* the label's bytes end the MAC (text compare: hex and ':' only, no wildcard) */
        s = db_prepare(db, "SELECT mac FROM units WHERE substr(mac, -length(:suf) - 1) = ':' || :suf ORDER BY mac",
                       err);
        if (s)
            db_bind_text(s, ":suf", q->mac);
    } else {
        s = db_prepare(db, "SELECT :mac", err);
        if (s)
            db_bind_text(s, ":mac", q->mac);
    }
    int rc = db_each_row(db, s, collect_mac, l, err);
    if (rc == 0 && l->oom)
        rc = db_fail_arg(db, err, "out of memory");
    return rc;
}

/* Announces the unit before its first row, so a unit without rows in the range is not. */
typedef struct {
    const char *mac;
    bool announced, stopped;
    st_db_mac_fn unit;
    st_db_history_fn fn;
    void *user;
} unit_rows;

static int unit_row(void *ctx, const st_db_attempt *a, const st_db_bin_entry *b)
{
    unit_rows *u = ctx;
    if (!u->announced) {
        u->announced = true;
        if (u->unit && u->unit(u->user, u->mac))
            return u->stopped = true;
    }
    if (u->fn(u->user, a, b))
        return u->stopped = true;
    return 0;
}

int st_db_audit_query(st_db *db, const st_db_unit_query *q, int64_t from_ms, int64_t to_ms,
                      st_db_mac_fn unit, st_db_history_fn fn, void *user, st_err *err)
{
    db_mac_list l = {0};
    int rc = query_macs(db, q, &l, err);
    unit_rows u = {.unit = unit, .fn = fn, .user = user};
    for (size_t i = 0; rc == 0 && i < l.n && !u.stopped; i++) {
        u.mac = l.v[i];
        u.announced = false;
        rc = history(db, l.v[i], "", from_ms, to_ms, unit_row, &u, err);
    }
    if (rc == 0 && *q->serial && !u.stopped) {
        u.mac = "";
        u.announced = false;
        rc = history(db, "", q->serial, from_ms, to_ms, unit_row, &u, err);
    }
    free(l.v);
    return rc;
}

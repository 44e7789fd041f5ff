/* central_read.c - answers across all stations: audit, the central retry bin, exports
 * and statistics. Rows stream from the server one at a time (single-row mode), so a
 * million-row export does not sit in memory. Ordering: server-corrected time, then the
 * station's own sequence (local id). */
#include "central_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef int (*central_row_fn)(void *ctx, PGresult *r);

/* Run sql and call row(ctx, r) for each row (r holds that one row) until it returns
 * non-zero; 0 or -1 with err. */
static int central_each_stmt(st_central *c, const char *what, const char *sql, const char *prepared, int n,
                             const char *const *p, central_row_fn row, void *ctx, st_err *err)
{
    if (!(prepared ? PQsendQueryPrepared(c->pg, prepared, n, p, NULL, NULL, 0)
                   : PQsendQueryParams(c->pg, sql, n, NULL, p, NULL, NULL, 0)))
        return central_fail(c, NULL, err, what);
    PQsetSingleRowMode(c->pg);
    int rc = 0;
    bool stop = false;
    PGresult *r;
    while ((r = PQgetResult(c->pg))) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE) {
            if (!stop && row(ctx, r))
                stop = true;
            PQclear(r);
        } else if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
            PQclear(r);
        } else {
            if (rc == 0)
                central_fail(c, r, err, what); /* clears r */
            else
                PQclear(r);
            rc = -1;
        }
    }
    return rc;
}

static int central_each(st_central *c, const char *what, const char *sql, int n, const char *const *p,
                        central_row_fn row, void *ctx, st_err *err)
{
    return central_each_stmt(c, what, sql, NULL, n, p, row, ctx, err);
}

static void range_params(int64_t from_ms, int64_t to_ms, char from[32], char to[32])
{
    snprintf(from, 32, "%lld", (long long)from_ms);
    snprintf(to, 32, "%lld", (long long)(to_ms > 0 ? to_ms : INT64_MAX));
}

/* ---- audit -------------------------------------------------------------------------------- */

typedef struct {
    st_central *c;
    st_central_history_fn fn;
    st_central_bin_fn bfn;
    void *user;
    st_err *err;
    bool failed;
} read_ctx;

static int audit_row(void *ctx, PGresult *r)
{
    read_ctx *x = ctx;
    const char *station = PQgetvalue(r, 0, 0), *kind = PQgetvalue(r, 0, 1), *doc = PQgetvalue(r, 0, 2);
    if (kind[0] == 'a') {
        st_db_attempt a;
        if (central_doc_attempt(x->c, doc, &a, x->err) < 0)
            return x->failed = true;
        return x->fn(x->user, station, &a, NULL);
    }
    st_db_bin_entry e;
    if (central_doc_bin(x->c, doc, &e, x->err) < 0)
        return x->failed = true;
    if (!e.resolved_ms && !PQgetisnull(r, 0, 3)) {
        /* settled by a pass elsewhere: in this station's clock, the pass's server time */
        e.resolved_ms = central_i64(r, 0, 3);
        e.resolved_by = 0;
    }
    return x->fn ? x->fn(x->user, station, NULL, &e) : x->bfn(x->user, station, &e);
}

/* A flash, not a repair-bench action (identify, read, erase, unprotect: local schema
 * v13's action, in the row document): only a flash's pass settles a unit or counts. */
#define CENTRAL_FLASH(a) "(" a ".doc->>'action') IS NULL"

/* The time a pass anywhere settled bin entry b (server time, station b's clock), or NULL. */
#define SETTLED_BY_PASS                                                                        \
    "(SELECT min(p.t_server) - (b.t_last_fail - b.last_fail_ms) FROM attempts p"               \
    "  WHERE b.resolved_ms IS NULL AND b.mac IS NOT NULL AND p.mac = b.mac"                    \
    "  AND p.outcome = 'pass' AND " CENTRAL_FLASH("p") " AND p.t_server > b.t_last_fail)"

#define AUDIT_SQL                                                                              \
    "SELECT s.name, 'a', a.doc::text, NULL::bigint, a.t_server AS t, a.local_id"               \
    " FROM attempts a JOIN stations s ON s.uuid = a.station WHERE a.mac = $1"                  \
    " UNION ALL"                                                                               \
    " SELECT s.name, 'b', b.doc::text, " SETTLED_BY_PASS ","                                   \
    " COALESCE(b.resolved_ms + (b.t_last_fail - b.last_fail_ms), b.t_last_fail),"              \
    " b.local_id"                                                                              \
    " FROM bin_events b JOIN stations s ON s.uuid = b.station WHERE b.mac = $1"                \
    " ORDER BY 5 DESC, 6 DESC"

int st_central_audit(st_central *c, const char *mac, st_central_history_fn fn, void *user, st_err *err)
{
    char m[18];
    if (st_db_mac_normalize(mac, m, err) < 0)
        return -1;
    const char *p[] = {m};
    read_ctx x = {.c = c, .fn = fn, .user = user, .err = err};
    /* prepared once per connection: an auditor's session asks many times */
    if (!c->audit_prepared) {
        PGresult *r = PQprepare(c->pg, "st_audit", AUDIT_SQL, 1, NULL);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
            return central_fail(c, r, err, "cannot prepare the audit");
        PQclear(r);
        c->audit_prepared = true;
    }
    int rc = central_each_stmt(c, "cannot read the unit's history", AUDIT_SQL, "st_audit", 1, p, audit_row, &x, err);
    return rc < 0 || x.failed ? -1 : 0;
}

/* ---- audit by the end of a MAC, by serial, in a time range ----------------------------------- */

static int mac_row(void *ctx, PGresult *r)
{
    return db_mac_list_add(ctx, PQgetvalue(r, 0, 0));
}

/* Passes on the rows in the range, announcing the unit before its first one. */
typedef struct {
    const char *mac;
    int64_t from_ms, to_ms;
    bool announced, stopped;
    st_db_mac_fn unit;
    st_central_history_fn fn;
    void *user;
} range_ctx;

static int range_row(void *ctx, const char *station, const st_db_attempt *a, const st_db_bin_entry *b)
{
    range_ctx *x = ctx;
    int64_t t = a ? a->started_ms : b->resolved_ms ? b->resolved_ms : b->last_fail_ms;
    if (t < x->from_ms || (x->to_ms > 0 && t >= x->to_ms))
        return 0;
    if (!x->announced) {
        x->announced = true;
        if (x->unit && x->unit(x->user, x->mac))
            return x->stopped = true;
    }
    return x->stopped = x->fn(x->user, station, a, b) != 0;
}

int st_central_audit_query(st_central *c, const st_db_unit_query *q, int64_t from_ms, int64_t to_ms,
                           st_db_mac_fn unit, st_central_history_fn fn, void *user, st_err *err)
{
    db_mac_list l = {0};
    int rc = 0;
    const char *p[] = {*q->serial ? q->serial : q->mac};
    if (*q->serial)
        rc = central_each(c, "cannot find the units with that serial",
                          "SELECT DISTINCT mac FROM attempts WHERE mac IS NOT NULL"
                          " AND (doc->>'bridge_serial' = $1 OR doc->>'serial' = $1) ORDER BY 1",
                          1, p, mac_row, &l, err);
    else if (q->suffix)
        rc = central_each(c, "cannot find the units whose MAC ends so",
                          "SELECT DISTINCT mac FROM units WHERE right(mac, length($1) + 1) = ':' || $1 ORDER BY 1",
                          1, p, mac_row, &l, err);
    else
        db_mac_list_add(&l, q->mac);
    if (rc == 0 && l.oom)
        rc = st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory");
    range_ctx x = {.from_ms = from_ms, .to_ms = to_ms, .unit = unit, .fn = fn, .user = user};
    for (size_t i = 0; rc == 0 && i < l.n && !x.stopped; i++) {
        x.mac = l.v[i];
        x.announced = false;
        rc = st_central_audit(c, l.v[i], range_row, &x, err);
    }
    free(l.v);
    if (rc < 0 || x.stopped || !*q->serial)
        return rc < 0 ? -1 : 0;
    /* attempts with the serial that never read a MAC */
    x.mac = "";
    x.announced = false;
    read_ctx r = {.c = c, .fn = range_row, .user = &x, .err = err};
    rc = central_each(c, "cannot read the attempts with that serial",
                      "SELECT s.name, 'a', a.doc::text, NULL::bigint FROM attempts a"
                      " JOIN stations s ON s.uuid = a.station WHERE a.mac IS NULL"
                      " AND (a.doc->>'bridge_serial' = $1 OR a.doc->>'serial' = $1)"
                      " ORDER BY a.t_server DESC, a.local_id DESC",
                      1, p, audit_row, &r, err);
    return rc < 0 || r.failed ? -1 : 0;
}

/* ---- retry bin ---------------------------------------------------------------------------- */

#define CENTRAL_BIN_SQL                                                                        \
    "SELECT station_name, 'b', doc::text, NULL::bigint FROM central_retry_bin"                 \
    " ORDER BY t_last_fail DESC, local_id DESC"

int st_central_bin_list(st_central *c, st_central_bin_fn fn, void *user, st_err *err)
{
    read_ctx x = {.c = c, .bfn = fn, .user = user, .err = err};
    int rc = central_each(c, "cannot read the central retry bin", CENTRAL_BIN_SQL, 0, NULL, audit_row, &x, err);
    return rc < 0 || x.failed ? -1 : 0;
}

typedef struct {
    st_central_pass *out;
    int n;
} resolved_ctx;

static int resolved_row(void *ctx, PGresult *r)
{
    resolved_ctx *x = ctx;
    int i = atoi(PQgetvalue(r, 0, 0)) - 1;
    if (i >= 0 && i < x->n) {
        x->out[i].passed = true;
        x->out[i].at_ms = central_i64(r, 0, 1);
        snprintf(x->out[i].station, sizeof x->out[i].station, "%s", PQgetvalue(r, 0, 2));
    }
    return 0;
}

int st_central_resolved(st_central *c, const char *station_uuid, const char *const *macs,
                        const int64_t *since_ms, st_central_pass *out, int n, st_err *err)
{
    for (int i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    if (n <= 0)
        return 0;
    /* arrays as PostgreSQL literals: MACs are normalized hex and ':' only */
    size_t cap = (size_t)n * 24 + 4;
    char *ma = malloc(cap), *sa = malloc(cap);
    if (!ma || !sa) {
        free(ma);
        free(sa);
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory");
    }
    size_t mu = 0, su = 0;
    ma[mu++] = '{';
    sa[su++] = '{';
    for (int i = 0; i < n; i++) {
        char m[18];
        st_err e2;
        if (st_db_mac_normalize(macs[i], m, &e2) < 0)
            snprintf(m, sizeof m, "none");
        mu += (size_t)snprintf(ma + mu, cap - mu, "%s\"%s\"", i ? "," : "", m);
        su += (size_t)snprintf(sa + su, cap - su, "%s%lld", i ? "," : "", (long long)since_ms[i]);
    }
    snprintf(ma + mu, cap - mu, "}");
    snprintf(sa + su, cap - su, "}");
    const char *p[] = {ma, sa, station_uuid};
    resolved_ctx x = {out, n};
    /* the asking station's offset turns its times into the server's and back */
    int rc = central_each(c, "cannot ask the central store about the retry bin",
                          "WITH o AS (SELECT COALESCE((SELECT clock_offset_ms FROM stations"
                          "   WHERE uuid = $3::uuid), 0) AS off)"
                          " SELECT m.i, p.t_server - o.off, p.name"
                          " FROM o, unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS m(mac, since, i)"
                          " CROSS JOIN LATERAL (SELECT a.t_server, s.name FROM attempts a"
                          "  JOIN stations s ON s.uuid = a.station WHERE a.mac = m.mac AND a.outcome = 'pass'"
                          "  AND " CENTRAL_FLASH("a")
                          "  AND a.t_server > m.since + o.off ORDER BY a.t_server DESC LIMIT 1) p",
                          3, p, resolved_row, &x, err);
    free(ma);
    free(sa);
    return rc;
}

typedef struct {
    st_db_bin_entry *v;
    int n, cap;
    bool oom;
} open_list;

static int open_add(void *user, const st_db_bin_entry *b)
{
    open_list *l = user;
    if (b->resolved_ms || !*b->mac)
        return 0; /* settled here, or no MAC to ask about */
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 32;
        st_db_bin_entry *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return l->oom = true;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *b;
    return 0;
}

int st_central_bin_elsewhere(st_central *c, st_db *db, st_central_elsewhere_fn fn, void *user, st_err *err)
{
    st_central_station st;
    if (st_central_station_of(db, &st, err) < 0)
        return -1;
    open_list l = {0};
    if (st_db_bin_list(db, false, open_add, &l, err) < 0) {
        free(l.v);
        return -1;
    }
    if (l.oom) {
        free(l.v);
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for the retry bin");
    }
    const char **macs = calloc((size_t)l.n + 1, sizeof *macs);
    int64_t *since = calloc((size_t)l.n + 1, sizeof *since);
    st_central_pass *out = calloc((size_t)l.n + 1, sizeof *out);
    int rc = macs && since && out ? 0 : st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for the retry bin");
    for (int i = 0; rc == 0 && i < l.n; i++) {
        macs[i] = l.v[i].mac;
        since[i] = l.v[i].last_fail_ms;
    }
    if (rc == 0)
        rc = st_central_resolved(c, st.uuid, macs, since, out, l.n, err);
    for (int i = 0; rc == 0 && i < l.n; i++)
        if (out[i].passed && fn(user, &l.v[i], &out[i]))
            break;
    free(macs);
    free(since);
    free(out);
    free(l.v);
    return rc;
}

/* ---- exports ------------------------------------------------------------------------------ */

typedef struct {
    st_central *c;
    FILE *f;
    st_db_format fmt;
    bool header, bin;
    st_err *err;
    bool failed;
} export_ctx;

int st_central_write_row(FILE *f, st_db_format fmt, const char *station, const st_db_attempt *a,
                         const st_db_bin_entry *b, const char *kind, st_err *err)
{
    if (fmt == ST_DB_CSV) {
        if (strpbrk(station, ",\"\r\n")) {
            fputc('"', f);
            for (const char *s = station; *s; s++) {
                if (*s == '"')
                    fputc('"', f);
                fputc(*s, f);
            }
            fputs("\",", f);
        } else {
            fprintf(f, "%s,", station);
        }
        return a ? st_db_write_attempt(f, ST_DB_CSV, a, kind, false, err)
                 : st_db_write_bin(f, ST_DB_CSV, b, kind, false, err);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory writing a record");
    int rc = a ? st_db_write_attempt(m, ST_DB_JSONL, a, kind, false, err)
               : st_db_write_bin(m, ST_DB_JSONL, b, kind, false, err);
    fclose(m);
    json_t *o = rc == 0 ? json_loads(buf, 0, NULL) : NULL;
    free(buf);
    if (!o)
        return rc < 0 ? -1 : st_err_set(err, ST_E_IO, ST_PH_DB, "cannot re-read a record written as JSON");
    json_object_set_new(o, "station", json_string(station));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s) {
        fputs(s, f);
        fputc('\n', f);
    }
    free(s);
    return db_export_check(f, err);
}

static int export_one(export_ctx *x, const char *station, const st_db_attempt *a, const st_db_bin_entry *b)
{
    if (st_central_write_row(x->f, x->fmt, station, a, b, NULL, x->err) < 0)
        x->failed = true;
    return x->failed;
}

static int export_row(void *ctx, PGresult *r)
{
    export_ctx *x = ctx;
    const char *station = PQgetvalue(r, 0, 0), *doc = PQgetvalue(r, 0, 2);
    if (!x->bin) {
        st_db_attempt a;
        if (central_doc_attempt(x->c, doc, &a, x->err) < 0)
            return x->failed = true;
        return export_one(x, station, &a, NULL);
    }
    st_db_bin_entry e;
    if (central_doc_bin(x->c, doc, &e, x->err) < 0)
        return x->failed = true;
    return export_one(x, station, NULL, &e);
}

static int export_done(export_ctx *x, int rc, st_err *err)
{
    if (rc < 0 || x->failed)
        return -1;
    return db_export_check(x->f, err);
}

int st_central_export(st_central *c, FILE *f, st_db_format fmt, int64_t from_ms, int64_t to_ms, st_err *err)
{
    char from[32], to[32];
    range_params(from_ms, to_ms, from, to);
    const char *p[] = {from, to};
    export_ctx x = {.c = c, .f = f, .fmt = fmt, .header = fmt == ST_DB_CSV, .err = err};
    if (fmt == ST_DB_CSV) { /* the header even when no row comes */
        fputs("station,", f);
        if (st_db_write_attempt(f, ST_DB_CSV, NULL, NULL, true, err) < 0)
            return -1;
        x.header = false;
    }
    int rc = central_each(c, "cannot export attempts",
                          "SELECT s.name, 'a', a.doc::text FROM attempts a JOIN stations s ON s.uuid = a.station"
                          " WHERE a.t_server >= $1::bigint AND a.t_server < $2::bigint"
                          " ORDER BY a.t_server, a.station, a.local_id",
                          2, p, export_row, &x, err);
    return export_done(&x, rc, err);
}

int st_central_bin_export(st_central *c, FILE *f, st_db_format fmt, st_err *err)
{
    export_ctx x = {.c = c, .f = f, .fmt = fmt, .bin = true, .err = err};
    if (fmt == ST_DB_CSV) {
        fputs("station,", f);
        if (st_db_write_bin(f, ST_DB_CSV, NULL, NULL, true, err) < 0)
            return -1;
    }
    int rc = central_each(c, "cannot export the central retry bin", CENTRAL_BIN_SQL, 0, NULL, export_row, &x, err);
    return export_done(&x, rc, err);
}

/* ---- statistics --------------------------------------------------------------------------- */

typedef struct {
    st_central_group_fn fn;
    void *user;
} group_ctx;

static int group_row(void *ctx, PGresult *r)
{
    group_ctx *x = ctx;
    st_central_group g = {0};
    snprintf(g.key, sizeof g.key, "%s", PQgetvalue(r, 0, 0));
    g.attempts = central_i64(r, 0, 1);
    g.passes = central_i64(r, 0, 2);
    g.fails = central_i64(r, 0, 3);
    g.units_tried = central_i64(r, 0, 4);
    g.units_passed = central_i64(r, 0, 5);
    g.yield = g.units_tried ? (double)g.units_passed / (double)g.units_tried : 0;
    return x->fn(x->user, &g);
}

int st_central_stats(st_central *c, st_central_by by, int64_t from_ms, int64_t to_ms, st_central_group_fn fn,
                     void *user, st_err *err)
{
    char from[32], to[32];
    range_params(from_ms, to_ms, from, to);
    const char *byname = by == ST_CENTRAL_BY_STATION ? "station" : by == ST_CENTRAL_BY_LINE ? "line" : "hour";
    const char *p[] = {from, to, byname};
    group_ctx x = {fn, user};
    return central_each(
        c, "cannot compute statistics",
        "SELECT k, count(*), count(*) FILTER (WHERE outcome = 'pass'),"
        " count(*) FILTER (WHERE outcome IN ('fail', 'interrupted')),"
        " count(DISTINCT mac), count(DISTINCT mac) FILTER (WHERE outcome = 'pass')"
        " FROM (SELECT CASE $3 WHEN 'station' THEN s.name WHEN 'line' THEN s.line"
        "  ELSE to_char(to_timestamp(a.t_server / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":00Z\"')"
        "  END AS k, a.outcome, a.mac"
        "  FROM attempts a JOIN stations s ON s.uuid = a.station"
        "  WHERE a.outcome <> 'in_progress' AND " CENTRAL_FLASH("a")
        "  AND a.t_server >= $1::bigint AND a.t_server < $2::bigint) x"
        " GROUP BY k ORDER BY k",
        3, p, group_row, &x, err);
}

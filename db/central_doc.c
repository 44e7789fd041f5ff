/* central_doc.c - central row documents back into st_db_attempt / st_db_bin_entry.
 * The document is the local row as shipped (every SQLite column by name), so the local
 * decoders read it unchanged: a statement selecting json_extract(doc, '$.<column>') for
 * each column of DB_ATTEMPT_COLS / DB_BIN_COLS, in an in-memory SQLite. One decoder for
 * both stores: a column added to the local row reaches central readers the same way. */
#include "central_internal.h"

#include <string.h>

/* "SELECT json_extract(?1, '$.a'), json_extract(?1, '$.b'), ..." for cols "a, b, ...". */
static void decoder_sql(const char *cols, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "SELECT ");
    const char *p = cols;
    while (*p && n < cap) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ')
            len--;
        if (!len)
            break;
        n += (size_t)snprintf(out + n, cap - n, "%sjson_extract(?1, '$.%.*s')", n > 7 ? ", " : "", (int)len, p);
        p += len;
    }
}

static sqlite3_stmt *decoder(st_central *c, int which, st_err *err)
{
    if (!c->mem && sqlite3_open_v2(":memory:", &c->mem, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        st_err_set(err, ST_E_NOMEM, ST_PH_DB, "cannot open the document decoder");
        return NULL;
    }
    if (!c->dec[which]) {
        char sql[4096];
        decoder_sql(which == 0 ? DB_ATTEMPT_COLS : DB_BIN_COLS, sql, sizeof sql);
        if (sqlite3_prepare_v2(c->mem, sql, -1, &c->dec[which], NULL) != SQLITE_OK) {
            st_err_set(err, ST_E_DB, ST_PH_DB, "cannot prepare the document decoder: %s", sqlite3_errmsg(c->mem));
            return NULL;
        }
    }
    sqlite3_reset(c->dec[which]);
    return c->dec[which];
}

static int decode(st_central *c, int which, const char *doc, void *out, st_err *err)
{
    sqlite3_stmt *s = decoder(c, which, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, doc, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_ROW) {
        st_err_set(err, ST_E_DB, ST_PH_DB, "cannot read a central row document: %s", sqlite3_errmsg(c->mem));
        return -1;
    }
    if (which == 0)
        db_row_attempt(s, out);
    else
        db_row_bin(s, out);
    sqlite3_reset(s);
    return 0;
}

int central_doc_attempt(st_central *c, const char *doc, st_db_attempt *a, st_err *err)
{
    memset(a, 0, sizeof *a);
    return decode(c, 0, doc, a, err);
}

int central_doc_bin(st_central *c, const char *doc, st_db_bin_entry *e, st_err *err)
{
    memset(e, 0, sizeof *e);
    return decode(c, 1, doc, e, err);
}

void central_doc_free(st_central *c)
{
    for (int i = 0; i < 2; i++)
        sqlite3_finalize(c->dec[i]);
    if (c->mem)
        sqlite3_close(c->mem);
    c->mem = NULL;
}

/* central_internal.h - what the central_*.c files share: the handle, the error helper
 * and the statement helpers (central.h is the contract). */
#ifndef ST_CENTRAL_INTERNAL_H
#define ST_CENTRAL_INTERNAL_H

#include <libpq-fe.h>

#include "central.h"
#include "db_internal.h"

/* Local tables that are shipped, in shipping order (units before the rows naming them). */
typedef enum { CT_UNITS = 0, CT_ATTEMPTS, CT_BIN, CT_SERIALS, CT_COUNT } central_table;
extern const char *const central_table_name[CT_COUNT];

struct st_central {
    PGconn *pg;
    char desc[200];            /* printable server name: no password */
    bool attached;
    st_central_station st;
    int64_t hwm[CT_COUNT];     /* central high-water marks of this station */
    int64_t offset_ms;         /* server time - station time, at the last batch */
    sqlite3 *mem;              /* document decoder (central_doc.c); NULL until used */
    sqlite3_stmt *dec[2];      /* attempt, bin entry */
    bool audit_prepared;       /* the audit statement is prepared on this connection */
};
void central_doc_free(st_central *c);

/* Fill err from the connection (and result r, may be NULL): "<what> on <server>: <reason>"
 * with the password scrubbed and a hint chosen by SQLSTATE or connection state. PQclear(r).
 * Returns -1. */
int central_fail(st_central *c, PGresult *r, st_err *err, const char *what);
/* Run sql with nparams text parameters; the result on success (PGRES_COMMAND_OK or
 * TUPLES_OK), NULL with err filled (naming what) on failure. */
PGresult *central_exec(st_central *c, const char *what, const char *sql, int nparams,
                       const char *const *params, st_err *err);
/* central_exec for statements without rows: 0 or -1. */
int central_cmd(st_central *c, const char *what, const char *sql, int nparams,
                const char *const *params, st_err *err);
/* Roll back whatever transaction is open (after a failure; ignores errors). */
void central_rollback(st_central *c);
/* Cell as int64 (0 for NULL). */
int64_t central_i64(PGresult *r, int row, int col);

/* A central row document (the shipped JSON text of a local row: keys are the SQLite
 * column names) into the record structs, through the local decoders themselves
 * (db_row_attempt / db_row_bin) run over json_extract in an in-memory SQLite. */
int central_doc_attempt(st_central *c, const char *doc, st_db_attempt *a, st_err *err);
int central_doc_bin(st_central *c, const char *doc, st_db_bin_entry *e, st_err *err);

/* "<db>.central" cache of the marks, for waiting counts while offline. */
void central_cache_path(st_db *db, char *out, size_t cap);

#endif

/* test_db_support.h - shared fixtures of the db_* unit tests: a scratch folder per test,
 * a fully filled attempt, and raw SQL access for checking what landed in the file. */
#ifndef TEST_DB_SUPPORT_H
#define TEST_DB_SUPPORT_H

#include <sqlite3.h>

#include "db.h"

/* Make a fresh scratch folder (under $TMPDIR or /tmp) into dir (>= 256 bytes). */
void tdb_mkdir(char *dir);
/* Remove the folder and every file in it (no sub-folders expected but handled one deep). */
void tdb_rmdir(const char *dir);
/* dir + "/" + name into buf (>= 512 bytes); returns buf. */
char *tdb_path(char *buf, const char *dir, const char *name);
/* Open a writer handle or print the error and return NULL. */
st_db *tdb_open(const char *path);
/* An attempt with every field set to a distinct, recognisable value. */
void tdb_full_attempt(st_db_attempt *a, const char *mac, int slot, int64_t started_ms);
/* Begin and finish an attempt with these essentials (mac "" = none); returns its id or -1. */
int64_t tdb_attempt(st_db *db, const char *mac, int slot, int try_no, int64_t started_ms,
                    st_db_outcome outcome, st_fclass fc, const char *bridge, bool bin_on_fail);
/* First column of the first row of sql on a raw connection to path, as text into buf. */
const char *tdb_query(const char *path, const char *sql, char *buf, size_t cap);
/* Run sql (several statements) on a raw connection; 0 on success. */
int tdb_exec(const char *path, const char *sql);
/* Print an error (for diagnosis when a check is about to fail). */
void tdb_print_err(const char *what, const st_err *e);

#endif

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
/* A fresh scratch folder into dir (>= 256 bytes) and a writer on dir/station.db (its path
 * into path, >= 512 bytes); NULL (error printed) when it cannot be opened. */
st_db *tdb_fresh(char *dir, char *path);
/* An attempt with every field set to a distinct, recognisable value; its port is a
 * by-path link and slot_name that link's name. */
void tdb_full_attempt(st_db_attempt *a, const char *mac, int slot, int64_t started_ms);
/* Begin and finish an attempt with these essentials (mac "" = none) on port /dev/ttyUSB<slot>
 * with slot_name left "" (the default, "slot<slot>"); returns its id or -1. */
int64_t tdb_attempt(st_db *db, const char *mac, int slot, int try_no, int64_t started_ms,
                    st_db_outcome outcome, st_fclass fc, const char *bridge, bool bin_on_fail);
/* tdb_attempt on the slot named slot_name. */
int64_t tdb_attempt_in(st_db *db, const char *slot_name, const char *mac, int slot, int try_no,
                       int64_t started_ms, st_db_outcome outcome, st_fclass fc, const char *bridge,
                       bool bin_on_fail);
/* First column of the first row of sql on a raw connection to path, as text into buf. */
const char *tdb_query(const char *path, const char *sql, char *buf, size_t cap);
/* Run sql (several statements) on a raw connection; 0 on success. */
int tdb_exec(const char *path, const char *sql);
/* Print an error (for diagnosis when a check is about to fail). */
void tdb_print_err(const char *what, const st_err *e);

#endif

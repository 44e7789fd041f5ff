/* cli_records.h - small helpers shared by the record commands (run, audit, retry-bin,
 * export, stats): time arguments, database handles, one-line history entries. */
#ifndef ST_CLI_RECORDS_H
#define ST_CLI_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"

/* A time argument in UTC milliseconds: ISO-8601 ("2024-05-01", "2024-05-01T09:30",
 * "2024-05-01 09:30:15Z", UTC), "now", or an age back from now ("90m", "24h", "7d"). */
int st_cli_parse_time(const char *s, int64_t *out_ms, st_err *err);
/* A --since (which 's') or --until ('u') value into *since_ms / *until_ms; prints the
 * error and returns false when it cannot be read. */
bool st_cli_time_opt(const char *prog, int which, const char *arg, int64_t *since_ms,
                     int64_t *until_ms);
/* Print "<prog>: <error>" and the hint to stderr. */
void st_cli_print_err(const char *prog, const st_err *e);
/* Open a read-only handle on path (NULL: the default database); prints the error.
 * Returns 0 or the exit status to use (3). */
int st_cli_open_reader(const char *prog, const char *path, st_db **out);
/* One line of a unit's history (exactly one of a, b non-NULL), for audit and the
 * dashboard's detail view. */
void st_cli_history_line(const st_db_attempt *a, const st_db_bin_entry *b, char *buf, size_t cap);
/* "01 07 00 00" (or "" without status bytes) into buf (>= 12 bytes). */
void st_cli_status_hex(const uint8_t *status, int n, char *buf, size_t cap);

#endif

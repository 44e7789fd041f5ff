/* central.h - the factory's shared record store (PostgreSQL, through libpq): every
 * station ships its local SQLite journal (db.h) there, and audit, export, stats and the
 * retry bin can answer across all stations. Only db/ speaks SQL; callers see these
 * functions. Parameterized statements only.
 *
 * Connection strings: a libpq URL ("postgresql://user@host/db?sslmode=verify-full") or
 * key=value conninfo. They come from the environment (STATION_CENTRAL) or a file
 * (/etc/flashstation/central.conf, or $STATION_CENTRAL_CONF; mode 0600 or stricter).
 * One given on the command line is accepted only without a password (argv is visible
 * to every user through ps): the password then comes from the file, PGPASSWORD or
 * ~/.pgpass. No message, event or log line this module produces contains a password.
 *
 * Shipping is idempotent: rows are keyed by (station UUID, local id), a resend after a
 * crash or a timeout updates the row it already wrote, and a row never goes back to an
 * older revision. The high-water mark of each local table (its ship_rev, see
 * db_schema.c step 4) lives in the central store, committed in the same transaction as
 * the batch, so a station resumes exactly where its last committed batch stopped.
 *
 * Ordering across stations uses the server's clock: every batch measures the station's
 * clock offset against the server's now(), and each row's times are stored corrected
 * (t_server = station time + offset) beside the station's own values and its local
 * sequence, which orders the rows of one station.
 *
 * Threads: an st_central handle belongs to one thread at a time. */
#ifndef ST_CENTRAL_H
#define ST_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"

#define ST_CENTRAL_SCHEMA_VERSION 3 /* what this build creates and ships to */
#define ST_CENTRAL_CONF_DEFAULT "/etc/flashstation/central.conf"
#define ST_CENTRAL_MAX 1024         /* longest connection string */
#define ST_CENTRAL_SKEW_WARN_MS 120000 /* clock offsets beyond this are reported */

typedef struct st_central st_central;

/* Where a station's connection string comes from. */
typedef enum { ST_CENTRAL_NONE = 0, ST_CENTRAL_ARGV, ST_CENTRAL_ENV, ST_CENTRAL_FILE } st_central_src;

/* Find the connection string: `given` (a command-line value: refused when it carries a
 * password; a value naming an existing file is read as a conf file), else
 * $STATION_CENTRAL, else the conf file ($STATION_CENTRAL_CONF or the default path; a
 * missing default file means "not configured"). *src says which; ST_CENTRAL_NONE (and 0
 * returned) when nothing is configured. A conf file is one connection string; blank
 * lines and '#' comments are ignored; a file readable by group or others is refused. */
int st_central_conninfo(const char *given, char *out, size_t cap, st_central_src *src, st_err *err);
/* A printable name for conninfo: "user@host:port/dbname" with no password. */
void st_central_describe(const char *conninfo, char *out, size_t cap);

/* Connect (connect_timeout 5 s unless the string sets one, TCP keepalives, statement
 * timeout 30 s). Errors name the server (described, no password) and say what to do:
 * malformed URL, server unreachable, authentication refused, no such database, TLS
 * verification failed. */
int st_central_open(const char *conninfo, st_central **out, st_err *err);
void st_central_close(st_central *c);
/* The server's schema version (0: no schema yet). */
int st_central_schema_version(st_central *c, int *version, st_err *err);
/* Create or migrate the central schema (tables, indexes, views, the flash_station
 * group role's policies) to ST_CENTRAL_SCHEMA_VERSION, one transaction per step.
 * Refuses a schema newer than this build. */
int st_central_init(st_central *c, st_err *err);

/* ---- shipping ---------------------------------------------------------------------- */

/* Who ships: the local database's station UUID (db_schema.c step 4), a name and a line
 * (free text, shown in every central row; "" name = the host name). */
typedef struct st_central_station {
    char uuid[40];
    char name[64];
    char line[64];
} st_central_station;

/* The station identity of db (a reader or writer handle). name/line from
 * $STATION_NAME / $STATION_LINE when set, else the host name and "". */
int st_central_station_of(st_db *db, st_central_station *s, st_err *err);

/* What a shipping pass did and what is left. */
typedef struct st_central_progress {
    int64_t shipped;        /* rows sent and committed by this call */
    int64_t waiting;        /* local rows changed since the central high-water marks */
    int64_t clock_offset_ms;/* server time - station time, at the last batch */
} st_central_progress;

/* Check that the server's schema is the one this build ships to (refusing a newer or a
 * missing one with what to do), register or refresh the station, and load its
 * high-water marks. Call once per connection before st_central_ship. */
int st_central_attach(st_central *c, const st_central_station *s, st_err *err);
/* Ship up to max_rows changed local rows from db (a reader handle) in one central
 * transaction, with the high-water marks. p->shipped says how many; 0 when nothing was
 * left. On failure the central transaction is rolled back and nothing is lost: the same
 * rows go again next time. */
int st_central_ship(st_central *c, st_db *db, int max_rows, st_central_progress *p, st_err *err);
/* Local rows not yet shipped past the marks this handle holds (no central access). */
int st_central_waiting(st_central *c, st_db *db, int64_t *waiting, st_err *err);
/* Same with marks from a cache file beside the database (written after every committed
 * batch, "<db>.central"), for a station that has not reached the server yet. */
int st_central_waiting_cached(st_db *db, int64_t *waiting, st_err *err);

/* ---- reading across stations -------------------------------------------------------- */

/* A MAC's history across all stations, newest first (server-corrected time, then the
 * station's sequence): attempts and bin entries (one of a, b non-NULL), with the name of
 * the station that recorded each. A bin entry that a later pass anywhere settled comes
 * back resolved (resolved_by 0 when another station's attempt resolved it). */
typedef int (*st_central_history_fn)(void *user, const char *station, const st_db_attempt *a,
                                     const st_db_bin_entry *b);
int st_central_audit(st_central *c, const char *mac, st_central_history_fn fn, void *user, st_err *err);
/* st_db_audit_query across all stations: every unit q names (MAC order), unit(user, mac)
 * before its rows, rows as st_central_audit gives them limited to [from_ms, to_ms) by
 * the recording station's clock (attempts by start, bin entries by latest event); units
 * without rows in the range left out; with a serial, the attempts that never read a MAC
 * last, under unit(user, ""). The serial lookup reads the shipped documents (no index). */
int st_central_audit_query(st_central *c, const st_db_unit_query *q, int64_t from_ms, int64_t to_ms,
                           st_db_mac_fn unit, st_central_history_fn fn, void *user, st_err *err);

/* The central retry bin: open entries of every station whose unit did not pass anywhere
 * after the entry's last failure, newest failure first. */
typedef int (*st_central_bin_fn)(void *user, const char *station, const st_db_bin_entry *e);
int st_central_bin_list(st_central *c, st_central_bin_fn fn, void *user, st_err *err);
/* A pass on some station that settles a local bin entry (st_central_resolved). */
typedef struct st_central_pass {
    bool passed;
    int64_t at_ms;              /* when, in the asking station's clock (server time less its
                                 * last measured offset) */
    char station[64];           /* the name of the station it passed on */
} st_central_pass;
/* Of the MACs in macs[0..n), fill out[i] for those whose unit passed on any station after
 * since_ms[i] (a local bin entry's last failure, station time of station_uuid: corrected
 * with its last measured offset): the latest such pass. One query for all n. */
int st_central_resolved(st_central *c, const char *station_uuid, const char *const *macs,
                        const int64_t *since_ms, st_central_pass *out, int n, st_err *err);

/* This station's open local retry-bin entries (db, a reader handle) whose unit passed on
 * some station after the entry's last failure: fn(user, entry, pass) for each, newest
 * failure first (stops when fn returns non-zero). The station is db's (its UUID). */
typedef int (*st_central_elsewhere_fn)(void *user, const st_db_bin_entry *e, const st_central_pass *p);
int st_central_bin_elsewhere(st_central *c, st_db *db, st_central_elsewhere_fn fn, void *user, st_err *err);

/* Attempts started in [from_ms, to_ms) across stations as CSV (a leading "station"
 * column, then station export's columns) or JSON lines (station export's keys plus
 * "station"), oldest first. */
int st_central_export(st_central *c, FILE *f, st_db_format fmt, int64_t from_ms, int64_t to_ms,
                      st_err *err);
/* Bin entries, for retry-bin --central: same row forms as st_db_bin_export plus station. */
int st_central_bin_export(st_central *c, FILE *f, st_db_format fmt, st_err *err);

/* One record with its station, in the forms of st_db_write_attempt / st_db_write_bin
 * (kind as there): CSV a leading station cell then the row, JSON the object plus
 * "station". Exactly one of a, b non-NULL. */
int st_central_write_row(FILE *f, st_db_format fmt, const char *station, const st_db_attempt *a,
                         const st_db_bin_entry *b, const char *kind, st_err *err);

/* Yield per group over finished attempts started in [from_ms, to_ms). */
typedef enum { ST_CENTRAL_BY_STATION, ST_CENTRAL_BY_LINE, ST_CENTRAL_BY_HOUR } st_central_by;
typedef struct st_central_group {
    char key[64];               /* station name, line name, or hour "2026-12-03T10:00Z" */
    int64_t attempts, passes, fails;
    int64_t units_tried, units_passed;
    double yield;               /* units_passed / units_tried */
} st_central_group;
typedef int (*st_central_group_fn)(void *user, const st_central_group *g);
int st_central_stats(st_central *c, st_central_by by, int64_t from_ms, int64_t to_ms,
                     st_central_group_fn fn, void *user, st_err *err);

#endif

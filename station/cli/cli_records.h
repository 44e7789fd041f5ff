/* cli_records.h - small helpers shared by the record commands (run, audit, retry-bin,
 * export, stats): time arguments, database handles, one-line history entries. */
#ifndef ST_CLI_RECORDS_H
#define ST_CLI_RECORDS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "central.h"
#include "db.h"
#include "err.h"

/* A time argument in UTC milliseconds: ISO-8601 ("2024-05-01", "2024-05-01T09:30",
 * "2024-05-01 09:30:15.5Z", seconds optional; UTC unless an offset follows the time:
 * "2026-12-03T07:28+01:00", "+0100", "-05"), "now", or an age back from now ("90m",
 * "24h", "7d"). */
int st_cli_parse_time(const char *s, int64_t *out_ms, st_err *err);

/* The record commands' options, as getopt_long table entries (a command lists those it
 * takes, then {0}), and what they set. */
#define ST_CLI_OPT_DB {"db", required_argument, 0, 'D'}
#define ST_CLI_OPT_RANGE {"since", required_argument, 0, 's'}, {"until", required_argument, 0, 'u'}
#define ST_CLI_OPT_JSON {"json", no_argument, 0, 'j'}
#define ST_CLI_OPT_CSV {"csv", no_argument, 0, 'c'}
#define ST_CLI_OPT_ALL {"all", no_argument, 0, 'a'}
#define ST_CLI_OPT_OUTPUT {"output", required_argument, 0, 'o'} /* also -o */
#define ST_CLI_OPT_HELP {"help", no_argument, 0, 'h'}           /* also -h */
#define ST_CLI_OPT_SERIAL {"serial", required_argument, 0, 'S'}, {"usb-serial", required_argument, 0, 'S'}
/* --central URL|CONF-FILE: answer from the central store (also when $STATION_CENTRAL is
 * set); --local: the local store even then. */
#define ST_CLI_OPT_CENTRAL {"central", required_argument, 0, 'C'}, {"local", no_argument, 0, 'l'}
#define ST_CLI_CENTRAL_HELP                                                                    \
    "  --central URL     answer across all stations from the central store (PostgreSQL);\n"    \
    "                    also when $STATION_CENTRAL is set. No password on the command line:\n" \
    "                    use ~/.pgpass, or a conf file path (mode 0600) instead of the URL\n"    \
    "  --local           this station's records only, even with $STATION_CENTRAL set\n"
typedef struct st_cli_opts {
    const char *db_path;          /* --db; NULL: the default database */
    int64_t since_ms, until_ms;   /* --since / --until; 0: unbounded */
    bool json, csv, all;
    const char *output;           /* -o / --output; NULL: stdout */
    const char *central;          /* --central; NULL: $STATION_CENTRAL unless --local */
    bool local;                   /* --local */
    const char *by;               /* --by (stats --central): station, line or hour */
    const char *serial;           /* --serial / --usb-serial (audit) */
    char **args;                  /* the positional arguments */
    int nargs;
} st_cli_opts;
/* Parse a record command's arguments with the options of longopts and exactly nargs
 * positional ones (nargs < 0: at most -nargs) into *o; o->nargs says how many. Returns -1 to go on, else the exit status to return now: 0
 * after --help (usage(stdout)), 2 after a bad time or a range whose --until is not after
 * its --since (error printed) or a usage error (usage(stderr)). */
int st_cli_parse(const char *prog, int argc, char **argv, const struct option *longopts, int nargs,
                 st_cli_opts *o, int (*usage)(FILE *out));
/* Print "<prog>: <error>" and the hint to stderr. */
void st_cli_print_err(const char *prog, const st_err *e);
/* Open a read-only handle on path (NULL: the default database); prints the error.
 * Returns 0 or the exit status to use (3). */
int st_cli_open_reader(const char *prog, const char *path, st_db **out);
/* The central store for a reading command, when asked for (o->central, else
 * $STATION_CENTRAL unless o->local): *out NULL (and 0) when not asked for; else 0 with
 * the connection, or the exit status to use (3, error printed). */
int st_cli_open_central(const char *prog, const st_cli_opts *o, st_central **out);
/* One line of a unit's history (exactly one of a, b non-NULL), for audit and the
 * dashboard's detail view. */
void st_cli_history_line(const st_db_attempt *a, const st_db_bin_entry *b, char *buf, size_t cap);
/* o as one compact JSON line on stdout, then released; o may be NULL (nothing printed). */
void st_cli_put_json(json_t *o);
/* "01 07 00 00" (or "" without status bytes) into buf (>= 12 bytes). */
void st_cli_status_hex(const uint8_t *status, int n, char *buf, size_t cap);

#endif

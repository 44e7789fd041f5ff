/* cli_repair.h - what the repair-bench commands besides flash (identify, read, erase,
 * unprotect) share (cli_repair.c): the options `station flash` has for the port and the
 * records (--port, --db / STATION_DB, --no-record, --operator; --profile for the stub and
 * baud ladder, --profiles-dir, --baud, --no-reset), the record store opened before the
 * unit is touched (no record, no action), the unit work run through st_bench_action and
 * the closing lines. Phases and log lines go to stderr: stdout is the command's result. */
#ifndef ST_CLI_REPAIR_H
#define ST_CLI_REPAIR_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench.h"
#include "db.h"
#include "flash_unit.h"
#include "worker.h"
#include "repair.h"

/* getopt_long entries every repair command takes (values 0x100.. so that a command's
 * own single letters stay free). */
#define ST_CLI_REPAIR_LONGOPTS                                                                 \
    {"port", required_argument, 0, 'p'}, {"db", required_argument, 0, 0x101},                   \
        {"no-record", no_argument, 0, 0x102}, {"operator", required_argument, 0, 0x103},        \
        {"profile", required_argument, 0, 0x104}, {"profiles-dir", required_argument, 0, 0x105}, \
        {"baud", required_argument, 0, 0x106}, {"no-reset", no_argument, 0, 0x107},            \
        {"help", no_argument, 0, 'h'}

#define ST_CLI_REPAIR_USAGE                                                                    \
    "  --port          serial device, pseudo-terminal, socket://HOST:PORT or\n"             \
    "                  rfc2217://HOST:PORT\n"                                              \
    "  --profile       profile name or file: its flasher stub and baud ladder\n"              \
    "  --profiles-dir  ':'-separated directories to look for NAME.ini\n"                       \
    "  --baud          baud rate for the stub (default: the profile's first rate)\n"          \
    "  --no-reset      do not toggle DTR/RTS (unit already in download mode)\n"               \
    "  --db            record store (default $STATION_DB, else\n"                              \
    "                  ~/.local/share/flashstation/station.db); without a writable\n"      \
    "                  store the unit is not touched\n"                                        \
    "  --no-record     bench experiment: WITHOUT any record (said loudly)\n"                   \
    "  --operator      recorded with the attempt (default: the login name)\n"

typedef struct st_cli_repair {
    const char *prog;            /* "station identify" */
    const char *action;          /* "identify" */
    const char *port, *db_path, *operator_arg, *profile, *dirs;
    bool no_record;
    st_flash_opts opts;
    st_fwref *fwr;               /* loaded when --profile was given */
    st_repair_link link;         /* its stub and ladder */
    st_db *db;
    char who[64];
} st_cli_repair;

/* Take one of the common options: 1 taken, 0 not one of them, -1 bad value (printed). */
int st_cli_repair_opt(st_cli_repair *r, int c, const char *arg);
/* After parsing: check --port, load the profile (need_stub: a stub is required), open
 * the record store. 0, or the exit status (2 usage/profile, 3 records; printed). */
int st_cli_repair_setup(st_cli_repair *r, bool need_stub);
/* Run fn through st_bench_action and print the record lines; the exit status: 0 done and
 * recorded, 1 the unit work failed, 3 records. */
int st_cli_repair_run(st_cli_repair *r, st_bench_action_fn fn, void *user, st_flash_report *rep,
                      char *did, size_t cap, st_bench_result *res);
/* A flash offset or size: decimal or 0x hex, optionally K or M (KiB, MiB). 0, or -1 with
 * an error naming what (printed). */
int st_cli_repair_u32(const st_cli_repair *r, const char *what, const char *s, uint32_t *out);
/* Close the store, free the profile. */
void st_cli_repair_done(st_cli_repair *r);
/* The stop flag (SIGINT/SIGTERM) the commands' o.abort points at. */
extern atomic_int st_cli_repair_stop;

#endif

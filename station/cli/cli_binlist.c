/* cli_binlist.c - `station retry-bin`: the units waiting to be reflashed (open entries;
 * with --all the resolved ones too), newest failure first, as a table, CSV or JSON lines.
 * Exit status 0, 2 usage, 3 database unusable. */
#include <stdio.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station retry-bin"

static int usage(FILE *out)
{
    fprintf(out, "usage: station retry-bin [--all] [--csv | --json] [--db PATH]\n"
                 "  --all    include resolved entries\n"
                 "  --csv    CSV with a header row\n"
                 "  --json   one JSON object per line\n"
                 "  --db     record store (default $STATION_DB or the per-user default)\n");
    return out == stdout ? 0 : 2;
}

static int print_row(void *user, const st_db_bin_entry *b)
{
    int *rows = user;
    char t[32], st[16], vp[16];
    st_db_format_time(b->last_fail_ms, t, sizeof t);
    st_cli_status_hex(b->status, b->nstatus, st, sizeof st);
    snprintf(vp, sizeof vp, "%04x:%04x", b->vid, b->pid);
    if ((*rows)++ == 0)
        printf("%-5s %-17s %-24s %-18s %-12s %-11s %-9s %-3s %-8s %s\n", "id", "mac", "last failure",
               "class", "phase", "status", "bridge", "try", "state", "slot / hint");
    printf("%-5lld %-17s %-24s %-18s %-12s %-11s %-9s %-3d %-8s %s %s; %s\n", (long long)b->id,
           *b->mac ? b->mac : "(no MAC)", t, st_fclass_name(b->fclass), st_phase_name(b->phase),
           *st ? st : "-", vp, b->attempts, b->resolved_ms ? "resolved" : "open", b->slot_name, b->port,
           b->hint);
    return 0;
}

int st_cli_binlist(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_OPT_ALL, ST_CLI_OPT_CSV, ST_CLI_OPT_JSON, ST_CLI_OPT_DB, ST_CLI_OPT_HELP, {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, 0, &o, usage);
    if (rc >= 0)
        return rc;
    if (o.csv && o.json)
        return usage(stderr);
    st_db *db;
    if ((rc = st_cli_open_reader(PROG, o.db_path, &db)))
        return rc;
    st_err err;
    int rows = 0;
    if (o.csv || o.json)
        rc = st_db_bin_export(db, stdout, o.csv ? ST_DB_CSV : ST_DB_JSONL, o.all, &err);
    else
        rc = st_db_bin_list(db, o.all, print_row, &rows, &err);
    st_db_close(db);
    if (rc < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    if (!o.csv && !o.json && rows == 0)
        printf("the retry bin is empty%s\n", o.all ? "" : " (no open entries)");
    return 0;
}

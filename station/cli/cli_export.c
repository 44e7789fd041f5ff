/* cli_export.c - `station export`: attempts started in a time range as CSV or JSON lines,
 * to stdout or a file (written to FILE.tmp and renamed, so a failed export leaves no
 * half file). Exit status 0, 1 write error, 2 usage, 3 database unusable. */
#include <stdio.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station export"

static int usage(FILE *out)
{
    fprintf(out, "usage: station export [--since TIME] [--until TIME] (--csv | --json) [-o FILE]\n"
                 "                      [--db PATH]\n"
                 "  --since, --until  ISO-8601 (2026-12-03T07:28Z, 2026-12-03T07:28+01:00; no offset =\n"
                 "                    UTC), \"now\", or an age (24h, 7d); default: everything\n"
                 "  --csv, --json     CSV with a header row, or one JSON object per line\n"
                 "  -o FILE           write to FILE instead of stdout\n"
                 "  --db              record store (default $STATION_DB or the per-user default)\n"
                 ST_CLI_CENTRAL_HELP "\n"
                 "                    (a leading \"station\" column / key; times: server clock)\n");
    return out == stdout ? 0 : 2;
}

int st_cli_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_OPT_RANGE, ST_CLI_OPT_CSV, ST_CLI_OPT_JSON, ST_CLI_OPT_OUTPUT, ST_CLI_OPT_DB, ST_CLI_OPT_CENTRAL, ST_CLI_OPT_HELP,
        {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, 0, &o, usage);
    if (rc >= 0)
        return rc;
    if (o.csv == o.json)
        return usage(stderr);
    st_db *db = NULL;
    st_central *central;
    if ((rc = st_cli_open_central(PROG, &o, &central)))
        return rc;
    if (!central && (rc = st_cli_open_reader(PROG, o.db_path, &db)))
        return rc;
    const char *outpath = o.output; /* written as outpath.tmp, renamed when complete */
    st_err err;
    FILE *f = stdout;
    char tmp[4096];
    if (outpath) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", outpath) >= (int)sizeof tmp || !(f = fopen(tmp, "w"))) {
            fprintf(stderr, PROG ": cannot write %s.tmp\n", outpath);
            st_db_close(db);
            st_central_close(central);
            return 1;
        }
    }
    st_db_format fmt = o.csv ? ST_DB_CSV : ST_DB_JSONL;
    rc = central ? st_central_export(central, f, fmt, o.since_ms, o.until_ms, &err)
                 : st_db_export_attempts(db, f, fmt, o.since_ms, o.until_ms, &err);
    st_db_close(db);
    st_central_close(central);
    if (outpath) {
        if (fclose(f) != 0 && rc == 0)
            rc = st_err_set(&err, ST_E_IO, ST_PH_NONE, "cannot finish writing %s", tmp);
        if (rc == 0 && rename(tmp, outpath) != 0)
            rc = st_err_set(&err, ST_E_IO, ST_PH_NONE, "cannot rename %s to %s", tmp, outpath);
        if (rc < 0)
            remove(tmp);
    } else {
        fflush(stdout);
    }
    if (rc < 0) {
        st_cli_print_err(PROG, &err);
        return err.cat == ST_E_IO ? 1 : 3;
    }
    return 0;
}

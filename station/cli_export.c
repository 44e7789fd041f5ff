/* cli_export.c - `station export`: attempts started in a time range as CSV or JSON lines,
 * to stdout or a file (written to FILE.tmp and renamed, so a failed export leaves no
 * half file). Exit status 0, 1 write error, 2 usage, 3 database unusable. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station export"

static int usage(FILE *out)
{
    fprintf(out, "usage: station export [--since TIME] [--until TIME] (--csv | --json) [-o FILE]\n"
                 "                      [--db PATH]\n"
                 "  --since, --until  UTC ISO-8601 (2024-05-01T09:30Z), \"now\", or an age (24h, 7d);\n"
                 "                    default: everything\n"
                 "  --csv, --json     CSV with a header row, or one JSON object per line\n"
                 "  -o FILE           write to FILE instead of stdout\n"
                 "  --db              record store (default $STATION_DB or the per-user default)\n");
    return out == stdout ? 0 : 2;
}

int st_cli_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"since", required_argument, 0, 's'}, {"until", required_argument, 0, 'u'},
        {"csv", no_argument, 0, 'c'},         {"json", no_argument, 0, 'j'},
        {"output", required_argument, 0, 'o'}, {"db", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *dbpath = NULL, *outpath = NULL;
    int64_t since = 0, until = 0;
    int fmt = -1;
    st_err err;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
        case 'u':
            if (!st_cli_time_opt(PROG, ch, optarg, &since, &until))
                return 2;
            break;
        case 'c': fmt = fmt < 0 ? ST_DB_CSV : 99; break;
        case 'j': fmt = fmt < 0 ? ST_DB_JSONL : 99; break;
        case 'o': outpath = optarg; break;
        case 'D': dbpath = optarg; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc || fmt < 0 || fmt == 99)
        return usage(stderr);
    st_db *db;
    int rc = st_cli_open_reader(PROG, dbpath, &db);
    if (rc)
        return rc;
    FILE *f = stdout;
    char tmp[4096];
    if (outpath) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", outpath) >= (int)sizeof tmp || !(f = fopen(tmp, "w"))) {
            fprintf(stderr, PROG ": cannot write %s.tmp\n", outpath);
            st_db_close(db);
            return 1;
        }
    }
    rc = st_db_export_attempts(db, f, (st_db_format)fmt, since, until, &err);
    st_db_close(db);
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

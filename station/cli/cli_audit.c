/* cli_audit.c - `station audit MAC`: a unit's whole history, newest first: every attempt
 * and every retry-bin entry. Exit status 0 with history, 1 when the MAC was never seen,
 * 2 usage, 3 database unusable. */
#include <stdio.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station audit"

static int usage(FILE *out)
{
    fprintf(out, "usage: station audit MAC [--db PATH] [--json] [--central URL | --local]\n"
                 "  MAC      aa:bb:cc:dd:ee:ff (also upper case, '-' separated or 12 hex digits)\n"
                 "  --db     record store (default $STATION_DB or the per-user default)\n"
                 "  --json   one JSON object per line: kind \"attempt\" or \"bin\", the other\n"
                 "           keys as in station export --json / station retry-bin --json\n"
                 "           (and \"station\" with --central)\n"
                 ST_CLI_CENTRAL_HELP "\n");
    return out == stdout ? 0 : 2;
}

typedef struct {
    bool json;
    int rows;
    st_err err;
    bool failed;
} audit_ctx;

/* A central row: the local forms with the station's name (a "station" key in JSON, a
 * leading [station] in text). */
static int on_central_row(void *user, const char *station, const st_db_attempt *a, const st_db_bin_entry *b)
{
    audit_ctx *c = user;
    c->rows++;
    if (c->json) {
        c->failed = st_central_write_row(stdout, ST_DB_JSONL, station, a, b, a ? "attempt" : "bin", &c->err) < 0;
        return c->failed;
    }
    char line[1400];
    st_cli_history_line(a, b, line, sizeof line);
    printf("[%s] %s\n", station, line);
    return 0;
}

static int on_row(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    audit_ctx *c = user;
    c->rows++;
    if (c->json) {
        /* the keys of `station export --json` / `station retry-bin --json`, plus "kind" */
        int rc = a ? st_db_write_attempt(stdout, ST_DB_JSONL, a, "attempt", false, &c->err)
                   : st_db_write_bin(stdout, ST_DB_JSONL, b, "bin", false, &c->err);
        c->failed = rc < 0;
        return c->failed;
    }
    char line[1400];
    st_cli_history_line(a, b, line, sizeof line);
    puts(line);
    /* A unit that did not boot: what its console said, line by line. */
    for (const char *l = a ? a->boot_console : ""; *l;) {
        size_t n = strcspn(l, "\n");
        printf("    console | %.*s\n", (int)n, l);
        l += n + (l[n] == '\n');
    }
    return 0;
}

int st_cli_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_OPT_DB, ST_CLI_OPT_JSON, ST_CLI_OPT_CENTRAL, ST_CLI_OPT_HELP, {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, 1, &o, usage);
    if (rc >= 0)
        return rc;
    st_err err;
    char mac[18];
    if (st_db_mac_normalize(o.args[0], mac, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    audit_ctx c = {.json = o.json};
    st_central *central;
    if ((rc = st_cli_open_central(PROG, &o, &central)))
        return rc;
    if (central) {
        rc = st_central_audit(central, mac, on_central_row, &c, &err);
        st_central_close(central);
        if (rc < 0 || c.failed) {
            st_cli_print_err(PROG, c.failed ? &c.err : &err);
            return 3;
        }
        if (c.rows == 0) {
            fprintf(stderr, PROG ": no records for %s on any station\n", mac);
            return 1;
        }
        return 0;
    }
    st_db *db;
    if ((rc = st_cli_open_reader(PROG, o.db_path, &db)))
        return rc;
    if (st_db_audit(db, mac, on_row, &c, &err) < 0 || c.failed) {
        st_cli_print_err(PROG, c.failed ? &c.err : &err);
        st_db_close(db);
        return 3;
    }
    st_db_close(db);
    if (c.rows == 0) {
        fprintf(stderr, PROG ": no records for %s\n", mac);
        return 1;
    }
    return 0;
}

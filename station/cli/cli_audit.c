/* cli_audit.c - `station audit`: a unit's whole history, newest first: every attempt and
 * every retry-bin entry; the unit named by its MAC, by the last bytes of its MAC as a
 * label prints them (every unit that matches, each with its history), or by a serial
 * number (its bridge's USB serial, or the serial the station gave it); optionally only
 * what happened in a time range. Exit status 0 with history, 1 when nothing matched,
 * 2 usage, 3 database unusable. */
#include <stdio.h>
#include <string.h>

#include "cli_records.h"
#include "text.h"

#define PROG "station audit"

static int usage(FILE *out)
{
    fprintf(out, "usage: station audit (MAC | MAC-END | --serial TEXT) [--since TIME] [--until TIME]\n"
                 "                     [--db PATH] [--json] [--central URL | --local]\n"
                 "  MAC           aa:bb:cc:dd:ee:ff (also upper case, '-' separated or 12 hex digits)\n"
                 "  MAC-END       the last bytes of the MAC as printed on a label (5a:40:01): every\n"
                 "                unit whose MAC ends so, each with its history\n"
                 "  --serial TEXT units flashed through a USB bridge with this serial number, or\n"
                 "                given this serial by the station (also --usb-serial)\n"
                 "  --since, --until  only what happened in this range: ISO-8601 (2026-12-03T07:28,\n"
                 "                2026-12-03T07:28:15Z, 2026-12-03T07:28+01:00; no offset = UTC),\n"
                 "                \"now\", or an age (24h, 7d)\n"
                 "  --db          record store (default $STATION_DB or the per-user default)\n"
                 "  --json        one JSON object per line: kind \"attempt\" or \"bin\", the other\n"
                 "                keys as in station export --json / station retry-bin --json\n"
                 "                (and \"station\" with --central)\n"
                 ST_CLI_CENTRAL_HELP "\n");
    return out == stdout ? 0 : 2;
}

typedef struct {
    bool json;
    bool headers;             /* several units may match: a heading before each */
    int rows, units;
    st_err err;
    bool failed;
} audit_ctx;

static int on_unit(void *user, const char *mac)
{
    audit_ctx *c = user;
    if (c->headers && !c->json)
        printf("%sunit %s\n", c->units ? "\n" : "", *mac ? mac : "(MAC never read)");
    c->units++;
    return 0;
}

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
    char line[1400], name[128];
    st_cli_history_line(a, b, line, sizeof line);
    snprintf(name, sizeof name, "%s", station);
    printf("[%s] %s\n", st_text_clean(name), line);
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
        char cl[1024];
        snprintf(cl, sizeof cl, "%.*s", (int)n, l);
        printf("    console | %s\n", st_text_clean(cl));
        l += n + (l[n] == '\n');
    }
    return 0;
}

int st_cli_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_OPT_DB, ST_CLI_OPT_JSON, ST_CLI_OPT_RANGE, ST_CLI_OPT_SERIAL, ST_CLI_OPT_CENTRAL, ST_CLI_OPT_HELP,
        {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, -1, &o, usage);
    if (rc >= 0)
        return rc;
    if ((o.nargs == 1) == (o.serial != NULL)) {
        fprintf(stderr, PROG ": name the unit by its MAC (or the MAC's last bytes) or by --serial, one of them\n");
        return usage(stderr);
    }
    st_err err;
    st_db_unit_query q;
    char what[128];
    if (o.serial) {
        memset(&q, 0, sizeof q);
        if (!*o.serial || strlen(o.serial) >= sizeof q.serial) {
            fprintf(stderr, PROG ": --serial takes a serial number of 1 to %zu characters\n", sizeof q.serial - 1);
            return 2;
        }
        snprintf(q.serial, sizeof q.serial, "%s", o.serial);
        snprintf(what, sizeof what, "serial %s", q.serial);
    } else {
        if (st_db_unit_query_parse(o.args[0], &q, &err) < 0) {
            st_cli_print_err(PROG, &err);
            return 2;
        }
        snprintf(what, sizeof what, "%s%s", q.suffix ? "a MAC ending in " : "", q.mac);
    }
    st_text_clean(what);
    audit_ctx c = {.json = o.json, .headers = q.suffix || *q.serial};
    st_central *central;
    if ((rc = st_cli_open_central(PROG, &o, &central)))
        return rc;
    bool across = central != NULL;
    if (central) {
        rc = st_central_audit_query(central, &q, o.since_ms, o.until_ms, on_unit, on_central_row, &c, &err);
        st_central_close(central);
    } else {
        st_db *db;
        if ((rc = st_cli_open_reader(PROG, o.db_path, &db)))
            return rc;
        rc = st_db_audit_query(db, &q, o.since_ms, o.until_ms, on_unit, on_row, &c, &err);
        st_db_close(db);
    }
    if (rc < 0 || c.failed) {
        st_cli_print_err(PROG, c.failed ? &c.err : &err);
        return 3;
    }
    if (c.rows == 0) {
        fprintf(stderr, PROG ": no records for %s%s%s\n", what, o.since_ms || o.until_ms ? " in that time range" : "",
                across ? " on any station" : "");
        return 1;
    }
    if (c.headers && !c.json)
        printf("\n%d unit%s for %s\n", c.units, c.units == 1 ? "" : "s", what);
    return 0;
}

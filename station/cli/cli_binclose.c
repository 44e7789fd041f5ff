/* cli_binclose.c - `station retry-bin close MAC --reason TEXT`: a unit leaves the retry
 * bin without a pass (scrapped, sent back to the supplier). The closing is recorded on
 * the entry (who, when, why, which station) and shown by retry-bin --all and audit; it
 * ships to the central store like every bin change. Exit status 0 closed, 1 no open
 * entry for the MAC, 2 usage (no reason, bad MAC), 3 database unusable. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_records.h"
#include "who.h"

#define PROG "station retry-bin close"

static int usage(FILE *out)
{
    fprintf(out, "usage: station retry-bin close MAC --reason TEXT [--operator NAME] [--db PATH]\n"
                 "  MAC         the unit (aa:bb:cc:dd:ee:ff, upper case, '-' or 12 hex digits)\n"
                 "  --reason    why it leaves the bin without a pass (required: \"scrapped:\n"
                 "              cracked case\", \"returned to supplier, RMA 4411\")\n"
                 "  --operator  who closes it (default: the login name)\n"
                 "  --db        record store (default $STATION_DB or the per-user default)\n"
                 "The entry stays in the records: station retry-bin --all and station audit MAC\n"
                 "show when, by whom, on which station and why it was closed.\n");
    return out == stdout ? 0 : 2;
}

int st_cli_binclose(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"reason", required_argument, 0, 'r'},
        {"operator", required_argument, 0, 'o'},
        {"db", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *reason = NULL, *op = NULL, *db_path = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': reason = optarg; break;
        case 'o': op = optarg; break;
        case 'D': db_path = optarg; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (argc - optind != 1)
        return usage(stderr);
    st_err err;
    char mac[18];
    if (st_db_mac_normalize(argv[optind], mac, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    if (!reason || !reason[strspn(reason, " \t\r\n")]) {
        fprintf(stderr, PROG ": a reason is required (--reason TEXT: why %s leaves the bin "
                        "without a pass)\n", mac);
        return 2;
    }
    char who[64];
    st_who_operator(op, who, sizeof who);
    st_db *db;
    if (st_db_open(db_path, NULL, &db, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    st_db_bin_entry e;
    int rc = st_db_bin_close(db, mac, reason, who, &e, &err);
    st_db_close(db);
    if (rc < 0) {
        st_cli_print_err(PROG, &err);
        return err.cat == ST_E_ARG ? 1 : 3;
    }
    char t[32], line[1400];
    st_db_format_time(e.resolved_ms, t, sizeof t);
    st_cli_history_line(NULL, &e, line, sizeof line);
    printf("closed retry-bin entry #%lld of %s at %s\n%s\n", (long long)e.id, mac, t, line);
    return 0;
}

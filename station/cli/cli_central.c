/* cli_central.c - `station central init|sync|status`: create the factory's central store
 * (PostgreSQL), ship this station's backlog by hand with a progress bar, and say how far
 * shipping has got. The connection string comes from the argument (no password allowed
 * there), $STATION_CENTRAL or the conf file (central.h). Exit status 0, 2 usage, 3 the
 * local database cannot be read, 4 the central store refused or is unreachable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "central.h"
#include "cli_records.h"

#define PROG "station central"

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station central init [URL]\n"
            "       station central sync [--central URL] [--db PATH] [--batch N]\n"
            "       station central status [--central URL] [--db PATH]\n"
            "  init     create or migrate the central schema (run it with the schema owner's role)\n"
            "  sync     ship every record not yet in the central store, with a progress bar\n"
            "  status   records waiting, the station's identity and its clock offset\n"
            "  URL      postgresql://USER@HOST[:PORT]/DB[?sslmode=verify-full]; without it:\n"
            "           $STATION_CENTRAL, else %s ($STATION_CENTRAL_CONF), mode 0600.\n"
            "           A password is refused on the command line: use the file, the\n"
            "           environment or ~/.pgpass\n"
            "  --db     the station's record store (default $STATION_DB or the per-user default)\n"
            "  --batch  rows per central transaction (default 1000)\n",
            ST_CENTRAL_CONF_DEFAULT);
    return out == stdout ? 0 : 2;
}

static int connect_central(const char *given, st_central **c)
{
    char conn[ST_CENTRAL_MAX];
    st_central_src src;
    st_err err;
    if (st_central_conninfo(given, conn, sizeof conn, &src, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 4;
    }
    if (src == ST_CENTRAL_NONE) {
        fprintf(stderr, PROG ": no central store configured\n  hint: give its URL, set STATION_CENTRAL, "
                             "or write it to %s (mode 0600)\n", ST_CENTRAL_CONF_DEFAULT);
        return 4;
    }
    if (st_central_open(conn, c, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 4;
    }
    return 0;
}

static int cmd_init(const char *given)
{
    st_central *c;
    int rc = connect_central(given, &c);
    if (rc)
        return rc;
    st_err err;
    int before = 0, after = 0;
    if (st_central_schema_version(c, &before, &err) < 0 || st_central_init(c, &err) < 0 ||
        st_central_schema_version(c, &after, &err) < 0) {
        st_cli_print_err(PROG, &err);
        st_central_close(c);
        return 4;
    }
    st_central_close(c);
    if (before == after)
        printf("central store: schema v%d already current\n", after);
    else
        printf("central store: schema v%d created (was v%d)\n", after, before);
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(int64_t done, int64_t total, double t0, bool tty, bool final)
{
    double el = mono_s() - t0, rate = el > 0 ? done / el : 0;
    int w = 30, fill = total > 0 ? (int)(w * done / total) : w;
    if (fill > w)
        fill = w;
    char bar[64];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(w - fill));
    bar[w] = '\0';
    fprintf(stderr, "%s[%s] %lld/%lld records  %.0f/s%s", tty ? "\r" : "", bar, (long long)done,
            (long long)total, rate, tty && !final ? "" : "\n");
    fflush(stderr);
}

/* Connect, attach the station of db; prints errors. */
static int attach(const st_cli_opts *o, st_db **db, st_central **c, st_central_station *st)
{
    int rc = st_cli_open_reader(PROG, o->db_path, db);
    if (rc)
        return rc;
    st_err err;
    if (st_central_station_of(*db, st, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    if ((rc = connect_central(o->central, c)))
        return rc;
    if (st_central_attach(*c, st, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 4;
    }
    return 0;
}

static int cmd_sync(const st_cli_opts *o, int batch)
{
    st_db *db = NULL;
    st_central *c = NULL;
    st_central_station st;
    int rc = attach(o, &db, &c, &st);
    st_err err;
    int64_t total = 0, done = 0;
    if (rc == 0 && st_central_waiting(c, db, &total, &err) < 0) {
        st_cli_print_err(PROG, &err);
        rc = 3;
    }
    if (rc == 0) {
        bool tty = isatty(2);
        double t0 = mono_s();
        fprintf(stderr, "shipping %lld records of station %s (%s) to %s\n", (long long)total, st.name, st.uuid,
                "the central store");
        st_central_progress p = {0};
        int64_t offset = 0;
        for (;;) {
            if (st_central_ship(c, db, batch, &p, &err) < 0) {
                if (tty)
                    fputc('\n', stderr);
                st_cli_print_err(PROG, &err);
                fprintf(stderr, PROG ": %lld records shipped before the error, %lld still waiting; "
                                "nothing is lost: run it again\n", (long long)done, (long long)(total - done));
                rc = 4;
                break;
            }
            done += p.shipped;
            if (p.shipped)
                offset = p.clock_offset_ms;
            if (done + p.waiting > total)
                total = done + p.waiting; /* the line kept recording meanwhile */
            if (p.shipped == 0)
                break;
            if (tty)
                progress(done, total, t0, tty, false);
        }
        if (rc == 0) {
            progress(done, total, t0, tty, true);
            if (offset > ST_CENTRAL_SKEW_WARN_MS || offset < -ST_CENTRAL_SKEW_WARN_MS)
                fprintf(stderr, PROG ": warning: this station's clock is %.0f s %s the central server's; "
                                "central ordering uses the server's time\n",
                        llabs(offset) / 1000.0, offset < 0 ? "ahead of" : "behind");
            printf("synced: %lld records shipped, 0 waiting\n", (long long)done);
        }
    }
    st_central_close(c);
    st_db_close(db);
    return rc;
}

static int cmd_status(const st_cli_opts *o)
{
    st_db *db = NULL;
    st_central *c = NULL;
    st_central_station st;
    int rc = attach(o, &db, &c, &st);
    st_err err;
    int64_t waiting = 0;
    if (rc == 0 && st_central_waiting(c, db, &waiting, &err) < 0) {
        st_cli_print_err(PROG, &err);
        rc = 3;
    }
    if (rc == 0)
        printf("station %s (%s%s%s): %lld records waiting\n", st.name, st.uuid, *st.line ? ", line " : "",
               st.line, (long long)waiting);
    st_central_close(c);
    st_db_close(db);
    return rc;
}

int st_cli_central(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
        return usage(stdout);
    if (!strcmp(sub, "init")) {
        if (argc > 3 || (argc == 3 && argv[2][0] == '-'))
            return argc == 3 && !strcmp(argv[2], "--help") ? usage(stdout) : usage(stderr);
        return cmd_init(argc == 3 ? argv[2] : NULL);
    }
    if (strcmp(sub, "sync") && strcmp(sub, "status")) {
        fprintf(stderr, PROG ": unknown subcommand '%s'\n", sub);
        return usage(stderr);
    }
    static const struct option longopts[] = {
        ST_CLI_OPT_DB, {"central", required_argument, 0, 'C'}, {"batch", required_argument, 0, 'b'},
        ST_CLI_OPT_HELP, {0, 0, 0, 0},
    };
    st_cli_opts o = {0};
    int batch = 1000, ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'D': o.db_path = optarg; break;
        case 'C': o.central = optarg; break;
        case 'b':
            batch = atoi(optarg);
            if (batch < 1 || batch > 100000)
                return usage(stderr);
            break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc - 1)
        return usage(stderr);
    return !strcmp(sub, "sync") ? cmd_sync(&o, batch) : cmd_status(&o);
}

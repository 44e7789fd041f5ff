/* cli_binlist.c - `station retry-bin`: the units waiting to be reflashed (open entries;
 * with --all the resolved and closed ones too), newest failure first, as a table, CSV or
 * JSON lines. Exit status 0, 2 usage, 3 database unusable. `station retry-bin close` is
 * cli_binclose.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_records.h"
#include "text.h"

#define PROG "station retry-bin"

static int usage(FILE *out)
{
    fprintf(out, "usage: station retry-bin [--all] [--csv | --json] [--db PATH] [--central URL | --local]\n"
                 "       station retry-bin close MAC --reason TEXT [--operator NAME] [--db PATH]\n"
                 "  --all    include resolved entries and those closed by hand (with the reason)\n"
                 "  close    take a unit out of the bin without a pass (scrapped, sent back)\n"
                 "  --csv    CSV with a header row\n"
                 "  --json   one JSON object per line\n"
                 "  --db     record store (default $STATION_DB or the per-user default)\n"
                 ST_CLI_CENTRAL_HELP "\n"
                 "           (the central bin: units whose latest attempt anywhere failed)\n"
                 "The local view asks the configured central store (STATION_CENTRAL with\n"
                 "--local, or central.conf) whether a binned unit has since passed on another\n"
                 "station: such a unit is not waiting here (--all lists it as passed elsewhere).\n");
    return out == stdout ? 0 : 2;
}

/* One table row; state "open", "resolved", "closed" (by hand: the reason and who stand
 * where the hint would), or "passed elsewhere" (the central store knows a later pass on
 * another station). */
static void print_row(int *rows, const char *station, const st_db_bin_entry *b, const char *state)
{
    char t[32], st[16], vp[16];
    st_db_format_time(b->last_fail_ms, t, sizeof t);
    st_cli_status_hex(b->status, b->nstatus, st, sizeof st);
    snprintf(vp, sizeof vp, "%04x:%04x", b->vid, b->pid);
    if ((*rows)++ == 0)
        printf("%s%-5s %-17s %-24s %-18s %-12s %-11s %-9s %-3s %-8s %s\n", station ? "station          " : "",
               "id", "mac", "last failure", "class", "phase", "status", "bridge", "try", "state", "slot / hint");
    /* slot, port, hint and station name may carry device text: no control character
     * reaches the terminal */
    char line[1200];
    size_t n = 0;
    if (station)
        n = (size_t)snprintf(line, sizeof line, "%-16s ", station);
    snprintf(line + n, sizeof line - n, "%-5lld %-17s %-24s %-18s %-12s %-11s %-9s %-3d %-8s %s %s; %s",
             (long long)b->id, *b->mac ? b->mac : "(no MAC)", t, st_fclass_name(b->fclass),
             st_phase_name(b->phase), *st ? st : "-", vp, b->attempts, state, b->slot_name, b->port, b->hint);
    puts(st_text_clean(line));
    if (b->closed_reason[0]) {
        snprintf(line, sizeof line, "%s%*sclosed by %s@%s: %s", station ? "                 " : "", 6, "",
                 b->closed_by[0] ? b->closed_by : "-", b->closed_host[0] ? b->closed_host : "-", b->closed_reason);
        puts(st_text_clean(line));
    }
}

typedef struct {
    st_db_bin_entry *v;
    int n, cap;
} bin_list;

static int collect(void *user, const st_db_bin_entry *b)
{
    bin_list *l = user;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 32;
        st_db_bin_entry *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return 1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *b;
    return 0;
}

static int print_central(void *user, const char *station, const st_db_bin_entry *b)
{
    print_row(user, station, b, "open");
    return 0;
}

/* What the central store says of the local entries: the pass that settled entry i
 * elsewhere (passed false: none known). */
typedef struct {
    const bin_list *l;
    st_central_pass *pass;
} elsewhere_ctx;

static int note_elsewhere(void *user, const st_db_bin_entry *e, const st_central_pass *p)
{
    elsewhere_ctx *x = user;
    for (int i = 0; i < x->l->n; i++)
        if (x->l->v[i].id == e->id && x->l->v[i].last_fail_ms == e->last_fail_ms)
            x->pass[i] = *p;
    return 0;
}

/* Which open local entries passed on another station since their last failure here
 * (best effort: without a configured and reachable central store every entry stays as
 * the local store has it, and stderr says so). */
static void ask_central(st_db *db, const bin_list *l, st_central_pass *pass)
{
    char conn[ST_CENTRAL_MAX];
    st_central_src src;
    st_err err;
    if (st_central_conninfo(NULL, conn, sizeof conn, &src, &err) < 0) {
        fprintf(stderr, PROG ": note: %s (showing this station's view)\n", err.msg);
        return;
    }
    if (src == ST_CENTRAL_NONE)
        return;
    st_central *c = NULL;
    elsewhere_ctx x = {l, pass};
    if (st_central_open(conn, &c, &err) < 0)
        fprintf(stderr, PROG ": note: central store not reachable (%s); showing this station's view\n", err.msg);
    else if (st_central_bin_elsewhere(c, db, note_elsewhere, &x, &err) < 0)
        fprintf(stderr, PROG ": note: %s (showing this station's view)\n", err.msg);
    st_central_close(c);
}

/* The local rows: a table (an entry that passed elsewhere is no longer waiting: listed
 * only with --all, as "passed elsewhere"; a note names it), or CSV / JSON lines (with
 * --all it comes resolved by the other station's pass, resolved_by 0, as the central
 * store shows it; without, it is left out). */
static int print_local(const st_cli_opts *o, const bin_list *l, const st_central_pass *pass, int *rows,
                       st_err *err)
{
    st_db_format fmt = o->csv ? ST_DB_CSV : ST_DB_JSONL;
    bool table = !o->csv && !o->json, header = true;
    int away = 0;
    for (int i = 0; i < l->n; i++) {
        st_db_bin_entry e = l->v[i];
        bool elsewhere = pass[i].passed && !e.resolved_ms;
        away += elsewhere;
        if (elsewhere && !o->all)
            continue;
        if (table) {
            print_row(rows, NULL, &e,
                      e.closed_reason[0] ? "closed" : e.resolved_ms ? "resolved" : elsewhere ? "passed elsewhere" : "open");
            continue;
        }
        if (elsewhere) {
            e.resolved_ms = pass[i].at_ms;
            e.resolved_by = 0;
        }
        if (st_db_write_bin(stdout, fmt, &e, NULL, header && fmt == ST_DB_CSV, err) < 0)
            return -1;
        header = false;
    }
    if (!table)
        return header && fmt == ST_DB_CSV ? st_db_write_bin(stdout, fmt, NULL, NULL, true, err) : 0;
    for (int i = 0; i < l->n && !o->all; i++)
        if (pass[i].passed && !l->v[i].resolved_ms) {
            char t[32];
            st_db_format_time(pass[i].at_ms, t, sizeof t);
            char line[400];
            snprintf(line, sizeof line, "%s passed on %s at %s, after its failure here: not waiting (--all lists it)",
                     l->v[i].mac, pass[i].station, t);
            puts(st_text_clean(line));
        }
    if (*rows == 0 && away)
        printf("no unit waits here: %d passed on another station since\n", away);
    else if (*rows == 0)
        printf("the retry bin is empty%s\n", o->all ? "" : " (no open entries)");
    return 0;
}

int st_cli_binclose(int argc, char **argv);

int st_cli_binlist(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "close"))
        return st_cli_binclose(argc - 1, argv + 1);
    static const struct option longopts[] = {
        ST_CLI_OPT_ALL, ST_CLI_OPT_CSV, ST_CLI_OPT_JSON, ST_CLI_OPT_DB, ST_CLI_OPT_CENTRAL, ST_CLI_OPT_HELP,
        {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, 0, &o, usage);
    if (rc >= 0)
        return rc;
    if (o.csv && o.json)
        return usage(stderr);
    st_err err;
    int rows = 0;
    st_central *central;
    if ((rc = st_cli_open_central(PROG, &o, &central)))
        return rc;
    if (central) {
        if (o.csv || o.json)
            rc = st_central_bin_export(central, stdout, o.csv ? ST_DB_CSV : ST_DB_JSONL, &err);
        else
            rc = st_central_bin_list(central, print_central, &rows, &err);
        st_central_close(central);
        if (rc < 0) {
            st_cli_print_err(PROG, &err);
            return 3;
        }
        if (!o.csv && !o.json && rows == 0)
            printf("the central retry bin is empty\n");
        return 0;
    }
    st_db *db;
    if ((rc = st_cli_open_reader(PROG, o.db_path, &db)))
        return rc;
    bin_list l = {0};
    rc = st_db_bin_list(db, o.all, collect, &l, &err);
    st_central_pass *pass = rc == 0 ? calloc((size_t)l.n + 1, sizeof *pass) : NULL;
    if (rc == 0 && !pass)
        rc = st_err_set(&err, ST_E_NOMEM, ST_PH_DB, "out of memory for the retry bin");
    if (rc == 0 && l.n)
        ask_central(db, &l, pass);
    if (rc == 0)
        rc = print_local(&o, &l, pass, &rows, &err);
    free(pass);
    free(l.v);
    st_db_close(db);
    if (rc < 0) {
        st_cli_print_err(PROG, &err);
        return 3;
    }
    return 0;
}

/* cli_erase.c - `station erase --port P (--region O S | --all) [--yes]`: erase through the
 * stub (ERASE_REGION, 4 KiB aligned; ERASE_FLASH for --all) and prove the range reads
 * back erased (repair.h st_repair_erase). Asks on the terminal unless --yes, and refuses
 * without --yes when stdin is no terminal. Recorded like `station flash` (action erase).
 * Exit 0 erased and recorded, 1 the erase failed or was not confirmed, 2 usage, 3
 * records. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_repair.h"

#define PROG "station erase"

static int usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --port PATH --profile NAME (--region OFFSET SIZE | --all)\n"
                 "                     [--yes] [--db PATH | --no-record] [--operator NAME]\n"
                 "  erase the unit's flash through the flasher stub, then check it reads erased\n"
                 "  --region O S    OFFSET and SIZE, multiples of 4 KiB (0x9000 0x5000, 36K 20K)\n"
                 "  --all           the whole chip\n"
                 "  --yes           do not ask (needed when stdin is not a terminal)\n" ST_CLI_REPAIR_USAGE);
    return out == stdout ? 0 : 2;
}

typedef struct job {
    const st_cli_repair *r;
    uint32_t off, len;
    bool all;
} job;

static int work(void *user, const st_flash_opts *o, st_flash_report *rep, char *did, size_t cap,
                st_err *err)
{
    job *j = user;
    uint32_t eo, el;
    int rc = st_repair_erase(j->r->port, o, &j->r->link, j->off, j->len, j->all, rep, &eo, &el, err);
    if (rc == 0)
        snprintf(did, cap, "erased %s0x%x+0x%x, reads back erased (MD5 of 0xFF)",
                 j->all ? "the whole chip " : "", eo, el);
    else if (el)
        snprintf(did, cap, "erased 0x%x+0x%x, but it does not read back erased", eo, el);
    else
        snprintf(did, cap, "nothing erased (%s)", j->all ? "whole chip asked" : "region asked");
    return rc;
}

/* On a terminal: the technician types "yes". */
static bool confirmed(const job *j, const char *port)
{
    if (j->all)
        fprintf(stderr, "Erase the WHOLE flash of the unit on %s? This cannot be undone. Type yes: ", port);
    else
        fprintf(stderr, "Erase 0x%x bytes at 0x%x on the unit on %s? This cannot be undone. Type yes: ",
                j->len, j->off, port);
    fflush(stderr);
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return false;
    line[strcspn(line, "\r\n")] = 0;
    return !strcmp(line, "yes");
}

int st_cli_erase(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_REPAIR_LONGOPTS, {"region", required_argument, 0, 'r'}, {"all", no_argument, 0, 'A'},
        {"yes", no_argument, 0, 'y'}, {0, 0, 0, 0},
    };
    st_cli_repair r = {.prog = PROG, .action = "erase"};
    job j = {.r = &r};
    bool region = false, yes = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:hy", longopts, NULL)) != -1) {
        int t = st_cli_repair_opt(&r, c, optarg);
        if (t < 0)
            return 2;
        if (t)
            continue;
        switch (c) {
        case 'r':
            /* --region OFFSET SIZE: the size is the next word */
            if (optind >= argc || argv[optind][0] == '-') {
                fprintf(stderr, PROG ": --region takes OFFSET and SIZE (--region 0x9000 0x5000)\n");
                return 2;
            }
            if (st_cli_repair_u32(&r, "--region offset", optarg, &j.off) < 0 ||
                st_cli_repair_u32(&r, "--region size", argv[optind++], &j.len) < 0)
                return 2;
            region = true;
            break;
        case 'A': j.all = true; break;
        case 'y': yes = true; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    if (region == j.all) {
        fprintf(stderr, PROG ": give --region OFFSET SIZE or --all (one of them)\n");
        return 2;
    }
    if (region && (j.len == 0 || ((j.off | j.len) & 0xFFF))) {
        fprintf(stderr, PROG ": --region 0x%x 0x%x: offset and size must be multiples of 4 KiB "
                        "(0x1000) and the size not 0: flash erases whole sectors\n", j.off, j.len);
        return 2;
    }
    if (!r.port) {
        fprintf(stderr, PROG ": --port PATH is required (the unit's serial port)\n");
        return 2;
    }
    if (!yes) {
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr, PROG ": refusing to erase without --yes: stdin is not a terminal, so "
                            "nobody can confirm (add --yes in scripts)\n");
            return 2;
        }
        if (!confirmed(&j, r.port)) {
            fprintf(stderr, PROG ": not confirmed: nothing erased\n");
            return 1;
        }
    }
    int status = st_cli_repair_setup(&r, true);
    if (status)
        return status;
    st_flash_report rep;
    st_bench_result res;
    char did[320];
    status = st_cli_repair_run(&r, work, &j, &rep, did, sizeof did, &res);
    if (res.verified)
        printf("%s\n", did);
    st_cli_repair_done(&r);
    return status;
}

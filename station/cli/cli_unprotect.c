/* cli_unprotect.c - `station unprotect --port P [--nv]`: clear the flash status
 * registers' write protection (BP, TB, SEC, CMP, SRP, WPS) as `station flash --unprotect`
 * does, on its own (repair.h st_repair_unprotect): a volatile write (lost at power-off),
 * with --nv then a non-volatile one if the volatile write did not hold; read back and
 * recorded (action unprotect) with what changed. Exit 0 the flash is unprotected (or
 * was) and recorded, 1 still protected or the unit failed, 2 usage, 3 records. */
#include <stdio.h>

#include "cli_repair.h"
#include "detect.h"

#define PROG "station unprotect"

static int usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --port PATH [--nv] [--db PATH | --no-record]\n"
                 "                         [--operator NAME]\n"
                 "  clear the flash's write protection (status registers), read them back\n"
                 "  --nv            if the volatile write does not hold, write the registers\n"
                 "                  non-volatile (survives a power cycle)\n" ST_CLI_REPAIR_USAGE);
    return out == stdout ? 0 : 2;
}

typedef struct job {
    const char *port;
    bool nv;
} job;

static int work(void *user, const st_flash_opts *o, st_flash_report *rep, char *did, size_t cap,
                st_err *err)
{
    job *j = user;
    int rc = st_repair_unprotect(j->port, o, j->nv, rep, err);
    const uint8_t *b = rep->chip.flash_sr, *a = rep->flash_sr_after;
    if (!rep->chip.flash_sr_known)
        snprintf(did, cap, "status registers not read");
    else if (!rep->unprotected)
        snprintf(did, cap, "status SR1 0x%02x SR2 0x%02x SR3 0x%02x protect nothing: nothing written",
                 b[0], b[1], b[2]);
    else
        snprintf(did, cap, "status SR1 0x%02x SR2 0x%02x SR3 0x%02x -> SR1 0x%02x SR2 0x%02x SR3 0x%02x "
                 "(%s write%s)%s", b[0], b[1], b[2], a[0], a[1], a[2],
                 j->nv ? "volatile, then non-volatile if needed" : "volatile",
                 j->nv ? "s" : "", rc == 0 ? "" : ": still protected");
    return rc;
}

int st_cli_unprotect(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_REPAIR_LONGOPTS, {"nv", no_argument, 0, 'n'}, {0, 0, 0, 0},
    };
    st_cli_repair r = {.prog = PROG, .action = "unprotect"};
    job j = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
        int t = st_cli_repair_opt(&r, c, optarg);
        if (t < 0)
            return 2;
        if (t)
            continue;
        if (c == 'n')
            j.nv = true;
        else if (c == 'h')
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (optind != argc)
        return usage(stderr);
    int status = st_cli_repair_setup(&r, false);
    if (status)
        return status;
    j.port = r.port;
    st_flash_report rep;
    st_bench_result res;
    char did[320];
    status = st_cli_repair_run(&r, work, &j, &rep, did, sizeof did, &res);
    if (rep.chip.flash_sr_known)
        printf("%s\n", did);
    st_cli_repair_done(&r);
    return status;
}

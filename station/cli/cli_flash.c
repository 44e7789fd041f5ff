/* cli_flash.c - `station flash`: load and check a profile, flash one unit, print each
 * phase, what the unit is, the figures and the MD5 result per region. Exit status 0
 * only when every region verified; 1 when the unit failed; 2 for usage/profile errors. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_paths.h"
#include "flash_unit.h"
#include "image.h"
#include "profile.h"


/* Set by SIGINT/SIGTERM; the flash stops at the next block. */
static atomic_int g_stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, 1);
}

typedef struct cli_state {
    st_phase phase;
    int last_pct;
} cli_state;

static void on_progress(void *user, st_phase ph, uint64_t done, uint64_t total)
{
    cli_state *s = user;
    if (ph != s->phase) {
        s->phase = ph;
        s->last_pct = -1;
        printf("[%s]\n", st_phase_name(ph));
    }
    if (ph == ST_PH_WRITE && total) {
        int pct = (int)(done * 100 / total);
        if (pct / 10 != s->last_pct / 10 || (pct == 100 && s->last_pct != 100)) {
            printf("  write %3d%% (%llu / %llu compressed bytes)\n", pct,
                   (unsigned long long)done, (unsigned long long)total);
            s->last_pct = pct;
        }
    }
    fflush(stdout);
}

static void on_log(void *user, const char *line)
{
    (void)user;
    printf("  %s\n", line);
    fflush(stdout);
}

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station flash --port PATH --profile NAME_OR_PATH [--baud N] [--no-stub]\n"
            "                     [--no-reset] [--profiles-dir DIR] [--cache-dir DIR]\n"
            "  --port          serial device, pseudo-terminal or socket://HOST:PORT\n"
            "  --profile       profile name (looked up in the profile directories) or file\n"
            "  --baud          data baud rate (default: the profile's first rate)\n"
            "  --no-stub       flash through the ROM loader only\n"
            "  --no-reset      do not toggle DTR/RTS (unit already in download mode)\n"
            "  --profiles-dir  ':'-separated directories to look for NAME.ini\n"
            "                  (default $STATION_PROFILES, else the\n"
            "                  installed and build-tree profile folders)\n"
            "  --cache-dir     keep compressed images here between runs\n");
    return out == stdout ? 0 : 2;
}

static void print_err(const char *what, const st_err *e)
{
    fflush(stdout); /* keep the order of stdout and stderr lines on a terminal or pipe */
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "%s: %s\n", what, line);
    fprintf(stderr, "  class: %s\n", st_fclass_name(e->fclass));
    const char *hint = e->hint[0] ? e->hint : st_fclass_hint(e->fclass);
    if (hint && *hint)
        fprintf(stderr, "  hint: %s\n", hint);
}

static void print_report(const st_fwset *fw, const st_flash_report *r)
{
    const st_port_info *pi = &r->port;
    if (pi->bridge[0] || pi->vid)
        printf("bridge:  %s (%04x:%04x)%s%s\n", pi->bridge[0] ? pi->bridge : "unknown", pi->vid,
               pi->pid, pi->serial[0] ? " serial " : "", pi->serial);
    if (r->chip_known) {
        char mac[18];
        st_mac_format(r->chip.mac, mac);
        printf("unit:    MAC %s\n", mac);
        printf("chip:    %s\n", r->chip.description[0] ? r->chip.description : r->chip.chip);
        if (r->chip.flash_id)
            printf("flash:   ID 0x%06x, %u MB\n", r->chip.flash_id, r->chip.flash_size >> 20);
    }
    if (!r->wire_out)
        return; /* the port never opened: nothing more to tell */
    printf("loader:  %s, %d stub upload(s), baud %d\n", r->used_stub ? "stub" : "ROM",
           r->stub_uploads, r->baud);
    double kbit = r->t_write > 0 ? r->bytes_compressed * 8.0 / r->t_write / 1000.0 : 0;
    printf("written: %llu bytes (%llu compressed) in %.2f s, %.0f kbit/s on the wire\n",
           (unsigned long long)r->bytes_raw, (unsigned long long)r->bytes_compressed, r->t_write,
           kbit);
    printf("wire:    %llu bytes out, %llu in\n", (unsigned long long)r->wire_out,
           (unsigned long long)r->wire_in);
    printf("verify:  %d of %d regions\n", r->regions_verified, fw->n);
    printf("time:    %.2f s (connect %.2f, stub %.2f, write %.2f, verify %.2f)\n", r->t_total,
           r->t_connect, r->t_stub, r->t_write, r->t_verify);
}

int st_cli_flash(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, 0, 'p'},      {"profile", required_argument, 0, 'P'},
        {"baud", required_argument, 0, 'b'},      {"no-stub", no_argument, 0, 'S'},
        {"no-reset", no_argument, 0, 'R'},        {"profiles-dir", required_argument, 0, 'd'},
        {"cache-dir", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *port = NULL, *profile = NULL, *dirs = NULL, *cache = NULL;
    st_flash_opts opts = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:P:b:SRd:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': port = optarg; break;
        case 'P': profile = optarg; break;
        case 'b': {
            char *end;
            long b = strtol(optarg, &end, 10);
            if (*end || b < 300 || b > 5000000) {
                fprintf(stderr, "station flash: bad --baud '%s'\n", optarg);
                return 2;
            }
            opts.baud = (int)b;
            break;
        }
        case 'S': opts.no_stub = true; break;
        case 'R': opts.no_reset = true; break;
        case 'd': dirs = optarg; break;
        case 'c': cache = optarg; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (!port || !profile || optind != argc)
        return usage(stderr);
    char dirs_buf[2048];
    dirs = st_cli_profile_dirs(dirs, dirs_buf, sizeof dirs_buf);

    st_err err;
    char path[ST_PATH_MAX];
    st_fwset *fw = calloc(1, sizeof *fw);
    st_profile *prof = calloc(1, sizeof *prof);
    if (!fw || !prof) {
        free(fw);
        free(prof);
        fprintf(stderr, "station flash: out of memory\n");
        return 2;
    }
    if (st_profile_resolve(profile, dirs, path, sizeof path, &err) < 0 ||
        st_profile_load(path, prof, &err) < 0 || st_fwset_prepare(prof, cache, fw, &err) < 0) {
        print_err("profile", &err);
        free(prof);
        free(fw);
        return 2;
    }
    free(prof);
    printf("profile %s (%s): %d image(s), %llu bytes (%llu compressed), %s\n", fw->prof.name,
           fw->prof.path, fw->n, (unsigned long long)fw->total_len,
           (unsigned long long)fw->total_zlen, fw->has_stub ? "stub" : "ROM loader");
    for (int i = 0; i < fw->n; i++)
        printf("  0x%05x %8zu bytes  %s\n", fw->img[i].offset, fw->img[i].len, fw->img[i].path);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cli_state st = {.phase = ST_PH_NONE, .last_pct = -1};
    opts.abort = &g_stop;
    opts.progress = on_progress;
    opts.log = on_log;
    opts.user = &st;
    st_flash_report rep;
    printf("flashing %s\n", port);
    int rc = st_flash_unit(port, fw, &opts, &rep, &err);
    print_report(fw, &rep);
    if (rc == 0) {
        printf("PASS: all %d regions verified\n", fw->n);
    } else {
        print_err("FAIL", &err);
        printf("FAIL: %s (%s)\n", st_fclass_name(err.fclass), st_phase_name(err.phase));
    }
    st_fwset_free(fw);
    free(fw);
    return rc == 0 ? 0 : 1;
}

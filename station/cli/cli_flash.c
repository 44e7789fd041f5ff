/* cli_flash.c - `station flash`, the repair bench: load and check a profile, flash one
 * unit, print each phase, what the unit is, the figures and the MD5 result per region.
 * The attempt is recorded exactly as the line records a try (bench.h): no writable
 * record store, no flashing, unless --no-record says otherwise (loudly). Exit status 0
 * only when every region verified and the record committed; 1 when the unit failed;
 * 2 for usage/profile errors; 3 when the records could not be written. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "central.h"
#include "cli_paths.h"
#include "cli_records.h"
#include "who.h"
#include "db.h"
#include "detect.h"
#include "flash_unit.h"
#include "image.h"
#include "profile.h"
#include "recorder.h"
#include "shipper.h"
#include "text.h"
#include "worker.h"


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
            "                     [--no-reset] [--reflash changed|all] [--unprotect[=nv]]\n"
            "                     [--profiles-dir DIR]\n"
            "                     [--cache-dir DIR] [--db PATH | --no-record] [--operator NAME]\n"
            "  --port          serial device, pseudo-terminal, socket://HOST:PORT or\n"
            "                  rfc2217://HOST:PORT (a serial server: DTR/RTS resets work)\n"
            "  --profile       profile name (looked up in the profile directories) or file\n"
            "  --baud          data baud rate (default: the profile's first rate)\n"
            "  --no-stub       flash through the ROM loader only\n"
            "  --no-reset      do not toggle DTR/RTS (unit already in download mode)\n"
            "  --unprotect     clear the flash's write protection (status register BP/CMP/SRP/WPS\n"
            "                  bits) found at detect: a volatile write; =nv: then a non-volatile\n"
            "                  one if the volatile write did not hold. Without it such a unit\n"
            "                  fails write_protected before anything is written\n"
            "  --reflash       changed: ask the unit (MD5 per 64 KiB block of each region)\n"
            "                  and write only what differs; all: write every block.\n"
            "                  Default: the profile's reflash key, else changed\n"
            "  --profiles-dir  ':'-separated directories to look for NAME.ini\n"
            "                  (default $STATION_PROFILES, else the\n"
            "                  installed and build-tree profile folders)\n"
            "  --cache-dir     keep compressed images here between runs\n"
            "  --db            record store (default $STATION_DB, else\n"
            "                  ~/.local/share/flashstation/station.db); the attempt is\n"
            "                  recorded as the line records one, and its retry-bin entry\n"
            "                  resolved on a pass; without a writable store nothing is flashed\n"
            "  --no-record     bench experiment: flash WITHOUT any record (said loudly)\n"
            "  --operator      recorded with the attempt (default: the login name)\n"
            "  --serial TEXT   provisioning: the unit's serial (default: the one the store keeps\n"
            "                  for the unit, else the profile's next number)\n"
            "  --new-serial    provisioning: give the unit a new serial (the old one stays\n"
            "                  recorded as retired)\n"
            "  --no-boot-check do not wait for the app after the reset ([boot_check])\n"
            "  --central URL   ship the records to the factory's central store (PostgreSQL) in the\n"
            "                  background (default $STATION_CENTRAL or %s); the\n"
            "                  flash never waits for it, and at exit what the server has not\n"
            "                  taken within a few seconds waits for the next run or\n"
            "                  `station central sync`. No password on the command line\n"
            "  --no-central    do not ship, even when a central store is configured\n",
            ST_CENTRAL_CONF_DEFAULT);
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
    st_port_info pc = r->port; /* device strings reach a terminal: no escapes */
    const st_port_info *pi = &pc;
    st_text_clean(pc.bridge);
    st_text_clean(pc.serial);
    if (pi->bridge[0] || pi->vid)
        printf("bridge:  %s (%04x:%04x)%s%s\n", pi->bridge[0] ? pi->bridge : "unknown", pi->vid,
               pi->pid, pi->serial[0] ? " serial " : "", pi->serial);
    if (r->chip_known) {
        char mac[18];
        st_mac_format(r->chip.mac, mac);
        printf("unit:    MAC %s%s\n", mac,
               r->chip.mac_crc_bad ? "  WARNING: eFuse MAC CRC wrong, the MAC may be misread" : "");
        printf("chip:    %s\n", r->chip.description[0] ? r->chip.description : r->chip.chip);
        if (r->chip.flash_id)
            printf("flash:   ID 0x%06x, %u MB\n", r->chip.flash_id, r->chip.flash_size >> 20);
        if (r->chip.flash_sr_known)
            printf("status:  SR1 0x%02x SR2 0x%02x SR3 0x%02x%s\n", r->chip.flash_sr[0],
                   r->chip.flash_sr[1], r->chip.flash_sr[2],
                   st_flash_sr_protected(r->chip.flash_sr) ? " (write-protected)" : "");
        if (r->unprotected)
            printf("unprotect: status now SR1 0x%02x SR2 0x%02x SR3 0x%02x\n", r->flash_sr_after[0],
                   r->flash_sr_after[1], r->flash_sr_after[2]);
    }
    if (!r->wire_out)
        return; /* the port never opened: nothing more to tell */
    printf("loader:  %s%s%s, %d stub upload(s), baud %d, %d block(s) repaired on the link\n",
           r->used_stub ? "stub" : "ROM", r->used_stub ? " " : "",
           r->used_stub ? st_stub_kind_name(r->stub_kind) : "", r->stub_uploads, r->baud,
           r->blocks_repaired);
    double kbit = r->t_write > 0 ? r->bytes_compressed * 8.0 / r->t_write / 1000.0 : 0;
    printf("written: %llu bytes (%llu compressed) in %.2f s, %.0f kbit/s on the wire\n",
           (unsigned long long)r->bytes_raw, (unsigned long long)r->bytes_compressed, r->t_write,
           kbit);
    printf("wire:    %llu bytes out, %llu in\n", (unsigned long long)r->wire_out,
           (unsigned long long)r->wire_in);
    printf("plan:    %d region(s) already on the unit, %d of %d compared 64 KiB blocks "
           "differed; %d stream(s), %d erase-only run(s) (%llu bytes)\n",
           r->regions_unchanged, r->blocks_changed, r->blocks_compared, r->streams, r->erases,
           (unsigned long long)r->bytes_erased);
    printf("verify:  %d of %d regions%s", r->regions_verified, fw->n + (r->unit_region ? 1 : 0),
           r->unit_region ? " (the unit's NVS partition included)" : "");
    if (r->regions_proved_at_check)
        printf("; %d by the block digests that found them unchanged (nothing written since)",
               r->regions_proved_at_check);
    printf("\n");
    const st_boot_result *b = &r->boot;
    if (b->checked && b->passed)
        printf("boot:    PASS, '%s' after %.1f s%s%s\n", b->matched, b->t_boot,
               b->captured[0] ? "; " : "", b->captured);
    else if (b->checked && b->diag) {
        printf("boot:    NO BOOT (%s) after %.1f s, %d resets; last console lines:\n",
               st_boot_diag_name(b->diag), b->t_boot, b->resets);
        for (const char *l = b->console; *l;) {
            size_t n = strcspn(l, "\n");
            printf("  | %.*s\n", (int)n, l);
            l += n + (l[n] == '\n');
        }
    }
    printf("time:    %.2f s (connect %.2f, stub %.2f, write %.2f, verify %.2f)\n", r->t_total,
           r->t_connect, r->t_stub, r->t_write, r->t_verify);
}

/* Shipping to the central store while the bench flashes (shipper.h): a thread of its
 * own that the flash never waits for; at exit a short drain, then the outcome. */
#define FLASH_CENTRAL_DRAIN_S 3.0

typedef struct central_ship {
    st_events *ev;      /* the shipper's state and its events */
    st_shipper *ship;
    char where[200];    /* the server, no password */
} central_ship;

static void central_start(central_ship *cs, st_shipper_cfg *cfg, const char *db_path)
{
    st_err err;
    snprintf(cfg->db_path, sizeof cfg->db_path, "%s", db_path);
    st_central_describe(cfg->conninfo, cs->where, sizeof cs->where);
    if (st_events_new(&cs->ev, &err) < 0 || st_shipper_start(cs->ev, cfg, &cs->ship, &err) < 0) {
        st_cli_print_err("station flash", &err); /* the flash goes on: the records stay local */
        st_events_free(cs->ev);
        cs->ev = NULL;
        return;
    }
    printf("central store: %s (shipping in the background)\n", cs->where);
}

/* Drain for a few seconds, stop, and say where the records are. */
static void central_finish(central_ship *cs)
{
    if (!cs->ev)
        return;
    int64_t left = st_shipper_stop(cs->ship, FLASH_CENTRAL_DRAIN_S);
    /* the last thing the shipper said about the server (offline and why, or online) */
    st_event ev[ST_VIEW_EVENTS];
    uint64_t lost;
    int n = st_events_since(cs->ev, 0, ev, ST_VIEW_EVENTS, &lost);
    const char *last = NULL;
    for (int i = 0; i < n; i++)
        if (ev[i].kind == ST_EV_CENTRAL)
            last = ev[i].text;
    if (left == 0)
        printf("central: every record shipped to %s\n", cs->where);
    else
        printf("central: %lld record%s not shipped yet%s%s: %s go%s with the next run or `station central "
               "sync`\n",
               (long long)left, left == 1 ? "" : "s", last ? "; " : "", last ? last : "", left == 1 ? "it" : "they",
               left == 1 ? "es" : "");
    st_events_free(cs->ev);
    cs->ev = NULL;
}

int st_cli_flash(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, 0, 'p'},      {"profile", required_argument, 0, 'P'},
        {"baud", required_argument, 0, 'b'},      {"no-stub", no_argument, 0, 'S'},
        {"no-reset", no_argument, 0, 'R'},        {"profiles-dir", required_argument, 0, 'd'},
        {"reflash", required_argument, 0, 'F'},   {"unprotect", optional_argument, 0, 'U'},
        {"cache-dir", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
        {"db", required_argument, 0, 'D'},        {"no-record", no_argument, 0, 'N'},
        {"operator", required_argument, 0, 'o'},  {"serial", required_argument, 0, 's'},
        {"new-serial", no_argument, 0, 'W'},      {"no-boot-check", no_argument, 0, 'B'},
        {"central", required_argument, 0, 'C'},   {"no-central", no_argument, 0, 'X'},
        {0, 0, 0, 0},
    };
    const char *port = NULL, *profile = NULL, *dirs = NULL, *cache = NULL, *db_path = NULL;
    const char *operator_arg = NULL, *central = NULL;
    bool no_record = false, new_serial = false, no_central = false;
    const char *serial_arg = NULL;
    st_flash_opts opts = {0};
    int c;
    optind = 1;
    st_reflash reflash = ST_REFLASH_DEFAULT;
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
        case 'U':
            if (!optarg) {
                opts.unprotect = 1;
            } else if (!strcmp(optarg, "nv")) {
                opts.unprotect = 2;
            } else {
                fprintf(stderr, "station flash: bad --unprotect '%s' (--unprotect or --unprotect=nv)\n",
                        optarg);
                return 2;
            }
            break;
        case 'F':
            if (!strcmp(optarg, "changed")) {
                reflash = ST_REFLASH_CHANGED;
            } else if (!strcmp(optarg, "all")) {
                reflash = ST_REFLASH_ALL;
            } else {
                fprintf(stderr, "station flash: bad --reflash '%s' (changed or all)\n", optarg);
                return 2;
            }
            break;
        case 'd': dirs = optarg; break;
        case 'c': cache = optarg; break;
        case 'D': db_path = optarg; break;
        case 'N': no_record = true; break;
        case 'o': operator_arg = optarg; break;
        case 's': serial_arg = optarg; break;
        case 'W': new_serial = true; break;
        case 'B': opts.no_boot_check = true; break;
        case 'C': central = optarg; break;
        case 'X': no_central = true; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (!port || !profile || optind != argc)
        return usage(stderr);
    if (no_record && db_path) {
        fprintf(stderr, "station flash: --db and --no-record exclude each other\n");
        return 2;
    }
    char dirs_buf[2048];
    dirs = st_cli_profile_dirs(dirs, dirs_buf, sizeof dirs_buf);

    st_err err;
    static st_shipper_cfg ship_cfg; /* large: not on the stack */
    st_central_src central_src = ST_CENTRAL_NONE;
    if (!no_record && !no_central &&
        st_central_conninfo(central, ship_cfg.conninfo, sizeof ship_cfg.conninfo, &central_src, &err) < 0) {
        st_cli_print_err("station flash", &err);
        return 2;
    }
    char path[ST_PATH_MAX];
    st_fwref *fwr = NULL;
    if (st_profile_resolve(profile, dirs, path, sizeof path, &err) < 0 ||
        st_fwref_load(path, cache, 0, &fwr, &err) < 0) {
        print_err("profile", &err);
        return 2;
    }
    const st_fwset *fw = &fwr->fw;
    printf("profile %s (%s): %d image(s), %llu bytes (%llu compressed), %s\n", fw->prof.name,
           fw->prof.path, fw->n, (unsigned long long)fw->total_len,
           (unsigned long long)fw->total_zlen, fw->has_stub ? "stub" : "ROM loader");
    for (int i = 0; i < fw->n; i++)
        printf("  0x%05x %8zu bytes  %s\n", fw->img[i].offset, fw->img[i].len, fw->img[i].path);

    /* No record, no flashing: the store must open for writing before the unit is touched. */
    st_db *db = NULL;
    if (no_record) {
        fflush(stdout);
        fprintf(stderr, "station flash: WARNING: --no-record: this flash leaves NO record, the "
                        "unit's retry-bin entry is not touched; use it for bench experiments only\n");
    } else if (st_db_open(db_path, NULL, &db, &err) < 0 || st_recorder_room_ok(db, &err) < 0) {
        st_db_close(db);
        print_err("records", &err);
        fprintf(stderr, "station flash: refusing to flash: the attempt could not be recorded "
                        "(--db PATH or STATION_DB name the store; --no-record for an experiment)\n");
        st_fwref_free(fwr);
        return 3;
    } else {
        printf("records: %s\n", st_db_path(db));
        if (st_db_recovered(db) > 0)
            printf("records: %d attempt(s) left unfinished by a crash marked interrupted\n",
                   st_db_recovered(db));
    }
    central_ship cs = {0};
    if (db && central_src != ST_CENTRAL_NONE)
        central_start(&cs, &ship_cfg, st_db_path(db));

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* The repair bench: a unit that already holds most of the firmware costs MD5s only. */
    opts.reflash = reflash != ST_REFLASH_DEFAULT ? reflash
                   : fw->prof.reflash != ST_REFLASH_DEFAULT ? fw->prof.reflash
                                                            : ST_REFLASH_CHANGED;
    printf("reflash: %s\n", st_reflash_name(opts.reflash));
    char who[64];
    st_bench_cfg bc = {.port = port, .operator_name = st_who_operator(operator_arg, who, sizeof who),
                       .serial = serial_arg, .new_serial = new_serial};
    cli_state st = {.phase = ST_PH_NONE, .last_pct = -1};
    opts.abort = &g_stop;
    opts.progress = on_progress;
    opts.log = on_log;
    opts.user = &st;
    st_flash_report rep;
    st_bench_result res;
    printf("flashing %s\n", port);
    int rc = st_bench_flash(db, fwr, &bc, &opts, &rep, &res);
    int status;
    if (res.refused) {
        print_err("records", &res.rec_err);
        fprintf(stderr, "station flash: refusing to flash: the attempt could not be recorded\n");
        status = 3;
    } else {
        print_report(fw, &rep);
        if (db && res.attempt_id)
            printf("attempt: #%lld by %s\n", (long long)res.attempt_id, who);
        if (db && !res.end_recorded) {
            print_err("records", &res.rec_err);
            if (res.verified)
                printf("PASS — NOT RECORDED: the unit verified but its record could not be "
                       "written; keep it apart and flash it again once the records work\n");
            else
                printf("FAIL — NOT RECORDED: %s (%s)\n", st_fclass_name(res.err.fclass),
                       st_phase_name(res.err.phase));
            status = 3;
        } else if (res.verified) {
            printf("PASS: all %d regions verified%s%s\n", rep.regions_verified,
                   rep.boot.passed ? ", the app booted" : "",
                   db ? "" : " — NOT RECORDED (--no-record)");
            status = 0;
        } else {
            print_err("FAIL", &res.err);
            printf("FAIL: %s (%s)%s\n", st_fclass_name(res.err.fclass), st_phase_name(res.err.phase),
                   db ? "; the unit is in the retry bin" : " — NOT RECORDED (--no-record)");
            status = 1;
        }
    }
    (void)rc;
    st_db_close(db);
    central_finish(&cs);
    st_fwref_free(fwr);
    return status;
}

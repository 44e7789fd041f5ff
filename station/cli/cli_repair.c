/* cli_repair.c - options, record store and closing lines of the repair-bench commands
 * (cli_repair.h). The rules are `station flash`'s: the store must open for writing
 * before the unit is touched, --no-record says loudly that nothing is recorded. */
#include "cli_repair.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_paths.h"
#include "cli_records.h"
#include "profile.h"
#include "recorder.h"
#include "who.h"

atomic_int st_cli_repair_stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&st_cli_repair_stop, 1);
}

static void on_progress(void *user, st_phase ph, uint64_t done, uint64_t total)
{
    st_phase *last = user;
    (void)done;
    (void)total;
    if (ph != *last && ph != ST_PH_DONE) {
        *last = ph;
        fprintf(stderr, "[%s]\n", st_phase_name(ph));
    }
}

static void on_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "  %s\n", line);
}

int st_cli_repair_opt(st_cli_repair *r, int c, const char *arg)
{
    switch (c) {
    case 'p': r->port = arg; return 1;
    case 0x101: r->db_path = arg; return 1;
    case 0x102: r->no_record = true; return 1;
    case 0x103: r->operator_arg = arg; return 1;
    case 0x104: r->profile = arg; return 1;
    case 0x105: r->dirs = arg; return 1;
    case 0x106: {
        char *end;
        long b = strtol(arg, &end, 10);
        if (*end || b < 300 || b > 5000000) {
            fprintf(stderr, "%s: bad --baud '%s' (a rate from 300 to 5000000)\n", r->prog, arg);
            return -1;
        }
        r->opts.baud = (int)b;
        return 1;
    }
    case 0x107: r->opts.no_reset = true; return 1;
    default: return 0;
    }
}

static void print_err(const char *what, const st_err *e)
{
    fflush(stdout);
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "%s: %s\n", what, line);
    if (e->fclass != ST_FC_NONE)
        fprintf(stderr, "  class: %s\n", st_fclass_name(e->fclass));
    const char *hint = e->hint[0] ? e->hint : st_fclass_hint(e->fclass);
    if (hint && *hint)
        fprintf(stderr, "  hint: %s\n", hint);
}

int st_cli_repair_setup(st_cli_repair *r, bool need_stub)
{
    if (!r->port) {
        fprintf(stderr, "%s: --port PATH is required (the unit's serial port)\n", r->prog);
        return 2;
    }
    if (r->no_record && r->db_path) {
        fprintf(stderr, "%s: --db and --no-record exclude each other\n", r->prog);
        return 2;
    }
    st_err err;
    if (r->profile) {
        char dirs_buf[2048], path[ST_PATH_MAX];
        const char *dirs = st_cli_profile_dirs(r->dirs, dirs_buf, sizeof dirs_buf);
        if (st_profile_resolve(r->profile, dirs, path, sizeof path, &err) < 0 ||
            st_fwref_load(path, NULL, 0, &r->fwr, &err) < 0) {
            print_err("profile", &err);
            return 2;
        }
        const st_fwset *fw = &r->fwr->fw;
        r->link.stub = fw->has_stub ? &fw->stub : NULL;
        r->link.bauds = fw->prof.bauds;
        r->link.n_bauds = fw->prof.n_bauds;
    }
    if (need_stub && !r->link.stub) {
        fprintf(stderr, "%s: needs the flasher stub: give --profile NAME (a profile with a stub; "
                        "its stub and baud ladder are used)\n", r->prog);
        return 2;
    }
    if (r->no_record) {
        fprintf(stderr, "%s: WARNING: --no-record: this %s leaves NO record; use it for bench "
                        "experiments only\n", r->prog, r->action);
    } else if (st_db_open(r->db_path, NULL, &r->db, &err) < 0 || st_recorder_room_ok(r->db, &err) < 0) {
        st_db_close(r->db);
        r->db = NULL;
        print_err("records", &err);
        fprintf(stderr, "%s: refusing to touch the unit: the %s could not be recorded (--db PATH "
                        "or STATION_DB name the store; --no-record for an experiment)\n", r->prog,
                r->action);
        return 3;
    } else {
        fprintf(stderr, "records: %s\n", st_db_path(r->db));
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

int st_cli_repair_run(st_cli_repair *r, st_bench_action_fn fn, void *user, st_flash_report *rep,
                      char *did, size_t cap, st_bench_result *res)
{
    static st_phase last;
    last = ST_PH_NONE;
    r->opts.abort = &st_cli_repair_stop;
    r->opts.progress = on_progress;
    r->opts.log = on_log;
    r->opts.user = &last;
    st_bench_cfg bc = {.port = r->port,
                       .operator_name = st_who_operator(r->operator_arg, r->who, sizeof r->who)};
    st_bench_action(r->db, r->action, r->fwr, &bc, &r->opts, fn, user, rep, did, cap, res);
    fflush(stdout);
    if (res->refused) {
        print_err("records", &res->rec_err);
        fprintf(stderr, "%s: refusing to touch the unit: the %s could not be recorded\n", r->prog,
                r->action);
        return 3;
    }
    if (!res->verified)
        print_err(r->prog, &res->err);
    if (r->db && res->attempt_id)
        fprintf(stderr, "attempt: #%lld (%s) by %s\n", (long long)res->attempt_id, r->action, r->who);
    if (r->db && !res->end_recorded) {
        print_err("records", &res->rec_err);
        fprintf(stderr, "%s: %s — NOT RECORDED: its record could not be written\n", r->prog,
                res->verified ? "done" : "FAILED");
        return 3;
    }
    if (!r->db)
        fprintf(stderr, "%s: NOT RECORDED (--no-record)\n", r->prog);
    return res->verified ? 0 : 1;
}

int st_cli_repair_u32(const st_cli_repair *r, const char *what, const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    if (errno || end == s || *end || *s == '-' || v * mul > 0xFFFFFFFFull) {
        fprintf(stderr, "%s: bad %s '%s' (a number: 0x10000, 65536, 64K, 4M)\n", r->prog, what, s);
        return -1;
    }
    *out = (uint32_t)(v * mul);
    return 0;
}

void st_cli_repair_done(st_cli_repair *r)
{
    st_db_close(r->db);
    r->db = NULL;
    st_fwref_free(r->fwr);
    r->fwr = NULL;
}

/* bench.h - the repair bench: one unit flashed by hand (`station flash`), recorded
 * through the line's own record path (st_record_write): the start record before the
 * unit is touched, its identity as soon as detect read it, and the end record, which
 * bins the unit on a failure or resolves its bin entry on a pass, committed before the
 * outcome is reported. One try, no retries: the technician decides what comes next. */
#ifndef ST_BENCH_H
#define ST_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "flash_unit.h"
#include "worker.h"

typedef struct st_bench_cfg {
    const char *port;          /* device, pseudo-terminal or socket://HOST:PORT */
    const char *operator_name; /* who flashes (never "": the caller picks the login name) */
    const char *host;          /* NULL or "" = gethostname() */
    const char *serial;        /* provisioning: use this serial (NULL: the store keeps or
                                * allocates it; without a store one must be given) */
    bool new_serial;           /* provisioning: replace the unit's serial in the store */
} st_bench_cfg;

typedef struct st_bench_result {
    bool verified;             /* st_flash_unit verified every region */
    st_err err;                /* the flash's error when not verified */
    bool refused;              /* not flashed: the start record could not be written */
    int64_t attempt_id;        /* the recorded attempt (0 when not recorded) */
    bool end_recorded;         /* the end record committed */
    st_err rec_err;            /* why a record could not be written */
} st_bench_result;

/* The slot name a bench attempt is recorded under: "bench:" and the port's last path
 * component. */
void st_bench_slot_name(const char *port, char *out, size_t cap);

/* Flash the unit at cfg->port with fw, one try. db NULL = not recorded (the caller says
 * so loudly). o's progress/log callbacks and abort flag are used as by st_flash_unit.
 * Returns 0 when the unit verified and (db NULL or) its end record committed; -1
 * otherwise, *res saying which. */
int st_bench_flash(st_db *db, const st_fwref *fw, const st_bench_cfg *cfg, const st_flash_opts *o,
                   st_flash_report *rep, st_bench_result *res);

/* A repair-bench action other than a flash (identify, read, erase, unprotect): the
 * unit work, run by st_bench_action with o (its progress wrapped so that the unit's
 * identity is recorded once detect read it). Writes what it did into did (cap bytes,
 * recorded as the attempt's action detail, also on a failure as far as it got). */
typedef int (*st_bench_action_fn)(void *user, const st_flash_opts *o, st_flash_report *rep,
                                  char *did, size_t cap, st_err *err);

/* Run fn on the unit at cfg->port, recorded like st_bench_flash (start record before the
 * unit is touched: no record, no action; identity; end record) as an attempt of kind
 * action ("identify", "read", "erase", "unprotect"). fw may be NULL (no profile: none
 * recorded). Such an attempt neither bins nor resolves the unit (db.h). Returns 0 when fn
 * succeeded and (db NULL or) the end record committed; -1 otherwise, *res saying which
 * (res->verified: fn succeeded). */
int st_bench_action(st_db *db, const char *action, const st_fwref *fw, const st_bench_cfg *cfg,
                    const st_flash_opts *o, st_bench_action_fn fn, void *user,
                    st_flash_report *rep, char *did, size_t cap, st_bench_result *res);

#endif

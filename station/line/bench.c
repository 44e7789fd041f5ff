/* bench.c - one unit by hand, recorded like a try of the line (bench.h). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "provision_unit.h"
#include "recorder.h"

static void on_log(void *user, const char *line);

typedef struct bench_ctx {
    st_db *db;
    const st_fwref *fw;
    const st_bench_cfg *cfg;
    const st_flash_opts *user_opts;
    const st_flash_report *rep;  /* filled by st_flash_unit on this thread */
    st_rec_op *op;               /* scratch for the UNIT record */
    bool unit_sent;
} bench_ctx;

void st_bench_slot_name(const char *port, char *out, size_t cap)
{
    const char *base = strrchr(port, '/');
    base = base && base[1] ? base + 1 : port;
    snprintf(out, cap, "bench:%s", base);
}

static void on_progress(void *user, st_phase ph, uint64_t done, uint64_t total)
{
    bench_ctx *b = user;
    /* detect is done once the loader moves on: the unit's MAC goes into the record now,
     * so a crash later in the try still leaves it (as the line does) */
    if (b->db && !b->unit_sent && b->rep->chip_known && ph > ST_PH_DETECT && ph != ST_PH_DONE) {
        b->unit_sent = true;
        b->op->kind = ST_REC_UNIT;
        b->op->a.rep = *b->rep;
        st_err err;
        if (st_record_write(b->db, b->op, NULL, &err) < 0 && b->user_opts->log) {
            char msg[400];
            st_err_format(&err, msg, sizeof msg);
            char line[480];
            snprintf(line, sizeof line, "could not record the unit's identity: %s", msg);
            b->user_opts->log(b->user_opts->user, line);
        }
    }
    if (b->user_opts->progress)
        b->user_opts->progress(b->user_opts->user, ph, done, total);
}

/* The unit's serial: given by the technician, else kept or allocated in the store on
 * this attempt. */
static int bench_serial(void *user, char *out, size_t cap, st_err *err)
{
    bench_ctx *b = user;
    if (b->cfg->serial && *b->cfg->serial) {
        snprintf(out, cap, "%s", b->cfg->serial);
        return 0;
    }
    if (!b->db)
        return st_err_set(err, ST_E_ARG, ST_PH_DB,
                          "profile %s numbers its units: give --serial, or flash with records",
                          b->fw->fw.prof.name);
    b->op->kind = ST_REC_SERIAL;
    b->op->a.rep = *b->rep;
    snprintf(b->op->a.serial_fmt, sizeof b->op->a.serial_fmt, "%s", b->fw->fw.prof.prov.serial_fmt);
    b->op->a.new_serial = b->cfg->new_serial;
    st_db_attempt d;
    if (st_record_write(b->db, b->op, &d, err) < 0)
        return -1;
    snprintf(out, cap, "%s", d.serial);
    return 0;
}

static int on_unit_region(void *user, const st_chip_info *chip, st_image *img, st_err *err)
{
    bench_ctx *b = user;
    st_rec_attempt *a = &b->op->a;
    if (st_provision_unit(&b->fw->fw, chip, bench_serial, b, img, a->serial, a->provision, err) < 0)
        return -1;
    char line[700];
    snprintf(line, sizeof line, "provisioning %s at 0x%x: %.500s", b->fw->fw.prof.prov.ns,
             b->fw->fw.prof.prov.offset, a->provision);
    on_log(b, line);
    return 0;
}

static void on_log(void *user, const char *line)
{
    bench_ctx *b = user;
    if (b->user_opts->log)
        b->user_opts->log(b->user_opts->user, line);
}

static void fill_start(st_rec_op *op, const st_fwref *fw, const st_bench_cfg *cfg, const st_flash_opts *o)
{
    st_rec_attempt *a = &op->a;
    st_bench_slot_name(cfg->port, a->slot, sizeof a->slot);
    a->slot_no = 0;
    snprintf(a->port, sizeof a->port, "%s", cfg->port);
    if (fw)
        st_fwref_describe(fw, a);
    a->try_no = 1;
    a->baud = o->baud ? o->baud : (fw && fw->fw.prof.n_bauds ? fw->fw.prof.bauds[0] : 115200);
    a->no_stub = o->no_stub;
    snprintf(a->operator_name, sizeof a->operator_name, "%s", cfg->operator_name ? cfg->operator_name : "");
    snprintf(a->host, sizeof a->host, "%s", cfg->host ? cfg->host : "");
    /* A bench try is a run of its own: it starts the run's monotonic time line. */
    a->started = a->run_started = st_wall_now();
    a->run_offset = 0;
    a->outcome = ST_OUT_RUNNING;
}

/* The start record: refused (res->refused) when it cannot be written. */
static int begin_record(st_db *db, st_rec_op *op, st_bench_result *res)
{
    op->kind = ST_REC_BEGIN;
    st_db_attempt d;
    if (st_record_write(db, op, &d, &res->rec_err) < 0) {
        res->refused = true;
        return -1;
    }
    op->a.id = res->attempt_id = d.id;
    return 0;
}

/* The end record: outcome from rc and err, the report, the bridge. */
static void record_end(st_db *db, st_rec_op *op, int rc, const st_err *err,
                       const st_flash_report *rep, double t0, bool bin_on_fail,
                       st_bench_result *res)
{
    st_rec_attempt *a = &op->a;
    a->ended = st_wall_now();
    a->duration = st_now() - t0;
    a->outcome = rc == 0 ? ST_OUT_PASS : err->fclass == ST_FC_INTERRUPTED ? ST_OUT_INTERRUPTED : ST_OUT_FAIL;
    a->bin_on_fail = bin_on_fail; /* a flash: one try, a failure goes to (or stays in) the bin */
    a->rep = *rep;
    if (rc != 0)
        a->err = *err;
    if (rep->baud)
        a->baud = rep->baud;
    snprintf(a->bridge, sizeof a->bridge, "%s", rep->port.bridge);
    snprintf(a->usb_serial, sizeof a->usb_serial, "%s", rep->port.serial);
    a->vid = rep->port.vid;
    a->pid = rep->port.pid;
    if (db) {
        op->kind = ST_REC_END;
        res->end_recorded = st_record_write(db, op, NULL, &res->rec_err) == 0;
    }
}

/* One recorded job on the unit at cfg->port: the start record before the unit is
 * touched, fn's work with the bench's progress and log, the end record. action NULL is a
 * flash (a failure goes to the bin), else a repair-bench action (what it did in
 * action_detail; it neither bins nor resolves). */
static int bench_run(st_db *db, const char *action, const st_fwref *fw, const st_bench_cfg *cfg,
                     const st_flash_opts *o, st_bench_action_fn fn, void *user,
                     st_flash_report *rep, char *did, size_t cap, st_bench_result *res)
{
    memset(res, 0, sizeof *res);
    memset(rep, 0, sizeof *rep);
    did[0] = 0;
    st_rec_op *op = calloc(1, sizeof *op);
    if (!op) {
        st_err_set(&res->rec_err, ST_E_NOMEM, ST_PH_DB, "out of memory for the record");
        res->refused = true;
        return -1;
    }
    double t0 = st_now();
    fill_start(op, fw, cfg, o);
    if (action)
        snprintf(op->a.action, sizeof op->a.action, "%s", action);
    /* No record, no work on the unit. */
    if (db && begin_record(db, op, res) < 0) {
        free(op);
        return -1;
    }
    bench_ctx b = {.db = db, .fw = fw, .cfg = cfg, .user_opts = o, .rep = rep, .op = op};
    st_flash_opts fo = *o;
    fo.progress = on_progress;
    fo.log = on_log;
    fo.user = &b;
    st_err err;
    st_err_clear(&err);
    int rc = fn(user, &fo, rep, did, cap, &err);
    res->verified = rc == 0;
    if (rc != 0)
        res->err = err;
    if (action)
        snprintf(op->a.action_detail, sizeof op->a.action_detail, "%s", did);
    record_end(db, op, rc, &err, rep, t0, action == NULL, res);
    free(op);
    return res->verified && (!db || res->end_recorded) ? 0 : -1;
}

typedef struct flash_job {
    const st_fwref *fw;
    const st_bench_cfg *cfg;
} flash_job;

/* The flash as bench_run's work: the profile's images, provisioned per unit. */
static int flash_work(void *user, const st_flash_opts *o, st_flash_report *rep, char *did,
                      size_t cap, st_err *err)
{
    const flash_job *j = user;
    (void)did;
    (void)cap;
    st_flash_opts fo = *o;
    if (j->fw->fw.prof.prov.enabled)
        fo.unit_region = on_unit_region;
    return st_flash_unit(j->cfg->port, &j->fw->fw, &fo, rep, err);
}

int st_bench_flash(st_db *db, const st_fwref *fw, const st_bench_cfg *cfg, const st_flash_opts *o,
                   st_flash_report *rep, st_bench_result *res)
{
    flash_job j = {fw, cfg};
    char did[1];
    return bench_run(db, NULL, fw, cfg, o, flash_work, &j, rep, did, sizeof did, res);
}

int st_bench_action(st_db *db, const char *action, const st_fwref *fw, const st_bench_cfg *cfg,
                    const st_flash_opts *o, st_bench_action_fn fn, void *user,
                    st_flash_report *rep, char *did, size_t cap, st_bench_result *res)
{
    return bench_run(db, action, fw, cfg, o, fn, user, rep, did, cap, res);
}

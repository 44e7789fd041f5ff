/* worker.h - one thread per attached unit: record the try, flash it (st_flash_unit),
 * retry per the policy, put it in the retry bin if it still fails, then wait until the
 * unit is unplugged. Workers report only through the events channel. */
#ifndef ST_WORKER_H
#define ST_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "discovery.h"
#include "events.h"
#include "image.h"
#include "retry_policy.h"

/* A prepared profile shared read-only by the workers that started under it. A profile
 * change makes a new one; the old one is freed when its last worker lets go. */
typedef struct st_fwref {
    st_fwset fw;
    int refs;                 /* guarded by st_line_ctl.mu */
    char digests[128];        /* short digests for the dashboard */
    char sha256[ST_MAX_IMAGES][65];
    double watchdog_s;        /* overall limit for one try */
} st_fwref;

/* Line-wide state the engine owns and its workers read, under one lock. */
typedef struct st_line_ctl {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* broadcast on pause/resume/stop and on unplug */
    bool paused, stopping;
    bool records_broken;      /* a record could not be written: no new units start */
    st_fwref *fw;             /* profile for units that start now */
    st_events *ev;
    st_retry_limits limits;
    int sync_attempts;        /* per try; 0 = the loader's default */
    char operator_name[64], host[64];
    bool new_serial;          /* --new-serial: units re-flashed now get a new serial */
} st_line_ctl;

typedef enum { ST_ABORT_NONE = 0, ST_ABORT_STOP = 1, ST_ABORT_WATCHDOG = 2 } st_abort_reason;

typedef struct st_worker {
    st_line_ctl *ctl;
    st_found_port port;
    int slot;                 /* events slot index */
    pthread_t thread;
    atomic_int abort;         /* st_abort_reason; passed to st_flash_unit */
    /* guarded by ctl->mu */
    bool gone;                /* the port disappeared */
    bool finished;            /* the thread is about to return: join it */
    double try_started;       /* st_now() while inside st_flash_unit, else 0 */
    double watchdog_s;        /* limit for the running try */
    struct st_worker *next;   /* the engine's list */
} st_worker;

/* Take / release a reference to the line's current profile (never NULL once the line
 * is running). */
st_fwref *st_line_take_fw(st_line_ctl *ctl);
void st_line_drop_fw(st_line_ctl *ctl, st_fwref *fw);
/* The profile's part of a record: its name and every image's offset and SHA-256. */
void st_fwref_describe(const st_fwref *fw, st_rec_attempt *a);
/* Free a profile reference that no worker holds. */
void st_fwref_free(st_fwref *fw);
/* Prepare a profile for the line (load, digest, compress; watchdog from its size). */
int st_fwref_load(const char *profile_path, const char *cache_dir, double watchdog_override_s,
                  st_fwref **out, st_err *err);

/* Start a worker thread for the unit at p in events slot `slot`. */
int st_worker_start(st_line_ctl *ctl, const st_found_port *p, int slot, st_worker **out,
                    st_err *err);
/* Join a finished worker (finished == true) and free it. */
void st_worker_join_free(st_worker *w);

#endif

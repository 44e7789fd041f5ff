/* shipper.h - the line's background thread that ships the local journal to the
 * factory's central store (db/central.h; no SQL here). The line never waits for it: it
 * reads the SQLite file through its own read-only handle, talks to PostgreSQL with
 * bounded timeouts, and when the server is unreachable it keeps trying with a backoff
 * while the line goes on flashing. Its state reaches the dashboard through the line
 * view (st_central_view: "central: offline since 10:42, 37 records waiting") and its
 * changes (offline, back online, refused) as ST_EV_CENTRAL events. It also tells the
 * line's retry-bin view which local entries passed on another station (watch_bin), so a
 * unit repaired elsewhere stops showing as waiting here. No message it produces
 * contains the password (central.h). */
#ifndef ST_SHIPPER_H
#define ST_SHIPPER_H

#include "central.h"
#include "err.h"
#include "events.h"

typedef struct st_shipper_cfg {
    char conninfo[ST_CENTRAL_MAX]; /* from st_central_conninfo */
    char db_path[4096];            /* the station's SQLite file (already opened by its writer) */
    int batch;                     /* rows per central transaction (0 = 500) */
    double idle_s;                 /* pause between polls when nothing is waiting (0 = 1 s) */
    double backoff_max_s;          /* longest wait between reconnects (0 = 10 s) */
    bool watch_bin;                /* ask the central store, every bin_every_s while it
                                    * answers, which open local bin entries passed on
                                    * another station since, and hand the answer to the
                                    * line's bin view (st_events_set_bin_elsewhere); a
                                    * 'central' event names each such unit */
    double bin_every_s;            /* 0 = 5 s */
} st_shipper_cfg;

typedef struct st_shipper st_shipper;

/* Start the thread (it connects in the background: an unreachable server is no error
 * here). ev receives the state and the events. */
int st_shipper_start(st_events *ev, const st_shipper_cfg *cfg, st_shipper **out, st_err *err);
/* Ship what is still waiting for up to drain_s seconds (only while the server answers),
 * then stop and join the thread. Returns the records still waiting (0: all shipped);
 * NULL is fine (0). */
int64_t st_shipper_stop(st_shipper *s, double drain_s);

#endif

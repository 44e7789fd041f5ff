/* engine.h - the production line: discovers units as they are plugged in, gives each a
 * worker thread, and lets the operator pause, resume, change the profile and stop.
 * Everything the line does is visible only through st_engine_snapshot() (an
 * st_line_view copy) and the event stream; records go through the events channel's
 * queue to the one recorder thread (recorder.h), which the caller attaches.
 *
 * Use:  st_engine_new -> st_recorder_start(st_engine_events(e), db) -> st_engine_start
 *       ... st_engine_stop -> st_engine_wait -> st_recorder_stop -> st_engine_free
 * All functions are thread-safe except new/free. */
#ifndef ST_ENGINE_H
#define ST_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "discovery.h"
#include "err.h"
#include "events.h"
#include "line_view.h"
#include "profile.h"
#include "retry_policy.h"

typedef struct st_engine_cfg {
    char profile_path[ST_PATH_MAX];   /* resolved profile file */
    char profile_search[1024];        /* ':'-separated folders for st_engine_set_profile names */
    char sim_dir[ST_PATH_MAX];        /* "" = no simulator folder */
    bool scan_usb;                    /* list real USB serial ports (default true) */
    st_usb_filter filter;             /* default: the ESP bridges */
    st_retry_limits limits;
    int sync_attempts;                /* connect attempts per try; 0 = the loader's default */
    double attempt_timeout_s;         /* watchdog per try; 0 = derived from the profile's size */
    double grace_s;                   /* after a stop, in-flight tries get this long (default 30) */
    bool locked;                      /* operator lock-down: no profile change from the UI */
    bool allow_profile_path;          /* st_engine_set_profile takes paths too (else only the
                                       * names found in profile_search) */
    char operator_name[64];
    char host[64];                    /* "" = gethostname() */
    char cache_dir[ST_PATH_MAX];      /* compressed-image cache; "" = none */
    bool new_serial;                  /* provisioning: re-flashed units get a new serial */
    char layout_path[ST_PATH_MAX];    /* line layout file (layout.h); "" = none */
} st_engine_cfg;

typedef struct st_engine st_engine;

/* Defaults: USB scan on, default filter and limits, grace 30 s. */
void st_engine_cfg_default(st_engine_cfg *cfg);

/* Load and prepare the profile and the layout file (refusing a bad one before anything
 * runs) and set up the event channel. Nothing is scanned or flashed until st_engine_start. */
int st_engine_new(const st_engine_cfg *cfg, st_engine **out, st_err *err);
/* The event channel: attach the recorder to its queue before st_engine_start. */
st_events *st_engine_events(st_engine *e);
/* Start discovery (ports are polled every 200 ms; arrivals get a worker at once). */
int st_engine_start(st_engine *e, st_err *err);

/* Copy the line's state (for the dashboard, printers, tests). */
void st_engine_snapshot(st_engine *e, st_line_view *out);
/* Events with seq > after, oldest first (see st_events_since). */
int st_engine_events_since(st_engine *e, uint64_t after, st_event *out, int cap, uint64_t *lost);
/* Wait up to timeout_ms for an event with seq > after. */
bool st_engine_wait_event(st_engine *e, uint64_t after, int timeout_ms);

/* Pause: units plugged in from now on wait (slot shows PAUSED); units in flight finish.
 * Resume lets the waiting units start. */
void st_engine_pause(st_engine *e);
void st_engine_resume(st_engine *e);
/* Switch to profile `name` (a name found in profile_search; a path too when
 * allow_profile_path) for units that start from now on; units in flight keep theirs.
 * Refused on a locked line. */
int st_engine_set_profile(st_engine *e, const char *name, st_err *err);
/* Stop: no new units start; in-flight tries finish, or are aborted (recorded as
 * interrupted) when abort_in_flight is set or the grace period runs out. Idempotent; a
 * second call with abort_in_flight escalates. */
void st_engine_stop(st_engine *e, bool abort_in_flight);
/* True once stopped and every worker has finished (its records are queued). */
bool st_engine_done(st_engine *e);
/* Wait up to timeout_ms (<0: forever) for st_engine_done. */
bool st_engine_wait(st_engine *e, int timeout_ms);
/* Stop (aborting tries in flight) if needed, join every thread and free. The recorder
 * uses the events channel: stop it after st_engine_wait and before this. */
void st_engine_free(st_engine *e);

#endif

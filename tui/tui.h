/* tui.h - the operator's ncurses dashboard. It reads the line only through snapshots
 * (st_line_view) and acts on it only through the callbacks below, so it knows nothing of
 * serial ports, SLIP or the database. Workers never wait for it: the snapshot copy is the
 * only step it shares with them, and it takes one at most `fps` times a second. */
#ifndef ST_TUI_H
#define ST_TUI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "line_view.h"

typedef struct st_tui_ops {
    void *user; /* passed to every callback */
    /* Required. Copy the line's current state into out (called from the UI thread only). */
    void (*snapshot)(void *user, st_line_view *out);
    /* Stop (true) or resume (false) taking new units; units in flight finish.
     * NULL: the pause key is refused. */
    void (*set_paused)(void *user, bool paused);
    /* Switch the line to profile `name`. Only called while no unit is in flight and the
     * line is not locked. Returns 0, or -1 with err (shown to the operator).
     * NULL: the profile key is refused. */
    int (*set_profile)(void *user, const char *name, st_err *err);
    /* Write the profile names the operator may pick (those on the profile search path),
     * one per line, into buf (NUL-terminated). Returns how many, or -1. The picker offers
     * them; anything else typed by hand is refused unless allow_profile_path. */
    int (*list_profiles)(void *user, char *buf, size_t cap);
    /* Write the attempt history of `mac` as human-readable lines ('\n'-separated, oldest
     * first) into buf (NUL-terminated). Returns the line count, or -1 with err.
     * NULL: the detail view says no history is available. */
    int (*history)(void *user, const char *mac, char *buf, size_t cap, st_err *err);
} st_tui_ops;

typedef struct st_tui_config {
    st_tui_ops ops;
    bool locked;        /* locked line: operators cannot change the profile or settings */
    bool allow_profile_path; /* the picker also takes a profile path typed by hand (the
                              * station's --allow-profile-path); else only listed names */
    int fps;            /* snapshot/redraw rate; 0 = 10 */
    atomic_int *quit;   /* non-NULL and non-zero: leave the dashboard (set it from a signal
                         * handler or another thread) */
    const char *title;  /* header title; NULL = "FLASH STATION" */
    int finish_after;   /* >0: once this many units finished and none is in flight, show
                         * the closing summary and invite the operator to leave (the demo) */
    const char *finish_title; /* its title; NULL = "Done" */
    const char *records;      /* where the records went, for the summary; NULL: not shown */
    bool records_temporary;   /* the records are removed when the program ends */
} st_tui_config;

/* Run the dashboard on the controlling terminal until the operator quits (q; confirmed
 * while units are in flight) or *cfg->quit becomes non-zero. Returns 0, or -1 with err when
 * there is no usable terminal. The terminal is restored on every path; the caller stops the
 * line afterwards. */
int st_tui_run(const st_tui_config *cfg, st_err *err);

#endif

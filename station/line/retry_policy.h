/* retry_policy.h - what the station does after a failed try of one unit: retry in place
 * with an escalated setup (re-sync + fresh stub, a lower baud, ROM-only) or give up and
 * bin the unit. The whole policy is one table in retry_policy.c. */
#ifndef ST_RETRY_POLICY_H
#define ST_RETRY_POLICY_H

#include <stdbool.h>

#include "err.h"

/* One escalation step; each retry opens the port afresh, so every step re-syncs and
 * (unless ROM-only) uploads the stub again. */
typedef enum {
    ST_RETRY_GIVE_UP = 0,  /* permanent, or the class's steps / the try limit are used up */
    ST_RETRY_RESYNC,       /* same settings: reset, re-sync, re-upload the stub */
    ST_RETRY_LOWER_BAUD,   /* next rung down the profile's baud ladder */
    ST_RETRY_ROM_ONLY,     /* no stub: flash through the ROM loader */
} st_retry_step;

/* Limits an operator may change (station run --max-tries, --min-baud ...). */
typedef struct st_retry_limits {
    int max_tries;         /* tries per unit in the slot, first included; default 3 */
    int min_baud;          /* never step below this baud; default 115200 */
    bool allow_rom_only;   /* the ROM-only step may be used; default true */
} st_retry_limits;

/* Settings of one try, derived from the profile's ladder and the steps taken so far. */
typedef struct st_retry_state {
    int tries;             /* tries made so far */
    int ladder_idx;        /* index into the profile's baud ladder */
    bool no_stub;
    int steps_taken[ST_FC_COUNT]; /* escalation steps already used per class */
} st_retry_state;

/* Defaults (max_tries 3, min_baud 115200, ROM-only allowed). */
void st_retry_limits_default(st_retry_limits *l);
/* Start state for a new unit: first rung, with the stub. */
void st_retry_begin(st_retry_state *s);
/* True for classes that are never retried in place (wrong_chip, flash_too_small,
 * vanished, config, interrupted). */
bool st_retry_is_permanent(st_fclass c);
/* After a failed try of class c: choose the next step and apply it to s (ladder index,
 * no_stub). bauds/n_bauds is the profile's ladder. ST_RETRY_GIVE_UP when the unit is done
 * trying. A step that cannot apply (no lower rung, ROM-only already) moves on to the
 * class's next step. */
st_retry_step st_retry_next(const st_retry_limits *l, const int *bauds, int n_bauds,
                            st_fclass c, st_retry_state *s);
/* st_retry_next for a whole error: class no_boot is decided by its diagnosis (err->boot:
 * only a silent console is retried; brownout, bad image, panic, boot loop and a wrong
 * banner are not fixed by writing the same bytes again). Other classes as st_retry_next
 * (which treats a bare no_boot as silent). */
st_retry_step st_retry_next_err(const st_retry_limits *l, const int *bauds, int n_bauds,
                                const st_err *e, st_retry_state *s);
bool st_retry_is_permanent_err(const st_err *e);
/* Baud for the next try given s (the profile's ladder entry). */
int st_retry_baud(const st_retry_state *s, const int *bauds, int n_bauds);
/* Stable name for logs: "resync", "lower_baud", "rom_only", "give_up". */
const char *st_retry_step_name(st_retry_step s);
/* Stub uploads the loader may make inside one try. The engine keeps this at 1 so every
 * RAM checksum failure is a recorded try and the escalation is visible. */
int st_retry_stub_attempts_per_try(void);

#endif

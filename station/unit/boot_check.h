/* boot_check.h - after the flash: listen on the app's console and pass the unit only when
 * the profile's [boot_check] pattern shows up in time; otherwise class no_boot with the
 * console's last lines and a diagnosis read from them (brownout, bad image, panic, boot
 * loop, silence, or output that never matched). */
#ifndef ST_BOOT_CHECK_H
#define ST_BOOT_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "port.h"
#include "profile.h"

#define ST_BOOT_CONSOLE_LINES 12

typedef struct st_boot_result {
    bool checked;            /* a boot check ran */
    bool passed;             /* the pattern matched */
    st_boot_diag diag;       /* no_boot: what the console showed */
    char matched[200];       /* the line that matched */
    char captured[160];      /* "version=1.4.2; build=7", in the order of capture = */
    char console[1024];      /* the last console lines, '\n'-separated, newest last */
    int resets;              /* "rst:" lines seen */
    double t_boot;           /* seconds from listening to the match (or to giving up) */
} st_boot_result;

/* The value of capture group `name` in captured ("version=1.4.2; build=7") into out;
 * false (out "") when it has none. */
bool st_boot_captured_value(const char *captured, const char *name, char *out, size_t cap);

/* Diagnosis of console text (lines separated by '\n'): the most specific failure seen,
 * in this order: brownout, panic, bad image, boot loop (3 or more "rst:" lines); else
 * no_match when anything printable came, else silent. */
st_boot_diag st_boot_classify(const char *console, int resets);

/* Listen on p (already at bc->baud) for up to bc->timeout_ms: `pre` is console text
 * already read (npre bytes, may be 0). Stops early at a match, or once the unit has
 * reset 3 times after boot. Returns 0 when the pattern matched (r->passed), else -1 with
 * err: class no_boot, phase boot_check, err->boot the diagnosis, the last console line in
 * the message and the diagnosis' hint; ST_E_GONE / interrupted as such. */
int st_boot_listen(st_port *p, const st_boot_check *bc, const void *pre, size_t npre,
                   atomic_int *abort, st_boot_result *r, st_err *err);

#endif

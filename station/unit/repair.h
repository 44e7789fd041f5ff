/* repair.h - the repair bench's unit operations besides flashing (repair.c, flash_read.c),
 * each one connection through session.h: connect without flashing (reset, sync, detect:
 * chip, eFuse, flash ID and status registers), then identify, clear write protection,
 * erase or read the flash. A stub (and the baud ladder) is used where the operation needs
 * the stub's commands (erase, read); identify and unprotect talk to the ROM loader.
 * Every function fills rep (port, chip, link figures) as far as it got and returns 0, or
 * -1 with err carrying phase, command, status bytes and failure class. */
#ifndef ST_REPAIR_H
#define ST_REPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "flash_unit.h"
#include "stub.h"

/* The stub and baud ladder an operation that needs the stub connects with. */
typedef struct st_repair_link {
    const st_stub_image *stub;   /* required for erase and read */
    const int *bauds;            /* target then fall-back ladder; n_bauds 0 = 115200 */
    int n_bauds;
} st_repair_link;

/* Connect and read what the unit is: chip, eFuse (MAC and its CRC, security state),
 * crystal, flash JEDEC ID, size and status registers SR1-3. Changes nothing. */
int st_repair_identify(const char *port, const st_flash_opts *o, st_flash_report *rep,
                       st_err *err);

/* Connect, read the status registers and, when they protect anything, clear the
 * protection bits (volatile write; with nonvolatile, then a non-volatile write when the
 * volatile one did not hold), read back into rep->flash_sr_after (rep->chip.flash_sr:
 * before; rep->unprotected when a write was made). Still protected afterwards: -1,
 * write_protected, saying why. */
int st_repair_unprotect(const char *port, const st_flash_opts *o, bool nonvolatile,
                        st_flash_report *rep, st_err *err);

#endif

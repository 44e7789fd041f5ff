/* stub_upload.h - loading the flasher stub into RAM through the ROM loader and
 * starting it (stub_upload.c). */
#ifndef ST_STUB_UPLOAD_H
#define ST_STUB_UPLOAD_H

#include "err.h"
#include "loader.h"
#include "stub.h"

/* Brings the ROM loader back for another stub upload (reset and re-sync); 0 or -1. */
typedef int (*st_rom_restart_fn)(void *user, st_err *err);

/* What an upload took: uploads begun, blocks resent after a 01 07, and the seconds from
 * the first 01 07 to the stub running (0 when no block was repaired or it never ran). */
typedef struct st_stub_stats {
    int uploads;
    int repaired;
    double t_repair;
} st_stub_stats;

/* Upload stub (text then data, MEM_DATA blocks of 0x200: small, so that a resend costs
 * little wire time at 115200 while a clean upload is no slower), start it and wait for
 * "OHAI". A RAM block answered 01 07 (corrupted on the link) has consumed its sequence
 * number and written nothing: it is resent under the next one, where it lands exactly
 * where it belongs (§14.1), and every later block of the segment is numbered one higher;
 * up to 3 resends per block and 8 per upload, each counted in stats->repaired.
 * Beyond that the whole upload starts again, after restart(user) when restart is
 * non-NULL, else from the first MEM_BEGIN; up to `attempts` uploads in all (0 = 3).
 * stats->uploads counts the uploads begun (stats accumulates: callers zero it once).
 * On success l->stub is set. Errors have phase ST_PH_STUB (or the restart's). */
int st_stub_upload(st_loader *l, const st_stub_image *stub, int attempts, st_stub_stats *stats,
                   st_rom_restart_fn restart, void *user, st_err *err);

#endif

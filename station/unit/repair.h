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
#include "session.h"
#include "stub.h"

/* The stub and baud ladder an operation that needs the stub connects with. */
typedef struct st_repair_link {
    const st_stub_image *stub;   /* required for erase and read */
    const int *bauds;            /* target then fall-back ladder; n_bauds 0 = 115200 */
    int n_bauds;
} st_repair_link;

/* The start of every repair operation: st_session_open, detect (an ESP32, else
 * wrong_chip), the flash ID and status registers; with link (non-NULL) the stub too
 * (required: stub_ram_checksum / stub_start when it cannot run), the baud ladder and
 * SPI_SET_PARAMS with the detected size. On failure s still needs st_repair_end. */
int st_repair_connect(st_session *s, const char *port, const st_flash_opts *o,
                      const st_repair_link *link, st_flash_report *rep, st_err *err);
/* Close the session, rep->t_total since t0, the error classed (st_session_finish_err)
 * when rc < 0. Returns rc. */
int st_repair_end(st_session *s, int rc, double t0, st_err *err);

/* Erase [off, off+len) (both 4 KiB aligned: ERASE_REGION), or with all the whole chip
 * (ERASE_FLASH; off and len ignored), through the stub; then SPI_FLASH_MD5 of the range
 * must be that of erased flash (else md5_mismatch naming the range). A protected flash
 * (status registers) is refused write_protected before anything is erased. *erased_off
 * and *erased_len say what was erased. */
int st_repair_erase(const char *port, const st_flash_opts *o, const st_repair_link *link,
                    uint32_t off, uint32_t len, bool all, st_flash_report *rep,
                    uint32_t *erased_off, uint32_t *erased_len, st_err *err);

/* Read [off, off+len) (with all: the whole detected flash) through the stub's READ_FLASH,
 * every packet to sink; the MD5 of the bytes received must match the stub's digest of
 * what it read and SPI_FLASH_MD5 of the same range (else md5_mismatch: the read is no
 * copy of the unit). progress(user, done, total) after each packet (may be NULL). md5
 * receives the verified digest; *read_off, *read_len what was read. */
typedef void (*st_read_progress_fn)(void *user, uint64_t done, uint64_t total);
int st_repair_read(const char *port, const st_flash_opts *o, const st_repair_link *link,
                   uint32_t off, uint32_t len, bool all, st_read_sink sink,
                   st_read_progress_fn progress, void *user, st_flash_report *rep,
                   uint32_t *read_off, uint32_t *read_len, uint8_t md5[16], st_err *err);

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

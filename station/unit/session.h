/* session.h - a connection to one unit without flashing it (session.c): open the port,
 * reset into download mode and sync, read what the unit is (chip, eFuse, flash ID and
 * status registers), upload the flasher stub (with its retries and the fall-back to the
 * ROM loader), change baud along a ladder (a failed rate goes back to 115200 and the
 * next one), attach the flash. `station flash` (flash_unit.c) and the repair-bench
 * commands (identify, read, erase, unprotect) all talk to the unit through it. */
#ifndef ST_SESSION_H
#define ST_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "flash_unit.h"
#include "loader.h"
#include "port.h"
#include "stub.h"

typedef struct st_session {
    const char *port_name;
    const st_flash_opts *o;      /* baud, no_stub, no_reset, sync/stub attempts, abort, callbacks */
    st_flash_report *rep;        /* port, chip, stub and link figures as far as it got */
    st_port *port;               /* owned; NULL when closed */
    st_loader l;
    bool loader_ok;
    int cur_baud;
    uint64_t wire_out, wire_in;  /* of ports already closed */
    const st_stub_image *stub;   /* the stub uploaded (re-uploaded after a baud recovery) */
} st_session;

/* One line for o->log (printf). */
void st_session_log(st_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Progress callback (o->progress) with the phase the loader is in. */
void st_session_progress(st_session *s, st_phase ph, uint64_t done, uint64_t total);
/* Enter phase ph: the loader's phase, and (ph, 0, 0) reported. */
void st_session_enter(st_session *s, st_phase ph);
/* -1 with ST_E_INTERRUPTED when o->abort is set, else 0. */
int st_session_check_abort(st_session *s, st_err *err);

/* Open port_name at 115200, reset into download mode (lines, or a reopen of a port
 * without them) and SYNC (o->sync_attempts, default 7). rep is zeroed, then rep->port,
 * rep->baud and rep->t_connect are filled. On failure the session still needs
 * st_session_close. Errors: no_sync (with the boot mode seen), the port's. */
int st_session_open(st_session *s, const char *port_name, const st_flash_opts *o,
                    st_flash_report *rep, st_err *err);
/* Reset back into the ROM loader and sync again (nothing with o->no_reset). */
int st_session_reset_to_rom(st_session *s, st_err *err);
/* Detect magic, eFuse BLK0, revision, crystal into rep->chip (rep->chip_known). */
int st_session_chip(st_session *s, st_err *err);
/* SPI_ATTACH (ROM), the JEDEC ID and the size it codes, into rep->chip. */
int st_session_flash_id(st_session *s, st_err *err);
/* The flash status registers SR1-3 into rep->chip.flash_sr (flash_sr_known). */
int st_session_flash_status(st_session *s, st_err *err);
/* Upload stub (NULL or o->no_stub: stay with the ROM, saying why_rom in the log). A stub
 * found running at sync is kept. A stub that cannot be uploaded falls back to the ROM
 * loader unless required (then the attempt fails stub_ram_checksum / stub_start). */
int st_session_stub(st_session *s, const st_stub_image *stub, const char *why_rom, bool required,
                    st_err *err);
/* Change baud: o->baud if set, else bauds[0], then the lower rates of bauds on failure
 * (n may be 0: 115200 stays). rep->baud is the rate reached. */
int st_session_baud(st_session *s, const int *bauds, int n, st_err *err);
/* SPI_ATTACH again (ROM) and SPI_SET_PARAMS with flash_size. */
int st_session_attach(st_session *s, uint32_t flash_size, st_err *err);
/* Line noise logged, wire totals into rep, loader freed, port closed. Safe to call after a
 * failed st_session_open and twice. */
void st_session_close(st_session *s);

/* The port resets the unit by DTR/RTS (and o->no_reset is not set). */
bool st_session_has_lines(const st_session *s);

/* Give the error a failure class from its category when it has none, and the class's
 * hint when it has none. */
void st_session_finish_err(st_err *err);

#endif

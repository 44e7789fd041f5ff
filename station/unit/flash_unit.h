/* flash_unit.h - flash one unit end to end: open the port, reset into download mode,
 * sync, detect, upload the stub, change baud (with the fall-back ladder), attach, write
 * compressed, verify every region by MD5, hard-reset. One call = one attempt; the retry
 * policy (engine) decides whether to call again with escalated options. */
#ifndef ST_FLASH_UNIT_H
#define ST_FLASH_UNIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot_check.h"
#include "chip.h"
#include "err.h"
#include "image.h"
#include "port.h"

/* Called from the flashing thread on every phase change and progress step. */
typedef void (*st_progress_fn)(void *user, st_phase phase, uint64_t done, uint64_t total);
/* One human-readable line per notable event ("detected ESP32-D0WD-V3 ..."). */
typedef void (*st_log_fn)(void *user, const char *line);
/* The unit's own region (its NVS partition), asked for once the MAC is known and before
 * anything is written: fill *img (st_image_from_bytes) and return 0, or return -1 with
 * err; the attempt then fails with that error, the unit untouched. */
typedef int (*st_unit_region_fn)(void *user, const st_chip_info *chip, st_image *img, st_err *err);

typedef struct st_flash_opts {
    int baud;               /* target baud; 0 = the profile's ladder (bauds[0] first) */
    bool no_stub;           /* true: flash through the ROM loader only */
    bool no_reset;          /* true: do not toggle DTR/RTS (unit already in download mode) */
    int sync_attempts;      /* connect attempts (each: reset + up to 5 SYNCs); 0 = default 7 */
    int stub_attempts;      /* stub uploads tried on RAM-block checksum errors; 0 = default 3 */
    atomic_int *abort;      /* non-NULL and non-zero: stop at the next block, ST_E_INTERRUPTED */
    st_progress_fn progress;
    st_log_fn log;
    void *user;             /* passed to progress and log */
    st_unit_region_fn unit_region; /* NULL: no per-unit region */
    bool no_boot_check;     /* true: skip the profile's [boot_check] */
    bool stub_required;     /* true: a stub that cannot be uploaded/started fails the attempt
                             * (stub_ram_checksum / stub_start) instead of falling back to the
                             * ROM loader inside it, so the engine's retry policy escalates */
    st_reflash reflash;     /* changed: ask the unit per region / 64 KiB block and write only
                             * what differs; all (and DEFAULT): write every block. Either
                             * way 0xFF sectors are only erased and every region is verified */
    int unprotect;          /* flash status register protection found at detect: 0 = fail
                             * write_protected before writing; 1 = clear it (volatile write,
                             * lost at power-off); 2 = volatile, then non-volatile if that did
                             * not hold */
    bool program_erased;    /* true: program 0xFF sectors like the rest instead of erase-only
                             * runs (the station before issue 12; for benchmarks) */
} st_flash_opts;

typedef struct st_flash_report {
    st_port_info port;      /* bridge identity of the port used */
    st_chip_info chip;      /* valid when chip_known */
    bool chip_known;
    bool used_stub;
    st_stub_kind stub_kind; /* which stub ran (valid with used_stub) */
    int stub_uploads;       /* stub upload tries made (2 = the first failed and was retried) */
    int blocks_repaired;    /* blocks answered 01 07 / C1 (corrupted on the link) and resent:
                             * MEM_DATA under the next seq, FLASH_DATA likewise, stub
                             * FLASH_DEFL_DATA under the same seq */
    int baud;               /* baud the data went at */
    uint64_t bytes_raw;     /* image bytes written (programmed through a stream) */
    uint64_t bytes_compressed; /* image bytes sent: compressed through the stub, the raw
                                * bytes through the ROM loader (uncompressed writes) */
    uint64_t bytes_erased;  /* bytes erased without programming (all-0xFF sectors) */
    int regions_unchanged;  /* regions the unit already held (MD5): nothing written */
    int blocks_compared, blocks_changed; /* 64 KiB blocks asked for / found different */
    int streams, erases;    /* write streams sent / erase-only runs */
    bool unprotected;       /* the status registers were written (chip.flash_sr: before) */
    uint8_t flash_sr_after[3]; /* read back after the write */
    uint64_t wire_out, wire_in; /* bytes on the wire, both directions */
    int regions_verified;   /* regions whose MD5 matched (the unit's own region included) */
    int regions_proved_at_check; /* of those, proved by the block digests that found them
                                  * unchanged (nothing written into them since) */
    bool unit_region;       /* a per-unit region was written */
    st_boot_result boot;    /* the boot check, when the profile has one (boot.checked) */
    double t_connect, t_stub, t_write, t_verify, t_total; /* seconds */
    double t_stub_repair;   /* seconds from the first 01 07 of the stub upload to the stub
                             * running (0: no RAM block was repaired) */
} st_flash_report;

/* Flash fw onto the unit at port_name. Returns 0 when every region verified (and, with a
 * [boot_check], the app came up after the reset); otherwise
 * -1 with err naming phase, command, status bytes and the failure class. rep is filled
 * as far as the attempt got (MAC and chip as soon as they were read). */
int st_flash_unit(const char *port_name, const st_fwset *fw, const st_flash_opts *opts,
                  st_flash_report *rep, st_err *err);

#endif

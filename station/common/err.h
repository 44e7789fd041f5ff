/* err.h - errors as values: a category, the phase and command that failed, the
 * device's status bytes, a human message and an operator hint.
 *
 * Convention for every fallible function in the station: return 0 on success or
 * -1 on failure with the caller's `st_err *err` filled in (never a bare -1). */
#ifndef ST_ERR_H
#define ST_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* What kind of thing went wrong (drives retry policy together with st_fclass). */
typedef enum {
    ST_E_NONE = 0,
    ST_E_ARG,         /* caller or user gave something invalid */
    ST_E_IO,          /* OS-level read/write/open failure */
    ST_E_TIMEOUT,     /* no (complete) answer in time */
    ST_E_PROTOCOL,    /* malformed or unexpected reply */
    ST_E_DEVICE,      /* device answered with a failure status */
    ST_E_VERIFY,      /* read-back digest differs */
    ST_E_PROFILE,     /* profile or image problem, before any unit is touched */
    ST_E_NOMEM,
    ST_E_GONE,        /* the unit vanished (unplugged, port closed) */
    ST_E_CHIP,        /* wrong chip or flash too small */
    ST_E_DB,          /* the record store failed */
    ST_E_INTERRUPTED, /* stopped by the operator / signal */
} st_errcat;

/* Where in a unit's life it went wrong. */
typedef enum {
    ST_PH_NONE = 0,
    ST_PH_OPEN,
    ST_PH_CONNECT,
    ST_PH_SYNC,
    ST_PH_DETECT,
    ST_PH_STUB,
    ST_PH_BAUD,
    ST_PH_ATTACH,
    ST_PH_WRITE,   /* erase/write */
    ST_PH_VERIFY,
    ST_PH_RESET,
    ST_PH_DONE,
    ST_PH_PROFILE,
    ST_PH_DB,
    ST_PH_BOOT,    /* after the reset: listening for the app's "I am up" line */
    ST_PH_COUNT
} st_phase;

/* Failure classes an operator and the retry policy act on. */
typedef enum {
    ST_FC_NONE = 0,
    ST_FC_NO_SYNC,           /* not in download mode / no answer to SYNC */
    ST_FC_STUB_RAM_CHECKSUM, /* 01 07 on MEM_DATA: bytes corrupted on the link */
    ST_FC_STUB_START,        /* stub uploaded but never greeted */
    ST_FC_BAUD_CHANGE,
    ST_FC_FLASH_WRITE,
    ST_FC_INFLATE,
    ST_FC_MD5_MISMATCH,
    ST_FC_BLANK_READBACK,    /* region reads back erased (all 0xFF) */
    ST_FC_WRONG_CHIP,
    ST_FC_FLASH_TOO_SMALL,
    ST_FC_TIMEOUT,
    ST_FC_VANISHED,
    ST_FC_PROTOCOL,          /* garbage / unexpected reply */
    ST_FC_IO,
    ST_FC_INTERRUPTED,
    ST_FC_CONFIG,            /* profile/image/database problem: not the unit's fault */
    ST_FC_WRITE_PROTECTED,   /* the flash's status register protects blocks or itself */
    ST_FC_NO_BOOT,           /* flashed and verified, but the app did not come up (err.boot) */
    ST_FC_COUNT
} st_fclass;

/* What the console showed when a unit did not boot (class no_boot). */
typedef enum {
    ST_BOOT_NONE = 0,
    ST_BOOT_SILENT,          /* nothing at all on the console */
    ST_BOOT_NO_MATCH,        /* it printed, but never the expected line (wrong firmware?) */
    ST_BOOT_BROWNOUT,        /* "Brownout detector was triggered": power (hub, cable) */
    ST_BOOT_BAD_IMAGE,       /* "invalid header" / "flash read err": flash params or image */
    ST_BOOT_PANIC,           /* "Guru Meditation Error": the firmware crashed */
    ST_BOOT_LOOP,            /* several "rst:" lines: it keeps rebooting */
    ST_BOOT_COUNT
} st_boot_diag;

typedef struct st_err {
    st_errcat cat;
    st_phase phase;
    st_fclass fclass;
    uint8_t cmd;          /* loader opcode involved, 0 if none */
    uint8_t status[4];    /* status bytes as received */
    uint8_t nstatus;      /* 0 (none), 2 (stub) or 4 (ROM) */
    int sys_errno;        /* errno where an OS call failed, else 0 */
    st_boot_diag boot;    /* class no_boot: what the console showed */
    char msg[320];        /* what happened, with specifics (file, line, values) */
    char hint[256];       /* what the operator should do */
} st_err;

/* Reset an error to "no error". */
void st_err_clear(st_err *e);
/* Fill e (if non-NULL) and return -1, so callers can `return st_err_set(...)`. */
int st_err_set(st_err *e, st_errcat cat, st_phase phase, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A configuration file refused at a line (0: the whole file): message "<kind>path:line:
 * what" (kind "" or e.g. "layout "), class config, and the hint. Returns -1. */
int st_err_file_line(st_err *e, st_errcat cat, st_phase phase, const char *kind, const char *path,
                     int line, const char *hint, const char *fmt, va_list ap);
/* Set the operator hint (printf-style); returns -1. */
int st_err_hint(st_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend context ("while X: ") to the message, keeping everything else. */
void st_err_wrap(st_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stable lower-case names for logs, DB rows and JSON ("stub_upload", "md5_mismatch"). */
const char *st_phase_name(st_phase p);
const char *st_fclass_name(st_fclass c);
const char *st_errcat_name(st_errcat c);
/* Inverse of st_fclass_name; ST_FC_NONE for unknown names. */
st_fclass st_fclass_from_name(const char *name);
/* "brownout", "bad_image", ... ("" for none) and what the operator should do about it. */
const char *st_boot_diag_name(st_boot_diag d);
const char *st_boot_diag_hint(st_boot_diag d);
/* Human hint for a class when the error site gave none. */
const char *st_fclass_hint(st_fclass c);

/* One line: "stub upload: MEM_DATA failed, status 01 07 00 00 (checksum error ...)". */
void st_err_format(const st_err *e, char *buf, unsigned long cap);

#endif

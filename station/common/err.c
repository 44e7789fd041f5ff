/* err.c - error value helpers and the names used in logs, the database and JSON. */
#include "err.h"
#include "esp_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void st_err_clear(st_err *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

int st_err_set(st_err *e, st_errcat cat, st_phase phase, const char *fmt, ...)
{
    if (!e)
        return -1;
    st_err_clear(e);
    e->cat = cat;
    e->phase = phase;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int st_err_file_line(st_err *e, st_errcat cat, st_phase phase, const char *kind, const char *path,
                     int line, const char *hint, const char *fmt, va_list ap)
{
    if (!e)
        return -1;
    char what[256];
    vsnprintf(what, sizeof what, fmt, ap);
    if (line > 0)
        st_err_set(e, cat, phase, "%s%s:%d: %s", kind, path, line, what);
    else
        st_err_set(e, cat, phase, "%s%s: %s", kind, path, what);
    e->fclass = ST_FC_CONFIG;
    return st_err_hint(e, "%s", hint);
}

int st_err_hint(st_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
    return -1;
}

void st_err_wrap(st_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char pre[160], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* Truncating the tail of a long message is fine: the context goes first. */
    size_t pl = strnlen(pre, sizeof pre - 1);
    memcpy(e->msg, pre, pl);
    memcpy(e->msg + pl, ": ", 2);
    size_t room = sizeof e->msg - pl - 3;
    size_t ol = strnlen(old, room);
    memcpy(e->msg + pl + 2, old, ol);
    e->msg[pl + 2 + ol] = 0;
}

static const char *const phase_names[ST_PH_COUNT] = {
    [ST_PH_NONE] = "none",       [ST_PH_OPEN] = "open",       [ST_PH_CONNECT] = "connect",
    [ST_PH_SYNC] = "sync",       [ST_PH_DETECT] = "detect",   [ST_PH_STUB] = "stub_upload",
    [ST_PH_BAUD] = "baud_change", [ST_PH_ATTACH] = "attach",  [ST_PH_WRITE] = "write",
    [ST_PH_VERIFY] = "verify",   [ST_PH_RESET] = "reset",     [ST_PH_DONE] = "done",
    [ST_PH_PROFILE] = "profile", [ST_PH_DB] = "database",   [ST_PH_BOOT] = "boot_check",
};

const char *st_phase_name(st_phase p)
{
    return (p >= 0 && p < ST_PH_COUNT && phase_names[p]) ? phase_names[p] : "unknown";
}

static const struct {
    const char *name;
    const char *hint;
} fclass_info[ST_FC_COUNT] = {
    [ST_FC_NONE] = {"none", ""},
    [ST_FC_NO_SYNC] = {"no_sync", "unit is not in download mode or not talking: reseat the cable, "
                                  "hold BOOT while plugging in, check the port is not used by another program"},
    [ST_FC_STUB_RAM_CHECKSUM] = {"stub_ram_checksum",
                                 "bytes were corrupted on the serial link during stub upload (01 07): "
                                 "try another cable or hub port, a powered hub, or the bridge vendor's driver"},
    [ST_FC_STUB_START] = {"stub_start", "the flasher stub was uploaded but did not start: retry; if it "
                                        "persists the unit's RAM or power is suspect"},
    [ST_FC_BAUD_CHANGE] = {"baud_change", "the bridge did not hold the faster baud: the ladder falls back; "
                                          "if every rate fails, check the bridge and cable"},
    [ST_FC_FLASH_WRITE] = {"flash_write", "the unit's flash reported a write error: retry once, then set "
                                          "the unit aside (flash chip or its power is suspect)"},
    [ST_FC_INFLATE] = {"inflate", "compressed data arrived damaged on the unit: retry at a lower baud"},
    [ST_FC_MD5_MISMATCH] = {"md5_mismatch", "flash content differs from the image after writing: retry; "
                                            "if it repeats the flash may be write-protected or failing"},
    [ST_FC_BLANK_READBACK] = {"blank_readback", "the region reads back erased: the write did not land; "
                                                "check flash write protection and power"},
    [ST_FC_WRONG_CHIP] = {"wrong_chip", "this unit is not the chip the profile is for: check the product "
                                        "on this line or pick the right profile"},
    [ST_FC_FLASH_TOO_SMALL] = {"flash_too_small", "the unit's flash is smaller than the profile needs: "
                                                  "wrong product variant; set it aside"},
    [ST_FC_TIMEOUT] = {"timeout", "the unit stopped answering: reseat the cable; check power"},
    [ST_FC_VANISHED] = {"vanished", "the unit was unplugged or its port disappeared mid-flash: plug it "
                                    "back in to flash again"},
    [ST_FC_PROTOCOL] = {"protocol", "garbage or unexpected replies on the serial line: check cable, "
                                    "ground and that nothing else uses the port"},
    [ST_FC_IO] = {"io", "the serial port failed: check the USB connection and permissions"},
    [ST_FC_INTERRUPTED] = {"interrupted", "the station stopped while this unit was in flight: flash it again"},
    [ST_FC_CONFIG] = {"config", "fix the profile, image files or database named in the message"},
    [ST_FC_WRITE_PROTECTED] = {"write_protected",
                               "the flash chip's status register write-protects blocks (BP/CMP) or "
                               "itself (SRP/WPS), so writes would be ignored: clear it on the repair "
                               "bench with `station flash --unprotect` (then flash again)"},
    [ST_FC_NO_BOOT] = {"no_boot", "the flash verified but the app did not come up: read the console "
                                  "lines and the diagnosis in the record"},
};

const char *st_fclass_name(st_fclass c)
{
    return (c >= 0 && c < ST_FC_COUNT) ? fclass_info[c].name : "unknown";
}

const char *st_fclass_hint(st_fclass c)
{
    return (c >= 0 && c < ST_FC_COUNT) ? fclass_info[c].hint : "";
}

st_fclass st_fclass_from_name(const char *name)
{
    for (int i = 0; name && i < ST_FC_COUNT; i++)
        if (strcmp(fclass_info[i].name, name) == 0)
            return (st_fclass)i;
    return ST_FC_NONE;
}

const char *st_errcat_name(st_errcat c)
{
    static const char *const n[] = {"none",    "argument", "io",     "timeout", "protocol",
                                    "device",  "verify",   "profile", "nomem",  "gone",
                                    "chip",    "database", "interrupted"};
    return (c >= 0 && (unsigned)c < sizeof n / sizeof n[0]) ? n[c] : "unknown";
}

void st_err_format(const st_err *e, char *buf, unsigned long cap)
{
    char st[160] = "";
    if (e->nstatus) {
        int n = snprintf(st, sizeof st, ", status");
        for (int i = 0; i < e->nstatus && n < (int)sizeof st; i++)
            n += snprintf(st + n, sizeof st - n, " %02x", e->status[i]);
        const char *meaning = esp_status_meaning(e->status, e->nstatus);
        if (meaning && *meaning && n < (int)sizeof st)
            snprintf(st + n, sizeof st - n, " (%s)", meaning);
    }
    snprintf(buf, cap, "%s%s%s: %s%s", st_phase_name(e->phase), e->cmd ? ", " : "",
             e->cmd ? esp_cmd_name(e->cmd) : "", e->msg, st);
}

static const struct {
    const char *name, *hint;
} boot_info[ST_BOOT_COUNT] = {
    [ST_BOOT_NONE] = {"", ""},
    [ST_BOOT_SILENT] = {"silent", "nothing on the console after the reset: check the console baud in "
                                  "[boot_check], the reset wiring (EN/RTS) and that the unit is powered"},
    [ST_BOOT_NO_MATCH] = {"no_match", "the unit printed, but never the expected line: wrong firmware "
                                      "for this board, or the profile's expect pattern is out of date"},
    [ST_BOOT_BROWNOUT] = {"brownout", "brown-out when the app started: power the hub (or a shorter/"
                                      "thicker cable), then flash the unit again; not the station's fault"},
    [ST_BOOT_BAD_IMAGE] = {"bad_image", "the bootloader could not load the image (invalid header / flash "
                                        "read err): check flash_mode/flash_freq and the image files"},
    [ST_BOOT_PANIC] = {"panic", "the firmware crashed at start (Guru Meditation): a firmware bug, not the "
                                "station's fault; give the console lines to the firmware team"},
    [ST_BOOT_LOOP] = {"boot_loop", "the unit keeps rebooting: check power first, then the firmware"},
};

const char *st_boot_diag_name(st_boot_diag d)
{
    return (d >= 0 && d < ST_BOOT_COUNT) ? boot_info[d].name : "";
}

const char *st_boot_diag_hint(st_boot_diag d)
{
    return (d >= 0 && d < ST_BOOT_COUNT) ? boot_info[d].hint : "";
}

/* flash_unit.c - one attempt at flashing one unit (flash_unit.h): open, reset into
 * download mode, sync, detect and refuse early, stub (with retries and a fall-back to
 * the ROM loader), baud ladder, attach, compressed writes, MD5 verification, reset.
 * Progress: every phase change is reported as (phase, 0, 0); writing reports compressed
 * bytes sent over the profile's total compressed bytes; verifying, regions done. */
#include "flash_unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect.h"
#include "esp_proto.h"
#include "flash_plan.h"
#include "flash_write.h"
#include "loader.h"
#include "reset.h"
#include "stub_upload.h"

#define SYNC_TRIES 5           /* SYNCs per connect attempt */
#define REOPEN_SETTLE_MS 200   /* let the far end see the hang-up before reopening */
#define BOOT_BANNER_MS 2000    /* for the boot banner of a unit reset by the reopen */

typedef struct fu {
    const char *port_name;
    const st_fwset *fw;
    const st_flash_opts *o;
    st_flash_report *rep;
    st_port *port;
    st_loader l;
    int cur_baud;
    uint64_t wire_out, wire_in; /* of ports already closed */
    uint64_t zdone;             /* compressed bytes of the streams already written */
    uint64_t ztotal;            /* compressed bytes the plans will send */
    st_image unit_img;          /* the unit's own region (opts->unit_region), if any */
    bool has_unit_img;
} fu;

static void logf_(fu *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(fu *f, const char *fmt, ...)
{
    if (!f->o->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->o->log(f->o->user, line);
}

static void progress(fu *f, st_phase ph, uint64_t done, uint64_t total)
{
    if (f->o->progress)
        f->o->progress(f->o->user, ph, done, total);
}

static void enter(fu *f, st_phase ph)
{
    f->l.phase = ph;
    progress(f, ph, 0, 0);
}

static int check_abort(fu *f, st_err *err)
{
    if (!f->o->abort || !atomic_load(f->o->abort))
        return 0;
    st_err_set(err, ST_E_INTERRUPTED, f->l.phase, "stopped by the operator");
    err->fclass = ST_FC_INTERRUPTED;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_INTERRUPTED));
}

static void wire_totals(fu *f)
{
    f->rep->wire_out = f->wire_out + (f->port ? st_port_bytes_out(f->port) : 0);
    f->rep->wire_in = f->wire_in + (f->port ? st_port_bytes_in(f->port) : 0);
}

static int open_port(fu *f, st_err *err)
{
    if (st_port_open(f->port_name, 115200, &f->port, err) < 0) {
        f->port = NULL;
        err->phase = ST_PH_OPEN;
        return -1;
    }
    f->cur_baud = 115200;
    f->rep->port = *st_port_describe(f->port);
    return 0;
}

/* Close and reopen at 115200. A pseudo-terminal has no DTR/RTS: the simulator takes the
 * hang-up as the reset a real station makes with the lines. */
static int reopen_port(fu *f, st_err *err)
{
    wire_totals(f);
    f->wire_out = f->rep->wire_out;
    f->wire_in = f->rep->wire_in;
    st_port_close(f->port);
    f->port = NULL;
    st_sleep_ms(REOPEN_SETTLE_MS);
    if (open_port(f, err) < 0)
        return -1;
    st_loader_set_port(&f->l, f->port);
    return 0;
}

static bool resets_by_lines(const fu *f)
{
    return !f->o->no_reset && st_port_describe(f->port)->has_modem_lines;
}

static bool resets_by_reopen(const fu *f)
{
    return !f->o->no_reset && !st_port_describe(f->port)->has_modem_lines;
}

/* "boot:0x13" and whether "waiting for download" follows, from the captured banner. */
static int banner_boot_mode(const char *b, bool *waiting)
{
    const char *p = strstr(b, "boot:0x");
    if (!p)
        return -1;
    unsigned v = 0;
    if (sscanf(p + 5, "%x", &v) != 1)
        return -1;
    *waiting = strstr(p, "waiting for download") != NULL;
    return (int)v;
}

static int no_sync_error(fu *f, int attempts, st_err *err)
{
    bool waiting = false;
    int mode = banner_boot_mode(f->l.banner, &waiting);
    if (mode >= 0 && !waiting)
        st_err_set(err, ST_E_TIMEOUT, ST_PH_SYNC,
                   "wrong boot mode (0x%02x): not in download mode; no reply to SYNC after %d "
                   "connect attempts", mode, attempts);
    else if (mode >= 0)
        st_err_set(err, ST_E_TIMEOUT, ST_PH_SYNC,
                   "download mode detected (boot:0x%02x) but no reply to SYNC after %d connect "
                   "attempts: the serial TX path seems to be down", mode, attempts);
    else
        st_err_set(err, ST_E_TIMEOUT, ST_PH_SYNC,
                   "no reply to SYNC after %d connect attempts (%d SYNCs each)", attempts,
                   SYNC_TRIES);
    err->cmd = ESP_SYNC;
    err->fclass = ST_FC_NO_SYNC;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_NO_SYNC));
}

/* Reset into download mode (when the port can) and SYNC; leaves the ROM talking. */
static int connect_unit(fu *f, st_err *err)
{
    int attempts = f->o->sync_attempts > 0 ? f->o->sync_attempts : 7;
    f->l.capture = true;
    f->l.banner_len = 0;
    f->l.banner[0] = 0;
    for (int a = 0; a < attempts; a++) {
        f->l.phase = ST_PH_CONNECT;
        if (check_abort(f, err) < 0)
            return -1;
        if (resets_by_lines(f)) {
            st_reset_kind kind;
            int delay;
            st_reset_plan(a, &kind, &delay);
            if (st_reset_download(f->port, kind, delay, err) < 0)
                return -1;
        } else if (a > 0 && resets_by_reopen(f)) {
            if (reopen_port(f, err) < 0)
                return -1;
        }
        /* Keep the boot banner for diagnosis, and start syncing on a quiet line. A unit
         * reset by the (re)open resets when the far end takes the hang-up in, however
         * late that is: its boot banner marks the new session, and what came before
         * (late answers to the old one) must not pass for answers to this one's SYNC. */
        if (resets_by_reopen(f))
            st_loader_await_boot(&f->l, 30, BOOT_BANNER_MS);
        else
            st_loader_drain(&f->l, 30, 300);
        f->l.phase = ST_PH_SYNC;
        for (int t = 0; t < SYNC_TRIES; t++) {
            st_err e;
            if (st_cmd_sync(&f->l, ST_TO_SYNC_MS, &e) == 0) {
                f->l.capture = false;
                st_cmd_sync_drain(&f->l);
                /* The ROM answers SYNC with a non-zero value, a stub with 0 (§3.2): a unit
                 * left running a stub (no reset since, e.g. --no-reset on an RFC 2217 or
                 * USB port) is talked to as the stub, not sent the ROM's commands. */
                f->l.stub = f->l.sync_value == 0;
                if (f->l.stub)
                    logf_(f, "SYNC answered with value 0: a flasher stub is already running");
                /* Count line noise from here on: the boot banner is not noise. */
                f->l.dec.noise_bytes = f->l.dec.dropped_frames = 0;
                f->l.skipped_frames = 0;
                return 0;
            }
            if (e.cat == ST_E_GONE || e.cat == ST_E_IO) {
                *err = e;
                return -1;
            }
            st_sleep_ms(50);
        }
    }
    f->l.capture = false;
    return no_sync_error(f, attempts, err);
}

/* Reset the unit back into the ROM loader and sync again: the lines where there are
 * some, else a close and reopen (the simulator's model of the lines). With --no-reset
 * nothing can be reset: the ROM is left as it is. */
static int reset_to_rom(fu *f, st_err *err)
{
    if (f->o->no_reset)
        return 0;
    if (resets_by_reopen(f) && reopen_port(f, err) < 0)
        return -1;
    return connect_unit(f, err);
}

static int restart_for_stub(void *user, st_err *err);

/* st_stub_upload with the report's counters. */
static int upload_stub(fu *f, st_err *err)
{
    st_stub_stats ss = {0};
    int rc = st_stub_upload(&f->l, &f->fw->stub, f->o->stub_attempts, &ss, restart_for_stub, f,
                            err);
    f->rep->stub_uploads += ss.uploads;
    f->rep->blocks_repaired += ss.repaired;
    if (ss.t_repair > 0) {
        f->rep->t_stub_repair = ss.t_repair;
        logf_(f, "stub upload: %d RAM block(s) corrupted on the link (01 07) resent under the next "
              "sequence number; stub running %.1f ms after the first 01 07", ss.repaired,
              ss.t_repair * 1000.0);
    }
    return rc;
}

static int restart_for_stub(void *user, st_err *err)
{
    fu *f = user;
    logf_(f, "RAM blocks kept arriving corrupted (01 07) beyond what resending them under the "
             "next sequence number repairs: reset, sync and upload the stub again");
    return reset_to_rom(f, err);
}

static uint32_t needed_flash(const st_fwset *fw)
{
    uint64_t end = 0;
    for (int i = 0; i < fw->n; i++)
        if (fw->img[i].offset + (uint64_t)fw->img[i].len > end)
            end = fw->img[i].offset + (uint64_t)fw->img[i].len;
    return (uint32_t)end;
}

static int protected_error(fu *f, const uint8_t sr[3], const char *why, st_err *err)
{
    st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
               "flash write-protected: status registers SR1 0x%02x SR2 0x%02x SR3 0x%02x%s%s",
               sr[0], sr[1], sr[2], why ? ": " : "", why ? why : "");
    err->fclass = ST_FC_WRITE_PROTECTED;
    (void)f;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_WRITE_PROTECTED));
}

/* The status registers, read while the ROM talks (as esptool's read_flash_status): a unit
 * whose flash protects blocks or its status register is refused before anything is
 * written, unless the repair bench asked to clear it (volatile first). */
static int check_protection(fu *f, st_err *err)
{
    st_chip_info *ci = &f->rep->chip;
    if (st_spiflash_rdsr(&f->l, ci->flash_sr, err) < 0)
        return -1;
    ci->flash_sr_known = true;
    const uint8_t *sr = ci->flash_sr;
    logf_(f, "flash status SR1 0x%02x SR2 0x%02x SR3 0x%02x%s", sr[0], sr[1], sr[2],
          st_flash_sr_protected(sr) ? " (write protection set)" : "");
    if (!st_flash_sr_protected(sr))
        return 0;
    if (!f->o->unprotect)
        return protected_error(f, sr, NULL, err);
    uint8_t *after = f->rep->flash_sr_after;
    for (int nv = 0; nv <= (f->o->unprotect > 1); nv++) {
        if (st_spiflash_unprotect(&f->l, nv, after, err) < 0)
            return -1;
        f->rep->unprotected = true;
        logf_(f, "unprotect (%s write): status now SR1 0x%02x SR2 0x%02x SR3 0x%02x",
              nv ? "non-volatile" : "volatile", after[0], after[1], after[2]);
        if (!st_flash_sr_protected(after))
            return 0;
    }
    return protected_error(f, after,
                           f->o->unprotect > 1 ? "still set after a non-volatile write: the "
                           "register is locked (SRP1 until a power cycle, or SRP0 with /WP low)"
                           : "still set after a volatile write: try the non-volatile write "
                           "(--unprotect=nv), or power-cycle the unit", err);
}

static int detect(fu *f, st_err *err)
{
    enter(f, ST_PH_DETECT);
    st_chip_info *ci = &f->rep->chip;
    if (st_detect_chip(&f->l, f->cur_baud, ci, err) < 0)
        return -1;
    f->rep->chip_known = true;
    const char *want = f->fw->prof.chip[0] ? f->fw->prof.chip : "esp32";
    if (strcasecmp(ci->chip, want) != 0) {
        const char *is = strcmp(ci->chip, "unknown") ? ci->chip : "an unknown chip";
        st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
                   "wrong chip: the unit is %s (magic 0x%08x), profile %s is for %s", is,
                   ci->magic, f->fw->prof.name, want);
        err->cmd = ESP_READ_REG;
        err->fclass = ST_FC_WRONG_CHIP;
        return st_err_hint(err, "%s", st_fclass_hint(ST_FC_WRONG_CHIP));
    }
    char mac[18];
    st_mac_format(ci->mac, mac);
    logf_(f, "chip %s, MAC %s, %d MHz crystal; %s", ci->description, mac, ci->xtal_mhz,
          ci->features);
    if (ci->mac_crc_bad)
        logf_(f, "WARNING: eFuse MAC CRC is 0x%02x, the MAC %s gives 0x%02x: the MAC may be "
              "misread (recorded with the attempt)", ci->mac_crc, mac, ci->mac_crc_want);
    /* The ROM reaches the flash only after SPI_ATTACH; the JEDEC ID is read here, before
     * anything is uploaded, so an unsuitable unit is refused early. */
    if (st_cmd_spi_attach(&f->l, err) < 0 || st_spiflash_rdid(&f->l, &ci->flash_id, err) < 0)
        return -1;
    ci->flash_size = st_flash_size_from_id(ci->flash_id);
    if (check_protection(f, err) < 0)
        return -1;
    uint32_t need = needed_flash(f->fw);
    if (!ci->flash_size) {
        logf_(f, "flash ID 0x%06x: unknown size code 0x%02x, assuming the profile's %u bytes",
              ci->flash_id, (ci->flash_id >> 16) & 0xFF, f->fw->prof.flash_size);
    } else {
        logf_(f, "flash ID 0x%06x, %u MB", ci->flash_id, ci->flash_size >> 20);
        /* The image header promises the profile's size to the bootloader: a unit with
         * less flash would boot firmware that believes in flash it does not have. */
        if (ci->flash_size < f->fw->prof.flash_size) {
            st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
                       "flash too small: the unit has %u KB (JEDEC ID 0x%06x), profile %s is "
                       "built for flash_size %u KB", ci->flash_size >> 10, ci->flash_id,
                       f->fw->prof.name, f->fw->prof.flash_size >> 10);
            err->fclass = ST_FC_FLASH_TOO_SMALL;
            return st_err_hint(err, "%s", st_fclass_hint(ST_FC_FLASH_TOO_SMALL));
        }
        if (ci->flash_size < need) {
            st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
                       "flash too small: the unit has %u KB (JEDEC ID 0x%06x), the images end at "
                       "0x%x (%u KB)", ci->flash_size >> 10, ci->flash_id, need,
                       (need + 1023) >> 10);
            err->fclass = ST_FC_FLASH_TOO_SMALL;
            return st_err_hint(err, "%s", st_fclass_hint(ST_FC_FLASH_TOO_SMALL));
        }
    }
    return 0;
}

static bool upload_related(st_fclass c)
{
    return c == ST_FC_STUB_RAM_CHECKSUM || c == ST_FC_STUB_START;
}

/* Upload the stub if there is one and it is wanted; on a stub that cannot be uploaded,
 * go on through the ROM loader (after a reset when the ROM jumped into a dead stub). */
static int stub(fu *f, st_err *err)
{
    if (f->l.stub) { /* found running at connect: uploading it again would hit the stub */
        f->rep->used_stub = true;
        f->rep->stub_kind = f->fw->stub.kind;
        logf_(f, "stub already running (the unit was not reset): not uploaded again");
        return 0;
    }
    if (!f->fw->has_stub || f->o->no_stub) {
        logf_(f, "flashing through the ROM loader (%s)", f->o->no_stub ? "--no-stub" : "no stub in the profile");
        return 0;
    }
    enter(f, ST_PH_STUB);
    double t = st_now();
    int rc = upload_stub(f, err);
    f->rep->t_stub += st_now() - t;
    if (rc == 0) {
        f->rep->used_stub = true;
        f->rep->stub_kind = f->fw->stub.kind;
        logf_(f, "stub running: %s (upload %d)", st_stub_kind_name(f->fw->stub.kind),
              f->rep->stub_uploads);
        return 0;
    }
    if (!upload_related(err->fclass) || f->o->stub_required)
        return -1; /* stub_required: the engine's retry policy escalates instead */
    char msg[400];
    st_err_format(err, msg, sizeof msg);
    logf_(f, "stub could not be uploaded (%s); falling back to the ROM loader", msg);
    /* The ROM has jumped into RAM: only a reset brings the loader back. */
    if (err->fclass == ST_FC_STUB_START && reset_to_rom(f, err) < 0)
        return -1;
    f->l.stub = false;
    st_err_clear(err);
    return 0;
}

/* One baud change; on return the link is confirmed at baud (0) or it failed (-1). */
static int try_baud(fu *f, int baud, st_err *err)
{
    f->l.phase = ST_PH_BAUD;
    uint32_t word = (uint32_t)baud, old = 0;
    if (f->l.stub) {
        old = (uint32_t)f->cur_baud; /* the legacy stub rescales its divider from it */
    } else {
        uint32_t cal, ef4;
        if (st_cmd_read_reg(&f->l, ESP32_RTCCALICFG1, &cal, err) < 0 ||
            st_cmd_read_reg(&f->l, ESP32_EFUSE_BASE + 16, &ef4, err) < 0)
            return -1;
        word = st_rom_baud_word(cal, ef4, baud);
    }
    if (st_cmd_change_baud(&f->l, word, old, err) < 0)
        return -1;
    if (st_port_set_baud(f->port, baud, err) < 0) {
        err->phase = ST_PH_BAUD;
        if (err->fclass == ST_FC_NONE)
            err->fclass = ST_FC_BAUD_CHANGE;
        return -1;
    }
    st_sleep_ms(50);
    st_loader_flush(&f->l);
    uint8_t p[4];
    esp_put32(p, ESP32_CHIP_MAGIC_REG);
    st_resp r;
    int rc = st_loader_command(&f->l, ESP_READ_REG, p, 4, 0, ST_TO_BAUD_CONFIRM_MS, 0, 0, &r, err);
    if (rc == 0 && r.value != ESP32_CHIP_MAGIC) {
        st_err_set(err, ST_E_PROTOCOL, ST_PH_BAUD, "link check at %d baud read 0x%08x", baud, r.value);
        rc = -1;
    }
    if (rc < 0) {
        if (err->cat == ST_E_GONE)
            return -1;
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        st_err_set(err, ST_E_PROTOCOL, ST_PH_BAUD, "no clean answer at %d baud (%s)", baud, m);
        err->cmd = ESP_CHANGE_BAUDRATE;
        err->fclass = ST_FC_BAUD_CHANGE;
        st_err_hint(err, "%s", st_fclass_hint(ST_FC_BAUD_CHANGE));
        return -1;
    }
    f->cur_baud = baud;
    return 0;
}

/* Back to the ROM at 115200 after a failed baud, with the stub again if it was used. */
static int recover_link(fu *f, st_err *err)
{
    bool had_stub = f->l.stub;
    /* The unit runs at the failed rate: a reset is the way back, even with --no-reset. */
    if (reopen_port(f, err) < 0 || connect_unit(f, err) < 0)
        return -1;
    if (!had_stub)
        return 0;
    double t = st_now();
    int rc = upload_stub(f, err);
    f->rep->t_stub += st_now() - t;
    if (rc < 0 && upload_related(err->fclass) && err->fclass != ST_FC_STUB_START) {
        logf_(f, "stub upload failed again; continuing through the ROM loader");
        f->rep->used_stub = false;
        f->l.stub = false;
        return 0;
    }
    return rc;
}

static int change_baud(fu *f, st_err *err)
{
    const st_profile *pr = &f->fw->prof;
    int ladder[ST_MAX_BAUDS + 1], n = 0;
    int target = f->o->baud > 0 ? f->o->baud : (pr->n_bauds > 0 ? pr->bauds[0] : 115200);
    ladder[n++] = target;
    for (int i = 0; i < pr->n_bauds; i++)
        if (pr->bauds[i] < target && pr->bauds[i] < ladder[n - 1])
            ladder[n++] = pr->bauds[i];
    enter(f, ST_PH_BAUD);
    for (int i = 0; i < n; i++) {
        if (check_abort(f, err) < 0)
            return -1;
        if (ladder[i] == f->cur_baud)
            break;
        if (try_baud(f, ladder[i], err) == 0) {
            logf_(f, "baud %d", ladder[i]);
            break;
        }
        if (err->cat == ST_E_GONE || err->cat == ST_E_INTERRUPTED)
            return -1;
        char msg[400];
        st_err_format(err, msg, sizeof msg);
        logf_(f, "%s; back to 115200 to try %s", msg,
              i + 1 < n ? "the next baud of the ladder" : "the ROM's rate");
        if (recover_link(f, err) < 0)
            return -1;
    }
    f->rep->baud = f->cur_baud;
    return 0;
}

static int attach(fu *f, st_err *err)
{
    enter(f, ST_PH_ATTACH);
    uint32_t size = f->rep->chip.flash_size ? f->rep->chip.flash_size : f->fw->prof.flash_size;
    /* After a ladder reset the ROM needs SPI_ATTACH again; the stub attaches itself. */
    if (!f->l.stub && st_cmd_spi_attach(&f->l, err) < 0)
        return -1;
    return st_cmd_spi_set_params(&f->l, size, err);
}

/* Region i: the profile's images, then the unit's own. */
static int n_regions(const fu *f)
{
    return f->fw->n + (f->has_unit_img ? 1 : 0);
}

static const st_image *region(const fu *f, int i)
{
    return i < f->fw->n ? &f->fw->img[i] : &f->unit_img;
}

/* The unit's own region (NVS provisioning), built now that its MAC is known. */
static int unit_region(fu *f, st_err *err)
{
    if (!f->o->unit_region)
        return 0;
    if (f->o->unit_region(f->o->user, &f->rep->chip, &f->unit_img, err) < 0) {
        if (err->phase == ST_PH_NONE || err->phase == ST_PH_PROFILE)
            err->phase = ST_PH_DETECT;
        return -1;
    }
    f->has_unit_img = true;
    f->rep->unit_region = true;
    for (int i = 0; i < f->fw->n; i++) {
        const st_image *im = &f->fw->img[i];
        if (im->offset < f->unit_img.offset + f->unit_img.len &&
            f->unit_img.offset < im->offset + im->len)
            return st_err_set(err, ST_E_PROFILE, ST_PH_DETECT,
                              "the unit's region 0x%x+0x%zx overlaps the image at 0x%x",
                              f->unit_img.offset, f->unit_img.len, im->offset);
    }
    return 0;
}

static void on_block(void *user, size_t zdone, size_t ztotal)
{
    fu *f = user;
    (void)ztotal;
    progress(f, ST_PH_WRITE, f->zdone + zdone, f->ztotal);
}

/* An erase-only run: the stub's ERASE_REGION; the ROM has none, but its FLASH_BEGIN
 * erases the announced size up front (and nothing is sent after it). */
static int erase_run(fu *f, const st_plan_step *st, st_err *err)
{
    if (f->l.stub)
        return st_cmd_erase_region(&f->l, st->off, st->len, err);
    return st_cmd_flash_begin(&f->l, st->len, 0, ESP_ROM_FLASH_BLOCK, st->off,
                              st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, st->len), err);
}

static int run_plan(fu *f, const st_plan *p, st_err *err)
{
    for (int k = 0; k < p->n; k++) {
        const st_plan_step *st = &p->steps[k];
        if (check_abort(f, err) < 0)
            return -1;
        if (st->erase_only) {
            if (erase_run(f, st, err) < 0)
                return -1;
            f->rep->bytes_erased += st->len;
            f->rep->erases++;
            continue;
        }
        int repaired0 = f->rep->blocks_repaired;
        if (st_flash_write_image(&f->l, st->img, f->o->abort, on_block, f,
                                 &f->rep->blocks_repaired, err) < 0)
            return -1;
        if (f->rep->blocks_repaired > repaired0)
            logf_(f, "0x%05x: %d link repair(s) while writing (a corrupted block resent, or a "
                  "lost frame end: re-synced and the region restarted)", st->img->offset,
                  f->rep->blocks_repaired - repaired0);
        f->zdone += st->img->zlen;
        f->rep->bytes_raw += st->img->len;
        /* what went on the wire for it: the stream through the stub, the image itself
         * through the ROM (uncompressed, flash_write.h) */
        f->rep->bytes_compressed += f->l.stub ? st->img->zlen : st->img->len;
        f->rep->streams++;
    }
    return 0;
}

static void log_plan(fu *f, const st_image *img, const st_plan *p)
{
    if (p->unchanged) {
        logf_(f, "0x%05x %s: the unit already holds it (MD5): not written", img->offset, img->path);
        return;
    }
    char what[96] = "";
    if (p->compared)
        snprintf(what, sizeof what, "%d of %d 64 KiB blocks differ; ", p->blocks_changed, p->blocks);
    char sent[64];
    if (f->l.stub)
        snprintf(sent, sizeof sent, "%llu compressed", (unsigned long long)p->write_zbytes);
    else
        snprintf(sent, sizeof sent, "uncompressed (ROM loader)");
    logf_(f, "writing %s at 0x%05x: %s%llu bytes in %d run(s) (%s), %llu bytes 0xFF erased only",
          img->path, img->offset, what, (unsigned long long)p->write_bytes, p->n, sent,
          (unsigned long long)p->erase_bytes);
}

static int write_all(fu *f, st_err *err)
{
    enter(f, ST_PH_WRITE);
    double t = st_now();
    bool compare = f->o->reflash == ST_REFLASH_CHANGED;
    int nr = n_regions(f);
    st_plan *plans = calloc((size_t)nr, sizeof *plans);
    if (!plans) {
        st_err_set(err, ST_E_NOMEM, ST_PH_WRITE, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < nr; i++) {
        const st_image *img = region(f, i);
        rc = st_plan_region(&f->l, img, compare, !f->o->program_erased, &plans[i], err);
        if (rc == 0) {
            log_plan(f, img, &plans[i]);
            f->ztotal += plans[i].write_zbytes;
            f->rep->regions_unchanged += plans[i].unchanged;
            if (compare && !plans[i].unchanged)
                f->rep->blocks_compared += plans[i].blocks > 1 ? plans[i].blocks : 0;
            f->rep->blocks_changed += plans[i].blocks_changed;
        }
    }
    for (int i = 0; rc == 0 && i < nr; i++)
        rc = run_plan(f, &plans[i], err);
    for (int i = 0; i < nr; i++)
        st_plan_free(&plans[i]);
    free(plans);
    f->rep->t_write = st_now() - t;
    return rc;
}

static int verify_all(fu *f, st_err *err)
{
    enter(f, ST_PH_VERIFY);
    double t = st_now();
    int rc = 0;
    for (int i = 0; i < n_regions(f); i++) {
        const st_image *img = region(f, i);
        st_err e;
        if (st_flash_verify_image(&f->l, img, &e) == 0) {
            f->rep->regions_verified++;
            logf_(f, "verify 0x%05x+%zu: MD5 OK", img->offset, img->len);
        } else {
            char msg[400];
            st_err_format(&e, msg, sizeof msg);
            logf_(f, "verify 0x%05x+%zu: FAILED: %s", img->offset, img->len, msg);
            if (rc == 0)
                *err = e;
            rc = -1;
            if (e.cat != ST_E_VERIFY)
                break; /* the link is in trouble: later regions would not tell more */
        }
        progress(f, ST_PH_VERIFY, (uint64_t)i + 1, (uint64_t)n_regions(f));
    }
    f->rep->t_verify = st_now() - t;
    return rc;
}

/* Reboot into the new firmware: an RTS pulse where there are lines, else the loader's
 * own reset (FLASH_BEGIN(0,0) puts a stub in flash mode so FLASH_END(0) reboots it). A
 * failure here is logged: the regions are verified. True when the unit was rebooted. */
static bool reset_unit(fu *f)
{
    enter(f, ST_PH_RESET);
    st_err e;
    if (resets_by_lines(f)) {
        if (st_reset_hard(f->port, &e) < 0) {
            logf_(f, "hard reset failed: %s", e.msg);
            return false;
        }
        logf_(f, "hard reset (RTS)");
        return true;
    }
    if (f->l.stub && f->fw->stub.kind == ST_STUB_FLASHER) {
        /* esp-flasher-stub answers FLASH_END(0) and RUN_USER_CODE but reboots on neither
         * (not implemented in its command handler): only the lines or a power cycle do. */
        logf_(f, "no reset: the esp-flasher-stub cannot reboot the unit and the port has no "
                 "DTR/RTS; the new firmware starts at the next power-up or reset");
        return false;
    }
    uint32_t blk = f->l.stub ? ESP_STUB_FLASH_BLOCK : ESP_ROM_FLASH_BLOCK;
    if (st_cmd_flash_begin(&f->l, 0, 0, blk, 0, ST_TO_DEFAULT_MS, &e) < 0)
        logf_(f, "FLASH_BEGIN(0,0) before the reset failed: %s", e.msg);
    if (st_cmd_flash_end(&f->l, 0, &e) < 0) {
        logf_(f, "software reset (FLASH_END 0) failed: %s", e.msg);
        return false;
    }
    logf_(f, "software reset (FLASH_END 0)");
    return true;
}

/* [boot_check]: the port stays open; listen at the app's console rate. Bytes the loader
 * read past the reset command's reply are the console's first bytes. */
static int boot_check(fu *f, bool was_reset, st_err *err)
{
    const st_boot_check *bc = &f->fw->prof.boot;
    if (!bc->enabled || f->o->no_boot_check)
        return 0;
    if (!was_reset) {
        /* Nothing rebooted the unit: there is no boot to watch, and saying it booted (or
         * did not) would be a guess. The record shows the check as not run. */
        logf_(f, "boot check not run: the unit was not reset");
        return 0;
    }
    enter(f, ST_PH_BOOT);
    if (bc->baud != f->cur_baud) {
        if (st_port_set_baud(f->port, bc->baud, err) < 0) {
            err->phase = ST_PH_BOOT;
            return -1;
        }
        f->cur_baud = bc->baud;
    }
    const uint8_t *pre = f->l.rx + f->l.rx_pos;
    size_t npre = f->l.rx_len - f->l.rx_pos;
    f->l.rx_pos = f->l.rx_len;
    int rc = st_boot_listen(f->port, bc, pre, npre, f->o->abort, &f->rep->boot, err);
    if (rc == 0)
        logf_(f, "boot check: '%s' after %.1f s%s%s", f->rep->boot.matched, f->rep->boot.t_boot,
              f->rep->boot.captured[0] ? "; " : "", f->rep->boot.captured);
    else if (err->fclass == ST_FC_NO_BOOT)
        logf_(f, "boot check failed (%s) after %d resets; console kept in the record",
              st_boot_diag_name(err->boot), f->rep->boot.resets);
    return rc;
}

static void finish_err(st_err *err)
{
    if (err->fclass == ST_FC_NONE) {
        switch (err->cat) {
        case ST_E_TIMEOUT: err->fclass = ST_FC_TIMEOUT; break;
        case ST_E_GONE: err->fclass = ST_FC_VANISHED; break;
        case ST_E_INTERRUPTED: err->fclass = ST_FC_INTERRUPTED; break;
        case ST_E_IO: err->fclass = ST_FC_IO; break;
        case ST_E_PROFILE: case ST_E_ARG: err->fclass = ST_FC_CONFIG; break;
        default: err->fclass = ST_FC_PROTOCOL; break;
        }
    }
    if (!err->hint[0])
        st_err_hint(err, "%s", st_fclass_hint(err->fclass));
}

int st_flash_unit(const char *port_name, const st_fwset *fw, const st_flash_opts *opts,
                  st_flash_report *rep, st_err *err)
{
    static const st_flash_opts no_opts;
    fu f = {.port_name = port_name, .fw = fw, .o = opts ? opts : &no_opts, .rep = rep};
    memset(rep, 0, sizeof *rep);
    st_err_clear(err);
    double t0 = st_now();
    int rc = -1;
    progress(&f, ST_PH_OPEN, 0, 0);
    if (open_port(&f, err) < 0)
        goto out;
    if (st_loader_init(&f.l, f.port, err) < 0) {
        st_port_close(f.port);
        f.port = NULL;
        goto out;
    }
    enter(&f, ST_PH_CONNECT);
    if (connect_unit(&f, err) < 0)
        goto done;
    rep->t_connect = st_now() - t0;
    rep->baud = f.cur_baud;
    if (detect(&f, err) < 0 || unit_region(&f, err) < 0 || check_abort(&f, err) < 0 ||
        stub(&f, err) < 0 ||
        check_abort(&f, err) < 0 || change_baud(&f, err) < 0 || attach(&f, err) < 0 ||
        write_all(&f, err) < 0 || check_abort(&f, err) < 0 || verify_all(&f, err) < 0)
        goto done;
    rc = boot_check(&f, reset_unit(&f), err);
done:
    if (st_loader_noise(&f.l))
        logf_(&f, "line noise: %zu bytes outside frames, %zu bad frames, %llu stray packets",
              f.l.dec.noise_bytes, f.l.dec.dropped_frames, (unsigned long long)f.l.skipped_frames);
    wire_totals(&f);
    st_loader_free(&f.l);
    st_port_close(f.port);
    if (f.has_unit_img)
        st_image_free(&f.unit_img);
out:
    rep->t_total = st_now() - t0;
    if (rc == 0)
        progress(&f, ST_PH_DONE, f.ztotal, f.ztotal);
    else
        finish_err(err);
    return rc;
}

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
#include "session.h"

typedef struct fu {
    st_session s;               /* the connection (session.h) */
    const st_fwset *fw;
    const st_flash_opts *o;
    st_flash_report *rep;
    uint64_t zdone;             /* compressed bytes of the streams already written */
    uint64_t ztotal;            /* compressed bytes the plans will send */
    st_image unit_img;          /* the unit's own region (opts->unit_region), if any */
    bool has_unit_img;
    st_plan *plans;             /* one per region (write_all), kept for verify_all */
    int nplans;
} fu;

#define logf_(f, ...) st_session_log(&(f)->s, __VA_ARGS__)

static void progress(fu *f, st_phase ph, uint64_t done, uint64_t total)
{
    st_session_progress(&f->s, ph, done, total);
}

static void enter(fu *f, st_phase ph)
{
    st_session_enter(&f->s, ph);
}

static int check_abort(fu *f, st_err *err)
{
    return st_session_check_abort(&f->s, err);
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
    if (st_session_flash_status(&f->s, err) < 0)
        return -1;
    const uint8_t *sr = ci->flash_sr;
    logf_(f, "flash status SR1 0x%02x SR2 0x%02x SR3 0x%02x%s", sr[0], sr[1], sr[2],
          st_flash_sr_protected(sr) ? " (write protection set)" : "");
    if (!st_flash_sr_protected(sr))
        return 0;
    if (!f->o->unprotect)
        return protected_error(f, sr, NULL, err);
    uint8_t *after = f->rep->flash_sr_after;
    for (int nv = 0; nv <= (f->o->unprotect > 1); nv++) {
        if (st_spiflash_unprotect(&f->s.l, nv, after, err) < 0)
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
    if (st_session_chip(&f->s, err) < 0)
        return -1;
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
    if (st_session_flash_id(&f->s, err) < 0)
        return -1;
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

/* Upload the stub if there is one and it is wanted; on a stub that cannot be uploaded,
 * go on through the ROM loader (after a reset when the ROM jumped into a dead stub). */
static int stub(fu *f, st_err *err)
{
    return st_session_stub(&f->s, f->fw->has_stub ? &f->fw->stub : NULL, "no stub in the profile",
                           f->o->stub_required, err);
}

static int change_baud(fu *f, st_err *err)
{
    return st_session_baud(&f->s, f->fw->prof.bauds, f->fw->prof.n_bauds, err);
}

static int attach(fu *f, st_err *err)
{
    uint32_t size = f->rep->chip.flash_size ? f->rep->chip.flash_size : f->fw->prof.flash_size;
    return st_session_attach(&f->s, size, err);
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

/* The stub's ERASE_REGION erases 4 KiB sectors up to a 64 KiB boundary, 64 KiB blocks
 * while MORE than a block is left, then sectors: a run ending on a block boundary would
 * have its last block erased as 16 sectors (720 ms against 150 ms typical). When the
 * sector after the run is written later in this attempt (its stream erases it again
 * before programming it) and nothing earlier touched it, the erase takes that sector
 * too, so the last block goes in one block erase. */
static bool extend_ok(const fu *f, int i, int k, const st_plan_step *st)
{
    uint32_t end = st->off + st->len;
    uint32_t first_block = (st->off + ST_PLAN_BLOCK - 1) / ST_PLAN_BLOCK * ST_PLAN_BLOCK;
    if (end % ST_PLAN_BLOCK || end < first_block + ST_PLAN_BLOCK)
        return false;
    for (int j = 0; j < i; j++)
        if (st_plan_touches(&f->plans[j], end, 0x1000))
            return false;
    if (st_plan_writes_sector(&f->plans[i], k + 1, end))
        return true;
    for (int j = i + 1; j < f->nplans; j++)
        if (st_plan_writes_sector(&f->plans[j], 0, end))
            return true;
    return false;
}

/* An erase-only run (step k of region i): the stub's ERASE_REGION; the ROM has none, but
 * its FLASH_BEGIN erases the announced size up front (and nothing is sent after it). */
static int erase_run(fu *f, int i, int k, const st_plan_step *st, st_err *err)
{
    if (f->s.l.stub) {
        uint32_t len = st->len;
        if (extend_ok(f, i, k, st)) {
            len += 0x1000;
            logf_(f, "erase 0x%05x+0x%x: with the next run's first sector (its stream erases "
                  "it again), so the last 64 KiB block is one block erase", st->off, len);
        }
        return st_cmd_erase_region(&f->s.l, st->off, len, err);
    }
    return st_cmd_flash_begin(&f->s.l, st->len, 0, ESP_ROM_FLASH_BLOCK, st->off,
                              st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, st->len), err);
}

static int run_plan(fu *f, int i, st_err *err)
{
    const st_plan *p = &f->plans[i];
    for (int k = 0; k < p->n; k++) {
        const st_plan_step *st = &p->steps[k];
        if (check_abort(f, err) < 0)
            return -1;
        if (st->erase_only) {
            if (erase_run(f, i, k, st, err) < 0)
                return -1;
            f->rep->bytes_erased += st->len;
            f->rep->erases++;
            continue;
        }
        int repaired0 = f->rep->blocks_repaired;
        if (st_flash_write_image(&f->s.l, st->img, f->o->abort, on_block, f,
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
        f->rep->bytes_compressed += f->s.l.stub ? st->img->zlen : st->img->len;
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
    if (f->s.l.stub)
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
    f->plans = calloc((size_t)nr, sizeof *f->plans);
    if (!f->plans) {
        st_err_set(err, ST_E_NOMEM, ST_PH_WRITE, "out of memory");
        return -1;
    }
    f->nplans = nr;
    int rc = 0;
    for (int i = 0; rc == 0 && i < nr; i++) {
        const st_image *img = region(f, i);
        st_plan *p = &f->plans[i];
        rc = st_plan_region(&f->s.l, img, compare, !f->o->program_erased, p, err);
        if (rc == 0) {
            log_plan(f, img, p);
            f->ztotal += p->write_zbytes;
            f->rep->regions_unchanged += p->unchanged;
            if (compare)
                f->rep->blocks_compared += p->blocks;
            f->rep->blocks_changed += p->blocks_changed;
        }
    }
    for (int i = 0; rc == 0 && i < nr; i++)
        rc = run_plan(f, i, err);
    f->rep->t_write = st_now() - t;
    return rc;
}

static void plans_free(fu *f)
{
    for (int i = 0; i < f->nplans; i++)
        st_plan_free(&f->plans[i]);
    free(f->plans);
    f->plans = NULL;
    f->nplans = 0;
}

/* Region i was found unchanged by its block digests and no step of the attempt touched
 * its sectors since: those digests, taken after the attempt's last write into it, are
 * its verification (reading it again would prove nothing new). */
static bool proved_at_check(const fu *f, int i)
{
    if (i >= f->nplans || !f->plans[i].unchanged)
        return false;
    const st_image *img = region(f, i);
    for (int j = 0; j < f->nplans; j++)
        if (st_plan_touches(&f->plans[j], img->offset, img->len))
            return false;
    return true;
}

static int verify_all(fu *f, st_err *err)
{
    enter(f, ST_PH_VERIFY);
    double t = st_now();
    int rc = 0;
    for (int i = 0; i < n_regions(f); i++) {
        const st_image *img = region(f, i);
        st_err e;
        if (proved_at_check(f, i)) {
            f->rep->regions_verified++;
            f->rep->regions_proved_at_check++;
            logf_(f, "verify 0x%05x+%zu: MD5 OK (every 64 KiB block matched at the check; "
                  "nothing was written into it since)", img->offset, img->len);
        } else if (st_flash_verify_image(&f->s.l, img, &e) == 0) {
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
    if (st_session_has_lines(&f->s)) {
        if (st_reset_hard(f->s.port, &e) < 0) {
            logf_(f, "hard reset failed: %s", e.msg);
            return false;
        }
        logf_(f, "hard reset (RTS)");
        return true;
    }
    if (f->s.l.stub && f->fw->stub.kind == ST_STUB_FLASHER) {
        /* esp-flasher-stub answers FLASH_END(0) and RUN_USER_CODE but reboots on neither
         * (not implemented in its command handler): only the lines or a power cycle do. */
        logf_(f, "no reset: the esp-flasher-stub cannot reboot the unit and the port has no "
                 "DTR/RTS; the new firmware starts at the next power-up or reset");
        return false;
    }
    uint32_t blk = f->s.l.stub ? ESP_STUB_FLASH_BLOCK : ESP_ROM_FLASH_BLOCK;
    if (st_cmd_flash_begin(&f->s.l, 0, 0, blk, 0, ST_TO_DEFAULT_MS, &e) < 0)
        logf_(f, "FLASH_BEGIN(0,0) before the reset failed: %s", e.msg);
    if (st_cmd_flash_end(&f->s.l, 0, &e) < 0) {
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
    if (bc->baud != f->s.cur_baud) {
        if (st_port_set_baud(f->s.port, bc->baud, err) < 0) {
            err->phase = ST_PH_BOOT;
            return -1;
        }
        f->s.cur_baud = bc->baud;
    }
    const uint8_t *pre = f->s.l.rx + f->s.l.rx_pos;
    size_t npre = f->s.l.rx_len - f->s.l.rx_pos;
    f->s.l.rx_pos = f->s.l.rx_len;
    int rc = st_boot_listen(f->s.port, bc, pre, npre, f->o->abort, &f->rep->boot, err);
    if (rc == 0)
        logf_(f, "boot check: '%s' after %.1f s%s%s", f->rep->boot.matched, f->rep->boot.t_boot,
              f->rep->boot.captured[0] ? "; " : "", f->rep->boot.captured);
    else if (err->fclass == ST_FC_NO_BOOT)
        logf_(f, "boot check failed (%s) after %d resets; console kept in the record",
              st_boot_diag_name(err->boot), f->rep->boot.resets);
    return rc;
}

int st_flash_unit(const char *port_name, const st_fwset *fw, const st_flash_opts *opts,
                  st_flash_report *rep, st_err *err)
{
    static const st_flash_opts no_opts;
    fu f = {.fw = fw, .o = opts ? opts : &no_opts, .rep = rep};
    double t0 = st_now();
    int rc = -1;
    if (st_session_open(&f.s, port_name, f.o, rep, err) < 0)
        goto done;
    if (detect(&f, err) < 0 || unit_region(&f, err) < 0 || check_abort(&f, err) < 0 ||
        stub(&f, err) < 0 ||
        check_abort(&f, err) < 0 || change_baud(&f, err) < 0 || attach(&f, err) < 0 ||
        write_all(&f, err) < 0 || check_abort(&f, err) < 0 || verify_all(&f, err) < 0)
        goto done;
    rc = boot_check(&f, reset_unit(&f), err);
done:
    plans_free(&f);
    st_session_close(&f.s);
    if (f.has_unit_img)
        st_image_free(&f.unit_img);
    rep->t_total = st_now() - t0;
    if (rc == 0)
        progress(&f, ST_PH_DONE, f.ztotal, f.ztotal);
    else
        st_session_finish_err(err);
    return rc;
}

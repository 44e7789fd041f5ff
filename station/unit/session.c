/* session.c - a connection to one unit (session.h): open, reset and sync, detect, stub
 * upload with its fall-back, the baud ladder, attach. Moved here from flash_unit.c so
 * that `station flash` and the repair-bench commands connect the same way. */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "esp_proto.h"
#include "reset.h"
#include "stub_upload.h"

#define SYNC_TRIES 5           /* SYNCs per connect attempt */
#define REOPEN_SETTLE_MS 200   /* let the far end see the hang-up before reopening */
#define BOOT_BANNER_MS 2000    /* for the boot banner of a unit reset by the reopen */

void st_session_log(st_session *s, const char *fmt, ...)
{
    if (!s->o->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o->log(s->o->user, line);
}

void st_session_progress(st_session *s, st_phase ph, uint64_t done, uint64_t total)
{
    if (s->o->progress)
        s->o->progress(s->o->user, ph, done, total);
}

void st_session_enter(st_session *s, st_phase ph)
{
    s->l.phase = ph;
    st_session_progress(s, ph, 0, 0);
}

int st_session_check_abort(st_session *s, st_err *err)
{
    if (!s->o->abort || !atomic_load(s->o->abort))
        return 0;
    st_err_set(err, ST_E_INTERRUPTED, s->l.phase, "stopped by the operator");
    err->fclass = ST_FC_INTERRUPTED;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_INTERRUPTED));
}

static void wire_totals(st_session *s)
{
    s->rep->wire_out = s->wire_out + (s->port ? st_port_bytes_out(s->port) : 0);
    s->rep->wire_in = s->wire_in + (s->port ? st_port_bytes_in(s->port) : 0);
}

static int open_port(st_session *s, st_err *err)
{
    if (st_port_open(s->port_name, 115200, &s->port, err) < 0) {
        s->port = NULL;
        err->phase = ST_PH_OPEN;
        return -1;
    }
    s->cur_baud = 115200;
    s->rep->port = *st_port_describe(s->port);
    return 0;
}

/* Close and reopen at 115200. A pseudo-terminal has no DTR/RTS: the simulator takes the
 * hang-up as the reset a real station makes with the lines. */
static int reopen_port(st_session *s, st_err *err)
{
    wire_totals(s);
    s->wire_out = s->rep->wire_out;
    s->wire_in = s->rep->wire_in;
    st_port_close(s->port);
    s->port = NULL;
    st_sleep_ms(REOPEN_SETTLE_MS);
    if (open_port(s, err) < 0)
        return -1;
    st_loader_set_port(&s->l, s->port);
    return 0;
}

static bool resets_by_lines(const st_session *s)
{
    return !s->o->no_reset && st_port_describe(s->port)->has_modem_lines;
}

static bool resets_by_reopen(const st_session *s)
{
    return !s->o->no_reset && !st_port_describe(s->port)->has_modem_lines;
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

static int no_sync_error(st_session *s, int attempts, st_err *err)
{
    bool waiting = false;
    int mode = banner_boot_mode(s->l.banner, &waiting);
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
static int connect_unit(st_session *s, st_err *err)
{
    int attempts = s->o->sync_attempts > 0 ? s->o->sync_attempts : 7;
    s->l.capture = true;
    s->l.banner_len = 0;
    s->l.banner[0] = 0;
    for (int a = 0; a < attempts; a++) {
        s->l.phase = ST_PH_CONNECT;
        if (st_session_check_abort(s, err) < 0)
            return -1;
        if (resets_by_lines(s)) {
            st_reset_kind kind;
            int delay;
            st_reset_plan(a, &kind, &delay);
            if (st_reset_download(s->port, kind, delay, err) < 0)
                return -1;
        } else if (a > 0 && resets_by_reopen(s)) {
            if (reopen_port(s, err) < 0)
                return -1;
        }
        /* Keep the boot banner for diagnosis, and start syncing on a quiet line. A unit
         * reset by the (re)open resets when the far end takes the hang-up in, however
         * late that is: its boot banner marks the new session, and what came before
         * (late answers to the old one) must not pass for answers to this one's SYNC. */
        if (resets_by_reopen(s))
            st_loader_await_boot(&s->l, 30, BOOT_BANNER_MS);
        else
            st_loader_drain(&s->l, 30, 300);
        s->l.phase = ST_PH_SYNC;
        for (int t = 0; t < SYNC_TRIES; t++) {
            st_err e;
            if (st_cmd_sync(&s->l, ST_TO_SYNC_MS, &e) == 0) {
                s->l.capture = false;
                st_cmd_sync_drain(&s->l);
                /* The ROM answers SYNC with a non-zero value, a stub with 0 (§3.2): a unit
                 * left running a stub (no reset since, e.g. --no-reset on an RFC 2217 or
                 * USB port) is talked to as the stub, not sent the ROM's commands. */
                s->l.stub = s->l.sync_value == 0;
                if (s->l.stub)
                    st_session_log(s, "SYNC answered with value 0: a flasher stub is already running");
                /* Count line noise from here on: the boot banner is not noise. */
                s->l.dec.noise_bytes = s->l.dec.dropped_frames = 0;
                s->l.skipped_frames = 0;
                return 0;
            }
            if (e.cat == ST_E_GONE || e.cat == ST_E_IO) {
                *err = e;
                return -1;
            }
            st_sleep_ms(50);
        }
    }
    s->l.capture = false;
    return no_sync_error(s, attempts, err);
}

int st_session_open(st_session *s, const char *port_name, const st_flash_opts *o,
                    st_flash_report *rep, st_err *err)
{
    static const st_flash_opts no_opts;
    memset(s, 0, sizeof *s);
    memset(rep, 0, sizeof *rep);
    s->port_name = port_name;
    s->o = o ? o : &no_opts;
    s->rep = rep;
    st_err_clear(err);
    double t0 = st_now();
    st_session_progress(s, ST_PH_OPEN, 0, 0);
    if (open_port(s, err) < 0)
        return -1;
    if (st_loader_init(&s->l, s->port, err) < 0) {
        st_port_close(s->port);
        s->port = NULL;
        return -1;
    }
    s->loader_ok = true;
    st_session_enter(s, ST_PH_CONNECT);
    if (connect_unit(s, err) < 0)
        return -1;
    rep->t_connect = st_now() - t0;
    rep->baud = s->cur_baud;
    return 0;
}

int st_session_reset_to_rom(st_session *s, st_err *err)
{
    if (s->o->no_reset)
        return 0;
    if (resets_by_reopen(s) && reopen_port(s, err) < 0)
        return -1;
    return connect_unit(s, err);
}

int st_session_chip(st_session *s, st_err *err)
{
    if (st_detect_chip(&s->l, s->cur_baud, &s->rep->chip, err) < 0)
        return -1;
    s->rep->chip_known = true;
    return 0;
}

int st_session_flash_id(st_session *s, st_err *err)
{
    st_chip_info *ci = &s->rep->chip;
    /* The ROM reaches the flash only after SPI_ATTACH; the stub attaches itself. */
    if ((!s->l.stub && st_cmd_spi_attach(&s->l, err) < 0) ||
        st_spiflash_rdid(&s->l, &ci->flash_id, err) < 0)
        return -1;
    ci->flash_size = st_flash_size_from_id(ci->flash_id);
    return 0;
}

int st_session_flash_status(st_session *s, st_err *err)
{
    st_chip_info *ci = &s->rep->chip;
    if (st_spiflash_rdsr(&s->l, ci->flash_sr, err) < 0)
        return -1;
    ci->flash_sr_known = true;
    return 0;
}

static int restart_for_stub(void *user, st_err *err)
{
    st_session *s = user;
    st_session_log(s, "RAM blocks kept arriving corrupted (01 07) beyond what resending them "
                      "under the next sequence number repairs: reset, sync and upload the stub "
                      "again");
    return st_session_reset_to_rom(s, err);
}

/* st_stub_upload with the report's counters. */
static int upload_stub(st_session *s, st_err *err)
{
    st_stub_stats ss = {0};
    int rc = st_stub_upload(&s->l, s->stub, s->o->stub_attempts, &ss, restart_for_stub, s, err);
    s->rep->stub_uploads += ss.uploads;
    s->rep->blocks_repaired += ss.repaired;
    if (ss.t_repair > 0) {
        s->rep->t_stub_repair = ss.t_repair;
        st_session_log(s, "stub upload: %d RAM block(s) corrupted on the link (01 07) resent under "
                          "the next sequence number; stub running %.1f ms after the first 01 07",
                       ss.repaired, ss.t_repair * 1000.0);
    }
    return rc;
}

static bool upload_related(st_fclass c)
{
    return c == ST_FC_STUB_RAM_CHECKSUM || c == ST_FC_STUB_START;
}

int st_session_stub(st_session *s, const st_stub_image *stub, const char *why_rom, bool required,
                    st_err *err)
{
    if (s->l.stub) { /* found running at connect: uploading it again would hit the stub */
        s->rep->used_stub = true;
        s->rep->stub_kind = stub ? stub->kind : ST_STUB_LEGACY;
        s->stub = stub;
        st_session_log(s, "stub already running (the unit was not reset): not uploaded again");
        return 0;
    }
    if (!stub || s->o->no_stub) {
        st_session_log(s, "flashing through the ROM loader (%s)",
                       s->o->no_stub ? "--no-stub" : why_rom ? why_rom : "no stub");
        return 0;
    }
    s->stub = stub;
    st_session_enter(s, ST_PH_STUB);
    double t = st_now();
    int rc = upload_stub(s, err);
    s->rep->t_stub += st_now() - t;
    if (rc == 0) {
        s->rep->used_stub = true;
        s->rep->stub_kind = stub->kind;
        st_session_log(s, "stub running: %s (upload %d)", st_stub_kind_name(stub->kind),
                       s->rep->stub_uploads);
        return 0;
    }
    if (!upload_related(err->fclass) || required)
        return -1; /* required: the engine's retry policy escalates instead */
    char msg[400];
    st_err_format(err, msg, sizeof msg);
    st_session_log(s, "stub could not be uploaded (%s); falling back to the ROM loader", msg);
    /* The ROM has jumped into RAM: only a reset brings the loader back. */
    if (err->fclass == ST_FC_STUB_START && st_session_reset_to_rom(s, err) < 0)
        return -1;
    s->l.stub = false;
    st_err_clear(err);
    return 0;
}

/* One baud change; on return the link is confirmed at baud (0) or it failed (-1). */
static int try_baud(st_session *s, int baud, st_err *err)
{
    s->l.phase = ST_PH_BAUD;
    uint32_t word = (uint32_t)baud, old = 0;
    if (s->l.stub) {
        old = (uint32_t)s->cur_baud; /* the legacy stub rescales its divider from it */
    } else {
        uint32_t cal, ef4;
        if (st_cmd_read_reg(&s->l, ESP32_RTCCALICFG1, &cal, err) < 0 ||
            st_cmd_read_reg(&s->l, ESP32_EFUSE_BASE + 16, &ef4, err) < 0)
            return -1;
        word = st_rom_baud_word(cal, ef4, baud);
    }
    if (st_cmd_change_baud(&s->l, word, old, err) < 0)
        return -1;
    if (st_port_set_baud(s->port, baud, err) < 0) {
        err->phase = ST_PH_BAUD;
        if (err->fclass == ST_FC_NONE)
            err->fclass = ST_FC_BAUD_CHANGE;
        return -1;
    }
    st_sleep_ms(50);
    st_loader_flush(&s->l);
    uint8_t p[4];
    esp_put32(p, ESP32_CHIP_MAGIC_REG);
    st_resp r;
    int rc = st_loader_command(&s->l, ESP_READ_REG, p, 4, 0, ST_TO_BAUD_CONFIRM_MS, 0, 0, &r, err);
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
    s->cur_baud = baud;
    return 0;
}

/* Back to the ROM at 115200 after a failed baud, with the stub again if it was used. */
static int recover_link(st_session *s, st_err *err)
{
    bool had_stub = s->l.stub;
    /* The unit runs at the failed rate: a reset is the way back, even with --no-reset. */
    if (reopen_port(s, err) < 0 || connect_unit(s, err) < 0)
        return -1;
    if (!had_stub || !s->stub)
        return 0;
    double t = st_now();
    int rc = upload_stub(s, err);
    s->rep->t_stub += st_now() - t;
    if (rc < 0 && upload_related(err->fclass) && err->fclass != ST_FC_STUB_START) {
        st_session_log(s, "stub upload failed again; continuing through the ROM loader");
        s->rep->used_stub = false;
        s->l.stub = false;
        return 0;
    }
    return rc;
}

int st_session_baud(st_session *s, const int *bauds, int nb, st_err *err)
{
    int ladder[ST_MAX_BAUDS + 2], n = 0;
    int target = s->o->baud > 0 ? s->o->baud : (nb > 0 ? bauds[0] : 115200);
    ladder[n++] = target;
    for (int i = 0; i < nb && n < (int)(sizeof ladder / sizeof ladder[0]); i++)
        if (bauds[i] < target && bauds[i] < ladder[n - 1])
            ladder[n++] = bauds[i];
    st_session_enter(s, ST_PH_BAUD);
    for (int i = 0; i < n; i++) {
        if (st_session_check_abort(s, err) < 0)
            return -1;
        if (ladder[i] == s->cur_baud)
            break;
        if (try_baud(s, ladder[i], err) == 0) {
            st_session_log(s, "baud %d", ladder[i]);
            break;
        }
        if (err->cat == ST_E_GONE || err->cat == ST_E_INTERRUPTED)
            return -1;
        char msg[400];
        st_err_format(err, msg, sizeof msg);
        st_session_log(s, "%s; back to 115200 to try %s", msg,
                       i + 1 < n ? "the next baud of the ladder" : "the ROM's rate");
        if (recover_link(s, err) < 0)
            return -1;
    }
    s->rep->baud = s->cur_baud;
    return 0;
}

int st_session_attach(st_session *s, uint32_t flash_size, st_err *err)
{
    st_session_enter(s, ST_PH_ATTACH);
    /* After a ladder reset the ROM needs SPI_ATTACH again; the stub attaches itself. */
    if (!s->l.stub && st_cmd_spi_attach(&s->l, err) < 0)
        return -1;
    return st_cmd_spi_set_params(&s->l, flash_size, err);
}

void st_session_close(st_session *s)
{
    if (!s->rep)
        return;
    if (s->loader_ok && st_loader_noise(&s->l))
        st_session_log(s, "line noise: %zu bytes outside frames, %zu bad frames, %llu stray packets",
                       s->l.dec.noise_bytes, s->l.dec.dropped_frames,
                       (unsigned long long)s->l.skipped_frames);
    wire_totals(s);
    if (s->loader_ok)
        st_loader_free(&s->l);
    s->loader_ok = false;
    st_port_close(s->port);
    s->port = NULL;
}

bool st_session_has_lines(const st_session *s)
{
    return s->port && resets_by_lines(s);
}

void st_session_finish_err(st_err *err)
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

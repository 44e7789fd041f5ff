/* repair.c - identify and unprotect (repair.h): connect without flashing, through the
 * session `station flash` uses. */
#include "repair.h"

#include <string.h>

#include "detect.h"
#include "esp_proto.h"
#include "session.h"

/* Reset, sync, chip, flash ID and status registers: what every repair command starts
 * with, ROM or not. */
static int connect_detect(st_session *s, const char *port, const st_flash_opts *o,
                          st_flash_report *rep, st_err *err)
{
    if (st_session_open(s, port, o, rep, err) < 0)
        return -1;
    st_session_enter(s, ST_PH_DETECT);
    if (st_session_chip(s, err) < 0)
        return -1;
    if (rep->chip.magic != ESP32_CHIP_MAGIC) {
        st_err_set(err, ST_E_CHIP, ST_PH_DETECT, "the unit is %s (magic 0x%08x), not an ESP32",
                   strcmp(rep->chip.chip, "unknown") ? rep->chip.chip : "an unknown chip",
                   rep->chip.magic);
        err->fclass = ST_FC_WRONG_CHIP;
        return st_err_hint(err, "%s", st_fclass_hint(ST_FC_WRONG_CHIP));
    }
    char mac[18];
    st_mac_format(rep->chip.mac, mac);
    st_session_log(s, "chip %s, MAC %s, %d MHz crystal", rep->chip.description, mac,
                   rep->chip.xtal_mhz);
    if (st_session_flash_id(s, err) < 0 || st_session_flash_status(s, err) < 0)
        return -1;
    const uint8_t *sr = rep->chip.flash_sr;
    st_session_log(s, "flash ID 0x%06x (%u MB), status SR1 0x%02x SR2 0x%02x SR3 0x%02x",
                   rep->chip.flash_id, rep->chip.flash_size >> 20, sr[0], sr[1], sr[2]);
    return 0;
}

static int finish(st_session *s, int rc, double t0, st_err *err)
{
    st_session_close(s);
    s->rep->t_total = st_now() - t0;
    if (rc < 0)
        st_session_finish_err(err);
    else
        st_session_progress(s, ST_PH_DONE, 0, 0);
    return rc;
}

int st_repair_identify(const char *port, const st_flash_opts *o, st_flash_report *rep,
                       st_err *err)
{
    st_session s;
    double t0 = st_now();
    int rc = connect_detect(&s, port, o, rep, err);
    return finish(&s, rc, t0, err);
}

int st_repair_unprotect(const char *port, const st_flash_opts *o, bool nonvolatile,
                        st_flash_report *rep, st_err *err)
{
    st_session s;
    double t0 = st_now();
    int rc = connect_detect(&s, port, o, rep, err);
    if (rc == 0) {
        const uint8_t *sr = rep->chip.flash_sr;
        uint8_t *after = rep->flash_sr_after;
        memcpy(after, sr, 3);
        st_session_enter(&s, ST_PH_WRITE);
        if (!st_flash_sr_protected(sr))
            st_session_log(&s, "the status registers protect nothing: nothing written");
        for (int nv = 0; rc == 0 && st_flash_sr_protected(after) && nv <= (int)nonvolatile; nv++) {
            rc = st_spiflash_unprotect(&s.l, nv, after, err);
            if (rc == 0) {
                rep->unprotected = true;
                st_session_log(&s, "unprotect (%s write): status now SR1 0x%02x SR2 0x%02x SR3 0x%02x",
                               nv ? "non-volatile" : "volatile", after[0], after[1], after[2]);
            }
        }
        if (rc == 0 && st_flash_sr_protected(after)) {
            st_err_set(err, ST_E_CHIP, ST_PH_WRITE,
                       "flash still write-protected after a %s write: SR1 0x%02x SR2 0x%02x SR3 "
                       "0x%02x%s", nonvolatile ? "non-volatile" : "volatile", after[0], after[1],
                       after[2], nonvolatile ? ": the register is locked (SRP1 until a power "
                       "cycle, or SRP0 with /WP low)" : ": try --nv, or power-cycle the unit");
            err->fclass = ST_FC_WRITE_PROTECTED;
            st_err_hint(err, "%s", st_fclass_hint(ST_FC_WRITE_PROTECTED));
            rc = -1;
        }
    }
    return finish(&s, rc, t0, err);
}

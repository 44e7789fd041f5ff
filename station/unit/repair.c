/* repair.c - identify and unprotect (repair.h): connect without flashing, through the
 * session `station flash` uses. */
#include "repair.h"

#include <string.h>

#include "detect.h"
#include "esp_proto.h"
#include "flash_write.h"

int st_repair_connect(st_session *s, const char *port, const st_flash_opts *o,
                      const st_repair_link *link, st_flash_report *rep, st_err *err)
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
    if (!link)
        return 0;
    if (!rep->chip.flash_size) {
        st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
                   "flash ID 0x%06x: unknown size code 0x%02x, the flash's extent is not known",
                   rep->chip.flash_id, (rep->chip.flash_id >> 16) & 0xFF);
        err->fclass = ST_FC_FLASH_TOO_SMALL;
        return st_err_hint(err, "the flash chip does not answer its JEDEC ID as a known size: "
                                "check the unit's flash (station identify)");
    }
    if (st_session_check_abort(s, err) < 0 ||
        st_session_stub(s, link->stub, "no stub given", true, err) < 0)
        return -1;
    if (!s->l.stub) {
        st_err_set(err, ST_E_ARG, ST_PH_STUB, "the flasher stub is needed here (--no-stub or no stub)");
        err->fclass = ST_FC_CONFIG;
        return -1;
    }
    return st_session_baud(s, link->bauds, link->n_bauds, err) < 0 ||
                   st_session_attach(s, rep->chip.flash_size, err) < 0
               ? -1
               : 0;
}

int st_repair_end(st_session *s, int rc, double t0, st_err *err)
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
    int rc = st_repair_connect(&s, port, o, NULL, rep, err);
    return st_repair_end(&s, rc, t0, err);
}

int st_repair_unprotect(const char *port, const st_flash_opts *o, bool nonvolatile,
                        st_flash_report *rep, st_err *err)
{
    st_session s;
    double t0 = st_now();
    int rc = st_repair_connect(&s, port, o, NULL, rep, err);
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
    return st_repair_end(&s, rc, t0, err);
}

/* A region inside the detected flash, sector aligned (what ERASE_REGION takes). */
static int check_range(st_session *s, uint32_t off, uint32_t len, bool aligned, st_err *err)
{
    uint32_t size = s->rep->chip.flash_size;
    if (len == 0 || off >= size || len > size - off) {
        st_err_set(err, ST_E_ARG, ST_PH_DETECT,
                   "the range 0x%x+0x%x is not inside the unit's %u MB flash (0x0-0x%x)", off, len,
                   size >> 20, size);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "give an offset and size inside the flash (station identify shows its size)");
    }
    if (aligned && ((off | len) & 0xFFF)) {
        st_err_set(err, ST_E_ARG, ST_PH_DETECT,
                   "the range 0x%x+0x%x is not 4 KiB aligned: flash erases whole sectors", off, len);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "give an offset and size that are multiples of 0x1000");
    }
    return 0;
}

int st_repair_erase(const char *port, const st_flash_opts *o, const st_repair_link *link,
                    uint32_t off, uint32_t len, bool all, st_flash_report *rep,
                    uint32_t *erased_off, uint32_t *erased_len, st_err *err)
{
    st_session s;
    double t0 = st_now();
    *erased_off = *erased_len = 0;
    int rc = st_repair_connect(&s, port, o, link, rep, err);
    if (rc == 0 && all) {
        off = 0;
        len = rep->chip.flash_size;
    }
    if (rc == 0)
        rc = check_range(&s, off, len, true, err);
    if (rc == 0 && st_flash_sr_protected(rep->chip.flash_sr)) {
        const uint8_t *sr = rep->chip.flash_sr;
        st_err_set(err, ST_E_CHIP, ST_PH_DETECT,
                   "flash write-protected: status registers SR1 0x%02x SR2 0x%02x SR3 0x%02x: an "
                   "erase would be ignored", sr[0], sr[1], sr[2]);
        err->fclass = ST_FC_WRITE_PROTECTED;
        st_err_hint(err, "clear it first: station unprotect --port %s", port);
        rc = -1;
    }
    if (rc == 0) {
        st_session_enter(&s, ST_PH_WRITE);
        double t = st_now();
        st_session_log(&s, all ? "erasing the whole chip (ERASE_FLASH, %u MB)"
                               : "erasing 0x%x+0x%x (ERASE_REGION)",
                       all ? rep->chip.flash_size >> 20 : off, len);
        rc = all ? st_cmd_erase_flash(&s.l, err) : st_cmd_erase_region(&s.l, off, len, err);
        rep->t_write = st_now() - t;
        if (rc == 0) {
            *erased_off = off;
            *erased_len = len;
            rep->bytes_erased = len;
            rep->erases = 1;
        }
    }
    if (rc == 0 && st_session_check_abort(&s, err) < 0)
        rc = -1;
    if (rc == 0) {
        st_session_enter(&s, ST_PH_VERIFY);
        double t = st_now();
        uint8_t got[16], want[16];
        st_md5_erased(len, want);
        rc = st_cmd_md5(&s.l, off, len, got, err);
        rep->t_verify = st_now() - t;
        if (rc == 0 && memcmp(got, want, 16)) {
            st_err_set(err, ST_E_VERIFY, ST_PH_VERIFY,
                       "0x%x+0x%x does not read back erased after the erase (SPI_FLASH_MD5)", off, len);
            err->cmd = ESP_SPI_FLASH_MD5;
            err->fclass = ST_FC_MD5_MISMATCH;
            st_err_hint(err, "the flash did not erase: check its write protection (station identify) "
                             "and the unit's power");
            rc = -1;
        } else if (rc == 0) {
            rep->regions_verified = 1;
            st_session_log(&s, "verify 0x%x+0x%x: reads back erased (MD5 of 0xFF)", off, len);
        }
    }
    return st_repair_end(&s, rc, t0, err);
}

/* flash_read.c - st_repair_read (repair.h): back up a unit's flash through the stub's
 * READ_FLASH, proved a copy twice over: the MD5 of the bytes received against the stub's
 * own digest of what it read (the link), and against SPI_FLASH_MD5 of the same range
 * (the flash, read again). */
#include <openssl/evp.h>
#include <string.h>

#include "esp_proto.h"
#include "repair.h"

typedef struct reader {
    st_session *s;
    EVP_MD_CTX *md5;
    st_read_sink sink;
    st_read_progress_fn progress;
    void *user;
    uint64_t done, total;
} reader;

static int on_packet(void *user, const uint8_t *data, size_t n, st_err *err)
{
    reader *r = user;
    if (st_session_check_abort(r->s, err) < 0)
        return -1;
    EVP_DigestUpdate(r->md5, data, n);
    if (r->sink(r->user, data, n, err) != 0)
        return -1;
    r->done += n;
    if (r->progress)
        r->progress(r->user, r->done, r->total);
    return 0;
}

static int md5_differs(const char *what, uint32_t off, uint32_t len, st_err *err)
{
    st_err_set(err, ST_E_VERIFY, ST_PH_VERIFY,
               "the %u bytes read from 0x%x do not match %s (MD5): the copy is not the unit's flash",
               len, off, what);
    err->cmd = ESP_READ_FLASH;
    err->fclass = ST_FC_MD5_MISMATCH;
    return st_err_hint(err, "bytes were corrupted on the link: read again, at a lower --baud or "
                            "with another cable or hub port");
}

int st_repair_read(const char *port, const st_flash_opts *o, const st_repair_link *link,
                   uint32_t off, uint32_t len, bool all, st_read_sink sink,
                   st_read_progress_fn progress, void *user, st_flash_report *rep,
                   uint32_t *read_off, uint32_t *read_len, uint8_t md5[16], st_err *err)
{
    st_session s;
    double t0 = st_now();
    *read_off = *read_len = 0;
    int rc = st_repair_connect(&s, port, o, link, rep, err);
    uint32_t size = rep->chip.flash_size;
    if (rc == 0 && all) {
        off = 0;
        len = size;
    }
    if (rc == 0 && (len == 0 || off >= size || len > size - off)) {
        st_err_set(err, ST_E_ARG, ST_PH_DETECT,
                   "the range 0x%x+0x%x is not inside the unit's %u MB flash (0x0-0x%x)", off, len,
                   size >> 20, size);
        err->fclass = ST_FC_CONFIG;
        st_err_hint(err, "give an offset and size inside the flash (station identify shows its size)");
        rc = -1;
    }
    if (rc == 0) {
        reader r = {.s = &s, .md5 = EVP_MD_CTX_new(), .sink = sink, .progress = progress,
                    .user = user, .total = len};
        uint8_t got[16], stub_md5[16], unit_md5[16];
        unsigned dl = 16;
        st_session_enter(&s, ST_PH_WRITE); /* the data phase: bytes coming off the unit */
        st_session_log(&s, "reading 0x%x+0x%x (READ_FLASH, %u-byte packets)", off, len, ST_READ_PACKET);
        double t = st_now();
        rc = r.md5 && EVP_DigestInit_ex(r.md5, EVP_md5(), NULL) ? 0
             : st_err_set(err, ST_E_NOMEM, ST_PH_WRITE, "no MD5 context");
        if (rc == 0)
            rc = st_cmd_read_flash(&s.l, off, len, on_packet, &r, stub_md5, err);
        if (r.md5 && rc == 0)
            EVP_DigestFinal_ex(r.md5, got, &dl);
        EVP_MD_CTX_free(r.md5);
        rep->t_write = st_now() - t;
        rep->bytes_raw = r.done;
        if (rc == 0 && memcmp(got, stub_md5, 16))
            rc = md5_differs("what the stub read (its MD5 after the data)", off, len, err);
        if (rc == 0) {
            st_session_enter(&s, ST_PH_VERIFY);
            t = st_now();
            rc = st_cmd_md5(&s.l, off, len, unit_md5, err);
            rep->t_verify = st_now() - t;
            if (rc == 0 && memcmp(got, unit_md5, 16))
                rc = md5_differs("the unit's SPI_FLASH_MD5 of the range", off, len, err);
        }
        if (rc == 0) {
            memcpy(md5, got, 16);
            *read_off = off;
            *read_len = len;
            rep->regions_verified = 1;
            st_session_log(&s, "read 0x%x+0x%x in %.2f s: MD5 matches the stub's and the unit's",
                           off, len, rep->t_write);
        }
    }
    return st_repair_end(&s, rc, t0, err);
}

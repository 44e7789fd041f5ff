/* stub_upload.c - load the flasher stub into RAM through the ROM loader and start it.
 * A MEM_DATA block that arrives corrupted gets `01 07 00 00`; the ROM has consumed that
 * sequence number and written nothing, and the next sequence number lands at the
 * offset written so far (§14.1): the block is resent under seq+1, a repair of a few
 * milliseconds. Only a link too bad for that starts the whole upload over, after the
 * caller's restart (a reset and re-sync), or from the first MEM_BEGIN. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "esp_proto.h"
#include "loader.h"
#include "stub_upload.h"

#define BLOCK_REPAIRS 3   /* resends of one corrupted block */
#define UPLOAD_REPAIRS 8  /* resends in one upload */
#define MEM_BLOCK 0x200   /* small: a resend after 01 07 costs at most this much wire time */

/* *budget: resends left for this upload; *t_first: when the first 01 07 came (0 none). */
static int upload_segment(st_loader *l, uint32_t addr, const uint8_t *data, size_t len,
                          int *budget, st_stub_stats *stats, double *t_first, st_err *err)
{
    uint32_t blocks = (uint32_t)((len + MEM_BLOCK - 1) / MEM_BLOCK);
    if (st_cmd_mem_begin(l, (uint32_t)len, blocks, MEM_BLOCK, addr, err) < 0)
        return -1;
    uint32_t seq = 0;
    for (uint32_t b = 0; b < blocks; b++) {
        size_t off = (size_t)b * MEM_BLOCK;
        size_t n = len - off < MEM_BLOCK ? len - off : MEM_BLOCK;
        int tries = 0;
        while (st_cmd_mem_data(l, seq++, data + off, n, err) < 0) {
            if (err->fclass != ST_FC_STUB_RAM_CHECKSUM || ++tries > BLOCK_REPAIRS ||
                --*budget < 0)
                return -1;
            if (*t_first == 0)
                *t_first = st_now();
            stats->repaired++;
        }
    }
    return 0;
}

static int stub_start_err(st_loader *l, st_err *err, const char *what)
{
    st_err_set(err, ST_E_PROTOCOL, l->phase, "Failed to start stub flasher: %s", what);
    err->cmd = ESP_MEM_END;
    err->fclass = ST_FC_STUB_START;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_STUB_START));
}

/* MEM_END(0, entry), then the ROM's reply and the stub's "OHAI" (which comes after the
 * reply; both are taken in whatever order they arrive). */
static int start_stub(st_loader *l, uint32_t entry, st_err *err)
{
    if (st_cmd_mem_end_send(l, 0, entry, err) < 0)
        return -1;
    double end = st_now() + ST_TO_OHAI_MS / 1000.0;
    for (;;) {
        const uint8_t *f = NULL;
        size_t n = 0;
        int rc = st_loader_recv_until(l, end, ESP_MEM_END, &f, &n, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return stub_start_err(l, err, "no \"OHAI\" greeting within 3 s of MEM_END");
        if (n == 4 && memcmp(f, ESP_OHAI, 4) == 0) {
            l->stub = true;
            l->prev_reply_op = 0;
            return 0;
        }
        st_resp r;
        if (st_resp_parse(f, n, &r) < 0) {
            st_loader_resync(l);
            continue;
        }
        if (r.op != ESP_MEM_END) {
            l->skipped_frames++;
            continue;
        }
        if (st_resp_split(&r, false, 0, 0, err) < 0) {
            err->phase = l->phase;
            return -1;
        }
        if (!st_resp_ok(&r))
            return st_resp_error(&r, l->phase, err);
    }
}

int st_stub_upload(st_loader *l, const st_stub_image *stub, int attempts, st_stub_stats *stats,
                   st_rom_restart_fn restart, void *user, st_err *err)
{
    double t_first = 0;
    if (attempts <= 0)
        attempts = 3;
    for (int i = 0; i < attempts; i++) {
        if (i > 0 && restart && restart(user, err) < 0)
            return -1;
        l->phase = ST_PH_STUB;
        stats->uploads++;
        int budget = UPLOAD_REPAIRS;
        int rc = upload_segment(l, stub->text_start, stub->text, stub->text_len, &budget, stats,
                                &t_first, err);
        if (rc == 0 && stub->data && stub->data_len)
            rc = upload_segment(l, stub->data_start, stub->data, stub->data_len, &budget, stats,
                                &t_first, err);
        if (rc == 0)
            rc = start_stub(l, stub->entry, err);
        if (rc == 0) {
            if (t_first > 0)
                stats->t_repair = st_now() - t_first;
            return 0;
        }
        if (err->fclass != ST_FC_STUB_RAM_CHECKSUM)
            return -1; /* not a corrupted block: another upload would not help */
    }
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (on each of %d uploads)", attempts);
    return -1;
}

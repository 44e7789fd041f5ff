/* loader.c - the packet layer of the bootloader client: frames out over st_port (one
 * write per frame), frames in through a bounded SLIP decoder, replies matched to
 * requests by opcode, status bytes located and turned into classified errors. */
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_proto.h"

/* The largest request: a 0x4000-byte stub flash block behind its two headers. */
#define TX_PAYLOAD_MAX (ESP_DATA_HDR_LEN + ESP_STUB_FLASH_BLOCK + 64)
/* Replies are short; leave room for a stub frame so oversized junk is dropped, not us. */
#define RX_FRAME_MAX (ESP_MAX_FRAME + 64)

int st_timeout_per_mb(int ms_per_mb, uint64_t bytes)
{
    uint64_t t = (uint64_t)ms_per_mb * bytes / 1000000u;
    if (t < ST_TO_DEFAULT_MS)
        return ST_TO_DEFAULT_MS;
    return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

int st_loader_init(st_loader *l, st_port *port, st_err *err)
{
    memset(l, 0, sizeof *l);
    l->port = port;
    l->tx_cap = SLIP_ENCODED_MAX(ESP_HDR_LEN + TX_PAYLOAD_MAX);
    l->tx = malloc(l->tx_cap);
    if (!l->tx || slip_dec_init(&l->dec, RX_FRAME_MAX) < 0) {
        free(l->tx);
        l->tx = NULL;
        return st_err_set(err, ST_E_NOMEM, ST_PH_CONNECT, "out of memory for the loader buffers");
    }
    return 0;
}

void st_loader_free(st_loader *l)
{
    free(l->tx);
    l->tx = NULL;
    slip_dec_free(&l->dec);
}

void st_loader_reset_input(st_loader *l)
{
    l->rx_pos = l->rx_len = 0;
    slip_dec_reset(&l->dec);
}

void st_loader_set_port(st_loader *l, st_port *port)
{
    l->port = port;
    l->stub = false;
    l->prev_reply_op = 0; /* after a reset the ROM's echo header has op 00 */
    st_loader_reset_input(l);
}

void st_loader_flush(st_loader *l)
{
    st_port_flush_input(l->port);
    st_loader_reset_input(l);
}

uint64_t st_loader_noise(const st_loader *l)
{
    return l->dec.noise_bytes + l->dec.dropped_frames + l->skipped_frames;
}

static void capture(st_loader *l, const uint8_t *p, size_t n)
{
    size_t room = sizeof l->banner - 1 - l->banner_len;
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++) /* text searches must not stop at a stray NUL */
        l->banner[l->banner_len + i] = p[i] ? (char)p[i] : '.';
    l->banner_len += n;
    l->banner[l->banner_len] = 0;
}

/* Scan for a ROM boot line ("rst:0x1 (POWERON_RESET),boot:0x3 (...)" up to its line end)
 * across reads: *k is how much of "boot:0x" has matched so far, or past it, waiting for
 * the end of the line. True once the line is complete. */
static bool scan_boot_line(const uint8_t *p, size_t n, size_t *k)
{
    static const char pat[] = "boot:0x";
    const size_t plen = sizeof pat - 1;
    for (size_t i = 0; i < n; i++) {
        if (*k == plen) {
            if (p[i] == '\n')
                return true;
        } else if (p[i] == (uint8_t)pat[*k]) {
            (*k)++;
        } else {
            *k = p[i] == (uint8_t)pat[0] ? 1 : 0;
        }
    }
    return false;
}

/* Read and drop input (into the banner while capture is on) until quiet_ms of quiet, at
 * most max_ms; with want_boot, quiet only counts once a boot line has gone by. */
static bool drain_input(st_loader *l, int quiet_ms, int max_ms, bool want_boot)
{
    double end = st_now() + max_ms / 1000.0;
    size_t k = 0;
    bool boot = false;
    if (l->rx_pos < l->rx_len) {
        if (l->capture)
            capture(l, l->rx + l->rx_pos, l->rx_len - l->rx_pos);
        boot = scan_boot_line(l->rx + l->rx_pos, l->rx_len - l->rx_pos, &k);
    }
    st_loader_reset_input(l);
    for (;;) {
        int left = (int)((end - st_now()) * 1000.0);
        if (left <= 0)
            break;
        bool waiting = want_boot && !boot;
        uint8_t buf[1024];
        st_err e;
        ssize_t n = st_port_read(l->port, buf, sizeof buf,
                                 waiting || left < quiet_ms ? left : quiet_ms, &e);
        if (n <= 0)
            break; /* quiet, out of time, or the port failed: the next command reports it */
        if (l->capture)
            capture(l, buf, (size_t)n);
        if (!boot)
            boot = scan_boot_line(buf, (size_t)n, &k);
    }
    return boot;
}

void st_loader_drain(st_loader *l, int quiet_ms, int max_ms)
{
    drain_input(l, quiet_ms, max_ms, false);
}

bool st_loader_await_boot(st_loader *l, int quiet_ms, int max_ms)
{
    return drain_input(l, quiet_ms, max_ms, true);
}

/* Escape n bytes into out; returns bytes written. */
static size_t escape(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == SLIP_END) {
            out[o++] = SLIP_ESC;
            out[o++] = SLIP_ESC_END;
        } else if (in[i] == SLIP_ESC) {
            out[o++] = SLIP_ESC;
            out[o++] = SLIP_ESC_ESC;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

/* A failure of the port (write or read): classified as vanished or I/O, stamped with
 * the phase and, when op is not 0, the command. Returns -1. */
static int port_failed(st_loader *l, uint8_t op, st_err *err)
{
    err->phase = l->phase;
    if (op)
        err->cmd = op;
    if (err->fclass == ST_FC_NONE)
        err->fclass = err->cat == ST_E_GONE ? ST_FC_VANISHED : ST_FC_IO;
    if (!err->hint[0])
        st_err_hint(err, "%s", st_fclass_hint(err->fclass));
    return -1;
}

int st_loader_send2(st_loader *l, uint8_t op, const void *a, size_t na, const void *b, size_t nb,
                    uint32_t chk, st_err *err)
{
    size_t n = na + nb;
    if (n > TX_PAYLOAD_MAX || n > 0xffff) {
        st_err_set(err, ST_E_ARG, l->phase, "%s payload of %zu bytes exceeds the %d-byte limit",
                   esp_cmd_name(op), n, TX_PAYLOAD_MAX);
        err->cmd = op;
        return -1;
    }
    uint8_t hdr[ESP_HDR_LEN] = {0x00, op};
    esp_put16(hdr + 2, (uint16_t)n);
    esp_put32(hdr + 4, chk);
    size_t o = 0;
    l->tx[o++] = SLIP_END;
    o += escape(hdr, sizeof hdr, l->tx + o);
    if (na)
        o += escape(a, na, l->tx + o);
    if (nb)
        o += escape(b, nb, l->tx + o);
    l->tx[o++] = SLIP_END;
    return st_port_write(l->port, l->tx, o, err) < 0 ? port_failed(l, op, err) : 0;
}

int st_loader_send_raw(st_loader *l, const void *data, size_t n, st_err *err)
{
    if (n > TX_PAYLOAD_MAX) {
        st_err_set(err, ST_E_ARG, l->phase, "raw frame of %zu bytes exceeds the %d-byte limit", n,
                   TX_PAYLOAD_MAX);
        return -1;
    }
    size_t o = 0;
    l->tx[o++] = SLIP_END;
    o += escape(data, n, l->tx + o);
    l->tx[o++] = SLIP_END;
    return st_port_write(l->port, l->tx, o, err) < 0 ? port_failed(l, 0, err) : 0;
}

int st_loader_send(st_loader *l, uint8_t op, const void *payload, size_t n, uint32_t chk,
                   st_err *err)
{
    return st_loader_send2(l, op, payload, n, NULL, 0, chk, err);
}

int st_loader_recv_frame(st_loader *l, int timeout_ms, const uint8_t **frame, size_t *len,
                         st_err *err)
{
    double end = st_now() + timeout_ms / 1000.0;
    for (;;) {
        while (l->rx_pos < l->rx_len) {
            size_t used = 0;
            int got = slip_dec_feed(&l->dec, l->rx + l->rx_pos, l->rx_len - l->rx_pos, &used);
            if (l->capture)
                capture(l, l->rx + l->rx_pos, used);
            l->rx_pos += used;
            if (got) {
                *frame = l->dec.buf;
                *len = l->dec.len;
                return 1;
            }
        }
        int left = (int)((end - st_now()) * 1000.0 + 0.5);
        if (left <= 0)
            return 0;
        ssize_t n = st_port_read(l->port, l->rx, sizeof l->rx, left, err);
        if (n < 0)
            return port_failed(l, 0, err);
        l->rx_pos = 0;
        l->rx_len = (size_t)n;
    }
}

int st_loader_recv_until(st_loader *l, double end, uint8_t op, const uint8_t **frame,
                         size_t *len, st_err *err)
{
    int left = (int)((end - st_now()) * 1000.0 + 0.5);
    int rc = left > 0 ? st_loader_recv_frame(l, left, frame, len, err) : 0;
    if (rc < 0)
        err->cmd = op;
    return rc;
}

int st_resp_parse(const uint8_t *frame, size_t len, st_resp *r)
{
    memset(r, 0, sizeof *r);
    if (len < ESP_HDR_LEN || frame[0] != 0x01)
        return -1;
    r->op = frame[1];
    r->size = esp_le16(frame + 2);
    r->value = esp_le32(frame + 4);
    r->body = frame + ESP_HDR_LEN;
    r->body_len = len - ESP_HDR_LEN;
    if (r->body_len > r->size)
        r->body_len = r->size;
    return 0;
}

int st_resp_split(st_resp *r, bool stub, size_t data_rom, size_t data_stub, st_err *err)
{
    size_t ns, dl;
    if (r->body_len == data_stub + ESP_STUB_STATUS_LEN &&
        (stub || r->body_len != data_rom + ESP_ROM_STATUS_LEN)) {
        ns = ESP_STUB_STATUS_LEN;
        dl = data_stub;
    } else if (r->body_len == data_rom + ESP_ROM_STATUS_LEN) {
        ns = ESP_ROM_STATUS_LEN;
        dl = data_rom;
    } else if (r->body_len == ESP_STUB_STATUS_LEN || r->body_len == ESP_ROM_STATUS_LEN) {
        /* Status only where data was due (the legacy stub's failed MD5 announces 18
         * bytes and sends 2): the status still says what happened. */
        ns = r->body_len;
        dl = 0;
    } else {
        /* Unexpected length: like esptool v4.10+, the status follows the expected data. */
        ns = stub ? ESP_STUB_STATUS_LEN : ESP_ROM_STATUS_LEN;
        dl = stub ? data_stub : data_rom;
        if (r->body_len < dl + ns) {
            st_err_set(err, ST_E_PROTOCOL, ST_PH_NONE,
                       "%s reply too short: %zu bytes of data+status, expected %zu",
                       esp_cmd_name(r->op), r->body_len, dl + ns);
            err->cmd = r->op;
            err->fclass = ST_FC_PROTOCOL;
            st_err_hint(err, "%s", st_fclass_hint(ST_FC_PROTOCOL));
            return -1;
        }
    }
    r->data = r->body;
    r->data_len = dl;
    memset(r->status, 0, sizeof r->status);
    memcpy(r->status, r->body + dl, ns);
    r->nstatus = (uint8_t)ns;
    return 0;
}

const char *st_cmd_description(uint8_t op)
{
    switch (op) {
    case ESP_FLASH_BEGIN: return "enter flash download mode";
    case ESP_FLASH_DATA: return "write to target flash";
    case ESP_FLASH_END: return "leave flash download mode";
    case ESP_MEM_BEGIN: return "enter RAM download mode";
    case ESP_MEM_DATA: return "write to target RAM";
    case ESP_MEM_END: return "leave RAM download mode";
    case ESP_SYNC: return "sync";
    case ESP_WRITE_REG: return "write target register";
    case ESP_READ_REG: return "read target register";
    case ESP_SPI_SET_PARAMS: return "set SPI params";
    case ESP_SPI_ATTACH: return "attach SPI flash";
    case ESP_CHANGE_BAUDRATE: return "change baud rate";
    case ESP_FLASH_DEFL_BEGIN: return "enter compressed flash mode";
    case ESP_FLASH_DEFL_DATA: return "write compressed data to flash";
    case ESP_FLASH_DEFL_END: return "leave compressed flash mode";
    case ESP_SPI_FLASH_MD5: return "calculate md5 of flash region";
    default: return "run command";
    }
}

st_fclass st_status_fclass(uint8_t op, st_phase ph, const uint8_t *status, int nstatus)
{
    if (status[0] == 0)
        return ST_FC_NONE;
    if (nstatus == ESP_ROM_STATUS_LEN) {
        switch (status[1]) {
        case ESP_ROM_ERR_CHECKSUM:
            /* Link corruption either way; in RAM it is the stub-upload failure of §4.4. */
            return op == ESP_MEM_DATA ? ST_FC_STUB_RAM_CHECKSUM : ST_FC_PROTOCOL;
        case ESP_ROM_ERR_FLASH_WRITE:
        case ESP_ROM_ERR_FLASH_READ:
        case 0x0A:
            return ST_FC_FLASH_WRITE;
        case ESP_ROM_ERR_DEFLATE:
        case ESP_ROM_ERR_ADLER:
        case 0x0D:
            return ST_FC_INFLATE;
        case ESP_ROM_ERR_FAILED:
            if (op == ESP_FLASH_BEGIN || op == ESP_FLASH_DEFL_BEGIN)
                return ST_FC_FLASH_WRITE;
            break;
        default:
            break;
        }
    } else {
        switch (status[0]) {
        case ESP_STUB_FAILED_SPI_OP:
        case ESP_STUB_FAILED_SPI_UNLOCK:
        case 0x63: /* legacy stub: MD5 read of flash failed */
            return ST_FC_FLASH_WRITE;
        case ESP_STUB_INFLATE_ERROR:
            return ST_FC_INFLATE;
        default:
            break;
        }
    }
    switch (op) {
    case ESP_SYNC: return ST_FC_NO_SYNC;
    case ESP_MEM_END: return ST_FC_STUB_START;
    case ESP_CHANGE_BAUDRATE: return ST_FC_BAUD_CHANGE;
    default: break;
    }
    (void)ph;
    return ST_FC_PROTOCOL;
}

int st_resp_error(const st_resp *r, st_phase ph, st_err *err)
{
    char hex[9] = "";
    for (int i = 0; i < r->nstatus && i < 4; i++)
        snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", r->status[i]);
    st_fclass fc = st_status_fclass(r->op, ph, r->status, r->nstatus);
    const char *meaning;
    if (r->op == ESP_MEM_DATA && fc == ST_FC_STUB_RAM_CHECKSUM)
        meaning = "checksum error in a RAM block \xe2\x80\x94 the bytes were corrupted on the serial link";
    else
        meaning = esp_status_meaning(r->status, r->nstatus);
    st_err_set(err, ST_E_DEVICE, ph, "Failed to %s (result was %s): %s", st_cmd_description(r->op),
               hex, meaning);
    err->cmd = r->op;
    memcpy(err->status, r->status, sizeof err->status);
    err->nstatus = r->nstatus;
    err->fclass = fc;
    st_err_hint(err, "%s", st_fclass_hint(fc));
    return -1;
}

/* A real frame starts with its own C0, which then just reopens: taking the junk frame's
 * closing delimiter as an opener costs nothing when it was not one. */
void st_loader_resync(st_loader *l)
{
    l->skipped_frames++;
    l->dec.in_frame = true;
    l->dec.escaped = false;
    l->dec.overflow = false;
}

/* The ROM's answer to an opcode it does not know: the previous reply's header re-sent
 * with status 01 05 (§14), so its opcode is not ours. */
static bool is_unsupported_echo(const st_loader *l, const st_resp *r)
{
    return !l->stub && r->op == l->prev_reply_op && r->body_len == ESP_ROM_STATUS_LEN &&
           r->body[0] == 0x01 && r->body[1] == ESP_ROM_ERR_INVALID_MSG;
}

int st_loader_await(st_loader *l, uint8_t op, int timeout_ms, size_t data_rom, size_t data_stub,
                    st_resp *r, st_err *err)
{
    double end = st_now() + timeout_ms / 1000.0;
    uint64_t noise0 = st_loader_noise(l);
    for (;;) {
        const uint8_t *f = NULL;
        size_t n = 0;
        int rc = st_loader_recv_until(l, end, op, &f, &n, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            uint64_t junk = st_loader_noise(l) - noise0;
            st_err_set(err, ST_E_TIMEOUT, l->phase, "no reply to %s within %d ms%s",
                       esp_cmd_name(op), timeout_ms,
                       junk ? " (only garbage on the line)" : "");
            err->cmd = op;
            err->fclass = ST_FC_TIMEOUT;
            st_err_hint(err, "%s", st_fclass_hint(ST_FC_TIMEOUT));
            return -1;
        }
        if (st_resp_parse(f, n, r) < 0) {
            st_loader_resync(l);
            continue;
        }
        if (r->op != op) {
            if (is_unsupported_echo(l, r)) {
                st_err_set(err, ST_E_DEVICE, l->phase,
                           "%s is not supported by the ROM loader (result was 01050000)",
                           esp_cmd_name(op));
                err->cmd = op;
                memcpy(err->status, r->body, 4);
                err->nstatus = 4;
                err->fclass = ST_FC_PROTOCOL;
                st_err_hint(err, "%s", st_fclass_hint(ST_FC_PROTOCOL));
                st_loader_drain(l, 50, 500); /* the echo repeats (8 times after a SYNC) */
                return -1;
            }
            l->skipped_frames++;
            continue;
        }
        l->prev_reply_op = op;
        if (st_resp_split(r, l->stub, data_rom, data_stub, err) < 0) {
            err->phase = l->phase;
            return -1;
        }
        if (!st_resp_ok(r))
            return st_resp_error(r, l->phase, err);
        return 0;
    }
}

int st_loader_command(st_loader *l, uint8_t op, const void *payload, size_t n, uint32_t chk,
                      int timeout_ms, size_t data_rom, size_t data_stub, st_resp *r,
                      st_err *err)
{
    if (st_loader_send(l, op, payload, n, chk, err) < 0)
        return -1;
    return st_loader_await(l, op, timeout_ms, data_rom, data_stub, r, err);
}

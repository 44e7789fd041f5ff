/* loader_cmds.c - typed bootloader commands: payload layout, checksum, timeout and the
 * response data each one expects. */
#include <string.h>

#include "esp_proto.h"
#include "loader.h"

static void put_words(uint8_t *p, const uint32_t *w, int n)
{
    for (int i = 0; i < n; i++)
        esp_put32(p + 4 * i, w[i]);
}

/* Command whose reply carries no data, with up to 6 payload words. */
static int simple(st_loader *l, uint8_t op, const uint32_t *w, int nw, int timeout_ms, st_err *err)
{
    uint8_t p[24];
    st_resp r;
    put_words(p, w, nw);
    return st_loader_command(l, op, p, 4 * (size_t)nw, 0, timeout_ms, 0, 0, &r, err);
}

int st_cmd_sync(st_loader *l, int timeout_ms, st_err *err)
{
    uint8_t p[36] = {0x07, 0x07, 0x12, 0x20};
    memset(p + 4, 0x55, 32);
    st_resp r;
    if (st_loader_command(l, ESP_SYNC, p, sizeof p, 0, timeout_ms, 0, 0, &r, err) < 0)
        return -1;
    l->sync_value = r.value;
    return 0;
}

void st_cmd_sync_drain(st_loader *l)
{
    /* The ROM answers every SYNC 8 times; later replies of other opcodes are matched by
     * opcode anyway, this only keeps them out of the way. */
    for (int i = 0; i < 7; i++) {
        const uint8_t *f;
        size_t n;
        st_err e;
        if (st_loader_recv_frame(l, 150, &f, &n, &e) <= 0)
            break;
    }
}

int st_cmd_rom_resync(st_loader *l, st_err *err)
{
    static const uint8_t lone_end = SLIP_END;
    if (st_port_write(l->port, &lone_end, 1, err) < 0) {
        err->phase = l->phase;
        return -1;
    }
    st_loader_drain(l, 50, 500);
    for (int t = 0; t < ST_ROM_RESYNC_TRIES; t++) {
        if (st_cmd_sync(l, ST_TO_SYNC_MS, err) == 0) {
            st_cmd_sync_drain(l);
            return 0;
        }
        if (err->cat == ST_E_GONE || err->cat == ST_E_IO)
            return -1;
    }
    st_err_set(err, ST_E_TIMEOUT, l->phase,
               "the ROM loader did not answer SYNC after a lone frame end (%d tries)",
               ST_ROM_RESYNC_TRIES);
    err->cmd = ESP_SYNC;
    err->fclass = ST_FC_TIMEOUT;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_TIMEOUT));
}

int st_cmd_read_reg(st_loader *l, uint32_t addr, uint32_t *val, st_err *err)
{
    uint8_t p[4];
    st_resp r;
    esp_put32(p, addr);
    if (st_loader_command(l, ESP_READ_REG, p, sizeof p, 0, ST_TO_DEFAULT_MS, 0, 0, &r, err) < 0)
        return -1;
    *val = r.value;
    return 0;
}

int st_cmd_write_reg(st_loader *l, uint32_t addr, uint32_t val, st_err *err)
{
    const uint32_t w[4] = {addr, val, 0xFFFFFFFFu, 0};
    return simple(l, ESP_WRITE_REG, w, 4, ST_TO_DEFAULT_MS, err);
}

int st_cmd_mem_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t addr,
                     st_err *err)
{
    const uint32_t w[4] = {size, blocks, blksz, addr};
    return simple(l, ESP_MEM_BEGIN, w, 4, ST_TO_DEFAULT_MS, err);
}

/* *_DATA: 16-byte header (len, seq, 0, 0) then the data; checksum over the data only. */
static int data_cmd(st_loader *l, uint8_t op, uint32_t seq, const uint8_t *data, size_t n,
                    int timeout_ms, st_err *err)
{
    uint8_t h[ESP_DATA_HDR_LEN] = {0};
    esp_put32(h, (uint32_t)n);
    esp_put32(h + 4, seq);
    if (st_loader_send2(l, op, h, sizeof h, data, n, esp_checksum(data, n), err) < 0)
        return -1;
    st_resp r;
    return st_loader_await(l, op, timeout_ms, 0, 0, &r, err);
}

int st_cmd_mem_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, st_err *err)
{
    return data_cmd(l, ESP_MEM_DATA, seq, data, n, ST_TO_DEFAULT_MS, err);
}

int st_cmd_mem_end_send(st_loader *l, uint32_t flag, uint32_t entry, st_err *err)
{
    uint8_t p[8];
    esp_put32(p, flag);
    esp_put32(p + 4, entry);
    return st_loader_send(l, ESP_MEM_END, p, sizeof p, 0, err);
}

int st_cmd_flash_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t off,
                       int timeout_ms, st_err *err)
{
    const uint32_t w[4] = {size, blocks, blksz, off};
    return simple(l, ESP_FLASH_BEGIN, w, 4, timeout_ms, err);
}

int st_cmd_flash_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, int timeout_ms,
                      st_err *err)
{
    return data_cmd(l, ESP_FLASH_DATA, seq, data, n, timeout_ms, err);
}

int st_cmd_flash_end(st_loader *l, uint32_t flag, st_err *err)
{
    const uint32_t w[1] = {flag};
    return simple(l, ESP_FLASH_END, w, 1, ST_TO_DEFAULT_MS, err);
}

int st_cmd_defl_begin(st_loader *l, uint32_t size, uint32_t blocks, uint32_t blksz, uint32_t off,
                      int timeout_ms, st_err *err)
{
    /* Always the 4-word form: the ESP32 ROM answers a 20-byte BEGIN with 01 05 (§14). */
    const uint32_t w[4] = {size, blocks, blksz, off};
    return simple(l, ESP_FLASH_DEFL_BEGIN, w, 4, timeout_ms, err);
}

int st_cmd_defl_data(st_loader *l, uint32_t seq, const uint8_t *data, size_t n, int timeout_ms,
                     st_err *err)
{
    return data_cmd(l, ESP_FLASH_DEFL_DATA, seq, data, n, timeout_ms, err);
}

int st_cmd_defl_end(st_loader *l, uint32_t flag, int timeout_ms, st_err *err)
{
    const uint32_t w[1] = {flag};
    return simple(l, ESP_FLASH_DEFL_END, w, 1, timeout_ms, err);
}

int st_cmd_erase_region(st_loader *l, uint32_t off, uint32_t len, st_err *err)
{
    const uint32_t w[2] = {off, len};
    return simple(l, ESP_ERASE_REGION, w, 2, st_timeout_per_mb(ST_TO_ERASE_PER_MB_MS, len), err);
}

int st_cmd_erase_flash(st_loader *l, st_err *err)
{
    return simple(l, ESP_ERASE_FLASH, NULL, 0, ST_TO_CHIP_ERASE_MS, err);
}

static int read_error(st_loader *l, st_err *err, const char *fmt, uint32_t a, uint32_t b)
{
    st_err_set(err, ST_E_PROTOCOL, l->phase, fmt, a, b);
    err->cmd = ESP_READ_FLASH;
    err->fclass = ST_FC_PROTOCOL;
    return st_err_hint(err, "%s", st_fclass_hint(ST_FC_PROTOCOL));
}

int st_cmd_read_flash(st_loader *l, uint32_t off, uint32_t len, st_read_sink sink, void *user,
                      uint8_t stub_md5[16], st_err *err)
{
    const uint32_t w[4] = {off, len, ST_READ_PACKET, ST_READ_IN_FLIGHT};
    if (simple(l, ESP_READ_FLASH, w, 4, ST_TO_DEFAULT_MS, err) < 0)
        return -1;
    uint32_t got = 0;
    for (;;) {
        const uint8_t *f;
        size_t n;
        int rc = st_loader_recv_frame(l, ST_TO_DEFAULT_MS, &f, &n, err);
        if (rc < 0) {
            err->cmd = ESP_READ_FLASH;
            return -1;
        }
        if (rc == 0) {
            st_err_set(err, ST_E_TIMEOUT, l->phase,
                       "READ_FLASH: nothing for %d ms after %u of %u bytes", ST_TO_DEFAULT_MS, got, len);
            err->cmd = ESP_READ_FLASH;
            err->fclass = ST_FC_TIMEOUT;
            return st_err_hint(err, "%s", st_fclass_hint(ST_FC_TIMEOUT));
        }
        if (got == len) { /* everything acked: this is the stub's digest */
            if (n != 16)
                return read_error(l, err, "READ_FLASH: a %u-byte frame where the 16-byte MD5 of "
                                          "the %u bytes read belongs", (uint32_t)n, len);
            memcpy(stub_md5, f, 16);
            return 0;
        }
        if (n > len - got)
            return read_error(l, err, "READ_FLASH: %u bytes more than the %u asked for",
                              (uint32_t)(n - (len - got)), len);
        if (n < ST_READ_PACKET && got + n < len)
            return read_error(l, err, "READ_FLASH: corrupt data: a %u-byte packet before the end "
                                      "(at %u)", (uint32_t)n, got);
        if (sink(user, f, n, err) != 0)
            return -1;
        got += (uint32_t)n;
        uint8_t ack[4];
        esp_put32(ack, got);
        if (st_loader_send_raw(l, ack, sizeof ack, err) < 0)
            return -1;
    }
}

int st_cmd_spi_attach(st_loader *l, st_err *err)
{
    /* hspi_arg 0 (default pins); the ROM also wants the 4-byte is_legacy word. */
    const uint32_t w[2] = {0, 0};
    return simple(l, ESP_SPI_ATTACH, w, l->stub ? 1 : 2, ST_TO_DEFAULT_MS, err);
}

int st_cmd_spi_set_params(st_loader *l, uint32_t flash_size, st_err *err)
{
    /* A status mask of 0 makes the ROM's next erase hang (§14): always 0xFFFF. */
    const uint32_t w[6] = {0, flash_size, 0x10000, 0x1000, 0x100, 0xFFFF};
    return simple(l, ESP_SPI_SET_PARAMS, w, 6, ST_TO_DEFAULT_MS, err);
}

int st_cmd_change_baud(st_loader *l, uint32_t new_word, uint32_t old_word, st_err *err)
{
    const uint32_t w[2] = {new_word, old_word};
    return simple(l, ESP_CHANGE_BAUDRATE, w, 2, ST_TO_DEFAULT_MS, err);
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int st_hex_md5(const uint8_t *hex, uint8_t md5[16])
{
    for (int i = 0; i < 16; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        md5[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int st_cmd_md5(st_loader *l, uint32_t off, uint32_t len, uint8_t md5[16], st_err *err)
{
    const uint32_t w[4] = {off, len, 0, 0};
    uint8_t p[16];
    st_resp r;
    put_words(p, w, 4);
    /* st_loader_command checks the status before we look at the digits. */
    if (st_loader_command(l, ESP_SPI_FLASH_MD5, p, sizeof p, 0,
                          st_timeout_per_mb(ST_TO_MD5_PER_MB_MS, len), 32, 16, &r, err) < 0)
        return -1;
    if (r.data_len == 16) {
        memcpy(md5, r.data, 16);
        return 0;
    }
    if (r.data_len != 32 || st_hex_md5(r.data, md5) < 0) {
        st_err_set(err, ST_E_PROTOCOL, l->phase,
                   "SPI_FLASH_MD5 reply holds no digest (%zu data bytes: \"%.*s\")", r.data_len,
                   (int)(r.data_len < 32 ? r.data_len : 32), (const char *)r.data);
        err->cmd = ESP_SPI_FLASH_MD5;
        err->fclass = ST_FC_PROTOCOL;
        st_err_hint(err, "%s", st_fclass_hint(ST_FC_PROTOCOL));
        return -1;
    }
    return 0;
}

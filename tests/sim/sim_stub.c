/* sim_stub.c - the two ESP32 flasher stubs a host can upload (sim_stubid.c tells them
 * apart). The legacy esptool stub (esptool-legacy-flasher-stub): header sent before
 * executing (size 2, MD5 18), 2 status bytes [error, status], SYNC value 0, data blocks
 * ACKed before being written with the write/inflate error deferred to the next data
 * command or FLASH_END, lazy sector/64 KiB-block erase, 32 KiB inflate output buffer,
 * READ_FLASH streaming with acks, unknown opcode FF 00.
 * Espressif's esp-flasher-stub (src/command_handler.c, handle_command) differs where
 * `NEW(u)` is tested: an error of the work done after a reply (write, inflate) is
 * answered to whatever command comes next, which is then not executed; unknown opcode
 * C3 00; END with data outstanding C0 (not C8), and END reboots nothing; RUN_USER_CODE does
 * nothing; FLASH_DATA length mismatch C9; DEFL_DATA after the image complete C9 at once;
 * no C2 block-size check, no C0 EE frame limit; ERASE_REGION misaligned C0; CHANGE_BAUDRATE
 * sets the asked rate (the second word is ignored); READ_FLASH keeps one packet in flight
 * and refuses packets above 4096 with C0; the inflate buffer restarts at seq 0; MEM_DATA
 * needs no 4-byte multiple; a failing command's reply carries no data. */
#include <openssl/evp.h>
#include <string.h>

#include "esp_proto.h"
#include "sim_unit.h"

#define STUB_MAX_BLOCK ESP_STUB_FLASH_BLOCK
#define STUB_DEFAULT_FLASH (16u << 20) /* SPIParamCfg at stub start */
#define SECTORS_PER_BLOCK 16
#define NEW(u) ((u)->stub.flavor == SIM_STUB_NEW)

void stub_enter(sim_unit *u)
{
    static const uint8_t ohai[4] = {'O', 'H', 'A', 'I'};
    unit_send_frame(u, ohai, 4); /* after the MEM_END reply */
    u->mode = SIM_MODE_STUB;
    int flavor = u->stub.flavor;
    memset(&u->stub, 0, sizeof u->stub);
    u->stub.flavor = flavor;
    u->stub.param_size = STUB_DEFAULT_FLASH;
    u->regs.spi_attached = true; /* spi_flash_attach() at start-up */
    memset(&u->srx, 0, sizeof u->srx);
    memset(&u->w, 0, sizeof u->w);
    sim_inflate_end(&u->inf);
    u->obuf_len = 0; /* .bss zeroed */
    unit_log(u, "stub running (OHAI sent)");
}

/* One reply frame: header (value), optional data, [error, status]. */
static void stub_send(sim_unit *u, uint8_t op, uint16_t len_ret, uint32_t value,
                      const uint8_t *data, size_t dlen, uint8_t error, uint8_t status)
{
    uint8_t f[8 + 16 + 2];
    f[0] = 1;
    f[1] = op;
    esp_put16(f + 2, len_ret);
    esp_put32(f + 4, value);
    if (dlen)
        memcpy(f + 8, data, dlen);
    f[8 + dlen] = error;
    f[9 + dlen] = status;
    unit_send_frame(u, f, 10 + dlen);
}

static bool in_chip(const sim_unit *u, uint32_t addr, uint32_t len)
{
    return (uint64_t)addr + len <= u->stub.param_size;
}

/* start_next_erase(): nothing to do, or the chip still busy (WIP set): return at once;
 * else start one sector erase, or a 64 KiB block erase when aligned with >= 16 sectors
 * left, and return without waiting for it. */
static bool next_erase(sim_unit *u)
{
    sim_wsess *w = &u->w;
    if (w->remaining_erase_sector == 0 || unit_flash_busy(u))
        return false;
    bool block = w->remaining_erase_sector >= SECTORS_PER_BLOCK &&
                 w->next_erase_sector % SECTORS_PER_BLOCK == 0;
    uint32_t n = block ? SECTORS_PER_BLOCK : 1;
    uint32_t addr = w->next_erase_sector * SIM_FLASH_SECTOR;
    if (in_chip(u, addr, n * SIM_FLASH_SECTOR))
        unit_erase(u, addr, n * SIM_FLASH_SECTOR, block ? 0 : 1, block ? 1 : 0, false);
    w->remaining_erase_sector -= n;
    w->next_erase_sector += n;
    return true;
}

/* handle_flash_data(): trim to what remains, erase through the sector the write ends in
 * (polling the chip between erases), wait for the chip, write (SPIWrite waits for every
 * page), advance. */
static void write_data(sim_unit *u, const uint8_t *d, uint32_t len)
{
    sim_wsess *w = &u->w;
    if (len > w->remaining)
        len = w->remaining;
    if (len == 0)
        return;
    uint32_t last_sector = (w->next_write + len) / SIM_FLASH_SECTOR;
    while (w->remaining_erase_sector > 0 && w->next_erase_sector <= last_sector)
        if (!next_erase(u))
            unit_flash_wait(u);
    unit_flash_wait(u);
    if (!in_chip(u, w->next_write, len) || !unit_program(u, w->next_write, d, len))
        w->last_error = ESP_STUB_FAILED_SPI_OP;
    w->next_write += len;
    w->remaining -= len;
    unit_check_disconnect(u, w->size - w->remaining, w->size);
}

/* handle_flash_deflated_data() */
static void defl_data(sim_unit *u, const uint8_t *d, uint32_t length)
{
    sim_wsess *w = &u->w;
    if (w->remaining == 0 && length > 4) {
        w->last_error = ESP_STUB_TOO_MUCH_DATA;
        return;
    }
    if (w->f_inflate) {
        w->last_error = ESP_STUB_INFLATE_ERROR;
        unit_log(u, "fault inflate_error");
        return;
    }
    int status = SIM_INF_NEEDS_INPUT;
    while (length > 0 && w->remaining > 0 && status > SIM_INF_DONE) {
        size_t in_bytes = length, out_bytes = sizeof u->obuf - u->obuf_len;
        bool more = w->remaining_compressed > length;
        /* "start an opportunistic erase": the chip erases while the CPU inflates */
        next_erase(u);
        status = sim_inflate_run(&u->inf, d, &in_bytes, u->obuf + u->obuf_len, &out_bytes, more);
        unit_work(u, wire_inflate_ns(in_bytes, out_bytes));
        w->remaining_compressed -= (uint32_t)in_bytes;
        length -= (uint32_t)in_bytes;
        d += in_bytes;
        u->obuf_len += out_bytes;
        if (status == SIM_INF_DONE || u->obuf_len == sizeof u->obuf) {
            write_data(u, u->obuf, (uint32_t)u->obuf_len);
            u->obuf_len = 0;
        }
        if (u->vanish)
            return;
    }
    if (status < SIM_INF_DONE)
        w->last_error = ESP_STUB_INFLATE_ERROR;
    if (status == SIM_INF_DONE && w->remaining > 0 && !NEW(u))
        w->last_error = ESP_STUB_NOT_ENOUGH_DATA; /* new stub: END finds it (C0) */
}

static uint8_t flash_begin(sim_unit *u, uint8_t op, uint32_t total, uint32_t offset,
                           uint32_t compressed)
{
    sim_wsess *w = &u->w;
    memset(w, 0, sizeof *w);
    w->kind = op == ESP_FLASH_BEGIN ? ESP_FLASH_BEGIN : ESP_FLASH_DEFL_BEGIN;
    u->stub.in_flash = true;
    w->offset = w->next_write = offset;
    w->size = w->remaining = total;
    w->next_erase_sector = offset / SIM_FLASH_SECTOR;
    w->remaining_erase_sector =
        (uint32_t)(((uint64_t)(offset % SIM_FLASH_SECTOR) + total + SIM_FLASH_SECTOR - 1) /
                   SIM_FLASH_SECTOR);
    w->last_error = 0;
    if (total > 0)
        unit_session_faults(u, w, op == ESP_FLASH_DEFL_BEGIN);
    /* SPIUnlock: WREN + WRSR clearing every bit but QE (the chip ignores it when its
     * status register is locked down) */
    if (!flash_sr_locked(&u->flash)) {
        flash_sr_set(&u->flash, 0, 0, true);
        flash_sr_set(&u->flash, 1, flash_sr_read(&u->flash, 1) & 0x02, true);
    }
    if (op == ESP_FLASH_DEFL_BEGIN) {
        sim_inflate_begin(&u->inf); /* tinfl_init; the output buffer fill level stays */
        w->remaining_compressed = compressed;
    }
    return 0;
}

/* handle_flash_erase(): sectors up to a 64 KiB boundary, blocks while more than a block
 * is left, then sectors; each erase waited for. */
static uint8_t erase_region(sim_unit *u, uint32_t addr, uint32_t len)
{
    if (addr % SIM_FLASH_SECTOR)
        return 0x32;
    if (len % SIM_FLASH_SECTOR)
        return 0x33;
    while (len > 0 && addr % SIM_FLASH_BLOCK) {
        if (!in_chip(u, addr, SIM_FLASH_SECTOR))
            return 0x35;
        unit_erase(u, addr, SIM_FLASH_SECTOR, 1, 0, true);
        len -= SIM_FLASH_SECTOR;
        addr += SIM_FLASH_SECTOR;
    }
    while (len > SIM_FLASH_BLOCK) {
        if (!in_chip(u, addr, SIM_FLASH_BLOCK))
            return 0x36;
        unit_erase(u, addr, SIM_FLASH_BLOCK, 0, 1, true);
        len -= SIM_FLASH_BLOCK;
        addr += SIM_FLASH_BLOCK;
    }
    while (len > 0) {
        if (!in_chip(u, addr, SIM_FLASH_SECTOR))
            return 0x37;
        unit_erase(u, addr, SIM_FLASH_SECTOR, 1, 0, true);
        len -= SIM_FLASH_SECTOR;
        addr += SIM_FLASH_SECTOR;
    }
    return 0;
}

static void change_baud(sim_unit *u, uint32_t new_baud, uint32_t cur_baud)
{
    if (NEW(u)) { /* stub_lib_uart_rominit_set_baudrate(new): from the clock, exact */
        u->baud = new_baud ? new_baud : u->baud;
        u->regs.baud = u->baud;
        unit_log(u, "stub baud -> %u", u->baud);
        unit_bridge_check(u, new_baud);
        return;
    }
    /* get_new_uart_divider(): 16x divider from UART_CLKDIV scaled by current/new */
    uint32_t reg = regs_read(&u->regs, ESP32_UART_CLKDIV);
    uint32_t div16 = ((reg & 0xFFFFF) << 4) | ((reg >> 20) & 0xF);
    uint32_t nd = new_baud ? (uint32_t)((uint64_t)div16 * cur_baud / new_baud) : 0;
    unit_work(u, 11 * SIM_NS_PER_MS);
    if (nd < 16) {
        u->garbled = true; /* divider 0 (e.g. old baud sent as 0): the UART is useless */
        unit_log(u, "stub CHANGE_BAUDRATE(%u, %u): divider %u, output garbled", new_baud,
                 cur_baud, nd);
    } else {
        uint64_t actual = (uint64_t)u->o.xtal_mhz * 1000000u * 16u / nd;
        u->baud = (uint32_t)actual;
        /* off by more than a bridge tolerates (~3 %): unreadable */
        if (actual * 100 < (uint64_t)new_baud * 97 || actual * 100 > (uint64_t)new_baud * 103)
            u->garbled = true;
        unit_log(u, "stub baud -> %u (asked %u)", u->baud, new_baud);
    }
    u->regs.baud = u->baud;
    unit_bridge_check(u, new_baud);
}

/* ---- READ_FLASH (0xD2): synchronous in the stub; here a small state machine ---- */

static void rf_finish(sim_unit *u)
{
    uint8_t d[16];
    unsigned int dl = 16;
    EVP_DigestFinal_ex(u->rf.md5, d, &dl);
    EVP_MD_CTX_free(u->rf.md5);
    u->rf.md5 = NULL;
    u->rf.active = false;
    unit_send_frame(u, d, 16);
    unit_log(u, "stub READ_FLASH done: %u bytes sent, %u acked", u->rf.sent, u->rf.acked);
}

static void rf_pump(sim_unit *u)
{
    uint8_t buf[SIM_FLASH_SECTOR];
    while (u->rf.sent < u->rf.len && u->rf.sent - u->rf.acked < u->rf.inflight) {
        uint32_t n = u->rf.len - u->rf.sent;
        if (n > u->rf.block)
            n = u->rf.block;
        if (!in_chip(u, u->rf.addr, n))
            break; /* SPIRead failed: stop sending, still wait for an ack */
        flash_read(&u->flash, u->rf.addr, buf, n);
        unit_work(u, wire_md5_ns(n));
        EVP_DigestUpdate(u->rf.md5, buf, n);
        if (u->rf.sent == 0 && fault_take(&u->o.faults.read_bitflip)) {
            buf[n / 2] ^= 0x10; /* corrupted on the link: the stub's MD5 has the true byte */
            unit_log(u, "fault read_bitflip: READ_FLASH packet at 0x%x sent with a bit flipped",
                     u->rf.addr);
        }
        unit_send_frame(u, buf, n);
        u->rf.addr += n;
        u->rf.sent += n;
    }
    u->rf.ack_state = 0;
    u->rf.ack_len = 0;
}

static bool rf_continue(const sim_unit *u)
{
    return u->rf.acked < u->rf.len && u->rf.acked <= u->rf.sent;
}

static void read_flash_start(sim_unit *u, uint32_t addr, uint32_t len, uint32_t block,
                             uint32_t inflight)
{
    if (NEW(u))
        inflight = block; /* max_unacked_packets = 1: one packet, then wait for its ack */
    if (block > SIM_FLASH_SECTOR) {
        /* returns with the UART interrupt still masked: the stub never hears again */
        unit_log(u, "stub READ_FLASH packet size %u > 4096: stub deaf", block);
        u->mode = SIM_MODE_DEAD;
        return;
    }
    u->rf = (typeof(u->rf)){.active = true, .addr = addr, .len = len, .block = block,
                            .inflight = inflight};
    u->rf.md5 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(u->rf.md5, EVP_md5(), NULL);
    unit_flash_wait(u);
    if (!rf_continue(u))
        return rf_finish(u);
    rf_pump(u);
}

/* SLIP_recv() of one ack: fresh state per frame, at most 4 bytes kept. */
void stub_rf_byte(sim_unit *u, uint8_t b)
{
    int r = -1;
    bool done = false;
    if (b == 0xC0) {
        if (u->rf.ack_state == 0) {
            u->rf.ack_state = 1;
            return;
        }
        u->rf.ack_state = 0;
        done = true;
    } else if (u->rf.ack_state == 1) {
        if (b == 0xDB)
            u->rf.ack_state = 2;
        else
            r = b;
    } else if (u->rf.ack_state == 2) {
        if (b == 0xDC || b == 0xDD) {
            r = b == 0xDC ? 0xC0 : 0xDB;
            u->rf.ack_state = 1;
        }
    }
    if (r >= 0 && u->rf.ack_len < 4)
        u->rf.ack[u->rf.ack_len++] = (uint8_t)r;
    if (!done)
        return;
    if (u->rf.ack_len != 4)
        return rf_finish(u);
    u->rf.acked = esp_le32(u->rf.ack);
    if (!rf_continue(u))
        return rf_finish(u);
    rf_pump(u);
}

/* ---- command loop body (cmd_loop) ---- */

void stub_frame(sim_unit *u, uint8_t *b)
{
    uint8_t op = b[1];
    uint16_t data_len = esp_le16(b + 2);
    uint32_t checksum = esp_le32(b + 4);
    uint8_t *p = b + 8;
#define W(i) esp_le32(p + 4 * (i))
    uint16_t len_ret = 2;
    uint32_t value = 0;
    uint8_t error = ESP_STUB_CMD_NOT_IMPLEMENTED, status = 0;
    uint8_t md5d[16];
    size_t dlen = 0;

    if (op == ESP_READ_REG && data_len == 4)
        value = regs_read(&u->regs, W(0));
    if (op == ESP_SPI_FLASH_MD5)
        len_ret = 18;

    if (NEW(u) && u->stub.pending_err) {
        /* handle_command: the previous post-process failed; this command is not run */
        uint8_t e = u->stub.pending_err;
        u->stub.pending_err = 0;
        stub_send(u, op, 2, 0, NULL, 0, e, 0);
        unit_log(u, "stub %-16s size=%-5u -> FAIL %02x 00 (error of the previous block)",
                 esp_cmd_name(op), data_len, e);
        return;
    }
    if (NEW(u)) {
        error = ESP_STUB_INVALID_COMMAND;
        if (op == ESP_GET_SECURITY_INFO)
            error = data_len == 0 ? ESP_STUB_CMD_NOT_IMPLEMENTED : ESP_STUB_BAD_DATA_LEN;
    } else if (data_len > STUB_MAX_BLOCK + 16) {
        stub_send(u, op, len_ret, value, NULL, 0, ESP_STUB_BAD_DATA_LEN, 0xEE);
        unit_log(u, "stub %-16s size=%-5u -> FAIL c0 ee (frame too long)", esp_cmd_name(op),
                 data_len);
        return;
    }
    switch (op) {
    case ESP_SYNC:
        error = data_len == 36 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (error == 0)
            for (int i = 0; i < 7; i++)
                stub_send(u, op, len_ret, 0, NULL, 0, 0, 0);
        break;
    case ESP_ERASE_FLASH:
        error = data_len == 0 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error)
            unit_erase(u, 0, u->flash.size, 0, u->flash.size / SIM_FLASH_BLOCK, true);
        break;
    case ESP_ERASE_REGION:
        error = data_len == 8 ? erase_region(u, W(0), W(1)) : ESP_STUB_BAD_DATA_LEN;
        if (NEW(u) && (error == 0x32 || error == 0x33))
            error = ESP_STUB_BAD_DATA_LEN;
        break;
    case ESP_CHANGE_BAUDRATE:
    case ESP_READ_FLASH:
        error = data_len == (op == ESP_READ_FLASH ? 16 : 8) ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error && NEW(u) && op == ESP_READ_FLASH && W(2) > SIM_FLASH_SECTOR)
            error = ESP_STUB_BAD_DATA_LEN;
        break;
    case ESP_SPI_FLASH_MD5:
        error = data_len == 16 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error) {
            if (!in_chip(u, W(0), W(1))) {
                error = 0x63; /* header still says 18; no digest follows */
            } else {
                unit_flash_wait(u);
                flash_md5(&u->flash, W(0), W(1), md5d);
                unit_work(u, wire_md5_ns(W(1)));
                dlen = 16;
            }
        }
        break;
    case ESP_FLASH_BEGIN:
    case ESP_FLASH_DEFL_BEGIN:
        if (data_len != 16 && data_len != 20)
            error = ESP_STUB_BAD_DATA_LEN;
        else if (W(2) > STUB_MAX_BLOCK && !NEW(u))
            error = ESP_STUB_BAD_BLOCKSIZE;
        else
            error = flash_begin(u, op, W(0), W(3), W(1) * W(2));
        break;
    case ESP_FLASH_DATA:
    case ESP_FLASH_DEFL_DATA:
        if (u->stub.in_flash && NEW(u)) {
            uint32_t n = op == ESP_FLASH_DATA ? (uint32_t)data_len - 16u : W(0);
            error = 0;
            if (op == ESP_FLASH_DATA && (data_len < 16 || W(0) != n))
                error = ESP_STUB_TOO_MUCH_DATA;
            else if (op == ESP_FLASH_DEFL_DATA && u->w.remaining == 0 && data_len > 4)
                error = ESP_STUB_TOO_MUCH_DATA;
            else if (n > (uint32_t)data_len - 16u ||
                     esp_checksum(p + 16, n) != checksum)
                error = ESP_STUB_BAD_DATA_CHECKSUM;
        } else if (u->stub.in_flash) {
            error = u->w.last_error;
            int payload_len = (int)data_len - 16;
            if ((int)W(0) != payload_len)
                error = ESP_STUB_BAD_DATA_LEN;
            uint8_t c = esp_checksum(p + 16, payload_len > 0 ? (size_t)payload_len : 0);
            if (c != checksum)
                error = ESP_STUB_BAD_DATA_CHECKSUM;
        } else {
            error = ESP_STUB_NOT_IN_FLASH_MODE;
        }
        break;
    case ESP_FLASH_END:
    case ESP_FLASH_DEFL_END:
        if (NEW(u) && data_len != 4)
            error = ESP_STUB_BAD_DATA_LEN;
        else if (!u->stub.in_flash)
            error = ESP_STUB_NOT_IN_FLASH_MODE;
        else if (u->w.remaining > 0)
            error = NEW(u) ? ESP_STUB_BAD_DATA_LEN : ESP_STUB_NOT_ENOUGH_DATA;
        else if (NEW(u)) {
            u->stub.in_flash = false;
            error = 0; /* write errors were answered to the block after them */
        }
        else {
            u->stub.in_flash = false;
            error = u->w.last_error;
        }
        break;
    case ESP_SPI_SET_PARAMS:
        error = data_len == 24 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error)
            u->stub.param_size = W(1);
        break;
    case ESP_SPI_ATTACH:
        error = data_len == 4 ? 0 : ESP_STUB_BAD_DATA_LEN;
        break;
    case ESP_WRITE_REG:
        if (data_len % 16) {
            error = ESP_STUB_BAD_DATA_LEN;
        } else {
            for (unsigned i = 0; i < data_len / 16u; i++) {
                uint32_t a = W(4 * i), v = W(4 * i + 1), m = W(4 * i + 2);
                unit_work(u, (uint64_t)W(4 * i + 3) * 1000);
                if (m != 0xFFFFFFFFu)
                    v = (v & m) | (regs_read(&u->regs, a) & ~m);
                regs_write(&u->regs, a, v);
            }
            error = 0;
        }
        break;
    case ESP_READ_REG:
        error = data_len == 4 ? 0 : ESP_STUB_BAD_DATA_LEN;
        break;
    case ESP_MEM_BEGIN:
        error = data_len == 16 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error) {
            u->stub.mem_active = true;
            u->stub.mem_remaining = W(0);
            unit_ram_add(u, W(3), W(0));
        }
        break;
    case ESP_MEM_DATA: {
        uint32_t length = (uint32_t)data_len - 16u; /* unsigned, as in the stub */
        if (!u->stub.mem_active && length > 0)
            error = ESP_STUB_NOT_IN_FLASH_MODE;
        else if (length > u->stub.mem_remaining)
            error = ESP_STUB_TOO_MUCH_DATA;
        else if (length % 4 && !NEW(u))
            error = ESP_STUB_BAD_DATA_LEN;
        else {
            u->stub.mem_remaining -= length;
            unit_ram_wrote(u, p + 16, length);
            error = 0;
        }
        break;
    }
    case ESP_MEM_END:
        error = data_len == 8 ? 0 : ESP_STUB_BAD_DATA_LEN;
        if (!error && NEW(u)) {
            error = u->stub.mem_active ? 0 : ESP_STUB_NOT_IN_FLASH_MODE;
            u->stub.mem_active = false;
        } else if (!error) {
            error = u->stub.mem_remaining > 0 ? ESP_STUB_NOT_ENOUGH_DATA : 0;
            u->stub.mem_remaining = 0;
            u->stub.mem_active = false;
        }
        break;
    case ESP_RUN_USER_CODE:
        unit_log(u, "stub RUN_USER_CODE     size=%-5u -> (no reply)%s", data_len,
                 NEW(u) ? ", nothing happens (esp-flasher-stub: not implemented)" : "");
        if (!NEW(u))
            unit_boot_app(u, NULL, true);
        return;
    default:
        break;
    }
    if (NEW(u) && error) {
        len_ret = 2; /* s_send_response(command, error, NULL) */
        dlen = 0;
    }
    stub_send(u, op, len_ret, value, md5d, dlen, error, status);
    unit_log(u, "stub %-16s size=%-5u -> %s %02x %02x", esp_cmd_name(op), data_len,
             error ? "FAIL" : "ok  ", error, status);
    if (error)
        return;
    switch (op) {
    case ESP_CHANGE_BAUDRATE:
        change_baud(u, W(0), W(1));
        break;
    case ESP_READ_FLASH:
        read_flash_start(u, W(0), W(1), W(2), W(3));
        break;
    case ESP_FLASH_DATA:
        write_data(u, p + 16, (uint32_t)data_len - 16u);
        break;
    case ESP_FLASH_DEFL_DATA:
        if (NEW(u) && W(1) == 0)
            u->obuf_len = 0; /* the output buffer restarts with each stream */
        defl_data(u, p + 16, NEW(u) ? W(0) : (uint32_t)data_len - 16u);
        break;
    case ESP_FLASH_END:
    case ESP_FLASH_DEFL_END:
        if (W(0) == 0 && !NEW(u))
            unit_boot_app(u, "0x3 (SW_RESET)", true);
        else if (W(0) == 0)
            unit_log(u, "stub END(0): esp-flasher-stub does not reboot (not implemented)");
        break;
    case ESP_MEM_END:
        if (NEW(u) ? W(0) == 0 : W(1) != 0)
            unit_jump(u, W(1)); /* a new image: it greets again, or crashes */
        break;
    default:
        break;
    }
    if (NEW(u) && u->w.last_error) {
        u->stub.pending_err = u->w.last_error; /* accumulated_result */
        u->w.last_error = 0;
    }
#undef W
}

/* sim_rom.c - the ESP32 ROM serial loader, as observed (doc §14 wins over the rest):
 * 4 status bytes that overlay a persistent reply buffer, a value field that is never
 * cleared, a stale error byte after some successes, unknown opcodes answered with the
 * previous reply's header, checksum errors that consume the sequence number, up-front
 * erase, 0x1800-byte receive buffer, FLASH_END leaving the loader. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "esp_proto.h"
#include "sim_unit.h"

#define ROM_DEFAULT_FLASH (2u << 20) /* until SPI_SET_PARAMS */

void rom_enter(sim_unit *u)
{
    memset(&u->rom, 0, sizeof u->rom);
    u->rom.last_op = 0x00; /* an unknown opcode right after reset echoes op 00 */
    u->rom.last_count = 1;
    u->rom.param_size = ROM_DEFAULT_FLASH;
    u->mode = SIM_MODE_ROM;
}

/* Send `count` frames: header(op, size, value) + data + 4 status bytes. The status is
 * written over rbuf[dlen..dlen+1]; bytes dlen+2..dlen+3 are whatever the buffer held. */
static void rom_send(sim_unit *u, uint8_t op, size_t dlen, bool ok, uint8_t err, bool keep_err,
                     int count)
{
    if (!ok)
        u->rom.err = err;
    else if (!keep_err)
        u->rom.err = 0;
    u->rom.rbuf[dlen] = ok ? 0 : 1;
    u->rom.rbuf[dlen + 1] = u->rom.err;
    uint8_t f[8 + sizeof u->rom.rbuf];
    f[0] = 1;
    f[1] = op;
    esp_put16(f + 2, (uint16_t)(dlen + 4));
    esp_put32(f + 4, u->rom.value);
    memcpy(f + 8, u->rom.rbuf, dlen + 4);
    for (int i = 0; i < count; i++)
        unit_send_frame(u, f, 8 + dlen + 4);
    u->rom.last_op = op;
    u->rom.last_count = count;
    if (op == u->req_op)
        unit_log(u, "rom  %-16s size=%-5u -> %s %02x %02x%s", esp_cmd_name(op), u->req_size,
                 ok ? "ok  " : "FAIL", u->rom.rbuf[dlen], u->rom.rbuf[dlen + 1],
                 count > 1 ? " x8" : "");
    else /* unknown opcode: the previous header goes out */
        unit_log(u, "rom  %-16s size=%-5u -> unsupported: %s header x%d, %02x %02x",
                 esp_cmd_name(u->req_op), u->req_size, esp_cmd_name(op), count,
                 u->rom.rbuf[dlen], u->rom.rbuf[dlen + 1]);
}

static void ok(sim_unit *u, uint8_t op, bool keep_err) { rom_send(u, op, 0, true, 0, keep_err, 1); }
static void fail(sim_unit *u, uint8_t op, uint8_t err) { rom_send(u, op, 0, false, err, false, 1); }

static void unknown(sim_unit *u, uint8_t op)
{
    (void)op;
    rom_send(u, u->rom.last_op, 0, false, ESP_ROM_ERR_INVALID_MSG, false, u->rom.last_count);
}

static uint32_t word(const sim_unit *u, int i) { return esp_le32(u->rrx.buf + 8 + 4 * i); }

/* Sector-granular erase [off, off+len) as the ROM's erase-area routine does: sectors up
 * to a 64 KiB boundary, whole blocks, then sectors. */
static void rom_erase(sim_unit *u, uint32_t off, uint32_t len)
{
    if (len == 0)
        return;
    uint32_t first = off / SIM_FLASH_SECTOR;
    uint32_t end = (uint32_t)(((uint64_t)off + len + SIM_FLASH_SECTOR - 1) / SIM_FLASH_SECTOR);
    uint32_t sectors = 0, blocks = 0;
    for (uint32_t s = first; s < end;) {
        if (s % 16 == 0 && end - s >= 16) {
            blocks++;
            s += 16;
        } else {
            sectors++;
            s++;
        }
    }
    unit_erase(u, first * SIM_FLASH_SECTOR, (end - first) * SIM_FLASH_SECTOR, sectors, blocks,
               true);
}

static void begin(sim_unit *u, uint8_t op, uint16_t size)
{
    uint32_t erase = word(u, 0), blocks = word(u, 1), bsize = word(u, 2), off = word(u, 3);
    if (size != 16 || bsize > ESP_RAM_BLOCK)
        return fail(u, op, ESP_ROM_ERR_INVALID_MSG);
    if (!u->rom.attached || (uint64_t)off + erase > u->rom.param_size)
        return fail(u, op, ESP_ROM_ERR_FAILED);
    sim_inflate_end(&u->inf);
    memset(&u->w, 0, sizeof u->w);
    u->w.kind = op == ESP_FLASH_BEGIN ? ESP_FLASH_BEGIN : ESP_FLASH_DEFL_BEGIN;
    u->w.offset = off;
    u->w.size = erase;
    u->w.blocks = blocks;
    u->w.block_size = bsize;
    if (erase > 0)
        unit_session_faults(u, &u->w, op == ESP_FLASH_DEFL_BEGIN);
    if (op == ESP_FLASH_DEFL_BEGIN && sim_inflate_begin(&u->inf) != 0)
        return fail(u, op, ESP_ROM_ERR_FAILED);
    if (u->rom.erase_hangs && erase > 0) {
        /* status mask 0: the ROM waits for a WIP bit that never clears */
        unit_log(u, "rom  %s: erase hangs (SPI_SET_PARAMS status mask 0)", esp_cmd_name(op));
        u->mode = SIM_MODE_DEAD;
        return;
    }
    rom_erase(u, off, erase);
    ok(u, op, true);
    unit_check_disconnect(u, 0, erase);
}

/* Common *_DATA checks. Returns data length, or -1 after replying. */
static long data_checks(sim_unit *u, uint8_t op, uint32_t *next_seq, uint32_t block_size,
                        bool active, bool fault_checksum)
{
    uint32_t dlen = word(u, 0), seq = word(u, 1);
    uint32_t chk = esp_le32(u->rrx.buf + 4);
    if (!active || seq != *next_seq || dlen > block_size) {
        fail(u, op, ESP_ROM_ERR_INVALID_MSG);
        return -1;
    }
    uint8_t c = esp_checksum(u->rrx.buf + 24, dlen);
    if (c != chk || fault_checksum) {
        (*next_seq)++; /* consumed: the same seq again gets 01 05 */
        fail(u, op, ESP_ROM_ERR_CHECKSUM);
        return -1;
    }
    (*next_seq)++;
    return (long)dlen;
}

static void mem_data(sim_unit *u)
{
    bool fault = u->rom.mem.active && word(u, 1) == u->rom.mem.next_seq &&
                 word(u, 0) <= u->rom.mem.block_size && fault_take(&u->o.faults.ram_checksum);
    if (fault)
        unit_log(u, "fault ram_checksum: MEM_DATA seq %u reported corrupt", word(u, 1));
    long n = data_checks(u, ESP_MEM_DATA, &u->rom.mem.next_seq, u->rom.mem.block_size,
                         u->rom.mem.active, fault);
    if (n < 0)
        return;
    u->rom.mem.written += (uint32_t)n;
    unit_ram_wrote(u, u->rrx.buf + 24, (uint32_t)n);
    ok(u, ESP_MEM_DATA, true);
}

static void flash_data(sim_unit *u)
{
    long n = data_checks(u, ESP_FLASH_DATA, &u->w.next_seq, u->w.block_size,
                         u->w.kind == ESP_FLASH_BEGIN, false);
    if (n < 0)
        return;
    if (!unit_program(u, u->w.offset + u->w.written, u->rrx.buf + 24, (uint32_t)n))
        return fail(u, ESP_FLASH_DATA, ESP_ROM_ERR_FLASH_WRITE);
    u->w.written += (uint32_t)n;
    ok(u, ESP_FLASH_DATA, true);
    unit_check_disconnect(u, u->w.written, u->w.size);
}

/* End of a DEFL stream (§14.1, observed): the ROM programs its whole current 32 KiB
 * window, from the end of the inflated data up to the next 32 KiB multiple of the stream
 * (one whole extra window at an exact multiple), with the window's stale bytes and
 * without erase (ANDed into whatever the flash holds there). */
static void window_overrun(sim_unit *u)
{
    uint32_t len = u->w.written, from = len % SIM_ROM_WINDOW;
    uint32_t n = SIM_ROM_WINDOW - from;
    unit_log(u, "rom  DEFL stream end: the window overrun programs 0x%x..0x%x (stale window)",
             u->w.offset + len, u->w.offset + len + n);
    unit_program(u, u->w.offset + len, u->rom_win + from, n);
}

/* The announced block count ended a stream that is not complete. */
static void defl_cut(sim_unit *u)
{
    u->w.defl_state = -1;
    u->w.defl_err = ESP_ROM_ERR_ADLER;
    unit_log(u, "rom  DEFL: %u packets counted of %u announced: stream cut short", u->w.packets,
             u->w.blocks);
}

/* Every DEFL_DATA packet of a session counts against the announced blocks, accepted or
 * rejected (01 07, 01 05); the packet that reaches the count ends the stream (it is
 * answered as usual; what it left incomplete stays so), later ones get 01 0C (§14.1). */
static void defl_data(sim_unit *u)
{
    bool active = u->w.kind == ESP_FLASH_DEFL_BEGIN;
    if (active && u->w.packets >= u->w.blocks) {
        if (u->w.defl_state == 0)
            defl_cut(u);
        return fail(u, ESP_FLASH_DEFL_DATA, ESP_ROM_ERR_ADLER);
    }
    if (active)
        u->w.packets++;
    bool last = active && u->w.packets == u->w.blocks;
    long n = data_checks(u, ESP_FLASH_DEFL_DATA, &u->w.next_seq, u->w.block_size, active, false);
    if (n < 0) {
        if (last && u->w.defl_state == 0)
            defl_cut(u);
        return;
    }
    if (u->w.defl_state < 0)
        return fail(u, ESP_FLASH_DEFL_DATA, u->w.defl_err);
    if (u->w.f_inflate) {
        u->w.defl_state = -1;
        u->w.defl_err = ESP_ROM_ERR_DEFLATE;
        unit_log(u, "fault inflate_error");
        return fail(u, ESP_FLASH_DEFL_DATA, ESP_ROM_ERR_DEFLATE);
    }
    const uint8_t *in = u->rrx.buf + 24;
    size_t left = (size_t)n;
    while (u->w.defl_state == 0) {
        /* inflate into the window at the stream position, as the ROM does */
        uint8_t *out = u->rom_win + u->w.written % SIM_ROM_WINDOW;
        size_t il = left, ol = SIM_ROM_WINDOW - u->w.written % SIM_ROM_WINDOW;
        int st = sim_inflate_run(&u->inf, in, &il, out, &ol, true);
        in += il;
        left -= il;
        /* the ROM does not bound the output: everything inflated is written */
        if (ol && !unit_program(u, u->w.offset + u->w.written, out, (uint32_t)ol)) {
            u->w.defl_state = -1;
            u->w.defl_err = ESP_ROM_ERR_FLASH_WRITE;
            break;
        }
        u->w.written += (uint32_t)ol;
        if (st == SIM_INF_DONE) {
            u->w.defl_state = 1;
            window_overrun(u);
        } else if (st == SIM_INF_ADLER) {
            u->w.defl_state = -1;
            u->w.defl_err = ESP_ROM_ERR_ADLER;
        } else if (st < 0) {
            u->w.defl_state = -1;
            u->w.defl_err = ESP_ROM_ERR_DEFLATE;
        } else if (st == SIM_INF_NEEDS_INPUT && left == 0) {
            break;
        }
    }
    if (u->w.defl_state < 0)
        return fail(u, ESP_FLASH_DEFL_DATA, u->w.defl_err);
    if (last && u->w.defl_state == 0)
        defl_cut(u);
    ok(u, ESP_FLASH_DEFL_DATA, false);
    unit_check_disconnect(u, u->w.written, u->w.size);
}

/* FLASH_END(0) / FLASH_DEFL_END(0): reply, two stray C0, software reset into the app. */
static void soft_reset(sim_unit *u)
{
    static const uint8_t two_c0[2] = {0xC0, 0xC0};
    unit_send_raw(u, two_c0, 2);
    unit_boot_app(u, "0x3 (SW_RESET)", true);
}

/* FLASH_END checks the consumed sequence numbers (checksum failures included) and the
 * written length against FLASH_BEGIN; FLASH_DEFL_END the counted packets and the
 * stream's end (§14.1). */
static bool end_check(const sim_unit *u, uint8_t op)
{
    if (op == ESP_FLASH_END && u->w.kind == ESP_FLASH_BEGIN)
        return u->w.next_seq == u->w.blocks && u->w.written >= u->w.size;
    if (op == ESP_FLASH_DEFL_END && u->w.kind == ESP_FLASH_DEFL_BEGIN)
        return u->w.defl_state == 1 && u->w.packets == u->w.blocks;
    return true;
}

static void flash_end(sim_unit *u, uint8_t op)
{
    uint32_t flag = word(u, 0);
    if (!end_check(u, op)) {
        unit_log(u, "rom  %s: %u of %u blocks, %u of %u bytes: 01 06", esp_cmd_name(op),
                 op == ESP_FLASH_END ? u->w.next_seq : u->w.packets, u->w.blocks, u->w.written,
                 u->w.size);
        fail(u, op, ESP_ROM_ERR_FAILED);
        if (op == ESP_FLASH_DEFL_END)
            return; /* stays in the loader */
        u->w.kind = 0;
        if (flag == 0) {
            unit_log(u, "rom  FLASH_END(0) after 01 06: the ROM's command interpreter, not the loader");
            u->mode = SIM_MODE_DEAD;
        } else {
            unit_boot_app(u, NULL, true); /* FLASH_END(1) leaves the loader all the same */
        }
        return;
    }
    ok(u, op, false);
    sim_inflate_end(&u->inf);
    u->w.kind = 0;
    if (flag == 0)
        soft_reset(u);
    else if (op == ESP_FLASH_END)
        unit_boot_app(u, NULL, true); /* run user code: leaves the loader, no reset */
}

static void md5(sim_unit *u)
{
    uint32_t addr = word(u, 0), size = word(u, 1);
    bool bad = !u->rom.attached || (uint64_t)addr + size > u->rom.param_size;
    if (!bad) {
        uint8_t d[16];
        flash_md5(&u->flash, addr, size, d);
        unit_work(u, 2 * wire_md5_ns(size));
        for (int i = 0; i < 16; i++)
            snprintf((char *)u->rom.rbuf + 2 * i, 3, "%02x", d[i]);
    }
    /* snprintf's NUL landed on rbuf[32]; the status overwrites it */
    rom_send(u, ESP_SPI_FLASH_MD5, 32, !bad, ESP_ROM_ERR_FLASH_READ, false, 1);
}

static void read_flash_slow(sim_unit *u)
{
    uint32_t addr = word(u, 0), len = word(u, 1);
    uint8_t err = 0;
    if (!u->rom.attached || (uint64_t)addr + len > u->rom.param_size)
        err = ESP_ROM_ERR_FLASH_READ;
    else if (len > 64)
        err = 0x0A;
    else
        flash_read(&u->flash, addr, u->rom.rbuf, 64);
    rom_send(u, ESP_READ_FLASH_SLOW, 64, err == 0, err, false, 1);
}

static void change_baud(sim_unit *u)
{
    uint32_t nb = word(u, 0), second = word(u, 1);
    ok(u, ESP_CHANGE_BAUDRATE, false); /* at the old rate */
    static const uint8_t two_c0[2] = {0xC0, 0xC0};
    unit_send_raw(u, two_c0, 2); /* observed 2026-12 (§14.1): two stray C0 follow the reply */
    if (nb == 0 || second != 0) {
        /* second word != 0 programs a wrong divisor: nothing readable comes out */
        u->garbled = true;
        unit_log(u, "rom  CHANGE_BAUDRATE(%u, %u): wrong divisor, output garbled", nb, second);
    } else {
        u->baud = nb;
    }
    u->regs.baud = u->baud;
    unit_bridge_check(u, nb);
}

static void mem_end(sim_unit *u)
{
    uint32_t flag = word(u, 0), entry = word(u, 1);
    ok(u, ESP_MEM_END, true); /* sent before the jump */
    u->rom.mem.active = false;
    if (flag != 0)
        return;
    unit_jump(u, entry);
}

void rom_frame(sim_unit *u, size_t len)
{
    const uint8_t *b = u->rrx.buf;
    uint8_t op = b[1];
    uint16_t size = esp_le16(b + 2);
    if (len > SIM_ROM_RXBUF)
        unit_log(u, "rom  frame of %zu bytes truncated to %u", len, SIM_ROM_RXBUF);
    else if (len < ESP_HDR_LEN)
        unit_log(u, "rom  %zu-byte frame: header completed from stale buffer", len);
    u->req_op = op;
    u->req_size = size;
    switch (op) {
    case ESP_SYNC: {
        /* The replies read 00 00, but the error byte stays: a FLASH_BEGIN after a
         * re-sync from a lost frame end answers 00 07 (§14.1, observed 2026-12). */
        uint8_t stale = u->rom.err;
        u->rom.value = word(u, 0);
        rom_send(u, op, 0, true, 0, false, 8);
        u->rom.err = stale;
        return;
    }
    case ESP_READ_REG:
        u->rom.value = regs_read(&u->regs, word(u, 0));
        return ok(u, op, false);
    case ESP_WRITE_REG: {
        uint32_t a = word(u, 0), v = word(u, 1), m = word(u, 2);
        if (m != 0xFFFFFFFFu)
            v = (v & m) | (regs_read(&u->regs, a) & ~m);
        unit_work(u, (uint64_t)word(u, 3) * 1000);
        regs_write(&u->regs, a, v);
        return ok(u, op, false);
    }
    case ESP_SPI_SET_PARAMS:
        if (size != 24)
            return fail(u, op, ESP_ROM_ERR_INVALID_MSG);
        u->rom.param_size = word(u, 1);
        u->rom.erase_hangs = (word(u, 5) & 0xFFFF) == 0;
        return ok(u, op, true);
    case ESP_SPI_ATTACH:
        u->rom.attached = true;
        u->regs.spi_attached = true;
        return ok(u, op, false);
    case ESP_MEM_BEGIN:
        if (size != 16 || word(u, 2) > ESP_RAM_BLOCK)
            return fail(u, op, ESP_ROM_ERR_INVALID_MSG);
        u->rom.mem.active = true;
        u->rom.mem.size = word(u, 0);
        u->rom.mem.block_size = word(u, 2);
        u->rom.mem.addr = word(u, 3);
        u->rom.mem.next_seq = 0;
        u->rom.mem.written = 0;
        unit_ram_add(u, u->rom.mem.addr, u->rom.mem.size);
        return ok(u, op, true);
    case ESP_MEM_DATA:
        return mem_data(u);
    case ESP_MEM_END:
        return mem_end(u);
    case ESP_FLASH_BEGIN:
    case ESP_FLASH_DEFL_BEGIN:
        return begin(u, op, size);
    case ESP_FLASH_DATA:
        return flash_data(u);
    case ESP_FLASH_DEFL_DATA:
        return defl_data(u);
    case ESP_FLASH_END:
    case ESP_FLASH_DEFL_END:
        return flash_end(u, op);
    case ESP_SPI_FLASH_MD5:
        return md5(u);
    case ESP_READ_FLASH_SLOW:
        return read_flash_slow(u);
    case ESP_CHANGE_BAUDRATE:
        return change_baud(u);
    default:
        return unknown(u, op);
    }
}

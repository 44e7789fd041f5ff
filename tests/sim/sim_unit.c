/* sim_unit.c - unit lifecycle, device-side receivers, output helpers (see sim_unit.h).
 * The ROM loader's and the stub's command handlers are in sim_rom.c / sim_stub.c. */
#include "sim_unit.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_proto.h"
#include "slip.h"

const char *unit_rom_date(const sim_unit *u)
{
    return u->o.rev_major >= 3 ? "ets Jul 29 2019 12:21:46" : "ets Jun  8 2016 00:22:57";
}

static void ram_forget(sim_unit *u);

/* Everything a reset re-initialises: RAM, peripherals, the loaders' state. Flash and
 * the fault counters (the unit's "hardware") survive. */
static void unit_reset(sim_unit *u, bool download)
{
    outq_clear(&u->out);
    u->raw_len = 0;
    u->baud = 115200;
    u->garbled = false;
    u->busy_until = 0;
    u->flash_ready = 0; /* a reset does not stop the chip, but the next op waits anyway */
    u->rx_free = 0;
    u->out.tx_free = 0;
    regs_init(&u->regs, &u->o, &u->flash);
    flash_sr_cpu_reset(&u->flash); /* the flash stays powered: its registers stay */
    u->regs.download = download;
    memset(&u->rrx, 0, sizeof u->rrx);
    memset(&u->srx, 0, sizeof u->srx);
    memset(&u->rom, 0, sizeof u->rom);
    memset(&u->stub, 0, sizeof u->stub);
    memset(&u->w, 0, sizeof u->w);
    sim_inflate_end(&u->inf);
    memset(u->rom_win, 0, sizeof u->rom_win);
    u->obuf_len = 0;
    if (u->rf.md5)
        EVP_MD_CTX_free(u->rf.md5);
    memset(&u->rf, 0, sizeof u->rf);
    ram_forget(u);
    rom_enter(u);
    u->mode = download ? SIM_MODE_ROM : SIM_MODE_APP;
}

int unit_init(sim_unit *u, int slot, unsigned seq, const sim_unit_opts *o,
              const char *flash_path, bool realism, int verbose, uint64_t seed)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "slot%d", slot);
    u->slot = slot;
    u->seq = seq;
    u->o = *o;
    u->realism = realism;
    u->verbose = verbose;
    u->rng = seed ^ ((uint64_t)slot << 32) ^ ((uint64_t)seq * 0x9E3779B97F4A7C15ull);
    sim_rand(&u->rng);
    char ops_path[600] = "";
    if (flash_path) {
        /* DIR/slotK.flash -> DIR/slotK.ops */
        size_t n = strlen(flash_path);
        if (n > 6 && !strcmp(flash_path + n - 6, ".flash") && n < sizeof ops_path)
            snprintf(ops_path, sizeof ops_path, "%.*s.ops", (int)(n - 6), flash_path);
        else
            snprintf(ops_path, sizeof ops_path, "%s.ops", flash_path);
    }
    if (flash_init(&u->flash, o->flash_size, flash_path, flash_path ? ops_path : NULL) != 0)
        return -1;
    if (o->fill_pattern)
        flash_fill_pattern(&u->flash);
    if (o->faults.write_protect)
        for (int i = 0; i < 3; i++)
            flash_sr_set(&u->flash, i, (uint8_t)(o->faults.wp_bits >> (8 * i)), true);
    regs_init(&u->regs, &u->o, &u->flash);
    unit_reset(u, true);
    return 0;
}

void unit_free(sim_unit *u)
{
    outq_clear(&u->out);
    sim_inflate_end(&u->inf);
    if (u->rf.md5)
        EVP_MD_CTX_free(u->rf.md5);
    u->rf.md5 = NULL;
    ram_forget(u);
    flash_free(&u->flash);
}

void unit_log(sim_unit *u, const char *fmt, ...)
{
    if (!u->verbose)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s] %s\n", u->name, line);
}

static uint64_t send_time(const sim_unit *u)
{
    return u->now + (u->realism ? u->work : 0);
}

void unit_send_raw(sim_unit *u, const void *d, size_t n)
{
    unit_send_raw_at(u, d, n, 0);
}

void unit_send_raw_at(sim_unit *u, const void *d, size_t n, uint64_t delay_ns)
{
    uint8_t tmp[1024];
    if (u->garbled && n <= sizeof tmp) {
        memcpy(tmp, d, n);
        faults_garble(&u->rng, tmp, n);
        d = tmp;
    }
    outq_push(&u->out, d, n, send_time(u) + delay_ns, u->baud);
}

void unit_send_frame(sim_unit *u, const uint8_t *payload, size_t n)
{
    uint8_t stackbuf[SLIP_ENCODED_MAX(4096 + 64) + 16];
    uint8_t *enc = stackbuf;
    size_t pre = 0;
    if (SLIP_ENCODED_MAX(n) + 8 > sizeof stackbuf) {
        enc = malloc(SLIP_ENCODED_MAX(n) + 8);
        if (!enc)
            abort();
    }
    if (u->o.faults.noise_rate > 0 &&
        (double)(sim_rand(&u->rng) % 1000000) < u->o.faults.noise_rate * 1000000.0)
        pre = faults_noise_burst(&u->rng, enc);
    size_t len = pre + slip_encode(payload, n, enc + pre);
    if (u->garbled)
        faults_garble(&u->rng, enc, len);
    /* fault slow: replies (not boot text) come late */
    outq_push(&u->out, enc, len, send_time(u) + (uint64_t)u->o.faults.slow_ms * SIM_NS_PER_MS,
              u->baud);
    if (enc != stackbuf)
        free(enc);
}

void unit_work(sim_unit *u, uint64_t ns)
{
    u->work += ns;
}

void unit_boot_app(sim_unit *u, const char *rst, bool by_host)
{
    if (rst) {
        u->baud = 115200; /* a reset restores the ROM's rate */
        u->garbled = false;
    }
    uint64_t up = unit_boot_console(u, rst);
    u->mode = SIM_MODE_APP;
    u->regs.download = false;
    if (by_host)
        u->app_boot_at = send_time(u) + up;
    unit_log(u, "booted into the app%s", rst ? " after a reset" : "");
}

/* The ROM's banner after a reset (rst = "0x1 (POWERON_RESET)" ...): download mode
 * when GPIO0 was latched low, else the app boots from flash. */
/* Returns when the app is up (ns after now; 0 in download mode). */
static uint64_t boot_after_reset(sim_unit *u, bool download, const char *why)
{
    char b[200];
    if (download) {
        snprintf(b, sizeof b,
                 "%s\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
                 "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
                 unit_rom_date(u));
        unit_send_raw(u, b, strlen(b));
        unit_log(u, "%s: reset into download mode", why);
        return 0;
    }
    uint64_t up = unit_boot_console(u, "0x1 (POWERON_RESET)");
    unit_log(u, "%s: normal boot (not in download mode)", why);
    return up;
}

void unit_host_open(sim_unit *u, uint64_t now)
{
    bool download = !u->o.faults.no_sync;
    unit_reset(u, download);
    u->now = now;
    u->work = 0;
    boot_after_reset(u, download, "port opened");
}

/* EN low holds the chip in reset: nothing runs, nothing is sent, input is lost. */
static void hold_in_reset(sim_unit *u)
{
    unit_reset(u, true);
    u->mode = SIM_MODE_RESET;
    u->ar.held = true;
    u->ar.boot_at = 0;
}

void unit_autoreset_power_on(sim_unit *u, uint64_t now)
{
    u->ar.on = true;
    u->ar.dtr = u->ar.rts = false;
    hold_in_reset(u);
    u->ar.held = false;
    u->ar.by_host = false;
    u->ar.boot_at = now; /* powered before the slot was published: booted by then */
}

void unit_set_lines(sim_unit *u, bool dtr, bool rts, uint64_t now)
{
    bool en_low = rts && !dtr;
    u->ar.dtr = dtr;
    u->ar.rts = rts;
    unit_log(u, "DTR=%d RTS=%d: EN %s, GPIO0 %s", dtr, rts, en_low ? "low" : "high",
             dtr && !rts ? "low" : "high");
    if (en_low && !u->ar.held) {
        hold_in_reset(u);
        unit_log(u, "EN low: chip held in reset");
    } else if (!en_low && u->ar.held) {
        u->ar.held = false;
        u->ar.by_host = true;
        u->ar.boot_at = now + SIM_EN_LATCH_NS;
    }
}

/* The chip leaves reset: GPIO0 as it is now decides the boot mode. */
static void autoreset_boot(sim_unit *u)
{
    uint64_t t = u->ar.boot_at;
    bool download = u->ar.dtr && !u->ar.rts && !u->o.faults.no_sync;
    bool by_host = u->ar.by_host;
    u->ar.boot_at = 0;
    unit_reset(u, download);
    u->now = t;
    u->work = 0;
    uint64_t up = boot_after_reset(u, download, !by_host ? "power-on"
                                                : download ? "EN released with GPIO0 low"
                                                           : "EN released with GPIO0 high");
    if (by_host && !download) {
        u->app_boot_at = t + up;
        unit_log(u, "booted into the app after a reset (EN)");
    }
}

void unit_host_close(sim_unit *u, uint64_t now)
{
    (void)now;
    unit_reset(u, true);
    unit_log(u, "port closed: reset, back to the ROM loader at 115200");
}

bool unit_ram_runnable(const sim_unit *u, uint32_t addr)
{
    bool inside = false;
    for (int i = 0; i < u->nseg; i++) {
        if (u->seg[i].done < u->seg[i].len)
            return false;
        if (addr >= u->seg[i].addr && addr - u->seg[i].addr < u->seg[i].len)
            inside = true;
    }
    return inside;
}

static void ram_forget(sim_unit *u)
{
    for (int i = 0; i < u->nseg; i++)
        free(u->seg[i].bytes);
    u->nseg = 0;
}

void unit_ram_add(sim_unit *u, uint32_t addr, uint32_t len)
{
    if (u->nseg == SIM_MAX_SEGS) {
        free(u->seg[0].bytes);
        memmove(u->seg, u->seg + 1, sizeof u->seg[0] * (SIM_MAX_SEGS - 1));
        u->nseg--;
    }
    u->seg[u->nseg].addr = addr;
    u->seg[u->nseg].len = len;
    u->seg[u->nseg].done = 0;
    u->seg[u->nseg].bytes = len <= SIM_SEG_KEEP ? calloc(1, len ? len : 1) : NULL;
    u->nseg++;
}

void unit_ram_wrote(sim_unit *u, const uint8_t *d, uint32_t n)
{
    if (!u->nseg)
        return;
    typeof(u->seg[0]) *g = &u->seg[u->nseg - 1];
    if (g->bytes && g->done < g->len)
        memcpy(g->bytes + g->done, d, n < g->len - g->done ? n : g->len - g->done);
    g->done += n;
}

void unit_jump(sim_unit *u, uint32_t entry)
{
    if (!unit_ram_runnable(u, entry)) {
        unit_log(u, "jump to 0x%08x: not in a complete upload: the CPU crashes", entry);
        u->mode = SIM_MODE_DEAD;
        return;
    }
    const uint8_t *text = NULL;
    size_t len = 0;
    for (int i = 0; i < u->nseg; i++)
        if (entry >= u->seg[i].addr && entry - u->seg[i].addr < u->seg[i].len) {
            text = u->seg[i].bytes;
            len = u->seg[i].len;
        }
    sim_stub_id id = stub_identify(text, len);
    if (strcmp(id.chip, "esp32") != 0 || !esp32_iram(entry)) {
        if (id.known_as && strcmp(id.chip, "esp32") != 0)
            unit_log(u, "jump to 0x%08x: %s stub for %s: an ESP32 cannot run it, the CPU crashes",
                     entry, id.known_as, id.chip);
        else
            unit_log(u, "jump to 0x%08x: not instruction RAM: the CPU crashes", entry);
        u->mode = SIM_MODE_DEAD;
        return;
    }
    u->stub.flavor = id.flavor;
    unit_log(u, "jump to 0x%08x: %s (%s)", entry,
             id.flavor == SIM_STUB_NEW ? "esp-flasher-stub" : "legacy flasher stub",
             id.known_as ? id.known_as : "image not known: run as the legacy stub");
    stub_enter(u);
}

void unit_bridge_check(sim_unit *u, uint32_t baud)
{
    if (!opts_bridge_holds(&u->o, baud)) {
        u->garbled = true;
        unit_log(u, "bridge cannot carry %u baud: replies garbled", baud);
    }
    if (u->o.faults.baud_max && baud > u->o.faults.baud_max) {
        u->garbled = true;
        unit_log(u, "fault baud_max: %u > %u, replies garbled", baud, u->o.faults.baud_max);
    }
}

void unit_check_disconnect(sim_unit *u, uint32_t done, uint32_t announced)
{
    int pct = u->o.faults.disconnect_pct;
    if (pct < 0 || announced == 0 || u->vanish)
        return;
    if ((uint64_t)done * 100 >= (uint64_t)pct * announced) {
        u->vanish = true;
        unit_log(u, "fault disconnect: unplugged after %u of %u bytes", done, announced);
    }
}

void unit_session_faults(sim_unit *u, sim_wsess *w, bool deflate)
{
    sim_faults *f = &u->o.faults;
    w->f_write = fault_take(&f->flash_write_error);
    w->f_inflate = deflate && fault_take(&f->inflate_error);
    w->f_bitflip = fault_take(&f->bitflip);
    w->f_blank = fault_take(&f->blank);
    w->flipped = false;
}

static uint64_t dev_clock(const sim_unit *u)
{
    return u->now + u->work;
}

bool unit_flash_busy(const sim_unit *u)
{
    return u->realism && u->flash_ready > dev_clock(u);
}

void unit_flash_wait(sim_unit *u)
{
    if (unit_flash_busy(u))
        u->work = u->flash_ready - u->now;
}

void unit_erase(sim_unit *u, uint32_t off, uint32_t len, uint32_t sectors, uint32_t blocks,
                bool wait)
{
    unit_flash_wait(u);
    if (flash_protected(&u->flash, off, len))
        unit_log(u, "erase 0x%x+0x%x ignored: write-protected by the status register", off, len);
    else
        flash_erase(&u->flash, off, len);
    flash_count_erase(&u->flash, off, len);
    uint64_t ns = wire_erase_ns(u->o.timing, sectors, blocks);
    u->flash_ready = dev_clock(u) + ns;
    if (wait)
        unit_flash_wait(u);
}

bool unit_program(sim_unit *u, uint32_t off, const uint8_t *d, uint32_t len)
{
    if (u->w.f_write)
        return false;
    if (len == 0)
        return true;
    unit_flash_wait(u);
    unit_work(u, wire_program_ns(u->o.timing, off, len));
    flash_count_program(&u->flash, off, len, u->o.timing->program_unit);
    u->flash_ready = dev_clock(u);
    if (u->w.f_blank)
        return true;
    /* page-program commands into a protected sector are ignored (no error: WEL just
     * clears), the others land */
    bool ignored = false;
    for (uint32_t done = 0; done < len;) {
        uint32_t a = off + done, n = SIM_FLASH_SECTOR - a % SIM_FLASH_SECTOR;
        if (n > len - done)
            n = len - done;
        if (flash_protected(&u->flash, a & ~(SIM_FLASH_SECTOR - 1), SIM_FLASH_SECTOR))
            ignored = true;
        else
            flash_program(&u->flash, a, d + done, n);
        done += n;
    }
    if (ignored)
        unit_log(u, "program in 0x%x+0x%x partly or wholly ignored: write-protected by the "
                 "status register", off, len);
    if (u->w.f_bitflip && !u->w.flipped) {
        flash_poke_xor(&u->flash, off + len / 2, 0x01);
        u->w.flipped = true;
    }
    return true;
}

/* ---- receivers ---- */

static void exec_begin(sim_unit *u, uint64_t now)
{
    u->now = now;
    u->work = 0;
    u->ncmds++;
}

static void exec_end(sim_unit *u)
{
    uint64_t t = u->now + (u->realism ? u->work : 0);
    if (t > u->busy_until)
        u->busy_until = t;
}

/* Bytes of a FLASH_DATA frame's end lost with its closing C0 (fault rx_drop). */
#define RX_DROP_LOST 16

/* Fault rx_drop, decided once a frame's header is in: at high baud the ROM's receive
 * path drops bytes (§14.1, observed 2026-12); here the last RX_DROP_LOST bytes of a
 * FLASH_DATA frame and its closing C0. The frame stays open: the next C0 closes it
 * short, its checksum is taken over stale buffer bytes (01 07, seq consumed). */
static void rx_drop_arm(sim_unit *u)
{
    const uint8_t *h = u->rrx.buf;
    uint16_t size = esp_le16(h + 2);
    if (h[0] != 0 || h[1] != ESP_FLASH_DATA || size <= 16 + RX_DROP_LOST ||
        u->baud <= 115200 || !fault_take(&u->o.faults.rx_drop))
        return;
    u->rrx.dropping = true;
    u->rrx.drop_at = ESP_HDR_LEN + size - RX_DROP_LOST;
    unit_log(u, "fault rx_drop: FLASH_DATA frame at %u baud loses its last %d bytes and its "
             "frame end", u->baud, RX_DROP_LOST);
}

/* ESP32 ROM: C0 opens (repeated C0s are skipped), C0 closes; DB x -> x except DC/DD;
 * bytes past the buffer are dropped but the frame is still executed. */
static void rom_byte(sim_unit *u, uint8_t b, uint64_t now)
{
    if (!u->rrx.in_frame) {
        if (b == SLIP_END) {
            u->rrx.in_frame = true;
            u->rrx.esc = false;
            u->rrx.dropping = false;
            u->rrx.len = 0;
        }
        return;
    }
    if (b == SLIP_END && u->rrx.dropping) {
        u->rrx.dropping = false; /* the frame end is lost too: the frame stays open */
        return;
    }
    if (b == SLIP_END) {
        if (u->rrx.len == 0)
            return;
        size_t len = u->rrx.len;
        u->rrx.in_frame = false;
        exec_begin(u, now);
        rom_frame(u, len);
        exec_end(u);
        return;
    }
    if (u->rrx.esc) {
        u->rrx.esc = false;
        b = b == SLIP_ESC_END ? SLIP_END : b == SLIP_ESC_ESC ? SLIP_ESC : b;
    } else if (b == SLIP_ESC) {
        u->rrx.esc = true;
        return;
    }
    if (u->rrx.dropping && u->rrx.len >= u->rrx.drop_at)
        return;
    if (u->rrx.len < SIM_ROM_RXBUF)
        u->rrx.buf[u->rrx.len] = b;
    if (u->rrx.len < SIZE_MAX)
        u->rrx.len++;
    if (u->rrx.len == ESP_HDR_LEN && u->mode == SIM_MODE_ROM)
        rx_drop_arm(u);
}

/* Legacy stub: C0 toggles in/out of a frame (so C0 C0 finishes an empty frame and the
 * stale buffer is executed); a bad escape drops bytes until DC/DD/C0; a frame that
 * fills the buffer is dispatched and the rest of it starts the next one. */
static void stub_byte(sim_unit *u, uint8_t b, uint64_t now)
{
    bool finished = false;
    int r = -1;
    if (b == SLIP_END) {
        if (u->srx.state == 0) {
            u->srx.state = 1;
            return;
        }
        u->srx.state = 0;
        finished = true;
    } else if (u->srx.state == 0) {
        return;
    } else if (u->srx.state == 1) {
        if (b == SLIP_ESC)
            u->srx.state = 2;
        else
            r = b;
    } else {
        if (b == SLIP_ESC_END) {
            u->srx.state = 1;
            r = SLIP_END;
        } else if (b == SLIP_ESC_ESC) {
            u->srx.state = 1;
            r = SLIP_ESC;
        }
    }
    if (r >= 0) {
        u->srx.buf[u->srx.cur][u->srx.read++] = (uint8_t)r;
        if (u->srx.read == SIM_STUB_RXBUF)
            finished = true;
    }
    if (finished) {
        uint8_t *cmd = u->srx.buf[u->srx.cur];
        u->srx.cur ^= 1;
        u->srx.read = 0;
        exec_begin(u, now);
        stub_frame(u, cmd);
        exec_end(u);
    }
}

size_t unit_rx_room(const sim_unit *u)
{
    return SIM_RAW_MAX - u->raw_len;
}

void unit_service(sim_unit *u, uint64_t now)
{
    if (u->ar.boot_at && u->ar.boot_at <= now)
        autoreset_boot(u);
    size_t i = 0;
    while (i < u->raw_len && u->busy_until <= now && !u->vanish) {
        uint8_t b = u->raw[i++];
        switch (u->mode) {
        case SIM_MODE_ROM:
            rom_byte(u, b, now);
            break;
        case SIM_MODE_STUB:
            if (u->rf.active) {
                u->now = now;
                u->work = 0;
                stub_rf_byte(u, b);
                exec_end(u);
            } else {
                stub_byte(u, b, now);
            }
            break;
        default:
            break; /* the app does not listen */
        }
    }
    memmove(u->raw, u->raw + i, u->raw_len - i);
    u->raw_len -= i;
}

void unit_rx(sim_unit *u, const uint8_t *d, size_t n, uint64_t now)
{
    size_t room = unit_rx_room(u);
    if (n > room)
        n = room;
    memcpy(u->raw + u->raw_len, d, n);
    u->raw_len += n;
    unit_service(u, now);
}

uint64_t unit_next_event(const sim_unit *u)
{
    uint64_t t = 0;
    if (u->raw_len && u->busy_until && !u->vanish)
        t = u->busy_until;
    if (u->ar.boot_at && (!t || u->ar.boot_at < t))
        t = u->ar.boot_at;
    return t;
}

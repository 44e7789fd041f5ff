/* sim_boot.c - what a unit prints when it boots from its flash (sim_unit.h,
 * unit_boot_console): the ROM's reset line, the second-stage bootloader's lines derived
 * from the bootloader header at 0x1000, the partition table at 0x8000 and the app image
 * it points to, the app's esp_app_desc_t (project name, version) and the app's ready
 * banner "<project> v<version> ready". A wrong or missing image prints what a real unit
 * would (invalid header, invalid magic byte, no bootable partition, a reboot loop).
 * Boot faults: brownout, boot_panic, boot_loop, silent. */
#include "sim_unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esp_proto.h"

#define APP_DESC_MAGIC 0xABCD5432u
#define PART_TABLE 0x8000u
#define MAX_BOOTS 4 /* a reboot loop is shown this many times, then the unit hangs */

typedef enum { BF_NONE, BF_BROWNOUT, BF_PANIC, BF_LOOP } boot_fault;

/* When each stage speaks, in ms after the reset (as the "I (ms)" stamps of a real boot
 * log): a host that changes its baud right after the reset misses the ROM's first line,
 * not the app's banner. */
#define T_BOOTLOADER_MS 30
#define T_APP_MS 112
#define T_BANNER_MS 300
#define T_FAIL_MS 250   /* brownout / panic once the app runs */
#define T_REBOOT_MS 20  /* from the failure to the next ROM line */

static uint64_t g_at_ms; /* offset of the text being printed, for the boot in progress */

static void say(sim_unit *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(sim_unit *u, const char *fmt, ...)
{
    char t[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (n > 0)
        unit_send_raw_at(u, t, (size_t)n < sizeof t ? (size_t)n : sizeof t - 1,
                         g_at_ms * SIM_NS_PER_MS);
}

/* The text that follows is printed at ms (after the reset of the boot in progress). */
static void at(uint64_t boot_start_ms, uint64_t ms)
{
    g_at_ms = boot_start_ms + ms;
}

/* The app partition the bootloader picks: factory, else ota_0. 1 found, 0 none, -1 the
 * table itself is invalid (first entry's magic in *magic). */
static int find_app(sim_unit *u, uint32_t *off, unsigned *magic)
{
    uint32_t ota0 = 0;
    for (int i = 0; i < 95; i++) {
        uint8_t e[32];
        flash_read(&u->flash, PART_TABLE + 32u * (uint32_t)i, e, sizeof e);
        if (e[0] != 0xAA || e[1] != 0x50) {
            if (i == 0) {
                *magic = (unsigned)(e[0] | e[1] << 8);
                return -1;
            }
            break;
        }
        if (e[2] == 0x00 && e[3] == 0x00) {
            *off = esp_le32(e + 4);
            return 1;
        }
        if (e[2] == 0x00 && e[3] == 0x10 && !ota0)
            ota0 = esp_le32(e + 4);
    }
    *off = ota0;
    return ota0 ? 1 : 0;
}

/* One boot from flash. Returns the reset reason of the reboot that follows, or NULL when
 * the unit stays up (or hangs). */
static const char *boot_once(sim_unit *u, boot_fault f, uint64_t t0)
{
    uint8_t h[8];
    flash_read(&u->flash, ESP32_BOOTLOADER_OFFSET, h, sizeof h);
    if (h[0] != 0xE9) {
        say(u, "invalid header: 0x%08x\r\n", esp_le32(h));
        return NULL;
    }
    static const char *modes[] = {"QIO", "QOUT", "DIO", "DOUT"};
    at(t0, T_BOOTLOADER_MS);
    int freq = h[3] & 0xF;
    int div = freq == 0xF ? 1 : freq == 0 ? 2 : freq == 1 ? 3 : 4;
    say(u, "configsip: 0, SPIWP:0xee\r\n"
           "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
           "mode:%s, clock div:%d\r\nentry 0x%08x\r\n"
           "I (29) boot: ESP-IDF v4.4.6 2nd stage bootloader\r\n",
        h[2] < 4 ? modes[h[2]] : "DIO", div, esp_le32(h + 4));
    uint32_t off = 0;
    unsigned magic = 0;
    int found = find_app(u, &off, &magic);
    if (found < 0) {
        say(u, "E (45) flash_parts: partition 0 invalid magic number 0x%x\r\n"
               "E (51) boot: Failed to verify partition table\r\n"
               "E (57) boot: load partition table error!\r\n", magic);
        return "0x3 (SW_RESET)";
    }
    uint8_t ah[8];
    if (found)
        flash_read(&u->flash, off, ah, sizeof ah);
    if (!found || ah[0] != 0xE9) {
        if (found)
            say(u, "E (66) esp_image: image at 0x%x has invalid magic byte (nothing flashed here)\r\n"
                   "E (72) boot: OTA app partition slot 0 is not bootable\r\n", off);
        say(u, "E (78) boot: No bootable app partitions in the partition table\r\n");
        return "0x3 (SW_RESET)";
    }
    at(t0, T_APP_MS);
    say(u, "I (75) boot: Loaded app from partition at offset 0x%x\r\n"
           "I (112) cpu_start: Pro cpu start user code\r\n", off);
    if (f == BF_LOOP)
        return "0x10 (RTCWDT_RTC_RESET)"; /* the watchdog bites before the app is up */
    /* esp_app_desc_t: at the start of the first segment's data (image offset 32). */
    uint8_t d[112];
    flash_read(&u->flash, off + 32, d, sizeof d);
    char project[33] = "", version[33] = "";
    bool desc = esp_le32(d) == APP_DESC_MAGIC;
    if (desc) {
        memcpy(version, d + 16, 32);
        memcpy(project, d + 48, 32);
        say(u, "I (130) app_start: Project name:     %s\r\n"
               "I (135) app_start: App version:      %s\r\n", project, version);
    }
    say(u, "I (31) esp32sim: app running, MAC %02x:%02x:%02x:%02x:%02x:%02x\r\n", u->o.mac[0],
        u->o.mac[1], u->o.mac[2], u->o.mac[3], u->o.mac[4], u->o.mac[5]);
    at(t0, T_FAIL_MS);
    if (f == BF_BROWNOUT) {
        say(u, "\r\nBrownout detector was triggered\r\n\r\n");
        return "0xf (RTCWDT_BROWN_OUT_RESET)";
    }
    if (f == BF_PANIC) {
        say(u, "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
               "\r\nCore  1 register dump:\r\n"
               "PC      : 0x400d2f1c  PS      : 0x00060930  A0      : 0x800d3a61  A1      : 0x3ffb1f60  \r\n"
               "\r\nBacktrace: 0x400d2f19:0x3ffb1f60 0x400d3a5e:0x3ffb1f80\r\n\r\nRebooting...\r\n");
        return "0xc (SW_CPU_RESET)";
    }
    at(t0, T_BANNER_MS);
    if (desc)
        say(u, "%s v%s ready\r\n", project, version);
    return NULL;
}

uint64_t unit_boot_console(sim_unit *u, const char *rst)
{
    sim_faults *fl = &u->o.faults;
    /* One occurrence of a boot fault per boot the host caused (a loop counts once). */
    if (fault_take(&fl->silent)) {
        unit_log(u, "boot: silent (fault)");
        return 0;
    }
    boot_fault f = fault_take(&fl->brownout) ? BF_BROWNOUT
                   : fault_take(&fl->boot_panic) ? BF_PANIC
                   : fault_take(&fl->boot_loop) ? BF_LOOP
                                                 : BF_NONE;
    uint64_t t0 = 0;
    g_at_ms = 0;
    for (int i = 0; i < MAX_BOOTS; i++) {
        if (rst)
            say(u, "%s\r\n\r\nrst:%s,boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n", unit_rom_date(u), rst);
        else if (i)
            break;
        rst = boot_once(u, f, t0);
        if (!rst)
            break;
        t0 = g_at_ms + T_REBOOT_MS; /* the reboot's ROM line */
        g_at_ms = t0;
    }
    uint64_t last = g_at_ms;
    g_at_ms = 0;
    return last * SIM_NS_PER_MS;
}

/* sim_regs.c - register map and SPI1 user-command emulation (see sim_regs.h). */
#include "sim_regs.h"

#include <string.h>

#include "esp_proto.h"

#define SPI_IDX(a) (((a) - ESP32_SPI_BASE) / 4)

void regs_init(sim_regs *r, const sim_unit_opts *o, sim_flash *flash)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->flash = flash;
    r->baud = 115200;
    r->download = true;
}

/* eFuse MAC CRC: CRC-8/Maxim (reflected 0x8C) over the MAC bytes in their printed
 * order, first byte first (ESP-IDF esp_efuse_mac_get_default, espefuse). */
static uint8_t mac_crc8(const uint8_t mac[6])
{
    uint8_t crc = 0;
    for (int i = 0; i < 6; i++) {
        crc ^= mac[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
    }
    return crc;
}

uint32_t regs_efuse_word(const sim_unit_opts *o, int n)
{
    const uint8_t *m = o->mac;
    int rev = o->rev_major;
    /* revision bits: c = (APB.b31<<2)|(w5.b20<<1)|w3.b15 maps {0:0,1:1,3:2,7:3} */
    int b0 = rev >= 1, b1 = rev >= 2;
    switch (n) {
    case 0:
        /* [26:20] FLASH_CRYPT_CNT (odd popcount: encryption on) */
        return (uint32_t)(o->crypt_cnt & 0x7F) << 20;
    case 1:
        return (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
    case 2:
        return (uint32_t)(o->faults.mac_crc ? mac_crc8(m) ^ 0x5A : mac_crc8(m)) << 16 |
               (uint32_t)m[0] << 8 | m[1];
    case 3:
        /* pkg bits 2..0 at [11:9], pkg bit 3 at b2; b13 CPU_FREQ_RATED (240 MHz);
         * b15 CHIP_VER_REV1 */
        return (uint32_t)(o->pkg & 7) << 9 | (uint32_t)((o->pkg >> 3) & 1) << 2 | 1u << 13 |
               (uint32_t)b0 << 15;
    case 4: {
        /* CK8M_FREQ 80 with RTCCALICFG1 below makes esptool's ROM baud formula exact;
         * ADC_VREF 3 */
        return 0x300u | 80u;
    }
    case 5:
        return (uint32_t)b1 << 20 | (uint32_t)(o->rev_minor & 3) << 24;
    case 6:
        /* [1:0] coding scheme, b4 ABS_DONE_0 (secure boot v1), b6 JTAG_DISABLE; download
         * encryption allowed (b7 clear) */
        return (uint32_t)(o->coding & 3) | (uint32_t)(o->secure_boot ? 1u << 4 : 0) |
               (uint32_t)(o->jtag_disabled ? 1u << 6 : 0);
    default:
        return 0;
    }
}

static uint32_t clkdiv_for(uint32_t xtal_hz, uint32_t baud)
{
    /* UART clock = XTAL in the ROM's download mode; [19:0] integer, [23:20] 1/16ths */
    if (!baud)
        return 0;
    uint64_t d16 = (uint64_t)xtal_hz * 16 / baud; /* 40 MHz @115200 -> 0x0030015B */
    return (uint32_t)((d16 & 15) << 20 | (d16 >> 4));
}

/* SFDP table: header "SFDP" rev 1.6, one parameter header (JEDEC basic table at 0x30);
 * everything else reads as erased. Byte 0x10 (esptool's XMC probe) is 0xFF. */
static uint8_t sfdp_byte(const sim_regs *r, uint32_t a)
{
    static const uint8_t hdr[16] = {0x53, 0x46, 0x44, 0x50, 0x06, 0x01, 0x00, 0xFF,
                                    0x00, 0x06, 0x01, 0x10, 0x30, 0x00, 0x00, 0xFF};
    if (a < 16)
        return hdr[a];
    if (a >= 0x30 && a < 0x34) {
        static const uint8_t dw1[4] = {0xE5, 0x20, 0xF1, 0xFF};
        return dw1[a - 0x30];
    }
    if (a >= 0x34 && a < 0x38) { /* density in bits - 1 */
        uint32_t bits = r->o->flash_size * 8u - 1u;
        return (uint8_t)(bits >> (8 * (a - 0x34)));
    }
    return 0xFF;
}

#define USR_ADDR (1u << 30)
#define USR_MISO (1u << 28)
#define USR_MOSI (1u << 27)
#define W_BYTES 64 /* W0..W15 */

/* Byte i of the W0..W15 buffer (LSB of W0 first, as the controller shifts it). */
static uint8_t w_byte(const sim_regs *r, int i)
{
    return (uint8_t)(r->spi[SPI_IDX(ESP32_SPI_W0) + i / 4] >> (8 * (i % 4)));
}

/* The MISO phase stores the bytes it receives, and only those. */
static void w_store(sim_regs *r, const uint8_t *b, uint32_t bits)
{
    uint32_t n = (bits + 7) / 8;
    for (uint32_t i = 0; i < n && i < W_BYTES; i++) {
        uint32_t *w = &r->spi[SPI_IDX(ESP32_SPI_W0) + i / 4];
        *w = (*w & ~(0xFFu << (8 * (i % 4)))) | (uint32_t)b[i] << (8 * (i % 4));
    }
}

static uint32_t phase_bits(const sim_regs *r, uint32_t usr, uint32_t phase, uint32_t dlen_reg)
{
    if (!(usr & phase))
        return 0;
    uint32_t bits = (r->spi[SPI_IDX(dlen_reg)] & 0xFFFFFF) + 1;
    return bits > 8 * W_BYTES ? 8 * W_BYTES : bits;
}

static void spi_user_command(sim_regs *r)
{
    uint32_t usr = r->spi[SPI_IDX(ESP32_SPI_USR)];
    uint32_t usr1 = r->spi[SPI_IDX(ESP32_SPI_USR1)];
    uint8_t cmd = (uint8_t)r->spi[SPI_IDX(ESP32_SPI_USR2)];
    uint32_t miso_bits = phase_bits(r, usr, USR_MISO, ESP32_SPI_MISO_DLEN);
    uint32_t mosi_bits = phase_bits(r, usr, USR_MOSI, ESP32_SPI_MOSI_DLEN);
    uint32_t addr = 0;
    if (usr & USR_ADDR) {
        uint32_t alen = ((usr1 >> 26) & 0x3F) + 1;
        addr = alen >= 32 ? r->spi[SPI_IDX(ESP32_SPI_ADDR)]
                          : r->spi[SPI_IDX(ESP32_SPI_ADDR)] >> (32 - alen);
    }
    uint8_t mosi[W_BYTES], in[W_BYTES];
    int nmosi = (int)(mosi_bits / 8);
    for (int i = 0; i < W_BYTES; i++)
        mosi[i] = w_byte(r, i);
    memset(in, 0xFF, sizeof in); /* nobody drives MISO: the line floats high */
    if (r->spi_attached) {
        switch (cmd) {
        case 0x9F: /* RDID */
            in[0] = (uint8_t)r->o->flash_id;
            in[1] = (uint8_t)(r->o->flash_id >> 8);
            in[2] = (uint8_t)(r->o->flash_id >> 16);
            break;
        case 0x5A: /* SFDP */
            for (int i = 0; i < W_BYTES; i++)
                in[i] = sfdp_byte(r, addr + (uint32_t)i);
            break;
        case 0x05: case 0x35: case 0x15: /* RDSR1-3: the register repeats while clocked */
            memset(in, flash_sr_read(r->flash, cmd == 0x05 ? 0 : cmd == 0x35 ? 1 : 2), sizeof in);
            break;
        case 0x06: case 0x04: case 0x50:
            flash_sr_enable(r->flash, cmd);
            break;
        case 0x01: case 0x31: case 0x11:
            flash_sr_wrsr(r->flash, cmd, mosi, nmosi);
            break;
        default: /* resets, power-down/up and the like: nothing to read */
            break;
        }
    }
    w_store(r, in, miso_bits);
}

#define UART0_BASE 0x3FF40000u
#define UART_DATE (UART0_BASE + 0x78) /* esptool 2.x detects the chip by it (its 0x60000078) */
#define UART_DATE_ESP32 0x15122500u
#define AHB_ALIAS 0x60000000u         /* 0x6000_0000.. = 0x3FF4_0000.. over the AHB bus */

/* The peripheral pages the ROM loader can read through their 0x6000_0000 alias: UART0,
 * SPI1, SPI0 and eFuse. Other addresses are themselves. */
static uint32_t unalias(uint32_t addr)
{
    static const uint32_t pages[] = {UART0_BASE, ESP32_SPI_BASE, ESP32_SPI_BASE + 0x1000,
                                     ESP32_EFUSE_BASE};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        uint32_t alias = pages[i] - UART0_BASE + AHB_ALIAS;
        if (addr >= alias && addr < alias + 0x1000)
            return addr - alias + pages[i];
    }
    return addr;
}

uint32_t regs_read(sim_regs *r, uint32_t addr)
{
    const sim_unit_opts *o = r->o;
    addr = unalias(addr);
    if (addr == UART_DATE)
        return UART_DATE_ESP32;
    if (addr == ESP32_CHIP_MAGIC_REG)
        return o->faults.wrong_chip ? ESP32S3_CHIP_MAGIC : ESP32_CHIP_MAGIC;
    if (addr >= ESP32_EFUSE_BASE && addr < ESP32_EFUSE_BASE + 7 * 4 && addr % 4 == 0)
        return regs_efuse_word(o, (int)((addr - ESP32_EFUSE_BASE) / 4));
    if (addr == ESP32_APB_CTL_DATE)
        return 0x16042000u | (o->rev_major >= 3 ? 0x80000000u : 0);
    if (addr == ESP32_UART_CLKDIV)
        return clkdiv_for((uint32_t)o->xtal_mhz * 1000000u, r->baud);
    if (addr == ESP32_RTCCALICFG1)
        /* cali * 15625 * ck8m(80) / 40 == XTAL exactly */
        return (o->xtal_mhz == 26 ? 832u : 1280u) << 7;
    if (addr == ESP32_GPIO_STRAP)
        return r->download ? 0x03 : 0x13;
    if (addr >= ESP32_SPI_BASE && addr < ESP32_SPI_BASE + 0x100 && addr % 4 == 0)
        return r->spi[SPI_IDX(addr)];
    for (int i = 0; i < r->nscratch; i++)
        if (r->scratch[i].addr == addr)
            return r->scratch[i].val;
    return 0;
}

void regs_write(sim_regs *r, uint32_t addr, uint32_t val)
{
    addr = unalias(addr);
    if (addr >= ESP32_SPI_BASE && addr < ESP32_SPI_BASE + 0x100 && addr % 4 == 0) {
        r->spi[SPI_IDX(addr)] = val;
        if (addr == ESP32_SPI_CMD && (val & ESP32_SPI_CMD_USR)) {
            spi_user_command(r);
            r->spi[SPI_IDX(ESP32_SPI_CMD)] = val & ~ESP32_SPI_CMD_USR; /* done at once */
        }
        return;
    }
    for (int i = 0; i < r->nscratch; i++)
        if (r->scratch[i].addr == addr) {
            r->scratch[i].val = val;
            return;
        }
    if (r->nscratch < SIM_REGS_SCRATCH)
        r->scratch[r->nscratch++] = (typeof(r->scratch[0])){addr, val};
}

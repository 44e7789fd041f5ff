/* spiflash.c - SPI flash commands through the ESP32's SPI1 user-command registers,
 * driven with READ_REG/WRITE_REG (protocol reference §6): the JEDEC ID, the status
 * registers (as esptool's read_flash_status / write_flash_status do) and clearing their
 * write protection. */
#include "detect.h"
#include "esp_proto.h"

#define USR_COMMAND (1u << 31)
#define USR_MISO (1u << 28)
#define USR_MOSI (1u << 27)

int st_spiflash_command(st_loader *l, uint8_t cmd, const uint8_t *data, int data_bits,
                        int read_bits, uint32_t *out, st_err *err)
{
    if (data_bits < 0 || data_bits > 64 || read_bits < 0 || read_bits > 32) {
        st_err_set(err, ST_E_ARG, l->phase, "SPI flash command 0x%02x: %d data / %d read bits",
                   cmd, data_bits, read_bits);
        return -1;
    }
    uint32_t old_usr, old_usr2;
    if (st_cmd_read_reg(l, ESP32_SPI_USR, &old_usr, err) < 0 ||
        st_cmd_read_reg(l, ESP32_SPI_USR2, &old_usr2, err) < 0)
        return -1;
    if (data_bits && st_cmd_write_reg(l, ESP32_SPI_MOSI_DLEN, (uint32_t)data_bits - 1, err) < 0)
        return -1;
    if (read_bits && st_cmd_write_reg(l, ESP32_SPI_MISO_DLEN, (uint32_t)read_bits - 1, err) < 0)
        return -1;
    uint32_t usr = USR_COMMAND | (read_bits ? USR_MISO : 0) | (data_bits ? USR_MOSI : 0);
    if (st_cmd_write_reg(l, ESP32_SPI_USR, usr, err) < 0 ||
        st_cmd_write_reg(l, ESP32_SPI_USR2, (7u << 28) | cmd, err) < 0)
        return -1;
    if (data_bits) {
        for (int i = 0; i * 32 < data_bits; i++) {
            uint32_t w = 0;
            for (int b = 0; b < 4 && (i * 32 + b * 8) < data_bits; b++)
                w |= (uint32_t)data[4 * i + b] << (8 * b);
            if (st_cmd_write_reg(l, ESP32_SPI_W0 + 4u * (uint32_t)i, w, err) < 0)
                return -1;
        }
    } else if (st_cmd_write_reg(l, ESP32_SPI_W0, 0, err) < 0) {
        return -1;
    }
    if (st_cmd_write_reg(l, ESP32_SPI_CMD, ESP32_SPI_CMD_USR, err) < 0)
        return -1;
    uint32_t c = ESP32_SPI_CMD_USR;
    for (int i = 0; i < 10 && (c & ESP32_SPI_CMD_USR); i++)
        if (st_cmd_read_reg(l, ESP32_SPI_CMD, &c, err) < 0)
            return -1;
    if (c & ESP32_SPI_CMD_USR) {
        st_err_set(err, ST_E_DEVICE, l->phase, "SPI flash command 0x%02x did not complete", cmd);
        err->fclass = ST_FC_PROTOCOL;
        return st_err_hint(err, "%s", st_fclass_hint(ST_FC_PROTOCOL));
    }
    uint32_t w0 = 0;
    if (st_cmd_read_reg(l, ESP32_SPI_W0, &w0, err) < 0)
        return -1;
    if (out)
        *out = read_bits < 32 ? w0 & ((1u << read_bits) - 1) : w0;
    if (st_cmd_write_reg(l, ESP32_SPI_USR, old_usr, err) < 0 ||
        st_cmd_write_reg(l, ESP32_SPI_USR2, old_usr2, err) < 0)
        return -1;
    return 0;
}

int st_spiflash_rdid(st_loader *l, uint32_t *flash_id, st_err *err)
{
    return st_spiflash_command(l, 0x9F, NULL, 0, 24, flash_id, err);
}

int st_spiflash_rdsr(st_loader *l, uint8_t sr[3], st_err *err)
{
    static const uint8_t op[3] = {0x05, 0x35, 0x15};
    for (int i = 0; i < 3; i++) {
        uint32_t v = 0;
        if (st_spiflash_command(l, op[i], NULL, 0, 8, &v, err) < 0)
            return -1;
        sr[i] = (uint8_t)v;
    }
    return 0;
}

bool st_flash_sr_protected(const uint8_t sr[3])
{
    return (sr[0] & 0x9C) || (sr[1] & 0x41) || (sr[2] & 0x04);
}

int st_spiflash_unprotect(st_loader *l, bool nonvolatile, uint8_t sr[3], st_err *err)
{
    uint8_t cur[3];
    if (st_spiflash_rdsr(l, cur, err) < 0)
        return -1;
    /* SR1: everything off (BP, TB, SEC, SRP0); SR2: keep QE only (SRP1, CMP off, the
     * OTP lock bits cannot be cleared anyway); SR3: WPS off, the rest (drive) kept. */
    const uint8_t sr12[2] = {0x00, (uint8_t)(cur[1] & 0x02)};
    const uint8_t sr3 = (uint8_t)(cur[2] & ~0x04);
    const uint8_t enable = nonvolatile ? 0x06 : 0x50; /* WREN / volatile SR write enable */
    if (st_spiflash_command(l, enable, NULL, 0, 0, NULL, err) < 0 ||
        st_spiflash_command(l, 0x01, sr12, 16, 0, NULL, err) < 0)
        return -1;
    if ((cur[2] & 0x04) && (st_spiflash_command(l, enable, NULL, 0, 0, NULL, err) < 0 ||
                            st_spiflash_command(l, 0x11, &sr3, 8, 0, NULL, err) < 0))
        return -1;
    /* a non-volatile write takes up to tW (15 ms) on the chip; the read-back polls it */
    for (int i = 0; i < 20; i++) {
        if (st_spiflash_rdsr(l, sr, err) < 0)
            return -1;
        if (!(sr[0] & 0x01))
            break;
    }
    return 0;
}

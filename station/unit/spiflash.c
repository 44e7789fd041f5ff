/* spiflash.c - SPI flash commands through the ESP32's SPI1 user-command registers,
 * driven with READ_REG/WRITE_REG (protocol reference §6). Used for the JEDEC ID. */
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

/* esp_proto.h - constants of the ESP32 serial bootloader protocol (ROM loader and
 * flasher stub) shared by the station's client and the test simulator, plus the
 * packet helpers both sides need. No I/O here. Facts: shared/docs/esp32-serial-protocol.md */
#ifndef ST_ESP_PROTO_H
#define ST_ESP_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum esp_cmd {
    ESP_FLASH_BEGIN = 0x02,
    ESP_FLASH_DATA = 0x03,
    ESP_FLASH_END = 0x04,
    ESP_MEM_BEGIN = 0x05,
    ESP_MEM_END = 0x06,
    ESP_MEM_DATA = 0x07,
    ESP_SYNC = 0x08,
    ESP_WRITE_REG = 0x09,
    ESP_READ_REG = 0x0A,
    ESP_SPI_SET_PARAMS = 0x0B,
    ESP_SPI_ATTACH = 0x0D,
    ESP_READ_FLASH_SLOW = 0x0E,
    ESP_CHANGE_BAUDRATE = 0x0F,
    ESP_FLASH_DEFL_BEGIN = 0x10,
    ESP_FLASH_DEFL_DATA = 0x11,
    ESP_FLASH_DEFL_END = 0x12,
    ESP_SPI_FLASH_MD5 = 0x13,
    ESP_GET_SECURITY_INFO = 0x14,
    ESP_ERASE_FLASH = 0xD0,
    ESP_ERASE_REGION = 0xD1,
    ESP_READ_FLASH = 0xD2,
    ESP_RUN_USER_CODE = 0xD3,
};

#define ESP_HDR_LEN 8             /* dir, op, size(2), checksum/value(4) */
#define ESP_DATA_HDR_LEN 16       /* data_len, seq, 0, 0 of *_DATA payloads */
#define ESP_CHECKSUM_SEED 0xEF
#define ESP_ROM_STATUS_LEN 4
#define ESP_STUB_STATUS_LEN 2
#define ESP_ROM_FLASH_BLOCK 0x400
#define ESP_STUB_FLASH_BLOCK 0x4000
#define ESP_RAM_BLOCK 0x1800      /* MEM_DATA block and ROM receive buffer */
#define ESP_MAX_FRAME (0x4000 + 64) /* largest legal packet (stub RX buffer) */
#define ESP_SECTOR 0x1000
#define ESP32_BOOTLOADER_OFFSET 0x1000
#define ESP_OHAI "OHAI"

/* Registers (ESP32). */
#define ESP32_CHIP_MAGIC_REG 0x40001000u
#define ESP32_CHIP_MAGIC 0x00F01D83u
#define ESP32S3_CHIP_MAGIC 0x00000009u
#define ESP32_EFUSE_BASE 0x3FF5A000u      /* word n at base + 4n */
#define ESP32_APB_CTL_DATE 0x3FF6607Cu    /* bit31 = rev3 bit */
#define ESP32_UART_CLKDIV 0x3FF40014u
#define ESP32_RTCCALICFG1 0x3FF5F06Cu
#define ESP32_GPIO_STRAP 0x3FF44038u
#define ESP32_SPI_BASE 0x3FF42000u
#define ESP32_SPI_CMD (ESP32_SPI_BASE + 0x00)
#define ESP32_SPI_ADDR (ESP32_SPI_BASE + 0x04)
#define ESP32_SPI_USR (ESP32_SPI_BASE + 0x1C)
#define ESP32_SPI_USR1 (ESP32_SPI_BASE + 0x20)
#define ESP32_SPI_USR2 (ESP32_SPI_BASE + 0x24)
#define ESP32_SPI_MOSI_DLEN (ESP32_SPI_BASE + 0x28)
#define ESP32_SPI_MISO_DLEN (ESP32_SPI_BASE + 0x2C)
#define ESP32_SPI_W0 (ESP32_SPI_BASE + 0x80)
#define ESP32_SPI_CMD_USR (1u << 18)

/* ROM error byte (status[1] when status[0] == 1). */
enum esp_rom_err {
    ESP_ROM_ERR_INVALID_PARAM = 0x01,
    ESP_ROM_ERR_INVALID_MSG = 0x05,
    ESP_ROM_ERR_FAILED = 0x06,
    ESP_ROM_ERR_CHECKSUM = 0x07,
    ESP_ROM_ERR_FLASH_WRITE = 0x08,
    ESP_ROM_ERR_FLASH_READ = 0x09,
    ESP_ROM_ERR_DEFLATE = 0x0B,
    ESP_ROM_ERR_ADLER = 0x0C,
};

/* Stub error byte (status[0]). */
enum esp_stub_err {
    ESP_STUB_BAD_DATA_LEN = 0xC0,
    ESP_STUB_BAD_DATA_CHECKSUM = 0xC1,
    ESP_STUB_BAD_BLOCKSIZE = 0xC2,
    ESP_STUB_INVALID_COMMAND = 0xC3,
    ESP_STUB_FAILED_SPI_OP = 0xC4,
    ESP_STUB_FAILED_SPI_UNLOCK = 0xC5,
    ESP_STUB_NOT_IN_FLASH_MODE = 0xC6,
    ESP_STUB_INFLATE_ERROR = 0xC7,
    ESP_STUB_NOT_ENOUGH_DATA = 0xC8,
    ESP_STUB_TOO_MUCH_DATA = 0xC9,
    ESP_STUB_CMD_NOT_IMPLEMENTED = 0xFF,
};

/* XOR checksum (seed 0xEF) over the payload bytes after the 16-byte data header. */
uint8_t esp_checksum(const uint8_t *data, size_t n);

/* Little-endian helpers. */
static inline uint32_t esp_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t esp_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void esp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void esp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* "MEM_DATA", "SYNC", ... or "0xNN" for unknown opcodes (static storage per opcode). */
const char *esp_cmd_name(uint8_t op);
/* Meaning of status bytes: n == 4 ROM form [failed, err, 0, 0]; n == 2 stub form
 * [code, detail]. Returns "" on success, else e.g. "checksum error". */
const char *esp_status_meaning(const uint8_t *status, int n);

#endif

/* esp_proto.c - protocol tables: checksum, command names, status meanings. */
#include "esp_proto.h"

uint8_t esp_checksum(const uint8_t *data, size_t n)
{
    uint8_t c = ESP_CHECKSUM_SEED;
    for (size_t i = 0; i < n; i++)
        c ^= data[i];
    return c;
}

const char *esp_cmd_name(uint8_t op)
{
    switch (op) {
    case ESP_FLASH_BEGIN: return "FLASH_BEGIN";
    case ESP_FLASH_DATA: return "FLASH_DATA";
    case ESP_FLASH_END: return "FLASH_END";
    case ESP_MEM_BEGIN: return "MEM_BEGIN";
    case ESP_MEM_END: return "MEM_END";
    case ESP_MEM_DATA: return "MEM_DATA";
    case ESP_SYNC: return "SYNC";
    case ESP_WRITE_REG: return "WRITE_REG";
    case ESP_READ_REG: return "READ_REG";
    case ESP_SPI_SET_PARAMS: return "SPI_SET_PARAMS";
    case ESP_SPI_ATTACH: return "SPI_ATTACH";
    case ESP_READ_FLASH_SLOW: return "READ_FLASH_SLOW";
    case ESP_CHANGE_BAUDRATE: return "CHANGE_BAUDRATE";
    case ESP_FLASH_DEFL_BEGIN: return "FLASH_DEFL_BEGIN";
    case ESP_FLASH_DEFL_DATA: return "FLASH_DEFL_DATA";
    case ESP_FLASH_DEFL_END: return "FLASH_DEFL_END";
    case ESP_SPI_FLASH_MD5: return "SPI_FLASH_MD5";
    case ESP_GET_SECURITY_INFO: return "GET_SECURITY_INFO";
    case ESP_ERASE_FLASH: return "ERASE_FLASH";
    case ESP_ERASE_REGION: return "ERASE_REGION";
    case ESP_READ_FLASH: return "READ_FLASH";
    case ESP_RUN_USER_CODE: return "RUN_USER_CODE";
    default: {
        static const char hex[] = "0123456789abcdef";
        static char names[256][5];
        char *n = names[op]; /* written identically by any thread: benign */
        n[0] = '0'; n[1] = 'x'; n[2] = hex[op >> 4]; n[3] = hex[op & 15]; n[4] = 0;
        return n;
    }
    }
}

static const char *rom_meaning(uint8_t err)
{
    switch (err) {
    case 0x00: return "undefined error";
    case 0x01: return "invalid input parameter";
    case 0x02: return "malloc failed";
    case 0x03: return "send failed";
    case 0x04: return "receive failed";
    case 0x05: return "invalid message format or unsupported command";
    case 0x06: return "message OK but operation failed";
    case 0x07: return "checksum error: the bytes were corrupted on the serial link";
    case 0x08: return "flash write error (read-back CRC mismatch)";
    case 0x09: return "flash read error";
    case 0x0A: return "flash read length error";
    case 0x0B: return "deflate (inflate) failed: compressed data corrupt";
    case 0x0C: return "deflate adler32 mismatch";
    case 0x0D: return "deflate parameter error";
    case 0x0E: return "invalid RAM binary size";
    case 0x0F: return "invalid RAM binary address";
    default: return "unknown ROM error";
    }
}

static const char *stub_meaning(uint8_t code)
{
    switch (code) {
    case 0xC0: return "bad data length";
    case 0xC1: return "bad data checksum: the bytes were corrupted on the serial link";
    case 0xC2: return "bad block size";
    case 0xC3: return "invalid command";
    case 0xC4: return "SPI flash operation failed";
    case 0xC5: return "SPI flash unlock failed";
    case 0xC6: return "not in flash mode";
    case 0xC7: return "inflate error: compressed data corrupt";
    case 0xC8: return "not enough data";
    case 0xC9: return "too much data";
    case 0xFF: return "command not implemented";
    default: return "unknown stub error";
    }
}

const char *esp_status_meaning(const uint8_t *status, int n)
{
    if (n == 4)
        return status[0] ? rom_meaning(status[1]) : "";
    if (n == 2)
        return status[0] ? stub_meaning(status[0]) : "";
    return "";
}

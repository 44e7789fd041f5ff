/* stub.h - the flasher stub image, read from esptool's stub JSON format
 * (keys entry, text, text_start, data, data_start; text/data base64). */
#ifndef ST_STUB_H
#define ST_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Which flasher stub an image is (the profile's stub_kind): they answer some commands
 * differently (protocol reference §7.3, esp-flasher-stub src/command_handler.c). */
typedef enum {
    ST_STUB_LEGACY,       /* esptool's legacy stub (esptool <= 5.2, esptool-js <= 0.5) */
    ST_STUB_FLASHER,      /* Espressif's esp-flasher-stub (esptool 5.3, esptool-js 0.7) */
} st_stub_kind;

/* "legacy" / "esp-flasher-stub". */
const char *st_stub_kind_name(st_stub_kind k);

/* ESP32 instruction RAM (SRAM0, SRAM1's IRAM alias, RTC FAST): a stub for the ESP32 loads
 * its text and has its entry there; one built for another chip does not. */
#define ST_ESP32_IRAM_START 0x40070000u
#define ST_ESP32_IRAM_END 0x400C2000u

typedef struct st_stub_image {
    st_stub_kind kind;   /* from the profile (st_stub_load leaves ST_STUB_LEGACY) */
    uint32_t entry;
    uint32_t text_start;
    uint8_t *text;
    size_t text_len;
    uint32_t data_start;
    uint8_t *data;       /* NULL when the JSON has no data segment */
    size_t data_len;
    char path[512];
} st_stub_image;

/* Load and decode a stub JSON file; errors name the file and the bad key. */
int st_stub_load(const char *path, st_stub_image *out, st_err *err);
void st_stub_free(st_stub_image *s);

#endif

/* stub.h - the flasher stub image, read from esptool's stub JSON format
 * (keys entry, text, text_start, data, data_start; text/data base64). */
#ifndef ST_STUB_H
#define ST_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct st_stub_image {
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

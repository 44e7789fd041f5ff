/* stub.c - read a flasher stub from esptool's / esptool-js's JSON (entry, text, text_start,
 * data, data_start; extra keys such as bss_start or plugin tables are ignored). */
#include "stub.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUB_MAX_SEGMENT (512 * 1024) /* far above any ESP32 stub; guards against junk */

static const char *const stub_hint =
    "use the stub JSON from esptool-js (lib/targets/stub_flasher/stub_flasher_32.json) or "
    "esptool (targets/stub_flasher/1/esp32.json), or remove the profile's stub key";

static int fail(st_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(st_err *err, const char *path, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    st_err_set(err, ST_E_PROFILE, ST_PH_PROFILE, "stub %s: %s", path, what);
    if (err) {
        err->fclass = ST_FC_CONFIG;
        st_err_hint(err, "%s", stub_hint);
    }
    return -1;
}

static int get_u32(json_t *root, const char *key, uint32_t *out, const char *path, st_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return fail(err, path, "missing key \"%s\"", key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xFFFFFFFFll)
        return fail(err, path, "key \"%s\" is not an address (integer 0..0xFFFFFFFF)", key);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Strict base64: EVP_DecodeBlock alone accepts stray '=' and over-padding. */
static int b64_valid(const char *s, size_t n, size_t *pad)
{
    if (n == 0 || n % 4)
        return 0;
    *pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - *pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '/'))
            return 0;
    }
    return 1;
}

static int get_b64(json_t *root, const char *key, uint8_t **out, size_t *len, const char *path,
                   st_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return fail(err, path, "missing key \"%s\"", key);
    if (!json_is_string(v))
        return fail(err, path, "key \"%s\" is not a base64 string", key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), pad = 0;
    if (n == 0)
        return fail(err, path, "key \"%s\" is empty", key);
    if (n / 4 * 3 > STUB_MAX_SEGMENT)
        return fail(err, path, "key \"%s\" is implausibly large for a stub", key);
    if (!b64_valid(s, n, &pad))
        return fail(err, path, "key \"%s\" is not valid base64 (%s)", key,
                    n % 4 ? "length not a multiple of 4" : "bad character or padding");
    uint8_t *buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return st_err_set(err, ST_E_NOMEM, ST_PH_PROFILE, "stub %s: out of memory", path);
    int got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
    if (got < 0 || (size_t)got < pad) {
        free(buf);
        return fail(err, path, "key \"%s\" is not valid base64", key);
    }
    /* EVP_DecodeBlock counts '=' padding as zero bytes of output. */
    *len = (size_t)got - pad;
    *out = buf;
    return 0;
}

int st_stub_load(const char *path, st_stub_image *out, st_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        return fail(err, path, "not readable JSON (line %d: %s)", je.line, je.text);
    }
    int rc = -1;
    if (!json_is_object(root)) {
        fail(err, path, "top level is not a JSON object");
        goto done;
    }
    if (get_u32(root, "entry", &out->entry, path, err) ||
        get_u32(root, "text_start", &out->text_start, path, err) ||
        get_b64(root, "text", &out->text, &out->text_len, path, err))
        goto done;
    if (out->text_len == 0) {
        fail(err, path, "key \"text\" is empty");
        goto done;
    }
    json_t *d = json_object_get(root, "data");
    if (d && !(json_is_string(d) && json_string_length(d) == 0)) {
        if (get_b64(root, "data", &out->data, &out->data_len, path, err) ||
            get_u32(root, "data_start", &out->data_start, path, err))
            goto done;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    rc = 0;
done:
    json_decref(root);
    if (rc)
        st_stub_free(out);
    return rc;
}

const char *st_stub_kind_name(st_stub_kind k)
{
    return k == ST_STUB_FLASHER ? "esp-flasher-stub" : "legacy";
}

void st_stub_free(st_stub_image *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* test_padded - an image whose compressed stream is mostly 0xFF padding: its last block
 * (a few hundred bytes on the wire) inflates to about 2 MiB, which the chip needs seconds
 * to erase and program. The station must size each block's wait from what that block
 * inflates to, not from the image's average ratio (a merged image padded to size used to
 * time out at FLASH_DEFL_END). Also checks the per-KiB inflate marks directly.
 *
 * The image: 1 MiB of incompressible bytes, then 2 MiB of 0xFF.
 *
 * usage: test_padded ESP32SIM STUB_JSON */
#include "sim_harness.h" /* first: it sets _GNU_SOURCE */
#include "check.h"

#include "esp_proto.h"

#define APP_CODE (1024u * 1024)
#define APP_LEN (APP_CODE + 2u * 1024 * 1024)

/* Write the app (pseudo-random code-ish bytes, then 2 MiB of 0xFF) and a profile for it. */
static bool write_profile(const char *dir, const char *stub, char *ini, size_t cap)
{
    uint8_t *app = malloc(APP_LEN);
    if (!app)
        return false;
    uint32_t x = 12345;
    for (uint32_t i = 0; i < APP_CODE; i++) {
        x = x * 1103515245u + 12345u;
        app[i] = (uint8_t)(x >> 24); /* incompressible: keeps the average ratio low */
    }
    memset(app + APP_CODE, 0xFF, APP_LEN - APP_CODE);
    bool ok = write_app_profile(dir, "padded", app, APP_LEN, stub, 1500000, ini, cap);
    free(app);
    return ok;
}

static void check_marks(const st_image *im)
{
    size_t n = ST_ZMARKS(im->zlen);
    CHECK(im->zmarks != NULL);
    if (!im->zmarks)
        return;
    CHECK_EQ_INT(im->zmarks[0], 0);
    CHECK_EQ_INT(im->zmarks[n - 1], im->len);
    bool monotonic = true;
    for (size_t i = 1; i < n; i++)
        monotonic = monotonic && im->zmarks[i] >= im->zmarks[i - 1];
    CHECK(monotonic);
    /* Per stub block, the inflated sizes add up to the image. */
    uint64_t sum = 0, last = 0;
    for (size_t off = 0; off < im->zlen; off += ESP_STUB_FLASH_BLOCK) {
        size_t k = im->zlen - off < ESP_STUB_FLASH_BLOCK ? im->zlen - off : ESP_STUB_FLASH_BLOCK;
        last = st_image_inflated(im, off, k);
        sum += last;
    }
    CHECK_EQ_INT(sum, im->len);
    /* The padding lives in the last block: well over a MiB of flash work for it. */
    CHECK(last > 1024u * 1024);
    /* ...while the image as a whole compresses only about 3:1, so an average-ratio
     * estimate of that block's work would be off by a factor of ~40. */
    CHECK(im->len / im->zlen < 4);
}

/* A prepare served from the compressed-stream cache carries the same marks as one that
 * compressed afresh (the cache's validating inflate yields them). */
static void check_cached_marks(const char *ini, const char *dir)
{
    char cache[600];
    snprintf(cache, sizeof cache, "%s/zcache", dir);
    st_profile prof;
    st_err err;
    static st_fwset a, b;
    if (!CHECK_EQ_INT(st_profile_load(ini, &prof, &err), 0))
        return;
    CHECK_EQ_INT(st_fwset_prepare(&prof, cache, &a, &err), 0); /* compresses, stores */
    CHECK_EQ_INT(st_fwset_prepare(&prof, cache, &b, &err), 0); /* served from the cache */
    const st_image *x = &a.img[0], *y = &b.img[0];
    CHECK(x->zmarks && y->zmarks);
    CHECK_EQ_INT(y->zlen, x->zlen);
    if (x->zmarks && y->zmarks && x->zlen == y->zlen)
        CHECK_MEM(y->zmarks, x->zmarks, ST_ZMARKS(x->zlen) * sizeof *x->zmarks);
    st_fwset_free(&a);
    st_fwset_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ESP32SIM STUB_JSON\n", argv[0]);
        return 2;
    }
    sim_proc s;
    /* --realism: 10 bits per byte on the line and NOR erase/program timing. */
    const char *args[] = {"--realism", NULL};
    if (!CHECK(sim_start(&s, argv[1], args)))
        return check_summary("padded");
    char ini[600];
    if (CHECK(write_profile(s.dir, argv[2], ini, sizeof ini))) {
        st_fwset *fw = calloc(1, sizeof *fw);
        if (CHECK(load_fwset(ini, "", fw))) {
            check_marks(&fw->img[0]);
            char port[300];
            sim_port(&s, 1, false, port, sizeof port);
            st_flash_opts o = {.log = harness_log};
            st_flash_report rep;
            st_err err;
            int rc = st_flash_unit(port, fw, &o, &rep, &err);
            if (rc != 0) {
                harness_print_err(&err);
                sim_dump_log(&s);
            }
            CHECK_EQ_INT(rc, 0);
            CHECK(rep.used_stub);
            CHECK_EQ_INT(rep.regions_verified, 1);
            CHECK(flash_has_images(&s, 1, fw));
        }
        st_fwset_free(fw);
        free(fw);
        check_cached_marks(ini, s.dir);
    }
    sim_stop(&s);
    return check_summary("padded");
}

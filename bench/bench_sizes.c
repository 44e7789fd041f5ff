/* bench_sizes.c - what st_fwset_prepare makes of a profile's images: the landing size,
 * the compressed size the station sends (libdeflate level 12) and what zlib level 9
 * would have sent, as JSON. Without a cache folder the time is the compression's.
 * usage: bench_sizes PROFILE [CACHE_DIR] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "image.h"
#include "profile.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_sizes PROFILE [CACHE_DIR]\n");
        return 2;
    }
    st_err err;
    st_profile *prof = calloc(1, sizeof *prof);
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!prof || !fw)
        return 1;
    double t0 = now_s();
    if (st_profile_load(argv[1], prof, &err) < 0 ||
        st_fwset_prepare(prof, argc == 3 ? argv[2] : NULL, fw, &err) < 0) {
        char line[800];
        st_err_format(&err, line, sizeof line);
        fprintf(stderr, "bench_sizes: %s\n", line);
        return 1;
    }
    double dt = now_s() - t0;
    json_t *imgs = json_array();
    for (int i = 0; i < fw->n; i++) {
        const st_image *im = &fw->img[i];
        json_array_append_new(imgs, json_pack("{s:s, s:I, s:I, s:I, s:I}", "path", im->path,
                                              "offset", (json_int_t)im->offset, "len",
                                              (json_int_t)im->len, "zlen", (json_int_t)im->zlen,
                                              "zlen_zlib9", (json_int_t)im->zlen_zlib9));
    }
    json_t *o = json_pack("{s:s, s:o, s:f}", "profile", fw->prof.name, "images", imgs,
                          "prepare_s", dt);
    json_dumpf(o, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(o);
    st_fwset_free(fw);
    free(fw);
    free(prof);
    return 0;
}

/* bench_flash.c - flash one unit with stationcore exactly as `station flash` does
 * (st_fwset_prepare once, then st_flash_unit), with the system-call tap (wire_tap.h)
 * on, and print one JSON object: the flash report, wall time, the port's system calls
 * and the wire analysis with the floor (wire_analyze.h).
 *
 * usage: bench_flash --port PORT --profile INI --baud N [--cache-dir DIR]
 *                    [--capture FILE]
 * Exit status 0 when the unit verified, 1 when it failed (the JSON says why), 2 usage. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_unit.h"
#include "image.h"
#include "profile.h"
#include "wa_json.h"
#include "wire_analyze.h"
#include "wire_tap.h"

static void fail_profile(const st_err *e)
{
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "bench_flash: %s\n", line);
}

static json_t *report_json(const st_flash_report *r)
{
    return json_pack("{s:b, s:i, s:i, s:I, s:I, s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:f}",
                     "used_stub", r->used_stub, "stub_uploads", r->stub_uploads, "baud",
                     r->baud, "bytes_raw", (json_int_t)r->bytes_raw, "bytes_compressed",
                     (json_int_t)r->bytes_compressed, "wire_out", (json_int_t)r->wire_out,
                     "wire_in", (json_int_t)r->wire_in, "regions_verified",
                     r->regions_verified, "t_connect", r->t_connect, "t_stub", r->t_stub,
                     "t_write", r->t_write, "t_verify", r->t_verify, "t_total", r->t_total);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"port", required_argument, 0, 'p'},      {"profile", required_argument, 0, 'P'},
        {"baud", required_argument, 0, 'b'},      {"cache-dir", required_argument, 0, 'c'},
        {"capture", required_argument, 0, 'C'},   {0, 0, 0, 0},
    };
    const char *port = NULL, *prof_path = NULL, *cache = NULL, *cap_path = NULL;
    int baud = 0, c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p': port = optarg; break;
        case 'P': prof_path = optarg; break;
        case 'b': baud = atoi(optarg); break;
        case 'c': cache = optarg; break;
        case 'C': cap_path = optarg; break;
        default: return 2;
        }
    }
    if (!port || !prof_path || baud <= 0 || optind != argc) {
        fprintf(stderr, "usage: bench_flash --port PORT --profile INI --baud N "
                        "[--cache-dir DIR] [--capture FILE]\n");
        return 2;
    }

    st_err err;
    st_profile *prof = calloc(1, sizeof *prof);
    st_fwset *fw = calloc(1, sizeof *fw);
    if (!prof || !fw)
        return 2;
    double t0 = tap_now();
    if (st_profile_load(prof_path, prof, &err) < 0 || st_fwset_prepare(prof, cache, fw, &err) < 0) {
        fail_profile(&err);
        return 2;
    }
    double prepare_s = tap_now() - t0;

    st_flash_opts opts = {.baud = baud, .stub_required = true};
    st_flash_report rep;
    memset(&rep, 0, sizeof rep);
    capture cap = {0};
    tap_start(&cap);
    double start = tap_now();
    int rc = st_flash_unit(port, fw, &opts, &rep, &err);
    double wall = tap_now() - start;
    tap_stop();

    wa_result wa;
    int have_wa = wa_analyze(&cap, &wa) == 0;
    if (cap_path && cap_save(&cap, cap_path) != 0)
        perror(cap_path);

    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc != 0) {
        char line[800];
        st_err_format(&err, line, sizeof line);
        json_object_set_new(o, "error", json_string(line));
        json_object_set_new(o, "fclass", json_string(st_fclass_name(err.fclass)));
    }
    json_object_set_new(o, "baud", json_integer(baud));
    json_object_set_new(o, "wall_s", json_real(wall));
    json_object_set_new(o, "prepare_s", json_real(prepare_s));
    json_object_set_new(o, "image_len", json_integer((json_int_t)fw->total_len));
    json_object_set_new(o, "zlen", json_integer((json_int_t)fw->total_zlen));
    json_object_set_new(o, "report", report_json(&rep));
    json_object_set_new(o, "tap", tap_to_json(tap_get_stats()));
    if (have_wa)
        json_object_set_new(o, "wire", wa_to_json(&wa));
    json_dumpf(o, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(o);
    cap_free(&cap);
    st_fwset_free(fw);
    free(fw);
    free(prof);
    return rc == 0 ? 0 : 1;
}

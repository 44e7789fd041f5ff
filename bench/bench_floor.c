/* bench_floor.c - the wire analysis and floor (wire_analyze.h) of a capture file, e.g.
 * the one esptooljs_flash.mjs records for esptool-js, as one JSON object.
 * usage: bench_floor CAPTURE */
#include <jansson.h>
#include <stdio.h>

#include "capture.h"
#include "wa_json.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_floor CAPTURE\n");
        return 2;
    }
    capture c = {0};
    if (cap_load(&c, argv[1]) != 0)
        return 1;
    wa_result r;
    if (wa_analyze(&c, &r) != 0) {
        fprintf(stderr, "bench_floor: %s: no host frames\n", argv[1]);
        cap_free(&c);
        return 1;
    }
    json_t *o = wa_to_json(&r);
    json_dumpf(o, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(o);
    cap_free(&c);
    return 0;
}

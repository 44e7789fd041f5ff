/* wa_json.h - wire_analyze and wire_tap figures as JSON objects (jansson), shared by
 * bench_flash and bench_floor so both hosts are reported with the same keys. */
#ifndef BENCH_WA_JSON_H
#define BENCH_WA_JSON_H

#include <jansson.h>

#include "wire_analyze.h"
#include "wire_tap.h"

json_t *wa_to_json(const wa_result *r);
json_t *tap_to_json(const tap_stats *t);

#endif

/* cli_stats.c - `station stats`: yield, failure classes by bridge chip and units per hour
 * over attempts started in a time range. Exit status 0, 2 usage, 3 database unusable. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station stats"

static int usage(FILE *out)
{
    fprintf(out, "usage: station stats [--since TIME] [--until TIME] [--json] [--db PATH]\n"
                 "  --since, --until  UTC ISO-8601, \"now\", or an age (24h, 7d); default: everything\n"
                 "  --json            one JSON object\n"
                 "  --db              record store (default $STATION_DB or the per-user default)\n");
    return out == stdout ? 0 : 2;
}

typedef struct {
    bool json;
    json_t *arr;
    char last_bridge[64];
} stats_ctx;

static int on_class(void *user, const char *bridge, st_fclass fc, int64_t count)
{
    stats_ctx *c = user;
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "bridge", json_string(bridge));
        json_object_set_new(o, "class", json_string(st_fclass_name(fc)));
        json_object_set_new(o, "count", json_integer(count));
        json_array_append_new(c->arr, o);
        return 0;
    }
    if (strcmp(c->last_bridge, bridge) != 0) {
        printf("  %s\n", bridge);
        snprintf(c->last_bridge, sizeof c->last_bridge, "%s", bridge);
    }
    printf("    %-20s %lld\n", st_fclass_name(fc), (long long)count);
    return 0;
}

static int on_hour(void *user, int64_t hour_ms, int64_t units_passed, int64_t attempts)
{
    stats_ctx *c = user;
    char t[32];
    st_db_format_time(hour_ms, t, sizeof t);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "hour", json_string(t));
        json_object_set_new(o, "units_passed", json_integer(units_passed));
        json_object_set_new(o, "attempts", json_integer(attempts));
        json_array_append_new(c->arr, o);
        return 0;
    }
    printf("  %.13s:00Z  %6lld units passed  %6lld attempts\n", t, (long long)units_passed,
           (long long)attempts);
    return 0;
}

int st_cli_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"since", required_argument, 0, 's'}, {"until", required_argument, 0, 'u'},
        {"json", no_argument, 0, 'j'},        {"db", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *dbpath = NULL;
    int64_t since = 0, until = 0;
    stats_ctx c = {0};
    st_err err;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
        case 'u':
            if (!st_cli_time_opt(PROG, ch, optarg, &since, &until))
                return 2;
            break;
        case 'j': c.json = true; break;
        case 'D': dbpath = optarg; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    st_db *db;
    int rc = st_cli_open_reader(PROG, dbpath, &db);
    if (rc)
        return rc;
    st_db_stats s;
    json_t *root = NULL, *classes = NULL, *hours = NULL;
    if (st_db_stats_summary(db, since, until, &s, &err) < 0)
        goto fail;
    if (c.json) {
        root = json_object();
        json_object_set_new(root, "attempts", json_integer(s.attempts));
        json_object_set_new(root, "passes", json_integer(s.passes));
        json_object_set_new(root, "fails", json_integer(s.fails));
        json_object_set_new(root, "interrupted", json_integer(s.interrupted));
        json_object_set_new(root, "attempts_no_mac", json_integer(s.attempts_no_mac));
        json_object_set_new(root, "units_tried", json_integer(s.units_tried));
        json_object_set_new(root, "units_passed", json_integer(s.units_passed));
        json_object_set_new(root, "units_first_try", json_integer(s.units_first_try));
        json_object_set_new(root, "yield", json_real(s.yield));
        json_object_set_new(root, "active_hours", json_real(s.active_hours));
        json_object_set_new(root, "units_per_hour", json_real(s.units_per_hour));
        c.arr = classes = json_array();
    } else {
        printf("attempts:        %lld (%lld pass, %lld fail, %lld interrupted; %lld without a MAC)\n",
               (long long)s.attempts, (long long)s.passes, (long long)s.fails,
               (long long)s.interrupted, (long long)s.attempts_no_mac);
        printf("units:           %lld tried, %lld passed (%lld on the first try)\n",
               (long long)s.units_tried, (long long)s.units_passed, (long long)s.units_first_try);
        printf("yield:           %.1f %%\n", s.yield * 100);
        printf("throughput:      %.1f units per hour over %.2f active hours\n", s.units_per_hour,
               s.active_hours);
        printf("failure classes by bridge chip:\n");
    }
    if (st_db_stats_classes(db, since, until, on_class, &c, &err) < 0)
        goto fail;
    if (c.json) {
        json_object_set_new(root, "classes_by_bridge", classes);
        classes = NULL;
        c.arr = hours = json_array();
    } else {
        if (!*c.last_bridge)
            printf("  (no failures)\n");
        printf("units per hour (UTC):\n");
    }
    if (st_db_stats_hourly(db, since, until, on_hour, &c, &err) < 0)
        goto fail;
    st_db_close(db);
    if (c.json) {
        json_object_set_new(root, "hourly", hours);
        char *out = json_dumps(root, JSON_COMPACT);
        if (out)
            puts(out);
        free(out);
        json_decref(root);
    }
    return 0;
fail:
    st_cli_print_err(PROG, &err);
    st_db_close(db);
    json_decref(root);
    json_decref(classes);
    json_decref(hours);
    return 3;
}

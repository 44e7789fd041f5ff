/* cli_stats.c - `station stats`: yield per unit (first pass, final), failure classes by
 * bridge chip (attempts and units), units per hour,
 * attempts per slot and link repairs by bridge and by slot over attempts started in a
 * time range. Exit status 0, 2 usage, 3
 * database unusable. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_records.h"
#include "text.h"

#define PROG "station stats"

static int usage(FILE *out)
{
    fprintf(out, "usage: station stats [--since TIME] [--until TIME] [--json] [--db PATH]\n"
                 "  --since, --until  ISO-8601 (2026-12-03T07:28Z, 2026-12-03T07:28+01:00; no offset =\n"
                 "                    UTC), \"now\", or an age (24h, 7d); default: everything\n"
                 "  --json            one JSON object\n"
                 "  --db              record store (default $STATION_DB or the per-user default)\n"
                 ST_CLI_CENTRAL_HELP "\n"
                 "  --by KEY          with --central: yield per station, line or hour (default station)\n");
    return out == stdout ? 0 : 2;
}

typedef struct {
    bool json;
    json_t *arr;              /* --json: the current section's array */
    int rows;                 /* rows in the current section */
    char last_bridge[64];
} stats_ctx;

/* One row of a section: into c->arr as an object, or printed (bridge and slot names come
 * from devices and paths: no control character reaches the terminal). */
static void section_row(stats_ctx *c, json_t *o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void section_row(stats_ctx *c, json_t *o, const char *fmt, ...)
{
    c->rows++;
    if (c->json) {
        json_array_append_new(c->arr, o);
        return;
    }
    json_decref(o);
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    bool nl = n && line[n - 1] == '\n';
    if (nl)
        line[n - 1] = '\0';
    fputs(st_text_clean(line), stdout);
    if (nl)
        fputc('\n', stdout);
}

static int on_class(void *user, const char *bridge, st_fclass fc, int64_t count, int64_t units,
                    int64_t no_mac)
{
    stats_ctx *c = user;
    if (!c->json && strcmp(c->last_bridge, bridge) != 0) {
        char b[64];
        snprintf(b, sizeof b, "%s", bridge);
        printf("  %s\n", st_text_clean(b));
        snprintf(c->last_bridge, sizeof c->last_bridge, "%s", bridge);
    }
    char extra[64] = "";
    if (no_mac)
        snprintf(extra, sizeof extra, "  (+%lld attempt%s without a MAC)", (long long)no_mac, no_mac == 1 ? "" : "s");
    section_row(c, json_pack("{s:s,s:s,s:I,s:I,s:I}", "bridge", bridge, "class", st_fclass_name(fc), "count",
                             (json_int_t)count, "units", (json_int_t)units, "attempts_no_mac", (json_int_t)no_mac),
                "    %-20s %6lld attempts %6lld unit%s%s\n", st_fclass_name(fc), (long long)count, (long long)units,
                units == 1 ? " " : "s", extra);
    return 0;
}

static int on_hour(void *user, int64_t hour_ms, int64_t units_passed, int64_t attempts)
{
    char t[32];
    st_db_format_time(hour_ms, t, sizeof t);
    section_row(user, json_pack("{s:s,s:I,s:I}", "hour", t, "units_passed", (json_int_t)units_passed,
                                "attempts", (json_int_t)attempts),
                "  %.13s:00Z  %6lld units passed  %6lld attempts\n", t, (long long)units_passed,
                (long long)attempts);
    return 0;
}

static int on_slot(void *user, const char *slot_name, int64_t attempts, int64_t passes, int64_t failures)
{
    section_row(user, json_pack("{s:s,s:I,s:I,s:I}", "slot_name", slot_name, "attempts",
                                (json_int_t)attempts, "passes", (json_int_t)passes, "failures",
                                (json_int_t)failures),
                "  %-40s %6lld attempts  %6lld pass  %6lld fail\n", slot_name, (long long)attempts,
                (long long)passes, (long long)failures);
    return 0;
}

static int on_repair(void *user, const char *key, int64_t attempts, int64_t attempts_repaired,
                     int64_t blocks)
{
    section_row(user, json_pack("{s:s,s:I,s:I,s:I}", "key", key, "attempts", (json_int_t)attempts,
                                "attempts_repaired", (json_int_t)attempts_repaired,
                                "blocks_repaired", (json_int_t)blocks),
                "  %-40s %6lld attempts  %6lld with repairs  %6lld blocks repaired\n", key,
                (long long)attempts, (long long)attempts_repaired, (long long)blocks);
    return 0;
}

static int run_repairs_bridge(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err)
{
    return st_db_stats_repairs(db, co->since_ms, co->until_ms, false, on_repair, c, err);
}

static int run_repairs_slot(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err)
{
    return st_db_stats_repairs(db, co->since_ms, co->until_ms, true, on_repair, c, err);
}

static int run_classes(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err)
{
    return st_db_stats_classes(db, co->since_ms, co->until_ms, on_class, c, err);
}

static int run_hours(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err)
{
    return st_db_stats_hourly(db, co->since_ms, co->until_ms, on_hour, c, err);
}

static int run_slots(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err)
{
    return st_db_stats_slots(db, co->since_ms, co->until_ms, on_slot, c, err);
}

/* The listings after the summary: JSON key, text heading, text when it has no rows. */
static const struct {
    const char *key, *heading, *none;
    int (*run)(st_db *db, const st_cli_opts *co, stats_ctx *c, st_err *err);
} sections[] = {
    {"classes_by_bridge", "failure classes by bridge chip:", "  (no failures)\n", run_classes},
    {"hourly", "units per hour (UTC):", "", run_hours},
    {"slots", "attempts by slot:", "  (no attempts)\n", run_slots},
    {"repairs_by_bridge", "link repairs (corrupted blocks resent) by bridge chip:",
     "  (no attempts)\n", run_repairs_bridge},
    {"repairs_by_slot", "link repairs (corrupted blocks resent) by slot:", "  (no attempts)\n",
     run_repairs_slot},
};

static json_t *summary_json(const st_db_stats *s)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "attempts", (json_int_t)s->attempts,
                     "passes", (json_int_t)s->passes, "fails", (json_int_t)s->fails, "interrupted",
                     (json_int_t)s->interrupted, "attempts_no_mac", (json_int_t)s->attempts_no_mac,
                     "units_tried", (json_int_t)s->units_tried, "units_passed",
                     (json_int_t)s->units_passed, "units_first_try", (json_int_t)s->units_first_try,
                     "yield", s->yield, "first_pass_yield", s->first_pass_yield, "final_yield", s->yield,
                     "active_hours", s->active_hours, "units_per_hour",
                     s->units_per_hour);
}

static void summary_text(const st_db_stats *s)
{
    printf("attempts:        %lld (%lld pass, %lld fail, %lld interrupted; %lld without a MAC)\n",
           (long long)s->attempts, (long long)s->passes, (long long)s->fails, (long long)s->interrupted,
           (long long)s->attempts_no_mac);
    printf("units:           %lld tried, %lld passed (%lld on their first attempt)\n", (long long)s->units_tried,
           (long long)s->units_passed, (long long)s->units_first_try);
    printf("yield per unit:  %.1f %% first pass, %.1f %% final\n", s->first_pass_yield * 100, s->yield * 100);
    printf("throughput:      %.1f units per hour over %.2f active hours\n", s->units_per_hour,
           s->active_hours);
}

/* ---- --central: yield per station, line or hour across the factory ---- */

static int on_group(void *user, const st_central_group *g)
{
    stats_ctx *c = user;
    section_row(c, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "key", g->key, "attempts", (json_int_t)g->attempts,
                             "passes", (json_int_t)g->passes, "fails", (json_int_t)g->fails, "units_tried",
                             (json_int_t)g->units_tried, "units_passed", (json_int_t)g->units_passed, "yield",
                             g->yield),
                "  %-24s %7lld attempts %7lld pass %7lld fail %7lld units %7lld passed  yield %5.1f %%\n",
                *g->key ? g->key : "(none)", (long long)g->attempts, (long long)g->passes, (long long)g->fails,
                (long long)g->units_tried, (long long)g->units_passed, g->yield * 100);
    return 0;
}

static int central_stats(st_central *central, const st_cli_opts *o)
{
    const char *by = o->by ? o->by : "station";
    st_central_by b = !strcmp(by, "station") ? ST_CENTRAL_BY_STATION
                      : !strcmp(by, "line")  ? ST_CENTRAL_BY_LINE
                      : !strcmp(by, "hour")  ? ST_CENTRAL_BY_HOUR
                                             : (st_central_by)-1;
    if ((int)b < 0) {
        fprintf(stderr, PROG ": --by takes station, line or hour, not '%s'\n", by);
        st_central_close(central);
        return 2;
    }
    stats_ctx c = {.json = o->json};
    json_t *root = NULL;
    if (c.json) {
        root = json_object();
        json_object_set_new(root, "by", json_string(by));
        json_object_set_new(root, "groups", c.arr = json_array());
    } else {
        printf("yield per %s, all stations (central store; hours in server time, UTC):\n", by);
    }
    st_err err;
    int rc = st_central_stats(central, b, o->since_ms, o->until_ms, on_group, &c, &err);
    st_central_close(central);
    if (rc < 0) {
        json_decref(root);
        st_cli_print_err(PROG, &err);
        return 3;
    }
    if (c.json) {
        st_cli_put_json(root);
    } else if (!c.rows) {
        printf("  (no attempts)\n");
    }
    return 0;
}

int st_cli_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        ST_CLI_OPT_RANGE, ST_CLI_OPT_JSON, ST_CLI_OPT_DB, ST_CLI_OPT_CENTRAL, {"by", required_argument, 0, 'B'},
        ST_CLI_OPT_HELP, {0, 0, 0, 0},
    };
    st_cli_opts o;
    int rc = st_cli_parse(PROG, argc, argv, longopts, 0, &o, usage);
    if (rc >= 0)
        return rc;
    st_central *central;
    if ((rc = st_cli_open_central(PROG, &o, &central)))
        return rc;
    if (central)
        return central_stats(central, &o);
    if (o.by) {
        fprintf(stderr, PROG ": --by needs --central (or STATION_CENTRAL)\n");
        return 2;
    }
    st_db *db;
    if ((rc = st_cli_open_reader(PROG, o.db_path, &db)))
        return rc;
    stats_ctx c = {.json = o.json};
    st_err err;
    st_db_stats s;
    json_t *root = NULL;
    if (st_db_stats_summary(db, o.since_ms, o.until_ms, &s, &err) < 0)
        goto fail;
    if (c.json)
        root = summary_json(&s);
    else
        summary_text(&s);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        c.rows = 0;
        if (c.json)
            json_object_set_new(root, sections[i].key, c.arr = json_array());
        else
            printf("%s\n", sections[i].heading);
        if (sections[i].run(db, &o, &c, &err) < 0)
            goto fail;
        if (!c.json && !c.rows)
            fputs(sections[i].none, stdout);
    }
    st_db_close(db);
    if (c.json)
        st_cli_put_json(root);
    return 0;
fail:
    st_cli_print_err(PROG, &err);
    st_db_close(db);
    json_decref(root);
    return 3;
}

/* cli_event_json.h - the line's events as JSON objects for `station run --json`: the
 * versioned contract of docs/events.md, checked against docs/events.schema.json by the
 * tests. Bump ST_EVENTS_SCHEMA when a key changes meaning or goes away (adding a key
 * does not). */
#ifndef ST_CLI_EVENT_JSON_H
#define ST_CLI_EVENT_JSON_H

#include <jansson.h>

#include "events.h"
#include "line_view.h"

#define ST_EVENTS_SCHEMA 1

/* A new JSON object for e (the caller owns it); NULL when out of memory. */
json_t *st_cli_event_json(const st_event *e);

/* The closing "summary" object of a run: counts from v, record and on-result command
 * failures, and the exit status the run ends with. */
json_t *st_cli_summary_json(const st_line_view *v, int record_failures, int hook_failures,
                            int exit_status);

#endif

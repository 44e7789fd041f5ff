/* cli_hook.h - `station run --on-result CMD`: a command per finished unit (pass, fail,
 * interrupted, unrecorded), e.g. a label printer or an MES hook. It runs on its own thread
 * from the line's event stream, one command at a time, so it never blocks a worker; each
 * run has a timeout, and a command that fails, times out or cannot start is posted as a
 * `hook` event (dashboard log, --headless, --json) and counted. The unit's result is in
 * the command's environment (STATION_RESULT, STATION_MAC, ..., STATION_EVENT: the whole
 * JSON event; docs/events.md). Its output is not shown; the last line of it is quoted in
 * the failure event. */
#ifndef ST_CLI_HOOK_H
#define ST_CLI_HOOK_H

#include "engine.h"

typedef struct st_hook st_hook;

/* Start the runner for cmd (run by /bin/sh -c) on e's events with seq > after_seq. */
int st_hook_start(st_engine *e, const char *cmd, double timeout_s, uint64_t after_seq,
                  st_hook **out, st_err *err);
/* Once the line is done: run the commands still due (each within its timeout), join and
 * free. Returns how many commands failed over the run. */
int st_hook_stop(st_hook *h);

#endif

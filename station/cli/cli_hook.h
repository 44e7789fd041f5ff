/* cli_hook.h - `station run --on-result CMD`: a command per finished unit (pass, fail,
 * interrupted, unrecorded), e.g. a label printer or an MES hook. It runs on its own thread
 * from the line's event stream, one command at a time, so it never blocks a worker; each
 * run has a timeout, and a command that fails, times out or cannot start is posted as a
 * `hook` event (dashboard log, --headless, --json) and counted. The unit's result is in
 * the command's environment (STATION_RESULT, STATION_MAC, ..., STATION_EVENT: the whole
 * JSON event; docs/events.md). Its output is not shown; the last line of its stdout (else
 * of its stderr) is quoted in the failure event, and the failure (how it ended, the first bytes of its stderr) is
 * recorded on the unit's attempt through the recorder (an ST_REC_HOOK operation), so
 * `station audit` and the exports show it and it ships with the attempt. */
#ifndef ST_CLI_HOOK_H
#define ST_CLI_HOOK_H

#include "engine.h"

typedef struct st_hook st_hook;

/* Start the runner for cmd (run by /bin/sh -c) on e's events with seq > after_seq. */
int st_hook_start(st_engine *e, const char *cmd, double timeout_s, uint64_t after_seq,
                  st_hook **out, st_err *err);
/* Once the line is done: run the commands still due (each within its timeout), join and
 * free. Returns how many commands failed over the run. Call it before the recorder
 * stops, so that the failures of the last commands reach the records. */
int st_hook_stop(st_hook *h);

#endif

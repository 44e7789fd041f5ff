/* reset.h - DTR/RTS sequences that put a unit into download mode or reboot it into
 * its application (reset.c). Facts: protocol reference §8.1. */
#ifndef ST_RESET_H
#define ST_RESET_H

#include "err.h"
#include "port.h"

typedef enum { ST_RESET_UNIX_TIGHT, ST_RESET_CLASSIC } st_reset_kind;

/* DTR/RTS sequence that puts an ESP32 into download mode (§8.1); delay_ms is the hold
 * after releasing EN (50 or 550). Ports without modem lines succeed doing nothing. */
int st_reset_download(st_port *p, st_reset_kind kind, int delay_ms, st_err *err);
/* Connect attempt n (0-based) -> sequence and delay: Unix 50, Unix 550, Classic 50,
 * Classic 550, cycled. */
void st_reset_plan(int attempt, st_reset_kind *kind, int *delay_ms);
/* RTS pulse: the unit reboots into its application. */
int st_reset_hard(st_port *p, st_err *err);

#endif

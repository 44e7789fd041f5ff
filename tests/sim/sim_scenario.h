/* sim_scenario.h - scenario files: per-slot queues of units arriving and leaving over
 * time (format in README.md). Also used for the plain --units N case (one unit per
 * slot, present from the start, never leaving). */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_OPTS_TEXT 1024

/* Departure rules, seconds; < 0 = rule not set. The first one to fire wins. */
typedef struct sim_leave {
    double reset;   /* after the station rebooted it into the app */
    double close;   /* after the host closed the port (and did not reopen) */
    double stay;    /* after arrival */
    double at;      /* since simulator start */
} sim_leave;

typedef struct sim_arrival {
    int slot;
    double at;      /* seconds since start, or < 0 */
    double after;   /* seconds after the slot became empty (used when at < 0) */
    sim_leave leave;
    char opts[SIM_OPTS_TEXT]; /* space-separated KEY=VALUE, slot defaults first */
    int line;
} sim_arrival;

typedef struct sim_scenario {
    sim_arrival *a;
    int n;
    int nslots;
    bool has_seed;
    uint64_t seed;
} sim_scenario;

/* Parse a scenario file; every unit's options are validated. 0 or -1 with a message. */
int scenario_load(sim_scenario *s, const char *path, char *err, size_t errlen);
/* One unit per slot 1..n at t=0, leave never. */
int scenario_plain(sim_scenario *s, int n);
void scenario_free(sim_scenario *s);
/* Parse "reset+2,close+10" etc. into l. 0 or -1. */
int scenario_parse_leave(sim_leave *l, const char *spec);

#endif

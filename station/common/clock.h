/* clock.h - the station's time base: monotonic seconds for every duration, timeout and
 * deadline (a wall-clock step by NTP or an operator changes none of them), and the one
 * wall-clock source, used only to label when something happened. */
#ifndef ST_CLOCK_H
#define ST_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Sleep for ms milliseconds (resumes after signals). */
void st_sleep_ms(int ms);
/* Monotonic seconds (CLOCK_MONOTONIC): the only clock a duration may be measured on. */
double st_now(void);
/* Epoch seconds (CLOCK_REALTIME): a label (records, event timestamps), never subtracted
 * from another reading to make a duration; it jumps when the system clock is stepped. */
double st_wall_now(void);

/* Initialise a condition variable whose timed waits run on CLOCK_MONOTONIC. */
void st_cond_init_monotonic(pthread_cond_t *cv);
/* The absolute CLOCK_MONOTONIC deadline ms milliseconds from now, for
 * pthread_cond_timedwait on a st_cond_init_monotonic condition variable. */
void st_deadline_in(struct timespec *ts, int ms);

#endif

/* clock.h - the station's time base: monotonic seconds for every duration and deadline,
 * and a sleep that survives signals. Wall-clock time is a label, never a duration. */
#ifndef ST_CLOCK_H
#define ST_CLOCK_H

/* Sleep for ms milliseconds (resumes after signals). */
void st_sleep_ms(int ms);
/* Monotonic seconds. */
double st_now(void);

#endif

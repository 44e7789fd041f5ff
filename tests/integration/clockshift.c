/* clockshift.c - an LD_PRELOAD library for tests: the wall clock as the process sees it
 * (clock_gettime(CLOCK_REALTIME / _COARSE), gettimeofday, time) is shifted by an offset the
 * test can change at any moment, the way NTP or an operator steps a factory PC's clock.
 * CLOCK_MONOTONIC and the kernel's own timers are untouched, so a deadline computed on the
 * wall clock and handed to the kernel (a CLOCK_REALTIME pthread_cond_timedwait, say) goes
 * wrong exactly as it would after a real step.
 *
 * $ST_CLOCKSHIFT_FILE names a file whose first 8 bytes are the offset in nanoseconds
 * (int64, host byte order); it is mapped shared, so a pwrite by the test takes effect at
 * once. No variable: no shift; no file yet: no shift until it appears. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void)
{
    static clock_gettime_fn fn;
    clock_gettime_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        __atomic_store_n(&fn, f, __ATOMIC_RELEASE);
    }
    return f;
}

static const int64_t *shift_map(void)
{
    static const int64_t *map;
    const int64_t *m = __atomic_load_n(&map, __ATOMIC_ACQUIRE);
    if (m)
        return m;
    const char *path = getenv("ST_CLOCKSHIFT_FILE");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        void *p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (p != MAP_FAILED) {
            const int64_t *expect = NULL;
            /* two threads may race here: the loser unmaps its copy */
            if (!__atomic_compare_exchange_n(&map, &expect, (const int64_t *)p, 0, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                munmap(p, sizeof(int64_t));
        }
    }
    return __atomic_load_n(&map, __ATOMIC_ACQUIRE);
}

static int64_t shift_ns(void)
{
    const int64_t *m = shift_map();
    return m ? __atomic_load_n(m, __ATOMIC_RELAXED) : 0;
}

static void add_ns(struct timespec *ts, int64_t ns)
{
    int64_t t = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + ns;
    ts->tv_sec = (time_t)(t / 1000000000LL);
    ts->tv_nsec = (long)(t % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_sec--;
        ts->tv_nsec += 1000000000L;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    clock_gettime_fn real = real_clock_gettime();
    if (!real)
        return -1;
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        add_ns(ts, shift_ns());
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}

/* The wall clock moved forward by OMNIVOX_CLOCK_SHIFT_SECONDS, for the live benches only.
 *
 * Loaded with LD_PRELOAD into every process of a bench's stack (bench.stack.in_calling_hours):
 * the real-time clock that time.time(), datetime.now(), PostgreSQL's now() and Redis read is
 * moved by the same whole number of seconds everywhere; the monotonic clocks, by which every
 * sleep, timeout and duration is measured, are left alone. Built by the bench with the
 * machine's C compiler: cc -shared -fPIC -O2 -o clockshift.so clockshift.c -ldl
 *
 * What it does not move: a wait with an absolute real-time deadline that the kernel checks
 * (sem_timedwait, pthread_cond_timedwait on the default clock, timerfd on CLOCK_REALTIME)
 * would wait the whole shift longer. Python 3.11 built with sem_clockwait (this project's) and
 * gunicorn's heartbeat use the monotonic clock; Stack.start checks PostgreSQL and Redis read
 * the moved clock. timespec_get and CLOCK_REALTIME_ALARM are not moved either.
 *
 * Why not libfaketime: Debian 12's 0.9.10 breaks Python's time.sleep (EINVAL from
 * clock_nanosleep with an absolute monotonic deadline), and a wall clock is all we move.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift;
static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *restrict, void *restrict);

/* Once, as the library loads and before any thread of the program runs. */
__attribute__((constructor)) static void init(void) {
    const char *s = getenv("OMNIVOX_CLOCK_SHIFT_SECONDS");
    shift = s ? atol(s) : 0;
    if (shift < 0) shift = 0;
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    real_gettimeofday = (int (*)(struct timeval *restrict, void *restrict))dlsym(RTLD_NEXT, "gettimeofday");
}

int clock_gettime(clockid_t clk, struct timespec *tp) {
    int rc = real_clock_gettime(clk, tp);
    if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI))
        tp->tv_sec += shift;
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    int rc = real_gettimeofday(tv, tz);
    if (rc == 0) tv->tv_sec += shift;
    return rc;
}

time_t time(time_t *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}

/* The wall clock moved forward by OMNIVOX_CLOCK_SHIFT_SECONDS, for the live benches only.
 *
 * Loaded with LD_PRELOAD into every process of a bench's stack (bench.stack.in_calling_hours):
 * the real-time clock that time.time(), datetime.now(), PostgreSQL's now() and Redis read is
 * moved by the same whole number of seconds everywhere; the monotonic clocks, by which every
 * sleep, timeout and duration is measured, are left alone. Built by the bench with the
 * machine's C compiler: cc -shared -fPIC -O2 -o clockshift.so clockshift.c -ldl
 *
 * Why not libfaketime: Debian 12's 0.9.10 breaks Python's time.sleep (EINVAL from
 * clock_nanosleep with an absolute monotonic deadline), and a wall clock is all we move.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift_seconds(void) {
    static long shift = -1;
    if (shift < 0) {
        const char *s = getenv("OMNIVOX_CLOCK_SHIFT_SECONDS");
        shift = s ? atol(s) : 0;
        if (shift < 0) shift = 0;
    }
    return shift;
}

int clock_gettime(clockid_t clk, struct timespec *tp) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(clk, tp);
    if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI))
        tp->tv_sec += shift_seconds();
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    static int (*real)(struct timeval *restrict, void *restrict);
    if (!real) real = (int (*)(struct timeval *restrict, void *restrict))dlsym(RTLD_NEXT, "gettimeofday");
    int rc = real(tv, tz);
    if (rc == 0) tv->tv_sec += shift_seconds();
    return rc;
}

time_t time(time_t *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}

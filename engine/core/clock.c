/* The project's clock; see sm_clock.h. */
#include "sm_clock.h"

#include <time.h>

static double read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

double sm_clock_ms(void) { return read_ms(CLOCK_MONOTONIC); }
double sm_clock_thread_cpu_ms(void) { return read_ms(CLOCK_THREAD_CPUTIME_ID); }

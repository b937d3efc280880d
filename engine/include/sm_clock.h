/* sm_clock.h: the one clock every timing in the project reads (model
 * profilers, the pipeline's per-model latencies, smw-bench), so that their
 * numbers are comparable. Milliseconds as double. */
#ifndef SM_CLOCK_H
#define SM_CLOCK_H

/* CLOCK_MONOTONIC: wall time, never steps back (what multi-threaded runs need). */
double sm_clock_ms(void);
/* CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time (single-threaded
 * kernel timings that should not count time the thread was descheduled). */
double sm_clock_thread_cpu_ms(void);

#endif

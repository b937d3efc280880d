/* bench_kernels.h: `smw-bench kernels` (bench_kernels.c). */
#ifndef BENCH_KERNELS_H
#define BENCH_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t threads;
    bool json;
    const char *filter; /* substring of the case name, or NULL */
    double min_seconds; /* per case and ISA */
} sm_bench_kernel_opts;

double sm_bench_now(void);
/* true: thread CPU time (default for 1 thread), false: wall clock. */
void sm_bench_use_cpu_clock(bool cpu);
const char *sm_bench_clock_name(void);
/* FP32 FMA peak of one core in GFLOP/s with the widest vector FMA this CPU has
 * (*isa gets its name); measured with independent FMA chains. */
double sm_bench_fma_peak(const char **isa);
int sm_bench_kernels(const sm_bench_kernel_opts *o);

#endif

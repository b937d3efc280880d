/* bench_models.h: the registry `smw-bench model FILE.smw` looks architectures up in.
 * Model helpers add one row to sm_bench_model_runners[] in bench_models.c: the
 * general.architecture string of their .smw and a function that loads the model,
 * runs it `iters` times on a fixed synthetic input and stores per-run times. */
#ifndef BENCH_MODELS_H
#define BENCH_MODELS_H

#include <stddef.h>

#include "sm_engine.h"

typedef struct {
    size_t threads;     /* threads to use (pool of this size) */
    size_t iters;       /* timed runs after the warm-up */
    double warmup_ms;   /* warm-up: at least 2 runs and this long (0: just the 2 runs) */
    sm_threadpool *pool;
} sm_bench_model_opts;

typedef struct {
    double gflop;       /* FLOPs of one inference (multiply-add = 2), 0 if unknown */
    double *ms;         /* iters entries, filled by the runner (caller allocates): the
                         * time of one inference, in ms */
    size_t calls_per_run; /* inferences per timed run, whose mean is ms[i] (runners whose
                           * call is too short to time alone, e.g. the fatigue MLP);
                           * 0 or 1: each ms[i] is one call */
    char input[64];     /* e.g. "1x300x300x3" */
} sm_bench_model_result;

typedef struct {
    const char *arch;        /* general.architecture in the .smw */
    const char *description;
    sm_status (*run)(const sm_smw *file, const char *path, const sm_bench_model_opts *opts,
                     sm_bench_model_result *res, sm_error *err);
} sm_bench_model_runner;

extern const sm_bench_model_runner sm_bench_model_runners[];
extern const size_t sm_bench_model_runner_count;

/* NULL when nothing is registered for arch. */
const sm_bench_model_runner *sm_bench_model_find(const char *arch, size_t len);

#endif

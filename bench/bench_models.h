/* bench_models.h: `smw-bench model FILE.smw`. The model comes from the model
 * registry (models/model_registry.h) by the file's general.architecture: every
 * kind registered there can be benchmarked, with its own example input, FLOP
 * count and per-layer profile. */
#ifndef BENCH_MODELS_H
#define BENCH_MODELS_H

#include <stddef.h>

#include "model_registry.h"
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
    double fanouts;     /* parallel-fors handed to the pool's workers per timed inference
                         * (sm_threadpool_fanouts): how often the fan-out rule
                         * decided to fork, independent of a noisy machine's timing */
} sm_bench_model_result;

/* Loads the model of kind in file on opts->pool, warms up, times opts->iters runs
 * of the kind's example input (kind->bench_calls calls per timed run), then
 * runs iters more with per-layer profiling on where the kind has it and prints
 * that table to stderr. */
sm_status sm_bench_model_run(const sm_model_kind *kind, const sm_smw *file, const sm_bench_model_opts *opts,
                             sm_bench_model_result *res, sm_error *err);

#endif

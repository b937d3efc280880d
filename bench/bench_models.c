/* Model benchmarks through the model registry (see bench_models.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_models.h"
#include "rppg_ultralight.h"
#include "sm_clock.h"

/* At least two runs and opts->warmup_ms of them before timing: a freshly loaded
 * model's first runs fault in its arena and weights and find cold caches, which a
 * persistent process (as the peers in bench-compare are) has long paid for. */
#define WARM_UP(opts, call)                                                                      \
    do {                                                                                         \
        double w0_ = sm_clock_ms();                                                              \
        for (int n_ = 0; n_ < 2 || sm_clock_ms() - w0_ < (opts)->warmup_ms; n_++) {              \
            call;                                                                                \
        }                                                                                        \
    } while (0)

static void print_layers(const char *model, const sm_layer_time *lt, size_t n, size_t threads)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) /* "(cpu)" rows break a wall-time row down: not summed */
        total += lt[i].calls && !strstr(lt[i].layer, "(cpu)") ? lt[i].ms / (double)lt[i].calls : 0;
    fprintf(stderr, "%s per layer (%zu thread%s, mean of the profiled runs):\n", model, threads,
            threads > 1 ? "s" : "");
    fprintf(stderr, "  %-16s %-28s %-14s %9s %8s %9s %6s\n", "layer", "op", "output", "ms", "MFLOP", "GFLOP/s",
            "%time");
    for (size_t i = 0; i < n; i++) {
        double ms = lt[i].calls ? lt[i].ms / (double)lt[i].calls : 0;
        char shape[32];
        snprintf(shape, sizeof shape, "%ux%ux%u", lt[i].out_h, lt[i].out_w, lt[i].out_c);
        fprintf(stderr, "  %-16s %-28s %-14s %9.4f %8.2f %9.2f %6.2f\n", lt[i].layer, lt[i].op, shape, ms,
                lt[i].flops * 1e-6, ms > 0 ? lt[i].flops / (ms * 1e6) : 0, total > 0 ? 100 * ms / total : 0);
    }
    fprintf(stderr, "  %-16s %-28s %-14s %9.4f\n", "total", "(sum of layers)", "", total);
}

/* The live rPPG path: one new frame's features pushed, then a reading over the
 * ring (what the pipeline does every 10th frame). */
static sm_status ultralight_stream(sm_ultralight *m, const sm_model_tensor *in, const sm_bench_model_opts *o,
                                   sm_error *err)
{
    size_t t = (size_t)in->dims[1], s = (size_t)in->dims[2];
    const float *x = in->data;
    float bpm;
    sm_ultralight_stream *sp;
    sm_status st = sm_ultralight_stream_init(m, t, &sp, err);
    for (size_t i = 0; i < t && !st; i++)
        sm_ultralight_stream_push(sp, m, x + i * s * s * 3);
    if (!st) {
        double t0 = sm_clock_ms();
        for (size_t i = 0; i < o->iters && !st; i++) {
            sm_ultralight_stream_push(sp, m, x + (i % t) * s * s * 3);
            st = sm_ultralight_stream_bpm(sp, m, &bpm, err);
        }
        fprintf(stderr, "  incremental: push 1 frame + reading over %zu frames: %.4f ms\n", t,
                (sm_clock_ms() - t0) / (double)o->iters);
    }
    sm_ultralight_stream_free(sp);
    return st;
}

static void describe_input(const sm_model_tensor *in, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (uint32_t i = 0; i < in->ndim; i++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%llu", i ? "x" : "", (unsigned long long)in->dims[i]);
    if (in->dtype != SM_DTYPE_F32)
        snprintf(buf + strlen(buf), cap - strlen(buf), " (%s)", sm_dtype_name(in->dtype));
}

sm_status sm_bench_model_run(const sm_model_kind *k, const sm_smw *f, const sm_bench_model_opts *o,
                             sm_bench_model_result *res, sm_error *err)
{
    void *m = NULL;
    sm_model_tensor in = {0};
    sm_model_outputs out = {0};
    sm_status st = k->load(f, o->pool, &m, err);
    if (!st)
        st = k->example(m, &in, err);
    if (st) {
        if (m)
            k->free(m);
        return st;
    }
    describe_input(&in, res->input, sizeof res->input);
    res->gflop = k->flops(m, &in) * 1e-9;
    size_t calls = k->bench_calls > 1 ? k->bench_calls : 1;
    res->calls_per_run = calls;
    WARM_UP(o, if (!st) st = k->run(m, &in, o->pool, &out, err));
    size_t f0 = sm_threadpool_fanouts(o->pool);
    for (size_t i = 0; i < o->iters && !st; i++) {
        double t0 = sm_clock_ms();
        for (size_t c = 0; c < calls && !st; c++)
            st = k->run(m, &in, o->pool, &out, err);
        res->ms[i] = (sm_clock_ms() - t0) / (double)calls;
    }
    res->fanouts = (double)(sm_threadpool_fanouts(o->pool) - f0) / (double)(o->iters * calls);
    if (!st && k->profile) {
        k->profile(m, true);
        for (size_t i = 0; i < o->iters && !st; i++)
            st = k->run(m, &in, o->pool, &out, err);
        const sm_layer_time *lt;
        size_t n = k->layer_times(m, &lt);
        print_layers(k->arch, lt, n, o->threads);
        k->profile(m, false);
    }
    if (!st && k == &sm_model_ultralight)
        st = ultralight_stream(m, &in, o, err);
    sm_model_outputs_free(&out);
    free(in.data);
    k->free(m);
    return st;
}

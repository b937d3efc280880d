/* The model-benchmark registry (see bench_models.h): one row per architecture.
 * Each runner loads the model on the given pool, warms up (WARM_UP), times
 * `iters` runs, then runs `iters` more with per-layer profiling switched on and
 * prints that table to stderr (stdout carries the summary or JSON line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_models.h"
#include "fatigue_mlp.h"
#include "emotion_effnet.h"
#include "face_mesh.h"
#include "rppg_ultralight.h"
#include "sm_graph.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* At least two runs and opts->warmup_ms of them before timing: a freshly loaded
 * model's first runs fault in its arena and weights and find cold caches, which a
 * persistent process (as the peers in bench-compare are) has long paid for. */
#define WARM_UP(opts, call)                                                                      \
    do {                                                                                         \
        double w0_ = now_ms();                                                                   \
        for (int n_ = 0; n_ < 2 || now_ms() - w0_ < (opts)->warmup_ms; n_++) {                   \
            call;                                                                                \
        }                                                                                        \
    } while (0)

/* The converted MediaPipe face networks through the graph executor (network
 * only: no letterbox/crop or decoding, which take well under 1 ms), on a fixed
 * pseudo-random input in the model's range. */
static sm_status bench_face_graph(const sm_smw *file, const char *path, const sm_bench_model_opts *opts,
                                  sm_bench_model_result *res, sm_error *err)
{
    (void)path;
    sm_graph *g;
    size_t nc;
    const sm_graph_custom_op *ops = sm_face_custom_ops(&nc);
    sm_status st = sm_graph_load(file, ops, nc, &g, err);
    if (st)
        return st;
    sm_graph_shape s = sm_graph_input_shape(g, 0);
    float *in = sm_graph_input(g, 0);
    uint32_t r = 12345;
    for (size_t i = 0; i < sm_graph_numel(s); i++) {
        r = r * 1664525u + 1013904223u;
        in[i] = (float)(r >> 8) / 16777216.0f; /* [0,1): valid for both models */
    }
    WARM_UP(opts, sm_graph_run(g, opts->pool));
    for (size_t i = 0; i < opts->iters; i++) {
        double t0 = now_ms();
        sm_graph_run(g, opts->pool);
        res->ms[i] = now_ms() - t0;
    }
    sm_graph_stats stats = sm_graph_get_stats(g);
    res->gflop = stats.gflop;
    snprintf(res->input, sizeof res->input, "1x%dx%dx%d", (int)s.dims[1], (int)s.dims[2], (int)s.dims[3]);
    sm_graph_free(g);
    return SM_OK;
}

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

static sm_status bench_emotion(const sm_smw *f, const char *path, const sm_bench_model_opts *o,
                               sm_bench_model_result *res, sm_error *err)
{
    (void)path;
    sm_emotion *m;
    sm_status st = sm_emotion_load(f, o->pool, &m, err);
    if (st)
        return st;
    size_t s = sm_emotion_input_size(m);
    float *x = malloc(s * s * 3 * sizeof(float));
    sm_emotion_output *out = malloc(sizeof *out);
    if (!x || !out) {
        free(x);
        free(out);
        sm_emotion_free(m);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s * s * 3; i++) /* smooth synthetic image in [0,1] */
        x[i] = 0.5f + 0.45f * (float)((i * 2654435761u >> 7) % 1000) / 1000.0f - 0.225f;
    snprintf(res->input, sizeof res->input, "1x%zux%zux3", s, s);
    res->gflop = sm_emotion_flops(m, s, s) * 1e-9;
    WARM_UP(o, if (!st) st = sm_emotion_run(m, x, s, s, out, err));
    for (size_t i = 0; i < o->iters && !st; i++) {
        double t0 = now_ms();
        st = sm_emotion_run(m, x, s, s, out, err);
        res->ms[i] = now_ms() - t0;
    }
    if (!st) {
        sm_emotion_profile(m, true);
        for (size_t i = 0; i < o->iters && !st; i++)
            st = sm_emotion_run(m, x, s, s, out, err);
        const sm_layer_time *lt;
        size_t n = sm_emotion_layer_times(m, &lt);
        print_layers("NovelEmotionModel", lt, n, o->threads);
    }
    free(x);
    free(out);
    sm_emotion_free(m);
    return st;
}

static sm_status bench_ultralight(const sm_smw *f, const char *path, const sm_bench_model_opts *o,
                                  sm_bench_model_result *res, sm_error *err)
{
    (void)path;
    sm_ultralight *m;
    sm_status st = sm_ultralight_load(f, o->pool, &m, err);
    if (st)
        return st;
    size_t s = sm_ultralight_input_size(m), t = sm_ultralight_frames(m), n = t * s * s * 3;
    float *x = malloc(n * sizeof(float)), bpm = 0;
    if (!x) {
        sm_ultralight_free(m);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u >> 9) % 1000) / 1000.0f;
    snprintf(res->input, sizeof res->input, "%zux%zux%zux3", t, s, s);
    res->gflop = sm_ultralight_flops(m, t) * 1e-9;
    WARM_UP(o, if (!st) st = sm_ultralight_run_nhwc(m, x, t, &bpm, err));
    for (size_t i = 0; i < o->iters && !st; i++) {
        double t0 = now_ms();
        st = sm_ultralight_run_nhwc(m, x, t, &bpm, err);
        res->ms[i] = now_ms() - t0;
    }
    if (!st) {
        sm_ultralight_profile(m, true);
        for (size_t i = 0; i < o->iters && !st; i++)
            st = sm_ultralight_run_nhwc(m, x, t, &bpm, err);
        const sm_layer_time *lt;
        size_t nl = sm_ultralight_layer_times(m, &lt);
        print_layers("UltraLightNet", lt, nl, o->threads);
        /* the live path: one new frame's features, then a reading over the ring */
        sm_ultralight_stream *sp;
        st = sm_ultralight_stream_init(m, t, &sp, err);
        for (size_t i = 0; i < t && !st; i++)
            sm_ultralight_stream_push(sp, m, x + i * s * s * 3);
        if (!st) {
            double t0 = now_ms();
            for (size_t i = 0; i < o->iters && !st; i++) {
                sm_ultralight_stream_push(sp, m, x + (i % t) * s * s * 3);
                st = sm_ultralight_stream_bpm(sp, m, &bpm, err);
            }
            fprintf(stderr, "  incremental: push 1 frame + reading over %zu frames: %.4f ms\n", t,
                    (now_ms() - t0) / (double)o->iters);
        }
        sm_ultralight_stream_free(sp);
    }
    free(x);
    sm_ultralight_free(m);
    return st;
}

/* One feature vector per call, as the mirror calls it each frame; each timed
 * run is the mean of a batch of calls because one call takes about a microsecond. */
static sm_status bench_fatigue_mlp(const sm_smw *f, const char *path, const sm_bench_model_opts *o,
                                   sm_bench_model_result *res, sm_error *err)
{
    (void)path;
    sm_fatigue_mlp *m;
    sm_status st = sm_fatigue_mlp_load(f, &m, err);
    if (st)
        return st;
    size_t nf = sm_fatigue_mlp_n_features(m), no = sm_fatigue_mlp_n_outputs(m);
    double x[64] = {0.28, 0.35, 0, 3.0, 1.1}, proba[64];
    if (nf > 64 || no > 64) {
        sm_fatigue_mlp_free(m);
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "fatigue MLP with %zu features / %zu outputs is beyond the bench's 64", nf, no);
    }
    snprintf(res->input, sizeof res->input, "1x%zu (float64)", nf);
    const sm_meta *nl = sm_smw_find_meta(f, "mlp.n_layers");
    double flops = 0;
    for (uint32_t i = 0; nl && nl->type == SM_META_U32 && i < nl->v.u32; i++) {
        char name[64];
        snprintf(name, sizeof name, "mlp.coefs_.%u", i);
        const sm_tensor_info *t = sm_smw_find_tensor(f, name);
        if (t && t->ndim == 2)
            flops += 2.0 * (double)t->dims[0] * (double)t->dims[1];
    }
    res->gflop = flops * 1e-9;
    enum { BATCH = 1000 };
    res->calls_per_run = BATCH;
    WARM_UP(o, sm_fatigue_mlp_predict_proba(m, x, 1, proba));
    for (size_t i = 0; i < o->iters; i++) {
        double t0 = now_ms();
        for (int k = 0; k < BATCH; k++)
            sm_fatigue_mlp_predict_proba(m, x, 1, proba);
        res->ms[i] = (now_ms() - t0) / BATCH;
    }
    sm_fatigue_mlp_free(m);
    return SM_OK;
}

const sm_bench_model_runner sm_bench_model_runners[] = {
    {"sklearn_mlp_pipeline", "fatigue StandardScaler + MLP, one feature vector (mean of 1000 calls)", bench_fatigue_mlp},
    {SM_EMOTION_ARCH, "NovelEmotionModel (EfficientNet-B3) at input.size", bench_emotion},
    {SM_ULTRALIGHT_ARCH, "UltraLightNet over input.frames frames", bench_ultralight},
    {SM_FACE_DETECTOR_ARCH, "BlazeFace short range 128x128 (network)", bench_face_graph},
    {SM_FACE_MESH_ARCH, "FaceMesh 468 192x192 (network)", bench_face_graph},
    {SM_FACE_MESH_ATTENTION_ARCH, "FaceMesh with attention 478 192x192 (network)", bench_face_graph},
    {NULL, NULL, NULL},
};
const size_t sm_bench_model_runner_count = sizeof sm_bench_model_runners / sizeof sm_bench_model_runners[0] - 1;

const sm_bench_model_runner *sm_bench_model_find(const char *arch, size_t len)
{
    for (size_t i = 0; i < sm_bench_model_runner_count; i++)
        if (strlen(sm_bench_model_runners[i].arch) == len &&
            memcmp(sm_bench_model_runners[i].arch, arch, len) == 0)
            return &sm_bench_model_runners[i];
    return NULL;
}

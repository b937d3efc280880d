/* The model-benchmark registry (see bench_models.h). Each model helper adds
 * {arch, description, run} here. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_models.h"
#include "face_mesh.h"
#include "tflite_graph.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The converted MediaPipe face networks through the graph executor (network
 * only: no letterbox/crop or decoding, which take well under 1 ms), on a fixed
 * pseudo-random input in the model's range. */
static sm_status bench_face_graph(const sm_smw *file, const char *path, const sm_bench_model_opts *opts,
                                  sm_bench_model_result *res, sm_error *err)
{
    (void)path;
    sm_tfg *g;
    size_t nc;
    const sm_tfg_custom_op *ops = sm_face_custom_ops(&nc);
    sm_status st = sm_tfg_load(file, ops, nc, &g, err);
    if (st)
        return st;
    sm_tfg_shape s = sm_tfg_input_shape(g, 0);
    float *in = sm_tfg_input(g, 0);
    uint32_t r = 12345;
    for (size_t i = 0; i < sm_tfg_numel(s); i++) {
        r = r * 1664525u + 1013904223u;
        in[i] = (float)(r >> 8) / 16777216.0f; /* [0,1): valid for both models */
    }
    sm_tfg_run(g, opts->pool); /* warm-up */
    for (size_t i = 0; i < opts->iters; i++) {
        double t0 = now_ms();
        sm_tfg_run(g, opts->pool);
        res->ms[i] = now_ms() - t0;
    }
    sm_tfg_stats stats = sm_tfg_get_stats(g);
    res->gflop = stats.gflop;
    snprintf(res->input, sizeof res->input, "1x%dx%dx%d", (int)s.dims[1], (int)s.dims[2], (int)s.dims[3]);
    sm_tfg_free(g);
    return SM_OK;
}

const sm_bench_model_runner sm_bench_model_runners[] = {
    /* {"efficientnet_b3_emotion", "NovelEmotionModel 300x300", bench_emotion_run}, */
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

/* UltraLightNet (the seed's rPPG regressor); see rppg_ultralight.h. */
#include "rppg_ultralight.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_load.h"
#include "sm_image.h"
#include "sm_kernels.h"

#define C1 16
#define C2 32
#define POOLED 3 /* 3x3 after the second pool */
#define CHUNK 64 /* frames whose features are held at once by the full path */
#define BATCH 4  /* frames per conv call: lets the conv's pixel blocks run across frames */
#define MAX_THREADS 64
#define N_PROF 8

/* Per-thread ops and scratch: the conv ops own scratch, so each thread that
 * processes frames has its own copies. The convs' inputs live in zero-bordered
 * buffers (pad0, pad3) whose borders are written once, so the convs read their
 * windows in place (sm_conv2d_run_windows) with no gather and no bounds checks.
 * The convs compute their output pixels grouped by pooling window (win0, win3),
 * so each max pool is a max over consecutive rows, and pixels that a pool drops
 * (odd sizes) are never computed. */
typedef struct {
    sm_conv2d *conv0, *conv3;
    sm_maxpool *pool2, *pool3;        /* 1x4 stride 4 and 1x9 stride 9 over the grouped rows */
    float *pad0, *a, *b, *pad3, *c, *d; /* BATCH x: padded input, conv.0 (grouped by 2x2);
                                           pool2; BATCH x: padded pool2, conv.3 (grouped by
                                           3x3); pool3 */
    double op_ms[4];            /* profiling: time in each per-frame op */
} ul_worker;

struct sm_ultralight {
    sm_threadpool *pool;
    uint32_t size, frames;
    float mean[3], std[3];
    size_t h1, h2, h3; /* 18, 9, 3 for size 36 */
    size_t p0, p3;     /* padded sides of conv.0's and conv.3's inputs: size + 4, h2 + 2 */
    size_t *win0, *win3; /* window origins: h2*h2 groups of 2x2, POOLED^2 groups of 3x3 */
    size_t n_workers;
    ul_worker w[MAX_THREADS];
    sm_dense *fc0, *fc3, *fc5;
    float *feats; /* CHUNK x 288 */
    float mean_feat[SM_ULTRALIGHT_FEATURES], h64[64], h32[32];

    sm_layer_prof prof;
    sm_layer_time prof_rec[N_PROF];
};

struct sm_ultralight_stream {
    size_t window, count, head; /* head: where the next frame goes */
    float *ring;                /* window x 288 */
};

/* ---- loading ------------------------------------------------------------------ */

void sm_ultralight_free(sm_ultralight *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < MAX_THREADS; i++) {
        ul_worker *w = &m->w[i];
        sm_conv2d_free(w->conv0);
        sm_conv2d_free(w->conv3);
        sm_aligned_free(w->pad0);
        sm_aligned_free(w->a);
        sm_aligned_free(w->b);
        sm_aligned_free(w->d);
        sm_maxpool_free(w->pool2);
        sm_maxpool_free(w->pool3);
        sm_aligned_free(w->pad3);
        sm_aligned_free(w->c);
    }
    sm_dense_free(m->fc0);
    sm_dense_free(m->fc3);
    sm_dense_free(m->fc5);
    sm_aligned_free(m->feats);
    free(m->win0);
    free(m->win3);
    free(m);
}

static sm_status load_meta(sm_ultralight *m, const sm_smw *f, sm_error *err)
{
    /* fc.0 takes 32 x 3 x 3 = 288 features: only sizes that pool down to 3x3 fit (checked below) */
    sm_status st = sm_model_meta_u32(f, "input.size", 36, 1, 1024, &m->size, err);
    if (!st)
        st = sm_model_meta_u32(f, "input.frames", 180, 1, SM_ULTRALIGHT_MAX_FRAMES, &m->frames, err);
    if (!st)
        st = sm_model_input_norm(f, m->mean, m->std, err);
    if (st)
        return st;
    m->h1 = (m->size - 1) / 2 + 1; /* k5 s2 p2 */
    m->h2 = m->h1 / 2;
    m->h3 = m->h2 / 3;
    m->p0 = m->size + 4;
    m->p3 = m->h2 + 2;
    if (m->h3 != POOLED)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'input.size' %u gives %zux%zu after the pools, "
                            "fc.0 needs 3x3 (input.size 34..39)", f->path, m->size, m->h3, m->h3);
    return SM_OK;
}

static sm_status prep_worker(ul_worker *w, const sm_ultralight *m, const sm_conv_desc *conv0,
                             const sm_conv_desc *conv3, const char *path, sm_error *err)
{
    sm_status st = sm_conv2d_prepare(conv0, &w->conv0, err);
    if (!st)
        st = sm_conv2d_prepare(conv3, &w->conv3, err);
    if (!st)
        st = sm_maxpool_prepare(1, 4, 1, 4, sm_padding_valid(), &w->pool2, err);
    if (!st)
        st = sm_maxpool_prepare(1, 9, 1, 9, sm_padding_valid(), &w->pool3, err);
    if (st)
        return st;
    size_t pad0_floats = BATCH * m->p0 * m->p0 * 3, pad3_floats = BATCH * m->p3 * m->p3 * C1;
    w->pad0 = sm_aligned_alloc(pad0_floats * sizeof(float));
    w->a = sm_aligned_alloc(BATCH * m->h2 * m->h2 * 4 * C1 * sizeof(float));
    w->b = sm_aligned_alloc(m->h2 * m->h2 * C1 * sizeof(float));
    w->pad3 = sm_aligned_alloc(pad3_floats * sizeof(float));
    w->c = sm_aligned_alloc(BATCH * POOLED * POOLED * 9 * C2 * sizeof(float));
    w->d = sm_aligned_alloc(POOLED * POOLED * C2 * sizeof(float));
    if (!w->pad0 || !w->a || !w->b || !w->pad3 || !w->c || !w->d)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    memset(w->pad0, 0, pad0_floats * sizeof(float));
    memset(w->pad3, 0, pad3_floats * sizeof(float));
    return SM_OK;
}

/* Window origins of the conv outputs the pools read, grouped by pooling window:
 * conv.0 (k5 s2 on the p0-wide input) 2x2 groups in raster order of the pooled
 * map, conv.3 (k3 s1 on the p3-wide input) 3x3 groups likewise. */
static sm_status make_windows(sm_ultralight *m, const char *path, sm_error *err)
{
    m->win0 = malloc(m->h2 * m->h2 * 4 * sizeof *m->win0);
    m->win3 = malloc(POOLED * POOLED * 9 * sizeof *m->win3);
    if (!m->win0 || !m->win3)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    size_t *w = m->win0;
    for (size_t py = 0; py < m->h2; py++)
        for (size_t px = 0; px < m->h2; px++)
            for (size_t d = 0; d < 4; d++) {
                size_t oy = 2 * py + d / 2, ox = 2 * px + d % 2;
                *w++ = (oy * 2 * m->p0 + ox * 2) * 3;
            }
    w = m->win3;
    for (size_t qy = 0; qy < POOLED; qy++)
        for (size_t qx = 0; qx < POOLED; qx++)
            for (size_t d = 0; d < 9; d++) {
                size_t oy = 3 * qy + d / 3, ox = 3 * qx + d % 3;
                *w++ = (oy * m->p3 + ox) * C1;
            }
    return SM_OK;
}

sm_status sm_ultralight_load(const sm_smw *f, sm_threadpool *pool, sm_ultralight **out, sm_error *err)
{
    const float *f0, *g0, *f3, *g3, *f5, *g5;
    sm_conv_desc c0, c3;
    void *mem = NULL;
    sm_status st = sm_model_new(f, SM_ULTRALIGHT_ARCH, sizeof(sm_ultralight), &mem, err);
    sm_ultralight *m = mem;
    *out = NULL;
    if (!st) st = sm_model_conv(f, "conv.0.weight", "conv.0.bias", false, 3, C1, 5, 2, SM_ACT_RELU, &c0, err);
    if (!st) st = sm_model_conv(f, "conv.3.weight", "conv.3.bias", false, C1, C2, 3, 1, SM_ACT_RELU, &c3, err);
    if (!st) st = sm_model_f32(f, "fc.0.weight", 2, 64, SM_ULTRALIGHT_FEATURES, 0, 0, &f0, err);
    if (!st) st = sm_model_f32(f, "fc.0.bias", 1, 64, 0, 0, 0, &g0, err);
    if (!st) st = sm_model_f32(f, "fc.3.weight", 2, 32, 64, 0, 0, &f3, err);
    if (!st) st = sm_model_f32(f, "fc.3.bias", 1, 32, 0, 0, 0, &g3, err);
    if (!st) st = sm_model_f32(f, "fc.5.weight", 2, 1, 32, 0, 0, &f5, err);
    if (!st) st = sm_model_f32(f, "fc.5.bias", 1, 1, 0, 0, 0, &g5, err);
    if (st) {
        free(m);
        return st;
    }
    c0.name = "conv.0";
    c3.name = "conv.3";
    m->pool = pool;
    sm_layer_prof_init(&m->prof, m->prof_rec, N_PROF);
    st = load_meta(m, f, err);
    size_t nt = sm_threadpool_size(pool);
    m->n_workers = nt <= MAX_THREADS ? nt : 1; /* thread indexes a worker */
    for (size_t i = 0; i < m->n_workers && !st; i++)
        st = prep_worker(&m->w[i], m, &c0, &c3, f->path, err);
    sm_dense_desc d0 = {.in_features = SM_ULTRALIGHT_FEATURES, .out_features = 64, .layout = SM_DENSE_OI,
                          .weights = f0, .bias = g0, .act = SM_ACT_RELU, .name = "fc.0"};
    sm_dense_desc d3 = {.in_features = 64, .out_features = 32, .layout = SM_DENSE_OI,
                          .weights = f3, .bias = g3, .act = SM_ACT_RELU, .name = "fc.3"};
    sm_dense_desc d5 = {.in_features = 32, .out_features = 1, .layout = SM_DENSE_OI,
                          .weights = f5, .bias = g5, .act = SM_ACT_NONE, .name = "fc.5"};
    if (!st)
        st = sm_dense_prepare(&d0, &m->fc0, err);
    if (!st)
        st = sm_dense_prepare(&d3, &m->fc3, err);
    if (!st)
        st = sm_dense_prepare(&d5, &m->fc5, err);
    if (!st)
        st = make_windows(m, f->path, err);
    if (!st && !(m->feats = sm_aligned_alloc((size_t)CHUNK * SM_ULTRALIGHT_FEATURES * sizeof(float))))
        st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    if (st) {
        sm_ultralight_free(m);
        return st;
    }
    *out = m;
    return SM_OK;
}

SM_MODEL_DEFINE_LOAD_FILE(sm_ultralight, sm_ultralight)

uint32_t sm_ultralight_input_size(const sm_ultralight *m) { return m->size; }
uint32_t sm_ultralight_frames(const sm_ultralight *m) { return m->frames; }

/* ---- profiling ------------------------------------------------------------------- */

void sm_ultralight_profile(sm_ultralight *m, bool enable)
{
    sm_layer_prof_enable(&m->prof, enable);
}

size_t sm_ultralight_layer_times(const sm_ultralight *m, const sm_layer_time **out)
{
    return sm_layer_prof_records(&m->prof, out);
}

static double frame_flops(const sm_ultralight *m)
{
    return 2.0 * m->h1 * m->h1 * C1 * 3 * 25 + 2.0 * m->h2 * m->h2 * C2 * C1 * 9;
}

double sm_ultralight_flops(const sm_ultralight *m, size_t t)
{
    return frame_flops(m) * (double)t + (double)t * SM_ULTRALIGHT_FEATURES +
           2.0 * (SM_ULTRALIGHT_FEATURES * 64 + 64 * 32 + 32);
}

/* ---- per-frame features ------------------------------------------------------------ */

/* Frame i (NHWC, or NCHW when nchw) into the interior of its padded conv.0 input. */
static void fill_pad0(const sm_ultralight *m, ul_worker *w, size_t i, const float *src, bool nchw)
{
    size_t S = m->size, P = m->p0;
    float *dst = w->pad0 + i * P * P * 3 + (2 * P + 2) * 3;
    for (size_t y = 0; y < S; y++) {
        float *row = dst + y * P * 3;
        if (!nchw) {
            memcpy(row, src + y * S * 3, S * 3 * sizeof(float));
            continue;
        }
        for (size_t x = 0; x < S; x++)
            for (size_t c = 0; c < 3; c++)
                row[x * 3 + c] = src[(c * S + y) * S + x];
    }
}

/* n <= BATCH frames (frame i at frames + i*S*S*3) -> feat rows of 288 in C,H,W order
 * (PyTorch's flatten). */
static void worker_features(const sm_ultralight *m, ul_worker *w, const float *frames, size_t n, bool nchw,
                            float *feat)
{
    size_t S = m->size, h2 = m->h2, P3 = m->p3, g0 = h2 * h2 * 4, g3 = POOLED * POOLED * 9;
    bool prof = m->prof.on;
    double t0 = prof ? sm_clock_ms() : 0, t1 = 0, t2 = 0, t3 = 0;
    for (size_t i = 0; i < n; i++)
        fill_pad0(m, w, i, frames + i * S * S * 3, nchw);
    sm_conv2d_run_windows(w->conv0, w->pad0, n, m->p0 * m->p0 * 3, m->win0, g0, m->p0 * 3, w->a, NULL);
    if (prof)
        t1 = sm_clock_ms();
    for (size_t i = 0; i < n; i++) {
        sm_maxpool_run(w->pool2, w->a + i * g0 * C1, 1, g0, C1, w->b, NULL);
        float *dst = w->pad3 + i * P3 * P3 * C1 + (P3 + 1) * C1;
        for (size_t y = 0; y < h2; y++)
            memcpy(dst + y * P3 * C1, w->b + y * h2 * C1, h2 * C1 * sizeof(float));
    }
    if (prof)
        t2 = sm_clock_ms();
    sm_conv2d_run_windows(w->conv3, w->pad3, n, P3 * P3 * C1, m->win3, g3, P3 * C1, w->c, NULL);
    if (prof)
        t3 = sm_clock_ms();
    for (size_t i = 0; i < n; i++) {
        float *f = feat + i * SM_ULTRALIGHT_FEATURES;
        sm_maxpool_run(w->pool3, w->c + i * g3 * C2, 1, g3, C2, w->d, NULL);
        for (size_t q = 0; q < POOLED * POOLED; q++)
            for (size_t c = 0; c < C2; c++)
                f[c * POOLED * POOLED + q] = w->d[q * C2 + c];
    }
    if (prof) {
        double t4 = sm_clock_ms();
        w->op_ms[0] += t1 - t0;
        w->op_ms[1] += t2 - t1;
        w->op_ms[2] += t3 - t2;
        w->op_ms[3] += t4 - t3;
    }
}

typedef struct {
    sm_ultralight *m;
    const float *frames; /* first frame of the chunk */
    bool nchw;
    size_t n, n_tasks;
} feat_ctx;

static void feat_task(void *vctx, size_t task, size_t thread)
{
    const feat_ctx *x = vctx;
    const sm_ultralight *m = x->m;
    ul_worker *w = &x->m->w[thread];
    size_t fs = (size_t)m->size * m->size * 3, b = x->n * task / x->n_tasks, e = x->n * (task + 1) / x->n_tasks;
    for (size_t i = b; i < e; i += BATCH) {
        size_t n = e - i < BATCH ? e - i : BATCH;
        worker_features(m, w, x->frames + i * fs, n, x->nchw, m->feats + i * SM_ULTRALIGHT_FEATURES);
    }
}

/* fc head on m->mean_feat. */
static float fc_head(sm_ultralight *m)
{
    float bpm;
    sm_dense_run(m->fc0, m->mean_feat, 1, NULL, m->h64, NULL);
    sm_dense_run(m->fc3, m->h64, 1, NULL, m->h32, NULL);
    sm_dense_run(m->fc5, m->h32, 1, NULL, &bpm, NULL);
    return bpm;
}

/* Mean of t feature rows given oldest first, summed in double in that order. */
static void add_rows(double *acc, const float *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < SM_ULTRALIGHT_FEATURES; k++)
            acc[k] += rows[i * SM_ULTRALIGHT_FEATURES + k];
}

static sm_status run_frames(sm_ultralight *m, const float *frames, size_t t, bool nchw, float *bpm,
                            sm_error *err)
{
    if (!frames || !bpm || t == 0)
        return sm_error_set(err, SM_ERR_ARG, "ultralight: %s", t == 0 ? "no frames (T must be >= 1)"
                                                                      : "NULL frames or output");
    size_t fs = (size_t)m->size * m->size * 3;
    double acc[SM_ULTRALIGHT_FEATURES] = {0};
    sm_layer_prof_begin(&m->prof);
    for (size_t f0 = 0; f0 < t; f0 += CHUNK) {
        size_t n = t - f0 < CHUNK ? t - f0 : CHUNK;
        size_t tasks = sm_parallel_tasks(m->pool, n, m->n_workers, frame_flops(m) * (double)n, SM_PAR_GRAIN_FLOPS);
        feat_ctx x = {m, frames + f0 * fs, nchw, n, tasks};
        if (tasks > 1)
            sm_threadpool_run(m->pool, tasks, feat_task, &x);
        else
            feat_task(&x, 0, 0);
        add_rows(acc, m->feats, n);
    }
    sm_layer_prof_lap(&m->prof, "frames", "all frames (wall)", frame_flops(m) * (double)t, POOLED, POOLED, C2);
    if (m->prof.on) { /* per-op CPU time summed over the workers; not part of the wall total */
        static const char *const names[4] = {"conv.0+relu", "maxpool2", "conv.3+relu", "maxpool3+flatten"};
        double fl[4] = {2.0 * m->h1 * m->h1 * C1 * 3 * 25, (double)m->h1 * m->h1 * C1,
                        2.0 * m->h2 * m->h2 * C2 * C1 * 9, (double)m->h2 * m->h2 * C2};
        size_t hw[4] = {m->h1, m->h2, m->h2, m->h3}, ch[4] = {C1, C1, C2, C2};
        for (int k = 0; k < 4; k++) {
            double ms = 0;
            for (size_t i = 0; i < m->n_workers; i++) {
                ms += m->w[i].op_ms[k];
                m->w[i].op_ms[k] = 0;
            }
            sm_layer_prof_add(&m->prof, "per frame (cpu)", names[k], ms, fl[k] * (double)t, hw[k], hw[k], ch[k]);
        }
        sm_layer_prof_mark(&m->prof);
    }
    for (size_t k = 0; k < SM_ULTRALIGHT_FEATURES; k++)
        m->mean_feat[k] = (float)(acc[k] / (double)t);
    sm_layer_prof_lap(&m->prof, "mean", "mean over T", (double)t * SM_ULTRALIGHT_FEATURES, 1, 1,
                      SM_ULTRALIGHT_FEATURES);
    *bpm = fc_head(m);
    sm_layer_prof_lap(&m->prof, "fc", "fc.0+relu, fc.3+relu, fc.5",
                      2.0 * (SM_ULTRALIGHT_FEATURES * 64 + 64 * 32 + 32), 1, 1, 1);
    return SM_OK;
}

sm_status sm_ultralight_run_nhwc(sm_ultralight *m, const float *frames, size_t t, float *bpm, sm_error *err)
{
    return run_frames(m, frames, t, false, bpm, err);
}

sm_status sm_ultralight_run_nchw(sm_ultralight *m, const float *frames, size_t t, float *bpm, sm_error *err)
{
    return run_frames(m, frames, t, true, bpm, err);
}

sm_status sm_ultralight_net_fn(void *ctx, const float *frames, int n_frames, float *bpm, sm_error *err)
{
    if (n_frames < 1)
        return sm_error_set(err, SM_ERR_ARG, "ultralight: %d frames", n_frames);
    return run_frames(ctx, frames, (size_t)n_frames, false, bpm, err);
}

/* ---- incremental stream -------------------------------------------------------------- */

sm_status sm_ultralight_stream_init(const sm_ultralight *m, size_t window, sm_ultralight_stream **out,
                                    sm_error *err)
{
    *out = NULL;
    if (window == 0)
        window = m->frames;
    if (window > SM_ULTRALIGHT_MAX_FRAMES)
        return sm_error_set(err, SM_ERR_ARG, "ultralight stream: window %zu above %d", window,
                            SM_ULTRALIGHT_MAX_FRAMES);
    sm_ultralight_stream *s = calloc(1, sizeof *s);
    if (s)
        s->ring = sm_aligned_alloc(window * SM_ULTRALIGHT_FEATURES * sizeof(float));
    if (!s || !s->ring) {
        free(s);
        return sm_error_set(err, SM_ERR_NOMEM, "ultralight stream: out of memory");
    }
    s->window = window;
    *out = s;
    return SM_OK;
}

void sm_ultralight_stream_free(sm_ultralight_stream *s)
{
    if (!s)
        return;
    sm_aligned_free(s->ring);
    free(s);
}

void sm_ultralight_stream_reset(sm_ultralight_stream *s)
{
    s->count = 0;
    s->head = 0;
}

void sm_ultralight_stream_push(sm_ultralight_stream *s, sm_ultralight *m, const float *frame)
{
    worker_features(m, &m->w[0], frame, 1, false, s->ring + s->head * SM_ULTRALIGHT_FEATURES);
    s->head = (s->head + 1) % s->window;
    if (s->count < s->window)
        s->count++;
}

size_t sm_ultralight_stream_count(const sm_ultralight_stream *s) { return s->count; }

sm_status sm_ultralight_stream_bpm(const sm_ultralight_stream *s, sm_ultralight *m, float *bpm, sm_error *err)
{
    if (s->count == 0)
        return sm_error_set(err, SM_ERR_ARG, "ultralight stream: no frames yet");
    double acc[SM_ULTRALIGHT_FEATURES] = {0};
    size_t oldest = (s->head + s->window - s->count) % s->window;
    size_t first = s->window - oldest < s->count ? s->window - oldest : s->count;
    add_rows(acc, s->ring + oldest * SM_ULTRALIGHT_FEATURES, first);
    add_rows(acc, s->ring, s->count - first);
    for (size_t k = 0; k < SM_ULTRALIGHT_FEATURES; k++)
        m->mean_feat[k] = (float)(acc[k] / (double)s->count);
    *bpm = fc_head(m);
    return SM_OK;
}

void sm_ultralight_preprocess(const sm_ultralight *m, const uint8_t *rgb, int width, int height, size_t stride,
                              float *out)
{
    int size = width < height ? width : height;
    if (!rgb || size <= 0 || stride < (size_t)width * 3) {
        memset(out, 0, (size_t)m->size * m->size * 3 * sizeof(float));
        return;
    }
    /* app.py: the centre square, cv2.resize (uint8), then x/255 and the metadata's mean/std */
    const int S = (int)m->size;
    sm_image_resize_bilinear_u8_norm(rgb + (size_t)((height - size) / 2) * stride + (size_t)((width - size) / 2) * 3,
                                     size, size, stride, out, S, S, (size_t)S * 3, 3, m->mean, m->std);
}

/* The model registry: one entry per network kind; see model_registry.h. */
#include "model_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotion_effnet.h"
#include "face_detector.h"
#include "face_mesh.h"
#include "fatigue_mlp.h"
#include "rppg_ultralight.h"
#include "sm_graph.h"

/* ---- tensors and outputs ------------------------------------------------------ */

size_t sm_model_tensor_numel(const sm_model_tensor *t)
{
    size_t n = 1;
    for (uint32_t i = 0; i < t->ndim; i++)
        n *= (size_t)t->dims[i];
    return n;
}

void *sm_model_output(sm_model_outputs *out, const char *name, sm_dtype dtype, uint32_t ndim,
                      const uint64_t *dims, sm_error *err)
{
    int k = 0;
    while (k < out->n && strcmp(out->name[k], name))
        k++;
    if (k == SM_MODEL_MAX_OUTPUTS) {
        sm_error_set(err, SM_ERR_UNSUPPORTED, "output '%s': more than %d outputs", name, SM_MODEL_MAX_OUTPUTS);
        return NULL;
    }
    sm_model_tensor *t = &out->t[k];
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->dims, dims, ndim * sizeof *dims);
    size_t bytes = sm_model_tensor_numel(t) * sm_dtype_size(dtype);
    if (bytes > out->cap[k] || !t->data) {
        void *d = realloc(t->data, bytes ? bytes : 1);
        if (!d) {
            sm_error_set(err, SM_ERR_NOMEM, "output '%s': out of memory", name);
            return NULL;
        }
        t->data = d;
        out->cap[k] = bytes;
    }
    if (k == out->n) {
        snprintf(out->name[k], sizeof out->name[k], "%s", name);
        out->n++;
    }
    return t->data;
}

void sm_model_outputs_free(sm_model_outputs *out)
{
    if (!out)
        return;
    for (int k = 0; k < SM_MODEL_MAX_OUTPUTS; k++)
        free(out->t[k].data);
    memset(out, 0, sizeof *out);
}

/* A deterministic pseudo-random example in [lo, hi): smooth enough to be a
 * plausible input, the same on every run and machine. */
static sm_status example_f32(sm_model_tensor *in, uint32_t ndim, const uint64_t *dims, float lo, float hi,
                             sm_error *err)
{
    in->dtype = SM_DTYPE_F32;
    in->ndim = ndim;
    memcpy(in->dims, dims, ndim * sizeof *dims);
    size_t n = sm_model_tensor_numel(in);
    float *x = malloc(n * sizeof(float));
    if (!(in->data = x))
        return sm_error_set(err, SM_ERR_NOMEM, "example input: out of memory");
    uint32_t r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(r >> 8) / 16777216.0f;
    }
    return SM_OK;
}

/* ---- NovelEmotionModel --------------------------------------------------------- */

static sm_status emo_load(const sm_smw *f, sm_threadpool *pool, void **m, sm_error *err)
{
    sm_emotion *e;
    sm_status st = sm_emotion_load(f, pool, &e, err);
    *m = e;
    return st;
}

static void emo_free(void *m) { sm_emotion_free(m); }

static sm_status emo_run(void *model, const sm_model_tensor *in, sm_threadpool *pool, sm_model_outputs *out,
                         sm_error *err)
{
    (void)pool; /* the model runs on the pool it was loaded with */
    sm_emotion *m = model;
    size_t h = (size_t)in->dims[1], w = (size_t)in->dims[2];
    if (h > SM_EMOTION_MAX_INPUT || w > SM_EMOTION_MAX_INPUT)
        return sm_error_set(err, SM_ERR_SHAPE, "input %zux%zu, at most %d on each side", h, w,
                            SM_EMOTION_MAX_INPUT);
    sm_emotion_output o;
    sm_status st = sm_emotion_reserve(m, h, w, err);
    if (!st)
        st = sm_emotion_run(m, in->data, h, w, &o, err);
    if (st)
        return st;
    uint64_t nc = (uint64_t)o.n_classes;
    const uint64_t d_cls[2] = {1, nc}, d_one[2] = {1, 1}, d_gate[2] = {1, 2}, d_feat[2] = {1, SM_EMOTION_FEATURES};
    const struct {
        const char *name;
        const float *v;
        const uint64_t *dims;
    } outs[6] = {{"logits", o.logits, d_cls}, {"probs", o.probs, d_cls},   {"valence", &o.valence, d_one},
                 {"arousal", &o.arousal, d_one}, {"gate", o.gate, d_gate}, {"features", o.features, d_feat}};
    for (int i = 0; i < 6; i++) {
        float *d = sm_model_output(out, outs[i].name, SM_DTYPE_F32, 2, outs[i].dims, err);
        if (!d)
            return SM_ERR_NOMEM;
        memcpy(d, outs[i].v, (size_t)outs[i].dims[1] * sizeof(float));
    }
    return SM_OK;
}

static double emo_flops(const void *m, const sm_model_tensor *in)
{
    return sm_emotion_flops(m, (size_t)in->dims[1], (size_t)in->dims[2]);
}

static sm_status emo_example(const void *m, sm_model_tensor *in, sm_error *err)
{
    uint64_t s = sm_emotion_input_size(m), dims[4] = {1, s, s, 3};
    return example_f32(in, 4, dims, 0.0f, 1.0f, err);
}

static void emo_profile(void *m, bool on) { sm_emotion_profile(m, on); }
static size_t emo_layers(const void *m, const sm_layer_time **out) { return sm_emotion_layer_times(m, out); }

const sm_model_kind sm_model_novel_emotion = {
    SM_EMOTION_ARCH,
    "NovelEmotionModel (EfficientNet-B3) at input.size",
    {4, {1, 3, -1, -1}, {SM_DTYPE_F32}, 1, true, "[1, 3, H, W] f4 NCHW RGB (the network input, [0,1])"},
    "logits [1,n], probs [1,n], valence [1,1], arousal [1,1], gate [1,2], features [1,1536] f4",
    emo_load, emo_free, emo_run, emo_flops, emo_example, NULL, emo_profile, emo_layers, 1, false,
};

/* ---- UltraLightNet -------------------------------------------------------------- */

static sm_status ul_load(const sm_smw *f, sm_threadpool *pool, void **m, sm_error *err)
{
    sm_ultralight *u;
    sm_status st = sm_ultralight_load(f, pool, &u, err);
    *m = u;
    return st;
}

static void ul_free(void *m) { sm_ultralight_free(m); }

static sm_status ul_run(void *model, const sm_model_tensor *in, sm_threadpool *pool, sm_model_outputs *out,
                        sm_error *err)
{
    (void)pool;
    sm_ultralight *m = model;
    size_t b = (size_t)in->dims[0], t = (size_t)in->dims[1];
    uint32_t size = sm_ultralight_input_size(m);
    if (in->dims[2] != size || in->dims[3] != size)
        return sm_error_set(err, SM_ERR_SHAPE, "frames are %llux%llu, the model takes %ux%u",
                            (unsigned long long)in->dims[2], (unsigned long long)in->dims[3], size, size);
    uint64_t dims[1] = {b};
    float *bpm = sm_model_output(out, "bpm", SM_DTYPE_F32, 1, dims, err);
    if (!bpm)
        return SM_ERR_NOMEM;
    sm_status st = SM_OK;
    for (size_t i = 0; i < b && !st; i++)
        st = sm_ultralight_run_nhwc(m, (const float *)in->data + i * t * size * size * 3, t, &bpm[i], err);
    return st;
}

static double ul_flops(const void *m, const sm_model_tensor *in)
{
    return sm_ultralight_flops(m, (size_t)in->dims[1]) * (double)in->dims[0];
}

static sm_status ul_example(const void *m, sm_model_tensor *in, sm_error *err)
{
    uint64_t s = sm_ultralight_input_size(m), dims[5] = {1, sm_ultralight_frames(m), s, s, 3};
    return example_f32(in, 5, dims, 0.0f, 1.0f, err);
}

static void ul_profile(void *m, bool on) { sm_ultralight_profile(m, on); }
static size_t ul_layers(const void *m, const sm_layer_time **out) { return sm_ultralight_layer_times(m, out); }

const sm_model_kind sm_model_ultralight = {
    SM_ULTRALIGHT_ARCH,
    "UltraLightNet over input.frames frames",
    {5, {-1, -1, 3, -1, -1}, {SM_DTYPE_F32}, 1, true, "[B, T, 3, 36, 36] f4 (frames RGB /255)"},
    "bpm [B] f4",
    ul_load, ul_free, ul_run, ul_flops, ul_example, NULL, ul_profile, ul_layers, 1, false,
};

/* ---- the fatigue MLP (scikit-learn pipeline) ----------------------------------- */

static sm_status mlp_load(const sm_smw *f, sm_threadpool *pool, void **m, sm_error *err)
{
    (void)pool; /* a few hundred multiply-adds: never worth a thread */
    sm_fatigue_mlp *p;
    sm_status st = sm_fatigue_mlp_load(f, &p, err);
    *m = p;
    return st;
}

static void mlp_free(void *m) { sm_fatigue_mlp_free(m); }

/* float32 rows are promoted exactly to float64, as sklearn computes on
 * x.astype(float64); converted in chunks so that no input size needs a copy. */
static sm_status mlp_run(void *model, const sm_model_tensor *in, sm_threadpool *pool, sm_model_outputs *out,
                         sm_error *err)
{
    (void)pool;
    sm_fatigue_mlp *m = model;
    uint32_t nf = sm_fatigue_mlp_n_features(m), no = sm_fatigue_mlp_n_outputs(m);
    size_t n = (size_t)in->dims[0];
    if (in->dims[1] != nf)
        return sm_error_set(err, SM_ERR_SHAPE, "input has %llu features per row, the model expects %u",
                            (unsigned long long)in->dims[1], nf);
    size_t cnt;
    if (!sm_size_mul(n, no, &cnt) || cnt > SIZE_MAX / 8)
        return sm_error_set(err, SM_ERR_SHAPE, "input too large");
    uint64_t dims[2] = {n, no};
    double *p = sm_model_output(out, "proba", SM_DTYPE_F64, 2, dims, err);
    if (!p)
        return SM_ERR_NOMEM;
    if (in->dtype == SM_DTYPE_F64) {
        sm_fatigue_mlp_predict_proba(m, in->data, n, p);
        return SM_OK;
    }
    size_t rows_max = nf >= 4096 ? 1 : 4096 / nf; /* a chunk of about 32 KiB */
    double *x = malloc(rows_max * nf * sizeof(double));
    if (!x)
        return sm_error_set(err, SM_ERR_NOMEM, "input rows: out of memory");
    const float *src = in->data;
    for (size_t r0 = 0; r0 < n; r0 += rows_max) {
        size_t rows = n - r0 < rows_max ? n - r0 : rows_max;
        for (size_t i = 0; i < rows * nf; i++)
            x[i] = (double)src[r0 * nf + i];
        sm_fatigue_mlp_predict_proba(m, x, rows, p + r0 * no);
    }
    free(x);
    return SM_OK;
}

static double mlp_flops(const void *m, const sm_model_tensor *in)
{
    return sm_fatigue_mlp_flops(m) * (double)in->dims[0];
}

/* One feature vector, as the mirror calls it each frame. */
static sm_status mlp_example(const void *model, sm_model_tensor *in, sm_error *err)
{
    static const double seed_row[5] = {0.28, 0.35, 0, 3.0, 1.1}; /* EAR, MAR, yawn, tilt, pitch */
    uint32_t nf = sm_fatigue_mlp_n_features(model);
    double *x = calloc(nf, sizeof(double));
    if (!x)
        return sm_error_set(err, SM_ERR_NOMEM, "example input: out of memory");
    for (uint32_t i = 0; i < nf && i < 5; i++)
        x[i] = seed_row[i];
    *in = (sm_model_tensor){SM_DTYPE_F64, 2, {1, nf}, x};
    return SM_OK;
}

const sm_model_kind sm_model_fatigue_mlp = {
    SM_FATIGUE_MLP_ARCH,
    "fatigue StandardScaler + MLP, one feature vector (mean of 1000 calls)",
    {2, {-1, -1}, {SM_DTYPE_F64, SM_DTYPE_F32}, 2, false, "[n, n_features] (scikit-learn rows)"},
    "proba [n, n_classes] f64 (= predict_proba)",
    mlp_load, mlp_free, mlp_run, mlp_flops, mlp_example, NULL, NULL, NULL, 1000, false,
};

/* ---- graph models (converted TFLite and TF.js graphs) --------------------------- */

/* The network alone, no pre/post-processing: [1,H,W,C] NHWC in, every graph
 * output by its name. The MediaPipe custom ops are offered to every graph;
 * a graph without them never calls them. */
static sm_status graph_load(const sm_smw *f, sm_threadpool *pool, void **m, sm_error *err)
{
    (void)pool;
    size_t nc;
    const sm_graph_custom_op *ops = sm_face_custom_ops(&nc);
    sm_graph *g;
    sm_status st = sm_graph_load(f, ops, nc, &g, err);
    *m = st ? NULL : g;
    return st;
}

static void graph_free(void *m) { sm_graph_free(m); }

static sm_status graph_run(void *model, const sm_model_tensor *in, sm_threadpool *pool, sm_model_outputs *out,
                           sm_error *err)
{
    sm_graph *g = model;
    sm_graph_shape is = sm_graph_input_shape(g, 0);
    bool ok = sm_graph_n_inputs(g) == 1 && is.ndim == in->ndim;
    for (uint32_t i = 0; ok && i < is.ndim; i++)
        ok = (uint64_t)is.dims[i] == in->dims[i];
    if (!ok)
        return sm_error_set(err, SM_ERR_SHAPE, "the model's input is [1,%d,%d,%d] (NHWC float32)",
                            is.ndim == 4 ? (int)is.dims[1] : 0, is.ndim == 4 ? (int)is.dims[2] : 0,
                            is.ndim == 4 ? (int)is.dims[3] : 0);
    if (in->data != sm_graph_input(g, 0))
        memcpy(sm_graph_input(g, 0), in->data, sm_model_tensor_numel(in) * sizeof(float));
    sm_graph_run(g, pool);
    for (size_t k = 0; k < sm_graph_n_outputs(g); k++) {
        sm_graph_shape os = sm_graph_output_shape(g, k);
        uint64_t dims[SM_MODEL_MAX_DIMS];
        if (os.ndim > SM_MODEL_MAX_DIMS)
            return sm_error_set(err, SM_ERR_SHAPE, "output '%s' has rank %u", sm_graph_output_name(g, k), os.ndim);
        for (uint32_t i = 0; i < os.ndim; i++)
            dims[i] = (uint64_t)os.dims[i];
        float *o = sm_model_output(out, sm_graph_output_name(g, k), SM_DTYPE_F32, os.ndim, dims, err);
        if (!o)
            return SM_ERR_NOMEM;
        memcpy(o, sm_graph_output(g, k), sm_graph_numel(os) * sizeof(float));
    }
    return SM_OK;
}

static void *graph_input(void *m) { return sm_graph_input(m, 0); }

static double graph_flops(const void *m, const sm_model_tensor *in)
{
    (void)in; /* fixed input size */
    return sm_graph_get_stats(m).gflop * 1e9;
}

/* [0, 1): inside the range of every graph's input (the detector's is [-1, 1]). */
static sm_status graph_example(const void *m, sm_model_tensor *in, sm_error *err)
{
    sm_graph_shape s = sm_graph_input_shape(m, 0);
    uint64_t dims[SM_MODEL_MAX_DIMS];
    if (s.ndim > SM_MODEL_MAX_DIMS)
        return sm_error_set(err, SM_ERR_SHAPE, "graph input of rank %u", s.ndim);
    for (uint32_t i = 0; i < s.ndim; i++)
        dims[i] = (uint64_t)s.dims[i];
    return example_f32(in, s.ndim, dims, 0.0f, 1.0f, err);
}

#define GRAPH_KIND(arch, desc, shape, layout, outputs)                                                      \
    {                                                                                                       \
        arch, desc, {4, shape, {SM_DTYPE_F32}, 1, false, layout}, outputs, graph_load, graph_free, graph_run, \
            graph_flops, graph_example, graph_input, NULL, NULL, 1, true                                       \
    }
#define SHAPE(a, b, c, d) {a, b, c, d}

const sm_model_kind sm_model_face_detector =
    GRAPH_KIND(SM_FACE_DETECTOR_ARCH, "BlazeFace short range 128x128 (network)", SHAPE(1, 128, 128, 3),
               "[1,128,128,3] f32 NHWC in [-1,1] (letterboxed RGB)",
               "regressors [1,896,16], classificators [1,896,1] (raw network outputs)");
const sm_model_kind sm_model_face_mesh =
    GRAPH_KIND(SM_FACE_MESH_ARCH, "FaceMesh 468 192x192 (network)", SHAPE(1, 192, 192, 3),
               "[1,192,192,3] f32 NHWC in [0,1] (ROI crop)",
               "conv2d_21 [1,1,1,1404] (468 x,y,z in 192 units), conv2d_31 [1,1,1,1] (presence logit)");
const sm_model_kind sm_model_face_mesh_attention = GRAPH_KIND(
    SM_FACE_MESH_ATTENTION_ARCH, "FaceMesh with attention 478 192x192 (network)", SHAPE(1, 192, 192, 3),
    "[1,192,192,3] f32 NHWC in [0,1] (ROI crop)",
    "output_mesh_identity, output_lips, output_left_eye, output_right_eye, output_left_iris,\n"
    "                         output_right_iris, conv_faceflag (raw; needs the MediaPipe custom ops)");
const sm_model_kind sm_model_face_expression =
    GRAPH_KIND("faceapi_expression_net", "face-api FaceExpressionNet 112x112 (network, softmax included)",
               SHAPE(1, 112, 112, 3), "[1,112,112,3] f32 NHWC, (RGB - input.mean) / 255 (TF.js face-api)",
               "probabilities [1,7] in emotion.labels order (softmax included)");
static const sm_model_kind tfjs_graph =
    GRAPH_KIND("tfjs_graph", "a converted TF.js graph model (network)", SHAPE(1, -1, -1, -1),
               "[1,H,W,C] f32 NHWC (a converted TF.js graph model's input)", "the graph's output by its node name");

/* ---- lookup --------------------------------------------------------------------- */

static const sm_model_kind *const kinds[] = {
    &sm_model_fatigue_mlp,  &sm_model_face_detector,   &sm_model_face_mesh, &sm_model_face_mesh_attention,
    &sm_model_face_expression, &tfjs_graph, &sm_model_novel_emotion, &sm_model_ultralight,
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

const sm_model_kind *const *sm_model_kinds(size_t *n)
{
    *n = N_KINDS;
    return kinds;
}

const sm_model_kind *sm_model_kind_find(const char *arch, size_t len)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strlen(kinds[i]->arch) == len && !memcmp(kinds[i]->arch, arch, len))
            return kinds[i];
    return NULL;
}

sm_status sm_model_kind_of(const sm_smw *f, const sm_model_kind **kind, sm_error *err)
{
    const sm_meta *a = sm_smw_find_meta(f, "general.architecture");
    *kind = NULL;
    if (!a || a->type != SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'general.architecture' is missing or not a string",
                            f->path);
    if ((*kind = sm_model_kind_find(a->v.str.ptr, a->v.str.len)))
        return SM_OK;
    char known[512] = "";
    for (size_t i = 0; i < N_KINDS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", kinds[i]->arch);
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: no model for architecture '%.*s' (known: %s)", f->path,
                        (int)(a->v.str.len > 64 ? 64 : a->v.str.len), a->v.str.ptr, known);
}

sm_status sm_model_open(const char *path, const sm_model_kind *want, sm_threadpool *pool, sm_model **out,
                        sm_error *err)
{
    *out = NULL;
    sm_model *m = calloc(1, sizeof *m);
    if (!m)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    sm_status st = sm_smw_open(path, NULL, &m->file, err);
    if (!st && !(m->kind = want))
        st = sm_model_kind_of(m->file, &m->kind, err);
    if (!st)
        st = m->kind->load(m->file, pool, &m->impl, err);
    if (st) {
        m->impl = NULL;
        sm_model_close(m);
        return st;
    }
    if (!m->kind->keeps_file) {
        sm_smw_free(m->file);
        m->file = NULL;
    }
    *out = m;
    return SM_OK;
}

void sm_model_close(sm_model *m)
{
    if (!m)
        return;
    if (m->impl)
        m->kind->free(m->impl);
    sm_smw_free(m->file);
    free(m);
}

/* ---- framework-layout inputs ------------------------------------------------------ */

sm_status sm_model_from_framework(const sm_model_kind *kind, const sm_model_tensor *in, sm_model_tensor *ours,
                                  void **buf, sm_error *err)
{
    *ours = *in;
    *buf = NULL;
    if (!kind->input.nchw)
        return SM_OK;
    /* [..., C, H, W] -> [..., H, W, C]: the leading dims are images in order */
    uint32_t r = in->ndim;
    size_t c = (size_t)in->dims[r - 3], hw = (size_t)in->dims[r - 2] * (size_t)in->dims[r - 1];
    size_t n = sm_model_tensor_numel(in), images = n / (c * hw);
    float *d = malloc(n * sizeof(float));
    if (!d)
        return sm_error_set(err, SM_ERR_NOMEM, "input: out of memory");
    const float *s = in->data;
    for (size_t i = 0; i < images; i++)
        for (size_t ch = 0; ch < c; ch++)
            for (size_t p = 0; p < hw; p++)
                d[i * c * hw + p * c + ch] = s[i * c * hw + ch * hw + p];
    ours->dims[r - 3] = in->dims[r - 2];
    ours->dims[r - 2] = in->dims[r - 1];
    ours->dims[r - 1] = in->dims[r - 3];
    ours->data = d;
    *buf = d;
    return SM_OK;
}

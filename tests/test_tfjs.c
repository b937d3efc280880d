/* The TF.js import (tools/tfjs_convert.c) and the graph executor ops it added
 * (engine/graph/ops_conv.c, ops_elementwise.c: AVERAGE_POOL_2D, MEAN, SOFTMAX, FULLY_CONNECTED).
 *
 * - face-api's FaceExpressionNet (tests/fixtures/tfjs-ref/model: the npm
 *   package's own manifest + shard, MIT) converts, and the converted graph's
 *   probabilities equal @tensorflow/tfjs 4.22.0 running face-api's own JS on
 *   6 real face crops and 2 random images (tests/fixtures/tfjs-ref, made by
 *   tests/gen/make_tfjs_emotion_refs.sh) within 1e-5 absolute;
 * - each added executor op against a straight-loop double-precision reference
 *   on awkward shapes;
 * - a TF.js graph model (modelTopology) built here exercises the node mapping;
 * - every rejection of the "Bad input" list names the file and the
 *   problem, and smw-convert then writes nothing. */
#include "convert.h"
#include "emotion_fer.h"
#include "tfjs_json.h"
#include "npy.h"
#include "sm_engine.h"
#include "sm_test.h"
#include "tfjs.h"
#include "sm_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const cases[] = {"astronaut_tight", "astronaut_loose", "camera", "lfw0",
                                    "lfw1",            "lfw2",            "random_a", "random_b"};

/* Converts a TF.js file from disk, as smw-convert does; returns the serialised .smw parsed. */
static sm_status convert_path(const char *path, const sm_convert_opts *opts, uint8_t **ser, sm_smw **f,
                              sm_error *err)
{
    uint8_t *buf;
    size_t len, sl;
    sm_status st = sm_file_read_all(path, 0, &buf, &len, err);
    if (st)
        return st;
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, err), SM_OK);
    sm_convert_summary sum;
    st = sm_convert_tfjs(buf, len, path, opts, w, &sum, err);
    if (!st)
        st = sm_smw_writer_add_string(w, "general.architecture", sum.arch, err);
    if (!st)
        st = sm_smw_writer_serialize(w, ser, &sl, err);
    if (!st)
        st = sm_smw_parse(*ser, sl, path, NULL, f, err);
    sm_smw_writer_free(w);
    free(buf);
    return st;
}

static const char *fer_manifest(void)
{
    return sm_test_committed("tfjs-ref/model/face_expression_model-weights_manifest.json");
}

/* One committed TF.js reference case: the 112x112x3 input and face-api's 7 probabilities. */
static void load_case(const char *name, sm_npy *in, sm_npy *ref)
{
    char p[256];
    sm_error err = {0};
    snprintf(p, sizeof p, "tfjs-ref/%s.input.npy", name);
    ck_assert_msg(sm_npy_load(sm_test_committed(p), in, &err) == SM_OK, "%s", err.msg);
    snprintf(p, sizeof p, "tfjs-ref/%s.probs.npy", name);
    ck_assert_msg(sm_npy_load(sm_test_committed(p), ref, &err) == SM_OK, "%s", err.msg);
    ck_assert(in->dtype == SM_DTYPE_F32 && in->numel == 112 * 112 * 3 && ref->numel == 7);
}

/* face-api's expression model converted as smw-convert does by default; f points
 * into *ser: free both. */
static sm_smw *convert_fer(uint8_t **ser)
{
    sm_error err = {0};
    sm_smw *f = NULL;
    sm_convert_opts opts = {0};
    ck_assert_msg(convert_path(fer_manifest(), &opts, ser, &f, &err) == SM_OK, "%s", err.msg);
    return f;
}

START_TEST(faceapi_converts)
{
    sm_error err = {0};
    uint8_t *ser = NULL;
    sm_smw *f = convert_fer(&ser);
    ck_assert(sm_smw_arch_is(f, "faceapi_expression_net"));
    ck_assert_uint_eq(f->n_tensors, 49);
    const sm_meta *lab = sm_smw_find_meta(f, "emotion.labels");
    ck_assert(lab && lab->count == 7);
    static const char *const want[7] = {"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"};
    for (int i = 0; i < 7; i++)
        ck_assert(lab->strings[i].len == strlen(want[i]) && !memcmp(lab->strings[i].ptr, want[i], lab->strings[i].len));
    uint32_t size;
    float mean[3], sd[3];
    ck_assert_int_eq(sm_smw_meta_u32(f, "input.size", &size, &err), SM_OK);
    ck_assert_uint_eq(size, 112);
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.mean", mean, 3, &err), SM_OK);
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.std", sd, 3, &err), SM_OK);
    ck_assert(mean[0] == 122.782f && mean[1] == 117.001f && mean[2] == 104.298f);
    ck_assert(sd[0] == 255.0f && sd[1] == 255.0f && sd[2] == 255.0f);
    /* the filters are in TFLite layout: HWIO [3,3,3,32] became OHWI [32,3,3,3] */
    const sm_tensor_info *t = sm_smw_find_tensor(f, "dense0/conv0/filters");
    ck_assert(t && t->ndim == 4 && t->dims[0] == 32 && t->dims[3] == 3);
    t = sm_smw_find_tensor(f, "fc/weights");
    ck_assert(t && t->ndim == 2 && t->dims[0] == 7 && t->dims[1] == 256);
    /* a uint8 weight dequantised as tfjs does: q * scale + min. fc/weights is
     * the last quantised tensor of the shard, bytes [329468 - 28 - 1792, +1792);
     * element [o][i] of the stored [7,256] is q[i * 7 + o] of the file's [256,7]. */
    uint8_t *bin;
    size_t blen;
    ck_assert_int_eq(sm_file_read_all(sm_test_committed("tfjs-ref/model/face_expression_model.bin"), 0, &bin, &blen, &err),
                     SM_OK);
    ck_assert_uint_eq(blen, 329468);
    const uint8_t *q = bin + blen - 28 - 1792;
    const float *v = t->data;
    for (int o = 0; o < 7; o++)
        for (int i = 0; i < 256; i++) {
            /* scale and min as written in the manifest */
            float want_v = (float)(q[i * 7 + o] * 0.004834276554631252 + -0.7203072066400565);
            ck_assert_msg(v[o * 256 + i] == want_v, "fc/weights[%d][%d] = %.9g, want %.9g", o, i, v[o * 256 + i],
                          want_v);
        }
    free(bin);
    sm_smw_free(f);
    free(ser);
}
END_TEST

static void run_parity(sm_threadpool *pool, double *worst)
{
    sm_error err = {0};
    uint8_t *ser = NULL;
    sm_smw *f = convert_fer(&ser);
    sm_graph *g;
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g, &err) == SM_OK, "%s", err.msg);
    ck_assert_uint_eq(sm_graph_n_outputs(g), 1);
    sm_graph_shape os = sm_graph_output_shape(g, 0);
    ck_assert(os.ndim == 2 && os.dims[0] == 1 && os.dims[1] == 7);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        sm_npy in, ref;
        load_case(cases[c], &in, &ref);
        memcpy(sm_graph_input(g, 0), in.data, in.nbytes);
        sm_graph_run(g, pool);
        const float *y = sm_graph_output(g, 0), *r = ref.data;
        double d = 0, sum = 0;
        int am = 0, ar = 0;
        for (int k = 0; k < 7; k++) {
            d = fmax(d, fabs((double)y[k] - r[k]));
            sum += y[k];
            am = y[k] > y[am] ? k : am;
            ar = r[k] > r[ar] ? k : ar;
        }
        ck_assert_msg(d <= 1e-5, "%s: max |ours - tfjs| = %.3g > 1e-5", cases[c], d);
        ck_assert_msg(am == ar, "%s: top class %d, tfjs %d", cases[c], am, ar);
        ck_assert(fabs(sum - 1.0) < 1e-5);
        *worst = fmax(*worst, d);
        sm_npy_free(&in);
        sm_npy_free(&ref);
    }
    sm_graph_free(g);
    sm_smw_free(f);
    free(ser);
}

START_TEST(faceapi_parity_tfjs)
{
    double worst = 0;
    run_parity(NULL, &worst);
    sm_threadpool *pool;
    sm_error err = {0};
    ck_assert_int_eq(sm_threadpool_init(&pool, 3, &err), SM_OK);
    run_parity(pool, &worst);
    sm_threadpool_free(pool);
    printf("faceapi_parity_tfjs: 8 inputs x {1, 3 threads}: max |ours - tfjs 4.22.0| = %.3g (bound 1e-5)\n", worst);
}
END_TEST

/* A graph's own precision (sm_graph_load_opts), what the default emotion model
 * loads with: BF16 asked for one graph really runs BF16 (bfloat16 rounding
 * moves the probabilities, within the bound, same top class as TF.js) while
 * the process-wide precision stays as it was, and FP32 asked gives FP32's bits
 * even where the process-wide precision is BF16. The reference is TF.js
 * running face-api's JS (tests/fixtures/tfjs-ref), as in faceapi_parity_tfjs.
 * SM_TEST_QUICK (emulators, where the scalar BF16 reference is slow): two of
 * the eight inputs, a photo and a random one. */
#define FER_BF16_PROB_BOUND 0.02
START_TEST(faceapi_graph_precision_option)
{
    sm_error err = {0};
    uint8_t *ser = NULL;
    sm_smw *f = convert_fer(&ser);
    /* the committed shard is the one docs/PERFORMANCE.md measured in BF16 */
    ck_assert(sm_fer_qualifies_bf16(f));
    sm_precision keep = sm_precision_user();
    sm_graph *g[5]; /* process-wide FP32: default, FP32, BF16; process-wide BF16: default, FP32 */
    const sm_graph_options o32 = {.precision = SM_PRECISION_FP32}, o16 = {.precision = SM_PRECISION_BF16};
    sm_precision_force(SM_PRECISION_DEFAULT);
    ck_assert_msg(sm_graph_load_opts(f, NULL, &g[0], &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(sm_graph_load_opts(f, &o32, &g[1], &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(sm_graph_load_opts(f, &o16, &g[2], &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_DEFAULT); /* untouched by the loads */
    ck_assert_int_eq(sm_precision_active(), SM_PRECISION_FP32);
    sm_precision_force(SM_PRECISION_BF16);
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g[3], &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(sm_graph_load_opts(f, &o32, &g[4], &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_BF16);
    sm_precision_force(keep);
    static const sm_precision want[5] = {SM_PRECISION_FP32, SM_PRECISION_FP32, SM_PRECISION_BF16,
                                         SM_PRECISION_BF16, SM_PRECISION_FP32};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(sm_graph_get_stats(g[i]).precision, want[i]);
    double worst32 = 0, worst16 = 0, moved = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        if (sm_test_quick() && strcmp(cases[c], "lfw0") && strcmp(cases[c], "random_a"))
            continue;
        sm_npy in, ref;
        load_case(cases[c], &in, &ref);
        const float *r = ref.data;
        float y[5][7];
        for (int i = 0; i < 5; i++) {
            memcpy(sm_graph_input(g[i], 0), in.data, in.nbytes);
            sm_graph_run(g[i], NULL);
            memcpy(y[i], sm_graph_output(g[i], 0), sizeof y[i]);
        }
        /* the same precision gives the same bits however it was asked for */
        ck_assert_msg(!memcmp(y[0], y[1], sizeof y[0]) && !memcmp(y[0], y[4], sizeof y[0]),
                      "%s: FP32 asked per graph differs from the process-wide FP32", cases[c]);
        ck_assert_msg(!memcmp(y[2], y[3], sizeof y[2]), "%s: BF16 asked per graph differs from the process-wide BF16",
                      cases[c]);
        int a16 = 0, ar = 0;
        for (int k = 0; k < 7; k++) {
            worst32 = fmax(worst32, fabs((double)y[1][k] - r[k]));
            worst16 = fmax(worst16, fabs((double)y[2][k] - r[k]));
            moved = fmax(moved, fabs((double)y[2][k] - y[1][k]));
            a16 = y[2][k] > y[2][a16] ? k : a16;
            ar = r[k] > r[ar] ? k : ar;
        }
        ck_assert_msg(a16 == ar, "%s: top class in BF16 %d, tfjs %d", cases[c], a16, ar);
        sm_npy_free(&in);
        sm_npy_free(&ref);
    }
    printf("faceapi_graph_precision_option: max |FP32 - tfjs| %.3g (bound 1e-5), max |BF16 - tfjs| %.3g "
           "(bound %g), max |BF16 - FP32| %.3g\n", worst32, worst16, FER_BF16_PROB_BOUND, moved);
    ck_assert_msg(worst32 <= 1e-5, "FP32: max |ours - tfjs| = %.3g > 1e-5", worst32);
    ck_assert_msg(worst16 <= FER_BF16_PROB_BOUND, "BF16: max |ours - tfjs| = %.3g > %g", worst16, FER_BF16_PROB_BOUND);
    /* bfloat16 keeps 8 significant bits: a graph that ran FP32 would show FP32's 1e-7 */
    ck_assert_msg(moved > 1e-5, "BF16 asked, yet the probabilities moved only %.3g from FP32's", moved);
    for (int i = 0; i < 5; i++)
        sm_graph_free(g[i]);
    sm_smw_free(f);
    free(ser);
}
END_TEST

/* The graph-model path against tfjs's own graph executor (loadGraphModel):
 * human-models' FER-2013 mini-Xception, when its files are in the model cache
 * (make models with SM_FETCH_HUMAN_MODELS=1); the references are committed. */
START_TEST(xception_parity_tfjs)
{
    char path[4096];
    const char *cache = getenv("SM_MODEL_CACHE"), *repo = getenv("SM_REPO");
    if (cache && *cache)
        snprintf(path, sizeof path, "%s/human-models-3.0.4/emotion.json", cache);
    else
        snprintf(path, sizeof path, "%s/models/cache/human-models-3.0.4/emotion.json", repo && *repo ? repo : ".");
    if (access(path, R_OK) != 0) {
        sm_test_skip("xception_parity_tfjs", "human-models emotion.json not in the model cache "
                                             "(SM_FETCH_HUMAN_MODELS=1 make models)");
        return;
    }
    sm_error err = {0};
    uint8_t *ser = NULL;
    sm_smw *f = NULL;
    sm_convert_opts opts = {0};
    opts.labels = "angry,disgust,fear,happy,sad,surprise,neutral";
    ck_assert_msg(convert_path(path, &opts, &ser, &f, &err) == SM_OK, "%s", err.msg);
    ck_assert(sm_smw_arch_is(f, "tfjs_graph") && sm_smw_find_meta(f, "emotion.labels"));
    sm_graph *g;
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g, &err) == SM_OK, "%s", err.msg);
    double worst = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char p[256];
        sm_npy in, ref;
        snprintf(p, sizeof p, "tfjs-ref/xception_%s.input.npy", cases[c]);
        ck_assert_msg(sm_npy_load(sm_test_committed(p), &in, &err) == SM_OK, "%s", err.msg);
        snprintf(p, sizeof p, "tfjs-ref/xception_%s.probs.npy", cases[c]);
        ck_assert_msg(sm_npy_load(sm_test_committed(p), &ref, &err) == SM_OK, "%s", err.msg);
        ck_assert(in.numel == 64 * 64 && ref.numel == 7);
        memcpy(sm_graph_input(g, 0), in.data, in.nbytes);
        sm_graph_run(g, NULL);
        const float *y = sm_graph_output(g, 0), *r = ref.data;
        for (int k = 0; k < 7; k++)
            worst = fmax(worst, fabs((double)y[k] - r[k]));
        sm_npy_free(&in);
        sm_npy_free(&ref);
    }
    ck_assert_msg(worst <= 1e-5, "max |ours - tfjs| = %.3g > 1e-5", worst);
    printf("xception_parity_tfjs: 8 inputs: max |ours - tfjs 4.22.0 loadGraphModel| = %.3g (bound 1e-5)\n", worst);
    sm_graph_free(g);
    sm_smw_free(f);
    free(ser);
}
END_TEST

/* ---- executor ops on tiny graphs ------------------------------------------------------ */

typedef struct {
    sm_smw_writer *w;
} gb;

/* One-op graph: input "x" of shape xs, the op named type with inputs (x and
 * constants) and one output "y" of shape ys; options added by the caller. */
static void one_op(gb *b, const char *type, const int32_t *xs, uint32_t xn, const char *const *ins, int n_in,
                   const int32_t *ys, uint32_t yn)
{
    sm_error err = {0};
    const char *x[1] = {"x"}, *y[1] = {"y"}, *ops[1] = {type};
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.inputs", SM_META_STRING, x, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.outputs", SM_META_STRING, y, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.input_shape.0", SM_META_I32, xs, xn, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.output_shape.0", SM_META_I32, ys, yn, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(b->w, "graph.n_ops", 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.ops", SM_META_STRING, ops, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(b->w, "graph.op.0.op", type, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.op.0.inputs", SM_META_STRING, ins, (size_t)n_in, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.op.0.outputs", SM_META_STRING, y, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(b->w, "graph.op.0.output_shape.0", SM_META_I32, ys, yn, &err), SM_OK);
}

static sm_graph *finish(gb *b, uint8_t **ser, sm_smw **f, sm_status want, const char *msg_part)
{
    sm_error err = {0};
    size_t len;
    ck_assert_int_eq(sm_smw_writer_serialize(b->w, ser, &len, &err), SM_OK);
    sm_smw_writer_free(b->w);
    ck_assert_int_eq(sm_smw_parse(*ser, len, "ops.smw", NULL, f, &err), SM_OK);
    sm_graph *g = NULL;
    sm_status st = sm_graph_load(*f, NULL, 0, &g, &err);
    ck_assert_msg(st == want, "load: %s (status %d, want %d)", err.msg, st, want);
    if (msg_part)
        ck_assert_msg(strstr(err.msg, msg_part) && strstr(err.msg, "ops.smw"), "message '%s' lacks '%s'", err.msg,
                      msg_part);
    return g;
}

static void fill(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sm_test_uniform(-2.0f, 2.0f);
}

static void check_close(const float *y, const double *r, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(y[i] - r[i]) <= tol * (1 + fabs(r[i])), "%s[%zu] = %.9g, reference %.9g", what, i, y[i], r[i]);
}

/* TF average pool: mean over the valid elements of each window. */
static void ref_avgpool(const float *x, int h, int w, int c, int kh, int kw, int sh, int sw, bool same, int oh, int ow,
                        double *y)
{
    int pt = 0, pl = 0;
    if (same) {
        int th = (oh - 1) * sh + kh - h, tw = (ow - 1) * sw + kw - w;
        pt = th > 0 ? th / 2 : 0;
        pl = tw > 0 ? tw / 2 : 0;
    }
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                int n = 0;
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                        if (iy < 0 || ix < 0 || iy >= h || ix >= w)
                            continue;
                        s += x[((size_t)iy * w + ix) * c + ch];
                        n++;
                    }
                y[((size_t)oy * ow + ox) * c + ch] = s / n;
            }
}

START_TEST(op_average_pool)
{
    static const struct {
        int h, w, c, kh, kw, sh, sw;
        bool same;
    } t[] = {{7, 7, 256, 7, 7, 2, 2, false}, {7, 7, 5, 7, 7, 1, 1, false}, {9, 11, 3, 3, 3, 2, 2, true},
             {10, 10, 17, 3, 2, 2, 3, true}, {5, 6, 1, 2, 2, 2, 2, false}, {1, 1, 8, 1, 1, 1, 1, true},
             {13, 4, 9, 5, 3, 1, 2, true}};
    sm_test_seed(11);
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        int oh = t[k].same ? (t[k].h + t[k].sh - 1) / t[k].sh : (t[k].h - t[k].kh) / t[k].sh + 1;
        int ow = t[k].same ? (t[k].w + t[k].sw - 1) / t[k].sw : (t[k].w - t[k].kw) / t[k].sw + 1;
        int32_t xs[4] = {1, t[k].h, t[k].w, t[k].c}, ys[4] = {1, oh, ow, t[k].c};
        const char *ins[1] = {"x"};
        gb b = {0};
        sm_error err = {0};
        ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
        one_op(&b, "AVERAGE_POOL_2D", xs, 4, ins, 1, ys, 4);
        ck_assert_int_eq(sm_smw_writer_add_string(b.w, "graph.op.0.padding", t[k].same ? "SAME" : "VALID", &err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_add_i32(b.w, "graph.op.0.stride_h", t[k].sh, &err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_add_i32(b.w, "graph.op.0.stride_w", t[k].sw, &err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_add_i32(b.w, "graph.op.0.filter_h", t[k].kh, &err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_add_i32(b.w, "graph.op.0.filter_w", t[k].kw, &err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_add_string(b.w, "graph.op.0.activation", "NONE", &err), SM_OK);
        uint8_t *ser;
        sm_smw *f;
        sm_graph *g = finish(&b, &ser, &f, SM_OK, NULL);
        size_t nx = (size_t)t[k].h * t[k].w * t[k].c, ny = (size_t)oh * ow * t[k].c;
        float *x = malloc(nx * sizeof *x);
        double *r = malloc(ny * sizeof *r);
        fill(x, nx);
        memcpy(sm_graph_input(g, 0), x, nx * sizeof *x);
        sm_graph_run(g, NULL);
        ref_avgpool(x, t[k].h, t[k].w, t[k].c, t[k].kh, t[k].kw, t[k].sh, t[k].sw, t[k].same, oh, ow, r);
        check_close(sm_graph_output(g, 0), r, ny, 2e-6, "avgpool");
        free(x);
        free(r);
        sm_graph_free(g);
        sm_smw_free(f);
        free(ser);
    }
}
END_TEST

START_TEST(op_mean_softmax_fc)
{
    sm_test_seed(12);
    for (int keep = 0; keep < 2; keep++) {
        static const int dims[][3] = {{1, 1, 7}, {4, 3, 1}, {5, 9, 33}};
        for (int d = 0; d < 3; d++) {
            int h = dims[d][0], w = dims[d][1], c = dims[d][2];
            int32_t xs[4] = {1, h, w, c}, ys4[4] = {1, 1, 1, c}, ys2[2] = {1, c}, ax[2] = {1, 2};
            const char *ins[1] = {"x"};
            gb b = {0};
            sm_error err = {0};
            ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
            one_op(&b, "MEAN", xs, 4, ins, 1, keep ? ys4 : ys2, keep ? 4 : 2);
            ck_assert_int_eq(sm_smw_writer_add_array(b.w, "graph.op.0.axes", SM_META_I32, ax, 2, &err), SM_OK);
            ck_assert_int_eq(sm_smw_writer_add_bool(b.w, "graph.op.0.keep_dims", keep, &err), SM_OK);
            uint8_t *ser;
            sm_smw *f;
            sm_graph *g = finish(&b, &ser, &f, SM_OK, NULL);
            size_t n = (size_t)h * w * c;
            float *x = sm_graph_input(g, 0);
            fill(x, n);
            double r[64];
            for (int ch = 0; ch < c; ch++) {
                r[ch] = 0;
                for (int p = 0; p < h * w; p++)
                    r[ch] += x[(size_t)p * c + ch];
                r[ch] /= h * w;
            }
            sm_graph_run(g, NULL);
            check_close(sm_graph_output(g, 0), r, (size_t)c, 2e-6, "mean");
            sm_graph_free(g);
            sm_smw_free(f);
            free(ser);
        }
    }
    /* SOFTMAX over the last axis of [3, 5] and [1, 7] (large logits: stable form) */
    static const int sm[][2] = {{3, 5}, {1, 7}, {2, 1}};
    for (int k = 0; k < 3; k++) {
        int32_t xs[2] = {sm[k][0], sm[k][1]};
        const char *ins[1] = {"x"};
        gb b = {0};
        sm_error err = {0};
        ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
        one_op(&b, "SOFTMAX", xs, 2, ins, 1, xs, 2);
        ck_assert_int_eq(sm_smw_writer_add_f32(b.w, "graph.op.0.beta", 1.0f, &err), SM_OK);
        uint8_t *ser;
        sm_smw *f;
        sm_graph *g = finish(&b, &ser, &f, SM_OK, NULL);
        float *x = sm_graph_input(g, 0);
        size_t n = (size_t)sm[k][0] * sm[k][1];
        fill(x, n);
        x[0] = 90.0f; /* exp overflows without the max shift */
        double r[16];
        for (int row = 0; row < sm[k][0]; row++) {
            double mx = -INFINITY, s = 0;
            for (int i = 0; i < sm[k][1]; i++)
                mx = fmax(mx, x[row * sm[k][1] + i]);
            for (int i = 0; i < sm[k][1]; i++)
                s += exp(x[row * sm[k][1] + i] - mx);
            for (int i = 0; i < sm[k][1]; i++)
                r[row * sm[k][1] + i] = exp(x[row * sm[k][1] + i] - mx) / s;
        }
        sm_graph_run(g, NULL);
        check_close(sm_graph_output(g, 0), r, n, 1e-6, "softmax");
        sm_graph_free(g);
        sm_smw_free(f);
        free(ser);
    }
    /* FULLY_CONNECTED [N, I] x [O, I]^T + b, with and without bias and ReLU */
    static const int fc[][3] = {{1, 256, 7}, {3, 5, 1}, {2, 17, 33}, {1, 1, 1}};
    for (int k = 0; k < 4; k++)
        for (int variant = 0; variant < 3; variant++) {
            int n = fc[k][0], in = fc[k][1], out = fc[k][2];
            bool bias = variant != 1, relu = variant == 2;
            int32_t xs[2] = {n, in}, ys[2] = {n, out};
            const char *ins[3] = {"x", "w", "b"};
            gb b = {0};
            sm_error err = {0};
            ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
            one_op(&b, "FULLY_CONNECTED", xs, 2, ins, bias ? 3 : 2, ys, 2);
            ck_assert_int_eq(sm_smw_writer_add_string(b.w, "graph.op.0.activation", relu ? "RELU" : "NONE", &err), SM_OK);
            float *wt = malloc((size_t)out * in * sizeof *wt), bv[64];
            fill(wt, (size_t)out * in);
            fill(bv, (size_t)out);
            uint64_t wd[2] = {(uint64_t)out, (uint64_t)in}, bd[1] = {(uint64_t)out};
            ck_assert_int_eq(sm_smw_writer_add_tensor(b.w, "w", SM_DTYPE_F32, 2, wd, wt, &err), SM_OK);
            ck_assert_int_eq(sm_smw_writer_add_tensor(b.w, "b", SM_DTYPE_F32, 1, bd, bv, &err), SM_OK);
            uint8_t *ser;
            sm_smw *f;
            sm_graph *g = finish(&b, &ser, &f, SM_OK, NULL);
            float *x = sm_graph_input(g, 0);
            fill(x, (size_t)n * in);
            double *r = malloc((size_t)n * out * sizeof *r);
            for (int row = 0; row < n; row++)
                for (int o = 0; o < out; o++) {
                    double s = bias ? bv[o] : 0;
                    for (int i = 0; i < in; i++)
                        s += (double)x[row * in + i] * wt[(size_t)o * in + i];
                    r[row * out + o] = relu && s < 0 ? 0 : s;
                }
            sm_graph_run(g, NULL);
            check_close(sm_graph_output(g, 0), r, (size_t)n * out, 1e-5, "fully_connected");
            free(r);
            free(wt);
            sm_graph_free(g);
            sm_smw_free(f);
            free(ser);
        }
}
END_TEST

START_TEST(op_rejects)
{
    /* softmax beta other than 1, mean over the channel axis, FC of mismatched width */
    int32_t xs[2] = {1, 4}, x4[4] = {1, 2, 2, 3}, y2[2] = {1, 3}, ax[2] = {1, 3};
    const char *ins[1] = {"x"}, *fins[2] = {"x", "w"};
    gb b = {0};
    sm_error err = {0};
    uint8_t *ser;
    sm_smw *f;
    ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
    one_op(&b, "SOFTMAX", xs, 2, ins, 1, xs, 2);
    ck_assert_int_eq(sm_smw_writer_add_f32(b.w, "graph.op.0.beta", 2.0f, &err), SM_OK);
    ck_assert_ptr_null(finish(&b, &ser, &f, SM_ERR_UNSUPPORTED, "beta"));
    sm_smw_free(f);
    free(ser);
    ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
    one_op(&b, "MEAN", x4, 4, ins, 1, y2, 2);
    ck_assert_int_eq(sm_smw_writer_add_array(b.w, "graph.op.0.axes", SM_META_I32, ax, 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_bool(b.w, "graph.op.0.keep_dims", false, &err), SM_OK);
    ck_assert_ptr_null(finish(&b, &ser, &f, SM_ERR_UNSUPPORTED, "axes [1, 2]"));
    sm_smw_free(f);
    free(ser);
    ck_assert_int_eq(sm_smw_writer_init(&b.w, &err), SM_OK);
    one_op(&b, "FULLY_CONNECTED", xs, 2, fins, 2, y2, 2);
    ck_assert_int_eq(sm_smw_writer_add_string(b.w, "graph.op.0.activation", "NONE", &err), SM_OK);
    float wv[15] = {0};
    uint64_t wd[2] = {3, 5};
    ck_assert_int_eq(sm_smw_writer_add_tensor(b.w, "w", SM_DTYPE_F32, 2, wd, wv, &err), SM_OK);
    ck_assert_ptr_null(finish(&b, &ser, &f, SM_ERR_SHAPE, "[N,I] and [O,I]"));
    sm_smw_free(f);
    free(ser);
}
END_TEST


/* ---- graph models and bad input ------------------------------------------------------- */

/* In-memory shards for sm_convert_tfjs_with: name -> bytes. */
typedef struct {
    const char *name[4];
    const uint8_t *data[4];
    size_t len[4];
    int n;
    int calls;
} mem_shards;

static sm_status mem_read(void *ctx, const char *model_path, const char *rel, size_t limit, uint8_t **buf,
                          size_t *len, sm_error *err)
{
    mem_shards *m = ctx;
    (void)limit;
    m->calls++;
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], rel)) {
            *buf = malloc(m->len[i] ? m->len[i] : 1);
            memcpy(*buf, m->data[i], m->len[i]);
            *len = m->len[i];
            return SM_OK;
        }
    return sm_error_set(err, SM_ERR_IO, "%s: shard '%s' is missing", model_path, rel);
}

static sm_status convert_mem(const char *json, mem_shards *m, const sm_convert_opts *opts, sm_error *err,
                             uint8_t **ser, size_t *sl)
{
    sm_smw_writer *w;
    sm_convert_opts o0 = {0};
    ck_assert_int_eq(sm_smw_writer_init(&w, err), SM_OK);
    sm_convert_summary sum;
    sm_status st = sm_convert_tfjs_with((const uint8_t *)json, strlen(json), "dir/model.json", mem_read, m,
                                        opts ? opts : &o0, w, &sum, err);
    if (!st)
        st = sm_smw_writer_add_string(w, "general.architecture", sum.arch, err);
    if (!st && ser)
        st = sm_smw_writer_serialize(w, ser, sl, err);
    sm_smw_writer_free(w);
    return st;
}

/* A small graph model in TF.js's own JSON form: Placeholder [-1,5,6,2] ->
 * _FusedConv2D 3x3 SAME + BiasAdd + Relu (4 ch) -> DepthwiseConv2dNative 3x3
 * stride 2 SAME -> MaxPool 2x2 stride 1 VALID -> AddV2 with itself via Identity
 * -> Relu -> Mean [1,2] -> Reshape [-1, 4] -> Softmax. Weights: w1 [3,3,2,4]
 * uint8-quantised, b1 [4] float16, w2 [3,3,4,1] float32, axes / shape int32. */
#define B64_SAME "U0FNRQ=="
#define B64_VALID "VkFMSUQ="
#define B64_BIASADD "Qmlhc0FkZA=="
#define B64_RELU "UmVsdQ=="
static const char *graph_json_fmt =
    "{\"format\": \"graph-model\", \"generatedBy\": \"test\", \"modelTopology\": {\"node\": ["
    "{\"name\": \"out\", \"op\": \"Softmax\", \"input\": [\"flat\"]},"
    "{\"name\": \"x\", \"op\": \"Placeholder\", \"attr\": {\"shape\": {\"shape\": {\"dim\": "
    "[{\"size\": \"-1\"}, {\"size\": \"5\"}, {\"size\": \"6\"}, {\"size\": \"2\"}]}}}},"
    "{\"name\": \"w1\", \"op\": \"Const\"}, {\"name\": \"b1\", \"op\": \"Const\"}, {\"name\": \"w2\", \"op\": \"Const\"},"
    "{\"name\": \"axes\", \"op\": \"Const\"}, {\"name\": \"shape\", \"op\": \"Const\"},"
    "{\"name\": \"c1\", \"op\": \"%s\", \"input\": [\"x\", \"w1:0\", \"b1\"], \"attr\": {\"padding\": {\"s\": \"" B64_SAME "\"},"
    " \"strides\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"dilations\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}},"
    " \"fused_ops\": {\"list\": {\"s\": [\"" B64_BIASADD "\", \"" B64_RELU "\"]}}, \"num_args\": {\"i\": \"1\"},"
    " \"explicit_paddings\": {\"list\": {}}}},"
    "{\"name\": \"d1\", \"op\": \"DepthwiseConv2dNative\", \"input\": [\"%s\", \"w2\"], \"attr\": {\"padding\": {\"s\": \"" B64_SAME "\"},"
    " \"strides\": {\"list\": {\"i\": [\"1\", \"2\", \"2\", \"1\"]}}}},"
    "{\"name\": \"p1\", \"op\": \"MaxPool\", \"input\": [\"d1\"], \"attr\": {\"padding\": {\"s\": \"" B64_VALID "\"},"
    " \"strides\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"ksize\": {\"list\": {\"i\": [\"1\", \"2\", \"2\", \"1\"]}}}},"
    "{\"name\": \"id\", \"op\": \"Identity\", \"input\": [\"p1\"]},"
    "{\"name\": \"a1\", \"op\": \"AddV2\", \"input\": [\"p1\", \"id\"]},"
    "{\"name\": \"r1\", \"op\": \"Relu\", \"input\": [\"a1\"]},"
    "{\"name\": \"m1\", \"op\": \"Mean\", \"input\": [\"r1\", \"axes\"], \"attr\": {\"keep_dims\": {\"b\": false}}},"
    "{\"name\": \"flat\", \"op\": \"Reshape\", \"input\": [\"m1\", \"shape\"]}"
    "], \"versions\": {}}, \"weightsManifest\": [{\"paths\": [\"%s\"%s], \"weights\": ["
    "{\"name\": \"w1\", \"shape\": [3, 3, 2, 4], \"dtype\": \"%s\", \"quantization\": {\"dtype\": \"uint8\", %s}},"
    "{\"name\": \"b1\", \"shape\": [4], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"float16\"}},"
    "{\"name\": \"w2\", \"shape\": [%s], \"dtype\": \"float32\"},"
    "{\"name\": \"axes\", \"shape\": [2], \"dtype\": \"int32\"},"
    "{\"name\": \"shape\", \"shape\": [2], \"dtype\": \"int32\"}]}]}";

/* 72 + 8 + 144 + 8 + 8 bytes */
#define GRAPH_BIN 240
static uint8_t graph_bin[GRAPH_BIN];
static float graph_w1[72], graph_b1[4], graph_w2[36];

static void make_graph_bin(void)
{
    size_t o = 0;
    for (int i = 0; i < 72; i++) {
        graph_bin[o++] = (uint8_t)((i * 37 + 11) % 256);
        graph_w1[i] = (float)(graph_bin[o - 1] * 0.0078125 + -1.0); /* q * scale + min */
    }
    static const uint16_t halves[4] = {0x3c00, 0xb800, 0x3400, 0x0001}; /* 1, -0.5, 0.25, smallest subnormal */
    for (int i = 0; i < 4; i++) {
        graph_bin[o++] = (uint8_t)(halves[i] & 0xff);
        graph_bin[o++] = (uint8_t)(halves[i] >> 8);
        graph_b1[i] = sm_f16_to_f32(halves[i]);
    }
    sm_test_seed(21);
    for (int i = 0; i < 36; i++) {
        graph_w2[i] = sm_test_uniform(-1, 1);
        memcpy(graph_bin + o, &graph_w2[i], 4);
        o += 4;
    }
    int32_t ints[4] = {1, 2, -1, 4};
    memcpy(graph_bin + o, ints, 16);
}

static char graph_json[8192];
static const char *graph_model(const char *conv_op, const char *d1_in, const char *path, const char *extra_path,
                               const char *w1_dtype, const char *quant, const char *w2_shape)
{
    snprintf(graph_json, sizeof graph_json, graph_json_fmt, conv_op, d1_in, path, extra_path, w1_dtype, quant, w2_shape);
    return graph_json;
}
#define GOOD_GRAPH graph_model("_FusedConv2D", "c1", "g.bin", "", "float32", "\"scale\": 0.0078125, \"min\": -1.0", "3, 3, 4, 1")

/* The graph by hand in double: conv (HWIO) + bias + relu, depthwise, max pool,
 * p + p, relu, mean, softmax. */
static void graph_reference(const float *x, double *out)
{
    double c1[5][6][4], d1[3][3][4], m[4] = {0};
    for (int y = 0; y < 5; y++)
        for (int xx = 0; xx < 6; xx++)
            for (int o = 0; o < 4; o++) {
                double s = graph_b1[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        for (int i = 0; i < 2; i++) {
                            int iy = y - 1 + ky, ix = xx - 1 + kx; /* SAME 3x3 stride 1: pad 1 */
                            if (iy >= 0 && iy < 5 && ix >= 0 && ix < 6)
                                s += x[(iy * 6 + ix) * 2 + i] * (double)graph_w1[((ky * 3 + kx) * 2 + i) * 4 + o];
                        }
                c1[y][xx][o] = s > 0 ? s : 0;
            }
    /* SAME, stride 2: out 3x3; total pad rows (3-1)*2+3-5 = 2 -> 1 before; cols (3-1)*2+3-6 = 1 -> 0 before */
    for (int y = 0; y < 3; y++)
        for (int xx = 0; xx < 3; xx++)
            for (int ch = 0; ch < 4; ch++) {
                double s = 0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = y * 2 - 1 + ky, ix = xx * 2 + kx;
                        if (iy >= 0 && iy < 5 && ix >= 0 && ix < 6)
                            s += c1[iy][ix][ch] * (double)graph_w2[(ky * 3 + kx) * 4 + ch];
                    }
                d1[y][xx][ch] = s;
            }
    for (int y = 0; y < 2; y++)
        for (int xx = 0; xx < 2; xx++)
            for (int ch = 0; ch < 4; ch++) {
                double mx = -INFINITY;
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        mx = fmax(mx, d1[y + ky][xx + kx][ch]);

                double r = 2 * mx > 0 ? 2 * mx : 0;
                m[ch] += r / 4;
            }
    double mx = fmax(fmax(m[0], m[1]), fmax(m[2], m[3])), s = 0;
    for (int ch = 0; ch < 4; ch++)
        s += exp(m[ch] - mx);
    for (int ch = 0; ch < 4; ch++)
        out[ch] = exp(m[ch] - mx) / s;
}

START_TEST(graph_model_converts_and_runs)
{
    make_graph_bin();
    mem_shards m = {{"g.bin"}, {graph_bin}, {GRAPH_BIN}, 1, 0};
    sm_error err = {0};
    uint8_t *ser;
    size_t sl;
    ck_assert_msg(convert_mem(GOOD_GRAPH, &m, NULL, &err, &ser, &sl) == SM_OK, "%s", err.msg);
    sm_smw *f;
    ck_assert_int_eq(sm_smw_parse(ser, sl, "g.smw", NULL, &f, &err), SM_OK);
    ck_assert(sm_smw_arch_is(f, "tfjs_graph"));
    /* the Const ints became options and are not stored; the weights are in TFLite layout */
    ck_assert_ptr_null(sm_smw_find_tensor(f, "axes"));
    const sm_tensor_info *w1 = sm_smw_find_tensor(f, "w1");
    ck_assert(w1 && w1->dims[0] == 4 && w1->dims[3] == 2);
    sm_graph *g;
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g, &err) == SM_OK, "%s", err.msg);
    sm_graph_shape is = sm_graph_input_shape(g, 0), os = sm_graph_output_shape(g, 0);
    ck_assert(is.ndim == 4 && is.dims[0] == 1 && is.dims[1] == 5 && is.dims[2] == 6 && is.dims[3] == 2);
    ck_assert(os.ndim == 2 && os.dims[0] == 1 && os.dims[1] == 4);
    ck_assert_str_eq(sm_graph_output_name(g, 0), "out");
    float *x = sm_graph_input(g, 0);
    for (int i = 0; i < 60; i++)
        x[i] = sm_test_uniform(-1, 1);
    double r[4];
    graph_reference(x, r);
    sm_graph_run(g, NULL);
    check_close(sm_graph_output(g, 0), r, 4, 1e-5, "graph");
    sm_graph_free(g);
    sm_smw_free(f);
    free(ser);
}
END_TEST

/* Each bad input: refused with status and a message naming the file and the problem. */
static void expect_bad(const char *json, mem_shards *m, sm_status want, const char *part)
{
    sm_error err = {0};
    sm_status st = convert_mem(json, m, NULL, &err, NULL, NULL);
    ck_assert_msg(st == want, "status %d (want %d): %s", st, want, err.msg);
    ck_assert_msg(strstr(err.msg, "model.json") != NULL, "message does not name the file: %s", err.msg);
    ck_assert_msg(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
}

START_TEST(bad_inputs)
{
    make_graph_bin();
    mem_shards m = {{"g.bin", "g2.bin"}, {graph_bin, graph_bin}, {GRAPH_BIN, 8}, 2, 0};
    const char *q = "\"scale\": 0.0078125, \"min\": -1.0";
    /* truncated shard: 4 bytes short */
    m.len[0] = GRAPH_BIN - 4;
    expect_bad(GOOD_GRAPH, &m, SM_ERR_FORMAT, "hold 236 bytes but the manifest's 5 weights need 240");
    m.len[0] = GRAPH_BIN;
    /* missing shard */
    expect_bad(graph_model("_FusedConv2D", "c1", "nothere.bin", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_IO,
               "shard 'nothere.bin' is missing");
    /* a second shard beyond what the manifest needs: longer than the manifest says */
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", ", \"g2.bin\"", "float32", q, "3, 3, 4, 1"), &m,
               SM_ERR_FORMAT, "shard 'g2.bin' is longer than the manifest says");
    /* paths that escape the folder */
    m.calls = 0;
    expect_bad(graph_model("_FusedConv2D", "c1", "../g.bin", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_FORMAT,
               "shard path '../g.bin' contains '..'");
    expect_bad(graph_model("_FusedConv2D", "c1", "sub/../../g.bin", "", "float32", q, "3, 3, 4, 1"), &m,
               SM_ERR_FORMAT, "contains '..'");
    expect_bad(graph_model("_FusedConv2D", "c1", "/etc/passwd", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_FORMAT,
               "shard path '/etc/passwd' is absolute");
    expect_bad(graph_model("_FusedConv2D", "c1", "a\\\\..\\\\g.bin", "", "float32", q, "3, 3, 4, 1"), &m,
               SM_ERR_FORMAT, "backslash");
    ck_assert_int_eq(m.calls, 0); /* refused before any read */
    /* unknown op, unknown dtype, quantisation parameters missing */
    expect_bad(graph_model("Conv3D", "c1", "g.bin", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_UNSUPPORTED,
               "node 'c1': op 'Conv3D' is not on the allow-list");
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", "", "complex64", q, "3, 3, 4, 1"), &m, SM_ERR_UNSUPPORTED,
               "weight 'w1': unknown or unsupported dtype 'complex64'");
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", "", "float32", "\"scale\": 0.0078125", "3, 3, 4, 1"), &m,
               SM_ERR_FORMAT, "weight 'w1': uint8 quantization without numeric \"scale\" and \"min\"");
    /* element count disagreeing with the shape: w2 declared [3,3,4,2] = 72 values, the shard holds 36 */
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", "", "float32", q, "3, 3, 4, 2"), &m, SM_ERR_FORMAT,
               "hold 240 bytes but the manifest's 5 weights need 384");
    /* a weight whose shape disagrees with its use: w2 [3,3,2,1] on 4 channels (a shard of the right size) */
    m.len[0] = 72 + 8 + 72 + 16;
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", "", "float32", q, "3, 3, 2, 1"), &m, SM_ERR_SHAPE,
               "node 'd1': filter 'w2' has 2 input channels, the input 'c1' has 4");
    m.len[0] = GRAPH_BIN;
    /* a cycle: d1 reads r1, which depends on d1 */
    expect_bad(graph_model("_FusedConv2D", "r1", "g.bin", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_FORMAT,
               "the graph has a cycle through node");
    /* a dangling input name */
    expect_bad(graph_model("_FusedConv2D", "nowhere", "g.bin", "", "float32", q, "3, 3, 4, 1"), &m, SM_ERR_FORMAT,
               "node 'd1': input 'nowhere' names no node of the graph (dangling input)");
    /* a 1 GB declared shape: refused before any shard is read */
    m.calls = 0;
    expect_bad(graph_model("_FusedConv2D", "c1", "g.bin", "", "float32", q, "16384, 16384, 1, 1"), &m, SM_ERR_SHAPE,
               "declares more than 256 MiB of weights (at weight 'w2')");
    ck_assert_int_eq(m.calls, 0);
    /* JSON itself: duplicate key, nesting, bad UTF-8, trailing bytes, truncation */
    expect_bad("{\"a\": 1, \"a\": 2}", &m, SM_ERR_FORMAT, "duplicate key in object at offset 9");
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = 0;
    expect_bad(deep, &m, SM_ERR_FORMAT, "nesting deeper than 64 levels");
    expect_bad("[\"\xc3\x28\"]", &m, SM_ERR_FORMAT, "invalid UTF-8");
    expect_bad("[] x", &m, SM_ERR_FORMAT, "bytes after the JSON value");
    expect_bad("{\"weightsManifest\": [", &m, SM_ERR_FORMAT, "end of file");
    expect_bad("[\"\\u0000\"]", &m, SM_ERR_FORMAT, "\\u0000");
    /* formats that are not supported */
    expect_bad("{\"modelTopology\": {\"class_name\": \"Sequential\"}, \"weightsManifest\": []}", &m, SM_ERR_UNSUPPORTED,
               "layers model");
    expect_bad("[{\"paths\": [\"g2.bin\"], \"weights\": [{\"name\": \"w\", \"shape\": [2], \"dtype\": \"float32\"}]}]", &m,
               SM_ERR_UNSUPPORTED, "unrecognised weights-only manifest");
}
END_TEST


/* 1,500 nodes listed in reverse order: name lookups and the topological sort
 * stay linear (a hostile model.json cannot make the converter crawl). */
START_TEST(large_graph_is_linear)
{
    enum { N = 1500 };
    size_t cap = (size_t)N * 96 + 4096, n = 0;
    char *js = malloc(cap);
    n += (size_t)snprintf(js + n, cap - n, "{\"modelTopology\": {\"node\": [");
    for (int i = N - 1; i >= 1; i--)
        n += (size_t)snprintf(js + n, cap - n, "{\"name\": \"r%d\", \"op\": \"Relu\", \"input\": [\"r%d\"]},", i, i - 1);
    n += (size_t)snprintf(js + n, cap - n,
                          "{\"name\": \"r0\", \"op\": \"Placeholder\", \"attr\": {\"shape\": {\"shape\": {\"dim\": "
                          "[{\"size\": \"1\"}, {\"size\": \"2\"}]}}}}]}, \"weightsManifest\": [{\"paths\": [], \"weights\": []}]}");
    mem_shards m = {{"g.bin"}, {graph_bin}, {0}, 1, 0};
    sm_error err = {0};
    uint8_t *ser;
    size_t sl;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(convert_mem(js, &m, NULL, &err, &ser, &sl) == SM_OK, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("large_graph_is_linear: %d nodes converted in %.2f s\n", N, s);
    ck_assert_msg(s < 60, "%d nodes took %.1f s", N, s);
    free(ser);
    free(js);
}
END_TEST

/* Every prefix of the good graph model and random byte flips: refused or
 * converted, never a crash (run under make SANITIZE=1). */
START_TEST(bad_prefixes_and_flips)
{
    make_graph_bin();
    mem_shards m = {{"g.bin"}, {graph_bin}, {GRAPH_BIN}, 1, 0};
    char *good = strdup(GOOD_GRAPH);
    size_t n = strlen(good);
    sm_error err = {0};
    char *buf = malloc(n + 1);
    for (size_t k = 0; k < n; k++) {
        memcpy(buf, good, k);
        buf[k] = 0;
        ck_assert_int_ne(convert_mem(buf, &m, NULL, &err, NULL, NULL), SM_OK);
    }
    sm_test_seed(99);
    int ok = 0;
    for (int it = 0; it < 2000; it++) {
        memcpy(buf, good, n + 1);
        for (int f = 0; f < 3; f++) {
            size_t at = (size_t)sm_test_uniform(0, (float)n);
            buf[at < n ? at : n - 1] = (char)(1 + (int)sm_test_uniform(0, 254));
        }
        ok += convert_mem(buf, &m, NULL, &err, NULL, NULL) == SM_OK;
    }
    printf("bad_prefixes_and_flips: %zu prefixes refused; %d of 2000 flipped files still converted\n", n, ok);
    free(buf);
    free(good);
}
END_TEST

/* The disk reader: a symlink out of the model's folder is refused, a missing
 * shard names the file, and smw-convert writes nothing on any error. */
START_TEST(disk_shards_and_cli)
{
    const char *dir = sm_test_tmpdir(), *outside = sm_test_tmpdir();
    char p[4096], q[4096], args[8192], out[4096];
    make_graph_bin();
    snprintf(p, sizeof p, "%s/secret.bin", outside);
    FILE *fp = fopen(p, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(graph_bin, 1, GRAPH_BIN, fp);
    fclose(fp);
    snprintf(q, sizeof q, "%s/g.bin", dir);
    ck_assert_int_eq(symlink(p, q), 0);
    snprintf(p, sizeof p, "%s/model.json", dir);
    fp = fopen(p, "wb");
    fputs(GOOD_GRAPH, fp);
    fclose(fp);
    snprintf(args, sizeof args, "%s -o %s/out.smw", p, dir);
    int rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "model.json: shard 'g.bin' resolves outside the model's folder"), "%s", out);
    snprintf(q, sizeof q, "%s/out.smw", dir);
    ck_assert_int_ne(access(q, F_OK), 0);
    /* the real file next to the model: converts */
    snprintf(q, sizeof q, "%s/g.bin", dir);
    unlink(q);
    fp = fopen(q, "wb");
    fwrite(graph_bin, 1, GRAPH_BIN, fp);
    fclose(fp);
    rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert(strstr(out, "architecture: tfjs_graph"));
    snprintf(q, sizeof q, "%s/out.smw", dir);
    ck_assert_int_eq(access(q, F_OK), 0);
    unlink(q);
    /* truncated shard on disk: exit 1, message names file and problem, nothing written */
    snprintf(q, sizeof q, "%s/g.bin", dir);
    ck_assert_int_eq(truncate(q, 100), 0);
    rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "model.json: weightsManifest[0]: the shards (g.bin) hold 100 bytes"), "%s", out);
    snprintf(q, sizeof q, "%s/out.smw", dir);
    ck_assert_int_ne(access(q, F_OK), 0);
    /* longer on disk */
    snprintf(q, sizeof q, "%s/g.bin", dir);
    ck_assert_int_eq(truncate(q, GRAPH_BIN + 1), 0);
    rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "shard 'g.bin' is longer than the manifest says"), "%s", out);
    /* missing */
    unlink(q);
    rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "shard 'g.bin' is missing"), "%s", out);
    snprintf(q, sizeof q, "%s/out.smw", dir);
    ck_assert_int_ne(access(q, F_OK), 0);
    /* --meta records provenance; a bad --meta is a usage error */
    snprintf(args, sizeof args, "%s -o %s/fer.smw --meta source.license=MIT", fer_manifest(), dir);
    rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_msg(rc == 0 && strstr(out, "source.license = MIT"), "%s", out);
    snprintf(args, sizeof args, "%s -o %s/fer2.smw --meta nodot", fer_manifest(), dir);
    ck_assert_int_eq(sm_test_run("smw-convert", args, out, sizeof out), 2);
    /* smw-run runs the converted model */
    snprintf(args, sizeof args, "%s/fer.smw --input %s --out-dir %s", dir,
             sm_test_committed("tfjs-ref/lfw1.input.npy"), dir);
    rc = sm_test_run("smw-run", args, out, sizeof out);
    ck_assert_msg(rc == 0 && strstr(out, "probabilities [1, 7]"), "%s", out);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("tfjs");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, faceapi_converts);
    tcase_add_test(tc, faceapi_parity_tfjs);
    tcase_add_test(tc, faceapi_graph_precision_option);
    tcase_add_test(tc, xception_parity_tfjs);
    tcase_add_test(tc, op_average_pool);
    tcase_add_test(tc, op_mean_softmax_fc);
    tcase_add_test(tc, op_rejects);
    tcase_add_test(tc, graph_model_converts_and_runs);
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, bad_prefixes_and_flips);
    tcase_add_test(tc, large_graph_is_linear);
    tcase_add_test(tc, disk_shards_and_cli);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return sm_test_main(make_suite()); }

/* Face pipeline suite: the graph executor, BlazeFace detector, face mesh and
 * tracker against the references in tests/fixtures/face-ref (TFLite
 * interpreter outputs and the official MediaPipe JS pipeline; flattened to text
 * by tests/gen/gen_face_refs.py). The models come from tests/gen/gen_face_models.sh
 * (make models into the fixtures); without them the model tests print "skipped". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_detector.h"
#include "face_mesh.h"
#include "npy.h"
#include "rgb_image.h"

#ifdef SM_HAVE_TURBOJPEG
#include <turbojpeg.h>
#endif
#include "sha256.h"
#include "sm_test.h"
#include "sm_graph.h"

#define REF "face-ref"

/* ---- helpers -------------------------------------------------------------------------- */

static const char *model_path(const char *name)
{
    static char buf[4][4096];
    static int k;
    char rel[256];
    snprintf(rel, sizeof rel, "face/%s.smw", name);
    const char *p = sm_test_fixture(rel);
    if (!p)
        return NULL;
    char *o = buf[k++ & 3];
    snprintf(o, 4096, "%s", p);
    return o;
}

static bool have_models(const char *test)
{
    if (model_path("face_detection_short_range") && model_path("face_landmark"))
        return true;
    sm_test_skip(test, "face models not in $SM_FIXTURES/face (gen_face_models.sh: npm or smw-convert missing)");
    return false;
}

static bool refine_ready(const char *test)
{
    if (!have_models(test))
        return false;
    if (!model_path("face_landmark_with_attention")) {
        sm_test_skip(test, "face_landmark_with_attention.smw missing");
        return false;
    }
    size_t n;
    sm_face_custom_ops(&n);
    if (n == 0) {
        sm_test_skip(test, "MediaPipe custom ops (models/mediapipe_ops, branch mpops) not built in yet");
        return false;
    }
    return true;
}

static float *read_f32(const char *rel, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, REF "/%s", rel);
    FILE *f = fopen(sm_test_committed(p), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", p);
    float *b = malloc(n * sizeof(float));
    ck_assert_uint_eq(fread(b, sizeof(float), n, f), n);
    fclose(f);
    return b;
}

static void load_image(const char *name, sm_rgb_image *img)
{
    char p[256];
    snprintf(p, sizeof p, REF "/images/%s.png", name);
    sm_error err = {0};
    ck_assert_msg(sm_rgb_image_load(sm_test_committed(p), img, &err) == SM_OK, "%s", err.msg);
}

/* A view of an image (the face-ref wide/tall crops of astronaut, clip frames). */
typedef struct {
    const uint8_t *rgb;
    int w, h;
    size_t stride;
} view;

static view crop_view(const sm_rgb_image *img, int x, int y, int w, int h)
{
    view v = {img->rgb + (size_t)y * img->stride + (size_t)x * 3, w, h, img->stride};
    return v;
}

/* The image a face-ref name stands for (README table). */
static view named_view(const char *name, sm_rgb_image *img)
{
    if (!strcmp(name, "wide") || !strcmp(name, "tall")) {
        load_image("astronaut", img);
        return !strcmp(name, "wide") ? crop_view(img, 0, 0, 512, 288) : crop_view(img, 106, 0, 300, 512);
    }
    load_image(name, img);
    return crop_view(img, 0, 0, img->width, img->height);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m))
            m = d; /* NaN propagates as a failure */
    }
    return m;
}

static FILE *open_gen(const char *rel)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_face_refs.py)", rel);
    FILE *f = fopen(p, "r");
    ck_assert(f != NULL);
    return f;
}

/* ---- executor on handmade graphs ------------------------------------------------------------- */

typedef struct {
    const char *op;
    const char *in[3];
    int n_in;
    const char *out;
    int32_t shape[4];
    int ndim;
    const char *act; /* for conv/add, or NULL */
} mini_op;

/* Graph: input x [1,4,4,2]; the ops given; weights w [3,1,1,2], b [3]. */
static sm_smw *mini_graph(const mini_op *ops, int n, const char *output, uint8_t **buf)
{
    sm_error err = {0};
    sm_smw_writer *w;
    ck_assert(sm_smw_writer_init(&w, &err) == SM_OK);
    float wt[6] = {1, -1, 0.5f, 2, -3, 0.25f}, b[3] = {0.1f, -0.2f, 0.3f}, al[3] = {0.5f, 0.25f, 2};
    uint64_t wd[4] = {3, 1, 1, 2}, bd[1] = {3}, ad[3] = {1, 1, 3};
    ck_assert(sm_smw_writer_add_tensor(w, "w", SM_DTYPE_F32, 4, wd, wt, &err) == SM_OK);
    ck_assert(sm_smw_writer_add_tensor(w, "b", SM_DTYPE_F32, 1, bd, b, &err) == SM_OK);
    ck_assert(sm_smw_writer_add_tensor(w, "alpha", SM_DTYPE_F32, 3, ad, al, &err) == SM_OK);
    const char *gin[1] = {"x"}, *gout[1] = {output};
    int32_t ishape[4] = {1, 4, 4, 2};
    ck_assert(sm_smw_writer_add_array(w, "graph.inputs", SM_META_STRING, gin, 1, &err) == SM_OK);
    ck_assert(sm_smw_writer_add_array(w, "graph.outputs", SM_META_STRING, gout, 1, &err) == SM_OK);
    ck_assert(sm_smw_writer_add_array(w, "graph.input_shape.0", SM_META_I32, ishape, 4, &err) == SM_OK);
    ck_assert(sm_smw_writer_add_u32(w, "graph.n_ops", (uint32_t)n, &err) == SM_OK);
    for (int i = 0; i < n; i++) {
        char k[128];
        const char *outs[1] = {ops[i].out};
        snprintf(k, sizeof k, "graph.op.%d.op", i);
        sm_smw_writer_add_string(w, k, ops[i].op, &err);
        snprintf(k, sizeof k, "graph.op.%d.inputs", i);
        sm_smw_writer_add_array(w, k, SM_META_STRING, ops[i].in, (size_t)ops[i].n_in, &err);
        snprintf(k, sizeof k, "graph.op.%d.outputs", i);
        sm_smw_writer_add_array(w, k, SM_META_STRING, outs, 1, &err);
        snprintf(k, sizeof k, "graph.op.%d.output_shape.0", i);
        sm_smw_writer_add_array(w, k, SM_META_I32, ops[i].shape, (size_t)ops[i].ndim, &err);
        if (!strcmp(ops[i].op, "CONV_2D")) {
            snprintf(k, sizeof k, "graph.op.%d.padding", i);
            sm_smw_writer_add_string(w, k, "VALID", &err);
            const char *ik[4] = {"stride_h", "stride_w", "dilation_h", "dilation_w"};
            for (int j = 0; j < 4; j++) {
                snprintf(k, sizeof k, "graph.op.%d.%s", i, ik[j]);
                sm_smw_writer_add_i32(w, k, 1, &err);
            }
        }
        if (ops[i].act) {
            snprintf(k, sizeof k, "graph.op.%d.activation", i);
            sm_smw_writer_add_string(w, k, ops[i].act, &err);
        }
    }
    size_t len;
    ck_assert(sm_smw_writer_serialize(w, buf, &len, &err) == SM_OK);
    sm_smw_writer_free(w);
    sm_smw *f;
    ck_assert_msg(sm_smw_parse(*buf, len, "mini.smw", NULL, &f, &err) == SM_OK, "%s", err.msg);
    return f;
}

/* conv 1x1 -> ADD(conv, x-padded) is not expressible without PAD; use conv -> PRELU and
 * conv -> ADD(conv2) -> RELU; expected values by direct arithmetic. */
START_TEST(executor_fuses_and_matches_arithmetic)
{
    mini_op ops[] = {
        {"CONV_2D", {"x", "w", "b"}, 3, "c1", {1, 4, 4, 3}, 4, "NONE"},
        {"PRELU", {"c1", "alpha"}, 2, "p1", {1, 4, 4, 3}, 4, NULL},
        {"CONV_2D", {"x", "w", "b"}, 3, "c2", {1, 4, 4, 3}, 4, "NONE"},
        {"ADD", {"p1", "c2"}, 2, "a", {1, 4, 4, 3}, 4, "NONE"},
        {"RELU", {"a"}, 1, "r", {1, 4, 4, 3}, 4, NULL},
    };
    uint8_t *buf;
    sm_smw *f = mini_graph(ops, 5, "r", &buf);
    sm_graph *g;
    sm_error err = {0};
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g, &err) == SM_OK, "%s", err.msg);
    sm_graph_stats st = sm_graph_get_stats(g);
    ck_assert_uint_eq(st.n_steps, 2); /* conv+prelu, conv+add+relu */
    ck_assert_uint_eq(st.n_fused, 3);
    float *x = sm_graph_input(g, 0);
    for (int i = 0; i < 32; i++)
        x[i] = (float)((i * 7) % 11) - 5.0f;
    sm_graph_run(g, NULL);
    const float *y = sm_graph_output(g, 0);
    const float wt[6] = {1, -1, 0.5f, 2, -3, 0.25f}, b[3] = {0.1f, -0.2f, 0.3f}, al[3] = {0.5f, 0.25f, 2};
    for (int p = 0; p < 16; p++)
        for (int o = 0; o < 3; o++) {
            float c = wt[o * 2] * x[p * 2] + wt[o * 2 + 1] * x[p * 2 + 1] + b[o];
            float pr = c >= 0 ? c : al[o] * c;
            float e = pr + c;
            e = e > 0 ? e : 0;
            ck_assert_msg(fabsf(y[p * 3 + o] - e) <= 1e-5f, "pixel %d ch %d: %g vs %g", p, o, y[p * 3 + o], e);
        }
    sm_graph_free(g);
    sm_smw_free(f);
    free(buf);
}
END_TEST

START_TEST(executor_rejects_bad_graphs)
{
    struct {
        mini_op op;
        sm_status st;
        const char *msg;
    } cases[] = {
        {{"CONV_2D", {"x", "w", "b"}, 3, "c", {1, 4, 4, 4}, 4, "NONE"}, SM_ERR_SHAPE, "the op computes [1,4,4,3]"},
        {{"HARD_SWISH", {"x"}, 1, "c", {1, 4, 4, 2}, 4, NULL}, SM_ERR_UNSUPPORTED, "operator not supported"},
        {{"CUSTOM:Foo", {"x"}, 1, "c", {1, 4, 4, 2}, 4, NULL}, SM_ERR_UNSUPPORTED, "custom op 'Foo'"},
        {{"RELU", {"nothere"}, 1, "c", {1, 4, 4, 2}, 4, NULL}, SM_ERR_FORMAT, "'nothere' is neither"},
        {{"CONV_2D", {"x", "w", "b"}, 3, "c", {1, 4, 4, 3}, 4, "TANH"}, SM_ERR_UNSUPPORTED, "fused activation 'TANH'"},
        {{"CONV_2D", {"x", "alpha", "b"}, 3, "c", {1, 4, 4, 3}, 4, "NONE"}, SM_ERR_SHAPE, "weights 'alpha'"},
        {{"ADD", {"x", "w"}, 2, "c", {1, 4, 4, 2}, 4, "NONE"}, SM_ERR_UNSUPPORTED, "single-element operand"},
        {{"RESHAPE", {"x"}, 1, "c", {1, 31}, 2, NULL}, SM_ERR_SHAPE, "RESHAPE of 32 elements"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *buf;
        sm_smw *f = mini_graph(&cases[i].op, 1, "c", &buf);
        sm_graph *g = (sm_graph *)1;
        sm_error err = {0};
        sm_status st = sm_graph_load(f, NULL, 0, &g, &err);
        ck_assert_msg(st == cases[i].st && strstr(err.msg, cases[i].msg) && strstr(err.msg, "mini.smw: graph op 0"),
                      "case %zu: status %s, message '%s'", i, sm_status_name(st), err.msg);
        ck_assert_ptr_null(g);
        sm_smw_free(f);
        free(buf);
    }
}
END_TEST

typedef struct {
    size_t n;
} twice_state;

static sm_status twice_prepare(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in, size_t n_out,
                               const sm_graph_shape *out, void **state, sm_error *err)
{
    (void)f;
    (void)op_index;
    if (n_in != 1 || n_out != 1 || sm_graph_numel(in[0]) != sm_graph_numel(out[0]))
        return sm_error_set(err, SM_ERR_SHAPE, "Twice: one input and one output of the same size");
    twice_state *s = malloc(sizeof *s);
    s->n = sm_graph_numel(in[0]);
    *state = s;
    return SM_OK;
}

static void twice_run(void *state, const float *const *in, float *const *out)
{
    const twice_state *s = state;
    for (size_t i = 0; i < s->n; i++)
        out[0][i] = 2 * in[0][i];
}

START_TEST(executor_custom_hook)
{
    mini_op op = {"CUSTOM:Twice", {"x"}, 1, "c", {1, 4, 4, 2}, 4, NULL};
    uint8_t *buf;
    sm_smw *f = mini_graph(&op, 1, "c", &buf);
    sm_graph_custom_op hooks[1] = {{"Twice", twice_prepare, twice_run, free}};
    sm_graph *g;
    sm_error err = {0};
    ck_assert_msg(sm_graph_load(f, hooks, 1, &g, &err) == SM_OK, "%s", err.msg);
    float *x = sm_graph_input(g, 0);
    for (int i = 0; i < 32; i++)
        x[i] = (float)i;
    sm_graph_run(g, NULL);
    for (int i = 0; i < 32; i++)
        ck_assert_float_eq(sm_graph_output(g, 0)[i], 2.0f * i);
    sm_graph_free(g);
    sm_smw_free(f);
    free(buf);
}
END_TEST

/* ---- executor on mutated real graphs ------------------------------------------------------------ */

typedef struct {
    const char *key;     /* metadata key to change */
    int kind;            /* 0 set i32, 1 set string, 2 set string array entry, 3 set u32, 4 drop */
    int32_t i;
    const char *str;
    size_t entry;
} mutation;

static size_t meta_elem_size(sm_meta_type t)
{
    switch (t) {
    case SM_META_U32: case SM_META_I32: case SM_META_F32: return 4;
    case SM_META_U64: case SM_META_I64: case SM_META_F64: return 8;
    case SM_META_BOOL: return 1;
    default: return 0;
    }
}

/* Copies every tensor and metadata key of src into a new file, applying mut. */
static sm_smw *rewrite(const sm_smw *src, const mutation *mut, uint8_t **buf)
{
    sm_error err = {0};
    sm_smw_writer *w;
    ck_assert(sm_smw_writer_init(&w, &err) == SM_OK);
    for (size_t i = 0; i < src->n_tensors; i++) {
        const sm_tensor_info *t = &src->tensors[i];
        ck_assert(sm_smw_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, t->data, &err) == SM_OK);
    }
    for (size_t i = 0; i < src->n_meta; i++) {
        const sm_meta *m = &src->meta[i];
        bool hit = mut && !strcmp(m->key, mut->key);
        if (hit && mut->kind == 4)
            continue;
        if (hit && mut->kind == 0) {
            ck_assert(sm_smw_writer_add_i32(w, m->key, mut->i, &err) == SM_OK);
            continue;
        }
        if (hit && mut->kind == 3) {
            ck_assert(sm_smw_writer_add_u32(w, m->key, (uint32_t)mut->i, &err) == SM_OK);
            continue;
        }
        if (hit && mut->kind == 1) {
            ck_assert(sm_smw_writer_add_string(w, m->key, mut->str, &err) == SM_OK);
            continue;
        }
        sm_status st = SM_OK;
        char tmp[4096];
        switch (m->type) {
        case SM_META_U32: st = sm_smw_writer_add_u32(w, m->key, m->v.u32, &err); break;
        case SM_META_I32: st = sm_smw_writer_add_i32(w, m->key, m->v.i32, &err); break;
        case SM_META_F32: st = sm_smw_writer_add_f32(w, m->key, m->v.f32, &err); break;
        case SM_META_U64: st = sm_smw_writer_add_u64(w, m->key, m->v.u64, &err); break;
        case SM_META_I64: st = sm_smw_writer_add_i64(w, m->key, m->v.i64, &err); break;
        case SM_META_F64: st = sm_smw_writer_add_f64(w, m->key, m->v.f64, &err); break;
        case SM_META_BOOL: st = sm_smw_writer_add_bool(w, m->key, m->v.b, &err); break;
        case SM_META_STRING:
            snprintf(tmp, sizeof tmp, "%.*s", (int)m->v.str.len, m->v.str.ptr);
            st = sm_smw_writer_add_string(w, m->key, tmp, &err);
            break;
        case SM_META_ARRAY:
            if (m->elem_type == SM_META_STRING) {
                char **v = calloc(m->count + 1, sizeof *v);
                for (size_t k = 0; k < m->count; k++) {
                    const sm_str *e = &m->strings[k];
                    v[k] = strndup(e->ptr, e->len);
                    if (hit && mut->kind == 2 && k == mut->entry) {
                        free(v[k]);
                        v[k] = strdup(mut->str);
                    }
                }
                st = sm_smw_writer_add_array(w, m->key, SM_META_STRING, v, (size_t)m->count, &err);
                for (size_t k = 0; k < m->count; k++)
                    free(v[k]);
                free(v);
            } else {
                size_t es = meta_elem_size(m->elem_type);
                void *v = malloc(es * m->count + 1);
                memcpy(v, m->array_data, es * m->count);
                if (hit && mut->kind == 2 && mut->entry < m->count && es == 4)
                    memcpy((uint8_t *)v + 4 * mut->entry, &mut->i, 4);
                st = sm_smw_writer_add_array(w, m->key, m->elem_type, v, (size_t)m->count, &err);
                free(v);
            }
            break;
        default: break;
        }
        ck_assert_msg(st == SM_OK, "%s", err.msg);
    }
    size_t len;
    ck_assert(sm_smw_writer_serialize(w, buf, &len, &err) == SM_OK);
    sm_smw_writer_free(w);
    sm_smw *f;
    ck_assert_msg(sm_smw_parse(*buf, len, "mutated.smw", NULL, &f, &err) == SM_OK, "%s", err.msg);
    return f;
}

START_TEST(executor_rejects_mutated_models)
{
    if (!have_models("executor_rejects_mutated_models"))
        return;
    sm_smw *src;
    sm_error err = {0};
    ck_assert(sm_smw_open(model_path("face_detection_short_range"), NULL, &src, &err) == SM_OK);
    /* op 2 is the first CONV_2D (5x5 stride 2 on the input), op 3 its RELU */
    const struct {
        mutation m;
        sm_status st;
        const char *msg;
    } cases[] = {
        {{"graph.n_ops", 3, 100, NULL, 0}, SM_ERR_FORMAT, "graph output 'regressors' is not produced"},
        {{"graph.op.2.stride_h", 0, 1, NULL, 0}, SM_ERR_SHAPE, "the op computes [1,128,64,24]"},
        {{"graph.op.2.stride_h", 0, 0, NULL, 0}, SM_ERR_UNSUPPORTED, "stride_h = 0"},
        {{"graph.op.2.padding", 1, 0, "FULL", 0}, SM_ERR_UNSUPPORTED, "padding 'FULL'"},
        {{"graph.op.2.dilation_w", 0, 2, NULL, 0}, SM_ERR_UNSUPPORTED, "dilation_w = 2"},
        {{"graph.op.2.inputs", 2, 0, "nowhere", 1}, SM_ERR_FORMAT, "'nowhere' is neither"},
        {{"graph.op.3.op", 1, 0, "CUSTOM:Bogus", 0}, SM_ERR_UNSUPPORTED, "custom op 'Bogus'"},
        {{"graph.op.2.output_shape.0", 2, 65, NULL, 2}, SM_ERR_SHAPE, "is [1,64,65,24] in the file"},
        {{"graph.op.2.activation", 4, 0, NULL, 0}, SM_ERR_FORMAT, "option 'activation' missing"},
        {{"graph.outputs", 2, 0, "nothing", 0}, SM_ERR_FORMAT, "graph output 'nothing' is not produced"},
        {{"graph.input_shape.0", 2, 0, NULL, 1}, SM_ERR_SHAPE, "invalid dimension"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *buf;
        sm_smw *f = rewrite(src, &cases[i].m, &buf);
        sm_graph *g = NULL;
        sm_status st = sm_graph_load(f, NULL, 0, &g, &err);
        ck_assert_msg(st == cases[i].st && strstr(err.msg, cases[i].msg) && strstr(err.msg, "mutated.smw"),
                      "case %zu (%s): status %s, message '%s'", i, cases[i].m.key, sm_status_name(st), err.msg);
        ck_assert_ptr_null(g);
        sm_smw_free(f);
        free(buf);
    }
    /* every integer option of every op set to hostile values: refused or run, never a crash (ASan) */
    static const int32_t vals[] = {0, -1, 3, 1000000, INT32_MIN};
    uint32_t n_ops;
    ck_assert(sm_smw_meta_u32(src, "graph.n_ops", &n_ops, &err) == SM_OK);
    int refused = 0, loaded = 0;
    for (size_t i = 0; i < src->n_meta; i++) {
        const sm_meta *m = &src->meta[i];
        if (strncmp(m->key, "graph.op.", 9) || (m->type != SM_META_I32 && m->type != SM_META_ARRAY))
            continue;
        if (m->type == SM_META_ARRAY && (m->elem_type != SM_META_I32 || m->count == 0))
            continue;
        unsigned op = (unsigned)atoi(m->key + 9);
        if (op % 7 != 2) /* a sample of the ops keeps the suite fast */
            continue;
        for (size_t v = 0; v < sizeof vals / sizeof *vals; v++) {
            mutation mu = {m->key, m->type == SM_META_I32 ? 0 : 2, vals[v], NULL,
                           m->type == SM_META_I32 ? 0 : (size_t)(v % m->count)};
            uint8_t *buf;
            sm_smw *f = rewrite(src, &mu, &buf);
            sm_graph *g = NULL;
            if (sm_graph_load(f, NULL, 0, &g, &err) == SM_OK) {
                sm_graph_run(g, NULL);
                sm_graph_free(g);
                loaded++;
            } else {
                refused++;
            }
            sm_smw_free(f);
            free(buf);
        }
    }
    printf("  mutated detector graphs: %d refused, %d loaded and ran\n", refused, loaded);
    ck_assert_int_gt(refused, 50);
    sm_smw_free(src);
}
END_TEST

/* ---- networks vs the TFLite interpreter ------------------------------------------------------- */

START_TEST(networks_match_tflite)
{
    if (!have_models("networks_match_tflite"))
        return;
    FILE *cf = open_gen("face/tflite_cases.txt");
    char name[64], model[128], fill[256], sha[65];
    int n_out, cases = 0;
    sm_graph *det = NULL, *mesh = NULL;
    sm_smw *fd = NULL, *fm = NULL;
    sm_error err = {0};
    ck_assert(sm_smw_open(model_path("face_detection_short_range"), NULL, &fd, &err) == SM_OK);
    ck_assert(sm_smw_open(model_path("face_landmark"), NULL, &fm, &err) == SM_OK);
    ck_assert_msg(sm_graph_load(fd, NULL, 0, &det, &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(sm_graph_load(fm, NULL, 0, &mesh, &err) == SM_OK, "%s", err.msg);
    while (fscanf(cf, "%63s %127s %255s %64s %d", name, model, fill, sha, &n_out) == 5) {
        sm_graph *g = strstr(model, "detection") ? det : mesh;
        size_t n = sm_graph_numel(sm_graph_input_shape(g, 0));
        float *in = sm_graph_input(g, 0);
        if (!strncmp(fill, "file:", 5)) {
            float *b = read_f32(fill + 5, n);
            memcpy(in, b, n * sizeof(float));
            free(b);
        } else if (!strncmp(fill, "const:", 6)) {
            float v = strtof(fill + 6, NULL);
            for (size_t i = 0; i < n; i++)
                in[i] = v;
        } else {
            /* tflite_run.js --fill random:SEED (README) */
            uint32_t s = (uint32_t)strtoul(fill + 7, NULL, 10);
            for (size_t i = 0; i < n; i++) {
                s = s * 1664525u + 1013904223u;
                in[i] = (float)((double)s / 2147483648.0 - 1.0);
            }
        }
        char hex[65];
        sm_sha256_hex(in, n * sizeof(float), hex);
        ck_assert_msg(!strcmp(hex, sha), "%s: input SHA-256 %s, index.json says %s", name, hex, sha);
        sm_graph_run(g, NULL);
        for (int k = 0; k < n_out; k++) {
            char oname[64], ofile[256];
            double maxref;
            ck_assert(fscanf(cf, "%63s %255s %lf", oname, ofile, &maxref) == 3);
            int oi = sm_graph_find_output(g, oname);
            ck_assert_int_ge(oi, 0);
            size_t m = sm_graph_numel(sm_graph_output_shape(g, (size_t)oi));
            float *ref = read_f32(ofile, m);
            double e = max_abs_diff(sm_graph_output(g, (size_t)oi), ref, m);
            printf("  %-14s %-15s max|err| %.3g (%.2g x max|ref| %.4g)\n", name, oname, e, e / maxref, maxref);
            ck_assert_msg(e <= 1e-4 * maxref, "%s %s: max error %g > 1e-4 x %g", name, oname, e, maxref);
            free(ref);
        }
        char roi[5][64];
        ck_assert(fscanf(cf, "%63s %63s %63s %63s %63s", roi[0], roi[1], roi[2], roi[3], roi[4]) == 5);
        cases++;
    }
    fclose(cf);
    ck_assert_int_eq(cases, 9);
    sm_graph_free(det);
    sm_graph_free(mesh);
    sm_smw_free(fd);
    sm_smw_free(fm);
}
END_TEST

/* ---- preprocessing: our input tensors equal the committed ones --------------------------------- */

START_TEST(input_tensors_match_committed)
{
    FILE *cf = open_gen("face/tflite_cases.txt");
    char name[64], model[128], fill[256], sha[65], rest[1024];
    int checked = 0;
    float *ours = malloc(sizeof(float) * 192 * 192 * 3);
    while (fscanf(cf, "%63s %127s %255s %64s", name, model, fill, sha) == 4) {
        int n_out;
        ck_assert(fscanf(cf, "%d", &n_out) == 1);
        for (int k = 0; k < n_out; k++)
            ck_assert(fscanf(cf, "%1023s %1023s %1023s", rest, rest, rest) == 3);
        double roi[5];
        char r[5][64];
        ck_assert(fscanf(cf, "%63s %63s %63s %63s %63s", r[0], r[1], r[2], r[3], r[4]) == 5);
        if (strncmp(fill, "file:", 5))
            continue;
        sm_rgb_image img;
        const char *im = strchr(name, '_') + 1;
        view v = named_view(im, &img);
        size_t n;
        if (!strncmp(name, "det_", 4)) {
            n = 128 * 128 * 3;
            sm_face_letterbox(v.rgb, v.w, v.h, v.stride, ours);
        } else {
            n = 192 * 192 * 3;
            for (int i = 0; i < 5; i++)
                roi[i] = strtod(r[i], NULL);
            sm_face_roi fr = {(float)roi[0], (float)roi[1], (float)roi[2], (float)roi[3], (float)roi[4]};
            sm_face_mesh_crop(v.rgb, v.w, v.h, v.stride, &fr, ours);
        }
        float *ref = read_f32(fill + 5, n);
        double e = max_abs_diff(ours, ref, n);
        printf("  %-14s input tensor max|err| %.3g\n", name, e);
        /* the ROI is read back from float32 text: allow the sampling shift that causes */
        ck_assert_msg(e <= (n == 128 * 128 * 3 ? 1e-6 : 2e-5), "%s: input differs by %g", name, e);
        free(ref);
        sm_rgb_image_free(&img);
        checked++;
    }
    fclose(cf);
    free(ours);
    ck_assert_int_eq(checked, 5);
}
END_TEST

/* ---- post-processing pieces ---------------------------------------------------------------------- */

START_TEST(anchors_layout)
{
    float a[SM_FACE_DET_ANCHORS][2];
    sm_face_anchors(a);
    /* FACE_MODELS.md 4: 16x16x2 then 8x8x6, centre ((x+.5)/fm, (y+.5)/fm), row-major y, x, anchor */
    ck_assert_float_eq(a[0][0], 0.5f / 16);
    ck_assert_float_eq(a[1][0], 0.5f / 16);
    ck_assert_float_eq(a[2][0], 1.5f / 16);
    ck_assert_float_eq(a[32][1], 1.5f / 16);
    ck_assert_float_eq(a[511][0], 15.5f / 16);
    ck_assert_float_eq(a[511][1], 15.5f / 16);
    ck_assert_float_eq(a[512][0], 0.5f / 8);
    ck_assert_float_eq(a[517][0], 0.5f / 8);
    ck_assert_float_eq(a[518][0], 1.5f / 8);
    ck_assert_float_eq(a[895][0], 7.5f / 8);
    ck_assert_float_eq(a[895][1], 7.5f / 8);
}
END_TEST

static sm_face_candidate box(float s, float x0, float y0, float x1, float y1)
{
    sm_face_candidate c;
    memset(&c, 0, sizeof c);
    c.score = s;
    c.xmin = x0;
    c.ymin = y0;
    c.xmax = x1;
    c.ymax = y1;
    for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++) {
        c.kp[k][0] = x0 + 0.1f * (float)k;
        c.kp[k][1] = y0;
    }
    return c;
}

START_TEST(crop_any_roi)
{
    /* ROIs from garbage landmarks (NaN, inf, huge, tiny) sample edge pixels, never outside the image */
    uint8_t rgb[4 * 3 * 3];
    for (int i = 0; i < 36; i++)
        rgb[i] = (uint8_t)(i * 7);
    float *out = malloc(sizeof(float) * 192 * 192 * 3);
    const sm_face_roi rois[] = {{NAN, 1, 10, 10, 0}, {1, 1, INFINITY, 10, 0.3f}, {1e30f, -1e30f, 5, 5, 1},
                                {2, 1.5f, 1e-30f, 1e-30f, NAN}, {-5, 7, 1e9f, 1e9f, -3}};
    for (size_t k = 0; k < sizeof rois / sizeof *rois; k++) {
        sm_face_mesh_crop(rgb, 4, 3, 12, &rois[k], out);
        for (size_t i = 0; i < 192 * 192 * 3; i++)
            ck_assert_msg(out[i] >= 0.0f && out[i] <= 1.0f, "roi %zu value %g", k, out[i]);
    }
    float lb[128 * 128 * 3];
    sm_face_letterbox(rgb, 4, 3, 12, lb);
    ck_assert_float_eq(lb[0], -1.0f);                            /* letterbox rows above the image */
    ck_assert_float_eq_tol(lb[(64 * 128 + 64) * 3], (float)(rgb[(1 * 4 + 2) * 3] / 127.5 - 1), 0.2f);
    free(out);
}
END_TEST

START_TEST(weighted_nms_merges)
{
    /* A (0.9) and B (0.6) overlap with IoU 0.9/1.1; D (0.7) with A: 0.5/1.5 = 0.33 > 0.3;
     * E (0.8) with A: 0.4/1.6 = 0.25 (kept apart); C (0.65) far away. */
    sm_face_candidate c[5] = {box(0.6f, 0.1f, 0, 1.1f, 1), box(0.65f, 5, 5, 6, 6), box(0.9f, 0, 0, 1, 1),
                              box(0.7f, 0.5f, 0, 1.5f, 1), box(0.8f, 0.6f, 0, 1.6f, 1)};
    sm_face_candidate out[5];
    size_t n = sm_face_weighted_nms(c, 5, 0.3f, out, 5);
    /* groups: {A, B, D} (E: IoU 0.25 with A), then {E} (D already taken; C apart), then {C} */
    ck_assert_uint_eq(n, 3);
    float w = 0.9f + 0.6f + 0.7f;
    ck_assert_float_eq_tol(out[0].score, 0.9f, 1e-7f);
    ck_assert_float_eq_tol(out[0].xmin, (0.0f * 0.9f + 0.1f * 0.6f + 0.5f * 0.7f) / w, 1e-6f);
    ck_assert_float_eq_tol(out[0].xmax, (1.0f * 0.9f + 1.1f * 0.6f + 1.5f * 0.7f) / w, 1e-6f);
    ck_assert_float_eq_tol(out[0].ymax, 1.0f, 1e-6f);
    ck_assert_float_eq_tol(out[0].kp[5][0], (0.5f * 0.9f + 0.6f * 0.6f + 1.0f * 0.7f) / w, 1e-6f);
    ck_assert_float_eq_tol(out[1].score, 0.8f, 1e-7f);
    ck_assert_float_eq_tol(out[1].xmin, 0.6f, 1e-6f);
    ck_assert_float_eq_tol(out[2].score, 0.65f, 1e-7f);
    ck_assert_float_eq_tol(out[2].xmin, 5.0f, 1e-6f);
    /* max limits the output */
    sm_face_candidate c2[2] = {box(0.9f, 0, 0, 1, 1), box(0.8f, 3, 3, 4, 4)};
    ck_assert_uint_eq(sm_face_weighted_nms(c2, 2, 0.3f, out, 1), 1);
}
END_TEST

START_TEST(letterbox_removal)
{
    float x, y;
    /* wide 512x288: 112 px of padding above and below in 512 units */
    sm_face_unletterbox(0.5f, 0.5f, 512, 288, &x, &y);
    ck_assert_float_eq_tol(x, 256.0f, 1e-4f);
    ck_assert_float_eq_tol(y, 144.0f, 1e-4f);
    sm_face_unletterbox(0.0f, 112.0f / 512, 512, 288, &x, &y);
    ck_assert_float_eq_tol(x, 0.0f, 1e-4f);
    ck_assert_float_eq_tol(y, 0.0f, 1e-4f);
    sm_face_unletterbox(1.0f, 400.0f / 512, 512, 288, &x, &y);
    ck_assert_float_eq_tol(x, 512.0f, 1e-3f);
    ck_assert_float_eq_tol(y, 288.0f, 1e-3f);
    /* tall 300x512: 106 columns each side */
    sm_face_unletterbox(106.0f / 512, 0.25f, 300, 512, &x, &y);
    ck_assert_float_eq_tol(x, 0.0f, 1e-4f);
    ck_assert_float_eq_tol(y, 128.0f, 1e-4f);
    sm_face_unletterbox(406.0f / 512, 1.0f, 300, 512, &x, &y);
    ck_assert_float_eq_tol(x, 300.0f, 1e-3f);
    ck_assert_float_eq_tol(y, 512.0f, 1e-3f);
}
END_TEST

/* ---- detector vs the official pipeline ------------------------------------------------------------ */

static const char *const det_images[] = {"astronaut", "wide", "tall", "rot45", "small", "camera"};

START_TEST(detections_match_official)
{
    const char *im = det_images[_i];
    if (!have_models("detections_match_official"))
        return;
    char rel[128];
    snprintf(rel, sizeof rel, "face/%s.detection.txt", im);
    FILE *f = open_gen(rel);
    int W, H, n;
    ck_assert(fscanf(f, "%d %d %d", &W, &H, &n) == 3);
    sm_rgb_image img;
    view v = named_view(im, &img);
    ck_assert_int_eq(v.w, W);
    ck_assert_int_eq(v.h, H);
    sm_face_detector *d;
    sm_error err = {0};
    ck_assert_msg(sm_face_detector_load(model_path("face_detection_short_range"), &d, &err) == SM_OK, "%s", err.msg);
    sm_face_detection got[SM_FACE_DET_MAX];
    size_t m = sm_face_detector_detect(d, v.rgb, v.w, v.h, v.stride, NULL, got, SM_FACE_DET_MAX);
    ck_assert_int_eq((int)m, n);
    double eb = 0, ek = 0, es = 0;
    for (int i = 0; i < n; i++) {
        double r[17];
        for (int k = 0; k < 17; k++)
            ck_assert(fscanf(f, "%lf", &r[k]) == 1);
        const sm_face_detection *g = &got[i];
        double box[4] = {(g->xmin + g->width / 2) / W, (g->ymin + g->height / 2) / H, g->width / W, g->height / H};
        for (int k = 0; k < 4; k++)
            eb = fmax(eb, fabs(box[k] - r[1 + k]) * (k % 2 ? H : W));
        for (int k = 0; k < 6; k++) {
            ek = fmax(ek, fabs(g->kp[k][0] / W - r[5 + 2 * k]) * W);
            ek = fmax(ek, fabs(g->kp[k][1] / H - r[6 + 2 * k]) * H);
        }
        es = fmax(es, fabs(g->score - r[0]));
    }
    printf("  %-10s %d detection(s): box max|err| %.3g px, keypoints %.3g px, score %.3g\n", im, n, eb, ek, es);
    ck_assert_msg(eb <= 0.01 && ek <= 0.01 && es <= 1e-5, "%s: box %g px, keypoints %g px, score %g", im, eb, ek, es);
    fclose(f);
    sm_face_detector_free(d);
    sm_rgb_image_free(&img);
}
END_TEST

START_TEST(roi_rotation_rot45)
{
    if (!have_models("roi_rotation_rot45"))
        return;
    /* the ROI the face-ref script computed from the official rot45 detection (index.json roi_px) */
    FILE *cf = open_gen("face/tflite_cases.txt");
    char line[4096];
    double roi[5] = {0};
    while (fgets(line, sizeof line, cf))
        if (!strncmp(line, "mesh_rot45 ", 11)) {
            char *p = line + strlen(line);
            int k = 0;
            while (k < 5 && p > line) {
                while (p > line && (p[-1] == ' ' || p[-1] == '\n'))
                    *--p = 0;
                while (p > line && p[-1] != ' ')
                    p--;
                roi[4 - k++] = strtod(p, NULL);
            }
        }
    fclose(cf);
    ck_assert(roi[2] > 0);
    sm_rgb_image img;
    view v = named_view("rot45", &img);
    sm_face_detector *d;
    sm_error err = {0};
    ck_assert(sm_face_detector_load(model_path("face_detection_short_range"), &d, &err) == SM_OK);
    sm_face_detection det;
    ck_assert_uint_eq(sm_face_detector_detect(d, v.rgb, v.w, v.h, v.stride, NULL, &det, 1), 1);
    sm_face_roi r = sm_face_roi_from_detection(&det, v.w, v.h);
    printf("  rot45 ROI: centre (%.3f, %.3f) side %.3f rotation %.5f rad; reference (%.3f, %.3f) %.3f %.5f\n", r.cx,
           r.cy, r.w, r.rotation, roi[0], roi[1], roi[2], roi[4]);
    ck_assert_float_eq_tol(r.cx, roi[0], 0.01);
    ck_assert_float_eq_tol(r.cy, roi[1], 0.01);
    ck_assert_float_eq_tol(r.w, roi[2], 0.01);
    ck_assert_float_eq_tol(r.h, roi[3], 0.01);
    ck_assert_float_eq_tol(r.rotation, roi[4], 1e-4);
    sm_face_detector_free(d);
    sm_rgb_image_free(&img);
}
END_TEST

/* ---- landmarks vs the official pipeline --------------------------------------------------------------- */

/* Runs the tracker over the sends of <im>.<kind>.txt (first frame + tracking frames) and
 * compares every landmark in 192-input units (pixel error x 192 / ROI side). */
static void landmarks_case(const char *im, const char *kind, bool refine)
{
    char rel[128];
    snprintf(rel, sizeof rel, "face/%s.%s.txt", im, kind);
    FILE *f = open_gen(rel);
    int W, H, sends, npts;
    ck_assert(fscanf(f, "%d %d %d %d", &W, &H, &sends, &npts) == 4);
    sm_rgb_image img;
    view v = named_view(im, &img);
    sm_face_tracker *t;
    sm_error err = {0};
    ck_assert_msg(sm_face_tracker_init(model_path("face_detection_short_range"),
                                       model_path(refine ? "face_landmark_with_attention" : "face_landmark"), &t,
                                       &err) == SM_OK,
                  "%s", err.msg);
    sm_face_result *res = malloc(sizeof *res);
    for (int s = 0; s < sends; s++) {
        int faces;
        ck_assert(fscanf(f, "%d", &faces) == 1);
        bool ok = sm_face_tracker_process(t, v.rgb, v.w, v.h, v.stride, NULL, res);
        const sm_face_landmarks *lm = sm_face_tracker_landmarks(t);
        if (faces == 0) {
            printf("  %-10s %s send %d: no face (reference: none); presence %.4f\n", im, kind, s, lm->presence);
            ck_assert_msg(!ok, "%s send %d: face found (presence %.4f), the official pipeline found none", im, s,
                          lm->presence);
            continue;
        }
        ck_assert_msg(ok, "%s send %d: no face (presence %.4f)", im, s, lm->presence);
        ck_assert_msg(sm_face_tracker_detector_ran(t) == (s == 0), "%s send %d: detector ran = %d", im, s,
                      sm_face_tracker_detector_ran(t));
        ck_assert_int_eq(res->n_landmarks, npts);
        double e = 0, scale = 192.0 / lm->roi.w;
        for (int i = 0; i < npts; i++) {
            double r[3];
            ck_assert(fscanf(f, "%lf %lf %lf", &r[0], &r[1], &r[2]) == 3);
            double px[3] = {r[0] * W, r[1] * H, r[2] * W};
            for (int c = 0; c < 3; c++)
                e = fmax(e, fabs(res->landmarks[i][c] - px[c]) * scale);
        }
        printf("  %-10s %s send %d (%s): %d landmarks, max|err| %.3g px in 192-input units\n", im, kind, s,
               s ? "tracking" : "detection ROI", npts, e);
        ck_assert_msg(e <= 0.05, "%s %s send %d: landmark error %g > 0.05 (192-input px)", im, kind, s, e);
    }
    free(res);
    fclose(f);
    sm_face_tracker_free(t);
    sm_rgb_image_free(&img);
}

static const char *const plain_images[] = {"astronaut", "rot45", "camera"};

START_TEST(plain_landmarks_match_official)
{
    if (!have_models("plain_landmarks_match_official"))
        return;
    landmarks_case(plain_images[_i], "plain", false);
}
END_TEST

static const char *const refine_images[] = {"astronaut", "wide", "tall", "rot45", "small", "camera"};

START_TEST(refined_landmarks_match_official)
{
    if (!refine_ready("refined_landmarks_match_official"))
        return;
    landmarks_case(refine_images[_i], "refine", true);
}
END_TEST

START_TEST(refined_clip_matches_official)
{
    if (!refine_ready("refined_clip_matches_official"))
        return;
    sm_npy ref;
    sm_error err = {0};
    ck_assert_msg(sm_npy_load(sm_test_committed(REF "/mediapipe/clip.refine.landmarks.npy"), &ref, &err) == SM_OK, "%s",
                  err.msg);
    ck_assert(ref.dtype == SM_DTYPE_F32 && ref.ndim == 3 && ref.dims[0] == 10 && ref.dims[1] == 478);
    sm_rgb_image img;
    load_image("astronaut", &img);
    sm_face_tracker *t;
    ck_assert(sm_face_tracker_init(model_path("face_detection_short_range"), model_path("face_landmark_with_attention"),
                                   &t, &err) == SM_OK);
    sm_face_result *res = malloc(sizeof *res);
    double worst = 0;
    for (int k = 0; k < 10; k++) {
        /* frame k = astronaut[y 2k : 2k+320, x 40+4k : 40+4k+320] */
        view v = crop_view(&img, 40 + 4 * k, 2 * k, 320, 320);
        ck_assert(sm_face_tracker_process(t, v.rgb, v.w, v.h, v.stride, NULL, res));
        ck_assert(sm_face_tracker_detector_ran(t) == (k == 0));
        const float *r = (const float *)ref.data + (size_t)k * 478 * 3;
        double e = 0, scale = 192.0 / sm_face_tracker_landmarks(t)->roi.w;
        for (int i = 0; i < 478 * 3; i++)
            e = fmax(e, fabs(res->landmarks[i / 3][i % 3] - r[i]) * scale);
        worst = fmax(worst, e);
        ck_assert_msg(e <= 0.05, "clip frame %d: landmark error %g > 0.05 (192-input px)", k, e);
    }
    printf("  clip 10 frames (refine): max|err| %.3g px in 192-input units\n", worst);
    free(res);
    sm_face_tracker_free(t);
    sm_rgb_image_free(&img);
    sm_npy_free(&ref);
}
END_TEST

/* ---- a real face: anatomy sanity, tracking and re-detection ------------------------------------------- */

START_TEST(astronaut_anatomy_and_redetect)
{
    if (!have_models("astronaut_anatomy_and_redetect"))
        return;
    size_t nc;
    sm_face_custom_ops(&nc);
    bool refine = model_path("face_landmark_with_attention") && nc > 0;
    sm_rgb_image img;
    load_image("astronaut", &img);
    sm_face_tracker *t;
    sm_error err = {0};
    ck_assert(sm_face_tracker_init(model_path("face_detection_short_range"),
                                   model_path(refine ? "face_landmark_with_attention" : "face_landmark"), &t,
                                   &err) == SM_OK);
    sm_face_result *res = malloc(sizeof *res);
    ck_assert(sm_face_tracker_process(t, img.rgb, img.width, img.height, img.stride, NULL, res));
    sm_face_detection det;
    ck_assert(sm_face_tracker_last_detection(t, &det));
    ck_assert_int_eq(res->n_landmarks, refine ? 478 : 468);
    const float(*p)[3] = res->landmarks;
    float eye_l[2] = {det.kp[0][0], det.kp[0][1]}, eye_r[2] = {det.kp[1][0], det.kp[1][1]};
    float iod = hypotf(eye_r[0] - eye_l[0], eye_r[1] - eye_l[1]);
    /* outer eye corners next to the detector's eye centres, nose between, chin below the mouth */
    ck_assert_msg(hypotf(p[33][0] - eye_l[0], p[33][1] - eye_l[1]) < 0.5f * iod, "33 far from the left eye");
    ck_assert_msg(hypotf(p[263][0] - eye_r[0], p[263][1] - eye_r[1]) < 0.5f * iod, "263 far from the right eye");
    ck_assert(p[33][0] < eye_l[0] && p[263][0] > eye_r[0]); /* outer corners: outside the eye centres */
    ck_assert(p[1][0] > p[33][0] && p[1][0] < p[263][0]);
    ck_assert(p[1][1] > fmaxf(p[33][1], p[263][1]));
    ck_assert(p[152][1] > p[14][1] && p[152][1] > det.kp[3][1]);
    ck_assert(res->score > 0.9f);
    ck_assert(res->box[0] <= p[152][0] && res->box[0] + res->box[2] >= p[152][0]);
    /* tracking: no detector on the next frame */
    ck_assert(sm_face_tracker_process(t, img.rgb, img.width, img.height, img.stride, NULL, res));
    ck_assert(!sm_face_tracker_detector_ran(t));
    /* the face vanishes: presence drops, the face is dropped, the detector runs next time */
    uint8_t *black = calloc((size_t)img.width * img.height, 3);
    ck_assert(!sm_face_tracker_process(t, black, img.width, img.height, img.stride, NULL, res));
    ck_assert(!sm_face_tracker_detector_ran(t));
    ck_assert(!res->valid);
    ck_assert(!sm_face_tracker_process(t, black, img.width, img.height, img.stride, NULL, res));
    ck_assert(sm_face_tracker_detector_ran(t));
    ck_assert(sm_face_tracker_process(t, img.rgb, img.width, img.height, img.stride, NULL, res));
    ck_assert(sm_face_tracker_detector_ran(t));
    /* reset forces the detector */
    sm_face_tracker_reset(t);
    ck_assert(sm_face_tracker_process(t, img.rgb, img.width, img.height, img.stride, NULL, res));
    ck_assert(sm_face_tracker_detector_ran(t));
    free(black);
    free(res);
    sm_face_tracker_free(t);
    sm_rgb_image_free(&img);
}
END_TEST

START_TEST(tracker_threads_identical)
{
    if (!have_models("tracker_threads_identical"))
        return;
    size_t nc;
    sm_face_custom_ops(&nc);
    bool refine = model_path("face_landmark_with_attention") && nc > 0;
    sm_rgb_image img;
    load_image("rot45", &img);
    sm_error err = {0};
    sm_face_tracker *a, *b;
    char det[4096], mesh[4096]; /* model_path's buffers are reused */
    snprintf(det, sizeof det, "%s", model_path("face_detection_short_range"));
    snprintf(mesh, sizeof mesh, "%s", model_path(refine ? "face_landmark_with_attention" : "face_landmark"));
    ck_assert(sm_face_tracker_init(det, mesh, &a, &err) == SM_OK);
    /* one thread: the detector's frame, then the tracked mesh's */
    sm_face_result *ra = malloc(2 * sizeof *ra), *rb = malloc(sizeof *rb);
    for (int k = 0; k < 2; k++)
        ck_assert(sm_face_tracker_process(a, img.rgb, img.width, img.height, img.stride, NULL, &ra[k]));
    /* 2 and 3 threads, with the fan-out rule's grain (small ops stay on one
     * thread) and with none (every op splits as far as it can): the split never
     * changes a bit */
    size_t fanouts[2] = {0, 0};
    for (size_t threads = 2; threads <= 3; threads++)
        for (int every = 0; every < 2; every++) {
            sm_threadpool *pool;
            ck_assert(sm_threadpool_init(&pool, threads, &err) == SM_OK);
            sm_parallel_set_grain_scale(every ? 0.0 : 1.0);
            ck_assert(sm_face_tracker_init(det, mesh, &b, &err) == SM_OK);
            for (int k = 0; k < 2; k++) {
                ck_assert(sm_face_tracker_process(b, img.rgb, img.width, img.height, img.stride, pool, rb));
                ck_assert_int_eq(ra[k].n_landmarks, rb->n_landmarks);
                ck_assert_msg(!memcmp(ra[k].landmarks, rb->landmarks, sizeof rb->landmarks),
                              "frame %d differs with %zu threads%s", k, threads, every ? ", every op split" : "");
            }
            fanouts[every] = sm_threadpool_fanouts(pool);
            sm_face_tracker_free(b);
            sm_threadpool_free(pool);
        }
    sm_parallel_set_grain_scale(1.0);
    /* the pool was used, and the rule kept some ops on one thread (else this
     * compared one split twice) */
    ck_assert_uint_gt(fanouts[0], 0);
    ck_assert_uint_gt(fanouts[1], fanouts[0]);
    free(ra);
    free(rb);
    sm_face_tracker_free(a);
    sm_rgb_image_free(&img);
}
END_TEST

START_TEST(models_refused_clearly)
{
    if (!have_models("models_refused_clearly"))
        return;
    sm_face_detector *d = NULL;
    sm_face_mesh *m = NULL;
    sm_error err = {0};
    ck_assert(sm_face_detector_load(model_path("face_landmark"), &d, &err) == SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mediapipe_face_detector"), "%s", err.msg);
    ck_assert(sm_face_mesh_load(model_path("face_detection_short_range"), &m, &err) == SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mediapipe_face_mesh"), "%s", err.msg);
    ck_assert(sm_face_detector_load("/nonexistent/x.smw", &d, &err) == SM_ERR_IO);
    ck_assert_ptr_null(d);
    ck_assert_ptr_null(m);
    size_t nc;
    sm_face_custom_ops(&nc);
    if (nc == 0) {
        ck_assert(sm_face_mesh_load(model_path("face_landmark_with_attention"), &m, &err) == SM_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(err.msg, "Landmarks2TransformMatrix"), "%s", err.msg);
    }
}
END_TEST

/* ---- the image reader used by smw-run ---------------------------------------------------------------- */

START_TEST(image_reader)
{
    sm_rgb_image img;
    load_image("astronaut", &img);
    ck_assert_int_eq(img.width, 512);
    uint64_t sum = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
        sum += img.rgb[i];
    ck_assert_uint_eq(sum, 90124324); /* rgb_sum in mediapipe/astronaut.detection.json */
    sm_rgb_image_free(&img);
    load_image("camera", &img);
    sum = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
        sum += img.rgb[i];
    ck_assert_uint_eq(sum, 101497485);
    sm_rgb_image_free(&img);
    /* PPM and rejections */
    const uint8_t ppm[] = "P6\n# c\n2 1\n255\n\x01\x02\x03\x04\x05\x06";
    sm_error err = {0};
    ck_assert(sm_rgb_image_decode(ppm, sizeof ppm - 1, "a.ppm", &img, &err) == SM_OK);
    ck_assert_int_eq(img.rgb[5], 6);
    sm_rgb_image_free(&img);
    ck_assert(sm_rgb_image_decode(ppm, sizeof ppm - 3, "a.ppm", &img, &err) == SM_ERR_FORMAT);
    ck_assert(sm_rgb_image_decode((const uint8_t *)"GIF89a", 6, "a.gif", &img, &err) == SM_ERR_UNSUPPORTED);
    /* a header claiming 8192x8192 over a few bytes is refused before any allocation */
    {
        uint8_t big[8 + 25 + 12 + 16 + 12];
        size_t at = 0;
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        memcpy(big, sig, 8);
        at = 8;
        const uint8_t ihdr[17] = {'I', 'H', 'D', 'R', 0, 0, 0x20, 0, 0, 0, 0x20, 0, 8, 2, 0, 0, 0};
        const uint8_t idat[8] = {'I', 'D', 'A', 'T', 0x78, 0x9c, 0x03, 0x00};
        const uint8_t *chunks[3] = {ihdr, idat, (const uint8_t *)"IEND"};
        const uint32_t lens[3] = {13, 4, 0};
        for (int c = 0; c < 3; c++) {
            uint8_t be[4] = {0, 0, 0, (uint8_t)lens[c]};
            memcpy(big + at, be, 4);
            memcpy(big + at + 4, chunks[c], lens[c] + 4);
            uint32_t crc = sm_crc32(0, chunks[c], lens[c] + 4);
            uint8_t cb[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
            memcpy(big + at + 8 + lens[c], cb, 4);
            at += 12 + lens[c];
        }
        ck_assert(sm_rgb_image_decode(big, at, "big.png", &img, &err) == SM_ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, "8192x8192 but holds only"), "%s", err.msg);
    }
    /* every prefix and random corruptions of a real PNG fail cleanly */
    uint8_t *buf;
    size_t len;
    ck_assert(sm_file_read_all(sm_test_committed(REF "/images/small.png"), 0, &buf, &len, &err) == SM_OK);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
        ck_assert(sm_rgb_image_decode(buf, cut, "cut.png", &img, &err) != SM_OK);
        ck_assert_ptr_null(img.rgb);
    }
    sm_test_seed(7);
    for (int k = 0; k < 200; k++) {
        uint8_t *c = malloc(len);
        memcpy(c, buf, len);
        for (int j = 0; j < 4; j++)
            c[(size_t)sm_test_uniform(0, (float)len - 1)] ^= (uint8_t)(1 + (int)sm_test_uniform(0, 254));
        if (sm_rgb_image_decode(c, len, "bad.png", &img, &err) == SM_OK)
            sm_rgb_image_free(&img);
        free(c);
    }
    free(buf);
}
END_TEST

/* ---- smw-run ----------------------------------------------------------------------------------------- */

/* JPEG through the tools' reader: libjpeg-turbo's own encoder makes the file. */
START_TEST(image_reader_jpeg)
{
#ifndef SM_HAVE_TURBOJPEG
    sm_test_skip("image_reader_jpeg", "built without libjpeg-turbo");
#else
    sm_rgb_image img, back;
    load_image("astronaut", &img);
    tjhandle tj = tjInitCompress();
    ck_assert_ptr_nonnull(tj);
    unsigned char *jpg = NULL;
    unsigned long jlen = 0;
    ck_assert_int_eq(tjCompress2(tj, img.rgb, img.width, (int)img.stride, img.height, TJPF_RGB, &jpg, &jlen,
                                 TJSAMP_444, 95, 0), 0);
    sm_error err;
    ck_assert_msg(sm_rgb_image_decode(jpg, jlen, "a.jpg", &back, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(back.width, img.width);
    ck_assert_int_eq(back.height, img.height);
    double diff = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
        diff += fabs((double)back.rgb[i] - img.rgb[i]);
    diff /= (double)img.width * img.height * 3;
    ck_assert_msg(diff < 3.0, "JPEG round trip differs by %.2f levels on average", diff);
    sm_rgb_image_free(&back);
    ck_assert_int_ne(sm_rgb_image_decode(jpg, jlen / 3, "cut.jpg", &back, &err), SM_OK);
    ck_assert_ptr_null(back.rgb);
    tjFree(jpg);
    tjDestroy(tj);
    sm_rgb_image_free(&img);
#endif
}
END_TEST

START_TEST(smw_run_face_image)
{
    if (!have_models("smw_run_face_image"))
        return;
    char args[8192], out[1 << 16];
    const char *det = model_path("face_detection_short_range");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", det);
    *strrchr(dir, '/') = 0;
    snprintf(args, sizeof args, "--face --image '%s' --models '%s' --no-refine --json",
             sm_test_committed(REF "/images/astronaut.png"), dir);
    int rc = sm_test_run("smw-run", args, out, sizeof out);
    ck_assert_msg(rc == 0, "rc %d: %.2000s", rc, out);
    ck_assert_msg(strstr(out, "\"n_landmarks\": 468") && strstr(out, "\"detections\": [{"), "%.2000s", out);
    snprintf(args, sizeof args, "--face --image /nonexistent.png --models '%s'", dir);
    ck_assert_int_eq(sm_test_run("smw-run", args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/nonexistent.png"), "%s", out);
    ck_assert_int_eq(sm_test_run("smw-run", "--face", out, sizeof out), 2);
}
END_TEST

START_TEST(smw_run_raw_network)
{
    if (!have_models("smw_run_raw_network"))
        return;
    const char *tmp = sm_test_tmpdir();
    char in_path[4096], args[8192], out[1 << 14];
    snprintf(in_path, sizeof in_path, "%s/in.npy", tmp);
    float *x = read_f32("tflite/det_wide/input.f32", 128 * 128 * 3);
    uint64_t dims[4] = {1, 128, 128, 3};
    sm_error err = {0};
    ck_assert(sm_npy_save(in_path, SM_DTYPE_F32, 4, dims, x, &err) == SM_OK);
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s'", model_path("face_detection_short_range"), in_path,
             tmp);
    int rc = sm_test_run("smw-run", args, out, sizeof out);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    char p[4096];
    snprintf(p, sizeof p, "%s/regressors.npy", tmp);
    sm_npy y;
    ck_assert_msg(sm_npy_load(p, &y, &err) == SM_OK, "%s", err.msg);
    ck_assert(y.ndim == 3 && y.dims[1] == 896 && y.dims[2] == 16);
    float *ref = read_f32("tflite/det_wide/0_regressors.f32", 896 * 16);
    ck_assert(max_abs_diff(y.data, ref, 896 * 16) <= 1e-4 * 227.88);
    free(ref);
    free(x);
    sm_npy_free(&y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("face");
    TCase *tc = tcase_create("face");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, executor_fuses_and_matches_arithmetic);
    tcase_add_test(tc, executor_rejects_bad_graphs);
    tcase_add_test(tc, executor_custom_hook);
    tcase_add_test(tc, executor_rejects_mutated_models);
    tcase_add_test(tc, networks_match_tflite);
    tcase_add_test(tc, input_tensors_match_committed);
    tcase_add_test(tc, anchors_layout);
    tcase_add_test(tc, crop_any_roi);
    tcase_add_test(tc, weighted_nms_merges);
    tcase_add_test(tc, letterbox_removal);
    tcase_add_loop_test(tc, detections_match_official, 0, (int)(sizeof det_images / sizeof *det_images));
    tcase_add_test(tc, roi_rotation_rot45);
    tcase_add_loop_test(tc, plain_landmarks_match_official, 0, (int)(sizeof plain_images / sizeof *plain_images));
    tcase_add_loop_test(tc, refined_landmarks_match_official, 0, (int)(sizeof refine_images / sizeof *refine_images));
    tcase_add_test(tc, refined_clip_matches_official);
    tcase_add_test(tc, astronaut_anatomy_and_redetect);
    tcase_add_test(tc, tracker_threads_identical);
    tcase_add_test(tc, models_refused_clearly);
    tcase_add_test(tc, image_reader);
    tcase_add_test(tc, image_reader_jpeg);
    tcase_add_test(tc, smw_run_face_image);
    tcase_add_test(tc, smw_run_raw_network);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

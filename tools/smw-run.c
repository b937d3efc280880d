/* smw-run: runs the model in a .smw file on a .npy input given in the
 * original framework's layout, writes one .npy per named output and prints
 * them (text or one JSON object). The model is chosen by the file's
 * general.architecture through the runner table below: adding a model is one
 * entry (architecture, input contract, run function). */
#include "emotion_effnet.h"
#include "emotion_fer.h"
#include "face_mesh.h"
#include "fatigue_mlp.h"
#include "npy.h"
#include "rgb_image.h"
#include "rppg_ultralight.h"
#include "sm_engine.h"
#include "sm_graph.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_OUTPUTS 8
#define JSON_MAX_VALUES 65536 /* larger outputs are listed by shape and file only */

typedef struct {
    char name[32];
    sm_dtype dtype;
    uint32_t ndim;
    uint64_t dims[SM_NPY_MAX_DIMS];
    void *data; /* malloc'd */
} run_output;

typedef struct {
    run_output out[MAX_OUTPUTS];
    int n_out;
} run_result;

/* Input contract checked before a runner is called: rank, dims (-1 = any)
 * and the accepted dtypes. */
typedef struct {
    uint32_t ndim;
    int64_t dims[SM_NPY_MAX_DIMS];
    sm_dtype dtypes[3];
    int n_dtypes;
    const char *layout; /* for messages and --help */
} input_spec;

typedef sm_status (*run_fn)(const sm_smw *f, const sm_npy *in, const char *in_path, run_result *res,
                            sm_error *err);

typedef struct {
    const char *arch;
    input_spec input;
    const char *outputs; /* for --help */
    run_fn run;
} runner;

static sm_status add_output(run_result *res, const char *name, sm_dtype dt, uint32_t ndim,
                            const uint64_t *dims, void *data)
{
    run_output *o = &res->out[res->n_out++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->dtype = dt;
    o->ndim = ndim;
    memcpy(o->dims, dims, sizeof(uint64_t) * ndim);
    o->data = data;
    return SM_OK;
}

/* ---- runners ------------------------------------------------------------------ */

static sm_status run_mlp(const sm_smw *f, const sm_npy *in, const char *in_path, run_result *res,
                         sm_error *err)
{
    sm_fatigue_mlp *m;
    sm_status st = sm_fatigue_mlp_load(f, &m, err);
    if (st)
        return st;
    uint32_t nf = sm_fatigue_mlp_n_features(m), no = sm_fatigue_mlp_n_outputs(m);
    size_t n = (size_t)in->dims[0];
    if (in->dims[1] != nf) {
        sm_fatigue_mlp_free(m);
        return sm_error_set(err, SM_ERR_SHAPE, "%s: input has %llu features per row, the model expects %u",
                            in_path, (unsigned long long)in->dims[1], nf);
    }
    size_t cnt_x, cnt_p;
    if (!sm_size_mul(n, nf, &cnt_x) || !sm_size_mul(n, no, &cnt_p) || cnt_x > SIZE_MAX / 8 ||
        cnt_p > SIZE_MAX / 8) {
        sm_fatigue_mlp_free(m);
        return sm_error_set(err, SM_ERR_SHAPE, "%s: input too large", in_path);
    }
    double *x = malloc(cnt_x ? cnt_x * 8 : 1), *p = malloc(cnt_p ? cnt_p * 8 : 1);
    if (!x || !p) {
        free(x);
        free(p);
        sm_fatigue_mlp_free(m);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    /* float32 input is promoted exactly to float64, as sklearn would compute on x.astype(float64) */
    for (size_t i = 0; i < cnt_x; i++)
        x[i] = in->dtype == SM_DTYPE_F64 ? ((const double *)in->data)[i] : (double)((const float *)in->data)[i];
    sm_fatigue_mlp_predict_proba(m, x, n, p);
    free(x);
    sm_fatigue_mlp_free(m);
    uint64_t dims[2] = {n, no};
    return add_output(res, "proba", SM_DTYPE_F64, 2, dims, p);
}

/* The MediaPipe face networks alone (no pre/post-processing): the converted
 * TFLite graph on a [1,S,S,3] NHWC tensor, every graph output by its name. */
static sm_status run_graph(const sm_smw *f, const sm_npy *in, const char *in_path, run_result *res,
                                  sm_error *err)
{
    sm_graph *g;
    size_t nc;
    const sm_graph_custom_op *ops = sm_face_custom_ops(&nc);
    sm_status st = sm_graph_load(f, ops, nc, &g, err);
    if (st)
        return st;
    sm_graph_shape is = sm_graph_input_shape(g, 0);
    bool ok = sm_graph_n_inputs(g) == 1 && is.ndim == in->ndim && sm_graph_n_outputs(g) <= MAX_OUTPUTS;
    for (uint32_t i = 0; ok && i < is.ndim; i++)
        ok = (uint64_t)is.dims[i] == in->dims[i];
    if (!ok) {
        sm_graph_free(g);
        return sm_error_set(err, SM_ERR_SHAPE, "%s: the model's input is [1,%d,%d,%d] (NHWC float32)", in_path,
                            is.ndim == 4 ? (int)is.dims[1] : 0, is.ndim == 4 ? (int)is.dims[2] : 0,
                            is.ndim == 4 ? (int)is.dims[3] : 0);
    }
    memcpy(sm_graph_input(g, 0), in->data, in->numel * sizeof(float));
    sm_graph_run(g, NULL);
    for (size_t k = 0; k < sm_graph_n_outputs(g); k++) {
        sm_graph_shape os = sm_graph_output_shape(g, k);
        size_t n = sm_graph_numel(os);
        float *o = malloc(n * sizeof(float));
        if (!o) {
            sm_graph_free(g);
            return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
        }
        memcpy(o, sm_graph_output(g, k), n * sizeof(float));
        uint64_t dims[SM_GRAPH_MAX_DIMS];
        for (uint32_t i = 0; i < os.ndim; i++)
            dims[i] = (uint64_t)os.dims[i];
        add_output(res, sm_graph_output_name(g, k), SM_DTYPE_F32, os.ndim, dims, o);
    }
    sm_graph_free(g);
    return SM_OK;
}

/* The models run on a pool of sm_threads_default() threads (SM_THREADS). */
static sm_status make_pool(sm_threadpool **pool, sm_error *err)
{
    *pool = NULL;
    size_t n = sm_threads_default();
    return n > 1 ? sm_threadpool_init(pool, n, err) : SM_OK;
}

static float *f32_copy_out(const float *src, size_t n)
{
    float *d = malloc(n ? n * sizeof(float) : 1);
    if (d && n)
        memcpy(d, src, n * sizeof(float));
    return d;
}

static sm_status run_emotion(const sm_smw *f, const sm_npy *in, const char *in_path, run_result *res,
                             sm_error *err)
{
    size_t h = (size_t)in->dims[2], w = (size_t)in->dims[3];
    if (h > SM_EMOTION_MAX_INPUT || w > SM_EMOTION_MAX_INPUT)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: input %zux%zu, at most %d on each side", in_path, h, w,
                            SM_EMOTION_MAX_INPUT);
    sm_threadpool *pool;
    sm_emotion *m = NULL;
    sm_emotion_output *o = malloc(sizeof *o);
    float *x = malloc(h * w * 3 * sizeof(float));
    sm_status st = !o || !x ? sm_error_set(err, SM_ERR_NOMEM, "out of memory") : make_pool(&pool, err);
    if (st) {
        free(o);
        free(x);
        return st;
    }
    /* NCHW (PyTorch) -> NHWC (ours) */
    const float *src = in->data;
    for (size_t c = 0; c < 3; c++)
        for (size_t p = 0; p < h * w; p++)
            x[p * 3 + c] = src[c * h * w + p];
    st = sm_emotion_load(f, pool, &m, err);
    if (!st)
        st = sm_emotion_reserve(m, h, w, err);
    if (!st)
        st = sm_emotion_run(m, x, h, w, o, err);
    if (!st) {
        uint64_t nc = (uint64_t)o->n_classes;
        uint64_t d_cls[2] = {1, nc}, d_one[2] = {1, 1}, d_gate[2] = {1, 2}, d_feat[2] = {1, SM_EMOTION_FEATURES};
        const struct {
            const char *name;
            const float *v;
            const uint64_t *dims;
        } outs[6] = {{"logits", o->logits, d_cls}, {"probs", o->probs, d_cls},   {"valence", &o->valence, d_one},
                     {"arousal", &o->arousal, d_one}, {"gate", o->gate, d_gate}, {"features", o->features, d_feat}};
        for (int i = 0; i < 6 && !st; i++) {
            float *d = f32_copy_out(outs[i].v, (size_t)outs[i].dims[1]);
            if (!d)
                st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
            else
                add_output(res, outs[i].name, SM_DTYPE_F32, 2, outs[i].dims, d);
        }
    }
    sm_emotion_free(m);
    sm_threadpool_free(pool);
    free(o);
    free(x);
    return st;
}

static sm_status run_ultralight(const sm_smw *f, const sm_npy *in, const char *in_path, run_result *res,
                                sm_error *err)
{
    size_t b = (size_t)in->dims[0], t = (size_t)in->dims[1];
    sm_threadpool *pool;
    sm_ultralight *m = NULL;
    sm_status st = make_pool(&pool, err);
    if (st)
        return st;
    st = sm_ultralight_load(f, pool, &m, err);
    uint32_t size = m ? sm_ultralight_input_size(m) : 0;
    if (!st && (in->dims[3] != size || in->dims[4] != size))
        st = sm_error_set(err, SM_ERR_SHAPE, "%s: frames are %llux%llu, the model takes %ux%u", in_path,
                          (unsigned long long)in->dims[3], (unsigned long long)in->dims[4], size, size);
    float *bpm = st ? NULL : malloc(b * sizeof(float));
    if (!st && !bpm)
        st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b && !st; i++)
        st = sm_ultralight_run_nchw(m, (const float *)in->data + i * t * 3 * size * size, t, &bpm[i], err);
    if (!st) {
        uint64_t dims[1] = {b};
        add_output(res, "bpm", SM_DTYPE_F32, 1, dims, bpm);
        bpm = NULL;
    }
    free(bpm);
    sm_ultralight_free(m);
    sm_threadpool_free(pool);
    return st;
}

/* One entry per architecture. */
static const runner runners[] = {
    {SM_FATIGUE_MLP_ARCH,
     {2, {-1, -1}, {SM_DTYPE_F64, SM_DTYPE_F32}, 2, "[n, n_features] (scikit-learn rows)"},
     "proba [n, n_classes] f64 (= predict_proba)",
     run_mlp},
    {SM_FACE_DETECTOR_ARCH,
     {4, {1, 128, 128, 3}, {SM_DTYPE_F32}, 1, "[1,128,128,3] f32 NHWC in [-1,1] (letterboxed RGB)"},
     "regressors [1,896,16], classificators [1,896,1] (raw network outputs)",
     run_graph},
    {SM_FACE_MESH_ARCH,
     {4, {1, 192, 192, 3}, {SM_DTYPE_F32}, 1, "[1,192,192,3] f32 NHWC in [0,1] (ROI crop)"},
     "conv2d_21 [1,1,1,1404] (468 x,y,z in 192 units), conv2d_31 [1,1,1,1] (presence logit)",
     run_graph},
    {SM_FACE_MESH_ATTENTION_ARCH,
     {4, {1, 192, 192, 3}, {SM_DTYPE_F32}, 1, "[1,192,192,3] f32 NHWC in [0,1] (ROI crop)"},
     "output_mesh_identity, output_lips, output_left_eye, output_right_eye, output_left_iris,\n"
     "                         output_right_iris, conv_faceflag (raw; needs the MediaPipe custom ops)",
     run_graph},
    {"faceapi_expression_net",
     {4, {1, 112, 112, 3}, {SM_DTYPE_F32}, 1, "[1,112,112,3] f32 NHWC, (RGB - input.mean) / 255 (TF.js face-api)"},
     "probabilities [1,7] in emotion.labels order (softmax included)",
     run_graph},
    {"tfjs_graph",
     {4, {1, -1, -1, -1}, {SM_DTYPE_F32}, 1, "[1,H,W,C] f32 NHWC (a converted TF.js graph model's input)"},
     "the graph's output by its node name",
     run_graph},
    {SM_EMOTION_ARCH,
     {4, {1, 3, -1, -1}, {SM_DTYPE_F32}, 1, "[1, 3, H, W] f4 NCHW RGB (the network input, [0,1])"},
     "logits [1,n], probs [1,n], valence [1,1], arousal [1,1], gate [1,2], features [1,1536] f4",
     run_emotion},
    {SM_ULTRALIGHT_ARCH,
     {5, {-1, -1, 3, -1, -1}, {SM_DTYPE_F32}, 1, "[B, T, 3, 36, 36] f4 (frames RGB /255)"},
     "bpm [B] f4",
     run_ultralight},
};
#define N_RUNNERS (sizeof runners / sizeof runners[0])

/* ---- input checks --------------------------------------------------------------- */

static sm_status check_input(const runner *r, const sm_npy *in, const char *path, sm_error *err)
{
    const input_spec *s = &r->input;
    bool dt_ok = false;
    for (int i = 0; i < s->n_dtypes; i++)
        dt_ok |= in->dtype == s->dtypes[i];
    char want[128] = "", got[128];
    for (int i = 0; i < s->n_dtypes; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? " or " : "",
                 sm_npy_descr(s->dtypes[i]));
    if (!dt_ok)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: dtype %s, expected %s for %s input %s", path,
                            sm_npy_descr(in->dtype), want, r->arch, s->layout);
    sm_npy_shape_str(in->ndim, in->dims, got, sizeof got);
    if (in->ndim != s->ndim)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: rank %u (shape %s), expected rank %u: %s input %s", path,
                            in->ndim, got, s->ndim, r->arch, s->layout);
    for (uint32_t i = 0; i < s->ndim; i++)
        if (s->dims[i] >= 0 && (int64_t)in->dims[i] != s->dims[i])
            return sm_error_set(err, SM_ERR_SHAPE, "%s: shape %s, dimension %u must be %lld: %s input %s", path,
                                got, i, (long long)s->dims[i], r->arch, s->layout);
    if (in->numel == 0)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: shape %s is empty", path, got);
    return SM_OK;
}

/* ---- output --------------------------------------------------------------------- */

static double value_at(const run_output *o, size_t i)
{
    switch (o->dtype) {
    case SM_DTYPE_F32: return ((const float *)o->data)[i];
    case SM_DTYPE_F64: return ((const double *)o->data)[i];
    case SM_DTYPE_I64: return (double)((const int64_t *)o->data)[i];
    case SM_DTYPE_I32: return ((const int32_t *)o->data)[i];
    case SM_DTYPE_U8: return ((const uint8_t *)o->data)[i];
    default: return NAN;
    }
}

static uint64_t numel_of(const run_output *o)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < o->ndim; i++)
        n *= o->dims[i];
    return n;
}

static void put_value(const run_output *o, size_t i)
{
    double v = value_at(o, i);
    if (!isfinite(v))
        fputs("null", stdout);
    else
        printf(o->dtype == SM_DTYPE_F32 ? "%.9g" : "%.17g", v);
}

/* Nested JSON lists in C order. */
static void put_nested(const run_output *o, uint32_t dim, size_t *idx)
{
    if (dim == o->ndim) {
        put_value(o, (*idx)++);
        return;
    }
    putchar('[');
    for (uint64_t i = 0; i < o->dims[dim]; i++) {
        if (i)
            fputs(", ", stdout);
        put_nested(o, dim + 1, idx);
    }
    putchar(']');
}

static void put_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* ---- --face: the whole face pipeline on one image ---------------------------------- */

static void face_usage(FILE *out)
{
    fprintf(out,
            "usage: smw-run --face --image PHOTO.(png|jpg|ppm) [--models DIR] [--no-refine] [--json]\n"
            "Runs the face pipeline (detector, ROI, landmarks; FACE_MODELS.md) once on an image and\n"
            "prints the best detection and the landmarks in image pixels.\n"
            "  --image FILE   8-bit PNG (grey/RGB, alpha dropped), JPEG (libjpeg-turbo builds, the\n"
            "                 default) or binary PPM (P6); recognised by content, not by name\n"
            "  --models DIR   folder with face_detection_short_range.smw and face_landmark*.smw\n"
            "                 (default: models, filled by make models)\n"
            "  --no-refine    468 points with face_landmark.smw instead of 478 with the attention model\n"
            "  --json         one JSON object: image, detection, face (presence, roi, landmarks),\n"
            "                 emotion (model, rule, box, label, probs by class name, valence, arousal)\n"
            "  --emotion F    the expression model (default: DIR/emotion_fer.smw, face-api's\n"
            "                 FaceExpressionNet from make models); absent: emotion is null\n"
            "  --emotion-box RULE  face box rule from the landmarks (docs/EMOTION.md): faceapi (default),\n"
            "                 faceapi-square, landmarks, landmarks-square, square-1.25, or all (then\n"
            "                 also \"emotion_rules\": every rule's box and probabilities)\n"
            "  --emotion-at X,Y,W,H  also run the model on this box (\"emotion_at\"; e.g. another\n"
            "                 detector's box), with face-api's crop, pad and resize\n"
            "Exit status: 0 success (also when no face is found), 1 bad model or image, 2 usage error.\n");
}

/* One emotion result as JSON: the rule, the box and the model's output. */
static void put_emotion_json(sm_fer *fer, const sm_rgb_image *img, const char *rule, const float box[4],
                             bool full)
{
    float probs[SM_FER_MAX_CLASSES];
    sm_error err = {0};
    if (sm_fer_run_rgb8(fer, img->rgb, img->width, img->height, img->stride, box, probs, &err) != SM_OK) {
        printf("null");
        fprintf(stderr, "smw-run: emotion: %s\n", err.msg);
        return;
    }
    int n = sm_fer_n_classes(fer), best = 0;
    const char *labels[SM_FER_MAX_CLASSES];
    for (int i = 0; i < n; i++) {
        labels[i] = sm_fer_label(fer, i);
        if (probs[i] > probs[best])
            best = i;
    }
    printf("{");
    if (full) {
        printf("\"model\": ");
        put_json_str(sm_fer_name(fer));
        printf(", ");
    }
    printf("\"rule\": ");
    put_json_str(rule);
    printf(", \"box\": [%.9g, %.9g, %.9g, %.9g], \"label\": ", box[0], box[1], box[2], box[3]);
    put_json_str(labels[best]);
    printf(", \"probs\": {");
    for (int i = 0; i < n; i++) {
        printf("%s", i ? ", " : "");
        put_json_str(labels[i]);
        printf(": %.9g", probs[i]);
    }
    printf("}");
    float v, a;
    if (full && sm_emotion_valence_arousal(labels, probs, n, &v, &a))
        printf(", \"valence\": %.6g, \"arousal\": %.6g", v, a);
    printf("}");
}

static int face_main(int argc, char **argv)
{
    const char *image = NULL, *dir = "models", *emo_path = NULL, *emo_rule = "faceapi", *emo_at = NULL;
    bool refine = true, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            face_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--face")) {
        } else if (!strcmp(argv[i], "--no-refine")) {
            refine = false;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--image") || !strcmp(argv[i], "--models") || !strcmp(argv[i], "--emotion") ||
                   !strcmp(argv[i], "--emotion-box") || !strcmp(argv[i], "--emotion-at")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "smw-run: %s needs a value\n", argv[i]);
                return 2;
            }
            const char *opt = argv[i++];
            if (!strcmp(opt, "--image"))
                image = argv[i];
            else if (!strcmp(opt, "--models"))
                dir = argv[i];
            else if (!strcmp(opt, "--emotion"))
                emo_path = argv[i];
            else if (!strcmp(opt, "--emotion-box"))
                emo_rule = argv[i];
            else
                emo_at = argv[i];
        } else {
            fprintf(stderr, "smw-run: unexpected argument '%s' with --face (see --face --help)\n", argv[i]);
            return 2;
        }
    }
    if (!image) {
        fprintf(stderr, "smw-run: --face needs --image FILE\n");
        face_usage(stderr);
        return 2;
    }
    bool all_rules = !strcmp(emo_rule, "all");
    const sm_fer_box_rule *rule = sm_fer_box_rule_find(all_rules ? "faceapi" : emo_rule);
    if (!rule) {
        fprintf(stderr, "smw-run: --emotion-box: unknown rule '%s' (see --face --help)\n", emo_rule);
        return 2;
    }
    float at_box[4];
    char at_end = 0;
    if (emo_at && (sscanf(emo_at, "%f,%f,%f,%f%c", &at_box[0], &at_box[1], &at_box[2], &at_box[3], &at_end) != 4 ||
                   !(at_box[2] > 0) || !(at_box[3] > 0))) {
        fprintf(stderr, "smw-run: --emotion-at: expected X,Y,W,H with W, H > 0, found '%s'\n", emo_at);
        return 2;
    }
    char emo_default[4096];
    snprintf(emo_default, sizeof emo_default, "%s/emotion_fer.smw", dir);
    char det_path[4096], mesh_path[4096];
    sm_face_model_paths(dir, refine, det_path, sizeof det_path, mesh_path, sizeof mesh_path);
    sm_error err = {0};
    sm_rgb_image img = {0};
    sm_face_tracker *t = NULL;
    sm_fer *fer = NULL;
    sm_face_result *res = calloc(1, sizeof *res);
    int rc = 1;
    if (!res) {
        sm_error_set(&err, SM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (sm_rgb_image_load(image, &img, &err) || sm_face_tracker_init(det_path, mesh_path, &t, &err))
        goto done;
    sm_face_tracker_process(t, img.rgb, img.width, img.height, img.stride, NULL, res);
    /* the expression model is optional: without it emotion is null */
    sm_error emo_err = {0};
    if (sm_fer_load_file(emo_path ? emo_path : emo_default, NULL, &fer, &emo_err) != SM_OK) {
        fprintf(stderr, "smw-run: emotion: %s\n", emo_err.msg);
        if (emo_path) {
            err = emo_err;
            goto done;
        }
    }
    float emo_box[4];
    bool have_emo = fer && res->valid &&
                    sm_fer_face_box(&res->landmarks[0][0], res->n_landmarks, 3, rule, emo_box);
    sm_face_detection det;
    bool have_det = sm_face_tracker_last_detection(t, &det);
    const sm_face_landmarks *lm = sm_face_tracker_landmarks(t);
    if (json) {
        printf("{\"image\": ");
        put_json_str(image);
        printf(", \"width\": %d, \"height\": %d, \"detections\": [", img.width, img.height);
        if (have_det) {
            printf("{\"score\": %.9g, \"box\": [%.9g, %.9g, %.9g, %.9g], \"keypoints\": [", det.score, det.xmin,
                   det.ymin, det.width, det.height);
            for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++)
                printf("%s[%.9g, %.9g]", k ? ", " : "", det.kp[k][0], det.kp[k][1]);
            printf("]}");
        }
        printf("], \"face\": ");
        if (!res->valid) {
            printf("null");
        } else {
            printf("{\"presence\": %.9g, \"roi\": {\"cx\": %.9g, \"cy\": %.9g, \"w\": %.9g, \"h\": %.9g, "
                   "\"rotation\": %.9g}, \"box\": [%.9g, %.9g, %.9g, %.9g], \"n_landmarks\": %d, \"landmarks\": [",
                   lm->presence, lm->roi.cx, lm->roi.cy, lm->roi.w, lm->roi.h, lm->roi.rotation, res->box[0],
                   res->box[1], res->box[2], res->box[3], res->n_landmarks);
            for (int i = 0; i < res->n_landmarks; i++)
                printf("%s[%.9g, %.9g, %.9g]", i ? ", " : "", res->landmarks[i][0], res->landmarks[i][1],
                       res->landmarks[i][2]);
            printf("]}");
        }
        printf(", \"emotion\": ");
        if (have_emo)
            put_emotion_json(fer, &img, rule->name, emo_box, true);
        else
            printf("null");
        if (all_rules && fer && res->valid) {
            printf(", \"emotion_rules\": {");
            int k = 0;
            for (const sm_fer_box_rule *r = sm_fer_box_rules(); r->name; r++) {
                float b[4];
                if (!sm_fer_face_box(&res->landmarks[0][0], res->n_landmarks, 3, r, b))
                    continue;
                printf("%s", k++ ? ", " : "");
                put_json_str(r->name);
                printf(": ");
                put_emotion_json(fer, &img, r->name, b, false);
            }
            printf("}");
        }
        if (emo_at && fer) {
            printf(", \"emotion_at\": ");
            put_emotion_json(fer, &img, "given", at_box, false);
        }
        printf("}\n");
    } else {
        printf("image: %s %dx%d\n", image, img.width, img.height);
        if (have_det)
            printf("detection: score %.4f box x %.2f y %.2f w %.2f h %.2f, eyes (%.2f, %.2f) (%.2f, %.2f)\n",
                   det.score, det.xmin, det.ymin, det.width, det.height, det.kp[0][0], det.kp[0][1], det.kp[1][0],
                   det.kp[1][1]);
        else
            printf("detection: none\n");
        if (res->valid) {
            printf("face: presence %.4f, %d landmarks, ROI centre (%.2f, %.2f) side %.2f rotation %.2f deg\n",
                   lm->presence, res->n_landmarks, lm->roi.cx, lm->roi.cy, lm->roi.w,
                   lm->roi.rotation * 57.29577951308232);
            static const int show[] = {1, 33, 263, 152};
            for (size_t i = 0; i < sizeof show / sizeof *show; i++)
                printf("  landmark %3d: %.2f %.2f %.2f\n", show[i], res->landmarks[show[i]][0],
                       res->landmarks[show[i]][1], res->landmarks[show[i]][2]);
        } else {
            printf("face: none (presence %.4f)\n", lm->presence);
        }
        if (have_emo) {
            float probs[SM_FER_MAX_CLASSES];
            if (sm_fer_run_rgb8(fer, img.rgb, img.width, img.height, img.stride, emo_box, probs, &err) != SM_OK)
                goto done;
            int n = sm_fer_n_classes(fer), best = 0;
            for (int i = 1; i < n; i++)
                if (probs[i] > probs[best])
                    best = i;
            printf("emotion: %s %.3f (%s, box rule %s: x %.1f y %.1f w %.1f h %.1f)\n", sm_fer_label(fer, best),
                   probs[best], sm_fer_name(fer), rule->name, emo_box[0], emo_box[1], emo_box[2], emo_box[3]);
        } else {
            printf("emotion: none (%s)\n", fer ? "no face" : "no expression model");
        }
    }
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "smw-run: %s\n", err.msg[0] ? err.msg : "failed");
    free(res);
    sm_fer_free(fer);
    sm_face_tracker_free(t);
    sm_rgb_image_free(&img);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smw-run MODEL.smw --input X.npy [--out-dir DIR] [--json]\n"
            "       smw-run --face --image PHOTO.(png|jpg|ppm) [--models DIR] [--no-refine] [--json]\n"
            "Runs the model named by MODEL.smw's general.architecture on X.npy (laid out as\n"
            "in the original framework), writes DIR/<output>.npy for every named output\n"
            "(DIR defaults to the current directory) and prints the outputs.\n"
            "  --input X.npy   input array (.npy v1-v3; <f4 <f8 <i8 <i4 |u1)\n"
            "  --out-dir DIR   where the output .npy files go (created if missing)\n"
            "  --json          print one JSON object: architecture, input, outputs\n"
            "                  (name, shape, file) and each output's values by name\n"
            "Architectures:\n");
    for (size_t i = 0; i < N_RUNNERS; i++)
        fprintf(out, "  %-22s input %s\n  %-22s output %s\n", runners[i].arch, runners[i].input.layout, "",
                runners[i].outputs);
    fprintf(out, "--face: see smw-run --face --help.\n");
    fprintf(out, "Exit status: 0 success, 1 bad model or input, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *out_dir = ".";
    bool json = false;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--face"))
            return face_main(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--input") || !strcmp(argv[i], "--out-dir")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "smw-run: %s needs a value\n", argv[i]);
                return 2;
            }
            if (!strcmp(argv[i], "--input"))
                input = argv[++i];
            else
                out_dir = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "smw-run: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        } else if (!model) {
            model = argv[i];
        } else {
            fprintf(stderr, "smw-run: unexpected argument '%s' (one model file only)\n", argv[i]);
            return 2;
        }
    }
    if (!model || !input) {
        fprintf(stderr, "smw-run: %s\n", !model ? "missing MODEL.smw" : "missing --input X.npy");
        usage(stderr);
        return 2;
    }

    sm_error err = {0};
    sm_smw *f = NULL;
    sm_npy in = {0};
    run_result res;
    memset(&res, 0, sizeof res);
    int rc = 1;
    if (sm_smw_open(model, NULL, &f, &err))
        goto done;
    const runner *r = NULL;
    for (size_t i = 0; i < N_RUNNERS; i++)
        if (sm_smw_arch_is(f, runners[i].arch))
            r = &runners[i];
    if (!r) {
        const sm_meta *a = sm_smw_find_meta(f, "general.architecture");
        char known[256] = "";
        for (size_t i = 0; i < N_RUNNERS; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", runners[i].arch);
        if (a && a->type == SM_META_STRING)
            sm_error_set(&err, SM_ERR_UNSUPPORTED, "%s: no runner for architecture '%.*s' (smw-run knows: %s)",
                         model, (int)(a->v.str.len > 64 ? 64 : a->v.str.len), a->v.str.ptr, known);
        else
            sm_error_set(&err, SM_ERR_FORMAT, "%s: metadata 'general.architecture' is missing or not a string",
                         model);
        goto done;
    }
    if (sm_npy_load(input, &in, &err) || check_input(r, &in, input, &err) ||
        r->run(f, &in, input, &res, &err))
        goto done;

    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        sm_error_set(&err, SM_ERR_IO, "%s: cannot create output directory: %s", out_dir, strerror(errno));
        goto done;
    }
    char paths[MAX_OUTPUTS][4096];
    for (int i = 0; i < res.n_out; i++) {
        run_output *o = &res.out[i];
        snprintf(paths[i], sizeof paths[i], "%s/%s.npy", out_dir, o->name);
        if (sm_npy_save(paths[i], o->dtype, o->ndim, o->dims, o->data, &err))
            goto done;
    }
    char shp[128];
    if (json) {
        printf("{\"architecture\": ");
        put_json_str(r->arch);
        printf(", \"input\": {\"file\": ");
        put_json_str(input);
        printf(", \"shape\": %s, \"dtype\": \"%s\"}, \"outputs\": [",
               sm_npy_shape_str(in.ndim, in.dims, shp, sizeof shp), sm_npy_descr(in.dtype));
        for (int i = 0; i < res.n_out; i++) {
            printf("%s{\"name\": ", i ? ", " : "");
            put_json_str(res.out[i].name);
            printf(", \"shape\": %s, \"dtype\": \"%s\", \"file\": ",
                   sm_npy_shape_str(res.out[i].ndim, res.out[i].dims, shp, sizeof shp),
                   sm_npy_descr(res.out[i].dtype));
            put_json_str(paths[i]);
            putchar('}');
        }
        putchar(']');
        for (int i = 0; i < res.n_out; i++) {
            if (numel_of(&res.out[i]) > JSON_MAX_VALUES)
                continue;
            printf(", ");
            put_json_str(res.out[i].name);
            printf(": ");
            size_t idx = 0;
            put_nested(&res.out[i], 0, &idx);
        }
        printf("}\n");
    } else {
        printf("architecture: %s\ninput: %s %s %s\n", r->arch, input,
               sm_npy_shape_str(in.ndim, in.dims, shp, sizeof shp), sm_npy_descr(in.dtype));
        for (int i = 0; i < res.n_out; i++) {
            run_output *o = &res.out[i];
            uint64_t n = numel_of(o);
            printf("%s %s %s -> %s:", o->name, sm_npy_shape_str(o->ndim, o->dims, shp, sizeof shp),
                   sm_npy_descr(o->dtype), paths[i]);
            for (uint64_t k = 0; k < n && k < 8; k++) {
                putchar(' ');
                put_value(o, (size_t)k);
            }
            printf("%s\n", n > 8 ? " ..." : "");
        }
    }
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "smw-run: %s\n", err.msg[0] ? err.msg : "failed");
    for (int i = 0; i < res.n_out; i++)
        free(res.out[i].data);
    sm_npy_free(&in);
    sm_smw_free(f);
    return rc;
}

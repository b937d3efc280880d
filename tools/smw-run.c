/* smw-run: runs the model in a .smw file on a .npy input given in the
 * original framework's layout, writes one .npy per named output and prints
 * them (text or one JSON object). The model is chosen by the file's
 * general.architecture through the model registry (models/model_registry.h):
 * adding a model there adds it here. */
#include "emotion_fer.h"
#include "face_mesh.h"
#include "json_print.h"
#include "model_registry.h"
#include "npy.h"
#include "rgb_image.h"
#include "sm_engine.h"
#include "sm_kernels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JSON_MAX_VALUES 65536 /* larger outputs are listed by shape and file only */

/* The models run on a pool of sm_threads_default() threads (SM_THREADS). */
static sm_status make_pool(sm_threadpool **pool, sm_error *err)
{
    *pool = NULL;
    size_t n = sm_threads_default();
    return n > 1 ? sm_threadpool_init(pool, n, err) : SM_OK;
}

/* ---- input checks --------------------------------------------------------------- */

static sm_status check_input(const sm_model_kind *r, const sm_npy *in, const char *path, sm_error *err)
{
    const sm_model_input *s = &r->input;
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

static double value_at(const sm_model_tensor *o, size_t i)
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

static void put_value(const sm_model_tensor *o, size_t i)
{
    double v = value_at(o, i);
    if (!isfinite(v))
        fputs("null", stdout);
    else
        printf(o->dtype == SM_DTYPE_F32 ? "%.9g" : "%.17g", v);
}

/* Nested JSON lists in C order. */
static void put_nested(const sm_model_tensor *o, uint32_t dim, size_t *idx)
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

static void put_json_str(const char *s) { sm_json_print_string(stdout, s, strlen(s)); }

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
            "                 emotion (model, precision, rule, box, label, probs by class name, valence,\n"
            "                 arousal)\n"
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
        printf(", \"precision\": ");
        put_json_str(sm_precision_name(sm_fer_precision(fer)));
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
            printf("emotion: %s %.3f (%s in %s, box rule %s: x %.1f y %.1f w %.1f h %.1f)\n",
                   sm_fer_label(fer, best), probs[best], sm_fer_name(fer), sm_precision_name(sm_fer_precision(fer)),
                   rule->name, emo_box[0], emo_box[1], emo_box[2], emo_box[3]);
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
    size_t n;
    const sm_model_kind *const *k = sm_model_kinds(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-22s input %s\n  %-22s output %s\n", k[i]->arch, k[i]->input.layout, "", k[i]->outputs);
    fprintf(out, "--precision fp32|bf16  GEMM convs in FP32 or BF16 (or SM_PRECISION=...). Default: FP32\n"
                 "                here (MODEL runs as asked); with --face the default emotion model runs\n"
                 "                BF16 where the CPU has avx512_bf16 (it met the accuracy bar), the face\n"
                 "                models FP32 (docs/PERFORMANCE.md)\n");
    fprintf(out, "--face: see smw-run --face --help.\n");
    fprintf(out, "Exit status: 0 success, 1 bad model or input, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *out_dir = ".";
    bool json = false;
    sm_error perr = {0};
    if (sm_precision_take_arg(&argc, argv, &perr) != SM_OK) {
        fprintf(stderr, "smw-run: %s\n", perr.msg);
        return 2;
    }
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
    sm_model_outputs res = {0};
    sm_threadpool *pool = NULL;
    void *impl = NULL, *nhwc = NULL;
    const sm_model_kind *r = NULL;
    int rc = 1;
    if (sm_smw_open(model, NULL, &f, &err))
        goto done;
    const sm_meta *a = sm_smw_find_meta(f, "general.architecture");
    if (a && a->type == SM_META_STRING)
        r = sm_model_kind_find(a->v.str.ptr, a->v.str.len);
    if (!r) {
        size_t nk;
        const sm_model_kind *const *k = sm_model_kinds(&nk);
        char known[512] = "";
        for (size_t i = 0; i < nk; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", k[i]->arch);
        if (a && a->type == SM_META_STRING)
            sm_error_set(&err, SM_ERR_UNSUPPORTED, "%s: no runner for architecture '%.*s' (smw-run knows: %s)",
                         model, (int)(a->v.str.len > 64 ? 64 : a->v.str.len), a->v.str.ptr, known);
        else
            sm_error_set(&err, SM_ERR_FORMAT, "%s: metadata 'general.architecture' is missing or not a string",
                         model);
        goto done;
    }
    if (sm_npy_load(input, &in, &err) || check_input(r, &in, input, &err) || make_pool(&pool, &err) ||
        r->load(f, pool, &impl, &err))
        goto done;
    sm_model_tensor fw = {in.dtype, in.ndim, {0}, in.data}, ours;
    memcpy(fw.dims, in.dims, in.ndim * sizeof *in.dims);
    if (sm_model_from_framework(r, &fw, &ours, &nhwc, &err))
        goto done;
    if (r->run(impl, &ours, pool, &res, &err)) {
        sm_error_prefix(&err, "%s", input); /* the run's errors are about the input */
        goto done;
    }

    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        sm_error_set(&err, SM_ERR_IO, "%s: cannot create output directory: %s", out_dir, strerror(errno));
        goto done;
    }
    char paths[SM_MODEL_MAX_OUTPUTS][4096];
    for (int i = 0; i < res.n; i++) {
        sm_model_tensor *o = &res.t[i];
        snprintf(paths[i], sizeof paths[i], "%s/%s.npy", out_dir, res.name[i]);
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
        for (int i = 0; i < res.n; i++) {
            printf("%s{\"name\": ", i ? ", " : "");
            put_json_str(res.name[i]);
            printf(", \"shape\": %s, \"dtype\": \"%s\", \"file\": ",
                   sm_npy_shape_str(res.t[i].ndim, res.t[i].dims, shp, sizeof shp),
                   sm_npy_descr(res.t[i].dtype));
            put_json_str(paths[i]);
            putchar('}');
        }
        putchar(']');
        for (int i = 0; i < res.n; i++) {
            if (sm_model_tensor_numel(&res.t[i]) > JSON_MAX_VALUES)
                continue;
            printf(", ");
            put_json_str(res.name[i]);
            printf(": ");
            size_t idx = 0;
            put_nested(&res.t[i], 0, &idx);
        }
        printf("}\n");
    } else {
        printf("architecture: %s\ninput: %s %s %s\n", r->arch, input,
               sm_npy_shape_str(in.ndim, in.dims, shp, sizeof shp), sm_npy_descr(in.dtype));
        for (int i = 0; i < res.n; i++) {
            const sm_model_tensor *o = &res.t[i];
            uint64_t n = sm_model_tensor_numel(o);
            printf("%s %s %s -> %s:", res.name[i], sm_npy_shape_str(o->ndim, o->dims, shp, sizeof shp),
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
    sm_model_outputs_free(&res);
    if (impl)
        r->free(impl);
    free(nhwc);
    sm_threadpool_free(pool);
    sm_npy_free(&in);
    sm_smw_free(f);
    return rc;
}

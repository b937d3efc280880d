/* The model registry (models/model_registry.h): lookup by architecture, the
 * refusal of unknown ones, the framework-to-engine layout change and the
 * reusable outputs. The kinds' numbers are checked against PyTorch,
 * scikit-learn and TFLite by the model suites, which run through the registry
 * (smw-run and the loaders' rejection tests). */
#include "model_registry.h"
#include "sm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(every_kind_found_by_its_architecture)
{
    size_t n;
    const sm_model_kind *const *k = sm_model_kinds(&n);
    ck_assert_uint_ge(n, 8);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_eq(sm_model_kind_find(k[i]->arch, strlen(k[i]->arch)), k[i]);
        ck_assert(k[i]->load && k[i]->free && k[i]->run && k[i]->flops && k[i]->example);
        ck_assert((k[i]->profile == NULL) == (k[i]->layer_times == NULL));
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(k[i]->arch, k[j]->arch);
    }
    /* a prefix is not a match: lengths count */
    ck_assert_ptr_null(sm_model_kind_find("ultralight", 10));
    ck_assert_ptr_eq(sm_model_kind_find("ultralight_rppg_x", 15), &sm_model_ultralight);
    /* the names the converters write (tools/pth.c, joblib.c, tflite_convert.c, tfjs_convert.c) */
    const char *written[] = {"novel_emotion_effnet_b3", "ultralight_rppg", "sklearn_mlp_pipeline",
                             "mediapipe_face_detector", "mediapipe_face_mesh", "mediapipe_face_mesh_attention",
                             "faceapi_expression_net", "tfjs_graph"};
    for (size_t i = 0; i < sizeof written / sizeof *written; i++)
        ck_assert_msg(sm_model_kind_find(written[i], strlen(written[i])), "%s not registered", written[i]);
}
END_TEST

static const char *write_arch(const char *arch)
{
    sm_smw_writer *w;
    sm_error err;
    float z[4] = {0};
    uint64_t d[1] = {4};
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    if (arch)
        ck_assert_int_eq(sm_smw_writer_add_string(w, "general.architecture", arch, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "x", SM_DTYPE_F32, 1, d, z, &err), SM_OK);
    const char *path = sm_test_tmpfile("m.smw");
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    sm_smw_writer_free(w);
    return path;
}

START_TEST(unknown_architecture_refused)
{
    sm_model *m = (sm_model *)1;
    sm_error err = {0};
    const char *path = write_arch("resnet50");
    sm_status st = sm_model_open(path, NULL, NULL, &m, &err);
    const char *const n1[] = {path, "no model for architecture 'resnet50'", "ultralight_rppg", NULL};
    sm_test_assert_rejected(st, m, &err, n1);
    ck_assert_int_eq(st, SM_ERR_UNSUPPORTED);
    path = write_arch(NULL);
    st = sm_model_open(path, NULL, NULL, &m, &err);
    const char *const n2[] = {path, "'general.architecture' is missing", NULL};
    sm_test_assert_rejected(st, m, &err, n2);
    /* a kind asked for by the caller checks the architecture itself */
    st = sm_model_open(path, &sm_model_ultralight, NULL, &m, &err);
    const char *const n3[] = {path, "expected 'ultralight_rppg'", NULL};
    sm_test_assert_rejected(st, m, &err, n3);
    sm_model_close(NULL);
}
END_TEST

START_TEST(nchw_to_nhwc)
{
    /* [2 images, 3 channels, 2 x 4]: element (i, c, y, x) holds 1000i + 100c + 10y + x */
    enum { N = 2, C = 3, H = 2, W = 4 };
    float src[N * C * H * W];
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    src[((i * C + c) * H + y) * W + x] = (float)(1000 * i + 100 * c + 10 * y + x);
    sm_model_tensor in = {SM_DTYPE_F32, 5, {N, 1, C, H, W}, src}, ours;
    void *buf;
    sm_error err;
    ck_assert_int_eq(sm_model_from_framework(&sm_model_ultralight, &in, &ours, &buf, &err), SM_OK);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(ours.ndim, 5);
    ck_assert(ours.dims[0] == N && ours.dims[1] == 1 && ours.dims[2] == H && ours.dims[3] == W && ours.dims[4] == C);
    const float *d = ours.data;
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++)
                    ck_assert_float_eq(d[((i * H + y) * W + x) * C + c], (float)(1000 * i + 100 * c + 10 * y + x));
    free(buf);
    /* rows of features stay as they are */
    sm_model_tensor rows = {SM_DTYPE_F64, 2, {3, 5}, src};
    ck_assert_int_eq(sm_model_from_framework(&sm_model_fatigue_mlp, &rows, &ours, &buf, &err), SM_OK);
    ck_assert_ptr_null(buf);
    ck_assert_ptr_eq(ours.data, src);
}
END_TEST

START_TEST(outputs_reused)
{
    sm_model_outputs o = {0};
    sm_error err;
    uint64_t d4[1] = {4}, d2[1] = {2}, d8[1] = {8};
    float *a = sm_model_output(&o, "a", SM_DTYPE_F32, 1, d4, &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(sm_model_output(&o, "a", SM_DTYPE_F32, 1, d2, &err), a); /* smaller: same buffer */
    ck_assert_uint_eq(o.t[0].dims[0], 2);
    ck_assert_ptr_nonnull(sm_model_output(&o, "a", SM_DTYPE_F64, 1, d8, &err)); /* grows */
    ck_assert_uint_ge(o.cap[0], 64);
    char name[8];
    for (int i = 1; i < SM_MODEL_MAX_OUTPUTS; i++) {
        snprintf(name, sizeof name, "o%d", i);
        ck_assert_ptr_nonnull(sm_model_output(&o, name, SM_DTYPE_F32, 1, d2, &err));
    }
    ck_assert_int_eq(o.n, SM_MODEL_MAX_OUTPUTS);
    ck_assert_ptr_null(sm_model_output(&o, "one too many", SM_DTYPE_F32, 1, d2, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "one too many"));
    sm_model_outputs_free(&o);
    ck_assert_int_eq(o.n, 0);
    sm_model_outputs_free(NULL);
}
END_TEST

/* Each converted model the worktree has runs its example through the registry:
 * outputs named as the kind says, finite, and FLOPs > 0. */
START_TEST(converted_models_run_their_example)
{
    static const char *const files[] = {"face_detection_short_range.smw", "face_landmark.smw",
                                        "face_landmark_with_attention.smw", "fatigue_mlp.smw",
                                        "ultralight_rppg.smw", "emotion_fer.smw"};
    int ran = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        /* make test converts the face models into the fixtures; make models into models/ */
        char rel[4200];
        snprintf(rel, sizeof rel, "face/%s", files[i]);
        const char *fx = sm_test_fixture(rel);
        if (fx)
            snprintf(rel, sizeof rel, "%s", fx);
        else
            snprintf(rel, sizeof rel, "%s/models/%s", getenv("SM_REPO") ? getenv("SM_REPO") : ".", files[i]);
        sm_model *m;
        sm_error err;
        FILE *fp = fopen(rel, "rb");
        if (!fp)
            continue;
        fclose(fp);
        ck_assert_msg(sm_model_open(rel, NULL, NULL, &m, &err) == SM_OK, "%s", err.msg);
        sm_model_tensor in;
        sm_model_outputs out = {0};
        ck_assert_msg(m->kind->example(m->impl, &in, &err) == SM_OK, "%s", err.msg);
        ck_assert_msg(m->kind->run(m->impl, &in, NULL, &out, &err) == SM_OK, "%s: %s", rel, err.msg);
        ck_assert_int_ge(out.n, 1);
        for (int k = 0; k < out.n; k++) {
            ck_assert_msg(strstr(m->kind->outputs, out.name[k]) || !strcmp(m->kind->arch, "faceapi_expression_net"),
                          "%s: output %s not in '%s'", rel, out.name[k], m->kind->outputs);
            size_t n = sm_model_tensor_numel(&out.t[k]);
            for (size_t j = 0; j < n; j++) {
                double v = out.t[k].dtype == SM_DTYPE_F64 ? ((double *)out.t[k].data)[j]
                                                          : ((float *)out.t[k].data)[j];
                ck_assert_msg(v == v && v - v == 0, "%s: %s[%zu] not finite", rel, out.name[k], j);
            }
        }
        ck_assert_double_gt(m->kind->flops(m->impl, &in), 0);
        sm_model_outputs_free(&out);
        free(in.data);
        sm_model_close(m);
        ran++;
    }
    if (!ran)
        sm_test_skip("converted_models_run_their_example", "no models/*.smw (run make models)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_registry");
    TCase *tc = sm_test_tcase(s, "registry", 120);
    tcase_add_test(tc, every_kind_found_by_its_architecture);
    tcase_add_test(tc, unknown_architecture_refused);
    tcase_add_test(tc, nchw_to_nhwc);
    tcase_add_test(tc, outputs_reused);
    tcase_add_test(tc, converted_models_run_their_example);
    return sm_test_main(s);
}

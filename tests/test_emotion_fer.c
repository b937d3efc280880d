/* The default expression model's side of the pipeline (emotion_fer.h):
 * our crop + pad + resize + normalisation against face-api's own on real
 * photos (tests/fixtures/emotion, made by tests/gen/make_emotion_refs.sh
 * running @vladmandic/face-api@1.7.15 on @tensorflow/tfjs@4.22.0), the whole
 * model against the library's probabilities when models/emotion_fer.smw is
 * there, the landmark box rules, and label lookups by name. */
#include "emotion_fer.h"
#include "npy.h"
#include "rgb_image.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char name[64], image[128];
    float box[4];
    float probs[7];
} prep_case;

static const char *const FACEAPI_LABELS[7] = {"neutral", "happy", "sad", "angry", "fearful", "disgusted",
                                              "surprised"};

/* Reads tests/fixtures/emotion/cases.txt; returns the number of cases. */
static int read_cases(prep_case *cases, int cap)
{
    const char *path = sm_test_committed("emotion/cases.txt");
    ck_assert_msg(path != NULL, "tests/fixtures/emotion/cases.txt missing (tests/gen/make_emotion_refs.sh)");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        prep_case *c = &cases[n];
        ck_assert_int_eq(sscanf(line, "%63s %127s %f %f %f %f", c->name, c->image, &c->box[0], &c->box[1],
                                &c->box[2], &c->box[3]),
                         6);
        const char *pr = strstr(line, "\"probs\":");
        ck_assert_ptr_nonnull(pr);
        for (int k = 0; k < 7; k++) {
            char key[32];
            snprintf(key, sizeof key, "\"%s\":", FACEAPI_LABELS[k]);
            const char *at = strstr(pr, key);
            ck_assert_msg(at != NULL, "%s: no probability for %s", c->name, FACEAPI_LABELS[k]);
            c->probs[k] = strtof(at + strlen(key), NULL);
        }
        n++;
    }
    fclose(f);
    return n;
}

static void load_image(const char *name, sm_rgb_image *img)
{
    char rel[256];
    snprintf(rel, sizeof rel, "emotion/%.127s", name);
    const char *p = sm_test_committed(rel);
    ck_assert_msg(p != NULL, "%s missing", rel);
    sm_error err = {0};
    ck_assert_msg(sm_rgb_image_load(p, img, &err) == SM_OK, "%s", err.msg);
}

START_TEST(preprocess_matches_faceapi)
{
    prep_case cases[16];
    int n = read_cases(cases, 16);
    ck_assert_int_ge(n, 5);
    float *mine = malloc(sizeof(float) * SM_FER_SIZE * SM_FER_SIZE * 3);
    ck_assert_ptr_nonnull(mine);
    for (int i = 0; i < n; i++) {
        sm_rgb_image img = {0};
        load_image(cases[i].image, &img);
        sm_error err = {0};
        ck_assert_msg(sm_fer_preprocess(img.rgb, img.width, img.height, img.stride, cases[i].box, mine, &err) ==
                          SM_OK,
                      "%s: %s", cases[i].name, err.msg);
        char rel[256];
        snprintf(rel, sizeof rel, "emotion/%.63s.npy", cases[i].name);
        sm_npy ref;
        ck_assert_msg(sm_npy_load(sm_test_committed(rel), &ref, &err) == SM_OK, "%s", err.msg);
        ck_assert_uint_eq(ref.numel, (size_t)SM_FER_SIZE * SM_FER_SIZE * 3);
        ck_assert_int_eq(ref.dtype, SM_DTYPE_F32);
        const float *rd = ref.data;
        double max_diff = 0.0;
        size_t exact = 0, worst = 0;
        for (size_t k = 0; k < ref.numel; k++) {
            double d = fabs((double)mine[k] - (double)rd[k]);
            exact += d == 0.0;
            if (d > max_diff) {
                max_diff = d;
                worst = k;
            }
        }
        /* the same float32 operations in the same order: bit-exact */
        ck_assert_msg(max_diff == 0.0, "%s: %zu of %zu values differ from face-api's, max %.3g at %zu (%g vs %g)",
                      cases[i].name, ref.numel - exact, ref.numel, max_diff, worst, mine[worst], rd[worst]);
        sm_npy_free(&ref);
        sm_rgb_image_free(&img);
    }
    free(mine);
}
END_TEST

/* Where the converted models are: the fixtures' face folder (make test fetches
 * and converts them there, tests/gen/gen_face_models.sh), else the repository's
 * models/ (make models). */
static void fer_models_dir(char *dir, size_t n)
{
    const char *fx = getenv("SM_FIXTURES");
    const char *repo = getenv("SM_REPO");
    char probe[1200];
    if (fx) {
        snprintf(dir, n, "%s/face", fx);
        snprintf(probe, sizeof probe, "%s/emotion_fer.smw", dir);
        if (access(probe, R_OK) == 0)
            return;
    }
    snprintf(dir, n, "%s/models", repo ? repo : ".");
}

/* The precision the per-model rule gives the measured FaceExpressionNet on
 * this CPU with this environment (SM_PRECISION, SM_ISA): FP32 here (AVX2),
 * BF16 on a CPU with avx512_bf16 such as AMD Zen 4 unless the user chose. */
static sm_precision fer_default_precision(void)
{
    return sm_precision_choose(sm_precision_user(), true, sm_precision_native());
}

/* face-api's probabilities on the committed crops: FP32 within 1e-5 (the
 * same network, float32 both sides); BF16 (bfloat16 weights and activations,
 * docs/PERFORMANCE.md) within FER_BF16_PROB_BOUND, same top class. */
#define FER_BF16_PROB_BOUND 0.02
static double check_against_faceapi(sm_fer *m, const prep_case *cases, int n)
{
    const bool bf16 = sm_fer_precision(m) == SM_PRECISION_BF16;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        sm_rgb_image img = {0};
        load_image(cases[i].image, &img);
        float probs[SM_FER_MAX_CLASSES];
        sm_error err = {0};
        ck_assert_msg(sm_fer_run_rgb8(m, img.rgb, img.width, img.height, img.stride, cases[i].box, probs, &err) ==
                          SM_OK,
                      "%s", err.msg);
        int top = 0, ref_top = 0;
        for (int k = 0; k < 7; k++) {
            ck_assert_msg(fabsf(probs[k] - cases[i].probs[k]) <= (bf16 ? FER_BF16_PROB_BOUND : 1e-5f),
                          "%s (%s): P(%s) %.8f, face-api %.8f", cases[i].name,
                          sm_precision_name(sm_fer_precision(m)), FACEAPI_LABELS[k], probs[k], cases[i].probs[k]);
            worst = fmax(worst, fabs((double)probs[k] - cases[i].probs[k]));
            top = probs[k] > probs[top] ? k : top;
            ref_top = cases[i].probs[k] > cases[i].probs[ref_top] ? k : ref_top;
        }
        ck_assert_msg(top == ref_top, "%s (%s): top class %s, face-api %s", cases[i].name,
                      sm_precision_name(sm_fer_precision(m)), FACEAPI_LABELS[top], FACEAPI_LABELS[ref_top]);
        sm_rgb_image_free(&img);
    }
    return worst;
}

START_TEST(model_matches_faceapi)
{
    char path[1200], dir[1024];
    fer_models_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/emotion_fer.smw", dir);
    if (access(path, R_OK) != 0) {
        sm_test_skip("model_matches_faceapi", "emotion_fer.smw absent (make models)");
        return;
    }
    prep_case cases[16];
    int n = read_cases(cases, 16);
    sm_error err = {0};
    /* the file make models converts is the one whose BF16 accuracy was measured */
    sm_smw *f = NULL;
    ck_assert_msg(sm_smw_open(path, NULL, &f, &err) == SM_OK, "%s", err.msg);
    ck_assert(sm_fer_qualifies_bf16(f));
    sm_smw_free(f);
    /* pinned FP32, BF16 (emulated on a CPU without avx512_bf16) and the default,
     * which must be what the rule says for this CPU (SM_TEST_QUICK: those two on
     * the first three faces, the emulated BF16 reference being slow) */
    static const sm_precision asked[3] = {SM_PRECISION_FP32, SM_PRECISION_BF16, SM_PRECISION_DEFAULT};
    double worst[3];
    for (int a = 0; a < 3; a++) {
        sm_fer *m = NULL;
        ck_assert_msg(sm_fer_load_file_at(path, NULL, asked[a], &m, &err) == SM_OK, "%s", err.msg);
        ck_assert_int_eq(sm_fer_precision(m), a < 2 ? asked[a] : fer_default_precision());
        ck_assert_int_eq(sm_fer_n_classes(m), 7);
        for (int k = 0; k < 7; k++)
            ck_assert_str_eq(sm_fer_label(m, k), FACEAPI_LABELS[k]);
        worst[a] = check_against_faceapi(m, cases, a > 0 && sm_test_quick() && n > 3 ? 3 : n);
        sm_fer_free(m);
    }
    sm_fer *m = NULL;
    ck_assert_msg(sm_fer_load_file(path, NULL, &m, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(sm_fer_precision(m), fer_default_precision());
    sm_fer_free(m);
    printf("model_matches_faceapi: %d faces, max |P - face-api| fp32 %.3g, bf16 %.3g; default here: %s%s\n", n,
           worst[0], worst[1], sm_precision_name(fer_default_precision()),
           sm_precision_native() ? " (native avx512_bf16)" : " (no native BF16)");
    /* BF16 really ran: its error is far above FP32's */
    ck_assert_msg(worst[1] > 1e-5, "BF16 asked, yet max |P - face-api| is only %.3g", worst[1]);
    ck_assert_int_eq(sm_fer_precision(NULL), SM_PRECISION_DEFAULT);
    ck_assert(!sm_fer_qualifies_bf16(NULL));
    /* another network through the same loader is not judged: the face detector */
    char other[1200];
    snprintf(other, sizeof other, "%s/face_detection_short_range.smw", dir);
    if (sm_smw_open(other, NULL, &f, &err) == SM_OK) {
        ck_assert(!sm_fer_qualifies_bf16(f));
        sm_smw_free(f);
    }
}
END_TEST

/* smw-run --face on a real smiling face of the committed evaluation set:
 * landmarks, the default box rule, the model, the JSON emotion object. */
START_TEST(smw_run_face_json_emotion)
{
#ifndef SM_HAVE_TURBOJPEG
    /* the committed photos are JPEG; cross builds have no JPEG decoder */
    sm_test_skip("smw_run_face_json_emotion", "built without libjpeg-turbo");
    return;
#endif
    char models[1024], need[3][1100];
    fer_models_dir(models, sizeof models);
    snprintf(need[0], sizeof need[0], "%s/emotion_fer.smw", models);
    snprintf(need[1], sizeof need[1], "%s/face_detection_short_range.smw", models);
    snprintf(need[2], sizeof need[2], "%s/face_landmark_with_attention.smw", models);
    for (int i = 0; i < 3; i++)
        if (access(need[i], R_OK) != 0) {
            sm_test_skip("smw_run_face_json_emotion", "the face models or emotion_fer.smw are absent (make models)");
            return;
        }
    const char *img = sm_test_committed("eval/emotion/london/happy_001_08.jpg");
    ck_assert_ptr_nonnull(img);
    char args[4096];
    static char out[1 << 17];
    snprintf(args, sizeof args, "--face --image '%s' --models '%s' --json 2>/dev/null",
             img, models);
    ck_assert_int_eq(sm_test_run("smw-run", args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "\"model\": \"face-api FaceExpressionNet\""), "%s", out);
    /* the precision the rule gives this CPU (smw-run inherits SM_PRECISION, SM_ISA):
     * on a CPU with avx512_bf16 the label below comes from BF16 (P(happy) 0.99998
     * in either precision, so the check holds there too) */
    char want[64];
    snprintf(want, sizeof want, "\"precision\": \"%s\"", sm_precision_name(fer_default_precision()));
    ck_assert_msg(strstr(out, want), "%s not in %s", want, out);
    ck_assert_msg(strstr(out, "\"rule\": \"faceapi\""), "%s", out);
    ck_assert_msg(strstr(out, "\"label\": \"happy\""), "%s", out);
    ck_assert_msg(strstr(out, "\"valence\":"), "%s", out);
}
END_TEST

START_TEST(clip_box_like_faceapi)
{
    int c[4];
    /* clip at the borders, then floor x, y, w, h separately */
    const float b1[4] = {-10.5f, 60.2f, 120.7f, 66.3f};
    ck_assert(sm_fer_clip_box(b1, 160, 160, c));
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 60);
    ck_assert_int_eq(c[2], 110); /* w = 110.2 -> 110 */
    ck_assert_int_eq(c[3], 126); /* 60 + floor(66.3) */
    const float b2[4] = {150.9f, 150.9f, 50.0f, 50.0f};
    ck_assert(sm_fer_clip_box(b2, 160, 160, c));
    ck_assert_int_eq(c[0], 150);
    ck_assert_int_eq(c[2], 159); /* floor(9.1) = 9 */
    const float outside[4] = {200.0f, 10.0f, 30.0f, 30.0f};
    ck_assert(!sm_fer_clip_box(outside, 160, 160, c));
    const float thin[4] = {10.0f, 10.0f, 0.5f, 30.0f};
    ck_assert(!sm_fer_clip_box(thin, 160, 160, c));
    const float nan_box[4] = {NAN, 10.0f, 30.0f, 30.0f};
    ck_assert(!sm_fer_clip_box(nan_box, 160, 160, c));
    uint8_t px[3 * 4 * 4] = {0};
    float out[1];
    sm_error err = {0};
    ck_assert_int_eq(sm_fer_preprocess(px, 4, 4, 12, outside, out, &err), SM_ERR_ARG);
    ck_assert(strstr(err.msg, "empty") != NULL);
}
END_TEST

START_TEST(box_rules)
{
    /* landmarks spanning x 100..200, y 50..250 */
    const float pts[4][3] = {{100, 50, 0}, {200, 50, 0}, {100, 250, 0}, {150, 150, 0}};
    float b[4];
    const sm_fer_box_rule *lm = sm_fer_box_rule_find("landmarks");
    ck_assert_ptr_nonnull(lm);
    ck_assert(sm_fer_face_box(&pts[0][0], 4, 3, lm, b));
    ck_assert_float_eq(b[0], 100.0f);
    ck_assert_float_eq(b[1], 50.0f);
    ck_assert_float_eq(b[2], 100.0f);
    ck_assert_float_eq(b[3], 200.0f);
    const sm_fer_box_rule *sq = sm_fer_box_rule_find("landmarks-square");
    ck_assert(sm_fer_face_box(&pts[0][0], 4, 3, sq, b));
    ck_assert_float_eq(b[2], 200.0f);
    ck_assert_float_eq(b[3], 200.0f);
    ck_assert_float_eq(b[0], 50.0f); /* centred on x 150 */
    const sm_fer_box_rule *fa = sm_fer_box_rules();
    ck_assert_str_eq(fa->name, "faceapi");
    ck_assert(sm_fer_face_box(&pts[0][0], 4, 3, fa, b));
    ck_assert_float_eq_tol(b[0] + 0.5f * b[2], 150.0f + fa->dx * 100.0f, 1e-3f);
    ck_assert_float_eq_tol(b[1] + 0.5f * b[3], 150.0f + fa->dy * 200.0f, 1e-3f);
    ck_assert_float_eq_tol(b[2], fa->sw * 100.0f, 1e-3f);
    ck_assert_float_eq_tol(b[3], fa->sh * 200.0f, 1e-3f);
    ck_assert_ptr_null(sm_fer_box_rule_find("nope"));
    const float bad[2][3] = {{1, 1, 0}, {NAN, 2, 0}};
    ck_assert(!sm_fer_face_box(&bad[0][0], 2, 3, lm, b));
    ck_assert(!sm_fer_face_box(&pts[0][0], 1, 3, lm, b)); /* one point: empty extents */
}
END_TEST

START_TEST(labels_by_name)
{
    ck_assert_str_eq(sm_emotion_canonical("surprised"), "surprise");
    ck_assert_str_eq(sm_emotion_canonical("Fearful"), "fear");
    ck_assert_str_eq(sm_emotion_canonical("disgusted"), "disgust");
    ck_assert_str_eq(sm_emotion_canonical("happiness"), "happy");
    ck_assert_str_eq(sm_emotion_canonical("tired"), "tired");
    ck_assert_str_eq(sm_emotion_canonical("bored"), "bored"); /* unknown: unchanged */
    static const char *const seed[8] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise", "tired"};
    ck_assert_int_eq(sm_emotion_find_label(FACEAPI_LABELS, 7, "surprise"), 6);
    ck_assert_int_eq(sm_emotion_find_label(FACEAPI_LABELS, 7, "happy"), 1);
    ck_assert_int_eq(sm_emotion_find_label(FACEAPI_LABELS, 7, "fear"), 4);
    ck_assert_int_eq(sm_emotion_find_label(FACEAPI_LABELS, 7, "tired"), -1);
    ck_assert_int_eq(sm_emotion_find_label(seed, 8, "surprised"), 6);
    ck_assert_int_eq(sm_emotion_find_label(seed, 8, "disgusted"), 1);
    ck_assert_int_eq(sm_emotion_find_label(seed, 8, "tired"), 7);
}
END_TEST

START_TEST(valence_arousal_from_probs)
{
    float v, a;
    /* one-hot happy: Warriner et al. (2013) "happy" V 8.47, A 6.05 on 1..9 */
    const float happy[7] = {0, 1, 0, 0, 0, 0, 0};
    ck_assert(sm_emotion_valence_arousal(FACEAPI_LABELS, happy, 7, &v, &a));
    ck_assert_float_eq_tol(v, (8.47f - 5.0f) / 4.0f, 1e-6f);
    ck_assert_float_eq_tol(a, (6.05f - 5.0f) / 4.0f, 1e-6f);
    /* half sad ("sad" V 2.10, A 3.49), half angry ("angry" V 2.53, A 6.20) */
    const float mix[7] = {0, 0, 0.5f, 0.5f, 0, 0, 0};
    ck_assert(sm_emotion_valence_arousal(FACEAPI_LABELS, mix, 7, &v, &a));
    ck_assert_float_eq_tol(v, ((2.10f + 2.53f) / 2.0f - 5.0f) / 4.0f, 1e-6f);
    ck_assert_float_eq_tol(a, ((3.49f + 6.20f) / 2.0f - 5.0f) / 4.0f, 1e-6f);
    /* every class has coordinates in [-1, 1]; a label without is left out */
    static const char *const odd[2] = {"bored", "neutral"};
    const float p2[2] = {0.9f, 0.1f};
    ck_assert(sm_emotion_valence_arousal(odd, p2, 2, &v, &a));
    ck_assert_float_eq_tol(v, (5.50f - 5.0f) / 4.0f, 1e-6f);
    static const char *const none[1] = {"bored"};
    ck_assert(!sm_emotion_valence_arousal(none, p2, 1, &v, &a));
    ck_assert_float_eq(v, 0.0f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emotion_fer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, preprocess_matches_faceapi);
    tcase_add_test(tc, model_matches_faceapi);
    tcase_add_test(tc, smw_run_face_json_emotion);
    tcase_add_test(tc, clip_box_like_faceapi);
    tcase_add_test(tc, box_rules);
    tcase_add_test(tc, labels_by_name);
    tcase_add_test(tc, valence_arousal_from_probs);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

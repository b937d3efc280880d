/* UltraLightNet against PyTorch: the user's real best_model.pth (shared/seed),
 * converted with smw-convert, on gen_seed_refs.py's cases (random, constant,
 * batch2, t90): BPM within 1e-4 relative; the incremental ring equals the full
 * path bit for bit; threads and ISA levels; smw-run; rejections. Skipped
 * visibly when shared/ is absent. */
#include "npy.h"
#include "rppg_ultralight.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL_TOL 1e-4

static char smw_path[4200];
static char conv_msg[4096];
static bool have_ckpt;

static void convert_once(void)
{
    const char *pth = sm_test_shared("seed/checkpoints/best_model.pth");
    if (!pth)
        return;
    have_ckpt = true;
    sm_test_convert(pth, "ultralight.smw", smw_path, sizeof smw_path, conv_msg, sizeof conv_msg);
}

/* NULL (after printing a skip line) when the real checkpoint is absent. */
static const char *converted(const char *test)
{
    if (!have_ckpt) {
        sm_test_skip(test, "shared/seed/checkpoints/best_model.pth not found");
        return NULL;
    }
    ck_assert_msg(smw_path[0], "smw-convert failed: %s", conv_msg);
    ck_assert_msg(sm_test_fixture("ultralight_ref/random/bpm.npy") != NULL,
                  "fixtures ultralight_ref/ missing (tests/gen/gen_seed_refs.py)");
    return smw_path;
}

static sm_ultralight *load_model(const char *path, sm_threadpool *pool)
{
    sm_ultralight *m;
    sm_error err;
    ck_assert_msg(sm_ultralight_load_file(path, pool, &m, &err) == SM_OK, "%s", err.msg);
    return m;
}

static void check_bpm(const char *what, float ours, float ref)
{
    double e = fabs((double)ours - ref) / fabs((double)ref);
    ck_assert_msg(e <= REL_TOL, "%s: bpm %.6f, PyTorch %.6f (relative error %.3g > %.0e)", what, ours, ref, e,
                  REL_TOL);
}

/* Every case through the full NCHW path; returns the worst relative error. */
static double run_cases(sm_ultralight *m)
{
    static const char *const cases[] = {"random", "constant", "batch2", "t90"};
    double worst = 0;
    for (size_t c = 0; c < 4; c++) {
        char rel[128], what[96];
        sm_npy in, ref;
        snprintf(rel, sizeof rel, "ultralight_ref/%s/input.npy", cases[c]);
        sm_test_load_npy_f32(rel, &in);
        snprintf(rel, sizeof rel, "ultralight_ref/%s/bpm.npy", cases[c]);
        sm_test_load_npy_f32(rel, &ref);
        ck_assert_int_eq(in.ndim, 5);
        size_t b = (size_t)in.dims[0], t = (size_t)in.dims[1], fs = 3 * 36 * 36;
        ck_assert_uint_eq(ref.numel, b);
        for (size_t i = 0; i < b; i++) {
            float bpm;
            sm_error err;
            ck_assert_msg(sm_ultralight_run_nchw(m, (const float *)in.data + i * t * fs, t, &bpm, &err) == SM_OK,
                          "%s", err.msg);
            snprintf(what, sizeof what, "%s[%zu] (%s)", cases[c], i, sm_isa_name(sm_isa_active()));
            check_bpm(what, bpm, ((const float *)ref.data)[i]);
            worst = fmax(worst, fabs((double)bpm - ((const float *)ref.data)[i]) / ((const float *)ref.data)[i]);
        }
        sm_npy_free(&in);
        sm_npy_free(&ref);
    }
    return worst;
}

START_TEST(ultralight_parity_all_isas)
{
    const char *p = converted("ultralight_parity_all_isas");
    if (!p)
        return;
    sm_isa best = sm_isa_active();
    for (int i = 0; i < SM_ISA_COUNT; i++) {
        if (!sm_isa_supported((sm_isa)i) || (sm_isa)i > best)
            continue;
        ck_assert(sm_isa_force((sm_isa)i));
        sm_ultralight *m = load_model(p, NULL);
        ck_assert_uint_eq(sm_ultralight_input_size(m), 36);
        ck_assert_uint_eq(sm_ultralight_frames(m), 180);
        double w = run_cases(m);
        printf("  ultralight %-6s worst relative BPM error %.2e\n", sm_isa_name((sm_isa)i), w);
        sm_ultralight_free(m);
    }
    sm_isa_force(best);
}
END_TEST

/* NCHW [T,3,36,36] -> NHWC [T,36,36,3] */
static float *frames_nhwc(const float *nchw, size_t t)
{
    float *o = malloc(t * 36 * 36 * 3 * sizeof(float));
    for (size_t f = 0; f < t; f++)
        for (size_t c = 0; c < 3; c++)
            for (size_t p = 0; p < 36 * 36; p++)
                o[(f * 36 * 36 + p) * 3 + c] = nchw[(f * 3 + c) * 36 * 36 + p];
    return o;
}

/* The ring (only new frames computed per push) equals the full path on the same
 * window, before and after it wraps, and for a window of 90 (the t90 case), at
 * every 10th frame as app.py reads it (SM_TEST_QUICK: at the first frame, where
 * each window fills and every 90th frame after, where both have wrapped). */
START_TEST(ultralight_incremental_equals_full)
{
    const char *p = converted("ultralight_incremental_equals_full");
    if (!p)
        return;
    sm_npy in, ref90;
    sm_test_load_npy_f32("ultralight_ref/batch2/input.npy", &in);
    sm_test_load_npy_f32("ultralight_ref/t90/bpm.npy", &ref90);
    /* 360 frames: random then constant */
    float *x = frames_nhwc(in.data, 360);
    size_t fs = 36 * 36 * 3;
    sm_threadpool *pool;
    sm_error err;
    ck_assert_int_eq(sm_threadpool_init(&pool, 2, &err), SM_OK);
    sm_ultralight *m = load_model(p, pool);
    sm_ultralight_stream *s, *s90;
    ck_assert_int_eq(sm_ultralight_stream_init(m, 0, &s, &err), SM_OK);
    ck_assert_int_eq(sm_ultralight_stream_init(m, 90, &s90, &err), SM_OK);
    float a, b;
    ck_assert_int_eq(sm_ultralight_stream_bpm(s, m, &a, &err), SM_ERR_ARG);
    int checked = 0;
    const bool quick = sm_test_quick();
    for (size_t f = 0; f < 360; f++) {
        sm_ultralight_stream_push(s, m, x + f * fs);
        sm_ultralight_stream_push(s90, m, x + f * fs);
        size_t n = sm_ultralight_stream_count(s);
        ck_assert_uint_eq(n, f + 1 < 180 ? f + 1 : 180);
        if (quick ? f == 0 || f % 90 == 89 : f % 10 == 9 || f == 0) { /* app.py reads every 10th frame */
            ck_assert_int_eq(sm_ultralight_stream_bpm(s, m, &a, &err), SM_OK);
            ck_assert_int_eq(sm_ultralight_run_nhwc(m, x + (f + 1 - n) * fs, n, &b, &err), SM_OK);
            ck_assert_msg(a == b, "frame %zu: incremental %.9g != full %.9g", f, a, b);
            size_t n90 = sm_ultralight_stream_count(s90);
            ck_assert_int_eq(sm_ultralight_stream_bpm(s90, m, &a, &err), SM_OK);
            ck_assert_int_eq(sm_ultralight_run_nhwc(m, x + (f + 1 - n90) * fs, n90, &b, &err), SM_OK);
            ck_assert_msg(a == b, "frame %zu (window 90): incremental %.9g != full %.9g", f, a, b);
            if (f == 89)
                check_bpm("t90 via the ring", a, ((const float *)ref90.data)[0]);
            checked++;
        }
    }
    ck_assert_int_eq(checked, quick ? 5 : 37);
    /* the last 180 frames are the constant clip: PyTorch's constant case */
    sm_npy refc;
    sm_test_load_npy_f32("ultralight_ref/constant/bpm.npy", &refc);
    ck_assert_int_eq(sm_ultralight_stream_bpm(s, m, &a, &err), SM_OK);
    check_bpm("constant via the ring", a, ((const float *)refc.data)[0]);
    sm_ultralight_stream_reset(s);
    ck_assert_uint_eq(sm_ultralight_stream_count(s), 0);
    /* the rppg_pos.h callback adapter is the full NHWC path */
    ck_assert_int_eq(sm_ultralight_net_fn(m, x, 180, &a, &err), SM_OK);
    sm_npy refr;
    sm_test_load_npy_f32("ultralight_ref/random/bpm.npy", &refr);
    check_bpm("random via sm_ultralight_net_fn", a, ((const float *)refr.data)[0]);
    ck_assert_int_eq(sm_ultralight_net_fn(m, x, 0, &a, &err), SM_ERR_ARG);
    sm_npy_free(&refr);
    sm_npy_free(&refc);
    sm_ultralight_stream_free(s);
    sm_ultralight_stream_free(s90);
    sm_ultralight_free(m);
    sm_threadpool_free(pool);
    free(x);
    sm_npy_free(&in);
    sm_npy_free(&ref90);
}
END_TEST

/* One thread and two give the same bits (each thread has its own ops). */
START_TEST(ultralight_threads_bit_identical)
{
    const char *p = converted("ultralight_threads_bit_identical");
    if (!p)
        return;
    sm_npy in;
    sm_test_load_npy_f32("ultralight_ref/random/input.npy", &in);
    sm_error err;
    sm_ultralight *m1 = load_model(p, NULL);
    /* 2 and 3 threads, by the fan-out rule and with every split taken (grain
     * scale 0); T = 1 is one frame, whole on one thread either way */
    for (size_t threads = 2; threads <= 3; threads++)
        for (int every = 0; every < 2; every++) {
            sm_threadpool *pool;
            ck_assert_int_eq(sm_threadpool_init(&pool, threads, &err), SM_OK);
            sm_parallel_set_grain_scale(every ? 0.0 : 1.0);
            sm_ultralight *m2 = load_model(p, pool);
            static const size_t ts[] = {1, 2, 180};
            for (size_t i = 0; i < 3; i++) {
                float a, b;
                ck_assert_int_eq(sm_ultralight_run_nchw(m1, in.data, ts[i], &a, &err), SM_OK);
                ck_assert_int_eq(sm_ultralight_run_nchw(m2, in.data, ts[i], &b, &err), SM_OK);
                ck_assert_msg(a == b, "T=%zu: 1 thread %.9g, %zu threads %.9g%s", ts[i], a, threads, b,
                              every ? " (every split)" : "");
            }
            ck_assert_uint_gt(sm_threadpool_fanouts(pool), 0);
            sm_ultralight_free(m2);
            sm_threadpool_free(pool);
        }
    sm_parallel_set_grain_scale(1.0);
    sm_ultralight_free(m1);
    sm_npy_free(&in);
}
END_TEST

START_TEST(ultralight_smw_run)
{
    const char *p = converted("ultralight_smw_run");
    if (!p)
        return;
    const char *dir = sm_test_tmpdir();
    char args[8400], out[4096], f[8400];
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s'", p,
             sm_test_fixture("ultralight_ref/batch2/input.npy"), dir);
    ck_assert_msg(sm_test_run("smw-run", args, out, sizeof out) == 0, "smw-run: %s", out);
    snprintf(f, sizeof f, "%s/bpm.npy", dir);
    sm_npy ours, ref;
    sm_error err;
    ck_assert_msg(sm_npy_load(f, &ours, &err) == SM_OK, "%s", err.msg);
    sm_test_load_npy_f32("ultralight_ref/batch2/bpm.npy", &ref);
    ck_assert_int_eq(ours.dtype, SM_DTYPE_F32);
    ck_assert_uint_eq(ours.ndim, 1);
    ck_assert_uint_eq(ours.dims[0], 2);
    for (size_t i = 0; i < 2; i++)
        check_bpm("smw-run batch2", ((const float *)ours.data)[i], ((const float *)ref.data)[i]);
    sm_npy_free(&ours);
    sm_npy_free(&ref);
    /* an emotion-shaped input is refused with the contract */
    sm_test_smw_run_refuses(p, sm_test_fixture("emotion_ref/face224/input.npy"), dir, "[B, T, 3, 36, 36]");
}
END_TEST

static void expect_load_error(const char *path, const char *const *needles)
{
    sm_test_expect_load_error("ultralight_rppg", path, needles);
}

START_TEST(ultralight_rejects_bad_files)
{
    const char *p = converted("ultralight_rejects_bad_files");
    if (!p)
        return;
    const char *const n1[] = {"architecture 'novel_emotion_effnet_b3'", "expected 'ultralight_rppg'", NULL};
    expect_load_error(sm_test_smw_rewrite(p, "novel_emotion_effnet_b3", NULL, 0, NULL, NULL), n1);
    uint64_t d[2] = {64, 289};
    const char *const n2[] = {"fc.0.weight", "[64,288]", "[64,289]", NULL};
    expect_load_error(sm_test_smw_rewrite(p, NULL, "fc.0.weight", 2, d, NULL), n2);
    uint64_t k[4] = {16, 3, 3, 3};
    const char *const n3[] = {"conv.0.weight", "[16,3,5,5]", "[16,3,3,3]", NULL};
    expect_load_error(sm_test_smw_rewrite(p, NULL, "conv.0.weight", 4, k, NULL), n3);
}
END_TEST

/* Preprocessing (app.py extract_rppg_frame): a 36x36 centre crop of a 60x36
 * frame is copied exactly (cv2.resize at scale 1), /255. */
START_TEST(ultralight_preprocess_centre_crop)
{
    const char *p = converted("ultralight_preprocess_centre_crop");
    if (!p)
        return;
    sm_ultralight *m = load_model(p, NULL);
    uint8_t img[36 * 60 * 3];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 31u % 253u);
    float out[36 * 36 * 3];
    sm_ultralight_preprocess(m, img, 60, 36, 60 * 3, out);
    for (int y = 0; y < 36; y++)
        for (int x = 0; x < 36; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_float_eq(out[(y * 36 + x) * 3 + c], img[(y * 60 + x + 12) * 3 + c] / 255.0f);
    sm_ultralight_free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ultralight");
    TCase *tc = tcase_create("parity");
    tcase_add_unchecked_fixture(tc, convert_once, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, ultralight_parity_all_isas);
    tcase_add_test(tc, ultralight_incremental_equals_full);
    tcase_add_test(tc, ultralight_threads_bit_identical);
    tcase_add_test(tc, ultralight_smw_run);
    tcase_add_test(tc, ultralight_rejects_bad_files);
    tcase_add_test(tc, ultralight_preprocess_centre_crop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return sm_test_main(suite()); }

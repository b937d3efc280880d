/* Fatigue features against tests/gen/gen_analysis_fatigue.py, a numpy
 * transcription of seed/fatigue_module.py (per-frame features) and of the
 * blink/PERCLOS/yawn rules in app/fatigue_features.h (time statistics). */
#include "fatigue_features.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *open_fixture(const char *name)
{
    const char *p = sm_test_fixture(name);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_analysis_fatigue.py)", name);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    return f;
}

static void near(double got, double want, double tol, const char *what, const char *name)
{
    ck_assert_msg(fabs(got - want) <= tol * (1.0 + fabs(want)), "%s %s: got %.12g want %.12g",
                  name, what, got, want);
}

START_TEST(features_match_seed_formulas)
{
    FILE *f = open_fixture("analysis_fatigue_landmarks.txt");
    int ncases;
    ck_assert_int_eq(fscanf(f, "%d", &ncases), 1);
    ck_assert_int_ge(ncases, 10);
    float *pts2 = malloc(478 * 2 * sizeof *pts2);
    float *pts3 = malloc(478 * 3 * sizeof *pts3);
    for (int c = 0; c < ncases; c++) {
        char name[64];
        int n;
        ck_assert_int_eq(fscanf(f, "%63s %d", name, &n), 2);
        ck_assert(n == 468 || n == 478);
        for (int i = 0; i < n; i++) {
            ck_assert_int_eq(fscanf(f, "%f %f", &pts2[2 * i], &pts2[2 * i + 1]), 2);
            pts3[3 * i] = pts2[2 * i];
            pts3[3 * i + 1] = pts2[2 * i + 1];
            pts3[3 * i + 2] = -1000.0f; /* z must be ignored */
        }
        double e[7];
        int yawn;
        ck_assert_int_eq(fscanf(f, "%lf %lf %d %lf %lf %lf %lf", &e[0], &e[1], &yawn, &e[3],
                                &e[4], &e[5], &e[6]), 7);
        sm_fatigue_feats a, b;
        sm_error err;
        ck_assert_int_eq(sm_fatigue_features_compute(pts2, n, 2, &a, &err), SM_OK);
        ck_assert_int_eq(sm_fatigue_features_compute(pts3, n, 3, &b, &err), SM_OK);
        ck_assert(memcmp(&a, &b, sizeof a) == 0);
        near(a.ear, e[0], 1e-12, "ear", name);
        near(a.mar, e[1], 1e-12, "mar", name);
        ck_assert_int_eq(a.yawn, yawn);
        ck_assert_msg(fabs(a.tilt_deg - e[3]) <= 1e-9, "%s tilt %.12g vs %.12g", name,
                      a.tilt_deg, e[3]);
        ck_assert(a.tilt_deg >= -90.0 && a.tilt_deg <= 90.0);
        near(a.pitch_ratio, e[4], 1e-12, "pitch", name);
        near(a.ear_left, e[5], 1e-12, "ear_left", name);
        near(a.ear_right, e[6], 1e-12, "ear_right", name);
    }
    free(pts2);
    free(pts3);
    fclose(f);
}
END_TEST

START_TEST(known_polygon_and_bad_input)
{
    /* One eye with width 10 and lids +-2 at both verticals: EAR = 8/(20+1e-6);
     * both eyes identical so the mean is the same. */
    static float pts[478 * 2];
    memset(pts, 0, sizeof pts);
    const int eyes[2][6] = {{33, 160, 158, 133, 153, 144}, {362, 385, 387, 263, 373, 380}};
    const float shape[6][2] = {{0, 0}, {3, -2}, {7, -2}, {10, 0}, {7, 2}, {3, 2}};
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < 6; k++) {
            pts[2 * eyes[e][k]] = shape[k][0] + 100.0f * (float)e;
            pts[2 * eyes[e][k] + 1] = shape[k][1] + 50.0f;
        }
    /* 263 (left outer corner) now sits at (110, 50) and 33 at (0, 50): tilt 0 after folding 180 */
    pts[2 * 61] = 40; pts[2 * 61 + 1] = 90; pts[2 * 291] = 70; pts[2 * 291 + 1] = 90;
    pts[2 * 0] = 55; pts[2 * 0 + 1] = 80; pts[2 * 17] = 55; pts[2 * 17 + 1] = 100;
    sm_fatigue_feats ft;
    sm_error err;
    ck_assert_int_eq(sm_fatigue_features_compute(pts, 478, 2, &ft, &err), SM_OK);
    ck_assert(fabs(ft.ear - 8.0 / (20.0 + 1e-6)) < 1e-12);
    ck_assert(fabs(ft.mar - 20.0 / (30.0 + 1e-6)) < 1e-12);
    ck_assert_int_eq(ft.yawn, 1);
    ck_assert(fabs(ft.tilt_deg) < 1e-12);

    ck_assert_int_eq(sm_fatigue_features_compute(pts, 400, 2, &ft, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "468"));
    ck_assert_int_eq(sm_fatigue_features_compute(pts, 478, 1, &ft, &err), SM_ERR_ARG);
    pts[2 * 152 + 1] = NAN;
    ck_assert_int_eq(sm_fatigue_features_compute(pts, 478, 2, &ft, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "152"));
}
END_TEST

START_TEST(tracker_matches_reference_series)
{
    FILE *f = open_fixture("analysis_fatigue_series.txt");
    int n;
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    ck_assert_int_gt(n, 1000);
    sm_fatigue_tracker *tr;
    sm_error err;
    ck_assert_int_eq(sm_fatigue_tracker_init(&tr, &err), SM_OK);
    int max_blinks = 0, max_yawns = 0;
    double max_perclos = 0;
    for (int i = 0; i < n; i++) {
        double t, ear, thr, perclos, obs, bpm;
        int face, yawn, closed, blinks, yawns;
        ck_assert_int_eq(fscanf(f, "%lf %d %lf %d %d %lf %lf %lf %lf %d %d", &t, &face, &ear,
                                &yawn, &closed, &thr, &perclos, &obs, &bpm, &blinks, &yawns),
                         11);
        sm_fatigue_feats ft = {0};
        ft.ear = ear;
        ft.yawn = yawn;
        sm_fatigue_stats st;
        sm_fatigue_tracker_push(tr, t, face ? &ft : NULL, &st);
        ck_assert_msg((int)st.closed == closed, "step %d closed %d want %d", i, st.closed, closed);
        ck_assert_msg(fabs(st.threshold - thr) < 1e-9, "step %d thr", i);
        ck_assert_msg(fabs(st.perclos - perclos) < 1e-9, "step %d perclos %.12g want %.12g", i,
                      st.perclos, perclos);
        ck_assert_msg(fabs(st.observed_s - obs) < 1e-7, "step %d observed", i);
        ck_assert_msg(fabs(st.blinks_per_min - bpm) < 1e-9, "step %d bpm %.12g want %.12g", i,
                      st.blinks_per_min, bpm);
        ck_assert_int_eq(st.blinks, blinks);
        ck_assert_int_eq(st.yawns, yawns);
        max_blinks = blinks; max_yawns = yawns;
        if (perclos > max_perclos)
            max_perclos = perclos;
    }
    /* the series must exercise what it claims to */
    ck_assert_int_gt(max_blinks, 15);
    ck_assert_int_ge(max_yawns, 3);
    ck_assert(max_perclos > 0.2);
    sm_fatigue_tracker_free(tr);
    sm_fatigue_tracker_free(NULL);
    fclose(f);
}
END_TEST

START_TEST(perclos_by_time_not_frames)
{
    /* 30 s closed at 10 fps then 30 s open at 50 fps: by frames 1/6 closed,
     * by time one half. */
    sm_fatigue_tracker *tr;
    ck_assert_int_eq(sm_fatigue_tracker_init(&tr, NULL), SM_OK);
    sm_fatigue_feats open = {0}, shut = {0};
    open.ear = 0.3;
    shut.ear = 0.05;
    sm_fatigue_stats st;
    double t = 0;
    for (int i = 0; i < 300; i++, t += 0.1)
        sm_fatigue_tracker_push(tr, t, &shut, &st);
    for (int i = 0; i <= 1500; i++, t += 0.02)
        sm_fatigue_tracker_push(tr, t, &open, &st);
    ck_assert_msg(fabs(st.perclos - 0.5) < 0.01, "perclos %g", st.perclos);
    ck_assert_int_eq(st.blinks, 1);
    sm_fatigue_tracker_free(tr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fatigue_features");
    TCase *tc = tcase_create("features");
    tcase_add_test(tc, features_match_seed_formulas);
    tcase_add_test(tc, known_polygon_and_bad_input);
    tcase_add_test(tc, tracker_matches_reference_series);
    tcase_add_test(tc, perclos_by_time_not_frames);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

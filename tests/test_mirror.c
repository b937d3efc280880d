/* The per-frame fusion against tests/gen/gen_analysis_mirror.py (app.py's main
 * loop transcribed) on a scripted 3000-frame session, in app.py's label order
 * and in another order (labels are looked up by name); table-driven checks of
 * each rule with values worked out by hand; calculate_stress_score. */
#include "mirror.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *app_labels[8] = {"neutral", "happy", "sad", "angry",
                                    "surprise", "disgust", "fear", "tired"};
/* the fine-tune notebook's sorted order (SEED_MODELS.md 9.2) */
static const char *sorted_labels[8] = {"angry", "disgust", "fear", "happy",
                                       "neutral", "sad", "surprise", "tired"};

static sm_status fake_mlp(void *ctx, const double x[5], double *p1, sm_error *err)
{
    (void)ctx;
    (void)err;
    static const double w[5] = {8.0, -3.0, -1.5, -0.02, 0.5};
    double z = -1.0;
    for (int i = 0; i < 5; i++)
        z += w[i] * x[i];
    *p1 = 1.0 / (1.0 + exp(-z));
    return SM_OK;
}

typedef struct {
    const float *bpms;
    int n, calls;
} fake_net;

static sm_status fake_net_run(void *ctx, const float *frames, int n_frames, float *bpm,
                              sm_error *err)
{
    fake_net *f = ctx;
    ck_assert_int_eq(n_frames, SM_RPPG_NET_FRAMES);
    ck_assert(frames[0] >= 0.0f && frames[0] <= 1.0f);
    if (f->calls >= f->n)
        return sm_error_set(err, SM_ERR_ARG, "script exhausted");
    *bpm = f->bpms[f->calls++];
    return SM_OK;
}

static int index_of(const char *const *labels, const char *name)
{
    for (int i = 0; i < 8; i++)
        if (strcmp(labels[i], name) == 0)
            return i;
    return -1;
}

static void run_sequence(const char *const *labels)
{
    const char *p = sm_test_fixture("analysis_mirror_seq.txt");
    ck_assert_msg(p != NULL, "fixture missing (tests/gen/gen_analysis_mirror.py)");
    FILE *f = fopen(p, "r");
    int n, nb;
    ck_assert_int_eq(fscanf(f, "%d %d", &n, &nb), 2);
    float *bpms = malloc((size_t)nb * sizeof *bpms);
    for (int i = 0; i < nb; i++)
        ck_assert_int_eq(fscanf(f, "%f", &bpms[i]), 1);
    fake_net net = {bpms, nb, 0};
    sm_advisor_config acfg = sm_advisor_config_default();
    acfg.path = "";
    sm_advisor *adv;
    ck_assert_int_eq(sm_advisor_init(&adv, &acfg, NULL), SM_OK);
    sm_mirror_config cfg = {true, 8, labels, fake_mlp, NULL, fake_net_run, &net, adv};
    sm_mirror *m;
    sm_error err;
    ck_assert_int_eq(sm_mirror_init(&m, &cfg, &err), SM_OK);
    sm_face_result *face = calloc(1, sizeof *face);
    sm_mirror_result *r = malloc(sizeof *r);
    uint8_t px[4 * 4 * 3];
    memset(px, 90, sizeof px);
    int alerts = 0, hidden = 0, happy_frames = 0;
    for (int i = 0; i < n; i++) {
        double t, feats[5];
        int has_face;
        float probs_app[8], probs[8];
        ck_assert_int_eq(fscanf(f, "%lf %d", &t, &has_face), 2);
        for (int k = 0; k < 5; k++)
            ck_assert_int_eq(fscanf(f, "%lf", &feats[k]), 1);
        for (int k = 0; k < 8; k++)
            ck_assert_int_eq(fscanf(f, "%f", &probs_app[k]), 1);
        for (int k = 0; k < 8; k++)
            probs[index_of(labels, app_labels[k])] = probs_app[k];
        int alert, streak, label, shown, stress_valid, has_action, action;
        double pd, conf, stress, bpm, pos, reward;
        char x[4];
        ck_assert_int_eq(fscanf(f, "%d %lf %d %lf %d %3s %d %lf %lf %d %lf %d %d %lf", &alert,
                                &pd, &streak, &conf, &label, x, &shown, &stress, &bpm,
                                &stress_valid, &pos, &has_action, &action, &reward), 14);
        sm_fatigue_feats ft = {0};
        ft.ear = feats[0];
        ft.mar = feats[1];
        ft.yawn = (int)feats[2];
        ft.tilt_deg = feats[3];
        ft.pitch_ratio = feats[4];
        face->valid = has_face;
        face->n_landmarks = 478;
        sm_mirror_input in = {0};
        in.frame = i;
        in.t = t;
        in.width = 4;
        in.height = 4;
        in.rgb = px;
        in.stride = 12;
        in.face = face;
        in.feats = has_face ? &ft : NULL;
        in.emotion_probs = has_face ? probs : NULL;
        ck_assert_int_eq(sm_mirror_step(m, &in, r, &err), SM_OK);

        const sm_fatigue_result *fa = &r->fatigue;
        ck_assert_msg(fabs(fa->p_drowsy - pd) < 2e-6, "frame %d p_drowsy %.7f want %.7f", i,
                      fa->p_drowsy, pd);
        ck_assert_msg(fa->streak == streak && fa->alert == (alert != 0), "frame %d streak %d/%d",
                      i, fa->streak, streak);
        ck_assert_str_eq(fa->estimator, "mlp");
        ck_assert(fa->valid == (has_face != 0));
        const sm_emotion_result *em = &r->emotion;
        int want_label = label >= 0 ? index_of(labels, app_labels[label]) : -1;
        int want_shown = shown >= 0 ? index_of(labels, app_labels[shown]) : -1;
        ck_assert_msg(em->label_argmax == want_label, "frame %d label %d want %d", i,
                      em->label_argmax, want_label);
        ck_assert_int_eq(em->label, want_shown);
        if (label >= 0)
            ck_assert(fabs(em->conf - conf) < 2e-6);
        const sm_heart_result *h = &r->heart;
        ck_assert(h->valid_stress == (stress_valid != 0));
        if (stress_valid) {
            ck_assert_msg(fabs(h->stress - stress) < 1e-4, "frame %d stress %.5f want %.5f", i,
                          h->stress, stress);
            ck_assert(fabs(h->bpm_net - bpm) < 1e-4 && h->valid_net);
            ck_assert_str_eq(h->stress_source, "net");
            ck_assert_str_eq(h->stress_level, sm_stress_level(stress));
        }
        ck_assert(r->advisor.valid == (has_action != 0));
        if (has_action) {
            ck_assert_int_eq(r->advisor.action, action);
            ck_assert_str_eq(r->advisor.action_text, sm_advisor_action_text(action));
        }
        if (r->advisor.has_reward)
            ck_assert_msg(fabs(r->advisor.reward - reward) < 1e-4 * (1 + fabs(reward)),
                          "frame %d reward %g want %g", i, r->advisor.reward, reward);
        alerts += fa->alert;
        hidden += em->valid && em->label < 0;
        happy_frames += em->label_argmax == index_of(labels, "happy");
    }
    int calls;
    ck_assert_int_eq(fscanf(f, "%d", &calls), 1);
    ck_assert_int_eq(net.calls, calls);
    /* the script exercised the rules it was written for */
    ck_assert_int_gt(alerts, 50);
    ck_assert_int_gt(hidden, 50);
    ck_assert_int_gt(happy_frames, 100);
    fclose(f);
    free(bpms);
    free(face);
    free(r);
    sm_mirror_free(m);
    sm_mirror_free(NULL);
    sm_advisor_free(adv);
}

/* A tracked face with the refined mesh's 478 landmarks, all at (0, 0, 0). */
static sm_face_result *new_face(void)
{
    sm_face_result *face = calloc(1, sizeof *face);
    ck_assert_ptr_nonnull(face);
    face->valid = true;
    face->n_landmarks = 478;
    return face;
}

START_TEST(sequence_matches_app_py)
{
    run_sequence(app_labels);
}
END_TEST

START_TEST(sequence_with_other_label_order)
{
    run_sequence(sorted_labels);
}
END_TEST

/* ---- single-frame rules, by hand ---- */

typedef struct {
    const char *what;
    double ear, mar;
    int yawn;
    int emo;            /* -1: no emotion; else app_labels index with probability pe */
    double pe, p_surprise;
    double p1;          /* the MLP's P(non-drowsy) */
    double want;        /* first-frame P(drowsy) */
} rule_case;

static double g_p1;

static sm_status const_mlp(void *ctx, const double x[5], double *p1, sm_error *err)
{
    double *seen = ctx;
    memcpy(seen, x, 5 * sizeof *x);
    *p1 = g_p1;
    return SM_OK;
}

static const rule_case rule_cases[] = {
    /* plain: P(drowsy) = 1 - p1 */
    {"plain", 0.20, 0.40, 0, -1, 0, 0, 0.25, 0.75},
    /* positivity discount: happy 0.6 + surprise 0.2 -> x (1 - 0.32) */
    {"positivity", 0.20, 0.40, 0, 1, 0.6, 0.2, 0.25, 0.75 * (1 - 0.4 * 0.8)},
    /* surprise discounts too, without the happy rule (happy holds 0.1/7 of the rest) */
    {"surprise", 0.20, 0.70, 1, 4, 0.9, 0.0, 0.0, 1.0 * (1 - 0.4 * (0.9 + 0.1 / 7))},
    /* open eyes, small mouth, p > 0.5 -> 0.3 */
    {"open-eye", 0.25, 0.30, 0, -1, 0, 0, 0.1, 0.3},
    /* open eyes but p <= 0.5 stays */
    {"open-eye-low", 0.25, 0.30, 0, -1, 0, 0, 0.6, 0.4},
    /* EAR exactly 0.23 is not "open" */
    {"ear-boundary", 0.23, 0.30, 0, -1, 0, 0, 0.1, 0.9},
    /* yawning blocks the heuristic */
    {"yawn", 0.25, 0.70, 1, -1, 0, 0, 0.1, 0.9},
    /* happy: yawn cleared and MAR capped at 0.30, so the heuristic fires after
     * the discount 0.9 * (1 - 0.4 * 0.7) = 0.648 */
    {"happy", 0.25, 0.70, 1, 1, 0.7, 0.0, 0.1, 0.3},
    /* low-confidence happy (0.4) is still app.py's label: the rule applies */
    {"happy-low-conf", 0.20, 0.70, 1, 1, 0.4, 0.0, 0.1, 0.9 * (1 - 0.4 * 0.4)},
};

START_TEST(single_frame_rules)
{
    const rule_case *c = &rule_cases[_i];
    double seen[5];
    g_p1 = c->p1;
    sm_mirror_config cfg = {true, 8, app_labels, const_mlp, seen, NULL, NULL, NULL};
    sm_mirror *m;
    ck_assert_int_eq(sm_mirror_init(&m, &cfg, NULL), SM_OK);
    sm_face_result *face = new_face();
    sm_fatigue_feats ft = {0};
    ft.ear = c->ear;
    ft.mar = c->mar;
    ft.yawn = c->yawn;
    ft.tilt_deg = 3.0;
    ft.pitch_ratio = 1.2;
    float probs[8] = {0};
    if (c->emo >= 0) {
        probs[c->emo] = (float)c->pe;
        probs[4] += (float)c->p_surprise;
        float rest = 1.0f - probs[c->emo] - (c->emo == 4 ? 0 : probs[4]);
        int others = c->emo == 4 ? 7 : 6;
        for (int k = 0; k < 8; k++) /* the remainder spread over the other classes */
            if (k != c->emo && k != 4)
                probs[k] += rest / (float)others;
    }
    sm_mirror_input in = {0};
    in.t = 1.0;
    in.face = face;
    in.feats = &ft;
    in.emotion_probs = c->emo >= 0 ? probs : NULL;
    sm_mirror_result *r = malloc(sizeof *r);
    ck_assert_int_eq(sm_mirror_step(m, &in, r, NULL), SM_OK);
    ck_assert_msg(fabs(r->fatigue.p_drowsy - c->want) < 1e-6, "%s: %.7f want %.7f", c->what,
                  r->fatigue.p_drowsy, c->want);
    if (c->emo == 1) {
        ck_assert(seen[2] == 0.0 && seen[1] <= 0.30);
        ck_assert_int_eq(r->emotion.label, c->pe >= 0.5 ? 1 : -1);
        ck_assert_int_eq(r->emotion.label_argmax, 1);
    } else {
        ck_assert(seen[1] == c->mar && seen[2] == c->yawn);
    }
    ck_assert(seen[0] == c->ear && seen[3] == 3.0 && seen[4] == 1.2);
    free(r);
    free(face);
    sm_mirror_free(m);
}
END_TEST

START_TEST(no_face_and_streak)
{
    /* no MLP, no emotion model, no network, no advisor */
    sm_mirror_config cfg = {false, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    sm_mirror *m;
    ck_assert_int_eq(sm_mirror_init(&m, &cfg, NULL), SM_OK);
    sm_mirror_result *r = malloc(sizeof *r);
    sm_mirror_input in = {0};
    /* a first frame without a face counts 0 */
    ck_assert_int_eq(sm_mirror_step(m, &in, r, NULL), SM_OK);
    ck_assert(!r->fatigue.valid && r->fatigue.p_drowsy == 0.0f);
    ck_assert(!r->fatigue.available && !r->emotion.available && !r->heart.available_net);
    ck_assert(!r->heart.valid_pos && !r->heart.valid_stress && !r->advisor.valid);
    ck_assert_str_eq(r->fatigue.estimator, "rules");
    /* shut eyes for a while: rule estimator climbs past 0.8, alert after 10 frames */
    sm_face_result *face = new_face();
    sm_fatigue_feats ft = {0};
    ft.ear = 0.05;
    ft.mar = 0.2;
    in.face = face;
    in.feats = &ft;
    int first_alert = -1;
    for (int i = 1; i <= 100; i++) {
        in.t = i * 0.1;
        ck_assert_int_eq(sm_mirror_step(m, &in, r, NULL), SM_OK);
        if (r->fatigue.alert && first_alert < 0)
            first_alert = i;
    }
    /* frame 0: no face, 0; frame 1: no closed time observed yet, PERCLOS 0,
     * p = 0.4 (EAR); from frame 2 PERCLOS is 1 and p = 1.0. The mean
     * (0 + 0.4 + (k - 1)) / (k + 1) passes 0.8 at frame 8; the 10th frame
     * of the streak is frame 17. */
    ck_assert(fabs(r->fatigue.p_drowsy - 1.0) < 1e-6);
    ck_assert(r->fatigue.perclos > 0.99f);
    ck_assert_int_eq(first_alert, 17);
    /* faces gone: p_drowsy holds its last value (app.py), the streak goes on */
    in.face = NULL;
    in.t = 20.0;
    ck_assert_int_eq(sm_mirror_step(m, &in, r, NULL), SM_OK);
    ck_assert(fabs(r->fatigue.p_drowsy - 1.0) < 1e-6 && r->fatigue.alert);
    free(face);
    free(r);
    sm_mirror_free(m);

    const char *too_many[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    sm_mirror_config bad = {false, 9, too_many, NULL, NULL, NULL, NULL, NULL};
    sm_error err;
    ck_assert_int_eq(sm_mirror_init(&m, &bad, &err), SM_ERR_ARG);
}
END_TEST

START_TEST(rule_estimator_by_hand)
{
    ck_assert(fabs(sm_fatigue_rules_p(0.0, 0.30, 0) - 0.0) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.15, 0.30, 0) - 0.3) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.30, 0.30, 0) - 0.6) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.90, 0.30, 0) - 0.6) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.0, 0.20, 0) - 0.2) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.0, 0.10, 1) - 0.5) < 1e-12);
    ck_assert(fabs(sm_fatigue_rules_p(0.5, 0.05, 1) - 1.0) < 1e-12);
}
END_TEST

START_TEST(stress_score_table)
{
    const char *p = sm_test_fixture("analysis_mirror_stress.txt");
    ck_assert_msg(p != NULL, "fixture missing (tests/gen/gen_analysis_mirror.py)");
    FILE *f = fopen(p, "r");
    int n;
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    for (int i = 0; i < n; i++) {
        double bpm, e, want;
        ck_assert_int_eq(fscanf(f, "%lf %lf %lf", &bpm, &e, &want), 3);
        ck_assert_msg(fabs(sm_stress_score(bpm, e) - want) < 1e-12, "bpm %g: %.17g want %.17g",
                      bpm, sm_stress_score(bpm, e), want);
    }
    fclose(f);
    ck_assert_str_eq(sm_stress_level(29.9), "LOW (Relaxed)");
    ck_assert_str_eq(sm_stress_level(30.0), "MODERATE");
    ck_assert_str_eq(sm_stress_level(59.9), "MODERATE");
    ck_assert_str_eq(sm_stress_level(60.0), "HIGH (Stressed)");
}
END_TEST

START_TEST(stress_from_pos_without_network)
{
    /* a flat skin-coloured 64x64 frame pulsing at 96 BPM, the three skin
     * polygons on circles over it, real landmarks (no feature override) */
    sm_mirror_config cfg = {true, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    sm_mirror *m;
    ck_assert_int_eq(sm_mirror_init(&m, &cfg, NULL), SM_OK);
    sm_face_result *face = new_face();
    const int *polys[3] = {sm_pos_forehead_idx, sm_pos_right_cheek_idx, sm_pos_left_cheek_idx};
    const int counts[3] = {SM_POS_N_FOREHEAD, SM_POS_N_CHEEK, SM_POS_N_CHEEK};
    const double cx[3] = {32, 18, 46}, cy[3] = {14, 40, 40};
    for (int q = 0; q < 3; q++)
        for (int i = 0; i < counts[q]; i++) {
            double a = 2 * M_PI * i / counts[q];
            face->landmarks[polys[q][i]][0] = (float)(cx[q] + 10 * cos(a));
            face->landmarks[polys[q][i]][1] = (float)(cy[q] + 10 * sin(a));
        }
    static uint8_t px[64 * 64 * 3];
    sm_mirror_result *r = malloc(sizeof *r);
    sm_test_seed(8);
    int first_valid = -1, first_stress = -1;
    double t = 0;
    for (int i = 1; i <= 360; i++) {
        t += (1.0 / 30) * (1.0 + sm_test_uniform(-0.2f, 0.2f));
        double pulse = 0.01 * sin(2 * M_PI * 1.6 * t);
        const double base[3] = {170, 120, 100}, pbv[3] = {0.33, 0.77, 0.53};
        for (int k = 0; k < 64 * 64; k++)
            for (int c = 0; c < 3; c++)
                px[3 * k + c] = (uint8_t)floor(base[c] * (1 + pbv[c] * pulse) +
                                               sm_test_uniform(-3.0f, 3.0f) + 0.5);
        sm_mirror_input in = {0};
        in.t = t;
        in.width = in.height = 64;
        in.rgb = px;
        in.stride = 64 * 3;
        in.face = face;
        ck_assert_int_eq(sm_mirror_step(m, &in, r, NULL), SM_OK);
        ck_assert(r->fatigue.valid && r->face.valid);
        if (r->heart.valid_pos && first_valid < 0)
            first_valid = i;
        if (r->heart.valid_stress && first_stress < 0) {
            first_stress = i;
            ck_assert_int_eq(i % 10, 0);
            ck_assert_str_eq(r->heart.stress_source, "pos");
            ck_assert(fabs(r->heart.stress - sm_stress_score(r->heart.bpm_pos, 0)) < 1e-3);
        }
    }
    ck_assert(!r->heart.available_net && !r->heart.valid_net);
    ck_assert(first_valid > 140 && first_valid < 160); /* 5 s of signal at ~30 fps */
    ck_assert(first_stress >= first_valid && first_stress < first_valid + 10);
    ck_assert_msg(fabs(r->heart.bpm_pos - 96.0) < 3.0, "POS %.2f BPM", r->heart.bpm_pos);
    ck_assert(r->heart.valid_stress && r->heart.stress > 0);
    free(r);
    free(face);
    sm_mirror_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mirror");
    TCase *tc = tcase_create("mirror");
    tcase_add_test(tc, sequence_matches_app_py);
    tcase_add_test(tc, sequence_with_other_label_order);
    tcase_add_loop_test(tc, single_frame_rules, 0, (int)(sizeof rule_cases / sizeof *rule_cases));
    tcase_add_test(tc, no_face_and_streak);
    tcase_add_test(tc, rule_estimator_by_hand);
    tcase_add_test(tc, stress_score_table);
    tcase_add_test(tc, stress_from_pos_without_network);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

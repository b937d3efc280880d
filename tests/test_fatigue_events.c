/* The calibrated drowsiness detector (app/fatigue_events.h, issue 14):
 * synthetic EAR/MAR/pitch series with jittered timestamps and dropped frames
 * at 5-60 fps, bad input (NaN, vanishing faces, clocks that stall or run
 * backwards), the mirror's rule switch, and the committed real-clip tracks of
 * tests/fixtures/eval/fatigue replayed through sm_mirror: alert within 2 s of
 * every sustained closure and held until the eyes open, no alert on blinking
 * or talking, one yawn per yawn and none while talking. */
#include "fatigue_events.h"
#include "fatigue_replay.h"
#include "mirror.h"
#include "sm_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a scripted person -------------------------------------------------------------- */

typedef struct { double a, b; } span;

typedef struct {
    double ear_open, ear_shut, mar_rest;
    const span *closures; int n_closures;   /* eyes shut from a to b */
    const span *yawns; int n_yawns;         /* mouth wide from a to b */
    const span *collapse; int n_collapse;   /* the mesh's lip collapse: MAR at rest */
    span talk;                              /* syllables at 4 Hz */
    const span *nods; int n_nods;           /* pitch 20% down */
    const span *absent; int n_absent;       /* no face */
    double hold_noise;                      /* 0: +-0.01 EAR noise */
} person;

static bool inside(const span *s, int n, double t)
{
    for (int i = 0; i < n; i++)
        if (t >= s[i].a && t < s[i].b)
            return true;
    return false;
}

static void observe(const person *p, double t, sm_fatigue_ev_input *in)
{
    memset(in, 0, sizeof *in);
    in->t = t;
    in->p_model = NAN;
    in->box_w = 120.0;
    in->face = !inside(p->absent, p->n_absent, t);
    if (!in->face) {
        in->ear = in->mar = in->pitch_ratio = NAN;
        return;
    }
    double noise = p->hold_noise > 0 ? p->hold_noise : 0.01;
    in->ear = (inside(p->closures, p->n_closures, t) ? p->ear_shut : p->ear_open) + sm_test_uniform(-1, 1) * noise;
    double mar = p->mar_rest;
    if (t >= p->talk.a && t < p->talk.b)
        mar += 0.45 * fmax(0.0, sin(2 * M_PI * 4.0 * t));
    for (int i = 0; i < p->n_yawns; i++) {
        const span *y = &p->yawns[i];
        if (t >= y->a && t < y->b) {
            double up = fmin(1.0, fmin(t - y->a, y->b - t) / 0.5);
            mar = p->mar_rest + 0.85 * up;
        }
    }
    if (inside(p->collapse, p->n_collapse, t))
        mar = p->mar_rest;
    in->mar = mar + sm_test_uniform(-0.01f, 0.01f);
    in->pitch_ratio = (inside(p->nods, p->n_nods, t) ? 0.8 : 1.0) + sm_test_uniform(-0.005f, 0.005f);
}

typedef struct {
    sm_fatigue_ev_output last;
    int on, off;                /* alert transitions */
    double on_t[16], off_t[16];
    double max_level, max_perclos;
    int frames;
} run_result;

static void record(run_result *r, const sm_fatigue_ev_output *o, bool was)
{
    if (o->alert && !was && r->on < 16)
        r->on_t[r->on++] = o->t;
    if (!o->alert && was && r->off < 16)
        r->off_t[r->off++] = o->t;
    r->max_level = fmax(r->max_level, o->level);
    r->max_perclos = fmax(r->max_perclos, o->perclos);
    r->last = *o;
    r->frames++;
}

/* fps with +-30% jitter on each interval and `drop` of the frames lost */
static run_result run_person(const person *p, double seconds, double fps, double drop, uint64_t seed)
{
    sm_test_seed(seed);
    sm_fatigue_events *ev;
    ck_assert_int_eq(sm_fatigue_events_init(&ev, NULL), SM_OK);
    run_result r = {0};
    bool was = false;
    for (double t = 0; t < seconds; t += (1.0 / fps) * (1.0 + sm_test_uniform(-0.3f, 0.3f))) {
        if (sm_test_uniform(0, 1) < drop)
            continue;
        sm_fatigue_ev_input in;
        observe(p, t, &in);
        sm_fatigue_ev_output o;
        sm_fatigue_events_push(ev, &in, &o);
        ck_assert(isfinite(o.level) && o.level >= 0 && o.level <= 1);
        ck_assert(o.closed_s >= 0 && isfinite(o.closed_s));
        record(&r, &o, was);
        was = o.alert;
    }
    sm_fatigue_events_free(ev);
    return r;
}

static const double fps_list[] = {5, 15, 30, 60};

/* ---- blinks, closures, the alert ----------------------------------------------------- */

START_TEST(blinks_are_not_alerts)
{
    double fps = fps_list[_i];
    /* 20 blinks; at 5 fps a 150 ms blink may fall between two frames, so the
     * slow camera gets 300 ms blinks */
    double len = fps <= 5 ? 0.30 : 0.15;
    span b[20];
    for (int i = 0; i < 20; i++)
        b[i] = (span){12.0 + 2.4 * i + 0.37 * (i % 3), 12.0 + 2.4 * i + 0.37 * (i % 3) + len};
    person p = {0.30, 0.05, 0.35, b, 20, NULL, 0, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0};
    run_result r = run_person(&p, 62.0, fps, 0.10, 11 + (uint64_t)fps);
    ck_assert_msg(r.last.blinks >= 18 && r.last.blinks <= 20, "%g fps: %d blinks", fps, r.last.blinks);
    /* at 5 fps with a frame lost, a 300 ms blink can measure over 0.5 s (a long
     * closure, still no microsleep): durations are +-1 frame interval */
    ck_assert_msg(r.last.long_closures <= (fps <= 5 ? 2 : 0), "%g fps: %d long closures", fps, r.last.long_closures);
    ck_assert_int_eq(r.last.microsleeps, 0);
    ck_assert_int_eq(r.on, 0);
    ck_assert_msg(!strcmp(r.last.state, "alert") && r.max_level < 0.35, "%g fps: level %g", fps, r.max_level);
    /* 20 blinks over 50 s in the 60 s window, about 19-20 a minute */
    ck_assert_msg(r.last.blinks_per_min > 15 && r.last.blinks_per_min < 22, "%g", r.last.blinks_per_min);
    /* midpoint timing: the mean duration is the blink's within a frame interval */
    ck_assert_msg(fabs(r.last.blink_ms - 1000 * len) < 1000.0 / fps + 20, "%g fps: blink %g ms", fps,
                  r.last.blink_ms);
    ck_assert(r.last.calibrated && fabs(r.last.ear_open - 0.30) < 0.02);
}
END_TEST

START_TEST(sustained_closure_alert_on_held_off)
{
    double fps = fps_list[_i];
    span c[2] = {{15.0, 18.0}, {25.0, 25.7}};
    person p = {0.30, 0.05, 0.35, c, 2, NULL, 0, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0};
    run_result r = run_person(&p, 30.0, fps, 0.10, 21 + (uint64_t)fps);
    /* one alert: on about 1 s into the 3 s closure, off within 1 s of opening;
     * the 0.7 s closure is long but no microsleep and no alert */
    ck_assert_msg(r.on == 1 && r.off == 1, "%g fps: %d on %d off", fps, r.on, r.off);
    double iv = 1.3 / fps; /* frame interval with jitter */
    ck_assert_msg(r.on_t[0] >= 15.0 + 1.0 - iv && r.on_t[0] <= 15.0 + 1.0 + 2 * iv + 0.05, "%g fps: on at %g", fps,
                  r.on_t[0]);
    ck_assert_msg(r.off_t[0] > 18.0 && r.off_t[0] <= 19.0 + 2 * iv, "%g fps: off at %g", fps, r.off_t[0]);
    ck_assert_int_eq(r.last.microsleeps, 1);
    /* the 0.7 s closure may measure under 0.5 s at 5 fps with a lost frame */
    ck_assert_msg(r.last.long_closures + r.last.blinks == 2 && r.last.blinks <= (fps <= 5 ? 1 : 0), "%g fps: %d %d",
                  fps, r.last.long_closures, r.last.blinks);
    ck_assert(r.max_level >= 0.9);
}
END_TEST

START_TEST(no_flicker_near_the_threshold)
{
    /* a dim-light closure whose EAR wanders 0.06-0.16 around the closed
     * threshold (0.55 x 0.26 = 0.143), with single open-looking frames: one
     * alert, never toggling */
    sm_test_seed(5);
    sm_fatigue_events *ev;
    ck_assert_int_eq(sm_fatigue_events_init(&ev, NULL), SM_OK);
    sm_fatigue_ev_output o;
    int toggles = 0;
    bool was = false;
    double on_at = -1, off_at = -1;
    for (int i = 0; i < 30 * 40; i++) {
        double t = i / 30.0;
        double ear = 0.26 + sm_test_uniform(-0.01f, 0.01f);
        if (t >= 20.0 && t < 25.0) {
            ear = 0.11 + sm_test_uniform(-0.05f, 0.05f);
            if (i % 17 == 0)
                ear = 0.22; /* one landmark glitch frame */
        }
        sm_fatigue_ev_input in = {t, true, ear, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
        if (o.alert != was) {
            toggles++;
            if (o.alert)
                on_at = t;
            else
                off_at = t;
        }
        was = o.alert;
    }
    ck_assert_msg(toggles == 2, "%d toggles", toggles);
    ck_assert_msg(on_at > 20.9 && on_at < 21.2, "on %g", on_at);
    ck_assert_msg(off_at > 25.0 && off_at < 26.0, "off %g", off_at);
    ck_assert_int_eq(o.microsleeps, 1);
    sm_fatigue_events_free(ev);
}
END_TEST

START_TEST(shut_from_the_first_frame_in_dim_light)
{
    /* a dozing person when the mirror starts: eyes shut (EAR 0.12, dim light)
     * for 8 s, then open at 0.30; the warm-up must not learn the shut eye as
     * the open level */
    span c[1] = {{0.0, 8.0}};
    person p = {0.30, 0.12, 0.35, c, 1, NULL, 0, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0.005};
    run_result r = run_person(&p, 20.0, 30, 0.05, 17);
    ck_assert_msg(r.on == 1 && r.off == 1, "%d on %d off", r.on, r.off);
    ck_assert_msg(r.on_t[0] < 1.2 && r.off_t[0] > 8.0 && r.off_t[0] < 9.0, "on %g off %g", r.on_t[0], r.off_t[0]);
    ck_assert_int_eq(r.last.microsleeps, 1);
    ck_assert(r.last.calibrated && fabs(r.last.ear_open - 0.30) < 0.02);
}
END_TEST

START_TEST(calibration_follows_the_person)
{
    /* glasses / dim light: open EAR 0.21, shut 0.10 (the population closed
     * threshold 0.154 would call the open eye nearly shut) */
    span c[1] = {{30.0, 32.0}};
    person p = {0.21, 0.10, 0.50, c, 1, NULL, 0, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0};
    sm_test_seed(3);
    sm_fatigue_events *ev;
    ck_assert_int_eq(sm_fatigue_events_init(&ev, NULL), SM_OK);
    sm_fatigue_ev_output o;
    double last_remaining = 1e9;
    bool alerted = false;
    for (int i = 0; i < 40 * 30; i++) {
        double t = i / 30.0;
        sm_fatigue_ev_input in;
        observe(&p, t, &in);
        sm_fatigue_events_push(ev, &in, &o);
        if (t < 9.9) {
            ck_assert(!o.calibrated);
            ck_assert(o.calib_remaining_s <= last_remaining && o.calib_remaining_s > 0);
            last_remaining = o.calib_remaining_s;
        }
        if (t < 1.0) /* warm-up on population defaults */
            ck_assert(fabs(o.ear_open - SM_FEV_POP_EAR_OPEN) < 1e-12);
        alerted |= o.alert;
        if (t > 2.5 && t < 29.0)
            ck_assert_msg(!o.eyes_closed, "t %g: open eyes of 0.21 judged closed", t);
    }
    ck_assert(o.calibrated && o.calib_remaining_s == 0);
    ck_assert_msg(fabs(o.ear_open - 0.21) < 0.015, "ear_open %g", o.ear_open);
    ck_assert(fabs(o.ear_closed_thresh - 0.55 * o.ear_open) < 1e-9);
    ck_assert_msg(fabs(o.mar_rest - 0.50) < 0.02, "mar_rest %g", o.mar_rest);
    ck_assert(o.mar_yawn_thresh > o.mar_rest + 0.29);
    ck_assert(alerted && o.microsleeps == 1);
    /* recalibration: back to warm-up, counts kept */
    sm_fatigue_events_recalibrate(ev);
    sm_fatigue_ev_input in = {40.0, true, 0.21, 0.5, 1.0, 120, NAN};
    sm_fatigue_events_push(ev, &in, &o);
    ck_assert(!o.calibrated && o.microsleeps == 1 && fabs(o.ear_open - SM_FEV_POP_EAR_OPEN) < 1e-12);
    /* a face lost for 6 s is maybe someone else: warm-up again */
    for (int i = 0; i < 15 * 30; i++) {
        sm_fatigue_ev_input a = {40.0 + i / 30.0, true, 0.21, 0.5, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &a, &o);
    }
    ck_assert(o.calibrated);
    sm_fatigue_ev_input gone = {60.0, false, NAN, NAN, NAN, NAN, NAN};
    sm_fatigue_events_push(ev, &gone, &o);
    sm_fatigue_ev_input back = {66.0, true, 0.33, 0.3, 1.0, 120, NAN};
    sm_fatigue_events_push(ev, &back, &o);
    ck_assert(!o.calibrated);
    /* and a face box jumping from 120 to 250 px wide is another face */
    for (int i = 0; i < 15 * 30; i++) {
        sm_fatigue_ev_input a = {67.0 + i / 30.0, true, 0.33, 0.3, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &a, &o);
    }
    ck_assert(o.calibrated);
    sm_fatigue_ev_input other = {82.1, true, 0.25, 0.3, 1.0, 250, NAN};
    sm_fatigue_events_push(ev, &other, &o);
    ck_assert(!o.calibrated);
    sm_fatigue_events_free(ev);
    sm_fatigue_events_free(NULL);
}
END_TEST

/* ---- mouth and head ---------------------------------------------------------------- */

START_TEST(talking_is_not_yawning)
{
    double fps = fps_list[_i];
    /* 40 s of syllables (MAR 0.35 -> 0.80 at 4 Hz), then a 4 s yawn, then a
     * yawn whose widest second the mesh collapses for 0.4 s, then more talk */
    span y[2] = {{50.0, 54.0}, {70.0, 74.0}};
    span col[1] = {{71.5, 71.9}};
    person p = {0.30, 0.05, 0.35, NULL, 0, y, 2, col, 1, {5.0, 45.0}, NULL, 0, NULL, 0, 0};
    run_result r = run_person(&p, 46.0, fps, 0.10, 31 + (uint64_t)fps);
    ck_assert_msg(r.last.yawns == 0, "%g fps: %d yawns while talking", fps, r.last.yawns);
    ck_assert_int_eq(r.on, 0);
    r = run_person(&p, 80.0, fps, 0.10, 31 + (uint64_t)fps);
    ck_assert_msg(r.last.yawns == 2, "%g fps: %d yawns, want 2", fps, r.last.yawns);
    ck_assert_int_eq(r.on, 0);
    person talk_after = p;
    talk_after.talk = (span){5.0, 90.0};
    talk_after.n_yawns = 0;
    r = run_person(&talk_after, 90.0, fps, 0.10, 41 + (uint64_t)fps);
    ck_assert_msg(r.last.yawns == 0, "%g fps: %d yawns in 85 s of talk", fps, r.last.yawns);
}
END_TEST

START_TEST(repeated_yawns_raise_the_level)
{
    span y[4] = {{20, 25}, {50, 55}, {80, 85}, {110, 115}};
    person p = {0.30, 0.05, 0.35, NULL, 0, y, 4, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0};
    run_result r = run_person(&p, 118.0, 30, 0.05, 7);
    ck_assert_int_eq(r.last.yawns, 4);
    ck_assert_int_eq(r.on, 0); /* yawns make one tired, they are no eye closure */
    ck_assert_msg(r.last.level >= 0.35 && strcmp(r.last.state, "alert"), "level %g %s", r.last.level, r.last.state);
}
END_TEST

START_TEST(nods_count_pose_changes_do_not)
{
    span n[3] = {{20.0, 20.8}, {30.0, 31.2}, {40.0, 50.0}}; /* two nods, then looking down for 10 s */
    person p = {0.30, 0.05, 0.35, NULL, 0, NULL, 0, NULL, 0, {0, 0}, n, 3, NULL, 0, 0};
    run_result r = run_person(&p, 55.0, 30, 0.05, 9);
    ck_assert_int_eq(r.last.nods, 2);
    ck_assert(r.max_level >= 0.35);
}
END_TEST

START_TEST(perclos_p80_by_time)
{
    /* five 3 s closures in a minute: 15 s of 60 shut, at 10 fps then 50 fps */
    span c[5] = {{10, 13}, {20, 23}, {30, 33}, {40, 43}, {50, 53}};
    person p = {0.30, 0.04, 0.35, c, 5, NULL, 0, NULL, 0, {0, 0}, NULL, 0, NULL, 0, 0};
    run_result a = run_person(&p, 61.0, 10, 0.0, 1), b = run_person(&p, 61.0, 50, 0.0, 2);
    ck_assert_msg(fabs(a.last.perclos - 0.25) < 0.03 && fabs(b.last.perclos - 0.25) < 0.03, "%g %g",
                  a.last.perclos, b.last.perclos);
    ck_assert(!strcmp(a.last.state, "drowsy") && a.last.microsleeps == 5);
    ck_assert_int_eq(a.on, 5);
    ck_assert_int_eq(a.off, 5);
}
END_TEST

START_TEST(model_weight_is_bounded)
{
    /* an MLP that always says drowsy moves the level by its weight only */
    sm_fatigue_events *ev;
    ck_assert_int_eq(sm_fatigue_events_init(&ev, NULL), SM_OK);
    sm_fatigue_ev_output o;
    for (int i = 0; i < 600; i++) {
        sm_fatigue_ev_input in = {i / 30.0, true, 0.3, 0.35, 1.0, 120, 1.0};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(fabs(o.level - 0.15) < 1e-9 && !strcmp(o.state, "alert") && !o.alert);
    ck_assert(fabs(o.model_p - 1.0) < 1e-12);
    sm_fatigue_events_free(ev);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

START_TEST(bad_input_never_sticks)
{
    sm_fatigue_events *ev;
    ck_assert_int_eq(sm_fatigue_events_init(&ev, NULL), SM_OK);
    sm_fatigue_ev_output o;
    double t = 0;
    for (int i = 0; i < 300; i++, t += 1 / 30.0) {
        sm_fatigue_ev_input in = {t, true, 0.3, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    /* NaN / inf features are frames without a face */
    const double bad[4] = {NAN, INFINITY, -INFINITY, -1.0};
    for (int k = 0; k < 4; k++) {
        sm_fatigue_ev_input in = {t += 1 / 30.0, true, bad[k], 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
        ck_assert(!o.face && isfinite(o.level));
        sm_fatigue_ev_input in2 = {t += 1 / 30.0, true, 0.3, bad[k], bad[k], bad[k], bad[k]};
        sm_fatigue_events_push(ev, &in2, &o);
        ck_assert(isfinite(o.level) && o.level >= 0 && o.level <= 1);
    }
    /* eyes shut while the clock stalls (the same t 60 times): time still
     * moves by the typical interval, the alert comes, then goes after opening */
    double stall = t;
    for (int i = 0; i < 60; i++) {
        sm_fatigue_ev_input in = {stall, true, 0.03, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(o.alert && o.eyes_closed && o.closed_s > 1.5);
    /* the clock jumps 100 s back: a new base, no stuck state */
    t = stall - 100.0;
    for (int i = 0; i < 60; i++, t += 1 / 30.0) {
        sm_fatigue_ev_input in = {t, true, 0.3, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(!o.alert && !o.eyes_closed);
    /* NaN timestamps: still a clock */
    double before = o.t;
    for (int i = 0; i < 10; i++) {
        sm_fatigue_ev_input in = {NAN, true, 0.3, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(o.t > before && isfinite(o.t));
    /* the face vanishes mid-microsleep: the alert ends 2 s later */
    for (int i = 0; i < 45; i++, t += 1 / 30.0) {
        sm_fatigue_ev_input in = {t, true, 0.03, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(o.alert);
    int ms = o.microsleeps;
    double lost = t;
    double off = NAN;
    for (int i = 0; i < 120; i++, t += 1 / 30.0) {
        sm_fatigue_ev_input in = {t, false, NAN, NAN, NAN, NAN, NAN};
        sm_fatigue_events_push(ev, &in, &o);
        if (!o.alert && isnan(off))
            off = t;
        if (t - lost > 0.6)
            ck_assert(!o.eyes_closed && o.closed_s == 0);
    }
    ck_assert_msg(off > lost + 1.9 && off < lost + 2.1, "off %g after loss", off - lost);
    ck_assert_int_eq(o.microsleeps, ms);
    /* a short dropout mid-closure (0.3 s) does not split it */
    for (int i = 0; i < 60; i++, t += 1 / 30.0) {
        sm_fatigue_ev_input in = {t, true, 0.3, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    int lc = o.long_closures;
    for (int i = 0; i < 60; i++, t += 1 / 30.0) {
        bool vis = i < 10 || i >= 19;
        sm_fatigue_ev_input in = {t, vis, vis ? 0.03 : NAN, 0.35, 1.0, 120, NAN};
        sm_fatigue_events_push(ev, &in, &o);
    }
    ck_assert(o.eyes_closed && o.closed_s > 1.9 && o.long_closures == lc + 1);
    sm_fatigue_events_reset(ev);
    sm_fatigue_events_push(ev, &(sm_fatigue_ev_input){0, true, 0.3, 0.35, 1, 120, NAN}, NULL);
    sm_fatigue_events_push(NULL, NULL, NULL);
    sm_fatigue_events_free(ev);
}
END_TEST

/* ---- the mirror ---------------------------------------------------------------------- */

START_TEST(mirror_rules_switch)
{
    sm_mirror_config cfg = {true, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    sm_mirror *m;
    sm_error err;
    ck_assert_int_eq(sm_mirror_init(&m, &cfg, &err), SM_OK);
    ck_assert_int_eq(sm_mirror_set_fatigue_rules(m, (sm_fatigue_rules)7, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "fatigue rules"));
    ck_assert_int_eq(sm_mirror_set_fatigue_rules(m, SM_FATIGUE_RULES_WELLNESS, &err), SM_OK);
    sm_face_result *face = calloc(1, sizeof *face);
    face->valid = true;
    face->n_landmarks = 478;
    face->box[2] = 120;
    sm_mirror_result *r = malloc(sizeof *r);
    sm_fatigue_feats ft = {0};
    ft.mar = 0.35;
    ft.pitch_ratio = 1.0;
    for (int i = 0; i < 30 * 20; i++) {
        ft.ear = i >= 30 * 14 && i < 30 * 16 ? 0.04 : 0.30;
        sm_mirror_input in = {0};
        in.t = i / 30.0;
        in.face = face;
        in.feats = &ft;
        ck_assert_int_eq(sm_mirror_step(m, &in, r, &err), SM_OK);
        const sm_fatigue_result *fa = &r->fatigue;
        ck_assert_str_eq(fa->rules, "wellness");
        ck_assert(fa->valid && fa->p_drowsy == fa->level && fa->streak == 0);
        if (i == 30 * 15 + 15) {
            ck_assert(fa->alert && fa->eyes_closed && fa->closed_s > 1.4 && !strcmp(fa->state, "drowsy"));
            ck_assert(fa->calibrated && fabs(fa->ear_open - 0.30) < 0.01 && fa->ear_closed_thresh > 0.15);
        }
    }
    ck_assert(!r->fatigue.alert && r->fatigue.microsleeps == 1 && r->fatigue.long_closures == 1);
    sm_mirror_recalibrate(m);
    sm_mirror_input in = {0};
    in.t = 20.0;
    in.face = face;
    in.feats = &ft;
    ck_assert_int_eq(sm_mirror_step(m, &in, r, &err), SM_OK);
    ck_assert(!r->fatigue.calibrated && r->fatigue.calib_remaining_s > 9.9);
    /* seed again: app.py's fields, the new ones derived */
    ck_assert_int_eq(sm_mirror_set_fatigue_rules(m, SM_FATIGUE_RULES_SEED, &err), SM_OK);
    ck_assert_int_eq(sm_mirror_step(m, &in, r, &err), SM_OK);
    ck_assert_str_eq(r->fatigue.rules, "seed");
    ck_assert(r->fatigue.level == r->fatigue.p_drowsy && !r->fatigue.calibrated);
    sm_mirror_recalibrate(m); /* harmless with seed rules */
    sm_mirror_recalibrate(NULL);
    free(r);
    free(face);
    sm_mirror_free(m);
}
END_TEST

/* ---- the committed real clips --------------------------------------------------------- */

static int list_tracks(char names[][256], int cap)
{
    const char *dir = sm_test_committed("eval/fatigue");
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        size_t k = strlen(e->d_name);
        if (k > 10 && !strcmp(e->d_name + k - 10, ".track.csv"))
            snprintf(names[n++], 256, "%.*s", (int)(k - 10), e->d_name);
    }
    closedir(d);
    return n;
}

static void check_real_clips(sm_fatigue_mlp *mlp, int col)
{
    static char names[256][256];
    int n = list_tracks(names, 256);
    if (n <= 0) {
        sm_test_skip("real_clips_replayed", "tests/fixtures/eval/fatigue has no tracks");
        return;
    }
    const char *dir = sm_test_committed("eval/fatigue");
    int sustained = 0, yawns = 0, talk = 0, blinks = 0, found = 0, seed_false = 0;
    for (int c = 0; c < n; c++) {
        char tp[4096], ep[4096];
        snprintf(tp, sizeof tp, "%.3000s/%.200s.track.csv", dir, names[c]);
        snprintf(ep, sizeof ep, "%.3000s/%.200s.events.csv", dir, names[c]);
        sm_track tr;
        sm_error err;
        ck_assert_msg(sm_track_load(tp, ep, &tr, &err) == SM_OK, "%s", err.msg);
        sm_replay_frame *fr;
        ck_assert_int_eq(sm_track_replay(&tr, SM_FATIGUE_RULES_WELLNESS, mlp, col, &fr, &err), SM_OK);
        sm_fatigue_score s;
        sm_track_score(&tr, fr, &s);
        free(fr);
        /* alert within 2 s of every closure of >= 1 s, held until the eyes open, off within 1.5 s */
        ck_assert_msg(s.alerts_in_time == s.sustained && s.alerts_held == s.sustained, "%s: alert %d/%d held %d",
                      names[c], s.alerts_in_time, s.sustained, s.alerts_held);
        ck_assert_msg(s.worst_off_delay_s <= 1.5, "%s: alert off %.2f s after the eyes opened", names[c],
                      s.worst_off_delay_s);
        /* no alert on blinking or talking; one yawn per yawn, none while talking */
        ck_assert_msg(s.false_alerts == 0, "%s: false alerts %s", names[c], s.alert_times);
        ck_assert_msg(s.yawns_found == s.yawns && s.yawns_extra == 0, "%s: yawns %d/%d +%d", names[c], s.yawns_found,
                      s.yawns, s.yawns_extra);
        ck_assert_msg(s.closures_found == s.closures && s.closures_extra == 0, "%s: closures %d/%d +%d", names[c],
                      s.closures_found, s.closures, s.closures_extra);
        ck_assert_msg(s.blinks_extra == 0, "%s: %d blinks that are none", names[c], s.blinks_extra);
        sustained += s.sustained;
        yawns += s.yawns;
        talk += s.talk;
        blinks += s.blinks;
        found += s.blinks_found;
        /* the seed on the same clip, for the record of why the default differs */
        ck_assert_int_eq(sm_track_replay(&tr, SM_FATIGUE_RULES_SEED, mlp, col, &fr, &err), SM_OK);
        sm_track_score(&tr, fr, &s);
        free(fr);
        seed_false += s.yawns_extra + s.false_alerts;
        sm_track_free(&tr);
    }
    ck_assert_msg(found >= blinks * 9 / 10, "blinks found %d of %d", found, blinks);
    /* the set holds what the assertions are about */
    ck_assert(sustained >= 1 && yawns >= 1 && talk >= 5);
    ck_assert_msg(seed_false > 0, "the seed made no false yawn or alert on these clips");
    printf("real clips (%s): %d tracks, %d sustained closures, %d yawns, %d talk spans, blinks %d/%d; "
           "seed rules: %d false yawns/alerts\n", mlp ? "the user's MLP" : "no MLP", n, sustained, yawns, talk, found,
           blinks, seed_false);
}

START_TEST(real_clips_replayed)
{
    check_real_clips(NULL, -1);
}
END_TEST

/* The same clips with the user's fatigue MLP as one input of the level (and
 * the seed's fusion on it, as app.py ran): its weight must not make a false
 * alert or hide a true one. */
START_TEST(real_clips_replayed_with_users_mlp)
{
    const char *joblib = sm_test_shared("seed/checkpoints/fatigue_mlp.joblib");
    if (!joblib) {
        sm_test_skip("real_clips_replayed_with_users_mlp", "shared/seed/checkpoints/fatigue_mlp.joblib absent");
        return;
    }
    char out[4200], args[8600], log[8192];
    snprintf(out, sizeof out, "%s/fatigue_mlp.smw", sm_test_tmpdir());
    snprintf(args, sizeof args, "'%s' -o '%s'", joblib, out);
    ck_assert_msg(sm_test_run("smw-convert", args, log, sizeof log) == 0, "%s", log);
    sm_fatigue_mlp *m;
    sm_error err;
    ck_assert_msg(sm_fatigue_mlp_load_file(out, &m, &err) == SM_OK, "%s", err.msg);
    const int64_t *cls = sm_fatigue_mlp_classes(m);
    int col = -1;
    for (uint32_t k = 0; cls && k < sm_fatigue_mlp_n_outputs(m); k++)
        if (cls[k] == 1)
            col = (int)k;
    ck_assert_int_ge(col, 0);
    check_real_clips(m, col);
    sm_fatigue_mlp_free(m);
}
END_TEST

static const char *write_tmp(const char *name, const char *text)
{
    static char path[8][4096];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 4096, "%s/%s", sm_test_tmpdir(), name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

START_TEST(track_files_rejected_clearly)
{
    static const struct {
        const char *track, *events, *want;
    } cases[] = {
        {"t,face,ear\n0,1,0.3\n", NULL, "header"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,0.3,0.3,0,1\n", NULL, ":2: expected 7 numbers"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,2,0.3,0.3,0,1,100\n", NULL, "face must be 0 or 1"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\nnan,1,0.3,0.3,0,1,100\n", NULL, "expected 7 numbers"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,x,0.3,0,1,100\n", NULL, "expected 7 numbers"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n", NULL, "no rows"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,0.3,0.3,0,1,100\n", "kind,start_s,end_s,note\nsneeze,0,1,x\n",
         "unknown kind"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,0.3,0.3,0,1,100\n", "kind,start_s,end_s,note\nblink,2,1,x\n",
         "start <= end"},
        {"t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,0.3,0.3,0,1,100\n", "kind,start,end\n", "header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *tp = write_tmp("x.track.csv", cases[i].track);
        const char *ep = cases[i].events ? write_tmp("x.events.csv", cases[i].events) : NULL;
        sm_track tr;
        sm_error err;
        sm_status st = sm_track_load(tp, ep, &tr, &err);
        ck_assert_msg(st == SM_ERR_FORMAT && strstr(err.msg, cases[i].want) && strstr(err.msg, "x."),
                      "case %zu: %d %s", i, st, err.msg);
    }
    sm_track tr;
    sm_error err;
    ck_assert_int_eq(sm_track_load("/nonexistent/a.track.csv", NULL, &tr, &err), SM_ERR_IO);
    /* a good one, with a comma inside the note and a face-less row */
    const char *tp = write_tmp("g.track.csv", "t,face,ear,mar,tilt_deg,pitch_ratio,box_w\n0,1,0.3,0.3,0,1,100\n"
                                              "0.04,0,nan,nan,nan,nan,nan\n");
    const char *ep = write_tmp("g.events.csv", "kind,start_s,end_s,note\nblink,0.00,0.04,partial: lids, half\n");
    ck_assert_int_eq(sm_track_load(tp, ep, &tr, &err), SM_OK);
    ck_assert(tr.n == 2 && !tr.rows[1].face && isnan(tr.rows[1].ear) && tr.n_events == 1 && tr.events[0].partial);
    sm_track_free(&tr);
    sm_track_free(NULL);
    /* from buffers (the fuzzer's path): the message names the buffer and the line */
    const char *trk = "t,face,ear,mar,tilt_deg,pitch_ratio,box_w\r\n0,1,0.3,0.3,0,1,100\r\n";
    const char *evs = "kind,start_s,end_s,note\nblink,0,0.1,a, b\n\nyawn,3\n";
    ck_assert_int_eq(sm_track_parse("mem.track", trk, strlen(trk), "mem.events", evs, strlen(evs), &tr, &err),
                     SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mem.events:4: expected kind,start_s,end_s,note"), "%s", err.msg);
    ck_assert_ptr_null(tr.rows);
    ck_assert_int_eq(sm_track_parse("mem.track", "t,face\0", 7, NULL, NULL, 0, &tr, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mem.track: NUL byte"), "%s", err.msg);
    ck_assert_int_eq(sm_track_parse("mem.track", trk, strlen(trk), NULL, NULL, 0, &tr, &err), SM_OK);
    ck_assert(tr.n == 1 && tr.rows[0].box_w == 100 && tr.n_events == 0);
    sm_track_free(&tr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fatigue_events");
    TCase *tc = tcase_create("events");
    int nf = (int)(sizeof fps_list / sizeof *fps_list);
    tcase_add_loop_test(tc, blinks_are_not_alerts, 0, nf);
    tcase_add_loop_test(tc, sustained_closure_alert_on_held_off, 0, nf);
    tcase_add_test(tc, no_flicker_near_the_threshold);
    tcase_add_test(tc, calibration_follows_the_person);
    tcase_add_test(tc, shut_from_the_first_frame_in_dim_light);
    tcase_add_loop_test(tc, talking_is_not_yawning, 0, nf);
    tcase_add_test(tc, repeated_yawns_raise_the_level);
    tcase_add_test(tc, nods_count_pose_changes_do_not);
    tcase_add_test(tc, perclos_p80_by_time);
    tcase_add_test(tc, model_weight_is_bounded);
    tcase_add_test(tc, bad_input_never_sticks);
    tcase_add_test(tc, mirror_rules_switch);
    tcase_add_test(tc, real_clips_replayed);
    tcase_add_test(tc, real_clips_replayed_with_users_mlp);
    tcase_add_test(tc, track_files_rejected_clearly);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

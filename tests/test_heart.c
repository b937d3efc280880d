/* Heart rate the mirror can stand behind (heart.h): CHROM and POS on
 * synthetic traces of known rate with motion and light steps; the quality gate
 * refuses noise; the shown BPM never jumps between harmonics; bad input (no
 * face, a face coming and going, frozen timestamps, black and saturated
 * frames, 5-60 fps) never crashes and never shows a stale reading as fresh;
 * trace files; and the committed traces of real videos replayed against their
 * contact ground truth (tests/fixtures/eval/heart). */
#include "heart.h"
#include "heart_eval.h"
#include "heart_trace.h"
#include "mirror.h"
#include "rppg_dsp.h"
#include "rppg_pos.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUND_DEFAULT_MAE 14.0 /* measured 11.5 when committed */
#define BOUND_MIN_COVERAGE 0.01 /* measured 2 % */


typedef struct {
    double bpm;          /* pulse rate (may change with time via bpm2/t_change) */
    double amp;          /* relative pulse amplitude */
    double h2;           /* second-harmonic amplitude relative to the fundamental */
    double noise;        /* relative sensor noise per region */
    double fps;
    double jitter;       /* relative frame-interval jitter */
    double light_step_t; /* time of a x1.3 light step (0: none) */
    double move_t0, move_t1; /* head moving between these times */
    double box_w;
    double light;        /* scene brightness factor */
    bool no_pulse;
    double phase;
    double origin;       /* clock origin: event times are relative to it */
} synth;

static synth synth_default(double bpm)
{
    synth s = {.bpm = bpm, .amp = 0.004, .noise = 0.002, .fps = 30, .jitter = 0.25, .box_w = 220,
               .light = 1.0};
    return s;
}

static double next_time(const synth *p, double t)
{
    return t + (1.0 / p->fps) * (1.0 + sm_test_uniform((float)-p->jitter, (float)p->jitter));
}

static void synth_sample(synth *p, double t, double dt, sm_heart_sample *s)
{
    static const double base[3][3] = {{175, 125, 105}, {180, 120, 100}, {178, 122, 101}};
    static const int npx[3] = {2400, 900, 900};
    memset(s, 0, sizeof *s);
    s->t = t;
    t -= p->origin;
    s->face = true;
    s->bpm_net = NAN;
    p->phase += 2 * M_PI * p->bpm / 60.0 * dt;
    double pulse = p->no_pulse ? 0.0 : p->amp * (sin(p->phase) + p->h2 * sin(2 * p->phase + 0.8));
    double light = p->light * (1.0 + 0.05 * sin(2 * M_PI * 0.05 * t) + 0.002 * t);
    if (p->light_step_t > 0 && t >= p->light_step_t)
        light *= 1.3;
    double mx = 0, my = 0, shade = 1.0;
    if (t >= p->move_t0 && t < p->move_t1) {
        mx = 40.0 * sin(2 * M_PI * 0.8 * (t - p->move_t0));
        my = 15.0 * sin(2 * M_PI * 0.5 * (t - p->move_t0));
        shade = 1.0 + 0.03 * sin(2 * M_PI * 0.8 * (t - p->move_t0)); /* shading follows the head */
    }
    double lsum = 0, ntot = 0;
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) {
            double v = base[r][c] * light * shade * (1.0 + sm_test_pbv[c] * pulse) +
                       base[r][c] * p->noise * sqrt(900.0 / npx[r]) * sm_test_gauss();
            s->rgb[r][c] = v > 255 ? 255 : v;
        }
        s->n[r] = npx[r];
        lsum += npx[r] * (0.299 * s->rgb[r][0] + 0.587 * s->rgb[r][1] + 0.114 * s->rgb[r][2]);
        ntot += npx[r];
    }
    s->light = lsum / ntot;
    s->sat = 0.0;
    s->box[0] = 200 + mx;
    s->box[1] = 120 + my;
    s->box[2] = p->box_w;
    s->box[3] = p->box_w * 1.2;
}

/* Runs a synthetic trace for `seconds`; calls check(ctx, t, reading) per frame. */
typedef void (*check_fn)(void *ctx, const synth *p, double t, const sm_heart_reading *r);

static void run(sm_heart_method m, synth *p, double seconds, check_fn check, void *ctx,
                sm_heart_reading *last)
{
    sm_heart *h;
    sm_heart_config cfg = {.method = m};
    ck_assert_int_eq(sm_heart_init(&h, &cfg, NULL), SM_OK);
    double t = 50.0, prev = t;
    p->origin = t;
    sm_heart_reading r;
    memset(&r, 0, sizeof r);
    while (t < 50.0 + seconds) {
        sm_heart_sample s;
        synth_sample(p, t, t - prev, &s);
        sm_heart_push(h, &s, &r);
        if (check)
            check(ctx, p, t - 50.0, &r);
        prev = t;
        t = next_time(p, t);
    }
    if (last)
        *last = r;
    sm_heart_free(h);
}

static const double rates[] = {45, 60, 72, 90, 120, 150, 180};

START_TEST(known_rates_pos_and_chrom)
{
    for (int m = 0; m < 2; m++) {
        sm_test_seed(100 + (uint64_t)_i);
        synth p = synth_default(rates[_i]);
        sm_heart_reading r;
        run((sm_heart_method)m, &p, 20.0, NULL, NULL, &r);
        double raw = m == SM_HEART_POS ? r.bpm_pos : r.bpm_chrom;
        ck_assert_msg(fabs(raw - rates[_i]) <= 2.0, "%s raw %.2f for %.0f", sm_heart_method_name(m), raw, rates[_i]);
        ck_assert_msg(r.valid && fabs(r.bpm - rates[_i]) <= 2.0, "%s shown %.2f (%s) for %.0f",
                      sm_heart_method_name(m), r.bpm, r.reason ? r.reason : "", rates[_i]);
        ck_assert_msg(r.quality > 0.2 && r.quality <= 1.0 && !r.stale && r.reason == NULL, "quality %.2f snr %.1f %.1f", r.quality, r.snr_pos_db, r.snr_chrom_db);
        printf("%s %.0f BPM -> raw %.2f, shown %.2f, quality %.2f (SNR %.1f dB)\n", sm_heart_method_name(m),
               rates[_i], raw, r.bpm, r.quality, m == SM_HEART_POS ? r.snr_pos_db : r.snr_chrom_db);
    }
}
END_TEST


/* ---- motion and light steps ------------------------------------------------------------- */

typedef struct {
    int hold_still, collecting, valid_after;
    double max_err_after;
    double t_after;
} steps_ctx;

static void steps_check(void *ctx, const synth *p, double t, const sm_heart_reading *r)
{
    steps_ctx *c = ctx;
    if (t >= p->move_t0 + 0.6 && t < p->move_t1 && r->reason && !strcmp(r->reason, "hold still"))
        c->hold_still++;
    /* the motion measure looks at the last second: it takes a moment to see it */
    if (t >= p->move_t0 + 0.6 && t < p->move_t1)
        ck_assert_msg(!r->valid, "t %.2f: a reading shown while the head moves", t);
    if (t > p->light_step_t && t < p->light_step_t + 2.0 && r->reason && !strncmp(r->reason, "collecting", 10))
        c->collecting++;
    if (t >= c->t_after && r->valid) {
        c->valid_after++;
        c->max_err_after = fmax(c->max_err_after, fabs(r->bpm - p->bpm));
    }
}

START_TEST(motion_and_light_steps)
{
    for (int m = 0; m < 2; m++) {
        sm_test_seed(7 + (uint64_t)m);
        synth p = synth_default(84);
        p.light_step_t = 14.0;
        p.move_t0 = 30.0;
        p.move_t1 = 34.0;
        steps_ctx c = {0, 0, 0, 0.0, 45.0};
        sm_heart_reading r;
        run((sm_heart_method)m, &p, 60.0, steps_check, &c, &r);
        ck_assert_msg(c.hold_still > 50, "%s: 'hold still' on %d frames of motion", sm_heart_method_name(m),
                      c.hold_still);
        ck_assert_msg(c.collecting > 10, "%s: the light step restarts the signal", sm_heart_method_name(m));
        ck_assert_msg(c.valid_after > 300 && c.max_err_after <= 3.0, "%s: after the steps %d readings, max error %.2f",
                      sm_heart_method_name(m), c.valid_after, c.max_err_after);
    }
}
END_TEST

/* ---- the gate refuses noise ---------------------------------------------------------------- */

typedef struct {
    int shown, frames;
} count_ctx;

static void count_valid(void *ctx, const synth *p, double t, const sm_heart_reading *r)
{
    (void)p;
    count_ctx *c = ctx;
    c->frames++;
    c->shown += r->valid;
    if (t > 10.0 && !r->valid)
        ck_assert(r->reason != NULL);
}

START_TEST(gate_refuses_noise)
{
    int shown = 0, frames = 0;
    for (int k = 0; k < 8; k++) {
        sm_test_seed(300 + (uint64_t)k);
        synth p = synth_default(70);
        p.no_pulse = true;
        p.noise = 0.003;
        count_ctx c = {0, 0};
        run(SM_HEART_DEFAULT_METHOD, &p, 40.0, count_valid, &c, NULL);
        shown += c.shown;
        frames += c.frames;
    }
    printf("noise only: a reading on %d of %d frames\n", shown, frames);
    ck_assert_msg(shown <= frames / 50, "noise passed the gate on %d of %d frames", shown, frames);
}
END_TEST

/* ---- the shown BPM never jumps by a harmonic -------------------------------------------- */

typedef struct {
    bool have;
    double prev, prev_t;
    int shown;
    double max_err;
} harm_ctx;

static void harm_check(void *ctx, const synth *p, double t, const sm_heart_reading *r)
{
    harm_ctx *c = ctx;
    if (!r->valid) {
        c->have = false;
        return;
    }
    c->shown++;
    c->max_err = fmax(c->max_err, fabs(r->bpm - p->bpm));
    if (c->have) {
        double step = fabs(r->bpm - c->prev), lim = SM_HEART_SLEW * (t - c->prev_t + SM_HEART_EST_PERIOD) + 0.5;
        ck_assert_msg(step <= lim, "t %.2f: shown %.1f -> %.1f BPM", t, c->prev, r->bpm);
    }
    double ratio = r->bpm / p->bpm;
    ck_assert_msg(fabs(ratio - 2.0) > 0.2 && fabs(ratio - 0.5) > 0.1, "t %.2f: %.1f BPM for %.1f", t, r->bpm, p->bpm);
    c->have = true;
    c->prev = r->bpm;
    c->prev_t = t;
}

START_TEST(no_harmonic_jumps)
{
    /* a pulse whose second harmonic is nearly as strong as the fundamental, with
     * noise, so that the strongest spectral peak flips between the two */
    for (int m = 0; m < 2; m++) {
        sm_test_seed(900 + (uint64_t)m);
        synth p = synth_default(66);
        p.h2 = 0.8;
        p.noise = 0.003;
        harm_ctx c = {false, 0, 0, 0, 0};
        run((sm_heart_method)m, &p, 90.0, harm_check, &c, NULL);
        printf("%s strong harmonic: %d readings, max error %.1f BPM\n", sm_heart_method_name(m), c.shown, c.max_err);
        ck_assert_msg(c.shown > 500, "%s: only %d readings", sm_heart_method_name(m), c.shown);
    }
}
END_TEST

/* ---- bad input --------------------------------------------------------------------------- */

static void push_face(sm_heart *h, synth *p, double t, double dt, sm_heart_reading *r)
{
    sm_heart_sample s;
    synth_sample(p, t, dt, &s);
    sm_heart_push(h, &s, r);
}

START_TEST(bad_input_never_fresh)
{
    sm_test_seed(55);
    sm_heart *h;
    sm_heart_config cfg = {.method = SM_HEART_DEFAULT_METHOD};
    ck_assert_int_eq(sm_heart_init(&h, &cfg, NULL), SM_OK);
    synth p = synth_default(75);
    sm_heart_reading r;
    double t = 0, dt = 1.0 / 30;
    /* no face at all */
    sm_heart_sample none;
    memset(&none, 0, sizeof none);
    for (; t < 3; t += dt) {
        none.t = t;
        sm_heart_push(h, &none, &r);
        ck_assert(!r.valid && r.reason && !strcmp(r.reason, "no face") && isnan(r.bpm));
    }
    /* a face: a reading after the clean-signal time, never before */
    double t_face = t;
    for (; t < t_face + 15; t += dt) {
        push_face(h, &p, t, dt, &r);
        if (t - t_face < SM_HEART_MIN_CLEAN_S - 0.2)
            ck_assert_msg(!r.valid && r.reason && !strncmp(r.reason, "collecting", 10), "t %.2f %s", t,
                          r.reason ? r.reason : "valid");
    }
    ck_assert_msg(r.valid && fabs(r.bpm - 75) < 3, "%s %.1f", r.reason ? r.reason : "", r.bpm);
    /* the face goes: the last value is kept with its age, stale after a few seconds */
    double t_gone = t;
    for (; t < t_gone + 10; t += dt) {
        none.t = t;
        sm_heart_push(h, &none, &r);
        ck_assert(!r.valid && r.reason && isfinite(r.bpm));
        ck_assert(fabs(r.age_s - (t - t_gone + dt)) < 0.1);
        ck_assert(r.stale == (r.age_s > SM_HEART_STALE_S));
    }
    /* flickering face (0.4 s on, 0.4 s off): never a fresh reading */
    for (double t0 = t; t < t0 + 10; t += dt) {
        if (fmod(t - t0, 0.8) < 0.4)
            push_face(h, &p, t, dt, &r);
        else {
            none.t = t;
            sm_heart_push(h, &none, &r);
        }
        ck_assert(!r.valid);
    }
    /* back, then frozen timestamps: the reading is repeated, then stale */
    for (double t0 = t; t < t0 + 12; t += dt)
        push_face(h, &p, t, dt, &r);
    ck_assert(r.valid);
    for (int k = 0; k < 40; k++) {
        push_face(h, &p, t, 0, &r);
        if (k >= SM_HEART_FROZEN_FRAMES) /* the first push still has a new time */
            ck_assert(!r.valid && r.stale && !strcmp(r.reason, "camera stalled"));
    }
    /* NaN time: dropped like a frozen frame */
    sm_heart_sample bad;
    synth_sample(&p, NAN, dt, &bad);
    sm_heart_push(h, &bad, &r);
    ck_assert(!r.valid);
    /* all-black frames: too dark; saturated: too bright */
    t += dt;
    for (double t0 = t; t < t0 + 3; t += dt) {
        sm_heart_sample s;
        synth_sample(&p, t, dt, &s);
        for (int q = 0; q < 3; q++)
            for (int c = 0; c < 3; c++)
                s.rgb[q][c] = 0.0;
        s.light = 0.0;
        sm_heart_push(h, &s, &r);
        ck_assert(!r.valid && !strcmp(r.reason, "too dark"));
    }
    for (double t0 = t; t < t0 + 3; t += dt) {
        sm_heart_sample s;
        synth_sample(&p, t, dt, &s);
        for (int q = 0; q < 3; q++)
            for (int c = 0; c < 3; c++)
                s.rgb[q][c] = 255.0;
        s.light = 255.0;
        s.sat = 1.0;
        sm_heart_push(h, &s, &r);
        ck_assert(!r.valid && !strcmp(r.reason, "too bright"));
    }
    /* a small face */
    p.box_w = 40;
    for (double t0 = t; t < t0 + 3; t += dt) {
        push_face(h, &p, t, dt, &r);
        ck_assert(!r.valid && !strcmp(r.reason, "face too small"));
    }
    /* garbage numbers */
    sm_heart_sample g;
    synth_sample(&p, t + 1, dt, &g);
    g.rgb[0][1] = NAN;
    g.box[2] = INFINITY;
    g.n[2] = -5;
    sm_heart_push(h, &g, &r);
    ck_assert(!r.valid);
    sm_heart_free(h);
    sm_heart_free(NULL);
}
END_TEST

static const double fps_list[] = {5, 8, 15, 24, 30, 60};

START_TEST(frame_rates_5_to_60)
{
    sm_test_seed(2000 + (uint64_t)_i);
    synth p = synth_default(72);
    p.fps = fps_list[_i];
    p.noise = 0.002 * sqrt(30.0 / p.fps) * 0.7;
    sm_heart_reading r;
    run(SM_HEART_DEFAULT_METHOD, &p, 25.0, NULL, NULL, &r);
    printf("%.0f fps: %s %.2f BPM (%s), raw pos %.2f chrom %.2f\n", p.fps, r.valid ? "shown" : "none", r.bpm,
           r.reason ? r.reason : "", r.bpm_pos, r.bpm_chrom);
    /* at 5 fps (Nyquist 150 BPM) a refusal is allowed, a wrong number is not */
    if (p.fps > 5 || r.valid)
        ck_assert_msg(r.valid && fabs(r.bpm - 72) <= 3.0, "%.0f fps: %.2f (%s)", p.fps, r.bpm, r.reason ? r.reason : "");
    else
        ck_assert(r.reason != NULL);
}
END_TEST

/* ---- trace files --------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The medians of the estimator (sm_kth_smallest) against sorting with qsort:
 * every k of arrays of 1-300 values, distinct, with many ties, all equal,
 * already sorted and reversed. */
START_TEST(kth_smallest_matches_sorting)
{
    static double x[300], sorted[300], work[300];
    sm_test_seed(7);
    for (int n = 1; n <= 300; n += (n < 40 ? 1 : 37)) {
        for (int kind = 0; kind < 5; kind++) {
            for (int i = 0; i < n; i++) {
                double u = sm_test_uniform(0.0f, 1.0f);
                x[i] = kind == 0 ? u : kind == 1 ? floor(u * 4.0) : kind == 2 ? 3.5 : kind == 3 ? i : n - i;
            }
            memcpy(sorted, x, (size_t)n * sizeof *x);
            qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
            for (int k = 0; k < n; k++) {
                memcpy(work, x, (size_t)n * sizeof *x);
                double got = sm_kth_smallest(work, n, k);
                ck_assert_msg(got == sorted[k], "n %d kind %d k %d: %g, sorted %g", n, kind, k, got, sorted[k]);
                /* a reordering: the same values */
                qsort(work, (size_t)n, sizeof *work, cmp_double);
                ck_assert(memcmp(work, sorted, (size_t)n * sizeof *work) == 0);
            }
        }
    }
}
END_TEST

START_TEST(trace_round_trip_and_rejects)
{
    const char *dir = sm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/a.trace.csv", dir);
    sm_heart_trace_writer *w;
    ck_assert_int_eq(sm_heart_trace_writer_init(&w, path, NULL), SM_OK);
    synth p = synth_default(70);
    sm_heart_sample in[3];
    for (int i = 0; i < 3; i++) {
        synth_sample(&p, 0.1 * i, 0.1, &in[i]);
        in[i].bpm_net = i == 1 ? 93.5 : NAN;
    }
    in[2].face = false;
    for (int i = 0; i < 3; i++)
        sm_heart_trace_writer_add(w, i, &in[i]);
    ck_assert_int_eq(sm_heart_trace_writer_finish(w, NULL), SM_OK);
    sm_heart_trace_writer_free(w);
    sm_heart_sample *out;
    size_t n;
    sm_error err;
    ck_assert_msg(sm_heart_trace_read(path, &out, &n, &err) == SM_OK, "%s", err.msg);
    ck_assert_uint_eq(n, 3);
    ck_assert(out[0].face && out[1].face && !out[2].face && out[2].n[0] == 0);
    ck_assert(fabs(out[1].rgb[2][1] - in[1].rgb[2][1]) < 1e-3 && out[1].n[1] == in[1].n[1]);
    ck_assert(fabs(out[1].bpm_net - 93.5) < 1e-3 && isnan(out[0].bpm_net));
    free(out);
    /* a folder that cannot take the file fails at init */
    ck_assert_int_eq(sm_heart_trace_writer_init(&w, "/nonexistent-dir/x.csv", &err), SM_ERR_IO);
    /* malformed files name the line and column */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"t,r,g,b\n0,1,2,3\n", ":1: expected the header"},
        {SM_HEART_TRACE_HEADER "\n0,0,1,1,1,1,10,1,1,1,10,1,1,1,10,0,0,9,9,50,0\n", "21 columns"},
        {SM_HEART_TRACE_HEADER "\n0,0,1,x,1,1,10,1,1,1,10,1,1,1,10,0,0,9,9,50,0,nan\n", "column fh_r"},
        {SM_HEART_TRACE_HEADER "\n0,0,2,1,1,1,10,1,1,1,10,1,1,1,10,0,0,9,9,50,0,nan\n", "column face"},
        {SM_HEART_TRACE_HEADER "\n0,0,1,1,1,1,-3,1,1,1,10,1,1,1,10,0,0,9,9,50,0,nan\n", "column fh_n"},
        {SM_HEART_TRACE_HEADER "\n0,nan,1,1,1,1,3,1,1,1,10,1,1,1,10,0,0,9,9,50,0,nan\n", "column t"},
        {SM_HEART_TRACE_HEADER "\n", "no rows"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FILE *f = fopen(path, "w");
        fputs(bad[k].text, f);
        fclose(f);
        ck_assert_int_eq(sm_heart_trace_read(path, &out, &n, &err), SM_ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, bad[k].want) && strstr(err.msg, path), "%s", err.msg);
    }
    static const char *bad_gt[] = {"t,hr\n0,60\n", "t,bpm\n0,60\n0,61\n", "t,bpm\n0,900\n", "t,bpm\n0,abc\n"};
    for (size_t k = 0; k < 4; k++) {
        FILE *f = fopen(path, "w");
        fputs(bad_gt[k], f);
        fclose(f);
        double *gt;
        ck_assert_int_eq(sm_heart_gt_read(path, &gt, &n, &err), SM_ERR_FORMAT);
    }
    /* from a buffer (the fuzzer's path): the message names the buffer and the line */
    const char *gt_text = "t,bpm\r\n0,60\n\n1,61\n2,x\n";
    double *gt;
    ck_assert_int_eq(sm_heart_gt_parse("mem.gt", gt_text, strlen(gt_text), &gt, &n, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mem.gt:5: expected 't,bpm' numbers"), "%s", err.msg);
    ck_assert_int_eq(sm_heart_gt_parse("mem.gt", gt_text, strlen(gt_text) - 4, &gt, &n, &err), SM_OK);
    ck_assert(n == 2 && gt[0] == 0 && gt[1] == 1 && gt[2] == 60 && gt[3] == 61);
    free(gt);
    const char *tr_text = SM_HEART_TRACE_HEADER "\n0,0,1,1,1,1,10,1,1,1,10,1,1,1,10,0,0,9,9,50,0,nan\n"
                                                "1,0.1,1,1,1,1,10,1,1,1,10,1,1,1,10,0,0,9,9,50,0\n";
    ck_assert_int_eq(sm_heart_trace_parse("mem.trace", tr_text, strlen(tr_text), &out, &n, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "mem.trace:3: 21 columns"), "%s", err.msg);
}
END_TEST

/* ---- the mirror: stress only from a trusted reading ------------------------------------------ */

START_TEST(mirror_stress_from_shown_reading)
{
    /* through sm_mirror with a synthetic face of skin pixels pulsing at 90 BPM */
    const int W = 160, H = 160;
    uint8_t *rgb = malloc((size_t)W * H * 3);
    sm_face_result *face = calloc(1, sizeof *face);
    sm_mirror_result *res = malloc(sizeof *res);
    face->valid = true;
    face->n_landmarks = 478;
    sm_test_seed(31);
    for (int i = 0; i < 478; i++) {
        face->landmarks[i][0] = sm_test_uniform(20, 140);
        face->landmarks[i][1] = sm_test_uniform(20, 140);
    }
    /* the region polygons: fixed shapes inside the frame */
    const int *polys[3] = {sm_pos_forehead_idx, sm_pos_right_cheek_idx, sm_pos_left_cheek_idx};
    const int cnt[3] = {SM_POS_N_FOREHEAD, SM_POS_N_CHEEK, SM_POS_N_CHEEK};
    const double cx[3] = {80, 50, 110}, cy[3] = {45, 95, 95}, rad[3] = {28, 18, 18};
    for (int q = 0; q < 3; q++)
        for (int i = 0; i < cnt[q]; i++) {
            double a = 2 * M_PI * i / cnt[q];
            face->landmarks[polys[q][i]][0] = (float)(cx[q] + rad[q] * cos(a));
            face->landmarks[polys[q][i]][1] = (float)(cy[q] + 0.7 * rad[q] * sin(a));
        }
    face->landmarks[0][0] = 0;   /* box 0..150 */
    face->landmarks[1][0] = 150;
    /* the wellness rules (0) and the seed's (1) on the same frames, made once */
    sm_mirror *m[2];
    for (int seed_rules = 0; seed_rules < 2; seed_rules++) {
        sm_mirror_config cfg = {0};
        cfg.face_available = true;
        ck_assert_int_eq(sm_mirror_init(&m[seed_rules], &cfg, NULL), SM_OK);
        sm_mirror_set_heart_wellness(m[seed_rules], !seed_rules);
    }
    int first_valid = -1, stress_without = 0;
    for (int f = 0; f < 30 * 20; f++) {
        double t = f / 30.0, pulse = 0.006 * sin(2 * M_PI * 1.5 * t);
        for (int i = 0; i < W * H; i++) {
            const double base[3] = {190, 130, 110};
            for (int c = 0; c < 3; c++) {
                double v = base[c] * (1 + sm_test_pbv[c] * pulse) + 3 * sm_test_gauss();
                rgb[3 * i + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
        /* the face leaves between 12 and 13 s */
        bool here = !(t >= 12 && t < 13);
        sm_mirror_input in = {.frame = f, .t = t, .width = W, .height = H, .rgb = rgb, .stride = (size_t)W * 3,
                              .face = here ? face : NULL};
        for (int seed_rules = 0; seed_rules < 2; seed_rules++) {
            ck_assert_int_eq(sm_mirror_step(m[seed_rules], &in, res, NULL), SM_OK);
            const sm_heart_result *h = &res->heart;
            if (seed_rules) {
                ck_assert(isnan(h->quality) && h->stale == false);
                continue;
            }
            if (h->valid_bpm && first_valid < 0)
                first_valid = f;
            if (h->valid_stress && !h->valid_bpm)
                stress_without++;
            if (h->valid_bpm) {
                ck_assert(h->reason == NULL && h->quality >= 0 && h->quality <= 1);
                ck_assert_msg(fabs(h->bpm - 90) < 3, "frame %d: %.1f", f, h->bpm);
                ck_assert_str_eq(h->source, sm_heart_method_name(SM_HEART_DEFAULT_METHOD));
            } else {
                ck_assert(h->reason != NULL && !h->valid_stress);
            }
            if (h->valid_stress)
                ck_assert(fabs(h->stress - sm_stress_score(90, 0)) < 3.0);
            if (!here)
                ck_assert(!h->valid_bpm && !h->valid_stress);
        }
    }
    ck_assert_msg(first_valid > 0 && first_valid < 30 * 11, "first reading at frame %d", first_valid);
    ck_assert_int_eq(stress_without, 0);
    sm_mirror_free(m[0]);
    sm_mirror_free(m[1]);
    free(rgb);
    free(face);
    free(res);
}
END_TEST

/* ---- real traces replayed against contact ground truth ------------------------------------ */

START_TEST(real_traces_replayed)
{
    const char *dir = sm_test_committed("eval/heart");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/SOURCES.md", dir ? dir : "");
    FILE *f = dir ? fopen(probe, "r") : NULL;
    if (!f) {
        sm_test_skip("real_traces_replayed", "tests/fixtures/eval/heart not found");
        return;
    }
    fclose(f);
    static const char *clips[] = {"bias_in_v3", "bias_in_v17", "bias_in_v38", "bias_sl_v16", "bias_sl_v37"};
    sm_heart_acc total[SM_EVAL_N];
    memset(total, 0, sizeof total);
    for (size_t k = 0; k < sizeof clips / sizeof clips[0]; k++) {
        char tp[4300], gp[4300];
        snprintf(tp, sizeof tp, "%s/%s.trace.csv", dir, clips[k]);
        snprintf(gp, sizeof gp, "%s/%s.gt.csv", dir, clips[k]);
        sm_heart_sample *s;
        double *gt;
        size_t ns, ng;
        sm_error err;
        ck_assert_msg(sm_heart_trace_read(tp, &s, &ns, &err) == SM_OK, "%s", err.msg);
        ck_assert_msg(sm_heart_gt_read(gp, &gt, &ng, &err) == SM_OK, "%s", err.msg);
        sm_heart_acc acc[SM_EVAL_N];
        memset(acc, 0, sizeof acc);
        ck_assert(sm_heart_eval_clip(s, ns, gt, gt + ng, ng, NULL, acc, &err) == SM_OK);
        for (int e = 0; e < SM_EVAL_N; e++)
            sm_heart_acc_merge(&total[e], &acc[e]);
        free(s);
        free(gt);
    }
    int def = SM_HEART_DEFAULT_METHOD == SM_HEART_CHROM ? SM_EVAL_CHROM_GATE : SM_EVAL_POS_GATE;
    sm_heart_stats d = sm_heart_acc_stats(&total[def]), raw = sm_heart_acc_stats(&total[SM_EVAL_POS]);
    printf("real traces: default MAE %.2f BPM on %.0f%% of the time; plain POS MAE %.2f on %.0f%%\n", d.mae,
           100 * d.coverage, raw.mae, 100 * raw.coverage);
    /* bounds a little above the values measured when the traces were committed
     * (docs/HEART.md): a regression of the estimators or the gate fails here */
    ck_assert_msg(d.n > 0 && d.mae < BOUND_DEFAULT_MAE, "default MAE %.2f", d.mae);
    ck_assert_msg(d.mae < raw.mae, "the gate must not be worse than plain POS");
    ck_assert_msg(d.coverage > BOUND_MIN_COVERAGE, "readings on %.0f%% of the time", 100 * d.coverage);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heart");
    TCase *tc = tcase_create("heart");
    tcase_add_loop_test(tc, known_rates_pos_and_chrom, 0, (int)(sizeof rates / sizeof rates[0]));
    tcase_add_test(tc, motion_and_light_steps);
    tcase_add_test(tc, gate_refuses_noise);
    tcase_add_test(tc, no_harmonic_jumps);
    tcase_add_test(tc, bad_input_never_fresh);
    tcase_add_loop_test(tc, frame_rates_5_to_60, 0, (int)(sizeof fps_list / sizeof fps_list[0]));
    tcase_add_test(tc, kth_smallest_matches_sorting);
    tcase_add_test(tc, trace_round_trip_and_rejects);
    tcase_add_test(tc, mirror_stress_from_shown_reading);
    tcase_add_test(tc, real_traces_replayed);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

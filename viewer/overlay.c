/* The window's picture: video on the left (letterboxed, mirrored), a column
 * of panels on the right with the wording of the seed's app.py. */
#include "overlay.h"
#include "plots.h"
#include "sm_image.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const sm_rgb BG = {16, 18, 22}, CARD = {30, 33, 41}, TITLE = {120, 200, 255}, TEXT = {225, 228, 235},
                    DIM = {140, 146, 158}, BAR_BG = {55, 60, 72}, GREEN = {80, 220, 120}, YELLOW = {250, 200, 60},
                    RED = {235, 60, 55}, WHITE = {255, 255, 255}, MESH = {90, 255, 200}, ORANGE = {250, 140, 40};

static int panel_width(int cw, int ui)
{
    int p = 40 * SM_FONT_CELL_W * ui + 10 * ui;
    if (p > cw / 2)
        p = cw / 2;
    return p;
}

/* The text scale: the full panel column (every section present) takes about
 * 365 pixels per unit of scale, and the column may use half the width. */
static int sm_overlay_ui_scale(int w, int h)
{
    int s = h / 365;
    while (s > 1 && 40 * SM_FONT_CELL_W * s + 10 * s > w / 2)
        s--;
    return s < 1 ? 1 : s > 4 ? 4 : s;
}

void sm_overlay_video_rect(int cw, int ch, int ui, int *x, int *y, int *w, int *h)
{
    if (ui <= 0)
        ui = sm_overlay_ui_scale(cw, ch);
    *x = 0;
    *y = 0;
    *w = cw - panel_width(cw, ui);
    *h = ch - sm_plots_height(ch, ui); /* the history band below */
}

typedef struct {
    sm_canvas *c;
    int x, y, w, ui, line;
} pen;

static void say(pen *p, sm_rgb col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(pen *p, sm_rgb col, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* wrap at the panel width, on spaces when possible */
    int maxc = p->w / (SM_FONT_CELL_W * p->ui);
    char *s = buf;
    while (*s) {
        int n = (int)strlen(s);
        if (n > maxc && maxc > 0) {
            int cut = maxc;
            while (cut > maxc / 2 && s[cut] != ' ')
                cut--;
            if (s[cut] != ' ')
                cut = maxc;
            char keep = s[cut];
            s[cut] = '\0';
            sm_canvas_text(p->c, p->x, p->y, p->ui, col, s);
            s[cut] = keep;
            s += cut;
            while (*s == ' ')
                s++;
            p->y += p->line;
            continue;
        }
        sm_canvas_text(p->c, p->x, p->y, p->ui, col, s);
        break;
    }
    p->y += p->line;
}

/* A horizontal bar for v in [0,1] with the value printed after it. */
static void bar(pen *p, const char *label, int label_chars, float v, sm_rgb col, const char *value)
{
    int cw = SM_FONT_CELL_W * p->ui;
    sm_canvas_text(p->c, p->x, p->y, p->ui, DIM, label);
    int bx = p->x + label_chars * cw, bw = p->w - (label_chars + 6) * cw, bh = SM_FONT_CELL_H * p->ui - 2 * p->ui;
    int by = p->y + p->ui;
    if (bw < 4 * cw)
        bw = 4 * cw;
    sm_canvas_fill(p->c, bx, by, bw, bh, BAR_BG);
    if (isfinite(v)) {
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        sm_canvas_fill(p->c, bx, by, (int)lroundf(v * (float)bw), bh, col);
    }
    sm_canvas_text(p->c, bx + bw + cw / 2, p->y, p->ui, TEXT, value);
    p->y += p->line;
}

/* A card: filled background from the title to where the pen ends. */
static int card_begin(pen *p, const char *title)
{
    int top = p->y;
    p->y += p->ui * 3;
    sm_canvas_text(p->c, p->x, p->y, p->ui, TITLE, title);
    p->y += p->line + p->ui * 2;
    return top;
}

static void card_end(pen *p, int top, sm_canvas *under, int x0, int w)
{
    (void)under;
    (void)x0;
    (void)w;
    (void)top;
    p->y += p->ui * 4;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

static void draw_video(sm_canvas *c, const sm_frame *f, const sm_mirror_result *r, const sm_overlay_state *st,
                       int vx, int vy, int vw, int vh)
{
    sm_canvas_fill(c, vx, vy, vw, vh, BG);
    if (!f || f->width <= 0 || f->height <= 0)
        return;
    double s = fmin((double)vw / f->width, (double)vh / f->height);
    int dw = (int)(f->width * s), dh = (int)(f->height * s);
    if (dw < 1 || dh < 1)
        return;
    int dx = vx + (vw - dw) / 2, dy = vy + (vh - dh) / 2;
    uint8_t *dst = c->px + (size_t)dy * c->stride + (size_t)dx * 3;
    sm_image_resize_bilinear_u8(f->rgb, f->width, f->height, (size_t)f->width * 3, dst, dw, dh, c->stride, 3);
    if (st->mirror)
        sm_image_flip_h_u8(dst, c->stride, dw, dh, 3, dst, c->stride);
    if (!r || !r->face.valid)
        return;
    /* source pixel -> canvas */
#define MAPX(px) (st->mirror ? dx + (int)lround(((double)f->width - (px)) * s) : dx + (int)lround((px) * s))
#define MAPY(py) (dy + (int)lround((py) * s))
    const sm_face_result *fc = &r->face;
    int x0 = MAPX(fc->box[0]), x1 = MAPX(fc->box[0] + fc->box[2]);
    if (x1 < x0) {
        int t = x0;
        x0 = x1;
        x1 = t;
    }
    int y0 = MAPY(fc->box[1]), y1 = MAPY(fc->box[1] + fc->box[3]);
    int ui = st->ui;
    sm_canvas_frame(c, x0, y0, x1 - x0, y1 - y0, ui, GREEN);
    char label[32];
    snprintf(label, sizeof label, "face %.2f", fc->score);
    int tag_h = (SM_FONT_CELL_H + 1) * ui, tag_y = y0 - tag_h > dy ? y0 - tag_h : y0 + ui;
    sm_canvas_blend(c, x0, tag_y, sm_font_text_width(label, ui) + 2 * ui, tag_h, BG, 170);
    sm_canvas_text(c, x0 + ui, tag_y, ui, GREEN, label);
    if (st->mesh) {
        int n = fc->n_landmarks > SM_MAX_LANDMARKS ? SM_MAX_LANDMARKS : fc->n_landmarks;
        for (int i = 0; i < n; i++) {
            float lx = fc->landmarks[i][0], ly = fc->landmarks[i][1];
            if (isfinite(lx) && isfinite(ly))
                sm_canvas_fill(c, MAPX(lx), MAPY(ly), ui, ui, MESH);
        }
    }
#undef MAPX
#undef MAPY
}

static void capitalize(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "?");
    if (dst[0])
        dst[0] = (char)toupper((unsigned char)dst[0]);
}

/* The advisor's action in plain words (the panel and the prompt). */
static const char *sm_overlay_advice_text(int action)
{
    switch (action) {
    case 0: return "All good: no break needed now.";
    case 1: return "Time for a short break: stand up, stretch, look away for a minute.";
    case 2: return "You seem tired: a 15-minute nap would help.";
    default: return "No advice.";
    }
}

static void draw_panels(sm_canvas *c, const sm_frame *f, const sm_mirror_result *r, const sm_overlay_state *st,
                        int px, int pw)
{
    int ui = st->ui;
    sm_canvas_fill(c, px, 0, pw, c->h, CARD);
    sm_canvas_fill(c, px, 0, ui, c->h, BAR_BG);
    pen p = {c, px + 4 * ui + ui, 4 * ui, pw - 9 * ui, ui, (SM_FONT_CELL_H + 2) * ui};
    sm_canvas_text(c, p.x, p.y, ui, WHITE, "SMART MIRROR");
    p.y += p.line;
    say(&p, DIM, "FPS: %.1f   frame %lld   t %.2f s", st->fps, f ? (long long)f->index : -1LL, f ? f->t : 0.0);
    p.y += ui * 2;
    if (!r) {
        say(&p, DIM, "waiting for the first analysed frame...");
        return;
    }
    char buf[128];

    /* emotion */
    int top = card_begin(&p, "EMOTION");
    const sm_emotion_result *e = &r->emotion;
    if (!e->available) {
        say(&p, DIM, "Emotion: model missing.");
    } else if (!e->valid || e->label < 0 || e->label >= e->n_labels) {
        say(&p, TEXT, "Emotion: low confidence / no face.");
    } else {
        capitalize(buf, sizeof buf, e->labels[e->label]);
        say(&p, TEXT, "Emotion: %s (%.2f)", buf, e->conf);
    }
    if (e->available && e->model_name)
        say(&p, DIM, "model: %s%s%s", e->model_name, e->precision ? ", " : "", e->precision ? e->precision : "");
    if (e->available && e->valid) {
        /* two columns of bars: labels in the left one, then the right one */
        int n = e->n_labels > SM_MAX_EMOTIONS ? SM_MAX_EMOTIONS : e->n_labels, half = (n + 1) / 2;
        pen col[2] = {p, p};
        col[0].w = p.w / 2 - 2 * ui;
        col[1].x = p.x + p.w / 2 + 2 * ui;
        col[1].w = p.w / 2 - 2 * ui;
        for (int i = 0; i < n; i++) {
            char lab[16], val[16];
            snprintf(lab, sizeof lab, "%.8s", e->labels[i] ? e->labels[i] : "?");
            snprintf(val, sizeof val, "%.2f", e->probs[i]);
            /* each class in its colour of the history band (plots.c) */
            bar(&col[i / half], lab, 9, e->probs[i], sm_plots_emotion_colour(e->labels[i]), val);
        }
        p.y = col[0].y > col[1].y ? col[0].y : col[1].y;
        say(&p, TEXT, "Valence %+.2f   Arousal %+.2f", e->valence, e->arousal);
    }
    card_end(&p, top, c, px, pw);

    /* fatigue */
    top = card_begin(&p, "FATIGUE");
    const sm_fatigue_result *fa = &r->fatigue;
    if (!fa->available) {
        say(&p, DIM, "Fatigue: face models missing.");
    } else if (!fa->valid) {
        say(&p, TEXT, "Fatigue: No face detected.");
    } else {
        /* the calibrated detector (issue 14): its level is also p_drowsy, so it
         * replaces the P(drowsy) bar; then state, closure timer, calibration */
        bool wellness = fa->rules && !strcmp(fa->rules, "wellness");
        if (wellness) {
            snprintf(buf, sizeof buf, "%.2f", fa->level);
            bar(&p, "Drowsiness", 11, clamp01(fa->level),
                fa->state && !strcmp(fa->state, "drowsy") ? RED : fa->state && !strcmp(fa->state, "tired") ? YELLOW : GREEN,
                buf);
        } else {
            snprintf(buf, sizeof buf, "%.2f", fa->p_drowsy);
            bar(&p, "P(drowsy)", 10, clamp01(fa->p_drowsy),
                fa->p_drowsy > 0.8f ? RED : fa->p_drowsy > 0.5f ? YELLOW : GREEN, buf);
        }
        say(&p, TEXT, "EAR: %.3f  MAR: %.3f  Tilt: %.1f deg", fa->ear, fa->mar, fa->tilt_deg);
        /* PERCLOS as the fraction 0..1, the unit of the JSON (docs/JSON.md) */
        say(&p, TEXT, "PERCLOS %.2f  blinks %.1f/min  yawns %d", fa->perclos, fa->blinks_per_min,
            fa->yawns);
        /* wellness: one line for the state, the closure timer and the warm-up,
         * in place of the pitch/estimator line, so the panel keeps its height */
        if (!wellness)
            say(&p, DIM, "pitch %.2f  estimator: %s%s", fa->pitch_ratio, fa->estimator ? fa->estimator : "?",
                fa->yawn ? "  YAWN" : "");
        else if (fa->eyes_closed)
            say(&p, fa->closed_s >= 1.0f ? RED : YELLOW, "%s  EYES CLOSED %.1f s", fa->state ? fa->state : "?",
                fa->closed_s);
        else if (!fa->calibrated)
            say(&p, YELLOW, "%s  calibrating: %.0f s left", fa->state ? fa->state : "?", ceilf(fa->calib_remaining_s));
        else
            say(&p, TEXT, "%s  microsleeps %d  calibrated%s", fa->state ? fa->state : "?", fa->microsleeps,
                fa->yawn ? "  YAWN" : "");
    }
    card_end(&p, top, c, px, pw);

    /* heart */
    top = card_begin(&p, "HEART");
    const sm_heart_result *h = &r->heart;
    if (h->valid_bpm || h->reason) {
        /* issue 15: the one reading the mirror stands behind, or why there is none */
        if (h->valid_bpm && isfinite(h->quality))
            say(&p, TEXT, "Heart: %.0f BPM  (%s, quality %.2f)", h->bpm, h->source ? h->source : "?", h->quality);
        else if (h->valid_bpm)
            say(&p, TEXT, "Heart: %.0f BPM  (%s)", h->bpm, h->source ? h->source : "?");
        else if (isfinite(h->bpm))
            say(&p, DIM, "Heart: %s  (last %.0f BPM, %.0f s ago%s)", h->reason ? h->reason : "no reading", h->bpm,
                h->age_s, h->stale ? ", stale" : "");
        else
            say(&p, TEXT, "Heart: %s", h->reason ? h->reason : "no reading");
        if (h->valid_stress) {
            snprintf(buf, sizeof buf, "%.0f", h->stress);
            bar(&p, "Stress", 10, clamp01(h->stress / 100.0f), h->stress > 66 ? RED : h->stress > 33 ? YELLOW : GREEN,
                buf);
            say(&p, DIM, "%s (from %s)", h->stress_level ? h->stress_level : "", h->stress_source ? h->stress_source : "?");
        } else {
            say(&p, DIM, "Stress: none without a trusted reading");
        }
        if (h->valid_baseline)
            say(&p, DIM, "Resting %.0f BPM%s", h->baseline_bpm, "");
        if (h->valid_baseline && h->valid_bpm && isfinite(h->stress_rel))
            say(&p, DIM, "Stress vs your resting rate: %.0f", h->stress_rel);
        if (h->valid_net)
            say(&p, DIM, "Seed's network (UltraLightNet): %.1f BPM", h->bpm_net);
        else
            say(&p, DIM, "Seed's network: %s", h->available_net ? "collecting 180 frames..." : "model missing");
    } else if (!h->valid_pos && !h->valid_net && !h->valid_stress) {
        say(&p, TEXT, "BPM / Stress: collecting signal...");
    } else {
        if (h->valid_pos)
            say(&p, TEXT, "BPM (POS): %.1f   quality %.1f dB", h->bpm_pos, h->quality_db);
        else
            say(&p, DIM, "BPM (POS): collecting signal...");
        if (h->valid_net)
            say(&p, TEXT, "BPM (net): %.1f", h->bpm_net);
        else
            say(&p, DIM, "BPM (net): %s", h->available_net ? "collecting 180 frames..." : "model missing");
        if (h->valid_stress) {
            snprintf(buf, sizeof buf, "%.0f", h->stress);
            bar(&p, "Stress", 10, clamp01(h->stress / 100.0f), h->stress > 66 ? RED : h->stress > 33 ? YELLOW : GREEN,
                buf);
            say(&p, DIM, "%s (from %s)", h->stress_level ? h->stress_level : "", h->stress_source ? h->stress_source : "?");
        }
    }
    card_end(&p, top, c, px, pw);

    /* advisor */
    /* the advisor's decision in plain words (app.py's texts stay in the JSON) */
    top = card_begin(&p, "BREAKS");
    const sm_advisor_result *a = &r->advisor;
    if (!a->valid) {
        say(&p, DIM, "Watching how you are doing...");
    } else {
        say(&p, a->action == 0 ? GREEN : YELLOW, "%s", sm_overlay_advice_text(a->action));
        if (st->advice_age_s >= 0) {
            int next = 180 - (int)st->advice_age_s;
            say(&p, DIM, "%s %d min ago; next check in %d:%02d", a->action == 0 ? "checked" : "suggested",
                (int)(st->advice_age_s / 60), next > 0 ? next / 60 : 0, next > 0 ? next % 60 : 0);
        }
        if (a->has_reward)
            say(&p, DIM, "last advice %s (reward %+.2f)", a->reward > 0 ? "helped" : "did not help yet", a->reward);
    }
    card_end(&p, top, c, px, pw);

    /* timings */
    top = card_begin(&p, "TIMINGS (ms)");
    const sm_stage_ms *m = &r->ms;
    say(&p, DIM, "face %.1f  fatigue %.1f  emotion %.1f", m->face, m->fatigue, m->emotion);
    say(&p, DIM, "heart %.1f  advisor %.1f  total %.1f", m->heart, m->advisor, m->total);
    card_end(&p, top, c, px, pw);
}

static void banner(sm_canvas *c, int x, int y, int w, int ui, sm_rgb col, const char *text)
{
    int h = (SM_FONT_CELL_H + 6) * ui * 2;
    sm_canvas_blend(c, x, y, w, h, col, 220);
    int tw = sm_font_text_width(text, ui * 2);
    sm_canvas_text(c, x + (w - tw) / 2, y + 2 * ui, ui * 2, WHITE, text);
}

void sm_overlay_render(sm_canvas *c, const sm_frame *f, const sm_mirror_result *r, const sm_overlay_state *st_in)
{
    sm_overlay_state st = *st_in;
    if (st.ui <= 0)
        st.ui = sm_overlay_ui_scale(c->w, c->h);
    int ui = st.ui;
    int vx, vy, vw, vh;
    sm_overlay_video_rect(c->w, c->h, ui, &vx, &vy, &vw, &vh);
    /* the history band takes the bottom of the video column */
    int plot_h = c->h - vh;
    if (plot_h > 0) {
        sm_canvas_fill(c, vx, vy + vh, vw, plot_h, BG);
        if (st.session)
            sm_plots_draw(c, vx, vy + vh, vw, plot_h, ui, st.session, st.history_s > 0 ? st.history_s : 300);
    }
    draw_video(c, f, r, &st, vx, vy, vw, vh);
    draw_panels(c, f, r, &st, vx + vw, c->w - vw);

    int by = vy;
    if (st.flash > 0) {
        int t = 4 * ui;
        sm_canvas_blend(c, vx, vy, vw, t, RED, (int)(220 * st.flash));
        sm_canvas_blend(c, vx, vy + vh - t, vw, t, RED, (int)(220 * st.flash));
        sm_canvas_blend(c, vx, vy + t, t, vh - 2 * t, RED, (int)(220 * st.flash));
        sm_canvas_blend(c, vx + vw - t, vy + t, t, vh - 2 * t, RED, (int)(220 * st.flash));
    }
    if (r && r->fatigue.available && r->fatigue.valid && r->fatigue.alert) {
        banner(c, vx, by, vw, ui, RED, "! You look drowsy!");
        by += (SM_FONT_CELL_H + 6) * ui * 2;
    }
    if (st.status)
        banner(c, vx, by, vw, ui, ORANGE, st.status);
    int lh = (SM_FONT_CELL_H + 2) * ui;
    if (!f) {
        const char *m = st.status ? "" : "waiting for the first frame...";
        sm_canvas_text(c, vx + (vw - sm_font_text_width(m, ui)) / 2, vh / 2, ui, DIM, m);
    }
    int ly = vy + vh - lh - 2 * ui;
    /* notes at the bottom left of the video (the face and its tag are usually higher up):
     * the advisor's prompt for 30 s after a suggestion, the calibration of the eyes */
    if (r && r->advisor.valid && r->advisor.action != 0 && st.advice_age_s >= 0 && st.advice_age_s < 30 && !st.summary) {
        const char *m = r->advisor.action == 1 ? "Time for a short break?" : "How about a short nap?";
        sm_canvas_blend(c, vx + 4 * ui, ly - ui, sm_font_text_width(m, ui) + 4 * ui, lh, (sm_rgb){40, 90, 140}, 230);
        sm_canvas_text(c, vx + 6 * ui, ly, ui, WHITE, m);
        ly -= lh + ui;
    }
    const sm_fatigue_result *fr = r ? &r->fatigue : NULL;
    char cal[64] = "";
    if (fr && fr->available && fr->valid && fr->rules && !strcmp(fr->rules, "wellness") && !fr->calibrated)
        snprintf(cal, sizeof cal, "learning your eyes: %.0f s", ceilf(fr->calib_remaining_s));
    else if (st.calib_done_s >= 0 && st.calib_done_s < 4)
        snprintf(cal, sizeof cal, "your eyes are learnt (c: learn again)");
    if (cal[0] && !st.summary) {
        sm_canvas_blend(c, vx + 4 * ui, ly - ui, sm_font_text_width(cal, ui) + 4 * ui, lh, (sm_rgb){30, 110, 70}, 230);
        sm_canvas_text(c, vx + 6 * ui, ly, ui, WHITE, cal);
        ly -= lh + ui;
    }
    if (st.paused && !st.summary) {
        sm_canvas_blend(c, vx + 4 * ui, ly - ui, sm_font_text_width("PAUSED (p)", ui) + 4 * ui, lh, BG, 180);
        sm_canvas_text(c, vx + 6 * ui, ly, ui, YELLOW, "PAUSED (p)");
        ly -= lh;
    }
    if (st.ended && !st.summary) {
        sm_canvas_blend(c, vx + 4 * ui, ly - ui, sm_font_text_width("end of source (q quits)", ui) + 4 * ui, lh, BG, 180);
        sm_canvas_text(c, vx + 6 * ui, ly, ui, DIM, "end of source (q quits)");
        ly -= lh;
    }
    if (st.summary && st.session) {
        sm_session_summary sum;
        sm_session_summarize(st.session, &sum);
        sm_plots_summary_box(c, vx, vy, vw, vh, ui, &sum, st.quitting);
    } else if (!st.help) {
        const char *hint = "h: help";
        sm_canvas_text(c, vx + vw - sm_font_text_width(hint, ui) - 6 * ui, vy + vh - lh - 2 * ui, ui, DIM, hint);
    } else {
        static const char *const lines[] = {
            "KEYS",        "q / Esc   quit",       "m         landmarks on/off", "p         pause",
            "s         screenshot (.bmp, current dir)", "f         fullscreen", "t         session summary",
            "c         recalibrate fatigue",
            "h         this help", "",
        };
        int n = (int)(sizeof lines / sizeof *lines);
        int bw = 44 * SM_FONT_CELL_W * ui, bh = (n + 1) * lh + 8 * ui;
        if (bw > vw)
            bw = vw;
        int bx = vx + (vw - bw) / 2, byy = vy + (vh - bh) / 2;
        sm_canvas_blend(c, bx, byy, bw, bh, BG, 215);
        sm_canvas_frame(c, bx, byy, bw, bh, ui, TITLE);
        for (int i = 0; i < n; i++)
            sm_canvas_text(c, bx + 6 * ui, byy + 6 * ui + i * lh, ui, i == 0 ? TITLE : TEXT, lines[i]);
        if (st.notes && *st.notes) {
            char first[120];
            snprintf(first, sizeof first, "%.100s", st.notes);
            char *nl = strchr(first, '\n');
            if (nl)
                *nl = '\0';
            sm_canvas_text(c, bx + 6 * ui, byy + 6 * ui + (n - 1) * lh, ui, DIM, first);
        }
    }
}

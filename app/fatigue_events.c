/* Calibrated eye/mouth/head event detector and drowsiness level, see
 * fatigue_events.h (the contract) and docs/FATIGUE.md (the sources). */
#include "fatigue_events.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* thresholds relative to the person (docs/FATIGUE.md) */
#define CLOSED_RATIO 0.55
#define REOPEN_RATIO 0.60
#define CLOSING_RATIO 0.85
#define CLOSED_MIN 0.10
#define CLOSED_MAX 0.16
#define REOPEN_MAX 0.18
#define P80_SPAN 0.2
#define YAWN_ON_ABS 0.30
#define YAWN_ON_REL 0.8
#define YAWN_ON_MIN 0.55
#define YAWN_ON_MAX 1.2
#define YAWN_MIN_S 1.5
#define YAWN_ABOVE_S 0.8
#define YAWN_PEAK_ABS 0.75
#define YAWN_PEAK_REL 1.2
#define YAWN_PEAK_MAX 1.4
#define YAWN_CAND_MAX_S 8.0
#define YAWN_GAP_S 0.5
#define YAWN_REFRACTORY_S 4.0
#define YAWN_LOST_S 2.0
#define NOD_DROP 0.12
#define NOD_BACK 0.05
#define NOD_MAX_S 2.5
#define EAR_PCT 0.80
#define EAR_OPEN_FLOOR 0.20   /* below the lowest open level seen (0.21, glasses) */
#define MAR_PCT 0.30
/* timing */
#define CAL_STEP_S 0.04
#define CAL_CAP 1600          /* 60 s at one sample per 40 ms, with room */
#define CAL_REFRESH_S 0.25
#define CAL_MAX_STEP_S 0.1    /* a calibration second is face time, gaps excluded */
#define SEG_CAP 16384         /* PERCLOS segments: 60 s up to ~270 fps */
#define EVT_CAP 512
#define SHUT_CAP 15
#define MODEL_N 10
#define GAP_S 0.5
#define REOPEN_N 2
#define REOPEN_MIN_S 0.05
#define REOPEN_MAX_S 0.15
#define ALERT_OFF_S 0.5
#define ALERT_LOST_S 2.0
#define BOX_JUMP 1.6
#define DT_INIT (1.0 / 30.0)
#define DT_MAX 0.5
#define PERCLOS_MIN_DEN_S 30.0
#define RATE_MIN_S 10.0
#define STATE_TIRED 0.35
#define STATE_DROWSY 0.65
#define STATE_HYST 0.05

typedef struct { double t, v; } tv;
typedef struct { tv *a; int cap, head, n; } ring;

static void ring_push(ring *r, double t, double v)
{
    if (r->n == r->cap) {
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
    r->a[(r->head + r->n) % r->cap] = (tv){t, v};
    r->n++;
}

static void ring_expire(ring *r, double lo)
{
    while (r->n && r->a[r->head].t <= lo) {
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
}

static const tv *ring_at(const ring *r, int i) { return &r->a[(r->head + i) % r->cap]; }

typedef struct { double t0, t1; bool p80; } seg;

enum { Y_NONE, Y_CAND, Y_ON };
enum { N_NONE, N_DOWN, N_HELD };

struct sm_fatigue_events {
    /* clock */
    bool have_t;
    double t, t_raw, dt_typ;
    /* face continuity */
    bool have_face;
    double t_last_face, last_box_w;
    /* calibration */
    tv cal_ear_buf[CAL_CAP], cal_mar_buf[CAL_CAP], cal_pitch_buf[CAL_CAP];
    ring cal_ear, cal_mar, cal_pitch;
    double t_cal_ear, t_cal_mar, t_cal_pitch, t_cal_refresh;
    double calib_s, pitch_s;
    double ear_open, mar_rest, pitch_base, ear_shut;
    double shut_min[SHUT_CAP];
    int shut_n, shut_next;
    double thr_closed, thr_reopen, thr_closing, thr_p80, thr_yawn, thr_yawn_keep, thr_yawn_peak;
    double scratch[CAL_CAP];
    /* eyes */
    sm_eye_state eyes;
    double t_prev_face_sample;   /* the sample before the current one (for midpoints) */
    double close_start, last_closed_t, close_min;
    bool counted_long, counted_micro;
    bool reopen_pending;
    double first_open_t;
    int open_n;
    double t_open_since;
    /* PERCLOS */
    seg seg_buf[SEG_CAP];
    int seg_head, seg_n;
    bool prev_p80, prev_face;
    double t_prev;
    /* events */
    tv blink_buf[EVT_CAP], closure_buf[EVT_CAP], yawn_buf[EVT_CAP], nod_buf[EVT_CAP];
    ring blinks_r, closures_r, yawns_r, nods_r;
    int blinks, long_closures, microsleeps, yawns, nods;
    /* yawn */
    int ystate;
    double y_start, y_above_s, y_peak, y_below_since, y_last_t, y_refractory_until;
    /* nod */
    int nstate;
    double n_start;
    /* model */
    double model[MODEL_N];
    int model_n, model_next;
    /* output state */
    bool alert;
    int label;
};

static double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ring_percentile(const ring *r, double *scratch, double q)
{
    for (int i = 0; i < r->n; i++)
        scratch[i] = ring_at(r, i)->v;
    qsort(scratch, (size_t)r->n, sizeof *scratch, cmp_double);
    double pos = q * (r->n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < r->n ? lo + 1 : lo;
    return scratch[lo] + (pos - lo) * (scratch[hi] - scratch[lo]);
}

static void set_thresholds(sm_fatigue_events *ev)
{
    double o = ev->ear_open;
    ev->thr_closed = clampd(CLOSED_RATIO * o, CLOSED_MIN, CLOSED_MAX);
    ev->thr_reopen = clampd(REOPEN_RATIO * o, ev->thr_closed + 0.01, REOPEN_MAX);
    ev->thr_closing = fmax(CLOSING_RATIO * o, ev->thr_reopen);
    double shut = fmin(ev->ear_shut, ev->thr_closed);
    ev->thr_p80 = fmin(shut + P80_SPAN * (o - shut), ev->thr_closed);
    double r = ev->mar_rest;
    ev->thr_yawn = clampd(r + fmax(YAWN_ON_ABS, YAWN_ON_REL * r), YAWN_ON_MIN, YAWN_ON_MAX);
    ev->thr_yawn_keep = r + 0.5 * (ev->thr_yawn - r);
    ev->thr_yawn_peak = fmin(r + fmax(YAWN_PEAK_ABS, YAWN_PEAK_REL * r), YAWN_PEAK_MAX);
}

static void refresh_calibration(sm_fatigue_events *ev)
{
    bool early = ev->calib_s >= SM_FEV_CALIB_EARLY_S;
    double open = early && ev->cal_ear.n > 0 ? ring_percentile(&ev->cal_ear, ev->scratch, EAR_PCT)
                                             : SM_FEV_POP_EAR_OPEN;
    /* warm-up only raises the open level: eyes shut from the first frame (a
     * dozing driver, a dim-light closure) must not teach "open" = shut */
    if (ev->calib_s < SM_FEV_CALIB_S)
        open = fmax(open, SM_FEV_POP_EAR_OPEN);
    ev->ear_open = fmax(open, EAR_OPEN_FLOOR);
    ev->mar_rest = early && ev->cal_mar.n > 0 ? ring_percentile(&ev->cal_mar, ev->scratch, MAR_PCT)
                                              : SM_FEV_POP_MAR_REST;
    ev->pitch_base = ev->pitch_s >= SM_FEV_CALIB_EARLY_S && ev->cal_pitch.n > 0
                         ? ring_percentile(&ev->cal_pitch, ev->scratch, 0.5)
                         : NAN;
    if (ev->shut_n > 0) {
        double s[SHUT_CAP];
        memcpy(s, ev->shut_min, (size_t)ev->shut_n * sizeof *s);
        qsort(s, (size_t)ev->shut_n, sizeof *s, cmp_double);
        ev->ear_shut = s[ev->shut_n / 2];
    } else {
        ev->ear_shut = SM_FEV_POP_EAR_SHUT;
    }
    set_thresholds(ev);
}

void sm_fatigue_events_recalibrate(sm_fatigue_events *ev)
{
    if (!ev)
        return;
    ev->cal_ear.n = ev->cal_mar.n = ev->cal_pitch.n = 0;
    ev->cal_ear.head = ev->cal_mar.head = ev->cal_pitch.head = 0;
    ev->t_cal_ear = ev->t_cal_mar = ev->t_cal_pitch = -INFINITY;
    ev->t_cal_refresh = -INFINITY;
    ev->calib_s = ev->pitch_s = 0.0;
    ev->shut_n = ev->shut_next = 0;
    ev->nstate = N_NONE;
    refresh_calibration(ev);
}

void sm_fatigue_events_reset(sm_fatigue_events *ev)
{
    if (!ev)
        return;
    ev->have_t = false;
    ev->t = ev->t_raw = 0.0;
    ev->dt_typ = DT_INIT;
    ev->have_face = false;
    ev->last_box_w = NAN;
    ev->eyes = SM_EYES_UNKNOWN;
    ev->reopen_pending = false;
    ev->t_open_since = -INFINITY;
    ev->seg_head = ev->seg_n = 0;
    ev->prev_face = ev->prev_p80 = false;
    ring *rs[4] = {&ev->blinks_r, &ev->closures_r, &ev->yawns_r, &ev->nods_r};
    for (int i = 0; i < 4; i++)
        rs[i]->head = rs[i]->n = 0;
    ev->blinks = ev->long_closures = ev->microsleeps = ev->yawns = ev->nods = 0;
    ev->ystate = Y_NONE;
    ev->y_refractory_until = -INFINITY;
    ev->nstate = N_NONE;
    ev->model_n = ev->model_next = 0;
    ev->alert = false;
    ev->label = 0;
    sm_fatigue_events_recalibrate(ev);
}

sm_status sm_fatigue_events_init(sm_fatigue_events **out, sm_error *err)
{
    if (!out)
        return sm_error_set(err, SM_ERR_ARG, "fatigue events: NULL output");
    sm_fatigue_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return sm_error_set(err, SM_ERR_NOMEM, "fatigue events: out of memory");
    ev->cal_ear = (ring){ev->cal_ear_buf, CAL_CAP, 0, 0};
    ev->cal_mar = (ring){ev->cal_mar_buf, CAL_CAP, 0, 0};
    ev->cal_pitch = (ring){ev->cal_pitch_buf, CAL_CAP, 0, 0};
    ev->blinks_r = (ring){ev->blink_buf, EVT_CAP, 0, 0};
    ev->closures_r = (ring){ev->closure_buf, EVT_CAP, 0, 0};
    ev->yawns_r = (ring){ev->yawn_buf, EVT_CAP, 0, 0};
    ev->nods_r = (ring){ev->nod_buf, EVT_CAP, 0, 0};
    sm_fatigue_events_reset(ev);
    *out = ev;
    return SM_OK;
}

void sm_fatigue_events_free(sm_fatigue_events *ev)
{
    free(ev);
}

const char *sm_fatigue_state_label(double level)
{
    return level >= STATE_DROWSY ? "drowsy" : level >= STATE_TIRED ? "tired" : "alert";
}

/* ---- eyes ----------------------------------------------------------------------------- */

static void count_closure_lengths(sm_fatigue_events *ev, double dur, double t)
{
    if (dur >= SM_FEV_LONG_S && !ev->counted_long) {
        ev->counted_long = true;
        ev->long_closures++;
        ring_push(&ev->closures_r, t, 1.0);
    }
    if (dur >= SM_FEV_MICROSLEEP_S && !ev->counted_micro) {
        ev->counted_micro = true;
        ev->microsleeps++;
        ring_push(&ev->closures_r, t, 2.0);
    }
}

static void finish_closure(sm_fatigue_events *ev, double end)
{
    double dur = end - ev->close_start;
    if (dur < 0)
        dur = 0;
    if (dur >= SM_FEV_BLINK_MIN_S && dur < SM_FEV_LONG_S && !ev->counted_long) {
        ev->blinks++;
        ring_push(&ev->blinks_r, end, dur);
    }
    count_closure_lengths(ev, dur, end);
    if (dur >= 0.15 && isfinite(ev->close_min)) {
        ev->shut_min[ev->shut_next] = ev->close_min;
        ev->shut_next = (ev->shut_next + 1) % SHUT_CAP;
        if (ev->shut_n < SHUT_CAP)
            ev->shut_n++;
    }
    ev->reopen_pending = false;
    ev->t_open_since = end;
}

static void eyes_step(sm_fatigue_events *ev, double t, double ear)
{
    if (ev->eyes != SM_EYES_CLOSED) {
        if (ear < ev->thr_closed) {
            ev->eyes = SM_EYES_CLOSED;
            /* the crossing lies between the last sample and this one */
            double prev = ev->t_prev_face_sample;
            ev->close_start = isfinite(prev) && t - prev <= GAP_S ? 0.5 * (prev + t) : t;
            ev->last_closed_t = t;
            ev->close_min = ear;
            ev->counted_long = ev->counted_micro = false;
            ev->reopen_pending = false;
        } else {
            if (ev->eyes == SM_EYES_UNKNOWN)
                ev->t_open_since = t;
            ev->eyes = ear < ev->thr_closing ? SM_EYES_CLOSING : SM_EYES_OPEN;
        }
        return;
    }
    if (ear > ev->thr_reopen) {
        if (!ev->reopen_pending) {
            ev->reopen_pending = true;
            ev->first_open_t = t;
            ev->open_n = 0;
        }
        ev->open_n++;
        double held = t - ev->first_open_t;
        if ((ev->open_n >= REOPEN_N && held >= REOPEN_MIN_S) || held >= REOPEN_MAX_S) {
            finish_closure(ev, 0.5 * (ev->last_closed_t + ev->first_open_t));
            ev->eyes = ear < ev->thr_closing ? SM_EYES_CLOSING : SM_EYES_OPEN;
        }
        return;
    }
    /* still shut (or in the hysteresis band): a pending reopening was noise */
    ev->reopen_pending = false;
    ev->last_closed_t = t;
    if (ear < ev->close_min)
        ev->close_min = ear;
}

/* The face has been gone since t_last_face (now t): end what cannot survive. */
static void face_gone(sm_fatigue_events *ev, double t)
{
    double gone = t - ev->t_last_face;
    if (ev->eyes == SM_EYES_CLOSED && gone > GAP_S) {
        finish_closure(ev, ev->last_closed_t + 0.5 * ev->dt_typ);
        ev->eyes = SM_EYES_UNKNOWN;
    } else if (ev->eyes != SM_EYES_CLOSED && gone > GAP_S) {
        ev->eyes = SM_EYES_UNKNOWN;
    }
    if (ev->ystate == Y_CAND && gone > YAWN_GAP_S)
        ev->ystate = Y_NONE;
    if (ev->ystate == Y_ON && gone > YAWN_LOST_S) {
        ev->ystate = Y_NONE;
        ev->y_refractory_until = ev->t_last_face + YAWN_REFRACTORY_S;
    }
    if (ev->nstate != N_NONE && gone > GAP_S)
        ev->nstate = N_NONE;
    if (ev->alert && gone >= ALERT_LOST_S)
        ev->alert = false;
}

/* ---- mouth, head ---------------------------------------------------------------------- */

/* A yawn is one long wide opening: MAR above "keep" with dips of less than
 * YAWN_GAP_S merged (the mesh's lower lip can collapse onto the upper one for
 * ~0.4 s at the widest point), lasting >= YAWN_MIN_S, >= YAWN_ABOVE_S of it
 * above "on", and a peak far above rest. Speech reaches "on" too, but in
 * short syllables and lower peaks. */
static void yawn_step(sm_fatigue_events *ev, double t, double mar)
{
    double d = fmin(t - ev->y_last_t, GAP_S);
    if (d < 0)
        d = 0;
    ev->y_last_t = t;
    switch (ev->ystate) {
    case Y_NONE:
        if (mar > ev->thr_yawn && t >= ev->y_refractory_until) {
            ev->ystate = Y_CAND;
            ev->y_start = t;
            ev->y_above_s = 0;
            ev->y_peak = mar;
            ev->y_below_since = NAN;
        }
        break;
    case Y_CAND:
        if (mar > ev->thr_yawn)
            ev->y_above_s += d;
        if (mar > ev->y_peak)
            ev->y_peak = mar;
        if (mar < ev->thr_yawn_keep) {
            if (isnan(ev->y_below_since))
                ev->y_below_since = t;
            if (t - ev->y_below_since >= YAWN_GAP_S) {
                ev->ystate = Y_NONE;
                break;
            }
        } else {
            ev->y_below_since = NAN;
        }
        if (t - ev->y_start >= YAWN_MIN_S && ev->y_above_s >= YAWN_ABOVE_S && ev->y_peak >= ev->thr_yawn_peak) {
            ev->ystate = Y_ON;
            ev->yawns++;
            ring_push(&ev->yawns_r, t, 1.0);
        } else if (t - ev->y_start > YAWN_CAND_MAX_S) {
            ev->ystate = Y_NONE; /* long talk or a mouth held open: start over */
        }
        break;
    case Y_ON:
        if (mar < ev->thr_yawn_keep) {
            if (isnan(ev->y_below_since))
                ev->y_below_since = t;
            if (t - ev->y_below_since >= YAWN_GAP_S) {
                ev->ystate = Y_NONE;
                ev->y_refractory_until = ev->y_below_since + YAWN_REFRACTORY_S;
            }
        } else {
            ev->y_below_since = NAN;
        }
        break;
    }
}

static void nod_step(sm_fatigue_events *ev, double t, double pitch)
{
    double base = ev->pitch_base;
    if (!isfinite(pitch) || !isfinite(base) || base <= 0)
        return;
    switch (ev->nstate) {
    case N_NONE:
        if (pitch < base * (1.0 - NOD_DROP)) {
            ev->nstate = N_DOWN;
            ev->n_start = t;
        }
        break;
    case N_DOWN:
        if (pitch > base * (1.0 - NOD_BACK)) {
            ev->nstate = N_NONE;
            if (t - ev->n_start <= NOD_MAX_S) {
                ev->nods++;
                ring_push(&ev->nods_r, t, 1.0);
            }
        } else if (t - ev->n_start > NOD_MAX_S) {
            ev->nstate = N_HELD;
        }
        break;
    case N_HELD:
        if (pitch > base * (1.0 - NOD_BACK))
            ev->nstate = N_NONE;
        break;
    }
}

static void calibration_step(sm_fatigue_events *ev, double t, double dt, const sm_fatigue_ev_input *in)
{
    double step = fmin(dt, CAL_MAX_STEP_S);
    ev->calib_s += step;
    /* once calibrated, only open eyes teach the open level */
    bool ear_ok = ev->calib_s < SM_FEV_CALIB_S || ev->eyes == SM_EYES_OPEN || ev->eyes == SM_EYES_CLOSING;
    if (ear_ok && t - ev->t_cal_ear >= CAL_STEP_S) {
        ring_expire(&ev->cal_ear, t - SM_FEV_WINDOW_S);
        ring_push(&ev->cal_ear, t, in->ear);
        ev->t_cal_ear = t;
    }
    if (ev->ystate == Y_NONE && t - ev->t_cal_mar >= CAL_STEP_S) {
        ring_expire(&ev->cal_mar, t - SM_FEV_WINDOW_S);
        ring_push(&ev->cal_mar, t, in->mar);
        ev->t_cal_mar = t;
    }
    if (isfinite(in->pitch_ratio) && ev->nstate == N_NONE && t - ev->t_cal_pitch >= CAL_STEP_S) {
        ring_expire(&ev->cal_pitch, t - SM_FEV_WINDOW_S / 2);
        ring_push(&ev->cal_pitch, t, in->pitch_ratio);
        ev->t_cal_pitch = t;
        ev->pitch_s += step;
    }
    if (t - ev->t_cal_refresh >= CAL_REFRESH_S) {
        refresh_calibration(ev);
        ev->t_cal_refresh = t;
    }
}

/* ---- the frame ------------------------------------------------------------------------ */

static int count_in(const ring *r, double lo, double kind)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += ring_at(r, i)->t > lo && (kind == 0 || ring_at(r, i)->v == kind);
    return n;
}

void sm_fatigue_events_push(sm_fatigue_events *ev, const sm_fatigue_ev_input *in,
                            sm_fatigue_ev_output *out)
{
    if (!ev || !in)
        return;
    /* clock: never stops, never runs backwards */
    double dt = 0.0;
    if (!ev->have_t) {
        ev->t = isfinite(in->t) ? in->t : 0.0;
        ev->have_t = true;
        ev->t_prev = ev->t;
    } else {
        double step = isfinite(in->t) ? in->t - ev->t_raw : -1.0;
        if (step > 0) {
            dt = step;
            if (step < DT_MAX)
                ev->dt_typ += 0.1 * (step - ev->dt_typ);
        } else {
            dt = ev->dt_typ;
        }
        ev->t += dt;
    }
    if (isfinite(in->t))
        ev->t_raw = in->t;
    double t = ev->t;

    bool face = in->face && isfinite(in->ear) && isfinite(in->mar) && in->ear >= 0 && in->mar >= 0;
    if (ev->have_face && (!face || t - ev->t_last_face > GAP_S))
        face_gone(ev, t);
    if (face) {
        bool new_person = ev->have_face && t - ev->t_last_face >= SM_FEV_RECAL_LOST_S;
        double bw = in->box_w;
        if (isfinite(bw) && bw > 0 && isfinite(ev->last_box_w) && ev->last_box_w > 0 &&
            (bw > BOX_JUMP * ev->last_box_w || ev->last_box_w > BOX_JUMP * bw))
            new_person = true;
        if (new_person)
            sm_fatigue_events_recalibrate(ev);
        ev->last_box_w = isfinite(bw) && bw > 0 ? bw : ev->last_box_w;
        double fdt = ev->have_face ? fmin(t - ev->t_last_face, GAP_S) : 0.0;
        if (!ev->have_face || new_person || t - ev->t_last_face > GAP_S) {
            ev->t_prev_face_sample = NAN;
            ev->y_last_t = t;
        }
        eyes_step(ev, t, in->ear);
        yawn_step(ev, t, in->mar);
        nod_step(ev, t, in->pitch_ratio);
        calibration_step(ev, t, fdt, in);
        ev->t_prev_face_sample = t;
        ev->t_last_face = t;
        ev->have_face = true;
    }

    /* PERCLOS: the interval since the last frame holds the last frame's state */
    if (ev->prev_face && t > ev->t_prev && t - ev->t_prev <= GAP_S) {
        if (ev->seg_n == SEG_CAP) {
            ev->seg_head = (ev->seg_head + 1) % SEG_CAP;
            ev->seg_n--;
        }
        ev->seg_buf[(ev->seg_head + ev->seg_n) % SEG_CAP] = (seg){ev->t_prev, t, ev->prev_p80};
        ev->seg_n++;
    }
    ev->prev_face = face;
    ev->prev_p80 = face && in->ear <= ev->thr_p80;
    ev->t_prev = t;
    double lo = t - SM_FEV_WINDOW_S;
    while (ev->seg_n && ev->seg_buf[ev->seg_head].t1 <= lo) {
        ev->seg_head = (ev->seg_head + 1) % SEG_CAP;
        ev->seg_n--;
    }
    double observed = 0, shut = 0;
    for (int i = 0; i < ev->seg_n; i++) {
        const seg *s = &ev->seg_buf[(ev->seg_head + i) % SEG_CAP];
        double d = s->t1 - fmax(s->t0, lo);
        observed += d;
        if (s->p80)
            shut += d;
    }

    /* the current closure and the alert */
    /* while a reopening awaits confirmation the closure ends where it began */
    double closed_until = ev->reopen_pending ? 0.5 * (ev->last_closed_t + ev->first_open_t) : t;
    double closed_s = ev->eyes == SM_EYES_CLOSED ? fmax(0.0, closed_until - ev->close_start) : 0.0;
    if (ev->eyes == SM_EYES_CLOSED) {
        count_closure_lengths(ev, closed_s, t);
        if (closed_s >= SM_FEV_MICROSLEEP_S)
            ev->alert = true;
    } else if (ev->alert && face && ev->eyes != SM_EYES_UNKNOWN && t - ev->t_open_since >= ALERT_OFF_S) {
        ev->alert = false;
    }

    /* windows */
    ring_expire(&ev->blinks_r, lo);
    ring_expire(&ev->closures_r, lo);
    ring_expire(&ev->nods_r, lo);
    ring_expire(&ev->yawns_r, t - SM_FEV_YAWN_WINDOW_S);
    double blink_ms = NAN, bsum = 0;
    for (int i = 0; i < ev->blinks_r.n; i++)
        bsum += ring_at(&ev->blinks_r, i)->v;
    if (ev->blinks_r.n)
        blink_ms = 1000.0 * bsum / ev->blinks_r.n;
    double rate = observed >= RATE_MIN_S ? ev->blinks_r.n * 60.0 / fmin(observed, SM_FEV_WINDOW_S) : 0.0;
    if (isfinite(in->p_model)) {
        ev->model[ev->model_next] = clampd(in->p_model, 0.0, 1.0);
        ev->model_next = (ev->model_next + 1) % MODEL_N;
        if (ev->model_n < MODEL_N)
            ev->model_n++;
    }
    double model_p = NAN;
    if (ev->model_n) {
        model_p = 0;
        for (int i = 0; i < ev->model_n; i++)
            model_p += ev->model[i];
        model_p /= ev->model_n;
    }

    /* the level: independent signs combined as a noisy-OR */
    int micro = count_in(&ev->closures_r, lo, 2.0);
    int longs = count_in(&ev->closures_r, lo, 1.0) - micro;
    double s[6], w[6] = {1.0, 0.9, 0.5, 0.8, 0.8, 0.15};
    s[0] = fmin(1.0, 0.6 * micro + 0.15 * (longs > 0 ? longs : 0));
    s[1] = clampd((shut / fmax(observed, PERCLOS_MIN_DEN_S) - 0.10) / 0.15, 0.0, 1.0);
    s[2] = ev->blinks_r.n >= 5 ? clampd((blink_ms - 250.0) / 150.0, 0.0, 1.0) : 0.0;
    s[3] = fmin(1.0, 0.25 * ev->yawns_r.n);
    s[4] = fmin(1.0, 0.5 * ev->nods_r.n);
    s[5] = isfinite(model_p) ? clampd((model_p - 0.5) / 0.5, 0.0, 1.0) : 0.0;
    double keep = 1.0;
    for (int i = 0; i < 6; i++)
        keep *= 1.0 - w[i] * s[i];
    double level = clampd(1.0 - keep, 0.0, 1.0);
    if (ev->alert && level < 0.9)
        level = 0.9;
    if (ev->label < 2 && level >= STATE_DROWSY)
        ev->label = 2;
    else if (ev->label < 1 && level >= STATE_TIRED)
        ev->label = 1;
    else if (ev->label == 2 && level < STATE_DROWSY - STATE_HYST)
        ev->label = level >= STATE_TIRED ? 1 : 0;
    else if (ev->label == 1 && level < STATE_TIRED - STATE_HYST)
        ev->label = 0;

    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->t = t;
    out->face = face;
    out->eyes = ev->eyes;
    out->eyes_closed = ev->eyes == SM_EYES_CLOSED;
    out->closed_s = closed_s;
    out->blinks = ev->blinks;
    out->long_closures = ev->long_closures;
    out->microsleeps = ev->microsleeps;
    out->yawns = ev->yawns;
    out->nods = ev->nods;
    out->yawning = ev->ystate == Y_ON;
    out->perclos = observed > 0 ? shut / observed : 0.0;
    out->blinks_per_min = rate;
    out->blink_ms = blink_ms;
    out->level = level;
    static const char *const labels[3] = {"alert", "tired", "drowsy"};
    out->state = labels[ev->label];
    out->alert = ev->alert;
    out->calibrated = ev->calib_s >= SM_FEV_CALIB_S;
    out->calib_remaining_s = out->calibrated ? 0.0 : SM_FEV_CALIB_S - ev->calib_s;
    out->ear_open = ev->ear_open;
    out->ear_closed_thresh = ev->thr_closed;
    out->ear_reopen_thresh = ev->thr_reopen;
    out->ear_p80_thresh = ev->thr_p80;
    out->ear_shut = ev->ear_shut;
    out->mar_rest = ev->mar_rest;
    out->mar_yawn_thresh = ev->thr_yawn;
    out->model_p = model_p;
}

/* Fatigue features (seed/fatigue_module.py) and their time statistics.
 * The per-frame formulas keep the seed's exact arithmetic (double, +1e-6
 * guards) because its MLP was trained on those numbers. */
#include "fatigue_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* seed/fatigue_module.py: p1..p6 of each eye, mouth and pose points */
static const int right_eye_ear[6] = {33, 160, 158, 133, 153, 144};
static const int left_eye_ear[6] = {362, 385, 387, 263, 373, 380};
enum {
    MOUTH_LEFT_CORNER = 61, MOUTH_RIGHT_CORNER = 291, MOUTH_UPPER_MID = 0, MOUTH_LOWER_MID = 17,
    NOSE_TIP = 1, CHIN = 152, LEFT_EYE_CORNER = 263, RIGHT_EYE_CORNER = 33
};

typedef struct { double x, y; } pt2;

static pt2 get_pt(const float *pts, int stride, int i)
{
    pt2 p = {pts[(size_t)i * (size_t)stride], pts[(size_t)i * (size_t)stride + 1]};
    return p;
}

static double dist(pt2 a, pt2 b)
{
    return hypot(a.x - b.x, a.y - b.y);
}

static double eye_aspect_ratio(const float *pts, int stride, const int idx[6])
{
    pt2 p[6];
    for (int i = 0; i < 6; i++)
        p[i] = get_pt(pts, stride, idx[i]);
    double d1 = dist(p[1], p[5]);
    double d2 = dist(p[2], p[4]);
    double d3 = dist(p[0], p[3]);
    return (d1 + d2) / (2.0 * d3 + 1e-6);
}

sm_status sm_fatigue_features_compute(const float *pts, int n_points, int stride,
                                      sm_fatigue_feats *out, sm_error *err)
{
    if (!pts || !out)
        return sm_error_set(err, SM_ERR_ARG, "fatigue features: NULL landmarks or output");
    if (n_points < 468 || stride < 2)
        return sm_error_set(err, SM_ERR_ARG,
                            "fatigue features: expected >= 468 landmarks with stride >= 2, "
                            "found %d with stride %d", n_points, stride);
    static const int used[] = {33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
                               61, 291, 0, 17, 1, 152};
    for (size_t i = 0; i < sizeof used / sizeof *used; i++) {
        pt2 p = get_pt(pts, stride, used[i]);
        if (!isfinite(p.x) || !isfinite(p.y))
            return sm_error_set(err, SM_ERR_ARG,
                                "fatigue features: landmark %d is not finite", used[i]);
    }
    memset(out, 0, sizeof *out);
    out->ear_left = eye_aspect_ratio(pts, stride, left_eye_ear);
    out->ear_right = eye_aspect_ratio(pts, stride, right_eye_ear);
    out->ear = 0.5 * (out->ear_left + out->ear_right);

    double width = dist(get_pt(pts, stride, MOUTH_LEFT_CORNER),
                        get_pt(pts, stride, MOUTH_RIGHT_CORNER));
    double height = dist(get_pt(pts, stride, MOUTH_UPPER_MID),
                         get_pt(pts, stride, MOUTH_LOWER_MID));
    out->mar = height / (width + 1e-6);
    out->yawn = out->mar > SM_FATIGUE_YAWN_MAR;

    pt2 le = get_pt(pts, stride, LEFT_EYE_CORNER), re = get_pt(pts, stride, RIGHT_EYE_CORNER);
    double angle = atan2(re.y - le.y, re.x - le.x) * (180.0 / M_PI);
    if (angle < -90.0)
        angle += 180.0;
    else if (angle > 90.0)
        angle -= 180.0;
    out->tilt_deg = angle;

    double nose_chin = dist(get_pt(pts, stride, NOSE_TIP), get_pt(pts, stride, CHIN));
    out->pitch_ratio = nose_chin / (dist(le, re) + 1e-6);
    return SM_OK;
}

/* ---- time statistics ------------------------------------------------------ */

typedef struct {
    double t;
    signed char state; /* 1 closed, 0 open, -1 no face */
} sample;

struct sm_fatigue_tracker {
    sample *s;
    size_t cap, head, n;   /* live samples are s[head .. head+n) */
    double *blink_t;
    size_t bcap, bhead, bn;
    double baseline;
    double t_first_face, t_last;
    bool have_face_time, have_t;
    int run;               /* consecutive closed frames */
    int prev_yawn;
    int blinks, yawns;
};

sm_status sm_fatigue_tracker_init(sm_fatigue_tracker **out, sm_error *err)
{
    sm_fatigue_tracker *tr = calloc(1, sizeof *tr);
    if (!tr)
        return sm_error_set(err, SM_ERR_NOMEM, "fatigue tracker: out of memory");
    tr->cap = 2048;
    tr->bcap = 256;
    tr->s = malloc(tr->cap * sizeof *tr->s);
    tr->blink_t = malloc(tr->bcap * sizeof *tr->blink_t);
    if (!tr->s || !tr->blink_t) {
        sm_fatigue_tracker_free(tr);
        return sm_error_set(err, SM_ERR_NOMEM, "fatigue tracker: out of memory");
    }
    sm_fatigue_tracker_reset(tr);
    *out = tr;
    return SM_OK;
}

void sm_fatigue_tracker_free(sm_fatigue_tracker *tr)
{
    if (!tr)
        return;
    free(tr->s);
    free(tr->blink_t);
    free(tr);
}

void sm_fatigue_tracker_reset(sm_fatigue_tracker *tr)
{
    tr->head = tr->n = 0;
    tr->bhead = tr->bn = 0;
    tr->baseline = SM_FATIGUE_BASELINE_INIT;
    tr->have_face_time = tr->have_t = false;
    tr->run = 0;
    tr->prev_yawn = 0;
    tr->blinks = tr->yawns = 0;
}

/* Appends to a head/count array, compacting or growing as needed; on
 * allocation failure the oldest entry is dropped (statistics degrade, never crash). */
static void push_sample(sm_fatigue_tracker *tr, sample v)
{
    if (tr->head + tr->n == tr->cap) {
        if (tr->head > 0) {
            memmove(tr->s, tr->s + tr->head, tr->n * sizeof *tr->s);
            tr->head = 0;
        } else {
            sample *ns = realloc(tr->s, 2 * tr->cap * sizeof *tr->s);
            if (ns) {
                tr->s = ns;
                tr->cap *= 2;
            } else {
                memmove(tr->s, tr->s + 1, (tr->n - 1) * sizeof *tr->s);
                tr->n--;
            }
        }
    }
    tr->s[tr->head + tr->n++] = v;
}

static void push_blink(sm_fatigue_tracker *tr, double t)
{
    if (tr->bhead + tr->bn == tr->bcap) {
        if (tr->bhead > 0) {
            memmove(tr->blink_t, tr->blink_t + tr->bhead, tr->bn * sizeof *tr->blink_t);
            tr->bhead = 0;
        } else {
            double *nb = realloc(tr->blink_t, 2 * tr->bcap * sizeof *tr->blink_t);
            if (nb) {
                tr->blink_t = nb;
                tr->bcap *= 2;
            } else {
                memmove(tr->blink_t, tr->blink_t + 1, (tr->bn - 1) * sizeof *tr->blink_t);
                tr->bn--;
            }
        }
    }
    tr->blink_t[tr->bhead + tr->bn++] = t;
}

void sm_fatigue_tracker_push(sm_fatigue_tracker *tr, double t, const sm_fatigue_feats *feats,
                             sm_fatigue_stats *stats)
{
    if (!isfinite(t))
        t = tr->have_t ? tr->t_last : 0.0;
    if (tr->have_t && t < tr->t_last)
        t = tr->t_last;
    tr->t_last = t;
    tr->have_t = true;

    double thr = SM_FATIGUE_CLOSED_RATIO * tr->baseline;
    if (thr < SM_FATIGUE_THR_MIN)
        thr = SM_FATIGUE_THR_MIN;
    if (thr > SM_FATIGUE_THR_MAX)
        thr = SM_FATIGUE_THR_MAX;
    bool closed = false;
    signed char state = -1;
    if (feats && isfinite(feats->ear)) {
        if (!tr->have_face_time) {
            tr->t_first_face = t;
            tr->have_face_time = true;
        }
        closed = feats->ear < thr;
        state = closed ? 1 : 0;
        if (closed) {
            if (++tr->run == 2) {
                tr->blinks++;
                push_blink(tr, t);
            }
        } else {
            tr->run = 0;
            tr->baseline += SM_FATIGUE_BASELINE_ALPHA * (feats->ear - tr->baseline);
        }
        if (feats->yawn && !tr->prev_yawn)
            tr->yawns++;
        tr->prev_yawn = feats->yawn != 0;
    } else {
        tr->run = 0;
        tr->prev_yawn = 0;
    }
    push_sample(tr, (sample){t, state});

    double lo = t - SM_FATIGUE_WINDOW_S;
    /* drop samples whose successor starts at or before the window */
    while (tr->n >= 2 && tr->s[tr->head + 1].t <= lo) {
        tr->head++;
        tr->n--;
    }
    while (tr->bn > 0 && tr->blink_t[tr->bhead] <= lo) {
        tr->bhead++;
        tr->bn--;
    }
    if (!stats)
        return;
    double closed_s = 0.0, observed = 0.0;
    for (size_t i = 0; i + 1 < tr->n; i++) {
        const sample *a = &tr->s[tr->head + i];
        if (a->state < 0)
            continue;
        double end = tr->s[tr->head + i + 1].t;
        if (end > a->t + SM_FATIGUE_MAX_HOLD)
            end = a->t + SM_FATIGUE_MAX_HOLD;
        double start = a->t > lo ? a->t : lo;
        if (end <= start)
            continue;
        observed += end - start;
        if (a->state == 1)
            closed_s += end - start;
    }
    memset(stats, 0, sizeof *stats);
    stats->closed = closed;
    stats->threshold = thr;
    stats->observed_s = observed;
    stats->perclos = observed > 0.0 ? closed_s / observed : 0.0;
    stats->blinks = tr->blinks;
    stats->yawns = tr->yawns;
    if (tr->have_face_time) {
        double w = t - tr->t_first_face;
        if (w > SM_FATIGUE_WINDOW_S)
            w = SM_FATIGUE_WINDOW_S;
        if (w >= SM_FATIGUE_MIN_RATE_S)
            stats->blinks_per_min = (double)tr->bn * 60.0 / w;
    }
}

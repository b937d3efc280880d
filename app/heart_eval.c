/* See heart_eval.h. */
#include "heart_eval.h"

#include <math.h>
#include <string.h>

const char *const sm_heart_eval_names[SM_EVAL_N] = {"pos", "chrom", "net", "pos+gate", "chrom+gate"};

static double gt_ref(const double *t, const double *b, size_t n, double at)
{
    if (at <= t[0])
        return b[0];
    if (at >= t[n - 1])
        return b[n - 1];
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return b[lo] + (at - t[lo]) / (t[hi] - t[lo]) * (b[hi] - b[lo]);
}

static double gt_window_mean(const double *t, const double *b, size_t n, double t0, double t1)
{
    double s = 0;
    size_t k = 0;
    /* linear scan from a binary-searched start */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid] < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < n && t[i] <= t1; i++, k++)
        s += b[i];
    return k ? s / (double)k : gt_ref(t, b, n, t1);
}

static void acc_add(sm_heart_acc *a, bool have, double est, double ref)
{
    a->n_points++;
    if (!have || !isfinite(est))
        return;
    a->n_read++;
    double e = est - ref;
    a->sum_abs += fabs(e);
    a->sum_sq += e * e;
    a->sx += est;
    a->sy += ref;
    a->sxx += est * est;
    a->syy += ref * ref;
    a->sxy += est * ref;
}

sm_status sm_heart_eval_clip(const sm_heart_sample *s, size_t n, const double *gt_t, const double *gt_bpm,
                             size_t n_gt, const sm_heart_config *base, sm_heart_acc acc[SM_EVAL_N],
                             sm_error *err)
{
    if (!s || !gt_t || !gt_bpm || n_gt == 0)
        return sm_error_set(err, SM_ERR_ARG, "heart eval: empty input");
    sm_heart *h[2] = {NULL, NULL};
    sm_heart_config c = base ? *base : (sm_heart_config){0};
    sm_status st = SM_OK;
    for (int m = 0; m < 2 && st == SM_OK; m++) {
        c.method = (sm_heart_method)m;
        st = sm_heart_init(&h[m], &c, err);
    }
    double net = NAN;
    for (size_t i = 0; i < n && st == SM_OK; i++) {
        sm_heart_reading r[2];
        for (int m = 0; m < 2; m++)
            sm_heart_push(h[m], &s[i], &r[m]);
        if (isfinite(s[i].bpm_net))
            net = s[i].bpm_net;
        if (!isfinite(s[i].t) || s[i].t < gt_t[0] || s[i].t > gt_t[n_gt - 1])
            continue;
        double ref = gt_window_mean(gt_t, gt_bpm, n_gt, s[i].t - SM_HEART_SPECTRUM_S, s[i].t);
        acc_add(&acc[SM_EVAL_POS], true, r[0].bpm_pos, ref);
        acc_add(&acc[SM_EVAL_CHROM], true, r[1].bpm_chrom, ref);
        acc_add(&acc[SM_EVAL_NET], true, net, ref);
        acc_add(&acc[SM_EVAL_POS_GATE], r[0].valid, r[0].bpm, ref);
        acc_add(&acc[SM_EVAL_CHROM_GATE], r[1].valid, r[1].bpm, ref);
    }
    sm_heart_free(h[0]);
    sm_heart_free(h[1]);
    return st;
}

void sm_heart_acc_merge(sm_heart_acc *into, const sm_heart_acc *a)
{
    into->n_points += a->n_points;
    into->n_read += a->n_read;
    into->sum_abs += a->sum_abs;
    into->sum_sq += a->sum_sq;
    into->sx += a->sx;
    into->sy += a->sy;
    into->sxx += a->sxx;
    into->syy += a->syy;
    into->sxy += a->sxy;
}

sm_heart_stats sm_heart_acc_stats(const sm_heart_acc *a)
{
    sm_heart_stats s = {NAN, NAN, NAN, 0.0, a->n_read};
    if (a->n_points)
        s.coverage = (double)a->n_read / (double)a->n_points;
    if (!a->n_read)
        return s;
    double n = (double)a->n_read;
    s.mae = a->sum_abs / n;
    s.rmse = sqrt(a->sum_sq / n);
    double vx = a->sxx - a->sx * a->sx / n, vy = a->syy - a->sy * a->sy / n;
    double cxy = a->sxy - a->sx * a->sy / n;
    if (vx > 1e-9 * n && vy > 1e-9 * n)
        s.r = cxy / sqrt(vx * vy);
    return s;
}

/* Accuracy of the heart-rate estimators on a replayed trace against contact
 * ground truth (make eval-heart, tests/test_heart.c, docs/HEART.md).
 *
 * Every frame of the trace whose time lies inside the ground truth's span is
 * an evaluation point. The reference at time t is the mean ground-truth rate
 * over [t - SM_HEART_SPECTRUM_S, t] (the window every estimator looks at;
 * the ground truth's own samples in it, else the value interpolated at t).
 * Per estimator, a point counts when the estimator gives a reading there:
 *   pos, chrom        the ungated spectral peak (heart.h bpm_pos / bpm_chrom,
 *                     once a segment holds SM_HEART_MIN_RAW_S s): plain rPPG
 *   net               the seed's UltraLightNet: its newest reading in the
 *                     trace (bpm_net column), held until the next
 *   pos+gate,         the shown reading (heart.h with the tracker and the
 *   chrom+gate        quality gate; valid only)
 * coverage = points with a reading / all points. */
#ifndef SM_HEART_EVAL_H
#define SM_HEART_EVAL_H

#include "heart.h"

#include <stddef.h>

enum { SM_EVAL_POS, SM_EVAL_CHROM, SM_EVAL_NET, SM_EVAL_POS_GATE, SM_EVAL_CHROM_GATE, SM_EVAL_N };
extern const char *const sm_heart_eval_names[SM_EVAL_N];

typedef struct {
    size_t n_points, n_read;
    double sum_abs, sum_sq, sx, sy, sxx, syy, sxy;
} sm_heart_acc;

typedef struct {
    double mae, rmse, r, coverage;
    size_t n;
} sm_heart_stats;

/* Adds one clip (samples in time order, ground truth t[] increasing with
 * bpm[]) to acc[SM_EVAL_N]. */
sm_status sm_heart_eval_clip(const sm_heart_sample *s, size_t n, const double *gt_t, const double *gt_bpm,
                             size_t n_gt, const sm_heart_config *base, sm_heart_acc acc[SM_EVAL_N],
                             sm_error *err);
void sm_heart_acc_merge(sm_heart_acc *into, const sm_heart_acc *a);
sm_heart_stats sm_heart_acc_stats(const sm_heart_acc *a);

#endif

/* Fatigue features from face landmarks (seed/fatigue_module.py, DESIGN 7.2)
 * and their history over time: blinks, PERCLOS, yawns.
 *
 * Per frame (sm_fatigue_features_compute): EAR (mean of both eyes), MAR,
 * yawn flag (MAR > 0.6), head tilt in degrees normalised to [-90, 90] and the
 * pitch ratio nose-chin / eye-corner distance, with the seed's landmark
 * indices and its +1e-6 guards, in frame pixels. Every index used is below
 * 468, so the plain (468) and the refined (478) meshes both work.
 *
 * Over time (sm_fatigue_tracker), driven by frame timestamps, never frame
 * counts (webcams drift away from their nominal rate):
 *   eyes closed   EAR below an adaptive threshold: SM_FATIGUE_CLOSED_RATIO times
 *                 a slow running mean of open-eye EAR, clamped to
 *                 [SM_FATIGUE_THR_MIN, SM_FATIGUE_THR_MAX]; the baseline starts
 *                 at SM_FATIGUE_BASELINE_INIT and adapts only on open frames.
 *   blink         a run of >= 2 consecutive closed frames (counted when the
 *                 run reaches its second frame).
 *   blinks/min    blinks in the last 60 s over min(60 s, time observed);
 *                 0 until 5 s have been observed.
 *   PERCLOS       closed time / observed time over the last 60 s; each sample
 *                 holds its state until the next one, for at most
 *                 SM_FATIGUE_MAX_HOLD s (a longer gap is not observed time).
 *   yawns         rising edges of the yawn flag.
 * A frame without a face ends any closed run and adds no observed time. */
#ifndef SM_FATIGUE_FEATURES_H
#define SM_FATIGUE_FEATURES_H

#include "sm_engine.h"

#include <stdbool.h>
#include <stddef.h>

#define SM_FATIGUE_YAWN_MAR 0.6
#define SM_FATIGUE_WINDOW_S 60.0
#define SM_FATIGUE_MAX_HOLD 1.0
#define SM_FATIGUE_CLOSED_RATIO 0.7
#define SM_FATIGUE_THR_MIN 0.10
#define SM_FATIGUE_THR_MAX 0.25
#define SM_FATIGUE_BASELINE_INIT 0.28
#define SM_FATIGUE_BASELINE_ALPHA 0.02 /* per open frame */
#define SM_FATIGUE_MIN_RATE_S 5.0

typedef struct {
    double ear, mar;      /* ear = mean of left and right */
    double ear_left, ear_right;
    int yawn;             /* mar > 0.6 */
    double tilt_deg;      /* [-90, 90] */
    double pitch_ratio;
} sm_fatigue_feats;

/* pts: n_points points, point i at pts[i*stride] (x) and pts[i*stride+1] (y),
 * in frame pixels (stride 2 for [n][2], 3 for sm_face_result's [n][3]).
 * SM_ERR_ARG when n_points < 468, stride < 2 or a used coordinate is not finite. */
sm_status sm_fatigue_features_compute(const float *pts, int n_points, int stride,
                                      sm_fatigue_feats *out, sm_error *err);

typedef struct {
    bool closed;           /* this frame's eyes are closed */
    double threshold;      /* closed-eye EAR threshold used for this frame */
    double perclos;        /* 0..1 over the last 60 s */
    double observed_s;     /* observed time inside the window */
    double blinks_per_min;
    int blinks;            /* since start */
    int yawns;             /* since start */
} sm_fatigue_stats;

typedef struct sm_fatigue_tracker sm_fatigue_tracker;

sm_status sm_fatigue_tracker_init(sm_fatigue_tracker **out, sm_error *err);
void sm_fatigue_tracker_free(sm_fatigue_tracker *tr);
void sm_fatigue_tracker_reset(sm_fatigue_tracker *tr);
/* t in seconds, non-decreasing (an earlier t is treated as equal to the last);
 * feats NULL = no face in this frame. Fills stats (may be NULL). */
void sm_fatigue_tracker_push(sm_fatigue_tracker *tr, double t, const sm_fatigue_feats *feats,
                             sm_fatigue_stats *stats);

#endif

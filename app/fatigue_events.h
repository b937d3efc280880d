/* Drowsiness events from the fatigue features, calibrated to the person
 * (issue 14, docs/FATIGUE.md has every threshold with its source).
 *
 * Input per frame: a timestamp and, when a face was found, EAR, MAR, the
 * pitch ratio and the face box width (fatigue_features.h); optionally a
 * model's P(drowsy). Everything runs on time, never on frame counts.
 *
 * Calibration (per person)
 *   ear_open   80th percentile of EAR over the last 60 s of calibration
 *              samples (at most one per 40 ms, so 15 and 60 fps weigh time
 *              alike). Once calibrated only frames whose eyes are open feed
 *              it, so a long closure never drags the open level down.
 *   mar_rest   30th percentile of MAR over the same samples outside yawns
 *              (talking opens the mouth about half the time; rest is below).
 *   pitch_base median pitch ratio (for nods).
 *   warm-up    population defaults (EAR 0.28, MAR 0.35) until 2 s of samples,
 *              the person's statistics after that; `calibrated` once 10 s of
 *              samples are in (calib_remaining_s counts down). During warm-up
 *              ear_open never goes below 0.28 (eyes shut from the first frame
 *              must not be learnt as open); it never goes below 0.20 at all.
 *   reset      sm_fatigue_events_recalibrate, a face lost for >= 5 s, or the
 *              face box width changing by more than 1.6x between two face
 *              frames (another person was picked up): back to warm-up.
 * Thresholds, from ear_open / mar_rest, each clamped to sane bounds:
 *   closed     EAR < 0.55 x ear_open  in [0.10, 0.16]   (eye state "closed")
 *   reopen     EAR > 0.60 x ear_open  in [closed + 0.01, 0.18] (hysteresis)
 *   closing    EAR < 0.85 x ear_open  (lids coming down, informational)
 *   P80        EAR <= shut + 0.2 x (ear_open - shut), shut = the person's
 *              learnt shut-eye EAR (median of closure minima, 0.06 before any)
 *   yawn on    MAR > mar_rest + max(0.30, 0.8 x mar_rest)  in [0.55, 1.2]
 *   yawn keep  MAR > mar_rest + 0.5 x (yawn on - mar_rest)
 *
 * Eye state machine: open / closing / closed. Closed starts below the closed
 * threshold and ends only when EAR is above the reopen threshold for 2
 * samples and >= 50 ms, or for >= 150 ms (one noisy frame does not split a
 * closure). Start and end are midpoints between the samples either side of
 * the crossing. Events: blink = closed 50-500 ms (counted at reopening);
 * long closure = closed >= 0.5 s, microsleep = closed >= 1.0 s (each
 * counted once, the moment the closure reaches it).
 * Windows (60 s): PERCLOS (share of observed time at P80), blink rate, mean
 * blink duration; yawns over 5 min, nods and closures over 60 s.
 * Yawn: a candidate when MAR passes "yawn on"; it dies when MAR stays below
 * "keep" for 0.25 s; it becomes a yawn (counted once) after 1.5 s with MAR
 * above "on" for >= 60% of that time; the yawn ends after 0.5 s below
 * "keep"; no new yawn within 4 s of the last one's end.
 * Nod: pitch ratio falls >= 12% below pitch_base and comes back above 95%
 * of it within 2.5 s (a slower or lasting drop is a pose change, not a nod).
 * Level 0..1 = 1 - prod(1 - w_i s_i) over: recent closures (w 1), PERCLOS
 * (0.9), mean blink duration (0.5), yawns (0.8), nods (0.8) and the model
 * (0.15); at least 0.9 while the alert is on. State: alert < 0.35 <= tired
 * < 0.65 <= drowsy, each boundary with 0.05 of hysteresis.
 * Alert: on at once when a closure reaches 1.0 s, held while the eyes stay
 * shut, off 0.5 s after they are confirmed open, or 2 s after the face is
 * lost.
 *
 * Bad input (each tested):
 *   NaN/inf features or face = false: a frame without a face.
 *   face lost or frames missing: an eye closure or yawn survives a gap of up
 *     to 0.5 s (2 s for a yawn: heads tip back and hands cover mouths);
 *     longer, it ends at the last sample that saw it. Gaps over 0.5 s are
 *     not observed time for PERCLOS.
 *   t not finite, stalling or going backwards: the frame is taken to come
 *     one typical frame interval (running mean of recent positive steps,
 *     1/30 s at first) after the last; a later t re-bases on it. So time
 *     never stops and no state can get stuck.
 *   a forward jump: a gap (above).
 *   5 and 60 fps: all durations are midpoints between samples, so a blink
 *     seen in one 5 fps frame lasts one frame interval. */
#ifndef SM_FATIGUE_EVENTS_H
#define SM_FATIGUE_EVENTS_H

#include "sm_engine.h"

#include <stdbool.h>

#define SM_FEV_POP_EAR_OPEN 0.28
#define SM_FEV_POP_MAR_REST 0.35
#define SM_FEV_POP_EAR_SHUT 0.06
#define SM_FEV_CALIB_S 10.0
#define SM_FEV_CALIB_EARLY_S 2.0
#define SM_FEV_WINDOW_S 60.0
#define SM_FEV_YAWN_WINDOW_S 300.0
#define SM_FEV_BLINK_MIN_S 0.05
#define SM_FEV_LONG_S 0.5
#define SM_FEV_MICROSLEEP_S 1.0
#define SM_FEV_RECAL_LOST_S 5.0

typedef enum { SM_EYES_UNKNOWN = 0, SM_EYES_OPEN, SM_EYES_CLOSING, SM_EYES_CLOSED } sm_eye_state;

typedef struct {
    double t;            /* source timestamp, seconds */
    bool face;           /* features below are from a face this frame */
    double ear, mar, pitch_ratio;
    double box_w;        /* face box width in pixels, NaN/0 = unknown */
    double p_model;      /* a model's P(drowsy) this frame, NaN = none */
} sm_fatigue_ev_input;

typedef struct {
    double t;                    /* the clock used (see bad input) */
    bool face;                   /* this frame had usable features */
    sm_eye_state eyes;
    bool eyes_closed;            /* eyes == SM_EYES_CLOSED */
    double closed_s;             /* length of the current closure, 0 when open */
    int blinks, long_closures, microsleeps, yawns, nods; /* since start */
    bool yawning;                /* a counted yawn is in progress */
    double perclos;              /* P80 share of observed time, last 60 s */
    double blinks_per_min;       /* last 60 s; 0 until 10 s observed */
    double blink_ms;             /* mean blink duration, last 60 s; NaN: none */
    double level;                /* 0..1 */
    const char *state;           /* "alert" | "tired" | "drowsy" */
    bool alert;
    bool calibrated;
    double calib_remaining_s;
    double ear_open, ear_closed_thresh, ear_reopen_thresh, ear_p80_thresh, ear_shut;
    double mar_rest, mar_yawn_thresh;
    double model_p;              /* mean of the last 10 model values, NaN: none */
} sm_fatigue_ev_output;

typedef struct sm_fatigue_events sm_fatigue_events;

sm_status sm_fatigue_events_init(sm_fatigue_events **out, sm_error *err);
void sm_fatigue_events_free(sm_fatigue_events *ev);
/* Everything back to the start (counts too). */
void sm_fatigue_events_reset(sm_fatigue_events *ev);
/* Forget the person's calibration (new person); counts and windows stay. */
void sm_fatigue_events_recalibrate(sm_fatigue_events *ev);
/* One frame. in->face false (or EAR/MAR not finite) = no face. out may be NULL. */
void sm_fatigue_events_push(sm_fatigue_events *ev, const sm_fatigue_ev_input *in,
                            sm_fatigue_ev_output *out);
/* "alert" / "tired" / "drowsy" for a level, without hysteresis. */
const char *sm_fatigue_state_label(double level);

#endif

/* What one analysed frame produces: the data contract between the analysis
 * (app/mirror.c), the window (viewer/overlay.c) and the headless JSON
 * (viewer/json.c). Units: pixels of the source frame, seconds, degrees, BPM.
 * A section whose `valid` is false is printed as null in JSON and drawn as
 * "no data" (or "model missing" when `available` is false). */
#ifndef SM_MIRROR_TYPES_H
#define SM_MIRROR_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "face_result.h"

#define SM_MAX_EMOTIONS 8

typedef struct {
    bool available;                /* fatigue features can be computed (face models present) */
    bool valid;
    float ear, mar;
    int yawn;                      /* MAR > 0.6 */
    float tilt_deg, pitch_ratio;
    float p_drowsy;                /* after app.py's fusion rules, mean of the last 10 */
    const char *estimator;         /* "mlp" or "rules" */
    float perclos;                 /* share of the last 60 s with eyes closed, 0..1 */
    float blinks_per_min;
    int yawns;                     /* yawn count since start */
    bool alert;                    /* 10 frames above 0.80 */
    int streak;                    /* consecutive frames with p_drowsy > 0.80 */
    bool eyes_closed;              /* EAR below the adaptive threshold this frame */
    int blinks;                    /* blink count since start */
    /* issue 14 (app/fatigue_events.h); with --fatigue-rules seed: level =
     * p_drowsy, state from it, the rest 0 / false */
    const char *rules;             /* "seed" or "wellness" */
    float level;                   /* 0..1 graded drowsiness */
    const char *state;             /* "alert" | "tired" | "drowsy" */
    float closed_s;                /* length of the current eye closure, 0 when open */
    int microsleeps, long_closures;
    float blink_ms;                /* mean blink duration over the last 60 s (NaN: none) */
    bool calibrated;               /* per-user thresholds learnt */
    float calib_remaining_s;       /* seconds of warm-up left, 0 when calibrated */
    float ear_open, ear_closed_thresh, mar_rest, mar_yawn_thresh; /* the person's thresholds */
    int nods;                      /* forward nods since start */
} sm_fatigue_result;

typedef struct {
    bool available;                /* an emotion model is loaded */
    bool valid;
    int label;                     /* index into labels, -1 when below confidence 0.5 */
    float conf;                    /* max smoothed probability */
    int n_labels;
    const char *labels[SM_MAX_EMOTIONS];
    float probs[SM_MAX_EMOTIONS];  /* mean of the last 10 probability vectors */
    float valence, arousal;
    float gate[2];
    int label_argmax;              /* argmax of probs whatever its confidence (-1: none):
                                      the label app.py's fusion and advisor use */
    const char *model_name;        /* "NovelEmotionModel" or "face-api FaceExpressionNet"
                                      (the model in use; NULL when none) */
    const char *precision;         /* "fp32" or "bf16": the model's arithmetic (NULL when none) */
} sm_emotion_result;

typedef struct {
    bool valid_pos;                /* POS has >= 5 s of signal */
    float bpm_pos, quality_db;
    bool available_net;            /* UltraLightNet loaded */
    bool valid_net;                /* 180 frames buffered */
    float bpm_net;
    bool valid_stress;
    float stress;                  /* 0..100, mean of the last 10 readings */
    const char *stress_level;      /* app.py's wording */
    const char *stress_source;     /* "net" or "pos" */
    float pos_signal_s;            /* length of the current POS trace, s */
    /* issue 15: the one reading the mirror stands behind (docs/HEART.md) */
    bool valid_bpm;                /* a trusted reading is shown */
    float bpm;                     /* the shown reading; while !valid_bpm the last one (NaN: none) */
    const char *source;            /* "pos" | "chrom" | "net" */
    float quality;                 /* 0..1 (NaN under --heart-rules seed) */
    const char *reason;            /* why there is no reading, NULL when valid */
    bool stale;                    /* bpm is older than a few seconds */
    float age_s;                   /* seconds since bpm was trusted */
    bool valid_chrom;              /* CHROM has a raw estimate */
    float bpm_chrom, quality_chrom_db;
    bool valid_baseline;           /* >= 60 s of trusted readings: resting baseline known */
    float baseline_bpm;            /* the person's resting rate (20th percentile of trusted readings) */
    float stress_rel;              /* 0..100 relative to the baseline (docs/HEART.md) */
} sm_heart_result;

typedef struct {
    bool valid;                    /* an action has been taken */
    int action;                    /* 0..2, app.py's RLAgent actions */
    const char *action_text;
    bool has_reward;
    float reward;
    int n_actions, n_rewards;      /* decisions and rewards learnt since start (session counts) */
} sm_advisor_result;

typedef struct {
    double face, fatigue, emotion, heart, advisor, total;
} sm_stage_ms;

typedef struct {
    int64_t frame;                 /* source frame index, 0-based */
    double t;                      /* source timestamp, seconds */
    double wall;                   /* wall clock when analysed, Unix seconds UTC (0 = not set) */
    int width, height;
    sm_face_result face;
    sm_fatigue_result fatigue;
    sm_emotion_result emotion;
    sm_heart_result heart;
    sm_advisor_result advisor;
    sm_stage_ms ms;
} sm_mirror_result;

#endif

/* The per-frame analysis state: app.py's rules applied to what the models
 * produced for one frame, filling sm_mirror_result (mirror_types.h).
 *
 * Per sm_mirror_step, in app.py's order:
 *   heart    the frame goes into the UltraLightNet ring (when a network is
 *            set) and the skin regions into the heart estimator (heart.h).
 *            Default (wellness): heart.bpm is the gated reading of heart.h
 *            (SM_HEART_DEFAULT_METHOD) or a reason; once per second of a
 *            trusted reading, stress = calculate_stress_score(bpm); shown as
 *            the mean of the last 10 such readings and only while the reading
 *            is trusted; the advisor gets it, or 50 without one. After 60 s
 *            of trusted readings a resting baseline (20th percentile) gives
 *            stress_rel as well. The network's reading is shown, not used.
 *            --heart-rules seed (app.py): POS on the skin polygons
 *            (rppg_pos.h); a stress reading is taken on every 10th frame:
 *            from the network once its 180 frames are full, or, without a
 *            network, from the POS BPM once POS is valid;
 *            stress = calculate_stress_score(bpm) (app.py), shown as the mean
 *            of the last 10 readings, 50 for the advisor before any reading.
 *   fatigue  features from the landmarks (or given), the blink/PERCLOS tracker.
 *   emotion  probability vectors of frames with a face are averaged over the
 *            last 10; label = argmax, shown only when its mean >= 0.5
 *            (label_argmax keeps app.py's label for fusion and the advisor);
 *            positivity = P(happy) + P(surprise), labels looked up by name.
 *   fusion   label happy => yawn 0 and MAR min(MAR, 0.30) before the
 *            estimator; P(drowsy) = 1 - MLP output (the MLP's one logistic
 *            output is P(non-drowsy)); without an MLP the rule estimator below;
 *            p *= 1 - 0.4 * positivity; EAR > 0.23, MAR < 0.35, no yawn and
 *            p > 0.5 => p = 0.3; the shown P(drowsy) is the mean of the last
 *            10 values (a first frame without a face contributes 0); streak of
 *            frames above 0.80, alert from 10.
 *   advisor  sm_advisor_step with (label_argmax or "neutral", P(drowsy),
 *            mean stress).
 *
 * Rule estimator (no MLP), documented thresholds of the drowsiness literature:
 *   p = clamp(0.6 * min(PERCLOS / 0.30, 1) + 0.4 * clamp((0.25 - EAR) / 0.10, 0, 1)
 *             + 0.1 * yawn, 0, 1)
 * i.e. PERCLOS 0.15 alone gives 0.3 and 0.30 gives 0.6; shut eyes (EAR <= 0.15)
 * add 0.4; it then goes through the same fusion rules as the MLP's output.
 *
 * All of the above is fatigue_rules SEED. With WELLNESS (the programs'
 * default) the fatigue section comes from app/fatigue_events.h instead:
 * per-person calibration, eye/yawn/nod events, a level and an alert with
 * hysteresis; the MLP (when present) gives P(drowsy) = 1 - output on the raw
 * features, one input of the level (weight 0.15, docs/FATIGUE.md); p_drowsy
 * = the level, alert = the events' alert, perclos / blinks_per_min / yawns /
 * blinks / eyes_closed from the events; the advisor gets the level. */
#ifndef SM_MIRROR_H
#define SM_MIRROR_H

#include "advisor.h"
#include "fatigue_events.h"
#include "fatigue_features.h"
#include "heart.h"
#include "mirror_types.h"
#include "rppg_pos.h"
#include "sm_engine.h"

#define SM_MIRROR_HISTORY 10

/* Which fatigue rules fill sm_fatigue_result. A new sm_mirror has SEED, so
 * app.py's exact behaviour (and its parity tests) need nothing; the programs
 * call sm_mirror_set_fatigue_rules with WELLNESS unless --fatigue-rules seed. */
typedef enum { SM_FATIGUE_RULES_SEED = 0, SM_FATIGUE_RULES_WELLNESS = 1 } sm_fatigue_rules;
#define SM_MIRROR_ALERT_P 0.80
#define SM_MIRROR_ALERT_FRAMES 10
#define SM_MIRROR_CONF_THRESH 0.5

/* x = [ear, mar, yawn_flag, tilt_deg, pitch_ratio]; *p_non_drowsy = the MLP's
 * logistic output (class 1, "non-drowsy"). */
typedef sm_status (*sm_fatigue_mlp_fn)(void *ctx, const double x[5], double *p_non_drowsy,
                                       sm_error *err);

typedef struct {
    bool face_available;            /* face models loaded: fatigue can be computed */
    int n_labels;                   /* 0: no emotion model */
    const char *const *labels;      /* the model's label order (copied) */
    sm_fatigue_mlp_fn mlp;          /* NULL: rule estimator */
    void *mlp_ctx;
    sm_rppg_net_fn net;             /* NULL: stress from POS */
    void *net_ctx;
    sm_advisor *advisor;            /* NULL: no advisor; not owned */
} sm_mirror_config;

typedef struct {
    int64_t frame;
    double t;                       /* seconds, from the source */
    int width, height;
    const uint8_t *rgb;             /* packed RGB8, NULL = no pixels (no heart rate) */
    size_t stride;
    const sm_face_result *face;     /* NULL or !valid: no face */
    const sm_fatigue_feats *feats;  /* optional: features computed elsewhere */
    const float *emotion_probs;     /* n_labels, NULL: no emotion result this frame */
    float valence, arousal, gate[2];
} sm_mirror_input;

typedef struct sm_mirror sm_mirror;

sm_status sm_mirror_init(sm_mirror **out, const sm_mirror_config *cfg, sm_error *err);
void sm_mirror_free(sm_mirror *m);
/* Fills out (all of it). Errors only for bad arguments; a failing network is
 * logged and its panel marked invalid. */
sm_status sm_mirror_step(sm_mirror *m, const sm_mirror_input *in, sm_mirror_result *out,
                         sm_error *err);

/* Chooses the fatigue rules; the fatigue state starts over. SM_ERR_ARG for
 * an unknown value, SM_ERR_NOMEM. Call before the first step (not thread-safe). */
sm_status sm_mirror_set_fatigue_rules(sm_mirror *m, sm_fatigue_rules rules, sm_error *err);

/* Forget the person's fatigue calibration (key `c`): the next frames are a
 * new warm-up. Safe from any thread; applied at the next sm_mirror_step. */
void sm_mirror_recalibrate(sm_mirror *m);
/* Heart rules, before the first step: true = heart.h's gated reading and
 * stress from it (smartmirror's default, --heart-rules wellness); false (the
 * state after init) = app.py's heart and stress exactly (--heart-rules seed,
 * the parity tests). */
void sm_mirror_set_heart_wellness(sm_mirror *m, bool on);

/* The heart-rate trace sample of the last sm_mirror_step (per-region skin
 * colour, face box, light, the network's reading if one was made): what
 * `--heart-trace` writes. face = false when the frame had no usable face. */
const sm_heart_sample *sm_mirror_heart_sample(const sm_mirror *m);

/* The estimator behind heart.bpm by default (--heart-rules wellness), chosen
 * by `make eval-heart` (docs/HEART.md). */
#define SM_HEART_DEFAULT_METHOD SM_HEART_POS

/* app.py calculate_stress_score; prediction_error 0 at run time. */
double sm_stress_score(double bpm, double prediction_error);
/* "LOW (Relaxed)" < 30 <= "MODERATE" < 60 <= "HIGH (Stressed)" (the seed's wording). */
const char *sm_stress_level(double score);
/* The rule estimator above. */
double sm_fatigue_rules_p(double perclos, double ear, int yawn);
/* app.py's advisor action texts. */
const char *sm_advisor_action_text(int action);

#endif

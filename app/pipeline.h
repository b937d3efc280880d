/* pipeline: the whole per-frame analysis of the mirror (DESIGN 1, 7, 8), from
 * an RGB8 frame to an sm_mirror_result.
 *
 *   face      sm_face_tracker (BlazeFace when not tracking, FaceMesh 478/468)
 *             every frame;
 *   fatigue   features from the raw landmarks every frame, then the fatigue
 *             MLP (sklearn Pipeline) or, without one, the rule estimator of
 *             mirror.h;
 *   emotion   NovelEmotionModel on app.py's square landmark crop
 *             (crop_face_from_landmarks, expand 1.0; bilinear resize to the
 *             model's input.size, /255), or, when the user's model is absent,
 *             the default face-api FaceExpressionNet on its own preprocessing
 *             (emotion_fer.h: a face-api-like box from the landmarks), at
 *             emotion_hz on the frame clock;
 *             synchronous in file mode (deterministic output), on its own
 *             worker thread in live mode (latest-crop mailbox: a slow model
 *             never stalls face and fatigue; its newest result is used);
 *   heart     POS on the landmark skin polygons (inside sm_mirror_step) and,
 *             with an UltraLightNet, the seed's 36x36 centre-crop ring: one
 *             frame's features per frame (incremental stream), a reading
 *             every 10 frames once 180 are held (equal to a full run);
 *   fusion    sm_mirror_step: app.py's rules, stress, alert, advisor.
 * Every model is optional: a missing or bad file turns its panel off and adds
 * a line to the notes; init fails only on bad arguments or no memory.
 *
 * Threads: one pool of `threads` (0 = sm_threads_default()) shared by every
 * model in file mode, where the models run one after the other. In live mode
 * with an emotion model, the threads are split: the emotion worker gets
 * max(1, threads / 2), face, fatigue and heart the rest (at least 1), so the
 * two never contend for one pool and the total stays `threads` (with 1 the
 * worker and the analysis share the core).
 * The face networks run a few milliseconds each, where a second thread can cost
 * more than it gains (a busy machine, a worker on a core that is taken): with
 * an analysis pool of 2+ threads and face_threads 0, init times the detector
 * and the mesh network on a fixed input, 1 thread against the pool, alternating
 * (SM_FACE_CALIBRATION_ROUNDS each, after one warm-up run each), and keeps the
 * pool for them only when its median is lower (about 30 ms once; the outputs
 * are the same bits either way). info.face_threads says what it chose.
 *
 * Stage times (sm_mirror_result.ms): face = tracker; fatigue = features + MLP;
 * emotion = crop + network when it ran on this frame (live: the worker's last
 * run); heart = UltraLightNet stream + the rest of sm_mirror_step (POS,
 * fusion and the advisor, which is a table lookup); advisor = 0 (inside
 * heart); total = the whole call. */
#ifndef SM_PIPELINE_H
#define SM_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emotion_effnet.h"
#include "mirror_types.h"
#include "sm_engine.h"

#define SM_PIPELINE_EMOTION_HZ 10.0

/* Timed runs per side of the face thread calibration (odd: a true median). */
#define SM_FACE_CALIBRATION_ROUNDS 5

typedef struct {
    /* Model files; NULL or "" = not wanted (no note). A path that cannot be
     * opened or loaded disables its panel with a note. */
    const char *face_detector, *face_mesh; /* both needed for face + fatigue + POS */
    const char *emotion;        /* NovelEmotionModel .smw (the user's; takes over when it loads) */
    const char *emotion_default;/* the public default, emotion_fer.smw: used when emotion is absent or bad */
    const char *emotion_box_rule; /* default model's face box rule (emotion_fer.h); NULL = "faceapi" */
    const char *fatigue_mlp;    /* sklearn_mlp_pipeline .smw; absent: rule estimator */
    const char *rppg;           /* UltraLightNet .smw; absent: stress from POS */
    bool advisor;               /* run the Q-learning advisor */
    const char *qtable;         /* NULL: default path (advisor.h); "": in memory only */
    int threads;                /* 0 = sm_threads_default() */
    int face_threads;           /* face models: 0 = measured at start-up (the faster of one
                                   thread and the analysis pool, see below); 1 = one thread;
                                   > 1 = the analysis pool */
    bool live;                  /* camera / --realtime: emotion on its own worker */
    double emotion_hz;          /* 0 = SM_PIPELINE_EMOTION_HZ; < 0 = every frame */
    bool fatigue_seed_rules;    /* app.py's fatigue fusion (--fatigue-rules seed); false:
                                   the calibrated detector of fatigue_events.h */
    bool heart_wellness;        /* the gated heart.bpm and stress from it (smartmirror's default,
                                   docs/HEART.md); false: app.py's heart and stress exactly */
    const char *heart_trace;    /* NULL: none; else the per-frame heart samples are written
                                   there as CSV (heart_trace.h) when the pipeline is freed */
} sm_pipeline_config;

typedef struct sm_pipeline sm_pipeline;

sm_status sm_pipeline_init(sm_pipeline **out, const sm_pipeline_config *cfg, sm_error *err);
void sm_pipeline_free(sm_pipeline *p);
/* What is off and why, one line per problem ("" when everything loaded). */
const char *sm_pipeline_notes(const sm_pipeline *p);

/* Analyses one frame (packed RGB8, rows stride bytes apart; frames in time
 * order). Fills *out completely. Errors only for bad arguments. */
sm_status sm_pipeline_process(sm_pipeline *p, const uint8_t *rgb, int width, int height,
                              size_t stride, int64_t index, double t, sm_mirror_result *out,
                              sm_error *err);

/* Forget the person's fatigue calibration (sm_mirror_recalibrate; any thread). */
void sm_pipeline_recalibrate(sm_pipeline *p);

/* What the pipeline has: face, emotion, MLP, UltraLightNet, advisor. */
typedef struct {
    bool face, emotion, fatigue_mlp, rppg_net, advisor;
    const char *emotion_model;  /* "NovelEmotionModel", "face-api FaceExpressionNet" or "" */
    const char *emotion_precision; /* "fp32" or "bf16": what its GEMM convs run in (the default
                                      model's per-model rule, sm_fer_load_file; "" without emotion) */
    int n_landmarks;            /* 478 or 468 (0 without face) */
    size_t threads, emotion_threads;
    size_t face_threads;        /* the face models' threads (1 or threads) */
    double face_ms_1, face_ms_pool; /* the calibration's medians (ms, detector + mesh); 0 when
                                       it did not run */
} sm_pipeline_info;
sm_pipeline_info sm_pipeline_get_info(const sm_pipeline *p);

/* The newest raw emotion output (before smoothing), the crop box it was run
 * on ([x1, y1, x2, y2), frame pixels) and the frame it came from. False when
 * none yet. In live mode it is the worker's latest. */
bool sm_pipeline_last_emotion(sm_pipeline *p, sm_emotion_output *out, int box[4], int64_t *frame);

/* app.py crop_face_from_landmarks(expand 1.0) on n points (x, y at
 * pts[i * pt_stride]): the box [x1, y1, x2, y2). False when empty. */
bool sm_pipeline_emotion_box(const float *pts, int n, int pt_stride, int width, int height,
                             int box[4]);

/* Live mode only: waits until the emotion worker is idle with no crop pending
 * (tests). */
void sm_pipeline_drain(sm_pipeline *p);

#endif

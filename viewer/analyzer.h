/*
 * analyzer.h: the hook between the viewer and the per-frame analysis.
 *
 * The viewer never analyses anything itself: it hands each frame to an
 * sm_viewer_analyzer and renders / serialises the sm_mirror_result
 * (app/mirror_types.h) it gets back. This header is the interface only: the
 * real pipeline (app/pipeline.c) is adapted to it in analyzer_pipeline.[ch],
 * which includes this header (never the other way round); the default
 * analyzer here (a placeholder kept for tests) reports every section as
 * "model missing" (available = false) and the face as not found.
 *
 * Threading: init and free run on the main thread; process runs on the
 * analysis thread only (one frame at a time, in source order for files).
 */
#ifndef SM_VIEWER_ANALYZER_H
#define SM_VIEWER_ANALYZER_H

#include "mirror_types.h"
#include "source.h"

/* What the command line asked for; NULL paths mean "the default under models_dir":
 *   face_detection_short_range.smw, face_landmark_with_attention.smw (refine) or
 *   face_landmark.smw (from `make models`), emotion.smw (NovelEmotionModel),
 *   fatigue_mlp.smw (scikit-learn Pipeline), ultralight_rppg.smw (UltraLightNet). */
#define SM_MODEL_FACE_DETECTOR "face_detection_short_range.smw"
#define SM_MODEL_FACE_MESH_REFINED "face_landmark_with_attention.smw"
#define SM_MODEL_FACE_MESH "face_landmark.smw"
#define SM_MODEL_EMOTION "emotion.smw"
#define SM_MODEL_EMOTION_DEFAULT "emotion_fer.smw" /* face-api FaceExpressionNet (make models) */
#define SM_MODEL_FATIGUE "fatigue_mlp.smw"
#define SM_MODEL_RPPG "ultralight_rppg.smw"
typedef struct {
    const char *models_dir;     /* default "models" */
    const char *emotion, *fatigue, *rppg, *face_detector, *face_mesh;
    bool refine;                /* 478 landmarks with iris refinement (off: --no-refine) */
    int threads;                /* 0 = default */
    bool live;                  /* frames arrive live (camera, --realtime): models may lag */
    double emotion_hz;          /* emotion runs per second of frame time (0 = default 10, < 0 every frame) */
    const char *qtable;         /* advisor Q-table (NULL = default path, "" = not saved) */
    bool fatigue_seed_rules;    /* --fatigue-rules seed (default wellness) */
    bool heart_seed;            /* --heart-rules seed: app.py's heart and stress (default wellness) */
    const char *heart_trace;    /* --heart-trace FILE.csv: per-frame heart samples (NULL = none) */
} sm_viewer_models;

typedef struct sm_viewer_analyzer sm_viewer_analyzer;
struct sm_viewer_analyzer {
    const char *name;
    void *ctx;                  /* the implementation's state */
    /* Loads what it can. A missing or bad model file is NOT an error: that
     * section reports available = false and `notes` says why (one line per
     * problem). Returns an error only when nothing can run at all. */
    sm_status (*init)(sm_viewer_analyzer *a, const sm_viewer_models *models, sm_error *err);
    /* Fills *out completely for this frame (index, t, size, every section,
     * timings in ms). Errors are reported and the frame is skipped. */
    sm_status (*process)(sm_viewer_analyzer *a, const sm_frame *frame, sm_mirror_result *out, sm_error *err);
    void (*free)(sm_viewer_analyzer *a); /* must accept an analyzer whose init failed */
    /* Optional (NULL: none): forget the person's fatigue calibration (key c);
     * called from the window's thread while process may run. */
    void (*recalibrate)(sm_viewer_analyzer *a);
    char notes[1024];           /* "emotion: models/emotion.smw missing\n..." for the user */
};

/* models->X or models_dir/default (refine picks the mesh) into buf. */
const char *sm_viewer_model_path(const sm_viewer_models *m, const char *which, char *buf, size_t cap);
/* Fills the parts of a result every analyzer shares: frame index, t, size;
 * every section invalid and unavailable; timings zero. */
void sm_mirror_result_reset(sm_mirror_result *r, const sm_frame *frame);

#endif

/*
 * fatigue_mlp.h: scikit-learn Pipeline(StandardScaler, MLPClassifier) (or a
 * bare MLPClassifier) computing predict_proba exactly as scikit-learn does,
 * in float64.
 *
 *   z0 = (x - mean_) / scale_                (each part skipped when absent)
 *   zi = act(z(i-1) @ coefs_[i-1] + intercepts_[i-1])   hidden layers
 *   out: logistic with one output  -> proba = [1 - p, p]   (binary)
 *        logistic with k>1 outputs -> proba = expit(z)     (multilabel)
 *        softmax                   -> proba = exp(z - max) / sum
 *        identity                  -> the raw outputs (regressor-style)
 *   hidden activations: relu, tanh, logistic, identity.
 * Columns of proba follow mlp.classes (as sklearn's classes_). The layers run
 * through the engine's MLP op (sm_mlp_*, float64); this file reads and checks
 * the file and adds the scaler and sklearn's binary [1 - p, p] columns.
 *
 * .smw convention (written by smw-convert, arch "sklearn_mlp_pipeline"):
 *   F64 scaler.mean_ [n_features], scaler.scale_ [n_features]  (each optional)
 *   F64 mlp.coefs_.<i> [in,out], mlp.intercepts_.<i> [out], i = 0..n_layers-1
 *   meta mlp.n_layers u32 (weight matrices), mlp.n_features u32,
 *        mlp.activation string, mlp.out_activation string,
 *        mlp.classes i64 array (required unless out_activation is identity)
 * Every tensor and key is checked at load; errors name the file and tensor
 * with expected versus found. The model copies what it needs, so the sm_smw
 * may be freed after loading.
 *
 * Units (fatigue use): features [ear, mar, yawn_flag, tilt_deg, pitch_ratio];
 * for the seed checkpoint column 0 = P(drowsy), column 1 = P(non-drowsy).
 */
#ifndef SM_FATIGUE_MLP_H
#define SM_FATIGUE_MLP_H

#include "sm_engine.h"
#include "sm_kernels.h"

#define SM_FATIGUE_MLP_ARCH "sklearn_mlp_pipeline"
#define SM_MLP_MAX_LAYERS 16
#define SM_MLP_MAX_WIDTH 65536

typedef struct sm_fatigue_mlp sm_fatigue_mlp;

sm_status sm_fatigue_mlp_load(const sm_smw *f, sm_fatigue_mlp **out, sm_error *err);
sm_status sm_fatigue_mlp_load_file(const char *path, sm_fatigue_mlp **out, sm_error *err);
void sm_fatigue_mlp_free(sm_fatigue_mlp *m);

uint32_t sm_fatigue_mlp_n_features(const sm_fatigue_mlp *m);
/* Number of proba columns (= classes, or outputs for identity). */
uint32_t sm_fatigue_mlp_n_outputs(const sm_fatigue_mlp *m);
/* FLOPs of one row (multiply-add = 2; the activations not counted). */
double sm_fatigue_mlp_flops(const sm_fatigue_mlp *m);
/* The class labels (n_outputs entries), or NULL when the file has none. */
const int64_t *sm_fatigue_mlp_classes(const sm_fatigue_mlp *m);

/* x: n rows of n_features doubles (row-major); proba: n rows of n_outputs.
 * Uses the model's scratch buffer: one call at a time per model. */
void sm_fatigue_mlp_predict_proba(sm_fatigue_mlp *m, const double *x, size_t n, double *proba);

#endif

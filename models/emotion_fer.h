/*
 * emotion_fer.h: the default facial-expression model (face-api's
 * FaceExpressionNet from @vladmandic/face-api@1.7.15, imported by smw-convert
 * into models/emotion_fer.smw), its preprocessing exactly as the library does
 * it, the face box rule that stands in for face-api's detector box, and the
 * label lookups by name shared by every emotion model. docs/EMOTION.md.
 *
 * Preprocessing (face-api 1.7.15 source, tensor input path, verified against
 * the library by tests/gen/make_emotion_refs.sh):
 *   1. box (x, y, w, h) in frame pixels, float: extractFaceTensors clips it to
 *      the image (x' = max(x, 0), w' = min(x + w - x', W - x'), same for y) and
 *      floors x', y', w', h' (Box.floor), then slices the RGB pixels;
 *   2. padToSquare(centred): the shorter side is padded with black (0) to the
 *      longer; d = |h - w|, round(d / 2) (half up) after, the rest before;
 *   3. resizeBilinear to 112 x 112, alignCorners false, halfPixelCenters false
 *      (src = dst * in / 112, floor/ceil clamped to the last pixel), computed in
 *      double and stored as float32 (tfjs CPU backend);
 *   4. (x - [122.782, 117.001, 104.298]) / 255, each step rounded to float32.
 * The network then runs on the shared TFLite/TF.js graph executor
 * (sm_graph.h); the softmax is part of the converted graph.
 *
 * Face box from the 478 MediaPipe landmarks (no second face detector): let
 * [x0, x1] x [y0, y1] be the landmarks' bounding box, W = x1 - x0, H = y1 - y0,
 * cx, cy its centre. A rule gives the box
 *   centre (cx + dx * W, cy + dy * H), size (sw * W, sh * H)
 * and, for a square rule, side max of the two (no padding then). The default
 * rule's constants were fitted to face-api's SSD MobileNet v1 boxes on the
 * evaluation photos (docs/EMOTION.md gives the fit and the alternatives
 * measured by `make eval-emotion`).
 */
#ifndef SM_EMOTION_FER_H
#define SM_EMOTION_FER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"
#include "sm_kernels.h"

#define SM_FER_SIZE 112
#define SM_FER_MAX_CLASSES 16
#define SM_FER_MODEL_NAME "face-api FaceExpressionNet"

/* ---- face box rules ---------------------------------------------------------------- */

typedef struct {
    const char *name;  /* "faceapi" (default), "faceapi-square", "landmarks", ... */
    float dx, dy;      /* centre offset in units of the landmark extents W, H */
    float sw, sh;      /* box width / W, height / H */
    bool square;       /* side = max(sw * W, sh * H) (no black padding) */
} sm_fer_box_rule;

/* The rules known by name (the first is the default); NULL-terminated. */
const sm_fer_box_rule *sm_fer_box_rules(void);
/* The rule called name, or NULL. */
const sm_fer_box_rule *sm_fer_box_rule_find(const char *name);

/* x0, y0, x1, y1 of n points (x, y at pts[i * pt_stride]); false for no points or
 * a non-finite coordinate. Shared by both emotion crops (this one and the pipeline's). */
bool sm_landmarks_extent(const float *pts, int n, int pt_stride, float ext[4]);
/* The box (x, y, w, h; frame pixels, float, may extend past the frame) of n
 * points (x, y at pts[i * pt_stride]). False when n < 1, a point is not
 * finite or the extents are empty. */
bool sm_fer_face_box(const float *pts, int n, int pt_stride, const sm_fer_box_rule *rule, float box[4]);

/* ---- preprocessing --------------------------------------------------------------------- */

/* Step 1 alone: the crop rectangle [x1, x2) x [y1, y2) face-api slices for
 * box in a width x height frame. False when it is empty. */
bool sm_fer_clip_box(const float box[4], int width, int height, int crop[4]);

/* face-api's crop, pad, resize and normalisation of box in a packed RGB8
 * image into dst (SM_FER_SIZE^2 * 3 floats, NHWC), reading the black padding
 * virtually (no allocation). SM_ERR_ARG when the box, once clipped and
 * floored, is empty (face-api then skips the face). */
sm_status sm_fer_preprocess(const uint8_t *rgb, int width, int height, size_t stride, const float box[4],
                            float *dst, sm_error *err);

/* ---- the model ----------------------------------------------------------------------------- */

typedef struct sm_fer sm_fer;

/* Loads a converted FaceExpressionNet (or any graph .smw with one input
 * [1,112,112,3] and one output [1,n] of probabilities and emotion.labels
 * with n names). pool may be NULL; it must outlive the model. Its precision
 * is the per-model default: sm_precision_choose(sm_precision_user(),
 * sm_fer_qualifies_bf16(file), sm_precision_native()), i.e. BF16 only for
 * the measured FaceExpressionNet on a CPU with avx512_bf16 when the user
 * chose nothing. */
sm_status sm_fer_load_file(const char *path, sm_threadpool *pool, sm_fer **out, sm_error *err);
/* The same at a given precision for this model alone (FP32 or BF16; DEFAULT:
 * the per-model default above); the process-wide precision is not touched. */
sm_status sm_fer_load_file_at(const char *path, sm_threadpool *pool, sm_precision precision, sm_fer **out,
                              sm_error *err);
/* Whether f holds the weights whose BF16 accuracy docs/PERFORMANCE.md measured
 * and found within issue 17's bar (face-api 1.7.15's FaceExpressionNet: its
 * architecture and the SHA-256 of face_expression_model.bin, as smw-convert
 * recorded them). Any other file through this loader is not judged: FP32. */
bool sm_fer_qualifies_bf16(const sm_smw *f);
/* What the model's GEMM convs run in: SM_PRECISION_FP32 or SM_PRECISION_BF16
 * (DEFAULT for NULL). */
sm_precision sm_fer_precision(const sm_fer *m);
void sm_fer_free(sm_fer *m);
int sm_fer_n_classes(const sm_fer *m);
const char *sm_fer_label(const sm_fer *m, int i);
/* The model's name for the panel: metadata model.name when present, else
 * SM_FER_MODEL_NAME. */
const char *sm_fer_name(const sm_fer *m);

/* Preprocesses box of the frame and runs: probs (n_classes). */
sm_status sm_fer_run_rgb8(sm_fer *m, const uint8_t *rgb, int width, int height, size_t stride,
                          const float box[4], float *probs, sm_error *err);

/* ---- labels by name ------------------------------------------------------------------------ */

/* The canonical name of an emotion label, whatever model it comes from:
 * neutral, happy, sad, angry, fear, disgust, surprise, contempt, tired (the
 * seed's NovelEmotionModel names; face-api's fearful / disgusted / surprised
 * and the FER-2013 style happiness / sadness / anger map onto them). Unknown
 * labels are returned unchanged. Case-insensitive. */
const char *sm_emotion_canonical(const char *label);
/* Index of the label whose canonical name is canonical's, or -1. */
int sm_emotion_find_label(const char *const *labels, int n, const char *name);

/* Valence and arousal in [-1, 1] from class probabilities: the probability-
 * weighted mean of each class's circumplex coordinates (docs/EMOTION.md cites
 * where they come from); classes without coordinates are left out and the
 * weights renormalised. False (and 0, 0) when no class has coordinates. */
bool sm_emotion_valence_arousal(const char *const *labels, const float *probs, int n, float *valence,
                                float *arousal);

#endif

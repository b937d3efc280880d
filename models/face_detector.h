/* face_detector: MediaPipe BlazeFace short range (face_detection_short_range.smw)
 * with the official pre/post-processing (shared/reference/FACE_MODELS.md 3-4):
 * letterboxed 128x128 input in [-1,1] (bilinear at pixel centres, zero border
 * = -1), the network (sm_graph), 896 SSD anchors, sigmoid scores (logits
 * clamped to +-100), score >= 0.5, weighted NMS (IoU > 0.3), letterbox removal.
 * Results are in frame pixels. */
#ifndef SM_FACE_DETECTOR_H
#define SM_FACE_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

#define SM_FACE_DETECTOR_ARCH "mediapipe_face_detector"
#define SM_FACE_DET_SIZE 128
#define SM_FACE_DET_ANCHORS 896
#define SM_FACE_DET_KEYPOINTS 6
#define SM_FACE_DET_MAX 16 /* detections returned at most (after NMS) */

/* Keypoints: 0 and 1 the eyes (0 on the image left), 2 nose tip, 3 mouth
 * centre, 4 and 5 ear tragions. */
typedef struct {
    float score;                       /* sigmoid of the top logit of the NMS group */
    float xmin, ymin, width, height;   /* frame pixels */
    float kp[SM_FACE_DET_KEYPOINTS][2];
} sm_face_detection;

typedef struct sm_face_detector sm_face_detector;

/* Opens path (a .smw with architecture mediapipe_face_detector) and prepares it. */
sm_status sm_face_detector_load(const char *path, sm_face_detector **out, sm_error *err);
void sm_face_detector_free(sm_face_detector *d);

/* Runs on an RGB8 frame (rows stride bytes apart); writes up to max detections,
 * highest score first, returns their count. pool may be NULL. */
size_t sm_face_detector_detect(sm_face_detector *d, const uint8_t *rgb, int width, int height, size_t stride,
                               sm_threadpool *pool, sm_face_detection *out, size_t max);

/* The network alone on a 1x128x128x3 input (tests, smw-run): outputs
 * regressors [896,16] and classificators [896] (pointers into the detector,
 * valid until the next call). */
void sm_face_detector_run_tensor(sm_face_detector *d, const float *input, sm_threadpool *pool,
                                 const float **regressors, const float **classificators);

/* ---- the pieces (public for the tests) ------------------------------------------- */

/* The letterboxed detector input: out is 128*128*3 floats, NHWC. */
void sm_face_letterbox(const uint8_t *rgb, int width, int height, size_t stride, float *out);

/* anchors[i] = (x, y) centre of anchor i in [0,1] (size fixed at 1). */
void sm_face_anchors(float anchors[SM_FACE_DET_ANCHORS][2]);

/* Decoded candidate in letterboxed tensor units [0,1]. */
typedef struct {
    float score;
    float xmin, ymin, xmax, ymax;
    float kp[SM_FACE_DET_KEYPOINTS][2];
} sm_face_candidate;

/* MediaPipe's weighted NMS: sorted by score; each group is the remaining boxes
 * with IoU > iou_thresh to the top one, averaged with score weights; the score
 * stays the top one. cand is reordered; returns the number of outputs (<= max). */
size_t sm_face_weighted_nms(sm_face_candidate *cand, size_t n, float iou_thresh, sm_face_candidate *out,
                            size_t max);

/* Letterbox removal of one tensor-unit point to frame pixels. */
void sm_face_unletterbox(float xt, float yt, int width, int height, float *x_px, float *y_px);

#endif

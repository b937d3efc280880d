/* face_mesh: MediaPipe face landmarks (face_landmark.smw: 468 points;
 * face_landmark_with_attention.smw: 478 points with refined lips, eyes and
 * irises) and the face tracker, with the official pre/post-processing
 * (shared/reference/FACE_MODELS.md 3-4):
 *   ROI   from a detection (eye keypoints rotation, square_long, x1.5) or from
 *         the previous landmarks (bbox of all points, rotation 33 -> 263, same);
 *   crop  192x192, rotated bilinear, edge replication, values c/255;
 *   out   presence = sigmoid(flag) (face kept when >= 0.5), landmarks /192
 *         (refined per MediaPipe's LandmarksRefinementCalculator), projected
 *         back to frame pixels: [x, y, z] with z in the scale of x.
 * The tracker runs the detector only when it has no face, keeps the most
 * confident detection, then follows the face with the landmark ROI and goes
 * back to the detector when the presence drops below 0.5. */
#ifndef SM_FACE_MESH_H
#define SM_FACE_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "face_detector.h"
#include "face_mp_hooks.h"
#include "face_result.h"
#include "sm_engine.h"
#include "sm_graph.h"

#define SM_FACE_MESH_ARCH "mediapipe_face_mesh"
#define SM_FACE_MESH_ATTENTION_ARCH "mediapipe_face_mesh_attention"
#define SM_FACE_MESH_SIZE 192
#define SM_FACE_MESH_POINTS 468
#define SM_FACE_MESH_REFINED_POINTS 478

/* Rotated rectangle in frame pixels; rotation in radians, clockwise on screen
 * (y points down). */
typedef struct {
    float cx, cy, w, h, rotation;
} sm_face_roi;

typedef struct {
    float presence;            /* sigmoid of the face flag */
    int n_points;              /* 468 or 478 */
    float pts[SM_FACE_MESH_REFINED_POINTS][3]; /* frame pixels (z in x's scale) */
    sm_face_roi roi;           /* the crop the network saw */
} sm_face_landmarks;

typedef struct sm_face_mesh sm_face_mesh;

/* Opens a face_landmark(.smw) or face_landmark_with_attention(.smw). The
 * attention model needs the MediaPipe custom ops (sm_face_custom_ops). */
sm_status sm_face_mesh_load(const char *path, sm_face_mesh **out, sm_error *err);
void sm_face_mesh_free(sm_face_mesh *m);
int sm_face_mesh_n_points(const sm_face_mesh *m);

/* Crops roi out of the frame, runs the network and projects the landmarks.
 * Fills out (presence always); returns true when presence >= 0.5. */
bool sm_face_mesh_process(sm_face_mesh *m, const uint8_t *rgb, int width, int height, size_t stride,
                          const sm_face_roi *roi, sm_threadpool *pool, sm_face_landmarks *out);

/* The network on a ready 1x192x192x3 input; landmarks in 192-input units
 * (n_points x 3; the refined points' z as MediaPipe sets it) and the flag logit. */
void sm_face_mesh_run_tensor(sm_face_mesh *m, const float *input, sm_threadpool *pool,
                             float pts192[SM_FACE_MESH_REFINED_POINTS][3], float *flag_logit);

/* ---- the pieces (public for the tests) ------------------------------------------------ */

sm_face_roi sm_face_roi_from_detection(const sm_face_detection *d, int width, int height);
sm_face_roi sm_face_roi_from_landmarks(const float (*pts)[3], size_t n, int width, int height);
/* out: 192*192*3 floats, NHWC, c/255. */
void sm_face_mesh_crop(const uint8_t *rgb, int width, int height, size_t stride, const sm_face_roi *roi,
                       float *out);
/* Crop units (0..192) to frame pixels. */
void sm_face_project(const float (*in)[3], size_t n, const sm_face_roi *roi, float (*out)[3]);

/* ---- tracker ---------------------------------------------------------------------------- */

typedef struct sm_face_tracker sm_face_tracker;

/* Paths of the models in dir: face_detection_short_range.smw and
 * face_landmark_with_attention.smw (refine) or face_landmark.smw. */
void sm_face_model_paths(const char *dir, bool refine, char *det, size_t det_cap, char *mesh, size_t mesh_cap);

sm_status sm_face_tracker_init(const char *detector_path, const char *mesh_path, sm_face_tracker **out,
                               sm_error *err);
void sm_face_tracker_free(sm_face_tracker *t);
/* Forget the face: the next frame runs the detector. */
void sm_face_tracker_reset(sm_face_tracker *t);
/* One frame. Fills res (valid, score = presence, box = landmark bounding box,
 * n_landmarks, landmarks in frame pixels); returns res->valid. */
bool sm_face_tracker_process(sm_face_tracker *t, const uint8_t *rgb, int width, int height, size_t stride,
                             sm_threadpool *pool, sm_face_result *res);
/* Details of the last frame: whether the detector ran, its best detection
 * (when it ran and found one) and the landmarks with their ROI. */
bool sm_face_tracker_detector_ran(const sm_face_tracker *t);
/* The tracker's two networks, for running them alone (the pipeline's start-up
 * thread calibration times them through the *_run_tensor calls). */
sm_face_detector *sm_face_tracker_detector(sm_face_tracker *t);
sm_face_mesh *sm_face_tracker_mesh(sm_face_tracker *t);
bool sm_face_tracker_last_detection(const sm_face_tracker *t, sm_face_detection *d);
const sm_face_landmarks *sm_face_tracker_landmarks(const sm_face_tracker *t);
int sm_face_tracker_n_points(const sm_face_tracker *t);

#endif

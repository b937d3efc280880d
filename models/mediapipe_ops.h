/*
 * mediapipe_ops.h: the three MediaPipe custom TFLite operators used by
 * face_landmark_with_attention.tflite (all version 2), and the
 * LandmarksRefinementCalculator merge that turns the model's six landmark
 * outputs into 478 points. Semantics follow MediaPipe's
 * mediapipe/util/tflite/operations/{landmarks_to_transform_matrix,
 * transform_tensor_bilinear,transform_landmarks}.cc (v2 kernels) and
 * calculators/util/landmarks_refinement_calculator.cc with the options of
 * modules/face_landmark/tensors_to_face_landmarks_with_attention.pbtxt;
 * docs/MEDIAPIPE_OPS.md has the derivations and the tests.
 *
 * Matrix convention (all three ops): a 4x4 float matrix stored row-major
 * (m[r*4+c]), the [1,4,4] tensor of the graph as is. Only the first two rows
 * are used by the consumers; a 2-D point (x,y) maps to
 *     x' = m[0]*x + m[1]*y + m[3],   y' = m[4]*x + m[5]*y + m[7].
 * Landmarks2TransformMatrix produces the matrix that maps OUTPUT crop
 * coordinates (pixels of the output_width x output_height crop) to INPUT
 * landmark coordinates (the units of the landmarks it was given):
 *     M = T(centre) . R(a - target) . S(scale*crop_size/output_size) . T(-output_size/2)
 * where a = atan2 of the left->right rotation landmarks, and centre and
 * crop_size are those of the subset's box in the frame rotated by target - a.
 * In the attention graph the mesh is multiplied by a constant before the op so
 * that its units are pixels of the 48x48 feature map that
 * TransformTensorBilinear samples; the graph then multiplies the matrix by a
 * constant [1,4,4] (plain MUL) before TransformLandmarks maps the refined
 * lips/eyes/irises back to 192-pixel model-input units. Those MULs are builtin ops,
 * not part of this module.
 *
 * Operand layouts in the attention graph (batch 1, taken without the batch):
 *   Landmarks2TransformMatrix  in  [1,468,3] landmarks (x,y,z; z unused)
 *                              out [1,4,4]
 *   TransformTensorBilinear    in0 [1,H,W,C] NHWC feature map, in1 [1,4,4]
 *                              out [1,out_h,out_w,C] (16x16 from 48x48x32)
 *   TransformLandmarks         in0 [1,N,D] landmarks (D = 2 here), in1 [1,4,4]
 *                              out [1,N,D]
 *
 * Options are read once at load from the converted .smw (graph.op.<i>.*,
 * docs/TFLITE.md) into plain structs and validated there, so the run
 * functions never fail, never allocate and never log.
 */
#ifndef SM_MEDIAPIPE_OPS_H
#define SM_MEDIAPIPE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

#define SM_MP_OP_L2TM "CUSTOM:Landmarks2TransformMatrix"
#define SM_MP_OP_TTB "CUSTOM:TransformTensorBilinear"
#define SM_MP_OP_TL "CUSTOM:TransformLandmarks"

/* Upper bound on subset_idxs entries we accept (the face model uses 80 and 71). */
#define SM_MP_L2TM_MAX_SUBSET 1024
/* Upper bound on output_width/height of L2TM and TTB (the face model uses 16). */
#define SM_MP_MAX_OUTPUT_SIDE 4096

/* ---- Landmarks2TransformMatrix (v2) ------------------------------------------------------ */

typedef struct {
    int32_t left_rotation_idx, right_rotation_idx;
    int32_t output_width, output_height;
    float scale_x, scale_y;
    float target_rotation_radians;
    /* subset_idxs exactly as stored (a flat list). MediaPipe reads it as index
     * pairs, an odd count pairing the last entry with itself; every index of
     * every pair enters the bounding box, so the result is the box of all
     * listed points. */
    size_t n_subset;
    int32_t subset_idxs[SM_MP_L2TM_MAX_SUBSET];
} sm_mp_l2tm_options;

/* Checks o against landmarks of n_points x 3: rotation and subset indices in
 * [0, n_points), at least one subset index, output sides in
 * [1, SM_MP_MAX_OUTPUT_SIDE], scales finite and > 0, target rotation finite.
 * SM_ERR_FORMAT naming the bad field otherwise. */
sm_status sm_mp_l2tm_options_check(const sm_mp_l2tm_options *o, size_t n_points,
                                   sm_error *err);

/* Reads graph.op.<op_index>.* of f: the op must be SM_MP_OP_L2TM (else
 * SM_ERR_FORMAT) version 2 (else SM_ERR_UNSUPPORTED), with every option
 * present (target_rotation_radians may be absent = 0, as in MediaPipe) and
 * numeric as smw-convert writes it (integers i32/i64/u32, floats f32/f64 or an
 * integer, subset_idxs an i32/i64/u32 array); then sm_mp_l2tm_options_check
 * against n_points. Errors name the file, the op index and the key. */
sm_status sm_mp_l2tm_options_load(const sm_smw *f, size_t op_index, size_t n_points,
                                  sm_mp_l2tm_options *out, sm_error *err);

/* landmarks: n_points x 3 floats (x,y,z) with n_points as checked against o.
 * Writes the row-major 4x4 crop->landmark-space matrix described above.
 * Degenerate inputs (coincident points, NaN) give the same non-finite or
 * zero-scale matrix MediaPipe gives; no error. */
void sm_mp_landmarks_to_transform_matrix(const sm_mp_l2tm_options *o, const float *landmarks,
                                         float matrix[16]);

/* ---- TransformTensorBilinear (v2) ------------------------------------------------------- */

typedef struct {
    int32_t output_width, output_height;
} sm_mp_ttb_options;

/* Reads graph.op.<op_index>.{output_width,output_height}: the op must be
 * SM_MP_OP_TTB version 2; sides in [1, SM_MP_MAX_OUTPUT_SIDE]. */
sm_status sm_mp_ttb_options_load(const sm_smw *f, size_t op_index, sm_mp_ttb_options *out,
                                 sm_error *err);

/* in: h x w x c NHWC floats; out: out_h x out_w x c. Output pixel (ox,oy)
 * samples the input at p = M' (ox,oy,0,1) with M' = M corrected for pixel
 * centres (v2: M' = T(-0.5) M T(+0.5), i.e. the pixel centre ox+0.5 is mapped
 * and 0.5 subtracted again), in input index space (pixel k at k).
 * Border: if p.x < 0, p.x > w-1, p.y < 0 or p.y > h-1 the whole output pixel
 * is 0 for every channel (no clamping, no partial blending with the border);
 * a NaN p gives NaN channels (MediaPipe's behaviour there is undefined).
 * Otherwise the four neighbours are blended bilinearly (a neighbour past the
 * last row/column only occurs with weight 0 and reads as 0). Arithmetic
 * mirrors MediaPipe's float/double mix. out must not overlap in. */
void sm_mp_transform_tensor_bilinear(const float *in, size_t h, size_t w, size_t c,
                                     const float matrix[16], size_t out_h, size_t out_w,
                                     float *out);

/* ---- TransformLandmarks (v2) ------------------------------------------------------------ */

/* Checks graph.op.<op_index> is SM_MP_OP_TL version 2 (it has no options; the
 * point dimension is the last dim of its output, 2 in the face model). */
sm_status sm_mp_tl_check(const sm_smw *f, size_t op_index, sm_error *err);

/* landmarks/out: n_points x dims floats, dims 2 or 3 (any other value: out
 * untouched). (x,y) -> (m[0]x+m[1]y+m[3], m[4]x+m[5]y+m[7]); z copied. out may
 * equal landmarks. */
void sm_mp_transform_landmarks(const float *landmarks, size_t n_points, size_t dims,
                               const float matrix[16], float *out);

/* ---- LandmarksRefinementCalculator (face_landmark_with_attention) ----------------------- */

#define SM_MP_MESH_POINTS 468
#define SM_MP_REFINED_POINTS 478
#define SM_MP_LIPS_POINTS 80
#define SM_MP_EYE_POINTS 71
#define SM_MP_IRIS_POINTS 5
/* The iris z is the mean mesh z of the first 16 points of the eye mapping
 * (lower contour 9 + upper contour 7). */
#define SM_MP_EYE_CONTOUR_POINTS 16

/* Index maps from tensors_to_face_landmarks_with_attention.pbtxt: entry k of
 * the lips / left-eye / right-eye output goes to mesh point map[k]. */
extern const uint16_t sm_mp_lips_index_map[SM_MP_LIPS_POINTS];
extern const uint16_t sm_mp_left_eye_index_map[SM_MP_EYE_POINTS];
extern const uint16_t sm_mp_right_eye_index_map[SM_MP_EYE_POINTS];

/* mesh: 468 x (x,y,z); lips 80 x (x,y); eyes 71 x (x,y); irises 5 x (x,y), all
 * in the same units. out: 478 x (x,y,z):
 *   0..467  mesh (x,y,z copied);
 *   then lips, left eye, right eye x,y written over their mapped mesh points,
 *   z kept from the mesh (z refinement "none");
 *   468..472 left iris, 473..477 right iris: x,y from the iris outputs, z =
 *   mean (accumulated in double, stored as float) of the refined z at the
 *   left / right eye's 16 contour points.
 * MediaPipe applies it to normalised landmarks (x/192, y/192, z/192); pass
 * those to be bit-exact (the average rounds differently in other units).
 * out must not overlap the inputs. */
void sm_mp_refine_landmarks(const float *mesh, const float *lips, const float *left_eye,
                            const float *right_eye, const float *left_iris,
                            const float *right_iris, float out[SM_MP_REFINED_POINTS * 3]);

#endif

/* face_mp_hooks: the executor hooks for the three MediaPipe custom operators of
 * face_landmark_with_attention (models/mediapipe_ops: semantics, options,
 * matrix convention) and the 478-point refinement. prepare() checks the operand
 * shapes the graph gives and loads the op's options from the .smw; run() only
 * calls the op. */
#include "face_mp_hooks.h"

#include <stdlib.h>
#include <string.h>

#include "mediapipe_ops.h"

typedef struct {
    sm_mp_l2tm_options o;
} l2tm_state;

typedef struct {
    size_t h, w, c, oh, ow;
} ttb_state;

typedef struct {
    size_t n, dims;
} tl_state;

static bool is_matrix(sm_graph_shape s) { return sm_graph_numel(s) == 16 && s.ndim >= 2 && s.dims[s.ndim - 1] == 4; }

static sm_status l2tm_prepare(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in, size_t n_out,
                              const sm_graph_shape *out, void **state, sm_error *err)
{
    if (n_in != 1 || n_out != 1 || in[0].ndim != 3 || in[0].dims[0] != 1 || in[0].dims[2] != 3 || !is_matrix(out[0]))
        return sm_error_set(err, SM_ERR_SHAPE, "Landmarks2TransformMatrix: expected landmarks [1,N,3] -> [1,4,4]");
    l2tm_state *s = malloc(sizeof *s);
    if (!s)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    sm_status st = sm_mp_l2tm_options_load(f, op_index, (size_t)in[0].dims[1], &s->o, err);
    if (st) {
        free(s);
        return st;
    }
    *state = s;
    return SM_OK;
}

static void l2tm_run(void *state, const float *const *in, float *const *out)
{
    sm_mp_landmarks_to_transform_matrix(&((l2tm_state *)state)->o, in[0], out[0]);
}

static sm_status ttb_prepare(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in, size_t n_out,
                             const sm_graph_shape *out, void **state, sm_error *err)
{
    sm_mp_ttb_options o;
    sm_status st = sm_mp_ttb_options_load(f, op_index, &o, err);
    if (st)
        return st;
    if (n_in != 2 || n_out != 1 || in[0].ndim != 4 || in[0].dims[0] != 1 || !is_matrix(in[1]) || out[0].ndim != 4 ||
        out[0].dims[0] != 1 || out[0].dims[1] != o.output_height || out[0].dims[2] != o.output_width ||
        out[0].dims[3] != in[0].dims[3])
        return sm_error_set(err, SM_ERR_SHAPE,
                            "TransformTensorBilinear: expected [1,H,W,C] and [1,4,4] -> [1,%d,%d,C]", o.output_height,
                            o.output_width);
    ttb_state *s = malloc(sizeof *s);
    if (!s)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    s->h = (size_t)in[0].dims[1];
    s->w = (size_t)in[0].dims[2];
    s->c = (size_t)in[0].dims[3];
    s->oh = (size_t)o.output_height;
    s->ow = (size_t)o.output_width;
    *state = s;
    return SM_OK;
}

static void ttb_run(void *state, const float *const *in, float *const *out)
{
    const ttb_state *s = state;
    sm_mp_transform_tensor_bilinear(in[0], s->h, s->w, s->c, in[1], s->oh, s->ow, out[0]);
}

static sm_status tl_prepare(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in, size_t n_out,
                            const sm_graph_shape *out, void **state, sm_error *err)
{
    sm_status st = sm_mp_tl_check(f, op_index, err);
    if (st)
        return st;
    if (n_in != 2 || n_out != 1 || in[0].ndim != 3 || in[0].dims[0] != 1 ||
        (in[0].dims[2] != 2 && in[0].dims[2] != 3) || !is_matrix(in[1]) || sm_graph_numel(out[0]) != sm_graph_numel(in[0]))
        return sm_error_set(err, SM_ERR_SHAPE, "TransformLandmarks: expected [1,N,2|3] and [1,4,4] -> [1,N,2|3]");
    tl_state *s = malloc(sizeof *s);
    if (!s)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    s->n = (size_t)in[0].dims[1];
    s->dims = (size_t)in[0].dims[2];
    *state = s;
    return SM_OK;
}

static void tl_run(void *state, const float *const *in, float *const *out)
{
    const tl_state *s = state;
    sm_mp_transform_landmarks(in[0], s->n, s->dims, in[1], out[0]);
}

static const sm_graph_custom_op hooks[] = {
    {"Landmarks2TransformMatrix", l2tm_prepare, l2tm_run, free},
    {"TransformTensorBilinear", ttb_prepare, ttb_run, free},
    {"TransformLandmarks", tl_prepare, tl_run, free},
};

const sm_graph_custom_op *sm_face_custom_ops(size_t *n)
{
    *n = sizeof hooks / sizeof hooks[0];
    return hooks;
}

bool sm_face_refine_available(void) { return true; }

void sm_face_refine(const float *mesh, const float *lips, const float *left_eye, const float *right_eye,
                    const float *left_iris, const float *right_iris, float *out)
{
    sm_mp_refine_landmarks(mesh, lips, left_eye, right_eye, left_iris, right_iris, out);
}

/* MediaPipe custom ops (v2) and the 478-point refinement; see mediapipe_ops.h.
 *
 * The arithmetic deliberately keeps MediaPipe's evaluation order and its mix
 * of float and double (e.g. `1.0 - frac` is double in the bilinear blend), so
 * that results round the same way; do not "simplify" those expressions. */
#include "mediapipe_ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- metadata helpers ------------------------------------------------------------------- */

static uint64_t rd_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static const sm_meta *op_meta(const sm_smw *f, size_t op, const char *key, char *name, size_t cap)
{
    snprintf(name, cap, "graph.op.%zu.%s", op, key);
    return sm_smw_find_meta(f, name);
}

/* The op at index op must be `want` with version 2. */
static sm_status check_op(const sm_smw *f, size_t op, const char *want, sm_error *err)
{
    char key[96];
    const sm_meta *m = op_meta(f, op, "op", key, sizeof key);
    if (!m || m->type != SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' missing or not a string",
                            f->path, key);
    size_t wl = strlen(want);
    if (m->v.str.len != wl || memcmp(m->v.str.ptr, want, wl))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu is '%.*s', expected '%s'",
                            f->path, op, (int)(m->v.str.len > 64 ? 64 : m->v.str.len),
                            m->v.str.ptr, want);
    m = op_meta(f, op, "version", key, sizeof key);
    if (!m || m->type != SM_META_U32)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' missing or not u32", f->path,
                            key);
    if (m->v.u32 != 2)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: operator %zu (%s) has version %u, only version 2 is supported",
                            f->path, op, want, m->v.u32);
    return SM_OK;
}

/* An integer option (smw-convert writes i32, or i64 when it does not fit). */
static sm_status get_int(const sm_smw *f, size_t op, const char *opt, int32_t *out, sm_error *err)
{
    char key[128];
    const sm_meta *m = op_meta(f, op, opt, key, sizeof key);
    int64_t v;
    if (!m)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: option '%s' missing", f->path,
                            op, key);
    switch (m->type) {
    case SM_META_I32: v = m->v.i32; break;
    case SM_META_I64: v = m->v.i64; break;
    case SM_META_U32: v = m->v.u32; break;
    default:
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: option '%s' is %s, expected an integer",
                            f->path, op, key, sm_meta_type_name(m->type));
    }
    if (v < INT32_MIN || v > INT32_MAX)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: option '%s' = %lld out of range",
                            f->path, op, key, (long long)v);
    *out = (int32_t)v;
    return SM_OK;
}

/* A float option: f32 or f64 (converted as FlexBuffers' AsFloat would), or an integer. */
static sm_status get_float(const sm_smw *f, size_t op, const char *opt, bool optional, float *out,
                           sm_error *err)
{
    char key[128];
    const sm_meta *m = op_meta(f, op, opt, key, sizeof key);
    if (!m) {
        if (optional) {
            *out = 0.0f;
            return SM_OK;
        }
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: option '%s' missing", f->path,
                            op, key);
    }
    switch (m->type) {
    case SM_META_F32: *out = m->v.f32; break;
    case SM_META_F64: *out = (float)m->v.f64; break;
    case SM_META_I32: *out = (float)m->v.i32; break;
    case SM_META_I64: *out = (float)m->v.i64; break;
    default:
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: option '%s' is %s, expected a number",
                            f->path, op, key, sm_meta_type_name(m->type));
    }
    return SM_OK;
}

/* ---- Landmarks2TransformMatrix ---------------------------------------------------------- */

sm_status sm_mp_l2tm_options_check(const sm_mp_l2tm_options *o, size_t n_points, sm_error *err)
{
    if (!o)
        return sm_error_set(err, SM_ERR_ARG, "Landmarks2TransformMatrix: no options");
    if (o->left_rotation_idx < 0 || (size_t)o->left_rotation_idx >= n_points)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: left_rotation_idx %d not in [0, %zu)",
                            o->left_rotation_idx, n_points);
    if (o->right_rotation_idx < 0 || (size_t)o->right_rotation_idx >= n_points)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: right_rotation_idx %d not in [0, %zu)",
                            o->right_rotation_idx, n_points);
    if (o->output_width < 1 || o->output_width > SM_MP_MAX_OUTPUT_SIDE ||
        o->output_height < 1 || o->output_height > SM_MP_MAX_OUTPUT_SIDE)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: output %dx%d not in [1, %d]",
                            o->output_width, o->output_height, SM_MP_MAX_OUTPUT_SIDE);
    if (!(o->scale_x > 0.0f) || !(o->scale_y > 0.0f) || !isfinite(o->scale_x) ||
        !isfinite(o->scale_y))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: scale %gx%g must be finite and > 0",
                            (double)o->scale_x, (double)o->scale_y);
    if (!isfinite(o->target_rotation_radians))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: target_rotation_radians is not finite");
    if (o->n_subset == 0 || o->n_subset > SM_MP_L2TM_MAX_SUBSET)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "Landmarks2TransformMatrix: subset_idxs has %zu entries, expected 1..%d",
                            o->n_subset, SM_MP_L2TM_MAX_SUBSET);
    for (size_t i = 0; i < o->n_subset; i++)
        if (o->subset_idxs[i] < 0 || (size_t)o->subset_idxs[i] >= n_points)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "Landmarks2TransformMatrix: subset_idxs[%zu] = %d not in [0, %zu)",
                                i, o->subset_idxs[i], n_points);
    return SM_OK;
}

sm_status sm_mp_l2tm_options_load(const sm_smw *f, size_t op_index, size_t n_points,
                                  sm_mp_l2tm_options *out, sm_error *err)
{
    sm_mp_l2tm_options o;
    memset(&o, 0, sizeof o);
    sm_status st = check_op(f, op_index, SM_MP_OP_L2TM, err);
    if (!st) st = get_int(f, op_index, "left_rotation_idx", &o.left_rotation_idx, err);
    if (!st) st = get_int(f, op_index, "right_rotation_idx", &o.right_rotation_idx, err);
    if (!st) st = get_int(f, op_index, "output_width", &o.output_width, err);
    if (!st) st = get_int(f, op_index, "output_height", &o.output_height, err);
    if (!st) st = get_float(f, op_index, "scale_x", false, &o.scale_x, err);
    if (!st) st = get_float(f, op_index, "scale_y", false, &o.scale_y, err);
    /* MediaPipe reads an absent key as 0; only the target rotation has a natural 0. */
    if (!st) st = get_float(f, op_index, "target_rotation_radians", true,
                            &o.target_rotation_radians, err);
    if (st)
        return st;

    char key[128];
    const sm_meta *m = op_meta(f, op_index, "subset_idxs", key, sizeof key);
    size_t esz = 0;
    if (m && m->type == SM_META_ARRAY)
        esz = m->elem_type == SM_META_I32 || m->elem_type == SM_META_U32 ? 4
              : m->elem_type == SM_META_I64                             ? 8
                                                                         : 0;
    if (!esz)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: operator %zu: option '%s' missing or not an integer array",
                            f->path, op_index, key);
    if (m->count == 0 || m->count > SM_MP_L2TM_MAX_SUBSET)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: '%s' has %llu entries, expected 1..%d",
                            f->path, op_index, key, (unsigned long long)m->count,
                            SM_MP_L2TM_MAX_SUBSET);
    for (size_t i = 0; i < m->count; i++) {
        uint64_t raw = rd_le(m->array_data + i * esz, esz);
        int64_t v = m->elem_type == SM_META_I32 ? (int64_t)(int32_t)(uint32_t)raw : (int64_t)raw;
        if (v < 0 || v > INT32_MAX)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: %s[%zu] = %lld is negative or too large",
                                f->path, op_index, key, i, (long long)v);
        o.subset_idxs[i] = (int32_t)v;
    }
    o.n_subset = (size_t)m->count;

    st = sm_mp_l2tm_options_check(&o, n_points, err);
    if (st) {
        sm_error_prefix(err, "%s: operator %zu: ", f->path, op_index);
        return st;
    }
    *out = o;
    return SM_OK;
}

/* MediaPipe's Mat4 product: float sums from 0 in k order. */
static void mat4_mul(float a[16], const float b[16])
{
    float r[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float s = 0.0f;
            for (int k = 0; k < 4; k++)
                s += a[i * 4 + k] * b[k * 4 + j];
            r[i * 4 + j] = s;
        }
    memcpy(a, r, sizeof r);
}

/* Row r of MediaPipe's Mat3 * (x, y, 1) with a rotation matrix [c -s 0; s c 0; 0 0 1]. */
static float rot_row(float m0, float m1, float x, float y)
{
    float s = 0.0f;
    s += m0 * x;
    s += m1 * y;
    s += 0.0f * 1.0f;
    return s;
}

void sm_mp_landmarks_to_transform_matrix(const sm_mp_l2tm_options *o, const float *landmarks,
                                         float matrix[16])
{
    const float *lp = landmarks + (size_t)o->left_rotation_idx * 3;
    const float *rp = landmarks + (size_t)o->right_rotation_idx * 3;
    float rotation = atan2f(rp[1] - lp[1], rp[0] - lp[0]);
    rotation = o->target_rotation_radians - rotation;

    /* Bounding box of the subset in the frame rotated by `rotation` (eye or
     * mouth line made horizontal), then its centre rotated back. */
    const float r = rotation;
    const float c = cosf(r), s = sinf(r), ci = cosf(-r), si = sinf(-r);
    float max_x = 0, max_y = 0, min_x = 0, min_y = 0;
    for (size_t i = 0; i < o->n_subset; i++) {
        const float *p = landmarks + (size_t)o->subset_idxs[i] * 3;
        float x = rot_row(c, -s, p[0], p[1]);
        float y = rot_row(s, c, p[0], p[1]);
        if (i == 0) {
            max_x = min_x = x;
            max_y = min_y = y;
            continue;
        }
        if (max_x < x) max_x = x;
        if (max_y < y) max_y = y;
        if (min_x > x) min_x = x;
        if (min_y > y) min_y = y;
    }
    const float crop_w = max_x - min_x, crop_h = max_y - min_y;
    float mid_x = min_x, mid_y = min_y;
    mid_x += max_x;
    mid_y += max_y;
    mid_x /= 2;
    mid_y /= 2;
    const float crop_x = rot_row(ci, -si, mid_x, mid_y);
    const float crop_y = rot_row(si, ci, mid_x, mid_y);

    float t[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const float shift[16] = {1, 0, 0, crop_x, 0, 1, 0, crop_y, 0, 0, 1, 0, 0, 0, 0, 1};
    mat4_mul(t, shift);
    const float r2 = -rotation;
    const float rot[16] = {cosf(r2), -sinf(r2), 0, 0, sinf(r2), cosf(r2), 0, 0,
                           0,        0,         1, 0, 0,        0,        0, 1};
    mat4_mul(t, rot);
    const float sx = o->scale_x * crop_w / (float)o->output_width;
    const float sy = o->scale_y * crop_h / (float)o->output_height;
    const float scale[16] = {sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    mat4_mul(t, scale);
    const float hx = (float)(-1.0 * (o->output_width / 2.0));
    const float hy = (float)(-1.0 * (o->output_height / 2.0));
    const float shift2[16] = {1, 0, 0, hx, 0, 1, 0, hy, 0, 0, 1, 0, 0, 0, 0, 1};
    mat4_mul(t, shift2);
    memcpy(matrix, t, sizeof t);
}

/* ---- TransformTensorBilinear ------------------------------------------------------------ */

sm_status sm_mp_ttb_options_load(const sm_smw *f, size_t op_index, sm_mp_ttb_options *out,
                                 sm_error *err)
{
    sm_mp_ttb_options o;
    sm_status st = check_op(f, op_index, SM_MP_OP_TTB, err);
    if (!st) st = get_int(f, op_index, "output_width", &o.output_width, err);
    if (!st) st = get_int(f, op_index, "output_height", &o.output_height, err);
    if (st)
        return st;
    if (o.output_width < 1 || o.output_width > SM_MP_MAX_OUTPUT_SIDE || o.output_height < 1 ||
        o.output_height > SM_MP_MAX_OUTPUT_SIDE)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: operator %zu: output %dx%d not in [1, %d]",
                            f->path, op_index, o.output_width, o.output_height,
                            SM_MP_MAX_OUTPUT_SIDE);
    *out = o;
    return SM_OK;
}

void sm_mp_transform_tensor_bilinear(const float *in, size_t h, size_t w, size_t c,
                                     const float matrix[16], size_t out_h, size_t out_w,
                                     float *out)
{
    float xt[4] = {matrix[0], matrix[1], matrix[2], matrix[3]};
    float yt[4] = {matrix[4], matrix[5], matrix[6], matrix[7]};
    /* Pixel-centre correction (v2): evaluated in double, stored as float. */
    xt[3] += xt[0] * 0.5 + xt[1] * 0.5 - 0.5;
    yt[3] += yt[0] * 0.5 + yt[1] * 0.5 - 0.5;
    const float wmax = (float)((long long)w - 1), hmax = (float)((long long)h - 1);

    for (size_t oy = 0; oy < out_h; oy++) {
        for (size_t ox = 0; ox < out_w; ox++) {
            const float fx = (float)ox, fy = (float)oy;
            const float tx = xt[0] * fx + xt[1] * fy + xt[2] * 0.0f + xt[3] * 1.0f;
            const float ty = yt[0] * fx + yt[1] * fy + yt[2] * 0.0f + yt[3] * 1.0f;
            float *o = out + (oy * out_w + ox) * c;
            if (isnan(tx) || isnan(ty)) {
                /* MediaPipe would convert floor(NaN) to int (undefined); we
                 * propagate the NaN instead. */
                for (size_t k = 0; k < c; k++)
                    o[k] = NAN;
                continue;
            }
            if (tx < 0.0 || tx > wmax || ty < 0.0 || ty > hmax) {
                for (size_t k = 0; k < c; k++)
                    o[k] = 0.0f;
                continue;
            }
            const double flx = floor(tx), fly = floor(ty);
            const size_t x0 = (size_t)flx, y0 = (size_t)fly;
            const bool has_x1 = x0 + 1 < w, has_y1 = y0 + 1 < h;
            const float rc = (float)(tx - flx); /* right contribution */
            const float lc = (float)(ty - fly); /* lower contribution */
            const float *r0 = in + (y0 * w + x0) * c;
            const float *r1 = r0 + w * c;
            for (size_t k = 0; k < c; k++) {
                const float q11 = r0[k];
                const float q21 = has_x1 ? r0[c + k] : 0.0f;
                const float q12 = has_y1 ? r1[k] : 0.0f;
                const float q22 = has_x1 && has_y1 ? r1[c + k] : 0.0f;
                const float upper = (float)((1.0 - rc) * q11 + rc * q21);
                const float lower = (float)((1.0 - rc) * q12 + rc * q22);
                o[k] = (float)(lc * lower + (1.0 - lc) * upper);
            }
        }
    }
}

/* ---- TransformLandmarks ----------------------------------------------------------------- */

sm_status sm_mp_tl_check(const sm_smw *f, size_t op_index, sm_error *err)
{
    return check_op(f, op_index, SM_MP_OP_TL, err);
}

void sm_mp_transform_landmarks(const float *landmarks, size_t n_points, size_t dims,
                               const float matrix[16], float *out)
{
    if (dims != 2 && dims != 3)
        return;
    const float *xt = matrix, *yt = matrix + 4;
    for (size_t i = 0; i < n_points; i++) {
        const float *p = landmarks + i * dims;
        const float x = p[0], y = p[1];
        const float tx = xt[0] * x + xt[1] * y + xt[2] * 0.0f + xt[3] * 1.0f;
        const float ty = yt[0] * x + yt[1] * y + yt[2] * 0.0f + yt[3] * 1.0f;
        float *q = out + i * dims;
        if (dims == 3)
            q[2] = p[2];
        q[0] = tx;
        q[1] = ty;
    }
}

/* ---- refinement ------------------------------------------------------------------------- */

const uint16_t sm_mp_lips_index_map[SM_MP_LIPS_POINTS] = {
    /* lower outer */ 61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
    /* upper outer */ 185, 40, 39, 37, 0, 267, 269, 270, 409,
    /* lower inner */ 78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
    /* upper inner */ 191, 80, 81, 82, 13, 312, 311, 310, 415,
    /* lower semi-outer */ 76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306,
    /* upper semi-outer */ 184, 74, 73, 72, 11, 302, 303, 304, 408,
    /* lower semi-inner */ 62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292,
    /* upper semi-inner */ 183, 42, 41, 38, 12, 268, 271, 272, 407};

const uint16_t sm_mp_left_eye_index_map[SM_MP_EYE_POINTS] = {
    /* lower contour */ 33, 7, 163, 144, 145, 153, 154, 155, 133,
    /* upper contour */ 246, 161, 160, 159, 158, 157, 173,
    /* halo x2 lower */ 130, 25, 110, 24, 23, 22, 26, 112, 243,
    /* halo x2 upper */ 247, 30, 29, 27, 28, 56, 190,
    /* halo x3 lower */ 226, 31, 228, 229, 230, 231, 232, 233, 244,
    /* halo x3 upper */ 113, 225, 224, 223, 222, 221, 189,
    /* halo x4 upper / eyebrow inner */ 35, 124, 46, 53, 52, 65,
    /* halo x5 lower */ 143, 111, 117, 118, 119, 120, 121, 128, 245,
    /* halo x5 upper / eyebrow outer */ 156, 70, 63, 105, 66, 107, 55, 193};

const uint16_t sm_mp_right_eye_index_map[SM_MP_EYE_POINTS] = {
    /* lower contour */ 263, 249, 390, 373, 374, 380, 381, 382, 362,
    /* upper contour */ 466, 388, 387, 386, 385, 384, 398,
    /* halo x2 lower */ 359, 255, 339, 254, 253, 252, 256, 341, 463,
    /* halo x2 upper */ 467, 260, 259, 257, 258, 286, 414,
    /* halo x3 lower */ 446, 261, 448, 449, 450, 451, 452, 453, 464,
    /* halo x3 upper */ 342, 445, 444, 443, 442, 441, 413,
    /* halo x4 upper / eyebrow inner */ 265, 353, 276, 283, 282, 295,
    /* halo x5 lower */ 372, 340, 346, 347, 348, 349, 350, 357, 465,
    /* halo x5 upper / eyebrow outer */ 383, 300, 293, 334, 296, 336, 285, 417};

static void refine_xy(float *out, const float *pts, const uint16_t *map, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[map[i] * 3 + 0] = pts[i * 2 + 0];
        out[map[i] * 3 + 1] = pts[i * 2 + 1];
    }
}

static void add_iris(float *out, const float *iris, const uint16_t *eye_map, size_t first)
{
    double z_sum = 0;
    for (size_t i = 0; i < SM_MP_EYE_CONTOUR_POINTS; i++)
        z_sum += out[eye_map[i] * 3 + 2];
    const float z = (float)(z_sum / SM_MP_EYE_CONTOUR_POINTS);
    for (size_t i = 0; i < SM_MP_IRIS_POINTS; i++) {
        out[(first + i) * 3 + 0] = iris[i * 2 + 0];
        out[(first + i) * 3 + 1] = iris[i * 2 + 1];
        out[(first + i) * 3 + 2] = z;
    }
}

void sm_mp_refine_landmarks(const float *mesh, const float *lips, const float *left_eye,
                            const float *right_eye, const float *left_iris,
                            const float *right_iris, float out[SM_MP_REFINED_POINTS * 3])
{
    /* Same order as the calculator: mesh (z copied), lips, eyes (z kept),
     * then irises (z averaged over the already refined eye contour). */
    memcpy(out, mesh, sizeof(float) * SM_MP_MESH_POINTS * 3);
    refine_xy(out, lips, sm_mp_lips_index_map, SM_MP_LIPS_POINTS);
    refine_xy(out, left_eye, sm_mp_left_eye_index_map, SM_MP_EYE_POINTS);
    refine_xy(out, right_eye, sm_mp_right_eye_index_map, SM_MP_EYE_POINTS);
    add_iris(out, left_iris, sm_mp_left_eye_index_map, SM_MP_MESH_POINTS);
    add_iris(out, right_iris, sm_mp_right_eye_index_map, SM_MP_MESH_POINTS + SM_MP_IRIS_POINTS);
}

/* MediaPipe custom ops and the 478-point refinement (models/mediapipe_ops.h).
 *
 * No framework here can run these ops, and a transcription of the same source
 * would not be an independent reference, so every expected value below follows
 * from geometry or from the listings in shared/reference:
 *  - Landmarks2TransformMatrix: for landmarks forming a known rotated
 *    rectangle, the matrix must map the output crop's corners onto the
 *    rectangle's corners (scaled about its centre by scale_x/scale_y); with a
 *    target rotation, the left->right landmark direction seen in the crop has
 *    that angle; only subset points (all of them, pairs or not) count.
 *  - TransformTensorBilinear: identity / translation / 90-degree rotation give
 *    exact pixel permutations; an affine map sampling a linear ramp gives the
 *    ramp's value at the pixel-centre-mapped point; samples outside
 *    [0,w-1]x[0,h-1] are 0.
 *  - TransformLandmarks: affine maps, z kept, inverse round trip.
 *  - Refinement: maps against the subset_idxs of the model listing
 *    (shared/reference/face_models_nodes/face_landmark_with_attention.txt;
 *    the graph's L2TM subsets are the same lists as the pbtxt refinement
 *    maps), counts, distinctness, iris slots 468..477 and the z rules.
 *  - The official pipeline's 478-point outputs (tests/fixtures/face-ref,
 *    MediaPipe JS with refineLandmarks=true): re-merging their own parts
 *    reproduces them, and each iris z is the mean z of its eye's contour.
 *  - Options of the real converted model (when the face models fixture is
 *    there) against the same listing; bad metadata rejected with messages. */
#include "convert.h"
#include "mediapipe_ops.h"
#include "npy.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* (x,y) -> M (x,y,0,1), in double, for expected values. */
static void apply(const float m[16], double x, double y, double *ox, double *oy)
{
    *ox = m[0] * x + m[1] * y + m[3];
    *oy = m[4] * x + m[5] * y + m[7];
}

/* Inverse of the 2-D affine part of m as a 4x4 row-major matrix. */
static void invert_affine(const float m[16], float inv[16])
{
    double a = m[0], b = m[1], c = m[4], d = m[5], tx = m[3], ty = m[7];
    double det = a * d - b * c;
    ck_assert(fabs(det) > 1e-12);
    double ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
    memset(inv, 0, 16 * sizeof(float));
    inv[0] = (float)ia;
    inv[1] = (float)ib;
    inv[3] = (float)(-(ia * tx + ib * ty));
    inv[4] = (float)ic;
    inv[5] = (float)id;
    inv[7] = (float)(-(ic * tx + id * ty));
    inv[10] = 1;
    inv[15] = 1;
}

static sm_mp_l2tm_options base_options(void)
{
    sm_mp_l2tm_options o;
    memset(&o, 0, sizeof o);
    o.left_rotation_idx = 0;
    o.right_rotation_idx = 1;
    o.output_width = 16;
    o.output_height = 16;
    o.scale_x = 1.0f;
    o.scale_y = 1.0f;
    return o;
}

/* Point k of n x 3 landmarks. */
static void put(float *lm, int k, double x, double y)
{
    lm[k * 3 + 0] = (float)x;
    lm[k * 3 + 1] = (float)y;
    lm[k * 3 + 2] = (float)(-7.0 * k); /* z must never matter */
}

/* ---- Landmarks2TransformMatrix ---------------------------------------------------------- */

/* Rectangle a x b centred at (cx,cy), its sides along angle th; the rotation
 * landmarks lie on its horizontal mid-line. The output crop W x H must land on
 * the rectangle scaled by (sx, sy) about its centre. */
static const struct {
    double th, a, b, sx, sy;
    int w, h;
} rect_cases[] = {
    {0.0, 20, 20, 1.0, 1.0, 16, 16},  {0.3, 20, 10, 1.0, 1.0, 16, 16},
    {-1.2, 8, 30, 1.5, 1.5, 16, 16},  {2.5, 12, 12, 1.5, 2.0, 32, 8},
    {M_PI / 2, 5, 9, 1.0, 1.0, 7, 5}, {-M_PI + 0.01, 40, 3, 1.25, 0.75, 16, 24},
};

START_TEST(l2tm_rectangle_maps_crop_corners)
{
    const double cx = 23.5, cy = 31.25;
    double th = rect_cases[_i].th, a = rect_cases[_i].a, b = rect_cases[_i].b;
    double c = cos(th), s = sin(th);
    float lm[8 * 3];
    memset(lm, 0, sizeof lm);
    /* rotation landmarks: left and right of the centre along the sides' direction */
    put(lm, 0, cx - 3 * c, cy - 3 * s);
    put(lm, 1, cx + 5 * c, cy + 5 * s);
    const double corners[4][2] = {{-a / 2, -b / 2}, {a / 2, -b / 2}, {-a / 2, b / 2}, {a / 2, b / 2}};
    for (int k = 0; k < 4; k++)
        put(lm, 2 + k, cx + corners[k][0] * c - corners[k][1] * s,
            cy + corners[k][0] * s + corners[k][1] * c);
    put(lm, 6, 1000, -1000); /* not in the subset: ignored */

    sm_mp_l2tm_options o = base_options();
    o.scale_x = (float)rect_cases[_i].sx;
    o.scale_y = (float)rect_cases[_i].sy;
    o.output_width = rect_cases[_i].w;
    o.output_height = rect_cases[_i].h;
    o.n_subset = 4;
    for (int k = 0; k < 4; k++)
        o.subset_idxs[k] = 2 + k;
    sm_error err;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&o, 8, &err), SM_OK);

    float m[16];
    sm_mp_landmarks_to_transform_matrix(&o, lm, m);
    /* the output crop corners (0,0), (W,0), (0,H), (W,H) and its centre */
    const double W = o.output_width, H = o.output_height;
    const double crop[5][2] = {{0, 0}, {W, 0}, {0, H}, {W, H}, {W / 2, H / 2}};
    for (int k = 0; k < 5; k++) {
        double u = k < 4 ? corners[k][0] * rect_cases[_i].sx : 0;
        double v = k < 4 ? corners[k][1] * rect_cases[_i].sy : 0;
        double ex = cx + u * c - v * s, ey = cy + u * s + v * c;
        double gx, gy;
        apply(m, crop[k][0], crop[k][1], &gx, &gy);
        ck_assert_msg(fabs(gx - ex) < 1e-4 && fabs(gy - ey) < 1e-4,
                      "case %d corner %d: got (%.6f, %.6f) expected (%.6f, %.6f)", _i, k, gx, gy,
                      ex, ey);
    }
    /* the z/w rows are the identity */
    const float tail[8] = {0, 0, 1, 0, 0, 0, 0, 1};
    for (int k = 0; k < 8; k++)
        ck_assert_float_eq(m[8 + k], tail[k]);
    ck_assert_float_eq(m[2], 0.0f);
    ck_assert_float_eq(m[6], 0.0f);
}
END_TEST

/* With target rotation phi the left->right direction appears at angle phi in
 * the crop. The subset is a square, whose bounding box in any rotated frame
 * is a square of side L(|cos|+|sin|) centred on it, so the crop is isotropic. */
START_TEST(l2tm_target_rotation)
{
    const double phis[] = {0.0, 0.3, -1.0, M_PI / 2, 2.0, -2.9};
    const double th = 0.7, L = 10, cx = 40, cy = 12;
    const double c = cos(th), s = sin(th);
    for (size_t t = 0; t < sizeof phis / sizeof *phis; t++) {
        double phi = phis[t];
        float lm[6 * 3];
        put(lm, 0, cx - 4 * c, cy - 4 * s);
        put(lm, 1, cx + 4 * c, cy + 4 * s);
        const double sq[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
        for (int k = 0; k < 4; k++) {
            double u = sq[k][0] * L / 2, v = sq[k][1] * L / 2;
            put(lm, 2 + k, cx + u * c - v * s, cy + u * s + v * c);
        }
        sm_mp_l2tm_options o = base_options();
        o.target_rotation_radians = (float)phi;
        o.scale_x = o.scale_y = 1.5f;
        o.n_subset = 4;
        for (int k = 0; k < 4; k++)
            o.subset_idxs[k] = 2 + k;
        float m[16], inv[16], ends[2 * 2];
        sm_mp_landmarks_to_transform_matrix(&o, lm, m);
        invert_affine(m, inv);
        const float eyes[4] = {lm[0], lm[1], lm[3], lm[4]};
        sm_mp_transform_landmarks(eyes, 2, 2, inv, ends);
        double ang = atan2((double)ends[3] - ends[1], (double)ends[2] - ends[0]);
        double d = remainder(ang - phi, 2 * M_PI);
        ck_assert_msg(fabs(d) < 1e-5, "phi %g: direction in crop %g", phi, ang);
        /* isotropic crop of side 1.5 * L * (|cos phi| + |sin phi|) over 16 pixels */
        double side = 1.5 * L * (fabs(cos(phi)) + fabs(sin(phi)));
        double col0 = hypot(m[0], m[4]), col1 = hypot(m[1], m[5]);
        ck_assert_msg(fabs(col0 - side / 16) < 1e-5 && fabs(col1 - side / 16) < 1e-5,
                      "phi %g: pixel size %g %g expected %g", phi, col0, col1, side / 16);
        ck_assert(fabs(m[0] * (double)m[1] + m[4] * (double)m[5]) < 1e-6); /* no shear */
        double gx, gy;
        apply(m, 8, 8, &gx, &gy);
        ck_assert(fabs(gx - cx) < 1e-4 && fabs(gy - cy) < 1e-4);
    }
}
END_TEST

/* subset_idxs is a flat list read as pairs, an odd last entry paired with
 * itself: the box is that of all listed points, no more, no less. */
START_TEST(l2tm_subset_selection)
{
    float lm[10 * 3];
    memset(lm, 0, sizeof lm);
    put(lm, 0, 0, 0);
    put(lm, 1, 1, 0); /* horizontal: no rotation */
    put(lm, 2, 10, 10);
    put(lm, 3, 20, 14);
    put(lm, 4, 12, 30); /* the odd last entry: sets the bottom */
    put(lm, 5, -500, 900);
    put(lm, 6, 0, 0);
    sm_mp_l2tm_options o = base_options();
    o.n_subset = 3;
    o.subset_idxs[0] = 2;
    o.subset_idxs[1] = 3;
    o.subset_idxs[2] = 4;
    float m[16];
    sm_mp_landmarks_to_transform_matrix(&o, lm, m);
    double x0, y0, x1, y1;
    apply(m, 0, 0, &x0, &y0);
    apply(m, 16, 16, &x1, &y1);
    ck_assert(fabs(x0 - 10) < 1e-5 && fabs(y0 - 10) < 1e-5);
    ck_assert(fabs(x1 - 20) < 1e-5 && fabs(y1 - 30) < 1e-5);

    /* the same points listed in another order and with repeats: same matrix */
    float m2[16];
    const int32_t again[6] = {4, 3, 2, 2, 3, 4};
    o.n_subset = 6;
    memcpy(o.subset_idxs, again, sizeof again);
    sm_mp_landmarks_to_transform_matrix(&o, lm, m2);
    for (int k = 0; k < 16; k++)
        ck_assert_float_eq(m[k], m2[k]);

    /* the rotation landmarks themselves do not enter the box unless listed */
    put(lm, 0, -300, -300);
    put(lm, 1, -299, -300);
    o.n_subset = 3;
    o.subset_idxs[0] = 2;
    o.subset_idxs[1] = 3;
    o.subset_idxs[2] = 4;
    sm_mp_landmarks_to_transform_matrix(&o, lm, m2);
    for (int k = 0; k < 16; k++)
        ck_assert_float_eq(m[k], m2[k]);
}
END_TEST

START_TEST(l2tm_options_check_rejects)
{
    sm_error err;
    sm_mp_l2tm_options o = base_options();
    o.n_subset = 2;
    o.subset_idxs[0] = 2;
    o.subset_idxs[1] = 9;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&o, 10, &err), SM_OK);
    ck_assert_int_eq(sm_mp_l2tm_options_check(&o, 9, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "subset_idxs[1] = 9"));

    sm_mp_l2tm_options b = o;
    b.left_rotation_idx = -1;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "left_rotation_idx"));
    b = o;
    b.right_rotation_idx = 10;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "right_rotation_idx"));
    b = o;
    b.output_height = 0;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    b = o;
    b.scale_y = 0;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    b = o;
    b.scale_x = NAN;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    b = o;
    b.target_rotation_radians = INFINITY;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    b = o;
    b.n_subset = 0;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
    b = o;
    b.n_subset = SM_MP_L2TM_MAX_SUBSET + 1;
    ck_assert_int_eq(sm_mp_l2tm_options_check(&b, 10, &err), SM_ERR_FORMAT);
}
END_TEST

/* Real face geometry: the plain model's 468 points on two photos (TFLite
 * interpreter outputs in tests/fixtures/face-ref, 192-pixel units), scaled by
 * 0.25 as the attention graph does before its three L2TM ops (ops 192-194:
 * rotation points 61/291, 33/133, 362/263; subsets = the refinement maps).
 * Seen through the inverse matrix, the rotation points must lie on one
 * horizontal line (left one first) and the subset's box must be centred in
 * the 16x16 crop with sides 16/1.5. */
START_TEST(l2tm_real_mesh_crops)
{
    const char *cases[2] = {"face-ref/tflite/mesh_astronaut/0_conv2d_21.f32",
                            "face-ref/tflite/mesh_rot45/0_conv2d_21.f32"};
    const int rot[3][2] = {{61, 291}, {33, 133}, {362, 263}};
    const uint16_t *maps[3] = {sm_mp_lips_index_map, sm_mp_left_eye_index_map,
                               sm_mp_right_eye_index_map};
    const size_t counts[3] = {SM_MP_LIPS_POINTS, SM_MP_EYE_POINTS, SM_MP_EYE_POINTS};
    for (int c = 0; c < 2; c++) {
        uint8_t *buf;
        size_t len;
        sm_error err;
        ck_assert_msg(sm_file_read_all(sm_test_committed(cases[c]), 0, &buf, &len, &err) == SM_OK,
                      "%s", err.msg);
        ck_assert_uint_eq(len, 468 * 3 * sizeof(float));
        float mesh[468 * 3];
        memcpy(mesh, buf, len);
        free(buf);
        for (int i = 0; i < 468 * 3; i++)
            mesh[i] *= 0.25f;
        for (int g = 0; g < 3; g++) {
            sm_mp_l2tm_options o = base_options();
            o.left_rotation_idx = rot[g][0];
            o.right_rotation_idx = rot[g][1];
            o.scale_x = o.scale_y = 1.5f;
            o.n_subset = counts[g];
            for (size_t k = 0; k < counts[g]; k++)
                o.subset_idxs[k] = maps[g][k];
            ck_assert_int_eq(sm_mp_l2tm_options_check(&o, 468, &err), SM_OK);
            float m[16], inv[16];
            sm_mp_landmarks_to_transform_matrix(&o, mesh, m);
            invert_affine(m, inv);
            float pts[2 * 80], crop[2 * 80];
            for (size_t k = 0; k < counts[g]; k++) {
                pts[2 * k] = mesh[3 * maps[g][k]];
                pts[2 * k + 1] = mesh[3 * maps[g][k] + 1];
            }
            sm_mp_transform_landmarks(pts, counts[g], 2, inv, crop);
            double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
            for (size_t k = 0; k < counts[g]; k++) {
                x0 = fmin(x0, crop[2 * k]);
                x1 = fmax(x1, crop[2 * k]);
                y0 = fmin(y0, crop[2 * k + 1]);
                y1 = fmax(y1, crop[2 * k + 1]);
            }
            ck_assert_msg(fabs((x0 + x1) / 2 - 8) < 1e-3 && fabs((y0 + y1) / 2 - 8) < 1e-3 &&
                              fabs(x1 - x0 - 16 / 1.5) < 1e-3 && fabs(y1 - y0 - 16 / 1.5) < 1e-3,
                          "%s group %d: box x [%g, %g] y [%g, %g]", cases[c], g, x0, x1, y0, y1);
            const float ends[4] = {mesh[3 * rot[g][0]], mesh[3 * rot[g][0] + 1],
                                   mesh[3 * rot[g][1]], mesh[3 * rot[g][1] + 1]};
            float e[4];
            sm_mp_transform_landmarks(ends, 2, 2, inv, e);
            ck_assert_msg(fabs(e[1] - e[3]) < 1e-3 && e[0] < e[2],
                          "%s group %d: rotation points (%g,%g) (%g,%g)", cases[c], g, e[0], e[1],
                          e[2], e[3]);
        }
    }
}
END_TEST

/* ---- TransformTensorBilinear ------------------------------------------------------------ */

static float ramp(double x, double y, size_t ch)
{
    return (float)(0.5 * x + 0.25 * y + 10.0 * (double)ch + 1.0);
}

static float *ramp_image(size_t h, size_t w, size_t c)
{
    float *im = malloc(h * w * c * sizeof(float));
    ck_assert_ptr_nonnull(im);
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            for (size_t k = 0; k < c; k++)
                im[(y * w + x) * c + k] = ramp((double)x, (double)y, k);
    return im;
}

static void affine(float m[16], double a, double b, double tx, double c, double d, double ty)
{
    memset(m, 0, 16 * sizeof(float));
    m[0] = (float)a;
    m[1] = (float)b;
    m[3] = (float)tx;
    m[4] = (float)c;
    m[5] = (float)d;
    m[7] = (float)ty;
    m[10] = m[15] = 1;
}

/* Identity keeps every value; a translation by (dx,dy) reads (x+dx, y+dy),
 * and whatever falls past the input is 0. Exact. */
START_TEST(ttb_identity_and_translation)
{
    const size_t h = 6, w = 9, c = 3;
    float *im = ramp_image(h, w, c);
    float out[6 * 9 * 3], m[16];
    affine(m, 1, 0, 0, 0, 1, 0);
    sm_mp_transform_tensor_bilinear(im, h, w, c, m, h, w, out);
    ck_assert(!memcmp(out, im, sizeof out));

    const int dx = 2, dy = -1;
    affine(m, 1, 0, dx, 0, 1, dy);
    sm_mp_transform_tensor_bilinear(im, h, w, c, m, h, w, out);
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            for (size_t k = 0; k < c; k++) {
                long sx = (long)x + dx, sy = (long)y + dy;
                float e = sx >= 0 && sx < (long)w && sy >= 0 && sy < (long)h
                              ? im[((size_t)sy * w + (size_t)sx) * c + k]
                              : 0.0f;
                ck_assert_float_eq(out[(y * w + x) * c + k], e);
            }
    free(im);
}
END_TEST

/* A 90-degree rotation about the image centre (continuous coordinates:
 * p = R (q - n/2) + n/2 with pixel centres at k+0.5) is an exact permutation:
 * out[y][x] = in[x][n-1-y]. */
START_TEST(ttb_rotation_90)
{
    const size_t n = 7, c = 2;
    float *im = malloc(n * n * c * sizeof(float));
    for (size_t i = 0; i < n * n * c; i++)
        im[i] = (float)(i * 3 + 1);
    float out[7 * 7 * 2], m[16];
    double h = n / 2.0;
    /* x' = -y + n,  y' = x  (R = [0 -1; 1 0], t = n/2 - R n/2) */
    affine(m, 0, -1, h + h, 1, 0, h - h);
    sm_mp_transform_tensor_bilinear(im, n, n, c, m, n, n, out);
    for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++)
            for (size_t k = 0; k < c; k++)
                ck_assert_float_eq(out[(y * n + x) * c + k], im[(x * n + (n - 1 - y)) * c + k]);
    free(im);
}
END_TEST

/* Random affine maps on a linear ramp: bilinear interpolation of a plane is
 * the plane, so each output is the ramp at p = A (x+0.5, y+0.5) + t - 0.5,
 * or 0 when p is outside [0,w-1] x [0,h-1]. Also covers a down/upscale. */
START_TEST(ttb_affine_on_ramp)
{
    const size_t h = 48, w = 40, c = 4, oh = 16, ow = 12;
    float *im = ramp_image(h, w, c);
    float out[16 * 12 * 4], m[16];
    sm_test_seed(1234);
    size_t inside = 0, outside = 0;
    for (int trial = 0; trial < 200; trial++) {
        double ang = sm_test_uniform(-3.1f, 3.1f), sc = sm_test_uniform(0.3f, 4.0f);
        double sy = sc * sm_test_uniform(0.6f, 1.6f);
        affine(m, sc * cos(ang), -sy * sin(ang), sm_test_uniform(-10, 50), sc * sin(ang),
               sy * cos(ang), sm_test_uniform(-10, 58));
        sm_mp_transform_tensor_bilinear(im, h, w, c, m, oh, ow, out);
        for (size_t y = 0; y < oh; y++)
            for (size_t x = 0; x < ow; x++) {
                double px, py;
                apply(m, x + 0.5, y + 0.5, &px, &py);
                px -= 0.5;
                py -= 0.5;
                const double e = 1e-3;
                bool in = px > e && px < w - 1 - e && py > e && py < h - 1 - e;
                bool out_ = px < -e || px > w - 1 + e || py < -e || py > h - 1 + e;
                for (size_t k = 0; k < c; k++) {
                    float got = out[(y * ow + x) * c + k];
                    if (in)
                        ck_assert_msg(fabs(got - ramp(px, py, k)) < 2e-3,
                                      "trial %d (%zu,%zu,%zu): %g vs %g at (%g,%g)", trial, x,
                                      y, k, got, ramp(px, py, k), px, py);
                    else if (out_)
                        ck_assert_float_eq(got, 0.0f);
                }
                inside += in;
                outside += out_;
            }
    }
    ck_assert(inside > 1000 && outside > 1000);
    free(im);
}
END_TEST

/* Border rules: sampling exactly the last column/row is inside (its value);
 * anything beyond it, or below 0 (even within half a pixel), is 0 - no clamping. */
START_TEST(ttb_border)
{
    const size_t h = 4, w = 5, c = 1;
    float *im = ramp_image(h, w, c);
    float out[1], m[16];
    /* One output pixel with A = I samples exactly p = (0.5 + t) - 0.5 = t. */
    const double xs[] = {-0.25, 0.0, 4.0, 4.001, 3.5, -1e-6};
    const double ys[] = {3.0, 3.0, 3.0, 3.0, 3.0, 0.0};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        affine(m, 1, 0, xs[i], 0, 1, ys[i]);
        sm_mp_transform_tensor_bilinear(im, h, w, c, m, 1, 1, out);
        bool inside = xs[i] >= 0 && xs[i] <= w - 1 && ys[i] >= 0 && ys[i] <= h - 1;
        float e = inside ? ramp(xs[i], ys[i], 0) : 0.0f;
        ck_assert_msg(fabs(out[0] - e) < 1e-6, "x=%g y=%g: %g expected %g", xs[i], ys[i],
                      out[0], e);
    }
    /* bottom-right corner exactly: its own value */
    affine(m, 1, 0, 4, 0, 1, 3);
    sm_mp_transform_tensor_bilinear(im, h, w, c, m, 1, 1, out);
    ck_assert_float_eq(out[0], im[3 * w + 4]);
    /* NaN coordinates propagate; infinite ones are outside */
    affine(m, NAN, 0, 0, 0, 1, 0);
    sm_mp_transform_tensor_bilinear(im, h, w, c, m, 1, 1, out);
    ck_assert(isnan(out[0]));
    affine(m, 1, 0, INFINITY, 0, 1, 0);
    sm_mp_transform_tensor_bilinear(im, h, w, c, m, 1, 1, out);
    ck_assert_float_eq(out[0], 0.0f);
    free(im);
}
END_TEST

/* ---- TransformLandmarks ----------------------------------------------------------------- */

START_TEST(tl_affine_inverse_round_trip)
{
    /* M from a real L2TM call on a rotated rectangle */
    float lm[8 * 3];
    memset(lm, 0, sizeof lm);
    put(lm, 0, 10, 10);
    put(lm, 1, 20, 15);
    put(lm, 2, 12, 30);
    put(lm, 3, 30, 8);
    put(lm, 4, 25, 25);
    sm_mp_l2tm_options o = base_options();
    o.scale_x = o.scale_y = 1.5f;
    o.n_subset = 5;
    for (int k = 0; k < 5; k++)
        o.subset_idxs[k] = k;
    float m[16], inv[16];
    sm_mp_landmarks_to_transform_matrix(&o, lm, m);
    invert_affine(m, inv);

    float pts[7 * 2], crop[7 * 2], back[7 * 2];
    for (int i = 0; i < 14; i++)
        pts[i] = (float)(i * 3.7 - 5);
    sm_mp_transform_landmarks(pts, 7, 2, inv, crop);
    sm_mp_transform_landmarks(crop, 7, 2, m, back);
    for (int i = 0; i < 14; i++)
        ck_assert_msg(fabs(back[i] - pts[i]) < 1e-4, "%d: %g vs %g", i, back[i], pts[i]);
    for (int i = 0; i < 7; i++) {
        double ex, ey;
        apply(inv, pts[2 * i], pts[2 * i + 1], &ex, &ey);
        ck_assert(fabs(crop[2 * i] - ex) < 1e-4 && fabs(crop[2 * i + 1] - ey) < 1e-4);
    }
}
END_TEST

START_TEST(tl_dims3_keeps_z_and_in_place)
{
    float m[16];
    affine(m, 0, -2, 5, 2, 0, -1); /* rotate 90 degrees, scale 2, shift */
    float p[3 * 3] = {1, 2, 7, -3, 0.5f, -8, 0, 0, 0.25f};
    float q[9];
    sm_mp_transform_landmarks(p, 3, 3, m, q);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(q[3 * i + 0], -2 * p[3 * i + 1] + 5);
        ck_assert_float_eq(q[3 * i + 1], 2 * p[3 * i + 0] - 1);
        ck_assert_float_eq(q[3 * i + 2], p[3 * i + 2]);
    }
    sm_mp_transform_landmarks(p, 3, 3, m, p); /* in place */
    ck_assert(!memcmp(p, q, sizeof q));
    float r[9];
    memcpy(r, q, sizeof r);
    sm_mp_transform_landmarks(q, 3, 4, m, r); /* unsupported dims: untouched */
    ck_assert(!memcmp(r, q, sizeof r));
}
END_TEST

/* ---- refinement ------------------------------------------------------------------------- */

/* Reads the integer list after `"key": [` on a listing line. */
static size_t json_ints(const char *line, const char *key, int *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": [", key);
    const char *p = strstr(line, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    size_t n = 0;
    while (*p && *p != ']') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (n < cap)
            out[n] = (int)v;
        n++;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return n;
}

static bool json_num(const char *line, const char *key, double *out)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    if (!p)
        return false;
    *out = strtod(p + strlen(pat), NULL);
    return true;
}

/* The listing line of operator idx, or false. */
static bool listing_line(int idx, char *line, size_t cap)
{
    const char *path = sm_test_shared("reference/face_models_nodes/face_landmark_with_attention.txt");
    if (!path)
        return false;
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char tag[16];
    snprintf(tag, sizeof tag, "[%3d] ", idx);
    bool found = false;
    while (fgets(line, (int)cap, f))
        if (strstr(line, tag) == line + strspn(line, " ")) {
            found = true;
            break;
        }
    fclose(f);
    return found;
}

START_TEST(refine_maps_match_model_listing)
{
    /* counts and a few well-known points (mouth corners 61/291, eye corners 33/133, 263/362) */
    ck_assert_int_eq(sm_mp_lips_index_map[0], 61);
    ck_assert_int_eq(sm_mp_lips_index_map[10], 291);
    ck_assert_int_eq(sm_mp_left_eye_index_map[0], 33);
    ck_assert_int_eq(sm_mp_left_eye_index_map[8], 133);
    ck_assert_int_eq(sm_mp_right_eye_index_map[0], 263);
    ck_assert_int_eq(sm_mp_right_eye_index_map[8], 362);
    /* every mapped point is a mesh point, and no point is refined twice */
    bool used[SM_MP_MESH_POINTS] = {false};
    const uint16_t *maps[3] = {sm_mp_lips_index_map, sm_mp_left_eye_index_map,
                               sm_mp_right_eye_index_map};
    const size_t counts[3] = {SM_MP_LIPS_POINTS, SM_MP_EYE_POINTS, SM_MP_EYE_POINTS};
    for (int g = 0; g < 3; g++)
        for (size_t i = 0; i < counts[g]; i++) {
            ck_assert_uint_lt(maps[g][i], SM_MP_MESH_POINTS);
            ck_assert_msg(!used[maps[g][i]], "mesh point %u refined twice", maps[g][i]);
            used[maps[g][i]] = true;
        }

    char line[8192];
    if (!listing_line(192, line, sizeof line)) {
        sm_test_skip("refine_maps_match_model_listing", "shared/reference listing not found");
        return;
    }
    /* the L2TM crops of ops 192/193/194 use exactly the refined point lists */
    for (int g = 0; g < 3; g++) {
        ck_assert(listing_line(192 + g, line, sizeof line));
        ck_assert_ptr_nonnull(strstr(line, "CUSTOM:Landmarks2TransformMatrix"));
        int idx[256];
        size_t n = json_ints(line, "subset_idxs", idx, 256);
        ck_assert_uint_eq(n, counts[g]);
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(idx[i], maps[g][i]);
    }
    /* and the outputs they refine have those sizes: lips 80, eyes 71, irises 5 (x,y) */
    const int tl_ops[5] = {701, 702, 703, 704, 705};
    const char *shapes[5] = {"[1, 80, 2]", "[1, 71, 2]", "[1, 5, 2]", "[1, 71, 2]", "[1, 5, 2]"};
    for (int k = 0; k < 5; k++) {
        ck_assert(listing_line(tl_ops[k], line, sizeof line));
        ck_assert_ptr_nonnull(strstr(line, "CUSTOM:TransformLandmarks"));
        ck_assert_ptr_nonnull(strstr(strstr(line, "->"), shapes[k]));
    }
}
END_TEST

START_TEST(refine_merge)
{
    float mesh[468 * 3], lips[80 * 2], le[71 * 2], re[71 * 2], li[5 * 2], ri[5 * 2];
    float out[478 * 3];
    for (int i = 0; i < 468; i++) {
        mesh[3 * i] = (float)i;
        mesh[3 * i + 1] = 1000.0f + (float)i;
        mesh[3 * i + 2] = (float)(i % 17) * 0.125f - 1.0f;
    }
    for (int i = 0; i < 80 * 2; i++) lips[i] = -1.0f - (float)i;
    for (int i = 0; i < 71 * 2; i++) le[i] = -500.0f - (float)i;
    for (int i = 0; i < 71 * 2; i++) re[i] = -900.0f - (float)i;
    for (int i = 0; i < 10; i++) li[i] = 5000.0f + (float)i;
    for (int i = 0; i < 10; i++) ri[i] = 6000.0f + (float)i;
    for (int i = 0; i < 478 * 3; i++) out[i] = NAN;
    sm_mp_refine_landmarks(mesh, lips, le, re, li, ri, out);

    int refined[468];
    for (int i = 0; i < 468; i++) refined[i] = -1;
    for (int i = 0; i < 80; i++) refined[sm_mp_lips_index_map[i]] = i;
    for (int i = 0; i < 71; i++) refined[sm_mp_left_eye_index_map[i]] = 1000 + i;
    for (int i = 0; i < 71; i++) refined[sm_mp_right_eye_index_map[i]] = 2000 + i;
    int n_kept = 0;
    for (int i = 0; i < 468; i++) {
        const float *p = out + 3 * i;
        ck_assert_float_eq(p[2], mesh[3 * i + 2]); /* z always from the mesh */
        int r = refined[i];
        const float *src = r < 0 ? NULL : r < 1000 ? lips + 2 * r : r < 2000 ? le + 2 * (r - 1000) : re + 2 * (r - 2000);
        if (!src) {
            ck_assert_float_eq(p[0], mesh[3 * i]);
            ck_assert_float_eq(p[1], mesh[3 * i + 1]);
            n_kept++;
        } else {
            ck_assert_float_eq(p[0], src[0]);
            ck_assert_float_eq(p[1], src[1]);
        }
    }
    ck_assert_int_eq(n_kept, 468 - 80 - 71 - 71);
    /* irises at 468..472 (left) and 473..477 (right); z = mean mesh z of the
     * eye's 16 contour points (lower 9 + upper 7) */
    const uint16_t *eyes[2] = {sm_mp_left_eye_index_map, sm_mp_right_eye_index_map};
    const float *iris[2] = {li, ri};
    for (int e = 0; e < 2; e++) {
        double zs = 0;
        for (int k = 0; k < 16; k++)
            zs += mesh[3 * eyes[e][k] + 2];
        for (int k = 0; k < 5; k++) {
            const float *p = out + 3 * (468 + 5 * e + k);
            ck_assert_float_eq(p[0], iris[e][2 * k]);
            ck_assert_float_eq(p[1], iris[e][2 * k + 1]);
            ck_assert_float_eq(p[2], (float)(zs / 16));
        }
    }
    /* left eye contour = 33 (outer corner) ... 133 (inner corner): the same
     * points the tracker uses for the ROI rotation (FACE_MODELS.md section 3) */
    ck_assert_float_eq(out[33 * 3], le[0]);
    ck_assert_float_eq(out[263 * 3], re[0]);
}
END_TEST

/* One official 478-point set (any units, x/y/z scaled alike): split it into the
 * calculator's inputs, merge again and compare. The iris z of the official
 * output must be the mean of the eye-contour z (left iris 468..472 with the
 * eye whose contour starts at 33), which our merge recomputes. */
static void check_official(const float *lm, const char *what, double *worst, double *sep)
{
    float mesh[468 * 3], lips[80 * 2], le[71 * 2], re[71 * 2], li[10], ri[10], out[478 * 3];
    memcpy(mesh, lm, sizeof mesh);
    for (int i = 0; i < 80; i++)
        memcpy(lips + 2 * i, lm + 3 * sm_mp_lips_index_map[i], 2 * sizeof(float));
    for (int i = 0; i < 71; i++) {
        memcpy(le + 2 * i, lm + 3 * sm_mp_left_eye_index_map[i], 2 * sizeof(float));
        memcpy(re + 2 * i, lm + 3 * sm_mp_right_eye_index_map[i], 2 * sizeof(float));
    }
    for (int i = 0; i < 5; i++) {
        memcpy(li + 2 * i, lm + 3 * (468 + i), 2 * sizeof(float));
        memcpy(ri + 2 * i, lm + 3 * (473 + i), 2 * sizeof(float));
    }
    sm_mp_refine_landmarks(mesh, lips, le, re, li, ri, out);
    double zmax = 0;
    for (int i = 0; i < 478; i++)
        zmax = fmax(zmax, fabs(lm[3 * i + 2]));
    for (int i = 0; i < 478 * 3; i++) {
        double d = fabs((double)out[i] - lm[i]);
        if (i < 468 * 3 || i % 3 != 2) {
            ck_assert_msg(d == 0, "%s: value %d differs", what, i);
        } else {
            ck_assert_msg(d <= 1e-5 * zmax, "%s: iris z of point %d: %g vs official %g", what,
                          i / 3, out[i], lm[i]);
            *worst = fmax(*worst, d / zmax);
        }
    }
    *sep = fmin(*sep, fabs((double)out[468 * 3 + 2] - out[473 * 3 + 2]) / zmax);
}

START_TEST(refine_reproduces_official_pipeline)
{
    const char *imgs[] = {"astronaut", "wide", "tall", "rot45", "small"};
    double worst = 0, sep = INFINITY;
    int n_sets = 0;
    for (size_t k = 0; k < sizeof imgs / sizeof *imgs; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "face-ref/mediapipe/%s.refine.json", imgs[k]);
        const char *path = sm_test_committed(rel);
        uint8_t *buf;
        size_t len;
        sm_error err;
        ck_assert_msg(sm_file_read_all(path, 0, &buf, &len, &err) == SM_OK, "%s", err.msg);
        char *text = malloc(len + 1);
        memcpy(text, buf, len);
        text[len] = 0;
        free(buf);
        /* every "landmarks_norm": [[x, y, z], ...] (first send and 2 tracking sends) */
        const char *tag = "\"landmarks_norm\": [";
        int sets_here = 0;
        for (const char *p = strstr(text, tag); p; p = strstr(p, tag)) {
            p += strlen(tag);
            float lm[478 * 3];
            int n = 0;
            while (n < 478 * 3 && *p) {
                if (*p == '[' || *p == ',' || *p == ' ' || *p == '\n' || *p == '\r') {
                    p++;
                    continue;
                }
                char *end;
                double v = strtod(p, &end);
                ck_assert_msg(end != p, "%s: bad number near '%.20s'", rel, p);
                lm[n++] = (float)v;
                p = end;
                while (*p == ' ' || *p == '\n') p++;
                if (*p == ']' && n % 3 != 0)
                    ck_abort_msg("%s: a landmark without 3 values", rel);
                while (*p == ']') p++;
                if (n % 3 == 0 && *p != ',' && n < 478 * 3)
                    break; /* list ended early */
            }
            ck_assert_msg(n == 478 * 3, "%s: %d values, expected 1434", rel, n);
            char what[160];
            snprintf(what, sizeof what, "%s set %d", rel, sets_here);
            check_official(lm, what, &worst, &sep);
            sets_here++;
        }
        ck_assert_msg(sets_here == 3, "%s: %d landmark sets, expected 3", rel, sets_here);
        n_sets += sets_here;
        free(text);
    }
    /* the 10-frame tracking clip, in pixels [x*W, y*H, z*W] */
    sm_npy clip;
    sm_error err;
    ck_assert_msg(sm_npy_load(sm_test_committed("face-ref/mediapipe/clip.refine.landmarks.npy"),
                              &clip, &err) == SM_OK,
                  "%s", err.msg);
    ck_assert(clip.dtype == SM_DTYPE_F32 && clip.ndim == 3 && clip.dims[0] == 10 &&
              clip.dims[1] == 478 && clip.dims[2] == 3);
    for (int fr = 0; fr < 10; fr++) {
        char what[64];
        snprintf(what, sizeof what, "clip frame %d", fr);
        check_official((const float *)clip.data + (size_t)fr * 478 * 3, what, &worst, &sep);
        n_sets++;
    }
    sm_npy_free(&clip);
    /* the two irises' z differ far more than our error: the contours are not swapped */
    ck_assert_msg(sep > 100 * worst, "iris z separation %g vs error %g", sep, worst);
    printf("refine vs official: %d sets, iris z max error %.3g of max|z|, left/right separation >= %.3g\n",
           n_sets, worst, sep);
}
END_TEST

/* ---- options from .smw metadata --------------------------------------------------------- */

/* The converted attention model: a prebuilt .smw fixture, models/, or the
 * .tflite fixture converted in memory (*buf then owns the bytes). */
static sm_smw *open_attention_model(uint8_t **buf)
{
    *buf = NULL;
    sm_error err;
    sm_smw *f = NULL;
    const char *p = sm_test_fixture("tflite/face_landmark_with_attention.smw");
    char repo_path[4096];
    if (!p) {
        const char *repo = getenv("SM_REPO");
        snprintf(repo_path, sizeof repo_path, "%s/models/face_landmark_with_attention.smw",
                 repo ? repo : ".");
        FILE *t = fopen(repo_path, "rb");
        if (t) {
            fclose(t);
            p = repo_path;
        }
    }
    if (p) {
        ck_assert_msg(sm_smw_open(p, NULL, &f, &err) == SM_OK, "%s", err.msg);
        return f;
    }
    p = sm_test_fixture("tflite/face_landmark_with_attention.tflite");
    if (!p)
        return NULL;
    uint8_t *tfl;
    size_t len, slen;
    ck_assert_int_eq(sm_file_read_all(p, 0, &tfl, &len, &err), SM_OK);
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    sm_convert_opts opts;
    memset(&opts, 0, sizeof opts);
    sm_convert_summary sum;
    ck_assert_msg(sm_convert_tflite(tfl, len, p, &opts, w, &sum, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(sm_smw_writer_serialize(w, buf, &slen, &err), SM_OK);
    sm_smw_writer_free(w);
    free(tfl);
    ck_assert_msg(sm_smw_parse(*buf, slen, "face_landmark_with_attention.smw", NULL, &f, &err) ==
                      SM_OK,
                  "%s", err.msg);
    return f;
}

START_TEST(options_from_real_model)
{
    uint8_t *buf;
    sm_smw *f = open_attention_model(&buf);
    if (!f) {
        sm_test_skip("options_from_real_model",
                     "no face_landmark_with_attention .smw/.tflite fixture (run make models or "
                     "the tflite fixture generator)");
        return;
    }
    char line[8192];
    bool have_listing = listing_line(192, line, sizeof line);
    if (!have_listing)
        sm_test_skip("options_from_real_model", "listing absent: options checked for sanity only");
    sm_error err;
    uint32_t n_ops;
    ck_assert_int_eq(sm_smw_meta_u32(f, "graph.n_ops", &n_ops, &err), SM_OK);
    ck_assert_uint_eq(n_ops, 712);
    /* exactly the custom ops of the listing, at the same indices */
    int n_l2tm = 0, n_ttb = 0, n_tl = 0;
    for (uint32_t i = 0; i < n_ops; i++) {
        char key[64];
        snprintf(key, sizeof key, "graph.op.%u.op", i);
        sm_str s;
        ck_assert_int_eq(sm_smw_meta_string(f, key, &s, &err), SM_OK);
        if (s.len < 7 || memcmp(s.ptr, "CUSTOM:", 7))
            continue;
        if (have_listing) {
            ck_assert(listing_line((int)i, line, sizeof line));
            char want[96];
            snprintf(want, sizeof want, "%.*s ", (int)s.len, s.ptr);
            ck_assert_msg(strstr(line, want) != NULL, "op %u is %.*s, listing: %s", i,
                          (int)s.len, s.ptr, line);
        }
        if (s.len == strlen(SM_MP_OP_L2TM) && !memcmp(s.ptr, SM_MP_OP_L2TM, s.len)) {
            n_l2tm++;
            sm_mp_l2tm_options o;
            ck_assert_msg(sm_mp_l2tm_options_load(f, i, 468, &o, &err) == SM_OK, "%s", err.msg);
            ck_assert_int_eq(o.output_width, 16);
            ck_assert_int_eq(o.output_height, 16);
            if (have_listing) {
                double v;
                ck_assert(json_num(line, "left_rotation_idx", &v) && v == o.left_rotation_idx);
                ck_assert(json_num(line, "right_rotation_idx", &v) && v == o.right_rotation_idx);
                ck_assert(json_num(line, "output_width", &v) && v == o.output_width);
                ck_assert(json_num(line, "output_height", &v) && v == o.output_height);
                ck_assert(json_num(line, "scale_x", &v) && (float)v == o.scale_x);
                ck_assert(json_num(line, "scale_y", &v) && (float)v == o.scale_y);
                ck_assert(json_num(line, "target_rotation_radians", &v) &&
                          (float)v == o.target_rotation_radians);
                int idx[SM_MP_L2TM_MAX_SUBSET];
                size_t n = json_ints(line, "subset_idxs", idx, SM_MP_L2TM_MAX_SUBSET);
                ck_assert_uint_eq(n, o.n_subset);
                for (size_t k = 0; k < n; k++)
                    ck_assert_int_eq(idx[k], o.subset_idxs[k]);
            }
            /* the mesh has 468 points: fewer make the options invalid */
            ck_assert_int_eq(sm_mp_l2tm_options_load(f, i, 200, &o, &err), SM_ERR_FORMAT);
            ck_assert_ptr_nonnull(strstr(err.msg, "operator"));
        } else if (s.len == strlen(SM_MP_OP_TTB) && !memcmp(s.ptr, SM_MP_OP_TTB, s.len)) {
            n_ttb++;
            sm_mp_ttb_options o;
            ck_assert_msg(sm_mp_ttb_options_load(f, i, &o, &err) == SM_OK, "%s", err.msg);
            if (have_listing) {
                double v;
                ck_assert(json_num(line, "output_width", &v) && v == o.output_width);
                ck_assert(json_num(line, "output_height", &v) && v == o.output_height);
            }
        } else if (s.len == strlen(SM_MP_OP_TL) && !memcmp(s.ptr, SM_MP_OP_TL, s.len)) {
            n_tl++;
            ck_assert_msg(sm_mp_tl_check(f, i, &err) == SM_OK, "%s", err.msg);
        } else {
            ck_abort_msg("unexpected custom op %.*s", (int)s.len, s.ptr);
        }
    }
    ck_assert_int_eq(n_l2tm, 3);
    ck_assert_int_eq(n_ttb, 3);
    ck_assert_int_eq(n_tl, 5);
    /* asking for the wrong kind names the op */
    sm_mp_ttb_options t;
    ck_assert_int_eq(sm_mp_ttb_options_load(f, 192, &t, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "operator 192"));
    ck_assert_int_eq(sm_mp_tl_check(f, 2, &err), SM_ERR_FORMAT);
    sm_smw_free(f);
    free(buf);
}
END_TEST

typedef enum {
    BAD_NONE, BAD_VERSION, BAD_OPNAME, BAD_MISSING_SCALE, BAD_SCALE_STRING, BAD_NEG_INDEX,
    BAD_INDEX_RANGE, BAD_SUBSET_FLOAT, BAD_SUBSET_EMPTY, BAD_OUTPUT_ZERO, BAD_COUNT
} bad_kind;

/* A one-op .smw with L2TM options (and a TTB op at index 1), spoiled by `bad`. */
static sm_smw *synthetic(bad_kind bad, uint8_t **buf)
{
    sm_error err;
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "graph.n_ops", 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "graph.op.0.op",
                                              bad == BAD_OPNAME ? "CUSTOM:TransformLandmarks"
                                                                : SM_MP_OP_L2TM,
                                              &err),
                     SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "graph.op.0.version", bad == BAD_VERSION ? 1 : 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "graph.op.0.left_rotation_idx", bad == BAD_NEG_INDEX ? -3 : 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "graph.op.0.right_rotation_idx", bad == BAD_INDEX_RANGE ? 50 : 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "graph.op.0.output_width", 8, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "graph.op.0.output_height", bad == BAD_OUTPUT_ZERO ? 0 : 4, &err), SM_OK);
    if (bad == BAD_SCALE_STRING)
        ck_assert_int_eq(sm_smw_writer_add_string(w, "graph.op.0.scale_x", "1.5", &err), SM_OK);
    else if (bad != BAD_MISSING_SCALE)
        ck_assert_int_eq(sm_smw_writer_add_f32(w, "graph.op.0.scale_x", 1.5f, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_f64(w, "graph.op.0.scale_y", 2.0, &err), SM_OK);
    const int32_t subset[3] = {3, 4, 5};
    const float fsub[3] = {3, 4, 5};
    if (bad == BAD_SUBSET_FLOAT)
        ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.op.0.subset_idxs", SM_META_F32, fsub, 3, &err), SM_OK);
    else
        ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.op.0.subset_idxs", SM_META_I32, subset,
                                                 bad == BAD_SUBSET_EMPTY ? 0 : 3, &err),
                         SM_OK);
    /* target_rotation_radians absent: MediaPipe reads 0 */
    ck_assert_int_eq(sm_smw_writer_add_string(w, "graph.op.1.op", SM_MP_OP_TTB, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "graph.op.1.version", 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "graph.op.1.output_width", 5, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i64(w, "graph.op.1.output_height", bad == BAD_OUTPUT_ZERO ? 1LL << 40 : 7, &err), SM_OK);
    size_t len;
    ck_assert_int_eq(sm_smw_writer_serialize(w, buf, &len, &err), SM_OK);
    sm_smw_writer_free(w);
    sm_smw *f;
    ck_assert_msg(sm_smw_parse(*buf, len, "synthetic.smw", NULL, &f, &err) == SM_OK, "%s", err.msg);
    return f;
}

START_TEST(options_load_synthetic)
{
    static const struct {
        sm_status st;
        const char *msg;
    } want[BAD_COUNT] = {
        [BAD_NONE] = {SM_OK, ""},
        [BAD_VERSION] = {SM_ERR_UNSUPPORTED, "version 1"},
        [BAD_OPNAME] = {SM_ERR_FORMAT, "expected 'CUSTOM:Landmarks2TransformMatrix'"},
        [BAD_MISSING_SCALE] = {SM_ERR_FORMAT, "graph.op.0.scale_x' missing"},
        [BAD_SCALE_STRING] = {SM_ERR_FORMAT, "expected a number"},
        [BAD_NEG_INDEX] = {SM_ERR_FORMAT, "left_rotation_idx -3"},
        [BAD_INDEX_RANGE] = {SM_ERR_FORMAT, "right_rotation_idx 50 not in [0, 10)"},
        [BAD_SUBSET_FLOAT] = {SM_ERR_FORMAT, "not an integer array"},
        [BAD_SUBSET_EMPTY] = {SM_ERR_FORMAT, "0 entries"},
        [BAD_OUTPUT_ZERO] = {SM_ERR_FORMAT, "output 8x0"},
    };
    bad_kind k = (bad_kind)_i;
    uint8_t *buf;
    sm_smw *f = synthetic(k, &buf);
    sm_error err;
    sm_mp_l2tm_options o;
    sm_status st = sm_mp_l2tm_options_load(f, 0, 10, &o, &err);
    ck_assert_msg(st == want[k].st, "case %d: status %d (%s)", k, st, st ? err.msg : "");
    if (st) {
        ck_assert_msg(strstr(err.msg, want[k].msg) != NULL, "case %d: '%s' lacks '%s'", k,
                      err.msg, want[k].msg);
        ck_assert_ptr_nonnull(strstr(err.msg, "synthetic.smw"));
    } else {
        ck_assert_int_eq(o.left_rotation_idx, 1);
        ck_assert_int_eq(o.right_rotation_idx, 2);
        ck_assert_int_eq(o.output_width, 8);
        ck_assert_int_eq(o.output_height, 4);
        ck_assert_float_eq(o.scale_x, 1.5f);
        ck_assert_float_eq(o.scale_y, 2.0f);
        ck_assert_float_eq(o.target_rotation_radians, 0.0f);
        ck_assert_uint_eq(o.n_subset, 3);
        ck_assert_int_eq(o.subset_idxs[2], 5);
    }
    sm_mp_ttb_options t;
    st = sm_mp_ttb_options_load(f, 1, &t, &err);
    if (k == BAD_OUTPUT_ZERO) {
        ck_assert_int_eq(st, SM_ERR_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
    } else {
        ck_assert_int_eq(st, SM_OK);
        ck_assert_int_eq(t.output_width, 5);
        ck_assert_int_eq(t.output_height, 7);
    }
    /* an op index with no metadata at all */
    ck_assert_int_eq(sm_mp_tl_check(f, 9, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "graph.op.9.op"));
    sm_smw_free(f);
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mediapipe_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, l2tm_rectangle_maps_crop_corners, 0,
                        (int)(sizeof rect_cases / sizeof *rect_cases));
    tcase_add_test(tc, l2tm_target_rotation);
    tcase_add_test(tc, l2tm_subset_selection);
    tcase_add_test(tc, l2tm_options_check_rejects);
    tcase_add_test(tc, l2tm_real_mesh_crops);
    tcase_add_test(tc, ttb_identity_and_translation);
    tcase_add_test(tc, ttb_rotation_90);
    tcase_add_test(tc, ttb_affine_on_ramp);
    tcase_add_test(tc, ttb_border);
    tcase_add_test(tc, tl_affine_inverse_round_trip);
    tcase_add_test(tc, tl_dims3_keeps_z_and_in_place);
    tcase_add_test(tc, refine_maps_match_model_listing);
    tcase_add_test(tc, refine_merge);
    tcase_add_test(tc, refine_reproduces_official_pipeline);
    tcase_add_test(tc, options_from_real_model);
    tcase_add_loop_test(tc, options_load_synthetic, 0, BAD_COUNT);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* Image operations: see sm_image.h for layouts and conventions. */
#include "sm_image.h"

#include <math.h>

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Source index pair and weight for one destination coordinate. */
static inline void axis_sample(int d, int dn, int sn, int *i0, int *i1, float *w)
{
    float s = ((float)d + 0.5f) * (float)sn / (float)dn - 0.5f;
    if (s < 0.0f)
        s = 0.0f;
    if (s > (float)(sn - 1))
        s = (float)(sn - 1);
    int i = (int)s;
    *i0 = i;
    *i1 = i + 1 < sn ? i + 1 : sn - 1;
    *w = s - (float)i;
}

/* Columns are processed in blocks whose source indices and weights are computed
 * once per block (not once per row), in a stack table: no allocation. The u8
 * path interpolates in fixed point with 11-bit weights (error < 0.13 levels
 * before rounding), which keeps the window's per-frame scaling cheap. */
#define RESIZE_BLOCK 256
#define WBITS 11
#define WONE (1 << WBITS)

void sm_image_resize_bilinear_u8(const uint8_t *src, int sw, int sh, size_t sstride,
                                 uint8_t *dst, int dw, int dh, size_t dstride, int channels)
{
    int xa[RESIZE_BLOCK], xb[RESIZE_BLOCK], wxs[RESIZE_BLOCK];
    for (int bx = 0; bx < dw; bx += RESIZE_BLOCK) {
        int n = dw - bx < RESIZE_BLOCK ? dw - bx : RESIZE_BLOCK;
        for (int i = 0; i < n; i++) {
            float w;
            axis_sample(bx + i, dw, sw, &xa[i], &xb[i], &w);
            xa[i] *= channels;
            xb[i] *= channels;
            wxs[i] = (int)(w * WONE + 0.5f);
        }
        for (int y = 0; y < dh; y++) {
            int y0, y1;
            float wyf;
            axis_sample(y, dh, sh, &y0, &y1, &wyf);
            int32_t wy = (int32_t)(wyf * WONE + 0.5f);
            const uint8_t *r0 = src + (size_t)y0 * sstride, *r1 = src + (size_t)y1 * sstride;
            uint8_t *o = dst + (size_t)y * dstride + (size_t)bx * channels;
            for (int i = 0; i < n; i++, o += channels) {
                const uint8_t *a0 = r0 + xa[i], *a1 = r0 + xb[i], *b0 = r1 + xa[i], *b1 = r1 + xb[i];
                int32_t wx = wxs[i];
                for (int c = 0; c < channels; c++) {
                    int32_t a = a0[c] * WONE + wx * (a1[c] - a0[c]);
                    int32_t b = b0[c] * WONE + wx * (b1[c] - b0[c]);
                    int32_t v = a * WONE + wy * (b - a); /* < 2^30 */
                    o[c] = (uint8_t)((v + (1 << (2 * WBITS - 1))) >> (2 * WBITS));
                }
            }
        }
    }
}

/* The same rule in double, for the normalised float output (the seed's path
 * was written that way and app/rppg_pos's test pins it to cv2's rule). */
static inline void axis_sample_d(int d, int dn, int sn, int *i0, int *i1, double *w)
{
    double s = (d + 0.5) * ((double)sn / dn) - 0.5;
    int i = (int)floor(s);
    double f = s - i;
    if (i < 0) {
        i = 0;
        f = 0.0;
    }
    if (i >= sn - 1) {
        i = sn - 1;
        f = 0.0;
    }
    *i0 = i;
    *i1 = i + 1 < sn ? i + 1 : sn - 1;
    *w = f;
}

void sm_image_resize_bilinear_u8_norm(const uint8_t *src, int sw, int sh, size_t sstride,
                                      float *dst, int dw, int dh, size_t dstride, int channels,
                                      const float *mean, const float *std)
{
    int xa[RESIZE_BLOCK], xb[RESIZE_BLOCK];
    double wxs[RESIZE_BLOCK];
    for (int bx = 0; bx < dw; bx += RESIZE_BLOCK) {
        int n = dw - bx < RESIZE_BLOCK ? dw - bx : RESIZE_BLOCK;
        for (int i = 0; i < n; i++) {
            axis_sample_d(bx + i, dw, sw, &xa[i], &xb[i], &wxs[i]);
            xa[i] *= channels;
            xb[i] *= channels;
        }
        for (int y = 0; y < dh; y++) {
            int y0, y1;
            double wy;
            axis_sample_d(y, dh, sh, &y0, &y1, &wy);
            const uint8_t *r0 = src + (size_t)y0 * sstride, *r1 = src + (size_t)y1 * sstride;
            float *o = dst + (size_t)y * dstride + (size_t)bx * channels;
            for (int i = 0; i < n; i++, o += channels) {
                double wx = wxs[i];
                for (int c = 0; c < channels; c++) {
                    double top = r0[xa[i] + c] + wx * (r0[xb[i] + c] - r0[xa[i] + c]);
                    double bot = r1[xa[i] + c] + wx * (r1[xb[i] + c] - r1[xa[i] + c]);
                    double v = floor(top + wy * (bot - top) + 0.5);
                    float u = (float)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v) / 255.0f;
                    o[c] = mean || std ? (u - (mean ? mean[c] : 0.0f)) / (std ? std[c] : 1.0f) : u;
                }
            }
        }
    }
}

void sm_image_sample_bilinear_u8(const uint8_t *src, int sw, int sh, size_t sstride, int channels,
                                 double x, double y, double *out)
{
    /* clamping the point to [-1, size] changes nothing (both neighbours clamp
     * to the same edge pixel) and keeps the integer conversion defined for any
     * point, NaN included */
    if (!(x >= -1.0))
        x = -1.0;
    else if (x > sw)
        x = sw;
    if (!(y >= -1.0))
        y = -1.0;
    else if (y > sh)
        y = sh;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    double ax = x - x0, ay = y - y0;
    int xa = clampi(x0, 0, sw - 1), xb = clampi(x0 + 1, 0, sw - 1);
    int ya = clampi(y0, 0, sh - 1), yb = clampi(y0 + 1, 0, sh - 1);
    const uint8_t *r0 = src + (size_t)ya * sstride, *r1 = src + (size_t)yb * sstride;
    for (int c = 0; c < channels; c++) {
        double top = (1 - ax) * r0[xa * channels + c] + ax * r0[xb * channels + c];
        double bot = (1 - ax) * r1[xa * channels + c] + ax * r1[xb * channels + c];
        out[c] = (1 - ay) * top + ay * bot;
    }
}

/* within this of the image's area a point counts as inside (a map computed
 * another way may land a hair outside an edge the reference samples) */
#define EDGE_EPS 1e-9

void sm_image_warp_affine_u8_f32(const uint8_t *src, int sw, int sh, size_t sstride,
                                 float *dst, int dw, int dh, size_t dstride, int channels,
                                 const double m[6], double scale, double bias, const float *border)
{
    int nc = channels > 4 ? 4 : channels;
    double px[4];
    for (int y = 0; y < dh; y++) {
        float *o = dst + (size_t)y * dstride;
        for (int x = 0; x < dw; x++, o += channels) {
            double sx = m[0] * x + m[1] * y + m[2];
            double sy = m[3] * x + m[4] * y + m[5];
            if (border && !(sx >= -0.5 - EDGE_EPS && sx <= sw - 0.5 + EDGE_EPS && sy >= -0.5 - EDGE_EPS &&
                            sy <= sh - 0.5 + EDGE_EPS)) {
                for (int c = 0; c < nc; c++)
                    o[c] = *border;
                continue;
            }
            sm_image_sample_bilinear_u8(src, sw, sh, sstride, nc, sx, sy, px);
            for (int c = 0; c < nc; c++)
                o[c] = (float)(px[c] * scale + bias);
        }
    }
}

void sm_image_rotated_rect_map(double cx, double cy, double rw, double rh, double angle,
                               int dw, int dh, double m[6])
{
    double cs = cos(angle), sn = sin(angle);
    double kx = rw / dw, ky = rh / dh;
    /* offset of destination pixel (u, v) from the centre, in source pixels */
    double ox0 = 0.5 * kx - 0.5 * rw, oy0 = 0.5 * ky - 0.5 * rh;
    m[0] = cs * kx;
    m[1] = -sn * ky;
    m[2] = cx + cs * ox0 - sn * oy0;
    m[3] = sn * kx;
    m[4] = cs * ky;
    m[5] = cy + sn * ox0 + cs * oy0;
}

/* ---- colour ---------------------------------------------------------------- */

/* Fixed point, 16 fractional bits (error < 0.01 levels before rounding):
 * the float formula per pixel was the viewer's hottest loop. */
typedef struct {
    int32_t ky, yoff, rv, gu, gv, bu;
} yuv_coef;

#define FX(v) ((int32_t)((v) * 65536.0 + 0.5))
static const yuv_coef coef_limited = {FX(255.0 / 219.0), 16, FX(1.596027), FX(0.391762), FX(0.812968), FX(2.017232)};
static const yuv_coef coef_full = {FX(1.0), 0, FX(1.402), FX(0.344136), FX(0.714136), FX(1.772)};
#undef FX

static inline uint8_t clamp_fx(int32_t v)
{
    v = (v + 32768) >> 16;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static inline void yuv_px(const yuv_coef *k, int y, int u, int v, uint8_t *o)
{
    int32_t yy = (y - k->yoff) * k->ky;
    int32_t uu = u - 128, vv = v - 128;
    o[0] = clamp_fx(yy + k->rv * vv);
    o[1] = clamp_fx(yy - k->gu * uu - k->gv * vv);
    o[2] = clamp_fx(yy + k->bu * uu);
}

void sm_image_yuyv_to_rgb(const uint8_t *src, size_t sstride, int w, int h,
                          uint8_t *dst, size_t dstride, bool full_range)
{
    const yuv_coef *k = full_range ? &coef_full : &coef_limited;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * sstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x + 1 < w; x += 2, s += 4, o += 6) {
            yuv_px(k, s[0], s[1], s[3], o);
            yuv_px(k, s[2], s[1], s[3], o + 3);
        }
    }
}

void sm_image_i420_to_rgb(const uint8_t *yp, size_t ystride, const uint8_t *up, size_t ustride,
                          const uint8_t *vp, size_t vstride, int w, int h,
                          uint8_t *dst, size_t dstride, bool full_range)
{
    const yuv_coef *k = full_range ? &coef_full : &coef_limited;
    for (int y = 0; y < h; y++) {
        const uint8_t *ys = yp + (size_t)y * ystride;
        const uint8_t *us = up + (size_t)(y / 2) * ustride, *vs = vp + (size_t)(y / 2) * vstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x < w; x++)
            yuv_px(k, ys[x], us[x / 2], vs[x / 2], o + 3 * x);
    }
}

void sm_image_yuv444_to_rgb(const uint8_t *yp, const uint8_t *up, const uint8_t *vp,
                            size_t stride, int w, int h, uint8_t *dst, size_t dstride,
                            bool full_range)
{
    const yuv_coef *k = full_range ? &coef_full : &coef_limited;
    for (int y = 0; y < h; y++) {
        size_t r = (size_t)y * stride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x < w; x++)
            yuv_px(k, yp[r + x], up[r + x], vp[r + x], o + 3 * x);
    }
}

void sm_image_nv12_to_rgb(const uint8_t *yp, size_t ystride, const uint8_t *uv, size_t uvstride,
                          int w, int h, uint8_t *dst, size_t dstride, bool full_range)
{
    const yuv_coef *k = full_range ? &coef_full : &coef_limited;
    for (int y = 0; y < h; y++) {
        const uint8_t *ys = yp + (size_t)y * ystride, *c = uv + (size_t)(y / 2) * uvstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x < w; x++)
            yuv_px(k, ys[x], c[(x / 2) * 2], c[(x / 2) * 2 + 1], o + 3 * x);
    }
}

void sm_image_swap_rb(const uint8_t *src, size_t sstride, int w, int h,
                      uint8_t *dst, size_t dstride)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * sstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int x = 0; x < w; x++) {
            uint8_t r = s[3 * x], g = s[3 * x + 1], b = s[3 * x + 2];
            o[3 * x] = b;
            o[3 * x + 1] = g;
            o[3 * x + 2] = r;
        }
    }
}

void sm_image_flip_h_u8(const uint8_t *src, size_t sstride, int w, int h, int channels,
                        uint8_t *dst, size_t dstride)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * sstride;
        uint8_t *o = dst + (size_t)y * dstride;
        for (int a = 0, b = w - 1; a <= b; a++, b--) {
            for (int c = 0; c < channels; c++) {
                uint8_t l = s[a * channels + c], r = s[b * channels + c];
                o[a * channels + c] = r;
                o[b * channels + c] = l;
            }
        }
    }
}

/* seed_resize.h: the seed app's input preprocessing shared by the emotion and
 * UltraLightNet models: cv2.resize(INTER_LINEAR) of an RGB8 crop to S x S
 * (half-pixel centres, source coordinates clamped at the edges, result rounded
 * to 8 bits as cv2 returns uint8), then x/255 and (x - mean) / std.
 * cv2 interpolates in 11-bit fixed point; this float version can differ from
 * it by one level on a few pixels. To be replaced by engine/image once that
 * lands in main. */
#ifndef SM_SEED_RESIZE_H
#define SM_SEED_RESIZE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static inline void sm_seed_lin_coord(int d, int dn, int sn, int *i0, int *i1, float *f)
{
    float s = ((float)d + 0.5f) * ((float)sn / (float)dn) - 0.5f;
    int i = (int)floorf(s);
    float fr = s - (float)i;
    if (i < 0) {
        i = 0;
        fr = 0.0f;
    }
    if (i >= sn - 1) {
        i = sn - 1;
        fr = 0.0f;
    }
    *i0 = i;
    *i1 = i + 1 < sn ? i + 1 : sn - 1;
    *f = fr;
}

/* crop [x0, x0+cw) x [y0, y0+ch) of rgb (row stride bytes) -> dst S x S x 3. */
static inline void sm_seed_resize_rgb8(const uint8_t *rgb, size_t stride, int x0, int y0, int cw,
                                       int ch, int S, const float mean[3], const float std[3],
                                       float *dst)
{
    for (int y = 0; y < S; y++) {
        int ya, yb;
        float fy;
        sm_seed_lin_coord(y, S, ch, &ya, &yb, &fy);
        const uint8_t *r0 = rgb + (size_t)(y0 + ya) * stride, *r1 = rgb + (size_t)(y0 + yb) * stride;
        for (int x = 0; x < S; x++) {
            int xa, xb;
            float fx;
            sm_seed_lin_coord(x, S, cw, &xa, &xb, &fx);
            const uint8_t *a = r0 + (size_t)(x0 + xa) * 3, *b = r0 + (size_t)(x0 + xb) * 3;
            const uint8_t *c = r1 + (size_t)(x0 + xa) * 3, *d = r1 + (size_t)(x0 + xb) * 3;
            float *o = dst + ((size_t)y * S + x) * 3;
            for (int k = 0; k < 3; k++) {
                float top = (float)a[k] + fx * (float)(b[k] - a[k]);
                float bot = (float)c[k] + fx * (float)(d[k] - c[k]);
                float v = floorf(top + fy * (bot - top) + 0.5f);
                v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
                o[k] = (v / 255.0f - mean[k]) / std[k];
            }
        }
    }
}

#endif

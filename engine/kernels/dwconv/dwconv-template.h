/* Depthwise conv row kernel body: DW_FN, DW_K, DW_S (compile-time), channel tile VN.
 * Channel tiles outer, output pixels inner: a tile's K input rows stay in L1 while
 * the row is swept. The interior runs 4 pixels at a time (4 independent FMA
 * chains) without bounds checks; borders check each tap. */
#include "sm_epilogue.h"

static inline vf dw_pixel_checked(const float *const *rows, const float *wt, size_t c, size_t ch,
                                  size_t n, long ix0, size_t in_w, vf acc)
{
    for (size_t ky = 0; ky < DW_K; ky++) {
        const float *row = rows[ky];
        if (!row)
            continue;
        for (size_t kx = 0; kx < DW_K; kx++) {
            long ix = ix0 + (long)kx;
            if (ix < 0 || ix >= (long)in_w)
                continue;
            const float *ip = row + (size_t)ix * ch + c;
            vf x = n == VN ? v_load(ip) : v_loadn(ip, n);
            acc = v_fma(x, v_load(wt + (ky * DW_K + kx) * VN), acc);
        }
    }
    return acc;
}

void DW_FN(size_t channels, size_t out_w, size_t in_w, size_t pad_left, const float *const *rows,
           const float *w, float *out, const sm_ukernel_params *p)
{
    /* interior: every tap of pixel x is inside [0, in_w) */
    size_t x_lo = (pad_left + DW_S - 1) / DW_S;
    size_t x_hi = in_w + pad_left >= DW_K ? (in_w + pad_left - DW_K) / DW_S + 1 : 0;
    if (x_hi > out_w)
        x_hi = out_w;
    if (x_lo > x_hi)
        x_lo = x_hi = out_w < x_lo ? out_w : x_lo;
    const size_t rs = p->residual_stride;
    for (size_t c = 0; c < channels; c += VN) {
        const size_t n = channels - c < VN ? channels - c : VN;
        const float *wt = w + (c / VN) * (VN * (1 + DW_K * DW_K));
        const vf bias = v_load(wt);
        wt += VN;
        const float *alpha = p->alpha ? p->alpha + c : NULL;
        const float *res = p->residual ? p->residual + c : NULL;
        size_t x = 0;
        for (; x < x_lo; x++) {
            vf acc = dw_pixel_checked(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias);
            sm_epi_store(out + x * channels + c, acc, n, res ? res + x * rs : NULL, p->act, alpha);
        }
        if (n == VN) {
            for (; x + 4 <= x_hi; x += 4) {
                vf a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                for (size_t ky = 0; ky < DW_K; ky++) {
                    const float *row = rows[ky];
                    if (!row)
                        continue;
                    const float *ip = row + (x * DW_S - pad_left) * channels + c;
                    const float *wk = wt + ky * DW_K * VN;
#pragma GCC unroll 8
                    for (size_t kx = 0; kx < DW_K; kx++) {
                        vf wv = v_load(wk + kx * VN);
                        a0 = v_fma(v_load(ip + (kx + 0 * DW_S) * channels), wv, a0);
                        a1 = v_fma(v_load(ip + (kx + 1 * DW_S) * channels), wv, a1);
                        a2 = v_fma(v_load(ip + (kx + 2 * DW_S) * channels), wv, a2);
                        a3 = v_fma(v_load(ip + (kx + 3 * DW_S) * channels), wv, a3);
                    }
                }
                float *op = out + x * channels + c;
                sm_epi_store(op, a0, VN, res ? res + (x + 0) * rs : NULL, p->act, alpha);
                sm_epi_store(op + channels, a1, VN, res ? res + (x + 1) * rs : NULL, p->act, alpha);
                sm_epi_store(op + 2 * channels, a2, VN, res ? res + (x + 2) * rs : NULL, p->act, alpha);
                sm_epi_store(op + 3 * channels, a3, VN, res ? res + (x + 3) * rs : NULL, p->act, alpha);
            }
        }
        for (; x < x_hi; x++) {
            vf acc = bias;
            for (size_t ky = 0; ky < DW_K; ky++) {
                const float *row = rows[ky];
                if (!row)
                    continue;
                const float *ip = row + (x * DW_S - pad_left) * channels + c;
                const float *wk = wt + ky * DW_K * VN;
#pragma GCC unroll 8
                for (size_t kx = 0; kx < DW_K; kx++) {
                    vf xv = n == VN ? v_load(ip + kx * channels) : v_loadn(ip + kx * channels, n);
                    acc = v_fma(xv, v_load(wk + kx * VN), acc);
                }
            }
            sm_epi_store(out + x * channels + c, acc, n, res ? res + x * rs : NULL, p->act, alpha);
        }
        for (; x < out_w; x++) {
            vf acc = dw_pixel_checked(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias);
            sm_epi_store(out + x * channels + c, acc, n, res ? res + x * rs : NULL, p->act, alpha);
        }
    }
}

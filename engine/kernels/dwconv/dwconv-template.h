/* Depthwise conv row kernel body: DW_FN, DW_K, DW_S (compile-time), channel tile VN.
 * Channel tiles outer, output pixels inner: a tile's K input rows stay in L1 while
 * the row is swept. The interior runs 4 pixels at a time (4 independent FMA
 * chains, one weight load feeding 4 FMAs) with no bounds checks; its last block
 * is shifted left to overlap the previous one instead of a slow remainder loop
 * (recomputes identical values, so the residual must not alias out). Border
 * pixels loop over their valid taps only. */
#include "sm_epilogue.h"

static inline vf dw_border_pixel(const float *const *rows, const float *wt, size_t c, size_t ch,
                                 size_t n, long ix0, size_t in_w, vf acc)
{
    size_t kx0 = ix0 < 0 ? (size_t)(-ix0) : 0;
    size_t kx1 = ix0 + DW_K > (long)in_w ? (size_t)((long)in_w - ix0) : DW_K;
    for (size_t ky = 0; ky < DW_K; ky++) {
        const float *row = rows[ky];
        if (!row)
            continue;
        for (size_t kx = kx0; kx < kx1; kx++) {
            const float *ip = row + (size_t)(ix0 + (long)kx) * ch + c;
            vf x = n == VN ? v_load(ip) : v_loadn(ip, n);
            acc = v_fma(x, v_load(wt + (ky * DW_K + kx) * VN), acc);
        }
    }
    return acc;
}

/* DW_BLOCK output pixels at once: each input vector of a row is loaded once and
 * feeds every (pixel, tap) pair that uses it; one weight load feeds DW_BLOCK FMAs. */
#ifndef DW_BLOCK
#if VN == 16
#define DW_BLOCK 8
#else
#define DW_BLOCK 4
#endif
#endif
#define DW_SPAN ((DW_BLOCK - 1) * DW_S + DW_K)

static inline void dw_block(const float *const *rows, const float *wt, size_t c, size_t ch,
                            size_t x, size_t pad_left, vf bias, vf *o)
{
    vf acc[DW_BLOCK];
#pragma GCC unroll 16
    for (size_t i = 0; i < DW_BLOCK; i++)
        acc[i] = bias;
    for (size_t ky = 0; ky < DW_K; ky++) {
        const float *row = rows[ky];
        if (!row)
            continue;
        const float *ip = row + (x * DW_S - pad_left) * ch + c;
        const float *wk = wt + ky * DW_K * VN;
        vf xin[DW_SPAN];
#pragma GCC unroll 32
        for (size_t i = 0; i < DW_SPAN; i++)
            xin[i] = v_load(ip + i * ch);
#pragma GCC unroll 8
        for (size_t kx = 0; kx < DW_K; kx++) {
            vf wv = v_load(wk + kx * VN);
#pragma GCC unroll 16
            for (size_t i = 0; i < DW_BLOCK; i++)
                acc[i] = v_fma(xin[kx + i * DW_S], wv, acc[i]);
        }
    }
#pragma GCC unroll 16
    for (size_t i = 0; i < DW_BLOCK; i++)
        o[i] = acc[i];
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
        for (size_t x = 0; x < x_lo; x++) {
            vf acc = dw_border_pixel(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias);
            sm_epi_store(out + x * channels + c, acc, n, res ? res + x * rs : NULL, p->act, alpha);
        }
        size_t x = x_lo;
        if (n == VN && x_hi - x_lo >= DW_BLOCK) {
            for (;; x += DW_BLOCK) {
                if (x + DW_BLOCK > x_hi)
                    x = x_hi - DW_BLOCK; /* overlap the previous block */
                vf o[DW_BLOCK];
                dw_block(rows, wt, c, channels, x, pad_left, bias, o);
                for (size_t i = 0; i < DW_BLOCK; i++)
                    sm_epi_store(out + (x + i) * channels + c, o[i], VN,
                                 res ? res + (x + i) * rs : NULL, p->act, alpha);
                if (x + DW_BLOCK >= x_hi)
                    break;
            }
            x = x_hi;
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
        for (x = x_hi > x_lo ? x_hi : x_lo; x < out_w; x++) {
            vf acc = dw_border_pixel(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias);
            sm_epi_store(out + x * channels + c, acc, n, res ? res + x * rs : NULL, p->act, alpha);
        }
    }
}

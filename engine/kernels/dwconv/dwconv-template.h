/* Depthwise conv row kernel body: DW_FN, DW_K, DW_S (compile-time), channel tile VN.
 * Channel tiles outer, output pixels inner: a tile's K input rows stay in L1 while
 * the row is swept. Interior pixels (all taps inside the row) run in register blocks
 * of DW_BLOCK, then DW_BLOCK/2, pixels: each input vector of a row is loaded once and
 * feeds every (pixel, tap) pair that uses it, one weight load feeds a whole block.
 * The last block of a run is shifted left to overlap the previous one instead of a
 * remainder loop (it recomputes identical values, so the residual must not alias
 * out). Border pixels visit their valid taps only, with one accumulator per kernel
 * row so the FMA chains stay short. */
#include "sm_epilogue.h"

#ifndef DW_BLOCK
#if VN == 16
#define DW_BLOCK 8
#else
#define DW_BLOCK 4
#endif
#endif

static inline vf dw_ld(const float *p, size_t n, bool full) { return full ? v_load(p) : v_loadn(p, n); }

static inline vf dw_single(const float *const *rows, const float *wt, size_t c, size_t ch,
                           size_t n, long ix0, size_t in_w, vf bias)
{
    size_t kx0 = ix0 < 0 ? (size_t)(-ix0) : 0;
    size_t kx1 = ix0 + DW_K > (long)in_w ? (size_t)((long)in_w - ix0) : DW_K;
    vf acc[DW_K];
    for (size_t ky = 0; ky < DW_K; ky++) {
        acc[ky] = ky == 0 ? bias : v_zero();
        const float *row = rows[ky];
        if (!row)
            continue;
        for (size_t kx = kx0; kx < kx1; kx++)
            acc[ky] = v_fma(dw_ld(row + (size_t)(ix0 + (long)kx) * ch + c, n, n == VN),
                            v_load(wt + (ky * DW_K + kx) * VN), acc[ky]);
    }
    vf s = acc[0];
    for (size_t ky = 1; ky < DW_K; ky++)
        s = v_add(s, acc[ky]);
    return s;
}

#define DW_DEFINE_BLOCK(NAME, B)                                                                 \
    static inline void NAME(const float *const *rows, const float *wt, size_t c, size_t ch,      \
                            size_t n, bool full, size_t x, size_t pad_left, vf bias, vf *o)      \
    {                                                                                            \
        vf acc[B];                                                                               \
        _Pragma("GCC unroll 16") for (size_t i = 0; i < B; i++) acc[i] = bias;                   \
        for (size_t ky = 0; ky < DW_K; ky++) {                                                   \
            const float *row = rows[ky];                                                         \
            if (!row)                                                                            \
                continue;                                                                        \
            const float *ip = row + (x * DW_S - pad_left) * ch + c;                              \
            const float *wk = wt + ky * DW_K * VN;                                               \
            vf xin[(B - 1) * DW_S + DW_K];                                                       \
            _Pragma("GCC unroll 32") for (size_t i = 0; i < (B - 1) * DW_S + DW_K; i++)          \
                xin[i] = dw_ld(ip + i * ch, n, full);                                            \
            _Pragma("GCC unroll 8") for (size_t kx = 0; kx < DW_K; kx++) {                       \
                vf wv = v_load(wk + kx * VN);                                                    \
                _Pragma("GCC unroll 16") for (size_t i = 0; i < B; i++)                          \
                    acc[i] = v_fma(xin[kx + i * DW_S], wv, acc[i]);                              \
            }                                                                                    \
        }                                                                                        \
        _Pragma("GCC unroll 16") for (size_t i = 0; i < B; i++) o[i] = acc[i];                   \
    }
DW_DEFINE_BLOCK(dw_block_a, DW_BLOCK)
DW_DEFINE_BLOCK(dw_block_b, DW_BLOCK / 2)

/* Pixels [x0, x1) (x1 - x0 >= B) in blocks of B, the last one overlapping. */
#define DW_RUN_BLOCKS(FN, B, FULL)                                                               \
    for (size_t xb = x0;; xb += B) {                                                             \
        if (xb + B > x1)                                                                         \
            xb = x1 - B;                                                                         \
        vf o[B];                                                                                 \
        FN(rows, wt, c, channels, n, FULL, xb, pad_left, bias, o);                               \
        if (silu_only) {                                                                         \
            v_silu_n(o, B);                                                                      \
            for (size_t i = 0; i < B; i++)                                                       \
                sm_epi_store(out + (xb + i) * channels + c, o[i], n, NULL, SM_ACT_NONE, NULL);   \
        } else {                                                                                 \
            for (size_t i = 0; i < B; i++)                                                       \
                sm_epi_store(out + (xb + i) * channels + c, o[i], n, res ? res + (xb + i) * rs : NULL, \
                             p->act, alpha);                                                     \
        }                                                                                        \
        if (xb + B >= x1)                                                                        \
            break;                                                                               \
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
    const bool silu_only = p->act == SM_ACT_SILU && !p->residual;
    for (size_t c = 0; c < channels; c += VN) {
        const size_t n = channels - c < VN ? channels - c : VN;
        const float *wt = w + (c / VN) * (VN * (1 + DW_K * DW_K));
        const vf bias = v_load(wt);
        wt += VN;
        const float *alpha = p->alpha ? p->alpha + c : NULL;
        const float *res = p->residual ? p->residual + c : NULL;
        for (size_t x = 0; x < x_lo; x++)
            sm_epi_store(out + x * channels + c,
                         dw_single(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias),
                         n, res ? res + x * rs : NULL, p->act, alpha);
        const size_t x0 = x_lo, x1 = x_hi, width = x1 - x0;
        size_t x = x0;
        if (width >= DW_BLOCK) {
            if (n == VN) {
                DW_RUN_BLOCKS(dw_block_a, DW_BLOCK, true)
            } else {
                DW_RUN_BLOCKS(dw_block_a, DW_BLOCK, false)
            }
            x = x1;
        } else if (width >= DW_BLOCK / 2 && DW_BLOCK / 2 > 1) {
            if (n == VN) {
                DW_RUN_BLOCKS(dw_block_b, DW_BLOCK / 2, true)
            } else {
                DW_RUN_BLOCKS(dw_block_b, DW_BLOCK / 2, false)
            }
            x = x1;
        }
        for (; x < out_w; x++)
            sm_epi_store(out + x * channels + c,
                         dw_single(rows, wt, c, channels, n, (long)(x * DW_S) - (long)pad_left, in_w, bias),
                         n, res ? res + x * rs : NULL, p->act, alpha);
    }
}

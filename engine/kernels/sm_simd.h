/* sm_simd.h: a tiny vector abstraction so each kernel algorithm is written once
 * (in a <family>/<family>-template.h) and instantiated per ISA file. The including file
 * defines exactly one of SM_SIMD_SCALAR, SM_SIMD_AVX2, SM_SIMD_AVX512, SM_SIMD_NEON
 * and is compiled with only that ISA's flags (Makefile: file-name suffix).
 *
 *   vf, VN          vector type and its lane count
 *   v_load/v_store  unaligned full vectors; v_loadn/v_storen the first n < VN lanes
 *                   (never touch memory past n)
 *   v_fma(a,b,c)    a*b + c (fused where the ISA has it)
 *   v_sigmoid, v_silu  relative error ~1e-6 or better (exp by range reduction and
 *                   a degree-5 minimax polynomial, Newton-refined reciprocal; scalar uses expf)
 */
#ifndef SM_SIMD_H
#define SM_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The x86 wrappers that differ only by the intrinsic prefix (_mm512, _mm256). */
#define SM_SIMD_X86_COMMON(P)                                                                 \
    static inline vf v_load(const float *p) { return P##_loadu_ps(p); }                        \
    static inline void v_store(float *p, vf v) { P##_storeu_ps(p, v); }                        \
    static inline vf v_set1(float x) { return P##_set1_ps(x); }                                \
    static inline vf v_zero(void) { return P##_setzero_ps(); }                                 \
    static inline vf v_fma(vf a, vf b, vf c) { return P##_fmadd_ps(a, b, c); }                 \
    static inline vf v_add(vf a, vf b) { return P##_add_ps(a, b); }                            \
    static inline vf v_sub(vf a, vf b) { return P##_sub_ps(a, b); }                            \
    static inline vf v_mul(vf a, vf b) { return P##_mul_ps(a, b); }                            \
    static inline vf v_div(vf a, vf b) { return P##_div_ps(a, b); }                            \
    static inline vf v_max(vf a, vf b) { return P##_max_ps(a, b); }                            \
    static inline vf v_min(vf a, vf b) { return P##_min_ps(a, b); }

#if defined(SM_SIMD_AVX512)
#include <immintrin.h>
typedef __m512 vf;
#define VN 16
SM_SIMD_X86_COMMON(_mm512)
static inline vf v_loadn(const float *p, size_t n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p); }
static inline void v_storen(float *p, vf v, size_t n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v); }
static inline vf v_abs(vf a) { return _mm512_abs_ps(a); }
/* x < 0 ? neg : pos */
static inline vf v_select_neg(vf x, vf pos, vf neg) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), pos, neg); }
static inline vf v_round(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n: exact for any n (underflows gracefully to 0) */
static inline vf v_ldexp(vf p, vf n) { return _mm512_scalef_ps(p, n); }
static inline float v_hsum(vf v) { return _mm512_reduce_add_ps(v); }
/* 1/x: 14-bit estimate + one Newton step (~1e-8 relative) */
static inline vf v_recip(vf x)
{
    vf r = _mm512_rcp14_ps(x);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(x, r, _mm512_set1_ps(2.0f)));
}
#define SM_SIMD_POLY_EXP 1

#elif defined(SM_SIMD_AVX2)
#include <immintrin.h>
typedef __m256 vf;
#define VN 8
static const int32_t sm_simd_mask_tbl[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i v_maskn(size_t n) { return _mm256_loadu_si256((const __m256i *)(sm_simd_mask_tbl + 8 - n)); }
SM_SIMD_X86_COMMON(_mm256)
static inline vf v_loadn(const float *p, size_t n) { return _mm256_maskload_ps(p, v_maskn(n)); }
static inline void v_storen(float *p, vf v, size_t n) { _mm256_maskstore_ps(p, v_maskn(n), v); }
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_select_neg(vf x, vf pos, vf neg) { return _mm256_blendv_ps(pos, neg, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ)); }
static inline vf v_round(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n in [-126, 127] (2^n built in the exponent bits) */
static inline vf v_ldexp(vf p, vf n) { return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))); }
static inline vf v_recip(vf x)
{
    vf r = _mm256_rcp_ps(x);
    r = _mm256_mul_ps(r, _mm256_fnmadd_ps(x, r, _mm256_set1_ps(2.0f)));
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(x, r, _mm256_set1_ps(2.0f)));
}
static inline float v_hsum(vf v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#define SM_SIMD_POLY_EXP 1

#elif defined(SM_SIMD_NEON)
#include <arm_neon.h>
typedef float32x4_t vf;
#define VN 4
static inline vf v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, vf v) { vst1q_f32(p, v); }
static inline vf v_loadn(const float *p, size_t n)
{
    float t[4] = {0, 0, 0, 0};
    memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
}
static inline void v_storen(float *p, vf v, size_t n)
{
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, n * sizeof(float));
}
static inline vf v_set1(float x) { return vdupq_n_f32(x); }
static inline vf v_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf v_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf v_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf v_max(vf a, vf b) { return vmaxq_f32(a, b); }
static inline vf v_min(vf a, vf b) { return vminq_f32(a, b); }
static inline vf v_abs(vf a) { return vabsq_f32(a); }
static inline vf v_select_neg(vf x, vf pos, vf neg) { return vbslq_f32(vcltq_f32(x, vdupq_n_f32(0.0f)), neg, pos); }
static inline vf v_round(vf x) { return vrndnq_f32(x); }
/* p * 2^n for integral n in [-126, 127] (2^n built in the exponent bits) */
static inline vf v_ldexp(vf p, vf n) { return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))); }
static inline float v_hsum(vf v) { return vaddvq_f32(v); }
static inline vf v_recip(vf x)
{
    vf r = vrecpeq_f32(x);
    r = vmulq_f32(r, vrecpsq_f32(x, r));
    r = vmulq_f32(r, vrecpsq_f32(x, r));
    return vmulq_f32(r, vrecpsq_f32(x, r));
}
#define SM_SIMD_POLY_EXP 1

#elif defined(SM_SIMD_SCALAR)
/* Portable C: a 4-lane struct; compilers may auto-vectorise the lane loops. */
typedef struct { float l[4]; } vf;
#define VN 4
#define SM_VLOOP(expr) do { for (int i_ = 0; i_ < 4; i_++) { expr; } } while (0)
static inline vf v_load(const float *p) { vf r; memcpy(r.l, p, sizeof r.l); return r; }
static inline void v_store(float *p, vf v) { memcpy(p, v.l, sizeof v.l); }
static inline vf v_loadn(const float *p, size_t n) { vf r = {{0, 0, 0, 0}}; memcpy(r.l, p, n * sizeof(float)); return r; }
static inline void v_storen(float *p, vf v, size_t n) { memcpy(p, v.l, n * sizeof(float)); }
static inline vf v_set1(float x) { vf r = {{x, x, x, x}}; return r; }
static inline vf v_zero(void) { return v_set1(0.0f); }
static inline vf v_fma(vf a, vf b, vf c) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] * b.l[i_] + c.l[i_]); return r; }
static inline vf v_add(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] + b.l[i_]); return r; }
static inline vf v_sub(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] - b.l[i_]); return r; }
static inline vf v_mul(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] * b.l[i_]); return r; }
static inline vf v_div(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] / b.l[i_]); return r; }
static inline vf v_max(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] > b.l[i_] ? a.l[i_] : b.l[i_]); return r; }
static inline vf v_min(vf a, vf b) { vf r; SM_VLOOP(r.l[i_] = a.l[i_] < b.l[i_] ? a.l[i_] : b.l[i_]); return r; }
static inline vf v_abs(vf a) { vf r; SM_VLOOP(r.l[i_] = fabsf(a.l[i_])); return r; }
static inline vf v_select_neg(vf x, vf pos, vf neg) { vf r; SM_VLOOP(r.l[i_] = x.l[i_] < 0.0f ? neg.l[i_] : pos.l[i_]); return r; }
static inline float v_hsum(vf v) { return (v.l[0] + v.l[1]) + (v.l[2] + v.l[3]); }
static inline vf v_recip(vf x) { return v_div(v_set1(1.0f), x); }
#else
#error "define one SM_SIMD_* before including sm_simd.h"
#endif

#ifdef SM_SIMD_POLY_EXP
/* exp(x) for x in [-87, 87] (callers clamp): x = n ln2 + r, |r| <= ln2/2 (ln2 in two parts), then a degree-5
 * polynomial fitted for minimax relative error on that interval (Lawson's
 * algorithm, coefficients rounded to float; 1.9e-7 relative in float32 Horner,
 * as the degree-6 Taylor polynomial it replaced, one FMA less). */
static inline vf v_exp_clamped(vf x)
{
    vf n = v_round(v_mul(x, v_set1(1.44269504088896341f)));
    vf r = v_fma(n, v_set1(-0.693145751953125f), x);
    r = v_fma(n, v_set1(-1.428606765330187045e-06f), r);
    vf p = v_set1(0x1.0fe5c6p-7f);
    p = v_fma(p, r, v_set1(0x1.575eeep-5f));
    p = v_fma(p, r, v_set1(0x1.555a18p-3f));
    p = v_fma(p, r, v_set1(0x1.fffd1ap-2f));
    p = v_fma(p, r, v_set1(0x1.fffff6p-1f));
    p = v_fma(p, r, v_set1(0x1.000002p+0f));
    return v_ldexp(p, n);
}
#else
static inline vf v_exp_clamped(vf x) { vf r; SM_VLOOP(r.l[i_] = expf(x.l[i_])); return r; }
#endif

/* 1 / (1 + exp(-x)); -x is clamped to [-87, 87] so exp stays finite and normal:
 * below x = -87 the result is ~1.6e-38 instead of smaller (absolute error < 2e-38). */
static inline vf v_sigmoid(vf x)
{
    vf t = v_min(v_max(v_sub(v_zero(), x), v_set1(-87.0f)), v_set1(87.0f));
    return v_recip(v_add(v_set1(1.0f), v_exp_clamped(t)));
}
static inline vf v_silu(vf x) { return v_mul(x, v_sigmoid(x)); }

/* v_silu of n vectors in place, four at a time step by step: one vector's SiLU is
 * a chain of ~18 dependent operations, so chains side by side keep the vector
 * units busy where one after another waits on latency; four (not more) keep the
 * live values in registers (8x32 AVX-512 GEMM tiles: -10% time against one by
 * one, 8 at a time spilled and gained less). */
static inline void v_silu_n(vf *x, size_t n)
{
#ifdef SM_SIMD_POLY_EXP
#pragma GCC unroll 4
    for (size_t b = 0; b < n; b += 4) {
        const size_t m = n - b < 4 ? n - b : 4;
        vf *y = x + b, r[4], e[4], q[4];
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++) {
            vf t = v_min(v_max(v_sub(v_zero(), y[i]), v_set1(-87.0f)), v_set1(87.0f));
            q[i] = v_round(v_mul(t, v_set1(1.44269504088896341f)));
            r[i] = v_fma(q[i], v_set1(-0.693145751953125f), t);
        }
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++) {
            r[i] = v_fma(q[i], v_set1(-1.428606765330187045e-06f), r[i]);
            e[i] = v_fma(v_set1(0x1.0fe5c6p-7f), r[i], v_set1(0x1.575eeep-5f));
        }
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++)
            e[i] = v_fma(e[i], r[i], v_set1(0x1.555a18p-3f));
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++)
            e[i] = v_fma(e[i], r[i], v_set1(0x1.fffd1ap-2f));
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++)
            e[i] = v_fma(e[i], r[i], v_set1(0x1.fffff6p-1f));
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++)
            e[i] = v_ldexp(v_fma(e[i], r[i], v_set1(0x1.000002p+0f)), q[i]);
#pragma GCC unroll 4
        for (size_t i = 0; i < m; i++)
            y[i] = v_mul(y[i], v_recip(v_add(v_set1(1.0f), e[i])));
    }
#else
    for (size_t i = 0; i < n; i++)
        x[i] = v_silu(x[i]);
#endif
}
static inline vf v_prelu(vf x, vf alpha) { return v_fma(alpha, v_min(x, v_zero()), v_max(x, v_zero())); }


/* y[p, c] = OP(x[p, c], v[c]) over pixels rows of channels floats, the channel tail
 * through v_loadn/v_storen: the body of the per-channel kernels (PReLU slopes, SE
 * scales); v is padded to the tile by the ops, read only up to channels here. */
#define SM_VCHANNEL_BODY(OP, pixels, channels, x, v, y)                                       \
    for (size_t p_ = 0; p_ < (pixels); p_++) {                                                \
        const float *xp_ = (x) + p_ * (channels);                                             \
        float *yp_ = (y) + p_ * (channels);                                                   \
        size_t c_ = 0;                                                                        \
        for (; c_ + VN <= (channels); c_ += VN)                                               \
            v_store(yp_ + c_, OP(v_load(xp_ + c_), v_load((v) + c_)));                        \
        if (c_ < (channels))                                                                  \
            v_storen(yp_ + c_, OP(v_loadn(xp_ + c_, (channels) - c_), v_loadn((v) + c_, (channels) - c_)), \
                     (channels) - c_);                                                        \
    }

#endif

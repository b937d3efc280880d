/* tests/simd_model/immintrin.h: a software model of the x86 intrinsics that the
 * engine's AVX-512F and AVX-512-BF16 kernels use, in portable C, so that `make test`
 * executes those kernels' own sources on any machine (this one has no AVX-512 and
 * Debian's qemu 7.2 cannot run it). The Makefile compiles every -avx512f.c and
 * -avx512bf16.c kernel a second time with -Itests/simd_model first, so the kernel's
 * `#include <immintrin.h>` (through sm_simd.h) lands here, and renames the copy's
 * symbols to <name>_model (objcopy); tests/test_ukernels.c and tests/test_bf16.c
 * run the copies through the same shapes as the real kernels, against the engine's
 * references. tests/test_simd_model.c checks this file against hand-computed cases
 * and, where the CPU has them, against the real AVX2/FMA instructions.
 *
 * Only what the kernels use is here: a kernel that starts using another intrinsic
 * fails to compile (implicit declaration under -Werror) until it is modelled, and
 * an immediate operand the model does not cover traps at run time.
 *
 * Semantics (Intel SDM / Intrinsics Guide), per 32-bit lane, MXCSR at its default
 * (round to nearest even, no DAZ/FTZ: the engine never changes it):
 *   add/sub/mul/div   one IEEE float operation (C float arithmetic, FLT_EVAL_METHOD 0)
 *   fmadd, fnmadd     fmaf(a, b, c), fmaf(-a, b, c): one rounding
 *   max, min          a > b ? a : b and a < b ? a : b: the second operand on NaN or
 *                     on +-0 vs -+0, as MAXPS/MINPS
 *   roundscale        to an integer (scale M = 0 only) by imm[1:0] or, with imm[2],
 *                     the current mode; |x| >= 2^23, infinities and NaN unchanged
 *   scalef            a * 2^floor(b) rounded once (denormal results kept), with the
 *                     SDM's special cases for infinities and zeros
 *   reduce_add        the Intrinsics Guide's tree: halves added lane-wise 16 -> 8 ->
 *                     4 -> 2 -> 1 (GCC's header does the same)
 *   rcp14             NOT bit-exact (the table differs between CPU generations):
 *                     1/x with a deliberate relative error of 0.9 * 2^-14, the
 *                     instruction's documented bound, alternating in sign, so a
 *                     kernel that needs more than the documented precision fails
 *   masked load/store lanes off in the mask are neither read nor written (the fault
 *                     suppression a v_loadn/v_storen tail relies on: ASan sees it)
 *   dpbf16            vdpbf16ps (SDM pseudo-code, AVX512_BF16): per lane i
 *                        acc = FMA(a.bf16[2i+1], b.bf16[2i+1], acc)   odd pair first
 *                        acc = FMA(a.bf16[2i],   b.bf16[2i],   acc)   then even
 *                     each an FP32 FMA with round to nearest even, denormal inputs
 *                     (the bf16 operands and the accumulator) read as zero and a
 *                     tiny result (x86 detects tininess after rounding, SDM vol. 1
 *                     11.5.2.5) flushed to a zero of its sign; MXCSR not used.
 * Users compile with -Wno-psabi: GCC warns that 64-byte vectors passed by value
 * without -mavx512f have another ABI than in an AVX-512 build, true and harmless
 * here (every user of this header is built the same way).
 * NaN payloads and the invalid-operation default NaN are C's (the host FPU's), not
 * modelled bit for bit; no kernel test feeds NaNs. */
#ifndef SM_SIMD_MODEL_IMMINTRIN_H
#define SM_SIMD_MODEL_IMMINTRIN_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SM_SIMD_MODEL 1

/* GCC/Clang generic vectors (any target): the kernels cast between vector types of
 * one size ((__m512bh) of an __m512i), which a struct cannot do; the model itself
 * only reads and writes lanes. */
typedef float __m512 __attribute__((vector_size(64)));
typedef long long __m512i __attribute__((vector_size(64)));
typedef short __m512bh __attribute__((vector_size(64)));
typedef unsigned short __mmask16;

/* Intrinsics are calls here, not inlined: a kernel's unrolled tile inlining sixteen-lane
 * loops at every step takes the compiler minutes (and more under ASan) for no gain
 * in what the tests check. */
#define SM_MODEL_API static __attribute__((noinline, unused))

#define SM_MODEL_LANES 16
#define SM_MODEL_FOR for (int i_ = 0; i_ < SM_MODEL_LANES; i_++)

static inline uint32_t sm_model_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float sm_model_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline float sm_model_quiet(float x) { return sm_model_float(sm_model_bits(x) | 0x00400000u); }

/* A 32-bit lane of an integer/bf16 vector (little-endian lane order, as x86). */
static inline uint32_t sm_model_lane32(const void *v, int i)
{
    uint32_t u;
    memcpy(&u, (const unsigned char *)v + 4 * i, sizeof u);
    return u;
}

_Noreturn static inline void sm_model_unmodelled(void) { __builtin_trap(); }

/* ---- loads, stores, constants ------------------------------------------------ */
SM_MODEL_API __m512 _mm512_loadu_ps(void const *p)
{
    __m512 r;
    memcpy(&r, p, sizeof r);
    return r;
}
SM_MODEL_API void _mm512_storeu_ps(void *p, __m512 a) { memcpy(p, &a, sizeof a); }
SM_MODEL_API __m512i _mm512_loadu_si512(void const *p)
{
    __m512i r;
    memcpy(&r, p, sizeof r);
    return r;
}
SM_MODEL_API __m512 _mm512_set1_ps(float x)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = x;
    return r;
}
SM_MODEL_API __m512 _mm512_setzero_ps(void) { return _mm512_set1_ps(0.0f); }
SM_MODEL_API __m512i _mm512_set1_epi32(int x)
{
    __m512i r;
    for (int i = 0; i < SM_MODEL_LANES; i++)
        memcpy((unsigned char *)&r + 4 * i, &x, sizeof x);
    return r;
}
SM_MODEL_API __m512 _mm512_maskz_loadu_ps(__mmask16 k, void const *p)
{
    __m512 r;
    SM_MODEL_FOR {
        float x = 0.0f;
        if (k >> i_ & 1u)
            memcpy(&x, (const float *)p + i_, sizeof x);
        r[i_] = x;
    }
    return r;
}
SM_MODEL_API void _mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 a)
{
    SM_MODEL_FOR if (k >> i_ & 1u) {
        float x = a[i_];
        memcpy((float *)p + i_, &x, sizeof x);
    }
}

/* ---- arithmetic ---------------------------------------------------------------- */
#define SM_MODEL_BINARY(name, expr)                                                           \
    SM_MODEL_API __m512 name(__m512 a, __m512 b)                                             \
    {                                                                                         \
        __m512 r;                                                                             \
        SM_MODEL_FOR {                                                                        \
            float x = a[i_], y = b[i_];                                                       \
            r[i_] = (expr);                                                                   \
        }                                                                                     \
        return r;                                                                             \
    }
SM_MODEL_BINARY(_mm512_add_ps, x + y)
SM_MODEL_BINARY(_mm512_sub_ps, x - y)
SM_MODEL_BINARY(_mm512_mul_ps, x * y)
SM_MODEL_BINARY(_mm512_div_ps, x / y)
SM_MODEL_BINARY(_mm512_max_ps, x > y ? x : y)
SM_MODEL_BINARY(_mm512_min_ps, x < y ? x : y)
#undef SM_MODEL_BINARY

SM_MODEL_API __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = fmaf(a[i_], b[i_], c[i_]);
    return r;
}
SM_MODEL_API __m512 _mm512_fnmadd_ps(__m512 a, __m512 b, __m512 c)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = fmaf(-a[i_], b[i_], c[i_]);
    return r;
}
SM_MODEL_API __m512 _mm512_abs_ps(__m512 a)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = sm_model_float(sm_model_bits(a[i_]) & 0x7fffffffu);
    return r;
}

/* ---- compare, blend ------------------------------------------------------------ */
#define _CMP_LT_OQ 0x11
SM_MODEL_API __mmask16 _mm512_cmp_ps_mask(__m512 a, __m512 b, const int imm)
{
    if (imm != _CMP_LT_OQ)
        sm_model_unmodelled();
    unsigned k = 0;
    SM_MODEL_FOR k |= (unsigned)(a[i_] < b[i_]) << i_; /* ordered: false on NaN */
    return (__mmask16)k;
}
SM_MODEL_API __m512 _mm512_mask_blend_ps(__mmask16 k, __m512 a, __m512 b)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = k >> i_ & 1u ? b[i_] : a[i_];
    return r;
}

/* ---- rounding, scaling, reduction, reciprocal --------------------------------- */
#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_TO_NEG_INF 0x01
#define _MM_FROUND_TO_POS_INF 0x02
#define _MM_FROUND_TO_ZERO 0x03
#define _MM_FROUND_CUR_DIRECTION 0x04
#define _MM_FROUND_NO_EXC 0x08

static inline float sm_model_round_even(float x)
{
    float ax = fabsf(x);
    if (!(ax < 0x1p23f))
        return isnan(x) ? sm_model_quiet(x) : x;
    /* ax + 2^23 has unit spacing: the add rounds ax to an integer, ties to even */
    float t = ax + 0x1p23f;
    return copysignf(t - 0x1p23f, x);
}

SM_MODEL_API __m512 _mm512_roundscale_ps(__m512 a, const int imm)
{
    if (imm >> 4) /* a scale 2^-M: no kernel uses one */
        sm_model_unmodelled();
    __m512 r;
    SM_MODEL_FOR {
        float x = a[i_];
        if (imm & _MM_FROUND_CUR_DIRECTION)
            r[i_] = nearbyintf(x);
        else
            switch (imm & 3) {
            case 0: r[i_] = sm_model_round_even(x); break;
            case 1: r[i_] = floorf(x); break;
            case 2: r[i_] = ceilf(x); break;
            default: r[i_] = truncf(x); break;
            }
    }
    return r;
}

static inline float sm_model_scalef(float a, float b)
{
    if (isnan(a))
        return sm_model_quiet(a);
    if (isnan(b))
        return sm_model_quiet(b);
    if (isinf(b)) {
        if ((b > 0 && a == 0.0f) || (b < 0 && isinf(a)))
            return NAN; /* invalid: 0 * 2^inf, inf * 2^-inf */
        return b > 0 ? copysignf(INFINITY, a) : copysignf(0.0f, a);
    }
    if (isinf(a) || a == 0.0f)
        return a;
    double n = floor((double)b);
    n = n > 400 ? 400 : n < -400 ? -400 : n; /* beyond +-400 every float result is inf or 0 */
    /* exact in double (24-bit a, |n| <= 400), then one rounding to float */
    return (float)((double)a * ldexp(1.0, (int)n));
}

SM_MODEL_API __m512 _mm512_scalef_ps(__m512 a, __m512 b)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = sm_model_scalef(a[i_], b[i_]);
    return r;
}

SM_MODEL_API float _mm512_reduce_add_ps(__m512 a)
{
    float t[SM_MODEL_LANES];
    SM_MODEL_FOR t[i_] = a[i_];
    for (int half = SM_MODEL_LANES / 2; half >= 1; half /= 2)
        for (int i = 0; i < half; i++)
            t[i] = t[i] + t[i + half];
    return t[0];
}

static inline float sm_model_rcp14(float x)
{
    if (isnan(x))
        return sm_model_quiet(x);
    if (x == 0.0f)
        return copysignf(INFINITY, x);
    if (isinf(x))
        return copysignf(0.0f, x);
    /* the documented bound |rel err| < 2^-14, used nearly in full, sign from a bit of x */
    double e = (sm_model_bits(x) >> 7 & 1u) ? 0x1.ccp-15 : -0x1.ccp-15;
    double q = (1.0 / (double)x) * (1.0 + e);
    return fabs(q) > FLT_MAX ? copysignf(INFINITY, x) : (float)q;
}

SM_MODEL_API __m512 _mm512_rcp14_ps(__m512 a)
{
    __m512 r;
    SM_MODEL_FOR r[i_] = sm_model_rcp14(a[i_]);
    return r;
}

/* ---- AVX512_BF16 ---------------------------------------------------------------- */
static inline float sm_model_daz(float x)
{
    return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x;
}

/* make_fp32 of a bfloat16, its denormals read as zero */
static inline float sm_model_bf16_in(uint32_t h)
{
    return sm_model_daz(sm_model_float((h & 0xffffu) << 16));
}

/* One vdpbf16ps step: FMA(a, b, acc) rounded to nearest even, acc read with DAZ, the
 * result flushed to zero when tiny after rounding (24 bits, unbounded exponent). */
static inline float sm_model_dp_step(float acc, float a, float b)
{
    acc = sm_model_daz(acc);
    float r = fmaf(a, b, acc);
    float ar = fabsf(r);
    if (ar == 0.0f || !(ar <= FLT_MIN))
        return r;
    if (ar < FLT_MIN)
        return copysignf(0.0f, r);
    /* r = +-FLT_MIN: tiny iff the exact |acc + a*b| < FLT_MIN * (1 - 2^-25) (below that,
     * 24-bit rounding stays under FLT_MIN). The product of two bfloat16 is exact in
     * double; the sum s and its error e (TwoSum) are exact too. */
    double p = (double)a * (double)b, s = (double)acc + p, bv = s - (double)acc;
    double e = ((double)acc - (s - bv)) + (p - bv);
    double as = fabs(s), ae = s < 0 ? -e : e, lim = (double)FLT_MIN * (1.0 - 0x1p-25);
    bool tiny = as < lim || (as == lim && ae < 0);
    return tiny ? copysignf(0.0f, r) : r;
}

SM_MODEL_API __m512 _mm512_dpbf16_ps(__m512 src, __m512bh a, __m512bh b)
{
    __m512 r;
    SM_MODEL_FOR {
        uint32_t ap = sm_model_lane32(&a, i_), bp = sm_model_lane32(&b, i_);
        float acc = sm_model_dp_step(src[i_], sm_model_bf16_in(ap >> 16), sm_model_bf16_in(bp >> 16));
        r[i_] = sm_model_dp_step(acc, sm_model_bf16_in(ap), sm_model_bf16_in(bp));
    }
    return r;
}

#endif

/* sm_bf16_gemm_ukernel_4x8__scalar: the reference BF16 kernel, vdpbf16ps step by
 * step (bf16-gemm.h): per pair of k, acc += a_odd*w_odd, then acc += a_even*w_even,
 * each one fmaf on operands already bfloat16, with the hardware's DAZ of the
 * accumulator and FTZ of tiny results (step()). Also the kernel of the scalar and
 * NEON levels. */
#include <float.h>
#include <math.h>

#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"
#include "sm_epilogue.h"

#define MR 4
#define NR 8

/* One vdpbf16ps step, "FP32 FMA with DAZ in, FTZ out" (Intel SDM): a denormal
 * accumulator reads as zero (the FP32 bias may be one); a result tiny after rounding
 * (24 bits, unbounded exponent: x86's underflow rule) becomes a zero of its sign.
 * Only a result that fmaf rounds to +-FLT_MIN can be such a tiny one (exact sum in
 * [FLT_MIN - 2^-150, FLT_MIN - 2^-151)); the sum and its error in double (TwoSum,
 * the bf16 product is exact there) decide it. tests/test_simd_model.c has a case
 * for each rule, worked by hand. */
static inline float step(float acc, float a, float w)
{
    if (fpclassify(acc) == FP_SUBNORMAL)
        acc = copysignf(0.0f, acc);
    float r = fmaf(a, w, acc), ar = fabsf(r);
    if (ar == 0.0f || !(ar <= FLT_MIN))
        return r;
    if (ar < FLT_MIN)
        return copysignf(0.0f, r);
    double p = (double)a * w, s = (double)acc + p, bv = s - acc, e = ((double)acc - (s - bv)) + (p - bv);
    double as = fabs(s), ae = s < 0 ? -e : e, lim = (double)FLT_MIN * (1.0 - 0x1p-25);
    return as < lim || (as == lim && ae < 0) ? copysignf(0.0f, r) : r;
}

void sm_bf16_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                      const uint16_t *w, float *c, size_t ldc,
                                      const sm_ukernel_params *p)
{
    float acc[MR][NR];
    float bias[NR];
    memcpy(bias, w, sizeof bias);
    w += 2 * NR;
    for (size_t m = 0; m < MR; m++)
        for (size_t j = 0; j < NR; j++)
            acc[m][j] = bias[j];
    for (size_t k = 0; k < kc; k += 2, w += 2 * NR) {
        for (size_t m = 0; m < MR; m++) {
            const float *ar = a + (m < mr ? m : mr - 1) * lda;
            float a0 = sm_bf16_quantize(ar[k]);
            float a1 = k + 1 < kc ? sm_bf16_quantize(ar[k + 1]) : 0.0f;
            for (size_t j = 0; j < NR; j++) {
                acc[m][j] = step(acc[m][j], a1, sm_bf16_widen(w[2 * j + 1]));
                acc[m][j] = step(acc[m][j], a0, sm_bf16_widen(w[2 * j]));
            }
        }
    }
    for (size_t m = 0; m < mr; m++) {
        const float *res = p->residual ? p->residual + m * p->residual_stride : NULL;
        for (size_t j = 0; j < NR && j < nc; j += VN) {
            size_t n = nc - j < VN ? nc - j : VN;
            sm_epi_store(c + m * ldc + j, v_load(&acc[m][j]), n, res ? res + j : NULL, p->act,
                         p->alpha ? p->alpha + j : NULL);
        }
    }
}

/* sm_bf16_gemm_ukernel_4x8__scalar: the reference BF16 kernel, vdpbf16ps step by
 * step (bf16-gemm.h): per pair of k, acc += a_odd*w_odd, then acc += a_even*w_even,
 * each one fmaf on operands already bfloat16, denormal step results flushed as
 * the hardware does. Also the kernel of the scalar and NEON levels. */
#include <math.h>

#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"
#include "sm_epilogue.h"

#define MR 4
#define NR 8

static inline float ftz(float x) { return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x; }

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
                acc[m][j] = ftz(fmaf(a1, sm_bf16_widen(w[2 * j + 1]), acc[m][j]));
                acc[m][j] = ftz(fmaf(a0, sm_bf16_widen(w[2 * j]), acc[m][j]));
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

/* sm_bf16_gemm_ukernel_4x16__avx2: the BF16 kernel on AVX2+FMA, for CPUs without
 * native BF16. Each 32-bit lane of a pair row holds {w[2p], w[2p+1]} of one output;
 * a shift and a mask widen them to two FP32 vectors, and two FMAs per pair do the
 * vdpbf16ps steps in its order (odd k first), so the result is the scalar
 * reference's bits. An accuracy and storage path: no faster than FP32 here. */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"
#include "sm_epilogue.h"

#define MR 4
#define NRV 2
#define NR (NRV * VN)

void sm_bf16_gemm_ukernel_4x16__avx2(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                     const uint16_t *w, float *c, size_t ldc,
                                     const sm_ukernel_params *p)
{
    const float *ar[MR];
    vf acc[MR][NRV];
#pragma GCC unroll 4
    for (size_t m = 0; m < MR; m++)
        ar[m] = a + (m < mr ? m : mr - 1) * lda;
#pragma GCC unroll 2
    for (size_t j = 0; j < NRV; j++) {
        vf b = _mm256_loadu_ps((const float *)(const void *)(w + 2 * j * VN));
#pragma GCC unroll 4
        for (size_t m = 0; m < MR; m++)
            acc[m][j] = b;
    }
    w += 2 * NR;
    const __m256i hi = _mm256_set1_epi32((int)0xffff0000u);
    for (size_t k = 0; k < kc; k += 2, w += 2 * NR) {
        vf we[NRV], wo[NRV];
#pragma GCC unroll 2
        for (size_t j = 0; j < NRV; j++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(const void *)(w + 2 * j * VN));
            we[j] = _mm256_castsi256_ps(_mm256_slli_epi32(raw, 16));
            wo[j] = _mm256_castsi256_ps(_mm256_and_si256(raw, hi));
        }
        const bool pair = k + 1 < kc;
#pragma GCC unroll 4
        for (size_t m = 0; m < MR; m++) {
            vf a0 = v_set1(sm_bf16_quantize(ar[m][k]));
            vf a1 = v_set1(pair ? sm_bf16_quantize(ar[m][k + 1]) : 0.0f);
#pragma GCC unroll 2
            for (size_t j = 0; j < NRV; j++) {
                acc[m][j] = v_fma(a1, wo[j], acc[m][j]);
                acc[m][j] = v_fma(a0, we[j], acc[m][j]);
            }
        }
    }
#pragma GCC unroll 4
    for (size_t m = 0; m < MR; m++) {
        if (m < mr) {
            const float *res = p->residual ? p->residual + m * p->residual_stride : NULL;
#pragma GCC unroll 2
            for (size_t j = 0; j < NRV; j++) {
                size_t col = j * VN;
                if (col < nc) {
                    size_t n = nc - col < VN ? nc - col : VN;
                    sm_epi_store(c + m * ldc + col, acc[m][j], n, res ? res + col : NULL, p->act,
                                 p->alpha ? p->alpha + col : NULL);
                }
            }
        }
    }
}

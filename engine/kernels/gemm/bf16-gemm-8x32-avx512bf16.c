/* sm_bf16_gemm_ukernel_8x32__avx512bf16: the native BF16 kernel (vdpbf16ps,
 * _mm512_dpbf16_ps), same panels and arithmetic as the scalar reference
 * (bf16-gemm.h). WRITTEN, NOT YET RUN ON HARDWARE: the development machine has no
 * AVX-512 and qemu 7.2 cannot emulate it, so it is compiled only with
 * `make SM_AVX512BF16=1` and never dispatched on a default build (docs/KERNELS.md).
 * Per k pair: 2 weight loads (32 outputs) and 8 broadcast activation pairs feed
 * 16 vdpbf16ps, i.e. 32 multiply-adds per instruction. */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"
#include "sm_epilogue.h"

#define MR 8
#define NRV 2
#define NR (NRV * VN)

void sm_bf16_gemm_ukernel_8x32__avx512bf16(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                           const uint16_t *w, float *c, size_t ldc,
                                           const sm_ukernel_params *p)
{
    const float *ar[MR];
    vf acc[MR][NRV];
#pragma GCC unroll 8
    for (size_t m = 0; m < MR; m++)
        ar[m] = a + (m < mr ? m : mr - 1) * lda;
#pragma GCC unroll 2
    for (size_t j = 0; j < NRV; j++) {
        vf b = _mm512_loadu_ps((const float *)(const void *)(w + 2 * j * VN));
#pragma GCC unroll 8
        for (size_t m = 0; m < MR; m++)
            acc[m][j] = b;
    }
    w += 2 * NR;
    for (size_t k = 0; k < kc; k += 2, w += 2 * NR) {
        __m512bh wv[NRV];
#pragma GCC unroll 2
        for (size_t j = 0; j < NRV; j++)
            wv[j] = (__m512bh)_mm512_loadu_si512((const void *)(w + 2 * j * VN));
        const bool pair = k + 1 < kc;
#pragma GCC unroll 8
        for (size_t m = 0; m < MR; m++) {
            uint32_t lo = sm_bf16_round(ar[m][k]), hi = pair ? sm_bf16_round(ar[m][k + 1]) : 0u;
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)(lo | hi << 16));
#pragma GCC unroll 2
            for (size_t j = 0; j < NRV; j++)
                acc[m][j] = _mm512_dpbf16_ps(acc[m][j], av, wv[j]);
        }
    }
#pragma GCC unroll 8
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

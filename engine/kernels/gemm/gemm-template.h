/* GEMM micro-kernel body, instantiated per ISA: GEMM_FN, GEMM_MR, GEMM_NRV (NR = NRV*VN).
 * Rows past mr re-read the last valid row (no branch in the k loop); columns past
 * nc read the zero padding of the panel and are not stored. */
#include "sm_epilogue.h"

#define GEMM_NR (GEMM_NRV * VN)

void GEMM_FN(size_t mr, size_t nc, size_t kc, const float *a, size_t lda, const float *w,
             float *c, size_t ldc, const sm_ukernel_params *p)
{
    const float *ar[GEMM_MR];
    vf acc[GEMM_MR][GEMM_NRV];
#pragma GCC unroll 16
    for (size_t m = 0; m < GEMM_MR; m++)
        ar[m] = a + (m < mr ? m : mr - 1) * lda;
#pragma GCC unroll 16
    for (size_t j = 0; j < GEMM_NRV; j++) {
        vf b = v_load(w + j * VN);
#pragma GCC unroll 16
        for (size_t m = 0; m < GEMM_MR; m++)
            acc[m][j] = b;
    }
    w += GEMM_NR;
    for (size_t k = 0; k < kc; k++) {
        vf wv[GEMM_NRV];
#pragma GCC unroll 16
        for (size_t j = 0; j < GEMM_NRV; j++)
            wv[j] = v_load(w + j * VN);
        w += GEMM_NR;
#pragma GCC unroll 16
        for (size_t m = 0; m < GEMM_MR; m++) {
            vf av = v_set1(ar[m][k]);
#pragma GCC unroll 16
            for (size_t j = 0; j < GEMM_NRV; j++)
                acc[m][j] = v_fma(av, wv[j], acc[m][j]);
        }
    }
    const sm_act act = p->act;
#pragma GCC unroll 16
    for (size_t m = 0; m < GEMM_MR; m++) {
        if (m < mr) {
            const float *res = p->residual ? p->residual + m * p->residual_stride : NULL;
#pragma GCC unroll 16
            for (size_t j = 0; j < GEMM_NRV; j++) {
                size_t col = j * VN;
                if (col < nc) {
                    size_t n = nc - col < VN ? nc - col : VN;
                    sm_epi_store(c + m * ldc + col, acc[m][j], n, res ? res + col : NULL, act,
                                 p->alpha ? p->alpha + col : NULL);
                }
            }
        }
    }
}

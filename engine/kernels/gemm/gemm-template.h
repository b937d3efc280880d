/* GEMM micro-kernel body, instantiated per ISA: GEMM_FN, GEMM_MR, GEMM_NRV (NR = NRV*VN).
 * Rows past mr re-read the last valid row (no branch in the k loop); columns past
 * nc read the zero padding of the panel and are not stored.
 * With GEMM_DIRECT the same body is the direct-convolution kernel: row m of A is
 * not stored but read in place from a padded NHWC image, kh runs of `run`
 * (= kw*ic) contiguous floats starting at a[m], row_stride floats apart; the K
 * order (ky, kx, ic) is the one im2col produces, so both give identical bits. */
#include "sm_epilogue.h"

#define GEMM_NR (GEMM_NRV * VN)

#ifdef GEMM_DIRECT
void GEMM_FN(size_t mr, size_t nc, size_t kh, size_t run, size_t row_stride, const float *const *a,
             const float *w, float *c, size_t ldc, const sm_ukernel_params *p)
#else
void GEMM_FN(size_t mr, size_t nc, size_t kc, const float *a, size_t lda, const float *w,
             float *c, size_t ldc, const sm_ukernel_params *p)
#endif
{
    const float *ar[GEMM_MR];
    vf acc[GEMM_MR][GEMM_NRV];
#pragma GCC unroll 16
    for (size_t m = 0; m < GEMM_MR; m++)
#ifdef GEMM_DIRECT
        ar[m] = a[m < mr ? m : mr - 1];
#else
        ar[m] = a + (m < mr ? m : mr - 1) * lda;
#endif
#pragma GCC unroll 16
    for (size_t j = 0; j < GEMM_NRV; j++) {
        vf b = v_load(w + j * VN);
#pragma GCC unroll 16
        for (size_t m = 0; m < GEMM_MR; m++)
            acc[m][j] = b;
    }
    w += GEMM_NR;
#ifdef GEMM_DIRECT
    /* one index for all rows, so the MR row pointers stay in registers */
    for (size_t ky = 0, k0 = 0; ky < kh; ky++, k0 += row_stride) {
        for (size_t k = k0; k < k0 + run; k++) {
#else
    {
        for (size_t k = 0; k < kc; k++) {
#endif
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
    }
    const sm_act act = p->act;
    if (act == SM_ACT_SILU && !p->residual && mr == GEMM_MR && nc == GEMM_NR) {
        /* a full tile: the SiLUs of all its vectors side by side (v_silu_n) */
        vf t[GEMM_MR * GEMM_NRV];
#pragma GCC unroll 16
        for (size_t m = 0; m < GEMM_MR; m++)
#pragma GCC unroll 16
            for (size_t j = 0; j < GEMM_NRV; j++)
                t[m * GEMM_NRV + j] = acc[m][j];
        v_silu_n(t, GEMM_MR * GEMM_NRV);
#pragma GCC unroll 16
        for (size_t m = 0; m < GEMM_MR; m++)
#pragma GCC unroll 16
            for (size_t j = 0; j < GEMM_NRV; j++)
                v_store(c + m * ldc + j * VN, t[m * GEMM_NRV + j]);
        return;
    }
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

/* BF16 GEMM micro-kernel body, shared by the SIMD levels: BF_FN, BF_MR, BF_NRV
 * (NR = BF_NRV*VN) and, from the including file, the three ISA steps:
 *   bf_w  bf_load_w(const uint16_t *p)   VN pair lanes {w[2p], w[2p+1]} of a panel row
 *   bf_a  bf_load_a(const float *a, bool pair)  a[0], a[1] (or 0) rounded to bf16
 *   vf    bf_dot(vf acc, bf_a a, bf_w w)  acc + a[1]*w[2p+1], then + a[0]*w[2p] (vdpbf16ps)
 * The tile walk, remainders and FP32 epilogue are the same for every level, so
 * the native kernel differs from the tested AVX2 one only in those three steps.
 * Rows past mr re-read the last valid row; columns past nc are the panel's zero
 * padding and are not stored. */
#include "sm_epilogue.h"

#define BF_NR (BF_NRV * VN)

void BF_FN(size_t mr, size_t nc, size_t kc, const float *a, size_t lda, const uint16_t *w, float *c, size_t ldc,
           const sm_ukernel_params *p)
{
    const float *ar[BF_MR];
    vf acc[BF_MR][BF_NRV];
#pragma GCC unroll 16
    for (size_t m = 0; m < BF_MR; m++)
        ar[m] = a + (m < mr ? m : mr - 1) * lda;
#pragma GCC unroll 4
    for (size_t j = 0; j < BF_NRV; j++) {
        vf b = v_load((const float *)(const void *)(w + 2 * j * VN));
#pragma GCC unroll 16
        for (size_t m = 0; m < BF_MR; m++)
            acc[m][j] = b;
    }
    w += 2 * BF_NR;
    for (size_t k = 0; k < kc; k += 2, w += 2 * BF_NR) {
        bf_w wv[BF_NRV];
#pragma GCC unroll 4
        for (size_t j = 0; j < BF_NRV; j++)
            wv[j] = bf_load_w(w + 2 * j * VN);
        const bool pair = k + 1 < kc;
#pragma GCC unroll 16
        for (size_t m = 0; m < BF_MR; m++) {
            bf_a av = bf_load_a(ar[m] + k, pair);
#pragma GCC unroll 4
            for (size_t j = 0; j < BF_NRV; j++)
                acc[m][j] = bf_dot(acc[m][j], av, wv[j]);
        }
    }
#pragma GCC unroll 16
    for (size_t m = 0; m < BF_MR; m++) {
        if (m < mr) {
            const float *res = p->residual ? p->residual + m * p->residual_stride : NULL;
#pragma GCC unroll 4
            for (size_t j = 0; j < BF_NRV; j++)
                if (j * VN < nc)
                    sm_epi_store(c + m * ldc + j * VN, acc[m][j], nc - j * VN < VN ? nc - j * VN : VN,
                                 res ? res + j * VN : NULL, p->act, p->alpha ? p->alpha + j * VN : NULL);
        }
    }
}

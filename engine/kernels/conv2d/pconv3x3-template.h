/* Planar 3x3 stride-1 convolution, one output row of every output channel:
 * PC_FN; VN from sm_simd.h. For convolutions with few channels (a handful in, a
 * handful out) where NHWC GEMM tiles would be mostly padding: pixels go along
 * the vector lanes instead, PC_XV vectors of them against PC_OB output channels
 * at once, so each input load feeds PC_OB FMAs and each broadcast weight PC_XV.
 * Weights (sm_ukernels.h): per group of PC_OB output channels,
 * [bias PC_OB][cin][9 taps][PC_OB], zero-padded past cout.
 * Each input row is zero at [-1] and [width] (the padding) and readable from [-1]
 * through [width + 2*VN]: lanes past the row's end compute values that are never
 * stored. Fixed summation order (bias, then channel by channel, taps in order),
 * whatever the caller's split of rows. */
#include "sm_epilogue.h"

#define PC_OB 4
#define PC_XV 2

void PC_FN(size_t cin, size_t cout, size_t width, const float *const *rows, const float *w,
           sm_act act, const float *const *res, float *const *out)
{
    const size_t group = PC_OB + cin * 9 * PC_OB;
    for (size_t o0 = 0; o0 < cout; o0 += PC_OB) {
        const float *wg = w + (o0 / PC_OB) * group;
        const size_t ob = cout - o0 < PC_OB ? cout - o0 : PC_OB;
        for (size_t x = 0; x < width; x += PC_XV * VN) {
            vf acc[PC_XV][PC_OB];
#pragma GCC unroll 8
            for (size_t j = 0; j < PC_OB; j++) {
                vf b = v_set1(wg[j]);
#pragma GCC unroll 4
                for (size_t v = 0; v < PC_XV; v++)
                    acc[v][j] = b;
            }
            const float *wk = wg + PC_OB;
            for (size_t c = 0; c < cin; c++) {
#pragma GCC unroll 3
                for (size_t ky = 0; ky < 3; ky++) {
                    const float *r = rows[c * 3 + ky] + x - 1;
                    vf in[PC_XV][3];
#pragma GCC unroll 4
                    for (size_t v = 0; v < PC_XV; v++)
#pragma GCC unroll 3
                        for (size_t kx = 0; kx < 3; kx++)
                            in[v][kx] = v_load(r + v * VN + kx);
#pragma GCC unroll 3
                    for (size_t kx = 0; kx < 3; kx++)
#pragma GCC unroll 8
                        for (size_t j = 0; j < PC_OB; j++) {
                            vf wv = v_set1(wk[(ky * 3 + kx) * PC_OB + j]);
#pragma GCC unroll 4
                            for (size_t v = 0; v < PC_XV; v++)
                                acc[v][j] = v_fma(in[v][kx], wv, acc[v][j]);
                        }
                }
                wk += 9 * PC_OB;
            }
            for (size_t j = 0; j < ob; j++)
                for (size_t v = 0; v < PC_XV; v++) {
                    size_t xs = x + v * VN;
                    if (xs >= width)
                        break;
                    size_t n = width - xs < VN ? width - xs : VN;
                    sm_epi_store(out[o0 + j] + xs, acc[v][j], n, res ? res[o0 + j] + xs : NULL, act, NULL);
                }
        }
    }
}

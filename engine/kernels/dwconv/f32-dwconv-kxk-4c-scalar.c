/* sm_f32_dwconv_ukernel_kxk_4c__scalar: any square k and stride (runtime), tile 4.
 * Used for shapes without a specialised kernel; packed like the 4c kernels. */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"
#include "sm_epilogue.h"

void sm_f32_dwconv_ukernel_kxk_4c__scalar(size_t k, size_t s, size_t channels, size_t out_w,
                                          size_t in_w, size_t pad_left, const float *const *rows,
                                          const float *w, float *out, const sm_ukernel_params *p)
{
    for (size_t c = 0; c < channels; c += VN) {
        const size_t n = channels - c < VN ? channels - c : VN;
        const float *wt = w + (c / VN) * (VN * (1 + k * k));
        for (size_t x = 0; x < out_w; x++) {
            vf acc = v_load(wt);
            long ix0 = (long)(x * s) - (long)pad_left;
            for (size_t ky = 0; ky < k; ky++) {
                if (!rows[ky])
                    continue;
                for (size_t kx = 0; kx < k; kx++) {
                    long ix = ix0 + (long)kx;
                    if (ix < 0 || ix >= (long)in_w)
                        continue;
                    acc = v_fma(v_loadn(rows[ky] + (size_t)ix * channels + c, n),
                                v_load(wt + VN + (ky * k + kx) * VN), acc);
                }
            }
            sm_epi_store(out + x * channels + c, acc, n,
                         p->residual ? p->residual + x * p->residual_stride + c : NULL, p->act,
                         p->alpha ? p->alpha + c : NULL);
        }
    }
}

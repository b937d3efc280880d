/* Element-wise kernels: VADD_FN, VSCALE_FN. */
#include "sm_epilogue.h"

void VADD_FN(size_t n, const float *a, const float *b, sm_act act, float *y)
{
    size_t i = 0;
    for (; i + VN <= n; i += VN)
        v_store(y + i, sm_epi_act(v_add(v_load(a + i), v_load(b + i)), act, NULL));
    if (i < n)
        v_storen(y + i, sm_epi_act(v_add(v_loadn(a + i, n - i), v_loadn(b + i, n - i)), act, NULL), n - i);
}

void VSCALE_FN(size_t pixels, size_t channels, const float *x, const float *s, float *y)
{
    SM_VCHANNEL_BODY(v_mul, pixels, channels, x, s, y)
}

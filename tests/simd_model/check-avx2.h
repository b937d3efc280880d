/* check-avx2.h: the real AVX2/FMA operations the model is compared with
 * (check-avx2.c, x86 builds only). */
#ifndef SM_SIMD_MODEL_CHECK_AVX2_H
#define SM_SIMD_MODEL_CHECK_AVX2_H

#include <stddef.h>

typedef enum {
    SM_AVX2_ADD,
    SM_AVX2_SUB,
    SM_AVX2_MUL,
    SM_AVX2_DIV,
    SM_AVX2_MAX,
    SM_AVX2_MIN,
    SM_AVX2_FMADD,
    SM_AVX2_FNMADD,
    SM_AVX2_ROUND,
    SM_AVX2_ABS,
    SM_AVX2_SELECT_NEG, /* a < 0 ? c : b, the compare (LT_OQ) and blend of v_select_neg */
    SM_AVX2_OPS
} sm_avx2_check_op;

/* out[i] = op(a[i], b[i], c[i]) by the AVX2 instruction, n a multiple of 8 */
void sm_avx2_check_binary(sm_avx2_check_op op, const float *a, const float *b, const float *c, float *out,
                          size_t n);
/* the 16 floats summed in _mm512_reduce_add_ps's documented order, with AVX/SSE adds */
float sm_avx2_check_reduce16(const float *x);

#endif

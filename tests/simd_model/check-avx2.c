/* The real AVX2/FMA instructions for test_simd_model's model_vs_avx2: each function
 * applies one instruction to n floats (n a multiple of 8), so the model's 512-bit
 * intrinsics, lane for lane the same operation, can be compared bit for bit with the
 * hardware. Compiled with the AVX2 flags (file-name suffix, x86 only); called only
 * on a CPU that has AVX2 and FMA. */
#include <immintrin.h>
#include <stddef.h>

#include "check-avx2.h"

void sm_avx2_check_binary(sm_avx2_check_op op, const float *a, const float *b, const float *c, float *out,
                          size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i), z = _mm256_loadu_ps(c + i), r;
        switch (op) {
        case SM_AVX2_ADD: r = _mm256_add_ps(x, y); break;
        case SM_AVX2_SUB: r = _mm256_sub_ps(x, y); break;
        case SM_AVX2_MUL: r = _mm256_mul_ps(x, y); break;
        case SM_AVX2_DIV: r = _mm256_div_ps(x, y); break;
        case SM_AVX2_MAX: r = _mm256_max_ps(x, y); break;
        case SM_AVX2_MIN: r = _mm256_min_ps(x, y); break;
        case SM_AVX2_FMADD: r = _mm256_fmadd_ps(x, y, z); break;
        case SM_AVX2_FNMADD: r = _mm256_fnmadd_ps(x, y, z); break;
        case SM_AVX2_ROUND: r = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); break;
        case SM_AVX2_ABS: r = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); break;
        /* the compare as a mask of all-ones lanes, then a blend of y/z by it */
        default: r = _mm256_blendv_ps(y, z, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ)); break;
        }
        _mm256_storeu_ps(out + i, r);
    }
}

/* The Intrinsics Guide's reduce_add tree of 16 lanes on two ymm halves: lo + hi,
 * then 128-bit halves, then pairs (the order _mm512_reduce_add_ps documents). */
float sm_avx2_check_reduce16(const float *x)
{
    __m256 s = _mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}

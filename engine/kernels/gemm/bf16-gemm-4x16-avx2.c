/* sm_bf16_gemm_ukernel_4x16__avx2: the BF16 kernel on AVX2+FMA, for CPUs without
 * native BF16. Each 32-bit lane of a pair row holds {w[2p], w[2p+1]} of one output;
 * a shift and a mask widen them to two FP32 vectors, and two FMAs per pair do the
 * vdpbf16ps steps in its order (odd k first), so the result is the scalar
 * reference's bits. An accuracy and storage path: no faster than FP32 here. */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"

typedef struct { vf even, odd; } bf_w;
typedef struct { vf even, odd; } bf_a;

static inline bf_w bf_load_w(const uint16_t *p)
{
    __m256i raw = _mm256_loadu_si256((const __m256i *)(const void *)p);
    bf_w r = {_mm256_castsi256_ps(_mm256_slli_epi32(raw, 16)),
              _mm256_castsi256_ps(_mm256_and_si256(raw, _mm256_set1_epi32((int)0xffff0000u)))};
    return r;
}

static inline bf_a bf_load_a(const float *a, bool pair)
{
    bf_a r = {v_set1(sm_bf16_quantize(a[0])), v_set1(pair ? sm_bf16_quantize(a[1]) : 0.0f)};
    return r;
}

static inline vf bf_dot(vf acc, bf_a a, bf_w w) { return v_fma(a.even, w.even, v_fma(a.odd, w.odd, acc)); }

#define BF_FN sm_bf16_gemm_ukernel_4x16__avx2
#define BF_MR 4
#define BF_NRV 2
#include "gemm/bf16-gemm-template.h"

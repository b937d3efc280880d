/* sm_bf16_gemm_ukernel_8x32__avx512bf16: the native BF16 kernel (vdpbf16ps,
 * _mm512_dpbf16_ps), the shared tile body (bf16-gemm-template.h) with the
 * hardware's pair step. Not yet run on hardware (the development machine has no
 * AVX-512, qemu 7.2 cannot emulate it); its source runs in the tests under a
 * software model of vdpbf16ps (tests/simd_model) and gives the scalar reference's
 * bits. Built by default on x86-64 (SM_AVX512BF16=0 leaves it out), dispatched only
 * on a CPU with avx512_bf16 (docs/KERNELS.md).
 * Per k pair: 2 weight loads (32 outputs) and 8 broadcast activation pairs feed
 * 16 vdpbf16ps, 32 multiply-adds each. */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "gemm/bf16-gemm.h"

typedef __m512bh bf_w;
typedef __m512bh bf_a;

static inline bf_w bf_load_w(const uint16_t *p) { return (__m512bh)_mm512_loadu_si512((const void *)p); }

/* the pair as one 32-bit lane: a[0] in the low half (the even k), as the panels */
static inline bf_a bf_load_a(const float *a, bool pair)
{
    uint32_t lo = sm_bf16_round(a[0]), hi = pair ? sm_bf16_round(a[1]) : 0u;
    return (__m512bh)_mm512_set1_epi32((int)(lo | hi << 16));
}

static inline vf bf_dot(vf acc, bf_a a, bf_w w) { return _mm512_dpbf16_ps(acc, a, w); }

#define BF_FN sm_bf16_gemm_ukernel_8x32__avx512bf16
#define BF_MR 8
#define BF_NRV 2
#include "gemm/bf16-gemm-template.h"

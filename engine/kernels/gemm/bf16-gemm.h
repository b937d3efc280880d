/* bf16-gemm.h: the BF16 GEMM path (weights stored as bfloat16, activations rounded
 * to bfloat16 on the fly, products accumulated in FP32, epilogue in FP32).
 * Internal to the engine, tests and benchmarks.
 *
 * Arithmetic: exactly what AVX-512 BF16's vdpbf16ps does per output lane and per
 * pair of consecutive k (Intel SDM, VDPBF16PS):
 *     acc = acc + a[2p+1] * w[2p+1]      (FP32, round to nearest even)
 *     acc = acc + a[2p]   * w[2p]
 * with both operands bfloat16 widened to FP32, so each product is exact (8-bit
 * significands, 16-bit product) and each step is one FP32 rounding (fmaf).
 * The hardware treats denormal inputs (the accumulator too) as zero and flushes
 * tiny results (tininess after rounding); sm_bf16_round flushes denormal inputs to
 * zero, so every kernel sees the same operands, and the scalar reference also
 * reads a denormal accumulator (bias) as zero and flushes each tiny step result.
 * Only the AVX2 kernel keeps denormal running sums and biases (|x| <= 1.2e-38), a
 * difference no network here can reach. The native kernel's source runs in the
 * tests under a software model of vdpbf16ps (tests/simd_model) on every machine.
 *
 * Packed panels (uint16 units), per group of NR output columns:
 *     [bias: NR floats = 2*NR uint16][K2 = ceil(K/2) pair rows: NR x {w[2p], w[2p+1]}]
 * i.e. the two k of a pair interleaved per output lane, the order vdpbf16ps reads
 * (low half of each 32-bit lane = even k). An odd K ends with a zero partner;
 * columns past N are zero. A panel is (K2 + 1) * 2 * NR uint16 long. */
#ifndef SM_BF16_GEMM_H
#define SM_BF16_GEMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sm_ukernels.h"

/* FP32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN of the same
 * sign, overflow rounds to infinity, denormal inputs become a signed zero (the
 * DAZ of vcvtne2ps2bf16/vdpbf16ps). */
static inline uint16_t sm_bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0)
        return (uint16_t)((u >> 16) & 0x8000u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float sm_bf16_widen(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The FP32 value the kernels multiply for activation x. */
static inline float sm_bf16_quantize(float x) { return sm_bf16_widen(sm_bf16_round(x)); }

/* C[mr x nc] = act(A[mr x kc] * W + bias + residual): the sm_gemm_ukernel_fn
 * contract with w a bf16 panel (layout above); A and C are FP32. */
typedef void (*sm_bf16_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                        const uint16_t *w, float *c, size_t ldc,
                                        const sm_ukernel_params *p);

typedef struct {
    sm_bf16_gemm_ukernel_fn fn;
    size_t mr, nr;
    const char *name;
    bool native; /* the CPU's own BF16 instructions (faster), else an FP32 emulation */
} sm_bf16_gemm_variant;

void sm_bf16_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                      const uint16_t *w, float *c, size_t ldc,
                                      const sm_ukernel_params *p);
#if SM_KERNELS_X86
void sm_bf16_gemm_ukernel_4x16__avx2(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                     const uint16_t *w, float *c, size_t ldc,
                                     const sm_ukernel_params *p);
#endif
#if SM_KERNELS_X86 && defined(SM_HAVE_AVX512BF16)
/* Built by default on x86-64 (SM_AVX512BF16=0 leaves it out); tested under tests/simd_model, not yet on hardware. */
void sm_bf16_gemm_ukernel_8x32__avx512bf16(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                           const uint16_t *w, float *c, size_t ldc,
                                           const sm_ukernel_params *p);
#endif

/* The kernel for an ISA level: the native AVX-512 BF16 one only when built in
 * and the CPU has avx512_bf16, AVX2 on the other x86 levels, else scalar. */
const sm_bf16_gemm_variant *sm_bf16_gemm_for(sm_isa isa);
/* Every variant this build and CPU can run (tests, benchmarks); returns the count. */
size_t sm_bf16_gemm_variants(const sm_bf16_gemm_variant **out, size_t max);

/* uint16 length of the packed panels for n outputs, k inputs, tile nr. */
size_t sm_bf16_packed_len(size_t n, size_t k, size_t nr);
/* Packs w_nk [n][k] (row o = output o) and bias (n or NULL) into dst (length
 * sm_bf16_packed_len); in_scale NULL or k factors multiplied into the weights
 * before the single rounding (an SE gate folded in). */
void sm_bf16_pack_gemm(const float *w_nk, const float *bias, const float *in_scale, size_t n, size_t k,
                       size_t nr, uint16_t *dst);
/* The same from FP32 panels as sm_ops_pack_gemm makes them ([bias NR][K x NR] per
 * panel, same nr), panels [p0, p1) only. */
void sm_bf16_repack_panels(const float *packed, const float *in_scale, size_t k, size_t nr, size_t p0,
                           size_t p1, uint16_t *dst);

#endif

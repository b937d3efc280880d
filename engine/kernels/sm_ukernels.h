/* sm_ukernels.h: micro-kernel signatures, their X-macro lists and the per-ISA
 * dispatch table. Internal to the engine, tests and benchmarks.
 *
 * Every kernel: never allocates, never logs, returns void, trusts its caller
 * (the op that validated shapes at prepare). The activation of an epilogue is a
 * runtime parameter (sm_ukernel_params), applied after bias and residual add.
 *
 * Packed weight layouts (built by the ops, see docs/KERNELS.md):
 *   gemm   panels of NR output columns: [bias NR][K rows of NR], zero-padded to NR.
 *          A is row-major (M x K, row stride lda), C row-major (row stride ldc).
 *   dwconv per channel tile of T: [bias T][kh*kw taps of T] (tap = ky*kw + kx),
 *          zero-padded to T; input/output NHWC rows with pixel stride = channels.
 *   se     w1 [rd][C] and w2 [rd][Cp] (Cp = C rounded up to the tile), b2 [Cp].
 *   pconv3x3  per group of 4 output channels: [bias 4][cin][9 taps][4], zero-padded.
 */
#ifndef SM_UKERNELS_H
#define SM_UKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"
#include "sm_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define SM_KERNELS_X86 1
#else
#define SM_KERNELS_X86 0
#endif
#if defined(__aarch64__)
#define SM_KERNELS_NEON 1
#else
#define SM_KERNELS_NEON 0
#endif

typedef struct {
    sm_act act;
    const float *alpha;    /* PReLU slopes for this tile's first column/channel, padded to the tile */
    const float *residual; /* NULL or the residual's element for c[0] */
    size_t residual_stride; /* elements between residual rows (gemm) or pixels (dwconv) */
} sm_ukernel_params;

/* C[mr x nc] = act(A[mr x kc] * Wpanel + bias + residual); mr <= MR, nc <= NR. */
typedef void (*sm_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *a, size_t lda,
                                   const float *w, float *c, size_t ldc,
                                   const sm_ukernel_params *p);
/* Direct convolution, the GEMM kernel with A read in place: output pixel m's
 * window starts at a[m] in a padded NHWC image, kh rows of run (= kw*ic)
 * contiguous floats, row_stride floats apart. Same packed panels as gemm. */
typedef void (*sm_dconv_ukernel_fn)(size_t mr, size_t nc, size_t kh, size_t run, size_t row_stride,
                                    const float *const *a, const float *w, float *c, size_t ldc,
                                    const sm_ukernel_params *p);
/* One output row of a depthwise conv over all channels. rows[ky] points at input
 * row (y*s - pad_top + ky) or is NULL for a padding row. pad_left may exceed 0;
 * columns outside [0, in_w) are zero. */
typedef void (*sm_dwconv_ukernel_fn)(size_t channels, size_t out_w, size_t in_w, size_t pad_left,
                                     const float *const *rows, const float *w, float *out,
                                     const sm_ukernel_params *p);
/* Generic square k, stride s (tile 4, scalar). */
typedef void (*sm_dwconv_generic_ukernel_fn)(size_t k, size_t s, size_t channels, size_t out_w,
                                             size_t in_w, size_t pad_left,
                                             const float *const *rows, const float *w,
                                             float *out, const sm_ukernel_params *p);
/* One output row of every output channel of a 3x3 stride-1 conv on planar rows:
 * rows[c*3 + ky] is input channel c's row (y - 1 + ky), zero at [-1] and [width]
 * and readable from [-1] through [width + 32]; out[o] and res[o] (res may be NULL)
 * are channel o's output and residual rows. act: NONE, RELU, SILU or SIGMOID,
 * after the residual add. */
typedef void (*sm_pconv3x3_ukernel_fn)(size_t cin, size_t cout, size_t width,
                                       const float *const *rows, const float *w, sm_act act,
                                       const float *const *res, float *const *out);
/* One output row of a max pool; rows[0..kh) like dwconv (NULL = padding). */
typedef void (*sm_maxpool_ukernel_fn)(size_t channels, size_t out_w, size_t in_w, size_t pad_left,
                                      size_t kw, size_t sw, const float *const *rows, size_t kh,
                                      float *out);
/* out[c] = mean over pixels. */
typedef void (*sm_gavgpool_ukernel_fn)(size_t pixels, size_t channels, const float *in, float *out);
/* y = act(x) elementwise, n elements (RELU, SILU, SIGMOID). */
typedef void (*sm_vunary_ukernel_fn)(size_t n, const float *x, float *y);
/* y[p,c] = prelu(x[p,c], alpha[c]) (alpha padded to the tile). */
typedef void (*sm_prelu_ukernel_fn)(size_t pixels, size_t channels, const float *x,
                                    const float *alpha, float *y);
/* y = act(a + b) for act NONE/RELU/SILU/SIGMOID. */
typedef void (*sm_vadd_ukernel_fn)(size_t n, const float *a, const float *b, sm_act act, float *y);
/* y[p,c] = x[p,c] * s[c]. */
typedef void (*sm_vscale_ukernel_fn)(size_t pixels, size_t channels, const float *x,
                                     const float *s, float *y);
/* SE gate from the pooled means m[C]: h = act(w1 m + b1), g = sigmoid(w2^T h + b2);
 * h is rd floats of scratch. */
typedef void (*sm_se_ukernel_fn)(size_t channels, size_t rd, const float *m, const float *w1,
                                 const float *b1, const float *w2, const float *b2, sm_act act,
                                 float *h, float *g);

#define SM_UK_NAME(op, tile, isa) sm_f32_##op##_ukernel_##tile##__##isa
/* The names of listed kernels as strings (tables, tests and benchmarks print them). */
#define SM_GEMM_UK_STR(isa, MR_, NR_) "sm_f32_gemm_ukernel_" #MR_ "x" #NR_ "__" #isa
#define SM_DWCONV_UK_STR(isa, K_, S_, t) "sm_f32_dwconv_ukernel_" #K_ "x" #K_ "s" #S_ "_" #t "c__" #isa
#define SM_DWCONV_KXK_UK_STR(isa, t) "sm_f32_dwconv_ukernel_kxk_" #t "c__" #isa

/* ---- declarations from the .inc lists ---- */
#define SM_GEMM_UKERNEL(isa_enum, isa, mr, nr) \
    void SM_UK_NAME(gemm, mr##x##nr, isa)(size_t, size_t, size_t, const float *, size_t, const float *, float *, size_t, const sm_ukernel_params *); \
    void SM_UK_NAME(dconv, mr##x##nr, isa)(size_t, size_t, size_t, size_t, size_t, const float *const *, const float *, float *, size_t, const sm_ukernel_params *);
#define SM_GEMM_NARROW_UKERNEL(isa_enum, isa, mr, nr) SM_GEMM_UKERNEL(isa_enum, isa, mr, nr)
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t) \
    void SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, isa)(size_t, size_t, size_t, size_t, const float *const *, const float *, float *, const sm_ukernel_params *);
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t) \
    void SM_UK_NAME(dwconv, kxk_##t##c, isa)(size_t, size_t, size_t, size_t, size_t, size_t, const float *const *, const float *, float *, const sm_ukernel_params *);
#define SM_POOL_UKERNEL(isa_enum, isa, t) \
    void SM_UK_NAME(maxpool, t##c, isa)(size_t, size_t, size_t, size_t, size_t, size_t, const float *const *, size_t, float *); \
    void SM_UK_NAME(gavgpool, t##c, isa)(size_t, size_t, const float *, float *);
#define SM_ACT_UKERNEL(isa_enum, isa, t) \
    void SM_UK_NAME(vrelu, x##t, isa)(size_t, const float *, float *); \
    void SM_UK_NAME(vsilu, x##t, isa)(size_t, const float *, float *); \
    void SM_UK_NAME(vsigmoid, x##t, isa)(size_t, const float *, float *); \
    void SM_UK_NAME(prelu, t##c, isa)(size_t, size_t, const float *, const float *, float *);
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t) \
    void SM_UK_NAME(vadd, x##t, isa)(size_t, const float *, const float *, sm_act, float *); \
    void SM_UK_NAME(vscale, t##c, isa)(size_t, size_t, const float *, const float *, float *);
#define SM_SE_UKERNEL(isa_enum, isa, t) \
    void SM_UK_NAME(se, t##c, isa)(size_t, size_t, const float *, const float *, const float *, const float *, const float *, sm_act, float *, float *);
#define SM_CHANPAD_UKERNEL(isa_enum, isa) \
    void sm_f32_chanpad_ukernel__##isa(size_t, size_t, size_t, const float *, float *);
#define SM_SOFTMAX_UKERNEL(isa_enum, isa) void sm_f32_softmax_ukernel__##isa(size_t, const float *, float *);
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T) \
    void sm_##prec##_dense_ukernel__##isa(size_t, size_t, const T *, const T *, const T *, sm_act, T *);
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) \
    void SM_UK_NAME(pconv3x3, 4o, isa)(size_t, size_t, size_t, const float *const *, const float *, sm_act, const float *const *, float *const *);
#include "sm_ukernel_lists.inc"

/* ---- dispatch table (one per ISA level, filled from the .inc lists) ---- */
/* What a depthwise kernel assumes, the key it is looked up by: a kh x kw window at
 * strides sh (rows) and sw (columns). The generic kernel's key is all zeros: any
 * square window at any equal stride. Padding is no part of the key (every kernel
 * takes NULL rows and pad_left, whatever the padding), nor dilation (none exists). */
typedef struct {
    uint32_t kh, kw, sh, sw;
} sm_dwconv_key;
/* A listed depthwise kernel: exactly one of fn (fixed shape) and generic is set;
 * the op packs channels in groups of tile. */
typedef struct {
    sm_dwconv_key key;
    uint32_t tile;
    sm_isa isa;
    sm_dwconv_ukernel_fn fn;
    sm_dwconv_generic_ukernel_fn generic;
    const char *name;
} sm_dwconv_variant;
#define SM_DWCONV_MAX_VARIANTS 16 /* per level; dispatch.c asserts the list fits */

typedef struct {
    sm_isa isa;
    /* each GEMM tile comes with its direct-convolution twin (same mr, nr, panels) */
    struct { sm_gemm_ukernel_fn fn; sm_dconv_ukernel_fn direct; uint32_t mr, nr; const char *name; } gemm;
    /* optional narrower GEMM (fn NULL when absent) for small output channel counts */
    struct { sm_gemm_ukernel_fn fn; sm_dconv_ukernel_fn direct; uint32_t mr, nr; const char *name; } gemm_narrow;
    /* the fixed-shape kernels of dwconv.inc for this level (keys unique) and the
     * generic one (the level's own, else scalar's); look up with sm_kernels_dwconv */
    sm_dwconv_variant dwconv[SM_DWCONV_MAX_VARIANTS];
    size_t n_dwconv;
    sm_dwconv_variant dwconv_generic;
    uint32_t tile;                  /* channel tile of pool/act/eltwise/se kernels */
    sm_maxpool_ukernel_fn maxpool;
    sm_gavgpool_ukernel_fn gavgpool;
    sm_vunary_ukernel_fn vrelu, vsilu, vsigmoid;
    sm_prelu_ukernel_fn prelu;
    sm_vadd_ukernel_fn vadd;
    sm_vscale_ukernel_fn vscale;
    sm_se_ukernel_fn se;
    sm_pconv3x3_ukernel_fn pconv3x3; /* 4 output channels per group */
} sm_kernel_table;

/* The table for an ISA level, or NULL when it is not compiled in or the CPU
 * cannot run it. sm_kernels_active() = sm_kernels_for(sm_isa_active()). */
const sm_kernel_table *sm_kernels_for(sm_isa isa);
const sm_kernel_table *sm_kernels_active(void);
/* Whether a listed depthwise kernel computes a window of this key. */
bool sm_dwconv_variant_fits(const sm_dwconv_variant *v, sm_dwconv_key key);
/* The level's depthwise kernel for key under a description's choice: AUTO the fixed
 * kernel listed for exactly this key, else the generic one; FIXED only the former;
 * GENERIC only the latter. NULL when the chosen kind does not fit the key. */
const sm_dwconv_variant *sm_kernels_dwconv(const sm_kernel_table *t, sm_dwconv_key key,
                                           sm_dwconv_kernel choice);
/* Name of the GEMM micro-kernel (or BLAS path) a prepared conv runs (benchmarks). */
const char *sm_conv2d_kernel_name(const sm_conv2d *op);
/* Name of the depthwise micro-kernel a prepared depthwise conv runs. */
const char *sm_dwconv_kernel_name(const sm_dwconv *op);

#endif

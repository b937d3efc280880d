/* sm_kernels.h: float32 neural-network operators (NHWC, batch 1) and the
 * micro-kernels under them.
 *
 * Two levels:
 *   1. Ops (sm_conv2d_*, sm_dwconv_*, sm_dense_*, sm_se_*, sm_maxpool_*, sm_mlp_*,
 *      and stateless helpers): what the model code calls. prepare() validates
 *      every shape and argument, folds BatchNorm, repacks the weights into the
 *      kernels' blocked layout and allocates what run() needs; run() only
 *      computes (never allocates, never fails, never logs).
 *   2. Micro-kernels sm_f32_<op>[_<act>]_ukernel_<tile>__<isa> (declared in
 *      engine/kernels/sm_ukernels.h, driven by the <family>/<family>.inc X-macro lists),
 *      reached through sm_kernels_for(isa). Tests and benchmarks use them directly.
 *
 * Contract shared by all ops
 *   Layout   activations are NHWC float32, batch 1, densely packed:
 *            element (y, x, c) of an HxWxC map is at [(y*W + x)*C + c].
 *   Weights  passed in the checkpoint's own layout (sm_wlayout); prepare copies
 *            what it needs, so the caller may free or unmap them afterwards.
 *   Ownership an op owns its packed weights and scratch; *_free(NULL) is a no-op.
 *   Threads  run(..., pool) splits output tiles over sm_threadpool (pool may be
 *            NULL = caller's thread only). Results are bit-identical for any
 *            thread count. An op holds scratch, so one op must not be run from
 *            two threads at once (use one op per concurrent model instance).
 *            When built with OpenBLAS, ops set OpenBLAS to 1 thread: we thread.
 *   ISA      the kernel set is chosen at prepare from sm_isa_active()
 *            (SM_ISA=scalar|avx2|avx512 or sm_isa_force() to change it).
 *   Aliasing in and out must not overlap unless a function says otherwise.
 *   Fused epilogue order (conv, dwconv, dense):
 *            out = act(conv(in) + bias + residual)
 *            residual (may be NULL, must not alias out) has the output's shape; this matches
 *            BlazeFace/FaceMesh (ADD then RELU/PRELU) and EfficientNet (no act).
 */
#ifndef SM_KERNELS_H
#define SM_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- common descriptions ----------------------------------------------------- */

typedef enum {
    SM_ACT_NONE = 0,
    SM_ACT_RELU,    /* max(x, 0) */
    SM_ACT_SILU,    /* x * sigmoid(x) (swish) */
    SM_ACT_SIGMOID, /* 1 / (1 + exp(-x)) */
    SM_ACT_PRELU    /* x >= 0 ? x : alpha[c] * x, one alpha per channel */
} sm_act;

const char *sm_act_name(sm_act act);

/* Weight layouts as found in checkpoints. */
typedef enum {
    SM_WLAYOUT_OIHW = 0, /* PyTorch Conv2d [out, in, kh, kw]; depthwise [C, 1, kh, kw] */
    SM_WLAYOUT_OHWI,     /* TFLite CONV_2D [out, kh, kw, in] */
    SM_WLAYOUT_1HWO,     /* TFLite DEPTHWISE_CONV_2D [1, kh, kw, C] (multiplier 1) */
    SM_WLAYOUT_HWIO      /* TF/Keras [kh, kw, in, out] */
} sm_wlayout;

/* Dense (fully connected) weight layouts. */
typedef enum {
    SM_DENSE_OI = 0, /* PyTorch nn.Linear, TFLite FULLY_CONNECTED: [out, in] */
    SM_DENSE_IO      /* scikit-learn coefs_: [in, out] */
} sm_dense_layout;

typedef enum {
    SM_PAD_EXPLICIT = 0, /* use top/left/bottom/right as given (PyTorch: all = p) */
    SM_PAD_SAME,         /* TFLite 'SAME': total = max((out-1)*s + k - in, 0),
                            floor(total/2) before, the rest after; computed at run
                            from the input size; out = ceil(in / s) */
    SM_PAD_VALID         /* no padding (TFLite 'VALID') */
} sm_pad_mode;

typedef struct {
    sm_pad_mode mode;
    uint32_t top, left, bottom, right; /* pixels, only for SM_PAD_EXPLICIT */
} sm_padding;

/* Convenience constructors. */
sm_padding sm_padding_sym(uint32_t p);  /* PyTorch padding=p on all four sides */
sm_padding sm_padding_same(void);
sm_padding sm_padding_valid(void);

/* Eval-mode BatchNorm to fold into the preceding conv:
 * y = (x - mean) / sqrt(var + eps) * gamma + beta. Arrays have out_ch entries.
 * gamma/beta may be NULL (affine=False: 1 and 0). */
typedef struct {
    const float *gamma, *beta, *mean, *var;
    float eps; /* PyTorch default 1e-5 */
} sm_batchnorm;

/* Which GEMM kernel a regular conv runs. AUTO (0, what a zeroed description
 * says) lets prepare choose from the shape and the level; tests and benchmarks
 * name one of the gemm.inc variants (or BLAS) to reach each listed kernel. */
typedef enum {
    SM_GEMM_KERNEL_AUTO = 0,
    SM_GEMM_KERNEL_OWN,    /* never BLAS; wide or narrow tile by the shape */
    SM_GEMM_KERNEL_WIDE,   /* the level's main GEMM tile */
    SM_GEMM_KERNEL_NARROW, /* its narrow tile (the main one where the level has none) */
    SM_GEMM_KERNEL_BLAS    /* pointwise convs through cblas_sgemm when built with BLAS */
} sm_gemm_kernel;

/* Which depthwise kernel a depthwise conv runs (dwconv.inc, at the active level).
 * AUTO (0) takes the kernel listed for exactly this window and stride, else the
 * generic one; tests and benchmarks name a kind to reach each listed kernel. */
typedef enum {
    SM_DWCONV_KERNEL_AUTO = 0,
    SM_DWCONV_KERNEL_FIXED,  /* only a fixed-shape kernel: prepare fails when none is listed */
    SM_DWCONV_KERNEL_GENERIC /* the generic any-k kernel even where a fixed one exists */
} sm_dwconv_kernel;

/* Arithmetic of the GEMM-based convs (sm_conv2d_*). FP32 by default; a model
 * that qualifies may default to BF16 (sm_precision_choose).
 * BF16: weights rounded to bfloat16 at prepare, activations rounded on the fly,
 * FP32 accumulation and epilogue (vdpbf16ps semantics, bf16-gemm.h); native
 * (faster) only where the build has the AVX-512 BF16 kernel and the CPU has
 * avx512_bf16, else the same bits through an AVX2/scalar emulation (an accuracy
 * and storage path, not faster). Dense layers run as 1x1 convs and follow their
 * description's precision; depthwise, SE and MLP ops stay FP32. */
typedef enum {
    SM_PRECISION_DEFAULT = 0, /* a zeroed description: sm_precision_active() */
    SM_PRECISION_FP32,
    SM_PRECISION_BF16
} sm_precision;
/* The process-wide precision: the user's explicit choice (sm_precision_user),
 * FP32 when nobody chose; what a description's DEFAULT means at its prepare.
 * A model that may differ (the per-model rule below) asks for its precision
 * explicitly (sm_graph_options.precision, a description's precision) instead
 * of changing this. */
sm_precision sm_precision_active(void);
/* The user's explicit choice: SM_PRECISION=fp32|bf16 (read once; anything else
 * is reported and counts as no choice) or the last sm_precision_force
 * (sm_precision_take_arg's --precision); SM_PRECISION_DEFAULT when neither. */
sm_precision sm_precision_user(void);
/* FP32 or BF16 becomes the explicit choice; DEFAULT forgets any choice, the
 * environment's included (sm_precision_active() is FP32 again). */
void sm_precision_force(sm_precision p);
/* The per-model default (issue 17): the user's explicit FP32 or BF16 always
 * wins (BF16 then runs even where it is only emulated: asked for, not
 * silent); with no choice, BF16 only for a model that met the accuracy bar
 * of docs/PERFORMANCE.md ("BF16 ... accuracy") on a CPU where it runs
 * natively (cpu_native_bf16: sm_precision_native()), else FP32. Pure: reads
 * no state. Never returns DEFAULT. */
sm_precision sm_precision_choose(sm_precision user, bool model_qualifies_bf16, bool cpu_native_bf16);
bool sm_precision_parse(const char *s, sm_precision *out); /* "fp32"|"bf16" */
const char *sm_precision_name(sm_precision p);
/* Whether BF16 would run on native BF16 instructions at the active ISA level. */
bool sm_precision_native(void);
/* For the programs' command lines: removes every "--precision fp32|bf16" (or
 * "--precision=...") from argv, updates *argc, and applies the last one with
 * sm_precision_force. SM_ERR_ARG (err names the value) for a missing or unknown
 * value; argv is left as it was then. */
sm_status sm_precision_take_arg(int *argc, char **argv, sm_error *err);

/* One description for regular (sm_conv2d_*) and depthwise (sm_dwconv_*) convs. */
typedef struct {
    uint32_t in_ch, out_ch;     /* depthwise: out_ch == in_ch (0 = same as in_ch) */
    uint32_t kh, kw;
    uint32_t stride_h, stride_w; /* >= 1 */
    sm_padding pad;
    sm_wlayout layout;
    const float *weights;        /* required */
    const float *bias;           /* out_ch entries or NULL */
    const sm_batchnorm *bn;      /* NULL or BN folded into weights and bias */
    sm_act act;
    const float *alpha;          /* out_ch PReLU slopes when act == SM_ACT_PRELU */
    const char *name;            /* for error messages (e.g. "blocks.3.1.conv_pw"); may be NULL */
    sm_gemm_kernel gemm;         /* regular convs: kernel choice, AUTO by default */
    sm_dwconv_kernel dwconv;     /* depthwise convs: kernel choice, AUTO by default */
    sm_precision precision;      /* regular convs: DEFAULT = sm_precision_active() */
} sm_conv_desc;

/* ---- regular convolution (groups = 1), pointwise 1x1 via GEMM ------------------ */

/* The three calls of both conv ops (OP = conv2d or dwconv), declared once:
 *   sm_OP_prepare(desc, &op, err)   validates desc, packs the weights, picks the kernel
 *   sm_OP_out_shape(op, in_h, in_w, &out_h, &out_w, err)
 *                                   output size; SM_ERR_SHAPE if the input is too small
 *   sm_OP_run(op, in, in_h, in_w, residual, out, pool)
 *                                   in: in_h x in_w x in_ch; out: out_h x out_w x out_ch;
 *                                   residual NULL or like out. Precondition: out_shape
 *                                   succeeded for (in_h, in_w). */
#define SM_CONV_OP_API(OP)                                                                       \
    typedef struct sm_##OP sm_##OP;                                                              \
    sm_status sm_##OP##_prepare(const sm_conv_desc *desc, sm_##OP **op, sm_error *err);          \
    sm_status sm_##OP##_out_shape(const sm_##OP *op, size_t in_h, size_t in_w, size_t *out_h,    \
                                  size_t *out_w, sm_error *err);                                 \
    void sm_##OP##_run(const sm_##OP *op, const float *in, size_t in_h, size_t in_w,             \
                       const float *residual, float *out, sm_threadpool *pool);

/* Supported: any kh/kw/stride, any padding. 1x1 stride-1 unpadded convs run as one
 * GEMM over the pixels; others as im2col rows + the same GEMM micro-kernel. */
SM_CONV_OP_API(conv2d)
/* Direct convolution over output pixels the caller lists, for images the caller
 * keeps zero-bordered (the op's own padding is not applied): pixel i of image j
 * has its window origin at in + j*image_stride + window[i] (floats) in an NHWC
 * image whose rows are row_stride floats apart, and every window must lie inside
 * the image. out: n x count x out_ch, pixel i of image j at (j*count + i)*out_ch.
 * The order is the caller's: listing the pixels of each pooling window together
 * turns the pool that follows into a max over consecutive rows. Nothing is
 * gathered and pixel blocks run across rows and images: the fast path for
 * batches of small images. */
void sm_conv2d_run_windows(const sm_conv2d *op, const float *in, size_t n, size_t image_stride,
                           const size_t *window, size_t count, size_t row_stride, float *out,
                           sm_threadpool *pool);
/* Fills window[] (when not NULL) with the origins of every output pixel of an
 * in_h x in_w image (padding included) in raster order; returns their count,
 * 0 if the image is smaller than the kernel. */
size_t sm_conv2d_raster_windows(const sm_conv2d *op, size_t in_h, size_t in_w, size_t *window);
void sm_conv2d_free(sm_conv2d *op);
size_t sm_conv2d_out_channels(const sm_conv2d *op);
size_t sm_conv2d_in_channels(const sm_conv2d *op);
/* Pointwise convs only: out = conv(x) with x[p, k] = in[p, k] * in_scale[k] (an SE
 * gate applied on the way in), by scaling a copy of the weights in scratch
 * (sm_conv2d_scaled_scratch_floats(op) floats, 0 for other convs) instead of a
 * pass over the input: cheaper wherever pixels outnumber output channels. */
size_t sm_conv2d_scaled_scratch_floats(const sm_conv2d *op);
void sm_conv2d_run_scaled(const sm_conv2d *op, const float *in, size_t in_h, size_t in_w,
                          const float *in_scale, const float *residual, float *out, float *scratch,
                          sm_threadpool *pool);

/* ---- two small 3x3 convolutions with a skip, streamed row by row ----------------- */
/* out = act_b(in + conv_b(act_a(conv_a(in)))): both 3x3, stride 1, padding 1 on every
 * side; conv_a in_ch -> mid, conv_b mid -> in_ch, each count 1..64 (e.g.
 * NovelEmotionModel's MicroExpEnhancer 3 -> 16 -> 3; fold a scale of the branch
 * into conv_b's weights and bias). Activations NONE, RELU, SILU or SIGMOID. Rows
 * run planar with pixels along the vector lanes; scratch holds
 * sm_conv3x3_pair_scratch_floats(op, w, sm_threadpool_size(pool)) floats, so run
 * allocates nothing. */

typedef struct sm_conv3x3_pair sm_conv3x3_pair;

sm_status sm_conv3x3_pair_prepare(const sm_conv_desc *conv_a, const sm_conv_desc *conv_b,
                                  sm_conv3x3_pair **op, sm_error *err);
size_t sm_conv3x3_pair_scratch_floats(const sm_conv3x3_pair *op, size_t w, size_t n_threads);
/* in, out: h x w x in_ch (NHWC), distinct buffers. */
void sm_conv3x3_pair_run(const sm_conv3x3_pair *op, const float *in, size_t h, size_t w, float *out,
                         float *scratch, sm_threadpool *pool);
void sm_conv3x3_pair_free(sm_conv3x3_pair *op);

/* ---- depthwise convolution (groups = channels, multiplier 1) ------------------- */

/* Fast kernels for the windows and strides dwconv.inc lists (3x3 and 5x5 at stride
 * 1 and 2); any other square k <= 16 at an equal stride runs the generic (slower)
 * kernel (desc->dwconv chooses).
 * Weights: SM_WLAYOUT_OIHW ([C,1,kh,kw]) or SM_WLAYOUT_1HWO ([1,kh,kw,C]). */
SM_CONV_OP_API(dwconv)
/* sm_dwconv_run that also leaves the per-channel mean of its output in mean
 * (channels floats), computed row by row while each row is still in cache (an SE
 * block's pooling without its own pass); scratch holds
 * sm_dwconv_mean_scratch_floats(op, out_h) floats. */
size_t sm_dwconv_mean_scratch_floats(const sm_dwconv *op, size_t out_h);
void sm_dwconv_run_mean(const sm_dwconv *op, const float *in, size_t in_h, size_t in_w,
                        const float *residual, float *out, float *mean, float *scratch,
                        sm_threadpool *pool);
/* A pointwise conv fused in front of a depthwise one, out = dw(pw(in)) (an inverted
 * residual block's conv_pw -> conv_dw), when sm_pw_dw_fusable: streamed by rows,
 * each thread computing a slice of the expanded channels into a ring of k rows,
 * so the expanded map is never stored. mean/mean_scratch as in
 * sm_dwconv_run_mean (mean may be NULL); scratch holds
 * sm_pw_dw_scratch_floats(dw, in_w, sm_threadpool_size(pool)) floats.
 * in: in_h x in_w x pw's in_ch; out: the dwconv's output. Same bits as the two
 * ops run one after the other (both split work so that each element's arithmetic
 * is fixed). */
bool sm_pw_dw_fusable(const sm_conv2d *pw, const sm_dwconv *dw);
size_t sm_pw_dw_scratch_floats(const sm_dwconv *dw, size_t in_w, size_t n_threads);
void sm_pw_dw_run(const sm_conv2d *pw, const sm_dwconv *dw, const float *in, size_t in_h, size_t in_w,
                  float *out, float *mean, float *mean_scratch, float *scratch, sm_threadpool *pool);
void sm_dwconv_free(sm_dwconv *op);

/* ---- dense / fully connected (float32) ------------------------------------------ */

typedef struct sm_dense sm_dense;

typedef struct {
    uint32_t in_features, out_features;
    sm_dense_layout layout;
    const float *weights; /* required */
    const float *bias;    /* out_features entries or NULL */
    sm_act act;
    const float *alpha;   /* PReLU slopes (out_features) */
    const char *name;
    sm_gemm_kernel gemm;    /* kernel choice, AUTO by default (a dense layer is a 1x1 conv) */
    sm_precision precision; /* DEFAULT = sm_precision_active(), as for the convs */
} sm_dense_desc;

sm_status sm_dense_prepare(const sm_dense_desc *desc, sm_dense **op, sm_error *err);
/* rows independent input vectors (rows x in_features) -> rows x out_features. */
void sm_dense_run(const sm_dense *op, const float *in, size_t rows, const float *residual,
                  float *out, sm_threadpool *pool);
void sm_dense_free(sm_dense *op);

/* ---- squeeze-and-excitation (fused) ---------------------------------------------- */
/* s = mean_hw(x); h = act(W1 s + b1); g = sigmoid(W2 h + b2); out = x * g (per channel).
 * timm: conv_reduce (W1 [rd, C, 1, 1]), act SiLU, conv_expand (W2 [C, rd, 1, 1]). */

typedef struct sm_se sm_se;

typedef struct {
    uint32_t channels, reduced;
    sm_dense_layout layout;   /* of both weight matrices; OI for PyTorch 1x1 convs */
    const float *w_reduce, *b_reduce; /* [rd, C] (OI), bias rd entries or NULL */
    const float *w_expand, *b_expand; /* [C, rd] (OI), bias C entries or NULL */
    sm_act act;               /* activation after reduce (SiLU for EfficientNet) */
    const char *name;
} sm_se_desc;

sm_status sm_se_prepare(const sm_se_desc *desc, sm_se **op, sm_error *err);
/* in, out: h x w x channels; out may equal in (in-place scaling). */
void sm_se_run(const sm_se *op, const float *in, size_t h, size_t w, float *out,
               sm_threadpool *pool);
/* sm_se_run with the channel means already known (sm_dwconv_run_mean). */
void sm_se_run_with_mean(const sm_se *op, const float *mean, const float *in, size_t h, size_t w,
                         float *out, sm_threadpool *pool);
/* The gate alone, sigmoid(W2 act(W1 mean + b1) + b2): channels floats owned by the
 * op, valid until its next call (for sm_conv2d_run_scaled). */
const float *sm_se_gate(const sm_se *op, const float *mean);
void sm_se_free(sm_se *op);

/* ---- pooling --------------------------------------------------------------------- */

typedef struct sm_maxpool sm_maxpool;

/* Max over the window's valid (non-padding) elements, as TFLite and PyTorch do. */
sm_status sm_maxpool_prepare(uint32_t kh, uint32_t kw, uint32_t stride_h, uint32_t stride_w,
                             sm_padding pad, sm_maxpool **op, sm_error *err);
sm_status sm_maxpool_out_shape(const sm_maxpool *op, size_t in_h, size_t in_w, size_t *out_h,
                               size_t *out_w, sm_error *err);
void sm_maxpool_run(const sm_maxpool *op, const float *in, size_t in_h, size_t in_w,
                    size_t channels, float *out, sm_threadpool *pool);
void sm_maxpool_free(sm_maxpool *op);

/* out[c] = mean over the pixels of in (pixels x channels). */
void sm_global_avgpool(const float *in, size_t pixels, size_t channels, float *out);

/* ---- element-wise helpers (stateless; n = element count) ---------------------------- */

/* y = act(x). For SM_ACT_PRELU, x is pixels x channels with n = pixels * channels
 * and alpha has `channels` entries; otherwise channels is ignored. y may equal x. */
void sm_activation(sm_act act, const float *x, size_t n, size_t channels, const float *alpha,
                   float *y, sm_threadpool *pool);
/* y = act(a + b) (act NONE/RELU/SILU/SIGMOID). y may equal a or b. */
void sm_add(const float *a, const float *b, size_t n, sm_act act, float *y);
/* Channel zero-padding (TFLite PAD on the channel axis): y (pixels x cout) gets the
 * cin input channels first and cout - cin zeros after. cout >= cin. */
void sm_channel_pad(const float *x, size_t pixels, size_t cin, size_t cout, float *y);
/* y[p, c] = x[p, c] * scale[c]. y may equal x. */
void sm_channel_scale(const float *x, size_t pixels, size_t channels, const float *scale,
                      float *y);
/* Numerically stable softmax of n values; y may equal x. */
void sm_softmax(const float *x, size_t n, float *y);

/* ---- small MLP (float64 or float32), e.g. scikit-learn 5-32-16-1 ------------------- */

typedef struct sm_mlp sm_mlp;

typedef enum { SM_MLP_F64 = 0, SM_MLP_F32 } sm_mlp_precision;

/* scikit-learn's activation names (MLPClassifier.activation / out_activation_):
 * logistic = 1 / (1 + exp(-x)) (scipy's expit); softmax = exp(x - max) / sum
 * over the output layer (output only). */
typedef enum {
    SM_MLP_ACT_IDENTITY = 0,
    SM_MLP_ACT_LOGISTIC,
    SM_MLP_ACT_TANH,
    SM_MLP_ACT_RELU,
    SM_MLP_ACT_SOFTMAX
} sm_mlp_act;

typedef struct {
    uint32_t n_layers;            /* weight matrices, >= 1 */
    const uint32_t *sizes;        /* n_layers + 1 widths: input, hidden..., output */
    sm_dense_layout layout;       /* sklearn coefs_ are SM_DENSE_IO */
    const double *const *weights; /* n_layers matrices (f64 input in both precisions) */
    const double *const *biases;  /* n_layers vectors (entries may be NULL) */
    sm_mlp_act hidden_act;        /* IDENTITY, LOGISTIC, TANH or RELU */
    sm_mlp_act out_act;           /* IDENTITY, LOGISTIC or SOFTMAX */
    sm_mlp_precision precision;
    const char *name;
} sm_mlp_desc;

sm_status sm_mlp_prepare(const sm_mlp_desc *desc, sm_mlp **op, sm_error *err);
/* One input vector (sizes[0]) -> output (sizes[n_layers]). */
void sm_mlp_run(const sm_mlp *op, const double *in, double *out);
void sm_mlp_free(sm_mlp *op);

/* ---- shape helpers ---------------------------------------------------------------- */

/* Output extent and leading pad along one axis; SM_ERR_SHAPE when in + padding < k. */
sm_status sm_conv_out_extent(size_t in, uint32_t k, uint32_t stride, sm_pad_mode mode,
                             uint32_t pad_before, uint32_t pad_after, size_t *out,
                             size_t *pad_lead, sm_error *err);
/* Both axes of a kh x kw window with strides sh, sw (conv, depthwise, pooling). */
sm_status sm_window_out_shape(const sm_padding *pad, uint32_t kh, uint32_t kw, uint32_t sh,
                              uint32_t sw, size_t in_h, size_t in_w, size_t *out_h, size_t *out_w,
                              sm_error *err);

#ifdef __cplusplus
}
#endif

#endif

/* smw-bench kernels: the FMA peak of this machine (own probe), then every variant
 * the kernel .inc lists name (the lists expanded here, as the tests expand them),
 * on real layer shapes of EfficientNet-B3, BlazeFace, FaceMesh and the fatigue MLP,
 * for every listed ISA level this CPU runs: median time, GFLOP/s or GB/s, % of peak.
 * Each row's op is prepared with the variant named in its description (gemm,
 * dwconv choice) at the variant's level, and the op's own report of its kernel
 * must match the list's name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "bench_kernels.h"
#include "sm_clock.h"
#include "sm_kernels.h"
#include "common/sm_ops.h"

/* Single-threaded runs time the thread's CPU clock: on a shared machine (load
 * above the core count) wall time includes preemption by other processes.
 * Multi-threaded runs need wall time. */
static bool g_cpu_clock;
void sm_bench_use_cpu_clock(bool cpu) { g_cpu_clock = cpu; }
const char *sm_bench_clock_name(void) { return g_cpu_clock ? "thread CPU time" : "wall clock"; }

double sm_bench_now(void) { return (g_cpu_clock ? sm_clock_thread_cpu_ms() : sm_clock_ms()) * 1e-3; }

/* ---- FMA peak probe: 24 independent accumulator chains hide the FMA latency ---- */
#if defined(__x86_64__)
/* One probe per vector width: V the vector type, P the intrinsic prefix, L the lanes. */
#define SM_FMA_PROBE(fn, tgt, V, P, L)                                                             \
    __attribute__((target(tgt))) static double fn(long iters)                                    \
    {                                                                                              \
        V a[24], x = P##_set1_ps(0.999999f), y = P##_set1_ps(1e-7f);                               \
        for (int i = 0; i < 24; i++)                                                               \
            a[i] = P##_set1_ps((float)i);                                                          \
        for (long n = 0; n < iters; n++) {                                                         \
            _Pragma("GCC unroll 24") for (int i = 0; i < 24; i++) a[i] = P##_fmadd_ps(a[i], x, y); \
        }                                                                                          \
        V s = a[0];                                                                                \
        for (int i = 1; i < 24; i++)                                                               \
            s = P##_add_ps(s, a[i]);                                                               \
        float out[L];                                                                              \
        P##_storeu_ps(out, s);                                                                     \
        return out[0];                                                                             \
    }
SM_FMA_PROBE(probe_avx512, "avx512f,fma", __m512, _mm512, 16)
SM_FMA_PROBE(probe_avx2, "avx2,fma", __m256, _mm256, 8)
#endif

static double g_sink;

double sm_bench_fma_peak(const char **isa)
{
    double (*fn)(long) = NULL;
    double lanes = 1;
#if defined(__x86_64__)
    if (sm_isa_supported(SM_ISA_AVX512)) {
        fn = probe_avx512;
        lanes = 16;
        *isa = "avx512";
    } else if (sm_isa_supported(SM_ISA_AVX2)) {
        fn = probe_avx2;
        lanes = 8;
        *isa = "avx2";
    }
#endif
    if (!fn) {
        *isa = "none (no vector FMA probe for this target)";
        return 0.0;
    }
    long iters = 1 << 20;
    double best = 0.0;
    for (int rep = 0; rep < 7; rep++) {
        double t0 = sm_bench_now();
        g_sink += fn(iters);
        double t = sm_bench_now() - t0;
        double gf = (double)iters * 24 * lanes * 2 / t * 1e-9;
        best = gf > best ? gf : best;
        if (t < 0.02)
            iters *= 2;
    }
    return best;
}

/* ---- the lists, expanded: one entry per listed kernel the cases below can time ---- */
typedef enum {
    K_GEMM, K_DWCONV, K_MAXPOOL, K_GAVGPOOL, K_VRELU, K_VSILU, K_VSIGMOID, K_PRELU, K_VADD,
    K_VSCALE, K_SE, K_PCONV3X3, K_CHANPAD, K_SOFTMAX, K_DENSE_F32, K_DENSE_F64,
    K_BLAS /* the OpenBLAS peer of the pointwise GEMM: no list entry */
} kind;

typedef struct {
    kind kind;
    sm_isa isa;
    const char *name;
    sm_gemm_kernel gemm;     /* K_GEMM: wide or narrow tile */
    sm_dwconv_kernel dwconv; /* K_DWCONV: fixed (k, s below) or generic (0, 0) */
    uint32_t k, s;
} variant;

#define UK_STR(op, tile, isa) "sm_f32_" #op "_ukernel_" #tile "__" #isa
static const variant k_variants[] = {
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_) \
    {K_GEMM, isa_enum, SM_GEMM_UK_STR(isa, MR_, NR_), SM_GEMM_KERNEL_WIDE, SM_DWCONV_KERNEL_AUTO, 0, 0},
#define SM_GEMM_NARROW_UKERNEL(isa_enum, isa, MR_, NR_) \
    {K_GEMM, isa_enum, SM_GEMM_UK_STR(isa, MR_, NR_), SM_GEMM_KERNEL_NARROW, SM_DWCONV_KERNEL_AUTO, 0, 0},
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t) \
    {K_DWCONV, isa_enum, SM_DWCONV_UK_STR(isa, K_, S_, t), SM_GEMM_KERNEL_AUTO, SM_DWCONV_KERNEL_FIXED, K_, S_},
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t) \
    {K_DWCONV, isa_enum, SM_DWCONV_KXK_UK_STR(isa, t), SM_GEMM_KERNEL_AUTO, SM_DWCONV_KERNEL_GENERIC, 0, 0},
#define ROW(k, isa_enum, name) {k, isa_enum, name, SM_GEMM_KERNEL_AUTO, SM_DWCONV_KERNEL_AUTO, 0, 0},
#define SM_POOL_UKERNEL(isa_enum, isa, t) \
    ROW(K_MAXPOOL, isa_enum, UK_STR(maxpool, t##c, isa)) ROW(K_GAVGPOOL, isa_enum, UK_STR(gavgpool, t##c, isa))
#define SM_ACT_UKERNEL(isa_enum, isa, t)                                                           \
    ROW(K_VRELU, isa_enum, UK_STR(vrelu, x##t, isa)) ROW(K_VSILU, isa_enum, UK_STR(vsilu, x##t, isa)) \
    ROW(K_VSIGMOID, isa_enum, UK_STR(vsigmoid, x##t, isa)) ROW(K_PRELU, isa_enum, UK_STR(prelu, t##c, isa))
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t) \
    ROW(K_VADD, isa_enum, UK_STR(vadd, x##t, isa)) ROW(K_VSCALE, isa_enum, UK_STR(vscale, t##c, isa))
#define SM_CHANPAD_UKERNEL(isa_enum, isa) ROW(K_CHANPAD, isa_enum, "sm_f32_chanpad_ukernel__" #isa)
#define SM_SOFTMAX_UKERNEL(isa_enum, isa) ROW(K_SOFTMAX, isa_enum, "sm_f32_softmax_ukernel__" #isa)
#define SM_SE_UKERNEL(isa_enum, isa, t) ROW(K_SE, isa_enum, UK_STR(se, t##c, isa))
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) ROW(K_PCONV3X3, isa_enum, UK_STR(pconv3x3, 4o, isa))
#define DENSE_KIND_f32 K_DENSE_F32
#define DENSE_KIND_f64 K_DENSE_F64
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T) ROW(DENSE_KIND_##prec, isa_enum, "sm_" #prec "_dense_ukernel__" #isa)
#include "sm_ukernel_lists.inc"
#undef ROW
    {K_BLAS, SM_ISA_SCALAR, "cblas_sgemm + epilogue", SM_GEMM_KERNEL_BLAS, SM_DWCONV_KERNEL_AUTO, 0, 0},
};

/* ---- cases: real layers; each runs with every variant of its kind ---- */
typedef struct {
    const char *model, *name;
    kind kind; /* K_GEMM cases also run the K_BLAS peer where they are pointwise */
    uint32_t h, w, ic, oc, k, s, rd;
    sm_pad_mode pad; /* EXPLICIT = k/2 symmetric (PyTorch) */
    sm_act act;
    bool residual;
} bcase;

static const bcase k_cases[] = {
    {"effnet-b3", "stem conv 3x3 s2 300x300x3->40 +BN+SiLU", K_GEMM, 300, 300, 3, 40, 3, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.1 pw 1x1 75x75x32->192 SiLU", K_GEMM, 75, 75, 32, 192, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.3 pwl 1x1 19x19x576->96 +residual", K_GEMM, 19, 19, 576, 96, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, true},
    {"effnet-b3", "blocks.4 pw 1x1 19x19x136->816 SiLU", K_GEMM, 19, 19, 136, 816, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "head 1x1 10x10x384->1536 SiLU", K_GEMM, 10, 10, 384, 1536, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.0 dw 3x3 s1 150x150x40 SiLU", K_DWCONV, 150, 150, 40, 40, 3, 1, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.1 dw 3x3 s2 150x150x144 SiLU", K_DWCONV, 150, 150, 144, 144, 3, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.2 dw 5x5 s2 75x75x192 SiLU", K_DWCONV, 75, 75, 192, 192, 5, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.4 dw 5x5 s1 19x19x816 SiLU", K_DWCONV, 19, 19, 816, 816, 5, 1, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.4 SE 19x19x816 rd 34", K_SE, 19, 19, 816, 816, 1, 1, 34, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.4 SE pool 19x19x816", K_GAVGPOOL, 19, 19, 816, 816, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, false},
    {"effnet-b3", "blocks.4 SE scale 19x19x816", K_VSCALE, 19, 19, 816, 816, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, false},
    {"effnet-b3", "SiLU pass 150x150x40 (unfused)", K_VSILU, 150, 150, 40, 40, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "sigmoid pass 19x19x816 (unfused)", K_VSIGMOID, 19, 19, 816, 816, 1, 1, 0, SM_PAD_VALID, SM_ACT_SIGMOID, false},
    {"effnet-b3", "MicroExpEnhancer 3x3 pair 300x300x3->16->3", K_PCONV3X3, 300, 300, 3, 16, 3, 1, 0, SM_PAD_EXPLICIT, SM_ACT_RELU, false},
    {"effnet-b3", "softmax over 8 labels (x1000)", K_SOFTMAX, 1, 1000, 8, 8, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, false},
    {"blazeface", "conv 5x5 s2 SAME 128x128x3->24 ReLU", K_GEMM, 128, 128, 3, 24, 5, 2, 0, SM_PAD_SAME, SM_ACT_RELU, false},
    {"blazeface", "dw 3x3 s1 SAME 64x64x24", K_DWCONV, 64, 64, 24, 24, 3, 1, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"blazeface", "pw 1x1 64x64x24->24 +add+ReLU", K_GEMM, 64, 64, 24, 24, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, true},
    {"blazeface", "pw 1x1 16x16x88->96 +add+ReLU", K_GEMM, 16, 16, 88, 96, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, true},
    {"blazeface", "maxpool 2x2 s2 64x64x24", K_MAXPOOL, 64, 64, 24, 24, 2, 2, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"blazeface", "channel pad 32x32x24->28", K_CHANPAD, 32, 32, 24, 28, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, false},
    {"blazeface", "add+ReLU 32x32x28 (unfused)", K_VADD, 32, 32, 28, 28, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, false},
    {"blazeface", "ReLU pass 32x32x28 (unfused)", K_VRELU, 32, 32, 28, 28, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, false},
    {"facemesh", "conv 3x3 s2 SAME 192x192x3->16 PReLU", K_GEMM, 192, 192, 3, 16, 3, 2, 0, SM_PAD_SAME, SM_ACT_PRELU, false},
    {"facemesh", "dw 3x3 s1 SAME 96x96x16", K_DWCONV, 96, 96, 16, 16, 3, 1, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"facemesh", "pw 1x1 96x96x16->32 +add+PReLU", K_GEMM, 96, 96, 16, 32, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, true},
    {"facemesh", "dw 3x3 s2 SAME 48x48x64", K_DWCONV, 48, 48, 64, 64, 3, 2, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"facemesh", "pw 1x1 24x24x64->128 +add+PReLU", K_GEMM, 24, 24, 64, 128, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, true},
    {"facemesh", "PReLU pass 96x96x32 (unfused)", K_PRELU, 96, 96, 32, 32, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, false},
    {"fatigue", "MLP 5-32-16-1 f32 (x1000)", K_DENSE_F32, 1, 1000, 5, 1, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, false},
    {"fatigue", "MLP 5-32-16-1 f64 (x1000)", K_DENSE_F64, 1, 1000, 5, 1, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, false},
};

/* A variant runs a case of its kind; fixed depthwise kernels only their own window
 * and stride; the BLAS peer only pointwise GEMM cases. */
static bool variant_runs(const variant *v, const bcase *c)
{
    if (v->kind == K_BLAS)
        return c->kind == K_GEMM && c->k == 1 && c->s == 1 && sm_ops_blas_available();
    if (v->kind != c->kind)
        return false;
    return v->kind != K_DWCONV || v->dwconv == SM_DWCONV_KERNEL_GENERIC || (v->k == c->k && v->s == c->s);
}

static float *rnd_buf(size_t n)
{
    float *p = sm_aligned_alloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "smw-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    return p;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The fatigue MLP's shape (sklearn 5-32-16-1), weights from rnd_buf. */
#define MLP_LAYERS 3
static const uint32_t k_mlp_sizes[MLP_LAYERS + 1] = {5, 32, 16, 1};

typedef struct {
    const bcase *c;
    sm_conv2d *conv;
    sm_dwconv *dw;
    sm_se *se;
    sm_maxpool *mp;
    sm_conv3x3_pair *pair;
    sm_mlp *mlp;
    float *in, *out, *res, *alpha, *scratch;
    double *mlp_w[MLP_LAYERS], *mlp_b[MLP_LAYERS], mlp_x[5], mlp_y;
    sm_threadpool *pool;
} bstate;

static void run_once(bstate *s)
{
    const bcase *c = s->c;
    const size_t px = (size_t)c->h * c->w, n = px * c->ic;
    switch (c->kind) {
    case K_GEMM:
    case K_BLAS: sm_conv2d_run(s->conv, s->in, c->h, c->w, s->res, s->out, s->pool); break;
    case K_DWCONV: sm_dwconv_run(s->dw, s->in, c->h, c->w, s->res, s->out, s->pool); break;
    case K_SE: sm_se_run(s->se, s->in, c->h, c->w, s->out, s->pool); break;
    case K_MAXPOOL: sm_maxpool_run(s->mp, s->in, c->h, c->w, c->ic, s->out, s->pool); break;
    case K_GAVGPOOL: sm_global_avgpool(s->in, px, c->ic, s->out); break;
    case K_VRELU:
    case K_VSILU:
    case K_VSIGMOID:
    case K_PRELU: sm_activation(c->act, s->in, n, c->ic, s->alpha, s->out, s->pool); break;
    case K_VADD: sm_add(s->in, s->res, n, c->act, s->out); break;
    case K_VSCALE: sm_channel_scale(s->in, px, c->ic, s->alpha, s->out); break;
    case K_PCONV3X3: sm_conv3x3_pair_run(s->pair, s->in, c->h, c->w, s->out, s->scratch, s->pool); break;
    case K_CHANPAD: sm_channel_pad(s->in, px, c->ic, c->oc, s->out); break;
    case K_SOFTMAX:
        for (size_t i = 0; i < c->w; i++)
            sm_softmax(s->in + i * c->ic, c->ic, s->out + i * c->ic);
        break;
    case K_DENSE_F32:
    case K_DENSE_F64:
        for (size_t i = 0; i < c->w; i++) {
            s->mlp_x[i % 5] += 1e-3;
            sm_mlp_run(s->mlp, s->mlp_x, &s->mlp_y);
        }
        break;
    }
}

static void free_state(bstate *s)
{
    sm_conv2d_free(s->conv);
    sm_dwconv_free(s->dw);
    sm_se_free(s->se);
    sm_maxpool_free(s->mp);
    sm_conv3x3_pair_free(s->pair);
    sm_mlp_free(s->mlp);
    for (int l = 0; l < MLP_LAYERS; l++) {
        free(s->mlp_w[l]);
        free(s->mlp_b[l]);
    }
    sm_aligned_free(s->in);
    sm_aligned_free(s->out);
    sm_aligned_free(s->res);
    sm_aligned_free(s->alpha);
    sm_aligned_free(s->scratch);
}

/* Prepares the case's op with the variant named in its description at the active
 * level; fills the work of one run (flops, else bytes moved). */
static sm_status prepare(bstate *s, const variant *v, const float *w, const float *b, const float *w2,
                         double *flops, double *bytes, sm_error *err)
{
    const bcase *c = s->c;
    const size_t px = (size_t)c->h * c->w, in_n = px * c->ic;
    sm_batchnorm bn = {b, b, b, s->alpha, 1e-5f};
    sm_conv_desc d = {0};
    d.in_ch = c->ic;
    d.out_ch = c->oc;
    d.kh = d.kw = c->k;
    d.stride_h = d.stride_w = c->s;
    d.pad.mode = c->pad;
    d.pad.top = d.pad.left = d.pad.bottom = d.pad.right = c->k / 2;
    d.layout = SM_WLAYOUT_OIHW;
    d.weights = w;
    d.bn = &bn;
    d.act = c->act;
    d.alpha = s->alpha;
    d.gemm = v->gemm;
    d.dwconv = v->dwconv;
    size_t oh = c->h, ow = c->w, lead;
    sm_conv_out_extent(c->h, c->k, c->s, c->pad, c->k / 2, c->k / 2, &oh, &lead, err);
    sm_conv_out_extent(c->w, c->k, c->s, c->pad, c->k / 2, c->k / 2, &ow, &lead, err);
    const double out_px = (double)oh * ow;
    switch (c->kind) {
    case K_GEMM:
    case K_BLAS:
        *flops = 2.0 * out_px * c->oc * c->ic * c->k * c->k;
        return sm_conv2d_prepare(&d, &s->conv, err);
    case K_DWCONV:
        *flops = 2.0 * out_px * c->oc * c->k * c->k;
        return sm_dwconv_prepare(&d, &s->dw, err);
    case K_SE: {
        sm_se_desc sd = {c->ic, c->rd, SM_DENSE_OI, w2, b, w2, b, SM_ACT_SILU, "se"};
        *bytes = 3.0 * in_n * sizeof(float);
        return sm_se_prepare(&sd, &s->se, err);
    }
    case K_MAXPOOL:
        *bytes = (in_n + out_px * c->ic) * sizeof(float);
        return sm_maxpool_prepare(c->k, c->k, c->s, c->s, d.pad, &s->mp, err);
    case K_PCONV3X3: {
        sm_conv_desc db = d;
        d.out_ch = db.in_ch = c->oc;
        db.out_ch = c->ic;
        db.act = SM_ACT_NONE;
        *flops = 2.0 * 2.0 * px * c->ic * c->oc * 9;
        sm_status st = sm_conv3x3_pair_prepare(&d, &db, &s->pair, err);
        if (st == SM_OK) {
            size_t n = sm_conv3x3_pair_scratch_floats(s->pair, c->w, sm_threadpool_size(s->pool));
            s->scratch = rnd_buf(n);
        }
        return st;
    }
    case K_DENSE_F32:
    case K_DENSE_F64: {
        for (int l = 0; l < MLP_LAYERS; l++) {
            size_t nw = (size_t)k_mlp_sizes[l] * k_mlp_sizes[l + 1];
            s->mlp_w[l] = malloc(nw * sizeof(double));
            s->mlp_b[l] = malloc(k_mlp_sizes[l + 1] * sizeof(double));
            if (!s->mlp_w[l] || !s->mlp_b[l])
                return sm_error_set(err, SM_ERR_NOMEM, "mlp: out of memory");
            for (size_t i = 0; i < nw; i++)
                s->mlp_w[l][i] = w[i];
            for (size_t i = 0; i < k_mlp_sizes[l + 1]; i++)
                s->mlp_b[l][i] = b[i];
            *flops += 2.0 * nw * c->w;
        }
        sm_mlp_desc md = {MLP_LAYERS, k_mlp_sizes, SM_DENSE_IO, (const double *const *)s->mlp_w,
                          (const double *const *)s->mlp_b, SM_MLP_ACT_RELU, SM_MLP_ACT_LOGISTIC,
                          c->kind == K_DENSE_F32 ? SM_MLP_F32 : SM_MLP_F64, "fatigue"};
        return sm_mlp_prepare(&md, &s->mlp, err);
    }
    case K_GAVGPOOL:
    case K_SOFTMAX:
        *bytes = (double)in_n * sizeof(float);
        return SM_OK;
    case K_VADD:
        *bytes = 3.0 * in_n * sizeof(float);
        return SM_OK;
    default: /* element-wise passes: read and write the map */
        *bytes = 2.0 * (in_n > px * c->oc ? in_n : px * c->oc) * sizeof(float);
        return SM_OK;
    }
}

/* The kernel the prepared op reports, where it reports one (GEMM and depthwise). */
static const char *op_kernel(const bstate *s)
{
    if (s->conv)
        return sm_conv2d_kernel_name(s->conv);
    if (s->dw)
        return sm_dwconv_kernel_name(s->dw);
    return NULL;
}

int sm_bench_kernels(const sm_bench_kernel_opts *o)
{
    sm_bench_use_cpu_clock(o->threads == 1);
    const char *peak_isa = "";
    double peak1 = sm_bench_fma_peak(&peak_isa);
    double peak = peak1 * (double)o->threads;
    sm_threadpool *pool = NULL;
    sm_error err;
    if (o->threads > 1 && sm_threadpool_init(&pool, o->threads, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s\n", err.msg);
        return 1;
    }
    /* the CPU-level cap: SM_ISA (read by the core) bounds the levels measured */
    const sm_isa initial = sm_isa_active();
    const bool capped = getenv("SM_ISA") != NULL;
    if (o->json)
        printf("{\"fma_peak_gflops_per_core\": %.2f, \"peak_isa\": \"%s\", \"threads\": %zu, \"clock\": \"%s\", \"results\": [\n",
               peak1, peak_isa, o->threads, sm_bench_clock_name());
    else {
        printf("FP32 FMA peak (own probe, %s): %.1f GFLOP/s per core; %zu thread(s) => %.1f GFLOP/s; timing: %s\n",
               peak_isa, peak1, o->threads, peak, sm_bench_clock_name());
        printf("%-10s %-44s %-7s %-40s %9s %16s %7s\n", "model", "layer", "isa", "kernel", "median_ms",
               "rate", "%peak");
    }
    bool first = true;
    int rc = 0;
    for (size_t ci = 0; ci < sizeof k_cases / sizeof *k_cases && rc == 0; ci++) {
        const bcase *c = &k_cases[ci];
        if (o->filter && !strstr(c->name, o->filter) && !strstr(c->model, o->filter))
            continue;
        for (size_t vi = 0; vi < sizeof k_variants / sizeof *k_variants && rc == 0; vi++) {
            const variant *v = &k_variants[vi];
            if (!variant_runs(v, c) || !sm_kernels_for(v->isa) || (capped && v->isa > initial))
                continue;
            sm_isa_force(v->isa);
            bstate s = {0};
            s.c = c;
            s.pool = pool;
            const size_t px = (size_t)c->h * c->w, in_n = px * c->ic, out_n = px * c->oc;
            const size_t big = in_n > out_n ? in_n : out_n;
            s.in = rnd_buf(big);
            s.out = rnd_buf(big);
            s.res = c->residual || c->kind == K_VADD ? rnd_buf(big) : NULL;
            s.alpha = rnd_buf(c->oc > c->ic ? c->oc : c->ic);
            for (size_t i = 0; i < (c->oc > c->ic ? c->oc : c->ic); i++)
                s.alpha[i] = fabsf(s.alpha[i]) + 0.1f;
            float *w = rnd_buf((size_t)c->oc * c->ic * c->k * c->k + 1024), *b = rnd_buf(c->oc + 1024);
            float *w2 = rnd_buf((size_t)c->ic * (c->rd ? c->rd : 1));
            double flops = 0, bytes = 0;
            if (prepare(&s, v, w, b, w2, &flops, &bytes, &err) != SM_OK) {
                fprintf(stderr, "smw-bench: %s with %s: %s\n", c->name, v->name, err.msg);
                rc = 1;
            }
            const char *ran = rc ? NULL : op_kernel(&s);
            if (ran && strcmp(ran, v->name) != 0) {
                fprintf(stderr, "smw-bench: %s: the op runs %s, not the listed %s\n", c->name, ran, v->name);
                rc = 1;
            }
            if (rc == 0) {
                bstate *r = &s;
                run_once(r);
                double times[4096];
                size_t n = 0;
                double start = sm_bench_now();
                while (n < 4096 && (n < 5 || sm_bench_now() - start < o->min_seconds)) {
                    double t0 = sm_bench_now();
                    run_once(r);
                    times[n++] = sm_bench_now() - t0;
                }
                qsort(times, n, sizeof *times, cmp_d);
                double med = times[n / 2];
                double rate = flops > 0 ? flops / med * 1e-9 : bytes / med * 1e-9;
                const char *unit = flops > 0 ? "GFLOP/s" : "GB/s";
                double pct = flops > 0 && peak > 0 ? 100.0 * rate / peak : -1;
                const char *isa_name = v->kind == K_BLAS ? "openblas" : sm_isa_name(v->isa);
                if (o->json) {
                    printf("%s  {\"model\": \"%s\", \"layer\": \"%s\", \"isa\": \"%s\", \"kernel\": \"%s\", "
                           "\"median_ms\": %.5f, \"runs\": %zu, \"%s\": %.3f, \"pct_peak\": %.1f}",
                           first ? "" : ",\n", c->model, c->name, isa_name, v->name, med * 1e3, n,
                           flops > 0 ? "gflops" : "gbytes_per_s", rate, pct);
                    first = false;
                } else {
                    char r2[32], p[16];
                    snprintf(r2, sizeof r2, "%.2f %s", rate, unit);
                    if (pct >= 0)
                        snprintf(p, sizeof p, "%.1f%%", pct);
                    else
                        snprintf(p, sizeof p, "-");
                    printf("%-10s %-44s %-7s %-40s %9.4f %16s %7s\n", c->model, c->name, isa_name, v->name,
                           med * 1e3, r2, p);
                }
                fflush(stdout);
            }
            free_state(&s);
            sm_aligned_free(w);
            sm_aligned_free(b);
            sm_aligned_free(w2);
        }
    }
    if (o->json)
        printf("\n]}\n");
    sm_isa_force(initial);
    sm_threadpool_free(pool);
    return rc;
}

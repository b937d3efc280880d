/* smw-bench kernels: the FMA peak of this machine (own probe), then each kernel
 * family on real layer shapes of EfficientNet-B3, BlazeFace and FaceMesh, for
 * every ISA level this CPU runs: median time, GFLOP/s or GB/s, % of peak. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "bench_kernels.h"
#include "sm_kernels.h"
#include "common/sm_ops.h"

/* Single-threaded runs time the thread's CPU clock: on a shared machine (load
 * above the core count) wall time includes preemption by other processes.
 * Multi-threaded runs need wall time. */
static clockid_t g_clock = CLOCK_MONOTONIC;
void sm_bench_use_cpu_clock(bool cpu) { g_clock = cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC; }
const char *sm_bench_clock_name(void)
{
    return g_clock == CLOCK_MONOTONIC ? "wall clock" : "thread CPU time";
}

double sm_bench_now(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- FMA peak probe: 24 independent accumulator chains hide the FMA latency ---- */
#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) static double probe_avx512(long iters)
{
    __m512 a[24], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_fmadd_ps(a[i], x, y);
    }
    __m512 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    float out[16];
    _mm512_storeu_ps(out, s);
    return out[0];
}
__attribute__((target("avx2,fma"))) static double probe_avx2(long iters)
{
    __m256 a[24], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 24; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm256_fmadd_ps(a[i], x, y);
    }
    __m256 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}
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

/* ---- cases ---- */
typedef enum { C_CONV, C_DW, C_SE, C_MAXPOOL, C_SILU, C_PRELU, C_GEMM_BLAS } case_kind;

typedef struct {
    const char *model, *name;
    case_kind kind;
    uint32_t h, w, ic, oc, k, s, rd;
    sm_pad_mode pad; /* EXPLICIT = k/2 symmetric (PyTorch) */
    sm_act act;
    bool residual;
} bcase;

static const bcase k_cases[] = {
    {"effnet-b3", "stem conv 3x3 s2 300x300x3->40 +BN+SiLU", C_CONV, 300, 300, 3, 40, 3, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.1 pw 1x1 75x75x32->192 SiLU", C_CONV, 75, 75, 32, 192, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.3 pwl 1x1 19x19x576->96 +residual", C_CONV, 19, 19, 576, 96, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, true},
    {"effnet-b3", "blocks.3 pwl 1x1 19x19x576->96 (OpenBLAS)", C_GEMM_BLAS, 19, 19, 576, 96, 1, 1, 0, SM_PAD_VALID, SM_ACT_NONE, true},
    {"effnet-b3", "blocks.4 pw 1x1 19x19x136->816 SiLU", C_CONV, 19, 19, 136, 816, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "head 1x1 10x10x384->1536 SiLU", C_CONV, 10, 10, 384, 1536, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.0 dw 3x3 s1 150x150x40 SiLU", C_DW, 150, 150, 40, 40, 3, 1, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.1 dw 3x3 s2 150x150x144 SiLU", C_DW, 150, 150, 144, 144, 3, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.2 dw 5x5 s2 75x75x192 SiLU", C_DW, 75, 75, 192, 192, 5, 2, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.4 dw 5x5 s1 19x19x816 SiLU", C_DW, 19, 19, 816, 816, 5, 1, 0, SM_PAD_EXPLICIT, SM_ACT_SILU, false},
    {"effnet-b3", "blocks.4 SE 19x19x816 rd 34", C_SE, 19, 19, 816, 816, 1, 1, 34, SM_PAD_VALID, SM_ACT_SILU, false},
    {"effnet-b3", "SiLU pass 150x150x40 (unfused)", C_SILU, 150, 150, 40, 40, 1, 1, 0, SM_PAD_VALID, SM_ACT_SILU, false},
    {"blazeface", "conv 5x5 s2 SAME 128x128x3->24 ReLU", C_CONV, 128, 128, 3, 24, 5, 2, 0, SM_PAD_SAME, SM_ACT_RELU, false},
    {"blazeface", "dw 3x3 s1 SAME 64x64x24", C_DW, 64, 64, 24, 24, 3, 1, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"blazeface", "pw 1x1 64x64x24->24 +add+ReLU", C_CONV, 64, 64, 24, 24, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, true},
    {"blazeface", "pw 1x1 16x16x88->96 +add+ReLU", C_CONV, 16, 16, 88, 96, 1, 1, 0, SM_PAD_VALID, SM_ACT_RELU, true},
    {"blazeface", "maxpool 2x2 s2 64x64x24", C_MAXPOOL, 64, 64, 24, 24, 2, 2, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"facemesh", "conv 3x3 s2 SAME 192x192x3->16 PReLU", C_CONV, 192, 192, 3, 16, 3, 2, 0, SM_PAD_SAME, SM_ACT_PRELU, false},
    {"facemesh", "dw 3x3 s1 SAME 96x96x16", C_DW, 96, 96, 16, 16, 3, 1, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"facemesh", "pw 1x1 96x96x16->32 +add+PReLU", C_CONV, 96, 96, 16, 32, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, true},
    {"facemesh", "dw 3x3 s2 SAME 48x48x64", C_DW, 48, 48, 64, 64, 3, 2, 0, SM_PAD_SAME, SM_ACT_NONE, false},
    {"facemesh", "pw 1x1 24x24x64->128 +add+PReLU", C_CONV, 24, 24, 64, 128, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, true},
    {"facemesh", "PReLU pass 96x96x32 (unfused)", C_PRELU, 96, 96, 32, 32, 1, 1, 0, SM_PAD_VALID, SM_ACT_PRELU, false},
};

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

typedef struct {
    const bcase *c;
    sm_conv2d *conv;
    sm_dwconv *dw;
    sm_se *se;
    sm_maxpool *mp;
    float *in, *out, *res, *alpha;
    sm_threadpool *pool;
} bstate;

static void run_once(bstate *s)
{
    const bcase *c = s->c;
    switch (c->kind) {
    case C_CONV:
    case C_GEMM_BLAS: sm_conv2d_run(s->conv, s->in, c->h, c->w, s->res, s->out, s->pool); break;
    case C_DW: sm_dwconv_run(s->dw, s->in, c->h, c->w, s->res, s->out, s->pool); break;
    case C_SE: sm_se_run(s->se, s->in, c->h, c->w, s->out, s->pool); break;
    case C_MAXPOOL: sm_maxpool_run(s->mp, s->in, c->h, c->w, c->ic, s->out, s->pool); break;
    case C_SILU: sm_activation(SM_ACT_SILU, s->in, (size_t)c->h * c->w * c->ic, c->ic, NULL, s->out, s->pool); break;
    case C_PRELU: sm_activation(SM_ACT_PRELU, s->in, (size_t)c->h * c->w * c->ic, c->ic, s->alpha, s->out, s->pool); break;
    }
}

static const char *kernel_name(const bcase *c, const bstate *s, const sm_kernel_table *kt)
{
    switch (c->kind) {
    case C_CONV: return s->conv ? sm_conv2d_kernel_name(s->conv) : kt->gemm.name;
    case C_GEMM_BLAS: return "cblas_sgemm + epilogue";
    case C_DW: return sm_dwconv_kernel_name(s->dw);
    case C_SE: return "gavgpool + se + vscale";
    case C_MAXPOOL: return "maxpool";
    case C_SILU: return "vsilu";
    case C_PRELU: return "prelu";
    }
    return "?";
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
    const sm_isa initial = sm_isa_active();
    if (o->json)
        printf("{\"fma_peak_gflops_per_core\": %.2f, \"peak_isa\": \"%s\", \"threads\": %zu, \"clock\": \"%s\", \"results\": [\n",
               peak1, peak_isa, o->threads, sm_bench_clock_name());
    else {
        printf("FP32 FMA peak (own probe, %s): %.1f GFLOP/s per core; %zu thread(s) => %.1f GFLOP/s; timing: %s\n",
               peak_isa, peak1, o->threads, peak, sm_bench_clock_name());
        printf("%-10s %-44s %-7s %-40s %9s %9s %7s\n", "model", "layer", "isa", "kernel", "median_ms",
               "rate", "%peak");
    }
    bool first = true;
    for (size_t ci = 0; ci < sizeof k_cases / sizeof *k_cases; ci++) {
        const bcase *c = &k_cases[ci];
        if (o->filter && !strstr(c->name, o->filter) && !strstr(c->model, o->filter))
            continue;
        for (int li = 0; li < SM_ISA_COUNT; li++) {
            const sm_isa level = (sm_isa)li;
            const sm_kernel_table *kt = sm_kernels_for(level);
            if (!kt || (getenv("SM_ISA") && level > initial))
                continue;
            if (c->kind == C_GEMM_BLAS && (level != SM_ISA_SCALAR || !sm_ops_blas_available()))
                continue;
            sm_isa_force(level);
            bstate s = {c, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pool};
            size_t oh = c->h, ow = c->w, lead;
            sm_conv_out_extent(c->h, c->k, c->s, c->pad, c->k / 2, c->k / 2, &oh, &lead, &err);
            sm_conv_out_extent(c->w, c->k, c->s, c->pad, c->k / 2, c->k / 2, &ow, &lead, &err);
            size_t in_n = (size_t)c->h * c->w * c->ic, out_n = oh * ow * c->oc;
            s.in = rnd_buf(in_n);
            s.out = rnd_buf(out_n > in_n ? out_n : in_n);
            s.res = c->residual ? rnd_buf(out_n) : NULL;
            s.alpha = rnd_buf(c->oc > c->ic ? c->oc : c->ic);
            float *w = rnd_buf((size_t)c->oc * c->ic * c->k * c->k), *b = rnd_buf(c->oc);
            float *w2 = rnd_buf((size_t)c->ic * (c->rd ? c->rd : 1));
            sm_batchnorm bn = {b, b, b, s.alpha, 1e-5f};
            for (size_t i = 0; i < c->oc; i++)
                s.alpha[i] = fabsf(s.alpha[i]) + 0.1f;
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
            d.alpha = s.alpha;
            d.gemm = c->kind == C_GEMM_BLAS ? SM_GEMM_KERNEL_BLAS : SM_GEMM_KERNEL_AUTO;
            sm_status st = SM_OK;
            double flops = 0, bytes = 0;
            switch (c->kind) {
            case C_CONV:
            case C_GEMM_BLAS:
                st = sm_conv2d_prepare(&d, &s.conv, &err);
                flops = 2.0 * out_n * c->ic * c->k * c->k;
                break;
            case C_DW:
                st = sm_dwconv_prepare(&d, &s.dw, &err);
                flops = 2.0 * out_n * c->k * c->k;
                break;
            case C_SE: {
                sm_se_desc sd = {c->ic, c->rd, SM_DENSE_OI, w2, b, w2, b, SM_ACT_SILU, "se"};
                st = sm_se_prepare(&sd, &s.se, &err);
                bytes = 3.0 * in_n * sizeof(float);
                break;
            }
            case C_MAXPOOL:
                st = sm_maxpool_prepare(c->k, c->k, c->s, c->s, d.pad, &s.mp, &err);
                bytes = (in_n + out_n / c->oc * c->ic) * sizeof(float);
                break;
            case C_SILU:
            case C_PRELU:
                bytes = 2.0 * in_n * sizeof(float);
                break;
            }
            if (st != SM_OK) {
                fprintf(stderr, "smw-bench: %s: %s\n", c->name, err.msg);
                return 1;
            }
            run_once(&s);
            double times[4096];
            size_t n = 0;
            double start = sm_bench_now();
            while (n < 4096 && (n < 5 || sm_bench_now() - start < o->min_seconds)) {
                double t0 = sm_bench_now();
                run_once(&s);
                times[n++] = sm_bench_now() - t0;
            }
            qsort(times, n, sizeof *times, cmp_d);
            double med = times[n / 2];
            double rate = flops > 0 ? flops / med * 1e-9 : bytes / med * 1e-9;
            const char *unit = flops > 0 ? "GFLOP/s" : "GB/s";
            double pct = flops > 0 && peak > 0 ? 100.0 * rate / peak : -1;
            const char *isa_name = c->kind == C_GEMM_BLAS ? "openblas" : sm_isa_name(level);
            if (o->json) {
                printf("%s  {\"model\": \"%s\", \"layer\": \"%s\", \"isa\": \"%s\", \"kernel\": \"%s\", "
                       "\"median_ms\": %.5f, \"runs\": %zu, \"%s\": %.3f, \"pct_peak\": %.1f}",
                       first ? "" : ",\n", c->model, c->name, isa_name, kernel_name(c, &s, kt), med * 1e3, n,
                       flops > 0 ? "gflops" : "gbytes_per_s", rate, pct);
                first = false;
            } else {
                char r[32], p[16];
                snprintf(r, sizeof r, "%.2f %s", rate, unit);
                if (pct >= 0)
                    snprintf(p, sizeof p, "%.1f%%", pct);
                else
                    snprintf(p, sizeof p, "-");
                printf("%-10s %-44s %-7s %-40s %9.4f %16s %7s\n", c->model, c->name, isa_name,
                       kernel_name(c, &s, kt), med * 1e3, r, p);
            }
            fflush(stdout);
            sm_conv2d_free(s.conv);
            sm_dwconv_free(s.dw);
            sm_se_free(s.se);
            sm_maxpool_free(s.mp);
            sm_aligned_free(s.in);
            sm_aligned_free(s.out);
            sm_aligned_free(s.res);
            sm_aligned_free(s.alpha);
            sm_aligned_free(w);
            sm_aligned_free(b);
            sm_aligned_free(w2);
        }
    }
    if (o->json)
        printf("\n]}\n");
    sm_isa_force(initial);
    sm_threadpool_free(pool);
    return 0;
}

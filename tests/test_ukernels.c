/* Every micro-kernel of every .inc list (gemm with its dconv twin, dwconv with the
 * generic kxk kernel, pool, act, eltwise with chanpad and softmax, se, pconv3x3,
 * mlp's dense rows), called through its own function pointer (the symbol the list
 * names, not the op's dispatch) against the naive references (engine/kernels/ref),
 * for each listed ISA level this CPU runs; a listed level it cannot run prints one
 * "skipped:" line. test_kernels.c reaches the same kernels through their ops; this
 * suite proves that each listed variant, not just the one the dispatcher picks,
 * computes the reference. Shapes hit every remainder on purpose: channel and length
 * tails (1, tile-1, tile, tile+1, 3*tile+1), every row count of a GEMM tile and
 * column counts 1, NR-1, NR, k remainders, row and output strides, stride 2 on odd
 * widths and padding on every border of a depthwise row.
 * Each table also holds the AVX-512 kernels' sources compiled against the software
 * model of the intrinsics (tests/simd_model, names "... (model)"): run on every
 * machine, whatever its CPU, through the same shapes. */
#include "kernels_common.h"
#include "simd_model/sm_model_kernels.h"

/* The lists, expanded into rows that hold the kernels' addresses. */
typedef struct {
    sm_isa isa;
    size_t mr, nr;
    const char *name;
    sm_gemm_ukernel_fn gemm;
    sm_dconv_ukernel_fn dconv;
    bool model; /* the source under tests/simd_model: runs on any CPU */
} gemm_entry;
#define GEMM_ROW(isa_enum, isa, MR_, NR_, sym, model, tag)                                           \
    {isa_enum, MR_, NR_, SM_GEMM_UK_STR(isa, MR_, NR_) tag, SM_UK_NAME(gemm, MR_##x##NR_, sym),      \
     SM_UK_NAME(dconv, MR_##x##NR_, sym), model},
static const gemm_entry k_gemm[] = {
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_) GEMM_ROW(isa_enum, isa, MR_, NR_, isa, false, "")
#define SM_GEMM_NARROW_UKERNEL SM_GEMM_UKERNEL
#include "gemm/gemm.inc"
#undef SM_GEMM_UKERNEL
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_)                                                     \
    SM_MODEL_ONLY(isa, GEMM_ROW(isa_enum, isa, MR_, NR_, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "gemm/gemm.inc"
SM_MODEL_LISTS_END
#undef SM_GEMM_UKERNEL
#undef SM_GEMM_NARROW_UKERNEL
};

/* k and s are 0 for the generic kernel (any square k, any stride) */
typedef struct {
    sm_isa isa;
    size_t k, s, tile;
    const char *name;
    sm_dwconv_ukernel_fn fn;
    sm_dwconv_generic_ukernel_fn generic;
    bool model;
} dwconv_entry;
#define DWCONV_ROW(isa_enum, isa, K_, S_, t, sym, model, tag)                                          \
    {isa_enum, K_, S_, t, SM_DWCONV_UK_STR(isa, K_, S_, t) tag, SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, sym), \
     NULL, model},
#define DWCONV_KXK_ROW(isa_enum, isa, t, sym, model, tag)                                              \
    {isa_enum, 0, 0, t, SM_DWCONV_KXK_UK_STR(isa, t) tag, NULL, SM_UK_NAME(dwconv, kxk_##t##c, sym), model},
static const dwconv_entry k_dwconv[] = {
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t) DWCONV_ROW(isa_enum, isa, K_, S_, t, isa, false, "")
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t) DWCONV_KXK_ROW(isa_enum, isa, t, isa, false, "")
#include "dwconv/dwconv.inc"
#undef SM_DWCONV_UKERNEL
#undef SM_DWCONV_KXK_UKERNEL
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t)                                                    \
    SM_MODEL_ONLY(isa, DWCONV_ROW(isa_enum, isa, K_, S_, t, isa##_model, true, " (model)"))
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t)                                                        \
    SM_MODEL_ONLY(isa, DWCONV_KXK_ROW(isa_enum, isa, t, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "dwconv/dwconv.inc"
SM_MODEL_LISTS_END
#undef SM_DWCONV_UKERNEL
#undef SM_DWCONV_KXK_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_maxpool_ukernel_fn maxpool;
    sm_gavgpool_ukernel_fn gavgpool;
    bool model;
} pool_entry;
#define POOL_ROW(isa_enum, isa, t, sym, model, tag) \
    {isa_enum, t, #isa tag, SM_UK_NAME(maxpool, t##c, sym), SM_UK_NAME(gavgpool, t##c, sym), model},
static const pool_entry k_pool[] = {
#define SM_POOL_UKERNEL(isa_enum, isa, t) POOL_ROW(isa_enum, isa, t, isa, false, "")
#include "pool/pool.inc"
#undef SM_POOL_UKERNEL
#define SM_POOL_UKERNEL(isa_enum, isa, t) SM_MODEL_ONLY(isa, POOL_ROW(isa_enum, isa, t, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "pool/pool.inc"
SM_MODEL_LISTS_END
#undef SM_POOL_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_vunary_ukernel_fn relu, silu, sigmoid;
    sm_prelu_ukernel_fn prelu;
    bool model;
} act_entry;
#define ACT_ROW(isa_enum, isa, t, sym, model, tag)                                                        \
    {isa_enum, t, #isa tag, SM_UK_NAME(vrelu, x##t, sym), SM_UK_NAME(vsilu, x##t, sym),                   \
     SM_UK_NAME(vsigmoid, x##t, sym), SM_UK_NAME(prelu, t##c, sym), model},
static const act_entry k_act[] = {
#define SM_ACT_UKERNEL(isa_enum, isa, t) ACT_ROW(isa_enum, isa, t, isa, false, "")
#include "act/act.inc"
#undef SM_ACT_UKERNEL
#define SM_ACT_UKERNEL(isa_enum, isa, t) SM_MODEL_ONLY(isa, ACT_ROW(isa_enum, isa, t, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "act/act.inc"
SM_MODEL_LISTS_END
#undef SM_ACT_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_vadd_ukernel_fn vadd;
    sm_vscale_ukernel_fn vscale;
    bool model;
} eltwise_entry;
typedef void (*chanpad_fn)(size_t, size_t, size_t, const float *, float *);
typedef void (*softmax_fn)(size_t, const float *, float *);
typedef struct { sm_isa isa; const char *name; chanpad_fn fn; } chanpad_entry;
typedef struct { sm_isa isa; const char *name; softmax_fn fn; } softmax_entry;
#define ELTWISE_ROW(isa_enum, isa, t, sym, model, tag) \
    {isa_enum, t, #isa tag, SM_UK_NAME(vadd, x##t, sym), SM_UK_NAME(vscale, t##c, sym), model},
static const eltwise_entry k_eltwise[] = {
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t) ELTWISE_ROW(isa_enum, isa, t, isa, false, "")
#define SM_CHANPAD_UKERNEL(isa_enum, isa)
#define SM_SOFTMAX_UKERNEL(isa_enum, isa)
#include "eltwise/eltwise.inc"
#undef SM_ELTWISE_UKERNEL
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t) \
    SM_MODEL_ONLY(isa, ELTWISE_ROW(isa_enum, isa, t, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "eltwise/eltwise.inc"
SM_MODEL_LISTS_END
#undef SM_ELTWISE_UKERNEL
#undef SM_CHANPAD_UKERNEL
#undef SM_SOFTMAX_UKERNEL
};
static const chanpad_entry k_chanpad[] = {
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t)
#define SM_CHANPAD_UKERNEL(isa_enum, isa) {isa_enum, "sm_f32_chanpad_ukernel__" #isa, sm_f32_chanpad_ukernel__##isa},
#define SM_SOFTMAX_UKERNEL(isa_enum, isa)
#include "eltwise/eltwise.inc"
#undef SM_ELTWISE_UKERNEL
#undef SM_CHANPAD_UKERNEL
#undef SM_SOFTMAX_UKERNEL
};
static const softmax_entry k_softmax[] = {
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t)
#define SM_CHANPAD_UKERNEL(isa_enum, isa)
#define SM_SOFTMAX_UKERNEL(isa_enum, isa) {isa_enum, "sm_f32_softmax_ukernel__" #isa, sm_f32_softmax_ukernel__##isa},
#include "eltwise/eltwise.inc"
#undef SM_ELTWISE_UKERNEL
#undef SM_CHANPAD_UKERNEL
#undef SM_SOFTMAX_UKERNEL
};

/* mlp.inc: one row kernel per precision; f64 rows are called through f64_dense */
typedef void (*f32_dense_fn)(size_t, size_t, const float *, const float *, const float *, sm_act, float *);
typedef void (*f64_dense_fn)(size_t, size_t, const double *, const double *, const double *, sm_act, double *);
typedef struct { sm_isa isa; const char *name; f32_dense_fn f32; f64_dense_fn f64; } dense_entry;
#define DENSE_ROW_f32(isa) sm_f32_dense_ukernel__##isa, NULL
#define DENSE_ROW_f64(isa) NULL, sm_f64_dense_ukernel__##isa
static const dense_entry k_dense[] = {
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T) {isa_enum, "sm_" #prec "_dense_ukernel__" #isa, DENSE_ROW_##prec(isa)},
#include "mlp/mlp.inc"
#undef SM_DENSE_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_se_ukernel_fn se;
    bool model;
} se_entry;
#define SE_ROW(isa_enum, isa, t, sym, model, tag) {isa_enum, t, #isa tag, SM_UK_NAME(se, t##c, sym), model},
static const se_entry k_se[] = {
#define SM_SE_UKERNEL(isa_enum, isa, t) SE_ROW(isa_enum, isa, t, isa, false, "")
#include "se/se.inc"
#undef SM_SE_UKERNEL
#define SM_SE_UKERNEL(isa_enum, isa, t) SM_MODEL_ONLY(isa, SE_ROW(isa_enum, isa, t, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "se/se.inc"
SM_MODEL_LISTS_END
#undef SM_SE_UKERNEL
};

typedef struct {
    sm_isa isa;
    const char *name;
    sm_pconv3x3_ukernel_fn fn;
    bool model;
} pconv_entry;
#define PCONV_ROW(isa_enum, isa, sym, model, tag) {isa_enum, #isa tag, SM_UK_NAME(pconv3x3, 4o, sym), model},
static const pconv_entry k_pconv[] = {
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) PCONV_ROW(isa_enum, isa, isa, false, "")
#include "conv2d/pconv3x3.inc"
#undef SM_PCONV3X3_UKERNEL
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) SM_MODEL_ONLY(isa, PCONV_ROW(isa_enum, isa, isa##_model, true, " (model)"))
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#include "conv2d/pconv3x3.inc"
SM_MODEL_LISTS_END
#undef SM_PCONV3X3_UKERNEL
};

/* A listed level is run when this CPU can (the list only names compiled-in ones);
 * the entries of a level it cannot run return quietly and listed_levels says so
 * once per level. A modelled entry runs everywhere. */
static bool runnable(sm_isa isa, bool model) { return model || sm_isa_supported(isa); }

static const sm_act k_acts[] = {SM_ACT_NONE, SM_ACT_RELU, SM_ACT_SILU, SM_ACT_SIGMOID, SM_ACT_PRELU};

/* n floats rounded up to the tile, zero past n: what the ops hand the kernels. */
static float *padded(const float *src, size_t n, size_t tile)
{
    size_t np = (n + tile - 1) / tile * tile;
    float *p = zeros(np);
    memcpy(p, src, n * sizeof *p);
    return p;
}

START_TEST(pool_ukernels)
{
    const pool_entry *e = &k_pool[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t T = e->tile, chans[] = {1, T - 1, T, T + 1, 3 * T + 1};
    const struct { size_t h, w, k, s, pt, pl; } cfg[] = {
        {7, 9, 3, 2, 1, 1}, {8, 8, 2, 2, 0, 0}, {5, 2, 3, 1, 1, 1}, {1, 1, 3, 2, 1, 1}, {9, 7, 3, 2, 0, 2}};
    char what[160];
    for (size_t ci = 0; ci < 5; ci++) {
        size_t C = chans[ci];
        if (C == 0)
            continue;
        for (size_t k = 0; k < sizeof cfg / sizeof *cfg; k++) {
            size_t H = cfg[k].h, W = cfg[k].w, K = cfg[k].k, S = cfg[k].s;
            size_t oh = (H + 2 * cfg[k].pt - K) / S + 1, ow = (W + 2 * cfg[k].pl - K) / S + 1;
            if (H + 2 * cfg[k].pt < K || W + 2 * cfg[k].pl < K)
                continue;
            float *in = rnd(H * W * C, -3, 3), *ref = zeros(oh * ow * C), *got = zeros(oh * ow * C);
            sm_ref_maxpool(in, H, W, C, K, K, S, S, cfg[k].pt, cfg[k].pl, oh, ow, ref);
            for (size_t y = 0; y < oh; y++) {
                const float *rows[8];
                for (size_t ky = 0; ky < K; ky++) {
                    long iy = (long)(y * S + ky) - (long)cfg[k].pt;
                    rows[ky] = iy < 0 || iy >= (long)H ? NULL : in + (size_t)iy * W * C;
                }
                e->maxpool(C, ow, W, cfg[k].pl, K, S, rows, K, got + y * ow * C);
            }
            snprintf(what, sizeof what, "maxpool %s %zux%zux%zu k%zu s%zu", e->name, H, W, C, K, S);
            expect_close(got, ref, oh * ow * C, what);
            free(in); free(ref); free(got);
        }
        for (size_t px = 1; px <= 101; px += 50) {
            float *in = rnd(px * C, -2, 2), *ref = zeros(C), *got = zeros(C);
            sm_ref_global_avgpool(in, px, C, ref);
            e->gavgpool(px, C, in, got);
            snprintf(what, sizeof what, "gavgpool %s %zu px x %zu ch", e->name, px, C);
            expect_close(got, ref, C, what);
            free(in); free(ref); free(got);
        }
    }
}
END_TEST

START_TEST(act_ukernels)
{
    const act_entry *e = &k_act[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t T = e->tile, lens[] = {1, T - 1, T, T + 1, 3 * T + 1, 1003};
    const sm_act acts[3] = {SM_ACT_RELU, SM_ACT_SILU, SM_ACT_SIGMOID};
    const sm_vunary_ukernel_fn fns[3] = {e->relu, e->silu, e->sigmoid};
    char what[160];
    for (size_t li = 0; li < 6; li++) {
        size_t n = lens[li];
        if (n == 0)
            continue;
        float *x = rnd(n, -12, 12), *ref = zeros(n), *got = zeros(n);
        x[0] = n > 1 ? -100.0f : 100.0f; /* saturating ends of SiLU and sigmoid */
        for (int a = 0; a < 3; a++) {
            for (size_t i = 0; i < n; i++)
                ref[i] = sm_ref_act1(acts[a], x[i], 0.0f);
            fns[a](n, x, got);
            snprintf(what, sizeof what, "%s %s n=%zu", sm_act_name(acts[a]), e->name, n);
            expect_close(got, ref, n, what);
        }
        /* PReLU over 3 pixels of n channels, slopes padded to the tile */
        float *x3 = rnd(3 * n, -4, 4), *al = rnd(n, -0.5f, 0.5f), *r3 = zeros(3 * n), *g3 = zeros(3 * n);
        float *alp = padded(al, n, T);
        sm_ref_activation(SM_ACT_PRELU, x3, 3, n, al, r3);
        e->prelu(3, n, x3, alp, g3);
        snprintf(what, sizeof what, "prelu %s %zu ch", e->name, n);
        expect_close(g3, r3, 3 * n, what);
        free(x); free(ref); free(got); free(x3); free(al); free(alp); free(r3); free(g3);
    }
}
END_TEST

START_TEST(eltwise_ukernels)
{
    const eltwise_entry *e = &k_eltwise[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t T = e->tile, lens[] = {1, T - 1, T, T + 1, 3 * T + 1, 88};
    char what[160];
    for (size_t li = 0; li < 6; li++) {
        size_t n = lens[li], px = 5;
        if (n == 0)
            continue;
        float *a = rnd(n * px, -5, 5), *b = rnd(n * px, -5, 5), *ref = zeros(n * px), *got = zeros(n * px);
        for (int act = SM_ACT_NONE; act <= SM_ACT_SIGMOID; act++) {
            for (size_t i = 0; i < n * px; i++)
                ref[i] = sm_ref_act1((sm_act)act, a[i] + b[i], 0.0f);
            e->vadd(n * px, a, b, (sm_act)act, got);
            snprintf(what, sizeof what, "vadd+%s %s n=%zu", sm_act_name((sm_act)act), e->name, n * px);
            expect_close(got, ref, n * px, what);
        }
        float *s = rnd(n, -2, 2), *sp = padded(s, n, T);
        for (size_t p = 0; p < px; p++)
            for (size_t c = 0; c < n; c++)
                ref[p * n + c] = a[p * n + c] * s[c];
        e->vscale(px, n, a, sp, got);
        snprintf(what, sizeof what, "vscale %s %zu ch", e->name, n);
        expect_close(got, ref, n * px, what);
        free(a); free(b); free(ref); free(got); free(s); free(sp);
    }
}
END_TEST

START_TEST(se_ukernels)
{
    const se_entry *e = &k_se[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t T = e->tile;
    const size_t cfg[][2] = {{1, 1}, {T - 1, 2}, {T, 3}, {T + 1, 5}, {3 * T + 1, 4}, {816, 34}};
    char what[160];
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) {
        size_t C = cfg[i][0], rd = cfg[i][1], Cp = (C + T - 1) / T * T;
        if (C == 0)
            continue;
        /* the packed layout of sm_ukernels.h: w1 [rd][C], w2 [rd][Cp], b2 [Cp] */
        float *m = rnd(C, -2, 2), *w1 = rnd(rd * C, -0.5f, 0.5f), *b1 = rnd(rd, -0.5f, 0.5f);
        float *w2 = zeros(rd * Cp), *b2 = zeros(Cp), *h = zeros(rd), *got = zeros(C), *ref = zeros(C);
        for (size_t r = 0; r < rd; r++)
            for (size_t c = 0; c < C; c++)
                w2[r * Cp + c] = sm_test_uniform(-0.5f, 0.5f);
        for (size_t c = 0; c < C; c++)
            b2[c] = sm_test_uniform(-0.5f, 0.5f);
        double hr[64];
        ck_assert_uint_le(rd, 64);
        for (size_t r = 0; r < rd; r++) {
            double s = b1[r];
            for (size_t c = 0; c < C; c++)
                s += (double)w1[r * C + c] * m[c];
            hr[r] = sm_ref_act1(SM_ACT_SILU, (float)s, 0.0f);
        }
        for (size_t c = 0; c < C; c++) {
            double s = b2[c];
            for (size_t r = 0; r < rd; r++)
                s += (double)w2[r * Cp + c] * hr[r];
            ref[c] = sm_ref_act1(SM_ACT_SIGMOID, (float)s, 0.0f);
        }
        e->se(C, rd, m, w1, b1, w2, b2, SM_ACT_SILU, h, got);
        snprintf(what, sizeof what, "se gate %s C %zu rd %zu", e->name, C, rd);
        expect_close(got, ref, C, what);
        free(m); free(w1); free(b1); free(w2); free(b2); free(h); free(got); free(ref);
    }
}
END_TEST

/* One output row of every channel of a 3x3 stride-1 conv, zero padding, on
 * planar rows; the kernel's contract: rows zero at [-1] and [width], readable
 * through [width + 32]. */
START_TEST(pconv3x3_ukernels)
{
    const pconv_entry *e = &k_pconv[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t cfg[][3] = {{1, 1, 1}, {3, 16, 7}, {16, 3, 33}, {2, 5, 64}, {3, 4, 300}};
    const sm_act acts[] = {SM_ACT_NONE, SM_ACT_RELU, SM_ACT_SILU, SM_ACT_SIGMOID};
    char what[160];
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) {
        size_t cin = cfg[i][0], cout = cfg[i][1], W = cfg[i][2], H = 3, stride = W + 2 + 40;
        size_t groups = (cout + 3) / 4, gsz = 4 + cin * 9 * 4;
        sm_act act = acts[i % 4];
        bool with_res = i % 2 == 1;
        float *w = rnd(cout * cin * 9, -0.5f, 0.5f), *b = rnd(cout, -0.5f, 0.5f);
        float *in = rnd(H * W * cin, -1, 1), *res = rnd(cout * W, -1, 1);
        float *packed = zeros(groups * gsz);
        for (size_t o = 0; o < cout; o++) {
            float *g = packed + (o / 4) * gsz;
            g[o % 4] = b[o];
            for (size_t c = 0; c < cin; c++)
                for (size_t t = 0; t < 9; t++)
                    g[4 + (c * 9 + t) * 4 + o % 4] = w[(o * cin + c) * 9 + t];
        }
        /* planar rows of the 3 input rows with their zero borders */
        float *planes = zeros(cin * H * stride);
        const float **rows = malloc(cin * 3 * sizeof *rows);
        for (size_t c = 0; c < cin; c++)
            for (size_t y = 0; y < H; y++) {
                float *r = planes + (c * H + y) * stride + 1;
                for (size_t x = 0; x < W; x++)
                    r[x] = in[(y * W + x) * cin + c];
                rows[c * 3 + y] = r;
            }
        float *got = zeros(cout * W), *ref = zeros(cout * W), *refall = zeros(H * W * cout);
        float **outs = malloc(cout * sizeof *outs);
        const float **resr = malloc(cout * sizeof *resr);
        float *res_nhwc = zeros(H * W * cout);
        for (size_t o = 0; o < cout; o++) {
            outs[o] = got + o * W;
            resr[o] = res + o * W;
            for (size_t x = 0; x < W; x++)
                res_nhwc[(1 * W + x) * cout + o] = res[o * W + x];
        }
        e->fn(cin, cout, W, rows, packed, act, with_res ? resr : NULL, outs);
        /* the reference: the whole 3-row map (middle row checked), NHWC */
        sm_ref_conv2d(in, H, W, cin, w, b, cout, 1, 3, 3, 1, 1, 1, 1, H, W, with_res ? res_nhwc : NULL, act,
                      NULL, refall);
        for (size_t o = 0; o < cout; o++)
            for (size_t x = 0; x < W; x++)
                ref[o * W + x] = refall[(1 * W + x) * cout + o];
        snprintf(what, sizeof what, "pconv3x3 %s %zu->%zu ch, width %zu, %s%s", e->name, cin, cout, W,
                 sm_act_name(act), with_res ? " +residual" : "");
        expect_close(got, ref, cout * W, what);
        free(w); free(b); free(in); free(res); free(packed); free(planes); free(rows);
        free(got); free(ref); free(refall); free(outs); free(resr); free(res_nhwc);
    }
}
END_TEST

/* C[mr x nc] = act(A W + bias + residual) for every row count of the tile, column
 * counts 1, NR-1 and NR (one panel, zero-padded past nc), k remainders, and row
 * strides wider than the rows (lda, ldc, residual stride); columns past nc must
 * stay untouched (masked stores). */
START_TEST(gemm_ukernels)
{
    const gemm_entry *e = &k_gemm[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t MR = e->mr, NR = e->nr, ncs[] = {1, NR - 1, NR}, kcs[] = {1, 2, 7, 33};
    char what[200];
    size_t n = 0;
    for (size_t ki = 0; ki < 4; ki++)
        for (size_t ni = 0; ni < 3; ni++)
            for (size_t mr = 1; mr <= MR; mr++, n++) {
                const size_t kc = kcs[ki], nc = ncs[ni], lda = kc + 3, ldc = nc + 5, rs = nc + 2;
                const sm_act act = k_acts[n % 5];
                const bool with_res = n % 2 == 1;
                float *a = rnd(MR * lda, -1, 1), *w = rnd(nc * kc, -0.5f, 0.5f), *b = rnd(nc, -0.5f, 0.5f);
                float *al = rnd(nc, 0.0f, 0.5f), *res = rnd(mr * rs, -1, 1);
                float *ac = zeros(mr * kc), *rc = zeros(mr * nc), *ref = zeros(mr * nc), *c = zeros(MR * ldc);
                float *packed = sm_ops_pack_gemm(w, b, nc, kc, NR), *alp = sm_ops_padded_copy(al, nc, NR);
                ck_assert(packed && alp);
                for (size_t m = 0; m < mr; m++) {
                    memcpy(ac + m * kc, a + m * lda, kc * sizeof *ac);
                    memcpy(rc + m * nc, res + m * rs, nc * sizeof *rc);
                }
                for (size_t i = 0; i < MR * ldc; i++)
                    c[i] = 7777.0f;
                sm_ukernel_params p = {act, alp, with_res ? res : NULL, rs};
                e->gemm(mr, nc, kc, a, lda, packed, c, ldc, &p);
                sm_ref_dense(ac, mr, kc, nc, w, b, with_res ? rc : NULL, act, al, ref);
                snprintf(what, sizeof what, "%s mr %zu nc %zu kc %zu %s%s", e->name, mr, nc, kc,
                         sm_act_name(act), with_res ? " +residual" : "");
                for (size_t m = 0; m < mr; m++) {
                    expect_close(c + m * ldc, ref + m * nc, nc, what);
                    for (size_t j = nc; j < ldc; j++)
                        ck_assert_msg(c[m * ldc + j] == 7777.0f, "%s: column %zu of row %zu written", what, j, m);
                }
                for (size_t i = mr * ldc; i < MR * ldc; i++)
                    ck_assert_msg(c[i] == 7777.0f, "%s: row past mr written", what);
                free(a); free(w); free(b); free(al); free(res); free(ac); free(rc); free(ref); free(c);
                sm_aligned_free(packed); sm_aligned_free(alp);
            }
}
END_TEST

/* The direct-convolution twin: row m's window starts at a[m] in an NHWC image and
 * is kh runs of kw*ic floats, one image row apart; the same packed panels. Window
 * origins are scattered (any order), windows of 1x1 up to 5x5, odd channel counts. */
START_TEST(dconv_ukernels)
{
    const gemm_entry *e = &k_gemm[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t MR = e->mr, NR = e->nr, ncs[] = {1, NR - 1, NR};
    const size_t win[][3] = {{1, 1, 3}, {3, 3, 1}, {3, 3, 5}, {5, 5, 3}, {2, 3, 7}}; /* kh, kw, ic */
    char what[200];
    size_t n = 0;
    for (size_t wi = 0; wi < 5; wi++)
        for (size_t ni = 0; ni < 3; ni++)
            for (size_t mr = 1; mr <= MR; mr++, n++) {
                const size_t kh = win[wi][0], kw = win[wi][1], ic = win[wi][2], nc = ncs[ni];
                const size_t H = kh + 4, W = kw + 6, K = kh * kw * ic, ldc = nc + 3;
                const sm_act act = k_acts[n % 5];
                const bool with_res = n % 3 == 0;
                float *img = rnd(H * W * ic, -1, 1), *w = rnd(nc * K, -0.5f, 0.5f), *b = rnd(nc, -0.5f, 0.5f);
                float *al = rnd(nc, 0.0f, 0.5f), *res = rnd(mr * nc, -1, 1);
                float *ac = zeros(mr * K), *ref = zeros(mr * nc), *c = zeros(MR * ldc);
                float *packed = sm_ops_pack_gemm(w, b, nc, K, NR), *alp = sm_ops_padded_copy(al, nc, NR);
                const float *rows[64];
                ck_assert(packed && alp && MR <= 64);
                for (size_t m = 0; m < mr; m++) {
                    size_t y = (m * 5 + n) % (H - kh + 1), x = (m * 3 + 2 * n) % (W - kw + 1);
                    rows[m] = img + (y * W + x) * ic;
                    for (size_t ky = 0; ky < kh; ky++)
                        memcpy(ac + m * K + ky * kw * ic, rows[m] + ky * W * ic, kw * ic * sizeof *ac);
                }
                sm_ukernel_params p = {act, alp, with_res ? res : NULL, nc};
                e->dconv(mr, nc, kh, kw * ic, W * ic, rows, packed, c, ldc, &p);
                sm_ref_dense(ac, mr, K, nc, w, b, with_res ? res : NULL, act, al, ref);
                snprintf(what, sizeof what, "dconv twin of %s mr %zu nc %zu window %zux%zux%zu %s", e->name, mr, nc,
                         kh, kw, ic, sm_act_name(act));
                for (size_t m = 0; m < mr; m++)
                    expect_close(c + m * ldc, ref + m * nc, nc, what);
                free(img); free(w); free(b); free(al); free(res); free(ac); free(ref); free(c);
                sm_aligned_free(packed); sm_aligned_free(alp);
            }
}
END_TEST

/* One depthwise conv computed row by row through the kernel: rows outside the image
 * are NULL, columns through pad_left and in_w, as the op calls it. */
static void dwconv_case(const dwconv_entry *e, size_t k, size_t s, size_t C, size_t H, size_t W,
                        const size_t pad[4], sm_act act, bool with_res)
{
    const size_t T = e->tile, taps = k * k, tiles = (C + T - 1) / T;
    const size_t pt = pad[0], pl = pad[1], pb = pad[2], pr = pad[3];
    if (H + pt + pb < k || W + pl + pr < k)
        return;
    const size_t oh = (H + pt + pb - k) / s + 1, ow = (W + pl + pr - k) / s + 1;
    float *in = rnd(H * W * C, -1, 1), *w = rnd(C * taps, -0.5f, 0.5f), *b = rnd(C, -0.5f, 0.5f);
    float *al = rnd(C, 0.0f, 0.5f), *res = rnd(oh * ow * C, -1, 1), *ref = zeros(oh * ow * C);
    float *got = zeros(oh * ow * C), *packed = zeros(tiles * T * (1 + taps));
    float *alp = sm_ops_padded_copy(al, C, tiles * T);
    ck_assert(alp);
    for (size_t c = 0; c < C; c++) {
        float *dst = packed + (c / T) * T * (1 + taps) + c % T;
        dst[0] = b[c];
        for (size_t t = 0; t < taps; t++)
            dst[(1 + t) * T] = w[c * taps + t];
    }
    sm_ref_conv2d(in, H, W, C, w, b, C, C, k, k, s, s, pt, pl, oh, ow, with_res ? res : NULL, act, al, ref);
    for (size_t y = 0; y < oh; y++) {
        const float *rows[16];
        for (size_t ky = 0; ky < k; ky++) {
            long iy = (long)(y * s + ky) - (long)pt;
            rows[ky] = iy < 0 || iy >= (long)H ? NULL : in + (size_t)iy * W * C;
        }
        sm_ukernel_params p = {act, alp, with_res ? res + y * ow * C : NULL, C};
        if (e->fn)
            e->fn(C, ow, W, pl, rows, packed, got + y * ow * C, &p);
        else
            e->generic(k, s, C, ow, W, pl, rows, packed, got + y * ow * C, &p);
    }
    char what[240];
    snprintf(what, sizeof what, "%s k%zu s%zu %zux%zux%zu pad(%zu,%zu,%zu,%zu) %s%s", e->name, k, s, H, W, C,
             pt, pl, pb, pr, sm_act_name(act), with_res ? " +residual" : "");
    expect_close(got, ref, oh * ow * C, what);
    free(in); free(w); free(b); free(al); free(res); free(ref); free(got); free(packed);
    sm_aligned_free(alp);
}

/* Widths 1, 2, k, 2k+1 and 37 (several register blocks plus a shifted last one), 69
 * and 150 (rows as long as EfficientNet's 75- and 150-pixel maps), channel tails,
 * padding on each border alone and on all of them; the generic kernel over k 1..7 and
 * strides 1..3. */
START_TEST(dwconv_ukernels)
{
    const dwconv_entry *e = &k_dwconv[_i];
    if (!runnable(e->isa, e->model))
        return;
    const size_t T = e->tile, chans[] = {1, T - 1, T, T + 1, 3 * T + 1};
    const size_t ks_fixed[][2] = {{e->k, e->s}};
    const size_t ks_any[][2] = {{1, 1}, {3, 1}, {3, 2}, {3, 3}, {5, 2}, {7, 1}, {7, 3}, {4, 2}};
    const size_t (*ks)[2] = e->fn ? ks_fixed : ks_any;
    const size_t nks = e->fn ? 1 : sizeof ks_any / sizeof *ks_any;
    size_t n = 0;
    for (size_t ki = 0; ki < nks; ki++) {
        const size_t k = ks[ki][0], s = ks[ki][1], p = k / 2;
        const size_t widths[] = {1, 2, k, 2 * k + 1, 37, 69, 150};
        const size_t pads[][4] = {{0, 0, 0, 0}, {p, p, p, p}, {k - 1, 0, 0, k - 1}, {0, k - 1, k - 1, 0}, {p, 0, p, 0}};
        for (size_t ci = 0; ci < 5; ci++)
            for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
                for (size_t pi = 0; pi < 5; pi++, n++)
                    if (chans[ci] > 0)
                        dwconv_case(e, k, s, chans[ci], 2 * k + 1 + n % 2, widths[wi], pads[pi], k_acts[n % 5],
                                    n % 3 == 0);
    }
}
END_TEST

START_TEST(chanpad_ukernels)
{
    const chanpad_entry *e = &k_chanpad[_i];
    if (!runnable(e->isa, false))
        return;
    const size_t cins[] = {1, 3, 16, 17}, pxs[] = {1, 7};
    for (size_t ci = 0; ci < 4; ci++)
        for (size_t pi = 0; pi < 2; pi++)
            for (size_t extra = 0; extra <= 5; extra += 5) {
                size_t cin = cins[ci], cout = cin + extra, px = pxs[pi];
                float *x = rnd(px * cin, -3, 3), *y = rnd(px * cout, 5, 6);
                e->fn(px, cin, cout, x, y);
                for (size_t q = 0; q < px; q++)
                    for (size_t c = 0; c < cout; c++)
                        ck_assert_msg(y[q * cout + c] == (c < cin ? x[q * cin + c] : 0.0f),
                                      "%s %zu px %zu -> %zu ch: element (%zu, %zu)", e->name, px, cin, cout, q, c);
                free(x); free(y);
            }
}
END_TEST

START_TEST(softmax_ukernels)
{
    const softmax_entry *e = &k_softmax[_i];
    if (!runnable(e->isa, false))
        return;
    const size_t ns[] = {1, 2, 8, 1000};
    char what[120];
    for (size_t i = 0; i < 4; i++) {
        size_t n = ns[i];
        float *x = rnd(n, -20, 20), *ref = zeros(n), *got = zeros(n);
        x[0] = 80.0f; /* exp would overflow without the max shift */
        sm_ref_softmax(x, n, ref);
        e->fn(n, x, got);
        snprintf(what, sizeof what, "%s n=%zu", e->name, n);
        expect_close(got, ref, n, what);
        e->fn(n, x, x); /* in place */
        expect_close(x, ref, n, what);
        free(x); free(ref); free(got);
    }
}
END_TEST

/* One dense layer, weights [in][out], against the f64 MLP reference (one layer). */
START_TEST(dense_ukernels)
{
    const dense_entry *e = &k_dense[_i];
    if (!runnable(e->isa, false))
        return;
    const size_t shapes[][2] = {{5, 32}, {32, 16}, {16, 1}, {1, 7}, {33, 5}};
    /* the kernel activations sm_mlp_desc maps to (tanh and softmax run after the kernel) */
    const sm_act acts[] = {SM_ACT_NONE, SM_ACT_RELU, SM_ACT_SIGMOID};
    char what[120];
    for (size_t i = 0; i < 5; i++)
        for (size_t a = 0; a < 3; a++) {
            size_t ni = shapes[i][0], no = shapes[i][1], sizes[2] = {ni, no};
            double *x = malloc(ni * sizeof *x), *w = malloc(ni * no * sizeof *w), *b = malloc(no * sizeof *b);
            double *ref = malloc(no * sizeof *ref), *got = malloc(no * sizeof *got);
            float *xf = zeros(ni), *wf = zeros(ni * no), *bf = zeros(no), *gf = zeros(no), *rf = zeros(no);
            ck_assert(x && w && b && ref && got);
            for (size_t j = 0; j < ni; j++)
                xf[j] = (float)(x[j] = sm_test_uniform(-2, 2));
            for (size_t j = 0; j < ni * no; j++)
                wf[j] = (float)(w[j] = sm_test_uniform(-1, 1));
            for (size_t j = 0; j < no; j++)
                bf[j] = (float)(b[j] = sm_test_uniform(-1, 1));
            const double *wl[1] = {w}, *bl[1] = {b};
            sm_ref_mlp_f64(1, sizes, wl, bl, SM_ACT_NONE, acts[a], x, ref);
            snprintf(what, sizeof what, "%s %zu -> %zu %s", e->name, ni, no, sm_act_name(acts[a]));
            if (e->f64) {
                e->f64(ni, no, x, w, b, acts[a], got);
                for (size_t j = 0; j < no; j++)
                    ck_assert_msg(fabs(got[j] - ref[j]) <= 1e-12 * (1 + fabs(ref[j])), "%s: output %zu: %.17g vs %.17g",
                                  what, j, got[j], ref[j]);
            } else {
                /* the reference on the float inputs, rounded once */
                for (size_t j = 0; j < ni; j++)
                    x[j] = xf[j];
                for (size_t j = 0; j < ni * no; j++)
                    w[j] = wf[j];
                for (size_t j = 0; j < no; j++)
                    b[j] = bf[j];
                sm_ref_mlp_f64(1, sizes, wl, bl, SM_ACT_NONE, acts[a], x, ref);
                for (size_t j = 0; j < no; j++)
                    rf[j] = (float)ref[j];
                e->f32(ni, no, xf, wf, bf, acts[a], gf);
                expect_close(gf, rf, no, what);
            }
            free(x); free(w); free(b); free(ref); free(got); free(xf); free(wf); free(bf); free(gf); free(rf);
        }
}
END_TEST

/* One "skipped:" line per listed level this CPU cannot run (its entries above
 * returned without a word). */
START_TEST(listed_levels)
{
    skip_levels_not_run(sm_isa_supported);
    if (!sm_isa_supported(SM_ISA_AVX512))
        printf("  (the AVX-512 kernels' sources ran above under the software model, tests/simd_model)\n");
}
END_TEST

/* Each list names every level the build compiles, scalar first. */
START_TEST(lists_name_the_compiled_levels)
{
    ck_assert_int_eq(k_pool[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_act[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_eltwise[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_se[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_pconv[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_gemm[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_dwconv[0].isa, SM_ISA_SCALAR);
    /* every level of the per-level lists has a GEMM tile and fixed depthwise kernels;
     * the generic depthwise kernel is listed (scalar's serves every level) */
    bool gemm_at[SM_ISA_COUNT] = {false}, dw_at[SM_ISA_COUNT] = {false}, generic = false;
    for (size_t i = 0; i < sizeof k_gemm / sizeof *k_gemm; i++)
        gemm_at[k_gemm[i].isa] = true;
    for (size_t i = 0; i < sizeof k_dwconv / sizeof *k_dwconv; i++) {
        dw_at[k_dwconv[i].isa] |= k_dwconv[i].fn != NULL;
        generic |= k_dwconv[i].generic != NULL && k_dwconv[i].isa == SM_ISA_SCALAR;
    }
    ck_assert(generic);
    /* every listed AVX-512 kernel has its modelled twin, on any architecture */
    size_t model_gemm = 0, model_dw = 0, real_gemm = 0, real_dw = 0;
    for (size_t i = 0; i < sizeof k_gemm / sizeof *k_gemm; i++)
        if (k_gemm[i].isa == SM_ISA_AVX512)
            *(k_gemm[i].model ? &model_gemm : &real_gemm) += 1;
    for (size_t i = 0; i < sizeof k_dwconv / sizeof *k_dwconv; i++)
        if (k_dwconv[i].isa == SM_ISA_AVX512)
            *(k_dwconv[i].model ? &model_dw : &real_dw) += 1;
    ck_assert_uint_ge(model_gemm, 2);
    ck_assert_uint_ge(model_dw, 4);
    if (SM_KERNELS_X86)
        ck_assert(model_gemm == real_gemm && model_dw == real_dw);
    size_t n = sizeof k_pool / sizeof *k_pool;
    ck_assert_uint_eq(sizeof k_act / sizeof *k_act, n);
    ck_assert_uint_eq(sizeof k_eltwise / sizeof *k_eltwise, n);
    ck_assert_uint_eq(sizeof k_se / sizeof *k_se, n);
    ck_assert_uint_eq(sizeof k_pconv / sizeof *k_pconv, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(k_act[i].isa, k_pool[i].isa);
        ck_assert_int_eq(k_eltwise[i].isa, k_pool[i].isa);
        ck_assert_int_eq(k_se[i].isa, k_pool[i].isa);
        ck_assert_int_eq(k_pconv[i].isa, k_pool[i].isa);
        ck_assert(k_act[i].model == k_pool[i].model && k_eltwise[i].model == k_pool[i].model &&
                  k_se[i].model == k_pool[i].model && k_pconv[i].model == k_pool[i].model);
        ck_assert(gemm_at[k_pool[i].isa] && dw_at[k_pool[i].isa]);
        /* a listed level the CPU runs has a dispatch table holding exactly the listed kernels */
        if (!k_pool[i].model && sm_isa_supported(k_pool[i].isa)) {
            const sm_kernel_table *t = sm_kernels_for(k_pool[i].isa);
            ck_assert_ptr_nonnull(t);
            ck_assert(t->maxpool == k_pool[i].maxpool && t->gavgpool == k_pool[i].gavgpool);
            ck_assert(t->vrelu == k_act[i].relu && t->vsilu == k_act[i].silu && t->vsigmoid == k_act[i].sigmoid &&
                      t->prelu == k_act[i].prelu);
            ck_assert(t->vadd == k_eltwise[i].vadd && t->vscale == k_eltwise[i].vscale);
            ck_assert(t->se == k_se[i].se && t->pconv3x3 == k_pconv[i].fn);
            ck_assert_uint_eq(t->tile, k_pool[i].tile);
        }
    }
}
END_TEST

#define N_OF(a) ((int)(sizeof a / sizeof *a))

int main(void)
{
    sm_test_seed(4242);
    Suite *s = suite_create("ukernels");
    TCase *tc = tcase_create("lists");
    tcase_add_loop_test(tc, pool_ukernels, 0, N_OF(k_pool));
    tcase_add_loop_test(tc, act_ukernels, 0, N_OF(k_act));
    tcase_add_loop_test(tc, eltwise_ukernels, 0, N_OF(k_eltwise));
    tcase_add_loop_test(tc, se_ukernels, 0, N_OF(k_se));
    tcase_add_loop_test(tc, pconv3x3_ukernels, 0, N_OF(k_pconv));
    tcase_add_loop_test(tc, gemm_ukernels, 0, N_OF(k_gemm));
    tcase_add_loop_test(tc, dconv_ukernels, 0, N_OF(k_gemm));
    tcase_add_loop_test(tc, dwconv_ukernels, 0, N_OF(k_dwconv));
    tcase_add_loop_test(tc, chanpad_ukernels, 0, N_OF(k_chanpad));
    tcase_add_loop_test(tc, softmax_ukernels, 0, N_OF(k_softmax));
    tcase_add_loop_test(tc, dense_ukernels, 0, N_OF(k_dense));
    tcase_add_test(tc, listed_levels);
    tcase_add_test(tc, lists_name_the_compiled_levels);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

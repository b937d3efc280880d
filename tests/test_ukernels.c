/* Every micro-kernel of the pool, act, eltwise, se and pconv3x3 .inc lists,
 * called through its own function pointer (the symbol the list names, not the
 * op's dispatch) against the naive references, for each listed ISA level this
 * CPU runs. test_kernels.c reaches the same kernels through their ops (and the
 * dwconv and gemm lists directly by identity); this suite proves that each listed
 * variant, not just the one the dispatcher picks, computes the reference. Sizes
 * hit 1, tile-1, tile, tile+1 and 3*tile+1. */
#include "kernels_common.h"

/* The lists, expanded into rows that hold the kernels' addresses. */
typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_maxpool_ukernel_fn maxpool;
    sm_gavgpool_ukernel_fn gavgpool;
} pool_entry;
static const pool_entry k_pool[] = {
#define SM_POOL_UKERNEL(isa_enum, isa, t) \
    {isa_enum, t, #isa, SM_UK_NAME(maxpool, t##c, isa), SM_UK_NAME(gavgpool, t##c, isa)},
#include "pool/pool.inc"
#undef SM_POOL_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_vunary_ukernel_fn relu, silu, sigmoid;
    sm_prelu_ukernel_fn prelu;
} act_entry;
static const act_entry k_act[] = {
#define SM_ACT_UKERNEL(isa_enum, isa, t)                                                                  \
    {isa_enum, t, #isa, SM_UK_NAME(vrelu, x##t, isa), SM_UK_NAME(vsilu, x##t, isa),                       \
     SM_UK_NAME(vsigmoid, x##t, isa), SM_UK_NAME(prelu, t##c, isa)},
#include "act/act.inc"
#undef SM_ACT_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_vadd_ukernel_fn vadd;
    sm_vscale_ukernel_fn vscale;
} eltwise_entry;
static const eltwise_entry k_eltwise[] = {
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t) {isa_enum, t, #isa, SM_UK_NAME(vadd, x##t, isa), SM_UK_NAME(vscale, t##c, isa)},
#include "eltwise/eltwise.inc"
#undef SM_ELTWISE_UKERNEL
};

typedef struct {
    sm_isa isa;
    size_t tile;
    const char *name;
    sm_se_ukernel_fn se;
} se_entry;
static const se_entry k_se[] = {
#define SM_SE_UKERNEL(isa_enum, isa, t) {isa_enum, t, #isa, SM_UK_NAME(se, t##c, isa)},
#include "se/se.inc"
#undef SM_SE_UKERNEL
};

typedef struct {
    sm_isa isa;
    const char *name;
    sm_pconv3x3_ukernel_fn fn;
} pconv_entry;
static const pconv_entry k_pconv[] = {
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) {isa_enum, #isa, SM_UK_NAME(pconv3x3, 4o, isa)},
#include "conv2d/pconv3x3.inc"
#undef SM_PCONV3X3_UKERNEL
};

/* A listed level is run when this CPU can (the list only names compiled-in ones). */
static bool runnable(sm_isa isa, const char *name)
{
    if (sm_isa_supported(isa))
        return true;
    sm_test_skip(name, "ISA not available here");
    return false;
}

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
    if (!runnable(e->isa, e->name))
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
    if (!runnable(e->isa, e->name))
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
    if (!runnable(e->isa, e->name))
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
    if (!runnable(e->isa, e->name))
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
    if (!runnable(e->isa, e->name))
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

/* Each list names every level the build compiles, scalar first. */
START_TEST(lists_name_the_compiled_levels)
{
    ck_assert_int_eq(k_pool[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_act[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_eltwise[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_se[0].isa, SM_ISA_SCALAR);
    ck_assert_int_eq(k_pconv[0].isa, SM_ISA_SCALAR);
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
        /* a listed level the CPU runs has a dispatch table */
        if (sm_isa_supported(k_pool[i].isa))
            ck_assert_ptr_nonnull(sm_kernels_for(k_pool[i].isa));
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
    tcase_add_test(tc, lists_name_the_compiled_levels);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* Kernel families against the naive references (engine/kernels/ref), for every
 * variant in the <family>.inc lists whose ISA this CPU runs. Channel counts hit
 * 1, tile-1, tile, tile+1, 3*tile+1 and real model shapes; spatial sizes are odd,
 * stride 2 runs on odd inputs and padding sits on every border. Thread-pool
 * results must equal single-thread results bit for bit. */
#include "kernels_common.h"

static sm_threadpool *g_pool2, *g_pool3;

/* SM_KERNELS_QUICK=1 skips the large real-model shapes (for emulators such as
 * qemu-user, where the naive references on 300x300 maps take minutes). */
static bool quick(void) { return getenv("SM_KERNELS_QUICK") != NULL; }
static sm_isa g_cap;

static void setup(void)
{
    sm_test_seed(12345);
    g_cap = sm_isa_active();
    sm_error err;
    ck_assert_int_eq(sm_threadpool_init(&g_pool2, 2, &err), SM_OK);
    ck_assert_int_eq(sm_threadpool_init(&g_pool3, 3, &err), SM_OK);
}

static void teardown(void)
{
    sm_threadpool_free(g_pool2);
    sm_threadpool_free(g_pool3);
    sm_isa_force(g_cap);
}

/* A level is tested when compiled in, runnable, and not above SM_ISA's cap. */
static bool use_isa(sm_isa isa)
{
    const char *only = getenv("SM_KERNELS_ONLY"); /* e.g. neon: one level only (emulators) */
    if (!sm_kernels_for(isa) || (only && strcmp(only, sm_isa_name(isa)) != 0))
        return false;
    if (getenv("SM_ISA") && isa > g_cap)
        return false;
    return sm_isa_force(isa);
}

static const sm_act k_acts[] = {SM_ACT_NONE, SM_ACT_RELU, SM_ACT_SILU, SM_ACT_SIGMOID, SM_ACT_PRELU};
/* The kernels the convs of the running test name in their description
 * (gemm_variants: the list entry under test; dwconv_generic_kernel: the generic). */
static sm_gemm_kernel g_gemm;
static sm_dwconv_kernel g_dwconv;

typedef struct {
    bool dw;
    size_t ic, oc, kh, kw, s, in_h, in_w;
    sm_padding pad;
    sm_act act;
    bool residual, threads;
} conv_case;

static void run_conv_case(const conv_case *c, const char *variant)
{
    char what[256];
    size_t oc = c->dw ? c->ic : c->oc;
    size_t wn = oc * (c->dw ? 1 : c->ic) * c->kh * c->kw;
    float *w = rnd(wn, -0.5f, 0.5f), *b = rnd(oc, -0.5f, 0.5f), *alpha = rnd(oc, 0.0f, 0.5f);
    float *in = rnd(c->in_h * c->in_w * c->ic, -1.0f, 1.0f);
    sm_conv_desc d = {0};
    d.in_ch = (uint32_t)c->ic;
    d.out_ch = (uint32_t)oc;
    d.kh = (uint32_t)c->kh;
    d.kw = (uint32_t)c->kw;
    d.stride_h = d.stride_w = (uint32_t)c->s;
    d.pad = c->pad;
    d.layout = SM_WLAYOUT_OIHW;
    d.weights = w;
    d.bias = b;
    d.act = c->act;
    d.alpha = alpha;
    d.name = variant;
    d.gemm = g_gemm;
    d.dwconv = g_dwconv;
    sm_error err;
    size_t oh, ow, pt, pl;
    sm_conv2d *cv = NULL;
    sm_dwconv *dv = NULL;
    if (c->dw) {
        ck_assert_msg(sm_dwconv_prepare(&d, &dv, &err) == SM_OK, "%s", err.msg);
        if (sm_dwconv_out_shape(dv, c->in_h, c->in_w, &oh, &ow, &err) != SM_OK)
            goto done; /* input smaller than the window: rejected, nothing to compare */
    } else {
        ck_assert_msg(sm_conv2d_prepare(&d, &cv, &err) == SM_OK, "%s", err.msg);
        if (sm_conv2d_out_shape(cv, c->in_h, c->in_w, &oh, &ow, &err) != SM_OK)
            goto done;
    }
    {
        size_t o2;
        sm_conv_out_extent(c->in_h, (uint32_t)c->kh, (uint32_t)c->s, c->pad.mode, c->pad.top, c->pad.bottom, &o2, &pt, &err);
        sm_conv_out_extent(c->in_w, (uint32_t)c->kw, (uint32_t)c->s, c->pad.mode, c->pad.left, c->pad.right, &o2, &pl, &err);
    }
    size_t on = oh * ow * oc;
    float *res = c->residual ? rnd(on, -1.0f, 1.0f) : NULL;
    float *ref = zeros(on), *got = zeros(on), *got2 = zeros(on);
    sm_ref_conv2d(in, c->in_h, c->in_w, c->ic, w, b, oc, c->dw ? c->ic : 1, c->kh, c->kw, c->s,
                  c->s, pt, pl, oh, ow, res, c->act, alpha, ref);
    if (c->dw)
        sm_dwconv_run(dv, in, c->in_h, c->in_w, res, got, NULL);
    else
        sm_conv2d_run(cv, in, c->in_h, c->in_w, res, got, NULL);
    snprintf(what, sizeof what, "%s %s %zux%zux%zu->%zu k%zux%zu s%zu pad(%d:%u,%u,%u,%u) act %s%s",
             variant, c->dw ? "dwconv" : "conv2d", c->in_h, c->in_w, c->ic, oc, c->kh, c->kw, c->s,
             (int)c->pad.mode, c->pad.top, c->pad.left, c->pad.bottom, c->pad.right,
             sm_act_name(c->act), c->residual ? " +residual" : "");
    expect_close(got, ref, on, what);
    if (c->threads) {
        sm_threadpool *pools[2] = {g_pool2, g_pool3};
        for (int i = 0; i < 2; i++) {
            memset(got2, 0, on * sizeof *got2);
            if (c->dw)
                sm_dwconv_run(dv, in, c->in_h, c->in_w, res, got2, pools[i]);
            else
                sm_conv2d_run(cv, in, c->in_h, c->in_w, res, got2, pools[i]);
            ck_assert_msg(memcmp(got, got2, on * sizeof *got) == 0, "%s: %d threads differ from 1",
                          what, i + 2);
        }
    }
    free(res); free(ref); free(got); free(got2);
done:
    sm_conv2d_free(cv);
    sm_dwconv_free(dv);
    free(w); free(b); free(alpha); free(in);
}

/* ---- dwconv: every (isa, k, stride) in dwconv.inc ---- */
typedef struct { sm_isa isa; size_t k, s, tile; const char *name; sm_dwconv_ukernel_fn fn; } dw_entry;
static const dw_entry k_dw[] = {
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t) \
    {isa_enum, K_, S_, t, SM_DWCONV_UK_STR(isa, K_, S_, t), SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, isa)},
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t) /* dwconv_generic_kernel */
#include "dwconv/dwconv.inc"
#undef SM_DWCONV_UKERNEL
#undef SM_DWCONV_KXK_UKERNEL
};

START_TEST(dwconv_variants)
{
    const dw_entry *e = &k_dw[_i];
    if (!use_isa(e->isa))
        return; /* levels_not_tested says so, once per level */
    /* the op at this level runs exactly this listed kernel, found by its whole key */
    const uint32_t k = (uint32_t)e->k, st = (uint32_t)e->s;
    const sm_dwconv_variant *v = sm_kernels_dwconv(sm_kernels_for(e->isa), (sm_dwconv_key){k, k, st, st},
                                                   SM_DWCONV_KERNEL_FIXED);
    ck_assert_msg(v && v->fn == e->fn && v->tile == e->tile && !strcmp(v->name, e->name),
                  "%s is not what the table dispatches", e->name);
    /* a window or stride it does not assume never finds it */
    const sm_dwconv_key others[] = {{k, k + 2, st, st}, {k, k, st, st + 1}, {k + 2, k, st, st}, {k, k, st + 1, st}};
    for (size_t i = 0; i < 4; i++)
        ck_assert(!sm_dwconv_variant_fits(v, others[i]));
    const size_t T = e->tile, chans[] = {1, T - 1, T, T + 1, 3 * T + 1};
    const size_t sizes[][2] = {{7, 9}, {6, 5}, {1, 1}, {2, 11}, {13, 4}};
    const uint32_t p = (uint32_t)e->k / 2;
    const sm_padding pads[] = {sm_padding_sym(p), sm_padding_same(), sm_padding_valid(),
                               {SM_PAD_EXPLICIT, p, 0, 0, p}, {SM_PAD_EXPLICIT, 0, p, p, 0},
                               {SM_PAD_EXPLICIT, 1, 1, (uint32_t)e->k - 1, (uint32_t)e->k - 1}};
    size_t n = 0;
    for (size_t ci = 0; ci < 5; ci++)
        for (size_t si = 0; si < 5; si++)
            for (size_t pi = 0; pi < 6; pi++, n++) {
                if (ci == 1 && T - 1 == 0)
                    continue;
                if (pads[pi].mode == SM_PAD_VALID && (sizes[si][0] < e->k || sizes[si][1] < e->k))
                    continue;
                conv_case c = {true, chans[ci], 0, e->k, e->k, e->s, sizes[si][0], sizes[si][1],
                               pads[pi], k_acts[n % 5], n % 3 == 0, n % 7 == 0};
                run_conv_case(&c, e->name);
            }
    /* real shapes: EfficientNet-B3 blocks.4.x (19x19x816 5x5 s1), blocks.2.0 (75->38, 192ch
     * 5x5 s2), blocks.1.0 (150->75, 144ch 3x3 s2); BlazeFace 3x3 SAME; FaceMesh 3x3 s2 */
    const conv_case real[] = {
        {true, 816, 0, 5, 5, 1, 19, 19, sm_padding_sym(2), SM_ACT_SILU, false, true},
        {true, 192, 0, 5, 5, 2, 75, 75, sm_padding_sym(2), SM_ACT_SILU, false, true},
        {true, 144, 0, 3, 3, 2, 150, 150, sm_padding_sym(1), SM_ACT_SILU, false, false},
        {true, 576, 0, 3, 3, 1, 19, 19, sm_padding_sym(1), SM_ACT_SILU, false, false},
        {true, 24, 0, 3, 3, 1, 64, 64, sm_padding_same(), SM_ACT_NONE, false, false},
        {true, 32, 0, 3, 3, 2, 96, 96, sm_padding_same(), SM_ACT_PRELU, false, true},
        {true, 24, 0, 5, 5, 2, 128, 128, sm_padding_same(), SM_ACT_RELU, true, false},
    };
    for (size_t i = 0; i < sizeof real / sizeof *real && !quick(); i++)
        if (real[i].kh == e->k && real[i].s == e->s)
            run_conv_case(&real[i], e->name);
}
END_TEST

START_TEST(dwconv_generic_kernel)
{
    /* shapes without a fixed-shape kernel (7x7, stride 3, 1x1) run the generic one on
     * every level; so do 3x3 and 5x5 when the description asks for it */
    sm_isa isas[SM_ISA_COUNT];
    size_t n = isa_levels(isas);
    for (size_t i = 0; i < n; i++) {
        if (!use_isa(isas[i]))
            continue;
        const conv_case cs[] = {
            {true, 5, 0, 7, 7, 1, 9, 8, sm_padding_sym(3), SM_ACT_PRELU, true, true},
            {true, 9, 0, 3, 3, 3, 10, 11, sm_padding_same(), SM_ACT_SILU, false, false},
            {true, 4, 0, 1, 1, 1, 3, 3, sm_padding_valid(), SM_ACT_NONE, false, false},
            {true, 17, 0, 3, 3, 1, 7, 9, sm_padding_same(), SM_ACT_RELU, true, true},
            {true, 6, 0, 5, 5, 2, 11, 8, sm_padding_sym(2), SM_ACT_SIGMOID, false, false},
        };
        const sm_kernel_table *kt = sm_kernels_for(isas[i]);
        for (size_t j = 0; j < 5; j++) {
            g_dwconv = j < 3 ? SM_DWCONV_KERNEL_AUTO : SM_DWCONV_KERNEL_GENERIC;
            uint32_t k = (uint32_t)cs[j].kh, st = (uint32_t)cs[j].s;
            ck_assert_ptr_eq(sm_kernels_dwconv(kt, (sm_dwconv_key){k, k, st, st}, g_dwconv), &kt->dwconv_generic);
            run_conv_case(&cs[j], kt->dwconv_generic.name);
        }
        g_dwconv = SM_DWCONV_KERNEL_AUTO;
        /* a description that insists on a fixed-shape kernel where none is listed fails */
        float w[49] = {0};
        sm_conv_desc d = {0};
        d.in_ch = 1;
        d.kh = d.kw = 7;
        d.stride_h = d.stride_w = 1;
        d.pad = sm_padding_valid();
        d.weights = w;
        d.dwconv = SM_DWCONV_KERNEL_FIXED;
        sm_dwconv *op = NULL;
        sm_error err;
        ck_assert_int_eq(sm_dwconv_prepare(&d, &op, &err), SM_ERR_UNSUPPORTED);
        ck_assert_ptr_null(op);
        ck_assert_msg(strstr(err.msg, "7x7"), "%s", err.msg);
    }
}
END_TEST

/* ---- gemm: every (isa, MR, NR) in gemm.inc, through 1x1 and im2col convs ---- */
typedef struct { sm_isa isa; size_t mr, nr; const char *name; bool narrow; sm_gemm_ukernel_fn fn; } gemm_entry;
static const gemm_entry k_gemm[] = {
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_) \
    {isa_enum, MR_, NR_, SM_GEMM_UK_STR(isa, MR_, NR_), false, SM_UK_NAME(gemm, MR_##x##NR_, isa)},
#define SM_GEMM_NARROW_UKERNEL(isa_enum, isa, MR_, NR_) \
    {isa_enum, MR_, NR_, SM_GEMM_UK_STR(isa, MR_, NR_), true, SM_UK_NAME(gemm, MR_##x##NR_, isa)},
#include "gemm/gemm.inc"
#undef SM_GEMM_UKERNEL
#undef SM_GEMM_NARROW_UKERNEL
};

START_TEST(gemm_variants)
{
    const gemm_entry *e = &k_gemm[_i];
    if (!use_isa(e->isa))
        return; /* levels_not_tested says so, once per level */
    g_gemm = e->narrow ? SM_GEMM_KERNEL_NARROW : SM_GEMM_KERNEL_WIDE;
    /* the table at this level holds exactly this listed kernel */
    const sm_kernel_table *kt = sm_kernels_for(e->isa);
    ck_assert(e->narrow ? kt->gemm_narrow.fn == e->fn : kt->gemm.fn == e->fn);
    {   /* and a conv that names it runs it */
        float w1 = 1.0f;
        sm_conv_desc d = {0};
        d.in_ch = d.out_ch = 1;
        d.kh = d.kw = d.stride_h = d.stride_w = 1;
        d.pad = sm_padding_valid();
        d.weights = &w1;
        d.gemm = g_gemm;
        sm_conv2d *cv;
        sm_error err;
        ck_assert_msg(sm_conv2d_prepare(&d, &cv, &err) == SM_OK, "%s", err.msg);
        ck_assert_str_eq(sm_conv2d_kernel_name(cv), e->name);
        sm_conv2d_free(cv);
    }
    const size_t MR = e->mr, NR = e->nr;
    const size_t ms[] = {1, MR - 1, MR, MR + 1, 3 * MR + 1}, ns[] = {1, NR - 1, NR, NR + 1, 3 * NR + 1};
    const size_t ks[] = {1, 3, 17};
    size_t n = 0;
    for (size_t mi = 0; mi < 5; mi++)
        for (size_t ni = 0; ni < 5; ni++)
            for (size_t ki = 0; ki < 3; ki++, n++) {
                if (ms[mi] == 0)
                    continue;
                /* M pixels laid out as an m x 1 image */
                conv_case c = {false, ks[ki], ns[ni], 1, 1, 1, ms[mi], 1, sm_padding_valid(),
                               k_acts[n % 5], n % 3 == 1, n % 11 == 0};
                run_conv_case(&c, e->name);
            }
    /* im2col path: k 3/5, stride 1/2, odd sizes, padding on every border */
    const conv_case im[] = {
        {false, 3, 5, 3, 3, 2, 9, 7, sm_padding_sym(1), SM_ACT_SILU, false, true},
        {false, 2, NR + 1, 5, 5, 1, 7, 6, {SM_PAD_EXPLICIT, 2, 0, 1, 2}, SM_ACT_PRELU, true, false},
        {false, 7, 3, 3, 3, 1, 5, 5, sm_padding_same(), SM_ACT_RELU, false, false},
        {false, 4, 2 * NR - 1, 5, 5, 2, 11, 13, sm_padding_same(), SM_ACT_NONE, true, true},
        {false, 32, 1, 3, 3, 3, 3, 3, sm_padding_valid(), SM_ACT_NONE, false, false},
        {false, 1, 1, 1, 1, 2, 5, 5, sm_padding_valid(), SM_ACT_SIGMOID, false, false},
    };
    for (size_t i = 0; i < sizeof im / sizeof *im; i++)
        run_conv_case(&im[i], e->name);
    /* real shapes: B3 blocks.3.x conv_pwl 19x19x576->96, conv_pw 10x10x232->1392 (+ residual),
     * stem 3x3 s2 300x300x3->40, BlazeFace first conv 5x5 s2 SAME 128x128x3->24,
     * FaceMesh last 3x3 s3 VALID 3x3x32->1404 */
    const conv_case real[] = {
        {false, 576, 96, 1, 1, 1, 19, 19, sm_padding_valid(), SM_ACT_NONE, true, true},
        {false, 232, 1392, 1, 1, 1, 10, 10, sm_padding_valid(), SM_ACT_SILU, false, false},
        {false, 3, 40, 3, 3, 2, 300, 300, sm_padding_sym(1), SM_ACT_SILU, false, true},
        {false, 3, 24, 5, 5, 2, 128, 128, sm_padding_same(), SM_ACT_RELU, false, false},
        {false, 32, 1404, 3, 3, 3, 3, 3, sm_padding_valid(), SM_ACT_NONE, false, false},
    };
    for (size_t i = 0; i < sizeof real / sizeof *real && !quick(); i++)
        run_conv_case(&real[i], e->name);
    g_gemm = SM_GEMM_KERNEL_AUTO;
}
END_TEST

START_TEST(gemm_blas_path)
{
    if (!sm_ops_blas_available()) {
        sm_test_skip("gemm_blas_path", "built with BLAS=none");
        return;
    }
    g_gemm = SM_GEMM_KERNEL_BLAS;
    const conv_case cs[] = {
        {false, 576, 96, 1, 1, 1, 19, 19, sm_padding_valid(), SM_ACT_SILU, true, true},
        {false, 17, 33, 1, 1, 1, 5, 3, sm_padding_valid(), SM_ACT_PRELU, false, true},
    };
    for (size_t i = 0; i < 2; i++)
        run_conv_case(&cs[i], "openblas");
    g_gemm = SM_GEMM_KERNEL_AUTO;
}
END_TEST

/* ---- pool / act / eltwise / se ops: one row per ISA in their .inc lists ---- */
typedef struct { sm_isa isa; size_t tile; const char *isa_name; } tile_entry;
static const tile_entry k_tiles[] = {
#define SM_POOL_UKERNEL(isa_enum, isa, t) {isa_enum, t, #isa},
#include "pool/pool.inc"
#undef SM_POOL_UKERNEL
};

START_TEST(pool_variants)
{
    const tile_entry *e = &k_tiles[_i];
    if (!use_isa(e->isa))
        return;
    const size_t T = e->tile, chans[] = {1, T - 1, T, T + 1, 3 * T + 1, 88};
    const size_t sizes[][2] = {{7, 9}, {8, 8}, {1, 1}, {5, 2}, {16, 16}};
    struct { uint32_t k, s; sm_padding pad; } cfg[] = {
        {2, 2, {SM_PAD_SAME, 0, 0, 0, 0}}, {2, 2, {SM_PAD_VALID, 0, 0, 0, 0}},
        {3, 2, {SM_PAD_EXPLICIT, 1, 1, 1, 1}}, {3, 1, {SM_PAD_SAME, 0, 0, 0, 0}},
        {3, 2, {SM_PAD_EXPLICIT, 0, 2, 2, 0}}};
    char what[160];
    sm_error err;
    for (size_t ci = 0; ci < 6; ci++)
        for (size_t si = 0; si < 5; si++)
            for (size_t k = 0; k < 5; k++) {
                size_t C = chans[ci], H = sizes[si][0], W = sizes[si][1], oh, ow, pt, pl, o2;
                if (C == 0)
                    continue;
                sm_maxpool *mp;
                ck_assert_int_eq(sm_maxpool_prepare(cfg[k].k, cfg[k].k, cfg[k].s, cfg[k].s, cfg[k].pad, &mp, &err), SM_OK);
                if (sm_maxpool_out_shape(mp, H, W, &oh, &ow, &err) != SM_OK) {
                    sm_maxpool_free(mp);
                    continue;
                }
                sm_conv_out_extent(H, cfg[k].k, cfg[k].s, cfg[k].pad.mode, cfg[k].pad.top, cfg[k].pad.bottom, &o2, &pt, &err);
                sm_conv_out_extent(W, cfg[k].k, cfg[k].s, cfg[k].pad.mode, cfg[k].pad.left, cfg[k].pad.right, &o2, &pl, &err);
                float *in = rnd(H * W * C, -3, 3), *ref = zeros(oh * ow * C), *got = zeros(oh * ow * C);
                float *got2 = zeros(oh * ow * C);
                sm_ref_maxpool(in, H, W, C, cfg[k].k, cfg[k].k, cfg[k].s, cfg[k].s, pt, pl, oh, ow, ref);
                sm_maxpool_run(mp, in, H, W, C, got, NULL);
                snprintf(what, sizeof what, "maxpool %s %zux%zux%zu k%u s%u", e->isa_name, H, W, C, cfg[k].k, cfg[k].s);
                expect_close(got, ref, oh * ow * C, what);
                sm_maxpool_run(mp, in, H, W, C, got2, g_pool3);
                ck_assert_msg(memcmp(got, got2, oh * ow * C * sizeof *got) == 0, "%s: threads differ", what);
                free(in); free(ref); free(got); free(got2);
                sm_maxpool_free(mp);
            }
}
END_TEST

static void same_bits(const float *got, const float *want, size_t n, const char *what, const char *isa)
{
    ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "%s %s op differs from the level's kernel", what, isa);
}

/* The stateless ops (activation, add, channel scale, global average pool): each
 * listed kernel against the reference is test_ukernels' job; here the ops run the
 * level's listed kernels, split over threads and in place, to the same bits as one
 * call of the kernel. */
START_TEST(stateless_ops)
{
    const tile_entry *e = &k_tiles[_i];
    if (!use_isa(e->isa))
        return;
    const sm_kernel_table *kt = sm_kernels_for(e->isa);
    const sm_vunary_ukernel_fn fns[3] = {kt->vrelu, kt->vsilu, kt->vsigmoid};
    const size_t C = 3 * e->tile + 1, px = 37, n = 100003;
    float *x = rnd(n, -12, 12), *b = rnd(n, -5, 5), *al = rnd(C, -0.5f, 0.5f), *want = zeros(n), *got = zeros(n);
    for (int a = 1; a <= 3; a++) {
        fns[a - 1](n, x, want);
        sm_activation((sm_act)a, x, n, 1, NULL, got, g_pool3);
        same_bits(got, want, n, sm_act_name((sm_act)a), e->isa_name);
        memcpy(got, x, n * sizeof *got);
        sm_activation((sm_act)a, got, n, 1, NULL, got, NULL); /* in place */
        same_bits(got, want, n, sm_act_name((sm_act)a), e->isa_name);
    }
    kt->prelu(px, C, x, al, want);
    sm_activation(SM_ACT_PRELU, x, px * C, C, al, got, g_pool2);
    same_bits(got, want, px * C, "prelu", e->isa_name);
    memcpy(got, x, px * C * sizeof *got);
    sm_activation(SM_ACT_PRELU, got, px * C, C, al, got, NULL);
    same_bits(got, want, px * C, "prelu in place", e->isa_name);
    for (int act = 0; act <= 3; act++) {
        kt->vadd(px * C, x, b, (sm_act)act, want);
        sm_add(x, b, px * C, (sm_act)act, got);
        same_bits(got, want, px * C, "add", e->isa_name);
    }
    kt->vscale(px, C, x, al, want);
    sm_channel_scale(x, px, C, al, got);
    same_bits(got, want, px * C, "channel scale", e->isa_name);
    sm_channel_scale(x, px, C, al, x);
    same_bits(x, want, px * C, "channel scale in place", e->isa_name);
    kt->gavgpool(px, C, b, want);
    sm_global_avgpool(b, px, C, got);
    same_bits(got, want, C, "global avgpool", e->isa_name);
    free(x); free(b); free(al); free(want); free(got);
}
END_TEST

START_TEST(se_variants)
{
    const tile_entry *e = &k_tiles[_i];
    if (!use_isa(e->isa))
        return;
    const size_t T = e->tile;
    const size_t cfg[][4] = {{1, 1, 3, 3}, {T - 1, 2, 5, 1}, {T, 3, 1, 1}, {T + 1, 5, 2, 7},
                             {3 * T + 1, 4, 3, 5}, {816, 34, 19, 19}, {40, 10, 15, 15}};
    char what[160];
    sm_error err;
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) {
        size_t C = cfg[i][0], rd = cfg[i][1], H = cfg[i][2], W = cfg[i][3];
        if (C == 0)
            continue;
        float *w1 = rnd(rd * C, -0.5f, 0.5f), *b1 = rnd(rd, -0.5f, 0.5f), *w2 = rnd(C * rd, -0.5f, 0.5f);
        float *b2 = rnd(C, -0.5f, 0.5f), *in = rnd(H * W * C, -2, 2);
        float *ref = zeros(H * W * C), *got = zeros(H * W * C);
        sm_se_desc d = {(uint32_t)C, (uint32_t)rd, SM_DENSE_OI, w1, b1, w2, b2, SM_ACT_SILU, "se"};
        sm_se *op;
        ck_assert_msg(sm_se_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
        sm_ref_se(in, H * W, C, rd, w1, b1, w2, b2, SM_ACT_SILU, ref);
        sm_se_run(op, in, H, W, got, NULL);
        snprintf(what, sizeof what, "se %s %zux%zux%zu rd %zu", e->isa_name, H, W, C, rd);
        expect_close(got, ref, H * W * C, what);
        sm_se_run(op, in, H, W, in, g_pool2); /* in place, threaded */
        ck_assert_msg(memcmp(got, in, H * W * C * sizeof *in) == 0, "%s: in-place threaded differs", what);
        sm_se_free(op);
        free(w1); free(b1); free(w2); free(b2); free(in); free(ref); free(got);
    }
}
END_TEST

START_TEST(tables_cover_every_level)
{
    sm_isa isas[SM_ISA_COUNT];
    size_t n = isa_levels(isas);
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++) {
        const sm_kernel_table *t = sm_kernels_for(isas[i]);
        ck_assert_ptr_nonnull(t->gemm.fn);
        /* the fixed-shape depthwise kernels every level lists: 3x3 and 5x5 at strides 1 and 2 */
        for (uint32_t k = 3; k <= 5; k += 2)
            for (uint32_t s = 1; s <= 2; s++)
                ck_assert_ptr_nonnull(sm_kernels_dwconv(t, (sm_dwconv_key){k, k, s, s}, SM_DWCONV_KERNEL_FIXED));
        ck_assert_ptr_null(sm_kernels_dwconv(t, (sm_dwconv_key){7, 7, 1, 1}, SM_DWCONV_KERNEL_FIXED));
        ck_assert_ptr_null(sm_kernels_dwconv(t, (sm_dwconv_key){3, 3, 3, 3}, SM_DWCONV_KERNEL_FIXED));
        /* nothing serves a window or stride that is not square: the lookup cannot pick a
         * kernel that does not fit */
        ck_assert_ptr_null(sm_kernels_dwconv(t, (sm_dwconv_key){3, 5, 1, 1}, SM_DWCONV_KERNEL_AUTO));
        ck_assert_ptr_null(sm_kernels_dwconv(t, (sm_dwconv_key){3, 3, 1, 2}, SM_DWCONV_KERNEL_AUTO));
        ck_assert(t->dwconv_generic.generic && !t->dwconv_generic.fn);
        ck_assert(t->maxpool && t->gavgpool && t->vrelu && t->vsilu && t->vsigmoid && t->prelu &&
                  t->vadd && t->vscale && t->se);
    }
#if SM_KERNELS_X86
    if (sm_isa_supported(SM_ISA_AVX512))
        ck_assert_ptr_nonnull(sm_kernels_for(SM_ISA_AVX512));
#endif
}
END_TEST

/* One "skipped:" line per listed level this run does not test (the variant tests
 * of that level returned without a word). */
START_TEST(levels_not_tested) { skip_levels_not_run(use_isa); }
END_TEST

#define N_OF(a) ((int)(sizeof a / sizeof *a))

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("families");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, dwconv_variants, 0, N_OF(k_dw));
    tcase_add_test(tc, dwconv_generic_kernel);
    tcase_add_loop_test(tc, gemm_variants, 0, N_OF(k_gemm));
    tcase_add_test(tc, gemm_blas_path);
    tcase_add_loop_test(tc, pool_variants, 0, N_OF(k_tiles));
    tcase_add_loop_test(tc, stateless_ops, 0, N_OF(k_tiles));
    tcase_add_loop_test(tc, se_variants, 0, N_OF(k_tiles));
    tcase_add_test(tc, tables_cover_every_level);
    tcase_add_test(tc, levels_not_tested);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* Op-level contract: BatchNorm folding (vs unfused reference conv + BN), weight
 * layouts (OIHW / OHWI / HWIO / 1HWO), TFLite SAME shapes, dense layers, the small
 * MLP in float64 and float32, and validation errors at prepare. */
#include "kernels_common.h"

static sm_isa g_cap;
static void setup(void) { sm_test_seed(777); g_cap = sm_isa_active(); }
static void teardown(void) { sm_isa_force(g_cap); }

static bool use_isa(sm_isa isa)
{
    if (!sm_kernels_for(isa) || (getenv("SM_ISA") && isa > g_cap))
        return false;
    return sm_isa_force(isa);
}


START_TEST(batchnorm_folded_matches_conv_then_bn)
{
    if (!use_isa((sm_isa)_i))
        return;
    sm_error err;
    for (int dw = 0; dw < 2; dw++) {
        const size_t C = 19, OC = dw ? 19 : 23, K = 3, H = 9, W = 8;
        const size_t icg = dw ? 1 : C;
        float *w = rnd(OC * icg * K * K, -0.5f, 0.5f), *bias = rnd(OC, -0.3f, 0.3f);
        float *gamma = rnd(OC, 0.5f, 1.5f), *beta = rnd(OC, -0.5f, 0.5f);
        float *mean = rnd(OC, -0.5f, 0.5f), *var = rnd(OC, 0.01f, 2.0f);
        float *in = rnd(H * W * C, -1, 1);
        sm_batchnorm bn = {gamma, beta, mean, var, 1e-5f};
        for (int with_bias = 0; with_bias < 2; with_bias++)
            for (int act = 0; act <= 2; act++) {
                sm_conv_desc d = {0};
                d.in_ch = (uint32_t)C;
                d.out_ch = (uint32_t)OC;
                d.kh = d.kw = (uint32_t)K;
                d.stride_h = d.stride_w = 2;
                d.pad = sm_padding_sym(1);
                d.layout = SM_WLAYOUT_OIHW;
                d.weights = w;
                d.bias = with_bias ? bias : NULL;
                d.bn = &bn;
                d.act = (sm_act)act;
                d.name = "bn-test";
                size_t oh = 5, ow = 4, on = oh * ow * OC;
                float *ref = zeros(on), *got = zeros(on);
                /* unfused: conv, BN, then activation */
                sm_ref_conv2d(in, H, W, C, w, with_bias ? bias : NULL, OC, dw ? C : 1, K, K, 2, 2, 1, 1,
                              oh, ow, NULL, SM_ACT_NONE, NULL, ref);
                sm_ref_batchnorm(ref, oh * ow, OC, &bn);
                sm_ref_activation((sm_act)act, ref, oh * ow, OC, NULL, ref);
                if (dw) {
                    sm_dwconv *op;
                    ck_assert_msg(sm_dwconv_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
                    sm_dwconv_run(op, in, H, W, NULL, got, NULL);
                    sm_dwconv_free(op);
                } else {
                    sm_conv2d *op;
                    ck_assert_msg(sm_conv2d_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
                    sm_conv2d_run(op, in, H, W, NULL, got, NULL);
                    sm_conv2d_free(op);
                }
                char what[128];
                snprintf(what, sizeof what, "%s %s BN fold bias=%d act=%s", sm_isa_name((sm_isa)_i),
                         dw ? "dwconv" : "conv2d", with_bias, sm_act_name((sm_act)act));
                expect_close(got, ref, on, what);
                free(ref);
                free(got);
            }
        free(w); free(bias); free(gamma); free(beta); free(mean); free(var); free(in);
    }
}
END_TEST

/* sm_conv2d_run_windows on a batch of caller-padded images, raster order and a
 * permuted order, gives the same bits as sm_conv2d_run image by image (same
 * panels, same K order), and the reference. */
START_TEST(padded_batch_matches_per_image)
{
    if (!use_isa((sm_isa)_i))
        return;
    static const struct { size_t c, oc, k, s, pad, h, w; sm_act act; } cases[] = {
        {3, 16, 5, 2, 2, 13, 11, SM_ACT_RELU},  /* UltraLightNet conv.0 shape family */
        {16, 32, 3, 1, 1, 9, 9, SM_ACT_RELU},   /* conv.3 */
        {5, 11, 3, 2, 1, 8, 7, SM_ACT_NONE},    /* channels not a multiple of the tile */
    };
    const size_t n = 3;
    sm_error err;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t C = cases[t].c, OC = cases[t].oc, K = cases[t].k, S = cases[t].s, P = cases[t].pad;
        size_t H = cases[t].h, W = cases[t].w, PH = H + 2 * P, PW = W + 2 * P;
        size_t oh = (PH - K) / S + 1, ow = (PW - K) / S + 1, on = oh * ow * OC;
        float *w = rnd(OC * C * K * K, -0.5f, 0.5f), *bias = rnd(OC, -0.3f, 0.3f);
        float *in = rnd(n * H * W * C, -1, 1), *padded = zeros(n * PH * PW * C);
        for (size_t i = 0; i < n; i++)
            for (size_t y = 0; y < H; y++)
                memcpy(padded + ((i * PH + y + P) * PW + P) * C, in + (i * H + y) * W * C, W * C * sizeof(float));
        sm_conv_desc d = {0};
        d.in_ch = (uint32_t)C; d.out_ch = (uint32_t)OC; d.kh = d.kw = (uint32_t)K;
        d.stride_h = d.stride_w = (uint32_t)S; d.pad = sm_padding_sym((uint32_t)P);
        d.layout = SM_WLAYOUT_OIHW; d.weights = w; d.bias = bias; d.act = cases[t].act;
        sm_conv2d *op;
        ck_assert_msg(sm_conv2d_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
        float *batch = zeros(n * on), *perm = zeros(n * on), *one = zeros(on), *ref = zeros(on);
        size_t count = sm_conv2d_raster_windows(op, PH, PW, NULL);
        ck_assert_uint_eq(count, oh * ow);
        ck_assert_uint_eq(sm_conv2d_raster_windows(op, K - 1, PW, NULL), 0);
        size_t *win = malloc(count * sizeof *win), *rev = malloc(count * sizeof *rev);
        ck_assert_uint_eq(sm_conv2d_raster_windows(op, PH, PW, win), count);
        for (size_t p = 0; p < count; p++)
            rev[p] = win[count - 1 - p];
        sm_conv2d_run_windows(op, padded, n, PH * PW * C, win, count, PW * C, batch, NULL);
        sm_conv2d_run_windows(op, padded, n, PH * PW * C, rev, count, PW * C, perm, NULL);
        for (size_t i = 0; i < n; i++) {
            sm_conv2d_run(op, in + i * H * W * C, H, W, NULL, one, NULL);
            ck_assert_msg(memcmp(one, batch + i * on, on * sizeof(float)) == 0,
                          "case %zu image %zu: padded batch differs from sm_conv2d_run", t, i);
            for (size_t p = 0; p < count; p++)
                ck_assert_msg(memcmp(one + p * OC, perm + (i * count + count - 1 - p) * OC, OC * sizeof(float)) == 0,
                              "case %zu image %zu pixel %zu: reversed window order differs", t, i, p);
            sm_ref_conv2d(in + i * H * W * C, H, W, C, w, bias, OC, 1, K, K, S, S, P, P, oh, ow, NULL,
                          cases[t].act, NULL, ref);
            expect_close(batch + i * on, ref, on, "conv2d padded batch");
        }
        sm_conv2d_free(op);
        free(w); free(bias); free(in); free(padded); free(batch); free(perm); free(one); free(ref);
        free(win); free(rev);
    }
}
END_TEST

/* The streamed planar pair equals conv_a, act, conv_b, + input as separate reference
 * steps, for widths around the vector lengths, several channel counts and row
 * bands (threads); any split of rows gives the same bits. */
START_TEST(conv3x3_pair_matches_reference)
{
    if (!use_isa((sm_isa)_i))
        return;
    static const struct { size_t c, mid, h, w; sm_act act_a, act_b; } cases[] = {
        {3, 16, 13, 37, SM_ACT_RELU, SM_ACT_NONE}, /* MicroExpEnhancer */
        {1, 5, 1, 1, SM_ACT_SILU, SM_ACT_RELU},
        {4, 7, 6, 16, SM_ACT_NONE, SM_ACT_SIGMOID},
        {2, 9, 40, 33, SM_ACT_RELU, SM_ACT_NONE},
        {5, 3, 3, 64, SM_ACT_RELU, SM_ACT_NONE},
    };
    sm_error err;
    sm_threadpool *pool = NULL;
    ck_assert_msg(sm_threadpool_init(&pool, 3, &err) == SM_OK, "%s", err.msg);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t C = cases[t].c, M = cases[t].mid, H = cases[t].h, W = cases[t].w, n = H * W * C;
        float *wa = rnd(M * C * 9, -0.5f, 0.5f), *ba = rnd(M, -0.3f, 0.3f);
        float *wb = rnd(C * M * 9, -0.5f, 0.5f), *bb = rnd(C, -0.3f, 0.3f);
        float *in = rnd(n, -1, 1), *mid = zeros(H * W * M), *ref = zeros(n), *got = zeros(n), *got3 = zeros(n);
        sm_conv_desc a = {0}, b;
        a.in_ch = (uint32_t)C; a.out_ch = (uint32_t)M; a.kh = a.kw = 3; a.stride_h = a.stride_w = 1;
        a.pad = sm_padding_sym(1); a.layout = SM_WLAYOUT_OIHW; a.weights = wa; a.bias = ba; a.act = cases[t].act_a;
        b = a;
        b.in_ch = (uint32_t)M; b.out_ch = (uint32_t)C; b.weights = wb; b.bias = bb; b.act = cases[t].act_b;
        sm_conv3x3_pair *op;
        ck_assert_msg(sm_conv3x3_pair_prepare(&a, &b, &op, &err) == SM_OK, "%s", err.msg);
        size_t ns = sm_conv3x3_pair_scratch_floats(op, W, 3);
        ck_assert_uint_ge(ns, sm_conv3x3_pair_scratch_floats(op, W, 1));
        float *scratch = rnd(ns, -9, 9); /* whatever it held before: the op must not depend on it */
        sm_conv3x3_pair_run(op, in, H, W, got, scratch, NULL);
        sm_conv3x3_pair_run(op, in, H, W, got3, scratch, pool);
        sm_ref_conv2d(in, H, W, C, wa, ba, M, 1, 3, 3, 1, 1, 1, 1, H, W, NULL, cases[t].act_a, NULL, mid);
        sm_ref_conv2d(mid, H, W, M, wb, bb, C, 1, 3, 3, 1, 1, 1, 1, H, W, in, cases[t].act_b, NULL, ref);
        char what[96];
        snprintf(what, sizeof what, "conv3x3 pair %zu->%zu->%zu on %zux%zu", C, M, C, H, W);
        expect_close(got, ref, n, what);
        ck_assert_msg(memcmp(got, got3, n * sizeof(float)) == 0, "%s: 3 threads differ from 1", what);
        sm_conv3x3_pair_free(op);
        free(wa); free(ba); free(wb); free(bb); free(in); free(mid); free(ref); free(got); free(got3); free(scratch);
    }
    sm_threadpool_free(pool);
}
END_TEST

START_TEST(conv3x3_pair_rejects)
{
    float w[16 * 16 * 25] = {0};
    sm_conv_desc a = {0}, b;
    a.in_ch = 3; a.out_ch = 16; a.kh = a.kw = 3; a.stride_h = a.stride_w = 1;
    a.pad = sm_padding_sym(1); a.layout = SM_WLAYOUT_OIHW; a.weights = w; a.name = "conv.a";
    b = a;
    b.in_ch = 16; b.out_ch = 3; b.name = "conv.b";
    sm_conv3x3_pair *op = NULL;
    sm_error err;
    ck_assert_int_eq(sm_conv3x3_pair_prepare(&a, &b, &op, &err), SM_OK);
    sm_conv3x3_pair_free(op);
    sm_conv_desc bad = b;
    bad.out_ch = 4;
    ck_assert_int_eq(sm_conv3x3_pair_prepare(&a, &bad, &op, &err), SM_ERR_SHAPE);
    ck_assert_ptr_null(op);
    ck_assert_ptr_nonnull(strstr(err.msg, "conv.b"));
    bad = b;
    bad.stride_h = bad.stride_w = 2;
    ck_assert_int_eq(sm_conv3x3_pair_prepare(&a, &bad, &op, &err), SM_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "stride"));
    bad = b;
    bad.kh = bad.kw = 5;
    ck_assert_int_eq(sm_conv3x3_pair_prepare(&a, &bad, &op, &err), SM_ERR_UNSUPPORTED);
    bad = b;
    bad.pad = sm_padding_valid();
    ck_assert_int_eq(sm_conv3x3_pair_prepare(&a, &bad, &op, &err), SM_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "padding"));
    bad = a;
    bad.in_ch = 65;
    ck_assert_int_ne(sm_conv3x3_pair_prepare(&bad, &b, &op, &err), SM_OK);
    ck_assert_ptr_null(op);
}
END_TEST

/* The SE pieces an EfficientNet block runs without passes of their own:
 * dwconv with channel means on the way (same output bits as without, means of
 * that output), the gate alone, and a pointwise conv with the gate folded into
 * its weights (equal to scaling the input first), for every ISA and with threads. */
START_TEST(se_without_extra_passes)
{
    if (!use_isa((sm_isa)_i))
        return;
    static const struct { size_t h, w, c, oc, k, s; } cases[] = {
        {9, 13, 40, 24, 3, 1}, {10, 7, 21, 5, 5, 2}, {1, 1, 16, 16, 3, 1},
    };
    sm_error err;
    sm_threadpool *pool = NULL;
    ck_assert_msg(sm_threadpool_init(&pool, 2, &err) == SM_OK, "%s", err.msg);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t H = cases[t].h, W = cases[t].w, C = cases[t].c, OC = cases[t].oc, K = cases[t].k;
        float *wd = rnd(C * K * K, -0.5f, 0.5f), *bd = rnd(C, -0.2f, 0.2f), *in = rnd(H * W * C, -1, 1);
        sm_conv_desc d = {0};
        d.in_ch = d.out_ch = (uint32_t)C; d.kh = d.kw = (uint32_t)K; d.stride_h = d.stride_w = (uint32_t)cases[t].s;
        d.pad = sm_padding_sym((uint32_t)K / 2); d.layout = SM_WLAYOUT_OIHW; d.weights = wd; d.bias = bd;
        d.act = SM_ACT_SILU;
        sm_dwconv *dw;
        ck_assert_msg(sm_dwconv_prepare(&d, &dw, &err) == SM_OK, "%s", err.msg);
        size_t oh, ow;
        ck_assert_int_eq(sm_dwconv_out_shape(dw, H, W, &oh, &ow, &err), SM_OK);
        size_t n = oh * ow * C;
        float *plain = zeros(n), *withm = zeros(n), *mean = zeros(C), *ref_mean = zeros(C);
        float *rows = rnd(sm_dwconv_mean_scratch_floats(dw, oh), -5, 5);
        sm_dwconv_run(dw, in, H, W, NULL, plain, NULL);
        sm_dwconv_run_mean(dw, in, H, W, NULL, withm, mean, rows, pool);
        ck_assert_msg(memcmp(plain, withm, n * sizeof(float)) == 0, "case %zu: dwconv output changed", t);
        sm_ref_global_avgpool(plain, oh * ow, C, ref_mean);
        expect_close(mean, ref_mean, C, "dwconv channel means");

        size_t rd = C / 4 ? C / 4 : 1;
        float *w1 = rnd(rd * C, -0.5f, 0.5f), *b1 = rnd(rd, -0.1f, 0.1f), *w2 = rnd(C * rd, -0.5f, 0.5f),
              *b2 = rnd(C, -0.1f, 0.1f);
        sm_se_desc sd = {(uint32_t)C, (uint32_t)rd, SM_DENSE_OI, w1, b1, w2, b2, SM_ACT_SILU, "se"};
        sm_se *se;
        ck_assert_msg(sm_se_prepare(&sd, &se, &err) == SM_OK, "%s", err.msg);
        float *se_plain = zeros(n), *se_mean = zeros(n), *gate = zeros(C);
        sm_se_run(se, plain, oh, ow, se_plain, pool);
        sm_se_run_with_mean(se, mean, plain, oh, ow, se_mean, pool);
        expect_close(se_mean, se_plain, n, "SE with the dwconv's means");
        memcpy(gate, sm_se_gate(se, mean), C * sizeof(float));
        for (size_t c = 0; c < C; c++)
            ck_assert(gate[c] > 0.0f && gate[c] < 1.0f);

        float *wp = rnd(OC * C, -0.5f, 0.5f), *bp = rnd(OC, -0.2f, 0.2f), *res = rnd(oh * ow * OC, -1, 1);
        sm_conv_desc pd = {0};
        pd.in_ch = (uint32_t)C; pd.out_ch = (uint32_t)OC; pd.kh = pd.kw = pd.stride_h = pd.stride_w = 1;
        pd.pad = sm_padding_valid(); pd.layout = SM_WLAYOUT_OIHW; pd.weights = wp; pd.bias = bp;
        sm_conv2d *pw;
        ck_assert_msg(sm_conv2d_prepare(&pd, &pw, &err) == SM_OK, "%s", err.msg);
        size_t ns = sm_conv2d_scaled_scratch_floats(pw);
        ck_assert_uint_gt(ns, 0);
        float *scratch = zeros(ns), *scaled_in = zeros(n), *got = zeros(oh * ow * OC), *ref = zeros(oh * ow * OC);
        for (size_t p = 0; p < oh * ow; p++)
            for (size_t c = 0; c < C; c++)
                scaled_in[p * C + c] = plain[p * C + c] * gate[c];
        sm_conv2d_run_scaled(pw, plain, oh, ow, gate, res, got, scratch, pool);
        sm_ref_conv2d(scaled_in, oh, ow, C, wp, bp, OC, 1, 1, 1, 1, 1, 0, 0, oh, ow, res, SM_ACT_NONE, NULL, ref);
        expect_close(got, ref, oh * ow * OC, "pointwise conv with the gate folded into its weights");
        sm_conv2d_run(pw, scaled_in, oh, ow, res, got, NULL); /* the op's own weights are untouched */
        expect_close(got, ref, oh * ow * OC, "pointwise conv after a scaled run");
        sm_conv2d_free(pw);
        sm_se_free(se);
        sm_dwconv_free(dw);
        free(wd); free(bd); free(in); free(plain); free(withm); free(mean); free(ref_mean); free(rows);
        free(w1); free(b1); free(w2); free(b2); free(se_plain); free(se_mean); free(gate);
        free(wp); free(bp); free(res); free(scratch); free(scaled_in); free(got); free(ref);
    }
    sm_threadpool_free(pool);
}
END_TEST

/* conv_pw streamed into conv_dw gives the bits of the two ops run one after the
 * other (and the same channel means), for every ISA and with 1 or 3 threads. */
START_TEST(pw_dw_fused_equals_unfused)
{
    if (!use_isa((sm_isa)_i))
        return;
    static const struct { size_t h, w, cin, mid, k, s; } cases[] = {
        {11, 37, 8, 40, 3, 2}, {9, 33, 5, 72, 5, 1}, {4, 3, 3, 16, 3, 1}, {7, 20, 24, 144, 5, 2},
        {33, 20, 6, 40, 3, 2}, {20, 36, 4, 48, 5, 1}, /* 17 and 20 output rows: two bands when threaded */
    };
    sm_error err;
    sm_threadpool *pool = NULL;
    ck_assert_msg(sm_threadpool_init(&pool, 3, &err) == SM_OK, "%s", err.msg);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t H = cases[t].h, W = cases[t].w, CI = cases[t].cin, C = cases[t].mid, K = cases[t].k;
        float *wp = rnd(C * CI, -0.5f, 0.5f), *bp = rnd(C, -0.2f, 0.2f), *wd = rnd(C * K * K, -0.5f, 0.5f);
        float *bd = rnd(C, -0.2f, 0.2f), *in = rnd(H * W * CI, -1, 1);
        sm_conv_desc pd = {0}, dd = {0};
        pd.in_ch = (uint32_t)CI; pd.out_ch = (uint32_t)C; pd.kh = pd.kw = pd.stride_h = pd.stride_w = 1;
        pd.pad = sm_padding_valid(); pd.layout = SM_WLAYOUT_OIHW; pd.weights = wp; pd.bias = bp; pd.act = SM_ACT_SILU;
        pd.gemm = SM_GEMM_KERNEL_OWN; /* the scalar level would take OpenBLAS, which is not fusable */
        dd.in_ch = dd.out_ch = (uint32_t)C; dd.kh = dd.kw = (uint32_t)K; dd.stride_h = dd.stride_w = (uint32_t)cases[t].s;
        dd.pad = sm_padding_sym((uint32_t)K / 2); dd.layout = SM_WLAYOUT_OIHW; dd.weights = wd; dd.bias = bd;
        dd.act = SM_ACT_SILU;
        sm_conv2d *pw;
        sm_dwconv *dw;
        ck_assert_msg(sm_conv2d_prepare(&pd, &pw, &err) == SM_OK, "%s", err.msg);
        ck_assert_msg(sm_dwconv_prepare(&dd, &dw, &err) == SM_OK, "%s", err.msg);
        ck_assert(sm_pw_dw_fusable(pw, dw));
        size_t oh, ow;
        ck_assert_int_eq(sm_dwconv_out_shape(dw, H, W, &oh, &ow, &err), SM_OK);
        float *mid = zeros(H * W * C), *ref = zeros(oh * ow * C), *ref_mean = zeros(C);
        float *rows = zeros(sm_dwconv_mean_scratch_floats(dw, oh));
        sm_conv2d_run(pw, in, H, W, NULL, mid, NULL);
        sm_dwconv_run_mean(dw, mid, H, W, NULL, ref, ref_mean, rows, NULL);
        for (int threads = 1; threads <= 3; threads += 2) {
            sm_threadpool *p = threads == 1 ? NULL : pool;
            float *got = rnd(oh * ow * C, -9, 9), *mean = zeros(C);
            float *scratch = rnd(sm_pw_dw_scratch_floats(dw, W, sm_threadpool_size(p)), -9, 9);
            sm_pw_dw_run(pw, dw, in, H, W, got, mean, rows, scratch, p);
            ck_assert_msg(memcmp(got, ref, oh * ow * C * sizeof(float)) == 0,
                          "case %zu, %d thread(s): fused output differs from conv_pw then conv_dw", t, threads);
            ck_assert_msg(memcmp(mean, ref_mean, C * sizeof(float)) == 0, "case %zu: channel means differ", t);
            free(got); free(mean); free(scratch);
        }
        sm_conv2d_free(pw);
        sm_dwconv_free(dw);
        free(wp); free(bp); free(wd); free(bd); free(in); free(mid); free(ref); free(ref_mean); free(rows);
    }
    sm_threadpool_free(pool);
}
END_TEST

START_TEST(weight_layouts_agree)
{
    if (!use_isa((sm_isa)_i))
        return;
    sm_error err;
    const size_t C = 6, OC = 11, K = 3, H = 7, W = 5, on = 4 * 3 * OC;
    float *oihw = rnd(OC * C * K * K, -1, 1), *in = rnd(H * W * C, -1, 1);
    float *ohwi = zeros(OC * K * K * C), *hwio = zeros(K * K * C * OC);
    for (size_t o = 0; o < OC; o++)
        for (size_t i = 0; i < C; i++)
            for (size_t y = 0; y < K; y++)
                for (size_t x = 0; x < K; x++) {
                    float v = oihw[((o * C + i) * K + y) * K + x];
                    ohwi[((o * K + y) * K + x) * C + i] = v;
                    hwio[((y * K + x) * C + i) * OC + o] = v;
                }
    float *ref = zeros(on), *got = zeros(on);
    /* TFLite SAME, stride 2 on 7x5: out 4x3, pads 1/1 (h) and 1/1 (w) */
    sm_ref_conv2d(in, H, W, C, oihw, NULL, OC, 1, K, K, 2, 2, 1, 1, 4, 3, NULL, SM_ACT_NONE, NULL, ref);
    const float *ws[3] = {oihw, ohwi, hwio};
    const sm_wlayout ls[3] = {SM_WLAYOUT_OIHW, SM_WLAYOUT_OHWI, SM_WLAYOUT_HWIO};
    for (int l = 0; l < 3; l++) {
        sm_conv_desc d = {0};
        d.in_ch = (uint32_t)C; d.out_ch = (uint32_t)OC; d.kh = d.kw = (uint32_t)K;
        d.stride_h = d.stride_w = 2; d.pad = sm_padding_same(); d.layout = ls[l]; d.weights = ws[l];
        sm_conv2d *op;
        ck_assert_int_eq(sm_conv2d_prepare(&d, &op, &err), SM_OK);
        size_t oh, ow;
        ck_assert_int_eq(sm_conv2d_out_shape(op, H, W, &oh, &ow, &err), SM_OK);
        ck_assert_uint_eq(oh, 4);
        ck_assert_uint_eq(ow, 3);
        sm_conv2d_run(op, in, H, W, NULL, got, NULL);
        expect_close(got, ref, on, "conv layout");
        sm_conv2d_free(op);
    }
    /* depthwise: [C,1,k,k] vs TFLite [1,k,k,C] */
    float *dw = rnd(C * K * K, -1, 1), *dw1hwo = zeros(K * K * C);
    for (size_t c = 0; c < C; c++)
        for (size_t t = 0; t < K * K; t++)
            dw1hwo[t * C + c] = dw[c * K * K + t];
    float *dref = zeros(H * W * C), *dgot = zeros(H * W * C);
    sm_ref_conv2d(in, H, W, C, dw, NULL, C, C, K, K, 1, 1, 1, 1, H, W, NULL, SM_ACT_NONE, NULL, dref);
    const float *dws[2] = {dw, dw1hwo};
    const sm_wlayout dls[2] = {SM_WLAYOUT_OIHW, SM_WLAYOUT_1HWO};
    for (int l = 0; l < 2; l++) {
        sm_conv_desc d = {0};
        d.in_ch = (uint32_t)C; d.kh = d.kw = (uint32_t)K; d.stride_h = d.stride_w = 1;
        d.pad = sm_padding_same(); d.layout = dls[l]; d.weights = dws[l];
        sm_dwconv *op;
        ck_assert_int_eq(sm_dwconv_prepare(&d, &op, &err), SM_OK);
        sm_dwconv_run(op, in, H, W, NULL, dgot, NULL);
        expect_close(dgot, dref, H * W * C, "dwconv layout");
        sm_dwconv_free(op);
    }
    free(oihw); free(in); free(ohwi); free(hwio); free(ref); free(got);
    free(dw); free(dw1hwo); free(dref); free(dgot);
}
END_TEST

START_TEST(same_padding_extents)
{
    size_t out, lead;
    sm_error err;
    /* BlazeFace first conv: 5x5 stride 2 on 128 pads 1 before, 2 after */
    ck_assert_int_eq(sm_conv_out_extent(128, 5, 2, SM_PAD_SAME, 0, 0, &out, &lead, &err), SM_OK);
    ck_assert_uint_eq(out, 64);
    ck_assert_uint_eq(lead, 1);
    /* max pool 2x2/2 SAME on even input: no padding */
    ck_assert_int_eq(sm_conv_out_extent(64, 2, 2, SM_PAD_SAME, 0, 0, &out, &lead, &err), SM_OK);
    ck_assert_uint_eq(out, 32);
    ck_assert_uint_eq(lead, 0);
    /* PyTorch k3 s2 p1 on 75 -> 38; k5 s2 p2 on 75 -> 38 */
    ck_assert_int_eq(sm_conv_out_extent(75, 3, 2, SM_PAD_EXPLICIT, 1, 1, &out, &lead, &err), SM_OK);
    ck_assert_uint_eq(out, 38);
    ck_assert_int_eq(sm_conv_out_extent(300, 3, 2, SM_PAD_EXPLICIT, 1, 1, &out, &lead, &err), SM_OK);
    ck_assert_uint_eq(out, 150);
    ck_assert_int_eq(sm_conv_out_extent(2, 5, 1, SM_PAD_VALID, 0, 0, &out, &lead, &err), SM_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "smaller than kernel 5"));
}
END_TEST

START_TEST(dense_layouts_and_residual)
{
    if (!use_isa((sm_isa)_i))
        return;
    sm_error err;
    const size_t rows = 3, NI = 37, NO = 21;
    float *w = rnd(NO * NI, -1, 1), *wio = zeros(NI * NO), *b = rnd(NO, -1, 1), *x = rnd(rows * NI, -1, 1);
    float *res = rnd(rows * NO, -1, 1), *al = rnd(NO, 0, 0.3f), *ref = zeros(rows * NO), *got = zeros(rows * NO);
    for (size_t o = 0; o < NO; o++)
        for (size_t i = 0; i < NI; i++)
            wio[i * NO + o] = w[o * NI + i];
    sm_ref_dense(x, rows, NI, NO, w, b, res, SM_ACT_PRELU, al, ref);
    /* every explicit GEMM choice the description can name reaches the same numbers */
    static const sm_gemm_kernel kernels[] = {SM_GEMM_KERNEL_AUTO, SM_GEMM_KERNEL_OWN,
                                             SM_GEMM_KERNEL_WIDE, SM_GEMM_KERNEL_NARROW};
    for (int l = 0; l < 2; l++) {
        for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
            sm_dense_desc d = {.in_features = (uint32_t)NI, .out_features = (uint32_t)NO,
                               .layout = l ? SM_DENSE_IO : SM_DENSE_OI, .weights = l ? wio : w,
                               .bias = b, .act = SM_ACT_PRELU, .alpha = al, .name = "fc",
                               .gemm = kernels[k], .precision = SM_PRECISION_FP32};
            sm_dense *op;
            ck_assert_int_eq(sm_dense_prepare(&d, &op, &err), SM_OK);
            sm_dense_run(op, x, rows, res, got, NULL);
            expect_close(got, ref, rows * NO, l ? "dense IO" : "dense OI");
            sm_dense_free(op);
        }
    }
    /* the description's precision wins over the process-wide one in both directions:
     * FP32 asked under a forced BF16 keeps FP32 accuracy; BF16 asked under FP32 shows
     * bfloat16 rounding (8-bit mantissas: errors far above FP32's, within BF16's) */
    sm_precision was = sm_precision_user();
    for (int p = 0; p < 2; p++) {
        sm_precision_force(p ? SM_PRECISION_FP32 : SM_PRECISION_BF16);
        sm_dense_desc d = {.in_features = (uint32_t)NI, .out_features = (uint32_t)NO,
                           .layout = SM_DENSE_OI, .weights = w, .bias = b, .act = SM_ACT_PRELU,
                           .alpha = al, .name = "fc",
                           .precision = p ? SM_PRECISION_BF16 : SM_PRECISION_FP32};
        sm_dense *op;
        ck_assert_int_eq(sm_dense_prepare(&d, &op, &err), SM_OK);
        sm_dense_run(op, x, rows, res, got, NULL);
        sm_dense_free(op);
        double worst = 0;
        for (size_t i = 0; i < rows * NO; i++)
            worst = fmax(worst, fabs((double)got[i] - ref[i]));
        if (p) {
            ck_assert_msg(worst > 1e-4 && worst < 0.2, "dense BF16: max error %g", worst);
        } else {
            ck_assert_msg(worst < 1e-4, "dense FP32 under forced BF16: max error %g", worst);
        }
    }
    sm_precision_force(was);
    free(w); free(wio); free(b); free(x); free(res); free(al); free(ref); free(got);
}
END_TEST

START_TEST(mlp_f64_and_f32)
{
    /* the fatigue model's shape: 5 -> 32 -> 16 -> 1, relu hidden, logistic out */
    const uint32_t sizes[4] = {5, 32, 16, 1};
    const size_t zs[4] = {5, 32, 16, 1};
    double *w[3], *b[3];
    for (int l = 0; l < 3; l++) {
        w[l] = malloc(sizes[l] * sizes[l + 1] * sizeof(double));
        b[l] = malloc(sizes[l + 1] * sizeof(double));
        for (size_t i = 0; i < sizes[l] * sizes[l + 1]; i++)
            w[l][i] = sm_test_uniform(-1, 1);
        for (size_t i = 0; i < sizes[l + 1]; i++)
            b[l][i] = sm_test_uniform(-0.5f, 0.5f);
    }
    sm_error err;
    for (int prec = 0; prec < 2; prec++) {
        sm_mlp_desc d = {3, sizes, SM_DENSE_IO, (const double *const *)w, (const double *const *)b,
                         SM_MLP_ACT_RELU, SM_MLP_ACT_LOGISTIC, (sm_mlp_precision)prec, "fatigue"};
        sm_mlp *op;
        ck_assert_msg(sm_mlp_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
        for (int t = 0; t < 20; t++) {
            double x[5], y = -1, r = -2;
            for (int i = 0; i < 5; i++)
                x[i] = sm_test_uniform(-3, 3);
            sm_ref_mlp_f64(3, zs, (const double *const *)w, (const double *const *)b, SM_ACT_RELU,
                           SM_ACT_SIGMOID, x, &r);
            sm_mlp_run(op, x, &y);
            double tol = prec == 0 ? 1e-12 : 1e-5;
            ck_assert_msg(fabs(y - r) <= tol, "mlp %s: got %.15g ref %.15g", prec ? "f32" : "f64", y, r);
        }
        sm_mlp_free(op);
    }
    for (int l = 0; l < 3; l++) {
        free(w[l]);
        free(b[l]);
    }
}
END_TEST

START_TEST(prepare_rejects_bad_descriptions)
{
    sm_error err;
    float w[64] = {0};
    sm_conv_desc d = {0};
    d.in_ch = 4; d.out_ch = 4; d.kh = d.kw = 3; d.stride_h = d.stride_w = 1;
    d.pad = sm_padding_sym(1); d.weights = w; d.name = "blocks.0.0.conv_dw";
    sm_conv2d *c = (sm_conv2d *)1;
    sm_dwconv *dv = (sm_dwconv *)1;
    d.weights = NULL;
    ck_assert_int_eq(sm_conv2d_prepare(&d, &c, &err), SM_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err.msg, "blocks.0.0.conv_dw"));
    d.weights = w;
    d.act = SM_ACT_PRELU;
    ck_assert_int_eq(sm_dwconv_prepare(&d, &dv, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "PReLU"));
    d.act = SM_ACT_NONE;
    d.stride_h = 0;
    ck_assert_int_eq(sm_conv2d_prepare(&d, &c, &err), SM_ERR_ARG);
    d.stride_h = 1;
    d.out_ch = 8;
    ck_assert_int_eq(sm_dwconv_prepare(&d, &dv, &err), SM_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "multiplier 1"));
    d.out_ch = 4;
    d.kw = 5;
    ck_assert_int_eq(sm_dwconv_prepare(&d, &dv, &err), SM_ERR_UNSUPPORTED);
    d.kw = 3;
    d.pad = sm_padding_sym(3);
    ck_assert_int_eq(sm_conv2d_prepare(&d, &c, &err), SM_ERR_UNSUPPORTED);
    d.pad = sm_padding_sym(1);
    d.layout = SM_WLAYOUT_1HWO;
    ck_assert_int_eq(sm_conv2d_prepare(&d, &c, &err), SM_ERR_UNSUPPORTED);
    sm_batchnorm bn = {NULL, NULL, NULL, w, 1e-5f};
    d.layout = SM_WLAYOUT_OIHW;
    d.bn = &bn;
    ck_assert_int_eq(sm_conv2d_prepare(&d, &c, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "BatchNorm"));
    sm_maxpool *mp;
    ck_assert_int_eq(sm_maxpool_prepare(0, 2, 2, 2, sm_padding_same(), &mp, &err), SM_ERR_ARG);
    sm_se_desc sd = {8, 2, SM_DENSE_OI, w, NULL, w, NULL, SM_ACT_PRELU, "se"};
    sm_se *se;
    ck_assert_int_eq(sm_se_prepare(&sd, &se, &err), SM_ERR_UNSUPPORTED);
    const uint32_t sizes[2] = {5, 0};
    sm_mlp_desc md = {1, sizes, SM_DENSE_IO, NULL, NULL, SM_MLP_ACT_RELU, SM_MLP_ACT_LOGISTIC, SM_MLP_F64, "m"};
    sm_mlp *m;
    ck_assert_int_eq(sm_mlp_prepare(&md, &m, &err), SM_ERR_ARG);
    /* every _free accepts NULL */
    sm_conv2d_free(NULL); sm_dwconv_free(NULL); sm_dense_free(NULL); sm_se_free(NULL);
    sm_maxpool_free(NULL); sm_mlp_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, batchnorm_folded_matches_conv_then_bn, 0, SM_ISA_COUNT);
    tcase_add_loop_test(tc, weight_layouts_agree, 0, SM_ISA_COUNT);
    tcase_add_loop_test(tc, padded_batch_matches_per_image, 0, SM_ISA_COUNT);
    tcase_add_loop_test(tc, conv3x3_pair_matches_reference, 0, SM_ISA_COUNT);
    tcase_add_test(tc, conv3x3_pair_rejects);
    tcase_add_loop_test(tc, se_without_extra_passes, 0, SM_ISA_COUNT);
    tcase_add_loop_test(tc, pw_dw_fused_equals_unfused, 0, SM_ISA_COUNT);
    tcase_add_test(tc, same_padding_extents);
    tcase_add_loop_test(tc, dense_layouts_and_residual, 0, SM_ISA_COUNT);
    tcase_add_test(tc, mlp_f64_and_f32);
    tcase_add_test(tc, prepare_rejects_bad_descriptions);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

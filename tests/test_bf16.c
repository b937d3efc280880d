/* The BF16 path (engine/kernels/gemm/bf16-*): rounding against torch's
 * float32 -> bfloat16 conversion; the scalar reference kernel against a numpy
 * step-by-step vdpbf16ps GEMM (gen_bf16_refs.py); every BF16 kernel this CPU runs
 * against the scalar reference, bit for bit, over remainder shapes, activations
 * and residuals; each sm_conv2d path (pointwise, im2col, direct windows, SE-scaled,
 * channel slices) in BF16 against the FP32 reference conv on bf16-rounded
 * operands; and the whole NovelEmotionModel in BF16 against PyTorch's float32
 * forward within the documented BF16 tolerance (docs/PERFORMANCE.md).
 * The native AVX-512 BF16 kernel's source also runs everywhere under the software
 * model of vdpbf16ps (tests/simd_model), in both kernel tests. */
#include "kernels_common.h"

#include "emotion_effnet.h"
#include "gemm/bf16-gemm.h"
#include "npy.h"
#include "simd_model/sm_model_kernels.h"

static void setup(void) { sm_test_seed(1717); }

static float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

START_TEST(rounding_matches_torch)
{
    sm_npy in, out;
    sm_test_load_npy_f32("bf16/round_in.npy", &in);
    sm_error err;
    const char *p = sm_test_fixture("bf16/round_out.npy");
    ck_assert_msg(p, "fixture bf16/round_out.npy missing (tests/gen/gen_bf16_refs.py)");
    ck_assert_msg(sm_npy_load(p, &out, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(out.dtype, SM_DTYPE_I32);
    ck_assert_uint_eq(in.numel, out.numel);
    const float *x = in.data;
    const int32_t *ref = out.data;
    size_t nans = 0;
    for (size_t i = 0; i < in.numel; i++) {
        uint16_t got = sm_bf16_round(x[i]);
        if (isnan(x[i])) {
            /* torch makes every NaN 0x7FC0; the hardware keeps sign and payload: both a NaN */
            ck_assert_msg(isnan(sm_bf16_widen(got)) && isnan(sm_bf16_widen((uint16_t)ref[i])),
                          "value %zu: NaN must stay NaN (got 0x%04x)", i, got);
            nans++;
            continue;
        }
        ck_assert_msg(got == (uint16_t)ref[i], "value %zu (%.9g): got 0x%04x, torch 0x%04x", i, x[i], got,
                      (unsigned)ref[i]);
    }
    ck_assert_uint_ge(nans, 4);
    /* denormals: zero of the same sign (vdpbf16ps's DAZ), not torch's rounding */
    ck_assert_uint_eq(sm_bf16_round(f_of(0x00000001u)), 0x0000);
    ck_assert_uint_eq(sm_bf16_round(f_of(0x807fffffu)), 0x8000);
    sm_npy_free(&in);
    sm_npy_free(&out);
}
END_TEST

/* C = A * W^T + bias with one kernel, tile by tile, from a packed W. */
static void run_gemm(const sm_bf16_gemm_variant *v, const float *a, size_t m, size_t k, const uint16_t *packed,
                     size_t n, float *c, const sm_ukernel_params *base, const float *residual)
{
    const size_t panel = ((k + 1) / 2 + 1) * 2 * v->nr;
    for (size_t n0 = 0; n0 < n; n0 += v->nr) {
        size_t nc = n - n0 < v->nr ? n - n0 : v->nr;
        for (size_t m0 = 0; m0 < m; m0 += v->mr) {
            size_t mr = m - m0 < v->mr ? m - m0 : v->mr;
            sm_ukernel_params p = *base;
            if (p.alpha)
                p.alpha += n0;
            p.residual = residual ? residual + m0 * n + n0 : NULL;
            p.residual_stride = n;
            v->fn(mr, nc, k, a + m0 * k, k, packed + (n0 / v->nr) * panel, c + m0 * n + n0, n, &p);
        }
    }
}

static uint16_t *pack(const float *w, const float *bias, size_t n, size_t k, size_t nr)
{
    uint16_t *p = malloc(sm_bf16_packed_len(n, k, nr) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    sm_bf16_pack_gemm(w, bias, NULL, n, k, nr, p);
    return p;
}

/* sm_test_load_npy_f32 of the fixture named by fmt (two strings) */
static void load_f32(sm_npy *out, const char *fmt, const char *a, const char *b)
{
    char rel[256];
    snprintf(rel, sizeof rel, fmt, a, b);
    sm_test_load_npy_f32(rel, out);
}

/* The kernels under test: every variant this build and CPU run, then the native
 * AVX-512 BF16 kernel's source under the software model (tests/simd_model). */
static size_t bf16_kernels(const sm_bf16_gemm_variant **vs, size_t max)
{
    static const sm_bf16_gemm_variant model = SM_MODEL_BF16_GEMM;
    size_t n = sm_bf16_gemm_variants(vs, max - 1);
    vs[n++] = &model;
    return n;
}

/* Whether |d| (a kernel's output minus the reference's, element (i, j) of A * W^T +
 * bias (+ residual)) is within the bound of another FP32 summation order of the same
 * bf16 products: (k + 2) * 2^-23 * (|bias| + |res| + sum |a w|). */
static bool within_sum_bound(const float *a, const float *w, const float *bias, const float *res, size_t k,
                             size_t i, size_t j, double d)
{
    double s = fabs((double)bias[j]) + (res ? fabs((double)*res) : 0.0);
    for (size_t q = 0; q < k; q++)
        s += fabs((double)sm_bf16_quantize(a[i * k + q]) * sm_bf16_quantize(w[j * k + q]));
    return fabs(d) <= (double)(k + 2) * 0x1p-23 * s;
}

/* Why a kernel's GEMM bits differ from the reference's. The reference, numpy's
 * fixtures and the model follow Intel's pseudo-code; the native kernel on a real CPU
 * may meet a vdpbf16ps that computes otherwise: within the bound of a reordered sum
 * the kernel's data flow is right and the CPU's arithmetic differs (the bit-exact
 * claim must then go, docs/KERNELS.md), beyond it the kernel is wrong. */
static const char *bf16_why(const sm_bf16_gemm_variant *v, bool within)
{
    if (strstr(v->name, "(model)"))
        return "the kernel's source or the model of vdpbf16ps (tests/simd_model) is wrong";
    if (!v->native)
        return "a kernel bug (its arithmetic is the reference's by construction)";
    return within ? "this CPU's vdpbf16ps differs from Intel's SDM pseudo-code (odd pair first, two FMA "
                    "steps, DAZ/FTZ); the kernel's data flow is right (within a reordered FP32 sum)"
                  : "beyond any FP32 summation order: a kernel bug";
}

/* The native kernel on a real CPU is held to the data flow, not to the pseudo-code's
 * rounding: the pseudo-code is what the model, numpy's fixtures and the scalar
 * reference follow bit for bit (so a kernel slip that only reorders a sum is caught
 * there), while a CPU whose vdpbf16ps rounds its two steps otherwise is a fact about
 * that CPU, reported once per case and accepted when every element is within a
 * reordered FP32 sum of the same bf16 products. Anything else fails. */
static bool native_cpu_differs(const sm_bf16_gemm_variant *v, bool within, const char *what, double diff,
                               bool *noted)
{
    if (!v->native || strstr(v->name, "(model)") || !within)
        return false;
    if (!*noted)
        printf("  NOTE: %s on %s: this CPU's vdpbf16ps differs from Intel's SDM pseudo-code by up to %.3g, "
               "within a reordered FP32 sum (docs/KERNELS.md, the BF16 path)\n", v->name, what, diff);
    *noted = true;
    return true;
}

static const char *k_cases[] = {"m7_n19_k37", "m4_n8_k2", "m1_n1_k1", "m13_n40_k64", "m9_n33_k3"};

START_TEST(kernels_match_numpy_vdpbf16ps)
{
    const sm_bf16_gemm_variant *vs[5];
    size_t nv = bf16_kernels(vs, 5);
    for (size_t ci = 0; ci < sizeof k_cases / sizeof k_cases[0]; ci++) {
        sm_npy a, w, b, c;
        load_f32(&a, "bf16/gemm_%s_%s.npy", k_cases[ci], "a");
        load_f32(&w, "bf16/gemm_%s_%s.npy", k_cases[ci], "w");
        load_f32(&b, "bf16/gemm_%s_%s.npy", k_cases[ci], "bias");
        load_f32(&c, "bf16/gemm_%s_%s.npy", k_cases[ci], "c");
        size_t m = (size_t)a.dims[0], k = (size_t)a.dims[1], n = (size_t)w.dims[0];
        ck_assert_uint_eq(c.numel, m * n);
        float *got = zeros(m * n);
        sm_ukernel_params p = {SM_ACT_NONE, NULL, NULL, 0};
        size_t exact = nv;
        for (size_t vi = 0; vi < nv; vi++) {
            uint16_t *pk = pack(w.data, b.data, n, k, vs[vi]->nr);
            run_gemm(vs[vi], a.data, m, k, pk, n, got, &p, NULL);
            if (memcmp(got, c.data, m * n * sizeof(float))) {
                const float *cv = c.data;
                double diff = 0;
                bool within = true;
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < n; j++) {
                        double d = (double)got[i * n + j] - cv[i * n + j];
                        diff = fmax(diff, fabs(d));
                        within = within && within_sum_bound(a.data, w.data, b.data, NULL, k, i, j, d);
                    }
                bool noted = false;
                if (native_cpu_differs(vs[vi], within, k_cases[ci], diff, &noted)) {
                    exact--;
                    free(pk);
                    continue;
                }
                ck_abort_msg("%s on %s: not the bits of numpy's step-by-step vdpbf16ps (max |diff| %.3g): %s",
                             vs[vi]->name, k_cases[ci], diff, bf16_why(vs[vi], within));
            }
            free(pk);
        }
        printf("  %-12s %zu of %zu kernel(s) equal numpy's vdpbf16ps bit for bit\n", k_cases[ci], exact, nv);
        free(got);
        sm_npy_free(&a);
        sm_npy_free(&w);
        sm_npy_free(&b);
        sm_npy_free(&c);
    }
}
END_TEST

/* Every kernel = the scalar reference, bit for bit, with each activation and a
 * residual, over shapes hitting every row/column/k remainder of every tile. */
START_TEST(kernels_match_scalar_reference)
{
    const sm_bf16_gemm_variant *vs[5];
    size_t nv = bf16_kernels(vs, 5);
    const sm_bf16_gemm_variant *ref = sm_bf16_gemm_for(SM_ISA_SCALAR);
    ck_assert_str_eq(vs[0]->name, ref->name);
    const size_t ms[] = {1, 3, 4, 5, 8, 9, 17}, ns[] = {1, 7, 8, 9, 16, 17, 31, 33, 65}, ks[] = {1, 2, 3, 16, 27, 64};
    const sm_act acts[] = {SM_ACT_NONE, SM_ACT_RELU, SM_ACT_SILU, SM_ACT_SIGMOID, SM_ACT_PRELU};
    size_t checked = 0;
    for (size_t vi = 1; vi < nv; vi++)
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                    size_t m = ms[mi], n = ns[ni], k = ks[ki];
                    sm_act act = acts[(mi + ni + ki) % 5];
                    bool with_res = (mi + ki) % 2;
                    float *a = rnd(m * k, -2, 2), *w = rnd(n * k, -1, 1), *b = rnd(n, -1, 1);
                    float *alpha = rnd(n + 64, 0, 0.5f), *res = rnd(m * n, -1, 1);
                    float *c0 = zeros(m * n), *c1 = zeros(m * n);
                    sm_ukernel_params p = {act, act == SM_ACT_PRELU ? alpha : NULL, NULL, 0};
                    uint16_t *p0 = pack(w, b, n, k, ref->nr), *p1 = pack(w, b, n, k, vs[vi]->nr);
                    run_gemm(ref, a, m, k, p0, n, c0, &p, with_res ? res : NULL);
                    run_gemm(vs[vi], a, m, k, p1, n, c1, &p, with_res ? res : NULL);
                    bool noted = false;
                    for (size_t i = 0; i < m * n; i++) {
                        /* the GEMM sums are the same bits; the activations are the
                         * FP32 epilogue of each level (the FP32 kernels' tolerance) */
                        double d = fabs((double)c1[i] - c0[i]);
                        if (act == SM_ACT_NONE || act == SM_ACT_RELU || act == SM_ACT_PRELU) {
                            if (c1[i] == c0[i])
                                continue;
                            /* ReLU and PReLU (slopes < 1) never widen a difference, so the
                             * pre-activation bound holds after them too */
                            bool within = within_sum_bound(a, w, b, with_res ? res + i : NULL, k, i / n, i % n,
                                                           c1[i] - c0[i]);
                            char what[96];
                            snprintf(what, sizeof what, "m%zu n%zu k%zu %s", m, n, k, sm_act_name(act));
                            if (native_cpu_differs(vs[vi], within, what, d, &noted))
                                continue;
                            ck_abort_msg("%s m%zu n%zu k%zu %s: element %zu %.9g vs %.9g: %s", vs[vi]->name, m, n,
                                         k, sm_act_name(act), i, c1[i], c0[i], bf16_why(vs[vi], within));
                        } else
                            ck_assert_msg(d <= TOL_ABS + TOL_REL * fabs((double)c0[i]),
                                          "%s m%zu n%zu k%zu %s: element %zu %.9g vs %.9g", vs[vi]->name, m, n,
                                          k, sm_act_name(act), i, c1[i], c0[i]);
                    }
                    checked++;
                    free(a), free(w), free(b), free(alpha), free(res), free(c0), free(c1), free(p0), free(p1);
                }
    printf("  %zu BF16 kernel(s) besides the scalar reference, %zu shapes each\n", nv - 1,
           nv > 1 ? checked / (nv - 1) : 0);
    if (nv == 1)
        printf("  (only the scalar kernel runs on this CPU)\n");
}
END_TEST

START_TEST(packing_layout)
{
    /* w[o][k] = o*100 + k (exact in bf16 up to 256), bias o + 0.5 */
    const size_t n = 5, k = 5, nr = 4;
    float w[25], bias[5];
    for (size_t o = 0; o < n; o++) {
        bias[o] = (float)o + 0.5f;
        for (size_t i = 0; i < k; i++)
            w[o * k + i] = (float)(o * 10 + i);
    }
    uint16_t *p = pack(w, bias, n, k, nr);
    const size_t panel = (3 + 1) * 2 * nr;
    ck_assert_uint_eq(sm_bf16_packed_len(n, k, nr), 2 * panel);
    for (size_t o = 0; o < 8; o++) {
        const uint16_t *pp = p + (o / nr) * panel;
        float b;
        memcpy(&b, pp + 2 * (o % nr), sizeof b);
        ck_assert_float_eq(b, o < n ? bias[o] : 0.0f);
        for (size_t kp = 0; kp < 3; kp++)
            for (size_t t = 0; t < 2; t++) {
                size_t kk = 2 * kp + t;
                float want = o < n && kk < k ? w[o * k + kk] : 0.0f;
                ck_assert_float_eq(sm_bf16_widen(pp[(1 + kp) * 2 * nr + 2 * (o % nr) + t]), want);
            }
    }
    /* repacking FP32 panels with a scale = packing the scaled weights */
    float scale[5] = {0.5f, 1.5f, -2, 3.25f, 0.1f};
    float *f = sm_ops_pack_gemm(w, bias, n, k, nr);
    uint16_t *q = malloc(2 * panel * sizeof *q), *r = malloc(2 * panel * sizeof *r);
    sm_bf16_repack_panels(f, scale, k, nr, 0, 2, q);
    sm_bf16_pack_gemm(w, bias, scale, n, k, nr, r);
    for (size_t i = 0; i < 2 * panel; i++) /* values: padding may be -0 after a negative scale */
        if (i % panel < 2 * nr)
            ck_assert_uint_eq(q[i], r[i]); /* FP32 bias halves */
        else
            ck_assert_float_eq(sm_bf16_widen(q[i]), sm_bf16_widen(r[i]));
    sm_aligned_free(f);
    free(p), free(q), free(r);
}
END_TEST

/* out of the FP32 reference conv on operands rounded to bf16 */
static void ref_conv_bf16(const float *in, size_t h, size_t w, size_t ic, const float *wt, const float *bias,
                          size_t oc, size_t kh, size_t s, size_t pad, size_t oh, size_t ow, const float *res,
                          sm_act act, float *out)
{
    size_t ni = h * w * ic, nw = oc * ic * kh * kh;
    float *qi = malloc(ni * sizeof *qi), *qw = malloc(nw * sizeof *qw);
    for (size_t i = 0; i < ni; i++)
        qi[i] = sm_bf16_quantize(in[i]);
    for (size_t i = 0; i < nw; i++)
        qw[i] = sm_bf16_quantize(wt[i]);
    sm_ref_conv2d(qi, h, w, ic, qw, bias, oc, 1, kh, kh, s, s, pad, pad, oh, ow, res, act, NULL, out);
    free(qi), free(qw);
}

static sm_conv2d *prep(size_t ic, size_t oc, size_t k, size_t s, size_t pad, const float *w, const float *b,
                       sm_act act, sm_precision prec)
{
    sm_conv_desc d = {0};
    d.in_ch = (uint32_t)ic;
    d.out_ch = (uint32_t)oc;
    d.kh = d.kw = (uint32_t)k;
    d.stride_h = d.stride_w = (uint32_t)s;
    d.pad = sm_padding_sym((uint32_t)pad);
    d.layout = SM_WLAYOUT_OIHW;
    d.weights = w;
    d.bias = b;
    d.act = act;
    d.name = "bf16 test conv";
    d.precision = prec;
    sm_conv2d *op;
    sm_error err;
    ck_assert_msg(sm_conv2d_prepare(&d, &op, &err) == SM_OK, "%s", err.msg);
    return op;
}

static const sm_isa k_levels[] = {SM_ISA_SCALAR, SM_ISA_AVX2, SM_ISA_AVX512, SM_ISA_NEON};

START_TEST(conv_paths_in_bf16)
{
    sm_isa cap = sm_isa_active();
    sm_isa isa = k_levels[_i];
    if (!sm_kernels_for(isa) || (getenv("SM_ISA") && isa > cap) || !sm_isa_force(isa))
        return;
    sm_threadpool *pool;
    sm_error err;
    ck_assert(sm_threadpool_init(&pool, 2, &err) == SM_OK);
    const struct { size_t ic, oc, k, s, pad, h, w; } cs[] = {
        {37, 45, 1, 1, 0, 9, 11}, {16, 17, 1, 1, 0, 20, 20}, {3, 24, 3, 2, 1, 13, 15},
        {5, 33, 5, 2, 2, 12, 9},  {8, 40, 3, 1, 1, 7, 7},
    };
    for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++) {
        size_t ic = cs[ci].ic, oc = cs[ci].oc, k = cs[ci].k, s = cs[ci].s, pad = cs[ci].pad, h = cs[ci].h,
               w = cs[ci].w;
        size_t oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
        float *in = rnd(h * w * ic, -2, 2), *wt = rnd(oc * ic * k * k, -0.5f, 0.5f), *b = rnd(oc, -1, 1);
        float *res = rnd(oh * ow * oc, -1, 1), *ref = zeros(oh * ow * oc), *got = zeros(oh * ow * oc);
        sm_act act = ci % 2 ? SM_ACT_SILU : SM_ACT_RELU;
        sm_conv2d *op = prep(ic, oc, k, s, pad, wt, b, act, SM_PRECISION_BF16);
        ck_assert_msg(strstr(sm_conv2d_kernel_name(op), "bf16"), "kernel %s", sm_conv2d_kernel_name(op));
        char what[128];
        snprintf(what, sizeof what, "%s conv %zux%zu s%zu %zu->%zu", sm_isa_name(isa), k, k, s, ic, oc);
        ref_conv_bf16(in, h, w, ic, wt, b, oc, k, s, pad, oh, ow, res, act, ref);
        for (int t = 0; t < 2; t++) {
            sm_conv2d_run(op, in, h, w, res, got, t ? pool : NULL);
            expect_close(got, ref, oh * ow * oc, what);
        }
        if (k == 1) {
            /* SE gate folded into the BF16 weights: = the conv of the scaled input */
            float *scale = rnd(ic, 0, 1), *xs = zeros(h * w * ic);
            float *scratch = zeros(sm_conv2d_scaled_scratch_floats(op));
            for (size_t i = 0; i < h * w * ic; i++)
                xs[i] = in[i] * scale[i % ic];
            /* one rounding of w*scale: the reference rounds the scaled weights */
            float *ws = zeros(oc * ic), *ones = zeros(h * w * ic);
            for (size_t o = 0; o < oc; o++)
                for (size_t i = 0; i < ic; i++)
                    ws[o * ic + i] = wt[o * ic + i] * scale[i];
            ref_conv_bf16(in, h, w, ic, ws, b, oc, 1, 1, 0, h, w, NULL, act, ref);
            sm_conv2d_run_scaled(op, in, h, w, scale, NULL, got, scratch, pool);
            expect_close(got, ref, h * w * oc, "scaled");
            /* channel slices (the streamed pw -> dw path) */
            size_t unit = sm_conv2d_slice_unit(op);
            ck_assert_uint_gt(unit, 0);
            ref_conv_bf16(in, h, w, ic, wt, b, oc, 1, 1, 0, h, w, NULL, SM_ACT_NONE, ref);
            sm_conv2d_free(op);
            op = prep(ic, oc, k, s, pad, wt, b, SM_ACT_NONE, SM_PRECISION_BF16);
            for (size_t n0 = 0; n0 < oc; n0 += unit) {
                size_t n1 = n0 + unit < oc ? n0 + unit : oc;
                sm_conv2d_pointwise_slice(op, in, h * w, n0, n1, got + n0, oc);
            }
            expect_close(got, ref, h * w * oc, "slices");
            free(scale), free(xs), free(scratch), free(ws), free(ones);
        } else if (!pad) {
            (void)0;
        } else {
            /* windows over a zero-bordered image: the caller's padding */
            size_t ph = h + 2 * pad, pw = w + 2 * pad;
            float *padded = zeros(ph * pw * ic);
            for (size_t y = 0; y < h; y++)
                memcpy(padded + ((y + pad) * pw + pad) * ic, in + y * w * ic, w * ic * sizeof(float));
            sm_conv2d *vop = prep(ic, oc, k, s, 0, wt, b, act, SM_PRECISION_BF16);
            size_t cnt = sm_conv2d_raster_windows(vop, ph, pw, NULL);
            ck_assert_uint_eq(cnt, oh * ow);
            size_t *win = malloc(cnt * sizeof *win);
            sm_conv2d_raster_windows(vop, ph, pw, win);
            ref_conv_bf16(in, h, w, ic, wt, b, oc, k, s, pad, oh, ow, NULL, act, ref);
            sm_conv2d_run_windows(vop, padded, 1, 0, win, cnt, pw * ic, got, pool);
            expect_close(got, ref, oh * ow * oc, "windows");
            sm_conv2d_free(vop);
            free(padded), free(win);
        }
        sm_conv2d_free(op);
        free(in), free(wt), free(b), free(res), free(ref), free(got);
    }
    /* FP32 is untouched by the BF16 code: a description asking FP32 gets an FP32 kernel */
    float wt[4 * 4] = {0}, b[4] = {0};
    sm_conv2d *op = prep(4, 4, 1, 1, 0, wt, b, SM_ACT_NONE, SM_PRECISION_FP32);
    ck_assert_msg(!strstr(sm_conv2d_kernel_name(op), "bf16"), "%s", sm_conv2d_kernel_name(op));
    sm_conv2d_free(op);
    sm_threadpool_free(pool);
    sm_isa_force(cap);
}
END_TEST

/* issue 17's per-model default, over every combination: the user's explicit
 * choice always wins (BF16 even where only emulated: asked for); without one,
 * BF16 only for a model that met the accuracy bar on a CPU with native BF16. */
START_TEST(precision_rule)
{
    static const sm_precision users[] = {SM_PRECISION_DEFAULT, SM_PRECISION_FP32, SM_PRECISION_BF16};
    for (int u = 0; u < 3; u++)
        for (int q = 0; q < 2; q++)
            for (int nat = 0; nat < 2; nat++) {
                sm_precision got = sm_precision_choose(users[u], q, nat);
                sm_precision want = users[u] != SM_PRECISION_DEFAULT ? users[u]
                                    : q && nat                       ? SM_PRECISION_BF16
                                                                     : SM_PRECISION_FP32;
                ck_assert_msg(got == want, "user %s, qualifies %d, native %d: %s, want %s",
                              sm_precision_name(users[u]), q, nat, sm_precision_name(got), sm_precision_name(want));
            }
    /* the table written out, so a slip in the expression above cannot hide one in the rule */
    ck_assert_int_eq(sm_precision_choose(SM_PRECISION_DEFAULT, true, true), SM_PRECISION_BF16);
    ck_assert_int_eq(sm_precision_choose(SM_PRECISION_DEFAULT, true, false), SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_choose(SM_PRECISION_DEFAULT, false, true), SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_choose(SM_PRECISION_FP32, true, true), SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_choose(SM_PRECISION_BF16, false, false), SM_PRECISION_BF16);
    /* the user's choice against the process-wide precision: forcing one sets both;
     * forcing DEFAULT forgets the choice (the environment's too) and leaves FP32 */
    sm_precision keep = sm_precision_user();
    sm_precision_force(SM_PRECISION_BF16);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_BF16);
    ck_assert_int_eq(sm_precision_active(), SM_PRECISION_BF16);
    sm_precision_force(SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_active(), SM_PRECISION_FP32);
    sm_precision_force(SM_PRECISION_DEFAULT);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_DEFAULT);
    ck_assert_int_eq(sm_precision_active(), SM_PRECISION_FP32);
    sm_precision_force(keep);
    ck_assert_int_eq(sm_precision_user(), keep);
}
END_TEST

START_TEST(precision_names)
{
    sm_precision p;
    ck_assert(sm_precision_parse("bf16", &p) && p == SM_PRECISION_BF16);
    ck_assert(sm_precision_parse("fp32", &p) && p == SM_PRECISION_FP32);
    ck_assert(!sm_precision_parse("fp16", &p));
    ck_assert_str_eq(sm_precision_name(SM_PRECISION_BF16), "bf16");
    /* the programs' --precision: taken out of argv, the last one applied */
    /* the user's choice is saved and put back (not sm_precision_active(): forcing
     * that back would turn "nobody chose" into an explicit FP32) */
    sm_precision keep = sm_precision_user();
    char a0[] = "prog", a1[] = "--precision", a2[] = "bf16", a3[] = "x.smw", a4[] = "--precision=fp32", a5[] = "--json";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    int argc = 6;
    sm_error err;
    ck_assert_int_eq(sm_precision_take_arg(&argc, argv, &err), SM_OK);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[1], "x.smw");
    ck_assert_str_eq(argv[2], "--json");
    ck_assert_ptr_null(argv[3]);
    ck_assert_int_eq(sm_precision_active(), SM_PRECISION_FP32);
    ck_assert_int_eq(sm_precision_user(), SM_PRECISION_FP32); /* an explicit choice now */
    char b1[] = "--precision", b2[] = "int8";
    char *bad[] = {a0, b1, b2, NULL};
    argc = 3;
    ck_assert_int_eq(sm_precision_take_arg(&argc, bad, &err), SM_ERR_ARG);
    ck_assert_int_eq(argc, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "int8"));
    char *missing[] = {a0, b1, NULL};
    argc = 2;
    ck_assert_int_eq(sm_precision_take_arg(&argc, missing, &err), SM_ERR_ARG);
    sm_precision_force(keep);
    /* the native kernel is never chosen on a CPU without avx512_bf16 */
    for (int i = 0; i < SM_ISA_COUNT; i++)
        if (sm_bf16_gemm_for((sm_isa)i)->native)
            ck_assert(sm_cpu_get()->avx512_bf16);
}
END_TEST

/* The whole NovelEmotionModel (seeded random weights from PyTorch, the test_emotion
 * fixture) with every GEMM conv in BF16, against PyTorch's float32 forward:
 * features cosine >= BF16_COS and logits within BF16_LOGIT_REL x max|logit|
 * (docs/PERFORMANCE.md, BF16 section, has the measured values). */
#define BF16_COS 0.999
#define BF16_LOGIT_REL 0.03

static char emo_smw[4200], emo_msg[4096];

static void convert_emotion(void)
{
    const char *pth = sm_test_fixture("emotion_ref/emotion_rand.pth");
    if (pth)
        sm_test_convert(pth, "emotion.smw", emo_smw, sizeof emo_smw, emo_msg, sizeof emo_msg);
}

START_TEST(emotion_model_bf16_vs_pytorch)
{
    ck_assert_msg(sm_test_fixture("emotion_ref/emotion_rand.pth"),
                  "fixture emotion_ref/emotion_rand.pth missing (tests/gen/gen_seed_refs.py)");
    ck_assert_msg(emo_smw[0], "smw-convert failed: %s", emo_msg);
    sm_precision keep = sm_precision_user();
    sm_emotion *m[2];
    sm_error err;
    for (int i = 0; i < 2; i++) {
        sm_precision_force(i ? SM_PRECISION_BF16 : SM_PRECISION_FP32);
        ck_assert_msg(sm_emotion_load_file(emo_smw, NULL, &m[i], &err) == SM_OK, "%s", err.msg);
    }
    sm_precision_force(keep);
    /* SM_TEST_QUICK (emulators, where the scalar BF16 reference takes minutes at
     * 300x300): the same face at 112 */
    const char *cases[] = {"face300", "pattern300"};
    size_t n_cases = SM_TEST_UNDER_ASAN ? 1 : 2;
    if (sm_test_quick())
        cases[0] = "face112", n_cases = 1;
    sm_emotion_output *o = malloc(2 * sizeof *o);
    for (size_t ci = 0; ci < n_cases; ci++) {
        sm_npy in, logits, feats;
        load_f32(&in, "emotion_ref/%s/%s.npy", cases[ci], "input");
        load_f32(&logits, "emotion_ref/%s/%s.npy", cases[ci], "logits");
        load_f32(&feats, "emotion_ref/%s/%s.npy", cases[ci], "features");
        ck_assert_uint_eq(logits.numel, 8);
        ck_assert_uint_eq(feats.numel, SM_EMOTION_FEATURES);
        size_t h = (size_t)in.dims[2], w = (size_t)in.dims[3], hw = h * w;
        float *x = malloc(hw * 3 * sizeof *x);
        for (size_t c = 0; c < 3; c++)
            for (size_t p = 0; p < hw; p++)
                x[p * 3 + c] = ((const float *)in.data)[c * hw + p];
        double lerr[2], lmax = 0, fcos[2];
        const float *lr = logits.data;
        for (size_t j = 0; j < 8; j++)
            lmax = fmax(lmax, fabs((double)lr[j]));
        for (int i = 0; i < 2; i++) {
            ck_assert_msg(sm_emotion_reserve(m[i], h, w, &err) == SM_OK, "%s", err.msg);
            ck_assert_msg(sm_emotion_run(m[i], x, h, w, &o[i], &err) == SM_OK, "%s", err.msg);
            lerr[i] = 0;
            for (size_t j = 0; j < 8; j++)
                lerr[i] = fmax(lerr[i], fabs((double)o[i].logits[j] - lr[j]) / lmax);
            fcos[i] = sm_test_cosine(o[i].features, feats.data, SM_EMOTION_FEATURES);
        }
        printf("  %-10s vs PyTorch float32: fp32 logits %.2e x max|logit|, features cos %.8f; "
               "bf16 logits %.2e, features cos %.6f\n", cases[ci], lerr[0], fcos[0], lerr[1], fcos[1]);
        ck_assert_msg(fcos[1] >= BF16_COS, "%s bf16 features cosine %.6f < %.3f", cases[ci], fcos[1], BF16_COS);
        ck_assert_msg(lerr[1] <= BF16_LOGIT_REL, "%s bf16 logits: max error %.3g x max|logit| > %.2g", cases[ci],
                      lerr[1], BF16_LOGIT_REL);
        /* and it is a BF16 result: not the FP32 bits */
        ck_assert_msg(memcmp(o[0].logits, o[1].logits, sizeof o[0].logits), "bf16 gave the fp32 logits");
        free(x);
        sm_npy_free(&in), sm_npy_free(&logits), sm_npy_free(&feats);
    }
    free(o);
    sm_emotion_free(m[0]);
    sm_emotion_free(m[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bf16");
    TCase *tc = tcase_create("bf16");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_unchecked_fixture(tc, convert_emotion, NULL);
    tcase_add_test(tc, rounding_matches_torch);
    tcase_add_test(tc, packing_layout);
    tcase_add_test(tc, kernels_match_numpy_vdpbf16ps);
    tcase_add_test(tc, kernels_match_scalar_reference);
    tcase_add_loop_test(tc, conv_paths_in_bf16, 0, 4);
    tcase_add_test(tc, precision_rule);
    tcase_add_test(tc, precision_names);
    tcase_add_test(tc, emotion_model_bf16_vs_pytorch);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

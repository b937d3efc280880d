/* The software model of the AVX-512 intrinsics (tests/simd_model/immintrin.h) that
 * test_ukernels and test_bf16 run the AVX-512 kernels' sources on: each modelled
 * intrinsic against hand-computed cases where its documented semantics decide the
 * bits (one rounding of an FMA, MAXPS's second operand, ties to even, scalef's
 * rounding of tiny results, the reduction tree, rcp14's error bound, masked lanes
 * untouched), and vdpbf16ps step by step: the odd pair first (a case whose result
 * tells the two orders apart), DAZ of the bf16 operands and of the accumulator,
 * FTZ of tiny results with tininess detected after rounding. The last test runs the
 * scalar reference BF16 kernel and the modelled native kernel on GEMMs built to hit
 * those rules. Every expected value is worked out in the comments, not taken from
 * the model. On x86 with AVX2, model_vs_avx2 compares the modelled operations that
 * AVX2/FMA also has with the real instructions, lane by lane, bit for bit. */
#include "kernels_common.h"

#include "simd_model/immintrin.h"
#include "simd_model/sm_model_kernels.h"

static float f_of(uint32_t u) { return sm_model_float(u); }
static uint32_t bits_of(float x) { return sm_model_bits(x); }

static __m512 lanes(const float *x)
{
    return _mm512_loadu_ps(x);
}

/* lane 0 of a one-lane dpbf16 step: acc + a.hi*b.hi, then + a.lo*b.lo */
static float dp1(float acc, uint16_t a_lo, uint16_t a_hi, uint16_t b_lo, uint16_t b_hi)
{
    __m512 r = _mm512_dpbf16_ps(_mm512_set1_ps(acc), (__m512bh)_mm512_set1_epi32((int)((uint32_t)a_hi << 16 | a_lo)),
                                (__m512bh)_mm512_set1_epi32((int)((uint32_t)b_hi << 16 | b_lo)));
    for (int i = 1; i < 16; i++)
        ck_assert_uint_eq(bits_of(r[i]), bits_of(r[0]));
    return r[0];
}

START_TEST(fma_and_minmax)
{
    /* (1 + 2^-12)(1 - 2^-12) - 1 = -2^-24 exactly: fused; a rounded product gives 0 */
    __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(1.0f + 0x1p-12f), _mm512_set1_ps(1.0f - 0x1p-12f), _mm512_set1_ps(-1.0f));
    ck_assert_float_eq(r[3], -0x1p-24f);
    r = _mm512_fnmadd_ps(_mm512_set1_ps(1.0f + 0x1p-12f), _mm512_set1_ps(1.0f - 0x1p-12f), _mm512_set1_ps(1.0f));
    ck_assert_float_eq(r[3], 0x1p-24f);
    /* MAXPS/MINPS: the second operand when either is NaN or both are zeros */
    float a[16] = {0.0f, -0.0f, NAN, 1.0f, 2.0f, -3.0f}, b[16] = {-0.0f, 0.0f, 1.0f, NAN, 1.0f, -2.0f};
    __m512 mx = _mm512_max_ps(lanes(a), lanes(b)), mn = _mm512_min_ps(lanes(a), lanes(b));
    ck_assert_uint_eq(bits_of(mx[0]), 0x80000000u);
    ck_assert_uint_eq(bits_of(mx[1]), 0x00000000u);
    ck_assert_float_eq(mx[2], 1.0f);
    ck_assert(isnan(mx[3]));
    ck_assert_float_eq(mx[4], 2.0f);
    ck_assert_float_eq(mn[5], -3.0f);
    ck_assert_uint_eq(bits_of(mn[0]), 0x80000000u);
    ck_assert(isnan(mn[3]) && mn[2] == 1.0f);
    /* abs clears the sign bit only; the ordered less-than is false on NaN */
    ck_assert_uint_eq(bits_of(_mm512_abs_ps(_mm512_set1_ps(-0.0f))[7]), 0u);
    __mmask16 k = _mm512_cmp_ps_mask(lanes(a), _mm512_setzero_ps(), _CMP_LT_OQ);
    ck_assert_uint_eq(k, 1u << 5); /* only -3 < 0: -0 < 0 is false, NaN is unordered */
    __m512 bl = _mm512_mask_blend_ps(0x0005, _mm512_set1_ps(1.0f), _mm512_set1_ps(2.0f));
    ck_assert(bl[0] == 2.0f && bl[1] == 1.0f && bl[2] == 2.0f && bl[15] == 1.0f);
}
END_TEST

START_TEST(rounding_scaling_reduction)
{
    const int rne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    float x[16] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 0.49999997f, 8388607.5f, 1e10f, -2.5f, 3.7f};
    __m512 r = _mm512_roundscale_ps(lanes(x), rne);
    const float want[10] = {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 0.0f, 8388608.0f, 1e10f, -2.0f, 4.0f};
    for (int i = 0; i < 10; i++)
        ck_assert_msg(bits_of(r[i]) == bits_of(want[i]), "roundscale lane %d: %.9g", i, r[i]);
    /* scalef = a * 2^floor(b), one rounding: 3 * 2^-150 = 1.5 denormal ulps -> 2 ulps
     * (tie to even); 1 * 2^-150 = half an ulp -> 0 (tie to even); b = -0.5 -> 2^-1 */
    float sa[16] = {1.5f, 3.0f, 1.0f, 5.0f, 1.0f, 0.0f, INFINITY, -2.0f};
    float sb[16] = {2.7f, -150.0f, -150.0f, -0.5f, INFINITY, INFINITY, -INFINITY, -INFINITY};
    __m512 s = _mm512_scalef_ps(lanes(sa), lanes(sb));
    ck_assert_float_eq(s[0], 6.0f);
    ck_assert_uint_eq(bits_of(s[1]), 2u);
    ck_assert_uint_eq(bits_of(s[2]), 0u);
    ck_assert_float_eq(s[3], 2.5f);
    ck_assert(isinf(s[4]) && s[4] > 0);
    ck_assert(isnan(s[5]) && isnan(s[6]));
    ck_assert_uint_eq(bits_of(s[7]), 0x80000000u);
    /* the reduction tree: lane i + lane i+8 first. 1e8 and -1e8 cancel in the first
     * level, so the fourteen ones survive (14); a left-to-right sum loses the seven
     * ones added to 1e8 (its ulp is 8) and gives 7 */
    float t[16];
    for (int i = 0; i < 16; i++)
        t[i] = 1.0f;
    t[0] = 1e8f;
    t[8] = -1e8f;
    ck_assert_float_eq(_mm512_reduce_add_ps(lanes(t)), 14.0f);
    /* rcp14: within 2^-14 relative, using most of it; the specials */
    double worst = 0;
    for (int i = 0; i < 2000; i++) {
        float v = (float)(0.37 + i * 1.3e-3) * (i % 2 ? -1.0f : 1.0f);
        float q = _mm512_rcp14_ps(_mm512_set1_ps(v))[0];
        double rel = fabs((double)q * v - 1.0);
        ck_assert_msg(rel < 0x1p-14, "rcp14(%.9g) = %.9g: relative error %.3g", v, q, rel);
        worst = fmax(worst, rel);
    }
    ck_assert(worst > 0x1p-15);
    __m512 rz = _mm512_rcp14_ps(_mm512_set1_ps(-0.0f)), ri = _mm512_rcp14_ps(_mm512_set1_ps(INFINITY));
    ck_assert(isinf(rz[0]) && rz[0] < 0 && ri[0] == 0.0f);
}
END_TEST

/* The masked lanes of a load are zero and never read: the buffer ends at n (ASan
 * builds catch a read past it); a masked store leaves the rest untouched. */
START_TEST(masked_lanes)
{
    for (unsigned n = 1; n < 16; n++) {
        float *p = malloc(n * sizeof *p), out[16];
        for (unsigned i = 0; i < n; i++)
            p[i] = (float)(i + 1);
        __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
        for (unsigned i = 0; i < 16; i++)
            ck_assert_float_eq(v[i], i < n ? (float)(i + 1) : 0.0f);
        for (unsigned i = 0; i < 16; i++)
            out[i] = -1.0f;
        _mm512_mask_storeu_ps(out, (__mmask16)((1u << n) - 1u), _mm512_set1_ps(5.0f));
        for (unsigned i = 0; i < 16; i++)
            ck_assert_float_eq(out[i], i < n ? 5.0f : -1.0f);
        _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
        free(p);
    }
}
END_TEST

/* bfloat16 bit patterns used below: 0x3f80 = 1, 0xbf80 = -1, 0x3980 = 2^-12,
 * 0x1f80 = 2^-64, 0x9f80 = -2^-64, 0x1980 = 2^-76, 0x9980 = -2^-76, 0x1a00 = 2^-75,
 * 0x99c0 = -1.5 * 2^-76, 0x2080 = 2^-62, 0x2000 = 2^-63, 0x7f00 = 2^127, 0x0001 = a
 * bf16 denormal. */
START_TEST(dpbf16_steps)
{
    /* order: acc 1, odd pair -1 * 1, even pair 2^-12 * 2^-12 = 2^-24.
     * odd first (SDM): 1 - 1 = 0, then 0 + 2^-24 = 2^-24.
     * even first:      1 + 2^-24 = 1 (tie to even), then 1 - 1 = 0. */
    ck_assert_uint_eq(bits_of(dp1(1.0f, 0x3980, 0xbf80, 0x3980, 0x3f80)), 0x33800000u);
    /* and with the pairs exchanged the other order's result appears: 0 */
    ck_assert_uint_eq(bits_of(dp1(1.0f, 0xbf80, 0x3980, 0x3f80, 0x3980)), 0u);
    /* DAZ on the bf16 operands: denormal * 2^127 reads as 0 * 2^127 */
    ck_assert_uint_eq(bits_of(dp1(0.0f, 0x0001, 0, 0x7f00, 0)), 0u);
    /* DAZ on the accumulator: 2^-130 (denormal) + 2^-62 * 2^-63 = 0 + 2^-125 (0x01000000),
     * not 2^-125 + 2^-130 (0x01040000) */
    ck_assert_uint_eq(bits_of(dp1(f_of(0x00080000u), 0, 0x2080, 0, 0x2000)), 0x01000000u);
    /* FTZ: 2^-64 * 2^-64 = 2^-128 is denormal: +0; the negative product in the last
     * (even) step gives -0 (in the odd step its -0 would meet + 0*0: +0) */
    ck_assert_uint_eq(bits_of(dp1(0.0f, 0, 0x1f80, 0, 0x1f80)), 0u);
    ck_assert_uint_eq(bits_of(dp1(0.0f, 0x9f80, 0, 0x1f80, 0)), 0x80000000u);
    ck_assert_uint_eq(bits_of(dp1(0.0f, 0, 0x9f80, 0, 0x1f80)), 0u);
    /* tininess after rounding, at FLT_MIN = 2^-126 (24-bit grid below it: 2^-150):
     * 2^-126 - 1.5 * 2^-151 rounds (24 bits, unbounded exponent) to 2^-126 - 2^-150:
     * tiny, flushed to +0, though rounding to the denormal grid gives FLT_MIN;
     * 2^-126 - 2^-152 rounds to 2^-126: kept; 2^-126 - 2^-151, the tie: to even,
     * 2^-126, kept. */
    ck_assert_uint_eq(bits_of(dp1(FLT_MIN, 0, 0x99c0, 0, 0x1a00)), 0u);
    ck_assert_uint_eq(bits_of(dp1(FLT_MIN, 0, 0x9980, 0, 0x1980)), bits_of(FLT_MIN));
    ck_assert_uint_eq(bits_of(dp1(FLT_MIN, 0, 0x9980, 0, 0x1a00)), bits_of(FLT_MIN));
    /* a flushed first step is the second step's zero accumulator: 2^-128 -> 0, then + 1*1 */
    ck_assert_float_eq(dp1(0.0f, 0x3f80, 0x1f80, 0x3f80, 0x1f80), 1.0f);
    /* lanes are independent: lane i's pair meets only lane i's accumulator */
    float acc[16];
    uint32_t ap[16], bp[16];
    for (int i = 0; i < 16; i++) {
        acc[i] = (float)i;
        ap[i] = 0x3f80u << 16 | 0x4000u; /* hi 1, lo 2 */
        bp[i] = (uint32_t)(0x3f80 + (i << 7)) << 16 | 0x3f80u; /* hi 2^i, lo 1 */
    }
    __m512bh av, bv;
    memcpy(&av, ap, sizeof av);
    memcpy(&bv, bp, sizeof bv);
    __m512 r = _mm512_dpbf16_ps(lanes(acc), av, bv);
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(r[i], (float)i + ldexpf(1.0f, i) + 2.0f);
}
END_TEST

/* The scalar reference kernel and the modelled native kernel on 1x1 GEMMs (k = 2,
 * bias = the accumulator) built to hit each rule above: both must give the worked
 * value. */
START_TEST(reference_kernel_edges)
{
    const sm_bf16_gemm_variant *ref = sm_bf16_gemm_for(SM_ISA_SCALAR);
    static const sm_bf16_gemm_variant model = SM_MODEL_BF16_GEMM;
    const sm_bf16_gemm_variant *vs[2] = {ref, &model};
    const struct {
        const char *what;
        float bias, a_even, a_odd, w_even, w_odd;
        uint32_t want;
    } cs[] = {
        {"odd pair first", 1.0f, 0x1p-12f, -1.0f, 0x1p-12f, 1.0f, 0x33800000u},
        {"DAZ of the bias", f_of(0x00080000u), 0.0f, 0x1p-62f, 0.0f, 0x1p-63f, 0x01000000u},
        /* 2^-64 * 2^-64 = 2^-128 flushed, then + 2^-64 * 2^-62: FLT_MIN, not 1.25 FLT_MIN */
        {"FTZ of a denormal step", 0.0f, 0x1p-64f, 0x1p-64f, 0x1p-62f, 0x1p-64f, 0x00800000u},
        {"tiny after rounding", FLT_MIN, 0.0f, -1.5f * 0x1p-76f, 0.0f, 0x1p-75f, 0u},
        {"FLT_MIN kept at the tie", FLT_MIN, 0.0f, -0x1p-76f, 0.0f, 0x1p-75f, 0x00800000u},
    };
    sm_ukernel_params p = {SM_ACT_NONE, NULL, NULL, 0};
    for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++)
        for (int vi = 0; vi < 2; vi++) {
            float a[2] = {cs[ci].a_even, cs[ci].a_odd}, w[2] = {cs[ci].w_even, cs[ci].w_odd}, c = -7.0f;
            uint16_t *pk = malloc(sm_bf16_packed_len(1, 2, vs[vi]->nr) * sizeof *pk);
            ck_assert_ptr_nonnull(pk);
            sm_bf16_pack_gemm(w, &cs[ci].bias, NULL, 1, 2, vs[vi]->nr, pk);
            vs[vi]->fn(1, 1, 2, a, 2, pk, &c, 1, &p);
            ck_assert_msg(bits_of(c) == cs[ci].want, "%s, %s: got %a (0x%08x), vdpbf16ps gives %a", vs[vi]->name,
                          cs[ci].what, c, bits_of(c), f_of(cs[ci].want));
            free(pk);
        }
}
END_TEST

#ifdef SM_MODEL_CHECK_AVX2
#include "simd_model/check-avx2.h"

/* A float from a wide spread of magnitudes and the values where rules decide the
 * bits: signed zeros, halves (ties of rounding), denormals, infinities, NaN. */
static float spread(size_t i)
{
    static const float special[] = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 1e-40f, -1e-40f, FLT_MIN,
                                    INFINITY, -INFINITY, NAN, 8388607.5f, 1.0f, -1.0f};
    if (i % 5 == 0)
        return special[(i / 5) % (sizeof special / sizeof *special)];
    return sm_test_uniform(-1, 1) * ldexpf(1.0f, (int)(i * 7919 % 61) - 30);
}

static bool same(float x, float y) { return bits_of(x) == bits_of(y) || (isnan(x) && isnan(y)); }

/* The model's 512-bit intrinsics against the real AVX2/FMA instructions doing the
 * same per-lane operation (check-avx2.c): every lane's bits equal. */
START_TEST(model_vs_avx2)
{
    if (!sm_isa_supported(SM_ISA_AVX2)) {
        sm_test_skip("model_vs_avx2", "no AVX2 on this CPU");
        return;
    }
    enum { N = 4096 };
    static float a[N], b[N], c[N], hw[N];
    for (size_t i = 0; i < N; i++) {
        a[i] = spread(i);
        b[i] = spread(i * 3 + 1);
        c[i] = spread(i * 5 + 2);
    }
    static const char *names[SM_AVX2_OPS] = {"add", "sub", "mul", "div", "max", "min", "fmadd", "fnmadd",
                                             "roundscale", "abs", "cmp_lt+blend"};
    for (int op = 0; op < SM_AVX2_OPS; op++) {
        sm_avx2_check_binary((sm_avx2_check_op)op, a, b, c, hw, N);
        for (size_t i = 0; i < N; i += 16) {
            __m512 x = lanes(a + i), y = lanes(b + i), z = lanes(c + i), r;
            switch (op) {
            case SM_AVX2_ADD: r = _mm512_add_ps(x, y); break;
            case SM_AVX2_SUB: r = _mm512_sub_ps(x, y); break;
            case SM_AVX2_MUL: r = _mm512_mul_ps(x, y); break;
            case SM_AVX2_DIV: r = _mm512_div_ps(x, y); break;
            case SM_AVX2_MAX: r = _mm512_max_ps(x, y); break;
            case SM_AVX2_MIN: r = _mm512_min_ps(x, y); break;
            case SM_AVX2_FMADD: r = _mm512_fmadd_ps(x, y, z); break;
            case SM_AVX2_FNMADD: r = _mm512_fnmadd_ps(x, y, z); break;
            case SM_AVX2_ROUND: r = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); break;
            case SM_AVX2_ABS: r = _mm512_abs_ps(x); break;
            default: r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), y, z); break;
            }
            for (int l = 0; l < 16; l++)
                ck_assert_msg(same(r[l], hw[i + l]), "%s(%a, %a, %a): model %a, AVX2 %a", names[op], a[i + l],
                              b[i + l], c[i + l], r[l], hw[i + l]);
        }
    }
    for (size_t i = 0; i + 16 <= N; i += 16) {
        float hr = sm_avx2_check_reduce16(a + i), mr = _mm512_reduce_add_ps(lanes(a + i));
        ck_assert_msg(same(mr, hr), "reduce_add at %zu: model %a, AVX %a", i, mr, hr);
    }
}
END_TEST
#else
START_TEST(model_vs_avx2) { sm_test_skip("model_vs_avx2", "no AVX2 on this architecture"); }
END_TEST
#endif

int main(void)
{
    sm_test_seed(512);
    Suite *s = suite_create("simd_model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, fma_and_minmax);
    tcase_add_test(tc, rounding_scaling_reduction);
    tcase_add_test(tc, masked_lanes);
    tcase_add_test(tc, dpbf16_steps);
    tcase_add_test(tc, reference_kernel_edges);
    tcase_add_test(tc, model_vs_avx2);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

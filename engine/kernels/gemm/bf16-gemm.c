/* The BF16 path's prepare-time side: the process-wide precision (SM_PRECISION,
 * --precision) and the per-model default rule (sm_precision_choose), the
 * kernel choice per ISA level and the weight packing (bf16-gemm.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/bf16-gemm.h"

static const sm_bf16_gemm_variant k_scalar = {sm_bf16_gemm_ukernel_4x8__scalar, 4, 8,
                                              "sm_bf16_gemm_ukernel_4x8__scalar", false};
#if SM_KERNELS_X86
static const sm_bf16_gemm_variant k_avx2 = {sm_bf16_gemm_ukernel_4x16__avx2, 4, 16,
                                            "sm_bf16_gemm_ukernel_4x16__avx2", false};
#endif
#if SM_KERNELS_X86 && defined(SM_HAVE_AVX512BF16)
static const sm_bf16_gemm_variant k_avx512bf16 = {sm_bf16_gemm_ukernel_8x32__avx512bf16, 8, 32,
                                                  "sm_bf16_gemm_ukernel_8x32__avx512bf16", true};
#endif

const sm_bf16_gemm_variant *sm_bf16_gemm_for(sm_isa isa)
{
#if SM_KERNELS_X86 && defined(SM_HAVE_AVX512BF16)
    if (isa == SM_ISA_AVX512 && sm_isa_supported(SM_ISA_AVX512) && sm_cpu_get()->avx512_bf16)
        return &k_avx512bf16;
#endif
#if SM_KERNELS_X86
    if ((isa == SM_ISA_AVX2 || isa == SM_ISA_AVX512) && sm_isa_supported(SM_ISA_AVX2))
        return &k_avx2;
#endif
    (void)isa;
    return &k_scalar;
}

size_t sm_bf16_gemm_variants(const sm_bf16_gemm_variant **out, size_t max)
{
    size_t n = 0;
    if (n < max)
        out[n++] = &k_scalar;
#if SM_KERNELS_X86
    if (n < max && sm_isa_supported(SM_ISA_AVX2))
        out[n++] = &k_avx2;
#endif
#if SM_KERNELS_X86 && defined(SM_HAVE_AVX512BF16)
    if (n < max && sm_isa_supported(SM_ISA_AVX512) && sm_cpu_get()->avx512_bf16)
        out[n++] = &k_avx512bf16;
#endif
    return n;
}

size_t sm_bf16_packed_len(size_t n, size_t k, size_t nr)
{
    size_t panels = (n + nr - 1) / nr;
    return panels * ((k + 1) / 2 + 1) * 2 * nr;
}

void sm_bf16_pack_gemm(const float *w_nk, const float *bias, const float *in_scale, size_t n, size_t k,
                       size_t nr, uint16_t *dst)
{
    const size_t k2 = (k + 1) / 2, panels = (n + nr - 1) / nr;
    memset(dst, 0, sm_bf16_packed_len(n, k, nr) * sizeof *dst);
    for (size_t pi = 0; pi < panels; pi++) {
        uint16_t *panel = dst + pi * (k2 + 1) * 2 * nr;
        for (size_t j = 0; j < nr && pi * nr + j < n; j++) {
            size_t o = pi * nr + j;
            float b = bias ? bias[o] : 0.0f;
            memcpy(panel + 2 * j, &b, sizeof b);
            for (size_t kk = 0; kk < k; kk++) {
                float v = w_nk[o * k + kk] * (in_scale ? in_scale[kk] : 1.0f);
                panel[(1 + kk / 2) * 2 * nr + 2 * j + kk % 2] = sm_bf16_round(v);
            }
        }
    }
}

void sm_bf16_repack_panels(const float *packed, const float *in_scale, size_t k, size_t nr, size_t p0,
                           size_t p1, uint16_t *dst)
{
    const size_t k2 = (k + 1) / 2;
    for (size_t pi = p0; pi < p1; pi++) {
        const float *src = packed + pi * (k + 1) * nr;
        uint16_t *panel = dst + pi * (k2 + 1) * 2 * nr;
        memcpy(panel, src, nr * sizeof *src); /* bias row, FP32 */
        for (size_t kk = 0; kk < 2 * k2; kk++)
            for (size_t j = 0; j < nr; j++) {
                float v = kk < k ? src[(kk + 1) * nr + j] * (in_scale ? in_scale[kk] : 1.0f) : 0.0f;
                panel[(1 + kk / 2) * 2 * nr + 2 * j + kk % 2] = sm_bf16_round(v);
            }
    }
}

/* ---- the process-wide precision -------------------------------------------------- */

/* The user's explicit choice (DEFAULT: none); the active precision is it, or
 * FP32. Written at start-up (environment, command line) or by tests. */
static sm_precision g_user = SM_PRECISION_DEFAULT;
static pthread_once_t g_precision_once = PTHREAD_ONCE_INIT;

static void precision_init(void)
{
    const char *want = getenv("SM_PRECISION");
    if (!want || !*want)
        return;
    sm_precision p;
    if (sm_precision_parse(want, &p))
        g_user = p;
    else
        sm_log(SM_LOG_WARN, "SM_PRECISION=%s is not one of fp32|bf16; ignored (the defaults apply)", want);
}

bool sm_precision_parse(const char *s, sm_precision *out)
{
    if (!s)
        return false;
    if (!strcmp(s, "fp32") || !strcmp(s, "f32"))
        *out = SM_PRECISION_FP32;
    else if (!strcmp(s, "bf16"))
        *out = SM_PRECISION_BF16;
    else
        return false;
    return true;
}

sm_precision sm_precision_active(void)
{
    pthread_once(&g_precision_once, precision_init);
    return g_user == SM_PRECISION_BF16 ? SM_PRECISION_BF16 : SM_PRECISION_FP32;
}

sm_precision sm_precision_user(void)
{
    pthread_once(&g_precision_once, precision_init);
    return g_user;
}

void sm_precision_force(sm_precision p)
{
    pthread_once(&g_precision_once, precision_init);
    g_user = p == SM_PRECISION_BF16 || p == SM_PRECISION_FP32 ? p : SM_PRECISION_DEFAULT;
}

sm_precision sm_precision_choose(sm_precision user, bool model_qualifies_bf16, bool cpu_native_bf16)
{
    if (user == SM_PRECISION_FP32 || user == SM_PRECISION_BF16)
        return user;
    /* the emulation is slower than FP32 (docs/PERFORMANCE.md): no reason to
     * give up accuracy for it unasked */
    return model_qualifies_bf16 && cpu_native_bf16 ? SM_PRECISION_BF16 : SM_PRECISION_FP32;
}

const char *sm_precision_name(sm_precision p)
{
    return p == SM_PRECISION_BF16 ? "bf16" : p == SM_PRECISION_FP32 ? "fp32" : "default";
}

bool sm_precision_native(void)
{
    return sm_bf16_gemm_for(sm_isa_active())->native;
}

sm_status sm_precision_take_arg(int *argc, char **argv, sm_error *err)
{
    sm_precision want = SM_PRECISION_DEFAULT;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--precision")) {
            if (i + 1 >= *argc)
                return sm_error_set(err, SM_ERR_ARG, "--precision needs a value: fp32 or bf16");
            v = argv[++i];
        } else if (!strncmp(argv[i], "--precision=", 12)) {
            v = argv[i] + 12;
        } else {
            continue;
        }
        if (!sm_precision_parse(v, &want))
            return sm_error_set(err, SM_ERR_ARG, "--precision '%s': expected fp32 or bf16", v);
    }
    int o = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--precision")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--precision=", 12))
            continue;
        argv[o++] = argv[i];
    }
    if (o < *argc)
        argv[o] = NULL;
    *argc = o;
    if (want != SM_PRECISION_DEFAULT)
        sm_precision_force(want);
    return SM_OK;
}

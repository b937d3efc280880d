/* CPU feature detection and the process-wide ISA level used for dispatch. */
#include "sm_engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(sm_cpu_features *f)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool osxsave = (c >> 27) & 1u;
    bool avx = (c >> 28) & 1u;
    bool fma = (c >> 12) & 1u;
    if (!osxsave || !avx)
        return;
    uint64_t xcr0 = read_xcr0();
    bool os_ymm = (xcr0 & 0x6u) == 0x6u;
    bool os_zmm = (xcr0 & 0xe6u) == 0xe6u;
    if (__get_cpuid_max(0, NULL) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    f->fma = fma && os_ymm;
    f->avx2 = os_ymm && ((b >> 5) & 1u) && f->fma;
    f->avx512f = os_zmm && ((b >> 16) & 1u);
    f->avx512dq = f->avx512f && ((b >> 17) & 1u);
    f->avx512bw = f->avx512f && ((b >> 30) & 1u);
    f->avx512vl = f->avx512f && ((b >> 31) & 1u);
    f->avx512_vnni = f->avx512f && ((c >> 11) & 1u);
    __cpuid_count(7, 1, a, b, c, d);
    f->avx512_bf16 = f->avx512f && ((a >> 5) & 1u);
}
#else
static void detect(sm_cpu_features *f)
{
#if defined(__aarch64__) || defined(__ARM_NEON)
    f->neon = true;
#else
    (void)f;
#endif
}
#endif

static sm_cpu_features features;

/* The -avx512f.c kernels are compiled with F, DQ, BW and VL (see the Makefile),
 * so all four are required before that level is chosen. */
static bool avx512_usable(const sm_cpu_features *f)
{
    return f->avx512f && f->avx512dq && f->avx512bw && f->avx512vl && f->avx2 && f->fma;
}
static sm_isa active_isa;
static pthread_once_t once = PTHREAD_ONCE_INIT;

bool sm_isa_supported(sm_isa isa)
{
    const sm_cpu_features *f = sm_cpu_get();
    switch (isa) {
    case SM_ISA_SCALAR: return true;
    case SM_ISA_AVX2: return f->avx2 && f->fma;
    case SM_ISA_AVX512: return avx512_usable(f);
    case SM_ISA_NEON: return f->neon;
    }
    return false;
}

static sm_isa best_isa(void)
{
    if (features.neon)
        return SM_ISA_NEON;
    if (avx512_usable(&features))
        return SM_ISA_AVX512;
    if (features.avx2 && features.fma)
        return SM_ISA_AVX2;
    return SM_ISA_SCALAR;
}

static void init_once(void)
{
    detect(&features);
    active_isa = best_isa();
    const char *want = getenv("SM_ISA");
    if (!want || !*want)
        return;
    sm_isa req;
    if (!strcmp(want, "scalar"))
        req = SM_ISA_SCALAR;
    else if (!strcmp(want, "avx2"))
        req = SM_ISA_AVX2;
    else if (!strcmp(want, "avx512"))
        req = SM_ISA_AVX512;
    else if (!strcmp(want, "neon"))
        req = SM_ISA_NEON;
    else {
        sm_log(SM_LOG_WARN, "SM_ISA=%s is not one of scalar|avx2|avx512|neon; using %s", want,
               sm_isa_name(active_isa));
        return;
    }
    bool ok;
    switch (req) {
    case SM_ISA_SCALAR: ok = true; break;
    case SM_ISA_AVX2: ok = features.avx2 && features.fma; break;
    case SM_ISA_AVX512: ok = avx512_usable(&features); break;
    default: ok = features.neon; break;
    }
    if (ok)
        active_isa = req;
    else
        sm_log(SM_LOG_WARN, "SM_ISA=%s: this CPU cannot run it; using %s", want,
               sm_isa_name(active_isa));
}

const sm_cpu_features *sm_cpu_get(void)
{
    pthread_once(&once, init_once);
    return &features;
}

sm_isa sm_isa_active(void)
{
    pthread_once(&once, init_once);
    return active_isa;
}

bool sm_isa_force(sm_isa isa)
{
    pthread_once(&once, init_once);
    if (!sm_isa_supported(isa))
        return false;
    active_isa = isa;
    return true;
}

const char *sm_isa_name(sm_isa isa)
{
    switch (isa) {
    case SM_ISA_SCALAR: return "scalar";
    case SM_ISA_AVX2: return "avx2";
    case SM_ISA_AVX512: return "avx512";
    case SM_ISA_NEON: return "neon";
    }
    return "unknown";
}

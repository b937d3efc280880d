/* Per-ISA kernel tables, filled from the <family>.inc X-macro lists. */
#include <pthread.h>

#include "sm_ukernels.h"

static sm_kernel_table g_tables[SM_ISA_COUNT];
static bool g_present[SM_ISA_COUNT];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fill_tables(void)
{
    for (int i = 0; i < SM_ISA_COUNT; i++)
        g_tables[i].isa = (sm_isa)i;
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_)                                                    \
    g_present[isa_enum] = true;                                                                   \
    g_tables[isa_enum].gemm.fn = SM_UK_NAME(gemm, MR_##x##NR_, isa);                                \
    g_tables[isa_enum].gemm.direct = SM_UK_NAME(dconv, MR_##x##NR_, isa);                           \
    g_tables[isa_enum].gemm.mr = MR_;                                                              \
    g_tables[isa_enum].gemm.nr = NR_;                                                              \
    g_tables[isa_enum].gemm.name = "sm_f32_gemm_ukernel_" #MR_ "x" #NR_ "__" #isa;
#define SM_GEMM_NARROW_UKERNEL(isa_enum, isa, MR_, NR_)                                           \
    g_tables[isa_enum].gemm_narrow.fn = SM_UK_NAME(gemm, MR_##x##NR_, isa);                       \
    g_tables[isa_enum].gemm_narrow.direct = SM_UK_NAME(dconv, MR_##x##NR_, isa);                  \
    g_tables[isa_enum].gemm_narrow.mr = MR_;                                                      \
    g_tables[isa_enum].gemm_narrow.nr = NR_;                                                      \
    g_tables[isa_enum].gemm_narrow.name = "sm_f32_gemm_ukernel_" #MR_ "x" #NR_ "__" #isa;
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t)                                                 \
    SM_ASSERT(g_tables[isa_enum].n_dwconv < SM_DWCONV_MAX_VARIANTS);                               \
    SM_ASSERT(!sm_kernels_dwconv(&g_tables[isa_enum], K_, S_)); /* one kernel per (k, stride) */  \
    g_tables[isa_enum].dwconv[g_tables[isa_enum].n_dwconv++] = (sm_dwconv_variant){               \
        SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, isa), K_, S_, t,                              \
        "sm_f32_dwconv_ukernel_" #K_ "x" #K_ "s" #S_ "_" #t "c__" #isa};
#define SM_POOL_UKERNEL(isa_enum, isa, t)                                                         \
    g_tables[isa_enum].tile = t;                                                                  \
    g_tables[isa_enum].maxpool = SM_UK_NAME(maxpool, t##c, isa);                                  \
    g_tables[isa_enum].gavgpool = SM_UK_NAME(gavgpool, t##c, isa);
#define SM_ACT_UKERNEL(isa_enum, isa, t)                                                          \
    g_tables[isa_enum].vrelu = SM_UK_NAME(vrelu, x##t, isa);                                      \
    g_tables[isa_enum].vsilu = SM_UK_NAME(vsilu, x##t, isa);                                      \
    g_tables[isa_enum].vsigmoid = SM_UK_NAME(vsigmoid, x##t, isa);                                \
    g_tables[isa_enum].prelu = SM_UK_NAME(prelu, t##c, isa);
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t)                                                      \
    g_tables[isa_enum].vadd = SM_UK_NAME(vadd, x##t, isa);                                        \
    g_tables[isa_enum].vscale = SM_UK_NAME(vscale, t##c, isa);
#define SM_SE_UKERNEL(isa_enum, isa, t) g_tables[isa_enum].se = SM_UK_NAME(se, t##c, isa);
#define SM_PCONV3X3_UKERNEL(isa_enum, isa) g_tables[isa_enum].pconv3x3 = SM_UK_NAME(pconv3x3, 4o, isa);
#include "gemm/gemm.inc"
#include "dwconv/dwconv.inc"
#include "pool/pool.inc"
#include "act/act.inc"
#include "eltwise/eltwise.inc"
#include "se/se.inc"
#include "conv2d/pconv3x3.inc"
    for (int i = 0; i < SM_ISA_COUNT; i++)
        g_tables[i].dwconv_generic = sm_f32_dwconv_ukernel_kxk_4c__scalar;
}

const sm_dwconv_variant *sm_kernels_dwconv(const sm_kernel_table *t, uint32_t k, uint32_t s)
{
    for (size_t i = 0; i < t->n_dwconv; i++)
        if (t->dwconv[i].k == k && t->dwconv[i].stride == s)
            return &t->dwconv[i];
    return NULL;
}

const sm_kernel_table *sm_kernels_for(sm_isa isa)
{
    pthread_once(&g_once, fill_tables);
    if ((unsigned)isa >= (unsigned)SM_ISA_COUNT || !g_present[isa] || !sm_isa_supported(isa))
        return NULL;
    return &g_tables[isa];
}

const sm_kernel_table *sm_kernels_active(void)
{
    const sm_kernel_table *t = sm_kernels_for(sm_isa_active());
    return t ? t : sm_kernels_for(SM_ISA_SCALAR);
}

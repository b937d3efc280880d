/* Per-ISA kernel tables, filled from the <family>.inc X-macro lists. */
#include <pthread.h>

#include "sm_ukernels.h"

static sm_kernel_table g_tables[SM_ISA_COUNT];
static bool g_present[SM_ISA_COUNT];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A fixed-shape depthwise kernel joins its level's table; two with one key would
 * make the lookup depend on the list's order, so that aborts at start. */
static void add_dwconv(sm_kernel_table *t, sm_dwconv_variant v)
{
    SM_ASSERT(t->n_dwconv < SM_DWCONV_MAX_VARIANTS);
    for (size_t i = 0; i < t->n_dwconv; i++)
        SM_ASSERT(!sm_dwconv_variant_fits(&t->dwconv[i], v.key));
    t->dwconv[t->n_dwconv++] = v;
}

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
    g_tables[isa_enum].gemm.name = SM_GEMM_UK_STR(isa, MR_, NR_);
#define SM_GEMM_NARROW_UKERNEL(isa_enum, isa, MR_, NR_)                                           \
    g_tables[isa_enum].gemm_narrow.fn = SM_UK_NAME(gemm, MR_##x##NR_, isa);                       \
    g_tables[isa_enum].gemm_narrow.direct = SM_UK_NAME(dconv, MR_##x##NR_, isa);                  \
    g_tables[isa_enum].gemm_narrow.mr = MR_;                                                      \
    g_tables[isa_enum].gemm_narrow.nr = NR_;                                                      \
    g_tables[isa_enum].gemm_narrow.name = SM_GEMM_UK_STR(isa, MR_, NR_);
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t)                                                 \
    add_dwconv(&g_tables[isa_enum], (sm_dwconv_variant){{K_, K_, S_, S_}, t, isa_enum,                \
        SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, isa), NULL,                                   \
        SM_DWCONV_UK_STR(isa, K_, S_, t)});
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t)                                                     \
    SM_ASSERT(!g_tables[isa_enum].dwconv_generic.generic); /* one generic kernel per level */      \
    g_tables[isa_enum].dwconv_generic = (sm_dwconv_variant){{0, 0, 0, 0}, t, isa_enum, NULL,          \
        SM_UK_NAME(dwconv, kxk_##t##c, isa), SM_DWCONV_KXK_UK_STR(isa, t)};
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
/* scalar-only lists: the ops call these symbols directly */
#define SM_CHANPAD_UKERNEL(isa_enum, isa)
#define SM_SOFTMAX_UKERNEL(isa_enum, isa)
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T)
#include "sm_ukernel_lists.inc"
    /* a level that lists no generic depthwise kernel falls back to scalar's */
    SM_ASSERT(g_tables[SM_ISA_SCALAR].dwconv_generic.generic);
    for (int i = 0; i < SM_ISA_COUNT; i++)
        if (!g_tables[i].dwconv_generic.generic)
            g_tables[i].dwconv_generic = g_tables[SM_ISA_SCALAR].dwconv_generic;
}

bool sm_dwconv_variant_fits(const sm_dwconv_variant *v, sm_dwconv_key key)
{
    if (v->generic)
        return key.kh == key.kw && key.sh == key.sw && key.kh >= 1 && key.sh >= 1;
    return v->key.kh == key.kh && v->key.kw == key.kw && v->key.sh == key.sh && v->key.sw == key.sw;
}

const sm_dwconv_variant *sm_kernels_dwconv(const sm_kernel_table *t, sm_dwconv_key key,
                                           sm_dwconv_kernel choice)
{
    if (choice != SM_DWCONV_KERNEL_GENERIC)
        for (size_t i = 0; i < t->n_dwconv; i++)
            if (sm_dwconv_variant_fits(&t->dwconv[i], key))
                return &t->dwconv[i];
    if (choice == SM_DWCONV_KERNEL_FIXED)
        return NULL;
    return sm_dwconv_variant_fits(&t->dwconv_generic, key) ? &t->dwconv_generic : NULL;
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

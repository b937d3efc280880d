/* sm_model_kernels.h: the AVX-512 kernels compiled against the software model of
 * immintrin.h in this folder (the Makefile's libsmsimdmodel.a, every symbol
 * <name>_model), for the test suites. Included after sm_ukernels.h.
 *
 * The kernel lists (.inc) name the AVX-512 kernels only under SM_KERNELS_X86; the
 * model runs on every architecture, so the lists are read with that switch forced
 * on between SM_MODEL_LISTS_BEGIN and SM_MODEL_LISTS_END:
 *     #define SM_GEMM_UKERNEL(isa_enum, isa, mr, nr) SM_MODEL_ONLY(isa, <entry>)
 *     SM_MODEL_LISTS_BEGIN
 *     ... every other list macro ...
 *     #include "sm_ukernel_lists.inc"
 *     SM_MODEL_LISTS_END
 * SM_MODEL_ONLY keeps the entries of the modelled ISAs (avx512f) and drops the rest. */
#ifndef SM_MODEL_KERNELS_H
#define SM_MODEL_KERNELS_H

#include "gemm/bf16-gemm.h"
#include "sm_ukernels.h"

#define SM_MODEL_ONLY(isa, ...) SM_MODEL_ONLY_##isa(__VA_ARGS__)
#define SM_MODEL_ONLY_avx512f(...) __VA_ARGS__
#define SM_MODEL_ONLY_scalar(...)
#define SM_MODEL_ONLY_avx2(...)
#define SM_MODEL_ONLY_neon(...)

#define SM_MODEL_LISTS_BEGIN _Pragma("push_macro(\"SM_KERNELS_X86\")") _Pragma("push_macro(\"SM_KERNELS_NEON\")")
#define SM_MODEL_LISTS_END _Pragma("pop_macro(\"SM_KERNELS_X86\")") _Pragma("pop_macro(\"SM_KERNELS_NEON\")")

/* The function type behind a kernel pointer typedef: the copies keep the real
 * kernels' signatures (they are the same source). */
#define SM_MODEL_FN(ptr_type) __typeof__(*(ptr_type)0)

/* ---- declarations, from the lists ---- */
#define SM_GEMM_UKERNEL(isa_enum, isa, MR_, NR_)                                                        \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_gemm_ukernel_fn) SM_UK_NAME(gemm, MR_##x##NR_, isa##_model);  \
                  extern SM_MODEL_FN(sm_dconv_ukernel_fn) SM_UK_NAME(dconv, MR_##x##NR_, isa##_model);)
#define SM_GEMM_NARROW_UKERNEL SM_GEMM_UKERNEL
#define SM_DWCONV_UKERNEL(isa_enum, isa, K_, S_, t)                                                     \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_dwconv_ukernel_fn)                                         \
                           SM_UK_NAME(dwconv, K_##x##K_##s##S_##_##t##c, isa##_model);)
#define SM_DWCONV_KXK_UKERNEL(isa_enum, isa, t)                                                         \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_dwconv_generic_ukernel_fn) SM_UK_NAME(dwconv, kxk_##t##c, isa##_model);)
#define SM_POOL_UKERNEL(isa_enum, isa, t)                                                               \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_maxpool_ukernel_fn) SM_UK_NAME(maxpool, t##c, isa##_model); \
                  extern SM_MODEL_FN(sm_gavgpool_ukernel_fn) SM_UK_NAME(gavgpool, t##c, isa##_model);)
#define SM_ACT_UKERNEL(isa_enum, isa, t)                                                                \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_vunary_ukernel_fn) SM_UK_NAME(vrelu, x##t, isa##_model);   \
                  extern SM_MODEL_FN(sm_vunary_ukernel_fn) SM_UK_NAME(vsilu, x##t, isa##_model);        \
                  extern SM_MODEL_FN(sm_vunary_ukernel_fn) SM_UK_NAME(vsigmoid, x##t, isa##_model);     \
                  extern SM_MODEL_FN(sm_prelu_ukernel_fn) SM_UK_NAME(prelu, t##c, isa##_model);)
#define SM_ELTWISE_UKERNEL(isa_enum, isa, t)                                                            \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_vadd_ukernel_fn) SM_UK_NAME(vadd, x##t, isa##_model);      \
                  extern SM_MODEL_FN(sm_vscale_ukernel_fn) SM_UK_NAME(vscale, t##c, isa##_model);)
#define SM_CHANPAD_UKERNEL(isa_enum, isa)
#define SM_SOFTMAX_UKERNEL(isa_enum, isa)
#define SM_SE_UKERNEL(isa_enum, isa, t)                                                                 \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_se_ukernel_fn) SM_UK_NAME(se, t##c, isa##_model);)
#define SM_PCONV3X3_UKERNEL(isa_enum, isa)                                                              \
    SM_MODEL_ONLY(isa, extern SM_MODEL_FN(sm_pconv3x3_ukernel_fn) SM_UK_NAME(pconv3x3, 4o, isa##_model);)
SM_MODEL_LISTS_BEGIN
#undef SM_KERNELS_X86
#define SM_KERNELS_X86 1
#undef SM_KERNELS_NEON
#define SM_KERNELS_NEON 0
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T)
#include "sm_ukernel_lists.inc"
SM_MODEL_LISTS_END

/* the native BF16 GEMM kernel (bf16-gemm-8x32-avx512bf16.c), not in a list */
extern SM_MODEL_FN(sm_bf16_gemm_ukernel_fn) sm_bf16_gemm_ukernel_8x32__avx512bf16_model;
#define SM_MODEL_BF16_GEMM                                                                              \
    {sm_bf16_gemm_ukernel_8x32__avx512bf16_model, 8, 32, "sm_bf16_gemm_ukernel_8x32__avx512bf16 (model)", false}

#endif

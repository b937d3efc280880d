/* sm_f32_dwconv_ukernel_5x5s1_16c__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define DW_FN sm_f32_dwconv_ukernel_5x5s1_16c__avx512f
#define DW_K 5
#define DW_S 1
#include "dwconv/dwconv-template.h"

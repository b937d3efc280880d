/* sm_f32_dwconv_ukernel_3x3s1_8c__avx2 */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define DW_FN sm_f32_dwconv_ukernel_3x3s1_8c__avx2
#define DW_K 3
#define DW_S 1
#include "dwconv/dwconv-template.h"

/* sm_f32_dwconv_ukernel_3x3s1_4c__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define DW_FN sm_f32_dwconv_ukernel_3x3s1_4c__neon
#define DW_K 3
#define DW_S 1
#include "dwconv/dwconv-template.h"

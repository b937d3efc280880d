/* sm_f32_se_ukernel_16c__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define SE_FN sm_f32_se_ukernel_16c__avx512f
#include "se/se-template.h"

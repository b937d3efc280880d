/* sm_f32_se_ukernel_8c__avx2 */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define SE_FN sm_f32_se_ukernel_8c__avx2
#include "se/se-template.h"

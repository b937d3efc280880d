/* sm_f32_se_ukernel_4c__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define SE_FN sm_f32_se_ukernel_4c__neon
#include "se/se-template.h"

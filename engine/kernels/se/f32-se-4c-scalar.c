/* sm_f32_se_ukernel_4c__scalar */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define SE_FN sm_f32_se_ukernel_4c__scalar
#include "se/se-template.h"

/* sm_f32_vadd_ukernel_x4__neon, sm_f32_vscale_ukernel_4c__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VADD_FN sm_f32_vadd_ukernel_x4__neon
#define VSCALE_FN sm_f32_vscale_ukernel_4c__neon
#include "eltwise/eltwise-template.h"

/* sm_f32_vadd_ukernel_x4__scalar, sm_f32_vscale_ukernel_4c__scalar */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VADD_FN sm_f32_vadd_ukernel_x4__scalar
#define VSCALE_FN sm_f32_vscale_ukernel_4c__scalar
#include "eltwise/eltwise-template.h"

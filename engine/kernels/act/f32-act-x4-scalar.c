/* sm_f32_{vrelu,vsilu,vsigmoid}_ukernel_x4__scalar, sm_f32_prelu_ukernel_4c__scalar */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VRELU_FN sm_f32_vrelu_ukernel_x4__scalar
#define VSILU_FN sm_f32_vsilu_ukernel_x4__scalar
#define VSIGMOID_FN sm_f32_vsigmoid_ukernel_x4__scalar
#define PRELU_FN sm_f32_prelu_ukernel_4c__scalar
#include "act/act-template.h"

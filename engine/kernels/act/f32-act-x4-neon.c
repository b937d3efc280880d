/* sm_f32_{vrelu,vsilu,vsigmoid}_ukernel_x4__neon, sm_f32_prelu_ukernel_4c__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VRELU_FN sm_f32_vrelu_ukernel_x4__neon
#define VSILU_FN sm_f32_vsilu_ukernel_x4__neon
#define VSIGMOID_FN sm_f32_vsigmoid_ukernel_x4__neon
#define PRELU_FN sm_f32_prelu_ukernel_4c__neon
#include "act/act-template.h"

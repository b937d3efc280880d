/* sm_f32_{vrelu,vsilu,vsigmoid}_ukernel_x8__avx2, sm_f32_prelu_ukernel_8c__avx2 */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VRELU_FN sm_f32_vrelu_ukernel_x8__avx2
#define VSILU_FN sm_f32_vsilu_ukernel_x8__avx2
#define VSIGMOID_FN sm_f32_vsigmoid_ukernel_x8__avx2
#define PRELU_FN sm_f32_prelu_ukernel_8c__avx2
#include "act/act-template.h"

/* sm_f32_{vrelu,vsilu,vsigmoid}_ukernel_x16__avx512f, sm_f32_prelu_ukernel_16c__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VRELU_FN sm_f32_vrelu_ukernel_x16__avx512f
#define VSILU_FN sm_f32_vsilu_ukernel_x16__avx512f
#define VSIGMOID_FN sm_f32_vsigmoid_ukernel_x16__avx512f
#define PRELU_FN sm_f32_prelu_ukernel_16c__avx512f
#include "act/act-template.h"

/* sm_f32_pconv3x3_ukernel_4o__avx512f: planar 3x3 stride-1 conv rows (pconv3x3-template.h) */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define PC_FN sm_f32_pconv3x3_ukernel_4o__avx512f
#include "conv2d/pconv3x3-template.h"

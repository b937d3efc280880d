/* sm_f32_vadd_ukernel_x16__avx512f, sm_f32_vscale_ukernel_16c__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VADD_FN sm_f32_vadd_ukernel_x16__avx512f
#define VSCALE_FN sm_f32_vscale_ukernel_16c__avx512f
#include "eltwise/eltwise-template.h"

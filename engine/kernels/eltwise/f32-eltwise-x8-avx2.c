/* sm_f32_vadd_ukernel_x8__avx2, sm_f32_vscale_ukernel_8c__avx2 */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define VADD_FN sm_f32_vadd_ukernel_x8__avx2
#define VSCALE_FN sm_f32_vscale_ukernel_8c__avx2
#include "eltwise/eltwise-template.h"

/* sm_f32_gemm_ukernel_4x8__scalar */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_FN sm_f32_gemm_ukernel_4x8__scalar
#define GEMM_MR 4
#define GEMM_NRV 2
#include "gemm/gemm-template.h"

/* sm_f32_gemm_ukernel_8x8__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_FN sm_f32_gemm_ukernel_8x8__neon
#define GEMM_MR 8
#define GEMM_NRV 2
#include "gemm/gemm-template.h"

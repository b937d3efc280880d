/* sm_f32_gemm_ukernel_8x16__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_FN sm_f32_gemm_ukernel_8x16__avx512f
#define GEMM_MR 8
#define GEMM_NRV 1
#include "gemm/gemm-template.h"

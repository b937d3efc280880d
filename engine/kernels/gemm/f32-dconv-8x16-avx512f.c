/* sm_f32_dconv_ukernel_8x16__avx512f: direct convolution on a padded NHWC image (gemm-template.h, GEMM_DIRECT) */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_DIRECT
#define GEMM_FN sm_f32_dconv_ukernel_8x16__avx512f
#define GEMM_MR 8
#define GEMM_NRV 1
#include "gemm/gemm-template.h"

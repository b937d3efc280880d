/* sm_f32_dconv_ukernel_6x16__avx2: direct convolution on a padded NHWC image (gemm-template.h, GEMM_DIRECT) */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_DIRECT
#define GEMM_FN sm_f32_dconv_ukernel_6x16__avx2
#define GEMM_MR 6
#define GEMM_NRV 2
#include "gemm/gemm-template.h"

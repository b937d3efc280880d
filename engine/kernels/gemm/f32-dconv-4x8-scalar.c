/* sm_f32_dconv_ukernel_4x8__scalar: direct convolution on a padded NHWC image (gemm-template.h, GEMM_DIRECT) */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define GEMM_DIRECT
#define GEMM_FN sm_f32_dconv_ukernel_4x8__scalar
#define GEMM_MR 4
#define GEMM_NRV 2
#include "gemm/gemm-template.h"

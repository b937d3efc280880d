/* sm_f32_maxpool_ukernel_16c__avx512f, sm_f32_gavgpool_ukernel_16c__avx512f */
#define SM_SIMD_AVX512
#include "sm_simd.h"
#include "sm_ukernels.h"

#define MAXPOOL_FN sm_f32_maxpool_ukernel_16c__avx512f
#define GAVGPOOL_FN sm_f32_gavgpool_ukernel_16c__avx512f
#include "pool/pool-template.h"

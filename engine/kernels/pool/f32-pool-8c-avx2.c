/* sm_f32_maxpool_ukernel_8c__avx2, sm_f32_gavgpool_ukernel_8c__avx2 */
#define SM_SIMD_AVX2
#include "sm_simd.h"
#include "sm_ukernels.h"

#define MAXPOOL_FN sm_f32_maxpool_ukernel_8c__avx2
#define GAVGPOOL_FN sm_f32_gavgpool_ukernel_8c__avx2
#include "pool/pool-template.h"

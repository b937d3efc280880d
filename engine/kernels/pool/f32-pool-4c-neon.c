/* sm_f32_maxpool_ukernel_4c__neon, sm_f32_gavgpool_ukernel_4c__neon */
#define SM_SIMD_NEON
#include "sm_simd.h"
#include "sm_ukernels.h"

#define MAXPOOL_FN sm_f32_maxpool_ukernel_4c__neon
#define GAVGPOOL_FN sm_f32_gavgpool_ukernel_4c__neon
#include "pool/pool-template.h"

/* sm_f32_maxpool_ukernel_4c__scalar, sm_f32_gavgpool_ukernel_4c__scalar */
#define SM_SIMD_SCALAR
#include "sm_simd.h"
#include "sm_ukernels.h"

#define MAXPOOL_FN sm_f32_maxpool_ukernel_4c__scalar
#define GAVGPOOL_FN sm_f32_gavgpool_ukernel_4c__scalar
#include "pool/pool-template.h"

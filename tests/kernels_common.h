/* Shared helpers of the kernel suites (included by tests/test_kernels*.c only). */
#ifndef KERNELS_COMMON_H
#define KERNELS_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"
#include "ref/sm_ref.h"
#include "sm_kernels.h"
#include "sm_test.h"
#include "sm_ukernels.h"

/* Tolerance of every kernel test: |got - ref| <= 1e-5 + 1e-4 * |ref| (docs/KERNELS.md). */
#define TOL_ABS 1e-5
#define TOL_REL 1e-4

static inline float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = sm_test_uniform(lo, hi);
    return p;
}

static inline float *zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Asserts closeness; what names the case in the failure message. */
static inline void expect_close(const float *got, const float *ref, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= TOL_ABS + TOL_REL * fabs((double)ref[i])))
            ck_abort_msg("%s: element %zu of %zu: got %.9g, reference %.9g (|diff| %.3g)", what, i,
                         n, got[i], ref[i], d);
    }
}

/* The ISA levels this CPU runs whose kernels are compiled in. */
static inline size_t isa_levels(sm_isa *out)
{
    size_t n = 0;
    for (int i = 0; i < SM_ISA_COUNT; i++)
        if (sm_kernels_for((sm_isa)i))
            out[n++] = (sm_isa)i;
    return n;
}

/* One "skipped:" line per level the lists name (pool.inc: the per-level lists name the
 * same ones, test_ukernels checks) that runs() refuses; the variant tests of such a
 * level return without a word. */
static inline void skip_levels_not_run(bool (*runs)(sm_isa))
{
    static const sm_isa listed[] = {
#define SM_POOL_UKERNEL(isa_enum, isa, t) isa_enum,
#include "pool/pool.inc"
#undef SM_POOL_UKERNEL
    };
    for (size_t i = 0; i < sizeof listed / sizeof *listed; i++)
        if (!runs(listed[i]))
            sm_test_skip(sm_isa_name(listed[i]), "ISA not available here");
}

#endif

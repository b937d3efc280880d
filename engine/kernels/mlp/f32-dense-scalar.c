/* sm_f32_dense_ukernel__scalar, sm_f64_dense_ukernel__scalar (mlp.inc): one vector
 * through a small dense layer, weights [in][out] (row i = input i), so the inner loop
 * runs contiguously over the outputs. Accumulation order is fixed (inputs ascending),
 * matching a straightforward dot product to a few ulps; the activation is evaluated
 * in double for both precisions. */
#include <math.h>

#include "sm_ukernels.h"

static double act_f64(double v, sm_act act)
{
    switch (act) {
    case SM_ACT_RELU: return v > 0.0 ? v : 0.0;
    case SM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case SM_ACT_SILU: return v / (1.0 + exp(-v));
    default: return v;
    }
}

/* One body for both precisions (the list's element types). */
#define SM_DENSE_UKERNEL(isa_enum, isa, prec, T)                                                  \
    void sm_##prec##_dense_ukernel__##isa(size_t n_in, size_t n_out, const T *x, const T *w_io,    \
                                          const T *b, sm_act act, T *y)                            \
    {                                                                                              \
        for (size_t o = 0; o < n_out; o++)                                                         \
            y[o] = b ? b[o] : (T)0;                                                                \
        for (size_t i = 0; i < n_in; i++) {                                                        \
            const T xi = x[i];                                                                     \
            const T *wr = w_io + i * n_out;                                                        \
            for (size_t o = 0; o < n_out; o++)                                                     \
                y[o] += xi * wr[o];                                                                \
        }                                                                                          \
        for (size_t o = 0; o < n_out; o++)                                                         \
            y[o] = (T)act_f64(y[o], act);                                                          \
    }
#include "mlp/mlp.inc"
#undef SM_DENSE_UKERNEL

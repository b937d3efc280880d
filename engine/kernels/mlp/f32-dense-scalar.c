/* sm_f32_dense_ukernel__scalar, sm_f64_dense_ukernel__scalar: one vector through a
 * small dense layer, weights [in][out] (row i = input i), so the inner loop runs
 * contiguously over the outputs. Accumulation order is fixed (inputs ascending),
 * matching a straightforward dot product to a few ulps. */
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

void sm_f64_dense_ukernel__scalar(size_t n_in, size_t n_out, const double *x, const double *w_io,
                                  const double *b, sm_act act, double *y)
{
    for (size_t o = 0; o < n_out; o++)
        y[o] = b ? b[o] : 0.0;
    for (size_t i = 0; i < n_in; i++) {
        const double xi = x[i];
        const double *wr = w_io + i * n_out;
        for (size_t o = 0; o < n_out; o++)
            y[o] += xi * wr[o];
    }
    for (size_t o = 0; o < n_out; o++)
        y[o] = act_f64(y[o], act);
}

void sm_f32_dense_ukernel__scalar(size_t n_in, size_t n_out, const float *x, const float *w_io,
                                  const float *b, sm_act act, float *y)
{
    for (size_t o = 0; o < n_out; o++)
        y[o] = b ? b[o] : 0.0f;
    for (size_t i = 0; i < n_in; i++) {
        const float xi = x[i];
        const float *wr = w_io + i * n_out;
        for (size_t o = 0; o < n_out; o++)
            y[o] += xi * wr[o];
    }
    for (size_t o = 0; o < n_out; o++)
        y[o] = (float)act_f64(y[o], act);
}

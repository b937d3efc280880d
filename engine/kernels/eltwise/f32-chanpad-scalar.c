/* sm_f32_chanpad_ukernel__scalar, sm_f32_softmax_ukernel__scalar */
#include <math.h>
#include <string.h>

#include "sm_ukernels.h"

void sm_f32_chanpad_ukernel__scalar(size_t pixels, size_t cin, size_t cout, const float *x, float *y)
{
    for (size_t p = 0; p < pixels; p++) {
        memmove(y + p * cout, x + p * cin, cin * sizeof(float));
        memset(y + p * cout + cin, 0, (cout - cin) * sizeof(float));
    }
}

void sm_f32_softmax_ukernel__scalar(size_t n, const float *x, float *y)
{
    float m = x[0];
    for (size_t i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - m);
        sum += y[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++)
        y[i] *= inv;
}

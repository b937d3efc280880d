/* sm_ref.h: naive reference ops, the test oracles (libsmref.a; tests and bench only).
 * Straight loops from the definitions, double accumulation, no blocking. */
#ifndef SM_REF_H
#define SM_REF_H

#include <stddef.h>

#include "sm_kernels.h"

/* NHWC conv with PyTorch OIHW weights [out][in/groups][kh][kw]; groups = 1 or
 * in_ch (depthwise, out_ch = in_ch). Output size out_h x out_w is given; taps at
 * iy = oy*sh - pad_top + ky outside the input read zero.
 * out = act(conv + bias + residual); bias/residual/alpha may be NULL. */
void sm_ref_conv2d(const float *in, size_t in_h, size_t in_w, size_t in_ch, const float *w_oihw,
                   const float *bias, size_t out_ch, size_t groups, size_t kh, size_t kw,
                   size_t sh, size_t sw, size_t pad_top, size_t pad_left, size_t out_h,
                   size_t out_w, const float *residual, sm_act act, const float *alpha,
                   float *out);
/* In place on pixels x channels: y = (x - mean)/sqrt(var + eps)*gamma + beta. */
void sm_ref_batchnorm(float *x, size_t pixels, size_t channels, const sm_batchnorm *bn);
/* act over pixels x channels (alpha per channel for PReLU). */
void sm_ref_activation(sm_act act, const float *x, size_t pixels, size_t channels,
                       const float *alpha, float *y);
float sm_ref_act1(sm_act act, float v, float alpha);
void sm_ref_maxpool(const float *in, size_t in_h, size_t in_w, size_t ch, size_t kh, size_t kw,
                    size_t sh, size_t sw, size_t pad_top, size_t pad_left, size_t out_h,
                    size_t out_w, float *out);
void sm_ref_global_avgpool(const float *in, size_t pixels, size_t channels, float *out);
/* y[r, o] = act(sum_i x[r, i] * w[o, i] + b[o] + residual[r, o]) with w [out][in]. */
void sm_ref_dense(const float *x, size_t rows, size_t n_in, size_t n_out, const float *w_oi,
                  const float *b, const float *residual, sm_act act, const float *alpha, float *y);
/* timm SqueezeExcite with OI weights. */
void sm_ref_se(const float *in, size_t pixels, size_t channels, size_t rd, const float *w1,
               const float *b1, const float *w2, const float *b2, sm_act act, float *out);
void sm_ref_softmax(const float *x, size_t n, float *y);
/* Dense stack in double, weights [in][out] (sklearn coefs_). */
void sm_ref_mlp_f64(size_t n_layers, const size_t *sizes, const double *const *w_io,
                    const double *const *b, sm_act hidden, sm_act out_act, const double *x,
                    double *y);

#endif

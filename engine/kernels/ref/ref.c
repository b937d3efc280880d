/* Reference ops from the definitions (see sm_ref.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sm_ref.h"

float sm_ref_act1(sm_act act, float v, float alpha)
{
    double d = v;
    switch (act) {
    case SM_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case SM_ACT_SILU: return (float)(d / (1.0 + exp(-d)));
    case SM_ACT_SIGMOID: return (float)(1.0 / (1.0 + exp(-d)));
    case SM_ACT_PRELU: return v >= 0.0f ? v : alpha * v;
    default: return v;
    }
}

void sm_ref_conv2d(const float *in, size_t in_h, size_t in_w, size_t in_ch, const float *w_oihw,
                   const float *bias, size_t out_ch, size_t groups, size_t kh, size_t kw,
                   size_t sh, size_t sw, size_t pad_top, size_t pad_left, size_t out_h,
                   size_t out_w, const float *residual, sm_act act, const float *alpha,
                   float *out)
{
    size_t cig = in_ch / groups, cog = out_ch / groups;
    for (size_t oy = 0; oy < out_h; oy++)
        for (size_t ox = 0; ox < out_w; ox++)
            for (size_t oc = 0; oc < out_ch; oc++) {
                size_t g = oc / cog;
                double acc = bias ? bias[oc] : 0.0;
                for (size_t ci = 0; ci < cig; ci++)
                    for (size_t ky = 0; ky < kh; ky++) {
                        long iy = (long)(oy * sh + ky) - (long)pad_top;
                        if (iy < 0 || iy >= (long)in_h)
                            continue;
                        for (size_t kx = 0; kx < kw; kx++) {
                            long ix = (long)(ox * sw + kx) - (long)pad_left;
                            if (ix < 0 || ix >= (long)in_w)
                                continue;
                            double xv = in[((size_t)iy * in_w + (size_t)ix) * in_ch + g * cig + ci];
                            double wv = w_oihw[((oc * cig + ci) * kh + ky) * kw + kx];
                            acc += xv * wv;
                        }
                    }
                size_t o = (oy * out_w + ox) * out_ch + oc;
                if (residual)
                    acc += residual[o];
                out[o] = sm_ref_act1(act, (float)acc, alpha ? alpha[oc] : 0.0f);
            }
}

void sm_ref_batchnorm(float *x, size_t pixels, size_t channels, const sm_batchnorm *bn)
{
    for (size_t p = 0; p < pixels; p++)
        for (size_t c = 0; c < channels; c++) {
            double g = bn->gamma ? bn->gamma[c] : 1.0, b = bn->beta ? bn->beta[c] : 0.0;
            double v = ((double)x[p * channels + c] - bn->mean[c]) / sqrt((double)bn->var[c] + bn->eps);
            x[p * channels + c] = (float)(v * g + b);
        }
}

void sm_ref_activation(sm_act act, const float *x, size_t pixels, size_t channels,
                       const float *alpha, float *y)
{
    for (size_t p = 0; p < pixels; p++)
        for (size_t c = 0; c < channels; c++)
            y[p * channels + c] = sm_ref_act1(act, x[p * channels + c], alpha ? alpha[c] : 0.0f);
}

void sm_ref_maxpool(const float *in, size_t in_h, size_t in_w, size_t ch, size_t kh, size_t kw,
                    size_t sh, size_t sw, size_t pad_top, size_t pad_left, size_t out_h,
                    size_t out_w, float *out)
{
    for (size_t oy = 0; oy < out_h; oy++)
        for (size_t ox = 0; ox < out_w; ox++)
            for (size_t c = 0; c < ch; c++) {
                float m = -FLT_MAX;
                for (size_t ky = 0; ky < kh; ky++)
                    for (size_t kx = 0; kx < kw; kx++) {
                        long iy = (long)(oy * sh + ky) - (long)pad_top;
                        long ix = (long)(ox * sw + kx) - (long)pad_left;
                        if (iy < 0 || ix < 0 || iy >= (long)in_h || ix >= (long)in_w)
                            continue;
                        float v = in[((size_t)iy * in_w + (size_t)ix) * ch + c];
                        m = v > m ? v : m;
                    }
                out[(oy * out_w + ox) * ch + c] = m;
            }
}

void sm_ref_global_avgpool(const float *in, size_t pixels, size_t channels, float *out)
{
    for (size_t c = 0; c < channels; c++) {
        double s = 0.0;
        for (size_t p = 0; p < pixels; p++)
            s += in[p * channels + c];
        out[c] = (float)(s / (double)pixels);
    }
}

void sm_ref_dense(const float *x, size_t rows, size_t n_in, size_t n_out, const float *w_oi,
                  const float *b, const float *residual, sm_act act, const float *alpha, float *y)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < n_out; o++) {
            double acc = b ? b[o] : 0.0;
            for (size_t i = 0; i < n_in; i++)
                acc += (double)x[r * n_in + i] * w_oi[o * n_in + i];
            if (residual)
                acc += residual[r * n_out + o];
            y[r * n_out + o] = sm_ref_act1(act, (float)acc, alpha ? alpha[o] : 0.0f);
        }
}

void sm_ref_se(const float *in, size_t pixels, size_t channels, size_t rd, const float *w1,
               const float *b1, const float *w2, const float *b2, sm_act act, float *out)
{
    float *m = malloc(channels * sizeof *m), *h = malloc(rd * sizeof *h), *g = malloc(channels * sizeof *g);
    SM_ASSERT(m && h && g); /* a test oracle: no error path to report through */
    sm_ref_global_avgpool(in, pixels, channels, m);
    sm_ref_dense(m, 1, channels, rd, w1, b1, NULL, act, NULL, h);
    sm_ref_dense(h, 1, rd, channels, w2, b2, NULL, SM_ACT_SIGMOID, NULL, g);
    for (size_t p = 0; p < pixels; p++)
        for (size_t c = 0; c < channels; c++)
            out[p * channels + c] = in[p * channels + c] * g[c];
    free(m);
    free(h);
    free(g);
}

void sm_ref_softmax(const float *x, size_t n, float *y)
{
    double m = x[0], s = 0.0;
    for (size_t i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++)
        s += exp(x[i] - m);
    for (size_t i = 0; i < n; i++)
        y[i] = (float)(exp(x[i] - m) / s);
}

static double act_d(sm_act act, double v)
{
    if (act == SM_ACT_RELU)
        return v > 0 ? v : 0;
    if (act == SM_ACT_SIGMOID)
        return 1.0 / (1.0 + exp(-v));
    return v;
}

void sm_ref_mlp_f64(size_t n_layers, const size_t *sizes, const double *const *w_io,
                    const double *const *b, sm_act hidden, sm_act out_act, const double *x,
                    double *y)
{
    size_t maxw = 0;
    for (size_t l = 0; l <= n_layers; l++)
        maxw = sizes[l] > maxw ? sizes[l] : maxw;
    double *cur = malloc(maxw * sizeof *cur), *nxt = malloc(maxw * sizeof *nxt);
    SM_ASSERT(cur && nxt);
    memcpy(cur, x, sizes[0] * sizeof *cur);
    for (size_t l = 0; l < n_layers; l++) {
        for (size_t o = 0; o < sizes[l + 1]; o++) {
            double acc = b[l] ? b[l][o] : 0.0;
            for (size_t i = 0; i < sizes[l]; i++)
                acc += cur[i] * w_io[l][i * sizes[l + 1] + o];
            nxt[o] = act_d(l + 1 == n_layers ? out_act : hidden, acc);
        }
        double *t = cur;
        cur = nxt;
        nxt = t;
    }
    memcpy(y, cur, sizes[n_layers] * sizeof *y);
    free(cur);
    free(nxt);
}

/* Prepare-time helpers: validation, layout conversion, BatchNorm folding, packing. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "common/sm_ops.h"

#ifdef SM_HAVE_BLAS
#include <cblas.h>
#endif


const char *sm_act_name(sm_act act)
{
    switch (act) {
    case SM_ACT_NONE: return "none";
    case SM_ACT_RELU: return "relu";
    case SM_ACT_SILU: return "silu";
    case SM_ACT_SIGMOID: return "sigmoid";
    case SM_ACT_PRELU: return "prelu";
    }
    return "?";
}

sm_padding sm_padding_sym(uint32_t p)
{
    sm_padding r = {SM_PAD_EXPLICIT, p, p, p, p};
    return r;
}
sm_padding sm_padding_same(void)
{
    sm_padding r = {SM_PAD_SAME, 0, 0, 0, 0};
    return r;
}
sm_padding sm_padding_valid(void)
{
    sm_padding r = {SM_PAD_VALID, 0, 0, 0, 0};
    return r;
}

sm_status sm_conv_out_extent(size_t in, uint32_t k, uint32_t stride, sm_pad_mode mode,
                             uint32_t pad_before, uint32_t pad_after, size_t *out,
                             size_t *pad_lead, sm_error *err)
{
    if (k == 0 || stride == 0)
        return sm_error_set(err, SM_ERR_ARG, "kernel %u and stride %u must be >= 1", k, stride);
    if (in == 0)
        return sm_error_set(err, SM_ERR_SHAPE, "input extent is 0");
    if (mode == SM_PAD_SAME) {
        size_t o = (in + stride - 1) / stride;
        size_t need = (o - 1) * stride + k;
        size_t total = need > in ? need - in : 0;
        *out = o;
        *pad_lead = total / 2;
        return SM_OK;
    }
    size_t pb = mode == SM_PAD_EXPLICIT ? pad_before : 0, pa = mode == SM_PAD_EXPLICIT ? pad_after : 0;
    if (in + pb + pa < k)
        return sm_error_set(err, SM_ERR_SHAPE,
                            "input extent %zu + padding %zu+%zu is smaller than kernel %u", in, pb,
                            pa, k);
    *out = (in + pb + pa - k) / stride + 1;
    *pad_lead = pb;
    return SM_OK;
}

sm_status sm_window_out_shape(const sm_padding *pad, uint32_t kh, uint32_t kw, uint32_t sh,
                              uint32_t sw, size_t in_h, size_t in_w, size_t *out_h, size_t *out_w,
                              sm_error *err)
{
    size_t lead;
    sm_status st = sm_conv_out_extent(in_h, kh, sh, pad->mode, pad->top, pad->bottom, out_h, &lead, err);
    if (st == SM_OK)
        st = sm_conv_out_extent(in_w, kw, sw, pad->mode, pad->left, pad->right, out_w, &lead, err);
    return st;
}

void sm_ops_axis(size_t in, uint32_t k, uint32_t s, sm_padding pad, bool vertical, size_t *out,
                 size_t *lead)
{
    sm_error e;
    if (sm_conv_out_extent(in, k, s, pad.mode, vertical ? pad.top : pad.left,
                           vertical ? pad.bottom : pad.right, out, lead, &e) != SM_OK)
        *out = 0, *lead = 0;
}

static const char *nm(const sm_conv_desc *d) { return d->name ? d->name : "conv"; }

sm_status sm_ops_canon_conv(const sm_conv_desc *d, bool dw, float **w_out, float **b_out,
                            sm_error *err)
{
    *w_out = NULL;
    *b_out = NULL;
    uint32_t ic = d->in_ch, oc = dw && d->out_ch == 0 ? d->in_ch : d->out_ch;
    if (ic == 0 || oc == 0 || d->kh == 0 || d->kw == 0 || d->stride_h == 0 || d->stride_w == 0)
        return sm_error_set(err, SM_ERR_ARG,
                            "%s: channels %u->%u, kernel %ux%u, stride %ux%u must all be >= 1",
                            nm(d), ic, oc, d->kh, d->kw, d->stride_h, d->stride_w);
    if (d->kh > 64 || d->kw > 64 || d->stride_h > 64 || d->stride_w > 64)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: kernel %ux%u / stride %ux%u above 64",
                            nm(d), d->kh, d->kw, d->stride_h, d->stride_w);
    if (dw && oc != ic)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: depthwise needs out_ch == in_ch (multiplier 1), found %u -> %u",
                            nm(d), ic, oc);
    if (!d->weights)
        return sm_error_set(err, SM_ERR_ARG, "%s: weights are NULL", nm(d));
    if ((unsigned)d->act > SM_ACT_PRELU)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown activation %d", nm(d), (int)d->act);
    if (d->act == SM_ACT_PRELU && !d->alpha)
        return sm_error_set(err, SM_ERR_ARG, "%s: PReLU needs %u alphas, got NULL", nm(d), oc);
    if ((unsigned)d->pad.mode > SM_PAD_VALID)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown padding mode %d", nm(d), (int)d->pad.mode);
    if (d->pad.mode == SM_PAD_EXPLICIT &&
        (d->pad.top >= d->kh || d->pad.bottom >= d->kh || d->pad.left >= d->kw || d->pad.right >= d->kw))
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: padding %u,%u,%u,%u must be smaller than the kernel %ux%u", nm(d),
                            d->pad.top, d->pad.left, d->pad.bottom, d->pad.right, d->kh, d->kw);
    if (d->bn && (!d->bn->mean || !d->bn->var || !(d->bn->eps >= 0.0f)))
        return sm_error_set(err, SM_ERR_ARG, "%s: BatchNorm needs mean, var and eps >= 0", nm(d));
    size_t icg = dw ? 1 : ic, khw = (size_t)d->kh * d->kw;
    size_t n = 0;
    if (!sm_size_mul(oc, khw, &n) || !sm_size_mul(n, icg, &n) || n > ((size_t)1 << 31))
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: weight tensor too large", nm(d));
    float *w = sm_aligned_alloc(n * sizeof *w), *b = sm_aligned_alloc((size_t)oc * sizeof *b);
    if (!w || !b) {
        sm_aligned_free(w);
        sm_aligned_free(b);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %zu weights", nm(d), n);
    }
    const float *src = d->weights;
    const size_t kh = d->kh, kw = d->kw;
    for (size_t o = 0; o < oc; o++)
        for (size_t y = 0; y < kh; y++)
            for (size_t x = 0; x < kw; x++)
                for (size_t i = 0; i < icg; i++) {
                    size_t si;
                    if (dw) {
                        /* OIHW/OHWI: [C][kh][kw](x1); 1HWO/HWIO: [kh][kw](x1)[C] */
                        si = (d->layout == SM_WLAYOUT_1HWO || d->layout == SM_WLAYOUT_HWIO)
                                 ? (y * kw + x) * oc + o
                                 : (o * kh + y) * kw + x;
                    } else if (d->layout == SM_WLAYOUT_OIHW) {
                        si = ((o * icg + i) * kh + y) * kw + x;
                    } else if (d->layout == SM_WLAYOUT_OHWI) {
                        si = ((o * kh + y) * kw + x) * icg + i;
                    } else if (d->layout == SM_WLAYOUT_HWIO) {
                        si = ((y * kw + x) * icg + i) * oc + o;
                    } else {
                        sm_aligned_free(w);
                        sm_aligned_free(b);
                        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                            "%s: layout %d is not valid for a regular conv", nm(d),
                                            (int)d->layout);
                    }
                    w[((o * kh + y) * kw + x) * icg + i] = src[si];
                }
    for (size_t o = 0; o < oc; o++) {
        double bias = d->bias ? d->bias[o] : 0.0;
        if (d->bn) {
            const sm_batchnorm *bn = d->bn;
            double scale = (bn->gamma ? bn->gamma[o] : 1.0) / sqrt((double)bn->var[o] + bn->eps);
            bias = (bias - bn->mean[o]) * scale + (bn->beta ? bn->beta[o] : 0.0);
            float *wo = w + o * khw * icg;
            for (size_t j = 0; j < khw * icg; j++)
                wo[j] = (float)(wo[j] * scale);
        }
        b[o] = (float)bias;
    }
    *w_out = w;
    *b_out = b;
    return SM_OK;
}

float *sm_ops_pack_gemm(const float *w_nk, const float *bias, size_t n, size_t k, size_t nr)
{
    size_t panels = (n + nr - 1) / nr;
    float *p = sm_aligned_alloc(panels * (k + 1) * nr * sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, panels * (k + 1) * nr * sizeof *p);
    for (size_t pi = 0; pi < panels; pi++) {
        float *dst = p + pi * (k + 1) * nr;
        for (size_t j = 0; j < nr && pi * nr + j < n; j++) {
            size_t col = pi * nr + j;
            dst[j] = bias ? bias[col] : 0.0f;
            for (size_t kk = 0; kk < k; kk++)
                dst[(kk + 1) * nr + j] = w_nk[col * k + kk];
        }
    }
    return p;
}

float *sm_ops_padded_copy(const float *v, size_t n, size_t n_pad)
{
    float *p = sm_aligned_alloc((n_pad ? n_pad : 1) * sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, (n_pad ? n_pad : 1) * sizeof *p);
    if (v)
        memcpy(p, v, n * sizeof *p);
    return p;
}

static pthread_once_t g_blas_once = PTHREAD_ONCE_INIT;
static void blas_once(void)
{
#ifdef SM_HAVE_BLAS
    openblas_set_num_threads(1);
#endif
}
void sm_ops_blas_single_thread(void) { pthread_once(&g_blas_once, blas_once); }

bool sm_ops_blas_available(void)
{
#ifndef SM_HAVE_BLAS
    return false;
#else
    return true;
#endif
}

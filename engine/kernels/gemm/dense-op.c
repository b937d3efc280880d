/* sm_dense_*: a fully connected layer is a 1x1 conv over `rows` pixels. */
#include <stdlib.h>

#include "common/sm_ops.h"

struct sm_dense {
    sm_conv2d *conv;
};

sm_status sm_dense_prepare(const sm_dense_desc *d, sm_dense **out, sm_error *err)
{
    *out = NULL;
    if (!d)
        return sm_error_set(err, SM_ERR_ARG, "dense: NULL description");
    if (d->layout != SM_DENSE_OI && d->layout != SM_DENSE_IO)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown dense layout %d",
                            d->name ? d->name : "dense", (int)d->layout);
    sm_conv_desc c = {0};
    c.in_ch = d->in_features;
    c.out_ch = d->out_features;
    c.kh = c.kw = c.stride_h = c.stride_w = 1;
    c.pad = sm_padding_valid();
    c.layout = d->layout == SM_DENSE_OI ? SM_WLAYOUT_OIHW : SM_WLAYOUT_HWIO;
    c.weights = d->weights;
    c.bias = d->bias;
    c.act = d->act;
    c.alpha = d->alpha;
    c.name = d->name ? d->name : "dense";
    c.gemm = d->gemm;
    c.precision = d->precision;
    sm_dense *op = calloc(1, sizeof *op);
    if (!op)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c.name);
    sm_status st = sm_conv2d_prepare(&c, &op->conv, err);
    if (st != SM_OK) {
        free(op);
        return st;
    }
    *out = op;
    return SM_OK;
}

void sm_dense_run(const sm_dense *op, const float *in, size_t rows, const float *residual,
                  float *out, sm_threadpool *pool)
{
    sm_conv2d_run(op->conv, in, rows, 1, residual, out, pool);
}

void sm_dense_free(sm_dense *op)
{
    if (!op)
        return;
    sm_conv2d_free(op->conv);
    free(op);
}

/* sm_mlp_*: small dense stacks (scikit-learn MLPClassifier) in float64 or float32. */
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"

#define MLP_MAX_LAYERS 16

struct sm_mlp {
    size_t n_layers, sizes[MLP_MAX_LAYERS + 1], maxw;
    sm_act hidden, out_act;
    sm_mlp_precision prec;
    void *w[MLP_MAX_LAYERS], *b[MLP_MAX_LAYERS]; /* [in][out], f64 or f32 */
    void *buf0, *buf1;
};

sm_status sm_mlp_prepare(const sm_mlp_desc *d, sm_mlp **out, sm_error *err)
{
    *out = NULL;
    if (!d)
        return sm_error_set(err, SM_ERR_ARG, "mlp: NULL description");
    const char *name = d->name ? d->name : "mlp";
    if (d->n_layers == 0 || d->n_layers > MLP_MAX_LAYERS || !d->sizes || !d->weights || !d->biases)
        return sm_error_set(err, SM_ERR_ARG, "%s: need 1..%d layers with sizes, weights and biases (found %u)",
                            name, MLP_MAX_LAYERS, d->n_layers);
    if ((d->hidden_act != SM_ACT_NONE && d->hidden_act != SM_ACT_RELU && d->hidden_act != SM_ACT_SIGMOID) ||
        (d->out_act != SM_ACT_NONE && d->out_act != SM_ACT_SIGMOID))
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: activations %s/%s not supported", name,
                            sm_act_name(d->hidden_act), sm_act_name(d->out_act));
    if (d->precision != SM_MLP_F64 && d->precision != SM_MLP_F32)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown precision %d", name, (int)d->precision);
    if (d->layout != SM_DENSE_OI && d->layout != SM_DENSE_IO)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown dense layout %d", name, (int)d->layout);
    for (uint32_t l = 0; l <= d->n_layers; l++)
        if (d->sizes[l] == 0 || d->sizes[l] > 65536)
            return sm_error_set(err, SM_ERR_ARG, "%s: layer width %u at %u must be 1..65536", name,
                                d->sizes[l], l);
    for (uint32_t l = 0; l < d->n_layers; l++)
        if (!d->weights[l])
            return sm_error_set(err, SM_ERR_ARG, "%s: weights of layer %u are NULL", name, l);
    sm_mlp *op = calloc(1, sizeof *op);
    if (!op)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    op->n_layers = d->n_layers;
    op->hidden = d->hidden_act;
    op->out_act = d->out_act;
    op->prec = d->precision;
    size_t es = op->prec == SM_MLP_F64 ? sizeof(double) : sizeof(float);
    bool ok = true;
    for (uint32_t l = 0; l <= d->n_layers; l++) {
        op->sizes[l] = d->sizes[l];
        op->maxw = op->sizes[l] > op->maxw ? op->sizes[l] : op->maxw;
    }
    for (size_t l = 0; l < op->n_layers && ok; l++) {
        size_t ni = op->sizes[l], no = op->sizes[l + 1];
        op->w[l] = calloc(ni * no, es);
        op->b[l] = calloc(no, es);
        ok = op->w[l] && op->b[l];
        for (size_t i = 0; ok && i < ni; i++)
            for (size_t o = 0; o < no; o++) {
                double v = d->layout == SM_DENSE_IO ? d->weights[l][i * no + o] : d->weights[l][o * ni + i];
                if (es == sizeof(double))
                    ((double *)op->w[l])[i * no + o] = v;
                else
                    ((float *)op->w[l])[i * no + o] = (float)v;
            }
        for (size_t o = 0; ok && o < no; o++) {
            double v = d->biases[l] ? d->biases[l][o] : 0.0;
            if (es == sizeof(double))
                ((double *)op->b[l])[o] = v;
            else
                ((float *)op->b[l])[o] = (float)v;
        }
    }
    op->buf0 = calloc(op->maxw, es);
    op->buf1 = calloc(op->maxw, es);
    if (!ok || !op->buf0 || !op->buf1) {
        sm_mlp_free(op);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    }
    *out = op;
    return SM_OK;
}

void sm_mlp_free(sm_mlp *op)
{
    if (!op)
        return;
    for (size_t l = 0; l < MLP_MAX_LAYERS; l++) {
        free(op->w[l]);
        free(op->b[l]);
    }
    free(op->buf0);
    free(op->buf1);
    free(op);
}

void sm_mlp_run(const sm_mlp *op, const double *in, double *out)
{
    size_t L = op->n_layers;
    if (op->prec == SM_MLP_F64) {
        const double *cur = in;
        for (size_t l = 0; l < L; l++) {
            double *dst = l + 1 == L ? out : (l % 2 ? op->buf1 : op->buf0);
            sm_f64_dense_ukernel__scalar(op->sizes[l], op->sizes[l + 1], cur, op->w[l], op->b[l],
                                         l + 1 == L ? op->out_act : op->hidden, dst);
            cur = dst;
        }
        return;
    }
    float *a = op->buf0, *b = op->buf1;
    for (size_t i = 0; i < op->sizes[0]; i++)
        a[i] = (float)in[i];
    for (size_t l = 0; l < L; l++) {
        sm_f32_dense_ukernel__scalar(op->sizes[l], op->sizes[l + 1], a, op->w[l], op->b[l],
                                     l + 1 == L ? op->out_act : op->hidden, b);
        float *t = a;
        a = b;
        b = t;
    }
    for (size_t o = 0; o < op->sizes[L]; o++)
        out[o] = a[o];
}

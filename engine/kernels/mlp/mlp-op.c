/* sm_mlp_*: small dense stacks (scikit-learn MLPClassifier) in float64 or float32.
 * ReLU and logistic run inside the dense kernel; tanh and softmax (which the
 * kernels do not have) run after it, in float64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"

#define MLP_MAX_LAYERS 16

struct sm_mlp {
    size_t n_layers, sizes[MLP_MAX_LAYERS + 1], maxw;
    sm_mlp_act hidden, out_act;
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
    if ((unsigned)d->hidden_act > SM_MLP_ACT_RELU ||
        (d->out_act != SM_MLP_ACT_IDENTITY && d->out_act != SM_MLP_ACT_LOGISTIC && d->out_act != SM_MLP_ACT_SOFTMAX))
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: activations %d/%d not supported (hidden: identity, logistic, tanh, relu; "
                            "output: identity, logistic, softmax)", name, (int)d->hidden_act, (int)d->out_act);
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

/* The part of an activation the dense kernels apply themselves. */
static sm_act kernel_act(sm_mlp_act a)
{
    return a == SM_MLP_ACT_RELU ? SM_ACT_RELU : a == SM_MLP_ACT_LOGISTIC ? SM_ACT_SIGMOID : SM_ACT_NONE;
}

static void finish_f64(sm_mlp_act a, double *v, size_t n)
{
    if (a == SM_MLP_ACT_TANH) {
        for (size_t j = 0; j < n; j++)
            v[j] = tanh(v[j]);
    } else if (a == SM_MLP_ACT_SOFTMAX) {
        double mx = v[0], sum = 0.0;
        for (size_t j = 1; j < n; j++)
            mx = v[j] > mx ? v[j] : mx;
        for (size_t j = 0; j < n; j++) {
            v[j] = exp(v[j] - mx);
            sum += v[j];
        }
        for (size_t j = 0; j < n; j++)
            v[j] /= sum;
    }
}

void sm_mlp_run(const sm_mlp *op, const double *in, double *out)
{
    size_t L = op->n_layers;
    if (op->prec == SM_MLP_F64) {
        const double *cur = in;
        for (size_t l = 0; l < L; l++) {
            double *dst = l + 1 == L ? out : (l % 2 ? op->buf1 : op->buf0);
            sm_mlp_act a = l + 1 == L ? op->out_act : op->hidden;
            sm_f64_dense_ukernel__scalar(op->sizes[l], op->sizes[l + 1], cur, op->w[l], op->b[l], kernel_act(a),
                                         dst);
            finish_f64(a, dst, op->sizes[l + 1]);
            cur = dst;
        }
        return;
    }
    float *a = op->buf0, *b = op->buf1;
    for (size_t i = 0; i < op->sizes[0]; i++)
        a[i] = (float)in[i];
    for (size_t l = 0; l + 1 < L; l++) {
        sm_f32_dense_ukernel__scalar(op->sizes[l], op->sizes[l + 1], a, op->w[l], op->b[l], kernel_act(op->hidden),
                                     b);
        if (op->hidden == SM_MLP_ACT_TANH)
            for (size_t o = 0; o < op->sizes[l + 1]; o++)
                b[o] = (float)tanh(b[o]);
        float *t = a;
        a = b;
        b = t;
    }
    sm_f32_dense_ukernel__scalar(op->sizes[L - 1], op->sizes[L], a, op->w[L - 1], op->b[L - 1],
                                 kernel_act(op->out_act), b);
    for (size_t o = 0; o < op->sizes[L]; o++)
        out[o] = b[o];
    finish_f64(op->out_act, out, op->sizes[L]);
}

/* sm_se_*: squeeze-and-excitation: global mean -> FC -> act -> FC -> sigmoid -> scale.
 * The pooling and the two tiny FCs run on the caller's thread (a few thousand
 * FLOPs); the channel scaling is split over pixel ranges. */
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"

struct sm_se {
    const sm_kernel_table *kt;
    size_t c, rd, cp;
    sm_act act;
    float *w1, *b1, *w2, *b2;
    float *mean, *h, *gate; /* scratch: one run at a time per op */
};

sm_status sm_se_prepare(const sm_se_desc *d, sm_se **out, sm_error *err)
{
    *out = NULL;
    if (!d)
        return sm_error_set(err, SM_ERR_ARG, "se: NULL description");
    const char *name = d->name ? d->name : "se";
    if (d->channels == 0 || d->reduced == 0)
        return sm_error_set(err, SM_ERR_ARG, "%s: channels %u and reduced %u must be >= 1", name,
                            d->channels, d->reduced);
    if (!d->w_reduce || !d->w_expand)
        return sm_error_set(err, SM_ERR_ARG, "%s: weights are NULL", name);
    if (d->act != SM_ACT_NONE && d->act != SM_ACT_RELU && d->act != SM_ACT_SILU && d->act != SM_ACT_SIGMOID)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: activation %s not supported in SE", name,
                            sm_act_name(d->act));
    if (d->layout != SM_DENSE_OI && d->layout != SM_DENSE_IO)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown dense layout %d", name, (int)d->layout);
    sm_se *op = calloc(1, sizeof *op);
    if (!op)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    op->kt = sm_kernels_active();
    op->c = d->channels;
    op->rd = d->reduced;
    op->act = d->act;
    size_t T = op->kt->tile;
    op->cp = (op->c + T - 1) / T * T;
    op->w1 = sm_aligned_alloc(op->rd * op->c * sizeof(float));
    op->w2 = sm_ops_padded_copy(NULL, 0, op->rd * op->cp);
    op->b1 = sm_ops_padded_copy(d->b_reduce, op->rd, op->rd);
    op->b2 = sm_ops_padded_copy(d->b_expand, op->c, op->cp);
    op->mean = sm_ops_padded_copy(NULL, 0, op->cp);
    op->h = sm_ops_padded_copy(NULL, 0, op->rd);
    op->gate = sm_ops_padded_copy(NULL, 0, op->cp);
    if (!op->w1 || !op->w2 || !op->b1 || !op->b2 || !op->mean || !op->h || !op->gate) {
        sm_se_free(op);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    }
    bool oi = d->layout == SM_DENSE_OI;
    for (size_t r = 0; r < op->rd; r++)
        for (size_t c = 0; c < op->c; c++) {
            op->w1[r * op->c + c] = oi ? d->w_reduce[r * op->c + c] : d->w_reduce[c * op->rd + r];
            op->w2[r * op->cp + c] = oi ? d->w_expand[c * op->rd + r] : d->w_expand[r * op->c + c];
        }
    *out = op;
    return SM_OK;
}

void sm_se_free(sm_se *op)
{
    if (!op)
        return;
    sm_aligned_free(op->w1);
    sm_aligned_free(op->w2);
    sm_aligned_free(op->b1);
    sm_aligned_free(op->b2);
    sm_aligned_free(op->mean);
    sm_aligned_free(op->h);
    sm_aligned_free(op->gate);
    free(op);
}

typedef struct {
    const sm_se *op;
    const float *in;
    float *out;
    size_t pixels, n_tasks;
} se_ctx;

static void scale_task(void *vctx, size_t task, size_t thread)
{
    const se_ctx *x = vctx;
    size_t b, e;
    sm_ops_range(x->pixels, x->n_tasks, task, &b, &e);
    if (b < e)
        x->op->kt->vscale(e - b, x->op->c, x->in + b * x->op->c, x->op->gate, x->out + b * x->op->c);
}

void sm_se_run(const sm_se *op, const float *in, size_t h, size_t w, float *out,
               sm_threadpool *pool)
{
    op->kt->gavgpool(h * w, op->c, in, op->mean);
    sm_se_run_with_mean(op, op->mean, in, h, w, out, pool);
}

const float *sm_se_gate(const sm_se *op, const float *mean)
{
    op->kt->se(op->c, op->rd, mean, op->w1, op->b1, op->w2, op->b2, op->act, op->h, op->gate);
    return op->gate;
}

void sm_se_run_with_mean(const sm_se *op, const float *mean, const float *in, size_t h, size_t w,
                         float *out, sm_threadpool *pool)
{
    sm_se_gate(op, mean);
    se_ctx x = {op, in, out, h * w, 0};
    x.n_tasks = sm_ops_tasks_bytes(h * w / 64 + 1, 2.0 * sizeof(float) * (double)(h * w * op->c), pool);
    sm_threadpool_run(pool, x.n_tasks, scale_task, &x);
}

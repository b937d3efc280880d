/* Element-wise graph ops: ADD, MUL, RELU, PRELU, LOGISTIC, SOFTMAX
 * (docs/GRAPH.md 3.2). */
#include "graph_internal.h"

#include <math.h>

/* ---- ADD, MUL --------------------------------------------------------------------------- */

/* Equal shapes, or one operand with a single element (broadcast). */
static sm_status binary_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    if ((st = gr_need_float(g, s, s->in[0], "input 0", err)) || (st = gr_need_float(g, s, s->in[1], "input 1", err)) ||
        (st = gr_attr_act(g, s, err)))
        return st;
    const gr_tensor *a = gr_t(g, s->in[0]), *b = gr_t(g, s->in[1]);
    if (gr_shape_eq(a->shape, b->shape) || b->numel == 1)
        *want = a->shape;
    else if (a->numel == 1)
        *want = b->shape;
    else
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED,
                         "operands %s and %s: only equal shapes or a single-element operand are supported",
                         gr_shape_str(a->shape, b1, sizeof b1), gr_shape_str(b->shape, b2, sizeof b2));
    return SM_OK;
}

static void binary_run(const sm_graph *g, const gr_step *s, bool mul)
{
    const gr_tensor *ta = gr_t(g, s->in[0]), *tb = gr_t(g, s->in[1]);
    const float *a = gr_p(g, s->in[0]), *b = gr_p(g, s->in[1]);
    float *y = gr_p(g, s->out[0]);
    size_t n = gr_t(g, s->out[0])->numel;
    if (!mul && ta->numel == tb->numel) {
        sm_add(a, b, n, s->act, y);
        return;
    }
    size_t sa = ta->numel == 1 ? 0 : 1, sb = tb->numel == 1 ? 0 : 1;
    for (size_t i = 0; i < n; i++) {
        float v = mul ? a[i * sa] * b[i * sb] : a[i * sa] + b[i * sb];
        y[i] = s->act == SM_ACT_RELU && v < 0.0f ? 0.0f : v;
    }
}

static void add_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool) { binary_run(g, s, false); }
static void mul_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool) { binary_run(g, s, true); }

const gr_op sm_graph_op_add = {binary_prepare, NULL, add_run, NULL, GR_FUSE_RESIDUAL};
const gr_op sm_graph_op_mul = {binary_prepare, NULL, mul_run, NULL, GR_FUSE_NONE};

/* ---- RELU, LOGISTIC ----------------------------------------------------------------------- */

static sm_status unary_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                               sm_error *err)
{
    sm_status st = gr_need_float(g, s, s->in[0], "input", err);
    if (st)
        return st;
    *want = gr_t(g, s->in[0])->shape;
    return SM_OK;
}

static void relu_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    sm_activation(SM_ACT_RELU, gr_p(g, s->in[0]), gr_t(g, s->in[0])->numel, 0, NULL, gr_p(g, s->out[0]), pool);
}

static void logistic_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const float *in = gr_p(g, s->in[0]);
    float *y = gr_p(g, s->out[0]);
    size_t n = gr_t(g, s->in[0])->numel;
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-in[i]));
}

const gr_op sm_graph_op_relu = {unary_prepare, NULL, relu_run, NULL, GR_FUSE_RELU};
const gr_op sm_graph_op_logistic = {unary_prepare, NULL, logistic_run, NULL, GR_FUSE_NONE};

/* ---- PRELU ---------------------------------------------------------------------------------- */

/* alpha: one stored slope per channel of the input's last axis. */
static sm_status prelu_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                               sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    int x = s->in[0];
    if ((st = gr_need_input_and_const(g, s, "alpha", err)))
        return st;
    sm_graph_shape xs = gr_t(g, x)->shape, as = gr_t(g, s->in[1])->shape;
    bool ok = xs.ndim >= 1 && as.ndim >= 1 && as.dims[as.ndim - 1] == xs.dims[xs.ndim - 1] &&
              gr_t(g, s->in[1])->numel == (size_t)xs.dims[xs.ndim - 1];
    if (!ok)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "alpha shape %s for input %s: one slope per channel expected",
                         gr_shape_str(as, b1, sizeof b1), gr_shape_str(xs, b2, sizeof b2));
    s->alpha = s->in[1];
    *want = xs;
    return SM_OK;
}

static void prelu_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    sm_activation(SM_ACT_PRELU, gr_p(g, s->in[0]), x->numel, (size_t)x->shape.dims[x->shape.ndim - 1],
                  gr_p(g, s->alpha), gr_p(g, s->out[0]), pool);
}

const gr_op sm_graph_op_prelu = {prelu_prepare, NULL, prelu_run, NULL, GR_FUSE_PRELU};

/* ---- SOFTMAX ----------------------------------------------------------------------------------- */

/* Over the last axis, beta 1. */
static sm_status softmax_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                 sm_error *err)
{
    sm_status st = unary_prepare(g, s, file_out, want, err);
    if (st)
        return st;
    const sm_meta *b = gr_attr(g, s, "beta");
    if (!b || b->type != SM_META_F32 || b->v.f32 != 1.0f)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "option 'beta' missing or not 1 (only beta 1 is supported)");
    if (want->ndim < 1)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "softmax of a scalar");
    s->rows = gr_t(g, s->in[0])->numel / (size_t)want->dims[want->ndim - 1];
    return SM_OK;
}

static void softmax_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const float *x = gr_p(g, s->in[0]);
    float *y = gr_p(g, s->out[0]);
    size_t n = gr_t(g, s->in[0])->numel / s->rows;
    for (size_t r = 0; r < s->rows; r++)
        sm_softmax(x + r * n, n, y + r * n);
}

const gr_op sm_graph_op_softmax = {softmax_prepare, NULL, softmax_run, NULL, GR_FUSE_NONE};

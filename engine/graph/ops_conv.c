/* Graph ops on NHWC windows and weights: CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN (docs/GRAPH.md 3.1). */
#include "graph_internal.h"

#include <string.h>

/* ---- CONV_2D, DEPTHWISE_CONV_2D ------------------------------------------------------- */

/* input [1,H,W,C]; filter [O,KH,KW,C] (OHWI) or, depthwise, [1,KH,KW,C]; bias [O]. */
static sm_status conv_prepare(sm_graph *g, gr_step *s, bool dw, sm_graph_shape *want, sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    int64_t v;
    int x = s->in[0];
    if ((st = gr_need_input_and_const(g, s, "weights", err)) || (st = gr_attr_window(g, s, false, err)))
        return st;
    if (dw && (st = gr_attr_int(g, s, "depth_multiplier", 1, 1, &v, err)))
        return st;
    sm_graph_shape xs = gr_t(g, x)->shape, ws = gr_t(g, s->in[1])->shape;
    if (xs.ndim != 4 || xs.dims[0] != 1)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "input '%s' shape %s, [1,H,W,C] expected", gr_t(g, x)->name,
                         gr_shape_str(xs, b1, sizeof b1));
    if (ws.ndim != 4 || (dw ? ws.dims[0] != 1 || ws.dims[3] != xs.dims[3] : ws.dims[3] != xs.dims[3]) ||
        ws.dims[1] < 1 || ws.dims[2] < 1 || ws.dims[1] > 64 || ws.dims[2] > 64)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "weights '%s' shape %s do not fit input %s (%s expected)",
                         gr_t(g, s->in[1])->name, gr_shape_str(ws, b1, sizeof b1), gr_shape_str(xs, b2, sizeof b2),
                         dw ? "[1,KH,KW,C]" : "[O,KH,KW,C]");
    int32_t oc = dw ? ws.dims[3] : ws.dims[0];
    if (s->n_in == 3 && s->in[2] >= 0) {
        if ((st = gr_need_const(g, s, s->in[2], "bias", err)))
            return st;
        if (gr_t(g, s->in[2])->numel != (size_t)oc)
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "bias '%s' has %zu values, %d expected",
                             gr_t(g, s->in[2])->name, gr_t(g, s->in[2])->numel, (int)oc);
    }
    s->kh = (uint32_t)ws.dims[1];
    s->kw = (uint32_t)ws.dims[2];
    want->ndim = 4;
    want->dims[0] = 1;
    want->dims[3] = oc;
    if ((st = gr_out_extent(g, s, xs.dims[1], s->kh, s->sh, &want->dims[1], err)) ||
        (st = gr_out_extent(g, s, xs.dims[2], s->kw, s->sw, &want->dims[2], err)))
        return st;
    double macs = (double)want->dims[1] * want->dims[2] * oc * s->kh * s->kw * (dw ? 1 : xs.dims[3]);
    g->gflop += 2e-9 * macs;
    return SM_OK;
}

static sm_status conv2d_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                sm_error *err)
{
    return conv_prepare(g, s, false, want, err);
}

static sm_status dwconv_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                sm_error *err)
{
    return conv_prepare(g, s, true, want, err);
}

/* The kernel with the epilogue fusion left: bias, residual, RELU/PRELU. */
static sm_conv_desc conv_desc(const sm_graph *g, const gr_step *s, bool dw)
{
    const gr_tensor *w = gr_t(g, s->in[1]), *x = gr_t(g, s->in[0]);
    sm_conv_desc d = {0};
    d.in_ch = (uint32_t)x->shape.dims[3];
    d.out_ch = (uint32_t)(dw ? w->shape.dims[3] : w->shape.dims[0]);
    d.kh = s->kh;
    d.kw = s->kw;
    d.stride_h = s->sh;
    d.stride_w = s->sw;
    d.pad = s->same ? sm_padding_same() : sm_padding_valid();
    d.layout = dw ? SM_WLAYOUT_1HWO : SM_WLAYOUT_OHWI;
    d.weights = w->cdata;
    d.bias = s->n_in > 2 && s->in[2] >= 0 ? gr_t(g, s->in[2])->cdata : NULL;
    d.act = s->act;
    d.alpha = s->alpha >= 0 ? gr_t(g, s->alpha)->cdata : NULL;
    d.name = w->name;
    d.precision = g->precision; /* read by regular convs only: depthwise stays FP32 */
    return d;
}

static sm_status conv_bind(sm_graph *g, gr_step *s, bool dw, sm_error *err)
{
    sm_conv_desc d = conv_desc(g, s, dw);
    sm_conv2d *c = NULL;
    sm_dwconv *k = NULL;
    sm_error e2 = {0};
    sm_status st = dw ? sm_dwconv_prepare(&d, &k, &e2) : sm_conv2d_prepare(&d, &c, &e2);
    s->kernel = dw ? (void *)k : (void *)c;
    return st ? gr_op_err(g, s, err, st, "%s", e2.msg) : SM_OK;
}

static sm_status conv2d_bind(sm_graph *g, gr_step *s, sm_error *err) { return conv_bind(g, s, false, err); }
static sm_status dwconv_bind(sm_graph *g, gr_step *s, sm_error *err) { return conv_bind(g, s, true, err); }

/* The fused residual is read in the epilogue. */
static void conv2d_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    const float *r = s->residual >= 0 ? gr_p(g, s->residual) : NULL;
    size_t h = (size_t)x->shape.dims[1], w = (size_t)x->shape.dims[2];
    if (s->op == &sm_graph_op_depthwise_conv2d)
        sm_dwconv_run(s->kernel, gr_p(g, s->in[0]), h, w, r, gr_p(g, s->out[0]), pool);
    else
        sm_conv2d_run(s->kernel, gr_p(g, s->in[0]), h, w, r, gr_p(g, s->out[0]), pool);
}

static void conv2d_release(gr_step *s) { sm_conv2d_free(s->kernel); }
static void dwconv_release(gr_step *s) { sm_dwconv_free(s->kernel); }

const gr_op sm_graph_op_conv2d = {conv2d_prepare, conv2d_bind, conv2d_run, conv2d_release, GR_FUSE_HOST};
const gr_op sm_graph_op_depthwise_conv2d = {dwconv_prepare, dwconv_bind, conv2d_run, dwconv_release, GR_FUSE_HOST};

/* ---- FULLY_CONNECTED -------------------------------------------------------------------- */

/* y[r, o] = act(sum_i x[r, i] w[o, i] + b[o]); x [N,I], w [O,I], b [O] */
static sm_status fc_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                            sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    int x = s->in[0];
    if ((st = gr_need_input_and_const(g, s, "weights", err)) || (st = gr_attr_act(g, s, err)))
        return st;
    sm_graph_shape xs = gr_t(g, x)->shape, ws = gr_t(g, s->in[1])->shape;
    if (xs.ndim != 2 || ws.ndim != 2 || ws.dims[1] != xs.dims[1])
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "input %s and weights %s: [N,I] and [O,I] expected",
                         gr_shape_str(xs, b1, sizeof b1), gr_shape_str(ws, b2, sizeof b2));
    if (s->n_in == 3 && s->in[2] >= 0) {
        if ((st = gr_need_const(g, s, s->in[2], "bias", err)))
            return st;
        if (gr_t(g, s->in[2])->numel != (size_t)ws.dims[0])
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "bias '%s' has %zu values, %d expected",
                             gr_t(g, s->in[2])->name, gr_t(g, s->in[2])->numel, (int)ws.dims[0]);
    }
    want->ndim = 2;
    want->dims[0] = xs.dims[0];
    want->dims[1] = ws.dims[0];
    s->rows = (size_t)xs.dims[0];
    g->gflop += 2e-9 * (double)xs.dims[0] * ws.dims[0] * ws.dims[1];
    return SM_OK;
}

static sm_status fc_bind(sm_graph *g, gr_step *s, sm_error *err)
{
    const gr_tensor *w = gr_t(g, s->in[1]);
    sm_dense_desc d = {0};
    d.in_features = (uint32_t)w->shape.dims[1];
    d.out_features = (uint32_t)w->shape.dims[0];
    d.layout = SM_DENSE_OI;
    d.weights = w->cdata;
    d.bias = s->n_in > 2 && s->in[2] >= 0 ? gr_t(g, s->in[2])->cdata : NULL;
    d.act = s->act;
    d.name = w->name;
    d.precision = g->precision;
    sm_dense *k = NULL;
    sm_error e2 = {0};
    sm_status st = sm_dense_prepare(&d, &k, &e2);
    s->kernel = k;
    return st ? gr_op_err(g, s, err, st, "%s", e2.msg) : SM_OK;
}

static void fc_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    sm_dense_run(s->kernel, gr_p(g, s->in[0]), s->rows, NULL, gr_p(g, s->out[0]), pool);
}

static void fc_release(gr_step *s) { sm_dense_free(s->kernel); }

const gr_op sm_graph_op_fully_connected = {fc_prepare, fc_bind, fc_run, fc_release, GR_FUSE_NONE};

/* ---- MAX_POOL_2D, AVERAGE_POOL_2D ------------------------------------------------------- */

static sm_status pool_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                              sm_error *err)
{
    char b1[64];
    sm_status st;
    int x = s->in[0];
    if ((st = gr_need_float(g, s, x, "input", err)) || (st = gr_attr_window(g, s, true, err)))
        return st;
    if (s->act != SM_ACT_NONE)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation on a pool");
    sm_graph_shape xs = gr_t(g, x)->shape;
    if (xs.ndim != 4 || xs.dims[0] != 1)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "input shape %s, [1,H,W,C] expected",
                         gr_shape_str(xs, b1, sizeof b1));
    *want = xs;
    if ((st = gr_out_extent(g, s, xs.dims[1], s->kh, s->sh, &want->dims[1], err)) ||
        (st = gr_out_extent(g, s, xs.dims[2], s->kw, s->sw, &want->dims[2], err)))
        return st;
    s->global = want->dims[1] == 1 && want->dims[2] == 1 && !s->same && s->kh == (uint32_t)xs.dims[1] &&
                s->kw == (uint32_t)xs.dims[2];
    return SM_OK;
}

static sm_status maxpool_bind(sm_graph *g, gr_step *s, sm_error *err)
{
    sm_maxpool *k = NULL;
    sm_error e2 = {0};
    sm_status st = sm_maxpool_prepare(s->kh, s->kw, s->sh, s->sw, s->same ? sm_padding_same() : sm_padding_valid(),
                                      &k, &e2);
    s->kernel = k;
    return st ? gr_op_err(g, s, err, st, "%s", e2.msg) : SM_OK;
}

static void maxpool_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    sm_maxpool_run(s->kernel, gr_p(g, s->in[0]), (size_t)x->shape.dims[1], (size_t)x->shape.dims[2],
                   (size_t)x->shape.dims[3], gr_p(g, s->out[0]), pool);
}

static void maxpool_release(gr_step *s) { sm_maxpool_free(s->kernel); }

/* The mean over the window's valid (non-padding) elements; SAME pads
 * floor(total/2) before. Small maps only (the global case goes to
 * sm_global_avgpool), so a plain loop. */
static void avgpool_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]), *o = gr_t(g, s->out[0]);
    int32_t ih = x->shape.dims[1], iw = x->shape.dims[2], c = x->shape.dims[3];
    if (s->global) {
        sm_global_avgpool(gr_p(g, s->in[0]), (size_t)ih * (size_t)iw, (size_t)c, gr_p(g, s->out[0]));
        return;
    }
    int32_t oh = o->shape.dims[1], ow = o->shape.dims[2];
    int32_t pt = 0, pl = 0;
    if (s->same) {
        int32_t th = (oh - 1) * (int32_t)s->sh + (int32_t)s->kh - ih, tw = (ow - 1) * (int32_t)s->sw + (int32_t)s->kw - iw;
        pt = th > 0 ? th / 2 : 0;
        pl = tw > 0 ? tw / 2 : 0;
    }
    const float *in = gr_p(g, s->in[0]);
    float *out = gr_p(g, s->out[0]);
    for (int32_t oy = 0; oy < oh; oy++)
        for (int32_t ox = 0; ox < ow; ox++) {
            int32_t y0 = oy * (int32_t)s->sh - pt, x0 = ox * (int32_t)s->sw - pl;
            int32_t y1 = y0 + (int32_t)s->kh, x1 = x0 + (int32_t)s->kw;
            y0 = y0 < 0 ? 0 : y0;
            x0 = x0 < 0 ? 0 : x0;
            y1 = y1 > ih ? ih : y1;
            x1 = x1 > iw ? iw : x1;
            float *dst = out + ((size_t)oy * (size_t)ow + (size_t)ox) * (size_t)c;
            for (int32_t ch = 0; ch < c; ch++) {
                float acc = 0.0f;
                for (int32_t yy = y0; yy < y1; yy++)
                    for (int32_t xx = x0; xx < x1; xx++)
                        acc += in[((size_t)yy * (size_t)iw + (size_t)xx) * (size_t)c + (size_t)ch];
                dst[ch] = acc / (float)((y1 - y0) * (x1 - x0));
            }
        }
}

const gr_op sm_graph_op_max_pool2d = {pool_prepare, maxpool_bind, maxpool_run, maxpool_release, GR_FUSE_NONE};
const gr_op sm_graph_op_average_pool2d = {pool_prepare, NULL, avgpool_run, NULL, GR_FUSE_NONE};

/* ---- MEAN -------------------------------------------------------------------------------- */

/* The NHWC spatial mean (global average pool): axes [1, 2] of a [1,H,W,C] input. */
static sm_status mean_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                              sm_error *err)
{
    sm_status st;
    int x = s->in[0];
    if ((st = gr_need_float(g, s, x, "input", err)))
        return st;
    int64_t ax[SM_GRAPH_MAX_DIMS];
    size_t na;
    const sm_meta *kd = gr_attr(g, s, "keep_dims");
    sm_graph_shape xs = gr_t(g, x)->shape;
    if (!gr_meta_int_array(gr_attr(g, s, "axes"), ax, SM_GRAPH_MAX_DIMS, &na) || !kd || kd->type != SM_META_BOOL)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "options 'axes' (integers) and 'keep_dims' (bool) expected");
    if (xs.ndim != 4 || xs.dims[0] != 1 || na != 2 || !((ax[0] == 1 && ax[1] == 2) || (ax[0] == 2 && ax[1] == 1)))
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED,
                         "only the mean over axes [1, 2] of a [1,H,W,C] input is supported");
    want->ndim = kd->v.b ? 4 : 2;
    want->dims[0] = 1;
    want->dims[want->ndim - 1] = xs.dims[3];
    if (kd->v.b)
        want->dims[1] = want->dims[2] = 1;
    return SM_OK;
}

static void mean_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    sm_global_avgpool(gr_p(g, s->in[0]), (size_t)x->shape.dims[1] * (size_t)x->shape.dims[2],
                      (size_t)x->shape.dims[3], gr_p(g, s->out[0]));
}

const gr_op sm_graph_op_mean = {mean_prepare, NULL, mean_run, NULL, GR_FUSE_NONE};

/* Graph ops that move data or call out: PAD, RESHAPE, CONCATENATION,
 * STRIDED_SLICE, DEQUANTIZE and CUSTOM:<code> through the hooks given to
 * sm_graph_load (docs/GRAPH.md 3.3). */
#include "graph_internal.h"

#include <string.h>

/* ---- PAD ---------------------------------------------------------------------------------- */

/* Zeros appended on the last (channel) axis only: pads [before0, after0, ...]. */
static sm_status pad_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                             sm_error *err)
{
    int x = s->in[0];
    sm_status st = gr_need_float(g, s, x, "input", err);
    if (st)
        return st;
    int64_t p[2 * SM_GRAPH_MAX_DIMS];
    size_t n;
    sm_graph_shape xs = gr_t(g, x)->shape;
    if (xs.ndim == 0 || !gr_meta_int_array(gr_attr(g, s, "pads"), p, 2 * SM_GRAPH_MAX_DIMS, &n) || n != 2 * xs.ndim)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "option 'pads' missing or not %u integers", 2 * xs.ndim);
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] != 0)
            return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED,
                             "only zero padding appended on the last (channel) axis is supported");
    if (p[n - 1] < 0 || p[n - 1] > 65536)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "channel padding %lld", (long long)p[n - 1]);
    s->pad_after = (int)p[n - 1];
    *want = xs;
    want->dims[xs.ndim - 1] += s->pad_after;
    return SM_OK;
}

static void pad_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    size_t c = (size_t)x->shape.dims[x->shape.ndim - 1];
    sm_channel_pad(gr_p(g, s->in[0]), x->numel / c, c, c + (size_t)s->pad_after, gr_p(g, s->out[0]));
}

const gr_op sm_graph_op_pad = {pad_prepare, NULL, pad_run, NULL, GR_FUSE_NONE};

/* ---- RESHAPE ------------------------------------------------------------------------------ */

/* The output shape is the declared one; only the element count must agree. */
static sm_status reshape_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                 sm_error *err)
{
    char b1[64];
    sm_status st = gr_need_float(g, s, s->in[0], "input", err);
    if (st)
        return st;
    if (sm_graph_numel(file_out[0]) != gr_t(g, s->in[0])->numel)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "RESHAPE of %zu elements into %s", gr_t(g, s->in[0])->numel,
                         gr_shape_str(file_out[0], b1, sizeof b1));
    *want = file_out[0];
    return SM_OK;
}

static void reshape_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    memcpy(gr_p(g, s->out[0]), gr_p(g, s->in[0]), gr_t(g, s->in[0])->numel * sizeof(float));
}

const gr_op sm_graph_op_reshape = {reshape_prepare, NULL, reshape_run, NULL, GR_FUSE_NONE};

/* ---- CONCATENATION ------------------------------------------------------------------------- */

static sm_status concat_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    int64_t v;
    int x = s->in[0];
    if ((st = gr_attr_int(g, s, "axis", -SM_GRAPH_MAX_DIMS, SM_GRAPH_MAX_DIMS - 1, &v, err)) ||
        (st = gr_attr_act(g, s, err)))
        return st;
    if (s->act != SM_ACT_NONE)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation on CONCATENATION");
    if ((st = gr_need_float(g, s, x, "input 0", err)))
        return st;
    sm_graph_shape s0 = gr_t(g, x)->shape;
    int axis = (int)(v < 0 ? v + s0.ndim : v);
    if (axis < 0 || axis >= (int)s0.ndim)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "axis %lld out of range for rank %u", (long long)v, s0.ndim);
    s->axis = axis;
    *want = s0;
    for (int k = 1; k < s->n_in; k++) {
        if ((st = gr_need_float(g, s, s->in[k], "input", err)))
            return st;
        sm_graph_shape sk = gr_t(g, s->in[k])->shape;
        bool ok = sk.ndim == s0.ndim;
        for (uint32_t d = 0; ok && d < s0.ndim; d++)
            ok = (int)d == axis || sk.dims[d] == s0.dims[d];
        if (!ok)
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "input %d shape %s does not match %s off axis %d", k,
                             gr_shape_str(sk, b1, sizeof b1), gr_shape_str(s0, b2, sizeof b2), axis);
        if ((int64_t)want->dims[axis] + sk.dims[axis] > (1 << 24))
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "concatenated axis longer than 2^24");
        want->dims[axis] += sk.dims[axis];
    }
    return SM_OK;
}

static void concat_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *o = gr_t(g, s->out[0]);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < s->axis; d++)
        outer *= (size_t)o->shape.dims[d];
    for (uint32_t d = (uint32_t)s->axis + 1; d < o->shape.ndim; d++)
        inner *= (size_t)o->shape.dims[d];
    float *dst = gr_p(g, s->out[0]);
    for (size_t i = 0; i < outer; i++)
        for (int k = 0; k < s->n_in; k++) {
            size_t n = inner * (size_t)gr_t(g, s->in[k])->shape.dims[s->axis];
            memcpy(dst, gr_p(g, s->in[k]) + i * n, n * sizeof(float));
            dst += n;
        }
}

const gr_op sm_graph_op_concatenation = {concat_prepare, NULL, concat_run, NULL, GR_FUSE_NONE};

/* ---- STRIDED_SLICE -------------------------------------------------------------------------- */

/* begin/end/strides per axis with begin/end/shrink-axis masks; positive
 * strides, no ellipsis or new-axis masks. */
static sm_status slice_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                               sm_error *err)
{
    int x = s->in[0];
    sm_status st = gr_need_float(g, s, x, "input", err);
    if (st)
        return st;
    sm_graph_shape xs = gr_t(g, x)->shape;
    int64_t be[SM_GRAPH_MAX_DIMS], en[SM_GRAPH_MAX_DIMS], stv[SM_GRAPH_MAX_DIMS], bm, em, elm, nam, sam;
    size_t nb, ne, ns;
    if (!gr_meta_int_array(gr_attr(g, s, "begin"), be, SM_GRAPH_MAX_DIMS, &nb) ||
        !gr_meta_int_array(gr_attr(g, s, "end"), en, SM_GRAPH_MAX_DIMS, &ne) ||
        !gr_meta_int_array(gr_attr(g, s, "strides"), stv, SM_GRAPH_MAX_DIMS, &ns) || nb != xs.ndim ||
        ne != xs.ndim || ns != xs.ndim)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "begin/end/strides missing or not %u integers each", xs.ndim);
    if ((st = gr_attr_int(g, s, "begin_mask", 0, 255, &bm, err)) ||
        (st = gr_attr_int(g, s, "end_mask", 0, 255, &em, err)) ||
        (st = gr_attr_int(g, s, "ellipsis_mask", 0, 0, &elm, err)) ||
        (st = gr_attr_int(g, s, "new_axis_mask", 0, 0, &nam, err)) ||
        (st = gr_attr_int(g, s, "shrink_axis_mask", 0, 255, &sam, err)))
        return st;
    want->ndim = 0;
    for (uint32_t d = 0; d < xs.ndim; d++) {
        int64_t dim = xs.dims[d], b = be[d], e = en[d], sd = stv[d];
        if (sd <= 0)
            return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "stride %lld on axis %u (positive only)", (long long)sd, d);
        if (bm >> d & 1)
            b = 0;
        else if (b < 0)
            b += dim;
        b = b < 0 ? 0 : b > dim ? dim : b;
        if ((sam >> d & 1) && b >= dim)
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "shrunk axis %u: begin %lld outside [0,%lld)", d, (long long)b,
                             (long long)dim);
        if (sam >> d & 1) {
            e = b + 1;
        } else if (em >> d & 1) {
            e = dim;
        } else {
            if (e < 0)
                e += dim;
            e = e < 0 ? 0 : e > dim ? dim : e;
        }
        int64_t len = e > b ? (e - b + sd - 1) / sd : 0;
        if ((sam >> d & 1) && len != 1)
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "shrunk axis %u has begin %lld outside [0,%lld)", d,
                             (long long)b, (long long)dim);
        s->begin[d] = (int32_t)b;
        s->end[d] = (int32_t)len; /* element count along d */
        s->stride[d] = (int32_t)sd;
        if (!(sam >> d & 1))
            want->dims[want->ndim++] = (int32_t)len;
    }
    return SM_OK;
}

static void slice_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const gr_tensor *x = gr_t(g, s->in[0]);
    int32_t dims[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1}, b[SM_GRAPH_MAX_DIMS] = {0}, n[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1},
            st[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1};
    uint32_t off = SM_GRAPH_MAX_DIMS - x->shape.ndim; /* right-align to rank 4 */
    for (uint32_t d = 0; d < x->shape.ndim; d++) {
        dims[off + d] = x->shape.dims[d];
        b[off + d] = s->begin[d];
        n[off + d] = s->end[d];
        st[off + d] = s->stride[d];
    }
    const float *in = gr_p(g, s->in[0]);
    float *out = gr_p(g, s->out[0]);
    size_t o = 0;
    for (int32_t i0 = 0; i0 < n[0]; i0++)
        for (int32_t i1 = 0; i1 < n[1]; i1++)
            for (int32_t i2 = 0; i2 < n[2]; i2++)
                for (int32_t i3 = 0; i3 < n[3]; i3++) {
                    size_t a = (size_t)(b[0] + i0 * st[0]);
                    a = a * (size_t)dims[1] + (size_t)(b[1] + i1 * st[1]);
                    a = a * (size_t)dims[2] + (size_t)(b[2] + i2 * st[2]);
                    a = a * (size_t)dims[3] + (size_t)(b[3] + i3 * st[3]);
                    out[o++] = in[a];
                }
}

const gr_op sm_graph_op_strided_slice = {slice_prepare, NULL, slice_run, NULL, GR_FUSE_NONE};

/* ---- DEQUANTIZE ------------------------------------------------------------------------------- */

/* Of a stored tensor only: the converter (or the loader, for --f16 files)
 * has widened it, so the output is that constant under a second name. */
static sm_status dequantize_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                    sm_error *err)
{
    if (s->in[0] < 0 || g->t[s->in[0]].kind != GR_CONST || !g->t[s->in[0]].cdata)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "DEQUANTIZE of anything but a stored float tensor");
    *want = gr_t(g, s->in[0])->shape;
    return SM_OK;
}

const gr_op sm_graph_op_dequantize = {dequantize_prepare, NULL, NULL, NULL, GR_FUSE_ALIAS};

/* ---- CUSTOM:<code> ------------------------------------------------------------------------------ */

/* The hook named by <code> checks the operands and its options; the output
 * shapes are the declared ones. */
static sm_status custom_prepare(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                                sm_error *err)
{
    sm_str code = {s->opname.ptr + 7, s->opname.len - 7}; /* after "CUSTOM:" (sm_graph_find_op_n) */
    for (size_t i = 0; i < g->n_customs && !s->custom; i++)
        if (g->customs[i].code && gr_str_eq(code, g->customs[i].code))
            s->custom = &g->customs[i];
    if (!s->custom)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED,
                         "no implementation of custom op '%.*s' was given to the executor (sm_graph_load's hooks)",
                         (int)(code.len > 64 ? 64 : code.len), code.ptr);
    sm_graph_shape ins[GR_MAX_OP_IN];
    for (int k = 0; k < s->n_in; k++) {
        if (s->in[k] < 0 || (g->t[s->in[k]].kind == GR_CONST && !g->t[s->in[k]].cdata))
            return gr_op_err(g, s, err, SM_ERR_FORMAT, "input %d absent or not float", k);
        ins[k] = g->t[s->in[k]].shape;
    }
    sm_error e2 = {0};
    if (s->custom->prepare(g->f, s->op_index, (size_t)s->n_in, ins, (size_t)s->n_out, file_out, &s->cstate, &e2))
        return gr_op_err(g, s, err, e2.status ? e2.status : SM_ERR_FORMAT, "%s", e2.msg);
    memcpy(want, file_out, (size_t)s->n_out * sizeof *want);
    return SM_OK;
}

static void custom_run(const sm_graph *g, const gr_step *s, sm_threadpool *pool)
{
    const float *ins[GR_MAX_OP_IN];
    float *outs[GR_MAX_OP_OUT];
    for (int j = 0; j < s->n_in; j++)
        ins[j] = gr_p(g, s->in[j]);
    for (int j = 0; j < s->n_out; j++)
        outs[j] = gr_p(g, s->out[j]);
    s->custom->run(s->cstate, ins, outs);
}

static void custom_release(gr_step *s)
{
    if (s->custom && s->cstate && s->custom->free)
        s->custom->free(s->cstate);
}

const gr_op sm_graph_op_custom = {custom_prepare, NULL, custom_run, custom_release, GR_FUSE_NONE};

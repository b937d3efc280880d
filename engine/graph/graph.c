/* graph: the small executor for .smw operator graphs (see sm_graph.h).
 * Everything that can fail happens in sm_graph_load; sm_graph_run only computes. */
#include "sm_graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_kernels.h"

#define MAX_OP_IN 8
#define MAX_OP_OUT 4
#define MAX_GRAPH_IO 16
#define LIVE_FOREVER 0x7fffffff

typedef enum {
    OP_CONV,
    OP_DWCONV,
    OP_ADD,
    OP_MUL,
    OP_RELU,
    OP_PRELU,
    OP_LOGISTIC,
    OP_MAXPOOL,
    OP_PAD,
    OP_RESHAPE,
    OP_CONCAT,
    OP_SLICE,
    OP_DEQUANTIZE,
    OP_AVGPOOL,
    OP_MEAN,
    OP_SOFTMAX,
    OP_FC,
    OP_CUSTOM
} op_type;

static const struct {
    const char *name;
    op_type type;
} op_names[] = {
    {"CONV_2D", OP_CONV},          {"DEPTHWISE_CONV_2D", OP_DWCONV}, {"ADD", OP_ADD},
    {"MUL", OP_MUL},               {"RELU", OP_RELU},                {"PRELU", OP_PRELU},
    {"LOGISTIC", OP_LOGISTIC},     {"MAX_POOL_2D", OP_MAXPOOL},      {"PAD", OP_PAD},
    {"RESHAPE", OP_RESHAPE},       {"CONCATENATION", OP_CONCAT},     {"STRIDED_SLICE", OP_SLICE},
    {"DEQUANTIZE", OP_DEQUANTIZE}, {"AVERAGE_POOL_2D", OP_AVGPOOL}, {"MEAN", OP_MEAN},
    {"SOFTMAX", OP_SOFTMAX},       {"FULLY_CONNECTED", OP_FC},
};

typedef enum { T_CONST, T_INPUT, T_ACT } tensor_kind;

typedef struct {
    char *name;
    sm_graph_shape shape;
    size_t numel;
    tensor_kind kind;
    const float *cdata; /* T_CONST */
    float *owned;       /* widened f16 constant */
    int def, last;      /* step positions (liveness) */
    bool is_output, used;
    size_t off;         /* in the arena */
} tensor;

typedef struct {
    op_type type;
    size_t op_index;
    char opname[64];
    int in[MAX_OP_IN], n_in;
    int out[MAX_OP_OUT], n_out;
    /* options */
    bool same;
    uint32_t sh, sw, kh, kw;
    sm_act act;         /* fused activation (NONE/RELU; PRELU after fusion) */
    int alpha;          /* tensor of PReLU slopes or -1 */
    int residual;       /* tensor added in the epilogue or -1 */
    int axis;
    int32_t begin[SM_GRAPH_MAX_DIMS], end[SM_GRAPH_MAX_DIMS], stride[SM_GRAPH_MAX_DIMS];
    int pad_after;      /* PAD: channels appended */
    const sm_graph_custom_op *custom;
    void *cstate;
    sm_conv2d *conv;
    sm_dwconv *dw;
    sm_maxpool *mp;
    sm_dense *fc;
    size_t rows;        /* SOFTMAX / FULLY_CONNECTED: independent rows */
    bool global;        /* AVERAGE_POOL_2D whose one window covers the whole input */
    double pos;         /* execution position */
    bool dead;
    int n_fused;
} step;

struct sm_graph {
    const sm_smw *f;
    tensor *t;
    size_t n_t, cap_t;
    step *s;
    size_t n_s;
    step **order;       /* live steps in execution order */
    size_t n_order;
    int inputs[MAX_GRAPH_IO], outputs[MAX_GRAPH_IO];
    size_t n_inputs, n_outputs;
    uint8_t *arena;
    size_t arena_bytes, naive_bytes;
    double gflop;
    size_t n_fused;
};

/* ---- small helpers ----------------------------------------------------------- */

size_t sm_graph_numel(sm_graph_shape s)
{
    size_t n = 1;
    for (uint32_t i = 0; i < s.ndim; i++)
        n *= (size_t)s.dims[i];
    return n;
}

static bool shape_eq(sm_graph_shape a, sm_graph_shape b)
{
    if (a.ndim != b.ndim)
        return false;
    for (uint32_t i = 0; i < a.ndim; i++)
        if (a.dims[i] != b.dims[i])
            return false;
    return true;
}

static const char *shape_str(sm_graph_shape s, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < s.ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%d", i ? "," : "", (int)s.dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

static const sm_meta *meta(const sm_smw *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const sm_meta *meta(const sm_smw *f, const char *fmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    return sm_smw_find_meta(f, key);
}

static bool meta_int(const sm_meta *m, int64_t *v)
{
    if (!m)
        return false;
    switch (m->type) {
    case SM_META_I32: *v = m->v.i32; return true;
    case SM_META_U32: *v = m->v.u32; return true;
    case SM_META_I64: *v = m->v.i64; return true;
    case SM_META_U64: *v = (int64_t)m->v.u64; return m->v.u64 <= INT64_MAX;
    default: return false;
    }
}

/* Integer array (i32/u32/i64 elements) of at most max entries. */
static bool meta_int_array(const sm_meta *m, int64_t *out, size_t max, size_t *n)
{
    if (!m || m->type != SM_META_ARRAY || m->count > max)
        return false;
    for (size_t i = 0; i < m->count; i++) {
        if (m->elem_type == SM_META_I32 || m->elem_type == SM_META_U32) {
            uint32_t u;
            memcpy(&u, m->array_data + 4 * i, 4);
            out[i] = m->elem_type == SM_META_I32 ? (int64_t)(int32_t)u : (int64_t)u;
        } else if (m->elem_type == SM_META_I64) {
            int64_t v;
            memcpy(&v, m->array_data + 8 * i, 8);
            out[i] = v;
        } else {
            return false;
        }
    }
    *n = (size_t)m->count;
    return true;
}

static bool sm_str_eq(sm_str s, const char *c)
{
    return strlen(c) == s.len && memcmp(s.ptr, c, s.len) == 0;
}

static sm_status op_err(const sm_graph *g, const step *s, sm_error *err, sm_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static sm_status op_err(const sm_graph *g, const step *s, sm_error *err, sm_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sm_error_set(err, st, "%s: graph op %zu (%s): %s", g->f->path, s->op_index, s->opname, msg);
}

static int find_tensor(const sm_graph *g, const char *name, size_t len)
{
    for (size_t i = g->n_t; i-- > 0;)
        if (strlen(g->t[i].name) == len && memcmp(g->t[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int add_tensor(sm_graph *g, const char *name, size_t len, sm_error *err)
{
    if (g->n_t == g->cap_t) {
        size_t cap = g->cap_t ? g->cap_t * 2 : 256;
        tensor *t = realloc(g->t, cap * sizeof *t);
        if (!t)
            return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", g->f->path), -1;
        g->t = t;
        g->cap_t = cap;
    }
    tensor *t = &g->t[g->n_t];
    memset(t, 0, sizeof *t);
    t->name = malloc(len + 1);
    if (!t->name)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", g->f->path), -1;
    memcpy(t->name, name, len);
    t->name[len] = 0;
    t->def = -1;
    t->last = -1;
    return (int)g->n_t++;
}

static sm_status shape_from_info(const sm_tensor_info *ti, sm_graph_shape *s)
{
    s->ndim = ti->ndim;
    for (uint32_t i = 0; i < ti->ndim; i++) {
        if (ti->dims[i] > INT32_MAX)
            return SM_ERR_SHAPE;
        s->dims[i] = (int32_t)ti->dims[i];
    }
    return SM_OK;
}

/* The tensor an operator input names: produced earlier, a graph input, or a constant. */
static sm_status resolve_input(sm_graph *g, const step *s, sm_str name, int *idx, sm_error *err)
{
    if (name.len == 0) {
        *idx = -1;
        return SM_OK;
    }
    if (name.len >= SM_SMW_MAX_NAME)
        return op_err(g, s, err, SM_ERR_FORMAT, "input name too long");
    int i = find_tensor(g, name.ptr, name.len);
    if (i >= 0) {
        *idx = i;
        return SM_OK;
    }
    char nm[SM_SMW_MAX_NAME];
    memcpy(nm, name.ptr, name.len);
    nm[name.len] = 0;
    const sm_tensor_info *ti = sm_smw_find_tensor(g->f, nm);
    if (!ti)
        return op_err(g, s, err, SM_ERR_FORMAT,
                      "input '%s' is neither a graph input, a stored tensor nor the output of an earlier op", nm);
    if (ti->dtype != SM_DTYPE_F32 && ti->dtype != SM_DTYPE_F16 && ti->dtype != SM_DTYPE_I32)
        return op_err(g, s, err, SM_ERR_SHAPE, "stored tensor '%s' has dtype %s (f32, f16 or i32 expected)", nm,
                      sm_dtype_name(ti->dtype));
    i = add_tensor(g, name.ptr, name.len, err);
    if (i < 0)
        return SM_ERR_NOMEM;
    tensor *t = &g->t[i];
    t->kind = T_CONST;
    if (shape_from_info(ti, &t->shape))
        return op_err(g, s, err, SM_ERR_SHAPE, "stored tensor '%s' has a dimension above 2^31", nm);
    t->numel = (size_t)ti->numel;
    if (ti->dtype == SM_DTYPE_F32) {
        t->cdata = ti->data;
    } else if (ti->dtype == SM_DTYPE_F16) {
        /* --f16 files: widen once at load, as the converter would have */
        t->owned = sm_aligned_alloc(t->numel ? t->numel * sizeof(float) : 64);
        if (!t->owned)
            return op_err(g, s, err, SM_ERR_NOMEM, "out of memory widening '%s'", nm);
        const uint8_t *h = ti->data;
        for (size_t k = 0; k < t->numel; k++) {
            uint16_t v;
            memcpy(&v, h + 2 * k, 2);
            t->owned[k] = sm_f16_to_f32(v);
        }
        t->cdata = t->owned;
    } else {
        t->cdata = NULL; /* i32 constants: only their presence matters (options hold the values) */
    }
    *idx = i;
    return SM_OK;
}

/* ---- parsing ------------------------------------------------------------------- */

static sm_status get_opt_int(sm_graph *g, step *s, const char *key, int64_t lo, int64_t hi, int64_t *v,
                             sm_error *err)
{
    const sm_meta *m = meta(g->f, "graph.op.%zu.%s", s->op_index, key);
    if (!meta_int(m, v))
        return op_err(g, s, err, SM_ERR_FORMAT, "option '%s' missing or not an integer", key);
    if (*v < lo || *v > hi)
        return op_err(g, s, err, SM_ERR_UNSUPPORTED, "option %s = %lld (supported %lld..%lld)", key,
                      (long long)*v, (long long)lo, (long long)hi);
    return SM_OK;
}

static sm_status get_opt_str(sm_graph *g, step *s, const char *key, sm_str *v, sm_error *err)
{
    const sm_meta *m = meta(g->f, "graph.op.%zu.%s", s->op_index, key);
    if (!m || m->type != SM_META_STRING)
        return op_err(g, s, err, SM_ERR_FORMAT, "option '%s' missing or not a string", key);
    *v = m->v.str;
    return SM_OK;
}

/* Fused activation of the op itself: NONE or RELU. */
static sm_status get_act(sm_graph *g, step *s, sm_error *err)
{
    sm_str a;
    sm_status st = get_opt_str(g, s, "activation", &a, err);
    if (st)
        return st;
    if (sm_str_eq(a, "NONE"))
        s->act = SM_ACT_NONE;
    else if (sm_str_eq(a, "RELU"))
        s->act = SM_ACT_RELU;
    else
        return op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation '%.*s' (NONE or RELU supported)",
                      (int)(a.len > 32 ? 32 : a.len), a.ptr);
    return SM_OK;
}

static sm_status get_window(sm_graph *g, step *s, bool pool, sm_error *err)
{
    int64_t v;
    sm_str p;
    sm_status st = get_opt_str(g, s, "padding", &p, err);
    if (st)
        return st;
    if (sm_str_eq(p, "SAME"))
        s->same = true;
    else if (sm_str_eq(p, "VALID"))
        s->same = false;
    else
        return op_err(g, s, err, SM_ERR_UNSUPPORTED, "padding '%.*s' (SAME or VALID)", (int)(p.len > 32 ? 32 : p.len),
                      p.ptr);
    if ((st = get_opt_int(g, s, "stride_h", 1, 64, &v, err)))
        return st;
    s->sh = (uint32_t)v;
    if ((st = get_opt_int(g, s, "stride_w", 1, 64, &v, err)))
        return st;
    s->sw = (uint32_t)v;
    if (pool) {
        if ((st = get_opt_int(g, s, "filter_h", 1, 64, &v, err)))
            return st;
        s->kh = (uint32_t)v;
        if ((st = get_opt_int(g, s, "filter_w", 1, 64, &v, err)))
            return st;
        s->kw = (uint32_t)v;
    } else {
        if ((st = get_opt_int(g, s, "dilation_h", 1, 1, &v, err)) ||
            (st = get_opt_int(g, s, "dilation_w", 1, 1, &v, err)))
            return st;
    }
    return get_act(g, s, err);
}

static sm_status out_extent(sm_graph *g, step *s, int32_t in, uint32_t k, uint32_t stride, int32_t *out,
                            sm_error *err)
{
    size_t o, lead;
    sm_error e2 = {0};
    if (sm_conv_out_extent((size_t)in, k, stride, s->same ? SM_PAD_SAME : SM_PAD_VALID, 0, 0, &o, &lead, &e2))
        return op_err(g, s, err, SM_ERR_SHAPE, "%s", e2.msg);
    *out = (int32_t)o;
    return SM_OK;
}

static const tensor *T(const sm_graph *g, int i) { return &g->t[i]; }

static sm_status need_const(sm_graph *g, step *s, int i, const char *what, sm_error *err)
{
    if (i < 0 || g->t[i].kind != T_CONST || !g->t[i].cdata)
        return op_err(g, s, err, SM_ERR_FORMAT, "%s must be a stored float tensor (or its DEQUANTIZE)", what);
    return SM_OK;
}

static sm_status need_act(sm_graph *g, step *s, int i, const char *what, sm_error *err)
{
    if (i < 0)
        return op_err(g, s, err, SM_ERR_FORMAT, "%s is absent", what);
    if (g->t[i].kind == T_CONST && !g->t[i].cdata)
        return op_err(g, s, err, SM_ERR_SHAPE, "%s '%s' is an integer constant, float expected", what, g->t[i].name);
    return SM_OK;
}

/* Computes the output shape(s) of s into want[] and prepares its options. */
static sm_status infer(sm_graph *g, step *s, sm_graph_shape *want, sm_error *err)
{
    char b1[64], b2[64];
    sm_status st;
    int64_t v;
    s->alpha = s->residual = -1;
    s->act = SM_ACT_NONE;
    int x = s->n_in > 0 ? s->in[0] : -1;
    if (s->type != OP_CUSTOM && s->n_out != 1)
        return op_err(g, s, err, SM_ERR_FORMAT, "%d outputs, 1 expected", s->n_out);
    switch (s->type) {
    case OP_CONV:
    case OP_DWCONV: {
        bool dw = s->type == OP_DWCONV;
        if (s->n_in < 2 || s->n_in > 3)
            return op_err(g, s, err, SM_ERR_FORMAT, "%d inputs (input, weights[, bias])", s->n_in);
        if ((st = need_act(g, s, x, "input", err)) || (st = need_const(g, s, s->in[1], "weights", err)))
            return st;
        if ((st = get_window(g, s, false, err)))
            return st;
        if (dw && (st = get_opt_int(g, s, "depth_multiplier", 1, 1, &v, err)))
            return st;
        sm_graph_shape xs = T(g, x)->shape, ws = T(g, s->in[1])->shape;
        if (xs.ndim != 4 || xs.dims[0] != 1)
            return op_err(g, s, err, SM_ERR_SHAPE, "input '%s' shape %s, [1,H,W,C] expected", T(g, x)->name,
                          shape_str(xs, b1, sizeof b1));
        if (ws.ndim != 4 || (dw ? ws.dims[0] != 1 || ws.dims[3] != xs.dims[3] : ws.dims[3] != xs.dims[3]) ||
            ws.dims[1] < 1 || ws.dims[2] < 1 || ws.dims[1] > 64 || ws.dims[2] > 64)
            return op_err(g, s, err, SM_ERR_SHAPE, "weights '%s' shape %s do not fit input %s (%s expected)",
                          T(g, s->in[1])->name, shape_str(ws, b1, sizeof b1), shape_str(xs, b2, sizeof b2),
                          dw ? "[1,KH,KW,C]" : "[O,KH,KW,C]");
        int32_t oc = dw ? ws.dims[3] : ws.dims[0];
        if (s->n_in == 3 && s->in[2] >= 0) {
            if ((st = need_const(g, s, s->in[2], "bias", err)))
                return st;
            if (T(g, s->in[2])->numel != (size_t)oc)
                return op_err(g, s, err, SM_ERR_SHAPE, "bias '%s' has %zu values, %d expected", T(g, s->in[2])->name,
                              T(g, s->in[2])->numel, (int)oc);
        }
        s->kh = (uint32_t)ws.dims[1];
        s->kw = (uint32_t)ws.dims[2];
        want->ndim = 4;
        want->dims[0] = 1;
        want->dims[3] = oc;
        if ((st = out_extent(g, s, xs.dims[1], s->kh, s->sh, &want->dims[1], err)) ||
            (st = out_extent(g, s, xs.dims[2], s->kw, s->sw, &want->dims[2], err)))
            return st;
        double macs = (double)want->dims[1] * want->dims[2] * oc * s->kh * s->kw * (dw ? 1 : xs.dims[3]);
        g->gflop += 2e-9 * macs;
        return SM_OK;
    }
    case OP_AVGPOOL:
    case OP_MAXPOOL: {
        if (s->n_in != 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in != 1 ? op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 1 expected", s->n_in) : st;
        if ((st = get_window(g, s, true, err)))
            return st;
        if (s->act != SM_ACT_NONE)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation on a pool");
        sm_graph_shape xs = T(g, x)->shape;
        if (xs.ndim != 4 || xs.dims[0] != 1)
            return op_err(g, s, err, SM_ERR_SHAPE, "input shape %s, [1,H,W,C] expected", shape_str(xs, b1, sizeof b1));
        *want = xs;
        if ((st = out_extent(g, s, xs.dims[1], s->kh, s->sh, &want->dims[1], err)) ||
            (st = out_extent(g, s, xs.dims[2], s->kw, s->sw, &want->dims[2], err)))
            return st;
        s->global = want->dims[1] == 1 && want->dims[2] == 1 && !s->same && s->kh == (uint32_t)xs.dims[1] &&
                    s->kw == (uint32_t)xs.dims[2];
        return SM_OK;
    }
    case OP_MEAN: {
        /* the NHWC spatial mean (global average pool), as TF's Mean over axes [1, 2] */
        if (s->n_in != 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in != 1 ? op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 1 expected", s->n_in) : st;
        int64_t ax[SM_GRAPH_MAX_DIMS];
        size_t na;
        const sm_meta *kd = meta(g->f, "graph.op.%zu.keep_dims", s->op_index);
        sm_graph_shape xs = T(g, x)->shape;
        if (!meta_int_array(meta(g->f, "graph.op.%zu.axes", s->op_index), ax, SM_GRAPH_MAX_DIMS, &na) || !kd ||
            kd->type != SM_META_BOOL)
            return op_err(g, s, err, SM_ERR_FORMAT, "options 'axes' (integers) and 'keep_dims' (bool) expected");
        if (xs.ndim != 4 || xs.dims[0] != 1 || na != 2 || !((ax[0] == 1 && ax[1] == 2) || (ax[0] == 2 && ax[1] == 1)))
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "only the mean over axes [1, 2] of a [1,H,W,C] input is supported");
        want->ndim = kd->v.b ? 4 : 2;
        want->dims[0] = 1;
        want->dims[want->ndim - 1] = xs.dims[3];
        if (kd->v.b)
            want->dims[1] = want->dims[2] = 1;
        return SM_OK;
    }
    case OP_SOFTMAX: {
        if (s->n_in != 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in != 1 ? op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 1 expected", s->n_in) : st;
        const sm_meta *b = meta(g->f, "graph.op.%zu.beta", s->op_index);
        if (!b || b->type != SM_META_F32 || b->v.f32 != 1.0f)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "option 'beta' missing or not 1 (only beta 1 is supported)");
        *want = T(g, x)->shape;
        if (want->ndim < 1)
            return op_err(g, s, err, SM_ERR_SHAPE, "softmax of a scalar");
        s->rows = T(g, x)->numel / (size_t)want->dims[want->ndim - 1];
        return SM_OK;
    }
    case OP_FC: {
        /* TFLite FULLY_CONNECTED: y[r, o] = act(sum_i x[r, i] w[o, i] + b[o]), w [O, I] */
        if (s->n_in < 2 || s->n_in > 3)
            return op_err(g, s, err, SM_ERR_FORMAT, "%d inputs (input, weights[, bias])", s->n_in);
        if ((st = need_act(g, s, x, "input", err)) || (st = need_const(g, s, s->in[1], "weights", err)) ||
            (st = get_act(g, s, err)))
            return st;
        sm_graph_shape xs = T(g, x)->shape, ws = T(g, s->in[1])->shape;
        if (xs.ndim != 2 || ws.ndim != 2 || ws.dims[1] != xs.dims[1])
            return op_err(g, s, err, SM_ERR_SHAPE, "input %s and weights %s: [N,I] and [O,I] expected",
                          shape_str(xs, b1, sizeof b1), shape_str(ws, b2, sizeof b2));
        if (s->n_in == 3 && s->in[2] >= 0) {
            if ((st = need_const(g, s, s->in[2], "bias", err)))
                return st;
            if (T(g, s->in[2])->numel != (size_t)ws.dims[0])
                return op_err(g, s, err, SM_ERR_SHAPE, "bias '%s' has %zu values, %d expected", T(g, s->in[2])->name,
                              T(g, s->in[2])->numel, (int)ws.dims[0]);
        }
        want->ndim = 2;
        want->dims[0] = xs.dims[0];
        want->dims[1] = ws.dims[0];
        s->rows = (size_t)xs.dims[0];
        g->gflop += 2e-9 * (double)xs.dims[0] * ws.dims[0] * ws.dims[1];
        return SM_OK;
    }
    case OP_ADD:
    case OP_MUL: {
        if (s->n_in != 2)
            return op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 2 expected", s->n_in);
        if ((st = need_act(g, s, s->in[0], "input 0", err)) || (st = need_act(g, s, s->in[1], "input 1", err)) ||
            (st = get_act(g, s, err)))
            return st;
        const tensor *a = T(g, s->in[0]), *b = T(g, s->in[1]);
        if (shape_eq(a->shape, b->shape) || b->numel == 1)
            *want = a->shape;
        else if (a->numel == 1)
            *want = b->shape;
        else
            return op_err(g, s, err, SM_ERR_UNSUPPORTED,
                          "operands %s and %s: only equal shapes or a single-element operand are supported",
                          shape_str(a->shape, b1, sizeof b1), shape_str(b->shape, b2, sizeof b2));
        return SM_OK;
    }
    case OP_RELU:
    case OP_LOGISTIC:
        if (s->n_in != 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in != 1 ? op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 1 expected", s->n_in) : st;
        *want = T(g, x)->shape;
        return SM_OK;
    case OP_PRELU: {
        if (s->n_in != 2)
            return op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, 2 expected", s->n_in);
        if ((st = need_act(g, s, x, "input", err)) || (st = need_const(g, s, s->in[1], "alpha", err)))
            return st;
        sm_graph_shape xs = T(g, x)->shape, as = T(g, s->in[1])->shape;
        bool ok = xs.ndim >= 1 && as.ndim >= 1 && as.dims[as.ndim - 1] == xs.dims[xs.ndim - 1] &&
                  T(g, s->in[1])->numel == (size_t)xs.dims[xs.ndim - 1];
        if (!ok)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "alpha shape %s for input %s: one slope per channel expected",
                          shape_str(as, b1, sizeof b1), shape_str(xs, b2, sizeof b2));
        s->alpha = s->in[1];
        *want = xs;
        return SM_OK;
    }
    case OP_PAD: {
        if (s->n_in < 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in < 1 ? op_err(g, s, err, SM_ERR_FORMAT, "no input") : st;
        int64_t p[2 * SM_GRAPH_MAX_DIMS];
        size_t n;
        sm_graph_shape xs = T(g, x)->shape;
        if (xs.ndim == 0 ||
            !meta_int_array(meta(g->f, "graph.op.%zu.pads", s->op_index), p, 2 * SM_GRAPH_MAX_DIMS, &n) ||
            n != 2 * xs.ndim)
            return op_err(g, s, err, SM_ERR_FORMAT, "option 'pads' missing or not %u integers", 2 * xs.ndim);
        for (size_t i = 0; i + 1 < n; i++)
            if (p[i] != 0)
                return op_err(g, s, err, SM_ERR_UNSUPPORTED,
                              "only zero padding appended on the last (channel) axis is supported");
        if (p[n - 1] < 0 || p[n - 1] > 65536)
            return op_err(g, s, err, SM_ERR_SHAPE, "channel padding %lld", (long long)p[n - 1]);
        s->pad_after = (int)p[n - 1];
        *want = xs;
        want->dims[xs.ndim - 1] += s->pad_after;
        return SM_OK;
    }
    case OP_RESHAPE: {
        if (s->n_in < 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in < 1 ? op_err(g, s, err, SM_ERR_FORMAT, "no input") : st;
        want->ndim = 0; /* taken from the output shape; the element count is checked */
        return SM_OK;
    }
    case OP_CONCAT: {
        if (s->n_in < 1)
            return op_err(g, s, err, SM_ERR_FORMAT, "no inputs");
        if ((st = get_opt_int(g, s, "axis", -SM_GRAPH_MAX_DIMS, SM_GRAPH_MAX_DIMS - 1, &v, err)) ||
            (st = get_act(g, s, err)))
            return st;
        if (s->act != SM_ACT_NONE)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation on CONCATENATION");
        if ((st = need_act(g, s, x, "input 0", err)))
            return st;
        sm_graph_shape s0 = T(g, x)->shape;
        int axis = (int)(v < 0 ? v + s0.ndim : v);
        if (axis < 0 || axis >= (int)s0.ndim)
            return op_err(g, s, err, SM_ERR_SHAPE, "axis %lld out of range for rank %u", (long long)v, s0.ndim);
        s->axis = axis;
        *want = s0;
        for (int k = 1; k < s->n_in; k++) {
            if ((st = need_act(g, s, s->in[k], "input", err)))
                return st;
            sm_graph_shape sk = T(g, s->in[k])->shape;
            bool ok = sk.ndim == s0.ndim;
            for (uint32_t d = 0; ok && d < s0.ndim; d++)
                ok = (int)d == axis || sk.dims[d] == s0.dims[d];
            if (!ok)
                return op_err(g, s, err, SM_ERR_SHAPE, "input %d shape %s does not match %s off axis %d", k,
                              shape_str(sk, b1, sizeof b1), shape_str(s0, b2, sizeof b2), axis);
            if ((int64_t)want->dims[axis] + sk.dims[axis] > (1 << 24))
                return op_err(g, s, err, SM_ERR_SHAPE, "concatenated axis longer than 2^24");
            want->dims[axis] += sk.dims[axis];
        }
        return SM_OK;
    }
    case OP_SLICE: {
        if (s->n_in < 1 || (st = need_act(g, s, x, "input", err)))
            return s->n_in < 1 ? op_err(g, s, err, SM_ERR_FORMAT, "no input") : st;
        sm_graph_shape xs = T(g, x)->shape;
        int64_t be[SM_GRAPH_MAX_DIMS], en[SM_GRAPH_MAX_DIMS], stv[SM_GRAPH_MAX_DIMS], bm, em, elm, nam, sam;
        size_t nb, ne, ns;
        if (!meta_int_array(meta(g->f, "graph.op.%zu.begin", s->op_index), be, SM_GRAPH_MAX_DIMS, &nb) ||
            !meta_int_array(meta(g->f, "graph.op.%zu.end", s->op_index), en, SM_GRAPH_MAX_DIMS, &ne) ||
            !meta_int_array(meta(g->f, "graph.op.%zu.strides", s->op_index), stv, SM_GRAPH_MAX_DIMS, &ns) ||
            nb != xs.ndim || ne != xs.ndim || ns != xs.ndim)
            return op_err(g, s, err, SM_ERR_FORMAT, "begin/end/strides missing or not %u integers each", xs.ndim);
        if ((st = get_opt_int(g, s, "begin_mask", 0, 255, &bm, err)) ||
            (st = get_opt_int(g, s, "end_mask", 0, 255, &em, err)) ||
            (st = get_opt_int(g, s, "ellipsis_mask", 0, 0, &elm, err)) ||
            (st = get_opt_int(g, s, "new_axis_mask", 0, 0, &nam, err)) ||
            (st = get_opt_int(g, s, "shrink_axis_mask", 0, 255, &sam, err)))
            return st;
        want->ndim = 0;
        for (uint32_t d = 0; d < xs.ndim; d++) {
            int64_t dim = xs.dims[d], b = be[d], e = en[d], sd = stv[d];
            if (sd <= 0)
                return op_err(g, s, err, SM_ERR_UNSUPPORTED, "stride %lld on axis %u (positive only)", (long long)sd, d);
            if (bm >> d & 1)
                b = 0;
            else if (b < 0)
                b += dim;
            b = b < 0 ? 0 : b > dim ? dim : b;
            if ((sam >> d & 1) && b >= dim)
                return op_err(g, s, err, SM_ERR_SHAPE, "shrunk axis %u: begin %lld outside [0,%lld)", d,
                              (long long)b, (long long)dim);
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
                return op_err(g, s, err, SM_ERR_SHAPE, "shrunk axis %u has begin %lld outside [0,%lld)", d,
                              (long long)b, (long long)dim);
            s->begin[d] = (int32_t)b;
            s->end[d] = (int32_t)len; /* element count along d */
            s->stride[d] = (int32_t)sd;
            if (!(sam >> d & 1))
                want->dims[want->ndim++] = (int32_t)len;
        }
        return SM_OK;
    }
    case OP_DEQUANTIZE:
        if (s->n_in != 1 || s->in[0] < 0 || g->t[s->in[0]].kind != T_CONST || !g->t[s->in[0]].cdata)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED, "DEQUANTIZE of anything but a stored float tensor");
        *want = T(g, x)->shape;
        return SM_OK;
    case OP_CUSTOM:
        want->ndim = 0; /* the hook checks */
        return SM_OK;
    }
    return op_err(g, s, err, SM_ERR_UNSUPPORTED, "unknown op");
}

static sm_status parse_op(sm_graph *g, step *s, const sm_graph_custom_op *customs, size_t n_customs, sm_error *err)
{
    const sm_meta *m = meta(g->f, "graph.op.%zu.op", s->op_index);
    snprintf(s->opname, sizeof s->opname, "?");
    if (!m || m->type != SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: graph.op.%zu.op missing or not a string", g->f->path,
                            s->op_index);
    snprintf(s->opname, sizeof s->opname, "%.*s", (int)(m->v.str.len > 63 ? 63 : m->v.str.len), m->v.str.ptr);
    bool known = false;
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (sm_str_eq(m->v.str, op_names[i].name)) {
            s->type = op_names[i].type;
            known = true;
        }
    if (!known && m->v.str.len > 7 && memcmp(m->v.str.ptr, "CUSTOM:", 7) == 0) {
        s->type = OP_CUSTOM;
        sm_str code = {m->v.str.ptr + 7, m->v.str.len - 7};
        for (size_t i = 0; i < n_customs; i++)
            if (customs[i].code && sm_str_eq(code, customs[i].code))
                s->custom = &customs[i];
        if (!s->custom)
            return op_err(g, s, err, SM_ERR_UNSUPPORTED,
                          "no implementation of custom op '%.*s' was given to the executor (models/mediapipe_ops)",
                          (int)(code.len > 64 ? 64 : code.len), code.ptr);
        known = true;
    }
    if (!known)
        return op_err(g, s, err, SM_ERR_UNSUPPORTED, "operator not supported by the executor");

    const sm_meta *mi = meta(g->f, "graph.op.%zu.inputs", s->op_index);
    const sm_meta *mo = meta(g->f, "graph.op.%zu.outputs", s->op_index);
    if (!mi || mi->type != SM_META_ARRAY || mi->elem_type != SM_META_STRING || mi->count > MAX_OP_IN || !mo ||
        mo->type != SM_META_ARRAY || mo->elem_type != SM_META_STRING || mo->count < 1 || mo->count > MAX_OP_OUT)
        return op_err(g, s, err, SM_ERR_FORMAT, "inputs/outputs missing, not string lists or too many (max %d/%d)",
                      MAX_OP_IN, MAX_OP_OUT);
    s->n_in = (int)mi->count;
    for (int k = 0; k < s->n_in; k++) {
        sm_status st = resolve_input(g, s, mi->strings[k], &s->in[k], err);
        if (st)
            return st;
    }
    sm_graph_shape want[MAX_OP_OUT];
    memset(want, 0, sizeof want);
    s->n_out = (int)mo->count;
    sm_status st = infer(g, s, want, err);
    if (st)
        return st;

    /* outputs: shape from the file, checked against ours */
    sm_graph_shape outs[MAX_OP_OUT];
    for (int k = 0; k < s->n_out; k++) {
        sm_str nm = mo->strings[k];
        if (nm.len == 0 || nm.len >= SM_SMW_MAX_NAME)
            return op_err(g, s, err, SM_ERR_FORMAT, "output %d has an empty or too long name", k);
        if (find_tensor(g, nm.ptr, nm.len) >= 0)
            return op_err(g, s, err, SM_ERR_FORMAT, "output '%.*s' is produced twice", (int)nm.len, nm.ptr);
        int64_t d[SM_GRAPH_MAX_DIMS + 1];
        size_t nd;
        if (!meta_int_array(meta(g->f, "graph.op.%zu.output_shape.%d", s->op_index, k), d, SM_GRAPH_MAX_DIMS + 1, &nd) ||
            nd > SM_GRAPH_MAX_DIMS)
            return op_err(g, s, err, SM_ERR_FORMAT, "output_shape.%d missing or of rank above %d", k, SM_GRAPH_MAX_DIMS);
        sm_graph_shape os = {(uint32_t)nd, {0}};
        size_t numel = 1;
        for (size_t i = 0; i < nd; i++) {
            if (d[i] < 1 || d[i] > (1 << 24) || !sm_size_mul(numel, (size_t)d[i], &numel) || numel > (1u << 28))
                return op_err(g, s, err, SM_ERR_SHAPE, "output_shape.%d has an invalid dimension %lld", k,
                              (long long)d[i]);
            os.dims[i] = (int32_t)d[i];
        }
        outs[k] = os;
        char b1[64], b2[64];
        if (s->type == OP_RESHAPE) {
            if (numel != T(g, s->in[0])->numel)
                return op_err(g, s, err, SM_ERR_SHAPE, "RESHAPE of %zu elements into %s", T(g, s->in[0])->numel,
                              shape_str(os, b1, sizeof b1));
        } else if (s->type != OP_CUSTOM && !shape_eq(os, want[k])) {
            return op_err(g, s, err, SM_ERR_SHAPE, "output '%.*s' is %s in the file, the op computes %s", (int)nm.len,
                          nm.ptr, shape_str(os, b1, sizeof b1), shape_str(want[k], b2, sizeof b2));
        }
        int ti = add_tensor(g, nm.ptr, nm.len, err);
        if (ti < 0)
            return SM_ERR_NOMEM;
        g->t[ti].shape = os;
        g->t[ti].numel = numel;
        if (s->type == OP_DEQUANTIZE) {
            g->t[ti].kind = T_CONST; /* alias of the stored (already widened) tensor */
            g->t[ti].cdata = g->t[s->in[0]].cdata;
        } else {
            g->t[ti].kind = T_ACT;
        }
        s->out[k] = ti;
    }
    if (s->type == OP_DEQUANTIZE)
        s->dead = true;
    if (s->type == OP_CUSTOM) {
        sm_graph_shape ins[MAX_OP_IN];
        for (int k = 0; k < s->n_in; k++) {
            if (s->in[k] < 0 || (g->t[s->in[k]].kind == T_CONST && !g->t[s->in[k]].cdata))
                return op_err(g, s, err, SM_ERR_FORMAT, "input %d absent or not float", k);
            ins[k] = g->t[s->in[k]].shape;
        }
        sm_error e2 = {0};
        if (s->custom->prepare(g->f, s->op_index, (size_t)s->n_in, ins, (size_t)s->n_out, outs, &s->cstate, &e2))
            return op_err(g, s, err, e2.status ? e2.status : SM_ERR_FORMAT, "%s", e2.msg);
    }
    return SM_OK;
}

/* ---- fusion ------------------------------------------------------------------- */

typedef struct {
    int n;        /* live consumers */
    int consumer; /* step index of the only consumer */
} use_info;

static void count_uses(sm_graph *g, use_info *u)
{
    memset(u, 0, g->n_t * sizeof *u);
    for (size_t i = 0; i < g->n_s; i++) {
        step *s = &g->s[i];
        if (s->dead)
            continue;
        for (int k = 0; k < s->n_in; k++)
            if (s->in[k] >= 0) {
                u[s->in[k]].n++;
                u[s->in[k]].consumer = (int)i;
            }
        if (s->residual >= 0) {
            u[s->residual].n++;
            u[s->residual].consumer = (int)i;
        }
    }
}

static bool single_use(const sm_graph *g, const use_info *u, int t)
{
    return u[t].n == 1 && !g->t[t].is_output;
}

static void fuse(sm_graph *g, use_info *u)
{
    for (size_t i = 0; i < g->n_s; i++) {
        step *c = &g->s[i];
        if (c->dead || (c->type != OP_CONV && c->type != OP_DWCONV))
            continue;
        count_uses(g, u);
        int t = c->out[0];
        /* conv -> ADD(other, conv) : the other operand becomes the residual */
        if (c->act == SM_ACT_NONE && single_use(g, u, t)) {
            step *a = &g->s[u[t].consumer];
            if (a->type == OP_ADD && a->in[0] != a->in[1]) {
                int r = a->in[0] == t ? a->in[1] : a->in[0];
                if (shape_eq(g->t[r].shape, g->t[t].shape) && !(g->t[r].kind == T_CONST && !g->t[r].cdata)) {
                    c->residual = r;
                    c->act = a->act;
                    c->out[0] = a->out[0];
                    c->pos = a->pos;
                    a->dead = true;
                    c->n_fused++;
                    g->n_fused++;
                    count_uses(g, u);
                }
            }
        }
        /* conv -> RELU / PRELU */
        t = c->out[0];
        if (c->act == SM_ACT_NONE && single_use(g, u, t)) {
            step *p = &g->s[u[t].consumer];
            if (p->type == OP_RELU || (p->type == OP_PRELU && g->t[p->alpha].numel == (size_t)g->t[t].shape.dims[3])) {
                c->act = p->type == OP_RELU ? SM_ACT_RELU : SM_ACT_PRELU;
                c->alpha = p->type == OP_PRELU ? p->alpha : -1;
                c->out[0] = p->out[0];
                p->dead = true;
                c->n_fused++;
                g->n_fused++;
            }
        }
    }
}

/* ---- planning -------------------------------------------------------------------- */

static int cmp_pos(const void *a, const void *b)
{
    const step *x = *(step *const *)a, *y = *(step *const *)b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->op_index < y->op_index ? -1 : x->op_index > y->op_index;
}

typedef struct {
    size_t off, size;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static size_t tbytes(const tensor *t) { return ((t->numel * sizeof(float)) + 63) / 64 * 64; }

static sm_status plan(sm_graph *g, sm_error *err)
{
    g->order = malloc((g->n_s ? g->n_s : 1) * sizeof *g->order);
    if (!g->order)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", g->f->path);
    for (size_t i = 0; i < g->n_s; i++)
        if (!g->s[i].dead)
            g->order[g->n_order++] = &g->s[i];
    qsort(g->order, g->n_order, sizeof *g->order, cmp_pos);
    for (size_t i = 0; i < g->n_t; i++) {
        g->t[i].def = g->t[i].kind == T_INPUT ? 0 : -1;
        g->t[i].last = g->t[i].is_output ? LIVE_FOREVER : -1;
    }
    for (size_t k = 0; k < g->n_order; k++) {
        step *s = g->order[k];
        for (int j = 0; j < s->n_in; j++)
            if (s->in[j] >= 0 && g->t[s->in[j]].last < (int)k)
                g->t[s->in[j]].last = (int)k;
        if (s->residual >= 0 && g->t[s->residual].last < (int)k)
            g->t[s->residual].last = (int)k;
        for (int j = 0; j < s->n_out; j++) {
            tensor *t = &g->t[s->out[j]];
            t->def = (int)k;
            t->used = true;
            if (t->last < (int)k)
                t->last = (int)k;
        }
    }
    /* the graph inputs are written before run and read at their last use */
    for (size_t i = 0; i < g->n_inputs; i++) {
        tensor *t = &g->t[g->inputs[i]];
        t->used = true;
        if (t->last < 0)
            t->last = 0;
    }
    size_t n = 0;
    int *ids = malloc((g->n_t ? g->n_t : 1) * sizeof *ids);
    span *sp = malloc((g->n_t ? g->n_t : 1) * sizeof *sp);
    if (!ids || !sp) {
        free(ids);
        free(sp);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", g->f->path);
    }
    for (size_t i = 0; i < g->n_t; i++)
        if (g->t[i].kind != T_CONST && g->t[i].used)
            ids[n++] = (int)i;
    /* largest first, then first fit among tensors whose lifetimes overlap */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && tbytes(&g->t[ids[j]]) > tbytes(&g->t[ids[j - 1]]); j--) {
            int tmp = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = tmp;
        }
    size_t total = 0;
    g->naive_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        tensor *t = &g->t[ids[i]];
        size_t sz = tbytes(t), ns = 0;
        g->naive_bytes += sz;
        for (size_t j = 0; j < i; j++) {
            const tensor *o = &g->t[ids[j]];
            if (o->def <= t->last && t->def <= o->last)
                sp[ns++] = (span){o->off, tbytes(o)};
        }
        qsort(sp, ns, sizeof *sp, cmp_span);
        size_t off = 0;
        for (size_t j = 0; j < ns; j++) {
            if (sp[j].off >= off + sz)
                break;
            if (sp[j].off + sp[j].size > off)
                off = sp[j].off + sp[j].size;
        }
        t->off = off;
        if (off + sz > total)
            total = off + sz;
    }
    free(ids);
    free(sp);
    g->arena_bytes = total;
    g->arena = sm_aligned_alloc(total ? total : 64);
    if (!g->arena)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: cannot allocate %zu bytes of activations", g->f->path, total);
    memset(g->arena, 0, total ? total : 64);
    return SM_OK;
}

/* ---- kernels ------------------------------------------------------------------------ */

static sm_status prepare_kernels(sm_graph *g, sm_error *err)
{
    for (size_t k = 0; k < g->n_order; k++) {
        step *s = g->order[k];
        sm_status st = SM_OK;
        if (s->type == OP_CONV || s->type == OP_DWCONV) {
            const tensor *w = T(g, s->in[1]);
            const tensor *x = T(g, s->in[0]);
            sm_conv_desc d = {0};
            d.in_ch = (uint32_t)x->shape.dims[3];
            d.out_ch = (uint32_t)(s->type == OP_DWCONV ? w->shape.dims[3] : w->shape.dims[0]);
            d.kh = s->kh;
            d.kw = s->kw;
            d.stride_h = s->sh;
            d.stride_w = s->sw;
            d.pad = s->same ? sm_padding_same() : sm_padding_valid();
            d.layout = s->type == OP_DWCONV ? SM_WLAYOUT_1HWO : SM_WLAYOUT_OHWI;
            d.weights = w->cdata;
            d.bias = s->n_in > 2 && s->in[2] >= 0 ? T(g, s->in[2])->cdata : NULL;
            d.act = s->act;
            d.alpha = s->alpha >= 0 ? T(g, s->alpha)->cdata : NULL;
            d.name = w->name;
            sm_error e2 = {0};
            st = s->type == OP_CONV ? sm_conv2d_prepare(&d, &s->conv, &e2) : sm_dwconv_prepare(&d, &s->dw, &e2);
            if (st)
                return op_err(g, s, err, st, "%s", e2.msg);
        } else if (s->type == OP_FC) {
            const tensor *w = T(g, s->in[1]);
            sm_dense_desc d = {0};
            d.in_features = (uint32_t)w->shape.dims[1];
            d.out_features = (uint32_t)w->shape.dims[0];
            d.layout = SM_DENSE_OI;
            d.weights = w->cdata;
            d.bias = s->n_in > 2 && s->in[2] >= 0 ? T(g, s->in[2])->cdata : NULL;
            d.act = s->act;
            d.name = w->name;
            sm_error e2 = {0};
            if ((st = sm_dense_prepare(&d, &s->fc, &e2)))
                return op_err(g, s, err, st, "%s", e2.msg);
        } else if (s->type == OP_MAXPOOL) {
            sm_error e2 = {0};
            st = sm_maxpool_prepare(s->kh, s->kw, s->sh, s->sw, s->same ? sm_padding_same() : sm_padding_valid(),
                                    &s->mp, &e2);
            if (st)
                return op_err(g, s, err, st, "%s", e2.msg);
        }
    }
    return SM_OK;
}

static float *P(const sm_graph *g, int i)
{
    const tensor *t = &g->t[i];
    return t->kind == T_CONST ? (float *)(uintptr_t)t->cdata : (float *)(g->arena + t->off);
}

static sm_status load_io(sm_graph *g, sm_error *err)
{
    const sm_meta *mi = sm_smw_find_meta(g->f, "graph.inputs");
    const sm_meta *mo = sm_smw_find_meta(g->f, "graph.outputs");
    if (!mi || mi->type != SM_META_ARRAY || mi->elem_type != SM_META_STRING || mi->count < 1 ||
        mi->count > MAX_GRAPH_IO || !mo || mo->type != SM_META_ARRAY || mo->elem_type != SM_META_STRING ||
        mo->count < 1 || mo->count > MAX_GRAPH_IO)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: graph.inputs/graph.outputs missing or not 1..%d names (not a converted TFLite model?)",
                            g->f->path, MAX_GRAPH_IO);
    for (size_t k = 0; k < mi->count; k++) {
        sm_str nm = mi->strings[k];
        int64_t d[SM_GRAPH_MAX_DIMS + 1];
        size_t nd;
        if (nm.len == 0 || nm.len >= SM_SMW_MAX_NAME || find_tensor(g, nm.ptr, nm.len) >= 0)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: graph input %zu has an empty or repeated name", g->f->path, k);
        if (!meta_int_array(meta(g->f, "graph.input_shape.%zu", k), d, SM_GRAPH_MAX_DIMS + 1, &nd) ||
            nd > SM_GRAPH_MAX_DIMS || nd == 0)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: graph.input_shape.%zu missing or of rank above %d", g->f->path,
                                k, SM_GRAPH_MAX_DIMS);
        int ti = add_tensor(g, nm.ptr, nm.len, err);
        if (ti < 0)
            return SM_ERR_NOMEM;
        tensor *t = &g->t[ti];
        t->kind = T_INPUT;
        t->shape.ndim = (uint32_t)nd;
        t->numel = 1;
        for (size_t i = 0; i < nd; i++) {
            if (d[i] < 1 || d[i] > (1 << 24) || !sm_size_mul(t->numel, (size_t)d[i], &t->numel) ||
                t->numel > (1u << 28))
                return sm_error_set(err, SM_ERR_SHAPE, "%s: graph.input_shape.%zu has an invalid dimension",
                                    g->f->path, k);
            t->shape.dims[i] = (int32_t)d[i];
        }
        g->inputs[g->n_inputs++] = ti;
    }
    return SM_OK;
}

sm_status sm_graph_load(const sm_smw *f, const sm_graph_custom_op *customs, size_t n_customs, sm_graph **out,
                      sm_error *err)
{
    *out = NULL;
    sm_graph *g = calloc(1, sizeof *g);
    if (!g)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    g->f = f;
    uint32_t n_ops;
    sm_status st = sm_smw_meta_u32(f, "graph.n_ops", &n_ops, err);
    if (st == SM_OK && (n_ops == 0 || n_ops > 100000))
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: graph.n_ops = %u", f->path, n_ops);
    if (st == SM_OK)
        st = load_io(g, err);
    if (st == SM_OK) {
        g->s = calloc(n_ops, sizeof *g->s);
        if (!g->s)
            st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    }
    for (uint32_t i = 0; st == SM_OK && i < n_ops; i++) {
        step *s = &g->s[g->n_s++];
        s->op_index = i;
        s->pos = i;
        s->alpha = s->residual = -1;
        st = parse_op(g, s, customs, n_customs, err);
    }
    const sm_meta *mo = sm_smw_find_meta(f, "graph.outputs");
    for (size_t k = 0; st == SM_OK && k < mo->count; k++) {
        int ti = find_tensor(g, mo->strings[k].ptr, mo->strings[k].len);
        if (ti < 0 || g->t[ti].kind != T_ACT) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: graph output '%.*s' is not produced by any op", f->path,
                              (int)(mo->strings[k].len > 64 ? 64 : mo->strings[k].len), mo->strings[k].ptr);
            break;
        }
        g->t[ti].is_output = true;
        g->outputs[g->n_outputs++] = ti;
    }
    if (st == SM_OK) {
        use_info *u = malloc((g->n_t ? g->n_t : 1) * sizeof *u);
        if (!u)
            st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
        else
            fuse(g, u);
        free(u);
    }
    if (st == SM_OK)
        st = plan(g, err);
    if (st == SM_OK)
        st = prepare_kernels(g, err);
    if (st) {
        sm_graph_free(g);
        return st;
    }
    *out = g;
    return SM_OK;
}

void sm_graph_free(sm_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_s; i++) {
        step *s = &g->s[i];
        sm_conv2d_free(s->conv);
        sm_dwconv_free(s->dw);
        sm_maxpool_free(s->mp);
        sm_dense_free(s->fc);
        if (s->custom && s->cstate && s->custom->free)
            s->custom->free(s->cstate);
    }
    for (size_t i = 0; i < g->n_t; i++) {
        free(g->t[i].name);
        sm_aligned_free(g->t[i].owned);
    }
    free(g->t);
    free(g->s);
    free(g->order);
    sm_aligned_free(g->arena);
    free(g);
}

/* ---- run ---------------------------------------------------------------------------- */

static void run_slice(const sm_graph *g, const step *s)
{
    const tensor *x = T(g, s->in[0]);
    int32_t dims[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1}, b[SM_GRAPH_MAX_DIMS] = {0}, n[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1},
            st[SM_GRAPH_MAX_DIMS] = {1, 1, 1, 1};
    uint32_t off = SM_GRAPH_MAX_DIMS - x->shape.ndim; /* right-align to rank 4 */
    for (uint32_t d = 0; d < x->shape.ndim; d++) {
        dims[off + d] = x->shape.dims[d];
        b[off + d] = s->begin[d];
        n[off + d] = s->end[d];
        st[off + d] = s->stride[d];
    }
    const float *in = P(g, s->in[0]);
    float *out = P(g, s->out[0]);
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

static void run_concat(const sm_graph *g, const step *s)
{
    const tensor *o = T(g, s->out[0]);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < s->axis; d++)
        outer *= (size_t)o->shape.dims[d];
    for (uint32_t d = (uint32_t)s->axis + 1; d < o->shape.ndim; d++)
        inner *= (size_t)o->shape.dims[d];
    float *dst = P(g, s->out[0]);
    for (size_t i = 0; i < outer; i++)
        for (int k = 0; k < s->n_in; k++) {
            size_t n = inner * (size_t)T(g, s->in[k])->shape.dims[s->axis];
            memcpy(dst, P(g, s->in[k]) + i * n, n * sizeof(float));
            dst += n;
        }
}

static void run_binary(const sm_graph *g, const step *s)
{
    const tensor *ta = T(g, s->in[0]), *tb = T(g, s->in[1]);
    const float *a = P(g, s->in[0]), *b = P(g, s->in[1]);
    float *y = P(g, s->out[0]);
    size_t n = T(g, s->out[0])->numel;
    if (s->type == OP_ADD && ta->numel == tb->numel) {
        sm_add(a, b, n, s->act, y);
        return;
    }
    size_t sa = ta->numel == 1 ? 0 : 1, sb = tb->numel == 1 ? 0 : 1;
    for (size_t i = 0; i < n; i++) {
        float v = s->type == OP_ADD ? a[i * sa] + b[i * sb] : a[i * sa] * b[i * sb];
        y[i] = s->act == SM_ACT_RELU && v < 0.0f ? 0.0f : v;
    }
}

/* TF/TFLite average pool: the mean over the window's valid (non-padding)
 * elements; SAME pads floor(total/2) before. Small maps only (the global case
 * goes to sm_global_avgpool), so a plain loop. */
static void run_avgpool(const sm_graph *g, const step *s)
{
    const tensor *x = T(g, s->in[0]), *o = T(g, s->out[0]);
    int32_t ih = x->shape.dims[1], iw = x->shape.dims[2], c = x->shape.dims[3];
    int32_t oh = o->shape.dims[1], ow = o->shape.dims[2];
    int32_t pt = 0, pl = 0;
    if (s->same) {
        int32_t th = (oh - 1) * (int32_t)s->sh + (int32_t)s->kh - ih, tw = (ow - 1) * (int32_t)s->sw + (int32_t)s->kw - iw;
        pt = th > 0 ? th / 2 : 0;
        pl = tw > 0 ? tw / 2 : 0;
    }
    const float *in = P(g, s->in[0]);
    float *out = P(g, s->out[0]);
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

void sm_graph_run(sm_graph *g, sm_threadpool *pool)
{
    for (size_t k = 0; k < g->n_order; k++) {
        const step *s = g->order[k];
        const tensor *x = s->n_in > 0 && s->in[0] >= 0 ? T(g, s->in[0]) : NULL;
        float *y = P(g, s->out[0]);
        switch (s->type) {
        case OP_CONV:
            sm_conv2d_run(s->conv, P(g, s->in[0]), (size_t)x->shape.dims[1], (size_t)x->shape.dims[2],
                          s->residual >= 0 ? P(g, s->residual) : NULL, y, pool);
            break;
        case OP_DWCONV:
            sm_dwconv_run(s->dw, P(g, s->in[0]), (size_t)x->shape.dims[1], (size_t)x->shape.dims[2],
                          s->residual >= 0 ? P(g, s->residual) : NULL, y, pool);
            break;
        case OP_MAXPOOL:
            sm_maxpool_run(s->mp, P(g, s->in[0]), (size_t)x->shape.dims[1], (size_t)x->shape.dims[2],
                           (size_t)x->shape.dims[3], y, pool);
            break;
        case OP_AVGPOOL:
            if (s->global)
                sm_global_avgpool(P(g, s->in[0]), (size_t)x->shape.dims[1] * (size_t)x->shape.dims[2],
                                  (size_t)x->shape.dims[3], y);
            else
                run_avgpool(g, s);
            break;
        case OP_MEAN:
            sm_global_avgpool(P(g, s->in[0]), (size_t)x->shape.dims[1] * (size_t)x->shape.dims[2],
                              (size_t)x->shape.dims[3], y);
            break;
        case OP_SOFTMAX: {
            size_t n = x->numel / s->rows;
            for (size_t r = 0; r < s->rows; r++)
                sm_softmax(P(g, s->in[0]) + r * n, n, y + r * n);
            break;
        }
        case OP_FC:
            sm_dense_run(s->fc, P(g, s->in[0]), s->rows, NULL, y, pool);
            break;
        case OP_ADD:
        case OP_MUL:
            run_binary(g, s);
            break;
        case OP_RELU:
            sm_activation(SM_ACT_RELU, P(g, s->in[0]), x->numel, 0, NULL, y, pool);
            break;
        case OP_PRELU:
            sm_activation(SM_ACT_PRELU, P(g, s->in[0]), x->numel, (size_t)x->shape.dims[x->shape.ndim - 1],
                          P(g, s->alpha), y, pool);
            break;
        case OP_LOGISTIC: {
            const float *in = P(g, s->in[0]);
            for (size_t i = 0; i < x->numel; i++)
                y[i] = 1.0f / (1.0f + expf(-in[i]));
            break;
        }
        case OP_PAD: {
            size_t c = (size_t)x->shape.dims[x->shape.ndim - 1];
            sm_channel_pad(P(g, s->in[0]), x->numel / c, c, c + (size_t)s->pad_after, y);
            break;
        }
        case OP_RESHAPE:
            memcpy(y, P(g, s->in[0]), x->numel * sizeof(float));
            break;
        case OP_CONCAT:
            run_concat(g, s);
            break;
        case OP_SLICE:
            run_slice(g, s);
            break;
        case OP_CUSTOM: {
            const float *ins[MAX_OP_IN];
            float *outs[MAX_OP_OUT];
            for (int j = 0; j < s->n_in; j++)
                ins[j] = P(g, s->in[j]);
            for (int j = 0; j < s->n_out; j++)
                outs[j] = P(g, s->out[j]);
            s->custom->run(s->cstate, ins, outs);
            break;
        }
        case OP_DEQUANTIZE:
            break;
        }
    }
}

/* ---- accessors ------------------------------------------------------------------------ */

size_t sm_graph_n_inputs(const sm_graph *g) { return g->n_inputs; }
size_t sm_graph_n_outputs(const sm_graph *g) { return g->n_outputs; }
float *sm_graph_input(sm_graph *g, size_t k) { return k < g->n_inputs ? P(g, g->inputs[k]) : NULL; }
const float *sm_graph_output(const sm_graph *g, size_t k) { return k < g->n_outputs ? P(g, g->outputs[k]) : NULL; }

sm_graph_shape sm_graph_input_shape(const sm_graph *g, size_t k)
{
    sm_graph_shape z = {0, {0}};
    return k < g->n_inputs ? g->t[g->inputs[k]].shape : z;
}

sm_graph_shape sm_graph_output_shape(const sm_graph *g, size_t k)
{
    sm_graph_shape z = {0, {0}};
    return k < g->n_outputs ? g->t[g->outputs[k]].shape : z;
}

const char *sm_graph_output_name(const sm_graph *g, size_t k) { return k < g->n_outputs ? g->t[g->outputs[k]].name : NULL; }

int sm_graph_find_output(const sm_graph *g, const char *name)
{
    for (size_t k = 0; k < g->n_outputs; k++)
        if (!strcmp(g->t[g->outputs[k]].name, name))
            return (int)k;
    return -1;
}

sm_graph_stats sm_graph_get_stats(const sm_graph *g)
{
    sm_graph_stats s = {g->n_s, g->n_order, g->n_fused, g->arena_bytes, g->naive_bytes, g->gflop};
    return s;
}

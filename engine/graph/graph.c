/* graph: the executor for the .smw graph form (see sm_graph.h, docs/GRAPH.md).
 * Generic: reading nodes, tensors and shapes, looking ops up in the table
 * (graph_ops.inc), fusion, memory planning, the run loop. The ops themselves
 * (their prepare/bind/run) are in ops_*.c. Everything that can fail happens in
 * sm_graph_load; sm_graph_run only computes. */
#include "graph_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_FOREVER 0x7fffffff

/* The implementations, in the order of the public table (op_table.c). */
static const gr_op *const op_impls[] = {
#define SM_GRAPH_OP(NAME, impl, min_in, max_in, n_out, operands, attributes) &sm_graph_op_##impl,
#include "graph_ops.inc"
#undef SM_GRAPH_OP
};

/* ---- helpers (graph_internal.h) ---------------------------------------------------- */

size_t sm_graph_numel(sm_graph_shape s)
{
    size_t n = 1;
    for (uint32_t i = 0; i < s.ndim; i++)
        n *= (size_t)s.dims[i];
    return n;
}

bool gr_shape_eq(sm_graph_shape a, sm_graph_shape b)
{
    if (a.ndim != b.ndim)
        return false;
    for (uint32_t i = 0; i < a.ndim; i++)
        if (a.dims[i] != b.dims[i])
            return false;
    return true;
}

const char *gr_shape_str(sm_graph_shape s, char *buf, size_t cap)
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

const sm_meta *gr_attr(const sm_graph *g, const gr_step *s, const char *key)
{
    return meta(g->f, "graph.op.%zu.%s", s->op_index, key);
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
bool gr_meta_int_array(const sm_meta *m, int64_t *out, size_t max, size_t *n)
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

bool gr_str_eq(sm_str s, const char *c)
{
    return strlen(c) == s.len && memcmp(s.ptr, c, s.len) == 0;
}

sm_status gr_op_err(const sm_graph *g, const gr_step *s, sm_error *err, sm_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = s->opname.len > 63 ? 63 : (int)s->opname.len;
    return sm_error_set(err, st, "%s: graph op %zu (%.*s): %s", g->f->path, s->op_index, n,
                        s->opname.ptr ? s->opname.ptr : "?", msg);
}

sm_status gr_attr_int(sm_graph *g, gr_step *s, const char *key, int64_t lo, int64_t hi, int64_t *v, sm_error *err)
{
    if (!meta_int(gr_attr(g, s, key), v))
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "option '%s' missing or not an integer", key);
    if (*v < lo || *v > hi)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "option %s = %lld (supported %lld..%lld)", key,
                         (long long)*v, (long long)lo, (long long)hi);
    return SM_OK;
}

static sm_status gr_attr_str(sm_graph *g, gr_step *s, const char *key, sm_str *v, sm_error *err)
{
    const sm_meta *m = gr_attr(g, s, key);
    if (!m || m->type != SM_META_STRING)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "option '%s' missing or not a string", key);
    *v = m->v.str;
    return SM_OK;
}

sm_status gr_attr_act(sm_graph *g, gr_step *s, sm_error *err)
{
    sm_str a;
    sm_status st = gr_attr_str(g, s, "activation", &a, err);
    if (st)
        return st;
    if (gr_str_eq(a, "NONE"))
        s->act = SM_ACT_NONE;
    else if (gr_str_eq(a, "RELU"))
        s->act = SM_ACT_RELU;
    else
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "fused activation '%.*s' (NONE or RELU supported)",
                         (int)(a.len > 32 ? 32 : a.len), a.ptr);
    return SM_OK;
}

sm_status gr_attr_window(sm_graph *g, gr_step *s, bool pool, sm_error *err)
{
    int64_t v;
    sm_str p;
    sm_status st = gr_attr_str(g, s, "padding", &p, err);
    if (st)
        return st;
    if (gr_str_eq(p, "SAME"))
        s->same = true;
    else if (gr_str_eq(p, "VALID"))
        s->same = false;
    else
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED, "padding '%.*s' (SAME or VALID)",
                         (int)(p.len > 32 ? 32 : p.len), p.ptr);
    if ((st = gr_attr_int(g, s, "stride_h", 1, 64, &v, err)))
        return st;
    s->sh = (uint32_t)v;
    if ((st = gr_attr_int(g, s, "stride_w", 1, 64, &v, err)))
        return st;
    s->sw = (uint32_t)v;
    if (pool) {
        if ((st = gr_attr_int(g, s, "filter_h", 1, 64, &v, err)))
            return st;
        s->kh = (uint32_t)v;
        if ((st = gr_attr_int(g, s, "filter_w", 1, 64, &v, err)))
            return st;
        s->kw = (uint32_t)v;
    } else {
        if ((st = gr_attr_int(g, s, "dilation_h", 1, 1, &v, err)) ||
            (st = gr_attr_int(g, s, "dilation_w", 1, 1, &v, err)))
            return st;
    }
    return gr_attr_act(g, s, err);
}

sm_status gr_out_extent(sm_graph *g, gr_step *s, int32_t in, uint32_t k, uint32_t stride, int32_t *out,
                        sm_error *err)
{
    size_t o, lead;
    sm_error e2 = {0};
    if (sm_conv_out_extent((size_t)in, k, stride, s->same ? SM_PAD_SAME : SM_PAD_VALID, 0, 0, &o, &lead, &e2))
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "%s", e2.msg);
    *out = (int32_t)o;
    return SM_OK;
}

sm_status gr_need_const(sm_graph *g, gr_step *s, int i, const char *what, sm_error *err)
{
    if (i < 0 || g->t[i].kind != GR_CONST || !g->t[i].cdata)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "%s must be a stored float tensor (or its DEQUANTIZE)", what);
    return SM_OK;
}

sm_status gr_need_float(sm_graph *g, gr_step *s, int i, const char *what, sm_error *err)
{
    if (i < 0)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "%s is absent", what);
    if (g->t[i].kind == GR_CONST && !g->t[i].cdata)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "%s '%s' is an integer constant, float expected", what,
                         g->t[i].name);
    return SM_OK;
}

sm_status gr_need_input_and_const(sm_graph *g, gr_step *s, const char *what, sm_error *err)
{
    sm_status st = gr_need_float(g, s, s->in[0], "input", err);
    return st ? st : gr_need_const(g, s, s->in[1], what, err);
}

/* ---- tensors ----------------------------------------------------------------------- */

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
        gr_tensor *t = realloc(g->t, cap * sizeof *t);
        if (!t)
            return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", g->f->path), -1;
        g->t = t;
        g->cap_t = cap;
    }
    gr_tensor *t = &g->t[g->n_t];
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
static sm_status resolve_input(sm_graph *g, const gr_step *s, sm_str name, int *idx, sm_error *err)
{
    if (name.len == 0) {
        *idx = -1;
        return SM_OK;
    }
    if (name.len >= SM_SMW_MAX_NAME)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "input name too long");
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
        return gr_op_err(g, s, err, SM_ERR_FORMAT,
                         "input '%s' is neither a graph input, a stored tensor nor the output of an earlier op", nm);
    if (ti->dtype != SM_DTYPE_F32 && ti->dtype != SM_DTYPE_F16 && ti->dtype != SM_DTYPE_I32)
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "stored tensor '%s' has dtype %s (f32, f16 or i32 expected)", nm,
                         sm_dtype_name(ti->dtype));
    i = add_tensor(g, name.ptr, name.len, err);
    if (i < 0)
        return SM_ERR_NOMEM;
    gr_tensor *t = &g->t[i];
    t->kind = GR_CONST;
    if (shape_from_info(ti, &t->shape))
        return gr_op_err(g, s, err, SM_ERR_SHAPE, "stored tensor '%s' has a dimension above 2^31", nm);
    t->numel = (size_t)ti->numel;
    if (ti->dtype == SM_DTYPE_F32) {
        t->cdata = ti->data;
    } else if (ti->dtype == SM_DTYPE_F16) {
        /* --f16 files: widen once at load, as the converter would have */
        t->owned = sm_aligned_alloc(t->numel ? t->numel * sizeof(float) : 64);
        if (!t->owned)
            return gr_op_err(g, s, err, SM_ERR_NOMEM, "out of memory widening '%s'", nm);
        const uint8_t *h = ti->data;
        for (size_t k = 0; k < t->numel; k++) {
            uint16_t v;
            memcpy(&v, h + 2 * k, 2);
            t->owned[k] = sm_f16_to_f32(v);
        }
        t->cdata = t->owned;
    } else {
        t->cdata = NULL; /* i32 constants: only their presence matters (attributes hold the values) */
    }
    *idx = i;
    return SM_OK;
}

/* ---- nodes ------------------------------------------------------------------------- */

/* graph.op.<i>.output_shape.<k>: rank <= 4, every dimension 1..2^24, at most 2^28 elements. */
static sm_status read_output_shape(sm_graph *g, gr_step *s, int k, sm_graph_shape *os, size_t *numel, sm_error *err)
{
    int64_t d[SM_GRAPH_MAX_DIMS + 1];
    size_t nd;
    if (!gr_meta_int_array(meta(g->f, "graph.op.%zu.output_shape.%d", s->op_index, k), d, SM_GRAPH_MAX_DIMS + 1,
                           &nd) ||
        nd > SM_GRAPH_MAX_DIMS)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "output_shape.%d missing or of rank above %d", k,
                         SM_GRAPH_MAX_DIMS);
    memset(os, 0, sizeof *os);
    os->ndim = (uint32_t)nd;
    *numel = 1;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < 1 || d[i] > (1 << 24) || !sm_size_mul(*numel, (size_t)d[i], numel) || *numel > (1u << 28))
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "output_shape.%d has an invalid dimension %lld", k,
                             (long long)d[i]);
        os->dims[i] = (int32_t)d[i];
    }
    return SM_OK;
}

/* One node: its op from the table, its operands, the op's prepare, its outputs. */
static sm_status parse_op(sm_graph *g, gr_step *s, sm_error *err)
{
    const sm_meta *m = meta(g->f, "graph.op.%zu.op", s->op_index);
    if (!m || m->type != SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: graph.op.%zu.op missing or not a string", g->f->path,
                            s->op_index);
    s->opname = m->v.str;
    s->info = sm_graph_find_op_n(m->v.str.ptr, m->v.str.len);
    if (!s->info)
        return gr_op_err(g, s, err, SM_ERR_UNSUPPORTED,
                         "operator not supported by the executor (not in its op table, docs/GRAPH.md)");
    s->op = op_impls[s->info - sm_graph_op_at(0)];

    const sm_meta *mi = meta(g->f, "graph.op.%zu.inputs", s->op_index);
    const sm_meta *mo = meta(g->f, "graph.op.%zu.outputs", s->op_index);
    if (!mi || mi->type != SM_META_ARRAY || mi->elem_type != SM_META_STRING || mi->count > GR_MAX_OP_IN || !mo ||
        mo->type != SM_META_ARRAY || mo->elem_type != SM_META_STRING || mo->count < 1 || mo->count > GR_MAX_OP_OUT)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "inputs/outputs missing, not string lists or too many (max %d/%d)",
                         GR_MAX_OP_IN, GR_MAX_OP_OUT);
    s->n_in = (int)mi->count;
    s->n_out = (int)mo->count;
    const sm_graph_op_info *oi = s->info;
    if (s->n_in < (int)oi->min_inputs || s->n_in > (int)oi->max_inputs) {
        char range[32];
        if (oi->max_inputs > oi->min_inputs)
            snprintf(range, sizeof range, "%u to %u", oi->min_inputs, oi->max_inputs);
        else
            snprintf(range, sizeof range, "%u", oi->min_inputs);
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "%d inputs, %s expected (%s)", s->n_in, range, oi->operands);
    }
    if (oi->n_outputs && s->n_out != (int)oi->n_outputs)
        return gr_op_err(g, s, err, SM_ERR_FORMAT, "%d outputs, %u expected", s->n_out, oi->n_outputs);
    for (int k = 0; k < s->n_in; k++) {
        sm_status st = resolve_input(g, s, mi->strings[k], &s->in[k], err);
        if (st)
            return st;
    }
    /* the outputs' names and declared shapes, then the op checks the node */
    sm_graph_shape file_out[GR_MAX_OP_OUT], want[GR_MAX_OP_OUT];
    size_t numel[GR_MAX_OP_OUT];
    for (int k = 0; k < s->n_out; k++) {
        sm_str nm = mo->strings[k];
        if (nm.len == 0 || nm.len >= SM_SMW_MAX_NAME)
            return gr_op_err(g, s, err, SM_ERR_FORMAT, "output %d has an empty or too long name", k);
        if (find_tensor(g, nm.ptr, nm.len) >= 0)
            return gr_op_err(g, s, err, SM_ERR_FORMAT, "output '%.*s' is produced twice", (int)nm.len, nm.ptr);
        sm_status st = read_output_shape(g, s, k, &file_out[k], &numel[k], err);
        if (st)
            return st;
    }
    memset(want, 0, sizeof want);
    s->alpha = s->residual = -1;
    s->act = SM_ACT_NONE;
    sm_status st = s->op->prepare(g, s, file_out, want, err);
    if (st)
        return st;
    for (int k = 0; k < s->n_out; k++) {
        sm_str nm = mo->strings[k];
        char b1[64], b2[64];
        if (!gr_shape_eq(file_out[k], want[k]))
            return gr_op_err(g, s, err, SM_ERR_SHAPE, "output '%.*s' is %s in the file, the op computes %s",
                             (int)nm.len, nm.ptr, gr_shape_str(file_out[k], b1, sizeof b1),
                             gr_shape_str(want[k], b2, sizeof b2));
        int ti = add_tensor(g, nm.ptr, nm.len, err);
        if (ti < 0)
            return SM_ERR_NOMEM;
        g->t[ti].shape = file_out[k];
        g->t[ti].numel = numel[k];
        if (s->op->fuse == GR_FUSE_ALIAS) {
            g->t[ti].kind = GR_CONST; /* the stored (already widened) tensor under a second name */
            g->t[ti].cdata = g->t[s->in[0]].cdata;
        } else {
            g->t[ti].kind = GR_ACT;
        }
        s->out[k] = ti;
    }
    s->dead = s->op->fuse == GR_FUSE_ALIAS;
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
        gr_step *s = &g->s[i];
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
        gr_step *c = &g->s[i];
        if (c->dead || c->op->fuse != GR_FUSE_HOST)
            continue;
        count_uses(g, u);
        int t = c->out[0];
        /* conv -> ADD(other, conv) : the other operand becomes the residual */
        if (c->act == SM_ACT_NONE && single_use(g, u, t)) {
            gr_step *a = &g->s[u[t].consumer];
            if (a->op->fuse == GR_FUSE_RESIDUAL && a->in[0] != a->in[1]) {
                int r = a->in[0] == t ? a->in[1] : a->in[0];
                if (gr_shape_eq(g->t[r].shape, g->t[t].shape) && !(g->t[r].kind == GR_CONST && !g->t[r].cdata)) {
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
            gr_step *p = &g->s[u[t].consumer];
            bool prelu = p->op->fuse == GR_FUSE_PRELU;
            if (p->op->fuse == GR_FUSE_RELU || (prelu && g->t[p->alpha].numel == (size_t)g->t[t].shape.dims[3])) {
                c->act = prelu ? SM_ACT_PRELU : SM_ACT_RELU;
                c->alpha = prelu ? p->alpha : -1;
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
    const gr_step *x = *(gr_step *const *)a, *y = *(gr_step *const *)b;
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

static size_t tbytes(const gr_tensor *t) { return ((t->numel * sizeof(float)) + 63) / 64 * 64; }

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
        g->t[i].def = g->t[i].kind == GR_INPUT ? 0 : -1;
        g->t[i].last = g->t[i].is_output ? LIVE_FOREVER : -1;
    }
    for (size_t k = 0; k < g->n_order; k++) {
        gr_step *s = g->order[k];
        for (int j = 0; j < s->n_in; j++)
            if (s->in[j] >= 0 && g->t[s->in[j]].last < (int)k)
                g->t[s->in[j]].last = (int)k;
        if (s->residual >= 0 && g->t[s->residual].last < (int)k)
            g->t[s->residual].last = (int)k;
        for (int j = 0; j < s->n_out; j++) {
            gr_tensor *t = &g->t[s->out[j]];
            t->def = (int)k;
            t->used = true;
            if (t->last < (int)k)
                t->last = (int)k;
        }
    }
    /* the graph inputs are written before run and read at their last use */
    for (size_t i = 0; i < g->n_inputs; i++) {
        gr_tensor *t = &g->t[g->inputs[i]];
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
        if (g->t[i].kind != GR_CONST && g->t[i].used)
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
        gr_tensor *t = &g->t[ids[i]];
        size_t sz = tbytes(t), ns = 0;
        g->naive_bytes += sz;
        for (size_t j = 0; j < i; j++) {
            const gr_tensor *o = &g->t[ids[j]];
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

/* ---- load ------------------------------------------------------------------------------ */

static sm_status load_io(sm_graph *g, sm_error *err)
{
    const sm_meta *mi = sm_smw_find_meta(g->f, "graph.inputs");
    const sm_meta *mo = sm_smw_find_meta(g->f, "graph.outputs");
    if (!mi || mi->type != SM_META_ARRAY || mi->elem_type != SM_META_STRING || mi->count < 1 ||
        mi->count > GR_MAX_GRAPH_IO || !mo || mo->type != SM_META_ARRAY || mo->elem_type != SM_META_STRING ||
        mo->count < 1 || mo->count > GR_MAX_GRAPH_IO)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: graph.inputs/graph.outputs missing or not 1..%d names (not a graph model? "
                            "docs/GRAPH.md)",
                            g->f->path, GR_MAX_GRAPH_IO);
    for (size_t k = 0; k < mi->count; k++) {
        sm_str nm = mi->strings[k];
        int64_t d[SM_GRAPH_MAX_DIMS + 1];
        size_t nd;
        if (nm.len == 0 || nm.len >= SM_SMW_MAX_NAME || find_tensor(g, nm.ptr, nm.len) >= 0)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: graph input %zu has an empty or repeated name", g->f->path, k);
        if (!gr_meta_int_array(meta(g->f, "graph.input_shape.%zu", k), d, SM_GRAPH_MAX_DIMS + 1, &nd) ||
            nd > SM_GRAPH_MAX_DIMS || nd == 0)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: graph.input_shape.%zu missing or of rank above %d", g->f->path,
                                k, SM_GRAPH_MAX_DIMS);
        int ti = add_tensor(g, nm.ptr, nm.len, err);
        if (ti < 0)
            return SM_ERR_NOMEM;
        gr_tensor *t = &g->t[ti];
        t->kind = GR_INPUT;
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

/* After fusion: each live step builds its kernels with its final epilogue. */
static sm_status bind(sm_graph *g, sm_error *err)
{
    for (size_t k = 0; k < g->n_order; k++) {
        gr_step *s = g->order[k];
        sm_status st = s->op->bind ? s->op->bind(g, s, err) : SM_OK;
        if (st)
            return st;
    }
    return SM_OK;
}

sm_status sm_graph_load(const sm_smw *f, const sm_graph_custom_op *customs, size_t n_customs, sm_graph **out,
                        sm_error *err)
{
    const sm_graph_options o = {.customs = customs, .n_customs = n_customs};
    return sm_graph_load_opts(f, &o, out, err);
}

sm_status sm_graph_load_opts(const sm_smw *f, const sm_graph_options *opts, sm_graph **out, sm_error *err)
{
    static const sm_graph_options defaults = {0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    sm_graph *g = calloc(1, sizeof *g);
    if (!g)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    g->f = f;
    g->customs = opts->customs;
    g->n_customs = opts->customs ? opts->n_customs : 0;
    /* resolved once, so every op of the graph agrees even if the process-wide
     * precision changes while it loads */
    g->precision = opts->precision == SM_PRECISION_BF16 || opts->precision == SM_PRECISION_FP32
                       ? opts->precision
                       : sm_precision_active();
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
        gr_step *s = &g->s[g->n_s++];
        s->op_index = i;
        s->pos = i;
        s->alpha = s->residual = -1;
        st = parse_op(g, s, err);
    }
    const sm_meta *mo = sm_smw_find_meta(f, "graph.outputs");
    for (size_t k = 0; st == SM_OK && k < mo->count; k++) {
        int ti = find_tensor(g, mo->strings[k].ptr, mo->strings[k].len);
        if (ti < 0 || g->t[ti].kind != GR_ACT) {
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
        st = bind(g, err);
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
    for (size_t i = 0; i < g->n_s; i++)
        if (g->s[i].op && g->s[i].op->release)
            g->s[i].op->release(&g->s[i]);
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

/* ---- run ------------------------------------------------------------------------------- */

void sm_graph_run(sm_graph *g, sm_threadpool *pool)
{
    for (size_t k = 0; k < g->n_order; k++) {
        const gr_step *s = g->order[k];
        if (s->op->run)
            s->op->run(g, s, pool);
    }
}

/* ---- accessors ------------------------------------------------------------------------ */

size_t sm_graph_n_inputs(const sm_graph *g) { return g->n_inputs; }
size_t sm_graph_n_outputs(const sm_graph *g) { return g->n_outputs; }
float *sm_graph_input(sm_graph *g, size_t k) { return k < g->n_inputs ? gr_p(g, g->inputs[k]) : NULL; }
const float *sm_graph_output(const sm_graph *g, size_t k) { return k < g->n_outputs ? gr_p(g, g->outputs[k]) : NULL; }

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

const char *sm_graph_output_name(const sm_graph *g, size_t k)
{
    return k < g->n_outputs ? g->t[g->outputs[k]].name : NULL;
}

int sm_graph_find_output(const sm_graph *g, const char *name)
{
    for (size_t k = 0; k < g->n_outputs; k++)
        if (!strcmp(g->t[g->outputs[k]].name, name))
            return (int)k;
    return -1;
}

sm_graph_stats sm_graph_get_stats(const sm_graph *g)
{
    sm_graph_stats s = {g->n_s, g->n_order, g->n_fused, g->arena_bytes, g->naive_bytes, g->gflop, g->precision};
    return s;
}

/* sm_convert_tflite: a float TFLite model (FP16 constants behind DEQUANTIZE)
 * to .smw. Stores every constant tensor under its TFLite name, in TFLite
 * layout, and the operator graph as graph.* metadata so C code can run or
 * verify the network by name. The keys: docs/GRAPH.md (the graph form), docs/TFLITE.md. */
#include "convert.h"
#include "convert_util.h"
#include "flexbuffer.h"
#include "sm_graph.h"
#include "tflite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const sm_tflite *m;
    const char *path;
    const sm_convert_opts *opts;
    sm_smw_writer *w;
    sm_error *err;
    char **names;          /* unique name per tensor */
    char key[256];
} conv;

static const char *const custom_ops[] = {"Landmarks2TransformMatrix", "TransformTensorBilinear",
                                         "TransformLandmarks"};

/* Which ops are converted is decided by the graph executor's op table
 * (sm_graph_find_op, docs/GRAPH.md): an op the executor cannot run is refused
 * here. This list only says how the FlatBuffer carries each builtin's options
 * (BuiltinOptions tag; 0 = none; -1 = optional), i.e. what this reader can
 * translate into the op's graph attributes. */
static const struct {
    int32_t code;
    int options;
} tfl_options[] = {
    {SM_TFL_OP_ADD, 11}, {SM_TFL_OP_AVERAGE_POOL_2D, 5}, {SM_TFL_OP_CONCATENATION, 10},
    {SM_TFL_OP_CONV_2D, 1}, {SM_TFL_OP_DEPTHWISE_CONV_2D, 2}, {SM_TFL_OP_DEQUANTIZE, 0},
    {SM_TFL_OP_LOGISTIC, 0}, {SM_TFL_OP_MAX_POOL_2D, 5}, {SM_TFL_OP_MUL, 21},
    {SM_TFL_OP_RELU, 0}, {SM_TFL_OP_RESHAPE, -1}, {SM_TFL_OP_CUSTOM, 0},
    {SM_TFL_OP_PAD, -1}, {SM_TFL_OP_STRIDED_SLICE, 32}, {SM_TFL_OP_PRELU, 0},
};

static int options_rule(int32_t code)
{
    for (size_t i = 0; i < sizeof tfl_options / sizeof *tfl_options; i++)
        if (tfl_options[i].code == code)
            return (int)i;
    return -1;
}

#define fail(c, st, ...) sm_convert_fail((c)->err, (st), (c)->path, __VA_ARGS__)

static const char *key(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *key(conv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->key, sizeof c->key, fmt, ap);
    va_end(ap);
    return c->key;
}

static const char *op_name(const sm_tflite *m, const sm_tfl_op *op, char *buf, size_t cap)
{
    const sm_tfl_opcode *oc = &m->opcodes[op->opcode];
    if (oc->custom_code)
        snprintf(buf, cap, "CUSTOM:%s", oc->custom_code);
    else
        snprintf(buf, cap, "%s", sm_tflite_builtin_name(oc->builtin) ? sm_tflite_builtin_name(oc->builtin) : "?");
    return buf;
}

static bool is_const(const sm_tfl_tensor *t) { return t->data != NULL; }

/* ---- validation ------------------------------------------------------------ */

static sm_status make_names(conv *c)
{
    const sm_tflite *m = c->m;
    if (!(c->names = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *c->names)))
        return fail(c, SM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const char *n = m->tensors[i].name;
        char buf[64];
        if (!n[0]) {
            snprintf(buf, sizeof buf, "tensor#%u", i);
            n = buf;
        }
        bool dup = false;
        for (uint32_t j = 0; j < i && !dup; j++)
            dup = !strcmp(c->names[j], n);
        size_t len = strlen(n) + (dup ? 16 : 0) + 1;
        if (len > SM_SMW_MAX_NAME)
            return fail(c, SM_ERR_UNSUPPORTED, "tensor %u: name of %zu bytes is too long", i, strlen(n));
        if (!(c->names[i] = malloc(len)))
            return fail(c, SM_ERR_NOMEM, "out of memory");
        snprintf(c->names[i], len, dup ? "%s#%u" : "%s", n, i);
        for (uint32_t j = 0; dup && j < i; j++)
            if (!strcmp(c->names[j], c->names[i]))
                return fail(c, SM_ERR_FORMAT, "tensor %u: cannot make name '%s' unique", i, n);
    }
    return SM_OK;
}

static sm_status check_tensors(conv *c)
{
    const sm_tflite *m = c->m;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const sm_tfl_tensor *t = &m->tensors[i];
        if (t->quantized)
            return fail(c, SM_ERR_UNSUPPORTED,
                        "tensor %u '%s' is quantised (%s with scale/zero_point); only float models are supported",
                        i, t->name, sm_tflite_type_name(t->type));
        if (t->type != SM_TFL_FLOAT32 && t->type != SM_TFL_FLOAT16 && t->type != SM_TFL_INT32)
            return fail(c, SM_ERR_UNSUPPORTED,
                        "tensor %u '%s' has type %s (only FLOAT32, FLOAT16 and INT32 are supported)", i,
                        t->name, sm_tflite_type_name(t->type));
        if (t->is_variable)
            return fail(c, SM_ERR_UNSUPPORTED, "tensor %u '%s' is a variable tensor", i, t->name);
        size_t numel = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            if (t->dims[d] < 0)
                return fail(c, SM_ERR_FORMAT, "tensor %u '%s': dim %u is %d", i, t->name, d, t->dims[d]);
            if (!sm_size_mul(numel, (size_t)t->dims[d], &numel))
                return fail(c, SM_ERR_FORMAT, "tensor %u '%s': element count overflows", i, t->name);
        }
        if (!is_const(t)) {
            if (t->type == SM_TFL_FLOAT16)
                return fail(c, SM_ERR_FORMAT,
                            "tensor %u '%s': FLOAT16 tensor without data (missing buffer: buffer %u is empty; "
                            "FLOAT16 activations are not supported)", i, t->name, t->buffer);
            continue;
        }
        size_t need;
        if (!sm_size_mul(numel, sm_tflite_type_size(t->type), &need) || need != t->nbytes)
            return fail(c, SM_ERR_SHAPE, "tensor %u '%s': shape %s[%u dims, %zu elements] needs %zu bytes but buffer %u holds %zu",
                        i, t->name, sm_tflite_type_name(t->type), t->ndim, numel,
                        numel * sm_tflite_type_size(t->type), t->buffer, t->nbytes);
        if (t->ndim > SM_SMW_MAX_DIMS)
            return fail(c, SM_ERR_UNSUPPORTED, "constant tensor %u '%s' has %u dims (max %d)", i, t->name,
                        t->ndim, SM_SMW_MAX_DIMS);
    }
    return SM_OK;
}

/* Constant INT32 input k of op i (for PAD, STRIDED_SLICE, RESHAPE). */
static sm_status const_ints(conv *c, uint32_t i, uint32_t k, const char *what, const sm_tfl_tensor **out)
{
    const sm_tfl_op *op = &c->m->ops[i];
    char nm[96];
    if (k >= op->n_inputs || op->inputs[k] < 0)
        return fail(c, SM_ERR_FORMAT, "operator %u (%s): missing %s input", i,
                    op_name(c->m, op, nm, sizeof nm), what);
    const sm_tfl_tensor *t = &c->m->tensors[op->inputs[k]];
    if (!is_const(t) || t->type != SM_TFL_INT32)
        return fail(c, SM_ERR_UNSUPPORTED, "operator %u (%s): %s '%s' must be a constant INT32 tensor", i,
                    op_name(c->m, op, nm, sizeof nm), what, t->name);
    *out = t;
    return SM_OK;
}

static sm_status check_ops(conv *c)
{
    const sm_tflite *m = c->m;
    bool *ready = calloc(m->n_tensors ? m->n_tensors : 1, 1);
    if (!ready)
        return fail(c, SM_ERR_NOMEM, "out of memory");
    sm_status st = SM_OK;
    char nm[96];
    for (uint32_t i = 0; i < m->n_inputs; i++)
        ready[m->inputs[i]] = true;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        ready[i] |= is_const(&m->tensors[i]);
    for (uint32_t i = 0; i < m->n_ops && !st; i++) {
        const sm_tfl_op *op = &m->ops[i];
        const sm_tfl_opcode *oc = &m->opcodes[op->opcode];
        const sm_graph_op_info *gi = sm_graph_find_op(op_name(m, op, nm, sizeof nm));
        int k = options_rule(oc->builtin);
        if (!gi || k < 0) {
            const char *bn = sm_tflite_builtin_name(oc->builtin);
            st = fail(c, SM_ERR_UNSUPPORTED, "operator %u: unsupported operator %s (builtin code %d): %s", i,
                      bn ? bn : "?", oc->builtin,
                      !gi ? "the graph executor has no such op (docs/GRAPH.md)"
                          : "this reader cannot translate its options");
            break;
        }
        if (oc->custom_code) {
            bool found = false;
            for (size_t j = 0; j < sizeof custom_ops / sizeof *custom_ops; j++)
                found |= !strcmp(oc->custom_code, custom_ops[j]);
            if (!found) {
                st = fail(c, SM_ERR_UNSUPPORTED, "operator %u: unsupported custom operator '%s'", i,
                          oc->custom_code);
                break;
            }
        }
        if (op->n_outputs < 1 || op->n_inputs < 1 || op->inputs[0] < 0) {
            st = fail(c, SM_ERR_FORMAT, "operator %u (%s): has %u inputs and %u outputs (the first input is required)",
                      i, nm, op->n_inputs, op->n_outputs);
            break;
        }
        int want = tfl_options[k].options;
        if (want > 0 && (op->options_type != want || !op->opt.has_options)) {
            st = fail(c, SM_ERR_FORMAT, "operator %u (%s): builtin options of type %u, expected type %d", i,
                      nm, op->options_type, want);
            break;
        }
        if (want > 0 && !sm_tflite_activation_name(op->opt.activation)) {
            st = fail(c, SM_ERR_UNSUPPORTED, "operator %u (%s): unknown fused activation %d", i, nm,
                      op->opt.activation);
            break;
        }
        if (want > 0 && op->opt.padding != 0 && op->opt.padding != 1) {
            st = fail(c, SM_ERR_FORMAT, "operator %u (%s): padding %d is neither SAME nor VALID", i, nm,
                      op->opt.padding);
            break;
        }
        const sm_tfl_options *o = &op->opt;
        if (want == 1 || want == 2 || want == 5) {
            /* zero strides, dilations or windows would divide by zero downstream */
            bool pool = want == 5;
            if (o->stride_w < 1 || o->stride_h < 1 || (!pool && (o->dilation_w < 1 || o->dilation_h < 1)) ||
                (pool && (o->filter_w < 1 || o->filter_h < 1)) || (want == 2 && o->depth_multiplier < 1)) {
                st = fail(c, SM_ERR_FORMAT,
                          "operator %u (%s): stride %dx%d, dilation %dx%d, filter %dx%d, depth multiplier %d: "
                          "each must be at least 1",
                          i, nm, o->stride_w, o->stride_h, o->dilation_w, o->dilation_h, o->filter_w,
                          o->filter_h, o->depth_multiplier);
                break;
            }
        }
        if (want == 10) {
            int32_t rank = (int32_t)m->tensors[op->outputs[0]].ndim;
            if (o->axis < -rank || o->axis >= rank) {
                st = fail(c, SM_ERR_FORMAT, "operator %u (%s): axis %d out of range for rank %d", i, nm,
                          o->axis, rank);
                break;
            }
        }
        for (uint32_t j = 0; j < op->n_inputs && !st; j++) {
            int32_t ti = op->inputs[j];
            if (ti < 0)
                continue;
            const sm_tfl_tensor *t = &m->tensors[ti];
            if (!ready[ti])
                st = fail(c, SM_ERR_FORMAT,
                          "operator %u (%s): input '%s' has no data (missing buffer: buffer %u is empty) and no earlier producer",
                          i, nm, t->name, t->buffer);
            else if (t->type == SM_TFL_FLOAT16 && oc->builtin != SM_TFL_OP_DEQUANTIZE)
                st = fail(c, SM_ERR_UNSUPPORTED, "operator %u (%s): FLOAT16 input '%s' not behind a DEQUANTIZE",
                          i, nm, t->name);
        }
        if (!st && oc->builtin == SM_TFL_OP_DEQUANTIZE) {
            const sm_tfl_tensor *in = &m->tensors[op->inputs[0]];
            const sm_tfl_tensor *out = &m->tensors[op->outputs[0]];
            if (in->type != SM_TFL_FLOAT16 || !is_const(in) ||
                out->type != SM_TFL_FLOAT32 || in->ndim != out->ndim ||
                memcmp(in->dims, out->dims, in->ndim * sizeof *in->dims))
                st = fail(c, SM_ERR_UNSUPPORTED,
                          "operator %u (DEQUANTIZE): only constant FLOAT16 -> FLOAT32 of the same shape is supported ('%s')",
                          i, in->name);
        }
        for (uint32_t j = 0; j < op->n_outputs && !st; j++) {
            if (is_const(&m->tensors[op->outputs[j]]))
                st = fail(c, SM_ERR_FORMAT, "operator %u (%s): output '%s' is a constant", i, nm,
                          m->tensors[op->outputs[j]].name);
            ready[op->outputs[j]] = true;
        }
        const sm_tfl_tensor *t;
        if (!st && oc->builtin == SM_TFL_OP_PAD && !(st = const_ints(c, i, 1, "paddings", &t))) {
            const sm_tfl_tensor *x = &m->tensors[op->inputs[0]];
            if (t->ndim != 2 || t->dims[1] != 2 || (uint32_t)t->dims[0] != x->ndim)
                st = fail(c, SM_ERR_SHAPE, "operator %u (PAD): paddings '%s' must be [%u, 2]", i, t->name, x->ndim);
        }
        if (!st && oc->builtin == SM_TFL_OP_STRIDED_SLICE)
            for (uint32_t j = 1; j <= 3 && !st; j++)
                st = const_ints(c, i, j, j == 1 ? "begin" : j == 2 ? "end" : "strides", &t);
        if (!st && oc->builtin == SM_TFL_OP_RESHAPE && !op->opt.has_new_shape)
            st = const_ints(c, i, 1, "shape", &t);
    }
    for (uint32_t i = 0; i < m->n_outputs && !st; i++)
        if (!ready[m->outputs[i]])
            st = fail(c, SM_ERR_FORMAT, "graph output '%s' is never computed", m->tensors[m->outputs[i]].name);
    free(ready);
    return st;
}

/* ---- architecture ------------------------------------------------------------ */

static bool shape_is(const sm_tfl_tensor *t, uint32_t ndim, const int32_t *dims)
{
    return t->ndim == ndim && !memcmp(t->dims, dims, ndim * sizeof *dims);
}

static bool output_is(const sm_tflite *m, uint32_t k, const char *name, uint32_t ndim, const int32_t *dims)
{
    return k < m->n_outputs && !strcmp(m->tensors[m->outputs[k]].name, name) &&
           shape_is(&m->tensors[m->outputs[k]], ndim, dims);
}

static const char *detect(const sm_tflite *m)
{
    if (m->n_inputs != 1)
        return NULL;
    const sm_tfl_tensor *in = &m->tensors[m->inputs[0]];
    bool custom = false;
    for (uint32_t i = 0; i < m->n_opcodes; i++)
        custom |= m->opcodes[i].custom_code != NULL;
    static const int32_t in128[4] = {1, 128, 128, 3}, in192[4] = {1, 192, 192, 3};
    static const int32_t reg[3] = {1, 896, 16}, cls[3] = {1, 896, 1};
    static const int32_t mesh[4] = {1, 1, 1, 1404}, flag[4] = {1, 1, 1, 1};
    if (!custom && shape_is(in, 4, in128) && m->n_outputs == 2 && output_is(m, 0, "regressors", 3, reg) &&
        output_is(m, 1, "classificators", 3, cls))
        return "mediapipe_face_detector";
    if (!custom && shape_is(in, 4, in192) && m->n_outputs == 2 && output_is(m, 0, "conv2d_21", 4, mesh) &&
        output_is(m, 1, "conv2d_31", 4, flag))
        return "mediapipe_face_mesh";
    if (custom && shape_is(in, 4, in192) && m->n_outputs == 7 &&
        output_is(m, 0, "output_mesh_identity", 4, mesh) && output_is(m, 6, "conv_faceflag", 4, flag))
        return "mediapipe_face_mesh_attention";
    return NULL;
}

/* ---- writing ------------------------------------------------------------------- */

static sm_status add_shape(conv *c, const char *k, const sm_tfl_tensor *t)
{
    return sm_smw_writer_add_array(c->w, k, SM_META_I32, t->dims, t->ndim, c->err);
}

static sm_status add_names(conv *c, const char *k, const int32_t *idx, uint32_t n)
{
    const char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return fail(c, SM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        v[i] = idx[i] < 0 ? "" : c->names[idx[i]];
    sm_status st = sm_smw_writer_add_array(c->w, k, SM_META_STRING, v, n, c->err);
    free(v);
    return st;
}

/* Option writers: each records its key name in opt_keys for graph.op.N.options. */
typedef struct {
    const char *keys[64];
    char owned[64][64];
    size_t n;
} opt_list;

static sm_status opt_push(conv *c, opt_list *l, const char *name)
{
    if (l->n >= 64)
        return fail(c, SM_ERR_UNSUPPORTED, "operator has more than 64 options");
    snprintf(l->owned[l->n], sizeof l->owned[l->n], "%s", name);
    l->keys[l->n] = l->owned[l->n];
    l->n++;
    return SM_OK;
}

static sm_status opt_i32(conv *c, opt_list *l, uint32_t i, const char *name, int32_t v)
{
    sm_status st = sm_smw_writer_add_i32(c->w, key(c, "graph.op.%u.%s", i, name), v, c->err);
    return st ? st : opt_push(c, l, name);
}

static sm_status opt_str(conv *c, opt_list *l, uint32_t i, const char *name, const char *v)
{
    sm_status st = sm_smw_writer_add_string(c->w, key(c, "graph.op.%u.%s", i, name), v, c->err);
    return st ? st : opt_push(c, l, name);
}

static sm_status opt_ints(conv *c, opt_list *l, uint32_t i, const char *name, const int32_t *v, size_t n)
{
    sm_status st = sm_smw_writer_add_array(c->w, key(c, "graph.op.%u.%s", i, name), SM_META_I32, v, n, c->err);
    return st ? st : opt_push(c, l, name);
}

static sm_status opt_tensor_ints(conv *c, opt_list *l, uint32_t i, const char *name, const sm_tfl_tensor *t)
{
    size_t n = t->nbytes / 4;
    int32_t *v = malloc(n ? n * 4 : 4);
    if (!v)
        return fail(c, SM_ERR_NOMEM, "out of memory");
    memcpy(v, t->data, n * 4); /* little-endian host assumed, as everywhere in smw */
    sm_status st = opt_ints(c, l, i, name, v, n);
    free(v);
    return st;
}

static bool valid_opt_key(const char *k)
{
    static const char *const reserved[] = {"op", "version", "inputs", "outputs", "options", "output_shape"};
    if (!*k || strlen(k) > 48)
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    for (size_t j = 0; j < sizeof reserved / sizeof *reserved; j++)
        if (!strcmp(k, reserved[j]))
            return false;
    return true;
}

static sm_status custom_options(conv *c, opt_list *l, uint32_t i, const sm_tfl_op *op)
{
    const char *code = c->m->opcodes[op->opcode].custom_code;
    if (!op->custom_options)
        return SM_OK;
    sm_flex_map map;
    sm_status st = sm_flex_decode_map(op->custom_options, op->custom_options_len, &map, c->err);
    if (st) {
        sm_error_prefix(c->err, "%s: operator %u (CUSTOM:%s): custom options", c->path, i, code);
        return st;
    }
    for (size_t j = 0; j < map.n && !st; j++) {
        const sm_flex_entry *e = &map.entries[j];
        if (!valid_opt_key(e->key)) {
            st = fail(c, SM_ERR_FORMAT, "operator %u (CUSTOM:%s): option key '%s' is not a plain name", i,
                      code, e->key);
            break;
        }
        const char *k = key(c, "graph.op.%u.%s", i, e->key);
        switch (e->kind) {
        case SM_FLEX_INT:
            st = e->i == (int32_t)e->i ? sm_smw_writer_add_i32(c->w, k, (int32_t)e->i, c->err)
                                       : sm_smw_writer_add_i64(c->w, k, e->i, c->err);
            break;
        case SM_FLEX_FLOAT:
            st = (double)(float)e->f == e->f ? sm_smw_writer_add_f32(c->w, k, (float)e->f, c->err)
                                             : sm_smw_writer_add_f64(c->w, k, e->f, c->err);
            break;
        case SM_FLEX_BOOL: st = sm_smw_writer_add_bool(c->w, k, e->i != 0, c->err); break;
        case SM_FLEX_STRING: st = sm_smw_writer_add_string(c->w, k, e->str, c->err); break;
        case SM_FLEX_INT_ARRAY: {
            bool fits = true;
            for (size_t q = 0; q < e->n; q++)
                fits &= e->ints[q] == (int32_t)e->ints[q];
            if (fits) {
                int32_t *v = malloc(e->n ? e->n * 4 : 4);
                if (!v) {
                    st = fail(c, SM_ERR_NOMEM, "out of memory");
                    break;
                }
                for (size_t q = 0; q < e->n; q++)
                    v[q] = (int32_t)e->ints[q];
                st = sm_smw_writer_add_array(c->w, k, SM_META_I32, v, e->n, c->err);
                free(v);
            } else {
                st = sm_smw_writer_add_array(c->w, k, SM_META_I64, e->ints, e->n, c->err);
            }
            break;
        }
        case SM_FLEX_FLOAT_ARRAY: {
            bool exact = true;
            for (size_t q = 0; q < e->n; q++)
                exact &= (double)(float)e->floats[q] == e->floats[q];
            float *v = exact ? malloc(e->n ? e->n * 4 : 4) : NULL;
            if (exact && !v) {
                st = fail(c, SM_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t q = 0; exact && q < e->n; q++)
                v[q] = (float)e->floats[q];
            st = exact ? sm_smw_writer_add_array(c->w, k, SM_META_F32, v, e->n, c->err)
                       : sm_smw_writer_add_array(c->w, k, SM_META_F64, e->floats, e->n, c->err);
            free(v);
            break;
        }
        }
        if (!st)
            st = opt_push(c, l, e->key);
    }
    sm_flex_map_free(&map);
    return st;
}

static sm_status write_op(conv *c, uint32_t i)
{
    const sm_tflite *m = c->m;
    const sm_tfl_op *op = &m->ops[i];
    const sm_tfl_opcode *oc = &m->opcodes[op->opcode];
    const sm_tfl_options *o = &op->opt;
    char nm[96];
    opt_list l;
    l.n = 0;
    sm_status st;
    if ((st = sm_smw_writer_add_string(c->w, key(c, "graph.op.%u.op", i), op_name(m, op, nm, sizeof nm), c->err)) ||
        (st = sm_smw_writer_add_u32(c->w, key(c, "graph.op.%u.version", i), (uint32_t)oc->version, c->err)) ||
        (st = add_names(c, key(c, "graph.op.%u.inputs", i), op->inputs, op->n_inputs)) ||
        (st = add_names(c, key(c, "graph.op.%u.outputs", i), op->outputs, op->n_outputs)))
        return st;
    for (uint32_t k = 0; k < op->n_outputs; k++)
        if ((st = add_shape(c, key(c, "graph.op.%u.output_shape.%u", i, k), &m->tensors[op->outputs[k]])))
            return st;
    const char *pad = o->padding == 0 ? "SAME" : "VALID";
    const char *act = sm_tflite_activation_name(o->activation);
    const sm_tfl_tensor *t;
    switch (oc->builtin) {
    case SM_TFL_OP_CONV_2D:
    case SM_TFL_OP_DEPTHWISE_CONV_2D:
        if ((st = opt_str(c, &l, i, "padding", pad)) || (st = opt_i32(c, &l, i, "stride_w", o->stride_w)) ||
            (st = opt_i32(c, &l, i, "stride_h", o->stride_h)) ||
            (oc->builtin == SM_TFL_OP_DEPTHWISE_CONV_2D &&
             (st = opt_i32(c, &l, i, "depth_multiplier", o->depth_multiplier))) ||
            (st = opt_str(c, &l, i, "activation", act)) ||
            (st = opt_i32(c, &l, i, "dilation_w", o->dilation_w)) ||
            (st = opt_i32(c, &l, i, "dilation_h", o->dilation_h)))
            return st;
        break;
    case SM_TFL_OP_MAX_POOL_2D:
    case SM_TFL_OP_AVERAGE_POOL_2D:
        if ((st = opt_str(c, &l, i, "padding", pad)) || (st = opt_i32(c, &l, i, "stride_w", o->stride_w)) ||
            (st = opt_i32(c, &l, i, "stride_h", o->stride_h)) ||
            (st = opt_i32(c, &l, i, "filter_w", o->filter_w)) ||
            (st = opt_i32(c, &l, i, "filter_h", o->filter_h)) || (st = opt_str(c, &l, i, "activation", act)))
            return st;
        break;
    case SM_TFL_OP_CONCATENATION:
        if ((st = opt_i32(c, &l, i, "axis", o->axis)) || (st = opt_str(c, &l, i, "activation", act)))
            return st;
        break;
    case SM_TFL_OP_ADD:
    case SM_TFL_OP_MUL:
        if ((st = opt_str(c, &l, i, "activation", act)))
            return st;
        break;
    case SM_TFL_OP_RESHAPE:
        if (o->has_new_shape)
            st = opt_ints(c, &l, i, "new_shape", o->new_shape, o->n_new_shape);
        else if (!(st = const_ints(c, i, 1, "shape", &t)))
            st = opt_tensor_ints(c, &l, i, "new_shape", t);
        if (st)
            return st;
        break;
    case SM_TFL_OP_PAD:
        if ((st = const_ints(c, i, 1, "paddings", &t)) || (st = opt_tensor_ints(c, &l, i, "pads", t)))
            return st;
        break;
    case SM_TFL_OP_STRIDED_SLICE: {
        static const char *const names[3] = {"begin", "end", "strides"};
        for (uint32_t j = 1; j <= 3; j++)
            if ((st = const_ints(c, i, j, names[j - 1], &t)) || (st = opt_tensor_ints(c, &l, i, names[j - 1], t)))
                return st;
        if ((st = opt_i32(c, &l, i, "begin_mask", o->begin_mask)) ||
            (st = opt_i32(c, &l, i, "end_mask", o->end_mask)) ||
            (st = opt_i32(c, &l, i, "ellipsis_mask", o->ellipsis_mask)) ||
            (st = opt_i32(c, &l, i, "new_axis_mask", o->new_axis_mask)) ||
            (st = opt_i32(c, &l, i, "shrink_axis_mask", o->shrink_axis_mask)))
            return st;
        break;
    }
    case SM_TFL_OP_CUSTOM:
        if ((st = custom_options(c, &l, i, op)))
            return st;
        break;
    default:
        break;
    }
    if ((st = sm_convert_check_node(c->path, i, nm, op->n_inputs, op->n_outputs, l.keys, l.n, c->err)))
        return st;
    return sm_smw_writer_add_array(c->w, key(c, "graph.op.%u.options", i), SM_META_STRING, l.keys, l.n, c->err);
}

static sm_status write_tensors(conv *c, size_t *n_const, size_t *n_f16, uint64_t *n_params)
{
    const sm_tflite *m = c->m;
    sm_status st = SM_OK;
    for (uint32_t i = 0; i < m->n_tensors && !st; i++) {
        const sm_tfl_tensor *t = &m->tensors[i];
        if (!is_const(t))
            continue;
        uint64_t dims[SM_SMW_MAX_DIMS];
        size_t numel = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            dims[d] = (uint64_t)t->dims[d];
            numel *= (size_t)t->dims[d]; /* checked against nbytes in check_tensors */
        }
        (*n_const)++;
        if (t->type != SM_TFL_INT32)
            *n_params += numel;
        if (t->type == SM_TFL_FLOAT16 && !c->opts->f16) {
            float *v = malloc(numel ? numel * sizeof *v : sizeof *v);
            if (!v)
                return fail(c, SM_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < numel; k++)
                v[k] = sm_f16_to_f32((uint16_t)(t->data[2 * k] | t->data[2 * k + 1] << 8));
            st = sm_smw_writer_add_tensor(c->w, c->names[i], SM_DTYPE_F32, t->ndim, dims, v, c->err);
            free(v);
            (*n_f16)++;
            continue;
        }
        /* Unaligned source bytes: the writer copies them, so pass a copy that is aligned. */
        void *v = malloc(t->nbytes ? t->nbytes : 1);
        if (!v)
            return fail(c, SM_ERR_NOMEM, "out of memory");
        memcpy(v, t->data, t->nbytes);
        sm_dtype dt = t->type == SM_TFL_FLOAT32 ? SM_DTYPE_F32 : t->type == SM_TFL_FLOAT16 ? SM_DTYPE_F16 : SM_DTYPE_I32;
        *n_f16 += t->type == SM_TFL_FLOAT16;
        st = sm_smw_writer_add_tensor(c->w, c->names[i], dt, t->ndim, dims, v, c->err);
        free(v);
    }
    return st;
}

static sm_status convert(conv *c, sm_convert_summary *summary)
{
    const sm_tflite *m = c->m;
    sm_status st;
    if (m->n_subgraphs != 1)
        return fail(c, SM_ERR_UNSUPPORTED, "model has %u subgraphs (only 1 is supported)", m->n_subgraphs);
    if ((st = make_names(c)) || (st = check_tensors(c)) || (st = check_ops(c)))
        return st;

    const char *arch = detect(m);
    const char *want = c->opts ? c->opts->arch : NULL;
    if (want && !strcmp(want, "raw")) {
        arch = "raw";
    } else if (want && (!arch || strcmp(want, arch))) {
        return fail(c, SM_ERR_ARG, "--arch %s does not match this graph (detected: %s)", want,
                    arch ? arch : "nothing known");
    } else if (!arch) {
        return fail(c, SM_ERR_UNSUPPORTED,
                    "unrecognised TFLite graph (%u inputs, %u outputs, %u operators): not a MediaPipe face "
                    "detector or face mesh; use --arch raw to convert it anyway",
                    m->n_inputs, m->n_outputs, m->n_ops);
    }
    if (c->opts->labels || c->opts->n_mean || c->opts->n_std)
        return fail(c, SM_ERR_ARG, "--labels, --mean and --std do not apply to TFLite models");

    /* input.size: the square NHWC input's side */
    int32_t side = 0;
    if (m->n_inputs == 1) {
        const sm_tfl_tensor *in = &m->tensors[m->inputs[0]];
        if (in->ndim == 4 && in->dims[1] == in->dims[2])
            side = in->dims[1];
    }
    if (c->opts->input_size && c->opts->input_size != side)
        return fail(c, SM_ERR_ARG, "--input-size %d but the model's input is fixed at %d", c->opts->input_size, side);

    sm_smw_writer *w = c->w;
    sm_error *e = c->err;
    /* general.architecture comes from summary->arch, written by smw-convert.c */
    if ((st = sm_smw_writer_add_string(w, "tflite.description", m->description, e)) ||
        (st = sm_smw_writer_add_string(w, "tflite.subgraph", m->subgraph_name, e)) ||
        (st = sm_smw_writer_add_u32(w, "tflite.schema_version", m->version, e)) ||
        (side && (st = sm_smw_writer_add_u32(w, "input.size", (uint32_t)side, e))))
        return st;
    if (strcmp(arch, "raw")) {
        /* FACE_MODELS.md section 3: the detector takes [-1,1], the landmark models [0,1]. */
        float range[2] = {strcmp(arch, "mediapipe_face_detector") ? 0.0f : -1.0f, 1.0f};
        if ((st = sm_smw_writer_add_array(w, "input.range", SM_META_F32, range, 2, e)))
            return st;
    }
    if ((st = add_names(c, "graph.inputs", m->inputs, m->n_inputs)) ||
        (st = add_names(c, "graph.outputs", m->outputs, m->n_outputs)))
        return st;
    for (uint32_t k = 0; k < m->n_inputs; k++)
        if ((st = add_shape(c, key(c, "graph.input_shape.%u", k), &m->tensors[m->inputs[k]])))
            return st;
    for (uint32_t k = 0; k < m->n_outputs; k++)
        if ((st = add_shape(c, key(c, "graph.output_shape.%u", k), &m->tensors[m->outputs[k]])))
            return st;
    if ((st = sm_smw_writer_add_u32(w, "graph.n_ops", m->n_ops, e)))
        return st;
    char (*names)[96] = calloc(m->n_ops ? m->n_ops : 1, sizeof *names);
    const char **ptrs = calloc(m->n_ops ? m->n_ops : 1, sizeof *ptrs);
    if (!names || !ptrs) {
        free(names);
        free(ptrs);
        return fail(c, SM_ERR_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < m->n_ops; i++)
        ptrs[i] = op_name(m, &m->ops[i], names[i], sizeof names[i]);
    st = sm_smw_writer_add_array(w, "graph.ops", SM_META_STRING, ptrs, m->n_ops, e);
    free(names);
    free(ptrs);
    for (uint32_t i = 0; i < m->n_ops && !st; i++)
        st = write_op(c, i);
    if (st)
        return st;

    size_t n_const = 0, n_f16 = 0;
    uint64_t n_params = 0;
    if ((st = write_tensors(c, &n_const, &n_f16, &n_params)))
        return st;

    snprintf(summary->arch, sizeof summary->arch, "%s", arch);
    size_t used = (size_t)snprintf(summary->notes, sizeof summary->notes,
                                   "TFLite: %u operators, %zu constant tensors (%zu FLOAT16 stored as %s), %llu parameters",
                                   m->n_ops, n_const, n_f16, c->opts->f16 ? "f16" : "f32",
                                   (unsigned long long)n_params);
    for (uint32_t i = 0; i < m->n_opcodes && used < sizeof summary->notes; i++)
        if (m->opcodes[i].custom_code)
            used += (size_t)snprintf(summary->notes + used, sizeof summary->notes - used,
                                     "\ncustom op %s (options stored as graph.op.N.*)",
                                     m->opcodes[i].custom_code);
    return SM_OK;
}

sm_status sm_convert_tflite(const uint8_t *buf, size_t len, const char *path,
                            const sm_convert_opts *opts, sm_smw_writer *w,
                            sm_convert_summary *summary, sm_error *err)
{
    sm_convert_opts defaults = {0};
    sm_convert_summary unused;
    sm_tflite *m;
    if (!summary)
        summary = &unused;
    if (!path)
        path = "<buffer>";
    sm_status st = sm_tflite_parse(buf, len, path, &m, err);
    if (st)
        return st;
    conv c = {m, path, opts ? opts : &defaults, w, err, NULL, {0}};
    st = convert(&c, summary);
    if (c.names)
        for (uint32_t i = 0; i < m->n_tensors; i++)
            free(c.names[i]);
    free(c.names);
    sm_tflite_free(m);
    return st;
}

/* Bounds-checked TFLite FlatBuffer reader (schema v3). Field ids follow
 * tensorflow/lite/schema/schema.fbs; a union takes two ids (tag, then value).
 * The model is walked along a fixed path (model -> subgraph -> tensors,
 * operators -> options), so there is no recursion to cap. */
#include "tflite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *b;
    size_t len;
    sm_error *err;
} fb;

typedef struct {
    size_t pos;      /* table start */
    size_t vt;       /* vtable start */
    uint16_t vt_size, tbl_size;
} fb_table;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool in_range(const fb *f, size_t pos, size_t n) { return pos <= f->len && n <= f->len - pos; }

static sm_status table_at(fb *f, size_t pos, const char *what, fb_table *t)
{
    if (!in_range(f, pos, 4))
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s table offset %zu out of range (file is %zu bytes)",
                            what, pos, f->len);
    int32_t soff = (int32_t)rd32(f->b + pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !in_range(f, (size_t)vt, 4))
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s vtable at %lld out of range (file is %zu bytes)",
                            what, (long long)vt, f->len);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_size = rd16(f->b + t->vt);
    t->tbl_size = rd16(f->b + t->vt + 2);
    if (t->vt_size < 4 || (t->vt_size & 1) || !in_range(f, t->vt, t->vt_size))
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s vtable size %u at %zu invalid or past end of file",
                            what, t->vt_size, t->vt);
    if (t->tbl_size < 4 || !in_range(f, pos, t->tbl_size))
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s table size %u at %zu past end of file", what,
                            t->tbl_size, pos);
    return SM_OK;
}

/* Position of field id (size bytes) or 0 when absent (a table field never sits at 0). */
static sm_status field(fb *f, const fb_table *t, unsigned id, size_t size, const char *what,
                       size_t *pos)
{
    *pos = 0;
    if (4u + 2u * id + 2u > t->vt_size)
        return SM_OK;
    uint16_t off = rd16(f->b + t->vt + 4 + 2 * id);
    if (!off)
        return SM_OK;
    if (off < 4 || (size_t)off + size > t->tbl_size)
        return sm_error_set(f->err, SM_ERR_FORMAT,
                            "%s field %u at offset %u past the end of its table (size %u)", what, id,
                            off, t->tbl_size);
    *pos = t->pos + off;
    return SM_OK;
}

static sm_status get_u32(fb *f, const fb_table *t, unsigned id, uint32_t def, const char *what,
                         uint32_t *v)
{
    size_t p;
    sm_status st = field(f, t, id, 4, what, &p);
    *v = p ? rd32(f->b + p) : def;
    return st;
}

static sm_status get_i32(fb *f, const fb_table *t, unsigned id, int32_t def, const char *what,
                         int32_t *v)
{
    uint32_t u;
    sm_status st = get_u32(f, t, id, (uint32_t)def, what, &u);
    *v = (int32_t)u;
    return st;
}

static sm_status get_u8(fb *f, const fb_table *t, unsigned id, uint8_t def, const char *what,
                        uint8_t *v)
{
    size_t p;
    sm_status st = field(f, t, id, 1, what, &p);
    *v = p ? f->b[p] : def;
    return st;
}

/* Follows the uoffset stored at field id; *pos = 0 when absent. */
static sm_status get_ref(fb *f, const fb_table *t, unsigned id, const char *what, size_t *pos)
{
    size_t p;
    sm_status st = field(f, t, id, 4, what, &p);
    *pos = 0;
    if (st || !p)
        return st;
    uint64_t target = (uint64_t)p + rd32(f->b + p);
    if (target + 4 > f->len)
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s field %u: offset %llu out of range (file is %zu bytes)",
                            what, id, (unsigned long long)target, f->len);
    *pos = (size_t)target;
    return SM_OK;
}

/* A vector field: element count and start; absent = empty. */
static sm_status get_vector(fb *f, const fb_table *t, unsigned id, size_t elem, const char *what,
                            uint32_t *n, size_t *start)
{
    size_t p;
    sm_status st = get_ref(f, t, id, what, &p);
    *n = 0;
    *start = 0;
    if (st || !p)
        return st;
    uint32_t count = rd32(f->b + p);
    size_t bytes;
    if (!sm_size_mul(count, elem, &bytes) || !in_range(f, p + 4, bytes))
        return sm_error_set(f->err, SM_ERR_FORMAT,
                            "%s vector (field %u) of %u elements runs past end of file", what, id, count);
    *n = count;
    *start = p + 4;
    return SM_OK;
}

/* Element k of a vector of tables. */
static sm_status vector_table(fb *f, size_t start, uint32_t k, const char *what, fb_table *t)
{
    size_t p = start + (size_t)k * 4;
    uint64_t target = (uint64_t)p + rd32(f->b + p);
    if (target > f->len)
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s %u: table offset %llu out of range (file is %zu bytes)",
                            what, k, (unsigned long long)target, f->len);
    return table_at(f, (size_t)target, what, t);
}

/* A string field copied into a malloc'd NUL-terminated string ("" when absent). */
static sm_status get_string(fb *f, const fb_table *t, unsigned id, const char *what, char **out)
{
    uint32_t n;
    size_t start;
    *out = NULL;
    sm_status st = get_vector(f, t, id, 1, what, &n, &start);
    if (st)
        return st;
    if (n && memchr(f->b + start, 0, n))
        return sm_error_set(f->err, SM_ERR_FORMAT, "%s string (field %u) contains a NUL byte", what, id);
    if (!(*out = malloc((size_t)n + 1)))
        return sm_error_set(f->err, SM_ERR_NOMEM, "out of memory");
    if (n)
        memcpy(*out, f->b + start, n);
    (*out)[n] = '\0';
    return SM_OK;
}

/* A [int] field copied into a malloc'd array (NULL, 0 when absent or empty). */
static sm_status get_ints(fb *f, const fb_table *t, unsigned id, const char *what, int32_t **out,
                          uint32_t *n)
{
    size_t start;
    *out = NULL;
    sm_status st = get_vector(f, t, id, 4, what, n, &start);
    if (st || !*n)
        return st;
    if (!(*out = malloc((size_t)*n * sizeof **out)))
        return sm_error_set(f->err, SM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < *n; i++)
        (*out)[i] = (int32_t)rd32(f->b + start + 4 * (size_t)i);
    return SM_OK;
}

/* ---- names ------------------------------------------------------------------ */

const char *sm_tflite_builtin_name(int32_t code)
{
    switch (code) {
    case SM_TFL_OP_ADD: return "ADD";
    case SM_TFL_OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case SM_TFL_OP_CONCATENATION: return "CONCATENATION";
    case SM_TFL_OP_CONV_2D: return "CONV_2D";
    case SM_TFL_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case SM_TFL_OP_DEQUANTIZE: return "DEQUANTIZE";
    case SM_TFL_OP_LOGISTIC: return "LOGISTIC";
    case SM_TFL_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case SM_TFL_OP_MUL: return "MUL";
    case SM_TFL_OP_RELU: return "RELU";
    case SM_TFL_OP_RELU6: return "RELU6";
    case SM_TFL_OP_RESHAPE: return "RESHAPE";
    case SM_TFL_OP_CUSTOM: return "CUSTOM";
    case SM_TFL_OP_PAD: return "PAD";
    case SM_TFL_OP_STRIDED_SLICE: return "STRIDED_SLICE";
    case SM_TFL_OP_PRELU: return "PRELU";
    }
    return NULL;
}

const char *sm_tflite_type_name(int32_t type)
{
    static const char *const names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING",
                                         "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64"};
    return type >= 0 && type < (int32_t)(sizeof names / sizeof *names) ? names[type] : "UNKNOWN";
}

const char *sm_tflite_activation_name(int32_t act)
{
    static const char *const names[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};
    return act >= 0 && act < 6 ? names[act] : NULL;
}

size_t sm_tflite_type_size(int32_t type)
{
    switch (type) {
    case SM_TFL_FLOAT32: case SM_TFL_INT32: return 4;
    case SM_TFL_FLOAT16: case SM_TFL_INT16: return 2;
    case SM_TFL_UINT8: case SM_TFL_INT8: case SM_TFL_BOOL: return 1;
    case SM_TFL_INT64: case SM_TFL_FLOAT64: case SM_TFL_COMPLEX64: return 8;
    }
    return 0;
}

/* ---- model pieces --------------------------------------------------------------- */

/* BuiltinOptions union tags used below. */
enum {
    OPT_CONV2D = 1, OPT_DEPTHWISE = 2, OPT_POOL2D = 5, OPT_CONCAT = 10, OPT_ADD = 11,
    OPT_RESHAPE = 17, OPT_MUL = 21, OPT_STRIDED_SLICE = 32
};

static sm_status parse_options(fb *f, const fb_table *op, uint8_t type, sm_tfl_options *o)
{
    sm_status st;
    size_t p;
    memset(o, 0, sizeof *o);
    o->stride_w = o->stride_h = o->dilation_w = o->dilation_h = 1;
    if ((st = get_ref(f, op, 4, "operator", &p)) || !p || type == 0)
        return st;
    fb_table t;
    if ((st = table_at(f, p, "builtin options", &t)))
        return st;
    const char *w = "builtin options";
    o->has_options = true;
    switch (type) {
    case OPT_CONV2D: {
        uint8_t pad, act;
        if ((st = get_u8(f, &t, 0, 0, w, &pad)) || (st = get_i32(f, &t, 1, 0, w, &o->stride_w)) ||
            (st = get_i32(f, &t, 2, 0, w, &o->stride_h)) || (st = get_u8(f, &t, 3, 0, w, &act)) ||
            (st = get_i32(f, &t, 4, 1, w, &o->dilation_w)) ||
            (st = get_i32(f, &t, 5, 1, w, &o->dilation_h)))
            return st;
        o->padding = pad;
        o->activation = act;
        break;
    }
    case OPT_DEPTHWISE: {
        uint8_t pad, act;
        if ((st = get_u8(f, &t, 0, 0, w, &pad)) || (st = get_i32(f, &t, 1, 0, w, &o->stride_w)) ||
            (st = get_i32(f, &t, 2, 0, w, &o->stride_h)) ||
            (st = get_i32(f, &t, 3, 0, w, &o->depth_multiplier)) ||
            (st = get_u8(f, &t, 4, 0, w, &act)) || (st = get_i32(f, &t, 5, 1, w, &o->dilation_w)) ||
            (st = get_i32(f, &t, 6, 1, w, &o->dilation_h)))
            return st;
        o->padding = pad;
        o->activation = act;
        break;
    }
    case OPT_POOL2D: {
        uint8_t pad, act;
        if ((st = get_u8(f, &t, 0, 0, w, &pad)) || (st = get_i32(f, &t, 1, 0, w, &o->stride_w)) ||
            (st = get_i32(f, &t, 2, 0, w, &o->stride_h)) ||
            (st = get_i32(f, &t, 3, 0, w, &o->filter_w)) ||
            (st = get_i32(f, &t, 4, 0, w, &o->filter_h)) || (st = get_u8(f, &t, 5, 0, w, &act)))
            return st;
        o->padding = pad;
        o->activation = act;
        break;
    }
    case OPT_CONCAT: {
        uint8_t act;
        if ((st = get_i32(f, &t, 0, 0, w, &o->axis)) || (st = get_u8(f, &t, 1, 0, w, &act)))
            return st;
        o->activation = act;
        break;
    }
    case OPT_ADD:
    case OPT_MUL: {
        uint8_t act;
        if ((st = get_u8(f, &t, 0, 0, w, &act)))
            return st;
        o->activation = act;
        break;
    }
    case OPT_RESHAPE: {
        uint32_t n;
        size_t start;
        if ((st = get_vector(f, &t, 0, 4, w, &n, &start)))
            return st;
        if (n > SM_TFL_MAX_NEW_SHAPE)
            return sm_error_set(f->err, SM_ERR_UNSUPPORTED, "reshape new_shape has %u dims (max %d)", n,
                                SM_TFL_MAX_NEW_SHAPE);
        o->has_new_shape = start != 0;
        o->n_new_shape = n;
        for (uint32_t i = 0; i < n; i++)
            o->new_shape[i] = (int32_t)rd32(f->b + start + 4 * (size_t)i);
        break;
    }
    case OPT_STRIDED_SLICE:
        if ((st = get_i32(f, &t, 0, 0, w, &o->begin_mask)) ||
            (st = get_i32(f, &t, 1, 0, w, &o->end_mask)) ||
            (st = get_i32(f, &t, 2, 0, w, &o->ellipsis_mask)) ||
            (st = get_i32(f, &t, 3, 0, w, &o->new_axis_mask)) ||
            (st = get_i32(f, &t, 4, 0, w, &o->shrink_axis_mask)))
            return st;
        break;
    default:
        o->has_options = false; /* a table we do not decode; the converter decides */
        break;
    }
    return SM_OK;
}

static sm_status parse_tensor(fb *f, const fb_table *t, uint32_t k, const sm_tflite *m,
                              const fb_table *buffers, sm_tfl_tensor *out)
{
    char what[48];
    snprintf(what, sizeof what, "tensor %u", k);
    sm_status st;
    int32_t *shape = NULL;
    uint32_t ndim;
    uint8_t type, var;
    if ((st = get_ints(f, t, 0, what, &shape, &ndim)))
        return st;
    if (ndim > SM_TFL_MAX_DIMS) {
        free(shape);
        return sm_error_set(f->err, SM_ERR_UNSUPPORTED, "%s has %u dims (max %d)", what, ndim,
                            SM_TFL_MAX_DIMS);
    }
    out->ndim = ndim;
    for (uint32_t i = 0; i < ndim; i++)
        out->dims[i] = shape[i];
    free(shape);
    if ((st = get_u8(f, t, 1, 0, what, &type)) || (st = get_u32(f, t, 2, 0, what, &out->buffer)) ||
        (st = get_string(f, t, 3, what, &out->name)) || (st = get_u8(f, t, 5, 0, what, &var)))
        return st;
    out->type = (int8_t)type;
    out->is_variable = var != 0;
    /* quantization: any scale or zero_point value means a quantised tensor */
    size_t qp;
    if ((st = get_ref(f, t, 4, what, &qp)))
        return st;
    if (qp) {
        fb_table q;
        uint32_t n_scale, n_zero;
        size_t s;
        if ((st = table_at(f, qp, "quantization", &q)) ||
            (st = get_vector(f, &q, 2, 4, "quantization", &n_scale, &s)) ||
            (st = get_vector(f, &q, 3, 8, "quantization", &n_zero, &s)))
            return st;
        out->quantized = n_scale || n_zero;
    }
    if (out->buffer >= m->n_buffers)
        return sm_error_set(f->err, SM_ERR_FORMAT, "tensor %u '%s': buffer index %u out of range (%u buffers)",
                            k, out->name, out->buffer, m->n_buffers);
    fb_table b;
    uint32_t n;
    size_t start;
    if ((st = vector_table(f, buffers->pos, out->buffer, "buffer", &b)) ||
        (st = get_vector(f, &b, 0, 1, "buffer", &n, &start)))
        return st;
    uint32_t big_off, big_size; /* offset/size fields (id 1, 2) are for >2 GB models */
    if ((st = get_u32(f, &b, 1, 0, "buffer", &big_off)) || (st = get_u32(f, &b, 2, 0, "buffer", &big_size)))
        return st;
    if (big_off || big_size)
        return sm_error_set(f->err, SM_ERR_UNSUPPORTED,
                            "tensor %u '%s': buffer %u stores its data outside the FlatBuffer (offset/size)",
                            k, out->name, out->buffer);
    if (n) {
        out->data = f->b + start;
        out->nbytes = n;
    }
    return SM_OK;
}

static sm_status check_indices(fb *f, const int32_t *idx, uint32_t n, uint32_t n_tensors,
                               bool allow_absent, const char *what, uint32_t k)
{
    for (uint32_t i = 0; i < n; i++)
        if (idx[i] >= (int32_t)n_tensors || idx[i] < (allow_absent ? -1 : 0))
            return sm_error_set(f->err, SM_ERR_FORMAT, "%s %u: tensor index %d out of range (%u tensors)",
                                what, k, idx[i], n_tensors);
    return SM_OK;
}

static sm_status parse_model(fb *f, sm_tflite *m)
{
    sm_status st;
    if (f->len < 8)
        return sm_error_set(f->err, SM_ERR_FORMAT, "file too short for a FlatBuffer (%zu bytes)", f->len);
    if (memcmp(f->b + 4, "TFL3", 4))
        return sm_error_set(f->err, SM_ERR_FORMAT, "not a TFLite model (file identifier is not TFL3)");
    uint32_t root_off = rd32(f->b);
    if ((size_t)root_off + 4 > f->len || root_off < 8)
        return sm_error_set(f->err, SM_ERR_FORMAT, "root table offset %u out of range (file is %zu bytes)",
                            root_off, f->len);
    fb_table root;
    if ((st = table_at(f, root_off, "model", &root)) ||
        (st = get_u32(f, &root, 0, 0, "model", &m->version)) ||
        (st = get_string(f, &root, 3, "model", &m->description)))
        return st;
    if (m->version != 3)
        return sm_error_set(f->err, SM_ERR_UNSUPPORTED, "schema version %u (only 3 is supported)", m->version);

    /* operator codes */
    uint32_t n;
    size_t start;
    if ((st = get_vector(f, &root, 1, 4, "model", &n, &start)))
        return st;
    if (n && !(m->opcodes = calloc(n, sizeof *m->opcodes)))
        return sm_error_set(f->err, SM_ERR_NOMEM, "out of memory");
    m->n_opcodes = n;
    for (uint32_t i = 0; i < n; i++) {
        fb_table t;
        uint8_t dep;
        int32_t code;
        sm_tfl_opcode *oc = &m->opcodes[i];
        if ((st = vector_table(f, start, i, "operator code", &t)) ||
            (st = get_u8(f, &t, 0, 0, "operator code", &dep)) ||
            (st = get_string(f, &t, 1, "operator code", &oc->custom_code)) ||
            (st = get_i32(f, &t, 2, 1, "operator code", &oc->version)) ||
            (st = get_i32(f, &t, 3, 0, "operator code", &code)))
            return st;
        /* Schema 3a: the byte field holds codes < 127, the int field the rest. */
        oc->builtin = (int32_t)(int8_t)dep > code ? (int32_t)(int8_t)dep : code;
        if (oc->builtin != SM_TFL_OP_CUSTOM) {
            free(oc->custom_code);
            oc->custom_code = NULL;
        } else if (!oc->custom_code[0]) {
            return sm_error_set(f->err, SM_ERR_FORMAT, "operator code %u: CUSTOM without a custom_code", i);
        }
    }

    /* buffers (tables checked lazily, when a tensor refers to one) */
    fb_table buffers = {0};
    if ((st = get_vector(f, &root, 4, 4, "model", &m->n_buffers, &buffers.pos)))
        return st;

    /* the first subgraph */
    if ((st = get_vector(f, &root, 2, 4, "model", &m->n_subgraphs, &start)))
        return st;
    if (m->n_subgraphs == 0)
        return sm_error_set(f->err, SM_ERR_FORMAT, "model has no subgraph");
    fb_table sg;
    if ((st = vector_table(f, start, 0, "subgraph", &sg)) ||
        (st = get_string(f, &sg, 4, "subgraph", &m->subgraph_name)) ||
        (st = get_ints(f, &sg, 1, "subgraph inputs", &m->inputs, &m->n_inputs)) ||
        (st = get_ints(f, &sg, 2, "subgraph outputs", &m->outputs, &m->n_outputs)) ||
        (st = get_vector(f, &sg, 0, 4, "subgraph tensors", &n, &start)))
        return st;
    if (n && !(m->tensors = calloc(n, sizeof *m->tensors)))
        return sm_error_set(f->err, SM_ERR_NOMEM, "out of memory");
    m->n_tensors = n;
    for (uint32_t i = 0; i < n; i++) {
        fb_table t;
        if ((st = vector_table(f, start, i, "tensor", &t)) ||
            (st = parse_tensor(f, &t, i, m, &buffers, &m->tensors[i])))
            return st;
    }
    if ((st = check_indices(f, m->inputs, m->n_inputs, m->n_tensors, false, "subgraph input", 0)) ||
        (st = check_indices(f, m->outputs, m->n_outputs, m->n_tensors, false, "subgraph output", 0)))
        return st;

    if ((st = get_vector(f, &sg, 3, 4, "subgraph operators", &n, &start)))
        return st;
    if (n && !(m->ops = calloc(n, sizeof *m->ops)))
        return sm_error_set(f->err, SM_ERR_NOMEM, "out of memory");
    m->n_ops = n;
    for (uint32_t i = 0; i < n; i++) {
        fb_table t;
        sm_tfl_op *op = &m->ops[i];
        uint32_t n_custom;
        size_t custom;
        if ((st = vector_table(f, start, i, "operator", &t)) ||
            (st = get_u32(f, &t, 0, 0, "operator", &op->opcode)) ||
            (st = get_ints(f, &t, 1, "operator inputs", &op->inputs, &op->n_inputs)) ||
            (st = get_ints(f, &t, 2, "operator outputs", &op->outputs, &op->n_outputs)) ||
            (st = get_u8(f, &t, 3, 0, "operator", &op->options_type)) ||
            (st = parse_options(f, &t, op->options_type, &op->opt)) ||
            (st = get_vector(f, &t, 5, 1, "operator custom options", &n_custom, &custom)))
            return st;
        if (op->opcode >= m->n_opcodes)
            return sm_error_set(f->err, SM_ERR_FORMAT, "operator %u: opcode index %u out of range (%u codes)",
                                i, op->opcode, m->n_opcodes);
        if ((st = check_indices(f, op->inputs, op->n_inputs, m->n_tensors, true, "operator", i)) ||
            (st = check_indices(f, op->outputs, op->n_outputs, m->n_tensors, false, "operator", i)))
            return st;
        if (n_custom) {
            op->custom_options = f->b + custom;
            op->custom_options_len = n_custom;
        }
    }
    return SM_OK;
}

sm_status sm_tflite_parse(const uint8_t *buf, size_t len, const char *path, sm_tflite **out,
                          sm_error *err)
{
    *out = NULL;
    sm_tflite *m = calloc(1, sizeof *m);
    if (!m)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    fb f = {buf, len, err};
    sm_status st = parse_model(&f, m);
    if (st) {
        sm_error_prefix(err, "%s", path);
        sm_tflite_free(m);
        return st;
    }
    *out = m;
    return SM_OK;
}

void sm_tflite_free(sm_tflite *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; m->opcodes && i < m->n_opcodes; i++)
        free(m->opcodes[i].custom_code);
    for (uint32_t i = 0; m->tensors && i < m->n_tensors; i++)
        free(m->tensors[i].name);
    for (uint32_t i = 0; m->ops && i < m->n_ops; i++) {
        free(m->ops[i].inputs);
        free(m->ops[i].outputs);
    }
    free(m->opcodes);
    free(m->tensors);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    free(m->description);
    free(m->subgraph_name);
    free(m);
}

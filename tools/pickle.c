#include "pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the allow-list ------------------------------------------------------ */

enum {
    G_ODICT, G_REBUILD_V2, G_REBUILD_PARAM, G_STORAGE, G_NP_SCALAR, G_NP_DTYPE, G_NP_NDARRAY,
    G_NAW, G_CLASS, G_CTOR
};

static const struct {
    const char *name;
    int gid;
    sm_pk_etype etype;
} allow[] = {
    {"collections.OrderedDict", G_ODICT, 0},
    {"torch._utils._rebuild_tensor_v2", G_REBUILD_V2, 0},
    {"torch._utils._rebuild_parameter", G_REBUILD_PARAM, 0},
    {"torch.FloatStorage", G_STORAGE, SM_PK_F32},
    {"torch.HalfStorage", G_STORAGE, SM_PK_F16},
    {"torch.BFloat16Storage", G_STORAGE, SM_PK_BF16},
    {"torch.DoubleStorage", G_STORAGE, SM_PK_F64},
    {"torch.LongStorage", G_STORAGE, SM_PK_I64},
    {"torch.IntStorage", G_STORAGE, SM_PK_I32},
    {"torch.ShortStorage", G_STORAGE, SM_PK_I16},
    {"torch.CharStorage", G_STORAGE, SM_PK_I8},
    {"torch.ByteStorage", G_STORAGE, SM_PK_U8},
    {"torch.BoolStorage", G_STORAGE, SM_PK_BOOLT},
    {"numpy.core.multiarray.scalar", G_NP_SCALAR, 0},
    {"numpy._core.multiarray.scalar", G_NP_SCALAR, 0},
    {"numpy.dtype", G_NP_DTYPE, 0},
    {"numpy.ndarray", G_NP_NDARRAY, 0},
    {"joblib.numpy_pickle.NumpyArrayWrapper", G_NAW, 0},
    {"sklearn.pipeline.Pipeline", G_CLASS, 0},
    {"sklearn.preprocessing._data.StandardScaler", G_CLASS, 0},
    {"sklearn.preprocessing.data.StandardScaler", G_CLASS, 0},
    {"sklearn.preprocessing._label.LabelBinarizer", G_CLASS, 0},
    {"sklearn.preprocessing.label.LabelBinarizer", G_CLASS, 0},
    {"sklearn.neural_network._multilayer_perceptron.MLPClassifier", G_CLASS, 0},
    {"sklearn.neural_network.multilayer_perceptron.MLPClassifier", G_CLASS, 0},
    {"sklearn.neural_network._stochastic_optimizers.AdamOptimizer", G_CLASS, 0},
    {"sklearn.neural_network._stochastic_optimizers.SGDOptimizer", G_CLASS, 0},
    {"numpy.random._pickle.__randomstate_ctor", G_CTOR, 0},
    {"numpy.random._pickle.__bit_generator_ctor", G_CTOR, 0},
    {"numpy.random._pickle.__generator_ctor", G_CTOR, 0},
};

static const struct {
    const char *name;
    size_t size;
} etypes[SM_PK_ETYPE_COUNT] = {
    [SM_PK_F32] = {"float32", 4}, [SM_PK_F16] = {"float16", 2}, [SM_PK_BF16] = {"bfloat16", 2},
    [SM_PK_F64] = {"float64", 8}, [SM_PK_I64] = {"int64", 8},   [SM_PK_I32] = {"int32", 4},
    [SM_PK_I16] = {"int16", 2},   [SM_PK_I8] = {"int8", 1},     [SM_PK_U8] = {"uint8", 1},
    [SM_PK_U16] = {"uint16", 2},  [SM_PK_U32] = {"uint32", 4},  [SM_PK_U64] = {"uint64", 8},
    [SM_PK_BOOLT] = {"bool", 1},
};

size_t sm_pk_etype_size(sm_pk_etype t) { return (unsigned)t < SM_PK_ETYPE_COUNT ? etypes[t].size : 0; }
const char *sm_pk_etype_name(sm_pk_etype t) { return (unsigned)t < SM_PK_ETYPE_COUNT ? etypes[t].name : "?"; }

const char *sm_pk_kind_name(sm_pk_kind k)
{
    static const char *names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple", "list",
                                  "dict", "global", "storage", "tensor", "dtype", "ndarray", "object"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* ---- the machine ------------------------------------------------------------ */

struct sm_pickle {
    sm_pobj **pool;
    size_t n, cap;
};

typedef struct {
    sm_pickle *pk;
    const uint8_t *buf;
    size_t len, pos, op_pos;
    const char *name;
    sm_error *err;
    bool joblib;
    sm_pobj **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    sm_pobj **memo;
    size_t memo_len, memo_count;
} vm_t;

static bool sm_pk_is_str(const sm_pobj *o, const char *s);
static sm_status fail(vm_t *vm, sm_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static sm_status fail(vm_t *vm, sm_status st, const char *fmt, ...)
{
    char msg[SM_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sm_error_set(vm->err, st, "%s: pickle offset %zu: %s", vm->name, vm->op_pos, msg);
}

void sm_pickle_free(sm_pickle *pk)
{
    if (!pk)
        return;
    for (size_t i = 0; i < pk->n; i++) {
        free(pk->pool[i]->s);
        free(pk->pool[i]->items);
        free(pk->pool[i]->data);
        free(pk->pool[i]);
    }
    free(pk->pool);
    free(pk);
}

static sm_pobj *new_obj(vm_t *vm, sm_pk_kind kind)
{
    sm_pickle *pk = vm->pk;
    if (pk->n >= SM_PICKLE_MAX_OBJECTS) {
        fail(vm, SM_ERR_FORMAT, "more than %u objects (cap)", SM_PICKLE_MAX_OBJECTS);
        return NULL;
    }
    if (pk->n == pk->cap) {
        size_t cap = pk->cap ? pk->cap * 2 : 256;
        sm_pobj **np = realloc(pk->pool, cap * sizeof *np);
        if (!np) {
            fail(vm, SM_ERR_NOMEM, "out of memory");
            return NULL;
        }
        pk->pool = np;
        pk->cap = cap;
    }
    sm_pobj *o = calloc(1, sizeof *o);
    if (!o) {
        fail(vm, SM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    o->kind = kind;
    pk->pool[pk->n++] = o;
    return o;
}

static bool add_item(vm_t *vm, sm_pobj *c, sm_pobj *item)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        sm_pobj **np = realloc(c->items, cap * sizeof *np);
        if (!np) {
            fail(vm, SM_ERR_NOMEM, "out of memory");
            return false;
        }
        c->items = np;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    if (item->depth + 1 > c->depth)
        c->depth = item->depth + 1;
    if (c->depth > SM_PICKLE_MAX_DEPTH) {
        fail(vm, SM_ERR_FORMAT, "objects nested deeper than %d levels (cap)", SM_PICKLE_MAX_DEPTH);
        return false;
    }
    return true;
}

static bool push(vm_t *vm, sm_pobj *o)
{
    if (!o)
        return false;
    if (vm->sp >= SM_PICKLE_MAX_STACK) {
        fail(vm, SM_ERR_FORMAT, "stack deeper than %u entries (cap)", SM_PICKLE_MAX_STACK);
        return false;
    }
    if (vm->sp == vm->scap) {
        size_t cap = vm->scap ? vm->scap * 2 : 64;
        sm_pobj **np = realloc(vm->stack, cap * sizeof *np);
        if (!np) {
            fail(vm, SM_ERR_NOMEM, "out of memory");
            return false;
        }
        vm->stack = np;
        vm->scap = cap;
    }
    vm->stack[vm->sp++] = o;
    return true;
}

static size_t stack_floor(const vm_t *vm) { return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0; }

static sm_pobj *pop(vm_t *vm)
{
    if (vm->sp <= stack_floor(vm)) {
        fail(vm, SM_ERR_FORMAT, "stack underflow: opcode 0x%02x needs an object but the stack%s is empty",
             vm->buf[vm->op_pos], vm->nmarks ? " above the last MARK" : "");
        return NULL;
    }
    return vm->stack[--vm->sp];
}

static sm_pobj *top(vm_t *vm)
{
    if (vm->sp <= stack_floor(vm)) {
        fail(vm, SM_ERR_FORMAT, "stack underflow: opcode 0x%02x needs an object but the stack is empty",
             vm->buf[vm->op_pos]);
        return NULL;
    }
    return vm->stack[vm->sp - 1];
}

/* Pops the items above the last MARK; returns their start index in the stack. */
static bool pop_mark(vm_t *vm, size_t *start)
{
    if (!vm->nmarks) {
        fail(vm, SM_ERR_FORMAT, "stack underflow: opcode 0x%02x needs a MARK but there is none",
             vm->buf[vm->op_pos]);
        return false;
    }
    *start = vm->marks[--vm->nmarks];
    return true;
}

static bool need(vm_t *vm, size_t n)
{
    if (n > vm->len - vm->pos) {
        fail(vm, SM_ERR_FORMAT, "truncated pickle: opcode 0x%02x needs %zu more bytes, %zu left",
             vm->buf[vm->op_pos], n, vm->len - vm->pos);
        return false;
    }
    return true;
}

static uint64_t rd_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static sm_pobj *new_int(vm_t *vm, int64_t v)
{
    sm_pobj *o = new_obj(vm, SM_PK_INT);
    if (o)
        o->i = v;
    return o;
}

static sm_pobj *new_bytes(vm_t *vm, sm_pk_kind kind, const void *p, size_t n)
{
    sm_pobj *o = new_obj(vm, kind);
    if (!o)
        return NULL;
    o->s = malloc(n + 1);
    if (!o->s) {
        fail(vm, SM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(o->s, p, n);
    o->s[n] = '\0';
    o->slen = n;
    return o;
}

static bool read_len_data(vm_t *vm, int len_bytes, sm_pk_kind kind)
{
    if (!need(vm, (size_t)len_bytes))
        return false;
    uint64_t n = rd_le(vm->buf + vm->pos, len_bytes);
    vm->pos += (size_t)len_bytes;
    if (!need(vm, n > SIZE_MAX ? SIZE_MAX : (size_t)n))
        return false;
    sm_pobj *o = new_bytes(vm, kind, vm->buf + vm->pos, (size_t)n);
    vm->pos += (size_t)n;
    return push(vm, o);
}

static bool make_global(vm_t *vm, const char *module, size_t mlen, const char *name, size_t nlen)
{
    char full[600];
    if (memchr(module, '\0', mlen) || memchr(name, '\0', nlen))
        return fail(vm, SM_ERR_UNSUPPORTED, "refusing pickle global with a NUL byte in its name"), false;
    if (mlen > 256 || nlen > 256)
        return fail(vm, SM_ERR_UNSUPPORTED, "refusing pickle global with a %zu/%zu-byte name (not on the allow-list)", mlen, nlen), false;
    snprintf(full, sizeof full, "%.*s.%.*s", (int)mlen, module, (int)nlen, name);
    for (size_t i = 0; i < sizeof allow / sizeof allow[0]; i++) {
        if (!strcmp(full, allow[i].name)) {
            sm_pobj *o = new_bytes(vm, SM_PK_GLOBAL, full, strlen(full));
            if (!o)
                return false;
            o->gid = allow[i].gid;
            o->etype = allow[i].etype;
            return push(vm, o);
        }
    }
    /* Names may hold any bytes; print them safely. */
    for (char *c = full; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    fail(vm, SM_ERR_UNSUPPORTED,
         "refusing pickle global '%s': not on the allow-list of model classes (nothing was run)", full);
    return false;
}

static bool read_line(vm_t *vm, const char **s, size_t *n)
{
    const uint8_t *start = vm->buf + vm->pos;
    size_t left = vm->len - vm->pos;
    const uint8_t *nl = memchr(start, '\n', left < 300 ? left : 300);
    if (!nl)
        return fail(vm, SM_ERR_FORMAT, "truncated or over-long GLOBAL name"), false;
    *s = (const char *)start;
    *n = (size_t)(nl - start);
    vm->pos += *n + 1;
    return true;
}

/* numpy dtype strings: [<>|=]?[fiub]N, e.g. "f8", "<i8", "u4", "b1". */
static bool parse_dtype(vm_t *vm, const char *s, sm_pobj *o)
{
    const char *p = s;
    o->big_endian = false;
    if (*p == '<' || *p == '|' || *p == '=')
        p++;
    else if (*p == '>') {
        o->big_endian = true;
        p++;
    }
    static const struct { const char *code; sm_pk_etype t; } codes[] = {
        {"f8", SM_PK_F64}, {"f4", SM_PK_F32}, {"f2", SM_PK_F16}, {"i8", SM_PK_I64}, {"i4", SM_PK_I32},
        {"i2", SM_PK_I16}, {"i1", SM_PK_I8}, {"u8", SM_PK_U64}, {"u4", SM_PK_U32}, {"u2", SM_PK_U16},
        {"u1", SM_PK_U8}, {"b1", SM_PK_BOOLT},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (!strcmp(p, codes[i].code)) {
            o->etype = codes[i].t;
            return true;
        }
    }
    return fail(vm, SM_ERR_UNSUPPORTED, "numpy dtype '%.32s' is not supported (numbers only; object and string arrays are not)", s), false;
}

static bool get_dims(vm_t *vm, const sm_pobj *t, const char *what, int *ndim, int64_t *dims)
{
    if (t->kind != SM_PK_TUPLE && t->kind != SM_PK_LIST)
        return fail(vm, SM_ERR_FORMAT, "%s is a %s, expected a tuple", what, sm_pk_kind_name(t->kind)), false;
    if (t->n > SM_PICKLE_MAX_DIMS)
        return fail(vm, SM_ERR_UNSUPPORTED, "%s has %zu dimensions (max %d)", what, t->n, SM_PICKLE_MAX_DIMS), false;
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != SM_PK_INT || t->items[i]->i < 0)
            return fail(vm, SM_ERR_FORMAT, "%s[%zu] is not a non-negative integer", what, i), false;
        dims[i] = t->items[i]->i;
    }
    *ndim = (int)t->n;
    return true;
}

static void swap_bytes(uint8_t *p, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

static bool scalar_value(vm_t *vm, const sm_pobj *dt, const sm_pobj *raw, sm_pobj *out)
{
    size_t sz = sm_pk_etype_size(dt->etype);
    if (raw->kind != SM_PK_BYTES || raw->slen != sz)
        return fail(vm, SM_ERR_FORMAT, "numpy scalar of dtype %s needs %zu raw bytes", sm_pk_etype_name(dt->etype), sz), false;
    uint8_t b[8];
    memcpy(b, raw->s, sz);
    if (dt->big_endian)
        swap_bytes(b, 1, sz);
    uint64_t u = rd_le(b, (int)sz);
    switch (dt->etype) {
    case SM_PK_F64: { double d; memcpy(&d, &u, 8); out->kind = SM_PK_FLOAT; out->f = d; break; }
    case SM_PK_F32: { uint32_t v = (uint32_t)u; float f; memcpy(&f, &v, 4); out->kind = SM_PK_FLOAT; out->f = f; break; }
    case SM_PK_F16: out->kind = SM_PK_FLOAT; out->f = sm_f16_to_f32((uint16_t)u); break;
    case SM_PK_BOOLT: out->kind = SM_PK_BOOL; out->i = u != 0; break;
    case SM_PK_I64: out->kind = SM_PK_INT; out->i = (int64_t)u; break;
    case SM_PK_I32: out->kind = SM_PK_INT; out->i = (int32_t)u; break;
    case SM_PK_I16: out->kind = SM_PK_INT; out->i = (int16_t)u; break;
    case SM_PK_I8: out->kind = SM_PK_INT; out->i = (int8_t)u; break;
    case SM_PK_U64:
        if (u > INT64_MAX)
            return fail(vm, SM_ERR_UNSUPPORTED, "uint64 scalar too large"), false;
        out->kind = SM_PK_INT; out->i = (int64_t)u; break;
    default: out->kind = SM_PK_INT; out->i = (int64_t)u; break;
    }
    return true;
}

static sm_pobj *reduce(vm_t *vm, sm_pobj *fn, sm_pobj *args)
{
    if (fn->kind != SM_PK_GLOBAL)
        return fail(vm, SM_ERR_UNSUPPORTED, "REDUCE of a %s (only allow-listed constructors)", sm_pk_kind_name(fn->kind)), NULL;
    if (args->kind != SM_PK_TUPLE)
        return fail(vm, SM_ERR_FORMAT, "REDUCE of %s with %s arguments, expected a tuple", fn->s, sm_pk_kind_name(args->kind)), NULL;
    sm_pobj **a = args->items;
    size_t n = args->n;
    switch (fn->gid) {
    case G_ODICT:
        if (n != 0)
            return fail(vm, SM_ERR_UNSUPPORTED, "OrderedDict with %zu constructor arguments", n), NULL;
        return new_obj(vm, SM_PK_DICT);
    case G_REBUILD_V2: {
        if (n < 4 || a[0]->kind != SM_PK_STORAGE || a[1]->kind != SM_PK_INT || a[1]->i < 0)
            return fail(vm, SM_ERR_FORMAT, "_rebuild_tensor_v2 needs (storage, offset >= 0, size, stride, ...)"), NULL;
        sm_pobj *t = new_obj(vm, SM_PK_TENSOR);
        if (!t)
            return NULL;
        int ns;
        if (!get_dims(vm, a[2], "tensor size", &t->ndim, t->dims) || !get_dims(vm, a[3], "tensor stride", &ns, t->strides))
            return NULL;
        if (ns != t->ndim)
            return fail(vm, SM_ERR_FORMAT, "tensor size has %d dimensions but stride has %d", t->ndim, ns), NULL;
        t->storage = a[0];
        t->i = a[1]->i;
        t->etype = a[0]->etype;
        return t;
    }
    case G_REBUILD_PARAM:
        if (n < 1 || a[0]->kind != SM_PK_TENSOR)
            return fail(vm, SM_ERR_FORMAT, "_rebuild_parameter needs a tensor"), NULL;
        return a[0];
    case G_NP_DTYPE: {
        if (n < 1 || a[0]->kind != SM_PK_STR)
            return fail(vm, SM_ERR_FORMAT, "numpy.dtype needs a type string"), NULL;
        sm_pobj *d = new_obj(vm, SM_PK_DTYPE);
        if (!d || !parse_dtype(vm, a[0]->s, d))
            return NULL;
        return d;
    }
    case G_NP_SCALAR: {
        if (n != 2 || a[0]->kind != SM_PK_DTYPE)
            return fail(vm, SM_ERR_FORMAT, "numpy scalar needs (dtype, bytes)"), NULL;
        sm_pobj *s = new_obj(vm, SM_PK_NONE);
        if (!s || !scalar_value(vm, a[0], a[1], s))
            return NULL;
        return s;
    }
    case G_CTOR: {
        sm_pobj *o = new_bytes(vm, SM_PK_OBJECT, fn->s, fn->slen);
        if (o)
            o->gid = G_CTOR;
        return o;
    }
    default:
        return fail(vm, SM_ERR_UNSUPPORTED, "REDUCE of %s is not supported", fn->s), NULL;
    }
}

/* joblib writes the array bytes right after the wrapper's BUILD opcode:
 * [pad_len u8][pad_len bytes][numel * itemsize bytes]. */
static bool read_inline_array(vm_t *vm, sm_pobj *o)
{
    sm_pobj *st = o->state;
    if (!st || st->kind != SM_PK_DICT)
        return fail(vm, SM_ERR_FORMAT, "NumpyArrayWrapper without a state dict"), false;
    sm_pobj *dt = sm_pk_dict_get(st, "dtype"), *shape = sm_pk_dict_get(st, "shape");
    sm_pobj *order = sm_pk_dict_get(st, "order"), *align = sm_pk_dict_get(st, "numpy_array_alignment_bytes");
    if (!dt || dt->kind != SM_PK_DTYPE || !shape)
        return fail(vm, SM_ERR_FORMAT, "NumpyArrayWrapper state lacks a numeric dtype or a shape"), false;
    int64_t dims[SM_PICKLE_MAX_DIMS];
    int ndim;
    if (!get_dims(vm, shape, "array shape", &ndim, dims))
        return false;
    bool fortran = order && sm_pk_is_str(order, "F");
    if (order && !fortran && !sm_pk_is_str(order, "C"))
        return fail(vm, SM_ERR_FORMAT, "NumpyArrayWrapper order must be 'C' or 'F'"), false;
    size_t numel = 1, nbytes, size = sm_pk_etype_size(dt->etype);
    for (int i = 0; i < ndim; i++)
        if (!sm_size_mul(numel, (size_t)dims[i], &numel))
            return fail(vm, SM_ERR_FORMAT, "array size overflows"), false;
    if (!sm_size_mul(numel, size, &nbytes))
        return fail(vm, SM_ERR_FORMAT, "array size overflows"), false;
    size_t array_pos = vm->pos;
    if (align && align->kind != SM_PK_NONE) {
        if (vm->pos >= vm->len)
            return fail(vm, SM_ERR_FORMAT, "array data runs past the end of the file (no padding byte)"), false;
        size_t pad = vm->buf[vm->pos];
        if (pad > 64 || pad + 1 > vm->len - vm->pos)
            return fail(vm, SM_ERR_FORMAT, "bad array padding length %zu", pad), false;
        vm->pos += 1 + pad;
    }
    if (nbytes > vm->len - vm->pos)
        return fail(vm, SM_ERR_FORMAT,
                    "joblib array of %zu bytes (%zu x %s) at offset %zu runs past the end of the file (%zu bytes left)",
                    nbytes, numel, sm_pk_etype_name(dt->etype), array_pos, vm->len - vm->pos), false;
    uint8_t *data = malloc(nbytes ? nbytes : 1);
    if (!data)
        return fail(vm, SM_ERR_NOMEM, "out of memory for a %zu-byte array", nbytes), false;
    const uint8_t *src = vm->buf + vm->pos;
    if (fortran && ndim > 1) {
        /* Element at C index (i0..in-1) lives at Fortran offset sum(i_k * prod(dims[<k])). */
        int64_t idx[SM_PICKLE_MAX_DIMS] = {0};
        for (size_t c = 0; c < numel; c++) {
            size_t f = 0, mul = 1;
            for (int k = 0; k < ndim; k++) {
                f += (size_t)idx[k] * mul;
                mul *= (size_t)dims[k];
            }
            memcpy(data + c * size, src + f * size, size);
            for (int k = ndim - 1; k >= 0; k--) {
                if (++idx[k] < dims[k])
                    break;
                idx[k] = 0;
            }
        }
    } else {
        memcpy(data, src, nbytes);
    }
    if (dt->big_endian && size > 1)
        swap_bytes(data, numel, size);
    vm->pos += nbytes;
    /* Turn the wrapper into the array in place, so memo references see it too. */
    free(o->s);
    o->s = NULL;
    o->kind = SM_PK_NDARRAY;
    o->etype = dt->etype;
    o->ndim = ndim;
    memcpy(o->dims, dims, sizeof dims);
    o->numel = numel;
    o->data = data;
    o->state = NULL;
    return true;
}

static bool build(vm_t *vm)
{
    sm_pobj *state = pop(vm), *o = state ? top(vm) : NULL;
    if (!o)
        return false;
    switch (o->kind) {
    case SM_PK_OBJECT:
        o->state = state;
        if (state->depth + 1 > o->depth)
            o->depth = state->depth + 1;
        if (o->depth > SM_PICKLE_MAX_DEPTH)
            return fail(vm, SM_ERR_FORMAT, "objects nested deeper than %d levels (cap)", SM_PICKLE_MAX_DEPTH), false;
        if (o->gid == G_NAW) {
            if (!vm->joblib)
                return fail(vm, SM_ERR_UNSUPPORTED, "NumpyArrayWrapper outside a joblib file"), false;
            return read_inline_array(vm, o);
        }
        return true;
    case SM_PK_DICT:    /* torch's _metadata attribute on the state dict: not needed */
    case SM_PK_TENSOR:
        return true;
    case SM_PK_DTYPE:
        if (state->kind == SM_PK_TUPLE && state->n >= 2 && state->items[1]->kind == SM_PK_STR) {
            if (sm_pk_is_str(state->items[1], ">"))
                o->big_endian = true;
            else if (sm_pk_is_str(state->items[1], "<") || sm_pk_is_str(state->items[1], "|") ||
                     sm_pk_is_str(state->items[1], "="))
                o->big_endian = false;
            else
                return fail(vm, SM_ERR_FORMAT, "numpy dtype byte order '%.8s'", state->items[1]->s), false;
        }
        return true;
    default:
        return fail(vm, SM_ERR_UNSUPPORTED, "BUILD on a %s is not supported", sm_pk_kind_name(o->kind)), false;
    }
}

static bool persid(vm_t *vm)
{
    sm_pobj *pid = pop(vm);
    if (!pid)
        return false;
    if (vm->joblib)
        return fail(vm, SM_ERR_UNSUPPORTED, "persistent id outside a torch checkpoint"), false;
    if (pid->kind != SM_PK_TUPLE || pid->n != 5 || !sm_pk_is_str(pid->items[0], "storage") ||
        pid->items[1]->kind != SM_PK_GLOBAL || pid->items[1]->gid != G_STORAGE ||
        pid->items[2]->kind != SM_PK_STR || pid->items[4]->kind != SM_PK_INT || pid->items[4]->i < 0)
        return fail(vm, SM_ERR_FORMAT, "persistent id is not ('storage', torch.<T>Storage, key, location, numel)"), false;
    sm_pobj *s = new_bytes(vm, SM_PK_STORAGE, pid->items[2]->s, pid->items[2]->slen);
    if (!s)
        return false;
    s->etype = pid->items[1]->etype;
    s->numel = (uint64_t)pid->items[4]->i;
    return push(vm, s);
}

static bool memo_put(vm_t *vm, uint64_t idx)
{
    sm_pobj *o = top(vm);
    if (!o)
        return false;
    if (idx >= SM_PICKLE_MAX_MEMO)
        return fail(vm, SM_ERR_FORMAT, "memo index %llu exceeds the cap (%u)", (unsigned long long)idx, SM_PICKLE_MAX_MEMO), false;
    if (idx >= vm->memo_len) {
        size_t nl = vm->memo_len ? vm->memo_len : 64;
        while (nl <= idx)
            nl *= 2;
        sm_pobj **np = realloc(vm->memo, nl * sizeof *np);
        if (!np)
            return fail(vm, SM_ERR_NOMEM, "out of memory"), false;
        memset(np + vm->memo_len, 0, (nl - vm->memo_len) * sizeof *np);
        vm->memo = np;
        vm->memo_len = nl;
    }
    if (!vm->memo[idx])
        vm->memo_count++;
    vm->memo[idx] = o;
    return true;
}

static bool memo_get(vm_t *vm, uint64_t idx)
{
    if (idx >= vm->memo_len || !vm->memo[idx])
        return fail(vm, SM_ERR_FORMAT, "memo index %llu out of range (memo holds %zu objects)",
                    (unsigned long long)idx, vm->memo_count), false;
    return push(vm, vm->memo[idx]);
}

static bool make_seq(vm_t *vm, sm_pk_kind kind, size_t start)
{
    sm_pobj *t = new_obj(vm, kind);
    if (!t)
        return false;
    for (size_t i = start; i < vm->sp; i++)
        if (!add_item(vm, t, vm->stack[i]))
            return false;
    vm->sp = start;
    return push(vm, t);
}

static bool run(vm_t *vm, sm_pobj **result)
{
    for (;;) {
        if (vm->pos >= vm->len)
            return fail(vm, SM_ERR_FORMAT, "truncated pickle: no STOP opcode before the end (%zu bytes)", vm->len), false;
        vm->op_pos = vm->pos;
        uint8_t op = vm->buf[vm->pos++];
        bool ok = true;
        sm_pobj *a, *b, *c;
        size_t start;
        switch (op) {
        case 0x80: /* PROTO */
            if (!need(vm, 1))
                return false;
            if (vm->buf[vm->pos] < 2 || vm->buf[vm->pos] > 5)
                return fail(vm, SM_ERR_UNSUPPORTED, "pickle protocol %u (only 2-5)", vm->buf[vm->pos]), false;
            vm->pos++;
            break;
        case 0x95: /* FRAME: only a hint for buffering */
            if (!need(vm, 8))
                return false;
            vm->pos += 8;
            break;
        case '.': /* STOP */
            if (!(a = pop(vm)))
                return false;
            *result = a;
            return true;
        case '(': /* MARK */
            if (vm->nmarks >= SM_PICKLE_MAX_STACK)
                return fail(vm, SM_ERR_FORMAT, "more than %u MARKs (cap)", SM_PICKLE_MAX_STACK), false;
            if (vm->nmarks == vm->mcap) {
                size_t cap = vm->mcap ? vm->mcap * 2 : 32;
                size_t *np = realloc(vm->marks, cap * sizeof *np);
                if (!np)
                    return fail(vm, SM_ERR_NOMEM, "out of memory"), false;
                vm->marks = np;
                vm->mcap = cap;
            }
            vm->marks[vm->nmarks++] = vm->sp;
            break;
        case '0': /* POP */
            ok = pop(vm) != NULL;
            break;
        case '1': /* POP_MARK */
            ok = pop_mark(vm, &start);
            if (ok)
                vm->sp = start;
            break;
        case '2': /* DUP */
            ok = (a = top(vm)) && push(vm, a);
            break;
        case 'N': ok = push(vm, new_obj(vm, SM_PK_NONE)); break;
        case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
            if ((a = new_obj(vm, SM_PK_BOOL)))
                a->i = op == 0x88;
            ok = push(vm, a);
            break;
        case 'J':
            ok = need(vm, 4) && push(vm, new_int(vm, (int32_t)rd_le(vm->buf + vm->pos, 4)));
            vm->pos += 4;
            break;
        case 'K':
            ok = need(vm, 1) && push(vm, new_int(vm, vm->buf[vm->pos]));
            vm->pos += 1;
            break;
        case 'M':
            ok = need(vm, 2) && push(vm, new_int(vm, (int64_t)rd_le(vm->buf + vm->pos, 2)));
            vm->pos += 2;
            break;
        case 0x8a: { /* LONG1 */
            if (!need(vm, 1))
                return false;
            size_t n = vm->buf[vm->pos++];
            if (n > 8)
                return fail(vm, SM_ERR_UNSUPPORTED, "LONG1 integer of %zu bytes (max 8)", n), false;
            if (!need(vm, n))
                return false;
            uint64_t v = rd_le(vm->buf + vm->pos, (int)n);
            if (n > 0 && n < 8 && (vm->buf[vm->pos + n - 1] & 0x80))
                v |= ~(uint64_t)0 << (8 * n);
            vm->pos += n;
            ok = push(vm, new_int(vm, (int64_t)v));
            break;
        }
        case 'G': { /* BINFLOAT: big-endian */
            if (!need(vm, 8))
                return false;
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = u << 8 | vm->buf[vm->pos + (size_t)i];
            vm->pos += 8;
            if ((a = new_obj(vm, SM_PK_FLOAT)))
                memcpy(&a->f, &u, 8);
            ok = push(vm, a);
            break;
        }
        case 'X': ok = read_len_data(vm, 4, SM_PK_STR); break;
        case 0x8c: ok = read_len_data(vm, 1, SM_PK_STR); break;
        case 0x8d: ok = read_len_data(vm, 8, SM_PK_STR); break;
        case 'B': ok = read_len_data(vm, 4, SM_PK_BYTES); break;
        case 'C': ok = read_len_data(vm, 1, SM_PK_BYTES); break;
        case 0x8e: ok = read_len_data(vm, 8, SM_PK_BYTES); break;
        case ')': ok = push(vm, new_obj(vm, SM_PK_TUPLE)); break;
        case ']': ok = push(vm, new_obj(vm, SM_PK_LIST)); break;
        case '}': ok = push(vm, new_obj(vm, SM_PK_DICT)); break;
        case 't': ok = pop_mark(vm, &start) && make_seq(vm, SM_PK_TUPLE, start); break;
        case 'l': ok = pop_mark(vm, &start) && make_seq(vm, SM_PK_LIST, start); break;
        case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
            size_t k = (size_t)(op - 0x84);
            if (vm->sp < stack_floor(vm) + k)
                return fail(vm, SM_ERR_FORMAT, "stack underflow: TUPLE%zu needs %zu objects", k, k), false;
            ok = make_seq(vm, SM_PK_TUPLE, vm->sp - k);
            break;
        }
        case 'd': case 'u': { /* DICT, SETITEMS */
            if (!pop_mark(vm, &start))
                return false;
            if ((vm->sp - start) % 2)
                return fail(vm, SM_ERR_FORMAT, "odd number of objects for dict items"), false;
            if (op == 'd') {
                a = new_obj(vm, SM_PK_DICT);
            } else {
                if (start == 0 || (vm->nmarks && start <= stack_floor(vm)))
                    return fail(vm, SM_ERR_FORMAT, "stack underflow: SETITEMS without a dict"), false;
                a = vm->stack[start - 1];
                if (a->kind != SM_PK_DICT)
                    return fail(vm, SM_ERR_UNSUPPORTED, "SETITEMS on a %s", sm_pk_kind_name(a->kind)), false;
            }
            if (!a)
                return false;
            for (size_t i = start; i < vm->sp; i++)
                if (!add_item(vm, a, vm->stack[i]))
                    return false;
            vm->sp = start;
            if (op == 'd')
                ok = push(vm, a);
            break;
        }
        case 's': /* SETITEM */
            if (!(c = pop(vm)) || !(b = pop(vm)) || !(a = top(vm)))
                return false;
            if (a->kind != SM_PK_DICT)
                return fail(vm, SM_ERR_UNSUPPORTED, "SETITEM on a %s", sm_pk_kind_name(a->kind)), false;
            ok = add_item(vm, a, b) && add_item(vm, a, c);
            break;
        case 'a': /* APPEND */
            if (!(b = pop(vm)) || !(a = top(vm)))
                return false;
            if (a->kind != SM_PK_LIST)
                return fail(vm, SM_ERR_UNSUPPORTED, "APPEND on a %s", sm_pk_kind_name(a->kind)), false;
            ok = add_item(vm, a, b);
            break;
        case 'e': /* APPENDS */
            if (!pop_mark(vm, &start))
                return false;
            if (start == 0 || start <= stack_floor(vm))
                return fail(vm, SM_ERR_FORMAT, "stack underflow: APPENDS without a list"), false;
            a = vm->stack[start - 1];
            if (a->kind != SM_PK_LIST)
                return fail(vm, SM_ERR_UNSUPPORTED, "APPENDS on a %s", sm_pk_kind_name(a->kind)), false;
            for (size_t i = start; i < vm->sp; i++)
                if (!add_item(vm, a, vm->stack[i]))
                    return false;
            vm->sp = start;
            break;
        case 'c': { /* GLOBAL: refused or accepted right here */
            const char *m, *n;
            size_t ml, nl;
            ok = read_line(vm, &m, &ml) && read_line(vm, &n, &nl) && make_global(vm, m, ml, n, nl);
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if (!(b = pop(vm)) || !(a = pop(vm)))
                return false;
            if (a->kind != SM_PK_STR || b->kind != SM_PK_STR)
                return fail(vm, SM_ERR_FORMAT, "STACK_GLOBAL needs two strings"), false;
            ok = make_global(vm, a->s, a->slen, b->s, b->slen);
            break;
        case 'R': /* REDUCE */
            if (!(b = pop(vm)) || !(a = pop(vm)))
                return false;
            ok = push(vm, reduce(vm, a, b));
            break;
        case 0x81: /* NEWOBJ */
            if (!(b = pop(vm)) || !(a = pop(vm)))
                return false;
            if (a->kind != SM_PK_GLOBAL || (a->gid != G_CLASS && a->gid != G_NAW))
                return fail(vm, SM_ERR_UNSUPPORTED, "NEWOBJ of %s (only allow-listed classes)",
                            a->kind == SM_PK_GLOBAL ? a->s : sm_pk_kind_name(a->kind)), false;
            if (b->kind != SM_PK_TUPLE)
                return fail(vm, SM_ERR_FORMAT, "NEWOBJ arguments are not a tuple"), false;
            if ((c = new_bytes(vm, SM_PK_OBJECT, a->s, a->slen)))
                c->gid = a->gid;
            ok = push(vm, c);
            break;
        case 'b': ok = build(vm); break;
        case 'Q': ok = persid(vm); break;
        case 'q': ok = need(vm, 1) && memo_put(vm, vm->buf[vm->pos]); vm->pos += 1; break;
        case 'r': ok = need(vm, 4) && memo_put(vm, rd_le(vm->buf + vm->pos, 4)); vm->pos += 4; break;
        case 0x94: ok = memo_put(vm, vm->memo_count); break;
        case 'h': ok = need(vm, 1) && memo_get(vm, vm->buf[vm->pos]); vm->pos += 1; break;
        case 'j': ok = need(vm, 4) && memo_get(vm, rd_le(vm->buf + vm->pos, 4)); vm->pos += 4; break;
        default:
            return fail(vm, SM_ERR_UNSUPPORTED, "unknown or unsupported pickle opcode 0x%02x ('%c')", op,
                        op >= 0x20 && op < 0x7f ? op : '?'), false;
        }
        if (!ok)
            return false;
    }
}

sm_status sm_pickle_load(const uint8_t *buf, size_t len, const char *name, bool joblib_arrays,
                         sm_pickle **pk, sm_pobj **result, sm_error *err)
{
    vm_t vm = {.buf = buf, .len = len, .name = name, .err = err, .joblib = joblib_arrays};
    *pk = NULL;
    *result = NULL;
    vm.pk = calloc(1, sizeof *vm.pk);
    if (!vm.pk)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    bool ok = run(&vm, result);
    free(vm.stack);
    free(vm.marks);
    free(vm.memo);
    if (!ok) {
        sm_pickle_free(vm.pk);
        *result = NULL;
        return err ? err->status : SM_ERR_FORMAT;
    }
    *pk = vm.pk;
    return SM_OK;
}

static bool sm_pk_is_str(const sm_pobj *o, const char *s)
{
    return o && o->kind == SM_PK_STR && o->slen == strlen(s) && !memcmp(o->s, s, o->slen);
}

sm_pobj *sm_pk_dict_get(const sm_pobj *dict, const char *key)
{
    if (!dict || dict->kind != SM_PK_DICT)
        return NULL;
    for (size_t i = dict->n; i >= 2; i -= 2)   /* the last assignment wins, as in Python */
        if (sm_pk_is_str(dict->items[i - 2], key))
            return dict->items[i - 1];
    return NULL;
}

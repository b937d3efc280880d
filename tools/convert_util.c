#include "convert_util.h"

#include "sm_graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sm_status sm_convert_fail(sm_error *err, sm_status st, const char *path, const char *fmt, ...)
{
    char msg[SM_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sm_error_set(err, st, "%s: %s", path, msg);
}

sm_status sm_convert_check_node(const char *path, size_t index, const char *op, size_t n_in, size_t n_out,
                                const char *const *keys, size_t n_keys, sm_error *err)
{
    const sm_graph_op_info *gi = sm_graph_find_op(op);
    if (!gi)
        return sm_convert_fail(err, SM_ERR_UNSUPPORTED, path,
                               "operator %zu: %s is not an op of the graph executor (docs/GRAPH.md)", index,
                               op ? op : "?");
    if (n_in < gi->min_inputs || n_in > gi->max_inputs || (gi->n_outputs && n_out != gi->n_outputs))
        return sm_convert_fail(err, SM_ERR_UNSUPPORTED, path,
                               "operator %zu (%s): %zu inputs and %zu outputs; the graph executor's %s takes %u to "
                               "%u inputs (%s) and %u output(s)",
                               index, op, n_in, n_out, gi->name, gi->min_inputs, gi->max_inputs, gi->operands,
                               gi->n_outputs);
    for (size_t k = 0; k < n_keys; k++)
        if (!sm_graph_op_reads(gi, keys[k]))
            return sm_convert_fail(err, SM_ERR_UNSUPPORTED, path,
                                   "operator %zu (%s): attribute '%s' is not one the graph executor reads (%s)",
                                   index, op, keys[k], gi->attributes);
    return SM_OK;
}

sm_status sm_convert_split_labels(const char *labels, char **storage, const char **out, size_t max,
                                  size_t *count, sm_error *err)
{
    *count = 0;
    *storage = strdup(labels);
    if (!*storage)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    char *p = *storage;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p)
            return sm_error_set(err, SM_ERR_ARG, "--labels: empty label at position %zu", *count + 1);
        if (*count >= max)
            return sm_error_set(err, SM_ERR_ARG, "--labels: more than %zu labels", max);
        out[(*count)++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return SM_OK;
}

sm_status sm_convert_add_input_meta(const sm_convert_opts *opts, uint32_t def_size, sm_smw_writer *w,
                                    sm_error *err)
{
    float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
    if (opts->n_mean)
        memcpy(mean, opts->mean, sizeof mean);
    if (opts->n_std)
        memcpy(std, opts->std, sizeof std);
    sm_status st = sm_smw_writer_add_u32(w, "input.size", opts->input_size > 0 ? (uint32_t)opts->input_size : def_size, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_array(w, "input.mean", SM_META_F32, mean, 3, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_array(w, "input.std", SM_META_F32, std, 3, err);
    return st;
}

bool sm_etype_is_float(sm_pk_etype et)
{
    return et == SM_PK_F32 || et == SM_PK_F16 || et == SM_PK_BF16 || et == SM_PK_F64;
}

#define CONVERT_LOOP(T, EXPR)                                       \
    for (size_t i = 0; i < n; i++) {                                \
        dst[i] = (T)(EXPR);                                         \
    }

static double elem_f64(sm_pk_etype et, const uint8_t *p)
{
    switch (et) {
    case SM_PK_F32: { float f; memcpy(&f, p, 4); return f; }
    case SM_PK_F16: { uint16_t h; memcpy(&h, p, 2); return sm_f16_to_f32(h); }
    case SM_PK_BF16: { uint16_t h; memcpy(&h, p, 2); return sm_bf16_to_f32(h); }
    case SM_PK_F64: { double d; memcpy(&d, p, 8); return d; }
    case SM_PK_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case SM_PK_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case SM_PK_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case SM_PK_I8: return (int8_t)p[0];
    case SM_PK_U64: { uint64_t v; memcpy(&v, p, 8); return (double)v; }
    case SM_PK_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case SM_PK_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    default: return p[0];
    }
}

void sm_convert_to_f32(sm_pk_etype et, const void *src, size_t n, float *dst)
{
    const uint8_t *p = src;
    size_t sz = sm_pk_etype_size(et);
    if (et == SM_PK_F32) {
        memcpy(dst, src, n * 4);
        return;
    }
    CONVERT_LOOP(float, elem_f64(et, p + i * sz))
}

void sm_convert_to_f64(sm_pk_etype et, const void *src, size_t n, double *dst)
{
    const uint8_t *p = src;
    size_t sz = sm_pk_etype_size(et);
    if (et == SM_PK_F64) {
        memcpy(dst, src, n * 8);
        return;
    }
    CONVERT_LOOP(double, elem_f64(et, p + i * sz))
}

void sm_convert_dims_str(int ndim, const int64_t *dims, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (k < cap)
        snprintf(out + k, cap - k, "]");
}

/* The .smw writer: metadata entries are serialised as they are added; tensors
 * are copied and laid out at 64-byte aligned offsets when the file is built. */
#include "smw_layout.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->failed)
        return;
    size_t need;
    if (!sm_size_add(b->len, n, &need)) {
        b->failed = true;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len = need;
}

static void put_u32(bytes *b, uint32_t v)
{
    uint8_t x[4];
    smw_wr32(x, v);
    put(b, x, 4);
}

static void put_u64(bytes *b, uint64_t v)
{
    uint8_t x[8];
    smw_wr64(x, v);
    put(b, x, 8);
}

typedef struct {
    char *name;
    sm_dtype dtype;
    uint32_t ndim;
    uint64_t dims[SM_SMW_MAX_DIMS];
    uint64_t nbytes;
    void *data;
} pending_tensor;

struct sm_smw_writer {
    bytes meta;
    char **keys;
    size_t n_meta;
    pending_tensor *tensors;
    size_t n_tensors, cap_tensors;
};

sm_status sm_smw_writer_init(sm_smw_writer **w, sm_error *err)
{
    *w = calloc(1, sizeof **w);
    return *w ? SM_OK : sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory");
}

void sm_smw_writer_free(sm_smw_writer *w)
{
    if (!w)
        return;
    free(w->meta.p);
    for (size_t i = 0; i < w->n_meta; i++)
        free(w->keys[i]);
    free(w->keys);
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    free(w);
}

static sm_status check_name(const char *what, const char *name, sm_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > SM_SMW_MAX_NAME)
        return sm_error_set(err, SM_ERR_ARG, "smw writer: %s name '%s' must be 1..%d bytes", what,
                            name ? name : "(null)", SM_SMW_MAX_NAME);
    return SM_OK;
}

/* Registers the key and writes its prefix (length, bytes, type). */
static sm_status begin_meta(sm_smw_writer *w, const char *key, sm_meta_type type, sm_error *err)
{
    sm_status st = check_name("metadata", key, err);
    if (st)
        return st;
    for (size_t i = 0; i < w->n_meta; i++)
        if (!strcmp(w->keys[i], key))
            return sm_error_set(err, SM_ERR_ARG, "smw writer: duplicate metadata key '%s'", key);
    char **keys = realloc(w->keys, (w->n_meta + 1) * sizeof *keys);
    if (!keys)
        return sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory");
    w->keys = keys;
    if (!(keys[w->n_meta] = strdup(key)))
        return sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory");
    w->n_meta++;
    put_u32(&w->meta, (uint32_t)strlen(key));
    put(&w->meta, key, strlen(key));
    put_u32(&w->meta, (uint32_t)type);
    return SM_OK;
}

static sm_status end_meta(sm_smw_writer *w, sm_error *err)
{
    return w->meta.failed ? sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory") : SM_OK;
}

/* Writes one numeric value of type t read from src (host representation). */
static void put_scalar(bytes *b, sm_meta_type t, const void *src)
{
    uint32_t u32;
    uint64_t u64;
    uint8_t u8;
    switch (t) {
    case SM_META_U32: case SM_META_I32: case SM_META_F32:
        memcpy(&u32, src, 4);
        put_u32(b, u32);
        break;
    case SM_META_U64: case SM_META_I64: case SM_META_F64:
        memcpy(&u64, src, 8);
        put_u64(b, u64);
        break;
    case SM_META_BOOL:
        u8 = *(const bool *)src ? 1 : 0;
        put(b, &u8, 1);
        break;
    default:
        break;
    }
}

static size_t host_size(sm_meta_type t)
{
    switch (t) {
    case SM_META_U32: case SM_META_I32: case SM_META_F32: return 4;
    case SM_META_U64: case SM_META_I64: case SM_META_F64: return 8;
    case SM_META_BOOL: return sizeof(bool);
    default: return 0;
    }
}

static sm_status add_scalar(sm_smw_writer *w, const char *key, sm_meta_type t, const void *v,
                            sm_error *err)
{
    sm_status st = begin_meta(w, key, t, err);
    if (st)
        return st;
    put_scalar(&w->meta, t, v);
    return end_meta(w, err);
}

sm_status sm_smw_writer_add_u32(sm_smw_writer *w, const char *key, uint32_t v, sm_error *err)
{
    return add_scalar(w, key, SM_META_U32, &v, err);
}
sm_status sm_smw_writer_add_i32(sm_smw_writer *w, const char *key, int32_t v, sm_error *err)
{
    return add_scalar(w, key, SM_META_I32, &v, err);
}
sm_status sm_smw_writer_add_u64(sm_smw_writer *w, const char *key, uint64_t v, sm_error *err)
{
    return add_scalar(w, key, SM_META_U64, &v, err);
}
sm_status sm_smw_writer_add_i64(sm_smw_writer *w, const char *key, int64_t v, sm_error *err)
{
    return add_scalar(w, key, SM_META_I64, &v, err);
}
sm_status sm_smw_writer_add_f32(sm_smw_writer *w, const char *key, float v, sm_error *err)
{
    return add_scalar(w, key, SM_META_F32, &v, err);
}
sm_status sm_smw_writer_add_f64(sm_smw_writer *w, const char *key, double v, sm_error *err)
{
    return add_scalar(w, key, SM_META_F64, &v, err);
}
sm_status sm_smw_writer_add_bool(sm_smw_writer *w, const char *key, bool v, sm_error *err)
{
    return add_scalar(w, key, SM_META_BOOL, &v, err);
}

sm_status sm_smw_writer_add_string(sm_smw_writer *w, const char *key, const char *v, sm_error *err)
{
    sm_status st = begin_meta(w, key, SM_META_STRING, err);
    if (st)
        return st;
    put_u64(&w->meta, strlen(v));
    put(&w->meta, v, strlen(v));
    return end_meta(w, err);
}

sm_status sm_smw_writer_add_array(sm_smw_writer *w, const char *key, sm_meta_type elem_type,
                                  const void *values, size_t count, sm_error *err)
{
    if (elem_type >= SM_META_TYPE_COUNT || elem_type == SM_META_ARRAY)
        return sm_error_set(err, SM_ERR_ARG, "smw writer: metadata '%s': bad array element type %d",
                            key, (int)elem_type);
    sm_status st = begin_meta(w, key, SM_META_ARRAY, err);
    if (st)
        return st;
    put_u32(&w->meta, (uint32_t)elem_type);
    put_u64(&w->meta, count);
    for (size_t i = 0; i < count; i++) {
        if (elem_type == SM_META_STRING) {
            const char *s = ((const char *const *)values)[i];
            put_u64(&w->meta, strlen(s));
            put(&w->meta, s, strlen(s));
        } else {
            put_scalar(&w->meta, elem_type, (const uint8_t *)values + i * host_size(elem_type));
        }
    }
    return end_meta(w, err);
}

sm_status sm_smw_writer_add_tensor(sm_smw_writer *w, const char *name, sm_dtype dtype, uint32_t ndim,
                                   const uint64_t *dims, const void *data, sm_error *err)
{
    sm_status st = check_name("tensor", name, err);
    if (st)
        return st;
    if (dtype >= SM_DTYPE_COUNT)
        return sm_error_set(err, SM_ERR_ARG, "smw writer: tensor '%s': unknown dtype %d", name, (int)dtype);
    if (ndim > SM_SMW_MAX_DIMS)
        return sm_error_set(err, SM_ERR_ARG, "smw writer: tensor '%s': %u dims, at most %d", name,
                            ndim, SM_SMW_MAX_DIMS);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return sm_error_set(err, SM_ERR_ARG, "smw writer: duplicate tensor name '%s'", name);
    uint64_t nbytes = sm_dtype_size(dtype);
    for (uint32_t d = 0; d < ndim; d++)
        if (!sm_u64_mul(nbytes, dims[d], &nbytes))
            return sm_error_set(err, SM_ERR_ARG, "smw writer: tensor '%s': size overflows", name);
    if (nbytes > SIZE_MAX / 2)
        return sm_error_set(err, SM_ERR_ARG, "smw writer: tensor '%s': %llu bytes is too large", name,
                            (unsigned long long)nbytes);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 16;
        pending_tensor *nt = realloc(w->tensors, cap * sizeof *nt);
        if (!nt)
            return sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory");
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    pending_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->data = malloc(nbytes ? (size_t)nbytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return sm_error_set(err, SM_ERR_NOMEM, "smw writer: tensor '%s': out of memory", name);
    }
    if (nbytes)
        memcpy(t->data, data, (size_t)nbytes);
    t->dtype = dtype;
    t->ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++)
        t->dims[d] = dims[d];
    t->nbytes = nbytes;
    w->n_tensors++;
    return SM_OK;
}

/* Recomputes the header CRC (bytes [0,80) + metadata + table) in place. */
static void smw_finish_header_crc(uint8_t *file)
{
    uint64_t table_end = smw_rd64(file + SMW_OFF_TABLE_OFF) + smw_rd64(file + SMW_OFF_TABLE_SIZE);
    uint32_t crc = sm_crc32(0, file, SMW_OFF_HEADER_CRC);
    crc = sm_crc32(crc, file + SMW_HEADER_SIZE, (size_t)(table_end - SMW_HEADER_SIZE));
    smw_wr32(file + SMW_OFF_HEADER_CRC, crc);
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

sm_status sm_smw_writer_serialize(const sm_smw_writer *w, uint8_t **buf, size_t *len, sm_error *err)
{
    *buf = NULL;
    *len = 0;
    bytes table = {0};
    uint64_t data_size = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const pending_tensor *t = &w->tensors[i];
        put_u32(&table, (uint32_t)strlen(t->name));
        put(&table, t->name, strlen(t->name));
        put_u32(&table, (uint32_t)t->dtype);
        put_u32(&table, t->ndim);
        for (uint32_t d = 0; d < t->ndim; d++)
            put_u64(&table, t->dims[d]);
        data_size = align_up(data_size, SM_SMW_ALIGNMENT);
        put_u64(&table, data_size);
        put_u64(&table, t->nbytes);
        data_size += t->nbytes;
    }
    if (table.failed || w->meta.failed) {
        free(table.p);
        return sm_error_set(err, SM_ERR_NOMEM, "smw writer: out of memory");
    }
    uint64_t meta_off = SMW_HEADER_SIZE;
    uint64_t table_off = meta_off + w->meta.len;
    uint64_t data_off = align_up(table_off + table.len, SM_SMW_ALIGNMENT);
    uint64_t file_size = data_off + data_size;
    uint8_t *out = sm_aligned_alloc((size_t)file_size);
    if (out)
        memset(out, 0, (size_t)file_size);
    if (!out) {
        free(table.p);
        return sm_error_set(err, SM_ERR_NOMEM, "smw writer: cannot allocate %llu bytes",
                            (unsigned long long)file_size);
    }
    memcpy(out, SM_SMW_MAGIC, 4);
    smw_wr16(out + SMW_OFF_MAJOR, SM_SMW_VERSION_MAJOR);
    smw_wr16(out + SMW_OFF_MINOR, SM_SMW_VERSION_MINOR);
    smw_wr32(out + SMW_OFF_BOM, SMW_BYTE_ORDER_MARK);
    smw_wr32(out + SMW_OFF_ALIGN, SM_SMW_ALIGNMENT);
    smw_wr32(out + SMW_OFF_NMETA, (uint32_t)w->n_meta);
    smw_wr32(out + SMW_OFF_NTENSORS, (uint32_t)w->n_tensors);
    smw_wr64(out + SMW_OFF_META_OFF, meta_off);
    smw_wr64(out + SMW_OFF_META_SIZE, w->meta.len);
    smw_wr64(out + SMW_OFF_TABLE_OFF, table_off);
    smw_wr64(out + SMW_OFF_TABLE_SIZE, table.len);
    smw_wr64(out + SMW_OFF_DATA_OFF, data_off);
    smw_wr64(out + SMW_OFF_DATA_SIZE, data_size);
    smw_wr64(out + SMW_OFF_FILE_SIZE, file_size);
    if (w->meta.len)
        memcpy(out + meta_off, w->meta.p, w->meta.len);
    if (table.len)
        memcpy(out + table_off, table.p, table.len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        off = align_up(off, SM_SMW_ALIGNMENT);
        if (w->tensors[i].nbytes)
            memcpy(out + data_off + off, w->tensors[i].data, (size_t)w->tensors[i].nbytes);
        off += w->tensors[i].nbytes;
    }
    free(table.p);
    smw_wr32(out + SMW_OFF_DATA_CRC, sm_crc32(0, out + data_off, (size_t)data_size));
    smw_finish_header_crc(out);
    *buf = out;
    *len = (size_t)file_size;
    return SM_OK;
}

sm_status sm_smw_writer_save(const sm_smw_writer *w, const char *path, sm_error *err)
{
    uint8_t *buf;
    size_t len;
    sm_status st = sm_smw_writer_serialize(w, &buf, &len, err);
    if (st)
        return st;
    st = sm_file_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}

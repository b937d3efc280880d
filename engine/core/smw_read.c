/* The .smw reader. Layout and rules: docs/FORMAT.md. Every read goes through
 * a cursor that checks the bytes remaining, so no byte past the buffer is
 * touched whatever the file says. */
#define _POSIX_C_SOURCE 200809L
#include "file_open.h"
#include "smw_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const uint8_t *p;
    size_t left;
    size_t pos;        /* absolute offset in the file, for messages */
} cursor;

static bool take(cursor *c, size_t n, const uint8_t **out)
{
    if (n > c->left)
        return false;
    *out = c->p;
    c->p += n;
    c->left -= n;
    c->pos += n;
    return true;
}

static bool take_u32(cursor *c, uint32_t *v)
{
    const uint8_t *b;
    if (!take(c, 4, &b))
        return false;
    *v = smw_rd32(b);
    return true;
}

static bool take_u64(cursor *c, uint64_t *v)
{
    const uint8_t *b;
    if (!take(c, 8, &b))
        return false;
    *v = smw_rd64(b);
    return true;
}

static char *dup_name(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static size_t meta_scalar_size(sm_meta_type t)
{
    switch (t) {
    case SM_META_U32: case SM_META_I32: case SM_META_F32: return 4;
    case SM_META_U64: case SM_META_I64: case SM_META_F64: return 8;
    case SM_META_BOOL: return 1;
    default: return 0;
    }
}

static void read_scalar(sm_meta *m, sm_meta_type t, const uint8_t *b)
{
    uint32_t u32;
    uint64_t u64;
    switch (t) {
    case SM_META_U32: m->v.u32 = smw_rd32(b); break;
    case SM_META_I32: u32 = smw_rd32(b); memcpy(&m->v.i32, &u32, 4); break;
    case SM_META_F32: u32 = smw_rd32(b); memcpy(&m->v.f32, &u32, 4); break;
    case SM_META_U64: m->v.u64 = smw_rd64(b); break;
    case SM_META_I64: u64 = smw_rd64(b); memcpy(&m->v.i64, &u64, 8); break;
    case SM_META_F64: u64 = smw_rd64(b); memcpy(&m->v.f64, &u64, 8); break;
    case SM_META_BOOL: m->v.b = b[0] != 0; break;
    default: break;
    }
}

/* A length-prefixed string that must fit in what is left of the section. */
static sm_status take_string(cursor *c, const char *file, const char *what, sm_str *out,
                             sm_error *err)
{
    uint64_t n;
    const uint8_t *b;
    size_t at = c->pos;
    if (!take_u64(c, &n))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %s: string length at offset %zu is truncated",
                            file, what, at);
    if (n > c->left || !take(c, (size_t)n, &b))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: %s: string length %llu at offset %zu runs past the end of the section (%zu bytes left)",
                            file, what, (unsigned long long)n, at, c->left);
    out->ptr = (const char *)b;
    out->len = (size_t)n;
    return SM_OK;
}

static sm_status take_key(cursor *c, const char *file, const char *what, char **out, sm_error *err)
{
    uint32_t n;
    const uint8_t *b;
    size_t at = c->pos;
    if (!take_u32(c, &n))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %s name length at offset %zu is truncated",
                            file, what, at);
    if (n == 0 || n > SM_SMW_MAX_NAME)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %s name length %u at offset %zu is not in 1..%d",
                            file, what, n, at, SM_SMW_MAX_NAME);
    if (!take(c, n, &b))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: %s name of %u bytes at offset %zu runs past the end of the section",
                            file, what, n, at);
    if (memchr(b, 0, n))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %s name at offset %zu contains a NUL byte",
                            file, what, at);
    *out = dup_name(b, n);
    if (!*out)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", file);
    return SM_OK;
}

static sm_status parse_meta(sm_smw *f, cursor *c, sm_error *err)
{
    const char *file = f->path;
    for (size_t i = 0; i < f->n_meta; i++) {
        sm_meta *m = &f->meta[i];
        sm_status st = take_key(c, file, "metadata key", &m->key, err);
        if (st)
            return st;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f->meta[j].key, m->key))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: duplicate metadata key '%s'", file,
                                    m->key);
        uint32_t type;
        if (!take_u32(c, &type))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s': type is truncated", file,
                                m->key);
        if (type >= SM_META_TYPE_COUNT)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s': unknown type %u", file,
                                m->key, type);
        m->type = (sm_meta_type)type;
        if (m->type == SM_META_STRING) {
            st = take_string(c, file, m->key, &m->v.str, err);
            if (st)
                return st;
            continue;
        }
        if (m->type != SM_META_ARRAY) {
            const uint8_t *b;
            if (!take(c, meta_scalar_size(m->type), &b))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s': value is truncated",
                                    file, m->key);
            read_scalar(m, m->type, b);
            continue;
        }
        uint32_t elem;
        uint64_t count;
        if (!take_u32(c, &elem) || !take_u64(c, &count))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s': array header is truncated",
                                file, m->key);
        if (elem >= SM_META_TYPE_COUNT || elem == SM_META_ARRAY)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: metadata '%s': array element type %u is not allowed", file,
                                m->key, elem);
        m->elem_type = (sm_meta_type)elem;
        m->count = count;
        if (m->elem_type == SM_META_STRING) {
            /* each string needs at least its 8-byte length */
            if (count > c->left / 8)
                return sm_error_set(err, SM_ERR_FORMAT,
                                    "%s: metadata '%s': %llu strings cannot fit in the %zu bytes left",
                                    file, m->key, (unsigned long long)count, c->left);
            m->array_data = c->p;
            m->strings = calloc(count ? (size_t)count : 1, sizeof *m->strings);
            if (!m->strings)
                return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", file);
            for (uint64_t k = 0; k < count; k++) {
                st = take_string(c, file, m->key, &m->strings[k], err);
                if (st)
                    return st;
            }
            continue;
        }
        uint64_t bytes;
        const uint8_t *b;
        if (!sm_u64_mul(count, meta_scalar_size(m->elem_type), &bytes) || bytes > c->left ||
            !take(c, (size_t)bytes, &b))
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: metadata '%s': array of %llu %s runs past the end of the section",
                                file, m->key, (unsigned long long)count,
                                sm_meta_type_name(m->elem_type));
        m->array_data = b;
    }
    if (c->left != 0)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: metadata section has %zu bytes after its %zu entries", file,
                            c->left, f->n_meta);
    return SM_OK;
}

static int by_offset(const void *a, const void *b)
{
    const sm_tensor_info *x = *(const sm_tensor_info *const *)a;
    const sm_tensor_info *y = *(const sm_tensor_info *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static sm_status parse_tensors(sm_smw *f, cursor *c, sm_error *err)
{
    const char *file = f->path;
    for (size_t i = 0; i < f->n_tensors; i++) {
        sm_tensor_info *t = &f->tensors[i];
        sm_status st = take_key(c, file, "tensor", &t->name, err);
        if (st)
            return st;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f->tensors[j].name, t->name))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: duplicate tensor name '%s'", file,
                                    t->name);
        uint32_t dtype, ndim;
        if (!take_u32(c, &dtype) || !take_u32(c, &ndim))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': entry is truncated", file,
                                t->name);
        if (dtype >= SM_DTYPE_COUNT)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': unknown dtype %u", file,
                                t->name, dtype);
        if (ndim > SM_SMW_MAX_DIMS)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': %u dimensions, at most %d allowed",
                                file, t->name, ndim, SM_SMW_MAX_DIMS);
        t->dtype = (sm_dtype)dtype;
        t->ndim = ndim;
        uint64_t numel = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            if (!take_u64(c, &t->dims[d]))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': dims are truncated", file,
                                    t->name);
            if (!sm_u64_mul(numel, t->dims[d], &numel))
                return sm_error_set(err, SM_ERR_FORMAT,
                                    "%s: tensor '%s': element count overflows 64 bits", file,
                                    t->name);
        }
        t->numel = numel;
        if (!take_u64(c, &t->offset) || !take_u64(c, &t->nbytes))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': offset/size are truncated",
                                file, t->name);
        uint64_t want;
        if (!sm_u64_mul(numel, sm_dtype_size(t->dtype), &want))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': byte size overflows 64 bits",
                                file, t->name);
        if (want != t->nbytes)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: tensor '%s': byte size %llu does not match %llu elements of %s (%llu bytes)",
                                file, t->name, (unsigned long long)t->nbytes,
                                (unsigned long long)numel, sm_dtype_name(t->dtype),
                                (unsigned long long)want);
        if (t->offset % f->alignment)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: tensor '%s': offset %llu is not a multiple of the alignment %u",
                                file, t->name, (unsigned long long)t->offset, f->alignment);
        uint64_t end;
        if (!sm_u64_add(t->offset, t->nbytes, &end) || end > f->data_size)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: tensor '%s': bytes [%llu, +%llu) are outside the %llu-byte data section",
                                file, t->name, (unsigned long long)t->offset,
                                (unsigned long long)t->nbytes, (unsigned long long)f->data_size);
    }
    if (c->left != 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor table has %zu bytes after its %zu entries",
                            file, c->left, f->n_tensors);
    return SM_OK;
}

static sm_status check_overlaps(sm_smw *f, sm_error *err)
{
    if (f->n_tensors < 2)
        return SM_OK;
    const sm_tensor_info **order = malloc(f->n_tensors * sizeof *order);
    if (!order)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->n_tensors; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, by_offset);
    sm_status st = SM_OK;
    for (size_t i = 1; i < f->n_tensors; i++) {
        const sm_tensor_info *a = order[i - 1], *b = order[i];
        if (a->offset + a->nbytes > b->offset && a->nbytes && b->nbytes) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section",
                              f->path, a->name, b->name);
            break;
        }
    }
    free(order);
    return st;
}

static sm_status parse_header(sm_smw *f, sm_error *err)
{
    const uint8_t *h = f->base;
    const char *file = f->path;
    if (f->len < 4 || memcmp(h, SM_SMW_MAGIC, 4) != 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a .smw file (magic is not '%s')", file,
                            SM_SMW_MAGIC);
    if (f->len < SMW_HEADER_SIZE)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated header: %zu bytes, need %d", file,
                            f->len, SMW_HEADER_SIZE);
    f->version_major = smw_rd16(h + SMW_OFF_MAJOR);
    f->version_minor = smw_rd16(h + SMW_OFF_MINOR);
    if (f->version_major != SM_SMW_VERSION_MAJOR)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: format version %u.%u is not supported (this reader handles %d.x)",
                            file, f->version_major, f->version_minor, SM_SMW_VERSION_MAJOR);
    uint32_t bom = smw_rd32(h + SMW_OFF_BOM);
    if (bom != SMW_BYTE_ORDER_MARK)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: byte-order marker is 0x%08x, expected 0x%08x (file written big-endian or corrupt)",
                            file, bom, SMW_BYTE_ORDER_MARK);
    f->alignment = smw_rd32(h + SMW_OFF_ALIGN);
    if (f->alignment < 8 || f->alignment > 65536 || (f->alignment & (f->alignment - 1)))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: alignment %u is not a power of two in 8..65536",
                            file, f->alignment);
    for (size_t i = SMW_OFF_RESERVED; i < SMW_HEADER_SIZE; i++)
        if (h[i])
            return sm_error_set(err, SM_ERR_FORMAT, "%s: reserved header byte %zu is not zero", file, i);
    return SM_OK;
}

sm_status sm_smw_parse(const void *buf, size_t len, const char *name, const sm_smw_parse_opts *opts,
                       sm_smw **out, sm_error *err)
{
    *out = NULL;
    sm_smw *f = calloc(1, sizeof *f);
    if (!f)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    f->path = dup_name((const uint8_t *)(name ? name : "<buffer>"), strlen(name ? name : "<buffer>"));
    f->base = buf;
    f->len = len;
    if (!f->path) {
        sm_smw_free(f);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    const char *file = f->path;
    sm_status st = parse_header(f, err);
    if (st) {
        sm_smw_free(f);
        return st;
    }
    const uint8_t *h = f->base;
    uint32_t n_meta = smw_rd32(h + SMW_OFF_NMETA), n_tensors = smw_rd32(h + SMW_OFF_NTENSORS);
    uint64_t meta_off = smw_rd64(h + SMW_OFF_META_OFF), meta_size = smw_rd64(h + SMW_OFF_META_SIZE);
    uint64_t table_off = smw_rd64(h + SMW_OFF_TABLE_OFF), table_size = smw_rd64(h + SMW_OFF_TABLE_SIZE);
    f->data_offset = smw_rd64(h + SMW_OFF_DATA_OFF);
    f->data_size = smw_rd64(h + SMW_OFF_DATA_SIZE);
    f->file_size = smw_rd64(h + SMW_OFF_FILE_SIZE);
    f->header_crc = smw_rd32(h + SMW_OFF_HEADER_CRC);
    f->data_crc = smw_rd32(h + SMW_OFF_DATA_CRC);
    uint64_t meta_end, table_end, data_end, want_data_off;

    if (meta_off != SMW_HEADER_SIZE || !sm_u64_add(meta_off, meta_size, &meta_end) ||
        table_off != meta_end) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: metadata at [%llu, +%llu) and table at %llu do not follow the header in order",
                          file, (unsigned long long)meta_off, (unsigned long long)meta_size,
                          (unsigned long long)table_off);
        goto fail;
    }
    if (meta_end > len) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: truncated metadata: section ends at %llu but the file has %zu bytes",
                          file, (unsigned long long)meta_end, len);
        goto fail;
    }
    if (!sm_u64_add(table_off, table_size, &table_end) || table_end > len) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: truncated tensor table: it ends at %llu but the file has %zu bytes",
                          file, (unsigned long long)table_off + table_size, len);
        goto fail;
    }
    want_data_off = (table_end + f->alignment - 1) / f->alignment * f->alignment;
    if (f->data_offset != want_data_off) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: data section starts at %llu, expected %llu (table end rounded up to %u)",
                          file, (unsigned long long)f->data_offset,
                          (unsigned long long)want_data_off, f->alignment);
        goto fail;
    }
    if (!sm_u64_add(f->data_offset, f->data_size, &data_end) || data_end != f->file_size) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: file size %llu in the header is not data offset %llu + data size %llu",
                          file, (unsigned long long)f->file_size,
                          (unsigned long long)f->data_offset, (unsigned long long)f->data_size);
        goto fail;
    }
    {
        uint32_t crc = sm_crc32(0, h, SMW_OFF_HEADER_CRC);
        crc = sm_crc32(crc, h + SMW_HEADER_SIZE, (size_t)(table_end - SMW_HEADER_SIZE));
        if (crc != f->header_crc) {
            st = sm_error_set(err, SM_ERR_FORMAT,
                              "%s: header CRC mismatch: stored 0x%08x, computed 0x%08x (header, metadata or table corrupt)",
                              file, f->header_crc, crc);
            goto fail;
        }
    }
    /* Each entry takes at least 8 bytes, which bounds the counts before allocating. */
    if (n_meta > meta_size / 8 || n_tensors > table_size / 8) {
        st = sm_error_set(err, SM_ERR_FORMAT,
                          "%s: %u metadata entries / %u tensors cannot fit in sections of %llu / %llu bytes",
                          file, n_meta, n_tensors, (unsigned long long)meta_size,
                          (unsigned long long)table_size);
        goto fail;
    }
    f->n_meta = n_meta;
    f->n_tensors = n_tensors;
    f->meta = calloc(n_meta ? n_meta : 1, sizeof *f->meta);
    f->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *f->tensors);
    if (!f->meta || !f->tensors) {
        st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", file);
        goto fail;
    }
    {
        cursor c = {h + meta_off, (size_t)meta_size, (size_t)meta_off};
        if ((st = parse_meta(f, &c, err)))
            goto fail;
        cursor t = {h + table_off, (size_t)table_size, (size_t)table_off};
        if ((st = parse_tensors(f, &t, err)))
            goto fail;
    }
    if (f->file_size > len) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: truncated data: the header says %llu bytes, the file has %zu",
                          file, (unsigned long long)f->file_size, len);
        goto fail;
    }
    if (f->file_size < len) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: %llu bytes of trailing garbage after the data section",
                          file, (unsigned long long)(len - f->file_size));
        goto fail;
    }
    for (uint64_t i = table_end; i < f->data_offset; i++)
        if (h[i]) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: padding byte at %llu before the data is not zero",
                              file, (unsigned long long)i);
            goto fail;
        }
    if ((st = check_overlaps(f, err)))
        goto fail;
    for (size_t i = 0; i < f->n_tensors; i++)
        f->tensors[i].data = h + f->data_offset + f->tensors[i].offset;
    if (!(opts && opts->skip_data_crc)) {
        uint32_t crc = sm_crc32(0, h + f->data_offset, (size_t)f->data_size);
        f->data_crc_ok = crc == f->data_crc;
        if (!f->data_crc_ok) {
            st = sm_error_set(err, SM_ERR_FORMAT,
                              "%s: data CRC mismatch: stored 0x%08x, computed 0x%08x (tensor data corrupt)",
                              file, f->data_crc, crc);
            goto fail;
        }
    }
    *out = f;
    return SM_OK;
fail:
    sm_smw_free(f);
    return st;
}

sm_status sm_smw_open(const char *path, const sm_smw_parse_opts *opts, sm_smw **out, sm_error *err)
{
    *out = NULL;
    uint64_t size;
    int fd = sm_file_open_regular(path, &size, err);
    if (fd < 0)
        return SM_ERR_IO;
    size_t len = (size_t)size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return sm_error_set(err, SM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
        }
    }
    close(fd);
    static const uint8_t empty[1];
    sm_status s = sm_smw_parse(map ? map : empty, len, path, opts, out, err);
    if (s) {
        if (map)
            munmap(map, len);
        return s;
    }
    (*out)->mapping = map;
    (*out)->mapping_len = len;
    return SM_OK;
}

void sm_smw_free(sm_smw *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->meta && i < f->n_meta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].strings);
    }
    for (size_t i = 0; f->tensors && i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->meta);
    free(f->tensors);
    if (f->mapping)
        munmap(f->mapping, f->mapping_len);
    free(f->path);
    free(f);
}

const sm_tensor_info *sm_smw_find_tensor(const sm_smw *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name))
            return &f->tensors[i];
    return NULL;
}

static void format_dims(char *buf, size_t n, uint32_t ndim, const int64_t *sdims, const uint64_t *udims)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (uint32_t d = 0; d < ndim && k < n; d++) {
        if (sdims && sdims[d] < 0)
            k += (size_t)snprintf(buf + k, n - k, "%s*", d ? "," : "");
        else
            k += (size_t)snprintf(buf + k, n - k, "%s%llu", d ? "," : "",
                                  (unsigned long long)(sdims ? (uint64_t)sdims[d] : udims[d]));
    }
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

sm_status sm_smw_get_tensor(const sm_smw *f, const char *name, sm_dtype dtype, uint32_t ndim,
                            const int64_t *dims, const sm_tensor_info **out, sm_error *err)
{
    *out = NULL;
    const sm_tensor_info *t = sm_smw_find_tensor(f, name);
    if (!t)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: tensor '%s' is missing", f->path, name);
    bool ok = t->dtype == dtype && t->ndim == ndim;
    for (uint32_t d = 0; ok && d < ndim; d++)
        ok = dims[d] < 0 || (uint64_t)dims[d] == t->dims[d];
    if (!ok) {
        char want[96], got[96];
        format_dims(want, sizeof want, ndim, dims, NULL);
        format_dims(got, sizeof got, t->ndim, NULL, t->dims);
        return sm_error_set(err, SM_ERR_SHAPE, "%s: tensor '%s': expected %s %s, found %s %s",
                            f->path, name, sm_dtype_name(dtype), want, sm_dtype_name(t->dtype), got);
    }
    *out = t;
    return SM_OK;
}

const sm_meta *sm_smw_find_meta(const sm_smw *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[i].key, key))
            return &f->meta[i];
    return NULL;
}

static sm_status meta_of_type(const sm_smw *f, const char *key, sm_meta_type type, const sm_meta **m,
                              sm_error *err)
{
    *m = sm_smw_find_meta(f, key);
    if (!*m)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' is missing", f->path, key);
    if ((*m)->type != type)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' is %s, expected %s", f->path, key,
                            sm_meta_type_name((*m)->type), sm_meta_type_name(type));
    return SM_OK;
}

sm_status sm_smw_meta_string(const sm_smw *f, const char *key, sm_str *out, sm_error *err)
{
    const sm_meta *m;
    sm_status st = meta_of_type(f, key, SM_META_STRING, &m, err);
    if (!st)
        *out = m->v.str;
    return st;
}

sm_status sm_smw_meta_u32(const sm_smw *f, const char *key, uint32_t *out, sm_error *err)
{
    const sm_meta *m;
    sm_status st = meta_of_type(f, key, SM_META_U32, &m, err);
    if (!st)
        *out = m->v.u32;
    return st;
}

sm_status sm_smw_meta_f32(const sm_smw *f, const char *key, float *out, sm_error *err)
{
    const sm_meta *m;
    sm_status st = meta_of_type(f, key, SM_META_F32, &m, err);
    if (!st)
        *out = m->v.f32;
    return st;
}

sm_status sm_smw_meta_f32_array(const sm_smw *f, const char *key, float *out, size_t n, sm_error *err)
{
    const sm_meta *m;
    sm_status st = meta_of_type(f, key, SM_META_ARRAY, &m, err);
    if (st)
        return st;
    if (m->elem_type != SM_META_F32 || m->count != n)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' is an array of %llu %s, expected %zu f32",
                            f->path, key, (unsigned long long)m->count,
                            sm_meta_type_name(m->elem_type), n);
    sm_meta e;
    for (size_t i = 0; i < n && sm_meta_array_at(m, i, &e); i++)
        out[i] = e.v.f32;
    return SM_OK;
}

bool sm_meta_array_at(const sm_meta *m, uint64_t i, sm_meta *scalar)
{
    if (!m || m->type != SM_META_ARRAY || i >= m->count)
        return false;
    memset(scalar, 0, sizeof *scalar);
    scalar->type = m->elem_type;
    switch (m->elem_type) {
    case SM_META_U32: case SM_META_I32: case SM_META_F32: {
        uint32_t u = smw_rd32(m->array_data + 4 * i);
        memcpy(&scalar->v, &u, 4);
        return true;
    }
    case SM_META_U64: case SM_META_I64: case SM_META_F64: {
        uint64_t u = smw_rd64(m->array_data + 8 * i);
        memcpy(&scalar->v, &u, 8);
        return true;
    }
    case SM_META_BOOL:
        scalar->v.b = m->array_data[i] != 0;
        return true;
    default:
        return false;
    }
}

bool sm_smw_arch_is(const sm_smw *f, const char *arch)
{
    const sm_meta *m = sm_smw_find_meta(f, "general.architecture");
    return m && m->type == SM_META_STRING && m->v.str.len == strlen(arch) &&
           !memcmp(m->v.str.ptr, arch, m->v.str.len);
}

size_t sm_dtype_size(sm_dtype dt)
{
    switch (dt) {
    case SM_DTYPE_F32: return 4;
    case SM_DTYPE_F16: return 2;
    case SM_DTYPE_I64: return 8;
    case SM_DTYPE_F64: return 8;
    case SM_DTYPE_I32: return 4;
    case SM_DTYPE_U8: return 1;
    default: return 0;
    }
}

const char *sm_dtype_name(sm_dtype dt)
{
    switch (dt) {
    case SM_DTYPE_F32: return "f32";
    case SM_DTYPE_F16: return "f16";
    case SM_DTYPE_I64: return "i64";
    case SM_DTYPE_F64: return "f64";
    case SM_DTYPE_I32: return "i32";
    case SM_DTYPE_U8: return "u8";
    default: return "unknown";
    }
}

const char *sm_meta_type_name(sm_meta_type t)
{
    switch (t) {
    case SM_META_U32: return "u32";
    case SM_META_I32: return "i32";
    case SM_META_F32: return "f32";
    case SM_META_STRING: return "string";
    case SM_META_ARRAY: return "array";
    case SM_META_U64: return "u64";
    case SM_META_I64: return "i64";
    case SM_META_F64: return "f64";
    case SM_META_BOOL: return "bool";
    default: return "unknown";
    }
}

/* FlexBuffer map decoder (see flexbuffer.h). Layout reminders, from the
 * FlexBuffers spec: the root (value, packed type, byte width) sits at the end;
 * offsets point backwards; a vector's length precedes its first element; a
 * map is a vector of values preceded by (keys offset, keys width, length) and
 * followed by one packed type byte per value. */
#include "flexbuffer.h"

#include <stdlib.h>
#include <string.h>

enum {
    FX_NULL = 0, FX_INT = 1, FX_UINT = 2, FX_FLOAT = 3, FX_KEY = 4, FX_STRING = 5,
    FX_INDIRECT_INT = 6, FX_INDIRECT_UINT = 7, FX_INDIRECT_FLOAT = 8, FX_MAP = 9,
    FX_VECTOR = 10, FX_VECTOR_INT = 11, FX_VECTOR_UINT = 12, FX_VECTOR_FLOAT = 13,
    FX_VECTOR_INT2 = 16, FX_VECTOR_FLOAT4 = 24, FX_BOOL = 26, FX_VECTOR_BOOL = 36
};

typedef struct {
    const uint8_t *b;
    size_t len;
    sm_error *err;
} fx;

static bool in_range(const fx *x, size_t pos, size_t n) { return pos <= x->len && n <= x->len - pos; }

static sm_status bad(fx *x, const char *what, size_t pos)
{
    return sm_error_set(x->err, SM_ERR_FORMAT, "flexbuffer: %s at byte %zu (buffer is %zu bytes)", what,
                        pos, x->len);
}

static bool valid_width(uint64_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

static sm_status read_uint(fx *x, size_t pos, size_t w, uint64_t *v)
{
    if (!in_range(x, pos, w))
        return bad(x, "value past end", pos);
    uint64_t r = 0;
    for (size_t i = 0; i < w; i++)
        r |= (uint64_t)x->b[pos + i] << (8 * i);
    *v = r;
    return SM_OK;
}

static sm_status read_int(fx *x, size_t pos, size_t w, int64_t *v)
{
    uint64_t u;
    sm_status st = read_uint(x, pos, w, &u);
    if (st)
        return st;
    if (w < 8 && (u >> (8 * w - 1)) & 1)
        u |= ~0ull << (8 * w);
    *v = (int64_t)u;
    return SM_OK;
}

static sm_status read_float(fx *x, size_t pos, size_t w, double *v)
{
    uint64_t u;
    sm_status st = read_uint(x, pos, w, &u);
    if (st)
        return st;
    if (w == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        *v = f;
    } else if (w == 8) {
        memcpy(v, &u, 8);
    } else {
        return bad(x, "float of width other than 4 or 8", pos);
    }
    return SM_OK;
}

/* Follows the backward offset stored at pos (width w). */
static sm_status deref(fx *x, size_t pos, size_t w, size_t *target)
{
    uint64_t off;
    sm_status st = read_uint(x, pos, w, &off);
    if (st)
        return st;
    if (off > pos)
        return bad(x, "offset points before the buffer", pos);
    *target = pos - (size_t)off;
    return SM_OK;
}

/* Length prefix of a vector at target with element width w; checks the elements fit. */
static sm_status vector_len(fx *x, size_t target, size_t w, size_t extra_per_elem, size_t *n)
{
    uint64_t len;
    if (target < w)
        return bad(x, "vector length before the buffer", target);
    sm_status st = read_uint(x, target - w, w, &len);
    if (st)
        return st;
    if (len > x->len || !in_range(x, target, (size_t)len * (w + extra_per_elem)))
        return bad(x, "vector length past end", target);
    *n = (size_t)len;
    return SM_OK;
}

static sm_status scalar(fx *x, size_t pos, size_t w, unsigned type, sm_flex_entry *e)
{
    switch (type) {
    case FX_INT: e->kind = SM_FLEX_INT; return read_int(x, pos, w, &e->i);
    case FX_UINT:
    case FX_BOOL: {
        uint64_t u;
        sm_status st = read_uint(x, pos, w, &u);
        if (st)
            return st;
        if (u > INT64_MAX)
            return bad(x, "unsigned value too large", pos);
        e->kind = type == FX_BOOL ? SM_FLEX_BOOL : SM_FLEX_INT;
        e->i = type == FX_BOOL ? (u != 0) : (int64_t)u;
        return SM_OK;
    }
    case FX_FLOAT: e->kind = SM_FLEX_FLOAT; return read_float(x, pos, w, &e->f);
    }
    return sm_error_set(x->err, SM_ERR_UNSUPPORTED, "flexbuffer: value type %u is not a scalar", type);
}

/* A vector of numbers: elements of width ew at target, kind from elem_type
 * (FX_INT/FX_UINT/FX_FLOAT/FX_BOOL) or, for untyped vectors, per element. */
static sm_status numbers(fx *x, size_t target, size_t n, size_t ew, unsigned elem_type,
                         bool untyped, sm_flex_entry *e)
{
    bool any_float = false;
    sm_flex_entry tmp;
    for (size_t j = 0; j < n; j++) {
        unsigned t = untyped ? x->b[target + n * ew + j] >> 2 : elem_type;
        if (t != FX_INT && t != FX_UINT && t != FX_FLOAT && t != FX_BOOL)
            return sm_error_set(x->err, SM_ERR_UNSUPPORTED, "flexbuffer: vector element type %u", t);
        if (t == FX_FLOAT)
            any_float = true;
    }
    e->n = n;
    e->kind = any_float ? SM_FLEX_FLOAT_ARRAY : SM_FLEX_INT_ARRAY;
    if (any_float ? !(e->floats = calloc(n ? n : 1, sizeof *e->floats))
                  : !(e->ints = calloc(n ? n : 1, sizeof *e->ints)))
        return sm_error_set(x->err, SM_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < n; j++) {
        unsigned t = untyped ? x->b[target + n * ew + j] >> 2 : elem_type;
        memset(&tmp, 0, sizeof tmp);
        sm_status st = scalar(x, target + j * ew, ew, t, &tmp);
        if (st)
            return st;
        if (any_float)
            e->floats[j] = tmp.kind == SM_FLEX_FLOAT ? tmp.f : (double)tmp.i;
        else
            e->ints[j] = tmp.i;
    }
    return SM_OK;
}

/* Value stored at pos with parent width w and packed type byte packed. */
static sm_status value(fx *x, size_t pos, size_t w, uint8_t packed, sm_flex_entry *e)
{
    unsigned type = packed >> 2;
    size_t cw = (size_t)1 << (packed & 3);
    size_t target, n;
    sm_status st;
    switch (type) {
    case FX_INT: case FX_UINT: case FX_FLOAT: case FX_BOOL:
        return scalar(x, pos, w, type, e);
    case FX_INDIRECT_INT: case FX_INDIRECT_UINT: case FX_INDIRECT_FLOAT:
        if ((st = deref(x, pos, w, &target)))
            return st;
        return scalar(x, target, cw, type - FX_INDIRECT_INT + FX_INT, e);
    case FX_STRING: {
        uint64_t slen;
        if ((st = deref(x, pos, w, &target)))
            return st;
        if (target < cw)
            return bad(x, "string length before the buffer", target);
        if ((st = read_uint(x, target - cw, cw, &slen)))
            return st;
        n = (size_t)slen;
        /* bytes plus the terminating NUL, one byte each whatever the length's width */
        if (slen >= x->len || !in_range(x, target, n + 1) || memchr(x->b + target, 0, n))
            return bad(x, "string past end or with a NUL byte", target);
        if (!(e->str = malloc(n + 1)))
            return sm_error_set(x->err, SM_ERR_NOMEM, "out of memory");
        memcpy(e->str, x->b + target, n);
        e->str[n] = '\0';
        e->kind = SM_FLEX_STRING;
        return SM_OK;
    }
    case FX_VECTOR_INT: case FX_VECTOR_UINT: case FX_VECTOR_FLOAT:
        if ((st = deref(x, pos, w, &target)) || (st = vector_len(x, target, cw, 0, &n)))
            return st;
        return numbers(x, target, n, cw, type - FX_VECTOR_INT + FX_INT, false, e);
    case FX_VECTOR_BOOL:
        if ((st = deref(x, pos, w, &target)) || (st = vector_len(x, target, cw, 0, &n)))
            return st;
        return numbers(x, target, n, cw, FX_BOOL, false, e);
    case FX_VECTOR:
        if ((st = deref(x, pos, w, &target)) || (st = vector_len(x, target, cw, 1, &n)))
            return st;
        return numbers(x, target, n, cw, 0, true, e);
    default:
        if (type >= FX_VECTOR_INT2 && type <= FX_VECTOR_FLOAT4) {
            n = 2 + (type - FX_VECTOR_INT2) / 3;
            if ((st = deref(x, pos, w, &target)))
                return st;
            if (!in_range(x, target, n * cw))
                return bad(x, "fixed vector past end", target);
            return numbers(x, target, n, cw, FX_INT + (type - FX_VECTOR_INT2) % 3, false, e);
        }
        return sm_error_set(x->err, SM_ERR_UNSUPPORTED,
                            "flexbuffer: map value of type %u (nested maps and vectors are not supported)",
                            type);
    }
}

sm_status sm_flex_decode_map(const uint8_t *buf, size_t len, sm_flex_map *out, sm_error *err)
{
    memset(out, 0, sizeof *out);
    fx x = {buf, len, err};
    if (len < 3)
        return bad(&x, "too short for a root", 0);
    size_t rw = buf[len - 1];
    uint8_t packed = buf[len - 2];
    if (!valid_width(rw) || rw > len - 2)
        return bad(&x, "invalid root byte width", len - 1);
    size_t root = len - 2 - rw;
    if ((packed >> 2) != FX_MAP)
        return sm_error_set(err, SM_ERR_FORMAT, "flexbuffer: root is of type %u, not a map", packed >> 2);
    size_t w = (size_t)1 << (packed & 3);
    size_t map, keys, n, kn;
    uint64_t kw;
    sm_status st;
    if ((st = deref(&x, root, rw, &map)))
        return st;
    if (map < 3 * w)
        return bad(&x, "map header before the buffer", map);
    if ((st = vector_len(&x, map, w, 1, &n)) || (st = read_uint(&x, map - 2 * w, w, &kw)) ||
        (st = deref(&x, map - 3 * w, w, &keys)))
        return st;
    if (!valid_width(kw))
        return bad(&x, "invalid key vector width", map - 2 * w);
    if ((st = vector_len(&x, keys, (size_t)kw, 0, &kn)))
        return st;
    if (kn != n)
        return sm_error_set(err, SM_ERR_FORMAT, "flexbuffer: map has %zu keys but %zu values", kn, n);
    if (n && !(out->entries = calloc(n, sizeof *out->entries)))
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    out->n = n;
    for (size_t j = 0; j < n; j++) {
        sm_flex_entry *e = &out->entries[j];
        size_t key;
        if ((st = deref(&x, keys + j * (size_t)kw, (size_t)kw, &key)))
            goto fail;
        const uint8_t *nul = key < len ? memchr(buf + key, 0, len - key) : NULL;
        if (!nul) {
            st = bad(&x, "map key without a terminating NUL", key);
            goto fail;
        }
        size_t klen = (size_t)(nul - (buf + key));
        if (!(e->key = malloc(klen + 1))) {
            st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(e->key, buf + key, klen + 1);
        if ((st = value(&x, map + j * w, w, buf[map + n * w + j], e))) {
            sm_error_prefix(err, "key '%s'", e->key);
            goto fail;
        }
    }
    return SM_OK;
fail:
    sm_flex_map_free(out);
    return st;
}

void sm_flex_map_free(sm_flex_map *m)
{
    if (!m)
        return;
    for (size_t j = 0; m->entries && j < m->n; j++) {
        free(m->entries[j].key);
        free(m->entries[j].str);
        free(m->entries[j].ints);
        free(m->entries[j].floats);
    }
    free(m->entries);
    m->entries = NULL;
    m->n = 0;
}

const sm_flex_entry *sm_flex_map_find(const sm_flex_map *m, const char *key)
{
    for (size_t j = 0; j < m->n; j++)
        if (!strcmp(m->entries[j].key, key))
            return &m->entries[j];
    return NULL;
}

/* NumPy .npy reader and writer; the contract is in npy.h. */
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_FILE ((size_t)4 << 30)

static const struct {
    const char *descr;
    sm_dtype dtype;
} npy_types[] = {
    {"<f4", SM_DTYPE_F32}, {"<f8", SM_DTYPE_F64}, {"<i8", SM_DTYPE_I64},
    {"<i4", SM_DTYPE_I32}, {"|u1", SM_DTYPE_U8},  {"<u1", SM_DTYPE_U8},
    {">u1", SM_DTYPE_U8},  {"=u1", SM_DTYPE_U8},
};

const char *sm_npy_descr(sm_dtype dtype)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == dtype)
            return npy_types[i].descr;
    return NULL;
}

const char *sm_npy_shape_str(uint32_t ndim, const uint64_t *dims, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (uint32_t i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

void sm_npy_free(sm_npy *a)
{
    if (!a)
        return;
    sm_aligned_free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- header dict parser ----------------------------------------------------- */

typedef struct {
    const char *p, *end;
    const char *name;
    sm_error *err;
} hdr_cur;

static void skip_ws(hdr_cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static sm_status hdr_fail(hdr_cur *c, const char *what)
{
    char near[24];
    size_t n = 0;
    for (const char *q = c->p; q < c->end && n < sizeof near - 1; q++)
        near[n++] = (*q >= 0x20 && *q < 0x7f) ? *q : '?';
    near[n] = '\0';
    return sm_error_set(c->err, SM_ERR_FORMAT, "%s: bad .npy header dict: %s at '%s'", c->name, what,
                        c->p < c->end ? near : "<end of header>");
}

static bool eat(hdr_cur *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted Python string without escapes (all numpy writes); copied into out. */
static sm_status parse_str(hdr_cur *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return hdr_fail(c, "expected a quoted string");
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\')
            return hdr_fail(c, "escapes in strings are not supported");
        if (n + 1 >= cap)
            return hdr_fail(c, "string too long");
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return hdr_fail(c, "unterminated string");
    c->p++;
    out[n] = '\0';
    return SM_OK;
}

static bool eat_word(hdr_cur *c, const char *w)
{
    size_t n = strlen(w);
    skip_ws(c);
    if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, w, n)) {
        const char *after = c->p + n;
        if (after == c->end || !((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                                 (*after >= '0' && *after <= '9') || *after == '_')) {
            c->p = after;
            return true;
        }
    }
    return false;
}

static sm_status parse_shape(hdr_cur *c, uint32_t *ndim, uint64_t *dims)
{
    if (!eat(c, '('))
        return hdr_fail(c, "'shape' must be a tuple");
    *ndim = 0;
    for (;;) {
        if (eat(c, ')'))
            return SM_OK;
        skip_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return hdr_fail(c, "expected a non-negative integer in 'shape'");
        uint64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return hdr_fail(c, "dimension too large");
            v = v * 10 + (uint64_t)(*c->p++ - '0');
        }
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
            c->p++; /* Python 2 long suffix */
        if (*ndim >= SM_NPY_MAX_DIMS)
            return sm_error_set(c->err, SM_ERR_UNSUPPORTED,
                                "%s: .npy array has more than %d dimensions", c->name, SM_NPY_MAX_DIMS);
        dims[(*ndim)++] = v;
        if (eat(c, ','))
            continue;
        if (eat(c, ')'))
            return SM_OK;
        return hdr_fail(c, "expected ',' or ')' in 'shape'");
    }
}

static sm_status parse_header(const char *hdr, size_t len, const char *name, char *descr, size_t dcap,
                              bool *fortran, uint32_t *ndim, uint64_t *dims, sm_error *err)
{
    hdr_cur c = {hdr, hdr + len, name, err};
    bool have_descr = false, have_fortran = false, have_shape = false;
    sm_status st;
    if (!eat(&c, '{'))
        return hdr_fail(&c, "expected '{'");
    for (;;) {
        if (eat(&c, '}'))
            break;
        char key[32];
        if ((st = parse_str(&c, key, sizeof key)))
            return st;
        if (!eat(&c, ':'))
            return hdr_fail(&c, "expected ':'");
        if (!strcmp(key, "descr")) {
            if (have_descr)
                return hdr_fail(&c, "duplicate key 'descr'");
            skip_ws(&c);
            if (c.p < c.end && *c.p == '[')
                return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                    "%s: structured dtype (descr is a list) is not supported", name);
            if ((st = parse_str(&c, descr, dcap)))
                return st;
            have_descr = true;
        } else if (!strcmp(key, "fortran_order")) {
            if (have_fortran)
                return hdr_fail(&c, "duplicate key 'fortran_order'");
            if (eat_word(&c, "True"))
                *fortran = true;
            else if (eat_word(&c, "False"))
                *fortran = false;
            else
                return hdr_fail(&c, "'fortran_order' must be True or False");
            have_fortran = true;
        } else if (!strcmp(key, "shape")) {
            if (have_shape)
                return hdr_fail(&c, "duplicate key 'shape'");
            if ((st = parse_shape(&c, ndim, dims)))
                return st;
            have_shape = true;
        } else {
            return sm_error_set(err, SM_ERR_FORMAT, "%s: bad .npy header dict: unexpected key '%s'",
                                name, key);
        }
        if (eat(&c, ','))
            continue;
        if (eat(&c, '}'))
            break;
        return hdr_fail(&c, "expected ',' or '}'");
    }
    skip_ws(&c);
    if (c.p != c.end)
        return hdr_fail(&c, "unexpected bytes after the dict");
    if (!have_descr || !have_fortran || !have_shape)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: bad .npy header dict: missing key '%s'", name,
                            !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    return SM_OK;
}

/* ---- reader ----------------------------------------------------------------- */

static uint32_t rd_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Fortran-order bytes -> C order: element with C index (i0..in-1) sits at
 * sum(ik * prod(d0..dk-1)) in the source. */
static void fortran_to_c(const uint8_t *src, uint8_t *dst, uint32_t ndim, const uint64_t *dims,
                         uint64_t numel, size_t isz)
{
    uint64_t idx[SM_NPY_MAX_DIMS] = {0}, fstride[SM_NPY_MAX_DIMS];
    uint64_t s = 1;
    for (uint32_t k = 0; k < ndim; k++) {
        fstride[k] = s;
        s *= dims[k];
    }
    for (uint64_t e = 0; e < numel; e++) {
        uint64_t off = 0;
        for (uint32_t k = 0; k < ndim; k++)
            off += idx[k] * fstride[k];
        memcpy(dst + e * isz, src + off * isz, isz);
        for (int k = (int)ndim - 1; k >= 0; k--) {
            if (++idx[k] < dims[k])
                break;
            idx[k] = 0;
        }
    }
}

sm_status sm_npy_parse(const void *buf, size_t len, const char *name, sm_npy *out, sm_error *err)
{
    const uint8_t *b = buf;
    memset(out, 0, sizeof *out);
    if (!name)
        name = "<buffer>";
    if (len < 10)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated .npy file (%zu bytes, need at least 10)",
                            name, len);
    if (memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a .npy file (bad magic, expected \\x93NUMPY)",
                            name);
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: .npy format version %u.%u, expected 1.0, 2.0 or 3.0",
                            name, major, minor);
    size_t pre = major == 1 ? 10 : 12;
    if (len < pre)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated .npy file (%zu bytes, need %zu for the preamble)",
                            name, len, pre);
    size_t hlen = major == 1 ? rd_le(b + 8, 2) : rd_le(b + 8, 4);
    if (hlen > len - pre)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: truncated .npy header (header length %zu, only %zu bytes follow)", name,
                            hlen, len - pre);
    for (size_t i = 0; i < hlen; i++)
        if (b[pre + i] == 0 || (major < 3 && b[pre + i] >= 0x80))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: bad .npy header: non-text byte 0x%02x at offset %zu",
                                name, b[pre + i], pre + i);

    char descr[32];
    bool fortran = false;
    uint32_t ndim = 0;
    uint64_t dims[SM_NPY_MAX_DIMS] = {0};
    sm_status st = parse_header((const char *)b + pre, hlen, name, descr, sizeof descr, &fortran, &ndim,
                                dims, err);
    if (st)
        return st;

    int ti = -1;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (!strcmp(descr, npy_types[i].descr))
            ti = (int)i;
    if (ti < 0)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: unsupported .npy dtype '%s' (supported: <f4 <f8 <i8 <i4 |u1)", name, descr);
    sm_dtype dt = npy_types[ti].dtype;
    size_t isz = sm_dtype_size(dt);

    uint64_t numel = 1, nbytes;
    for (uint32_t i = 0; i < ndim; i++)
        if (!sm_u64_mul(numel, dims[i], &numel))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: .npy shape overflows", name);
    if (!sm_u64_mul(numel, isz, &nbytes) || nbytes > SIZE_MAX)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: .npy shape overflows", name);
    size_t data_off = pre + hlen;
    char shp[128];
    if ((uint64_t)(len - data_off) != nbytes)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: .npy data is %zu bytes, expected %llu for shape %s of %s", name,
                            len - data_off, (unsigned long long)nbytes,
                            sm_npy_shape_str(ndim, dims, shp, sizeof shp), descr);

    out->dtype = dt;
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof dims);
    out->numel = numel;
    out->nbytes = (size_t)nbytes;
    if (nbytes) {
        out->data = sm_aligned_alloc((size_t)nbytes);
        if (!out->data) {
            memset(out, 0, sizeof *out);
            return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %llu bytes", name,
                                (unsigned long long)nbytes);
        }
        if (fortran && ndim > 1)
            fortran_to_c(b + data_off, out->data, ndim, dims, numel, isz);
        else
            memcpy(out->data, b + data_off, (size_t)nbytes);
    }
    return SM_OK;
}

sm_status sm_npy_load(const char *path, sm_npy *out, sm_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    sm_status st = sm_file_read_all(path, NPY_MAX_FILE, &buf, &len, err);
    if (st)
        return st;
    st = sm_npy_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

/* ---- writer ----------------------------------------------------------------- */

sm_status sm_npy_serialize(sm_dtype dtype, uint32_t ndim, const uint64_t *dims, const void *data,
                           uint8_t **buf, size_t *len, sm_error *err)
{
    const char *descr = sm_npy_descr(dtype);
    *buf = NULL;
    *len = 0;
    if (!descr)
        return sm_error_set(err, SM_ERR_ARG, "npy writer: dtype %s has no .npy equivalent here",
                            sm_dtype_name(dtype));
    if (ndim > SM_NPY_MAX_DIMS)
        return sm_error_set(err, SM_ERR_ARG, "npy writer: %u dimensions, at most %d", ndim, SM_NPY_MAX_DIMS);
    uint64_t numel = 1, nbytes;
    for (uint32_t i = 0; i < ndim; i++)
        if (!sm_u64_mul(numel, dims[i], &numel))
            return sm_error_set(err, SM_ERR_ARG, "npy writer: shape overflows");
    if (!sm_u64_mul(numel, sm_dtype_size(dtype), &nbytes) || nbytes > SIZE_MAX / 2)
        return sm_error_set(err, SM_ERR_ARG, "npy writer: shape overflows");

    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (uint32_t i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%llu%s", (unsigned long long)dims[i],
                      ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* numpy pads so that the data starts at a multiple of 64 */
    size_t pre = 10, body = (size_t)n + 1;
    size_t total = (pre + body + 63) / 64 * 64;
    unsigned major = 1;
    if (total - pre > 65535) {
        major = 2;
        pre = 12;
        total = (pre + body + 63) / 64 * 64;
    }
    size_t hlen = total - pre;
    size_t flen = total + (size_t)nbytes;
    uint8_t *b = malloc(flen ? flen : 1);
    if (!b)
        return sm_error_set(err, SM_ERR_NOMEM, "npy writer: out of memory");
    memcpy(b, NPY_MAGIC, NPY_MAGIC_LEN);
    b[6] = (uint8_t)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        b[8 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(b + pre, dict, (size_t)n);
    memset(b + pre + n, ' ', hlen - (size_t)n - 1);
    b[total - 1] = '\n';
    if (nbytes)
        memcpy(b + total, data, (size_t)nbytes);
    *buf = b;
    *len = flen;
    return SM_OK;
}

sm_status sm_npy_save(const char *path, sm_dtype dtype, uint32_t ndim, const uint64_t *dims,
                      const void *data, sm_error *err)
{
    uint8_t *buf;
    size_t len;
    sm_status st = sm_npy_serialize(dtype, ndim, dims, data, &buf, &len, err);
    if (st)
        return st;
    st = sm_file_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}

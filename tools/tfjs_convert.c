/* sm_convert_tfjs: TensorFlow.js models into the graph form (docs/GRAPH.md),
 * which the graph executor (engine/graph/) runs like the TFLite face models.
 *
 * Two TF.js formats (docs/CONVERTER.md, "TF.js"):
 *  - a weights-only manifest (a JSON array of {paths, weights}), whose network
 *    lives in JavaScript: the architecture is written here once as graph ops
 *    (face-api's FaceExpressionNet);
 *  - a graph model (model.json with modelTopology.node and weightsManifest):
 *    each node is mapped onto the executor's ops through an allow-list.
 * Weights are decoded as tfjs-core's io decodeWeight does (uint8/uint16:
 * value = q * scale + min in double, rounded to float32; float16 widened), then
 * stored as f32 in TFLite layout under their TF.js names. The shards are read
 * through a callback so that tests and the fuzzer can hand in bytes; every
 * path is checked before the callback sees it. */
#include "convert.h"
#include "convert_util.h"
#include "tfjs_json.h"
#include "sha256.h"
#include "tfjs.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TJ_MAX_DIMS 4
#define TJ_MAX_TOTAL_BYTES ((size_t)256 << 20) /* declared weight bytes, all groups */
#define TJ_MAX_WEIGHTS 100000
#define TJ_MAX_NODES 5000 /* the .smw writer checks keys for duplicates linearly: ~6 s at 5000 */
#define TJ_MAX_OPTS 10
#define TJ_MAX_IN 4

/* names -> indices (map_* below) */
typedef struct {
    const char **keys;
    size_t *vals;
    size_t cap, n;
} name_map;

typedef enum { ROLE_NONE, ROLE_CONV, ROLE_DW, ROLE_FC, ROLE_VEC, ROLE_INTS } role;

typedef struct {
    char *name;
    sm_dtype dtype; /* F32 or I32 after decoding */
    uint32_t ndim;
    int64_t dims[TJ_MAX_DIMS];
    size_t numel;
    void *data;
    size_t group;
    const char *quant; /* "uint8", "uint16", "float16" or NULL */
    role role;
    bool stored;
} weight;

typedef struct {
    char *name;
    uint32_t ndim;
    int32_t dims[TJ_MAX_DIMS];
} act;

typedef enum { OPT_STR, OPT_I32, OPT_INTS, OPT_F32, OPT_BOOL } opt_kind;

typedef struct {
    const char *key;
    opt_kind kind;
    const char *s;
    int32_t i;
    int32_t ints[8];
    size_t n;
    float f;
} opt;

typedef struct {
    const char *op;
    char *in[TJ_MAX_IN];
    int n_in;
    char *out;
    uint32_t ndim;
    int32_t dims[TJ_MAX_DIMS];
    opt opts[TJ_MAX_OPTS];
    int n_opts;
} gop;

typedef struct {
    const char *path;
    const sm_convert_opts *opts;
    sm_smw_writer *w;
    sm_error *err;
    sm_tfjs_read_fn read;
    void *read_ctx;
    weight *wt;
    size_t n_wt;
    act *a;
    size_t n_a, cap_a;
    gop *ops;
    size_t n_ops, cap_ops;
    char *in_name, *out_name;
    char **shards;
    char (*shard_sha)[65];
    size_t n_shards;
    size_t n_quant[3];
    name_map wmap, amap; /* weight and activation names -> index */
    char key[300];
} tj;

#define fail(c, st, ...) sm_convert_fail((c)->err, (st), (c)->path, __VA_ARGS__)

static sm_status nomem(tj *c) { return fail(c, SM_ERR_NOMEM, "out of memory"); }

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static const char *dims_str(uint32_t ndim, const int64_t *d, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

/* ---- name index ------------------------------------------------------------------ */

/* Open-addressing hash of names to indices, so that lookups stay linear in the
 * graph's size (a hostile model.json may hold 100,000 nodes and weights). The
 * keys point into strings owned elsewhere. */
static uint64_t name_hash(const char *k)
{
    uint64_t h = 1469598103934665603ull;
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 1099511628211ull;
    return h;
}

static bool map_grow(name_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **k = calloc(cap, sizeof *k);
    size_t *v = calloc(cap, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = (size_t)name_hash(m->keys[i]) & (cap - 1);
            while (k[j])
                j = (j + 1) & (cap - 1);
            k[j] = m->keys[i];
            v[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return true;
}

/* Index of key, or SIZE_MAX. */
static size_t map_find(const name_map *m, const char *key)
{
    if (!m->cap)
        return SIZE_MAX;
    for (size_t j = (size_t)name_hash(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (!strcmp(m->keys[j], key))
            return m->vals[j];
    return SIZE_MAX;
}

/* Adds key -> val; false when out of memory. The caller checks for duplicates. */
static bool map_put(name_map *m, const char *key, size_t val)
{
    if ((m->n + 1) * 2 > m->cap && !map_grow(m))
        return false;
    size_t j = (size_t)name_hash(key) & (m->cap - 1);
    while (m->keys[j])
        j = (j + 1) & (m->cap - 1);
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return true;
}

static void map_free(name_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- weights manifest ---------------------------------------------------------- */

/* A shard path stays inside the model's folder: relative, no "..", no empty
 * or "." components games, no backslashes (a Windows separator). */
static bool safe_rel_path(const char *p, const char **why)
{
    if (!*p) {
        *why = "is empty";
        return false;
    }
    if (p[0] == '/') {
        *why = "is absolute";
        return false;
    }
    if (strchr(p, '\\')) {
        *why = "contains a backslash";
        return false;
    }
    if (strlen(p) > 1024) {
        *why = "is longer than 1024 bytes";
        return false;
    }
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            *why = "contains '..'";
            return false;
        }
        if (n == 0) {
            *why = "has an empty component ('//' or a trailing '/')";
            return false;
        }
        s += n + (e ? 1 : 0);
        if (e && !*s) {
            *why = "has an empty component ('//' or a trailing '/')";
            return false;
        }
    }
    return true;
}

static size_t qsize(const char *q) { return !q ? 4 : !strcmp(q, "uint8") ? 1 : 2; }

static sm_status parse_weight_spec(tj *c, const sm_json *e, size_t gi, size_t wi, weight *w, size_t *bytes)
{
    char b[128];
    const sm_json *nm = sm_json_get(e, "name"), *sh = sm_json_get(e, "shape"), *dt = sm_json_get(e, "dtype");
    const sm_json *q = sm_json_get(e, "quantization");
    if (!e || e->type != SM_JSON_OBJECT || !nm || nm->type != SM_JSON_STRING || !nm->len)
        return fail(c, SM_ERR_FORMAT, "weightsManifest[%zu].weights[%zu]: an object with a non-empty \"name\" string expected",
                    gi, wi);
    if (nm->len >= SM_SMW_MAX_NAME)
        return fail(c, SM_ERR_FORMAT, "weight %zu: name of %zu bytes is too long", wi, nm->len);
    const char *name = nm->str;
    if (!sh || sh->type != SM_JSON_ARRAY || sh->len > TJ_MAX_DIMS)
        return fail(c, SM_ERR_FORMAT, "weight '%s': \"shape\" must be an array of at most %d dimensions", name,
                    TJ_MAX_DIMS);
    w->ndim = (uint32_t)sh->len;
    w->numel = 1;
    for (size_t d = 0; d < sh->len; d++) {
        int64_t v;
        if (!sm_json_int(&sh->items[d], 0, INT32_MAX, &v))
            return fail(c, SM_ERR_FORMAT, "weight '%s': shape dimension %zu is not an integer in 0..2^31-1", name, d);
        w->dims[d] = v;
        if (!sm_size_mul(w->numel, (size_t)v, &w->numel) || w->numel > TJ_MAX_TOTAL_BYTES)
            return fail(c, SM_ERR_SHAPE, "weight '%s': shape %s declares more than %zu elements (limit %zu MiB of weights)",
                        name, dims_str(w->ndim, w->dims, b, sizeof b), TJ_MAX_TOTAL_BYTES,
                        TJ_MAX_TOTAL_BYTES >> 20);
    }
    if (!dt || dt->type != SM_JSON_STRING)
        return fail(c, SM_ERR_FORMAT, "weight '%s': \"dtype\" missing or not a string", name);
    if (!strcmp(dt->str, "float32"))
        w->dtype = SM_DTYPE_F32;
    else if (!strcmp(dt->str, "int32"))
        w->dtype = SM_DTYPE_I32;
    else
        return fail(c, SM_ERR_UNSUPPORTED, "weight '%s': unknown or unsupported dtype '%.40s' (float32 and int32 are supported)",
                    name, dt->str);
    if (q) {
        const sm_json *qd = sm_json_get(q, "dtype");
        if (q->type != SM_JSON_OBJECT || !qd || qd->type != SM_JSON_STRING)
            return fail(c, SM_ERR_FORMAT, "weight '%s': \"quantization\" must be an object with a \"dtype\" string", name);
        if (!strcmp(qd->str, "uint8"))
            w->quant = "uint8";
        else if (!strcmp(qd->str, "uint16"))
            w->quant = "uint16";
        else if (!strcmp(qd->str, "float16"))
            w->quant = "float16";
        else
            return fail(c, SM_ERR_UNSUPPORTED,
                        "weight '%s': unknown quantization dtype '%.40s' (uint8, uint16 and float16 are supported)", name,
                        qd->str);
        if (w->quant[0] == 'u') {
            const sm_json *sc = sm_json_get(q, "scale"), *mn = sm_json_get(q, "min");
            if (!sc || sc->type != SM_JSON_NUMBER || !mn || mn->type != SM_JSON_NUMBER)
                return fail(c, SM_ERR_FORMAT, "weight '%s': %s quantization without numeric \"scale\" and \"min\"", name,
                            w->quant);
        } else if (w->dtype != SM_DTYPE_F32) {
            return fail(c, SM_ERR_UNSUPPORTED, "weight '%s': float16 quantization of an int32 weight", name);
        }
    }
    if (!sm_size_mul(w->numel, qsize(w->quant), bytes))
        return fail(c, SM_ERR_SHAPE, "weight '%s': byte size overflows", name);
    if (!(w->name = dupstr(name)))
        return nomem(c);
    w->group = gi;
    return SM_OK;
}

static void decode(weight *w, const sm_json *q, const uint8_t *src)
{
    if (!w->quant) {
        memcpy(w->data, src, w->numel * 4); /* little-endian host, as everywhere in smw */
        return;
    }
    if (!strcmp(w->quant, "float16")) {
        float *o = w->data;
        for (size_t i = 0; i < w->numel; i++)
            o[i] = sm_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
        return;
    }
    double scale = sm_json_get(q, "scale")->num, mn = sm_json_get(q, "min")->num;
    bool u8 = w->quant[4] == '8';
    for (size_t i = 0; i < w->numel; i++) {
        double v = u8 ? src[i] : (double)(src[2 * i] | src[2 * i + 1] << 8);
        /* tfjs: values[i] = v * scale + min in double, stored into a Float32Array
         * (int32 weights: Math.round, i.e. floor(x + 0.5)) */
        double x = v * scale + mn;
        if (w->dtype == SM_DTYPE_F32) {
            ((float *)w->data)[i] = (float)x;
        } else {
            double r = floor(x + 0.5);
            ((int32_t *)w->data)[i] = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
        }
    }
}

static sm_status read_manifest(tj *c, const sm_json *man)
{
    if (!man || man->type != SM_JSON_ARRAY || man->len == 0)
        return fail(c, SM_ERR_FORMAT, "the weights manifest must be a non-empty array of {paths, weights} groups");
    size_t n = 0, total = 0;
    for (size_t g = 0; g < man->len; g++) {
        const sm_json *ws = sm_json_get(&man->items[g], "weights");
        if (!ws || ws->type != SM_JSON_ARRAY)
            return fail(c, SM_ERR_FORMAT, "weightsManifest[%zu]: \"weights\" missing or not an array", g);
        n += ws->len;
    }
    if (n > TJ_MAX_WEIGHTS)
        return fail(c, SM_ERR_FORMAT, "%zu weights (limit %d)", n, TJ_MAX_WEIGHTS);
    if (!(c->wt = calloc(n ? n : 1, sizeof *c->wt)))
        return nomem(c);
    /* 1. every spec, before any byte is read: names, shapes, dtypes, sizes */
    size_t *bytes = calloc(n ? n : 1, sizeof *bytes);
    const sm_json **quant = calloc(n ? n : 1, sizeof *quant);
    sm_status st = bytes && quant ? SM_OK : nomem(c);
    for (size_t g = 0; g < man->len && !st; g++) {
        const sm_json *ws = sm_json_get(&man->items[g], "weights");
        for (size_t i = 0; i < ws->len && !st; i++) {
            weight *w = &c->wt[c->n_wt];
            st = parse_weight_spec(c, &ws->items[i], g, i, w, &bytes[c->n_wt]);
            if (st)
                break;
            quant[c->n_wt] = sm_json_get(&ws->items[i], "quantization");
            c->n_wt++;
            if (map_find(&c->wmap, w->name) != SIZE_MAX)
                st = fail(c, SM_ERR_FORMAT, "weight '%s' is listed twice in the manifest", w->name);
            else if (!map_put(&c->wmap, w->name, c->n_wt - 1))
                st = nomem(c);
            if (!st && (total += bytes[c->n_wt - 1]) > TJ_MAX_TOTAL_BYTES)
                st = fail(c, SM_ERR_SHAPE, "the manifest declares more than %zu MiB of weights (at weight '%s')",
                          TJ_MAX_TOTAL_BYTES >> 20, w->name);
        }
    }
    /* 2. per group: shard paths, then the bytes, which must be exactly what the specs need */
    size_t first = 0;
    for (size_t g = 0; g < man->len && !st; g++) {
        const sm_json *ws = sm_json_get(&man->items[g], "weights");
        const sm_json *ps = sm_json_get(&man->items[g], "paths");
        size_t need = 0;
        for (size_t i = 0; i < ws->len; i++)
            need += bytes[first + i];
        if (!ps || ps->type != SM_JSON_ARRAY || (ps->len == 0 && need > 0) || ps->len > 10000) {
            st = fail(c, SM_ERR_FORMAT, "weightsManifest[%zu]: \"paths\" missing, empty or not an array", g);
            break;
        }
        uint8_t *blob = malloc(need ? need : 1);
        if (!blob) {
            st = nomem(c);
            break;
        }
        size_t have = 0;
        char **sh = realloc(c->shards, (c->n_shards + ps->len + 1) * sizeof *sh);
        char (*ss)[65] = sh ? realloc(c->shard_sha, (c->n_shards + ps->len + 1) * sizeof *ss) : NULL;
        if (sh)
            c->shards = sh;
        if (ss)
            c->shard_sha = ss;
        if (!sh || !ss)
            st = nomem(c);
        for (size_t p = 0; p < ps->len && !st; p++) {
            const sm_json *pj = &ps->items[p];
            const char *why = NULL;
            if (pj->type != SM_JSON_STRING) {
                st = fail(c, SM_ERR_FORMAT, "weightsManifest[%zu].paths[%zu] is not a string", g, p);
                break;
            }
            if (!safe_rel_path(pj->str, &why)) {
                st = fail(c, SM_ERR_FORMAT, "shard path '%.200s' %s: shards must stay inside the model's folder", pj->str,
                          why);
                break;
            }
            uint8_t *buf = NULL;
            size_t len = 0;
            st = c->read(c->read_ctx, c->path, pj->str, need - have, &buf, &len, c->err);
            if (st)
                break;
            if (len > need - have) {
                free(buf);
                st = fail(c, SM_ERR_FORMAT,
                          "shard '%s' is longer than the manifest says: its group needs %zu more bytes, the shard has %zu",
                          pj->str, need - have, len);
                break;
            }
            memcpy(blob + have, buf, len);
            sm_sha256_hex(buf, len, c->shard_sha[c->n_shards]);
            free(buf);
            if (!(c->shards[c->n_shards] = dupstr(pj->str))) {
                st = nomem(c);
                break;
            }
            c->n_shards++;
            have += len;
        }
        if (!st && have != need)
            st = fail(c, SM_ERR_FORMAT,
                      "weightsManifest[%zu]: the shards (%s%s) hold %zu bytes but the manifest's %zu weights need %zu "
                      "(a truncated or missing shard?)",
                      g, ps->len ? ps->items[0].str : "none", ps->len > 1 ? ", ..." : "", have, ws->len, need);
        size_t off = 0;
        for (size_t i = 0; i < ws->len && !st; i++) {
            weight *w = &c->wt[first + i];
            if (!(w->data = malloc(w->numel ? w->numel * 4 : 4))) {
                st = nomem(c);
                break;
            }
            decode(w, quant[first + i], blob + off);
            off += bytes[first + i];
            if (w->quant)
                c->n_quant[w->quant[0] == 'f' ? 2 : w->quant[4] == '8' ? 0 : 1]++;
        }
        free(blob);
        first += ws->len;
    }
    free(bytes);
    free(quant);
    return st;
}

static weight *find_weight(tj *c, const char *name)
{
    size_t i = map_find(&c->wmap, name);
    return i == SIZE_MAX ? NULL : &c->wt[i];
}

/* Puts w into the layout its consumer reads (docs/GRAPH.md section 1) once;
 * a weight read in two different layouts is refused. */
static sm_status take_role(tj *c, weight *w, role r, const char *node)
{
    char b[128];
    if (w->role == r)
        return SM_OK;
    if (w->role != ROLE_NONE)
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s': weight '%s' is used in two different roles", node, w->name);
    bool ok = w->dtype == (r == ROLE_INTS ? SM_DTYPE_I32 : SM_DTYPE_F32);
    if (r == ROLE_CONV || r == ROLE_DW)
        ok = ok && w->ndim == 4 && w->dims[0] >= 1 && w->dims[1] >= 1 && w->dims[0] <= 64 && w->dims[1] <= 64;
    if (r == ROLE_DW)
        ok = ok && w->dims[3] == 1;
    if (r == ROLE_FC)
        ok = ok && w->ndim == 2;
    if (r == ROLE_VEC || r == ROLE_INTS)
        ok = ok && w->ndim <= 1;
    if (!ok)
        return fail(c, SM_ERR_SHAPE, "node '%s': weight '%s' %s %s does not fit its use (%s)", node, w->name,
                    w->dtype == SM_DTYPE_F32 ? "float32" : "int32", dims_str(w->ndim, w->dims, b, sizeof b),
                    r == ROLE_CONV ? "conv filter [KH, KW, in, out]"
                    : r == ROLE_DW ? "depthwise filter [KH, KW, C, 1]"
                    : r == ROLE_FC ? "matrix [in, out]"
                    : r == ROLE_VEC ? "float vector"
                                    : "int32 vector");
    w->role = r;
    if (r == ROLE_CONV || r == ROLE_FC) {
        /* HWIO -> OHWI, [in, out] -> [out, in]: move the last axis to the front */
        size_t o = (size_t)w->dims[w->ndim - 1], rest = w->numel / (o ? o : 1);
        float *src = w->data, *dst = malloc(w->numel ? w->numel * 4 : 4);
        if (!dst)
            return nomem(c);
        for (size_t i = 0; i < rest; i++)
            for (size_t k = 0; k < o; k++)
                dst[k * rest + i] = src[i * o + k];
        free(w->data);
        w->data = dst;
        int64_t last = w->dims[w->ndim - 1];
        memmove(w->dims + 1, w->dims, (w->ndim - 1) * sizeof *w->dims);
        w->dims[0] = last;
    } else if (r == ROLE_DW) {
        /* [KH, KW, C, 1] and [1, KH, KW, C] are the same bytes */
        int64_t kh = w->dims[0], kw = w->dims[1], ch = w->dims[2];
        w->dims[0] = 1;
        w->dims[1] = kh;
        w->dims[2] = kw;
        w->dims[3] = ch;
    }
    w->stored = r != ROLE_INTS;
    return SM_OK;
}

/* ---- graph building ----------------------------------------------------------------- */

static act *find_act(tj *c, const char *name)
{
    size_t i = map_find(&c->amap, name);
    return i == SIZE_MAX ? NULL : &c->a[i];
}

static sm_status add_act(tj *c, const char *name, uint32_t ndim, const int32_t *dims)
{
    if (find_act(c, name) || find_weight(c, name))
        return fail(c, SM_ERR_FORMAT, "tensor name '%s' is defined twice", name);
    if (c->n_a == c->cap_a) {
        size_t cap = c->cap_a ? c->cap_a * 2 : 64;
        act *a = realloc(c->a, cap * sizeof *a);
        if (!a)
            return nomem(c);
        c->a = a;
        c->cap_a = cap;
    }
    act *a = &c->a[c->n_a];
    if (!(a->name = dupstr(name)))
        return nomem(c);
    if (!map_put(&c->amap, a->name, c->n_a)) {
        free(a->name);
        return nomem(c);
    }
    a->ndim = ndim;
    memcpy(a->dims, dims, ndim * sizeof *dims);
    c->n_a++;
    return SM_OK;
}

static gop *new_op(tj *c, const char *type, const char *out, uint32_t ndim, const int32_t *dims_in)
{
    /* dims_in may point into c->a, which add_act below may move */
    int32_t dims[TJ_MAX_DIMS];
    memcpy(dims, dims_in, ndim * sizeof *dims);
    if (c->n_ops == c->cap_ops) {
        size_t cap = c->cap_ops ? c->cap_ops * 2 : 64;
        gop *o = realloc(c->ops, cap * sizeof *o);
        if (!o)
            return nomem(c), NULL;
        c->ops = o;
        c->cap_ops = cap;
    }
    int64_t numel = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        if (dims[i] < 1 || dims[i] > (1 << 24) || (numel *= dims[i]) > (1 << 28))
            return fail(c, SM_ERR_SHAPE, "op %s '%s': output dimension %u is %d (1..2^24, at most 2^28 elements)", type,
                        out, i, (int)dims[i]),
                   NULL;
    }
    if (add_act(c, out, ndim, dims))
        return NULL;
    gop *o = &c->ops[c->n_ops];
    memset(o, 0, sizeof *o);
    o->op = type;
    o->ndim = ndim;
    memcpy(o->dims, dims, ndim * sizeof *dims);
    if (!(o->out = dupstr(out)))
        return nomem(c), NULL;
    c->n_ops++;
    return o;
}

static sm_status op_in(tj *c, gop *o, const char *name)
{
    if (!(o->in[o->n_in] = dupstr(name)))
        return nomem(c);
    o->n_in++;
    return SM_OK;
}

static void opt_s(gop *o, const char *k, const char *v) { o->opts[o->n_opts++] = (opt){.key = k, .kind = OPT_STR, .s = v}; }
static void opt_i(gop *o, const char *k, int32_t v) { o->opts[o->n_opts++] = (opt){.key = k, .kind = OPT_I32, .i = v}; }

static const char *act_name(bool relu) { return relu ? "RELU" : "NONE"; }

/* Shape of an activation (graph input or op output). */
static sm_status need_shape(tj *c, const char *node, const char *name, uint32_t rank, act **out)
{
    act *a = find_act(c, name);
    if (!a)
        return fail(c, SM_ERR_FORMAT, "node '%s': input '%s' is not a computed tensor", node, name);
    if (rank && a->ndim != rank)
        return fail(c, SM_ERR_SHAPE, "node '%s': input '%s' has rank %u, %u expected", node, name, a->ndim, rank);
    *out = a;
    return SM_OK;
}

static sm_status out_extent(tj *c, const char *node, int32_t in, int32_t k, int32_t s, bool same, int32_t *out)
{
    int64_t o = same ? ((int64_t)in + s - 1) / s : ((int64_t)in - k) / s + 1;
    if (in < 1 || (!same && in < k) || o < 1)
        return fail(c, SM_ERR_SHAPE, "node '%s': window %d (stride %d, %s) does not fit an input extent of %d", node, k,
                    s, same ? "SAME" : "VALID", in);
    *out = (int32_t)o;
    return SM_OK;
}

/* CONV_2D / DEPTHWISE_CONV_2D of x by weight wname (already in role), optional bias. */
static sm_status g_conv(tj *c, const char *out, const char *x, const char *wname, const char *bname, int32_t sh,
                        int32_t sw, bool same, bool relu, bool dw)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 4, &a);
    if (st)
        return st;
    weight *w = find_weight(c, wname), *b = bname ? find_weight(c, bname) : NULL;
    if (!w || (bname && !b))
        return fail(c, SM_ERR_FORMAT, "node '%s': weight '%s' is missing", out, !w ? wname : bname);
    if ((st = take_role(c, w, dw ? ROLE_DW : ROLE_CONV, out)) || (b && (st = take_role(c, b, ROLE_VEC, out))))
        return st;
    int64_t oc = dw ? w->dims[3] : w->dims[0];
    /* OHWI or 1HWC: the last axis is the input's channels either way */
    if (w->dims[3] != a->dims[3])
        return fail(c, SM_ERR_SHAPE, "node '%s': filter '%s' has %lld input channels, the input '%s' has %d", out, w->name,
                    (long long)w->dims[3], x, (int)a->dims[3]);
    if (b && (int64_t)b->numel != oc)
        return fail(c, SM_ERR_SHAPE, "node '%s': bias '%s' has %zu values, %lld expected", out, b->name, b->numel,
                    (long long)oc);
    if (sh < 1 || sw < 1 || sh > 64 || sw > 64)
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s': strides %dx%d (1..64 supported)", out, sh, sw);
    int32_t d[4] = {1, 0, 0, (int32_t)oc};
    if ((st = out_extent(c, out, a->dims[1], (int32_t)w->dims[1], sh, same, &d[1])) ||
        (st = out_extent(c, out, a->dims[2], (int32_t)w->dims[2], sw, same, &d[2])))
        return st;
    if (a->dims[0] != 1)
        return fail(c, SM_ERR_SHAPE, "node '%s': batch %d (1 supported)", out, a->dims[0]);
    gop *o = new_op(c, dw ? "DEPTHWISE_CONV_2D" : "CONV_2D", out, 4, d);
    if (!o || op_in(c, o, x) || op_in(c, o, wname) || (bname && op_in(c, o, bname)))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt_s(o, "padding", same ? "SAME" : "VALID");
    opt_i(o, "stride_w", sw);
    opt_i(o, "stride_h", sh);
    if (dw)
        opt_i(o, "depth_multiplier", 1);
    opt_s(o, "activation", act_name(relu));
    opt_i(o, "dilation_w", 1);
    opt_i(o, "dilation_h", 1);
    return SM_OK;
}

static sm_status g_add(tj *c, const char *out, const char *x, const char *y, bool relu)
{
    act *a = NULL, *b = NULL;
    sm_status st;
    if ((st = need_shape(c, out, x, 0, &a)) || (st = need_shape(c, out, y, 0, &b)))
        return st;
    if (a->ndim != b->ndim || memcmp(a->dims, b->dims, a->ndim * sizeof *a->dims))
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s': operands '%s' and '%s' differ in shape (no broadcasting)", out, x, y);
    gop *o = new_op(c, "ADD", out, a->ndim, a->dims);
    if (!o || op_in(c, o, x) || op_in(c, o, y))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt_s(o, "activation", act_name(relu));
    return SM_OK;
}

static sm_status g_unary(tj *c, const char *type, const char *out, const char *x)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 0, &a);
    if (st)
        return st;
    gop *o = new_op(c, type, out, a->ndim, a->dims);
    if (!o || op_in(c, o, x))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    if (!strcmp(type, "SOFTMAX"))
        o->opts[o->n_opts++] = (opt){.key = "beta", .kind = OPT_F32, .f = 1.0f};
    return SM_OK;
}

static sm_status g_pool(tj *c, bool maxp, const char *out, const char *x, int32_t kh, int32_t kw, int32_t sh,
                        int32_t sw, bool same)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 4, &a);
    if (st)
        return st;
    if (kh < 1 || kw < 1 || kh > 64 || kw > 64 || sh < 1 || sw < 1 || sh > 64 || sw > 64)
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s': pool window %dx%d stride %dx%d (1..64 supported)", out, kh, kw,
                    sh, sw);
    int32_t d[4] = {a->dims[0], 0, 0, a->dims[3]};
    if ((st = out_extent(c, out, a->dims[1], kh, sh, same, &d[1])) ||
        (st = out_extent(c, out, a->dims[2], kw, sw, same, &d[2])))
        return st;
    gop *o = new_op(c, maxp ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", out, 4, d);
    if (!o || op_in(c, o, x))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt_s(o, "padding", same ? "SAME" : "VALID");
    opt_i(o, "stride_w", sw);
    opt_i(o, "stride_h", sh);
    opt_i(o, "filter_w", kw);
    opt_i(o, "filter_h", kh);
    opt_s(o, "activation", "NONE");
    return SM_OK;
}

static sm_status g_reshape(tj *c, const char *out, const char *x, uint32_t ndim, const int32_t *dims)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 0, &a);
    if (st)
        return st;
    int64_t n1 = 1, n2 = 1;
    for (uint32_t i = 0; i < a->ndim; i++)
        n1 *= a->dims[i];
    for (uint32_t i = 0; i < ndim; i++)
        n2 *= dims[i];
    if (n1 != n2)
        return fail(c, SM_ERR_SHAPE, "node '%s': reshape of %lld elements into %lld", out, (long long)n1, (long long)n2);
    gop *o = new_op(c, "RESHAPE", out, ndim, dims);
    if (!o || op_in(c, o, x))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt *p = &o->opts[o->n_opts++];
    *p = (opt){.key = "new_shape", .kind = OPT_INTS, .n = ndim};
    memcpy(p->ints, dims, ndim * sizeof *dims);
    return SM_OK;
}

/* MEAN over the spatial axes 1 and 2 of an NHWC tensor. */
static sm_status g_mean(tj *c, const char *out, const char *x, bool keep)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 4, &a);
    if (st)
        return st;
    int32_t d4[4] = {a->dims[0], 1, 1, a->dims[3]}, d2[2] = {a->dims[0], a->dims[3]};
    gop *o = keep ? new_op(c, "MEAN", out, 4, d4) : new_op(c, "MEAN", out, 2, d2);
    if (!o || op_in(c, o, x))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt *p = &o->opts[o->n_opts++];
    *p = (opt){.key = "axes", .kind = OPT_INTS, .n = 2, .ints = {1, 2}};
    o->opts[o->n_opts++] = (opt){.key = "keep_dims", .kind = OPT_BOOL, .i = keep};
    return SM_OK;
}

/* FULLY_CONNECTED: y[1, O] = x[1, I] W[O, I]^T + b. */
static sm_status g_fc(tj *c, const char *out, const char *x, const char *wname, const char *bname, bool relu)
{
    act *a = NULL;
    sm_status st = need_shape(c, out, x, 2, &a);
    if (st)
        return st;
    weight *w = find_weight(c, wname), *b = bname ? find_weight(c, bname) : NULL;
    if (!w || (bname && !b))
        return fail(c, SM_ERR_FORMAT, "node '%s': weight '%s' is missing", out, !w ? wname : bname);
    if ((st = take_role(c, w, ROLE_FC, out)) || (b && (st = take_role(c, b, ROLE_VEC, out))))
        return st;
    if (w->dims[1] != a->dims[1] || (b && (int64_t)b->numel != w->dims[0]))
        return fail(c, SM_ERR_SHAPE, "node '%s': weights '%s' [%lld, %lld] (out, in) do not fit input width %d%s", out,
                    w->name, (long long)w->dims[0], (long long)w->dims[1], (int)a->dims[1],
                    b ? " or the bias" : "");
    int32_t d[2] = {a->dims[0], (int32_t)w->dims[0]};
    gop *o = new_op(c, "FULLY_CONNECTED", out, 2, d);
    if (!o || op_in(c, o, x) || op_in(c, o, wname) || (bname && op_in(c, o, bname)))
        return c->err->status ? c->err->status : SM_ERR_NOMEM;
    opt_s(o, "activation", act_name(relu));
    return SM_OK;
}

/* ---- face-api FaceExpressionNet (weights only) ------------------------------------------ */

/* face-api 1.7.15 src/faceFeatureExtractor/{FaceFeatureExtractor,denseBlock}.ts,
 * src/common/depthwiseSeparableConv.ts, src/faceProcessor/FaceProcessor.ts and
 * src/faceExpressionNet/FaceExpressionNet.ts: four denseBlock4 (32, 64, 128,
 * 256 channels, each first conv stride 2, dense0's a plain 3x3 conv), avgPool
 * 7x7 stride 2 VALID, fc 256x7, softmax (applied in JS: appended here). */
static const int faceapi_ch[4] = {32, 64, 128, 256};

static bool faceapi_expected(const char *name, int64_t *dims, uint32_t *ndim)
{
    char buf[64];
    if (!strcmp(name, "fc/weights")) {
        *ndim = 2;
        dims[0] = 256;
        dims[1] = 7;
        return true;
    }
    if (!strcmp(name, "fc/bias")) {
        *ndim = 1;
        dims[0] = 7;
        return true;
    }
    for (int b = 0; b < 4; b++)
        for (int k = 0; k < 4; k++) {
            int cout = faceapi_ch[b], cin = k ? cout : b ? faceapi_ch[b - 1] : 3;
            snprintf(buf, sizeof buf, "dense%d/conv%d/", b, k);
            size_t n = strlen(buf);
            if (strncmp(name, buf, n))
                continue;
            const char *s = name + n;
            if (!strcmp(s, "bias")) {
                *ndim = 1;
                dims[0] = cout;
                return true;
            }
            if (b == 0 && k == 0 && !strcmp(s, "filters")) {
                *ndim = 4;
                dims[0] = dims[1] = 3;
                dims[2] = cin;
                dims[3] = cout;
                return true;
            }
            if (!(b == 0 && k == 0) && !strcmp(s, "depthwise_filter")) {
                *ndim = 4;
                dims[0] = dims[1] = 3;
                dims[2] = cin;
                dims[3] = 1;
                return true;
            }
            if (!(b == 0 && k == 0) && !strcmp(s, "pointwise_filter")) {
                *ndim = 4;
                dims[0] = dims[1] = 1;
                dims[2] = cin;
                dims[3] = cout;
                return true;
            }
        }
    return false;
}

static bool looks_faceapi_expression(const tj *c)
{
    for (size_t i = 0; i < c->n_wt; i++)
        if (!strcmp(c->wt[i].name, "fc/weights") || !strcmp(c->wt[i].name, "dense3/conv3/pointwise_filter"))
            return true;
    return false;
}

static sm_status faceapi_check(tj *c)
{
    char b1[96], b2[96];
    size_t n_expected = 0;
    for (size_t i = 0; i < c->n_wt; i++) {
        weight *w = &c->wt[i];
        int64_t d[4];
        uint32_t nd;
        if (!faceapi_expected(w->name, d, &nd))
            return fail(c, SM_ERR_FORMAT, "unexpected weight '%s' (not part of face-api's FaceExpressionNet)", w->name);
        if (w->dtype != SM_DTYPE_F32 || w->ndim != nd || memcmp(w->dims, d, nd * sizeof *d))
            return fail(c, SM_ERR_SHAPE, "weight '%s' is %s %s, FaceExpressionNet needs float32 %s", w->name,
                        w->dtype == SM_DTYPE_F32 ? "float32" : "int32", dims_str(w->ndim, w->dims, b1, sizeof b1),
                        dims_str(nd, d, b2, sizeof b2));
    }
    /* every expected weight present: 4 blocks x 4 convs (2 or 3 tensors) + fc */
    n_expected = 2 + 3 * 15 + 2;
    if (c->n_wt != n_expected) {
        static const char *const parts[] = {"filters", "depthwise_filter", "pointwise_filter", "bias"};
        char nm[64];
        for (int b = 0; b < 4; b++)
            for (int k = 0; k < 4; k++)
                for (int p = 0; p < 4; p++) {
                    int64_t d[4];
                    uint32_t nd;
                    snprintf(nm, sizeof nm, "dense%d/conv%d/%s", b, k, parts[p]);
                    if (faceapi_expected(nm, d, &nd) && !find_weight(c, nm))
                        return fail(c, SM_ERR_FORMAT, "weight '%s' %s of FaceExpressionNet is missing from the manifest",
                                    nm, dims_str(nd, d, b1, sizeof b1));
                }
        return fail(c, SM_ERR_FORMAT, "weight 'fc/%s' of FaceExpressionNet is missing from the manifest",
                    find_weight(c, "fc/weights") ? "bias" : "weights");
    }
    return SM_OK;
}

static sm_status faceapi_sep(tj *c, const char *p, int k, const char *x, const char *out, int32_t s, bool relu)
{
    char dwn[64], wdw[64], wpw[64], wb[64];
    snprintf(dwn, sizeof dwn, "%s/conv%d/depthwise", p, k);
    snprintf(wdw, sizeof wdw, "%s/conv%d/depthwise_filter", p, k);
    snprintf(wpw, sizeof wpw, "%s/conv%d/pointwise_filter", p, k);
    snprintf(wb, sizeof wb, "%s/conv%d/bias", p, k);
    /* tf.separableConv2d(x, dw, pw, stride, 'same'): depthwise with the stride and
     * SAME padding, then the 1x1 pointwise (stride 1); then tf.add(out, bias) */
    sm_status st = g_conv(c, dwn, x, wdw, NULL, s, s, true, false, true);
    return st ? st : g_conv(c, out, dwn, wpw, wb, 1, 1, false, relu, false);
}

static sm_status faceapi_build(tj *c)
{
    sm_status st;
    static const int32_t in_dims[4] = {1, 112, 112, 3};
    if (!(c->in_name = dupstr("input")) || !(c->out_name = dupstr("probabilities")))
        return nomem(c);
    if ((st = add_act(c, "input", 4, in_dims)))
        return st;
    char x[64] = "input";
    for (int b = 0; b < 4; b++) {
        char p[16], o1[64], o2[64], i3[64], o3[64], s3[64], i4[64], o4[64], s4a[64], s4b[64], y[64];
        snprintf(p, sizeof p, "dense%d", b);
        snprintf(o1, sizeof o1, "%s/out1", p);
        snprintf(o2, sizeof o2, "%s/out2", p);
        snprintf(i3, sizeof i3, "%s/in3", p);
        snprintf(o3, sizeof o3, "%s/out3", p);
        snprintf(s3, sizeof s3, "%s/out2+out3", p);
        snprintf(i4, sizeof i4, "%s/in4", p);
        snprintf(o4, sizeof o4, "%s/out4", p);
        snprintf(s4a, sizeof s4a, "%s/out3+out4", p);
        snprintf(s4b, sizeof s4b, "%s/out2+out3+out4", p);
        snprintf(y, sizeof y, "%s/out", p);
        /* out1 = relu(first ? conv(x, 3x3, s2) + bias : sep(x, s2)) */
        if (b == 0)
            st = g_conv(c, o1, x, "dense0/conv0/filters", "dense0/conv0/bias", 2, 2, true, true, false);
        else
            st = faceapi_sep(c, p, 0, x, o1, 2, true);
        if (st || (st = faceapi_sep(c, p, 1, o1, o2, 1, false)) || (st = g_add(c, i3, o1, o2, true)) ||
            (st = faceapi_sep(c, p, 2, i3, o3, 1, false)) ||
            /* in4 = relu(out1 + (out2 + out3)), the order of tf.add in denseBlock4 */
            (st = g_add(c, s3, o2, o3, false)) || (st = g_add(c, i4, o1, s3, true)) ||
            (st = faceapi_sep(c, p, 3, i4, o4, 1, false)) || (st = g_add(c, s4a, o3, o4, false)) ||
            (st = g_add(c, s4b, o2, s4a, false)) || (st = g_add(c, y, o1, s4b, true)))
            return st;
        snprintf(x, sizeof x, "%s", y);
    }
    static const int32_t flat[2] = {1, 256};
    if ((st = g_pool(c, false, "avgpool", x, 7, 7, 2, 2, false)) || (st = g_reshape(c, "features", "avgpool", 2, flat)) ||
        (st = g_fc(c, "logits", "features", "fc/weights", "fc/bias", false)) ||
        (st = g_unary(c, "SOFTMAX", "probabilities", "logits")))
        return st;
    return SM_OK;
}

/* ---- graph models (modelTopology.node) -------------------------------------------------- */

typedef struct {
    const sm_json *j;
    const char *name, *op;
    const sm_json *in; /* array of strings */
    const sm_json *attr;
    int state;         /* topological sort */
    int pending;
} node;

static const char *const allowed_ops[] = {"Const",   "Placeholder", "_FusedConv2D", "Conv2D",  "DepthwiseConv2dNative",
                                          "FusedDepthwiseConv2dNative", "MaxPool", "AvgPool", "AddV2", "Add",
                                          "Relu",    "Mean",        "Softmax",      "Identity", "Reshape"};

static bool op_allowed(const char *op)
{
    for (size_t i = 0; i < sizeof allowed_ops / sizeof *allowed_ops; i++)
        if (!strcmp(op, allowed_ops[i]))
            return true;
    return false;
}

static int b64val(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* A base64 string (TF.js writes attr strings so) decoded into out (at most
 * cap-1 bytes, no NUL inside); false when it is not one. */
static bool b64_str(const sm_json *a, char *out, size_t cap)
{
    if (!a || a->type != SM_JSON_STRING)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < a->len; i++) {
        if (a->str[i] == '=')
            break;
        int v = b64val(a->str[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return false;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = 0;
    return strlen(out) == o;
}

/* attr {"s": base64} */
static bool attr_str(const node *n, const char *key, char *out, size_t cap)
{
    return b64_str(sm_json_get(sm_json_get(n->attr, key), "s"), out, cap);
}

/* attr {"list": {"i": ["1", "2", ...]}} (TF.js writes int64 as strings) */
static bool attr_ints(const node *n, const char *key, int64_t *out, size_t max, size_t *cnt)
{
    const sm_json *l = sm_json_get(sm_json_get(sm_json_get(n->attr, key), "list"), "i");
    *cnt = 0;
    if (!l)
        return sm_json_get(n->attr, key) && sm_json_get(sm_json_get(n->attr, key), "list"); /* empty list */
    if (l->type != SM_JSON_ARRAY || l->len > max)
        return false;
    for (size_t i = 0; i < l->len; i++) {
        const sm_json *e = &l->items[i];
        char *end;
        if (e->type == SM_JSON_STRING) {
            long long v = strtoll(e->str, &end, 10);
            if (!e->len || *end || v < INT32_MIN || v > INT32_MAX)
                return false;
            out[i] = v;
        } else if (!sm_json_int(e, INT32_MIN, INT32_MAX, &out[i])) {
            return false;
        }
    }
    *cnt = l->len;
    return true;
}

static bool attr_bool(const node *n, const char *key, bool *v)
{
    const sm_json *b = sm_json_get(sm_json_get(n->attr, key), "b");
    if (!b)
        return false;
    if (b->type != SM_JSON_BOOL)
        return false;
    *v = b->b;
    return true;
}

/* NHWC window attributes: strides/ksize [1, h, w, 1], padding SAME|VALID, no dilation. */
static sm_status node_window(tj *c, const node *n, const char *list, int32_t *h, int32_t *w)
{
    int64_t v[4];
    size_t k;
    if (!attr_ints(n, list, v, 4, &k) || k != 4 || v[0] != 1 || v[3] != 1 || v[1] < 1 || v[2] < 1 || v[1] > 64 ||
        v[2] > 64)
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): attribute '%s' must be [1, h, w, 1] with h, w in 1..64", n->name,
                    n->op, list);
    *h = (int32_t)v[1];
    *w = (int32_t)v[2];
    return SM_OK;
}

static sm_status node_common(tj *c, const node *n, bool *same)
{
    char s[32];
    if (attr_str(n, "data_format", s, sizeof s) && strcmp(s, "NHWC"))
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): data_format %s (NHWC supported)", n->name, n->op, s);
    if (!attr_str(n, "padding", s, sizeof s) || (strcmp(s, "SAME") && strcmp(s, "VALID")))
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): padding missing or not SAME/VALID", n->name, n->op);
    *same = !strcmp(s, "SAME");
    int64_t d[4];
    size_t k;
    if (sm_json_get(n->attr, "dilations") &&
        (!attr_ints(n, "dilations", d, 4, &k) || (k && (k != 4 || d[0] != 1 || d[1] != 1 || d[2] != 1 || d[3] != 1))))
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): dilations other than 1", n->name, n->op);
    if (sm_json_get(n->attr, "explicit_paddings") && (!attr_ints(n, "explicit_paddings", d, 4, &k) || k))
        return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): explicit paddings", n->name, n->op);
    return SM_OK;
}

/* fused_ops of _FusedConv2D / FusedDepthwiseConv2dNative: [BiasAdd] or [BiasAdd, Relu]. */
static sm_status node_fused(tj *c, const node *n, bool *relu)
{
    const sm_json *l = sm_json_get(sm_json_get(sm_json_get(n->attr, "fused_ops"), "list"), "s");
    int64_t na = 1;
    const sm_json *nj = sm_json_get(sm_json_get(n->attr, "num_args"), "i");
    if (nj && nj->type == SM_JSON_STRING)
        na = strtoll(nj->str, NULL, 10);
    char s[32];
    *relu = false;
    bool ok = l && l->type == SM_JSON_ARRAY && (l->len == 1 || l->len == 2) && na == 1;
    for (size_t i = 0; ok && i < l->len; i++) {
        ok = b64_str(&l->items[i], s, sizeof s) &&
             ((i == 0 && !strcmp(s, "BiasAdd")) || (i == 1 && !strcmp(s, "Relu")));
        *relu |= ok && i == 1;
    }
    if (!ok)
        return fail(c, SM_ERR_UNSUPPORTED,
                    "node '%s' (%s): fused_ops must be [BiasAdd] or [BiasAdd, Relu] with num_args 1", n->name, n->op);
    return SM_OK;
}

static const char *in_name(const node *n, size_t k) { return n->in->items[k].str; }

static sm_status map_node(tj *c, node *n)
{
    sm_status st;
    size_t nin = n->in ? n->in->len : 0;
    bool same = false, relu = false;
    int32_t sh, sw, kh, kw;
    if (!strcmp(n->op, "_FusedConv2D") || !strcmp(n->op, "Conv2D") || !strcmp(n->op, "DepthwiseConv2dNative") ||
        !strcmp(n->op, "FusedDepthwiseConv2dNative")) {
        bool fused = n->op[0] == '_' || n->op[0] == 'F';
        bool dw = strstr(n->op, "Depthwise") != NULL;
        if (nin != (fused ? 3u : 2u))
            return fail(c, SM_ERR_FORMAT, "node '%s' (%s): %zu inputs, %d expected", n->name, n->op, nin, fused ? 3 : 2);
        if ((st = node_common(c, n, &same)) || (st = node_window(c, n, "strides", &sh, &sw)) ||
            (fused && (st = node_fused(c, n, &relu))))
            return st;
        if (!find_weight(c, in_name(n, 1)) || (fused && !find_weight(c, in_name(n, 2))))
            return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (%s): filter and bias must be weights (Const nodes)", n->name,
                        n->op);
        return g_conv(c, n->name, in_name(n, 0), in_name(n, 1), fused ? in_name(n, 2) : NULL, sh, sw, same, relu, dw);
    }
    if (!strcmp(n->op, "MaxPool") || !strcmp(n->op, "AvgPool")) {
        if (nin != 1)
            return fail(c, SM_ERR_FORMAT, "node '%s' (%s): %zu inputs, 1 expected", n->name, n->op, nin);
        if ((st = node_common(c, n, &same)) || (st = node_window(c, n, "strides", &sh, &sw)) ||
            (st = node_window(c, n, "ksize", &kh, &kw)))
            return st;
        return g_pool(c, n->op[0] == 'M', n->name, in_name(n, 0), kh, kw, sh, sw, same);
    }
    if (!strcmp(n->op, "AddV2") || !strcmp(n->op, "Add")) {
        if (nin != 2)
            return fail(c, SM_ERR_FORMAT, "node '%s' (%s): %zu inputs, 2 expected", n->name, n->op, nin);
        return g_add(c, n->name, in_name(n, 0), in_name(n, 1), false);
    }
    if (!strcmp(n->op, "Relu") || !strcmp(n->op, "Softmax") || !strcmp(n->op, "Identity")) {
        if (nin != 1)
            return fail(c, SM_ERR_FORMAT, "node '%s' (%s): %zu inputs, 1 expected", n->name, n->op, nin);
        if (n->op[0] == 'I') {
            act *a = NULL;
            if ((st = need_shape(c, n->name, in_name(n, 0), 0, &a)))
                return st;
            uint32_t nd = a->ndim;
            int32_t d[TJ_MAX_DIMS];
            memcpy(d, a->dims, sizeof d);
            return g_reshape(c, n->name, in_name(n, 0), nd, d);
        }
        return g_unary(c, n->op[0] == 'R' ? "RELU" : "SOFTMAX", n->name, in_name(n, 0));
    }
    if (!strcmp(n->op, "Mean")) {
        weight *ax = nin == 2 ? find_weight(c, in_name(n, 1)) : NULL;
        bool keep = false;
        if (!ax)
            return fail(c, SM_ERR_FORMAT, "node '%s' (Mean): 2 inputs expected, the second a Const of axes", n->name);
        if ((st = take_role(c, ax, ROLE_INTS, n->name)))
            return st;
        const int32_t *v = ax->data;
        bool hw = ax->numel == 2 && ((v[0] == 1 && v[1] == 2) || (v[0] == 2 && v[1] == 1));
        if (!hw)
            return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (Mean): only the mean over axes [1, 2] (NHWC spatial) is supported",
                        n->name);
        if (sm_json_get(n->attr, "keep_dims") && !attr_bool(n, "keep_dims", &keep))
            return fail(c, SM_ERR_FORMAT, "node '%s' (Mean): keep_dims is not a boolean", n->name);
        return g_mean(c, n->name, in_name(n, 0), keep);
    }
    if (!strcmp(n->op, "Reshape")) {
        weight *s = nin == 2 ? find_weight(c, in_name(n, 1)) : NULL;
        act *a = NULL;
        if (!s)
            return fail(c, SM_ERR_FORMAT, "node '%s' (Reshape): 2 inputs expected, the second a Const shape", n->name);
        if ((st = take_role(c, s, ROLE_INTS, n->name)) || (st = need_shape(c, n->name, in_name(n, 0), 0, &a)))
            return st;
        if (s->numel < 1 || s->numel > TJ_MAX_DIMS)
            return fail(c, SM_ERR_UNSUPPORTED, "node '%s' (Reshape): target rank %zu (1..%d)", n->name, s->numel,
                        TJ_MAX_DIMS);
        int64_t total = 1, known = 1;
        for (uint32_t i = 0; i < a->ndim; i++)
            total *= a->dims[i];
        int32_t d[TJ_MAX_DIMS];
        int infer = -1;
        const int32_t *v = s->data;
        for (size_t i = 0; i < s->numel; i++) {
            if (v[i] == -1 && infer < 0) {
                infer = (int)i;
                d[i] = 1;
            } else if (v[i] < 1 || v[i] > (1 << 24)) {
                return fail(c, SM_ERR_SHAPE, "node '%s' (Reshape): target dimension %d", n->name, (int)v[i]);
            } else {
                d[i] = v[i];
            }
            known *= d[i];
        }
        if (infer >= 0 && known > 0 && total % known == 0)
            d[infer] = (int32_t)(total / known);
        return g_reshape(c, n->name, in_name(n, 0), (uint32_t)s->numel, d);
    }
    return fail(c, SM_ERR_UNSUPPORTED, "node '%s': op '%s' is not supported", n->name, n->op);
}

static sm_status graph_build(tj *c, const sm_json *topo)
{
    const sm_json *nodes = sm_json_get(topo, "node");
    if (!nodes || nodes->type != SM_JSON_ARRAY || nodes->len == 0 || nodes->len > TJ_MAX_NODES)
        return fail(c, SM_ERR_FORMAT, "modelTopology.node missing, empty, not an array or longer than %d nodes",
                    TJ_MAX_NODES);
    size_t nn = nodes->len;
    node *n = calloc(nn, sizeof *n);
    size_t *order = calloc(nn, sizeof *order);
    size_t *consumers = calloc(nn, sizeof *consumers);
    sm_status st = n && order && consumers ? SM_OK : nomem(c);
    size_t n_ph = 0;
    name_map nmap = {0};
    for (size_t i = 0; i < nn && !st; i++) {
        const sm_json *j = &nodes->items[i];
        const sm_json *nm = sm_json_get(j, "name"), *op = sm_json_get(j, "op"), *in = sm_json_get(j, "input");
        if (!nm || nm->type != SM_JSON_STRING || !nm->len || nm->len >= 512 || !op || op->type != SM_JSON_STRING) {
            st = fail(c, SM_ERR_FORMAT, "modelTopology.node[%zu]: \"name\" and \"op\" strings expected", i);
            break;
        }
        n[i] = (node){j, nm->str, op->str, in, sm_json_get(j, "attr"), 0, 0};
        if (!op_allowed(op->str)) {
            st = fail(c, SM_ERR_UNSUPPORTED, "node '%s': op '%.60s' is not on the allow-list of TF.js ops", nm->str, op->str);
            break;
        }
        if (in && (in->type != SM_JSON_ARRAY || in->len > TJ_MAX_IN)) {
            st = fail(c, SM_ERR_FORMAT, "node '%s': \"input\" is not an array of at most %d names", nm->str, TJ_MAX_IN);
            break;
        }
        for (size_t k = 0; in && k < in->len && !st; k++) {
            sm_json *e = (sm_json *)&in->items[k];
            if (e->type != SM_JSON_STRING || !e->len)
                st = fail(c, SM_ERR_FORMAT, "node '%s': input %zu is not a name", nm->str, k);
            else if (e->str[0] == '^')
                st = fail(c, SM_ERR_UNSUPPORTED, "node '%s': control input '%s' is not supported", nm->str, e->str);
            else {
                /* "x:0" is output 0 of x; other outputs are not supported */
                char *colon = strrchr(e->str, ':');
                if (colon && !strcmp(colon, ":0"))
                    *colon = 0;
                else if (colon)
                    st = fail(c, SM_ERR_UNSUPPORTED, "node '%s': input '%s' names an output other than 0", nm->str, e->str);
            }
        }
        if (!st && map_find(&nmap, nm->str) != SIZE_MAX)
            st = fail(c, SM_ERR_FORMAT, "node '%s' is defined twice", nm->str);
        else if (!st && !map_put(&nmap, nm->str, i))
            st = nomem(c);
    }
    /* resolve inputs to node indices; Const nodes must be weights */
    size_t **edges = NULL;
    if (!st && !(edges = calloc(nn, sizeof *edges)))
        st = nomem(c);
    for (size_t i = 0; i < nn && !st; i++) {
        size_t nin = n[i].in ? n[i].in->len : 0;
        if (!(edges[i] = calloc(nin ? nin : 1, sizeof **edges))) {
            st = nomem(c);
            break;
        }
        if (!strcmp(n[i].op, "Const")) {
            if (nin)
                st = fail(c, SM_ERR_FORMAT, "node '%s' (Const) has inputs", n[i].name);
            else if (!find_weight(c, n[i].name))
                st = fail(c, SM_ERR_FORMAT, "node '%s' (Const) has no weight of that name in the weightsManifest", n[i].name);
        }
        if (!strcmp(n[i].op, "Placeholder") && nin)
            st = fail(c, SM_ERR_FORMAT, "node '%s' (Placeholder) has inputs", n[i].name);
        for (size_t k = 0; k < nin && !st; k++) {
            size_t j = map_find(&nmap, in_name(&n[i], k));
            if (j == SIZE_MAX) {
                st = fail(c, SM_ERR_FORMAT, "node '%s': input '%s' names no node of the graph (dangling input)", n[i].name,
                          in_name(&n[i], k));
                break;
            }
            edges[i][k] = j;
            consumers[j]++;
            if (strcmp(n[j].op, "Const"))
                n[i].pending++;
        }
    }
    /* Kahn's order over consumer lists (CSR); nodes left over sit on a cycle */
    size_t head = 0, tail = 0, *start = NULL, *users = NULL;
    if (!st && (!(start = calloc(nn + 1, sizeof *start)) || !(users = calloc(nn * TJ_MAX_IN + 1, sizeof *users))))
        st = nomem(c);
    for (size_t i = 0; i < nn && !st; i++)
        start[i + 1] = start[i] + consumers[i];
    for (size_t j = 0; j < nn && !st; j++) {
        size_t nin = n[j].in ? n[j].in->len : 0;
        for (size_t k = 0; k < nin; k++) {
            size_t i = edges[j][k];
            users[start[i] + --consumers[i]] = j; /* consumers[] is rebuilt below */
        }
    }
    for (size_t i = 0; i < nn && !st; i++)
        consumers[i] = start[i + 1] - start[i];
    for (size_t i = 0; i < nn && !st; i++)
        if (!n[i].pending && strcmp(n[i].op, "Const"))
            order[tail++] = i;
    while (!st && head < tail) {
        size_t i = order[head++];
        for (size_t u = start[i]; u < start[i + 1]; u++) {
            size_t j = users[u];
            /* a node that reads i twice is on the list twice: one decrement each */
            if (--n[j].pending == 0)
                order[tail++] = j;
        }
    }
    free(start);
    free(users);
    for (size_t i = 0; i < nn && !st; i++)
        if (n[i].pending)
            st = fail(c, SM_ERR_FORMAT, "the graph has a cycle through node '%s' (%s)", n[i].name, n[i].op);
    /* map in order */
    for (size_t q = 0; q < tail && !st; q++) {
        node *x = &n[order[q]];
        if (!strcmp(x->op, "Placeholder")) {
            const sm_json *dim = sm_json_get(sm_json_get(sm_json_get(x->attr, "shape"), "shape"), "dim");
            int32_t d[TJ_MAX_DIMS];
            if (++n_ph > 1) {
                st = fail(c, SM_ERR_UNSUPPORTED, "node '%s': more than one Placeholder (one graph input supported)", x->name);
                break;
            }
            if (!dim || dim->type != SM_JSON_ARRAY || dim->len < 1 || dim->len > TJ_MAX_DIMS) {
                st = fail(c, SM_ERR_FORMAT, "node '%s' (Placeholder): shape.dim missing or of rank above %d", x->name,
                          TJ_MAX_DIMS);
                break;
            }
            for (size_t k = 0; k < dim->len && !st; k++) {
                const sm_json *s = sm_json_get(&dim->items[k], "size");
                long long v = s && s->type == SM_JSON_STRING ? strtoll(s->str, NULL, 10) : s && s->type == SM_JSON_NUMBER ? (long long)s->num : 0;
                if (v == -1 && k == 0)
                    v = 1; /* the batch: one image */
                if (v < 1 || v > (1 << 24))
                    st = fail(c, SM_ERR_UNSUPPORTED, "node '%s' (Placeholder): dimension %zu is unknown or invalid", x->name, k);
                d[k] = (int32_t)v;
            }
            if (!st && !(c->in_name = dupstr(x->name)))
                st = nomem(c);
            if (!st)
                st = add_act(c, x->name, (uint32_t)dim->len, d);
            continue;
        }
        st = map_node(c, x);
    }
    if (!st && !c->in_name)
        st = fail(c, SM_ERR_FORMAT, "the graph has no Placeholder (input)");
    /* the output: the one computed node nobody consumes */
    for (size_t i = 0; i < nn && !st; i++) {
        if (consumers[i] || !strcmp(n[i].op, "Const") || !strcmp(n[i].op, "Placeholder"))
            continue;
        if (c->out_name) {
            st = fail(c, SM_ERR_UNSUPPORTED, "the graph has more than one output ('%s' and '%s')", c->out_name, n[i].name);
            break;
        }
        if (!(c->out_name = dupstr(n[i].name)))
            st = nomem(c);
    }
    if (!st && !c->out_name)
        st = fail(c, SM_ERR_FORMAT, "the graph has no output node");
    for (size_t i = 0; edges && i < nn; i++)
        free(edges[i]);
    free(edges);
    map_free(&nmap);
    free(n);
    free(order);
    free(consumers);
    return st;
}

/* ---- writing ------------------------------------------------------------------------------ */

static const char *key(tj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *key(tj *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->key, sizeof c->key, fmt, ap);
    va_end(ap);
    return c->key;
}

static sm_status write_graph(tj *c)
{
    sm_smw_writer *w = c->w;
    sm_error *e = c->err;
    sm_status st;
    act *in = find_act(c, c->in_name), *out = find_act(c, c->out_name);
    const char *ins[1] = {c->in_name}, *outs[1] = {c->out_name};
    if ((st = sm_smw_writer_add_array(w, "graph.inputs", SM_META_STRING, ins, 1, e)) ||
        (st = sm_smw_writer_add_array(w, "graph.outputs", SM_META_STRING, outs, 1, e)) ||
        (st = sm_smw_writer_add_array(w, "graph.input_shape.0", SM_META_I32, in->dims, in->ndim, e)) ||
        (st = sm_smw_writer_add_array(w, "graph.output_shape.0", SM_META_I32, out->dims, out->ndim, e)) ||
        (st = sm_smw_writer_add_u32(w, "graph.n_ops", (uint32_t)c->n_ops, e)))
        return st;
    const char **names = malloc(c->n_ops * sizeof *names);
    if (!names)
        return nomem(c);
    for (size_t i = 0; i < c->n_ops; i++)
        names[i] = c->ops[i].op;
    st = sm_smw_writer_add_array(w, "graph.ops", SM_META_STRING, names, c->n_ops, e);
    free(names);
    for (size_t i = 0; i < c->n_ops && !st; i++) {
        gop *o = &c->ops[i];
        const char *okeys[TJ_MAX_OPTS];
        const char *oo[1] = {o->out};
        if ((st = sm_smw_writer_add_string(w, key(c, "graph.op.%zu.op", i), o->op, e)) ||
            (st = sm_smw_writer_add_u32(w, key(c, "graph.op.%zu.version", i), 1, e)) ||
            (st = sm_smw_writer_add_array(w, key(c, "graph.op.%zu.inputs", i), SM_META_STRING, o->in, (size_t)o->n_in, e)) ||
            (st = sm_smw_writer_add_array(w, key(c, "graph.op.%zu.outputs", i), SM_META_STRING, oo, 1, e)) ||
            (st = sm_smw_writer_add_array(w, key(c, "graph.op.%zu.output_shape.0", i), SM_META_I32, o->dims, o->ndim, e)))
            break;
        for (int k = 0; k < o->n_opts && !st; k++) {
            const opt *p = &o->opts[k];
            const char *kk = key(c, "graph.op.%zu.%s", i, p->key);
            okeys[k] = p->key;
            switch (p->kind) {
            case OPT_STR: st = sm_smw_writer_add_string(w, kk, p->s, e); break;
            case OPT_I32: st = sm_smw_writer_add_i32(w, kk, p->i, e); break;
            case OPT_F32: st = sm_smw_writer_add_f32(w, kk, p->f, e); break;
            case OPT_BOOL: st = sm_smw_writer_add_bool(w, kk, p->i != 0, e); break;
            case OPT_INTS: st = sm_smw_writer_add_array(w, kk, SM_META_I32, p->ints, p->n, e); break;
            }
        }
        if (!st)
            st = sm_convert_check_node(c->path, i, o->op, (size_t)o->n_in, 1, okeys, (size_t)o->n_opts, e);
        if (!st)
            st = sm_smw_writer_add_array(w, key(c, "graph.op.%zu.options", i), SM_META_STRING, okeys, (size_t)o->n_opts, e);
    }
    for (size_t i = 0; i < c->n_wt && !st; i++) {
        weight *t = &c->wt[i];
        if (!t->stored)
            continue;
        uint64_t d[TJ_MAX_DIMS];
        for (uint32_t k = 0; k < t->ndim; k++)
            d[k] = (uint64_t)t->dims[k];
        if (c->opts->f16 && t->dtype == SM_DTYPE_F32) {
            /* the executor widens f16 tensors at load */
            uint16_t *h = malloc(t->numel ? t->numel * 2 : 2);
            if (!h)
                return nomem(c);
            for (size_t k = 0; k < t->numel; k++)
                h[k] = sm_f32_to_f16(((float *)t->data)[k]);
            st = sm_smw_writer_add_tensor(w, t->name, SM_DTYPE_F16, t->ndim, d, h, e);
            free(h);
        } else {
            st = sm_smw_writer_add_tensor(w, t->name, t->dtype, t->ndim, d, t->data, e);
        }
    }
    return st;
}

static sm_status write_meta(tj *c, const char *format, const sm_json *root, sm_convert_summary *summary)
{
    sm_smw_writer *w = c->w;
    sm_error *e = c->err;
    sm_status st;
    if ((st = sm_smw_writer_add_string(w, "tfjs.format", format, e)))
        return st;
    static const char *const keys[] = {"generatedBy", "convertedBy"};
    static const char *const mkeys[] = {"tfjs.generated_by", "tfjs.converted_by"};
    for (int i = 0; i < 2 && !st; i++) {
        const sm_json *v = sm_json_get(root, keys[i]);
        if (v && v->type == SM_JSON_STRING)
            st = sm_smw_writer_add_string(w, mkeys[i], v->str, e);
    }
    if (!st)
        st = sm_smw_writer_add_array(w, "tfjs.shards", SM_META_STRING, (const char *const *)c->shards, c->n_shards, e);
    if (!st) {
        const char **sha = malloc((c->n_shards ? c->n_shards : 1) * sizeof *sha);
        if (!sha)
            return nomem(c);
        for (size_t i = 0; i < c->n_shards; i++)
            sha[i] = c->shard_sha[i];
        st = sm_smw_writer_add_array(w, "tfjs.shards_sha256", SM_META_STRING, sha, c->n_shards, e);
        free(sha);
    }
    char q[160];
    snprintf(q, sizeof q, "%zu uint8, %zu uint16, %zu float16 weights dequantised to float32 at conversion",
             c->n_quant[0], c->n_quant[1], c->n_quant[2]);
    if (!st)
        st = sm_smw_writer_add_string(w, "tfjs.quantization", q, e);
    size_t used = strlen(summary->notes);
    size_t stored = 0, params = 0;
    for (size_t i = 0; i < c->n_wt; i++)
        if (c->wt[i].stored) {
            stored++;
            params += c->wt[i].numel;
        }
    used += (size_t)snprintf(summary->notes + used, sizeof summary->notes - used,
                             "%sTF.js %s: %zu weights in %zu shard(s), %zu stored (%zu values) in TFLite layout, %zu graph ops"
                             "\nquantisation: %s",
                             used ? "\n" : "", format, c->n_wt, c->n_shards, stored, params, c->n_ops, q);
    for (size_t i = 0; i < c->n_wt && used < sizeof summary->notes; i++)
        if (c->wt[i].role == ROLE_NONE)
            used += (size_t)snprintf(summary->notes + used, sizeof summary->notes - used,
                                     "\nweight '%s' is not used by the graph and was left out", c->wt[i].name);
    return st;
}

/* --meta-free metadata the architecture implies. */
static sm_status faceapi_meta(tj *c)
{
    sm_smw_writer *w = c->w;
    sm_error *e = c->err;
    sm_status st;
    static const char *const labels[7] = {"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"};
    const char *lab[8];
    char *storage = NULL;
    size_t n_lab = 7;
    for (int i = 0; i < 7; i++)
        lab[i] = labels[i];
    if (c->opts->labels) {
        if ((st = sm_convert_split_labels(c->opts->labels, &storage, lab, 8, &n_lab, e))) {
            free(storage);
            return st;
        }
        if (n_lab != 7) {
            free(storage);
            return fail(c, SM_ERR_ARG, "--labels gives %zu labels; FaceExpressionNet has 7 outputs", n_lab);
        }
    }
    float mean[3] = {122.782f, 117.001f, 104.298f}, sd[3] = {255.0f, 255.0f, 255.0f};
    if (c->opts->n_mean)
        memcpy(mean, c->opts->mean, sizeof mean);
    if (c->opts->n_std)
        memcpy(sd, c->opts->std, sizeof sd);
    uint32_t size = 112;
    if (c->opts->input_size && c->opts->input_size != 112) {
        free(storage);
        return fail(c, SM_ERR_ARG, "--input-size %d but FaceExpressionNet's input is fixed at 112", c->opts->input_size);
    }
    st = sm_smw_writer_add_array(w, "emotion.labels", SM_META_STRING, lab, 7, e);
    free(storage);
    if (st || (st = sm_smw_writer_add_u32(w, "input.size", size, e)) ||
        (st = sm_smw_writer_add_array(w, "input.mean", SM_META_F32, mean, 3, e)) ||
        (st = sm_smw_writer_add_array(w, "input.std", SM_META_F32, sd, 3, e)) ||
        (st = sm_smw_writer_add_string(w, "input.normalization",
                                       "(x - input.mean) / input.std with x the RGB value in 0..255 (face-api: "
                                       "normalize(x, meanRgb).div(255)); the graph input is already normalised",
                                       e)) ||
        (st = sm_smw_writer_add_string(w, "input.layout", "NHWC [1,112,112,3] RGB", e)) ||
        (st = sm_smw_writer_add_string(w, "output.meaning",
                                       "probabilities [1,7] in emotion.labels order (softmax appended as a graph op, "
                                       "as FaceExpressionNet.forwardInput applies tf.softmax in JS)",
                                       e)) ||
        (st = sm_smw_writer_add_string(w, "model.name", "face-api FaceExpressionNet", e)))
        return st;
    return SM_OK;
}

/* --labels for a graph model: one per value of the output's last axis. */
static sm_status graph_labels(tj *c)
{
    const char *lab[256];
    char *storage = NULL;
    size_t n;
    act *o = find_act(c, c->out_name);
    sm_status st = sm_convert_split_labels(c->opts->labels, &storage, lab, 256, &n, c->err);
    if (st) {
        free(storage);
        return st;
    }
    if (!o || o->ndim < 1 || (size_t)o->dims[o->ndim - 1] != n)
        st = fail(c, SM_ERR_ARG, "--labels gives %zu labels but the output '%s' has %d values per row", n, c->out_name,
                  o && o->ndim ? (int)o->dims[o->ndim - 1] : 0);
    else
        st = sm_smw_writer_add_array(c->w, "emotion.labels", SM_META_STRING, lab, n, c->err);
    free(storage);
    return st;
}

/* ---- entry points ----------------------------------------------------------------------------- */

static void tj_free(tj *c)
{
    for (size_t i = 0; i < c->n_wt; i++) {
        free(c->wt[i].name);
        free(c->wt[i].data);
    }
    free(c->wt);
    for (size_t i = 0; i < c->n_a; i++)
        free(c->a[i].name);
    free(c->a);
    for (size_t i = 0; i < c->n_ops; i++) {
        for (int k = 0; k < c->ops[i].n_in; k++)
            free(c->ops[i].in[k]);
        free(c->ops[i].out);
    }
    free(c->ops);
    for (size_t i = 0; i < c->n_shards; i++)
        free(c->shards[i]);
    free(c->shards);
    free(c->shard_sha);
    free(c->in_name);
    free(c->out_name);
    map_free(&c->wmap);
    map_free(&c->amap);
}

bool sm_tfjs_sniff(const uint8_t *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    return i < len && (buf[i] == '{' || buf[i] == '[');
}

sm_status sm_convert_tfjs_with(const uint8_t *buf, size_t len, const char *path, sm_tfjs_read_fn read, void *read_ctx,
                               const sm_convert_opts *opts, sm_smw_writer *w, sm_convert_summary *summary,
                               sm_error *err)
{
    sm_convert_opts defaults = {0};
    sm_convert_summary unused;
    if (!summary)
        summary = &unused;
    memset(summary, 0, sizeof *summary);
    tj c;
    memset(&c, 0, sizeof c);
    c.path = path ? path : "<buffer>";
    c.opts = opts ? opts : &defaults;
    c.w = w;
    c.err = err;
    c.read = read;
    c.read_ctx = read_ctx;
    sm_json *root = NULL;
    sm_status st = sm_json_parse(buf, len, c.path, &root, err);
    if (st)
        return st;
    const char *arch = NULL, *format = NULL;
    const sm_json *topo = NULL;
    if (root->type == SM_JSON_ARRAY) {
        format = "weights-manifest";
        st = read_manifest(&c, root);
    } else if (root->type == SM_JSON_OBJECT) {
        topo = sm_json_get(root, "modelTopology");
        const sm_json *man = sm_json_get(root, "weightsManifest");
        if (topo && !sm_json_get(topo, "node"))
            st = fail(&c, SM_ERR_UNSUPPORTED,
                      "a TF.js layers model (modelTopology without \"node\"): only graph models and weights-only manifests are supported");
        else if (!man)
            st = fail(&c, SM_ERR_FORMAT, "JSON object without \"weightsManifest\": not a TF.js model.json");
        else {
            format = topo ? "graph-model" : "weights-manifest";
            st = read_manifest(&c, man);
        }
    } else {
        st = fail(&c, SM_ERR_FORMAT, "JSON %s at the top level: not a TF.js model.json or weights manifest",
                  sm_json_type_name(root->type));
    }
    const char *want = c.opts->arch;
    if (!st && topo) {
        arch = "tfjs_graph";
        if (want && strcmp(want, "raw") && strcmp(want, arch))
            st = fail(&c, SM_ERR_ARG, "--arch %s does not match a TF.js graph model (tfjs_graph)", want);
        if (!st && (c.opts->n_mean || c.opts->n_std || c.opts->input_size))
            st = fail(&c, SM_ERR_ARG, "--mean, --std and --input-size do not apply to a TF.js graph model "
                                      "(use --meta to record its preprocessing)");
        if (!st)
            st = graph_build(&c, topo);
        if (!st && c.opts->labels)
            st = graph_labels(&c);
    } else if (!st) {
        arch = "faceapi_expression_net";
        if (want && strcmp(want, arch))
            st = fail(&c, SM_ERR_ARG, "--arch %s: the only weights-only TF.js architecture is faceapi_expression_net", want);
        else if (!want && !looks_faceapi_expression(&c))
            st = fail(&c, SM_ERR_UNSUPPORTED,
                      "unrecognised weights-only manifest (%zu weights, first '%s'): the architecture of a weights-only "
                      "TF.js model must be known to the converter (supported: face-api FaceExpressionNet)",
                      c.n_wt, c.n_wt ? c.wt[0].name : "none");
        if (!st && !(st = faceapi_check(&c)))
            st = faceapi_build(&c);
        if (!st)
            st = faceapi_meta(&c);
    }
    if (!st)
        st = write_graph(&c);
    if (!st)
        st = write_meta(&c, format, root->type == SM_JSON_OBJECT ? root : NULL, summary);
    if (!st)
        snprintf(summary->arch, sizeof summary->arch, "%s", arch);
    tj_free(&c);
    sm_json_free(root);
    return st;
}

/* Shards live next to the model file; a symlink may not lead out of that folder. */
static sm_status read_shard_file(void *ctx, const char *model_path, const char *rel, size_t limit, uint8_t **buf,
                                 size_t *len, sm_error *err)
{
    (void)ctx;
    const char *slash = strrchr(model_path, '/');
    size_t dl = slash ? (size_t)(slash - model_path) : 1;
    char dir[4096], full[8192];
    if (dl >= sizeof dir)
        return sm_error_set(err, SM_ERR_ARG, "%s: path too long", model_path);
    if (slash)
        memcpy(dir, model_path, dl);
    else
        dir[0] = '.';
    dir[dl] = 0;
    if (slash && dl == 0)
        snprintf(dir, sizeof dir, "/");
    snprintf(full, sizeof full, "%s/%s", dir, rel);
    char *rd = realpath(dir, NULL), *rf = realpath(full, NULL);
    if (!rf) {
        free(rd);
        return sm_error_set(err, SM_ERR_IO, "%s: shard '%s' is missing (%s not found)", model_path, rel, full);
    }
    size_t n = rd ? strlen(rd) : 0;
    bool inside = rd && strncmp(rf, rd, n) == 0 && (rf[n] == '/' || (n == 1 && rd[0] == '/'));
    free(rd);
    free(rf);
    if (!inside)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: shard '%s' resolves outside the model's folder (symlink?)", model_path,
                            rel);
    struct stat sb;
    if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > limit)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: shard '%s' is longer than the manifest says: %lld bytes where its group needs only %zu "
                            "more",
                            model_path, rel, (long long)sb.st_size, limit);
    sm_status st = sm_file_read_all(full, limit ? limit : 1, buf, len, err);
    if (st)
        sm_error_prefix(err, "%s: shard '%s'", model_path, rel);
    return st;
}

sm_status sm_convert_tfjs(const uint8_t *buf, size_t len, const char *path, const sm_convert_opts *opts,
                          sm_smw_writer *w, sm_convert_summary *summary, sm_error *err)
{
    return sm_convert_tfjs_with(buf, len, path, read_shard_file, NULL, opts, w, summary, err);
}

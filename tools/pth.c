/* PyTorch .pth reader: zip container + restricted pickle -> named tensors ->
 * architecture check -> .smw tensors and metadata (conventions in docs/CONVERTER.md). */
#include "convert_util.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;      /* points into the pickle (after any "module." prefix) */
    sm_pk_etype et;
    int ndim;
    int64_t dims[SM_PICKLE_MAX_DIMS];
    size_t numel;
    void *data;            /* contiguous copy in et */
} host_tensor;

typedef struct {
    const char *name;
    int ndim;
    int64_t dims[4];
} expected_tensor;

static const expected_tensor novel_emotion_keys[] = {
#include "novel_emotion_keys.inc"
};

static const expected_tensor rppg_keys[] = {
    {"conv.0.weight", 4, {16, 3, 5, 5}}, {"conv.0.bias", 1, {16}},
    {"conv.3.weight", 4, {32, 16, 3, 3}}, {"conv.3.bias", 1, {32}},
    {"fc.0.weight", 2, {64, 288}}, {"fc.0.bias", 1, {64}},
    {"fc.3.weight", 2, {32, 64}}, {"fc.3.bias", 1, {32}},
    {"fc.5.weight", 2, {1, 32}}, {"fc.5.bias", 1, {1}},
};

static const char *const default_emotion_labels[8] = {"angry", "disgust", "fear", "happy",
                                                      "neutral", "sad", "surprise", "tired"};

typedef struct {
    const char *path;
    sm_zip zip;
    char root[1024];          /* "<root>/" prefix of data.pkl */
    host_tensor *t;
    size_t n;
    uint64_t total_bytes;     /* materialised so far */
} pth_ctx;

static void ctx_free(pth_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->t[i].data);
    free(c->t);
    sm_zip_free(&c->zip);
}

/* Copies the (possibly strided, offset) view of a storage into a contiguous buffer. */
static sm_status materialize(pth_ctx *c, const char *name, const sm_pobj *t, host_tensor *out, sm_error *err)
{
    const sm_pobj *s = t->storage;
    size_t sz = sm_pk_etype_size(s->etype);
    char ename[2200];
    snprintf(ename, sizeof ename, "%sdata/%s", c->root, s->s);
    const sm_zip_entry *e = sm_zip_find(&c->zip, ename);
    if (!e)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': storage '%s' is missing from the zip",
                            c->path, name, ename);
    const uint8_t *data;
    size_t size;
    sm_status st = sm_zip_data(&c->zip, e, c->path, &data, &size, err);
    if (st != SM_OK)
        return st;
    size_t have = size / sz;
    if (have > s->numel)
        have = (size_t)s->numel;   /* never read beyond what the pickle declares either */
    uint64_t numel = 1, last = (uint64_t)t->i;
    bool empty = false;
    for (int d = 0; d < t->ndim; d++) {
        if (t->dims[d] == 0)
            empty = true;
        uint64_t span;
        if (!sm_u64_mul(numel, (uint64_t)t->dims[d], &numel) ||
            (t->dims[d] > 0 && (!sm_u64_mul((uint64_t)(t->dims[d] - 1), (uint64_t)t->strides[d], &span) ||
                                !sm_u64_add(last, span, &last))))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s': size/stride overflow", c->path, name);
    }
    if (!empty && (last >= have || numel > SIZE_MAX / 8))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: tensor '%s': storage '%s' holds %zu %s elements (%zu bytes, %llu declared) but the view "
                            "(offset %lld, size x stride) needs %llu",
                            c->path, name, ename, have, sm_pk_etype_name(s->etype), size,
                            (unsigned long long)s->numel, (long long)t->i, (unsigned long long)last + 1);
    /* Stride-0 views may repeat a storage; refuse views that would blow a small
     * file up into gigabytes, and cap what all tensors together may expand to. */
    if (!empty && numel > (uint64_t)have * 64 + 4096)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: tensor '%s': a view of %llu elements over a storage of %zu elements (more than 64x)",
                            c->path, name, (unsigned long long)numel, have);
    if (!empty && !sm_u64_add(c->total_bytes, numel * sz, &c->total_bytes))
        c->total_bytes = UINT64_MAX;
    if (c->total_bytes > (uint64_t)c->zip.len * 4 + (64u << 20))
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: the tensors would expand to more than 4x the file size (%llu bytes); shared storages?",
                            c->path, (unsigned long long)c->total_bytes);
    out->name = name;
    out->et = s->etype;
    out->ndim = t->ndim;
    memcpy(out->dims, t->dims, sizeof out->dims);
    out->numel = empty ? 0 : (size_t)numel;
    out->data = malloc(out->numel * sz + 1);
    if (!out->data)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for tensor '%s'", c->path, name);
    int64_t idx[SM_PICKLE_MAX_DIMS] = {0};
    uint8_t *dst = out->data;
    for (size_t k = 0; k < out->numel; k++) {
        uint64_t off = (uint64_t)t->i;
        for (int d = 0; d < t->ndim; d++)
            off += (uint64_t)idx[d] * (uint64_t)t->strides[d];
        memcpy(dst + k * sz, data + off * sz, sz);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return SM_OK;
}

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const host_tensor *)a)->name, ((const host_tensor *)b)->name);
}

static host_tensor *find(pth_ctx *c, const char *name)
{
    host_tensor key = {.name = name};
    return bsearch(&key, c->t, c->n, sizeof *c->t, cmp_tensor_name);
}

static void list_keys(const sm_pobj *d, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i + 1 < d->n && k < cap; i += 2) {
        const sm_pobj *key = d->items[i];
        if (i >= 16) {
            snprintf(out + k, cap - k, ", ...");
            break;
        }
        k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? ", " : "",
                              key->kind == SM_PK_STR ? key->s : sm_pk_kind_name(key->kind));
    }
}

static sm_status collect(pth_ctx *c, const sm_pobj *top, sm_convert_summary *sum, sm_error *err)
{
    if (top->kind != SM_PK_DICT)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: the checkpoint holds a %s, expected a state_dict (dict of tensors)",
                            c->path, sm_pk_kind_name(top->kind));
    const sm_pobj *sd = top;
    static const char *const wrappers[] = {"state_dict", "model", "model_state_dict"};
    for (size_t i = 0; i < 3; i++) {
        const sm_pobj *v = sm_pk_dict_get(top, wrappers[i]);
        if (v && v->kind == SM_PK_DICT) {
            sd = v;
            sm_convert_note(sum, "state_dict taken from checkpoint['%s']", wrappers[i]);
            break;
        }
    }
    c->t = calloc(sd->n / 2 + 1, sizeof *c->t);
    if (!c->t)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c->path);
    size_t stripped = 0;
    for (size_t i = 0; i + 1 < sd->n; i += 2) {
        const sm_pobj *k = sd->items[i], *v = sd->items[i + 1];
        if (k->kind != SM_PK_STR || v->kind != SM_PK_TENSOR) {
            char keys[400];
            list_keys(top, keys, sizeof keys);
            return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                "%s: entry '%s' is a %s, not a tensor: not a state_dict (top-level keys: %s)", c->path,
                                k->kind == SM_PK_STR ? k->s : sm_pk_kind_name(k->kind), sm_pk_kind_name(v->kind), keys);
        }
        const char *name = k->s;
        if (!strncmp(name, "module.", 7)) {
            name += 7;
            stripped++;
        }
        sm_status st = materialize(c, name, v, &c->t[c->n], err);
        if (st != SM_OK)
            return st;
        c->n++;
    }
    if (stripped)
        sm_convert_note(sum, "stripped the 'module.' prefix from %zu names", stripped);
    qsort(c->t, c->n, sizeof *c->t, cmp_tensor_name);
    for (size_t i = 1; i < c->n; i++)
        if (!strcmp(c->t[i].name, c->t[i - 1].name))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s' appears twice", c->path, c->t[i].name);
    if (!c->n)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: the state_dict is empty", c->path);
    return SM_OK;
}

/* Adds one tensor: floats as f32 (f16 with --f16), integers as i64. */
static sm_status add_known(const host_tensor *h, const sm_convert_opts *opts, sm_smw_writer *w, sm_error *err)
{
    uint64_t dims[4];
    for (int d = 0; d < h->ndim; d++)
        dims[d] = (uint64_t)h->dims[d];
    sm_status st;
    if (sm_etype_is_float(h->et)) {
        float *f = malloc(h->numel * sizeof *f + 1);
        if (!f)
            return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
        sm_convert_to_f32(h->et, h->data, h->numel, f);
        if (opts->f16) {
            uint16_t *hf = (uint16_t *)f;   /* in place: 2-byte writes trail the 4-byte reads */
            for (size_t i = 0; i < h->numel; i++)
                hf[i] = sm_f32_to_f16(f[i]);
            st = sm_smw_writer_add_tensor(w, h->name, SM_DTYPE_F16, (uint32_t)h->ndim, dims, hf, err);
        } else {
            st = sm_smw_writer_add_tensor(w, h->name, SM_DTYPE_F32, (uint32_t)h->ndim, dims, f, err);
        }
        free(f);
        return st;
    }
    int64_t *v = malloc(h->numel * sizeof *v + 1);
    if (!v)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h->numel; i++) {
        double d;
        if (h->et == SM_PK_I64) {
            memcpy(&v[i], (const uint8_t *)h->data + 8 * i, 8);
            continue;
        }
        sm_convert_to_f64(h->et, (const uint8_t *)h->data + i * sm_pk_etype_size(h->et), 1, &d);
        v[i] = (int64_t)d;
    }
    st = sm_smw_writer_add_tensor(w, h->name, SM_DTYPE_I64, (uint32_t)h->ndim, dims, v, err);
    free(v);
    return st;
}

static sm_status check_and_add(pth_ctx *c, const char *arch, const expected_tensor *ex, size_t n_ex,
                               const sm_convert_opts *opts, sm_smw_writer *w, sm_error *err)
{
    char want[96], got[96];
    for (size_t i = 0; i < n_ex; i++) {
        const host_tensor *h = find(c, ex[i].name);
        sm_convert_dims_str(ex[i].ndim, ex[i].dims, want, sizeof want);
        if (!h)
            return sm_error_set(err, SM_ERR_SHAPE, "%s: %s: tensor '%s' %s is missing from the state_dict",
                                c->path, arch, ex[i].name, want);
        sm_convert_dims_str(h->ndim, h->dims, got, sizeof got);
        if (h->ndim != ex[i].ndim || memcmp(h->dims, ex[i].dims, (size_t)h->ndim * sizeof h->dims[0]))
            return sm_error_set(err, SM_ERR_SHAPE, "%s: %s: tensor '%s' has shape %s, expected %s",
                                c->path, arch, ex[i].name, got, want);
        bool want_int = strstr(ex[i].name, "num_batches_tracked") != NULL;
        if (want_int == sm_etype_is_float(h->et) || h->et == SM_PK_BOOLT)
            return sm_error_set(err, SM_ERR_SHAPE, "%s: %s: tensor '%s' has dtype %s, expected %s", c->path, arch,
                                ex[i].name, sm_pk_etype_name(h->et), want_int ? "an integer type" : "a float type");
    }
    if (c->n != n_ex) {
        for (size_t i = 0; i < c->n; i++) {
            bool known = false;
            for (size_t j = 0; j < n_ex && !known; j++)
                known = !strcmp(c->t[i].name, ex[j].name);
            if (!known)
                return sm_error_set(err, SM_ERR_SHAPE, "%s: %s: unexpected tensor '%s' (not part of the architecture)",
                                    c->path, arch, c->t[i].name);
        }
    }
    for (size_t i = 0; i < n_ex; i++) {   /* the state_dict's own order */
        sm_status st = add_known(find(c, ex[i].name), opts, w, err);
        if (st != SM_OK)
            return st;
    }
    return SM_OK;
}

static sm_status add_raw(pth_ctx *c, const sm_convert_opts *opts, sm_smw_writer *w, sm_convert_summary *sum,
                         sm_error *err)
{
    for (size_t i = 0; i < c->n; i++) {
        const host_tensor *h = &c->t[i];
        if (h->ndim > SM_SMW_MAX_DIMS)
            return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions (.smw holds at most %d)",
                                c->path, h->name, h->ndim, SM_SMW_MAX_DIMS);
        uint64_t dims[4];
        for (int d = 0; d < h->ndim; d++)
            dims[d] = (uint64_t)h->dims[d];
        sm_dtype dt;
        sm_status st;
        switch (h->et) {
        case SM_PK_F32: case SM_PK_BF16: dt = SM_DTYPE_F32; break;
        case SM_PK_F16: dt = SM_DTYPE_F16; break;
        case SM_PK_F64: dt = SM_DTYPE_F64; break;
        case SM_PK_I64: dt = SM_DTYPE_I64; break;
        case SM_PK_U8: case SM_PK_BOOLT: dt = SM_DTYPE_U8; break;
        default: dt = SM_DTYPE_I32; break;
        }
        if (h->et == SM_PK_F32 || h->et == SM_PK_BF16) {
            st = add_known(h, opts, w, err);
        } else if (h->et == SM_PK_I16 || h->et == SM_PK_I8) {
            int32_t *v = malloc(h->numel * 4 + 1);
            if (!v)
                return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < h->numel; k++)
                v[k] = h->et == SM_PK_I8 ? ((const int8_t *)h->data)[k] : ((const int16_t *)h->data)[k];
            st = sm_smw_writer_add_tensor(w, h->name, dt, (uint32_t)h->ndim, dims, v, err);
            free(v);
        } else {
            st = sm_smw_writer_add_tensor(w, h->name, dt, (uint32_t)h->ndim, dims, h->data, err);
        }
        if (st != SM_OK)
            return st;
        if (h->et == SM_PK_BF16 && !opts->f16)
            sm_convert_note(sum, "tensor '%s': bfloat16 stored as float32", h->name);
    }
    return SM_OK;
}

sm_status sm_convert_pth(const uint8_t *buf, size_t len, const char *path, const sm_convert_opts *opts,
                         sm_smw_writer *w, sm_convert_summary *sum, sm_error *err)
{
    pth_ctx c = {.path = path};
    sm_pickle *pk = NULL;
    sm_pobj *top;
    sm_status st = sm_zip_open(&c.zip, buf, len, path, err);
    if (st != SM_OK)
        return st;
    size_t count;
    const sm_zip_entry *pe = sm_zip_find_suffix(&c.zip, "data.pkl", &count);
    if (!pe) {
        if (count)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: zip holds %zu data.pkl entries, expected one", path, count);
        else
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: zip holds no data.pkl entry (not a torch.save checkpoint)", path);
        goto done;
    }
    size_t nl = strlen(pe->name) - strlen("data.pkl");
    if (nl >= sizeof c.root || (nl && pe->name[nl - 1] != '/')) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: unexpected pickle entry name '%s'", path, pe->name);
        goto done;
    }
    memcpy(c.root, pe->name, nl);
    c.root[nl] = '\0';
    const sm_zip_entry *bo = NULL;
    char bname[1100];
    snprintf(bname, sizeof bname, "%sbyteorder", c.root);
    if ((bo = sm_zip_find(&c.zip, bname))) {
        const uint8_t *d;
        size_t n;
        if ((st = sm_zip_data(&c.zip, bo, path, &d, &n, err)) != SM_OK)
            goto done;
        if (!(n == 6 && !memcmp(d, "little", 6))) {
            st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: byteorder is '%.*s'; only little-endian checkpoints are supported",
                              path, (int)(n < 16 ? n : 16), (const char *)d);
            goto done;
        }
    }
    const uint8_t *pkl;
    size_t pkl_len;
    if ((st = sm_zip_data(&c.zip, pe, path, &pkl, &pkl_len, err)) != SM_OK)
        goto done;
    char pname[1200];
    snprintf(pname, sizeof pname, "%s: %s", path, pe->name);
    if ((st = sm_pickle_load(pkl, pkl_len, pname, false, &pk, &top, err)) != SM_OK)
        goto done;
    if ((st = collect(&c, top, sum, err)) != SM_OK)
        goto done;

    const char *arch = opts->arch;
    if (!arch) {
        if (find(&c, "backbone.conv_stem.weight") || find(&c, "micro.conv.0.weight") || find(&c, "routing.gate.weight"))
            arch = "novel_emotion_effnet_b3";
        else if (find(&c, "conv.0.weight") && find(&c, "fc.5.weight"))
            arch = "ultralight_rppg";
        else {
            char list[600];
            size_t k = 0;
            list[0] = '\0';
            for (size_t i = 0; i < c.n && i < 6 && k < sizeof list; i++) {
                char d[96];
                sm_convert_dims_str(c.t[i].ndim, c.t[i].dims, d, sizeof d);
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s %s", i ? ", " : "", c.t[i].name, d);
            }
            st = sm_error_set(err, SM_ERR_UNSUPPORTED,
                              "%s: unknown architecture: %zu tensors (%s%s) match neither novel_emotion_effnet_b3 nor "
                              "ultralight_rppg; use --arch raw to store them as they are",
                              path, c.n, list, c.n > 6 ? ", ..." : "");
            goto done;
        }
    }
    snprintf(sum->arch, sizeof sum->arch, "%s", arch);
    if (!strcmp(arch, "novel_emotion_effnet_b3")) {
        const char *labels[64];
        char *store = NULL;
        size_t nlab = 8;
        memcpy(labels, default_emotion_labels, sizeof default_emotion_labels);
        if (opts->labels) {
            st = sm_convert_split_labels(opts->labels, &store, labels, 64, &nlab, err);
            if (st == SM_OK && nlab != 8)
                st = sm_error_set(err, SM_ERR_ARG, "--labels: %zu labels given, the emotion head has 8 outputs", nlab);
        } else {
            sm_convert_note(sum, "emotion.labels = angry,disgust,fear,happy,neutral,sad,surprise,tired (the fine-tune's "
                                 "alphabetical order); app.py's EMOTION_CLASSES list differs and is wrong for this "
                                 "checkpoint; use --labels to override");
        }
        if (st == SM_OK)
            st = check_and_add(&c, arch, novel_emotion_keys, sizeof novel_emotion_keys / sizeof novel_emotion_keys[0],
                               opts, w, err);
        if (st == SM_OK)
            st = sm_smw_writer_add_array(w, "emotion.labels", SM_META_STRING, labels, nlab, err);
        free(store);
        if (st == SM_OK)
            st = sm_convert_add_input_meta(opts, 300, w, err);
    } else if (!strcmp(arch, "ultralight_rppg")) {
        st = check_and_add(&c, arch, rppg_keys, sizeof rppg_keys / sizeof rppg_keys[0], opts, w, err);
        if (st == SM_OK)
            st = sm_convert_add_input_meta(opts, 36, w, err);
        if (st == SM_OK)
            st = sm_smw_writer_add_u32(w, "input.frames", 180, err);
        if (opts->labels)
            sm_convert_note(sum, "--labels ignored for ultralight_rppg");
    } else if (!strcmp(arch, "raw")) {
        st = add_raw(&c, opts, w, sum, err);
        if (st == SM_OK && (opts->input_size > 0 || opts->n_mean || opts->n_std))
            st = sm_convert_add_input_meta(opts, 0, w, err);
    } else {
        st = sm_error_set(err, SM_ERR_ARG,
                          "--arch %s: not a PyTorch architecture (novel_emotion_effnet_b3, ultralight_rppg, raw)", arch);
    }
done:
    sm_pickle_free(pk);
    ctx_free(&c);
    return st;
}

/* joblib / scikit-learn reader: Pipeline(StandardScaler, MLPClassifier) or a
 * bare MLPClassifier, pickled by joblib.dump(compress=0). Arrays are kept in
 * float64 (conventions in docs/CONVERTER.md). */
#include "convert_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const uint8_t magic[6];
    size_t n;
    const char *name;
} compress_magic[] = {
    {{0x78}, 1, "zlib"}, {{0x1f, 0x8b}, 2, "gzip"}, {{'B', 'Z'}, 2, "bz2"},
    {{0xfd, '7', 'z', 'X', 'Z'}, 5, "xz"}, {{0x5d, 0x00}, 2, "lzma"},
    {{0x04, 0x22, 0x4d, 0x18}, 4, "lz4"}, {{'Z', 'F'}, 2, "legacy zlib ('ZF')"},
};

const char *sm_joblib_compression(const uint8_t *buf, size_t len);
const char *sm_joblib_compression(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < sizeof compress_magic / sizeof compress_magic[0]; i++)
        if (len >= compress_magic[i].n && !memcmp(buf, compress_magic[i].magic, compress_magic[i].n))
            return compress_magic[i].name;
    return NULL;
}

static bool class_is(const sm_pobj *o, const char *suffix)
{
    if (!o || o->kind != SM_PK_OBJECT || !o->s)
        return false;
    size_t n = strlen(o->s), k = strlen(suffix);
    return n > k && o->s[n - k - 1] == '.' && !strcmp(o->s + n - k, suffix);
}

static sm_status add_f64(const char *path, const char *name, const sm_pobj *a, int want_ndim, sm_smw_writer *w,
                         sm_error *err)
{
    if (!a || a->kind != SM_PK_NDARRAY)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: '%s' is %s, expected a numpy array", path, name,
                            a ? sm_pk_kind_name(a->kind) : "missing");
    if (a->ndim != want_ndim || !sm_etype_is_float(a->etype))
        return sm_error_set(err, SM_ERR_SHAPE, "%s: '%s' is a %d-d %s array, expected a %d-d float array", path, name,
                            a->ndim, sm_pk_etype_name(a->etype), want_ndim);
    double *d = malloc(a->numel * sizeof *d + 1);
    if (!d)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    sm_convert_to_f64(a->etype, a->data, a->numel, d);
    uint64_t dims[2] = {(uint64_t)a->dims[0], want_ndim > 1 ? (uint64_t)a->dims[1] : 0};
    sm_status st = sm_smw_writer_add_tensor(w, name, SM_DTYPE_F64, (uint32_t)want_ndim, dims, d, err);
    free(d);
    return st;
}

static const char *str_attr(const sm_pobj *state, const char *key)
{
    const sm_pobj *v = sm_pk_dict_get(state, key);
    return v && v->kind == SM_PK_STR ? v->s : NULL;
}

static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

static sm_status convert_mlp(const char *path, const sm_pobj *scaler, const char *scaler_name, const sm_pobj *mlp,
                             const char *const *steps, size_t n_steps, sm_smw_writer *w, sm_convert_summary *sum,
                             sm_error *err)
{
    const sm_pobj *ms = mlp->state;
    if (!ms || ms->kind != SM_PK_DICT)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: MLPClassifier has no state", path);
    const sm_pobj *coefs = sm_pk_dict_get(ms, "coefs_"), *icepts = sm_pk_dict_get(ms, "intercepts_");
    if (!coefs || coefs->kind != SM_PK_LIST || !icepts || icepts->kind != SM_PK_LIST)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: MLPClassifier lacks coefs_/intercepts_ lists (not fitted?)", path);
    if (coefs->n == 0 || coefs->n != icepts->n)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: MLPClassifier has %zu coefs_ but %zu intercepts_", path, coefs->n,
                            icepts->n);
    const char *act = str_attr(ms, "activation"), *out_act = str_attr(ms, "out_activation_");
    static const char *const acts[] = {"relu", "tanh", "logistic", "identity"};
    static const char *const outs[] = {"logistic", "softmax", "identity"};
    if (!one_of(act, acts, 4))
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: MLP activation '%s' (expected relu|tanh|logistic|identity)",
                            path, act ? act : "(missing)");
    if (!one_of(out_act, outs, 3))
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: MLP out_activation_ '%s' (expected logistic|softmax|identity)",
                            path, out_act ? out_act : "(missing)");
    /* The layer chain: coefs_[i] is [in, out], intercepts_[i] is [out], in(i+1) = out(i). */
    int64_t prev = -1;
    for (size_t i = 0; i < coefs->n; i++) {
        const sm_pobj *c = coefs->items[i], *b = icepts->items[i];
        if (c->kind != SM_PK_NDARRAY || c->ndim != 2 || b->kind != SM_PK_NDARRAY || b->ndim != 1)
            return sm_error_set(err, SM_ERR_SHAPE, "%s: coefs_[%zu] / intercepts_[%zu] are not 2-d / 1-d arrays", path, i, i);
        if ((prev >= 0 && c->dims[0] != prev) || b->dims[0] != c->dims[1])
            return sm_error_set(err, SM_ERR_SHAPE,
                                "%s: coefs_[%zu] has shape [%lld, %lld] and intercepts_[%zu] [%lld]; expected [%lld, n] and [n]",
                                path, i, (long long)c->dims[0], (long long)c->dims[1], i, (long long)b->dims[0],
                                (long long)(prev >= 0 ? prev : c->dims[0]));
        prev = c->dims[1];
    }
    int64_t n_features = coefs->items[0]->dims[0];
    const sm_pobj *classes = sm_pk_dict_get(ms, "classes_");
    if (!classes || classes->kind != SM_PK_NDARRAY || classes->ndim != 1 || sm_etype_is_float(classes->etype) ||
        classes->etype == SM_PK_U64)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: MLPClassifier classes_ must be an integer array (string or float labels are not supported)",
                            path);
    int64_t n_out = prev, n_classes = classes->dims[0];
    if (!((n_classes == 2 && n_out == 1) || (n_classes > 2 && n_out == n_classes)))
        return sm_error_set(err, SM_ERR_SHAPE, "%s: %lld classes but %lld outputs", path, (long long)n_classes,
                            (long long)n_out);
    sm_status st = SM_OK;
    if (scaler) {
        const sm_pobj *ss = scaler->state;
        const sm_pobj *mean = sm_pk_dict_get(ss, "mean_"), *scale = sm_pk_dict_get(ss, "scale_");
        const sm_pobj *arrs[2] = {mean, scale};
        const char *names[2] = {"scaler.mean_", "scaler.scale_"};
        for (int i = 0; i < 2 && st == SM_OK; i++) {
            /* with_mean=False still stores a mean_ that transform() ignores. */
            const sm_pobj *flag = sm_pk_dict_get(ss, i ? "with_std" : "with_mean");
            if (flag && flag->kind == SM_PK_BOOL && !flag->i) {
                sm_convert_note(sum, "%s: with_%s=False: %s omitted", scaler_name, i ? "std" : "mean", names[i]);
                continue;
            }
            if (!arrs[i] || arrs[i]->kind == SM_PK_NONE) {
                sm_convert_note(sum, "%s is None (with_%s=False): tensor omitted", names[i] + 7, i ? "std" : "mean");
                continue;
            }
            if (arrs[i]->kind == SM_PK_NDARRAY && arrs[i]->ndim == 1 && arrs[i]->dims[0] != n_features)
                return sm_error_set(err, SM_ERR_SHAPE, "%s: step '%s': %s has %lld features, the MLP takes %lld", path,
                                    scaler_name, names[i] + 7, (long long)arrs[i]->dims[0], (long long)n_features);
            st = add_f64(path, names[i], arrs[i], 1, w, err);
        }
    }
    char name[64];
    for (size_t i = 0; i < coefs->n && st == SM_OK; i++) {
        snprintf(name, sizeof name, "mlp.coefs_.%zu", i);
        st = add_f64(path, name, coefs->items[i], 2, w, err);
        snprintf(name, sizeof name, "mlp.intercepts_.%zu", i);
        if (st == SM_OK)
            st = add_f64(path, name, icepts->items[i], 1, w, err);
    }
    int64_t *cls = malloc((size_t)n_classes * sizeof *cls + 1);
    if (!cls)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n_classes; i++) {
        double d;
        if (classes->etype == SM_PK_I64)
            memcpy(&cls[i], (const uint8_t *)classes->data + 8 * i, 8);
        else {
            sm_convert_to_f64(classes->etype, (const uint8_t *)classes->data + (size_t)i * sm_pk_etype_size(classes->etype), 1, &d);
            cls[i] = (int64_t)d;
        }
    }
    if (st == SM_OK)
        st = sm_smw_writer_add_u32(w, "mlp.n_layers", (uint32_t)coefs->n, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_string(w, "mlp.activation", act, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_string(w, "mlp.out_activation", out_act, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_array(w, "mlp.classes", SM_META_I64, cls, (size_t)n_classes, err);
    free(cls);
    if (st == SM_OK)
        st = sm_smw_writer_add_u32(w, "mlp.n_features", (uint32_t)n_features, err);
    const char *ver = str_attr(ms, "_sklearn_version");
    if (st == SM_OK && ver)
        st = sm_smw_writer_add_string(w, "sklearn.version", ver, err);
    if (st == SM_OK)
        st = sm_smw_writer_add_array(w, "sklearn.steps", SM_META_STRING, steps, n_steps, err);
    return st;
}

sm_status sm_convert_joblib(const uint8_t *buf, size_t len, const char *path, const sm_convert_opts *opts,
                            sm_smw_writer *w, sm_convert_summary *sum, sm_error *err)
{
    const char *comp = sm_joblib_compression(buf, len);
    if (comp && !(len && buf[0] == 0x80))
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: compressed joblib file (%s) is not supported: recompress with "
                            "joblib.dump(obj, path, compress=0)", path, comp);
    if (opts->arch && strcmp(opts->arch, "sklearn_mlp_pipeline"))
        return sm_error_set(err, SM_ERR_ARG, "--arch %s: a joblib file converts only to sklearn_mlp_pipeline", opts->arch);
    sm_pickle *pk;
    sm_pobj *top;
    sm_status st = sm_pickle_load(buf, len, path, true, &pk, &top, err);
    if (st != SM_OK)
        return st;
    const sm_pobj *scaler = NULL, *mlp = NULL;
    const char *scaler_name = NULL;
    const char *steps[16];
    size_t n_steps = 0;
    if (class_is(top, "Pipeline")) {
        const sm_pobj *sl = sm_pk_dict_get(top->state, "steps");
        if (!sl || sl->kind != SM_PK_LIST || sl->n == 0 || sl->n > 16) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: Pipeline without a usable steps list", path);
            goto done;
        }
        for (size_t i = 0; i < sl->n; i++) {
            const sm_pobj *s = sl->items[i];
            if (s->kind != SM_PK_TUPLE || s->n < 2 || s->items[0]->kind != SM_PK_STR) {
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: Pipeline step %zu is not a (name, estimator) pair", path, i);
                goto done;
            }
            const sm_pobj *est = s->items[1];
            steps[n_steps++] = s->items[0]->s;
            bool last = i + 1 == sl->n;
            if (!last && class_is(est, "StandardScaler") && !scaler) {
                scaler = est;
                scaler_name = s->items[0]->s;
            } else if (last && class_is(est, "MLPClassifier")) {
                mlp = est;
            } else {
                st = sm_error_set(err, SM_ERR_UNSUPPORTED,
                                  "%s: unsupported pipeline step '%s' (%s); supported: [StandardScaler,] MLPClassifier",
                                  path, s->items[0]->s, est->kind == SM_PK_OBJECT ? est->s : sm_pk_kind_name(est->kind));
                goto done;
            }
        }
        if (!mlp) {
            st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: the pipeline does not end in an MLPClassifier", path);
            goto done;
        }
    } else if (class_is(top, "MLPClassifier")) {
        mlp = top;
    } else {
        st = sm_error_set(err, SM_ERR_UNSUPPORTED,
                          "%s: the joblib file holds a %s; supported: Pipeline([StandardScaler,] MLPClassifier) or MLPClassifier",
                          path, top->kind == SM_PK_OBJECT ? top->s : sm_pk_kind_name(top->kind));
        goto done;
    }
    snprintf(sum->arch, sizeof sum->arch, "sklearn_mlp_pipeline");
    st = convert_mlp(path, scaler, scaler_name, mlp, steps, n_steps, w, sum, err);
    if (opts->f16)
        sm_convert_note(sum, "--f16 ignored: MLP tensors stay float64");
    if (opts->labels || opts->input_size || opts->n_mean || opts->n_std)
        sm_convert_note(sum, "--labels/--input-size/--mean/--std ignored for sklearn_mlp_pipeline");
done:
    sm_pickle_free(pk);
    return st;
}

/* scikit-learn StandardScaler + MLPClassifier predict_proba; see fatigue_mlp.h. */
#include "fatigue_mlp.h"
#include "model_load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sm_fatigue_mlp {
    uint32_t n_features, n_layers, n_outputs;
    uint32_t width[SM_MLP_MAX_LAYERS + 1]; /* width[0] = n_features, width[i+1] = out of layer i */
    double *mean, *scale;                  /* NULL = that part of the scaler is identity */
    sm_mlp *op;                            /* the layers (engine op, float64) */
    sm_mlp_act hidden, out;
    int64_t *classes;
    double *scratch;                       /* n_features + last width */
};

static const struct {
    const char *name;
    sm_mlp_act act;
    bool hidden_ok, out_ok;
} act_names[] = {
    {"identity", SM_MLP_ACT_IDENTITY, true, true},
    {"logistic", SM_MLP_ACT_LOGISTIC, true, true},
    {"tanh", SM_MLP_ACT_TANH, true, false},
    {"relu", SM_MLP_ACT_RELU, true, false},
    {"softmax", SM_MLP_ACT_SOFTMAX, false, true},
};

void sm_fatigue_mlp_free(sm_fatigue_mlp *m)
{
    if (!m)
        return;
    free(m->mean);
    free(m->scale);
    sm_mlp_free(m->op);
    free(m->classes);
    free(m->scratch);
    free(m);
}

static double *copy_f64(const sm_tensor_info *t)
{
    double *d = malloc(t->nbytes ? t->nbytes : 1);
    if (d)
        memcpy(d, t->data, t->nbytes);
    return d;
}

static sm_status parse_act(const sm_smw *f, const char *key, bool hidden, sm_mlp_act *act, sm_error *err)
{
    sm_str s;
    sm_status st = sm_smw_meta_string(f, key, &s, err);
    if (st)
        return st;
    for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++) {
        if (s.len == strlen(act_names[i].name) && !memcmp(s.ptr, act_names[i].name, s.len) &&
            (hidden ? act_names[i].hidden_ok : act_names[i].out_ok)) {
            *act = act_names[i].act;
            return SM_OK;
        }
    }
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: metadata '%s' is '%.*s', expected one of %s", f->path,
                        key, (int)(s.len > 64 ? 64 : s.len), s.ptr,
                        hidden ? "relu, tanh, logistic, identity" : "logistic, softmax, identity");
}

/* An optional f64 [n] tensor: absent is fine, present must have the right shape. */
static sm_status load_scaler_part(const sm_smw *f, const char *name, uint32_t n, bool is_scale,
                                  double **out, sm_error *err)
{
    *out = NULL;
    if (!sm_smw_find_tensor(f, name))
        return SM_OK;
    const sm_tensor_info *t;
    int64_t dims[1] = {n};
    sm_status st = sm_smw_get_tensor(f, name, SM_DTYPE_F64, 1, dims, &t, err);
    if (st)
        return st;
    const double *v = t->data;
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (is_scale && v[i] == 0.0))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s'[%u] is %g, expected a finite%s value",
                                f->path, name, i, v[i], is_scale ? " non-zero" : "");
    if (!(*out = copy_f64(t)))
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    return SM_OK;
}

sm_status sm_fatigue_mlp_load(const sm_smw *f, sm_fatigue_mlp **out, sm_error *err)
{
    void *mem;
    sm_status st = sm_model_new(f, SM_FATIGUE_MLP_ARCH, sizeof(sm_fatigue_mlp), &mem, err);
    *out = NULL;
    if (st)
        return st;
    sm_fatigue_mlp *m = mem;
    if ((st = sm_smw_meta_u32(f, "mlp.n_layers", &m->n_layers, err)) ||
        (st = sm_smw_meta_u32(f, "mlp.n_features", &m->n_features, err)) ||
        (st = parse_act(f, "mlp.activation", true, &m->hidden, err)) ||
        (st = parse_act(f, "mlp.out_activation", false, &m->out, err)))
        goto fail;
    if (m->n_layers < 1 || m->n_layers > SM_MLP_MAX_LAYERS) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'mlp.n_layers' is %u, expected 1..%d", f->path,
                          m->n_layers, SM_MLP_MAX_LAYERS);
        goto fail;
    }
    if (m->n_features < 1 || m->n_features > SM_MLP_MAX_WIDTH) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'mlp.n_features' is %u, expected 1..%d", f->path,
                          m->n_features, SM_MLP_MAX_WIDTH);
        goto fail;
    }
    m->width[0] = m->n_features;
    const double *coefs[SM_MLP_MAX_LAYERS], *intercepts[SM_MLP_MAX_LAYERS];
    for (uint32_t i = 0; i < m->n_layers; i++) {
        char name[64];
        const sm_tensor_info *t;
        int64_t wd[2] = {m->width[i], -1};
        snprintf(name, sizeof name, "mlp.coefs_.%u", i);
        if ((st = sm_smw_get_tensor(f, name, SM_DTYPE_F64, 2, wd, &t, err)))
            goto fail;
        if (t->dims[1] < 1 || t->dims[1] > SM_MLP_MAX_WIDTH) {
            st = sm_error_set(err, SM_ERR_SHAPE, "%s: tensor '%s' has %llu outputs, expected 1..%d", f->path,
                              name, (unsigned long long)t->dims[1], SM_MLP_MAX_WIDTH);
            goto fail;
        }
        m->width[i + 1] = (uint32_t)t->dims[1];
        coefs[i] = t->data;
        int64_t bd[1] = {m->width[i + 1]};
        snprintf(name, sizeof name, "mlp.intercepts_.%u", i);
        if ((st = sm_smw_get_tensor(f, name, SM_DTYPE_F64, 1, bd, &t, err)))
            goto fail;
        intercepts[i] = t->data;
    }
    {
        char extra[64];
        snprintf(extra, sizeof extra, "mlp.coefs_.%u", m->n_layers);
        if (sm_smw_find_tensor(f, extra)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: tensor '%s' present but 'mlp.n_layers' is %u", f->path,
                              extra, m->n_layers);
            goto fail;
        }
    }
    if ((st = load_scaler_part(f, "scaler.mean_", m->n_features, false, &m->mean, err)) ||
        (st = load_scaler_part(f, "scaler.scale_", m->n_features, true, &m->scale, err)))
        goto fail;

    uint32_t last = m->width[m->n_layers];
    m->n_outputs = (m->out == SM_MLP_ACT_LOGISTIC && last == 1) ? 2 : last;
    if (m->out == SM_MLP_ACT_SOFTMAX && last < 2) {
        st = sm_error_set(err, SM_ERR_SHAPE, "%s: softmax output with %u unit(s), expected at least 2",
                          f->path, last);
        goto fail;
    }
    const sm_meta *cm = sm_smw_find_meta(f, "mlp.classes");
    if (!cm && m->out != SM_MLP_ACT_IDENTITY) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'mlp.classes' is missing", f->path);
        goto fail;
    }
    if (cm) {
        if (cm->type != SM_META_ARRAY || cm->elem_type != SM_META_I64 || cm->count != m->n_outputs) {
            st = sm_error_set(err, SM_ERR_FORMAT,
                              "%s: metadata 'mlp.classes' is %s of %llu %s, expected an i64 array of %u "
                              "(output layer width %u, out_activation %s)",
                              f->path, sm_meta_type_name(cm->type),
                              (unsigned long long)(cm->type == SM_META_ARRAY ? cm->count : 1),
                              sm_meta_type_name(cm->type == SM_META_ARRAY ? cm->elem_type : cm->type),
                              m->n_outputs, last, m->out == SM_MLP_ACT_LOGISTIC ? "logistic" : "softmax/identity");
            goto fail;
        }
        if (!(m->classes = malloc(sizeof(int64_t) * m->n_outputs)))
            goto nomem;
        memcpy(m->classes, cm->array_data, sizeof(int64_t) * m->n_outputs);
    }
    sm_mlp_desc d = {m->n_layers, m->width, SM_DENSE_IO, coefs, intercepts, m->hidden, m->out, SM_MLP_F64, f->path};
    if ((st = sm_mlp_prepare(&d, &m->op, err)))
        goto fail;
    if (!(m->scratch = malloc(sizeof(double) * (m->n_features + last))))
        goto nomem;
    *out = m;
    return SM_OK;
nomem:
    st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
fail:
    sm_fatigue_mlp_free(m);
    return st;
}

sm_status sm_fatigue_mlp_load_file(const char *path, sm_fatigue_mlp **out, sm_error *err)
{
    sm_smw *f;
    *out = NULL;
    sm_status st = sm_smw_open(path, NULL, &f, err);
    if (st)
        return st;
    st = sm_fatigue_mlp_load(f, out, err);
    sm_smw_free(f);
    return st;
}

uint32_t sm_fatigue_mlp_n_features(const sm_fatigue_mlp *m) { return m->n_features; }
double sm_fatigue_mlp_flops(const sm_fatigue_mlp *m)
{
    double f = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        f += 2.0 * m->width[i] * m->width[i + 1];
    return f;
}

uint32_t sm_fatigue_mlp_n_outputs(const sm_fatigue_mlp *m) { return m->n_outputs; }
const int64_t *sm_fatigue_mlp_classes(const sm_fatigue_mlp *m) { return m->classes; }

void sm_fatigue_mlp_predict_proba(sm_fatigue_mlp *m, const double *x, size_t n, double *proba)
{
    double *a = m->scratch, *y = m->scratch + m->n_features;
    uint32_t last = m->width[m->n_layers];
    for (size_t r = 0; r < n; r++) {
        const double *xr = x + r * m->n_features;
        for (uint32_t j = 0; j < m->n_features; j++) {
            double v = xr[j];
            if (m->mean)
                v -= m->mean[j];
            if (m->scale)
                v /= m->scale[j];
            a[j] = v;
        }
        sm_mlp_run(m->op, a, y);
        double *pr = proba + r * m->n_outputs;
        if (m->out == SM_MLP_ACT_LOGISTIC && last == 1) {
            pr[0] = 1.0 - y[0];
            pr[1] = y[0];
        } else {
            memcpy(pr, y, sizeof(double) * m->n_outputs);
        }
    }
}

/* Fatigue MLP (StandardScaler + MLPClassifier) against scikit-learn.
 * gen_fatigue_ref.py dumps each pipeline's arrays and predict_proba; these
 * tests pack the arrays into a .smw with the converter's convention (see
 * fatigue_mlp.h) and compare our probabilities with sklearn's. */
#include "fatigue_mlp.h"
#include "npy.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-12

typedef struct {
    bool no_scaler;          /* drop both scaler tensors */
    const char *arch;        /* override general.architecture */
    const char *bad_shape;   /* store this tensor transposed / with one extra element */
    const char *drop;        /* omit this tensor */
    const char *activation;  /* override mlp.activation */
    int classes_delta;       /* add/remove class labels */
    int n_layers_delta;
} build_opts;

static char meta_val[8][64], meta_key[8][64];

static const char *meta_get(const char *key)
{
    for (int i = 0; i < 8; i++)
        if (!strcmp(meta_key[i], key))
            return meta_val[i];
    ck_abort_msg("meta.txt lacks %s", key);
    return NULL;
}

static void read_meta(const char *dir)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/meta.txt", dir);
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing", rel);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    memset(meta_key, 0, sizeof meta_key);
    for (int i = 0; i < 8 && fscanf(f, "%63s %63s", meta_key[i], meta_val[i]) == 2; i++)
        ;
    fclose(f);
}

/* Loads fixture dir/name.npy; returns false if absent. */
static bool load_fixture(const char *dir, const char *name, sm_npy *a)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s.npy", dir, name);
    const char *p = sm_test_fixture(rel);
    if (!p)
        return false;
    sm_error err;
    ck_assert_msg(sm_npy_load(p, a, &err) == SM_OK, "%s", err.msg);
    return true;
}

static void add_tensor(sm_smw_writer *w, const char *name, const sm_npy *a, const build_opts *o)
{
    sm_error err;
    if (o->drop && !strcmp(o->drop, name))
        return;
    ck_assert_int_eq(a->dtype, SM_DTYPE_F64);
    uint64_t dims[2] = {a->dims[0], a->ndim > 1 ? a->dims[1] : 0};
    if (o->bad_shape && !strcmp(o->bad_shape, name)) {
        if (a->ndim == 2) { /* stored as [out, in], the PyTorch way */
            uint64_t t = dims[0];
            dims[0] = dims[1];
            dims[1] = t;
        } else {
            double *d = calloc(a->numel + 1, sizeof(double));
            memcpy(d, a->data, a->nbytes);
            dims[0]++;
            ck_assert_int_eq(sm_smw_writer_add_tensor(w, name, SM_DTYPE_F64, 1, dims, d, &err), SM_OK);
            free(d);
            return;
        }
    }
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, name, SM_DTYPE_F64, a->ndim, dims, a->data, &err), SM_OK);
}

/* Builds DIR/model.smw in a temp dir from fixture case `dir`; returns its path. */
static const char *build_smw(const char *dir, const build_opts *o)
{
    static char path[4200];
    sm_error err;
    sm_smw_writer *w;
    read_meta(dir);
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "general.architecture", o->arch ? o->arch : SM_FATIGUE_MLP_ARCH,
                                              &err), SM_OK);
    uint32_t n_layers = (uint32_t)atoi(meta_get("n_layers"));
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "mlp.n_layers", (uint32_t)((int)n_layers + o->n_layers_delta), &err),
                     SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "mlp.n_features", (uint32_t)atoi(meta_get("n_features")), &err),
                     SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "mlp.activation", o->activation ? o->activation : meta_get("activation"),
                                              &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "mlp.out_activation", meta_get("out_activation"), &err), SM_OK);
    sm_npy a;
    ck_assert(load_fixture(dir, "classes", &a));
    ck_assert_int_eq(a.dtype, SM_DTYPE_I64);
    size_t nc = (size_t)((int)a.numel + o->classes_delta);
    int64_t cls[64] = {0};
    memcpy(cls, a.data, a.nbytes);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "mlp.classes", SM_META_I64, cls, nc, &err), SM_OK);
    sm_npy_free(&a);
    if (!o->no_scaler) {
        if (load_fixture(dir, "mean", &a)) {
            add_tensor(w, "scaler.mean_", &a, o);
            sm_npy_free(&a);
        }
        if (load_fixture(dir, "scale", &a)) {
            add_tensor(w, "scaler.scale_", &a, o);
            sm_npy_free(&a);
        }
    }
    for (uint32_t i = 0; i < n_layers; i++) {
        char f1[32], t1[64];
        snprintf(f1, sizeof f1, "coefs_%u", i);
        snprintf(t1, sizeof t1, "mlp.coefs_.%u", i);
        ck_assert(load_fixture(dir, f1, &a));
        add_tensor(w, t1, &a, o);
        sm_npy_free(&a);
        snprintf(f1, sizeof f1, "intercepts_%u", i);
        snprintf(t1, sizeof t1, "mlp.intercepts_.%u", i);
        ck_assert(load_fixture(dir, f1, &a));
        add_tensor(w, t1, &a, o);
        sm_npy_free(&a);
    }
    const char *tmp = sm_test_tmpdir();
    snprintf(path, sizeof path, "%s/model.smw", tmp);
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    sm_smw_writer_free(w);
    return path;
}

/* Max |ours - sklearn| over X.npy / proba.npy of case dir. */
static double compare_case(const char *dir, sm_fatigue_mlp *m, const char *xname, const char *pname)
{
    sm_npy x, p;
    ck_assert(load_fixture(dir, xname, &x));
    ck_assert(load_fixture(dir, pname, &p));
    ck_assert_int_eq(x.ndim, 2);
    ck_assert_uint_eq(x.dims[1], sm_fatigue_mlp_n_features(m));
    ck_assert_uint_eq(p.dims[0], x.dims[0]);
    ck_assert_uint_eq(p.dims[1], sm_fatigue_mlp_n_outputs(m));
    double *xd = malloc(sizeof(double) * x.numel), *ours = malloc(sizeof(double) * p.numel);
    for (uint64_t i = 0; i < x.numel; i++)
        xd[i] = x.dtype == SM_DTYPE_F64 ? ((double *)x.data)[i] : (double)((float *)x.data)[i];
    sm_fatigue_mlp_predict_proba(m, xd, (size_t)x.dims[0], ours);
    double maxd = 0;
    const double *ref = p.data;
    for (uint64_t i = 0; i < p.numel; i++) {
        ck_assert(isfinite(ours[i]));
        double d = fabs(ours[i] - ref[i]);
        maxd = d > maxd ? d : maxd;
    }
    printf("  %s/%s: %llu rows x %llu classes, max |ours - sklearn| = %.3g\n", dir, pname,
           (unsigned long long)p.dims[0], (unsigned long long)p.dims[1], maxd);
    free(xd);
    free(ours);
    sm_npy_free(&x);
    sm_npy_free(&p);
    return maxd;
}

static void parity(const char *dir, const build_opts *o)
{
    const char *path = build_smw(dir, o);
    sm_fatigue_mlp *m;
    sm_error err;
    ck_assert_msg(sm_fatigue_mlp_load_file(path, &m, &err) == SM_OK, "%s", err.msg);
    sm_npy cls;
    ck_assert(load_fixture(dir, "classes", &cls));
    ck_assert(!memcmp(sm_fatigue_mlp_classes(m), cls.data, cls.nbytes));
    sm_npy_free(&cls);
    ck_assert_double_le(compare_case(dir, m, "X", "proba"), TOL);
    ck_assert_double_le(compare_case(dir, m, "X_f32", "proba_f32"), TOL);
    sm_fatigue_mlp_free(m);
}

static bool have_real(void)
{
    if (sm_test_fixture("fatigue_ref/real/meta.txt"))
        return true;
    sm_test_skip("fatigue real joblib parity", "shared/seed/checkpoints/fatigue_mlp.joblib absent");
    return false;
}

START_TEST(test_real_joblib)
{
    if (!have_real())
        return;
    build_opts o = {0};
    parity("fatigue_ref/real", &o);
    /* the 3 SEED_MODELS.md section 7 vectors are the last rows; also check them one at a time */
    const char *path = build_smw("fatigue_ref/real", &o);
    sm_fatigue_mlp *m;
    sm_error err;
    ck_assert_int_eq(sm_fatigue_mlp_load_file(path, &m, &err), SM_OK);
    sm_npy x, p;
    ck_assert(load_fixture("fatigue_ref/real", "X", &x));
    ck_assert(load_fixture("fatigue_ref/real", "proba", &p));
    ck_assert_uint_eq(x.dims[0], 1003);
    for (size_t r = 1000; r < 1003; r++) {
        double pr[2];
        sm_fatigue_mlp_predict_proba(m, (double *)x.data + r * 5, 1, pr);
        ck_assert_double_eq_tol(pr[0], ((double *)p.data)[2 * r], TOL);
        ck_assert_double_eq_tol(pr[1], ((double *)p.data)[2 * r + 1], TOL);
        ck_assert_double_eq_tol(pr[0] + pr[1], 1.0, 1e-15);
    }
    sm_npy_free(&x);
    sm_npy_free(&p);
    sm_fatigue_mlp_free(m);
}
END_TEST

/* The user's joblib through the real converter, then the model: the path a
 * user takes (README), against scikit-learn's predict_proba. */
START_TEST(test_real_joblib_through_smw_convert)
{
    const char *joblib = sm_test_shared("seed/checkpoints/fatigue_mlp.joblib");
    if (!joblib || !have_real()) {
        if (!joblib)
            sm_test_skip("fatigue joblib through smw-convert", "shared/seed/checkpoints/fatigue_mlp.joblib absent");
        return;
    }
    const char *dir = sm_test_tmpdir();
    char out[4200], args[8600], log[8192];
    snprintf(out, sizeof out, "%s/fatigue_mlp.smw", dir);
    snprintf(args, sizeof args, "'%s' -o '%s'", joblib, out);
    ck_assert_msg(sm_test_run("smw-convert", args, log, sizeof log) == 0, "%s", log);
    sm_fatigue_mlp *m;
    sm_error err;
    ck_assert_msg(sm_fatigue_mlp_load_file(out, &m, &err) == SM_OK, "%s", err.msg);
    ck_assert_double_le(compare_case("fatigue_ref/real", m, "X", "proba"), TOL);
    ck_assert_double_le(compare_case("fatigue_ref/real", m, "X_f32", "proba_f32"), TOL);
    sm_fatigue_mlp_free(m);
    unlink(out);
    rmdir(dir);
}
END_TEST

START_TEST(test_synth_tanh_softmax)
{
    build_opts o = {0};
    parity("fatigue_ref/synth3", &o);
}
END_TEST

START_TEST(test_synth_logistic_binary)
{
    build_opts o = {0};
    parity("fatigue_ref/synth_logi", &o);
}
END_TEST

START_TEST(test_synth_bare_identity)
{
    build_opts o = {0};
    parity("fatigue_ref/synth_bare", &o);
}
END_TEST

static void expect_reject(const char *dir, const build_opts *o, const char *n1, const char *n2)
{
    const char *path = build_smw(dir, o);
    sm_fatigue_mlp *m = (sm_fatigue_mlp *)1;
    sm_error err = {0};
    ck_assert_int_ne(sm_fatigue_mlp_load_file(path, &m, &err), SM_OK);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.msg, n1) != NULL, "message '%s' lacks '%s'", err.msg, n1);
    if (n2)
        ck_assert_msg(strstr(err.msg, n2) != NULL, "message '%s' lacks '%s'", err.msg, n2);
    ck_assert_msg(strstr(err.msg, "model.smw") != NULL, "message '%s' lacks the file", err.msg);
}

START_TEST(test_rejects)
{
    const char *d = "fatigue_ref/synth3";
    expect_reject(d, &(build_opts){.arch = "novel_emotion"}, "'novel_emotion'", "'sklearn_mlp_pipeline'");
    expect_reject(d, &(build_opts){.bad_shape = "mlp.coefs_.1"}, "mlp.coefs_.1", "expected f64 [8,*], found f64 [6,8]");
    expect_reject(d, &(build_opts){.bad_shape = "mlp.intercepts_.2"}, "mlp.intercepts_.2", "expected f64 [3], found f64 [4]");
    expect_reject(d, &(build_opts){.bad_shape = "scaler.scale_"}, "scaler.scale_", "expected f64 [5], found f64 [6]");
    expect_reject(d, &(build_opts){.drop = "mlp.coefs_.2"}, "mlp.coefs_.2", NULL);
    expect_reject(d, &(build_opts){.activation = "gelu"}, "mlp.activation", "gelu");
    expect_reject(d, &(build_opts){.classes_delta = -1}, "mlp.classes", "expected an i64 array of 3");
    expect_reject(d, &(build_opts){.n_layers_delta = -1}, "mlp.coefs_.2", "present");
    expect_reject(d, &(build_opts){.n_layers_delta = 1}, "mlp.coefs_.3", NULL);
    sm_fatigue_mlp_free(NULL);
}
END_TEST

START_TEST(test_missing_scaler_is_identity)
{
    /* A pipeline file without scaler tensors must equal the bare MLP on the scaled inputs. */
    const char *d = "fatigue_ref/synth3";
    build_opts o = {0};
    const char *p1 = build_smw(d, &o);
    sm_fatigue_mlp *with, *without;
    sm_error err;
    ck_assert_int_eq(sm_fatigue_mlp_load_file(p1, &with, &err), SM_OK);
    o.no_scaler = true;
    const char *p2 = build_smw(d, &o);
    ck_assert_int_eq(sm_fatigue_mlp_load_file(p2, &without, &err), SM_OK);
    sm_npy mean, scale;
    ck_assert(load_fixture(d, "mean", &mean));
    ck_assert(load_fixture(d, "scale", &scale));
    double x[5] = {0.2, 0.5, 1, -10, 1.2}, z[5], pa[3], pb[3];
    for (int j = 0; j < 5; j++)
        z[j] = (x[j] - ((double *)mean.data)[j]) / ((double *)scale.data)[j];
    sm_fatigue_mlp_predict_proba(with, x, 1, pa);
    sm_fatigue_mlp_predict_proba(without, z, 1, pb);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq(pa[j], pb[j]);
    sm_npy_free(&mean);
    sm_npy_free(&scale);
    sm_fatigue_mlp_free(with);
    sm_fatigue_mlp_free(without);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fatigue_mlp");
    TCase *tc = sm_test_tcase(s, "fatigue_mlp", 60);
    tcase_add_test(tc, test_real_joblib);
    tcase_add_test(tc, test_real_joblib_through_smw_convert);
    tcase_add_test(tc, test_synth_tanh_softmax);
    tcase_add_test(tc, test_synth_logistic_binary);
    tcase_add_test(tc, test_synth_bare_identity);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_missing_scaler_is_identity);
    return sm_test_main(s);
}

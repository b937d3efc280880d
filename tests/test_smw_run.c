/* smw-run end to end on the fatigue MLP: proba.npy and the JSON output
 * against scikit-learn's predict_proba (gen_fatigue_ref.py), and rejection
 * of bad models, inputs and arguments. The JSON is parsed by Python's json
 * module (an independent parser). */
#include "npy.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOL 1e-12

static const char *case_dir(void)
{
    if (sm_test_fixture("fatigue_ref/real/meta.txt"))
        return "fatigue_ref/real";
    sm_test_skip("smw-run on the real fatigue joblib", "shared/ absent, using the synthetic 3-class pipeline");
    return "fatigue_ref/synth3";
}

static void load_fx(const char *dir, const char *name, sm_npy *a)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s.npy", dir, name);
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing", rel);
    sm_error err;
    ck_assert_msg(sm_npy_load(p, a, &err) == SM_OK, "%s", err.msg);
}

static const char *fx_path(const char *dir, const char *name)
{
    static char buf[4][4200];
    static int k;
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s.npy", dir, name);
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing", rel);
    char *b = buf[k++ & 3];
    snprintf(b, 4200, "%s", p);
    return b;
}

/* Packs the case's arrays into tmp/model.smw (the converter's convention). */
static const char *build_model(const char *dir, const char *arch)
{
    static char path[4200];
    char rel[256], key[64], val[64];
    snprintf(rel, sizeof rel, "%s/meta.txt", dir);
    FILE *f = fopen(sm_test_fixture(rel), "r");
    ck_assert_ptr_nonnull(f);
    sm_smw_writer *w;
    sm_error err;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "general.architecture", arch, &err), SM_OK);
    uint32_t n_layers = 0;
    while (fscanf(f, "%63s %63s", key, val) == 2) {
        char mk[80];
        snprintf(mk, sizeof mk, "mlp.%s", key);
        if (!strcmp(key, "n_layers") || !strcmp(key, "n_features"))
            ck_assert_int_eq(sm_smw_writer_add_u32(w, mk, (uint32_t)atoi(val), &err), SM_OK);
        else if (strcmp(key, "n_classes"))
            ck_assert_int_eq(sm_smw_writer_add_string(w, mk, val, &err), SM_OK);
        if (!strcmp(key, "n_layers"))
            n_layers = (uint32_t)atoi(val);
    }
    fclose(f);
    sm_npy a;
    load_fx(dir, "classes", &a);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "mlp.classes", SM_META_I64, a.data, a.numel, &err), SM_OK);
    sm_npy_free(&a);
    const char *names[2][2] = {{"mean", "scaler.mean_"}, {"scale", "scaler.scale_"}};
    for (int i = 0; i < 2; i++) {
        load_fx(dir, names[i][0], &a);
        ck_assert_int_eq(sm_smw_writer_add_tensor(w, names[i][1], SM_DTYPE_F64, a.ndim, a.dims, a.data, &err), SM_OK);
        sm_npy_free(&a);
    }
    for (uint32_t l = 0; l < n_layers; l++) {
        char fn[32], tn[64];
        snprintf(fn, sizeof fn, "coefs_%u", l);
        snprintf(tn, sizeof tn, "mlp.coefs_.%u", l);
        load_fx(dir, fn, &a);
        ck_assert_int_eq(sm_smw_writer_add_tensor(w, tn, SM_DTYPE_F64, a.ndim, a.dims, a.data, &err), SM_OK);
        sm_npy_free(&a);
        snprintf(fn, sizeof fn, "intercepts_%u", l);
        snprintf(tn, sizeof tn, "mlp.intercepts_.%u", l);
        load_fx(dir, fn, &a);
        ck_assert_int_eq(sm_smw_writer_add_tensor(w, tn, SM_DTYPE_F64, a.ndim, a.dims, a.data, &err), SM_OK);
        sm_npy_free(&a);
    }
    snprintf(path, sizeof path, "%s/model.smw", sm_test_tmpdir());
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    sm_smw_writer_free(w);
    return path;
}

static double max_diff_file(const char *got_path, const char *dir, const char *ref_name)
{
    sm_npy got, ref;
    sm_error err;
    ck_assert_msg(sm_npy_load(got_path, &got, &err) == SM_OK, "%s", err.msg);
    load_fx(dir, ref_name, &ref);
    ck_assert_int_eq(got.dtype, SM_DTYPE_F64);
    ck_assert_uint_eq(got.ndim, 2);
    ck_assert_uint_eq(got.dims[0], ref.dims[0]);
    ck_assert_uint_eq(got.dims[1], ref.dims[1]);
    double m = 0;
    for (uint64_t i = 0; i < ref.numel; i++) {
        double d = fabs(((double *)got.data)[i] - ((double *)ref.data)[i]);
        m = d > m ? d : m;
    }
    sm_npy_free(&got);
    sm_npy_free(&ref);
    return m;
}

START_TEST(test_proba_npy)
{
    const char *dir = case_dir();
    const char *model = build_model(dir, "sklearn_mlp_pipeline");
    const char *out = sm_test_tmpdir();
    char args[9000], outp[8192], proba[4300];
    static const char *xs[2][2] = {{"X", "proba"}, {"X_f32", "proba_f32"}};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/run%d'", model, fx_path(dir, xs[i][0]), out, i);
        int rc = sm_test_run("smw-run", args, outp, sizeof outp);
        ck_assert_msg(rc == 0, "smw-run failed (%d): %s", rc, outp);
        ck_assert_ptr_nonnull(strstr(outp, "architecture: sklearn_mlp_pipeline"));
        snprintf(proba, sizeof proba, "%s/run%d/proba.npy", out, i);
        double d = max_diff_file(proba, dir, xs[i][1]);
        printf("  smw-run %s/%s.npy: max |proba - sklearn| = %.3g\n", dir, xs[i][0], d);
        ck_assert_double_le(d, TOL);
    }
}
END_TEST

START_TEST(test_json)
{
    const char *py = getenv("SM_PYTHON");
    const char *bin = getenv("SM_BIN");
    if (!py || !*py || access(py, X_OK) != 0) {
        sm_test_skip("smw-run --json parse", "no SM_PYTHON");
        return;
    }
    const char *dir = case_dir();
    const char *model = build_model(dir, "sklearn_mlp_pipeline");
    const char *out = sm_test_tmpdir();
    char cmd[16384], line[4096] = "";
    const char *runner = getenv("SM_TEST_RUNNER"); /* qemu for cross builds */
    snprintf(cmd, sizeof cmd,
             "%s '%s/smw-run' '%s' --input '%s' --out-dir '%s' --json > '%s/out.json' && "
             "'%s' -c 'import json, sys, numpy as np\n"
             "d = json.load(open(sys.argv[1]))\n"
             "assert d[\"architecture\"] == \"sklearn_mlp_pipeline\", d[\"architecture\"]\n"
             "assert d[\"outputs\"][0][\"name\"] == \"proba\"\n"
             "p = np.array(d[\"proba\"], dtype=np.float64)\n"
             "r = np.load(sys.argv[2])\n"
             "assert p.shape == r.shape == tuple(d[\"outputs\"][0][\"shape\"]), (p.shape, r.shape)\n"
             "assert d[\"input\"][\"shape\"] == list(np.load(sys.argv[3]).shape)\n"
             "print(\"json-ok %%.3g\" %% np.abs(p - r).max())' '%s/out.json' '%s' '%s' 2>&1",
             runner ? runner : "", bin && *bin ? bin : "build", model, fx_path(dir, "X"), out, out, py, out,
             fx_path(dir, "proba"),
             fx_path(dir, "X"));
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(line, 1, sizeof line - 1, p);
    line[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(st == 0, "json check failed: %s", line);
    const char *ok = strstr(line, "json-ok ");
    ck_assert_msg(ok != NULL, "%s", line);
    double d = strtod(ok + 8, NULL);
    printf("  smw-run --json: parsed by Python json, max |proba - sklearn| = %.3g\n", d);
    ck_assert_double_le(d, TOL);
}
END_TEST

static void expect_fail(const char *args, int want_rc, const char *n1, const char *n2)
{
    char out[8192];
    int rc = sm_test_run("smw-run", args, out, sizeof out);
    ck_assert_msg(rc == want_rc, "smw-run %s: rc %d, expected %d: %s", args, rc, want_rc, out);
    ck_assert_msg(strstr(out, n1) != NULL, "smw-run %s: output '%s' lacks '%s'", args, out, n1);
    if (n2)
        ck_assert_msg(strstr(out, n2) != NULL, "smw-run %s: output '%s' lacks '%s'", args, out, n2);
}

START_TEST(test_rejects)
{
    const char *dir = "fatigue_ref/synth3";
    const char *model = build_model(dir, "sklearn_mlp_pipeline");
    char mcopy[4300];
    snprintf(mcopy, sizeof mcopy, "%s", model);
    const char *tmp = sm_test_tmpdir();
    char p[16][4300], args[10000];
    sm_error err;
    /* inputs of the wrong dtype, rank and width */
    int32_t i4[10] = {0};
    uint64_t d25[2] = {2, 5}, d10[1] = {10}, d24[2] = {5, 4}, d05[2] = {0, 5};
    double f8[20] = {0};
    snprintf(p[0], sizeof p[0], "%s/i4.npy", tmp);
    ck_assert_int_eq(sm_npy_save(p[0], SM_DTYPE_I32, 2, d25, i4, &err), SM_OK);
    snprintf(p[1], sizeof p[1], "%s/rank1.npy", tmp);
    ck_assert_int_eq(sm_npy_save(p[1], SM_DTYPE_F64, 1, d10, f8, &err), SM_OK);
    snprintf(p[2], sizeof p[2], "%s/width4.npy", tmp);
    ck_assert_int_eq(sm_npy_save(p[2], SM_DTYPE_F64, 2, d24, f8, &err), SM_OK);
    snprintf(p[3], sizeof p[3], "%s/empty.npy", tmp);
    ck_assert_int_eq(sm_npy_save(p[3], SM_DTYPE_F64, 2, d05, f8, &err), SM_OK);
    snprintf(p[4], sizeof p[4], "%s/garbage.npy", tmp);
    ck_assert_int_eq(sm_file_write_atomic(p[4], "not numpy at all", 16, &err), SM_OK);
    const char *out = tmp;

    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/o'", mcopy, p[0], out);
    expect_fail(args, 1, "i4.npy: dtype <i4, expected <f8 or <f4", "sklearn_mlp_pipeline");
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/o'", mcopy, p[1], out);
    expect_fail(args, 1, "rank1.npy: rank 1 (shape [10]), expected rank 2", NULL);
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/o'", mcopy, p[2], out);
    expect_fail(args, 1, "width4.npy: input has 4 features per row, the model expects 5", NULL);
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/o'", mcopy, p[3], out);
    expect_fail(args, 1, "empty.npy: shape [0, 5] is empty", NULL);
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s/o'", mcopy, p[4], out);
    expect_fail(args, 1, "garbage.npy: not a .npy file", NULL);
    snprintf(args, sizeof args, "'%s' --input '%s/missing.npy' --out-dir '%s/o'", mcopy, tmp, out);
    expect_fail(args, 1, "missing.npy", NULL);
    /* nothing was written for the failures */
    char o[4300];
    snprintf(o, sizeof o, "%s/o/proba.npy", out);
    struct stat sb;
    ck_assert_int_ne(stat(o, &sb), 0);

    /* a model without a runner, a non-.smw model */
    const char *other = build_model(dir, "novel_emotion_b3");
    snprintf(args, sizeof args, "'%s' --input '%s'", other, fx_path(dir, "X"));
    expect_fail(args, 1, "no runner for architecture 'novel_emotion_b3'", "sklearn_mlp_pipeline");
    snprintf(args, sizeof args, "'%s' --input '%s'", fx_path(dir, "X"), fx_path(dir, "X"));
    expect_fail(args, 1, "X.npy", NULL);

    /* usage errors */
    snprintf(args, sizeof args, "'%s'", mcopy);
    expect_fail(args, 2, "missing --input", NULL);
    snprintf(args, sizeof args, "'%s' --input", mcopy);
    expect_fail(args, 2, "--input needs a value", NULL);
    snprintf(args, sizeof args, "'%s' --bogus", mcopy);
    expect_fail(args, 2, "unknown option '--bogus'", NULL);
    expect_fail("--help", 0, "usage: smw-run", "sklearn_mlp_pipeline");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smw_run");
    TCase *tc = tcase_create("smw_run");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_proba_npy);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_rejects);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* smw-convert on real and generated checkpoints: every tensor must equal what
 * torch.load / joblib.load give (references written by tests/gen/gen_convert_*.py
 * as <prefix>.manifest + <prefix>.bin), compared bit for bit. */
#include "convert.h"
#include "pickle.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint8_t *ser;
    sm_smw *f;
    sm_convert_summary sum;
    sm_error err;
    sm_status st;
} converted;

static void conv_free(converted *c)
{
    sm_smw_free(c->f);
    free(c->ser);
    memset(c, 0, sizeof *c);
}

/* Runs a reader in process, serialises and parses the result. */
static void convert_file(const char *path, sm_convert_fn fn, const sm_convert_opts *opts, converted *c)
{
    memset(c, 0, sizeof *c);
    sm_convert_opts none;
    memset(&none, 0, sizeof none);
    uint8_t *buf;
    size_t len, ser_len;
    ck_assert_msg(sm_file_read_all(path, 0, &buf, &len, &c->err) == SM_OK, "%s", c->err.msg);
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, &c->err), SM_OK);
    c->st = fn(buf, len, path, opts ? opts : &none, w, &c->sum, &c->err);
    if (c->st == SM_OK) {
        ck_assert_int_eq(sm_smw_writer_add_string(w, "general.architecture", c->sum.arch, &c->err), SM_OK);
        ck_assert_int_eq(sm_smw_writer_serialize(w, &c->ser, &ser_len, &c->err), SM_OK);
        ck_assert_msg(sm_smw_parse(c->ser, ser_len, path, NULL, &c->f, &c->err) == SM_OK, "%s", c->err.msg);
    }
    sm_smw_writer_free(w);
    free(buf);
}

static const char *need_fixture(const char *name)
{
    const char *p = sm_test_fixture(name);
    ck_assert_msg(p != NULL, "fixture %s missing (run the tests/gen generators)", name);
    return p;
}

/* The conversion of `path` fails with `st` and a message holding `part` (and `part2`
 * when not NULL): the error a user reads names what is wrong. */
static void convert_fails(const char *path, sm_convert_fn fn, const sm_convert_opts *opts,
                          sm_status st, const char *part, const char *part2)
{
    converted c;
    convert_file(path, fn, opts, &c);
    ck_assert_msg(c.st == st, "%s: status %d, expected %d (%s)", path, (int)c.st, (int)st, c.err.msg);
    ck_assert_msg(strstr(c.err.msg, part), "%s: message '%s' lacks '%s'", path, c.err.msg, part);
    if (part2)
        ck_assert_msg(strstr(c.err.msg, part2), "%s: message '%s' lacks '%s'", path, c.err.msg, part2);
    conv_free(&c);
}

/* One line of a reference manifest (tests/gen): "name dtype ndim dim0 dim1 ...", the
 * tensor's bytes next in the matching .bin file. */
typedef struct {
    char name[512], dtype[8];
    int ndim;
    long long dims[8];
} manifest_line;

static bool manifest_next(FILE *m, manifest_line *e)
{
    char line[1024];
    if (!fgets(line, sizeof line, m))
        return false;
    int off;
    ck_assert_int_eq(sscanf(line, "%511s %7s %d%n", e->name, e->dtype, &e->ndim, &off), 3);
    ck_assert(e->ndim >= 0 && e->ndim <= 8);
    const char *p = line + off;
    for (int d = 0; d < e->ndim; d++) {
        int k;
        ck_assert_int_eq(sscanf(p, "%lld%n", &e->dims[d], &k), 1);
        p += k;
    }
    return true;
}

/* The next nbytes of the reference .bin equal data. */
static void expect_reference_bytes(FILE *bin, const void *data, size_t nbytes, const char *name)
{
    void *ref = malloc(nbytes + 1);
    ck_assert_uint_eq(fread(ref, 1, nbytes, bin), nbytes);
    ck_assert_msg(!memcmp(ref, data, nbytes), "%s: values differ from the reference", name);
    free(ref);
}

/* Every tensor of the manifest is in f with the same dtype, shape and bytes, and nothing else is. */
static void compare_manifest(const sm_smw *f, const char *prefix)
{
    char name[256];
    snprintf(name, sizeof name, "%s.manifest", prefix);
    FILE *m = fopen(need_fixture(name), "r");
    snprintf(name, sizeof name, "%s.bin", prefix);
    FILE *b = fopen(need_fixture(name), "rb");
    ck_assert(m && b);
    manifest_line e;
    size_t n = 0;
    while (manifest_next(m, &e)) {
        const sm_tensor_info *t = sm_smw_find_tensor(f, e.name);
        ck_assert_msg(t != NULL, "tensor %s missing", e.name);
        ck_assert_msg(!strcmp(sm_dtype_name(t->dtype), e.dtype), "%s: dtype %s, reference %s", e.name,
                      sm_dtype_name(t->dtype), e.dtype);
        ck_assert_msg((int)t->ndim == e.ndim, "%s: ndim %u, reference %d", e.name, t->ndim, e.ndim);
        for (int d = 0; d < e.ndim; d++)
            ck_assert_msg(t->dims[d] == (uint64_t)e.dims[d], "%s: dim %d is %llu, reference %lld",
                          e.name, d, (unsigned long long)t->dims[d], e.dims[d]);
        expect_reference_bytes(b, t->data, t->nbytes, e.name);
        n++;
    }
    ck_assert_int_eq(fgetc(b), EOF);
    ck_assert_uint_eq(n, f->n_tensors);
    fclose(m);
    fclose(b);
}

/* convert_file that must succeed: the result is OK (the message names path), its
 * architecture is arch and every tensor matches <manifest>.manifest (each check
 * left out when its argument is NULL). */
static void convert_ok(const char *path, sm_convert_fn fn, const sm_convert_opts *opts, const char *arch,
                       const char *manifest, converted *c)
{
    convert_file(path, fn, opts, c);
    ck_assert_msg(c->st == SM_OK, "%s: %s", path, c->err.msg);
    if (arch)
        ck_assert_str_eq(c->sum.arch, arch);
    if (manifest)
        compare_manifest(c->f, manifest);
}

/* convert_ok on the user's checkpoint shared/<rel> when it and the fixture
 * <manifest>.manifest (made from it by the generators) are there; else false
 * after a visible skip line. */
static bool convert_user(const char *test, const char *rel, sm_convert_fn fn, const char *arch,
                         const char *manifest, converted *c)
{
    char name[256];
    snprintf(name, sizeof name, "%s.manifest", manifest);
    const char *p = sm_test_shared(rel);
    if (!p || !sm_test_fixture(name)) {
        char why[512];
        snprintf(why, sizeof why, "shared/%s absent", rel);
        sm_test_skip(test, why);
        return false;
    }
    convert_ok(p, fn, NULL, arch, manifest, c);
    return true;
}

static uint64_t param_count(const sm_smw *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->n_tensors; i++)
        if (!strstr(f->tensors[i].name, "running_") && !strstr(f->tensors[i].name, "num_batches_tracked"))
            n += f->tensors[i].numel;
    return n;
}

static void check_input_meta(const sm_smw *f, uint32_t size)
{
    sm_error err;
    uint32_t u;
    float mean[3], std[3];
    ck_assert_int_eq(sm_smw_meta_u32(f, "input.size", &u, &err), SM_OK);
    ck_assert_uint_eq(u, size);
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.mean", mean, 3, &err), SM_OK);
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.std", std, 3, &err), SM_OK);
    ck_assert(mean[0] == 0 && mean[1] == 0 && mean[2] == 0 && std[0] == 1 && std[1] == 1 && std[2] == 1);
}

/* ---- PyTorch ---------------------------------------------------------------- */

START_TEST(rppg_generated)
{
    converted c;
    convert_ok(need_fixture("rppg_gen.pth"), sm_convert_pth, NULL, "ultralight_rppg", "rppg_gen", &c);
    ck_assert_uint_eq(c.f->n_tensors, 10);
    ck_assert_uint_eq(param_count(c.f), 26465);
    check_input_meta(c.f, 36);
    uint32_t frames;
    ck_assert_int_eq(sm_smw_meta_u32(c.f, "input.frames", &frames, &c.err), SM_OK);
    ck_assert_uint_eq(frames, 180);
    conv_free(&c);
}
END_TEST

START_TEST(rppg_f16_and_checkpoint_dict)
{
    converted c;
    sm_convert_opts o = {.f16 = true};
    convert_ok(need_fixture("rppg_gen.pth"), sm_convert_pth, &o, NULL, "rppg_gen_f16", &c); /* torch's .half() */
    conv_free(&c);
    convert_ok(need_fixture("rppg_gen_model_key.pth"), sm_convert_pth, NULL, NULL, "rppg_gen", &c);
    ck_assert_ptr_nonnull(strstr(c.sum.notes, "checkpoint['model']"));
    conv_free(&c);
}
END_TEST

START_TEST(rppg_user_checkpoint)
{
    converted c;
    if (!convert_user("rppg_user_checkpoint", "seed/checkpoints/best_model.pth", sm_convert_pth, "ultralight_rppg",
                      "best_model", &c))
        return;
    ck_assert_uint_eq(param_count(c.f), 26465);
    conv_free(&c);
}
END_TEST

START_TEST(raw_dtypes_strides_offsets)
{
    converted c;
    sm_convert_opts o = {.arch = "raw"};
    convert_ok(need_fixture("raw_dtypes.pth"), sm_convert_pth, &o, "raw", "raw_dtypes", &c);
    conv_free(&c);
    convert_fails(need_fixture("raw_dtypes.pth"), sm_convert_pth, NULL, SM_ERR_UNSUPPORTED,
                  "unknown architecture: 16 tensors (base [6, 7]", "--arch raw");
}
END_TEST

START_TEST(zipfile_made_checkpoint)
{
    /* Written by Python's zipfile, not torch: no alignment padding, no data descriptors. */
    converted c;
    convert_file(sm_test_committed("convert-bad/good_rppg_zipfile.pth"), sm_convert_pth, NULL, &c);
    ck_assert_msg(c.st == SM_OK, "%s", c.err.msg);
    ck_assert_str_eq(c.sum.arch, "ultralight_rppg");
    const sm_tensor_info *t = sm_smw_find_tensor(c.f, "fc.0.bias");
    ck_assert(((const float *)t->data)[3] == 1.5f);   /* make_bad_files.py: value k * 0.5 */
    conv_free(&c);
    /* ZIP64: saturated central directory fields, ZIP64 extra fields and end record */
    convert_file(sm_test_committed("convert-bad/good_rppg_zip64.pth"), sm_convert_pth, NULL, &c);
    ck_assert_msg(c.st == SM_OK, "%s", c.err.msg);
    ck_assert_str_eq(c.sum.arch, "ultralight_rppg");
    t = sm_smw_find_tensor(c.f, "fc.0.weight");
    ck_assert(((const float *)t->data)[18431] == 9215.5f);
    conv_free(&c);
}
END_TEST

START_TEST(emotion_variants)
{
    static const char *const files[] = {"novel_emotion.pth", "novel_emotion_module.pth", "novel_emotion_wrapped.pth"};
    for (int i = 0; i < 3; i++) {
        converted c;
        convert_ok(need_fixture(files[i]), sm_convert_pth, NULL, "novel_emotion_effnet_b3", "novel_emotion", &c);
        ck_assert_uint_eq(c.f->n_tensors, 588);
        ck_assert_uint_eq(param_count(c.f), 12279207);
        check_input_meta(c.f, 300);
        const sm_meta *l = sm_smw_find_meta(c.f, "emotion.labels");
        ck_assert(l && l->type == SM_META_ARRAY && l->elem_type == SM_META_STRING && l->count == 8);
        ck_assert(l->strings[0].len == 5 && !memcmp(l->strings[0].ptr, "angry", 5));
        ck_assert(l->strings[7].len == 5 && !memcmp(l->strings[7].ptr, "tired", 5));
        ck_assert_ptr_nonnull(strstr(c.sum.notes, "EMOTION_CLASSES"));
        conv_free(&c);
    }
}
END_TEST

START_TEST(emotion_labels_and_input_options)
{
    converted c;
    sm_convert_opts o = {.labels = "n,h,s,a,su,d,f,t", .input_size = 224, .n_mean = 3, .n_std = 3,
                         .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.25f, 2.0f}};
    convert_file(need_fixture("novel_emotion.pth"), sm_convert_pth, &o, &c);
    ck_assert_msg(c.st == SM_OK, "%s", c.err.msg);
    const sm_meta *l = sm_smw_find_meta(c.f, "emotion.labels");
    ck_assert(l->count == 8 && l->strings[4].len == 2 && !memcmp(l->strings[4].ptr, "su", 2));
    uint32_t u;
    float std[3];
    ck_assert_int_eq(sm_smw_meta_u32(c.f, "input.size", &u, &c.err), SM_OK);
    ck_assert_uint_eq(u, 224);
    ck_assert_int_eq(sm_smw_meta_f32_array(c.f, "input.std", std, 3, &c.err), SM_OK);
    ck_assert(std[1] == 0.25f && std[2] == 2.0f);
    conv_free(&c);
    /* --f16: every float tensor F16, num_batches_tracked stays I64 */
    sm_convert_opts h = {.f16 = true};
    convert_file(need_fixture("novel_emotion.pth"), sm_convert_pth, &h, &c);
    ck_assert_msg(c.st == SM_OK, "%s", c.err.msg);
    for (size_t i = 0; i < c.f->n_tensors; i++)
        ck_assert_int_eq(c.f->tensors[i].dtype,
                         strstr(c.f->tensors[i].name, "num_batches_tracked") ? SM_DTYPE_I64 : SM_DTYPE_F16);
    conv_free(&c);
    o.labels = "a,b,c";
    convert_fails(need_fixture("novel_emotion.pth"), sm_convert_pth, &o, SM_ERR_ARG,
                  "3 labels given, the emotion head has 8 outputs", NULL);
}
END_TEST

START_TEST(emotion_missing_or_wrong_shape)
{
    convert_fails(need_fixture("novel_emotion_missing.pth"), sm_convert_pth, NULL, SM_ERR_SHAPE,
                  "tensor 'backbone.blocks.3.2.conv_dw.weight' [576, 1, 3, 3] is missing", NULL);
    convert_fails(need_fixture("novel_emotion_badshape.pth"), sm_convert_pth, NULL, SM_ERR_SHAPE,
                  "tensor 'routing.gate.weight' has shape [3, 1536], expected [2, 1536]", NULL);
}
END_TEST

/* ---- joblib ----------------------------------------------------------------- */

static void check_mlp_meta(const sm_smw *f, const char *prefix)
{
    char name[256], line[512];
    snprintf(name, sizeof name, "%s.meta", prefix);
    FILE *m = fopen(need_fixture(name), "r");
    ck_assert_ptr_nonnull(m);
    sm_error err;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = '\0';
        char *val = strchr(line, ' ');
        val = val ? val + 1 : line + strlen(line);
        const char *key = line;
        if (!strncmp(key, "n_layers", 8) || !strncmp(key, "n_features", 10)) {
            uint32_t u;
            ck_assert_int_eq(sm_smw_meta_u32(f, key[2] == 'l' ? "mlp.n_layers" : "mlp.n_features", &u, &err), SM_OK);
            ck_assert_uint_eq(u, strtoul(val, NULL, 10));
        } else if (!strncmp(key, "activation", 10) || !strncmp(key, "out_activation", 14) || !strncmp(key, "version", 7)) {
            sm_str s;
            const char *mk = key[0] == 'a' ? "mlp.activation" : key[0] == 'o' ? "mlp.out_activation" : "sklearn.version";
            ck_assert_int_eq(sm_smw_meta_string(f, mk, &s, &err), SM_OK);
            ck_assert_msg(s.len == strlen(val) && !memcmp(s.ptr, val, s.len), "%s: %.*s vs %s", mk, (int)s.len, s.ptr, val);
        } else if (!strncmp(key, "classes", 7)) {
            const sm_meta *c = sm_smw_find_meta(f, "mlp.classes");
            ck_assert(c && c->type == SM_META_ARRAY && c->elem_type == SM_META_I64);
            char *p = val;
            for (uint64_t i = 0; i < c->count; i++) {
                int64_t v;
                memcpy(&v, c->array_data + 8 * i, 8);
                ck_assert_int_eq(v, strtoll(p, &p, 10));
            }
            ck_assert_int_eq(*p, '\0');
        } else if (!strncmp(key, "steps", 5)) {
            const sm_meta *s = sm_smw_find_meta(f, "sklearn.steps");
            ck_assert(s && s->type == SM_META_ARRAY && s->elem_type == SM_META_STRING);
            char joined[256] = "";
            for (uint64_t i = 0; i < s->count; i++)
                snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%.*s", i ? "," : "",
                         (int)s->strings[i].len, s->strings[i].ptr);
            ck_assert_str_eq(joined, val);
        }
    }
    fclose(m);
}

START_TEST(joblib_trained_pipelines)
{
    static const char *const models[] = {"mlp_relu_bin", "mlp_tanh_3c", "mlp_logistic_bare", "mlp_identity_nomean"};
    for (int i = 0; i < 4; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.joblib", models[i]);
        converted c;
        convert_ok(need_fixture(name), sm_convert_joblib, NULL, "sklearn_mlp_pipeline", models[i], &c);
        check_mlp_meta(c.f, models[i]);
        conv_free(&c);
    }
}
END_TEST

START_TEST(joblib_user_fatigue)
{
    converted c;
    if (!convert_user("joblib_user_fatigue", "seed/checkpoints/fatigue_mlp.joblib", sm_convert_joblib,
                      "sklearn_mlp_pipeline", "fatigue", &c))
        return;
    check_mlp_meta(c.f, "fatigue");
    sm_str v;
    ck_assert_int_eq(sm_smw_meta_string(c.f, "sklearn.version", &v, &c.err), SM_OK);
    ck_assert(v.len == 5 && !memcmp(v.ptr, "1.6.1", 5));   /* SEED_MODELS.md section 7 */
    conv_free(&c);
}
END_TEST

START_TEST(joblib_compressed)
{
    convert_fails(need_fixture("mlp_compressed.joblib"), sm_convert_joblib, NULL, SM_ERR_UNSUPPORTED,
                  "recompress with joblib.dump(obj, path, compress=0)", NULL);
}
END_TEST

START_TEST(joblib_arrays_and_scalars)
{
    /* Fortran order, big-endian, f32/i32/u8 arrays and numpy scalars, as joblib writes them */
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(need_fixture("arrays.joblib"), 0, &buf, &len, &err), SM_OK);
    sm_pickle *pk;
    sm_pobj *top;
    ck_assert_msg(sm_pickle_load(buf, len, "arrays.joblib", true, &pk, &top, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(top->kind, SM_PK_DICT);
    FILE *m = fopen(need_fixture("arrays.manifest"), "r"), *b = fopen(need_fixture("arrays.bin"), "rb");
    ck_assert(m && b);
    manifest_line e;
    int n = 0;
    while (manifest_next(m, &e)) {
        const sm_pobj *a = sm_pk_dict_get(top, e.name);
        ck_assert_msg(a && a->kind == SM_PK_NDARRAY, "%s is not an array", e.name);
        static const struct { const char *dt; sm_pk_etype et; } map[] = {
            {"f64", SM_PK_F64}, {"f32", SM_PK_F32}, {"i32", SM_PK_I32}, {"u8", SM_PK_U8}};
        bool found = false;
        for (int k = 0; k < 4; k++)
            if (!strcmp(map[k].dt, e.dtype)) {
                ck_assert_int_eq(a->etype, map[k].et);
                found = true;
            }
        ck_assert(found);
        ck_assert_int_eq(a->ndim, e.ndim);
        for (int d = 0; d < e.ndim; d++)
            ck_assert_int_eq(a->dims[d], e.dims[d]);
        expect_reference_bytes(b, a->data, a->numel * sm_pk_etype_size(a->etype), e.name);
        n++;
    }
    ck_assert_int_eq(n, 5);
    fclose(m);
    fclose(b);
    FILE *sc = fopen(need_fixture("arrays.scalars"), "r");
    char line[512];
    while (fgets(line, sizeof line, sc)) {
        char name[64], val[64];
        ck_assert_int_eq(sscanf(line, "%63s %63s", name, val), 2);
        const sm_pobj *v = sm_pk_dict_get(top, name);
        ck_assert_ptr_nonnull(v);
        if (v->kind == SM_PK_INT)
            ck_assert_int_eq(v->i, strtoll(val, NULL, 10));
        else
            ck_assert_msg(v->kind == SM_PK_FLOAT && v->f == strtod(val, NULL), "%s: %g vs %s", name, v->f, val);
    }
    fclose(sc);
    sm_pickle_free(pk);
    free(buf);
}
END_TEST

/* ---- the program -------------------------------------------------------------- */

START_TEST(cli_convert_and_summary)
{
    const char *dir = sm_test_tmpdir();
    const char *in = need_fixture("rppg_gen.pth");
    char args[8192], out[16384];
    snprintf(args, sizeof args, "'%s' -o '%s/r.smw'", in, dir);
    ck_assert_int_eq(sm_test_run("smw-convert", args, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "architecture: ultralight_rppg"));
    ck_assert_ptr_nonnull(strstr(out, "tensors: 10"));
    ck_assert_ptr_nonnull(strstr(out, "parameters: 26465"));
    ck_assert_ptr_nonnull(strstr(out, "general.source = rppg_gen.pth"));
    snprintf(args, sizeof args, "%s/r.smw", dir);
    sm_smw *f;
    sm_error err;
    ck_assert_int_eq(sm_smw_open(args, NULL, &f, &err), SM_OK);
    ck_assert(sm_smw_arch_is(f, "ultralight_rppg"));
    sm_str s;
    ck_assert_int_eq(sm_smw_meta_string(f, "general.converter", &s, &err), SM_OK);
    ck_assert(s.len == strlen(SM_CONVERTER_VERSION) && !memcmp(s.ptr, SM_CONVERTER_VERSION, s.len));
    ck_assert_int_eq(sm_smw_meta_string(f, "general.source_sha256", &s, &err), SM_OK);
    /* coreutils' sha256sum is the reference for our SHA-256 */
    snprintf(args, sizeof args, "sha256sum '%s'", in);
    FILE *p = popen(args, "r");
    char ref[80] = "";
    ck_assert_ptr_nonnull(fgets(ref, sizeof ref, p));
    pclose(p);
    ck_assert(s.len == 64 && !memcmp(s.ptr, ref, 64));
    sm_smw_free(f);

    snprintf(args, sizeof args, "'%s' -o '%s/l.smw'", need_fixture("rppg_gen_legacy.pth"), dir);
    ck_assert_int_eq(sm_test_run("smw-convert", args, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "legacy torch.save format"));
    snprintf(args, sizeof args, "%s/l.smw", dir);
    ck_assert_int_ne(access(args, F_OK), 0);
}
END_TEST

START_TEST(cli_usage)
{
    char out[8192];
    ck_assert_int_eq(sm_test_run("smw-convert", "--help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: smw-convert INPUT -o OUT.smw"));
    ck_assert_int_eq(sm_test_run("smw-convert", "", out, sizeof out), 2);
    ck_assert_int_eq(sm_test_run("smw-convert", "x.pth", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "no output given"));
    ck_assert_int_eq(sm_test_run("smw-convert", "x.pth -o y.smw --bogus", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown option --bogus"));
    ck_assert_int_eq(sm_test_run("smw-convert", "x.pth -o y.smw --mean 1,2", out, sizeof out), 2);
    ck_assert_int_eq(sm_test_run("smw-convert", "x.pth -o y.smw --std 1,0,1", out, sizeof out), 2);
    ck_assert_int_eq(sm_test_run("smw-convert", "x.pth -o y.smw --input-size 0", out, sizeof out), 2);
    char args[8192];
    snprintf(args, sizeof args, "'%s' -o /nonexistent-dir/y.smw --arch nonsense", need_fixture("rppg_gen.pth"));
    ck_assert_int_eq(sm_test_run("smw-convert", args, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--arch nonsense"));
    ck_assert_int_eq(sm_test_run("smw-convert", "/nonexistent/in.pth -o y.smw", out, sizeof out), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("pth");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rppg_generated);
    tcase_add_test(tc, rppg_f16_and_checkpoint_dict);
    tcase_add_test(tc, rppg_user_checkpoint);
    tcase_add_test(tc, raw_dtypes_strides_offsets);
    tcase_add_test(tc, zipfile_made_checkpoint);
    tcase_add_test(tc, emotion_variants);
    tcase_add_test(tc, emotion_labels_and_input_options);
    tcase_add_test(tc, emotion_missing_or_wrong_shape);
    suite_add_tcase(s, tc);
    tc = tcase_create("joblib");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, joblib_trained_pipelines);
    tcase_add_test(tc, joblib_user_fatigue);
    tcase_add_test(tc, joblib_compressed);
    tcase_add_test(tc, joblib_arrays_and_scalars);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cli_convert_and_summary);
    tcase_add_test(tc, cli_usage);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

/* The .npy reader/writer: round trips, handcrafted bad headers (each with the
 * message it must give), and files written by NumPy (gen_npy_samples.py). */
#include "npy.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A .npy buffer with the given version, dict text and data_len bytes of data. */
static uint8_t *make_npy(int major, const char *dict, size_t data_len, size_t *len)
{
    size_t pre = major == 1 ? 10 : 12, hl = strlen(dict);
    *len = pre + hl + data_len;
    uint8_t *b = calloc(1, *len + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        b[8 + i] = (uint8_t)(hl >> (8 * i));
    memcpy(b + pre, dict, hl);
    for (size_t i = 0; i < data_len; i++)
        b[pre + hl + i] = (uint8_t)i;
    return b;
}

static void expect_bad(const uint8_t *b, size_t len, const char *needle)
{
    sm_npy a;
    sm_error err = {0};
    sm_status st = sm_npy_parse(b, len, "case.npy", &a, &err);
    ck_assert_msg(st != SM_OK, "accepted a bad file (expected '%s')", needle);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, "case.npy") != NULL, "message '%s' lacks the file name", err.msg);
    ck_assert_ptr_null(a.data);
}

static void expect_bad_dict(const char *dict, size_t data_len, const char *needle)
{
    size_t len;
    uint8_t *b = make_npy(1, dict, data_len, &len);
    expect_bad(b, len, needle);
    free(b);
}

START_TEST(test_round_trip)
{
    static const sm_dtype dts[] = {SM_DTYPE_F32, SM_DTYPE_F64, SM_DTYPE_I64, SM_DTYPE_I32, SM_DTYPE_U8};
    static const uint64_t shapes[][6] = {
        /* ndim, dims... */
        {0}, {1, 7}, {2, 3, 5}, {3, 2, 1, 4}, {4, 1, 3, 2, 2}, {5, 2, 1, 3, 1, 2}, {2, 0, 4},
    };
    sm_test_seed(7);
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            uint32_t ndim = (uint32_t)shapes[s][0];
            const uint64_t *dims = &shapes[s][1];
            size_t numel = 1;
            for (uint32_t i = 0; i < ndim; i++)
                numel *= dims[i];
            size_t isz = sm_dtype_size(dts[d]), nb = numel * isz;
            uint8_t *data = malloc(nb + 1);
            for (size_t i = 0; i < nb; i++)
                data[i] = (uint8_t)(sm_test_uniform(0, 256));
            if (dts[d] == SM_DTYPE_F32 || dts[d] == SM_DTYPE_F64) /* keep floats finite */
                for (size_t i = 0; i < numel; i++) {
                    if (dts[d] == SM_DTYPE_F32)
                        ((float *)data)[i] = sm_test_uniform(-5, 5);
                    else
                        ((double *)data)[i] = sm_test_uniform(-5, 5) / 3.0;
                }
            uint8_t *buf;
            size_t len;
            sm_error err;
            ck_assert_int_eq(sm_npy_serialize(dts[d], ndim, dims, data, &buf, &len, &err), SM_OK);
            size_t hdr = len - nb;
            ck_assert_uint_eq(hdr % 64, 0); /* numpy's alignment */
            ck_assert_uint_eq(buf[hdr - 1], '\n');
            sm_npy a;
            ck_assert_int_eq(sm_npy_parse(buf, len, "rt.npy", &a, &err), SM_OK);
            ck_assert_int_eq(a.dtype, dts[d]);
            ck_assert_uint_eq(a.ndim, ndim);
            for (uint32_t i = 0; i < ndim; i++)
                ck_assert_uint_eq(a.dims[i], dims[i]);
            ck_assert_uint_eq(a.numel, numel);
            ck_assert_uint_eq(a.nbytes, nb);
            if (nb)
                ck_assert(!memcmp(a.data, data, nb));
            sm_npy_free(&a);
            sm_npy_free(&a); /* idempotent */
            free(buf);
            free(data);
        }
    }
    sm_npy_free(NULL);
}
END_TEST

START_TEST(test_save_atomic)
{
    const char *dir = sm_test_tmpdir();
    ck_assert_ptr_nonnull(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    double v[6] = {1, 2, 3, 4, 5, 6.5};
    uint64_t dims[2] = {2, 3};
    sm_error err;
    ck_assert_int_eq(sm_npy_save(path, SM_DTYPE_F64, 2, dims, v, &err), SM_OK);
    sm_npy a;
    ck_assert_int_eq(sm_npy_load(path, &a, &err), SM_OK);
    ck_assert(!memcmp(a.data, v, sizeof v));
    sm_npy_free(&a);
    /* only x.npy in the directory: no temp file left behind */
    DIR *dd = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dd)))
        if (e->d_name[0] != '.')
            n++;
    closedir(dd);
    ck_assert_int_eq(n, 1);
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.npy", dir);
    ck_assert_int_ne(sm_npy_save(bad, SM_DTYPE_F64, 2, dims, v, &err), SM_OK);
    ck_assert_int_ne(sm_npy_save(path, SM_DTYPE_F16, 2, dims, v, &err), SM_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "f16"));
    ck_assert_int_ne(sm_npy_load(bad, &a, &err), SM_OK);
    ck_assert_int_eq(err.status, SM_ERR_IO);
}
END_TEST

START_TEST(test_bad_preamble)
{
    size_t len;
    uint8_t *b = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, &len);
    expect_bad(b, 0, "truncated");
    expect_bad(b, 9, "truncated");
    expect_bad(b, 20, "truncated .npy header");
    uint8_t save = b[0];
    b[0] = 'X';
    expect_bad(b, len, "bad magic");
    b[0] = save;
    b[6] = 4;
    expect_bad(b, len, "version 4.0");
    b[6] = 1;
    b[7] = 1;
    expect_bad(b, len, "version 1.1");
    b[7] = 0;
    b[8] = 0xff; /* header length beyond the file */
    b[9] = 0xff;
    expect_bad(b, len, "truncated .npy header");
    free(b);
    /* v2 header length is u32 */
    b = make_npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, &len);
    sm_npy a;
    sm_error err;
    ck_assert_int_eq(sm_npy_parse(b, len, "v2.npy", &a, &err), SM_OK);
    ck_assert_uint_eq(a.dims[0], 2);
    sm_npy_free(&a);
    b[11] = 0x80;
    expect_bad(b, len, "truncated .npy header");
    free(b);
    /* a NUL inside the header */
    b = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, &len);
    b[15] = 0;
    expect_bad(b, len, "non-text byte");
    free(b);
}
END_TEST

/* Header dicts the parser must refuse: dict, data bytes after it, what the message says. */
static const struct {
    const char *dict;
    size_t data_len;
    const char *needle;
} bad_dicts[] = {
    {"'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, "expected '{'"},
    {"{'descr': '<f4', 'fortran_order': False, }\n", 8, "missing key 'shape'"},
    {"{'fortran_order': False, 'shape': (2,), }\n", 8, "missing key 'descr'"},
    {"{'descr': '<f4', 'shape': (2,), }\n", 8, "missing key 'fortran_order'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 8, "unexpected key 'x'"},
    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", 8, "duplicate key 'descr'"},
    {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}\n", 8, "True or False"},
    {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}\n", 8, "True or False"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}\n", 8, "must be a tuple"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}\n", 8, "non-negative integer"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}\n", 8, "expected ',' or ')'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,\n", 8, "non-negative integer"},
    {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}\n", 8, "expected ',' or '}'"},
    {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}\n", 8, "expected ':'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk\n", 8, "unexpected bytes after the dict"},
    {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}\n", 8, "expected ',' or '}'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8, "expected ',' or '}'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", 8, "expected a quoted string"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'sha", 8, "unterminated string"},
    {"{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2,)}\n", 8, "escapes"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}\n", 8, "dimension too large"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}\n", 8, "overflows"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1)}\n", 4, "more than 5 dimensions"},
    /* dtypes */
    {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}\n", 8, "unsupported .npy dtype '>f4'"},
    {"{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}\n", 4, "unsupported .npy dtype '<f2'"},
    {"{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}\n", 2, "'|b1'"},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (2,)}\n", 16, "'|O'"},
    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}\n", 8, "structured"},
    /* data length */
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", 20,
     "data is 20 bytes, expected 24 for shape [2, 3] of <f4"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\n", 17, "data is 17 bytes, expected 16"},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': ()}\n", 0, "expected 8"},
};

START_TEST(test_bad_dict)
{
    for (size_t i = 0; i < sizeof bad_dicts / sizeof bad_dicts[0]; i++)
        expect_bad_dict(bad_dicts[i].dict, bad_dicts[i].data_len, bad_dicts[i].needle);
    /* accepted variants: double quotes, no trailing comma, Python 2 longs, key order */
    const char *good[] = {
        "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2,)}",
        "{'shape': (2L,), 'fortran_order': False, 'descr': '<i4'}  \n",
        "{'descr':'<i4','fortran_order':False,'shape':(2,),}",
    };
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        uint8_t *b = make_npy(1, good[i], 8, &len);
        sm_npy a;
        sm_error err;
        ck_assert_msg(sm_npy_parse(b, len, "good.npy", &a, &err) == SM_OK, "%s: %s", good[i], err.msg);
        ck_assert_int_eq(a.dtype, SM_DTYPE_I32);
        ck_assert_uint_eq(a.dims[0], 2);
        sm_npy_free(&a);
        free(b);
    }
}
END_TEST

static double sum_of(const sm_npy *a)
{
    double s = 0;
    for (uint64_t i = 0; i < a->numel; i++) {
        switch (a->dtype) {
        case SM_DTYPE_F32: s += ((const float *)a->data)[i]; break;
        case SM_DTYPE_F64: s += ((const double *)a->data)[i]; break;
        case SM_DTYPE_I64: s += (double)((const int64_t *)a->data)[i]; break;
        case SM_DTYPE_I32: s += ((const int32_t *)a->data)[i]; break;
        case SM_DTYPE_U8: s += ((const uint8_t *)a->data)[i]; break;
        default: ck_abort();
        }
    }
    return s;
}

START_TEST(test_numpy_files)
{
    const char *expect = sm_test_fixture("npy_samples/expect.txt");
    ck_assert_msg(expect != NULL, "fixture npy_samples/expect.txt missing (gen_npy_samples.py)");
    FILE *f = fopen(expect, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int n_ok = 0, n_bad = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128], kind[16], a1[64] = "", a2[64] = "", a3[64] = "";
        int k = sscanf(line, "%127s %15s %63s %63s %63s", name, kind, a1, a2, a3);
        ck_assert_int_ge(k, 3);
        char rel[256];
        snprintf(rel, sizeof rel, "npy_samples/%s", name);
        const char *path = sm_test_fixture(rel);
        ck_assert_msg(path != NULL, "missing %s", rel);
        sm_npy a;
        sm_error err = {0};
        sm_status st = sm_npy_load(path, &a, &err);
        if (!strcmp(kind, "bad")) {
            ck_assert_msg(st != SM_OK, "%s accepted", name);
            ck_assert_msg(strstr(err.msg, a1) && strstr(err.msg, name), "%s: message '%s' lacks '%s'", name,
                          err.msg, a1);
            n_bad++;
            continue;
        }
        ck_assert_msg(st == SM_OK, "%s: %s", name, err.msg);
        ck_assert_str_eq(sm_npy_descr(a.dtype), a1);
        char shape[64] = "";
        for (uint32_t i = 0; i < a.ndim; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu", i ? "," : "",
                     (unsigned long long)a.dims[i]);
        ck_assert_str_eq(a.ndim ? shape : "-", a2);
        ck_assert_msg(sum_of(&a) == strtod(a3, NULL), "%s: sum %.17g, numpy %s", name, sum_of(&a), a3);
        sm_npy_free(&a);
        n_ok++;
    }
    fclose(f);
    ck_assert_int_ge(n_ok, 10);
    ck_assert_int_ge(n_bad, 5);

    /* the Fortran-order file equals the C-order one element by element */
    sm_npy c, fo;
    sm_error err;
    ck_assert_int_eq(sm_npy_load(sm_test_fixture("npy_samples/f4_3d.npy"), &c, &err), SM_OK);
    ck_assert_int_eq(sm_npy_load(sm_test_fixture("npy_samples/f4_fortran.npy"), &fo, &err), SM_OK);
    ck_assert_uint_eq(c.nbytes, fo.nbytes);
    ck_assert(!memcmp(c.data, fo.data, c.nbytes));
    for (int i = 0; i < 24; i++)
        ck_assert(((float *)c.data)[i] == (float)i * 0.25f - 2.0f);
    sm_npy_free(&c);
    sm_npy_free(&fo);
}
END_TEST

/* Random corruptions of valid files never crash the parser (run under ASan
 * by make SANITIZE=1) and every rejection carries a message. */
START_TEST(test_mutations)
{
    uint64_t dims[3] = {2, 3, 4};
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i;
    uint8_t *good;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_npy_serialize(SM_DTYPE_F32, 3, dims, v, &good, &len, &err), SM_OK);
    uint8_t *b = malloc(len);
    sm_test_seed(99);
    int n_ok = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(b, good, len);
        size_t hdr = len - sizeof v;
        int flips = 1 + (int)sm_test_uniform(0, 3);
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)sm_test_uniform(0, (float)hdr);
            static const char pool[] = "{}()',:0123456789 \n\"TrueFalse<>|f4i8u1L[]";
            b[pos] = it & 1 ? (uint8_t)sm_test_uniform(0, 256) : (uint8_t)pool[(size_t)sm_test_uniform(0, sizeof pool - 1)];
        }
        size_t l = it % 3 ? len : (size_t)sm_test_uniform(0, (float)len);
        sm_npy a;
        err.msg[0] = '\0';
        sm_status st = sm_npy_parse(b, l, "m.npy", &a, &err);
        if (st == SM_OK) {
            n_ok++;
            ck_assert_uint_le(a.nbytes, l);
            sm_npy_free(&a);
        } else {
            ck_assert_msg(err.msg[0] != '\0', "rejection without a message");
            ck_assert_ptr_null(a.data);
        }
    }
    printf("  npy mutations: 20000 corrupted files, %d still valid, the rest rejected with messages\n", n_ok);
    free(b);
    free(good);
}
END_TEST

/* The PyTorch reference files (gen_seed_refs.py) read back with the layouts
 * docs/MODELS.md promises, and the stage sizes of SEED_MODELS.md 2.4/2.5. */
static void check_ref(const char *rel, sm_dtype dt, uint32_t ndim, const uint64_t *dims)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "reference %s missing", rel);
    sm_npy a;
    sm_error err;
    ck_assert_msg(sm_npy_load(p, &a, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(a.dtype, dt);
    ck_assert_uint_eq(a.ndim, ndim);
    for (uint32_t i = 0; i < ndim; i++)
        ck_assert_msg(a.dims[i] == dims[i], "%s: dim %u is %llu, expected %llu", rel, i,
                      (unsigned long long)a.dims[i], (unsigned long long)dims[i]);
    sm_npy_free(&a);
}

START_TEST(test_reference_layouts)
{
    static const struct {
        const char *name;
        uint64_t size;
        uint64_t hw[9];
    } cases[] = {
        {"pattern300", 300, {150, 150, 75, 38, 19, 19, 10, 10, 10}},
        {"face300", 300, {150, 150, 75, 38, 19, 19, 10, 10, 10}},
        {"noise300", 300, {150, 150, 75, 38, 19, 19, 10, 10, 10}},
        {"face224", 224, {112, 112, 56, 28, 14, 14, 7, 7, 7}},
    };
    static const char *stages[9] = {"stem", "stage0", "stage1", "stage2", "stage3",
                                    "stage4", "stage5", "stage6", "head"};
    static const uint64_t ch[9] = {40, 24, 32, 48, 96, 136, 232, 384, 1536};
    if (!sm_test_fixture("emotion_ref/face300/input.npy")) {
        sm_test_skip("emotion reference layouts", "gen_seed_refs.py outputs absent");
        return;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char rel[256];
        uint64_t in[4] = {1, 3, cases[c].size, cases[c].size};
        snprintf(rel, sizeof rel, "emotion_ref/%s/input.npy", cases[c].name);
        check_ref(rel, SM_DTYPE_F32, 4, in);
        static const struct { const char *n; uint64_t w; } outs[] = {
            {"logits", 8}, {"probs", 8}, {"valence", 1}, {"arousal", 1}, {"gate", 2}, {"features", 1536}};
        for (size_t o = 0; o < 6; o++) {
            uint64_t d[2] = {1, outs[o].w};
            snprintf(rel, sizeof rel, "emotion_ref/%s/%s.npy", cases[c].name, outs[o].n);
            check_ref(rel, SM_DTYPE_F32, 2, d);
        }
        for (int s = 0; s < 9; s++) {
            uint64_t d[4] = {1, cases[c].hw[s], cases[c].hw[s], ch[s]}; /* NHWC */
            snprintf(rel, sizeof rel, "emotion_ref/%s/stages/%s.npy", cases[c].name, stages[s]);
            check_ref(rel, SM_DTYPE_F32, 4, d);
        }
    }
    if (!sm_test_fixture("ultralight_ref/random/input.npy")) {
        sm_test_skip("UltraLightNet reference layouts", "shared/seed/checkpoints/best_model.pth absent");
        return;
    }
    uint64_t uin[5] = {1, 180, 3, 36, 36}, ub[1] = {1};
    check_ref("ultralight_ref/random/input.npy", SM_DTYPE_F32, 5, uin);
    check_ref("ultralight_ref/random/bpm.npy", SM_DTYPE_F32, 1, ub);
    check_ref("ultralight_ref/constant/input.npy", SM_DTYPE_F32, 5, uin);
    check_ref("ultralight_ref/constant/bpm.npy", SM_DTYPE_F32, 1, ub);
    uint64_t ub2[1] = {2}, uin2[5] = {2, 180, 3, 36, 36}, uin90[5] = {1, 90, 3, 36, 36};
    check_ref("ultralight_ref/batch2/input.npy", SM_DTYPE_F32, 5, uin2);
    check_ref("ultralight_ref/batch2/bpm.npy", SM_DTYPE_F32, 1, ub2);
    check_ref("ultralight_ref/t90/input.npy", SM_DTYPE_F32, 5, uin90);
    check_ref("ultralight_ref/t90/bpm.npy", SM_DTYPE_F32, 1, ub);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_save_atomic);
    tcase_add_test(tc, test_bad_preamble);
    tcase_add_test(tc, test_bad_dict);
    tcase_add_test(tc, test_numpy_files);
    tcase_add_test(tc, test_reference_layouts);
    tcase_add_test(tc, test_mutations);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

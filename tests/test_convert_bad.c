/* Bad input for smw-convert: the handcrafted files of tests/fixtures/convert-bad
 * (made by make_bad_files.py), a pickle that would run a shell command, the
 * restricted pickle machine's caps, the zip reader's bounds, and SHA-256. Every
 * rejection gives a clear message, exit status 1, and no output file. */
#include "convert.h"
#include "pickle.h"
#include "sha256.h"
#include "sm_engine.h"
#include "sm_test.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *file;
    const char *msg;
} bad_files[] = {
    {"global_os_system.pkl", "refusing pickle global 'os.system'"},
    {"global_posix_system.pkl", "refusing pickle global 'posix.system'"},
    {"global_nt_system.pkl", "refusing pickle global 'nt.system'"},
    {"global_subprocess_popen.pkl", "refusing pickle global 'subprocess.Popen'"},
    {"global_builtins_eval.pkl", "refusing pickle global 'builtins.eval'"},
    {"global_builtins_getattr.pkl", "refusing pickle global 'builtins.getattr'"},
    {"stack_global_os_system.pkl", "refusing pickle global 'os.system'"},
    {"stack_global_posix_system.pkl", "refusing pickle global 'posix.system'"},
    {"stack_global_nt_system.pkl", "refusing pickle global 'nt.system'"},
    {"stack_global_subprocess_popen.pkl", "refusing pickle global 'subprocess.Popen'"},
    {"stack_global_builtins_eval.pkl", "refusing pickle global 'builtins.eval'"},
    {"stack_global_builtins_getattr.pkl", "refusing pickle global 'builtins.getattr'"},
    {"unknown_opcode.pkl", "pickle offset 2: unknown or unsupported pickle opcode 0xff"},
    {"memo_out_of_range.pkl", "memo index 5 out of range (memo holds 1 objects)"},
    {"stack_underflow.pkl", "stack underflow"},
    {"deep_nesting.pkl", "nested deeper than 64 levels"},
    {"truncated.pkl", "truncated pickle: opcode 0x58 needs 16 more bytes, 3 left"},
    {"no_stop.pkl", "truncated pickle: no STOP opcode"},
    {"malicious.pth", "m/data.pkl: pickle offset 2: refusing pickle global 'os.system'"},
    {"missing_storage.pth", "tensor 'fc.0.weight': storage 'm/data/4' is missing from the zip"},
    {"short_storage.pth", "tensor 'w': storage 'm/data/0' holds 10 float32 elements"},
    {"bad_stride.pth", "the view (offset 0, size x stride) needs 23"},
    {"expand_bomb.pth", "a view of 10000000000 elements over a storage of 1 elements (more than 64x)"},
    {"compressed_entries.pth", "unsupported compression method 8 in entry 'm/data.pkl'"},
    {"bad_central_directory.pth", "bad central directory: entry 0"},
    {"entry_past_eof.pth", "entry 'm/data.pkl': data [40, +2147418112) lies past the end of the file"},
    {"cd_offset_past_eof.pth", "central directory [109644, +651) lies past the end of the file"},
    {"truncated_zip.pth", "no end-of-central-directory record"},
    {"wrong_shape.pth", "tensor 'conv.0.weight' has shape [16, 3, 3, 3], expected [16, 3, 5, 5]"},
    {"missing_tensor.pth", "tensor 'fc.5.bias' [1] is missing from the state_dict"},
    {"unknown_arch.pth", "unknown architecture: 1 tensors (encoder.weight [2, 3])"},
    {"compressed_zlib.joblib", "compressed joblib file (zlib) is not supported: recompress with joblib.dump(obj, path, compress=0)"},
    {"compressed_xz_magic.joblib", "compressed joblib file (xz)"},
    {"array_past_end.joblib", "joblib array of 800 bytes (100 x float64) at offset 197 runs past the end of the file (16 bytes left)"},
    {"not_a_model.joblib", "the joblib file holds a ndarray"},
};

START_TEST(bad_file_rejected)
{
    const char *dir = sm_test_tmpdir();
    char rel[256], args[8192], out[8192], outfile[4200];
    snprintf(rel, sizeof rel, "convert-bad/%s", bad_files[_i].file);
    const char *in = sm_test_committed(rel);
    ck_assert_msg(access(in, R_OK) == 0, "%s missing", in);
    snprintf(outfile, sizeof outfile, "%s/out.smw", dir);
    snprintf(args, sizeof args, "'%s' -o '%s'", in, outfile);
    int rc = sm_test_run("smw-convert", args, out, sizeof out);
    ck_assert_msg(rc == 1, "%s: exit %d: %s", bad_files[_i].file, rc, out);
    ck_assert_msg(strstr(out, bad_files[_i].msg) != NULL, "%s: message '%s' lacks '%s'", bad_files[_i].file, out,
                  bad_files[_i].msg);
    ck_assert_msg(strstr(out, bad_files[_i].file) != NULL, "message does not name the file: %s", out);
    ck_assert_int_ne(access(outfile, F_OK), 0);   /* nothing written */
    rmdir(dir);
}
END_TEST

/* A pickle that runs `touch MARKER` when Python loads it. smw-convert refuses
 * it and the marker never appears; Python's own pickle (the control) creates it,
 * which proves the payload is live. */
START_TEST(no_code_runs)
{
    const char *dir = sm_test_tmpdir();
    char marker[4200], cmd[4400], pkl[4200], args[9000], out[8192];
    snprintf(marker, sizeof marker, "%s/MARKER", dir);
    snprintf(cmd, sizeof cmd, "touch '%s'", marker);
    snprintf(pkl, sizeof pkl, "%s/evil.pkl", dir);
    FILE *f = fopen(pkl, "wb");
    uint32_t n = (uint32_t)strlen(cmd);
    uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    fwrite("\x80\x02" "cos\nsystem\n" "X", 1, 14, f);
    fwrite(len, 1, 4, f);
    fwrite(cmd, 1, n, f);
    fwrite("\x85R.", 1, 3, f);
    fclose(f);
    snprintf(args, sizeof args, "'%s' -o '%s/out.smw'", pkl, dir);
    ck_assert_int_eq(sm_test_run("smw-convert", args, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "refusing pickle global 'os.system'"));
    ck_assert_int_ne(access(marker, F_OK), 0);
    /* the same bytes through the in-process reader */
    uint8_t *buf;
    size_t blen;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(pkl, 0, &buf, &blen, &err), SM_OK);
    sm_smw_writer *w;
    sm_convert_opts o;
    sm_convert_summary sum;
    memset(&o, 0, sizeof o);
    memset(&sum, 0, sizeof sum);
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    ck_assert_int_eq(sm_convert_joblib(buf, blen, pkl, &o, w, &sum, &err), SM_ERR_UNSUPPORTED);
    sm_smw_writer_free(w);
    free(buf);
    ck_assert_int_ne(access(marker, F_OK), 0);
    const char *py = getenv("SM_PYTHON");
    if (py && *py && access(py, X_OK) == 0) {
        snprintf(args, sizeof args, "'%s' -c \"import pickle,sys; pickle.load(open(sys.argv[1],'rb'))\" '%s'", py, pkl);
        ck_assert_int_eq(system(args), 0);
        ck_assert_msg(access(marker, F_OK) == 0, "control: Python's pickle did not run the payload");
        unlink(marker);
    } else {
        sm_test_skip("no_code_runs control", "SM_PYTHON not set");
    }
}
END_TEST

/* ---- the pickle machine in process --------------------------------------------- */

static sm_status load(const uint8_t *p, size_t n, sm_pickle **pk, sm_pobj **o, sm_error *err)
{
    return sm_pickle_load(p, n, "t.pkl", false, pk, o, err);
}

START_TEST(pickle_values)
{
    /* LONG1 -1 and 2^40, BINFLOAT 1.5 (big-endian), BININT -2, TUPLE3, NEWTRUE, NONE */
    static const uint8_t p[] = {0x80, 2, '(', 0x8a, 1, 0xff, 0x8a, 6, 0, 0, 0, 0, 0, 1,
                                'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'J', 0xfe, 0xff, 0xff, 0xff,
                                0x88, 'N', 'K', 7, 0x87, 't', '.'};
    sm_pickle *pk;
    sm_pobj *o;
    sm_error err;
    ck_assert_msg(load(p, sizeof p, &pk, &o, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(o->kind, SM_PK_TUPLE);
    ck_assert_uint_eq(o->n, 5);
    ck_assert_int_eq(o->items[0]->i, -1);
    ck_assert_int_eq(o->items[1]->i, 1LL << 40);
    ck_assert(o->items[2]->f == 1.5);
    ck_assert_int_eq(o->items[3]->i, -2);
    ck_assert_int_eq(o->items[4]->kind, SM_PK_TUPLE);
    ck_assert_uint_eq(o->items[4]->n, 3);
    sm_pickle_free(pk);
}
END_TEST

static void expect_fail(const uint8_t *p, size_t n, const char *msg)
{
    sm_pickle *pk;
    sm_pobj *o;
    sm_error err;
    ck_assert_int_ne(load(p, n, &pk, &o, &err), SM_OK);
    ck_assert_msg(strstr(err.msg, msg) != NULL, "'%s' lacks '%s'", err.msg, msg);
    ck_assert_ptr_null(pk);
}

START_TEST(pickle_caps)
{
    size_t n = 2 + 2 * (size_t)(SM_PICKLE_MAX_OBJECTS + 1) + 1;
    uint8_t *p = malloc(n > 400100 ? n : 400100);
    /* stack depth */
    p[0] = 0x80; p[1] = 2;
    memset(p + 2, 'N', SM_PICKLE_MAX_STACK + 1);
    p[2 + SM_PICKLE_MAX_STACK + 1] = '.';
    expect_fail(p, SM_PICKLE_MAX_STACK + 4, "stack deeper than");
    /* marks */
    memset(p + 2, '(', SM_PICKLE_MAX_STACK + 1);
    expect_fail(p, SM_PICKLE_MAX_STACK + 4, "MARKs (cap)");
    /* object count: push and pop None over and over */
    for (size_t i = 0; i < SM_PICKLE_MAX_OBJECTS + 1; i++) {
        p[2 + 2 * i] = 'N';
        p[3 + 2 * i] = '0';
    }
    p[n - 1] = '.';
    expect_fail(p, n, "objects (cap)");
    free(p);
    /* memo index beyond the cap */
    static const uint8_t memo[] = {0x80, 2, 'N', 'r', 0xff, 0xff, 0xff, 0x7f, '.'};
    expect_fail(memo, sizeof memo, "exceeds the cap");
    /* a list appended to itself nests without end */
    static const uint8_t cyc[] = {0x80, 2, ']', 'q', 0, 'h', 0, 'a', 'h', 0, 'a', 'h', 0, 'a', '.'};
    sm_pickle *pk;
    sm_pobj *o;
    sm_error err;
    ck_assert_int_eq(load(cyc, sizeof cyc, &pk, &o, &err), SM_OK);   /* bounded: depth grows per APPEND */
    sm_pickle_free(pk);
    uint8_t big[2 + 3 * 70 + 1];
    big[0] = 0x80; big[1] = 2; big[2] = ']'; big[3] = 'q'; big[4] = 0;
    size_t k = 5;
    for (int i = 0; i < 68; i++) { big[k++] = 'h'; big[k++] = 0; big[k++] = 'a'; }
    big[k++] = '.';
    expect_fail(big, k, "nested deeper than");
    /* protocol, persistent id in joblib, BUILD on a list, text PERSID */
    static const uint8_t proto[] = {0x80, 9, 'N', '.'};
    expect_fail(proto, sizeof proto, "pickle protocol 9");
    static const uint8_t persid_txt[] = {0x80, 2, 'P', '1', '\n', '.'};
    expect_fail(persid_txt, sizeof persid_txt, "unsupported pickle opcode 0x50");
    static const uint8_t bld[] = {0x80, 2, ']', '}', 'b', '.'};
    expect_fail(bld, sizeof bld, "BUILD on a list");
    static const uint8_t long1[] = {0x80, 2, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'};
    expect_fail(long1, sizeof long1, "LONG1 integer of 9 bytes");
    /* a NUL byte cannot smuggle a name past the allow-list */
    static const char nul[] = "\x80\x04\x8c\x10" "collections\0evil" "\x8c\x0b" "OrderedDict" "\x93.";
    expect_fail((const uint8_t *)nul, sizeof nul - 1, "NUL byte");
    /* REDUCE of an allow-listed class that is not a constructor we implement */
    static const char red[] = "\x80\x02" "cnumpy\nndarray\n)R.";
    expect_fail((const uint8_t *)red, sizeof red - 1, "REDUCE of numpy.ndarray is not supported");
}
END_TEST

/* ---- zip ---------------------------------------------------------------------- */

START_TEST(zip_bounds)
{
    sm_zip z;
    sm_error err;
    static const uint8_t tiny[10] = {0};
    ck_assert_int_eq(sm_zip_open(&z, tiny, sizeof tiny, "t.zip", &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "too short"));
    /* an EOCD claiming 3 entries in an empty directory */
    uint8_t e[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(sm_zip_open(&z, e, sizeof e, "t.zip", &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "3 entries cannot fit a 0-byte central directory"));
    /* a ZIP64 locator pointing nowhere */
    uint8_t l[42] = {'P', 'K', 6, 7, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                     'P', 'K', 5, 6};
    ck_assert_int_eq(sm_zip_open(&z, l, sizeof l, "t.zip", &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "ZIP64 locator points to offset 65535"));
    sm_zip_free(NULL);
    /* the real torch layout (ZIP64 end record + locator, padded local headers) */
    const char *p = sm_test_fixture("rppg_gen.pth");
    if (!p) {
        sm_test_skip("zip_bounds torch file", "fixtures not generated");
        return;
    }
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sm_file_read_all(p, 0, &buf, &len, &err), SM_OK);
    ck_assert_msg(sm_zip_open(&z, buf, len, p, &err) == SM_OK, "%s", err.msg);
    size_t count;
    const sm_zip_entry *pk = sm_zip_find_suffix(&z, "/data.pkl", &count);
    ck_assert_ptr_nonnull(pk);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq(pk->name, "rppg_gen/data.pkl");
    const sm_zip_entry *d0 = sm_zip_find(&z, "rppg_gen/data/0");
    ck_assert_ptr_nonnull(d0);
    ck_assert_uint_eq(d0->data_offset % 64, 0);
    ck_assert_uint_eq(d0->size, 16 * 3 * 5 * 5 * 4);
    ck_assert_ptr_null(sm_zip_find(&z, "rppg_gen/data/99"));
    sm_zip_free(&z);
    free(buf);
}
END_TEST

/* ---- SHA-256: FIPS 180-2 test vectors ------------------------------------------ */

START_TEST(sha256_vectors)
{
    char hex[65];
    sm_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sm_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sm_sha256_hex(two, strlen(two), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    sm_sha256_ctx c;
    sm_sha256_init(&c);
    for (size_t i = 0; i < 1000000; i += 999)   /* odd chunks cross block boundaries */
        sm_sha256_update(&c, a + i, i + 999 <= 1000000 ? 999 : 1000000 - i);
    uint8_t d[32];
    sm_sha256_final(&c, d);
    ck_assert(d[0] == 0xcd && d[1] == 0xc7 && d[31] == 0xd0);   /* cdc76e5c...046d39ccc7112cd0 */
    free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert_bad");
    TCase *tc = sm_test_tcase(s, "files", 60);
    tcase_add_loop_test(tc, bad_file_rejected, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, no_code_runs);
    tc = sm_test_tcase(s, "units", 120);
    tcase_add_test(tc, pickle_values);
    tcase_add_test(tc, pickle_caps);
    tcase_add_test(tc, zip_bounds);
    tcase_add_test(tc, sha256_vectors);
    return sm_test_main(s);
}

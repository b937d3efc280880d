/* The .smw format: round trips through the writer and the reader, the
 * handcrafted bad files in tests/fixtures/smw-bad (made by make_bad_files.py,
 * an independent writer of docs/FORMAT.md), lookups, and smw-info. */
#include "sm_engine.h"
#include "sm_test.h"
#include "smw_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const float f32_vals[6] = {1.5f, -2.25f, 0.0f, 3.0e-8f, 65504.0f, -1e30f};
static const uint16_t f16_vals[3] = {0x3c00, 0xc000, 0x7bff};
static const int64_t i64_vals[2] = {-5, 1234567890123LL};
static const double f64_vals[3] = {0.1, -1e300, 3.141592653589793};
static const int32_t i32_vals[2] = {-7, 2147483647};
static const uint8_t u8_vals[5] = {0, 1, 2, 254, 255};

static sm_smw_writer *make_full_writer(void)
{
    sm_smw_writer *w;
    sm_error err;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "general.architecture", "roundtrip", &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "input.size", 300, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i32(w, "test.i32", -42, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_f32(w, "test.f32", 0.5f, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u64(w, "test.u64", 0xfedcba9876543210ull, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_i64(w, "test.i64", -9000000000LL, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_f64(w, "test.f64", 0.1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_bool(w, "test.bool", true, &err), SM_OK);
    const char *labels[3] = {"angry", "", "tired"};
    ck_assert_int_eq(sm_smw_writer_add_array(w, "emotion.labels", SM_META_STRING, labels, 3, &err), SM_OK);
    const float mean[3] = {0.5f, 0.25f, -1.0f};
    ck_assert_int_eq(sm_smw_writer_add_array(w, "input.mean", SM_META_F32, mean, 3, &err), SM_OK);
    const uint32_t u32a[2] = {1, 4000000000u};
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.u32s", SM_META_U32, u32a, 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.i32s", SM_META_I32, i32_vals, 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.f64s", SM_META_F64, f64_vals, 3, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.i64s", SM_META_I64, i64_vals, 2, &err), SM_OK);
    const bool bools[2] = {false, true};
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.bools", SM_META_BOOL, bools, 2, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "test.empty", SM_META_U64, NULL, 0, &err), SM_OK);

    uint64_t d23[2] = {2, 3}, d3[1] = {3}, d2[1] = {2}, d5[1] = {5}, d1111[4] = {1, 1, 1, 3};
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "a.f32", SM_DTYPE_F32, 2, d23, f32_vals, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "b.f16", SM_DTYPE_F16, 1, d3, f16_vals, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "c.i64", SM_DTYPE_I64, 1, d2, i64_vals, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "d.f64", SM_DTYPE_F64, 4, d1111, f64_vals, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "e.i32", SM_DTYPE_I32, 1, d2, i32_vals, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "f.u8", SM_DTYPE_U8, 1, d5, u8_vals, &err), SM_OK);
    int64_t scalar = 99;
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "g.scalar", SM_DTYPE_I64, 0, NULL, &scalar, &err), SM_OK);
    return w;
}

static void check_full_file(const sm_smw *f)
{
    sm_error err;
    ck_assert_uint_eq(f->n_meta, 16);
    ck_assert_uint_eq(f->n_tensors, 7);
    ck_assert(f->data_crc_ok);
    ck_assert(sm_smw_arch_is(f, "roundtrip"));
    uint32_t u;
    ck_assert_int_eq(sm_smw_meta_u32(f, "input.size", &u, &err), SM_OK);
    ck_assert_uint_eq(u, 300);
    ck_assert_int_eq(sm_smw_find_meta(f, "test.i32")->v.i32, -42);
    ck_assert(sm_smw_find_meta(f, "test.f32")->v.f32 == 0.5f);
    ck_assert(sm_smw_find_meta(f, "test.u64")->v.u64 == 0xfedcba9876543210ull);
    ck_assert(sm_smw_find_meta(f, "test.i64")->v.i64 == -9000000000LL);
    ck_assert(sm_smw_find_meta(f, "test.f64")->v.f64 == 0.1);
    ck_assert(sm_smw_find_meta(f, "test.bool")->v.b);
    const sm_meta *labels = sm_smw_find_meta(f, "emotion.labels");
    ck_assert_int_eq(labels->type, SM_META_ARRAY);
    ck_assert_int_eq(labels->elem_type, SM_META_STRING);
    ck_assert_uint_eq(labels->count, 3);
    ck_assert(labels->strings[0].len == 5 && !memcmp(labels->strings[0].ptr, "angry", 5));
    ck_assert_uint_eq(labels->strings[1].len, 0);
    ck_assert(labels->strings[2].len == 5 && !memcmp(labels->strings[2].ptr, "tired", 5));
    float mean[3];
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.mean", mean, 3, &err), SM_OK);
    ck_assert(mean[0] == 0.5f && mean[1] == 0.25f && mean[2] == -1.0f);
    ck_assert_int_eq(sm_smw_meta_f32_array(f, "input.mean", mean, 2, &err), SM_ERR_FORMAT);
    const sm_meta *u32s = sm_smw_find_meta(f, "test.u32s");
    ck_assert_uint_eq(smw_rd32(u32s->array_data + 4), 4000000000u);
    const sm_meta *f64s = sm_smw_find_meta(f, "test.f64s");
    uint64_t bits = smw_rd64(f64s->array_data + 8);
    double dv;
    memcpy(&dv, &bits, 8);
    ck_assert(dv == -1e300);
    const sm_meta *bools = sm_smw_find_meta(f, "test.bools");
    ck_assert(bools->array_data[0] == 0 && bools->array_data[1] == 1);
    ck_assert_uint_eq(sm_smw_find_meta(f, "test.empty")->count, 0);

    const sm_tensor_info *t;
    int64_t want23[2] = {2, 3};
    ck_assert_int_eq(sm_smw_get_tensor(f, "a.f32", SM_DTYPE_F32, 2, want23, &t, &err), SM_OK);
    ck_assert_mem_eq(t->data, f32_vals, sizeof f32_vals);
    ck_assert_uint_eq((uintptr_t)t->data % 64, 0);
    int64_t any3[1] = {-1};
    ck_assert_int_eq(sm_smw_get_tensor(f, "b.f16", SM_DTYPE_F16, 1, any3, &t, &err), SM_OK);
    ck_assert_mem_eq(t->data, f16_vals, sizeof f16_vals);
    ck_assert_mem_eq(sm_smw_find_tensor(f, "c.i64")->data, i64_vals, sizeof i64_vals);
    ck_assert_mem_eq(sm_smw_find_tensor(f, "d.f64")->data, f64_vals, sizeof f64_vals);
    ck_assert_mem_eq(sm_smw_find_tensor(f, "e.i32")->data, i32_vals, sizeof i32_vals);
    ck_assert_mem_eq(sm_smw_find_tensor(f, "f.u8")->data, u8_vals, sizeof u8_vals);
    t = sm_smw_find_tensor(f, "g.scalar");
    ck_assert_uint_eq(t->ndim, 0);
    ck_assert_uint_eq(t->numel, 1);
    ck_assert_int_eq(*(const int64_t *)t->data, 99);
}

START_TEST(roundtrip_every_type)
{
    sm_smw_writer *w = make_full_writer();
    sm_error err;
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sm_smw_writer_serialize(w, &buf, &len, &err), SM_OK);
    sm_smw *f;
    ck_assert_msg(sm_smw_parse(buf, len, "mem", NULL, &f, &err) == SM_OK, "%s", err.msg);
    check_full_file(f);
    sm_smw_free(f);

    /* Writing what we read gives the same bytes. */
    const char *path = sm_test_tmpfile("full.smw");
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    uint8_t *disk;
    size_t disk_len;
    ck_assert_int_eq(sm_file_read_all(path, 0, &disk, &disk_len, &err), SM_OK);
    ck_assert_uint_eq(disk_len, len);
    ck_assert_mem_eq(disk, buf, len);
    ck_assert_int_eq(sm_smw_open(path, NULL, &f, &err), SM_OK);
    check_full_file(f);
    sm_smw_free(f);

    /* A second writer fed the same calls is byte-identical (deterministic). */
    sm_smw_writer *w2 = make_full_writer();
    uint8_t *buf2;
    size_t len2;
    ck_assert_int_eq(sm_smw_writer_serialize(w2, &buf2, &len2, &err), SM_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(buf2, buf, len);
    free(buf2);
    sm_smw_writer_free(w2);
    free(disk);
    free(buf);
    sm_smw_writer_free(w);
    sm_test_remove_tmpfile(path);
}
END_TEST

START_TEST(empty_file_roundtrip)
{
    sm_smw_writer *w;
    sm_error err;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sm_smw_writer_serialize(w, &buf, &len, &err), SM_OK);
    ck_assert_uint_eq(len, 128);
    sm_smw *f;
    ck_assert_int_eq(sm_smw_parse(buf, len, NULL, NULL, &f, &err), SM_OK);
    ck_assert_uint_eq(f->n_tensors, 0);
    ck_assert_uint_eq(f->n_meta, 0);
    sm_smw_free(f);
    free(buf);
    sm_smw_writer_free(w);
}
END_TEST

START_TEST(writer_rejects_duplicates_and_bad_names)
{
    sm_smw_writer *w;
    sm_error err;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    uint64_t d[1] = {1};
    float v = 1;
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "x", SM_DTYPE_F32, 1, d, &v, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "x", SM_DTYPE_F32, 1, d, &v, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate tensor name 'x'"));
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "k", 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "k", "v", &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate metadata key 'k'"));
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "", 1, &err), SM_ERR_ARG);
    uint64_t d5[5] = {1, 1, 1, 1, 1};
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "y", SM_DTYPE_F32, 5, d5, &v, &err), SM_ERR_ARG);
    sm_smw_writer_free(w);
    sm_smw_writer_free(NULL);
    sm_smw_free(NULL);
}
END_TEST

START_TEST(save_leaves_nothing_on_error)
{
    sm_smw_writer *w = make_full_writer();
    sm_error err;
    const char *dir = sm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/missing-subdir/out.smw", dir);
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing-subdir/out.smw"));
    /* the directory is still empty: no temp file left behind */
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
    ck_assert_int_eq(system(cmd), 0);
    rmdir(dir);
    sm_smw_writer_free(w);
}
END_TEST

START_TEST(get_tensor_names_expected_and_found)
{
    sm_smw *f;
    sm_error err;
    ck_assert_msg(sm_smw_open(sm_test_committed("smw-bad/good.smw"), NULL, &f, &err) == SM_OK, "%s",
                  err.msg);
    const sm_tensor_info *t;
    int64_t want[2] = {3, 2};
    ck_assert_int_eq(sm_smw_get_tensor(f, "w", SM_DTYPE_F32, 2, want, &t, &err), SM_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "tensor 'w': expected f32 [3,2], found f32 [2,2]"));
    ck_assert_int_eq(sm_smw_get_tensor(f, "w", SM_DTYPE_F16, 2, want, &t, &err), SM_ERR_SHAPE);
    ck_assert_int_eq(sm_smw_get_tensor(f, "nope", SM_DTYPE_F32, 0, NULL, &t, &err), SM_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "tensor 'nope' is missing"));
    ck_assert_int_eq(sm_smw_get_tensor(f, "n", SM_DTYPE_I64, 0, NULL, &t, &err), SM_OK);
    ck_assert_int_eq(*(const int64_t *)t->data, 7);
    sm_smw_free(f);
}
END_TEST

/* Each file breaks one rule of docs/FORMAT.md; the message must say which. */
static const struct {
    const char *file;
    const char *message;
} bad_files[] = {
    {"bad_magic.smw", "not a .smw file"},
    {"bad_major.smw", "format version 2.0 is not supported"},
    {"bad_bom.smw", "byte-order marker"},
    {"truncated_header.smw", "truncated header"},
    {"truncated_table.smw", "truncated tensor table"},
    {"truncated_data.smw", "truncated data"},
    {"offset_out_of_range.smw", "outside the 128-byte data section"},
    {"misaligned_offset.smw", "not a multiple of the alignment"},
    {"overlapping_tensors.smw", "overlap"},
    {"bad_byte_size.smw", "byte size 12 does not match 4 elements of f32"},
    {"numel_overflow.smw", "element count overflows"},
    {"too_many_dims.smw", "5 dimensions, at most 4"},
    {"unknown_dtype.smw", "unknown dtype 99"},
    {"duplicate_tensor.smw", "duplicate tensor name 'w'"},
    {"duplicate_meta_key.smw", "duplicate metadata key 'general.architecture'"},
    {"string_past_end.smw", "runs past the end of the section"},
    {"header_crc_mismatch.smw", "header CRC mismatch"},
    {"data_crc_mismatch.smw", "data CRC mismatch"},
    {"trailing_garbage.smw", "4 bytes of trailing garbage"},
    {"count_too_large.smw", "cannot fit"},
    {"empty.smw", "not a .smw file"},
};

START_TEST(rejects_bad_file)
{
    const char *path = sm_test_committedf("smw-bad/%s", bad_files[_i].file);
    sm_smw *f = NULL;
    sm_error err;
    sm_error_clear(&err);
    sm_status st = sm_smw_open(path, NULL, &f, &err);
    ck_assert_msg(st != SM_OK, "%s was accepted", bad_files[_i].file);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err.msg, bad_files[_i].message) != NULL, "%s: message '%s' lacks '%s'",
                  bad_files[_i].file, err.msg, bad_files[_i].message);
    ck_assert_msg(strstr(err.msg, bad_files[_i].file) != NULL, "message does not name the file: %s",
                  err.msg);
    /* the same bytes from a buffer give the same verdict (mmap and fread share one path) */
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sm_file_read_all(path, 0, &buf, &len, &err), SM_OK);
    ck_assert_int_eq(sm_smw_parse(buf, len, path, NULL, &f, &err), st);
    free(buf);
}
END_TEST

/* Every strict prefix of a valid file is rejected, never read past. */
START_TEST(every_prefix_rejected)
{
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(sm_test_committed("smw-bad/good.smw"), 0, &buf, &len, &err), SM_OK);
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        sm_smw *f;
        ck_assert_int_ne(sm_smw_parse(copy, n, "prefix", NULL, &f, &err), SM_OK);
        free(copy);
    }
    sm_smw *f;
    ck_assert_int_eq(sm_smw_parse(buf, len, "whole", NULL, &f, &err), SM_OK);
    sm_smw_free(f);
    free(buf);
}
END_TEST

START_TEST(smw_info_prints_everything)
{
    sm_smw_writer *w = make_full_writer();
    sm_error err;
    const char *path = sm_test_tmpfile("info.smw");
    char args[4300];
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    sm_smw_writer_free(w);
    static char out[65536];
    snprintf(args, sizeof args, "'%s'", path);
    ck_assert_int_eq(sm_test_run("smw-info", args, out, sizeof out), 0);
    const char *expect[] = {"roundtrip", "format 1.0", "emotion.labels", "[\"angry\", \"\", \"tired\"]",
                            "input.mean", "0.5, 0.25, -1", "a.f32", "f32", "[2, 3]", "b.f16",
                            "g.scalar", "[]", "test.u64", "18364758544493064720", "test.f64", "0.1",
                            "data CRC: ok", "header CRC: ok", "tensors: 7", "parameters: 12"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        ck_assert_msg(strstr(out, expect[i]) != NULL, "smw-info output lacks '%s':\n%s", expect[i], out);
    snprintf(args, sizeof args, "--json '%s'", path);
    ck_assert_int_eq(sm_test_run("smw-info", args, out, sizeof out), 0);
    const char *expect_json[] = {"\"architecture\": \"roundtrip\"", "\"name\": \"a.f32\"",
                                 "\"shape\": [2, 3]", "\"dtype\": \"f16\"", "\"parameters\": 12",
                                 "\"data_crc_ok\": true", "\"test.bool\": true"};
    for (size_t i = 0; i < sizeof expect_json / sizeof *expect_json; i++)
        ck_assert_msg(strstr(out, expect_json[i]) != NULL, "smw-info --json lacks '%s':\n%s",
                      expect_json[i], out);
    /* a bad file: non-zero exit and the reason */
    snprintf(args, sizeof args, "'%s'", sm_test_committed("smw-bad/data_crc_mismatch.smw"));
    ck_assert_int_ne(sm_test_run("smw-info", args, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "data CRC mismatch"));
    ck_assert_int_ne(sm_test_run("smw-info", "", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage"));
    ck_assert_int_eq(sm_test_run("smw-info", "--help", out, sizeof out), 0);
    sm_test_remove_tmpfile(path);
}
END_TEST

START_TEST(half_precision_conversions)
{
    ck_assert(sm_f16_to_f32(0x3c00) == 1.0f);
    ck_assert(sm_f16_to_f32(0xc000) == -2.0f);
    ck_assert(sm_f16_to_f32(0x7bff) == 65504.0f);
    ck_assert(sm_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    ck_assert(isinf(sm_f16_to_f32(0x7c00)));
    ck_assert(isnan(sm_f16_to_f32(0x7e00)));
    /* f16 -> f32 -> f16 is the identity for every non-NaN half */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = sm_f16_to_f32((uint16_t)h);
        if (isnan(f))
            continue;
        ck_assert_uint_eq(sm_f32_to_f16(f), h);
    }
    ck_assert_uint_eq(sm_f32_to_f16(1.0f + ldexpf(1.0f, -11)), 0x3c00); /* tie to even */
    ck_assert_uint_eq(sm_f32_to_f16(1e6f), 0x7c00);
    ck_assert(sm_bf16_to_f32(0x3f80) == 1.0f);
}
END_TEST

START_TEST(crc32_known_value)
{
    ck_assert_uint_eq(sm_crc32(0, "123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(sm_crc32(sm_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smw");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, roundtrip_every_type);
    tcase_add_test(tc, empty_file_roundtrip);
    tcase_add_test(tc, writer_rejects_duplicates_and_bad_names);
    tcase_add_test(tc, save_leaves_nothing_on_error);
    tcase_add_test(tc, get_tensor_names_expected_and_found);
    tcase_add_loop_test(tc, rejects_bad_file, 0, (int)(sizeof bad_files / sizeof *bad_files));
    tcase_add_test(tc, every_prefix_rejected);
    tcase_add_test(tc, smw_info_prints_everything);
    tcase_add_test(tc, half_precision_conversions);
    tcase_add_test(tc, crc32_known_value);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}

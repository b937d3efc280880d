/* The TFLite converter: the three MediaPipe face models convert with every
 * constant equal to the file's FP16 values widened by numpy, and the operator
 * graph (order, names, shapes, options, custom-op options) equal to the listing
 * in shared/reference/face_models_nodes (both via tests/gen/tflite_flatref.py,
 * which shares no code with tools/tflite.c). Plus the handcrafted bad files in
 * tests/fixtures/tflite-bad (make_bad_files.py), every prefix of a good file,
 * and random byte flips. */
#include "convert.h"
#include "flexbuffer.h"
#include "tflite.h"
#include "sm_engine.h"
#include "sm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const models[3] = {"face_detection_short_range", "face_landmark",
                                      "face_landmark_with_attention"};
static const char *const archs[3] = {"mediapipe_face_detector", "mediapipe_face_mesh",
                                     "mediapipe_face_mesh_attention"};

/* Test-only stand-in for smw-convert: convert, save, reopen. */
static sm_status convert_file(const char *path, const sm_convert_opts *opts, const char *out,
                              sm_convert_summary *sum, sm_error *err)
{
    uint8_t *buf;
    size_t len;
    sm_status st = sm_file_read_all(path, 0, &buf, &len, err);
    if (st)
        return st;
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, err), SM_OK);
    st = sm_convert_tflite(buf, len, path, opts, w, sum, err);
    /* as smw-convert.c does for every reader */
    if (!st)
        st = sm_smw_writer_add_string(w, "general.architecture", sum->arch, err);
    if (!st && out)
        st = sm_smw_writer_save(w, out, err);
    sm_smw_writer_free(w);
    free(buf);
    return st;
}

/* The committed model rel converted with --arch raw into the temp dir as name, reopened. */
static sm_smw *convert_raw(const char *rel, const char *name)
{
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s", sm_test_committed(rel));
    snprintf(out, sizeof out, "%s/%s", sm_test_tmpdir(), name);
    sm_convert_opts opts = {0};
    opts.arch = "raw";
    sm_convert_summary sum;
    sm_error err;
    ck_assert_msg(convert_file(path, &opts, out, &sum, &err) == SM_OK, "%s", err.msg);
    sm_smw *f;
    ck_assert_int_eq(sm_smw_open(out, NULL, &f, &err), SM_OK);
    return f;
}

static sm_status convert_mem(const uint8_t *buf, size_t len, const char *arch, sm_error *err)
{
    sm_convert_opts opts = {0};
    opts.arch = arch;
    sm_convert_summary sum;
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, err), SM_OK);
    sm_status st = sm_convert_tflite(buf, len, "mem.tflite", &opts, w, &sum, err);
    sm_smw_writer_free(w);
    return st;
}

/* Appends the canonical text of a metadata value (same rules as tflite_flatref.canon). */
static void canon_meta(const sm_meta *m, char *out, size_t cap)
{
    size_t n = strlen(out);
#define APPEND(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__))
    switch (m->type) {
    case SM_META_I32: APPEND("%d", m->v.i32); break;
    case SM_META_U32: APPEND("%u", m->v.u32); break;
    case SM_META_I64: APPEND("%lld", (long long)m->v.i64); break;
    case SM_META_F32: APPEND("%.9g", (double)m->v.f32); break;
    case SM_META_F64: APPEND("%.9g", m->v.f64); break;
    case SM_META_BOOL: APPEND("%s", m->v.b ? "true" : "false"); break;
    case SM_META_STRING: APPEND("%.*s", (int)m->v.str.len, m->v.str.ptr); break;
    case SM_META_ARRAY:
        APPEND("[");
        for (uint64_t k = 0; k < m->count; k++) {
            const uint8_t *p = m->array_data;
            if (k)
                APPEND(",");
            if (m->elem_type == SM_META_I32) {
                int32_t v;
                memcpy(&v, p + 4 * k, 4);
                APPEND("%d", v);
            } else if (m->elem_type == SM_META_F32) {
                float v;
                memcpy(&v, p + 4 * k, 4);
                APPEND("%.9g", (double)v);
            } else if (m->elem_type == SM_META_I64) {
                int64_t v;
                memcpy(&v, p + 8 * k, 8);
                APPEND("%lld", (long long)v);
            } else if (m->elem_type == SM_META_STRING) {
                APPEND("%.*s", (int)m->strings[k].len, m->strings[k].ptr);
            } else {
                APPEND("?");
            }
        }
        APPEND("]");
        break;
    default: APPEND("?"); break;
    }
#undef APPEND
}

static const sm_meta *meta(const sm_smw *f, const char *fmt, unsigned i, const char *suffix)
{
    char k[256];
    snprintf(k, sizeof k, fmt, i, suffix);
    return sm_smw_find_meta(f, k);
}

static int cmp_str(const void *a, const void *b)
{
    const sm_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->ptr, y->ptr, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* "<i> <OP> in=a,b out=c shape=1x2;3 key=value ..." from graph.op.<i>.* */
static void canon_op(const sm_smw *f, unsigned i, char *out, size_t cap)
{
    const sm_meta *op = meta(f, "graph.op.%u.%s", i, "op");
    const sm_meta *ins = meta(f, "graph.op.%u.%s", i, "inputs");
    const sm_meta *outs = meta(f, "graph.op.%u.%s", i, "outputs");
    const sm_meta *opts = meta(f, "graph.op.%u.%s", i, "options");
    ck_assert_msg(op && ins && outs && opts, "op %u lacks graph.op keys", i);
    snprintf(out, cap, "%u %.*s in=", i, (int)op->v.str.len, op->v.str.ptr);
    for (uint64_t k = 0; k < ins->count; k++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", k ? "," : "", (int)ins->strings[k].len,
                 ins->strings[k].ptr);
    snprintf(out + strlen(out), cap - strlen(out), " out=");
    for (uint64_t k = 0; k < outs->count; k++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", k ? "," : "", (int)outs->strings[k].len,
                 outs->strings[k].ptr);
    snprintf(out + strlen(out), cap - strlen(out), " shape=");
    for (unsigned k = 0; k < outs->count; k++) {
        char key[64];
        snprintf(key, sizeof key, "output_shape.%u", k);
        const sm_meta *s = meta(f, "graph.op.%u.%s", i, key);
        ck_assert(s && s->type == SM_META_ARRAY && s->elem_type == SM_META_I32);
        for (uint64_t d = 0; d < s->count; d++) {
            int32_t v;
            memcpy(&v, s->array_data + 4 * d, 4);
            snprintf(out + strlen(out), cap - strlen(out), "%s%d", d ? "x" : (k ? ";" : ""), v);
        }
    }
    sm_str *keys = malloc((opts->count ? opts->count : 1) * sizeof *keys);
    memcpy(keys, opts->strings, opts->count * sizeof *keys);
    qsort(keys, opts->count, sizeof *keys, cmp_str);
    for (uint64_t k = 0; k < opts->count; k++) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)keys[k].len, keys[k].ptr);
        const sm_meta *v = meta(f, "graph.op.%u.%s", i, name);
        ck_assert_msg(v != NULL, "op %u option %s listed but missing", i, name);
        snprintf(out + strlen(out), cap - strlen(out), " %s=", name);
        canon_meta(v, out, cap);
    }
    free(keys);
}

static char *read_text(const char *path)
{
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_msg(sm_file_read_all(path, 0, &buf, &len, &err) == SM_OK, "%s", err.msg);
    char *s = realloc(buf, len + 1);
    s[len] = '\0';
    return s;
}

START_TEST(face_model_converts_exactly)
{
    const char *name = models[_i];
    char rel[256];
    snprintf(rel, sizeof rel, "tflite/%s.tflite", name);
    const char *src = sm_test_fixture(rel);
    snprintf(rel, sizeof rel, "tflite/%s.ref.idx", name);
    const char *idx_path = sm_test_fixture(rel);
    if (!src || !idx_path) {
        sm_test_skip(name, "face models or their reference not generated (gen_tflite_models.sh)");
        return;
    }
    char src_copy[4096], idx_copy[4096], bin_path[4096], ops_path[4096], out[4096];
    snprintf(src_copy, sizeof src_copy, "%s", src);
    snprintf(idx_copy, sizeof idx_copy, "%s", idx_path);
    snprintf(bin_path, sizeof bin_path, "%.*s.ref.bin", (int)(strlen(idx_copy) - 8), idx_copy);
    snprintf(ops_path, sizeof ops_path, "%.*s.ops.txt", (int)(strlen(idx_copy) - 8), idx_copy);
    snprintf(out, sizeof out, "%s/%s.smw", sm_test_tmpdir(), name);

    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    ck_assert_msg(convert_file(src_copy, &opts, out, &sum, &err) == SM_OK, "%s", err.msg);
    ck_assert_str_eq(sum.arch, archs[_i]);
    sm_smw *f;
    ck_assert_msg(sm_smw_open(out, NULL, &f, &err) == SM_OK, "%s", err.msg);
    ck_assert(sm_smw_arch_is(f, archs[_i]));
    uint32_t size;
    ck_assert_int_eq(sm_smw_meta_u32(f, "input.size", &size, &err), SM_OK);
    ck_assert_uint_eq(size, _i == 0 ? 128 : 192);

    /* every constant, value for value */
    char *idx = read_text(idx_copy);
    uint8_t *bin;
    size_t bin_len;
    ck_assert_int_eq(sm_file_read_all(bin_path, 0, &bin, &bin_len, &err), SM_OK);
    size_t n_ref = 0;
    for (char *line = strtok(idx, "\n"); line; line = strtok(NULL, "\n")) {
        char tname[1024], dt[8], shape[128];
        unsigned long long off, count;
        ck_assert(sscanf(line, "%1023[^\t]\t%7[^\t]\t%127[^\t]\t%llu\t%llu", tname, dt, shape, &off, &count) == 5);
        const sm_tensor_info *t = sm_smw_find_tensor(f, tname);
        ck_assert_msg(t != NULL, "%s: tensor %s missing", name, tname);
        ck_assert_int_eq(t->dtype, strcmp(dt, "i32") ? SM_DTYPE_F32 : SM_DTYPE_I32);
        ck_assert_uint_eq(t->numel, count);
        char got[128] = "";
        for (uint32_t d = 0; d < t->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", d ? "," : "",
                     (unsigned long long)t->dims[d]);
        ck_assert_str_eq(got, shape);
        ck_assert(off + count * 4 <= bin_len);
        ck_assert_msg(!memcmp(t->data, bin + off, count * 4), "%s: tensor %s values differ", name, tname);
        n_ref++;
    }
    ck_assert_uint_eq(f->n_tensors, n_ref);
    free(idx);
    free(bin);

    /* the graph, operator by operator */
    char *ops = read_text(ops_path);
    uint32_t n_ops;
    ck_assert_int_eq(sm_smw_meta_u32(f, "graph.n_ops", &n_ops, &err), SM_OK);
    unsigned i = 0;
    size_t cap = 1 << 16;
    char *mine = malloc(cap);
    for (char *line = strtok(ops, "\n"); line; line = strtok(NULL, "\n"), i++) {
        ck_assert_uint_lt(i, n_ops);
        canon_op(f, i, mine, cap);
        ck_assert_msg(!strcmp(mine, line), "%s op %u:\n  smw: %s\n  ref: %s", name, i, mine, line);
    }
    ck_assert_uint_eq(i, n_ops);
    free(mine);
    free(ops);
    sm_smw_free(f);
    remove(out);
}
END_TEST

/* A few values straight from FACE_MODELS.md, independent of the generator. */
START_TEST(attention_custom_options_typed)
{
    const char *src = sm_test_fixture("tflite/face_landmark_with_attention.tflite");
    if (!src) {
        sm_test_skip("attention_custom_options_typed", "face models not fetched");
        return;
    }
    char out[4096];
    snprintf(out, sizeof out, "%s/att.smw", sm_test_tmpdir());
    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    ck_assert_msg(convert_file(src, &opts, out, &sum, &err) == SM_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(sum.notes, "Landmarks2TransformMatrix"));
    sm_smw *f;
    ck_assert_int_eq(sm_smw_open(out, NULL, &f, &err), SM_OK);
    const sm_meta *m = sm_smw_find_meta(f, "graph.op.192.op");
    ck_assert(m && m->v.str.len == 32 && !memcmp(m->v.str.ptr, "CUSTOM:Landmarks2TransformMatrix", 32));
    m = sm_smw_find_meta(f, "graph.op.192.left_rotation_idx");
    ck_assert(m && m->type == SM_META_I32 && m->v.i32 == 61);
    m = sm_smw_find_meta(f, "graph.op.192.right_rotation_idx");
    ck_assert(m && m->type == SM_META_I32 && m->v.i32 == 291);
    float s;
    ck_assert_int_eq(sm_smw_meta_f32(f, "graph.op.192.scale_x", &s, &err), SM_OK);
    ck_assert(s == 1.5f);
    m = sm_smw_find_meta(f, "graph.op.192.subset_idxs");
    ck_assert(m && m->type == SM_META_ARRAY && m->elem_type == SM_META_I32 && m->count == 80);
    m = sm_smw_find_meta(f, "graph.op.195.output_width");
    ck_assert(m && m->type == SM_META_I32 && m->v.i32 == 16);
    m = sm_smw_find_meta(f, "graph.outputs");
    ck_assert(m && m->count == 7 && m->strings[0].len == 20 && !memcmp(m->strings[0].ptr, "output_mesh_identity", 20));
    sm_smw_free(f);
    remove(out);
}
END_TEST

START_TEST(f16_option_keeps_halves)
{
    const char *src = sm_test_fixture("tflite/face_detection_short_range.tflite");
    if (!src) {
        sm_test_skip("f16_option_keeps_halves", "face models not fetched");
        return;
    }
    char srcc[4096], out32[4096], out16[4096];
    snprintf(srcc, sizeof srcc, "%s", src);
    const char *dir = sm_test_tmpdir();
    snprintf(out32, sizeof out32, "%s/a.smw", dir);
    snprintf(out16, sizeof out16, "%s/b.smw", dir);
    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    ck_assert_int_eq(convert_file(srcc, &opts, out32, &sum, &err), SM_OK);
    opts.f16 = true;
    ck_assert_int_eq(convert_file(srcc, &opts, out16, &sum, &err), SM_OK);
    sm_smw *a, *b;
    ck_assert_int_eq(sm_smw_open(out32, NULL, &a, &err), SM_OK);
    ck_assert_int_eq(sm_smw_open(out16, NULL, &b, &err), SM_OK);
    ck_assert_uint_eq(a->n_tensors, b->n_tensors);
    size_t n_f16 = 0;
    for (size_t k = 0; k < a->n_tensors; k++) {
        const sm_tensor_info *x = &a->tensors[k], *y = sm_smw_find_tensor(b, x->name);
        ck_assert_ptr_nonnull(y);
        if (x->dtype == SM_DTYPE_I32) {
            ck_assert_int_eq(y->dtype, SM_DTYPE_I32);
            continue;
        }
        ck_assert_int_eq(y->dtype, SM_DTYPE_F16);
        n_f16++;
        for (uint64_t q = 0; q < x->numel; q++)
            ck_assert(((const float *)x->data)[q] == sm_f16_to_f32(((const uint16_t *)y->data)[q]));
    }
    ck_assert_uint_eq(n_f16, 74); /* 74 DEQUANTIZE ops, FACE_MODELS.md section 2 */
    sm_smw_free(a);
    sm_smw_free(b);
}
END_TEST

START_TEST(good_handmade_model)
{
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s", sm_test_committed("tflite-bad/good.tflite"));
    snprintf(out, sizeof out, "%s/good.smw", sm_test_tmpdir());
    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    /* not a face model: refused unless --arch raw */
    ck_assert_int_eq(convert_file(path, &opts, out, &sum, &err), SM_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "unrecognised TFLite graph"));
    ck_assert_ptr_nonnull(strstr(err.msg, "good.tflite"));
    opts.arch = "mediapipe_face_mesh";
    ck_assert_int_eq(convert_file(path, &opts, out, &sum, &err), SM_ERR_ARG);
    opts.arch = "raw";
    ck_assert_msg(convert_file(path, &opts, out, &sum, &err) == SM_OK, "%s", err.msg);
    sm_smw *f;
    ck_assert_int_eq(sm_smw_open(out, NULL, &f, &err), SM_OK);
    /* values written by make_bad_files.py through numpy float16 */
    const sm_tensor_info *w;
    int64_t dims[4] = {3, 1, 1, 2};
    ck_assert_int_eq(sm_smw_get_tensor(f, "w", SM_DTYPE_F32, 4, dims, &w, &err), SM_OK);
    const float want[6] = {0.5f, -1.0f, 2.0f, 0.25f, 1.5f, -0.125f};
    ck_assert(!memcmp(w->data, want, sizeof want));
    const sm_meta *m = sm_smw_find_meta(f, "graph.op.3.pads");
    ck_assert(m && m->count == 8);
    char buf[256] = "";
    canon_meta(m, buf, sizeof buf);
    ck_assert_str_eq(buf, "[0,0,0,0,0,0,0,2]");
    sm_smw_free(f);
}
END_TEST

/* Two tensors named 'w': the second is stored as 'w#2' and the graph says so. */
START_TEST(duplicate_names_made_unique)
{
    sm_smw *f = convert_raw("tflite-bad/good_duplicate_names.tflite", "dup.smw");
    ck_assert_ptr_nonnull(sm_smw_find_tensor(f, "w"));
    const sm_tensor_info *b = sm_smw_find_tensor(f, "w#2");
    ck_assert(b && b->numel == 3);
    const sm_meta *m = sm_smw_find_meta(f, "graph.op.1.inputs");
    ck_assert(m && m->count == 1 && m->strings[0].len == 3 && !memcmp(m->strings[0].ptr, "w#2", 3));
    sm_smw_free(f);
}
END_TEST

/* A FlexBuffer map written by make_bad_files.py with every value kind. */
START_TEST(custom_options_every_kind)
{
    sm_smw *f = convert_raw("tflite-bad/good_custom_options.tflite", "cust.smw");
    static const char *const want[][2] = {
        {"op", "CUSTOM:TransformTensorBilinear"}, {"options", "[a_int,b_float,c_bool,d_str,e_fvec,f_ivec,g_vec]"},
        {"a_int", "-7"}, {"b_float", "0.25"}, {"c_bool", "true"}, {"d_str", "abc"},
        {"e_fvec", "[1.5,2]"}, {"f_ivec", "[3,-4,100000]"}, {"g_vec", "[1,2.5]"}};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        const sm_meta *m = meta(f, "graph.op.%u.%s", 4, want[k][0]);
        ck_assert_msg(m != NULL, "graph.op.4.%s missing", want[k][0]);
        char buf[256] = "";
        canon_meta(m, buf, sizeof buf);
        ck_assert_str_eq(buf, want[k][1]);
    }
    ck_assert_int_eq(sm_smw_find_meta(f, "graph.op.4.b_float")->type, SM_META_F32);
    ck_assert_int_eq(sm_smw_find_meta(f, "graph.op.4.c_bool")->type, SM_META_BOOL);
    sm_smw_free(f);
}
END_TEST

static const struct {
    const char *file;
    sm_status status;
    const char *msg;
} bad_files[] = {
    {"bad_root_offset", SM_ERR_FORMAT, "root table offset 4294967280 out of range"},
    {"bad_table_offset", SM_ERR_FORMAT, "subgraph 0: table offset"},
    {"bad_vtable_offset", SM_ERR_FORMAT, "model vtable at"},
    {"bad_vtable_size", SM_ERR_FORMAT, "vtable size 65534"},
    {"bad_field_offset", SM_ERR_FORMAT, "past the end of its table"},
    {"vector_past_end", SM_ERR_FORMAT, "of 2147483647 elements runs past end of file"},
    {"string_past_end", SM_ERR_FORMAT, "tensor 0 vector (field 3) of 268435456 elements runs past end"},
    {"buffer_index_out_of_range", SM_ERR_FORMAT, "tensor 1 'w': buffer index 99 out of range (5 buffers)"},
    {"shape_size_mismatch", SM_ERR_SHAPE, "'w': shape FLOAT16[4 dims, 9 elements] needs 18 bytes but buffer 2 holds 12"},
    {"missing_buffer", SM_ERR_FORMAT, "tensor 2 'b': FLOAT16 tensor without data (missing buffer: buffer 1 is empty"},
    {"missing_buffer_f32", SM_ERR_FORMAT, "operator 2 (CONV_2D): input 'out' has no data (missing buffer: buffer 0 is empty) and no earlier producer"},
    {"unknown_op", SM_ERR_UNSUPPORTED, "operator 2: unsupported operator ? (builtin code 25)"},
    {"unknown_op_code", SM_ERR_UNSUPPORTED, "unsupported operator ? (builtin code 127)"},
    {"op_not_in_graph_table", SM_ERR_UNSUPPORTED,
     "operator 2: unsupported operator RELU6 (builtin code 21): the graph executor has no such op (docs/GRAPH.md)"},
    {"unknown_custom_op", SM_ERR_UNSUPPORTED, "unsupported custom operator 'FooOp'"},
    {"bad_flexbuffer", SM_ERR_FORMAT, "operator 4 (CUSTOM:TransformTensorBilinear): custom options: flexbuffer:"},
    {"zero_stride", SM_ERR_FORMAT, "operator 2 (CONV_2D): stride 0x1, dilation 1x1, filter 0x0, depth multiplier 0: each must be at least 1"},
    {"absent_first_input", SM_ERR_FORMAT, "operator 3 (PAD): has 2 inputs and 1 outputs (the first input is required)"},
    {"quantized", SM_ERR_UNSUPPORTED, "tensor 1 'w' is quantised"},
    {"fp16_without_dequantize", SM_ERR_UNSUPPORTED, "FLOAT16 input 'w' not behind a DEQUANTIZE"},
    {"opcode_out_of_range", SM_ERR_FORMAT, "operator 2: opcode index 9 out of range (3 codes)"},
    {"tensor_index_out_of_range", SM_ERR_FORMAT, "operator 2: tensor index 77 out of range (9 tensors)"},
    {"schema_version", SM_ERR_UNSUPPORTED, "schema version 2"},
    {"not_tflite", SM_ERR_FORMAT, "not a TFLite model"},
    {"truncated", SM_ERR_FORMAT, "truncated.tflite: "},
    {"empty", SM_ERR_FORMAT, "file too short"},
};

START_TEST(rejects_bad_file)
{
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "tflite-bad/%s.tflite", bad_files[_i].file);
    snprintf(path, sizeof path, "%s", sm_test_committed(rel));
    sm_convert_opts opts = {0};
    opts.arch = "raw";
    sm_convert_summary sum;
    sm_error err;
    sm_status st = convert_file(path, &opts, NULL, &sum, &err);
    ck_assert_msg(st == bad_files[_i].status, "%s: status %s, message: %s", bad_files[_i].file,
                  sm_status_name(st), st ? err.msg : "");
    ck_assert_msg(strstr(err.msg, bad_files[_i].msg) != NULL, "%s: message '%s' lacks '%s'",
                  bad_files[_i].file, err.msg, bad_files[_i].msg);
    ck_assert_msg(strstr(err.msg, rel) != NULL, "message '%s' does not name the file", err.msg);
}
END_TEST

START_TEST(every_prefix_rejected)
{
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(sm_test_committed("tflite-bad/good.tflite"), 0, &buf, &len, &err), SM_OK);
    ck_assert_int_eq(convert_mem(buf, len, "raw", &err), SM_OK);
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size so ASan sees any overread */
        memcpy(copy, buf, n);
        sm_status st = convert_mem(copy, n, "raw", &err);
        ck_assert_msg(st != SM_OK, "prefix of %zu bytes accepted", n);
        free(copy);
    }
    free(buf);
}
END_TEST

START_TEST(random_corruption_never_crashes)
{
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(sm_test_committed("tflite-bad/good.tflite"), 0, &buf, &len, &err), SM_OK);
    uint8_t *copy = malloc(len);
    sm_test_seed(12345);
    size_t ok = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, buf, len);
        int flips = 1 + (int)sm_test_uniform(0, 4);
        for (int k = 0; k < flips; k++)
            copy[(size_t)sm_test_uniform(0, (float)len) % len] = (uint8_t)sm_test_uniform(0, 256);
        if (convert_mem(copy, len, "raw", &err) == SM_OK)
            ok++;
        else
            ck_assert(err.msg[0] != '\0');
    }
    free(copy);
    free(buf);
    printf("random corruption: %zu of 3000 still converted\n", ok);
}
END_TEST

START_TEST(fetch_script_fails_clearly_without_converter)
{
    if (!sm_test_fixture("tflite/face_landmark.tflite")) {
        sm_test_skip("fetch_script_fails_clearly_without_converter", "face models not fetched");
        return;
    }
    char cmd[8192], out[4096] = "";
    const char *repo = getenv("SM_REPO");
    const char *dir = sm_test_tmpdir();
    snprintf(cmd, sizeof cmd, "cd '%s' && B='%s/nobuild' SM_MODEL_OUT='%s' sh models/fetch-face-models.sh 2>&1",
             repo && *repo ? repo : ".", dir, dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(st != 0, "script succeeded without smw-convert: %s", out);
    ck_assert_msg(strstr(out, "smw-convert not found") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s/face_landmark.smw", dir);
    ck_assert_ptr_null(fopen(cmd, "rb"));
}
END_TEST

/* The real Landmarks2TransformMatrix options: every prefix and random flips
 * decode or fail cleanly (ASan watches); the intact blob decodes to 8 keys. */
START_TEST(flexbuffer_corruption_never_crashes)
{
    const char *src = sm_test_fixture("tflite/face_landmark_with_attention.tflite");
    if (!src) {
        sm_test_skip("flexbuffer_corruption_never_crashes", "face models not fetched");
        return;
    }
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(src, 0, &buf, &len, &err), SM_OK);
    sm_tflite *m;
    ck_assert_int_eq(sm_tflite_parse(buf, len, src, &m, &err), SM_OK);
    ck_assert_uint_eq(m->n_ops, 712);
    const sm_tfl_op *op = &m->ops[192];
    size_t n = op->custom_options_len;
    ck_assert_uint_gt(n, 0);
    sm_flex_map map;
    ck_assert_int_eq(sm_flex_decode_map(op->custom_options, n, &map, &err), SM_OK);
    ck_assert_uint_eq(map.n, 8);
    const sm_flex_entry *e = sm_flex_map_find(&map, "subset_idxs");
    ck_assert(e && e->kind == SM_FLEX_INT_ARRAY && e->n == 80 && e->ints[0] == 61 && e->ints[79] == 407);
    sm_flex_map_free(&map);
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        memcpy(copy, op->custom_options, k);
        if (sm_flex_decode_map(copy, k, &map, &err) == SM_OK)
            sm_flex_map_free(&map);
        free(copy);
    }
    uint8_t *copy = malloc(n);
    sm_test_seed(777);
    for (int iter = 0; iter < 5000; iter++) {
        memcpy(copy, op->custom_options, n);
        for (int f = 0; f < 2; f++)
            copy[(size_t)sm_test_uniform(0, (float)n) % n] = (uint8_t)sm_test_uniform(0, 256);
        if (sm_flex_decode_map(copy, n, &map, &err) == SM_OK)
            sm_flex_map_free(&map);
    }
    free(copy);
    sm_tflite_free(m);
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tflite");
    TCase *tc = sm_test_tcase(s, "convert", 300);
    tcase_add_loop_test(tc, face_model_converts_exactly, 0, 3);
    tcase_add_test(tc, attention_custom_options_typed);
    tcase_add_test(tc, f16_option_keeps_halves);
    tcase_add_test(tc, good_handmade_model);
    tcase_add_test(tc, duplicate_names_made_unique);
    tcase_add_test(tc, custom_options_every_kind);
    tcase_add_loop_test(tc, rejects_bad_file, 0, (int)(sizeof bad_files / sizeof *bad_files));
    tcase_add_test(tc, every_prefix_rejected);
    tcase_add_test(tc, random_corruption_never_crashes);
    tcase_add_test(tc, fetch_script_fails_clearly_without_converter);
    tcase_add_test(tc, flexbuffer_corruption_never_crashes);
    return sm_test_main(s);
}

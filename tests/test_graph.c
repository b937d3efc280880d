/* The graph executor's op table (engine/graph/graph_ops.inc): every op's
 * prepare refuses a malformed node (a wrong operand count, then a bad
 * attribute or operand of its own) with a message naming the file, the op
 * index and the op; the converters' check (sm_convert_check_node, used by
 * tools/tflite_convert.c and tools/tfjs_convert.c) refuses an op outside the
 * table, a wrong operand count and an attribute the executor does not read;
 * docs/GRAPH.md documents every op of the table with its attributes. What the
 * ops compute is checked against TFLite and TF.js in test_face, test_tfjs and
 * test_emotion_fer. */
#include "convert_util.h"
#include "sm_engine.h"
#include "sm_graph.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one-node graphs ------------------------------------------------------------------- */

typedef enum { A_STR, A_INT, A_INTS, A_F32, A_BOOL } attr_kind;

typedef struct {
    const char *key;
    attr_kind kind;
    const char *s;
    int32_t v[8];
    size_t n; /* A_INTS */
    float f;
} attr;

typedef struct {
    const char *op;
    const char *in[9];
    int n_in;
    int32_t out[4];
    uint32_t out_nd;
    attr a[10];
    const char *want; /* in the refusal message */
} node;

#define S(k, val) {k, A_STR, val, {0}, 0, 0}
#define I(k, val) {k, A_INT, NULL, {val}, 0, 0}
#define WIN(pad, s, kh, kw) S("padding", pad), I("stride_h", s), I("stride_w", s), I("filter_h", kh), I("filter_w", kw)
#define CONV_ATTRS S("padding", "SAME"), I("stride_h", 1), I("stride_w", 1), I("dilation_h", 1), I("dilation_w", 1)

/* Input x [1,4,4,2]; stored: w [3,1,1,2], b [3], dw [1,3,3,2], alpha [2], fc [3,32], i32 [4] (integers). */
static sm_smw *graph_of(const node *nd, uint8_t **buf)
{
    sm_error err = {0};
    sm_smw_writer *w;
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    static float wt[6] = {1, -1, 0.5f, 2, -3, 0.25f}, b[3] = {0.1f, -0.2f, 0.3f}, dw[18], al[2] = {0.5f, 2},
                 fc[96];
    static int32_t i32[4] = {1, 2, 3, 4};
    uint64_t wd[4] = {3, 1, 1, 2}, bd[1] = {3}, dwd[4] = {1, 3, 3, 2}, ad[1] = {2}, fd[2] = {3, 32}, id[1] = {4};
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "w", SM_DTYPE_F32, 4, wd, wt, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "b", SM_DTYPE_F32, 1, bd, b, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "dw", SM_DTYPE_F32, 4, dwd, dw, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "alpha", SM_DTYPE_F32, 1, ad, al, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "fc", SM_DTYPE_F32, 2, fd, fc, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_tensor(w, "i32", SM_DTYPE_I32, 1, id, i32, &err), SM_OK);
    const char *gin[1] = {"x"}, *gout[1] = {"y"}, *ops[1] = {nd->op};
    int32_t xs[4] = {1, 4, 4, 2};
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.inputs", SM_META_STRING, gin, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.outputs", SM_META_STRING, gout, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.input_shape.0", SM_META_I32, xs, 4, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_u32(w, "graph.n_ops", 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.ops", SM_META_STRING, ops, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_string(w, "graph.op.0.op", nd->op, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.op.0.inputs", SM_META_STRING, nd->in, (size_t)nd->n_in, &err),
                     SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.op.0.outputs", SM_META_STRING, gout, 1, &err), SM_OK);
    ck_assert_int_eq(sm_smw_writer_add_array(w, "graph.op.0.output_shape.0", SM_META_I32, nd->out, nd->out_nd, &err),
                     SM_OK);
    for (size_t k = 0; k < sizeof nd->a / sizeof *nd->a && nd->a[k].key; k++) {
        const attr *a = &nd->a[k];
        char key[128];
        snprintf(key, sizeof key, "graph.op.0.%s", a->key);
        sm_status st = a->kind == A_STR    ? sm_smw_writer_add_string(w, key, a->s, &err)
                       : a->kind == A_INT  ? sm_smw_writer_add_i32(w, key, a->v[0], &err)
                       : a->kind == A_INTS ? sm_smw_writer_add_array(w, key, SM_META_I32, a->v, a->n, &err)
                       : a->kind == A_F32  ? sm_smw_writer_add_f32(w, key, a->f, &err)
                                           : sm_smw_writer_add_bool(w, key, a->v[0] != 0, &err);
        ck_assert_msg(st == SM_OK, "%s", err.msg);
    }
    size_t len;
    ck_assert_int_eq(sm_smw_writer_serialize(w, buf, &len, &err), SM_OK);
    sm_smw_writer_free(w);
    sm_smw *f;
    ck_assert_msg(sm_smw_parse(*buf, len, "graph.smw", NULL, &f, &err) == SM_OK, "%s", err.msg);
    return f;
}

/* A hook that wants its integer option 'factor' (the CUSTOM entry's check is the hook's). */
static sm_status scale_prepare(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in, size_t n_out,
                               const sm_graph_shape *out, void **state, sm_error *err)
{
    char key[64];
    snprintf(key, sizeof key, "graph.op.%zu.factor", op_index);
    const sm_meta *m = sm_smw_find_meta(f, key);
    if (n_in != 1 || n_out != 1)
        return sm_error_set(err, SM_ERR_FORMAT, "Scale: %zu inputs and %zu outputs, 1 and 1 expected", n_in, n_out);
    if (!m || m->type != SM_META_I32)
        return sm_error_set(err, SM_ERR_FORMAT, "Scale: option 'factor' missing or not an integer");
    *state = NULL;
    return SM_OK;
}

static void scale_run(void *state, const float *const *in, float *const *out) {}

static const sm_graph_custom_op hooks[1] = {{"Scale", scale_prepare, scale_run, NULL}};

/* Loads the node; it must be refused with a message naming graph.smw, op 0, its op name and want. */
static void expect_refused(const node *nd, const char *want)
{
    uint8_t *buf;
    sm_smw *f = graph_of(nd, &buf);
    sm_graph *g = (sm_graph *)1;
    sm_error err = {0};
    sm_status st = sm_graph_load(f, hooks, 1, &g, &err);
    char where[96];
    snprintf(where, sizeof where, "graph.smw: graph op 0 (%s)", nd->op);
    ck_assert_msg(st != SM_OK && g == NULL, "%s: malformed node loaded (wanted '%s')", nd->op, want);
    ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, want), "%s: message '%s' lacks '%s' or '%s'", nd->op,
                  err.msg, where, want);
    sm_smw_free(f);
    free(buf);
}

/* Per op: a node with the right operand count and one thing wrong. Every op
 * of the table must have one (the test fails naming an op without). */
static const node malformed[] = {
    {"CONV_2D", {"x", "w", "b"}, 3, {1, 4, 4, 3}, 4, {S("padding", "FULL"), I("stride_h", 1), I("stride_w", 1),
     I("dilation_h", 1), I("dilation_w", 1), S("activation", "NONE")}, "padding 'FULL'"},
    {"DEPTHWISE_CONV_2D", {"x", "dw"}, 2, {1, 4, 4, 2}, 4, {CONV_ATTRS, I("depth_multiplier", 2),
     S("activation", "NONE")}, "depth_multiplier = 2"},
    {"FULLY_CONNECTED", {"x", "fc"}, 2, {1, 3}, 2, {S("activation", "TANH")}, "fused activation 'TANH'"},
    {"MAX_POOL_2D", {"x"}, 1, {1, 4, 4, 2}, 4, {WIN("VALID", 1, 0, 2), S("activation", "NONE")}, "filter_h = 0"},
    {"AVERAGE_POOL_2D", {"x"}, 1, {1, 2, 2, 2}, 4, {WIN("VALID", 2, 2, 2), S("activation", "RELU")},
     "fused activation on a pool"},
    {"MEAN", {"x"}, 1, {1, 2}, 2, {{"axes", A_INTS, NULL, {1, 3}, 2, 0}, {"keep_dims", A_BOOL, NULL, {0}, 0, 0}},
     "axes [1, 2]"},
    {"ADD", {"x", "x"}, 2, {1, 4, 4, 2}, 4, {{0}}, "option 'activation' missing"},
    {"MUL", {"x", "x"}, 2, {1, 4, 4, 2}, 4, {S("activation", "RELU6")}, "fused activation 'RELU6'"},
    {"RELU", {"i32"}, 1, {4}, 1, {{0}}, "'i32' is an integer constant"},
    {"PRELU", {"x", "x"}, 2, {1, 4, 4, 2}, 4, {{0}}, "alpha must be a stored float tensor"},
    {"LOGISTIC", {"i32"}, 1, {4}, 1, {{0}}, "'i32' is an integer constant"},
    {"SOFTMAX", {"x"}, 1, {1, 4, 4, 2}, 4, {{"beta", A_F32, NULL, {0}, 0, 2.0f}}, "option 'beta'"},
    {"PAD", {"x", "i32"}, 2, {1, 5, 4, 2}, 4, {{"pads", A_INTS, NULL, {0, 0, 1, 0, 0, 0, 0, 0}, 8, 0}},
     "only zero padding appended on the last (channel) axis"},
    {"RESHAPE", {"x"}, 1, {1, 31}, 2, {{"new_shape", A_INTS, NULL, {1, 31}, 2, 0}}, "RESHAPE of 32 elements"},
    {"CONCATENATION", {"x", "x"}, 2, {1, 4, 4, 4}, 4, {I("axis", 7), S("activation", "NONE")}, "option axis = 7"},
    {"STRIDED_SLICE", {"x"}, 1, {1, 4, 4, 2}, 4, {{"begin", A_INTS, NULL, {0}, 4, 0}, {"end", A_INTS, NULL,
     {1, 4, 4, 2}, 4, 0}, {"strides", A_INTS, NULL, {1, 1, 1, 1}, 4, 0}, I("begin_mask", 0), I("end_mask", 0),
     I("ellipsis_mask", 1), I("new_axis_mask", 0), I("shrink_axis_mask", 0)}, "ellipsis_mask = 1"},
    {"DEQUANTIZE", {"x"}, 1, {1, 4, 4, 2}, 4, {{0}}, "DEQUANTIZE of anything but a stored float tensor"},
    {"CUSTOM:Scale", {"x"}, 1, {1, 4, 4, 2}, 4, {{0}}, "Scale: option 'factor' missing"},
};

START_TEST(every_op_refuses_malformed_nodes)
{
    size_t n_ops = sm_graph_op_count();
    ck_assert_uint_ge(n_ops, 18);
    for (size_t i = 0; i < n_ops; i++) {
        const sm_graph_op_info *op = sm_graph_op_at(i);
        const node *bad = NULL;
        for (size_t k = 0; k < sizeof malformed / sizeof *malformed && !bad; k++)
            if (sm_graph_find_op(malformed[k].op) == op)
                bad = &malformed[k];
        ck_assert_msg(bad != NULL, "op %s of the table has no malformed-node case in this test", op->name);
        /* one operand too many (past the table's maximum; CUSTOM: past the executor's 8) */
        node more = *bad;
        more.n_in = (int)op->max_inputs + 1;
        ck_assert_int_le(more.n_in, 9);
        for (int k = 0; k < more.n_in; k++)
            more.in[k] = "x";
        expect_refused(&more, "inputs");
        /* one operand too few, where the op has a minimum */
        if (op->min_inputs > 0) {
            node fewer = *bad;
            fewer.n_in = (int)op->min_inputs - 1;
            expect_refused(&fewer, "inputs");
        }
        expect_refused(bad, bad->want);
    }
}
END_TEST

/* LOGISTIC is in no model of ours: checked here against its definition,
 * 1/(1+exp(-x)) in double precision, over the whole float range that matters. */
START_TEST(logistic_matches_definition)
{
    node nd = {"LOGISTIC", {"x"}, 1, {1, 4, 4, 2}, 4, {{0}}, NULL};
    uint8_t *buf;
    sm_smw *f = graph_of(&nd, &buf);
    sm_graph *g;
    sm_error err = {0};
    ck_assert_msg(sm_graph_load(f, NULL, 0, &g, &err) == SM_OK, "%s", err.msg);
    float *x = sm_graph_input(g, 0);
    for (int i = 0; i < 32; i++)
        x[i] = -40.0f + 80.0f * (float)i / 31.0f + (i % 3) * 0.37f;
    sm_graph_run(g, NULL);
    const float *y = sm_graph_output(g, 0);
    for (int i = 0; i < 32; i++) {
        double r = 1.0 / (1.0 + exp(-(double)x[i]));
        ck_assert_msg(fabs(y[i] - r) <= 2e-7 * (1 + r), "logistic(%g) = %.9g, definition %.9g", x[i], y[i], r);
    }
    sm_graph_free(g);
    sm_smw_free(f);
    free(buf);
}
END_TEST

/* ---- the converters' check against the table --------------------------------------------- */

START_TEST(converter_check_follows_the_table)
{
    sm_error err = {0};
    const char *none[1] = {NULL};
    /* every op of the table at its operand limits, with every attribute it reads */
    for (size_t i = 0; i < sm_graph_op_count(); i++) {
        const sm_graph_op_info *op = sm_graph_op_at(i);
        char name[64], attrs[256], *keys[16];
        snprintf(name, sizeof name, strcmp(op->name, "CUSTOM") ? "%s" : "%s:Scale", op->name);
        snprintf(attrs, sizeof attrs, "%s", op->attributes);
        size_t nk = 0;
        for (char *t = strtok(attrs, " "); t && nk < 16; t = strtok(NULL, " "))
            keys[nk++] = t;
        size_t outs = op->n_outputs ? op->n_outputs : 1;
        ck_assert_msg(sm_convert_check_node("m.x", i, name, op->min_inputs, outs, (const char *const *)keys, nk,
                                            &err) == SM_OK,
                      "%s", err.msg);
        ck_assert_msg(sm_convert_check_node("m.x", i, name, op->max_inputs, outs, none, 0, &err) == SM_OK, "%s",
                      err.msg);
        if (op->n_outputs) {
            ck_assert_int_eq(sm_convert_check_node("m.x", 3, name, op->max_inputs + 1, outs, none, 0, &err),
                             SM_ERR_UNSUPPORTED);
            sm_test_assert_has_all(err.msg, (const char *[]){"m.x: operator 3", name, "inputs", NULL});
        }
    }
    /* an op outside the table: refused by name */
    static const char *const outside[] = {"RELU6", "HARD_SWISH", "TANH", "CUSTOM", "", "conv_2d"};
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        ck_assert(sm_graph_find_op(outside[i]) == NULL);
        ck_assert_int_eq(sm_convert_check_node("m.tflite", 2, outside[i], 1, 1, none, 0, &err), SM_ERR_UNSUPPORTED);
        sm_test_assert_has_all(err.msg, (const char *[]){"m.tflite: operator 2", "not an op of the graph executor",
                                                          "docs/GRAPH.md", NULL});
    }
    /* an attribute the op does not read */
    const char *pad[1] = {"padding"};
    ck_assert_int_eq(sm_convert_check_node("m.json", 0, "ADD", 2, 1, pad, 1, &err), SM_ERR_UNSUPPORTED);
    sm_test_assert_has_all(err.msg, (const char *[]){"m.json: operator 0 (ADD)", "attribute 'padding'", NULL});
    /* names are matched whole */
    ck_assert(sm_graph_find_op("CONV_2") == NULL && sm_graph_find_op("CONV_2D_") == NULL);
    ck_assert(sm_graph_find_op("CUSTOM:") == NULL && sm_graph_find_op("CUSTOMX") == NULL);
    ck_assert_str_eq(sm_graph_find_op("CUSTOM:Anything")->name, "CUSTOM");
    ck_assert(!sm_graph_op_reads(sm_graph_find_op("CONV_2D"), "stride") &&
              sm_graph_op_reads(sm_graph_find_op("CONV_2D"), "stride_h"));
}
END_TEST

/* ---- docs/GRAPH.md ------------------------------------------------------------------------- */

START_TEST(graph_doc_covers_the_table)
{
    const char *repo = getenv("SM_REPO");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/GRAPH.md", repo && *repo ? repo : ".");
    uint8_t *buf;
    size_t len;
    sm_error err;
    if (!repo || !*repo) {
        sm_test_skip("graph_doc_covers_the_table", "SM_REPO unset (run through tests/run-tests.sh)");
        return;
    }
    ck_assert_msg(sm_file_read_all(path, 0, &buf, &len, &err) == SM_OK, "%s", err.msg);
    char *doc = realloc(buf, len + 1);
    doc[len] = '\0';
    for (size_t i = 0; i < sm_graph_op_count(); i++) {
        const sm_graph_op_info *op = sm_graph_op_at(i);
        char head[96];
        snprintf(head, sizeof head, "\n#### `%s`", op->name);
        const char *sec = strstr(doc, head);
        ck_assert_msg(sec != NULL, "docs/GRAPH.md has no section '#### `%s`'", op->name);
        const char *end = strstr(sec + 1, "\n#### ");
        size_t n = end ? (size_t)(end - sec) : strlen(sec);
        char attrs[256];
        snprintf(attrs, sizeof attrs, "%s", op->attributes);
        if (!strcmp(op->name, "CUSTOM"))
            continue;
        for (char *t = strtok(attrs, " "); t; t = strtok(NULL, " ")) {
            char quoted[64];
            snprintf(quoted, sizeof quoted, "`%s`", t);
            const char *hit = strstr(sec, quoted);
            ck_assert_msg(hit && hit < sec + n, "docs/GRAPH.md, section %s: attribute %s not documented", op->name,
                          quoted);
        }
    }
    free(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = sm_test_tcase(s, "table", 60);
    tcase_add_test(tc, every_op_refuses_malformed_nodes);
    tcase_add_test(tc, logistic_matches_definition);
    tcase_add_test(tc, converter_check_follows_the_table);
    tcase_add_test(tc, graph_doc_covers_the_table);
    return sm_test_main(s);
}

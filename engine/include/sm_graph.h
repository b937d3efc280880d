/* sm_graph: runs the operator graph stored in a .smw (the graph form,
 * docs/GRAPH.md: graph.* metadata, constants as tensors in NHWC/OHWI layout).
 * The executor knows only this form; the converters' front ends
 * (tools/tflite_convert.c, tools/tfjs_convert.c) write it.
 *
 * Load: reads every operator, looks its name up in the op table
 * (engine/graph/graph_ops.inc) and lets the op's prepare check its operands,
 * attributes and output shape (the shape it computes must equal
 * graph.op.<i>.output_shape.*); DEQUANTIZE outputs become the stored f32
 * constants; then fuses
 *   CONV/DWCONV -> ADD(residual) -> RELU/PRELU   and   CONV/DWCONV -> RELU/PRELU
 * into one kernel call (the fused step runs at the ADD's position, where the
 * residual already exists), prepares the kernels and plans every activation
 * into one arena by liveness (first fit, largest first). run() never
 * allocates and never fails.
 *
 * The ops and their limits are listed in docs/GRAPH.md section 3. Float32
 * only, batch 1 for the conv family. CUSTOM:<code> ops run through hooks
 * (sm_graph_custom_op) given at load, such as the MediaPipe ops of
 * models/face_mp_hooks.c.
 */
#ifndef SM_GRAPH_H
#define SM_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"
#include "sm_kernels.h"

#define SM_GRAPH_MAX_DIMS 4

/* One op of the executor's table as the converters see it: what a front end
 * may emit. */
typedef struct {
    const char *name;       /* graph.op.<i>.op, e.g. "CONV_2D"; "CUSTOM" stands for every CUSTOM:<code> */
    unsigned min_inputs, max_inputs; /* operand count (an absent optional operand is an empty name) */
    unsigned n_outputs;     /* 0: any count, checked by the hook (CUSTOM) */
    const char *operands;   /* the inputs in order, "input, filter, [bias]" */
    const char *attributes; /* the graph.op.<i>.* keys the op reads, space-separated */
} sm_graph_op_info;

/* The table entry for an op name, or NULL when the executor has no such op.
 * "CUSTOM:<code>" finds the CUSTOM entry (whether a hook for <code> exists is
 * known only at load). */
const sm_graph_op_info *sm_graph_find_op(const char *name);
/* The same for a name that is not NUL-terminated. */
const sm_graph_op_info *sm_graph_find_op_n(const char *name, size_t len);
/* Whether op reads graph.op.<i>.<key> (one of its attributes); a front end
 * writes no other key. Always true for CUSTOM, whose hook decides. */
bool sm_graph_op_reads(const sm_graph_op_info *op, const char *key);
/* Every op of the table: i < sm_graph_op_count(). */
size_t sm_graph_op_count(void);
const sm_graph_op_info *sm_graph_op_at(size_t i);

typedef struct {
    uint32_t ndim;
    int32_t dims[SM_GRAPH_MAX_DIMS];
} sm_graph_shape;

/* A CUSTOM operator implementation. prepare() checks the operand shapes and
 * reads the op's options from f (graph.op.<op_index>.*); it may keep f: the
 * .smw outlives the graph. run() computes; it must not allocate or fail. */
typedef struct {
    const char *code; /* custom code, e.g. "Landmarks2TransformMatrix" */
    sm_status (*prepare)(const sm_smw *f, size_t op_index, size_t n_in, const sm_graph_shape *in,
                         size_t n_out, const sm_graph_shape *out, void **state, sm_error *err);
    void (*run)(void *state, const float *const *in, float *const *out);
    void (*free)(void *state); /* may be NULL */
} sm_graph_custom_op;

typedef struct sm_graph sm_graph;

/* customs may be NULL (n_customs 0): a graph with CUSTOM ops is then refused
 * naming the missing op. Messages name the .smw, the op index, its type and
 * the tensor. The GEMM convs and dense layers run in the process-wide
 * precision (sm_precision_active() at load). */
sm_status sm_graph_load(const sm_smw *f, const sm_graph_custom_op *customs, size_t n_customs,
                        sm_graph **out, sm_error *err);

/* What sm_graph_load takes, and the precision of this graph alone. */
typedef struct {
    const sm_graph_custom_op *customs; /* may be NULL (n_customs 0) */
    size_t n_customs;
    /* The arithmetic of every CONV_2D and FULLY_CONNECTED (depthwise convs
     * stay FP32, as everywhere): FP32 or BF16 for this graph whatever the
     * process-wide precision is (so models loading side by side never toggle
     * shared state); DEFAULT: sm_precision_active() read once at load. */
    sm_precision precision;
} sm_graph_options;

/* sm_graph_load with options; opts NULL = all defaults. */
sm_status sm_graph_load_opts(const sm_smw *f, const sm_graph_options *opts, sm_graph **out, sm_error *err);
void sm_graph_free(sm_graph *g);

size_t sm_graph_n_inputs(const sm_graph *g);
size_t sm_graph_n_outputs(const sm_graph *g);
/* Buffers in the graph's arena: write the input(s), run, read the outputs.
 * An output stays valid until the next run. */
float *sm_graph_input(sm_graph *g, size_t k);
const float *sm_graph_output(const sm_graph *g, size_t k);
sm_graph_shape sm_graph_input_shape(const sm_graph *g, size_t k);
sm_graph_shape sm_graph_output_shape(const sm_graph *g, size_t k);
const char *sm_graph_output_name(const sm_graph *g, size_t k);
/* Index of the output named name, or -1. */
int sm_graph_find_output(const sm_graph *g, const char *name);
size_t sm_graph_numel(sm_graph_shape s);

void sm_graph_run(sm_graph *g, sm_threadpool *pool);

/* Statistics for logs and benchmarks. */
typedef struct {
    size_t n_ops;        /* operators in the file */
    size_t n_steps;      /* kernel calls after fusion and aliasing */
    size_t n_fused;      /* ops folded into a conv epilogue */
    size_t arena_bytes;  /* planned activation memory */
    size_t naive_bytes;  /* sum of all activation sizes (no reuse) */
    double gflop;        /* conv multiply-adds x 2 */
    sm_precision precision; /* of the GEMM convs and dense layers, resolved at load (FP32 or BF16) */
} sm_graph_stats;

sm_graph_stats sm_graph_get_stats(const sm_graph *g);

#endif

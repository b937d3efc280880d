/* sm_graph: runs the operator graph a converted TFLite or TF.js model left in its .smw
 * (docs/TFLITE.md section 4: tensors in TFLite layout, graph.op.<i>.* metadata).
 *
 * Load: reads every operator, resolves DEQUANTIZE outputs to the stored f32
 * constants, checks every operator's inputs, options and output shape (the
 * shape it computes must equal graph.op.<i>.output_shape.*), fuses
 *   CONV/DWCONV -> ADD(residual) -> RELU/PRELU   and   CONV/DWCONV -> RELU/PRELU
 * into one kernel call (the fused step runs at the ADD's position, where the
 * residual already exists), prepares the kernels (sm_conv2d/sm_dwconv/sm_maxpool)
 * and plans every activation into one arena by liveness (first fit, largest
 * first). run() never allocates and never fails.
 *
 * Supported: CONV_2D, DEPTHWISE_CONV_2D (multiplier 1, dilation 1), ADD and
 * MUL (same shape, or one operand with a single element), RELU, PRELU (alpha
 * per last-axis channel), LOGISTIC, MAX_POOL_2D, PAD (channel axis only, zeros
 * after), RESHAPE, CONCATENATION, STRIDED_SLICE (positive strides, no
 * ellipsis/new-axis masks), DEQUANTIZE (of a stored tensor), AVERAGE_POOL_2D,
 * MEAN (axes [1,2]), SOFTMAX (last axis), FULLY_CONNECTED ([O,I] weights) and
 * CUSTOM ops through a hook table given at load. Float32 only, batch 1 for the
 * conv family. TF.js models converted by tools/tfjs_convert.c use the same form.
 */
#ifndef SM_GRAPH_H
#define SM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

#define SM_GRAPH_MAX_DIMS 4

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
 * the tensor. */
sm_status sm_graph_load(const sm_smw *f, const sm_graph_custom_op *customs, size_t n_customs,
                      sm_graph **out, sm_error *err);
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
} sm_graph_stats;

sm_graph_stats sm_graph_get_stats(const sm_graph *g);

#endif

/* Private to engine/graph: the executor's data structures and the interface
 * between the executor (graph.c) and the ops (ops_*.c), one gr_op per entry
 * of graph_ops.inc.
 *
 * An op's life, as in TFLite Micro's op registration: prepare at load
 * (validates the operands' kinds and shapes and every attribute, reads the
 * attributes into the step, computes the output shape), bind after fusion
 * (builds the kernels with the fused epilogue), run (computes only: no
 * allocation, no failure), release. The executor checks the operand and
 * output counts of the table entry (sm_graph_op_info) before prepare. */
#ifndef SM_GRAPH_INTERNAL_H
#define SM_GRAPH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sm_graph.h"
#include "sm_kernels.h"

#define GR_MAX_OP_IN 8
#define GR_MAX_OP_OUT 4
#define GR_MAX_GRAPH_IO 16

typedef enum { GR_CONST, GR_INPUT, GR_ACT } gr_tensor_kind;

typedef struct {
    char *name;
    sm_graph_shape shape;
    size_t numel;
    gr_tensor_kind kind;
    const float *cdata; /* GR_CONST; NULL for integer constants (their values are attributes) */
    float *owned;       /* widened f16 constant */
    int def, last;      /* step positions (liveness) */
    bool is_output, used;
    size_t off;         /* in the arena */
} gr_tensor;

typedef struct gr_op gr_op;

/* One node of the graph and what its op keeps for run(). */
typedef struct {
    const sm_graph_op_info *info;
    const gr_op *op;
    size_t op_index;
    sm_str opname;      /* graph.op.<i>.op, in the .smw */
    int in[GR_MAX_OP_IN], n_in;   /* tensor indices; -1 = absent optional operand */
    int out[GR_MAX_OP_OUT], n_out;
    /* attributes, read by prepare */
    bool same;          /* SAME padding (else VALID) */
    uint32_t sh, sw, kh, kw;
    sm_act act;         /* fused activation (NONE/RELU; PRELU after fusion) */
    int alpha;          /* tensor of PReLU slopes or -1 */
    int residual;       /* tensor added in the epilogue or -1 */
    int axis;
    int32_t begin[SM_GRAPH_MAX_DIMS], end[SM_GRAPH_MAX_DIMS], stride[SM_GRAPH_MAX_DIMS];
    int pad_after;      /* PAD: channels appended */
    size_t rows;        /* SOFTMAX / FULLY_CONNECTED: independent rows */
    bool global;        /* AVERAGE_POOL_2D whose one window covers the whole input */
    const sm_graph_custom_op *custom;
    void *cstate;       /* the hook's state */
    void *kernel;       /* sm_conv2d / sm_dwconv / sm_maxpool / sm_dense, built by bind */
    double pos;         /* execution position */
    bool dead;
    int n_fused;
} gr_step;

struct sm_graph {
    const sm_smw *f;
    const sm_graph_custom_op *customs;
    size_t n_customs;
    gr_tensor *t;
    size_t n_t, cap_t;
    gr_step *s;
    size_t n_s;
    gr_step **order;    /* live steps in execution order */
    size_t n_order;
    int inputs[GR_MAX_GRAPH_IO], outputs[GR_MAX_GRAPH_IO];
    size_t n_inputs, n_outputs;
    uint8_t *arena;
    size_t arena_bytes, naive_bytes;
    double gflop;
    size_t n_fused;
    sm_precision precision; /* FP32 or BF16 for every conv2d/dense description (never DEFAULT) */
};

/* What an op may do in fusion (graph.c): a conv-like host takes a residual ADD
 * and a RELU/PRELU into its epilogue. */
typedef enum {
    GR_FUSE_NONE,
    GR_FUSE_HOST,       /* CONV_2D, DEPTHWISE_CONV_2D */
    GR_FUSE_RESIDUAL,   /* ADD: becomes the host's residual */
    GR_FUSE_RELU,
    GR_FUSE_PRELU,
    GR_FUSE_ALIAS       /* DEQUANTIZE: the output is the stored constant, no step runs */
} gr_fuse;

struct gr_op {
    /* Checks the node and fills want[0..n_out) with the shape(s) it computes;
     * file_out holds the shapes graph.op.<i>.output_shape.* declares (for ops
     * whose shape the attributes do not fix: RESHAPE, CUSTOM). */
    sm_status (*prepare)(sm_graph *g, gr_step *s, const sm_graph_shape *file_out, sm_graph_shape *want,
                         sm_error *err);
    sm_status (*bind)(sm_graph *g, gr_step *s, sm_error *err); /* NULL: nothing to build */
    void (*run)(const sm_graph *g, const gr_step *s, sm_threadpool *pool); /* NULL: no work */
    void (*release)(gr_step *s);                                           /* NULL: nothing kept */
    gr_fuse fuse;
};

#define SM_GRAPH_OP(NAME, impl, min_in, max_in, n_out, operands, attributes) extern const gr_op sm_graph_op_##impl;
#include "graph_ops.inc"
#undef SM_GRAPH_OP

/* ---- helpers for the ops (graph.c) ---- */

static inline const gr_tensor *gr_t(const sm_graph *g, int i) { return &g->t[i]; }

/* The data of tensor i: a constant's values or its place in the arena. */
static inline float *gr_p(const sm_graph *g, int i)
{
    const gr_tensor *t = &g->t[i];
    return t->kind == GR_CONST ? (float *)(uintptr_t)t->cdata : (float *)(g->arena + t->off);
}

/* "<file>: graph op <i> (<NAME>): <message>" */
sm_status gr_op_err(const sm_graph *g, const gr_step *s, sm_error *err, sm_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* graph.op.<i>.<key> */
const sm_meta *gr_attr(const sm_graph *g, const gr_step *s, const char *key);
bool gr_meta_int_array(const sm_meta *m, int64_t *out, size_t max, size_t *n);
bool gr_str_eq(sm_str s, const char *c);
bool gr_shape_eq(sm_graph_shape a, sm_graph_shape b);
const char *gr_shape_str(sm_graph_shape s, char *buf, size_t cap);
sm_status gr_attr_int(sm_graph *g, gr_step *s, const char *key, int64_t lo, int64_t hi, int64_t *v, sm_error *err);
/* activation: NONE or RELU into s->act */
sm_status gr_attr_act(sm_graph *g, gr_step *s, sm_error *err);
/* padding, stride_h/w and, for pools, filter_h/w, else dilation_h/w (1 only); then activation */
sm_status gr_attr_window(sm_graph *g, gr_step *s, bool pool, sm_error *err);
/* Output extent of a window of k with stride over in under s->same. */
sm_status gr_out_extent(sm_graph *g, gr_step *s, int32_t in, uint32_t k, uint32_t stride, int32_t *out,
                        sm_error *err);
/* Operand i must be a stored float tensor (or its DEQUANTIZE) / a float activation or constant. */
sm_status gr_need_const(sm_graph *g, gr_step *s, int i, const char *what, sm_error *err);
sm_status gr_need_float(sm_graph *g, gr_step *s, int i, const char *what, sm_error *err);
/* Operand 0 a float input, operand 1 a stored float tensor (weights, alpha). */
sm_status gr_need_input_and_const(sm_graph *g, gr_step *s, const char *what, sm_error *err);

#endif

/* A bounds-checked reader for TFLite FlatBuffer models (schema v3, "TFL3").
 *
 * sm_tflite_parse() walks the model once and copies out what the converter
 * needs: operator codes (builtin and custom), the first subgraph's tensors,
 * inputs, outputs and operators, with the builtin options this project uses
 * decoded. Every offset, vtable, vector length and string is checked against
 * the buffer before it is read, buffer indices are range-checked, and nothing
 * recurses. Tensor data and custom options stay pointers into the caller's
 * buffer, which must outlive the sm_tflite. */
#ifndef SM_TFLITE_H
#define SM_TFLITE_H

#include "sm_engine.h"

/* TensorType values from the schema. */
enum {
    SM_TFL_FLOAT32 = 0, SM_TFL_FLOAT16 = 1, SM_TFL_INT32 = 2, SM_TFL_UINT8 = 3,
    SM_TFL_INT64 = 4, SM_TFL_STRING = 5, SM_TFL_BOOL = 6, SM_TFL_INT16 = 7,
    SM_TFL_COMPLEX64 = 8, SM_TFL_INT8 = 9, SM_TFL_FLOAT64 = 10
};

/* BuiltinOperator values the converter knows by name. */
enum {
    SM_TFL_OP_ADD = 0, SM_TFL_OP_AVERAGE_POOL_2D = 1, SM_TFL_OP_CONCATENATION = 2,
    SM_TFL_OP_CONV_2D = 3, SM_TFL_OP_DEPTHWISE_CONV_2D = 4, SM_TFL_OP_DEQUANTIZE = 6,
    SM_TFL_OP_LOGISTIC = 14, SM_TFL_OP_MAX_POOL_2D = 17, SM_TFL_OP_MUL = 18,
    SM_TFL_OP_RELU = 19, SM_TFL_OP_RELU6 = 21, SM_TFL_OP_RESHAPE = 22,
    SM_TFL_OP_CUSTOM = 32, SM_TFL_OP_PAD = 34, SM_TFL_OP_STRIDED_SLICE = 45,
    SM_TFL_OP_PRELU = 54
};

#define SM_TFL_MAX_DIMS 8
#define SM_TFL_MAX_NEW_SHAPE 8

typedef struct {
    int32_t builtin;       /* max(deprecated_builtin_code, builtin_code) */
    int32_t version;
    char *custom_code;     /* NULL for builtins */
} sm_tfl_opcode;

typedef struct {
    char *name;            /* as in the file ("" when absent) */
    int32_t type;          /* SM_TFL_FLOAT32, ... */
    uint32_t ndim;
    int32_t dims[SM_TFL_MAX_DIMS];
    uint32_t buffer;       /* checked < n_buffers */
    const uint8_t *data;   /* the buffer's bytes, NULL when it has none */
    size_t nbytes;
    bool quantized;        /* has scale or zero_point values */
    bool is_variable;
} sm_tfl_tensor;

/* The builtin options this project's models use; has_options says whether
 * the operator carried an options table of the expected type at all. */
typedef struct {
    bool has_options;
    int32_t padding;       /* 0 SAME, 1 VALID */
    int32_t stride_w, stride_h, dilation_w, dilation_h;
    int32_t depth_multiplier;
    int32_t filter_w, filter_h;
    int32_t activation;    /* ActivationFunctionType */
    int32_t axis;
    uint32_t n_new_shape;
    int32_t new_shape[SM_TFL_MAX_NEW_SHAPE];
    bool has_new_shape;
    int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
} sm_tfl_options;

typedef struct {
    uint32_t opcode;       /* checked < n_opcodes */
    uint32_t n_inputs, n_outputs;
    int32_t *inputs;       /* tensor indices, checked; -1 = optional input absent */
    int32_t *outputs;
    uint8_t options_type;  /* BuiltinOptions union tag */
    sm_tfl_options opt;
    const uint8_t *custom_options;
    size_t custom_options_len;
} sm_tfl_op;

typedef struct {
    uint32_t version;
    char *description;
    uint32_t n_subgraphs;
    uint32_t n_buffers;
    uint32_t n_opcodes;
    sm_tfl_opcode *opcodes;
    /* the first subgraph */
    char *subgraph_name;
    uint32_t n_tensors, n_ops, n_inputs, n_outputs;
    sm_tfl_tensor *tensors;
    sm_tfl_op *ops;
    int32_t *inputs, *outputs;
} sm_tflite;

/* Parses buf (len bytes); path names the file in messages. */
sm_status sm_tflite_parse(const uint8_t *buf, size_t len, const char *path, sm_tflite **out,
                          sm_error *err);
void sm_tflite_free(sm_tflite *m);

/* "CONV_2D", ... or NULL for a code this reader has no name for. */
const char *sm_tflite_builtin_name(int32_t code);
const char *sm_tflite_type_name(int32_t type);
/* "NONE", "RELU", ... or NULL. */
const char *sm_tflite_activation_name(int32_t act);
/* Bytes per element of a tensor type, 0 if not a fixed-size number. */
size_t sm_tflite_type_size(int32_t type);

#endif

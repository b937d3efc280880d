/* model_registry.h: every network kind behind one interface, found by the
 * general.architecture string of its .smw. smw-run, smw-bench, smw-convert (to
 * check a file it wrote) and the tests go through this table instead of keeping
 * their own lists of architectures; adding a network is one entry here.
 *
 * Ownership: a kind's load takes an open .smw that must stay open until the
 * model is freed when kind->keeps_file (the graph models read their weights
 * from the mapping); sm_model_open/sm_model_close handle both cases. One run
 * at a time per model.
 *
 * Layouts: run takes the engine's own layout (NHWC images, rows of features);
 * input_nchw says the original framework puts channels before height and width,
 * and sm_model_from_framework turns such a tensor into ours (smw-run takes the
 * framework's layout so that its .npy files are PyTorch's). */
#ifndef SM_MODEL_REGISTRY_H
#define SM_MODEL_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer_time.h"
#include "sm_engine.h"

#define SM_MODEL_MAX_DIMS 5
#define SM_MODEL_MAX_OUTPUTS 8

/* A dense tensor: dims[0..ndim-1], C order, data not owned. */
typedef struct {
    sm_dtype dtype;
    uint32_t ndim;
    uint64_t dims[SM_MODEL_MAX_DIMS];
    void *data;
} sm_model_tensor;

/* What run produced: n named tensors whose buffers the outputs own and reuse on
 * the next run (sm_model_outputs_free releases them). Zero-initialise. */
typedef struct {
    int n;
    char name[SM_MODEL_MAX_OUTPUTS][32];
    sm_model_tensor t[SM_MODEL_MAX_OUTPUTS];
    size_t cap[SM_MODEL_MAX_OUTPUTS]; /* bytes allocated per slot */
} sm_model_outputs;

/* The input a kind takes, in the framework's layout: rank, dims (-1 = any
 * size), accepted dtypes, and the text smw-run prints. */
typedef struct {
    uint32_t ndim;
    int64_t dims[SM_MODEL_MAX_DIMS];
    sm_dtype dtypes[2];
    int n_dtypes;
    bool nchw; /* framework layout is [..., C, H, W]; run takes [..., H, W, C] */
    const char *layout;
} sm_model_input;

typedef struct sm_model_kind {
    const char *arch;        /* general.architecture */
    const char *description; /* one line for --help and benchmark rows */
    sm_model_input input;
    const char *outputs; /* names and shapes, for --help */
    /* Validates f (architecture, tensors, metadata) and prepares the model;
     * errors name the file and what is wrong. */
    sm_status (*load)(const sm_smw *f, sm_threadpool *pool, void **model, sm_error *err);
    void (*free)(void *model);
    /* One inference on in (our layout, already checked against input); fills
     * out. pool: the threads to use (may differ from load's; NULL = one). */
    sm_status (*run)(void *model, const sm_model_tensor *in, sm_threadpool *pool, sm_model_outputs *out,
                     sm_error *err);
    /* FLOPs of one run on in (multiply-add = 2). */
    double (*flops)(const void *model, const sm_model_tensor *in);
    /* A fixed input of the model's default size in our layout, in->data
     * malloc'd (the caller frees it): what smw-bench times. */
    sm_status (*example)(const void *model, sm_model_tensor *in, sm_error *err);
    /* Where run reads its input from, for a caller that can write it there
     * and spare run its copy (NULL: run always reads in->data). */
    void *(*input_buffer)(void *model);
    /* Per-layer profiling (NULL when the kind has none): on/off, records. */
    void (*profile)(void *model, bool on);
    size_t (*layer_times)(const void *model, const sm_layer_time **out);
    /* Calls to average per timed benchmark run: 1, or more for kinds whose call
     * is too short to time alone (the fatigue MLP, about a microsecond). */
    size_t bench_calls;
    /* The model reads its weights from the open .smw (the graph kinds); the
     * others copy or repack what they keep, and sm_model_open unmaps the file
     * right after loading them. */
    bool keeps_file;
} sm_model_kind;

/* The kinds the pipeline and the benchmarks name directly. */
extern const sm_model_kind sm_model_novel_emotion, sm_model_ultralight, sm_model_fatigue_mlp,
    sm_model_face_detector, sm_model_face_mesh, sm_model_face_mesh_attention, sm_model_face_expression;

/* Every kind, in a fixed order; *n gets the count. */
const sm_model_kind *const *sm_model_kinds(size_t *n);
/* The kind for architecture arch (len bytes, not NUL-terminated), or NULL. */
const sm_model_kind *sm_model_kind_find(const char *arch, size_t len);
/* The kind of f by its general.architecture; SM_ERR_UNSUPPORTED naming the file,
 * the architecture and the known ones, or SM_ERR_FORMAT when there is none. */
sm_status sm_model_kind_of(const sm_smw *f, const sm_model_kind **kind, sm_error *err);

/* A loaded model with its open file. */
typedef struct {
    const sm_model_kind *kind;
    sm_smw *file; /* NULL once loaded unless kind->keeps_file */
    void *impl; /* what kind->load made: sm_emotion *, sm_ultralight *, ... */
} sm_model;

/* Opens path, finds its kind (or uses want when not NULL, whose load then
 * refuses another architecture) and loads it. *out NULL on failure. */
sm_status sm_model_open(const char *path, const sm_model_kind *want, sm_threadpool *pool, sm_model **out,
                        sm_error *err);
void sm_model_close(sm_model *m); /* NULL is fine */

/* in in our layout: a copy transposed from [..., C, H, W] when kind->input.nchw
 * (*buf gets the malloc'd copy to free), else in itself (*buf NULL). */
sm_status sm_model_from_framework(const sm_model_kind *kind, const sm_model_tensor *in, sm_model_tensor *ours,
                                  void **buf, sm_error *err);

/* The slot for output name in out (reallocated only when it grows). NULL on
 * out of memory or more than SM_MODEL_MAX_OUTPUTS outputs (err set). */
void *sm_model_output(sm_model_outputs *out, const char *name, sm_dtype dtype, uint32_t ndim,
                      const uint64_t *dims, sm_error *err);
void sm_model_outputs_free(sm_model_outputs *out);
size_t sm_model_tensor_numel(const sm_model_tensor *t);

#endif

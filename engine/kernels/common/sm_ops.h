/* Internal helpers shared by the op implementations (prepare-time only). */
#ifndef SM_OPS_H
#define SM_OPS_H

#include "sm_kernels.h"
#include "sm_ukernels.h"

/* OpenBLAS is used when the build has it (BLAS=none defines SM_NO_BLAS; a cross
 * build without the target's cblas.h quietly goes without). */
#if !defined(SM_NO_BLAS) && defined(__has_include)
#if __has_include(<cblas.h>)
#define SM_HAVE_BLAS 1
#endif
#endif

/* Work split: run() hands out at most SM_OPS_SLOTS tasks, each a contiguous range;
 * per-task scratch is indexed by the task, so results never depend on which or
 * how many threads run (bit-identical for any pool). */
#define SM_OPS_SLOTS 16

/* Validates a conv description and returns canonical weights [out][kh][kw][in]
 * (depthwise: [C][kh][kw]) with BatchNorm folded in, and the folded bias (always
 * allocated, zeros when absent). Both freed with sm_aligned_free. */
sm_status sm_ops_canon_conv(const sm_conv_desc *d, bool depthwise, float **w, float **bias,
                            sm_error *err);
/* Packs canonical [n][k] weights + bias into GEMM panels of nr columns. */
float *sm_ops_pack_gemm(const float *w_nk, const float *bias, size_t n, size_t k, size_t nr);
/* Copy of v (n entries, or zeros if v is NULL) padded with zeros to n_pad. */
float *sm_ops_padded_copy(const float *v, size_t n, size_t n_pad);
/* Resolves the padding of one axis at run time. */
void sm_ops_axis(size_t in, uint32_t k, uint32_t s, sm_padding pad, bool vertical, size_t *out,
                 size_t *lead);
/* Range [*b, *e) of task t of n over count items. */
static inline void sm_ops_range(size_t count, size_t n, size_t t, size_t *b, size_t *e)
{
    *b = count * t / n;
    *e = count * (t + 1) / n;
}
/* Tasks for a run over `items` pieces (at most SM_OPS_SLOTS) by the engine's
 * fan-out rule (sm_parallel_tasks): 1 unless the op's FLOPs, or for memory-bound
 * ops its bytes read and written, make at least two tasks worth a fork/join. */
static inline size_t sm_ops_tasks_flops(size_t items, double flops, const sm_threadpool *pool)
{
    return sm_parallel_tasks(pool, items, SM_OPS_SLOTS, flops, SM_PAR_GRAIN_FLOPS);
}
static inline size_t sm_ops_tasks_bytes(size_t items, double bytes, const sm_threadpool *pool)
{
    return sm_parallel_tasks(pool, items, SM_OPS_SLOTS, bytes, SM_PAR_GRAIN_BYTES);
}
/* For fusing a pointwise conv into what consumes its output: the channel
 * granularity of slices (the panel width; 0 when the op is not pointwise or runs
 * through BLAS), and output channels [n0, n1) (n0 a multiple of the unit, n1 one
 * too or out_ch) of
 * `pixels` input pixels into out (pixel stride ldo, out[0] = channel n0), on the
 * calling thread. Each element's arithmetic is the one sm_conv2d_run does. */
size_t sm_conv2d_slice_unit(const sm_conv2d *op);
void sm_conv2d_pointwise_slice(const sm_conv2d *op, const float *in, size_t pixels, size_t n0, size_t n1,
                               float *out, size_t ldo);
/* OpenBLAS to one thread (we thread over tiles ourselves); once per process. */
void sm_ops_blas_single_thread(void);
bool sm_ops_blas_available(void);

#endif

/* sm_maxpool_*, sm_global_avgpool. */
#include <stdlib.h>

#include "common/sm_ops.h"

#define POOL_MAX_K 16

struct sm_maxpool {
    const sm_kernel_table *kt;
    uint32_t kh, kw, sh, sw;
    sm_padding pad;
};

sm_status sm_maxpool_prepare(uint32_t kh, uint32_t kw, uint32_t stride_h, uint32_t stride_w,
                             sm_padding pad, sm_maxpool **out, sm_error *err)
{
    *out = NULL;
    if (kh == 0 || kw == 0 || stride_h == 0 || stride_w == 0 || kh > POOL_MAX_K || kw > POOL_MAX_K)
        return sm_error_set(err, SM_ERR_ARG, "maxpool: window %ux%u stride %ux%u (window 1..%d, stride >= 1)",
                            kh, kw, stride_h, stride_w, POOL_MAX_K);
    if ((unsigned)pad.mode > SM_PAD_VALID)
        return sm_error_set(err, SM_ERR_ARG, "maxpool: unknown padding mode %d", (int)pad.mode);
    if (pad.mode == SM_PAD_EXPLICIT && (pad.top >= kh || pad.bottom >= kh || pad.left >= kw || pad.right >= kw))
        return sm_error_set(err, SM_ERR_ARG, "maxpool: padding must be smaller than the window %ux%u", kh, kw);
    sm_maxpool *op = calloc(1, sizeof *op);
    if (!op)
        return sm_error_set(err, SM_ERR_NOMEM, "maxpool: out of memory");
    op->kt = sm_kernels_active();
    op->kh = kh;
    op->kw = kw;
    op->sh = stride_h;
    op->sw = stride_w;
    op->pad = pad;
    *out = op;
    return SM_OK;
}

void sm_maxpool_free(sm_maxpool *op) { free(op); }

sm_status sm_maxpool_out_shape(const sm_maxpool *op, size_t in_h, size_t in_w, size_t *out_h,
                               size_t *out_w, sm_error *err)
{
    return sm_window_out_shape(&op->pad, op->kh, op->kw, op->sh, op->sw, in_h, in_w, out_h, out_w, err);
}

typedef struct {
    const sm_maxpool *op;
    const float *in;
    float *out;
    size_t in_h, in_w, ch, out_h, out_w, pad_top, pad_left, n_tasks;
} mp_ctx;

static void mp_task(void *vctx, size_t task, size_t thread)
{
    const mp_ctx *x = vctx;
    const sm_maxpool *op = x->op;
    const float *rows[POOL_MAX_K];
    size_t b, e;
    sm_ops_range(x->out_h, x->n_tasks, task, &b, &e);
    for (size_t oy = b; oy < e; oy++) {
        for (size_t ky = 0; ky < op->kh; ky++) {
            long iy = (long)(oy * op->sh + ky) - (long)x->pad_top;
            rows[ky] = iy < 0 || iy >= (long)x->in_h ? NULL : x->in + (size_t)iy * x->in_w * x->ch;
        }
        op->kt->maxpool(x->ch, x->out_w, x->in_w, x->pad_left, op->kw, op->sw, rows, op->kh,
                        x->out + oy * x->out_w * x->ch);
    }
}

void sm_maxpool_run(const sm_maxpool *op, const float *in, size_t in_h, size_t in_w,
                    size_t channels, float *out, sm_threadpool *pool)
{
    mp_ctx x = {op, in, out, in_h, in_w, channels, 0, 0, 0, 0, 0};
    sm_ops_axis(in_h, op->kh, op->sh, op->pad, true, &x.out_h, &x.pad_top);
    sm_ops_axis(in_w, op->kw, op->sw, op->pad, false, &x.out_w, &x.pad_left);
    x.n_tasks = sm_ops_tasks_bytes(x.out_h, sizeof(float) * (double)(in_h * in_w * channels + x.out_h * x.out_w * channels), pool);
    sm_threadpool_run(pool, x.n_tasks, mp_task, &x);
}

void sm_global_avgpool(const float *in, size_t pixels, size_t channels, float *out)
{
    sm_kernels_active()->gavgpool(pixels, channels, in, out);
}

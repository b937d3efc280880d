/* Stateless element-wise ops on the active ISA's kernels. */
#include <string.h>

#include "common/sm_ops.h"

typedef struct {
    const sm_kernel_table *kt;
    sm_act act;
    const float *x, *alpha;
    float *y;
    size_t n, channels, n_tasks;
} act_ctx;

static void act_task(void *vctx, size_t task, size_t thread)
{
    const act_ctx *a = vctx;
    size_t b, e;
    if (a->act == SM_ACT_PRELU) {
        size_t pixels = a->n / a->channels;
        sm_ops_range(pixels, a->n_tasks, task, &b, &e);
        if (b < e)
            a->kt->prelu(e - b, a->channels, a->x + b * a->channels, a->alpha, a->y + b * a->channels);
        return;
    }
    sm_ops_range(a->n, a->n_tasks, task, &b, &e);
    if (b >= e)
        return;
    sm_vunary_ukernel_fn fn = a->act == SM_ACT_RELU ? a->kt->vrelu
                              : a->act == SM_ACT_SILU ? a->kt->vsilu
                                                      : a->kt->vsigmoid;
    fn(e - b, a->x + b, a->y + b);
}

void sm_activation(sm_act act, const float *x, size_t n, size_t channels, const float *alpha,
                   float *y, sm_threadpool *pool)
{
    if (act == SM_ACT_NONE) {
        if (y != x)
            memmove(y, x, n * sizeof *y);
        return;
    }
    act_ctx a = {sm_kernels_active(), act, x, alpha, y, n, channels ? channels : 1, 0};
    size_t items = act == SM_ACT_PRELU ? n / a.channels : n / 4096 + 1;
    /* relu and prelu stream memory; silu and sigmoid spend ~20 FLOPs on each exp */
    a.n_tasks = act == SM_ACT_RELU || act == SM_ACT_PRELU ? sm_ops_tasks_bytes(items, 2.0 * sizeof(float) * (double)n, pool)
                                                          : sm_ops_tasks_flops(items, 20.0 * (double)n, pool);
    sm_threadpool_run(pool, a.n_tasks, act_task, &a);
}

void sm_add(const float *a, const float *b, size_t n, sm_act act, float *y)
{
    sm_kernels_active()->vadd(n, a, b, act, y);
}

void sm_channel_pad(const float *x, size_t pixels, size_t cin, size_t cout, float *y)
{
    sm_f32_chanpad_ukernel__scalar(pixels, cin, cout, x, y);
}

void sm_channel_scale(const float *x, size_t pixels, size_t channels, const float *scale, float *y)
{
    sm_kernels_active()->vscale(pixels, channels, x, scale, y);
}

void sm_softmax(const float *x, size_t n, float *y)
{
    if (n)
        sm_f32_softmax_ukernel__scalar(n, x, y);
}

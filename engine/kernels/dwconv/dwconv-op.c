/* sm_dwconv_*: depthwise conv, one output row per kernel call, rows split over tasks. */
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"

#define DW_MAX_K 16

struct sm_dwconv {
    uint32_t c, k, s;
    sm_padding pad;
    sm_act act;
    size_t tile;
    sm_dwconv_ukernel_fn fn;              /* NULL => generic */
    sm_dwconv_generic_ukernel_fn generic;
    const char *kernel_name;
    sm_gavgpool_ukernel_fn gavgpool;      /* row means for sm_dwconv_run_mean */
    float *packed, *alpha;
};

sm_status sm_dwconv_prepare(const sm_conv_desc *d, sm_dwconv **out, sm_error *err)
{
    *out = NULL;
    if (!d)
        return sm_error_set(err, SM_ERR_ARG, "dwconv: NULL description");
    const char *name = d->name ? d->name : "dwconv";
    if (d->kh != d->kw || d->stride_h != d->stride_w)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: depthwise needs a square kernel and equal strides, found %ux%u stride %ux%u",
                            name, d->kh, d->kw, d->stride_h, d->stride_w);
    if (d->kh > DW_MAX_K)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: kernel %u above %d", name, d->kh, DW_MAX_K);
    if (d->layout != SM_WLAYOUT_OIHW && d->layout != SM_WLAYOUT_1HWO &&
        d->layout != SM_WLAYOUT_OHWI && d->layout != SM_WLAYOUT_HWIO)
        return sm_error_set(err, SM_ERR_ARG, "%s: unknown weight layout %d", name, (int)d->layout);
    float *w = NULL, *b = NULL;
    sm_status st = sm_ops_canon_conv(d, true, &w, &b, err);
    if (st != SM_OK)
        return st;
    /* the kernel is looked up by everything it assumes (sm_dwconv_key) */
    const sm_kernel_table *kt = sm_kernels_active();
    const sm_dwconv_variant *v =
        sm_kernels_dwconv(kt, (sm_dwconv_key){d->kh, d->kw, d->stride_h, d->stride_w}, d->dwconv);
    sm_dwconv *op = v ? calloc(1, sizeof *op) : NULL;
    if (!op) {
        sm_aligned_free(w);
        sm_aligned_free(b);
        if (!v)
            return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                "%s: dwconv.inc lists no fixed-shape kernel for %ux%u stride %u at level %s",
                                name, d->kh, d->kw, d->stride_h, sm_isa_name(kt->isa));
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    }
    op->c = d->in_ch;
    op->k = d->kh;
    op->s = d->stride_h;
    op->pad = d->pad;
    op->act = d->act;
    op->gavgpool = kt->gavgpool;
    op->fn = v->fn;
    op->generic = v->generic;
    op->tile = v->tile;
    op->kernel_name = v->name;
    size_t T = op->tile, taps = (size_t)op->k * op->k, tiles = (op->c + T - 1) / T;
    op->packed = sm_aligned_alloc(tiles * T * (1 + taps) * sizeof(float));
    op->alpha = sm_ops_padded_copy(d->act == SM_ACT_PRELU ? d->alpha : NULL, op->c, tiles * T);
    if (op->packed) {
        memset(op->packed, 0, tiles * T * (1 + taps) * sizeof(float));
        for (size_t c = 0; c < op->c; c++) {
            float *dst = op->packed + (c / T) * T * (1 + taps) + c % T;
            dst[0] = b[c];
            for (size_t t = 0; t < taps; t++)
                dst[(1 + t) * T] = w[c * taps + t];
        }
    }
    sm_aligned_free(w);
    sm_aligned_free(b);
    if (!op->packed || !op->alpha) {
        sm_dwconv_free(op);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    }
    *out = op;
    return SM_OK;
}

const char *sm_dwconv_kernel_name(const sm_dwconv *op) { return op->kernel_name; }

void sm_dwconv_free(sm_dwconv *op)
{
    if (!op)
        return;
    sm_aligned_free(op->packed);
    sm_aligned_free(op->alpha);
    free(op);
}

sm_status sm_dwconv_out_shape(const sm_dwconv *op, size_t in_h, size_t in_w, size_t *out_h,
                              size_t *out_w, sm_error *err)
{
    return sm_window_out_shape(&op->pad, op->k, op->k, op->s, op->s, in_h, in_w, out_h, out_w, err);
}

typedef struct {
    const sm_dwconv *op;
    const float *in, *residual;
    float *out;
    size_t in_h, in_w, out_h, out_w, pad_top, pad_left, n_tasks;
    float *row_means; /* NULL or out_h x C: each output row's channel means */
} dw_ctx;

static void dw_task(void *vctx, size_t task, size_t thread)
{
    const dw_ctx *x = vctx;
    const sm_dwconv *op = x->op;
    const size_t C = op->c, ow = x->out_w;
    const float *rows[DW_MAX_K];
    size_t b, e;
    sm_ops_range(x->out_h, x->n_tasks, task, &b, &e);
    for (size_t oy = b; oy < e; oy++) {
        for (size_t ky = 0; ky < op->k; ky++) {
            long iy = (long)(oy * op->s + ky) - (long)x->pad_top;
            rows[ky] = iy < 0 || iy >= (long)x->in_h ? NULL : x->in + (size_t)iy * x->in_w * C;
        }
        sm_ukernel_params p = {op->act, op->alpha, x->residual ? x->residual + oy * ow * C : NULL, C};
        if (op->fn)
            op->fn(C, ow, x->in_w, x->pad_left, rows, op->packed, x->out + oy * ow * C, &p);
        else
            op->generic(op->k, op->s, C, ow, x->in_w, x->pad_left, rows, op->packed,
                        x->out + oy * ow * C, &p);
        /* the row was just written: still in L1, unlike the whole map for a later pass */
        if (x->row_means)
            op->gavgpool(ow, C, x->out + oy * ow * C, x->row_means + oy * C);
    }
}

void sm_dwconv_run(const sm_dwconv *op, const float *in, size_t in_h, size_t in_w,
                   const float *residual, float *out, sm_threadpool *pool)
{
    sm_dwconv_run_mean(op, in, in_h, in_w, residual, out, NULL, NULL, pool);
}

/* every row has out_w pixels: the mean of the row means, rows in order */
static void mean_of_rows(const sm_dwconv *op, size_t out_h, const float *row_means, float *mean)
{
    for (size_t c = 0; c < op->c; c++)
        mean[c] = 0.0f;
    for (size_t oy = 0; oy < out_h; oy++)
        for (size_t c = 0; c < op->c; c++)
            mean[c] += row_means[oy * op->c + c];
    for (size_t c = 0; c < op->c; c++)
        mean[c] /= (float)out_h;
}

size_t sm_dwconv_mean_scratch_floats(const sm_dwconv *op, size_t out_h) { return out_h * op->c; }

void sm_dwconv_run_mean(const sm_dwconv *op, const float *in, size_t in_h, size_t in_w,
                        const float *residual, float *out, float *mean, float *scratch,
                        sm_threadpool *pool)
{
    dw_ctx x = {op, in, residual, out, in_h, in_w, 0, 0, 0, 0, 0, mean ? scratch : NULL};
    sm_ops_axis(in_h, op->k, op->s, op->pad, true, &x.out_h, &x.pad_top);
    sm_ops_axis(in_w, op->k, op->s, op->pad, false, &x.out_w, &x.pad_left);
    x.n_tasks = sm_ops_tasks_flops(x.out_h, 2.0 * (double)(x.out_h * x.out_w * op->c) * op->k * op->k, pool);
    sm_threadpool_run(pool, x.n_tasks, dw_task, &x);
    if (mean)
        mean_of_rows(op, x.out_h, scratch, mean);
}

/* ---- pointwise expansion fused in front (EfficientNet's conv_pw -> conv_dw) ---- */

/* Each task owns a slice of the expanded channels (whole GEMM panels) and walks
 * every row: the expansion rows its depthwise rows need go into a ring of k rows,
 * so the expanded map (13 MB in EfficientNet-B3's blocks.1.0) is never written
 * out and read back. Splitting channels instead of rows recomputes nothing. */
bool sm_pw_dw_fusable(const sm_conv2d *pw, const sm_dwconv *dw)
{
    size_t unit = sm_conv2d_slice_unit(pw);
    return unit && unit % dw->tile == 0 && sm_conv2d_out_channels(pw) == dw->c;
}

static size_t pw_dw_thread_floats(const sm_dwconv *dw, size_t in_w)
{
    return ((size_t)dw->k + 1) * in_w * dw->c; /* k ring rows + one output row */
}

size_t sm_pw_dw_scratch_floats(const sm_dwconv *dw, size_t in_w, size_t n_threads)
{
    return (n_threads ? n_threads : 1) * pw_dw_thread_floats(dw, in_w);
}

typedef struct {
    const sm_conv2d *pw;
    const sm_dwconv *dw;
    const float *in;
    float *out, *row_means, *scratch;
    size_t in_h, in_w, in_ch, out_h, out_w, pad_top, pad_left, n_tasks, unit;
    size_t bands; /* task = (band of output rows, range of channel units) */
} pw_dw_ctx;

static void pw_dw_task(void *vctx, size_t task, size_t thread)
{
    const pw_dw_ctx *x = vctx;
    const sm_dwconv *dw = x->dw;
    const size_t C = dw->c, K = dw->k, W = x->in_w, OW = x->out_w;
    size_t units = (C + x->unit - 1) / x->unit, u0, u1, y0, y1;
    sm_ops_range(units, x->n_tasks / x->bands, task / x->bands, &u0, &u1);
    sm_ops_range(x->out_h, x->bands, task % x->bands, &y0, &y1);
    size_t c0 = u0 * x->unit, c1 = u1 * x->unit < C ? u1 * x->unit : C, cs = c1 - c0;
    if (cs == 0 || y0 == y1)
        return;
    float *ring = x->scratch + thread * pw_dw_thread_floats(dw, W), *obuf = ring + K * W * cs;
    const float *wdw = dw->packed + (c0 / dw->tile) * dw->tile * (1 + K * K);
    const float *rows[DW_MAX_K];
    sm_ukernel_params p = {dw->act, dw->alpha + c0, NULL, cs};
    /* next expansion row to compute: a band after the first recomputes the k - s
     * rows it shares with the band before (same arithmetic, same bits) */
    long first = (long)(y0 * dw->s) - (long)x->pad_top;
    size_t next = first > 0 ? (size_t)first : 0;
    for (size_t oy = y0; oy < y1; oy++) {
        long iy0 = (long)(oy * dw->s) - (long)x->pad_top;
        long last = iy0 + (long)K - 1 < (long)x->in_h ? iy0 + (long)K - 1 : (long)x->in_h - 1;
        for (; (long)next <= last; next++)
            sm_conv2d_pointwise_slice(x->pw, x->in + next * W * x->in_ch, W, c0, c1, ring + (next % K) * W * cs, cs);
        for (size_t ky = 0; ky < K; ky++) {
            long iy = iy0 + (long)ky;
            rows[ky] = iy < 0 || iy >= (long)x->in_h ? NULL : ring + ((size_t)iy % K) * W * cs;
        }
        if (dw->fn)
            dw->fn(cs, OW, W, x->pad_left, rows, wdw, obuf, &p);
        else
            dw->generic(K, dw->s, cs, OW, W, x->pad_left, rows, wdw, obuf, &p);
        float *dst = x->out + oy * OW * C + c0;
        for (size_t i = 0; i < OW; i++)
            memcpy(dst + i * C, obuf + i * cs, cs * sizeof(float));
        if (x->row_means)
            dw->gavgpool(OW, cs, obuf, x->row_means + oy * C + c0);
    }
}

void sm_pw_dw_run(const sm_conv2d *pw, const sm_dwconv *dw, const float *in, size_t in_h, size_t in_w,
                  float *out, float *mean, float *mean_scratch, float *scratch, sm_threadpool *pool)
{
    pw_dw_ctx x = {pw, dw, in, out, mean ? mean_scratch : NULL, scratch, in_h, in_w, 0, 0, 0, 0, 0, 0, 0, 1};
    sm_ops_axis(in_h, dw->k, dw->s, dw->pad, true, &x.out_h, &x.pad_top);
    sm_ops_axis(in_w, dw->k, dw->s, dw->pad, false, &x.out_w, &x.pad_left);
    x.unit = sm_conv2d_slice_unit(pw);
    x.in_ch = sm_conv2d_in_channels(pw);
    /* one slice per panel when threaded: many small tasks so a thread that is late
     * or descheduled holds up one panel, not half of the channels */
    size_t units = (dw->c + x.unit - 1) / x.unit;
    double flops = 2.0 * (double)(in_h * in_w * x.in_ch * dw->c) +
                   2.0 * (double)(x.out_h * x.out_w * dw->c) * dw->k * dw->k;
    size_t slices = sm_ops_tasks_flops(units, flops, pool);
    x.bands = slices > 1 && x.out_h >= 16 ? 2 : 1; /* two bands even out an odd panel count */
    x.n_tasks = slices * x.bands;
    sm_threadpool_run(pool, x.n_tasks, pw_dw_task, &x);
    if (mean)
        mean_of_rows(dw, x.out_h, mean_scratch, mean);
}

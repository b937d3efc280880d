/* sm_conv2d_*: regular convolution (groups = 1) on the GEMM micro-kernel.
 * 1x1 / stride 1 / no padding: one GEMM, A = the input pixels (M = H*W, K = Cin).
 * Anything else: blocks of MR output pixels of one row. A block whose windows all
 * lie inside the image runs the direct kernel, which reads the windows in place;
 * a block touching the padding is first gathered (im2col) into per-task scratch
 * (MR x K floats, independent of the image size) for the GEMM kernel. Both use the
 * same panels and K order, so the results are the same bits either way, and
 * prepare can allocate everything and run never does.
 * sm_conv2d_run_windows serves callers that keep their images padded already:
 * no gather at all, the caller's list of window origins in any order, and pixel
 * blocks running across rows and images. */
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"
#include "gemm/bf16-gemm.h"

#ifdef SM_HAVE_BLAS
#include <cblas.h>
#endif

#define SM_OPS_MAX_MR 16 /* the largest GEMM tile height (checked at prepare) */


struct sm_conv2d {
    const sm_kernel_table *kt;
    sm_gemm_ukernel_fn gemm;
    sm_dconv_ukernel_fn direct;
    const char *gemm_name;
    uint32_t ic, oc, kh, kw, sh, sw;
    sm_padding pad;
    sm_act act;
    size_t k;          /* kh*kw*ic */
    size_t nr, mr, panels;
    bool pointwise;
    bool blas;         /* pointwise through cblas_sgemm + our epilogue */
    float *packed;     /* GEMM panels */
    float *alpha;      /* padded to panels*nr */
    float *w_kn;       /* BLAS: [K][N] */
    float *bias;       /* BLAS epilogue */
    float *scratch;    /* SM_OPS_SLOTS x mr x k */
    const sm_bf16_gemm_variant *bf16; /* BF16 precision: its kernel (mr, nr), else NULL */
    uint16_t *packed_bf16; /* BF16 panels (bf16-gemm.h); `packed` stays for run_scaled */
};

/* A panel's uint16 length in the BF16 layout. */
static size_t bf16_panel_len(const sm_conv2d *op) { return ((op->k + 1) / 2 + 1) * 2 * op->nr; }

/* One GEMM tile on panel pi in the op's precision; bf16 NULL = the op's own panels. */
static void gemm_tile(const sm_conv2d *op, const uint16_t *bf16, size_t pi, size_t mr, size_t nc,
                      const float *a, size_t lda, float *c, size_t ldc, const sm_ukernel_params *p)
{
    if (op->bf16)
        op->bf16->fn(mr, nc, op->k, a, lda, (bf16 ? bf16 : op->packed_bf16) + pi * bf16_panel_len(op), c,
                     ldc, p);
    else
        op->gemm(mr, nc, op->k, a, lda, op->packed + pi * (op->k + 1) * op->nr, c, ldc, p);
}

/* OpenBLAS beats our scalar C by far; with AVX2/AVX-512 our fused kernel wins on
 * this model family's shapes (docs/KERNELS.md), so BLAS serves the scalar level. */
static bool prefer_blas(const sm_kernel_table *kt, sm_gemm_kernel choice)
{
    if (!sm_ops_blas_available())
        return false;
    if (choice != SM_GEMM_KERNEL_AUTO)
        return choice == SM_GEMM_KERNEL_BLAS;
    return kt->isa == SM_ISA_SCALAR;
}

/* The narrow kernel when the wide panels would pad the output channels by much more
 * (e.g. 40 -> 64 vs 48, 16 -> 32 vs 16), unless the description names one. */
static bool use_narrow(const sm_kernel_table *kt, uint32_t oc, sm_gemm_kernel choice)
{
    if (!kt->gemm_narrow.fn)
        return false;
    if (choice == SM_GEMM_KERNEL_NARROW)
        return true;
    if (choice == SM_GEMM_KERNEL_WIDE || choice == SM_GEMM_KERNEL_BLAS)
        return false;
    size_t wide = (oc + kt->gemm.nr - 1) / kt->gemm.nr * kt->gemm.nr;
    size_t narrow = (oc + kt->gemm_narrow.nr - 1) / kt->gemm_narrow.nr * kt->gemm_narrow.nr;
    return (double)narrow < 0.8 * (double)wide;
}

sm_status sm_conv2d_prepare(const sm_conv_desc *d, sm_conv2d **out, sm_error *err)
{
    *out = NULL;
    if (!d)
        return sm_error_set(err, SM_ERR_ARG, "conv2d: NULL description");
    float *w = NULL, *b = NULL;
    sm_status st = sm_ops_canon_conv(d, false, &w, &b, err);
    if (st != SM_OK)
        return st;
    sm_conv2d *op = calloc(1, sizeof *op);
    if (!op) {
        sm_aligned_free(w);
        sm_aligned_free(b);
        return sm_error_set(err, SM_ERR_NOMEM, "conv2d: out of memory");
    }
    op->kt = sm_kernels_active();
    op->ic = d->in_ch;
    op->oc = d->out_ch;
    op->kh = d->kh;
    op->kw = d->kw;
    op->sh = d->stride_h;
    op->sw = d->stride_w;
    op->pad = d->pad;
    op->act = d->act;
    op->k = (size_t)d->kh * d->kw * d->in_ch;
    op->gemm = op->kt->gemm.fn;
    op->direct = op->kt->gemm.direct;
    op->gemm_name = op->kt->gemm.name;
    op->nr = op->kt->gemm.nr;
    op->mr = op->kt->gemm.mr;
    if (use_narrow(op->kt, d->out_ch, d->gemm)) {
        op->gemm = op->kt->gemm_narrow.fn;
        op->direct = op->kt->gemm_narrow.direct;
        op->gemm_name = op->kt->gemm_narrow.name;
        op->nr = op->kt->gemm_narrow.nr;
        op->mr = op->kt->gemm_narrow.mr;
    }
    sm_precision prec = d->precision != SM_PRECISION_DEFAULT ? d->precision : sm_precision_active();
    if (prec == SM_PRECISION_BF16 && d->gemm != SM_GEMM_KERNEL_BLAS) {
        op->bf16 = sm_bf16_gemm_for(op->kt->isa);
        op->gemm_name = op->bf16->name;
        op->nr = op->bf16->nr;
        op->mr = op->bf16->mr;
    }
    if (op->mr > SM_OPS_MAX_MR) {
        size_t mr = op->mr;
        free(op);
        sm_aligned_free(w);
        sm_aligned_free(b);
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "conv2d: GEMM tile height %zu above %d", mr,
                            SM_OPS_MAX_MR);
    }
    op->panels = (op->oc + op->nr - 1) / op->nr;
    bool nopad = d->pad.mode == SM_PAD_VALID ||
                 (d->pad.mode == SM_PAD_EXPLICIT && !d->pad.top && !d->pad.left && !d->pad.bottom && !d->pad.right) ||
                 d->pad.mode == SM_PAD_SAME; /* SAME with k=1, s=1 pads nothing */
    op->pointwise = d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && nopad;
    op->packed = sm_ops_pack_gemm(w, b, op->oc, op->k, op->nr);
    op->alpha = sm_ops_padded_copy(d->act == SM_ACT_PRELU ? d->alpha : NULL, op->oc, op->panels * op->nr);
    bool ok = op->packed && op->alpha;
    if (op->bf16) {
        op->packed_bf16 = sm_aligned_alloc(sm_bf16_packed_len(op->oc, op->k, op->nr) * sizeof(uint16_t));
        ok = ok && op->packed_bf16;
        if (op->packed_bf16)
            sm_bf16_pack_gemm(w, b, NULL, op->oc, op->k, op->nr, op->packed_bf16);
    }
    if (op->pointwise && !op->bf16 && prefer_blas(op->kt, d->gemm)) {
        op->blas = true;
        sm_ops_blas_single_thread();
        op->w_kn = sm_aligned_alloc(op->k * op->oc * sizeof(float));
        op->bias = b;
        b = NULL;
        if (op->w_kn)
            for (size_t o = 0; o < op->oc; o++)
                for (size_t kk = 0; kk < op->k; kk++)
                    op->w_kn[kk * op->oc + o] = w[o * op->k + kk];
        ok = ok && op->w_kn;
    }
    if (!op->pointwise) {
        op->scratch = sm_aligned_alloc(SM_OPS_SLOTS * op->mr * op->k * sizeof(float));
        ok = ok && op->scratch;
    }
    sm_aligned_free(w);
    sm_aligned_free(b);
    if (!ok) {
        sm_conv2d_free(op);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory packing weights",
                            d->name ? d->name : "conv2d");
    }
    *out = op;
    return SM_OK;
}

void sm_conv2d_free(sm_conv2d *op)
{
    if (!op)
        return;
    sm_aligned_free(op->packed);
    sm_aligned_free(op->packed_bf16);
    sm_aligned_free(op->alpha);
    sm_aligned_free(op->w_kn);
    sm_aligned_free(op->bias);
    sm_aligned_free(op->scratch);
    free(op);
}

size_t sm_conv2d_out_channels(const sm_conv2d *op) { return op ? op->oc : 0; }
size_t sm_conv2d_in_channels(const sm_conv2d *op) { return op ? op->ic : 0; }

const char *sm_conv2d_kernel_name(const sm_conv2d *op)
{
    return op->blas ? "cblas_sgemm + epilogue" : op->gemm_name;
}

sm_status sm_conv2d_out_shape(const sm_conv2d *op, size_t in_h, size_t in_w, size_t *out_h,
                              size_t *out_w, sm_error *err)
{
    return sm_window_out_shape(&op->pad, op->kh, op->kw, op->sh, op->sw, in_h, in_w, out_h, out_w, err);
}

typedef struct {
    const sm_conv2d *op;
    const float *in, *residual;
    float *out;
    size_t in_h, in_w, out_h, out_w, pad_top, pad_left;
    size_t n_tasks, m;
    size_t panel_groups; /* pointwise: work unit = (row block, group of panels) */
} conv_ctx;

/* `rows` output rows x panels [p0, p1) from A rows at a (row stride lda) into c, whose
 * element [m][j] is output column col0 + j of row m (row stride ldc); res NULL or
 * rows x oc from column 0. */
static void gemm_rows_panels(const sm_conv2d *op, const float *a, size_t lda, size_t rows, size_t p0,
                             size_t p1, float *c, size_t ldc, size_t col0, const float *res)
{
    for (size_t pi = p0; pi < p1; pi++) {
        size_t n0 = pi * op->nr, nc = op->oc - n0 < op->nr ? op->oc - n0 : op->nr;
        for (size_t m = 0; m < rows; m += op->mr) {
            size_t mr = rows - m < op->mr ? rows - m : op->mr;
            sm_ukernel_params p = {op->act, op->alpha + n0, res ? res + m * op->oc + n0 : NULL, op->oc};
            gemm_tile(op, NULL, pi, mr, nc, a + m * lda, lda, c + m * ldc + (n0 - col0), ldc, &p);
        }
    }
}

#ifdef SM_HAVE_BLAS
static void blas_epilogue(const sm_conv2d *op, float *c, const float *res, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < op->oc; o++) {
            float v = c[r * op->oc + o] + op->bias[o] + (res ? res[r * op->oc + o] : 0.0f);
            c[r * op->oc + o] = v;
        }
    if (op->act != SM_ACT_NONE)
        sm_activation(op->act, c, rows * op->oc, op->oc, op->alpha, c, NULL);
}
#endif

/* Rows go in fixed blocks of about PW_BLOCK so that every block is computed the same
 * way whatever the thread count (OpenBLAS's results depend on M). Our kernels' blocks
 * are a whole number of tiles: a 6-row AVX2 tile in a 64-row block would leave a
 * 4-row tile that costs a full one (3% of every pointwise conv); a row's arithmetic
 * does not depend on the tile it is in, so the bits are the same. */
#define PW_BLOCK 64
static size_t pw_block(const sm_conv2d *op)
{
    return op->blas ? PW_BLOCK : (PW_BLOCK + op->mr - 1) / op->mr * op->mr;
}

static void pointwise_task(void *vctx, size_t task, size_t thread)
{
    const conv_ctx *x = vctx;
    const sm_conv2d *op = x->op;
    const size_t G = x->panel_groups;
    size_t b, e;
    const size_t bs = pw_block(op);
    sm_ops_range((x->m + bs - 1) / bs * G, x->n_tasks, task, &b, &e);
    for (size_t u = b; u < e; u++) {
        size_t blk = u / G, g = u % G;
        size_t m = blk * bs, rows = x->m - m < bs ? x->m - m : bs;
        const float *res = x->residual ? x->residual + m * op->oc : NULL;
#ifdef SM_HAVE_BLAS
        if (op->blas) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)op->oc,
                        (int)op->k, 1.0f, x->in + m * op->ic, (int)op->ic, op->w_kn, (int)op->oc,
                        0.0f, x->out + m * op->oc, (int)op->oc);
            blas_epilogue(op, x->out + m * op->oc, res, rows);
            continue;
        }
#endif
        gemm_rows_panels(op, x->in + m * op->ic, op->ic, rows, op->panels * g / G, op->panels * (g + 1) / G,
                         x->out + m * op->oc, op->oc, 0, res);
    }
}

/* mr output pixels (row stride oc in out and residual) from windows read in place. */
static void run_direct(const sm_conv2d *op, const float *const *win, size_t mr, size_t row_stride,
                       float *out, const float *res)
{
    for (size_t pi = 0; pi < op->panels; pi++) {
        size_t n0 = pi * op->nr, nc = op->oc - n0 < op->nr ? op->oc - n0 : op->nr;
        sm_ukernel_params p = {op->act, op->alpha + n0, res ? res + n0 : NULL, op->oc};
        op->direct(mr, nc, op->kh, (size_t)op->kw * op->ic, row_stride, win,
                   op->packed + pi * (op->k + 1) * op->nr, out + n0, op->oc, &p);
    }
}

static void im2col_task(void *vctx, size_t task, size_t thread)
{
    const conv_ctx *x = vctx;
    const sm_conv2d *op = x->op;
    float *buf = op->scratch + task * op->mr * op->k;
    const size_t ic = op->ic, rowk = (size_t)op->kw * ic;
    size_t b, e;
    sm_ops_range(x->out_h, x->n_tasks, task, &b, &e);
    for (size_t oy = b; oy < e; oy++) {
        long iy0 = (long)(oy * op->sh) - (long)x->pad_top;
        bool rows_inside = iy0 >= 0 && iy0 + (long)op->kh <= (long)x->in_h;
        for (size_t ox0 = 0; ox0 < x->out_w; ox0 += op->mr) {
            size_t mr = x->out_w - ox0 < op->mr ? x->out_w - ox0 : op->mr;
            long ixa = (long)(ox0 * op->sw) - (long)x->pad_left;
            long ixb = (long)((ox0 + mr - 1) * op->sw) - (long)x->pad_left + (long)op->kw;
            if (!op->bf16 && rows_inside && ixa >= 0 && ixb <= (long)x->in_w) {
                const float *win[SM_OPS_MAX_MR];
                for (size_t m = 0; m < mr; m++)
                    win[m] = x->in + ((size_t)iy0 * x->in_w + (size_t)ixa + m * op->sw) * ic;
                run_direct(op, win, mr, x->in_w * ic, x->out + (oy * x->out_w + ox0) * op->oc,
                           x->residual ? x->residual + (oy * x->out_w + ox0) * op->oc : NULL);
                continue;
            }
            for (size_t m = 0; m < mr; m++) {
                float *dst = buf + m * op->k;
                long ix0 = (long)((ox0 + m) * op->sw) - (long)x->pad_left;
                for (size_t ky = 0; ky < op->kh; ky++) {
                    long iy = (long)(oy * op->sh + ky) - (long)x->pad_top;
                    float *d = dst + ky * rowk;
                    if (iy < 0 || iy >= (long)x->in_h) {
                        memset(d, 0, rowk * sizeof(float));
                        continue;
                    }
                    const float *src = x->in + (size_t)iy * x->in_w * ic;
                    if (ix0 >= 0 && ix0 + (long)op->kw <= (long)x->in_w) {
                        memcpy(d, src + (size_t)ix0 * ic, rowk * sizeof(float));
                        continue;
                    }
                    for (size_t kx = 0; kx < op->kw; kx++) {
                        long ix = ix0 + (long)kx;
                        if (ix < 0 || ix >= (long)x->in_w)
                            memset(d + kx * ic, 0, ic * sizeof(float));
                        else
                            memcpy(d + kx * ic, src + (size_t)ix * ic, ic * sizeof(float));
                    }
                }
            }
            size_t o = (oy * x->out_w + ox0) * op->oc;
            for (size_t pi = 0; pi < op->panels; pi++) {
                size_t n0 = pi * op->nr, nc = op->oc - n0 < op->nr ? op->oc - n0 : op->nr;
                sm_ukernel_params p = {op->act, op->alpha + n0,
                                       x->residual ? x->residual + o + n0 : NULL, op->oc};
                gemm_tile(op, NULL, pi, mr, nc, buf, op->k, x->out + o + n0, op->oc, &p);
            }
        }
    }
}

void sm_conv2d_run(const sm_conv2d *op, const float *in, size_t in_h, size_t in_w,
                   const float *residual, float *out, sm_threadpool *pool)
{
    conv_ctx x = {op, in, residual, out, in_h, in_w, 0, 0, 0, 0, 0, 0, 1};
    sm_ops_axis(in_h, op->kh, op->sh, op->pad, true, &x.out_h, &x.pad_top);
    sm_ops_axis(in_w, op->kw, op->sw, op->pad, false, &x.out_w, &x.pad_left);
    if (op->pointwise) {
        x.m = in_h * in_w;
        const size_t bs = pw_block(op), blocks = (x.m + bs - 1) / bs;
        /* few row blocks (a 10x10 map has 2) would leave threads idle or unequal:
         * split the output channels too, panel groups per block (each element's
         * arithmetic is the same either way) */
        /* no per-task scratch here, so finer tasks than SM_OPS_SLOTS: the last
         * one leaves a thread idle for less */
        size_t limit = sm_parallel_tasks(pool, 4 * SM_OPS_SLOTS, 4 * SM_OPS_SLOTS,
                                         2.0 * (double)(x.m * op->k * op->oc), SM_PAR_GRAIN_FLOPS);
        if (limit > 1 && !op->blas && blocks < limit) {
            x.panel_groups = (limit + blocks - 1) / blocks;
            if (x.panel_groups > op->panels)
                x.panel_groups = op->panels;
        }
        size_t units = blocks * x.panel_groups;
        x.n_tasks = units < limit ? units : limit;
        sm_threadpool_run(pool, x.n_tasks, pointwise_task, &x);
    } else {
        x.n_tasks = sm_ops_tasks_flops(x.out_h, 2.0 * (double)(x.out_h * x.out_w * op->oc * op->k), pool);
        sm_threadpool_run(pool, x.n_tasks, im2col_task, &x);
    }
}

typedef struct {
    const sm_conv2d *op;
    const float *in;
    const size_t *window;
    float *out;
    size_t n, image_stride, count, row_stride, n_tasks;
} windows_ctx;

static void windows_task(void *vctx, size_t task, size_t thread)
{
    (void)thread;
    const windows_ctx *x = vctx;
    const sm_conv2d *op = x->op;
    const size_t total = x->n * x->count;
    size_t b, e;
    sm_ops_range((total + op->mr - 1) / op->mr, x->n_tasks, task, &b, &e);
    if (b == e)
        return;
    /* walk (image, pixel) along with the block: no division per pixel */
    size_t img = b * op->mr / x->count, i = b * op->mr % x->count;
    const float *base = x->in + img * x->image_stride;
    for (size_t blk = b; blk < e; blk++) {
        size_t m0 = blk * op->mr, mr = total - m0 < op->mr ? total - m0 : op->mr;
        const float *win[SM_OPS_MAX_MR];
        for (size_t m = 0; m < mr; m++) {
            win[m] = base + x->window[i];
            if (++i == x->count) {
                i = 0;
                base += x->image_stride;
            }
        }
        if (op->bf16) {
            /* no BF16 direct kernel: gather the windows (BF16 is not the fast path here) */
            float *buf = op->scratch + task * op->mr * op->k;
            const size_t run = (size_t)op->kw * op->ic;
            for (size_t m = 0; m < mr; m++)
                for (size_t ky = 0; ky < op->kh; ky++)
                    memcpy(buf + m * op->k + ky * run, win[m] + ky * x->row_stride, run * sizeof(float));
            gemm_rows_panels(op, buf, op->k, mr, 0, op->panels, x->out + m0 * op->oc, op->oc, 0, NULL);
            continue;
        }
        run_direct(op, win, mr, x->row_stride, x->out + m0 * op->oc, NULL);
    }
}

void sm_conv2d_run_windows(const sm_conv2d *op, const float *in, size_t n, size_t image_stride,
                           const size_t *window, size_t count, size_t row_stride, float *out,
                           sm_threadpool *pool)
{
    windows_ctx x = {op, in, window, out, n, image_stride, count, row_stride, 0};
    x.n_tasks = sm_ops_tasks_flops((n * count + op->mr - 1) / op->mr, 2.0 * (double)(n * count * op->oc * op->k), pool);
    sm_threadpool_run(pool, x.n_tasks, windows_task, &x);
}

size_t sm_conv2d_raster_windows(const sm_conv2d *op, size_t in_h, size_t in_w, size_t *window)
{
    if (in_h < op->kh || in_w < op->kw)
        return 0;
    size_t out_h = (in_h - op->kh) / op->sh + 1, out_w = (in_w - op->kw) / op->sw + 1;
    if (window)
        for (size_t oy = 0; oy < out_h; oy++)
            for (size_t ox = 0; ox < out_w; ox++)
                window[oy * out_w + ox] = (oy * op->sh * in_w + ox * op->sw) * op->ic;
    return out_h * out_w;
}

size_t sm_conv2d_scaled_scratch_floats(const sm_conv2d *op)
{
    if (!op->pointwise)
        return 0;
    size_t packed = op->panels * (op->k + 1) * op->nr, kn = op->blas ? op->k * op->oc : 0;
    return packed > kn ? packed : kn;
}

/* conv(in * scale) = conv with weight row k times scale[k]: the scale is folded
 * into a copy of the packed weights (K x N multiplies) instead of a pass over the
 * M x K input, which wins wherever the image has more pixels than the layer has
 * output channels. */
typedef struct {
    const sm_conv2d *op;
    const float *scale;
    float *dst;
    size_t n_tasks;
} fold_ctx;

static void fold_task(void *vctx, size_t task, size_t thread)
{
    (void)thread;
    const fold_ctx *x = vctx;
    const sm_conv2d *op = x->op;
    const size_t nr = op->nr;
    size_t b, e;
    sm_ops_range(op->panels, x->n_tasks, task, &b, &e);
    if (op->bf16) {
        /* one rounding of w * scale, into BF16 panels in the same scratch */
        sm_bf16_repack_panels(op->packed, x->scale, op->k, nr, b, e, (uint16_t *)(void *)x->dst);
        return;
    }
    for (size_t pi = b; pi < e; pi++) {
        const float *src = op->packed + pi * (op->k + 1) * nr;
        float *dst = x->dst + pi * (op->k + 1) * nr;
        memcpy(dst, src, nr * sizeof *dst); /* bias row */
        for (size_t k = 0; k < op->k; k++)
            for (size_t j = 0; j < nr; j++)
                dst[(k + 1) * nr + j] = src[(k + 1) * nr + j] * x->scale[k];
    }
}

void sm_conv2d_run_scaled(const sm_conv2d *op, const float *in, size_t in_h, size_t in_w,
                          const float *in_scale, const float *residual, float *out, float *scratch,
                          sm_threadpool *pool)
{
    sm_conv2d scaled = *op;
    if (op->blas) {
        for (size_t k = 0; k < op->k; k++)
            for (size_t n = 0; n < op->oc; n++)
                scratch[k * op->oc + n] = op->w_kn[k * op->oc + n] * in_scale[k];
        scaled.w_kn = scratch;
    } else {
        /* threaded too: K x N is a few hundred thousand multiplies in late layers */
        fold_ctx f = {op, in_scale, scratch,
                      sm_ops_tasks_bytes(op->panels, 2.0 * sizeof(float) * (double)(op->panels * (op->k + 1) * op->nr), pool)};
        sm_threadpool_run(pool, f.n_tasks, fold_task, &f);
        if (op->bf16)
            scaled.packed_bf16 = (uint16_t *)(void *)scratch;
        else
            scaled.packed = scratch;
    }
    sm_conv2d_run(&scaled, in, in_h, in_w, residual, out, pool);
}

size_t sm_conv2d_slice_unit(const sm_conv2d *op)
{
    return op->pointwise && !op->blas ? op->nr : 0;
}

void sm_conv2d_pointwise_slice(const sm_conv2d *op, const float *in, size_t pixels, size_t n0, size_t n1,
                               float *out, size_t ldo)
{
    /* n1 is a panel boundary or oc, so the panels' own widths end the slice */
    gemm_rows_panels(op, in, op->ic, pixels, n0 / op->nr, (n1 + op->nr - 1) / op->nr, out, ldo, n0, NULL);
}

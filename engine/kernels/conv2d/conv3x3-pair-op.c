/* sm_conv3x3_pair_*: out = act_b(in + conv_b(conv_a(in))) for two 3x3 stride-1
 * convolutions with few channels (NovelEmotionModel's MicroExpEnhancer, 3 -> 16
 * -> 3). NHWC GEMM tiles would be 80% padding at 3 output channels, so rows are
 * turned planar and both convs run the pconv3x3 kernel with pixels along the
 * vector lanes. Streamed: each task walks its band of rows keeping the last four
 * input rows and conv_a rows in small rings, so the 16-channel intermediate never
 * leaves the cache. A band recomputes the conv_a rows on its edges, with the same
 * kernel and order, so results do not depend on the split. */
#include <stdlib.h>
#include <string.h>

#include "common/sm_ops.h"

#define PAIR_MAX_CH 64
#define GROUP 4      /* output channels per kernel group (pconv3x3 4o) */
#define RING 4       /* rows kept per ring (a power of two) */
#define ROW_SLACK 33 /* [-1] before a row and 2*VN (max 32) past its end */

struct sm_conv3x3_pair {
    const sm_kernel_table *kt;
    size_t cin, mid;
    sm_act act_a, act_b;
    float *wa, *wb; /* pconv3x3 packing */
};

static const char *nm(const sm_conv_desc *d) { return d->name ? d->name : "conv3x3 pair"; }

static sm_status check(const sm_conv_desc *d, sm_error *err)
{
    if (d->kh != 3 || d->kw != 3 || d->stride_h != 1 || d->stride_w != 1)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: needs a 3x3 kernel at stride 1, found %ux%u stride %ux%u",
                            nm(d), d->kh, d->kw, d->stride_h, d->stride_w);
    if (d->pad.mode == SM_PAD_VALID ||
        (d->pad.mode == SM_PAD_EXPLICIT && (d->pad.top != 1 || d->pad.left != 1 || d->pad.bottom != 1 ||
                                            d->pad.right != 1)))
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: needs padding 1 on every side", nm(d));
    if (d->in_ch == 0 || d->out_ch == 0 || d->in_ch > PAIR_MAX_CH || d->out_ch > PAIR_MAX_CH)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: channels %u -> %u, each must be 1..%d", nm(d), d->in_ch,
                            d->out_ch, PAIR_MAX_CH);
    if (d->act == SM_ACT_PRELU)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PReLU is not supported here", nm(d));
    return SM_OK;
}

/* canonical [out][ky][kx][in] -> groups of GROUP outputs: [bias][in][tap][GROUP] */
static float *pack(const sm_conv_desc *d, sm_error *err, sm_status *st)
{
    float *w = NULL, *b = NULL;
    *st = sm_ops_canon_conv(d, false, &w, &b, err);
    if (*st != SM_OK)
        return NULL;
    size_t ic = d->in_ch, oc = d->out_ch, groups = (oc + GROUP - 1) / GROUP;
    size_t group = GROUP + ic * 9 * GROUP;
    float *p = sm_aligned_alloc(groups * group * sizeof *p);
    if (p) {
        memset(p, 0, groups * group * sizeof *p);
        for (size_t o = 0; o < oc; o++) {
            float *g = p + (o / GROUP) * group;
            g[o % GROUP] = b[o];
            for (size_t c = 0; c < ic; c++)
                for (size_t t = 0; t < 9; t++)
                    g[GROUP + (c * 9 + t) * GROUP + o % GROUP] = w[(o * 9 + t) * ic + c];
        }
    } else {
        *st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", nm(d));
    }
    sm_aligned_free(w);
    sm_aligned_free(b);
    return p;
}

sm_status sm_conv3x3_pair_prepare(const sm_conv_desc *a, const sm_conv_desc *b, sm_conv3x3_pair **out,
                                  sm_error *err)
{
    *out = NULL;
    if (!a || !b)
        return sm_error_set(err, SM_ERR_ARG, "conv3x3 pair: NULL description");
    sm_status st = check(a, err);
    if (st == SM_OK)
        st = check(b, err);
    if (st != SM_OK)
        return st;
    if (b->in_ch != a->out_ch || b->out_ch != a->in_ch)
        return sm_error_set(err, SM_ERR_SHAPE, "%s -> %s: channels %u -> %u -> %u -> %u do not chain back to the input",
                            nm(a), nm(b), a->in_ch, a->out_ch, b->in_ch, b->out_ch);
    sm_conv3x3_pair *op = calloc(1, sizeof *op);
    if (!op)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", nm(a));
    op->kt = sm_kernels_active();
    op->cin = a->in_ch;
    op->mid = a->out_ch;
    op->act_a = a->act;
    op->act_b = b->act;
    op->wa = pack(a, err, &st);
    if (op->wa)
        op->wb = pack(b, err, &st);
    if (!op->wb) {
        sm_conv3x3_pair_free(op);
        return st;
    }
    *out = op;
    return SM_OK;
}

void sm_conv3x3_pair_free(sm_conv3x3_pair *op)
{
    if (!op)
        return;
    sm_aligned_free(op->wa);
    sm_aligned_free(op->wb);
    free(op);
}

static size_t row_stride(size_t w) { return (w + ROW_SLACK + 15) & ~(size_t)15; }

/* rows: a zero row, RING input rows of cin planes, RING conv_a rows of mid planes,
 * one output row of cin planes */
static size_t rows_per_thread(const sm_conv3x3_pair *op) { return 1 + RING * op->cin + RING * op->mid + op->cin; }

size_t sm_conv3x3_pair_scratch_floats(const sm_conv3x3_pair *op, size_t w, size_t n_threads)
{
    return (n_threads ? n_threads : 1) * rows_per_thread(op) * row_stride(w);
}

typedef struct {
    const sm_conv3x3_pair *op;
    const float *in;
    float *out, *scratch;
    size_t h, w, n_tasks;
} pair_ctx;

static void pair_task(void *vctx, size_t task, size_t thread)
{
    const pair_ctx *x = vctx;
    const sm_conv3x3_pair *op = x->op;
    const size_t C = op->cin, M = op->mid, W = x->w, H = x->h, S = row_stride(W);
    float *base = x->scratch + thread * rows_per_thread(op) * S;
    memset(base, 0, rows_per_thread(op) * S * sizeof *base);
    /* row r of a plane starts one float into its slot, so [-1] is the slot's zero */
    const float *zero = base + 1;
    float *in_ring = base + S + 1, *mid_ring = in_ring + RING * C * S, *out_row = mid_ring + RING * M * S;
#define IN_ROW(r, c) (in_ring + (((size_t)(r) & (RING - 1)) * C + (c)) * S)
#define MID_ROW(r, c) (mid_ring + (((size_t)(r) & (RING - 1)) * M + (c)) * S)
    size_t y0, y1;
    sm_ops_range(H, x->n_tasks, task, &y0, &y1);
    if (y0 >= y1)
        return;
    const float *rows[3 * PAIR_MAX_CH];
    float *outs[PAIR_MAX_CH];
    const float *res[PAIR_MAX_CH];
    /* next rows to fill: conv_a rows from y0 - 1, their inputs from y0 - 2 (clipped) */
    long mid_next = (long)y0 - 1 < 0 ? 0 : (long)y0 - 1, in_next = mid_next - 1 < 0 ? 0 : mid_next - 1;
    for (size_t y = y0; y < y1; y++) {
        /* conv_a rows up to y + 1, each needing input rows up to its own + 1 */
        long mid_last = (long)y + 1 < (long)H ? (long)y + 1 : (long)H - 1;
        for (; mid_next <= mid_last; mid_next++) {
            long in_last = mid_next + 1 < (long)H ? mid_next + 1 : (long)H - 1;
            for (; in_next <= in_last; in_next++) {
                const float *src = x->in + (size_t)in_next * W * C;
                for (size_t c = 0; c < C; c++) {
                    float *d = IN_ROW(in_next, c);
                    for (size_t i = 0; i < W; i++)
                        d[i] = src[i * C + c];
                }
            }
            for (size_t c = 0; c < C; c++)
                for (int ky = 0; ky < 3; ky++) {
                    long r = mid_next - 1 + ky;
                    rows[c * 3 + ky] = r < 0 || r >= (long)H ? zero : IN_ROW(r, c);
                }
            for (size_t o = 0; o < M; o++)
                outs[o] = MID_ROW(mid_next, o);
            op->kt->pconv3x3(C, M, W, rows, op->wa, op->act_a, NULL, outs);
        }
        for (size_t c = 0; c < M; c++)
            for (int ky = 0; ky < 3; ky++) {
                long r = (long)y - 1 + ky;
                rows[c * 3 + ky] = r < 0 || r >= (long)H ? zero : MID_ROW(r, c);
            }
        for (size_t o = 0; o < C; o++) {
            res[o] = IN_ROW(y, o);
            outs[o] = out_row + o * S;
        }
        op->kt->pconv3x3(M, C, W, rows, op->wb, op->act_b, res, outs);
        float *dst = x->out + y * W * C;
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < W; i++)
                dst[i * C + c] = outs[c][i];
    }
#undef IN_ROW
#undef MID_ROW
}

void sm_conv3x3_pair_run(const sm_conv3x3_pair *op, const float *in, size_t h, size_t w, float *out,
                         float *scratch, sm_threadpool *pool)
{
    /* two 3x3 convolutions per pixel: cin -> mid and mid -> cin */
    double flops = 2.0 * 2.0 * 9.0 * (double)(h * w * op->cin * op->mid);
    pair_ctx x = {op, in, out, scratch, h, w, sm_ops_tasks_flops(h, flops, pool)};
    sm_threadpool_run(pool, x.n_tasks, pair_task, &x);
}

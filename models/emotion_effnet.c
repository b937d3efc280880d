/* NovelEmotionModel (MicroExpEnhancer + EfficientNet-B3 + expert routing); see
 * emotion_effnet.h and SEED_MODELS.md sections 2-4. */
#include "emotion_effnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_load.h"
#include "sm_image.h"
#include "sm_kernels.h"

#define STEM_CH 40
#define HEAD_CH 1536
#define ROUTE_CH 512
#define N_STAGES 7
#define MAX_BLOCKS 32
#define MAX_PROF 160
#define BN_EPS 1e-5f

/* EfficientNet-B3 after timm's scaling (channels x1.2 rounded to 8, depth
 * ceil(x1.4)): SEED_MODELS.md 2.4. */
static const struct {
    bool ir;
    uint32_t repeats, k, stride, expand, out;
} b3_stages[N_STAGES] = {
    {false, 2, 3, 1, 1, 24}, {true, 3, 3, 2, 6, 32},  {true, 3, 5, 2, 6, 48},
    {true, 5, 3, 2, 6, 96},  {true, 5, 5, 1, 6, 136}, {true, 6, 5, 2, 6, 232},
    {true, 2, 3, 1, 6, 384},
};

static const char *const default_labels[8] = {"angry", "disgust", "fear",     "happy",
                                              "neutral", "sad",   "surprise", "tired"};

typedef struct {
    char name[24]; /* "blocks.S.I" */
    bool ir, skip, last_of_stage;
    uint32_t stage, cin, mid, cout, k, stride, rd;
    sm_conv2d *pw;  /* IR: expand 1x1 (bn1, SiLU); DS: none */
    sm_dwconv *dw;  /* IR: bn2, SiLU; DS: bn1, SiLU */
    sm_se *se;
    sm_conv2d *pwl; /* IR: conv_pwl + bn3; DS: conv_pw + bn2; no activation */
} em_block;

struct sm_emotion {
    sm_threadpool *pool;
    uint32_t input_size;
    float mean[3], std[3];
    int n_classes;
    char labels[SM_EMOTION_MAX_CLASSES][64];

    sm_conv3x3_pair *micro;   /* MicroExpEnhancer: conv.0 + ReLU, conv.2 x 0.2, + input */
    sm_conv2d *stem, *head;
    em_block blocks[MAX_BLOCKS];
    size_t n_blocks;
    sm_dense *gate, *experts, *heads; /* experts: upper rows then lower rows */

    /* activations (arena, planned for res_h x res_w) */
    sm_arena arena;
    size_t res_h, res_w;
    float *io[2], *mid[2], *pre; /* pre: input.size^2 * 3 for run_rgb8 */
    /* SE without passes of its own: channel means from the dwconv's rows, the gate
     * folded into conv_pwl's weights where pixels outnumber its output channels */
    float *se_mean, *se_rows, *pwl_w, *pw_dw;
    size_t pwl_w_floats, pw_dw_floats;
    float vec[2 * ROUTE_CH + ROUTE_CH + SM_EMOTION_MAX_CLASSES + 4];

    sm_emotion_stage_fn hook;
    void *hook_ctx;

    sm_layer_prof prof;
    sm_layer_time prof_rec[MAX_PROF];
};

/* ---- loading ------------------------------------------------------------------ */

static sm_status get_bn(const sm_smw *f, const char *prefix, uint32_t c, sm_batchnorm *bn,
                        sm_error *err)
{
    static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
    const float **dst[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    char name[128];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, part[i]);
        sm_status st = sm_model_f32(f, name, 1, c, 0, 0, 0, dst[i], err);
        if (st)
            return st;
    }
    bn->eps = BN_EPS;
    return SM_OK;
}

/* A PyTorch conv's description: weight [cout, cin/groups, k, k] at wname, optional
 * bias or BN (prefix bn_prefix), symmetric padding (k-1)/2. scale != 1 multiplies
 * weights and bias into copies (the MicroExpEnhancer's 0.2 * conv(.)), which
 * conv_desc_free releases; c->d.bn points into c, so c stays where it is. */
typedef struct {
    sm_conv_desc d;
    sm_batchnorm bn;
    float *ws, *bs;
} conv_desc;

static void conv_desc_free(conv_desc *c)
{
    free(c->ws);
    free(c->bs);
}

static sm_status load_conv(const sm_smw *f, const char *wname, const char *bias_name, const char *bn_prefix,
                           bool depthwise, uint32_t cin, uint32_t cout, uint32_t k, uint32_t stride, sm_act act,
                           float scale, conv_desc *c, sm_error *err)
{
    memset(c, 0, sizeof *c);
    sm_status st = sm_model_conv(f, wname, bias_name, depthwise, cin, cout, k, stride, act, &c->d, err);
    if (!st && bn_prefix) {
        st = get_bn(f, bn_prefix, cout, &c->bn, err);
        c->d.bn = &c->bn;
    }
    if (st || scale == 1.0f)
        return st;
    size_t nw = (size_t)cout * (depthwise ? 1 : cin) * k * k;
    c->ws = malloc(nw * sizeof(float));
    c->bs = malloc(cout * sizeof(float));
    if (!c->ws || !c->bs) {
        conv_desc_free(c);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory (%s)", f->path, wname);
    }
    for (size_t i = 0; i < nw; i++)
        c->ws[i] = c->d.weights[i] * scale;
    for (uint32_t i = 0; i < cout; i++)
        c->bs[i] = c->d.bias ? c->d.bias[i] * scale : 0.0f;
    c->d.weights = c->ws;
    c->d.bias = c->bs;
    return SM_OK;
}

static sm_status prep_conv(const sm_smw *f, const char *wname, const char *bias_name,
                           const char *bn_prefix, bool depthwise, uint32_t cin, uint32_t cout,
                           uint32_t k, uint32_t stride, sm_act act, void **op, sm_error *err)
{
    conv_desc c;
    sm_status st = load_conv(f, wname, bias_name, bn_prefix, depthwise, cin, cout, k, stride, act, 1.0f, &c, err);
    if (st)
        return st;
    if (depthwise)
        st = sm_dwconv_prepare(&c.d, (sm_dwconv **)op, err);
    else
        st = sm_conv2d_prepare(&c.d, (sm_conv2d **)op, err);
    conv_desc_free(&c);
    return st;
}

static sm_status prep_se(const sm_smw *f, const char *blk, uint32_t c, uint32_t rd, sm_se **op,
                         sm_error *err)
{
    char n[4][96];
    const float *p[4];
    snprintf(n[0], sizeof n[0], "%s.se.conv_reduce.weight", blk);
    snprintf(n[1], sizeof n[1], "%s.se.conv_reduce.bias", blk);
    snprintf(n[2], sizeof n[2], "%s.se.conv_expand.weight", blk);
    snprintf(n[3], sizeof n[3], "%s.se.conv_expand.bias", blk);
    sm_status st = sm_model_f32(f, n[0], 4, rd, c, 1, 1, &p[0], err);
    if (!st)
        st = sm_model_f32(f, n[1], 1, rd, 0, 0, 0, &p[1], err);
    if (!st)
        st = sm_model_f32(f, n[2], 4, c, rd, 1, 1, &p[2], err);
    if (!st)
        st = sm_model_f32(f, n[3], 1, c, 0, 0, 0, &p[3], err);
    if (st)
        return st;
    sm_se_desc d = {.channels = c, .reduced = rd, .layout = SM_DENSE_OI, .w_reduce = p[0],
                    .b_reduce = p[1], .w_expand = p[2], .b_expand = p[3], .act = SM_ACT_SILU,
                    .name = n[0]};
    return sm_se_prepare(&d, op, err);
}

static sm_status prep_dense(const char *name, uint32_t in, uint32_t out, const float *w,
                            const float *b, sm_act act, sm_dense **op, sm_error *err)
{
    sm_dense_desc d = {.in_features = in, .out_features = out, .layout = SM_DENSE_OI,
                       .weights = w, .bias = b, .act = act, .name = name};
    return sm_dense_prepare(&d, op, err);
}

/* Python round() of c/4 (half to even), as timm computes the SE width. */
static uint32_t quarter_round(uint32_t c)
{
    uint32_t q = c / 4, r = c % 4;
    return r < 2 ? q : r > 2 ? q + 1 : q + (q & 1);
}

static sm_status load_blocks(sm_emotion *m, const sm_smw *f, sm_error *err)
{
    uint32_t cin = STEM_CH;
    char a[128], b[128];
    for (uint32_t s = 0; s < N_STAGES; s++) {
        for (uint32_t i = 0; i < b3_stages[s].repeats; i++) {
            em_block *k = &m->blocks[m->n_blocks++];
            snprintf(k->name, sizeof k->name, "blocks.%u.%u", s, i);
            k->ir = b3_stages[s].ir;
            k->stage = s;
            k->cin = cin;
            k->cout = b3_stages[s].out;
            k->k = b3_stages[s].k;
            k->stride = i == 0 ? b3_stages[s].stride : 1;
            k->mid = cin * b3_stages[s].expand;
            k->rd = quarter_round(cin);
            k->skip = k->stride == 1 && cin == k->cout;
            k->last_of_stage = i + 1 == b3_stages[s].repeats;
            const char *bb = k->name;
            char pre[40];
            snprintf(pre, sizeof pre, "backbone.%s", bb);
            sm_status st;
            if (k->ir) {
                snprintf(a, sizeof a, "%s.conv_pw.weight", pre);
                snprintf(b, sizeof b, "%s.bn1", pre);
                st = prep_conv(f, a, NULL, b, false, cin, k->mid, 1, 1, SM_ACT_SILU,
                               (void **)&k->pw, err);
                if (st)
                    return st;
                snprintf(a, sizeof a, "%s.conv_dw.weight", pre);
                snprintf(b, sizeof b, "%s.bn2", pre);
                st = prep_conv(f, a, NULL, b, true, k->mid, k->mid, k->k, k->stride, SM_ACT_SILU,
                               (void **)&k->dw, err);
                if (st)
                    return st;
                st = prep_se(f, pre, k->mid, k->rd, &k->se, err);
                if (st)
                    return st;
                snprintf(a, sizeof a, "%s.conv_pwl.weight", pre);
                snprintf(b, sizeof b, "%s.bn3", pre);
                st = prep_conv(f, a, NULL, b, false, k->mid, k->cout, 1, 1, SM_ACT_NONE,
                               (void **)&k->pwl, err);
            } else {
                k->mid = cin;
                snprintf(a, sizeof a, "%s.conv_dw.weight", pre);
                snprintf(b, sizeof b, "%s.bn1", pre);
                st = prep_conv(f, a, NULL, b, true, cin, cin, k->k, k->stride, SM_ACT_SILU,
                               (void **)&k->dw, err);
                if (st)
                    return st;
                st = prep_se(f, pre, cin, k->rd, &k->se, err);
                if (st)
                    return st;
                snprintf(a, sizeof a, "%s.conv_pw.weight", pre);
                snprintf(b, sizeof b, "%s.bn2", pre);
                st = prep_conv(f, a, NULL, b, false, cin, k->cout, 1, 1, SM_ACT_NONE,
                               (void **)&k->pwl, err);
            }
            if (st)
                return st;
            cin = k->cout;
        }
    }
    return SM_OK;
}

static sm_status load_routing(sm_emotion *m, const sm_smw *f, sm_error *err)
{
    const float *gw, *gb, *uw, *ub, *lw, *lb, *ew, *eb, *vw, *vb, *aw, *ab;
    const sm_tensor_info *he = sm_smw_find_tensor(f, "head_emotion.weight");
    int64_t nc = he && he->ndim == 2 ? (int64_t)he->dims[0] : 8;
    if (nc < 1 || nc > SM_EMOTION_MAX_CLASSES)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: tensor 'head_emotion.weight' has %lld classes, expected 1..%d",
                            f->path, (long long)nc, SM_EMOTION_MAX_CLASSES);
    sm_status st = sm_model_f32(f, "routing.gate.weight", 2, 2, HEAD_CH, 0, 0, &gw, err);
    if (!st) st = sm_model_f32(f, "routing.gate.bias", 1, 2, 0, 0, 0, &gb, err);
    if (!st) st = sm_model_f32(f, "routing.expert_upper.0.weight", 2, ROUTE_CH, HEAD_CH, 0, 0, &uw, err);
    if (!st) st = sm_model_f32(f, "routing.expert_upper.0.bias", 1, ROUTE_CH, 0, 0, 0, &ub, err);
    if (!st) st = sm_model_f32(f, "routing.expert_lower.0.weight", 2, ROUTE_CH, HEAD_CH, 0, 0, &lw, err);
    if (!st) st = sm_model_f32(f, "routing.expert_lower.0.bias", 1, ROUTE_CH, 0, 0, 0, &lb, err);
    if (!st) st = sm_model_f32(f, "head_emotion.weight", 2, nc, ROUTE_CH, 0, 0, &ew, err);
    if (!st) st = sm_model_f32(f, "head_emotion.bias", 1, nc, 0, 0, 0, &eb, err);
    if (!st) st = sm_model_f32(f, "head_valence.weight", 2, 1, ROUTE_CH, 0, 0, &vw, err);
    if (!st) st = sm_model_f32(f, "head_valence.bias", 1, 1, 0, 0, 0, &vb, err);
    if (!st) st = sm_model_f32(f, "head_arousal.weight", 2, 1, ROUTE_CH, 0, 0, &aw, err);
    if (!st) st = sm_model_f32(f, "head_arousal.bias", 1, 1, 0, 0, 0, &ab, err);
    if (st)
        return st;
    m->n_classes = (int)nc;
    st = prep_dense("routing.gate", HEAD_CH, 2, gw, gb, SM_ACT_NONE, &m->gate, err);
    if (st)
        return st;
    /* Both experts as one 1536 -> 1024 layer, the three heads as one 512 -> n+2. */
    size_t ne = (size_t)2 * ROUTE_CH * HEAD_CH, nh = (size_t)(nc + 2) * ROUTE_CH;
    float *w = malloc((ne + nh) * sizeof(float)), *b = malloc((2 * ROUTE_CH + nc + 2) * sizeof(float));
    if (!w || !b) {
        free(w);
        free(b);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    }
    memcpy(w, uw, (size_t)ROUTE_CH * HEAD_CH * sizeof(float));
    memcpy(w + (size_t)ROUTE_CH * HEAD_CH, lw, (size_t)ROUTE_CH * HEAD_CH * sizeof(float));
    memcpy(b, ub, ROUTE_CH * sizeof(float));
    memcpy(b + ROUTE_CH, lb, ROUTE_CH * sizeof(float));
    float *hw = w + ne, *hb = b + 2 * ROUTE_CH;
    memcpy(hw, ew, (size_t)nc * ROUTE_CH * sizeof(float));
    memcpy(hw + (size_t)nc * ROUTE_CH, vw, ROUTE_CH * sizeof(float));
    memcpy(hw + (size_t)(nc + 1) * ROUTE_CH, aw, ROUTE_CH * sizeof(float));
    memcpy(hb, eb, (size_t)nc * sizeof(float));
    hb[nc] = vb[0];
    hb[nc + 1] = ab[0];
    st = prep_dense("routing.expert_upper/lower", HEAD_CH, 2 * ROUTE_CH, w, b, SM_ACT_RELU, &m->experts, err);
    if (!st)
        st = prep_dense("head_emotion/valence/arousal", ROUTE_CH, (uint32_t)nc + 2, hw, hb, SM_ACT_NONE,
                        &m->heads, err);
    free(w);
    free(b);
    return st;
}

static sm_status load_meta(sm_emotion *m, const sm_smw *f, sm_error *err)
{
    sm_status st = sm_model_meta_u32(f, "input.size", 300, 32, SM_EMOTION_MAX_INPUT, &m->input_size, err);
    if (!st)
        st = sm_model_input_norm(f, m->mean, m->std, err);
    if (st)
        return st;
    const sm_meta *lab = sm_smw_find_meta(f, "emotion.labels");
    if (!lab) {
        if (m->n_classes != 8)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'emotion.labels' is missing (needed for %d classes)",
                                f->path, m->n_classes);
        for (int i = 0; i < 8; i++)
            snprintf(m->labels[i], sizeof m->labels[i], "%s", default_labels[i]);
        return SM_OK;
    }
    if (lab->type != SM_META_ARRAY || lab->elem_type != SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata 'emotion.labels' is not a string array", f->path);
    if (lab->count != (uint64_t)m->n_classes)
        return sm_error_set(err, SM_ERR_SHAPE, "%s: metadata 'emotion.labels' has %llu labels, "
                            "tensor 'head_emotion.weight' has %d classes", f->path,
                            (unsigned long long)lab->count, m->n_classes);
    for (int i = 0; i < m->n_classes; i++) {
        size_t n = lab->strings[i].len < sizeof m->labels[i] - 1 ? lab->strings[i].len : sizeof m->labels[i] - 1;
        memcpy(m->labels[i], lab->strings[i].ptr, n);
        m->labels[i][n] = '\0';
    }
    return SM_OK;
}

/* MicroExpEnhancer: x + 0.2 * conv.2(relu(conv.0(x))), 3 -> 16 -> 3 channels, the
 * 0.2 folded into conv.2's weights and bias; one streamed op (sm_conv3x3_pair). */
static sm_status prep_micro(sm_emotion *m, const sm_smw *f, sm_error *err)
{
    conv_desc c0, c2;
    sm_status st = load_conv(f, "micro.conv.0.weight", "micro.conv.0.bias", NULL, false, 3, 16, 3, 1, SM_ACT_RELU,
                             1.0f, &c0, err);
    if (st)
        return st;
    st = load_conv(f, "micro.conv.2.weight", "micro.conv.2.bias", NULL, false, 16, 3, 3, 1, SM_ACT_NONE, 0.2f, &c2,
                   err);
    if (!st)
        st = sm_conv3x3_pair_prepare(&c0.d, &c2.d, &m->micro, err);
    conv_desc_free(&c0);
    conv_desc_free(&c2);
    return st;
}

void sm_emotion_free(sm_emotion *m)
{
    if (!m)
        return;
    sm_conv3x3_pair_free(m->micro);
    sm_conv2d_free(m->stem);
    sm_conv2d_free(m->head);
    for (size_t i = 0; i < m->n_blocks; i++) {
        sm_conv2d_free(m->blocks[i].pw);
        sm_dwconv_free(m->blocks[i].dw);
        sm_se_free(m->blocks[i].se);
        sm_conv2d_free(m->blocks[i].pwl);
    }
    sm_dense_free(m->gate);
    sm_dense_free(m->experts);
    sm_dense_free(m->heads);
    sm_arena_free(&m->arena);
    free(m);
}

sm_status sm_emotion_load(const sm_smw *f, sm_threadpool *pool, sm_emotion **out, sm_error *err)
{
    void *mem;
    sm_status st = sm_model_new(f, SM_EMOTION_ARCH, sizeof(sm_emotion), &mem, err);
    *out = NULL;
    if (st)
        return st;
    sm_emotion *m = mem;
    m->pool = pool;
    sm_layer_prof_init(&m->prof, m->prof_rec, MAX_PROF);
    st = prep_micro(m, f, err);
    if (!st)
        st = prep_conv(f, "backbone.conv_stem.weight", NULL, "backbone.bn1", false, 3, STEM_CH, 3, 2, SM_ACT_SILU,
                       (void **)&m->stem, err);
    if (!st)
        st = load_blocks(m, f, err);
    if (!st)
        st = prep_conv(f, "backbone.conv_head.weight", NULL, "backbone.bn2", false,
                       b3_stages[N_STAGES - 1].out, HEAD_CH, 1, 1, SM_ACT_SILU, (void **)&m->head, err);
    if (!st)
        st = load_routing(m, f, err);
    if (!st)
        st = load_meta(m, f, err);
    if (!st)
        st = sm_emotion_reserve(m, m->input_size, m->input_size, err);
    if (st) {
        sm_emotion_free(m);
        return st;
    }
    *out = m;
    return SM_OK;
}

SM_MODEL_DEFINE_LOAD_FILE(sm_emotion, sm_emotion)

/* ---- planning ----------------------------------------------------------------- */

/* Symmetric padding (k-1)/2, odd k: out = (in - 1) / s + 1. */
static size_t out_ext(size_t in, uint32_t s) { return (in - 1) / s + 1; }

/* conv_pw streamed into conv_dw (sm_pw_dw_run) on rows wide enough that one row
 * fills the GEMM's pixel tiles (narrower maps are small enough to stay in cache). */
static bool fuse_pw_dw(const em_block *k, size_t in_w)
{
    return k->ir && in_w >= 32 && sm_pw_dw_fusable(k->pw, k->dw);
}

/* The SE gate folded into conv_pwl's weights (sm_conv2d_run_scaled) where the map
 * has more pixels than conv_pwl has output channels: K x N multiplies then cost
 * less than scaling the M x K map. */
static bool fold_se_gate(const em_block *k, size_t oh, size_t ow) { return oh * ow > k->cout; }

static void grow(size_t *v, size_t h, size_t w, size_t c)
{
    if (h * w * c > *v)
        *v = h * w * c;
}

sm_status sm_emotion_reserve(sm_emotion *m, size_t h, size_t w, sm_error *err)
{
    if (h == 0 || w == 0 || h > SM_EMOTION_MAX_INPUT || w > SM_EMOTION_MAX_INPUT)
        return sm_error_set(err, SM_ERR_SHAPE, "emotion: input %zux%zu, expected 1..%d on each side", h, w,
                            SM_EMOTION_MAX_INPUT);
    if (m->arena.base && h <= m->res_h && w <= m->res_w)
        return SM_OK;
    if (m->arena.base) { /* keep the larger of the old and new extents */
        h = h > m->res_h ? h : m->res_h;
        w = w > m->res_w ? w : m->res_w;
    }
    size_t io = 0, mid = 0;
    grow(&io, h, w, 3);
    /* micro's row rings, one set per thread */
    size_t ring = sm_conv3x3_pair_scratch_floats(m->micro, w, sm_threadpool_size(m->pool));
    if (ring > mid)
        mid = ring;
    size_t se_mean = 0, se_rows = 0, pwl_w = 0, pw_dw = 0;
    size_t ch = out_ext(h, 2), cw = out_ext(w, 2);
    grow(&io, ch, cw, STEM_CH);
    for (size_t i = 0; i < m->n_blocks; i++) {
        const em_block *k = &m->blocks[i];
        grow(&mid, ch, cw, k->mid);
        if (fuse_pw_dw(k, cw))
            grow(&pw_dw, 1, 1, sm_pw_dw_scratch_floats(k->dw, cw, sm_threadpool_size(m->pool)));
        ch = out_ext(ch, k->stride);
        cw = out_ext(cw, k->stride);
        grow(&mid, ch, cw, k->mid);
        grow(&io, ch, cw, k->cout);
        grow(&se_mean, 1, 1, k->mid);
        grow(&se_rows, 1, 1, sm_dwconv_mean_scratch_floats(k->dw, ch));
        if (fold_se_gate(k, ch, cw))
            grow(&pwl_w, 1, 1, sm_conv2d_scaled_scratch_floats(k->pwl));
    }
    grow(&mid, ch, cw, HEAD_CH);
    size_t pre = (size_t)m->input_size * m->input_size * 3;
    size_t bytes = (2 * io + 2 * mid + pre + se_mean + se_rows + pwl_w + pw_dw) * sizeof(float) + 10 * 64;
    sm_arena a;
    sm_status st = sm_arena_init(&a, bytes, err);
    if (st)
        return st;
    sm_arena_free(&m->arena);
    m->arena = a;
    m->io[0] = sm_arena_alloc(&m->arena, io * sizeof(float), 64);
    m->io[1] = sm_arena_alloc(&m->arena, io * sizeof(float), 64);
    m->mid[0] = sm_arena_alloc(&m->arena, mid * sizeof(float), 64);
    m->mid[1] = sm_arena_alloc(&m->arena, mid * sizeof(float), 64);
    m->pre = sm_arena_alloc(&m->arena, pre * sizeof(float), 64);
    m->se_mean = sm_arena_alloc(&m->arena, se_mean * sizeof(float), 64);
    m->se_rows = sm_arena_alloc(&m->arena, se_rows * sizeof(float), 64);
    m->pwl_w = sm_arena_alloc(&m->arena, pwl_w * sizeof(float), 64);
    m->pwl_w_floats = pwl_w;
    m->pw_dw = sm_arena_alloc(&m->arena, pw_dw * sizeof(float), 64);
    m->pw_dw_floats = pw_dw;
    m->res_h = h;
    m->res_w = w;
    return SM_OK;
}

/* ---- running ------------------------------------------------------------------- */

static double conv_flops(size_t oh, size_t ow, size_t cout, size_t cin_per_out, uint32_t k)
{
    return 2.0 * (double)oh * (double)ow * (double)cout * (double)cin_per_out * k * k;
}

static void hook(sm_emotion *m, const char *name, const float *x, size_t h, size_t w, size_t c)
{
    if (m->hook)
        m->hook(m->hook_ctx, name, x, h, w, c);
}

sm_status sm_emotion_run(sm_emotion *m, const float *in, size_t h, size_t w, sm_emotion_output *out,
                         sm_error *err)
{
    if (!in || !out)
        return sm_error_set(err, SM_ERR_ARG, "emotion: NULL input or output");
    if (h == 0 || w == 0 || h > m->res_h || w > m->res_w)
        return sm_error_set(err, SM_ERR_SHAPE, "emotion: input %zux%zu, this model is planned for 1..%zu x 1..%zu "
                            "(sm_emotion_reserve)", h, w, m->res_h, m->res_w);
    sm_threadpool *pool = m->pool;
    static const char *const stage_names[N_STAGES] = {"stage0", "stage1", "stage2", "stage3",
                                                      "stage4", "stage5", "stage6"};
    sm_layer_prof_begin(&m->prof);
    float *cur = m->io[0], *nxt = m->io[1], *A = m->mid[0], *B = m->mid[1];

    /* MicroExpEnhancer: x + 0.2 * conv(relu(conv(x))), the 0.2 folded into conv.2 */
    sm_conv3x3_pair_run(m->micro, in, h, w, cur, A, pool);
    sm_layer_prof_lap(&m->prof, "micro", "conv.0+relu, conv.2+add",
                      conv_flops(h, w, 16, 3, 3) + conv_flops(h, w, 3, 16, 3), h, w, 3);

    size_t ch = out_ext(h, 2), cw = out_ext(w, 2);
    sm_conv2d_run(m->stem, cur, h, w, NULL, nxt, pool);
    sm_layer_prof_lap(&m->prof, "stem", "conv_stem+bn1+silu", conv_flops(ch, cw, STEM_CH, 3, 3), ch, cw, STEM_CH);
    float *t = cur;
    cur = nxt;
    nxt = t;
    hook(m, "stem", cur, ch, cw, STEM_CH);

    for (size_t i = 0; i < m->n_blocks; i++) {
        const em_block *k = &m->blocks[i];
        size_t oh = out_ext(ch, k->stride), ow = out_ext(cw, k->stride);
        float *dwin = cur, *dwout = A;
        if (fuse_pw_dw(k, cw) && sm_pw_dw_scratch_floats(k->dw, cw, sm_threadpool_size(pool)) <= m->pw_dw_floats) {
            sm_pw_dw_run(k->pw, k->dw, cur, ch, cw, A, m->se_mean, m->se_rows, m->pw_dw, pool);
            dwout = A;
            sm_layer_prof_lap(&m->prof, k->name, "conv_pw+bn1+silu -> conv_dw+bn2+silu+mean",
                conv_flops(ch, cw, k->mid, k->cin, 1) + conv_flops(oh, ow, k->mid, 1, k->k), oh, ow, k->mid);
        } else {
            if (k->ir) {
                sm_conv2d_run(k->pw, cur, ch, cw, NULL, A, pool);
                sm_layer_prof_lap(&m->prof, k->name, "conv_pw+bn1+silu", conv_flops(ch, cw, k->mid, k->cin, 1), ch,
                                  cw, k->mid);
                dwin = A;
                dwout = B;
            }
            sm_dwconv_run_mean(k->dw, dwin, ch, cw, NULL, dwout, m->se_mean, m->se_rows, pool);
            sm_layer_prof_lap(&m->prof, k->name, k->ir ? "conv_dw+bn2+silu+mean" : "conv_dw+bn1+silu+mean",
                conv_flops(oh, ow, k->mid, 1, k->k), oh, ow, k->mid);
        }
        const char *pwl_name = k->ir ? (k->skip ? "conv_pwl+bn3+add" : "conv_pwl+bn3")
                                     : (k->skip ? "conv_pw+bn2+add" : "conv_pw+bn2");
        if (fold_se_gate(k, oh, ow) && sm_conv2d_scaled_scratch_floats(k->pwl) <= m->pwl_w_floats) {
            const float *gate = sm_se_gate(k->se, m->se_mean);
            sm_layer_prof_lap(&m->prof, k->name, "se gate", 4.0 * k->mid * k->rd, 1, 1, k->mid);
            sm_conv2d_run_scaled(k->pwl, dwout, oh, ow, gate, k->skip ? cur : NULL, nxt, m->pwl_w, pool);
            sm_layer_prof_lap(&m->prof, k->name, k->ir ? (k->skip ? "conv_pwl*se+bn3+add" : "conv_pwl*se+bn3")
                                  : (k->skip ? "conv_pw*se+bn2+add" : "conv_pw*se+bn2"),
                conv_flops(oh, ow, k->cout, k->mid, 1), oh, ow, k->cout);
        } else {
            sm_se_run_with_mean(k->se, m->se_mean, dwout, oh, ow, dwout, pool);
            sm_layer_prof_lap(&m->prof, k->name, "se gate+scale", 1.0 * oh * ow * k->mid + 4.0 * k->mid * k->rd, oh,
                              ow, k->mid);
            sm_conv2d_run(k->pwl, dwout, oh, ow, k->skip ? cur : NULL, nxt, pool);
            sm_layer_prof_lap(&m->prof, k->name, pwl_name, conv_flops(oh, ow, k->cout, k->mid, 1), oh, ow, k->cout);
        }
        t = cur;
        cur = nxt;
        nxt = t;
        ch = oh;
        cw = ow;
        if (k->last_of_stage)
            hook(m, stage_names[k->stage], cur, ch, cw, k->cout);
    }
    uint32_t last = b3_stages[N_STAGES - 1].out;
    sm_conv2d_run(m->head, cur, ch, cw, NULL, A, pool);
    sm_layer_prof_lap(&m->prof, "head", "conv_head+bn2+silu", conv_flops(ch, cw, HEAD_CH, last, 1), ch, cw, HEAD_CH);
    hook(m, "head", A, ch, cw, HEAD_CH);
    memset(out, 0, sizeof *out);
    out->n_classes = m->n_classes;
    sm_global_avgpool(A, ch * cw, HEAD_CH, out->features);
    sm_layer_prof_lap(&m->prof, "head", "global_pool", (double)ch * cw * HEAD_CH, 1, 1, HEAD_CH);

    /* DynamicEmotionRouting and the heads */
    float *experts = m->vec, *routed = m->vec + 2 * ROUTE_CH, *heads = routed + ROUTE_CH;
    sm_dense_run(m->gate, out->features, 1, NULL, out->gate, pool);
    sm_softmax(out->gate, 2, out->gate);
    sm_dense_run(m->experts, out->features, 1, NULL, experts, pool);
    for (size_t i = 0; i < ROUTE_CH; i++)
        routed[i] = out->gate[0] * experts[i] + out->gate[1] * experts[ROUTE_CH + i];
    sm_layer_prof_lap(&m->prof, "routing", "gate+experts", 2.0 * HEAD_CH * (2 * ROUTE_CH + 2), 1, 1, ROUTE_CH);
    sm_dense_run(m->heads, routed, 1, NULL, heads, pool);
    int nc = m->n_classes;
    memcpy(out->logits, heads, (size_t)nc * sizeof(float));
    out->valence = heads[nc];
    out->arousal = heads[nc + 1];
    sm_softmax(out->logits, (size_t)nc, out->probs);
    sm_layer_prof_lap(&m->prof, "heads", "emotion/valence/arousal", 2.0 * ROUTE_CH * (nc + 2), 1, 1, (size_t)nc + 2);
    return SM_OK;
}

double sm_emotion_flops(const sm_emotion *m, size_t h, size_t w)
{
    double fl = conv_flops(h, w, 16, 3, 3) + conv_flops(h, w, 3, 16, 3);
    size_t ch = out_ext(h, 2), cw = out_ext(w, 2);
    fl += conv_flops(ch, cw, STEM_CH, 3, 3);
    for (size_t i = 0; i < m->n_blocks; i++) {
        const em_block *k = &m->blocks[i];
        size_t oh = out_ext(ch, k->stride), ow = out_ext(cw, k->stride);
        if (k->ir)
            fl += conv_flops(ch, cw, k->mid, k->cin, 1);
        fl += conv_flops(oh, ow, k->mid, 1, k->k) + 2.0 * (double)oh * ow * k->mid + 4.0 * k->mid * k->rd;
        fl += conv_flops(oh, ow, k->cout, k->mid, 1);
        ch = oh;
        cw = ow;
    }
    fl += conv_flops(ch, cw, HEAD_CH, b3_stages[N_STAGES - 1].out, 1) + (double)ch * cw * HEAD_CH;
    fl += 2.0 * HEAD_CH * (2 * ROUTE_CH + 2) + 2.0 * ROUTE_CH * (m->n_classes + 2);
    return fl;
}

/* ---- accessors ------------------------------------------------------------------- */

int sm_emotion_n_classes(const sm_emotion *m) { return m->n_classes; }

const char *sm_emotion_label(const sm_emotion *m, int i)
{
    return i >= 0 && i < m->n_classes ? m->labels[i] : NULL;
}

uint32_t sm_emotion_input_size(const sm_emotion *m) { return m->input_size; }

void sm_emotion_set_stage_hook(sm_emotion *m, sm_emotion_stage_fn fn, void *ctx)
{
    m->hook = fn;
    m->hook_ctx = ctx;
}

void sm_emotion_profile(sm_emotion *m, bool enable)
{
    sm_layer_prof_enable(&m->prof, enable);
}

size_t sm_emotion_layer_times(const sm_emotion *m, const sm_layer_time **out)
{
    return sm_layer_prof_records(&m->prof, out);
}

/* ---- preprocessing ------------------------------------------------------------------ */

bool sm_emotion_crop_box(float x_min, float y_min, float x_max, float y_max, int width, int height,
                         int box[4])
{
    /* app.py: int() truncation toward zero, clamps, centre by floor division */
    long x0 = (long)x_min, x1 = (long)x_max, y0 = (long)y_min, y1 = (long)y_max;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > width - 1) x1 = width - 1;
    if (y1 > height - 1) y1 = height - 1;
    long cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, bw = x1 - x0, bh = y1 - y0;
    long size = bw > bh ? bw : bh;
    /* Python // floors; these values are >= 0 except when the box is inverted */
    long half = size >= 0 ? size / 2 : -((-size + 1) / 2);
    long bx1 = cx - half, by1 = cy - half, bx2 = cx + half, by2 = cy + half;
    if (bx1 < 0) bx1 = 0;
    if (by1 < 0) by1 = 0;
    if (bx2 > width) bx2 = width;
    if (by2 > height) by2 = height;
    if (bx2 <= bx1 || by2 <= by1)
        return false;
    box[0] = (int)bx1;
    box[1] = (int)by1;
    box[2] = (int)bx2;
    box[3] = (int)by2;
    return true;
}

sm_status sm_emotion_preprocess_rgb8(const sm_emotion *m, const uint8_t *rgb, int width, int height,
                                     size_t stride, const int box[4], float *dst, sm_error *err)
{
    if (!rgb || !dst || !box || width <= 0 || height <= 0 || stride < (size_t)width * 3)
        return sm_error_set(err, SM_ERR_ARG, "emotion preprocess: bad image (%dx%d, stride %zu)", width, height,
                            stride);
    if (box[0] < 0 || box[1] < 0 || box[2] > width || box[3] > height || box[2] <= box[0] || box[3] <= box[1])
        return sm_error_set(err, SM_ERR_ARG, "emotion preprocess: crop [%d,%d)-[%d,%d) outside the %dx%d image",
                            box[0], box[1], box[2], box[3], width, height);
    /* app.py: cv2.resize of the crop (uint8), then x/255 and the metadata's mean/std */
    const int S = (int)m->input_size;
    sm_image_resize_bilinear_u8_norm(rgb + (size_t)box[1] * stride + (size_t)box[0] * 3, box[2] - box[0],
                                     box[3] - box[1], stride, dst, S, S, (size_t)S * 3, 3, m->mean, m->std);
    return SM_OK;
}

sm_status sm_emotion_run_rgb8(sm_emotion *m, const uint8_t *rgb, int width, int height, size_t stride,
                              const int box[4], sm_emotion_output *out, sm_error *err)
{
    sm_status st = sm_emotion_preprocess_rgb8(m, rgb, width, height, stride, box, m->pre, err);
    if (st)
        return st;
    return sm_emotion_run(m, m->pre, m->input_size, m->input_size, out, err);
}

/* face_detector: BlazeFace short range with MediaPipe's pre/post-processing
 * (FACE_MODELS.md sections 3 and 4; the header has the summary). */
#include "face_detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sm_graph.h"
#include "sm_image.h"

struct sm_face_detector {
    sm_smw *f;
    sm_graph *g;
    int out_reg, out_cls;
    float anchors[SM_FACE_DET_ANCHORS][2];
    sm_face_candidate cand[SM_FACE_DET_ANCHORS];
};

/* ---- anchors: SsdAnchors with strides [8,16,16,16] on 128, fixed size 1 ---------------- */

void sm_face_anchors(float anchors[SM_FACE_DET_ANCHORS][2])
{
    /* stride 8: 16x16 cells x 2 anchors; the three stride-16 layers merge into 8x8 x 6 */
    static const struct {
        int fm, per_cell;
    } grids[2] = {{16, 2}, {8, 6}};
    size_t k = 0;
    for (int gi = 0; gi < 2; gi++)
        for (int y = 0; y < grids[gi].fm; y++)
            for (int x = 0; x < grids[gi].fm; x++)
                for (int a = 0; a < grids[gi].per_cell; a++) {
                    anchors[k][0] = ((float)x + 0.5f) / (float)grids[gi].fm;
                    anchors[k][1] = ((float)y + 0.5f) / (float)grids[gi].fm;
                    k++;
                }
}

/* ---- preprocessing ------------------------------------------------------------------------ */

/* MediaPipe's letterbox: the frame centred in a square of its longer side,
 * resampled to 128 x 128 (texel centres at k + 0.5 in MediaPipe's frame
 * coordinates, hence the -0.5 into sm_image's integer centres); the border
 * is colour 0 (= -1), and a sample exactly on the image edge counts as inside
 * (face-ref README, det_tall), as sm_image's constant border has it. */
void sm_face_letterbox(const uint8_t *rgb, int width, int height, size_t stride, float *out)
{
    const int n = SM_FACE_DET_SIZE;
    double side = width > height ? width : height, m[6];
    sm_image_rotated_rect_map(width / 2.0 - 0.5, height / 2.0 - 0.5, side, side, 0.0, n, n, m);
    const float border = -1.0f;
    sm_image_warp_affine_u8_f32(rgb, width, height, stride, out, n, n, (size_t)n * 3, 3, m, 1.0 / 127.5, -1.0,
                                &border);
}

/* ---- postprocessing ------------------------------------------------------------------------ */

static float iou(const sm_face_candidate *a, const sm_face_candidate *b)
{
    float ix0 = fmaxf(a->xmin, b->xmin), iy0 = fmaxf(a->ymin, b->ymin);
    float ix1 = fminf(a->xmax, b->xmax), iy1 = fminf(a->ymax, b->ymax);
    if (ix1 < ix0 || iy1 < iy0)
        return 0.0f;
    float inter = (ix1 - ix0) * (iy1 - iy0);
    float norm = (a->xmax - a->xmin) * (a->ymax - a->ymin) + (b->xmax - b->xmin) * (b->ymax - b->ymin) - inter;
    return norm > 0.0f ? inter / norm : 0.0f;
}

size_t sm_face_weighted_nms(sm_face_candidate *cand, size_t n, float iou_thresh, sm_face_candidate *out, size_t max)
{
    /* stable sort by score, highest first */
    for (size_t i = 1; i < n; i++) {
        sm_face_candidate c = cand[i];
        size_t j = i;
        for (; j > 0 && cand[j - 1].score < c.score; j--)
            cand[j] = cand[j - 1];
        cand[j] = c;
    }
    size_t n_out = 0, remaining = n;
    while (remaining > 0 && n_out < max) {
        const sm_face_candidate top = cand[0];
        float wsum = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0, kp[SM_FACE_DET_KEYPOINTS][2] = {{0}};
        size_t kept = 0, grouped = 0;
        for (size_t i = 0; i < remaining; i++) {
            const sm_face_candidate *c = &cand[i];
            if (iou(c, &top) > iou_thresh) {
                grouped++;
                wsum += c->score;
                x0 += c->xmin * c->score;
                y0 += c->ymin * c->score;
                x1 += c->xmax * c->score;
                y1 += c->ymax * c->score;
                for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++) {
                    kp[k][0] += c->kp[k][0] * c->score;
                    kp[k][1] += c->kp[k][1] * c->score;
                }
            } else {
                cand[kept++] = *c; /* order kept: still sorted */
            }
        }
        sm_face_candidate r = top;
        if (grouped > 0 && wsum > 0) {
            r.xmin = x0 / wsum;
            r.ymin = y0 / wsum;
            r.xmax = x1 / wsum;
            r.ymax = y1 / wsum;
            for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++) {
                r.kp[k][0] = kp[k][0] / wsum;
                r.kp[k][1] = kp[k][1] / wsum;
            }
        }
        out[n_out++] = r;
        /* a degenerate (zero-area) top box groups nothing, not even itself:
         * MediaPipe stops there */
        if (grouped == 0)
            break;
        remaining = kept;
    }
    return n_out;
}

void sm_face_unletterbox(float xt, float yt, int width, int height, float *x_px, float *y_px)
{
    float side = (float)(width > height ? width : height);
    *x_px = ((xt - 0.5f) * side / (float)width + 0.5f) * (float)width;
    *y_px = ((yt - 0.5f) * side / (float)height + 0.5f) * (float)height;
}

static size_t decode_with(const float (*anchors)[2], sm_face_candidate *cand, const float *reg, const float *cls,
                          int width, int height, sm_face_detection *out, size_t max)
{
    const float s = (float)SM_FACE_DET_SIZE;
    size_t n = 0;
    for (size_t i = 0; i < SM_FACE_DET_ANCHORS; i++) {
        float logit = cls[i];
        logit = logit < -100.0f ? -100.0f : logit > 100.0f ? 100.0f : logit;
        float score = 1.0f / (1.0f + expf(-logit));
        if (!(score >= 0.5f))
            continue;
        const float *r = reg + i * 16;
        float ax = anchors[i][0], ay = anchors[i][1];
        float xc = r[0] / s + ax, yc = r[1] / s + ay, w = r[2] / s, h = r[3] / s;
        sm_face_candidate *c = &cand[n++];
        c->score = score;
        c->xmin = xc - w / 2;
        c->ymin = yc - h / 2;
        c->xmax = xc + w / 2;
        c->ymax = yc + h / 2;
        for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++) {
            c->kp[k][0] = r[4 + 2 * k] / s + ax;
            c->kp[k][1] = r[5 + 2 * k] / s + ay;
        }
    }
    sm_face_candidate res[SM_FACE_DET_MAX];
    size_t m = sm_face_weighted_nms(cand, n, 0.3f, res, max < SM_FACE_DET_MAX ? max : SM_FACE_DET_MAX);
    for (size_t i = 0; i < m; i++) {
        sm_face_detection *d = &out[i];
        float x0, y0, x1, y1;
        sm_face_unletterbox(res[i].xmin, res[i].ymin, width, height, &x0, &y0);
        sm_face_unletterbox(res[i].xmax, res[i].ymax, width, height, &x1, &y1);
        d->score = res[i].score;
        d->xmin = x0;
        d->ymin = y0;
        d->width = x1 - x0;
        d->height = y1 - y0;
        for (int k = 0; k < SM_FACE_DET_KEYPOINTS; k++)
            sm_face_unletterbox(res[i].kp[k][0], res[i].kp[k][1], width, height, &d->kp[k][0], &d->kp[k][1]);
    }
    return m;
}

/* ---- the model ------------------------------------------------------------------------------ */

sm_status sm_face_detector_load(const char *path, sm_face_detector **out, sm_error *err)
{
    *out = NULL;
    sm_face_detector *d = calloc(1, sizeof *d);
    if (!d)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    sm_status st = sm_smw_open(path, NULL, &d->f, err);
    if (st == SM_OK && !sm_smw_arch_is(d->f, SM_FACE_DETECTOR_ARCH))
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: general.architecture is not '%s' (make models converts "
                          "face_detection_short_range.tflite)", path, SM_FACE_DETECTOR_ARCH);
    if (st == SM_OK)
        st = sm_graph_load(d->f, NULL, 0, &d->g, err);
    if (st == SM_OK) {
        sm_graph_shape in = sm_graph_input_shape(d->g, 0);
        d->out_reg = sm_graph_find_output(d->g, "regressors");
        d->out_cls = sm_graph_find_output(d->g, "classificators");
        if (sm_graph_n_inputs(d->g) != 1 || in.ndim != 4 || in.dims[0] != 1 || in.dims[1] != SM_FACE_DET_SIZE ||
            in.dims[2] != SM_FACE_DET_SIZE || in.dims[3] != 3)
            st = sm_error_set(err, SM_ERR_SHAPE, "%s: detector input must be [1,128,128,3]", path);
        else if (d->out_reg < 0 || d->out_cls < 0 ||
                 sm_graph_numel(sm_graph_output_shape(d->g, (size_t)d->out_reg)) != SM_FACE_DET_ANCHORS * 16 ||
                 sm_graph_numel(sm_graph_output_shape(d->g, (size_t)d->out_cls)) != SM_FACE_DET_ANCHORS)
            st = sm_error_set(err, SM_ERR_SHAPE, "%s: detector outputs must be regressors [1,896,16] and "
                              "classificators [1,896,1]", path);
    }
    if (st) {
        sm_face_detector_free(d);
        return st;
    }
    sm_face_anchors(d->anchors);
    *out = d;
    return SM_OK;
}

void sm_face_detector_free(sm_face_detector *d)
{
    if (!d)
        return;
    sm_graph_free(d->g);
    sm_smw_free(d->f);
    free(d);
}

void sm_face_detector_run_tensor(sm_face_detector *d, const float *input, sm_threadpool *pool,
                                 const float **regressors, const float **classificators)
{
    float *in = sm_graph_input(d->g, 0);
    if (input != in)
        memcpy(in, input, sizeof(float) * SM_FACE_DET_SIZE * SM_FACE_DET_SIZE * 3);
    sm_graph_run(d->g, pool);
    *regressors = sm_graph_output(d->g, (size_t)d->out_reg);
    *classificators = sm_graph_output(d->g, (size_t)d->out_cls);
}

size_t sm_face_detector_detect(sm_face_detector *d, const uint8_t *rgb, int width, int height, size_t stride,
                               sm_threadpool *pool, sm_face_detection *out, size_t max)
{
    if (!d || !rgb || width <= 0 || height <= 0 || stride < (size_t)width * 3 || max == 0)
        return 0;
    float *in = sm_graph_input(d->g, 0);
    sm_face_letterbox(rgb, width, height, stride, in);
    const float *reg, *cls;
    sm_face_detector_run_tensor(d, in, pool, &reg, &cls);
    return decode_with((const float(*)[2])d->anchors, d->cand, reg, cls, width, height, out, max);
}

/* face_mesh: landmark network, ROI, crop, projection and the tracker
 * (FACE_MODELS.md sections 3-4; summary in the header). */
#include "face_mesh.h"
#include "sm_image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_mp_hooks.h"

enum { O_MESH, O_FLAG, O_LIPS, O_LEYE, O_REYE, O_LIRIS, O_RIRIS, O_COUNT };

static const char *const attention_outputs[O_COUNT] = {
    "output_mesh_identity", "conv_faceflag",   "output_lips",       "output_left_eye",
    "output_right_eye",     "output_left_iris", "output_right_iris",
};
static const size_t attention_sizes[O_COUNT] = {1404, 1, 160, 142, 142, 10, 10};

struct sm_face_mesh {
    sm_smw *f;
    sm_graph *g;
    bool refined;
    int out[O_COUNT];
};

static const float PI_F = 3.14159265358979323846f;

static float normalize_radians(float a)
{
    return a - 2 * PI_F * floorf((a - (-PI_F)) / (2 * PI_F));
}

/* ---- ROI ------------------------------------------------------------------------------------ */

/* DetectionsToRects (rotation from two points) + RectTransformation (square_long, x1.5). */
static sm_face_roi make_roi(float xmin, float ymin, float w, float h, float x0, float y0, float x1, float y1)
{
    sm_face_roi r;
    r.cx = xmin + w / 2;
    r.cy = ymin + h / 2;
    r.rotation = normalize_radians(0.0f - atan2f(-(y1 - y0), x1 - x0));
    float side = (w > h ? w : h) * 1.5f;
    r.w = r.h = side;
    return r;
}

sm_face_roi sm_face_roi_from_detection(const sm_face_detection *d, int width, int height)
{
    (void)width;
    (void)height;
    return make_roi(d->xmin, d->ymin, d->width, d->height, d->kp[0][0], d->kp[0][1], d->kp[1][0], d->kp[1][1]);
}

sm_face_roi sm_face_roi_from_landmarks(const float (*pts)[3], size_t n, int width, int height)
{
    (void)width;
    (void)height;
    float x0 = pts[0][0], x1 = pts[0][0], y0 = pts[0][1], y1 = pts[0][1];
    for (size_t i = 1; i < n; i++) {
        x0 = fminf(x0, pts[i][0]);
        x1 = fmaxf(x1, pts[i][0]);
        y0 = fminf(y0, pts[i][1]);
        y1 = fmaxf(y1, pts[i][1]);
    }
    return make_roi(x0, y0, x1 - x0, y1 - y0, pts[33][0], pts[33][1], pts[263][0], pts[263][1]);
}

/* ---- crop and projection ----------------------------------------------------------------------- */

/* The ROI's centre is in MediaPipe's frame coordinates (texel centres at
 * k + 0.5): -0.5 into sm_image's integer centres. */
void sm_face_mesh_crop(const uint8_t *rgb, int width, int height, size_t stride, const sm_face_roi *roi, float *out)
{
    const int n = SM_FACE_MESH_SIZE;
    double m[6];
    sm_image_rotated_rect_map((double)roi->cx - 0.5, (double)roi->cy - 0.5, roi->w, roi->h, roi->rotation, n, n, m);
    sm_image_warp_affine_u8_f32(rgb, width, height, stride, out, n, n, (size_t)n * 3, 3, m, 1.0 / 255.0, 0.0, NULL);
}

void sm_face_project(const float (*in)[3], size_t n, const sm_face_roi *roi, float (*out)[3])
{
    float c = cosf(roi->rotation), s = sinf(roi->rotation);
    for (size_t i = 0; i < n; i++) {
        float x = in[i][0] / SM_FACE_MESH_SIZE - 0.5f, y = in[i][1] / SM_FACE_MESH_SIZE - 0.5f;
        float z = in[i][2] / SM_FACE_MESH_SIZE;
        out[i][0] = (c * x - s * y) * roi->w + roi->cx;
        out[i][1] = (s * x + c * y) * roi->h + roi->cy;
        out[i][2] = z * roi->w;
    }
}

/* ---- the network ------------------------------------------------------------------------------- */

sm_status sm_face_mesh_load(const char *path, sm_face_mesh **out, sm_error *err)
{
    *out = NULL;
    sm_face_mesh *m = calloc(1, sizeof *m);
    if (!m)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    sm_status st = sm_smw_open(path, NULL, &m->f, err);
    if (st == SM_OK) {
        if (sm_smw_arch_is(m->f, SM_FACE_MESH_ATTENTION_ARCH))
            m->refined = true;
        else if (!sm_smw_arch_is(m->f, SM_FACE_MESH_ARCH))
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: general.architecture is neither '%s' nor '%s' (make models)",
                              path, SM_FACE_MESH_ARCH, SM_FACE_MESH_ATTENTION_ARCH);
    }
    if (st == SM_OK) {
        size_t nc = 0;
        const sm_graph_custom_op *ops = sm_face_custom_ops(&nc);
        st = sm_graph_load(m->f, ops, nc, &m->g, err);
        if (st == SM_OK && m->refined && !sm_face_refine_available())
            st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: the 478-point refinement (models/mediapipe_ops) is not "
                              "built in", path);
    }
    if (st == SM_OK) {
        sm_graph_shape in = sm_graph_input_shape(m->g, 0);
        if (sm_graph_n_inputs(m->g) != 1 || in.ndim != 4 || in.dims[0] != 1 || in.dims[1] != SM_FACE_MESH_SIZE ||
            in.dims[2] != SM_FACE_MESH_SIZE || in.dims[3] != 3)
            st = sm_error_set(err, SM_ERR_SHAPE, "%s: landmark input must be [1,192,192,3]", path);
    }
    if (st == SM_OK && m->refined) {
        for (int k = 0; k < O_COUNT && st == SM_OK; k++) {
            m->out[k] = sm_graph_find_output(m->g, attention_outputs[k]);
            if (m->out[k] < 0 || sm_graph_numel(sm_graph_output_shape(m->g, (size_t)m->out[k])) != attention_sizes[k])
                st = sm_error_set(err, SM_ERR_SHAPE, "%s: output '%s' with %zu values expected", path,
                                  attention_outputs[k], attention_sizes[k]);
        }
    } else if (st == SM_OK) {
        m->out[O_MESH] = sm_graph_find_output(m->g, "conv2d_21");
        m->out[O_FLAG] = sm_graph_find_output(m->g, "conv2d_31");
        if (m->out[O_MESH] < 0 || m->out[O_FLAG] < 0 ||
            sm_graph_numel(sm_graph_output_shape(m->g, (size_t)m->out[O_MESH])) != 1404 ||
            sm_graph_numel(sm_graph_output_shape(m->g, (size_t)m->out[O_FLAG])) != 1)
            st = sm_error_set(err, SM_ERR_SHAPE, "%s: outputs conv2d_21 [1,1,1,1404] and conv2d_31 [1,1,1,1] expected",
                              path);
    }
    if (st) {
        sm_face_mesh_free(m);
        return st;
    }
    *out = m;
    return SM_OK;
}

void sm_face_mesh_free(sm_face_mesh *m)
{
    if (!m)
        return;
    sm_graph_free(m->g);
    sm_smw_free(m->f);
    free(m);
}

int sm_face_mesh_n_points(const sm_face_mesh *m)
{
    return m->refined ? SM_FACE_MESH_REFINED_POINTS : SM_FACE_MESH_POINTS;
}

void sm_face_mesh_run_tensor(sm_face_mesh *m, const float *input, sm_threadpool *pool,
                             float pts192[SM_FACE_MESH_REFINED_POINTS][3], float *flag_logit)
{
    float *in = sm_graph_input(m->g, 0);
    if (input != in)
        memcpy(in, input, sizeof(float) * SM_FACE_MESH_SIZE * SM_FACE_MESH_SIZE * 3);
    sm_graph_run(m->g, pool);
    *flag_logit = sm_graph_output(m->g, (size_t)m->out[O_FLAG])[0];
    const float *mesh = sm_graph_output(m->g, (size_t)m->out[O_MESH]);
    if (!m->refined) {
        memcpy(pts192, mesh, sizeof(float) * 1404);
        return;
    }
    /* MediaPipe refines normalised landmarks (x/192): do the same so the iris
     * z average rounds as theirs */
    float norm[1404 + 160 + 142 * 2 + 10 * 2], out[SM_FACE_MESH_REFINED_POINTS * 3];
    float *parts[O_COUNT];
    size_t at = 0;
    for (int k = 0; k < O_COUNT; k++) {
        if (k == O_FLAG)
            continue;
        const float *src = sm_graph_output(m->g, (size_t)m->out[k]);
        parts[k] = norm + at;
        for (size_t i = 0; i < attention_sizes[k]; i++)
            norm[at + i] = src[i] / SM_FACE_MESH_SIZE;
        at += attention_sizes[k];
    }
    sm_face_refine(parts[O_MESH], parts[O_LIPS], parts[O_LEYE], parts[O_REYE], parts[O_LIRIS], parts[O_RIRIS], out);
    for (size_t i = 0; i < SM_FACE_MESH_REFINED_POINTS; i++)
        for (int c = 0; c < 3; c++)
            pts192[i][c] = out[i * 3 + c] * SM_FACE_MESH_SIZE;
}

bool sm_face_mesh_process(sm_face_mesh *m, const uint8_t *rgb, int width, int height, size_t stride,
                          const sm_face_roi *roi, sm_threadpool *pool, sm_face_landmarks *out)
{
    float *in = sm_graph_input(m->g, 0);
    sm_face_mesh_crop(rgb, width, height, stride, roi, in);
    float pts[SM_FACE_MESH_REFINED_POINTS][3], logit;
    sm_face_mesh_run_tensor(m, in, pool, pts, &logit);
    out->presence = 1.0f / (1.0f + expf(-logit));
    out->n_points = sm_face_mesh_n_points(m);
    out->roi = *roi;
    sm_face_project((const float(*)[3])pts, (size_t)out->n_points, roi, out->pts);
    return out->presence >= 0.5f;
}

/* ---- tracker ------------------------------------------------------------------------------------- */

struct sm_face_tracker {
    sm_face_detector *det;
    sm_face_mesh *mesh;
    bool tracking;           /* roi comes from the previous landmarks */
    sm_face_roi roi;
    int width, height;
    bool detector_ran, have_detection;
    sm_face_detection detection;
    sm_face_landmarks lm;
};

void sm_face_model_paths(const char *dir, bool refine, char *det, size_t det_cap, char *mesh, size_t mesh_cap)
{
    snprintf(det, det_cap, "%s/face_detection_short_range.smw", dir);
    snprintf(mesh, mesh_cap, "%s/%s", dir, refine ? "face_landmark_with_attention.smw" : "face_landmark.smw");
}

sm_status sm_face_tracker_init(const char *detector_path, const char *mesh_path, sm_face_tracker **out,
                               sm_error *err)
{
    *out = NULL;
    sm_face_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    sm_status st = sm_face_detector_load(detector_path, &t->det, err);
    if (st == SM_OK)
        st = sm_face_mesh_load(mesh_path, &t->mesh, err);
    if (st) {
        sm_face_tracker_free(t);
        return st;
    }
    *out = t;
    return SM_OK;
}

void sm_face_tracker_free(sm_face_tracker *t)
{
    if (!t)
        return;
    sm_face_detector_free(t->det);
    sm_face_mesh_free(t->mesh);
    free(t);
}

void sm_face_tracker_reset(sm_face_tracker *t) { t->tracking = false; }

bool sm_face_tracker_process(sm_face_tracker *t, const uint8_t *rgb, int width, int height, size_t stride,
                             sm_threadpool *pool, sm_face_result *res)
{
    memset(res, 0, sizeof *res);
    t->detector_ran = t->have_detection = false;
    t->lm.n_points = 0;
    t->lm.presence = 0;
    if (!rgb || width <= 0 || height <= 0 || stride < (size_t)width * 3)
        return false;
    if (width != t->width || height != t->height)
        t->tracking = false; /* a pixel ROI means nothing in a frame of another size */
    t->width = width;
    t->height = height;
    if (!t->tracking) {
        t->detector_ran = true;
        if (sm_face_detector_detect(t->det, rgb, width, height, stride, pool, &t->detection, 1) == 0)
            return false;
        t->have_detection = true;
        t->roi = sm_face_roi_from_detection(&t->detection, width, height);
    }
    if (!sm_face_mesh_process(t->mesh, rgb, width, height, stride, &t->roi, pool, &t->lm)) {
        t->tracking = false;
        return false;
    }
    t->roi = sm_face_roi_from_landmarks((const float(*)[3])t->lm.pts, (size_t)t->lm.n_points, width, height);
    t->tracking = true;
    res->valid = true;
    res->score = t->lm.presence;
    res->n_landmarks = t->lm.n_points;
    float x0 = t->lm.pts[0][0], x1 = x0, y0 = t->lm.pts[0][1], y1 = y0;
    for (int i = 0; i < t->lm.n_points; i++) {
        for (int c = 0; c < 3; c++)
            res->landmarks[i][c] = t->lm.pts[i][c];
        x0 = fminf(x0, t->lm.pts[i][0]);
        x1 = fmaxf(x1, t->lm.pts[i][0]);
        y0 = fminf(y0, t->lm.pts[i][1]);
        y1 = fmaxf(y1, t->lm.pts[i][1]);
    }
    res->box[0] = x0;
    res->box[1] = y0;
    res->box[2] = x1 - x0;
    res->box[3] = y1 - y0;
    return true;
}

sm_face_detector *sm_face_tracker_detector(sm_face_tracker *t) { return t ? t->det : NULL; }

sm_face_mesh *sm_face_tracker_mesh(sm_face_tracker *t) { return t ? t->mesh : NULL; }

bool sm_face_tracker_detector_ran(const sm_face_tracker *t) { return t->detector_ran; }

bool sm_face_tracker_last_detection(const sm_face_tracker *t, sm_face_detection *d)
{
    if (t->have_detection)
        *d = t->detection;
    return t->have_detection;
}

const sm_face_landmarks *sm_face_tracker_landmarks(const sm_face_tracker *t) { return &t->lm; }
int sm_face_tracker_n_points(const sm_face_tracker *t) { return sm_face_mesh_n_points(t->mesh); }

/* POS heart rate and the UltraLightNet frame ring; see rppg_pos.h for the
 * method. Own implementation from the paper's equations. */
#include "rppg_pos.h"
#include "rppg_dsp.h"
#include "sample_window.h"
#include "sm_image.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* forehead between the brows and the hairline, cheeks below the eyes and
 * beside the nose (MediaPipe FaceMesh topology) */
const int sm_pos_forehead_idx[SM_POS_N_FOREHEAD] = {10, 338, 297, 299, 296, 336,
                                                    9, 107, 66, 69, 67, 109};
const int sm_pos_right_cheek_idx[SM_POS_N_CHEEK] = {117, 118, 101, 36, 205, 187, 123};
const int sm_pos_left_cheek_idx[SM_POS_N_CHEEK] = {346, 347, 330, 266, 425, 411, 352};

#define GRID_MAX 302 /* SM_POS_SPECTRUM_S * SM_POS_FS + 2 */
#define PAD_MAX 30 /* 1 s at SM_POS_FS */

typedef struct {
    double t, c[3];
} rgb_sample;

struct sm_pos {
    sm_sample_window win;           /* rgb_sample */
    double t_start;                 /* first sample of the current trace */
    double grid[3][GRID_MAX];
    double h[GRID_MAX];
    double pad[GRID_MAX + 2 * PAD_MAX];
    double re[SM_POS_FFT_N], im[SM_POS_FFT_N];
    double cos_t[SM_POS_FFT_N / 2], sin_t[SM_POS_FFT_N / 2];
};

sm_status sm_pos_init(sm_pos **out, sm_error *err)
{
    sm_pos *p = calloc(1, sizeof *p);
    if (!p)
        return sm_error_set(err, SM_ERR_NOMEM, "POS: out of memory");
    if (!sm_sample_window_init(&p->win, sizeof(rgb_sample), offsetof(rgb_sample, t), 1024)) {
        free(p);
        return sm_error_set(err, SM_ERR_NOMEM, "POS: out of memory");
    }
    sm_fft_twiddles(SM_POS_FFT_N, p->cos_t, p->sin_t);
    *out = p;
    return SM_OK;
}

void sm_pos_free(sm_pos *pos)
{
    if (!pos)
        return;
    sm_sample_window_free(&pos->win);
    free(pos);
}

void sm_pos_reset(sm_pos *pos)
{
    sm_sample_window_clear(&pos->win);
}

void sm_pos_lost(sm_pos *pos)
{
    sm_pos_reset(pos);
}

void sm_pos_push_rgb(sm_pos *pos, double t, const double rgb[3])
{
    for (int c = 0; c < 3; c++)
        if (!isfinite(rgb[c]) || rgb[c] <= 0.0) {
            sm_pos_lost(pos);
            return;
        }
    if (!isfinite(t)) {
        sm_pos_lost(pos);
        return;
    }
    if (pos->win.n > 0) {
        const rgb_sample *last = sm_sample_window_at(&pos->win, pos->win.n - 1);
        if (t <= last->t)
            return; /* a repeated or reordered timestamp carries no new time */
        bool restart = t - last->t > SM_POS_MAX_GAP;
        for (int c = 0; c < 3; c++)
            if (fabs(rgb[c] - last->c[c]) > SM_POS_MAX_JUMP * last->c[c])
                restart = true;
        if (restart)
            sm_pos_reset(pos);
    }
    if (pos->win.n == 0)
        pos->t_start = t;
    /* keep what the spectrum needs plus one sample before it */
    const double keep = SM_POS_SPECTRUM_S + 1.0;
    rgb_sample *d = sm_sample_window_append(&pos->win, t, keep);
    if (!d) {
        sm_pos_reset(pos); /* degrade to "collecting signal", never crash */
        pos->t_start = t;
        d = sm_sample_window_append(&pos->win, t, keep);
    }
    d->t = t;
    memcpy(d->c, rgb, sizeof d->c);
}

void sm_pos_estimate(sm_pos *p, sm_pos_reading *out)
{
    memset(out, 0, sizeof *out);
    size_t ns = p->win.n;
    if (ns < 2)
        return;
    const rgb_sample *s = sm_sample_window_at(&p->win, 0);
    double t_last = s[ns - 1].t;
    out->signal_s = t_last - p->t_start;
    if (out->signal_s < SM_POS_MIN_SIGNAL_S)
        return;

    /* uniform grid ending at the newest sample */
    double span = t_last - s[0].t;
    if (span > SM_POS_SPECTRUM_S)
        span = SM_POS_SPECTRUM_S;
    int n = (int)floor(span * SM_POS_FS) + 1;
    if (n > GRID_MAX)
        n = GRID_MAX;
    size_t j = 0;
    for (int k = 0; k < n; k++) {
        double tg = t_last - (double)(n - 1 - k) / SM_POS_FS;
        while (j + 2 < ns && s[j + 1].t < tg)
            j++;
        double t0 = s[j].t, t1 = s[j + 1].t;
        double w = (tg - t0) / (t1 - t0);
        if (w < 0.0)
            w = 0.0;
        if (w > 1.0)
            w = 1.0;
        for (int c = 0; c < 3; c++)
            p->grid[c][k] = s[j].c[c] + w * (s[j + 1].c[c] - s[j].c[c]);
    }

    /* POS with overlap-add */
    int l = (int)lround(SM_POS_WINDOW_S * SM_POS_FS);
    memset(p->h, 0, sizeof p->h);
    for (int m = 0; m + l <= n; m++) {
        double mean[3] = {0, 0, 0};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < l; i++)
                mean[c] += p->grid[c][m + i];
            mean[c] /= l;
        }
        double s1[64], s2[64];
        double m1 = 0, m2 = 0;
        for (int i = 0; i < l; i++) {
            double r = p->grid[0][m + i] / mean[0];
            double g = p->grid[1][m + i] / mean[1];
            double b = p->grid[2][m + i] / mean[2];
            s1[i] = g - b;
            s2[i] = g + b - 2.0 * r;
            m1 += s1[i];
            m2 += s2[i];
        }
        m1 /= l;
        m2 /= l;
        double v1 = 0, v2 = 0;
        for (int i = 0; i < l; i++) {
            v1 += (s1[i] - m1) * (s1[i] - m1);
            v2 += (s2[i] - m2) * (s2[i] - m2);
        }
        double alpha = v2 > 0.0 ? sqrt(v1 / v2) : 0.0;
        double hm = 0;
        for (int i = 0; i < l; i++)
            hm += s1[i] + alpha * s2[i];
        hm /= l;
        for (int i = 0; i < l; i++)
            p->h[m + i] += s1[i] + alpha * s2[i] - hm;
    }

    /* zero-phase band-pass with odd reflection at both ends */
    int pad = n - 1 < PAD_MAX ? n - 1 : PAD_MAX;
    int np = n + 2 * pad;
    for (int i = 0; i < pad; i++) {
        p->pad[pad - 1 - i] = 2.0 * p->h[0] - p->h[i + 1];
        p->pad[pad + n + i] = 2.0 * p->h[n - 1] - p->h[n - 2 - i];
    }
    memcpy(p->pad + pad, p->h, (size_t)n * sizeof *p->h);
    sm_biquad hp = sm_biquad_butter(SM_POS_BAND_LO_HZ, SM_POS_FS, true);
    sm_biquad lp = sm_biquad_butter(SM_POS_BAND_HI_HZ, SM_POS_FS, false);
    for (int dir = 1; dir >= -1; dir -= 2) {
        sm_biquad_run(&hp, p->pad, np, dir);
        sm_biquad_run(&lp, p->pad, np, dir);
    }

    /* Hann-windowed power spectrum, power in re[] */
    sm_hann_power_spectrum(SM_POS_FFT_N, p->pad + pad, n, p->re, p->im, p->cos_t, p->sin_t);
    double df = SM_POS_FS / SM_POS_FFT_N;
    int k_lo = (int)ceil(SM_POS_BAND_LO_HZ / df), k_hi = (int)floor(SM_POS_BAND_HI_HZ / df);
    int kb_lo = (int)ceil(SM_POS_BPM_MIN / 60.0 / df), kb_hi = (int)floor(SM_POS_BPM_MAX / 60.0 / df);
    sm_spectrum_peak pk = sm_spectrum_peak_find(p->re, df, kb_lo, kb_hi, k_lo, k_hi, SM_RPPG_SNR_HALF_BW_HZ);
    out->valid = true;
    out->bpm = 60.0 * pk.f0_hz;
    out->quality_db = pk.snr_db;
}

/* ---- skin region --------------------------------------------------------------- */

void sm_polygon_rasterize(const double *xy, int nv, int width, int height,
                          void (*fn)(void *ctx, int x, int y), void *ctx)
{
    if (nv < 3 || nv > 64 || width <= 0 || height <= 0)
        return;
    double ymin = xy[1], ymax = xy[1];
    for (int i = 0; i < nv; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
            return;
        ymin = fmin(ymin, xy[2 * i + 1]);
        ymax = fmax(ymax, xy[2 * i + 1]);
    }
    /* clamp in double before any conversion: landmarks may be wild */
    double fy0 = fmax(0.0, ceil(ymin - 0.5)), fy1 = fmin(height - 1.0, floor(ymax - 0.5));
    if (fy0 > fy1)
        return;
    int y0 = (int)fy0, y1 = (int)fy1;
    double xs[64];
    for (int y = y0; y <= y1; y++) {
        double yc = y + 0.5;
        int nx = 0;
        for (int i = 0, k = nv - 1; i < nv; k = i++) {
            double ya = xy[2 * k + 1], yb = xy[2 * i + 1];
            if ((ya <= yc) != (yb <= yc)) {
                double xa = xy[2 * k], xb = xy[2 * i];
                double x = xa + (yc - ya) * (xb - xa) / (yb - ya);
                int m = nx++;
                while (m > 0 && xs[m - 1] > x) {
                    xs[m] = xs[m - 1];
                    m--;
                }
                xs[m] = x;
            }
        }
        for (int q = 0; q + 1 < nx; q += 2) {
            double a = ceil(xs[q] - 0.5), b = ceil(xs[q + 1] - 0.5) - 1.0;
            if (a < 0.0)
                a = 0.0;
            if (b > width - 1.0)
                b = width - 1.0;
            if (!(a <= b)) /* also skips NaN from overflowing edges */
                continue;
            for (int x = (int)a; x <= (int)b; x++)
                fn(ctx, x, y);
        }
    }
}

typedef struct {
    const uint8_t *rgb;
    size_t stride;
    double all[3], skin[3];
    size_t n_all, n_skin;
} skin_acc;

static void skin_pixel(void *ctx, int x, int y)
{
    skin_acc *a = ctx;
    const uint8_t *px = a->rgb + (size_t)y * a->stride + 3 * (size_t)x;
    double r = px[0], g = px[1], b = px[2];
    a->all[0] += r; a->all[1] += g; a->all[2] += b;
    a->n_all++;
    /* Chai & Ngan's chrominance box, plus a floor on luma for shadows and brows */
    double yl = 0.299 * r + 0.587 * g + 0.114 * b;
    double cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    double cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    if (yl > 40.0 && cb >= 77.0 && cb <= 127.0 && cr >= 133.0 && cr <= 173.0) {
        a->skin[0] += r; a->skin[1] += g; a->skin[2] += b;
        a->n_skin++;
    }
}

size_t sm_pos_skin_mean(const uint8_t *rgb, int width, int height, size_t stride,
                        const float *pts, int n_points, int pt_stride, double mean_rgb[3])
{
    if (!rgb || !pts || n_points < 468 || pt_stride < 2 || width <= 0 || height <= 0 ||
        stride < 3 * (size_t)width)
        return 0;
    skin_acc acc = {rgb, stride, {0, 0, 0}, {0, 0, 0}, 0, 0};
    const int *polys[3] = {sm_pos_forehead_idx, sm_pos_right_cheek_idx, sm_pos_left_cheek_idx};
    const int counts[3] = {SM_POS_N_FOREHEAD, SM_POS_N_CHEEK, SM_POS_N_CHEEK};
    for (int q = 0; q < 3; q++) {
        double xy[2 * SM_POS_N_FOREHEAD];
        for (int i = 0; i < counts[q]; i++) {
            size_t o = (size_t)polys[q][i] * (size_t)pt_stride;
            xy[2 * i] = pts[o];
            xy[2 * i + 1] = pts[o + 1];
        }
        sm_polygon_rasterize(xy, counts[q], width, height, skin_pixel, &acc);
    }
    const double *sum = acc.skin;
    size_t cnt = acc.n_skin;
    if (cnt < SM_POS_MIN_PIXELS) {
        sum = acc.all;
        cnt = acc.n_all;
    }
    if (cnt < SM_POS_MIN_PIXELS)
        return 0;
    for (int c = 0; c < 3; c++)
        mean_rgb[c] = sum[c] / (double)cnt;
    return cnt;
}

void sm_pos_push_frame(sm_pos *pos, double t, const uint8_t *rgb, int width, int height,
                       size_t stride, const float *pts, int n_points, int pt_stride)
{
    double m[3];
    if (sm_pos_skin_mean(rgb, width, height, stride, pts, n_points, pt_stride, m) == 0)
        sm_pos_lost(pos);
    else
        sm_pos_push_rgb(pos, t, m);
}

/* ---- UltraLightNet input ring ------------------------------------------------------ */

#define NET_FRAME_FLOATS (SM_RPPG_NET_SIZE * SM_RPPG_NET_SIZE * 3)

struct sm_rppg_frames {
    float *ring;       /* [180][36*36*3] */
    float *ordered;
    int head, count;   /* head = slot of the oldest frame */
    uint64_t pushed;
};

sm_status sm_rppg_frames_init(sm_rppg_frames **out, sm_error *err)
{
    sm_rppg_frames *b = calloc(1, sizeof *b);
    size_t bytes = (size_t)SM_RPPG_NET_FRAMES * NET_FRAME_FLOATS * sizeof(float);
    if (b) {
        b->ring = malloc(bytes);
        b->ordered = malloc(bytes);
    }
    if (!b || !b->ring || !b->ordered) {
        sm_rppg_frames_free(b);
        return sm_error_set(err, SM_ERR_NOMEM, "rPPG frame buffer: out of memory (%zu bytes)",
                            2 * bytes);
    }
    *out = b;
    return SM_OK;
}

void sm_rppg_frames_free(sm_rppg_frames *b)
{
    if (!b)
        return;
    free(b->ring);
    free(b->ordered);
    free(b);
}

void sm_rppg_frames_reset(sm_rppg_frames *b)
{
    b->head = b->count = 0;
    b->pushed = 0;
}

void sm_rppg_preprocess(const uint8_t *rgb, int width, int height, size_t stride, float *out)
{
    int size = width < height ? width : height;
    if (size <= 0 || !rgb) {
        memset(out, 0, NET_FRAME_FLOATS * sizeof *out);
        return;
    }
    /* app.py: the centre square, cv2.resize to 36x36 (uint8), then x/255 */
    int x0 = (width - size) / 2, y0 = (height - size) / 2;
    sm_image_resize_bilinear_u8_norm(rgb + (size_t)y0 * stride + (size_t)x0 * 3, size, size, stride, out,
                                     SM_RPPG_NET_SIZE, SM_RPPG_NET_SIZE, (size_t)SM_RPPG_NET_SIZE * 3, 3, NULL, NULL);
}

bool sm_rppg_frames_push(sm_rppg_frames *b, const uint8_t *rgb, int width, int height,
                         size_t stride)
{
    int slot;
    if (b->count < SM_RPPG_NET_FRAMES) {
        slot = (b->head + b->count) % SM_RPPG_NET_FRAMES;
        b->count++;
    } else {
        slot = b->head;
        b->head = (b->head + 1) % SM_RPPG_NET_FRAMES;
    }
    sm_rppg_preprocess(rgb, width, height, stride, b->ring + (size_t)slot * NET_FRAME_FLOATS);
    b->pushed++;
    return b->count == SM_RPPG_NET_FRAMES && b->pushed % SM_RPPG_NET_EVERY == 0;
}

int sm_rppg_frames_count(const sm_rppg_frames *b)
{
    return b->count;
}

const float *sm_rppg_frames_ordered(sm_rppg_frames *b)
{
    for (int i = 0; i < b->count; i++) {
        int slot = (b->head + i) % SM_RPPG_NET_FRAMES;
        memcpy(b->ordered + (size_t)i * NET_FRAME_FLOATS, b->ring + (size_t)slot * NET_FRAME_FLOATS,
               NET_FRAME_FLOATS * sizeof(float));
    }
    return b->ordered;
}

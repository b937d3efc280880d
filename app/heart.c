/* Heart rate with CHROM and POS, region weighting, a harmonic-safe tracker and
 * a quality gate; see heart.h. Own implementation from the papers' equations. */
#include "heart.h"
#include "rppg_dsp.h"
#include "rppg_pos.h"
#include "sample_window.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX 302 /* SM_HEART_SPECTRUM_S * SM_HEART_FS + 2 */
#define PAD_MAX 30
#define NBIN (SM_HEART_FFT_N / 2 + 1)
#define MAX_PEAKS 6

typedef struct {
    bool ok;
    double bpm, snr_db;
    int n_peaks;
    double peak_bpm[MAX_PEAKS], peak_p[MAX_PEAKS];
} spectrum_est;

struct sm_heart {
    sm_heart_config cfg;
    sm_sample_window win; /* the samples of the current segment */
    double t_start, now;
    bool have_now;
    int frozen;
    double next_est;
    spectrum_est est[2];
    /* tracker of cfg.method */
    bool locked;
    double track, track_t, off_since, lost_t;
    double agree_since;             /* raw peak within 6 BPM of the track since then (NaN: not) */
    /* gate */
    bool open;
    bool have_shown;
    double shown_bpm, shown_t;
    sm_heart_reading last;          /* repeated for dropped frames */
    /* scratch */
    double g[3][GRID_MAX];
    double x[GRID_MAX], y[GRID_MAX], hh[GRID_MAX], wsum[GRID_MAX];
    double pad[GRID_MAX + 2 * PAD_MAX];
    double re[SM_HEART_FFT_N], im[SM_HEART_FFT_N];
    double cos_t[SM_HEART_FFT_N / 2], sin_t[SM_HEART_FFT_N / 2];
    double acc[2][NBIN], one[NBIN];
};

static const char *const collecting[] = {
    "collecting: 1 s left", "collecting: 1 s left", "collecting: 2 s left", "collecting: 3 s left",
    "collecting: 4 s left", "collecting: 5 s left", "collecting: 6 s left", "collecting: 7 s left",
    "collecting: 8 s left", "collecting: 9 s left", "collecting: 10 s left"};

const char *sm_heart_method_name(sm_heart_method m)
{
    return m == SM_HEART_CHROM ? "chrom" : "pos";
}

sm_status sm_heart_init(sm_heart **out, const sm_heart_config *cfg, sm_error *err)
{
    sm_heart *h = calloc(1, sizeof *h);
    if (!h)
        return sm_error_set(err, SM_ERR_NOMEM, "heart: out of memory");
    if (cfg)
        h->cfg = *cfg;
    if (h->cfg.method != SM_HEART_POS && h->cfg.method != SM_HEART_CHROM) {
        free(h);
        return sm_error_set(err, SM_ERR_ARG, "heart: unknown method %d", (int)cfg->method);
    }
    if (!sm_sample_window_init(&h->win, sizeof(sm_heart_sample), offsetof(sm_heart_sample, t), 1024)) {
        free(h);
        return sm_error_set(err, SM_ERR_NOMEM, "heart: out of memory");
    }
    sm_fft_twiddles(SM_HEART_FFT_N, h->cos_t, h->sin_t);
    sm_heart_reset(h);
    *out = h;
    return SM_OK;
}

void sm_heart_free(sm_heart *h)
{
    if (!h)
        return;
    sm_sample_window_free(&h->win);
    free(h);
}

static void segment_reset(sm_heart *h)
{
    sm_sample_window_clear(&h->win);
    h->agree_since = NAN;
    h->est[0].ok = h->est[1].ok = false;
    h->open = false;
}

void sm_heart_reset(sm_heart *h)
{
    segment_reset(h);
    h->have_now = false;
    h->frozen = 0;
    h->next_est = -INFINITY;
    h->locked = false;
    h->off_since = NAN;
    h->lost_t = NAN;
    h->agree_since = NAN;
    h->have_shown = false;
    memset(&h->last, 0, sizeof h->last);
    h->last.bpm_pos = h->last.snr_pos_db = h->last.bpm_chrom = h->last.snr_chrom_db = NAN;
    h->last.bpm = h->last.motion = h->last.light = h->last.face_px = NAN;
    h->last.quality = 0.0;
    h->last.source = sm_heart_method_name(h->cfg.method);
    h->last.reason = "no face";
}

/* ---- samples and segments -------------------------------------------------------------- */

static bool region_ok(const sm_heart_sample *s, int r)
{
    if (s->n[r] <= 0)
        return false;
    for (int c = 0; c < 3; c++)
        if (!isfinite(s->rgb[r][c]) || s->rgb[r][c] < 0.5)
            return false;
    return true;
}

static bool sample_usable(const sm_heart_sample *s)
{
    if (!s->face || !isfinite(s->t))
        return false;
    for (int k = 0; k < 4; k++)
        if (!isfinite(s->box[k]))
            return false;
    if (!(s->box[2] > 0.0 && s->box[3] > 0.0))
        return false;
    for (int r = 0; r < SM_HEART_NREG; r++)
        if (region_ok(s, r))
            return true;
    return false;
}

/* Pixel-weighted mean colour of the regions usable in both a and b. */
static bool pooled_pair(const sm_heart_sample *a, const sm_heart_sample *b, double ma[3], double mb[3])
{
    double wa = 0, wb = 0;
    memset(ma, 0, 3 * sizeof *ma);
    memset(mb, 0, 3 * sizeof *mb);
    for (int r = 0; r < SM_HEART_NREG; r++) {
        if (!region_ok(a, r) || !region_ok(b, r))
            continue;
        for (int c = 0; c < 3; c++) {
            ma[c] += a->n[r] * a->rgb[r][c];
            mb[c] += b->n[r] * b->rgb[r][c];
        }
        wa += a->n[r];
        wb += b->n[r];
    }
    if (wa <= 0 || wb <= 0)
        return false;
    for (int c = 0; c < 3; c++) {
        ma[c] /= wa;
        mb[c] /= wb;
    }
    return true;
}

static bool is_break(const sm_heart_sample *last, const sm_heart_sample *s)
{
    if (s->t - last->t > SM_HEART_MAX_GAP)
        return true;
    double w = last->box[2];
    double dx = (s->box[0] + 0.5 * s->box[2]) - (last->box[0] + 0.5 * last->box[2]);
    double dy = (s->box[1] + 0.5 * s->box[3]) - (last->box[1] + 0.5 * last->box[3]);
    if (sqrt(dx * dx + dy * dy) > SM_HEART_JUMP_MOVE * w)
        return true;
    if (fabs(s->box[2] / w - 1.0) > SM_HEART_JUMP_SCALE)
        return true;
    double ma[3], mb[3];
    if (!pooled_pair(last, s, ma, mb))
        return true;
    return false;
}

/* A light switch or a new skin area: the median colour of the last
 * SM_HEART_STEP_S s (with s) differs by more than SM_HEART_JUMP_COLOUR from
 * that of the second before. Medians over several frames, so that one-frame
 * spikes and flicker (compression, auto-exposure hunting) are not steps: the
 * estimator clamps those. */
#define STEP_MAX 256
static const sm_heart_sample *at(const sm_heart *h, size_t i)
{
    return sm_sample_window_at(&h->win, i);
}

static bool is_step(const sm_heart *h, const sm_heart_sample *s)
{
    static _Thread_local double ra[3][STEP_MAX], rb[3][STEP_MAX];
    double m0[3], m1[3];
    int na = 0, nb = 0;
    if (!pooled_pair(s, s, m0, m1))
        return true;
    for (int c = 0; c < 3; c++)
        ra[c][na] = m0[c];
    na++;
    for (size_t i = h->win.n; i-- > 0 && na < STEP_MAX && nb < STEP_MAX;) {
        const sm_heart_sample *q = at(h, i);
        double age = s->t - q->t;
        if (age > SM_HEART_STEP_S + 1.0)
            break;
        if (!pooled_pair(q, s, m0, m1))
            return true;
        bool recent = age <= SM_HEART_STEP_S;
        for (int c = 0; c < 3; c++)
            (recent ? ra : rb)[c][recent ? na : nb] = m0[c];
        if (recent)
            na++;
        else
            nb++;
    }
    if (nb < 3 || na < 3)
        return false;
    for (int c = 0; c < 3; c++) {
        double recent = sm_kth_smallest(ra[c], na, na / 2), before = sm_kth_smallest(rb[c], nb, nb / 2);
        if (fabs(recent - before) > SM_HEART_JUMP_COLOUR * before)
            return true;
    }
    return false;
}

static void append(sm_heart *h, const sm_heart_sample *s)
{
    /* keep what the spectrum needs plus one sample before it */
    const double keep = SM_HEART_SPECTRUM_S + 1.0;
    sm_heart_sample *d = sm_sample_window_append(&h->win, s->t, keep);
    if (!d) {
        segment_reset(h); /* degrade to "collecting", never crash */
        d = sm_sample_window_append(&h->win, s->t, keep);
    }
    if (h->win.n == 1)
        h->t_start = s->t;
    *d = *s;
}

/* How far the face moved within the last second, in box widths: the extent
 * of the box centre's path (its diagonal) plus half the change of its width.
 * Over a whole second, so that a swaying head counts whatever its rhythm and
 * landmark jitter (a pixel or two) does not. */
static double motion(const sm_heart *h)
{
    if (h->win.n < 2)
        return 0.0;
    const sm_heart_sample *last = at(h, h->win.n - 1);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, w0 = INFINITY, w1 = -INFINITY;
    for (size_t i = h->win.n; i-- > 0;) {
        const sm_heart_sample *q = at(h, i);
        if (last->t - q->t > 1.0)
            break;
        double cx = q->box[0] + 0.5 * q->box[2], cy = q->box[1] + 0.5 * q->box[3];
        x0 = fmin(x0, cx); x1 = fmax(x1, cx);
        y0 = fmin(y0, cy); y1 = fmax(y1, cy);
        w0 = fmin(w0, q->box[2]); w1 = fmax(w1, q->box[2]);
    }
    return (hypot(x1 - x0, y1 - y0) + 0.5 * (w1 - w0)) / fmax(last->box[2], 1.0);
}

/* ---- estimators ------------------------------------------------------------------------- */

/* Resamples region r (or the pooled mean, r < 0) of the last n_g grid points
 * ending at the newest sample into h->g. */
static void resample(sm_heart *h, int r, const bool use[SM_HEART_NREG], int n_g)
{
    double t_last = at(h, h->win.n - 1)->t;
    size_t j = 0;
    for (int k = 0; k < n_g; k++) {
        double tg = t_last - (double)(n_g - 1 - k) / SM_HEART_FS;
        while (j + 2 < h->win.n && at(h, j + 1)->t < tg)
            j++;
        const sm_heart_sample *a = at(h, j), *b = at(h, j + 1);
        double w = (tg - a->t) / (b->t - a->t);
        w = w < 0.0 ? 0.0 : (w > 1.0 ? 1.0 : w);
        double va[3] = {0, 0, 0}, vb[3] = {0, 0, 0};
        if (r >= 0) {
            memcpy(va, a->rgb[r], sizeof va);
            memcpy(vb, b->rgb[r], sizeof vb);
        } else {
            double na = 0, nb = 0;
            for (int q = 0; q < SM_HEART_NREG; q++) {
                if (!use[q])
                    continue;
                for (int c = 0; c < 3; c++) {
                    va[c] += a->n[q] * a->rgb[q][c];
                    vb[c] += b->n[q] * b->rgb[q][c];
                }
                na += a->n[q];
                nb += b->n[q];
            }
            for (int c = 0; c < 3; c++) {
                va[c] /= na;
                vb[c] /= nb;
            }
        }
        for (int c = 0; c < 3; c++)
            h->g[c][k] = va[c] + w * (vb[c] - va[c]);
    }
}


/* One-frame spikes (compression blocks, a hair strand, a blink's shadow) are
 * 10-50x the pulse: each channel's deviation from its running median of 7
 * grid points is clamped to 4 robust standard deviations (1.4826 MAD). */
static void despike(sm_heart *h, int n)
{
    if (n < 16)
        return;
    for (int c = 0; c < 3; c++) {
        double *x = h->g[c];
        for (int i = 0; i < n; i++) {
            double w[7];
            int k = 0;
            for (int j = i - 3; j <= i + 3; j++)
                w[k++] = x[j < 0 ? 0 : (j >= n ? n - 1 : j)];
            double med = sm_kth_smallest(w, 7, 3);
            h->x[i] = med;
            h->y[i] = x[i] - med;
        }
        for (int i = 0; i < n; i++)
            h->hh[i] = fabs(h->y[i]);
        double lim = 4.0 * 1.4826 * sm_kth_smallest(h->hh, n, n / 2);
        for (int i = 0; i < n; i++) {
            double d = h->y[i];
            x[i] = h->x[i] + (d > lim ? lim : (d < -lim ? -lim : d));
        }
    }
}

static void bandpass(sm_heart *h, double *x, int n)
{
    int pad = n - 1 < PAD_MAX ? n - 1 : PAD_MAX;
    int np = n + 2 * pad;
    for (int i = 0; i < pad; i++) {
        h->pad[pad - 1 - i] = 2.0 * x[0] - x[i + 1];
        h->pad[pad + n + i] = 2.0 * x[n - 1] - x[n - 2 - i];
    }
    memcpy(h->pad + pad, x, (size_t)n * sizeof *x);
    sm_biquad hp = sm_biquad_butter(SM_HEART_BAND_LO_HZ, SM_HEART_FS, true);
    sm_biquad lp = sm_biquad_butter(SM_HEART_BAND_HI_HZ, SM_HEART_FS, false);
    for (int dir = 1; dir >= -1; dir -= 2) {
        sm_biquad_run(&hp, h->pad, np, dir);
        sm_biquad_run(&lp, h->pad, np, dir);
    }
    memcpy(x, h->pad + pad, (size_t)n * sizeof *x);
}

static double stdev(const double *x, int n)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++)
        m += x[i];
    m /= n;
    for (int i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    return sqrt(v / n);
}

/* POS (Wang et al. 2017) on h->g[0..n): pulse into h->hh. */
static void pulse_pos(sm_heart *h, int n)
{
    int l = (int)lround(SM_HEART_WINDOW_S * SM_HEART_FS);
    memset(h->hh, 0, (size_t)n * sizeof *h->hh);
    double s1[64], s2[64];
    for (int m = 0; m + l <= n; m++) {
        double mean[3] = {0, 0, 0};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < l; i++)
                mean[c] += h->g[c][m + i];
            mean[c] /= l;
        }
        for (int i = 0; i < l; i++) {
            double r = h->g[0][m + i] / mean[0], g = h->g[1][m + i] / mean[1],
                   b = h->g[2][m + i] / mean[2];
            s1[i] = g - b;
            s2[i] = g + b - 2.0 * r;
        }
        double d1 = stdev(s1, l), d2 = stdev(s2, l);
        double alpha = d2 > 0.0 ? d1 / d2 : 0.0, hm = 0;
        for (int i = 0; i < l; i++)
            hm += s1[i] + alpha * s2[i];
        hm /= l;
        for (int i = 0; i < l; i++)
            h->hh[m + i] += s1[i] + alpha * s2[i] - hm;
    }
}

/* CHROM (de Haan & Jeanne 2013) on h->g[0..n): each channel over its centred
 * 1.6 s moving mean, X = 3R - 2G and Y = 1.5R + G - 1.5B band-passed over the
 * whole span, then per half-overlapping 1.6 s window S = Xf - (std Xf / std Yf)
 * Yf, Hann-weighted and overlap-added into h->hh. */
static void pulse_chrom(sm_heart *h, int n)
{
    int l = (int)lround(SM_HEART_WINDOW_S * SM_HEART_FS), half = l / 2;
    for (int i = 0; i < n; i++) {
        int a = i - half < 0 ? 0 : i - half, b = i + half >= n ? n - 1 : i + half;
        double mean[3] = {0, 0, 0};
        for (int c = 0; c < 3; c++) {
            for (int k = a; k <= b; k++)
                mean[c] += h->g[c][k];
            mean[c] /= (b - a + 1);
        }
        double r = h->g[0][i] / mean[0], g = h->g[1][i] / mean[1], bl = h->g[2][i] / mean[2];
        h->x[i] = 3.0 * r - 2.0 * g;
        h->y[i] = 1.5 * r + g - 1.5 * bl;
    }
    bandpass(h, h->x, n);
    bandpass(h, h->y, n);
    memset(h->hh, 0, (size_t)n * sizeof *h->hh);
    memset(h->wsum, 0, (size_t)n * sizeof *h->wsum);
    int step = half > 0 ? half : 1;
    for (int m = 0;; m += step) {
        int len = m + l <= n ? l : n - m;
        if (len < 4)
            break;
        double dx = stdev(h->x + m, len), dy = stdev(h->y + m, len);
        double alpha = dy > 0.0 ? dx / dy : 0.0;
        for (int i = 0; i < len; i++) {
            double w = 0.5 - 0.5 * cos(2.0 * M_PI * (i + 0.5) / len);
            h->hh[m + i] += w * (h->x[m + i] - alpha * h->y[m + i]);
            h->wsum[m + i] += w;
        }
        if (m + l >= n)
            break;
    }
    for (int i = 0; i < n; i++)
        if (h->wsum[i] > 1e-9)
            h->hh[i] /= h->wsum[i];
}

static double bin_hz(void)
{
    return SM_HEART_FS / SM_HEART_FFT_N;
}

/* Power spectrum of h->hh[0..n) after band-pass into h->one, normalised to unit
 * power in the band. Returns false on a flat signal. */
static bool spectrum(sm_heart *h, int n)
{
    bandpass(h, h->hh, n);
    sm_hann_power_spectrum(SM_HEART_FFT_N, h->hh, n, h->re, h->im, h->cos_t, h->sin_t);
    double df = bin_hz(), tot = 0;
    int k_lo = (int)ceil(SM_HEART_BAND_LO_HZ / df), k_hi = (int)floor(SM_HEART_BAND_HI_HZ / df);
    for (int k = 0; k < NBIN; k++) {
        h->one[k] = h->re[k];
        if (k >= k_lo && k <= k_hi)
            tot += h->one[k];
    }
    if (!(tot > 0.0) || !isfinite(tot))
        return false;
    for (int k = 0; k < NBIN; k++)
        h->one[k] = k >= k_lo && k <= k_hi ? h->one[k] / tot : 0.0;
    return true;
}

/* Peak, SNR and the strongest local maxima of spectrum p. */
static void analyse(const double *p, spectrum_est *e)
{
    double df = bin_hz();
    int k_lo = (int)ceil(SM_HEART_BAND_LO_HZ / df), k_hi = (int)floor(SM_HEART_BAND_HI_HZ / df);
    int kb_lo = (int)ceil(SM_HEART_BPM_MIN / 60.0 / df), kb_hi = (int)floor(SM_HEART_BPM_MAX / 60.0 / df);
    memset(e, 0, sizeof *e);
    sm_spectrum_peak pk = sm_spectrum_peak_find(p, df, kb_lo, kb_hi, k_lo, k_hi, SM_RPPG_SNR_HALF_BW_HZ);
    if (!(p[pk.k] > 0.0))
        return;
    e->ok = true;
    e->bpm = 60.0 * pk.f0_hz;
    e->snr_db = pk.snr_db;
    for (int k = kb_lo; k <= kb_hi; k++) {
        if (!(p[k] > 0.0) || (k > kb_lo && p[k] < p[k - 1]) || (k < kb_hi && p[k] <= p[k + 1]))
            continue;
        /* insert by power, keep the strongest MAX_PEAKS */
        int m = e->n_peaks < MAX_PEAKS ? e->n_peaks++ : MAX_PEAKS - 1;
        if (m == MAX_PEAKS - 1 && e->n_peaks == MAX_PEAKS && p[k] <= e->peak_p[m])
            continue;
        while (m > 0 && e->peak_p[m - 1] < p[k]) {
            e->peak_p[m] = e->peak_p[m - 1];
            e->peak_bpm[m] = e->peak_bpm[m - 1];
            m--;
        }
        e->peak_p[m] = p[k];
        e->peak_bpm[m] = 60.0 * k * df;
    }
    if (e->n_peaks > 0)
        e->peak_bpm[0] = e->bpm; /* the refined value for the strongest */
}

static void estimate(sm_heart *h)
{
    h->est[0].ok = h->est[1].ok = false;
    if (h->win.n < 2)
        return;
    double t_last = at(h, h->win.n - 1)->t;
    if (t_last - h->t_start < SM_HEART_MIN_RAW_S)
        return;
    double span = fmin(t_last - at(h, 0)->t, SM_HEART_SPECTRUM_S);
    int n_g = (int)floor(span * SM_HEART_FS) + 1;
    if (n_g > GRID_MAX)
        n_g = GRID_MAX;
    if (n_g < 16)
        return;
    /* regions present over the whole window */
    double t_first = t_last - (n_g - 1) / SM_HEART_FS;
    bool use[SM_HEART_NREG] = {true, true, true};
    double npix[SM_HEART_NREG] = {0, 0, 0};
    int cnt = 0;
    for (size_t i = 0; i < h->win.n; i++) {
        const sm_heart_sample *s = at(h, i);
        if (i + 1 < h->win.n && at(h, i + 1)->t < t_first)
            continue;
        cnt++;
        for (int r = 0; r < SM_HEART_NREG; r++) {
            use[r] = use[r] && region_ok(s, r);
            npix[r] += s->n[r];
        }
    }
    int n_use = 0;
    for (int r = 0; r < SM_HEART_NREG; r++)
        n_use += use[r];
    if (n_use == 0)
        return;
    memset(h->acc, 0, sizeof h->acc);
    bool any[2] = {false, false};
    int n_src = h->cfg.pooled ? 1 : SM_HEART_NREG;
    for (int r = 0; r < n_src; r++) {
        if (!h->cfg.pooled && !use[r])
            continue;
        resample(h, h->cfg.pooled ? -1 : r, use, n_g);
        despike(h, n_g);
        for (int m = 0; m < 2; m++) {
            if (m == SM_HEART_POS)
                pulse_pos(h, n_g);
            else
                pulse_chrom(h, n_g);
            if (!spectrum(h, n_g))
                continue;
            double w = 1.0;
            if (!h->cfg.pooled) {
                spectrum_est e;
                analyse(h->one, &e);
                double snr = e.ok ? pow(10.0, e.snr_db / 10.0) : 0.0;
                w = npix[r] / cnt * snr;
            }
            for (int k = 0; k < NBIN; k++)
                h->acc[m][k] += w * h->one[k];
            any[m] = any[m] || w > 0.0;
        }
    }
    for (int m = 0; m < 2; m++)
        if (any[m])
            analyse(h->acc[m], &h->est[m]);
}

/* ---- tracker ------------------------------------------------------------------------------- */

static double lock_on(const spectrum_est *e)
{
    double f = e->bpm, pf = e->peak_p[0];
    for (int i = 1; i < e->n_peaks; i++)
        if (fabs(e->peak_bpm[i] - 0.5 * f) <= 4.0 && e->peak_p[i] >= 0.4 * pf &&
            e->peak_bpm[i] >= SM_HEART_BPM_MIN)
            return e->peak_bpm[i];
    return f;
}

/* Returns false when the reading has to be withdrawn (re-lock). */
static bool track(sm_heart *h, const spectrum_est *e, double t)
{
    if (!h->locked) {
        h->locked = true;
        h->track = lock_on(e);
        h->track_t = t;
        h->off_since = NAN;
        return true;
    }
    double best = e->peak_bpm[0], pmax = e->peak_p[0], cand = best;
    for (int i = 0; i < e->n_peaks; i++)
        if (e->peak_p[i] >= SM_HEART_TRACK_REL * pmax &&
            fabs(e->peak_bpm[i] - h->track) < fabs(cand - h->track))
            cand = e->peak_bpm[i];
    if (fabs(best - h->track) > 10.0) {
        if (isnan(h->off_since))
            h->off_since = t;
        else if (t - h->off_since >= SM_HEART_RELOCK_S) {
            h->locked = false;
            track(h, e, t);
            return false;
        }
    } else {
        h->off_since = NAN;
    }
    double dt = fmax(t - h->track_t, 0.0), lim = SM_HEART_SLEW * dt;
    double d = cand - h->track;
    h->track += d > lim ? lim : (d < -lim ? -lim : d);
    h->track_t = t;
    return true;
}

/* ---- per frame ------------------------------------------------------------------------------ */

static void heart_step(sm_heart *h, const sm_heart_sample *s, sm_heart_reading *out);

void sm_heart_push(sm_heart *h, const sm_heart_sample *s, sm_heart_reading *out)
{
    /* a repeated, reordered or non-finite timestamp carries no new time: the
     * frame is dropped and the previous answer repeated; many in a row mean
     * the camera stalled, and whatever was shown is stale from then on */
    if (!isfinite(s->t) || (h->have_now && s->t <= h->now)) {
        h->frozen++;
        *out = h->last;
        if (h->frozen >= SM_HEART_FROZEN_FRAMES) {
            out->valid = false;
            out->reason = "camera stalled";
            out->stale = isfinite(out->bpm);
            h->open = false;
        }
        return;
    }
    h->frozen = 0;
    h->now = s->t;
    h->have_now = true;
    heart_step(h, s, out);
    h->last = *out;
}

static void heart_step(sm_heart *h, const sm_heart_sample *s, sm_heart_reading *out)
{
    memset(out, 0, sizeof *out);
    out->bpm_pos = out->snr_pos_db = out->bpm_chrom = out->snr_chrom_db = NAN;
    out->bpm = out->quality = NAN;
    out->source = sm_heart_method_name(h->cfg.method);
    out->motion = out->light = out->face_px = NAN;

    bool withdrawn = false;
    const char *reason = NULL;
    bool usable = sample_usable(s);
    if (!usable) {
        segment_reset(h);
        if (isnan(h->lost_t))
            h->lost_t = s->t;
    } else {
        if (h->win.n > 0 && (is_break(at(h, h->win.n - 1), s) || is_step(h, s)))
            segment_reset(h);
        /* a long absence may be another person: forget the tracked rate */
        if (!isnan(h->lost_t) && s->t - h->lost_t > 10.0)
            h->locked = false;
        h->lost_t = NAN;
        append(h, s);
        if (s->t >= h->next_est || !h->est[h->cfg.method].ok) {
            estimate(h);
            h->next_est = s->t + SM_HEART_EST_PERIOD;
            const spectrum_est *e = &h->est[h->cfg.method];
            if (e->ok && e->n_peaks > 0) {
                withdrawn = !track(h, e, s->t);
                /* noise peaks wander; a pulse stays where the tracker is */
                if (fabs(e->bpm - h->track) > 6.0 || withdrawn)
                    h->agree_since = NAN;
                else if (isnan(h->agree_since))
                    h->agree_since = s->t;
            } else {
                h->agree_since = NAN;
            }
        }
    }

    /* what this frame shows */
    bool have_seg = h->win.n > 0 && usable;
    if (have_seg) {
        out->signal_s = at(h, h->win.n - 1)->t - h->t_start;
        out->motion = motion(h);
    }
    if (h->est[0].ok) {
        out->bpm_pos = h->est[0].bpm;
        out->snr_pos_db = h->est[0].snr_db;
    }
    if (h->est[1].ok) {
        out->bpm_chrom = h->est[1].bpm;
        out->snr_chrom_db = h->est[1].snr_db;
    }
    out->light = s->light;
    out->face_px = s->box[2];
    int npx = 0;
    for (int r = 0; r < SM_HEART_NREG; r++)
        npx += s->n[r] > 0 ? s->n[r] : 0;

    const spectrum_est *e = &h->est[h->cfg.method];
    double snr_min = SM_HEART_MIN_SNR_DB - (h->open ? 2.0 : 0.0); /* hysteresis */
    if (!s->face)
        reason = "no face";
    else if (!(s->box[2] >= SM_HEART_MIN_FACE_PX) || npx < SM_HEART_MIN_PIXELS)
        reason = "face too small";
    else if (!(s->light >= SM_HEART_MIN_LIGHT))
        reason = "too dark";
    else if (!(s->sat <= SM_HEART_MAX_SAT))
        reason = "too bright";
    else if (!have_seg)
        reason = "no face";
    else if (out->motion > SM_HEART_MAX_MOTION)
        reason = "hold still";
    else if (out->signal_s > 2.0 &&
             (double)(h->win.n - 1) / (at(h, h->win.n - 1)->t - at(h, 0)->t) < SM_HEART_MIN_FPS)
        reason = "frame rate too low";
    else if (out->signal_s < SM_HEART_MIN_CLEAN_S) {
        int left = (int)ceil(SM_HEART_MIN_CLEAN_S - out->signal_s);
        reason = collecting[left < 1 ? 1 : (left > 10 ? 10 : left)];
    } else if (!e->ok || !h->locked)
        reason = "weak signal";
    else if (withdrawn)
        reason = "signal unsteady";
    else if (e->snr_db < snr_min || isnan(h->agree_since) || s->t - h->agree_since < SM_HEART_AGREE_S)
        reason = "weak signal";

    if (e->ok) {
        double q = (e->snr_db - SM_HEART_MIN_SNR_DB) / SM_HEART_SNR_SPAN_DB;
        if (have_seg)
            q *= fmax(0.0, 1.0 - out->motion / (2.0 * SM_HEART_MAX_MOTION));
        out->quality = q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
    } else {
        out->quality = 0.0;
    }
    h->open = reason == NULL;
    if (withdrawn)
        h->have_shown = false; /* the old value is not the new person's / rate */
    if (!reason) {
        h->have_shown = true;
        h->shown_bpm = h->track;
        h->shown_t = h->now;
        out->valid = true;
        out->bpm = h->track;
        out->age_s = 0.0;
        return;
    }
    out->reason = reason;
    if (h->have_shown) {
        out->age_s = h->now - h->shown_t;
        if (out->age_s > SM_HEART_FORGET_S) {
            h->have_shown = false;
        } else {
            out->bpm = h->shown_bpm;
            out->stale = out->age_s > SM_HEART_STALE_S;
        }
    }
}

/* ---- measurement ---------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *rgb;
    size_t stride;
    double all[3], skin[3], luma, luma_all;
    size_t n_all, n_skin, n_sat, n_sat_all;
} region_acc;

static void region_pixel(void *ctx, int x, int y)
{
    region_acc *a = ctx;
    const uint8_t *px = a->rgb + (size_t)y * a->stride + 3 * (size_t)x;
    double r = px[0], g = px[1], b = px[2];
    double yl = 0.299 * r + 0.587 * g + 0.114 * b;
    bool sat = px[0] >= 250 || px[1] >= 250 || px[2] >= 250;
    a->all[0] += r; a->all[1] += g; a->all[2] += b;
    a->luma_all += yl;
    a->n_sat_all += sat;
    a->n_all++;
    /* the same loose YCbCr skin box as rppg_pos.c (hair, brows, shadows out) */
    double cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    double cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    if (yl > 40.0 && cb >= 77.0 && cb <= 127.0 && cr >= 133.0 && cr <= 173.0) {
        a->skin[0] += r; a->skin[1] += g; a->skin[2] += b;
        a->luma += yl;
        a->n_sat += sat;
        a->n_skin++;
    }
}

#define REGION_MIN_SKIN 20

void sm_heart_measure(const uint8_t *rgb, int width, int height, size_t stride, const float *pts,
                      int n_points, int pt_stride, sm_heart_sample *s)
{
    double t = s->t, net = s->bpm_net;
    memset(s, 0, sizeof *s);
    s->t = t;
    s->bpm_net = net;
    s->light = s->sat = NAN;
    if (!rgb || !pts || n_points < 468 || pt_stride < 2 || width <= 0 || height <= 0 ||
        stride < 3 * (size_t)width)
        return;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < n_points; i++) {
        double x = pts[(size_t)i * pt_stride], y = pts[(size_t)i * pt_stride + 1];
        if (!isfinite(x) || !isfinite(y))
            return;
        x0 = fmin(x0, x); x1 = fmax(x1, x);
        y0 = fmin(y0, y); y1 = fmax(y1, y);
    }
    s->box[0] = x0; s->box[1] = y0; s->box[2] = x1 - x0; s->box[3] = y1 - y0;
    const int *polys[SM_HEART_NREG] = {sm_pos_forehead_idx, sm_pos_right_cheek_idx, sm_pos_left_cheek_idx};
    const int counts[SM_HEART_NREG] = {SM_POS_N_FOREHEAD, SM_POS_N_CHEEK, SM_POS_N_CHEEK};
    double luma = 0, sat = 0;
    size_t total = 0;
    for (int q = 0; q < SM_HEART_NREG; q++) {
        double xy[2 * SM_POS_N_FOREHEAD];
        for (int i = 0; i < counts[q]; i++) {
            size_t o = (size_t)polys[q][i] * (size_t)pt_stride;
            xy[2 * i] = pts[o];
            xy[2 * i + 1] = pts[o + 1];
        }
        region_acc a = {rgb, stride, {0, 0, 0}, {0, 0, 0}, 0, 0, 0, 0, 0, 0};
        sm_polygon_rasterize(xy, counts[q], width, height, region_pixel, &a);
        /* too few skin-coloured pixels (dark, odd light): the whole polygon */
        bool skin = a.n_skin >= REGION_MIN_SKIN;
        size_t n = skin ? a.n_skin : a.n_all;
        if (n == 0)
            continue;
        const double *sum = skin ? a.skin : a.all;
        for (int c = 0; c < 3; c++)
            s->rgb[q][c] = sum[c] / (double)n;
        s->n[q] = (int)(n > 1000000000u ? 1000000000u : n);
        luma += skin ? a.luma : a.luma_all;
        sat += (double)(skin ? a.n_sat : a.n_sat_all);
        total += n;
    }
    if (total == 0)
        return;
    s->face = true;
    s->light = luma / (double)total;
    s->sat = sat / (double)total;
}

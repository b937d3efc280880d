/* See rppg_dsp.h. */
#include "rppg_dsp.h"

#include <math.h>
#include <string.h>

sm_biquad sm_biquad_butter(double f0, double fs, bool highpass)
{
    double w = 2.0 * M_PI * f0 / fs, cw = cos(w), alpha = sin(w) / (2.0 * M_SQRT1_2);
    double a0 = 1.0 + alpha;
    sm_biquad q;
    if (highpass) {
        q.b0 = (1.0 + cw) / 2.0 / a0;
        q.b1 = -(1.0 + cw) / a0;
    } else {
        q.b0 = (1.0 - cw) / 2.0 / a0;
        q.b1 = (1.0 - cw) / a0;
    }
    q.b2 = q.b0;
    q.a1 = -2.0 * cw / a0;
    q.a2 = (1.0 - alpha) / a0;
    return q;
}

void sm_biquad_run(const sm_biquad *q, double *x, int n, int dir)
{
    double z1 = 0.0, z2 = 0.0;
    for (int k = 0; k < n; k++) {
        int i = dir > 0 ? k : n - 1 - k;
        double in = x[i];
        double o = q->b0 * in + z1;
        z1 = q->b1 * in - q->a1 * o + z2;
        z2 = q->b2 * in - q->a2 * o;
        x[i] = o;
    }
}

void sm_fft_twiddles(int n, double *cos_t, double *sin_t)
{
    for (int k = 0; k < n / 2; k++) {
        double a = -2.0 * M_PI * k / n;
        cos_t[k] = cos(a);
        sin_t[k] = sin(a);
    }
}

void sm_fft(int n, double *re, double *im, const double *cos_t, const double *sin_t)
{
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        int step = n / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = cos_t[k * step], wi = sin_t[k * step];
                int a = i + k, b = a + len / 2;
                double xr = re[b] * wr - im[b] * wi;
                double xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
    }
}

void sm_hann_power_spectrum(int n_fft, const double *x, int n, double *re, double *im,
                            const double *cos_t, const double *sin_t)
{
    memset(re, 0, (size_t)n_fft * sizeof *re);
    memset(im, 0, (size_t)n_fft * sizeof *im);
    for (int i = 0; i < n; i++)
        re[i] = x[i] * (0.5 - 0.5 * cos(2.0 * M_PI * (i + 0.5) / n));
    sm_fft(n_fft, re, im, cos_t, sin_t);
    for (int k = 0; k <= n_fft / 2; k++)
        re[k] = re[k] * re[k] + im[k] * im[k];
}

sm_spectrum_peak sm_spectrum_peak_find(const double *p, double df, int kb_lo, int kb_hi, int k_lo,
                                       int k_hi, double half_bw)
{
    int kp = kb_lo;
    for (int k = kb_lo; k <= kb_hi; k++)
        if (p[k] > p[kp])
            kp = k;
    double f0 = kp * df;
    if (kp > kb_lo && kp < kb_hi && p[kp] > 0.0) {
        double la = log(p[kp - 1] + 1e-300), lb = log(p[kp]), lc = log(p[kp + 1] + 1e-300);
        double den = la - 2.0 * lb + lc;
        if (den < 0.0) {
            double d = 0.5 * (la - lc) / den;
            if (d > -1.0 && d < 1.0)
                f0 = (kp + d) * df;
        }
    }
    double sig = 0.0, noise = 0.0;
    for (int k = k_lo; k <= k_hi; k++) {
        double f = k * df;
        if (fabs(f - f0) <= half_bw || fabs(f - 2.0 * f0) <= half_bw)
            sig += p[k];
        else
            noise += p[k];
    }
    return (sm_spectrum_peak){.k = kp, .f0_hz = f0, .snr_db = 10.0 * log10((sig + 1e-30) / (noise + 1e-30))};
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

double sm_kth_smallest(double *x, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (hi - lo > 8) {
        /* median of three as the pivot, moved to hi; then Lomuto's partition,
         * with the values equal to the pivot split evenly so that a window of
         * equal values (a frozen camera) stays linear */
        int mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo])
            swap_d(&x[mid], &x[lo]);
        if (x[hi] < x[lo])
            swap_d(&x[hi], &x[lo]);
        if (x[hi] < x[mid])
            swap_d(&x[hi], &x[mid]);
        swap_d(&x[mid], &x[hi]);
        double pivot = x[hi];
        int store = lo;
        bool equal_left = false;
        for (int i = lo; i < hi; i++)
            if (x[i] < pivot || (x[i] == pivot && (equal_left = !equal_left)))
                swap_d(&x[i], &x[store++]);
        swap_d(&x[store], &x[hi]);
        if (k == store)
            return x[k];
        if (k < store)
            hi = store - 1;
        else
            lo = store + 1;
    }
    /* a few left: insertion sort */
    for (int i = lo + 1; i <= hi; i++) {
        double v = x[i];
        int j = i;
        for (; j > lo && x[j - 1] > v; j--)
            x[j] = x[j - 1];
        x[j] = v;
    }
    return x[k];
}

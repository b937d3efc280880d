/* Small signal-processing pieces shared by the rPPG estimators (rppg_pos.c,
 * heart.c): RBJ biquads run forward or backward (zero-phase when run both
 * ways), a radix-2 complex FFT on caller-owned twiddle tables, the windowed
 * power spectrum and its peak. No allocation. */
#ifndef SM_RPPG_DSP_H
#define SM_RPPG_DSP_H

#include <stdbool.h>

typedef struct {
    double b0, b1, b2, a1, a2;
} sm_biquad;

/* 2nd-order Butterworth (Q = 1/sqrt 2) high- or low-pass at f0 Hz, rate fs Hz. */
sm_biquad sm_biquad_butter(double f0, double fs, bool highpass);
/* Runs q over x[0..n) in place, forward (dir > 0) or backward (direct form II
 * transposed, zero initial state). */
void sm_biquad_run(const sm_biquad *q, double *x, int n, int dir);

/* Twiddles for an n-point FFT (n a power of two): cos_t/sin_t[k] =
 * cos/sin(-2 pi k / n), k < n / 2. */
void sm_fft_twiddles(int n, double *cos_t, double *sin_t);
/* In-place forward FFT of (re, im)[0..n). */
void sm_fft(int n, double *re, double *im, const double *cos_t, const double *sin_t);

/* Power spectrum of x[0..n) (n <= n_fft) under a Hann window, zero-padded to n_fft:
 * re[k] = |X_k|^2 for k <= n_fft / 2 (re, im: n_fft entries; im is left scratch). */
void sm_hann_power_spectrum(int n_fft, const double *x, int n, double *re, double *im,
                            const double *cos_t, const double *sin_t);

/* The k-th smallest of x[0..n) (0 <= k < n; finite values), reordering x: what
 * x[k] would be after sorting, found in O(n) on average. The rPPG medians run on
 * every frame, where sorting the whole window cost more than the estimate itself. */
double sm_kth_smallest(double *x, int n, int k);

/* The half-width of the pulse's band in the SNR of every rPPG estimator here (de
 * Haan's SNR: +-0.1 Hz around f0 and 2 f0), so their qualities compare. */
#define SM_RPPG_SNR_HALF_BW_HZ 0.1

/* The pulse in a power spectrum p (bin width df Hz): the strongest bin k within
 * [kb_lo, kb_hi] (the plausible heart rates), its frequency refined by a parabola
 * through the log powers of it and its two neighbours (when it is inside the range,
 * positive, and the parabola opens downwards), and the SNR: the power within half_bw
 * Hz of f0 and of 2 f0 over the rest of [k_lo, k_hi] (the pass band), in dB. */
typedef struct {
    int k;         /* the strongest bin */
    double f0_hz;  /* refined frequency */
    double snr_db;
} sm_spectrum_peak;
sm_spectrum_peak sm_spectrum_peak_find(const double *p, double df, int kb_lo, int kb_hi, int k_lo,
                                       int k_hi, double half_bw);

#endif

/* Small signal-processing pieces shared by the rPPG estimators (rppg_pos.c,
 * heart.c): RBJ biquads run forward or backward (zero-phase when run both
 * ways), a radix-2 complex FFT on caller-owned twiddle tables. No allocation. */
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

#endif

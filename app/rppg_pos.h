/* Heart rate from video, two ways (DESIGN 7.3).
 *
 * 1. POS, "Plane-Orthogonal-to-Skin" (Wang, den Brinker, Stuijk, de Haan,
 *    "Algorithmic principles of remote PPG", IEEE TBME 2017), on the mean RGB of
 *    skin pixels inside three landmark polygons (forehead, both cheeks: they
 *    leave out eyes, brows, nostrils and mouth).
 *      trace     one mean-RGB sample per frame with its real timestamp; a gap
 *                longer than SM_POS_MAX_GAP s, a face loss, or a jump of the
 *                mean colour by more than SM_POS_MAX_JUMP (relative, motion or
 *                a lighting switch) restarts the trace (graceful: no reading
 *                until SM_POS_MIN_SIGNAL_S of new signal).
 *      estimate  the last SM_POS_SPECTRUM_S s are resampled linearly onto a
 *                uniform SM_POS_FS grid; POS on sliding windows of 1.6 s (each
 *                channel divided by its window mean, S1 = G - B,
 *                S2 = G + B - 2R, h = S1 + (std S1 / std S2) S2, zero-mean),
 *                overlap-added; zero-phase band-pass 0.7-3.5 Hz (2nd-order
 *                Butterworth high- and low-pass, forward and backward);
 *                Hann window, zero-padded FFT, peak in 42-210 BPM refined by
 *                parabolic interpolation of the log power.
 *      quality   SNR in dB: power within +-SM_RPPG_SNR_HALF_BW_HZ (rppg_dsp.h) of the peak
 *                and of its first harmonic over the rest of 0.7-3.5 Hz.
 *
 * 2. The seed's UltraLightNet input (app.py extract_rppg_frame): centre square
 *    crop of the whole frame, bilinear resize to 36x36 with pixel centres
 *    aligned (cv2.resize INTER_LINEAR), /255, RGB, a ring of 180 frames;
 *    a reading is due on every 10th frame pushed once the ring is full. The
 *    network itself is a callback (sm_rppg_net_fn) so that this file does not
 *    depend on the model runner. */
#ifndef SM_RPPG_POS_H
#define SM_RPPG_POS_H

#include "sm_engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_POS_FS 30.0              /* resampling rate, Hz */
#define SM_POS_WINDOW_S 1.6
#define SM_POS_SPECTRUM_S 10.0
#define SM_POS_MIN_SIGNAL_S 5.0
#define SM_POS_BAND_LO_HZ 0.7
#define SM_POS_BAND_HI_HZ 3.5
#define SM_POS_BPM_MIN 42.0
#define SM_POS_BPM_MAX 210.0
#define SM_POS_MAX_GAP 0.5          /* s */
#define SM_POS_MAX_JUMP 0.15
#define SM_POS_FFT_N 4096
#define SM_POS_MIN_PIXELS 50

/* FaceMesh indices of the skin polygons (vertex order around each polygon). */
#define SM_POS_N_FOREHEAD 12
#define SM_POS_N_CHEEK 7
extern const int sm_pos_forehead_idx[SM_POS_N_FOREHEAD];
extern const int sm_pos_right_cheek_idx[SM_POS_N_CHEEK];
extern const int sm_pos_left_cheek_idx[SM_POS_N_CHEEK];

typedef struct {
    bool valid;          /* >= 5 s of uninterrupted signal */
    double bpm;
    double quality_db;
    double signal_s;     /* length of the current trace */
} sm_pos_reading;

typedef struct sm_pos sm_pos;

sm_status sm_pos_init(sm_pos **out, sm_error *err);
void sm_pos_free(sm_pos *pos);
void sm_pos_reset(sm_pos *pos);
/* Trace level: one mean RGB (any positive scale) at time t (s). Non-finite or
 * non-positive values count as a face loss. */
void sm_pos_push_rgb(sm_pos *pos, double t, const double rgb[3]);
/* No face in this frame: restarts the trace. */
void sm_pos_lost(sm_pos *pos);
/* Computes a reading from the current trace (does not change it). */
void sm_pos_estimate(sm_pos *pos, sm_pos_reading *out);

/* Mean RGB of the skin pixels inside the three polygons. rgb: packed RGB8
 * rows of `stride` bytes; pts as in sm_fatigue_features_compute (x, y in frame
 * pixels, point i at pts[i*pt_stride]). Pixels must also pass a loose YCbCr
 * skin test unless fewer than SM_POS_MIN_PIXELS do, then all polygon pixels
 * count. Returns the number of pixels averaged (0 = no usable region). */
size_t sm_pos_skin_mean(const uint8_t *rgb, int width, int height, size_t stride,
                        const float *pts, int n_points, int pt_stride, double mean_rgb[3]);
/* sm_pos_skin_mean + sm_pos_push_rgb (or sm_pos_lost when the region is empty). */
void sm_pos_push_frame(sm_pos *pos, double t, const uint8_t *rgb, int width, int height,
                       size_t stride, const float *pts, int n_points, int pt_stride);

/* Pixel centres inside a polygon (even-odd rule), clipped to the frame:
 * calls fn(ctx, x, y) for each. Exposed for tests. */
void sm_polygon_rasterize(const double *xy, int n_vertices, int width, int height,
                          void (*fn)(void *ctx, int x, int y), void *ctx);

/* ---- UltraLightNet input buffer ------------------------------------------------ */

#define SM_RPPG_NET_SIZE 36
#define SM_RPPG_NET_FRAMES 180
#define SM_RPPG_NET_EVERY 10

/* frames: [T][36][36][3] floats in [0,1], RGB, oldest first. */
typedef sm_status (*sm_rppg_net_fn)(void *ctx, const float *frames, int n_frames, float *bpm,
                                    sm_error *err);

typedef struct sm_rppg_frames sm_rppg_frames;

sm_status sm_rppg_frames_init(sm_rppg_frames **out, sm_error *err);
void sm_rppg_frames_free(sm_rppg_frames *b);
void sm_rppg_frames_reset(sm_rppg_frames *b);
/* Adds one frame (packed RGB8); returns true when a reading is due now
 * (app.py: buffer full and frame count % 10 == 0, counting from 1). */
bool sm_rppg_frames_push(sm_rppg_frames *b, const uint8_t *rgb, int width, int height,
                         size_t stride);
int sm_rppg_frames_count(const sm_rppg_frames *b);   /* frames held, <= 180 */
/* The ring in time order, [count][36][36][3]; valid until the next push. */
const float *sm_rppg_frames_ordered(sm_rppg_frames *b);
/* The seed's preprocessing of one frame into out[36][36][3]. */
void sm_rppg_preprocess(const uint8_t *rgb, int width, int height, size_t stride, float *out);

#endif

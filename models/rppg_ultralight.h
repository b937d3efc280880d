/*
 * rppg_ultralight.h: the seed's UltraLightNet heart-rate regressor
 * (SEED_MODELS.md section 6) on the sm_kernels ops, float32.
 *
 *   per frame (S x S RGB, S = input.size = 36):
 *     conv.0 5x5 s2 p2 3->16 + bias, ReLU, maxpool 2   36 -> 18 -> 9
 *     conv.3 3x3 s1 p1 16->32 + bias, ReLU, maxpool 3   9 -> 9 -> 3
 *     flatten in PyTorch's C,H,W order -> 288 features
 *   mean of the features over the T frames
 *   fc.0 288->64 ReLU, fc.3 64->32 ReLU, fc.5 32->1 = BPM (Dropout is identity in eval)
 *
 * .smw convention (smw-convert, architecture "ultralight_rppg"): tensors
 * conv.0.weight [16,3,5,5], conv.0.bias, conv.3.weight [32,16,3,3], conv.3.bias,
 * fc.0.weight [64,288], fc.0.bias, fc.3.weight [32,64], fc.3.bias, fc.5.weight
 * [1,32], fc.5.bias, f32; metadata input.size u32 (36), input.frames u32 (180),
 * input.mean / input.std f32[3] (0 / 1; applied by sm_ultralight_preprocess only).
 *
 * Two ways to run, with identical results for the same frames:
 *   full:        sm_ultralight_run_nhwc / _nchw over T >= 1 frames (frames are
 *                split over the pool's threads);
 *   incremental: a stream keeps the 288-d features of the last `window` frames
 *                in a ring; push computes only the new frame, a reading sums the
 *                ring oldest-first (the same order as the full path) and runs the
 *                fc head. A subtracting running sum would drift in float32, so
 *                the ring is re-summed (window x 288 adds, microseconds).
 * Buffers are allocated at load / stream init; running never allocates. One call
 * at a time per model.
 */
#ifndef SM_RPPG_ULTRALIGHT_H
#define SM_RPPG_ULTRALIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer_time.h"
#include "sm_engine.h"

#define SM_ULTRALIGHT_ARCH "ultralight_rppg"
#define SM_ULTRALIGHT_FEATURES 288
#define SM_ULTRALIGHT_MAX_FRAMES 100000 /* longest window a stream accepts */

typedef struct sm_ultralight sm_ultralight;
typedef struct sm_ultralight_stream sm_ultralight_stream;

/* pool: borrowed (may be NULL), must outlive the model. */
sm_status sm_ultralight_load(const sm_smw *f, sm_threadpool *pool, sm_ultralight **out,
                             sm_error *err);
sm_status sm_ultralight_load_file(const char *path, sm_threadpool *pool, sm_ultralight **out,
                                  sm_error *err);
void sm_ultralight_free(sm_ultralight *m);

uint32_t sm_ultralight_input_size(const sm_ultralight *m); /* input.size, 36 */
uint32_t sm_ultralight_frames(const sm_ultralight *m);     /* input.frames, 180 */

/* frames: T x S x S x 3 (NHWC, oldest first), RGB in [0,1] (the network input). */
sm_status sm_ultralight_run_nhwc(sm_ultralight *m, const float *frames, size_t t, float *bpm,
                                 sm_error *err);
/* frames: T x 3 x S x S (the seed's [T,C,H,W] per batch item). */
sm_status sm_ultralight_run_nchw(sm_ultralight *m, const float *frames, size_t t, float *bpm,
                                 sm_error *err);
/* Adapter with the signature of rppg_pos.h's sm_rppg_net_fn (ctx = the model). */
sm_status sm_ultralight_net_fn(void *ctx, const float *frames, int n_frames, float *bpm,
                               sm_error *err);

/* window 0 = input.frames. */
sm_status sm_ultralight_stream_init(const sm_ultralight *m, size_t window,
                                    sm_ultralight_stream **out, sm_error *err);
void sm_ultralight_stream_free(sm_ultralight_stream *s);
void sm_ultralight_stream_reset(sm_ultralight_stream *s);
/* Adds one S x S x 3 NHWC frame (the oldest drops out when the ring is full). */
void sm_ultralight_stream_push(sm_ultralight_stream *s, sm_ultralight *m, const float *frame);
size_t sm_ultralight_stream_count(const sm_ultralight_stream *s);
/* BPM over the frames held; SM_ERR_ARG when there are none. */
sm_status sm_ultralight_stream_bpm(const sm_ultralight_stream *s, sm_ultralight *m, float *bpm,
                                   sm_error *err);

/* The seed's per-frame preprocessing (app.py extract_rppg_frame): centre square
 * crop of the frame, bilinear resize to S x S (cv2 INTER_LINEAR: half-pixel
 * centres, result rounded to 8 bits), /255, (x - mean) / std. out: S*S*3. */
void sm_ultralight_preprocess(const sm_ultralight *m, const uint8_t *rgb, int width, int height,
                              size_t stride, float *out);

/* Per-layer timing for smw-bench (conv.0, pool, conv.3, pool per frame summed;
 * mean; fc). Enabling resets. */
void sm_ultralight_profile(sm_ultralight *m, bool enable);
size_t sm_ultralight_layer_times(const sm_ultralight *m, const sm_layer_time **out);
double sm_ultralight_flops(const sm_ultralight *m, size_t t);

#endif

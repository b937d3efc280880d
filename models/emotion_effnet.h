/*
 * emotion_effnet.h: NovelEmotionModel (the seed's emotion network) on the
 * sm_kernels ops, float32, NHWC, batch 1.
 *
 *   x  = input + 0.2 * conv(relu(conv(input)))        MicroExpEnhancer
 *   f  = mean_hw(EfficientNet-B3 features(x))          1536-d, timm efficientnet_b3
 *        (symmetric PyTorch padding, BN eps 1e-5 folded at load, SiLU, SE with
 *        the squeeze width from the block input, skips where stride 1 and in == out)
 *   g  = softmax(gate(f))                              2 experts
 *   r  = g0 * relu(upper(f)) + g1 * relu(lower(f))     512-d
 *   logits = head_emotion(r), valence = head_valence(r), arousal = head_arousal(r)
 * SEED_MODELS.md sections 2-4 give the exact semantics.
 *
 * .smw convention (smw-convert, architecture "novel_emotion_effnet_b3"): the
 * state_dict names without "module.", PyTorch layouts (conv OIHW, Linear [out,in]),
 * f32 (num_batches_tracked i64 scalars, ignored); metadata emotion.labels
 * (string[n_classes]), input.size u32, input.mean / input.std f32[3]. Every
 * tensor is looked up and shape-checked at load; errors name the file, the
 * tensor, expected and found. The model copies (repacks) all weights, so the
 * sm_smw may be freed after loading.
 *
 * Buffers are planned at load for input.size x input.size (and grown by
 * sm_emotion_reserve); sm_emotion_run never allocates. One run at a time per
 * model (it owns its scratch); use one model per thread otherwise.
 */
#ifndef SM_EMOTION_EFFNET_H
#define SM_EMOTION_EFFNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer_time.h"
#include "sm_engine.h"

#define SM_EMOTION_ARCH "novel_emotion_effnet_b3"
#define SM_EMOTION_MAX_CLASSES 16
#define SM_EMOTION_FEATURES 1536
#define SM_EMOTION_MAX_INPUT 2048 /* largest input side accepted */

typedef struct sm_emotion sm_emotion;

typedef struct {
    int n_classes;
    float logits[SM_EMOTION_MAX_CLASSES];
    float probs[SM_EMOTION_MAX_CLASSES]; /* softmax(logits) */
    float valence, arousal;
    float gate[2];                       /* softmax of the routing gate */
    float features[SM_EMOTION_FEATURES]; /* pooled backbone output */
} sm_emotion_output;

/* pool: the threads to run on (borrowed, may be NULL = caller's thread only);
 * it must outlive the model. The ISA level is fixed at load (sm_isa_active()). */
sm_status sm_emotion_load(const sm_smw *f, sm_threadpool *pool, sm_emotion **out, sm_error *err);
sm_status sm_emotion_load_file(const char *path, sm_threadpool *pool, sm_emotion **out,
                               sm_error *err);
void sm_emotion_free(sm_emotion *m);

/* Makes run() accept inputs up to h x w (allocates; load reserves input.size). */
sm_status sm_emotion_reserve(sm_emotion *m, size_t h, size_t w, sm_error *err);

/* in: h x w x 3 NHWC float, the network's input (RGB, already /255 and
 * normalised with input.mean/std; with the default metadata simply RGB in
 * [0,1]). SM_ERR_SHAPE when h or w is 0 or beyond the reserved size. */
sm_status sm_emotion_run(sm_emotion *m, const float *in, size_t h, size_t w,
                         sm_emotion_output *out, sm_error *err);

int sm_emotion_n_classes(const sm_emotion *m);
const char *sm_emotion_label(const sm_emotion *m, int i); /* NUL-terminated copy */
uint32_t sm_emotion_input_size(const sm_emotion *m);      /* input.size (300) */

/* app.py crop_face_from_landmarks (expand 1.0) on a landmark bounding box in
 * pixels: the crop [x1, x2) x [y1, y2) of a width x height frame. Returns false
 * when the crop is empty (app.py returns None). */
bool sm_emotion_crop_box(float x_min, float y_min, float x_max, float y_max, int width,
                         int height, int box[4]);

/* The app's preprocessing of the crop [x1, x2) x [y1, y2) (box as above) of a
 * packed RGB8 image: bilinear resize to input.size (cv2.resize INTER_LINEAR
 * semantics: half-pixel centres, edge clamp, result rounded to 8 bits), x/255,
 * (x - mean) / std. dst: input.size^2 * 3 floats (NHWC). */
sm_status sm_emotion_preprocess_rgb8(const sm_emotion *m, const uint8_t *rgb, int width,
                                     int height, size_t stride, const int box[4], float *dst,
                                     sm_error *err);
/* Preprocess into the model's own buffer, then run. */
sm_status sm_emotion_run_rgb8(sm_emotion *m, const uint8_t *rgb, int width, int height,
                              size_t stride, const int box[4], sm_emotion_output *out,
                              sm_error *err);

/* Called during run after the stem, after the last block of each stage and
 * after the head (names "stem", "stage0".."stage6", "head"), with the NHWC map. */
typedef void (*sm_emotion_stage_fn)(void *ctx, const char *name, const float *nhwc, size_t h,
                                    size_t w, size_t c);
void sm_emotion_set_stage_hook(sm_emotion *m, sm_emotion_stage_fn fn, void *ctx);

/* Per-layer timing (for smw-bench): enable, run, read. Enabling resets. */
void sm_emotion_profile(sm_emotion *m, bool enable);
size_t sm_emotion_layer_times(const sm_emotion *m, const sm_layer_time **out);
/* FLOPs (multiply-add = 2) of one run at h x w. */
double sm_emotion_flops(const sm_emotion *m, size_t h, size_t w);

#endif

/*
 * sm_image.h: image operations shared by the models and the viewer.
 *
 * Layout: interleaved 8-bit (or float) pixels, `channels` values per pixel,
 * rows `stride` ELEMENTS apart (not bytes; stride >= width * channels).
 * Nothing here allocates, logs or fails: callers validate sizes (every
 * width/height > 0) and provide the output buffers.
 *
 * Coordinates: pixel centres sit on integer coordinates (pixel (0,0) covers
 * [-0.5, 0.5]^2), the convention of OpenCV's warpAffine and skimage.transform.
 *
 * Bilinear resize: pixel-centre sampling, sx = (dx + 0.5) * sw / dw - 0.5,
 * clamped to [0, sw - 1] (edge replication); no anti-aliasing when shrinking.
 * This is cv2.resize(INTER_LINEAR) and skimage.transform.resize(order=1,
 * mode='edge', anti_aliasing=False). u8 outputs round half up and saturate.
 * A crop is resized by pointing src at its top-left pixel with the image's
 * stride.
 *
 * Affine warp: m = {a, b, c, d, e, f} maps a DESTINATION pixel (x, y) to the
 * SOURCE point (a*x + b*y + c, d*x + e*y + f) (the inverse map, as in
 * cv2.warpAffine with WARP_INVERSE_MAP), in double (face ROIs in large frames
 * need it); samples outside the source replicate the nearest edge pixel
 * (BORDER_REPLICATE), or take a constant where asked.
 *
 * One implementation each, used by: the viewer (resize_bilinear_u8, flip,
 * YUV), the face detector's letterbox and the face mesh's ROI crop (warp,
 * rotated_rect_map), the seed models' cv2-style input (resize_bilinear_u8_norm:
 * emotion_effnet, rppg_ultralight, app/rppg_pos). Deliberately elsewhere:
 * face-api's padded TF.js resize (models/emotion_fer.c, pinned to tfjs-core's
 * legacy half-pixel-free rule) and MediaPipe's TransformTensorBilinear
 * (models/mediapipe_ops.c: float feature maps, MediaPipe's float/double mix).
 *
 * Colour: YUV -> RGB with BT.601 coefficients, limited range (Y 16..235,
 * chroma 16..240: webcams' YUYV and ffmpeg's default) or full range (JPEG).
 * 4:2:0 / 4:2:2 chroma is replicated over the pixels it covers (nearest).
 */
#ifndef SM_IMAGE_H
#define SM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "sm_engine.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void sm_image_resize_bilinear_u8(const uint8_t *src, int sw, int sh, size_t sstride,
                                 uint8_t *dst, int dw, int dh, size_t dstride, int channels);
/* The same resize into float, as a network input the seed app made with
 * cv2.resize on uint8 and numpy: each value is interpolated (in double), rounded
 * half up to 8 bits (cv2 returns uint8) and then written as (v / 255 - mean[c])
 * / std[c] in float (mean and std may be NULL: 0 and 1). cv2 itself
 * interpolates in 11-bit fixed point: a few values may differ by one level. */
void sm_image_resize_bilinear_u8_norm(const uint8_t *src, int sw, int sh, size_t sstride,
                                      float *dst, int dw, int dh, size_t dstride, int channels,
                                      const float *mean, const float *std);

/* Bilinear sample of an 8-bit image at the point (x, y) (pixel centres on
 * integers), edge pixels replicated outside; out[0, channels) in 0..255, in
 * double. Any x, y (NaN and infinities included) gives an edge pixel at worst. */
void sm_image_sample_bilinear_u8(const uint8_t *src, int sw, int sh, size_t sstride, int channels,
                                 double x, double y, double *out);

/* u8 source sampled into float output, scaled: out = (float)(sample * scale +
 * bias) (e.g. scale 1/127.5, bias -1 for a network input); up to 4 channels.
 * border NULL: edge replication everywhere. Otherwise a sample point outside
 * the image's area, [-0.5, sw - 0.5] x [-0.5, sh - 0.5] (its pixels' squares;
 * the edges, within rounding, count as inside), gives *border in every channel
 * (MediaPipe's letterbox). */
void sm_image_warp_affine_u8_f32(const uint8_t *src, int sw, int sh, size_t sstride,
                                 float *dst, int dw, int dh, size_t dstride, int channels,
                                 const double m[6], double scale, double bias, const float *border);

/* The inverse map (for the warps above) that cuts a rotated rectangle out of an
 * image: size rw x rh source pixels, centred on (cx, cy), its axes rotated by
 * `angle` radians from the image axes (image coordinates, y down: a positive
 * angle turns clockwise on screen), resampled into dw x dh pixels. The
 * destination's top-left corner maps to the rectangle's rotated top-left. */
void sm_image_rotated_rect_map(double cx, double cy, double rw, double rh, double angle,
                               int dw, int dh, double m[6]);

/* Colour conversions into packed RGB (3 bytes per pixel, rows dstride bytes). */
/* YUYV (YUY2) 4:2:2: Y0 U Y1 V per pixel pair; width must be even. */
void sm_image_yuyv_to_rgb(const uint8_t *src, size_t sstride, int w, int h,
                          uint8_t *dst, size_t dstride, bool full_range);
/* Planar 4:2:0 (I420): Y plane, then U, then V, each with its own stride;
 * chroma planes are ceil(w/2) x ceil(h/2). */
void sm_image_i420_to_rgb(const uint8_t *y, size_t ystride, const uint8_t *u, size_t ustride,
                          const uint8_t *v, size_t vstride, int w, int h,
                          uint8_t *dst, size_t dstride, bool full_range);
/* Planar 4:4:4: three full-size planes. */
void sm_image_yuv444_to_rgb(const uint8_t *y, const uint8_t *u, const uint8_t *v,
                            size_t stride, int w, int h, uint8_t *dst, size_t dstride,
                            bool full_range);
/* NV12: Y plane then interleaved U,V at half resolution. */
void sm_image_nv12_to_rgb(const uint8_t *y, size_t ystride, const uint8_t *uv, size_t uvstride,
                          int w, int h, uint8_t *dst, size_t dstride, bool full_range);
/* Swaps channels 0 and 2 of 3-channel pixels (RGB <-> BGR); src may equal dst. */
void sm_image_swap_rb(const uint8_t *src, size_t sstride, int w, int h,
                      uint8_t *dst, size_t dstride);
/* Mirrors each row left-right; src may equal dst. */
void sm_image_flip_h_u8(const uint8_t *src, size_t sstride, int w, int h, int channels,
                        uint8_t *dst, size_t dstride);

#ifdef __cplusplus
}
#endif

/* ---- image files ---------------------------------------------------------- */

/* Largest width or height any decoder or writer accepts. */
#define SM_IMAGE_MAX_DIM 8192

/* zlib stream (RFC 1950) into out[0, out_len); *produced = bytes written.
 * Checks the header and the Adler-32. */
sm_status sm_zlib_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          size_t *produced, sm_error *err);
/* PNG (8-bit grey, grey+alpha, RGB, RGBA, non-interlaced; alpha dropped) into a
 * malloc'd packed RGB8 buffer (*width x *height x 3). Messages name `name`. */
sm_status sm_png_decode_rgb8(const uint8_t *data, size_t len, const char *name, uint8_t **rgb,
                             int *width, int *height, sm_error *err);
/* JPEG (libjpeg-turbo; SM_ERR_UNSUPPORTED in builds without it): the size from
 * the header (checked against SM_IMAGE_MAX_DIM), then the pixels into a
 * caller-provided width x height x 3 RGB8 buffer. A truncated or corrupt stream
 * is an error; decoder warnings (extra bytes after a webcam frame) are not. */
sm_status sm_jpeg_header(const uint8_t *data, size_t len, const char *name, int *width, int *height,
                         sm_error *err);
sm_status sm_jpeg_decode_rgb8(const uint8_t *data, size_t len, const char *name, uint8_t *rgb, int width,
                              int height, sm_error *err);
/* Writers: PNG (stored deflate) or 24-bit BMP, atomically (temp + rename);
 * sm_image_save picks by extension (.png / .bmp). */
sm_status sm_png_write(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err);
sm_status sm_bmp_write(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err);
sm_status sm_image_save(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err);

#endif

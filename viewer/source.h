/*
 * source.h: where frames come from. Every source yields packed RGB frames
 * (3 bytes per pixel, rows width*3 bytes), each with its 0-based index in the
 * source and its timestamp in seconds (from the source: Y4M/AVI frame rate,
 * image index / fps, capture clock for cameras).
 *
 * Every reader validates what it reads: bad headers, truncated frames, zero or
 * absurd sizes (above SM_SOURCE_MAX_DIM) give an sm_error naming the file and
 * the problem; nothing crashes on hostile input.
 */
#ifndef SM_SOURCE_H
#define SM_SOURCE_H

#include "sm_engine.h"
#include "sm_image.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SM_SOURCE_MAX_DIM 8192

typedef struct {
    uint8_t *rgb;      /* owned; width * height * 3 bytes */
    size_t cap;        /* bytes allocated in rgb */
    int width, height;
    int64_t index;
    double t;
} sm_frame;

/* Makes f hold a w x h frame (reusing its buffer when large enough). */
sm_status sm_frame_reserve(sm_frame *f, int w, int h, sm_error *err);
sm_status sm_frame_copy(sm_frame *dst, const sm_frame *src, sm_error *err);
void sm_frame_free(sm_frame *f); /* accepts NULL; leaves f zeroed */

typedef struct sm_source sm_source;
typedef struct {
    /* SM_OK with *eof false: f holds the next frame. SM_OK with *eof true: the
     * source has ended. Anything else: an error (a camera may recover: call
     * read again later). */
    sm_status (*read)(sm_source *s, sm_frame *f, bool *eof, sm_error *err);
    void (*close)(sm_source *s);
} sm_source_ops;

struct sm_source {
    const sm_source_ops *ops;
    char name[256];     /* file, directory or device, for messages */
    bool live;          /* a camera: frames arrive in real time, drop to stay live */
    double fps;         /* nominal rate (0 = unknown) */
    int width, height;  /* nominal size (0 = varies) */
    void *impl;
};

sm_status sm_source_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err);
void sm_source_close(sm_source *s); /* accepts NULL; frees s */

/* --video: Y4M and MJPEG AVI by their magic bytes, anything else through ffmpeg.
 * fps_override > 0 replaces the file's own rate for timestamps. */
sm_status sm_source_open_video(const char *path, double fps_override, sm_source **out, sm_error *err);
sm_status sm_source_open_y4m(const char *path, double fps_override, sm_source **out, sm_error *err);
/* Reads Y4M from an open stream (owned from now on; closed with pclose when
 * `is_pipe`). */
sm_status sm_source_open_y4m_stream(FILE *fp, bool is_pipe, const char *name, double fps_override,
                                    sm_source **out, sm_error *err);
sm_status sm_source_open_avi(const char *path, double fps_override, sm_source **out, sm_error *err);
/* `ffmpeg -i path -f yuv4mpegpipe -pix_fmt yuv420p -`; SM_ERR_UNSUPPORTED when
 * ffmpeg is not installed. */
sm_status sm_source_open_ffmpeg(const char *path, double fps_override, sm_source **out, sm_error *err);
/* --images: the .jpg, .jpeg and .png files in dir, sorted by name (byte order); t = index / fps
 * (fps <= 0: 30). */
sm_status sm_source_open_images(const char *dir, double fps, sm_source **out, sm_error *err);

/* Decoders (whole file in memory). `name` is for messages. */
sm_status sm_jpeg_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err);
sm_status sm_png_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err);
/* The PNG decoder, the PNG/BMP writers and inflate live in engine/image/png.c
 * (sm_image.h), shared with the command-line tools. */

#endif

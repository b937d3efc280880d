/*
 * source.h: where frames come from. Every source yields packed RGB frames
 * (3 bytes per pixel, rows width*3 bytes), each with its 0-based index in the
 * source and its timestamp in seconds (from the source: Y4M/AVI frame rate,
 * image index / fps, capture clock for cameras).
 *
 * This header is the generic interface only: each reader has its own header
 * (source_y4m.h, source_avi.h, capture.h) that includes this one, and the
 * registry that picks a reader for a path is source_open.h, above them all.
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
    /* Set when the file ended inside a frame (a cut download, a recorder
     * killed mid-write): "<file>: truncated after frame N; stopping (detail)".
     * Empty otherwise. */
    char truncated[SM_ERROR_MAX];
};

sm_status sm_source_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err);
/* For readers whose file ends inside frame `index` (0-based): with frames
 * before it, the source ends there (*eof = true, SM_OK) and the warning is
 * kept in s->truncated and printed once on stderr, so a cut video plays what
 * it has; cut inside its first frame there is nothing to play and the
 * return is SM_ERR_FORMAT with the same detail. `detail` says where. */
sm_status sm_source_truncated(sm_source *s, int64_t index, const char *detail, bool *eof, sm_error *err);
void sm_source_close(sm_source *s); /* accepts NULL; frees s */

/* Decoders (whole file in memory). `name` is for messages. */
sm_status sm_jpeg_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err);
sm_status sm_png_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err);
/* The PNG decoder, the PNG/BMP writers and inflate live in engine/image/png.c
 * (sm_image.h), shared with the command-line tools. */

#endif

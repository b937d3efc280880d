/* Frames, the source interface and the still-image decoders every reader
 * shares. The readers (source_y4m.c, source_avi.c, source_open.c) sit above
 * this file; PNG is in engine/image/png.c. */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sm_status sm_frame_reserve(sm_frame *f, int w, int h, sm_error *err)
{
    if (w <= 0 || h <= 0 || w > SM_SOURCE_MAX_DIM || h > SM_SOURCE_MAX_DIM)
        return sm_error_set(err, SM_ERR_FORMAT, "frame size %dx%d outside 1..%d", w, h, SM_SOURCE_MAX_DIM);
    size_t need = (size_t)w * (size_t)h * 3;
    if (need > f->cap) {
        uint8_t *p = realloc(f->rgb, need);
        if (!p)
            return sm_error_set(err, SM_ERR_NOMEM, "out of memory for a %dx%d frame", w, h);
        f->rgb = p;
        f->cap = need;
    }
    f->width = w;
    f->height = h;
    return SM_OK;
}

sm_status sm_frame_copy(sm_frame *dst, const sm_frame *src, sm_error *err)
{
    sm_status st = sm_frame_reserve(dst, src->width, src->height, err);
    if (st != SM_OK)
        return st;
    memcpy(dst->rgb, src->rgb, (size_t)src->width * src->height * 3);
    dst->index = src->index;
    dst->t = src->t;
    return SM_OK;
}

void sm_frame_free(sm_frame *f)
{
    if (!f)
        return;
    free(f->rgb);
    memset(f, 0, sizeof *f);
}

sm_status sm_source_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err)
{
    *eof = false;
    return s->ops->read(s, f, eof, err);
}

sm_status sm_source_truncated(sm_source *s, int64_t index, const char *detail, bool *eof, sm_error *err)
{
    if (index <= 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated inside its first frame: %s", s->name, detail);
    if (!s->truncated[0]) {
        snprintf(s->truncated, sizeof s->truncated, "%s: truncated after frame %lld; stopping (%s)", s->name,
                 (long long)(index - 1), detail);
        sm_log(SM_LOG_WARN, "%s", s->truncated);
    }
    *eof = true;
    return SM_OK;
}

void sm_source_close(sm_source *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->close)
        s->ops->close(s);
    free(s);
}

/* ---- PNG ---------------------------------------------------------------- */

sm_status sm_png_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err)
{
    uint8_t *rgb;
    int w, h;
    sm_status st = sm_png_decode_rgb8(data, len, name, &rgb, &w, &h, err);
    if (st != SM_OK)
        return st;
    st = sm_frame_reserve(f, w, h, err);
    if (st == SM_OK)
        memcpy(f->rgb, rgb, (size_t)w * h * 3);
    free(rgb);
    return st;
}

/* ---- JPEG --------------------------------------------------------------- */

sm_status sm_jpeg_decode(const uint8_t *data, size_t len, const char *name, sm_frame *f, sm_error *err)
{
    int w, h;
    sm_status st = sm_jpeg_header(data, len, name, &w, &h, err);
    if (st == SM_OK)
        st = sm_frame_reserve(f, w, h, err);
    if (st == SM_OK)
        st = sm_jpeg_decode_rgb8(data, len, name, f->rgb, w, h, err);
    return st;
}

/* MJPEG AVI reader. RIFF layout: "RIFF" size "AVI " { chunks }, chunk =
 * fourcc, u32 little-endian size, data, pad to even. We read LIST hdrl
 * (avih: frame period; strl/strh: the first 'vids' stream's scale/rate and
 * handler; strf: BITMAPINFOHEADER size and compression) and then walk
 * LIST movi in order, decoding every "NNdc"/"NNdb" chunk of that stream as a
 * JPEG. idx1 is not needed (and ignored). Every size is checked against its
 * parent chunk and the file. */
#include "source_avi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AVI_MAX_CHUNK (64u << 20) /* a single JPEG frame above 64 MiB is absurd */

typedef struct {
    FILE *fp;
    uint64_t file_size;
    uint64_t movi_pos, movi_end; /* current read position and end of LIST movi data */
    int stream;                  /* index of the video stream */
    double fps;
    uint8_t *buf;
    size_t buf_cap;
    int64_t next;
    bool cut;                    /* the file is shorter than its RIFF or movi sizes say */
} avi_impl;

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* A fourcc for messages: hostile bytes become '?'. */
static const char *fourcc_text(const uint8_t *p, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[4] = '\0';
    return out;
}

static bool read_at(FILE *fp, uint64_t off, void *buf, size_t n)
{
    return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n;
}

typedef struct {
    double fps;
    int stream, w, h;
    bool have_vids;
} avi_hdr;

/* Walks the chunks in [pos, end) of a hdrl or strl list. */
static sm_status parse_list(avi_impl *a, const char *name, uint64_t pos, uint64_t end, avi_hdr *h, int *strl_no,
                            int depth, sm_error *err)
{
    if (depth > 4)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: AVI header lists nested too deeply", name);
    bool in_vids = false;
    char cc[5];
    while (pos + 8 <= end) {
        uint8_t ck[12];
        if (!read_at(a->fp, pos, ck, 8))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated AVI header at offset %llu", name,
                                (unsigned long long)pos);
        uint64_t size = le32(ck + 4), data = pos + 8;
        if (data + size > end)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: AVI chunk '%.4s' at offset %llu runs past its list "
                                "(size %llu)", name, (const char *)ck, (unsigned long long)pos,
                                (unsigned long long)size);
        if (!memcmp(ck, "LIST", 4)) {
            if (size < 4 || !read_at(a->fp, data, ck + 8, 4))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad LIST at offset %llu", name, (unsigned long long)pos);
            if (!memcmp(ck + 8, "strl", 4)) {
                sm_status st = parse_list(a, name, data + 4, data + size, h, strl_no, depth + 1, err);
                if (st != SM_OK)
                    return st;
                (*strl_no)++;
            }
        } else if (!memcmp(ck, "avih", 4)) {
            uint8_t b[40];
            if (size < 40 || !read_at(a->fp, data, b, 40))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: avih header too short (%llu bytes)", name,
                                    (unsigned long long)size);
            uint32_t us = le32(b);
            if (us > 0 && h->fps <= 0)
                h->fps = 1e6 / us;
            h->w = (int)le32(b + 32) > 0 ? (int)le32(b + 32) : h->w;
            h->h = (int)le32(b + 36) > 0 ? (int)le32(b + 36) : h->h;
        } else if (!memcmp(ck, "strh", 4)) {
            uint8_t b[32];
            if (size < 32 || !read_at(a->fp, data, b, 32))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: strh header too short", name);
            in_vids = !memcmp(b, "vids", 4) && !h->have_vids;
            if (in_vids) {
                if (memcmp(b + 4, "MJPG", 4) && memcmp(b + 4, "mjpg", 4) && memcmp(b + 4, "\0\0\0\0", 4) &&
                    memcmp(b + 4, "AVRn", 4) && memcmp(b + 4, "jpeg", 4))
                    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: AVI video codec '%s' is not MJPEG", name,
                                        fourcc_text(b + 4, cc));
                uint32_t scale = le32(b + 20), rate = le32(b + 24);
                if (scale > 0 && rate > 0)
                    h->fps = (double)rate / scale;
                h->stream = *strl_no;
                h->have_vids = true;
            }
        } else if (!memcmp(ck, "strf", 4) && in_vids) {
            uint8_t b[20];
            if (size < 20 || !read_at(a->fp, data, b, 20))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: strf header too short", name);
            int32_t bw = (int32_t)le32(b + 4), bh = (int32_t)le32(b + 8);
            if (bh < 0 && bh != INT32_MIN)
                bh = -bh; /* negative height means top-down rows; INT32_MIN stays invalid */
            if (bw <= 0 || bh <= 0 || bw > SM_SOURCE_MAX_DIM || bh > SM_SOURCE_MAX_DIM)
                return sm_error_set(err, SM_ERR_FORMAT, "%s: video size %dx%d outside 1..%d", name, bw, bh,
                                    SM_SOURCE_MAX_DIM);
            if (memcmp(b + 16, "MJPG", 4) && memcmp(b + 16, "mjpg", 4) && memcmp(b + 16, "JPEG", 4))
                return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: AVI video compression '%s' is not MJPEG", name,
                                    fourcc_text(b + 16, cc));
            h->w = bw;
            h->h = bh;
        }
        pos = data + size + (size & 1);
    }
    return SM_OK;
}

/* True when a frame chunk of the video stream starts at or after pos: tells a
 * broken last frame (a cut recording) from a broken frame in the middle. */
static bool frame_follows(avi_impl *a, uint64_t pos, const char want[2])
{
    uint8_t ck[8];
    while (pos + 8 <= a->movi_end && read_at(a->fp, pos, ck, 8)) {
        uint64_t size = le32(ck + 4);
        if (!memcmp(ck, "LIST", 4)) {
            pos += 12;
            continue;
        }
        if (ck[0] == (uint8_t)want[0] && ck[1] == (uint8_t)want[1] && ck[2] == 'd' && (ck[3] == 'c' || ck[3] == 'b') &&
            size > 0)
            return true;
        pos += 8 + size + (size & 1);
    }
    return false;
}

static sm_status avi_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err)
{
    avi_impl *a = s->impl;
    char want[2] = {(char)('0' + a->stream / 10), (char)('0' + a->stream % 10)};
    char detail[160];
    while (a->movi_pos + 8 <= a->movi_end) {
        uint8_t ck[8];
        if (!read_at(a->fp, a->movi_pos, ck, 8))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: truncated chunk header at offset %llu", s->name,
                                (unsigned long long)a->movi_pos);
        uint64_t size = le32(ck + 4), data = a->movi_pos + 8;
        if (!memcmp(ck, "LIST", 4)) { /* 'rec ' groups: step inside */
            if (size < 4 || (data + size > a->movi_end && !a->cut))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad LIST in movi at offset %llu", s->name,
                                    (unsigned long long)a->movi_pos);
            a->movi_pos = data + 4;
            continue;
        }
        if (data + size > a->movi_end && a->cut) {
            snprintf(detail, sizeof detail, "chunk '%.4s' at offset %llu needs %llu bytes, the file has %llu",
                     (const char *)ck, (unsigned long long)a->movi_pos, (unsigned long long)size,
                     (unsigned long long)(a->movi_end - data));
            a->movi_pos = a->movi_end;
            return sm_source_truncated(s, a->next, detail, eof, err);
        }
        if (data + size > a->movi_end)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: frame %lld: chunk '%.4s' at offset %llu runs past the "
                                "end of the data (size %llu, %llu bytes left): truncated file?", s->name,
                                (long long)a->next, (const char *)ck, (unsigned long long)a->movi_pos,
                                (unsigned long long)size, (unsigned long long)(a->movi_end - data));
        a->movi_pos = data + size + (size & 1);
        if (ck[0] != (uint8_t)want[0] || ck[1] != (uint8_t)want[1] || ck[2] != 'd' || (ck[3] != 'c' && ck[3] != 'b'))
            continue;
        if (size == 0)
            continue; /* an empty chunk repeats the previous frame in some writers: skip */
        if (size > AVI_MAX_CHUNK)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: frame %lld: chunk of %llu bytes is absurd", s->name,
                                (long long)a->next, (unsigned long long)size);
        if (size > a->buf_cap) {
            uint8_t *p = realloc(a->buf, size);
            if (!p)
                return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
            a->buf = p;
            a->buf_cap = size;
        }
        if (!read_at(a->fp, data, a->buf, size))
            return sm_error_set(err, SM_ERR_FORMAT, "%s: frame %lld truncated", s->name, (long long)a->next);
        char what[300];
        snprintf(what, sizeof what, "%.200s frame %lld", s->name, (long long)a->next);
        sm_status st = sm_jpeg_decode(a->buf, size, what, f, err);
        if (st == SM_ERR_FORMAT && a->next > 0 && !frame_follows(a, a->movi_pos, want)) {
            /* the last frame is broken (a recorder stopped mid-frame): play the rest */
            snprintf(detail, sizeof detail, "its last frame is a broken JPEG: %.100s", err->msg);
            a->movi_pos = a->movi_end;
            return sm_source_truncated(s, a->next, detail, eof, err);
        }
        if (st != SM_OK)
            return st;
        f->index = a->next;
        f->t = (double)a->next / a->fps;
        a->next++;
        return SM_OK;
    }
    if (a->cut && a->movi_pos < a->movi_end) {
        snprintf(detail, sizeof detail, "the file ends inside a chunk header at offset %llu",
                 (unsigned long long)a->movi_pos);
        a->movi_pos = a->movi_end;
        return sm_source_truncated(s, a->next, detail, eof, err);
    }
    *eof = true;
    return SM_OK;
}

static void avi_close(sm_source *s)
{
    avi_impl *a = s->impl;
    if (!a)
        return;
    if (a->fp)
        fclose(a->fp);
    free(a->buf);
    free(a);
}

static const sm_source_ops avi_ops = {avi_read, avi_close};

sm_status sm_source_open_avi(const char *path, double fps_override, sm_source **out, sm_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    sm_source *s = calloc(1, sizeof *s);
    avi_impl *a = calloc(1, sizeof *a);
    if (!s || !a) {
        fclose(fp);
        free(s);
        free(a);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    s->ops = &avi_ops;
    s->impl = a;
    a->fp = fp;
    snprintf(s->name, sizeof s->name, "%s", path);
    sm_status st = SM_OK;
    uint8_t hdr[12];
    if (fseeko(fp, 0, SEEK_END) != 0 || (a->file_size = (uint64_t)ftello(fp)) < 12 || !read_at(fp, 0, hdr, 12)) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: too short for an AVI file", path);
    } else if (memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "AVI ", 4)) {
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: not an AVI file (no RIFF/AVI signature)", path);
    }
    avi_hdr h = {0};
    int strl_no = 0;
    uint64_t riff_end = 0;
    if (st == SM_OK) {
        /* A RIFF size past the end of the file means a truncated file: read what is there. */
        riff_end = 8 + (uint64_t)le32(hdr + 4);
        if (riff_end > a->file_size) {
            riff_end = a->file_size;
            a->cut = true;
        }
        uint64_t pos = 12;
        bool have_hdrl = false;
        while (st == SM_OK && pos + 12 <= riff_end && !a->movi_end) {
            uint8_t ck[12];
            if (!read_at(fp, pos, ck, 12))
                break;
            uint64_t size = le32(ck + 4), data = pos + 8;
            bool is_list = !memcmp(ck, "LIST", 4);
            if (is_list && !memcmp(ck + 8, "hdrl", 4)) {
                if (data + size > riff_end)
                    st = sm_error_set(err, SM_ERR_FORMAT, "%s: header list runs past the end of the file", path);
                else
                    st = parse_list(a, path, data + 4, data + size, &h, &strl_no, 0, err);
                have_hdrl = true;
            } else if (is_list && !memcmp(ck + 8, "movi", 4)) {
                if (!have_hdrl)
                    st = sm_error_set(err, SM_ERR_FORMAT, "%s: movi list before the hdrl header", path);
                a->movi_pos = data + 4;
                a->movi_end = data + size > riff_end ? riff_end : data + size;
                a->cut = a->cut || data + size > riff_end;
            }
            pos = data + size + (size & 1);
        }
        if (st == SM_OK && !have_hdrl)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: no hdrl header list", path);
        if (st == SM_OK && !h.have_vids)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: no video stream", path);
        if (st == SM_OK && (h.w <= 0 || h.h <= 0 || h.w > SM_SOURCE_MAX_DIM || h.h > SM_SOURCE_MAX_DIM))
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: video size %dx%d outside 1..%d", path, h.w, h.h,
                              SM_SOURCE_MAX_DIM);
        if (st == SM_OK && !a->movi_end)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: no movi list (no frames)", path);
        if (st == SM_OK && h.stream > 99)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: too many streams", path);
    }
    if (st != SM_OK) {
        sm_source_close(s);
        return st;
    }
    a->stream = h.stream;
    a->fps = fps_override > 0 ? fps_override : h.fps > 0 ? h.fps : 25.0;
    s->fps = a->fps;
    s->width = h.w;
    s->height = h.h;
    *out = s;
    return SM_OK;
}

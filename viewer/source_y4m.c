/* YUV4MPEG2 reader. Stream header: "YUV4MPEG2" then space-separated tags
 * (W width, H height, F num:den, I interlace p/t/b/m/?, A aspect, C colour
 * space, X extension) and '\n'; each frame: "FRAME" [tags] '\n' then the
 * planes. Colour spaces: 420jpeg/420mpeg2/420paldv/420 (4:2:0, chroma siting
 * differences ignored), 422, 444, mono; 8 bits only. Interlaced material is
 * shown as whole frames. XCOLORRANGE=FULL selects full-range YCbCr. */
#include "sm_image.h"
#include "source_y4m.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define Y4M_MAX_HEADER 4096

typedef enum { CS_420, CS_422, CS_444, CS_MONO } y4m_cs;

typedef struct {
    FILE *fp;
    bool is_pipe;
    int w, h;
    y4m_cs cs;
    bool full_range;
    double fps;
    size_t frame_bytes, y_bytes, c_bytes;
    int cw, ch;
    uint8_t *buf, *gray;
    int64_t next;
} y4m_impl;

/* Reads one '\n'-terminated line (without the '\n') of at most cap-1 bytes.
 * Returns 1 on a line, 0 at a clean end of file, -1 on a too-long or unterminated line. */
static int read_line(FILE *fp, char *line, size_t cap, size_t *len)
{
    size_t n = 0;
    int c;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (n + 1 >= cap)
            return -1;
        line[n++] = (char)c;
    }
    line[n] = '\0';
    *len = n;
    if (c == EOF)
        return n == 0 ? 0 : -1;
    return 1;
}

static bool parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < -2147483647L || v > 2147483647L)
        return false;
    *out = (int)v;
    return true;
}

static sm_status parse_header(y4m_impl *y, char *line, const char *name, sm_error *err)
{
    if (strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a Y4M file (no YUV4MPEG2 signature)", name);
    bool got_w = false, got_h = false;
    y->cs = CS_420;
    char *save = NULL;
    for (char *tok = strtok_r(line + 9, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *v = tok + 1;
        switch (tok[0]) {
        case 'W':
            if (!parse_int(v, &y->w))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad width tag '%s'", name, tok);
            got_w = true;
            break;
        case 'H':
            if (!parse_int(v, &y->h))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad height tag '%s'", name, tok);
            got_h = true;
            break;
        case 'F': {
            int num, den;
            char *colon = strchr(v, ':');
            if (!colon)
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad frame-rate tag '%s' (want Fnum:den)", name, tok);
            *colon = '\0';
            if (!parse_int(v, &num) || !parse_int(colon + 1, &den) || num < 0 || den < 0)
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad frame-rate tag", name);
            y->fps = (num > 0 && den > 0) ? (double)num / den : 0.0;
            break;
        }
        case 'I':
            if (strlen(v) != 1 || !strchr("ptbm?", v[0]))
                return sm_error_set(err, SM_ERR_FORMAT, "%s: bad interlace tag '%s'", name, tok);
            break;
        case 'A':
            break;
        case 'C':
            if (!strcmp(v, "420jpeg") || !strcmp(v, "420mpeg2") || !strcmp(v, "420paldv") || !strcmp(v, "420"))
                y->cs = CS_420;
            else if (!strcmp(v, "422"))
                y->cs = CS_422;
            else if (!strcmp(v, "444"))
                y->cs = CS_444;
            else if (!strcmp(v, "mono"))
                y->cs = CS_MONO;
            else
                return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                    "%s: colour space C%s not supported (8-bit 420jpeg, 420mpeg2, "
                                    "420paldv, 420, 422, 444, mono are)", name, v);
            break;
        case 'X':
            if (!strcmp(v, "COLORRANGE=FULL"))
                y->full_range = true;
            break;
        default:
            return sm_error_set(err, SM_ERR_FORMAT, "%s: unknown header tag '%s'", name, tok);
        }
    }
    if (!got_w || !got_h)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: header lacks the %s tag", name, got_w ? "H (height)" : "W (width)");
    if (y->w <= 0 || y->h <= 0 || y->w > SM_SOURCE_MAX_DIM || y->h > SM_SOURCE_MAX_DIM)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: frame size %dx%d outside 1..%d", name, y->w, y->h,
                            SM_SOURCE_MAX_DIM);
    if (y->cs == CS_422 && (y->w & 1))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: 4:2:2 with odd width %d", name, y->w);
    y->cw = y->cs == CS_444 ? y->w : (y->w + 1) / 2;
    y->ch = y->cs == CS_420 ? (y->h + 1) / 2 : y->h;
    y->y_bytes = (size_t)y->w * y->h;
    y->c_bytes = y->cs == CS_MONO ? 0 : (size_t)y->cw * y->ch;
    y->frame_bytes = y->y_bytes + 2 * y->c_bytes;
    return SM_OK;
}

static sm_status y4m_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err)
{
    y4m_impl *y = s->impl;
    char line[Y4M_MAX_HEADER];
    size_t len;
    int r = read_line(y->fp, line, sizeof line, &len);
    if (r == 0) {
        *eof = true;
        return SM_OK;
    }
    if (r < 0 && feof(y->fp) && !ferror(y->fp))
        return sm_source_truncated(s, y->next, "the file ends inside a FRAME header", eof, err);
    if (r < 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: frame %lld: bad or truncated frame header",
                            s->name, (long long)y->next);
    if (strncmp(line, "FRAME", 5) != 0 || (line[5] != ' ' && line[5] != '\0'))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: frame %lld: expected a FRAME header, found '%.20s'",
                            s->name, (long long)y->next, line);
    size_t got = fread(y->buf, 1, y->frame_bytes, y->fp);
    if (got != y->frame_bytes && ferror(y->fp))
        return sm_error_set(err, SM_ERR_IO, "%s: frame %lld: read error: %s", s->name, (long long)y->next,
                            strerror(errno));
    if (got != y->frame_bytes) {
        char detail[128];
        snprintf(detail, sizeof detail, "frame %lld truncated: expected %zu bytes, got %zu", (long long)y->next,
                 y->frame_bytes, got);
        return sm_source_truncated(s, y->next, detail, eof, err);
    }
    sm_status st = sm_frame_reserve(f, y->w, y->h, err);
    if (st != SM_OK)
        return st;
    const uint8_t *yp = y->buf, *up = y->buf + y->y_bytes, *vp = up + y->c_bytes;
    size_t ds = (size_t)y->w * 3;
    switch (y->cs) {
    case CS_420:
        sm_image_i420_to_rgb(yp, (size_t)y->w, up, (size_t)y->cw, vp, (size_t)y->cw, y->w, y->h, f->rgb, ds,
                             y->full_range);
        break;
    case CS_422:
        /* a 4:2:2 plane pair read as 4:2:0 with one chroma row per luma row */
        for (int row = 0; row < y->h; row++)
            sm_image_i420_to_rgb(yp + (size_t)row * y->w, 0, up + (size_t)row * y->cw, 0,
                                 vp + (size_t)row * y->cw, 0, y->w, 1, f->rgb + row * ds, ds, y->full_range);
        break;
    case CS_444:
        sm_image_yuv444_to_rgb(yp, up, vp, (size_t)y->w, y->w, y->h, f->rgb, ds, y->full_range);
        break;
    case CS_MONO:
        for (int row = 0; row < y->h; row++)
            sm_image_i420_to_rgb(yp + (size_t)row * y->w, 0, y->gray, 0, y->gray, 0, y->w, 1, f->rgb + row * ds, ds,
                                 y->full_range);
        break;
    }
    f->index = y->next;
    f->t = (double)y->next / y->fps;
    y->next++;
    return SM_OK;
}

static void y4m_close(sm_source *s)
{
    y4m_impl *y = s->impl;
    if (!y)
        return;
    if (y->fp) {
        if (y->is_pipe)
            pclose(y->fp);
        else
            fclose(y->fp);
    }
    free(y->buf);
    free(y->gray);
    free(y);
}

static const sm_source_ops y4m_ops = {y4m_read, y4m_close};

sm_status sm_source_open_y4m_stream(FILE *fp, bool is_pipe, const char *name, double fps_override,
                                    sm_source **out, sm_error *err)
{
    *out = NULL;
    sm_source *s = calloc(1, sizeof *s);
    y4m_impl *y = calloc(1, sizeof *y);
    if (!s || !y) {
        free(s);
        free(y);
        if (is_pipe)
            pclose(fp);
        else
            fclose(fp);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    s->ops = &y4m_ops;
    s->impl = y;
    y->fp = fp;
    y->is_pipe = is_pipe;
    snprintf(s->name, sizeof s->name, "%s", name);
    char line[Y4M_MAX_HEADER];
    size_t len;
    int r = read_line(fp, line, sizeof line, &len);
    sm_status st;
    if (r == 0 && is_pipe) /* the file itself is not empty: the decoder gave nothing */
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: no video stream came out (not a video ffmpeg can read; "
                          "its own message, if any, is above)", name);
    else if (r == 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: empty file", name);
    else if (r < 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: bad Y4M header (unterminated or longer than %d bytes)", name,
                          Y4M_MAX_HEADER);
    else
        st = parse_header(y, line, name, err);
    if (st == SM_OK) {
        if (fps_override > 0)
            y->fps = fps_override;
        if (y->fps <= 0)
            y->fps = 25.0;
        s->fps = y->fps;
        s->width = y->w;
        s->height = y->h;
        y->buf = malloc(y->frame_bytes);
        y->gray = malloc((size_t)y->w);
        if (!y->buf || !y->gray)
            st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %dx%d frames", name, y->w, y->h);
        else
            memset(y->gray, 128, (size_t)y->w);
    }
    if (st != SM_OK) {
        sm_source_close(s);
        return st;
    }
    *out = s;
    return SM_OK;
}

sm_status sm_source_open_y4m(const char *path, double fps_override, sm_source **out, sm_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return sm_source_open_y4m_stream(fp, false, path, fps_override, out, err);
}

/* The reader registry: --video picks a reader by the file's magic bytes
 * (Y4M, AVI, else the ffmpeg pipe), --images reads a directory of stills.
 * It sits above the readers (source_y4m.c, source_avi.c), which only know
 * the generic interface in source.h. */
#include "source_open.h"
#include "source_avi.h"
#include "source_y4m.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static sm_status sm_source_open_ffmpeg(const char *path, double fps_override, sm_source **out,
                                       sm_error *err);

/* ---- ffmpeg pipe -------------------------------------------------------------- */

static bool have_ffmpeg(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/ffmpeg", d);
        found = access(p, X_OK) == 0;
    }
    free(copy);
    return found;
}

sm_status sm_source_open_video(const char *path, double fps_override, sm_source **out, sm_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot open video: %s", path, strerror(errno));
    uint8_t magic[12] = {0};
    size_t n = fread(magic, 1, sizeof magic, fp);
    fclose(fp);
    if (n == 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: empty file", path);
    if (n >= 9 && memcmp(magic, "YUV4MPEG2", 9) == 0)
        return sm_source_open_y4m(path, fps_override, out, err);
    if (n >= 12 && memcmp(magic, "RIFF", 4) == 0 && memcmp(magic + 8, "AVI ", 4) == 0) {
        sm_status st = sm_source_open_avi(path, fps_override, out, err);
        if (st != SM_ERR_UNSUPPORTED)
            return st;
        /* another codec (DivX, H.264, ...): ffmpeg decodes it like any other container */
        if (!have_ffmpeg()) {
            char why[SM_ERROR_MAX];
            snprintf(why, sizeof why, "%s", err ? err->msg : path);
            return sm_error_set(err, SM_ERR_UNSUPPORTED,
                                "%s; ffmpeg is needed to decode it and is not installed (install ffmpeg, or "
                                "convert it: ffmpeg -i IN -c:v mjpeg OUT.avi)", why);
        }
    }
    return sm_source_open_ffmpeg(path, fps_override, out, err);
}

/* ---- image directories ------------------------------------------------------ */

typedef struct {
    char *dir;
    char **names;
    size_t n, next;
    double fps;
} images_impl;

static bool image_ext(const char *n)
{
    const char *dot = strrchr(n, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sm_status images_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err)
{
    images_impl *im = s->impl;
    if (im->next >= im->n) {
        *eof = true;
        return SM_OK;
    }
    size_t i = im->next++;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", im->dir, im->names[i]);
    uint8_t *buf = NULL;
    size_t len = 0;
    sm_status st = sm_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (st != SM_OK)
        return st;
    const char *dot = strrchr(im->names[i], '.');
    if (!strcasecmp(dot, ".png"))
        st = sm_png_decode(buf, len, path, f, err);
    else
        st = sm_jpeg_decode(buf, len, path, f, err);
    free(buf);
    if (st == SM_OK) {
        f->index = (int64_t)i;
        f->t = (double)i / im->fps;
    }
    return st;
}

static void images_close(sm_source *s)
{
    images_impl *im = s->impl;
    if (!im)
        return;
    for (size_t i = 0; i < im->n; i++)
        free(im->names[i]);
    free(im->names);
    free(im->dir);
    free(im);
}

static const sm_source_ops images_ops = {images_read, images_close};

sm_status sm_source_open_images(const char *dir, double fps, sm_source **out, sm_error *err)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot open image directory: %s", dir, strerror(errno));
    sm_source *s = calloc(1, sizeof *s);
    images_impl *im = calloc(1, sizeof *im);
    if (!s || !im) {
        closedir(d);
        free(s);
        free(im);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    s->ops = &images_ops;
    s->impl = im;
    snprintf(s->name, sizeof s->name, "%s", dir);
    im->dir = strdup(dir);
    im->fps = fps > 0 ? fps : 30.0;
    s->fps = im->fps;
    size_t cap = 0;
    struct dirent *e;
    sm_status st = im->dir ? SM_OK : sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    while (st == SM_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !image_ext(e->d_name))
            continue;
        if (im->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **p = realloc(im->names, nc * sizeof *p);
            if (!p) {
                st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
                break;
            }
            im->names = p;
            cap = nc;
        }
        if (!(im->names[im->n] = strdup(e->d_name)))
            st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
        else
            im->n++;
    }
    closedir(d);
    if (st == SM_OK && im->n == 0)
        st = sm_error_set(err, SM_ERR_IO, "%s: no .jpg, .jpeg or .png images in this directory", dir);
    if (st != SM_OK) {
        sm_source_close(s);
        return st;
    }
    qsort(im->names, im->n, sizeof *im->names, cmp_names);
    *out = s;
    return SM_OK;
}

/* `ffmpeg -i path -f yuv4mpegpipe -pix_fmt yuv420p -`; SM_ERR_UNSUPPORTED when
 * ffmpeg is not installed. */
static sm_status sm_source_open_ffmpeg(const char *path, double fps_override, sm_source **out, sm_error *err)
{
    *out = NULL;
    if (!have_ffmpeg())
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: not Y4M or MJPEG AVI, and ffmpeg is not installed to convert it "
                            "(install ffmpeg, or convert it: ffmpeg -i IN -pix_fmt yuv420p OUT.y4m)", path);
    /* single-quote the path for the shell */
    char quoted[4200];
    size_t q = 0;
    quoted[q++] = '\'';
    for (const char *c = path; *c && q + 6 < sizeof quoted; c++) {
        if (*c == '\'') {
            memcpy(quoted + q, "'\\''", 4);
            q += 4;
        } else {
            quoted[q++] = *c;
        }
    }
    quoted[q++] = '\'';
    quoted[q] = '\0';
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -loglevel error -i %s -f yuv4mpegpipe -pix_fmt yuv420p -", quoted);
    FILE *fp = popen(cmd, "r");
    if (!fp)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot start ffmpeg: %s", path, strerror(errno));
    sm_status st = sm_source_open_y4m_stream(fp, true, path, fps_override, out, err);
    if (st != SM_OK)
        sm_error_prefix(err, "ffmpeg could not decode it");
    return st;
}

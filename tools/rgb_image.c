/* rgb_image: PNG and JPEG (the engine's decoders, engine/image/) and PPM P6
 * readers. Every read is checked against the bytes
 * left; hostile input gives an error, never a crash. */
#include "rgb_image.h"
#include "sm_image.h"


#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* PNG: the engine's shared decoder (engine/image/png.c). */
static sm_status decode_png(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    int w, h;
    sm_status st = sm_png_decode_rgb8(buf, len, name, &img->rgb, &w, &h, err);
    if (st != SM_OK)
        return st;
    img->width = w;
    img->height = h;
    img->stride = (size_t)w * 3;
    return SM_OK;
}

static sm_status decode_jpeg(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    int w, h;
    sm_status st = sm_jpeg_header(buf, len, name, &w, &h, err);
    if (st != SM_OK)
        return st;
    if (!(img->rgb = malloc((size_t)w * h * 3)))
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %dx%d pixels", name, w, h);
    st = sm_jpeg_decode_rgb8(buf, len, name, img->rgb, w, h, err);
    if (st != SM_OK) {
        free(img->rgb);
        img->rgb = NULL;
        return st;
    }
    img->width = w;
    img->height = h;
    img->stride = (size_t)w * 3;
    return SM_OK;
}

/* ---- PPM (P6) --------------------------------------------------------------------------- */

static bool ppm_int(const uint8_t *buf, size_t len, size_t *pos, long *v)
{
    for (;;) {
        while (*pos < len && (buf[*pos] == ' ' || buf[*pos] == '\t' || buf[*pos] == '\n' || buf[*pos] == '\r'))
            (*pos)++;
        if (*pos < len && buf[*pos] == '#') {
            while (*pos < len && buf[*pos] != '\n')
                (*pos)++;
            continue;
        }
        break;
    }
    long x = 0;
    size_t start = *pos;
    while (*pos < len && buf[*pos] >= '0' && buf[*pos] <= '9' && *pos - start < 7)
        x = x * 10 + (buf[(*pos)++] - '0');
    *v = x;
    return *pos > start;
}

static sm_status decode_ppm(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    size_t pos = 2;
    long w, h, maxv;
    if (!ppm_int(buf, len, &pos, &w) || !ppm_int(buf, len, &pos, &h) || !ppm_int(buf, len, &pos, &maxv) ||
        pos >= len)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: bad PPM header", name);
    if (maxv != 255)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PPM maxval %ld (only 255)", name, maxv);
    if (w < 1 || h < 1 || w > SM_RGB_IMAGE_MAX_SIDE || h > SM_RGB_IMAGE_MAX_SIDE)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PPM size %ldx%ld (1..%d per side)", name, w, h,
                            SM_RGB_IMAGE_MAX_SIDE);
    pos++; /* the single whitespace after maxval */
    size_t n = (size_t)w * (size_t)h * 3;
    if (len - pos < n)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: PPM pixel data truncated (%zu of %zu bytes)", name, len - pos, n);
    img->rgb = malloc(n);
    if (!img->rgb)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    memcpy(img->rgb, buf + pos, n);
    img->width = (int)w;
    img->height = (int)h;
    img->stride = (size_t)w * 3;
    return SM_OK;
}

sm_status sm_rgb_image_decode(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    memset(img, 0, sizeof *img);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 8 && !memcmp(buf, sig, 8))
        return decode_png(buf, len, name, img, err);
    if (len >= 2 && buf[0] == 'P' && buf[1] == '6')
        return decode_ppm(buf, len, name, img, err);
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return decode_jpeg(buf, len, name, img, err);
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: not a PNG, JPEG or binary PPM (P6) image", name);
}

sm_status sm_rgb_image_load(const char *path, sm_rgb_image *img, sm_error *err)
{
    uint8_t *buf;
    size_t len;
    memset(img, 0, sizeof *img);
    sm_status st = sm_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (st)
        return st;
    st = sm_rgb_image_decode(buf, len, path, img, err);
    free(buf);
    return st;
}

void sm_rgb_image_free(sm_rgb_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    img->rgb = NULL;
}

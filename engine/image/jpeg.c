/* JPEG decoding through libjpeg-turbo, shared by the viewer's sources (camera
 * MJPEG, image folders, AVI) and the command-line tools. Built with
 * SM_HAVE_TURBOJPEG when the library is found; without it both calls say so. */
#include "sm_image.h"

#include <string.h>

#ifdef SM_HAVE_TURBOJPEG
#include <turbojpeg.h>

sm_status sm_jpeg_header(const uint8_t *data, size_t len, const char *name, int *width, int *height,
                         sm_error *err)
{
    *width = *height = 0;
    if (len < 4 || data[0] != 0xff || data[1] != 0xd8)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a JPEG (no SOI marker)", name);
    if (len > 0x7fffffffu)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: JPEG larger than 2 GiB", name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: cannot start the JPEG decoder", name);
    int w = 0, h = 0, sub = 0, cs = 0;
    sm_status st = SM_OK;
    if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &sub, &cs) != 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: bad JPEG header: %s", name, tjGetErrorStr2(tj));
    else if (w <= 0 || h <= 0 || w > SM_IMAGE_MAX_DIM || h > SM_IMAGE_MAX_DIM)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: JPEG size %dx%d outside 1..%d", name, w, h, SM_IMAGE_MAX_DIM);
    tjDestroy(tj);
    if (st == SM_OK) {
        *width = w;
        *height = h;
    }
    return st;
}

sm_status sm_jpeg_decode_rgb8(const uint8_t *data, size_t len, const char *name, uint8_t *rgb, int width,
                              int height, sm_error *err)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: cannot start the JPEG decoder", name);
    sm_status st = SM_OK;
    /* Warnings (e.g. extraneous bytes, common in webcam MJPEG) are fine; a
     * fatal error or a premature end (a truncated frame) is not. */
    if (tjDecompress2(tj, data, (unsigned long)len, rgb, width, width * 3, height, TJPF_RGB, TJFLAG_ACCURATEDCT) != 0 &&
        (tjGetErrorCode(tj) == TJERR_FATAL || strstr(tjGetErrorStr2(tj), "Premature end")))
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: corrupt or truncated JPEG data: %s", name, tjGetErrorStr2(tj));
    tjDestroy(tj);
    return st;
}

#else

sm_status sm_jpeg_header(const uint8_t *data, size_t len, const char *name, int *width, int *height,
                         sm_error *err)
{
    (void)data;
    (void)len;
    *width = *height = 0;
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: JPEG needs a build with libjpeg-turbo; convert it to PNG", name);
}

sm_status sm_jpeg_decode_rgb8(const uint8_t *data, size_t len, const char *name, uint8_t *rgb, int width,
                              int height, sm_error *err)
{
    (void)data;
    (void)len;
    (void)rgb;
    (void)width;
    (void)height;
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: JPEG needs a build with libjpeg-turbo; convert it to PNG", name);
}

#endif

/* rgb_image: a small, bounds-checked image reader for the command-line tools
 * (smw-run --face --image): PNG (8-bit grey, grey+alpha, RGB, RGBA,
 * non-interlaced; alpha dropped; the engine's decoder, engine/image/png.c, up
 * to SM_IMAGE_MAX_DIM per side), JPEG (libjpeg-turbo, when the build has it)
 * and binary PPM (P6, maxval 255). */
#ifndef SM_RGB_IMAGE_H
#define SM_RGB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

#define SM_RGB_IMAGE_MAX_SIDE 16384

typedef struct {
    int width, height;
    size_t stride; /* bytes per row = width * 3 */
    uint8_t *rgb;  /* malloc'd */
} sm_rgb_image;

/* Decodes by content (PNG or JPEG signature, or "P6"); messages name the file. */
sm_status sm_rgb_image_load(const char *path, sm_rgb_image *img, sm_error *err);
sm_status sm_rgb_image_decode(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err);
void sm_rgb_image_free(sm_rgb_image *img);

#endif

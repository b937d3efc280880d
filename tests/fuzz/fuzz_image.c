/* libFuzzer entry point for the still-image path: the JPEG decoder
 * (libjpeg-turbo behind our checks) and our own PNG/inflate decoder. */
// SOURCES: engine/core/*.c engine/image/*.c viewer/source.c viewer/source_y4m.c viewer/source_avi.c
// LIBS: -lturbojpeg
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_frame f = {0};
    sm_error err;
    (void)sm_jpeg_decode(data, size, "fuzz.jpg", &f, &err);
    sm_frame_free(&f);
    (void)sm_png_decode(data, size, "fuzz.png", &f, &err);
    sm_frame_free(&f);
    return 0;
}

/* libFuzzer entry point for the Y4M reader: header, frame headers, planes and
 * colour conversion, read from memory through the stream entry point. */
// SOURCES: engine/core/*.c engine/image/*.c viewer/source.c viewer/source_y4m.c viewer/source_avi.c
// LIBS: -lturbojpeg
#include "source_y4m.h"

#include "fuzz_source.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    sm_source *s = NULL;
    sm_error err;
    if (sm_source_open_y4m_stream(fp, false, "fuzz.y4m", 0, &s, &err) != SM_OK)
        return 0; /* the reader owns fp and has closed it */
    fuzz_read_frames_and_close(s);
    return 0;
}

/* libFuzzer entry point for the MJPEG AVI reader (RIFF lists, chunk index,
 * JPEG frames). The reader opens a path, so each input goes to an in-memory
 * file reached through /proc/self/fd. */
// SOURCES: engine/core/*.c engine/image/*.c viewer/source.c viewer/source_y4m.c viewer/source_avi.c
// LIBS: -lturbojpeg
#include "source_avi.h"

#include "fuzz_memfd.h"
#include "fuzz_source.h"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, "fuzz.avi", path, sizeof path);
    if (fd < 0)
        return 0;
    sm_source *s = NULL;
    sm_error err;
    if (sm_source_open_avi(path, 0, &s, &err) == SM_OK) {
        fuzz_read_frames_and_close(s);
    }
    close(fd);
    return 0;
}

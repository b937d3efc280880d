/* What every source fuzzer does once a reader has opened its input: read frames
 * (a few: enough to reach past the first frame's checks) until the end or an
 * error, then close. */
#ifndef SM_FUZZ_SOURCE_H
#define SM_FUZZ_SOURCE_H

#include "source.h"

static inline void fuzz_read_frames_and_close(sm_source *s)
{
    sm_frame f = {0};
    bool eof = false;
    sm_error err;
    for (int i = 0; i < 8 && !eof; i++)
        if (sm_source_read(s, &f, &eof, &err) != SM_OK)
            break;
    sm_frame_free(&f);
    sm_source_close(s);
}

#endif

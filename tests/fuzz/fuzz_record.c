/* libFuzzer entry point for what --record reads back: an existing CSV that a
 * new session appends to (header compared, a torn last line cut off). The
 * recorder refuses symlinks (O_NOFOLLOW), so inputs go to a real temporary
 * file rather than /proc/self/fd. */
// SOURCES: engine/core/*.c app/session.c app/json_writer.c
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_record.%ld.csv", (long)getpid());
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    size_t w = fwrite(data, 1, size, fp);
    fclose(fp);
    if (w != size)
        return 0;
    sm_session *s = NULL;
    sm_error err;
    if (sm_session_init(&s, &err) == SM_OK) {
        if (sm_session_record(s, path, &err) == SM_OK) {
            sm_mirror_result r;
            memset(&r, 0, sizeof r);
            r.emotion.label = -1;
            r.emotion.label_argmax = -1;
            for (int i = 0; i < 3; i++) {
                r.frame = i;
                r.t = i * 0.6;
                sm_session_push(s, &r, 1.7e9 + r.t, &err);
            }
            sm_session_finish(s, &err);
        }
        sm_session_free(s);
    }
    unlink(path);
    return 0;
}

/* libFuzzer entry point for the fatigue track and annotation readers
 * (tools/fatigue_track.c on app/csv.c). Input: the track CSV, then
 * optionally a NUL byte and the events CSV. Seeds: a head of
 * tests/fixtures/eval/fatigue/evm_face (see SOURCES.md there) and handmade rows. */
// SOURCES: engine/core/*.c app/csv.c tools/fatigue_track.c
#include "fatigue_replay.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    sm_track tr;
    sm_error err;
    if (sm_track_parse("fuzz.track.csv", data, tlen, "fuzz.events.csv", nul ? nul + 1 : NULL,
                       nul ? size - tlen - 1 : 0, &tr, &err) == SM_OK)
        sm_track_free(&tr);
    return 0;
}

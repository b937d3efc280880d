/* libFuzzer entry point for the heart trace and ground-truth readers
 * (app/heart_trace.c on app/csv.c): both parse every input. Seeds: heads of
 * tests/fixtures/eval/heart/bias_in_v1 (see SOURCES.md there) and a handmade one. */
// SOURCES: engine/core/*.c app/csv.c app/heart_trace.c
#include "heart_trace.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_error err;
    sm_heart_sample *s;
    size_t n;
    if (sm_heart_trace_parse("fuzz.trace.csv", data, size, &s, &n, &err) == SM_OK)
        free(s);
    double *t;
    if (sm_heart_gt_parse("fuzz.gt.csv", data, size, &t, &n, &err) == SM_OK)
        free(t);
    return 0;
}

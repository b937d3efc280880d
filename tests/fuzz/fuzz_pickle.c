/* libFuzzer entry point for the restricted pickle machine alone, with and
 * without joblib's inline arrays. */
// SOURCES: engine/core/*.c tools/pickle.c
#include "pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_error err;
    sm_pickle *pk = NULL;
    sm_pobj *result;
    if (sm_pickle_load(data, size, "fuzz.pkl", size & 1, &pk, &result, &err) == SM_OK)
        sm_pickle_free(pk);
    return 0;
}

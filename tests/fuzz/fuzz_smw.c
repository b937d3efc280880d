/* libFuzzer entry point for the .smw reader. */
// SOURCES: engine/core/*.c
#include "sm_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_smw *f = NULL;
    sm_error err;
    if (sm_smw_parse(data, size, "fuzz", NULL, &f, &err) == SM_OK) {
        for (size_t i = 0; i < f->n_tensors; i++)
            (void)sm_smw_find_tensor(f, f->tensors[i].name);
        sm_str s;
        (void)sm_smw_meta_string(f, "general.architecture", &s, &err);
        sm_smw_free(f);
    }
    return 0;
}

/* libFuzzer entry point for the .pth path: zip directory, restricted pickle
 * machine, torch storages and architecture checks, up to serialising. */
// SEEDS: ../shared/seed/checkpoints/*.pth
// SOURCES: engine/core/*.c tools/zip.c tools/pickle.c tools/pth.c engine/graph/op_table.c tools/convert_util.c tools/sha256.c
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_smw_writer *w = fuzz_writer();
    if (!w)
        return 0;
    sm_convert_opts opts = {0};
    opts.arch = (size & 1) ? "raw" : NULL; /* both the raw and the detecting paths */
    sm_convert_summary sum;
    sm_error err;
    fuzz_finish(w, sm_convert_pth(data, size, "fuzz.pth", &opts, w, &sum, &err));
    return 0;
}

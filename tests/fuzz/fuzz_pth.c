/* libFuzzer entry point for the .pth path: zip directory, restricted pickle
 * machine, torch storages and architecture checks, up to serialising. */
// SEEDS: ../shared/seed/checkpoints/*.pth
// SOURCES: engine/core/*.c tools/zip.c tools/pickle.c tools/pth.c engine/graph/op_table.c tools/convert_util.c tools/sha256.c
#include "convert.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_error err;
    sm_smw_writer *w;
    if (sm_smw_writer_init(&w, &err) != SM_OK)
        return 0;
    sm_convert_opts opts = {0};
    opts.arch = (size & 1) ? "raw" : NULL; /* both the raw and the detecting paths */
    sm_convert_summary sum;
    if (sm_convert_pth(data, size, "fuzz.pth", &opts, w, &sum, &err) == SM_OK) {
        uint8_t *buf;
        size_t len;
        if (sm_smw_writer_serialize(w, &buf, &len, &err) == SM_OK)
            free(buf);
    }
    sm_smw_writer_free(w);
    return 0;
}

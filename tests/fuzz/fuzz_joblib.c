/* libFuzzer entry point for the joblib path: the pickle machine with inline
 * numpy arrays, then the scikit-learn pipeline checks. */
// SEEDS: ../shared/seed/checkpoints/*.joblib
// SOURCES: engine/core/*.c tools/pickle.c tools/joblib.c engine/graph/op_table.c tools/convert_util.c tools/sha256.c tools/zip.c
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_smw_writer *w = fuzz_writer();
    if (!w)
        return 0;
    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    fuzz_finish(w, sm_convert_joblib(data, size, "fuzz.joblib", &opts, w, &sum, &err));
    return 0;
}

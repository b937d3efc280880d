/* libFuzzer entry point for the TFLite reader, the FlexBuffer decoder and the
 * converter (the whole path smw-convert takes on a .tflite, up to serialising). */
// SOURCES: engine/core/*.c engine/graph/op_table.c tools/tflite.c tools/flexbuffer.c tools/tflite_convert.c tools/convert_util.c tools/pickle.c
#include "flexbuffer.h"
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_smw_writer *w = fuzz_writer();
    if (!w)
        return 0;
    sm_convert_opts opts = {0};
    opts.arch = "raw";
    sm_convert_summary sum;
    sm_error err;
    fuzz_finish(w, sm_convert_tflite(data, size, "fuzz", &opts, w, &sum, &err));
    /* the same bytes as custom options */
    sm_flex_map map;
    if (sm_flex_decode_map(data, size, &map, &err) == SM_OK)
        sm_flex_map_free(&map);
    return 0;
}

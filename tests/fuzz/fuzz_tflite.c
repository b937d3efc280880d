/* libFuzzer entry point for the TFLite reader, the FlexBuffer decoder and the
 * converter (the whole path smw-convert takes on a .tflite, up to serialising). */
// SOURCES: engine/core/*.c engine/graph/op_table.c tools/tflite.c tools/flexbuffer.c tools/tflite_convert.c tools/convert_util.c tools/pickle.c
#include "convert.h"
#include "flexbuffer.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_error err;
    sm_smw_writer *w;
    if (sm_smw_writer_init(&w, &err) != SM_OK)
        return 0;
    sm_convert_opts opts = {0};
    opts.arch = "raw";
    sm_convert_summary sum;
    if (sm_convert_tflite(data, size, "fuzz", &opts, w, &sum, &err) == SM_OK) {
        uint8_t *buf;
        size_t len;
        if (sm_smw_writer_serialize(w, &buf, &len, &err) == SM_OK)
            free(buf);
    }
    sm_smw_writer_free(w);
    /* the same bytes as custom options */
    sm_flex_map map;
    if (sm_flex_decode_map(data, size, &map, &err) == SM_OK)
        sm_flex_map_free(&map);
    return 0;
}

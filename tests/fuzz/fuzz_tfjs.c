/* libFuzzer entry point for the TF.js reader: the JSON parser, the weights
 * manifest (specs, shard paths, dequantisation), the node mapping of graph
 * models and face-api's FaceExpressionNet builder, up to serialising.
 * Input: the model.json bytes, then optionally a NUL byte and the bytes every
 * shard path reads as (one buffer for all paths). */
// SOURCES: engine/core/*.c engine/graph/op_table.c tools/tfjs_convert.c tools/tfjs_json.c tools/sha256.c tools/convert_util.c tools/pickle.c
#include "fuzz_convert.h"
#include "tfjs.h"
#include "tfjs_json.h"

#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t n;
} shard;

static sm_status read_mem(void *ctx, const char *model_path, const char *rel, size_t limit, uint8_t **buf, size_t *len,
                          sm_error *err)
{
    const shard *s = ctx;
    (void)limit;
    if (!s->p)
        return sm_error_set(err, SM_ERR_IO, "%s: shard '%s' is missing", model_path, rel);
    *buf = malloc(s->n ? s->n : 1);
    if (!*buf)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    memcpy(*buf, s->p, s->n);
    *len = s->n;
    return SM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    shard s = {nul ? nul + 1 : NULL, nul ? size - jlen - 1 : 0};
    sm_smw_writer *w = fuzz_writer();
    if (!w)
        return 0;
    sm_convert_opts opts = {0};
    sm_convert_summary sum;
    sm_error err;
    fuzz_finish(w, sm_convert_tfjs_with(data, jlen, "fuzz/model.json", read_mem, &s, &opts, w, &sum, &err));
    /* the JSON reader alone on the whole input */
    sm_json *j;
    if (sm_json_parse(data, size, "fuzz", &j, &err) == SM_OK)
        sm_json_free(j);
    return 0;
}

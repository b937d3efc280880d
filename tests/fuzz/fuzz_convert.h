/* fuzz_convert.h: the frame every converter harness puts around its reader: a
 * fresh .smw writer, and serialising what the reader accepted (so that the
 * writer's checks see every accepted input too), then freeing it. */
#ifndef SM_FUZZ_CONVERT_H
#define SM_FUZZ_CONVERT_H

#include "convert.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NULL when the writer cannot be made (then the harness returns). */
static inline sm_smw_writer *fuzz_writer(void)
{
    sm_error err;
    sm_smw_writer *w;
    return sm_smw_writer_init(&w, &err) == SM_OK ? w : NULL;
}

/* st: what the reader returned into w. */
static inline void fuzz_finish(sm_smw_writer *w, sm_status st)
{
    sm_error err;
    uint8_t *buf;
    size_t len;
    if (st == SM_OK && sm_smw_writer_serialize(w, &buf, &len, &err) == SM_OK)
        free(buf);
    sm_smw_writer_free(w);
}

#endif

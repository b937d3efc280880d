/* file_open.h (engine/core private): the one way the engine opens a file it is
 * about to read whole (sm_file_read_all) or map (sm_smw_open). */
#ifndef SM_FILE_OPEN_H
#define SM_FILE_OPEN_H

#include "sm_engine.h"

/* Opens path read-only (close-on-exec) and checks it is a regular file; returns
 * the descriptor and its size, or -1 with err set ("<path>: cannot open: ..." or
 * "<path>: not a regular file"). */
int sm_file_open_regular(const char *path, uint64_t *size, sm_error *err);

#endif

/* TF.js models (weights-only manifests and graph models) into .smw: the
 * reader of docs/CONVERTER.md "TF.js". The shards are read through a callback
 * so tests and the fuzzer can hand in bytes; every shard path has already been
 * checked (relative, no "..", no backslash, no empty component) when the
 * callback sees it. sm_convert_tfjs reads them next to the model file and
 * refuses a symlink that leads out of that folder. */
#ifndef SM_TFJS_H
#define SM_TFJS_H

#include "convert.h"

/* Reads shard rel (relative to model_path's folder) into a malloc'd buffer.
 * limit: the bytes the manifest still expects for this group; a longer shard
 * may be refused here or is refused by the caller. */
typedef sm_status (*sm_tfjs_read_fn)(void *ctx, const char *model_path, const char *rel, size_t limit,
                                     uint8_t **buf, size_t *len, sm_error *err);

/* True when buf starts (after whitespace / a UTF-8 BOM) with '{' or '['. */
bool sm_tfjs_sniff(const uint8_t *buf, size_t len);

sm_status sm_convert_tfjs_with(const uint8_t *buf, size_t len, const char *path, sm_tfjs_read_fn read,
                               void *read_ctx, const sm_convert_opts *opts, sm_smw_writer *w,
                               sm_convert_summary *summary, sm_error *err);

#endif

/* model_load.h: what every seed-model loader does with a .smw before it prepares
 * its ops, with one error style: the file's path first, then what is wrong and
 * what was expected. The face models go through the graph executor (sm_graph.h), which has its own. */
#ifndef SM_MODEL_LOAD_H
#define SM_MODEL_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"
#include "sm_kernels.h"

/* SM_ERR_FORMAT unless general.architecture is the string arch:
 * "<path>: architecture '<found>', expected '<arch>'" (found cut at 64 bytes) or
 * "<path>: no string metadata 'general.architecture' (expected '<arch>')". */
sm_status sm_model_expect_arch(const sm_smw *f, const char *arch, sm_error *err);

/* The first step of every loader: sm_model_expect_arch, then a zeroed model struct
 * of `size` bytes in *out (the caller frees it with its _free). NOMEM errors say
 * "<path>: out of memory" like every other loader error. */
sm_status sm_model_new(const sm_smw *f, const char *arch, size_t size, void **out, sm_error *err);

/* The optional metadata `key` (u32) into *out, def when absent; SM_ERR_FORMAT
 * "<path>: metadata '<key>' is <v>, expected <lo>..<hi>" when out of range. */
sm_status sm_model_meta_u32(const sm_smw *f, const char *key, uint32_t def, uint32_t lo, uint32_t hi,
                            uint32_t *out, sm_error *err);

/* The input normalisation (x - mean[c]) / std[c] from the optional metadata
 * input.mean / input.std (3 floats each; mean 0 and std 1 when absent); every
 * value finite and each std non-zero, else SM_ERR_FORMAT naming the file. */
sm_status sm_model_input_norm(const sm_smw *f, float mean[3], float std[3], sm_error *err);

/* The F32 tensor `name` of rank ndim with dims d0..d(ndim-1) (the others are
 * ignored; -1 matches any size), data pointing into the mapped file. Errors as
 * sm_smw_get_tensor's (SM_ERR_SHAPE naming the file, tensor and both shapes). */
sm_status sm_model_f32(const sm_smw *f, const char *name, uint32_t ndim, int64_t d0, int64_t d1, int64_t d2,
                       int64_t d3, const float **out, sm_error *err);

/* A PyTorch Conv2d's description from the file: weight wname [cout, cin, k, k]
 * ([cout, 1, k, k] when depthwise), bias bname [cout] (bname NULL: none), stride,
 * symmetric padding (k-1)/2, OIHW layout, the activation fused. d->weights/bias
 * point into the mapped file and d->name is wname (both must outlive the prepare);
 * the caller adds BatchNorm or anything else before preparing. */
sm_status sm_model_conv(const sm_smw *f, const char *wname, const char *bname, bool depthwise, uint32_t cin,
                        uint32_t cout, uint32_t k, uint32_t stride, sm_act act, sm_conv_desc *d, sm_error *err);

/* Defines <prefix>_load_file(path, pool, out, err): maps the .smw, runs
 * <prefix>_load and unmaps it again (the loaders copy or repack what they keep).
 * *out is NULL on failure; open errors name the path. */
#define SM_MODEL_DEFINE_LOAD_FILE(prefix, type)                                                     \
    sm_status prefix##_load_file(const char *path, sm_threadpool *pool, type **out, sm_error *err) \
    {                                                                                              \
        sm_smw *f;                                                                                 \
        *out = NULL;                                                                               \
        sm_status st = sm_smw_open(path, NULL, &f, err);                                           \
        if (st)                                                                                    \
            return st;                                                                             \
        st = prefix##_load(f, pool, out, err);                                                     \
        sm_smw_free(f);                                                                            \
        return st;                                                                                 \
    }

#endif

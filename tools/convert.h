/* The converter's reader interface: each input format (PyTorch .pth, joblib,
 * TFLite) recognises its architecture and adds tensors and metadata to an
 * sm_smw_writer. smw-convert.c sniffs the format, adds the general.* keys
 * common to all (source, sha256, converter), calls one reader, prints the
 * summary and saves atomically. */
#ifndef SM_CONVERT_H
#define SM_CONVERT_H

#include "sm_engine.h"

#define SM_CONVERTER_VERSION "smw-convert 0.1"

typedef struct {
    const char *arch;       /* --arch NAME, or NULL to detect; "raw" stores every tensor as is */
    const char *labels;     /* --labels a,b,... or NULL */
    int input_size;         /* --input-size N, 0 = the architecture's default */
    float mean[4], std[4];  /* --mean / --std */
    int n_mean, n_std;      /* 0 = not given */
    bool f16;               /* --f16: store float weights as f16 */
    const char *const *meta;/* --meta KEY=VALUE strings (string metadata added by smw-convert) */
    size_t n_meta;
} sm_convert_opts;

typedef struct {
    char arch[64];          /* detected architecture name */
    char notes[2048];       /* extra lines printed after the summary (label-order note, ...) */
} sm_convert_summary;

typedef sm_status (*sm_convert_fn)(const uint8_t *buf, size_t len, const char *path,
                                   const sm_convert_opts *opts, sm_smw_writer *w,
                                   sm_convert_summary *summary, sm_error *err);

sm_status sm_convert_pth(const uint8_t *buf, size_t len, const char *path,
                         const sm_convert_opts *opts, sm_smw_writer *w,
                         sm_convert_summary *summary, sm_error *err);
sm_status sm_convert_joblib(const uint8_t *buf, size_t len, const char *path,
                            const sm_convert_opts *opts, sm_smw_writer *w,
                            sm_convert_summary *summary, sm_error *err);
/* TF.js model.json / weights manifest (tools/tfjs_convert.c); shards next to path */
sm_status sm_convert_tfjs(const uint8_t *buf, size_t len, const char *path,
                          const sm_convert_opts *opts, sm_smw_writer *w,
                          sm_convert_summary *summary, sm_error *err);
sm_status sm_convert_tflite(const uint8_t *buf, size_t len, const char *path,
                            const sm_convert_opts *opts, sm_smw_writer *w,
                            sm_convert_summary *summary, sm_error *err);

#endif

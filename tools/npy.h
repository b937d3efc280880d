/*
 * npy.h: NumPy .npy files (format versions 1.0, 2.0, 3.0), for test inputs,
 * reference outputs and smw-run.
 *
 * Layout: "\x93NUMPY", u8 major, u8 minor, header length (u16 LE for v1, u32 LE
 * for v2/v3), a Python dict literal {'descr': ..., 'fortran_order': ...,
 * 'shape': (...)} padded with spaces and '\n', then the raw array bytes.
 *
 * Supported dtypes: '<f4' (F32), '<f8' (F64), '<i8' (I64), '<i4' (I32), '|u1'
 * (U8). Anything else (big-endian, f2, bool, structured, object) is rejected
 * with the descr named. Up to SM_NPY_MAX_DIMS dimensions; 0-d scalars and
 * zero-sized arrays are fine. fortran_order True is accepted and transposed
 * to C order on load, so sm_npy.data is always C order (row-major).
 * The data section must hold exactly numel * itemsize bytes.
 * Data bytes are little-endian; this code assumes a little-endian host
 * (x86-64, aarch64).
 *
 * Every byte read is bounds-checked; errors name the file and what was
 * expected versus found. Writing is atomic (temp file + rename).
 */
#ifndef SM_NPY_H
#define SM_NPY_H

#include "sm_engine.h"

#define SM_NPY_MAX_DIMS 5

typedef struct {
    sm_dtype dtype;
    uint32_t ndim;                    /* 0..SM_NPY_MAX_DIMS */
    uint64_t dims[SM_NPY_MAX_DIMS];
    uint64_t numel;
    size_t nbytes;
    void *data;                       /* owned, 64-byte aligned, C order; NULL when nbytes == 0 */
} sm_npy;

/* Parses buf (not kept). name is used in messages. On error *out is zeroed. */
sm_status sm_npy_parse(const void *buf, size_t len, const char *name, sm_npy *out, sm_error *err);
/* Reads and parses a file (at most 4 GiB). */
sm_status sm_npy_load(const char *path, sm_npy *out, sm_error *err);
/* Frees the data and zeroes the struct; accepts NULL. */
void sm_npy_free(sm_npy *a);

/* Serialises a C-order array as a v1.0 file (v2.0 if the header needs it);
 * the caller frees *buf with free(). */
sm_status sm_npy_serialize(sm_dtype dtype, uint32_t ndim, const uint64_t *dims, const void *data,
                           uint8_t **buf, size_t *len, sm_error *err);
/* sm_npy_serialize + atomic write to path. */
sm_status sm_npy_save(const char *path, sm_dtype dtype, uint32_t ndim, const uint64_t *dims,
                      const void *data, sm_error *err);

/* NumPy descr of a supported dtype ("<f4", ...), NULL for the others. */
const char *sm_npy_descr(sm_dtype dtype);
/* Writes "[2, 3]" (or "[]" for a scalar) into buf. */
const char *sm_npy_shape_str(uint32_t ndim, const uint64_t *dims, char *buf, size_t cap);

#endif

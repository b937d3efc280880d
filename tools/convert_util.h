/* Helpers shared by the converter's readers: the error style, notes, option
 * metadata, element conversion, and the check of graph nodes against the
 * executor's op table. */
#ifndef SM_CONVERT_UTIL_H
#define SM_CONVERT_UTIL_H

#include "convert.h"
#include "pickle.h"

/* The readers' one error style: "<path>: <message>" into err; returns st. */
sm_status sm_convert_fail(sm_error *err, sm_status st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A node a front end is about to write in the graph form (docs/GRAPH.md),
 * checked against the graph executor's op table (sm_graph_find_op): the op
 * exists, takes n_in operands and n_out outputs, and reads every one of the
 * attribute keys. Front ends emit nothing the executor would refuse by name,
 * count or key. */
sm_status sm_convert_check_node(const char *path, size_t index, const char *op, size_t n_in, size_t n_out,
                                const char *const *keys, size_t n_keys, sm_error *err);
#define sm_convert_note(s, ...) sm_notes_append((s)->notes, sizeof (s)->notes, __VA_ARGS__)
/* Splits "a,b,c" into at most max labels (pointers into *storage, which the
 * caller frees). Empty labels are an error. */
sm_status sm_convert_split_labels(const char *labels, char **storage, const char **out, size_t max,
                                  size_t *count, sm_error *err);
/* input.size (opts or def), input.mean / input.std (opts or 0 / 1, 3 channels). */
sm_status sm_convert_add_input_meta(const sm_convert_opts *opts, uint32_t def_size, sm_smw_writer *w,
                                    sm_error *err);
/* Converts n elements of a numeric element type to float / double. */
void sm_convert_to_f32(sm_pk_etype et, const void *src, size_t n, float *dst);
void sm_convert_to_f64(sm_pk_etype et, const void *src, size_t n, double *dst);
bool sm_etype_is_float(sm_pk_etype et);
/* Formats dims as "[a, b, c]". */
void sm_convert_dims_str(int ndim, const int64_t *dims, char *out, size_t cap);

#endif

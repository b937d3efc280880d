/* A FlexBuffer decoder for TFLite custom-op options.
 *
 * Custom ops such as MediaPipe's Landmarks2TransformMatrix keep their options
 * as a FlexBuffer map. sm_flex_decode_map() reads a root map whose values are
 * scalars (int, uint, float, bool, string) or vectors of numbers, which is all
 * those ops use; anything nested deeper is rejected rather than walked, so
 * there is no recursion. Every offset and width is checked against the buffer. */
#ifndef SM_FLEXBUFFER_H
#define SM_FLEXBUFFER_H

#include "sm_engine.h"

typedef enum {
    SM_FLEX_INT,        /* i */
    SM_FLEX_FLOAT,      /* f (f32_exact: the value is exactly a float) */
    SM_FLEX_BOOL,       /* i = 0 or 1 */
    SM_FLEX_STRING,     /* str */
    SM_FLEX_INT_ARRAY,  /* ints[n] */
    SM_FLEX_FLOAT_ARRAY /* floats[n] */
} sm_flex_kind;

typedef struct {
    char *key;
    sm_flex_kind kind;
    int64_t i;
    double f;
    char *str;
    size_t n;
    int64_t *ints;
    double *floats;
} sm_flex_entry;

typedef struct {
    size_t n;
    sm_flex_entry *entries; /* in the map's (sorted) key order */
} sm_flex_map;

/* Decodes buf as a FlexBuffer whose root is a map. Messages start with
 * "flexbuffer:"; the caller prefixes the file and operator. */
sm_status sm_flex_decode_map(const uint8_t *buf, size_t len, sm_flex_map *out, sm_error *err);
void sm_flex_map_free(sm_flex_map *m); /* accepts NULL and zeroed maps */
const sm_flex_entry *sm_flex_map_find(const sm_flex_map *m, const char *key);

#endif

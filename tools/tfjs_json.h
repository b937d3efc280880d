/* tfjs_json: a small, total JSON reader (RFC 8259) for TF.js model files.
 *
 * Parses a byte string into a tree of sm_json values. Total: any input either
 * parses or is refused with a message naming the file, the byte offset and the
 * problem; nothing is ever trusted beyond the bytes given. Limits that keep an
 * adversarial file cheap: nesting depth 64 (the parser recurses at most that
 * deep), 4 Mi values, strings up to 1 MiB. Refused beyond the grammar: a
 * duplicate key in one object, "\u0000" (names end up as C strings), lone
 * UTF-16 surrogates, bytes after the value (whitespace aside).
 * Numbers are kept as double (strtod on the validated token).
 */
#ifndef SM_TFJS_JSON_H
#define SM_TFJS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_engine.h"

typedef enum { SM_JSON_NULL, SM_JSON_BOOL, SM_JSON_NUMBER, SM_JSON_STRING, SM_JSON_ARRAY, SM_JSON_OBJECT } sm_json_type;

typedef struct sm_json sm_json;
struct sm_json {
    sm_json_type type;
    bool b;
    double num;
    char *str;      /* SM_JSON_STRING: NUL-terminated UTF-8 (no embedded NUL) */
    size_t len;     /* string bytes, or the number of items / members */
    sm_json *items; /* array items, or object member values */
    char **keys;    /* object member keys (NUL-terminated) */
};

sm_status sm_json_parse(const uint8_t *buf, size_t len, const char *name, sm_json **out, sm_error *err);
void sm_json_free(sm_json *j);

/* Member of an object by key, or NULL (also when j is not an object). */
const sm_json *sm_json_get(const sm_json *j, const char *key);
const char *sm_json_type_name(sm_json_type t);
/* True when j is a number holding an integer in [lo, hi]. */
bool sm_json_int(const sm_json *j, int64_t lo, int64_t hi, int64_t *v);

#endif

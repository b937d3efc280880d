/* json_writer.h: a growing buffer for writing JSON text, shared by the
 * session summary (app/session.c) and the viewer's per-frame lines
 * (viewer/json.c). The caller writes the structure ({, :, commas) with
 * sm_json_add; strings and numbers go through sm_json_str / sm_json_num so
 * escaping and non-finite numbers (written as null) are done one way.
 *
 * Out of memory is sticky: every later call does nothing and sm_json_finish
 * returns NULL, so writers check once at the end. */
#ifndef SM_JSON_WRITER_H
#define SM_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *s;        /* NUL-terminated text so far (NULL before the first write) */
    size_t n, cap;  /* bytes written (without the NUL), bytes allocated */
    bool oom;
} sm_json;

/* printf-style raw text. */
void sm_json_add(sm_json *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A quoted string: '"' and '\' escaped, control bytes as \u00XX, other bytes
 * (UTF-8) as they are; NULL writes null. */
void sm_json_str(sm_json *b, const char *s);
/* The same for the n bytes at s (a string that is not NUL-terminated, such as
 * a .smw metadata value; a NUL byte inside is written as \u0000). */
void sm_json_strn(sm_json *b, const char *s, size_t n);
/* A number with `decimals` digits after the point, or %.6g when decimals < 0;
 * NaN and infinities write null (JSON has neither). */
void sm_json_num(sm_json *b, double v, int decimals);
/* "key": then the number (sm_json_num). */
void sm_json_key_num(sm_json *b, const char *key, double v, int decimals);
/* The text, owned by the caller (free), or NULL when out of memory (the
 * buffer is freed). An empty writer gives "". */
char *sm_json_finish(sm_json *b);

#endif
